/* rds.c — RDS event notifications: the SNS Message object ("Event Source", "Event Time",
 * "Source ID", "Source ARN", "Event ID" URL, "Event Message") and the EventBridge event
 * (source aws.rds, detail.EventID ...). Reference: maintenance-events.md §5. */
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

/* kind ENGINE: minor or major version upgrade, whichever the message says. */
#define ENGINE NULL

struct rds_event {
    unsigned id;
    const char *kind;
    const char *status;
    bool required;
    const char *words; /* title words for kind "other" */
};

/* §5.3: the maintenance, notification and security-patching events that are about a
 * maintenance. Everything else (backup, creation, failover, stop/start) is not. */
static const struct rds_event rds_events[] = {
    {26, "security-patching", "in-progress", false, NULL},
    {27, "security-patching", "completed", false, NULL},
    {44, "other", "scheduled", false, "operator notification"},
    {47, "security-patching", "completed", false, NULL},
    {48, ENGINE, "scheduled", false, NULL},
    {155, "minor-version-upgrade", "scheduled", false, NULL},
    {158, ENGINE, "scheduled", false, NULL},
    {176, "major-version-upgrade", "completed", false, NULL},
    {191, "other", "scheduled", false, "time zone file update"},
    {192, "other", "in-progress", false, "time zone file update"},
    {194, "other", "completed", false, "time zone file update"},
    {195, "other", "canceled", false, "time zone file update"},
    {230, "security-patching", "scheduled", false, NULL},
    {264, ENGINE, "in-progress", false, NULL},
    {265, ENGINE, "in-progress", false, NULL},
    {266, ENGINE, "in-progress", false, NULL},
    {267, ENGINE, "in-progress", false, NULL},
    {268, ENGINE, "completed", false, NULL},
    {269, ENGINE, "completed", false, NULL}, /* post-upgrade tasks: the upgrade itself is done */
    {270, ENGINE, "canceled", false, NULL},  /* failed and rolled back: nothing was applied */
    {286, ENGINE, "in-progress", false, NULL},
    {287, "os-upgrade", "scheduled", true, NULL},
    {288, "os-upgrade", "in-progress", false, NULL},
    {289, "os-upgrade", "completed", false, NULL},
    {290, "minor-version-upgrade", "completed", false, NULL},
};

/* Unknown ids in these EventBridge categories are kept (kind other) rather than dropped. */
static const struct rds_event rds_unknown_maint = {0, "other", "scheduled", false, NULL};

static const struct rds_event *rds_lookup(unsigned id)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(rds_events); i++)
        if (rds_events[i].id == id)
            return &rds_events[i];
    return NULL;
}

/* "http://docs.aws.amazon.com/...USER_Events.html#RDS-EVENT-0026" or "RDS-EVENT-0026" -> 26 */
static int rds_event_id(const char *s, unsigned *ret)
{
    const char *p = s ? strstr(s, "RDS-EVENT-") : NULL;
    unsigned v = 0;
    size_t n = 0;

    if (!p)
        return AK_EINVAL;
    for (p += 10; n < 5 && isdigit((unsigned char)p[n]); n++)
        v = v * 10 + (unsigned)(p[n] - '0');
    if (n < 4 || isdigit((unsigned char)p[n]))
        return AK_EINVAL;
    *ret = v;
    return AK_OK;
}

/* One RDS event whichever transport it came by; strings borrowed. */
struct rds_in {
    const char *source; /* "rds-sns" / "rds-eventbridge" */
    const char *event_id, *source_id, *source_arn, *message, *account, *region;
    const struct ak_json *resources;
    const struct ak_json *categories;
    int64_t time;
};

static bool in_category(const struct ak_json *cats, const char *name)
{
    for (size_t i = 0; i < ak_json_len(cats); i++)
        if (ak_streq(ak_json_str(ak_json_at(cats, i)), name))
            return true;
    return false;
}

/* The DB/cluster name: the ARN's last field ("...:db:mydb"), else the given id. */
static const char *rds_source_name(const struct rds_in *in)
{
    const char *p = in->source_arn ? strrchr(in->source_arn, ':') : NULL;

    if (p && p[1])
        return p + 1;
    if (in->source_id && *in->source_id)
        return in->source_id;
    return NULL;
}

char *ak_events_rds_key(const char *account, const char *region, const char *name,
                        const char *kind)
{
    return ak_xasprintf("rds:%s:%s:%s:%s", account ? account : "-", region ? region : "-", name,
                        ak_kind_family("rds", kind));
}

static void rds_fill(struct ak_obs *o, const struct rds_in *in, const struct rds_event *e,
                     unsigned id, const char *name, const char *account, const char *region)
{
    const char *kind = e->kind;

    if (kind == ENGINE)
        kind = ak_events_ci_contains(in->message, "major") ? "major-version-upgrade"
                                                 : "minor-version-upgrade";
    o->source = ak_xstrdup(in->source);
    o->service = ak_xstrdup("rds");
    o->kind = ak_xstrdup(kind);
    o->status = ak_xstrdup(e->status);
    o->event_code = ak_xasprintf("RDS-EVENT-%04u", id);
    o->key = ak_events_rds_key(account, region, name, kind);
    o->account = ak_xstrdup(account);
    o->region = ak_xstrdup(region);
    ak_events_obs_add_resource(o, in->source_arn ? in->source_arn : name);
    for (size_t i = 0; i < ak_json_len(in->resources); i++)
        ak_events_obs_add_resource(o, ak_json_str(ak_json_at(in->resources, i)));
    ak_events_obs_finish(o);
    o->event_time = in->time;
    o->description = ak_xstrdup(in->message);
    o->required = e->required;
    ak_events_obs_title(o, "RDS", e->words, name); /* the DB name, not its ARN */
}

static int rds_build(const struct rds_in *in, const struct ak_events_ctx *ctx,
                     struct ak_obs_list *l, struct ak_buf *why)
{
    const struct rds_event *e;
    char *arn_region = NULL, *arn_account = NULL;
    const char *name;
    unsigned id;

    if (rds_event_id(in->event_id, &id) < 0)
        return ak_err(why, AK_EINVAL, "RDS event ID \"%.200s\" has no RDS-EVENT-NNNN number.",
                      in->event_id ? in->event_id : "");
    e = rds_lookup(id);
    if (!e && (in_category(in->categories, "maintenance") ||
               in_category(in->categories, "security patching")))
        e = &rds_unknown_maint;
    if (!e)
        return ak_err(why, AK_OK, "RDS-EVENT-%04u (%.200s) is not a maintenance event.", id,
                      in->message ? in->message : "no message");
    name = rds_source_name(in);
    if (!name)
        return ak_err(why, AK_EINVAL, "RDS-EVENT-%04u names no source.", id);
    ak_events_arn_split(in->source_arn, "rds", &arn_region, &arn_account);
    rds_fill(ak_events_obs_push(l), in, e, id, name,
             arn_account ? arn_account : in->account ? in->account : ctx->account,
             arn_region ? arn_region : in->region ? in->region : ctx->region);
    free(arn_region);
    free(arn_account);
    return AK_OK;
}

int ak_events_rds_sns(const struct ak_json *msg, const struct ak_events_ctx *ctx,
                      struct ak_obs_list *l, struct ak_buf *why)
{
    struct rds_in in = {0};

    in.source = "rds-sns";
    in.event_id = ak_json_get_str(msg, "Event ID");
    in.source_id = ak_json_get_str(msg, "Source ID");
    in.source_arn = ak_json_get_str(msg, "Source ARN");
    in.message = ak_json_get_str(msg, "Event Message");
    in.time = ak_events_time(ak_json_get(msg, "Event Time"));
    if (!in.time)
        in.time = ctx->received_ms;
    return rds_build(&in, ctx, l, why);
}

int ak_events_rds_eventbridge(const struct ak_json *ev, const struct ak_events_ctx *ctx,
                              struct ak_obs_list *l, struct ak_buf *why)
{
    const struct ak_json *d = ak_json_get(ev, "detail");
    struct rds_in in = {0};

    if (!ak_json_is_obj(d))
        return ak_err(why, AK_EINVAL, "The aws.rds event has no detail object.");
    in.source = "rds-eventbridge";
    in.event_id = ak_json_get_str(d, "EventID");
    in.source_id = ak_json_get_str(d, "SourceIdentifier");
    in.source_arn = ak_json_get_str(d, "SourceArn");
    in.message = ak_json_get_str(d, "Message");
    in.categories = ak_json_get(d, "EventCategories");
    in.resources = ak_json_get(ev, "resources");
    in.account = ak_json_get_str(ev, "account");
    in.region = ak_json_get_str(ev, "region");
    in.time = ak_events_time(ak_json_get(d, "Date"));
    if (!in.time)
        in.time = ak_events_time(ak_json_get(ev, "time"));
    if (!in.time)
        in.time = ctx->received_ms;
    return rds_build(&in, ctx, l, why);
}
