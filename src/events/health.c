/* health.c — AWS Health events: EventBridge "AWS Health Event" (RFC 1123 times, pages) and the
 * Health API's event shapes (epoch-second numbers). Reference: maintenance-events.md §3, §7.3. */
#include "asakai/ak_events.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "events-int.h"
#include "../core/ak_banned.h"

/* One Health event whatever shape it came in. Strings are borrowed from the JSON. */
struct health_in {
    const char *source; /* NULL: "aws.health" */
    const char *arn, *service, *code, *category, *status, *region, *account, *actionability;
    int64_t start, end, updated, envelope_time;
    const struct ak_json *entities;  /* [{entityValue}] */
    const struct ak_json *resources; /* ["id", ...] */
    const struct ak_json *desc;      /* [{language, latestDescription}] or {latestDescription} */
    const struct ak_json *page, *total_pages;
};

struct code_kind {
    const char *needle;
    const char *kind;
};

/* First match wins: ECS's TASK_PATCHING_RETIREMENT is a retirement, not a patch. */
static const struct code_kind code_kinds[] = {
    {"RETIREMENT", "instance-retirement"},
    {"INSTANCE_STOP", "instance-stop"},
    {"INSTANCE_TERMINATION", "instance-retirement"},
    {"SYSTEM_REBOOT", "system-reboot"},
    {"INSTANCE_REBOOT", "instance-reboot"},
    {"NETWORK_MAINTENANCE", "network-maintenance"},
    {"POWER_MAINTENANCE", "power-maintenance"},
    {"SYSTEM_MAINTENANCE", "system-maintenance"},
    {"HARDWARE_MAINTENANCE", "hardware-maintenance"},
    {"NODE_REPLACEMENT", "node-replacement"},
    {"SERVICE_UPDATE", "service-update"},
    {"MINOR_VERSION", "minor-version-upgrade"},
    {"MAJOR_VERSION", "major-version-upgrade"},
    {"OPERATING_SYSTEM_UPGRADE", "os-upgrade"},
    {"OS_UPGRADE", "os-upgrade"},
    {"PATCHING", "security-patching"},
    {"CERTIFICATE_ROTATION", "certificate-rotation"},
    {"PLANNED_LIFECYCLE_EVENT", "planned-lifecycle"},
};

/* The generic RDS/Aurora maintenance codes only say what is upgraded in prose. */
static const struct code_kind desc_kinds[] = {
    {"minor version", "minor-version-upgrade"},
    {"major version", "major-version-upgrade"},
    {"operating system", "os-upgrade"},
};

static const char *health_kind(const char *code, const char *desc)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(code_kinds); i++)
        if (strstr(code, code_kinds[i].needle))
            return code_kinds[i].kind;
    if (strstr(code, "MAINTENANCE"))
        for (size_t i = 0; i < AK_ARRAY_SIZE(desc_kinds); i++)
            if (ak_events_ci_contains(desc, desc_kinds[i].needle))
                return desc_kinds[i].kind;
    return "other";
}

static bool health_required(const struct health_in *in)
{
    if (strstr(in->code, "RETIREMENT") || strstr(in->code, "INSTANCE_STOP") ||
        strstr(in->code, "TERMINATION") || strstr(in->code, "FORCED"))
        return true;
    return ak_streq(in->category, "scheduledChange") &&
           ak_streq(in->actionability, "ACTION_REQUIRED");
}

/* en_US preferred, else the first description there is. */
static const char *health_desc(const struct ak_json *d)
{
    const char *first = NULL;

    if (ak_json_is_obj(d))
        return ak_json_get_str(d, "latestDescription");
    for (size_t i = 0; i < ak_json_len(d); i++) {
        const struct ak_json *e = ak_json_at(d, i);
        const char *s = ak_json_get_str(e, "latestDescription");
        if (!s)
            continue;
        if (ak_streq(ak_json_get_str(e, "language"), "en_US"))
            return s;
        if (!first)
            first = s;
    }
    return first;
}

static int page_num(const struct ak_json *v)
{
    uint64_t n = 0;

    if (ak_json_is_int(v) && ak_json_int(v) > 0 && ak_json_int(v) <= 100000)
        return (int)ak_json_int(v);
    if (ak_json_is_str(v) && ak_parse_u64(ak_json_str(v), 1, 100000, &n) == 0)
        return (int)n;
    return 0;
}

static const char *health_status(const struct health_in *in, const struct ak_events_ctx *ctx)
{
    int64_t now = ctx->received_ms ? ctx->received_ms : in->envelope_time;

    if (ak_streq(in->status, "closed"))
        return "completed";
    if (ak_streq(in->status, "upcoming"))
        return "scheduled";
    /* open, or no statusCode at all (older events): started once startTime has passed */
    if (in->start && now && in->start < now)
        return "in-progress";
    return "scheduled";
}

/* "AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED" -> "instance store drive performance
 * degraded", for the titles of kind "other". */
static char *code_words(const char *code, const char *service)
{
    struct ak_buf b = AK_BUF_INIT(256);
    const char *p = code;

    if (ak_startswith(p, "AWS_"))
        p += 4;
    if (service && strncmp(p, service, strlen(service)) == 0 && p[strlen(service)] == '_')
        p += strlen(service) + 1;
    for (; *p; p++)
        ak_buf_addc(&b, *p == '_' ? ' ' : (char)tolower((unsigned char)*p));
    return ak_buf_detach(&b, NULL);
}

static char *lower(const char *s)
{
    char *r = ak_xstrdup(s);
    for (char *p = r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return r;
}

/* "arn:aws:health:us-east-1::event/EC2/CODE/ID" -> "EC2" */
static char *service_from_arn(const char *arn)
{
    const char *p = strstr(arn, ":event/"), *e;

    if (!p || !(e = strchr(p + 7, '/')) || e == p + 7)
        return NULL;
    return ak_xstrndup(p + 7, (size_t)(e - p - 7));
}

/* Resource tags: AWS allows 50 per resource, keys of 128 and values of 256 characters. Across
 * the entities of one event, at most TAGS_MAX distinct keys are kept; longer keys or values are
 * skipped, not truncated (a cut value would match the wrong route). */
#define TAGS_MAX 100
#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256

/* Merges the string tags of one entity ({"env":"prod"}) into acc; later entities win. */
static void merge_entity_tags(struct ak_json *acc, const struct ak_json *tags)
{
    for (void *it = ak_json_iter(tags); it; it = ak_json_iter_next(tags, it)) {
        const char *k = ak_json_iter_key(it);
        const struct ak_json *v = ak_json_iter_value(it);
        if (!ak_json_is_str(v) || !*k || strlen(k) > TAG_KEY_MAX ||
            ak_json_str_len(v) > TAG_VALUE_MAX || memchr(ak_json_str(v), 0, ak_json_str_len(v)))
            continue;
        if (!ak_json_get(acc, k) && ak_json_len(acc) >= TAGS_MAX)
            continue;
        ak_json_set(acc, k, ak_json_new_strn(ak_json_str(v), ak_json_str_len(v)));
    }
}

static void add_tags(struct ak_obs *o, const struct health_in *in)
{
    struct ak_json *acc = ak_json_new_obj();

    for (size_t i = 0; i < ak_json_len(in->entities); i++) {
        const struct ak_json *t = ak_json_get(ak_json_at(in->entities, i), "tags");
        if (ak_json_is_obj(t))
            merge_entity_tags(acc, t);
    }
    if (ak_json_len(acc))
        o->tags = ak_json_dump(acc, AK_JSON_COMPACT);
    ak_json_free(acc);
}

static void add_resources(struct ak_obs *o, const struct health_in *in)
{
    for (size_t i = 0; i < ak_json_len(in->entities); i++) {
        const struct ak_json *e = ak_json_at(in->entities, i);
        ak_events_obs_add_resource(o, ak_json_is_str(e) ? ak_json_str(e)
                                                         : ak_json_get_str(e, "entityValue"));
    }
    for (size_t i = 0; i < ak_json_len(in->resources); i++)
        ak_events_obs_add_resource(o, ak_json_str(ak_json_at(in->resources, i)));
    ak_events_obs_finish(o);
}

static int health_build(const struct health_in *in, const struct ak_events_ctx *ctx,
                        struct ak_obs_list *l, struct ak_buf *why)
{
    struct ak_obs *o;
    char *svc = NULL, *arn_region = NULL, *arn_account = NULL, *words = NULL;
    const char *desc, *account, *region;

    if (!in->arn || !*in->arn)
        return ak_err(why, AK_EINVAL, "The AWS Health event has no eventArn.");
    if (!in->code || !*in->code)
        return ak_err(why, AK_EINVAL, "The AWS Health event %.200s has no eventTypeCode.",
                      in->arn);
    svc = in->service && *in->service ? ak_xstrdup(in->service) : service_from_arn(in->arn);
    ak_events_arn_split(in->arn, NULL, &arn_region, &arn_account);
    account = in->account ? in->account : ctx->account;
    region = in->region ? in->region : ctx->region ? ctx->region : arn_region;
    desc = health_desc(in->desc);

    o = ak_events_obs_push(l);
    o->source = ak_xstrdup(in->source ? in->source : "aws.health");
    o->service = svc ? lower(svc) : ak_xstrdup("unknown");
    o->kind = ak_xstrdup(health_kind(in->code, desc));
    o->status = ak_xstrdup(health_status(in, ctx));
    o->event_code = ak_xstrdup(in->code);
    o->key = ak_xasprintf("health:%s:%s", account ? account : "-", in->arn);
    o->account = ak_xstrdup(account);
    o->region = ak_xstrdup(region);
    add_resources(o, in);
    add_tags(o, in);
    o->window_start = in->start;
    o->window_end = in->end;
    o->deadline = ak_streq(in->category, "scheduledChange") ? in->start : 0;
    o->event_time = in->updated     ? in->updated
                    : in->envelope_time ? in->envelope_time
                                        : ctx->received_ms;
    o->description = ak_xstrdup(desc);
    o->required = health_required(in);
    o->page = page_num(in->page);
    o->total_pages = page_num(in->total_pages);
    if (strcmp(o->kind, "other") == 0)
        words = code_words(in->code, svc);
    ak_events_obs_title(o, svc ? svc : "AWS", words, NULL);
    free(words);
    free(svc);
    free(arn_region);
    free(arn_account);
    return AK_OK;
}

int ak_events_health(const struct ak_json *ev, const struct ak_json *detail,
                     const struct ak_events_ctx *ctx, struct ak_obs_list *l, struct ak_buf *why)
{
    struct health_in in = {0};
    const char *acct;

    if (!ak_json_is_obj(detail))
        return ak_err(why, AK_EINVAL, "The AWS Health event has no detail object.");
    in.arn = ak_json_get_str(detail, "eventArn");
    in.service = ak_json_get_str(detail, "service");
    in.code = ak_json_get_str(detail, "eventTypeCode");
    in.category = ak_json_get_str(detail, "eventTypeCategory");
    in.status = ak_json_get_str(detail, "statusCode");
    in.actionability = ak_json_get_str(detail, "actionability");
    in.region = ak_json_get_str(detail, "eventRegion");
    if (!in.region)
        in.region = ak_json_get_str(ev, "region");
    /* organizational view: the affected account is the one the maintenance is about */
    acct = ak_json_get_str(detail, "affectedAccount");
    in.account = acct ? acct : ak_json_get_str(ev, "account");
    in.start = ak_events_time(ak_json_get(detail, "startTime"));
    in.end = ak_events_time(ak_json_get(detail, "endTime"));
    in.updated = ak_events_time(ak_json_get(detail, "lastUpdatedTime"));
    in.envelope_time = ak_events_time(ak_json_get(ev, "time"));
    in.entities = ak_json_get(detail, "affectedEntities");
    in.resources = ak_json_get(ev, "resources");
    in.desc = ak_json_get(detail, "eventDescription");
    in.page = ak_json_get(detail, "page");
    in.total_pages = ak_json_get(detail, "totalPages");
    return health_build(&in, ctx, l, why);
}

/* DescribeEvents' events[] item {arn, ...} or DescribeEventDetails' successfulSet[] item
 * {event: {...}, eventDescription: {latestDescription}}. */
int ak_events_health_api(const struct ak_json *j, const struct ak_events_ctx *ctx,
                         struct ak_obs_list *l, struct ak_buf *why)
{
    struct health_in in = {0};
    const struct ak_json *e = ak_json_is_obj(ak_json_get(j, "event")) ? ak_json_get(j, "event") : j;

    in.arn = ak_json_get_str(e, "arn");
    in.service = ak_json_get_str(e, "service");
    in.code = ak_json_get_str(e, "eventTypeCode");
    in.category = ak_json_get_str(e, "eventTypeCategory");
    in.status = ak_json_get_str(e, "statusCode");
    in.actionability = ak_json_get_str(e, "actionability");
    in.region = ak_json_get_str(e, "region");
    in.account = ak_json_get_str(e, "awsAccountId");
    in.start = ak_events_time(ak_json_get(e, "startTime"));
    in.end = ak_events_time(ak_json_get(e, "endTime"));
    in.updated = ak_events_time(ak_json_get(e, "lastUpdatedTime"));
    in.entities = ak_json_get(j, "entities");
    in.desc = ak_json_get(j, "eventDescription");
    return health_build(&in, ctx, l, why);
}

/* "arn:aws:health:REGION::event/SERVICE/CODE/ID" -> CODE (NULL when the ARN has no such part). */
static char *code_from_arn(const char *arn)
{
    const char *p = strstr(arn, ":event/"), *c, *e;

    if (!p || !(c = strchr(p + 7, '/')) || !(e = strchr(c + 1, '/')) || e == c + 1)
        return NULL;
    return ak_xstrndup(c + 1, (size_t)(e - c - 1));
}

int ak_events_health_entities(const struct ak_json *event, const char *arn,
                              const struct ak_json *entities, const struct ak_events_ctx *ctx,
                              struct ak_obs_list *l, struct ak_buf *why)
{
    struct health_in in = {0};
    char *code = NULL;
    int r;

    in.source = "health-api";
    in.arn = arn;
    in.service = ak_json_get_str(event, "service");
    in.code = ak_json_get_str(event, "eventTypeCode");
    if (!in.code && arn)
        in.code = code = code_from_arn(arn);
    in.category = ak_json_get_str(event, "eventTypeCategory");
    in.status = ak_json_get_str(event, "statusCode");
    in.actionability = ak_json_get_str(event, "actionability");
    in.region = ak_json_get_str(event, "region");
    in.start = ak_events_time(ak_json_get(event, "startTime"));
    in.end = ak_events_time(ak_json_get(event, "endTime"));
    in.updated = ak_events_time(ak_json_get(event, "lastUpdatedTime"));
    in.entities = entities;
    r = health_build(&in, ctx, l, why);
    free(code);
    return r;
}
