/* fuzz_expo.c — ak_expo_parse in all three format modes, and series keys of every sample. */
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_expo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int key_cb(const struct ak_expo_sample *s, void *arg)
{
    struct ak_buf *key = arg;
    ak_buf_reset(key);
    (void)ak_expo_series_key(s->name, s->labels, s->nlabels, key);
    if (s->has_exemplar)
        (void)ak_expo_series_key(s->family, s->ex_labels, s->ex_nlabels, key);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ak_expo_format fmts[] = {AK_EXPO_AUTO, AK_EXPO_PROM_TEXT,
                                               AK_EXPO_OPENMETRICS};
    struct ak_buf err = AK_BUF_INIT(512), key = AK_BUF_INIT(4096);

    if (size > 256 * 1024)
        return 0;
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        ak_buf_reset(&err);
        (void)ak_expo_parse((const char *)data, size, fmts[i], key_cb, &key, &err);
    }
    ak_buf_release(&err);
    ak_buf_release(&key);
    return 0;
}
