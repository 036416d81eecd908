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

static double *scratch_grow(double **p, size_t *cap, size_t need)
{
    if (need > *cap) {
        free(*p);
        *cap = need > 2 * *cap ? need : 2 * *cap;
        *p = ak_xmalloc(*cap * sizeof(**p));
    }
    return *p;
}

void review_scratch_release(struct review_scratch *sc)
{
    if (!sc)
        return;
    free(sc->d);
    free(sc->buf);
    free(sc->buf2);
    free(sc->smp);
    free(sc->cv);
    free(sc->ci);
    free(sc->row);
    memset(sc, 0, sizeof(*sc));
}

#define OS_SAMPLE 1024 /* sample size for the bracket of order_stats */
#define OS_DELTA 64    /* ±4 sd of a sample rank at the median */
#define PS_SAMPLE 4096 /* sample of the pooled slopes */
#define PS_DELTA 96    /* ±3 sd of a sample rank at the median */
#define PS_WIDTH 1.0   /* bracket ±PS_WIDTH·C_plain ranks: CIs with C ≤ 2·C_plain (measured) */

/* Order statistics r0 ≤ r1 (0-based, < n) of d[0..n) (not sc->buf2), d left unchanged. Exact:
 * a strided sample of d gives two pivots a ≤ b bracketing the ranks; one pass counts the values
 * below a and copies those in [a, b] to a buffer; when the ranks fall inside it they are
 * selected there (a few % of n), else over a copy of all of d. The values are those of a full
 * sort: only the speed depends on the sample (docs/internals/review.md "Speed"). */
static void order_stats(const double *d, size_t n, size_t r0, size_t r1,
                        struct review_scratch *sc, double *o0, double *o1)
{
    double *buf = scratch_grow(&sc->buf2, &sc->buf2_cap, n), a = -INFINITY, b = INFINITY;
    size_t lt = 0, nb = 0, gt = 0;

    if (n > 8 * OS_SAMPLE) {
        double *smp = scratch_grow(&sc->smp, &sc->smp_cap, OS_SAMPLE);
        ptrdiff_t p0, p1;
        for (size_t k = 0; k < OS_SAMPLE; k++)
            smp[k] = d[(size_t)((uint64_t)k * n / OS_SAMPLE)];
        p0 = (ptrdiff_t)(((double)r0 + 0.5) / (double)n * OS_SAMPLE) - OS_DELTA;
        p1 = (ptrdiff_t)(((double)r1 + 0.5) / (double)n * OS_SAMPLE) + OS_DELTA;
        p0 = p0 < 0 ? -1 : p0;
        if (p0 >= 0)
            a = select_k(smp, OS_SAMPLE, (size_t)p0);
        /* select_k partitions around its place: the second pivot is in the part above it */
        if (p1 < OS_SAMPLE)
            b = select_k(smp + p0 + 1, OS_SAMPLE - (size_t)(p0 + 1), (size_t)(p1 - p0 - 1));
        for (size_t i = 0; i < n; i++) {
            double x = d[i];
            buf[nb] = x;
            nb += (size_t)((x >= a) & (x <= b));
            lt += x < a;
            gt += x > b;
        }
        if (lt <= r0 && r1 < lt + nb && lt + nb + gt == n) {
            n = nb;
            r0 -= lt;
            r1 -= lt;
            goto pick;
        }
    }
    memcpy(buf, d, n * sizeof(*buf));
pick:
    *o0 = select_k(buf, n, r0);
    *o1 = r1 == r0 ? *o0 : select_k(buf + r0 + 1, n - r0 - 1, r1 - r0 - 1);
}

/* The pooled within-segment pair slopes of the tested segments (docs/internals/review.md
 * "Speed"): those inside a bracket around the median in sc->buf; all of them in sc->d only when
 * a rank falls outside it (pooled_all). */
struct pooled {
    size_t np;               /* pairs */
    size_t nseg, *off;       /* compacted tested segment g is sc->cv/ci[off[g]..off[g+1]) */
    size_t lt, nb;           /* slopes below the bracket, in it (sc->buf) */
    bool in;                 /* the median fell inside the bracket */
};

/* Compacts the non-NaN values of the tested segments (values in sc->cv, indices in sc->ci). */
static void pooled_compact(const double *y, const size_t *b, size_t nb, const bool *use,
                           struct review_scratch *sc, struct pooled *pp)
{
    size_t n = b[nb - 1], k = 0;
    double *cv = scratch_grow(&sc->cv, &sc->cv_cap, n ? n : 1);
    double *ci = scratch_grow(&sc->ci, &sc->ci_cap, n ? n : 1);

    pp->off = ak_xmalloc(nb * sizeof(*pp->off));
    pp->nseg = 0;
    pp->np = 0;
    pp->off[0] = 0;
    for (size_t g = 0; g + 1 < nb; g++) {
        if (!use[g])
            continue;
        for (size_t i = b[g]; i < b[g + 1]; i++)
            if (!isnan(y[i])) {
                cv[k] = y[i];
                ci[k++] = (double)i; /* exact: (double)j − (double)i equals (double)(j − i) */
            }
        size_t m = k - pp->off[pp->nseg];
        pp->np += m * (m - 1) / 2;
        pp->off[++pp->nseg] = k;
    }
}

/* PS_SAMPLE slopes at evenly spaced places of the pair order into smp (one walk). */
static void pooled_sample(const struct review_scratch *sc, const struct pooled *pp, double *smp)
{
    size_t t = 0, base = 0, next = 0;

    for (size_t g = 0; g < pp->nseg; g++) {
        const double *cv = sc->cv + pp->off[g], *ci = sc->ci + pp->off[g];
        size_t m = pp->off[g + 1] - pp->off[g];
        for (size_t i = 0; i + 1 < m; i++) {
            size_t len = m - 1 - i;
            while (t < PS_SAMPLE && next < base + len) {
                size_t j = i + 1 + (next - base);
                smp[t++] = (cv[j] - cv[i]) / (ci[j] - ci[i]);
                next = (size_t)((uint64_t)t * pp->np / PS_SAMPLE);
            }
            base += len;
        }
    }
}

/* All pooled slopes into sc->d (only when a rank falls outside the bracket). */
static const double *pooled_all(struct review_scratch *sc, const struct pooled *pp)
{
    double *d = scratch_grow(&sc->d, &sc->d_cap, pp->np ? pp->np : 1);
    size_t k = 0;

    for (size_t g = 0; g < pp->nseg; g++) {
        const double *cv = sc->cv + pp->off[g], *ci = sc->ci + pp->off[g];
        size_t m = pp->off[g + 1] - pp->off[g];
        for (size_t i = 0; i + 1 < m; i++)
            for (size_t j = i + 1; j < m; j++)
                d[k++] = (cv[j] - cv[i]) / (ci[j] - ci[i]);
    }
    return d;
}

/* Pooled Sen slope (the median of all pair slopes, exact). One walk computes every slope and
 * copies those inside a bracket [lo, hi] into sc->buf: the bracket comes from a sample
 * and is wide enough (±w ranks around the median, plus a margin for the sample) that the CI
 * ranks usually fall inside it too, so pooled_ci selects there without another pass. */
static double pooled_slope(struct review_scratch *sc, struct pooled *pp, double w)
{
    size_t np = pp->np, rh = np / 2, rl = np % 2 ? rh : rh - 1, lt = 0, nb = 0, gt = 0;
    double lo = -INFINITY, hi = INFINITY, a, b;
    double *buf = scratch_grow(&sc->buf, &sc->buf_cap, np);
    double *row = scratch_grow(&sc->row, &sc->row_cap, pp->off[pp->nseg] + 1);

    if (np > 8 * PS_SAMPLE) {
        double *smp = scratch_grow(&sc->smp, &sc->smp_cap, PS_SAMPLE);
        double f0 = ((double)rl - w) / (double)np * PS_SAMPLE - PS_DELTA;
        double f1 = ((double)rh + w) / (double)np * PS_SAMPLE + PS_DELTA;
        pooled_sample(sc, pp, smp);
        size_t k0 = f0 >= 0 ? (size_t)f0 : 0;
        if (f0 >= 0)
            lo = select_k(smp, PS_SAMPLE, k0);
        if (f1 < PS_SAMPLE) /* in the part above lo (select_k partitions) */
            hi = select_k(smp + k0, PS_SAMPLE - k0, (size_t)f1 - k0);
    }
    for (size_t g = 0; g < pp->nseg; g++) {
        const double *cv = sc->cv + pp->off[g], *ci = sc->ci + pp->off[g];
        size_t m = pp->off[g + 1] - pp->off[g];
        for (size_t i = 0; i + 1 < m; i++) {
            double vi = cv[i], ii = ci[i];
            size_t len = m - 1 - i;
            /* two loops over a row that stays in L1: the division one vectorises */
            for (size_t j = 0; j < len; j++)
                row[j] = (cv[i + 1 + j] - vi) / (ci[i + 1 + j] - ii);
            for (size_t j = 0; j < len; j++) {
                double x = row[j];
                buf[nb] = x;
                nb += (size_t)((x >= lo) & (x <= hi)); /* no branch: x is random */
                lt += x < lo;
                gt += x > hi;
            }
        }
    }
    pp->in = lt <= rl && rh < lt + nb && lt + nb + gt == np;
    pp->lt = lt;
    pp->nb = nb;
    if (pp->in)
        order_stats(buf, nb, rl - lt, rh - lt, sc, &b, &a);
    else
        order_stats(pooled_all(sc, pp), np, rl, rh, sc, &b, &a);
    return np % 2 ? a : (a + b) / 2;
}

/* Sen's CI ranks M1/M2 of ak_stats_sen over the pooled slopes, with C from the summed
 * (corrected) variance. */
static void pooled_ci(struct review_scratch *sc, const struct pooled *pp, double var_s,
                      double *lo, double *hi)
{
    double c = ak_stats_norm_quantile(0.975) * sqrt(var_s), dn = (double)pp->np;
    double m1 = nearbyint((dn - c) / 2), m2 = nearbyint((dn + c) / 2 + 1);
    size_t r1 = (size_t)fmin(fmax(m1, 1), dn) - 1, r2 = (size_t)fmin(fmax(m2, 1), dn) - 1;

    if (pp->in && r1 >= pp->lt && r2 < pp->lt + pp->nb) {
        double x;
        order_stats(sc->buf, pp->nb, r1 - pp->lt, r1 - pp->lt, sc, lo, &x);
        order_stats(sc->buf, pp->nb, r2 - pp->lt, r2 - pp->lt, sc, hi, &x);
    } else {
        order_stats(pooled_all(sc, pp), pp->np, r1, r2, sc, lo, hi);
    }
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
                       const double *x, struct review_scratch *sc, struct review_growth *ret)
{
    double *y = NULL;
    size_t *b = NULL, nb;
    bool *use = NULL;
    double *seg_s = NULL, *seg_v = NULL, rho[HR_MAX_LAG + 1];
    size_t *seg_n = NULL;
    struct review_growth g = {0};
    struct pooled pp = {0};
    double c_plain = 0;
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
        c_plain += mk.var_s;
    }
    if (!g.used)
        goto out;
    /* Sen's C without the serial correction (the CI ranks are ±C/2 from the median): the
     * bracket of pooled_slope holds the CI when the variance ratio is at most 4 */
    c_plain = ak_stats_norm_quantile(0.975) * sqrt(c_plain);
    /* slope first: the residuals of the serial-correlation correction need it; the bracket
     * of slopes stays in sc->buf for the CI */
    pooled_compact(y, b, nb, use, sc, &pp);
    g.sen.npairs = pp.np;
    g.sen.slope = pooled_slope(sc, &pp, PS_WIDTH * c_plain);
    g.sen.intercept = NAN;
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
    pooled_ci(sc, &pp, g.var_s, &g.sen.lo, &g.sen.hi);
    *ret = g;
    r = AK_OK;
out:
    free(pp.off);
    free(y);
    free(b);
    free(use);
    free(seg_s);
    free(seg_v);
    free(seg_n);
    return r;
}
