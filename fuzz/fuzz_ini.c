/* fuzz_ini.c — libFuzzer target for ak_aws_ini_parse (shared credentials/config files are
 * outside input: anything a user or a tool wrote into ~/.aws). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_aws.h"
#include "asakai/ak_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cb(void *ud, const char *section, const char *key, const char *value)
{
    (void)value;
    /* every property has a section and a non-empty, lowercase key */
    if (!section || !*section || !*key)
        abort();
    for (const char *c = key; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            abort();
    (*(size_t *)ud)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t n = 0;

    if (size > 64 * 1024)
        return 0;
    if (ak_aws_ini_parse((const char *)data, size, cb, &n, &err) < 0 && err.len == 0)
        abort(); /* a failure says why */
    ak_buf_release(&err);
    return 0;
}
