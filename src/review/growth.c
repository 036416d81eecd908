/* growth.c — warm-up masking and the growth test: Hamed–Rao Mann–Kendall summed over restart
 * segments on the deseasonalised series, pooled within-segment Theil–Sen slope with a CI from
 * the corrected variance (docs/internals/review.md). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_review.h"
#include "asakai/ak_stats.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"
#include "src/review/review_int.h"

#define HR_MAX_LAG 10
#define SEG_MIN 11 /* the normal approximation is used only for n > 10 (§2.9) */

size_t review_index_at(const struct ak_review_series *s, int64_t t)
{
    if (t <= s->start_ms)
        return 0;
    int64_t d = t - s->start_ms;
    uint64_t i = (uint64_t)(d / s->step_ms) + (d % s->step_ms != 0);
    return i > s->n ? s->n : (size_t)i;
}

static void mask_from(const struct ak_review_series *s, double *x, int64_t at, int64_t warm)
{
    if (at >= s->start_ms + (int64_t)s->n * s->step_ms || at + warm <= s->start_ms)
        return;
    for (size_t i = review_index_at(s, at), e = review_index_at(s, at + warm); i < e; i++)
        x[i] = NAN;
}

void review_mask(const struct ak_review_series *s, const struct ak_review_opts *o, double *x)
{
    memcpy(x, s->v, s->n * sizeof(*x));
    if (o->warmup_ms <= 0)
        return;
    for (size_t i = 0; i < s->n_restarts; i++)
        mask_from(s, x, s->restarts[i], o->warmup_ms);
    for (size_t i = 0; i < o->n_deploys; i++)
        if (ak_streq(o->deploys[i].service, s->service) && s->service && *s->service)
            mask_from(s, x, o->deploys[i].at_ms, o->warmup_ms);
}

size_t review_period(int64_t step_ms)
{
    if (step_ms <= 0 || step_ms > REVIEW_DAY_MS / 2 || REVIEW_DAY_MS % step_ms != 0)
        return 0;
    return (size_t)(REVIEW_DAY_MS / step_ms);
}

/* k-th smallest of d[0..n) (0-based): Wirth's selection (Hoare partition around d[k]). */
static double select_k(double *d, size_t n, size_t k)
{
    ptrdiff_t l = 0, m = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

    while (l < m) {
        double pv = d[kk];
        ptrdiff_t i = l, j = m;
        do {
            while (d[i] < pv)
                i++;
            while (pv < d[j])
                j--;
            if (i <= j) {
                double t = d[i];
                d[i] = d[j];
                d[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < kk)
            l = i;
        if (kk < i)
            m = j;
    }
    return d[kk];
}

double review_median(double *v, size_t m)
{
    double a = select_k(v, m, m / 2);
    if (m % 2)
        return a;
    return (a + select_k(v, m, m / 2 - 1)) / 2;
}

/* y = x minus its hour-of-day (season) profile: the median over the window of x minus its
 * centred period-long moving average, per season, recentred to mean 0. The moving average takes
 * the trend out first, so the profile does not absorb a slope. Leaves y = x when the window is
 * shorter than 3 periods. */
static void deseasonalise(const double *x, size_t n, size_t period, double *y)
{
    double *d = NULL, *prof = NULL, *tmp = NULL;
    size_t half = period / 2;

    memcpy(y, x, n * sizeof(*y));
    if (period < 2 || n < 3 * period)
        return;
    d = ak_xmalloc(n * sizeof(*d));
    for (size_t t = 0; t < n; t++) {
        double sum = 0, w = 0;
        d[t] = NAN;
        if (isnan(x[t]) || t < half || t + half >= n)
            continue;
        for (size_t k = t - half; k <= t + half; k++) {
            double wk = (period % 2 == 0 && (k == t - half || k == t + half)) ? 0.5 : 1;
            if (!isnan(x[k])) {
                sum += wk * x[k];
                w += wk;
            }
        }
        if (w >= 0.75 * (double)period)
            d[t] = x[t] - sum / w;
    }
    prof = ak_xcalloc(period, sizeof(*prof));
    tmp = ak_xmalloc((n / period + 1) * sizeof(*tmp));
    double mean = 0;
    for (size_t h = 0; h < period; h++) {
        size_t m = 0;
        for (size_t t = h; t < n; t += period)
            if (!isnan(d[t]))
                tmp[m++] = d[t];
        prof[h] = m ? review_median(tmp, m) : 0;
        mean += prof[h];
    }
    mean /= (double)period;
    for (size_t t = 0; t < n; t++)
        if (!isnan(y[t]))
            y[t] -= prof[t % period] - mean;
    free(d);
    free(prof);
    free(tmp);
}

/* Segment boundaries: 0, the index of each restart inside the window, n (sorted, unique). */
static size_t segments(const struct ak_review_series *s, size_t *b)
{
    size_t nb = 0;

    b[nb++] = 0;
    for (size_t i = 0; i < s->n_restarts; i++) {
        size_t k = review_index_at(s, s->restarts[i]);
        if (k > 0 && k < s->n)
            b[nb++] = k;
    }
    b[nb++] = s->n;
    for (size_t i = 1; i < nb; i++) /* insertion sort: restarts are few and nearly sorted */
        for (size_t j = i; j > 0 && b[j - 1] > b[j]; j--) {
            size_t t = b[j];
            b[j] = b[j - 1];
            b[j - 1] = t;
        }
    size_t u = 1;
    for (size_t i = 1; i < nb; i++)
        if (b[i] != b[u - 1])
            b[u++] = b[i];
    return u;
}

static size_t count_valid(const double *y, size_t a, size_t e)
{
    size_t m = 0;
    for (size_t i = a; i < e; i++)
        m += !isnan(y[i]);
    return m;
}

/* Pooled Sen: all within-segment pairs of tested segments, median and the CI ranks of
 * ak_stats_sen with C from the summed (corrected) variance. */
static void pooled_sen(const double *y, const size_t *b, size_t nb, const bool *use, double var_s,
                       struct ak_stats_sen *ret)
{
    size_t np = 0, k = 0;
    double *d = NULL;

    for (size_t g = 0; g + 1 < nb; g++)
        if (use[g]) {
            size_t m = count_valid(y, b[g], b[g + 1]);
            np += m * (m - 1) / 2;
        }
    d = ak_xmalloc((np ? np : 1) * sizeof(*d));
    for (size_t g = 0; g + 1 < nb; g++) {
        if (!use[g])
            continue;
        for (size_t i = b[g]; i < b[g + 1]; i++) {
            if (isnan(y[i]))
                continue;
            for (size_t j = i + 1; j < b[g + 1]; j++)
                if (!isnan(y[j]))
                    d[k++] = (y[j] - y[i]) / (double)(j - i);
        }
    }
    double c = isnan(var_s) ? 0 : ak_stats_norm_quantile(0.975) * sqrt(var_s), dn = (double)np;
    double m1 = nearbyint((dn - c) / 2), m2 = nearbyint((dn + c) / 2 + 1);
    m1 = fmin(fmax(m1, 1), dn);
    m2 = fmin(fmax(m2, 1), dn);
    ret->npairs = np;
    ret->slope = review_median(d, np);
    ret->lo = isnan(var_s) ? NAN : select_k(d, np, (size_t)m1 - 1);
    ret->hi = isnan(var_s) ? NAN : select_k(d, np, (size_t)m2 - 1);
    ret->intercept = NAN;
    free(d);
}

struct vi {
    double v;
    size_t i;
};

static int cmp_vi(const void *a, const void *b)
{
    const struct vi *x = a, *y = b;
    if (x->v != y->v)
        return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

/* Lag-1..HR_MAX_LAG autocorrelation of the ranks of the residuals y − β·i − segment median over
 * the tested segments (compacted), with the Hamed–Rao rule: lags with |ρ_k| ≤ z_{0.975}/√N are
 * dropped. One ACF for the whole window: a 2-day segment alone is too short to see the
 * correlation it has (docs/internals/review.md). */
static void residual_acf(const double *y, const size_t *b, size_t nb, const bool *use,
                         double beta, double *rho)
{
    size_t m = 0, k = 0;
    struct vi *r = NULL;
    double *rk = NULL, mean = 0, c0 = 0;

    for (size_t g = 0; g + 1 < nb; g++)
        if (use[g])
            m += count_valid(y, b[g], b[g + 1]);
    memset(rho, 0, (HR_MAX_LAG + 1) * sizeof(*rho));
    if (m < HR_MAX_LAG + 2)
        return;
    r = ak_xmalloc(m * sizeof(*r));
    rk = ak_xmalloc(m * sizeof(*rk));
    for (size_t g = 0; g + 1 < nb; g++) {
        size_t k0 = k;
        if (!use[g])
            continue;
        for (size_t i = b[g]; i < b[g + 1]; i++)
            if (!isnan(y[i]))
                r[k++].v = y[i] - beta * (double)i;
        for (size_t j = k0; j < k; j++)
            rk[j - k0] = r[j].v;
        double med = review_median(rk, k - k0);
        for (size_t j = k0; j < k; j++)
            r[j].v -= med;
    }
    for (size_t j = 0; j < m; j++)
        r[j].i = j;
    qsort(r, m, sizeof(*r), cmp_vi);
    for (size_t j = 0; j < m;) { /* average ranks of ties */
        size_t e = j;
        while (e + 1 < m && r[e + 1].v == r[j].v)
            e++;
        for (size_t t = j; t <= e; t++)
            rk[r[t].i] = (double)(j + e) / 2 + 1;
        j = e + 1;
    }
    for (size_t j = 0; j < m; j++)
        mean += rk[j];
    mean /= (double)m;
    for (size_t j = 0; j < m; j++)
        c0 += (rk[j] - mean) * (rk[j] - mean);
    double thr = ak_stats_norm_quantile(0.975) / sqrt((double)m);
    for (size_t l = 1; l <= HR_MAX_LAG && c0 > 0; l++) {
        double c = 0;
        for (size_t j = 0; j + l < m; j++)
            c += (rk[j] - mean) * (rk[j + l] - mean);
        rho[l] = fabs(c / c0) > thr ? c / c0 : 0;
    }
    free(r);
    free(rk);
}

/* Hamed–Rao n/n*_s for a segment of n values with the window's ACF (|Σ| guard as ak_stats). */
static double hr_ratio(size_t n, const double *rho)
{
    double dn = (double)n, sum = 0;
    for (size_t k = 1; k <= HR_MAX_LAG && k + 2 < n; k++) {
        double dk = (double)k;
        sum += (dn - dk) * (dn - dk - 1) * (dn - dk - 2) * rho[k];
    }
    return 1 + 2 / (dn * (dn - 1) * (dn - 2)) * fabs(sum);
}

int review_growth_test(const struct ak_review_series *s, const struct ak_review_opts *o,
                       const double *x, struct review_growth *ret)
{
    double *y = NULL;
    size_t *b = NULL, nb;
    bool *use = NULL;
    double *seg_s = NULL, *seg_v = NULL, rho[HR_MAX_LAG + 1];
    size_t *seg_n = NULL;
    struct review_growth g = {0};
    int r = AK_EINVAL;

    (void)o;
    y = ak_xmalloc(s->n * sizeof(*y));
    deseasonalise(x, s->n, review_period(s->step_ms), y);
    b = ak_xmalloc((s->n_restarts + 2) * sizeof(*b));
    nb = segments(s, b);
    use = ak_xcalloc(nb, sizeof(*use));
    seg_s = ak_xcalloc(nb, sizeof(*seg_s));
    seg_v = ak_xcalloc(nb, sizeof(*seg_v));
    seg_n = ak_xcalloc(nb, sizeof(*seg_n));
    for (size_t k = 0; k + 1 < nb; k++) {
        struct ak_stats_mk mk;
        if (count_valid(y, b[k], b[k + 1]) < SEG_MIN ||
            ak_stats_mk(y + b[k], b[k + 1] - b[k], &mk) != AK_OK)
            continue;
        use[k] = true;
        seg_s[k] = mk.s;
        seg_v[k] = mk.var_s;
        seg_n[k] = mk.n;
        g.used += mk.n;
    }
    if (!g.used)
        goto out;
    /* slope first: the residuals of the serial-correlation correction need it */
    pooled_sen(y, b, nb, use, NAN, &g.sen);
    residual_acf(y, b, nb, use, g.sen.slope, rho);
    for (size_t k = 0; k + 1 < nb; k++)
        if (use[k]) {
            g.s += seg_s[k];
            g.var_s += seg_v[k] * hr_ratio(seg_n[k], rho);
        }
    if (!(g.var_s > 0))
        goto out;
    double z = g.s > 0 ? (g.s - 1) / sqrt(g.var_s) : g.s < 0 ? (g.s + 1) / sqrt(g.var_s) : 0;
    g.p = g.s == 0 ? 1 : ak_stats_norm_p2(z);
    pooled_sen(y, b, nb, use, g.var_s, &g.sen);
    *ret = g;
    r = AK_OK;
out:
    free(y);
    free(b);
    free(use);
    free(seg_s);
    free(seg_v);
    free(seg_n);
    return r;
}
