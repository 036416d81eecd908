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

/* The outcome of a pass asked for by a suspended request (rq->user). */
struct poll_wait {
    int r;
    struct ak_json *rep;
    char err[512];
};

static void poll_finish(struct ak_http_req *rq)
{
    struct poll_wait *w = rq->user;

    if (w->r < 0)
        ak__http_error(rq, status_of(w->r), "%s", w->err);
    else
        ak__http_json(rq, 200, w->rep);
    w->rep = NULL;
}

/* From the poller thread: keep the result, wake the request. */
static void poll_done(void *arg, int r, struct ak_json *report, const char *err)
{
    struct ak_http_req *rq = arg;
    struct poll_wait *w = rq->user;

    w->r = r;
    w->rep = report;
    snprintf(w->err, sizeof(w->err), "%s", err ? err : "");
    ak__http_resume(rq);
}

/* POST /api/v1/poll {"poller": "rds_pending_maintenance", "dry_run": true} (both optional).
 * The pass runs on the poller thread; this request is suspended meanwhile, so the worker thread
 * keeps serving (intake above all). */
void ak__http_poll_post(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *b = NULL;
    struct ak_poll_opts o = {0};
    struct poll_wait *w;
    (void)tail;

    if (!rq->poll) {
        ak__http_error(rq, 503, "the pollers are not running");
        goto out;
    }
    if (!(b = ak__http_body_object(rq)))
        goto out;
    struct ak_json *pj = ak_json_get(b, "poller"), *dj = ak_json_get(b, "dry_run");
    if ((pj && !ak_json_is_null(pj) && !ak_json_is_str(pj)) || (dj && !ak_json_is_bool(dj))) {
        ak__http_error(rq, 400, "\"poller\" must be a string and \"dry_run\" a boolean");
        goto out;
    }
    o.poller = ak_json_str(pj);
    o.dry_run = ak_json_bool(dj);
    w = ak_xcalloc(1, sizeof(*w));
    rq->user = w;
    if (!ak__http_suspend(rq, poll_finish)) {
        rq->close_conn = true;
        ak__http_error(rq, 503, "shutting down; retry");
        goto out;
    }
    w->r = ak_poll_run_async(rq->poll, &o, poll_done, rq, &err);
    if (w->r < 0) {
        snprintf(w->err, sizeof(w->err), "%s", err.buf);
        ak__http_resume(rq);
    }
out:
    ak_json_free(b);
    ak_buf_release(&err);
}

void ak__http_coverage_get(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    read_json(rq, ak_poll_coverage);
}
