/* fuzz_pem.c — libFuzzer target for ak_cert_parse_pem (PEM X.509 from SigningCertURL fetches). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cert *c = NULL;
    static const char *const names[] = {"sns.amazonaws.com"};
    struct ak_cert_check chk = {.names = names, .n_names = 1, .now_ms = 1772800000000LL};

    /* a little over the parser's own 64 KiB cap, so the cap itself is exercised */
    if (size > 65 * 1024)
        return 0;
    ak_crypto_global_init();
    if (ak_cert_parse_pem((const char *)data, size, &c, &err) == 0) {
        /* a parsed certificate must survive every read-only use */
        (void)ak_cert_not_before(c);
        (void)ak_cert_not_after(c);
        (void)ak_cert_check(c, &chk, &err);
        (void)ak_cert_verify(c, AK_SIG_RSA_SHA256, "x", 1, (const unsigned char *)"x", 1, &err);
    }
    ak_cert_free(c);
    ak_buf_release(&err);
    return 0;
}
