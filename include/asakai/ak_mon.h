/* ak_mon.h — daily monitoring (issue 6): the engine behind `asakai review`, `asakai coverage`,
 * the dashboard and the metrics API.
 *
 * Owns DATA_DIR/metrics.db (ak_store_open_metrics) and two threads:
 *  - the collector: every scrape interval, the built-in host collector (ak_collect, job "node",
 *    service cfg->mon_host_service, instance = host name) and the services' targets
 *    (ak_scrape), each service on its own interval;
 *  - the keeper: the query-API sources (every source interval, incrementally), retention, and
 *    the daily review at review.time in review.tz (result stored, ak_store_review_put).
 * Ingest (any thread, serialised by one mutex): samples go into an open chunk per series
 * (ak_tsdb, ≤ 120 samples) and into the minute/hour tiers (ak_tsdb_tiers); at the end of each
 * batch the changed open chunks and finished points are committed, so an accepted sample is on
 * disk when the call returns. After a restart the open chunk is re-opened from the database and
 * the open tier points are rebuilt from the raw chunks since the last stored point.
 * Readers (review, queries, coverage, dashboard) open their own read connection: they never wait
 * for the collector.
 *
 * JSON shapes of every *_json result are in docs/API.md ("Monitoring").
 */
#ifndef AK_MON_H
#define AK_MON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_cfg;
struct ak_json;
struct ak_mon;

/* Opens the metrics database and starts the threads (none when cfg->mon_enabled is false: the
 * API then still answers from what is stored). cfg must outlive the engine. */
int ak_mon_start(const struct ak_cfg *cfg, struct ak_mon **ret, struct ak_buf *err);
/* Stops the threads (a scrape round in flight is aborted within a second), commits what was
 * ingested, closes the database. NULL-safe. */
void ak_mon_stop(struct ak_mon *m);

/* What an ingest did. */
struct ak_mon_ingest_stats {
    size_t samples;      /* samples stored */
    size_t series;       /* distinct series touched */
    size_t new_series;
    size_t dropped;      /* refused: out of order (not newer than the series' last), over
                            max_series, non-finite timestamps */
    int64_t from_ms, to_ms; /* time range stored (0 when nothing) */
};

/* Imports an exposition with timestamps (OpenMetrics as `promtool tsdb create-blocks-from
 * openmetrics` takes, or 0.0.4 text with ms timestamps; fmt from ak_expo_format_from_content_type).
 * All or nothing: the text is parsed and validated first (errors name the line); samples are
 * then grouped per series and sorted by time, and stored in one transaction. History older than
 * a series' open chunk is stored in chunks of its own and its tier points replace those of the
 * same minutes/hours (re-importing a file is idempotent). A sample without a timestamp is an
 * error. */
int ak_mon_import(struct ak_mon *m, const char *text, size_t len, int fmt,
                  struct ak_mon_ingest_stats *ret, struct ak_buf *err);

/* One review request (`asakai review`, GET /api/v1/review). */
struct ak_mon_review_req {
    int64_t now_ms;          /* 0 = now */
    int64_t window_ms;       /* 0 = cfg review.window */
    const char *resolution;  /* "hour" (default), "minute" or "raw" (on-demand looks at a short
                                window: raw samples averaged to steps of the scrape interval) */
    const char *service;     /* NULL = all */
};
/* Runs the review now over what is stored and writes the result object (findings ranked). */
int ak_mon_review(struct ak_mon *m, const struct ak_mon_review_req *req, struct ak_json **ret,
                  struct ak_buf *err);
/* The newest stored daily review, AK_ENOTFOUND when none has run. */
int ak_mon_review_latest(struct ak_mon *m, struct ak_json **ret, struct ak_buf *err);

/* The coverage matrix: services × signals, each cell present / stale / missing / short (not
 * enough history), and the missing ones in words. *ret_required_missing = required cells not
 * present (the CLI exits 1 when > 0). */
int ak_mon_coverage(struct ak_mon *m, int64_t now_ms, struct ak_json **ret,
                    size_t *ret_required_missing, struct ak_buf *err);

/* Deploy markers. at_ms 0 = now. service must be a declared service (AK_ENOTFOUND otherwise,
 * with the known names in err). */
int ak_mon_deploy_mark(struct ak_mon *m, const char *service, const char *version, int64_t at_ms,
                       const char *by, const char *note, int64_t *ret_id, struct ak_buf *err);
int ak_mon_deploy_list(struct ak_mon *m, const char *service, int64_t from_ms, int64_t to_ms,
                       struct ak_json **ret, struct ak_buf *err);

/* Series list (service/glob NULL = all). */
int ak_mon_series(struct ak_mon *m, const char *service, const char *glob, struct ak_json **ret,
                  struct ak_buf *err);
/* Points of one series (by key) in [from_ms, to_ms) at resolution "raw", "minute", "hour" or
 * "auto" (the finest that gives ≤ 2000 points); counters as per-second rates. Deploy markers of
 * the series' service in the range come with it. */
int ak_mon_query(struct ak_mon *m, const char *key, int64_t from_ms, int64_t to_ms,
                 const char *resolution, struct ak_json **ret, struct ak_buf *err);
/* Scrape targets and sources with their last result. */
int ak_mon_targets(struct ak_mon *m, struct ak_json **ret, struct ak_buf *err);
/* Storage numbers: series, samples, bytes per raw sample, points per tier, file size. */
int ak_mon_stats(struct ak_mon *m, struct ak_json **ret, struct ak_buf *err);
/* Everything the dashboard's monitoring part shows: per service its signals' 7-day hourly
 * sparklines (values and min/max), the latest review's findings, days-to-limit, coverage gaps. */
int ak_mon_dashboard(struct ak_mon *m, int64_t now_ms, struct ak_json **ret, struct ak_buf *err);

/* Runs one collection round now (host collector and every target), for tests and the demo;
 * returns when its samples are stored. */
int ak_mon_collect_now(struct ak_mon *m, struct ak_buf *err);

#endif
