/* test_store.c — the SQLite store: open/migrate, raw archive, records, history, durability,
 * and the notification tables (changes, outbox, threads, silences, kv). */
#include <ctype.h>
#include <fcntl.h>
#include <sqlite3.h> /* only to build a version-1 file and to read query plans */
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_store.h"
#include "asakai/ak_util.h"
#include "ak_test.h"

#define DAY_MS (24LL * 3600 * 1000)

static char dbpath_[512];

static const char *dbpath(const char *dir)
{
    snprintf(dbpath_, sizeof(dbpath_), "%s/asakai.db", dir);
    return dbpath_;
}

static struct ak_store *open_w(const char *dir)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_store_open(dir, AK_STORE_WRITE, &st, &err);
    if (r != AK_OK)
        printf("# open %s: %d %s\n", dir, r, err.buf);
    ak_buf_release(&err);
    return st;
}

/* Overwrites a 4-byte big-endian header field of a closed database file. */
static int poke_header_u32(const char *path, long off, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = pwrite(fd, b, 4, off);
    close(fd);
    return n == 4 ? 0 : -1;
}

static struct ak_raw mkraw(const char *dedupe, const char *body)
{
    struct ak_raw r = {0};
    r.channel = (char *)"sns";
    r.dedupe_id = (char *)dedupe;
    r.received_at = 1700000000000;
    r.remote = (char *)"192.0.2.7";
    r.body = (char *)body;
    r.body_len = strlen(body);
    return r;
}

static struct ak_maint_rec mkrec(const char *key, const char *status, int64_t deadline,
                                 int64_t wstart)
{
    static char *res[] = {(char *)"i-0abc", (char *)"arn:aws:ec2:x\"y"};
    struct ak_maint_rec r = {0};
    r.key = (char *)key;
    r.source = (char *)"aws.health";
    r.service = (char *)"ec2";
    r.kind = (char *)"instance-retirement";
    r.status = (char *)status;
    r.resources = res;
    r.n_resources = 2;
    r.deadline = deadline;
    r.window_start = wstart;
    r.first_seen = r.last_seen = 1000;
    return r;
}

AK_TEST(open_creates_dir_and_migrates)
{
    char dir[600];
    struct stat sb;
    snprintf(dir, sizeof(dir), "%s/a/b/data", AK_TMPDIR());
    struct ak_store *st = open_w(dir);
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 5);
    ak_store_close(st);
    AK_ASSERT_EQ_INT(stat(dir, &sb), 0);
    AK_ASSERT_EQ_INT(sb.st_mode & 0777, 0700);
    st = open_w(dir);
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 5);
    ak_store_close(st);

    struct ak_buf err = AK_BUF_INIT(1024);
    AK_ASSERT_OK(ak_store_open(dir, AK_STORE_READ, &st, &err));
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 5);
    ak_store_close(st);
    ak_buf_release(&err);
    ak_store_close(NULL);
}

AK_TEST(read_mode_does_not_create)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    struct stat sb;
    int r = ak_store_open(AK_TMPDIR(), AK_STORE_READ, &st, &err);
    AK_ASSERT_EQ_INT(r, AK_ENOTFOUND);
    AK_ASSERT_NULL(st);
    AK_ASSERT_CONTAINS(err.buf, "asakai.db");
    AK_ASSERT(stat(dbpath(AK_TMPDIR()), &sb) != 0);
    ak_buf_release(&err);
}

AK_TEST(read_mode_refuses_empty_schema)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    FILE *f = fopen(dbpath(AK_TMPDIR()), "wb"); /* a zero-byte file is an empty database */
    AK_ASSERT(f != NULL);
    fclose(f);
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_READ, &st, &err), AK_ENOTFOUND);
    AK_ASSERT_CONTAINS(err.buf, "schema version 0");
    ak_buf_release(&err);
}

AK_TEST(not_a_database_file)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    FILE *f = fopen(dbpath(AK_TMPDIR()), "wb");
    AK_ASSERT(f != NULL);
    AK_ASSERT_EQ_INT(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
    fclose(f);
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_WRITE, &st, &err), AK_ECORRUPT);
    AK_ASSERT_NULL(st);
    AK_ASSERT_CONTAINS(err.buf, "asakai.db is not an asakai database (");
    ak_buf_release(&err);
}

AK_TEST(foreign_sqlite_database)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_buf err = AK_BUF_INIT(1024);
    AK_ASSERT(st != NULL);
    ak_store_close(st);
    AK_ASSERT_EQ_INT(poke_header_u32(dbpath(AK_TMPDIR()), 68, 0x12345678), 0);
    st = NULL;
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_WRITE, &st, &err), AK_ECORRUPT);
    AK_ASSERT_CONTAINS(err.buf, "application_id 0x12345678");
    ak_buf_release(&err);
}

AK_TEST(newer_schema_refused)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_buf err = AK_BUF_INIT(1024);
    AK_ASSERT(st != NULL);
    ak_store_close(st);
    AK_ASSERT_EQ_INT(poke_header_u32(dbpath(AK_TMPDIR()), 60, 99), 0);
    st = NULL;
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_WRITE, &st, &err), AK_EUNSUPPORTED);
    AK_ASSERT_NULL(st);
    AK_ASSERT_CONTAINS(err.buf, "schema version 99, newer");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_READ, &st, &err), AK_EUNSUPPORTED);
    ak_buf_release(&err);
}

AK_TEST(raw_put_dedupes)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_raw a = mkraw("sns:1", "{\"a\":1}"), b = mkraw("sns:2", "{\"b\":2}");
    int64_t id1 = 0, id2 = 0, id3 = 0, n = 0;
    bool dup = true;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_raw_put(st, &a, &id1, &dup));
    AK_ASSERT(!dup);
    AK_ASSERT(id1 > 0);
    AK_ASSERT_OK(ak_store_raw_put(st, &a, &id2, &dup));
    AK_ASSERT(dup);
    AK_ASSERT_EQ_INT(id2, id1);
    AK_ASSERT_OK(ak_store_raw_put(st, &b, &id3, &dup));
    AK_ASSERT(!dup);
    AK_ASSERT(id3 != id1);
    AK_ASSERT_OK(ak_store_raw_count(st, NULL, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT(ak_store_last_op_us(st) >= 0);
    ak_store_close(st);
}

AK_TEST(raw_put_rejects_missing_fields)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_raw a = mkraw(NULL, "x");
    int64_t id = -7;
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_raw_put(st, &a, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(id, -7);
    a = mkraw("sns:1", "x");
    a.channel = NULL;
    AK_ASSERT_EQ_INT(ak_store_raw_put(st, &a, &id, NULL), AK_EINVAL);
    ak_store_close(st);
}

AK_TEST(raw_get_round_trip_binary_body)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    static const char body[] = "ab\0cd\xff";
    struct ak_raw a = mkraw("sha256:00", ""), got = {0};
    int64_t id = 0;
    AK_ASSERT(st != NULL);
    a.body = (char *)body;
    a.body_len = sizeof(body) - 1;
    a.meta = (char *)"{\"file\":\"x.json\"}";
    AK_ASSERT_OK(ak_store_raw_put(st, &a, &id, NULL));
    AK_ASSERT_OK(ak_store_raw_get(st, id, &got));
    AK_ASSERT_EQ_INT(got.id, id);
    AK_ASSERT_EQ_INT(got.body_len, 6);
    AK_ASSERT_MEM(got.body, body, 6);
    AK_ASSERT_EQ_INT(got.body[6], 0);
    AK_ASSERT_STR(got.channel, "sns");
    AK_ASSERT_STR(got.dedupe_id, "sha256:00");
    AK_ASSERT_STR(got.remote, "192.0.2.7");
    AK_ASSERT_STR(got.meta, "{\"file\":\"x.json\"}");
    AK_ASSERT_STR(got.state, "pending");
    AK_ASSERT_NULL(got.note);
    AK_ASSERT_EQ_INT(got.received_at, 1700000000000);
    ak_raw_release(&got);
    AK_ASSERT_EQ_INT(ak_store_raw_get(st, id + 100, &got), AK_ENOTFOUND);
    ak_raw_release(NULL);
    ak_store_close(st);
}

AK_TEST(raw_pending_order_and_state)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    int64_t ids[3], *pend = NULL, n = 0;
    size_t np = 0;
    char dd[16];
    AK_ASSERT(st != NULL);
    for (int i = 0; i < 3; i++) {
        snprintf(dd, sizeof(dd), "sns:%d", i);
        struct ak_raw a = mkraw(dd, "{}");
        AK_ASSERT_OK(ak_store_raw_put(st, &a, &ids[i], NULL));
    }
    AK_ASSERT_OK(ak_store_raw_set_state(st, ids[1], "parsed", "1 observation"));
    AK_ASSERT_OK(ak_store_raw_pending(st, 10, &pend, &np));
    AK_ASSERT_EQ_INT(np, 2);
    AK_ASSERT_EQ_INT(pend[0], ids[0]);
    AK_ASSERT_EQ_INT(pend[1], ids[2]);
    free(pend);
    AK_ASSERT_OK(ak_store_raw_pending(st, 1, &pend, &np));
    AK_ASSERT_EQ_INT(np, 1);
    AK_ASSERT_EQ_INT(pend[0], ids[0]);
    free(pend);
    AK_ASSERT_EQ_INT(ak_store_raw_set_state(st, ids[0], "bogus", NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_raw_set_state(st, 9999, "parsed", NULL), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_raw_count(st, "pending", &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_OK(ak_store_raw_count(st, "parsed", &n));
    AK_ASSERT_EQ_INT(n, 1);

    struct ak_raw got = {0};
    AK_ASSERT_OK(ak_store_raw_get(st, ids[1], &got));
    AK_ASSERT_STR(got.state, "parsed");
    AK_ASSERT_STR(got.note, "1 observation");
    ak_raw_release(&got);
    ak_store_close(st);
}

AK_TEST(raw_list_newest_first_without_body)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_raw a = mkraw("a", "A"), b = mkraw("b", "B"), c = mkraw("c", "C"), *v = NULL;
    int64_t ia, ib, ic;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_raw_put(st, &a, &ia, NULL));
    AK_ASSERT_OK(ak_store_raw_put(st, &b, &ib, NULL));
    AK_ASSERT_OK(ak_store_raw_put(st, &c, &ic, NULL));
    AK_ASSERT_OK(ak_store_raw_set_state(st, ib, "unparsed", "unknown shape"));
    AK_ASSERT_OK(ak_store_raw_list(st, NULL, 2, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].id, ic);
    AK_ASSERT_EQ_INT(v[1].id, ib);
    AK_ASSERT_NULL(v[0].body);
    AK_ASSERT_STR(v[1].note, "unknown shape");
    for (size_t i = 0; i < n; i++)
        ak_raw_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_raw_list(st, "pending", 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].id, ic);
    AK_ASSERT_EQ_INT(v[1].id, ia);
    for (size_t i = 0; i < n; i++)
        ak_raw_release(&v[i]);
    free(v);
    ak_store_close(st);
}

AK_TEST(rec_insert_get_update_round_trip)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("health:1:arn", "scheduled", 5 * DAY_MS, 4 * DAY_MS), got = {0};
    int64_t id = 0;
    AK_ASSERT(st != NULL);
    r.event_code = (char *)"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED";
    r.account = (char *)"123456789012";
    r.region = (char *)"us-east-1";
    r.window_end = 6 * DAY_MS;
    r.title = (char *)"EC2 instance retirement i-0abc";
    r.description = (char *)"line1\nline2";
    r.required = true;
    r.important = true;
    r.important_why = (char *)"mandatory";
    r.sources = (char *)"aws.health";
    r.family = (char *)"instance-retirement";
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &id));
    AK_ASSERT(id > 0);
    AK_ASSERT_OK(ak_store_rec_get(st, id, &got));
    AK_ASSERT_EQ_INT(got.id, id);
    AK_ASSERT_STR(got.key, "health:1:arn");
    AK_ASSERT_STR(got.event_code, "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
    AK_ASSERT_STR(got.description, "line1\nline2");
    AK_ASSERT_EQ_INT(got.n_resources, 2);
    AK_ASSERT_STR(got.resources[0], "i-0abc");
    AK_ASSERT_STR(got.resources[1], "arn:aws:ec2:x\"y");
    AK_ASSERT_EQ_INT(got.window_start, 4 * DAY_MS);
    AK_ASSERT_EQ_INT(got.window_end, 6 * DAY_MS);
    AK_ASSERT_EQ_INT(got.deadline, 5 * DAY_MS);
    AK_ASSERT(got.required && got.important);
    AK_ASSERT_STR(got.important_why, "mandatory");
    AK_ASSERT_STR(got.family, "instance-retirement");
    AK_ASSERT_EQ_INT(got.recurrence_of, 0);
    AK_ASSERT_EQ_INT(got.closed_at, 0);
    AK_ASSERT_STR(got.title, "EC2 instance retirement i-0abc");

    char *res2[] = {(char *)"i-0def"};
    free(got.status);
    got.status = strdup("completed");
    got.closed_at = 7 * DAY_MS;
    for (size_t i = 0; i < got.n_resources; i++)
        free(got.resources[i]);
    free(got.resources);
    got.resources = NULL;
    got.n_resources = 0;
    struct ak_maint_rec upd = got;
    upd.resources = res2;
    upd.n_resources = 1;
    AK_ASSERT_OK(ak_store_rec_update(st, &upd));
    ak_maint_rec_release(&got);
    AK_ASSERT_OK(ak_store_rec_get(st, id, &got));
    AK_ASSERT_STR(got.status, "completed");
    AK_ASSERT_EQ_INT(got.closed_at, 7 * DAY_MS);
    AK_ASSERT_EQ_INT(got.n_resources, 1);
    AK_ASSERT_STR(got.resources[0], "i-0def");
    AK_ASSERT_STR(got.title, "EC2 instance retirement i-0abc");
    ak_maint_rec_release(&got);

    AK_ASSERT_EQ_INT(ak_store_rec_get(st, id + 1, &got), AK_ENOTFOUND);
    upd = mkrec("other", "scheduled", 0, 0);
    upd.id = id + 50;
    AK_ASSERT_EQ_INT(ak_store_rec_update(st, &upd), AK_ENOTFOUND);
    ak_maint_rec_release(NULL);
    ak_store_close(st);
}

AK_TEST(rec_insert_rejects_missing_key)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec(NULL, "scheduled", 0, 0);
    int64_t id = -3;
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_rec_insert(st, &r, &id), AK_EINVAL);
    AK_ASSERT_EQ_INT(id, -3);
    r = mkrec("k", "scheduled", 0, 0);
    r.recurrence_of = 424242; /* no such record: the foreign key refuses it */
    AK_ASSERT_EQ_INT(ak_store_rec_insert(st, &r, &id), AK_ENOTFOUND);
    struct ak_maint_rec got = {0};
    AK_ASSERT_EQ_INT(ak_store_rec_latest_by_key(st, "k", &got), AK_ENOTFOUND);
    ak_store_close(st);
}

AK_TEST(rec_latest_by_key)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("k1", "completed", 0, 0), got = {0};
    int64_t a, b, c;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &a));
    r.status = (char *)"scheduled";
    r.recurrence_of = a;
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &b));
    r = mkrec("k2", "scheduled", 0, 0);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &c));
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, "k1", &got));
    AK_ASSERT_EQ_INT(got.id, b);
    AK_ASSERT_EQ_INT(got.recurrence_of, a);
    AK_ASSERT_STR(got.status, "scheduled");
    ak_maint_rec_release(&got);
    AK_ASSERT_EQ_INT(ak_store_rec_latest_by_key(st, "nope", &got), AK_ENOTFOUND);
    ak_store_close(st);
}

AK_TEST(rec_find_completed_window_edges)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("ec:1", "completed", 0, 0), got = {0};
    char *res[] = {(char *)"cluster-a"};
    int64_t old_id, new_id, open_id;
    AK_ASSERT(st != NULL);
    r.service = (char *)"elasticache";
    r.kind = (char *)"service-update";
    r.family = (char *)"node-replacement";
    r.resources = res;
    r.n_resources = 1;
    r.closed_at = 10 * DAY_MS;
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &old_id));
    r.closed_at = 20 * DAY_MS;
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &new_id));
    r.status = (char *)"scheduled";
    r.closed_at = 0;
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &open_id));

    /* the most recent completion wins; since == closed_at is inside */
    AK_ASSERT_OK(ak_store_rec_find_completed(st, "elasticache", "node-replacement", "cluster-a",
                                             20 * DAY_MS, &got));
    AK_ASSERT_EQ_INT(got.id, new_id);
    ak_maint_rec_release(&got);
    AK_ASSERT_EQ_INT(ak_store_rec_find_completed(st, "elasticache", "node-replacement",
                                                 "cluster-a", 20 * DAY_MS + 1, &got),
                     AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_rec_find_completed(st, "elasticache", "node-replacement",
                                                 "cluster-b", 0, &got),
                     AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_rec_find_completed(st, "rds", "node-replacement", "cluster-a", 0,
                                                 &got),
                     AK_ENOTFOUND);
    /* the family column is what matches, not the kind */
    AK_ASSERT_EQ_INT(ak_store_rec_find_completed(st, "elasticache", "service-update",
                                                 "cluster-a", 0, &got),
                     AK_ENOTFOUND);
    /* without a family, the kind is the family */
    r = mkrec("ec2:1", "completed", 0, 0);
    r.closed_at = 5 * DAY_MS;
    int64_t ec2_id;
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &ec2_id));
    AK_ASSERT_OK(ak_store_rec_find_completed(st, "ec2", "instance-retirement", "i-0abc", 0, &got));
    AK_ASSERT_EQ_INT(got.id, ec2_id);
    ak_maint_rec_release(&got);
    AK_ASSERT_EQ_INT(ak_store_rec_find_completed(st, "ec2", NULL, "i-0abc", 0, &got), AK_EINVAL);
    ak_store_close(st);
}

AK_TEST(rec_list_order_and_filters)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec *v = NULL;
    size_t n = 0;
    int64_t id_nodate, id_late, id_ws, id_done, id_rds;
    AK_ASSERT(st != NULL);
    struct ak_maint_rec r = mkrec("a", "scheduled", 0, 0);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &id_nodate));
    r = mkrec("b", "scheduled", 30 * DAY_MS, 1 * DAY_MS); /* deadline wins over window */
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &id_late));
    r = mkrec("c", "in-progress", 0, 20 * DAY_MS);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &id_ws));
    r = mkrec("d", "completed", 2 * DAY_MS, 0);
    r.closed_at = 3 * DAY_MS;
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &id_done));
    r = mkrec("e", "scheduled", 25 * DAY_MS, 0);
    r.service = (char *)"rds";
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &id_rds));

    struct ak_rec_filter f = {0};
    AK_ASSERT_OK(ak_store_rec_list(st, &f, &v, &n));
    AK_ASSERT_EQ_INT(n, 4);
    AK_ASSERT_EQ_INT(v[0].id, id_ws);
    AK_ASSERT_EQ_INT(v[1].id, id_rds);
    AK_ASSERT_EQ_INT(v[2].id, id_late);
    AK_ASSERT_EQ_INT(v[3].id, id_nodate);
    AK_ASSERT_EQ_INT(v[2].n_resources, 2);
    for (size_t i = 0; i < n; i++)
        ak_maint_rec_release(&v[i]);
    free(v);

    f.all = true;
    AK_ASSERT_OK(ak_store_rec_list(st, &f, &v, &n));
    AK_ASSERT_EQ_INT(n, 5);
    AK_ASSERT_EQ_INT(v[0].id, id_done);
    for (size_t i = 0; i < n; i++)
        ak_maint_rec_release(&v[i]);
    free(v);

    f.all = false;
    f.upcoming = true;
    f.now_ms = 22 * DAY_MS;
    f.service = "ec2";
    AK_ASSERT_OK(ak_store_rec_list(st, &f, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, id_late);
    ak_maint_rec_release(&v[0]);
    free(v);

    struct ak_rec_filter g = {.all = true, .limit = 2};
    AK_ASSERT_OK(ak_store_rec_list(st, &g, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[1].id, id_ws);
    for (size_t i = 0; i < n; i++)
        ak_maint_rec_release(&v[i]);
    free(v);
    ak_store_close(st);
}

AK_TEST(deliveries_history)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("k", "scheduled", 0, 0);
    struct ak_raw raw = mkraw("sns:m1", "{}");
    struct ak_delivery d = {0}, *v = NULL;
    int64_t rec_id, raw_id, d1, d2;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &rec_id));
    AK_ASSERT_OK(ak_store_raw_put(st, &raw, &raw_id, NULL));
    d.rec_id = rec_id;
    d.raw_id = raw_id;
    d.channel = (char *)"sns";
    d.message_id = (char *)"m1";
    d.at = 111;
    d.change = (char *)"created";
    AK_ASSERT_OK(ak_store_delivery_add(st, &d, &d1));
    d.raw_id = 0;
    d.at = 222;
    d.change = (char *)"duplicate";
    AK_ASSERT_OK(ak_store_delivery_add(st, &d, &d2));
    AK_ASSERT(d2 > d1);
    AK_ASSERT_OK(ak_store_delivery_list(st, rec_id, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].id, d1);
    AK_ASSERT_EQ_INT(v[0].raw_id, raw_id);
    AK_ASSERT_STR(v[0].change, "created");
    AK_ASSERT_STR(v[0].message_id, "m1");
    AK_ASSERT_EQ_INT(v[1].raw_id, 0);
    AK_ASSERT_EQ_INT(v[1].at, 222);
    AK_ASSERT_STR(v[1].change, "duplicate");
    for (size_t i = 0; i < n; i++)
        ak_delivery_release(&v[i]);
    free(v);
    d.rec_id = rec_id + 99;
    AK_ASSERT_EQ_INT(ak_store_delivery_add(st, &d, &d2), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_delivery_list(st, rec_id + 99, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    ak_store_close(st);
}

AK_TEST(transaction_rollback_and_commit)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_raw a = mkraw("a", "A"), b = mkraw("b", "B");
    int64_t id, n = -1;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_rollback(st)); /* no transaction: a no-op */
    AK_ASSERT_OK(ak_store_rollback(NULL));
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(ak_store_raw_put(st, &a, &id, NULL));
    AK_ASSERT_OK(ak_store_rollback(st));
    AK_ASSERT_OK(ak_store_raw_count(st, NULL, &n));
    AK_ASSERT_EQ_INT(n, 0);
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(ak_store_raw_put(st, &b, &id, NULL));
    AK_ASSERT_OK(ak_store_commit(st));
    AK_ASSERT_OK(ak_store_raw_count(st, NULL, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT(ak_store_commit(st) < 0); /* no transaction to commit */
    ak_store_close(st);
}

AK_TEST(reader_sees_committed_rows_beside_writer)
{
    struct ak_store *w = open_w(AK_TMPDIR()), *rd = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_raw a = mkraw("a", "A"), b = mkraw("b", "B");
    int64_t id, n = -1;
    AK_ASSERT(w != NULL);
    AK_ASSERT_OK(ak_store_raw_put(w, &a, &id, NULL));
    AK_ASSERT_OK(ak_store_open(AK_TMPDIR(), AK_STORE_READ, &rd, &err));
    AK_ASSERT_OK(ak_store_begin(w));
    AK_ASSERT_OK(ak_store_raw_put(w, &b, &id, NULL));
    /* WAL: the reader is not blocked by the open write transaction and sees only commits */
    AK_ASSERT_OK(ak_store_raw_count(rd, NULL, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_OK(ak_store_commit(w));
    AK_ASSERT_OK(ak_store_raw_count(rd, NULL, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT(ak_store_raw_put(rd, &a, &id, NULL) < 0); /* read-only connection */
    ak_store_close(rd);
    ak_store_close(w);
    ak_buf_release(&err);
}

AK_TEST(crash_after_commit_keeps_rows)
{
    const char *dir = AK_TMPDIR(); /* before fork: both processes must use the same one */
    pid_t pid = fork();
    int status = 0;
    AK_ASSERT(pid >= 0);
    if (pid == 0) {
        struct ak_store *st = open_w(dir);
        struct ak_raw a = mkraw("committed", "A"), b = mkraw("uncommitted", "B");
        int64_t id;
        if (!st || ak_store_begin(st) || ak_store_raw_put(st, &a, &id, NULL) ||
            ak_store_commit(st))
            _exit(3);
        if (ak_store_begin(st) || ak_store_raw_put(st, &b, &id, NULL))
            _exit(4);
        _exit(0); /* no commit, no close: as if the process died */
    }
    AK_ASSERT_EQ_INT(waitpid(pid, &status, 0), pid);
    AK_ASSERT(WIFEXITED(status));
    AK_ASSERT_EQ_INT(WEXITSTATUS(status), 0);

    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_raw *v = NULL;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_raw_list(st, NULL, 10, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_STR(v[0].dedupe_id, "committed");
    ak_raw_release(&v[0]);
    free(v);
    ak_store_close(st);
}

/* ---- schema version 2: notifications -------------------------------------------------- */

/* The version-1 schema exactly as asakai 1 created it (frozen: a released migration never
 * changes), to check that such a file upgrades in place. */
static const char v1_schema[] =
    "PRAGMA application_id = 1634427241;"
    "CREATE TABLE raw (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, dedupe_id TEXT NOT NULL "
    "UNIQUE, received_at INTEGER NOT NULL, remote TEXT, meta TEXT, body BLOB NOT NULL, state TEXT "
    "NOT NULL DEFAULT 'pending', note TEXT);"
    "CREATE INDEX raw_state ON raw (state, id);"
    "CREATE TABLE records (id INTEGER PRIMARY KEY, key TEXT NOT NULL, source TEXT, service TEXT, "
    "kind TEXT, family TEXT, status TEXT NOT NULL, event_code TEXT, account TEXT, region TEXT, "
    "window_start INTEGER NOT NULL DEFAULT 0, window_end INTEGER NOT NULL DEFAULT 0, deadline "
    "INTEGER NOT NULL DEFAULT 0, title TEXT, description TEXT, first_seen INTEGER NOT NULL DEFAULT "
    "0, last_seen INTEGER NOT NULL DEFAULT 0, closed_at INTEGER NOT NULL DEFAULT 0, recurrence_of "
    "INTEGER REFERENCES records (id), required INTEGER NOT NULL DEFAULT 0, important INTEGER NOT "
    "NULL DEFAULT 0, important_why TEXT, sources TEXT, resources TEXT NOT NULL DEFAULT '[]');"
    "CREATE INDEX records_key ON records (key, id);"
    "CREATE INDEX records_status ON records (status);"
    "CREATE INDEX records_deadline ON records (deadline);"
    "CREATE TABLE record_resources (rec_id INTEGER NOT NULL REFERENCES records (id) ON DELETE "
    "CASCADE, pos INTEGER NOT NULL, resource TEXT NOT NULL, PRIMARY KEY (rec_id, pos));"
    "CREATE INDEX record_resources_resource ON record_resources (resource);"
    "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, rec_id INTEGER NOT NULL REFERENCES records "
    "(id), raw_id INTEGER REFERENCES raw (id), channel TEXT, message_id TEXT, at INTEGER NOT "
    "NULL, change TEXT);"
    "CREATE INDEX deliveries_rec ON deliveries (rec_id, id);"
    "INSERT INTO raw (id, channel, dedupe_id, received_at, body, state) "
    "VALUES (1, 'sns', 'sns:m1', 1000, '{}', 'parsed');"
    "INSERT INTO records (id, key, service, kind, status, deadline, title, first_seen, last_seen, "
    "resources) VALUES (7, 'health:1:arn', 'ec2', 'instance-retirement', 'scheduled', 5000, "
    "'EC2 instance retirement i-0abc', 100, 200, '[\"i-0abc\"]');"
    "INSERT INTO record_resources VALUES (7, 0, 'i-0abc');"
    "INSERT INTO deliveries (rec_id, raw_id, channel, message_id, at, change) "
    "VALUES (7, 1, 'sns', 'm1', 100, 'created');"
    "PRAGMA user_version = 1;";

static int make_v1_db(const char *dir)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(dbpath(dir), &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, v1_schema, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static bool is_hex32(const char *s)
{
    if (!s || strlen(s) != 32)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
            return false;
    return true;
}

AK_TEST(migrate_v1_to_v2_keeps_data)
{
    struct ak_store *st;
    struct ak_maint_rec r = {0};
    struct ak_delivery *d = NULL;
    struct ak_change c = {0};
    char *id = NULL;
    size_t n = 0;
    int64_t cid = 0, raws = 0;
    bool dup = true;

    AK_ASSERT_EQ_INT(make_v1_db(AK_TMPDIR()), SQLITE_OK);
    st = open_w(AK_TMPDIR());
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 5);
    AK_ASSERT_OK(ak_store_rec_get(st, 7, &r));
    AK_ASSERT_STR(r.key, "health:1:arn");
    AK_ASSERT_STR(r.title, "EC2 instance retirement i-0abc");
    AK_ASSERT_EQ_INT(r.deadline, 5000);
    AK_ASSERT_EQ_INT(r.n_resources, 1);
    AK_ASSERT_STR(r.resources[0], "i-0abc");
    AK_ASSERT_NULL(r.tags);
    AK_ASSERT_NULL(r.acked_by);
    AK_ASSERT_NULL(r.ack_note);
    AK_ASSERT_EQ_INT(r.acked_at, 0);
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_store_delivery_list(st, 7, &d, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_STR(d[0].change, "created");
    ak_delivery_release(&d[0]);
    free(d);
    AK_ASSERT_OK(ak_store_raw_count(st, "parsed", &raws));
    AK_ASSERT_EQ_INT(raws, 1);
    /* the new tables work on the upgraded file, with the old rows */
    c.rec_id = 7;
    c.kind = (char *)"created";
    c.key = (char *)"created";
    c.at = 300;
    AK_ASSERT_OK(ak_store_change_add(st, &c, &cid, &dup));
    AK_ASSERT(cid > 0 && !dup);
    AK_ASSERT_OK(ak_store_rec_ack(st, 7, "alice", NULL, 400));
    AK_ASSERT_OK(ak_store_rec_get(st, 7, &r));
    AK_ASSERT_STR(r.acked_by, "alice");
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &id));
    AK_ASSERT(is_hex32(id));
    free(id);
    ak_store_close(st);
}

AK_TEST(reader_refuses_v1_database)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    AK_ASSERT_EQ_INT(make_v1_db(AK_TMPDIR()), SQLITE_OK);
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_READ, &st, &err), AK_EUNSUPPORTED);
    AK_ASSERT_NULL(st);
    AK_ASSERT_CONTAINS(err.buf, "schema version 1, not 5");
    ak_buf_release(&err);
}

AK_TEST(install_id_random_and_stable)
{
    char d1[600], d2[600], *a = NULL, *a2 = NULL, *b = NULL;
    struct ak_store *st;
    snprintf(d1, sizeof(d1), "%s/one", AK_TMPDIR());
    snprintf(d2, sizeof(d2), "%s/two", AK_TMPDIR());
    st = open_w(d1);
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &a));
    ak_store_close(st);
    st = open_w(d1); /* reopening keeps it */
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &a2));
    ak_store_close(st);
    st = open_w(d2);
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &b));
    ak_store_close(st);
    AK_ASSERT(is_hex32(a));
    AK_ASSERT(is_hex32(b));
    AK_ASSERT_STR(a, a2);
    AK_ASSERT(strcmp(a, b) != 0);
    free(a);
    free(a2);
    free(b);
}

AK_TEST(rec_tags_and_ack_fields_round_trip)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("k", "scheduled", 0, 0), got = {0};
    int64_t id;
    AK_ASSERT(st != NULL);
    r.tags = (char *)"{\"env\":\"prod\",\"team\":\"db\"}";
    r.acked_by = (char *)"bob";
    r.ack_note = (char *)"on it";
    r.acked_at = 4242;
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &id));
    AK_ASSERT_OK(ak_store_rec_get(st, id, &got));
    AK_ASSERT_STR(got.tags, "{\"env\":\"prod\",\"team\":\"db\"}");
    AK_ASSERT_STR(got.acked_by, "bob");
    AK_ASSERT_STR(got.ack_note, "on it");
    AK_ASSERT_EQ_INT(got.acked_at, 4242);
    /* update overwrites them too, NULL included */
    free(got.tags);
    got.tags = strdup("{\"env\":\"stg\"}");
    free(got.ack_note);
    got.ack_note = NULL;
    got.acked_at = 5000;
    AK_ASSERT_OK(ak_store_rec_update(st, &got));
    ak_maint_rec_release(&got);
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, "k", &got));
    AK_ASSERT_STR(got.tags, "{\"env\":\"stg\"}");
    AK_ASSERT_STR(got.acked_by, "bob");
    AK_ASSERT_NULL(got.ack_note);
    AK_ASSERT_EQ_INT(got.acked_at, 5000);
    ak_maint_rec_release(&got);
    AK_ASSERT_NULL(got.tags); /* release zeroes */
    ak_store_close(st);
}

static int64_t add_rec(struct ak_store *st, const char *key)
{
    struct ak_maint_rec r = mkrec(key, "scheduled", 0, 0);
    int64_t id = 0;
    if (ak_store_rec_insert(st, &r, &id) != AK_OK)
        return 0;
    return id;
}

static int add_change(struct ak_store *st, int64_t rec_id, const char *kind, const char *key,
                      int64_t at, int64_t *ret_id, bool *ret_dup)
{
    struct ak_change c = {0};
    c.rec_id = rec_id;
    c.kind = (char *)kind;
    c.key = (char *)key;
    c.summary = (char *)kind;
    c.at = at;
    return ak_store_change_add(st, &c, ret_id, ret_dup);
}

static void free_changes(struct ak_change *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ak_change_release(&v[i]);
    free(v);
}

AK_TEST(change_add_dedupes)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    int64_t a = add_rec(st, "a"), b = add_rec(st, "b"), id1 = 0, id2 = 0, id3 = 0;
    bool dup = true;
    AK_ASSERT(a > 0 && b > 0);
    AK_ASSERT_OK(add_change(st, a, "status", "status:completed", 10, &id1, &dup));
    AK_ASSERT(!dup);
    AK_ASSERT_OK(add_change(st, a, "status", "status:completed", 20, &id2, &dup));
    AK_ASSERT(dup);
    AK_ASSERT_EQ_INT(id2, id1); /* the existing change */
    /* the same key on another record is another change */
    AK_ASSERT_OK(add_change(st, b, "status", "status:completed", 30, &id3, &dup));
    AK_ASSERT(!dup);
    AK_ASSERT(id3 > id1);
    AK_ASSERT_OK(add_change(st, b, "created", "created", 30, NULL, NULL)); /* outputs optional */
    struct ak_change *v = NULL;
    size_t n = 0;
    AK_ASSERT_OK(ak_store_change_list_rec(st, a, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].at, 10); /* the first one is kept */
    free_changes(v, n);
    ak_store_close(st);
}

AK_TEST(change_add_rejects_bad_input)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    int64_t a = add_rec(st, "a"), id = -1;
    AK_ASSERT(a > 0);
    AK_ASSERT_EQ_INT(add_change(st, a, "created", NULL, 1, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(add_change(st, a, "created", "", 1, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(add_change(st, a, NULL, "created", 1, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(add_change(st, 0, "created", "created", 1, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(add_change(st, a + 100, "created", "created", 1, &id, NULL), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_change_add(st, NULL, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(id, -1); /* untouched on failure */
    ak_store_close(st);
}

AK_TEST(change_lists)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    int64_t a = add_rec(st, "a"), b = add_rec(st, "b"), ids[5];
    const int64_t recs[5] = {a, b, a, b, a};
    const char *keys[5] = {"created", "created", "window:1:2", "status:completed", "deadline:9"};
    struct ak_change *v = NULL;
    size_t n = 0;
    for (int i = 0; i < 5; i++)
        AK_ASSERT_OK(add_change(st, recs[i], "k", keys[i], 100 + i, &ids[i], NULL));
    AK_ASSERT_OK(ak_store_change_list_after(st, 0, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 5);
    for (size_t i = 0; i < n; i++) {
        AK_ASSERT_EQ_INT(v[i].id, ids[i]);
        AK_ASSERT_EQ_INT(v[i].rec_id, recs[i]);
        AK_ASSERT_STR(v[i].key, keys[i]);
        AK_ASSERT_STR(v[i].summary, "k");
        AK_ASSERT_EQ_INT(v[i].at, 100 + (int64_t)i);
    }
    free_changes(v, n);
    AK_ASSERT_OK(ak_store_change_list_after(st, ids[1], 2, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].id, ids[2]);
    AK_ASSERT_EQ_INT(v[1].id, ids[3]);
    free_changes(v, n);
    AK_ASSERT_OK(ak_store_change_list_after(st, ids[4], 10, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free_changes(v, n);
    AK_ASSERT_OK(ak_store_change_list_rec(st, a, &v, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_STR(v[0].key, "created");
    AK_ASSERT_STR(v[1].key, "window:1:2");
    AK_ASSERT_STR(v[2].key, "deadline:9");
    free_changes(v, n);
    AK_ASSERT_OK(ak_store_change_list_rec(st, 999, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free_changes(v, n);
    ak_change_release(NULL);
    ak_store_close(st);
}

AK_TEST(rec_ack_adds_change_once)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    int64_t a = add_rec(st, "a");
    struct ak_maint_rec r = {0};
    struct ak_change *v = NULL;
    size_t n = 0;
    AK_ASSERT(a > 0);
    AK_ASSERT_OK(ak_store_rec_ack(st, a, "alice", "patching tonight\nin window", 1000));
    AK_ASSERT_OK(ak_store_rec_get(st, a, &r));
    AK_ASSERT_STR(r.acked_by, "alice");
    AK_ASSERT_STR(r.ack_note, "patching tonight\nin window");
    AK_ASSERT_EQ_INT(r.acked_at, 1000);
    AK_ASSERT_STR(r.status, "scheduled"); /* nothing else moves */
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_store_change_list_rec(st, a, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_STR(v[0].kind, "ack");
    AK_ASSERT_STR(v[0].key, "ack");
    AK_ASSERT_STR(v[0].summary, "acknowledged by alice: patching tonight in window");
    AK_ASSERT_EQ_INT(v[0].at, 1000);
    free_changes(v, n);
    /* a second ack updates who, but is no second change */
    AK_ASSERT_OK(ak_store_rec_ack(st, a, "bob", NULL, 2000));
    AK_ASSERT_OK(ak_store_rec_get(st, a, &r));
    AK_ASSERT_STR(r.acked_by, "bob");
    AK_ASSERT_NULL(r.ack_note);
    AK_ASSERT_EQ_INT(r.acked_at, 2000);
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_store_change_list_rec(st, a, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    free_changes(v, n);
    AK_ASSERT_EQ_INT(ak_store_rec_ack(st, a + 1, "bob", NULL, 1), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_rec_ack(st, a, NULL, NULL, 1), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_rec_ack(st, a, "", NULL, 1), AK_EINVAL);
    AK_ASSERT_OK(ak_store_change_list_after(st, 0, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 1); /* the failed ack left nothing */
    free_changes(v, n);
    ak_store_close(st);
}

static struct ak_outbox mkout(int64_t rec_id, const char *receiver, const char *key,
                              int64_t next_at)
{
    struct ak_outbox o = {0};
    o.rec_id = rec_id;
    o.change_id = rec_id ? rec_id * 10 : 0;
    o.receiver = (char *)receiver;
    o.key = (char *)key;
    o.created_at = next_at;
    o.next_at = next_at;
    return o;
}

static int64_t out_add(struct ak_store *st, int64_t rec_id, const char *receiver, const char *key,
                       int64_t next_at)
{
    struct ak_outbox o = mkout(rec_id, receiver, key, next_at);
    int64_t id = 0;
    bool dup = true;
    if (ak_store_outbox_add(st, &o, &id, &dup) != AK_OK || dup)
        return 0;
    return id;
}

static void free_outbox(struct ak_outbox *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ak_outbox_release(&v[i]);
    free(v);
}

/* The ids ak_store_outbox_due returns at now, as "1,2,3" in buf. */
static const char *due_ids(struct ak_store *st, int64_t now, size_t max, char *buf, size_t cap)
{
    struct ak_outbox *v = NULL;
    size_t n = 0, len = 0;
    buf[0] = 0;
    if (ak_store_outbox_due(st, now, max, &v, &n) != AK_OK)
        return "error";
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "",
                                (long long)v[i].id);
    free_outbox(v, n);
    return buf;
}

static int mark(struct ak_store *st, int64_t id, const char *state, int64_t next_at)
{
    struct ak_outbox o = {0};
    int r = ak_store_outbox_get(st, id, &o);
    if (r != AK_OK)
        return r;
    free(o.state);
    o.state = strdup(state);
    o.attempts++;
    o.next_at = next_at;
    if (strcmp(state, "sent") == 0)
        o.sent_at = next_at;
    r = ak_store_outbox_update(st, &o);
    ak_outbox_release(&o);
    return r;
}

AK_TEST(outbox_add_dedupes_and_defaults)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_outbox o = mkout(3, "team-mail", "created", 500), got = {0};
    int64_t id = 0, id2 = 0;
    bool dup = true;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_outbox_add(st, &o, &id, &dup));
    AK_ASSERT(id > 0 && !dup);
    AK_ASSERT_OK(ak_store_outbox_get(st, id, &got));
    AK_ASSERT_EQ_INT(got.rec_id, 3);
    AK_ASSERT_EQ_INT(got.change_id, 30);
    AK_ASSERT_STR(got.receiver, "team-mail");
    AK_ASSERT_STR(got.key, "created");
    AK_ASSERT_STR(got.state, "pending"); /* the default */
    AK_ASSERT_EQ_INT(got.attempts, 0);
    AK_ASSERT_EQ_INT(got.created_at, 500);
    AK_ASSERT_EQ_INT(got.next_at, 500);
    AK_ASSERT_EQ_INT(got.sent_at, 0);
    AK_ASSERT_NULL(got.last_error);
    AK_ASSERT_NULL(got.note);
    ak_outbox_release(&got);
    /* same (record, receiver, key): refused as a duplicate, whatever else differs */
    o.next_at = 900;
    o.change_id = 77;
    AK_ASSERT_OK(ak_store_outbox_add(st, &o, &id2, &dup));
    AK_ASSERT(dup);
    AK_ASSERT_EQ_INT(id2, id);
    /* another receiver or key is another row */
    o.receiver = (char *)"team-slack";
    AK_ASSERT_OK(ak_store_outbox_add(st, &o, &id2, &dup));
    AK_ASSERT(!dup && id2 != id);
    /* digests: rec_id 0, deduped by their date key; a row may start silenced */
    struct ak_outbox dg = mkout(0, "team-mail", "digest:2026-12-10", 600);
    AK_ASSERT_OK(ak_store_outbox_add(st, &dg, &id2, &dup));
    AK_ASSERT(!dup);
    AK_ASSERT_OK(ak_store_outbox_add(st, &dg, &id2, &dup));
    AK_ASSERT(dup);
    struct ak_outbox sil = mkout(4, "team-mail", "created", 600);
    sil.state = (char *)"silenced";
    sil.note = (char *)"silenced by #3 (db migration week)";
    AK_ASSERT_OK(ak_store_outbox_add(st, &sil, &id2, NULL));
    AK_ASSERT_OK(ak_store_outbox_get(st, id2, &got));
    AK_ASSERT_STR(got.state, "silenced");
    AK_ASSERT_STR(got.note, "silenced by #3 (db migration week)");
    ak_outbox_release(&got);
    ak_outbox_release(NULL);
    ak_store_close(st);
}

AK_TEST(outbox_add_rejects_bad_input)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_outbox o = mkout(1, "r", "k", 1);
    int64_t id = -1, n = -1;
    AK_ASSERT(st != NULL);
    o.state = (char *)"bogus";
    AK_ASSERT_EQ_INT(ak_store_outbox_add(st, &o, &id, NULL), AK_EINVAL); /* CHECK constraint */
    o = mkout(1, NULL, "k", 1);
    AK_ASSERT_EQ_INT(ak_store_outbox_add(st, &o, &id, NULL), AK_EINVAL);
    o = mkout(1, "r", "", 1);
    AK_ASSERT_EQ_INT(ak_store_outbox_add(st, &o, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_outbox_add(st, NULL, &id, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(id, -1);
    AK_ASSERT_OK(ak_store_outbox_counts(st, &n, NULL, NULL, NULL));
    AK_ASSERT_EQ_INT(n, 0);
    ak_store_close(st);
}

AK_TEST(outbox_due_one_per_record_receiver)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    char buf[128], want[128];
    int64_t a = out_add(st, 1, "mail", "created", 100);
    int64_t b = out_add(st, 1, "mail", "window:1:2", 100);
    int64_t c = out_add(st, 1, "mail", "status:completed", 100);
    AK_ASSERT(a && b && c);
    /* all three are due by time; only the oldest may go, so the record's messages stay in order */
    snprintf(want, sizeof(want), "%lld", (long long)a);
    AK_ASSERT_STR(due_ids(st, 1000, 10, buf, sizeof(buf)), want);
    AK_ASSERT_OK(mark(st, a, "sent", 1000));
    snprintf(want, sizeof(want), "%lld", (long long)b);
    AK_ASSERT_STR(due_ids(st, 1000, 10, buf, sizeof(buf)), want);
    /* a dead or silenced row does not block the queue behind it */
    AK_ASSERT_OK(mark(st, b, "dead", 1000));
    snprintf(want, sizeof(want), "%lld", (long long)c);
    AK_ASSERT_STR(due_ids(st, 1000, 10, buf, sizeof(buf)), want);
    AK_ASSERT_OK(mark(st, c, "silenced", 1000));
    AK_ASSERT_STR(due_ids(st, 1000, 10, buf, sizeof(buf)), "");
    ak_store_close(st);
}

AK_TEST(outbox_due_receivers_independent)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    char buf[128], want[128];
    int64_t m1 = out_add(st, 1, "mail", "created", 100);
    int64_t s1 = out_add(st, 1, "slack", "created", 100);
    int64_t m2 = out_add(st, 1, "mail", "status:in-progress", 100);
    int64_t r2 = out_add(st, 2, "mail", "created", 100);
    AK_ASSERT(m1 && s1 && m2 && r2);
    snprintf(want, sizeof(want), "%lld,%lld,%lld", (long long)m1, (long long)s1, (long long)r2);
    AK_ASSERT_STR(due_ids(st, 1000, 10, buf, sizeof(buf)), want);
    /* slack failing (backoff) does not hold mail back */
    AK_ASSERT_OK(mark(st, s1, "pending", 5000));
    AK_ASSERT_OK(mark(st, m1, "sent", 1000));
    snprintf(want, sizeof(want), "%lld,%lld", (long long)m2, (long long)r2);
    AK_ASSERT_STR(due_ids(st, 1000, 10, buf, sizeof(buf)), want);
    ak_store_close(st);
}

AK_TEST(outbox_due_future_and_backoff)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    char buf[128], want[128];
    int64_t next = -1;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_outbox_next_due(st, &next));
    AK_ASSERT_EQ_INT(next, 0); /* nothing pending */
    int64_t a = out_add(st, 1, "mail", "created", 2000);
    int64_t b = out_add(st, 1, "mail", "deadline:9", 100); /* due by time, but behind a */
    int64_t c = out_add(st, 2, "mail", "created", 3000);
    AK_ASSERT(a && b && c);
    AK_ASSERT_STR(due_ids(st, 1999, 10, buf, sizeof(buf)), "");
    /* the earliest time something becomes due is a's, not b's (b waits for a) */
    AK_ASSERT_OK(ak_store_outbox_next_due(st, &next));
    AK_ASSERT_EQ_INT(next, 2000);
    snprintf(want, sizeof(want), "%lld", (long long)a);
    AK_ASSERT_STR(due_ids(st, 2000, 10, buf, sizeof(buf)), want); /* next_at <= now */
    AK_ASSERT_OK(mark(st, a, "sent", 2000));
    AK_ASSERT_OK(ak_store_outbox_next_due(st, &next));
    AK_ASSERT_EQ_INT(next, 100);
    AK_ASSERT_OK(mark(st, b, "sent", 2000));
    AK_ASSERT_OK(ak_store_outbox_next_due(st, &next));
    AK_ASSERT_EQ_INT(next, 3000);
    AK_ASSERT_OK(mark(st, c, "dead", 3000));
    AK_ASSERT_OK(ak_store_outbox_next_due(st, &next));
    AK_ASSERT_EQ_INT(next, 0);
    ak_store_close(st);
}

AK_TEST(outbox_due_order_and_max)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    char buf[256], want[256];
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        char recv[16];
        snprintf(recv, sizeof(recv), "r%d", i);
        /* next_at descending: the order is still oldest (id) first */
        ids[i] = out_add(st, 10 + i, recv, "created", 600 - i * 100);
        AK_ASSERT(ids[i] > 0);
    }
    snprintf(want, sizeof(want), "%lld,%lld,%lld", (long long)ids[0], (long long)ids[1],
             (long long)ids[2]);
    AK_ASSERT_STR(due_ids(st, 1000, 3, buf, sizeof(buf)), want);
    snprintf(want, sizeof(want), "%lld,%lld", (long long)ids[4], (long long)ids[5]);
    AK_ASSERT_STR(due_ids(st, 200, 0, buf, sizeof(buf)), want); /* max 0: the default cap */
    ak_store_close(st);
}

AK_TEST(outbox_update_get)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_outbox o = {0};
    int64_t a = out_add(st, 1, "mail", "created", 100);
    AK_ASSERT(a > 0);
    AK_ASSERT_OK(ak_store_outbox_get(st, a, &o));
    free(o.state);
    o.state = strdup("pending");
    o.attempts = 3;
    o.next_at = 7000;
    o.last_error = strdup("smtp: 451 try later");
    o.note = strdup("retry 3");
    AK_ASSERT_OK(ak_store_outbox_update(st, &o));
    ak_outbox_release(&o);
    AK_ASSERT_OK(ak_store_outbox_get(st, a, &o));
    AK_ASSERT_EQ_INT(o.attempts, 3);
    AK_ASSERT_EQ_INT(o.next_at, 7000);
    AK_ASSERT_STR(o.last_error, "smtp: 451 try later");
    AK_ASSERT_STR(o.note, "retry 3");
    AK_ASSERT_STR(o.key, "created"); /* identity is not rewritten */
    AK_ASSERT_EQ_INT(o.created_at, 100);
    free(o.state);
    o.state = strdup("sent");
    o.sent_at = 7001;
    free(o.last_error);
    o.last_error = NULL;
    AK_ASSERT_OK(ak_store_outbox_update(st, &o));
    ak_outbox_release(&o);
    AK_ASSERT_OK(ak_store_outbox_get(st, a, &o));
    AK_ASSERT_STR(o.state, "sent");
    AK_ASSERT_EQ_INT(o.sent_at, 7001);
    AK_ASSERT_NULL(o.last_error);
    o.id = a + 50;
    AK_ASSERT_EQ_INT(ak_store_outbox_update(st, &o), AK_ENOTFOUND);
    o.id = a;
    free(o.state);
    o.state = strdup("lost");
    AK_ASSERT_EQ_INT(ak_store_outbox_update(st, &o), AK_EINVAL);
    ak_outbox_release(&o);
    AK_ASSERT_EQ_INT(ak_store_outbox_get(st, a + 50, &o), AK_ENOTFOUND);
    ak_store_close(st);
}

AK_TEST(outbox_list_and_counts)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_outbox *v = NULL;
    size_t n = 0;
    int64_t ids[5], p = -1, s = -1, d = -1, q = -1;
    for (int i = 0; i < 5; i++) {
        ids[i] = out_add(st, i + 1, "mail", "created", 100);
        AK_ASSERT(ids[i] > 0);
    }
    AK_ASSERT_OK(mark(st, ids[0], "sent", 1));
    AK_ASSERT_OK(mark(st, ids[1], "dead", 1));
    AK_ASSERT_OK(mark(st, ids[2], "dead", 1));
    AK_ASSERT_OK(mark(st, ids[3], "silenced", 1));
    AK_ASSERT_OK(ak_store_outbox_counts(st, &p, &s, &d, &q));
    AK_ASSERT_EQ_INT(p, 1);
    AK_ASSERT_EQ_INT(s, 1);
    AK_ASSERT_EQ_INT(d, 2);
    AK_ASSERT_EQ_INT(q, 1);
    AK_ASSERT_OK(ak_store_outbox_counts(st, NULL, NULL, &d, NULL));
    AK_ASSERT_OK(ak_store_outbox_list(st, NULL, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 5);
    AK_ASSERT_EQ_INT(v[0].id, ids[4]); /* newest first */
    AK_ASSERT_EQ_INT(v[4].id, ids[0]);
    free_outbox(v, n);
    AK_ASSERT_OK(ak_store_outbox_list(st, "dead", 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].id, ids[2]);
    AK_ASSERT_EQ_INT(v[1].id, ids[1]);
    AK_ASSERT_STR(v[0].state, "dead");
    free_outbox(v, n);
    AK_ASSERT_OK(ak_store_outbox_list(st, NULL, 2, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    free_outbox(v, n);
    AK_ASSERT_OK(ak_store_outbox_list(st, "nothing", 10, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free_outbox(v, n);
    ak_store_close(st);
}

AK_TEST(outbox_retry_dead)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_outbox o = {0};
    char buf[128], want[128];
    int64_t a = out_add(st, 1, "mail", "created", 100), b = out_add(st, 2, "mail", "created", 100);
    int64_t c = out_add(st, 3, "mail", "created", 100), n = -1, dead = -1;
    AK_ASSERT(a && b && c);
    AK_ASSERT_OK(mark(st, a, "dead", 100));
    AK_ASSERT_OK(mark(st, b, "dead", 100));
    AK_ASSERT_OK(mark(st, c, "sent", 100));
    AK_ASSERT_STR(due_ids(st, 99999, 10, buf, sizeof(buf)), "");
    AK_ASSERT_OK(ak_store_outbox_retry(st, a, 5000, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_OK(ak_store_outbox_get(st, a, &o));
    AK_ASSERT_STR(o.state, "pending");
    AK_ASSERT_EQ_INT(o.next_at, 5000); /* due now */
    AK_ASSERT_EQ_INT(o.attempts, 0);
    ak_outbox_release(&o);
    snprintf(want, sizeof(want), "%lld", (long long)a);
    AK_ASSERT_STR(due_ids(st, 5000, 10, buf, sizeof(buf)), want);
    /* a row that is not dead: nothing to do; a missing row: not found */
    AK_ASSERT_OK(ak_store_outbox_retry(st, c, 5000, &n));
    AK_ASSERT_EQ_INT(n, 0);
    AK_ASSERT_EQ_INT(ak_store_outbox_retry(st, c + 100, 5000, &n), AK_ENOTFOUND);
    AK_ASSERT_OK(mark(st, a, "dead", 100));
    AK_ASSERT_OK(ak_store_outbox_retry(st, 0, 6000, &n)); /* every dead row */
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_OK(ak_store_outbox_counts(st, NULL, NULL, &dead, NULL));
    AK_ASSERT_EQ_INT(dead, 0);
    AK_ASSERT_OK(ak_store_outbox_retry(st, 0, 6000, NULL));
    ak_store_close(st);
}

/* The query plan of ak_store_outbox_due's statement (kept in step with store.c). */
AK_TEST(outbox_due_uses_indexes)
{
    static const char sql[] =
        "EXPLAIN QUERY PLAN SELECT id FROM outbox o INDEXED BY outbox_next "
        "WHERE o.state = 'pending' AND o.next_at <= ?1 "
        "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.rec_id = o.rec_id "
        "AND p.receiver = o.receiver AND p.id < o.id) ORDER BY o.id LIMIT ?2";
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_buf plan = AK_BUF_INIT(AK_BUF_NOMAX);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    AK_ASSERT(st != NULL);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        AK_ASSERT(out_add(st, i % 7 + 1, i % 2 ? "mail" : "slack", key, i * 10) > 0);
    }
    ak_store_close(st);
    AK_ASSERT_EQ_INT(sqlite3_open_v2(dbpath(AK_TMPDIR()), &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    AK_ASSERT_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW)
        ak_buf_addf(&plan, "%s\n", (const char *)sqlite3_column_text(s, 3));
    sqlite3_finalize(s);
    sqlite3_close(db);
    AK_ASSERT_CONTAINS(plan.buf, "USING INDEX outbox_next (next_at<?)");
    AK_ASSERT_CONTAINS(plan.buf, "INDEX outbox_head (rec_id=? AND receiver=? AND id<?)");
    AK_ASSERT(strstr(plan.buf, "SCAN o\n") == NULL && strstr(plan.buf, "SCAN p") == NULL);
    ak_buf_release(&plan);
}

AK_TEST(outbox_rolled_back_with_transaction)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    int64_t a = add_rec(st, "a"), n = -1;
    struct ak_change *v = NULL;
    size_t nc = 0;
    AK_ASSERT(a > 0);
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(add_change(st, a, "created", "created", 1, NULL, NULL));
    AK_ASSERT(out_add(st, a, "mail", "created", 1) > 0);
    AK_ASSERT_OK(ak_store_rollback(st));
    AK_ASSERT_OK(ak_store_outbox_counts(st, &n, NULL, NULL, NULL));
    AK_ASSERT_EQ_INT(n, 0);
    AK_ASSERT_OK(ak_store_change_list_rec(st, a, &v, &nc));
    AK_ASSERT_EQ_INT(nc, 0);
    free_changes(v, nc);
    ak_store_close(st);
}

AK_TEST(thread_get_set)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    char *ref = NULL;
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_thread_get(st, 1, "mail", &ref), AK_ENOTFOUND);
    AK_ASSERT_NULL(ref);
    AK_ASSERT_OK(ak_store_thread_set(st, 1, "mail", "<asakai.1.abc@example.com>"));
    AK_ASSERT_OK(ak_store_thread_set(st, 1, "slack", "1702000000.000100"));
    AK_ASSERT_OK(ak_store_thread_get(st, 1, "mail", &ref));
    AK_ASSERT_STR(ref, "<asakai.1.abc@example.com>");
    free(ref);
    AK_ASSERT_OK(ak_store_thread_set(st, 1, "slack", "1702000000.000200")); /* replaces */
    AK_ASSERT_OK(ak_store_thread_get(st, 1, "slack", &ref));
    AK_ASSERT_STR(ref, "1702000000.000200");
    free(ref);
    ref = NULL;
    AK_ASSERT_EQ_INT(ak_store_thread_get(st, 2, "mail", &ref), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_thread_set(st, 2, "mail", NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_thread_get(st, 2, NULL, &ref), AK_EINVAL);
    ak_store_close(st);
}

static void free_silences(struct ak_silence *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ak_silence_release(&v[i]);
    free(v);
}

static int64_t sil_add(struct ak_store *st, const char *m, int64_t start, int64_t end)
{
    struct ak_silence s = {0};
    int64_t id = 0;
    s.matchers = (char *)m;
    s.starts_at = start;
    s.ends_at = end;
    s.reason = (char *)"db migration week";
    s.created_by = (char *)"alice";
    s.created_at = 50;
    return ak_store_silence_add(st, &s, &id) == AK_OK ? id : 0;
}

AK_TEST(silence_active_window)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_silence *v = NULL, bad = {0};
    size_t n = 0;
    int64_t a = sil_add(st, "service=rds", 100, 200), b = sil_add(st, "kind=~node.*", 150, 300);
    AK_ASSERT(a > 0 && b > a);
    AK_ASSERT_OK(ak_store_silence_list(st, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].id, a);
    AK_ASSERT_STR(v[0].matchers, "service=rds");
    AK_ASSERT_EQ_INT(v[0].starts_at, 100);
    AK_ASSERT_EQ_INT(v[0].ends_at, 200);
    AK_ASSERT_STR(v[0].reason, "db migration week");
    AK_ASSERT_STR(v[0].created_by, "alice");
    AK_ASSERT_EQ_INT(v[0].created_at, 50);
    AK_ASSERT_EQ_INT(v[0].expired_at, 0);
    free_silences(v, n);
    const struct {
        int64_t t;
        size_t n;
        int64_t first;
    } cases[] = {{99, 0, 0}, {100, 1, a}, {149, 1, a}, {150, 2, a}, {199, 2, a}, {200, 1, b},
                 {299, 1, b}, {300, 0, 0}};
    for (size_t i = 0; i < AK_ARRAY_SIZE(cases); i++) {
        AK_ASSERT_OK(ak_store_silence_list(st, cases[i].t, &v, &n));
        AK_ASSERT_EQ_INT(n, cases[i].n);
        if (n)
            AK_ASSERT_EQ_INT(v[0].id, cases[i].first);
        free_silences(v, n);
    }
    bad.matchers = (char *)"service=rds";
    bad.starts_at = 100;
    bad.ends_at = 100;
    AK_ASSERT_EQ_INT(ak_store_silence_add(st, &bad, NULL), AK_EINVAL); /* empty window */
    bad.matchers = NULL;
    bad.ends_at = 200;
    AK_ASSERT_EQ_INT(ak_store_silence_add(st, &bad, NULL), AK_EINVAL);
    ak_silence_release(NULL);
    ak_store_close(st);
}

AK_TEST(silence_expire)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_silence *v = NULL;
    size_t n = 0;
    int64_t a = sil_add(st, "service=rds", 100, 1000), b = sil_add(st, "service=ec2", 100, 1000);
    AK_ASSERT(a && b);
    AK_ASSERT_OK(ak_store_silence_expire(st, a, 500));
    AK_ASSERT_OK(ak_store_silence_expire(st, a, 700)); /* again: keeps the first time */
    AK_ASSERT_OK(ak_store_silence_list(st, 600, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, b);
    free_silences(v, n);
    /* before it was expired, it was active */
    AK_ASSERT_OK(ak_store_silence_list(st, 400, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    free_silences(v, n);
    AK_ASSERT_OK(ak_store_silence_list(st, 0, &v, &n)); /* all, expired ones included */
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].expired_at, 500);
    AK_ASSERT_EQ_INT(v[1].expired_at, 0);
    free_silences(v, n);
    AK_ASSERT_EQ_INT(ak_store_silence_expire(st, b + 10, 500), AK_ENOTFOUND);
    ak_store_close(st);
}

AK_TEST(kv_get_set)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    char *v = NULL;
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_kv_get(st, "digest_cursor", &v), AK_ENOTFOUND);
    AK_ASSERT_NULL(v);
    AK_ASSERT_OK(ak_store_kv_set(st, "digest_cursor", "41"));
    AK_ASSERT_OK(ak_store_kv_set(st, "digest_cursor", "42"));
    AK_ASSERT_OK(ak_store_kv_get(st, "digest_cursor", &v));
    AK_ASSERT_STR(v, "42");
    free(v);
    AK_ASSERT_OK(ak_store_kv_set(st, "empty", ""));
    AK_ASSERT_OK(ak_store_kv_get(st, "empty", &v));
    AK_ASSERT_STR(v, "");
    free(v);
    AK_ASSERT_EQ_INT(ak_store_kv_set(st, "x", NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_kv_get(st, NULL, &v), AK_EINVAL);
    ak_store_close(st);
}

AK_TEST(outbox_list_rec)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_outbox *v = NULL;
    size_t n = 9;
    int64_t a = out_add(st, 7, "mail", "created", 100);
    int64_t b = out_add(st, 8, "mail", "created", 100);
    int64_t c = out_add(st, 7, "slack", "created", 100);
    int64_t d = out_add(st, 7, "mail", "status:completed", 100);
    AK_ASSERT(a && b && c && d);
    AK_ASSERT_OK(ak_store_outbox_list_rec(st, 7, &v, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_EQ_INT(v[0].id, a); /* oldest first, only record 7 */
    AK_ASSERT_EQ_INT(v[1].id, c);
    AK_ASSERT_EQ_INT(v[2].id, d);
    free_outbox(v, n);
    AK_ASSERT_OK(ak_store_outbox_list_rec(st, 99, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free_outbox(v, n);
    ak_store_close(st);
}

/* ---- schema version 3: pollers ------------------------------------------------------- */

/* What schema v5 added (runbooks, notes, the search index and its triggers on older tables):
 * dropping it gives back the v4 schema. */
#define DROP_V5                                                                                    \
    "DROP TRIGGER search_rec_ins; DROP TRIGGER search_rec_upd; DROP TRIGGER search_dlv_ins; "      \
    "DROP TABLE search_index; DROP TABLE notes; DROP TABLE runbook_events; "                       \
    "DROP TABLE runbook_steps; DROP TABLE runbooks; "

/* Turns the (current) database in dir back into exactly what version 2 had: the v3 and v4 steps
 * only add tables and indexes, so dropping them is the v2 schema, rows included. */
static int downgrade_to_v2(const char *dir)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(dbpath(dir), &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, DROP_V5 "DROP TABLE sts_creds; DROP TABLE sts_audit; "
                              "DROP TABLE record_keys; DROP TABLE poll_scopes; "
                              "DROP TABLE poll_seen; DROP INDEX deliveries_at; "
                              "PRAGMA user_version = 2;", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static bool table_exists(const char *dir, const char *name)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    bool found = false;
    if (sqlite3_open_v2(dbpath(dir), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) == SQLITE_OK)
        found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return found;
}

AK_TEST(migrate_v2_to_v3_keeps_data)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("health:1:arn", "scheduled", 5000, 0), got = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_poll_scope sc = {0}, sg = {0};
    char *id1 = NULL, *id2 = NULL;
    int64_t rec_id = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &rec_id));
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &id1));
    ak_store_close(st);
    AK_ASSERT_EQ_INT(downgrade_to_v2(AK_TMPDIR()), SQLITE_OK);
    AK_ASSERT(!table_exists(AK_TMPDIR(), "record_keys"));
    /* a reader cannot use a v2 file: the daemon migrates it first */
    st = NULL;
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_READ, &st, &err), AK_EUNSUPPORTED);
    AK_ASSERT_CONTAINS(err.buf, "schema version 2, not 5");
    st = open_w(AK_TMPDIR());
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 5);
    AK_ASSERT(table_exists(AK_TMPDIR(), "record_keys"));
    AK_ASSERT(table_exists(AK_TMPDIR(), "poll_seen"));
    AK_ASSERT(table_exists(AK_TMPDIR(), "deliveries_at"));
    AK_ASSERT_OK(ak_store_rec_get(st, rec_id, &got));
    AK_ASSERT_STR(got.key, "health:1:arn");
    AK_ASSERT_EQ_INT(got.deadline, 5000);
    ak_maint_rec_release(&got);
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &id2));
    AK_ASSERT_STR(id2, id1); /* the v2 post step did not run again */
    /* the new tables work with the old rows */
    AK_ASSERT_OK(ak_store_rec_alias_add(st, "ec2:1:us-east-1:i-0abc:ev-1", rec_id));
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, "ec2:1:us-east-1:i-0abc:ev-1", &got));
    AK_ASSERT_EQ_INT(got.id, rec_id);
    ak_maint_rec_release(&got);
    sc.scope = (char *)"ec2:1:us-east-1";
    sc.poller = (char *)"ec2";
    AK_ASSERT_OK(ak_store_poll_scope_put(st, &sc));
    AK_ASSERT_OK(ak_store_poll_scope_get(st, "ec2:1:us-east-1", &sg));
    AK_ASSERT_STR(sg.poller, "ec2");
    ak_poll_scope_release(&sg);
    free(id1);
    free(id2);
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(raw_put_keeps_state_and_note)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_raw r = mkraw("poll:ec2:1", "{\"EventId\":\"instance-event-1\"}"), got = {0};
    int64_t a = 0, b = 0, c = -5, *ids = NULL, n_parsed = 0;
    size_t n = 9;
    AK_ASSERT(st != NULL);
    r.channel = (char *)"poll";
    r.state = (char *)"parsed";
    r.note = (char *)"#1 created";
    AK_ASSERT_OK(ak_store_raw_put(st, &r, &a, NULL));
    AK_ASSERT_OK(ak_store_raw_get(st, a, &got));
    AK_ASSERT_STR(got.state, "parsed");
    AK_ASSERT_STR(got.note, "#1 created");
    AK_ASSERT_STR(got.channel, "poll");
    ak_raw_release(&got);
    /* no state: pending as before, the note is kept all the same */
    r = mkraw("sns:m2", "{}");
    r.note = (char *)"from a replay";
    AK_ASSERT_OK(ak_store_raw_put(st, &r, &b, NULL));
    AK_ASSERT_OK(ak_store_raw_get(st, b, &got));
    AK_ASSERT_STR(got.state, "pending");
    AK_ASSERT_STR(got.note, "from a replay");
    ak_raw_release(&got);
    AK_ASSERT_OK(ak_store_raw_pending(st, 10, &ids, &n));
    AK_ASSERT_EQ_INT(n, 1); /* the parsed poll item is not normalised again */
    AK_ASSERT_EQ_INT(ids[0], b);
    free(ids);
    AK_ASSERT_OK(ak_store_raw_count(st, "parsed", &n_parsed));
    AK_ASSERT_EQ_INT(n_parsed, 1);
    r = mkraw("sns:m3", "{}");
    r.state = (char *)"bogus";
    AK_ASSERT_EQ_INT(ak_store_raw_put(st, &r, &c, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(c, -5);
    ak_store_close(st);
}

AK_TEST(rec_alias_lookup)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("health:1:arn", "scheduled", 0, 0), got = {0};
    const char *alias = "ec2:123456789012:us-east-1:i-0abc:instance-event-1";
    int64_t a, b, c;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &a));
    r = mkrec("health:1:other", "scheduled", 0, 0);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &b));
    AK_ASSERT_EQ_INT(ak_store_rec_latest_by_key(st, alias, &got), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_rec_alias_add(st, alias, a));
    AK_ASSERT_OK(ak_store_rec_alias_add(st, alias, a)); /* idempotent */
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, alias, &got));
    AK_ASSERT_EQ_INT(got.id, a);
    AK_ASSERT_STR(got.key, "health:1:arn");
    AK_ASSERT_EQ_INT(got.n_resources, 2);
    ak_maint_rec_release(&got);
    /* the owner's key still finds it; the alias does not leak to other keys */
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, "health:1:arn", &got));
    AK_ASSERT_EQ_INT(got.id, a);
    ak_maint_rec_release(&got);
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, "health:1:other", &got));
    AK_ASSERT_EQ_INT(got.id, b);
    ak_maint_rec_release(&got);
    /* the newest of owners and aliases wins: a newer record owning the key ... */
    r = mkrec(alias, "scheduled", 0, 0);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &c));
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, alias, &got));
    AK_ASSERT_EQ_INT(got.id, c);
    ak_maint_rec_release(&got);
    /* ... and an owner's key aliased to a newer record */
    AK_ASSERT_OK(ak_store_rec_alias_add(st, "health:1:arn", c));
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, "health:1:arn", &got));
    AK_ASSERT_EQ_INT(got.id, c);
    ak_maint_rec_release(&got);
    AK_ASSERT_EQ_INT(ak_store_rec_alias_add(st, "k", c + 100), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_rec_alias_add(st, NULL, a), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_rec_alias_add(st, "", a), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_rec_latest_by_key(st, "k", &got), AK_ENOTFOUND);
    ak_store_close(st);
}

AK_TEST(rec_alias_rolls_back)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("health:1:arn", "scheduled", 0, 0), got = {0};
    int64_t a;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &a));
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(ak_store_rec_alias_add(st, "ec2:x", a));
    AK_ASSERT_OK(ak_store_rollback(st));
    AK_ASSERT_EQ_INT(ak_store_rec_latest_by_key(st, "ec2:x", &got), AK_ENOTFOUND);
    ak_store_close(st);
}

static int64_t ins_family(struct ak_store *st, const char *key, const char *service,
                          const char *kind, const char *family, const char *status)
{
    struct ak_maint_rec r = mkrec(key, status, 0, 0);
    int64_t id = -1;
    r.service = (char *)service;
    r.kind = (char *)kind;
    r.family = (char *)family;
    if (ak_store_rec_insert(st, &r, &id) != AK_OK)
        return -1;
    return id;
}

AK_TEST(rec_find_open_ignores_closed_and_other_families)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec got = {0};
    AK_ASSERT(st != NULL);
    int64_t open1 = ins_family(st, "h:1", "ec2", "system-reboot", "ec2-host", "scheduled");
    int64_t open2 = ins_family(st, "h:2", "ec2", "instance-retirement", "ec2-host", "in-progress");
    int64_t done = ins_family(st, "h:3", "ec2", "system-reboot", "ec2-host", "completed");
    int64_t canc = ins_family(st, "h:4", "ec2", "system-reboot", "ec2-host", "canceled");
    int64_t other = ins_family(st, "h:5", "ec2", "other", "ec2-other", "scheduled");
    int64_t rds = ins_family(st, "h:6", "rds", "system-reboot", "ec2-host", "scheduled");
    AK_ASSERT(open1 > 0 && open2 > open1 && done > open2 && canc > done && other > canc &&
              rds > other);
    /* the newest open one of the family; the closed ones after it do not count */
    AK_ASSERT_OK(ak_store_rec_find_open(st, "ec2", "ec2-host", "i-0abc", &got));
    AK_ASSERT_EQ_INT(got.id, open2);
    AK_ASSERT_STR(got.status, "in-progress");
    AK_ASSERT_EQ_INT(got.n_resources, 2);
    ak_maint_rec_release(&got);
    AK_ASSERT_OK(ak_store_rec_find_open(st, "ec2", "ec2-other", "i-0abc", &got));
    AK_ASSERT_EQ_INT(got.id, other);
    ak_maint_rec_release(&got);
    AK_ASSERT_OK(ak_store_rec_find_open(st, "rds", "ec2-host", "arn:aws:ec2:x\"y", &got));
    AK_ASSERT_EQ_INT(got.id, rds);
    ak_maint_rec_release(&got);
    AK_ASSERT_EQ_INT(ak_store_rec_find_open(st, "ec2", "ec2-host", "i-0zzz", &got),
                     AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_rec_find_open(st, "elasticache", "ec2-host", "i-0abc", &got),
                     AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_rec_find_open(st, "ec2", "rds-host", "i-0abc", &got),
                     AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_rec_find_open(st, "ec2", NULL, "i-0abc", &got), AK_EINVAL);
    /* a record without a stored family matches by its kind (as find_completed does) */
    int64_t nofam = ins_family(st, "h:7", "ec2", "power-maintenance", NULL, "scheduled");
    AK_ASSERT(nofam > 0);
    AK_ASSERT_OK(ak_store_rec_find_open(st, "ec2", "power-maintenance", "i-0abc", &got));
    AK_ASSERT_EQ_INT(got.id, nofam);
    ak_maint_rec_release(&got);
    ak_store_close(st);
}

AK_TEST(poll_scope_round_trip)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_poll_scope s = {0}, got = {0}, *v = NULL;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_poll_scope_get(st, "health:1:global", &got), AK_ENOTFOUND);
    s.scope = (char *)"health:123456789012:global";
    s.poller = (char *)"health";
    s.account = (char *)"123456789012";
    s.region = (char *)"global";
    s.last_run_at = 1000;
    s.last_error = (char *)"SubscriptionRequiredException: no premium support";
    s.last_error_at = 1000;
    s.runs = 1;
    s.failures = 1;
    s.note = (char *)"the Health API needs a Business support plan";
    AK_ASSERT_OK(ak_store_poll_scope_put(st, &s));
    AK_ASSERT_OK(ak_store_poll_scope_get(st, s.scope, &got));
    AK_ASSERT_STR(got.scope, "health:123456789012:global");
    AK_ASSERT_STR(got.poller, "health");
    AK_ASSERT_STR(got.account, "123456789012");
    AK_ASSERT_STR(got.region, "global");
    AK_ASSERT_EQ_INT(got.last_run_at, 1000);
    AK_ASSERT_EQ_INT(got.last_ok_at, 0);
    AK_ASSERT_STR(got.last_error, "SubscriptionRequiredException: no premium support");
    AK_ASSERT_EQ_INT(got.last_error_at, 1000);
    AK_ASSERT_EQ_INT(got.runs, 1);
    AK_ASSERT_EQ_INT(got.failures, 1);
    AK_ASSERT_STR(got.note, "the Health API needs a Business support plan");
    ak_poll_scope_release(&got);
    /* replaced whole: the error and the note clear */
    s.last_run_at = s.last_ok_at = 2000;
    s.last_error = NULL;
    s.note = NULL;
    s.items = 3;
    s.seen = 40;
    s.runs = 2;
    AK_ASSERT_OK(ak_store_poll_scope_put(st, &s));
    AK_ASSERT_OK(ak_store_poll_scope_get(st, s.scope, &got));
    AK_ASSERT_EQ_INT(got.last_ok_at, 2000);
    AK_ASSERT_NULL(got.last_error);
    AK_ASSERT_EQ_INT(got.last_error_at, 1000); /* when it last failed stays known */
    AK_ASSERT_NULL(got.note);
    AK_ASSERT_EQ_INT(got.items, 3);
    AK_ASSERT_EQ_INT(got.seen, 40);
    AK_ASSERT_EQ_INT(got.runs, 2);
    AK_ASSERT_EQ_INT(got.failures, 1);
    ak_poll_scope_release(&got);
    s = (struct ak_poll_scope){0};
    s.scope = (char *)"ec2:123456789012:eu-west-1";
    s.poller = (char *)"ec2";
    AK_ASSERT_OK(ak_store_poll_scope_put(st, &s));
    s.scope = (char *)"ec2:123456789012:ap-northeast-1";
    AK_ASSERT_OK(ak_store_poll_scope_put(st, &s));
    AK_ASSERT_OK(ak_store_poll_scope_list(st, &v, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_STR(v[0].scope, "ec2:123456789012:ap-northeast-1");
    AK_ASSERT_STR(v[1].scope, "ec2:123456789012:eu-west-1");
    AK_ASSERT_STR(v[2].scope, "health:123456789012:global");
    AK_ASSERT_EQ_INT(v[2].items, 3);
    for (size_t i = 0; i < n; i++)
        ak_poll_scope_release(&v[i]);
    free(v);
    s.poller = NULL;
    AK_ASSERT_EQ_INT(ak_store_poll_scope_put(st, &s), AK_EINVAL);
    ak_poll_scope_release(NULL);
    ak_store_close(st);
}

AK_TEST(poll_seen_round_trip)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_poll_seen s = {0}, got = {0}, *v = NULL;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    s.scope = (char *)"ec2:1:us-east-1";
    s.key = (char *)"ec2:1:us-east-1:i-2:instance-event-2";
    s.rec_id = 7;
    s.last_seen_at = 100;
    AK_ASSERT_OK(ak_store_poll_seen_put(st, &s));
    s.key = (char *)"ec2:1:us-east-1:i-1:instance-event-1";
    s.rec_id = 8;
    AK_ASSERT_OK(ak_store_poll_seen_put(st, &s));
    s.scope = (char *)"ec2:1:eu-west-1";
    s.key = (char *)"ec2:1:eu-west-1:i-9:instance-event-9";
    AK_ASSERT_OK(ak_store_poll_seen_put(st, &s));
    /* upsert: one miss */
    s.scope = (char *)"ec2:1:us-east-1";
    s.key = (char *)"ec2:1:us-east-1:i-2:instance-event-2";
    s.rec_id = 7;
    s.misses = 1;
    AK_ASSERT_OK(ak_store_poll_seen_put(st, &s));
    AK_ASSERT_OK(ak_store_poll_seen_get(st, s.scope, s.key, &got));
    AK_ASSERT_STR(got.scope, "ec2:1:us-east-1");
    AK_ASSERT_STR(got.key, "ec2:1:us-east-1:i-2:instance-event-2");
    AK_ASSERT_EQ_INT(got.rec_id, 7);
    AK_ASSERT_EQ_INT(got.misses, 1);
    AK_ASSERT_EQ_INT(got.last_seen_at, 100);
    ak_poll_seen_release(&got);
    AK_ASSERT_OK(ak_store_poll_seen_list(st, "ec2:1:us-east-1", &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_STR(v[0].key, "ec2:1:us-east-1:i-1:instance-event-1");
    AK_ASSERT_EQ_INT(v[0].rec_id, 8);
    AK_ASSERT_EQ_INT(v[0].misses, 0);
    AK_ASSERT_STR(v[1].key, "ec2:1:us-east-1:i-2:instance-event-2");
    for (size_t i = 0; i < n; i++)
        ak_poll_seen_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_poll_seen_del(st, s.scope, s.key));
    AK_ASSERT_EQ_INT(ak_store_poll_seen_get(st, s.scope, s.key, &got), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_poll_seen_del(st, s.scope, s.key)); /* gone already: fine */
    AK_ASSERT_OK(ak_store_poll_seen_list(st, "ec2:1:us-east-1", &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    ak_poll_seen_release(&v[0]);
    free(v);
    AK_ASSERT_OK(ak_store_poll_seen_list(st, "nope", &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    s.key = NULL;
    AK_ASSERT_EQ_INT(ak_store_poll_seen_put(st, &s), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_poll_seen_get(st, NULL, "k", &got), AK_EINVAL);
    ak_store_close(st);
}

/* Archives a raw message of channel with meta, then adds a delivery of it to rec_id at t. */
static int push_delivery(struct ak_store *st, const char *channel, const char *dedupe,
                         const char *meta, int64_t rec_id, int64_t t, bool with_raw)
{
    struct ak_raw raw = mkraw(dedupe, "{}");
    struct ak_delivery d = {0};
    int64_t raw_id = 0;
    raw.channel = (char *)channel;
    raw.meta = (char *)meta;
    if (with_raw && ak_store_raw_put(st, &raw, &raw_id, NULL) != AK_OK)
        return -1;
    d.rec_id = rec_id;
    d.raw_id = raw_id;
    d.channel = (char *)channel;
    d.at = t;
    d.change = (char *)"created";
    return ak_store_delivery_add(st, &d, NULL);
}

AK_TEST(push_seen_groups_by_channel_topic_and_record)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("a", "scheduled", 0, 0);
    struct ak_push_seen *v = NULL;
    const char *ta = "{\"type\":\"Notification\",\"topic_arn\":\"arn:aws:sns:us-east-1:1:ops\"}";
    const char *tb = "{\"topic_arn\":\"arn:aws:sns:us-east-1:1:rds\"}";
    int64_t ec2, rds;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    r.account = (char *)"111111111111";
    r.region = (char *)"us-east-1";
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &ec2));
    r.key = (char *)"b";
    r.service = (char *)"rds";
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &rds));
    AK_ASSERT_OK(push_delivery(st, "sns", "sns:1", ta, ec2, 500, true));
    AK_ASSERT_OK(push_delivery(st, "sns", "sns:2", ta, ec2, 700, true));
    AK_ASSERT_OK(push_delivery(st, "sns", "sns:3", ta, ec2, 50, true));  /* before since */
    AK_ASSERT_OK(push_delivery(st, "sns", "sns:4", tb, rds, 600, true));
    AK_ASSERT_OK(push_delivery(st, "sns", "sns:5", "not json", rds, 650, true));
    AK_ASSERT_OK(push_delivery(st, "eventbridge", "eb:1", "{\"topic_arn\":\"x\"}", ec2, 800,
                               true));
    AK_ASSERT_OK(push_delivery(st, "eventbridge", "eb:2", NULL, ec2, 900, true));
    AK_ASSERT_OK(push_delivery(st, "import", "import:1", NULL, ec2, 900, true));
    AK_ASSERT_OK(push_delivery(st, "poll", "", NULL, ec2, 950, false)); /* no raw message */
    AK_ASSERT_OK(ak_store_push_seen(st, 100, &v, &n));
    AK_ASSERT_EQ_INT(n, 4);
    /* ordered by channel, then topic (NULL first) */
    AK_ASSERT_STR(v[0].channel, "eventbridge");
    AK_ASSERT_NULL(v[0].topic); /* EventBridge has no topic, whatever its meta says */
    AK_ASSERT_STR(v[0].service, "ec2");
    AK_ASSERT_EQ_INT(v[0].count, 2);
    AK_ASSERT_EQ_INT(v[0].last_at, 900);
    AK_ASSERT_STR(v[1].channel, "sns");
    AK_ASSERT_NULL(v[1].topic); /* meta that is not JSON: no topic, no error */
    AK_ASSERT_STR(v[1].service, "rds");
    AK_ASSERT_EQ_INT(v[1].count, 1);
    AK_ASSERT_STR(v[2].topic, "arn:aws:sns:us-east-1:1:ops");
    AK_ASSERT_STR(v[2].account, "111111111111");
    AK_ASSERT_STR(v[2].region, "us-east-1");
    AK_ASSERT_STR(v[2].service, "ec2");
    AK_ASSERT_EQ_INT(v[2].count, 2);
    AK_ASSERT_EQ_INT(v[2].last_at, 700);
    AK_ASSERT_STR(v[3].topic, "arn:aws:sns:us-east-1:1:rds");
    AK_ASSERT_STR(v[3].service, "rds");
    AK_ASSERT_EQ_INT(v[3].count, 1);
    AK_ASSERT_EQ_INT(v[3].last_at, 600);
    for (size_t i = 0; i < n; i++)
        ak_push_seen_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_push_seen(st, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 4);
    AK_ASSERT_EQ_INT(v[2].count, 3); /* the early one counts now */
    for (size_t i = 0; i < n; i++)
        ak_push_seen_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_push_seen(st, 10000, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free(v);
    ak_push_seen_release(NULL);
    ak_store_close(st);
}

/* ---- schema version 4: the STS twin ---------------------------------------------------- */

static struct ak_sts_cred mkcred(const char *akid, int64_t expires_at)
{
    struct ak_sts_cred c = {0};
    c.akid = (char *)akid;
    c.secret_sealed = (char *)"c2VhbGVk+/==";
    c.token_hash = (char *)"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    c.role_arn = (char *)"arn:aws:iam::123456789012:role/deploy";
    c.assumed_arn = (char *)"arn:aws:sts::123456789012:assumed-role/deploy/ci-42";
    c.assumed_id = (char *)"AROAEXAMPLE:ci-42";
    c.session_name = (char *)"ci-42";
    c.subject = (char *)"org/o/project/p/user/u";
    c.provider = (char *)"arn:aws:iam::123456789012:oidc-provider/oidc.circleci.com/org/o";
    c.issued_at = 1000;
    c.expires_at = expires_at;
    return c;
}

AK_TEST(sts_cred_round_trip)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_sts_cred c = mkcred("ASIAAAAAAAAAAAAAAAA1", 3601000), got = {0}, other;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_sts_cred_put(st, &c));
    AK_ASSERT_OK(ak_store_sts_cred_get(st, "ASIAAAAAAAAAAAAAAAA1", &got));
    AK_ASSERT_STR(got.akid, c.akid);
    AK_ASSERT_STR(got.secret_sealed, c.secret_sealed);
    AK_ASSERT_STR(got.token_hash, c.token_hash);
    AK_ASSERT_STR(got.role_arn, c.role_arn);
    AK_ASSERT_STR(got.assumed_arn, c.assumed_arn);
    AK_ASSERT_STR(got.assumed_id, c.assumed_id);
    AK_ASSERT_STR(got.session_name, c.session_name);
    AK_ASSERT_STR(got.subject, c.subject);
    AK_ASSERT_STR(got.provider, c.provider);
    AK_ASSERT_EQ_INT(got.issued_at, 1000);
    AK_ASSERT_EQ_INT(got.expires_at, 3601000);
    ak_sts_cred_release(&got);
    AK_ASSERT_NULL(got.akid);
    /* the same akid again, whatever else differs */
    other = mkcred("ASIAAAAAAAAAAAAAAAA1", 99);
    other.role_arn = (char *)"arn:aws:iam::123456789012:role/other";
    AK_ASSERT_EQ_INT(ak_store_sts_cred_put(st, &other), AK_EEXIST);
    AK_ASSERT_OK(ak_store_sts_cred_get(st, "ASIAAAAAAAAAAAAAAAA1", &got));
    AK_ASSERT_STR(got.role_arn, "arn:aws:iam::123456789012:role/deploy");
    AK_ASSERT_EQ_INT(got.expires_at, 3601000);
    ak_sts_cred_release(&got);
    /* optional subject/provider: NULL round-trips as NULL */
    other = mkcred("ASIAAAAAAAAAAAAAAAA2", 5);
    other.subject = other.provider = NULL;
    AK_ASSERT_OK(ak_store_sts_cred_put(st, &other));
    AK_ASSERT_OK(ak_store_sts_cred_get(st, "ASIAAAAAAAAAAAAAAAA2", &got));
    AK_ASSERT_NULL(got.subject);
    AK_ASSERT_NULL(got.provider);
    ak_sts_cred_release(&got);
    AK_ASSERT_EQ_INT(ak_store_sts_cred_get(st, "ASIANOPE", &got), AK_ENOTFOUND);
    AK_ASSERT_NULL(got.akid);
    /* a credential without its secret or token hash is refused */
    other = mkcred("ASIAAAAAAAAAAAAAAAA3", 5);
    other.secret_sealed = NULL;
    AK_ASSERT_EQ_INT(ak_store_sts_cred_put(st, &other), AK_EINVAL);
    other = mkcred("", 5);
    AK_ASSERT_EQ_INT(ak_store_sts_cred_put(st, &other), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_sts_cred_put(st, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_sts_cred_get(st, "ASIAAAAAAAAAAAAAAAA3", &got), AK_ENOTFOUND);
    ak_sts_cred_release(NULL);
    ak_store_close(st);
}

AK_TEST(sts_cred_purge)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_sts_cred a = mkcred("ASIA1", 1000), b = mkcred("ASIA2", 2000),
                       c = mkcred("ASIA3", 3000), got = {0};
    int64_t n = -1;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_sts_cred_put(st, &a));
    AK_ASSERT_OK(ak_store_sts_cred_put(st, &b));
    AK_ASSERT_OK(ak_store_sts_cred_put(st, &c));
    AK_ASSERT_OK(ak_store_sts_cred_purge(st, 1000, &n)); /* "before": 1000 itself stays */
    AK_ASSERT_EQ_INT(n, 0);
    AK_ASSERT_OK(ak_store_sts_cred_purge(st, 2001, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(ak_store_sts_cred_get(st, "ASIA1", &got), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_store_sts_cred_get(st, "ASIA2", &got), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_sts_cred_get(st, "ASIA3", &got));
    ak_sts_cred_release(&got);
    AK_ASSERT_OK(ak_store_sts_cred_purge(st, 5000, NULL));
    AK_ASSERT_EQ_INT(ak_store_sts_cred_get(st, "ASIA3", &got), AK_ENOTFOUND);
    /* the akid of a purged credential can be used again */
    AK_ASSERT_OK(ak_store_sts_cred_put(st, &a));
    ak_store_close(st);
}

static struct ak_sts_audit mkaudit(int64_t at, const char *result, const char *subject)
{
    struct ak_sts_audit a = {0};
    a.at = at;
    a.action = (char *)"AssumeRoleWithWebIdentity";
    a.result = (char *)result;
    a.subject = (char *)subject;
    return a;
}

AK_TEST(sts_audit_list_order_and_filter)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_sts_audit full = mkaudit(2000, "denied", "s-full"), *v = NULL, bad;
    int64_t id1 = 0, id2 = 0, id3 = 0, id4 = 0;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    full.code = (char *)"AccessDenied";
    full.reason = (char *)"condition StringLike sub did not match";
    full.role_arn = (char *)"arn:aws:iam::123456789012:role/deploy";
    full.provider = (char *)"arn:aws:iam::123456789012:oidc-provider/token.actions.example";
    full.audience = (char *)"sts.amazonaws.com";
    full.session_name = (char *)"run-1";
    full.akid = (char *)"ASIAX";
    full.remote = (char *)"192.0.2.9";
    full.duration_s = 900;
    struct ak_sts_audit a1 = mkaudit(1000, "allowed", "s1"), a3 = mkaudit(3000, "allowed", "s3"),
                        a4 = mkaudit(2000, "allowed", "s4");
    AK_ASSERT_OK(ak_store_sts_audit_add(st, &a1, &id1));
    AK_ASSERT_OK(ak_store_sts_audit_add(st, &full, &id2));
    AK_ASSERT_OK(ak_store_sts_audit_add(st, &a3, &id3));
    AK_ASSERT_OK(ak_store_sts_audit_add(st, &a4, &id4)); /* same time as full, added later */
    AK_ASSERT(id1 > 0 && id2 > id1 && id3 > id2 && id4 > id3);
    AK_ASSERT_OK(ak_store_sts_audit_list(st, NULL, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 4);
    AK_ASSERT_STR(v[0].subject, "s3");
    AK_ASSERT_STR(v[1].subject, "s4");
    AK_ASSERT_STR(v[2].subject, "s-full");
    AK_ASSERT_STR(v[3].subject, "s1");
    AK_ASSERT_EQ_INT(v[2].id, id2);
    AK_ASSERT_EQ_INT(v[2].at, 2000);
    AK_ASSERT_STR(v[2].action, "AssumeRoleWithWebIdentity");
    AK_ASSERT_STR(v[2].result, "denied");
    AK_ASSERT_STR(v[2].code, "AccessDenied");
    AK_ASSERT_STR(v[2].reason, "condition StringLike sub did not match");
    AK_ASSERT_STR(v[2].role_arn, full.role_arn);
    AK_ASSERT_STR(v[2].provider, full.provider);
    AK_ASSERT_STR(v[2].audience, "sts.amazonaws.com");
    AK_ASSERT_STR(v[2].session_name, "run-1");
    AK_ASSERT_STR(v[2].akid, "ASIAX");
    AK_ASSERT_STR(v[2].remote, "192.0.2.9");
    AK_ASSERT_EQ_INT(v[2].duration_s, 900);
    AK_ASSERT_NULL(v[0].code);
    for (size_t i = 0; i < n; i++)
        ak_sts_audit_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_sts_audit_list(st, "allowed", 2, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_STR(v[0].subject, "s3");
    AK_ASSERT_STR(v[1].subject, "s4");
    for (size_t i = 0; i < n; i++)
        ak_sts_audit_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_sts_audit_list(st, "denied", 10, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_STR(v[0].subject, "s-full");
    ak_sts_audit_release(&v[0]);
    free(v);
    /* bad input */
    AK_ASSERT_EQ_INT(ak_store_sts_audit_list(st, "maybe", 10, &v, &n), AK_EINVAL);
    bad = mkaudit(1, "maybe", "x");
    AK_ASSERT_EQ_INT(ak_store_sts_audit_add(st, &bad, NULL), AK_EINVAL);
    bad = mkaudit(1, "allowed", "x");
    bad.action = NULL;
    AK_ASSERT_EQ_INT(ak_store_sts_audit_add(st, &bad, NULL), AK_EINVAL);
    AK_ASSERT_OK(ak_store_sts_audit_list(st, NULL, 100, &v, &n));
    AK_ASSERT_EQ_INT(n, 4);
    for (size_t i = 0; i < n; i++)
        ak_sts_audit_release(&v[i]);
    free(v);
    ak_sts_audit_release(NULL);
    ak_store_close(st);
}

AK_TEST(sts_audit_purge_by_age_and_count)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_sts_audit *v = NULL;
    size_t n = 0;
    int64_t gone = 0;
    AK_ASSERT(st != NULL);
    for (int i = 0; i < 10; i++) {
        struct ak_sts_audit a = mkaudit(1000 * (i + 1), "denied", "s");
        AK_ASSERT_OK(ak_store_sts_audit_add(st, &a, NULL));
    }
    /* older than 3000 goes (at 1000, 2000), then only the newest 5 stay */
    AK_ASSERT_OK(ak_store_sts_audit_purge(st, 3000, 1000, &gone));
    AK_ASSERT_EQ_INT(gone, 2);
    AK_ASSERT_OK(ak_store_sts_audit_purge(st, 0, 5, &gone));
    AK_ASSERT_EQ_INT(gone, 3);
    AK_ASSERT_OK(ak_store_sts_audit_list(st, NULL, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 5);
    AK_ASSERT_EQ_INT(v[0].at, 10000);
    AK_ASSERT_EQ_INT(v[4].at, 6000);
    for (size_t i = 0; i < n; i++)
        ak_sts_audit_release(&v[i]);
    free(v);
    AK_ASSERT_EQ_INT(ak_store_sts_audit_purge(st, 0, 0, NULL), AK_EINVAL);
    ak_store_close(st);
}

AK_TEST(sts_audit_list_uses_index)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    char plan[1024] = "";
    AK_ASSERT(st != NULL);
    ak_store_close(st);
    AK_ASSERT_EQ_INT(sqlite3_open_v2(dbpath(AK_TMPDIR()), &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    AK_ASSERT_EQ_INT(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT id FROM sts_audit WHERE "
                                            "(?1 IS NULL OR result = ?1) ORDER BY at DESC, id "
                                            "DESC LIMIT 10", -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW)
        snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan), "%s|",
                 (const char *)sqlite3_column_text(s, 3));
    sqlite3_finalize(s);
    sqlite3_close(db);
    AK_ASSERT_CONTAINS(plan, "sts_audit_at");
}

/* Turns a current database back into exactly what version 3 had. */
static int downgrade_to_v3(const char *dir)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(dbpath(dir), &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, DROP_V5 "DROP TABLE sts_creds; DROP TABLE sts_audit; "
                              "PRAGMA user_version = 3;", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

AK_TEST(migrate_v3_to_v4_keeps_data)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec r = mkrec("health:4:arn", "scheduled", 7000, 0), got = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_poll_scope sc = {0}, sg = {0};
    struct ak_sts_cred c = mkcred("ASIAMIGRATED", 9000), cg = {0};
    struct ak_sts_audit au = mkaudit(5, "allowed", "s"), *v = NULL;
    char *id1 = NULL, *id2 = NULL;
    int64_t rec_id = 0;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_rec_insert(st, &r, &rec_id));
    sc.scope = (char *)"rds:1:us-east-1";
    sc.poller = (char *)"rds";
    sc.runs = 7;
    AK_ASSERT_OK(ak_store_poll_scope_put(st, &sc));
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &id1));
    ak_store_close(st);
    AK_ASSERT_EQ_INT(downgrade_to_v3(AK_TMPDIR()), SQLITE_OK);
    AK_ASSERT(!table_exists(AK_TMPDIR(), "sts_creds"));
    st = NULL;
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_READ, &st, &err), AK_EUNSUPPORTED);
    AK_ASSERT_CONTAINS(err.buf, "schema version 3, not 5");
    st = open_w(AK_TMPDIR());
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 5);
    AK_ASSERT(table_exists(AK_TMPDIR(), "sts_creds"));
    AK_ASSERT(table_exists(AK_TMPDIR(), "sts_audit"));
    AK_ASSERT(table_exists(AK_TMPDIR(), "sts_audit_at"));
    AK_ASSERT_OK(ak_store_rec_get(st, rec_id, &got));
    AK_ASSERT_STR(got.key, "health:4:arn");
    AK_ASSERT_EQ_INT(got.deadline, 7000);
    ak_maint_rec_release(&got);
    AK_ASSERT_OK(ak_store_poll_scope_get(st, "rds:1:us-east-1", &sg));
    AK_ASSERT_EQ_INT(sg.runs, 7);
    ak_poll_scope_release(&sg);
    AK_ASSERT_OK(ak_store_kv_get(st, "install_id", &id2));
    AK_ASSERT_STR(id2, id1);
    AK_ASSERT_OK(ak_store_sts_cred_put(st, &c));
    AK_ASSERT_OK(ak_store_sts_cred_get(st, "ASIAMIGRATED", &cg));
    AK_ASSERT_EQ_INT(cg.expires_at, 9000);
    ak_sts_cred_release(&cg);
    AK_ASSERT_OK(ak_store_sts_audit_add(st, &au, NULL));
    AK_ASSERT_OK(ak_store_sts_audit_list(st, NULL, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    ak_sts_audit_release(&v[0]);
    free(v);
    free(id1);
    free(id2);
    ak_buf_release(&err);
    ak_store_close(st);
}


AK_TEST_MAIN(AK_T(outbox_list_rec), AK_T(open_creates_dir_and_migrates), AK_T(read_mode_does_not_create),
             AK_T(read_mode_refuses_empty_schema), AK_T(not_a_database_file),
             AK_T(foreign_sqlite_database), AK_T(newer_schema_refused), AK_T(raw_put_dedupes),
             AK_T(raw_put_rejects_missing_fields), AK_T(raw_get_round_trip_binary_body),
             AK_T(raw_pending_order_and_state), AK_T(raw_list_newest_first_without_body),
             AK_T(rec_insert_get_update_round_trip), AK_T(rec_insert_rejects_missing_key),
             AK_T(rec_latest_by_key), AK_T(rec_find_completed_window_edges),
             AK_T(rec_list_order_and_filters), AK_T(deliveries_history),
             AK_T(transaction_rollback_and_commit), AK_T(reader_sees_committed_rows_beside_writer),
             AK_T(crash_after_commit_keeps_rows), AK_T(migrate_v1_to_v2_keeps_data),
             AK_T(reader_refuses_v1_database), AK_T(install_id_random_and_stable),
             AK_T(rec_tags_and_ack_fields_round_trip), AK_T(change_add_dedupes),
             AK_T(change_add_rejects_bad_input), AK_T(change_lists), AK_T(rec_ack_adds_change_once),
             AK_T(outbox_add_dedupes_and_defaults), AK_T(outbox_add_rejects_bad_input),
             AK_T(outbox_due_one_per_record_receiver), AK_T(outbox_due_receivers_independent),
             AK_T(outbox_due_future_and_backoff), AK_T(outbox_due_order_and_max),
             AK_T(outbox_update_get), AK_T(outbox_list_and_counts), AK_T(outbox_retry_dead),
             AK_T(outbox_due_uses_indexes), AK_T(outbox_rolled_back_with_transaction),
             AK_T(thread_get_set), AK_T(silence_active_window), AK_T(silence_expire),
             AK_T(kv_get_set), AK_T(migrate_v2_to_v3_keeps_data),
             AK_T(raw_put_keeps_state_and_note), AK_T(rec_alias_lookup),
             AK_T(rec_alias_rolls_back), AK_T(rec_find_open_ignores_closed_and_other_families),
             AK_T(poll_scope_round_trip), AK_T(poll_seen_round_trip),
             AK_T(push_seen_groups_by_channel_topic_and_record), AK_T(sts_cred_round_trip),
             AK_T(sts_cred_purge), AK_T(sts_audit_list_order_and_filter),
             AK_T(sts_audit_purge_by_age_and_count), AK_T(sts_audit_list_uses_index),
             AK_T(migrate_v3_to_v4_keeps_data))
