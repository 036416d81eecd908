/* test_pull.c — the pollers' response parsers (ak_pull_parse, ak_pull_error).
 * Fixtures: tests/data/pull/ (written from the wire shapes of maintenance-events.md §6-7 and
 * the AWS CLI samples quoted there); push fixtures from tests/data/events/ for the key checks. */
#include "ak_test.h"

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_events.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"

#define D "tests/data/pull/"
#define ACCT "210987654321"
#define REGION "ap-northeast-1"

static const struct ak_pull_ctx tokyo = {
    .account = ACCT,
    .region = REGION,
    .received_ms = 1795000000000, /* 2026-11-18 */
};

static int64_t T(const char *s)
{
    int64_t ms = -1;
    if (ak_time_parse(s, &ms) != 0)
        abort();
    return ms;
}

static char *read_fixture(const char *path, size_t *n)
{
    char *s = ak_test_read_file(path, n);
    if (!s)
        abort();
    return s;
}

static int pull_file(enum ak_pull_api api, const char *name, const struct ak_pull_ctx *ctx,
                     struct ak_pull_page *pg, struct ak_buf *err)
{
    char path[256];
    size_t n = 0;
    snprintf(path, sizeof(path), D "%s", name);
    char *s = read_fixture(path, &n);
    int r = ak_pull_parse(api, s, n, ctx, pg, err);
    free(s);
    return r;
}

static int pull_str(enum ak_pull_api api, const char *s, struct ak_pull_page *pg,
                    struct ak_buf *err)
{
    return ak_pull_parse(api, s, strlen(s), &tokyo, pg, err);
}

/* ---- EC2 ---------------------------------------------------------------------------------- */

AK_TEST(ec2_instance_status_page)
{
    struct ak_pull_page pg = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    const struct ak_obs *o;

    AK_ASSERT_OK(pull_file(AK_PULL_EC2_INSTANCE_STATUS, "ec2-describe-instance-status.xml", &tokyo,
                           &pg, &err));
    AK_ASSERT_EQ_INT(err.len, 0);
    AK_ASSERT_EQ_INT(pg.n_seen, 3); /* the instance without events counts too */
    AK_ASSERT_EQ_INT(pg.obs.n, 2);
    AK_ASSERT_STR(pg.next_token, "AAEAAWtleS10b2tlbi0wMDAx");

    o = &pg.obs.v[0];
    AK_ASSERT_STR(o->source, "ec2-api");
    AK_ASSERT_STR(o->service, "ec2");
    AK_ASSERT_STR(o->kind, "instance-reboot");
    AK_ASSERT_STR(o->status, "completed");
    AK_ASSERT_STR(o->event_code, "instance-reboot");
    AK_ASSERT_STR(o->key, "ec2:210987654321:ap-northeast-1:i-0a1b2c3d4e5f60002:"
                          "instance-event-0e439355b779n26");
    AK_ASSERT_EQ_INT(o->window_start, 1551430800000);
    AK_ASSERT_EQ_INT(o->window_end, 1551434400000);
    AK_ASSERT_EQ_INT(o->deadline, 1551430800000); /* no NotBeforeDeadline: NotBefore */
    AK_ASSERT_EQ_INT(o->n_resources, 1);
    AK_ASSERT_STR(o->resources[0], "i-0a1b2c3d4e5f60002");
    AK_ASSERT_STR(o->title, "EC2 instance reboot i-0a1b2c3d4e5f60002");
    AK_ASSERT_STR(o->description, "[Completed] The instance is scheduled for a reboot");
    AK_ASSERT_STR(pg.ids[0], "instance-event-0e439355b779n26");
    AK_ASSERT_STR(pg.docs[0],
                  "{\"api\":\"ec2:DescribeInstanceStatus\",\"account\":\"210987654321\","
                  "\"region\":\"ap-northeast-1\",\"item\":{\"instanceId\":\"i-0a1b2c3d4e5f60002\","
                  "\"availabilityZone\":\"ap-northeast-1c\",\"instanceState\":{\"code\":\"16\","
                  "\"name\":\"running\"},\"systemStatus\":{\"status\":\"ok\"},"
                  "\"instanceStatus\":{\"status\":\"ok\"},\"event\":{\"instanceEventId\":"
                  "\"instance-event-0e439355b779n26\",\"code\":\"instance-reboot\","
                  "\"description\":\"[Completed] The instance is scheduled for a reboot\","
                  "\"notBefore\":\"2019-03-01T09:00:00.000Z\","
                  "\"notAfter\":\"2019-03-01T10:00:00.000Z\"}}}");

    o = &pg.obs.v[1];
    AK_ASSERT_STR(o->kind, "system-reboot");
    AK_ASSERT_STR(o->status, "scheduled");
    AK_ASSERT_STR(o->account, ACCT);
    AK_ASSERT_STR(o->region, REGION);
    AK_ASSERT_EQ_INT(o->window_start, T("2019-03-14T20:00:00Z"));
    AK_ASSERT_EQ_INT(o->window_end, 1552687200000);
    AK_ASSERT_EQ_INT(o->deadline, 1554462000000); /* NotBeforeDeadline */
    AK_ASSERT_EQ_INT(o->event_time, tokyo.received_ms);
    AK_ASSERT(o->required);
    AK_ASSERT_STR(ak_kind_family(o->service, o->kind), "ec2-host");
    AK_ASSERT_STR(pg.ids[1], "instance-event-0d59937288b749b32");
    AK_ASSERT_CONTAINS(pg.docs[1], "\"instanceState\":{\"code\":\"80\",\"name\":\"stopped\"}");
    AK_ASSERT(!strstr(pg.docs[1], "eventsSet"));
    AK_ASSERT(!strstr(pg.docs[1], "instance-event-0e439355b779n26"));
    ak_pull_page_release(&pg);
    ak_pull_page_release(&pg); /* twice: harmless */
    ak_buf_release(&err);
}

AK_TEST(ec2_docs_deterministic_and_lists)
{
    static const char page[] =
        "<DescribeInstanceStatusResponse><instanceStatusSet><item>"
        "<instanceId>i-1</instanceId>"
        "<systemStatus><status>impaired</status><details>"
        "<item><name>reachability</name><status>failed</status></item>"
        "<item><name>other</name><status>passed</status></item></details></systemStatus>"
        "<tag>a</tag><tag>b</tag><tag>c</tag>"
        "<eventsSet><item><instanceEventId>e-1</instanceEventId><code>instance-stop</code>"
        "<description>[Canceled] stop</description><notBefore>2015-05-23T00:00:00.000Z"
        "</notBefore></item><item><instanceEventId>e-2</instanceEventId>"
        "<code>instance-retirement</code></item></eventsSet>"
        "</item></instanceStatusSet></DescribeInstanceStatusResponse>";
    struct ak_pull_page a = {0}, b = {0};

    AK_ASSERT_OK(pull_str(AK_PULL_EC2_INSTANCE_STATUS, page, &a, NULL));
    AK_ASSERT_OK(pull_str(AK_PULL_EC2_INSTANCE_STATUS, page, &b, NULL));
    AK_ASSERT_EQ_INT(a.obs.n, 2);
    AK_ASSERT_NULL(a.next_token);
    AK_ASSERT_STR(a.obs.v[0].status, "canceled");
    AK_ASSERT_EQ_INT(a.obs.v[0].deadline, T("2015-05-23T00:00:00Z"));
    AK_ASSERT_EQ_INT(a.obs.v[0].window_end, 0);
    AK_ASSERT_EQ_INT(a.obs.v[1].deadline, 0); /* no date at all */
    AK_ASSERT_STR(a.docs[0], b.docs[0]);
    AK_ASSERT_STR(a.docs[1], b.docs[1]);
    /* <item> lists are arrays, repeated names too; each doc holds only its own event */
    AK_ASSERT_CONTAINS(a.docs[0], "\"details\":[{\"name\":\"reachability\",\"status\":\"failed\"},"
                                  "{\"name\":\"other\",\"status\":\"passed\"}]");
    AK_ASSERT_CONTAINS(a.docs[0], "\"tag\":[\"a\",\"b\",\"c\"]");
    AK_ASSERT_CONTAINS(a.docs[1], "\"event\":{\"instanceEventId\":\"e-2\","
                                  "\"code\":\"instance-retirement\"}}}");
    ak_pull_page_release(&a);
    ak_pull_page_release(&b);
}

/* ---- RDS ---------------------------------------------------------------------------------- */

AK_TEST(rds_pending_actions_page)
{
    struct ak_pull_page pg = {0};
    const struct ak_obs *o;

    AK_ASSERT_OK(pull_file(AK_PULL_RDS_PENDING, "rds-pending-maintenance.xml", &tokyo, &pg, NULL));
    AK_ASSERT_EQ_INT(pg.n_seen, 2);
    AK_ASSERT_EQ_INT(pg.obs.n, 3);
    AK_ASSERT_STR(pg.next_token, "bWFya2VyLTI=");

    o = &pg.obs.v[0];
    AK_ASSERT_STR(o->source, "rds-api");
    AK_ASSERT_STR(o->kind, "system-update");
    AK_ASSERT_STR(o->event_code, "system-update");
    AK_ASSERT_STR(o->status, "scheduled");
    AK_ASSERT_STR(o->key, "rds:210987654321:ap-northeast-1:orders-db:rds-host");
    AK_ASSERT_EQ_INT(o->deadline, 1796083200000); /* the earlier of auto-apply and forced */
    AK_ASSERT(o->required);
    AK_ASSERT_STR(o->resources[0], "arn:aws:rds:ap-northeast-1:210987654321:db:orders-db");
    AK_ASSERT_STR(o->title, "RDS system update orders-db");
    AK_ASSERT_STR(o->description, "New Operating System update is available; applied in the "
                                  "first maintenance window after 2026-12-01T00:00:00Z; forced "
                                  "apply from 2027-01-15T00:00:00Z");
    AK_ASSERT_STR(pg.ids[0], "arn:aws:rds:ap-northeast-1:210987654321:db:orders-db/system-update");
    AK_ASSERT_STR(pg.docs[0],
                  "{\"api\":\"rds:DescribePendingMaintenanceActions\",\"account\":\"210987654321\","
                  "\"region\":\"ap-northeast-1\",\"item\":{\"ResourceIdentifier\":"
                  "\"arn:aws:rds:ap-northeast-1:210987654321:db:orders-db\","
                  "\"PendingMaintenanceAction\":{\"Action\":\"system-update\","
                  "\"AutoAppliedAfterDate\":\"2026-12-01T00:00:00Z\",\"ForcedApplyDate\":"
                  "\"2027-01-15T00:00:00Z\",\"Description\":\"New Operating System update is "
                  "available\"}}}");

    o = &pg.obs.v[1];
    AK_ASSERT_STR(o->kind, "minor-version-upgrade");
    AK_ASSERT_STR(o->event_code, "db-upgrade");
    AK_ASSERT_STR(o->key, "rds:210987654321:ap-northeast-1:orders-db:rds-engine");
    AK_ASSERT_EQ_INT(o->deadline, 1796835600000); /* CurrentApplyDate wins */
    AK_ASSERT(!o->required);
    AK_ASSERT_CONTAINS(o->description, "opt-in status next-maintenance");
    AK_ASSERT_STR(pg.ids[1], "arn:aws:rds:ap-northeast-1:210987654321:db:orders-db/db-upgrade");

    o = &pg.obs.v[2];
    AK_ASSERT_STR(o->key, "rds:210987654321:ap-northeast-1:billing-aurora:rds-host");
    AK_ASSERT_EQ_INT(o->deadline, 0);
    AK_ASSERT(!o->required);
    AK_ASSERT_STR(o->description, "Upgrade to Aurora PostgreSQL 2.4.2; no date announced");
    AK_ASSERT_STR(o->title, "RDS system update billing-aurora");
    ak_pull_page_release(&pg);
}

AK_TEST(rds_other_actions_and_arn_account)
{
    static const char page[] =
        "<DescribePendingMaintenanceActionsResponse><DescribePendingMaintenanceActionsResult>"
        "<PendingMaintenanceActions><ResourcePendingMaintenanceActions>"
        "<ResourceIdentifier>arn:aws:rds:eu-west-1:111122223333:db:eu-db</ResourceIdentifier>"
        "<PendingMaintenanceActionDetails>"
        "<PendingMaintenanceAction><Action>ca-certificate-rotation</Action>"
        "<ForcedApplyDate>2027-01-15T00:00:00Z</ForcedApplyDate></PendingMaintenanceAction>"
        "<PendingMaintenanceAction><Action>hardware-maintenance</Action>"
        "</PendingMaintenanceAction>"
        "</PendingMaintenanceActionDetails></ResourcePendingMaintenanceActions>"
        "</PendingMaintenanceActions></DescribePendingMaintenanceActionsResult>"
        "</DescribePendingMaintenanceActionsResponse>";
    struct ak_pull_page pg = {0};

    AK_ASSERT_OK(pull_str(AK_PULL_RDS_PENDING, page, &pg, NULL));
    AK_ASSERT_EQ_INT(pg.obs.n, 2);
    AK_ASSERT_NULL(pg.next_token);
    AK_ASSERT_STR(pg.obs.v[0].kind, "certificate-rotation");
    AK_ASSERT_STR(pg.obs.v[0].key, "rds:111122223333:eu-west-1:eu-db:rds-certificate-rotation");
    AK_ASSERT_STR(pg.obs.v[0].account, "111122223333");
    AK_ASSERT_EQ_INT(pg.obs.v[0].deadline, 1799971200000);
    AK_ASSERT(pg.obs.v[0].required);
    AK_ASSERT_STR(pg.obs.v[1].key, "rds:111122223333:eu-west-1:eu-db:rds-host");
    AK_ASSERT_CONTAINS(pg.docs[0], "\"region\":\"eu-west-1\"");
    ak_pull_page_release(&pg);
}

/* ---- ElastiCache -------------------------------------------------------------------------- */

AK_TEST(ec_service_updates_page)
{
    struct ak_pull_page pg = {0};
    const struct ak_json *su;

    AK_ASSERT_OK(pull_file(AK_PULL_EC_SERVICE_UPDATES, "ec-service-updates.xml", &tokyo, &pg,
                           NULL));
    AK_ASSERT_EQ_INT(pg.obs.n, 0);
    AK_ASSERT_EQ_INT(pg.n_seen, 2);
    AK_ASSERT_STR(pg.next_token, "c3UtbWFya2Vy");
    AK_ASSERT_EQ_INT(ak_json_len(pg.service_updates), 2);
    su = ak_json_get(pg.service_updates, "elasticache-20260608-intel");
    AK_ASSERT_STR(ak_json_get_str(su, "severity"), "critical");
    AK_ASSERT_STR(ak_json_get_str(su, "status"), "available");
    AK_ASSERT_STR(ak_json_get_str(su, "type"), "security-update");
    AK_ASSERT_STR(ak_json_get_str(su, "release"), "2026-06-08T16:00:00Z");
    AK_ASSERT_STR(ak_json_get_str(su, "recommended_apply_by"), "2026-07-08T23:59:59Z");
    AK_ASSERT_STR(ak_json_get_str(su, "end"), "2026-12-31T15:59:59Z");
    AK_ASSERT_STR(ak_json_get_str(su, "engine"), "redis");
    AK_ASSERT(ak_json_is_bool(ak_json_get(su, "auto_update")));
    AK_ASSERT(ak_json_bool(ak_json_get(su, "auto_update")));
    su = ak_json_get(pg.service_updates, "elc-20191007-001");
    AK_ASSERT(!ak_json_bool(ak_json_get(su, "auto_update")));
    AK_ASSERT_STR(ak_json_get_str(su, "engine"), "redis, memcached");
    ak_pull_page_release(&pg);
}

AK_TEST(ec_update_actions_page)
{
    struct ak_pull_page sus = {0}, pg = {0};
    struct ak_pull_ctx ctx = tokyo;
    const struct ak_obs *o;

    AK_ASSERT_OK(pull_file(AK_PULL_EC_SERVICE_UPDATES, "ec-service-updates.xml", &tokyo, &sus,
                           NULL));
    ctx.service_updates = sus.service_updates;
    AK_ASSERT_OK(pull_file(AK_PULL_EC_UPDATE_ACTIONS, "ec-update-actions.xml", &ctx, &pg, NULL));
    AK_ASSERT_EQ_INT(pg.n_seen, 2);
    AK_ASSERT_EQ_INT(pg.obs.n, 2);
    AK_ASSERT_NULL(pg.next_token);

    o = &pg.obs.v[0];
    AK_ASSERT_STR(o->source, "elasticache-api");
    AK_ASSERT_STR(o->kind, "service-update");
    AK_ASSERT_STR(o->status, "scheduled");
    AK_ASSERT_STR(o->key, "elasticache:210987654321:ap-northeast-1:production-sessions-store:"
                          "elasticache-node:elasticache-20260608-intel");
    AK_ASSERT_EQ_INT(o->deadline, 1783555199000);
    AK_ASSERT(o->required); /* auto_update of the service update */
    AK_ASSERT_EQ_INT(o->event_time, T("2026-06-08T16:00:00Z"));
    AK_ASSERT_STR(o->title, "ElastiCache service update elasticache-20260608-intel for "
                            "production-sessions-store");
    AK_ASSERT_STR(o->description,
                  "severity critical; Security update for the underlying hosts of your "
                  "ElastiCache nodes; update action status not-applied; nodes updated 0/3; "
                  "applied automatically after the recommended apply-by date; the service "
                  "update ends 2026-12-31T15:59:59Z");
    AK_ASSERT_STR(pg.ids[0], "production-sessions-store/elasticache-20260608-intel");
    AK_ASSERT_CONTAINS(pg.docs[0], "\"api\":\"elasticache:DescribeUpdateActions\"");
    AK_ASSERT_CONTAINS(pg.docs[0], "\"NodeGroupMemberUpdateStatus\":{\"NodeGroupMemberUpdateStatus"
                                   "\":[{\"CacheClusterId\":\"production-sessions-store-001\"");

    o = &pg.obs.v[1];
    AK_ASSERT_STR(o->status, "completed");
    AK_ASSERT_STR(o->key, "elasticache:210987654321:ap-northeast-1:memcache-ni:elasticache-node:"
                          "elc-20191007-001");
    AK_ASSERT(!o->required);
    AK_ASSERT_EQ_INT(o->deadline, T("2019-11-08T15:59:59Z"));
    AK_ASSERT_EQ_INT(o->event_time, T("2019-12-05T19:15:20.461Z"));
    AK_ASSERT_CONTAINS(o->description, "severity important");
    AK_ASSERT_STR(pg.ids[1], "memcache-ni/elc-20191007-001");
    ak_pull_page_release(&pg);

    /* without DescribeServiceUpdates: nothing says it auto-applies */
    AK_ASSERT_OK(pull_file(AK_PULL_EC_UPDATE_ACTIONS, "ec-update-actions.xml", &tokyo, &pg, NULL));
    AK_ASSERT(!pg.obs.v[0].required);
    AK_ASSERT_EQ_INT(pg.obs.v[0].deadline, 1783555199000);
    AK_ASSERT_STR(pg.obs.v[0].description, "severity critical; update action status "
                                           "not-applied; nodes updated 0/3");
    ak_pull_page_release(&pg);
    ak_pull_page_release(&sus);
}

AK_TEST(ec_update_action_statuses)
{
    static const char *const cases[][2] = {
        {"in-progress", "in-progress"}, {"stopping", "in-progress"}, {"complete", "completed"},
        {"waiting-to-start", "scheduled"}, {"stopped", "scheduled"}, {"not-applied", "scheduled"},
    };
    for (size_t i = 0; i < AK_ARRAY_SIZE(cases); i++) {
        char page[512];
        struct ak_pull_page pg = {0};
        snprintf(page, sizeof(page),
                 "<DescribeUpdateActionsResponse><DescribeUpdateActionsResult><UpdateActions>"
                 "<UpdateAction><CacheClusterId>c1</CacheClusterId><ServiceUpdateName>u1"
                 "</ServiceUpdateName><UpdateActionStatus>%s</UpdateActionStatus></UpdateAction>"
                 "</UpdateActions><Marker>m</Marker></DescribeUpdateActionsResult>"
                 "</DescribeUpdateActionsResponse>",
                 cases[i][0]);
        AK_ASSERT_OK(pull_str(AK_PULL_EC_UPDATE_ACTIONS, page, &pg, NULL));
        AK_ASSERT_STR(pg.obs.v[0].status, cases[i][1]);
        AK_ASSERT_EQ_INT(pg.obs.v[0].deadline, 0);
        AK_ASSERT_EQ_INT(pg.obs.v[0].event_time, tokyo.received_ms);
        AK_ASSERT_STR(pg.next_token, "m");
        ak_pull_page_release(&pg);
    }
}

AK_TEST(ec_describe_events_page)
{
    struct ak_pull_page pg = {0};
    static const char key[] = "elasticache:210987654321:ap-northeast-1:prod-sessions:"
                              "elasticache-node";
    const struct ak_obs *o;

    AK_ASSERT_OK(pull_file(AK_PULL_EC_EVENTS, "ec-describe-events.xml", &tokyo, &pg, NULL));
    AK_ASSERT_EQ_INT(pg.n_seen, 6);
    AK_ASSERT_EQ_INT(pg.obs.n, 4); /* "created" and the snapshot are no maintenance */
    AK_ASSERT_STR(pg.next_token, "ZXZlbnRzLTI=");

    o = &pg.obs.v[0];
    AK_ASSERT_STR(o->event_code, "ElastiCache:NodeReplacementScheduled");
    AK_ASSERT_STR(o->kind, "node-replacement");
    AK_ASSERT_STR(o->status, "scheduled");
    AK_ASSERT_STR(o->key, key);
    AK_ASSERT_EQ_INT(o->window_start, 1796868000000);
    AK_ASSERT_EQ_INT(o->window_end, 1796871600000);
    AK_ASSERT_EQ_INT(o->deadline, 1796868000000);
    AK_ASSERT_EQ_INT(o->event_time, T("2026-11-20T03:00:00Z"));
    AK_ASSERT(o->required);
    AK_ASSERT_STR(o->title, "ElastiCache node replacement prod-sessions");
    AK_ASSERT_STR(pg.ids[0], "prod-sessions/2026-11-20T03:00:00.000Z");
    AK_ASSERT_STR(pg.docs[0],
                  "{\"api\":\"elasticache:DescribeEvents\",\"account\":\"210987654321\","
                  "\"region\":\"ap-northeast-1\",\"item\":{\"SourceIdentifier\":\"prod-sessions\","
                  "\"SourceType\":\"cache-cluster\",\"Message\":\"The node with Cache Cluster ID: "
                  "prod-sessions, Node ID: 0001 is scheduled for replacement during the "
                  "maintenance window from Start Time: 2026-12-10T02:00:00Z, End Time: "
                  "2026-12-10T03:00:00Z\",\"Date\":\"2026-11-20T03:00:00.000Z\"}}");

    o = &pg.obs.v[1];
    AK_ASSERT_STR(o->status, "rescheduled");
    AK_ASSERT_STR(o->key, key);
    AK_ASSERT_EQ_INT(o->window_start, 1797472800000); /* the new window, not the previous */
    AK_ASSERT_EQ_INT(o->window_end, 1797476400000);

    o = &pg.obs.v[2];
    AK_ASSERT_STR(o->status, "canceled");
    AK_ASSERT_STR(o->key, "elasticache:210987654321:ap-northeast-1:cart-cache:elasticache-node");
    AK_ASSERT_EQ_INT(o->window_start, 1797472800000);

    o = &pg.obs.v[3];
    AK_ASSERT_STR(o->status, "completed");
    AK_ASSERT_STR(o->event_code, "ElastiCache:CacheNodeReplaceComplete");
    AK_ASSERT_STR(o->key, key);
    AK_ASSERT_EQ_INT(o->window_start, 0);
    ak_pull_page_release(&pg);
}

/* ---- Health ------------------------------------------------------------------------------- */

#define EC2_ARN "arn:aws:health:ap-northeast-1::event/EC2/AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_" \
                "SCHEDULED/AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED_APNE1_20261201_" \
                "EXAMPLE01"
#define RDS_ARN "arn:aws:health:us-west-2::event/RDS/AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED/" \
                "AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED_USW2_20261210_20261217"

AK_TEST(health_events_page)
{
    struct ak_pull_page pg = {0};
    struct ak_pull_ctx ctx = tokyo;

    ctx.region = "us-east-1"; /* the Health endpoint's */
    AK_ASSERT_OK(pull_file(AK_PULL_HEALTH_EVENTS, "health-describe-events.json", &ctx, &pg, NULL));
    AK_ASSERT_EQ_INT(pg.obs.n, 0);
    AK_ASSERT_EQ_INT(pg.n_seen, 2);
    AK_ASSERT_STR(pg.next_token, "eyJwYWdlIjogMn0=");
    AK_ASSERT_EQ_INT(ak_json_len(pg.health_arns), 2);
    AK_ASSERT_STR(ak_json_str(ak_json_at(pg.health_arns, 0)), EC2_ARN);
    AK_ASSERT_STR(ak_json_str(ak_json_at(pg.health_arns, 1)), RDS_ARN);
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(pg.health_events, RDS_ARN), "eventTypeCode"),
                  "AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED");
    ak_pull_page_release(&pg);
}

AK_TEST(health_entities_page)
{
    struct ak_pull_page evs = {0}, pg = {0};
    struct ak_pull_ctx ctx = tokyo;
    const struct ak_obs *o;

    ctx.region = "us-east-1";
    AK_ASSERT_OK(pull_file(AK_PULL_HEALTH_EVENTS, "health-describe-events.json", &ctx, &evs,
                           NULL));
    ctx.health_events = evs.health_events;
    AK_ASSERT_OK(pull_file(AK_PULL_HEALTH_ENTITIES, "health-affected-entities.json", &ctx, &pg,
                           NULL));
    AK_ASSERT_EQ_INT(pg.n_seen, 3);
    AK_ASSERT_EQ_INT(pg.obs.n, 2);
    AK_ASSERT_STR(pg.next_token, "ZW50aXRpZXMtMg==");

    o = &pg.obs.v[0];
    AK_ASSERT_STR(o->source, "health-api");
    AK_ASSERT_STR(o->service, "ec2");
    AK_ASSERT_STR(o->key, "health:210987654321:" EC2_ARN);
    AK_ASSERT_STR(o->kind, "instance-retirement");
    AK_ASSERT_STR(o->status, "scheduled"); /* upcoming */
    AK_ASSERT_STR(o->region, "ap-northeast-1");
    AK_ASSERT_STR(o->account, ACCT);
    AK_ASSERT_EQ_INT(o->n_resources, 2);
    AK_ASSERT_STR(o->resources[0], "i-0a1b2c3d4e5f60003");
    AK_ASSERT_STR(o->resources[1], "i-0a1b2c3d4e5f60004");
    AK_ASSERT_STR(o->tags, "{\"env\":\"staging\",\"team\":\"checkout\"}"); /* later wins */
    AK_ASSERT_EQ_INT(o->window_start, 1796083200000);
    AK_ASSERT_EQ_INT(o->deadline, 1796083200000);
    AK_ASSERT_EQ_INT(o->event_time, 1794974706512);
    AK_ASSERT(o->required);
    AK_ASSERT_STR(pg.ids[0], EC2_ARN "/i-0a1b2c3d4e5f60003+1");
    AK_ASSERT_CONTAINS(pg.docs[0], "{\"api\":\"health:DescribeAffectedEntities\","
                                   "\"account\":\"210987654321\",\"region\":\"ap-northeast-1\","
                                   "\"item\":{\"event\":{\"arn\":\"" EC2_ARN "\"");
    AK_ASSERT_CONTAINS(pg.docs[0], "\"entities\":[{\"entityArn\":");

    o = &pg.obs.v[1];
    AK_ASSERT_STR(o->key, "health:210987654321:" RDS_ARN);
    AK_ASSERT_STR(o->kind, "hardware-maintenance");
    AK_ASSERT_STR(o->service, "rds");
    AK_ASSERT_STR(o->region, "us-west-2");
    AK_ASSERT_STR(o->status, "scheduled"); /* open, but its start is after received_ms */
    AK_ASSERT_EQ_INT(o->window_start, 1796868000250);
    AK_ASSERT_EQ_INT(o->window_end, 1797476400000);
    AK_ASSERT_NULL(o->tags);
    AK_ASSERT_EQ_INT(o->n_resources, 1);
    AK_ASSERT_STR(pg.ids[1], RDS_ARN "/orders-db");
    ak_pull_page_release(&pg);

    /* a page about events the poller did not see: what the ARN says */
    ctx.health_events = NULL;
    AK_ASSERT_OK(pull_file(AK_PULL_HEALTH_ENTITIES, "health-affected-entities.json", &ctx, &pg,
                           NULL));
    AK_ASSERT_STR(pg.obs.v[0].kind, "instance-retirement");
    AK_ASSERT_STR(pg.obs.v[0].event_code, "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED");
    AK_ASSERT_STR(pg.obs.v[0].region, "ap-northeast-1");
    AK_ASSERT_STR(pg.obs.v[0].key, "health:210987654321:" EC2_ARN);
    AK_ASSERT_CONTAINS(pg.docs[0], "\"item\":{\"event\":null,");
    ak_pull_page_release(&pg);
    ak_pull_page_release(&evs);
}

/* ---- push and pull meet ------------------------------------------------------------------- */

static char *push_key(const char *fixture)
{
    static const struct ak_events_ctx ctx = {
        .topic_arn = "arn:aws:sns:ap-northeast-1:210987654321:maint",
        .account = ACCT,
        .region = REGION,
        .received_ms = 1795000000000,
    };
    struct ak_obs_list l = {0};
    size_t n = 0;
    char *s = read_fixture(fixture, &n), *key = NULL;

    if (ak_events_parse(s, n, &ctx, &l, NULL) == AK_OK && l.n == 1) {
        key = l.v[0].key;
        l.v[0].key = NULL;
    }
    ak_obs_list_release(&l);
    free(s);
    return key;
}

AK_TEST(push_and_pull_keys_equal)
{
    struct ak_pull_page pg = {0};
    char *k;

    /* RDS: the SNS RDS-EVENT-0230 about orders-db and its pending system-update */
    k = push_key("tests/data/events/rds-sns-0230-system-update.json");
    AK_ASSERT_OK(pull_file(AK_PULL_RDS_PENDING, "rds-pending-maintenance.xml", &tokyo, &pg, NULL));
    AK_ASSERT_STR(pg.obs.v[0].key, k);
    free(k);
    /* RDS minor version: RDS-EVENT-0155 and a pending db-upgrade */
    k = push_key("tests/data/events/rds-sns-0155-minor-available.json");
    AK_ASSERT_STR(pg.obs.v[1].key, k);
    free(k);
    ak_pull_page_release(&pg);

    /* ElastiCache: ServiceUpdateAvailableForNode and DescribeUpdateActions */
    k = push_key("tests/data/events/elasticache-service-update-for-node.json");
    AK_ASSERT_OK(pull_file(AK_PULL_EC_UPDATE_ACTIONS, "ec-update-actions.xml", &tokyo, &pg, NULL));
    AK_ASSERT_STR(pg.obs.v[0].key, k);
    free(k);
    ak_pull_page_release(&pg);

    /* ElastiCache node replacement: the SNS notice and the DescribeEvents text */
    k = push_key("tests/data/events/elasticache-node-replacement-scheduled.json");
    AK_ASSERT_OK(pull_file(AK_PULL_EC_EVENTS, "ec-describe-events.xml", &tokyo, &pg, NULL));
    AK_ASSERT_STR(pg.obs.v[0].key, k);
    AK_ASSERT_STR(pg.obs.v[3].key, k); /* and its completion */
    free(k);
    ak_pull_page_release(&pg);
}

/* ---- errors ------------------------------------------------------------------------------- */

static void expect_error(const char *fixture, const char *code, const char *msg_start)
{
    char path[256], *c = NULL, *m = NULL;
    size_t n = 0;
    snprintf(path, sizeof(path), D "%s", fixture);
    char *s = read_fixture(path, &n);
    int r = ak_pull_error(s, n, &c, &m);

    if (r != AK_OK || !c || strcmp(c, code) != 0 || !m ||
        strncmp(m, msg_start, strlen(msg_start)) != 0) {
        printf("# %s: r=%d code=%s message=%s\n", fixture, r, c ? c : "(null)", m ? m : "(null)");
        ak_test_failed_ = 1;
    }
    free(c);
    free(m);
    free(s);
}

AK_TEST(error_shapes)
{
    char *c = NULL, *m = NULL;

    expect_error("error-ec2.xml", "RequestLimitExceeded", "Request limit exceeded.");
    expect_error("error-query.xml", "AccessDenied", "User: arn:aws:sts::210987654321:");
    expect_error("error-health.json", "SubscriptionRequiredException",
                 "The AWS Health API requires");
    expect_error("error-json-plain.json", "ThrottlingException", "Rate exceeded");

    static const char j[] = "  {\"__type\":\"a.b#Bad:http://x/\"}";
    static const char x[] = "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>";
    AK_ASSERT_OK(ak_pull_error(j, strlen(j), &c, &m));
    AK_ASSERT_STR(c, "Bad");
    AK_ASSERT_STR(m, "");
    free(c);
    free(m);
    c = m = NULL;
    AK_ASSERT_OK(ak_pull_error(x, strlen(x), &c, &m));
    AK_ASSERT_STR(c, "Throttling");
    AK_ASSERT_STR(m, "");
    free(c);
    free(m);
    c = m = NULL;

    /* not error documents */
    static const char *const not_errors[] = {
        "", "   ", "Service Unavailable", "{\"events\":[]}", "{\"__type\":\"\"}",
        "{\"__type\":\"x#\"}", "{\"__type\":7}", "{broken", "<Response><Errors/></Response>",
        "<DescribeEventsResponse/>", "<ErrorResponse><Error><Code></Code></Error></ErrorResponse>",
        "<Response><Errors><Error><Code>X</Code></Error>", "[1]",
    };
    for (size_t i = 0; i < AK_ARRAY_SIZE(not_errors); i++) {
        int r = ak_pull_error(not_errors[i], strlen(not_errors[i]), &c, &m);
        if (r != AK_ENOTFOUND || c || m)
            AK_FAIL_("not_errors[%zu]: r=%d", i, r);
    }
    AK_ASSERT_EQ_INT(ak_pull_error(NULL, 0, &c, &m), AK_ENOTFOUND);
    /* a successful page is no error */
    size_t n = 0;
    char *s = read_fixture(D "ec-describe-events.xml", &n);
    AK_ASSERT_EQ_INT(ak_pull_error(s, n, &c, &m), AK_ENOTFOUND);
    free(s);
}

/* ---- malformed pages ---------------------------------------------------------------------- */

struct bad {
    enum ak_pull_api api;
    const char *body;
    int code;
    const char *msg;
};

AK_TEST(malformed_refused)
{
    static const struct bad bad[] = {
        {AK_PULL_EC2_INSTANCE_STATUS, "<DescribeInstanceStatusResponse>\n<instanceStatusSet>",
         AK_EINVAL, "ec2:DescribeInstanceStatus: the response is not usable XML: line 2, column "},
        {AK_PULL_EC2_INSTANCE_STATUS,
         "<Response><Errors><Error><Code>AuthFailure</Code></Error></Errors></Response>",
         AK_EINVAL, "the response is <Response>, not <DescribeInstanceStatusResponse>"},
        {AK_PULL_EC2_INSTANCE_STATUS, "<DescribeInstanceStatusResponse/>", AK_EINVAL,
         "has no instanceStatusSet"},
        {AK_PULL_EC2_INSTANCE_STATUS,
         "<DescribeInstanceStatusResponse><instanceStatusSet><item><instanceId>i-1</instanceId>"
         "</item><item><availabilityZone>z</availabilityZone></item></instanceStatusSet>"
         "</DescribeInstanceStatusResponse>",
         AK_EINVAL, "instanceStatusSet item 2 has no instanceId"},
        {AK_PULL_EC2_INSTANCE_STATUS,
         "<DescribeInstanceStatusResponse><instanceStatusSet><item><instanceId>i-1</instanceId>"
         "<eventsSet><item><code>system-reboot</code></item></eventsSet></item>"
         "</instanceStatusSet></DescribeInstanceStatusResponse>",
         AK_EINVAL, "event 1 of instance i-1 has no instanceEventId"},
        {AK_PULL_EC2_INSTANCE_STATUS,
         "<DescribeInstanceStatusResponse><instanceStatusSet><item><instanceId>i-1</instanceId>"
         "<eventsSet><item><instanceEventId>e</instanceEventId><notBefore>soon</notBefore>"
         "</item></eventsSet></item></instanceStatusSet></DescribeInstanceStatusResponse>",
         AK_EINVAL, "event 1 of instance i-1 has notBefore \"soon\", which is not a time"},
        {AK_PULL_RDS_PENDING, "<DescribePendingMaintenanceActionsResponse/>", AK_EINVAL,
         "has no DescribePendingMaintenanceActionsResult"},
        {AK_PULL_RDS_PENDING,
         "<DescribePendingMaintenanceActionsResponse><DescribePendingMaintenanceActionsResult>"
         "<PendingMaintenanceActions><ResourcePendingMaintenanceActions>"
         "<ResourceIdentifier>arn:aws:rds:r:1:db:x</ResourceIdentifier>"
         "<PendingMaintenanceActionDetails><PendingMaintenanceAction><Description>d"
         "</Description></PendingMaintenanceAction></PendingMaintenanceActionDetails>"
         "</ResourcePendingMaintenanceActions></PendingMaintenanceActions>"
         "</DescribePendingMaintenanceActionsResult></DescribePendingMaintenanceActionsResponse>",
         AK_EINVAL, "action 1 of arn:aws:rds:r:1:db:x has no Action"},
        {AK_PULL_EC_UPDATE_ACTIONS,
         "<DescribeUpdateActionsResponse><DescribeUpdateActionsResult><UpdateActions>"
         "<UpdateAction><ServiceUpdateName>u</ServiceUpdateName></UpdateAction></UpdateActions>"
         "</DescribeUpdateActionsResult></DescribeUpdateActionsResponse>",
         AK_EINVAL, "UpdateAction 1 has no ReplicationGroupId or CacheClusterId"},
        {AK_PULL_EC_SERVICE_UPDATES,
         "<DescribeServiceUpdatesResponse><DescribeServiceUpdatesResult><ServiceUpdates>"
         "<ServiceUpdate><ServiceUpdateName>u</ServiceUpdateName><ServiceUpdateEndDate>x"
         "</ServiceUpdateEndDate></ServiceUpdate></ServiceUpdates></DescribeServiceUpdatesResult>"
         "</DescribeServiceUpdatesResponse>",
         AK_EINVAL, "service update u has ServiceUpdateEndDate \"x\", which is not a time"},
        {AK_PULL_EC_EVENTS,
         "<DescribeEventsResponse><DescribeEventsResult><Events><Event><Message>The node with "
         "Cache Cluster ID: c is scheduled for replacement</Message></Event></Events>"
         "</DescribeEventsResult></DescribeEventsResponse>",
         AK_EINVAL, "Event 1 has no SourceIdentifier"},
        {AK_PULL_EC_EVENTS, "<!DOCTYPE x [<!ENTITY a \"b\">]><DescribeEventsResponse/>",
         AK_EINVAL, "a DOCTYPE is not accepted"},
        {AK_PULL_HEALTH_EVENTS, "{\"events\": 3}", AK_EINVAL, "has no \"events\" array"},
        {AK_PULL_HEALTH_EVENTS, "{\"events\": [{\"arn\": \"a\"}, {}]}", AK_EINVAL,
         "health:DescribeEvents: events[1] has no \"arn\" string"},
        {AK_PULL_HEALTH_EVENTS, "{\"events\": [", AK_EINVAL,
         "health:DescribeEvents: the response is not valid JSON: line 1"},
        {AK_PULL_HEALTH_EVENTS, "[]", AK_EINVAL, "not a JSON object"},
        {AK_PULL_HEALTH_ENTITIES, "{\"entities\": [{\"entityValue\": \"i-1\"}]}", AK_EINVAL,
         "entities[0] has no \"eventArn\" string"},
        {AK_PULL_HEALTH_ENTITIES, "{\"entities\": [{\"eventArn\": \"not-an-arn\"}]}", AK_EINVAL,
         "has no eventTypeCode"},
        {(enum ak_pull_api)99, "{}", AK_EINVAL, "Pull API 99 is unknown"},
    };
    for (size_t i = 0; i < AK_ARRAY_SIZE(bad); i++) {
        struct ak_pull_page pg = {0};
        struct ak_buf err = AK_BUF_INIT(1024);
        int r = pull_str(bad[i].api, bad[i].body, &pg, &err);
        bool ok = r == bad[i].code && strstr(err.buf, bad[i].msg) && pg.obs.n == 0 &&
                  !pg.next_token && !pg.docs;
        if (!ok)
            printf("# bad[%zu]: r=%d err=%s\n", i, r, err.buf);
        ak_buf_release(&err);
        if (!ok)
            AK_FAIL_("bad[%zu] was not refused as expected", i);
    }
}

AK_TEST(context_required)
{
    struct ak_pull_page pg = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_pull_ctx ctx = tokyo;

    ctx.account = NULL;
    AK_ASSERT_EQ_INT(ak_pull_parse(AK_PULL_HEALTH_EVENTS, "{\"events\":[]}", 13, &ctx, &pg, &err),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "account or region is not known");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_pull_parse(AK_PULL_HEALTH_EVENTS, "{\"events\":[]}", 13, NULL, &pg, &err),
                     AK_EINVAL);
    /* an empty page is fine: nothing seen, nothing next */
    AK_ASSERT_OK(ak_pull_parse(AK_PULL_HEALTH_EVENTS, "{\"events\":[]}", 13, &tokyo, &pg, NULL));
    AK_ASSERT_EQ_INT(pg.n_seen, 0);
    AK_ASSERT_NULL(pg.next_token);
    AK_ASSERT_EQ_INT(ak_json_len(pg.health_arns), 0);
    ak_pull_page_release(&pg);
    AK_ASSERT_OK(pull_str(AK_PULL_EC2_INSTANCE_STATUS,
                          "<DescribeInstanceStatusResponse><instanceStatusSet/>"
                          "<nextToken></nextToken></DescribeInstanceStatusResponse>",
                          &pg, NULL));
    AK_ASSERT_EQ_INT(pg.n_seen, 0);
    AK_ASSERT_NULL(pg.next_token);
    ak_pull_page_release(&pg);
    ak_buf_release(&err);
}

AK_TEST_MAIN(AK_T(ec2_instance_status_page), AK_T(ec2_docs_deterministic_and_lists),
             AK_T(rds_pending_actions_page), AK_T(rds_other_actions_and_arn_account),
             AK_T(ec_service_updates_page), AK_T(ec_update_actions_page),
             AK_T(ec_update_action_statuses), AK_T(ec_describe_events_page),
             AK_T(health_events_page), AK_T(health_entities_page), AK_T(push_and_pull_keys_equal),
             AK_T(error_shapes), AK_T(malformed_refused), AK_T(context_required))
