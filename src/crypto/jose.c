/* jose.c — base64url, JWK public keys, JWS signature verification and AES-256-GCM sealing
 * (OpenSSL 3 EVP and OSSL_PARAM APIs only; no deprecated RSA_* / EC_KEY_* calls).
 *
 * Like crypto.c, every function leaves the thread's OpenSSL error queue empty on return.
 */
#include "asakai/ak_crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"

/* RSA moduli asakai accepts: at least 2048 bits (RFC 7518 §3.3), at most OpenSSL's own
 * verification limit, so that a hostile JWKS cannot make every verification slow. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
/* Real JWKs use e = 65537; 64 bits is more than any deployed key and keeps verifies cheap. */
#define RSA_MAX_E_BYTES 8
#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16

struct ak_pkey {
    EVP_PKEY *pkey;
    enum ak_pkey_kind kind;
    const char *curve;  /* "P-256".. for EC */
    size_t field_len;   /* EC: bytes of one coordinate (32/48/66) */
};

static const char *ssl_reason(void)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return r ? r : "no further detail";
}

/* ---- base64url ------------------------------------------------------------------------------ */

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int ak_base64url_decode(const char *in, size_t inlen, unsigned char **ret, size_t *ret_len)
{
    unsigned char *out = NULL;
    uint32_t acc = 0;
    size_t pos = 0, bits = 0;
    int r;

    if ((!in && inlen) || !ret || !ret_len)
        return AK_EINVAL;
    /* one character left over carries only 6 bits: never a whole byte */
    if (inlen % 4 == 1)
        return AK_EINVAL;
    out = ak_xmalloc(inlen / 4 * 3 + 3);
    for (size_t i = 0; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);

        if (v < 0) {
            r = AK_EINVAL;
            goto out;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[pos++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* the spare bits of the last character must be zero: one encoding per byte string */
    if (acc != 0) {
        r = AK_EINVAL;
        goto out;
    }
    out[pos] = 0;
    *ret = out;
    *ret_len = pos;
    out = NULL;
    r = AK_OK;
out:
    free(out);
    return r;
}

char *ak_base64url_encode(const void *in, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = in;
    size_t outlen, pos = 0;
    char *out;

    AK_BUG_ON(in == NULL && n > 0);
    AK_BUG_ON(ak_size_mul_overflow(n / 3 + 1, 4, &outlen));
    out = ak_xmalloc(outlen + 1);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t k = n - i < 3 ? n - i : 3;

        if (k > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (k > 2)
            v |= p[i + 2];
        out[pos++] = abc[(v >> 18) & 63];
        out[pos++] = abc[(v >> 12) & 63];
        if (k > 1)
            out[pos++] = abc[(v >> 6) & 63];
        if (k > 2)
            out[pos++] = abc[v & 63];
    }
    out[pos] = 0;
    return out;
}

int ak_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;

    if (!buf && n)
        return AK_EINVAL;
    while (n > 0) {
        int k = n > INT_MAX ? INT_MAX : (int)n;

        if (RAND_bytes(p, k) != 1) {
            ERR_clear_error();
            return AK_EINTERNAL;
        }
        p += k;
        n -= (size_t)k;
    }
    return AK_OK;
}

/* ---- public keys ---------------------------------------------------------------------------- */

static void skip_zeros(const unsigned char **p, size_t *n)
{
    while (*n > 0 && (*p)[0] == 0) {
        (*p)++;
        (*n)--;
    }
}

static size_t bit_length(const unsigned char *p, size_t n)
{
    size_t bits;

    skip_zeros(&p, &n);
    if (n == 0)
        return 0;
    bits = (n - 1) * 8;
    for (unsigned char c = p[0]; c; c >>= 1)
        bits++;
    return bits;
}

/* Builds an EVP_PKEY of type name from params with EVP_PKEY_fromdata, then runs OpenSSL's public
 * key check (for EC: on the curve, not the point at infinity). */
static int pkey_from_params(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **ret,
                            struct ak_buf *err)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
    EVP_PKEY *pkey = NULL;
    int r;

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
        r = ak_err(err, AK_EINTERNAL, "Cannot set up an %s key: %s.", name, ssl_reason());
        goto out;
    }
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        r = ak_err(err, AK_EINVAL, "The %s public key is invalid: %s.", name, ssl_reason());
        goto out;
    }
    chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!chk || EVP_PKEY_public_check(chk) != 1) {
        r = ak_err(err, AK_EINVAL, "The %s public key fails its validity check: %s.", name,
                   ssl_reason());
        goto out;
    }
    *ret = pkey;
    pkey = NULL;
    r = AK_OK;
out:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return r;
}

int ak_pkey_rsa(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
                struct ak_pkey **ret, struct ak_buf *err)
{
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    EVP_PKEY *pkey = NULL;
    size_t bits;
    int r;

    if (!n || !e || !ret)
        return ak_err(err, AK_EINVAL, "No RSA modulus or exponent was given.");
    skip_zeros(&n, &n_len);
    skip_zeros(&e, &e_len);
    bits = bit_length(n, n_len);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
        return ak_err(err, AK_EINVAL, "The RSA modulus has %zu bits; %d to %d are accepted.", bits,
                      RSA_MIN_BITS, RSA_MAX_BITS);
    if (!(n[n_len - 1] & 1))
        return ak_err(err, AK_EINVAL, "The RSA modulus is even.");
    if (e_len == 0 || !(e[e_len - 1] & 1) || (e_len == 1 && e[0] == 1))
        return ak_err(err, AK_EINVAL, "The RSA exponent must be odd and greater than 1.");
    if (e_len > RSA_MAX_E_BYTES)
        return ak_err(err, AK_EINVAL, "The RSA exponent has %zu bytes; at most %d are accepted.",
                      e_len, RSA_MAX_E_BYTES);

    ERR_clear_error();
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        r = ak_err(err, AK_EINTERNAL, "Cannot build RSA key parameters: %s.", ssl_reason());
        goto out;
    }
    r = pkey_from_params("RSA", bld, &pkey, err);
    if (r < 0)
        goto out;
    *ret = ak_xcalloc(1, sizeof(**ret));
    (*ret)->pkey = pkey;
    (*ret)->kind = AK_PKEY_RSA;
    pkey = NULL;
    r = AK_OK;
out:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return r;
}

struct curve {
    const char *jwk;    /* "P-256" */
    const char *group;  /* OpenSSL's group name */
    size_t field_len;
};

static const struct curve curves[] = {
    {"P-256", "prime256v1", 32},
    {"P-384", "secp384r1", 48},
    {"P-521", "secp521r1", 66},
};

static const struct curve *curve_find(const char *crv)
{
    for (size_t i = 0; crv && i < AK_ARRAY_SIZE(curves); i++)
        if (strcmp(curves[i].jwk, crv) == 0)
            return &curves[i];
    return NULL;
}

int ak_pkey_ec(const char *crv, const unsigned char *x, size_t x_len, const unsigned char *y,
               size_t y_len, struct ak_pkey **ret, struct ak_buf *err)
{
    const struct curve *c = curve_find(crv);
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    unsigned char point[1 + 2 * 66];
    int r;

    if (!x || !y || !ret)
        return ak_err(err, AK_EINVAL, "No EC coordinates were given.");
    if (!c)
        return ak_err(err, AK_EINVAL, "The EC curve is not one of P-256, P-384, P-521.");
    if (x_len != c->field_len || y_len != c->field_len)
        return ak_err(err, AK_EINVAL, "The %s coordinates are %zu and %zu bytes; both must be %zu.",
                      c->jwk, x_len, y_len, c->field_len);
    /* SEC 1 uncompressed point: 0x04 || x || y */
    point[0] = 4;
    memcpy(point + 1, x, x_len);
    memcpy(point + 1 + x_len, y, y_len);

    ERR_clear_error();
    bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                          1 + 2 * c->field_len)) {
        r = ak_err(err, AK_EINTERNAL, "Cannot build EC key parameters: %s.", ssl_reason());
        goto out;
    }
    r = pkey_from_params("EC", bld, &pkey, err);
    if (r < 0)
        goto out;
    *ret = ak_xcalloc(1, sizeof(**ret));
    (*ret)->pkey = pkey;
    (*ret)->kind = AK_PKEY_EC;
    (*ret)->curve = c->jwk;
    (*ret)->field_len = c->field_len;
    pkey = NULL;
    r = AK_OK;
out:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    OSSL_PARAM_BLD_free(bld);
    return r;
}

void ak_pkey_free(struct ak_pkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

enum ak_pkey_kind ak_pkey_kind(const struct ak_pkey *k)
{
    return k ? k->kind : 0;
}

const char *ak_pkey_curve(const struct ak_pkey *k)
{
    return k && k->kind == AK_PKEY_EC ? k->curve : NULL;
}

/* ---- JWS ------------------------------------------------------------------------------------ */

struct jws_alg {
    enum ak_jws_alg alg;
    const char *name;
    enum ak_pkey_kind kind;
    const char *curve;  /* ES*: the only curve that fits */
    int md_bits;
};

static const struct jws_alg jws_algs[] = {
    {AK_JWS_RS256, "RS256", AK_PKEY_RSA, NULL, 256},
    {AK_JWS_RS384, "RS384", AK_PKEY_RSA, NULL, 384},
    {AK_JWS_RS512, "RS512", AK_PKEY_RSA, NULL, 512},
    {AK_JWS_ES256, "ES256", AK_PKEY_EC, "P-256", 256},
    {AK_JWS_ES384, "ES384", AK_PKEY_EC, "P-384", 384},
    {AK_JWS_ES512, "ES512", AK_PKEY_EC, "P-521", 512},
};

static const struct jws_alg *jws_find(enum ak_jws_alg alg)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(jws_algs); i++)
        if (jws_algs[i].alg == alg)
            return &jws_algs[i];
    return NULL;
}

enum ak_jws_alg ak_jws_alg_parse(const char *name)
{
    for (size_t i = 0; name && i < AK_ARRAY_SIZE(jws_algs); i++)
        if (strcmp(jws_algs[i].name, name) == 0)
            return jws_algs[i].alg;
    return 0;
}

const char *ak_jws_alg_name(enum ak_jws_alg alg)
{
    const struct jws_alg *a = jws_find(alg);

    return a ? a->name : NULL;
}

static const EVP_MD *md_of(int bits)
{
    return bits == 256 ? EVP_sha256() : bits == 384 ? EVP_sha384() : EVP_sha512();
}

/* JOSE's fixed-width r||s (RFC 7518 §3.4) to the DER ECDSA-Sig-Value that OpenSSL verifies. */
static int ecdsa_raw_to_der(const unsigned char *sig, size_t half, unsigned char **ret,
                            size_t *ret_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
    unsigned char *der = NULL;
    int n;

    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return AK_EINTERNAL;
    }
    /* es owns r and s now */
    n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0)
        return AK_EINTERNAL;
    *ret = der;
    *ret_len = (size_t)n;
    return AK_OK;
}

/* Does k fit a? AK_ESIG with which mismatch, in err. */
static int check_fit(const struct ak_pkey *k, const struct jws_alg *a, struct ak_buf *err)
{
    if (k->kind != a->kind)
        return ak_err(err, AK_ESIG, "%s needs an %s key, this is an %s key.", a->name,
                      a->kind == AK_PKEY_RSA ? "RSA" : "EC", k->kind == AK_PKEY_RSA ? "RSA" : "EC");
    if (a->curve && strcmp(a->curve, k->curve) != 0)
        return ak_err(err, AK_ESIG, "%s needs a %s key, this key is on %s.", a->name, a->curve,
                      k->curve);
    return AK_OK;
}

static int check_sig_len(const struct ak_pkey *k, const struct jws_alg *a, size_t sig_len,
                         struct ak_buf *err)
{
    size_t want = k->kind == AK_PKEY_EC ? 2 * k->field_len : (size_t)EVP_PKEY_get_size(k->pkey);

    if (sig_len != want)
        return ak_err(err, AK_EINVAL, "The %s signature is %zu bytes, the key needs %zu.", a->name,
                      sig_len, want);
    return AK_OK;
}

int ak_pkey_verify(const struct ak_pkey *k, enum ak_jws_alg alg, const void *msg, size_t msg_len,
                   const unsigned char *sig, size_t sig_len, struct ak_buf *err)
{
    static const unsigned char none[1];
    const struct jws_alg *a = jws_find(alg);
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0;
    int r, v;

    if (!k || (!msg && msg_len) || !sig)
        return ak_err(err, AK_EINVAL, "No key, message or signature was given.");
    if (!a)
        return ak_err(err, AK_EINVAL, "Unknown JWS algorithm %d.", (int)alg);
    r = check_fit(k, a, err);
    if (r < 0)
        return r;
    r = check_sig_len(k, a, sig_len, err);
    if (r < 0)
        return r;

    ERR_clear_error();
    if (k->kind == AK_PKEY_EC) {
        r = ecdsa_raw_to_der(sig, k->field_len, &der, &der_len);
        if (r < 0) {
            r = ak_err(err, r, "Cannot encode the %s signature: %s.", a->name, ssl_reason());
            goto out;
        }
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx) {
        r = ak_err(err, AK_EINTERNAL, "Cannot allocate a digest context: %s.", ssl_reason());
        goto out;
    }
    if (EVP_DigestVerifyInit(ctx, &pctx, md_of(a->md_bits), NULL, k->pkey) != 1 ||
        (k->kind == AK_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)) {
        r = ak_err(err, AK_ESIG, "Cannot set up %s verification: %s.", a->name, ssl_reason());
        goto out;
    }
    /* 0 is a bad signature, negative an error: only exactly 1 means verified */
    v = EVP_DigestVerify(ctx, der ? der : sig, der ? der_len : sig_len, msg_len ? msg : none,
                         msg_len);
    if (v != 1) {
        r = ak_err(err, AK_ESIG, "The %s signature does not verify.", a->name);
        goto out;
    }
    r = AK_OK;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return r;
}

/* ---- AES-256-GCM ---------------------------------------------------------------------------- */

/* Runs GCM over in (n bytes) into out; enc = 1 seals, 0 opens (then tag is checked). */
static int gcm_run(int enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
                   const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, r = AK_EINTERNAL;
    size_t aad_len = aad ? strlen(aad) : 0;

    if (!ctx || n > INT_MAX || aad_len > INT_MAX)
        goto out;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
        goto out;
    if (aad_len && EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad,
                                    (int)aad_len) != 1)
        goto out;
    len = 0;
    if (n && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + len, &len) != 1) {
        /* on open, a failed final is the tag mismatch */
        r = enc ? AK_EINTERNAL : AK_ESIG;
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, tag) != 1)
        goto out;
    r = AK_OK;
out:
    ERR_clear_error();
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

int ak_seal(const unsigned char key[AK_SEAL_KEY_LEN], const void *plain, size_t n, const char *aad,
            unsigned char **ret, size_t *ret_len)
{
    unsigned char *out = NULL;
    size_t total;
    int r;

    if (!key || (!plain && n) || !ret || !ret_len)
        return AK_EINVAL;
    if (n > INT_MAX - GCM_NONCE_LEN - GCM_TAG_LEN)
        return AK_ETOOBIG;
    total = GCM_NONCE_LEN + n + GCM_TAG_LEN;
    out = ak_xmalloc(total);
    r = ak_random_bytes(out, GCM_NONCE_LEN);
    if (r < 0)
        goto out;
    r = gcm_run(1, key, out, aad, plain, n, out + GCM_NONCE_LEN, out + GCM_NONCE_LEN + n);
    if (r < 0)
        goto out;
    *ret = out;
    *ret_len = total;
    out = NULL;
out:
    free(out);
    return r;
}

int ak_unseal(const unsigned char key[AK_SEAL_KEY_LEN], const unsigned char *sealed, size_t n,
              const char *aad, unsigned char **ret, size_t *ret_len)
{
    unsigned char *out = NULL, tag[GCM_TAG_LEN];
    size_t plen;
    int r;

    if (!key || !sealed || !ret || !ret_len)
        return AK_EINVAL;
    if (n < GCM_NONCE_LEN + GCM_TAG_LEN)
        return AK_EINVAL;
    if (n > INT_MAX)
        return AK_ETOOBIG;
    plen = n - GCM_NONCE_LEN - GCM_TAG_LEN;
    memcpy(tag, sealed + n - GCM_TAG_LEN, GCM_TAG_LEN);
    out = ak_xmalloc(plen + 1);
    r = gcm_run(0, key, sealed, aad, sealed + GCM_NONCE_LEN, plen, out, tag);
    if (r < 0) {
        OPENSSL_cleanse(out, plen);
        goto out;
    }
    out[plen] = 0;
    *ret = out;
    *ret_len = plen;
    out = NULL;
out:
    free(out);
    return r;
}
