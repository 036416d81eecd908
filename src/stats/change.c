/* change.c — Benjamini–Hochberg, Pettitt, CUSUM and the Hodges–Lehmann/Mann–Whitney level shift
 * (§2.5, §2.8). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "asakai/ak_err.h"
#include "asakai/ak_stats.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"
#include "src/stats/stats_int.h"

struct pidx {
    double p;
    size_t i;
};

static int cmp_pidx(const void *a, const void *b)
{
    const struct pidx *x = a, *y = b;
    if (x->p != y->p)
        return (x->p > y->p) - (x->p < y->p);
    return (x->i > y->i) - (x->i < y->i);
}

/* Writes the step-up results for the mm sorted tests s[0..mm) with the level q/c. */
static size_t bh_apply(const struct pidx *s, size_t mm, double q, double c, double *adj,
                       bool *rej)
{
    size_t k = 0;
    double run = 1, dm = (double)mm;

    for (size_t i = 0; i < mm; i++)
        if (s[i].p <= (double)(i + 1) * q / (dm * c))
            k = i + 1;
    for (size_t i = mm; i > 0; i--) {
        double a = fmin(1.0, dm * c * s[i - 1].p / (double)i);
        run = fmin(run, a);
        if (adj)
            adj[s[i - 1].i] = run;
        if (rej)
            rej[s[i - 1].i] = i <= k;
    }
    return k;
}

int ak_stats_bh(const double *p, size_t m, double q, bool by_dependence, double *ret_adj,
                bool *ret_reject, size_t *ret_nreject)
{
    struct pidx *s = NULL;
    size_t mm = 0, k;
    double c = 1;

    if (m > AK_STATS_MAX_N)
        return AK_ETOOBIG;
    if (!(q > 0 && q <= 1))
        return AK_EINVAL;
    for (size_t i = 0; i < m; i++)
        if (!isnan(p[i]) && !(p[i] >= 0 && p[i] <= 1))
            return AK_EINVAL;
    s = ak_xmalloc((m ? m : 1) * sizeof(*s));
    for (size_t i = 0; i < m; i++) {
        if (ret_adj)
            ret_adj[i] = NAN;
        if (ret_reject)
            ret_reject[i] = false;
        if (!isnan(p[i]))
            s[mm++] = (struct pidx){p[i], i};
    }
    qsort(s, mm, sizeof(*s), cmp_pidx);
    if (by_dependence)
        for (size_t i = 2; i <= mm; i++)
            c += 1.0 / (double)i;
    k = bh_apply(s, mm, q, c, ret_adj, ret_reject);
    free(s);
    if (ret_nreject)
        *ret_nreject = k;
    return AK_OK;
}

int ak_stats_pettitt(const double *x, size_t n, struct ak_stats_pettitt *ret)
{
    struct ak_stats_pettitt res = {0};
    double *v = NULL, *rk = NULL, cum = 0, dm;
    size_t *idx = NULL, m = 0, best = 0;
    int r;

    r = stats_compact(x, n, &v, &idx, &m);
    if (r < 0)
        return r;
    if (m < 3) {
        r = AK_EINVAL;
        goto out;
    }
    dm = (double)m;
    rk = ak_xmalloc(m * sizeof(*rk));
    stats_ranks(v, m, rk);
    for (size_t k = 1; k <= m; k++) {
        cum += rk[k - 1];
        double u = fabs(2 * cum - (double)k * (dm + 1));
        if (u > res.k) {
            res.k = u;
            best = k;
        }
    }
    res.n = m;
    res.index = idx[best ? best - 1 : 0];
    res.p = fmin(1.0, 2 * exp(-6 * res.k * res.k / (dm * dm * dm + dm * dm)));
    *ret = res;
out:
    free(rk);
    free(idx);
    free(v);
    return r;
}

int ak_stats_cusum(const double *x, size_t n, double mu0, double sigma, double k, double h,
                   struct ak_stats_cusum *ret)
{
    struct ak_stats_cusum res = {0};
    double cp = 0, cn = 0;

    if (n > AK_STATS_MAX_N)
        return AK_ETOOBIG;
    if (!isfinite(mu0) || !isfinite(sigma) || !isfinite(k) || !isfinite(h) || !(sigma > 0) ||
        k < 0 || !(h > 0))
        return AK_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (isinf(x[i]))
            return AK_EINVAL;
        if (isnan(x[i]))
            continue;
        double z = (x[i] - mu0) / sigma;
        cp = fmax(0, cp + z - k);
        cn = fmax(0, cn - z - k);
        res.max_pos = fmax(res.max_pos, cp);
        res.max_neg = fmax(res.max_neg, cn);
        if (!res.alarm && (cp > h || cn > h)) {
            res.alarm = true;
            res.index = i;
            res.direction = cp > h ? 1 : -1;
        }
    }
    *ret = res;
    return AK_OK;
}

/* Σ (t³ − t) over the tie groups of the pooled samples. */
static double pooled_ties(const double *a, size_t na, const double *b, size_t nb)
{
    double *all = ak_xmalloc((na + nb) * sizeof(*all)), sum = 0;

    for (size_t i = 0; i < na; i++)
        all[i] = a[i];
    for (size_t i = 0; i < nb; i++)
        all[na + i] = b[i];
    qsort(all, na + nb, sizeof(*all), stats_cmp_double);
    for (size_t i = 0, j; i < na + nb; i = j) {
        for (j = i + 1; j < na + nb && all[j] == all[i]; j++)
            ;
        double t = (double)(j - i);
        sum += t * t * t - t;
    }
    free(all);
    return sum;
}

/* Fills shift and U from all differences after_j − before_i. */
static void hl_and_u(const double *b, size_t nb, const double *a, size_t na,
                     struct ak_stats_shift *res)
{
    size_t np = na * nb, k = 0;
    double *d = ak_xmalloc(np * sizeof(*d)), u = 0;

    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < na; j++) {
            d[k] = a[j] - b[i];
            u += d[k] > 0 ? 1 : d[k] == 0 ? 0.5 : 0;
            k++;
        }
    res->shift = stats_median_sort(d, np);
    res->u = u;
    free(d);
}

static int shift_test(const double *b, size_t nb, const double *a, size_t na,
                      struct ak_stats_shift *res)
{
    double n1 = (double)nb, n2 = (double)na, tot = n1 + n2, var, dev;

    if (nb < 2 || na < 2)
        return AK_EINVAL;
    if ((uint64_t)nb * na > AK_STATS_MAX_PAIRS)
        return AK_ETOOBIG;
    var = n1 * n2 / 12 * ((tot + 1) - pooled_ties(b, nb, a, na) / (tot * (tot - 1)));
    if (!(var > 0))
        return AK_EINVAL;
    res->n1 = nb;
    res->n2 = na;
    hl_and_u(b, nb, a, na, res);
    /* R wilcox.test(correct = TRUE): the correction follows the sign of U − mean */
    dev = res->u - n1 * n2 / 2;
    res->z = (dev - (dev > 0 ? 0.5 : dev < 0 ? -0.5 : 0)) / sqrt(var);
    res->p = ak_stats_norm_p2(res->z);
    return AK_OK;
}

int ak_stats_shift(const double *before, size_t n1, const double *after, size_t n2,
                   struct ak_stats_shift *ret)
{
    struct ak_stats_shift res = {0};
    double *b = NULL, *a = NULL;
    size_t nb = 0, na = 0;
    int r;

    r = stats_compact(before, n1, &b, NULL, &nb);
    if (r < 0)
        goto out;
    r = stats_compact(after, n2, &a, NULL, &na);
    if (r < 0)
        goto out;
    r = shift_test(b, nb, a, na, &res);
    if (r == AK_OK)
        *ret = res;
out:
    free(a);
    free(b);
    return r;
}
