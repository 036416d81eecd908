/* util.c — allocation, number/duration/size parsing, small string helpers. */
#include "asakai/ak_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "ak_banned.h"

static _Noreturn void oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof(msg), "asakai: out of memory allocating %zu bytes\n", n);
    if (write(2, msg, (size_t)len) < 0) { /* nothing more we can do */
    }
    abort();
}

void *ak_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ak_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *ak_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *ak_xstrdup(const char *s)
{
    return s ? ak_xstrndup(s, strlen(s)) : NULL;
}

char *ak_xstrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *p = ak_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *ak_xasprintf(const char *fmt, ...)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    va_list ap;
    va_start(ap, fmt);
    (void)ak_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    return ak_buf_detach(&b, NULL);
}

void ak_freep(void *pp)
{
    void **p = pp;
    free(*p);
    *p = NULL;
}

bool ak_size_mul_overflow(size_t a, size_t b, size_t *ret)
{
    return __builtin_mul_overflow(a, b, ret);
}

_Noreturn void ak_bug(const char *file, int line, const char *what)
{
    char msg[512];
    int len = snprintf(msg, sizeof(msg), "asakai: BUG at %s:%d: %s\n", file, line, what);
    if (len > 0 && write(2, msg, (size_t)len) < 0) { /* aborting anyway */
    }
    abort();
}

int ak_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;

    if (!s || !*s)
        return AK_EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return AK_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return AK_EINVAL;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return AK_EINVAL;
    *ret = v;
    return AK_OK;
}

/* Reads digits at *p into *ret; advances *p. false when there are none or on overflow. */
static bool read_digits(const char **p, uint64_t *ret)
{
    uint64_t v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *ret = v;
    return true;
}

int ak_parse_duration_ms(const char *s, int64_t *ret_ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
    };
    uint64_t total = 0;
    const char *p = s;

    if (!s || !*s)
        return AK_EINVAL;
    while (*p) {
        uint64_t v, mul = 0;
        if (!read_digits(&p, &v))
            return AK_EINVAL;
        if (!*p) {
            if (p != s && total == 0 && strspn(s, "0123456789") == strlen(s))
                mul = 1000; /* a bare number means seconds */
            else
                return AK_EINVAL;
        } else {
            for (size_t i = 0; i < AK_ARRAY_SIZE(units); i++) {
                size_t ul = strlen(units[i].unit);
                /* "m" must not swallow the "m" of "ms" */
                if (strncmp(p, units[i].unit, ul) == 0 && !(ul == 1 && p[0] == 'm' && p[1] == 's')) {
                    mul = units[i].ms;
                    p += ul;
                    break;
                }
            }
            if (!mul)
                return AK_EINVAL;
        }
        if (v > (uint64_t)INT64_MAX / mul || total > (uint64_t)INT64_MAX - v * mul)
            return AK_EINVAL;
        total += v * mul;
    }
    *ret_ms = (int64_t)total;
    return AK_OK;
}

int ak_parse_size(const char *s, uint64_t *ret)
{
    uint64_t v, mul = 1;
    const char *p = s;

    if (!s || !read_digits(&p, &v))
        return AK_EINVAL;
    if (*p) {
        switch (*p) {
        case 'k': case 'K': mul = 1024ULL; break;
        case 'm': case 'M': mul = 1024ULL * 1024; break;
        case 'g': case 'G': mul = 1024ULL * 1024 * 1024; break;
        default: return AK_EINVAL;
        }
        p++;
        if (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0 || strcmp(p, "b") == 0)
            p += strlen(p);
        if (*p)
            return AK_EINVAL;
    }
    if (v > UINT64_MAX / mul)
        return AK_EINVAL;
    *ret = v * mul;
    return AK_OK;
}

void ak_fmt_duration(int64_t ms, char *buf, size_t n)
{
    int64_t s = ms / 1000;
    if (s < 0)
        s = -s;
    if (s >= 86400)
        snprintf(buf, n, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(buf, n, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(buf, n, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, n, "%llds", (long long)s);
}

bool ak_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool ak_startswith(const char *s, const char *prefix)
{
    return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ak_endswith(const char *s, const char *suffix)
{
    if (!s || !suffix)
        return false;
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}
