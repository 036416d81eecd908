/* commands_import.c — `asakai metrics import`: backfill from expositions with timestamps.
 *
 * Every file is read and validated here first (ak_expo_parse; errors FILE:LINE: reason), so a
 * typo in the last file does not leave half an import behind. The samples of all files are then
 * merged per series, sorted by time (a repeated timestamp keeps the last value) and re-serialised
 * as Prometheus text 0.0.4 with ms timestamps, grouped by family under its "# TYPE" line, and
 * sent to POST /api/v1/metrics/import in batches of about --batch-bytes. A batch is cut between
 * series; a series bigger than a batch is cut between samples, each part a contiguous time range
 * in time order. A family is contiguous in the output, so no batch holds one twice. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

#define CMD "metrics"
#define BATCH_DEFAULT ((uint64_t)8 * 1024 * 1024)
#define BATCH_MIN ((uint64_t)4096)
#define BATCH_MAX ((uint64_t)64 * 1024 * 1024) /* the daemon's cap for this route */
#define CONTENT_TYPE "text/plain; version=0.0.4"

struct point {
    int64_t ts;
    double v;
};

struct series {
    char *key;       /* name{labels} as 0.0.4 writes it */
    size_t fam;
    struct point *pts;
    size_t n, alloc;
};

struct family {
    char *name;      /* the 0.0.4 family name */
    const char *type; /* 0.0.4 TYPE */
    size_t *series;  /* indices, first seen first */
    size_t n, alloc;
};

/* A string -> index table (open addressing, FNV-1a). */
struct strtab {
    size_t *slot;    /* index + 1, 0 = empty */
    size_t cap;
};

struct model {
    struct series *s;
    size_t ns, alloc_s;
    struct family *f;
    size_t nf, alloc_f;
    struct strtab st, ft;
    size_t samples;
    struct ak_buf key;   /* scratch */
    struct ak_buf *err;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The index stored for s, or SIZE_MAX; names(i) gives the string of index i. */
static size_t tab_find(const struct strtab *t, const char *s, const char *(*name)(void *, size_t),
                       void *arg, size_t *ret_slot)
{
    size_t i = (size_t)hash(s) & (t->cap - 1);
    for (;; i = (i + 1) & (t->cap - 1)) {
        if (!t->slot[i]) {
            *ret_slot = i;
            return SIZE_MAX;
        }
        if (strcmp(name(arg, t->slot[i] - 1), s) == 0)
            return t->slot[i] - 1;
    }
}

static void tab_grow(struct strtab *t, size_t n, const char *(*name)(void *, size_t), void *arg)
{
    if (t->cap && n * 2 < t->cap)
        return;
    size_t cap = t->cap ? t->cap * 2 : 1024, slot = 0;
    struct strtab nt = {ak_xcalloc(cap, sizeof(size_t)), cap};
    for (size_t i = 0; i < n; i++) {
        tab_find(&nt, name(arg, i), name, arg, &slot);
        nt.slot[slot] = i + 1;
    }
    free(t->slot);
    *t = nt;
}

static const char *series_name(void *arg, size_t i)
{
    return ((struct model *)arg)->s[i].key;
}

static const char *family_name(void *arg, size_t i)
{
    return ((struct model *)arg)->f[i].name;
}

/* How a sample of an input family appears in 0.0.4: its family name and TYPE. OpenMetrics
 * counters (foo_total), _created samples, and the types 0.0.4 lacks become families of their
 * own, named as the sample; histograms and summaries keep their family. */
static void out_family(const struct ak_expo_sample *s, struct ak_buf *name, const char **type)
{
    bool created = ak_endswith(s->name, "_created") && strcmp(s->name, s->family) != 0;
    ak_buf_reset(name);
    ak_buf_add(name, s->name);
    if (created) {
        *type = "gauge";
        return;
    }
    switch (s->type) {
    case AK_EXPO_COUNTER: *type = "counter"; break;
    case AK_EXPO_GAUGE: *type = "gauge"; break;
    case AK_EXPO_HISTOGRAM:
        *type = "histogram";
        ak_buf_reset(name);
        ak_buf_add(name, s->family);
        break;
    case AK_EXPO_SUMMARY:
        *type = "summary";
        ak_buf_reset(name);
        ak_buf_add(name, s->family);
        break;
    default: *type = "untyped"; break;
    }
}

static size_t family_of(struct model *m, const struct ak_expo_sample *s)
{
    struct ak_buf name = AK_BUF_INIT(AK_EXPO_MAX_LINE);
    const char *type;
    size_t slot, i;

    out_family(s, &name, &type);
    tab_grow(&m->ft, m->nf, family_name, m);
    i = tab_find(&m->ft, name.buf, family_name, m, &slot);
    if (i == SIZE_MAX) {
        if (m->nf == m->alloc_f) {
            m->alloc_f = m->alloc_f ? m->alloc_f * 2 : 64;
            m->f = ak_xrealloc(m->f, m->alloc_f * sizeof(*m->f));
        }
        i = m->nf++;
        m->f[i] = (struct family){.name = ak_buf_detach(&name, NULL), .type = type};
        m->ft.slot[slot] = i + 1;
    }
    ak_buf_release(&name);
    return i;
}

static int on_sample(const struct ak_expo_sample *s, void *arg)
{
    struct model *m = arg;
    size_t slot, i;

    if (!s->has_ts)
        return ak_err(m->err, AK_EINVAL, "line %u: sample %s has no timestamp (an import "
                                         "needs one on every sample).", s->line, s->name);
    ak_buf_reset(&m->key);
    if (ak_expo_series_key(s->name, s->labels, s->nlabels, &m->key) < 0)
        return ak_err(m->err, AK_ETOOBIG, "line %u: the series name is too long.", s->line);
    tab_grow(&m->st, m->ns, series_name, m);
    i = tab_find(&m->st, m->key.buf, series_name, m, &slot);
    if (i == SIZE_MAX) {
        size_t fam = family_of(m, s);
        struct family *f = &m->f[fam];
        if (m->ns == m->alloc_s) {
            m->alloc_s = m->alloc_s ? m->alloc_s * 2 : 256;
            m->s = ak_xrealloc(m->s, m->alloc_s * sizeof(*m->s));
        }
        i = m->ns++;
        m->s[i] = (struct series){.key = ak_xstrdup(m->key.buf), .fam = fam};
        m->st.slot[slot] = i + 1;
        if (f->n == f->alloc) {
            f->alloc = f->alloc ? f->alloc * 2 : 16;
            f->series = ak_xrealloc(f->series, f->alloc * sizeof(size_t));
        }
        f->series[f->n++] = i;
    }
    struct series *se = &m->s[i];
    if (se->n == se->alloc) {
        se->alloc = se->alloc ? se->alloc * 2 : 64;
        se->pts = ak_xrealloc(se->pts, se->alloc * sizeof(*se->pts));
    }
    se->pts[se->n++] = (struct point){s->ts_ms, s->value};
    m->samples++;
    return 0;
}

static void model_release(struct model *m)
{
    for (size_t i = 0; i < m->ns; i++) {
        free(m->s[i].key);
        free(m->s[i].pts);
    }
    for (size_t i = 0; i < m->nf; i++) {
        free(m->f[i].name);
        free(m->f[i].series);
    }
    free(m->s);
    free(m->f);
    free(m->st.slot);
    free(m->ft.slot);
    ak_buf_release(&m->key);
}

/* "line 12: reason." -> "FILE:12: reason." */
static void print_error(const char *file, const char *err)
{
    uint64_t line;
    const char *colon = strchr(err, ':');
    char num[24];

    if (ak_startswith(err, "line ") && colon && (size_t)(colon - err - 5) < sizeof(num)) {
        memcpy(num, err + 5, (size_t)(colon - err - 5));
        num[colon - err - 5] = 0;
        if (ak_parse_u64(num, 1, UINT32_MAX, &line) == AK_OK) {
            fprintf(stderr, "%s:%llu:%s\n", file, (unsigned long long)line, colon + 1);
            return;
        }
    }
    fprintf(stderr, "%s: %s\n", file, err);
}

static int load(struct model *m, const char *path)
{
    struct ak_buf text = AK_BUF_INIT(AK_EXPO_MAX_TEXT), err = AK_BUF_INIT(1024);
    int rc = ak_cli_read_file("metrics import", path, &text, AK_EXIT_FAIL, AK_EXIT_USAGE);

    if (rc != AK_EXIT_OK)
        goto out;
    m->err = &err;
    if (ak_expo_parse(text.buf, text.len, AK_EXPO_AUTO, on_sample, m, &err) != AK_OK) {
        print_error(path, err.len ? err.buf : "invalid exposition");
        rc = AK_EXIT_USAGE;
    }
out:
    m->err = NULL;
    ak_buf_release(&text);
    ak_buf_release(&err);
    return rc;
}

struct ordered {
    struct point p;
    size_t ord;      /* read order */
};

static int cmp_ordered(const void *a, const void *b)
{
    const struct ordered *x = a, *y = b;
    if (x->p.ts != y->p.ts)
        return (x->p.ts > y->p.ts) - (x->p.ts < y->p.ts);
    return (x->ord > y->ord) - (x->ord < y->ord);
}

/* Sorts each series by time; of samples with one timestamp (from two files) the one read last
 * is kept. Counts the samples left and the time range. */
static void normalise(struct model *m, int64_t *from, int64_t *to)
{
    *from = INT64_MAX;
    *to = INT64_MIN;
    m->samples = 0;
    for (size_t i = 0; i < m->ns; i++) {
        struct series *s = &m->s[i];
        bool sorted = true;
        for (size_t k = 1; k < s->n && sorted; k++)
            sorted = s->pts[k - 1].ts < s->pts[k].ts;
        if (!sorted) {
            struct ordered *tmp = ak_xmalloc(s->n * sizeof(*tmp));
            size_t w = 0;
            for (size_t k = 0; k < s->n; k++)
                tmp[k] = (struct ordered){s->pts[k], k};
            qsort(tmp, s->n, sizeof(*tmp), cmp_ordered);
            for (size_t k = 0; k < s->n; k++) {
                if (w && s->pts[w - 1].ts == tmp[k].p.ts)
                    w--; /* a later read of the same time replaces the earlier */
                s->pts[w++] = tmp[k].p;
            }
            s->n = w;
            free(tmp);
        }
        m->samples += s->n;
        if (s->n) {
            *from = s->pts[0].ts < *from ? s->pts[0].ts : *from;
            *to = s->pts[s->n - 1].ts > *to ? s->pts[s->n - 1].ts : *to;
        }
    }
}

static void fmt_num(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "NaN");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
    else {
        /* the shortest of 15 or 17 digits that reads back as the same double */
        snprintf(buf, n, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, n, "%.17g", v);
    }
}

/* ---- batches -------------------------------------------------------------------------- */

struct sender {
    struct ak_cli *cli;
    bool dry;               /* counting pass: totals only */
    uint64_t limit;
    struct ak_buf batch;
    size_t cur_fam;         /* family whose TYPE line is in batch, SIZE_MAX = none */
    size_t batch_samples;
    /* totals */
    uint64_t total_bytes, sent_bytes;
    size_t batches, sent_samples, stored, dropped, new_series;
    int64_t from, to;
    /* progress */
    bool tty;
    int64_t started, last_draw;
    int rc;
};

static void draw(struct sender *sd, bool final)
{
    int64_t now = ak_now_mono_ms();
    if (!sd->tty || (!final && now - sd->last_draw < 100))
        return;
    sd->last_draw = now;
    double frac = sd->total_bytes ? (double)sd->sent_bytes / (double)sd->total_bytes : 1;
    double secs = (double)(now - sd->started) / 1000.0;
    int fill = (int)(frac * 30);
    char bar[31];
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(30 - fill));
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %3.0f%% %.1f/%.1f MiB  %zu samples  %.1f MiB/s ", bar, frac * 100,
            (double)sd->sent_bytes / 1048576.0, (double)sd->total_bytes / 1048576.0,
            sd->sent_samples, secs > 0 ? (double)sd->sent_bytes / 1048576.0 / secs : 0.0);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static void flush(struct sender *sd)
{
    struct ak_json *j = NULL;
    long status = 0;

    if (!sd->batch.len || sd->rc != AK_EXIT_OK)
        goto out;
    sd->batches++;
    if (sd->dry) {
        sd->total_bytes += sd->batch.len;
        goto out;
    }
    int r = ak_cli_call_ct(sd->cli, "POST", "/api/v1/metrics/import", CONTENT_TYPE,
                           sd->batch.buf, sd->batch.len, &status, &j);
    if (r != AK_EXIT_OK) {
        sd->rc = r;
        goto out;
    }
    if (status != 200) {
        if (sd->tty)
            fputc('\n', stderr);
        fprintf(stderr, "asakai metrics import: batch %zu refused (HTTP %ld): %s\n"
                        "  (batches before it are stored; importing again is harmless)\n",
                sd->batches, status, ak_cli_str_or(j, "error", "failed"));
        sd->rc = status == 400 ? AK_EXIT_USAGE : AK_EXIT_FAIL;
        goto out;
    }
    sd->sent_bytes += sd->batch.len;
    sd->sent_samples += sd->batch_samples;
    sd->stored += (size_t)ak_json_int(ak_json_get(j, "samples"));
    sd->dropped += (size_t)ak_json_int(ak_json_get(j, "dropped"));
    sd->new_series += (size_t)ak_json_int(ak_json_get(j, "new_series"));
    int64_t f = ak_json_int(ak_json_get(j, "from")), t = ak_json_int(ak_json_get(j, "to"));
    if (f && (!sd->from || f < sd->from))
        sd->from = f;
    if (t > sd->to)
        sd->to = t;
    draw(sd, false);
out:
    ak_json_free(j);
    ak_buf_reset(&sd->batch);
    sd->cur_fam = SIZE_MAX;
    sd->batch_samples = 0;
}

static void type_line(struct sender *sd, const struct model *m, size_t fam)
{
    if (sd->cur_fam == fam)
        return;
    ak_buf_addf(&sd->batch, "# TYPE %s %s\n", m->f[fam].name, m->f[fam].type);
    sd->cur_fam = fam;
}

static void send_series(struct sender *sd, const struct model *m, const struct series *s,
                        struct ak_buf *lines)
{
    char v[40];
    size_t hdr = strlen(m->f[s->fam].name) + strlen(m->f[s->fam].type) + 9;

    ak_buf_reset(lines);
    for (size_t k = 0; k < s->n; k++) {
        fmt_num(s->pts[k].v, v, sizeof(v));
        ak_buf_addf(lines, "%s %s %lld\n", s->key, v, (long long)s->pts[k].ts);
    }
    if (sd->batch.len && sd->batch.len + (sd->cur_fam == s->fam ? 0 : hdr) + lines->len > sd->limit)
        flush(sd);
    type_line(sd, m, s->fam);
    if (sd->batch.len + lines->len <= sd->limit) {
        ak_buf_addn(&sd->batch, lines->buf, lines->len);
        sd->batch_samples += s->n;
        return;
    }
    /* bigger than a batch: cut between samples, in time order */
    for (const char *p = lines->buf; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p) + 1;
        if (sd->batch_samples && sd->batch.len + len > sd->limit) {
            flush(sd);
            type_line(sd, m, s->fam);
        }
        ak_buf_addn(&sd->batch, p, len);
        sd->batch_samples++;
        p += len;
    }
}

static void send_all(struct sender *sd, const struct model *m)
{
    struct ak_buf lines = AK_BUF_INIT(AK_BUF_NOMAX);
    sd->cur_fam = SIZE_MAX;
    for (size_t i = 0; i < m->nf && sd->rc == AK_EXIT_OK; i++)
        for (size_t k = 0; k < m->f[i].n && sd->rc == AK_EXIT_OK; k++)
            send_series(sd, m, &m->s[m->f[i].series[k]], &lines);
    flush(sd);
    ak_buf_release(&lines);
}

static void fmt_time(int64_t ms, char *buf, size_t n)
{
    if (ms == INT64_MAX || ms == INT64_MIN || !ms)
        snprintf(buf, n, "-");
    else
        ak_time_fmt_rfc3339(ms, buf, n);
}

int ak_cli_metrics_import(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"batch-bytes", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    struct model m = {.key = AK_BUF_INIT(AK_EXPO_MAX_LINE)};
    struct sender sd = {.cli = cli, .limit = BATCH_DEFAULT, .batch = AK_BUF_INIT(AK_BUF_NOMAX)};
    int64_t from, to;
    char f1[AK_TIME_RFC3339_LEN], f2[AK_TIME_RFC3339_LEN];
    int c, rc = AK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'b' || ak_parse_size(optarg, &sd.limit) < 0 || sd.limit < BATCH_MIN ||
            sd.limit > BATCH_MAX) {
            model_release(&m);
            return ak_cli_usage(CMD, c == 'b' ? "--batch-bytes takes a size from 4k to 64M"
                                              : "bad option");
        }
    }
    if (optind == argc) {
        model_release(&m);
        return ak_cli_usage(CMD, "import needs at least one FILE ('-' = stdin)");
    }
    /* every file is checked before anything is sent */
    for (int i = optind; i < argc; i++) {
        int r = load(&m, argv[i]);
        if (r != AK_EXIT_OK && rc != AK_EXIT_FAIL)
            rc = r;
    }
    if (rc != AK_EXIT_OK) {
        fprintf(stderr, "asakai metrics import: nothing sent\n");
        goto out;
    }
    normalise(&m, &from, &to);
    if (!m.samples) {
        printf("nothing to import: no samples in %d file(s)\n", argc - optind);
        goto out;
    }
    sd.dry = true;
    send_all(&sd, &m);
    sd.dry = false;
    sd.batches = 0;
    sd.tty = isatty(2);
    sd.started = sd.last_draw = ak_now_mono_ms();
    sd.last_draw -= 1000;
    send_all(&sd, &m);
    draw(&sd, true);
    rc = sd.rc;
    fmt_time(sd.from ? sd.from : from, f1, sizeof(f1));
    fmt_time(sd.to ? sd.to : to, f2, sizeof(f2));
    if (rc == AK_EXIT_OK)
        printf("imported %zu samples of %zu series (%zu new), %s to %s, in %zu batch(es) of "
               "%.1f MiB; %zu dropped\n",
               sd.stored, m.ns, sd.new_series, f1, f2, sd.batches,
               (double)sd.sent_bytes / 1048576.0, sd.dropped);
    else
        fprintf(stderr, "asakai metrics import: stopped after %zu of %zu samples\n",
                sd.sent_samples, m.samples);
out:
    ak_buf_release(&sd.batch);
    model_release(&m);
    return rc;
}
