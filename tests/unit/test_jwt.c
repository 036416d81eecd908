/* test_jwt.c — compact JWS parsing, JWKS, signature selection and OIDC claim checks.
 *
 * Signed fixtures (tests/data/jwt/tokens.txt, jwks.json) come from tests/data/jwt/make.py
 * (python3-cryptography, via tests/integration/jwtmint.py); claim tests build unsigned tokens
 * here, since ak_jwt_check_claims never looks at the signature.
 */
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_jwt.h"
#include "asakai/ak_util.h"
#include "ak_test.h"

#define JD "tests/data/jwt/"
#define GH_ISS "https://token.actions.githubusercontent.com"
#define GH_SUB "repo:octo-org/octo-repo:ref:refs/heads/main"

/* "<b64url(header)>.<b64url(payload)>.<b64url(sig)>"; malloc'ed. */
static char *mk_sig(const char *header, const char *payload, const char *sig)
{
    char *h = ak_base64url_encode(header, strlen(header));
    char *p = ak_base64url_encode(payload, strlen(payload));
    char *s = ak_base64url_encode(sig, strlen(sig));
    char *t = ak_xasprintf("%s.%s.%s", h, p, s);

    free(h);
    free(p);
    free(s);
    return t;
}

static char *mk(const char *header, const char *payload)
{
    return mk_sig(header, payload, "not a signature");
}

/* Parses the unsigned token built from header and payload; returns the ak_jwt_parse result. */
static int parse_mk(const char *header, const char *payload, struct ak_jwt *t, struct ak_buf *err)
{
    char *tok = mk(header, payload);
    int r = ak_jwt_parse(tok, strlen(tok), t, err);

    free(tok);
    return r;
}

/* The token named name in tokens.txt (malloc'ed), or NULL. */
static char *fixture_token(const char *name)
{
    char *text = ak_test_read_file(JD "tokens.txt", NULL), *save = NULL, *found = NULL;
    size_t nl = strlen(name);

    if (!text)
        return NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strncmp(line, name, nl) == 0 && line[nl] == ' ')
            found = ak_xstrdup(line + nl + 1);
    free(text);
    return found;
}

static struct ak_jwks *fixture_jwks(size_t *skipped)
{
    size_t n = 0;
    char *text = ak_test_read_file(JD "jwks.json", &n);
    struct ak_jwks *ks = NULL;

    if (text && ak_jwks_parse(text, n, &ks, skipped, NULL) != AK_OK)
        ks = NULL;
    free(text);
    return ks;
}

/* Parses fixture token name and verifies it against ks; returns the ak_jwt_verify result (or the
 * parse error). */
static int verify_fixture(const char *name, const struct ak_jwks *ks, struct ak_buf *err)
{
    char *tok = fixture_token(name);
    struct ak_jwt t;
    int r;

    if (!tok)
        return 99;
    r = ak_jwt_parse(tok, strlen(tok), &t, err);
    if (r == AK_OK) {
        r = ak_jwt_verify(&t, ks, err);
        ak_jwt_release(&t);
    }
    /* whatever happened, the error sentence never carries the token's signature */
    if (strstr(err->buf, strrchr(tok, '.') + 1) && strlen(strrchr(tok, '.')) > 5)
        r = 98;
    free(tok);
    return r;
}

/* ---- parsing ---- */

AK_TEST(parse_github_shaped_token)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char *tok = fixture_token("rs256_kid");
    struct ak_jwt t;

    AK_ASSERT(tok != NULL);
    AK_ASSERT_OK(ak_jwt_parse(tok, strlen(tok), &t, &err));
    AK_ASSERT_STR(t.alg_name, "RS256");
    AK_ASSERT_EQ_INT(t.alg, AK_JWS_RS256);
    AK_ASSERT_STR(t.kid, "rsa1");
    AK_ASSERT_STR(t.iss, GH_ISS);
    AK_ASSERT_STR(t.sub, GH_SUB);
    AK_ASSERT_EQ_INT(t.n_aud, 1);
    AK_ASSERT_STR(t.aud[0], "sts.amazonaws.com");
    AK_ASSERT(t.has_exp && t.has_nbf && t.has_iat);
    AK_ASSERT_EQ_INT(t.exp, 1700000300);
    AK_ASSERT_EQ_INT(t.nbf, 1699999400);
    AK_ASSERT_EQ_INT(t.iat, 1700000000);
    AK_ASSERT_EQ_INT(t.sig_len, 256);
    AK_ASSERT_EQ_INT(t.signing_input_len, (size_t)(strrchr(tok, '.') - tok));
    AK_ASSERT(memcmp(t.signing_input, tok, t.signing_input_len) == 0);
    AK_ASSERT_STR(ak_json_get_str(t.claims, "repository_owner_id"), "65");
    ak_jwt_release(&t);
    ak_jwt_release(&t); /* released twice is harmless */
    /* not NUL-terminated: the length is what counts */
    {
        size_t n = strlen(tok);
        char *copy = ak_xmalloc(n + 5);

        memcpy(copy, tok, n);
        memcpy(copy + n, "XXXXX", 5);
        AK_ASSERT_OK(ak_jwt_parse(copy, n, &t, NULL));
        ak_jwt_release(&t);
        free(copy);
    }
    free(tok);
    ak_buf_release(&err);
}

AK_TEST(parse_needs_three_segments)
{
    static const char *const bad[] = {
        "", ".", "..", "...", "eyJhbGciOiJSUzI1NiJ9", "eyJhbGciOiJSUzI1NiJ9.e30",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln.c2ln", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln.c2ln.c2ln",
        ".e30.c2ln", "eyJhbGciOiJSUzI1NiJ9..c2ln",
    };
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwt t;

    for (size_t i = 0; i < AK_ARRAY_SIZE(bad); i++) {
        ak_buf_reset(&err);
        memset(&t, 0x5a, sizeof(t));
        AK_ASSERT_EQ_INT(ak_jwt_parse(bad[i], strlen(bad[i]), &t, &err), AK_EINVAL);
        AK_ASSERT(err.len > 0);
        AK_ASSERT_EQ_INT(((unsigned char *)&t)[0], 0x5a); /* untouched on failure */
    }
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_jwt_parse(bad[7], strlen(bad[7]), &t, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "JWE");
    /* the empty signature of an unsecured JWS parses (verify refuses it) */
    AK_ASSERT_OK(ak_jwt_parse("eyJhbGciOiJub25lIn0.e30.", 24, &t, NULL));
    AK_ASSERT_EQ_INT(t.sig_len, 0);
    AK_ASSERT_EQ_INT(t.alg, 0);
    AK_ASSERT_STR(t.alg_name, "none");
    ak_jwt_release(&t);
    AK_ASSERT_EQ_INT(ak_jwt_parse(NULL, 0, &t, NULL), AK_EINVAL);
    ak_buf_release(&err);
}

AK_TEST(parse_refuses_padding_and_whitespace)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char *tok = fixture_token("es256_kid");
    size_t n, d1, d2;
    struct ak_jwt t;

    AK_ASSERT(tok != NULL);
    n = strlen(tok);
    d1 = (size_t)(strchr(tok, '.') - tok);
    d2 = (size_t)(strrchr(tok, '.') - tok);
    AK_ASSERT_OK(ak_jwt_parse(tok, n, &t, NULL));
    ak_jwt_release(&t);
    /* a character inserted at each interesting place: each is refused */
    {
        static const char ins[] = {'=', ' ', '\n', '\t', '+', '/', '\r', '\0'};
        size_t at[] = {0, 1, d1, d1 + 1, d2, d2 + 1, n};

        for (size_t i = 0; i < AK_ARRAY_SIZE(ins); i++)
            for (size_t j = 0; j < AK_ARRAY_SIZE(at); j++) {
                char *c = ak_xmalloc(n + 2);

                memcpy(c, tok, at[j]);
                c[at[j]] = ins[i];
                memcpy(c + at[j] + 1, tok + at[j], n - at[j]);
                AK_ASSERT_EQ_INT(ak_jwt_parse(c, n + 1, &t, NULL), AK_EINVAL);
                free(c);
            }
    }
    /* padded header: {"alg":"ES256"} is 15 bytes -> "...fQ" + "==" */
    {
        char *c = mk("{\"alg\":\"ES256\"}", "{}");
        size_t d = strcspn(c, ".");
        char *p = ak_xmalloc(strlen(c) + 3);

        memcpy(p, c, d);
        memcpy(p + d, "==", 2);
        memcpy(p + d + 2, c + d, strlen(c) - d + 1);

        AK_ASSERT_OK(ak_jwt_parse(c, strlen(c), &t, NULL));
        ak_jwt_release(&t);
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(ak_jwt_parse(p, strlen(p), &t, &err), AK_EINVAL);
        AK_ASSERT_CONTAINS(err.buf, "header is not unpadded base64url");
        free(c);
        free(p);
    }
    free(tok);
    ak_buf_release(&err);
}

AK_TEST(parse_header_rules)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwt t;

    /* duplicate keys in header and payload (the alg-switch and claim-shadow tricks) */
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\",\"alg\":\"none\"}", "{}", &t, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "header is not valid JSON");
    AK_ASSERT_CONTAINS(err.buf, "duplicate");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\"}", "{\"sub\":\"a\",\"sub\":\"b\"}", &t, &err),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "payload is not valid JSON");
    /* crit, in any form */
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}", "{}", &t, &err),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "crit");
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\",\"crit\":[]}", "{}", &t, NULL), AK_EINVAL);
    /* alg must be a string; kid a string when present; header an object */
    AK_ASSERT_EQ_INT(parse_mk("{}", "{}", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":256}", "{}", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":null}", "{}", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\",\"kid\":1}", "{}", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("[\"RS256\"]", "{}", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\"}", "[]", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\"}", "\"x\"", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\"} x", "{}", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(parse_mk("{\"alg\":\"RS256\"}", "", &t, NULL), AK_EINVAL);
    /* typ is ignored whatever it holds; an unknown alg parses as 0 */
    AK_ASSERT_OK(parse_mk("{\"alg\":\"HS256\",\"typ\":5}", "{}", &t, NULL));
    AK_ASSERT_EQ_INT(t.alg, 0);
    AK_ASSERT_STR(t.alg_name, "HS256");
    AK_ASSERT_NULL(t.kid);
    AK_ASSERT_NULL(t.iss);
    AK_ASSERT_NULL(t.sub);
    AK_ASSERT(!t.has_exp && !t.has_nbf && !t.has_iat);
    AK_ASSERT_EQ_INT(t.n_aud, 0);
    ak_jwt_release(&t);
    ak_buf_release(&err);
}

AK_TEST(parse_claim_types)
{
    static const char *const bad[] = {
        "{\"aud\":5}", "{\"aud\":[\"a\",1]}", "{\"aud\":{}}", "{\"aud\":null}", "{\"aud\":[[]]}",
        "{\"exp\":\"1700000000\"}", "{\"exp\":true}", "{\"exp\":null}", "{\"nbf\":[]}",
        "{\"iat\":{}}", "{\"exp\":1e300}", "{\"exp\":-1e300}", "{\"exp\":253402300800}",
        "{\"sub\":5}", "{\"sub\":null}", "{\"sub\":[\"a\"]}",
    };
    const char *h = "{\"alg\":\"RS256\"}";
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwt t;

    for (size_t i = 0; i < AK_ARRAY_SIZE(bad); i++) {
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(parse_mk(h, bad[i], &t, &err), AK_EINVAL);
        AK_ASSERT(err.len > 0);
    }
    AK_ASSERT_OK(parse_mk(h, "{\"aud\":\"x\"}", &t, NULL));
    AK_ASSERT_EQ_INT(t.n_aud, 1);
    AK_ASSERT_STR(t.aud[0], "x");
    ak_jwt_release(&t);
    AK_ASSERT_OK(parse_mk(h, "{\"aud\":[\"a\",\"b\",\"\"]}", &t, NULL));
    AK_ASSERT_EQ_INT(t.n_aud, 3);
    AK_ASSERT_STR(t.aud[1], "b");
    AK_ASSERT_STR(t.aud[2], "");
    ak_jwt_release(&t);
    AK_ASSERT_OK(parse_mk(h, "{\"aud\":[]}", &t, NULL));
    AK_ASSERT_EQ_INT(t.n_aud, 0);
    ak_jwt_release(&t);
    /* NumericDate as a float: the fraction is truncated */
    AK_ASSERT_OK(parse_mk(h, "{\"exp\":1700000300.9,\"nbf\":1.7e9,\"iat\":-1.5}", &t, NULL));
    AK_ASSERT(t.has_exp && t.has_nbf && t.has_iat);
    AK_ASSERT_EQ_INT(t.exp, 1700000300);
    AK_ASSERT_EQ_INT(t.nbf, 1700000000);
    AK_ASSERT_EQ_INT(t.iat, -1);
    ak_jwt_release(&t);
    AK_ASSERT_OK(parse_mk(h, "{\"exp\":253402300799}", &t, NULL));
    AK_ASSERT_EQ_INT(t.exp, 253402300799LL);
    ak_jwt_release(&t);
    /* iss of another type is "absent" (the claim check then refuses it) */
    AK_ASSERT_OK(parse_mk(h, "{\"iss\":5,\"sub\":\"\"}", &t, NULL));
    AK_ASSERT_NULL(t.iss);
    AK_ASSERT_STR(t.sub, "");
    ak_jwt_release(&t);
    ak_buf_release(&err);
}

/* A token of exactly len characters: header, a filler claim, and a signature segment. */
static char *token_of_len(size_t len)
{
    size_t start = len * 3 / 4 > 100 ? len * 3 / 4 - 100 : 0;

    for (size_t fill = start; fill < len; fill++)
        for (size_t sig = 1; sig < 8; sig++) {
            char *payload = ak_xasprintf("{\"x\":\"%*s\"}", (int)fill, "");
            char *s = ak_xasprintf("%.*s", (int)sig, "sssssss");
            char *t = mk_sig("{\"alg\":\"RS256\"}", payload, s);
            size_t n = strlen(t);

            free(payload);
            free(s);
            if (n == len)
                return t;
            free(t);
        }
    return NULL;
}

AK_TEST(parse_size_cap)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char *at = token_of_len(AK_JWT_MAX), *over = token_of_len(AK_JWT_MAX + 1);
    struct ak_jwt t;

    AK_ASSERT(at && over);
    AK_ASSERT_OK(ak_jwt_parse(at, strlen(at), &t, NULL));
    ak_jwt_release(&t);
    AK_ASSERT_EQ_INT(ak_jwt_parse(over, strlen(over), &t, &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "20001 characters");
    free(at);
    free(over);
    ak_buf_release(&err);
}

/* ---- JWKS ---- */

AK_TEST(jwks_fixture_keys_and_skips)
{
    size_t skipped = 99;
    struct ak_jwks *ks = fixture_jwks(&skipped);

    AK_ASSERT(ks != NULL);
    /* rsa1, rsa2, ec1, ec384; skipped: oct, OKP, use=enc, RSA-1024, secp256k1 */
    AK_ASSERT_EQ_INT(ak_jwks_count(ks), 4);
    AK_ASSERT_EQ_INT(skipped, 5);
    AK_ASSERT(ak_jwks_has_kid(ks, "rsa1"));
    AK_ASSERT(ak_jwks_has_kid(ks, "rsa2"));
    AK_ASSERT(ak_jwks_has_kid(ks, "ec1"));
    AK_ASSERT(ak_jwks_has_kid(ks, "ec384"));
    AK_ASSERT(!ak_jwks_has_kid(ks, "hmac"));
    AK_ASSERT(!ak_jwks_has_kid(ks, "rsa-enc"));
    AK_ASSERT(!ak_jwks_has_kid(ks, "rsa-small"));
    AK_ASSERT(!ak_jwks_has_kid(ks, "RSA1"));
    AK_ASSERT(!ak_jwks_has_kid(ks, NULL));
    AK_ASSERT(!ak_jwks_has_kid(NULL, "rsa1"));
    AK_ASSERT_EQ_INT(ak_jwks_count(NULL), 0);
    ak_jwks_free(ks);
    ak_jwks_free(NULL);
}

/* An RFC 7515 A.3 EC JWK with the given members appended (for malformed-key cases). */
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"

AK_TEST(jwks_malformed)
{
    static const char *const bad[] = {
        "", "[]", "{}", "{\"keys\":{}}", "{\"keys\":null}", "{\"keys\":[1]}", "{\"keys\":[{}]}",
        "{\"keys\":[{\"kty\":5}]}", "{\"keys\":[],\"keys\":[]}", "{\"keys\":[]} x",
        "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQ==\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_X "\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "=\",\"y\":\"" A3_Y "\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\","
        "\"kid\":7}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\","
        "\"use\":1}]}",
    };
    static const char good[] =
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\","
        "\"kid\":\"a3\",\"use\":\"sig\",\"alg\":\"ES256\",\"d\":\"ignored\"}],\"extra\":1}";
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwks *ks = NULL;
    size_t skipped = 7;

    for (size_t i = 0; i < AK_ARRAY_SIZE(bad); i++) {
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(ak_jwks_parse(bad[i], strlen(bad[i]), &ks, &skipped, &err), AK_EINVAL);
        AK_ASSERT_NULL(ks);
        AK_ASSERT(err.len > 0);
        AK_ASSERT_EQ_INT(skipped, 7);
    }
    AK_ASSERT_OK(ak_jwks_parse(good, strlen(good), &ks, &skipped, NULL));
    AK_ASSERT_EQ_INT(ak_jwks_count(ks), 1);
    AK_ASSERT_EQ_INT(skipped, 0);
    AK_ASSERT(ak_jwks_has_kid(ks, "a3"));
    ak_jwks_free(ks);
    /* an empty set is a set */
    AK_ASSERT_OK(ak_jwks_parse("{\"keys\":[]}", 11, &ks, NULL, NULL));
    AK_ASSERT_EQ_INT(ak_jwks_count(ks), 0);
    ak_jwks_free(ks);
    ak_buf_release(&err);
}

AK_TEST(jwks_caps)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX), err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwks *ks = NULL;
    size_t skipped = 0;

    for (int n = 100; n <= 101; n++) {
        ak_buf_reset(&b);
        ak_buf_add(&b, "{\"keys\":[");
        for (int i = 0; i < n; i++)
            ak_buf_addf(&b, "%s{\"kty\":\"oct\",\"k\":\"AA\"}", i ? "," : "");
        ak_buf_add(&b, "]}");
        ak_buf_reset(&err);
        if (n == 100) {
            AK_ASSERT_OK(ak_jwks_parse(b.buf, b.len, &ks, &skipped, &err));
            AK_ASSERT_EQ_INT(skipped, 100);
            AK_ASSERT_EQ_INT(ak_jwks_count(ks), 0);
            ak_jwks_free(ks);
            ks = NULL;
        } else {
            AK_ASSERT_EQ_INT(ak_jwks_parse(b.buf, b.len, &ks, &skipped, &err), AK_ETOOBIG);
            AK_ASSERT_CONTAINS(err.buf, "101 keys");
        }
    }
    /* bytes: exactly the cap parses (whitespace padded), one more does not */
    ak_buf_reset(&b);
    ak_buf_add(&b, "{\"keys\":[]}");
    while (b.len < AK_JWKS_MAX_BYTES)
        ak_buf_addc(&b, ' ');
    AK_ASSERT_OK(ak_jwks_parse(b.buf, b.len, &ks, NULL, NULL));
    ak_jwks_free(ks);
    ks = NULL;
    ak_buf_addc(&b, ' ');
    AK_ASSERT_EQ_INT(ak_jwks_parse(b.buf, b.len, &ks, NULL, NULL), AK_ETOOBIG);
    AK_ASSERT_NULL(ks);
    ak_buf_release(&b);
    ak_buf_release(&err);
}

/* ---- signature verification ---- */

AK_TEST(verify_selects_key_by_kid)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwks *ks = fixture_jwks(NULL);

    AK_ASSERT(ks != NULL);
    AK_ASSERT_OK(verify_fixture("rs256_kid", ks, &err));
    AK_ASSERT_OK(verify_fixture("es256_kid", ks, &err));
    AK_ASSERT_OK(verify_fixture("es384_kid", ks, &err));
    AK_ASSERT_OK(verify_fixture("rs512_rsa2", ks, &err));
    AK_ASSERT_EQ_INT(err.len, 0);
    /* an unknown kid is "not found", so the caller can refetch the JWKS once */
    AK_ASSERT_EQ_INT(verify_fixture("unknown_kid", ks, &err), AK_ENOTFOUND);
    AK_ASSERT_CONTAINS(err.buf, "no key with the token's kid");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(verify_fixture("kid_of_skipped", ks, &err), AK_ENOTFOUND);
    /* right kid, wrong key (a rotated or forged signer) */
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(verify_fixture("wrong_key_same_kid", ks, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "does not verify");
    ak_jwks_free(ks);
    ak_buf_release(&err);
}

AK_TEST(verify_without_kid_tries_fitting_keys)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwks *ks = fixture_jwks(NULL), *ec_only = NULL;
    static const char ec_set[] =
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}]}";

    AK_ASSERT(ks != NULL);
    AK_ASSERT_OK(verify_fixture("rs256_nokid", ks, &err));
    AK_ASSERT_OK(verify_fixture("es256_nokid", ks, &err));
    AK_ASSERT_EQ_INT(verify_fixture("wrong_key_nokid", ks, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "the one fitting key"); /* rsa2 is RS512-only */
    AK_ASSERT_OK(ak_jwks_parse(ec_set, strlen(ec_set), &ec_only, NULL, NULL));
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(verify_fixture("rs256_nokid", ec_only, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "No key in the key set fits the token's algorithm RS256");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(verify_fixture("es256_nokid", ec_only, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "does not verify");
    ak_jwks_free(ec_only);
    ak_jwks_free(ks);
    ak_buf_release(&err);
}

AK_TEST(verify_refuses_none_hs256_ps256)
{
    static const char *const names[] = {"none", "none_kid", "hs256_pem", "hs256_jwk", "ps256"};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwks *ks = fixture_jwks(NULL);

    AK_ASSERT(ks != NULL);
    for (size_t i = 0; i < AK_ARRAY_SIZE(names); i++) {
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(verify_fixture(names[i], ks, &err), AK_ESIG);
        AK_ASSERT_CONTAINS(err.buf, "is not accepted");
    }
    AK_ASSERT_CONTAINS(err.buf, "\"PS256\"");
    /* the forgery is a real HMAC over the signing input: 32 bytes */
    {
        char *tok = fixture_token("hs256_pem");
        struct ak_jwt t;

        AK_ASSERT_OK(ak_jwt_parse(tok, strlen(tok), &t, NULL));
        AK_ASSERT_EQ_INT(t.sig_len, 32);
        AK_ASSERT_STR(t.kid, "rsa1");
        ak_jwt_release(&t);
        free(tok);
    }
    ak_jwks_free(ks);
    ak_buf_release(&err);
}

AK_TEST(verify_key_must_fit_alg)
{
    static const char *const names[] = {"rs256_rsa2_alg_mismatch", "rs256_kid_ec1",
                                        "es256_kid_rsa1", "es256_kid_ec384"};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwks *ks = fixture_jwks(NULL);

    AK_ASSERT(ks != NULL);
    for (size_t i = 0; i < AK_ARRAY_SIZE(names); i++) {
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(verify_fixture(names[i], ks, &err), AK_ESIG);
        AK_ASSERT_CONTAINS(err.buf, "No key with the token's kid fits");
    }
    ak_jwks_free(ks);
    ak_buf_release(&err);
}

/* ---- claims ---- */

static const char *const auds[] = {"sts.amazonaws.com", "https://github.com/octo-org"};

static struct ak_jwt_rules rules(int64_t now_s)
{
    struct ak_jwt_rules r = {
        .issuer = GH_ISS, .audiences = auds, .n_audiences = 2, .now_ms = now_s * 1000,
        .exp_leeway_s = 300, .nbf_leeway_s = 60, .max_age_s = 3600,
    };
    return r;
}

/* Checks payload against r: returns the fail code (AK_JWT_OK when it passes), or -1 when the
 * return value and the fail code disagree, -2 when the token does not parse. */
static int check(const char *payload, const struct ak_jwt_rules *r)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    enum ak_jwt_fail f = 77;
    struct ak_jwt t;
    int rc;

    if (parse_mk("{\"alg\":\"RS256\"}", payload, &t, NULL) != AK_OK)
        return -2;
    rc = ak_jwt_check_claims(&t, r, &f, &err);
    ak_jwt_release(&t);
    if ((rc == AK_OK) != (f == AK_JWT_OK) || (rc != AK_OK && rc != AK_ESIG) ||
        (rc == AK_ESIG && err.len == 0))
        f = (enum ak_jwt_fail)-1;
    ak_buf_release(&err);
    return (int)f;
}

#define CLAIMS(extra)                                                                              \
    "{\"iss\":\"" GH_ISS "\",\"sub\":\"" GH_SUB "\",\"aud\":\"sts.amazonaws.com\"" extra "}"
#define TIMES ",\"iat\":1700000000,\"nbf\":1699999400,\"exp\":1700000300"

AK_TEST(claims_ok_and_expiry_boundary)
{
    struct ak_jwt_rules r = rules(1700000000);

    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_OK);
    /* exp 1700000300 + 300 s leeway: valid until the millisecond before 1700000600 */
    r.now_ms = 1700000600LL * 1000 - 1;
    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_OK);
    r.now_ms = 1700000600LL * 1000;
    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_EXPIRED);
    /* a float exp is truncated: the same boundary */
    r.now_ms = 1700000600LL * 1000 - 1;
    AK_ASSERT_EQ_INT(check(CLAIMS(",\"iat\":1700000000,\"exp\":1700000300.99"), &r), AK_JWT_OK);
    r.now_ms = 1700000600LL * 1000;
    AK_ASSERT_EQ_INT(check(CLAIMS(",\"iat\":1700000000,\"exp\":1700000300.99"), &r),
                     AK_JWT_EXPIRED);
    /* no leeway: exp itself is already too late */
    r.exp_leeway_s = 0;
    r.now_ms = 1700000300LL * 1000 - 1;
    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_OK);
    r.now_ms = 1700000300LL * 1000;
    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_EXPIRED);
    /* a negative leeway counts as none */
    r.exp_leeway_s = -100;
    r.now_ms = 1700000300LL * 1000 - 1;
    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_OK);
}

AK_TEST(claims_not_yet_valid_boundaries)
{
    struct ak_jwt_rules r = rules(0);
    const char *nbf = CLAIMS(",\"iat\":1699990000,\"nbf\":1700000000,\"exp\":1700000300");
    const char *iat = CLAIMS(",\"iat\":1700000000,\"exp\":1700000300");

    /* nbf 1700000000 - 60 s leeway: valid from exactly 1699999940 */
    r.max_age_s = 0;
    r.now_ms = 1699999940LL * 1000;
    AK_ASSERT_EQ_INT(check(nbf, &r), AK_JWT_OK);
    r.now_ms = 1699999940LL * 1000 - 1;
    AK_ASSERT_EQ_INT(check(nbf, &r), AK_JWT_NOT_YET_VALID);
    /* iat in the future, same rule */
    r.now_ms = 1699999940LL * 1000;
    AK_ASSERT_EQ_INT(check(iat, &r), AK_JWT_OK);
    r.now_ms = 1699999940LL * 1000 - 1;
    AK_ASSERT_EQ_INT(check(iat, &r), AK_JWT_NOT_YET_VALID);
    /* no leeway */
    r.nbf_leeway_s = 0;
    r.now_ms = 1700000000LL * 1000 - 1;
    AK_ASSERT_EQ_INT(check(nbf, &r), AK_JWT_NOT_YET_VALID);
    r.now_ms = 1700000000LL * 1000;
    AK_ASSERT_EQ_INT(check(nbf, &r), AK_JWT_OK);
}

AK_TEST(claims_max_age_boundary)
{
    struct ak_jwt_rules r = rules(0);
    const char *p = CLAIMS(",\"iat\":1700000000,\"exp\":1700009000");

    /* iat 1700000000, max age 3600 s: exactly 3600 s old passes, one ms more does not */
    r.now_ms = 1700003600LL * 1000;
    AK_ASSERT_EQ_INT(check(p, &r), AK_JWT_OK);
    r.now_ms = 1700003600LL * 1000 + 1;
    AK_ASSERT_EQ_INT(check(p, &r), AK_JWT_TOO_OLD);
    /* max_age 0 = not checked, also without iat */
    r.max_age_s = 0;
    AK_ASSERT_EQ_INT(check(p, &r), AK_JWT_OK);
    AK_ASSERT_EQ_INT(check(CLAIMS(",\"exp\":1700009000"), &r), AK_JWT_OK);
    /* with max_age set, a token without iat cannot prove its age */
    r.max_age_s = 3600;
    AK_ASSERT_EQ_INT(check(CLAIMS(",\"exp\":1700009000"), &r), AK_JWT_CLAIMS);
}

AK_TEST(claims_issuer_exact_match)
{
    struct ak_jwt_rules r = rules(1700000000);
    const char *tail = "\",\"sub\":\"s\",\"aud\":\"sts.amazonaws.com\"" TIMES "}";
    static const char *const other[] = {
        GH_ISS "/", "https://TOKEN.actions.githubusercontent.com", "http://token.actions."
        "githubusercontent.com", GH_ISS "/enterprise", " " GH_ISS, "",
    };

    for (size_t i = 0; i < AK_ARRAY_SIZE(other); i++) {
        char *p = ak_xasprintf("{\"iss\":\"%s%s", other[i], tail);

        AK_ASSERT_EQ_INT(check(p, &r), AK_JWT_ISSUER);
        free(p);
    }
    AK_ASSERT_EQ_INT(check("{\"sub\":\"s\",\"aud\":\"sts.amazonaws.com\"" TIMES "}", &r),
                     AK_JWT_ISSUER);
    AK_ASSERT_EQ_INT(check("{\"iss\":5,\"sub\":\"s\",\"aud\":\"sts.amazonaws.com\"" TIMES "}", &r),
                     AK_JWT_ISSUER);
    /* no issuer configured: nothing matches */
    r.issuer = NULL;
    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_ISSUER);
}

AK_TEST(claims_audience)
{
    struct ak_jwt_rules r = rules(1700000000);
    const char *pre = "{\"iss\":\"" GH_ISS "\",\"sub\":\"s\"" TIMES;

    AK_ASSERT_EQ_INT(check(CLAIMS(TIMES), &r), AK_JWT_OK);
    {
        char *a = ak_xasprintf("%s,\"aud\":[\"x\",\"https://github.com/octo-org\"]}", pre);
        char *b = ak_xasprintf("%s,\"aud\":[\"x\",\"STS.amazonaws.com\"]}", pre);
        char *c = ak_xasprintf("%s,\"aud\":[]}", pre);
        char *d = ak_xasprintf("%s}", pre);
        char *e = ak_xasprintf("%s,\"aud\":\"sts.amazonaws.com \"}", pre);

        AK_ASSERT_EQ_INT(check(a, &r), AK_JWT_OK);
        AK_ASSERT_EQ_INT(check(b, &r), AK_JWT_AUDIENCE);
        AK_ASSERT_EQ_INT(check(c, &r), AK_JWT_AUDIENCE);
        AK_ASSERT_EQ_INT(check(d, &r), AK_JWT_AUDIENCE);
        AK_ASSERT_EQ_INT(check(e, &r), AK_JWT_AUDIENCE);
        /* none configured: a token with any aud (even []) is refused, one without passes */
        r.n_audiences = 0;
        AK_ASSERT_EQ_INT(check(a, &r), AK_JWT_AUDIENCE);
        AK_ASSERT_EQ_INT(check(c, &r), AK_JWT_AUDIENCE);
        AK_ASSERT_EQ_INT(check(d, &r), AK_JWT_OK);
        free(a);
        free(b);
        free(c);
        free(d);
        free(e);
    }
}

AK_TEST(claims_required_exp_and_sub)
{
    struct ak_jwt_rules r = rules(1700000000);
    struct ak_buf sub = AK_BUF_INIT(AK_BUF_NOMAX);
    char *p;

    AK_ASSERT_EQ_INT(check(CLAIMS(",\"iat\":1700000000"), &r), AK_JWT_CLAIMS);
    AK_ASSERT_EQ_INT(check("{\"iss\":\"" GH_ISS "\",\"aud\":\"sts.amazonaws.com\"" TIMES "}", &r),
                     AK_JWT_CLAIMS);
    AK_ASSERT_EQ_INT(
        check("{\"iss\":\"" GH_ISS "\",\"sub\":\"\",\"aud\":\"sts.amazonaws.com\"" TIMES "}", &r),
        AK_JWT_CLAIMS);
    /* 255 characters pass, 256 do not; characters, not bytes (é is two bytes) */
    for (int i = 0; i < 255; i++)
        ak_buf_addc(&sub, 'a');
    p = ak_xasprintf("{\"iss\":\"" GH_ISS "\",\"sub\":\"%s\",\"aud\":\"sts.amazonaws.com\"" TIMES
                     "}", sub.buf);
    AK_ASSERT_EQ_INT(check(p, &r), AK_JWT_OK);
    free(p);
    ak_buf_addc(&sub, 'a');
    p = ak_xasprintf("{\"iss\":\"" GH_ISS "\",\"sub\":\"%s\",\"aud\":\"sts.amazonaws.com\"" TIMES
                     "}", sub.buf);
    AK_ASSERT_EQ_INT(check(p, &r), AK_JWT_CLAIMS);
    free(p);
    ak_buf_reset(&sub);
    for (int i = 0; i < 255; i++)
        ak_buf_add(&sub, "\xc3\xa9");
    p = ak_xasprintf("{\"iss\":\"" GH_ISS "\",\"sub\":\"%s\",\"aud\":\"sts.amazonaws.com\"" TIMES
                     "}", sub.buf);
    AK_ASSERT_EQ_INT(check(p, &r), AK_JWT_OK);
    free(p);
    ak_buf_release(&sub);
    /* the error sentence and NULL-safety */
    {
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        struct ak_jwt t;

        AK_ASSERT_OK(parse_mk("{\"alg\":\"RS256\"}", CLAIMS(TIMES), &t, NULL));
        r.now_ms = 1800000000LL * 1000;
        AK_ASSERT_EQ_INT(ak_jwt_check_claims(&t, &r, NULL, &err), AK_ESIG);
        AK_ASSERT_STR(err.buf, "The token has expired.");
        AK_ASSERT_EQ_INT(ak_jwt_check_claims(NULL, &r, NULL, NULL), AK_EINVAL);
        ak_jwt_release(&t);
        ak_buf_release(&err);
    }
}

AK_TEST(claims_ci_provider_shapes)
{
    /* oidc-sts.md §5: CircleCI (per-org issuer, aud = org id, 1 h), GitLab (string numbers) */
    struct ak_jwt_rules r = {
        .issuer = "https://oidc.circleci.com/org/0b0e4a5c-7d52-4fd9-a4a2-000000000000",
        .audiences = (const char *const[]){"0b0e4a5c-7d52-4fd9-a4a2-000000000000"},
        .n_audiences = 1, .now_ms = 1700001800LL * 1000, .exp_leeway_s = 300,
        .nbf_leeway_s = 60, .max_age_s = 3600,
    };
    const char *circle =
        "{\"iss\":\"https://oidc.circleci.com/org/0b0e4a5c-7d52-4fd9-a4a2-000000000000\","
        "\"sub\":\"org/0b0e4a5c-7d52-4fd9-a4a2-000000000000/project/p/user/u\","
        "\"aud\":\"0b0e4a5c-7d52-4fd9-a4a2-000000000000\",\"iat\":1700000000,\"exp\":1700003600,"
        "\"oidc.circleci.com/context-ids\":[\"c1\"],\"oidc.circleci.com/ssh-rerun\":false}";
    const char *gitlab =
        "{\"namespace_id\":\"72\",\"project_id\":\"20\",\"runner_id\":1,"
        "\"ref_protected\":\"false\",\"jti\":\"235b3a54\",\"iss\":\"https://gitlab.example.com\","
        "\"iat\":1681395193,\"nbf\":1681395188,\"exp\":1681398793,"
        "\"sub\":\"project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1\","
        "\"aud\":\"https://vault.example.com\"}";

    AK_ASSERT_EQ_INT(check(circle, &r), AK_JWT_OK);
    r.issuer = "https://gitlab.example.com";
    r.audiences = (const char *const[]){"https://vault.example.com"};
    r.now_ms = 1681395193LL * 1000;
    AK_ASSERT_EQ_INT(check(gitlab, &r), AK_JWT_OK);
    r.now_ms = (1681398793LL + 300) * 1000;
    AK_ASSERT_EQ_INT(check(gitlab, &r), AK_JWT_EXPIRED);
}

AK_TEST_MAIN(AK_T(parse_github_shaped_token), AK_T(parse_needs_three_segments),
             AK_T(parse_refuses_padding_and_whitespace), AK_T(parse_header_rules),
             AK_T(parse_claim_types), AK_T(parse_size_cap), AK_T(jwks_fixture_keys_and_skips),
             AK_T(jwks_malformed), AK_T(jwks_caps), AK_T(verify_selects_key_by_kid),
             AK_T(verify_without_kid_tries_fitting_keys), AK_T(verify_refuses_none_hs256_ps256),
             AK_T(verify_key_must_fit_alg), AK_T(claims_ok_and_expiry_boundary),
             AK_T(claims_not_yet_valid_boundaries), AK_T(claims_max_age_boundary),
             AK_T(claims_issuer_exact_match), AK_T(claims_audience),
             AK_T(claims_required_exp_and_sub), AK_T(claims_ci_provider_shapes))
