/* fuzz_split.c — libFuzzer target for ak_events_split (operators' import files). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_doc(const char *doc, size_t len, size_t index, void *arg)
{
    size_t *next = arg;

    /* every document is a non-empty object, delivered in order */
    if (len < 2 || doc[0] != '{' || doc[len - 1] != '}' || index != *next)
        abort();
    (*next)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t next = 0;

    if (size > 1024 * 1024)
        return 0;
    if (ak_events_split((const char *)data, size, check_doc, &next, &err) != 0 && err.len == 0)
        abort();
    ak_buf_release(&err);
    return 0;
}
