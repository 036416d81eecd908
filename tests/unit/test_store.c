/* test_store.c — the SQLite store: open/migrate, raw archive, records, history, durability. */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_store.h"
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
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 1);
    ak_store_close(st);
    AK_ASSERT_EQ_INT(stat(dir, &sb), 0);
    AK_ASSERT_EQ_INT(sb.st_mode & 0777, 0700);
    st = open_w(dir);
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 1);
    ak_store_close(st);

    struct ak_buf err = AK_BUF_INIT(1024);
    AK_ASSERT_OK(ak_store_open(dir, AK_STORE_READ, &st, &err));
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 1);
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

AK_TEST_MAIN(AK_T(open_creates_dir_and_migrates), AK_T(read_mode_does_not_create),
             AK_T(read_mode_refuses_empty_schema), AK_T(not_a_database_file),
             AK_T(foreign_sqlite_database), AK_T(newer_schema_refused), AK_T(raw_put_dedupes),
             AK_T(raw_put_rejects_missing_fields), AK_T(raw_get_round_trip_binary_body),
             AK_T(raw_pending_order_and_state), AK_T(raw_list_newest_first_without_body),
             AK_T(rec_insert_get_update_round_trip), AK_T(rec_insert_rejects_missing_key),
             AK_T(rec_latest_by_key), AK_T(rec_find_completed_window_edges),
             AK_T(rec_list_order_and_filters), AK_T(deliveries_history),
             AK_T(transaction_rollback_and_commit), AK_T(reader_sees_committed_rows_beside_writer),
             AK_T(crash_after_commit_keeps_rows))
