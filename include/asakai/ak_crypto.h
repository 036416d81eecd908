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

/* ---- keyless CI (issue 5): JOSE keys and signatures, secrets at rest ------------------------ */

/* base64url (RFC 4648 §5) without padding; decode refuses '=' padding, '+', '/', whitespace and
 * a final group with non-zero spare bits (AK_EINVAL). Results malloc'ed. */
int ak_base64url_decode(const char *in, size_t inlen, unsigned char **ret, size_t *ret_len);
char *ak_base64url_encode(const void *in, size_t n);

/* Fills buf with n cryptographically random bytes (AK_EINTERNAL if the RNG fails). */
int ak_random_bytes(void *buf, size_t n);

/* A public key from a JWK (opaque). */
struct ak_pkey;
enum ak_pkey_kind { AK_PKEY_RSA = 1, AK_PKEY_EC };
/* RSA from the big-endian bytes of n and e: at least 2048 bits, e odd and > 1 (AK_EINVAL). */
int ak_pkey_rsa(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
                struct ak_pkey **ret, struct ak_buf *err);
/* EC from crv "P-256" | "P-384" | "P-521" and the affine x, y (big-endian, exactly the field
 * size); the point must lie on the curve (AK_EINVAL). */
int ak_pkey_ec(const char *crv, const unsigned char *x, size_t x_len, const unsigned char *y,
               size_t y_len, struct ak_pkey **ret, struct ak_buf *err);
void ak_pkey_free(struct ak_pkey *k);
enum ak_pkey_kind ak_pkey_kind(const struct ak_pkey *k);
const char *ak_pkey_curve(const struct ak_pkey *k); /* "P-256".. for EC, NULL for RSA */

/* JWS algorithms asakai accepts (RFC 7518 §3.1); none, HS*, PS* and others are not here. */
enum ak_jws_alg { AK_JWS_RS256 = 1, AK_JWS_RS384, AK_JWS_RS512, AK_JWS_ES256, AK_JWS_ES384,
                  AK_JWS_ES512 };
/* "RS256" -> AK_JWS_RS256 ...; 0 for anything else (including "none" and "HS256"). */
enum ak_jws_alg ak_jws_alg_parse(const char *name);
const char *ak_jws_alg_name(enum ak_jws_alg alg);
/* Verifies sig over msg. RSxxx: RSASSA-PKCS1-v1_5 with SHA-xxx (key must be RSA). ESxxx: sig is
 * the JOSE form r||s of exactly 2 x the curve's field size (64/96/132 bytes), ES256 needs P-256,
 * ES384 P-384, ES512 P-521. AK_ESIG when the signature does not verify or the key does not fit
 * the algorithm (with which, in err); AK_EINVAL for a malformed signature length. */
int ak_pkey_verify(const struct ak_pkey *k, enum ak_jws_alg alg, const void *msg, size_t msg_len,
                   const unsigned char *sig, size_t sig_len, struct ak_buf *err);

/* AES-256-GCM for secrets at rest. Sealed form: 12-byte random nonce || ciphertext || 16-byte
 * tag; aad (may be NULL) is authenticated, not stored. ak_unseal: AK_ESIG when the tag does not
 * verify (tampered, wrong key or aad), AK_EINVAL when too short. Results malloc'ed. */
#define AK_SEAL_KEY_LEN 32
int ak_seal(const unsigned char key[AK_SEAL_KEY_LEN], const void *plain, size_t n, const char *aad,
            unsigned char **ret, size_t *ret_len);
int ak_unseal(const unsigned char key[AK_SEAL_KEY_LEN], const unsigned char *sealed, size_t n,
              const char *aad, unsigned char **ret, size_t *ret_len);

#endif
