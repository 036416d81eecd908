/* json.c — asakai's JSON values on top of jansson (the only file that includes jansson.h).
 * struct ak_json is jansson's json_t under another name: the casts below are the whole trick. */
#include "asakai/ak_json.h"

#include <jansson.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "../core/ak_banned.h"

#define J(x) ((json_t *)(x))
#define A(x) ((struct ak_json *)(x))

/* jansson has no depth option: walk the parsed tree and refuse deep nesting ourselves. */
static bool too_deep(const json_t *j, int depth)
{
    if (depth > AK_JSON_MAX_DEPTH)
        return true;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            if (too_deep(v, depth + 1))
                return true;
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            if (too_deep(v, depth + 1))
                return true;
        }
    }
    return false;
}

/* Cheap pre-check so that pathological nesting ("[[[[...") is refused before jansson recurses. */
static bool bracket_depth_ok(const char *t, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"')
            in_str = true;
        else if (c == '[' || c == '{') {
            if (++depth > AK_JSON_MAX_DEPTH + 1)
                return false;
        } else if (c == ']' || c == '}')
            depth--;
    }
    return true;
}

static struct ak_json *parse(const char *text, size_t len, size_t flags, size_t *ret_used,
                             struct ak_buf *err)
{
    json_error_t e;
    json_t *j;

    /* jansson skips a raw NUL byte without counting it, which would make "used" wrong and let
     * "{\"a\":1<NUL>}" through: JSON text never contains one, so refuse it here */
    const char *nul = memchr(text, 0, len);
    if (nul) {
        size_t line = 1, col = 1;
        for (const char *p = text; p < nul; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else
                col++;
        }
        ak_err(err, AK_EINVAL, "line %zu, column %zu: NUL byte in the text", line, col);
        return NULL;
    }
    if (!bracket_depth_ok(text, len)) {
        ak_err(err, AK_EINVAL, "JSON nested deeper than %d levels", AK_JSON_MAX_DEPTH);
        return NULL;
    }
    j = json_loadb(text, len, flags | JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        ak_err(err, AK_EINVAL, "line %d, column %d: %s", e.line, e.column, e.text);
        return NULL;
    }
    if (too_deep(j, 1)) {
        json_decref(j);
        ak_err(err, AK_EINVAL, "JSON nested deeper than %d levels", AK_JSON_MAX_DEPTH);
        return NULL;
    }
    if (ret_used)
        *ret_used = (size_t)e.position;
    return A(j);
}

struct ak_json *ak_json_parse(const char *text, size_t len, struct ak_buf *err)
{
    return parse(text, len, 0, NULL, err);
}

struct ak_json *ak_json_parse_prefix(const char *text, size_t len, size_t *ret_used,
                                     struct ak_buf *err)
{
    return parse(text, len, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, ret_used, err);
}

void ak_json_free(struct ak_json *j)
{
    json_decref(J(j));
}

struct ak_json *ak_json_ref(struct ak_json *j)
{
    return A(json_incref(J(j)));
}

bool ak_json_is_obj(const struct ak_json *j) { return j && json_is_object(J(j)); }
bool ak_json_is_arr(const struct ak_json *j) { return j && json_is_array(J(j)); }
bool ak_json_is_str(const struct ak_json *j) { return j && json_is_string(J(j)); }
bool ak_json_is_num(const struct ak_json *j) { return j && json_is_number(J(j)); }
bool ak_json_is_int(const struct ak_json *j) { return j && json_is_integer(J(j)); }
bool ak_json_is_bool(const struct ak_json *j) { return j && json_is_boolean(J(j)); }
bool ak_json_is_null(const struct ak_json *j) { return j && json_is_null(J(j)); }

struct ak_json *ak_json_get(const struct ak_json *obj, const char *key)
{
    if (!obj || !key || !json_is_object(J(obj)))
        return NULL;
    return A(json_object_get(J(obj), key));
}

const char *ak_json_str(const struct ak_json *j)
{
    return j && json_is_string(J(j)) ? json_string_value(J(j)) : NULL;
}

size_t ak_json_str_len(const struct ak_json *j)
{
    return j && json_is_string(J(j)) ? json_string_length(J(j)) : 0;
}

const char *ak_json_get_str(const struct ak_json *obj, const char *key)
{
    return ak_json_str(ak_json_get(obj, key));
}

double ak_json_num(const struct ak_json *j)
{
    return j && json_is_number(J(j)) ? json_number_value(J(j)) : 0;
}

int64_t ak_json_int(const struct ak_json *j)
{
    return j && json_is_integer(J(j)) ? (int64_t)json_integer_value(J(j)) : 0;
}

bool ak_json_bool(const struct ak_json *j)
{
    return j && json_is_true(J(j));
}

size_t ak_json_len(const struct ak_json *j)
{
    if (!j)
        return 0;
    if (json_is_array(J(j)))
        return json_array_size(J(j));
    if (json_is_object(J(j)))
        return json_object_size(J(j));
    return 0;
}

struct ak_json *ak_json_at(const struct ak_json *arr, size_t i)
{
    return arr && json_is_array(J(arr)) ? A(json_array_get(J(arr), i)) : NULL;
}

void *ak_json_iter(const struct ak_json *obj)
{
    return obj && json_is_object(J(obj)) ? json_object_iter(J(obj)) : NULL;
}

void *ak_json_iter_next(const struct ak_json *obj, void *it)
{
    return obj && it ? json_object_iter_next(J(obj), it) : NULL;
}

const char *ak_json_iter_key(void *it)
{
    return it ? json_object_iter_key(it) : NULL;
}

struct ak_json *ak_json_iter_value(void *it)
{
    return it ? A(json_object_iter_value(it)) : NULL;
}

static json_t *must(json_t *j)
{
    if (!j)
        ak_bug(__FILE__, __LINE__, "jansson allocation failed");
    return j;
}

struct ak_json *ak_json_new_obj(void) { return A(must(json_object())); }
struct ak_json *ak_json_new_arr(void) { return A(must(json_array())); }
struct ak_json *ak_json_new_int(int64_t v) { return A(must(json_integer((json_int_t)v))); }
struct ak_json *ak_json_new_real(double v)
{
    json_t *j = json_real(v); /* NULL for NaN/inf, which JSON cannot hold */
    return A(j ? j : json_null());
}
struct ak_json *ak_json_new_bool(bool v) { return A(json_boolean(v)); }
struct ak_json *ak_json_new_null(void) { return A(json_null()); }

struct ak_json *ak_json_new_str(const char *s)
{
    return s ? ak_json_new_strn(s, strlen(s)) : ak_json_new_null();
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;
    if (s[0] < 0x80)
        return s[0] ? 1 : 0;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    } else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

struct ak_json *ak_json_new_strn(const char *s, size_t n)
{
    /* jansson refuses invalid UTF-8 (a string cut in the middle of a character, bytes of
     * another encoding): keep every valid character and put U+FFFD for each invalid byte,
     * rather than lose the field or the rest of its text */
    json_t *j = json_stringn(s, n);
    if (!j) {
        struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
        for (size_t i = 0; i < n;) {
            size_t l = utf8_seq((const unsigned char *)s + i, n - i);
            if (l) {
                ak_buf_addn(&b, s + i, l);
                i += l;
            } else {
                ak_buf_add(&b, "\xef\xbf\xbd");
                i++;
            }
        }
        j = must(json_stringn(b.buf, b.len));
        ak_buf_release(&b);
    }
    return A(j);
}

int ak_json_set(struct ak_json *obj, const char *key, struct ak_json *v)
{
    if (!obj || !json_is_object(J(obj)) || !key) {
        json_decref(J(v));
        return AK_EINVAL;
    }
    return json_object_set_new(J(obj), key, v ? J(v) : json_null()) == 0 ? AK_OK : AK_EINVAL;
}

int ak_json_append(struct ak_json *arr, struct ak_json *v)
{
    if (!arr || !json_is_array(J(arr))) {
        json_decref(J(v));
        return AK_EINVAL;
    }
    return json_array_append_new(J(arr), v ? J(v) : json_null()) == 0 ? AK_OK : AK_EINVAL;
}

int ak_json_set_str(struct ak_json *obj, const char *key, const char *s)
{
    return ak_json_set(obj, key, ak_json_new_str(s));
}

int ak_json_set_int(struct ak_json *obj, const char *key, int64_t v)
{
    return ak_json_set(obj, key, ak_json_new_int(v));
}

int ak_json_set_bool(struct ak_json *obj, const char *key, bool v)
{
    return ak_json_set(obj, key, ak_json_new_bool(v));
}

int ak_json_set_time(struct ak_json *obj, const char *key, int64_t ms)
{
    char b[AK_TIME_RFC3339_LEN];
    if (ms == 0)
        return ak_json_set(obj, key, ak_json_new_null());
    ak_time_fmt_rfc3339(ms, b, sizeof(b));
    return ak_json_set_str(obj, key, b);
}

char *ak_json_dump(const struct ak_json *j, int flags)
{
    size_t f = JSON_ENCODE_ANY | JSON_REAL_PRECISION(15);
    if (flags & AK_JSON_PRETTY)
        f |= JSON_INDENT(2);
    else
        f |= JSON_COMPACT;
    if (flags & AK_JSON_SORT)
        f |= JSON_SORT_KEYS;
    char *s = j ? json_dumps(J(j), f) : NULL;
    if (!s)
        return ak_xstrdup("null");
    /* hand back memory from our allocator so callers can free() it like any other string */
    char *out = ak_xstrdup(s);
    free(s);
    return out;
}

int ak_json_quote(struct ak_buf *b, const char *s)
{
    const char *v = s ? s : "";
    json_t *j = J(ak_json_new_strn(v, strlen(v)));
    char *d = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    if (!d)
        return AK_EINVAL;
    int r = ak_buf_add(b, d);
    free(d);
    return r;
}
