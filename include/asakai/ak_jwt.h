/* ak_jwt.h — OIDC ID tokens: compact JWS parsing, JWKS, signature and claim checks (src/jwt/).
 *
 * Pure functions over bytes (no I/O, no logging, no globals); safe from any thread. Signatures go
 * through ak_crypto.h (OpenSSL). Rules: ../shared/docs/reference/oidc-sts.md §4.3 (what AWS STS
 * checks) and RFC 7515/7517/7519/8725. Every parser has a fuzz target (jwt, jwks).
 */
#ifndef AK_JWT_H
#define AK_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ak_crypto.h"

struct ak_buf;
struct ak_json;

#define AK_JWT_MAX 20000            /* characters: AWS's WebIdentityToken limit */
#define AK_JWKS_MAX_BYTES (256 * 1024)
#define AK_JWKS_MAX_KEYS 100        /* AWS handles at most 100 keys */

/* A parsed (not yet verified) compact JWS. Strings owned; claims borrowed from `claims`. */
struct ak_jwt {
    struct ak_json *header;      /* the decoded protected header (object) */
    struct ak_json *claims;      /* the decoded payload (object) */
    const char *alg_name;        /* header "alg" as written */
    enum ak_jws_alg alg;         /* 0 when not one of RS256..ES512 (none, HS256, PS256, ...) */
    const char *kid;             /* header "kid", NULL when absent */
    const char *iss, *sub;       /* NULL when absent or not a string */
    char **aud;                  /* "aud" as a list (a string is one element); owned */
    size_t n_aud;
    bool has_exp, has_nbf, has_iat;
    int64_t exp, nbf, iat;       /* NumericDate seconds (a fraction is truncated) */
    char *signing_input;         /* "<header b64>.<payload b64>" exactly as received */
    size_t signing_input_len;
    unsigned char *sig;          /* decoded signature */
    size_t sig_len;
};

/* Parses token (len chars, need not be NUL-terminated): exactly three base64url segments (no
 * JWE, no padding, no whitespace), header and payload JSON objects with no duplicate key, "alg"
 * a string, "crit" refused, "typ" ignored. Claims of the wrong type (exp not a number, aud not a
 * string or array of strings, sub not a string) are AK_EINVAL. AK_ETOOBIG over AK_JWT_MAX.
 * The reason goes to err (never the token itself). */
int ak_jwt_parse(const char *token, size_t len, struct ak_jwt *ret, struct ak_buf *err);
void ak_jwt_release(struct ak_jwt *t);

/* A JSON Web Key Set (opaque). */
struct ak_jwks;
/* Parses {"keys": [...]}: RSA keys (n, e) and EC keys (crv, x, y) with "use" absent or "sig";
 * other keys (kty oct/OKP, use enc, unsupported curve, RSA under 2048 bits) are skipped, not
 * fatal (counted in skipped). AK_EINVAL when not a key set or a supported key is malformed;
 * AK_ETOOBIG over AK_JWKS_MAX_BYTES or AK_JWKS_MAX_KEYS keys. */
int ak_jwks_parse(const char *json, size_t len, struct ak_jwks **ret, size_t *skipped,
                  struct ak_buf *err);
void ak_jwks_free(struct ak_jwks *ks);
size_t ak_jwks_count(const struct ak_jwks *ks);
bool ak_jwks_has_kid(const struct ak_jwks *ks, const char *kid);

/* Verifies t's signature with ks. The algorithm must be RS256..ES512 (none, HS*, PS*: AK_ESIG
 * "algorithm X is not accepted"); with a kid only that key is used (AK_ENOTFOUND when ks has no
 * such kid: the caller may refetch the JWKS once, rotation), without a kid every key whose type
 * fits is tried; a key's own "alg", when present, must equal the token's. AK_ESIG otherwise. */
int ak_jwt_verify(const struct ak_jwt *t, const struct ak_jwks *ks, struct ak_buf *err);

/* Claim rules of one OIDC provider. */
struct ak_jwt_rules {
    const char *issuer;              /* "iss" must equal it byte for byte (https://..., no slash
                                        normalisation, case-sensitive) */
    const char *const *audiences;    /* "aud" must intersect this list; a token with an aud when
                                        the list is empty is refused */
    size_t n_audiences;
    int64_t now_ms;
    int64_t exp_leeway_s;            /* after exp; AWS allows 300 */
    int64_t nbf_leeway_s;            /* before nbf / iat in the future; e.g. 60 */
    int64_t max_age_s;               /* now - iat; 0 = not checked */
};

enum ak_jwt_fail {
    AK_JWT_OK = 0,
    AK_JWT_EXPIRED,        /* exp + leeway passed (AWS: ExpiredTokenException) */
    AK_JWT_TOO_OLD,        /* iat older than max_age (AWS: ExpiredTokenException "Token too old") */
    AK_JWT_NOT_YET_VALID,  /* nbf or iat in the future beyond the leeway */
    AK_JWT_ISSUER,         /* iss differs */
    AK_JWT_AUDIENCE,       /* aud does not intersect (AWS: "Incorrect token audience") */
    AK_JWT_CLAIMS,         /* exp missing, sub missing/empty/over 255 chars */
};
/* Checks the claims of t against r: AK_OK, or AK_ESIG with *ret_fail and one sentence in err. */
int ak_jwt_check_claims(const struct ak_jwt *t, const struct ak_jwt_rules *r,
                        enum ak_jwt_fail *ret_fail, struct ak_buf *err);

#endif
