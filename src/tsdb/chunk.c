/* chunk.c — Gorilla chunk encoding (Pelkonen et al. 2015; Prometheus' XOR chunk, §1.2).
 *
 * Layout: a 1-byte sample count, then a bit string written MSB first:
 *   sample 0: timestamp as a varint (8-bit groups, 7 payload bits little end first, top bit =
 *             more follows; at most 9 groups, no trailing zero group), 64-bit value bits;
 *   sample k: '0' if the delta-of-delta is 0 and the value is unchanged (the steady case: a
 *             constant series costs 1 bit per sample), else '1' followed by
 *             the delta-of-delta of the timestamp (previous delta is 0 for sample 1):
 *               '0'              dod == 0
 *               '10'   + 14 bits dod in [-8192, 8191]
 *               '110'  + 17 bits dod in [-65536, 65535]
 *               '1110' + 20 bits dod in [-524288, 524287]
 *               '1111' + 64 bits
 *             then the value XOR the previous value:
 *               '0'              xor == 0
 *               '10' + meaningful bits inside the previous leading/trailing window
 *               '11' + 5 bits leading zeros + 6 bits length (0 = 64) + meaningful bits
 * followed by zero padding to a byte boundary and nothing else. All arithmetic on timestamps
 * is done in uint64_t so that a hostile dod cannot cause signed overflow.
 */
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_tsdb.h"
#include "src/core/ak_banned.h"

#define HDR 1
#define NO_WINDOW 0xffu

struct dod_bucket {
    unsigned prefix;    /* prefix bits value */
    unsigned plen;      /* prefix length */
    unsigned bits;      /* payload bits */
};

static const struct dod_bucket buckets[] = {
    {0x2, 2, 14}, {0x6, 3, 17}, {0xe, 4, 20}, {0xf, 4, 64},
};

static uint64_t dbits(double v)
{
    uint64_t u = 0;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static double bitsd(uint64_t u)
{
    double v = 0;
    memcpy(&v, &u, sizeof(v));
    return v;
}

static unsigned clz64(uint64_t x)
{
    return x ? (unsigned)__builtin_clzll(x) : 64;
}

static unsigned ctz64(uint64_t x)
{
    return x ? (unsigned)__builtin_ctzll(x) : 64;
}

/* ---- writer ---- */

static void put_bits(struct ak_tsdb_chunk *c, uint64_t v, unsigned n)
{
    while (n > 0) {
        size_t byte = HDR + c->nbits / 8;
        unsigned room = 8 - (unsigned)(c->nbits % 8);
        unsigned take = n < room ? n : room;
        unsigned chunk = (unsigned)((v >> (n - take)) & ((1u << take) - 1));

        c->buf[byte] |= (uint8_t)(chunk << (room - take));
        c->nbits += take;
        n -= take;
    }
}

static void put_varint(struct ak_tsdb_chunk *c, uint64_t v)
{
    while (v >= 0x80) {
        put_bits(c, 0x80 | (v & 0x7f), 8);
        v >>= 7;
    }
    put_bits(c, v, 8);
}

void ak_tsdb_chunk_init(struct ak_tsdb_chunk *c)
{
    memset(c, 0, sizeof(*c));
    c->lead = NO_WINDOW;
}

unsigned ak_tsdb_chunk_count(const struct ak_tsdb_chunk *c)
{
    return c->n;
}

static void put_dod(struct ak_tsdb_chunk *c, uint64_t dod)
{
    int64_t s = (int64_t)dod;

    if (s == 0) {
        put_bits(c, 0, 1);
        return;
    }
    for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
        const struct dod_bucket *b = &buckets[i];
        int64_t lim = b->bits < 64 ? (int64_t)1 << (b->bits - 1) : 0;

        if (b->bits == 64 || (s >= -lim && s < lim)) {
            put_bits(c, b->prefix, b->plen);
            put_bits(c, b->bits < 64 ? dod & (((uint64_t)1 << b->bits) - 1) : dod, b->bits);
            return;
        }
    }
}

static void put_value(struct ak_tsdb_chunk *c, uint64_t v)
{
    uint64_t x = v ^ c->v;
    unsigned lead = clz64(x), trail = ctz64(x);

    if (x == 0) {
        put_bits(c, 0, 1);
        return;
    }
    if (lead > 31)
        lead = 31; /* 5-bit field */
    if (c->lead != NO_WINDOW && lead >= c->lead && trail >= c->trail) {
        put_bits(c, 0x2, 2);
        put_bits(c, x >> c->trail, 64 - c->lead - c->trail);
        return;
    }
    c->lead = lead;
    c->trail = trail;
    put_bits(c, 0x3, 2);
    put_bits(c, lead, 5);
    put_bits(c, (64 - lead - trail) & 63, 6);
    put_bits(c, x >> trail, 64 - lead - trail);
}

int ak_tsdb_chunk_append(struct ak_tsdb_chunk *c, int64_t t_ms, double v)
{
    uint64_t vb = dbits(v);

    if (t_ms < 0 || (c->n > 0 && t_ms <= c->t))
        return AK_EINVAL;
    if (c->n >= AK_TSDB_CHUNK_MAX_SAMPLES)
        return AK_ETOOBIG;
    if (c->n == 0) {
        put_varint(c, (uint64_t)t_ms);
        put_bits(c, vb, 64);
    } else {
        uint64_t delta = (uint64_t)t_ms - (uint64_t)c->t;

        if (delta == c->delta && vb == c->v) {
            put_bits(c, 0, 1);
        } else {
            put_bits(c, 1, 1);
            put_dod(c, delta - c->delta);
            put_value(c, vb);
        }
        c->delta = delta;
    }
    c->t = t_ms;
    c->v = vb;
    c->n++;
    return AK_OK;
}

const uint8_t *ak_tsdb_chunk_finish(struct ak_tsdb_chunk *c, size_t *ret_len)
{
    c->buf[0] = (uint8_t)c->n;
    *ret_len = HDR + (c->nbits + 7) / 8;
    return c->buf;
}

/* ---- reader ---- */

static int get_bits(struct ak_tsdb_iter *it, unsigned n, uint64_t *ret)
{
    uint64_t v = 0;
    size_t avail = (it->len - HDR) * 8;

    if (n > avail || it->pos > avail - n)
        return AK_ECORRUPT;
    while (n > 0) {
        uint8_t byte = it->p[HDR + it->pos / 8];
        unsigned room = 8 - (unsigned)(it->pos % 8);
        unsigned take = n < room ? n : room;

        v = (v << take) | (uint64_t)((byte >> (room - take)) & ((1u << take) - 1));
        it->pos += take;
        n -= take;
    }
    *ret = v;
    return AK_OK;
}

int ak_tsdb_iter_init(struct ak_tsdb_iter *it, const uint8_t *p, size_t len)
{
    unsigned n = 0;

    memset(it, 0, sizeof(*it));
    it->lead = NO_WINDOW;
    it->i = 1;
    it->n = 0; /* a failed init leaves an iterator that reports corruption */
    if (!p || len < HDR || len > AK_TSDB_CHUNK_MAX_BYTES)
        return AK_ECORRUPT;
    n = p[0];
    if (n > AK_TSDB_CHUNK_MAX_SAMPLES)
        return AK_ECORRUPT;
    it->p = p;
    it->len = len;
    it->n = n;
    it->i = 0;
    return AK_OK;
}

/* Canonical varint of at most 63 bits. */
static int get_varint(struct ak_tsdb_iter *it, uint64_t *ret)
{
    uint64_t g = 0, v = 0;

    for (unsigned i = 0; i < 9; i++) {
        if (get_bits(it, 8, &g) < 0)
            return AK_ECORRUPT;
        v |= (g & 0x7f) << (7 * i);
        if (!(g & 0x80)) {
            if (i > 0 && g == 0)
                return AK_ECORRUPT;
            *ret = v;
            return AK_OK;
        }
    }
    return AK_ECORRUPT;
}

static int get_dod(struct ak_tsdb_iter *it, uint64_t *ret)
{
    uint64_t bit = 0, v = 0;
    unsigned ones = 0;
    int r = AK_OK;

    while (ones < 4) {
        r = get_bits(it, 1, &bit);
        if (r < 0)
            return r;
        if (!bit)
            break;
        ones++;
    }
    if (ones == 0) {
        *ret = 0;
        return AK_OK;
    }
    r = get_bits(it, buckets[ones - 1].bits, &v);
    if (r < 0)
        return r;
    if (ones < 4) {
        unsigned b = buckets[ones - 1].bits;
        if (v >> (b - 1)) /* sign-extend */
            v |= ~(uint64_t)0 << b;
    }
    *ret = v;
    return AK_OK;
}

static int get_value(struct ak_tsdb_iter *it, uint64_t *ret)
{
    uint64_t bit = 0, x = 0, lead = 0, sig = 0;
    int r = get_bits(it, 1, &bit);

    if (r < 0)
        return r;
    if (!bit) {
        *ret = it->v;
        return AK_OK;
    }
    r = get_bits(it, 1, &bit);
    if (r < 0)
        return r;
    if (bit) {
        if ((r = get_bits(it, 5, &lead)) < 0 || (r = get_bits(it, 6, &sig)) < 0)
            return r;
        if (sig == 0)
            sig = 64;
        if (lead + sig > 64)
            return AK_ECORRUPT;
        it->lead = (unsigned)lead;
        it->trail = (unsigned)(64 - lead - sig);
    } else if (it->lead == NO_WINDOW) {
        return AK_ECORRUPT;
    }
    r = get_bits(it, 64 - it->lead - it->trail, &x);
    if (r < 0)
        return r;
    /* trail < 64 always: sig >= 1 */
    *ret = it->v ^ (x << it->trail);
    return AK_OK;
}

static int check_end(struct ak_tsdb_iter *it)
{
    size_t avail = (it->len - HDR) * 8;
    uint64_t pad = 0;

    if (avail - it->pos >= 8)
        return AK_ECORRUPT;
    if (get_bits(it, (unsigned)(avail - it->pos), &pad) < 0 || pad != 0)
        return AK_ECORRUPT;
    return AK_ENOTFOUND;
}

static int next_sample(struct ak_tsdb_iter *it)
{
    uint64_t t = 0, v = 0, dod = 0, delta = 0, flag = 0;
    int r = AK_OK;

    if (it->i == 0) {
        if ((r = get_varint(it, &t)) < 0 || (r = get_bits(it, 64, &v)) < 0)
            return r;
        if (t > (uint64_t)INT64_MAX)
            return AK_ECORRUPT;
        it->t = (int64_t)t;
        it->v = v;
        return AK_OK;
    }
    if ((r = get_bits(it, 1, &flag)) < 0)
        return r;
    if (flag && (r = get_dod(it, &dod)) < 0)
        return r;
    delta = it->delta + dod;
    /* Strictly increasing and still a non-negative int64. */
    if (delta == 0 || delta > (uint64_t)INT64_MAX - (uint64_t)it->t)
        return AK_ECORRUPT;
    v = it->v;
    if (flag && (r = get_value(it, &v)) < 0)
        return r;
    it->delta = delta;
    it->t = (int64_t)((uint64_t)it->t + delta);
    it->v = v;
    return AK_OK;
}

int ak_tsdb_iter_next(struct ak_tsdb_iter *it, int64_t *ret_t, double *ret_v)
{
    int r = AK_OK;

    if (!it->p || it->i > it->n)
        return AK_ECORRUPT;
    if (it->i == it->n) {
        r = check_end(it);
        if (r == AK_ECORRUPT)
            it->i = it->n + 1;
        return r;
    }
    r = next_sample(it);
    if (r < 0) {
        it->i = it->n + 1;
        return AK_ECORRUPT;
    }
    it->i++;
    *ret_t = it->t;
    *ret_v = bitsd(it->v);
    return AK_OK;
}

int ak_tsdb_chunk_decode(const uint8_t *p, size_t len, int64_t *ts, double *vs, size_t cap,
                         size_t *ret_n)
{
    struct ak_tsdb_iter it;
    size_t n = 0;
    int64_t t = 0;
    double v = 0;
    int r = ak_tsdb_iter_init(&it, p, len);

    if (r < 0)
        return r;
    if (it.n > cap)
        return AK_ETOOBIG;
    while ((r = ak_tsdb_iter_next(&it, &t, &v)) == AK_OK) {
        ts[n] = t;
        vs[n] = v;
        n++;
    }
    if (r != AK_ENOTFOUND)
        return r;
    *ret_n = n;
    return AK_OK;
}
