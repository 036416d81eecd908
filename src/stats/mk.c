/* mk.c — Mann–Kendall trend test and its serial-correlation and seasonal variants (§2.1–2.3). */
#include <math.h>
#include <stdlib.h>

#include "asakai/ak_err.h"
#include "asakai/ak_stats.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"
#include "src/stats/stats_int.h"

/* Compacts x and checks the size and the minimum of 3 values that every MK variant needs. */
static int mk_prepare(const double *x, size_t n, double **ret_v, size_t **ret_idx, size_t *ret_m)
{
    double *v = NULL;
    size_t *idx = NULL, m = 0;
    int r;

    r = stats_compact(x, n, &v, ret_idx ? &idx : NULL, &m);
    if (r < 0)
        return r;
    r = m < 3 ? AK_EINVAL : stats_check_pairs(m);
    if (r < 0) {
        free(v);
        free(idx);
        return r;
    }
    *ret_v = v;
    if (ret_idx)
        *ret_idx = idx;
    *ret_m = m;
    return AK_OK;
}

static void mk_plain(const double *v, size_t m, struct ak_stats_mk *res)
{
    double dm = (double)m;

    res->n = m;
    res->s = stats_mk_s(v, m);
    res->var_s = stats_mk_var(v, m);
    res->var_ratio = 1;
    stats_mk_finish(res, dm * (dm - 1) / 2);
}

int ak_stats_mk(const double *x, size_t n, struct ak_stats_mk *ret)
{
    struct ak_stats_mk res = {0};
    double *v = NULL;
    size_t m = 0;
    int r;

    r = mk_prepare(x, n, &v, NULL, &m);
    if (r < 0)
        return r;
    mk_plain(v, m, &res);
    free(v);
    *ret = res;
    return AK_OK;
}

/* The non-NaN values minus β·k at their compacted positions k = 1..m (as pyMannKendall), with
 * β the Sen slope over the original indices. */
static double *mk_detrend(const double *v, const size_t *idx, size_t m)
{
    double *d = NULL, *out;
    size_t np = 0;

    stats_sen_slopes(v, idx, m, false, &d, &np);
    double beta = stats_select(d, np, np / 2);
    if (np % 2 == 0) /* the lower middle is the largest of the part below np/2 */
        beta = (beta + stats_select(d, np / 2, np / 2 - 1)) / 2;
    free(d);
    out = ak_xmalloc(m * sizeof(*out));
    for (size_t k = 0; k < m; k++)
        out[k] = v[k] - (double)(k + 1) * beta;
    return out;
}

static size_t mk_lags(size_t m, size_t max_lag)
{
    return max_lag == 0 || max_lag > m - 1 ? m - 1 : max_lag;
}

/* Hamed–Rao n/n*_s from the ranks of the detrended series; see the header for the |Σ| guard. */
static double hamed_rao_ratio(const double *detr, size_t m, double alpha, size_t lags)
{
    double *rk = ak_xmalloc(m * sizeof(*rk)), *acf = ak_xmalloc((lags + 1) * sizeof(*acf));
    double dm = (double)m, bound = ak_stats_norm_quantile(1 - alpha / 2) / sqrt(dm), sum = 0;

    stats_ranks(detr, m, rk);
    stats_acf(rk, m, lags, acf);
    for (size_t k = 1; k <= lags; k++) {
        double dk = (double)k;
        if (fabs(acf[k]) > bound)
            sum += (dm - dk) * (dm - dk - 1) * (dm - dk - 2) * acf[k];
    }
    free(rk);
    free(acf);
    return 1 + 2 / (dm * (dm - 1) * (dm - 2)) * fabs(sum);
}

int ak_stats_mk_hamed_rao(const double *x, size_t n, double alpha, size_t max_lag,
                          struct ak_stats_mk *ret)
{
    struct ak_stats_mk res = {0};
    double *v = NULL, *detr = NULL;
    size_t *idx = NULL, m = 0;
    int r;

    if (!(alpha > 0 && alpha < 1))
        return AK_EINVAL;
    r = mk_prepare(x, n, &v, &idx, &m);
    if (r < 0)
        return r;
    mk_plain(v, m, &res);
    detr = mk_detrend(v, idx, m);
    res.var_ratio = hamed_rao_ratio(detr, m, alpha, mk_lags(m, max_lag));
    res.var_s *= res.var_ratio;
    stats_mk_finish(&res, (double)m * (double)(m - 1) / 2);
    free(detr);
    free(idx);
    free(v);
    *ret = res;
    return AK_OK;
}

int ak_stats_mk_yue_wang(const double *x, size_t n, size_t max_lag, struct ak_stats_mk *ret)
{
    struct ak_stats_mk res = {0};
    double *v = NULL, *detr = NULL, *acf = NULL, sum = 0;
    size_t *idx = NULL, m = 0, lags;
    int r;

    r = mk_prepare(x, n, &v, &idx, &m);
    if (r < 0)
        return r;
    mk_plain(v, m, &res);
    detr = mk_detrend(v, idx, m);
    lags = mk_lags(m, max_lag);
    acf = ak_xmalloc((lags + 1) * sizeof(*acf));
    stats_acf(detr, m, lags, acf);
    for (size_t k = 1; k <= lags; k++)
        sum += (1 - (double)k / (double)m) * acf[k];
    res.var_ratio = 1 + 2 * sum;
    if (!(res.var_ratio > 0)) {
        r = AK_EINVAL;
        goto out;
    }
    res.var_s *= res.var_ratio;
    stats_mk_finish(&res, (double)m * (double)(m - 1) / 2);
    *ret = res;
out:
    free(acf);
    free(detr);
    free(idx);
    free(v);
    return r;
}

/* Adds one season's S, Var(S) and pair count; seasons with fewer than 2 values add nothing. */
static int seasonal_add(const double *x, size_t n, size_t period, size_t season, double *buf,
                        struct ak_stats_mk *acc, double *pairs)
{
    size_t m = 0;

    for (size_t i = season; i < n; i += period)
        if (!isnan(x[i]))
            buf[m++] = x[i];
    if (m < 2)
        return AK_OK;
    if (stats_check_pairs(m) < 0)
        return AK_ETOOBIG;
    acc->n += m;
    acc->s += stats_mk_s(buf, m);
    acc->var_s += stats_mk_var(buf, m);
    *pairs += (double)m * (double)(m - 1) / 2;
    return AK_OK;
}

int ak_stats_mk_seasonal(const double *x, size_t n, size_t period, struct ak_stats_mk *ret)
{
    struct ak_stats_mk res = {0};
    double *buf = NULL, pairs = 0;
    int r = AK_OK;

    if (n > AK_STATS_MAX_N)
        return AK_ETOOBIG;
    if (period < 2)
        return AK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (isinf(x[i]))
            return AK_EINVAL;
    buf = ak_xmalloc((n / period + 1) * sizeof(*buf));
    for (size_t s = 0; s < period && s < n && r == AK_OK; s++)
        r = seasonal_add(x, n, period, s, buf, &res, &pairs);
    free(buf);
    if (r < 0)
        return r;
    if (pairs == 0)
        return AK_EINVAL;
    res.var_ratio = 1;
    stats_mk_finish(&res, pairs);
    *ret = res;
    return AK_OK;
}
