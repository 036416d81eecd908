/* ak_crypto.h — signatures, digests and certificates (the only door to OpenSSL; src/crypto/).
 *
 * Thread-safe: every function may be called from any thread after ak_crypto_global_init().
 * Verification functions return AK_OK only when the signature verified (EVP result exactly 1);
 * every other outcome, library errors included, is AK_ESIG / AK_EINVAL with a reason in err.
 */
#ifndef AK_CRYPTO_H
#define AK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;

void ak_crypto_global_init(void);

/* Constant-time equality of two byte strings; different lengths are unequal (length may leak). */
bool ak_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* SHA-256 of data as 64 lowercase hex chars + NUL. */
void ak_sha256_hex(const void *data, size_t n, char out[65]);

/* HMAC-SHA256 of data with key, as 64 lowercase hex chars + NUL. */
void ak_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t n, char out[65]);

/* HMAC-SHA256 of data with key, as 32 raw bytes (for key derivation chains such as SigV4). */
void ak_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                    unsigned char out[32]);

/* n random bytes from the OS CSPRNG as 2n hex chars (out must hold 2n+1). */
int ak_random_hex(size_t n, char *out);

/* Standard base64 (with padding) decode; rejects bad characters. Output malloc'ed. */
int ak_base64_decode(const char *in, size_t inlen, unsigned char **ret, size_t *ret_len);

/* Standard base64 encode (with padding); malloc'ed. */
char *ak_base64_encode(const void *in, size_t n);

/* A parsed X.509 certificate with its public key (opaque). */
struct ak_cert;

/* Parses one PEM certificate of len bytes. */
int ak_cert_parse_pem(const char *pem, size_t len, struct ak_cert **ret, struct ak_buf *err);
void ak_cert_free(struct ak_cert *c);
/* Certificate validity window (ms since epoch). */
int64_t ak_cert_not_before(const struct ak_cert *c);
int64_t ak_cert_not_after(const struct ak_cert *c);

struct ak_cert_check {
    const char *ca_file;   /* PEM bundle of trusted roots; NULL = system default store */
    bool verify_chain;     /* verify the chain to a trusted root (at time now_ms) */
    int64_t now_ms;        /* time for validity checks; 0 = skip validity dates entirely */
    const char *const *names; /* the cert must match one of these DNS names (SAN/CN); NULL = any */
    size_t n_names;
};
/* Checks a certificate against a policy. AK_ESIG with a reason when it fails. */
int ak_cert_check(const struct ak_cert *c, const struct ak_cert_check *chk, struct ak_buf *err);

enum ak_sig_alg { AK_SIG_RSA_SHA1, AK_SIG_RSA_SHA256 };

/* Verifies an RSA PKCS#1 v1.5 signature over msg with the certificate's public key. */
int ak_cert_verify(const struct ak_cert *c, enum ak_sig_alg alg, const void *msg, size_t msglen,
                   const unsigned char *sig, size_t siglen, struct ak_buf *err);

#endif
