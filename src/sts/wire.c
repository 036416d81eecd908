/* wire.c — the query protocol's small pieces: form decoding, parameter and identifier formats,
 * XML escaping, request ids. Pure functions (the random ones aside). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "sts_int.h"
#include "../core/ak_banned.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one form component into a new string; NULL for a bad escape or an embedded NUL. */
static char *form_unescape(const char *s, size_t n)
{
    char *out = ak_xmalloc(n + 1);
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == 0) {
            free(out);
            return NULL;
        }
        out[j++] = c;
    }
    out[j] = 0;
    return out;
}

static int params_set(struct sts_params *p, char *name, char *value)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0) {
            free(name);
            free(p->v[i].value);
            p->v[i].value = value;
            return AK_OK;
        }
    if (p->n >= STS_PARAMS_MAX) {
        free(name);
        free(value);
        return AK_EINVAL;
    }
    p->v = ak_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    p->v[p->n].name = name;
    p->v[p->n].value = value;
    p->n++;
    return AK_OK;
}

int ak__sts_form_parse(const char *s, size_t len, struct sts_params *ret)
{
    size_t i = 0;

    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        const char *eq = memchr(s + i, '=', end - i);
        size_t klen = eq ? (size_t)(eq - (s + i)) : end - i;
        if (end > i) {
            char *k = form_unescape(s + i, klen);
            char *v = eq ? form_unescape(eq + 1, end - (size_t)(eq + 1 - s)) : ak_xstrdup("");
            if (!k || !v) {
                free(k);
                free(v);
                return AK_EINVAL;
            }
            if (params_set(ret, k, v) < 0)
                return AK_EINVAL;
        }
        i = end + 1;
    }
    return AK_OK;
}

const char *ak__sts_param(const struct sts_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return p->v[i].value;
    return NULL;
}

void ak__sts_params_release(struct sts_params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].value);
    }
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_+=,.@-", c) != NULL;
}

bool ak__sts_session_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 2 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

bool ak__sts_role_arn_parse(const char *arn, const char **ret_acct, const char **ret_name,
                            size_t *ret_name_len)
{
    static const char pre[] = "arn:aws:iam::";
    const char *acct, *res, *name;

    if (strlen(arn) < 20 || strlen(arn) > 2048 || !ak_startswith(arn, pre))
        return false;
    acct = arn + sizeof(pre) - 1;
    for (int i = 0; i < 12; i++)
        if (acct[i] < '0' || acct[i] > '9')
            return false;
    if (!ak_startswith(acct + 12, ":role/"))
        return false;
    res = acct + 12 + 6;
    /* the path is dropped from the assumed-role ARN: only the last segment names the role */
    name = strrchr(res, '/');
    name = name ? name + 1 : res;
    if (!*name || strlen(name) > 64)
        return false;
    for (const char *c = name; *c; c++)
        if (!name_char(*c))
            return false;
    *ret_acct = acct;
    *ret_name = name;
    *ret_name_len = strlen(name);
    return true;
}

void ak__sts_xml_escape(struct ak_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            ak_buf_add(b, "&amp;");
            break;
        case '<':
            ak_buf_add(b, "&lt;");
            break;
        case '>':
            ak_buf_add(b, "&gt;");
            break;
        case '"':
            ak_buf_add(b, "&quot;");
            break;
        case '\'':
            ak_buf_add(b, "&apos;");
            break;
        default:
            ak_buf_addc(b, *s);
        }
    }
}

void ak__sts_request_id(char out[40])
{
    unsigned char u[16];

    if (ak_random_bytes(u, sizeof(u)) < 0)
        memset(u, 0, sizeof(u));
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(out, 40,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* n base32 characters from the bits of in (which must hold at least 5n bits). */
static void base32_chars(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t bit = i * 5;
        unsigned v = (unsigned)in[bit / 8] << 8 | in[bit / 8 + 1];
        out[i] = b32[(v >> (11 - bit % 8)) & 31];
    }
    out[n] = 0;
}

void ak__sts_role_unique_id(const char *role_arn, char out[22])
{
    char hex[65];
    unsigned char h[33];

    ak_sha256_hex(role_arn, strlen(role_arn), hex);
    for (int i = 0; i < 32; i++)
        h[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    h[32] = 0;
    memcpy(out, "AROA", 4);
    base32_chars(h, 17, out + 4);
}

int ak__sts_new_akid(char out[21])
{
    unsigned char r[12];
    int rc = ak_random_bytes(r, sizeof(r) - 1);

    if (rc < 0)
        return rc;
    r[11] = 0;
    memcpy(out, "ASIA", 4);
    base32_chars(r, 16, out + 4);
    return AK_OK;
}
