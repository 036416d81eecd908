/* crypto.c — digests, base64, X.509 parsing/checking and RSA signature verification (OpenSSL 3).
 *
 * With jose.c, the only code in asakai that includes OpenSSL (the crypto module). Every
 * function leaves the thread's OpenSSL error queue empty on return, so a stale error can never
 * be reported by a later call.
 */
#include "asakai/ak_crypto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"

/* A PEM certificate is ~2 KiB; anything near this cap is not one certificate. */
#define AK_CERT_PEM_MAX (64 * 1024)
/* EVP_DecodeBlock takes an int length. */
#define AK_BASE64_MAX ((size_t)INT_MAX / 2)

struct ak_cert {
    X509 *x509;
    int64_t not_before_ms;
    int64_t not_after_ms;
};

void ak_crypto_global_init(void)
{
    uint64_t opts = OPENSSL_INIT_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_ADD_ALL_DIGESTS;

    AK_BUG_ON(OPENSSL_init_crypto(opts, NULL) != 1);
}

/* The reason of the oldest queued OpenSSL error (never key material), and clears the queue. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return r ? r : "no further detail";
}

bool ak_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return false;
    if (alen == 0)
        return true;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

void ak_sha256_hex(const void *data, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    static const unsigned char none[1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    /* SHA-256 of memory fails only in a broken library: a bug, not an input error. */
    AK_BUG_ON(EVP_Digest(data ? data : none, data ? n : 0, md, &mdlen, EVP_sha256(), NULL) != 1);
    AK_BUG_ON(mdlen != 32);
    for (unsigned int i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[64] = 0;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0xf];
    }
    out[2 * n] = 0;
}

void ak_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                    unsigned char out[32])
{
    static const unsigned char none[1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    /* HMAC() takes an int key length; OpenSSL treats a NULL key as "reuse the previous one" */
    AK_BUG_ON(keylen > INT_MAX);
    AK_BUG_ON(!HMAC(EVP_sha256(), key ? key : none, key ? (int)keylen : 0,
                    data ? data : none, data ? n : 0, md, &mdlen));
    AK_BUG_ON(mdlen != 32);
    memcpy(out, md, 32);
    OPENSSL_cleanse(md, sizeof(md));
}

void ak_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t n, char out[65])
{
    unsigned char md[32];

    ak_hmac_sha256(key, keylen, data, n, md);
    to_hex(md, sizeof(md), out);
}

int ak_random_hex(size_t n, char *out)
{
    unsigned char chunk[256];
    size_t done = 0;

    if (!out)
        return AK_EINVAL;
    while (done < n) {
        size_t k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);

        if (RAND_bytes(chunk, (int)k) != 1) {
            ERR_clear_error();
            OPENSSL_cleanse(out, 2 * done);
            out[0] = 0;
            return AK_EIO;
        }
        to_hex(chunk, k, out + 2 * done);
        done += k;
    }
    out[2 * n] = 0;
    OPENSSL_cleanse(chunk, sizeof(chunk));
    return AK_OK;
}

char *ak_base64_encode(const void *in, size_t n)
{
    /* EVP_EncodeBlock takes an int: encode in chunks of whole 3-byte groups */
    const size_t chunk = 3 * 1024 * 1024;
    const unsigned char *p = in;
    size_t groups = n / 3 + (n % 3 != 0), outlen, pos = 0;
    char *out;

    AK_BUG_ON(in == NULL && n > 0);
    AK_BUG_ON(ak_size_mul_overflow(groups, 4, &outlen) || outlen == SIZE_MAX);
    out = ak_xmalloc(outlen + 1);
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;

        pos += (size_t)EVP_EncodeBlock((unsigned char *)out + pos, p + off, (int)k);
    }
    AK_BUG_ON(pos != outlen);
    out[outlen] = 0;
    return out;
}

static bool is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Checks the canonical shape ourselves: EVP_DecodeBlock silently skips surrounding whitespace
 * and counts '=' padding as zero bytes in its result, so its length is not the decoded length. */
static int b64_check(const char *in, size_t inlen, size_t *ret_pad)
{
    size_t pad = 0;

    if (inlen % 4 != 0)
        return AK_EINVAL;
    if (inlen > 0 && in[inlen - 1] == '=')
        pad = in[inlen - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < inlen - pad; i++)
        if (!is_b64_char((unsigned char)in[i]))
            return AK_EINVAL;
    *ret_pad = pad;
    return AK_OK;
}

int ak_base64_decode(const char *in, size_t inlen, unsigned char **ret, size_t *ret_len)
{
    unsigned char *out = NULL;
    size_t pad = 0, outlen;
    int r, n;

    if (!in && inlen)
        return AK_EINVAL;
    if (inlen > AK_BASE64_MAX)
        return AK_ETOOBIG;
    r = b64_check(in, inlen, &pad);
    if (r < 0)
        return r;
    outlen = inlen / 4 * 3;
    out = ak_xmalloc(outlen + 1);
    if (inlen > 0) {
        n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)inlen);
        if (n < 0 || (size_t)n != outlen) {
            ERR_clear_error();
            free(out);
            return AK_EINVAL;
        }
    }
    outlen -= pad;
    out[outlen] = 0;
    *ret = out;
    *ret_len = outlen;
    return AK_OK;
}

static int asn1_time_ms(const ASN1_TIME *t, int64_t *ret_ms)
{
    struct tm tm;
    int64_t days;

    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return AK_EINVAL;
    days = ak_days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                              (unsigned)tm.tm_mday);
    *ret_ms = ((days * 24 + tm.tm_hour) * 60 + tm.tm_min) * 60000 + (int64_t)tm.tm_sec * 1000;
    return AK_OK;
}

/* Never prompt or decrypt: a certificate is not encrypted. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static bool only_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

/* PEM_read_bio_X509 skips any text before the block and other PEM blocks, so the input could
 * smuggle a second certificate or a key. Insist on: blank lines, one CERTIFICATE block,
 * whitespace. */
static int pem_check_framing(const char *pem, size_t len, struct ak_buf *err)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    size_t i = 0;

    /* blank lines only: PEM_read_bio does not see a BEGIN line that is indented */
    while (i < len && (pem[i] == '\n' || pem[i] == '\r'))
        i++;
    if (len - i < sizeof(begin) - 1 || memcmp(pem + i, begin, sizeof(begin) - 1) != 0)
        return ak_err(err, AK_EINVAL,
                      "The PEM input does not start with a \"-----BEGIN CERTIFICATE-----\" line.");
    if (memchr(pem, 0, len))
        return ak_err(err, AK_EINVAL, "The PEM input contains a NUL byte.");
    return AK_OK;
}

int ak_cert_parse_pem(const char *pem, size_t len, struct ak_cert **ret, struct ak_buf *err)
{
    struct ak_cert *c = NULL;
    BIO *bio = NULL;
    X509 *x = NULL;
    char *rest = NULL;
    long restlen;
    int r;

    if (!pem || !ret)
        return ak_err(err, AK_EINVAL, "No PEM certificate was given.");
    if (len > AK_CERT_PEM_MAX)
        return ak_err(err, AK_ETOOBIG, "The PEM certificate is %zu bytes, over the %d-byte cap.",
                      len, AK_CERT_PEM_MAX);
    r = pem_check_framing(pem, len, err);
    if (r < 0)
        return r;

    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        r = ak_err(err, AK_EINTERNAL, "Cannot create a memory BIO: %s.", ssl_reason());
        goto out;
    }
    x = PEM_read_bio_X509(bio, NULL, no_password, NULL);
    if (!x) {
        r = ak_err(err, AK_EINVAL, "The PEM certificate does not parse: %s.", ssl_reason());
        goto out;
    }
    restlen = BIO_get_mem_data(bio, &rest);
    if (restlen > 0 && !only_space(rest, (size_t)restlen)) {
        r = ak_err(err, AK_EINVAL,
                   "The PEM input has %ld bytes after the certificate; exactly one is allowed.",
                   restlen);
        goto out;
    }

    c = ak_xcalloc(1, sizeof(*c));
    if (asn1_time_ms(X509_get0_notBefore(x), &c->not_before_ms) < 0 ||
        asn1_time_ms(X509_get0_notAfter(x), &c->not_after_ms) < 0) {
        r = ak_err(err, AK_EINVAL, "The certificate has an unreadable validity period.");
        goto out;
    }
    c->x509 = x;
    x = NULL;
    *ret = c;
    c = NULL;
    r = AK_OK;
out:
    ERR_clear_error();
    ak_cert_free(c);
    X509_free(x);
    BIO_free(bio);
    return r;
}

void ak_cert_free(struct ak_cert *c)
{
    if (!c)
        return;
    X509_free(c->x509);
    free(c);
}

int64_t ak_cert_not_before(const struct ak_cert *c)
{
    return c ? c->not_before_ms : 0;
}

int64_t ak_cert_not_after(const struct ak_cert *c)
{
    return c ? c->not_after_ms : 0;
}

static int check_names(const struct ak_cert *c, const struct ak_cert_check *chk,
                       struct ak_buf *err)
{
    /* No partial wildcards ("sn*.amazonaws.com"); a full-label wildcard in the cert is allowed
     * as RFC 6125 says, and the SAN wins over the CN when present. */
    unsigned int flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;

    if (!chk->names)
        return AK_OK;
    for (size_t i = 0; i < chk->n_names; i++) {
        const char *n = chk->names[i];

        if (n && *n && X509_check_host(c->x509, n, strlen(n), flags, NULL) == 1)
            return AK_OK;
    }
    ERR_clear_error();
    /* An empty allow-list allows nothing: fail closed. */
    if (chk->n_names == 0)
        return ak_err(err, AK_ESIG, "The certificate name check has an empty allow-list.");
    return ak_err(err, AK_ESIG,
                  "The certificate is not issued for \"%s\" or any other of the %zu allowed names.",
                  chk->names[0] ? chk->names[0] : "", chk->n_names);
}

static int check_dates(const struct ak_cert *c, int64_t now_ms, struct ak_buf *err)
{
    char t[AK_TIME_RFC3339_LEN];

    if (now_ms < c->not_before_ms) {
        ak_time_fmt_rfc3339(c->not_before_ms, t, sizeof(t));
        return ak_err(err, AK_ESIG, "The certificate is not valid before %s.", t);
    }
    if (now_ms > c->not_after_ms) {
        ak_time_fmt_rfc3339(c->not_after_ms, t, sizeof(t));
        return ak_err(err, AK_ESIG, "The certificate expired at %s.", t);
    }
    return AK_OK;
}

static int check_chain(const struct ak_cert *c, const struct ak_cert_check *chk,
                       struct ak_buf *err)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    X509_VERIFY_PARAM *param;
    int r;

    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (!store || !ctx) {
        r = ak_err(err, AK_EINTERNAL, "Cannot allocate an X.509 store: %s.", ssl_reason());
        goto out;
    }
    if (chk->ca_file) {
        if (X509_STORE_load_file(store, chk->ca_file) != 1) {
            r = ak_err(err, AK_ESIG, "Cannot load trusted CA certificates from %s: %s.",
                       chk->ca_file, ssl_reason());
            goto out;
        }
    } else if (X509_STORE_set_default_paths(store) != 1) {
        r = ak_err(err, AK_ESIG, "Cannot load the system CA store: %s.", ssl_reason());
        goto out;
    }
    if (X509_STORE_CTX_init(ctx, store, c->x509, NULL) != 1) {
        r = ak_err(err, AK_EINTERNAL, "Cannot start certificate verification: %s.",
                   ssl_reason());
        goto out;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    if (chk->now_ms)
        X509_VERIFY_PARAM_set_time(param, (time_t)(chk->now_ms / 1000));
    else
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);

        r = ak_err(err, AK_ESIG, "The certificate chain does not verify: %s (depth %d).",
                   X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx));
        goto out;
    }
    r = AK_OK;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return r;
}

int ak_cert_check(const struct ak_cert *c, const struct ak_cert_check *chk, struct ak_buf *err)
{
    int r;

    if (!c || !chk)
        return ak_err(err, AK_EINVAL, "No certificate or check policy was given.");
    r = check_names(c, chk, err);
    if (r < 0)
        return r;
    if (chk->now_ms) {
        r = check_dates(c, chk->now_ms, err);
        if (r < 0)
            return r;
    }
    if (chk->verify_chain)
        return check_chain(c, chk, err);
    return AK_OK;
}

int ak_cert_verify(const struct ak_cert *c, enum ak_sig_alg alg, const void *msg, size_t msglen,
                   const unsigned char *sig, size_t siglen, struct ak_buf *err)
{
    static const unsigned char none[1];
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pkey;
    const EVP_MD *md;
    const char *name;
    int r, v;

    if (!c || (!msg && msglen) || !sig)
        return ak_err(err, AK_EINVAL, "No certificate, message or signature was given.");
    switch (alg) {
    case AK_SIG_RSA_SHA1:
        md = EVP_sha1();
        name = "RSA-SHA1";
        break;
    case AK_SIG_RSA_SHA256:
        md = EVP_sha256();
        name = "RSA-SHA256";
        break;
    default:
        return ak_err(err, AK_EINVAL, "Unknown signature algorithm %d.", (int)alg);
    }
    pkey = X509_get0_pubkey(c->x509);
    /* EVP_PKEY_RSA only: RSA-PSS, EC and the rest are not what SNS signs with. */
    if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        ERR_clear_error();
        return ak_err(err, AK_ESIG, "The certificate's public key is not an RSA key.");
    }
    /* PKCS#1 v1.5 signatures are exactly the modulus size; reject early and precisely. */
    if (siglen == 0 || siglen != (size_t)EVP_PKEY_get_size(pkey))
        return ak_err(err, AK_ESIG, "The %s signature is %zu bytes, the key needs %d.", name,
                      siglen, EVP_PKEY_get_size(pkey));

    ERR_clear_error();
    ctx = EVP_MD_CTX_new();
    if (!ctx) {
        r = ak_err(err, AK_EINTERNAL, "Cannot allocate a digest context: %s.", ssl_reason());
        goto out;
    }
    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
        /* e.g. a crypto policy that disables SHA-1 signatures */
        r = ak_err(err, AK_ESIG, "Cannot set up %s verification: %s.", name, ssl_reason());
        goto out;
    }
    /* 0 is a bad signature, negative an error: only exactly 1 means verified. */
    v = EVP_DigestVerify(ctx, sig, siglen, msglen ? msg : none, msglen);
    if (v != 1) {
        r = ak_err(err, AK_ESIG, "The %s signature does not verify: %s.", name, ssl_reason());
        goto out;
    }
    r = AK_OK;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return r;
}
