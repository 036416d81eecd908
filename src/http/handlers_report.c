/* handlers_report.c — GET /api/v1/report: the morning report as JSON, Markdown or HTML. */
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_report.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define ARG_MAX 64 /* a date or a zone name is short; anything longer is refused */

/* ?date=YYYY-MM-DD (the report time of that local date; default now) ?tz=ZONE
 * ?format=json|md|html (default json). */
void ak__http_report_get(struct ak_http_req *rq, const char *tail)
{
    const char *date = ak__http_arg(rq, "date"), *tz = ak__http_arg(rq, "tz");
    const char *format = ak__http_arg(rq, "format");
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_store *st = NULL;
    struct ak_json *rep = NULL;
    int64_t at = ak_now_wall_ms();
    int r;
    (void)tail;

    if (!format || !*format)
        format = "json";
    if (!ak_streq(format, "json") && !ak_streq(format, "md") && !ak_streq(format, "html")) {
        ak__http_error(rq, 400, "format must be json, md or html");
        goto out;
    }
    if ((date && strlen(date) > ARG_MAX) || (tz && strlen(tz) > ARG_MAX)) {
        ak__http_error(rq, 400, "date and tz must be at most %d bytes", ARG_MAX);
        goto out;
    }
    if (tz && !*tz)
        tz = NULL;
    if (date && *date && (r = ak_report_at(rq->cfg, date, tz, &at, &err)) < 0) {
        ak__http_error(rq, 400, "%s", err.buf);
        goto out;
    }
    if (!(st = ak__http_open_store(rq, AK_STORE_READ)))
        goto out;
    r = ak_report_build(rq->cfg, st, at, tz, &rep, &err);
    if (r < 0) {
        ak__http_error(rq, r == AK_EINVAL ? 400 : ak_err_http_status(r), "%s", err.buf);
        goto out;
    }
    if (ak_streq(format, "json")) {
        ak__http_json(rq, 200, rep);
        rep = NULL;
        goto out;
    }
    ak_buf_reset(&rq->out);
    r = ak_streq(format, "md") ? ak_report_render_md(rep, &rq->out)
                               : ak_report_render_html(rep, &rq->out);
    if (r < 0) {
        ak__http_error(rq, 500, "cannot render the report: %s", ak_strerror(r));
        goto out;
    }
    rq->status = 200;
    rq->content_type = ak_streq(format, "md") ? "text/markdown; charset=utf-8"
                                              : "text/html; charset=utf-8";
out:
    ak_json_free(rep);
    ak_store_close(st);
    ak_buf_release(&err);
}
