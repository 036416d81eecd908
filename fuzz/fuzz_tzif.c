/* fuzz_tzif.c — libFuzzer target for ak_tz_parse (TZif files, footer POSIX TZ strings) and the
 * zone arithmetic on whatever it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t when[] = {INT64_MIN, -2208988800000LL, 0, 1796835600000LL,
                                   3171484800000LL, INT64_MAX};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_tz *tz = NULL;
    char out[64];

    /* real files are under 4 KiB; ak_tz_load caps them at 256 KiB */
    if (size > 64 * 1024)
        return 0;
    if (ak_tz_parse("fuzz", data, size, &tz, &err) == 0) {
        for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
            const char *abbr = NULL;

            (void)ak_tz_offset(tz, when[i], &abbr);
            (void)strlen(abbr);
            (void)ak_tz_next_local(tz, when[i], (int)(i * 5 % 24), (int)(i * 17 % 60));
            ak_tz_fmt_short(tz, when[i], out, sizeof(out));
        }
    }
    ak_tz_free(tz);
    ak_buf_release(&err);
    return 0;
}
