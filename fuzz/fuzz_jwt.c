/* fuzz_jwt.c — libFuzzer target for ak_jwt_parse (the WebIdentityToken a CI job sends us), then
 * signature selection and the claim checks on whatever parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 7515 A.3's public key, so that ES256 tokens reach the verifier */
static const char jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a3\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ak_jwks *ks;
    static const char *const auds[] = {"sts.amazonaws.com"};
    struct ak_jwt_rules rules = {.issuer = "https://token.actions.githubusercontent.com",
                                 .audiences = auds, .n_audiences = 1,
                                 .now_ms = 1700000000000LL, .exp_leeway_s = 300,
                                 .nbf_leeway_s = 60, .max_age_s = 3600};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    enum ak_jwt_fail f;
    struct ak_jwt t;

    /* a little over the parser's own cap, so the cap itself is exercised */
    if (size > AK_JWT_MAX + 64)
        return 0;
    if (!ks && ak_jwks_parse(jwks, strlen(jwks), &ks, NULL, NULL) != 0)
        abort();
    if (ak_jwt_parse((const char *)data, size, &t, &err) == 0) {
        if (!t.header || !t.claims || !t.alg_name || t.signing_input_len >= size || err.len)
            abort();
        (void)ak_jwt_verify(&t, ks, &err);
        (void)ak_jwt_check_claims(&t, &rules, &f, &err);
        ak_jwt_release(&t);
    } else if (err.len == 0) {
        abort();
    }
    ak_buf_release(&err);
    return 0;
}
