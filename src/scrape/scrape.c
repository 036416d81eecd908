/* scrape.c — scraping Prometheus/OpenMetrics targets: one libcurl multi round, each target's
 * body parsed with ak_expo into a compact per-target buffer (all or nothing), then delivered with
 * the target's labels, followed by the synthetic up / scrape_duration_seconds /
 * scrape_samples_scraped series (docs/internals/scrape.md).
 */
#include "asakai/ak_scrape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "scrape_int.h"
#include "src/core/ak_banned.h"

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_BYTES (16u * 1024 * 1024)
#define DEFAULT_IN_FLIGHT 16
#define MAX_IN_FLIGHT 1024

static const char *const scrape_headers[] = {
    "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    NULL,
};

/* ---- the per-target sample buffer --------------------------------------------------------- */

/* One buffered sample: strings are offsets into sbuf.strs, labels a run of sbuf.labs. */
struct srec {
    uint32_t name;
    uint32_t lab;
    uint16_t nlab;
    uint8_t type;
    int64_t t_ms;
    double value;
};

struct slab {
    uint32_t name, value, vlen;
};

/* Bounds derive from the body length: a sample takes at least 4 bytes of text ("a 1\n") and a
 * label at least 4 ('a=""'), and every stored string (with its NUL) is no longer than the text it
 * came from plus its delimiter, so strs never outgrows the body. */
struct sbuf {
    struct ak_buf strs;
    struct srec *recs;
    size_t nrecs, arecs, maxrecs;
    struct slab *labs;
    size_t nlabs, alabs, maxlabs;
    int64_t now_ms;
    struct ak_buf *err;
};

static void sbuf_init(struct sbuf *b, size_t len, int64_t now_ms, struct ak_buf *err)
{
    memset(b, 0, sizeof(*b));
    ak_buf_init(&b->strs, len + 64);
    b->maxrecs = len / 4 + 1;
    b->maxlabs = len / 4 + 1;
    b->now_ms = now_ms;
    b->err = err;
}

static void sbuf_release(struct sbuf *b)
{
    ak_buf_release(&b->strs);
    free(b->recs);
    free(b->labs);
}

/* Grows *p (of elem-sized entries, *alloc of them) to hold need, at most max. */
static bool grow(void *pp, size_t *alloc, size_t need, size_t max, size_t elem)
{
    void **p = pp;
    size_t a = *alloc ? *alloc : 256;

    if (need > max)
        return false;
    if (need <= *alloc)
        return true;
    while (a < need)
        a *= 2;
    if (a > max)
        a = max;
    *p = ak_xrealloc(*p, a * elem);
    *alloc = a;
    return true;
}

/* Appends s[0..n) and a NUL; the offset into *ret. */
static int put_str(struct sbuf *b, const char *s, size_t n, uint32_t *ret)
{
    size_t off = b->strs.len;

    if (ak_buf_addn(&b->strs, s, n) != AK_OK || ak_buf_addc(&b->strs, 0) != AK_OK) {
        b->strs.len = off;
        b->strs.buf[off] = 0;
        return AK_ETOOBIG;
    }
    *ret = (uint32_t)off;
    return AK_OK;
}

/* The offset of name: the previous sample's string at prev when equal (names repeat from one
 * sample to the next), else a new copy. */
static int put_name(struct sbuf *b, const char *name, const uint32_t *prev, uint32_t *ret)
{
    if (prev && strcmp(b->strs.buf + *prev, name) == 0) {
        *ret = *prev;
        return AK_OK;
    }
    return put_str(b, name, strlen(name), ret);
}

static int buf_sample(const struct ak_expo_sample *s, void *arg)
{
    struct sbuf *b = arg;
    const struct srec *prev;
    struct srec rec = {0};
    int r = AK_OK;

    if (!grow(&b->recs, &b->arecs, b->nrecs + 1, b->maxrecs, sizeof(*b->recs)) ||
        !grow(&b->labs, &b->alabs, b->nlabs + s->nlabels, b->maxlabs, sizeof(*b->labs)))
        return ak_err(b->err, AK_ETOOBIG, "line %u: more samples or labels than the body size "
                      "allows.", s->line);
    prev = b->nrecs ? &b->recs[b->nrecs - 1] : NULL; /* after grow: recs may have moved */
    rec.lab = (uint32_t)b->nlabs;
    rec.nlab = (uint16_t)s->nlabels;
    rec.type = (uint8_t)s->type;
    rec.t_ms = s->has_ts ? s->ts_ms : b->now_ms;
    rec.value = s->value;
    r = put_name(b, s->name, prev ? &prev->name : NULL, &rec.name);
    for (size_t i = 0; r == AK_OK && i < s->nlabels; i++) {
        struct slab *l = &b->labs[b->nlabs + i];
        const uint32_t *pn = prev && i < prev->nlab ? &b->labs[prev->lab + i].name : NULL;

        r = put_name(b, s->labels[i].name, pn, &l->name);
        if (r == AK_OK)
            r = put_str(b, s->labels[i].value, s->labels[i].value_len, &l->value);
        l->vlen = (uint32_t)s->labels[i].value_len;
    }
    if (r < 0)
        return ak_err(b->err, AK_ETOOBIG, "line %u: the samples take more memory than the body "
                      "size allows.", s->line);
    b->nlabs += s->nlabels;
    b->recs[b->nrecs++] = rec;
    return AK_OK;
}

/* Delivers the buffered samples with the target labels; *ret_n = how many the callback took. */
static int sbuf_deliver(const struct sbuf *b, const struct ak__scrape_tlabels *tl,
                        ak_scrape_sample_fn fn, void *arg, size_t *ret_n)
{
    struct ak_expo_label in[AK_EXPO_MAX_LABELS];
    struct ak__scrape_lset ls;
    struct ak_scrape_sample smp;
    size_t i;
    int r = AK_OK;

    ak__scrape_lset_init(&ls, AK_EXPO_MAX_LABELS, tl->n);
    for (i = 0; i < b->nrecs && r == AK_OK; i++) {
        const struct srec *rec = &b->recs[i];

        for (size_t k = 0; k < rec->nlab; k++) {
            const struct slab *l = &b->labs[rec->lab + k];

            in[k].name = b->strs.buf + l->name;
            in[k].value = b->strs.buf + l->value;
            in[k].value_len = l->vlen;
        }
        ak__scrape_merge(&ls, in, rec->nlab, tl->l, tl->n);
        smp.name = b->strs.buf + rec->name;
        smp.labels = ls.out;
        smp.nlabels = ls.n;
        smp.type = (enum ak_expo_type)rec->type;
        smp.t_ms = rec->t_ms;
        smp.value = rec->value;
        r = fn ? fn(arg, &smp) : AK_OK;
    }
    *ret_n = r == AK_OK ? i : i - 1;
    ak__scrape_lset_release(&ls);
    return r;
}

static size_t eff_max_bytes(const struct ak_scrape_target *t)
{
    size_t m = t->max_bytes ? t->max_bytes : DEFAULT_MAX_BYTES;

    return m > AK_EXPO_MAX_TEXT ? AK_EXPO_MAX_TEXT : m;
}

/* "16 MiB", "512 KiB" or "1000 bytes". */
static void fmt_size(size_t n, char *out, size_t len)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        snprintf(out, len, "%zu MiB", n / (1024 * 1024));
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(out, len, "%zu KiB", n / 1024);
    else
        snprintf(out, len, "%zu bytes", n);
}

/* Parses and buffers text, then delivers it; *ret_n = samples delivered (also on error). */
static int parse_deliver(const struct ak__scrape_tlabels *tl, size_t max, const char *text,
                         size_t len, enum ak_expo_format fmt, int64_t now_ms,
                         ak_scrape_sample_fn fn, void *arg, size_t *ret_n, struct ak_buf *err)
{
    struct sbuf b;
    char sz[32];
    int r;

    *ret_n = 0;
    if (len > max) {
        fmt_size(max, sz, sizeof(sz));
        return ak_err(err, AK_ETOOBIG, "body larger than %s", sz);
    }
    sbuf_init(&b, len, now_ms, err);
    r = ak_expo_parse(text, len, fmt, buf_sample, &b, err);
    if (r == AK_OK)
        r = sbuf_deliver(&b, tl, fn, arg, ret_n);
    sbuf_release(&b);
    return r;
}

int ak_scrape_parse(const struct ak_scrape_target *target, const char *text, size_t len,
                    enum ak_expo_format fmt, int64_t now_ms, ak_scrape_sample_fn fn, void *arg,
                    size_t *ret_samples, struct ak_buf *err)
{
    struct ak__scrape_tlabels tl;
    size_t n = 0;
    int r;

    if (!text && len)
        return ak_err(err, AK_EINVAL, "No exposition text was given.");
    r = ak__scrape_tlabels_init(&tl, target, err);
    if (r < 0)
        return r;
    r = parse_deliver(&tl, eff_max_bytes(target), text ? text : "", len, fmt, now_ms, fn, arg,
                      &n, err);
    ak__scrape_tlabels_release(&tl);
    if (r == AK_OK && ret_samples)
        *ret_samples = n;
    return r;
}

/* ---- a scrape round ----------------------------------------------------------------------- */

struct round;

struct job {
    struct round *rd;
    size_t i;
    int64_t start_mono;
};

struct round {
    const struct ak_scrape_target *targets;
    size_t n, next;
    struct ak_httpc_multi *m;
    struct job *jobs;
    int64_t now_ms;
    const atomic_bool *abort;
    ak_scrape_sample_fn fn;
    void *arg;
    struct ak_scrape_result *ret;
    int cb_rc; /* the first non-zero callback value */
};

static bool aborted(const struct round *rd)
{
    return rd->abort && atomic_load(rd->abort);
}

/* "10", "0.5", "1.25": seconds of ms, without trailing zeros. */
static void fmt_secs(int64_t ms, char *out, size_t len)
{
    size_t k;

    snprintf(out, len, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
    k = strlen(out);
    while (k > 0 && out[k - 1] == '0')
        out[--k] = 0;
    if (k > 0 && out[k - 1] == '.')
        out[--k] = 0;
}

/* Copies a sentence into res->error without its final period (the error field is a phrase). */
static void set_error(struct ak_scrape_result *res, const char *s)
{
    size_t k;

    snprintf(res->error, sizeof(res->error), "%s", s && *s ? s : "unknown error");
    k = strlen(res->error);
    if (k > 0 && res->error[k - 1] == '.')
        res->error[k - 1] = 0;
}

static void note_cb(struct round *rd, int r)
{
    if (r != AK_OK && rd->cb_rc == AK_OK)
        rd->cb_rc = r;
}

static void deliver_synthetic(struct round *rd, const struct ak__scrape_tlabels *tl,
                              const struct ak_scrape_result *res)
{
    static const char *const names[] = {"up", "scrape_duration_seconds",
                                        "scrape_samples_scraped"};
    double values[3] = {res->up ? 1 : 0, res->duration_s, (double)res->samples};
    struct ak_scrape_sample s = {
        .labels = tl->l, .nlabels = tl->n, .type = AK_EXPO_GAUGE, .t_ms = rd->now_ms};

    for (size_t k = 0; k < AK_ARRAY_SIZE(names); k++) {
        s.name = names[k];
        s.value = values[k];
        note_cb(rd, rd->fn ? rd->fn(rd->arg, &s) : AK_OK);
    }
}

static void add_next(struct round *rd);

/* The outcome of the body of a 2xx answer. */
static void scrape_body(struct round *rd, struct job *jb, const struct ak__scrape_tlabels *tl,
                        struct ak_httpc_resp *resp, struct ak_scrape_result *res)
{
    const struct ak_scrape_target *t = &rd->targets[jb->i];
    struct ak_buf perr = AK_BUF_INIT(1024);
    size_t n = 0;
    int r;

    r = parse_deliver(tl, eff_max_bytes(t), resp->body.buf, resp->body.len,
                      ak_expo_format_from_content_type(resp->content_type), rd->now_ms, rd->fn,
                      rd->arg, &n, &perr);
    res->samples = n;
    if (r == AK_OK) {
        res->up = true;
    } else if (perr.len > 0) {
        set_error(res, perr.buf);
    } else {
        snprintf(res->error, sizeof(res->error), "the receiver stopped the samples (code %d)",
                 r);
        note_cb(rd, r);
    }
    ak_buf_release(&perr);
}

static void scrape_done(void *arg, int rc, struct ak_httpc_resp *resp, const char *errtxt)
{
    struct job *jb = arg;
    struct round *rd = jb->rd;
    const struct ak_scrape_target *t = &rd->targets[jb->i];
    struct ak_scrape_result *res = &rd->ret[jb->i];
    struct ak__scrape_tlabels tl;
    char s[32];

    memset(res, 0, sizeof(*res));
    res->status = resp ? resp->status : 0;
    if (ak__scrape_tlabels_init(&tl, t, NULL) < 0) /* checked before the request was added */
        goto next;
    if (rc < 0 && aborted(rd)) {
        /* the round is being stopped, not the target down: no up 0 for it */
        set_error(res, "aborted");
        goto out;
    }
    if (rc == AK_ETIMEDOUT) {
        fmt_secs(t->timeout_ms > 0 ? t->timeout_ms : DEFAULT_TIMEOUT_MS, s, sizeof(s));
        snprintf(res->error, sizeof(res->error), "timed out after %s s", s);
    } else if (rc == AK_ETOOBIG) {
        fmt_size(eff_max_bytes(t), s, sizeof(s));
        snprintf(res->error, sizeof(res->error), "body larger than %s", s);
    } else if (rc < 0) {
        set_error(res, errtxt);
    } else if (resp->status < 200 || resp->status > 299) {
        snprintf(res->error, sizeof(res->error), "HTTP %ld", resp->status);
    } else {
        scrape_body(rd, jb, &tl, resp, res);
    }
    res->duration_s = (double)(ak_now_mono_ms() - jb->start_mono) / 1000.0;
    deliver_synthetic(rd, &tl, res);
out:
    ak__scrape_tlabels_release(&tl);
next:
    if (!aborted(rd))
        add_next(rd);
}

/* Starts the next target: one at a time from each completion, so that a target's duration is
 * measured from when its transfer can start, not from a wait in the queue. A target whose URL or
 * labels are unusable is reported at once, without series (it has no instance label). */
static void add_next(struct round *rd)
{
    while (rd->next < rd->n) {
        size_t i = rd->next++;
        const struct ak_scrape_target *t = &rd->targets[i];
        struct ak_buf err = AK_BUF_INIT(512);
        struct ak__scrape_tlabels tl;
        struct ak_httpc_req req = {
            .method = "GET",
            .url = t->url,
            .headers = scrape_headers,
            .timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : DEFAULT_TIMEOUT_MS,
            .max_response = eff_max_bytes(t),
            .ca_file = t->ca_file,
        };

        if (ak__scrape_tlabels_init(&tl, t, &err) < 0) {
            memset(&rd->ret[i], 0, sizeof(rd->ret[i]));
            set_error(&rd->ret[i], err.buf);
            ak_buf_release(&err);
            continue;
        }
        ak__scrape_tlabels_release(&tl);
        ak_buf_release(&err);
        rd->jobs[i].rd = rd;
        rd->jobs[i].i = i;
        rd->jobs[i].start_mono = ak_now_mono_ms();
        /* AK_EINVAL still ends in scrape_done, from run */
        (void)ak_httpc_multi_add(rd->m, &req, 0, scrape_done, &rd->jobs[i]);
        return;
    }
}

int ak_scrape_targets(const struct ak_scrape_target *targets, size_t n, int64_t now_ms,
                      int max_in_flight, const atomic_bool *abort, ak_scrape_sample_fn fn,
                      void *arg, struct ak_scrape_result *ret)
{
    struct round rd = {0};
    int r;

    if (n == 0)
        return AK_OK;
    if (!targets || !ret)
        return AK_EINVAL;
    if (max_in_flight <= 0)
        max_in_flight = DEFAULT_IN_FLIGHT;
    if (max_in_flight > MAX_IN_FLIGHT)
        max_in_flight = MAX_IN_FLIGHT;
    for (size_t i = 0; i < n; i++) {
        memset(&ret[i], 0, sizeof(ret[i]));
        set_error(&ret[i], "aborted before the request was sent");
    }
    r = ak_httpc_multi_new(max_in_flight, &rd.m);
    if (r < 0)
        return r;
    ak_httpc_multi_set_abort(rd.m, abort);
    rd.targets = targets;
    rd.n = n;
    rd.jobs = ak_xcalloc(n, sizeof(*rd.jobs));
    rd.now_ms = now_ms;
    rd.abort = abort;
    rd.fn = fn;
    rd.arg = arg;
    rd.ret = ret;
    for (int k = 0; k < max_in_flight && rd.next < n && !aborted(&rd); k++)
        add_next(&rd);
    r = ak_httpc_multi_run(rd.m);
    ak_httpc_multi_free(rd.m);
    free(rd.jobs);
    if (rd.cb_rc != AK_OK)
        return rd.cb_rc;
    return r;
}
