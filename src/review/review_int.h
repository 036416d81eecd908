/* review_int.h — helpers shared by the files of src/review (private to the module). */
#ifndef AK_REVIEW_INT_H
#define AK_REVIEW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_review.h"
#include "asakai/ak_stats.h"

#define REVIEW_DAY_MS 86400000LL
#define REVIEW_HOUR_MS 3600000LL

/* Growth test of one series (docs/internals/review.md "Growth"). */
struct review_growth {
    size_t used;               /* points in the segments that were tested */
    double s, var_s, p;        /* summed over segments; p NaN when not tested */
    struct ak_stats_sen sen;   /* pooled within-segment Sen slope and 95 % CI, per step */
};

/* Buffers reused from series to series (the pair slopes of a 720-point series take 2 MB). */
struct review_scratch {
    double *d, *buf, *buf2, *smp, *cv, *ci, *row;
    size_t d_cap, buf_cap, buf2_cap, smp_cap, cv_cap, ci_cap, row_cap;
};
void review_scratch_release(struct review_scratch *sc); /* NULL-safe */

/* First index of s whose time is ≥ t, clamped to [0, s->n]. */
size_t review_index_at(const struct ak_review_series *s, int64_t t);

/* Copies s->v into x[0..s->n) with the warm-up after each restart and each deploy of the
 * series' service set to NaN. */
void review_mask(const struct ak_review_series *s, const struct ak_review_opts *o, double *x);

/* Steps per day when step_ms divides a day, else 0. */
size_t review_period(int64_t step_ms);

/* Growth test on the masked x (Hamed–Rao, max_lag 10, per restart segment, on the series minus
 * its hour-of-day profile when it spans ≥ 3 days). AK_OK and *ret filled, AK_EINVAL when no
 * segment has enough points. sc: scratch buffers, reused. */
int review_growth_test(const struct ak_review_series *s, const struct ak_review_opts *o,
                       const double *x, struct review_scratch *sc, struct review_growth *ret);

/* Median of v[0..m), m ≥ 1; reorders v. */
double review_median(double *v, size_t m);

/* The sentence subject "metric[ pNN][ of service] on instance" (generic) or the family word
 * ("memory", "disk /data", "file descriptors") when family is set. Returns a malloc'ed string. */
char *review_subject(const struct ak_review_series *s, bool family);
/* Whether the metric is a filesystem one (sentences say "fills"). */
bool review_is_disk(const char *metric);
/* link_prefix (or "/chart?series=") followed by key, percent-escaped. */
char *review_link(const char *prefix, const char *key);
/* "Nov 24 10:00 UTC". */
void review_fmt_time(int64_t ms, char *out, size_t cap);
/* "5 h", "40 min", "3 days". */
void review_fmt_age(int64_t ms, char *out, size_t cap);
/* "11", "0.4": days for sentences. */
void review_fmt_days(double d, char *out, size_t cap);

#endif
