/* handlers_poll.c — the pollers' API: run a pass now, the scopes' health, the coverage report.
 * POST /api/v1/poll runs the pass on this worker thread (the pollers serialise passes), so the
 * answer is the pass's own report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_poll.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

static int status_of(int r)
{
    switch (r) {
    case AK_EINVAL:
        return 400;
    case AK_ECONFIG:
        return 409;
    case AK_EBUSY:
        return 503;
    default:
        return 500;
    }
}

/* A GET answered by one reader function over a read-only store connection. */
static void read_json(struct ak_http_req *rq,
                      int (*fn)(const struct ak_cfg *, struct ak_store *, int64_t,
                                struct ak_json **, struct ak_buf *))
{
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    struct ak_buf err = AK_BUF_INIT(512);
    struct ak_json *j = NULL;

    if (!st)
        goto out;
    if (fn(rq->cfg, st, ak_now_wall_ms(), &j, &err) < 0)
        ak__http_error(rq, 500, "%s", err.buf);
    else
        ak__http_json(rq, 200, j);
out:
    ak_store_close(st);
    ak_buf_release(&err);
}

void ak__http_poll_get(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    read_json(rq, ak_poll_status);
}

/* POST /api/v1/poll {"poller": "rds_pending_maintenance", "dry_run": true} (both optional) */
void ak__http_poll_post(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *b = NULL, *rep = NULL;
    struct ak_poll_opts o = {0};
    int r;
    (void)tail;

    if (!rq->poll) {
        ak__http_error(rq, 503, "the pollers are not running");
        goto out;
    }
    b = ak_json_parse(rq->body.len ? rq->body.buf : "{}", rq->body.len ? rq->body.len : 2, &err);
    if (!b || !ak_json_is_obj(b)) {
        ak__http_error(rq, 400, "the body must be a JSON object%s%s", err.len ? ": " : "",
                       err.buf);
        goto out;
    }
    struct ak_json *pj = ak_json_get(b, "poller"), *dj = ak_json_get(b, "dry_run");
    if ((pj && !ak_json_is_null(pj) && !ak_json_is_str(pj)) || (dj && !ak_json_is_bool(dj))) {
        ak__http_error(rq, 400, "\"poller\" must be a string and \"dry_run\" a boolean");
        goto out;
    }
    o.poller = ak_json_str(pj);
    o.dry_run = ak_json_bool(dj);
    r = ak_poll_run(rq->poll, &o, &rep, &err);
    if (r < 0)
        ak__http_error(rq, status_of(r), "%s", err.buf);
    else
        ak__http_json(rq, 200, rep);
out:
    ak_json_free(b);
    ak_buf_release(&err);
}

void ak__http_coverage_get(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    read_json(rq, ak_poll_coverage);
}
