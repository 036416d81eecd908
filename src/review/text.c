/* text.c — numbers, subjects, times and links for the review's sentences. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_review.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"
#include "src/review/review_int.h"

const char *ak_review_kind_name(enum ak_review_kind k)
{
    switch (k) {
    case AK_REVIEW_GROWTH:
        return "growth";
    case AK_REVIEW_DAYS_TO_LIMIT:
        return "days-to-limit";
    case AK_REVIEW_LEVEL_SHIFT:
        return "level-shift";
    case AK_REVIEW_GAP:
        return "gap";
    }
    return "unknown";
}

/* 3 significant digits without an exponent for |v| < 1e6 ("1.8", "250", "1023"). */
static void sig3(double v, const char *suffix, char *out, size_t cap)
{
    double a = fabs(v);
    if (a >= 999.5 && a < 1e15)
        snprintf(out, cap, "%.0f%s", v, suffix);
    else
        snprintf(out, cap, "%.3g%s", v, suffix);
}

static void fmt_bytes(double v, char *out, size_t cap)
{
    static const char *const units[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"};
    size_t u = 0;
    double a = v;
    /* step up while the rounded 3-digit value would reach 1024 */
    while (fabs(a) >= 1023.5 && u + 1 < AK_ARRAY_SIZE(units)) {
        a /= 1024;
        u++;
    }
    sig3(a, units[u], out, cap);
}

static void fmt_seconds(double v, char *out, size_t cap)
{
    double a = fabs(v);
    if (a == 0)
        snprintf(out, cap, "0 s");
    else if (a < 1e-3)
        sig3(v * 1e6, " µs", out, cap);
    else if (a < 1)
        sig3(v * 1e3, " ms", out, cap);
    else if (a < 60)
        sig3(v, " s", out, cap);
    else if (a < 3600)
        sig3(v / 60, " min", out, cap);
    else
        sig3(v / 3600, " h", out, cap);
}

void ak_review_format_value(double v, const char *unit, char *out, size_t cap)
{
    if (!out || cap == 0)
        return;
    if (!isfinite(v))
        snprintf(out, cap, "%s", isnan(v) ? "n/a" : v > 0 ? "∞" : "-∞");
    else if (ak_streq(unit, "bytes"))
        fmt_bytes(v, out, cap);
    else if (ak_streq(unit, "seconds"))
        fmt_seconds(v, out, cap);
    else if (ak_streq(unit, "ratio"))
        sig3(v * 100, " %", out, cap);
    else
        sig3(v, "", out, cap);
}

/* Value of label name in a canonical key name{a="x",b="y"} (escapes kept), malloc'ed or NULL. */
static char *label_value(const char *key, const char *name)
{
    size_t nl = strlen(name);
    const char *p = key ? strchr(key, '{') : NULL;

    while (p && *p) {
        p++;
        if (strncmp(p, name, nl) == 0 && p[nl] == '=' && p[nl + 1] == '"') {
            const char *v = p + nl + 2, *e = v;
            while (*e && *e != '"')
                e += (*e == '\\' && e[1]) ? 2 : 1;
            return ak_xstrndup(v, (size_t)(e - v));
        }
        /* skip to the next label: past the quoted value */
        const char *q = strchr(p, '"');
        if (!q)
            break;
        q++;
        while (*q && *q != '"')
            q += (*q == '\\' && q[1]) ? 2 : 1;
        p = *q ? strchr(q, ',') : NULL;
    }
    return NULL;
}

bool review_is_disk(const char *metric)
{
    return ak_startswith(metric ? metric : "", "node_filesystem_");
}

static void add_where(struct ak_buf *b, const struct ak_review_series *s, bool host_level)
{
    bool has_inst = s->instance && *s->instance, has_svc = s->service && *s->service;
    if (has_svc && has_inst && !host_level)
        ak_buf_addf(b, " of %s", s->service);
    if (has_inst)
        ak_buf_addf(b, " on %s", s->instance);
    else if (has_svc)
        ak_buf_addf(b, " on %s", s->service);
}

char *review_subject(const struct ak_review_series *s, bool family)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *m = s->metric && *s->metric ? s->metric : (s->key ? s->key : "?");
    char *q = NULL, *mp = NULL;
    bool host = ak_startswith(m, "node_");

    if (family && (ak_startswith(m, "node_memory_") || strstr(m, "resident_memory"))) {
        ak_buf_add(&b, "memory");
    } else if (family && review_is_disk(m)) {
        mp = label_value(s->key, "mountpoint");
        ak_buf_add(&b, "disk");
        if (mp && *mp)
            ak_buf_addf(&b, " %s", mp);
    } else if (family && ak_startswith(m, "node_filefd_")) {
        ak_buf_add(&b, "file descriptors");
    } else {
        ak_buf_add(&b, m);
        q = label_value(s->key, "quantile");
        double qv = q ? strtod(q, NULL) : NAN;
        if (qv > 0 && qv < 1)
            ak_buf_addf(&b, " p%g", qv * 100);
    }
    add_where(&b, s, host);
    free(q);
    free(mp);
    return ak_buf_detach(&b, NULL);
}

char *review_link(const char *prefix, const char *key)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_buf_add(&b, prefix ? prefix : "/chart?series=");
    for (const unsigned char *p = (const unsigned char *)(key ? key : ""); *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            ak_buf_addc(&b, (char)*p);
        else
            ak_buf_addf(&b, "%%%02X", *p);
    }
    return ak_buf_detach(&b, NULL);
}

void review_fmt_time(int64_t ms, char *out, size_t cap)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;

    if (!gmtime_r(&t, &tm) || tm.tm_mon < 0 || tm.tm_mon > 11) {
        snprintf(out, cap, "%" PRId64 " ms", ms);
        return;
    }
    snprintf(out, cap, "%s %d %02d:%02d UTC", mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min);
}

void review_fmt_age(int64_t ms, char *out, size_t cap)
{
    double m = (double)ms / 60000.0;
    if (m < 120)
        snprintf(out, cap, "%.0f min", m);
    else if (m < 48 * 60)
        snprintf(out, cap, "%.0f h", m / 60);
    else
        snprintf(out, cap, "%.0f days", m / 1440);
}

void review_fmt_days(double d, char *out, size_t cap)
{
    if (d < 1)
        snprintf(out, cap, "%.1f", d);
    else
        snprintf(out, cap, "%.0f", d);
}
