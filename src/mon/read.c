/* read.c — the read side: series lists, point queries, targets, storage numbers, and the
 * helpers the review, coverage and dashboard share (aggregates per step, counter rates).
 * Every call opens its own read connection: readers never wait for the collector. */
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

#define QUERY_MAX_POINTS 2000
#define QUERY_MAX_EXPLICIT 50000

int mon_open_read(struct ak_mon *m, struct ak_store **ret, struct ak_buf *err)
{
    int r = ak_store_open_metrics(m->cfg->data_dir, AK_STORE_READ, ret, err);
    return r < 0 ? ak_err(err, r, "cannot open the metrics database.") : AK_OK;
}

const char *mon_mtype_name(int type)
{
    return type == AK_MTYPE_COUNTER ? "counter" : type == AK_MTYPE_GAUGE ? "gauge" : "untyped";
}

bool mon_glob(const char *glob, const char *s)
{
    return glob && s && fnmatch(glob, s, 0) == 0;
}

const char *mon_unit(const char *metric)
{
    if (ak_endswith(metric, "_bytes"))
        return "bytes";
    if (ak_endswith(metric, "_seconds"))
        return "seconds";
    if (ak_endswith(metric, "_ratio"))
        return "ratio";
    return "";
}

void mon_json_num(struct ak_json *o, const char *k, double v)
{
    ak_json_set(o, k, isfinite(v) ? ak_json_new_real(v) : ak_json_new_null());
}

/* Raw samples in [from, to), strictly increasing (an overlapping chunk cannot repeat time). */
struct raw {
    int64_t from, to;
    int64_t *t;
    double *v;
    size_t n, cap;
};

static int raw_cb(void *arg, int64_t start_ms, int64_t end_ms, unsigned n, const uint8_t *data,
                  size_t len)
{
    struct raw *rw = arg;
    int64_t ts[AK_TSDB_CHUNK_MAX_SAMPLES];
    double vs[AK_TSDB_CHUNK_MAX_SAMPLES];
    size_t got;
    (void)start_ms;
    (void)end_ms;
    (void)n;
    if (ak_tsdb_chunk_decode(data, len, ts, vs, AK_TSDB_CHUNK_MAX_SAMPLES, &got) < 0)
        return 0; /* a damaged chunk is a gap, not a failed read */
    for (size_t i = 0; i < got; i++) {
        if (ts[i] < rw->from || ts[i] >= rw->to || (rw->n && ts[i] <= rw->t[rw->n - 1]))
            continue;
        if (rw->n == rw->cap) {
            rw->cap = rw->cap ? rw->cap * 2 : 256;
            rw->t = ak_xrealloc(rw->t, rw->cap * sizeof(*rw->t));
            rw->v = ak_xrealloc(rw->v, rw->cap * sizeof(*rw->v));
        }
        rw->t[rw->n] = ts[i];
        rw->v[rw->n++] = vs[i];
    }
    return 0;
}

/* The chunk rows, then (m not NULL) the engine's chunks the rows do not hold yet: the open
 * chunk is written only at checkpoints. The engine's copy is taken first: a chunk that fills up
 * and reaches the rows in between is read twice (raw_cb keeps times increasing), never missed. */
static int read_raw(struct ak_mon *m, struct ak_store *st, int64_t id, int64_t from, int64_t to,
                    struct raw *rw)
{
    struct mon_blob *mem = NULL;
    size_t nmem = m ? mon_mem_chunks(m, id, &mem) : 0;

    memset(rw, 0, sizeof(*rw));
    rw->from = from;
    rw->to = to;
    int r = ak_store_mchunk_each(st, id, from, to, raw_cb, rw);
    for (size_t i = 0; i < nmem; i++) {
        if (r == AK_OK)
            r = raw_cb(rw, 0, 0, 0, mem[i].data, mem[i].len);
        free(mem[i].data);
    }
    free(mem);
    return r;
}

static void agg_add(struct mon_agg *a, double v, double *prev, bool *have_prev)
{
    if (!isfinite(v))
        return;
    if (!a->count) {
        a->min = a->max = a->first = v;
        a->sum = 0;
    }
    a->min = v < a->min ? v : a->min;
    a->max = v > a->max ? v : a->max;
    a->sum += v;
    a->last = v;
    a->count++;
    if (*have_prev && v < *prev)
        a->decreases++;
    *prev = v;
    *have_prev = true;
}

int mon_read_raw_aggs(struct ak_mon *m, struct ak_store *st, int64_t id, int64_t from,
                      int64_t to, int64_t step, struct mon_agg **ret, size_t *ret_n)
{
    struct raw rw;
    size_t n = 0;
    int r = read_raw(m, st, id, from, to, &rw);
    if (r < 0) {
        free(rw.t);
        free(rw.v);
        return r;
    }
    struct mon_agg *a = ak_xcalloc(rw.n ? rw.n : 1, sizeof(*a));
    double prev = 0;
    bool have = false;
    for (size_t i = 0; i < rw.n; i++) {
        int64_t b = rw.t[i] - (rw.t[i] - from) % step;
        if (!n || a[n - 1].t != b)
            a[n++].t = b;
        agg_add(&a[n - 1], rw.v[i], &prev, &have);
    }
    /* buckets whose samples were all non-finite carry nothing */
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].count)
            a[w++] = a[i];
    free(rw.t);
    free(rw.v);
    *ret = a;
    *ret_n = w;
    return AK_OK;
}

int mon_read_aggs(struct ak_mon *m, struct ak_store *st, int64_t id, int64_t from, int64_t to,
                  int64_t step, struct mon_agg **ret, size_t *ret_n)
{
    struct ak_mpoint *p = NULL;
    size_t n = 0;

    if (step != 60000 && step != MON_HOUR_MS)
        return mon_read_raw_aggs(m, st, id, from, to, step, ret, ret_n);
    int r = ak_store_mpoint_range(st, id, step == 60000 ? 0 : 1, from, to, &p, &n);
    if (r < 0)
        return r;
    struct mon_agg *a = ak_xcalloc(n ? n : 1, sizeof(*a));
    for (size_t i = 0; i < n; i++)
        a[i] = (struct mon_agg){p[i].start_ms, p[i].min, p[i].max, p[i].sum, p[i].first,
                                p[i].last, p[i].count, p[i].decreases};
    free(p);
    *ret = a;
    *ret_n = n;
    return AK_OK;
}

int mon_read_aggs_live(struct ak_mon *m, struct ak_store *st, int64_t id, int64_t from,
                       int64_t to, int64_t step, struct mon_agg **ret, size_t *ret_n)
{
    struct mon_agg *a = NULL, *t = NULL;
    size_t n = 0, nt = 0;
    int r = mon_read_aggs(m, st, id, from, to, step, &a, &n);
    if (r < 0 || (step != 60000 && step != MON_HOUR_MS))
        goto out;
    /* the buckets after the last written point are still filling: made from the raw samples */
    int64_t tail = n ? a[n - 1].t + step : from - from % step;
    if (tail < to && mon_read_raw_aggs(m, st, id, tail, to, step, &t, &nt) == AK_OK && nt) {
        a = ak_xrealloc(a, (n + nt) * sizeof(*a));
        memcpy(a + n, t, nt * sizeof(*t));
        n += nt;
    }
    free(t);
out:
    if (r == AK_OK) {
        *ret = a;
        *ret_n = n;
    }
    return r;
}

double mon_agg_value(const struct mon_agg *a, size_t i, bool counter)
{
    if (!a[i].count)
        return NAN;
    if (!counter)
        return a[i].sum / (double)a[i].count;
    if (i == 0)
        return NAN;
    double dt = (double)(a[i].t - a[i - 1].t) / 1000.0;
    if (dt <= 0)
        return NAN;
    /* a reset (a decrease inside the step, or between the steps) restarted the counter from 0
     * within dt: at least last was added. Without looking at decreases, a counter that reset
     * and climbed above the previous step's last would show only the difference. */
    if (!a[i].decreases && a[i].last >= a[i - 1].last)
        return (a[i].last - a[i - 1].last) / dt;
    return a[i].last / dt;
}

static struct ak_json *series_json(const struct ak_mseries *s)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_str(o, "key", s->key);
    ak_json_set_str(o, "metric", s->metric);
    ak_json_set_str(o, "service", s->service);
    struct ak_json *l = s->labels ? ak_json_parse(s->labels, strlen(s->labels), NULL) : NULL;
    ak_json_set(o, "labels", l ? l : ak_json_new_obj());
    ak_json_set_str(o, "type", mon_mtype_name(s->type));
    ak_json_set_int(o, "first", s->first_ms);
    ak_json_set_int(o, "last", s->last_ms);
    mon_json_num(o, "last_value", s->last_value);
    return o;
}

int ak_mon_series(struct ak_mon *m, const char *service, const char *glob, struct ak_json **ret,
                  struct ak_buf *err)
{
    struct ak_store *st = NULL;
    struct ak_mseries *v = NULL;
    size_t n = 0;
    int r = mon_open_read(m, &st, err);
    if (r < 0)
        return r;
    r = ak_store_mseries_list(st, service, glob, &v, &n);
    if (r < 0) {
        ak_err(err, r, "cannot list the series.");
        goto out;
    }
    mon_series_overlay(m, v, n);
    struct ak_json *o = ak_json_new_obj(), *arr = ak_json_new_arr();
    for (size_t i = 0; i < n; i++)
        ak_json_append(arr, series_json(&v[i]));
    ak_json_set(o, "series", arr);
    *ret = o;
out:
    for (size_t i = 0; i < n; i++)
        ak_mseries_release(&v[i]);
    free(v);
    ak_store_close(st);
    return r;
}

static int64_t service_interval(const struct ak_cfg *cfg, const char *service)
{
    const struct ak_cfg_service *s = ak_cfg_service_find(cfg, service);
    if (s && s->scrape_interval_ms > 0)
        return s->scrape_interval_ms;
    return cfg->mon_interval_ms > 0 ? cfg->mon_interval_ms : 15000;
}

static struct ak_json *point4(int64_t t, double mean, double min, double max)
{
    struct ak_json *p = ak_json_new_arr();
    ak_json_append(p, ak_json_new_int(t));
    ak_json_append(p, isfinite(mean) ? ak_json_new_real(mean) : ak_json_new_null());
    ak_json_append(p, isfinite(min) ? ak_json_new_real(min) : ak_json_new_null());
    ak_json_append(p, isfinite(max) ? ak_json_new_real(max) : ak_json_new_null());
    return p;
}

static int query_points(struct ak_mon *m, struct ak_store *st, const struct ak_mseries *s,
                        int64_t from, int64_t to, int64_t step, bool raw, struct ak_json *arr)
{
    bool counter = s->type == AK_MTYPE_COUNTER;
    int64_t rd = counter ? from - (raw ? step * 4 : step) : from;
    if (raw) {
        struct raw rw;
        int r = read_raw(m, st, s->id, rd < 0 ? 0 : rd, to, &rw);
        /* a counter's rate is taken against the previous finite sample: a NaN (stale marker)
         * in between must neither make the next rate NaN nor look like a reset */
        int64_t pt = 0;
        double pv = NAN;
        for (size_t i = 0; r == AK_OK && i < rw.n; i++) {
            double v = rw.v[i];
            if (counter) {
                double x = v, dt = (double)(rw.t[i] - pt) / 1000.0;
                v = !isfinite(x) || !isfinite(pv) || dt <= 0 ? NAN
                    : x >= pv ? (x - pv) / dt : x / dt;
                if (isfinite(x)) {
                    pt = rw.t[i];
                    pv = x;
                }
            }
            if (rw.t[i] >= from)
                ak_json_append(arr, point4(rw.t[i], v, v, v));
        }
        free(rw.t);
        free(rw.v);
        return r;
    }
    struct mon_agg *a = NULL;
    size_t n = 0;
    int r = mon_read_aggs_live(m, st, s->id, rd < 0 ? 0 : rd, to, step, &a, &n);
    for (size_t i = 0; r == AK_OK && i < n; i++) {
        if (a[i].t < from)
            continue;
        double v = mon_agg_value(a, i, counter);
        if (counter)
            ak_json_append(arr, point4(a[i].t, v, v, v));
        else
            ak_json_append(arr, point4(a[i].t, v, a[i].min, a[i].max));
    }
    free(a);
    return r;
}

int ak_mon_query(struct ak_mon *m, const char *key, int64_t from_ms, int64_t to_ms,
                 const char *resolution, struct ak_json **ret, struct ak_buf *err)
{
    struct ak_store *st = NULL;
    struct ak_mseries s = {0};
    struct ak_deploy *d = NULL;
    size_t nd = 0;
    struct ak_json *o = NULL;
    int r;

    if (!to_ms)
        to_ms = ak_now_wall_ms();
    if (!key || from_ms < 0 || from_ms >= to_ms)
        return ak_err(err, AK_EINVAL, "a query needs a series key and from < to.");
    const char *res = resolution && *resolution ? resolution : "auto";
    if (!ak_streq(res, "auto") && !ak_streq(res, "raw") && !ak_streq(res, "minute") &&
        !ak_streq(res, "hour"))
        return ak_err(err, AK_EINVAL, "resolution \"%s\" is not auto, raw, minute or hour.", res);
    r = mon_open_read(m, &st, err);
    if (r < 0)
        return r;
    r = ak_store_mseries_get(st, key, &s);
    if (r < 0) {
        r = ak_err(err, r, r == AK_ENOTFOUND ? "no series %s is stored." : "cannot read %s.", key);
        goto out;
    }
    mon_series_overlay(m, &s, 1);
    int64_t iv = service_interval(m->cfg, s.service), span = to_ms - from_ms;
    if (ak_streq(res, "auto"))
        res = span / iv <= QUERY_MAX_POINTS ? "raw"
              : span / 60000 <= QUERY_MAX_POINTS ? "minute" : "hour";
    int64_t step = ak_streq(res, "raw") ? iv : ak_streq(res, "minute") ? 60000 : MON_HOUR_MS;
    /* an explicit resolution over a long range would read and answer millions of points */
    if (span / step > QUERY_MAX_EXPLICIT) {
        r = ak_err(err, AK_ETOOBIG, "a %s query over %" PRId64 " h gives %" PRId64 " points, more "
                   "than %d: ask for a shorter range or a coarser resolution.", res,
                   (int64_t)(span / MON_HOUR_MS), (int64_t)(span / step), QUERY_MAX_EXPLICIT);
        goto out;
    }
    o = ak_json_new_obj();
    ak_json_set_str(o, "series", s.key);
    ak_json_set_str(o, "metric", s.metric);
    ak_json_set_str(o, "service", s.service);
    ak_json_set_str(o, "type", mon_mtype_name(s.type));
    ak_json_set_str(o, "resolution", res);
    ak_json_set_int(o, "step_ms", step);
    struct ak_json *pts = ak_json_new_arr();
    ak_json_set(o, "points", pts);
    r = query_points(m, st, &s, from_ms, to_ms, step, ak_streq(res, "raw"), pts);
    if (r < 0) {
        ak_err(err, r, "cannot read the points of %s.", key);
        goto out;
    }
    struct ak_json *dep = ak_json_new_arr();
    ak_json_set(o, "deploys", dep);
    if (s.service && *s.service && ak_store_deploy_list(st, s.service, from_ms, to_ms, &d, &nd) == AK_OK)
        for (size_t i = 0; i < nd; i++)
            ak_json_append(dep, mon_deploy_json(&d[i]));
    *ret = o;
    o = NULL;
out:
    ak_json_free(o);
    for (size_t i = 0; i < nd; i++)
        ak_deploy_release(&d[i]);
    free(d);
    ak_mseries_release(&s);
    ak_store_close(st);
    return r;
}

int ak_mon_targets(struct ak_mon *m, struct ak_json **ret, struct ak_buf *err)
{
    (void)err;
    struct ak_json *o = ak_json_new_obj(), *t = ak_json_new_arr(), *s = ak_json_new_arr();
    pthread_mutex_lock(&m->smu);
    for (size_t i = 0; i < m->n_targets; i++) {
        const struct mon_tstatus *x = &m->targets[i];
        struct ak_json *j = ak_json_new_obj();
        ak_json_set_str(j, "service", x->service);
        ak_json_set_str(j, "url", x->url);
        ak_json_set(j, "up", x->scraped ? ak_json_new_bool(x->up) : ak_json_new_null());
        ak_json_set(j, "last_scrape", x->last_ms ? ak_json_new_int(x->last_ms) : ak_json_new_null());
        mon_json_num(j, "duration_s", x->scraped ? x->duration_s : NAN);
        ak_json_set_int(j, "samples", (int64_t)x->samples);
        ak_json_set_str(j, "error", x->error[0] ? x->error : NULL);
        ak_json_append(t, j);
    }
    for (size_t i = 0; i < m->n_sources; i++) {
        const struct mon_sstatus *x = &m->sources[i];
        struct ak_json *j = ak_json_new_obj();
        ak_json_set_str(j, "name", x->name);
        ak_json_set_str(j, "url", x->url);
        ak_json_set(j, "last_read", x->last_read ? ak_json_new_int(x->last_read) : ak_json_new_null());
        ak_json_set(j, "last_ok", x->last_ok ? ak_json_new_int(x->last_ok) : ak_json_new_null());
        ak_json_set_int(j, "requests", (int64_t)x->requests);
        ak_json_set_int(j, "samples", (int64_t)x->samples);
        ak_json_set_str(j, "error", x->error[0] ? x->error : NULL);
        ak_json_append(s, j);
    }
    pthread_mutex_unlock(&m->smu);
    ak_json_set(o, "targets", t);
    ak_json_set(o, "sources", s);
    *ret = o;
    return AK_OK;
}

int ak_mon_stats(struct ak_mon *m, struct ak_json **ret, struct ak_buf *err)
{
    struct ak_store *st = NULL;
    struct ak_mstats ms;
    /* storage numbers of everything accepted: the open chunks are written first */
    pthread_mutex_lock(&m->mu);
    int r = mon_checkpoint(m, err);
    pthread_mutex_unlock(&m->mu);
    if (r < 0)
        return r;
    r = mon_open_read(m, &st, err);
    if (r < 0)
        return r;
    r = ak_store_mstats(st, &ms);
    ak_store_close(st);
    if (r < 0)
        return ak_err(err, r, "cannot read the metrics storage numbers.");
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "series", ms.series);
    ak_json_set_int(o, "chunks", ms.chunks);
    ak_json_set_int(o, "raw_samples", ms.raw_samples);
    ak_json_set_int(o, "chunk_bytes", ms.chunk_bytes);
    int64_t bytes = ms.chunk_table_bytes >= 0 ? ms.chunk_table_bytes : ms.chunk_bytes;
    mon_json_num(o, "bytes_per_sample",
                 ms.raw_samples ? (double)bytes / (double)ms.raw_samples : NAN);
    ak_json_set_int(o, "points_minute", ms.points[0]);
    ak_json_set_int(o, "points_hour", ms.points[1]);
    ak_json_set_int(o, "file_bytes", ms.file_bytes);
    *ret = o;
    return AK_OK;
}
