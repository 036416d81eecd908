/* expo_int.h — private helpers of the expo module (src/expo only). */
#ifndef AK_EXPO_INT_H
#define AK_EXPO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offset of the first byte that is not valid UTF-8 in s[0..n) (overlongs, surrogates and code
 * points above U+10FFFF are invalid; NUL is valid), or n when all of it is valid. */
size_t ak_expo_utf8_invalid_at(const char *s, size_t n);
/* Number of UTF-8 code points in valid UTF-8 s[0..n). */
size_t ak_expo_utf8_count(const char *s, size_t n);

/* Parses s[0..n) as a float: [+-] digits [. digits] [e [+-] digits] (at least one digit in the
 * mantissa), or case-insensitive [+-]inf / [+-]infinity / nan. special: whether inf/nan forms
 * are allowed. Returns false on anything else. */
bool ak_expo_parse_double(const char *s, size_t n, bool special, double *ret);
/* [+-] digits that fit int64. */
bool ak_expo_parse_i64(const char *s, size_t n, int64_t *ret);

/* FNV-1a 64 over n bytes, continuing from h (start with AK_EXPO_HASH_INIT). */
#define AK_EXPO_HASH_INIT 0xcbf29ce484222325ull
uint64_t ak_expo_hash(uint64_t h, const void *p, size_t n);

#endif
