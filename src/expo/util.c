/* util.c — UTF-8, number parsing, hashing, series keys and small lookups for the expo module. */
#include "asakai/ak_expo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_err.h"
#include "expo_int.h"
#include "../core/ak_banned.h"

size_t ak_expo_utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned c = p[i];
        size_t need;
        unsigned cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i <= need)
            return i;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += need + 1;
    }
    return n;
}

size_t ak_expo_utf8_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            c++;
    return c;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool span_ieq(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Checks the decimal grammar; returns the number of mantissa digits seen (0 = invalid). */
static size_t decimal_ok(const char *s, size_t n, bool *ret_plain_int)
{
    size_t i = 0, digits = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && is_digit(s[i]))
        i++, digits++;
    *ret_plain_int = i == n;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t ed = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && is_digit(s[i]))
            i++, ed++;
        if (!ed)
            return 0;
    }
    return i == n ? digits : 0;
}

bool ak_expo_parse_double(const char *s, size_t n, bool special, double *ret)
{
    bool plain_int;
    size_t digits;
    char tmp[128];

    if (!n)
        return false;
    if (special) {
        const char *b = s;
        size_t bn = n;
        double sign = 1.0;
        if (*b == '+' || *b == '-') {
            sign = *b == '-' ? -1.0 : 1.0;
            b++, bn--;
        }
        if (span_ieq(b, bn, "inf") || span_ieq(b, bn, "infinity")) {
            *ret = sign * INFINITY;
            return true;
        }
        if (b == s && span_ieq(b, bn, "nan")) {
            *ret = NAN;
            return true;
        }
    }
    digits = decimal_ok(s, n, &plain_int);
    if (!digits)
        return false;
    /* Fast path: up to 15 digits is exact in a double, and most values are integers. */
    if (plain_int && digits <= 15) {
        bool neg = *s == '-';
        uint64_t v = 0;
        for (size_t i = (*s == '+' || *s == '-'); i < n; i++)
            v = v * 10 + (uint64_t)(s[i] - '0');
        *ret = neg ? -(double)v : (double)v;
        return true;
    }
    if (n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    *ret = strtod(tmp, NULL);
    return true;
}

bool ak_expo_parse_i64(const char *s, size_t n, int64_t *ret)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0, lim;

    if (n && (s[0] == '+' || s[0] == '-'))
        neg = s[0] == '-', i++;
    if (i == n)
        return false;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

uint64_t ak_expo_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

enum ak_expo_format ak_expo_format_from_content_type(const char *ct)
{
    if (!ct)
        return AK_EXPO_AUTO;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, "application/openmetrics-text", 28) == 0)
        return AK_EXPO_OPENMETRICS;
    if (strncasecmp(ct, "text/plain", 10) == 0)
        return AK_EXPO_PROM_TEXT;
    return AK_EXPO_AUTO;
}

const char *ak_expo_type_name(enum ak_expo_type t)
{
    switch (t) {
    case AK_EXPO_COUNTER: return "counter";
    case AK_EXPO_GAUGE: return "gauge";
    case AK_EXPO_HISTOGRAM: return "histogram";
    case AK_EXPO_GAUGEHISTOGRAM: return "gaugehistogram";
    case AK_EXPO_STATESET: return "stateset";
    case AK_EXPO_INFO: return "info";
    case AK_EXPO_SUMMARY: return "summary";
    case AK_EXPO_UNTYPED: break;
    }
    return "untyped";
}

static int add_escaped(struct ak_buf *out, const char *v, size_t n)
{
    size_t run = 0;
    int r = AK_OK;

    for (size_t i = 0; i < n && r == AK_OK; i++) {
        const char *esc = v[i] == '\\' ? "\\\\"
                          : v[i] == '"'  ? "\\\""
                          : v[i] == '\n' ? "\\n"
                                         : NULL;
        if (!esc)
            continue;
        r = ak_buf_addn(out, v + run, i - run);
        if (r == AK_OK)
            r = ak_buf_addn(out, esc, 2);
        run = i + 1;
    }
    if (r == AK_OK)
        r = ak_buf_addn(out, v + run, n - run);
    return r;
}

int ak_expo_series_key(const char *name, const struct ak_expo_label *labels, size_t nlabels,
                       struct ak_buf *out)
{
    size_t old = out->len;
    int r = ak_buf_add(out, name);

    for (size_t i = 0; i < nlabels && r == AK_OK; i++) {
        r = ak_buf_addc(out, i ? ',' : '{');
        if (r == AK_OK)
            r = ak_buf_add(out, labels[i].name);
        if (r == AK_OK)
            r = ak_buf_addn(out, "=\"", 2);
        if (r == AK_OK)
            r = add_escaped(out, labels[i].value, labels[i].value_len);
        if (r == AK_OK)
            r = ak_buf_addc(out, '"');
    }
    if (r == AK_OK && nlabels)
        r = ak_buf_addc(out, '}');
    if (r != AK_OK) {
        out->len = old;
        out->buf[old] = 0;
    }
    return r;
}
