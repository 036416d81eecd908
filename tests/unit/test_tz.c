/* test_tz.c — TZif parsing and zone arithmetic against the system's tzdata (/usr/share/zoneinfo)
 * and hand-built TZif files. Expected instants come from `zdump -v -c 2026,2027 ZONE`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "ak_test.h"

/* UTC milliseconds of an RFC 3339 string; aborts on a typo in the test itself. */
static int64_t at(const char *s)
{
    int64_t ms = 0;

    if (ak_time_parse(s, &ms) != 0) {
        printf("# bad test time %s\n", s);
        abort();
    }
    return ms;
}

static struct ak_tz *load(const char *name)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;

    if (ak_tz_load(name, NULL, &tz, &err) != 0)
        printf("# cannot load %s: %s\n", name, err.buf);
    ak_buf_release(&err);
    return tz;
}

/* Offset and abbreviation at an instant must be exactly (off, abbr). */
#define ASSERT_ZONE(tz, when, off, abbr)                                                           \
    do {                                                                                           \
        const char *ab_ = NULL;                                                                    \
        AK_ASSERT_EQ_INT(ak_tz_offset((tz), at(when), &ab_), (off));                              \
        AK_ASSERT_STR(ab_, (abbr));                                                                \
    } while (0)

#define ASSERT_NEXT(tz, after, hh, mm, expect)                                                     \
    AK_ASSERT_EQ_INT(ak_tz_next_local((tz), at(after), (hh), (mm)), at(expect))

/* ---- a TZif writer for hand-made zones ---- */

struct tb {
    unsigned char b[4096];
    size_t n;
};

struct zone_spec {
    char version;        /* 0, '2', '3' */
    size_t nt;
    const int64_t *trans;
    const uint8_t *idx;
    size_t ntypes;
    const int32_t *off;
    const uint8_t *isdst;
    const uint8_t *abbr;
    const char *chars;   /* abbreviations, NUL-separated */
    size_t nchars;
    const char *footer;  /* NULL: none (v1) */
};

static void put(struct tb *t, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

static void put32(struct tb *t, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(t, p, 4);
}

static void put_header(struct tb *t, char version, uint32_t timecnt, uint32_t typecnt,
                       uint32_t charcnt)
{
    static const unsigned char zeros[15];

    put(t, "TZif", 4);
    put(t, &version, 1);
    put(t, zeros, 15);
    put32(t, 0); /* isutcnt */
    put32(t, 0); /* isstdcnt */
    put32(t, 0); /* leapcnt */
    put32(t, timecnt);
    put32(t, typecnt);
    put32(t, charcnt);
}

static void put_types(struct tb *t, const struct zone_spec *z, size_t ntypes)
{
    for (size_t i = 0; i < ntypes; i++) {
        put32(t, (uint32_t)z->off[i]);
        put(t, &z->isdst[i], 1);
        put(t, &z->abbr[i], 1);
    }
    put(t, z->chars, z->nchars);
}

static size_t build(const struct zone_spec *z, struct tb *t)
{
    t->n = 0;
    if (z->version == 0) {
        put_header(t, 0, (uint32_t)z->nt, (uint32_t)z->ntypes, (uint32_t)z->nchars);
        for (size_t i = 0; i < z->nt; i++)
            put32(t, (uint32_t)(int32_t)z->trans[i]);
        put(t, z->idx, z->nt);
        put_types(t, z, z->ntypes);
        return t->n;
    }
    /* a minimal v1 block (type 0 only), then the real 64-bit block and the footer */
    put_header(t, z->version, 0, 1, (uint32_t)z->nchars);
    put_types(t, z, 1);
    put_header(t, z->version, (uint32_t)z->nt, (uint32_t)z->ntypes, (uint32_t)z->nchars);
    for (size_t i = 0; i < z->nt; i++) {
        put32(t, (uint32_t)((uint64_t)z->trans[i] >> 32));
        put32(t, (uint32_t)z->trans[i]);
    }
    put(t, z->idx, z->nt);
    put_types(t, z, z->ntypes);
    put(t, "\n", 1);
    put(t, z->footer, strlen(z->footer));
    put(t, "\n", 1);
    return t->n;
}

static int parse_spec(const struct zone_spec *z, struct ak_tz **ret, struct ak_buf *err)
{
    struct tb t;

    build(z, &t);
    return ak_tz_parse("test", t.b, t.n, ret, err);
}

/* A zone with only a footer: every instant follows the POSIX rule. */
static struct ak_tz *footer_zone(const char *footer)
{
    static const int32_t off[] = {0};
    static const uint8_t dst[] = {0}, ab[] = {0};
    struct zone_spec z = {'2', 0, NULL, NULL, 1, off, dst, ab, "LMT", 4, footer};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;

    if (parse_spec(&z, &tz, &err) != 0)
        printf("# footer %s: %s\n", footer, err.buf);
    ak_buf_release(&err);
    return tz;
}

/* ---- the system's zones ---- */

AK_TEST(tokyo_has_no_dst)
{
    struct ak_tz *tz = load("Asia/Tokyo");
    char buf[64];

    AK_ASSERT(tz != NULL);
    AK_ASSERT_STR(ak_tz_name(tz), "Asia/Tokyo");
    ASSERT_ZONE(tz, "2026-01-15T00:00:00Z", 9 * 3600, "JST");
    ASSERT_ZONE(tz, "2026-07-15T00:00:00Z", 9 * 3600, "JST");
    ASSERT_ZONE(tz, "2070-07-15T00:00:00Z", 9 * 3600, "JST");
    /* the digest: 09:00 JST is 00:00 UTC, and strictly after */
    ASSERT_NEXT(tz, "2026-12-09T18:00:00Z", 9, 0, "2026-12-10T00:00:00Z");
    ASSERT_NEXT(tz, "2026-12-10T00:00:00Z", 9, 0, "2026-12-11T00:00:00Z");
    ASSERT_NEXT(tz, "2026-12-09T23:59:59.999Z", 9, 0, "2026-12-10T00:00:00Z");
    ak_tz_fmt_short(tz, at("2026-12-09T17:00:00Z"), buf, sizeof(buf));
    AK_ASSERT_STR(buf, "Dec 10 02:00 JST");
    ak_tz_free(tz);
}

AK_TEST(utc_and_null_zone)
{
    struct ak_tz *tz = load("UTC");
    const char *ab = NULL;
    char buf[64];

    AK_ASSERT(tz != NULL);
    ASSERT_ZONE(tz, "2026-06-01T12:00:00Z", 0, "UTC");
    ASSERT_NEXT(tz, "2026-06-01T12:00:00Z", 9, 30, "2026-06-02T09:30:00Z");
    ak_tz_free(tz);
    /* a NULL zone means UTC */
    AK_ASSERT_EQ_INT(ak_tz_offset(NULL, at("2026-06-01T12:00:00Z"), &ab), 0);
    AK_ASSERT_STR(ab, "UTC");
    ASSERT_NEXT(NULL, "2026-06-01T12:00:00Z", 12, 0, "2026-06-02T12:00:00Z");
    ak_tz_fmt_short(NULL, at("2026-06-01T12:00:00Z"), buf, sizeof(buf));
    AK_ASSERT_STR(buf, "Jun 1 12:00 UTC");
    ak_tz_free(NULL);
}

AK_TEST(berlin_dst_2026)
{
    struct ak_tz *tz = load("Europe/Berlin");

    AK_ASSERT(tz != NULL);
    ASSERT_ZONE(tz, "2026-03-29T00:59:59Z", 3600, "CET");
    ASSERT_ZONE(tz, "2026-03-29T01:00:00Z", 7200, "CEST");
    ASSERT_ZONE(tz, "2026-10-25T00:59:59Z", 7200, "CEST");
    ASSERT_ZONE(tz, "2026-10-25T01:00:00Z", 3600, "CET");
    /* 02:30 does not exist on Mar 29: it fires at the jump, 03:00 CEST */
    ASSERT_NEXT(tz, "2026-03-28T23:00:00Z", 2, 30, "2026-03-29T01:00:00Z");
    ASSERT_NEXT(tz, "2026-03-29T01:00:00Z", 2, 30, "2026-03-30T00:30:00Z");
    /* 02:30 happens twice on Oct 25 (CEST, then CET): only the first one fires */
    ASSERT_NEXT(tz, "2026-10-24T22:00:00Z", 2, 30, "2026-10-25T00:30:00Z");
    ASSERT_NEXT(tz, "2026-10-25T00:30:00Z", 2, 30, "2026-10-26T01:30:00Z");
    ASSERT_NEXT(tz, "2026-10-25T01:00:00Z", 2, 30, "2026-10-26T01:30:00Z");
    /* an ordinary summer day */
    ASSERT_NEXT(tz, "2026-07-01T00:00:00Z", 9, 0, "2026-07-01T07:00:00Z");
    ak_tz_free(tz);
}

AK_TEST(new_york_dst_2026)
{
    struct ak_tz *tz = load("America/New_York");

    AK_ASSERT(tz != NULL);
    ASSERT_ZONE(tz, "2026-03-08T06:59:59Z", -5 * 3600, "EST");
    ASSERT_ZONE(tz, "2026-03-08T07:00:00Z", -4 * 3600, "EDT");
    ASSERT_ZONE(tz, "2026-11-01T05:59:59Z", -4 * 3600, "EDT");
    ASSERT_ZONE(tz, "2026-11-01T06:00:00Z", -5 * 3600, "EST");
    ASSERT_NEXT(tz, "2026-03-08T05:00:00Z", 2, 30, "2026-03-08T07:00:00Z");
    /* 01:30 on Nov 1 is 05:30Z (EDT) and again 06:30Z (EST): fires once */
    ASSERT_NEXT(tz, "2026-11-01T04:00:00Z", 1, 30, "2026-11-01T05:30:00Z");
    ASSERT_NEXT(tz, "2026-11-01T05:30:00Z", 1, 30, "2026-11-02T06:30:00Z");
    ASSERT_NEXT(tz, "2026-11-01T06:10:00Z", 1, 30, "2026-11-02T06:30:00Z");
    ak_tz_free(tz);
}

AK_TEST(far_future_uses_footer_rule)
{
    struct ak_tz *be = load("Europe/Berlin"), *ny = load("America/New_York");
    char buf[64];

    AK_ASSERT(be != NULL && ny != NULL);
    /* Debian's files list transitions up to 2037; 2070 comes from the footer's POSIX rule */
    ASSERT_ZONE(be, "2070-03-30T00:59:59Z", 3600, "CET");
    ASSERT_ZONE(be, "2070-03-30T01:00:00Z", 7200, "CEST");
    ASSERT_ZONE(be, "2070-10-26T00:59:59Z", 7200, "CEST");
    ASSERT_ZONE(be, "2070-10-26T01:00:00Z", 3600, "CET");
    ASSERT_ZONE(ny, "2070-03-09T06:59:59Z", -5 * 3600, "EST");
    ASSERT_ZONE(ny, "2070-03-09T07:00:00Z", -4 * 3600, "EDT");
    ASSERT_ZONE(ny, "2070-11-02T05:59:59Z", -4 * 3600, "EDT");
    ASSERT_ZONE(ny, "2070-11-02T06:00:00Z", -5 * 3600, "EST");
    ASSERT_NEXT(be, "2070-03-29T23:00:00Z", 2, 30, "2070-03-30T01:00:00Z");
    ak_tz_fmt_short(be, at("2070-07-01T10:05:00Z"), buf, sizeof(buf));
    AK_ASSERT_STR(buf, "Jul 1 12:05 CEST");
    ak_tz_free(be);
    ak_tz_free(ny);
}

AK_TEST(lord_howe_half_hour_dst)
{
    struct ak_tz *tz;
    struct stat st;

    if (stat("/usr/share/zoneinfo/Australia/Lord_Howe", &st) != 0)
        AK_SKIP("Australia/Lord_Howe is not installed");
    tz = load("Australia/Lord_Howe");
    AK_ASSERT(tz != NULL);
    ASSERT_ZONE(tz, "2026-04-04T14:59:59Z", 11 * 3600, "+11");
    ASSERT_ZONE(tz, "2026-04-04T15:00:00Z", 10 * 3600 + 1800, "+1030");
    ASSERT_ZONE(tz, "2026-10-03T15:29:59Z", 10 * 3600 + 1800, "+1030");
    ASSERT_ZONE(tz, "2026-10-03T15:30:00Z", 11 * 3600, "+11");
    ASSERT_ZONE(tz, "2071-01-01T00:00:00Z", 11 * 3600, "+11");
    /* Oct 4: 02:00 jumps to 02:30, so 02:15 fires at the jump; Apr 5: 01:30-02:00 twice */
    ASSERT_NEXT(tz, "2026-10-03T12:00:00Z", 2, 15, "2026-10-03T15:30:00Z");
    ASSERT_NEXT(tz, "2026-04-04T12:00:00Z", 1, 45, "2026-04-04T14:45:00Z");
    ASSERT_NEXT(tz, "2026-04-04T14:45:00Z", 1, 45, "2026-04-05T15:15:00Z");
    ak_tz_free(tz);
}

AK_TEST(fmt_short_forms)
{
    struct ak_tz *tz = load("Asia/Kolkata");
    char buf[64], tiny[8];

    AK_ASSERT(tz != NULL);
    ak_tz_fmt_short(tz, at("2026-01-05T18:45:00Z"), buf, sizeof(buf));
    AK_ASSERT_STR(buf, "Jan 6 00:15 IST");
    /* truncated, still terminated */
    ak_tz_fmt_short(tz, at("2026-01-05T18:45:00Z"), tiny, sizeof(tiny));
    AK_ASSERT_STR(tiny, "Jan 6 0");
    ak_tz_fmt_short(tz, 0, buf, 0); /* no write at all */
    ak_tz_free(tz);
}

AK_TEST(bad_names_are_refused)
{
    static const char *const invalid[] = {
        "", "/etc/passwd", "../../etc/passwd", "Asia/../../etc/passwd", "Asia/Tok yo",
        "Asia/Tokyo\n", "Asia",  /* a directory */
        "zone.tab",              /* a regular file that is not TZif */
    };
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;

    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(ak_tz_load(invalid[i], NULL, &tz, &err), AK_EINVAL);
        AK_ASSERT(err.len > 0);
        AK_ASSERT_NULL(tz);
    }
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_tz_load(NULL, NULL, &tz, &err), AK_EINVAL);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_tz_load("Nowhere/Atlantis", NULL, &tz, &err), AK_ENOTFOUND);
    AK_ASSERT_CONTAINS(err.buf, "Nowhere/Atlantis");
    AK_ASSERT_NULL(tz);
    ak_buf_release(&err);
}

AK_TEST(oversized_and_special_files_refused)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/Big", AK_TMPDIR());
    f = fopen(path, "wb");
    AK_ASSERT(f != NULL);
    for (int i = 0; i < 257; i++) {
        static const char kib[1024] = "TZif2";
        fwrite(kib, 1, sizeof(kib), f);
    }
    fclose(f);
    AK_ASSERT_EQ_INT(ak_tz_load("Big", AK_TMPDIR(), &tz, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "256 KiB");
    /* a FIFO must be refused without blocking in open() */
    snprintf(path, sizeof(path), "%s/Fifo", AK_TMPDIR());
    AK_ASSERT_OK(mkfifo(path, 0600));
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_tz_load("Fifo", AK_TMPDIR(), &tz, &err), AK_EINVAL);
    AK_ASSERT_NULL(tz);
    ak_buf_release(&err);
}

/* ---- hand-made and damaged data ---- */

AK_TEST(every_truncation_is_einval)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;
    size_t len = 0;
    char *data;
    FILE *f;

    f = fopen("/usr/share/zoneinfo/Asia/Tokyo", "rb");
    AK_ASSERT(f != NULL);
    data = malloc(4096);
    len = fread(data, 1, 4096, f);
    fclose(f);
    AK_ASSERT(len > 100);
    AK_ASSERT_OK(ak_tz_parse("Asia/Tokyo", data, len, &tz, &err));
    ak_tz_free(tz);
    for (size_t n = 0; n < len; n++) {
        tz = NULL;
        ak_buf_reset(&err);
        if (ak_tz_parse("Asia/Tokyo", data, n, &tz, &err) != AK_EINVAL) {
            free(data);
            ak_tz_free(tz);
            AK_FAIL_("a %zu-byte prefix was not refused", n);
        }
        AK_ASSERT(err.len > 0);
    }
    AK_ASSERT_EQ_INT(ak_tz_parse("x", NULL, 0, &tz, &err), AK_EINVAL);
    free(data);
    ak_buf_release(&err);
}

static const int64_t ny_trans[] = {1772953200, 1793512800}; /* 2026-03-08T07Z, 2026-11-01T06Z */
static const uint8_t ny_idx[] = {1, 0};
static const int32_t ny_off[] = {-18000, -14400};
static const uint8_t ny_dst[] = {0, 1}, ny_ab[] = {0, 4};

static struct zone_spec ny_spec(char version, const char *footer)
{
    struct zone_spec z = {version, 2, ny_trans, ny_idx, 2, ny_off, ny_dst, ny_ab,
                          "EST\0EDT", 8, footer};
    return z;
}

AK_TEST(handmade_v1_v2_v3)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;
    struct zone_spec z = ny_spec(0, NULL);

    /* v1: before the first transition type 0, after the last the last type */
    AK_ASSERT_OK(parse_spec(&z, &tz, &err));
    ASSERT_ZONE(tz, "2026-01-01T00:00:00Z", -18000, "EST");
    ASSERT_ZONE(tz, "2026-07-01T00:00:00Z", -14400, "EDT");
    ASSERT_ZONE(tz, "2027-07-01T00:00:00Z", -18000, "EST");
    ak_tz_free(tz);
    /* v3 with the rule: 2027 follows the footer */
    z = ny_spec('3', "EST5EDT,M3.2.0,M11.1.0");
    AK_ASSERT_OK(parse_spec(&z, &tz, &err));
    ASSERT_ZONE(tz, "2027-07-01T00:00:00Z", -14400, "EDT");
    ASSERT_ZONE(tz, "2027-03-14T06:59:59Z", -18000, "EST");
    ASSERT_ZONE(tz, "2027-03-14T07:00:00Z", -14400, "EDT");
    ak_tz_free(tz);
    /* an empty footer: the last type stays */
    z = ny_spec('2', "");
    AK_ASSERT_OK(parse_spec(&z, &tz, &err));
    ASSERT_ZONE(tz, "2027-07-01T00:00:00Z", -18000, "EST");
    ak_tz_free(tz);
    AK_ASSERT_EQ_INT(err.len, 0);
    ak_buf_release(&err);
}

AK_TEST(posix_footer_forms)
{
    struct ak_tz *jst = footer_zone("JST-9"), *cet = footer_zone("CET-1CEST,M3.5.0,M10.5.0/3");
    struct ak_tz *est = footer_zone("EST5EDT,M3.2.0,M11.1.0"), *ist = footer_zone("<+0530>-5:30");
    struct ak_tz *jn = footer_zone("<-03>3<-02>,J60/-1,300/25:30");

    AK_ASSERT(jst && cet && est && ist && jn);
    ASSERT_ZONE(jst, "2026-06-01T00:00:00Z", 32400, "JST");
    ASSERT_ZONE(cet, "2026-03-29T00:59:59Z", 3600, "CET");
    ASSERT_ZONE(cet, "2026-03-29T01:00:00Z", 7200, "CEST");
    ASSERT_ZONE(cet, "2026-10-25T00:59:59Z", 7200, "CEST");
    ASSERT_ZONE(cet, "2026-10-25T01:00:00Z", 3600, "CET");
    ASSERT_ZONE(est, "2026-03-08T06:59:59Z", -18000, "EST");
    ASSERT_ZONE(est, "2026-03-08T07:00:00Z", -14400, "EDT");
    ASSERT_ZONE(est, "2026-11-01T05:59:59Z", -14400, "EDT");
    ASSERT_ZONE(est, "2026-11-01T06:00:00Z", -18000, "EST");
    ASSERT_ZONE(ist, "2026-06-01T00:00:00Z", 19800, "+0530");
    /* J60 is Mar 1 even in a leap year, at -1:00 local (Feb 29 23:00 -03 = Mar 1 02:00Z);
     * zero-based day 300 of 2028 is Oct 27, at 25:30 DST local (Oct 28 01:30 -02 = 03:30Z) */
    ASSERT_ZONE(jn, "2028-03-01T01:59:59Z", -3 * 3600, "-03");
    ASSERT_ZONE(jn, "2028-03-01T02:00:00Z", -2 * 3600, "-02");
    ASSERT_ZONE(jn, "2028-10-28T03:29:59Z", -2 * 3600, "-02");
    ASSERT_ZONE(jn, "2028-10-28T03:30:00Z", -3 * 3600, "-03");
    ak_tz_free(jst);
    ak_tz_free(cet);
    ak_tz_free(est);
    ak_tz_free(ist);
    ak_tz_free(jn);
}

AK_TEST(bad_footers_are_einval)
{
    static const char *const bad[] = {
        "JST",                        /* no offset */
        "JS-9",                       /* name too short */
        "JST-9X",                     /* trailing junk */
        "CET-1CEST",                  /* DST without a rule */
        "CET-1CEST,M13.5.0,M10.5.0",  /* month 13 */
        "CET-1CEST,M3.6.0,M10.5.0",   /* week 6 */
        "CET-1CEST,M3.5.7,M10.5.0",   /* weekday 7 */
        "CET-1CEST,M3.5.0",           /* no end */
        "CET-1CEST,M3.5.0,M10.5.0/168", /* hour out of range */
        "<+0530-5:30",                /* unterminated <...> */
        "CET-25",                     /* offset over 24 h */
        "EST5EDT,J0,J365",            /* Jn counts from 1 */
    };
    struct ak_buf err = AK_BUF_INIT(1024);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct zone_spec z = ny_spec('2', bad[i]);
        struct ak_tz *tz = NULL;
        int r;

        ak_buf_reset(&err);
        r = parse_spec(&z, &tz, &err);
        if (r != AK_EINVAL) {
            ak_tz_free(tz);
            AK_FAIL_("footer \"%s\" gave %d", bad[i], r);
        }
        AK_ASSERT_CONTAINS(err.buf, "footer");
    }
    ak_buf_release(&err);
}

AK_TEST(corrupt_structures_are_einval)
{
    static const int64_t backwards[] = {1793512800, 1772953200};
    static const uint8_t bad_idx[] = {1, 2};
    static const int32_t huge_off[] = {-18000, 100000};
    static const uint8_t bad_ab[] = {0, 8}, bad_dst[] = {0, 2};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;
    struct zone_spec z;
    struct tb t;

    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    z.trans = backwards;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_spec(&z, &tz, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "out of order");
    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    z.idx = bad_idx;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_spec(&z, &tz, &err), AK_EINVAL);
    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    z.off = huge_off;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_spec(&z, &tz, &err), AK_EINVAL);
    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    z.abbr = bad_ab;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_spec(&z, &tz, &err), AK_EINVAL);
    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    z.isdst = bad_dst;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_spec(&z, &tz, &err), AK_EINVAL);
    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    z.nchars = 7; /* "EST\0EDT" without its final NUL */
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_spec(&z, &tz, &err), AK_EINVAL);
    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    z.ntypes = 0;
    z.nt = 0;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_spec(&z, &tz, &err), AK_EINVAL);
    /* bad magic, unknown version, a count far past the data */
    z = ny_spec('2', "EST5EDT,M3.2.0,M11.1.0");
    build(&z, &t);
    t.b[0] = 'X';
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_tz_parse("x", t.b, t.n, &tz, &err), AK_EINVAL);
    build(&z, &t);
    t.b[4] = '9';
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_tz_parse("x", t.b, t.n, &tz, &err), AK_EINVAL);
    build(&z, &t);
    memset(t.b + 32, 0xff, 4); /* v1 timecnt = 4294967295 */
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_tz_parse("x", t.b, t.n, &tz, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "truncated");
    AK_ASSERT_NULL(tz);
    ak_buf_release(&err);
}

AK_TEST(next_local_rejects_bad_times)
{
    struct ak_tz *tz = load("Asia/Tokyo");

    AK_ASSERT(tz != NULL);
    AK_ASSERT_EQ_INT(ak_tz_next_local(tz, at("2026-01-01T00:00:00Z"), 24, 0), 0);
    AK_ASSERT_EQ_INT(ak_tz_next_local(tz, at("2026-01-01T00:00:00Z"), 9, 60), 0);
    AK_ASSERT_EQ_INT(ak_tz_next_local(tz, at("2026-01-01T00:00:00Z"), -1, 0), 0);
    AK_ASSERT_EQ_INT(ak_tz_next_local(tz, INT64_MAX, 9, 0), 0);
    /* offsets stay defined at the ends of the range */
    AK_ASSERT_EQ_INT(ak_tz_offset(tz, INT64_MAX, NULL), 9 * 3600);
    AK_ASSERT(ak_tz_offset(tz, INT64_MIN, NULL) > 9 * 3600); /* LMT +9:18:59 */
    ak_tz_free(tz);
}

/* Local wall time y-mon-d hh:mm in tz must resolve to the UTC instant expect. */
#define ASSERT_FROM_LOCAL(tz, y, mon, d, hh, mm, expect)                                           \
    do {                                                                                           \
        int64_t ms_ = 0;                                                                           \
        AK_ASSERT_OK(ak_tz_from_local(tz, y, mon, d, hh, mm, &ms_));                               \
        AK_ASSERT_EQ_INT(ms_, at(expect));                                                         \
    } while (0)

AK_TEST(from_local_new_york_2026)
{
    struct ak_tz *tz = load("America/New_York");
    int y = 0, mon = 0, d = 0, hh = 0, mm = 0;

    AK_ASSERT(tz != NULL);
    /* spring forward, Sunday March 8: 02:00-02:59 does not exist */
    ASSERT_FROM_LOCAL(tz, 2026, 3, 8, 1, 59, "2026-03-08T06:59:00Z");
    ASSERT_FROM_LOCAL(tz, 2026, 3, 8, 2, 0, "2026-03-08T07:00:00Z");
    ASSERT_FROM_LOCAL(tz, 2026, 3, 8, 2, 30, "2026-03-08T07:30:00Z"); /* = 03:30 EDT */
    ASSERT_FROM_LOCAL(tz, 2026, 3, 8, 3, 0, "2026-03-08T07:00:00Z");
    ASSERT_FROM_LOCAL(tz, 2026, 3, 7, 18, 0, "2026-03-07T23:00:00Z");
    ASSERT_FROM_LOCAL(tz, 2026, 3, 9, 18, 0, "2026-03-09T22:00:00Z");
    /* fall back, Sunday November 1: 01:00-01:59 happens twice; the first (EDT) counts */
    ASSERT_FROM_LOCAL(tz, 2026, 11, 1, 0, 59, "2026-11-01T04:59:00Z");
    ASSERT_FROM_LOCAL(tz, 2026, 11, 1, 1, 30, "2026-11-01T05:30:00Z");
    ASSERT_FROM_LOCAL(tz, 2026, 11, 1, 2, 0, "2026-11-01T07:00:00Z");
    ak_tz_to_local(tz, at("2026-11-01T06:30:00Z"), &y, &mon, &d, &hh, &mm);
    AK_ASSERT(y == 2026 && mon == 11 && d == 1 && hh == 1 && mm == 30); /* the second 01:30 */
    ak_tz_to_local(tz, at("2026-03-08T07:00:00Z"), &y, &mon, &d, &hh, &mm);
    AK_ASSERT(y == 2026 && mon == 3 && d == 8 && hh == 3 && mm == 0);
    ak_tz_free(tz);
}

AK_TEST(from_local_tokyo_london_utc)
{
    struct ak_tz *tk = load("Asia/Tokyo"), *ld = load("Europe/London");
    int y = 0, mon = 0, d = 0, hh = 0, mm = 0;

    AK_ASSERT(tk != NULL && ld != NULL);
    ASSERT_FROM_LOCAL(tk, 2026, 12, 10, 2, 0, "2026-12-09T17:00:00Z");
    ASSERT_FROM_LOCAL(tk, 2026, 1, 1, 0, 0, "2025-12-31T15:00:00Z");
    ASSERT_FROM_LOCAL(ld, 2026, 1, 15, 9, 0, "2026-01-15T09:00:00Z");
    ASSERT_FROM_LOCAL(ld, 2026, 7, 1, 9, 0, "2026-07-01T08:00:00Z");
    ASSERT_FROM_LOCAL(ld, 2026, 3, 29, 1, 30, "2026-03-29T01:30:00Z"); /* gap: 02:30 BST */
    ASSERT_FROM_LOCAL(ld, 2026, 10, 25, 1, 30, "2026-10-25T00:30:00Z"); /* first: BST */
    ASSERT_FROM_LOCAL(NULL, 2028, 2, 29, 23, 59, "2028-02-29T23:59:00Z");
    ak_tz_to_local(tk, at("2026-12-09T17:00:00Z"), &y, &mon, &d, &hh, &mm);
    AK_ASSERT(y == 2026 && mon == 12 && d == 10 && hh == 2 && mm == 0);
    ak_tz_to_local(NULL, -1000, &y, &mon, &d, &hh, &mm);
    AK_ASSERT(y == 1969 && mon == 12 && d == 31 && hh == 23 && mm == 59);
    ak_tz_free(tk);
    ak_tz_free(ld);
}

AK_TEST(from_local_rejects_bad_fields)
{
    struct ak_tz *tz = load("Asia/Tokyo");
    int64_t ms = 42;

    AK_ASSERT(tz != NULL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 2, 29, 0, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 4, 31, 0, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 13, 1, 0, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 0, 1, 0, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 1, 0, 0, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 1, 1, 24, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 1, 1, 0, 60, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 2026, 1, 1, -1, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 0, 1, 1, 0, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_tz_from_local(tz, 10000, 1, 1, 0, 0, &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ms, 42); /* untouched on failure */
    ak_tz_free(tz);
}

AK_TEST_MAIN(AK_T(tokyo_has_no_dst), AK_T(utc_and_null_zone), AK_T(berlin_dst_2026),
             AK_T(new_york_dst_2026), AK_T(far_future_uses_footer_rule),
             AK_T(lord_howe_half_hour_dst), AK_T(fmt_short_forms), AK_T(bad_names_are_refused),
             AK_T(oversized_and_special_files_refused), AK_T(every_truncation_is_einval),
             AK_T(handmade_v1_v2_v3), AK_T(posix_footer_forms), AK_T(bad_footers_are_einval),
             AK_T(corrupt_structures_are_einval), AK_T(next_local_rejects_bad_times),
             AK_T(from_local_new_york_2026), AK_T(from_local_tokyo_london_utc),
             AK_T(from_local_rejects_bad_fields))
