/* test_store_rb.c — schema v5 of the store: runbook instances, steps, the run record, notes,
 * and the full-text search over notes, runbooks and maintenance records with their payloads. */
#include <sqlite3.h> /* only to turn a database back into version 4 */
#include <stdbool.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_store.h"
#include "asakai/ak_util.h"
#include "ak_test.h"

#define DAY_MS (24LL * 3600 * 1000)
#define T0 1796907600000LL /* 2026-12-10T02:00:00+09:00 */

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

static struct ak_rb_step_row mkstep(int seq, const char *id, const char *type, int64_t due,
                                    const char *cmd)
{
    struct ak_rb_step_row s = {0};
    s.seq = seq;
    s.step_id = (char *)id;
    s.title = (char *)id;
    s.owner = (char *)(seq == 0 ? "cs" : "sre");
    s.type = (char *)type;
    s.command = (char *)cmd;
    s.body = (char *)"Why: so that nobody is surprised.";
    s.due_at = due;
    return s;
}

static struct ak_rb_instance mkrb(const char *tmpl, const char *title, int64_t at)
{
    struct ak_rb_instance r = {0};
    r.template_name = (char *)tmpl;
    r.title = (char *)title;
    r.owner = (char *)"sre";
    r.at_ms = at;
    r.tz = (char *)"Asia/Tokyo";
    r.vars = (char *)"{\"cluster\":\"prod-redis\"}";
    r.created_by = (char *)"alice";
    r.created_at = at - 20 * DAY_MS;
    r.template_text = (char *)"---\ntitle: x\n---\n";
    return r;
}

static int64_t add_rb(struct ak_store *st, const char *tmpl, const char *title, int64_t at,
                      int64_t maint_id)
{
    struct ak_rb_instance r = mkrb(tmpl, title, at);
    struct ak_rb_step_row steps[] = {
        mkstep(0, "notify-cs", "task", at - 14 * DAY_MS, NULL),
        mkstep(1, "check-replicas", "check", at - 3600000, "redis-cli -h prod-redis info"),
        mkstep(2, "failover", "run", at, "aws elasticache test-failover"),
    };
    int64_t id = 0;
    r.maint_id = maint_id;
    if (ak_store_rb_create(st, &r, steps, 3, &id) != AK_OK)
        return 0;
    return id;
}

static void free_rbs(struct ak_rb_instance *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ak_rb_instance_release(&v[i]);
    free(v);
}

static void free_steps(struct ak_rb_step_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ak_rb_step_row_release(&v[i]);
    free(v);
}

static void free_hits(struct ak_search_hit *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ak_search_hit_release(&v[i]);
    free(v);
}

AK_TEST(rb_create_get_round_trip)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_rb_instance got = {0};
    struct ak_rb_step_row *s = NULL;
    size_t n = 0;
    AK_ASSERT(st != NULL);
    int64_t id = add_rb(st, "elasticache-node-replacement", "ElastiCache replacement", T0, 0);
    AK_ASSERT(id > 0);
    AK_ASSERT_OK(ak_store_rb_get(st, id, &got));
    AK_ASSERT_EQ_INT(got.id, id);
    AK_ASSERT_STR(got.template_name, "elasticache-node-replacement");
    AK_ASSERT_STR(got.title, "ElastiCache replacement");
    AK_ASSERT_STR(got.owner, "sre");
    AK_ASSERT_EQ_INT(got.at_ms, T0);
    AK_ASSERT_STR(got.tz, "Asia/Tokyo");
    AK_ASSERT_STR(got.vars, "{\"cluster\":\"prod-redis\"}");
    AK_ASSERT_EQ_INT(got.maint_id, 0);
    AK_ASSERT_STR(got.status, "open");
    AK_ASSERT_STR(got.created_by, "alice");
    AK_ASSERT_EQ_INT(got.created_at, T0 - 20 * DAY_MS);
    AK_ASSERT_STR(got.template_text, "---\ntitle: x\n---\n");
    ak_rb_instance_release(&got);
    AK_ASSERT_OK(ak_store_rb_steps(st, id, &s, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_STR(s[0].step_id, "notify-cs");
    AK_ASSERT_STR(s[0].owner, "cs");
    AK_ASSERT_STR(s[0].type, "task");
    AK_ASSERT_NULL(s[0].command);
    AK_ASSERT_EQ_INT(s[0].due_at, T0 - 14 * DAY_MS);
    AK_ASSERT_STR(s[0].state, "pending");
    AK_ASSERT_EQ_INT(s[0].runbook_id, id);
    AK_ASSERT_STR(s[1].command, "redis-cli -h prod-redis info");
    AK_ASSERT_EQ_INT(s[2].seq, 2);
    AK_ASSERT_STR(s[2].step_id, "failover");
    free_steps(s, n);
    AK_ASSERT_EQ_INT(ak_store_rb_get(st, id + 1, &got), AK_ENOTFOUND);
    ak_store_close(st);
}

AK_TEST(rb_create_rejects_bad_input_atomically)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_rb_instance r = mkrb("t", "T", T0), *v = NULL;
    struct ak_rb_step_row steps[] = {mkstep(0, "a", "task", T0, NULL),
                                     mkstep(1, "a", "task", T0, NULL)};
    size_t n = 9;
    int64_t id = -1;
    AK_ASSERT(st != NULL);
    /* a duplicate step id: nothing of the instance stays */
    AK_ASSERT_EQ_INT(ak_store_rb_create(st, &r, steps, 2, &id), AK_EEXIST);
    AK_ASSERT_EQ_INT(id, -1);
    AK_ASSERT_OK(ak_store_rb_list(st, true, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free_rbs(v, n);
    r.maint_id = 999; /* no such record */
    AK_ASSERT_EQ_INT(ak_store_rb_create(st, &r, steps, 1, &id), AK_ENOTFOUND);
    r.maint_id = 0;
    r.tz = NULL;
    AK_ASSERT_EQ_INT(ak_store_rb_create(st, &r, steps, 1, &id), AK_EINVAL);
    r.tz = (char *)"UTC";
    r.status = (char *)"later";
    AK_ASSERT_EQ_INT(ak_store_rb_create(st, &r, steps, 1, &id), AK_EINVAL);
    r.status = NULL;
    steps[0].type = NULL;
    AK_ASSERT_EQ_INT(ak_store_rb_create(st, &r, steps, 1, &id), AK_EINVAL);
    ak_store_close(st);
}

AK_TEST(rb_list_status_and_maint_link)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_maint_rec rec = {0};
    struct ak_rb_instance *v = NULL;
    size_t n = 0;
    int64_t rec_id = 0;
    AK_ASSERT(st != NULL);
    rec.key = (char *)"k1";
    rec.status = (char *)"scheduled";
    AK_ASSERT_OK(ak_store_rec_insert(st, &rec, &rec_id));
    int64_t a = add_rb(st, "release", "Release 42", T0, 0);
    int64_t b = add_rb(st, "ec2-retirement", "Retire i-1", T0 + DAY_MS, rec_id);
    int64_t c = add_rb(st, "release", "Release 41", T0 - DAY_MS, 0);
    AK_ASSERT(a && b && c);
    AK_ASSERT_OK(ak_store_rb_set_status(st, c, "done"));
    AK_ASSERT_EQ_INT(ak_store_rb_set_status(st, c, "finished"), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_rb_set_status(st, 999, "done"), AK_ENOTFOUND);
    AK_ASSERT_OK(ak_store_rb_list(st, false, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 2); /* open only, newest event time first */
    AK_ASSERT_EQ_INT(v[0].id, b);
    AK_ASSERT_EQ_INT(v[1].id, a);
    free_rbs(v, n);
    AK_ASSERT_OK(ak_store_rb_list(st, true, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_EQ_INT(v[2].id, c);
    AK_ASSERT_STR(v[2].status, "done");
    free_rbs(v, n);
    AK_ASSERT_OK(ak_store_rb_list(st, true, 1, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    free_rbs(v, n);
    AK_ASSERT_OK(ak_store_rb_list_maint(st, rec_id, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, b);
    AK_ASSERT_EQ_INT(v[0].maint_id, rec_id);
    free_rbs(v, n);
    AK_ASSERT_OK(ak_store_rb_list_maint(st, rec_id + 1, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free_rbs(v, n);
    ak_store_close(st);
}

AK_TEST(rb_steps_due_and_update)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_rb_step_row *s = NULL, upd = {0};
    size_t n = 0;
    AK_ASSERT(st != NULL);
    int64_t a = add_rb(st, "release", "Release 42", T0, 0);
    int64_t b = add_rb(st, "release", "Release 43", T0 + 7 * DAY_MS, 0);
    AK_ASSERT(a && b);
    /* by T0 - 1h: a's notify-cs (T0-14d), b's notify-cs (T0-7d), a's check (T0-1h) */
    AK_ASSERT_OK(ak_store_rb_steps_due(st, T0 - 3600000, 0, &s, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_EQ_INT(s[0].runbook_id, a);
    AK_ASSERT_STR(s[0].step_id, "notify-cs");
    AK_ASSERT_EQ_INT(s[1].runbook_id, b);
    AK_ASSERT_STR(s[1].step_id, "notify-cs");
    AK_ASSERT_STR(s[2].step_id, "check-replicas");
    free_steps(s, n);
    upd.runbook_id = a;
    upd.step_id = (char *)"notify-cs";
    upd.state = (char *)"done";
    upd.done_at = T0 - 15 * DAY_MS;
    upd.done_by = (char *)"bob";
    upd.note = (char *)"posted on the status page";
    AK_ASSERT_OK(ak_store_rb_step_update(st, &upd));
    upd.step_id = (char *)"nope";
    AK_ASSERT_EQ_INT(ak_store_rb_step_update(st, &upd), AK_ENOTFOUND);
    upd.step_id = (char *)"notify-cs";
    upd.state = (char *)"finished";
    AK_ASSERT_EQ_INT(ak_store_rb_step_update(st, &upd), AK_EINVAL);
    AK_ASSERT_OK(ak_store_rb_set_status(st, b, "canceled"));
    AK_ASSERT_OK(ak_store_rb_steps_due(st, T0 - 3600000, 0, &s, &n));
    AK_ASSERT_EQ_INT(n, 1); /* done and canceled ones are gone */
    AK_ASSERT_STR(s[0].step_id, "check-replicas");
    free_steps(s, n);
    AK_ASSERT_OK(ak_store_rb_steps(st, a, &s, &n));
    AK_ASSERT_STR(s[0].state, "done");
    AK_ASSERT_EQ_INT(s[0].done_at, T0 - 15 * DAY_MS);
    AK_ASSERT_STR(s[0].done_by, "bob");
    AK_ASSERT_STR(s[0].note, "posted on the status page");
    AK_ASSERT_STR(s[1].state, "pending");
    free_steps(s, n);
    ak_store_close(st);
}

AK_TEST(rb_events_in_order)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_rb_event e = {0}, *v = NULL;
    size_t n = 0;
    int64_t id1 = 0, id2 = 0;
    AK_ASSERT(st != NULL);
    int64_t a = add_rb(st, "release", "Release 42", T0, 0);
    e.runbook_id = a;
    e.step_id = (char *)"failover";
    e.action = (char *)"run";
    e.by = (char *)"alice";
    e.at = T0 + 5;
    e.exit_code = 2;
    e.duration_ms = 1234;
    e.output = (char *)"error: [REDACTED]";
    AK_ASSERT_OK(ak_store_rb_event_add(st, &e, &id1));
    e.action = (char *)"rollback";
    e.step_id = (char *)"restore";
    e.exit_code = 0;
    e.at = T0 + 1; /* an earlier clock still lands after: the record is in arrival order */
    e.output = NULL;
    e.note = (char *)"undo";
    AK_ASSERT_OK(ak_store_rb_event_add(st, &e, &id2));
    AK_ASSERT(id2 > id1);
    e.runbook_id = a + 100;
    AK_ASSERT_EQ_INT(ak_store_rb_event_add(st, &e, NULL), AK_ENOTFOUND);
    e.runbook_id = a;
    e.action = NULL;
    AK_ASSERT_EQ_INT(ak_store_rb_event_add(st, &e, NULL), AK_EINVAL);
    AK_ASSERT_OK(ak_store_rb_events(st, a, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(v[0].id, id1);
    AK_ASSERT_STR(v[0].action, "run");
    AK_ASSERT_STR(v[0].by, "alice");
    AK_ASSERT_EQ_INT(v[0].exit_code, 2);
    AK_ASSERT_EQ_INT(v[0].duration_ms, 1234);
    AK_ASSERT_STR(v[0].output, "error: [REDACTED]");
    AK_ASSERT_STR(v[1].action, "rollback");
    AK_ASSERT_NULL(v[1].output);
    AK_ASSERT_STR(v[1].note, "undo");
    for (size_t i = 0; i < n; i++)
        ak_rb_event_release(&v[i]);
    free(v);
    ak_store_close(st);
}

AK_TEST(notes_by_tag_and_link)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_note nt = {0}, got = {0}, *v = NULL;
    size_t n = 0;
    int64_t id1 = 0, id2 = 0, id3 = 0;
    AK_ASSERT(st != NULL);
    int64_t rb = add_rb(st, "release", "Release 42", T0, 0);
    nt.text = (char *)"failover took 40 s";
    nt.tags = (char *)" ElastiCache, replacement,,";
    nt.author = (char *)"alice";
    nt.created_at = 1000;
    nt.runbook_id = rb;
    AK_ASSERT_OK(ak_store_note_add(st, &nt, &id1));
    nt.text = (char *)"minor upgrade fine";
    nt.tags = (char *)"rds";
    nt.runbook_id = 0;
    nt.created_at = 2000;
    AK_ASSERT_OK(ak_store_note_add(st, &nt, &id2));
    nt.tags = (char *)"replacement-plan";
    nt.created_at = 3000;
    AK_ASSERT_OK(ak_store_note_add(st, &nt, &id3));
    AK_ASSERT_OK(ak_store_note_get(st, id1, &got));
    AK_ASSERT_STR(got.tags, "elasticache,replacement");
    AK_ASSERT_STR(got.text, "failover took 40 s");
    AK_ASSERT_STR(got.author, "alice");
    AK_ASSERT_EQ_INT(got.runbook_id, rb);
    AK_ASSERT_EQ_INT(got.maint_id, 0);
    ak_note_release(&got);
    /* a whole tag, not a part of one */
    AK_ASSERT_OK(ak_store_note_list(st, "Replacement", 0, 0, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, id1);
    for (size_t i = 0; i < n; i++)
        ak_note_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_note_list(st, NULL, 0, 0, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT_EQ_INT(v[0].id, id3); /* newest first */
    AK_ASSERT_EQ_INT(v[2].id, id1);
    for (size_t i = 0; i < n; i++)
        ak_note_release(&v[i]);
    free(v);
    AK_ASSERT_OK(ak_store_note_list(st, NULL, 0, rb, 0, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    for (size_t i = 0; i < n; i++)
        ak_note_release(&v[i]);
    free(v);
    AK_ASSERT_EQ_INT(ak_store_note_list(st, "a,b", 0, 0, 0, &v, &n), AK_EINVAL);
    nt.tags = (char *)"bad'tag";
    AK_ASSERT_EQ_INT(ak_store_note_add(st, &nt, NULL), AK_EINVAL);
    nt.tags = NULL;
    nt.maint_id = 77;
    AK_ASSERT_EQ_INT(ak_store_note_add(st, &nt, NULL), AK_ENOTFOUND);
    nt.maint_id = 0;
    nt.text = (char *)"";
    AK_ASSERT_EQ_INT(ak_store_note_add(st, &nt, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_store_note_get(st, 999, &got), AK_ENOTFOUND);
    ak_store_close(st);
}

/* ---- search -------------------------------------------------------------------------------- */

static const char sns_body[] =
    "{\"Type\" : \"Notification\", \"MessageId\" : \"5f3c2d6e-1b2a-4c3d-9e8f-a1b2c3d4e5f6\", "
    "\"TopicArn\" : \"arn:aws:sns:ap-northeast-1:123456789012:elasticache-events\", "
    "\"Message\" : \"{\\\"ElastiCache:NodeReplacementScheduled\\\":\\\"prod-redis\\\","
    "\\\"Cache Cluster ID\\\":\\\"prod-redis-001\\\",\\\"Cache Node ID\\\":\\\"0001\\\","
    "\\\"Message\\\":\\\"The node with Cache Cluster ID: prod-redis-001, Node ID: 0001 is "
    "scheduled for replacement during the maintenance window\\\"}\"}";

struct corpus {
    int64_t rec_ec, rec_ec2, rb, note, note_rds;
};

static int seed(struct ak_store *st, struct corpus *c)
{
    static char *res_ec[] = {(char *)"prod-redis-001"}, *res_ec2[] = {(char *)"i-0abc"};
    struct ak_maint_rec ec = {0}, ec2 = {0};
    struct ak_raw raw = {0};
    struct ak_delivery d = {0};
    struct ak_note nt = {0};
    struct ak_rb_event e = {0};
    int64_t raw_id = 0;
    bool dup = false;
    int r;

    raw.channel = (char *)"sns";
    raw.dedupe_id = (char *)"sns:5f3c2d6e";
    raw.received_at = T0 - 30 * DAY_MS;
    raw.body = (char *)sns_body;
    raw.body_len = strlen(sns_body);
    if ((r = ak_store_raw_put(st, &raw, &raw_id, &dup)) < 0)
        return r;
    ec.key = (char *)"elasticache:prod-redis-001";
    ec.status = (char *)"completed";
    ec.service = (char *)"elasticache";
    ec.kind = (char *)"node-replacement";
    ec.title = (char *)"ElastiCache node replacement";
    ec.description = (char *)"Node 0001 of prod-redis-001 will be replaced.";
    ec.resources = res_ec;
    ec.n_resources = 1;
    ec.window_start = T0 - 20 * DAY_MS;
    ec.first_seen = T0 - 30 * DAY_MS;
    if ((r = ak_store_rec_insert(st, &ec, &c->rec_ec)) < 0)
        return r;
    d.rec_id = c->rec_ec;
    d.raw_id = raw_id;
    d.channel = (char *)"sns";
    d.at = T0 - 30 * DAY_MS;
    d.change = (char *)"created";
    if ((r = ak_store_delivery_add(st, &d, NULL)) < 0)
        return r;
    ec2.key = (char *)"health:ec2";
    ec2.status = (char *)"scheduled";
    ec2.service = (char *)"ec2";
    ec2.kind = (char *)"instance-retirement";
    ec2.title = (char *)"EC2 instance retirement";
    ec2.description = (char *)"Plan a replacement instance before the retirement.";
    ec2.resources = res_ec2;
    ec2.n_resources = 1;
    ec2.deadline = T0 + 5 * DAY_MS;
    if ((r = ak_store_rec_insert(st, &ec2, &c->rec_ec2)) < 0)
        return r;
    c->rb = add_rb(st, "elasticache-node-replacement", "ElastiCache node replacement: prod-redis",
                   T0 - 20 * DAY_MS, c->rec_ec);
    if (!c->rb)
        return AK_EINTERNAL;
    e.runbook_id = c->rb;
    e.step_id = (char *)"check-replicas";
    e.action = (char *)"check";
    e.at = T0 - 20 * DAY_MS;
    e.output = (char *)"role:master connected_slaves:2";
    if ((r = ak_store_rb_event_add(st, &e, NULL)) < 0)
        return r;
    nt.text = (char *)"ElastiCache replacement gotcha\nThe app reconnected only after we raised "
                      "the client timeout; the failover itself took 40 s.";
    nt.tags = (char *)"elasticache,replacement";
    nt.maint_id = c->rec_ec;
    nt.runbook_id = c->rb;
    nt.created_at = T0 - 19 * DAY_MS;
    if ((r = ak_store_note_add(st, &nt, &c->note)) < 0)
        return r;
    nt.text = (char *)"RDS minor upgrade: no replacement of the instance was needed.";
    nt.tags = (char *)"rds";
    nt.maint_id = nt.runbook_id = 0;
    nt.created_at = T0 - 2 * DAY_MS;
    return ak_store_note_add(st, &nt, &c->note_rds);
}

static int search(struct ak_store *st, const char *q, const char *kind, const char *tag,
                  struct ak_search_hit **v, size_t *n)
{
    struct ak_search_q sq = {.query = q, .kind = kind, .tag = tag};
    return ak_store_search(st, &sq, v, n);
}

static bool has_hit(const struct ak_search_hit *v, size_t n, const char *kind, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].kind, kind) == 0 && v[i].id == id)
            return true;
    return false;
}

AK_TEST(search_finds_note_runbook_and_maintenance)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_search_hit *v = NULL;
    struct corpus c = {0};
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(seed(st, &c));
    AK_ASSERT_OK(search(st, "elasticache replacement", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 3); /* both words: not the EC2 record, not the RDS note */
    AK_ASSERT(has_hit(v, n, "note", c.note));
    AK_ASSERT(has_hit(v, n, "runbook", c.rb));
    AK_ASSERT(has_hit(v, n, "maintenance", c.rec_ec));
    for (size_t i = 0; i < n; i++) {
        AK_ASSERT(v[i].rank < 0); /* bm25: lower is better */
        AK_ASSERT(i == 0 || v[i - 1].rank <= v[i].rank);
        AK_ASSERT(strstr(v[i].snippet, "[") && strstr(v[i].snippet, "]"));
        if (strcmp(v[i].kind, "note") == 0) {
            AK_ASSERT_STR(v[i].title, "ElastiCache replacement gotcha");
            AK_ASSERT_STR(v[i].tags, "elasticache,replacement");
            AK_ASSERT_EQ_INT(v[i].at, T0 - 19 * DAY_MS);
        } else if (strcmp(v[i].kind, "runbook") == 0) {
            AK_ASSERT_STR(v[i].title, "ElastiCache node replacement: prod-redis");
            AK_ASSERT_STR(v[i].tags, "elasticache-node-replacement");
            AK_ASSERT_EQ_INT(v[i].at, T0 - 20 * DAY_MS);
        } else {
            AK_ASSERT_STR(v[i].tags, "elasticache");
            AK_ASSERT_EQ_INT(v[i].at, T0 - 20 * DAY_MS);
        }
    }
    free_hits(v, n);
    /* porter stemming: "replaced" finds "replacement" documents too */
    AK_ASSERT_OK(search(st, "replaced", NULL, NULL, &v, &n));
    AK_ASSERT(n >= 4);
    free_hits(v, n);
    ak_store_close(st);
}

AK_TEST(search_specific_terms_rank_the_right_one_first)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_search_hit *v = NULL;
    struct corpus c = {0};
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(seed(st, &c));
    /* a word only the raw SNS payload holds */
    AK_ASSERT_OK(search(st, "elasticache OR NodeReplacementScheduled", NULL, NULL, &v, &n));
    AK_ASSERT(n >= 3);
    AK_ASSERT_STR(v[0].kind, "maintenance");
    AK_ASSERT_EQ_INT(v[0].id, c.rec_ec);
    AK_ASSERT_CONTAINS(v[0].snippet, "[NodeReplacementScheduled]");
    free_hits(v, n);
    /* words of the note */
    AK_ASSERT_OK(search(st, "elasticache OR timeout OR reconnected", NULL, NULL, &v, &n));
    AK_ASSERT(n >= 3);
    AK_ASSERT_STR(v[0].kind, "note");
    AK_ASSERT_EQ_INT(v[0].id, c.note);
    AK_ASSERT_CONTAINS(v[0].snippet, "[reconnected]");
    free_hits(v, n);
    /* the run record's output */
    AK_ASSERT_OK(search(st, "elasticache OR connected_slaves", NULL, NULL, &v, &n));
    AK_ASSERT_STR(v[0].kind, "runbook");
    AK_ASSERT_EQ_INT(v[0].id, c.rb);
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "connected_slaves", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    free_hits(v, n);
    ak_store_close(st);
}

AK_TEST(search_filters)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_search_hit *v = NULL;
    struct ak_search_q q = {.query = "replacement"};
    struct corpus c = {0};
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(seed(st, &c));
    AK_ASSERT_OK(search(st, "replacement", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 5);
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "replacement", "note", NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT(has_hit(v, n, "note", c.note) && has_hit(v, n, "note", c.note_rds));
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "replacement", "maintenance", NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    free_hits(v, n);
    /* tag: notes with it, maintenance of that service, runbooks of that template */
    AK_ASSERT_OK(search(st, "replacement", NULL, "ElastiCache", &v, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT(has_hit(v, n, "note", c.note) && has_hit(v, n, "maintenance", c.rec_ec));
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "replacement", NULL, "elasticache-node-replacement", &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT(has_hit(v, n, "runbook", c.rb));
    free_hits(v, n);
    /* dates: [since, until) on each hit's time */
    q.since_ms = T0 - 3 * DAY_MS;
    AK_ASSERT_OK(ak_store_search(st, &q, &v, &n));
    AK_ASSERT_EQ_INT(n, 2); /* the RDS note (T0-2d) and the EC2 record (deadline T0+5d) */
    AK_ASSERT(has_hit(v, n, "note", c.note_rds) && has_hit(v, n, "maintenance", c.rec_ec2));
    free_hits(v, n);
    q.since_ms = T0 - 20 * DAY_MS;
    q.until_ms = T0 - 19 * DAY_MS;
    AK_ASSERT_OK(ak_store_search(st, &q, &v, &n));
    AK_ASSERT_EQ_INT(n, 2); /* the runbook and the ElastiCache record, not the note at T0-19d */
    AK_ASSERT(has_hit(v, n, "runbook", c.rb) && has_hit(v, n, "maintenance", c.rec_ec));
    free_hits(v, n);
    q.since_ms = q.until_ms = 0;
    q.limit = 1;
    AK_ASSERT_OK(ak_store_search(st, &q, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    free_hits(v, n);
    AK_ASSERT_EQ_INT(search(st, "replacement", "ticket", NULL, &v, &n), AK_EINVAL);
    AK_ASSERT_EQ_INT(search(st, "   ", NULL, NULL, &v, &n), AK_EINVAL);
    ak_store_close(st);
}

AK_TEST(search_malformed_query_retried_as_words)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_search_hit *v = NULL;
    struct corpus c = {0};
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(seed(st, &c));
    /* an unbalanced quote, column filters that are not columns, stray parentheses */
    AK_ASSERT_OK(search(st, "elasticache \"replacement", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 3);
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "arn:aws:sns:ap-northeast-1:123456789012:elasticache-events", NULL,
                        NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, c.rec_ec);
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "failover: timeout", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, c.note);
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "(((", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 0);
    free_hits(v, n);
    ak_store_close(st);
}

AK_TEST(search_index_follows_updates)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_search_hit *v = NULL;
    struct ak_maint_rec rec = {0};
    struct ak_rb_step_row upd = {0};
    struct corpus c = {0};
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(seed(st, &c));
    AK_ASSERT_OK(ak_store_rec_get(st, c.rec_ec2, &rec));
    free(rec.title);
    rec.title = ak_xstrdup("EC2 instance stop for hardware degradation");
    rec.last_seen = 99;
    AK_ASSERT_OK(ak_store_rec_update(st, &rec));
    ak_maint_rec_release(&rec);
    AK_ASSERT_OK(search(st, "degradation", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, c.rec_ec2);
    AK_ASSERT_CONTAINS(v[0].title, "degradation");
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "retirement", "maintenance", NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1); /* still in the description, no longer in the title */
    AK_ASSERT_CONTAINS(v[0].snippet, "[retirement]");
    free_hits(v, n);
    upd.runbook_id = c.rb;
    upd.step_id = (char *)"failover";
    upd.state = (char *)"done";
    upd.note = (char *)"primary moved to the az-c replica";
    AK_ASSERT_OK(ak_store_rb_step_update(st, &upd));
    AK_ASSERT_OK(search(st, "az-c", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_STR(v[0].kind, "runbook");
    free_hits(v, n);
    ak_store_close(st);
}

/* ---- migration ---------------------------------------------------------------------------- */

static int downgrade_to_v4(const char *dir)
{
    char path[512];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/asakai.db", dir);
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "DROP TRIGGER search_rec_ins; DROP TRIGGER search_rec_upd; "
                              "DROP TRIGGER search_dlv_ins; DROP TABLE search_index; "
                              "DROP TABLE notes; DROP TABLE runbook_events; "
                              "DROP TABLE runbook_steps; DROP TABLE runbooks; "
                              "PRAGMA user_version = 4;", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

AK_TEST(migrate_v4_to_v5_keeps_and_indexes_data)
{
    struct ak_store *st = open_w(AK_TMPDIR());
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_search_hit *v = NULL;
    struct ak_maint_rec got = {0};
    struct corpus c = {0};
    size_t n = 0;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(seed(st, &c));
    ak_store_close(st);
    AK_ASSERT_EQ_INT(downgrade_to_v4(AK_TMPDIR()), SQLITE_OK);
    st = NULL;
    AK_ASSERT_EQ_INT(ak_store_open(AK_TMPDIR(), AK_STORE_READ, &st, &err), AK_EUNSUPPORTED);
    AK_ASSERT_CONTAINS(err.buf, "schema version 4, not 5");
    st = open_w(AK_TMPDIR());
    AK_ASSERT(st != NULL);
    AK_ASSERT_EQ_INT(ak_store_schema_version(st), 5);
    AK_ASSERT_OK(ak_store_rec_get(st, c.rec_ec, &got));
    AK_ASSERT_STR(got.title, "ElastiCache node replacement");
    ak_maint_rec_release(&got);
    /* the records of v4, with their payloads, are in the new index */
    AK_ASSERT_OK(search(st, "NodeReplacementScheduled", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, c.rec_ec);
    free_hits(v, n);
    AK_ASSERT_OK(search(st, "retirement", NULL, NULL, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].id, c.rec_ec2);
    free_hits(v, n);
    /* and the new tables work beside them */
    AK_ASSERT(add_rb(st, "release", "Release 44", T0, c.rec_ec) > 0);
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST_MAIN(AK_T(rb_create_get_round_trip), AK_T(rb_create_rejects_bad_input_atomically),
             AK_T(rb_list_status_and_maint_link), AK_T(rb_steps_due_and_update),
             AK_T(rb_events_in_order), AK_T(notes_by_tag_and_link),
             AK_T(search_finds_note_runbook_and_maintenance),
             AK_T(search_specific_terms_rank_the_right_one_first), AK_T(search_filters),
             AK_T(search_malformed_query_retried_as_words), AK_T(search_index_follows_updates),
             AK_T(migrate_v4_to_v5_keeps_and_indexes_data))
