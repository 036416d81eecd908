/* http_int.h — private to src/http: request context and the route table. */
#ifndef AK_HTTP_INT_H
#define AK_HTTP_INT_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_buf.h"

struct MHD_Connection;
struct ak_cfg;
struct ak_intake;
struct ak_poll;
struct ak_sts;
struct ak_mon;
struct ak_sts_req;
struct ak_http;
struct ak_store;
struct ak_intake_result;

struct ak_http_req {
    struct MHD_Connection *conn;
    const struct ak_cfg *cfg;
    struct ak_intake *in;
    struct ak_poll *poll;
    struct ak_sts *sts;  /* NULL when sts.enabled is false */
    struct ak_mon *mon;  /* NULL when the daemon runs without the monitoring engine */
    const char *method;
    const char *path;
    const char *route;   /* route pattern, for metrics */
    char remote[64];
    struct ak_buf body;
    size_t max_body;     /* this request's body cap: server.max_body or the route's own */
    bool too_big;
    /* response */
    int status;
    const char *content_type;
    struct ak_buf out;
    char allow[32];      /* for 405 */
    char request_id[40]; /* sent as x-amzn-RequestId when set (the STS twin) */
    /* asynchronous handlers: the request is suspended until the writer calls back */
    struct ak_http *server;
    bool suspended;
    bool waited;         /* was suspended: counted in the server's `unanswered` until completed */
    bool close_conn;     /* answer with "Connection: close" (shutting down) */
    _Atomic bool resumed;
    void (*finish)(struct ak_http_req *rq); /* builds the response once resumed */
    struct ak_intake_result *ires;
    void *user;          /* a suspended handler's own state: freed (free()) with the request */
};

/* Query parameter or header (NULL when absent). */
const char *ak__http_arg(struct ak_http_req *rq, const char *name);
const char *ak__http_header(struct ak_http_req *rq, const char *name);

typedef void (*ak_http_handler)(struct ak_http_req *rq, const char *tail);

struct ak_http_route {
    const char *method;
    const char *path;     /* exact, or a prefix ending in '/' when prefix is true */
    bool prefix;
    bool api;             /* needs the API token when one is configured */
    ak_http_handler fn;
    const char *summary;
};

extern const struct ak_http_route ak__http_routes[];
extern const size_t ak__http_n_routes;

/* Sets a JSON response from a JSON value (consumed). */
struct ak_json;
void ak__http_json(struct ak_http_req *rq, int status, struct ak_json *j);
/* Sets a {"error": "..."} response. */
void ak__http_error(struct ak_http_req *rq, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Suspends rq until ak__http_resume(rq) (from any thread); finish then builds the response.
 * Returns false (and does not suspend) when the server is shutting down: answer at once. */
bool ak__http_suspend(struct ak_http_req *rq, void (*finish)(struct ak_http_req *rq));
void ak__http_resume(struct ak_http_req *rq);

/* A store connection for this request (AK_STORE_READ / AK_STORE_WRITE); NULL after answering
 * 503. The caller closes it. */
struct ak_store *ak__http_open_store(struct ak_http_req *rq, int mode);
/* The request body as a JSON object (an empty body is {}); answers 400 and returns NULL
 * otherwise. */
struct ak_json *ak__http_body_object(struct ak_http_req *rq);

/* handlers_notify.c */
struct ak_json;
void ak__http_record_extras(struct ak_store *st, int64_t rec_id, struct ak_json *rec);
void ak__http_maint_post(struct ak_http_req *rq, const char *tail);
void ak__http_silences_get(struct ak_http_req *rq, const char *tail);
void ak__http_silences_post(struct ak_http_req *rq, const char *tail);
void ak__http_outbox_get(struct ak_http_req *rq, const char *tail);
void ak__http_outbox_retry(struct ak_http_req *rq, const char *tail);
void ak__http_route_test(struct ak_http_req *rq, const char *tail);

/* handlers_poll.c */
void ak__http_poll_get(struct ak_http_req *rq, const char *tail);
void ak__http_poll_post(struct ak_http_req *rq, const char *tail);
void ak__http_coverage_get(struct ak_http_req *rq, const char *tail);

/* handlers_sts.c */
struct ak__http_sts_wire {
    char **headers;      /* "Name: value", NULL-terminated */
    size_t n_headers;
    char *path_query;
};
/* The request as the STS twin sees it (headers, path with the re-encoded query, body); out
 * borrows from w and rq. */
void ak__http_sts_wire_build(struct ak_http_req *rq, struct ak__http_sts_wire *w,
                             struct ak_sts_req *out);
void ak__http_sts_wire_release(struct ak__http_sts_wire *w);
void ak__http_sts(struct ak_http_req *rq, const char *tail);
void ak__http_oidc_log(struct ak_http_req *rq, const char *tail);
/* Authenticates an API request signed with SigV4 by STS twin credentials; false after
 * answering 401. */
bool ak__http_sts_auth(struct ak_http_req *rq);

/* handlers_report.c: GET /api/v1/report (?date ?tz ?format=json|md|html) */
void ak__http_report_get(struct ak_http_req *rq, const char *tail);

/* handlers_runbook.c, handlers_rb_export.c, handlers_notes.c: runbooks and the team memory */
struct ak_tz;
struct ak_note;
void ak__http_runbooks_get(struct ak_http_req *rq, const char *tail);
void ak__http_runbooks_post(struct ak_http_req *rq, const char *tail);
/* Answers GET /api/v1/runbooks/ID/export?format=md|ics. */
void ak__http_rb_export(struct ak_http_req *rq, struct ak_store *st, int64_t id);
/* ms in tz (NULL = UTC) as RFC 3339 with the zone's offset ("2026-12-10T02:00:00+09:00"), and
 * for people ("2026-12-10 02:00 JST"). */
void ak__http_rb_fmt_local(const struct ak_tz *tz, int64_t ms, char *buf, size_t n);
void ak__http_rb_fmt_human(const struct ak_tz *tz, int64_t ms, char *buf, size_t n);
/* Adds "runbooks" [{id, title, status, template, at}] and "notes" linked to a record. */
void ak__http_record_runbooks(struct ak_store *st, int64_t rec_id, struct ak_json *rec);
struct ak_json *ak__http_note_json(const struct ak_note *n);
void ak__http_notes_post(struct ak_http_req *rq, const char *tail);
void ak__http_notes_get(struct ak_http_req *rq, const char *tail);
void ak__http_search(struct ak_http_req *rq, const char *tail);

/* handlers_mon.c: the monitoring API (docs/API.md "Monitoring"). The import route takes an
 * exposition (not JSON) up to its own body cap. */
#define AK__HTTP_METRICS_IMPORT "/api/v1/metrics/import"
#define AK__HTTP_METRICS_IMPORT_MAX ((size_t)64 * 1024 * 1024)
void ak__http_review_get(struct ak_http_req *rq, const char *tail);
void ak__http_review_latest(struct ak_http_req *rq, const char *tail);
void ak__http_mon_coverage(struct ak_http_req *rq, const char *tail);
void ak__http_deploys_post(struct ak_http_req *rq, const char *tail);
void ak__http_deploys_get(struct ak_http_req *rq, const char *tail);
void ak__http_metrics_import(struct ak_http_req *rq, const char *tail);
void ak__http_metrics_series(struct ak_http_req *rq, const char *tail);
void ak__http_metrics_query(struct ak_http_req *rq, const char *tail);
void ak__http_mon_targets(struct ak_http_req *rq, const char *tail);
void ak__http_metrics_stats(struct ak_http_req *rq, const char *tail);
void ak__http_mon_dashboard(struct ak_http_req *rq, const char *tail);
/* A time argument: "7d" (that long before now_ms), or ms since the epoch. false when neither. */
bool ak__http_time_arg(const char *s, int64_t now_ms, int64_t *ret_ms);

/* GET /chart?series=KEY[&range=7d] (dashboard.c): one series as a server-rendered SVG chart. */
void ak__http_chart(struct ak_http_req *rq, const char *tail);
/* The dashboard's monitoring part (dashboard.c), above the other panels; nothing without mon. */
void ak__http_dashboard_mon(struct ak_http_req *rq, int64_t now_ms);
/* The style rules of the monitoring part, for the page's <style>. */
extern const char ak__http_mon_css[];

/* GET / (dashboard.c): renders the overview page from a reader connection. */
struct ak_store;
void ak__http_dashboard(struct ak_http_req *rq, struct ak_store *st);

#endif
