/* test_tsdb.c — chunk round trips, compression, corruption handling and tier aggregates. */
#include <math.h>

#include "ak_test.h"
#include "asakai/ak_err.h"
#include "asakai/ak_tsdb.h"

#define MAXN 20000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static double unif(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static uint64_t bits(double v)
{
    uint64_t u = 0;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static int64_t ts[MAXN];
static double vs[MAXN];

/* Encodes ts/vs[0..n) into consecutive chunks, decodes each and compares bit-exactly.
 * Returns the total encoded size, or 0 on a mismatch. */
static size_t roundtrip(size_t n)
{
    static struct ak_tsdb_chunk c;
    int64_t dt[AK_TSDB_CHUNK_MAX_SAMPLES];
    double dv[AK_TSDB_CHUNK_MAX_SAMPLES];
    size_t total = 0, i = 0;

    while (i < n) {
        size_t start = i, len = 0, got = 0;
        const uint8_t *p = NULL;

        ak_tsdb_chunk_init(&c);
        while (i < n && ak_tsdb_chunk_append(&c, ts[i], vs[i]) == AK_OK)
            i++;
        if (i == start)
            return 0;
        p = ak_tsdb_chunk_finish(&c, &len);
        if (len > AK_TSDB_CHUNK_MAX_BYTES)
            return 0;
        if (ak_tsdb_chunk_decode(p, len, dt, dv, AK_TSDB_CHUNK_MAX_SAMPLES, &got) != AK_OK)
            return 0;
        if (got != i - start)
            return 0;
        for (size_t k = 0; k < got; k++)
            if (dt[k] != ts[start + k] || bits(dv[k]) != bits(vs[start + k]))
                return 0;
        total += len;
    }
    return total;
}

static void report(const char *name, size_t n, size_t bytes)
{
    printf("# %s: %zu samples, %zu bytes, %.3f B/sample\n", name, n, bytes, (double)bytes / n);
}

AK_TEST(append_rejects_bad_input)
{
    static struct ak_tsdb_chunk c;
    size_t len = 0;

    ak_tsdb_chunk_init(&c);
    AK_ASSERT_EQ_INT(ak_tsdb_chunk_append(&c, -1, 1.0), AK_EINVAL);
    AK_ASSERT_OK(ak_tsdb_chunk_append(&c, 1000, 1.0));
    AK_ASSERT_EQ_INT(ak_tsdb_chunk_append(&c, 1000, 2.0), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tsdb_chunk_append(&c, 999, 2.0), AK_EINVAL);
    for (int i = 1; i < AK_TSDB_CHUNK_MAX_SAMPLES; i++)
        AK_ASSERT_OK(ak_tsdb_chunk_append(&c, 1000 + i, (double)i));
    AK_ASSERT_EQ_INT(ak_tsdb_chunk_append(&c, 5000, 1.0), AK_ETOOBIG);
    AK_ASSERT_EQ_INT(ak_tsdb_chunk_count(&c), AK_TSDB_CHUNK_MAX_SAMPLES);
    (void)ak_tsdb_chunk_finish(&c, &len);
    AK_ASSERT(len > 1);
}

AK_TEST(empty_and_single)
{
    static struct ak_tsdb_chunk c;
    int64_t t = 0;
    double v = 0;
    size_t len = 0, n = 7;
    const uint8_t *p = NULL;

    ak_tsdb_chunk_init(&c);
    p = ak_tsdb_chunk_finish(&c, &len);
    AK_ASSERT_EQ_INT(len, 1);
    AK_ASSERT_OK(ak_tsdb_chunk_decode(p, len, &t, &v, 1, &n));
    AK_ASSERT_EQ_INT(n, 0);
    AK_ASSERT_OK(ak_tsdb_chunk_append(&c, INT64_MAX, -0.0));
    p = ak_tsdb_chunk_finish(&c, &len);
    AK_ASSERT_OK(ak_tsdb_chunk_decode(p, len, &t, &v, 1, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT(t == INT64_MAX);
    AK_ASSERT(bits(v) == bits(-0.0));
    AK_ASSERT_EQ_INT(ak_tsdb_chunk_decode(p, len, &t, &v, 0, &n), AK_ETOOBIG);
}

AK_TEST(roundtrip_random_bits)
{
    size_t n = 5000, bytes = 0;
    int64_t t = (int64_t)(rnd() >> 30);

    for (size_t i = 0; i < n; i++) {
        uint64_t u = rnd();
        /* every bucket: tiny, 14/17/20-bit, and huge deltas */
        static const uint64_t scale[] = {1, 100, 20000, 600000, 1ull << 40};
        uint64_t k = rnd() % 5; /* two statements: argument order is unspecified */
        t += 1 + (int64_t)(rnd() % scale[k]);
        ts[i] = t;
        memcpy(&vs[i], &u, sizeof(u)); /* random bit patterns: NaNs with payloads, denormals */
    }
    bytes = roundtrip(n);
    AK_ASSERT(bytes > 0);
    report("random bits", n, bytes);
}

AK_TEST(roundtrip_special_values)
{
    static const double sv[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e308, -1e-308, 5e-324,
                                1.0, 1.0, NAN, NAN, 0.1, 0.2, 0.3};
    size_t n = sizeof(sv) / sizeof(sv[0]);

    for (size_t i = 0; i < n; i++) {
        ts[i] = (int64_t)(i * i * 1000);
        vs[i] = sv[i];
    }
    ts[n] = INT64_MAX - 1; /* a jump to the end of time */
    vs[n] = 42;
    ts[n + 1] = INT64_MAX;
    vs[n + 1] = 42;
    AK_ASSERT(roundtrip(n + 2) > 0);
}

AK_TEST(roundtrip_irregular_and_jumps)
{
    size_t n = 3000;
    int64_t t = 1700000000000;

    for (size_t i = 0; i < n; i++) {
        t += (i % 97 == 0) ? 86400000 * 3 : 15000 + (int64_t)(rnd() % 2000) - 1000;
        if (i % 211 == 0)
            t += 1;
        ts[i] = t;
        vs[i] = (i % 50 == 0) ? 1e15 * unif() : (double)(i % 13);
    }
    AK_ASSERT(roundtrip(n) > 0);
}

static size_t fill_gauge(int64_t jitter_ms)
{
    size_t n = 5760; /* one day at 15 s */
    int64_t t0 = 1700000000000;
    double mem = 8.0e9;

    for (size_t i = 0; i < n; i++) {
        /* node_memory_MemAvailable_bytes: whole pages, small random walk */
        mem += 4096.0 * (double)((int64_t)(rnd() % 33) - 16);
        ts[i] = t0 + (int64_t)i * 15000 + (jitter_ms ? (int64_t)(rnd() % (uint64_t)jitter_ms) : 0);
        vs[i] = mem;
    }
    return n;
}

AK_TEST(compression_gauge)
{
    size_t n = fill_gauge(0), bytes = roundtrip(n);

    AK_ASSERT(bytes > 0);
    report("gauge 15 s, memory bytes random walk", n, bytes);
    AK_ASSERT((double)bytes / n < 2.5);
    n = fill_gauge(3);
    bytes = roundtrip(n);
    AK_ASSERT(bytes > 0);
    report("same gauge, 0-2 ms scrape jitter", n, bytes);
    AK_ASSERT((double)bytes / n < 5.0);
}

AK_TEST(compression_load_and_counter)
{
    size_t n = 5760, bytes = 0;
    double c = 123456789.0;

    for (size_t i = 0; i < n; i++) {
        ts[i] = 1700000000000 + (int64_t)i * 15000;
        vs[i] = round((0.5 + 0.3 * sin((double)i / 200.0) + 0.05 * unif()) * 100.0) / 100.0;
    }
    bytes = roundtrip(n);
    AK_ASSERT(bytes > 0);
    report("node_load1-like, 2 decimals", n, bytes);
    AK_ASSERT((double)bytes / n < 9.0);
    for (size_t i = 0; i < n; i++) {
        c += (double)(100000 + rnd() % 5000);
        if (i == 3000)
            c = 0; /* counter reset */
        vs[i] = c;
    }
    bytes = roundtrip(n);
    AK_ASSERT(bytes > 0);
    report("byte counter with one reset", n, bytes);
    AK_ASSERT((double)bytes / n < 6.0);
}

AK_TEST(compression_constant)
{
    size_t n = 5760, bytes = 0;

    for (size_t i = 0; i < n; i++) {
        ts[i] = 1700000000000 + (int64_t)i * 15000;
        vs[i] = 1.0; /* node_up-like */
    }
    bytes = roundtrip(n);
    AK_ASSERT(bytes > 0);
    report("constant 15 s", n, bytes);
    AK_ASSERT((double)bytes / n < 0.3);
}

static int decode_all(const uint8_t *p, size_t len, size_t *ret_n)
{
    int64_t dt[AK_TSDB_CHUNK_MAX_SAMPLES];
    double dv[AK_TSDB_CHUNK_MAX_SAMPLES];
    int r = ak_tsdb_chunk_decode(p, len, dt, dv, AK_TSDB_CHUNK_MAX_SAMPLES, ret_n);

    for (size_t k = 1; r == AK_OK && k < *ret_n; k++)
        if (dt[k] <= dt[k - 1] || dt[k - 1] < 0)
            return -100; /* the decoder let a non-increasing series through */
    return r;
}

AK_TEST(corruption_truncation_and_bitflips)
{
    static struct ak_tsdb_chunk c;
    static uint8_t copy[AK_TSDB_CHUNK_MAX_BYTES + 1];
    size_t len = 0, got = 0, corrupt = 0, valid = 0;
    const uint8_t *p = NULL;
    int r = 0;

    ak_tsdb_chunk_init(&c);
    for (int i = 0; i < AK_TSDB_CHUNK_MAX_SAMPLES; i++)
        AK_ASSERT_OK(ak_tsdb_chunk_append(&c, 1700000000000 + i * 15000 + (i % 7 == 0) * 3,
                                          i % 5 ? 42.5 + i : 1e9 * unif()));
    p = ak_tsdb_chunk_finish(&c, &len);
    /* Every proper prefix is short for the count it claims. */
    for (size_t l = 0; l < len; l++) {
        memcpy(copy, p, l);
        AK_ASSERT_EQ_INT(decode_all(copy, l, &got), AK_ECORRUPT);
    }
    /* Trailing garbage is refused. */
    memcpy(copy, p, len);
    copy[len] = 0;
    AK_ASSERT_EQ_INT(decode_all(copy, len + 1, &got), AK_ECORRUPT);
    /* Every single-bit flip: corrupt, or a valid series of at most the cap. */
    for (size_t b = 0; b < len * 8; b++) {
        memcpy(copy, p, len);
        copy[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
        r = decode_all(copy, len, &got);
        AK_ASSERT(r == AK_OK || r == AK_ECORRUPT);
        if (r == AK_OK)
            valid++;
        else
            corrupt++;
    }
    printf("# bit flips: %zu corrupt, %zu decode to another valid series\n", corrupt, valid);
    AK_ASSERT(corrupt > 0);
    /* A count over the cap is corrupt even with room for it. */
    memcpy(copy, p, len);
    copy[0] = AK_TSDB_CHUNK_MAX_SAMPLES + 1;
    AK_ASSERT_EQ_INT(decode_all(copy, len, &got), AK_ECORRUPT);
    AK_ASSERT_EQ_INT(decode_all(NULL, 0, &got), AK_ECORRUPT);
}

AK_TEST(iterator_sticky_after_error)
{
    static const uint8_t bad[] = {2, 0x01}; /* count 2, truncated varint */
    struct ak_tsdb_iter it;
    int64_t t = 0;
    double v = 0;

    AK_ASSERT_OK(ak_tsdb_iter_init(&it, bad, sizeof(bad)));
    AK_ASSERT_EQ_INT(ak_tsdb_iter_next(&it, &t, &v), AK_ECORRUPT);
    AK_ASSERT_EQ_INT(ak_tsdb_iter_next(&it, &t, &v), AK_ECORRUPT);
    AK_ASSERT_EQ_INT(ak_tsdb_iter_init(&it, bad, 0), AK_ECORRUPT);
    AK_ASSERT_EQ_INT(ak_tsdb_iter_next(&it, &t, &v), AK_ECORRUPT);
}

/* ---- tiers ---- */

#define MAXP 4000

struct sink {
    struct ak_tsdb_point p[AK_TSDB_NTIERS][MAXP];
    size_t n[AK_TSDB_NTIERS];
    int fail_at; /* return an error on this call number (0 = never) */
    int calls;
};

static int sink_fn(void *ctx, unsigned tier, const struct ak_tsdb_point *p)
{
    struct sink *s = ctx;

    s->calls++;
    if (s->fail_at && s->calls == s->fail_at)
        return AK_EIO;
    if (tier < AK_TSDB_NTIERS && s->n[tier] < MAXP)
        s->p[tier][s->n[tier]++] = *p;
    return AK_OK;
}

/* Naive aggregation of ts/vs[0..n) at resolution res into out[]; returns the point count. */
static size_t naive(size_t n, int64_t res, struct ak_tsdb_point *out)
{
    size_t np = 0;
    bool have = false;
    double prev = 0;

    for (size_t i = 0; i < n; i++) {
        int64_t start = ts[i] / res * res;
        double v = vs[i];
        bool dec = false;

        if (!isfinite(v))
            continue;
        dec = have && v < prev;
        have = true;
        prev = v;
        if (np == 0 || out[np - 1].start_ms != start) {
            out[np] = (struct ak_tsdb_point){start, v, v, 0, v, v, 0, 0};
            np++;
        }
        struct ak_tsdb_point *p = &out[np - 1];
        p->min = fmin(p->min, v);
        p->max = fmax(p->max, v);
        p->sum += v;
        p->last = v;
        p->count++;
        p->decreases += dec;
    }
    return np;
}

static bool same_point(const struct ak_tsdb_point *a, const struct ak_tsdb_point *b)
{
    return a->start_ms == b->start_ms && a->min == b->min && a->max == b->max &&
           a->sum == b->sum && a->first == b->first && a->last == b->last &&
           a->count == b->count && a->decreases == b->decreases;
}

AK_TEST(tiers_exact_against_naive)
{
    static struct sink s;
    static struct ak_tsdb_point want[MAXP];
    struct ak_tsdb_tiers tr;
    size_t n = 15000, np = 0;
    int64_t t = 1700000000000 + 7;
    double c = 1000;

    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < n; i++) {
        /* 15 s scrapes with jitter, a few multi-hour gaps, a NaN stale marker now and then,
         * and a counter that resets */
        t += 15000 + (int64_t)(rnd() % 900) - 450;
        if (i % 4000 == 3999)
            t += 3 * 3600000 + 12345;
        c += (double)(rnd() % 1000) / 7.0;
        if (i % 2500 == 2000)
            c = (double)(rnd() % 10);
        ts[i] = t;
        vs[i] = (i % 333 == 5) ? NAN : (i % 777 == 6 ? INFINITY : c);
    }
    ak_tsdb_tiers_init(&tr, sink_fn, &s);
    for (size_t i = 0; i < n; i++)
        AK_ASSERT_OK(ak_tsdb_tiers_add(&tr, ts[i], vs[i]));
    AK_ASSERT_EQ_INT(ak_tsdb_tiers_add(&tr, ts[n - 1], 1.0), AK_EINVAL);
    AK_ASSERT_OK(ak_tsdb_tiers_flush(&tr));
    AK_ASSERT_OK(ak_tsdb_tiers_flush(&tr)); /* nothing open: no duplicates */
    for (unsigned k = 0; k < AK_TSDB_NTIERS; k++) {
        np = naive(n, ak_tsdb_tier_ms[k], want);
        printf("# tier %u: %zu points\n", k, np);
        AK_ASSERT_EQ_INT(s.n[k], np);
        for (size_t i = 0; i < np; i++)
            AK_ASSERT(same_point(&s.p[k][i], &want[i]));
    }
    /* Gaps emit nothing: about 3 h of minutes are missing per gap (3 gaps). */
    AK_ASSERT(s.n[AK_TSDB_TIER_MINUTE] < (size_t)(ts[n - 1] - ts[0]) / 60000 - 3 * 170);
    /* Resets are recorded: 6 counter resets at i % 2500 == 2000. */
    for (size_t i = 0; i < s.n[AK_TSDB_TIER_HOUR]; i++)
        np -= s.p[AK_TSDB_TIER_HOUR][i].decreases >= 1;
    AK_ASSERT_EQ_INT(s.n[AK_TSDB_TIER_HOUR] - np, 6);
}

AK_TEST(tiers_callback_error_and_order)
{
    static struct sink s;
    struct ak_tsdb_tiers tr;

    memset(&s, 0, sizeof(s));
    s.fail_at = 1;
    ak_tsdb_tiers_init(&tr, sink_fn, &s);
    AK_ASSERT_EQ_INT(ak_tsdb_tiers_add(&tr, -5, 1.0), AK_EINVAL);
    AK_ASSERT_OK(ak_tsdb_tiers_add(&tr, 3590000, 2.0));
    AK_ASSERT_OK(ak_tsdb_tiers_add(&tr, 3599999, 1.0));
    /* crosses both minute and hour: minute first, and its failure stops the add */
    AK_ASSERT_EQ_INT(ak_tsdb_tiers_add(&tr, 3600000, 5.0), AK_EIO);
    AK_ASSERT_OK(ak_tsdb_tiers_add(&tr, 3600000, 5.0));
    AK_ASSERT_EQ_INT(s.n[AK_TSDB_TIER_MINUTE], 0);
    AK_ASSERT_EQ_INT(s.n[AK_TSDB_TIER_HOUR], 1);
    AK_ASSERT_EQ_INT(s.p[AK_TSDB_TIER_HOUR][0].start_ms, 0);
    AK_ASSERT_EQ_INT(s.p[AK_TSDB_TIER_HOUR][0].count, 2);
    AK_ASSERT_EQ_INT(s.p[AK_TSDB_TIER_HOUR][0].decreases, 1);
    AK_ASSERT(s.p[AK_TSDB_TIER_HOUR][0].first == 2.0 && s.p[AK_TSDB_TIER_HOUR][0].last == 1.0);
    AK_ASSERT_OK(ak_tsdb_tiers_flush(&tr));
    AK_ASSERT_EQ_INT(s.n[AK_TSDB_TIER_MINUTE], 1);
    AK_ASSERT_EQ_INT(s.p[AK_TSDB_TIER_MINUTE][0].start_ms, 3600000);
    AK_ASSERT(s.p[AK_TSDB_TIER_MINUTE][0].sum == 5.0);
}

AK_TEST_MAIN(AK_T(append_rejects_bad_input), AK_T(empty_and_single), AK_T(roundtrip_random_bits),
             AK_T(roundtrip_special_values), AK_T(roundtrip_irregular_and_jumps),
             AK_T(compression_gauge), AK_T(compression_load_and_counter),
             AK_T(compression_constant), AK_T(corruption_truncation_and_bitflips),
             AK_T(iterator_sticky_after_error), AK_T(tiers_exact_against_naive),
             AK_T(tiers_callback_error_and_order))
