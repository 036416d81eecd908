/* fuzz_json.c — ak_json_parse and the NDJSON prefix parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(512);
    size_t used = 0;

    if (size > 256 * 1024)
        return 0;
    struct ak_json *j = ak_json_parse((const char *)data, size, &err);
    if (j) {
        char *s = ak_json_dump(j, AK_JSON_COMPACT);
        free(s);
        ak_json_free(j);
    }
    ak_buf_reset(&err);
    j = ak_json_parse_prefix((const char *)data, size, &used, &err);
    ak_json_free(j);
    ak_buf_release(&err);
    return 0;
}
