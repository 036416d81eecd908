/* test_report.c — the morning report on a fixed clock: every seeded record, runbook step,
 * coverage row and audit finding lands in the expected quadrant with the expected rule, the
 * rules move with report.*, and the Markdown / HTML renderings have their sections, escaped. */
#include <stdlib.h>
#include <string.h>

#include "ak_test.h"
#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_report.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"

#define H (3600000LL)
#define D (24 * H)
/* 2026-12-01T00:00:00Z = Tue Dec 1 09:00 JST: the report time of every test */
#define AT 1796083200000LL

struct fx {
    struct ak_cfg cfg;
    struct ak_store *st;
    int64_t rec[16];
    int64_t rb;
};

static int64_t add_rec(struct ak_store *st, const char *service, const char *kind,
                       const char *res, int64_t deadline, bool required, bool important,
                       const char *why, int64_t first_seen, const char *title)
{
    char *resv[1] = {(char *)res};
    struct ak_maint_rec r = {
        .key = (char *)res, .source = (char *)"aws.health", .service = (char *)service,
        .kind = (char *)kind, .status = (char *)"scheduled", .account = (char *)"123456789012",
        .region = (char *)"ap-northeast-1", .resources = resv, .n_resources = 1,
        .deadline = deadline, .window_start = deadline, .window_end = deadline + H,
        .title = (char *)title, .first_seen = first_seen, .last_seen = first_seen,
        .required = required, .important = important, .important_why = (char *)why,
    };
    int64_t id = 0;
    if (ak_store_rec_insert(st, &r, &id) < 0)
        return -1;
    struct ak_change c = {.rec_id = id, .kind = (char *)"created", .key = (char *)"created",
                          .summary = (char *)"created", .at = first_seen};
    bool dup;
    int64_t cid;
    if (ak_store_change_add(st, &c, &cid, &dup) < 0)
        return -1;
    return id;
}

static void strlist_set(struct ak_cfg_strlist *l, const char *v)
{
    l->v = ak_xcalloc(1, sizeof(char *));
    l->v[0] = ak_xstrdup(v);
    l->n = 1;
}

/* The seeded world; returns false when a store call failed. */
static bool fx_init(struct fx *f)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    char *policy = ak_test_read_file("tests/data/iam/AUD-01-fires.json", NULL);
    bool ok = false;

    memset(f, 0, sizeof(*f));
    ak_cfg_defaults(&f->cfg);
    free(f->cfg.digest_tz);
    f->cfg.digest_tz = ak_xstrdup("Asia/Tokyo");
    strlist_set(&f->cfg.important_rules, "service=elasticache");
    f->cfg.inventory = ak_xcalloc(1, sizeof(*f->cfg.inventory));
    f->cfg.inventory[0].service = ak_xstrdup("rds");
    f->cfg.inventory[0].account = ak_xstrdup("210987654321");
    f->cfg.inventory[0].region = ak_xstrdup("us-east-1");
    f->cfg.n_inventory = 1;
    f->cfg.sts_roles = ak_xcalloc(1, sizeof(*f->cfg.sts_roles));
    f->cfg.sts_roles[0].name = ak_xstrdup("deploy");
    f->cfg.sts_roles[0].account_id = ak_xstrdup("123456789012");
    f->cfg.sts_roles[0].policy_json = policy;
    f->cfg.n_sts_roles = 1;
    if (!policy || ak_store_open(AK_TMPDIR(), AK_STORE_WRITE, &f->st, &err) < 0 ||
        ak_store_begin(f->st) < 0)
        goto out;
    int64_t old = AT - 20 * D;
    /* 0 forced apply in 2 days; 1 important (rescheduled) tomorrow; 2 unimportant in 2 days */
    f->rec[0] = add_rec(f->st, "rds", "hardware-maintenance", "prod-db-1", AT + 2 * D, true, true,
                        "required", old, "RDS hardware");
    f->rec[1] = add_rec(f->st, "ec2", "instance-reboot", "i-0resched0001", AT + 1 * D, false, true,
                        "rescheduled", old, "reboot");
    f->rec[2] = add_rec(f->st, "ec2", "instance-reboot", "i-0minor00001", AT + 2 * D, false, false,
                        NULL, old, "minor");
    /* 3 important later; 4 a recurrence beyond the horizon; 5 unimportant later */
    f->rec[3] = add_rec(f->st, "rds", "minor-upgrade", "prod-db-2", AT + 10 * D, false, true,
                        "required", old, "upgrade");
    f->rec[4] = add_rec(f->st, "ec2", "instance-retirement", "i-0again00001", AT + 30 * D, false,
                        false, NULL, old, "again");
    f->rec[5] = add_rec(f->st, "ec2", "instance-reboot", "i-0later00001", AT + 12 * D, false,
                        false, NULL, old, "later <script>alert(1)</script> *bold* [x](http://e)");
    /* 6 arrived 2 h ago, 40 days out; 7 old and 40 days out (not in the report);
     * 8 elasticache (important by the explicit rule) in 5 days */
    f->rec[6] = add_rec(f->st, "ec2", "instance-stop", "i-0fresh00001", AT + 40 * D, false, false,
                        NULL, AT - 2 * H, "fresh");
    f->rec[7] = add_rec(f->st, "ec2", "instance-stop", "i-0quiet00001", AT + 40 * D, false, false,
                        NULL, old, "quiet");
    f->rec[8] = add_rec(f->st, "elasticache", "node-replacement", "prod-redis-001", AT + 5 * D,
                        false, false, NULL, old, "replace");
    for (int i = 0; i < 9; i++)
        if (f->rec[i] <= 0)
            goto out;
    struct ak_maint_rec again = {0};
    if (ak_store_rec_get(f->st, f->rec[4], &again) < 0)
        goto out;
    again.recurrence_of = f->rec[2];
    int r = ak_store_rec_update(f->st, &again);
    ak_maint_rec_release(&again);
    if (r < 0)
        goto out;
    struct ak_rb_instance rb = {
        .template_name = (char *)"elasticache-node-replacement",
        .title = (char *)"ElastiCache node replacement", .owner = (char *)"sre",
        .at_ms = AT + 5 * D, .tz = (char *)"Asia/Tokyo", .vars = (char *)"{}",
        .status = (char *)"open", .created_by = (char *)"alice", .created_at = old,
        .template_text = (char *)"---\ntitle: x\n---\n",
    };
    struct ak_rb_step_row s[5] = {
        {.seq = 0, .step_id = (char *)"notify-cs", .title = (char *)"Publish the maintenance notice",
         .owner = (char *)"cs", .type = (char *)"task", .due_at = AT + 1 * D},
        {.seq = 1, .step_id = (char *)"prepare", .title = (char *)"Prepare the maintenance page",
         .owner = (char *)"sre", .type = (char *)"task", .due_at = AT + 2 * D},
        {.seq = 2, .step_id = (char *)"announce", .title = (char *)"Announce internally",
         .owner = (char *)"sre", .type = (char *)"task", .due_at = AT - 1 * D},
        {.seq = 3, .step_id = (char *)"execute", .title = (char *)"Replace the node",
         .owner = (char *)"sre", .type = (char *)"task", .due_at = AT + 5 * D},
        {.seq = 4, .step_id = (char *)"book-room", .title = (char *)"Book the war room",
         .owner = (char *)"sre", .type = (char *)"task", .due_at = AT + 1 * D},
    };
    for (int i = 0; i < 5; i++)
        s[i].state = (char *)"pending";
    if (ak_store_rb_create(f->st, &rb, s, 5, &f->rb) < 0)
        goto out;
    s[4].runbook_id = f->rb;
    s[4].state = (char *)"done";
    s[4].done_at = AT - H;
    s[4].done_by = (char *)"bob";
    if (ak_store_rb_step_update(f->st, &s[4]) < 0 || ak_store_commit(f->st) < 0)
        goto out;
    ok = true;
out:
    if (!ok)
        printf("# fixture: %s\n", err.buf);
    ak_buf_release(&err);
    return ok;
}

static void fx_release(struct fx *f)
{
    ak_store_close(f->st);
    ak_cfg_release(&f->cfg);
}

/* The item of a quadrant whose title contains needle, NULL when none. */
static const struct ak_json *find_in(const struct ak_json *rep, const char *q, const char *needle)
{
    const struct ak_json *a = ak_json_get(ak_json_get(rep, "quadrants"), q);
    for (size_t i = 0; i < ak_json_len(a); i++) {
        const char *t = ak_json_get_str(ak_json_at(a, i), "title");
        if (t && strstr(t, needle))
            return ak_json_at(a, i);
    }
    return NULL;
}

/* Which quadrant holds needle ("" when none, "many" when more than one). */
static const char *quadrant_of(const struct ak_json *rep, const char *needle)
{
    static const char *qs[] = {"do-now", "plan", "delegate", "note"};
    const char *got = "";
    for (size_t i = 0; i < 4; i++)
        if (find_in(rep, qs[i], needle))
            got = *got ? "many" : qs[i];
    return got;
}

#define EXPECT(rep, needle, q, why_part)                                                          \
    do {                                                                                           \
        AK_ASSERT_STR(quadrant_of(rep, needle), q);                                                \
        AK_ASSERT_CONTAINS(ak_json_get_str(find_in(rep, q, needle), "why"), why_part);             \
    } while (0)

static struct ak_json *build(struct fx *f)
{
    struct ak_json *rep = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_report_build(&f->cfg, f->st, AT, NULL, &rep, &err);
    if (r < 0)
        printf("# build: %s\n", err.buf);
    ak_buf_release(&err);
    return rep;
}

AK_TEST(items_land_in_their_quadrant_with_their_rule)
{
    struct fx f;
    AK_ASSERT(fx_init(&f));
    struct ak_json *rep = build(&f);
    AK_ASSERT(rep);

    EXPECT(rep, "prod-db-1", "do-now", "forced apply in 2 days");
    EXPECT(rep, "i-0resched0001", "do-now", "within report.urgent_within (3d), and important "
                                            "(rescheduled)");
    EXPECT(rep, "i-0minor00001", "delegate", "but not important");
    EXPECT(rep, "prod-db-2", "plan", "important (required), deadline in 10 days: later than");
    EXPECT(rep, "i-0again00001", "plan", "a recurrence of #");
    EXPECT(rep, "i-0later00001", "note", "not important and not within");
    EXPECT(rep, "prod-redis-001", "plan", "rule service=elasticache");
    EXPECT(rep, "i-0fresh00001", "note", "changed overnight (created)");
    AK_ASSERT_STR(quadrant_of(rep, "i-0quiet00001"), "");
    /* runbook steps: another team's soon, our own soon, overdue; later and done ones absent */
    EXPECT(rep, "Publish the maintenance notice", "delegate", "owned by team cs");
    EXPECT(rep, "Prepare the maintenance page", "do-now", "the runbook's own team");
    EXPECT(rep, "Announce internally", "do-now", "overdue: was due Nov 30 09:00 JST");
    AK_ASSERT_STR(quadrant_of(rep, "Replace the node"), "");
    AK_ASSERT_STR(quadrant_of(rep, "Book the war room"), "");
    /* the inventory's RDS in an account nobody polls is a blind spot; the open trust policy is
     * a critical finding */
    EXPECT(rep, "blind spot: RDS in us-east-1", "plan", "a blind spot");
    EXPECT(rep, "role deploy: AUD-01", "do-now", "critical CI-auth finding");

    const struct ak_json *step = find_in(rep, "delegate", "Publish the maintenance notice");
    AK_ASSERT_STR(ak_json_get_str(step, "kind"), "runbook-step");
    AK_ASSERT_STR(ak_json_get_str(step, "owner"), "cs");
    AK_ASSERT_STR(ak_json_get_str(step, "due"), "2026-12-02T00:00:00Z");
    AK_ASSERT_STR(ak_json_get_str(step, "when"), "Dec 2 09:00 JST (in 24 hours)");
    AK_ASSERT_CONTAINS(ak_json_get_str(step, "detail"), "ElastiCache node replacement");
    const struct ak_json *m = find_in(rep, "do-now", "prod-db-1");
    AK_ASSERT_STR(ak_json_get_str(m, "kind"), "maintenance");
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(m, "id")), f.rec[0]);
    AK_ASSERT_STR(ak_json_get_str(m, "link"), "/api/v1/maintenance/1");
    ak_json_free(rep);
    fx_release(&f);
}

/* The newest daily monitoring review (metrics.db in the data dir) lands in the quadrants by its
 * kind and urgency; a review older than two days is only a warning. */
static bool put_review(const char *dir, int64_t at, const char *json)
{
    struct ak_store *ms = NULL;
    struct ak_buf err = AK_BUF_INIT(512);
    bool ok = ak_store_open_metrics(dir, AK_STORE_WRITE, &ms, &err) == AK_OK &&
              ak_store_begin(ms) == AK_OK && ak_store_review_put(ms, at, json) == AK_OK &&
              ak_store_commit(ms) == AK_OK;
    if (!ok)
        printf("# put_review: %s\n", err.buf);
    ak_store_close(ms);
    ak_buf_release(&err);
    return ok;
}

AK_TEST(monitoring_review_findings_in_quadrants)
{
    static const char rev[] =
        "{\"findings\":["
        "{\"kind\":\"days-to-limit\",\"service\":\"db\",\"days\":2.5,\"series\":\"a\","
        "\"text\":\"disk / on db-1 fills in ~2.5 days (2-3)\",\"link\":\"/chart?series=a\"},"
        "{\"kind\":\"days-to-limit\",\"service\":\"api\",\"days\":11,\"series\":\"b\","
        "\"text\":\"memory on api-1 grows 1.8 %/day; reaches MemTotal in ~11 days (8-15)\"},"
        "{\"kind\":\"growth\",\"service\":\"worker\",\"series\":\"c\","
        "\"text\":\"process_resident_memory_bytes of worker on w-1 grows 3.2 %/day\"},"
        "{\"kind\":\"level-shift\",\"service\":\"api\",\"series\":\"d\","
        "\"text\":\"latency on api rose 35 % after deploy v1.4\"},"
        "{\"kind\":\"gap\",\"service\":\"api\",\"series\":\"e\","
        "\"text\":\"target api-2:8080 of api is down\"},"
        "{\"kind\":\"gap\",\"service\":\"db\",\"series\":\"f\","
        "\"text\":\"node_load1 on db-2 stopped reporting 5 h ago\"}]}";
    struct fx f;
    AK_ASSERT(fx_init(&f));
    free(f.cfg.data_dir);
    f.cfg.data_dir = ak_xstrdup(AK_TMPDIR());
    AK_ASSERT(put_review(f.cfg.data_dir, AT - 3 * H, rev));
    struct ak_json *rep = build(&f);
    AK_ASSERT(rep);
    EXPECT(rep, "disk / on db-1 fills", "do-now", "within the urgent window");
    EXPECT(rep, "reaches MemTotal in ~11 days", "plan", "within the horizon");
    EXPECT(rep, "worker on w-1 grows", "plan", "a leak");
    EXPECT(rep, "rose 35 % after deploy", "plan", "level shift");
    EXPECT(rep, "api-2:8080 of api is down", "delegate", "a target is down");
    EXPECT(rep, "stopped reporting 5 h ago", "note", "stopped or was renamed");
    const struct ak_json *d = find_in(rep, "do-now", "db-1 fills");
    AK_ASSERT_STR(ak_json_get_str(d, "kind"), "monitoring");
    AK_ASSERT_STR(ak_json_get_str(d, "title"), "db: disk / on db-1 fills in ~2.5 days (2-3)");
    AK_ASSERT_STR(ak_json_get_str(d, "due"), "2026-12-03T12:00:00Z");
    AK_ASSERT_STR(ak_json_get_str(d, "link"), "/chart?series=a");
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(ak_json_get(rep, "sections"), "monitoring")), 6);
    ak_json_free(rep);

    fx_release(&f);
}

AK_TEST(monitoring_review_stale_is_a_warning)
{
    struct fx f;
    AK_ASSERT(fx_init(&f));
    free(f.cfg.data_dir);
    f.cfg.data_dir = ak_xstrdup(AK_TMPDIR());
    AK_ASSERT(put_review(f.cfg.data_dir, AT - 3 * D,
                         "{\"findings\":[{\"kind\":\"growth\",\"service\":\"x\","
                         "\"text\":\"old leak\"}]}"));
    struct ak_json *rep = build(&f);
    AK_ASSERT(rep);
    AK_ASSERT_STR(quadrant_of(rep, "old leak"), "");
    const struct ak_json *w = ak_json_get(rep, "warnings");
    bool said = false;
    for (size_t i = 0; i < ak_json_len(w); i++)
        said = said || strstr(ak_json_str(ak_json_at(w, i)), "has not run since");
    AK_ASSERT(said);
    ak_json_free(rep);
    fx_release(&f);
}

AK_TEST(header_counts_order_and_sections)
{
    struct fx f;
    AK_ASSERT(fx_init(&f));
    struct ak_json *rep = build(&f);
    AK_ASSERT(rep);
    const struct ak_json *q = ak_json_get(rep, "quadrants"), *c = ak_json_get(rep, "counts");
    const struct ak_json *s = ak_json_get(rep, "sections");

    AK_ASSERT_STR(ak_json_get_str(rep, "date"), "2026-12-01");
    AK_ASSERT_STR(ak_json_get_str(rep, "date_label"), "2026-12-01 (Tue)");
    AK_ASSERT_STR(ak_json_get_str(rep, "tz"), "Asia/Tokyo");
    AK_ASSERT_STR(ak_json_get_str(rep, "generated_at"), "2026-12-01T00:00:00Z");
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(rep, "rules"), "urgent_within"), "3d");
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(rep, "rules"), "horizon"), "14d");
    /* do-now: announce (overdue), resched (1d), AUD-01... sorted by due, undated last */
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(c, "do-now")), 5);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(c, "plan")), 4);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(c, "delegate")), 2);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(c, "note")), 2);
    const struct ak_json *dn = ak_json_get(q, "do-now");
    AK_ASSERT_EQ_INT(ak_json_len(dn), 5);
    AK_ASSERT_STR(ak_json_get_str(ak_json_at(dn, 0), "title"), "Announce internally");
    AK_ASSERT_CONTAINS(ak_json_get_str(ak_json_at(dn, 1), "title"), "i-0resched0001");
    AK_ASSERT_STR(ak_json_get_str(ak_json_at(dn, 4), "kind"), "audit");
    AK_ASSERT(ak_json_is_null(ak_json_get(ak_json_at(dn, 4), "due")));
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(s, "maintenance")), 7);
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(s, "runbook_steps")), 3);
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(s, "overnight")), 1);
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(s, "coverage")), 1);
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(s, "ci_auth")), 1);
    AK_ASSERT_STR(ak_json_get_str(ak_json_at(ak_json_get(s, "overnight"), 0), "quadrant"), "note");
    ak_json_free(rep);
    fx_release(&f);
}

AK_TEST(rules_follow_report_keys)
{
    struct fx f;
    AK_ASSERT(fx_init(&f));
    f.cfg.report_urgent_within_ms = 1 * D + H;
    f.cfg.report_horizon_ms = 7 * D;
    struct ak_json *rep = build(&f);
    AK_ASSERT(rep);
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(rep, "rules"), "urgent_within"), "1d 1h");
    /* two days out is no longer urgent: the forced apply is planned, the minor one noted */
    EXPECT(rep, "prod-db-1", "plan", "later than report.urgent_within (1d 1h)");
    EXPECT(rep, "i-0minor00001", "note", "not within report.urgent_within (1d 1h)");
    EXPECT(rep, "i-0resched0001", "do-now", "and important (rescheduled)");
    /* beyond the 7-day horizon: out, except the recurrence */
    AK_ASSERT_STR(quadrant_of(rep, "prod-db-2"), "");
    AK_ASSERT_STR(quadrant_of(rep, "i-0later00001"), "");
    EXPECT(rep, "i-0again00001", "plan", "a recurrence of #");
    /* our own step two days out is no longer in the report; the overdue one is */
    AK_ASSERT_STR(quadrant_of(rep, "Prepare the maintenance page"), "");
    EXPECT(rep, "Announce internally", "do-now", "overdue");
    ak_json_free(rep);
    fx_release(&f);
}

AK_TEST(markdown_has_every_section_escaped)
{
    struct fx f;
    AK_ASSERT(fx_init(&f));
    struct ak_json *rep = build(&f);
    struct ak_buf md = AK_BUF_INIT(AK_BUF_NOMAX);
    AK_ASSERT(rep);
    AK_ASSERT_OK(ak_report_render_md(rep, &md));
    const char *heads[] = {"# Morning report — 2026-12-01 (Tue)\n",
                           "\n## Do now — urgent and important (5)\n",
                           "\n## Plan — important, not urgent (4)\n",
                           "\n## Delegate / batch — urgent, less important (2)\n",
                           "\n## Note — the rest (2)\n",
                           "\n## Maintenance (7)\n", "\n## Runbook steps due (3)\n",
                           "\n## Arrived overnight (1)\n", "\n## Coverage gaps (1)\n",
                           "\n## CI-auth audit (1)\n"};
    const char *prev = md.buf;
    for (size_t i = 0; i < AK_ARRAY_SIZE(heads); i++) {
        const char *p = strstr(md.buf, heads[i]);
        if (!p)
            printf("# missing %s in:\n%s\n", heads[i], md.buf);
        AK_ASSERT(p && p >= prev); /* in this order */
        prev = p;
    }
    AK_ASSERT_CONTAINS(md.buf, "- **\\[cs\\] Publish the maintenance notice** — due Dec 2 09:00 "
                               "JST (in 24 hours) — runbook #1 ElastiCache node replacement, "
                               "owner cs\n  - why: due in 24 hours, within "
                               "report.urgent_within (3d), owned by team cs");
    AK_ASSERT_CONTAINS(md.buf, "- `do-now` **RDS hardware maintenance prod-db-1**");
    /* the hostile title of record 5 stays text */
    AK_ASSERT_CONTAINS(md.buf, "later \\<script\\>alert(1)\\</script\\> \\*bold\\* \\[x\\](http");
    AK_ASSERT(!strstr(md.buf, "<script>"));
    ak_buf_release(&md);
    ak_json_free(rep);
    fx_release(&f);
}

AK_TEST(html_is_a_matrix_escaped_without_script)
{
    struct fx f;
    AK_ASSERT(fx_init(&f));
    struct ak_json *rep = build(&f);
    struct ak_buf html = AK_BUF_INIT(AK_BUF_NOMAX), frag = AK_BUF_INIT(AK_BUF_NOMAX);
    AK_ASSERT(rep);
    AK_ASSERT_OK(ak_report_render_html(rep, &html));
    AK_ASSERT(ak_startswith(html.buf, "<!DOCTYPE html>"));
    AK_ASSERT(ak_endswith(html.buf, "</body></html>\n"));
    const char *order[] = {"id=\"do-now\" data-quadrant=\"do-now\" data-count=\"5\"",
                           "id=\"plan\" data-quadrant=\"plan\" data-count=\"4\"",
                           "</tr>\n<tr><th class=\"ak-row\">less important</th>",
                           "id=\"delegate\" data-quadrant=\"delegate\" data-count=\"2\"",
                           "id=\"note\" data-quadrant=\"note\" data-count=\"2\"",
                           "id=\"sec-maintenance\"", "id=\"sec-runbook_steps\"",
                           "id=\"sec-overnight\"", "id=\"sec-coverage\"", "id=\"sec-ci_auth\""};
    const char *prev = html.buf;
    for (size_t i = 0; i < AK_ARRAY_SIZE(order); i++) {
        const char *p = strstr(html.buf, order[i]);
        AK_ASSERT(p && p >= prev);
        prev = p;
    }
    AK_ASSERT_CONTAINS(html.buf, "<a href=\"/api/v1/maintenance/1\"><b class=\"ak-title\">RDS "
                                 "hardware maintenance prod-db-1</b></a> #1");
    AK_ASSERT_CONTAINS(html.buf, "later &lt;script&gt;alert(1)&lt;/script&gt;");
    AK_ASSERT(!strstr(html.buf, "<script"));
    AK_ASSERT(!strstr(html.buf, "http://e\">"));
    AK_ASSERT(!strstr(html.buf, " src="));
    AK_ASSERT_OK(ak_report_render_matrix(rep, &frag));
    AK_ASSERT(ak_startswith(frag.buf, "<style>"));
    AK_ASSERT_CONTAINS(frag.buf, "why: forced apply in 2 days");
    AK_ASSERT(!strstr(frag.buf, "<html"));
    ak_buf_release(&html);
    ak_buf_release(&frag);
    ak_json_free(rep);
    fx_release(&f);
}

AK_TEST(empty_store_and_bad_input)
{
    struct ak_cfg cfg;
    struct ak_store *st = NULL;
    struct ak_json *rep = NULL, *bad = ak_json_new_obj();
    struct ak_buf err = AK_BUF_INIT(512), out = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_cfg_defaults(&cfg);
    AK_ASSERT_OK(ak_store_open(AK_TMPDIR(), AK_STORE_WRITE, &st, &err));
    AK_ASSERT_OK(ak_report_build(&cfg, st, AT, "UTC", &rep, &err));
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(ak_json_get(rep, "counts"), "do-now")), 0);
    AK_ASSERT_STR(ak_json_get_str(rep, "date"), "2026-12-01");
    AK_ASSERT_OK(ak_report_render_md(rep, &out));
    AK_ASSERT_CONTAINS(out.buf, "## Do now — urgent and important (0)\n\nRule: ");
    AK_ASSERT_CONTAINS(out.buf, "- nothing\n");
    ak_json_free(rep);
    rep = NULL;
    AK_ASSERT_EQ_INT(ak_report_build(&cfg, st, AT, "Mars/Olympus", &rep, &err), AK_EINVAL);
    AK_ASSERT_NULL(rep);
    AK_ASSERT_CONTAINS(err.buf, "unknown time zone 'Mars/Olympus'");
    AK_ASSERT_EQ_INT(ak_report_render_md(bad, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_report_render_html(bad, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_report_render_matrix(NULL, &out), AK_EINVAL);
    ak_json_free(bad);
    ak_buf_release(&out);
    ak_buf_release(&err);
    ak_store_close(st);
    ak_cfg_release(&cfg);
}

AK_TEST(report_time_of_a_date)
{
    struct ak_cfg cfg;
    struct ak_buf err = AK_BUF_INIT(512);
    int64_t at = 0;

    ak_cfg_defaults(&cfg);
    AK_ASSERT_OK(ak_report_at(&cfg, "2026-12-01", "Asia/Tokyo", &at, &err));
    AK_ASSERT_EQ_INT(at, AT);
    /* 02:30 does not exist in New York on 2026-03-08: the gap moves it to 03:30 EDT */
    free(cfg.digest_time);
    cfg.digest_time = ak_xstrdup("02:30");
    AK_ASSERT_OK(ak_report_at(&cfg, "2026-03-08", "America/New_York", &at, &err));
    char buf[AK_TIME_RFC3339_LEN];
    ak_time_fmt_rfc3339(at, buf, sizeof(buf));
    AK_ASSERT_STR(buf, "2026-03-08T07:30:00Z");
    AK_ASSERT_OK(ak_report_at(&cfg, "2026-11-01", "America/New_York", &at, &err));
    ak_time_fmt_rfc3339(at, buf, sizeof(buf));
    AK_ASSERT_STR(buf, "2026-11-01T07:30:00Z"); /* back on EST after 02:00 EDT */
    at = 7;
    AK_ASSERT_EQ_INT(ak_report_at(&cfg, "2026-13-01", "UTC", &at, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_report_at(&cfg, "2026-1-01", "UTC", &at, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_report_at(&cfg, "2026-02-30", "UTC", &at, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_report_at(&cfg, "2026-12-01", "../etc", &at, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(at, 7);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
}

AK_TEST_MAIN(AK_T(items_land_in_their_quadrant_with_their_rule),
             AK_T(header_counts_order_and_sections), AK_T(rules_follow_report_keys),
             AK_T(markdown_has_every_section_escaped), AK_T(html_is_a_matrix_escaped_without_script),
             AK_T(empty_store_and_bad_input), AK_T(report_time_of_a_date),
             AK_T(monitoring_review_findings_in_quadrants),
             AK_T(monitoring_review_stale_is_a_warning))
