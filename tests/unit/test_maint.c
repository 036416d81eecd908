/* test_maint.c — observation -> record: create, dedupe, reschedule, pages, close, recurrence;
 * the change rows notifications are made of; resource tags. */
#include <stdbool.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_events.h"
#include "asakai/ak_json.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "ak_test.h"

#include "asakai/ak_cfg.h"

#define DAY_MS (24LL * 3600 * 1000)
#define HOUR_MS (3600LL * 1000)
#define T0 1796868000000LL /* 2026-12-10T02:00:00Z */
#define NOW (T0 - 20 * DAY_MS)

static const struct ak_maint_cfg cfg = {30 * DAY_MS, 14 * DAY_MS, NULL};

static struct ak_store *open_w(void)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    if (ak_store_open(AK_TMPDIR(), AK_STORE_WRITE, &st, &err) != AK_OK)
        printf("# open: %s\n", err.buf);
    ak_buf_release(&err);
    return st;
}

static char *ec_res[] = {(char *)"prod-sessions", (char *)"prod-sessions-0001-001"};

/* An ElastiCache node replacement observation as the events parser makes them. */
static struct ak_obs ec_obs(const char *status, int64_t ws)
{
    struct ak_obs o = {0};
    o.source = (char *)"elasticache-sns";
    o.service = (char *)"elasticache";
    o.kind = (char *)"node-replacement";
    o.status = (char *)status;
    o.event_code = (char *)"ElastiCache:NodeReplacementScheduled";
    o.key = (char *)"elasticache:123456789012:us-east-1:prod-sessions:node-replacement";
    o.account = (char *)"123456789012";
    o.region = (char *)"us-east-1";
    o.resources = ec_res;
    o.n_resources = 2;
    o.window_start = ws;
    o.window_end = ws ? ws + HOUR_MS : 0;
    o.deadline = ws;
    o.title = (char *)"ElastiCache node replacement prod-sessions";
    o.required = true;
    return o;
}

static char *ec2_res[] = {(char *)"i-0abc"};

static struct ak_obs health_obs(const char *status, int64_t deadline)
{
    struct ak_obs o = {0};
    o.source = (char *)"aws.health";
    o.service = (char *)"ec2";
    o.kind = (char *)"instance-retirement";
    o.status = (char *)status;
    o.event_code = (char *)"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED";
    o.key = (char *)"health:123456789012:arn:aws:health:us-east-1::event/EC2/X/1";
    o.account = (char *)"123456789012";
    o.region = (char *)"us-east-1";
    o.resources = ec2_res;
    o.n_resources = 1;
    o.deadline = deadline;
    o.window_start = deadline;
    o.title = (char *)"EC2 instance retirement i-0abc";
    o.description = (char *)"We will stop your instance.";
    return o;
}

static int apply(struct ak_store *st, const struct ak_obs *o, int64_t now,
                 struct ak_maint_result *res)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_maint_apply(st, &cfg, o, 0, "sns", "m-1", now, res, &err);
    if (r != AK_OK)
        printf("# apply: %d %s\n", r, err.buf);
    ak_buf_release(&err);
    return r;
}

static size_t count_records(struct ak_store *st)
{
    struct ak_rec_filter f = {.all = true};
    struct ak_maint_rec *v = NULL;
    size_t n = 0;
    if (ak_store_rec_list(st, &f, &v, &n) != AK_OK)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++)
        ak_maint_rec_release(&v[i]);
    free(v);
    return n;
}

static size_t count_deliveries(struct ak_store *st, int64_t rec_id, char *last_change,
                               size_t cap)
{
    struct ak_delivery *v = NULL;
    size_t n = 0;
    if (ak_store_delivery_list(st, rec_id, &v, &n) != AK_OK)
        return (size_t)-1;
    if (n && last_change)
        snprintf(last_change, cap, "%s", v[n - 1].change ? v[n - 1].change : "");
    for (size_t i = 0; i < n; i++)
        ak_delivery_release(&v[i]);
    free(v);
    return n;
}

AK_TEST(create_record)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    char last[160];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    AK_ASSERT_STR(res.what, "created");
    AK_ASSERT_EQ_INT(res.recurrence_of, 0);
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    AK_ASSERT_STR(r.key, o.key);
    AK_ASSERT_STR(r.status, "scheduled");
    AK_ASSERT_STR(r.kind, "instance-retirement");
    AK_ASSERT_STR(r.family, ak_kind_family("ec2", "instance-retirement"));
    AK_ASSERT_STR(r.sources, "aws.health");
    AK_ASSERT_EQ_INT(r.first_seen, NOW);
    AK_ASSERT_EQ_INT(r.last_seen, NOW);
    AK_ASSERT_EQ_INT(r.deadline, T0);
    AK_ASSERT_EQ_INT(r.closed_at, 0);
    AK_ASSERT_EQ_INT(r.n_resources, 1);
    AK_ASSERT_STR(r.resources[0], "i-0abc");
    AK_ASSERT(r.important); /* instance-retirement is mandatory even when not flagged */
    AK_ASSERT_STR(r.important_why, "mandatory");
    ak_maint_rec_release(&r);
    AK_ASSERT_EQ_INT(count_deliveries(st, res.rec_id, last, sizeof(last)), 1);
    AK_ASSERT_STR(last, "created");
    ak_store_close(st);
}

AK_TEST(create_closed_sets_closed_at)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("completed", 0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    AK_ASSERT_EQ_INT(r.closed_at, NOW);
    AK_ASSERT_STR(r.status, "completed");
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

AK_TEST(not_important_when_optional)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    o.required = false;
    o.kind = (char *)"service-update";
    AK_ASSERT_OK(apply(st, &o, NOW, &res));
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    AK_ASSERT(!r.important);
    AK_ASSERT_NULL(r.important_why);
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

AK_TEST(duplicate_is_unchanged_with_history)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result a, b;
    struct ak_maint_rec r = {0};
    char last[160];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    AK_ASSERT_OK(apply(st, &o, NOW + 1000, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(b.rec_id, a.rec_id);
    AK_ASSERT_STR(b.what, "duplicate");
    AK_ASSERT_EQ_INT(count_records(st), 1);
    AK_ASSERT_EQ_INT(count_deliveries(st, a.rec_id, last, sizeof(last)), 2);
    AK_ASSERT_STR(last, "duplicate");
    AK_ASSERT_OK(ak_store_rec_get(st, a.rec_id, &r));
    AK_ASSERT_EQ_INT(r.last_seen, NOW + 1000);
    AK_ASSERT_EQ_INT(r.first_seen, NOW);
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

AK_TEST(second_source_is_recorded)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result a, b;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o.source = (char *)"ec2-api";
    AK_ASSERT_OK(apply(st, &o, NOW + 1, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_OK(ak_store_rec_get(st, a.rec_id, &r));
    AK_ASSERT_STR(r.sources, "aws.health,ec2-api");
    AK_ASSERT_STR(r.source, "aws.health");
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

AK_TEST(reschedule_moves_window_and_is_important)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result a, b;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    o.required = false; /* importance must come from the reschedule itself */
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o = ec_obs("rescheduled", T0 + 7 * DAY_MS);
    o.required = false;
    o.event_code = (char *)"ElastiCache:NodeReplacementRescheduled";
    AK_ASSERT_OK(apply(st, &o, NOW + 1000, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_UPDATED);
    AK_ASSERT_EQ_INT(b.rec_id, a.rec_id);
    AK_ASSERT_STR(b.what, "rescheduled 2026-12-10T02:00:00Z -> 2026-12-17T02:00:00Z");
    AK_ASSERT_OK(ak_store_rec_get(st, a.rec_id, &r));
    AK_ASSERT_STR(r.status, "rescheduled");
    AK_ASSERT_EQ_INT(r.window_start, T0 + 7 * DAY_MS);
    AK_ASSERT_EQ_INT(r.window_end, T0 + 7 * DAY_MS + HOUR_MS);
    AK_ASSERT_EQ_INT(r.deadline, T0 + 7 * DAY_MS);
    AK_ASSERT(r.important);
    AK_ASSERT_STR(r.important_why, "rescheduled");
    AK_ASSERT_STR(r.event_code, "ElastiCache:NodeReplacementRescheduled");
    ak_maint_rec_release(&r);
    AK_ASSERT_EQ_INT(count_records(st), 1);
    ak_store_close(st);
}

AK_TEST(scheduled_notice_with_new_deadline_is_reschedule)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result a, b, c;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o.deadline = o.window_start = T0 + DAY_MS;
    AK_ASSERT_OK(apply(st, &o, NOW + 1, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_UPDATED);
    AK_ASSERT_CONTAINS(b.what, "rescheduled");
    AK_ASSERT_OK(ak_store_rec_get(st, a.rec_id, &r));
    AK_ASSERT_STR(r.status, "rescheduled");
    AK_ASSERT_STR(r.important_why, "mandatory,rescheduled");
    ak_maint_rec_release(&r);
    /* the same (new) dates again: a duplicate, not another reschedule */
    AK_ASSERT_OK(apply(st, &o, NOW + 2, &c));
    AK_ASSERT_EQ_INT(c.change, AK_MAINT_UNCHANGED);
    ak_store_close(st);
}

AK_TEST(health_pages_merge_into_one_record)
{
    static char *p1[] = {(char *)"db:orders-1", (char *)"db:orders-2"};
    static char *p2[] = {(char *)"db:orders-3", (char *)"db:orders-4"};
    static char *p3[] = {(char *)"db:orders-5", (char *)"db:orders-1"};
    char **pages[] = {p2, p1, p3};
    int pageno[] = {2, 1, 3};
    struct ak_store *st = open_w();
    struct ak_maint_result res[3], dup;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    for (int i = 0; i < 3; i++) {
        struct ak_obs o = health_obs("scheduled", T0);
        o.service = (char *)"rds";
        o.kind = (char *)"hardware-maintenance";
        o.key = (char *)"health:123456789012:arn:aws:health:us-west-2::event/RDS/HW/1";
        o.resources = pages[i];
        o.n_resources = 2;
        o.page = pageno[i];
        o.total_pages = 3;
        AK_ASSERT_OK(apply(st, &o, NOW + i, &res[i]));
        if (i == 2)
            AK_ASSERT_OK(apply(st, &o, NOW + 10, &dup));
    }
    AK_ASSERT_EQ_INT(res[0].change, AK_MAINT_CREATED);
    AK_ASSERT_EQ_INT(res[1].change, AK_MAINT_UPDATED);
    AK_ASSERT_STR(res[1].what, "page 1/3 (+2 resources)");
    AK_ASSERT_EQ_INT(res[2].change, AK_MAINT_UPDATED);
    AK_ASSERT_STR(res[2].what, "page 3/3 (+1 resources)");
    AK_ASSERT_EQ_INT(dup.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(res[2].rec_id, res[0].rec_id);
    AK_ASSERT_EQ_INT(count_records(st), 1);
    AK_ASSERT_OK(ak_store_rec_get(st, res[0].rec_id, &r));
    AK_ASSERT_EQ_INT(r.n_resources, 5);
    AK_ASSERT_STR(r.resources[0], "db:orders-3");
    AK_ASSERT_STR(r.resources[2], "db:orders-1");
    AK_ASSERT_STR(r.resources[4], "db:orders-5");
    ak_maint_rec_release(&r);
    AK_ASSERT_EQ_INT(count_deliveries(st, res[0].rec_id, NULL, 0), 4);
    ak_store_close(st);
}

AK_TEST(lifecycle_in_progress_then_completed)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result a, b, c, d;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o = ec_obs("in-progress", 0);
    AK_ASSERT_OK(apply(st, &o, T0 + 60000, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_UPDATED);
    AK_ASSERT_STR(b.what, "status scheduled -> in-progress");
    /* a late copy of the scheduled notice does not move it back */
    o = ec_obs("scheduled", T0);
    AK_ASSERT_OK(apply(st, &o, T0 + 120000, &c));
    AK_ASSERT_EQ_INT(c.change, AK_MAINT_UNCHANGED);
    o = ec_obs("completed", 0);
    AK_ASSERT_OK(apply(st, &o, T0 + HOUR_MS, &d));
    AK_ASSERT_EQ_INT(d.change, AK_MAINT_CLOSED);
    AK_ASSERT_STR(d.what, "status in-progress -> completed");
    AK_ASSERT_EQ_INT(d.rec_id, a.rec_id);
    AK_ASSERT_OK(ak_store_rec_get(st, a.rec_id, &r));
    AK_ASSERT_STR(r.status, "completed");
    AK_ASSERT_EQ_INT(r.closed_at, T0 + HOUR_MS);
    AK_ASSERT_EQ_INT(r.window_start, T0);
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

AK_TEST(cancel_closes)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result a, b, c;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o = ec_obs("canceled", T0);
    AK_ASSERT_OK(apply(st, &o, NOW + DAY_MS, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_CLOSED);
    AK_ASSERT_OK(ak_store_rec_get(st, a.rec_id, &r));
    AK_ASSERT_STR(r.status, "canceled");
    AK_ASSERT_EQ_INT(r.closed_at, NOW + DAY_MS);
    ak_maint_rec_release(&r);
    /* a new replacement after a cancel is new, but not a recurrence (nothing completed) */
    o = ec_obs("scheduled", T0 + 14 * DAY_MS);
    o.event_time = NOW + 2 * DAY_MS;
    AK_ASSERT_OK(apply(st, &o, NOW + 2 * DAY_MS, &c));
    AK_ASSERT_EQ_INT(c.change, AK_MAINT_CREATED);
    AK_ASSERT(c.rec_id != a.rec_id);
    AK_ASSERT_EQ_INT(c.recurrence_of, 0);
    ak_store_close(st);
}

/* Completes an ElastiCache replacement at T0 + 1h and returns the record id. */
static int64_t complete_ec(struct ak_store *st)
{
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result a, b;
    o.event_time = NOW;
    if (apply(st, &o, NOW, &a) != AK_OK)
        return -1;
    o = ec_obs("completed", 0);
    o.event_time = T0 + HOUR_MS;
    if (apply(st, &o, T0 + HOUR_MS, &b) != AK_OK || b.change != AK_MAINT_CLOSED)
        return -1;
    return a.rec_id;
}

AK_TEST(recurrence_after_completion)
{
    struct ak_store *st = open_w();
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    char why[64];
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st);
    AK_ASSERT(first > 0);
    struct ak_obs o = ec_obs("scheduled", T0 + 21 * DAY_MS);
    o.event_time = T0 + 7 * DAY_MS;
    AK_ASSERT_OK(apply(st, &o, T0 + 7 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    AK_ASSERT(res.rec_id != first);
    AK_ASSERT_EQ_INT(res.recurrence_of, first);
    snprintf(why, sizeof(why), "created (recurrence of #%lld)", (long long)first);
    AK_ASSERT_STR(res.what, why);
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    AK_ASSERT_EQ_INT(r.recurrence_of, first);
    AK_ASSERT(r.important);
    snprintf(why, sizeof(why), "mandatory,recurrence of #%lld", (long long)first);
    AK_ASSERT_STR(r.important_why, why);
    AK_ASSERT_STR(r.status, "scheduled");
    AK_ASSERT_EQ_INT(r.first_seen, T0 + 7 * DAY_MS);
    ak_maint_rec_release(&r);
    /* the same key now finds the new record */
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, o.key, &r));
    AK_ASSERT_EQ_INT(r.id, res.rec_id);
    ak_maint_rec_release(&r);
    AK_ASSERT_EQ_INT(count_records(st), 2);
    ak_store_close(st);
}

AK_TEST(stale_notice_after_completion_same_window)
{
    struct ak_store *st = open_w();
    struct ak_maint_result res;
    char last[160];
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st);
    AK_ASSERT(first > 0);
    struct ak_obs o = ec_obs("scheduled", T0); /* ElastiCache keeps sending these (§4.4) */
    o.event_time = T0 + 2 * DAY_MS;
    AK_ASSERT_OK(apply(st, &o, T0 + 2 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(res.rec_id, first);
    AK_ASSERT_EQ_INT(res.recurrence_of, 0);
    AK_ASSERT_STR(res.what, "stale notice after completion");
    AK_ASSERT_EQ_INT(count_records(st), 1);
    AK_ASSERT_EQ_INT(count_deliveries(st, first, last, sizeof(last)), 3);
    AK_ASSERT_STR(last, "stale notice after completion");
    ak_store_close(st);
}

AK_TEST(stale_notice_older_than_completion)
{
    struct ak_store *st = open_w();
    struct ak_maint_result res, dup;
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st);
    AK_ASSERT(first > 0);
    struct ak_obs o = ec_obs("scheduled", 0); /* no window, sent before the completion */
    o.event_time = T0 + HOUR_MS - 1;
    AK_ASSERT_OK(apply(st, &o, T0 + 3 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(res.rec_id, first);
    o = ec_obs("completed", 0); /* the completion again */
    o.event_time = T0 + 4 * DAY_MS;
    AK_ASSERT_OK(apply(st, &o, T0 + 4 * DAY_MS, &dup));
    AK_ASSERT_EQ_INT(dup.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_STR(dup.what, "duplicate");
    AK_ASSERT_EQ_INT(count_records(st), 1);
    ak_store_close(st);
}

AK_TEST(recurrence_window_boundary)
{
    struct ak_store *st = open_w();
    struct ak_maint_result res;
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st);
    AK_ASSERT(first > 0);
    int64_t closed = T0 + HOUR_MS;
    struct ak_obs o = ec_obs("scheduled", closed + 40 * DAY_MS);
    o.event_time = closed + 31 * DAY_MS;
    AK_ASSERT_OK(apply(st, &o, closed + 31 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    AK_ASSERT(res.rec_id != first);
    AK_ASSERT_EQ_INT(res.recurrence_of, 0);
    AK_ASSERT_STR(res.what, "created");
    ak_store_close(st);
}

AK_TEST(recurrence_window_edge_is_inclusive)
{
    struct ak_store *st = open_w();
    struct ak_maint_result res;
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st);
    AK_ASSERT(first > 0);
    int64_t closed = T0 + HOUR_MS;
    struct ak_obs o = ec_obs("scheduled", closed + 40 * DAY_MS);
    o.event_time = closed + 30 * DAY_MS;
    AK_ASSERT_OK(apply(st, &o, closed + 30 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.recurrence_of, first);
    ak_store_close(st);
}

AK_TEST(recurrence_found_by_resource_across_keys)
{
    struct ak_store *st = open_w();
    struct ak_maint_result a, b, c, d;
    AK_ASSERT(st != NULL);
    struct ak_obs o = health_obs("completed", T0);
    o.required = true;
    AK_ASSERT_OK(apply(st, &o, T0, &a));
    /* another Health event (another key) for the same instance and family */
    o = health_obs("scheduled", T0 + 20 * DAY_MS);
    o.key = (char *)"health:123456789012:arn:aws:health:us-east-1::event/EC2/X/2";
    o.required = true;
    AK_ASSERT_OK(apply(st, &o, T0 + 5 * DAY_MS, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_CREATED);
    AK_ASSERT_EQ_INT(b.recurrence_of, a.rec_id);
    /* not required: no recurrence lookup */
    o.key = (char *)"health:123456789012:arn:aws:health:us-east-1::event/EC2/X/3";
    o.required = false;
    AK_ASSERT_OK(apply(st, &o, T0 + 5 * DAY_MS, &c));
    AK_ASSERT_EQ_INT(c.recurrence_of, 0);
    /* another resource: no recurrence */
    static char *other[] = {(char *)"i-0zzz"};
    o.key = (char *)"health:123456789012:arn:aws:health:us-east-1::event/EC2/X/4";
    o.required = true;
    o.resources = other;
    AK_ASSERT_OK(apply(st, &o, T0 + 5 * DAY_MS, &d));
    AK_ASSERT_EQ_INT(d.recurrence_of, 0);
    ak_store_close(st);
}

AK_TEST(invalid_observations_refused)
{
    struct ak_store *st = open_w();
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_maint_result res;
    AK_ASSERT(st != NULL);
    struct ak_obs o = ec_obs("scheduled", T0);
    o.key = NULL;
    AK_ASSERT_EQ_INT(ak_maint_apply(st, &cfg, &o, 0, "sns", "m", NOW, &res, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "no dedupe key");
    ak_buf_reset(&err);
    o = ec_obs("pending-ish", T0);
    AK_ASSERT_EQ_INT(ak_maint_apply(st, &cfg, &o, 0, "sns", "m", NOW, &res, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "unknown status \"pending-ish\"");
    AK_ASSERT_EQ_INT(count_records(st), 0);
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(default_cfg_when_null)
{
    struct ak_store *st = open_w();
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_maint_result res;
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st);
    struct ak_obs o = ec_obs("scheduled", T0 + 40 * DAY_MS);
    o.event_time = T0 + 29 * DAY_MS;
    AK_ASSERT_OK(ak_maint_apply(st, NULL, &o, 0, NULL, NULL, T0 + 29 * DAY_MS, &res, &err));
    AK_ASSERT_EQ_INT(res.recurrence_of, first); /* default window is 30 days */
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(is_important_deadline_window)
{
    struct ak_maint_rec r = {0};
    struct ak_buf why = AK_BUF_INIT(256);
    r.status = (char *)"scheduled";
    r.deadline = NOW + 20 * DAY_MS;
    AK_ASSERT(!ak_maint_is_important(&cfg, &r, NOW, &why));
    AK_ASSERT_EQ_INT(why.len, 0);
    AK_ASSERT(ak_maint_is_important(&cfg, &r, NOW + 7 * DAY_MS, &why));
    AK_ASSERT_CONTAINS(why.buf, "deadline in ");
    ak_buf_reset(&why);
    r.deadline = 0;
    r.window_start = NOW + DAY_MS; /* no deadline: the window start is when AWS acts */
    AK_ASSERT(ak_maint_is_important(&cfg, &r, NOW, NULL));
    r.status = (char *)"completed";
    AK_ASSERT(!ak_maint_is_important(&cfg, &r, NOW, &why));
    r.important = true;
    r.important_why = (char *)"mandatory";
    AK_ASSERT(ak_maint_is_important(&cfg, &r, NOW, &why));
    AK_ASSERT_STR(why.buf, "mandatory");
    ak_buf_release(&why);
}

AK_TEST(rec_json_fields)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &res));
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    struct ak_json *j = ak_maint_rec_json(&cfg, &r, NOW);
    AK_ASSERT(j != NULL);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(j, "id")), res.rec_id);
    AK_ASSERT_STR(ak_json_get_str(j, "key"), o.key);
    AK_ASSERT_STR(ak_json_get_str(j, "service"), "elasticache");
    AK_ASSERT_STR(ak_json_get_str(j, "status"), "scheduled");
    AK_ASSERT_STR(ak_json_get_str(j, "window_start"), "2026-12-10T02:00:00Z");
    AK_ASSERT_STR(ak_json_get_str(j, "window_end"), "2026-12-10T03:00:00Z");
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "closed_at")));
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "recurrence_of")));
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "description")));
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(j, "resources")), 2);
    AK_ASSERT_STR(ak_json_str(ak_json_at(ak_json_get(j, "resources"), 1)),
                  "prod-sessions-0001-001");
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(j, "sources")), 1);
    AK_ASSERT(ak_json_bool(ak_json_get(j, "required")));
    AK_ASSERT(ak_json_bool(ak_json_get(j, "important")));
    AK_ASSERT_STR(ak_json_get_str(j, "important_why"), "mandatory");
    AK_ASSERT_STR(ak_json_get_str(j, "first_seen"), "2026-11-20T02:00:00Z");
    ak_json_free(j);
    AK_ASSERT_NULL(ak_maint_rec_json(&cfg, NULL, NOW));
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

/* ---- process_raw with real payloads --------------------------------------------------- */

static int64_t put_fixture(struct ak_store *st, const char *name, const char *dedupe)
{
    char path[256];
    size_t len = 0;
    int64_t id = -1;
    snprintf(path, sizeof(path), "tests/data/maint/%s", name);
    char *body = ak_test_read_file(path, &len);
    if (!body)
        return -1;
    struct ak_raw r = {0};
    r.channel = (char *)"sns";
    r.dedupe_id = (char *)dedupe;
    r.received_at = NOW;
    r.remote = (char *)"192.0.2.1";
    r.body = body;
    r.body_len = len;
    if (ak_store_raw_put(st, &r, &id, NULL) != AK_OK)
        id = -1;
    free(body);
    return id;
}

static int raw_state(struct ak_store *st, int64_t id, char *state, size_t n, char *note,
                     size_t nn)
{
    struct ak_raw r = {0};
    int ret = ak_store_raw_get(st, id, &r);
    if (ret == AK_OK) {
        snprintf(state, n, "%s", r.state);
        snprintf(note, nn, "%s", r.note ? r.note : "");
    }
    ak_raw_release(&r);
    return ret;
}

AK_TEST(process_raw_elasticache_sns)
{
    struct ak_store *st = open_w();
    struct ak_buf sum = AK_BUF_INIT(4096), err = AK_BUF_INIT(1024);
    char state[32], note[1024];
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    int64_t id = put_fixture(st, "sns-elasticache-scheduled.json", "sns:ec-1");
    AK_ASSERT(id > 0);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, id, NOW, &sum, &err));
    AK_ASSERT_OK(raw_state(st, id, state, sizeof(state), note, sizeof(note)));
    AK_ASSERT_STR(state, "parsed");
    AK_ASSERT_CONTAINS(note, "created");
    AK_ASSERT_CONTAINS(sum.buf, "-> record #");
    AK_ASSERT_EQ_INT(count_records(st), 1);
    struct ak_rec_filter f = {.all = true};
    struct ak_maint_rec *v = NULL;
    size_t n = 0;
    AK_ASSERT_OK(ak_store_rec_list(st, &f, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    r = v[0];
    free(v);
    AK_ASSERT_STR(r.service, "elasticache");
    AK_ASSERT_STR(r.status, "scheduled");
    AK_ASSERT_EQ_INT(r.window_start, T0);
    struct ak_delivery *d = NULL;
    AK_ASSERT_OK(ak_store_delivery_list(st, r.id, &d, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(d[0].raw_id, id);
    AK_ASSERT_STR(d[0].message_id, "ec-1");
    ak_delivery_release(&d[0]);
    free(d);
    ak_maint_rec_release(&r);
    /* a second run is a no-op */
    ak_buf_reset(&sum);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, id, NOW, &sum, &err));
    AK_ASSERT_EQ_INT(sum.len, 0);
    AK_ASSERT_EQ_INT(count_deliveries(st, 1, NULL, 0), 1);
    ak_buf_release(&sum);
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(process_raw_health_pages)
{
    struct ak_store *st = open_w();
    struct ak_buf err = AK_BUF_INIT(1024);
    const char *names[] = {"health-rds-page2.json", "health-rds-page1.json",
                           "health-rds-page3.json"};
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    for (int i = 0; i < 3; i++) {
        char dd[16];
        snprintf(dd, sizeof(dd), "eb:p%d", i);
        int64_t id = put_fixture(st, names[i], dd);
        AK_ASSERT(id > 0);
        AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, id, NOW + i, NULL, &err));
    }
    AK_ASSERT_EQ_INT(count_records(st), 1);
    AK_ASSERT_OK(ak_store_rec_get(st, 1, &r));
    AK_ASSERT_STR(r.service, "rds");
    AK_ASSERT_EQ_INT(r.n_resources, 6);
    ak_maint_rec_release(&r);
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(process_raw_control_ignored_unparsed)
{
    struct ak_store *st = open_w();
    struct ak_buf err = AK_BUF_INIT(1024);
    char state[32], note[1024];
    AK_ASSERT(st != NULL);
    int64_t conf = put_fixture(st, "sns-subscription-confirmation.json", "sns:c");
    int64_t snap = put_fixture(st, "sns-elasticache-snapshot.json", "sns:s");
    int64_t junk = put_fixture(st, "not-json.txt", "sha256:j");
    AK_ASSERT(conf > 0 && snap > 0 && junk > 0);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, conf, NOW, NULL, &err));
    AK_ASSERT_OK(raw_state(st, conf, state, sizeof(state), note, sizeof(note)));
    AK_ASSERT_STR(state, "control");
    AK_ASSERT_CONTAINS(note, "SubscriptionConfirmation");
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, snap, NOW, NULL, &err));
    AK_ASSERT_OK(raw_state(st, snap, state, sizeof(state), note, sizeof(note)));
    AK_ASSERT_STR(state, "ignored");
    AK_ASSERT(note[0] != 0);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, junk, NOW, NULL, &err));
    AK_ASSERT_OK(raw_state(st, junk, state, sizeof(state), note, sizeof(note)));
    AK_ASSERT_STR(state, "unparsed");
    AK_ASSERT_CONTAINS(note, "JSON");
    AK_ASSERT_EQ_INT(count_records(st), 0);
    AK_ASSERT_EQ_INT(ak_maint_process_raw(st, &cfg, 999, NOW, NULL, &err), AK_ENOTFOUND);
    AK_ASSERT_CONTAINS(err.buf, "#999");
    ak_buf_release(&err);
    ak_store_close(st);
}

/* ---- changes: what notifications are about -------------------------------------------- */

/* The record's changes as "kind|key|summary" lines joined by "\n". */
static const char *changes_of(struct ak_store *st, int64_t rec_id, char *buf, size_t cap)
{
    struct ak_change *v = NULL;
    size_t n = 0, len = 0;
    buf[0] = 0;
    if (ak_store_change_list_rec(st, rec_id, &v, &n) != AK_OK)
        return "error";
    for (size_t i = 0; i < n; i++) {
        if (len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s|%s|%s", i ? "\n" : "", v[i].kind,
                                    v[i].key, v[i].summary ? v[i].summary : "(null)");
        ak_change_release(&v[i]);
    }
    free(v);
    return buf;
}

static size_t count_changes(struct ak_store *st)
{
    struct ak_change *v = NULL;
    size_t n = 0;
    if (ak_store_change_list_after(st, 0, 0, &v, &n) != AK_OK)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++)
        ak_change_release(&v[i]);
    free(v);
    return n;
}

AK_TEST(change_created)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_change *v = NULL;
    size_t n = 0;
    char buf[512];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &res));
    AK_ASSERT_STR(changes_of(st, res.rec_id, buf, sizeof(buf)), "created|created|created");
    AK_ASSERT_OK(ak_store_change_list_rec(st, res.rec_id, &v, &n));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_EQ_INT(v[0].at, NOW);
    AK_ASSERT_EQ_INT(v[0].rec_id, res.rec_id);
    ak_change_release(&v[0]);
    free(v);
    ak_store_close(st);
}

AK_TEST(change_rescheduled_key_and_summary)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0 + 15 * HOUR_MS);
    struct ak_maint_result a, b;
    char buf[512], want[512];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o = ec_obs("rescheduled", T0 + 7 * DAY_MS + 15 * HOUR_MS);
    AK_ASSERT_OK(apply(st, &o, NOW + 1000, &b));
    AK_ASSERT_EQ_INT(b.rec_id, a.rec_id);
    snprintf(want, sizeof(want),
             "created|created|created\n"
             "rescheduled|window:%lld:%lld|rescheduled from 2026-12-10T17:00Z to "
             "2026-12-17T17:00Z",
             (long long)(T0 + 7 * DAY_MS + 15 * HOUR_MS),
             (long long)(T0 + 7 * DAY_MS + 15 * HOUR_MS));
    AK_ASSERT_STR(changes_of(st, a.rec_id, buf, sizeof(buf)), want);
    ak_store_close(st);
}

AK_TEST(change_status_lifecycle)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result a, b, c, d;
    char buf[512];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o = ec_obs("in-progress", 0);
    AK_ASSERT_OK(apply(st, &o, T0 + 60000, &b));
    o = ec_obs("in-progress", 0); /* again: nothing new */
    AK_ASSERT_OK(apply(st, &o, T0 + 90000, &c));
    AK_ASSERT_EQ_INT(c.change, AK_MAINT_UNCHANGED);
    o = ec_obs("completed", 0);
    AK_ASSERT_OK(apply(st, &o, T0 + HOUR_MS, &d));
    AK_ASSERT_EQ_INT(d.change, AK_MAINT_CLOSED);
    AK_ASSERT_STR(changes_of(st, a.rec_id, buf, sizeof(buf)),
                  "created|created|created\n"
                  "status|status:in-progress|status scheduled -> in-progress\n"
                  "status|status:completed|status in-progress -> completed");
    ak_store_close(st);
}

AK_TEST(change_deadline_without_window_move)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result a, b, c;
    char buf[512], want[512];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o.deadline = T0 + 2 * DAY_MS + 30 * 60000; /* the window stays, the apply-by date moves */
    AK_ASSERT_OK(apply(st, &o, NOW + 1, &b));
    AK_ASSERT_EQ_INT(b.change, AK_MAINT_UPDATED);
    /* a new window end alone is not news */
    o.window_end += HOUR_MS;
    AK_ASSERT_OK(apply(st, &o, NOW + 2, &c));
    AK_ASSERT_EQ_INT(c.change, AK_MAINT_UPDATED);
    snprintf(want, sizeof(want),
             "created|created|created\n"
             "deadline|deadline:%lld|deadline moved from 2026-12-10T02:00Z to 2026-12-12T02:30Z",
             (long long)(T0 + 2 * DAY_MS + 30 * 60000));
    AK_ASSERT_STR(changes_of(st, a.rec_id, buf, sizeof(buf)), want);
    ak_store_close(st);
}

AK_TEST(change_none_for_duplicates_pages_and_stale)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result res;
    static char *more[] = {(char *)"prod-sessions", (char *)"prod-sessions-0002-001"};
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st); /* created + status:completed */
    AK_ASSERT(first > 0);
    AK_ASSERT_EQ_INT(count_changes(st), 2);
    o.event_time = T0 + 2 * DAY_MS; /* stale scheduled notice after the completion */
    AK_ASSERT_OK(apply(st, &o, T0 + 2 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    o = ec_obs("completed", 0); /* the completion again */
    AK_ASSERT_OK(apply(st, &o, T0 + 3 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(count_changes(st), 2);
    /* an open record: a duplicate and a resources-only update add no change either */
    struct ak_obs h = health_obs("scheduled", T0);
    AK_ASSERT_OK(apply(st, &h, NOW, &res));
    AK_ASSERT_OK(apply(st, &h, NOW + 1, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    h.resources = more;
    h.n_resources = 2;
    AK_ASSERT_OK(apply(st, &h, NOW + 2, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UPDATED);
    AK_ASSERT_CONTAINS(res.what, "resources +2");
    AK_ASSERT_EQ_INT(count_changes(st), 3); /* only its "created" */
    ak_store_close(st);
}

AK_TEST(change_window_back_and_forth_is_not_news_twice)
{
    struct ak_store *st = open_w();
    struct ak_obs o = ec_obs("scheduled", T0);
    struct ak_maint_result a, r;
    char buf[1024];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &a));
    o = ec_obs("rescheduled", T0 + DAY_MS);
    AK_ASSERT_OK(apply(st, &o, NOW + 1, &r));
    o = ec_obs("rescheduled", T0);
    AK_ASSERT_OK(apply(st, &o, NOW + 2, &r));
    o = ec_obs("rescheduled", T0 + DAY_MS); /* the same move as before: its key exists */
    AK_ASSERT_OK(apply(st, &o, NOW + 3, &r));
    AK_ASSERT_EQ_INT(r.change, AK_MAINT_UPDATED);
    AK_ASSERT_EQ_INT(count_changes(st), 3);
    AK_ASSERT_CONTAINS(changes_of(st, a.rec_id, buf, sizeof(buf)),
                       "rescheduled from 2026-12-11T02:00Z to 2026-12-10T02:00Z");
    ak_store_close(st);
}

AK_TEST(change_recurrence_summary)
{
    struct ak_store *st = open_w();
    struct ak_maint_result res;
    char buf[512], want[512];
    AK_ASSERT(st != NULL);
    int64_t first = complete_ec(st);
    AK_ASSERT(first > 0);
    struct ak_obs o = ec_obs("scheduled", T0 + 21 * DAY_MS);
    o.event_time = T0 + 7 * DAY_MS;
    AK_ASSERT_OK(apply(st, &o, T0 + 7 * DAY_MS, &res));
    AK_ASSERT_EQ_INT(res.recurrence_of, first);
    snprintf(want, sizeof(want), "created|created|created (recurrence of #%lld)",
             (long long)first);
    AK_ASSERT_STR(changes_of(st, res.rec_id, buf, sizeof(buf)), want);
    ak_store_close(st);
}

AK_TEST(change_rolls_back_with_the_record)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result res;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(ak_store_begin(st));
    AK_ASSERT_OK(apply(st, &o, NOW, &res));
    AK_ASSERT_EQ_INT(count_changes(st), 1);
    AK_ASSERT_OK(ak_store_rollback(st));
    AK_ASSERT_EQ_INT(count_changes(st), 0);
    AK_ASSERT_EQ_INT(count_records(st), 0);
    ak_store_close(st);
}

/* ---- resource tags ------------------------------------------------------------------------ */

AK_TEST(tags_from_health_pages_merged)
{
    struct ak_store *st = open_w();
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_maint_rec r = {0};
    int64_t p1, p2;
    char buf[512];
    AK_ASSERT(st != NULL);
    p1 = put_fixture(st, "health-ec2-tags-page1.json", "eb:t1");
    p2 = put_fixture(st, "health-ec2-tags-page2.json", "eb:t2");
    AK_ASSERT(p1 > 0 && p2 > 0);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, p1, NOW, NULL, &err));
    AK_ASSERT_OK(ak_store_rec_get(st, 1, &r));
    AK_ASSERT_STR(r.tags, "{\"env\":\"staging\",\"team\":\"db\",\"app\":\"orders\"}");
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, p2, NOW + 1, NULL, &err));
    AK_ASSERT_EQ_INT(count_records(st), 1);
    AK_ASSERT_OK(ak_store_rec_get(st, 1, &r));
    /* the union over pages; the later page wins a key both have */
    AK_ASSERT_STR(r.tags,
                  "{\"env\":\"prod\",\"team\":\"db\",\"app\":\"orders\",\"owner\":\"sre\"}");
    AK_ASSERT_EQ_INT(r.n_resources, 3);
    ak_maint_rec_release(&r);
    /* the second page (resources and tags only) is no change worth a message */
    AK_ASSERT_STR(changes_of(st, 1, buf, sizeof(buf)), "created|created|created");
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(tags_merge_from_observations)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &res)); /* no tags */
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    AK_ASSERT_NULL(r.tags);
    ak_maint_rec_release(&r);
    o.tags = (char *)"{\"env\":\"prod\",\"n\":1}"; /* non-string values are not tags */
    AK_ASSERT_OK(apply(st, &o, NOW + 1, &res));
    o.tags = (char *)"not json";
    AK_ASSERT_OK(apply(st, &o, NOW + 2, &res));
    o.tags = (char *)"{\"team\":\"web\"}";
    AK_ASSERT_OK(apply(st, &o, NOW + 3, &res));
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    AK_ASSERT_STR(r.tags, "{\"env\":\"prod\",\"team\":\"web\"}");
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

AK_TEST(rec_json_tags_and_ack)
{
    struct ak_store *st = open_w();
    struct ak_obs o = health_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    struct ak_json *j;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &o, NOW, &res));
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    j = ak_maint_rec_json(&cfg, &r, NOW);
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "tags")));
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "acked_by")));
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "ack_note")));
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "acked_at")));
    ak_json_free(j);
    ak_maint_rec_release(&r);
    o.tags = (char *)"{\"env\":\"prod\"}";
    AK_ASSERT_OK(apply(st, &o, NOW + 1, &res));
    AK_ASSERT_OK(ak_store_rec_ack(st, res.rec_id, "alice", "replacing it Friday", NOW + 2));
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    j = ak_maint_rec_json(&cfg, &r, NOW);
    AK_ASSERT(ak_json_is_obj(ak_json_get(j, "tags")));
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(j, "tags"), "env"), "prod");
    AK_ASSERT_STR(ak_json_get_str(j, "acked_by"), "alice");
    AK_ASSERT_STR(ak_json_get_str(j, "ack_note"), "replacing it Friday");
    AK_ASSERT_STR(ak_json_get_str(j, "acked_at"), "2026-11-20T02:00:00Z");
    ak_json_free(j);
    /* a damaged tags text shows as null, not as a string */
    free(r.tags);
    r.tags = strdup("[1,2]");
    j = ak_maint_rec_json(&cfg, &r, NOW);
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "tags")));
    ak_json_free(j);
    ak_maint_rec_release(&r);
    ak_store_close(st);
}

AK_TEST(explicit_importance_rule)
{
    char *rules_v[] = {(char *)"service=ec2,kind=instance-reboot", (char *)"tag.env=prod"};
    struct ak_cfg_strlist rules = {rules_v, 2};
    struct ak_maint_cfg c = {30 * DAY_MS, 14 * DAY_MS, &rules};
    struct ak_maint_rec r = {0};
    struct ak_buf why = AK_BUF_INIT(512);
    r.service = (char *)"rds";
    r.kind = (char *)"minor-version-upgrade";
    r.status = (char *)"scheduled";
    r.deadline = NOW + 40 * DAY_MS; /* far: not important by date */
    AK_ASSERT(!ak_maint_is_important(&c, &r, NOW, &why));
    r.tags = (char *)"{\"env\":\"prod\"}";
    AK_ASSERT(ak_maint_is_important(&c, &r, NOW, &why));
    AK_ASSERT_CONTAINS(why.buf, "rule tag.env=prod");
    ak_buf_reset(&why);
    r.tags = NULL;
    r.service = (char *)"ec2";
    r.kind = (char *)"instance-reboot";
    AK_ASSERT(ak_maint_is_important(&c, &r, NOW, &why));
    AK_ASSERT_CONTAINS(why.buf, "rule service=ec2,kind=instance-reboot");
    AK_ASSERT(!ak_maint_is_important(&cfg, &r, NOW, NULL)); /* no rules: not important */
    ak_buf_release(&why);
}

/* ---- pollers: merge by resource, quiet repeats, closing ------------------------------- */

#define POLL_KEY "ec2:123456789012:us-east-1:i-0abc1234:instance-event-1"
#define HEALTH_REBOOT_KEY                                                                          \
    "health:123456789012:arn:aws:health:us-east-1::event/EC2/"                                     \
    "AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED/AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED_USE1_1"

static char *reboot_res[] = {(char *)"i-0abc1234"};

/* An EC2 scheduled event as the EC2 poller describes it (DescribeInstanceStatus). */
static struct ak_obs ec2_poll_obs(const char *status, int64_t ws)
{
    struct ak_obs o = {0};
    o.source = (char *)"ec2-api";
    o.service = (char *)"ec2";
    o.kind = (char *)"system-reboot";
    o.status = (char *)status;
    o.event_code = (char *)"system-reboot";
    o.key = (char *)POLL_KEY;
    o.account = (char *)"123456789012";
    o.region = (char *)"us-east-1";
    o.resources = reboot_res;
    o.n_resources = 1;
    o.window_start = ws;
    o.window_end = ws + 2 * HOUR_MS;
    o.deadline = ws;
    o.title = (char *)"EC2 system reboot i-0abc1234";
    return o;
}

/* The Health event about the same reboot, as pushed through EventBridge. */
static struct ak_obs health_reboot_obs(const char *status, int64_t ws)
{
    struct ak_obs o = ec2_poll_obs(status, ws);
    o.source = (char *)"aws.health";
    o.event_code = (char *)"AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED";
    o.key = (char *)HEALTH_REBOOT_KEY;
    return o;
}

static int apply_opts(struct ak_store *st, const struct ak_obs *o, bool quiet, bool merge,
                      int64_t now, struct ak_maint_result *res)
{
    struct ak_maint_apply_opts opts = {.quiet_unchanged = quiet, .merge_by_resource = merge};
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_maint_apply_ex(st, &cfg, o, &opts, 0, "poll", NULL, now, res, &err);
    if (r != AK_OK)
        printf("# apply_ex: %d %s\n", r, err.buf);
    ak_buf_release(&err);
    return r;
}

AK_TEST(poll_obs_joins_open_health_record)
{
    struct ak_store *st = open_w();
    struct ak_obs h = health_reboot_obs("scheduled", T0), p = ec2_poll_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    char last[160];
    int64_t hid;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &h, NOW, &res));
    hid = res.rec_id;
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW + 1, &res));
    AK_ASSERT_EQ_INT(res.rec_id, hid);
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED); /* same window: nothing material */
    AK_ASSERT_STR(res.what, "joined by ec2-api");
    AK_ASSERT_EQ_INT(count_records(st), 1);
    /* the join is history even when quiet: it is why the record has a second source */
    AK_ASSERT_EQ_INT(count_deliveries(st, hid, last, sizeof(last)), 2);
    AK_ASSERT_STR(last, "joined by ec2-api");
    AK_ASSERT_OK(ak_store_rec_get(st, hid, &r));
    AK_ASSERT_STR(r.key, HEALTH_REBOOT_KEY);
    AK_ASSERT_STR(r.sources, "aws.health,ec2-api");
    AK_ASSERT_EQ_INT(r.last_seen, NOW + 1);
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, POLL_KEY, &r));
    AK_ASSERT_EQ_INT(r.id, hid);
    ak_maint_rec_release(&r);
    /* the next pass finds it by the alias: a quiet repeat */
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW + 2, &res));
    AK_ASSERT_EQ_INT(res.rec_id, hid);
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(count_deliveries(st, hid, NULL, 0), 2);
    /* Health closes it; the poller still lists the item for a while: a stale copy, not a
     * recurrence */
    h = health_reboot_obs("completed", T0);
    AK_ASSERT_OK(apply(st, &h, T0 + 3 * HOUR_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CLOSED);
    AK_ASSERT_OK(apply_opts(st, &p, true, true, T0 + 4 * HOUR_MS, &res));
    AK_ASSERT_EQ_INT(res.rec_id, hid);
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(res.recurrence_of, 0);
    AK_ASSERT_EQ_INT(count_records(st), 1);
    AK_ASSERT_EQ_INT(count_deliveries(st, hid, NULL, 0), 3); /* created, joined, completed */
    AK_ASSERT_OK(ak_store_rec_get(st, hid, &r));
    AK_ASSERT_STR(r.status, "completed");
    AK_ASSERT_EQ_INT(r.last_seen, T0 + 4 * HOUR_MS);
    ak_maint_rec_release(&r);
    /* a new window for the same item after completion is a new maintenance */
    p = ec2_poll_obs("scheduled", T0 + 7 * DAY_MS);
    AK_ASSERT_OK(apply_opts(st, &p, true, true, T0 + 5 * HOUR_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    AK_ASSERT_EQ_INT(res.recurrence_of, hid);
    AK_ASSERT_EQ_INT(count_records(st), 2);
    ak_store_close(st);
}

AK_TEST(poll_obs_merge_moves_window_and_status)
{
    struct ak_store *st = open_w();
    struct ak_obs h = health_reboot_obs("scheduled", T0);
    struct ak_obs p = ec2_poll_obs("scheduled", T0 + DAY_MS);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    char buf[1024];
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &h, NOW, &res));
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW + 1, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UPDATED);
    AK_ASSERT_CONTAINS(res.what, "rescheduled");
    AK_ASSERT_CONTAINS(res.what, "; joined by ec2-api");
    AK_ASSERT_OK(ak_store_rec_get(st, res.rec_id, &r));
    AK_ASSERT_STR(r.status, "rescheduled");
    AK_ASSERT_EQ_INT(r.window_start, T0 + DAY_MS);
    ak_maint_rec_release(&r);
    AK_ASSERT_CONTAINS(changes_of(st, res.rec_id, buf, sizeof(buf)), "rescheduled|window:");
    ak_store_close(st);
}

AK_TEST(merge_by_resource_needs_family_open_record_and_option)
{
    struct ak_store *st = open_w();
    struct ak_obs h = health_reboot_obs("scheduled", T0), p = ec2_poll_obs("scheduled", T0);
    struct ak_maint_result res;
    int64_t hid;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &h, NOW, &res));
    hid = res.rec_id;
    /* without the option: its own record */
    AK_ASSERT_OK(apply_opts(st, &p, true, false, NOW + 1, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    AK_ASSERT(res.rec_id != hid);
    /* another family (a software kind) does not join */
    p.key = (char *)"ec2:123456789012:us-east-1:i-0abc1234:other-1";
    p.kind = (char *)"other";
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW + 2, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    /* another instance does not join */
    static char *res2[] = {(char *)"i-0fff"};
    p = ec2_poll_obs("scheduled", T0);
    p.key = (char *)"ec2:123456789012:us-east-1:i-0fff:instance-event-2";
    p.resources = res2;
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW + 3, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    /* a completed item never joins (it would close an unrelated maintenance) */
    p = ec2_poll_obs("completed", T0 - DAY_MS);
    p.key = (char *)"ec2:123456789012:us-east-1:i-0abc1234:instance-event-0";
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW + 4, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    AK_ASSERT(res.rec_id != hid);
    struct ak_maint_rec r = {0};
    AK_ASSERT_OK(ak_store_rec_get(st, hid, &r));
    AK_ASSERT_STR(r.status, "scheduled");
    AK_ASSERT_STR(r.sources, "aws.health");
    ak_maint_rec_release(&r);
    AK_ASSERT_EQ_INT(count_records(st), 5);
    ak_store_close(st);
}

AK_TEST(quiet_unchanged_skips_history_of_repeats)
{
    struct ak_store *st = open_w();
    struct ak_obs p = ec2_poll_obs("scheduled", T0);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    char last[160];
    int64_t id;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply_opts(st, &p, true, false, NOW, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CREATED);
    id = res.rec_id;
    AK_ASSERT_EQ_INT(count_deliveries(st, id, last, sizeof(last)), 1);
    AK_ASSERT_STR(last, "created");
    for (int i = 1; i <= 3; i++) {
        AK_ASSERT_OK(apply_opts(st, &p, true, false, NOW + i * HOUR_MS, &res));
        AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
        AK_ASSERT_EQ_INT(res.rec_id, id);
    }
    AK_ASSERT_EQ_INT(count_deliveries(st, id, NULL, 0), 1);
    AK_ASSERT_OK(ak_store_rec_get(st, id, &r));
    AK_ASSERT_EQ_INT(r.last_seen, NOW + 3 * HOUR_MS); /* still moves */
    ak_maint_rec_release(&r);
    /* a change is history */
    p.window_start = T0 + DAY_MS;
    AK_ASSERT_OK(apply_opts(st, &p, true, false, NOW + 4 * HOUR_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UPDATED);
    AK_ASSERT_EQ_INT(count_deliveries(st, id, last, sizeof(last)), 2);
    AK_ASSERT_CONTAINS(last, "rescheduled");
    /* without the option a repeat is history again */
    AK_ASSERT_OK(apply_opts(st, &p, false, false, NOW + 5 * HOUR_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(count_deliveries(st, id, last, sizeof(last)), 3);
    AK_ASSERT_STR(last, "duplicate");
    ak_store_close(st);
}

AK_TEST(close_by_poller_once)
{
    struct ak_store *st = open_w();
    struct ak_obs p = ec2_poll_obs("scheduled", T0);
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_maint_result res;
    struct ak_delivery *d = NULL;
    struct ak_maint_rec r = {0};
    char buf[1024];
    size_t n = 0;
    int64_t id;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply_opts(st, &p, true, false, NOW, &res));
    id = res.rec_id;
    AK_ASSERT_OK(ak_maint_close(st, id, "completed", "no longer listed by EC2", "poll",
                                T0 + 3 * HOUR_MS, &res, &err));
    AK_ASSERT_EQ_INT(res.rec_id, id);
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_CLOSED);
    AK_ASSERT_STR(res.what, "status scheduled -> completed: no longer listed by EC2");
    AK_ASSERT_OK(ak_store_rec_get(st, id, &r));
    AK_ASSERT_STR(r.status, "completed");
    AK_ASSERT_EQ_INT(r.closed_at, T0 + 3 * HOUR_MS);
    AK_ASSERT_EQ_INT(r.last_seen, NOW); /* not seen: gone */
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_store_delivery_list(st, id, &d, &n));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(d[1].raw_id, 0);
    AK_ASSERT_STR(d[1].channel, "poll");
    AK_ASSERT_NULL(d[1].message_id);
    AK_ASSERT_EQ_INT(d[1].at, T0 + 3 * HOUR_MS);
    AK_ASSERT_STR(d[1].change, "status scheduled -> completed: no longer listed by EC2");
    for (size_t i = 0; i < n; i++)
        ak_delivery_release(&d[i]);
    free(d);
    AK_ASSERT_STR(changes_of(st, id, buf, sizeof(buf)),
                  "created|created|created\n"
                  "status|status:completed|status scheduled -> completed: no longer listed by "
                  "EC2");
    /* again: a no-op */
    AK_ASSERT_OK(ak_maint_close(st, id, "canceled", NULL, "poll", T0 + 4 * HOUR_MS, &res, &err));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_STR(res.what, "already completed");
    AK_ASSERT_EQ_INT(count_deliveries(st, id, NULL, 0), 2);
    AK_ASSERT_EQ_INT(count_changes(st), 2);
    /* the completion message arriving later is no news either */
    p.status = (char *)"completed";
    AK_ASSERT_OK(apply_opts(st, &p, true, false, T0 + 5 * HOUR_MS, &res));
    AK_ASSERT_EQ_INT(res.change, AK_MAINT_UNCHANGED);
    AK_ASSERT_EQ_INT(count_changes(st), 2);
    /* refused */
    res.rec_id = -7;
    AK_ASSERT_EQ_INT(ak_maint_close(st, id, "scheduled", NULL, "poll", NOW, &res, &err),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "only completed or canceled");
    AK_ASSERT_EQ_INT(res.rec_id, -7);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_maint_close(st, id + 99, "completed", NULL, "poll", NOW, &res, &err),
                     AK_ENOTFOUND);
    AK_ASSERT_CONTAINS(err.buf, "Cannot close record #");
    AK_ASSERT_EQ_INT(res.rec_id, -7);
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(close_status_key_matches_merge)
{
    struct ak_store *st = open_w();
    struct ak_obs p = ec2_poll_obs("scheduled", T0);
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_maint_result res;
    char a[1024], b[1024];
    int64_t closed_by_msg, closed_by_poll;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply(st, &p, NOW, &res));
    p.status = (char *)"canceled";
    AK_ASSERT_OK(apply(st, &p, NOW + 1, &res));
    closed_by_msg = res.rec_id;
    p = ec2_poll_obs("scheduled", T0);
    p.key = (char *)"ec2:other";
    AK_ASSERT_OK(apply(st, &p, NOW, &res));
    closed_by_poll = res.rec_id;
    AK_ASSERT_OK(ak_maint_close(st, closed_by_poll, "canceled", NULL, "poll", NOW + 1, &res,
                                &err));
    AK_ASSERT_STR(changes_of(st, closed_by_msg, a, sizeof(a)), changes_of(st, closed_by_poll, b,
                                                                            sizeof(b)));
    AK_ASSERT_CONTAINS(a, "status|status:canceled|status scheduled -> canceled");
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST(process_raw_health_single_resource_joins_poll_record)
{
    struct ak_store *st = open_w();
    struct ak_obs p = ec2_poll_obs("scheduled", T0);
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_maint_result res;
    struct ak_maint_rec r = {0};
    char state[32], note[1024];
    int64_t pid, raw;
    AK_ASSERT(st != NULL);
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW, &res));
    pid = res.rec_id;
    raw = put_fixture(st, "health-ec2-system-reboot.json", "eb:reboot-1");
    AK_ASSERT(raw > 0);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, raw, NOW + 1, NULL, &err));
    AK_ASSERT_OK(raw_state(st, raw, state, sizeof(state), note, sizeof(note)));
    AK_ASSERT_STR(state, "parsed");
    AK_ASSERT_CONTAINS(note, "joined by aws.health");
    AK_ASSERT_EQ_INT(count_records(st), 1);
    AK_ASSERT_OK(ak_store_rec_get(st, pid, &r));
    AK_ASSERT_STR(r.key, POLL_KEY);
    AK_ASSERT_STR(r.sources, "ec2-api,aws.health");
    AK_ASSERT_STR(r.event_code, "AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED");
    ak_maint_rec_release(&r);
    AK_ASSERT_OK(ak_store_rec_latest_by_key(st, HEALTH_REBOOT_KEY, &r));
    AK_ASSERT_EQ_INT(r.id, pid);
    ak_maint_rec_release(&r);
    /* a paged Health event about two instances does not join a poll record */
    static char *res1[] = {(char *)"i-0aaa1111"};
    p.key = (char *)"ec2:123456789012:ap-northeast-1:i-0aaa1111:instance-event-5";
    p.kind = (char *)"instance-retirement";
    p.resources = res1;
    AK_ASSERT_OK(apply_opts(st, &p, true, true, NOW, &res));
    raw = put_fixture(st, "health-ec2-tags-page1.json", "eb:paged-1");
    AK_ASSERT(raw > 0);
    AK_ASSERT_OK(ak_maint_process_raw(st, &cfg, raw, NOW + 2, NULL, &err));
    AK_ASSERT_EQ_INT(count_records(st), 3);
    ak_buf_release(&err);
    ak_store_close(st);
}

AK_TEST_MAIN(AK_T(explicit_importance_rule), AK_T(create_record), AK_T(create_closed_sets_closed_at),
             AK_T(not_important_when_optional), AK_T(duplicate_is_unchanged_with_history),
             AK_T(second_source_is_recorded), AK_T(reschedule_moves_window_and_is_important),
             AK_T(scheduled_notice_with_new_deadline_is_reschedule),
             AK_T(health_pages_merge_into_one_record), AK_T(lifecycle_in_progress_then_completed),
             AK_T(cancel_closes), AK_T(recurrence_after_completion),
             AK_T(stale_notice_after_completion_same_window),
             AK_T(stale_notice_older_than_completion), AK_T(recurrence_window_boundary),
             AK_T(recurrence_window_edge_is_inclusive),
             AK_T(recurrence_found_by_resource_across_keys), AK_T(invalid_observations_refused),
             AK_T(default_cfg_when_null), AK_T(is_important_deadline_window),
             AK_T(rec_json_fields), AK_T(process_raw_elasticache_sns),
             AK_T(process_raw_health_pages), AK_T(process_raw_control_ignored_unparsed),
             AK_T(change_created), AK_T(change_rescheduled_key_and_summary),
             AK_T(change_status_lifecycle), AK_T(change_deadline_without_window_move),
             AK_T(change_none_for_duplicates_pages_and_stale),
             AK_T(change_window_back_and_forth_is_not_news_twice), AK_T(change_recurrence_summary),
             AK_T(change_rolls_back_with_the_record), AK_T(tags_from_health_pages_merged),
             AK_T(tags_merge_from_observations), AK_T(rec_json_tags_and_ack),
             AK_T(poll_obs_joins_open_health_record),
             AK_T(poll_obs_merge_moves_window_and_status),
             AK_T(merge_by_resource_needs_family_open_record_and_option),
             AK_T(quiet_unchanged_skips_history_of_repeats), AK_T(close_by_poller_once),
             AK_T(close_status_key_matches_merge),
             AK_T(process_raw_health_single_resource_joins_poll_record))
