/* ak_store.h — asakai's durable state (the only door to SQLite; src/store/).
 *
 * One struct ak_store is one connection: use it from one thread at a time. The daemon has one
 * writer connection (owned by the intake writer thread) and opens reader connections for API
 * reads; WAL lets readers run beside the writer. ak_store_open() with AK_STORE_WRITE runs the
 * versioned migrations. Every write goes through a transaction the caller opens with
 * ak_store_begin() (synchronous=FULL: a commit is durable when it returns).
 *
 * The interface is backend-neutral on purpose (a PostgreSQL backend will implement the same
 * functions for teams that run several replicas): no SQL crosses it.
 * Returned structs own their strings; release them with the matching *_release().
 */
#ifndef AK_STORE_H
#define AK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_store;

enum { AK_STORE_READ = 0, AK_STORE_WRITE = 1 };

/* Opens (creating dir and database when writing) DATA_DIR/asakai.db. A file that is not an
 * asakai database, or one from a newer schema, fails with AK_ECORRUPT / AK_EUNSUPPORTED and a
 * clear reason. busy timeout 5 s. */
int ak_store_open(const char *data_dir, int mode, struct ak_store **ret, struct ak_buf *err);
void ak_store_close(struct ak_store *st); /* NULL-safe */
int ak_store_schema_version(struct ak_store *st);

int ak_store_begin(struct ak_store *st);    /* BEGIN IMMEDIATE */
int ak_store_commit(struct ak_store *st);
int ak_store_rollback(struct ak_store *st); /* NULL-safe, no-op outside a transaction */

/* Durability of the following commits: full (synchronous=FULL, the default: durable when commit
 * returns) or not (synchronous=NORMAL: atomic, but the last commits may be lost on power failure —
 * only for data that can be recomputed from what is durable, like normalisation of the archive). */
int ak_store_set_durable(struct ak_store *st, bool full);

/* Wall time of the last store operation, for the store-latency metric (microseconds). */
int64_t ak_store_last_op_us(const struct ak_store *st);

/* ---- raw archive: every message received, verbatim, kept forever ----------------------- */

struct ak_raw {
    int64_t id;
    char *channel;      /* "sns", "eventbridge", "import", "demo" */
    char *dedupe_id;    /* "sns:<MessageId>", "eb:<event id>", "sha256:<hex of body>" */
    int64_t received_at;
    char *remote;       /* peer address, or "cli" */
    char *meta;         /* JSON object text: selected headers, file name, ...; may be NULL */
    char *body;         /* verbatim bytes (NUL-terminated copy) */
    size_t body_len;
    char *state;        /* "pending" (not yet normalised), "parsed", "ignored" (known, not a
                           maintenance), "unparsed" (unknown shape/invalid; kept), "control"
                           (SNS confirmation messages) */
    char *note;         /* why, for ignored/unparsed; summary for parsed */
};
void ak_raw_release(struct ak_raw *r);

/* Inserts r (id, state and note ignored: state starts "pending"). When a raw message with the
 * same dedupe_id exists, inserts nothing, sets *ret_dup = true and *ret_id to the existing id. */
int ak_store_raw_put(struct ak_store *st, const struct ak_raw *r, int64_t *ret_id, bool *ret_dup);
int ak_store_raw_get(struct ak_store *st, int64_t id, struct ak_raw *ret);
/* Ids of up to max raw messages in state "pending", oldest first (caller frees *ret_ids). */
int ak_store_raw_pending(struct ak_store *st, size_t max, int64_t **ret_ids, size_t *ret_n);
int ak_store_raw_set_state(struct ak_store *st, int64_t id, const char *state, const char *note);
/* Counts raw messages (state NULL = all). */
int ak_store_raw_count(struct ak_store *st, const char *state, int64_t *ret);
/* Lists raw messages newest first, without bodies (body NULL), state NULL = all. */
int ak_store_raw_list(struct ak_store *st, const char *state, size_t limit, struct ak_raw **ret,
                      size_t *ret_n);

/* ---- maintenance records -------------------------------------------------------------- */

struct ak_maint_rec {
    int64_t id;
    char *key;           /* dedupe key (several records share one across a recurrence chain) */
    char *source;        /* source of the first observation */
    char *service, *kind, *status, *event_code, *account, *region;
    char **resources;
    size_t n_resources;
    int64_t window_start, window_end, deadline; /* 0 = unknown */
    char *title, *description;
    int64_t first_seen, last_seen, closed_at;   /* closed_at: when completed/canceled, else 0 */
    int64_t recurrence_of;                      /* 0 = none */
    bool required;
    bool important;      /* sticky importance (required, rescheduled, recurrence) */
    char *important_why; /* comma-separated reasons, may be NULL */
    char *sources;       /* comma-separated distinct sources seen ("aws.health,elasticache-sns") */
    char *family;        /* ak_kind_family(service, kind), stored for the recurrence lookup;
                            NULL = the kind itself (added for ak_store_rec_find_completed) */
};
void ak_maint_rec_release(struct ak_maint_rec *r);

int ak_store_rec_get(struct ak_store *st, int64_t id, struct ak_maint_rec *ret);
/* The newest record (highest id) with this key; AK_ENOTFOUND if none. */
int ak_store_rec_latest_by_key(struct ak_store *st, const char *key, struct ak_maint_rec *ret);
/* Inserts r (r->id ignored); writes the new id. Resources are indexed for lookup. */
int ak_store_rec_insert(struct ak_store *st, const struct ak_maint_rec *r, int64_t *ret_id);
/* Overwrites every field of record r->id (resources replaced). */
int ak_store_rec_update(struct ak_store *st, const struct ak_maint_rec *r);
/* The most recently closed record with status "completed" of this service whose kind is in the
 * given family (ak_kind_family) and that shares resource, closed at or after since_ms. */
int ak_store_rec_find_completed(struct ak_store *st, const char *service, const char *family,
                                const char *resource, int64_t since_ms, struct ak_maint_rec *ret);

struct ak_rec_filter {
    bool all;             /* false: open records only (status not completed/canceled) */
    bool upcoming;        /* only records whose deadline or window_start is in the future */
    int64_t now_ms;       /* for upcoming */
    const char *service;  /* NULL = any */
    size_t limit;         /* 0 = 1000 */
};
/* Records matching f, soonest deadline (else window_start) first, unknown dates last. */
int ak_store_rec_list(struct ak_store *st, const struct ak_rec_filter *f, struct ak_maint_rec **ret,
                      size_t *ret_n);

/* ---- history: every delivery that touched a record ----------------------------------- */

struct ak_delivery {
    int64_t id;
    int64_t rec_id;
    int64_t raw_id;
    char *channel;       /* copied from the raw message */
    char *message_id;    /* the source's own id (SNS MessageId, event id, ...) */
    int64_t at;          /* when it was applied */
    char *change;        /* "created", "rescheduled: ...", "status scheduled -> completed",
                            "duplicate", "page 2/3", "unchanged" */
};
void ak_delivery_release(struct ak_delivery *d);
int ak_store_delivery_add(struct ak_store *st, const struct ak_delivery *d, int64_t *ret_id);
/* Oldest first. */
int ak_store_delivery_list(struct ak_store *st, int64_t rec_id, struct ak_delivery **ret,
                           size_t *ret_n);

#endif
