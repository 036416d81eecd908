/* fuzz_jwks.c — libFuzzer target for ak_jwks_parse (an OIDC provider's jwks_uri document), then
 * kid lookup and a verification with every key that parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 7515 A.3 (ES256) without a kid: every EC P-256 key of the fuzzed set is tried */
static const char token[] =
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
    "bS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxf"
    "KTUJqPP3-Kg6NU1Q";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_jwks *ks = NULL;
    size_t skipped = 0;
    struct ak_jwt t;

    if (size > AK_JWKS_MAX_BYTES + 64)
        return 0;
    if (ak_jwks_parse((const char *)data, size, &ks, &skipped, &err) == 0) {
        if (err.len || ak_jwks_count(ks) + skipped > AK_JWKS_MAX_KEYS)
            abort();
        (void)ak_jwks_has_kid(ks, "a3");
        if (ak_jwt_parse(token, strlen(token), &t, NULL) != 0)
            abort();
        (void)ak_jwt_verify(&t, ks, &err);
        ak_jwt_release(&t);
        ak_jwks_free(ks);
    } else if (err.len == 0 || ks) {
        abort();
    }
    ak_buf_release(&err);
    return 0;
}
