/* ak_tsdb.h — compressed time-series chunks and downsampling tiers (issue 6, "Store").
 *
 * Pure: no I/O, no logging, no globals, no allocation; thread-safe per object. References are
 * to ../shared/docs/reference/monitoring.md §1.1 (Netdata tiers) and §1.2 (Prometheus/Gorilla
 * chunks); see docs/internals/tsdb.md for the bit layout and measured bytes per sample.
 *
 * Timestamps are milliseconds since the epoch and must be >= 0 and strictly increasing within a
 * chunk or a tier set. Values are IEEE-754 doubles stored bit-exactly (NaN payloads, ±Inf and -0
 * round-trip unchanged).
 */
#ifndef AK_TSDB_H
#define AK_TSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Samples per chunk (Prometheus' 120, §1.2). */
#define AK_TSDB_CHUNK_MAX_SAMPLES 120
/* Worst-case encoded size of a full chunk: 1-byte count + 136 bits for the first sample +
 * 146 bits for each further one, rounded up to bytes (2190). */
#define AK_TSDB_CHUNK_MAX_BYTES 2190

/* Encoder for one chunk of one series. Plain struct: zero it with ak_tsdb_chunk_init. */
struct ak_tsdb_chunk {
    uint8_t buf[AK_TSDB_CHUNK_MAX_BYTES];
    size_t nbits;    /* bits written after the header */
    unsigned n;      /* samples appended */
    int64_t t;       /* last timestamp */
    uint64_t delta;  /* last timestamp delta */
    uint64_t v;      /* last value bits */
    unsigned lead;   /* current XOR window: leading zeros, 0xff = none yet */
    unsigned trail;  /* current XOR window: trailing zeros */
};

/* Empties c. */
void ak_tsdb_chunk_init(struct ak_tsdb_chunk *c);

/* Appends one sample. AK_EINVAL if t_ms < 0 or t_ms <= the previous timestamp; AK_ETOOBIG if the
 * chunk already holds AK_TSDB_CHUNK_MAX_SAMPLES (start a new chunk). c is unchanged on error. */
int ak_tsdb_chunk_append(struct ak_tsdb_chunk *c, int64_t t_ms, double v);

/* Number of samples appended so far. */
unsigned ak_tsdb_chunk_count(const struct ak_tsdb_chunk *c);

/* Finishes the encoding (writes the header) and returns the encoded bytes, valid until the next
 * append or init; *ret_len gets their length. Appending after finish is allowed: finish again
 * to get the longer encoding. */
const uint8_t *ak_tsdb_chunk_finish(struct ak_tsdb_chunk *c, size_t *ret_len);

/* Decoder over encoded bytes (not copied: they must outlive the iterator). */
struct ak_tsdb_iter {
    const uint8_t *p;
    size_t len;
    size_t pos;      /* bit position after the header */
    unsigned n, i;   /* samples in the chunk, samples returned */
    int64_t t;
    uint64_t delta;
    uint64_t v;
    unsigned lead, trail;
};

/* Starts decoding p[0..len). AK_ECORRUPT if the header is short or claims more than
 * AK_TSDB_CHUNK_MAX_SAMPLES samples or len exceeds AK_TSDB_CHUNK_MAX_BYTES. */
int ak_tsdb_iter_init(struct ak_tsdb_iter *it, const uint8_t *p, size_t len);

/* Next sample into *ret_t, *ret_v: AK_OK. At the end AK_ENOTFOUND, after checking that no bytes
 * and no non-zero padding bits follow the last sample. AK_ECORRUPT on any malformed bit string,
 * timestamps that are not strictly increasing or negative, or a read past len (never done).
 * After AK_ECORRUPT every further call returns AK_ECORRUPT. */
int ak_tsdb_iter_next(struct ak_tsdb_iter *it, int64_t *ret_t, double *ret_v);

/* Decodes a whole chunk into ts[], vs[] (room for cap samples each); *ret_n gets the count.
 * AK_ECORRUPT as above; AK_ETOOBIG if the chunk holds more than cap samples. Arrays are
 * written only up to the samples decoded; *ret_n only on success. */
int ak_tsdb_chunk_decode(const uint8_t *p, size_t len, int64_t *ts, double *vs, size_t cap,
                         size_t *ret_n);

/* ---- Downsampling tiers (§1.1: Netdata tier 1 = per minute, tier 2 = per hour) ---- */

enum { AK_TSDB_TIER_MINUTE = 0, AK_TSDB_TIER_HOUR = 1, AK_TSDB_NTIERS = 2 };

/* Resolution of each tier in ms: 60000 and 3600000. */
extern const int64_t ak_tsdb_tier_ms[AK_TSDB_NTIERS];

/* One aggregate point over [start_ms, start_ms + tier resolution). Only finite sample values
 * are aggregated (NaN is a gap or a Prometheus stale marker; ±Inf would poison sum). Values are
 * the raw ones: for counters the point holds raw counter values and `decreases` counts samples
 * lower than the previous finite sample of the series (a counter reset, including a reset
 * between the previous point and this one); computing rates is the reader's job. */
struct ak_tsdb_point {
    int64_t start_ms;
    double min, max, sum;
    double first, last;    /* first and last finite value in the bucket, by time */
    uint64_t count;        /* finite samples aggregated (>= 1: empty buckets are not emitted) */
    uint64_t decreases;    /* samples with value < previous finite value */
};

/* Receives a finished point of tier `tier`. A non-zero return stops ak_tsdb_tiers_add/flush,
 * which return it; that point counts as emitted, and a failed add has not taken its sample (it
 * may be fed again). */
typedef int (*ak_tsdb_point_fn)(void *ctx, unsigned tier, const struct ak_tsdb_point *p);

struct ak_tsdb_tiers {
    ak_tsdb_point_fn fn;
    void *ctx;
    struct ak_tsdb_point cur[AK_TSDB_NTIERS];
    bool open[AK_TSDB_NTIERS];
    bool have_t, have_v;
    int64_t last_t;
    double last_v;         /* previous finite value, for `decreases` */
};

/* Sets up tiers that report finished points to fn(ctx, ...). */
void ak_tsdb_tiers_init(struct ak_tsdb_tiers *tr, ak_tsdb_point_fn fn, void *ctx);

/* Feeds one sample. AK_EINVAL if t_ms < 0 or t_ms <= the previous sample's time (nothing done).
 * A sample in a later bucket first emits the open point of that tier (minute before hour).
 * Buckets without finite samples emit nothing: a gap is a missing point. */
int ak_tsdb_tiers_add(struct ak_tsdb_tiers *tr, int64_t t_ms, double v);

/* Emits the open points (minute before hour) and closes them; later samples must still be newer
 * than the last one fed. Returns AK_OK or the callback's non-zero return. */
int ak_tsdb_tiers_flush(struct ak_tsdb_tiers *tr);

#endif
