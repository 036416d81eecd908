/* fuzz_sns.c — libFuzzer target for ak_sns_parse and ak_sns_string_to_sign (SNS HTTP bodies come
 * from anyone who can reach the endpoint, before any signature check). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf sts = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_sns_msg m = {0};

    if (size > 1024 * 1024)
        return 0;
    (void)ak_sns_looks_like((const char *)data, size);
    if (ak_sns_parse((const char *)data, size, &m, &err) == 0) {
        /* a parsed envelope always has what the string-to-sign needs */
        if (err.len != 0 || !m.region || !m.account || ak_sns_string_to_sign(&m, &sts) != 0)
            abort();
        if (sts.len < m.message_len)
            abort();
        ak_sns_msg_release(&m);
    } else if (err.len == 0 || m.message) {
        abort(); /* a failure says why and leaves m untouched */
    }
    ak_buf_release(&sts);
    ak_buf_release(&err);
    return 0;
}
