/* review.c — ak_review_run: screening, growth and days-to-limit, level shifts, gaps, ranking
 * (docs/internals/review.md). */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_review.h"
#include "asakai/ak_stats.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"
#include "src/review/review_int.h"

#define TS_CAP 1000000000000000LL /* |times| ≤ 1e15 ms (year ~33700): no overflow in sums */
#define SHIFT_WINDOW_MS (72 * REVIEW_HOUR_MS)
#define SHIFT_MIN_MS (24 * REVIEW_HOUR_MS)
#define PETTITT_MIN_DAYS 5
#define REVIEW_MIN_SHARE 16 /* fewest series per growth thread */
#define REVIEW_MAX_THREADS 64
#define PETTITT_REFINE 7 /* days around Pettitt's change searched for the step */

/* Per-series state carried from the growth pass to the shift pass. */
struct sres {
    bool ok;                   /* screened: finite, enough points, not constant */
    bool tested, sig;
    bool found;                /* a growth or days-to-limit finding was emitted */
    struct review_growth g;
    double q, scale, level, per_day, span_days;
    double slope_day, lo_day, hi_day, pct;
    double own;                /* median |value|: the series' own level */
};

struct shift_cand {
    size_t si;
    const struct ak_review_deploy *dep; /* NULL for a Pettitt change point */
    double p, q, before, shift, pct;
    int64_t at_ms;
    size_t n;
    bool trend;                         /* Pettitt: a side drifts (a trend, not a step) */
};

struct flist {
    struct ak_review_finding *v;
    size_t n, alloc;
};

static struct ak_review_finding *add_finding(struct flist *l, enum ak_review_kind kind,
                                             const struct ak_review_series *s,
                                             const struct ak_review_opts *o)
{
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 16;
        l->v = ak_xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    struct ak_review_finding *f = &l->v[l->n++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->service = ak_xstrdup(s->service ? s->service : "");
    f->series = ak_xstrdup(s->key ? s->key : "");
    f->metric = ak_xstrdup(s->metric ? s->metric : "");
    f->instance = ak_xstrdup(s->instance ? s->instance : "");
    f->link = review_link(o->link_prefix, s->key);
    f->confidence = 1;
    f->p = f->q = NAN;
    f->slope_per_day = f->slope_lo = f->slope_hi = f->pct_per_day = NAN;
    f->days = f->days_lo = f->days_hi = NAN;
    f->limit = f->level = f->shift = f->shift_pct = NAN;
    return f;
}

static void finding_release(struct ak_review_finding *f)
{
    free(f->service);
    free(f->series);
    free(f->metric);
    free(f->instance);
    free(f->text);
    free(f->link);
    free(f->limit_name);
    free(f->version);
}

void ak_review_result_release(struct ak_review_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_findings; i++)
        finding_release(&r->findings[i]);
    free(r->findings);
    memset(r, 0, sizeof(*r));
}

static bool ts_ok(int64_t t)
{
    return t >= -TS_CAP && t <= TS_CAP;
}

static bool pos_num(double v)
{
    return isfinite(v) && v >= 0;
}

static int check_series(const struct ak_review_series *s, size_t i, struct ak_buf *err)
{
    if (s->step_ms <= 0 || s->step_ms > 30 * REVIEW_DAY_MS)
        return ak_err(err, AK_EINVAL, "Series %zu (%s) has step_ms %" PRId64
                      "; it must be between 1 ms and 30 days.", i, s->key ? s->key : "?",
                      s->step_ms);
    if (s->n > AK_REVIEW_MAX_POINTS)
        return ak_err(err, AK_EINVAL, "Series %zu (%s) has %zu points; at most %d are allowed.",
                      i, s->key ? s->key : "?", s->n, AK_REVIEW_MAX_POINTS);
    if ((s->n && !s->v) || (s->n_restarts && !s->restarts))
        return ak_err(err, AK_EINVAL, "Series %zu (%s) has a count without an array.", i,
                      s->key ? s->key : "?");
    if (!ts_ok(s->start_ms) || !ts_ok(s->first_ms) || !ts_ok(s->last_ms))
        return ak_err(err, AK_EINVAL, "Series %zu (%s) has a time outside ±1e15 ms.", i,
                      s->key ? s->key : "?");
    for (size_t k = 0; k < s->n_restarts; k++)
        if (!ts_ok(s->restarts[k]))
            return ak_err(err, AK_EINVAL, "Series %zu (%s) has a restart time outside ±1e15 ms.",
                          i, s->key ? s->key : "?");
    return AK_OK;
}

static int check_opts(const struct ak_review_series *series, size_t n,
                      const struct ak_review_opts *o, struct ak_buf *err)
{
    if (!o)
        return ak_err(err, AK_EINVAL, "The review needs options.");
    if (n > AK_REVIEW_MAX_SERIES)
        return ak_err(err, AK_ETOOBIG, "The review got %zu series; at most %d are allowed.", n,
                      AK_REVIEW_MAX_SERIES);
    if (n && !series)
        return ak_err(err, AK_EINVAL, "The review got a series count without series.");
    if (!(o->fdr_q > 0 && o->fdr_q < 1))
        return ak_err(err, AK_EINVAL, "fdr_q must be in (0, 1), got %g.", o->fdr_q);
    if (!pos_num(o->min_growth_pct) || !pos_num(o->min_shift_pct) || !pos_num(o->days_horizon))
        return ak_err(err, AK_EINVAL, "min_growth_pct, min_shift_pct and days_horizon must be "
                      "finite and not negative.");
    if (o->warmup_ms < 0 || o->warmup_ms > TS_CAP || o->stale_ms < 0 || o->stale_ms > TS_CAP ||
        !ts_ok(o->now_ms))
        return ak_err(err, AK_EINVAL, "warmup_ms, stale_ms and now_ms must be within 0..1e15 "
                      "ms (now_ms ±1e15).");
    if (o->threads < 0 || o->threads > REVIEW_MAX_THREADS)
        return ak_err(err, AK_EINVAL, "threads must be between 0 and %d, got %d.",
                      REVIEW_MAX_THREADS, o->threads);
    if (o->n_deploys && !o->deploys)
        return ak_err(err, AK_EINVAL, "The review got a deploy count without deploys.");
    for (size_t i = 0; i < o->n_deploys; i++) {
        if (!ts_ok(o->deploys[i].at_ms))
            return ak_err(err, AK_EINVAL, "Deploy %zu has a time outside ±1e15 ms.", i);
        if (i && o->deploys[i].at_ms < o->deploys[i - 1].at_ms)
            return ak_err(err, AK_EINVAL, "Deploys must be sorted by at_ms; deploy %zu is "
                          "earlier than deploy %zu.", i, i - 1);
    }
    for (size_t i = 0; i < n; i++) {
        int r = check_series(&series[i], i, err);
        if (r)
            return r;
    }
    return AK_OK;
}

/* Median of the last k non-NaN values of x (NaN when none). */
static double last_level(const double *x, size_t n, size_t k)
{
    double *t = ak_xmalloc((k ? k : 1) * sizeof(*t));
    size_t m = 0;
    for (size_t i = n; i > 0 && m < k; i--)
        if (!isnan(x[i - 1]))
            t[m++] = x[i - 1];
    double r = m ? review_median(t, m) : NAN;
    free(t);
    return r;
}

static size_t min_points(const struct ak_review_series *s, const struct ak_review_opts *o)
{
    if (o->min_points)
        return o->min_points;
    return s->step_ms == REVIEW_HOUR_MS ? 72 : 30;
}

/* Screens the masked x and runs the growth test; fills *r. */
static void growth_one(const struct ak_review_series *s, const struct ak_review_opts *o,
                       const double *x, struct review_scratch *sc, struct ak_review_result *res,
                       struct sres *r)
{
    size_t nn = 0, first = 0, last = 0;
    double *tmp = NULL;
    bool constant = true;

    for (size_t i = 0; i < s->n; i++) {
        if (isinf(x[i])) {
            res->n_short++;
            return;
        }
        if (isnan(x[i]))
            continue;
        if (nn && x[i] != x[first])
            constant = false;
        if (!nn)
            first = i;
        last = i;
        nn++;
    }
    if (nn < min_points(s, o) || nn < 3) {
        res->n_short++;
        return;
    }
    if (constant) {
        res->n_constant++;
        return;
    }
    r->ok = true;
    r->per_day = (double)REVIEW_DAY_MS / (double)s->step_ms;
    r->span_days = (double)(last - first + 1) / r->per_day;
    r->level = last_level(x, s->n, (size_t)fmax(1, nearbyint(r->per_day)));
    if (review_growth_test(s, o, x, sc, &r->g) != AK_OK) {
        res->n_short++;
        return;
    }
    r->tested = true;
    res->n_tested++;
    tmp = ak_xmalloc(nn * sizeof(*tmp));
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!isnan(x[i]))
            tmp[m++] = fabs(x[i]);
    r->own = review_median(tmp, m);
    free(tmp);
    if (isfinite(s->scale) && s->scale != 0)
        r->scale = fabs(s->scale);
    else if (isfinite(s->limit) && s->limit != 0)
        r->scale = fabs(s->limit);
    else
        r->scale = r->own;
    r->slope_day = r->g.sen.slope * r->per_day;
    r->lo_day = r->g.sen.lo * r->per_day;
    r->hi_day = r->g.sen.hi * r->per_day;
    r->pct = r->scale > 0 ? 100 * r->slope_day / r->scale : NAN;
}

static void fill_slope(struct ak_review_finding *f, const struct sres *r, size_t n)
{
    f->p = r->g.p;
    f->q = r->q;
    f->confidence = 1 - r->q;
    f->slope_per_day = r->slope_day;
    f->slope_lo = r->lo_day;
    f->slope_hi = r->hi_day;
    f->pct_per_day = r->pct;
    f->level = r->level;
    f->n = n;
}

/* The rate unit of the sentences from the span of the data: per day from 2 days, per hour from
 * 2 hours, else per minute (a 2-minute raw window reads "12 %/min", not "441503.7 %/day").
 * *per = units per day. */
static const char *rate_unit(const struct sres *r, double *per)
{
    double h = r->span_days * 24;

    *per = h >= 48 ? 1 : h >= 2 ? 24 : 1440;
    return h >= 48 ? "day" : h >= 2 ? "h" : "min";
}

/* A rate in %: one decimal per day (as always), else 2–3 significant digits ("12", "1.5"). */
static void fmt_pct(double v, double per, char *out, size_t cap)
{
    double a = fabs(v) / per;
    /* thresholds on the rounded value: 0.99999 prints "1.0", 9.99 prints "10" */
    if (per == 1 || (a >= 0.95 && a < 9.95))
        snprintf(out, cap, "%.1f", a);
    else if (a >= 9.95)
        snprintf(out, cap, "%.0f", a);
    else
        snprintf(out, cap, "%.2g", a);
}

/* "for 14 days", "for 6 h", "for 2 min": the span of the data. */
static void fmt_span(double days, char *out, size_t cap)
{
    double h = days * 24;
    if (h >= 48)
        snprintf(out, cap, "%.0f days", days);
    else if (h >= 2)
        snprintf(out, cap, "%.0f h", h);
    else
        snprintf(out, cap, "%.0f min", h * 60);
}

/* "1.8 %/day" or "120 MiB/day" when there is no scale; per hour or minute on short spans. */
static void fmt_rate(const struct ak_review_series *s, const struct sres *r, char *out,
                     size_t cap)
{
    char v[48];
    double per;
    const char *u = rate_unit(r, &per);

    if (isfinite(r->pct)) {
        fmt_pct(r->pct, per, v, sizeof(v));
        snprintf(out, cap, "%s %%/%s", v, u);
    } else {
        ak_review_format_value(fabs(r->slope_day) / per, s->unit, v, sizeof(v));
        snprintf(out, cap, "%s/%s", v, u);
    }
}

static void emit_days(struct flist *l, const struct ak_review_series *s,
                      const struct ak_review_opts *o, const struct sres *r,
                      const struct ak_stats_days *d)
{
    struct ak_review_finding *f = add_finding(l, AK_REVIEW_DAYS_TO_LIMIT, s, o);
    char *subj = review_subject(s, true), rate[64], dd[32], lo[32], hi[32], lim[64];

    fill_slope(f, r, r->g.used);
    f->days = d->days;
    f->days_lo = d->lo;
    f->days_hi = d->hi;
    f->limit = s->limit;
    f->limit_name = ak_xstrdup(s->limit_name);
    review_fmt_days(d->days, dd, sizeof(dd));
    review_fmt_days(d->lo, lo, sizeof(lo));
    if (isfinite(d->hi))
        review_fmt_days(d->hi, hi, sizeof(hi));
    fmt_rate(s, r, rate, sizeof(rate));
    if (s->limit_name && *s->limit_name)
        snprintf(lim, sizeof(lim), "%s", s->limit_name);
    else
        ak_review_format_value(s->limit, s->unit, lim, sizeof(lim));
    if (review_is_disk(s->metric))
        f->text = ak_xasprintf("%s fills in ~%s days (%s%s%s)", subj, dd, lo,
                               isfinite(d->hi) ? "–" : " or more", isfinite(d->hi) ? hi : "");
    else
        f->text = ak_xasprintf("%s %s %s; reaches %s in ~%s days (%s%s%s)", subj,
                               r->slope_day >= 0 ? "grows" : "falls", rate, lim, dd, lo,
                               isfinite(d->hi) ? "–" : " or more", isfinite(d->hi) ? hi : "");
    free(subj);
}

static void emit_growth(struct flist *l, const struct ak_review_series *s,
                        const struct ak_review_opts *o, const struct sres *r)
{
    struct ak_review_finding *f = add_finding(l, AK_REVIEW_GROWTH, s, o);
    char *subj = review_subject(s, false), rate[64], rng[96], span[32];

    fill_slope(f, r, r->g.used);
    if (isfinite(s->limit)) {
        f->limit = s->limit;
        f->limit_name = ak_xstrdup(s->limit_name);
    }
    fmt_rate(s, r, rate, sizeof(rate));
    if (isfinite(r->pct)) {
        double a = fabs(100 * r->lo_day / r->scale), b = fabs(100 * r->hi_day / r->scale), per;
        char x[32], y[32];
        rate_unit(r, &per);
        fmt_pct(fmin(a, b), per, x, sizeof(x));
        fmt_pct(fmax(a, b), per, y, sizeof(y));
        snprintf(rng, sizeof(rng), " (%s–%s)", x, y);
    } else {
        rng[0] = 0;
    }
    fmt_span(r->span_days, span, sizeof(span));
    f->text = ak_xasprintf("%s %s %s%s for %s", subj, r->slope_day >= 0 ? "grows" : "falls",
                           rate, rng, span);
    free(subj);
}

/* Days-to-limit or growth finding for a series whose test is significant after BH. */
static void growth_findings(struct flist *l, const struct ak_review_series *s,
                            const struct ak_review_opts *o, const double *x, const struct sres *r)
{
    bool has_limit = isfinite(s->limit);

    if (has_limit) {
        struct ak_stats_days d;
        size_t k = (size_t)fmax(1, nearbyint(r->per_day));
        if (ak_stats_days_to_limit(x, s->n, k, s->limit, r->per_day, &r->g.sen, &d) == AK_OK &&
            d.reaching && d.days <= o->days_horizon) {
            emit_days(l, s, o, r, &d);
            return;
        }
        /* beyond the horizon: growth only when it heads to the limit */
        if (!((s->limit > r->level && r->slope_day > 0) ||
              (s->limit < r->level && r->slope_day < 0)))
            return;
    } else if (!(r->slope_day > 0)) {
        return;
    }
    if (isfinite(r->pct) && fabs(r->pct) >= o->min_growth_pct) {
        emit_growth(l, s, o, r);
        return;
    }
    /* A process leaking 3 %/day of its own size is far from 2 % of the host's MemTotal per day
     * and may be months from it: the limit would hide the leak. The gate also passes on the
     * series' own level, and the sentence then speaks of that. */
    if (r->own > 0 && r->scale != r->own && fabs(100 * r->slope_day / r->own) >=
                                                 o->min_growth_pct) {
        struct sres own = *r;
        own.scale = r->own;
        own.pct = 100 * r->slope_day / r->own;
        emit_growth(l, s, o, &own);
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static size_t hour_of_day(const struct ak_review_series *s, size_t i)
{
    int64_t t = s->start_ms + (int64_t)i * s->step_ms;
    return (size_t)((t - floor_div(t, REVIEW_DAY_MS) * REVIEW_DAY_MS) / REVIEW_HOUR_MS);
}

static size_t count_valid(const double *x, size_t a, size_t e)
{
    size_t m = 0;
    for (size_t i = a; i < e; i++)
        m += !isnan(x[i]);
    return m;
}

/* Window bounds of deploy k of s's service: up to 72 h before (not before the previous deploy)
 * and up to 72 h after the warm-up (not past the next deploy). */
static bool deploy_windows(const struct ak_review_series *s, const struct ak_review_opts *o,
                           size_t k, size_t w[4])
{
    const struct ak_review_deploy *d = &o->deploys[k];
    int64_t lo = d->at_ms - SHIFT_WINDOW_MS, hi = d->at_ms + o->warmup_ms + SHIFT_WINDOW_MS;

    for (size_t j = k; j > 0; j--)
        if (ak_streq(o->deploys[j - 1].service, s->service)) {
            lo = o->deploys[j - 1].at_ms > lo ? o->deploys[j - 1].at_ms : lo;
            break;
        }
    for (size_t j = k + 1; j < o->n_deploys; j++)
        if (ak_streq(o->deploys[j].service, s->service)) {
            hi = o->deploys[j].at_ms < hi ? o->deploys[j].at_ms : hi;
            break;
        }
    w[0] = review_index_at(s, lo);
    w[1] = review_index_at(s, d->at_ms);
    w[2] = review_index_at(s, d->at_ms + o->warmup_ms);
    w[3] = review_index_at(s, hi);
    return w[2] < w[3];
}

static void deploy_shift(const struct ak_review_series *s, const struct ak_review_opts *o,
                         const double *x, size_t si, size_t k, struct shift_cand *c, size_t *nc)
{
    size_t w[4], n1 = 0, n2 = 0;
    bool in1[24] = {false}, in2[24] = {false};
    double *b = NULL, *a = NULL;
    struct ak_stats_shift sh;

    if (!deploy_windows(s, o, k, w) ||
        (int64_t)count_valid(x, w[0], w[1]) * s->step_ms < SHIFT_MIN_MS ||
        (int64_t)count_valid(x, w[2], w[3]) * s->step_ms < SHIFT_MIN_MS)
        return;
    for (size_t i = w[0]; i < w[1]; i++)
        if (!isnan(x[i]))
            in1[hour_of_day(s, i)] = true;
    for (size_t i = w[2]; i < w[3]; i++)
        if (!isnan(x[i]))
            in2[hour_of_day(s, i)] = true;
    b = ak_xmalloc((w[1] - w[0]) * sizeof(*b));
    a = ak_xmalloc((w[3] - w[2]) * sizeof(*a));
    for (size_t i = w[0]; i < w[1]; i++)
        if (!isnan(x[i]) && in2[hour_of_day(s, i)])
            b[n1++] = x[i];
    for (size_t i = w[2]; i < w[3]; i++)
        if (!isnan(x[i]) && in1[hour_of_day(s, i)])
            a[n2++] = x[i];
    if (ak_stats_shift(b, n1, a, n2, &sh) == AK_OK) {
        struct shift_cand *e = &c[(*nc)++];
        e->si = si;
        e->dep = &o->deploys[k];
        e->trend = false;
        e->p = sh.p;
        e->before = review_median(b, n1);
        e->shift = sh.shift;
        e->pct = e->before != 0 ? 100 * sh.shift / fabs(e->before) : NAN;
        e->at_ms = o->deploys[k].at_ms;
        e->n = n1 + n2;
    }
    free(b);
    free(a);
}

static double median_nonnan(const double *v, size_t a, size_t e)
{
    double *t = ak_xmalloc((e > a ? e - a : 1) * sizeof(*t));
    size_t m = 0;
    for (size_t i = a; i < e; i++)
        if (!isnan(v[i]))
            t[m++] = v[i];
    double r = m ? review_median(t, m) : NAN;
    free(t);
    return r;
}

/* Whether the daily means day[a..e) are flat enough to be one side of a level shift: not a
 * trend that is both significant (MK p < 0.05) and drifts by ≥ drift_max over the side (Sen
 * slope × span). A trend split in two leaves two sloped sides and is no level shift. */
static bool side_flat(const double *day, size_t a, size_t e, double drift_max)
{
    struct ak_stats_mk mk;
    struct ak_stats_sen sen;
    size_t first = e, last = a;

    for (size_t i = a; i < e; i++)
        if (!isnan(day[i])) {
            first = first < i ? first : i;
            last = i;
        }
    if (count_valid(day, a, e) < 3 || ak_stats_mk(day + a, e - a, &mk) != AK_OK ||
        ak_stats_sen(day + a, e - a, 0.05, &sen) != AK_OK)
        return true;
    return !(mk.p < 0.05 && fabs(sen.slope) * (double)(last - first) >= drift_max);
}

/* Σ |day − median| over the non-NaN days of day[a..e) (0 when none). */
static double abs_dev(const double *day, size_t a, size_t e)
{
    double med = median_nonnan(day, a, e), sum = 0;
    for (size_t i = a; i < e; i++)
        if (!isnan(day[i]))
            sum += fabs(day[i] - med);
    return isnan(med) ? 0 : sum;
}

/* Pettitt places the change where the rank sums differ most, which on a drifting side can be a
 * few days off the step; the least-absolute-deviation step fit within ±PETTITT_REFINE days of it
 * finds the day itself (each side keeps ≥ 2 days). Returns the last day of the first side. */
static size_t refine_change(const double *day, size_t nd, size_t k)
{
    size_t best = k, lo = k > PETTITT_REFINE ? k - PETTITT_REFINE : 0;
    double best_cost = abs_dev(day, 0, k + 1) + abs_dev(day, k + 1, nd);

    for (size_t j = lo; j <= k + PETTITT_REFINE && j + 1 < nd; j++) {
        if (j == k || count_valid(day, 0, j + 1) < 2 || count_valid(day, j + 1, nd) < 2)
            continue;
        double cost = abs_dev(day, 0, j + 1) + abs_dev(day, j + 1, nd);
        if (cost < best_cost) {
            best_cost = cost;
            best = j;
        }
    }
    return best;
}

/* Daily means of the masked x (a UTC day counts with at least half its steps present) into
 * day[0..nd); returns the number of valid days. */
static size_t daily_means(const struct ak_review_series *s, const double *x, int64_t day0,
                          size_t nd, double *day)
{
    size_t need = s->step_ms >= REVIEW_DAY_MS ? 1 : (size_t)(REVIEW_DAY_MS / s->step_ms / 2);
    double *cnt = ak_xcalloc(nd, sizeof(*cnt));
    size_t valid = 0;

    for (size_t i = 0; i < s->n; i++)
        if (!isnan(x[i])) {
            size_t d = (size_t)(floor_div(s->start_ms + (int64_t)i * s->step_ms, REVIEW_DAY_MS) -
                                day0);
            day[d] += x[i];
            cnt[d]++;
        }
    for (size_t d = 0; d < nd; d++) {
        day[d] = cnt[d] >= (double)(need ? need : 1) ? day[d] / cnt[d] : NAN;
        valid += !isnan(day[d]);
    }
    free(cnt);
    return valid;
}

/* Pettitt on the UTC-daily means, the change day refined (refine_change). The test joins the BH
 * family; trend is set unless both sides are flat (side_flat, drift up to half the shift or half
 * the gate): a trend split in two is no level shift, and that gate, like the % gate, applies
 * after BH. */
static void pettitt_shift(const struct ak_review_series *s, const struct ak_review_opts *o,
                          const double *x, size_t si, struct shift_cand *c, size_t *nc)
{
    int64_t day0 = floor_div(s->start_ms, REVIEW_DAY_MS);
    int64_t dl = floor_div(s->start_ms + (int64_t)(s->n - 1) * s->step_ms, REVIEW_DAY_MS);
    size_t nd = (size_t)(dl - day0 + 1), valid, k;
    double *day = NULL;
    struct ak_stats_pettitt pt;

    if (nd < PETTITT_MIN_DAYS || nd > AK_REVIEW_MAX_POINTS)
        return;
    day = ak_xcalloc(nd, sizeof(*day));
    valid = daily_means(s, x, day0, nd, day);
    if (valid < PETTITT_MIN_DAYS || ak_stats_pettitt(day, nd, &pt) != AK_OK ||
        count_valid(day, 0, pt.index + 1) < 2 || count_valid(day, pt.index + 1, nd) < 2)
        goto out;
    k = refine_change(day, nd, pt.index);
    struct shift_cand e = {.si = si, .dep = NULL, .p = pt.p, .n = valid};
    e.before = median_nonnan(day, 0, k + 1);
    e.shift = median_nonnan(day, k + 1, nd) - e.before;
    e.pct = e.before != 0 ? 100 * e.shift / fabs(e.before) : NAN;
    e.at_ms = (day0 + (int64_t)k + 1) * REVIEW_DAY_MS;
    /* the day on each side of the change may mix both levels: left out of the check */
    double drift_max = fmax(o->min_shift_pct / 100 * fabs(e.before), fabs(e.shift)) / 2;
    e.trend = !side_flat(day, 0, k, drift_max) ||
              !side_flat(day, k + 2 < nd ? k + 2 : nd, nd, drift_max);
    c[(*nc)++] = e;
out:
    free(day);
}

static bool deploy_in_window(const struct ak_review_series *s, const struct ak_review_deploy *d)
{
    return s->service && *s->service && ak_streq(d->service, s->service) &&
           d->at_ms > s->start_ms && d->at_ms < s->start_ms + (int64_t)s->n * s->step_ms;
}

static void emit_shift(struct flist *l, const struct ak_review_series *s,
                       const struct ak_review_opts *o, const struct shift_cand *c)
{
    struct ak_review_finding *f = add_finding(l, AK_REVIEW_LEVEL_SHIFT, s, o);
    char *subj = review_subject(s, false), b[64], a[64], when[64];

    f->p = c->p;
    f->q = c->q;
    f->confidence = 1 - c->q;
    f->shift = c->shift;
    f->shift_pct = c->pct;
    f->level = c->before + c->shift;
    f->at_ms = c->at_ms;
    f->n = c->n;
    ak_review_format_value(c->before, s->unit, b, sizeof(b));
    ak_review_format_value(c->before + c->shift, s->unit, a, sizeof(a));
    review_fmt_time(c->at_ms, when, sizeof(when));
    if (c->dep) {
        const char *v = c->dep->version;
        f->version = ak_xstrdup(v);
        f->text = ak_xasprintf("%s %s %.0f %% (%s → %s) after deploy %s%s(%s)", subj,
                               c->shift > 0 ? "rose" : "fell", fabs(c->pct), b, a,
                               v && *v ? v : "", v && *v ? " " : "", when);
    } else {
        f->text = ak_xasprintf("%s %s %.0f %% (%s → %s) around %s (no deploy recorded)", subj,
                               c->shift > 0 ? "rose" : "fell", fabs(c->pct), b, a, when);
    }
    free(subj);
}

/* Level shifts: deploy comparisons and Pettitt for every screened series, one BH family. */
static void shift_pass(const struct ak_review_series *series, size_t n,
                       const struct ak_review_opts *o, const struct sres *rs, struct flist *l)
{
    struct shift_cand *c = NULL;
    size_t nc = 0, cap = 0;
    double *p = NULL, *q = NULL;
    bool *rej = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct ak_review_series *s = &series[i];
        bool any = false;
        if (!rs[i].ok)
            continue;
        double *x = ak_xmalloc(s->n * sizeof(*x));
        review_mask(s, o, x);
        for (size_t k = 0; k < o->n_deploys; k++) {
            if (!deploy_in_window(s, &o->deploys[k]))
                continue;
            any = true;
            if (nc == cap) {
                cap = cap ? 2 * cap : 64;
                c = ak_xrealloc(c, cap * sizeof(*c));
            }
            deploy_shift(s, o, x, i, k, c, &nc);
        }
        if (!any && !rs[i].found) {
            if (nc == cap) {
                cap = cap ? 2 * cap : 64;
                c = ak_xrealloc(c, cap * sizeof(*c));
            }
            pettitt_shift(s, o, x, i, c, &nc);
        }
        free(x);
    }
    p = ak_xmalloc((nc ? nc : 1) * sizeof(*p));
    q = ak_xmalloc((nc ? nc : 1) * sizeof(*q));
    rej = ak_xmalloc((nc ? nc : 1) * sizeof(*rej));
    for (size_t i = 0; i < nc; i++)
        p[i] = c[i].p;
    if (nc && ak_stats_bh(p, nc, o->fdr_q, false, q, rej, NULL) == AK_OK)
        for (size_t i = 0; i < nc; i++) {
            c[i].q = q[i];
            if (rej[i] && !c[i].trend && isfinite(c[i].pct) &&
                fabs(c[i].pct) >= o->min_shift_pct)
                emit_shift(l, &series[c[i].si], o, &c[i]);
        }
    free(c);
    free(p);
    free(q);
    free(rej);
}

static int64_t stale_after(const struct ak_review_series *s, const struct ak_review_opts *o)
{
    return o->stale_ms > 0 ? o->stale_ms : 3 * s->step_ms;
}

static bool is_stale(const struct ak_review_series *s, const struct ak_review_opts *o)
{
    return o->now_ms - s->last_ms > stale_after(s, o);
}

/* Order of series indices by (service, metric, first_ms) for the rename search. */
static int cmp_smf(const void *a, const void *b, const struct ak_review_series *v)
{
    const struct ak_review_series *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
    int c = strcmp(x->service ? x->service : "", y->service ? y->service : "");
    if (!c)
        c = strcmp(x->metric ? x->metric : "", y->metric ? y->metric : "");
    if (!c)
        c = (x->first_ms > y->first_ms) - (x->first_ms < y->first_ms);
    if (!c)
        c = (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
    return c;
}

/* qsort has no context argument in C11: sort by merging with an explicit comparator. */
static void sort_idx(size_t *idx, size_t n, const struct ak_review_series *v, size_t *tmp)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_idx(idx, h, v, tmp);
    sort_idx(idx + h, n - h, v, tmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_smf(&idx[i], &idx[j], v) <= 0 ? idx[i++] : idx[j++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof(*idx));
}

static const char *svc(const struct ak_review_series *s)
{
    return s->service ? s->service : "";
}

/* First position in idx whose series' service is ≥ name. */
static size_t service_lb(const struct ak_review_series *v, const size_t *idx, size_t n,
                         const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(svc(&v[idx[mid]]), name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool same_run(const struct ak_review_series *x, const struct ak_review_series *y)
{
    return ak_streq(svc(x), svc(y)) && ak_streq(x->metric, y->metric);
}

/* The metric that appeared in A's service within ±2 steps of A's last sample and had no series
 * before that, with a series still reporting (NULL when none). idx is sorted by (service,
 * metric, first_ms): the first series of each (service, metric) run is the metric's first
 * appearance. */
static const char *rename_of(const struct ak_review_series *v, const size_t *idx, size_t n,
                             size_t ai, const struct ak_review_opts *o)
{
    const struct ak_review_series *a = &v[ai];
    int64_t tol = 2 * a->step_ms;

    if (!*svc(a))
        return NULL;
    for (size_t k = service_lb(v, idx, n, svc(a)); k < n && ak_streq(svc(&v[idx[k]]), svc(a));) {
        const struct ak_review_series *b = &v[idx[k]];
        size_t j = k;
        bool fresh = !ak_streq(b->metric, a->metric) && b->first_ms >= a->last_ms - tol &&
                     b->first_ms <= a->last_ms + tol, live = false;
        for (; j < n && same_run(&v[idx[j]], b); j++)
            live = live || !is_stale(&v[idx[j]], o);
        if (fresh && live)
            return b->metric;
        k = j;
    }
    return NULL;
}

struct rename_seen {
    const char *service, *from, *to;
};

static void gap_pass(const struct ak_review_series *v, size_t n, const struct ak_review_opts *o,
                     struct flist *l)
{
    size_t *idx = ak_xmalloc((n ? n : 1) * sizeof(*idx)), *tmp = NULL;
    struct rename_seen *seen = NULL;
    size_t nseen = 0;
    char age[64];

    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    tmp = ak_xmalloc((n ? n : 1) * sizeof(*tmp));
    sort_idx(idx, n, v, tmp);
    free(tmp);
    for (size_t i = 0; i < n; i++) {
        const struct ak_review_series *s = &v[i];
        struct ak_review_finding *f;
        if (is_stale(s, o)) {
            const char *to = rename_of(v, idx, n, i, o);
            bool dup = false;
            for (size_t k = 0; to && k < nseen && !dup; k++)
                dup = ak_streq(seen[k].service, svc(s)) && ak_streq(seen[k].from, s->metric) &&
                      ak_streq(seen[k].to, to);
            if (dup)
                continue;
            f = add_finding(l, AK_REVIEW_GAP, s, o);
            f->at_ms = s->last_ms;
            if (to) {
                seen = ak_xrealloc(seen, (nseen + 1) * sizeof(*seen));
                seen[nseen++] = (struct rename_seen){svc(s), s->metric, to};
                f->text = ak_xasprintf("metric %s of %s vanished when %s appeared (renamed?)",
                                       s->metric, svc(s), to);
            } else {
                char *subj = review_subject(s, false);
                review_fmt_age(o->now_ms - s->last_ms, age, sizeof(age));
                f->text = ak_xasprintf("%s stopped reporting %s ago", subj, age);
                free(subj);
            }
        } else if (ak_streq(s->metric, "up") && s->last_value == 0) {
            const char *inst = s->instance && *s->instance ? s->instance : s->key;
            f = add_finding(l, AK_REVIEW_GAP, s, o);
            f->at_ms = s->last_ms;
            if (*svc(s))
                f->text = ak_xasprintf("target %s of %s is down", inst, svc(s));
            else
                f->text = ak_xasprintf("target %s is down", inst);
        }
    }
    free(seen);
    free(idx);
}

static int kind_order(enum ak_review_kind k)
{
    return k == AK_REVIEW_DAYS_TO_LIMIT ? 0 : k == AK_REVIEW_GROWTH ? 1
                                          : k == AK_REVIEW_LEVEL_SHIFT ? 2 : 3;
}

static int cmp_dbl(double a, double b)
{
    return (a > b) - (a < b);
}

static int cmp_finding(const void *pa, const void *pb)
{
    const struct ak_review_finding *a = pa, *b = pb;
    int c = kind_order(a->kind) - kind_order(b->kind);

    if (!c && a->kind == AK_REVIEW_DAYS_TO_LIMIT)
        c = cmp_dbl(a->days, b->days);
    if (!c && a->kind == AK_REVIEW_GROWTH)
        c = cmp_dbl(fabs(b->pct_per_day), fabs(a->pct_per_day));
    if (!c && a->kind == AK_REVIEW_LEVEL_SHIFT)
        c = cmp_dbl(fabs(b->shift_pct), fabs(a->shift_pct));
    if (!c)
        c = strcmp(a->series, b->series);
    if (!c)
        c = (a->at_ms > b->at_ms) - (a->at_ms < b->at_ms);
    if (!c)
        c = strcmp(a->text, b->text);
    return c;
}

/* A contiguous share of the growth tests (series are independent): own scratch and counters. */
struct growth_job {
    const struct ak_review_series *series;
    const struct ak_review_opts *o;
    struct sres *rs;
    double *p;
    size_t from, to;
    struct ak_review_result counts; /* n_short, n_tested, n_constant of the share */
};

static void *growth_job_run(void *arg)
{
    struct growth_job *j = arg;
    struct review_scratch sc = {0};

    for (size_t i = j->from; i < j->to; i++) {
        const struct ak_review_series *s = &j->series[i];
        double *x = ak_xmalloc((s->n ? s->n : 1) * sizeof(*x));
        review_mask(s, j->o, x);
        growth_one(s, j->o, x, &sc, &j->counts, &j->rs[i]);
        j->p[i] = j->rs[i].tested ? j->rs[i].g.p : NAN;
        free(x);
    }
    review_scratch_release(&sc);
    return NULL;
}

/* Growth tests of all series on opts->threads threads (the caller's among them); a thread that
 * cannot be started leaves its share to the caller. Same results for any thread count. */
static void growth_pass(const struct ak_review_series *series, size_t n,
                        const struct ak_review_opts *o, struct sres *rs, double *p,
                        struct ak_review_result *res)
{
    size_t nt = o->threads > 1 ? (size_t)o->threads : 1;
    struct growth_job *jobs = NULL;
    pthread_t *tid = NULL;
    bool *started = NULL;

    if (nt > n / REVIEW_MIN_SHARE)
        nt = n / REVIEW_MIN_SHARE ? n / REVIEW_MIN_SHARE : 1;
    jobs = ak_xcalloc(nt, sizeof(*jobs));
    tid = ak_xcalloc(nt, sizeof(*tid));
    started = ak_xcalloc(nt, sizeof(*started));
    for (size_t t = 0; t < nt; t++)
        jobs[t] = (struct growth_job){series, o, rs, p, n * t / nt, n * (t + 1) / nt, {0}};
    for (size_t t = 1; t < nt; t++)
        started[t] = pthread_create(&tid[t], NULL, growth_job_run, &jobs[t]) == 0;
    for (size_t t = 0; t < nt; t++) {
        if (t == 0 || !started[t])
            growth_job_run(&jobs[t]);
        else
            pthread_join(tid[t], NULL);
        res->n_short += jobs[t].counts.n_short;
        res->n_tested += jobs[t].counts.n_tested;
        res->n_constant += jobs[t].counts.n_constant;
    }
    free(jobs);
    free(tid);
    free(started);
}

int ak_review_run(const struct ak_review_series *series, size_t n,
                  const struct ak_review_opts *opts, struct ak_review_result *ret,
                  struct ak_buf *err)
{
    struct sres *rs = NULL;
    struct flist l = {0};
    double *p = NULL, *q = NULL;
    bool *rej = NULL;
    struct ak_review_result res = {0};
    int r;

    if (!ret)
        return ak_err(err, AK_EINVAL, "The review needs a result.");
    r = check_opts(series, n, opts, err);
    if (r)
        goto out;
    res.n_series = n;
    rs = ak_xcalloc(n ? n : 1, sizeof(*rs));
    p = ak_xmalloc((n ? n : 1) * sizeof(*p));
    growth_pass(series, n, opts, rs, p, &res);
    q = ak_xmalloc((n ? n : 1) * sizeof(*q));
    rej = ak_xcalloc(n ? n : 1, sizeof(*rej));
    if (n && ak_stats_bh(p, n, opts->fdr_q, false, q, rej, NULL) != AK_OK) {
        r = ak_err(err, AK_EINTERNAL, "Benjamini–Hochberg failed on the growth p-values.");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rs[i].tested)
            continue;
        rs[i].q = q[i];
        rs[i].sig = rej[i];
        if (!rej[i])
            continue;
        double *x = ak_xmalloc(series[i].n * sizeof(*x));
        review_mask(&series[i], opts, x);
        size_t before = l.n;
        growth_findings(&l, &series[i], opts, x, &rs[i]);
        rs[i].found = l.n > before;
        free(x);
    }
    shift_pass(series, n, opts, rs, &l);
    gap_pass(series, n, opts, &l);
    if (l.n)
        qsort(l.v, l.n, sizeof(*l.v), cmp_finding);
    for (size_t i = 0; i < l.n; i++)
        l.v[i].rank = (double)i;
    res.findings = l.v;
    res.n_findings = l.n;
    l.v = NULL;
    l.n = 0;
    *ret = res;
    r = AK_OK;
out:
    free(rs);
    free(p);
    free(q);
    free(rej);
    return r;
}
