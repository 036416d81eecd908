/* test_mon.c — the monitoring engine over a temporary data directory: import, restart recovery
 * (chunks re-opened, tier points continued), idempotent re-import, drop counts, review, query,
 * coverage, stats, deploy markers, and a real host collection feeding the dashboard. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_json.h"
#include "asakai/ak_mon.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tsdb.h"
#include "asakai/ak_util.h"

#include "ak_test.h"
#include "../../src/mon/mon_int.h" /* mon_drop_for_test: a crash between checkpoints */

#define DAY 86400000LL
#define HOUR 3600000LL
/* a fixed "now" on an hour boundary: 2025-11-25T19:00:00Z */
#define NOW 1764097200000LL

static struct ak_cfg cfg;

static int setup(const char *extra)
{
    char yaml[2048];
    struct ak_buf err = AK_BUF_INIT(4096);
    snprintf(yaml, sizeof(yaml),
             "server:\n  data_dir: %s\n"
             "monitoring:\n  enabled: false\n"
             "services:\n  - name: api\n    type: http\n%s",
             AK_TMPDIR(), extra ? extra : "");
    int r = ak_cfg_load_string("test.yaml", yaml, strlen(yaml), &cfg, &err);
    if (r < 0)
        printf("# config: %s\n", err.buf);
    ak_buf_release(&err);
    return r;
}

/* Deterministic noise in [-0.5, 0.5). */
static double noise(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)((*s >> 33) % 100000) / 100000.0 - 0.5;
}

static double leak_value(int64_t t, int64_t t0, uint64_t *s)
{
    return 1e9 + 2e8 * (double)(t - t0) / (double)DAY + 2e7 * noise(s);
}

/* One OpenMetrics family of n samples at step from t0; kind 0 leak, 1 constant, 2 noise. */
static void family(struct ak_buf *b, const char *name, const char *labels, int kind, int64_t t0,
                   int64_t step, size_t n)
{
    uint64_t s = 42;
    ak_buf_addf(b, "# TYPE %s gauge\n", name);
    for (size_t i = 0; i < n; i++) {
        int64_t t = t0 + (int64_t)i * step;
        double v = kind == 0 ? leak_value(t, t0, &s) : kind == 1 ? 8e9 : 50 + 10 * noise(&s);
        ak_buf_addf(b, "%s{%s} %.17g %" PRId64 ".%03" PRId64 "\n", name, labels, v, t / 1000,
                    t % 1000);
    }
}

static char *three_series(int64_t t0, size_t n, size_t *ret_len)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    family(&b, "process_resident_memory_bytes", "instance=\"api-1:9100\",job=\"api\"", 0, t0,
           60000, n);
    family(&b, "node_memory_MemTotal_bytes", "instance=\"api-1:9100\",job=\"api\"", 1, t0, 60000,
           n);
    family(&b, "http_requests_in_flight", "instance=\"api-1:9100\",job=\"api\"", 2, t0, 60000, n);
    ak_buf_add(&b, "# EOF\n");
    return ak_buf_detach(&b, ret_len);
}

static const struct ak_json *find_by(const struct ak_json *arr, const char *field,
                                     const char *value)
{
    for (size_t i = 0; i < ak_json_len(arr); i++)
        if (ak_streq(ak_json_get_str(ak_json_at(arr, i), field), value))
            return ak_json_at(arr, i);
    return NULL;
}

static const char *cell_state(const struct ak_json *cov, const char *svc, const char *sig)
{
    const struct ak_json *s = find_by(ak_json_get(cov, "services"), "name", svc);
    return ak_json_get_str(ak_json_get(ak_json_get(s, "cells"), sig), "state");
}

static int64_t stat_of(struct ak_mon *m, const char *k)
{
    struct ak_json *j = NULL;
    if (ak_mon_stats(m, &j, NULL) < 0)
        return -1;
    int64_t v = ak_json_int(ak_json_get(j, k));
    ak_json_free(j);
    return v;
}

#define LEAK_KEY "process_resident_memory_bytes{instance=\"api-1:9100\",job=\"api\"}"

AK_TEST(import_review_query_coverage_stats)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_json *j = NULL;
    struct ak_mon_ingest_stats st;
    size_t len, n = 10 * 1440;
    int64_t t0 = NOW - 10 * DAY;
    char *text = three_series(t0, n, &len);

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_OK(ak_mon_import(m, text, len, AK_EXPO_AUTO, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, 3 * n);
    AK_ASSERT_EQ_INT(st.series, 3);
    AK_ASSERT_EQ_INT(st.new_series, 3);
    AK_ASSERT_EQ_INT(st.dropped, 0);
    AK_ASSERT_EQ_INT(st.from_ms, t0);
    AK_ASSERT_EQ_INT(st.to_ms, t0 + (int64_t)(n - 1) * 60000);

    /* the review finds the leak, with MemTotal of the same host as its limit */
    struct ak_mon_review_req req = {.now_ms = NOW};
    AK_ASSERT_OK(ak_mon_review(m, &req, &j, &err));
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(j, "series")), 3);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(j, "step_ms")), HOUR);
    const struct ak_json *f = find_by(ak_json_get(j, "findings"), "series", LEAK_KEY);
    AK_ASSERT(f != NULL);
    AK_ASSERT_STR(ak_json_get_str(f, "kind"), "days-to-limit");
    AK_ASSERT_STR(ak_json_get_str(f, "limit_name"), "MemTotal");
    AK_ASSERT_STR(ak_json_get_str(f, "service"), "api");
    AK_ASSERT_STR(ak_json_get_str(f, "instance"), "api-1:9100");
    AK_ASSERT_CONTAINS(ak_json_get_str(f, "text"), "MemTotal");
    /* (8e9 - ~3e9) / 2e8 per day: about 25 days */
    double days = ak_json_num(ak_json_get(f, "days"));
    AK_ASSERT(days > 20 && days < 30);
    double slope = ak_json_num(ak_json_get(f, "slope_per_day"));
    AK_ASSERT(slope > 1.9e8 && slope < 2.1e8);
    AK_ASSERT(find_by(ak_json_get(j, "findings"), "metric", "http_requests_in_flight") == NULL);
    ak_json_free(j);
    j = NULL;

    /* hourly points of the last 7 days: means of the generated values */
    AK_ASSERT_OK(ak_mon_query(m, LEAK_KEY, NOW - 7 * DAY, NOW, "auto", &j, &err));
    AK_ASSERT_STR(ak_json_get_str(j, "resolution"), "hour");
    const struct ak_json *pts = ak_json_get(j, "points");
    AK_ASSERT_EQ_INT(ak_json_len(pts), 168);
    {
        uint64_t s = 42;
        double sum = 0, mn = INFINITY, mx = -INFINITY;
        int64_t h0 = NOW - 7 * DAY;
        for (size_t i = 0; i < n; i++) {
            int64_t t = t0 + (int64_t)i * 60000;
            double v = leak_value(t, t0, &s);
            if (t >= h0 && t < h0 + HOUR) {
                sum += v;
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
        }
        const struct ak_json *p0 = ak_json_at(pts, 0);
        AK_ASSERT_EQ_INT(ak_json_int(ak_json_at(p0, 0)), h0);
        AK_ASSERT(fabs(ak_json_num(ak_json_at(p0, 1)) - sum / 60) < 1e-3);
        AK_ASSERT(ak_json_num(ak_json_at(p0, 2)) == mn);
        AK_ASSERT(ak_json_num(ak_json_at(p0, 3)) == mx);
    }
    ak_json_free(j);
    j = NULL;
    AK_ASSERT_EQ_INT(ak_mon_query(m, "nope{}", NOW - DAY, NOW, "auto", &j, &err), AK_ENOTFOUND);
    ak_buf_reset(&err);

    /* coverage: memory present (fed by an import: 2 h), latency missing in words */
    size_t req_missing = 0;
    AK_ASSERT_OK(ak_mon_coverage(m, NOW, &j, &req_missing, &err));
    AK_ASSERT_STR(cell_state(j, "api", "memory"), "present");
    AK_ASSERT_STR(cell_state(j, "api", "latency"), "missing");
    AK_ASSERT_STR(cell_state(j, "api", "saturation"), "present");
    AK_ASSERT_STR(cell_state(j, "host", "memory"), "missing");
    AK_ASSERT(req_missing >= 3); /* api up, latency, errors; host's */
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(j, "required_missing")), req_missing);
    char *dump = ak_json_dump(ak_json_get(j, "missing"), 0);
    AK_ASSERT_CONTAINS(dump, "api has no latency metric (http_request_duration_seconds*");
    free(dump);
    ak_json_free(j);
    j = NULL;
    AK_ASSERT_OK(ak_mon_coverage(m, NOW + 3 * HOUR, &j, NULL, &err));
    AK_ASSERT_STR(cell_state(j, "api", "memory"), "stale");
    ak_json_free(j);
    j = NULL;

    /* storage: every sample is in a chunk, a few bytes each */
    AK_ASSERT_EQ_INT(stat_of(m, "raw_samples"), 3 * n);
    AK_ASSERT_EQ_INT(stat_of(m, "chunks"), 3 * n / 120);
    AK_ASSERT_EQ_INT(stat_of(m, "points_hour"), 3 * (240 - 1));
    AK_ASSERT_OK(ak_mon_stats(m, &j, &err));
    double bps = ak_json_num(ak_json_get(j, "bytes_per_sample"));
    printf("# bytes per raw sample: %.2f (chunk payload %.2f)\n", bps,
           (double)ak_json_int(ak_json_get(j, "chunk_bytes")) / (double)(3 * n));
    AK_ASSERT(bps > 0.5 && bps < 16);
    ak_json_free(j);
    j = NULL;

    /* series list with labels */
    AK_ASSERT_OK(ak_mon_series(m, "api", "process_*", &j, &err));
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(j, "series")), 1);
    const struct ak_json *s0 = ak_json_at(ak_json_get(j, "series"), 0);
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(s0, "labels"), "instance"), "api-1:9100");
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(s0, "last")), t0 + (int64_t)(n - 1) * 60000);
    ak_json_free(j);
    ak_mon_stop(m);
    free(text);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

/* Reference tier points over the same samples (finished points only). */
struct ref {
    struct ak_tsdb_point p[2][4000];
    size_t n[2];
};

static int ref_cb(void *ctx, unsigned tier, const struct ak_tsdb_point *p)
{
    struct ref *r = ctx;
    if (r->n[tier] < 4000)
        r->p[tier][r->n[tier]++] = *p;
    return 0;
}

static double wave(size_t i)
{
    /* a counter-like climb with a reset in the middle */
    return i < 6000 ? (double)i * 3.5 : (double)(i - 6000) * 2.25;
}

static char *counter_text(size_t from, size_t to, int64_t t0, size_t *ret_len)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    ak_buf_add(&b, "# TYPE jobs counter\n");
    for (size_t i = from; i < to; i++) {
        int64_t t = t0 + (int64_t)i * 15000;
        ak_buf_addf(&b, "jobs_total{job=\"api\"} %.17g %" PRId64 ".%03" PRId64 "\n", wave(i),
                    t / 1000, t % 1000);
    }
    ak_buf_add(&b, "# EOF\n");
    return ak_buf_detach(&b, ret_len);
}

static int compare_tier(struct ak_store *st, int64_t id, int tier, const struct ref *ref)
{
    struct ak_mpoint *p = NULL;
    size_t n = 0;
    int bad = 0;
    if (ak_store_mpoint_range(st, id, tier, 0, INT64_MAX, &p, &n) < 0)
        return -1;
    if (n != ref->n[tier]) {
        printf("# tier %d: %zu points stored, %zu expected\n", tier, n, ref->n[tier]);
        bad = 1;
    }
    for (size_t i = 0; !bad && i < n; i++) {
        const struct ak_tsdb_point *q = &ref->p[tier][i];
        if (p[i].start_ms != q->start_ms || p[i].count != q->count || p[i].sum != q->sum ||
            p[i].min != q->min || p[i].max != q->max || p[i].first != q->first ||
            p[i].last != q->last || p[i].decreases != q->decreases) {
            printf("# tier %d point %zu (%" PRId64 ") differs: count %" PRIu64 "/%" PRIu64
                   " sum %g/%g\n", tier, i, p[i].start_ms, p[i].count, q->count, p[i].sum,
                   q->sum);
            bad = 1;
        }
    }
    free(p);
    return bad;
}

AK_TEST(restart_recovery_continues_chunk_and_tiers)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_mon_ingest_stats st;
    struct ak_store *db = NULL;
    struct ak_mseries ms = {0};
    struct ak_json *j = NULL;
    static struct ref ref;
    size_t len, total = 9000, cut = 5050; /* 5050 = 42 chunks + 10: an open chunk at the stop */
    int64_t t0 = NOW - 2 * DAY + 7 * 60000 + 30000; /* not on a minute or hour boundary */
    char *a = counter_text(0, cut, t0, &len);

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_OK(ak_mon_import(m, a, len, AK_EXPO_OPENMETRICS, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, cut);
    free(a);
    ak_mon_stop(m);
    m = NULL;

    /* a second life appends to the same open chunk and continues the open points */
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    char *b = counter_text(cut, total, t0, &len);
    AK_ASSERT_OK(ak_mon_import(m, b, len, AK_EXPO_OPENMETRICS, &st, &err));
    free(b);
    AK_ASSERT_EQ_INT(st.samples, total - cut);
    AK_ASSERT_EQ_INT(st.new_series, 0);
    AK_ASSERT_EQ_INT(stat_of(m, "chunks"), (total + 119) / 120);
    AK_ASSERT_EQ_INT(stat_of(m, "raw_samples"), total);

    memset(&ref, 0, sizeof(ref));
    struct ak_tsdb_tiers tr;
    ak_tsdb_tiers_init(&tr, ref_cb, &ref);
    for (size_t i = 0; i < total; i++)
        AK_ASSERT_OK(ak_tsdb_tiers_add(&tr, t0 + (int64_t)i * 15000, wave(i)));
    AK_ASSERT_OK(ak_store_open_metrics(cfg.data_dir, AK_STORE_READ, &db, &err));
    AK_ASSERT_OK(ak_store_mseries_get(db, "jobs_total{job=\"api\"}", &ms));
    AK_ASSERT_EQ_INT(ms.type, AK_MTYPE_COUNTER);
    AK_ASSERT_EQ_INT(ms.first_ms, t0);
    AK_ASSERT_EQ_INT(ms.last_ms, t0 + (int64_t)(total - 1) * 15000);
    AK_ASSERT_EQ_INT(compare_tier(db, ms.id, 0, &ref), 0);
    AK_ASSERT_EQ_INT(compare_tier(db, ms.id, 1, &ref), 0);

    /* every raw sample comes back, rates included (the reset is not a negative rate) */
    AK_ASSERT_OK(ak_mon_query(m, "jobs_total{job=\"api\"}", t0, t0 + (int64_t)total * 15000,
                              "raw", &j, &err));
    const struct ak_json *pts = ak_json_get(j, "points");
    AK_ASSERT_EQ_INT(ak_json_len(pts), total);
    AK_ASSERT(fabs(ak_json_num(ak_json_at(ak_json_at(pts, 100), 1)) - 3.5 / 15) < 1e-12);
    AK_ASSERT(ak_json_num(ak_json_at(ak_json_at(pts, 6001), 1)) >= 0);
    ak_json_free(j);

    ak_mseries_release(&ms);
    ak_store_close(db);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

static int count_log(void *arg, int64_t id, const uint8_t *data, size_t len)
{
    (void)id;
    (void)data;
    (void)len;
    ++*(int *)arg;
    return 0;
}

/* Log records in the database and the end of the newest chunk row (what a crash leaves). */
static int log_records(int64_t id, int64_t *ret_head_end)
{
    struct ak_store *db = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    int n = 0;
    int64_t start = 0, end = 0;
    unsigned k = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    if (ak_store_open_metrics(cfg.data_dir, AK_STORE_READ, &db, &err) < 0 ||
        ak_store_mlog_each(db, count_log, &n) < 0)
        n = -1;
    if (db && ak_store_mchunk_last(db, id, &start, &end, &k, &data, &len) == AK_OK)
        *ret_head_end = end;
    free(data);
    ak_store_close(db);
    ak_buf_release(&err);
    return n;
}

static int import_range(struct ak_mon *m, size_t from, size_t to, int64_t t0)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_mon_ingest_stats st;
    size_t len;
    char *text = counter_text(from, to, t0, &len);
    int r = ak_mon_import(m, text, len, AK_EXPO_OPENMETRICS, &st, &err);
    if (r < 0 || st.samples != to - from) {
        printf("# import %zu..%zu: %d %s, %zu samples\n", from, to, r, err.buf, st.samples);
        r = -1;
    }
    free(text);
    ak_buf_release(&err);
    return r;
}

/* The newest point of the raw query over the last minute of samples (t of the newest sample). */
static int64_t raw_newest(struct ak_mon *m, int64_t to)
{
    struct ak_json *j = NULL;
    int64_t t = -1;
    if (ak_mon_query(m, "jobs_total{job=\"api\"}", to - 60000, to + 1, "raw", &j, NULL) == 0) {
        const struct ak_json *pts = ak_json_get(j, "points");
        if (ak_json_len(pts))
            t = ak_json_int(ak_json_at(ak_json_at(pts, ak_json_len(pts) - 1), 0));
    }
    ak_json_free(j);
    return t;
}

AK_TEST(crash_between_checkpoints_loses_nothing)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_store *db = NULL;
    struct ak_mseries ms = {0};
    struct ak_json *j = NULL;
    static struct ref ref;
    size_t total = 9000, cut = 5050;
    int64_t t0 = NOW - 2 * DAY + 7 * 60000 + 30000, head_end = 0, id;
#define TS(i) (t0 + (int64_t)(i) * 15000)

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_OK(import_range(m, 0, cut, t0));
    /* accepted, and visible at once: raw reads see the open chunk, the series its last time */
    AK_ASSERT_EQ_INT(raw_newest(m, TS(cut - 1)), TS(cut - 1));
    AK_ASSERT_OK(ak_mon_series(m, "api", "jobs_total", &j, &err));
    const struct ak_json *sj = ak_json_at(ak_json_get(j, "series"), 0);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(sj, "last")), TS(cut - 1));
    ak_json_free(j);
    AK_ASSERT_OK(ak_store_open_metrics(cfg.data_dir, AK_STORE_READ, &db, &err));
    AK_ASSERT_OK(ak_store_mseries_get(db, "jobs_total{job=\"api\"}", &ms));
    id = ms.id;
    AK_ASSERT_EQ_INT(ms.last_ms, 0); /* the row is widened by checkpoints */
    ak_mseries_release(&ms);
    ak_store_close(db);
    db = NULL;
    /* crash 1: no checkpoint yet, the open chunk is only in the log */
    mon_drop_for_test(m);
    m = NULL;
    AK_ASSERT_EQ_INT(log_records(id, &head_end), 1);
    AK_ASSERT(head_end > t0 && head_end < TS(cut - 1)); /* the last full chunk */

    /* life 2: recovery replays the log (and empties it by a checkpoint). A batch up to 2 samples
     * before an hour (sample 5250 starts one: t0 is 52.5 min before an hour) spans more than
     * MON_CKPT_MS of samples: a checkpoint. Then two scrape-sized batches of one sample cross
     * the hour: the minute and the hour they finish were stored with them, while the chunk
     * rows end before those buckets began; replay must not store them again from the logged
     * samples alone. */
    size_t hb = 5250, end2 = hb + 1;
    AK_ASSERT((hb - cut) * 15000 > MON_CKPT_MS);
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_EQ_INT(log_records(id, &head_end), 0);
    AK_ASSERT_EQ_INT(head_end, TS(cut - 1));
    AK_ASSERT_OK(import_range(m, cut, hb - 1, t0));
    for (size_t i = hb - 1; i < end2; i++)
        AK_ASSERT_OK(import_range(m, i, i + 1, t0));
    AK_ASSERT_EQ_INT(raw_newest(m, TS(end2 - 1)), TS(end2 - 1));
    mon_drop_for_test(m); /* crash 2: two batches after the last checkpoint */
    m = NULL;
    AK_ASSERT_EQ_INT(log_records(id, &head_end), 2);
    AK_ASSERT_EQ_INT(head_end, TS(hb - 2));

    /* life 3: the rest, then a normal stop */
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_EQ_INT(raw_newest(m, TS(end2 - 1)), TS(end2 - 1));
    AK_ASSERT_OK(import_range(m, end2, total, t0));
    ak_mon_stop(m);
    m = NULL;
    AK_ASSERT_EQ_INT(log_records(id, &head_end), 0);
    AK_ASSERT_EQ_INT(head_end, TS(total - 1));

    memset(&ref, 0, sizeof(ref));
    struct ak_tsdb_tiers tr;
    ak_tsdb_tiers_init(&tr, ref_cb, &ref);
    for (size_t i = 0; i < total; i++)
        AK_ASSERT_OK(ak_tsdb_tiers_add(&tr, TS(i), wave(i)));
    AK_ASSERT_OK(ak_store_open_metrics(cfg.data_dir, AK_STORE_READ, &db, &err));
    AK_ASSERT_OK(ak_store_mseries_get(db, "jobs_total{job=\"api\"}", &ms));
    AK_ASSERT_EQ_INT(ms.first_ms, t0);
    AK_ASSERT_EQ_INT(ms.last_ms, TS(total - 1));
    AK_ASSERT_EQ_INT(compare_tier(db, ms.id, 0, &ref), 0);
    AK_ASSERT_EQ_INT(compare_tier(db, ms.id, 1, &ref), 0);
    struct ak_mstats mst;
    AK_ASSERT_OK(ak_store_mstats(db, &mst));
    AK_ASSERT_EQ_INT(mst.raw_samples, total); /* every sample once, in (total + 119) / 120 */
    AK_ASSERT_EQ_INT(mst.chunks, (total + 119) / 120);
    ak_mseries_release(&ms);
    ak_store_close(db);

    /* every sample comes back in order */
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_OK(ak_mon_query(m, "jobs_total{job=\"api\"}", t0, TS(total), "raw", &j, &err));
    const struct ak_json *pts = ak_json_get(j, "points");
    AK_ASSERT_EQ_INT(ak_json_len(pts), total);
    for (size_t i = 0; i < total; i++)
        AK_ASSERT_EQ_INT(ak_json_int(ak_json_at(ak_json_at(pts, i), 0)), TS(i));
    ak_json_free(j);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
#undef TS
}

AK_TEST(reimport_is_idempotent_and_history_goes_first)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_mon_ingest_stats st;
    size_t len;
    int64_t t0 = NOW - 4 * DAY;
    char *late = counter_text(2000, 6000, t0, &len);
    size_t len2;
    char *early = counter_text(0, 2000, t0, &len2);

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_OK(ak_mon_import(m, late, len, AK_EXPO_AUTO, &st, &err));
    int64_t chunks = stat_of(m, "chunks"), minutes = stat_of(m, "points_minute");
    int64_t hours = stat_of(m, "points_hour");
    AK_ASSERT_OK(ak_mon_import(m, late, len, AK_EXPO_AUTO, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, 0);
    AK_ASSERT_EQ_INT(st.dropped, 4000);
    AK_ASSERT_EQ_INT(stat_of(m, "chunks"), chunks);
    AK_ASSERT_EQ_INT(stat_of(m, "raw_samples"), 4000);
    AK_ASSERT_EQ_INT(stat_of(m, "points_minute"), minutes);
    AK_ASSERT_EQ_INT(stat_of(m, "points_hour"), hours);

    /* older history: chunks of its own, its points added; twice = once */
    AK_ASSERT_OK(ak_mon_import(m, early, len2, AK_EXPO_AUTO, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, 2000);
    AK_ASSERT_EQ_INT(st.from_ms, t0);
    int64_t c2 = stat_of(m, "chunks"), h2 = stat_of(m, "points_hour");
    AK_ASSERT_EQ_INT(c2, chunks + (2000 + 119) / 120);
    AK_ASSERT(h2 > hours);
    AK_ASSERT_OK(ak_mon_import(m, early, len2, AK_EXPO_AUTO, &st, &err));
    AK_ASSERT_EQ_INT(stat_of(m, "chunks"), c2);
    AK_ASSERT_EQ_INT(stat_of(m, "points_hour"), h2);
    AK_ASSERT_EQ_INT(stat_of(m, "raw_samples"), 6000);

    struct ak_json *j = NULL;
    AK_ASSERT_OK(ak_mon_series(m, NULL, "jobs_*", &j, &err));
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(ak_json_at(ak_json_get(j, "series"), 0), "first")),
                     t0);
    ak_json_free(j);
    free(late);
    free(early);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

AK_TEST(drops_and_errors)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_mon_ingest_stats st;
    char text[512];

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    /* a sample without a timestamp: nothing stored, the line named */
    const char *bad = "a{job=\"api\"} 1 1000\na{job=\"api\"} 2\n";
    AK_ASSERT_EQ_INT(ak_mon_import(m, bad, strlen(bad), AK_EXPO_PROM_TEXT, &st, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "line 2");
    AK_ASSERT_EQ_INT(stat_of(m, "series"), 0);
    ak_buf_reset(&err);
    const char *syn = "a{job=\"api\" 1 1000\n";
    AK_ASSERT_EQ_INT(ak_mon_import(m, syn, strlen(syn), AK_EXPO_PROM_TEXT, &st, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "line 1");
    ak_buf_reset(&err);

    /* 0.0.4 with ms timestamps: 3 stored, then 2 not newer dropped and 1 newer stored */
    snprintf(text, sizeof(text), "a{job=\"api\"} 1 %lld\na{job=\"api\"} 2 %lld\n"
             "a{job=\"api\"} 3 %lld\n", NOW - 3000, NOW - 2000, NOW - 1000);
    AK_ASSERT_OK(ak_mon_import(m, text, strlen(text), AK_EXPO_PROM_TEXT, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, 3);
    snprintf(text, sizeof(text), "a{job=\"api\"} 9 %lld\na{job=\"api\"} 9 %lld\n"
             "a{job=\"api\"} 4 %lld\n", NOW - 2000, NOW - 1000, NOW);
    AK_ASSERT_OK(ak_mon_import(m, text, strlen(text), AK_EXPO_PROM_TEXT, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, 1);
    AK_ASSERT_EQ_INT(st.dropped, 2);
    AK_ASSERT_EQ_INT(st.from_ms, NOW);

    /* deploy markers: unknown service refused with the known names */
    int64_t id = 0;
    AK_ASSERT_EQ_INT(ak_mon_deploy_mark(m, "nope", "v1", 0, "cli", NULL, &id, &err),
                     AK_ENOTFOUND);
    AK_ASSERT_CONTAINS(err.buf, "api");
    AK_ASSERT_EQ_INT(id, 0);
    AK_ASSERT_OK(ak_mon_deploy_mark(m, "api", "v1.2.3", NOW - HOUR, "cli", "hotfix", &id, &err));
    AK_ASSERT(id > 0);
    struct ak_json *j = NULL;
    AK_ASSERT_OK(ak_mon_deploy_list(m, "api", NOW - DAY, NOW, &j, &err));
    const struct ak_json *d = ak_json_at(ak_json_get(j, "deploys"), 0);
    AK_ASSERT_STR(ak_json_get_str(d, "version"), "v1.2.3");
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(d, "at")), NOW - HOUR);
    ak_json_free(j);
    j = NULL;
    AK_ASSERT_EQ_INT(ak_mon_review_latest(m, &j, &err), AK_ENOTFOUND);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

AK_TEST(max_series_drops_new_series)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_mon_ingest_stats st;
    struct ak_buf t = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(setup(NULL));
    cfg.mon_max_series = 10;
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    for (int i = 0; i < 15; i++)
        ak_buf_addf(&t, "g{job=\"api\",n=\"%d\"} 1 %lld\n", i, NOW);
    AK_ASSERT_OK(ak_mon_import(m, t.buf, t.len, AK_EXPO_PROM_TEXT, &st, &err));
    AK_ASSERT_EQ_INT(st.new_series, 10);
    AK_ASSERT_EQ_INT(st.dropped, 5);
    AK_ASSERT_EQ_INT(stat_of(m, "series"), 10);
    ak_buf_release(&t);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

AK_TEST(collect_now_feeds_dashboard)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_json *j = NULL;

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_OK(ak_mon_collect_now(m, &err));
    AK_ASSERT(stat_of(m, "series") > 10);
    AK_ASSERT_OK(ak_mon_dashboard(m, 0, &j, &err));
    const struct ak_json *host = find_by(ak_json_get(j, "services"), "name", "host");
    AK_ASSERT(host != NULL);
    AK_ASSERT(ak_json_bool(ak_json_get(host, "up")));
    const struct ak_json *mem = find_by(ak_json_get(host, "signals"), "signal", "memory");
    AK_ASSERT(mem != NULL);
    AK_ASSERT_STR(ak_json_get_str(mem, "metric"), "node_memory_MemAvailable_bytes");
    AK_ASSERT_STR(ak_json_get_str(mem, "state"), "short");
    AK_ASSERT(ak_json_len(ak_json_get(mem, "points")) >= 1);
    AK_ASSERT(ak_json_num(ak_json_get(mem, "last")) > 0);
    AK_ASSERT(ak_json_is_arr(ak_json_get(j, "gaps")));
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "review_at")));
    ak_json_free(j);
    j = NULL;
    AK_ASSERT_OK(ak_mon_targets(m, &j, &err));
    AK_ASSERT(ak_json_is_arr(ak_json_get(j, "targets")));
    ak_json_free(j);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

/* Threads on: a target and a source that refuse connections are reported, and stop is prompt. */
AK_TEST(threads_report_down_target_and_source)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_json *j = NULL;
    char yaml[1024];

    snprintf(yaml, sizeof(yaml),
             "server:\n  data_dir: %s\n"
             "monitoring:\n  enabled: true\n  host_collector: false\n"
             "  sources:\n    - name: prom\n      url: http://127.0.0.1:1\n"
             "      queries: [up]\n"
             "services:\n  - name: api\n    type: http\n"
             "    targets: [\"http://127.0.0.1:1/metrics\"]\n",
             AK_TMPDIR());
    AK_ASSERT_OK(ak_cfg_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    AK_ASSERT_OK(ak_mon_collect_now(m, &err));
    const struct ak_json *src = NULL, *t = NULL;
    for (int i = 0; i < 100; i++) {
        ak_json_free(j);
        j = NULL;
        AK_ASSERT_OK(ak_mon_targets(m, &j, &err));
        src = ak_json_at(ak_json_get(j, "sources"), 0);
        if (ak_json_get_str(src, "error"))
            break;
        usleep(50000);
    }
    t = ak_json_at(ak_json_get(j, "targets"), 0);
    AK_ASSERT_STR(ak_json_get_str(t, "url"), "http://127.0.0.1:1/metrics");
    AK_ASSERT(ak_json_is_bool(ak_json_get(t, "up")) && !ak_json_bool(ak_json_get(t, "up")));
    AK_ASSERT(ak_json_get_str(t, "error") != NULL);
    AK_ASSERT_STR(ak_json_get_str(src, "name"), "prom");
    AK_ASSERT(ak_json_get_str(src, "error") != NULL);
    AK_ASSERT(ak_json_is_null(ak_json_get(src, "last_ok")));
    ak_json_free(j);
    /* the target's synthetic up 0 was stored */
    AK_ASSERT_OK(ak_mon_series(m, "api", "up", &j, &err));
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(j, "series")), 1);
    AK_ASSERT(ak_json_num(ak_json_get(ak_json_at(ak_json_get(j, "series"), 0), "last_value")) == 0);
    ak_json_free(j);
    int64_t t0 = ak_now_mono_ms();
    ak_mon_stop(m);
    AK_ASSERT(ak_now_mono_ms() - t0 < 3000);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

/* 200 series at 15 s, one day fed in hourly imports: memory is the open chunks and tier state,
 * not the data (AK_MON_RSS_DAYS=7 for the week quoted in docs/internals/mon.md). */
AK_TEST(memory_stays_flat)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_mon_ingest_stats st;
    const char *env = getenv("AK_MON_RSS_DAYS");
    int days = env && *env ? (int)(env[0] - '0') : 1;
    int64_t t0 = NOW - (int64_t)days * DAY;
    long before = 0, after_first = 0;

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    struct ak_buf t = AK_BUF_INIT(AK_BUF_NOMAX);
    for (int h = 0; h < days * 24; h++) {
        ak_buf_reset(&t);
        for (int s = 0; s < 200; s++) {
            ak_buf_addf(&t, "# TYPE m%d gauge\n", s);
            for (int i = 0; i < 240; i++) {
                int64_t ts = t0 + (int64_t)h * HOUR + i * 15000;
                ak_buf_addf(&t, "m%d{job=\"api\"} %d %" PRId64 ".%03d\n", s, (i * 7 + s) % 500,
                            ts / 1000, 0);
            }
        }
        ak_buf_add(&t, "# EOF\n");
        AK_ASSERT_OK(ak_mon_import(m, t.buf, t.len, AK_EXPO_OPENMETRICS, &st, &err));
        AK_ASSERT_EQ_INT(st.samples, 200 * 240);
        if (h == 0)
            before = rss_kib();
        if (h == 1)
            after_first = rss_kib();
    }
    long end = rss_kib();
    printf("# RSS after 1 h: %ld KiB, after 2 h: %ld KiB, after %d days: %ld KiB\n", before,
           after_first, days, end);
    AK_ASSERT_EQ_INT(stat_of(m, "raw_samples"), (int64_t)days * 24 * 200 * 240);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed memory in quarantine (up to 256 MiB): RSS says nothing there */
    (void)after_first;
    (void)end;
#else
    /* growth after the first hours stays below a few MiB (allocator noise), not 8 B/sample */
    AK_ASSERT(end - after_first < 16 * 1024);
#endif
    ak_buf_release(&t);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

/* Point pidx of a query answer: [t, mean, min, max] -> mean (NaN when null). */
static double point_mean(const struct ak_json *q, size_t pidx, int64_t *ret_t)
{
    const struct ak_json *p = ak_json_at(ak_json_get(q, "points"), pidx);
    if (!p)
        return -1e300;
    if (ret_t)
        *ret_t = ak_json_int(ak_json_at(p, 0));
    const struct ak_json *v = ak_json_at(p, 1);
    return ak_json_is_num(v) ? ak_json_num(v) : NAN;
}

/* Stale markers (NaN) neither poison a counter's rate nor become the series' last value; a
 * counter that reset and climbed past its previous level counts as reset; times and sizes from
 * outside are refused with a sentence. */
AK_TEST(nan_resets_and_bounds)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_buf t = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_mon *m = NULL;
    struct ak_mon_ingest_stats st;
    struct ak_json *j = NULL;
    int64_t t0 = NOW - 10 * 60000, pt = 0;

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    /* minute 0: 100..400; minute 1: 500, reset to 0, 1000, 2000; minute 2: 2100 */
    static const double cv[] = {100, 200, 300, 400, 500, 0, 1000, 2000, 2100};
    ak_buf_add(&t, "# TYPE c_total counter\n");
    for (size_t i = 0; i < 9; i++)
        ak_buf_addf(&t, "c_total{job=\"api\"} %g %lld\n", cv[i], (long long)(t0 + 15000 * (int64_t)i));
    /* a raw counter with a stale marker between 100 and 130, 30 s apart: 1/s */
    ak_buf_add(&t, "# TYPE d_total counter\n");
    ak_buf_addf(&t, "d_total{job=\"api\"} 100 %lld\nd_total{job=\"api\"} NaN %lld\n"
                "d_total{job=\"api\"} 130 %lld\n", (long long)t0, (long long)(t0 + 15000),
                (long long)(t0 + 30000));
    ak_buf_addf(&t, "up{job=\"api\"} 1 %lld\nup{job=\"api\"} NaN %lld\n", (long long)t0,
                (long long)(t0 + 15000));
    /* a start time far outside int64 ms: ignored by the review, not undefined behaviour */
    ak_buf_addf(&t, "process_start_time_seconds{job=\"api\"} 1e300 %lld\n"
                "process_start_time_seconds{job=\"api\"} -1e300 %lld\n", (long long)t0,
                (long long)(t0 + 120000));
    AK_ASSERT_OK(ak_mon_import(m, t.buf, t.len, AK_EXPO_PROM_TEXT, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, 9 + 3 + 2 + 2);

    /* minute 1 reset and reached 2000 > 400: at least 2000 in 60 s, not 1600 */
    AK_ASSERT_OK(ak_mon_query(m, "c_total{job=\"api\"}", t0, t0 + 3 * 60000, "minute", &j, &err));
    AK_ASSERT(fabs(point_mean(j, 1, &pt) - 2000.0 / 60.0) < 1e-9);
    AK_ASSERT_EQ_INT(pt, t0 + 60000);
    ak_json_free(j);
    AK_ASSERT_OK(ak_mon_query(m, "d_total{job=\"api\"}", t0, t0 + 60000, "raw", &j, &err));
    AK_ASSERT(isnan(point_mean(j, 1, NULL)));
    AK_ASSERT(fabs(point_mean(j, 2, &pt) - 1.0) < 1e-9);
    AK_ASSERT_EQ_INT(pt, t0 + 30000);
    ak_json_free(j);
    AK_ASSERT_OK(ak_mon_series(m, NULL, "up", &j, &err));
    const struct ak_json *up = ak_json_at(ak_json_get(j, "series"), 0);
    AK_ASSERT(ak_json_is_num(ak_json_get(up, "last_value")));
    AK_ASSERT(ak_json_num(ak_json_get(up, "last_value")) == 1.0);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(up, "last")), t0 + 15000);
    ak_json_free(j);
    struct ak_mon_review_req rq = {.now_ms = NOW, .window_ms = HOUR, .resolution = "minute"};
    AK_ASSERT_OK(ak_mon_review(m, &rq, &j, &err));
    ak_json_free(j);
    j = NULL;

    /* a raw query over a year at 15 s would be 2 M points: refused, naming the way out */
    AK_ASSERT_EQ_INT(ak_mon_query(m, "c_total{job=\"api\"}", NOW - 365 * DAY, NOW, "raw", &j,
                                  &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "coarser resolution");
    AK_ASSERT_NULL(j);
    ak_buf_reset(&err);
    rq.now_ms = -5;
    AK_ASSERT_EQ_INT(ak_mon_review(m, &rq, &j, &err), AK_EINVAL);
    ak_buf_reset(&err);
    /* a timestamp past the year 9999 (int64 ms arithmetic would overflow on it) */
    const char *far = "g{job=\"api\"} 1 1000\ng{job=\"api\"} 1 9223372036854775807\n";
    AK_ASSERT_EQ_INT(ak_mon_import(m, far, strlen(far), AK_EXPO_PROM_TEXT, &st, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "line 2");
    ak_buf_release(&t);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

/* A damaged chunk row is a gap for recovery as for readers: the engine still starts and keeps
 * ingesting. */
AK_TEST(recovery_skips_damaged_chunk)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    struct ak_mon *m = NULL;
    struct ak_mon_ingest_stats st;
    struct ak_store *db = NULL;
    struct ak_mseries ms = {0};
    char text[256];
    static const uint8_t junk[] = {0xff, 0x13, 0x37, 0x00, 0x42};

    AK_ASSERT_OK(setup(NULL));
    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    snprintf(text, sizeof(text), "g{job=\"api\"} 1 %lld\ng{job=\"api\"} 2 %lld\n"
             "g{job=\"api\"} 3 %lld\n", (long long)(NOW - 150000), (long long)(NOW - 90000),
             (long long)(NOW - 30000));
    AK_ASSERT_OK(ak_mon_import(m, text, strlen(text), AK_EXPO_PROM_TEXT, &st, &err));
    ak_mon_stop(m);
    m = NULL;
    AK_ASSERT_OK(ak_store_open_metrics(cfg.data_dir, AK_STORE_WRITE, &db, &err));
    AK_ASSERT_OK(ak_store_mseries_get(db, "g{job=\"api\"}", &ms));
    AK_ASSERT_OK(ak_store_begin(db));
    AK_ASSERT_OK(ak_store_mchunk_put(db, ms.id, NOW - 60000, NOW - 50000, 3, junk, sizeof(junk)));
    AK_ASSERT_OK(ak_store_commit(db));
    ak_store_close(db);
    ak_mseries_release(&ms);

    AK_ASSERT_OK(ak_mon_start(&cfg, &m, &err));
    snprintf(text, sizeof(text), "g{job=\"api\"} 4 %lld\n", (long long)NOW);
    AK_ASSERT_OK(ak_mon_import(m, text, strlen(text), AK_EXPO_PROM_TEXT, &st, &err));
    AK_ASSERT_EQ_INT(st.samples, 1);
    ak_mon_stop(m);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

AK_TEST_MAIN(AK_T(import_review_query_coverage_stats),
             AK_T(restart_recovery_continues_chunk_and_tiers),
             AK_T(crash_between_checkpoints_loses_nothing),
             AK_T(reimport_is_idempotent_and_history_goes_first), AK_T(drops_and_errors),
             AK_T(max_series_drops_new_series), AK_T(collect_now_feeds_dashboard),
             AK_T(threads_report_down_target_and_source),
             AK_T(nan_resets_and_bounds), AK_T(recovery_skips_damaged_chunk),
             AK_T(memory_stays_flat))
