/* test_stats.c — known-answer vectors of monitoring.md §2.10 and synthetic series for
 * src/stats. Tolerances are stated per assertion (absolute unless named "rel"). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "ak_test.h"
#include "asakai/ak_err.h"
#include "asakai/ak_stats.h"

#define AK_ASSERT_NEAR(a, b, tol)                                                                  \
    do {                                                                                           \
        double a__ = (a), b__ = (b);                                                               \
        if (!(fabs(a__ - b__) <= (tol)))                                                           \
            AK_FAIL_("%s ~= %s: %.17g != %.17g (tol %g)", #a, #b, a__, b__, (double)(tol));        \
    } while (0)
#define AK_ASSERT_REL(a, b, rel) AK_ASSERT_NEAR(a, b, fabs((double)(b)) * (rel))

/* Deterministic PRNG: splitmix64 and Box–Muller. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unif(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_norm(struct rng *r)
{
    double u = rng_unif(r), v = rng_unif(r);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* §2.10 A (pyMannKendall issue #29). */
static const double series1[] = {0.41625778, 0.40488883, 0.43044564, 0.44369687,
                                 0.46613348, 0.44420775, 0.45091315, 0.48484614,
                                 0.40252088, 0.43944978, 0.51613973, 0.49302274};
static const double series2[] = {0.35257984, 0.38692909, 0.39669828, 0.36296244,
                                 0.42035612, 0.39374964, 0.41100085, 0.43182076,
                                 0.40815853, 0.45394297, 0.41584767, 0.47399517};

/* §2.10 C: pyMannKendall's arbitrary_1d_data (tests/test_pymannkendall.py), 360 values, 7 NaN. */
#define N_ NAN
static const double rain[] = {
    32, 20, 25, 189, 240, 193, 379, 278, 301, 0, 0, 82, 0, 4, N_, N_, 121, 234, 360, 262, 120,
    30, 11, 1, 7, 3, 31, 31, 355, 102, 248, 274, 308, N_, 5, 26, 11, 16, 6, 48, 388, 539, 431,
    272, 404, 186, 0, 2, 0, 4, 1, 54, 272, 459, 235, 164, 365, 135, 2, N_, N_, 4, 0, 128, 210,
    163, 446, 225, 462, 467, 19, 13, 0, 3, 17, 132, 178, 338, 525, 623, 145, 31, 19, 3, 0, 29,
    25, 87, 259, 756, 486, 180, 292, 43, 92, 1, 0, 16, 2, 0, 130, 253, 594, 111, 273, 30, 0, 4,
    0, 27, 24, 41, 292, 378, 499, 265, 320, 227, 4, 0, 4, 14, 8, 48, 416, 240, 404, 207, 733,
    105, 0, 112, 0, 14, 0, 30, 140, 202, 289, 159, 424, 106, 3, 0, 65, 3, 14, 58, 268, 466, 432,
    266, 240, 95, 1, 0, 10, 26, 4, 114, 94, 289, 173, 208, 263, 156, 5, 0, 16, 16, 14, 0, 111,
    475, 534, 432, 471, 117, 70, 1, 3, 28, 7, 401, 184, 283, 338, 171, 335, 176, 0, 0, 10, 11,
    9, 140, 102, 208, 298, 245, 220, 29, 2, 27, 10, 13, 26, 84, 143, 367, 749, 563, 283, 353,
    10, 0, 0, 0, 0, 9, 246, 265, 343, 429, 168, 133, 17, 0, 18, 35, 76, 158, 272, 250, 190, 289,
    466, 84, 0, 0, 0, 0, 0, 22, 217, 299, 185, 115, 344, 203, 8, N_, N_, 0, 5, 284, 123, 254,
    476, 496, 326, 27, 20, 0, 4, 53, 72, 113, 214, 364, 219, 220, 156, 264, 0, 13, 0, 0, 45, 90,
    137, 638, 529, 261, 206, 251, 0, 0, 5, 9, 58, 72, 138, 130, 471, 328, 356, 523, 0, 1, 0, 0,
    12, 143, 193, 184, 192, 138, 174, 69, 1, 0, 0, 18, 25, 28, 92, 732, 320, 256, 302, 131, 15,
    0, 27, 0, 22, 20, 213, 393, 474, 374, 109, 159, 0, 0, 0, 3, 3, 49, 205, 128, 194, 570, 169,
    89, 0, 0, 0, 0, 0, 26, 185, 286, 92, 225, 244, 190, 3, 20};
#undef N_

AK_TEST(normal_distribution)
{
    /* tolerance 1e-13: Acklam + one Halley step is at double precision */
    AK_ASSERT_NEAR(ak_stats_norm_quantile(0.975), 1.959963984540054, 1e-13);
    AK_ASSERT_NEAR(ak_stats_norm_quantile(0.5), 0, 1e-15);
    AK_ASSERT_NEAR(ak_stats_norm_quantile(0.005), -2.5758293035489004, 1e-12);
    AK_ASSERT_NEAR(ak_stats_norm_quantile(1e-10), -6.3613409024040557, 1e-9);
    AK_ASSERT_NEAR(ak_stats_norm_p2(1.959963984540054), 0.05, 1e-14);
    AK_ASSERT_NEAR(ak_stats_norm_p2(-1.959963984540054), 0.05, 1e-14);
    AK_ASSERT(isnan(ak_stats_norm_quantile(0)));
    AK_ASSERT(isnan(ak_stats_norm_quantile(1)));
    AK_ASSERT(isnan(ak_stats_norm_p2(NAN)));
}

AK_TEST(vector_a_series1)
{
    struct ak_stats_mk mk;
    struct ak_stats_sen sen;

    AK_ASSERT_OK(ak_stats_mk(series1, 12, &mk));
    AK_ASSERT_EQ_INT(mk.n, 12);
    AK_ASSERT_NEAR(mk.s, 32, 0);
    AK_ASSERT_NEAR(mk.var_s, 212.6666667, 1e-7);
    AK_ASSERT_NEAR(mk.z, 2.125748992103599, 1e-12);
    AK_ASSERT_NEAR(mk.p, 0.0335241652, 1e-10);
    AK_ASSERT_NEAR(mk.tau, 0.48484848, 1e-8);
    AK_ASSERT_OK(ak_stats_sen(series1, 12, 0.05, &sen));
    AK_ASSERT_NEAR(sen.slope, 0.0070362813636363625, 1e-15);
    AK_ASSERT_NEAR(sen.intercept, 0.40525276250000003, 1e-12);
    AK_ASSERT_EQ_INT(sen.npairs, 66);
    AK_ASSERT(sen.lo <= sen.slope && sen.slope <= sen.hi);
}

AK_TEST(vector_a_series2_and_hamed_rao_pitfall)
{
    struct ak_stats_mk mk, hr;
    struct ak_stats_sen sen;

    AK_ASSERT_OK(ak_stats_mk(series2, 12, &mk));
    AK_ASSERT_NEAR(mk.s, 44, 0);
    AK_ASSERT_NEAR(mk.var_s, 212.6666667, 1e-7);
    AK_ASSERT_NEAR(mk.z, 2.948619569692089, 1e-12);
    AK_ASSERT_NEAR(mk.p, 0.0031919664, 1e-10);
    AK_ASSERT_NEAR(mk.tau, 0.6666667, 1e-7);
    AK_ASSERT_OK(ak_stats_sen(series2, 12, 0.05, &sen));
    AK_ASSERT_NEAR(sen.slope, 0.008305347500000004, 1e-15);
    AK_ASSERT_NEAR(sen.intercept, 0.36390027875, 1e-12);
    /* the old formula 1 − |..| gave var_s = −8.737 (NaN p); the |Σ| guard keeps it positive */
    AK_ASSERT_OK(ak_stats_mk_hamed_rao(series2, 12, 0.05, 0, &hr));
    AK_ASSERT(hr.var_ratio >= 1);
    AK_ASSERT(hr.var_s > 0 && !isnan(hr.p));
    AK_ASSERT_NEAR(mk.var_s * (2 - hr.var_ratio), -8.737, 1e-3);
}

AK_TEST(vector_b_ties_and_sen_ci)
{
    static const double x[] = {5, 3, 4, 4, 6, 7, 6, 8, 9, 9};
    struct ak_stats_mk mk;
    struct ak_stats_sen sen;

    AK_ASSERT_OK(ak_stats_mk(x, 10, &mk));
    AK_ASSERT_NEAR(mk.s, 34, 0);
    AK_ASSERT_NEAR(mk.var_s, 122, 1e-12);
    AK_ASSERT_NEAR(mk.z, 33 / sqrt(122.0), 1e-12);
    AK_ASSERT_NEAR(mk.z, 2.98768, 1e-5);
    AK_ASSERT_NEAR(mk.p, 0.0028110, 1e-7);
    AK_ASSERT_NEAR(mk.tau, 0.75556, 1e-5);
    AK_ASSERT_OK(ak_stats_sen(x, 10, 0.05, &sen));
    AK_ASSERT_EQ_INT(sen.npairs, 45);
    AK_ASSERT_NEAR(sen.slope, 2.0 / 3, 1e-12);
    AK_ASSERT_NEAR(sen.intercept, 3.0, 1e-12);
    AK_ASSERT_NEAR(sen.lo, 4.0 / 9, 1e-12);
    AK_ASSERT_NEAR(sen.hi, 1.0, 1e-12);
    /* a wider interval at alpha 0.01 contains the 95 % one */
    struct ak_stats_sen wide;
    AK_ASSERT_OK(ak_stats_sen(x, 10, 0.01, &wide));
    AK_ASSERT(wide.lo <= sen.lo && wide.hi >= sen.hi);
}

AK_TEST(vector_c_original_and_sen)
{
    struct ak_stats_mk mk;
    struct ak_stats_sen sen;

    AK_ASSERT_OK(ak_stats_mk(rain, 360, &mk));
    AK_ASSERT_EQ_INT(mk.n, 353);
    AK_ASSERT_NEAR(mk.s, -1959, 0);
    AK_ASSERT_REL(mk.var_s, 4889800.333333333, 1e-14);
    AK_ASSERT_NEAR(mk.z, -0.8854562842589916, 1e-12);
    AK_ASSERT_NEAR(mk.p, 0.37591058740506833, 1e-12);
    AK_ASSERT_NEAR(mk.tau, -0.03153167653875869, 1e-15);
    /* pairs over the original indices (a gap does not shorten time) */
    AK_ASSERT_OK(ak_stats_sen(rain, 360, 0.05, &sen));
    AK_ASSERT_NEAR(sen.slope, -0.006369426751592357, 1e-15);
    AK_ASSERT_NEAR(sen.intercept, 96.15286624203821, 1e-10);
    AK_ASSERT(sen.lo < 0 && sen.hi > 0);
}

AK_TEST(vector_c_seasonal)
{
    struct ak_stats_mk mk;
    struct ak_stats_sen sen;

    AK_ASSERT_OK(ak_stats_mk_seasonal(rain, 360, 12, &mk));
    AK_ASSERT_NEAR(mk.s, -399, 0);
    AK_ASSERT_REL(mk.var_s, 34702.333333333336, 1e-14);
    AK_ASSERT_NEAR(mk.z, -2.136504114534638, 1e-12);
    AK_ASSERT_NEAR(mk.p, 0.03263834596177739, 1e-12);
    AK_ASSERT_NEAR(mk.tau, -0.0794979079497908, 1e-15);
    AK_ASSERT_OK(ak_stats_sen_seasonal(rain, 360, 12, &sen));
    AK_ASSERT_NEAR(sen.slope, -0.08695652173913043, 1e-15);
    AK_ASSERT_NEAR(sen.intercept, 96.31159420289855, 1e-10);
    AK_ASSERT(isnan(sen.lo) && isnan(sen.hi));
}

AK_TEST(vector_c_serial_corrections)
{
    struct ak_stats_mk hr, yw;

    /* Hamed–Rao with |Σ| (pyMannKendall ≥ 2024-10), §2.10 C [C]: 1e-8 on the ratio */
    AK_ASSERT_OK(ak_stats_mk_hamed_rao(rain, 360, 0.05, 0, &hr));
    AK_ASSERT_NEAR(hr.s, -1959, 0);
    AK_ASSERT_NEAR(hr.var_ratio, 1.94688458, 1e-8);
    AK_ASSERT_NEAR(hr.var_s, 9519876.8535, 1e-3);
    AK_ASSERT_NEAR(hr.z, -0.6345955, 1e-7);
    AK_ASSERT_NEAR(hr.p, 0.5256922, 1e-7);
    /* the stale test-file value is the unguarded 1 − |..| form of the same sum */
    AK_ASSERT_NEAR(4889800.333333333 * (2 - hr.var_ratio), 259723.81316716125, 1e-2);
    /* Yue–Wang [V]: pyMannKendall's assert_allclose (rel 1e-7) */
    AK_ASSERT_OK(ak_stats_mk_yue_wang(rain, 360, 0, &yw));
    AK_ASSERT_REL(yw.var_s, 551950.4269211816, 1e-7);
    AK_ASSERT_REL(yw.z, -2.6354977553857504, 1e-7);
    AK_ASSERT_REL(yw.p, 0.008401398144858296, 1e-7);
}

AK_TEST(vector_d_pettitt)
{
    static const double x[] = {10, 11, 9, 10, 12, 10, 11, 15, 16, 14, 15, 17, 16, 15};
    struct ak_stats_pettitt pt;

    AK_ASSERT_OK(ak_stats_pettitt(x, 14, &pt));
    AK_ASSERT_EQ_INT(pt.n, 14);
    AK_ASSERT_NEAR(pt.k, 49, 1e-12);
    AK_ASSERT_EQ_INT(pt.index, 6); /* k = 7, 1-based */
    AK_ASSERT_NEAR(pt.p, 2 * exp(-4.9), 1e-15);
    AK_ASSERT_NEAR(pt.p, 0.0148932, 1e-7);
    /* a gap before the change moves the index in x, not the answer */
    double g[15];
    memcpy(g, x, 3 * sizeof(double));
    g[3] = NAN;
    memcpy(g + 4, x + 3, 11 * sizeof(double));
    AK_ASSERT_OK(ak_stats_pettitt(g, 15, &pt));
    AK_ASSERT_NEAR(pt.k, 49, 1e-12);
    AK_ASSERT_EQ_INT(pt.index, 7);
    AK_ASSERT_EQ_INT(ak_stats_pettitt(x, 2, &pt), AK_EINVAL);
}

AK_TEST(vector_e_benjamini_hochberg)
{
    static const double p[] = {0.01, 0.04, 0.03, 0.005, 0.20};
    static const double want[] = {0.025, 0.05, 0.05, 0.025, 0.20};
    double adj[5];
    bool rej[5];
    size_t k = 99;

    AK_ASSERT_OK(ak_stats_bh(p, 5, 0.05, false, adj, rej, &k));
    AK_ASSERT_EQ_INT(k, 4);
    for (size_t i = 0; i < 5; i++) {
        AK_ASSERT_NEAR(adj[i], want[i], 1e-15);
        AK_ASSERT_EQ_INT(rej[i], i != 4);
    }
    /* BY divides q by 1 + 1/2 + ... + 1/5 = 2.2833: critical values 0.00438·i, none pass */
    AK_ASSERT_OK(ak_stats_bh(p, 5, 0.05, true, adj, rej, &k));
    AK_ASSERT_EQ_INT(k, 0);
    AK_ASSERT(!rej[3]);
    AK_ASSERT_NEAR(adj[3], 0.025 * (137.0 / 60), 1e-15);
    /* NaN is not a test: m = 4 */
    static const double q[] = {0.01, NAN, 0.04, 0.03};
    AK_ASSERT_OK(ak_stats_bh(q, 4, 0.05, false, adj, rej, &k));
    AK_ASSERT(isnan(adj[1]) && !rej[1]);
    AK_ASSERT_NEAR(adj[0], 0.03, 1e-15);
    AK_ASSERT_EQ_INT(k, 3);
    static const double bad[] = {0.5, 1.5};
    AK_ASSERT_EQ_INT(ak_stats_bh(bad, 2, 0.05, false, adj, rej, &k), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_bh(p, 5, 0, false, adj, rej, &k), AK_EINVAL);
}

AK_TEST(hodges_lehmann_mann_whitney)
{
    /* expected values computed with R wilcox.test's formulas (continuity + tie correction) [C] */
    static const double b[] = {10, 12, 11, 13, 12, 14, 11, 12};
    static const double a[] = {14, 15, 13, 16, 15, NAN, 17, 14, 15, 13};
    struct ak_stats_shift sh;

    AK_ASSERT_OK(ak_stats_shift(b, 8, a, 10, &sh));
    AK_ASSERT_EQ_INT(sh.n1, 8);
    AK_ASSERT_EQ_INT(sh.n2, 9);
    AK_ASSERT_NEAR(sh.shift, 3.0, 0);
    AK_ASSERT_NEAR(sh.u, 68, 0);
    AK_ASSERT_NEAR(sh.z, 3.0631648214557856, 1e-12);
    AK_ASSERT_NEAR(sh.p, 0.0021900939649289884, 1e-12);
    /* swapping the samples mirrors the answer */
    AK_ASSERT_OK(ak_stats_shift(a, 10, b, 8, &sh));
    AK_ASSERT_NEAR(sh.shift, -3.0, 0);
    AK_ASSERT_NEAR(sh.z, -3.0631648214557856, 1e-12);
    static const double c[] = {5, 5, 5};
    AK_ASSERT_EQ_INT(ak_stats_shift(c, 3, c, 3, &sh), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_shift(b, 1, a, 10, &sh), AK_EINVAL);
}

AK_TEST(cusum_tabular)
{
    /* by hand with k = 0.5: C⁺ = 0 0 0 0 1.0 2.3 3.0 4.5 5.6 → first C⁺ > 4 at index 7 */
    static const double x[] = {0, 0.2, -0.1, 0.3, 1.5, 1.8, NAN, 1.2, 2.0, 1.6};
    struct ak_stats_cusum c;

    AK_ASSERT_OK(ak_stats_cusum(x, 10, 0, 1, 0.5, 4, &c));
    AK_ASSERT(c.alarm);
    AK_ASSERT_EQ_INT(c.index, 8);
    AK_ASSERT_EQ_INT(c.direction, 1);
    AK_ASSERT_NEAR(c.max_pos, 5.6, 1e-12);
    AK_ASSERT_NEAR(c.max_neg, 0, 0);
    /* mirrored: a downward alarm */
    double y[10];
    for (size_t i = 0; i < 10; i++)
        y[i] = -x[i];
    AK_ASSERT_OK(ak_stats_cusum(y, 10, 0, 1, 0.5, 4, &c));
    AK_ASSERT(c.alarm && c.direction == -1 && c.index == 8);
    AK_ASSERT_OK(ak_stats_cusum(x, 10, 0, 1, 0.5, 6, &c));
    AK_ASSERT(!c.alarm && c.direction == 0);
    AK_ASSERT_EQ_INT(ak_stats_cusum(x, 10, 0, 0, 0.5, 4, &c), AK_EINVAL);
}

AK_TEST(days_to_limit)
{
    double x[48];
    struct ak_stats_sen sen = {.slope = 0.5, .lo = 0.4, .hi = 0.625};
    struct ak_stats_days d;

    for (size_t i = 0; i < 48; i++)
        x[i] = 100 + 0.5 * (double)i;
    x[47] = NAN;
    /* level = median of x[23..46] = 100 + 0.5·34.5 = 117.25; 1200 − 117.25 = 1082.75 */
    AK_ASSERT_OK(ak_stats_days_to_limit(x, 48, 24, 1200, 24, &sen, &d));
    AK_ASSERT_NEAR(d.level, 117.25, 1e-12);
    AK_ASSERT(d.reaching);
    AK_ASSERT_NEAR(d.days, 1082.75 / 12, 1e-9);
    AK_ASSERT_NEAR(d.lo, 1082.75 / 15, 1e-9);
    AK_ASSERT_NEAR(d.hi, 1082.75 / 9.6, 1e-9);
    /* CI touching 0: no exhaustion at this confidence on the slow side */
    sen.lo = -0.1;
    AK_ASSERT_OK(ak_stats_days_to_limit(x, 48, 24, 1200, 24, &sen, &d));
    AK_ASSERT(d.reaching && isinf(d.hi) && isfinite(d.lo));
    /* falling free space towards 0 */
    struct ak_stats_sen down = {.slope = -0.5, .lo = -0.625, .hi = -0.4};
    AK_ASSERT_OK(ak_stats_days_to_limit(x, 48, 24, 0, 24, &down, &d));
    AK_ASSERT_NEAR(d.days, 117.25 / 12, 1e-9);
    AK_ASSERT_NEAR(d.lo, 117.25 / 15, 1e-9);
    AK_ASSERT_NEAR(d.hi, 117.25 / 9.6, 1e-9);
    /* heading away from the limit */
    AK_ASSERT_OK(ak_stats_days_to_limit(x, 48, 24, 0, 24, &sen, &d));
    AK_ASSERT(!d.reaching && isinf(d.days) && isinf(d.lo) && isinf(d.hi));
    AK_ASSERT_EQ_INT(ak_stats_days_to_limit(x, 48, 0, 1200, 24, &sen, &d), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_days_to_limit(x, 48, 24, 1200, 0, &sen, &d), AK_EINVAL);
    double gaps[3] = {NAN, NAN, NAN};
    AK_ASSERT_EQ_INT(ak_stats_days_to_limit(gaps, 3, 2, 1200, 24, &sen, &d), AK_EINVAL);
}

AK_TEST(gaps_are_skipped)
{
    double x[40], packed[30];
    size_t m = 0;
    struct ak_stats_mk a, b;
    struct ak_stats_sen sen;

    for (size_t i = 0; i < 40; i++) {
        x[i] = i % 4 == 1 ? NAN : 3 * (double)i + (double)((i * 7) % 5);
        if (!isnan(x[i]))
            packed[m++] = x[i];
    }
    AK_ASSERT_EQ_INT(m, 30);
    AK_ASSERT_OK(ak_stats_mk(x, 40, &a));
    AK_ASSERT_OK(ak_stats_mk(packed, 30, &b));
    AK_ASSERT_EQ_INT(a.n, 30);
    AK_ASSERT_NEAR(a.s, b.s, 0);
    AK_ASSERT_NEAR(a.var_s, b.var_s, 0);
    /* an exact line with gaps keeps its slope per original step */
    for (size_t i = 0; i < 40; i++)
        x[i] = i % 3 == 0 ? NAN : 2 * (double)i + 1;
    AK_ASSERT_OK(ak_stats_sen(x, 40, 0.05, &sen));
    AK_ASSERT_NEAR(sen.slope, 2, 0);
    AK_ASSERT_NEAR(sen.lo, 2, 0);
    AK_ASSERT_NEAR(sen.hi, 2, 0);
    AK_ASSERT_NEAR(sen.intercept, 1, 1e-12);
}

AK_TEST(errors_and_edges)
{
    static double big[5000];
    static const double three[] = {1, NAN, 2};
    static const double inf[] = {1, 2, INFINITY, 4};
    static const double flat[] = {7, 7, 7, 7, 7};
    struct ak_stats_mk mk;
    struct ak_stats_sen sen;

    /* over the caps: refused before reading or allocating */
    AK_ASSERT_EQ_INT(ak_stats_mk(big, AK_STATS_MAX_N + 1, &mk), AK_ETOOBIG);
    AK_ASSERT_EQ_INT(ak_stats_mk(big, 5000, &mk), AK_ETOOBIG);
    AK_ASSERT_EQ_INT(ak_stats_sen(big, 5000, 0.05, &sen), AK_ETOOBIG);
    AK_ASSERT_OK(ak_stats_mk(big, 4000, &mk));
    AK_ASSERT_EQ_INT(ak_stats_mk(three, 3, &mk), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_mk(inf, 4, &mk), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_sen(inf, 4, 0.05, &sen), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_sen(flat, 5, 1.5, &sen), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_mk_hamed_rao(flat, 5, 0, 0, &mk), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_mk_seasonal(flat, 5, 1, &mk), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_stats_mk_seasonal(flat, 5, 24, &mk), AK_EINVAL);
    /* a constant series: no trend, p = 1, never NaN */
    AK_ASSERT_OK(ak_stats_mk(flat, 5, &mk));
    AK_ASSERT(mk.s == 0 && mk.var_s == 0 && mk.z == 0 && mk.p == 1);
    AK_ASSERT_OK(ak_stats_mk_hamed_rao(flat, 5, 0.05, 0, &mk));
    AK_ASSERT(mk.z == 0 && mk.p == 1);
    /* untouched output on failure */
    mk.s = 12345;
    AK_ASSERT_EQ_INT(ak_stats_mk(inf, 4, &mk), AK_EINVAL);
    AK_ASSERT_NEAR(mk.s, 12345, 0);
}

#define HOURS (14 * 24)

/* 14 days hourly: level + slope·t + a daily sine + AR(1) noise. */
static void synth(double *x, struct rng *r, double slope, double amp, double phi, double sd)
{
    double e = 0;
    for (size_t t = 0; t < HOURS; t++) {
        e = phi * e + sd * rng_norm(r);
        x[t] = 1000 + slope * (double)t + amp * sin(2 * M_PI * (double)t / 24) + e;
    }
}

AK_TEST(synthetic_leak_with_daily_sine_is_found)
{
    double x[HOURS];
    struct rng r = {42};
    struct ak_stats_mk hr, smk;
    struct ak_stats_sen sen, ssen;

    /* 0.5/h = 12/day on a ±40 daily swing with AR(1) noise (φ 0.5, σ 8) */
    synth(x, &r, 0.5, 40, 0.5, 8);
    AK_ASSERT_OK(ak_stats_mk_hamed_rao(x, HOURS, 0.05, 10, &hr));
    AK_ASSERT(hr.p < 0.01 && hr.z > 0);
    AK_ASSERT_OK(ak_stats_mk_seasonal(x, HOURS, 24, &smk));
    AK_ASSERT(smk.p < 0.01 && smk.z > 0);
    AK_ASSERT_OK(ak_stats_sen(x, HOURS, 0.05, &sen));
    AK_ASSERT_NEAR(sen.slope, 0.5, 0.05);
    AK_ASSERT(sen.lo <= 0.5 && 0.5 <= sen.hi);
    AK_ASSERT_OK(ak_stats_sen_seasonal(x, HOURS, 24, &ssen));
    AK_ASSERT_NEAR(ssen.slope, 12, 1.2); /* per day */
}

AK_TEST(synthetic_flat_seasonal_and_gc_sawtooth_are_quiet)
{
    double x[HOURS];
    struct rng r = {7};
    struct ak_stats_mk hr, smk;
    struct ak_stats_sen sen;

    synth(x, &r, 0, 40, 0.5, 8);
    AK_ASSERT_OK(ak_stats_mk_hamed_rao(x, HOURS, 0.05, 10, &hr));
    AK_ASSERT(hr.p > 0.05);
    AK_ASSERT_OK(ak_stats_mk_seasonal(x, HOURS, 24, &smk));
    AK_ASSERT(smk.p > 0.05);
    /* GC sawtooth: heap climbs 200 over 5 h then drops (67.2 cycles: the window ends mid-cycle,
     * which is what fools least squares), flat on average, plus noise */
    for (size_t t = 0; t < HOURS; t++)
        x[t] = 2000 + 50 * (double)(t % 5) + 5 * rng_norm(&r);
    AK_ASSERT_OK(ak_stats_mk_hamed_rao(x, HOURS, 0.05, 10, &hr));
    AK_ASSERT(hr.p > 0.05);
    AK_ASSERT_OK(ak_stats_sen(x, HOURS, 0.05, &sen));
    /* drift over the whole window under 5 % of the sawtooth's amplitude */
    printf("# sawtooth: Sen slope %.5f/h, drift over the window %.2f (amplitude 200)\n",
           sen.slope, sen.slope * HOURS);
    AK_ASSERT(fabs(sen.slope) * HOURS < 10);
}

AK_TEST(false_positive_rate_flat_ar1)
{
    double x[HOURS];
    size_t fp_hr = 0, fp_all = 0, fp_plain = 0, fp_seas = 0, runs = 1000;
    struct ak_stats_mk mk;

    for (size_t k = 0; k < runs; k++) {
        struct rng r = {1000 + k};
        synth(x, &r, 0, 0, 0.6, 10);
        AK_ASSERT_OK(ak_stats_mk_hamed_rao(x, HOURS, 0.05, 10, &mk));
        fp_hr += mk.p < 0.05;
        AK_ASSERT_OK(ak_stats_mk_hamed_rao(x, HOURS, 0.05, 0, &mk));
        fp_all += mk.p < 0.05;
        AK_ASSERT_OK(ak_stats_mk(x, HOURS, &mk));
        fp_plain += mk.p < 0.05;
        AK_ASSERT_OK(ak_stats_mk_seasonal(x, HOURS, 24, &mk));
        fp_seas += mk.p < 0.05;
    }
    /* all n−1 lags (pyMannKendall's default) lets spurious negative far lags cancel the real
     * short-lag correlation; 10 lags is the setting the review uses */
    printf("# false-positive rate at alpha 0.05 over %zu flat AR(1) series (phi 0.6, sd 10, "
           "n %d): Hamed-Rao lags<=10 %.3f; Hamed-Rao all lags %.3f, seasonal MK %.3f, "
           "plain MK %.3f\n",
           runs, HOURS, (double)fp_hr / runs, (double)fp_all / runs, (double)fp_seas / runs,
           (double)fp_plain / runs);
    AK_ASSERT((double)fp_hr / runs < 0.08);
}

/* S by merge-sort counting (n ≥ 64) equals the pairwise count exactly, with heavy ties, NaN
 * gaps and around the 64 threshold. */
AK_TEST(mk_s_merge_count_matches_pairwise)
{
    static const size_t sizes[] = {63, 64, 65, 100, 257, 720};
    double x[720];

    for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++)
        for (int ties = 0; ties < 2; ties++) {
            struct rng r = {77 + t * 2 + (size_t)ties};
            struct ak_stats_mk mk;
            size_t n = sizes[t], m = 0;
            double v[720];
            long long s = 0;
            for (size_t i = 0; i < n; i++) {
                double z = rng_norm(&r) + 0.01 * (double)i;
                x[i] = ties ? round(z * 2) : z; /* a few distinct values: many ties */
                if (i % 17 == 5)
                    x[i] = NAN;
                if (!isnan(x[i]))
                    v[m++] = x[i];
            }
            for (size_t i = 0; i + 1 < m; i++)
                for (size_t j = i + 1; j < m; j++)
                    s += (v[j] > v[i]) - (v[j] < v[i]);
            AK_ASSERT_OK(ak_stats_mk(x, n, &mk));
            AK_ASSERT_EQ_INT(mk.n, m);
            AK_ASSERT(mk.s == (double)s);
        }
}

AK_TEST_MAIN(AK_T(normal_distribution), AK_T(vector_a_series1),
             AK_T(vector_a_series2_and_hamed_rao_pitfall), AK_T(vector_b_ties_and_sen_ci),
             AK_T(vector_c_original_and_sen), AK_T(vector_c_seasonal),
             AK_T(vector_c_serial_corrections), AK_T(vector_d_pettitt),
             AK_T(vector_e_benjamini_hochberg), AK_T(hodges_lehmann_mann_whitney),
             AK_T(cusum_tabular), AK_T(days_to_limit), AK_T(gaps_are_skipped),
             AK_T(errors_and_edges), AK_T(synthetic_leak_with_daily_sine_is_found),
             AK_T(synthetic_flat_seasonal_and_gc_sawtooth_are_quiet),
             AK_T(false_positive_rate_flat_ar1), AK_T(mk_s_merge_count_matches_pairwise))
