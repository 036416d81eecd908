/* fuzz_report.c — the report's outside inputs: ?date= of GET /api/v1/report (ak_report_at) and
 * a report document of any shape through the renderers (a webhook consumer's or a future
 * caller's JSON): never a crash, and the HTML never carries a <script> the input smuggled in. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_json.h"
#include "asakai/ak_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ak_cfg cfg;
    static int ready;
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    const uint8_t *nl = memchr(data, '\n', size);
    size_t dl = nl ? (size_t)(nl - data) : size;
    char date[64];
    int64_t at;

    if (size > 64 * 1024)
        return 0;
    if (!ready) {
        ak_cfg_defaults(&cfg);
        ready = 1;
    }
    if (dl < sizeof(date)) {
        memcpy(date, data, dl);
        date[dl] = 0;
        (void)ak_report_at(&cfg, date, "UTC", &at, NULL);
    }
    struct ak_json *j = nl ? ak_json_parse((const char *)nl + 1, size - dl - 1, NULL) : NULL;
    if (j) {
        (void)ak_report_render_md(j, &out);
        ak_buf_reset(&out);
        if (ak_report_render_html(j, &out) == 0 && strstr(out.buf, "<script"))
            abort();
    }
    ak_json_free(j);
    ak_buf_release(&out);
    return 0;
}
