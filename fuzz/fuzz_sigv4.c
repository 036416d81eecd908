/* fuzz_sigv4.c — libFuzzer target for ak_aws_auth_parse (the Authorization header of a signed
 * request reaching the STS twin is outside input from anyone who can connect). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_aws.h"
#include "asakai/ak_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_aws_auth a;
    char *s;

    if (size > 8 * 1024)
        return 0;
    s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    memset(&a, 0, sizeof(a));
    if (ak_aws_auth_parse(s, &a, &err) < 0) {
        if (err.len == 0)
            abort(); /* a failure says why */
    } else if (strlen(a.signature) != 64 || !a.akid[0] || strlen(a.date) != 8 ||
               !a.region[0] || !a.service[0] || !a.signed_headers[0]) {
        abort(); /* success fills every part */
    }
    free(s);
    ak_buf_release(&err);
    return 0;
}
