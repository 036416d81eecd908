/* fuzz_promapi.c — the query_range JSON matrix parser: any input is delivered whole or refused
 * whole with one error sentence, and every delivered sample has sorted, unique labels. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_scrape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *arg, const struct ak_scrape_sample *s)
{
    size_t *n = arg;

    if (!s->name || !s->name[0])
        abort();
    for (size_t i = 1; i < s->nlabels; i++)
        if (strcmp(s->labels[i - 1].name, s->labels[i].name) >= 0)
            abort();
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t n = 0;
    int r;

    if (size > 256 * 1024)
        return 0;
    r = ak_scrape_parse_matrix((const char *)data, size, "fz", check, &n, &err);
    if ((r == AK_OK) != (err.len == 0) || (r != AK_OK && n != 0))
        abort();
    ak_buf_release(&err);
    return 0;
}
