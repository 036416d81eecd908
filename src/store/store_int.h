/* store_int.h — private to src/store: the connection, its statement cache and SQLite helpers. */
#ifndef AK_STORE_INT_H
#define AK_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every statement the store runs, prepared once per connection (SQLITE_PREPARE_PERSISTENT). */
enum ak_store_stmt_id {
    AK_SQL_BEGIN,
    AK_SQL_COMMIT,
    AK_SQL_ROLLBACK,
    AK_SQL_SAVEPOINT,
    AK_SQL_RELEASE,
    AK_SQL_ROLLBACK_TO,
    AK_SQL_RAW_INSERT,
    AK_SQL_RAW_ID_BY_DEDUPE,
    AK_SQL_RAW_GET,
    AK_SQL_RAW_PENDING,
    AK_SQL_RAW_SET_STATE,
    AK_SQL_RAW_COUNT_ALL,
    AK_SQL_RAW_COUNT_STATE,
    AK_SQL_RAW_LIST,
    AK_SQL_REC_GET,
    AK_SQL_REC_LATEST_BY_KEY,
    AK_SQL_REC_INSERT,
    AK_SQL_REC_UPDATE,
    AK_SQL_REC_RES_DELETE,
    AK_SQL_REC_RES_INSERT,
    AK_SQL_REC_RES_GET,
    AK_SQL_REC_FIND_COMPLETED,
    AK_SQL_REC_FIND_OPEN,
    AK_SQL_REC_ALIAS_ADD,
    AK_SQL_REC_LIST,
    AK_SQL_DELIVERY_INSERT,
    AK_SQL_DELIVERY_LIST,
    AK_SQL_REC_ACK,
    AK_SQL_CHANGE_INSERT,
    AK_SQL_CHANGE_ID_BY_KEY,
    AK_SQL_CHANGE_LIST_AFTER,
    AK_SQL_CHANGE_LIST_REC,
    AK_SQL_OUTBOX_INSERT,
    AK_SQL_OUTBOX_ID_BY_KEY,
    AK_SQL_OUTBOX_DUE,
    AK_SQL_OUTBOX_NEXT_DUE,
    AK_SQL_OUTBOX_UPDATE,
    AK_SQL_OUTBOX_GET,
    AK_SQL_OUTBOX_LIST_ALL,
    AK_SQL_OUTBOX_LIST_STATE,
    AK_SQL_OUTBOX_LIST_REC,
    AK_SQL_OUTBOX_COUNTS,
    AK_SQL_OUTBOX_RETRY_ONE,
    AK_SQL_OUTBOX_RETRY_ALL,
    AK_SQL_OUTBOX_EXISTS,
    AK_SQL_THREAD_GET,
    AK_SQL_THREAD_SET,
    AK_SQL_SILENCE_INSERT,
    AK_SQL_SILENCE_LIST_ALL,
    AK_SQL_SILENCE_LIST_ACTIVE,
    AK_SQL_SILENCE_EXPIRE,
    AK_SQL_SILENCE_EXISTS,
    AK_SQL_KV_GET,
    AK_SQL_KV_SET,
    AK_SQL_POLL_SCOPE_PUT,
    AK_SQL_POLL_SCOPE_GET,
    AK_SQL_POLL_SCOPE_LIST,
    AK_SQL_POLL_SEEN_PUT,
    AK_SQL_POLL_SEEN_GET,
    AK_SQL_POLL_SEEN_DEL,
    AK_SQL_POLL_SEEN_LIST,
    AK_SQL_PUSH_SEEN,
    AK_SQL_STS_CRED_INSERT,
    AK_SQL_STS_CRED_GET,
    AK_SQL_STS_CRED_PURGE,
    AK_SQL_STS_AUDIT_PURGE,
    AK_SQL_STS_AUDIT_INSERT,
    AK_SQL_STS_AUDIT_LIST,
    /* schema v5: the SQL text of these lives in store_rb.c / store_search.c
     * (ak_store_stmt_sql) */
    AK_SQL_RB_INSERT,
    AK_SQL_RB_STEP_INSERT,
    AK_SQL_RB_GET,
    AK_SQL_RB_LIST,
    AK_SQL_RB_LIST_MAINT,
    AK_SQL_RB_SET_STATUS,
    AK_SQL_RB_STEPS,
    AK_SQL_RB_STEP_UPDATE,
    AK_SQL_RB_STEPS_DUE,
    AK_SQL_RB_EVENT_INSERT,
    AK_SQL_RB_EVENTS,
    AK_SQL_NOTE_INSERT,
    AK_SQL_NOTE_GET,
    AK_SQL_NOTE_LIST,
    AK_SQL_SEARCH,
    /* metrics.db only (store_metrics.c); every id from AK_SQL_MSERIES_GET on belongs to it */
    AK_SQL_MSERIES_GET,
    AK_SQL_MSERIES_ID,
    AK_SQL_MSERIES_INSERT,
    AK_SQL_MSERIES_TOUCH,
    AK_SQL_MSERIES_LIST,
    AK_SQL_MCHUNK_PUT,
    AK_SQL_MCHUNK_DEL,
    AK_SQL_MHEAD_PUT,
    AK_SQL_MHEAD_DEL,
    AK_SQL_MCHUNK_EACH,
    AK_SQL_MCHUNK_LAST,
    AK_SQL_MLOG_PUT,
    AK_SQL_MLOG_EACH,
    AK_SQL_MLOG_TRIM,
    AK_SQL_MPOINT_PUT,
    AK_SQL_MPOINT_RANGE,
    AK_SQL_MPOINT_LAST,
    AK_SQL_MPOINT_DEL,
    AK_SQL_MPOINT_OLDER,
    AK_SQL_MPOINT_PACKABLE,
    AK_SQL_MBLOCK_GET,
    AK_SQL_MBLOCK_PUT,
    AK_SQL_MBLOCK_DEL,
    AK_SQL_MBLOCK_RANGE,
    AK_SQL_MBLOCK_LAST,
    AK_SQL_MRETAIN_BLOCKS,
    AK_SQL_MRETAIN_STRADDLE,
    AK_SQL_MRETAIN_CHUNKS,
    AK_SQL_MRETAIN_HEADS,
    AK_SQL_MRETAIN_POINTS,
    AK_SQL_MVACUUM,
    AK_SQL_MSTATS_SERIES,
    AK_SQL_MSTATS_CHUNKS,
    AK_SQL_MSTATS_POINTS,
    AK_SQL_MSTATS_FILE,
    AK_SQL_MSTATS_DBSTAT,
    AK_SQL_DEPLOY_INSERT,
    AK_SQL_DEPLOY_LIST,
    AK_SQL_REVIEW_INSERT,
    AK_SQL_REVIEW_TRIM,
    AK_SQL_REVIEW_LATEST,
    AK_SQL__MAX
};

struct ak_buf;
struct ak_store;

/* A schema migration: step i brings a database to user_version i + 1; post (may be NULL) runs
 * after the SQL inside the same transaction, for data SQL cannot make. */
struct ak_store_migration {
    const char *sql;
    int (*post)(struct ak_store *st, struct ak_buf *err);
};

/* One kind of database file the store opens: asakai.db or metrics.db. */
struct ak_store_kind {
    const char *file;        /* name in DATA_DIR */
    const char *what;        /* "an asakai database", for messages */
    int64_t app_id;          /* PRAGMA application_id */
    const struct ak_store_migration *migrations;
    int n_migrations;
    const char *setup;       /* PRAGMAs of every connection */
    const char *create;      /* PRAGMAs of writers before WAL (they only act on a new file) */
    bool metrics;            /* the monitoring time series (ak_store.h, last section) */
};
extern const struct ak_store_kind ak__store_metrics_kind;

/* Opens DATA_DIR/<kind->file> as ak_store_open describes (foreign file, version, migrations). */
int ak_store_open_kind(const char *data_dir, int mode, const struct ak_store_kind *kind,
                       struct ak_store **ret, struct ak_buf *err);

struct ak_store {
    sqlite3 *db;
    char *path;
    int mode;
    int version;
    int64_t last_op_us;
    bool metrics;            /* metrics.db: only AK_SQL_M* (and the transaction) statements */
    const struct ak_store_kind *kind;
    sqlite3_stmt *stmt[AK_SQL__MAX];
    /* metrics.db: per (series, tier) the block period last written loose with nothing older
     * loose and no block of its own (store_metrics.c), so that the next point of the same
     * period is one INSERT; NULL until used */
    struct ak__mperiod *periods;
    size_t periods_cap;
};

/* Microseconds of the monotonic clock. */
int64_t ak_store_mono_us(void);
/* Records the duration of the operation that started at t0 (ak_store_mono_us()). */
void ak_store_op_done(struct ak_store *st, int64_t t0);

/* Maps an SQLite result code (extended codes understood) to AK_*. */
int ak_store_map_rc(int rc);

/* The cached statement id, reset and unbound, ready for binding. */
int ak_store_stmt(struct ak_store *st, enum ak_store_stmt_id id, sqlite3_stmt **ret);
/* The same for a statement whose text is kept beside its functions (sql: a string literal, the
 * same for every call with this id). */
int ak_store_stmt_sql(struct ak_store *st, enum ak_store_stmt_id id, const char *sql,
                      sqlite3_stmt **ret);
/* Runs a statement that returns no rows; resets it. */
int ak_store_step_done(sqlite3_stmt *s);
/* Steps a bound statement into a growing array of zeroed elements of size elem (at most max
 * rows), each filled by read; on an error releases what was read with release. Resets s. */
int ak_store_collect(sqlite3_stmt *s, size_t max, size_t elem,
                     void (*read)(sqlite3_stmt *s, void *elem), void (*release)(void *elem),
                     void **ret, size_t *ret_n);
/* The same for a query of at most one row into *ret (zeroed first): AK_ENOTFOUND without one. */
int ak_store_collect_one(sqlite3_stmt *s, size_t elem, void (*read)(sqlite3_stmt *s, void *elem),
                         void *ret);

/* Binding helpers: NULL string -> SQL NULL; 0 for the *_opt variants -> SQL NULL. */
int ak_store_bind_str(sqlite3_stmt *s, int i, const char *v);
int ak_store_bind_i64(sqlite3_stmt *s, int i, int64_t v);
int ak_store_bind_i64_opt(sqlite3_stmt *s, int i, int64_t v);

/* Column readers: NULL column -> NULL / 0. Strings are malloc'ed copies. */
char *ak_store_col_str(sqlite3_stmt *s, int i);
int64_t ak_store_col_i64(sqlite3_stmt *s, int i);

/* A savepoint around a multi-statement write, so that it is atomic inside or outside a
 * caller's transaction. end(st, r) releases on r == AK_OK, else rolls back to it. */
int ak_store_sp_begin(struct ak_store *st);
int ak_store_sp_end(struct ak_store *st, int r);

/* Schema v5 (store_search.c): the runbook, note and search tables, the triggers that keep the
 * full-text index current, and the statement that indexes the records that existed before. */
extern const char ak__store_v5_sql[];

#endif
