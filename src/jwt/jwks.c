/* jwks.c — JSON Web Key Sets (RFC 7517 §5): RSA and EC signing keys, the rest skipped. */
#include "asakai/ak_jwt.h"

#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "src/jwt/jwt_int.h"
#include "src/core/ak_banned.h"

#define RSA_MIN_BITS 2048

/* An optional string member: AK_OK with *ret NULL when absent, AK_EINVAL when not a string. */
static int opt_str(const struct ak_json *o, const char *name, size_t i, const char **ret,
                   struct ak_buf *err)
{
    struct ak_json *v = ak_json_get(o, name);

    *ret = NULL;
    if (!v)
        return AK_OK;
    if (!ak_json_is_str(v))
        return ak_err(err, AK_EINVAL, "JWKS key %zu: \"%s\" is not a string.", i, name);
    *ret = ak_json_str(v);
    return AK_OK;
}

/* A required base64url member, decoded. */
static int b64_member(const struct ak_json *o, const char *name, size_t i, unsigned char **ret,
                      size_t *ret_len, struct ak_buf *err)
{
    struct ak_json *v = ak_json_get(o, name);

    if (!ak_json_is_str(v))
        return ak_err(err, AK_EINVAL, "JWKS key %zu: \"%s\" is missing or not a string.", i,
                      name);
    if (ak_base64url_decode(ak_json_str(v), ak_json_str_len(v), ret, ret_len) < 0)
        return ak_err(err, AK_EINVAL, "JWKS key %zu: \"%s\" is not unpadded base64url.", i, name);
    return AK_OK;
}

static size_t bit_length(const unsigned char *p, size_t n)
{
    size_t i = 0, bits;

    while (i < n && p[i] == 0)
        i++;
    if (i == n)
        return 0;
    bits = (n - i - 1) * 8;
    for (unsigned char c = p[i]; c; c >>= 1)
        bits++;
    return bits;
}

/* RSA: *ret NULL (skipped) when under 2048 bits. */
static int rsa_key(const struct ak_json *o, size_t i, struct ak_pkey **ret, struct ak_buf *err)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl = 0, el = 0;
    struct ak_buf why = AK_BUF_INIT(512);
    int r;

    *ret = NULL;
    r = b64_member(o, "n", i, &n, &nl, err);
    if (r < 0)
        goto out;
    r = b64_member(o, "e", i, &e, &el, err);
    if (r < 0)
        goto out;
    if (bit_length(n, nl) < RSA_MIN_BITS)
        goto out;
    r = ak_pkey_rsa(n, nl, e, el, ret, &why);
    if (r < 0)
        r = ak_err(err, AK_EINVAL, "JWKS key %zu: %s", i, why.buf);
out:
    ak_buf_release(&why);
    free(n);
    free(e);
    return r;
}

/* EC: *ret NULL (skipped) on a curve other than P-256/384/521. */
static int ec_key(const struct ak_json *o, size_t i, struct ak_pkey **ret, struct ak_buf *err)
{
    unsigned char *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    struct ak_buf why = AK_BUF_INIT(512);
    const char *crv;
    int r;

    *ret = NULL;
    crv = ak_json_get_str(o, "crv");
    if (!crv) {
        r = ak_err(err, AK_EINVAL, "JWKS key %zu: \"crv\" is missing or not a string.", i);
        goto out;
    }
    if (strcmp(crv, "P-256") != 0 && strcmp(crv, "P-384") != 0 && strcmp(crv, "P-521") != 0) {
        r = AK_OK;
        goto out;
    }
    r = b64_member(o, "x", i, &x, &xl, err);
    if (r < 0)
        goto out;
    r = b64_member(o, "y", i, &y, &yl, err);
    if (r < 0)
        goto out;
    r = ak_pkey_ec(crv, x, xl, y, yl, ret, &why);
    if (r < 0)
        r = ak_err(err, AK_EINVAL, "JWKS key %zu: %s", i, why.buf);
out:
    ak_buf_release(&why);
    free(x);
    free(y);
    return r;
}

/* One entry of "keys": appends it to ks, or counts it in *skip. */
static int add_key(struct ak_jwks *ks, const struct ak_json *o, size_t i, size_t *skip,
                   struct ak_buf *err)
{
    const char *kty, *use, *kid, *alg;
    struct ak_pkey *key = NULL;
    struct ak_jwk *k;
    int r;

    if (!ak_json_is_obj(o))
        return ak_err(err, AK_EINVAL, "JWKS key %zu is not a JSON object.", i);
    kty = ak_json_get_str(o, "kty");
    if (!kty)
        return ak_err(err, AK_EINVAL, "JWKS key %zu: \"kty\" is missing or not a string.", i);
    if ((r = opt_str(o, "use", i, &use, err)) < 0 || (r = opt_str(o, "kid", i, &kid, err)) < 0 ||
        (r = opt_str(o, "alg", i, &alg, err)) < 0)
        return r;
    /* encryption keys, symmetric and OKP keys and algorithms we never accept are not ours to
     * judge: a provider may publish them next to its signing keys */
    if ((use && strcmp(use, "sig") != 0) ||
        (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0) || (alg && !ak_jws_alg_parse(alg))) {
        (*skip)++;
        return AK_OK;
    }
    r = strcmp(kty, "RSA") == 0 ? rsa_key(o, i, &key, err) : ec_key(o, i, &key, err);
    if (r < 0)
        return r;
    if (!key) {
        (*skip)++;
        return AK_OK;
    }
    k = &ks->keys[ks->n++];
    k->kid = ak_xstrdup(kid);
    k->alg = alg ? ak_jws_alg_parse(alg) : 0;
    k->key = key;
    return AK_OK;
}

int ak_jwks_parse(const char *json, size_t len, struct ak_jwks **ret, size_t *skipped,
                  struct ak_buf *err)
{
    struct ak_buf why = AK_BUF_INIT(1024);
    struct ak_json *doc = NULL, *keys;
    struct ak_jwks *ks = NULL;
    size_t n, skip = 0;
    int r;

    if (!json || !ret)
        return ak_err(err, AK_EINVAL, "No JWKS was given.");
    if (len > AK_JWKS_MAX_BYTES)
        return ak_err(err, AK_ETOOBIG, "The JWKS is %zu bytes, over the %d-byte cap.", len,
                      AK_JWKS_MAX_BYTES);
    doc = ak_json_parse(json, len, &why);
    if (!doc) {
        r = ak_err(err, AK_EINVAL, "The JWKS is not valid JSON (%s).", why.buf);
        goto out;
    }
    keys = ak_json_get(doc, "keys");
    if (!ak_json_is_obj(doc) || !ak_json_is_arr(keys)) {
        r = ak_err(err, AK_EINVAL, "The JWKS is not an object with a \"keys\" array.");
        goto out;
    }
    n = ak_json_len(keys);
    if (n > AK_JWKS_MAX_KEYS) {
        r = ak_err(err, AK_ETOOBIG, "The JWKS has %zu keys, over the cap of %d.", n,
                   AK_JWKS_MAX_KEYS);
        goto out;
    }
    ks = ak_xcalloc(1, sizeof(*ks));
    ks->keys = ak_xcalloc(n ? n : 1, sizeof(*ks->keys));
    for (size_t i = 0; i < n; i++) {
        r = add_key(ks, ak_json_at(keys, i), i, &skip, err);
        if (r < 0)
            goto out;
    }
    *ret = ks;
    ks = NULL;
    if (skipped)
        *skipped = skip;
    r = AK_OK;
out:
    ak_jwks_free(ks);
    ak_json_free(doc);
    ak_buf_release(&why);
    return r;
}

void ak_jwks_free(struct ak_jwks *ks)
{
    if (!ks)
        return;
    for (size_t i = 0; i < ks->n; i++) {
        free(ks->keys[i].kid);
        ak_pkey_free(ks->keys[i].key);
    }
    free(ks->keys);
    free(ks);
}

size_t ak_jwks_count(const struct ak_jwks *ks)
{
    return ks ? ks->n : 0;
}

bool ak_jwks_has_kid(const struct ak_jwks *ks, const char *kid)
{
    for (size_t i = 0; ks && kid && i < ks->n; i++)
        if (ks->keys[i].kid && strcmp(ks->keys[i].kid, kid) == 0)
            return true;
    return false;
}
