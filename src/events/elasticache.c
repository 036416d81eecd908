/* elasticache.c — ElastiCache SNS notifications: a JSON object with one "ElastiCache:<Event>" key
 * whose value is the cluster or replication group, plus attribute keys ("Cache Cluster ID",
 * "Replication Group ID", "Cache Node ID", "Service Update Name"). Reference: §4. */
#include "asakai/ak_events.h"

#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "events-int.h"
#include "../core/ak_banned.h"

#define EC_PREFIX "ElastiCache:"

struct ec_event {
    const char *name;
    const char *kind;
    const char *status;
    bool required;
};

static const struct ec_event ec_events[] = {
    {"NodeReplacementScheduled", "node-replacement", "scheduled", true},
    {"NodeReplacementRescheduled", "node-replacement", "rescheduled", true},
    {"NodeReplacementCanceled", "node-replacement", "canceled", true},
    {"CacheNodeReplaceStarted", "node-replacement", "in-progress", true},
    {"CacheNodeReplaceComplete", "node-replacement", "completed", true},
    {"ServiceUpdateAvailableForNode", "service-update", "scheduled", false},
    {"ServiceUpdateAvailable", "service-update", "scheduled", false},
};

static const struct ec_event *ec_lookup(const char *name)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(ec_events); i++)
        if (strcmp(ec_events[i].name, name) == 0)
            return &ec_events[i];
    return NULL;
}

int ak_events_ec_event(const char *name, const char **ret_kind, const char **ret_status,
                       bool *ret_required)
{
    const struct ec_event *e = name ? ec_lookup(name) : NULL;

    if (!e)
        return AK_ENOTFOUND;
    *ret_kind = e->kind;
    *ret_status = e->status;
    *ret_required = e->required;
    return AK_OK;
}

char *ak_events_ec_key(const char *account, const char *region, const char *target,
                       const char *kind, const char *update)
{
    const char *family = ak_kind_family("elasticache", kind);

    account = account ? account : "-";
    region = region ? region : "-";
    /* no window in the key: reschedule, cancel and completion must land on the same record */
    if (ak_streq(kind, "service-update") && update)
        return ak_xasprintf("elasticache:%s:%s:%s:%s:%s", account, region, target, family,
                            update);
    return ak_xasprintf("elasticache:%s:%s:%s:%s", account, region, target, family);
}

/* The longest prefix of s (at most 63 bytes) that ak_time_parse accepts: the window texts end
 * with prose (", End Time:", " has been canceled") and RFC 1123 times contain commas. */
static int64_t time_prefix(const char *s)
{
    char buf[64];
    size_t n = strnlen(s, sizeof(buf) - 1);
    int64_t ms;

    for (; n >= 10; n--) {
        memcpy(buf, s, n);
        buf[n] = 0;
        if (ak_time_parse(buf, &ms) == 0)
            return ms;
    }
    return 0;
}

static int64_t time_after(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    return p ? time_prefix(p + strlen(label)) : 0;
}

/* "... from Start Time: %s, End Time: %s"; a reschedule says "... to New Start Time: %s, New End
 * Time: %s" after the previous window, and the new one is what counts. */
void ak_events_ec_window(const char *text, int64_t *start, int64_t *end)
{
    int64_t s = time_after(text, "New Start Time: ");
    int64_t e = time_after(text, "New End Time: ");

    if (!s) {
        const char *p = strstr(text, "Start Time: ");
        if (p && p > text && p[-1] != ' ')
            p = NULL;
        if (p) {
            s = time_prefix(p + strlen("Start Time: "));
            e = time_after(p, "End Time: ");
        }
    }
    if (s && !*start) {
        *start = s;
        *end = e;
    }
}

struct ec_msg {
    const char *event_key; /* "ElastiCache:NodeReplacementScheduled" */
    const char *target;    /* its value: cluster or replication group */
    const char *cluster, *group, *node, *update;
    int64_t start, end;
};

static void ec_scan(const struct ak_json *msg, struct ec_msg *m, struct ak_buf *desc)
{
    for (void *it = ak_json_iter(msg); it; it = ak_json_iter_next(msg, it)) {
        const char *k = ak_json_iter_key(it);
        const char *v = ak_json_str(ak_json_iter_value(it));

        if (!v)
            continue;
        if (ak_startswith(k, EC_PREFIX) && !m->event_key) {
            m->event_key = k;
            m->target = v;
        } else if (strcmp(k, "Cache Cluster ID") == 0)
            m->cluster = v;
        else if (strcmp(k, "Replication Group ID") == 0)
            m->group = v;
        else if (strcmp(k, "Cache Node ID") == 0)
            m->node = v;
        else if (strcmp(k, "Service Update Name") == 0)
            m->update = v;
        ak_events_ec_window(v, &m->start, &m->end);
        ak_buf_addf(desc, "%s%s: %s", desc->len ? "; " : "", k, v);
    }
}

static void ec_fill(struct ak_obs *o, const struct ec_msg *m, const struct ec_event *e,
                    const struct ak_events_ctx *ctx, const char *target, struct ak_buf *desc)
{
    o->source = ak_xstrdup("elasticache-sns");
    o->service = ak_xstrdup("elasticache");
    o->kind = ak_xstrdup(e->kind);
    o->status = ak_xstrdup(e->status);
    o->event_code = ak_xstrdup(m->event_key);
    o->key = ak_events_ec_key(ctx->account, ctx->region, target, e->kind, m->update);
    o->account = ak_xstrdup(ctx->account);
    o->region = ak_xstrdup(ctx->region);
    ak_events_obs_add_resource(o, target);
    ak_events_obs_add_resource(o, m->group);
    ak_events_obs_add_resource(o, m->cluster);
    ak_events_obs_add_resource(o, m->node);
    ak_events_obs_finish(o);
    o->window_start = m->start;
    o->window_end = m->end;
    o->deadline = m->start;
    o->event_time = ctx->received_ms;
    o->required = e->required;
    o->description = ak_buf_detach(desc, NULL);
    if (strcmp(e->kind, "service-update") == 0 && m->update) {
        char *w = ak_xasprintf("service update %.100s for", m->update);
        ak_events_obs_title(o, "ElastiCache", w, NULL);
        free(w);
    } else
        ak_events_obs_title(o, "ElastiCache", NULL, NULL);
}

int ak_events_elasticache(const struct ak_json *msg, const struct ak_events_ctx *ctx,
                          struct ak_obs_list *l, struct ak_buf *why)
{
    struct ec_msg m = {0};
    struct ak_buf desc = AK_BUF_INIT(64 * 1024);
    const struct ec_event *e;
    const char *target;
    int r = AK_OK;

    ec_scan(msg, &m, &desc);
    if (!m.event_key) {
        r = ak_err(why, AK_EUNSUPPORTED, "The message has no string \"ElastiCache:\" key.");
        goto out;
    }
    e = ec_lookup(m.event_key + strlen(EC_PREFIX));
    if (!e) {
        r = ak_err(why, AK_OK, "%.100s is not a maintenance event.", m.event_key);
        goto out;
    }
    target = *m.target ? m.target : m.group ? m.group : m.cluster;
    if (!target || !*target) {
        r = ak_err(why, AK_EINVAL, "%.100s names no cache cluster or replication group.",
                   m.event_key);
        goto out;
    }
    ec_fill(ak_events_obs_push(l), &m, e, ctx, target, &desc);
out:
    ak_buf_release(&desc);
    return r;
}
