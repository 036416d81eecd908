/* ak_review.h — the daily review: slow problems threshold alerts miss (issue 6).
 *
 * Pure: no I/O, no logging, no globals; thread-safe. Input is a set of regularly spaced series
 * (hourly aggregates for the daily review; minute or raw points for an on-demand look) with what
 * is known about them (limit, restarts, deploys); output is a ranked list of findings with a
 * plain-language sentence each. Methods and gates are in docs/internals/review.md and
 * ../shared/docs/reference/monitoring.md §2:
 *   growth         Mann–Kendall with a serial-correlation correction (or seasonal MK on 24
 *                  hour-of-day seasons, per the measured false-positive rate), Theil–Sen slope
 *                  and CI, Benjamini–Hochberg over all series, effect gate (min_growth_pct of
 *                  the limit, else of the median level, per day), warm-up after restarts and
 *                  deploys excluded; a series restarted in the window is tested per segment.
 *   days-to-limit  (limit − robust level)/Sen slope with the range from the slope CI, for
 *                  series with a limit, reported within days_horizon, fewest days first.
 *   level-shift    at each deploy of the series' service: same hours of day before and after
 *                  (Hodges–Lehmann shift, Mann–Whitney p, BH); without deploys a change-point
 *                  test (Pettitt), gated by min_shift_pct and by both sides being flat (a trend
 *                  is not a level shift).
 *   gap            a series that stopped reporting, a target that is down (an "up" series at 0),
 *                  a metric that vanished when another of the same service appeared (a rename).
 */
#ifndef AK_REVIEW_H
#define AK_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;

#define AK_REVIEW_MAX_SERIES 1000000
#define AK_REVIEW_MAX_POINTS 4000 /* per series (ak_stats' pairwise cap) */

enum ak_review_kind {
    AK_REVIEW_GROWTH = 0,
    AK_REVIEW_DAYS_TO_LIMIT,
    AK_REVIEW_LEVEL_SHIFT,
    AK_REVIEW_GAP,
};

/* One series, values at start_ms + i·step_ms (the mean of each step for a gauge, the per-second
 * rate for a counter: the caller derives them); NaN = no data for that step. All pointers are
 * borrowed for the duration of ak_review_run. */
struct ak_review_series {
    const char *service;       /* "" when none */
    const char *key;           /* canonical series key name{labels} */
    const char *metric;        /* metric name */
    const char *instance;      /* the instance label, NULL/"" when none (used in sentences) */
    const char *unit;          /* "bytes", "seconds", "ratio", "" — formats numbers in sentences */
    const double *v;
    size_t n;                  /* ≤ AK_REVIEW_MAX_POINTS */
    int64_t start_ms, step_ms; /* step_ms > 0 */
    int64_t first_ms, last_ms; /* oldest/newest raw sample of the series (gaps, renames) */
    double last_value;         /* newest raw value (an "up" series at 0 is a target down) */
    double limit;              /* the level it must not reach, NaN when none; a limit below the
                                  level (0 for free space) means "running out" */
    double scale;              /* capacity for percentages (MemTotal, filesystem size); NaN =
                                  use |limit|, else the median level */
    const char *limit_name;    /* "MemTotal", "filesystem size", "max FDs", a config name */
    const int64_t *restarts;   /* times the process behind the series restarted, sorted */
    size_t n_restarts;
};

struct ak_review_deploy {
    const char *service;
    const char *version;       /* may be NULL */
    int64_t at_ms;
};

struct ak_review_opts {
    int64_t now_ms;
    double fdr_q;              /* BH level, e.g. 0.05 */
    double min_growth_pct;     /* per day, of scale/limit/median level, e.g. 2 */
    double min_shift_pct;      /* of the baseline median, e.g. 10 */
    int64_t warmup_ms;         /* excluded after each restart and deploy, e.g. 2 h */
    double days_horizon;       /* days-to-limit reported within this many days, e.g. 30 */
    int64_t stale_ms;          /* a series silent for longer is a gap; 0 = 3 steps */
    size_t min_points;         /* fewest non-NaN points to test a series; 0 = 72 for hourly
                                  steps (3 days), else 30 */
    const struct ak_review_deploy *deploys; /* sorted by at_ms */
    size_t n_deploys;
    const char *link_prefix;   /* finding links are link_prefix + escaped key, default
                                  "/chart?series=" */
    int threads;               /* threads for the per-series growth tests, the caller's among
                                  them; 0 or 1 = the caller only, at most 64 (else AK_EINVAL).
                                  The result does not depend on it. */
};

struct ak_review_finding {
    enum ak_review_kind kind;
    char *service, *series, *metric, *instance;
    char *text;                /* the sentence, e.g. "memory on api-1 grows 1.8 %/day; reaches
                                  MemTotal in ~11 days (8–15)" */
    char *link;
    double confidence;         /* 1 − q (BH-adjusted p) for tests; 1 for observed gaps */
    double p, q;               /* NaN when not a test */
    double slope_per_day, slope_lo, slope_hi; /* units/day (growth, days-to-limit), else NaN */
    double pct_per_day;        /* slope as % of scale per day, else NaN */
    double days, days_lo, days_hi;            /* days-to-limit (hi may be INFINITY), else NaN */
    double limit;              /* NaN when none */
    char *limit_name;          /* NULL when none */
    double level;              /* robust current level (median of the last day), NaN if none */
    double shift, shift_pct;   /* level-shift: after − before, and % of the before median */
    int64_t at_ms;             /* deploy/change-point time (shift), last sample (gap), else 0 */
    char *version;             /* the deploy's version, NULL otherwise */
    size_t n;                  /* points used */
    double rank;               /* lower is more urgent: days-to-limit ascending, then growth,
                                  shifts, gaps */
};

struct ak_review_result {
    struct ak_review_finding *findings; /* sorted by rank */
    size_t n_findings;
    size_t n_series;           /* series given */
    size_t n_tested;           /* series with enough points that were tested for growth */
    size_t n_short;            /* skipped: too few points */
    size_t n_constant;         /* skipped: constant */
};
void ak_review_result_release(struct ak_review_result *r); /* NULL-safe */

/* Reviews series[0..n). AK_OK and *ret filled (possibly with no finding); AK_EINVAL with a
 * sentence in err for bad options (fdr_q outside (0,1), step_ms ≤ 0, n over the caps);
 * AK_ETOOBIG over AK_REVIEW_MAX_SERIES. A series with too few points or a non-finite value is
 * skipped (counted), never an error. Deterministic: same input, same output. */
int ak_review_run(const struct ak_review_series *series, size_t n,
                  const struct ak_review_opts *opts, struct ak_review_result *ret,
                  struct ak_buf *err);

/* "growth", "days-to-limit", "level-shift", "gap". */
const char *ak_review_kind_name(enum ak_review_kind k);

/* Formats v for a sentence in unit ("bytes" → "1.8 GiB", "seconds" → "250 ms", "ratio" →
 * "45 %", else 3 significant digits) into out (always NUL-terminated). */
void ak_review_format_value(double v, const char *unit, char *out, size_t cap);

#endif
