/* handlers_mon.c — the monitoring API (docs/API.md "Monitoring"): review, coverage, deploy
 * markers, metrics import, series, queries, targets, storage stats, the dashboard's data.
 * Every answer comes from the engine (ak_mon); these handlers only read arguments and map codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_err.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_json.h"
#include "asakai/ak_mon.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define DAY_MS 86400000LL
#define REVIEW_WINDOW_MAX_MS (400 * DAY_MS)
#define DEPLOY_NAME_MAX 200           /* service, version, by */
#define DEPLOY_NOTE_MAX 2000
#define DEPLOY_PAST_MS (3653 * DAY_MS) /* markers for backfilled history */
#define DEPLOY_FUTURE_MS DAY_MS        /* clock skew, not a plan */

/* false after answering 503: the daemon runs without the engine (tests, a failed start). */
static bool have_mon(struct ak_http_req *rq)
{
    if (rq->mon)
        return true;
    ak__http_error(rq, 503, "monitoring is not running in this daemon");
    return false;
}

/* Answers a result object, or the engine's error with the status its code maps to. */
static void answer(struct ak_http_req *rq, int r, struct ak_json *j, const struct ak_buf *err,
                   const char *what)
{
    if (r < 0) {
        ak_json_free(j);
        ak__http_error(rq, ak_err_http_status(r), "%s: %s", what,
                       err->len ? err->buf : ak_strerror(r));
        return;
    }
    ak__http_json(rq, 200, j);
}

bool ak__http_time_arg(const char *s, int64_t now_ms, int64_t *ret_ms)
{
    uint64_t ms;
    int64_t d;

    if (!s || !*s)
        return false;
    /* digits only: a time in ms since the epoch; a duration always carries its unit here */
    if (ak_parse_u64(s, 0, INT64_MAX, &ms) == AK_OK) {
        *ret_ms = (int64_t)ms;
        return true;
    }
    if (ak_parse_duration_ms(s, &d) == AK_OK && d > 0 && d <= now_ms) {
        *ret_ms = now_ms - d;
        return true;
    }
    if (ak_time_parse(s, &d) == AK_OK) {
        *ret_ms = d;
        return true;
    }
    return false;
}

/* ?resolution= among the allowed ones (NULL when absent); false after answering 400. */
static bool resolution_arg(struct ak_http_req *rq, const char *const *allowed, size_t n,
                           const char **ret)
{
    const char *v = ak__http_arg(rq, "resolution");
    *ret = NULL;
    if (!v || !*v)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, allowed[i]) == 0) {
            *ret = allowed[i];
            return true;
        }
    ak__http_error(rq, 400, "resolution '%s' is not one of %s", v,
                   n == 3 ? "hour, minute, raw" : "auto, raw, minute, hour");
    return false;
}

void ak__http_review_get(struct ak_http_req *rq, const char *tail)
{
    static const char *const res[] = {"hour", "minute", "raw"};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_mon_review_req req = {.service = ak__http_arg(rq, "service")};
    struct ak_json *j = NULL;
    const char *w = ak__http_arg(rq, "window");
    (void)tail;

    if (!have_mon(rq))
        goto out;
    if (w && (ak_parse_duration_ms(w, &req.window_ms) < 0 || req.window_ms <= 0 ||
              req.window_ms > REVIEW_WINDOW_MAX_MS)) {
        ak__http_error(rq, 400, "window '%s' is not a duration from 1s to 400d such as 14d or "
                                "36h", w);
        goto out;
    }
    if (!resolution_arg(rq, res, AK_ARRAY_SIZE(res), &req.resolution))
        goto out;
    if (req.service && !*req.service)
        req.service = NULL;
    int r = ak_mon_review(rq->mon, &req, &j, &err);
    answer(rq, r, j, &err, "review");
out:
    ak_buf_release(&err);
}

void ak__http_review_latest(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;

    if (strcmp(tail, "latest") != 0) {
        ak__http_error(rq, 404, "no such endpoint: %s", rq->path);
        goto out;
    }
    if (!have_mon(rq))
        goto out;
    int r = ak_mon_review_latest(rq->mon, &j, &err);
    if (r == AK_ENOTFOUND)
        ak__http_error(rq, 404, "no daily review has run yet (it runs at review.time; "
                                "GET /api/v1/review runs one now)");
    else
        answer(rq, r, j, &err, "latest review");
out:
    ak_buf_release(&err);
}

void ak__http_mon_coverage(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;
    size_t missing = 0;
    (void)tail;

    if (have_mon(rq)) {
        int r = ak_mon_coverage(rq->mon, ak_now_wall_ms(), &j, &missing, &err);
        answer(rq, r, j, &err, "coverage");
    }
    ak_buf_release(&err);
}

/* "at": RFC 3339 text or ms, within DEPLOY_PAST_MS before and DEPLOY_FUTURE_MS after now;
 * absent or null = now. false after answering 400. */
static bool deploy_at(struct ak_http_req *rq, const struct ak_json *v, int64_t now,
                      int64_t *ret)
{
    int64_t at = 0;

    if (!v || ak_json_is_null(v)) {
        *ret = now;
        return true;
    }
    if (!(ak_json_is_int(v) && (at = ak_json_int(v)) > 0) &&
        !(ak_json_is_str(v) && ak_time_parse(ak_json_str(v), &at) == AK_OK)) {
        ak__http_error(rq, 400, "at must be an RFC 3339 time (2026-11-26T01:00:00Z) or ms since "
                                "the epoch");
        return false;
    }
    if (at < now - DEPLOY_PAST_MS || at > now + DEPLOY_FUTURE_MS) {
        /* a time in seconds reads as January 1970: say so rather than store it */
        ak__http_error(rq, 400, "at %lld is not within 10 years before and 1 day after now "
                                "(ms since the epoch%s)", (long long)at,
                       at > 0 && at < 100000000000LL ? ": this looks like seconds" : "");
        return false;
    }
    *ret = at;
    return true;
}

/* Optional string member k of b up to max bytes; false after answering 400. */
static bool deploy_str(struct ak_http_req *rq, const struct ak_json *b, const char *k,
                       size_t max, const char **ret)
{
    const struct ak_json *v = ak_json_get(b, k);

    *ret = NULL;
    if (!v || ak_json_is_null(v))
        return true;
    if (!ak_json_is_str(v)) {
        ak__http_error(rq, 400, "%s must be a string", k);
        return false;
    }
    if (strlen(ak_json_str(v)) > max) {
        ak__http_error(rq, 400, "%s is longer than %zu bytes", k, max);
        return false;
    }
    *ret = ak_json_str(v);
    return true;
}

void ak__http_deploys_post(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *b = NULL;
    const char *service = NULL, *version = NULL, *by = NULL, *note = NULL;
    int64_t at = 0, id = 0;
    (void)tail;

    if (!have_mon(rq) || !(b = ak__http_body_object(rq)))
        goto out;
    if (!deploy_str(rq, b, "service", DEPLOY_NAME_MAX, &service))
        goto out;
    if (!service || !*service) {
        ak__http_error(rq, 400, "service is required");
        goto out;
    }
    if (!deploy_str(rq, b, "version", DEPLOY_NAME_MAX, &version) ||
        !deploy_str(rq, b, "by", DEPLOY_NAME_MAX, &by) ||
        !deploy_str(rq, b, "note", DEPLOY_NOTE_MAX, &note))
        goto out;
    /* "at" absent = now, answered as stored */
    if (!deploy_at(rq, ak_json_get(b, "at"), ak_now_wall_ms(), &at))
        goto out;
    int r = ak_mon_deploy_mark(rq->mon, service, version, at, by, note, &id, &err);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "%s", err.len ? err.buf : ak_strerror(r));
        goto out;
    }
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "id", id);
    ak_json_set_str(o, "service", service);
    ak_json_set_int(o, "at", at);
    ak__http_json(rq, 201, o);
out:
    ak_json_free(b);
    ak_buf_release(&err);
}

void ak__http_deploys_get(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;
    const char *since = ak__http_arg(rq, "since"), *service = ak__http_arg(rq, "service");
    int64_t from = 0;
    (void)tail;

    if (!have_mon(rq))
        goto out;
    if (since && !ak__http_time_arg(since, ak_now_wall_ms(), &from)) {
        ak__http_error(rq, 400, "since '%s' is not a duration (7d) nor a time in ms", since);
        goto out;
    }
    int r = ak_mon_deploy_list(rq->mon, service && *service ? service : NULL, from, INT64_MAX,
                               &j, &err);
    answer(rq, r, j, &err, "deploys");
out:
    ak_buf_release(&err);
}

void ak__http_metrics_import(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_mon_ingest_stats st = {0};
    (void)tail;

    if (!have_mon(rq))
        goto out;
    int r = ak_mon_import(rq->mon, rq->body.buf, rq->body.len,
                          (int)ak_expo_format_from_content_type(ak__http_header(rq, "Content-Type")), &st, &err);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "%s", err.len ? err.buf : ak_strerror(r));
        goto out;
    }
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "samples", (int64_t)st.samples);
    ak_json_set_int(o, "series", (int64_t)st.series);
    ak_json_set_int(o, "new_series", (int64_t)st.new_series);
    ak_json_set_int(o, "dropped", (int64_t)st.dropped);
    ak_json_set(o, "from", st.from_ms ? ak_json_new_int(st.from_ms) : ak_json_new_null());
    ak_json_set(o, "to", st.to_ms ? ak_json_new_int(st.to_ms) : ak_json_new_null());
    ak__http_json(rq, 200, o);
out:
    ak_buf_release(&err);
}

void ak__http_metrics_series(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;
    const char *service = ak__http_arg(rq, "service"), *match = ak__http_arg(rq, "match");
    (void)tail;

    if (have_mon(rq)) {
        int r = ak_mon_series(rq->mon, service && *service ? service : NULL,
                              match && *match ? match : NULL, &j, &err);
        answer(rq, r, j, &err, "series");
    }
    ak_buf_release(&err);
}

void ak__http_metrics_query(struct ak_http_req *rq, const char *tail)
{
    static const char *const res[] = {"auto", "raw", "minute", "hour"};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;
    const char *key = ak__http_arg(rq, "series"), *from_s = ak__http_arg(rq, "from");
    const char *to_s = ak__http_arg(rq, "to"), *resolution;
    int64_t now = ak_now_wall_ms(), from = now - 7 * 86400000LL, to = now + 1;
    (void)tail;

    if (!have_mon(rq))
        goto out;
    if (!key || !*key) {
        ak__http_error(rq, 400, "series=KEY is required (see GET /api/v1/metrics/series)");
        goto out;
    }
    if (from_s && !ak__http_time_arg(from_s, now, &from)) {
        ak__http_error(rq, 400, "from '%s' is not a duration (7d) nor a time in ms", from_s);
        goto out;
    }
    if (to_s && !ak__http_time_arg(to_s, now, &to)) {
        ak__http_error(rq, 400, "to '%s' is not a time in ms", to_s);
        goto out;
    }
    if (from >= to) {
        ak__http_error(rq, 400, "from must be before to");
        goto out;
    }
    if (!resolution_arg(rq, res, AK_ARRAY_SIZE(res), &resolution))
        goto out;
    int r = ak_mon_query(rq->mon, key, from, to, resolution ? resolution : "auto", &j, &err);
    answer(rq, r, j, &err, "query");
out:
    ak_buf_release(&err);
}

void ak__http_mon_targets(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;
    (void)tail;

    if (have_mon(rq)) {
        int r = ak_mon_targets(rq->mon, &j, &err);
        answer(rq, r, j, &err, "targets");
    }
    ak_buf_release(&err);
}

void ak__http_metrics_stats(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;
    (void)tail;

    if (have_mon(rq)) {
        int r = ak_mon_stats(rq->mon, &j, &err);
        answer(rq, r, j, &err, "stats");
    }
    ak_buf_release(&err);
}

void ak__http_mon_dashboard(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *j = NULL;
    (void)tail;

    if (have_mon(rq)) {
        int r = ak_mon_dashboard(rq->mon, ak_now_wall_ms(), &j, &err);
        answer(rq, r, j, &err, "dashboard");
    }
    ak_buf_release(&err);
}
