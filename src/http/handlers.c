/* handlers.c — the route table and its handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_intake.h"
#include "asakai/ak_json.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

static void text(struct ak_http_req *rq, int status, const char *s)
{
    ak_buf_reset(&rq->out);
    ak_buf_add(&rq->out, s);
    rq->status = status;
    rq->content_type = "text/plain; charset=utf-8";
}

static void h_healthz(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    text(rq, 200, "ok\n");
}

static void h_readyz(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    if (ak_intake_ready(rq->in))
        text(rq, 200, "ready\n");
    else
        text(rq, 503, "not ready\n");
}

static void h_metrics(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    ak_buf_reset(&rq->out);
    ak_metrics_render(&rq->out);
    rq->status = 200;
    rq->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void intake_reply(struct ak_http_req *rq, const struct ak_intake_result *res)
{
    if (res->status == 200) {
        struct ak_json *o = ak_json_new_obj();
        ak_json_set_str(o, "result", res->result);
        ak_json_set_int(o, "raw_id", res->raw_id);
        ak__http_json(rq, 200, o);
        return;
    }
    /* a one-line reason, as the issue asks for rejected deliveries */
    ak_buf_reset(&rq->out);
    ak_buf_addf(&rq->out, "%s: %s\n", res->status == 403 ? "forbidden" : res->result, res->reason);
    rq->status = res->status;
    rq->content_type = "text/plain; charset=utf-8";
}

static void sns_finish(struct ak_http_req *rq)
{
    intake_reply(rq, rq->ires); /* rq->ires is freed with rq */
}

static void sns_committed(void *arg)
{
    ak__http_resume(arg);
}

/* The request is suspended while its message waits for the group commit, so a few threads serve
 * many concurrent senders and the commit batches grow with the load. */
static void h_intake_sns(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    rq->ires = ak_xcalloc(1, sizeof(*rq->ires));
    if (!ak__http_suspend(rq, sns_finish)) {
        rq->close_conn = true;
        ak__http_error(rq, 503, "shutting down; retry");
        return;
    }
    if (ak_intake_sns_async(rq->in, rq->body.buf, rq->body.len, rq->remote, rq->ires,
                            sns_committed, rq))
        return;
    /* answered synchronously: undo the suspension at once */
    ak__http_resume(rq);
}

static void h_intake_eventbridge(struct ak_http_req *rq, const char *tail)
{
    struct ak_intake_result res;
    (void)tail;
    ak_intake_eventbridge(rq->in, rq->body.buf, rq->body.len, rq->remote,
                          ak__http_header(rq, rq->cfg->eb_api_key_header), &res);
    intake_reply(rq, &res);
}

static void h_import(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *rep = NULL;
    const char *name = ak__http_arg(rq, "name");
    const char *channel = ak__http_arg(rq, "channel");
    (void)tail;
    if (!channel || (strcmp(channel, "import") != 0 && strcmp(channel, "demo") != 0))
        channel = "import";
    int r = ak_intake_import(rq->in, channel, name ? name : "-", rq->body.buf, rq->body.len, &rep,
                             &err);
    if (r < 0)
        ak__http_error(rq, ak_err_http_status(r), "%s", err.buf);
    else
        ak__http_json(rq, 200, rep);
    ak_buf_release(&err);
}

struct ak_json *ak__http_body_object(struct ak_http_req *rq)
{
    struct ak_buf err = AK_BUF_INIT(512);
    struct ak_json *j = ak_json_parse(rq->body.len ? rq->body.buf : "{}",
                                      rq->body.len ? rq->body.len : 2, &err);
    if (!j || !ak_json_is_obj(j)) {
        ak__http_error(rq, 400, "the body must be a JSON object%s%s", err.len ? ": " : "",
                       err.buf);
        ak_json_free(j);
        j = NULL;
    }
    ak_buf_release(&err);
    return j;
}

struct ak_store *ak__http_open_store(struct ak_http_req *rq, int mode)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(512);
    int r = ak_store_open(rq->cfg->data_dir, mode, &st, &err);
    if (r < 0)
        ak__http_error(rq, 503, "store unavailable: %s", err.buf);
    ak_buf_release(&err);
    return r < 0 ? NULL : st;
}

/* ?limit=N (1..10000) into *limit (unchanged when absent); false after answering 400. */
static bool limit_arg(struct ak_http_req *rq, uint64_t *limit)
{
    const char *l = ak__http_arg(rq, "limit");
    if (l && ak_parse_u64(l, 1, 10000, limit) < 0) {
        ak__http_error(rq, 400, "limit must be a number from 1 to 10000");
        return false;
    }
    return true;
}

static bool flag_arg(struct ak_http_req *rq, const char *name)
{
    const char *v = ak__http_arg(rq, name);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || *v == 0);
}

static void h_maint_list(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    struct ak_maint_rec *recs = NULL;
    size_t n = 0;
    struct ak_maint_cfg mc;
    ak_maint_cfg_init(&mc, rq->cfg);
    int64_t now = ak_now_wall_ms();
    uint64_t limit = 1000;
    (void)tail;

    if (!st)
        return;
    if (!limit_arg(rq, &limit))
        goto out;
    struct ak_rec_filter f = {
        .all = flag_arg(rq, "all"),
        .upcoming = flag_arg(rq, "upcoming"),
        .now_ms = now,
        .service = ak__http_arg(rq, "service"),
        .limit = (size_t)limit,
    };
    int r = ak_store_rec_list(st, &f, &recs, &n);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "cannot list records: %s", ak_strerror(r));
        goto out;
    }
    struct ak_json *arr = ak_json_new_arr();
    for (size_t i = 0; i < n; i++)
        ak_json_append(arr, ak_maint_rec_json(&mc, &recs[i], now));
    ak__http_json(rq, 200, arr);
out:
    for (size_t i = 0; i < n; i++)
        ak_maint_rec_release(&recs[i]);
    free(recs);
    ak_store_close(st);
}

static struct ak_json *raw_json(const struct ak_raw *r, bool with_body)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "id", r->id);
    ak_json_set_str(o, "channel", r->channel);
    ak_json_set_str(o, "dedupe_id", r->dedupe_id);
    ak_json_set_time(o, "received_at", r->received_at);
    ak_json_set_str(o, "remote", r->remote);
    ak_json_set_str(o, "state", r->state);
    ak_json_set_str(o, "note", r->note);
    if (r->meta) {
        struct ak_json *m = ak_json_parse(r->meta, strlen(r->meta), NULL);
        ak_json_set(o, "meta", m ? m : ak_json_new_str(r->meta));
    }
    if (with_body && r->body)
        ak_json_set(o, "body", ak_json_new_strn(r->body, r->body_len));
    return o;
}

static void h_maint_get(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = NULL;
    struct ak_maint_rec rec = {0};
    struct ak_delivery *ds = NULL;
    size_t nd = 0;
    uint64_t id;
    struct ak_maint_cfg mc;
    ak_maint_cfg_init(&mc, rq->cfg);
    int64_t now = ak_now_wall_ms();
    bool with_raw = flag_arg(rq, "raw");

    if (ak_parse_u64(tail, 1, INT64_MAX, &id) < 0) {
        ak__http_error(rq, 400, "'%s' is not a record id", tail);
        return;
    }
    if (!(st = ak__http_open_store(rq, AK_STORE_READ)))
        return;
    int r = ak_store_rec_get(st, (int64_t)id, &rec);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "maintenance record %llu: %s",
                       (unsigned long long)id, ak_strerror(r));
        goto out;
    }
    struct ak_json *o = ak_maint_rec_json(&mc, &rec, now);
    struct ak_json *hist = ak_json_new_arr();
    if (ak_store_delivery_list(st, rec.id, &ds, &nd) == AK_OK) {
        for (size_t i = 0; i < nd; i++) {
            struct ak_json *h = ak_json_new_obj();
            ak_json_set_int(h, "raw_id", ds[i].raw_id);
            ak_json_set_str(h, "channel", ds[i].channel);
            ak_json_set_str(h, "message_id", ds[i].message_id);
            ak_json_set_time(h, "at", ds[i].at);
            ak_json_set_str(h, "change", ds[i].change);
            if (with_raw) {
                struct ak_raw raw = {0};
                if (ak_store_raw_get(st, ds[i].raw_id, &raw) == AK_OK)
                    ak_json_set(h, "raw", raw_json(&raw, true));
                ak_raw_release(&raw);
            }
            ak_json_append(hist, h);
        }
    }
    ak_json_set(o, "history", hist);
    ak__http_record_extras(st, rec.id, o);
    ak__http_record_runbooks(st, rec.id, o);
    ak__http_json(rq, 200, o);
out:
    for (size_t i = 0; i < nd; i++)
        ak_delivery_release(&ds[i]);
    free(ds);
    ak_maint_rec_release(&rec);
    ak_store_close(st);
}

static void h_raw_list(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    struct ak_raw *raws = NULL;
    size_t n = 0;
    uint64_t limit = 100;
    (void)tail;
    if (!st)
        return;
    if (!limit_arg(rq, &limit))
        goto out;
    int r = ak_store_raw_list(st, ak__http_arg(rq, "state"), (size_t)limit, &raws, &n);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "cannot list the archive: %s", ak_strerror(r));
        goto out;
    }
    struct ak_json *arr = ak_json_new_arr();
    for (size_t i = 0; i < n; i++)
        ak_json_append(arr, raw_json(&raws[i], false));
    ak__http_json(rq, 200, arr);
out:
    for (size_t i = 0; i < n; i++)
        ak_raw_release(&raws[i]);
    free(raws);
    ak_store_close(st);
}

static void h_raw_get(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st;
    struct ak_raw raw = {0};
    uint64_t id;
    if (ak_parse_u64(tail, 1, INT64_MAX, &id) < 0) {
        ak__http_error(rq, 400, "'%s' is not an archive id", tail);
        return;
    }
    if (!(st = ak__http_open_store(rq, AK_STORE_READ)))
        return;
    int r = ak_store_raw_get(st, (int64_t)id, &raw);
    if (r < 0)
        ak__http_error(rq, ak_err_http_status(r), "archived message %llu: %s",
                       (unsigned long long)id, ak_strerror(r));
    else
        ak__http_json(rq, 200, raw_json(&raw, true));
    ak_raw_release(&raw);
    ak_store_close(st);
}

static void h_stats(struct ak_http_req *rq, const char *tail)
{
    static const char *states[] = {"pending", "parsed", "ignored", "unparsed", "control"};
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    (void)tail;
    if (!st)
        return;
    struct ak_json *o = ak_json_new_obj();
    struct ak_json *a = ak_json_new_obj();
    int64_t total = 0, v;
    ak_store_raw_count(st, NULL, &total);
    ak_json_set_int(a, "total", total);
    for (size_t i = 0; i < AK_ARRAY_SIZE(states); i++)
        if (ak_store_raw_count(st, states[i], &v) == AK_OK)
            ak_json_set_int(a, states[i], v);
    ak_json_set(o, "archive", a);
    ak_json_set_int(o, "schema_version", ak_store_schema_version(st));
    ak__http_json(rq, 200, o);
    ak_store_close(st);
}

static void h_index(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    (void)tail;
    if (!st)
        return;
    ak__http_dashboard(rq, st);
    ak_store_close(st);
}

const struct ak_http_route ak__http_routes[] = {
    {"GET", "/", false, true, h_index, "overview page of the maintenance inbox"},
    {"GET", "/healthz", false, false, h_healthz, "liveness"},
    {"GET", "/readyz", false, false, h_readyz, "readiness: store open, writer running"},
    {"GET", "/metrics", false, false, h_metrics, "Prometheus metrics"},
    {"POST", "/intake/sns", false, false, h_intake_sns, "Amazon SNS HTTP(S) subscription"},
    {"POST", "/intake/eventbridge", false, false, h_intake_eventbridge,
     "EventBridge API destination (API key)"},
    {"GET", "/api/v1/maintenance", false, true, h_maint_list,
     "list records (?all=1 ?upcoming=1 ?service=S ?limit=N)"},
    {"GET", "/api/v1/maintenance/", true, true, h_maint_get, "one record with history (?raw=1)"},
    {"POST", "/api/v1/events/import", false, true, h_import,
     "import SNS envelopes / EventBridge events (?name=F ?channel=import|demo)"},
    {"GET", "/api/v1/raw", false, true, h_raw_list, "list the archive (?state=S ?limit=N)"},
    {"GET", "/api/v1/raw/", true, true, h_raw_get, "one archived message, verbatim"},
    {"GET", "/api/v1/stats", false, true, h_stats, "archive counts by state"},
    {"POST", "/api/v1/maintenance/", true, true, ak__http_maint_post,
     "acknowledge: POST ID/ack {by, note} (stops reminders)"},
    {"GET", "/api/v1/silences", false, true, ak__http_silences_get, "list silences"},
    {"POST", "/api/v1/silences", false, true, ak__http_silences_post,
     "add a silence {match, for, reason, by}"},
    {"POST", "/api/v1/silences/", true, true, ak__http_silences_post, "expire: POST ID/expire"},
    {"GET", "/api/v1/outbox", false, true, ak__http_outbox_get, "notification outbox (?state=S)"},
    {"POST", "/api/v1/outbox/retry", false, true, ak__http_outbox_retry,
     "retry dead rows {id} or all"},
    {"POST", "/api/v1/route/test", false, true, ak__http_route_test,
     "which receivers a record reaches and why (?record=ID or a record JSON body)"},
    {"GET", "/api/v1/poll", false, true, ak__http_poll_get, "the pollers' scopes and health"},
    {"POST", "/api/v1/poll", false, true, ak__http_poll_post,
     "run one poll pass now {poller, dry_run}: what it found and what changed"},
    {"GET", "/api/v1/coverage", false, true, ak__http_coverage_get,
     "which maintenance can reach you, per account x region x service; blind spots"},
    {"GET", "/api/v1/report", false, true, ak__http_report_get,
     "the morning report: urgency x importance matrix (?date=YYYY-MM-DD ?tz=Z "
     "?format=json|md|html)"},
    {"POST", "/sts", false, false, ak__http_sts,
     "STS twin: AssumeRoleWithWebIdentity (unsigned), GetCallerIdentity (SigV4); query protocol"},
    {"GET", "/sts", false, false, ak__http_sts, "STS twin, query string form"},
    {"POST", "/sts/", false, false, ak__http_sts, "STS twin (endpoint URL with a slash)"},
    {"GET", "/sts/", false, false, ak__http_sts, "STS twin (endpoint URL with a slash)"},
    {"GET", "/api/v1/oidc/log", false, true, ak__http_oidc_log,
     "STS twin audit, newest first (?result=allowed|denied ?limit=N)"},
    {"POST", "/api/v1/runbooks", false, true, ak__http_runbooks_post,
     "create a runbook from a template {template, at, tz, vars, maint_id, by}"},
    {"GET", "/api/v1/runbooks", false, true, ak__http_runbooks_get, "list runbooks (?all=1)"},
    {"GET", "/api/v1/runbooks/", true, true, ak__http_runbooks_get,
     "one runbook with steps and run record; ID/export?format=md|ics"},
    {"POST", "/api/v1/runbooks/", true, true, ak__http_runbooks_post,
     "ID/steps/STEP/done {by, note}; ID/events {step, action, by, exit_code, duration_ms, "
     "output, note, state}"},
    {"POST", "/api/v1/notes", false, true, ak__http_notes_post,
     "add a note {text, tags, maint_id, runbook_id, by}"},
    {"GET", "/api/v1/notes", false, true, ak__http_notes_get,
     "list notes, newest first (?tag=T ?maint=ID ?runbook=ID ?limit=N)"},
    {"GET", "/api/v1/notes/", true, true, ak__http_notes_get, "one note"},
    {"GET", "/api/v1/search", false, true, ak__http_search,
     "full-text search (?q= ?kind=note|runbook|maintenance ?tag= ?since= ?until= ?limit=)"},
    {"GET", "/chart", false, true, ak__http_chart,
     "one series as a chart with its deploys (?series=KEY ?range=7d)"},
    {"GET", "/api/v1/review", false, true, ak__http_review_get,
     "the daily review, run now (?window=14d ?resolution=hour|minute|raw ?service=S)"},
    {"GET", "/api/v1/review/", true, true, ak__http_review_latest,
     "latest: the newest daily review; 404 before the first"},
    {"GET", "/api/v1/monitoring/coverage", false, true, ak__http_mon_coverage,
     "services x standard signals: present, stale, missing, short"},
    {"POST", "/api/v1/deploys", false, true, ak__http_deploys_post,
     "mark a deploy {service, version, at, note, by}"},
    {"GET", "/api/v1/deploys", false, true, ak__http_deploys_get,
     "deploy markers (?service=S ?since=7d|ms)"},
    {"POST", AK__HTTP_METRICS_IMPORT, false, true, ak__http_metrics_import,
     "backfill an exposition with timestamps (OpenMetrics or 0.0.4 text, up to 64 MiB)"},
    {"GET", "/api/v1/metrics/series", false, true, ak__http_metrics_series,
     "stored series (?service=S ?match=GLOB)"},
    {"GET", "/api/v1/metrics/query", false, true, ak__http_metrics_query,
     "one series' points (?series=KEY ?from=7d|ms ?to=ms ?resolution=auto|raw|minute|hour)"},
    {"GET", "/api/v1/monitoring/targets", false, true, ak__http_mon_targets,
     "scrape targets and query-API sources with their last result"},
    {"GET", "/api/v1/metrics/stats", false, true, ak__http_metrics_stats,
     "metrics storage: series, chunks, bytes per sample, tier points, file size"},
    {"GET", "/api/v1/monitoring/dashboard", false, true, ak__http_mon_dashboard,
     "what the dashboard's monitoring part shows"},
};
const size_t ak__http_n_routes = AK_ARRAY_SIZE(ak__http_routes);
