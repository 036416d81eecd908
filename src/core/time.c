/* time.c — wall and monotonic clocks; parsing and formatting of the timestamps AWS uses. */
#include "asakai/ak_time.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asakai/ak_err.h"
#include "ak_banned.h"

int64_t ak_now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ak_now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Howard Hinnant's days_from_civil. */
int64_t ak_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Reads exactly n digits. */
static bool num(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *ret = v;
    return true;
}

static int month_from_name(const char *s)
{
    static const char *names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncmp(s, names[i], 3) == 0)
            return i + 1;
    return 0;
}

static int make_ms(int y, int mo, int d, int h, int mi, int s, int ms, int off_min, int64_t *ret)
{
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
        (unsigned)d > days_in_month(y, (unsigned)mo) || h > 23 || mi > 59 || s > 60)
        return AK_EINVAL;
    if (s == 60) /* leap second: clamp */
        s = 59;
    int64_t days = ak_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = ((days * 24 + h) * 60 + mi) * 60 + s;
    *ret = (t - (int64_t)off_min * 60) * 1000 + ms;
    return AK_OK;
}

/* Fraction ".123456" -> milliseconds (extra digits ignored). */
static void frac(const char **p, int *ret_ms)
{
    int ms = 0, n = 0;
    if (**p != '.' && **p != ',')
        return;
    (*p)++;
    while (**p >= '0' && **p <= '9') {
        if (n < 3)
            ms = ms * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    while (n > 0 && n < 3) {
        ms *= 10;
        n++;
    }
    *ret_ms = ms;
}

/* "2019-03-14T20:00:00.000Z", "...+09:00", "2019-01-02 12:45:06.000", "2026-12-10" */
static int parse_iso(const char *p, int64_t *ret)
{
    int y, mo, d, h = 0, mi = 0, s = 0, ms = 0, off = 0;
    if (!num(&p, 4, &y) || *p++ != '-' || !num(&p, 2, &mo) || *p++ != '-' || !num(&p, 2, &d))
        return AK_EINVAL;
    if (*p == 0)
        return make_ms(y, mo, d, 0, 0, 0, 0, 0, ret);
    if (*p != 'T' && *p != 't' && *p != ' ')
        return AK_EINVAL;
    p++;
    if (!num(&p, 2, &h) || *p++ != ':' || !num(&p, 2, &mi))
        return AK_EINVAL;
    if (*p == ':') {
        p++;
        if (!num(&p, 2, &s))
            return AK_EINVAL;
        frac(&p, &ms);
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (!num(&p, 2, &oh))
            return AK_EINVAL;
        if (*p == ':')
            p++;
        if (*p && !num(&p, 2, &om))
            return AK_EINVAL;
        if (oh > 23 || om > 59)
            return AK_EINVAL;
        off = sign * (oh * 60 + om);
    } else if (strcmp(p, " UTC") == 0 || strcmp(p, " GMT") == 0)
        p += 4;
    if (*p)
        return AK_EINVAL;
    return make_ms(y, mo, d, h, mi, s, ms, off, ret);
}

/* "Wed, 26 Jun 2019 15:00:00 GMT" and "21 Jan 2019 09:00:43 GMT" */
static int parse_rfc1123(const char *p, int64_t *ret)
{
    int d, mo, y, h, mi, s;
    const char *comma = strchr(p, ',');
    if (comma) {
        p = comma + 1;
        while (*p == ' ')
            p++;
    }
    if (p[0] >= '0' && p[0] <= '9' && p[1] == ' ') {
        d = p[0] - '0';
        p += 1;
    } else if (!num(&p, 2, &d))
        return AK_EINVAL;
    if (*p++ != ' ' || !(mo = month_from_name(p)))
        return AK_EINVAL;
    p += 3;
    if (*p++ != ' ' || !num(&p, 4, &y) || *p++ != ' ' || !num(&p, 2, &h) || *p++ != ':' ||
        !num(&p, 2, &mi) || *p++ != ':' || !num(&p, 2, &s))
        return AK_EINVAL;
    if (strcmp(p, " GMT") != 0 && strcmp(p, " UTC") != 0 && strcmp(p, " +0000") != 0 &&
        strcmp(p, " Z") != 0)
        return AK_EINVAL;
    return make_ms(y, mo, d, h, mi, s, 0, 0, ret);
}

int ak_time_parse(const char *s, int64_t *ret_ms)
{
    int64_t v;
    int r;

    if (!s || strlen(s) > 64)
        return AK_EINVAL;
    while (*s == ' ')
        s++;
    if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
        s[3] >= '0' && s[3] <= '9' && s[4] == '-')
        r = parse_iso(s, &v);
    else
        r = parse_rfc1123(s, &v);
    if (r < 0)
        return r;
    *ret_ms = v;
    return AK_OK;
}

static void split(int64_t ms, struct tm *tm)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    gmtime_r(&t, tm);
}

void ak_time_fmt_rfc3339(int64_t ms, char *buf, size_t n)
{
    struct tm tm;
    if (ms == 0) {
        if (n)
            buf[0] = 0;
        return;
    }
    split(ms, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void ak_time_fmt_rfc3339_ms(int64_t ms, char *buf, size_t n)
{
    struct tm tm;
    split(ms, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(((ms % 1000) + 1000) % 1000));
}

void ak_time_fmt_relative(int64_t ms, int64_t now_ms, char *buf, size_t n)
{
    int64_t d = ms - now_ms;
    bool future = d >= 0;
    int64_t a = future ? d : -d;
    const char *unit;
    int64_t v;

    if (a < 60 * 1000) {
        snprintf(buf, n, "now");
        return;
    }
    if (a < 3600 * 1000) {
        v = a / 60000;
        unit = "minute";
    } else if (a < 48LL * 3600 * 1000) {
        v = a / 3600000;
        unit = "hour";
    } else {
        v = a / 86400000;
        unit = "day";
    }
    snprintf(buf, n, future ? "in %lld %s%s" : "%lld %s%s ago", (long long)v, unit,
             v == 1 ? "" : "s");
}
