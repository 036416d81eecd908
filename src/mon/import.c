/* import.c — `asakai metrics import`: an exposition with timestamps, all or nothing.
 *
 * The text is parsed completely before anything is stored (an error names its line and nothing
 * changes). Samples are kept as (series index, t, v) in one compact array, sorted by series and
 * time, equal times deduplicated (the first wins). Per series, samples newer than its newest
 * stored one go through the live ingest path; samples older than its oldest stored one are
 * history: encoded into chunks of their own (starting at the first history sample, 120 each) and
 * their minute/hour points computed with a local tier set, written with put (replace), so that
 * importing the same file twice stores the same rows. Samples inside the stored range are
 * dropped (counted): the store never holds two chunks over the same time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

#define IMPORT_MAX_SAMPLES 20000000u

struct isample {
    uint32_t idx;
    int64_t t;
    double v;
};

/* One series of the file, with what ingest needs to create it. */
struct iseries {
    char *key, *name;
    struct ak_expo_label *labels;
    size_t nlabels;
    int type;
};

struct import {
    struct isample *s;
    size_t n, cap;
    struct iseries *ser;
    size_t nser, sercap;
    uint32_t *tab; /* open addressing over ser indices + 1 */
    size_t tabcap;
    struct ak_buf key;
    struct ak_buf *err;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void tab_grow(struct import *im)
{
    size_t cap = im->tabcap ? im->tabcap * 2 : 1024;
    uint32_t *t = ak_xcalloc(cap, sizeof(*t));
    for (size_t i = 0; i < im->nser; i++) {
        size_t h = (size_t)hash_str(im->ser[i].key) & (cap - 1);
        while (t[h])
            h = (h + 1) & (cap - 1);
        t[h] = (uint32_t)i + 1;
    }
    free(im->tab);
    im->tab = t;
    im->tabcap = cap;
}

static uint32_t series_index(struct import *im, const struct ak_expo_sample *x, int type)
{
    if ((im->nser + 1) * 2 > im->tabcap)
        tab_grow(im);
    size_t h = (size_t)hash_str(im->key.buf) & (im->tabcap - 1);
    for (; im->tab[h]; h = (h + 1) & (im->tabcap - 1))
        if (strcmp(im->ser[im->tab[h] - 1].key, im->key.buf) == 0)
            return im->tab[h] - 1;
    if (im->nser == im->sercap) {
        im->sercap = im->sercap ? im->sercap * 2 : 64;
        im->ser = ak_xrealloc(im->ser, im->sercap * sizeof(*im->ser));
    }
    struct iseries *s = &im->ser[im->nser];
    s->key = ak_xstrdup(im->key.buf);
    s->name = ak_xstrdup(x->name);
    s->type = type;
    s->nlabels = x->nlabels;
    s->labels = ak_xcalloc(x->nlabels ? x->nlabels : 1, sizeof(*s->labels));
    for (size_t i = 0; i < x->nlabels; i++) {
        s->labels[i].name = ak_xstrdup(x->labels[i].name);
        s->labels[i].value = ak_xstrndup(x->labels[i].value, x->labels[i].value_len);
        s->labels[i].value_len = x->labels[i].value_len;
    }
    im->tab[h] = (uint32_t)im->nser + 1;
    return (uint32_t)im->nser++;
}

static int parse_cb(const struct ak_expo_sample *x, void *arg)
{
    struct import *im = arg;
    if (!x->has_ts)
        return ak_err(im->err, AK_EINVAL, "line %u: sample %s has no timestamp (an import needs "
                      "one on every sample).", x->line, x->name);
    if (x->ts_ms < 0)
        return ak_err(im->err, AK_EINVAL, "line %u: the timestamp of %s is before 1970.",
                      x->line, x->name);
    if (x->ts_ms > MON_MAX_T_MS)
        return ak_err(im->err, AK_EINVAL, "line %u: the timestamp of %s is after the year 9999 "
                      "(a timestamp in ms where seconds were meant?).", x->line, x->name);
    if (im->n >= IMPORT_MAX_SAMPLES)
        return ak_err(im->err, AK_ETOOBIG, "line %u: more than %u samples in one import.",
                      x->line, IMPORT_MAX_SAMPLES);
    ak_buf_reset(&im->key);
    int r = ak_expo_series_key(x->name, x->labels, x->nlabels, &im->key);
    if (r < 0)
        return ak_err(im->err, r, "line %u: the series name and labels are too long.", x->line);
    if (im->n == im->cap) {
        im->cap = im->cap ? im->cap * 2 : 4096;
        im->s = ak_xrealloc(im->s, im->cap * sizeof(*im->s));
    }
    im->s[im->n++] = (struct isample){series_index(im, x, mon_mtype(x->type, x->name)),
                                      x->ts_ms, x->value};
    return 0;
}

static int cmp_isample(const void *a, const void *b)
{
    const struct isample *x = a, *y = b;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

static void import_release(struct import *im)
{
    for (size_t i = 0; i < im->nser; i++) {
        struct iseries *s = &im->ser[i];
        for (size_t j = 0; j < s->nlabels; j++) {
            free((char *)s->labels[j].name);
            free((char *)s->labels[j].value);
        }
        free(s->labels);
        free(s->key);
        free(s->name);
    }
    free(im->ser);
    free(im->s);
    free(im->tab);
    ak_buf_release(&im->key);
}

/* Queues the finished points of history (buckets that end before the stored data begins). */
struct hist_ctx {
    struct ak_mon *m;
    struct mon_series *s;
    int64_t limit;
};

static int hist_point_cb(void *ctx, unsigned tier, const struct ak_tsdb_point *p)
{
    struct hist_ctx *h = ctx;
    if (!h->limit || p->start_ms + ak_tsdb_tier_ms[tier] <= h->limit)
        mon_push_point(h->m, h->s, (int)tier, p);
    return 0;
}

/* Stores x[0..n) (sorted, older than the series' stored data) as history chunks and points. */
static void store_history(struct ak_mon *m, struct mon_series *s, const struct isample *x,
                          size_t n, struct mon_batch *b)
{
    struct ak_tsdb_chunk *c = ak_xmalloc(sizeof(*c));
    struct hist_ctx hc = {m, s, s->first_t};
    struct ak_tsdb_tiers tr;
    int64_t start = 0;

    ak_tsdb_tiers_init(&tr, hist_point_cb, &hc);
    ak_tsdb_chunk_init(c);
    for (size_t i = 0; i < n; i++) {
        if (ak_tsdb_chunk_count(c) == 0)
            start = x[i].t;
        (void)ak_tsdb_chunk_append(c, x[i].t, x[i].v);
        (void)ak_tsdb_tiers_add(&tr, x[i].t, x[i].v);
        if (ak_tsdb_chunk_count(c) == AK_TSDB_CHUNK_MAX_SAMPLES || i + 1 == n) {
            size_t len;
            const uint8_t *p = ak_tsdb_chunk_finish(c, &len);
            mon_push_chunk(m, s, start, x[i].t, ak_tsdb_chunk_count(c), p, len);
            ak_tsdb_chunk_init(c);
        }
    }
    (void)ak_tsdb_tiers_flush(&tr);
    free(c);
    if (!n)
        return;
    if (!s->b_from || x[0].t < s->b_from)
        s->b_from = x[0].t;
    if (!s->b_to)
        s->b_to = x[n - 1].t;
    s->first_t = x[0].t;
    b->st.samples += n;
    mon_count_series(s, b);
    if (!b->st.from_ms || x[0].t < b->st.from_ms)
        b->st.from_ms = x[0].t;
    if (x[n - 1].t > b->st.to_ms)
        b->st.to_ms = x[n - 1].t;
}

static void ingest_group(struct ak_mon *m, const struct iseries *is, const struct isample *x,
                         size_t n, struct mon_batch *b)
{
    struct mon_series *s =
        mon_series_get(m, is->key, is->name, is->labels, is->nlabels, is->type, b);
    if (!s) {
        b->st.dropped += n;
        return;
    }
    size_t nh = 0;
    if (s->have_t)
        while (nh < n && x[nh].t < s->first_t)
            nh++;
    store_history(m, s, x, nh, b);
    for (size_t i = nh; i < n; i++)
        mon_ingest_series(m, s, x[i].t, x[i].v, b);
}

int ak_mon_import(struct ak_mon *m, const char *text, size_t len, int fmt,
                  struct ak_mon_ingest_stats *ret, struct ak_buf *err)
{
    struct import im = {.key = AK_BUF_INIT(AK_EXPO_MAX_LINE), .err = err};
    struct mon_batch b;
    int r;

    r = ak_expo_parse(text, len, (enum ak_expo_format)fmt, parse_cb, &im, err);
    if (r != AK_OK) {
        if (r > 0)
            r = AK_EINVAL;
        goto out;
    }
    qsort(im.s, im.n, sizeof(*im.s), cmp_isample);
    size_t w = 0, dup = 0;
    for (size_t i = 0; i < im.n; i++) {
        if (w && im.s[w - 1].idx == im.s[i].idx && im.s[w - 1].t == im.s[i].t) {
            dup++;
            continue;
        }
        im.s[w++] = im.s[i];
    }
    im.n = w;
    pthread_mutex_lock(&m->mu);
    mon_batch_init(m, &b);
    b.st.dropped = dup;
    for (size_t i = 0; i < im.n;) {
        size_t j = i;
        while (j < im.n && im.s[j].idx == im.s[i].idx)
            j++;
        ingest_group(m, &im.ser[im.s[i].idx], im.s + i, j - i, &b);
        i = j;
    }
    r = mon_flush(m, err);
    pthread_mutex_unlock(&m->mu);
    if (r == AK_OK && ret)
        *ret = b.st;
out:
    import_release(&im);
    return r;
}
