/* util.c — normal distribution, ranks, medians and Mann–Kendall building blocks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "asakai/ak_err.h"
#include "asakai/ak_stats.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"
#include "src/stats/stats_int.h"

double ak_stats_norm_p2(double z)
{
    if (isnan(z))
        return NAN;
    return erfc(fabs(z) / sqrt(2.0));
}

/* Acklam's coefficients: lower/upper tail and central region. */
static const double qa[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                            1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
static const double qb[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                            6.680131188771972e+01,  -1.328068155288572e+01};
static const double qc[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                            -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
static const double qd[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                            3.754408661907416e+00};

static double quantile_tail(double q)
{
    return (((((qc[0] * q + qc[1]) * q + qc[2]) * q + qc[3]) * q + qc[4]) * q + qc[5]) /
           ((((qd[0] * q + qd[1]) * q + qd[2]) * q + qd[3]) * q + 1);
}

double ak_stats_norm_quantile(double p)
{
    double x, q, r, e, u;

    if (!(p > 0 && p < 1))
        return NAN;
    if (p < 0.02425) {
        x = quantile_tail(sqrt(-2 * log(p)));
    } else if (p > 1 - 0.02425) {
        x = -quantile_tail(sqrt(-2 * log1p(-p)));
    } else {
        q = p - 0.5;
        r = q * q;
        x = (((((qa[0] * r + qa[1]) * r + qa[2]) * r + qa[3]) * r + qa[4]) * r + qa[5]) * q /
            (((((qb[0] * r + qb[1]) * r + qb[2]) * r + qb[3]) * r + qb[4]) * r + 1);
    }
    /* One Halley step on Φ(x) − p brings the 1e-9 approximation to full double precision. */
    e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

int stats_compact(const double *x, size_t n, double **ret_v, size_t **ret_idx, size_t *ret_m)
{
    double *v = NULL;
    size_t *idx = NULL, m = 0;

    if (n > AK_STATS_MAX_N)
        return AK_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        if (isinf(x[i]))
            return AK_EINVAL;
    v = ak_xmalloc((n ? n : 1) * sizeof(*v));
    if (ret_idx)
        idx = ak_xmalloc((n ? n : 1) * sizeof(*idx));
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            continue;
        if (idx)
            idx[m] = i;
        v[m++] = x[i];
    }
    *ret_v = v;
    if (ret_idx)
        *ret_idx = idx;
    *ret_m = m;
    return AK_OK;
}

int stats_check_pairs(size_t m)
{
    /* m ≤ AK_STATS_MAX_N, so m·(m−1) cannot overflow a 64-bit size_t. */
    if (m > 1 && (uint64_t)m * (m - 1) / 2 > AK_STATS_MAX_PAIRS)
        return AK_ETOOBIG;
    return AK_OK;
}

int stats_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double stats_median_sort(double *v, size_t m)
{
    qsort(v, m, sizeof(*v), stats_cmp_double);
    return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

struct ranked {
    double v;
    size_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->v != y->v)
        return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

void stats_ranks(const double *v, size_t m, double *r)
{
    struct ranked *s = ak_xmalloc((m ? m : 1) * sizeof(*s));

    for (size_t i = 0; i < m; i++)
        s[i] = (struct ranked){v[i], i};
    qsort(s, m, sizeof(*s), cmp_ranked);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i + 1; j < m && s[j].v == s[i].v; j++)
            ;
        /* positions i..j-1 (0-based) share the rank mean((i+1)..j) */
        double avg = (double)(i + 1 + j) / 2;
        for (size_t k = i; k < j; k++)
            r[s[k].i] = avg;
    }
    free(s);
}

/* Merges the sorted runs a[lo..mid) and a[mid..hi) into t[lo..hi); returns the pairs (i in the
 * left run, j in the right) with a_i > a_j. Equal values go left first: ties are no inversion. */
static uint64_t merge_count(const double *a, double *t, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    uint64_t inv = 0;

    while (i < mid && j < hi) {
        if (a[i] <= a[j]) {
            t[k++] = a[i++];
        } else {
            inv += mid - i;
            t[k++] = a[j++];
        }
    }
    while (i < mid)
        t[k++] = a[i++];
    while (j < hi)
        t[k++] = a[j++];
    return inv;
}

/* Knight (1966): S = #concordant − #discordant = P − T − 2·D with P = m(m−1)/2 pairs, T the
 * pairs of equal values and D the strict inversions counted by a bottom-up merge sort; exact
 * integers, so the same S as the pairwise loop in O(m log m). */
static double mk_s_knight(const double *v, size_t m)
{
    double *a = ak_xmalloc(2 * m * sizeof(*a)), *t = a + m, *buf = a;
    uint64_t inv = 0, ties = 0, pairs = (uint64_t)m * (m - 1) / 2;

    for (size_t i = 0; i < m; i++)
        a[i] = v[i];
    for (size_t w = 1; w < m; w *= 2) {
        for (size_t lo = 0; lo < m; lo += 2 * w) {
            size_t mid = lo + w < m ? lo + w : m, hi = lo + 2 * w < m ? lo + 2 * w : m;
            inv += merge_count(a, t, lo, mid, hi);
        }
        double *x = a;
        a = t;
        t = x;
    }
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i + 1; j < m && a[j] == a[i]; j++)
            ;
        ties += (uint64_t)(j - i) * (j - i - 1) / 2;
    }
    free(buf);
    return (double)((int64_t)(pairs - ties - inv) - (int64_t)inv);
}

double stats_mk_s(const double *v, size_t m)
{
    long long s = 0;

    if (m >= 64)
        return mk_s_knight(v, m);
    for (size_t i = 0; i + 1 < m; i++)
        for (size_t j = i + 1; j < m; j++)
            s += (v[j] > v[i]) - (v[j] < v[i]);
    return (double)s;
}

double stats_mk_var(const double *v, size_t m)
{
    double *s = ak_xmalloc((m ? m : 1) * sizeof(*s));
    double dm = (double)m, ties = 0;

    for (size_t i = 0; i < m; i++)
        s[i] = v[i];
    qsort(s, m, sizeof(*s), stats_cmp_double);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i + 1; j < m && s[j] == s[i]; j++)
            ;
        double t = (double)(j - i);
        ties += t * (t - 1) * (2 * t + 5);
    }
    free(s);
    return (dm * (dm - 1) * (2 * dm + 5) - ties) / 18;
}

void stats_mk_finish(struct ak_stats_mk *r, double npairs)
{
    if (r->s == 0 || !(r->var_s > 0))
        r->z = 0;
    else if (r->s > 0)
        r->z = (r->s - 1) / sqrt(r->var_s);
    else
        r->z = (r->s + 1) / sqrt(r->var_s);
    r->p = r->z == 0 ? 1.0 : ak_stats_norm_p2(r->z);
    r->tau = npairs > 0 ? r->s / npairs : 0;
}

void stats_sen_slopes(const double *v, const size_t *idx, size_t m, bool sort, double **ret_d,
                      size_t *ret_np)
{
    size_t np = m > 1 ? m * (m - 1) / 2 : 0, k = 0;
    double *d = ak_xmalloc((np ? np : 1) * sizeof(*d));

    for (size_t i = 0; i + 1 < m; i++)
        for (size_t j = i + 1; j < m; j++)
            d[k++] = (v[j] - v[i]) / (double)(idx[j] - idx[i]);
    if (sort)
        qsort(d, np, sizeof(*d), stats_cmp_double);
    *ret_d = d;
    *ret_np = np;
}

double stats_select(double *d, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

    while (lo < hi) {
        double pivot = d[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (d[i] < pivot)
                i++;
            while (d[j] > pivot)
                j--;
            if (i <= j) {
                double t = d[i];
                d[i++] = d[j];
                d[j--] = t;
            }
        }
        /* now d[lo..j] ≤ pivot ≤ d[i..hi], and d[j+1..i-1] equal the pivot */
        if (kk <= j)
            hi = j;
        else if (kk >= i)
            lo = i;
        else
            break;
    }
    return d[k];
}

void stats_acf(const double *v, size_t m, size_t maxlag, double *acf)
{
    double mean = 0, c0 = 0;

    for (size_t i = 0; i < m; i++)
        mean += v[i];
    mean /= (double)m;
    for (size_t i = 0; i < m; i++)
        c0 += (v[i] - mean) * (v[i] - mean);
    for (size_t k = 0; k <= maxlag; k++) {
        double c = 0;
        for (size_t i = 0; i + k < m; i++)
            c += (v[i] - mean) * (v[i + k] - mean);
        acf[k] = c0 > 0 ? c / c0 : 0;
    }
    if (c0 > 0)
        acf[0] = 1;
}
