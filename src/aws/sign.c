/* sign.c — AWS Signature Version 4 for every service but S3.
 *
 * Steps as the AWS documentation names them: canonical request, string to sign, signing key
 * (an HMAC chain from "AWS4" + secret over date, region, service, "aws4_request"), signature.
 */
#include "asakai/ak_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "aws_int.h"
#include "src/core/ak_banned.h"

#define MAX_HEADERS AK__AWS_MAX_HEADERS
#define MAX_PARAMS 256
#define MAX_URL (16 * 1024)

struct param {
    char *k, *v; /* already encoded */
};

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static void uri_encode(struct ak_buf *out, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            ak_buf_addc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ak_buf_addn(out, e, 3);
        }
    }
}

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

/* Percent-decodes s[0..n) ('+' is a space, as form encoding has it) and re-encodes it. */
static int query_part(const char *s, size_t n, char **ret)
{
    struct ak_buf dec = AK_BUF_INIT(AK_BUF_NOMAX), enc = AK_BUF_INIT(AK_BUF_NOMAX);
    int r = AK_EINVAL;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                goto out;
            int hi = hexval(s[i + 1]);
            int lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                goto out;
            ak_buf_addc(&dec, (char)(hi * 16 + lo));
            i += 2;
        } else {
            ak_buf_addc(&dec, s[i] == '+' ? ' ' : s[i]);
        }
    }
    uri_encode(&enc, dec.buf, dec.len, false);
    *ret = ak_buf_detach(&enc, NULL);
    r = AK_OK;
out:
    ak_buf_release(&dec);
    ak_buf_release(&enc);
    return r;
}

static int param_cmp(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static int canonical_query(struct ak_buf *out, const char *q, size_t qlen, struct ak_buf *err)
{
    struct param *ps = NULL;
    size_t n = 0;
    int r = AK_OK;

    ps = ak_xcalloc(MAX_PARAMS, sizeof(*ps));
    for (size_t i = 0; i < qlen;) {
        const char *amp = memchr(q + i, '&', qlen - i);
        size_t end = amp ? (size_t)(amp - q) : qlen;
        if (end > i) {
            const char *eq = memchr(q + i, '=', end - i);
            size_t kend = eq ? (size_t)(eq - q) : end;
            if (n == MAX_PARAMS) {
                r = ak_err(err, AK_EINVAL, "The URL has more than %d query parameters.",
                           MAX_PARAMS);
                goto out;
            }
            if (query_part(q + i, kend - i, &ps[n].k) < 0 ||
                query_part(eq ? eq + 1 : q + end, eq ? end - kend - 1 : 0, &ps[n].v) < 0) {
                n++;
                r = ak_err(err, AK_EINVAL,
                           "The URL's query is not valid percent-encoding (parameter %zu).", n);
                goto out;
            }
            n++;
        }
        i = end + 1;
    }
    qsort(ps, n, sizeof(*ps), param_cmp);
    for (size_t i = 0; i < n; i++)
        ak_buf_addf(out, "%s%s=%s", i ? "&" : "", ps[i].k, ps[i].v);
out:
    for (size_t i = 0; i < n; i++) {
        free(ps[i].k);
        free(ps[i].v);
    }
    free(ps);
    return r;
}

/* Removes empty, "." and ".." segments (RFC 3986 §5.2.4, plus "//" collapsed, as AWS's own
 * signers do for non-S3 services), keeps a trailing '/', then encodes. */
static void canonical_path(struct ak_buf *out, const char *p, size_t n)
{
    struct ak_buf norm = AK_BUF_INIT(AK_BUF_NOMAX);
    bool trailing = n > 0 && p[n - 1] == '/';

    for (size_t i = 0; i < n;) {
        const char *sl = memchr(p + i, '/', n - i);
        size_t end = sl ? (size_t)(sl - p) : n, len = end - i;
        if (len == 0 || (len == 1 && p[i] == '.')) {
            /* nothing */
        } else if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
            while (norm.len > 0 && norm.buf[norm.len - 1] != '/')
                norm.len--;
            if (norm.len > 0)
                norm.len--;
            norm.buf[norm.len] = 0;
        } else {
            ak_buf_addc(&norm, '/');
            ak_buf_addn(&norm, p + i, len);
        }
        i = end + 1;
    }
    if (norm.len == 0 || trailing)
        ak_buf_addc(&norm, '/');
    uri_encode(out, norm.buf, norm.len, true);
    ak_buf_release(&norm);
}

static int hdr_cmp(const void *a, const void *b)
{
    const struct ak__aws_hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* Trims and collapses runs of spaces/tabs to one space. */
static char *clean_value(const char *v)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    bool space = false;

    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space)
            ak_buf_addc(&b, ' ');
        space = false;
        ak_buf_addc(&b, *v);
    }
    return ak_buf_detach(&b, NULL);
}

static bool is_token_char(char c)
{
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

int ak__aws_hdr_add(struct ak__aws_hdr *hs, size_t *n, const char *name, size_t nlen,
                    const char *value, struct ak_buf *err)
{
    if (*n == MAX_HEADERS)
        return ak_err(err, AK_EINVAL, "The request has more than %d headers to sign.",
                      MAX_HEADERS);
    if (strpbrk(value, "\r\n"))
        return ak_err(err, AK_EINVAL, "Header %.*s has a line break in its value.", (int)nlen,
                      name);
    hs[*n].name = ak_xstrndup(name, nlen);
    for (char *c = hs[*n].name; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    hs[*n].value = clean_value(value);
    hs[*n].idx = *n;
    (*n)++;
    return AK_OK;
}

static int user_headers(struct ak__aws_hdr *hs, size_t *n, const char *const *headers,
                        struct ak_buf *err)
{
    static const char *const reserved[] = {"host", "x-amz-date", "x-amz-security-token",
                                           "authorization"};

    for (size_t i = 0; headers && headers[i]; i++) {
        const char *h = headers[i], *colon = strchr(h, ':');
        size_t nlen = colon ? (size_t)(colon - h) : 0;
        if (nlen == 0)
            return ak_err(err, AK_EINVAL, "Header %zu to sign is not \"Name: value\".", i + 1);
        for (size_t j = 0; j < nlen; j++)
            if (!is_token_char(h[j]))
                return ak_err(err, AK_EINVAL, "Header %zu to sign has a bad name.", i + 1);
        for (size_t j = 0; j < AK_ARRAY_SIZE(reserved); j++)
            if (nlen == strlen(reserved[j]) && strncasecmp(h, reserved[j], nlen) == 0)
                return ak_err(err, AK_EINVAL,
                              "Header %.*s must not be given: the signer sets it.", (int)nlen, h);
        int r = ak__aws_hdr_add(hs, n, h, nlen, colon + 1, err);
        if (r < 0)
            return r;
    }
    return AK_OK;
}

/* Splits url into host[:port], path and query (pointers into url). */
static int split_url(const char *url, const char **host, size_t *hostlen, const char **path,
                     size_t *pathlen, const char **query, size_t *qlen, struct ak_buf *err)
{
    const char *p;

    if (ak_startswith(url, "https://"))
        p = url + 8;
    else if (ak_startswith(url, "http://"))
        p = url + 7;
    else
        return ak_err(err, AK_EINVAL, "The URL to sign is not http:// or https://.");
    if (strlen(url) > MAX_URL)
        return ak_err(err, AK_EINVAL, "The URL to sign is longer than %d bytes.", MAX_URL);
    *host = p;
    *hostlen = strcspn(p, "/?#");
    if (*hostlen == 0 || memchr(p, '@', *hostlen))
        return ak_err(err, AK_EINVAL, "The URL to sign has no host or has userinfo.");
    p += *hostlen;
    if (strchr(p, '#'))
        return ak_err(err, AK_EINVAL, "The URL to sign has a fragment.");
    *path = p;
    *pathlen = strcspn(p, "?");
    *query = p[*pathlen] == '?' ? p + *pathlen + 1 : p + *pathlen;
    *qlen = strlen(*query);
    return AK_OK;
}

static void fmt_amz_date(int64_t now_ms, char date[17])
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        snprintf(date, 17, "19700101T000000Z");
}

static int check_args(const struct ak_aws_request *req, const struct ak_aws_creds *creds,
                      struct ak_buf *err)
{
    if (!req->method || !*req->method || !req->url || !req->region || !*req->region ||
        !req->service || !*req->service)
        return ak_err(err, AK_EINVAL, "The request to sign lacks a method, URL, region or "
                                      "service.");
    if (!creds || !creds->access_key_id || !*creds->access_key_id || !creds->secret_access_key ||
        !*creds->secret_access_key)
        return ak_err(err, AK_EINVAL, "The credentials to sign with lack a key.");
    if (strcmp(req->service, "s3") == 0)
        return ak_err(err, AK_EUNSUPPORTED, "S3 signing (no path normalisation, payload header) "
                                            "is not supported.");
    if (strpbrk(req->region, "/\n") || strpbrk(req->service, "/\n") ||
        strpbrk(creds->access_key_id, "/\n ,"))
        return ak_err(err, AK_EINVAL, "The region, service or access key id has a bad byte.");
    if (creds->session_token && strpbrk(creds->session_token, "\r\n"))
        return ak_err(err, AK_EINVAL, "The session token has a line break.");
    if (req->body_len && !req->body)
        return ak_err(err, AK_EINVAL, "The request has a body length but no body.");
    return AK_OK;
}

void ak__aws_signature(const char *secret, const char *date8, const char *region,
                       const char *service, const char *sts, char out[65])
{
    unsigned char k[32];
    size_t slen = strlen(secret);
    char *ks = ak_xmalloc(slen + 5);

    memcpy(ks, "AWS4", 4);
    memcpy(ks + 4, secret, slen + 1);
    ak_hmac_sha256(ks, slen + 4, date8, 8, k);
    ak_hmac_sha256(k, 32, region, strlen(region), k);
    ak_hmac_sha256(k, 32, service, strlen(service), k);
    ak_hmac_sha256(k, 32, "aws4_request", 12, k);
    ak_hmac_sha256_hex(k, 32, sts, strlen(sts), out);
    /* the derived key is as good as the secret for a day: do not leave it around */
    memset(ks, 0, slen + 5);
    free(ks);
    memset(k, 0, sizeof(k));
}

void ak__aws_hdrs_free(struct ak__aws_hdr *hs, size_t n)
{
    for (size_t i = 0; hs && i < n; i++) {
        free(hs[i].name);
        free(hs[i].value);
    }
    free(hs);
}

int ak__aws_canonical_request(const char *method, const char *path, size_t pathlen,
                              const char *query, size_t qlen, struct ak__aws_hdr *hs,
                              size_t nh, const void *body, size_t body_len, struct ak_buf *creq,
                              struct ak_buf *signed_names, struct ak_buf *err)
{
    char hash[65];
    int r;

    qsort(hs, nh, sizeof(*hs), hdr_cmp);
    ak_buf_addf(creq, "%s\n", method);
    canonical_path(creq, path, pathlen);
    ak_buf_addc(creq, '\n');
    r = canonical_query(creq, query, qlen, err);
    if (r < 0)
        return r;
    ak_buf_addc(creq, '\n');
    for (size_t i = 0; i < nh; i++) {
        bool same = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;
        if (same) {
            ak_buf_addf(creq, ",%s", hs[i].value);
            continue;
        }
        ak_buf_addf(creq, "%s%s:%s", i ? "\n" : "", hs[i].name, hs[i].value);
        ak_buf_addf(signed_names, "%s%s", signed_names->len ? ";" : "", hs[i].name);
    }
    ak_sha256_hex(body ? body : "", body_len, hash);
    ak_buf_addf(creq, "\n\n%s\n%s", signed_names->buf, hash);
    return AK_OK;
}

int ak_aws_sign_detail(const struct ak_aws_request *req, const struct ak_aws_creds *creds,
                       struct ak_buf *ret_headers, struct ak_buf *ret_creq, struct ak_buf *ret_sts,
                       struct ak_buf *err)
{
    struct ak_buf creq = AK_BUF_INIT(AK_BUF_NOMAX), sts = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf signed_names = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak__aws_hdr *hs = NULL;
    size_t nh = 0, hostlen = 0, pathlen = 0, qlen = 0;
    const char *host = NULL, *path = NULL, *query = NULL;
    char date[17], date8[9], hash[65], sig[65];
    int r;

    r = check_args(req, creds, err);
    if (r < 0)
        goto out;
    r = split_url(req->url, &host, &hostlen, &path, &pathlen, &query, &qlen, err);
    if (r < 0)
        goto out;
    fmt_amz_date(req->now_ms, date);
    memcpy(date8, date, 8);
    date8[8] = 0;

    hs = ak_xcalloc(MAX_HEADERS + 3, sizeof(*hs));
    r = user_headers(hs, &nh, req->headers, err);
    if (r < 0)
        goto out;
    char *hostz = ak_xstrndup(host, hostlen);
    ak__aws_hdr_add(hs, &nh, "host", 4, hostz, NULL);
    free(hostz);
    ak__aws_hdr_add(hs, &nh, "x-amz-date", 10, date, NULL);
    if (creds->session_token)
        ak__aws_hdr_add(hs, &nh, "x-amz-security-token", 20, creds->session_token, NULL);
    r = ak__aws_canonical_request(req->method, path, pathlen, query, qlen, hs, nh, req->body,
                                  req->body_len, &creq, &signed_names, err);
    if (r < 0)
        goto out;

    ak_sha256_hex(creq.buf, creq.len, hash);
    ak_buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", date, date8, req->region,
                req->service, hash);
    ak__aws_signature(creds->secret_access_key, date8, req->region, req->service, sts.buf, sig);

    ak_buf_addf(ret_headers, "X-Amz-Date: %s\n", date);
    if (creds->session_token)
        ak_buf_addf(ret_headers, "X-Amz-Security-Token: %s\n", creds->session_token);
    ak_buf_addf(ret_headers,
                "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                "SignedHeaders=%s, Signature=%s\n",
                creds->access_key_id, date8, req->region, req->service, signed_names.buf, sig);
    if (ret_creq)
        ak_buf_addn(ret_creq, creq.buf, creq.len);
    if (ret_sts)
        ak_buf_addn(ret_sts, sts.buf, sts.len);
    r = AK_OK;
out:
    ak__aws_hdrs_free(hs, nh);
    ak_buf_release(&creq);
    ak_buf_release(&sts);
    ak_buf_release(&signed_names);
    return r;
}

int ak_aws_sign(const struct ak_aws_request *req, const struct ak_aws_creds *creds,
                struct ak_buf *ret_headers, struct ak_buf *err)
{
    return ak_aws_sign_detail(req, creds, ret_headers, NULL, NULL, err);
}
