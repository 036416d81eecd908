/* ak_stats.h — robust trend, change and multiple-testing statistics for the daily review.
 *
 * Pure functions: no I/O, no logging, no globals; thread-safe. References are to
 * ../shared/docs/reference/monitoring.md §2 (see docs/internals/stats.md).
 *
 * Series are arrays of doubles in time order, one value per step (an hour for the review); the
 * index is the time. NaN marks a gap: every function skips NaN values explicitly and says below
 * how gaps affect the result (rank tests run on the remaining values in order; slopes use the
 * original indices, so a gap does not shorten time). Infinite values are rejected (AK_EINVAL).
 *
 * Size caps, checked before any allocation: linear and n log n functions take up to
 * AK_STATS_MAX_N values; the pairwise ones (Mann–Kendall, Sen, Hodges–Lehmann) up to
 * AK_STATS_MAX_PAIRS pairs (n ≤ 4000 for one series: 166 days of hourly points). Beyond that
 * they return AK_ETOOBIG. Scratch memory comes from ak_xmalloc (aborts on OOM).
 * Output structs are written only when AK_OK is returned.
 */
#ifndef AK_STATS_H
#define AK_STATS_H

#include <stdbool.h>
#include <stddef.h>

#define AK_STATS_MAX_N 1000000
#define AK_STATS_MAX_PAIRS 8000000

/* Result of a Mann–Kendall test (§2.1–2.3). */
struct ak_stats_mk {
    size_t n;         /* values used (NaN skipped) */
    double s;         /* Σ_{i<j} sgn(x_j − x_i) */
    double var_s;     /* Var(S) with tie correction, times var_ratio */
    double var_ratio; /* n/n*_s of the serial-correlation correction; 1 for the plain test */
    double z;         /* (S ∓ 1)/√var_s, 0 when S = 0 or var_s = 0 */
    double p;         /* two-sided: erfc(|z|/√2); 1 when z = 0 */
    double tau;       /* Kendall τ = S / (n(n−1)/2) (seasonal: S / Σ n_s(n_s−1)/2) */
};

/* Theil–Sen estimate (§2.4). Slope in units per index step. */
struct ak_stats_sen {
    double slope;     /* median of (x_j − x_i)/(j − i) over non-NaN pairs, original indices */
    double intercept; /* median(x) − median(indices of non-NaN values)·slope (Conover 1980) */
    double lo, hi;    /* Sen (1968) CI at the requested alpha; d_(M1), d_(M2) of sorted slopes */
    size_t npairs;
};

/* Two-sided normal tail: 2·(1 − Φ(|z|)) = erfc(|z|/√2). */
double ak_stats_norm_p2(double z);
/* Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation refined by one Halley step; relative
 * error below 1e-13). NaN outside (0,1). */
double ak_stats_norm_quantile(double p);

/* Plain Mann–Kendall on x[0..n) with NaN skipped (§2.1): S, tie-corrected Var(S), Z with
 * continuity correction, p by the normal approximation (also for n ≤ 10: callers wanting the
 * exact small-sample table must not report n ≤ 10; §2.9). AK_EINVAL when fewer than 3 values
 * remain or a value is infinite; AK_ETOOBIG over AK_STATS_MAX_PAIRS pairs. */
int ak_stats_mk(const double *x, size_t n, struct ak_stats_mk *ret);

/* Mann–Kendall with the Hamed & Rao (1998) variance correction (§2.2): detrend the non-NaN
 * values with the Sen slope (pairs over original indices, as pyMannKendall does), x'_k = x_k −
 * β·k over the compacted positions k = 1..n, rank (average ties), take the biased ACF of the ranks
 * for lags 1..max_lag (0 means all, n−1), keep only lags with |ρ_k| > z_{1−alpha/2}/√n, and
 * multiply Var(S) by n/n*_s = 1 + 2/(n(n−1)(n−2))·|Σ (n−k)(n−k−1)(n−k−2)ρ_k|. The |Σ| is the
 * documented guard of pyMannKendall ≥ 2024-10 (issue #29): the ratio is never below 1, so the
 * variance can never become negative. alpha in (0,1). Same errors as ak_stats_mk.
 * max_lag 0 reproduces pyMannKendall (§2.10 C) but is liberal on autocorrelated data (14 % false
 * positives at alpha 0.05 on AR(1) φ 0.6); the review should pass 10 (7.3 %, docs/internals). */
int ak_stats_mk_hamed_rao(const double *x, size_t n, double alpha, size_t max_lag,
                          struct ak_stats_mk *ret);

/* Mann–Kendall with the Yue & Wang (2004) correction (§2.2): n/n*_s = 1 + 2·Σ_{k=1}^{L}
 * (1 − k/n)·ρ_k with ρ the biased ACF of the Sen-detrended values (not ranks), L = max_lag or
 * n−1 when 0. The ratio can fall below 1 (it does on vector C); when it is ≤ 0 the correction is
 * meaningless and AK_EINVAL is returned. Same errors as ak_stats_mk otherwise. */
int ak_stats_mk_yue_wang(const double *x, size_t n, size_t max_lag, struct ak_stats_mk *ret);

/* Seasonal Mann–Kendall (Hirsch, Slack & Smith 1982; §2.3): value i belongs to season
 * i mod period (period 24 on hourly data: hour-of-day seasons when x[0] is at hour 0). S and
 * Var(S) are summed over seasons (each on its own non-NaN values, seasons with fewer than 2
 * values contribute nothing), Z/p as for the plain test, τ = S / Σ n_s(n_s−1)/2.
 * AK_EINVAL when period < 2 or no season has 2 values. */
int ak_stats_mk_seasonal(const double *x, size_t n, size_t period, struct ak_stats_mk *ret);

/* Theil–Sen slope, Conover intercept and Sen's confidence interval at level 1 − alpha (§2.4):
 * N = #pairs, C = z_{1−alpha/2}·√Var(S) (tie-corrected, from the non-NaN values),
 * M1 = round((N − C)/2), M2 = round((N + C)/2 + 1), clamped to [1, N]; CI = [d_(M1), d_(M2)].
 * Exact O(N log N) over all pairs. AK_EINVAL with fewer than 2 non-NaN values or alpha outside
 * (0,1); AK_ETOOBIG over AK_STATS_MAX_PAIRS pairs. */
int ak_stats_sen(const double *x, size_t n, double alpha, struct ak_stats_sen *ret);

/* Seasonal Sen slope (§2.3): median over within-season pairs (i ≡ j mod period) of
 * (x_j − x_i)/((j − i)/period), so the unit is per cycle (per day when period = 24);
 * intercept = median(x) − median(non-NaN indices)/period·slope (as pyMannKendall). lo/hi are
 * NaN (no CI is defined here). AK_EINVAL when period < 2 or no within-season pair exists. */
int ak_stats_sen_seasonal(const double *x, size_t n, size_t period, struct ak_stats_sen *ret);

/* Days until a series reaches a limit (§2.7). */
struct ak_stats_days {
    double level;   /* median of the last k non-NaN values */
    bool reaching;  /* the Sen slope heads towards the limit (or the level is already there) */
    double days;    /* (limit − level)/(per_day·slope) */
    double lo, hi;  /* range from the slope CI; hi = INFINITY when the CI bound on the slow side
                     * does not head towards the limit ("no exhaustion at this confidence") */
};

/* Days to limit from the robust level (median of the last k non-NaN values of x; k > n means
 * all) and a Sen estimate in units per step (sen, e.g. from ak_stats_sen on the same x; NaN
 * lo/hi fall back to the slope), with per_day steps per day (24 for hourly data). The direction
 * is that of limit − level: a limit above the level needs a positive slope, a limit below (free
 * space running out towards 0) a negative one; a level equal to the limit gives 0 days. When the
 * slope does not head to the limit: reaching = false and days/lo/hi = INFINITY. AK_EINVAL when
 * k = 0, per_day ≤ 0, a value is infinite, limit or sen->slope is not finite, sen->lo/hi is
 * infinite, or x has no non-NaN value; AK_ETOOBIG over AK_STATS_MAX_N. */
int ak_stats_days_to_limit(const double *x, size_t n, size_t k, double limit, double per_day,
                           const struct ak_stats_sen *sen, struct ak_stats_days *ret);

/* Benjamini–Hochberg (1995) at FDR level q (§2.8). ret_adj[i] (optional, may be NULL) gets the
 * adjusted p-value min_{j≥i} min(1, m·p_(j)/j) of p[i]; ret_reject[i] (optional) whether H_i is
 * rejected (p_(i) ≤ i·q/m up to the largest such i). NaN p-values are not tests: they are left
 * out of m and get adj = NaN, reject = false. *ret_nreject (optional) = number rejected.
 * AK_EINVAL when q is outside (0,1] or a p-value is outside [0,1]; AK_ETOOBIG over
 * AK_STATS_MAX_N. Set by_dependence to use Benjamini–Yekutieli (q / Σ 1/i, adj × Σ 1/i). */
int ak_stats_bh(const double *p, size_t m, double q, bool by_dependence, double *ret_adj,
                bool *ret_reject, size_t *ret_nreject);

/* Pettitt change point (§2.5). */
struct ak_stats_pettitt {
    size_t n;      /* values used */
    double k;      /* K = max |U_k| */
    size_t index;  /* index in x of the last value of the first segment */
    double p;      /* ≈ min(1, 2·exp(−6K²/(n³+n²))), good for p ≤ 0.5 */
};

/* Pettitt (1979) as cran/trend: average ranks, U_k = 2·Σ_{i≤k} r_i − k(n+1) over the non-NaN
 * values, first k reaching the maximum |U_k| wins. AK_EINVAL with fewer than 3 non-NaN values
 * or an infinite value; AK_ETOOBIG over AK_STATS_MAX_N. */
int ak_stats_pettitt(const double *x, size_t n, struct ak_stats_pettitt *ret);

/* Tabular CUSUM (Page 1954; §2.5). */
struct ak_stats_cusum {
    bool alarm;
    size_t index;     /* index in x of the first alarm (valid when alarm) */
    int direction;    /* +1 upward (C⁺ > h), −1 downward (C⁻ > h), 0 without alarm */
    double max_pos;   /* max C⁺ and max C⁻ over the run (until the end, not the alarm) */
    double max_neg;
};

/* z_t = (x_t − mu0)/sigma; C⁺ = max(0, C⁺ + z − k), C⁻ = max(0, C⁻ − z − k); alarm at the first
 * t with C⁺ > h or C⁻ > h. NaN values are skipped (the sums carry over the gap). Callers should
 * pass deseasonalised residuals (autocorrelation inflates false alarms). AK_EINVAL when sigma ≤ 0,
 * k < 0, h ≤ 0, a parameter is not finite or a value is infinite; AK_ETOOBIG over
 * AK_STATS_MAX_N. */
int ak_stats_cusum(const double *x, size_t n, double mu0, double sigma, double k, double h,
                   struct ak_stats_cusum *ret);

/* Level shift between two samples (§2.5). */
struct ak_stats_shift {
    size_t n1, n2;  /* values used in before and after */
    double shift;   /* Hodges–Lehmann: median of (after_j − before_i) */
    double u;       /* Mann–Whitney U of "after": #(after > before) + #ties/2 */
    double z;       /* (U − n1n2/2 − sign(U − n1n2/2)·0.5)/σ_U, σ_U tie-corrected (as R) */
    double p;       /* two-sided normal approximation erfc(|z|/√2) */
};

/* Hodges–Lehmann shift and Mann–Whitney U test (normal approximation with continuity and tie
 * correction, as R wilcox.test(correct = TRUE, exact = FALSE)) of after[] against before[]; NaN
 * skipped in both. AK_EINVAL with fewer than 2 non-NaN values in either, an infinite value, or
 * when all values are equal (σ_U = 0); AK_ETOOBIG when n1·n2 > AK_STATS_MAX_PAIRS. */
int ak_stats_shift(const double *before, size_t n1, const double *after, size_t n2,
                   struct ak_stats_shift *ret);

#endif
