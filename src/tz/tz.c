/* tz.c — IANA time zones read from TZif files (RFC 8536), without the C library's TZ machinery.
 *
 * localtime_r() depends on the process-wide TZ variable and its hidden state; a daemon that
 * formats times in several zones at once from several threads cannot use it. A parsed zone here
 * is immutable, so every function is thread-safe. For v2+ files only the 64-bit data is used (as
 * RFC 8536 tells readers to), and instants after the last transition follow the footer's POSIX
 * TZ rule. Leap-second records ("right/" zones) are skipped: their times are not UTC.
 */
#include "asakai/ak_tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"

#define AK_TZ_DIR "/usr/share/zoneinfo"
#define AK_TZ_FILE_MAX (256 * 1024)
#define AK_TZ_NAME_MAX 255
#define AK_TZ_ABBR_MAX 16
#define AK_TZ_HEADER_LEN 44
/* Real offsets lie within -12..+14 h (LMT up to ~15 h); RFC 8536 bounds them by -25..+26 h. */
#define AK_TZ_OFF_MIN (-89999)
#define AK_TZ_OFF_MAX 93599
/* Beyond this (about year 300000) the schedule functions give up instead of overflowing. */
#define AK_TZ_MS_LIMIT ((int64_t)1 << 53)

struct tz_type {
    int32_t utoff; /* seconds east of UTC */
    bool isdst;
    uint32_t abbr; /* index into abbrs */
};

/* One date of a POSIX rule: Mm.w.d, Jn (1..365, no Feb 29) or n (0..365). */
struct tz_date {
    char kind; /* 'M', 'J' or 'n' */
    int m, w, d;
    int32_t secs; /* local time of day of the change; -167..167 h */
};

struct tz_rule {
    bool present, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    char std_abbr[AK_TZ_ABBR_MAX + 1], dst_abbr[AK_TZ_ABBR_MAX + 1];
    struct tz_date start, end;
};

struct ak_tz {
    char *name;
    size_t n_trans;
    int64_t *trans;     /* ascending UTC seconds */
    uint8_t *trans_type;
    size_t n_types;
    struct tz_type *types;
    char *abbrs; /* charcnt bytes, the last one NUL */
    struct tz_rule rule;
};

struct tzhead {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

struct rd {
    const unsigned char *p;
    size_t len, pos;
};

/* ---- calendar arithmetic ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Howard Hinnant's civil_from_days, the inverse of ak_days_from_civil(). */
static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
    int64_t era, y;
    unsigned doe, yoe, doy, mp, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    m = mp < 10 ? mp + 3 : mp - 9;
    *ret_d = doy - (153 * mp + 2) / 5 + 1;
    *ret_m = m;
    *ret_y = y + (m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)(((days + 4) % 7 + 7) % 7);
}

/* The day (since the epoch) on which rule date d falls in year y. */
static int64_t rule_day(int64_t y, const struct tz_date *d)
{
    int64_t jan1 = ak_days_from_civil(y, 1, 1), first;
    int day;

    if (d->kind == 'J')
        return jan1 + d->d - 1 + (is_leap(y) && d->d >= 60);
    if (d->kind == 'n')
        return jan1 + d->d;
    first = ak_days_from_civil(y, (unsigned)d->m, 1);
    day = (d->d - weekday(first) + 7) % 7 + (d->w - 1) * 7;
    while ((unsigned)day >= month_days(y, (unsigned)d->m))
        day -= 7; /* week 5 means "the last" */
    return first + day;
}

/* ---- the POSIX TZ string of the footer ---- */

struct tzp {
    const char *s;
    size_t i, n;
};

static int tzp_peek(const struct tzp *p)
{
    return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static bool is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* "JST" or "<+0530>": at least three characters, at most AK_TZ_ABBR_MAX. */
static bool tzp_name(struct tzp *p, char *out)
{
    size_t start, len;
    bool quoted = tzp_peek(p) == '<';

    if (quoted)
        p->i++;
    start = p->i;
    while (p->i < p->n) {
        int c = tzp_peek(p);

        if (!(is_alpha(c) || (quoted && (is_digit(c) || c == '+' || c == '-'))))
            break;
        p->i++;
    }
    len = p->i - start;
    if (quoted) {
        if (tzp_peek(p) != '>')
            return false;
        p->i++;
    }
    if (len < 3 || len > AK_TZ_ABBR_MAX)
        return false;
    memcpy(out, p->s + start, len);
    out[len] = 0;
    return true;
}

static bool tzp_num(struct tzp *p, int max, int *ret)
{
    int v = 0;

    if (!is_digit(tzp_peek(p)))
        return false;
    while (is_digit(tzp_peek(p))) {
        v = v * 10 + (tzp_peek(p) - '0');
        if (v > max)
            return false;
        p->i++;
    }
    *ret = v;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; the value in seconds, sign applied. */
static bool tzp_hms(struct tzp *p, int maxh, int32_t *ret)
{
    int sign = 1, h = 0, m = 0, s = 0;

    if (tzp_peek(p) == '+' || tzp_peek(p) == '-')
        sign = p->s[p->i++] == '-' ? -1 : 1;
    if (!tzp_num(p, maxh, &h))
        return false;
    if (tzp_peek(p) == ':') {
        p->i++;
        if (!tzp_num(p, 59, &m))
            return false;
        if (tzp_peek(p) == ':') {
            p->i++;
            if (!tzp_num(p, 59, &s))
                return false;
        }
    }
    *ret = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool tzp_date(struct tzp *p, struct tz_date *d)
{
    int c = tzp_peek(p);

    memset(d, 0, sizeof(*d));
    d->secs = 2 * 3600;
    if (c == 'M') {
        p->i++;
        d->kind = 'M';
        if (!tzp_num(p, 12, &d->m) || d->m < 1 || tzp_peek(p) != '.')
            return false;
        p->i++;
        if (!tzp_num(p, 5, &d->w) || d->w < 1 || tzp_peek(p) != '.')
            return false;
        p->i++;
        if (!tzp_num(p, 6, &d->d))
            return false;
    } else if (c == 'J') {
        p->i++;
        d->kind = 'J';
        if (!tzp_num(p, 365, &d->d) || d->d < 1)
            return false;
    } else {
        d->kind = 'n';
        if (!tzp_num(p, 365, &d->d))
            return false;
    }
    if (tzp_peek(p) == '/') {
        p->i++;
        /* RFC 8536 3.3.1 extends the hour range to -167..167 */
        return tzp_hms(p, 167, &d->secs);
    }
    return true;
}

/* std offset [dst [offset] ,start[/time],end[/time]]; POSIX offsets count west, ours east. */
static bool parse_posix(const char *s, size_t n, struct tz_rule *rule)
{
    struct tzp p = {s, 0, n};
    int32_t off;

    memset(rule, 0, sizeof(*rule));
    if (!tzp_name(&p, rule->std_abbr) || !tzp_hms(&p, 24, &off))
        return false;
    rule->std_off = -off;
    rule->present = true;
    if (p.i == n)
        return true;
    if (!tzp_name(&p, rule->dst_abbr))
        return false;
    rule->has_dst = true;
    rule->dst_off = rule->std_off + 3600;
    if (tzp_peek(&p) != ',') {
        if (!tzp_hms(&p, 24, &off))
            return false;
        rule->dst_off = -off;
    }
    /* DST without a rule is left to the implementation by POSIX; TZif footers always carry one */
    if (tzp_peek(&p) != ',')
        return false;
    p.i++;
    if (!tzp_date(&p, &rule->start) || tzp_peek(&p) != ',')
        return false;
    p.i++;
    return tzp_date(&p, &rule->end) && p.i == n;
}

static void rule_at(const struct tz_rule *rule, int64_t t, int32_t *ret_off, const char **ret_abbr)
{
    int64_t y, start, end;
    unsigned m, d;
    bool dst;

    if (rule->has_dst) {
        civil_from_days(floor_div(t + rule->std_off, 86400), &y, &m, &d);
        /* the start happens in standard time, the end in daylight time */
        start = rule_day(y, &rule->start) * 86400 + rule->start.secs - rule->std_off;
        end = rule_day(y, &rule->end) * 86400 + rule->end.secs - rule->dst_off;
        if (start < end)
            dst = start <= t && t < end;
        else /* southern hemisphere: DST spans the new year */
            dst = !(end <= t && t < start);
        if (dst) {
            *ret_off = rule->dst_off;
            *ret_abbr = rule->dst_abbr;
            return;
        }
    }
    *ret_off = rule->std_off;
    *ret_abbr = rule->std_abbr;
}

/* ---- lookup ---- */

static void type_at(const struct ak_tz *tz, size_t i, int32_t *ret_off, const char **ret_abbr)
{
    *ret_off = tz->types[i].utoff;
    *ret_abbr = tz->abbrs + tz->types[i].abbr;
}

/* Offset and abbreviation at UTC second t (RFC 8536 section 3.2 and 3.3). */
static int32_t offset_at(const struct ak_tz *tz, int64_t t, const char **ret_abbr)
{
    size_t lo = 0, hi = tz->n_trans;
    const char *abbr;
    int32_t off;

    if (tz->n_trans == 0 || t < tz->trans[0]) {
        if (tz->n_trans == 0 && tz->rule.present)
            rule_at(&tz->rule, t, &off, &abbr);
        else
            type_at(tz, 0, &off, &abbr);
    } else if (t >= tz->trans[tz->n_trans - 1] && tz->rule.present) {
        rule_at(&tz->rule, t, &off, &abbr);
    } else {
        /* the last transition at or before t */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;

            if (tz->trans[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        type_at(tz, tz->trans_type[lo], &off, &abbr);
    }
    if (ret_abbr)
        *ret_abbr = abbr;
    return off;
}

int ak_tz_offset(const struct ak_tz *tz, int64_t ms, const char **abbr)
{
    if (!tz) {
        if (abbr)
            *abbr = "UTC";
        return 0;
    }
    return offset_at(tz, floor_div(ms, 1000), abbr);
}

/* Every offset the zone can have: the candidates for "which UTC instant shows this wall time". */
static size_t all_offsets(const struct ak_tz *tz, int32_t *offs, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < tz->n_types && n < cap; i++)
        offs[n++] = tz->types[i].utoff;
    if (tz->rule.present && n + 2 <= cap) {
        offs[n++] = tz->rule.std_off;
        offs[n++] = tz->rule.dst_off;
    }
    return n;
}

/* The first UTC second at which local wall time w (seconds) is shown; when w falls in a gap, the
 * first instant after the gap (the transition itself). */
static int64_t resolve_local(const struct ak_tz *tz, int64_t w)
{
    int32_t offs[256 + 2], min_o = INT32_MAX, max_o = INT32_MIN;
    size_t n = all_offsets(tz, offs, AK_ARRAY_SIZE(offs));
    int64_t best = INT64_MAX, lo, hi;

    for (size_t i = 0; i < n; i++) {
        int64_t u = w - offs[i];

        if (offs[i] < min_o)
            min_o = offs[i];
        if (offs[i] > max_o)
            max_o = offs[i];
        if (u < best && offset_at(tz, u, NULL) == offs[i])
            best = u;
    }
    if (best != INT64_MAX)
        return best;
    /* A gap: u + offset(u) passes over w. Invariant: f(lo) <= w < f(hi), f(u) = u + offset(u);
     * f grows by one per second between transitions, so the crossing found is a transition. */
    lo = w - max_o;
    hi = w - min_o;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;

        if (mid + offset_at(tz, mid, NULL) > w)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

int64_t ak_tz_next_local(const struct ak_tz *tz, int64_t after_ms, int hh, int mm)
{
    int64_t t, day;

    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || after_ms < -AK_TZ_MS_LIMIT ||
        after_ms > AK_TZ_MS_LIMIT)
        return 0;
    t = floor_div(after_ms, 1000);
    day = floor_div(t + ak_tz_offset(tz, after_ms, NULL), 86400);
    /* Only the first instant showing hh:mm counts for each local day, so a repeated hour fires
     * once; a whole skipped day (Samoa, 2011) fires at the jump. */
    for (int64_t d = day - 1; d <= day + 3; d++) {
        int64_t w = d * 86400 + hh * 3600 + mm * 60;
        int64_t u = tz ? resolve_local(tz, w) : w;

        if (u * 1000 > after_ms)
            return u * 1000;
    }
    return 0;
}

int ak_tz_from_local(const struct ak_tz *tz, int y, int mon, int d, int hh, int mm,
                     int64_t *ret_ms)
{
    int64_t w, u;

    if (y < 1 || y > 9999 || mon < 1 || mon > 12 || d < 1 ||
        (unsigned)d > month_days(y, (unsigned)mon) || hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return AK_EINVAL;
    w = ak_days_from_civil(y, (unsigned)mon, (unsigned)d) * 86400 + hh * 3600 + mm * 60;
    u = tz ? resolve_local(tz, w) : w;
    /* resolve_local gives the end of a gap; a person who wrote 02:30 on a spring-forward night
     * means "02:30 on the clock as it was", i.e. 03:30 after the jump (as mktime does). */
    if (tz && u + offset_at(tz, u, NULL) != w)
        u = w - offset_at(tz, u - 1, NULL);
    *ret_ms = u * 1000;
    return AK_OK;
}

void ak_tz_to_local(const struct ak_tz *tz, int64_t ms, int *ret_y, int *ret_mon, int *ret_d,
                    int *ret_hh, int *ret_mm)
{
    int64_t local = floor_div(ms, 1000) + ak_tz_offset(tz, ms, NULL), days, secs, y;
    unsigned m, d;

    days = floor_div(local, 86400);
    secs = local - days * 86400;
    civil_from_days(days, &y, &m, &d);
    if (ret_y)
        *ret_y = (int)y;
    if (ret_mon)
        *ret_mon = (int)m;
    if (ret_d)
        *ret_d = (int)d;
    if (ret_hh)
        *ret_hh = (int)(secs / 3600);
    if (ret_mm)
        *ret_mm = (int)(secs % 3600 / 60);
}

void ak_tz_fmt_short(const struct ak_tz *tz, int64_t ms, char *buf, size_t n)
{
    static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const char *abbr = NULL;
    int64_t t = floor_div(ms, 1000), local, days, secs, y;
    unsigned m, d;

    if (!buf || n == 0)
        return;
    local = t + ak_tz_offset(tz, ms, &abbr);
    days = floor_div(local, 86400);
    secs = local - days * 86400;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%s %u %02d:%02d %s", mon[m - 1], d, (int)(secs / 3600),
             (int)(secs % 3600 / 60), abbr);
}

/* ---- TZif ---- */

static const unsigned char *rd_take(struct rd *r, size_t n)
{
    const unsigned char *p;

    if (r->len - r->pos < n)
        return NULL;
    p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(struct rd *r, const char *name, struct tzhead *h, struct ak_buf *err)
{
    const unsigned char *p = rd_take(r, AK_TZ_HEADER_LEN);

    if (!p)
        return ak_err(err, AK_EINVAL, "The time zone data of %s is truncated in a header.", name);
    if (memcmp(p, "TZif", 4) != 0)
        return ak_err(err, AK_EINVAL, "The time zone data of %s is not TZif (bad magic).", name);
    h->version = (char)p[4];
    if (h->version != 0 && (h->version < '2' || h->version > '4'))
        return ak_err(err, AK_EINVAL, "The time zone data of %s has unknown TZif version 0x%02x.",
                      name, p[4]);
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    /* transition types are one byte, so more than 256 types cannot be referenced */
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return ak_err(err, AK_EINVAL, "The time zone data of %s has inconsistent header counts.",
                      name);
    return AK_OK;
}

/* Size of a data block; counts are 32-bit, so the sum cannot overflow 64 bits. */
static uint64_t block_size(const struct tzhead *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * tsize + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int read_types(struct rd *r, const struct tzhead *h, struct ak_tz *tz, const char *name,
                      struct ak_buf *err)
{
    const unsigned char *p;

    tz->n_types = h->typecnt;
    tz->types = ak_xcalloc(h->typecnt, sizeof(*tz->types));
    for (uint32_t i = 0; i < h->typecnt; i++) {
        int32_t off;

        p = rd_take(r, 6);
        off = (int32_t)be32(p);
        if (off < AK_TZ_OFF_MIN || off > AK_TZ_OFF_MAX || p[4] > 1 || p[5] >= h->charcnt)
            return ak_err(err, AK_EINVAL, "The time zone data of %s has a bad local time type "
                          "(#%u).", name, i);
        tz->types[i].utoff = off;
        tz->types[i].isdst = p[4];
        tz->types[i].abbr = p[5];
    }
    p = rd_take(r, h->charcnt);
    if (p[h->charcnt - 1] != 0)
        return ak_err(err, AK_EINVAL, "The time zone data of %s has an unterminated "
                      "abbreviation.", name);
    tz->abbrs = ak_xmalloc(h->charcnt);
    memcpy(tz->abbrs, p, h->charcnt);
    return AK_OK;
}

/* Reads one data block (tsize 4 for v1, 8 for v2+) into tz. */
static int read_block(struct rd *r, const struct tzhead *h, unsigned tsize, struct ak_tz *tz,
                      const char *name, struct ak_buf *err)
{
    const unsigned char *p;
    int ret;

    /* the whole block is checked against the input before anything is allocated */
    if (block_size(h, tsize) > r->len - r->pos)
        return ak_err(err, AK_EINVAL, "The time zone data of %s is truncated in a data block.",
                      name);
    tz->n_trans = h->timecnt;
    tz->trans = ak_xcalloc(h->timecnt ? h->timecnt : 1, sizeof(*tz->trans));
    tz->trans_type = ak_xcalloc(h->timecnt ? h->timecnt : 1, 1);
    for (uint32_t i = 0; i < h->timecnt; i++) {
        p = rd_take(r, tsize);
        tz->trans[i] = tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return ak_err(err, AK_EINVAL, "The time zone data of %s has transitions out of "
                          "order (#%u).", name, i);
    }
    p = rd_take(r, h->timecnt);
    for (uint32_t i = 0; i < h->timecnt; i++) {
        if (p[i] >= h->typecnt)
            return ak_err(err, AK_EINVAL, "The time zone data of %s has transition #%u pointing "
                          "at a missing type.", name, i);
        tz->trans_type[i] = p[i];
    }
    ret = read_types(r, h, tz, name, err);
    if (ret < 0)
        return ret;
    /* leap-second records and the std/wall and UT/local indicators are not needed */
    rd_take(r, (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt);
    return AK_OK;
}

static int read_footer(struct rd *r, struct ak_tz *tz, const char *name, struct ak_buf *err)
{
    const unsigned char *p = rd_take(r, 1), *end;
    size_t n;

    if (!p || *p != '\n')
        return ak_err(err, AK_EINVAL, "The time zone data of %s lacks its footer.", name);
    end = memchr(r->p + r->pos, '\n', r->len - r->pos);
    if (!end)
        return ak_err(err, AK_EINVAL, "The time zone data of %s has an unterminated footer.",
                      name);
    n = (size_t)(end - (r->p + r->pos));
    if (n > 0 && !parse_posix((const char *)r->p + r->pos, n, &tz->rule))
        return ak_err(err, AK_EINVAL, "The time zone data of %s has a footer TZ string that is "
                      "not understood (\"%.*s\").", name, (int)(n > 64 ? 64 : n),
                      (const char *)r->p + r->pos);
    r->pos += n + 1;
    return AK_OK;
}

static void tz_clear_data(struct ak_tz *tz)
{
    ak_freep(&tz->trans);
    ak_freep(&tz->trans_type);
    ak_freep(&tz->types);
    ak_freep(&tz->abbrs);
    tz->n_trans = tz->n_types = 0;
}

int ak_tz_parse(const char *name, const void *data, size_t len, struct ak_tz **ret,
                struct ak_buf *err)
{
    struct rd r = {data, len, 0};
    struct ak_tz *tz = NULL;
    struct tzhead h;
    const char *qname;
    int ret_code;

    if (!data && len)
        return ak_err(err, AK_EINVAL, "No time zone data was given.");
    tz = ak_xcalloc(1, sizeof(*tz));
    tz->name = ak_xstrdup(name ? name : "");
    qname = name ? name : "the zone";
    ret_code = read_header(&r, qname, &h, err);
    if (ret_code < 0)
        goto out;
    ret_code = read_block(&r, &h, 4, tz, qname, err);
    if (ret_code < 0 || h.version == 0)
        goto out;
    /* v2+: the v1 block was only validated; the 64-bit block and the footer replace it */
    tz_clear_data(tz);
    ret_code = read_header(&r, qname, &h, err);
    if (ret_code < 0)
        goto out;
    ret_code = read_block(&r, &h, 8, tz, qname, err);
    if (ret_code < 0)
        goto out;
    ret_code = read_footer(&r, tz, qname, err);
out:
    if (ret_code < 0) {
        ak_tz_free(tz);
        return ret_code;
    }
    *ret = tz;
    return AK_OK;
}

void ak_tz_free(struct ak_tz *tz)
{
    if (!tz)
        return;
    tz_clear_data(tz);
    free(tz->name);
    free(tz);
}

const char *ak_tz_name(const struct ak_tz *tz)
{
    return tz ? tz->name : "UTC";
}

/* ---- loading ---- */

/* Zone names are relative paths of letters, digits and "/_-+." ("Etc/GMT+9"); nothing that could
 * leave the directory. */
static bool name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > AK_TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!is_alpha(c) && !is_digit(c) && !strchr("/_-+.", c))
            return false;
    }
    return true;
}

static int read_all(int fd, const char *name, char **ret, size_t *ret_len, struct ak_buf *err)
{
    char *data = ak_xmalloc(AK_TZ_FILE_MAX + 1);
    size_t len = 0;

    /* read one byte past the cap so that a file that grew after fstat() is caught too */
    while (len <= AK_TZ_FILE_MAX) {
        ssize_t k = read(fd, data + len, AK_TZ_FILE_MAX + 1 - len);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            free(data);
            return ak_err(err, AK_EIO, "Cannot read the time zone file of %s: %s.", name,
                          strerror(errno));
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    if (len > AK_TZ_FILE_MAX) {
        free(data);
        return ak_err(err, AK_EINVAL, "The time zone file of %s is larger than %d KiB.", name,
                      AK_TZ_FILE_MAX / 1024);
    }
    *ret = data;
    *ret_len = len;
    return AK_OK;
}

int ak_tz_load(const char *name, const char *dir, struct ak_tz **ret, struct ak_buf *err)
{
    char *path = NULL, *data = NULL;
    struct stat st;
    size_t len = 0;
    int fd = -1, r;

    if (!name_ok(name)) {
        r = ak_err(err, AK_EINVAL, "\"%.64s\" is not a time zone name (like Asia/Tokyo).",
                   name ? name : "");
        goto out;
    }
    path = ak_xasprintf("%s/%s", dir ? dir : AK_TZ_DIR, name);
    /* O_NONBLOCK: a FIFO planted in the directory must not hang the caller */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        r = errno == ENOENT || errno == ENOTDIR ? AK_ENOTFOUND : AK_EIO;
        r = ak_err(err, r, "Cannot open the time zone %s (%s): %s.", name, path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        r = ak_err(err, AK_EINVAL, "The time zone %s (%s) is not a regular file.", name, path);
        goto out;
    }
    if (st.st_size > AK_TZ_FILE_MAX) {
        r = ak_err(err, AK_EINVAL, "The time zone file of %s is larger than %d KiB.", name,
                   AK_TZ_FILE_MAX / 1024);
        goto out;
    }
    r = read_all(fd, name, &data, &len, err);
    if (r < 0)
        goto out;
    r = ak_tz_parse(name, data, len, ret, err);
out:
    if (fd >= 0)
        close(fd);
    free(data);
    free(path);
    return r;
}
