/* verify.c — checking incoming SigV4 requests (the STS twin's GetCallerIdentity, the API).
 *
 * The verifier rebuilds the canonical request with the signer's own code (aws_int.h) from the
 * headers the client says it signed, in the client's order of names, and compares signatures in
 * constant time. Error texts follow AWS's wording ("SignatureDoesNotMatch: ...") because the STS
 * twin passes them on to aws-cli and the SDKs, which print them.
 */
#include "asakai/ak_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "aws_int.h"
#include "src/core/ak_banned.h"

#define AUTH_MAX 4096
#define ALGORITHM "AWS4-HMAC-SHA256"

/* ---- the Authorization header ------------------------------------------------------------- */

static bool is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool all_of(const char *s, size_t n, const char *extra, bool lower_only)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (lower_only && c >= 'A' && c <= 'Z')
            return false;
        if (!is_alnum(c) && !(extra && c && strchr(extra, c)))
            return false;
    }
    return true;
}

/* Copies s[0..n) into dst[size] when 1 <= n < size. */
static bool copy_part(char *dst, size_t size, const char *s, size_t n)
{
    if (n == 0 || n >= size)
        return false;
    memcpy(dst, s, n);
    dst[n] = 0;
    return true;
}

/* "AKID/YYYYMMDD/region/service/aws4_request" */
static int parse_credential(const char *v, size_t n, struct ak_aws_auth *a, struct ak_buf *err)
{
    const char *part[5];
    size_t len[5], np = 0, start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] != '/')
            continue;
        if (np == 5)
            return ak_err(err, AK_EINVAL, "The Credential has more than five '/'-separated "
                                          "parts.");
        part[np] = v + start;
        len[np++] = i - start;
        start = i + 1;
    }
    if (np != 5)
        return ak_err(err, AK_EINVAL, "The Credential is not AKID/date/region/service/"
                                      "aws4_request.");
    if (!all_of(part[0], len[0], NULL, false) || !copy_part(a->akid, sizeof(a->akid), part[0],
                                                            len[0]))
        return ak_err(err, AK_EINVAL, "The Credential's access key id is not 1 to %zu letters "
                                      "and digits.", sizeof(a->akid) - 1);
    if (len[1] != 8 || strspn(part[1], "0123456789") < 8)
        return ak_err(err, AK_EINVAL, "The Credential's scope date is not YYYYMMDD.");
    copy_part(a->date, sizeof(a->date), part[1], 8);
    if (!all_of(part[2], len[2], "-", true) || !copy_part(a->region, sizeof(a->region), part[2],
                                                          len[2]))
        return ak_err(err, AK_EINVAL, "The Credential's region is not 1 to %zu of a-z, 0-9 "
                                      "and '-'.", sizeof(a->region) - 1);
    if (!all_of(part[3], len[3], "-", true) ||
        !copy_part(a->service, sizeof(a->service), part[3], len[3]))
        return ak_err(err, AK_EINVAL, "The Credential's service is not 1 to %zu of a-z, 0-9 "
                                      "and '-'.", sizeof(a->service) - 1);
    if (len[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0)
        return ak_err(err, AK_EINVAL, "The Credential's scope does not end in aws4_request.");
    return AK_OK;
}

/* "a;b;c": lowercase token names, strictly ascending (so sorted and unique). */
static int parse_signed_headers(const char *v, size_t n, struct ak_aws_auth *a,
                                struct ak_buf *err)
{
    const char *prev = NULL;
    size_t prevlen = 0, start = 0, count = 0;

    if (!copy_part(a->signed_headers, sizeof(a->signed_headers), v, n))
        return ak_err(err, AK_EINVAL, "SignedHeaders is empty or longer than %zu bytes.",
                      sizeof(a->signed_headers) - 1);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] != ';')
            continue;
        const char *name = v + start;
        size_t len = i - start;
        if (len == 0 || !all_of(name, len, "!#$%&'*+-.^_`|~", true))
            return ak_err(err, AK_EINVAL, "SignedHeaders name %zu is empty or not a lowercase "
                                          "header name.", count + 1);
        if (prev) {
            int c = memcmp(prev, name, prevlen < len ? prevlen : len);
            if (c > 0 || (c == 0 && prevlen >= len))
                return ak_err(err, AK_EINVAL, "SignedHeaders is not sorted or repeats a name "
                                              "(name %zu).", count + 1);
        }
        if (++count > AK__AWS_MAX_HEADERS)
            return ak_err(err, AK_EINVAL, "SignedHeaders lists more than %d names.",
                          AK__AWS_MAX_HEADERS);
        prev = name;
        prevlen = len;
        start = i + 1;
    }
    return AK_OK;
}

static int parse_signature(const char *v, size_t n, struct ak_aws_auth *a, struct ak_buf *err)
{
    if (n != 64 || strspn(v, "0123456789abcdef") < 64)
        return ak_err(err, AK_EINVAL, "The Signature is not 64 lowercase hex digits.");
    copy_part(a->signature, sizeof(a->signature), v, n);
    return AK_OK;
}

static int parse_part(const char *p, size_t n, unsigned *seen, struct ak_aws_auth *a,
                      struct ak_buf *err)
{
    static const char *const names[] = {"Credential", "SignedHeaders", "Signature"};
    const char *eq = memchr(p, '=', n);
    size_t nlen = eq ? (size_t)(eq - p) : n;

    for (unsigned i = 0; i < AK_ARRAY_SIZE(names); i++) {
        if (nlen != strlen(names[i]) || memcmp(p, names[i], nlen) != 0)
            continue;
        if (*seen & (1u << i))
            return ak_err(err, AK_EINVAL, "The Authorization header repeats %s.", names[i]);
        *seen |= 1u << i;
        if (!eq)
            return ak_err(err, AK_EINVAL, "%s has no '=value'.", names[i]);
        const char *v = eq + 1;
        size_t vlen = n - nlen - 1;
        if (i == 0)
            return parse_credential(v, vlen, a, err);
        if (i == 1)
            return parse_signed_headers(v, vlen, a, err);
        return parse_signature(v, vlen, a, err);
    }
    return ak_err(err, AK_EINVAL, "The Authorization header has a part that is not Credential, "
                                  "SignedHeaders or Signature.");
}

int ak_aws_auth_parse(const char *value, struct ak_aws_auth *ret, struct ak_buf *err)
{
    struct ak_aws_auth a;
    unsigned seen = 0;
    size_t n;
    const char *p;

    if (!value)
        return ak_err(err, AK_EINVAL, "There is no Authorization header.");
    n = strlen(value);
    if (n > AUTH_MAX)
        return ak_err(err, AK_EINVAL, "The Authorization header is longer than %d bytes.",
                      AUTH_MAX);
    if (!ak_startswith(value, ALGORITHM " "))
        return ak_err(err, AK_EINVAL, "The Authorization algorithm is not " ALGORITHM ".");
    memset(&a, 0, sizeof(a));
    p = value + strlen(ALGORITHM);
    for (;;) {
        p += strspn(p, " ");
        size_t len = strcspn(p, ",");
        int r = parse_part(p, len, &seen, &a, err);
        if (r < 0)
            return r;
        p += len;
        if (!*p)
            break;
        p++; /* the comma; spaces after it are skipped above */
    }
    if (seen != 7)
        return ak_err(err, AK_EINVAL, "The Authorization header lacks %s.",
                      !(seen & 1) ? "Credential" : !(seen & 2) ? "SignedHeaders" : "Signature");
    *ret = a;
    return AK_OK;
}

/* ---- verification --------------------------------------------------------------------- */

/* The value of the first header named name (case-insensitive), without leading spaces; NULL
 * when absent. */
static const char *find_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return headers[i] + n + 1 + strspn(headers[i] + n + 1, " \t");
    return NULL;
}

static bool signs(const struct ak_aws_auth *a, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = a->signed_headers; *p;) {
        size_t len = strcspn(p, ";");
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p += len + (p[len] ? 1 : 0);
    }
    return false;
}

/* "YYYYMMDDTHHMMSSZ" (trailing spaces allowed) to ms. */
static int parse_amz_date(const char *s, int64_t *ret)
{
    unsigned f[6];
    static const unsigned at[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};

    if (strspn(s, "0123456789") != 8 || s[8] != 'T' || strspn(s + 9, "0123456789") != 6 ||
        s[15] != 'Z' || s[16 + strspn(s + 16, " \t")] != 0)
        return AK_EINVAL;
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (unsigned j = 0; j < len[i]; j++)
            f[i] = f[i] * 10 + (unsigned)(s[at[i] + j] - '0');
    }
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
        return AK_EINVAL;
    *ret = ((ak_days_from_civil(f[0], f[1], f[2]) * 24 + f[3]) * 60 + f[4]) * 60000LL +
           f[5] * 1000LL;
    return AK_OK;
}

static void fmt_amz(int64_t ms, char out[17])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        snprintf(out, 17, "19700101T000000Z");
}

/* "5 min." as AWS writes it; seconds when the window is not whole minutes. */
static void fmt_skew(int64_t skew_ms, char *out, size_t n)
{
    if (skew_ms % 60000 == 0)
        snprintf(out, n, "%lld min.", (long long)(skew_ms / 60000));
    else
        snprintf(out, n, "%lld sec.", (long long)(skew_ms / 1000));
}

static int check_time(const char *amz, const struct ak_aws_auth *auth, int64_t now_ms,
                      int64_t skew_ms, struct ak_buf *err)
{
    char when[17], edge[17], now[17], skew[32], given[17];
    int64_t t;

    if (parse_amz_date(amz, &t) < 0)
        return ak_err(err, AK_EINVAL, "IncompleteSignature: X-Amz-Date must be in the format "
                                      "YYYYMMDD'T'HHMMSS'Z'.");
    memcpy(given, amz, 16);
    given[16] = 0;
    if (memcmp(amz, auth->date, 8) != 0)
        return ak_err(err, AK_ESIG, "SignatureDoesNotMatch: Date in Credential scope does not "
                                    "match YYYYMMDD from ISO-8601 version of date from HTTP: "
                                    "'%s' != '%.8s', from '%s'.", auth->date, amz, given);
    fmt_amz(t, when);
    fmt_amz(now_ms, now);
    fmt_skew(skew_ms, skew, sizeof(skew));
    if (t < now_ms - skew_ms) {
        fmt_amz(now_ms - skew_ms, edge);
        return ak_err(err, AK_ESIG, "SignatureDoesNotMatch: Signature expired: %s is now "
                                    "earlier than %s (%s - %s)", when, edge, now, skew);
    }
    if (t > now_ms + skew_ms) {
        fmt_amz(now_ms + skew_ms, edge);
        return ak_err(err, AK_ESIG, "SignatureDoesNotMatch: Signature not yet current: %s is "
                                    "still later than %s (%s + %s)", when, edge, now, skew);
    }
    return AK_OK;
}

static int check_required(const struct ak_aws_incoming *in, const struct ak_aws_auth *auth,
                          const char **ret_amz, struct ak_buf *err)
{
    const char *amz = find_header(in->headers, "x-amz-date");

    if (!amz)
        return ak_err(err, AK_EINVAL, "IncompleteSignature: Authorization header requires "
                                      "existence of either a 'X-Amz-Date' or a 'Date' header.");
    if (!find_header(in->headers, "host"))
        return ak_err(err, AK_EINVAL, "IncompleteSignature: The request has no Host header.");
    if (!signs(auth, "host") || !signs(auth, "x-amz-date"))
        return ak_err(err, AK_EINVAL, "IncompleteSignature: SignedHeaders must include host and "
                                      "x-amz-date.");
    if (find_header(in->headers, "x-amz-security-token") && !signs(auth, "x-amz-security-token"))
        return ak_err(err, AK_EINVAL, "IncompleteSignature: SignedHeaders must include "
                                      "x-amz-security-token when the request has one.");
    *ret_amz = amz;
    return AK_OK;
}

static int check_payload(const struct ak_aws_incoming *in, struct ak_buf *err)
{
    const char *given = find_header(in->headers, "x-amz-content-sha256");
    char hash[65];

    if (!given)
        return AK_OK;
    ak_sha256_hex(in->body ? in->body : "", in->body_len, hash);
    if (strlen(given) < 64 || strspn(given + 64, " \t") != strlen(given + 64) ||
        strncasecmp(given, hash, 64) != 0)
        return ak_err(err, AK_ESIG, "SignatureDoesNotMatch: The provided 'x-amz-content-sha256' "
                                    "header does not match what was computed.");
    return AK_OK;
}

/* The received headers named in SignedHeaders, in the order received. */
static int collect_signed(const struct ak_aws_incoming *in, const struct ak_aws_auth *auth,
                          struct ak__aws_hdr *hs, size_t *nh, struct ak_buf *err)
{
    char *names = ak_xstrdup(auth->signed_headers);
    int r = AK_OK;

    for (char *p = names; *p && r == AK_OK;) {
        size_t len = strcspn(p, ";");
        bool found = false;
        char save = p[len];
        p[len] = 0;
        for (size_t i = 0; in->headers && in->headers[i] && r == AK_OK; i++) {
            const char *h = in->headers[i];
            if (strncasecmp(h, p, len) != 0 || h[len] != ':')
                continue;
            found = true;
            r = ak__aws_hdr_add(hs, nh, p, len, h + len + 1, err);
        }
        if (r == AK_OK && !found)
            r = ak_err(err, AK_ESIG, "SignatureDoesNotMatch: The request lacks the signed "
                                     "header %s.", p);
        p += len + (save ? 1 : 0);
    }
    free(names);
    return r;
}

int ak_aws_verify(const struct ak_aws_incoming *in, const struct ak_aws_auth *auth,
                  const char *secret, int64_t now_ms, int64_t skew_ms, struct ak_buf *err)
{
    struct ak_buf creq = AK_BUF_INIT(AK_BUF_NOMAX), sts = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf names = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak__aws_hdr *hs = NULL;
    const char *amz = NULL, *query;
    size_t nh = 0, pathlen;
    char hash[65], sig[65];
    int r;

    if (!in || !auth || !in->method || !*in->method || !in->path_query ||
        in->path_query[0] != '/' || !secret || !*secret || (in->body_len && !in->body) ||
        skew_ms < 0) {
        r = ak_err(err, AK_EINVAL, "The request to verify lacks a method, a target starting "
                                   "with '/', a body or a secret.");
        goto out;
    }
    r = check_required(in, auth, &amz, err);
    if (r == AK_OK)
        r = check_time(amz, auth, now_ms, skew_ms, err);
    if (r == AK_OK)
        r = check_payload(in, err);
    if (r < 0)
        goto out;
    hs = ak_xcalloc(AK__AWS_MAX_HEADERS + 3, sizeof(*hs));
    r = collect_signed(in, auth, hs, &nh, err);
    if (r < 0)
        goto out;
    pathlen = strcspn(in->path_query, "?#");
    query = in->path_query + pathlen + (in->path_query[pathlen] == '?' ? 1 : 0);
    r = ak__aws_canonical_request(in->method, in->path_query, pathlen, query,
                                  strcspn(query, "#"), hs, nh, in->body, in->body_len, &creq,
                                  &names, err);
    if (r < 0)
        goto out;
    ak_sha256_hex(creq.buf, creq.len, hash);
    ak_buf_addf(&sts, ALGORITHM "\n%.16s\n%s/%s/%s/aws4_request\n%s", amz, auth->date,
                auth->region, auth->service, hash);
    ak__aws_signature(secret, auth->date, auth->region, auth->service, sts.buf, sig);
    if (!ak_ct_equal(sig, 64, auth->signature, strlen(auth->signature)))
        r = ak_err(err, AK_ESIG, "SignatureDoesNotMatch: The request signature we calculated "
                                 "does not match the signature you provided. Check your AWS "
                                 "Secret Access Key and signing method. Consult the service "
                                 "documentation for details.");
    memset(sig, 0, sizeof(sig));
out:
    ak__aws_hdrs_free(hs, nh);
    ak_buf_release(&creq);
    ak_buf_release(&sts);
    ak_buf_release(&names);
    return r;
}
