/* test_store_metrics.c — the monitoring time series database (DATA_DIR/metrics.db): opening and
 * refusing the wrong file, series, raw chunks (real ak_tsdb encodings), tier points, retention,
 * the size statistics (bytes per sample), deploy markers and review results. */
#include <sqlite3.h> /* only to read PRAGMAs of the file the store made */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_store.h"
#include "asakai/ak_tsdb.h"
#include "asakai/ak_util.h"
#include "ak_test.h"

#define T0 1796907600000LL /* 2026-12-10T02:00:00+09:00 */
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL

static struct ak_store *open_m(const char *dir, int mode)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_store_open_metrics(dir, mode, &st, &err);
    if (r != AK_OK)
        printf("# open metrics %s: %d %s\n", dir, r, err.buf);
    ak_buf_release(&err);
    return st;
}

static char *path_in(const char *dir, const char *file)
{
    return ak_xasprintf("%s/%s", dir, file);
}

static int64_t pragma_i64(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static int64_t put_series(struct ak_store *st, const char *key, const char *metric,
                          const char *service)
{
    int64_t id = 0;
    if (ak_store_mseries_put(st, key, metric, service, "{}", AK_MTYPE_GAUGE, &id) != AK_OK)
        return 0;
    return id;
}

AK_TEST(open_creates_reopens_and_reads)
{
    const char *dir = AK_TMPDIR();
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(512);
    char *path = path_in(dir, "metrics.db");
    int64_t id = 0;

    /* nothing there yet: a reader does not create it */
    AK_ASSERT_EQ_INT(ak_store_open_metrics(dir, AK_STORE_READ, &st, &err), AK_ENOTFOUND);
    AK_ASSERT_NULL(st);
    st = open_m(dir, AK_STORE_WRITE);
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 1);
    AK_ASSERT_OK(ak_store_begin(st));
    id = put_series(st, "up{job=\"node\"}", "up", "node");
    AK_ASSERT(id > 0);
    AK_ASSERT_OK(ak_store_commit(st));
    ak_store_close(st);
    /* the layout promised: application id "akmt", 4 KiB pages, incremental auto-vacuum, WAL */
    AK_ASSERT_EQ_INT(pragma_i64(path, "PRAGMA application_id"), 0x616B6D74);
    AK_ASSERT_EQ_INT(pragma_i64(path, "PRAGMA page_size"), 8192);
    AK_ASSERT_EQ_INT(pragma_i64(path, "PRAGMA auto_vacuum"), 2);
    AK_ASSERT_EQ_INT(pragma_i64(path, "PRAGMA user_version"), 1);
    st = open_m(dir, AK_STORE_READ);
    AK_ASSERT(st != NULL);
    struct ak_mseries m = {0};
    AK_ASSERT_OK(ak_store_mseries_get(st, "up{job=\"node\"}", &m));
    AK_ASSERT_EQ_INT(m.id, id);
    AK_ASSERT_STR(m.service, "node");
    ak_mseries_release(&m);
    ak_store_close(st);
    st = open_m(dir, AK_STORE_WRITE); /* migrations already done: nothing to do */
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 1);
    ak_store_close(st);
    ak_buf_release(&err);
    free(path);
}

AK_TEST(wrong_file_refused_both_ways)
{
    const char *dir = AK_TMPDIR();
    char *main_db = path_in(dir, "asakai.db"), *metrics_db = path_in(dir, "metrics.db");
    char *tmp = path_in(dir, "swap.db");
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(512);

    AK_ASSERT_OK(ak_store_open(dir, AK_STORE_WRITE, &st, &err));
    ak_store_close(st);
    st = open_m(dir, AK_STORE_WRITE);
    AK_ASSERT(st != NULL);
    ak_store_close(st);
    st = NULL;
    /* swap the two files: each open must refuse the other's file and say what it is */
    AK_ASSERT_EQ_INT(rename(main_db, tmp), 0);
    AK_ASSERT_EQ_INT(rename(metrics_db, main_db), 0);
    AK_ASSERT_EQ_INT(rename(tmp, metrics_db), 0);
    AK_ASSERT_EQ_INT(ak_store_open_metrics(dir, AK_STORE_WRITE, &st, &err), AK_ECORRUPT);
    AK_ASSERT_NULL(st);
    AK_ASSERT_CONTAINS(err.buf, "metrics.db is not an asakai metrics database (it is an "
                                "asakai database");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_store_open_metrics(dir, AK_STORE_READ, &st, &err), AK_ECORRUPT);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_store_open(dir, AK_STORE_WRITE, &st, &err), AK_ECORRUPT);
    AK_ASSERT_NULL(st);
    AK_ASSERT_CONTAINS(err.buf, "asakai.db is not an asakai database (it is an asakai "
                                "metrics database");
    /* a file that is not SQLite at all */
    FILE *f = fopen(metrics_db, "wb");
    AK_ASSERT(f != NULL);
    fputs("this is not a database, just some text long enough to be read as a header....\n"
          "................................................................................\n",
          f);
    fclose(f);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_store_open_metrics(dir, AK_STORE_WRITE, &st, &err), AK_ECORRUPT);
    AK_ASSERT_CONTAINS(err.buf, "is not an asakai metrics database");
    ak_buf_release(&err);
    free(main_db);
    free(metrics_db);
    free(tmp);
}

AK_TEST(functions_refuse_the_other_database)
{
    const char *dir = AK_TMPDIR();
    struct ak_store *st = NULL, *ms = NULL;
    struct ak_buf err = AK_BUF_INIT(512);
    int64_t id = 0, n = 0;

    AK_ASSERT_OK(ak_store_open(dir, AK_STORE_WRITE, &st, &err));
    ms = open_m(dir, AK_STORE_WRITE);
    AK_ASSERT(ms != NULL);
    AK_ASSERT_EQ_INT(ak_store_mseries_put(st, "a", "a", NULL, NULL, 0, &id), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_review_put(st, T0, "{}"), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_raw_count(ms, NULL, &n), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_kv_set(ms, "k", "v"), AK_EINVAL);
    /* both still work for their own functions afterwards */
    AK_ASSERT_OK(ak_store_raw_count(st, NULL, &n));
    AK_ASSERT_EQ_INT(n, 0);
    AK_ASSERT_OK(ak_store_mseries_put(ms, "a", "a", NULL, NULL, 0, &id));
    AK_ASSERT(id > 0);
    ak_store_close(st);
    ak_store_close(ms);
    ak_buf_release(&err);
}

AK_TEST(series_put_is_idempotent_touch_widens)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mseries m = {0};
    int64_t a = 0, a2 = 0, b = 0;

    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_mseries_put(st, "mem{job=\"api\",service=\"shop\"}", "mem", "shop",
                                      "{\"job\":\"api\",\"service\":\"shop\"}", AK_MTYPE_GAUGE,
                                      &a));
    /* same key, other fields: the first row stays */
    AK_ASSERT_OK(ak_store_mseries_put(st, "mem{job=\"api\",service=\"shop\"}", "other", "x",
                                      "{}", AK_MTYPE_COUNTER, &a2));
    AK_ASSERT_EQ_INT(a2, a);
    AK_ASSERT_OK(ak_store_mseries_put(st, "req_total{job=\"api\"}", "req_total", NULL, NULL,
                                      AK_MTYPE_COUNTER, &b));
    AK_ASSERT(b != a);
    AK_ASSERT_OK(ak_store_mseries_get(st, "mem{job=\"api\",service=\"shop\"}", &m));
    AK_ASSERT_STR(m.metric, "mem");
    AK_ASSERT_STR(m.service, "shop");
    AK_ASSERT_STR(m.labels, "{\"job\":\"api\",\"service\":\"shop\"}");
    AK_ASSERT_EQ_INT(m.type, AK_MTYPE_GAUGE);
    AK_ASSERT_EQ_INT(m.first_ms, 0);
    AK_ASSERT_EQ_INT(m.last_ms, 0);
    ak_mseries_release(&m);
    AK_ASSERT_OK(ak_store_mseries_get(st, "req_total{job=\"api\"}", &m));
    AK_ASSERT_STR(m.service, "");
    AK_ASSERT_STR(m.labels, "{}");
    ak_mseries_release(&m);

    AK_ASSERT_OK(ak_store_mseries_touch(st, a, T0, T0 + 15000, 1.5));
    /* an older range widens first_ms only and keeps the newest value */
    AK_ASSERT_OK(ak_store_mseries_touch(st, a, T0 - 60000, T0 - 30000, 9.0));
    AK_ASSERT_OK(ak_store_mseries_touch(st, a, T0 + 30000, T0 + 45000, 2.5));
    AK_ASSERT_OK(ak_store_mseries_get(st, "mem{job=\"api\",service=\"shop\"}", &m));
    AK_ASSERT_EQ_INT(m.first_ms, T0 - 60000);
    AK_ASSERT_EQ_INT(m.last_ms, T0 + 45000);
    AK_ASSERT(m.last_value == 2.5);
    ak_mseries_release(&m);
    AK_ASSERT_EQ_INT(ak_store_mseries_touch(st, 9999, T0, T0, 1), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_mseries_touch(st, a, T0, T0 - 1, 1), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_mseries_get(st, "nope", &m), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_mseries_put(st, "", "m", NULL, NULL, 0, &a2), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_mseries_put(st, "k", "m", NULL, NULL, 7, &a2), AK_EINVAL);
    ak_store_close(st);
}

AK_TEST(series_list_by_service_and_glob)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mseries *v = NULL;
    size_t n = 0;

    AK_ASSERT(st != NULL);
    AK_ASSERT(put_series(st, "node_memory_free{i=\"1\"}", "node_memory_free", "node") > 0);
    AK_ASSERT(put_series(st, "node_memory_used{i=\"1\"}", "node_memory_used", "node") > 0);
    AK_ASSERT(put_series(st, "node_cpu{i=\"1\"}", "node_cpu", "node") > 0);
    AK_ASSERT(put_series(st, "http_req{s=\"shop\"}", "http_req", "shop") > 0);
    AK_ASSERT(put_series(st, "node_load1{s=\"shop\"}", "node_load1", "shop") > 0);

    AK_ASSERT_OK(ak_store_mseries_list(st, NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 5);
    AK_ASSERT_STR(v[0].key, "http_req{s=\"shop\"}"); /* by key */
    for (size_t i = 0; i < n; i++)
        ak_mseries_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_mseries_list(st, "node", "node_memory_*", &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_STR(v[0].metric, "node_memory_free");
    AK_ASSERT_STR(v[1].metric, "node_memory_used");
    for (size_t i = 0; i < n; i++)
        ak_mseries_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_mseries_list(st, NULL, "node_???d1", &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_STR(v[0].service, "shop");
    ak_mseries_release(&v[0]);
    free(v);
    AK_ASSERT_OK(ak_store_mseries_list(st, "shop", "NODE*", &v, &n)); /* GLOB is case-sensitive */
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    ak_store_close(st);
}

/* Encodes n samples starting at t with step ms, values v0 + i * dv; returns the chunk. */
static const uint8_t *encode(struct ak_tsdb_chunk *c, int64_t t, int64_t step, unsigned n,
                             double v0, double dv, size_t *len)
{
    ak_tsdb_chunk_init(c);
    for (unsigned i = 0; i < n; i++)
        if (ak_tsdb_chunk_append(c, t + (int64_t)i * step, v0 + i * dv) != AK_OK)
            return NULL;
    return ak_tsdb_chunk_finish(c, len);
}

struct seen {
    int64_t start[8];
    unsigned n[8];
    size_t count;
    int64_t last_t;
    double last_v;
    int stop_after;
};

static int seen_fn(void *arg, int64_t start_ms, int64_t end_ms, unsigned n, const uint8_t *data,
                   size_t len)
{
    struct seen *s = arg;
    int64_t ts[AK_TSDB_CHUNK_MAX_SAMPLES];
    double vs[AK_TSDB_CHUNK_MAX_SAMPLES];
    size_t got = 0;

    (void)end_ms;
    if (s->count < 8) {
        s->start[s->count] = start_ms;
        s->n[s->count] = n;
    }
    s->count++;
    if (ak_tsdb_chunk_decode(data, len, ts, vs, AK_TSDB_CHUNK_MAX_SAMPLES, &got) != AK_OK ||
        got != n)
        return -100;
    s->last_t = ts[got - 1];
    s->last_v = vs[got - 1];
    return s->stop_after && (int)s->count == s->stop_after ? 7 : 0;
}

AK_TEST(chunks_put_replace_each_last)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_tsdb_chunk c;
    struct seen sn = {0};
    const uint8_t *p;
    uint8_t *data = NULL;
    size_t len = 0, dlen = 0;
    int64_t id, other, s0 = 0, e0 = 0;
    unsigned n = 0;

    AK_ASSERT(st != NULL);
    id = put_series(st, "x", "x", "svc");
    other = put_series(st, "y", "y", "svc");
    AK_ASSERT(id > 0 && other > 0);
    AK_ASSERT_EQ_INT(ak_store_mchunk_last(st, id, &s0, &e0, &n, &data, &dlen), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_begin(st));
    /* three chunks of 10 samples, 15 s apart: [T0, T0+135 s], [T0+150 s, ...], ... */
    for (int k = 0; k < 3; k++) {
        int64_t t = T0 + k * 150000;
        p = encode(&c, t, 15000, 10, k * 100.0, 1.0, &len);
        AK_ASSERT(p != NULL);
        AK_ASSERT_OK(ak_store_mchunk_put(st, id, t, t + 135000, 10, p, len));
    }
    /* the open chunk grows: the same key is rewritten with 20 samples */
    p = encode(&c, T0 + 300000, 15000, 20, 200.0, 1.0, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, T0 + 300000, T0 + 300000 + 19 * 15000, 20, p, len));
    p = encode(&c, T0, 15000, 5, -1.0, 0.0, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, other, T0, T0 + 60000, 5, p, len));
    /* a series that does not exist is refused by the foreign key */
    AK_ASSERT_EQ_INT(ak_store_mchunk_put(st, 4242, T0, T0, 5, p, len), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_mchunk_put(st, id, T0, T0 - 1, 5, p, len), AK_EINVAL);
    AK_ASSERT_OK(ak_store_commit(st));

    /* whole range: three chunks, the last one decoded with its 20 samples */
    AK_ASSERT_OK(ak_store_mchunk_each(st, id, 0, INT64_MAX, seen_fn, &sn));
    AK_ASSERT_EQ_INT(sn.count, 3);
    AK_ASSERT_EQ_INT(sn.start[0], T0);
    AK_ASSERT_EQ_INT(sn.start[2], T0 + 300000);
    AK_ASSERT_EQ_INT(sn.n[2], 20);
    AK_ASSERT_EQ_INT(sn.last_t, T0 + 300000 + 19 * 15000);
    AK_ASSERT(sn.last_v == 219.0);
    /* a range inside the second chunk only; then one touching the end of the first */
    memset(&sn, 0, sizeof(sn));
    AK_ASSERT_OK(ak_store_mchunk_each(st, id, T0 + 160000, T0 + 170000, seen_fn, &sn));
    AK_ASSERT_EQ_INT(sn.count, 1);
    AK_ASSERT_EQ_INT(sn.start[0], T0 + 150000);
    memset(&sn, 0, sizeof(sn));
    AK_ASSERT_OK(ak_store_mchunk_each(st, id, T0 + 135000, T0 + 150000, seen_fn, &sn));
    AK_ASSERT_EQ_INT(sn.count, 2);
    memset(&sn, 0, sizeof(sn));
    AK_ASSERT_OK(ak_store_mchunk_each(st, id, T0 + 1000000, T0 + 2000000, seen_fn, &sn));
    AK_ASSERT_EQ_INT(sn.count, 0);
    /* the callback's non-zero return stops the walk and comes back */
    memset(&sn, 0, sizeof(sn));
    sn.stop_after = 2;
    AK_ASSERT_EQ_INT(ak_store_mchunk_each(st, id, 0, INT64_MAX, seen_fn, &sn), 7);
    AK_ASSERT_EQ_INT(sn.count, 2);

    AK_ASSERT_OK(ak_store_mchunk_last(st, id, &s0, &e0, &n, &data, &dlen));
    AK_ASSERT_EQ_INT(s0, T0 + 300000);
    AK_ASSERT_EQ_INT(e0, T0 + 300000 + 19 * 15000);
    AK_ASSERT_EQ_INT(n, 20);
    p = encode(&c, T0 + 300000, 15000, 20, 200.0, 1.0, &len);
    AK_ASSERT_EQ_INT(dlen, len);
    AK_ASSERT_MEM(data, p, len);
    free(data);
    ak_store_close(st);
}

/* Rows of table in the metrics.db of dir (a second, read-only connection: committed rows). */
static int64_t rows_in(const char *dir, const char *table)
{
    char *path = path_in(dir, "metrics.db"), *sql = ak_xasprintf("SELECT count(*) FROM %s", table);
    int64_t v = pragma_i64(path, sql);
    free(sql);
    free(path);
    return v;
}

AK_TEST(chunk_moves_from_head_to_final)
{
    const char *dir = AK_TMPDIR();
    struct ak_store *st = open_m(dir, AK_STORE_WRITE);
    struct ak_tsdb_chunk c;
    struct ak_mstats ms;
    struct seen sn = {0};
    const uint8_t *p;
    uint8_t *data = NULL;
    size_t len = 0, dlen = 0;
    int64_t id, other, s0 = 0, e0 = 0, deleted = 0;
    const int64_t A = T0, B = T0 + 120 * 15000, OLD = T0 - 600000;
    unsigned n = 0;

    AK_ASSERT(st != NULL);
    id = put_series(st, "x", "x", "svc");
    other = put_series(st, "y", "y", "svc");
    /* open with 119 samples (one short of AK_TSDB_CHUNK_MAX_SAMPLES): a head */
    p = encode(&c, A, 15000, AK_TSDB_CHUNK_MAX_SAMPLES - 1, 0, 1, &len);
    AK_ASSERT(p != NULL);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, A, A + 118 * 15000, 119, p, len));
    AK_ASSERT_EQ_INT(rows_in(dir, "mheads"), 1);
    AK_ASSERT_EQ_INT(rows_in(dir, "mchunks"), 0);
    /* the 120th sample makes it final: it moves, the head row of the key is gone */
    p = encode(&c, A, 15000, AK_TSDB_CHUNK_MAX_SAMPLES, 0, 1, &len);
    AK_ASSERT(p != NULL);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, A, A + 119 * 15000, AK_TSDB_CHUNK_MAX_SAMPLES, p,
                                     len));
    AK_ASSERT_EQ_INT(rows_in(dir, "mheads"), 0);
    AK_ASSERT_EQ_INT(rows_in(dir, "mchunks"), 1);
    /* put replaces whatever the key holds: a shorter chunk of the same key moves back */
    p = encode(&c, A, 15000, 30, 0, 1, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, A, A + 29 * 15000, 30, p, len));
    AK_ASSERT_EQ_INT(rows_in(dir, "mheads"), 1);
    AK_ASSERT_EQ_INT(rows_in(dir, "mchunks"), 0);
    AK_ASSERT_OK(ak_store_begin(st));
    p = encode(&c, A, 15000, 120, 0, 1, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, A, A + 119 * 15000, 120, p, len));
    /* full again with other values: REPLACE keeps one row of the key */
    p = encode(&c, A, 15000, 120, 1000, 2, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, A, A + 119 * 15000, 120, p, len));
    /* the next open chunk, and an older one backfilled as a head */
    p = encode(&c, B, 15000, 7, 500, 1, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, B, B + 6 * 15000, 7, p, len));
    p = encode(&c, OLD, 15000, 3, -5, 1, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, id, OLD, OLD + 30000, 3, p, len));
    /* other: a final chunk newer than its head */
    p = encode(&c, T0, 1000, 9, 0, 0, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, other, T0, T0 + 8000, 9, p, len));
    p = encode(&c, T0 + 60000, 1000, 120, 0, 0, &len);
    AK_ASSERT_OK(ak_store_mchunk_put(st, other, T0 + 60000, T0 + 179000, 120, p, len));
    /* a final chunk of an unknown series is refused too */
    AK_ASSERT_EQ_INT(ak_store_mchunk_put(st, 4242, T0, T0 + 179000, 120, p, len), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_EQ_INT(rows_in(dir, "mheads"), 3);
    AK_ASSERT_EQ_INT(rows_in(dir, "mchunks"), 2);

    /* each merges both tables by start_ms: OLD (head), A (final), B (head) */
    AK_ASSERT_OK(ak_store_mchunk_each(st, id, 0, INT64_MAX, seen_fn, &sn));
    AK_ASSERT_EQ_INT(sn.count, 3);
    AK_ASSERT_EQ_INT(sn.start[0], OLD);
    AK_ASSERT_EQ_INT(sn.n[0], 3);
    AK_ASSERT_EQ_INT(sn.start[1], A);
    AK_ASSERT_EQ_INT(sn.n[1], 120);
    AK_ASSERT_EQ_INT(sn.start[2], B);
    AK_ASSERT_EQ_INT(sn.n[2], 7);
    AK_ASSERT(sn.last_v == 506.0);
    /* a range over the final chunk only: its replaced values */
    memset(&sn, 0, sizeof(sn));
    AK_ASSERT_OK(ak_store_mchunk_each(st, id, A + 1, A + 2, seen_fn, &sn));
    AK_ASSERT_EQ_INT(sn.count, 1);
    AK_ASSERT(sn.last_v == 1000.0 + 119 * 2);
    /* last: the head of id, the final chunk of other */
    AK_ASSERT_OK(ak_store_mchunk_last(st, id, &s0, &e0, &n, &data, &dlen));
    AK_ASSERT_EQ_INT(s0, B);
    AK_ASSERT_EQ_INT(n, 7);
    free(data);
    AK_ASSERT_OK(ak_store_mchunk_last(st, other, &s0, &e0, &n, &data, &dlen));
    AK_ASSERT_EQ_INT(s0, T0 + 60000);
    AK_ASSERT_EQ_INT(e0, T0 + 179000);
    AK_ASSERT_EQ_INT(n, 120);
    AK_ASSERT_EQ_INT(dlen, len);
    AK_ASSERT_MEM(data, p, len);
    free(data);
    /* stats count both tables */
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    AK_ASSERT_EQ_INT(ms.chunks, 5);
    AK_ASSERT_EQ_INT(ms.raw_samples, 3 + 120 + 7 + 9 + 120);
    /* retention, one cut at a time: OLD (a head ending before A), then other's head (ending
     * at T0 + 8 s), then the two final chunks (both ending before B); B stays */
    AK_ASSERT_OK(ak_store_mretain(st, A + 1, 0, 0, &deleted));
    AK_ASSERT_EQ_INT(deleted, 1);
    AK_ASSERT_OK(ak_store_mretain(st, T0 + 8001, 0, 0, &deleted));
    AK_ASSERT_EQ_INT(deleted, 1);
    AK_ASSERT_OK(ak_store_mretain(st, B, 0, 0, &deleted));
    AK_ASSERT_EQ_INT(deleted, 2);
    AK_ASSERT_EQ_INT(rows_in(dir, "mheads"), 1);
    AK_ASSERT_EQ_INT(rows_in(dir, "mchunks"), 0);
    ak_store_close(st);
}

static struct ak_mpoint mkpoint(int64_t start, double base)
{
    struct ak_mpoint p = {start, base - 1, base + 1, base * 4, base, base + 0.5, 4, 0};
    return p;
}

AK_TEST(points_put_replace_range_last_per_tier)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mpoint *v = NULL, p;
    size_t n = 0;
    int64_t id, last = 0;

    AK_ASSERT(st != NULL);
    id = put_series(st, "cpu", "cpu", "node");
    AK_ASSERT_EQ_INT(ak_store_mpoint_last(st, id, 0, &last), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_begin(st));
    for (int i = 0; i < 120; i++) {
        p = mkpoint(T0 + i * MIN_MS, i);
        AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &p));
    }
    for (int i = 0; i < 2; i++) {
        p = mkpoint(T0 + i * HOUR_MS, 1000 + i);
        AK_ASSERT_OK(ak_store_mpoint_put(st, id, 1, &p));
    }
    /* replace minute 5 with a reset seen in it */
    p = mkpoint(T0 + 5 * MIN_MS, 55);
    p.count = 3;
    p.decreases = 1;
    AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &p));
    AK_ASSERT_EQ_INT(ak_store_mpoint_put(st, id, 2, &p), AK_EINVAL);
    AK_ASSERT_OK(ak_store_commit(st));

    /* [from, to): minutes 0..59 of the first hour */
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, T0, T0 + HOUR_MS, &v, &n));
    AK_ASSERT_EQ_INT(n, 60);
    AK_ASSERT_EQ_INT(v[0].start_ms, T0);
    AK_ASSERT_EQ_INT(v[59].start_ms, T0 + 59 * MIN_MS);
    AK_ASSERT(v[5].first == 55 && v[5].min == 54 && v[5].max == 56 && v[5].sum == 220);
    AK_ASSERT(v[5].last == 55.5);
    AK_ASSERT_EQ_INT(v[5].count, 3);
    AK_ASSERT_EQ_INT(v[5].decreases, 1);
    AK_ASSERT_EQ_INT(v[6].decreases, 0);
    free(v);
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 1, 0, INT64_MAX, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT(v[1].first == 1001);
    free(v);
    AK_ASSERT_OK(ak_store_mpoint_range(st, id + 1, 0, 0, INT64_MAX, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    AK_ASSERT_OK(ak_store_mpoint_last(st, id, 0, &last));
    AK_ASSERT_EQ_INT(last, T0 + 119 * MIN_MS);
    AK_ASSERT_OK(ak_store_mpoint_last(st, id, 1, &last));
    AK_ASSERT_EQ_INT(last, T0 + HOUR_MS);
    ak_store_close(st);
}

/* Runs one SQL statement on the file, outside the store (to look at or damage its rows). */
static int64_t sql_on(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int64_t v = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        v = sqlite3_changes(db);
    sqlite3_close(db);
    return v;
}

static bool same_point(const struct ak_mpoint *a, const struct ak_mpoint *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* Minute points 0..149 from T0 (an hour boundary): hours 0 and 1 are packed into blocks when
 * the first point of the next hour comes, hour 2 stays loose; reads merge both. */
AK_TEST(points_pack_by_hour_and_read_across)
{
    char *path = path_in(AK_TMPDIR(), "metrics.db");
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mpoint want[150], *v = NULL;
    struct ak_mstats ms;
    size_t n = 0;
    int64_t id, last = 0;

    AK_ASSERT(st != NULL);
    id = put_series(st, "g", "g", "svc");
    AK_ASSERT_OK(ak_store_begin(st));
    for (int i = 0; i < 150; i++) {
        want[i] = mkpoint(T0 + i * MIN_MS, 1e9 + i * 4096.0 * (i % 7));
        want[i].min = want[i].first; /* a shape a block stores once */
        AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &want[i]));
    }
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT count(*) FROM pblocks"), 2);
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT sum(n) FROM pblocks"), 120);
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT count(*) FROM points"), 30);
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    AK_ASSERT_EQ_INT(ms.points[0], 150);
    /* minute 59 (block 0) to 120 (loose): [from, to) over three places */
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, T0 + 59 * MIN_MS, T0 + 121 * MIN_MS, &v, &n));
    AK_ASSERT_EQ_INT(n, 62);
    for (size_t i = 0; i < n; i++)
        AK_ASSERT(same_point(&v[i], &want[59 + i]));
    free(v);
    /* a range inside one block, one before everything, and one between points */
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, T0 + 70 * MIN_MS, T0 + 72 * MIN_MS, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT(same_point(&v[1], &want[71]));
    free(v);
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, 0, T0, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, T0 + 1, T0 + MIN_MS, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    AK_ASSERT_OK(ak_store_mpoint_last(st, id, 0, &last));
    AK_ASSERT_EQ_INT(last, T0 + 149 * MIN_MS);
    ak_store_close(st);
    /* without the loose rows the newest point is the last one of block 1 */
    AK_ASSERT_EQ_INT(sql_on(path, "DELETE FROM points"), 30);
    st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_mpoint_last(st, id, 0, &last));
    AK_ASSERT_EQ_INT(last, T0 + 119 * MIN_MS);
    AK_ASSERT_EQ_INT(ak_store_mpoint_last(st, id, 1, &last), AK_ENOTFOUND);
    ak_store_close(st);
    /* a damaged block is reported, not read as points */
    AK_ASSERT_EQ_INT(sql_on(path, "UPDATE pblocks SET data = x'0500ff' WHERE rowid = 1"), 1);
    st = open_m(AK_TMPDIR(), AK_STORE_READ);
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_mpoint_range(st, id, 0, 0, INT64_MAX, &v, &n), AK_ECORRUPT);
    ak_store_close(st);
    free(path);
}

/* The per-connection period cache: two series interleaved, a transaction that crossed into the
 * next hour (and packed the previous one) rolled back, then the hour written again and the next
 * ones: every point stays readable exactly once, and older hours end up packed. */
AK_TEST(points_period_cache_survives_rollback_and_interleaving)
{
    char *path = path_in(AK_TMPDIR(), "metrics.db");
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mpoint *v = NULL, p;
    size_t n = 0;
    int64_t id[2];

    AK_ASSERT(st != NULL);
    id[0] = put_series(st, "a", "a", "svc");
    id[1] = put_series(st, "b", "b", "svc");
    AK_ASSERT_OK(ak_store_begin(st));
    for (int i = 0; i < 60; i++)
        for (int k = 0; k < 2; k++) {
            p = mkpoint(T0 + i * MIN_MS, 100.0 * k + i);
            AK_ASSERT_OK(ak_store_mpoint_put(st, id[k], 0, &p));
        }
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_OK(ak_store_begin(st)); /* the next hour packs the first, then is undone */
    p = mkpoint(T0 + 60 * MIN_MS, 60);
    AK_ASSERT_OK(ak_store_mpoint_put(st, id[0], 0, &p));
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT count(*) FROM pblocks"), 0); /* not committed */
    AK_ASSERT_OK(ak_store_rollback(st));
    AK_ASSERT_OK(ak_store_begin(st));
    for (int i = 60; i < 180; i++)
        for (int k = 0; k < 2; k++) {
            p = mkpoint(T0 + i * MIN_MS, 100.0 * k + i);
            AK_ASSERT_OK(ak_store_mpoint_put(st, id[k], 0, &p));
        }
    AK_ASSERT_OK(ak_store_commit(st));
    for (int k = 0; k < 2; k++) {
        AK_ASSERT_OK(ak_store_mpoint_range(st, id[k], 0, 0, INT64_MAX, &v, &n));
        AK_ASSERT_EQ_INT(n, 180);
        for (size_t i = 0; i < n; i++) {
            AK_ASSERT_EQ_INT(v[i].start_ms, T0 + (int64_t)i * MIN_MS);
            AK_ASSERT(v[i].first == 100.0 * k + (double)i);
        }
        free(v);
    }
    /* hours 0 and 1 of both series are packed, hour 2 is loose */
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT count(*) FROM pblocks"), 4);
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT count(*) FROM points"), 120);
    ak_store_close(st);
    free(path);
}

/* Re-writing history (an idempotent re-import, or a correction) replaces the point inside its
 * packed block, or inserts it there, and every double comes back bit for bit. */
AK_TEST(points_replace_inside_block_bit_exact)
{
    char *path = path_in(AK_TMPDIR(), "metrics.db");
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mpoint *v = NULL, odd, again;
    size_t n = 0;
    int64_t id;

    AK_ASSERT(st != NULL);
    id = put_series(st, "c", "c", "svc");
    AK_ASSERT_OK(ak_store_begin(st));
    for (int i = 0; i <= 60; i++) {
        struct ak_mpoint p = mkpoint(T0 + i * MIN_MS, 12345.67 + i * 0.01);
        AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &p));
    }
    /* -0, extremes, a denormal, infinities and counts no double holds exactly */
    odd = (struct ak_mpoint){T0 + 5 * MIN_MS, -0.0, 1.7976931348623157e308, -4.9e-324,
                             -1.0 / 0.0, 1.0 / 0.0, INT64_MAX, (1ULL << 62) + 3};
    AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &odd));
    /* off the minute grid: inserted between two points of the block */
    again = mkpoint(T0 + 7 * MIN_MS + 1, 0.1);
    again.sum = 0.30000000000000004;
    AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &again));
    /* points of one sample repeat first in every value: stored once, read back exactly */
    struct ak_mpoint one = {T0 + 9 * MIN_MS, -0.0, -0.0, -0.0, -0.0, -0.0, 1, 0};
    struct ak_mpoint two = {T0 + 10 * MIN_MS, 3.25, 7.5, 3.25, 3.25, 7.5, 2, 1};
    AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &one));
    AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &two));
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT count(*) FROM points"), 1);
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT n FROM pblocks"), 61);
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, T0, T0 + HOUR_MS, &v, &n));
    AK_ASSERT_EQ_INT(n, 61);
    AK_ASSERT(same_point(&v[5], &odd));
    AK_ASSERT(v[5].min == 0 && signbit(v[5].min));
    AK_ASSERT(same_point(&v[8], &again));
    AK_ASSERT_EQ_INT(v[9].start_ms, T0 + 8 * MIN_MS);
    AK_ASSERT(same_point(&v[10], &one) && signbit(v[10].sum) && signbit(v[10].last));
    AK_ASSERT(same_point(&v[11], &two));
    struct ak_mpoint p6 = mkpoint(T0 + 6 * MIN_MS, 12345.67 + 6 * 0.01);
    AK_ASSERT(same_point(&v[6], &p6));
    free(v);
    /* the same put again changes nothing */
    AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &odd));
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, T0, T0 + HOUR_MS, &v, &n));
    AK_ASSERT_EQ_INT(n, 61);
    AK_ASSERT(same_point(&v[5], &odd));
    free(v);
    ak_store_close(st);
    free(path);
}

/* The minute cut goes through a packed hour: the block is rewritten without the points before
 * it; a block wholly before the cut goes whole. */
AK_TEST(retention_cuts_through_a_block)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mpoint *v = NULL;
    struct ak_mstats ms;
    int64_t id, deleted = 0;
    size_t n = 0;

    AK_ASSERT(st != NULL);
    id = put_series(st, "r", "r", "svc");
    AK_ASSERT_OK(ak_store_begin(st));
    for (int i = 0; i < 130; i++) {
        struct ak_mpoint p = mkpoint(T0 + i * MIN_MS, i);
        AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &p));
    }
    AK_ASSERT_OK(ak_store_mretain(st, 0, T0 + 75 * MIN_MS, 0, &deleted));
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_EQ_INT(deleted, 75);
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    AK_ASSERT_EQ_INT(ms.points[0], 55);
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, 0, INT64_MAX, &v, &n));
    AK_ASSERT_EQ_INT(n, 55);
    AK_ASSERT_EQ_INT(v[0].start_ms, T0 + 75 * MIN_MS);
    AK_ASSERT(v[0].first == 75);
    free(v);
    /* a cut at a block's end leaves the next block whole */
    AK_ASSERT_OK(ak_store_mretain(st, 0, T0 + 120 * MIN_MS, 0, &deleted));
    AK_ASSERT_EQ_INT(deleted, 45);
    AK_ASSERT_OK(ak_store_mpoint_range(st, id, 0, 0, INT64_MAX, &v, &n));
    AK_ASSERT_EQ_INT(n, 10);
    AK_ASSERT_EQ_INT(v[0].start_ms, T0 + 120 * MIN_MS);
    free(v);
    ak_store_close(st);
}

AK_TEST(retention_deletes_by_tier_and_counts)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_tsdb_chunk c;
    struct ak_mstats ms;
    struct ak_mpoint p;
    const uint8_t *data;
    size_t len = 0;
    int64_t deleted = -1;

    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_begin(st));
    for (int s = 0; s < 3; s++) {
        char key[16];
        snprintf(key, sizeof(key), "s%d", s);
        int64_t id = put_series(st, key, "s", "svc");
        AK_ASSERT(id > 0);
        /* 10 chunks of 10 minutes each: the k-th ends at T0 + k*10min + 9min; the odd ones
         * are full (120 samples at 4.5 s: in mchunks), the even ones open (10 at 1 min: in
         * mheads), so the cuts below go through both tables */
        for (int k = 0; k < 10; k++) {
            int64_t t = T0 + k * 10 * MIN_MS;
            unsigned n = k % 2 ? 120 : 10;
            data = encode(&c, t, k % 2 ? 4500 : MIN_MS, n, k, 1, &len);
            AK_ASSERT(data != NULL);
            AK_ASSERT_OK(ak_store_mchunk_put(st, id, t, t + 9 * MIN_MS, n, data, len));
        }
        for (int i = 0; i < 100; i++) {
            p = mkpoint(T0 + i * MIN_MS, i);
            AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &p));
        }
        for (int i = 0; i < 5; i++) {
            p = mkpoint(T0 + i * HOUR_MS, i);
            AK_ASSERT_OK(ak_store_mpoint_put(st, id, 1, &p));
        }
    }
    AK_ASSERT_OK(ak_store_commit(st));
    /* nothing to do: all cuts 0 */
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(ak_store_mretain(st, 0, 0, 0, &deleted));
    AK_ASSERT_EQ_INT(deleted, 0);
    /* chunks ending before T0+35min: k = 0,1,2 (k=3 ends at 39 min); minutes before 50;
     * hours before T0+2h */
    AK_ASSERT_OK(ak_store_mretain(st, T0 + 35 * MIN_MS, T0 + 50 * MIN_MS, T0 + 2 * HOUR_MS,
                                  &deleted));
    AK_ASSERT_EQ_INT(deleted, 3 * (3 + 50 + 2));
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    AK_ASSERT_EQ_INT(ms.series, 3);
    AK_ASSERT_EQ_INT(ms.chunks, 3 * 7);
    AK_ASSERT_EQ_INT(ms.raw_samples, 3 * (4 * 120 + 3 * 10)); /* k = 3, 5, 7, 9 and 4, 6, 8 */
    AK_ASSERT_EQ_INT(ms.points[0], 3 * 50);
    AK_ASSERT_EQ_INT(ms.points[1], 3 * 3);
    /* the cut is exclusive: a chunk ending exactly at it stays */
    AK_ASSERT_OK(ak_store_mretain(st, T0 + 39 * MIN_MS, 0, 0, &deleted));
    AK_ASSERT_EQ_INT(deleted, 0);
    AK_ASSERT_OK(ak_store_mretain(st, T0 + 39 * MIN_MS + 1, 0, 0, NULL));
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    AK_ASSERT_EQ_INT(ms.chunks, 3 * 6);
    AK_ASSERT_EQ_INT(ms.raw_samples, 3 * (3 * 120 + 3 * 10)); /* k = 3 (full) went */
    /* everything, both tables */
    AK_ASSERT_OK(ak_store_mretain(st, INT64_MAX, 0, 0, &deleted));
    AK_ASSERT_EQ_INT(deleted, 3 * 6);
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    AK_ASSERT_EQ_INT(ms.chunks, 0);
    AK_ASSERT_EQ_INT(ms.raw_samples, 0);
    ak_store_close(st);
}

AK_TEST(retention_batches_and_gives_pages_back)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_mstats before, after;
    struct ak_mpoint p;
    int64_t deleted = 0, id;

    AK_ASSERT(st != NULL);
    id = put_series(st, "big", "big", "svc");
    AK_ASSERT_OK(ak_store_begin(st));
    /* more rows than one batch of 10,000 */
    for (int i = 0; i < 25000; i++) {
        p = mkpoint(T0 + i * MIN_MS, i);
        AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &p));
    }
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_OK(ak_store_mstats(st, &before));
    AK_ASSERT_EQ_INT(before.points[0], 25000);
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(ak_store_mretain(st, 0, T0 + 24990 * MIN_MS, 0, &deleted));
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_EQ_INT(deleted, 24990);
    AK_ASSERT_OK(ak_store_mstats(st, &after));
    AK_ASSERT_EQ_INT(after.points[0], 10);
    printf("# file %lld -> %lld bytes after retention\n", (long long)before.file_bytes,
           (long long)after.file_bytes);
    /* incremental auto-vacuum returned the freed pages: the file shrank by most of its size
     * (packed, 25,000 minute points take ~60 pages, the empty tables 16) */
    AK_ASSERT(after.file_bytes * 2 < before.file_bytes);
    ak_store_close(st);
}

/* The plans of the retention deletes and of a chunk range read, on a file with rows. */
static char *plans(const char *path)
{
    static const char *const sql[] = {
        "EXPLAIN QUERY PLAN DELETE FROM mchunks WHERE rowid IN (SELECT c.rowid "
        "FROM series s CROSS JOIN mchunks c ON c.series_id = s.id AND c.start_ms < ?1 "
        "WHERE c.end_ms < ?1 LIMIT ?2)",
        "EXPLAIN QUERY PLAN DELETE FROM mheads WHERE (series_id, start_ms) IN (SELECT "
        "h.series_id, h.start_ms FROM series s CROSS JOIN mheads h ON h.series_id = s.id "
        "AND h.start_ms < ?1 WHERE h.end_ms < ?1 LIMIT ?2)",
        "EXPLAIN QUERY PLAN DELETE FROM points WHERE (series_id, tier, start_ms) IN (SELECT "
        "p.series_id, p.tier, p.start_ms FROM series s CROSS JOIN points p ON p.series_id = s.id "
        "AND p.tier = ?3 AND p.start_ms < ?1 LIMIT ?2)",
        "EXPLAIN QUERY PLAN SELECT start_ms, end_ms, n, data FROM mchunks WHERE series_id = ?1 "
        "AND start_ms <= ?3 AND end_ms >= ?2 UNION ALL SELECT start_ms, end_ms, n, data FROM "
        "mheads WHERE series_id = ?1 AND start_ms <= ?3 AND end_ms >= ?2 ORDER BY start_ms",
        "EXPLAIN QUERY PLAN DELETE FROM pblocks WHERE rowid IN (SELECT b.rowid FROM series s "
        "CROSS JOIN pblocks b ON b.series_id = s.id AND b.tier = ?3 AND b.start_ms < ?1 "
        "LIMIT ?2) RETURNING n",
    };
    struct ak_buf plan = AK_BUF_INIT(AK_BUF_NOMAX);
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return NULL;
    for (size_t i = 0; i < AK_ARRAY_SIZE(sql); i++) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, sql[i], -1, &s, NULL) != SQLITE_OK)
            ak_buf_addf(&plan, "prepare failed: %s\n", sqlite3_errmsg(db));
        while (s && sqlite3_step(s) == SQLITE_ROW)
            ak_buf_addf(&plan, "%s\n", (const char *)sqlite3_column_text(s, 3));
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return ak_buf_detach(&plan, NULL);
}

AK_TEST(retention_and_range_reads_seek_per_series)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    char *path = path_in(AK_TMPDIR(), "metrics.db"), *plan;
    struct ak_tsdb_chunk c;
    struct ak_mpoint p = mkpoint(T0, 1);
    const uint8_t *data;
    size_t len;

    AK_ASSERT(st != NULL);
    for (int k = 0; k < 20; k++) {
        char key[16];
        snprintf(key, sizeof(key), "s%d", k);
        int64_t id = put_series(st, key, "s", "svc");
        data = encode(&c, T0, 1000, 120, k, 1, &len);
        AK_ASSERT_OK(ak_store_mchunk_put(st, id, T0, T0 + 119000, 120, data, len));
        data = encode(&c, T0 + 120000, 1000, 5, k, 1, &len);
        AK_ASSERT_OK(ak_store_mchunk_put(st, id, T0 + 120000, T0 + 124000, 5, data, len));
        AK_ASSERT_OK(ak_store_mpoint_put(st, id, 0, &p));
    }
    ak_store_close(st);
    plan = plans(path);
    AK_ASSERT(plan != NULL);
    AK_ASSERT_CONTAINS(plan, "SEARCH c USING INDEX mchunks_key (series_id=? AND start_ms<?)");
    AK_ASSERT_CONTAINS(plan, "SEARCH h USING PRIMARY KEY (series_id=? AND start_ms<?)");
    AK_ASSERT_CONTAINS(plan, "SEARCH p USING PRIMARY KEY (series_id=? AND tier=? AND start_ms<?)");
    AK_ASSERT_CONTAINS(plan, "SEARCH b USING COVERING INDEX pblocks_key (series_id=? AND tier=? "
                             "AND start_ms<?)");
    /* the range read merges two ordered seeks: no scan, no sort */
    AK_ASSERT_CONTAINS(plan, "MERGE (UNION ALL)");
    AK_ASSERT_CONTAINS(plan, "SEARCH mchunks USING INDEX mchunks_key (series_id=? AND "
                             "start_ms<?)");
    AK_ASSERT_CONTAINS(plan, "SEARCH mheads USING PRIMARY KEY (series_id=? AND start_ms<?)");
    AK_ASSERT(strstr(plan, "SCAN c\n") == NULL && strstr(plan, "SCAN p\n") == NULL &&
              strstr(plan, "SCAN h\n") == NULL && strstr(plan, "SCAN b\n") == NULL);
    AK_ASSERT(strstr(plan, "TEMP B-TREE") == NULL);
    AK_ASSERT(strstr(plan, "prepare failed") == NULL);
    free(plan);
    free(path);
}

/* A deterministic generator (xorshift64*), so that the measured size is the same every run. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Value of series k after prev: a mix like a node exporter's: constants (up, limits), byte
 * counters, CPU-seconds counters with two decimals and memory gauges moving by pages. noisy
 * replaces the gauges by two-decimal noise (load, ratios), which Gorilla XOR barely packs. */
static double sample_value(unsigned k, double prev, bool noisy, uint64_t *seed)
{
    switch (k % 4) {
    case 0: return 1.0;
    case 1: return prev + (double)(rnd(seed) % 2000);
    case 2: return prev + (double)(rnd(seed) % 1500) / 100.0;
    default:
        if (noisy)
            return (double)(rnd(seed) % 10000) / 100.0;
        return prev + (double)((int64_t)(rnd(seed) % 65) - 32) * 4096.0;
    }
}

enum { SERIES = 200, SAMPLES = 2000 };

/* Ingests SERIES x SAMPLES samples (15 s apart, a few ms of jitter, as real scrapes have) the
 * way a scraper does: every round appends one sample per series and re-puts each open chunk
 * (mheads) until it is full (then final: mchunks), interleaved across series, one commit per
 * 100 rounds. Writes the chunks and encoded bytes made. */
static int ingest(struct ak_store *st, bool noisy, int64_t *ret_chunks, int64_t *ret_bytes)
{
    static struct ak_tsdb_chunk c[SERIES];
    int64_t id[SERIES], start[SERIES], chunks = 0, bytes = 0;
    double v[SERIES];
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int r = AK_OK;

    for (unsigned k = 0; k < SERIES && r == AK_OK; k++) {
        char key[64];
        snprintf(key, sizeof(key), "m%u{instance=\"h%u\",job=\"node\"}", k % 4, k);
        r = ak_store_mseries_put(st, key, "m", "node", "{}", AK_MTYPE_GAUGE, &id[k]);
        ak_tsdb_chunk_init(&c[k]);
        v[k] = 1e9;
    }
    for (unsigned i = 0; i < SAMPLES && r == AK_OK; i++) {
        if (i % 100 == 0)
            r = ak_store_begin(st);
        for (unsigned k = 0; k < SERIES && r == AK_OK; k++) {
            int64_t t = T0 + (int64_t)i * 15000 + (int64_t)(rnd(&seed) % 4);
            size_t len;
            if (ak_tsdb_chunk_count(&c[k]) == AK_TSDB_CHUNK_MAX_SAMPLES) {
                ak_tsdb_chunk_init(&c[k]);
                chunks++;
            }
            if (ak_tsdb_chunk_count(&c[k]) == 0)
                start[k] = t;
            v[k] = sample_value(k, v[k], noisy, &seed);
            r = ak_tsdb_chunk_append(&c[k], t, v[k]);
            unsigned n = ak_tsdb_chunk_count(&c[k]);
            if (r != AK_OK)
                continue;
            const uint8_t *p = ak_tsdb_chunk_finish(&c[k], &len);
            r = ak_store_mchunk_put(st, id[k], start[k], t, n, p, len);
            if (r == AK_OK && ak_tsdb_chunk_count(&c[k]) == AK_TSDB_CHUNK_MAX_SAMPLES)
                bytes += (int64_t)len;
        }
        if (r == AK_OK && (i % 100 == 99 || i == SAMPLES - 1))
            r = ak_store_commit(st);
    }
    for (unsigned k = 0; k < SERIES && r == AK_OK; k++) {
        size_t len;
        if (ak_tsdb_chunk_count(&c[k]) < AK_TSDB_CHUNK_MAX_SAMPLES) {
            ak_tsdb_chunk_finish(&c[k], &len);
            bytes += (int64_t)len;
            chunks++;
        }
    }
    *ret_chunks = chunks;
    *ret_bytes = bytes;
    return r;
}

/* Prints the sizes per sample, and the share of each chunk b-tree (-1 without dbstat). */
static void print_stats(const char *what, const char *dir, const struct ak_mstats *ms)
{
    static const char *const tree[] = {"mchunks", "mchunks_key", "mheads"};
    char *path = path_in(dir, "metrics.db");
    double n = (double)ms->raw_samples;

    printf("# %s: %lld chunks, %lld samples; bytes/sample: encoded %.3f, chunk tables %.3f, "
           "file %.3f\n#   pages of", what, (long long)ms->chunks, (long long)ms->raw_samples,
           (double)ms->chunk_bytes / n, (double)ms->chunk_table_bytes / n,
           (double)ms->file_bytes / n);
    for (size_t i = 0; i < AK_ARRAY_SIZE(tree); i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "SELECT sum(pgsize) FROM dbstat WHERE name = '%s'", tree[i]);
        printf(" %s %.3f", tree[i], (double)pragma_i64(path, sql) / n);
    }
    printf("\n");
    free(path);
}

AK_TEST(mstats_measures_bytes_per_sample)
{
    char *dir = path_in(AK_TMPDIR(), "typical"), *dir2 = path_in(AK_TMPDIR(), "noisy");
    struct ak_store *st = open_m(dir, AK_STORE_WRITE);
    struct ak_mstats ms, noisy;
    int64_t chunks = 0, bytes = 0;

    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ingest(st, false, &chunks, &bytes));
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    ak_store_close(st);
    AK_ASSERT_EQ_INT(ms.series, SERIES);
    AK_ASSERT_EQ_INT(ms.chunks, chunks);
    AK_ASSERT_EQ_INT(ms.chunks, SERIES * 17); /* 16 full chunks of 120 and one of 80 */
    AK_ASSERT_EQ_INT(ms.raw_samples, SERIES * SAMPLES);
    AK_ASSERT_EQ_INT(ms.chunk_bytes, bytes);
    AK_ASSERT_EQ_INT(ms.points[0], 0);
    AK_ASSERT_EQ_INT(ms.file_bytes % 4096, 0);
    AK_ASSERT(ms.file_bytes > ms.chunk_bytes);
    print_stats("typical mix", dir, &ms);
    AK_ASSERT(ms.chunk_bytes < 5 * ms.raw_samples);
    st = open_m(dir2, AK_STORE_WRITE);
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ingest(st, true, &chunks, &bytes));
    AK_ASSERT_OK(ak_store_mstats(st, &noisy));
    ak_store_close(st);
    AK_ASSERT_EQ_INT(noisy.chunk_bytes, bytes);
    print_stats("a quarter of noisy gauges", dir2, &noisy);
    free(dir);
    free(dir2);
    if (ms.chunk_table_bytes < 0)
        AK_SKIP("this SQLite has no dbstat table: the table size is unknown");
    /* The chunk tables add row headers and keys (~0.2 B/sample), the key index (~0.15), the
     * end of each append-filled page that the next row did not fit in (~0.5) and the open
     * chunks in mheads (~0.25 here: 200 heads of 80 samples against only 2000 samples per
     * series): at most encoded x 1.15 + 0.4 B/sample, for noisy chunks too. A layout
     * regression (pages left half full by splits, full chunks spilling to overflow pages: 5.5
     * and 13.8 B/sample with the earlier single WITHOUT ROWID table) fails here. */
    AK_ASSERT(ms.chunk_table_bytes >= ms.chunk_bytes);
    AK_ASSERT(ms.chunk_table_bytes * 100 <= ms.chunk_bytes * 115 + 40 * ms.raw_samples);
    AK_ASSERT(ms.chunk_table_bytes <= ms.file_bytes);
    AK_ASSERT(noisy.chunk_table_bytes >= noisy.chunk_bytes);
    AK_ASSERT(noisy.chunk_table_bytes * 100 <=
              noisy.chunk_bytes * 115 + 40 * noisy.raw_samples);
}

/* Minute points as the tiers make them from 15 s scrapes (4 samples a minute) of a memory gauge
 * (moves by pages), a byte counter and a CPU-seconds counter (two decimals). */
static struct ak_mpoint minute_point(unsigned kind, int64_t start, double *v, uint64_t *seed)
{
    struct ak_mpoint p = {.start_ms = start, .count = 4};

    for (int j = 0; j < 4; j++) {
        if (kind == 0)
            *v += (double)((int64_t)(rnd(seed) % 65) - 32) * 4096.0;
        else if (kind == 1)
            *v += (double)(rnd(seed) % 200000);
        else /* scraped as text with two decimals: the double nearest to it */
            *v = (double)llround((*v + (double)(rnd(seed) % 1500) / 100.0) * 100) / 100.0;
        if (j == 0)
            p.first = p.min = p.max = *v;
        p.min = *v < p.min ? *v : p.min;
        p.max = *v > p.max ? *v : p.max;
        p.sum += *v;
        p.last = *v;
    }
    return p;
}

enum { MP_SERIES = 200, MP_MINUTES = 2 * 24 * 60 };

/* 200 series x 2 days of minute points, written as the ingester does (one put per series and
 * minute, a commit per 10 minutes): the bytes per point of the whole file and of the tier
 * tables. The row-per-point layout measured 60.0 B/point (file, 59.8 the table); packed blocks must stay
 * under 20. */
AK_TEST(minute_points_bytes_per_point)
{
    char *dir = path_in(AK_TMPDIR(), "mp"), *path = path_in(dir, "metrics.db");
    struct ak_store *st = open_m(dir, AK_STORE_WRITE);
    int64_t id[MP_SERIES];
    double v[MP_SERIES];
    uint64_t seed = 0x243F6A8885A308D3ULL;
    struct ak_mstats ms;
    struct ak_mpoint *got = NULL;
    size_t n = 0;

    AK_ASSERT(st != NULL);
    for (unsigned k = 0; k < MP_SERIES; k++) {
        char key[64];
        snprintf(key, sizeof(key), "m%u{instance=\"h%u\"}", k % 3, k);
        id[k] = put_series(st, key, "m", "node");
        AK_ASSERT(id[k] > 0);
        v[k] = k % 3 == 0 ? 1.5e9 : k % 3 == 1 ? 8e12 : 123456.78;
    }
    for (int i = 0; i < MP_MINUTES; i++) {
        if (i % 10 == 0)
            AK_ASSERT_OK(ak_store_begin(st));
        for (unsigned k = 0; k < MP_SERIES; k++) {
            struct ak_mpoint p = minute_point(k % 3, T0 + i * MIN_MS, &v[k], &seed);
            AK_ASSERT_OK(ak_store_mpoint_put(st, id[k], 0, &p));
        }
        if (i % 10 == 9)
            AK_ASSERT_OK(ak_store_commit(st));
    }
    AK_ASSERT_OK(ak_store_mstats(st, &ms));
    AK_ASSERT_OK(ak_store_mpoint_range(st, id[7], 0, 0, INT64_MAX, &got, &n));
    AK_ASSERT_EQ_INT(n, MP_MINUTES);
    AK_ASSERT_EQ_INT(got[MP_MINUTES - 1].start_ms, T0 + (MP_MINUTES - 1) * MIN_MS);
    AK_ASSERT_EQ_INT(got[100].count, 4);
    free(got);
    ak_store_close(st);
    AK_ASSERT_EQ_INT(ms.points[0], (int64_t)MP_SERIES * MP_MINUTES);
    double np = (double)ms.points[0];
    int64_t loose = pragma_i64(path, "SELECT sum(pgsize) FROM dbstat WHERE name = 'points'");
    int64_t packed = pragma_i64(path, "SELECT sum(pgsize) FROM dbstat WHERE name = 'pblocks'");
    int64_t key = pragma_i64(path, "SELECT sum(pgsize) FROM dbstat WHERE name = 'pblocks_key'");
    int64_t enc = pragma_i64(path, "SELECT total(length(data)) FROM pblocks");
    printf("# %lld minute points: file %.2f B/point, loose table %.2f, blocks %.2f (encoded "
           "%.2f), block key %.2f\n", (long long)ms.points[0], (double)ms.file_bytes / np,
           (double)loose / np, (double)packed / np, (double)enc / np, (double)key / np);
    AK_ASSERT(ms.file_bytes <= 20 * ms.points[0]);
    free(path);
    free(dir);
}

static struct ak_deploy mkdeploy(const char *service, const char *version, int64_t at)
{
    struct ak_deploy d = {0};
    d.service = (char *)service;
    d.version = (char *)version;
    d.at_ms = at;
    d.by = (char *)"cli";
    return d;
}

AK_TEST(deploys_filter_by_service_and_time)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_deploy *v = NULL, d;
    size_t n = 0;
    int64_t id = 0;

    AK_ASSERT(st != NULL);
    d = mkdeploy("shop", "v2", T0 + HOUR_MS);
    d.note = (char *)"hotfix";
    AK_ASSERT_OK(ak_store_deploy_add(st, &d, &id));
    AK_ASSERT(id > 0);
    d = mkdeploy("shop", "v1", T0);
    AK_ASSERT_OK(ak_store_deploy_add(st, &d, NULL));
    d = mkdeploy("auth", NULL, T0 + 30 * MIN_MS);
    d.by = NULL;
    AK_ASSERT_OK(ak_store_deploy_add(st, &d, NULL));
    d = mkdeploy("", "v", T0);
    AK_ASSERT_EQ_INT(ak_store_deploy_add(st, &d, NULL), AK_EINVAL);

    AK_ASSERT_OK(ak_store_deploy_list(st, NULL, 0, INT64_MAX, &v, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_STR(v[0].version, "v1"); /* oldest first */
    AK_ASSERT_STR(v[1].service, "auth");
    AK_ASSERT_NULL(v[1].version);
    AK_ASSERT_NULL(v[1].by);
    AK_ASSERT_EQ_INT(v[2].id, id);
    AK_ASSERT_STR(v[2].note, "hotfix");
    AK_ASSERT_STR(v[2].by, "cli");
    for (size_t i = 0; i < n; i++)
        ak_deploy_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_deploy_list(st, "shop", 0, INT64_MAX, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    for (size_t i = 0; i < n; i++)
        ak_deploy_release(&v[i]);
    free(v);
    /* both ends inclusive */
    AK_ASSERT_OK(ak_store_deploy_list(st, NULL, T0 + 30 * MIN_MS, T0 + HOUR_MS, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_STR(v[0].service, "auth");
    AK_ASSERT_STR(v[1].version, "v2");
    for (size_t i = 0; i < n; i++)
        ak_deploy_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_deploy_list(st, "shop", T0 + 1, T0 + HOUR_MS - 1, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    ak_store_close(st);
}

struct mlog_seen {
    int64_t id[8];
    char data[8][32];
    size_t n;
    int stop_at; /* stop (return 7) at this record, -1 never */
};

static int mlog_cb(void *arg, int64_t id, const uint8_t *data, size_t len)
{
    struct mlog_seen *v = arg;
    if (v->n >= 8 || len >= sizeof(v->data[0]))
        return AK_EINTERNAL;
    v->id[v->n] = id;
    memcpy(v->data[v->n], data, len);
    v->data[v->n][len] = 0;
    return (int)v->n++ == v->stop_at ? 7 : 0;
}

AK_TEST(mlog_appends_reads_in_order_trims)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    struct ak_store *rd = NULL, *db = NULL;
    struct ak_buf err = AK_BUF_INIT(512);
    struct mlog_seen v = {.stop_at = -1};
    int64_t a = 0, b = 0, c = 0;
    uint8_t big = 0;

    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_mlog_each(st, mlog_cb, &v));
    AK_ASSERT_EQ_INT(v.n, 0);
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(ak_store_mlog_put(st, (const uint8_t *)"first", 5, &a));
    AK_ASSERT_OK(ak_store_mlog_put(st, (const uint8_t *)"second", 6, &b));
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_OK(ak_store_mlog_put(st, (const uint8_t *)"third", 5, &c)); /* own transaction */
    AK_ASSERT(a > 0 && b > a && c > b);
    AK_ASSERT_EQ_INT(ak_store_mlog_put(st, (const uint8_t *)"x", 0, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_mlog_put(st, NULL, 3, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_mlog_put(st, &big, (size_t)64 * 1024 * 1024 + 1, NULL),
                     AK_ETOOBIG);
    /* a rolled-back record is not there */
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(ak_store_mlog_put(st, (const uint8_t *)"gone", 4, NULL));
    AK_ASSERT_OK(ak_store_rollback(st));

    /* another connection reads them, oldest first */
    rd = open_m(AK_TMPDIR(), AK_STORE_READ);
    AK_ASSERT(rd != NULL);
    AK_ASSERT_OK(ak_store_mlog_each(rd, mlog_cb, &v));
    AK_ASSERT_EQ_INT(v.n, 3);
    AK_ASSERT_EQ_INT(v.id[0], a);
    AK_ASSERT_STR(v.data[0], "first");
    AK_ASSERT_STR(v.data[1], "second");
    AK_ASSERT_EQ_INT(v.id[2], c);
    AK_ASSERT_STR(v.data[2], "third");
    /* a non-zero return of fn stops the walk and is returned */
    memset(&v, 0, sizeof(v));
    v.stop_at = 1;
    AK_ASSERT_EQ_INT(ak_store_mlog_each(rd, mlog_cb, &v), 7);
    AK_ASSERT_EQ_INT(v.n, 2);

    /* trim deletes up to and including the id */
    AK_ASSERT_OK(ak_store_mlog_trim(st, b));
    memset(&v, 0, sizeof(v));
    v.stop_at = -1;
    AK_ASSERT_OK(ak_store_mlog_each(rd, mlog_cb, &v));
    AK_ASSERT_EQ_INT(v.n, 1);
    AK_ASSERT_STR(v.data[0], "third");
    AK_ASSERT_OK(ak_store_mlog_trim(st, c));
    memset(&v, 0, sizeof(v));
    v.stop_at = -1;
    AK_ASSERT_OK(ak_store_mlog_each(rd, mlog_cb, &v));
    AK_ASSERT_EQ_INT(v.n, 0);
    AK_ASSERT_EQ_INT(ak_store_mlog_each(rd, NULL, &v), AK_EINVAL);

    /* only on a metrics database */
    AK_ASSERT_OK(ak_store_open(AK_TMPDIR(), AK_STORE_WRITE, &db, &err));
    AK_ASSERT_EQ_INT(ak_store_mlog_put(db, (const uint8_t *)"x", 1, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_mlog_trim(db, 1), AK_EINVAL);
    ak_store_close(db);
    ak_store_close(rd);
    ak_store_close(st);
    ak_buf_release(&err);
}

AK_TEST(reviews_keep_the_newest_60)
{
    struct ak_store *st = open_m(AK_TMPDIR(), AK_STORE_WRITE);
    char *json = NULL, *path = path_in(AK_TMPDIR(), "metrics.db");
    int64_t at = 0;

    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_review_latest(st, &at, &json), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_begin(st));
    for (int i = 0; i < 75; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "{\"day\":%d}", i);
        AK_ASSERT_OK(ak_store_review_put(st, T0 + i * 24 * HOUR_MS, buf));
    }
    AK_ASSERT_OK(ak_store_commit(st));
    /* outside a transaction too (its own savepoint) */
    AK_ASSERT_OK(ak_store_review_put(st, T0 + 75 * 24 * HOUR_MS, "{\"day\":75}"));
    AK_ASSERT_EQ_INT(ak_store_review_put(st, T0, ""), AK_EINVAL);
    AK_ASSERT_OK(ak_store_review_latest(st, &at, &json));
    AK_ASSERT_EQ_INT(at, T0 + 75 * 24 * HOUR_MS);
    AK_ASSERT_STR(json, "{\"day\":75}");
    free(json);
    ak_store_close(st);
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT count(*) FROM reviews"), 60);
    AK_ASSERT_EQ_INT(pragma_i64(path, "SELECT min(at_ms) FROM reviews"), T0 + 16 * 24 * HOUR_MS);
    free(path);
}

AK_TEST_MAIN(AK_T(open_creates_reopens_and_reads), AK_T(wrong_file_refused_both_ways),
             AK_T(functions_refuse_the_other_database), AK_T(series_put_is_idempotent_touch_widens),
             AK_T(series_list_by_service_and_glob), AK_T(chunks_put_replace_each_last),
             AK_T(chunk_moves_from_head_to_final),
             AK_T(points_put_replace_range_last_per_tier),
             AK_T(points_pack_by_hour_and_read_across),
             AK_T(points_period_cache_survives_rollback_and_interleaving),
             AK_T(points_replace_inside_block_bit_exact), AK_T(retention_cuts_through_a_block),
             AK_T(retention_deletes_by_tier_and_counts),
             AK_T(retention_batches_and_gives_pages_back),
             AK_T(retention_and_range_reads_seek_per_series),
             AK_T(mstats_measures_bytes_per_sample),
             AK_T(minute_points_bytes_per_point),
             AK_T(deploys_filter_by_service_and_time), AK_T(reviews_keep_the_newest_60),
             AK_T(mlog_appends_reads_in_order_trims))
