/* jwt.c — compact JWS parsing, signature verification against a JWKS, OIDC claim checks.
 *
 * Rules: oidc-sts.md §4.3, RFC 7515 §5.2, RFC 7519 §7.2, RFC 8725. The token is outside input:
 * error sentences name what is wrong, never the token or a signature.
 */
#include "asakai/ak_jwt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "src/jwt/jwt_int.h"
#include "src/core/ak_banned.h"

/* NumericDate bounds: up to 9999-12-31T23:59:59Z either side of the epoch; beyond that a value
 * is not a date and would overflow the millisecond arithmetic of the claim checks. */
#define NUMERIC_DATE_MAX 253402300799LL
#define SUB_MAX_CHARS 255
/* leeways and ages beyond ten years are configuration mistakes; clamping keeps the arithmetic
 * in range */
#define LEEWAY_MAX_S (10LL * 366 * 86400)

static const char *const seg_names[] = {"header", "payload", "signature"};

/* Decodes segment i to a JSON object. */
static int segment_json(const char *s, size_t n, int i, struct ak_json **ret, struct ak_buf *err)
{
    struct ak_buf why = AK_BUF_INIT(512);
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    struct ak_json *j = NULL;
    int r;

    if (ak_base64url_decode(s, n, &raw, &raw_len) < 0) {
        r = ak_err(err, AK_EINVAL, "The token's %s is not unpadded base64url.", seg_names[i]);
        goto out;
    }
    j = ak_json_parse((const char *)raw, raw_len, &why);
    if (!j) {
        r = ak_err(err, AK_EINVAL, "The token's %s is not valid JSON (%s).", seg_names[i],
                   why.buf);
        goto out;
    }
    if (!ak_json_is_obj(j)) {
        r = ak_err(err, AK_EINVAL, "The token's %s is not a JSON object.", seg_names[i]);
        goto out;
    }
    *ret = j;
    j = NULL;
    r = AK_OK;
out:
    ak_json_free(j);
    free(raw);
    ak_buf_release(&why);
    return r;
}

static int parse_header(struct ak_jwt *t, struct ak_buf *err)
{
    struct ak_json *alg = ak_json_get(t->header, "alg"), *kid = ak_json_get(t->header, "kid");

    if (!ak_json_is_str(alg))
        return ak_err(err, AK_EINVAL, "The token's header has no \"alg\" string.");
    /* RFC 7515 §4.1.11: we understand no extension, so any "crit" makes the token unusable */
    if (ak_json_get(t->header, "crit"))
        return ak_err(err, AK_EINVAL, "The token's header has \"crit\" extensions; none are "
                                      "supported.");
    if (kid && !ak_json_is_str(kid))
        return ak_err(err, AK_EINVAL, "The token's header \"kid\" is not a string.");
    t->alg_name = ak_json_str(alg);
    t->alg = ak_jws_alg_parse(t->alg_name);
    t->kid = ak_json_str(kid);
    return AK_OK;
}

/* A NumericDate claim (RFC 7519 §2): integer or real seconds, a fraction truncated. */
static int numeric_date(const struct ak_json *claims, const char *name, bool *has, int64_t *v,
                        struct ak_buf *err)
{
    struct ak_json *j = ak_json_get(claims, name);
    double d;

    *has = false;
    if (!j)
        return AK_OK;
    if (!ak_json_is_num(j))
        return ak_err(err, AK_EINVAL, "The token's \"%s\" claim is not a number.", name);
    if (ak_json_is_int(j)) {
        *v = ak_json_int(j);
    } else {
        d = ak_json_num(j);
        if (!isfinite(d) || d > (double)NUMERIC_DATE_MAX || d < -(double)NUMERIC_DATE_MAX)
            return ak_err(err, AK_EINVAL, "The token's \"%s\" claim is out of range.", name);
        *v = (int64_t)d;
    }
    if (*v > NUMERIC_DATE_MAX || *v < -NUMERIC_DATE_MAX)
        return ak_err(err, AK_EINVAL, "The token's \"%s\" claim is out of range.", name);
    *has = true;
    return AK_OK;
}

static int parse_aud(struct ak_jwt *t, struct ak_buf *err)
{
    struct ak_json *aud = ak_json_get(t->claims, "aud");
    size_t n;

    if (!aud)
        return AK_OK;
    if (ak_json_is_str(aud)) {
        t->aud = ak_xcalloc(1, sizeof(*t->aud));
        t->aud[0] = ak_xstrdup(ak_json_str(aud));
        t->n_aud = 1;
        return AK_OK;
    }
    if (!ak_json_is_arr(aud))
        return ak_err(err, AK_EINVAL, "The token's \"aud\" claim is not a string or an array.");
    n = ak_json_len(aud);
    for (size_t i = 0; i < n; i++)
        if (!ak_json_is_str(ak_json_at(aud, i)))
            return ak_err(err, AK_EINVAL, "The token's \"aud\" element %zu is not a string.", i);
    t->aud = ak_xcalloc(n ? n : 1, sizeof(*t->aud));
    for (size_t i = 0; i < n; i++)
        t->aud[i] = ak_xstrdup(ak_json_str(ak_json_at(aud, i)));
    t->n_aud = n;
    return AK_OK;
}

static int parse_claims(struct ak_jwt *t, struct ak_buf *err)
{
    struct ak_json *sub = ak_json_get(t->claims, "sub");
    int r;

    if (sub && !ak_json_is_str(sub))
        return ak_err(err, AK_EINVAL, "The token's \"sub\" claim is not a string.");
    t->sub = ak_json_str(sub);
    t->iss = ak_json_get_str(t->claims, "iss");
    r = numeric_date(t->claims, "exp", &t->has_exp, &t->exp, err);
    if (r == AK_OK)
        r = numeric_date(t->claims, "nbf", &t->has_nbf, &t->nbf, err);
    if (r == AK_OK)
        r = numeric_date(t->claims, "iat", &t->has_iat, &t->iat, err);
    if (r == AK_OK)
        r = parse_aud(t, err);
    return r;
}

/* Finds the two dots of a compact JWS; a JWE has four, a JSON serialization none. */
static int split(const char *token, size_t len, size_t dots[2], struct ak_buf *err)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (token[i] != '.')
            continue;
        if (n == 2)
            return ak_err(err, AK_EINVAL, "The token has more than three segments (a JWE or "
                                          "nested token is not accepted).");
        dots[n++] = i;
    }
    if (n != 2)
        return ak_err(err, AK_EINVAL, "The token has %zu segments; a compact JWS has three.",
                      n + 1);
    return AK_OK;
}

int ak_jwt_parse(const char *token, size_t len, struct ak_jwt *ret, struct ak_buf *err)
{
    struct ak_jwt t;
    size_t dots[2];
    int r;

    memset(&t, 0, sizeof(t));
    if (!token || !ret)
        return ak_err(err, AK_EINVAL, "No token was given.");
    if (len > AK_JWT_MAX)
        return ak_err(err, AK_ETOOBIG, "The token is %zu characters, over the %d cap.", len,
                      AK_JWT_MAX);
    r = split(token, len, dots, err);
    if (r < 0)
        return r;
    r = segment_json(token, dots[0], 0, &t.header, err);
    if (r < 0)
        goto out;
    r = segment_json(token + dots[0] + 1, dots[1] - dots[0] - 1, 1, &t.claims, err);
    if (r < 0)
        goto out;
    if (ak_base64url_decode(token + dots[1] + 1, len - dots[1] - 1, &t.sig, &t.sig_len) < 0) {
        r = ak_err(err, AK_EINVAL, "The token's signature is not unpadded base64url.");
        goto out;
    }
    r = parse_header(&t, err);
    if (r < 0)
        goto out;
    r = parse_claims(&t, err);
    if (r < 0)
        goto out;
    t.signing_input = ak_xstrndup(token, dots[1]);
    t.signing_input_len = dots[1];
    *ret = t;
    memset(&t, 0, sizeof(t));
    r = AK_OK;
out:
    ak_jwt_release(&t);
    return r;
}

void ak_jwt_release(struct ak_jwt *t)
{
    if (!t)
        return;
    ak_json_free(t->header);
    ak_json_free(t->claims);
    for (size_t i = 0; i < t->n_aud; i++)
        free(t->aud[i]);
    free(t->aud);
    free(t->signing_input);
    free(t->sig);
    memset(t, 0, sizeof(*t));
}

/* ---- signature ------------------------------------------------------------------------------ */

/* Does key k fit the token's algorithm: its type and curve, and its own "alg" when it has one? */
static bool key_fits(const struct ak_jwk *k, enum ak_jws_alg alg)
{
    bool ec = alg == AK_JWS_ES256 || alg == AK_JWS_ES384 || alg == AK_JWS_ES512;
    const char *crv = ak_pkey_curve(k->key);

    if (k->alg && k->alg != alg)
        return false;
    if (!ec)
        return ak_pkey_kind(k->key) == AK_PKEY_RSA;
    if (ak_pkey_kind(k->key) != AK_PKEY_EC || !crv)
        return false;
    return (alg == AK_JWS_ES256 && strcmp(crv, "P-256") == 0) ||
           (alg == AK_JWS_ES384 && strcmp(crv, "P-384") == 0) ||
           (alg == AK_JWS_ES512 && strcmp(crv, "P-521") == 0);
}

int ak_jwt_verify(const struct ak_jwt *t, const struct ak_jwks *ks, struct ak_buf *err)
{
    size_t named = 0, fitting = 0;

    if (!t || !ks || !t->signing_input)
        return ak_err(err, AK_EINVAL, "No token or key set was given.");
    /* RFC 8725 §3.1: the algorithm comes from our list, never from the token alone; this is
     * what stops "none" and HS256 keyed with a public key */
    if (!t->alg)
        return ak_err(err, AK_ESIG, "The token's algorithm \"%.32s\" is not accepted.",
                      t->alg_name ? t->alg_name : "");
    for (size_t i = 0; i < ks->n; i++) {
        const struct ak_jwk *k = &ks->keys[i];

        if (t->kid && !ak_streq(k->kid, t->kid))
            continue;
        named++;
        if (!key_fits(k, t->alg))
            continue;
        fitting++;
        if (ak_pkey_verify(k->key, t->alg, t->signing_input, t->signing_input_len, t->sig,
                           t->sig_len, NULL) == AK_OK)
            return AK_OK;
    }
    if (t->kid && named == 0)
        return ak_err(err, AK_ENOTFOUND, "The key set has no key with the token's kid.");
    if (fitting == 0)
        return ak_err(err, AK_ESIG, "No key %sfits the token's algorithm %s.",
                      t->kid ? "with the token's kid " : "in the key set ",
                      ak_jws_alg_name(t->alg));
    return ak_err(err, AK_ESIG, "The token's %s signature does not verify with %s.",
                  ak_jws_alg_name(t->alg),
                  t->kid ? "the key of its kid" : fitting == 1 ? "the one fitting key"
                                                             : "any fitting key");
}

/* ---- claims --------------------------------------------------------------------------------- */

static int fail(enum ak_jwt_fail f, enum ak_jwt_fail *ret_fail, struct ak_buf *err,
                const char *msg)
{
    if (ret_fail)
        *ret_fail = f;
    return ak_err(err, AK_ESIG, "%s", msg);
}

static int64_t clamp_s(int64_t v)
{
    return v < 0 ? 0 : v > LEEWAY_MAX_S ? LEEWAY_MAX_S : v;
}

/* Characters of a UTF-8 string (json strings are valid UTF-8): bytes that start a character. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static bool aud_matches(const struct ak_jwt *t, const struct ak_jwt_rules *r)
{
    for (size_t i = 0; i < t->n_aud; i++)
        for (size_t j = 0; j < r->n_audiences; j++)
            if (ak_streq(t->aud[i], r->audiences[j]))
                return true;
    return false;
}

int ak_jwt_check_claims(const struct ak_jwt *t, const struct ak_jwt_rules *r,
                        enum ak_jwt_fail *ret_fail, struct ak_buf *err)
{
    int64_t now = 0, exp_l, nbf_l, age;

    if (!t || !r)
        return ak_err(err, AK_EINVAL, "No token or rules were given.");
    now = r->now_ms;
    exp_l = clamp_s(r->exp_leeway_s);
    nbf_l = clamp_s(r->nbf_leeway_s);
    age = clamp_s(r->max_age_s);
    if (!t->has_exp)
        return fail(AK_JWT_CLAIMS, ret_fail, err, "The token has no \"exp\" claim.");
    if (!t->sub || !*t->sub)
        return fail(AK_JWT_CLAIMS, ret_fail, err, "The token has no \"sub\" claim.");
    if (utf8_chars(t->sub) > SUB_MAX_CHARS)
        return fail(AK_JWT_CLAIMS, ret_fail, err,
                    "The token's \"sub\" claim is over 255 characters.");
    if (r->max_age_s > 0 && !t->has_iat)
        return fail(AK_JWT_CLAIMS, ret_fail, err,
                    "The token has no \"iat\" claim, so its age cannot be checked.");
    if (!r->issuer || !t->iss || strcmp(t->iss, r->issuer) != 0)
        return fail(AK_JWT_ISSUER, ret_fail, err,
                    "The token's issuer is not the configured issuer.");
    if (r->n_audiences == 0 && ak_json_get(t->claims, "aud"))
        return fail(AK_JWT_AUDIENCE, ret_fail, err,
                    "The token has an audience but no audience is configured.");
    if (r->n_audiences > 0 && !aud_matches(t, r))
        return fail(AK_JWT_AUDIENCE, ret_fail, err,
                    "The token's audience is not one of the configured audiences.");
    /* RFC 7519 §4.1.4: now must be before exp (plus leeway) */
    if (now >= (t->exp + exp_l) * 1000)
        return fail(AK_JWT_EXPIRED, ret_fail, err, "The token has expired.");
    /* §4.1.5: now must be at or after nbf (minus leeway); an iat in the future likewise */
    if (t->has_nbf && now < (t->nbf - nbf_l) * 1000)
        return fail(AK_JWT_NOT_YET_VALID, ret_fail, err, "The token is not valid yet (nbf).");
    if (t->has_iat && now < (t->iat - nbf_l) * 1000)
        return fail(AK_JWT_NOT_YET_VALID, ret_fail, err,
                    "The token was issued in the future (iat).");
    if (age > 0 && now - t->iat * 1000 > age * 1000)
        return fail(AK_JWT_TOO_OLD, ret_fail, err, "The token is too old (iat).");
    if (ret_fail)
        *ret_fail = AK_JWT_OK;
    return AK_OK;
}
