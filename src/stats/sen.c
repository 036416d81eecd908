/* sen.c — Theil–Sen slope with Sen's confidence interval, seasonal Sen, days to a limit
 * (§2.3, §2.4, §2.7). */
#include <math.h>
#include <stdlib.h>

#include "asakai/ak_err.h"
#include "asakai/ak_stats.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"
#include "src/stats/stats_int.h"

static double sorted_median(const double *d, size_t np)
{
    return np % 2 ? d[np / 2] : (d[np / 2 - 1] + d[np / 2]) / 2;
}

/* Conover intercept: median(values) − median(indices)·slope; sorts v. */
static double conover_intercept(double *v, const size_t *idx, size_t m, double slope, double per)
{
    /* indices are ascending, so their median needs no sort */
    double mid = m % 2 ? (double)idx[m / 2] : ((double)idx[m / 2 - 1] + (double)idx[m / 2]) / 2;
    return stats_median_sort(v, m) - mid / per * slope;
}

/* 1-based order statistic M of d[0..np), clamped to [1, np]. */
static double order_stat(const double *d, size_t np, double M)
{
    if (M < 1)
        M = 1;
    if (M > (double)np)
        M = (double)np;
    return d[(size_t)M - 1];
}

int ak_stats_sen(const double *x, size_t n, double alpha, struct ak_stats_sen *ret)
{
    struct ak_stats_sen res = {0};
    double *v = NULL, *d = NULL;
    size_t *idx = NULL, m = 0, np = 0;
    int r;

    if (!(alpha > 0 && alpha < 1))
        return AK_EINVAL;
    r = stats_compact(x, n, &v, &idx, &m);
    if (r < 0)
        return r;
    r = m < 2 ? AK_EINVAL : stats_check_pairs(m);
    if (r < 0)
        goto out;
    stats_sen_slopes(v, idx, m, true, &d, &np);
    res.npairs = np;
    res.slope = sorted_median(d, np);
    /* R's round() (cran/trend) rounds halves to even, as nearbyint does by default. */
    double c = ak_stats_norm_quantile(1 - alpha / 2) * sqrt(stats_mk_var(v, m));
    res.lo = order_stat(d, np, nearbyint(((double)np - c) / 2));
    res.hi = order_stat(d, np, nearbyint(((double)np + c) / 2 + 1));
    res.intercept = conover_intercept(v, idx, m, res.slope, 1);
    *ret = res;
out:
    free(d);
    free(idx);
    free(v);
    return r;
}

/* Within-season slopes, in cycles: (x_j − x_i)/((j − i)/period). */
static size_t seasonal_slopes(const double *x, size_t n, size_t period, double *d)
{
    size_t k = 0;

    for (size_t s = 0; s < period && s < n; s++)
        for (size_t i = s; i < n; i += period) {
            if (isnan(x[i]))
                continue;
            for (size_t j = i + period; j < n; j += period)
                if (!isnan(x[j]))
                    d[k++] = (x[j] - x[i]) / (double)((j - i) / period);
        }
    return k;
}

static int seasonal_pairs(const double *x, size_t n, size_t period, size_t *ret_np)
{
    size_t total = 0;

    for (size_t s = 0; s < period && s < n; s++) {
        size_t ms = 0;
        for (size_t i = s; i < n; i += period)
            ms += !isnan(x[i]);
        if (stats_check_pairs(ms) < 0)
            return AK_ETOOBIG;
        total += ms > 1 ? ms * (ms - 1) / 2 : 0;
        if (total > AK_STATS_MAX_PAIRS)
            return AK_ETOOBIG;
    }
    *ret_np = total;
    return total ? AK_OK : AK_EINVAL;
}

int ak_stats_sen_seasonal(const double *x, size_t n, size_t period, struct ak_stats_sen *ret)
{
    struct ak_stats_sen res = {0};
    double *v = NULL, *d = NULL;
    size_t *idx = NULL, m = 0, np = 0;
    int r;

    if (period < 2)
        return AK_EINVAL;
    r = stats_compact(x, n, &v, &idx, &m);
    if (r < 0)
        return r;
    r = seasonal_pairs(x, n, period, &np);
    if (r < 0)
        goto out;
    d = ak_xmalloc(np * sizeof(*d));
    np = seasonal_slopes(x, n, period, d);
    qsort(d, np, sizeof(*d), stats_cmp_double);
    res.slope = sorted_median(d, np);
    res.npairs = np;
    res.lo = res.hi = NAN;
    res.intercept = conover_intercept(v, idx, m, res.slope, (double)period);
    *ret = res;
out:
    free(d);
    free(idx);
    free(v);
    return r;
}

/* Median of the last k non-NaN values of x; NaN when there is none. */
static double recent_level(const double *x, size_t n, size_t k)
{
    double *buf = ak_xmalloc(k * sizeof(*buf)), level = NAN;
    size_t m = 0;

    for (size_t i = n; i > 0 && m < k; i--)
        if (!isnan(x[i - 1]))
            buf[m++] = x[i - 1];
    if (m)
        level = stats_median_sort(buf, m);
    free(buf);
    return level;
}

/* Days to cover dist at slope b per step; INFINITY when b does not head that way. */
static double days_at(double dist, double b, double per_day)
{
    return dist * b > 0 ? dist / (b * per_day) : INFINITY;
}

int ak_stats_days_to_limit(const double *x, size_t n, size_t k, double limit, double per_day,
                           const struct ak_stats_sen *sen, struct ak_stats_days *ret)
{
    struct ak_stats_days res = {0};
    double dist, fast, slow;

    if (n > AK_STATS_MAX_N)
        return AK_ETOOBIG;
    if (k == 0 || !(per_day > 0) || !isfinite(per_day) || !isfinite(limit) ||
        !isfinite(sen->slope) || isinf(sen->lo) || isinf(sen->hi))
        return AK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (isinf(x[i]))
            return AK_EINVAL;
    if (k > n)
        k = n;
    if (k == 0)
        return AK_EINVAL;
    res.level = recent_level(x, n, k);
    if (isnan(res.level))
        return AK_EINVAL;
    dist = limit - res.level;
    /* the CI bound that moves fastest towards the limit gives the fewest days */
    fast = dist >= 0 ? sen->hi : sen->lo;
    slow = dist >= 0 ? sen->lo : sen->hi;
    if (isnan(fast))
        fast = sen->slope;
    if (isnan(slow))
        slow = sen->slope;
    if (dist == 0) {
        res.reaching = true;
        res.days = res.lo = res.hi = 0;
    } else {
        res.days = days_at(dist, sen->slope, per_day);
        res.reaching = isfinite(res.days);
        res.lo = res.reaching ? days_at(dist, fast, per_day) : INFINITY;
        res.hi = res.reaching ? days_at(dist, slow, per_day) : INFINITY;
    }
    *ret = res;
    return AK_OK;
}
