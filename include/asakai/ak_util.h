/* ak_util.h — allocation that aborts on OOM, safe number/size/duration parsing, assertions. */
#ifndef AK_UTIL_H
#define AK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *ak_xmalloc(size_t n);
void *ak_xcalloc(size_t nmemb, size_t size);
void *ak_xrealloc(void *p, size_t n);
char *ak_xstrdup(const char *s);                /* NULL -> NULL */
char *ak_xstrndup(const char *s, size_t n);
char *ak_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Frees *p and sets it to NULL. */
void ak_freep(void *pp);

/* true if a*b overflows size_t (then *ret is unspecified). */
bool ak_size_mul_overflow(size_t a, size_t b, size_t *ret);

/* Whole decimal number in [min,max]; no sign, no spaces, no trailing bytes. AK_EINVAL otherwise. */
int ak_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* "500ms" "15s" "15m" "2h" "30d" "1w", also combined "1h30m"; a bare number means seconds.
 * Result in milliseconds. AK_EINVAL on anything else or overflow. */
int ak_parse_duration_ms(const char *s, int64_t *ret_ms);
/* "1048576" "64k" "64KiB" "1M" "1MiB" "2G" (binary units). AK_EINVAL otherwise. */
int ak_parse_size(const char *s, uint64_t *ret);
/* Human duration: "3d", "2h 5m", "45s". */
void ak_fmt_duration(int64_t ms, char *buf, size_t n);

bool ak_streq(const char *a, const char *b);        /* NULL-safe */
bool ak_startswith(const char *s, const char *prefix);
bool ak_endswith(const char *s, const char *suffix);

/* Aborts with file:line when cond holds: for states the process must not survive. */
#define AK_BUG_ON(cond)                                                                            \
    do {                                                                                           \
        if (cond)                                                                                  \
            ak_bug(__FILE__, __LINE__, #cond);                                                     \
    } while (0)
_Noreturn void ak_bug(const char *file, int line, const char *what);

#define AK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
