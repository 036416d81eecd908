/* store_metrics.c — the monitoring time series (issue 6): DATA_DIR/metrics.db, a database of
 * its own (application_id "akmt", its own migrations) opened through the same struct ak_store,
 * so the statement cache, transactions and row collectors of store.c serve it too.
 *
 * Layout (docs/internals/store.md, "metrics.db"): raw samples live as encoded ak_tsdb chunks,
 * one row per chunk, in two tables: the open (growing) chunk of a series in mheads, small and
 * rewritten at every checkpoint of the engine, and finished chunks in mchunks, an ordinary rowid table written in
 * append order (pages fill up to the last row that fits, and a chunk of up to 2190 bytes stays
 * on its page where a WITHOUT ROWID row spills past ~1002 bytes) with a UNIQUE (series_id,
 * start_ms) index for range reads. A key lives in exactly one of the two. The downsampled tiers
 * have the same split: the points of the current block period are loose rows of `points` (a
 * WITHOUT ROWID table keyed (series, tier, start_ms)), earlier periods (an hour of minute points,
 * a day of hour points) are packed one row per period in `pblocks` (streams of ak_tsdb chunks or
 * decimal varints, ~12 B per minute point instead of ~60 B per row).
 * The ingest log `mlog` holds one opaque record per ingest batch (the engine's write-ahead log,
 * docs/internals/mon.md): appended at every batch, deleted up to a checkpoint.
 */
#include "asakai/ak_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_tsdb.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

/* "akmt" in ASCII: marks the file as the metrics database. */
#define AK_METRICS_APP_ID 0x616B6D74

#define STR_MAX (64 * 1024)           /* key, metric, service, labels, deploy fields */
#define CHUNK_BYTES_MAX (64 * 1024)   /* an ak_tsdb chunk is at most 2190 bytes */
/* a chunk of this many samples is final */
#define CHUNK_FULL AK_TSDB_CHUNK_MAX_SAMPLES
#define REVIEW_JSON_MAX (16 * 1024 * 1024)
#define REVIEWS_KEPT 60
#define LIST_MAX 1000000              /* rows of a list or a range */
#define RETAIN_BATCH 10000            /* rows per retention DELETE */
#define MLOG_BYTES_MAX (64 * 1024 * 1024) /* one log record */
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
    "CREATE TABLE pblocks ("
    "  series_id INTEGER NOT NULL REFERENCES series (id),"
    "  tier INTEGER NOT NULL,"
    "  start_ms INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  data BLOB NOT NULL);"
    "CREATE UNIQUE INDEX pblocks_key ON pblocks (series_id, tier, start_ms);"
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
    "CREATE INDEX reviews_at ON reviews (at_ms);"
    "CREATE TABLE mlog ("
    "  id INTEGER PRIMARY KEY,"
    "  data BLOB NOT NULL);";

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
    .create = "PRAGMA page_size = 8192; PRAGMA auto_vacuum = INCREMENTAL",
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
static const char sql_mpoint_del[] =
    "DELETE FROM points WHERE series_id = ?1 AND tier = ?2 AND start_ms >= ?3 AND start_ms <= ?4";
static const char sql_mpoint_older[] =
    "SELECT start_ms FROM points WHERE series_id = ?1 AND tier = ?2 AND start_ms >= 0 "
    "AND start_ms < ?3 LIMIT 1";
static const char sql_mpoint_packable[] =
    "SELECT start_ms, min, max, sum, first, last, count, decreases FROM points "
    "WHERE series_id = ?1 AND tier = ?2 AND start_ms >= 0 AND start_ms < ?3 "
    "ORDER BY start_ms LIMIT ?4";
static const char sql_mblock_get[] =
    "SELECT n, data FROM pblocks WHERE series_id = ?1 AND tier = ?2 AND start_ms = ?3";
static const char sql_mblock_put[] =
    "INSERT OR REPLACE INTO pblocks (series_id, tier, start_ms, n, data) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_mblock_del[] =
    "DELETE FROM pblocks WHERE series_id = ?1 AND tier = ?2 AND start_ms = ?3";
static const char sql_mblock_range[] =
    "SELECT start_ms, n, data FROM pblocks WHERE series_id = ?1 AND tier = ?2 "
    "AND start_ms > ?3 AND start_ms < ?4 ORDER BY start_ms";
static const char sql_mblock_last[] =
    "SELECT start_ms FROM pblocks WHERE series_id = ?1 AND tier = ?2 "
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
/* the same seek per series for blocks: ?1 is the first block start that still reaches the cut;
 * RETURNING n counts the points that went */
static const char sql_mretain_blocks[] =
    "DELETE FROM pblocks WHERE rowid IN (SELECT b.rowid FROM series s CROSS JOIN pblocks b ON b.series_id = s.id AND b.tier = ?3 "
    "AND b.start_ms < ?1 LIMIT ?2) RETURNING n";
/* the blocks the cut goes through: at most one per series */
static const char sql_mretain_straddle[] =
    "SELECT b.series_id, b.start_ms FROM series s CROSS JOIN pblocks b ON b.series_id = s.id "
    "AND b.tier = ?3 AND b.start_ms >= ?1 AND b.start_ms < ?2";
static const char sql_mvacuum[] = "PRAGMA incremental_vacuum(4096)"; /* VACUUM_PAGES */
static const char sql_mstats_series[] = "SELECT count(*) FROM series";
static const char sql_mstats_chunks[] =
    "SELECT count(*), total(n), total(length(data)) FROM (SELECT n, data FROM mchunks "
    "UNION ALL SELECT n, data FROM mheads)";
static const char sql_mstats_points[] =
    "SELECT tier, total(c) FROM (SELECT tier, count(*) AS c FROM points GROUP BY tier "
    "UNION ALL SELECT tier, total(n) AS c FROM pblocks GROUP BY tier) GROUP BY tier";
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

/* ---- ingest log -------------------------------------------------------------------------- */

static const char sql_mlog_put[] = "INSERT INTO mlog (data) VALUES (?1)";
static const char sql_mlog_each[] = "SELECT id, data FROM mlog ORDER BY id";
static const char sql_mlog_trim[] = "DELETE FROM mlog WHERE id <= ?1";

int ak_store_mlog_put(struct ak_store *st, const uint8_t *data, size_t len, int64_t *ret_id)
{
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st || !data || len == 0)
        return AK_EINVAL;
    if (len > MLOG_BYTES_MAX)
        return AK_ETOOBIG;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MLOG_PUT, sql_mlog_put, &s);
    if (r == AK_OK)
        r = bind_blob(s, 1, data, len);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_mlog_each(struct ak_store *st, ak_mlog_fn fn, void *arg)
{
    int64_t t0;
    sqlite3_stmt *s = NULL;
    int r, rc = SQLITE_DONE;

    if (!st || !fn)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MLOG_EACH, sql_mlog_each, &s);
    while (r == AK_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(s, 1);
        int len = sqlite3_column_bytes(s, 1);
        r = fn(arg, ak_store_col_i64(s, 0), p, len > 0 ? (size_t)len : 0);
    }
    if (r == AK_OK && rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    if (s)
        sqlite3_reset(s);
    ak_store_op_done(st, t0);
    return r;
}

static int vacuum_some(struct ak_store *st);

int ak_store_mlog_trim(struct ak_store *st, int64_t upto_id)
{
    int64_t t0;
    sqlite3_stmt *s;
    int r;

    if (!st)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_stmt_sql(st, AK_SQL_MLOG_TRIM, sql_mlog_trim, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, upto_id);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    /* the trimmed records' pages go back to the file system: without this the file keeps the
     * log's high-water mark as free pages */
    if (r == AK_OK)
        r = vacuum_some(st);
    ak_store_op_done(st, t0);
    return r;
}

/* ---- tier points ------------------------------------------------------------------------- */

/* A point lives in exactly one of two places: loose, one row in `points` (the current block
 * period, written at every put), or packed, inside the `pblocks` row of its series, tier and
 * period (an hour of minute points, a day of hour points). The block is one ak_tsdb chunk per
 * field, the times being the offsets from the period start, so regular starts cost a bit. */

#define BLOCK_MAX 120   /* points per block: one ak_tsdb chunk per field (AK_TSDB_CHUNK_MAX) */
#define NSTREAMS 8      /* shape first last sum count decreases min max */
#define BLOCK_BYTES_MAX (NSTREAMS * (2 + AK_TSDB_CHUNK_MAX_BYTES)) /* 12-bit lengths */
#define PACK_ROWS_MAX 100000 /* loose rows packed by one put; the rest at the next */

static const int64_t block_span[2] = {3600000LL, 86400000LL};

static bool tier_ok(int tier)
{
    return tier == 0 || tier == 1;
}

/* Start of the block period of a point; only points with start_ms >= 0 are packed (the
 * offsets in a block are ak_tsdb timestamps, which are >= 0). */
static int64_t block_of(int tier, int64_t start_ms)
{
    return start_ms - start_ms % block_span[tier];
}

static double u64_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t bits_u64(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

/* Which value min (or max) of a point repeats, bit for bit: with a few samples per point it is
 * often the first or the last one (always, for a counter), and then it is not stored again. */
enum { SAME_FIRST = 0, SAME_LAST = 1, SAME_NONE = 2 };

static unsigned same_as(const struct ak_mpoint *p, double v)
{
    if (bits_u64(v) == bits_u64(p->first))
        return SAME_FIRST;
    return bits_u64(v) == bits_u64(p->last) ? SAME_LAST : SAME_NONE;
}

/* The shape of a point says which values repeat another one (and are not stored again): min
 * and max as SAME_* (0..8), last equal to first (+9, a point of one sample), sum equal to first
 * (+18, the same). */
#define SHAPE_LAST_IS_FIRST 9u
#define SHAPE_SUM_IS_FIRST 18u
#define SHAPE_MAX 35u

static unsigned point_shape(const struct ak_mpoint *p)
{
    unsigned s = same_as(p, p->min) + 3 * same_as(p, p->max);

    if (bits_u64(p->last) == bits_u64(p->first))
        s += SHAPE_LAST_IS_FIRST;
    if (bits_u64(p->sum) == bits_u64(p->first))
        s += SHAPE_SUM_IS_FIRST;
    return s;
}

/* Whether a point of this shape has a value in stream k. */
static bool stream_has(unsigned shape, int k)
{
    switch (k) {
    case 2: return shape / SHAPE_LAST_IS_FIRST % 2 == 0;
    case 3: return shape / SHAPE_SUM_IS_FIRST == 0;
    case 6: return shape % 3 == SAME_NONE;
    case 7: return shape / 3 % 3 == SAME_NONE;
    default: return true;
    }
}

/* Stream k of point p: false when the point has no value in it (a repeated one). */
static bool stream_value(const struct ak_mpoint *p, int k, double *v)
{
    unsigned shape = point_shape(p);

    switch (k) {
    case 0: *v = u64_bits(shape); break;
    case 1: *v = p->first; break;
    case 2: *v = p->last; break;
    case 3: *v = p->sum; break;
    case 4: *v = u64_bits(p->count); break;
    case 5: *v = u64_bits(p->decreases); break;
    case 6: *v = p->min; break;
    default: *v = p->max; break;
    }
    return stream_has(shape, k);
}

/* A value stream is stored either as an ak_tsdb chunk (XOR of the bits) or, when every value
 * is exactly an integer k divided by 10^d (d <= 4; byte counts, CPU seconds with two decimals,
 * not -0), as zigzag varints of k and of its differences: scraped decimals whose binary
 * fractions XOR barely packs take a few bytes. The 16-bit stream header holds the length (12
 * bits) and the form (4 bits: 0 = chunk, 1 + d = decimal). */
#define DEC_DIGITS_MAX 4
#define DEC_K_MAX (1LL << 53)
#define STREAM_LEN_MASK 0x0fffu

static const double pow10_tab[DEC_DIGITS_MAX + 1] = {1, 10, 100, 1000, 10000};

static bool dec_k(double v, int d, int64_t *ret_k)
{
    double x = v * pow10_tab[d];

    if (!(x > -(double)DEC_K_MAX && x < (double)DEC_K_MAX))
        return false;
    int64_t k = (int64_t)llround(x);
    double back = (double)k / pow10_tab[d];
    if (bits_u64(back) != bits_u64(v))
        return false;
    *ret_k = k;
    return true;
}

static size_t varint_put(uint8_t *p, uint64_t u)
{
    size_t n = 0;

    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* The decimal form of vals[0..m) into out (room for m * 10 bytes): its length, or 0 when a
 * value has no exact form with d digits. */
static size_t dec_encode(const double *vals, size_t m, int d, uint8_t *out)
{
    int64_t prev = 0, k;
    size_t len = 0;

    for (size_t i = 0; i < m; i++) {
        if (!dec_k(vals[i], d, &k))
            return 0;
        len += varint_put(out + len, zigzag(k - prev));
        prev = k;
    }
    return len;
}

static int dec_decode(const uint8_t *p, size_t len, int d, double *vs, size_t cap,
                      size_t *ret_n)
{
    size_t pos = 0, n = 0;
    int64_t k = 0;

    while (pos < len) {
        uint64_t u = 0;
        int shift = 0;
        for (;;) {
            if (pos == len || shift > 63)
                return AK_ECORRUPT;
            uint8_t b = p[pos++];
            u |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        int64_t delta = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
        if (n == cap || delta <= -2 * DEC_K_MAX || delta >= 2 * DEC_K_MAX)
            return AK_ECORRUPT;
        k += delta;
        if (k <= -DEC_K_MAX || k >= DEC_K_MAX)
            return AK_ECORRUPT;
        vs[n++] = (double)k / pow10_tab[d];
    }
    *ret_n = n;
    return AK_OK;
}

/* Encodes one stream (m values at offsets ts) at out: header and body; its size. */
static int stream_encode(int k, const int64_t *ts, const double *vals, size_t m, uint8_t *out,
                         size_t *ret_len)
{
    static _Thread_local struct ak_tsdb_chunk c;
    uint8_t dec[BLOCK_MAX * 10];
    const uint8_t *p = NULL;
    size_t clen = 0, dlen;
    unsigned form = 0;
    int r = AK_OK;

    ak_tsdb_chunk_init(&c);
    for (size_t i = 0; i < m && r == AK_OK; i++)
        r = ak_tsdb_chunk_append(&c, ts[i], vals[i]);
    if (r != AK_OK)
        return r;
    if (m > 0)
        p = ak_tsdb_chunk_finish(&c, &clen);
    /* the real values only: shape, count and decreases are bit patterns */
    for (int d = 0; m > 0 && (k == 1 || k == 2 || k == 3 || k >= 6) && d <= DEC_DIGITS_MAX;
         d++) {
        /* the fewest digits that fit give the smallest integers */
        dlen = dec_encode(vals, m, d, dec);
        if (dlen > 0 && dlen < clen) {
            clen = dlen;
            form = 1 + (unsigned)d;
            p = dec;
        }
        if (dlen > 0)
            break;
    }
    out[0] = (uint8_t)(clen & 0xff);
    out[1] = (uint8_t)(clen >> 8 | form << 4);
    if (clen)
        memcpy(out + 2, p, clen);
    *ret_len = 2 + clen;
    return AK_OK;
}

/* Encodes pts[0..n) (sorted, 1 <= n <= BLOCK_MAX, all in the period at block) into out
 * (BLOCK_BYTES_MAX): NSTREAMS streams, each the values of the points that have one, with the
 * points' offsets from the period start as the chunk times. */
static int block_encode(int64_t block, const struct ak_mpoint *pts, size_t n, uint8_t *out,
                        size_t *ret_len)
{
    int64_t ts[BLOCK_MAX];
    double vals[BLOCK_MAX];
    size_t len = 0, slen, m;
    int r = AK_OK;

    for (int k = 0; k < NSTREAMS && r == AK_OK; k++) {
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (stream_value(&pts[i], k, &vals[m]))
                ts[m++] = pts[i].start_ms - block;
        r = stream_encode(k, ts, vals, m, out + len, &slen);
        len += slen;
    }
    if (r == AK_OK)
        *ret_len = len;
    return r;
}

/* Sets the value of stream k (1..7) of p. */
static void stream_set(struct ak_mpoint *p, int k, double v)
{
    switch (k) {
    case 1: p->first = v; break;
    case 2: p->last = v; break;
    case 3: p->sum = v; break;
    case 4: p->count = bits_u64(v); break;
    case 5: p->decreases = bits_u64(v); break;
    case 6: p->min = v; break;
    default: p->max = v; break;
    }
}

static double pick(unsigned sel, const struct ak_mpoint *p, double own)
{
    return sel == SAME_FIRST ? p->first : sel == SAME_LAST ? p->last : own;
}

/* Decodes a block of n points into pts (BLOCK_MAX): every stream has the times of the points
 * that have a value in it, each an offset inside the period. */
static int block_decode(int tier, int64_t block, unsigned n, const uint8_t *data, size_t len,
                        struct ak_mpoint *pts)
{
    int64_t ts[BLOCK_MAX];
    double vs[BLOCK_MAX];
    unsigned shape[BLOCK_MAX];
    size_t pos = 0, got, j;

    if (n < 1 || n > BLOCK_MAX)
        return AK_ECORRUPT;
    for (int k = 0; k < NSTREAMS; k++) {
        if (len - pos < 2)
            return AK_ECORRUPT;
        size_t clen = ((size_t)data[pos] | (size_t)data[pos + 1] << 8) & STREAM_LEN_MASK;
        unsigned form = data[pos + 1] >> 4;
        pos += 2;
        got = 0;
        if (clen > len - pos || form > 1 + DEC_DIGITS_MAX || (k == 0 && form != 0))
            return AK_ECORRUPT;
        if (clen && form == 0 &&
            ak_tsdb_chunk_decode(data + pos, clen, ts, vs, BLOCK_MAX, &got) != AK_OK)
            return AK_ECORRUPT;
        if (clen && form > 0 && dec_decode(data + pos, clen, (int)form - 1, vs, BLOCK_MAX,
                                           &got) != AK_OK)
            return AK_ECORRUPT;
        pos += clen;
        j = 0;
        for (size_t i = 0; i < n; i++) {
            if (k > 0 && !stream_has(shape[i], k))
                continue;
            if (j == got || (k == 0 && ts[j] >= block_span[tier]))
                return AK_ECORRUPT;
            if (k == 0)
                pts[i].start_ms = block + ts[j];
            else if (form == 0 && pts[i].start_ms != block + ts[j])
                return AK_ECORRUPT;
            if (k == 0 && bits_u64(vs[j]) > SHAPE_MAX)
                return AK_ECORRUPT;
            if (k == 0)
                shape[i] = (unsigned)bits_u64(vs[j]);
            else
                stream_set(&pts[i], k, vs[j]);
            j++;
        }
        if (j != got)
            return AK_ECORRUPT;
    }
    for (size_t i = 0; i < n; i++) {
        if (!stream_has(shape[i], 2))
            pts[i].last = pts[i].first;
        if (!stream_has(shape[i], 3))
            pts[i].sum = pts[i].first;
        pts[i].min = pick(shape[i] % 3, &pts[i], pts[i].min);
        pts[i].max = pick(shape[i] / 3 % 3, &pts[i], pts[i].max);
    }
    return pos == len ? AK_OK : AK_ECORRUPT;
}

/* The points of the block (series, tier, block) into pts (BLOCK_MAX): AK_ENOTFOUND if none. */
static int block_get(struct ak_store *st, int64_t series_id, int tier, int64_t block,
                     struct ak_mpoint *pts, size_t *ret_n)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MBLOCK_GET, sql_mblock_get, &s), rc;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, block);
    if (r != AK_OK)
        return r;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t n = ak_store_col_i64(s, 0);
        int len = sqlite3_column_bytes(s, 1);
        const uint8_t *p = sqlite3_column_blob(s, 1);
        r = n < 1 || n > BLOCK_MAX || len < 0 ? AK_ECORRUPT
            : block_decode(tier, block, (unsigned)n, p, (size_t)len, pts);
        if (r == AK_OK)
            *ret_n = (size_t)n;
    } else {
        r = rc == SQLITE_DONE ? AK_ENOTFOUND : ak_store_map_rc(rc);
    }
    sqlite3_reset(s);
    return r;
}

/* Writes the block (replacing it), or deletes it when n == 0. */
static int block_write(struct ak_store *st, int64_t series_id, int tier, int64_t block,
                       const struct ak_mpoint *pts, size_t n)
{
    uint8_t buf[BLOCK_BYTES_MAX];
    size_t len = 0;
    sqlite3_stmt *s;
    int r;

    if (n == 0) {
        r = ak_store_stmt_sql(st, AK_SQL_MBLOCK_DEL, sql_mblock_del, &s);
    } else {
        r = block_encode(block, pts, n, buf, &len);
        if (r == AK_OK)
            r = ak_store_stmt_sql(st, AK_SQL_MBLOCK_PUT, sql_mblock_put, &s);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 4, (int64_t)n);
        if (r == AK_OK)
            r = bind_blob(s, 5, buf, len);
    }
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, block);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    return r;
}

/* Deletes the loose points of series and tier with start in [lo, hi]. */
static int loose_del(struct ak_store *st, int64_t series_id, int tier, int64_t lo, int64_t hi)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MPOINT_DEL, sql_mpoint_del, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, lo);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, hi);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    return r;
}

/* Puts p into the points v[0..*n) sorted by start (replacing the one of the same start);
 * false when that would make more than BLOCK_MAX. */
static bool points_merge(struct ak_mpoint *v, size_t *n, const struct ak_mpoint *p)
{
    size_t i = 0;

    while (i < *n && v[i].start_ms < p->start_ms)
        i++;
    if (i < *n && v[i].start_ms == p->start_ms) {
        v[i] = *p;
        return true;
    }
    if (*n == BLOCK_MAX)
        return false;
    memmove(v + i + 1, v + i, (*n - i) * sizeof(*v));
    v[i] = *p;
    (*n)++;
    return true;
}

/* Packs the loose points pts[0..n) (sorted, all in the period at block) into their block. A
 * block that would pass BLOCK_MAX (starts off the tier grid) leaves them loose. */
static int pack_group(struct ak_store *st, int64_t series_id, int tier, int64_t block,
                      const struct ak_mpoint *pts, size_t n)
{
    struct ak_mpoint v[BLOCK_MAX];
    size_t nv = 0;
    int r = block_get(st, series_id, tier, block, v, &nv);

    if (r == AK_ENOTFOUND)
        r = AK_OK;
    for (size_t i = 0; r == AK_OK && i < n; i++)
        if (!points_merge(v, &nv, &pts[i]))
            return AK_OK;
    if (r == AK_OK)
        r = block_write(st, series_id, tier, block, v, nv);
    if (r == AK_OK)
        r = loose_del(st, series_id, tier, pts[0].start_ms, pts[n - 1].start_ms);
    return r;
}

static void mpoint_read_at(sqlite3_stmt *s, int c, struct ak_mpoint *m)
{
    m->start_ms = ak_store_col_i64(s, c);
    m->min = sqlite3_column_double(s, c + 1);
    m->max = sqlite3_column_double(s, c + 2);
    m->sum = sqlite3_column_double(s, c + 3);
    m->first = sqlite3_column_double(s, c + 4);
    m->last = sqlite3_column_double(s, c + 5);
    m->count = (uint64_t)ak_store_col_i64(s, c + 6);
    m->decreases = (uint64_t)ak_store_col_i64(s, c + 7);
}

static void mpoint_read(sqlite3_stmt *s, void *p)
{
    mpoint_read_at(s, 0, p);
}

static void nothing_release(void *p)
{
    (void)p;
}

static void pair_read(sqlite3_stmt *s, void *p)
{
    int64_t *v = p;

    v[0] = ak_store_col_i64(s, 0);
    v[1] = ak_store_col_i64(s, 1);
}

/* Packs the loose points of series and tier that start in [0, before) into their blocks:
 * called when a put opens a new period, so normally the one period just finished. */
static int pack_before(struct ak_store *st, int64_t series_id, int tier, int64_t before)
{
    struct ak_mpoint *v = NULL;
    size_t n = 0, i = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MPOINT_PACKABLE, sql_mpoint_packable, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, before);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, PACK_ROWS_MAX);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(*v), mpoint_read, nothing_release,
                             (void **)&v, &n);
    while (r == AK_OK && i < n) {
        int64_t block = block_of(tier, v[i].start_ms);
        size_t j = i;
        while (j < n && block_of(tier, v[j].start_ms) == block)
            j++;
        r = pack_group(st, series_id, tier, block, v + i, j - i);
        i = j;
    }
    free(v);
    return r;
}

/* Whether series and tier have loose points in [0, before): the previous periods to pack. */
static int has_older(struct ak_store *st, int64_t series_id, int tier, int64_t before,
                     bool *ret)
{
    sqlite3_stmt *s;
    int64_t v;
    int r = ak_store_stmt_sql(st, AK_SQL_MPOINT_OLDER, sql_mpoint_older, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, before);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(v), id_read, &v);
    *ret = r == AK_OK;
    return r == AK_ENOTFOUND ? AK_OK : r;
}

static int loose_put(struct ak_store *st, int64_t series_id, int tier,
                     const struct ak_mpoint *p)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MPOINT_PUT, sql_mpoint_put, &s);

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
    return r;
}

/* A point of a packed period goes into its block (unless full); any other is loose, and the
 * first put of a new period packs the loose points of the periods before it. */
/* The period cache: a live series writes one point per minute into the current hour. Once a
 * put found that hour without a block and without older loose points, every further point of
 * the same hour needs only its INSERT. The cache is a hint: it is dropped by retention and may
 * be wrong after a rolled-back transaction, and being wrong only means an older period is packed
 * one period later (points are never lost: they stay loose and readable). */
struct ak__mperiod {
    int64_t series_id;  /* 0 = empty slot */
    int64_t block;
    int tier;
};

#define PERIODS_MAX (1u << 20) /* entries: beyond it the cache stops growing (slower, correct) */

static struct ak__mperiod *period_slot(struct ak_store *st, int64_t series_id, int tier,
                                       bool insert)
{
    if (!st->periods_cap) {
        if (!insert)
            return NULL;
        st->periods_cap = 1024;
        st->periods = ak_xcalloc(st->periods_cap, sizeof(*st->periods));
    }
    uint64_t h = ((uint64_t)series_id * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)tier;
    size_t mask = st->periods_cap - 1, i = (size_t)(h >> 20) & mask, used = 0;
    for (;; i = (i + 1) & mask, used++) {
        struct ak__mperiod *e = &st->periods[i];
        if (e->series_id == series_id && e->tier == tier)
            return e;
        if (!e->series_id)
            return insert && used < st->periods_cap / 2 ? e : NULL;
        if (used > st->periods_cap / 2)
            return NULL;
    }
}

static void period_remember(struct ak_store *st, int64_t series_id, int tier, int64_t block)
{
    struct ak__mperiod *e = period_slot(st, series_id, tier, true);

    if (!e && st->periods_cap < PERIODS_MAX) { /* grow: re-insert everything */
        struct ak__mperiod *old = st->periods;
        size_t cap = st->periods_cap;
        st->periods_cap = cap * 2;
        st->periods = ak_xcalloc(st->periods_cap, sizeof(*st->periods));
        for (size_t i = 0; i < cap; i++)
            if (old[i].series_id) {
                struct ak__mperiod *n = period_slot(st, old[i].series_id, old[i].tier, true);
                if (n)
                    *n = old[i];
            }
        free(old);
        e = period_slot(st, series_id, tier, true);
    }
    if (e)
        *e = (struct ak__mperiod){series_id, block, tier};
}

static void periods_forget(struct ak_store *st)
{
    if (st->periods)
        memset(st->periods, 0, st->periods_cap * sizeof(*st->periods));
}

static int mpoint_put_rows(struct ak_store *st, int64_t series_id, int tier,
                           const struct ak_mpoint *p)
{
    struct ak_mpoint v[BLOCK_MAX];
    size_t n = 0;
    int64_t block = block_of(tier, p->start_ms);
    bool older = false;
    int r;

    if (p->start_ms < 0)
        return loose_put(st, series_id, tier, p);
    const struct ak__mperiod *e = period_slot(st, series_id, tier, false);
    if (e && e->block == block)
        return loose_put(st, series_id, tier, p);
    r = block_get(st, series_id, tier, block, v, &n);
    if (r == AK_OK && points_merge(v, &n, p)) {
        r = block_write(st, series_id, tier, block, v, n);
        /* a loose copy (left when the block was full) must not shadow it */
        if (r == AK_OK)
            r = loose_del(st, series_id, tier, p->start_ms, p->start_ms);
        return r;
    }
    if (r != AK_OK && r != AK_ENOTFOUND)
        return r;
    r = loose_put(st, series_id, tier, p);
    if (r == AK_OK)
        r = has_older(st, series_id, tier, block, &older);
    if (r == AK_OK && older)
        r = pack_before(st, series_id, tier, block);
    if (r == AK_OK)
        period_remember(st, series_id, tier, block);
    return r;
}

int ak_store_mpoint_put(struct ak_store *st, int64_t series_id, int tier,
                        const struct ak_mpoint *p)
{
    int64_t t0;
    int r;

    if (!st || !p || !tier_ok(tier) || p->count > INT64_MAX || p->decreases > INT64_MAX)
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = ak_store_sp_begin(st);
    if (r == AK_OK)
        r = ak_store_sp_end(st, mpoint_put_rows(st, series_id, tier, p));
    ak_store_op_done(st, t0);
    return r;
}

/* Growing array of points for a range read. */
struct pvec {
    struct ak_mpoint *v;
    size_t n, alloc;
};

static int pvec_add(struct pvec *a, const struct ak_mpoint *p)
{
    if (a->n > LIST_MAX)
        return AK_ETOOBIG;
    if (a->n == a->alloc) {
        a->alloc = a->alloc ? a->alloc * 2 : 64;
        a->v = ak_xrealloc(a->v, a->alloc * sizeof(*a->v));
    }
    a->v[a->n++] = *p;
    return AK_OK;
}

/* The packed points of series and tier with start in [from, to), oldest first, into a. */
static int blocks_range(struct ak_store *st, int64_t series_id, int tier, int64_t from,
                        int64_t to, struct pvec *a)
{
    struct ak_mpoint pts[BLOCK_MAX];
    /* a block starting up to a span before from may hold points at or after it */
    int64_t lo = from > INT64_MIN + block_span[tier] ? from - block_span[tier] : INT64_MIN;
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MBLOCK_RANGE, sql_mblock_range, &s), rc = SQLITE_DONE;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, lo);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, to);
    while (r == AK_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t block = ak_store_col_i64(s, 0), n = ak_store_col_i64(s, 1);
        int len = sqlite3_column_bytes(s, 2);
        const uint8_t *p = sqlite3_column_blob(s, 2);
        r = n < 1 || n > BLOCK_MAX || len < 0 ? AK_ECORRUPT
            : block_decode(tier, block, (unsigned)n, p, (size_t)len, pts);
        for (int64_t i = 0; r == AK_OK && i < n; i++)
            if (pts[i].start_ms >= from && pts[i].start_ms < to)
                r = pvec_add(a, &pts[i]);
    }
    if (r == AK_OK && rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    if (s)
        sqlite3_reset(s);
    return r;
}

/* Merges the sorted packed points b and loose points l (disjoint starts) into a new array. */
static struct ak_mpoint *merge_points(const struct pvec *b, const struct ak_mpoint *l,
                                      size_t nl, size_t *ret_n)
{
    size_t n = b->n + nl, i = 0, j = 0, k = 0;
    struct ak_mpoint *v = ak_xmalloc((n ? n : 1) * sizeof(*v));

    while (i < b->n || j < nl) {
        if (j == nl || (i < b->n && b->v[i].start_ms < l[j].start_ms))
            v[k++] = b->v[i++];
        else
            v[k++] = l[j++];
    }
    *ret_n = n;
    return v;
}

static int loose_range(struct ak_store *st, int64_t series_id, int tier, int64_t from_ms,
                       int64_t to_ms, struct ak_mpoint **ret, size_t *ret_n)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MPOINT_RANGE, sql_mpoint_range, &s);

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
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), mpoint_read, nothing_release,
                             (void **)ret, ret_n);
    return r;
}

int ak_store_mpoint_range(struct ak_store *st, int64_t series_id, int tier, int64_t from_ms,
                          int64_t to_ms, struct ak_mpoint **ret, size_t *ret_n)
{
    struct ak_mpoint *l = NULL, *v = NULL;
    struct pvec b = {0};
    size_t nl = 0, n = 0;
    int64_t t0;
    int r;

    if (!st || !ret || !ret_n || !tier_ok(tier))
        return AK_EINVAL;
    t0 = ak_store_mono_us();
    r = blocks_range(st, series_id, tier, from_ms, to_ms, &b);
    if (r == AK_OK)
        r = loose_range(st, series_id, tier, from_ms, to_ms, &l, &nl);
    if (r == AK_OK && b.n + nl > LIST_MAX)
        r = AK_ETOOBIG;
    if (r == AK_OK)
        v = merge_points(&b, l, nl, &n);
    if (r == AK_OK) {
        *ret = v;
        *ret_n = n;
    }
    free(b.v);
    free(l);
    ak_store_op_done(st, t0);
    return r;
}

/* start_ms of the newest packed point of series and tier; AK_ENOTFOUND when none. */
static int block_last(struct ak_store *st, int64_t series_id, int tier, int64_t *ret)
{
    struct ak_mpoint pts[BLOCK_MAX];
    int64_t block = 0;
    size_t n = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_MBLOCK_LAST, sql_mblock_last, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, series_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, tier);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(block), id_read, &block);
    if (r == AK_OK)
        r = block_get(st, series_id, tier, block, pts, &n);
    if (r == AK_OK)
        *ret = pts[n - 1].start_ms;
    return r;
}

int ak_store_mpoint_last(struct ak_store *st, int64_t series_id, int tier, int64_t *ret_start_ms)
{
    int64_t t0, v = 0, b = 0;
    sqlite3_stmt *s;
    int r, rb;

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
    if (r == AK_OK || r == AK_ENOTFOUND) {
        rb = block_last(st, series_id, tier, &b);
        if (rb == AK_OK) {
            if (r == AK_ENOTFOUND || b > v)
                v = b;
            r = AK_OK;
        } else if (rb != AK_ENOTFOUND) {
            r = rb;
        }
    }
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

/* Deletes the blocks of tier wholly before cut (batches, counting their points), then rewrites
 * the blocks the cut goes through without their points before it. */
static int retain_blocks(struct ak_store *st, int tier, int64_t cut, int64_t *deleted)
{
    struct ak_mpoint pts[BLOCK_MAX];
    int64_t lo = cut - block_span[tier] + 1, *v = NULL, rows;
    size_t nv = 0, n, k;
    sqlite3_stmt *s;
    int r, rc = SQLITE_DONE;

    do {
        rows = 0;
        r = ak_store_stmt_sql(st, AK_SQL_MRETAIN_BLOCKS, sql_mretain_blocks, &s);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 1, lo);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 2, RETAIN_BATCH);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 3, tier);
        while (r == AK_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            *deleted += sqlite3_column_int64(s, 0);
            rows++;
        }
        if (r == AK_OK && rc != SQLITE_DONE)
            r = ak_store_map_rc(rc);
        if (s)
            sqlite3_reset(s);
    } while (r == AK_OK && rows >= RETAIN_BATCH);
    if (r == AK_OK)
        r = ak_store_stmt_sql(st, AK_SQL_MRETAIN_STRADDLE, sql_mretain_straddle, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, lo);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, cut);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, tier);
    /* pairs (series_id, block start): collected first, rewritten after the read */
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, 2 * sizeof(*v), pair_read, nothing_release,
                             (void **)&v, &nv);
    for (size_t i = 0; r == AK_OK && i < nv; i++) {
        r = block_get(st, v[2 * i], tier, v[2 * i + 1], pts, &n);
        for (k = 0; r == AK_OK && k < n && pts[k].start_ms < cut; k++)
            ;
        if (r == AK_OK && k > 0)
            r = block_write(st, v[2 * i], tier, v[2 * i + 1], pts + k, n - k);
        if (r == AK_OK)
            *deleted += (int64_t)k;
    }
    free(v);
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
    periods_forget(st); /* blocks are rewritten below */
    if (raw_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_CHUNKS, sql_mretain_chunks, raw_before_ms, -1,
                           &deleted);
    if (r == AK_OK && raw_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_HEADS, sql_mretain_heads, raw_before_ms, -1,
                           &deleted);
    if (r == AK_OK && minute_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_POINTS, sql_mretain_points, minute_before_ms, 0,
                           &deleted);
    if (r == AK_OK && minute_before_ms > 0)
        r = retain_blocks(st, 0, minute_before_ms, &deleted);
    if (r == AK_OK && hour_before_ms > 0)
        r = delete_batches(st, AK_SQL_MRETAIN_POINTS, sql_mretain_points, hour_before_ms, 1,
                           &deleted);
    if (r == AK_OK && hour_before_ms > 0)
        r = retain_blocks(st, 1, hour_before_ms, &deleted);
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
