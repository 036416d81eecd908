/* ak_json.h — asakai's JSON values (the only door to jansson; see src/json/).
 *
 * struct ak_json is reference counted. Functions named *_new_* and ak_json_parse return a new
 * reference the caller must ak_json_free(). Getters return borrowed references valid while the
 * parent lives. Setters "steal" the value passed in (the caller must not free it afterwards).
 * All functions accept NULL and then return NULL / 0 / false.
 */
#ifndef AK_JSON_H
#define AK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_json;

#define AK_JSON_MAX_DEPTH 64

/* Parses exactly one JSON text of len bytes (no trailing garbage). Rejects NUL inside strings,
 * duplicate keys, and nesting deeper than AK_JSON_MAX_DEPTH. On failure returns NULL and appends
 * "line L, column C: <reason>" to err. */
struct ak_json *ak_json_parse(const char *text, size_t len, struct ak_buf *err);
/* Like ak_json_parse but stops after the first value; *ret_used = bytes consumed (for NDJSON and
 * concatenated documents). */
struct ak_json *ak_json_parse_prefix(const char *text, size_t len, size_t *ret_used,
                                     struct ak_buf *err);
void ak_json_free(struct ak_json *j);
struct ak_json *ak_json_ref(struct ak_json *j); /* returns j with one more reference */

bool ak_json_is_obj(const struct ak_json *j);
bool ak_json_is_arr(const struct ak_json *j);
bool ak_json_is_str(const struct ak_json *j);
bool ak_json_is_num(const struct ak_json *j); /* integer or real */
bool ak_json_is_int(const struct ak_json *j);
bool ak_json_is_bool(const struct ak_json *j);
bool ak_json_is_null(const struct ak_json *j);

struct ak_json *ak_json_get(const struct ak_json *obj, const char *key); /* borrowed */
const char *ak_json_str(const struct ak_json *j);           /* NULL unless a string */
size_t ak_json_str_len(const struct ak_json *j);
const char *ak_json_get_str(const struct ak_json *obj, const char *key); /* NULL unless string */
double ak_json_num(const struct ak_json *j);    /* 0 unless number */
int64_t ak_json_int(const struct ak_json *j);   /* 0 unless integer */
bool ak_json_bool(const struct ak_json *j);     /* false unless true */
size_t ak_json_len(const struct ak_json *j);    /* array length or object size */
struct ak_json *ak_json_at(const struct ak_json *arr, size_t i); /* borrowed */

/* Object iteration in insertion order:
 *   for (void *it = ak_json_iter(o); it; it = ak_json_iter_next(o, it)) {
 *       const char *k = ak_json_iter_key(it); struct ak_json *v = ak_json_iter_value(it); } */
void *ak_json_iter(const struct ak_json *obj);
void *ak_json_iter_next(const struct ak_json *obj, void *it);
const char *ak_json_iter_key(void *it);
struct ak_json *ak_json_iter_value(void *it);

struct ak_json *ak_json_new_obj(void);
struct ak_json *ak_json_new_arr(void);
struct ak_json *ak_json_new_str(const char *s);              /* NULL s -> JSON null */
struct ak_json *ak_json_new_strn(const char *s, size_t n);
struct ak_json *ak_json_new_int(int64_t v);
struct ak_json *ak_json_new_real(double v);
struct ak_json *ak_json_new_bool(bool v);
struct ak_json *ak_json_new_null(void);

/* Steal v. Return AK_OK or AK_EINVAL (wrong container type; v is freed then). */
int ak_json_set(struct ak_json *obj, const char *key, struct ak_json *v);
int ak_json_append(struct ak_json *arr, struct ak_json *v);
/* Conveniences: NULL s -> null; ms == 0 -> null, else RFC 3339 UTC string. */
int ak_json_set_str(struct ak_json *obj, const char *key, const char *s);
int ak_json_set_int(struct ak_json *obj, const char *key, int64_t v);
int ak_json_set_bool(struct ak_json *obj, const char *key, bool v);
int ak_json_set_time(struct ak_json *obj, const char *key, int64_t ms);

enum { AK_JSON_COMPACT = 0, AK_JSON_PRETTY = 1, AK_JSON_SORT = 2 };
/* Serialises j (UTF-8, no trailing newline); the caller frees the result. Never NULL for a
 * valid j. */
char *ak_json_dump(const struct ak_json *j, int flags);

/* Appends s as a JSON string literal (quotes included) to b. */
int ak_json_quote(struct ak_buf *b, const char *s);

#endif
