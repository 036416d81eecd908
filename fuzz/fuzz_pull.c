/* fuzz_pull.c — libFuzzer target for ak_pull_parse and ak_pull_error: the first byte picks the
 * API, the rest is the response body a poller received. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ak_pull_ctx ctx = {"210987654321", "ap-northeast-1", 1795000000000, 0, 0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_pull_page pg = {0};
    char *code = NULL, *msg = NULL;

    if (size < 1 || size > 256 * 1024)
        return 0;
    enum ak_pull_api api = (enum ak_pull_api)(1 + data[0] % 7);
    const char *body = (const char *)data + 1;
    if (ak_pull_parse(api, body, size - 1, &ctx, &pg, &err) == 0) {
        for (size_t i = 0; i < pg.obs.n; i++) {
            const struct ak_obs *o = &pg.obs.v[i];
            if (!o->source || !o->kind || !o->status || !o->key || !o->title || !pg.docs[i] ||
                !pg.ids[i] || err.len)
                abort();
        }
        ak_pull_page_release(&pg);
    } else if (err.len == 0 || pg.obs.n || pg.docs) {
        abort();
    }
    if (ak_pull_error(body, size - 1, &code, &msg) == 0) {
        if (!code || !*code || !msg)
            abort();
        free(code);
        free(msg);
    } else if (code || msg) {
        abort();
    }
    ak_buf_release(&err);
    return 0;
}
