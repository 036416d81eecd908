/* mon_int.h — private structures of the monitoring engine (src/mon/ only).
 *
 * Locking: m->mu guards the series table, the pending lists and the write connection m->wst.
 * m->smu guards the target/source status the API reads. Readers open their own read connection
 * (mon_open_read) and take neither, except ak_mon_targets (m->smu).
 */
#ifndef AK_MON_INT_H
#define AK_MON_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_mon.h"
#include "asakai/ak_store.h"
#include "asakai/ak_tsdb.h"

struct ak_cfg;
struct ak_cfg_service;
struct ak_json;

#define MON_HOUR_MS 3600000LL
#define MON_DAY_MS 86400000LL
/* Sample times past the end of year 9999 are refused: ms arithmetic (bucket end = start + tier,
 * + step) must not overflow int64 on times from outside. */
#define MON_MAX_T_MS 253402300799999LL
/* A checkpoint (open chunks written, the ingest log trimmed) runs when this much time passed
 * since the last one, by the clock or by the sample times (a fast import of scrapes spans
 * minutes in a second: the log still holds at most a minute of them), when the log since the
 * last one holds this many bytes, and at the stop. */
#define MON_CKPT_MS 300000LL
#define MON_CKPT_LOG_BYTES (64u * 1024 * 1024)
/* A log record is cut at this size (a large import writes several). */
#define MON_LOG_RECORD_BYTES (4u * 1024 * 1024)

/* One live series: only its open chunk and its open tier points are in memory. */
struct mon_series {
    char *key;
    int64_t id;                /* 0 until the series row is written (next flush) */
    int type;                  /* enum ak_mtype */
    char *metric, *service, *labels_json; /* kept only until the row is written */
    struct ak_mon *m;          /* for the tiers callback */
    struct ak_tsdb_chunk chunk;
    int64_t chunk_start;       /* time of the open chunk's first sample */
    bool chunk_dirty;          /* changed since it was last written to the chunk tables (a
                                  checkpoint or a finished chunk); until then its samples are
                                  in the ingest log */
    bool in_dirty;             /* listed in m->dirty */
    bool have_t;
    struct ak_tsdb_tiers tiers;
    int64_t first_t, last_t;   /* oldest / newest sample stored or accepted */
    double last_v;
    int64_t b_from, b_to;      /* time range accepted since the last flush */
    int64_t ck_from, ck_to;    /* since the last checkpoint: the series row is widened by
                                  checkpoints only (readers see the memory: mon_series_overlay) */
    uint64_t seen_gen;         /* batch generation that last counted it */
    int64_t rec_last[AK_TSDB_NTIERS]; /* recovery: newest stored point per tier, -1 none */
};

/* A sample accepted since the last flush: what the flush appends to the ingest log. */
struct mon_lsample {
    struct mon_series *s;
    int64_t t;
    double v;
};

/* A finished chunk not yet written (the open chunk filled up within a batch, or history). */
struct mon_pchunk {
    struct mon_series *s;
    int64_t start, end;
    unsigned n;
    size_t len;
    uint8_t *data;
};

struct mon_ppoint {
    struct mon_series *s;
    int tier;
    struct ak_mpoint p;
};

/* The last result of one scrape target or source. */
struct mon_tstatus {
    const char *service, *url; /* borrowed from cfg */
    bool up, scraped;
    int64_t last_ms;
    double duration_s;
    size_t samples;
    char error[256];
};
struct mon_sstatus {
    const char *name, *url;
    int64_t last_read, last_ok;
    size_t requests, samples;
    char error[256];
};

/* A batch of ingest: stats of one caller. */
struct mon_batch {
    uint64_t gen;
    struct ak_mon_ingest_stats st;
};

struct ak_mon {
    const struct ak_cfg *cfg;
    char hostname[256];
    int64_t interval_ms;       /* the host collector's interval */

    pthread_mutex_t mu;
    struct ak_store *wst;
    struct mon_series **tab;   /* open addressing, power-of-two size */
    size_t tab_cap, n_series;
    struct mon_series **dirty;
    size_t n_dirty, dirty_cap;
    struct mon_pchunk *pchunks;
    size_t n_pchunks, pchunks_cap;
    struct mon_ppoint *ppoints;
    size_t n_ppoints, ppoints_cap;
    struct ak_buf key;         /* scratch for series keys */
    struct mon_lsample *lsamp; /* accepted since the last flush, in order */
    size_t n_lsamp, lsamp_cap;
    struct ak_buf logrec;      /* scratch for log records */
    int64_t log_last_id;       /* newest log record written */
    size_t log_bytes;          /* log bytes since the last checkpoint */
    int64_t ckpt_mono_ms;      /* time of the last checkpoint */
    int64_t ckpt_data_ms;      /* newest sample time at the last checkpoint */
    int64_t max_t;             /* newest sample time accepted */
    struct mon_series **by_id; /* series by store id (ids are dense), by_id_cap entries */
    size_t by_id_cap;
    bool recovering;           /* replaying the ingest log: nothing logged again, only tier
                                  points newer than the stored ones queued */
    uint64_t gen;
    bool replaying;            /* recovery: tier points are not queued */

    /* threads */
    pthread_mutex_t tmu;       /* with cv: sleeping and stopping */
    pthread_cond_t cv;
    atomic_bool stop;
    pthread_t collector, keeper;
    bool collector_started, keeper_started;
    pthread_mutex_t round_mu;  /* one collection round at a time */

    pthread_mutex_t smu;
    struct mon_tstatus *targets;
    size_t n_targets;
    struct mon_sstatus *sources;
    size_t n_sources;
};

/* A service as monitoring sees it: the configured ones plus the implicit host service. */
struct mon_svc {
    const char *name, *type;
    const struct ak_cfg_service *cfg; /* NULL for the implicit host service */
    int64_t interval_ms;
    bool scraped;              /* has targets, or is the host collector's service */
};
/* Fills *ret (malloc'ed array) with every service; the host service is added when missing. */
size_t mon_services(const struct ak_cfg *cfg, struct mon_svc **ret);
bool mon_service_known(const struct ak_cfg *cfg, const char *name);

/* ingest.c (m->mu held for every call) */
struct mon_series *mon_series_find(struct ak_mon *m, const char *key);
/* The series of key, created when new (NULL when over max_series: counted as dropped). */
struct mon_series *mon_series_get(struct ak_mon *m, const char *key, const char *name,
                                  const struct ak_expo_label *labels, size_t nlabels, int type,
                                  struct mon_batch *b);
/* Adds one stored series (recovery). */
struct mon_series *mon_series_add_stored(struct ak_mon *m, const struct ak_mseries *ms);
int mon_ingest(struct ak_mon *m, const char *name, const struct ak_expo_label *labels,
               size_t nlabels, int type, int64_t t, double v, struct mon_batch *b);
int mon_ingest_series(struct ak_mon *m, struct mon_series *s, int64_t t, double v,
                      struct mon_batch *b);
void mon_batch_init(struct ak_mon *m, struct mon_batch *b);
void mon_count_series(struct mon_series *s, struct mon_batch *b);
void mon_push_chunk(struct ak_mon *m, struct mon_series *s, int64_t start, int64_t end,
                    unsigned n, const uint8_t *data, size_t len);
void mon_push_point(struct ak_mon *m, struct mon_series *s, int tier, const struct ak_tsdb_point *p);
void mon_mark_dirty(struct ak_mon *m, struct mon_series *s);
int mon_tiers_cb(void *ctx, unsigned tier, const struct ak_tsdb_point *p);
/* Writes every changed open chunk, finished chunk, tier point and series range in one
 * transaction. */
int mon_flush(struct ak_mon *m, struct ak_buf *err);
/* mon_flush plus, in the same transaction, every open chunk changed since the last checkpoint
 * and the trim of the ingest log up to the newest record. */
int mon_checkpoint(struct ak_mon *m, struct ak_buf *err);
void mon_index_id(struct ak_mon *m, struct mon_series *s);
struct mon_series *mon_series_by_id(struct ak_mon *m, int64_t id);
/* Appends to *buf (malloc'ed, *n entries) copies of the chunks of series id the chunk tables do
 * not hold yet (finished ones queued for the flush, then the open chunk since the last
 * checkpoint), oldest first. Takes m->mu. */
struct mon_blob {
    uint8_t *data;
    size_t len;
};
size_t mon_mem_chunks(struct ak_mon *m, int64_t id, struct mon_blob **ret);
/* Brings first_ms, last_ms and last_value of rows read from the store up to the engine's
 * (written to the rows only by checkpoints). Takes m->mu. */
void mon_series_overlay(struct ak_mon *m, struct ak_mseries *v, size_t n);
/* Decodes one ingest log record into mon_ingest_series (recovery); AK_ECORRUPT when damaged. */
int mon_log_replay(struct ak_mon *m, const uint8_t *p, size_t len, struct mon_batch *b);
/* Test hook: stops the threads and frees the engine WITHOUT the final checkpoint, as a crash
 * after the last batch would leave the database. */
void mon_drop_for_test(struct ak_mon *m);
void mon_table_free(struct ak_mon *m);
int mon_mtype(enum ak_expo_type t, const char *name);

/* recover.c */
int mon_recover(struct ak_mon *m, struct ak_buf *err);

/* collect.c / keeper.c */
void *mon_collector_main(void *arg);
void *mon_keeper_main(void *arg);
int mon_collect_round(struct ak_mon *m, int64_t now, bool all, int64_t *next_due,
                      struct ak_buf *err);
/* Sleeps until abs_ms (wall) or stop; true when stopping. */
bool mon_sleep_until(struct ak_mon *m, int64_t abs_ms);
void mon_status_init(struct ak_mon *m);
void mon_status_free(struct ak_mon *m);
int mon_daily_review(struct ak_mon *m, int64_t now, struct ak_buf *err);

/* read helpers (read.c) */
int mon_open_read(struct ak_mon *m, struct ak_store **ret, struct ak_buf *err);
/* A deploy marker as the API shows it: {id, service, version, at, by, note} (new object). */
struct ak_json *mon_deploy_json(const struct ak_deploy *d);
const char *mon_mtype_name(int type);
bool mon_glob(const char *glob, const char *s);
/* Per-step values of a series from aggregates: mean for gauges, rate for counters. */
struct mon_agg {
    int64_t t;
    double min, max, sum, first, last;
    uint64_t count, decreases;
};
/* m (may be NULL) adds the samples not yet in the chunk tables (mon_mem_chunks).
 * Aggregates of a series with start in [from, to) at step: 60000 and 3600000 from the tiers,
 * any other step from the raw samples bucketed. */
int mon_read_aggs(struct ak_mon *m, struct ak_store *st, int64_t id, int64_t from, int64_t to,
                  int64_t step, struct mon_agg **ret, size_t *ret_n);
/* Same from the raw chunks, bucketed at step from `from` (whatever step). */
int mon_read_raw_aggs(struct ak_mon *m, struct ak_store *st, int64_t id, int64_t from,
                      int64_t to, int64_t step, struct mon_agg **ret, size_t *ret_n);
/* mon_read_aggs plus, for the tier steps, the buckets still filling (from the raw samples after
 * the last written point): what a chart of "now" shows. */
int mon_read_aggs_live(struct ak_mon *m, struct ak_store *st, int64_t id, int64_t from,
                       int64_t to, int64_t step, struct mon_agg **ret, size_t *ret_n);
/* Value of aggregate i (counter: rate since aggregate i-1, NaN for the first). */
double mon_agg_value(const struct mon_agg *a, size_t i, bool counter);
void mon_json_num(struct ak_json *o, const char *k, double v);
const char *mon_unit(const char *metric);

/* coverage.c */
int mon_coverage_build(struct ak_mon *m, struct ak_store *st, int64_t now, struct ak_json **ret,
                       size_t *ret_required_missing, struct ak_buf *err);
int64_t mon_recent_ms(const struct mon_svc *svc);
struct ak_cfg_signal;
/* One cell of the matrix: a signal of a service over that service's series v[0..n). */
struct mon_cell {
    const char *state;               /* "present", "stale", "short", "missing" */
    size_t n;                        /* matching series */
    int64_t first, last;             /* oldest first_ms, newest last_ms of those */
    const struct ak_mseries *best;   /* the one to draw: metric equal to the first glob and
                                        recent preferred; NULL when missing */
};
void mon_cell_eval(const struct mon_svc *svc, const struct ak_cfg_signal *sig,
                   const struct ak_mseries *v, size_t n, int64_t now, struct mon_cell *ret);
/* "api has no latency metric (http_request_duration_seconds*)" and the like; NULL when the
 * cell needs no sentence (malloc'ed). */
char *mon_cell_sentence(const struct mon_svc *svc, const struct ak_cfg_signal *sig,
                        const struct mon_cell *c, int64_t now);

#endif
