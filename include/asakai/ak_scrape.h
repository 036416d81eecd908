/* ak_scrape.h — reading metrics over HTTP (issue 6): scraping Prometheus/OpenMetrics endpoints,
 * and reading series from a Prometheus-compatible query API (/api/v1/query_range).
 *
 * No threads of its own, no logging: each call runs its requests (libcurl multi through
 * ak_httpc) on the calling thread and hands samples to a callback on that thread.
 */
#ifndef AK_SCRAPE_H
#define AK_SCRAPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_expo.h"

struct ak_buf;

/* One sample as stored: labels sorted by name, unique, including the target's (job, instance,
 * service and the configured labels). Pointers are valid only during the callback. */
struct ak_scrape_sample {
    const char *name;
    const struct ak_expo_label *labels;
    size_t nlabels;
    enum ak_expo_type type;     /* the family's type; UNTYPED for query-API series */
    int64_t t_ms;
    double value;
};
/* Non-zero stops the current target's samples (the target then counts as failed with that
 * code) or the current query. */
typedef int (*ak_scrape_sample_fn)(void *arg, const struct ak_scrape_sample *s);

struct ak_scrape_target {
    const char *url;            /* http(s)://host:port/path */
    const char *job;            /* job label (the service name) */
    const char *service;        /* service label; NULL = not added */
    const struct ak_expo_label *labels; /* configured extra labels (any order) */
    size_t nlabels;
    int64_t timeout_ms;         /* 0 = 10 s */
    size_t max_bytes;           /* 0 = 16 MiB */
    const char *ca_file;        /* NULL = system store */
};

struct ak_scrape_result {
    bool up;                    /* the endpoint answered 200 and the body parsed */
    double duration_s;          /* request + parse */
    size_t samples;             /* samples delivered (scrape_samples_scraped) */
    long status;                /* HTTP status, 0 when none */
    char error[256];            /* "" when up; else why (HTTP 500, timeout, line 7: ...) */
};

/* Scrapes targets[0..n) concurrently (at most max_in_flight at once, 0 = 16) with
 * "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5" and
 * delivers, per target, its samples and then, like Prometheus, the synthetic series
 * up, scrape_duration_seconds, scrape_samples_scraped (gauges, time now_ms). Labels as
 * Prometheus with honor_labels false: the target's job/instance/service/extra labels win and a
 * scraped label of the same name is kept as exported_<name>; instance is the URL's host:port.
 * A sample without a timestamp gets now_ms. A body that fails to parse delivers nothing of that
 * target but its up 0 (samples are buffered per target: all or nothing). ret[0..n) (required)
 * is filled for every target. abort (may be NULL) ends the round within a second. Returns AK_OK
 * (individual targets may have failed: see ret), or the callback's non-zero value. */
int ak_scrape_targets(const struct ak_scrape_target *targets, size_t n, int64_t now_ms,
                      int max_in_flight, const atomic_bool *abort, ak_scrape_sample_fn fn,
                      void *arg, struct ak_scrape_result *ret);

/* Parses one exposition as ak_scrape_targets does for a target's body (labels added, synthetic
 * series not added): the ingest benchmark, `metrics import` and tests use it. */
int ak_scrape_parse(const struct ak_scrape_target *target, const char *text, size_t len,
                    enum ak_expo_format fmt, int64_t now_ms, ak_scrape_sample_fn fn, void *arg,
                    size_t *ret_samples, struct ak_buf *err);

/* A query_range read. */
struct ak_promapi_req {
    const char *base_url;       /* http(s)://host:port[/prefix]; "/api/v1/query_range" appended */
    const char *query;          /* PromQL */
    int64_t start_ms, end_ms;   /* inclusive range */
    int64_t step_ms;            /* > 0 */
    const char *bearer_token;   /* may be NULL */
    const char *ca_file;
    int64_t timeout_ms;         /* per request, 0 = 30 s */
    size_t max_bytes;           /* per response, 0 = 64 MiB */
    const char *source;         /* added as label "source" when not NULL */
};

/* Reads [start, end] at step, split into requests of at most AK_PROMAPI_MAX_POINTS points per
 * series each (below the servers' 11,000 limit), sent with POST form encoding. Each series'
 * samples are delivered in time order within a request; "metric" labels become the labels
 * (__name__ the name; a series without __name__ is named after the query's "name" as
 * "query_result"); values are parsed from their JSON strings ("NaN", "+Inf" kept). AK_OK, or
 * AK_EIO / AK_ETIMEDOUT / AK_EINVAL (bad JSON, status "error": its errorType and error in err),
 * or the callback's value. *ret_requests (may be NULL) = requests made. */
#define AK_PROMAPI_MAX_POINTS 10000
int ak_scrape_query_range(const struct ak_promapi_req *req, ak_scrape_sample_fn fn, void *arg,
                          size_t *ret_requests, struct ak_buf *err);

/* Parses one query_range JSON response body (the part ak_scrape_query_range does per request;
 * for the fuzzer and tests). */
int ak_scrape_parse_matrix(const char *body, size_t len, const char *source,
                           ak_scrape_sample_fn fn, void *arg, struct ak_buf *err);

#endif
