/* parse.c — the two parsers of outside input in the aws module: the AWS CLI INI dialect of the
 * shared credentials/config files, and a bounded element-text extractor for STS XML. */
#include "asakai/ak_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Trims s[0..*n) in place (pointer and length). */
static const char *trim(const char *s, size_t *n)
{
    while (*n && is_ws(*s)) {
        s++;
        (*n)--;
    }
    while (*n && is_ws(s[*n - 1]))
        (*n)--;
    return s;
}

static int ini_section(const char *s, size_t n, size_t lineno, char **section, struct ak_buf *err)
{
    const char *close = memchr(s, ']', n);
    size_t rest, len;
    const char *name;

    if (!close)
        return ak_err(err, AK_EINVAL, "line %zu: the section header has no closing ']'.", lineno);
    rest = n - (size_t)(close - s) - 1;
    trim(close + 1, &rest);
    if (rest && close[1 + strspn(close + 1, " \t")] != '#' &&
        close[1 + strspn(close + 1, " \t")] != ';')
        return ak_err(err, AK_EINVAL, "line %zu: text after the section header.", lineno);
    len = (size_t)(close - s) - 1;
    name = trim(s + 1, &len);
    if (len == 0)
        return ak_err(err, AK_EINVAL, "line %zu: the section name is empty.", lineno);
    free(*section);
    *section = ak_xstrndup(name, len);
    return AK_OK;
}

int ak_aws_ini_parse(const char *text, size_t len,
                     int (*cb)(void *ud, const char *section, const char *key, const char *value),
                     void *ud, struct ak_buf *err)
{
    char *section = NULL, *key = NULL, *value = NULL;
    bool in_empty_prop = false; /* after "key =" with no value: indented lines are sub-keys */
    size_t lineno = 0;
    int r = AK_OK;

    if (len > AK_AWS_INI_MAX)
        return ak_err(err, AK_ETOOBIG, "The file is larger than %d bytes.", AK_AWS_INI_MAX);
    if (memchr(text, 0, len))
        return ak_err(err, AK_EINVAL, "The file has a NUL byte.");
    for (size_t i = 0; i < len && r == AK_OK;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - i;
        bool indented = n > 0 && (text[i] == ' ' || text[i] == '\t');
        const char *s = trim(text + i, &n);

        lineno++;
        i = end + 1;
        if (n == 0 || *s == '#' || *s == ';')
            continue;
        if (indented && in_empty_prop)
            continue;
        in_empty_prop = false;
        if (*s == '[') {
            r = ini_section(s, n, lineno, &section, err);
            continue;
        }
        const char *eq = memchr(s, '=', n);
        if (!eq) {
            r = ak_err(err, AK_EINVAL, "line %zu: expected \"key = value\" or \"[section]\".",
                       lineno);
            break;
        }
        if (!section) {
            r = ak_err(err, AK_EINVAL, "line %zu: a property before any [section].", lineno);
            break;
        }
        size_t kl = (size_t)(eq - s), vl = n - kl - 1;
        const char *k = trim(s, &kl), *v = trim(eq + 1, &vl);
        if (kl == 0) {
            r = ak_err(err, AK_EINVAL, "line %zu: the key is empty.", lineno);
            break;
        }
        key = ak_xstrndup(k, kl);
        for (char *c = key; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        value = ak_xstrndup(v, vl);
        in_empty_prop = vl == 0;
        r = cb(ud, section, key, value);
        ak_freep(&key);
        ak_freep(&value);
    }
    free(section);
    return r;
}

#define MAX_NAME 64

/* Finds "<name>" or "<name ...>" (not "<nameX>"); returns the offset after '>' or -1. */
static long find_open(const char *xml, size_t len, const char *name, size_t nl)
{
    for (size_t i = 0; i + nl + 2 <= len; i++) {
        if (xml[i] != '<' || memcmp(xml + i + 1, name, nl) != 0)
            continue;
        char c = xml[i + 1 + nl];
        if (c != '>' && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '/')
            continue;
        const char *gt = memchr(xml + i + 1 + nl, '>', len - i - 1 - nl);
        if (!gt)
            return -1;
        if (gt[-1] == '/') /* <name/>: an empty element */
            return -2 - (long)(gt - xml);
        return (long)(gt - xml) + 1;
    }
    return -1;
}

static int decode_entity(const char *s, size_t n, char *out, size_t *used)
{
    static const struct {
        const char *e;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};

    for (size_t i = 0; i < AK_ARRAY_SIZE(ents); i++) {
        size_t el = strlen(ents[i].e);
        if (n >= el && memcmp(s, ents[i].e, el) == 0) {
            *out = ents[i].c;
            *used = el;
            return AK_OK;
        }
    }
    return AK_EINVAL;
}

int ak_aws_xml_text(const char *xml, size_t len, const char *name, char **ret,
                    struct ak_buf *err)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    char close[MAX_NAME + 4];
    size_t nl = strlen(name);
    long start;
    int r;

    if (len > AK_AWS_XML_MAX)
        return ak_err(err, AK_ETOOBIG, "The XML response is larger than %d bytes.",
                      AK_AWS_XML_MAX);
    if (nl == 0 || nl > MAX_NAME)
        return ak_err(err, AK_EINVAL, "Bad XML element name.");
    start = find_open(xml, len, name, nl);
    if (start == -1)
        return ak_err(err, AK_ENOTFOUND, "The XML has no <%s> element.", name);
    if (start < -1) {
        *ret = ak_xstrdup("");
        return AK_OK;
    }
    snprintf(close, sizeof(close), "</%s>", name);
    for (size_t i = (size_t)start;; i++) {
        if (i >= len) {
            r = ak_err(err, AK_EINVAL, "The XML element <%s> is not closed.", name);
            goto out;
        }
        if (xml[i] == '<') {
            if (len - i >= nl + 3 && memcmp(xml + i, close, nl + 3) == 0)
                break;
            r = ak_err(err, AK_EINVAL, "The XML element <%s> contains markup.", name);
            goto out;
        }
        if (xml[i] == '&') {
            char c;
            size_t used;
            if (decode_entity(xml + i, len - i, &c, &used) < 0) {
                r = ak_err(err, AK_EINVAL, "The XML element <%s> has an unknown entity.", name);
                goto out;
            }
            ak_buf_addc(&b, c);
            i += used - 1;
            continue;
        }
        ak_buf_addc(&b, xml[i]);
    }
    *ret = ak_buf_detach(&b, NULL);
    r = AK_OK;
out:
    ak_buf_release(&b);
    return r;
}

int ak_aws_sts_parse_creds(const char *xml, size_t len, struct ak_aws_creds *ret,
                           struct ak_buf *err)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Expiration"};
    char *v[4] = {NULL, NULL, NULL, NULL};
    long cs;
    int64_t exp = 0;
    int r;

    if (len > AK_AWS_XML_MAX)
        return ak_err(err, AK_ETOOBIG, "The STS response is larger than %d bytes.",
                      AK_AWS_XML_MAX);
    cs = find_open(xml, len, "Credentials", 11);
    if (cs < 0) {
        r = ak_err(err, AK_EINVAL, "The STS response has no <Credentials> element.");
        goto out;
    }
    for (size_t i = 0; i < 4; i++) {
        struct ak_buf sub = AK_BUF_INIT(1024);
        r = ak_aws_xml_text(xml + cs, len - (size_t)cs, names[i], &v[i], &sub);
        if (r == AK_ENOTFOUND)
            r = ak_err(err, AK_EINVAL, "The STS response's Credentials lack <%s>.", names[i]);
        else if (r < 0)
            r = ak_err(err, r, "The STS response is malformed: %s", sub.buf);
        ak_buf_release(&sub);
        if (r < 0)
            goto out;
        if (!*v[i]) {
            r = ak_err(err, AK_EINVAL, "The STS response's <%s> is empty.", names[i]);
            goto out;
        }
    }
    if (ak_time_parse(v[3], &exp) < 0) {
        r = ak_err(err, AK_EINVAL, "The STS response's <Expiration> is not a timestamp.");
        goto out;
    }
    *ret = (struct ak_aws_creds){.access_key_id = v[0], .secret_access_key = v[1],
                                 .session_token = v[2], .expires_ms = exp};
    v[0] = v[1] = v[2] = NULL;
    r = AK_OK;
out:
    for (size_t i = 0; i < 4; i++) {
        if (v[i])
            memset(v[i], 0, strlen(v[i]));
        free(v[i]);
    }
    return r;
}
