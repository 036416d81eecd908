/* store_metrics.c — the monitoring time series (issue 6): DATA_DIR/metrics.db, a database of
 * its own (application_id "akmt", its own migrations) opened through the same struct ak_store,
 * so the statement cache, transactions and row collectors of store.c serve it too.
 *
 * Layout (docs/internals/store.md, "metrics.db"): raw samples live as encoded ak_tsdb chunks,
 * one row per chunk, in two tables: the open (growing) chunk of a series in mheads, small and
 * rewritten at every scrape, and finished chunks in mchunks, an ordinary rowid table written in
 * append order (pages fill up to the last row that fits, and a chunk of up to 2190 bytes stays
 * on its page where a WITHOUT ROWID row spills past ~1002 bytes) with a UNIQUE (series_id,
 * start_ms) index for range reads. A key lives in exactly one of the two. The downsampled tiers
 * are one row per point in a WITHOUT ROWID table keyed (series, tier, start_ms).
 */
#include "asakai/ak_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

/* "akmt" in ASCII: marks the file as the metrics database. */
#define AK_METRICS_APP_ID 0x616B6D74

#define STR_MAX (64 * 1024)           /* key, metric, service, labels, deploy fields */
#define CHUNK_BYTES_MAX (64 * 1024)   /* an ak_tsdb chunk is at most 2190 bytes */
/* AK_TSDB_CHUNK_MAX_SAMPLES of ak_tsdb.h (store uses core only, so it is repeated here;
 * test_store_metrics checks they agree): a chunk of this many samples is final */
#define CHUNK_FULL 120
#define REVIEW_JSON_MAX (16 * 1024 * 1024)
#define REVIEWS_KEPT 60
#define LIST_MAX 1000000              /* rows of a list or a range */
#define RETAIN_BATCH 10000            /* rows per retention DELETE */
#define VACUUM_PAGES 4096             /* pages given back per retention call (16 MiB) */

#define SERIES_COLS "id, key, metric, service, labels, type, first_ms, last_ms, last_value"
#define DEPLOY_COLS "id, service, version, at_ms, actor, note"

static const char metrics_v1_sql[] =
    "PRAGMA application_id = 1634430324;" /* AK_METRICS_APP_ID */
    "CREATE TABLE series ("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL UNIQUE,"
    "  metric TEXT NOT NULL,"
    "  service TEXT NOT NULL DEFAULT '',"
    "  labels TEXT NOT NULL DEFAULT '{}',"
    "  type INTEGER NOT NULL DEFAULT 0,"
    "  first_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_value REAL);"
    "CREATE INDEX series_service ON series (service, metric);"
    "CREATE TABLE mheads ("
    "  series_id INTEGER NOT NULL REFERENCES series (id),"
    "  start_ms INTEGER NOT NULL,"
    "  end_ms INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (series_id, start_ms)) WITHOUT ROWID;"
    "CREATE TABLE mchunks ("
    "  series_id INTEGER NOT NULL REFERENCES series (id),"
    "  start_ms INTEGER NOT NULL,"
    "  end_ms INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  data BLOB NOT NULL);"
    "CREATE UNIQUE INDEX mchunks_key ON mchunks (series_id, start_ms);"
    "CREATE TABLE points ("
    "  series_id INTEGER NOT NULL REFERENCES series (id),"
    "  tier INTEGER NOT NULL,"
    "  start_ms INTEGER NOT NULL,"
    "  min REAL, max REAL, sum REAL, first REAL, last REAL,"
    "  count INTEGER NOT NULL,"
    "  decreases INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (series_id, tier, start_ms)) WITHOUT ROWID;"
    "CREATE TABLE deploys ("
    "  id INTEGER PRIMARY KEY,"
    "  service TEXT NOT NULL,"
    "  version TEXT,"
    "  at_ms INTEGER NOT NULL,"
    "  actor TEXT, note TEXT);"
    "CREATE INDEX deploys_at ON deploys (at_ms);"
    "CREATE INDEX deploys_service ON deploys (service, at_ms);"
    "CREATE TABLE reviews ("
    "  id INTEGER PRIMARY KEY,"
    "  at_ms INTEGER NOT NULL,"
    "  json TEXT NOT NULL);"
    "CREATE INDEX reviews_at ON reviews (at_ms);";

static const struct ak_store_migration metrics_migrations[] = {
    {metrics_v1_sql, NULL},
};

const struct ak_store_kind ak__store_metrics_kind = {
    .file = "metrics.db",
    .what = "an asakai metrics database",
    .app_id = AK_METRICS_APP_ID,
    .migrations = metrics_migrations,
    .n_migrations = (int)AK_ARRAY_SIZE(metrics_migrations),
    /* scrapes re-send current values and the tiers are recomputed from chunks: losing the
     * last commits to a power failure is acceptable, an fsync per scrape commit is not */
    .setup = "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL",
    /* 4 KiB pages (~7 full chunks of a typical mix; any chunk fits whole in an mchunks row);
     * incremental auto-vacuum so that retention can give pages back to the file system without
     * a full VACUUM */
    .create = "PRAGMA page_size = 4096; PRAGMA auto_vacuum = INCREMENTAL",
    .metrics = true,
};

static const char sql_mseries_get[] = "SELECT " SERIES_COLS " FROM series WHERE key = ?1";
static const char sql_mseries_id[] = "SELECT id FROM series WHERE key = ?1";
static const char sql_mseries_insert[] =
    "INSERT INTO series (key, metric, service, labels, type) VALUES (?1, ?2, ?3, ?4, ?5)";
/* the right-hand sides all see the old row, so the order of the assignments does not matter */
static const char sql_mseries_touch[] =
    "UPDATE series SET first_ms = CASE WHEN first_ms = 0 AND last_ms = 0 OR ?2 < first_ms "
    "THEN ?2 ELSE first_ms END, last_value = CASE WHEN ?3 >= last_ms THEN ?4 ELSE last_value "
    "END, last_ms = max(last_ms, ?3) WHERE id = ?1";
static const char sql_mseries_list[] =
    "SELECT " SERIES_COLS " FROM series WHERE (?1 IS NULL OR service = ?1) "
    "AND (?2 IS NULL OR metric GLOB ?2) ORDER BY key LIMIT ?3";
/* REPLACE of a finished chunk deletes the old row and appends the new one at the end */
static const char sql_mchunk_put[] =
    "INSERT OR REPLACE INTO mchunks (series_id, start_ms, end_ms, n, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_mchunk_del[] = "DELETE FROM mchunks WHERE series_id = ?1 AND start_ms = ?2";
static const char sql_mhead_put[] =
    "INSERT INTO mheads (series_id, start_ms, end_ms, n, data) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (series_id, start_ms) DO UPDATE SET end_ms = excluded.end_ms, n = excluded.n, "
    "data = excluded.data";
static const char sql_mhead_del[] = "DELETE FROM mheads WHERE series_id = ?1 AND start_ms = ?2";
/* chunks of a series follow each other in time: the walk over start_ms <= to is short after
 * retention (raw default 3 days: ~150 chunks at a 15 s interval). Both halves come sorted by
 * their (series_id, start_ms) keys, so the ORDER BY is a merge, not a sort. */
#define CHUNK_RANGE(table)                                                                     \
    "SELECT start_ms, end_ms, n, data FROM " table " WHERE series_id = ?1 AND start_ms <= ?3 " \
    "AND end_ms >= ?2"
static const char sql_mchunk_each[] =
    CHUNK_RANGE("mchunks") " UNION ALL " CHUNK_RANGE("mheads") " ORDER BY start_ms";
#define CHUNK_NEWEST(table)                                                                    \
    "SELECT * FROM (SELECT start_ms, end_ms, n, data FROM " table " WHERE series_id = ?1 "     \
    "ORDER BY start_ms DESC LIMIT 1)"
static const char sql_mchunk_last[] =
    CHUNK_NEWEST("mchunks") " UNION ALL " CHUNK_NEWEST("mheads") " ORDER BY start_ms DESC "
    "LIMIT 1";
static const char sql_mpoint_put[] =
    "INSERT INTO points (series_id, tier, start_ms, min, max, sum, first, last, count, "
    "decreases) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT (series_id, tier, start_ms) DO UPDATE SET min = excluded.min, "
    "max = excluded.max, sum = excluded.sum, first = excluded.first, last = excluded.last, "
    "count = excluded.count, decreases = excluded.decreases";
static const char sql_mpoint_range[] =
    "SELECT start_ms, min, max, sum, first, last, count, decreases FROM points "
    "WHERE series_id = ?1 AND tier = ?2 AND start_ms >= ?3 AND start_ms < ?4 "
    "ORDER BY start_ms LIMIT ?5";
static const char sql_mpoint_last[] =
    "SELECT start_ms FROM points WHERE series_id = ?1 AND tier = ?2 "
    "ORDER BY start_ms DESC LIMIT 1";
/* Driven by the (small) series table: per series one range seek (mchunks_key, or the primary
 * key of mheads and points) over the rows older than the cut, never a walk of a whole table
 * (end_ms < cut implies start_ms < cut, which bounds the seek). CROSS JOIN fixes that loop
 * order: left to itself the planner scans the chunks and looks each row's series up
 * (test_store_metrics checks the plans). */
static const char sql_mretain_chunks[] =
    "DELETE FROM mchunks WHERE rowid IN (SELECT c.rowid "
    "FROM series s CROSS JOIN mchunks c ON c.series_id = s.id AND c.start_ms < ?1 "
    "WHERE c.end_ms < ?1 LIMIT ?2)";
static const char sql_mretain_heads[] =
    "DELETE FROM mheads WHERE (series_id, start_ms) IN (SELECT h.series_id, h.start_ms "
    "FROM series s CROSS JOIN mheads h ON h.series_id = s.id AND h.start_ms < ?1 "
    "WHERE h.end_ms < ?1 LIMIT ?2)";
static const char sql_mretain_points[] =
    "DELETE FROM points WHERE (series_id, tier, start_ms) IN (SELECT p.series_id, p.tier, "
    "p.start_ms FROM series s CROSS JOIN points p ON p.series_id = s.id AND p.tier = ?3 "
    "AND p.start_ms < ?1 LIMIT ?2)";
static const char sql_mvacuum[] = "PRAGMA incremental_vacuum(4096)"; /* VACUUM_PAGES */
static const char sql_mstats_series[] = "SELECT count(*) FROM series";
static const char sql_mstats_chunks[] =
    "SELECT count(*), total(n), total(length(data)) FROM (SELECT n, data FROM mchunks "
    "UNION ALL SELECT n, data FROM mheads)";
static const char sql_mstats_points[] = "SELECT tier, count(*) FROM points GROUP BY tier";
static const char sql_mstats_file[] =
    "SELECT p.page_count * s.page_size FROM pragma_page_count() p, pragma_page_size() s";
/* needs SQLITE_ENABLE_DBSTAT_VTAB: preparing it fails without, and the size is unknown. One
 * name per scan: dbstat reads only that b-tree for name = '...', all of them for name IN. */
#define DBSTAT_OF(name) "SELECT sum(pgsize) AS b FROM dbstat WHERE name = '" name "'"
static const char sql_mstats_dbstat[] =
    "SELECT total(b) FROM (" DBSTAT_OF("mchunks") " UNION ALL " DBSTAT_OF("mchunks_key")
    " UNION ALL " DBSTAT_OF("mheads") ")";
static const char sql_deploy_insert[] =
    "INSERT INTO deploys (service, version, at_ms, actor, note) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_deploy_list[] =
    "SELECT " DEPLOY_COLS " FROM deploys WHERE (?1 IS NULL OR service = ?1) "
    "AND at_ms >= ?2 AND at_ms <= ?3 ORDER BY at_ms, id LIMIT ?4";
static const char sql_review_insert[] = "INSERT INTO reviews (at_ms, json) VALUES (?1, ?2)";
static const char sql_review_trim[] =
    "DELETE FROM reviews WHERE id NOT IN (SELECT id FROM reviews "
    "ORDER BY at_ms DESC, id DESC LIMIT ?1)";
static const char sql_review_latest[] =
    "SELECT at_ms, json FROM reviews ORDER BY at_ms DESC, id DESC LIMIT 1";

int ak_store_open_metrics(const char *data_dir, int mode, struct ak_store **ret,
                          struct ak_buf *err)
{
    return ak_store_open_kind(data_dir, mode, &ak__store_metrics_kind, ret, err);
}

/* Strings from outside input (scraped names and labels, API fields) are capped. */
static bool str_ok(const char *s, bool required)
{
    if (!s)
        return !required;
    size_t n = strnlen(s, STR_MAX + 1);
    return n <= STR_MAX && (n > 0 || !required);
}

static int bind_f64(sqlite3_stmt *s, int i, double v)
{
    return ak_store_map_rc(sqlite3_bind_double(s, i, v));
}

static int bind_blob(sqlite3_stmt *s, int i, const uint8_t *p, size_t len)
{
    return ak_store_map_rc(sqlite3_bind_blob(s, i, p, (int)len, SQLITE_STATIC));
}

/* ---- series ------------------------------------------------------------------------------ */

void ak_mseries_release(struct ak_mseries *s)
{
    if (!s)
        return;
    free(s->key);
    free(s->metric);
    free(s->service);
    free(s->labels);
    memset(s, 0, sizeof(*s));
}

static void mseries_read(sqlite3_stmt *s, void *p)
{
    struct ak_mseries *m = p;

    m->id = ak_store_col_i64(s, 0);
    m->key = ak_store_col_str(s, 1);
    m->metric = ak_store_col_str(s, 2);
    m->service = ak_store_col_str(s, 3);
    m->labels = ak_store_col_str(s, 4);
    m->type = (int)ak_store_col_i64(s, 5);
    m->first_ms = ak_store_col_i64(s, 6);
    m->last_ms = ak_store_col_i64(s, 7);
    m->last_value = sqlite3_column_double(s, 8);
}

static void mseries_release_v(void *p)
{
    ak_mseries_release(p);
}

static void id_read(sqlite3_stmt *s, void *p)
{
    *(int64_t *)p = ak_store_col_i64(s, 0);
}

int ak_store_mseries_put(struct ak_store *st, const char *key, const char *metric,
                         const char *service, const char *labels_json, int type,
                         int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us(), id = 0;
    sqlite3_stmt *s;
    int r;

    if (!st || !str_ok(key, true) || !str_ok(metric, true) || !str_ok(service, false) ||
        !str_ok(labels_json, false) || type < AK_MTYPE_GAUGE || type > AK_MTYPE_UNTYPED)
        return AK_EINVAL;
    /* the series exists on every scrape but the first: a read, not a refused insert */
    r = ak_store_stmt_sql(st, AK_SQL_MSERIES_ID, sql_mseries_id, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, key);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(id), id_read, &id);
    if (r != AK_ENOTFOUND)
        goto out;
    r = ak_store_stmt_sql(st, AK_SQL_MSERIES_INSERT, sql_mseries_insert, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, key);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, metric);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, service ? service : "");
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, labels_json ? labels_json : "{}");
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, type);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK)
        id = sqlite3_last_insert_rowid(st->db);
out:
    if (r == AK_OK && ret_id)
        *ret_id = id;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_mseries_touch(struct ak_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                           double last_value)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r;

    if (!st || from_ms > to_ms || from_ms < 0)
        return AK_EINVAL;
    r = ak_store_stmt_sql(st, AK_SQL_MSERIES_TOUCH, sql_mseries_touch, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, from_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, to_ms);
    if (r == AK_OK)
        r = bind_f64(s, 4, last_value);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && sqlite3_changes(st->db) == 0)
        r = AK_ENOTFOUND;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_mseries_get(struct ak_store *st, const char *key, struct ak_mseries *ret)
{
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !key || !ret)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MSERIES_GET, sql_mseries_get, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, key);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(*ret), mseries_read, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_mseries_list(struct ak_store *st, const char *service, const char *glob,
                          struct ak_mseries **ret, size_t *ret_n)
{
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !ret || !ret_n || !str_ok(service, false) || !str_ok(glob, false))
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MSERIES_LIST, sql_mseries_list, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, service);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, glob);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, LIST_MAX);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), mseries_read, mseries_release_v,
                             (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

/* ---- raw chunks -------------------------------------------------------------------------- */

/* Writes the row of (series_id, start_ms) into the table of its kind and deletes it from the
 * other one: a chunk of CHUNK_FULL samples is final (mchunks), a shorter one is open (mheads). */
static int chunk_put_rows(struct ak_store *st, int64_t series_id, int64_t start_ms,
                          int64_t end_ms, unsigned n, const uint8_t *data, size_t len)
{
    bool full = n >= CHUNK_FULL;
    sqlite3_stmt *s;
    int r;

    if (full)
        r = ak_store_stmt_sql(st, AK_SQL_MCHUNK_PUT, sql_mchunk_put, &s);
    else
        r = ak_store_stmt_sql(st, AK_SQL_MHEAD_PUT, sql_mhead_put, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, start_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, end_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, n);
    if (r == AK_OK)
        r = bind_blob(s, 5, data, len);
    if (r == AK_OK)
        r = ak_store_step_done(s); /* an unknown series: AK_ENOTFOUND (foreign key) */
    if (r != AK_OK)
        return r;
    if (full)
        r = ak_store_stmt_sql(st, AK_SQL_MHEAD_DEL, sql_mhead_del, &s);
    else
        r = ak_store_stmt_sql(st, AK_SQL_MCHUNK_DEL, sql_mchunk_del, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, start_ms);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    return r;
}

int ak_store_mchunk_put(struct ak_store *st, int64_t series_id, int64_t start_ms, int64_t end_ms,
                        unsigned n, const uint8_t *data, size_t len)
{
    int64_t t0;
    int r;

    if (!st || !data || len == 0 || n == 0 || start_ms < 0 || end_ms < start_ms)
        return AK_EINVAL;
    if (len > CHUNK_BYTES_MAX)
        return AK_ETOOBIG;
    t0 = ak_store_mono_us();
    /* the write and the delete together, inside or outside the caller's transaction */
    r = ak_store_sp_begin(st);
    if (r == AK_OK)
        r = ak_store_sp_end(st, chunk_put_rows(st, series_id, start_ms, end_ms, n, data, len));
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_mchunk_each(struct ak_store *st, int64_t series_id, int64_t from_ms, int64_t to_ms,
                         ak_mchunk_fn fn, void *arg)
{
    int64_t t0;
    sqlite3_stmt *s = NULL;
    int r, rc = SQLITE_DONE;

    if (!st || !fn)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MCHUNK_EACH, sql_mchunk_each, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, from_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, to_ms);
    while (r == AK_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(s, 3);
        int len = sqlite3_column_bytes(s, 3);
        r = fn(arg, ak_store_col_i64(s, 0), ak_store_col_i64(s, 1),
               (unsigned)ak_store_col_i64(s, 2), p, (size_t)len);
    }
    if (r == AK_OK && rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    if (s)
        sqlite3_reset(s);
    ak_store_op_done(st, t0);
    return r;
}

struct chunk_row {
    int64_t start_ms, end_ms;
    unsigned n;
    uint8_t *data;
    size_t len;
};

static void chunk_row_read(sqlite3_stmt *s, void *p)
{
    struct chunk_row *c = p;
    const void *b = sqlite3_column_blob(s, 3);
    int len = sqlite3_column_bytes(s, 3);

    c->start_ms = ak_store_col_i64(s, 0);
    c->end_ms = ak_store_col_i64(s, 1);
    c->n = (unsigned)ak_store_col_i64(s, 2);
    c->len = len > 0 ? (size_t)len : 0;
    c->data = ak_xmalloc(c->len ? c->len : 1);
    if (c->len)
        memcpy(c->data, b, c->len);
}

int ak_store_mchunk_last(struct ak_store *st, int64_t series_id, int64_t *ret_start_ms,
                         int64_t *ret_end_ms, unsigned *ret_n, uint8_t **ret_data,
                         size_t *ret_len)
{
    struct chunk_row c = {0};
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !ret_start_ms || !ret_end_ms || !ret_n || !ret_data || !ret_len)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MCHUNK_LAST, sql_mchunk_last, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(c), chunk_row_read, &c);
    if (r == AK_OK) {
        *ret_start_ms = c.start_ms;
        *ret_end_ms = c.end_ms;
        *ret_n = c.n;
        *ret_data = c.data;
        *ret_len = c.len;
    }
    ak_store_op_done(st, t0);
    return r;
}

/* ---- tier points ------------------------------------------------------------------------- */

static bool tier_ok(int tier)
{
    return tier == 0 || tier == 1;
}

int ak_store_mpoint_put(struct ak_store *st, int64_t series_id, int tier,
                        const struct ak_mpoint *p)
{
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !p || !tier_ok(tier) || p->count > INT64_MAX || p->decreases > INT64_MAX)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MPOINT_PUT, sql_mpoint_put, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, p->start_ms);
    const double v[5] = {p->min, p->max, p->sum, p->first, p->last};
    for (int i = 0; r == AK_OK && i < 5; i++)
        r = bind_f64(s, 4 + i, v[i]);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 9, (int64_t)p->count);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 10, (int64_t)p->decreases);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    ak_store_op_done(st, t0);
    return r;
}

static void mpoint_read(sqlite3_stmt *s, void *p)
{
    struct ak_mpoint *m = p;

    m->start_ms = ak_store_col_i64(s, 0);
    m->min = sqlite3_column_double(s, 1);
    m->max = sqlite3_column_double(s, 2);
    m->sum = sqlite3_column_double(s, 3);
    m->first = sqlite3_column_double(s, 4);
    m->last = sqlite3_column_double(s, 5);
    m->count = (uint64_t)ak_store_col_i64(s, 6);
    m->decreases = (uint64_t)ak_store_col_i64(s, 7);
}

static void nothing_release(void *p)
{
    (void)p;
}

int ak_store_mpoint_range(struct ak_store *st, int64_t series_id, int tier, int64_t from_ms,
                          int64_t to_ms, struct ak_mpoint **ret, size_t *ret_n)
{
    struct ak_mpoint *v = NULL;
    size_t n = 0;
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !ret || !ret_n || !tier_ok(tier))
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MPOINT_RANGE, sql_mpoint_range, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, from_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, to_ms);
    /* one row more than the cap tells a range too long apart from one that fits exactly */
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, LIST_MAX + 1);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(*v), mpoint_read, nothing_release,
                             (void **)&v, &n);
    if (r == AK_OK && n > LIST_MAX) {
        free(v);
        r = AK_ETOOBIG;
    }
    if (r == AK_OK) {
        *ret = v;
        *ret_n = n;
    }
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_mpoint_last(struct ak_store *st, int64_t series_id, int tier, int64_t *ret_start_ms)
{
    int64_t t0, v = 0;
    sqlite3_stmt *s;
    int r;

    if (!st || !ret_start_ms || !tier_ok(tier))
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MPOINT_LAST, sql_mpoint_last, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(v), id_read, &v);
    if (r == AK_OK)
        *ret_start_ms = v;
    ak_store_op_done(st, t0);
    return r;
}

/* ---- retention --------------------------------------------------------------------------- */

/* Runs a bound DELETE of at most RETAIN_BATCH rows (?2) until one deletes fewer: each statement
 * holds little in memory and the caller's transaction sees a bounded amount of work per step. */
static int delete_batches(struct ak_store *st, enum ak_store_stmt_id id, const char *sql,
                          int64_t before_ms, int tier, int64_t *deleted)
{
    sqlite3_stmt *s;
    int64_t k;
    int r;

    do {
        r = ak_store_stmt_sql(st, id, sql, &s);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 1, before_ms);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 2, RETAIN_BATCH);
        if (r == AK_OK && tier >= 0)
            r = ak_store_bind_i64(s, 3, tier);
        if (r == AK_OK)
            r = ak_store_step_done(s);
        if (r < 0)
            return r;
        k = sqlite3_changes(st->db);
        *deleted += k;
    } while (k >= RETAIN_BATCH);
    return AK_OK;
}

/* Gives at most VACUUM_PAGES free pages back to the file system. */
static int vacuum_some(struct ak_store *st)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MVACUUM, sql_mvacuum, &s), rc = SQLITE_DONE;

    while (r == AK_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    if (r == AK_OK && rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    if (r == AK_OK)
        sqlite3_reset(s);
    return r;
}

int ak_store_mretain(struct ak_store *st, int64_t raw_before_ms, int64_t minute_before_ms,
                     int64_t hour_before_ms, int64_t *ret_deleted)
{
    int64_t t0, deleted = 0;
    int r = AK_OK;

    if (!st)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    if (raw_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_CHUNKS, sql_mretain_chunks, raw_before_ms, -1,
                           &deleted);
    if (r == AK_OK && raw_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_HEADS, sql_mretain_heads, raw_before_ms, -1,
                           &deleted);
    if (r == AK_OK && minute_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_POINTS, sql_mretain_points, minute_before_ms, 0,
                           &deleted);
    if (r == AK_OK && hour_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_POINTS, sql_mretain_points, hour_before_ms, 1,
                           &deleted);
    if (r == AK_OK && deleted > 0)
        r = vacuum_some(st);
    if (r == AK_OK && ret_deleted)
        *ret_deleted = deleted;
    ak_store_op_done(st, t0);
    return r;
}

/* ---- statistics -------------------------------------------------------------------------- */

/* Steps s (bound, ready) to its one row and reads ncol integer columns into out. */
static int row_i64(sqlite3_stmt *s, int64_t *out, int ncol)
{
    int rc = sqlite3_step(s);

    for (int i = 0; rc == SQLITE_ROW && i < ncol; i++)
        out[i] = sqlite3_column_int64(s, i);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? AK_OK : rc == SQLITE_DONE ? AK_ENOTFOUND : ak_store_map_rc(rc);
}

static int stat_one(struct ak_store *st, enum ak_store_stmt_id id, const char *sql,
                    int64_t *out, int ncol)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, id, sql, &s);
    return r < 0 ? r : row_i64(s, out, ncol);
}

static int stat_points(struct ak_store *st, int64_t points[2])
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MSTATS_POINTS, sql_mstats_points, &s), rc = SQLITE_DONE;

    while (r == AK_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t tier = sqlite3_column_int64(s, 0);
        if (tier_ok((int)tier))
            points[tier] = sqlite3_column_int64(s, 1);
    }
    if (r == AK_OK && rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    if (r == AK_OK)
        sqlite3_reset(s);
    return r;
}

/* The pages of the chunk tables (mchunks, its index, mheads) on disk, -1 when this SQLite has no
 * dbstat table. */
static int64_t chunk_table_bytes(struct ak_store *st)
{
    int64_t v = -1;
    sqlite3_stmt *s;

    if (ak_store_stmt_sql(st, AK_SQL_MSTATS_DBSTAT, sql_mstats_dbstat, &s) != AK_OK)
        return -1;
    if (row_i64(s, &v, 1) != AK_OK)
        return -1;
    return v;
}

int ak_store_mstats(struct ak_store *st, struct ak_mstats *ret)
{
    struct ak_mstats m = {0};
    int64_t c[3] = {0};
    int64_t t0;
    int r;

    if (!st || !ret)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = stat_one(st, AK_SQL_MSTATS_SERIES, sql_mstats_series, &m.series, 1);
    if (r == AK_OK)
        r = stat_one(st, AK_SQL_MSTATS_CHUNKS, sql_mstats_chunks, c, 3);
    if (r == AK_OK)
        r = stat_points(st, m.points);
    if (r == AK_OK)
        r = stat_one(st, AK_SQL_MSTATS_FILE, sql_mstats_file, &m.file_bytes, 1);
    if (r == AK_OK) {
        m.chunks = c[0];
        m.raw_samples = c[1];
        m.chunk_bytes = c[2];
        m.chunk_table_bytes = chunk_table_bytes(st);
        *ret = m;
    }
    ak_store_op_done(st, t0);
    return r;
}

/* ---- deploy markers ---------------------------------------------------------------------- */

void ak_deploy_release(struct ak_deploy *d)
{
    if (!d)
        return;
    free(d->service);
    free(d->version);
    free(d->by);
    free(d->note);
    memset(d, 0, sizeof(*d));
}

static void deploy_read(sqlite3_stmt *s, void *p)
{
    struct ak_deploy *d = p;

    d->id = ak_store_col_i64(s, 0);
    d->service = ak_store_col_str(s, 1);
    d->version = ak_store_col_str(s, 2);
    d->at_ms = ak_store_col_i64(s, 3);
    d->by = ak_store_col_str(s, 4);
    d->note = ak_store_col_str(s, 5);
}

static void deploy_release_v(void *p)
{
    ak_deploy_release(p);
}

int ak_store_deploy_add(struct ak_store *st, const struct ak_deploy *d, int64_t *ret_id)
{
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !d || !str_ok(d->service, true) || !str_ok(d->version, false) ||
        !str_ok(d->by, false) || !str_ok(d->note, false) || d->at_ms < 0)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_DEPLOY_INSERT, sql_deploy_insert, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, d->service);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, d->version);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, d->at_ms);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, d->by);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 5, d->note);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_deploy_list(struct ak_store *st, const char *service, int64_t from_ms,
                         int64_t to_ms, struct ak_deploy **ret, size_t *ret_n)
{
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !ret || !ret_n || !str_ok(service, false))
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_DEPLOY_LIST, sql_deploy_list, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, service);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, from_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, to_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, LIST_MAX);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), deploy_read, deploy_release_v,
                             (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

/* ---- daily review results ---------------------------------------------------------------- */

static int review_insert_trim(struct ak_store *st, int64_t at_ms, const char *json)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_REVIEW_INSERT, sql_review_insert, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, at_ms);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, json);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK)
        r = ak_store_stmt_sql(st, AK_SQL_REVIEW_TRIM, sql_review_trim, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, REVIEWS_KEPT);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    return r;
}

int ak_store_review_put(struct ak_store *st, int64_t at_ms, const char *json)
{
    int64_t t0;
    int r;

    if (!st || !json || !*json || at_ms < 0)
        return AK_EINVAL;
    if (strnlen(json, REVIEW_JSON_MAX + 1) > REVIEW_JSON_MAX)
        return AK_ETOOBIG;
    t0 = ak_store_mono_us();
    /* insert and trim together, inside or outside the caller's transaction */
    r = ak_store_sp_begin(st);
    if (r == AK_OK)
        r = ak_store_sp_end(st, review_insert_trim(st, at_ms, json));
    ak_store_op_done(st, t0);
    return r;
}

struct review_row {
    int64_t at_ms;
    char *json;
};

static void review_read(sqlite3_stmt *s, void *p)
{
    struct review_row *v = p;

    v->at_ms = ak_store_col_i64(s, 0);
    v->json = ak_store_col_str(s, 1);
}

int ak_store_review_latest(struct ak_store *st, int64_t *ret_at_ms, char **ret_json)
{
    struct review_row v = {0};
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !ret_json)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_REVIEW_LATEST, sql_review_latest, &s);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(v), review_read, &v);
    if (r == AK_OK) {
        if (ret_at_ms)
            *ret_at_ms = v.at_ms;
        *ret_json = v.json;
    }
    ak_store_op_done(st, t0);
    return r;
}
