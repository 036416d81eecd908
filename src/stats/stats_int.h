/* stats_int.h — helpers shared by the files of src/stats (private to the module). */
#ifndef AK_STATS_INT_H
#define AK_STATS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "asakai/ak_stats.h"

/* Copies the non-NaN values of x[0..n) into a new array *ret_v (and their indices into *ret_idx
 * when ret_idx is not NULL); *ret_m = their count. AK_EINVAL on an infinite value, AK_ETOOBIG when
 * n > AK_STATS_MAX_N (checked before allocating). On success the caller frees both. */
int stats_compact(const double *x, size_t n, double **ret_v, size_t **ret_idx, size_t *ret_m);

/* AK_ETOOBIG when m values make more than AK_STATS_MAX_PAIRS pairs, else AK_OK. */
int stats_check_pairs(size_t m);

int stats_cmp_double(const void *a, const void *b);
/* Median of v[0..m), m ≥ 1; sorts v. */
double stats_median_sort(double *v, size_t m);
/* Average ranks (1-based, ties get the mean of their ranks) of v[0..m) into r[0..m). */
void stats_ranks(const double *v, size_t m, double *r);
/* Σ_{i<j} sgn(v_j − v_i). */
double stats_mk_s(const double *v, size_t m);
/* Var(S) with the tie correction: [m(m−1)(2m+5) − Σ t(t−1)(2t+5)]/18. */
double stats_mk_var(const double *v, size_t m);
/* Fills z, p, tau of r from r->s, r->var_s and the pair count npairs. */
void stats_mk_finish(struct ak_stats_mk *r, double npairs);
/* All pairwise slopes (x_j − x_i)/(idx_j − idx_i) of the compacted series, sorted when sort is
 * set, into a new array *ret_d of *ret_np entries. Caller checked stats_check_pairs(m). */
void stats_sen_slopes(const double *v, const size_t *idx, size_t m, bool sort, double **ret_d,
                      size_t *ret_np);
/* The k-th smallest (0-based) of d[0..n), k < n; reorders d (quickselect, Hoare partition). */
double stats_select(double *d, size_t n, size_t k);
/* Biased autocorrelation of v[0..m) for lags 0..maxlag into acf[0..maxlag] (acf[0] = 1, all zero
 * when the variance is zero), as statsmodels' acf / pyMannKendall's __acf. */
void stats_acf(const double *v, size_t m, size_t maxlag, double *acf);

#endif
