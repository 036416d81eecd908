/* fuzz_time.c — the timestamp parser and the duration/size parsers on arbitrary strings. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "asakai/ak_time.h"
#include "asakai/ak_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[128];
    int64_t ms;
    uint64_t v;

    if (size >= sizeof(s))
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    if (ak_time_parse(s, &ms) == 0) {
        char out[AK_TIME_RFC3339_LEN];
        ak_time_fmt_rfc3339(ms, out, sizeof(out));
    }
    (void)ak_parse_duration_ms(s, &ms);
    (void)ak_parse_size(s, &v);
    (void)ak_parse_u64(s, 0, UINT64_MAX, &v);
    return 0;
}
