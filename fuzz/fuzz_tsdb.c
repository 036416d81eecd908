/* fuzz_tsdb.c — the chunk decoder: any input decodes or fails cleanly (no out-of-bounds read),
 * and whatever decodes is a valid series that re-encodes and decodes again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_tsdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ak_tsdb_chunk c;
    int64_t ts[AK_TSDB_CHUNK_MAX_SAMPLES];
    double vs[AK_TSDB_CHUNK_MAX_SAMPLES];
    size_t n = 0, len = 0;
    const uint8_t *p = NULL;

    if (size > AK_TSDB_CHUNK_MAX_BYTES + 16)
        return 0;
    if (ak_tsdb_chunk_decode(data, size, ts, vs, AK_TSDB_CHUNK_MAX_SAMPLES, &n) != AK_OK)
        return 0;
    /* Whatever decodes must be appendable and round-trip. */
    ak_tsdb_chunk_init(&c);
    for (size_t i = 0; i < n; i++)
        if (ak_tsdb_chunk_append(&c, ts[i], vs[i]) != AK_OK)
            abort();
    p = ak_tsdb_chunk_finish(&c, &len);
    if (ak_tsdb_chunk_decode(p, len, ts, vs, AK_TSDB_CHUNK_MAX_SAMPLES, &n) != AK_OK ||
        n != ak_tsdb_chunk_count(&c))
        abort();
    return 0;
}
