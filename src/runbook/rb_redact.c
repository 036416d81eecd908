/* rb_redact.c — secrets out of command output before it is stored in a run record.
 *
 * Commands like `aws sts assume-role`, `redis-cli CONFIG GET requirepass` or a curl with -v
 * print credentials; the run record is searchable and shown to the whole team. Matching is by
 * pattern, so it errs on the side of redacting: a value after a key named like a secret goes even
 * when it is harmless, while ordinary output (ids, endpoints, status) is left alone. Each pass
 * copies the text once; output may contain NUL bytes, so lengths are explicit throughout. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_runbook.h"
#include "asakai/ak_util.h"
#include "rb_int.h"
#include "../core/ak_banned.h"

#define MARK "[REDACTED]"
#define KEYWORD_SCAN_MAX 64
#define BARE_RUN_MIN 20 /* a base64/hex run after a keyword without '=' or ':' */

struct pass {
    const char *s;
    size_t n;
    struct ak_buf out;
    size_t count;
};

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static bool is_b64(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
}

static bool is_upper_digit(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool starts_ci(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);

    return n >= k && strncasecmp(s, w, k) == 0;
}

static bool at_mark(const char *s, size_t n)
{
    return n >= strlen(MARK) && memcmp(s, MARK, strlen(MARK)) == 0;
}

static void emit_mark(struct pass *p)
{
    ak_buf_add(&p->out, MARK);
    p->count++;
}

/* ---- AKIA/ASIA access key ids ---- */

static size_t try_key_id(struct pass *p, size_t i)
{
    const char *s = p->s + i;
    size_t n = p->n - i;

    if (n < 20 || (i > 0 && is_upper_digit(p->s[i - 1])))
        return 0;
    if (memcmp(s, "AKIA", 4) != 0 && memcmp(s, "ASIA", 4) != 0)
        return 0;
    for (size_t k = 4; k < 20; k++)
        if (!is_upper_digit(s[k]))
            return 0;
    if (n > 20 && is_upper_digit(s[20]))
        return 0;
    emit_mark(p);
    return 20;
}

/* ---- PEM private keys ---- */

/* The first w in s[0..n), or NULL (memmem is a GNU extension). */
static const char *find(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);

    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (s[i] == w[0] && memcmp(s + i, w, k) == 0)
            return s + i;
    return NULL;
}

static size_t try_pem(struct pass *p, size_t i)
{
    const char *s = p->s + i, *e, *nl;
    size_t n = p->n - i, line;

    if (!starts_ci(s, n, "-----BEGIN "))
        return 0;
    nl = memchr(s, '\n', n);
    line = nl ? (size_t)(nl - s) : n;
    if (!find(s, line, "PRIVATE KEY-----"))
        return 0;
    /* through the END line's closing dashes; an unterminated block is redacted to the end */
    e = find(s + line, n - line, "-----END ");
    if (e) {
        const char *eol = memchr(e, '\n', n - (size_t)(e - s));
        const char *dash = find(e + 9, (size_t)((eol ? eol : s + n) - e) - 9, "-----");

        e = dash ? dash + 5 : (eol ? eol : s + n);
    } else {
        e = s + n;
    }
    emit_mark(p);
    return (size_t)(e - s);
}

/* ---- Authorization headers and Bearer tokens ---- */

static size_t try_auth(struct pass *p, size_t i)
{
    const char *s = p->s + i;
    size_t n = p->n - i, k, end;

    if (i > 0 && is_word(p->s[i - 1]))
        return 0;
    if (starts_ci(s, n, "authorization:") || starts_ci(s, n, "proxy-authorization:")) {
        k = (size_t)((const char *)memchr(s, ':', n) - s) + 1;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        end = k;
        while (end < n && s[end] != '\n' && s[end] != '\r')
            end++;
        if (end == k || at_mark(s + k, n - k))
            return 0;
        ak_buf_addn(&p->out, s, k);
        emit_mark(p);
        return end;
    }
    if (starts_ci(s, n, "bearer ")) {
        k = 7;
        while (k < n && s[k] == ' ')
            k++;
        end = k;
        while (end < n && (is_b64(s[end]) || s[end] == '.' || s[end] == '~'))
            end++;
        if (end - k < 8)
            return 0;
        ak_buf_addn(&p->out, s, k);
        emit_mark(p);
        return end;
    }
    return 0;
}

/* ---- user:password@ in URLs ---- */

static size_t try_userinfo(struct pass *p, size_t i)
{
    const char *s = p->s + i;
    size_t n = p->n - i, k, colon = 0;

    if (n < 4 || memcmp(s, "://", 3) != 0)
        return 0;
    for (k = 3; k < n; k++) {
        char c = s[k];

        if (c == '@')
            break;
        if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\n' || c == '\t' ||
            c == '"' || c == '\'' || c == '<' || c == '>')
            return 0;
        if (c == ':' && !colon)
            colon = k;
    }
    if (k == n || !colon || colon + 1 == k || at_mark(s + colon + 1, k - colon - 1))
        return 0;
    /* the user name stays: it says which account, and is no secret */
    ak_buf_addn(&p->out, s, colon + 1);
    emit_mark(p);
    return k;
}

/* ---- secret = value ---- */

static const char *const secret_words[] = {
    "password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "private_key",
    "credential", "requirepass", "auth_key"};

static bool word_is_secret(const char *w, size_t n)
{
    char low[KEYWORD_SCAN_MAX + 1];

    if (n > KEYWORD_SCAN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((w[i] >= 'A' && w[i] <= 'Z') ? w[i] + 32 : w[i]);
    low[n] = 0;
    for (size_t i = 0; i < AK_ARRAY_SIZE(secret_words); i++)
        if (strstr(low, secret_words[i]))
            return true;
    return false;
}

/* The end of an unquoted value starting at s[k]: a space or a separator. */
static size_t value_end(const char *s, size_t n, size_t k)
{
    while (k < n && s[k] && !strchr(" \t\r\n,;&}])\"'|", s[k]))
        k++;
    return k;
}

/* After "name": optional closing quote, spaces, then '=' or ':' (or nothing for a --flag). */
static size_t after_name(const char *s, size_t n, size_t w, bool *sep)
{
    size_t k = w;

    *sep = s[0] == '-'; /* "--password value" */
    if (k < n && (s[k] == '"' || s[k] == '\''))
        k++;
    while (k < n && (s[k] == ' ' || s[k] == '\t'))
        k++;
    if (k < n && (s[k] == '=' || s[k] == ':')) {
        *sep = true;
        k++;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
    }
    return k;
}

static size_t try_keyword(struct pass *p, size_t i)
{
    const char *s = p->s + i;
    size_t n = p->n - i, w = 0, v, end;
    bool sep;

    if (i > 0 && is_word(p->s[i - 1]))
        return 0;
    while (w < n && is_word(s[w]))
        w++;
    if (w == 0 || !word_is_secret(s, w))
        return 0;
    v = after_name(s, n, w, &sep);
    if (v < n && (s[v] == '"' || s[v] == '\'')) {
        const char *q = memchr(s + v + 1, s[v], n - v - 1);
        const char *nl = memchr(s + v + 1, '\n', n - v - 1);

        if (!q || (nl && nl < q))
            return 0; /* unbalanced: not a value we can delimit */
        v++;
        end = (size_t)(q - s);
    } else {
        end = value_end(s, n, v);
    }
    if (end <= v || at_mark(s + v, n - v))
        return 0;
    if (!sep) { /* "token abc...": only a long base64/hex run counts */
        for (size_t k = v; k < end; k++)
            if (!is_b64(s[k]))
                return 0;
        if (end - v < BARE_RUN_MIN)
            return 0;
    }
    ak_buf_addn(&p->out, s, v);
    emit_mark(p);
    return end;
}

/* ---- driver ---- */

static size_t run_pass(struct ak_buf *text, size_t (*m)(struct pass *p, size_t i))
{
    struct pass p = {text->buf, text->len, AK_BUF_INIT(AK_BUF_NOMAX), 0};
    size_t count;

    for (size_t i = 0; i < p.n;) {
        size_t used = m(&p, i);

        if (used) {
            i += used;
            continue;
        }
        ak_buf_addc(&p.out, p.s[i++]);
    }
    count = p.count;
    if (count) {
        /* "[REDACTED]" may be longer than what it replaces: keep within the caller's cap */
        size_t keep = p.out.len < text->max ? p.out.len : text->max;

        ak_buf_reset(text);
        ak_buf_addn(text, p.out.buf, keep);
    }
    ak_buf_release(&p.out);
    return count;
}

size_t ak_runbook_redact(struct ak_buf *text)
{
    static size_t (*const passes[])(struct pass *p, size_t i) = {try_pem, try_auth, try_userinfo,
                                                                 try_keyword, try_key_id};
    size_t count = 0;

    if (!text)
        return 0;
    for (size_t i = 0; i < AK_ARRAY_SIZE(passes); i++)
        count += run_pass(text, passes[i]);
    return count;
}
