/* review.c — `asakai review`: the stored series turned into the regularly spaced inputs of
 * ak_review_run, with what is known about each (limit, restarts, deploys), and its result as the
 * review object of docs/API.md.
 *
 * Values per step: hourly points (tier 1) by default; a gauge's step value is its mean
 * (sum/count), a counter's the per-second rate between the last values of consecutive points
 * (a decrease is a reset: the last value over the elapsed time). Limits come from series of the
 * same host or device (MemTotal, filesystem size, max FDs, max_connections), then from the
 * configuration (services[].limits), which wins. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_review.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

/* Step values held at once (8 bytes each): 512 MiB. The daily review at the default cap
 * (50,000 series × 336 hours) holds 17 M; a minute review (4,000 steps) of every series would
 * hold 200 M, so it is refused and asked per service. */
#define MON_REVIEW_MAX_VALUES (64u * 1024 * 1024)

/* What the review needs of one stored series besides its values. */
struct rser {
    struct ak_mseries *ms;
    struct ak_json *labels;
    const char *instance, *job;
    double *v;
    int64_t *restarts;
    size_t n_restarts, cap_restarts;
};

struct rctx {
    struct ak_mon *m;
    struct ak_store *st;
    struct ak_mseries *all;
    size_t n;
    struct rser *rs;
    int64_t start, end, step, now;
    size_t steps;
};

/* The review's worker threads: the cores of the machine, at most 4 (the collector keeps
 * running beside it). */
static int review_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

static const char *lab(const struct rser *r, const char *name)
{
    return ak_json_get_str(r->labels, name);
}

static void add_restart(struct rser *r, int64_t t)
{
    for (size_t i = 0; i < r->n_restarts; i++)
        if (r->restarts[i] == t)
            return;
    if (r->n_restarts == r->cap_restarts) {
        r->cap_restarts = r->cap_restarts ? r->cap_restarts * 2 : 4;
        r->restarts = ak_xrealloc(r->restarts, r->cap_restarts * sizeof(*r->restarts));
    }
    r->restarts[r->n_restarts++] = t;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads one series' step values; counter decreases are restarts of the process behind it. */
static int load_values(struct rctx *c, struct rser *r)
{
    struct mon_agg *a = NULL;
    size_t n = 0;
    bool counter = r->ms->type == AK_MTYPE_COUNTER;
    int rc = mon_read_aggs(c->m, c->st, r->ms->id, c->start - c->step, c->end, c->step, &a, &n);
    if (rc < 0)
        return rc;
    r->v = ak_xmalloc(c->steps * sizeof(double));
    for (size_t i = 0; i < c->steps; i++)
        r->v[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        if (a[i].t < c->start)
            continue;
        size_t idx = (size_t)((a[i].t - c->start) / c->step);
        if (idx < c->steps)
            r->v[idx] = mon_agg_value(a, i, counter);
        if (counter && (a[i].decreases || (i && a[i].first < a[i - 1].last)))
            add_restart(r, a[i].t);
    }
    /* process_start_time_seconds holds the start time itself: each value inside the window
     * is a restart of every series of that job and instance */
    if (ak_streq(r->ms->metric, "process_start_time_seconds"))
        for (size_t i = 0; i < n; i++) {
            double vals[2] = {a[i].min, a[i].max};
            for (int k = 0; k < 2; k++) {
                /* a scraped value: out of int64 range the conversion would be undefined */
                if (!(vals[k] >= 0 && vals[k] * 1000.0 <= (double)MON_MAX_T_MS))
                    continue;
                int64_t t = (int64_t)(vals[k] * 1000.0);
                if (t > c->start && t <= c->now)
                    add_restart(r, t);
            }
        }
    free(a);
    return AK_OK;
}

static void share_restarts(struct rctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct rser *p = &c->rs[i];
        if (!ak_streq(p->ms->metric, "process_start_time_seconds") || !p->n_restarts)
            continue;
        for (size_t j = 0; j < c->n; j++) {
            struct rser *q = &c->rs[j];
            if (j != i && ak_streq(q->job, p->job) && ak_streq(q->instance, p->instance))
                for (size_t k = 0; k < p->n_restarts; k++)
                    add_restart(q, p->restarts[k]);
        }
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->rs[i].n_restarts > 1)
            qsort(c->rs[i].restarts, c->rs[i].n_restarts, sizeof(int64_t), cmp_i64);
}

/* The host part of an instance label ("api-1:9100" -> "api-1"). */
static size_t host_len(const char *inst)
{
    if (!inst)
        return 0;
    const char *colon = strrchr(inst, ':');
    if (inst[0] == '[') {
        const char *e = strchr(inst, ']');
        return e ? (size_t)(e - inst + 1) : strlen(inst);
    }
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
        return (size_t)(colon - inst);
    return strlen(inst);
}

static bool same_host(const char *a, const char *b)
{
    size_t la = host_len(a), lb = host_len(b);
    return a && b && la == lb && memcmp(a, b, la) == 0;
}

/* The newest value of a series of metric whose labels agree with r on names[] (host: compare
 * the instances' host parts). NaN when none. */
static double related(const struct rctx *c, const struct rser *r, const char *metric,
                      const char *const *names, size_t nn, bool host)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct rser *q = &c->rs[i];
        if (!ak_streq(q->ms->metric, metric))
            continue;
        bool ok = true;
        for (size_t k = 0; k < nn && ok; k++)
            ok = ak_streq(lab(q, names[k]), lab(r, names[k]));
        if (ok && host)
            ok = same_host(q->instance, r->instance);
        if (ok)
            return q->ms->last_value;
    }
    return NAN;
}

static void find_limit(const struct rctx *c, const struct rser *r, struct ak_review_series *x)
{
    static const char *const inst[] = {"instance"};
    static const char *const fs[] = {"device", "mountpoint", "instance"};
    const char *mt = r->ms->metric;

    x->limit = NAN;
    x->scale = NAN;
    x->limit_name = NULL;
    if (ak_streq(mt, "node_memory_MemAvailable_bytes")) {
        x->limit = 0;
        x->scale = related(c, r, "node_memory_MemTotal_bytes", inst, 1, false);
        x->limit_name = "MemTotal";
    } else if (ak_streq(mt, "node_filesystem_avail_bytes")) {
        x->limit = 0;
        x->scale = related(c, r, "node_filesystem_size_bytes", fs, 3, false);
        x->limit_name = "filesystem size";
    } else if (ak_streq(mt, "node_filefd_allocated")) {
        x->limit = related(c, r, "node_filefd_maximum", inst, 1, false);
        x->limit_name = "max FDs";
    } else if (ak_streq(mt, "process_resident_memory_bytes") ||
               ak_streq(mt, "asakai_process_resident_memory_bytes")) {
        x->limit = related(c, r, "node_memory_MemTotal_bytes", NULL, 0, true);
        x->limit_name = "MemTotal";
    } else if (ak_streq(mt, "pg_stat_activity_count")) {
        x->limit = related(c, r, "pg_settings_max_connections", inst, 1, false);
        if (!isfinite(x->limit))
            x->limit = related(c, r, "pg_settings_max_connections", NULL, 0, false);
        x->limit_name = "max_connections";
    }
    if (!isfinite(x->limit)) { /* no limit series found */
        x->limit = NAN;
        x->limit_name = NULL;
    }
    const struct ak_cfg_service *svc = ak_cfg_service_find(c->m->cfg, r->ms->service);
    for (size_t i = 0; svc && i < svc->n_limits; i++)
        if (ak_streq(svc->limits[i].metric, mt)) {
            x->limit = svc->limits[i].value;
            x->scale = NAN;
            x->limit_name = "the configured limit";
        }
}

static struct ak_json *labels_shown(const struct rser *r)
{
    struct ak_json *o = ak_json_new_obj();
    for (void *it = ak_json_iter(r->labels); it; it = ak_json_iter_next(r->labels, it)) {
        const char *k = ak_json_iter_key(it);
        if (!ak_streq(k, "job") && !ak_streq(k, "service"))
            ak_json_set(o, k, ak_json_ref(ak_json_iter_value(it)));
    }
    return o;
}

static const struct rser *by_key(const struct rctx *c, const char *key)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = strcmp(c->rs[mid].ms->key, key);
        if (!d)
            return &c->rs[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < c->n; i++) /* the store's order may not be strcmp's */
        if (ak_streq(c->rs[i].ms->key, key))
            return &c->rs[i];
    return NULL;
}

static struct ak_json *finding_json(const struct rctx *c, const struct ak_review_finding *f)
{
    struct ak_json *o = ak_json_new_obj();
    const struct rser *r = by_key(c, f->series);
    ak_json_set_str(o, "kind", ak_review_kind_name(f->kind));
    ak_json_set_str(o, "service", f->service);
    ak_json_set_str(o, "series", f->series);
    ak_json_set_str(o, "metric", f->metric);
    ak_json_set(o, "labels", r ? labels_shown(r) : ak_json_new_obj());
    ak_json_set_str(o, "instance", f->instance);
    ak_json_set_str(o, "text", f->text);
    mon_json_num(o, "confidence", f->confidence);
    mon_json_num(o, "p", f->p);
    mon_json_num(o, "q", f->q);
    mon_json_num(o, "slope_per_day", f->slope_per_day);
    mon_json_num(o, "slope_lo", f->slope_lo);
    mon_json_num(o, "slope_hi", f->slope_hi);
    mon_json_num(o, "pct_per_day", f->pct_per_day);
    mon_json_num(o, "days", f->days);
    mon_json_num(o, "days_lo", f->days_lo);
    mon_json_num(o, "days_hi", f->days_hi);
    mon_json_num(o, "limit", f->limit);
    ak_json_set_str(o, "limit_name", f->limit_name);
    mon_json_num(o, "level", f->level);
    mon_json_num(o, "shift", f->shift);
    mon_json_num(o, "shift_pct", f->shift_pct);
    ak_json_set_int(o, "at", f->at_ms);
    ak_json_set_str(o, "version", f->version);
    ak_json_set_int(o, "n", (int64_t)f->n);
    ak_json_set_str(o, "link", f->link);
    return o;
}

static struct ak_json *result_json(const struct rctx *c, const char *res,
                                   const struct ak_review_result *rr)
{
    struct ak_json *o = ak_json_new_obj(), *arr = ak_json_new_arr();
    ak_json_set_int(o, "at", c->now);
    ak_json_set_int(o, "window_ms", (int64_t)c->steps * c->step);
    ak_json_set_str(o, "resolution", res);
    ak_json_set_int(o, "step_ms", c->step);
    ak_json_set_int(o, "series", (int64_t)rr->n_series);
    ak_json_set_int(o, "tested", (int64_t)rr->n_tested);
    ak_json_set_int(o, "short", (int64_t)rr->n_short);
    ak_json_set_int(o, "constant", (int64_t)rr->n_constant);
    for (size_t i = 0; i < rr->n_findings; i++)
        ak_json_append(arr, finding_json(c, &rr->findings[i]));
    ak_json_set(o, "findings", arr);
    return o;
}

static int run(struct rctx *c, const char *res, struct ak_json **ret, struct ak_buf *err)
{
    const struct ak_cfg *cfg = c->m->cfg;
    struct ak_review_series *in = ak_xcalloc(c->n ? c->n : 1, sizeof(*in));
    struct ak_review_deploy *dv = NULL;
    struct ak_deploy *d = NULL;
    size_t nd = 0;
    struct ak_review_result rr = {0};
    int r;

    for (size_t i = 0; i < c->n; i++) {
        struct rser *s = &c->rs[i];
        struct ak_review_series *x = &in[i];
        x->service = s->ms->service ? s->ms->service : "";
        x->key = s->ms->key;
        x->metric = s->ms->metric;
        x->instance = s->instance;
        x->unit = mon_unit(s->ms->metric);
        x->v = s->v;
        x->n = c->steps;
        x->start_ms = c->start;
        x->step_ms = c->step;
        x->first_ms = s->ms->first_ms;
        x->last_ms = s->ms->last_ms;
        x->last_value = s->ms->last_value;
        x->restarts = s->restarts;
        x->n_restarts = s->n_restarts;
        find_limit(c, s, x);
    }
    if (ak_store_deploy_list(c->st, NULL, c->start, c->now, &d, &nd) == AK_OK && nd) {
        dv = ak_xcalloc(nd, sizeof(*dv));
        for (size_t i = 0; i < nd; i++)
            dv[i] = (struct ak_review_deploy){d[i].service, d[i].version, d[i].at_ms};
    }
    struct ak_review_opts o = {.now_ms = c->now, .fdr_q = cfg->review_fdr,
                               .min_growth_pct = cfg->review_min_growth_pct,
                               .min_shift_pct = cfg->review_min_shift_pct,
                               .warmup_ms = cfg->review_warmup_ms,
                               .days_horizon = cfg->review_days_horizon,
                               .deploys = dv, .n_deploys = nd, .threads = review_threads()};
    r = ak_review_run(in, c->n, &o, &rr, err);
    if (r == AK_OK)
        *ret = result_json(c, res, &rr);
    ak_review_result_release(&rr);
    for (size_t i = 0; i < nd; i++)
        ak_deploy_release(&d[i]);
    free(d);
    free(dv);
    free(in);
    return r;
}

static void rctx_release(struct rctx *c)
{
    for (size_t i = 0; c->rs && i < c->n; i++) {
        ak_json_free(c->rs[i].labels);
        free(c->rs[i].v);
        free(c->rs[i].restarts);
    }
    free(c->rs);
    for (size_t i = 0; i < c->n; i++)
        ak_mseries_release(&c->all[i]);
    free(c->all);
    ak_store_close(c->st);
}

int ak_mon_review(struct ak_mon *m, const struct ak_mon_review_req *req, struct ak_json **ret,
                  struct ak_buf *err)
{
    struct rctx c = {.m = m};
    const char *res = req && req->resolution && *req->resolution ? req->resolution : "hour";
    int64_t window = req && req->window_ms > 0 ? req->window_ms : m->cfg->review_window_ms;
    int r;

    c.now = req && req->now_ms ? req->now_ms : ak_now_wall_ms();
    if (c.now < 0 || c.now > MON_MAX_T_MS)
        return ak_err(err, AK_EINVAL, "the review time %" PRId64 " is not a time in ms since "
                      "1970.", c.now);
    if (ak_streq(res, "hour"))
        c.step = MON_HOUR_MS;
    else if (ak_streq(res, "minute"))
        c.step = 60000;
    else if (ak_streq(res, "raw"))
        c.step = m->interval_ms;
    else
        return ak_err(err, AK_EINVAL, "resolution \"%s\" is not hour, minute or raw.", res);
    if (window < c.step)
        return ak_err(err, AK_EINVAL, "the review window is shorter than one step.");
    c.steps = (size_t)(window / c.step);
    if (c.steps > AK_REVIEW_MAX_POINTS)
        c.steps = AK_REVIEW_MAX_POINTS; /* the newest steps: a short look at fine data */
    /* whole steps only: the current one is still filling */
    c.end = c.now - c.now % c.step;
    c.start = c.end - (int64_t)c.steps * c.step;
    r = mon_open_read(m, &c.st, err);
    if (r < 0)
        return r;
    r = ak_store_mseries_list(c.st, req ? req->service : NULL, NULL, &c.all, &c.n);
    if (r < 0) {
        ak_err(err, r, "cannot list the series.");
        goto out;
    }
    mon_series_overlay(m, c.all, c.n);
    /* one step array per series is held while ak_review_run looks at all of them */
    if (c.n && c.steps > MON_REVIEW_MAX_VALUES / c.n) {
        r = ak_err(err, AK_ETOOBIG, "%zu series of %zu %s steps are too many for one review "
                   "(at most %zu values): review one service, or at a coarser resolution.",
                   c.n, c.steps, res, (size_t)MON_REVIEW_MAX_VALUES);
        goto out;
    }
    c.rs = ak_xcalloc(c.n ? c.n : 1, sizeof(*c.rs));
    for (size_t i = 0; i < c.n; i++) {
        struct rser *s = &c.rs[i];
        s->ms = &c.all[i];
        s->labels = ak_json_parse(s->ms->labels ? s->ms->labels : "{}",
                                  s->ms->labels ? strlen(s->ms->labels) : 2, NULL);
        s->instance = lab(s, "instance");
        s->job = lab(s, "job");
        r = load_values(&c, s);
        if (r < 0) {
            ak_err(err, r, "cannot read the points of %s.", s->ms->key);
            goto out;
        }
    }
    share_restarts(&c);
    r = run(&c, res, ret, err);
out:
    rctx_release(&c);
    return r;
}

int ak_mon_review_latest(struct ak_mon *m, struct ak_json **ret, struct ak_buf *err)
{
    struct ak_store *st = NULL;
    int64_t at = 0;
    char *json = NULL;
    int r = mon_open_read(m, &st, err);
    if (r < 0)
        return r;
    r = ak_store_review_latest(st, &at, &json);
    ak_store_close(st);
    if (r == AK_ENOTFOUND)
        return ak_err(err, r, "no daily review has run yet.");
    if (r < 0)
        return ak_err(err, r, "cannot read the latest review.");
    struct ak_json *j = ak_json_parse(json, strlen(json), err);
    free(json);
    if (!j)
        return AK_ECORRUPT;
    *ret = j;
    return AK_OK;
}

int mon_daily_review(struct ak_mon *m, int64_t now, struct ak_buf *err)
{
    struct ak_mon_review_req req = {.now_ms = now};
    struct ak_json *j = NULL;
    int r = ak_mon_review(m, &req, &j, err);
    if (r < 0)
        return r;
    char *text = ak_json_dump(j, AK_JSON_COMPACT);
    ak_json_free(j);
    pthread_mutex_lock(&m->mu);
    r = ak_store_begin(m->wst); /* the insert and the trimming to the newest 60 go together */
    if (r == AK_OK)
        r = ak_store_review_put(m->wst, now, text);
    if (r == AK_OK)
        r = ak_store_commit(m->wst);
    else
        ak_store_rollback(m->wst);
    pthread_mutex_unlock(&m->mu);
    free(text);
    return r < 0 ? ak_err(err, r, "cannot store the daily review.") : AK_OK;
}
