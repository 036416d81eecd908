/* fuzz_events.c — libFuzzer target for ak_events_parse_raw: any archived delivery (SNS envelope,
 * EventBridge event, Lambda records) through every payload parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf why = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_obs_list l = {0};
    int r;

    if (size > 1024 * 1024)
        return 0;
    r = ak_events_parse_raw((const char *)data, size, 1795000000000, &l, &why);
    if (r == 0) {
        if (l.n == 0 && why.len == 0)
            abort(); /* no observation without a reason */
        for (size_t i = 0; i < l.n; i++) {
            const struct ak_obs *o = &l.v[i];
            if (!o->source || !o->service || !o->kind || !o->status || !o->key || !o->title)
                abort();
            if (strlen(ak_kind_family(o->service, o->kind)) == 0)
                abort();
        }
        ak_obs_list_release(&l);
    } else if (why.len == 0 || l.n != 0) {
        abort();
    }
    ak_buf_release(&why);
    return 0;
}
