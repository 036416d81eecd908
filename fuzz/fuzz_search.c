/* fuzz_search.c — ak_store_search with arbitrary query text (a user's search box): FTS5 syntax
 * errors must be retried as plain words, never fail or crash. One store in a temporary folder,
 * seeded once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_store.h"
#include "asakai/ak_util.h"

static struct ak_store *st;

static void seed(void)
{
    char dir[] = "/tmp/fuzz-search-XXXXXX";
    struct ak_note n = {.text = (char *)"ElastiCache replacement: failover took 40 s",
                        .tags = (char *)"elasticache,replacement", .created_at = 1};
    if (!mkdtemp(dir) || ak_store_open(dir, AK_STORE_WRITE, &st, NULL) != AK_OK)
        abort();
    if (ak_store_note_add(st, &n, NULL) != AK_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct ak_search_hit *v = NULL;
    size_t n = 0;

    if (!st)
        seed();
    if (size > 1000)
        return 0;
    char *q = ak_xstrndup((const char *)data, size);
    size_t len = strlen(q); /* the copy stops at a NUL */
    struct ak_search_q sq = {.query = q, .tag = len > 3 ? q + len - 3 : NULL, .limit = 5};
    int r = ak_store_search(st, &sq, &v, &n);
    /* only "no word to look for" may fail: a malformed query is retried as plain words */
    if (r != AK_OK && r != AK_EINVAL)
        abort();
    for (size_t i = 0; r == AK_OK && i < n; i++)
        ak_search_hit_release(&v[i]);
    free(v);
    free(q);
    return 0;
}
