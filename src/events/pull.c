/* pull.c — one response page of the APIs the pollers call -> observations (issue 4).
 *
 * EC2 DescribeInstanceStatus, RDS DescribePendingMaintenanceActions and ElastiCache
 * DescribeServiceUpdates / DescribeUpdateActions / DescribeEvents answer in XML (ak_xml.h);
 * AWS Health DescribeEvents / DescribeAffectedEntities in JSON. Keys are built by the same
 * helpers as the push parsers' (ak_events_rds_key, ak_events_ec_key, the Health builder), so a
 * push message and a poll about one maintenance meet in one record.
 * Reference: maintenance-events.md §6, §7. */
#include "asakai/ak_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "asakai/ak_xml.h"
#include "events-int.h"
#include "../core/ak_banned.h"

/* Health pages hold at most 100 events or entities; the cap only bounds memory. */
#define PULL_MAX_JSON (16u * 1024 * 1024)

struct pull {
    const char *name; /* "ec2:DescribeInstanceStatus": the docs' "api" and error prefix */
    const struct ak_pull_ctx *ctx;
    struct ak_pull_page *pg;
    struct ak_buf *err;
};

/* ---- the page ------------------------------------------------------------------------- */

void ak_pull_page_release(struct ak_pull_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->obs.n; i++) {
        if (p->docs)
            free(p->docs[i]);
        if (p->ids)
            free(p->ids[i]);
    }
    free(p->docs);
    free(p->ids);
    ak_obs_list_release(&p->obs);
    free(p->next_token);
    ak_json_free(p->service_updates);
    ak_json_free(p->health_arns);
    ak_json_free(p->health_events);
    memset(p, 0, sizeof(*p));
}

/* Appends an observation; docs and ids grow with it so the three stay parallel whatever fails
 * later. */
static struct ak_obs *page_push(struct pull *pl)
{
    struct ak_pull_page *pg = pl->pg;
    struct ak_obs *o = ak_events_obs_push(&pg->obs);
    size_t bytes;

    AK_BUG_ON(ak_size_mul_overflow(pg->obs.n, sizeof(char *), &bytes));
    pg->docs = ak_xrealloc(pg->docs, bytes);
    pg->ids = ak_xrealloc(pg->ids, bytes);
    pg->docs[pg->obs.n - 1] = NULL;
    pg->ids[pg->obs.n - 1] = NULL;
    return o;
}

/* The last observation's doc (item is stolen) and id (owned). */
static void page_attach(struct pull *pl, struct ak_json *item, char *id)
{
    struct ak_pull_page *pg = pl->pg;
    struct ak_json *doc = ak_json_new_obj();
    size_t i = pg->obs.n - 1;

    ak_json_set_str(doc, "api", pl->name);
    ak_json_set_str(doc, "account", pl->ctx->account);
    ak_json_set_str(doc, "region", pg->obs.v[i].region);
    ak_json_set(doc, "item", item);
    pg->docs[i] = ak_json_dump(doc, AK_JSON_COMPACT);
    pg->ids[i] = id;
    ak_json_free(doc);
}

static void page_token(struct pull *pl, const char *s)
{
    if (s && *s)
        ak_events_set(&pl->pg->next_token, s);
}

/* ---- XML helpers ---------------------------------------------------------------------- */

static struct ak_json *xml_json(const struct ak_xml_node *n);

/* n's child elements as an object; a name met twice becomes an array of all its values. */
static struct ak_json *xml_obj(const struct ak_xml_node *n, const char *skip)
{
    struct ak_json *o = ak_json_new_obj(), *repeated = ak_json_new_obj();

    for (const struct ak_xml_node *c = n->child; c; c = c->next) {
        struct ak_json *old;

        if (skip && strcmp(c->name, skip) == 0)
            continue;
        old = ak_json_get(o, c->name);
        if (!old) {
            ak_json_set(o, c->name, xml_json(c));
            continue;
        }
        /* the set above has its own "is it a list" question: a value that is an array may
         * be an <item> list, so which names were promoted is kept aside */
        if (!ak_json_get(repeated, c->name)) {
            struct ak_json *arr = ak_json_new_arr();
            ak_json_append(arr, ak_json_ref(old));
            ak_json_set(o, c->name, arr);
            ak_json_set(repeated, c->name, ak_json_new_bool(true));
            old = arr;
        }
        ak_json_append(old, xml_json(c));
    }
    ak_json_free(repeated);
    return o;
}

static bool list_member(const char *name)
{
    return strcmp(name, "item") == 0 || strcmp(name, "member") == 0;
}

/* Leaves are strings, <item>/<member> lists arrays, other elements objects (depth is bounded
 * by AK_XML_MAX_DEPTH). */
static struct ak_json *xml_json(const struct ak_xml_node *n)
{
    struct ak_json *arr;

    if (!n->child)
        return ak_json_new_strn(n->text, n->text_len);
    for (const struct ak_xml_node *c = n->child; c; c = c->next)
        if (!list_member(c->name))
            return xml_obj(n, NULL);
    arr = ak_json_new_arr();
    for (const struct ak_xml_node *c = n->child; c; c = c->next)
        ak_json_append(arr, xml_json(c));
    return arr;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* The time at path under n into *ret: 0 when absent or empty, AK_EINVAL naming it when it is
 * not a time. */
static int xml_time(struct pull *pl, const struct ak_xml_node *n, const char *path,
                    const char *where, int64_t *ret)
{
    const char *s = ak_xml_get(n, path);

    *ret = 0;
    if (!s || !*s)
        return AK_OK;
    if (ak_time_parse(s, ret) < 0)
        return ak_err(pl->err, AK_EINVAL, "%s: %s has %s \"%.64s\", which is not a time.",
                      pl->name, where, path, s);
    return AK_OK;
}

static int64_t min_known(int64_t a, int64_t b)
{
    if (!a || !b)
        return a ? a : b;
    return a < b ? a : b;
}

/* Joins the parts of a description with "; ". */
static void desc_add(struct ak_buf *b, const char *fmt, const char *s)
{
    if (!s || !*s)
        return;
    if (b->len)
        ak_buf_add(b, "; ");
    ak_buf_addf(b, fmt, s);
}

static void desc_time(struct ak_buf *b, const char *fmt, int64_t ms)
{
    char t[AK_TIME_RFC3339_LEN];

    if (!ms)
        return;
    ak_time_fmt_rfc3339(ms, t, sizeof(t));
    desc_add(b, fmt, t);
}

/* ---- EC2 DescribeInstanceStatus (§6) ---------------------------------------------------- */

static const char *ec2_status(const char *desc)
{
    if (ak_startswith(desc, "[Completed]"))
        return "completed";
    if (ak_startswith(desc, "[Canceled]") || ak_startswith(desc, "[Cancelled]"))
        return "canceled";
    return "scheduled";
}

static int ec2_event(struct pull *pl, const struct ak_xml_node *inst, const char *iid,
                     const struct ak_xml_node *ev, size_t idx)
{
    const struct ak_pull_ctx *ctx = pl->ctx;
    const char *eid = nonempty(ak_xml_get(ev, "instanceEventId"));
    const char *code = nonempty(ak_xml_get(ev, "code"));
    const char *desc = nonempty(ak_xml_get(ev, "description"));
    struct ak_json *item;
    struct ak_obs *o;
    int64_t nb, na, nbd;
    char where[128];
    int r;

    snprintf(where, sizeof(where), "event %zu of instance %.64s", idx + 1, iid);
    if (!eid)
        return ak_err(pl->err, AK_EINVAL, "%s: %s has no instanceEventId.", pl->name, where);
    if ((r = xml_time(pl, ev, "notBefore", where, &nb)) < 0 ||
        (r = xml_time(pl, ev, "notAfter", where, &na)) < 0 ||
        (r = xml_time(pl, ev, "notBeforeDeadline", where, &nbd)) < 0)
        return r;
    o = page_push(pl);
    o->source = ak_xstrdup("ec2-api");
    o->service = ak_xstrdup("ec2");
    o->kind = ak_xstrdup(code ? code : "other");
    o->status = ak_xstrdup(ec2_status(desc));
    o->event_code = ak_xstrdup(code);
    o->key = ak_xasprintf("ec2:%s:%s:%s:%s", ctx->account, ctx->region, iid, eid);
    o->account = ak_xstrdup(ctx->account);
    o->region = ak_xstrdup(ctx->region);
    ak_events_obs_add_resource(o, iid);
    o->window_start = nb;
    o->window_end = na;
    o->deadline = nbd ? nbd : nb;
    o->event_time = ctx->received_ms;
    o->description = ak_xstrdup(desc);
    o->required = true; /* EC2 acts on its own at the scheduled time */
    ak_events_obs_title(o, "EC2", NULL, NULL);
    /* each event its own document: the instance's fields plus this one event */
    item = xml_obj(inst, "eventsSet");
    ak_json_set(item, "event", xml_json(ev));
    page_attach(pl, item, ak_xstrdup(eid));
    return AK_OK;
}

static int ec2_page(struct pull *pl, const struct ak_xml_node *root)
{
    const struct ak_xml_node *set = ak_xml_child(root, "instanceStatusSet"), *it, *ev;
    size_t i = 0, j;
    int r;

    if (!set)
        return ak_err(pl->err, AK_EINVAL, "%s: the response has no instanceStatusSet.",
                      pl->name);
    for (it = ak_xml_child(set, "item"); it; it = ak_xml_next(it), i++) {
        const char *iid = nonempty(ak_xml_get(it, "instanceId"));
        if (!iid)
            return ak_err(pl->err, AK_EINVAL, "%s: instanceStatusSet item %zu has no instanceId.",
                          pl->name, i + 1);
        pl->pg->n_seen++;
        for (ev = ak_xml_path(it, "eventsSet/item"), j = 0; ev; ev = ak_xml_next(ev), j++)
            if ((r = ec2_event(pl, it, iid, ev, j)) < 0)
                return r;
    }
    page_token(pl, ak_xml_get(root, "nextToken"));
    return AK_OK;
}

/* ---- RDS DescribePendingMaintenanceActions (§7.1) -------------------------------------- */

static const char *rds_kind(const char *action)
{
    if (strcmp(action, "db-upgrade") == 0)
        return "minor-version-upgrade";
    if (strcmp(action, "ca-certificate-rotation") == 0)
        return "certificate-rotation";
    return action;
}

struct rds_dates {
    int64_t current, auto_after, forced;
};

static char *rds_desc(const struct ak_xml_node *a, const struct rds_dates *d, int64_t deadline)
{
    struct ak_buf b = AK_BUF_INIT(8192);

    desc_add(&b, "%s", ak_xml_get(a, "Description"));
    desc_add(&b, "opt-in status %s", ak_xml_get(a, "OptInStatus"));
    desc_time(&b, "applied in the first maintenance window after %s", d->auto_after);
    desc_time(&b, "forced apply from %s", d->forced);
    desc_time(&b, "current apply date %s", d->current);
    if (!deadline)
        desc_add(&b, "%s", "no date announced");
    return ak_buf_detach(&b, NULL);
}

static int rds_action(struct pull *pl, const struct ak_xml_node *res, const char *arn,
                      const struct ak_xml_node *a, size_t idx)
{
    const char *action = nonempty(ak_xml_get(a, "Action")), *name = strrchr(arn, ':'), *kind;
    char *arn_region = NULL, *arn_account = NULL, where[300];
    struct rds_dates d;
    struct ak_json *item;
    struct ak_obs *o;
    int64_t deadline;
    int r;

    snprintf(where, sizeof(where), "action %zu of %.200s", idx + 1, arn);
    name = name ? name + 1 : arn;
    if (!*name)
        return ak_err(pl->err, AK_EINVAL, "%s: ResourceIdentifier %.200s names no resource.",
                      pl->name, arn);
    if (!action)
        return ak_err(pl->err, AK_EINVAL, "%s: %s has no Action.", pl->name, where);
    if ((r = xml_time(pl, a, "CurrentApplyDate", where, &d.current)) < 0 ||
        (r = xml_time(pl, a, "AutoAppliedAfterDate", where, &d.auto_after)) < 0 ||
        (r = xml_time(pl, a, "ForcedApplyDate", where, &d.forced)) < 0)
        return r;
    deadline = d.current ? d.current : min_known(d.auto_after, d.forced);
    kind = rds_kind(action);
    ak_events_arn_split(arn, "rds", &arn_region, &arn_account);

    o = page_push(pl);
    o->source = ak_xstrdup("rds-api");
    o->service = ak_xstrdup("rds");
    o->kind = ak_xstrdup(kind);
    o->status = ak_xstrdup("scheduled");
    o->event_code = ak_xstrdup(action);
    /* the push parser's key: the ARN's account and region first, as rds.c does */
    o->account = ak_xstrdup(arn_account ? arn_account : pl->ctx->account);
    o->region = ak_xstrdup(arn_region ? arn_region : pl->ctx->region);
    o->key = ak_events_rds_key(o->account, o->region, name, kind);
    ak_events_obs_add_resource(o, arn);
    o->deadline = deadline;
    o->event_time = pl->ctx->received_ms;
    o->description = rds_desc(a, &d, deadline);
    o->required = d.auto_after || d.forced;
    ak_events_obs_title(o, "RDS", NULL, name);
    item = xml_obj(res, "PendingMaintenanceActionDetails");
    ak_json_set(item, "PendingMaintenanceAction", xml_json(a));
    page_attach(pl, item, ak_xasprintf("%s/%s", arn, action));
    free(arn_region);
    free(arn_account);
    return AK_OK;
}

static int rds_page(struct pull *pl, const struct ak_xml_node *root)
{
    const struct ak_xml_node *res = ak_xml_child(root, "DescribePendingMaintenanceActionsResult");
    const struct ak_xml_node *it, *a;
    size_t i = 0, j;
    int r;

    if (!res)
        return ak_err(pl->err, AK_EINVAL,
                      "%s: the response has no DescribePendingMaintenanceActionsResult.",
                      pl->name);
    it = ak_xml_path(res, "PendingMaintenanceActions/ResourcePendingMaintenanceActions");
    for (; it; it = ak_xml_next(it), i++) {
        const char *arn = nonempty(ak_xml_get(it, "ResourceIdentifier"));
        if (!arn)
            return ak_err(pl->err, AK_EINVAL,
                          "%s: ResourcePendingMaintenanceActions %zu has no ResourceIdentifier.",
                          pl->name, i + 1);
        pl->pg->n_seen++;
        a = ak_xml_path(it, "PendingMaintenanceActionDetails/PendingMaintenanceAction");
        for (j = 0; a; a = ak_xml_next(a), j++)
            if ((r = rds_action(pl, it, arn, a, j)) < 0)
                return r;
    }
    page_token(pl, ak_xml_get(res, "Marker"));
    return AK_OK;
}

/* ---- ElastiCache DescribeServiceUpdates / DescribeUpdateActions (§7.2) ----------------- */

static int ec_service_update(struct pull *pl, const struct ak_xml_node *su, size_t idx)
{
    const char *name = nonempty(ak_xml_get(su, "ServiceUpdateName"));
    int64_t release, apply_by, end;
    struct ak_json *v;
    char where[200];
    int r;

    if (!name)
        return ak_err(pl->err, AK_EINVAL, "%s: ServiceUpdate %zu has no ServiceUpdateName.",
                      pl->name, idx + 1);
    snprintf(where, sizeof(where), "service update %.128s", name);
    if ((r = xml_time(pl, su, "ServiceUpdateReleaseDate", where, &release)) < 0 ||
        (r = xml_time(pl, su, "ServiceUpdateRecommendedApplyByDate", where, &apply_by)) < 0 ||
        (r = xml_time(pl, su, "ServiceUpdateEndDate", where, &end)) < 0)
        return r;
    v = ak_json_new_obj();
    ak_json_set_str(v, "severity", ak_xml_get(su, "ServiceUpdateSeverity"));
    ak_json_set_str(v, "status", ak_xml_get(su, "ServiceUpdateStatus"));
    ak_json_set_str(v, "type", ak_xml_get(su, "ServiceUpdateType"));
    ak_json_set_str(v, "description", ak_xml_get(su, "ServiceUpdateDescription"));
    ak_json_set_time(v, "release", release);
    ak_json_set_time(v, "recommended_apply_by", apply_by);
    ak_json_set_time(v, "end", end);
    ak_json_set_bool(v, "auto_update",
                     ak_streq(ak_xml_get(su, "AutoUpdateAfterRecommendedApplyByDate"), "true"));
    ak_json_set_str(v, "engine", ak_xml_get(su, "Engine"));
    ak_json_set(pl->pg->service_updates, name, v);
    pl->pg->n_seen++;
    return AK_OK;
}

static int ec_service_updates_page(struct pull *pl, const struct ak_xml_node *root)
{
    const struct ak_xml_node *res = ak_xml_child(root, "DescribeServiceUpdatesResult"), *su;
    size_t i = 0;
    int r;

    if (!res)
        return ak_err(pl->err, AK_EINVAL, "%s: the response has no DescribeServiceUpdatesResult.",
                      pl->name);
    pl->pg->service_updates = ak_json_new_obj();
    for (su = ak_xml_path(res, "ServiceUpdates/ServiceUpdate"); su; su = ak_xml_next(su), i++)
        if ((r = ec_service_update(pl, su, i)) < 0)
            return r;
    page_token(pl, ak_xml_get(res, "Marker"));
    return AK_OK;
}

static const char *ec_action_status(const char *s)
{
    if (ak_streq(s, "complete"))
        return "completed";
    if (ak_streq(s, "in-progress") || ak_streq(s, "stopping"))
        return "in-progress";
    return "scheduled";
}

static char *ec_action_desc(const struct ak_xml_node *a, const struct ak_json *su, bool automatic)
{
    struct ak_buf b = AK_BUF_INIT(8192);
    const char *sev = nonempty(ak_xml_get(a, "ServiceUpdateSeverity"));

    if (!sev)
        sev = ak_json_get_str(su, "severity");
    if (ak_streq(sev, "critical") || ak_streq(sev, "important"))
        desc_add(&b, "severity %s", sev);
    desc_add(&b, "%s", ak_json_get_str(su, "description"));
    desc_add(&b, "update action status %s", ak_xml_get(a, "UpdateActionStatus"));
    desc_add(&b, "nodes updated %s", ak_xml_get(a, "NodesUpdated"));
    if (automatic)
        desc_add(&b, "%s", "applied automatically after the recommended apply-by date");
    desc_add(&b, "the service update ends %s", ak_json_get_str(su, "end"));
    return ak_buf_detach(&b, NULL);
}

static int ec_update_action(struct pull *pl, const struct ak_xml_node *a, size_t idx)
{
    const char *group = nonempty(ak_xml_get(a, "ReplicationGroupId"));
    const char *cluster = nonempty(ak_xml_get(a, "CacheClusterId"));
    const char *update = nonempty(ak_xml_get(a, "ServiceUpdateName"));
    const char *target = group ? group : cluster, *type;
    const struct ak_json *su;
    struct ak_obs *o;
    int64_t apply_by, modified;
    char where[300], *words;
    int r;

    if (!target || !update)
        return ak_err(pl->err, AK_EINVAL,
                      "%s: UpdateAction %zu has no %s.", pl->name, idx + 1,
                      target ? "ServiceUpdateName" : "ReplicationGroupId or CacheClusterId");
    snprintf(where, sizeof(where), "update action %.100s/%.100s", target, update);
    if ((r = xml_time(pl, a, "ServiceUpdateRecommendedApplyByDate", where, &apply_by)) < 0 ||
        (r = xml_time(pl, a, "UpdateActionStatusModifiedDate", where, &modified)) < 0)
        return r;
    su = ak_json_get(pl->ctx->service_updates, update);
    if (!apply_by)
        apply_by = ak_events_time(ak_json_get(su, "recommended_apply_by"));
    type = nonempty(ak_xml_get(a, "ServiceUpdateType"));

    o = page_push(pl);
    o->source = ak_xstrdup("elasticache-api");
    o->service = ak_xstrdup("elasticache");
    o->kind = ak_xstrdup("service-update");
    o->status = ak_xstrdup(ec_action_status(ak_xml_get(a, "UpdateActionStatus")));
    o->event_code = ak_xstrdup(type ? type : "service-update");
    o->key = ak_events_ec_key(pl->ctx->account, pl->ctx->region, target, "service-update",
                              update);
    o->account = ak_xstrdup(pl->ctx->account);
    o->region = ak_xstrdup(pl->ctx->region);
    ak_events_obs_add_resource(o, target);
    ak_events_obs_add_resource(o, group);
    ak_events_obs_add_resource(o, cluster);
    ak_events_obs_finish(o);
    o->deadline = apply_by;
    o->event_time = modified ? modified : pl->ctx->received_ms;
    o->required = ak_json_bool(ak_json_get(su, "auto_update"));
    o->description = ec_action_desc(a, su, o->required);
    words = ak_xasprintf("service update %.100s for", update); /* as elasticache.c titles it */
    ak_events_obs_title(o, "ElastiCache", words, NULL);
    free(words);
    page_attach(pl, xml_json(a), ak_xasprintf("%s/%s", target, update));
    return AK_OK;
}

static int ec_update_actions_page(struct pull *pl, const struct ak_xml_node *root)
{
    const struct ak_xml_node *res = ak_xml_child(root, "DescribeUpdateActionsResult"), *a;
    size_t i = 0;
    int r;

    if (!res)
        return ak_err(pl->err, AK_EINVAL, "%s: the response has no DescribeUpdateActionsResult.",
                      pl->name);
    for (a = ak_xml_path(res, "UpdateActions/UpdateAction"); a; a = ak_xml_next(a), i++) {
        pl->pg->n_seen++;
        if ((r = ec_update_action(pl, a, i)) < 0)
            return r;
    }
    page_token(pl, ak_xml_get(res, "Marker"));
    return AK_OK;
}

/* ---- ElastiCache DescribeEvents (§4.2, §7.2) ------------------------------------------ */

/* The SNS event a DescribeEvents text stands for (§4.2's text forms), for node replacement
 * only; NULL for everything else. The order matters: a cancel notice also says "scheduled". */
static const char *ec_text_event(const char *m)
{
    if (!m)
        return NULL;
    if (ak_events_ci_contains(m, "replacement") &&
        (ak_events_ci_contains(m, "canceled") || ak_events_ci_contains(m, "cancelled")))
        return "NodeReplacementCanceled";
    if (ak_events_ci_contains(m, "replac") && (ak_events_ci_contains(m, "re-scheduled") ||
                                               ak_events_ci_contains(m, "rescheduled")))
        return "NodeReplacementRescheduled";
    if (ak_events_ci_contains(m, "scheduled for replacement"))
        return "NodeReplacementScheduled";
    if (ak_events_ci_contains(m, "finished recovery for cache node") ||
        (ak_events_ci_contains(m, "replace") && (ak_events_ci_contains(m, "complete") ||
                                                 ak_events_ci_contains(m, "finished"))))
        return "CacheNodeReplaceComplete";
    if (ak_events_ci_contains(m, "recovering cache node") ||
        (ak_events_ci_contains(m, "replace") && (ak_events_ci_contains(m, "started") ||
                                                 ak_events_ci_contains(m, "in progress"))))
        return "CacheNodeReplaceStarted";
    return NULL;
}

static int ec_event(struct pull *pl, const struct ak_xml_node *ev, size_t idx)
{
    const char *src = nonempty(ak_xml_get(ev, "SourceIdentifier"));
    const char *msg = ak_xml_get(ev, "Message"), *name = ec_text_event(msg);
    const char *kind, *status, *date = ak_xml_get(ev, "Date");
    bool required;
    struct ak_obs *o;
    int64_t when;
    char where[64];
    int r;

    snprintf(where, sizeof(where), "Event %zu", idx + 1);
    if ((r = xml_time(pl, ev, "Date", where, &when)) < 0)
        return r;
    if (!name || ak_events_ec_event(name, &kind, &status, &required) < 0)
        return AK_OK; /* not about a maintenance */
    if (!src)
        return ak_err(pl->err, AK_EINVAL, "%s: %s has no SourceIdentifier.", pl->name, where);
    o = page_push(pl);
    o->source = ak_xstrdup("elasticache-api");
    o->service = ak_xstrdup("elasticache");
    o->kind = ak_xstrdup(kind);
    o->status = ak_xstrdup(status);
    o->event_code = ak_xasprintf("ElastiCache:%s", name);
    o->key = ak_events_ec_key(pl->ctx->account, pl->ctx->region, src, kind, NULL);
    o->account = ak_xstrdup(pl->ctx->account);
    o->region = ak_xstrdup(pl->ctx->region);
    ak_events_obs_add_resource(o, src);
    ak_events_ec_window(msg, &o->window_start, &o->window_end);
    o->deadline = o->window_start;
    o->event_time = when ? when : pl->ctx->received_ms;
    o->description = ak_xstrdup(msg);
    o->required = required;
    ak_events_obs_title(o, "ElastiCache", NULL, NULL);
    page_attach(pl, xml_json(ev), ak_xasprintf("%s/%s", src, date ? date : ""));
    return AK_OK;
}

static int ec_events_page(struct pull *pl, const struct ak_xml_node *root)
{
    const struct ak_xml_node *res = ak_xml_child(root, "DescribeEventsResult"), *ev;
    size_t i = 0;
    int r;

    if (!res)
        return ak_err(pl->err, AK_EINVAL, "%s: the response has no DescribeEventsResult.",
                      pl->name);
    for (ev = ak_xml_path(res, "Events/Event"); ev; ev = ak_xml_next(ev), i++) {
        pl->pg->n_seen++;
        if ((r = ec_event(pl, ev, i)) < 0)
            return r;
    }
    page_token(pl, ak_xml_get(res, "Marker"));
    return AK_OK;
}

/* ---- AWS Health DescribeEvents / DescribeAffectedEntities (§7.3) ------------------------ */

static int health_events_page(struct pull *pl, const struct ak_json *j)
{
    const struct ak_json *evs = ak_json_get(j, "events");
    struct ak_pull_page *pg = pl->pg;

    if (!ak_json_is_arr(evs))
        return ak_err(pl->err, AK_EINVAL, "%s: the response has no \"events\" array.", pl->name);
    pg->health_arns = ak_json_new_arr();
    pg->health_events = ak_json_new_obj();
    for (size_t i = 0; i < ak_json_len(evs); i++) {
        struct ak_json *e = ak_json_at(evs, i);
        const char *arn = ak_json_get_str(e, "arn");

        if (!arn || !*arn)
            return ak_err(pl->err, AK_EINVAL, "%s: events[%zu] has no \"arn\" string.",
                          pl->name, i);
        if (!ak_json_get(pg->health_events, arn))
            ak_json_append(pg->health_arns, ak_json_new_str(arn));
        ak_json_set(pg->health_events, arn, ak_json_ref(e));
        pg->n_seen++;
    }
    page_token(pl, ak_json_get_str(j, "nextToken"));
    return AK_OK;
}

/* "<eventArn>/<first entity>[+N]": one page's share of an event's entities. */
static char *health_id(const char *arn, const struct ak_json *ents)
{
    const struct ak_json *e = ak_json_at(ents, 0);
    const char *v = ak_json_get_str(e, "entityValue");

    if (!v)
        v = ak_json_get_str(e, "entityArn");
    if (ak_json_len(ents) > 1)
        return ak_xasprintf("%s/%s+%zu", arn, v ? v : "", ak_json_len(ents) - 1);
    return ak_xasprintf("%s/%s", arn, v ? v : "");
}

static int health_event_obs(struct pull *pl, const char *arn, struct ak_json *ents)
{
    struct ak_json *ev = ak_json_get(pl->ctx->health_events, arn);
    /* region NULL: the event's own region (else its ARN's), not the Health endpoint's */
    struct ak_events_ctx ec = {.account = pl->ctx->account, .received_ms = pl->ctx->received_ms};
    struct ak_obs_list one = {0};
    struct ak_json *item;
    struct ak_obs *o;
    int r;

    r = ak_events_health_entities(ev, arn, ents, &ec, &one, pl->err);
    if (r < 0 || one.n != 1) {
        ak_obs_list_release(&one);
        return r < 0 ? r : ak_err(pl->err, AK_EINTERNAL, "%s: no observation for %.200s.",
                                  pl->name, arn);
    }
    o = page_push(pl);
    *o = one.v[0];
    free(one.v);
    item = ak_json_new_obj();
    ak_json_set(item, "event", ev ? ak_json_ref(ev) : ak_json_new_null());
    ak_json_set(item, "entities", ak_json_ref(ents));
    page_attach(pl, item, health_id(arn, ents));
    return AK_OK;
}

static int health_entities_page(struct pull *pl, const struct ak_json *j)
{
    const struct ak_json *ents = ak_json_get(j, "entities");
    struct ak_json *by_arn = NULL;
    int r = AK_OK;

    if (!ak_json_is_arr(ents))
        return ak_err(pl->err, AK_EINVAL, "%s: the response has no \"entities\" array.",
                      pl->name);
    /* one observation per event, its entities in page order */
    by_arn = ak_json_new_obj();
    for (size_t i = 0; i < ak_json_len(ents); i++) {
        struct ak_json *e = ak_json_at(ents, i), *list;
        const char *arn = ak_json_get_str(e, "eventArn");

        if (!arn || !*arn) {
            r = ak_err(pl->err, AK_EINVAL, "%s: entities[%zu] has no \"eventArn\" string.",
                       pl->name, i);
            goto out;
        }
        if (!(list = ak_json_get(by_arn, arn))) {
            list = ak_json_new_arr();
            ak_json_set(by_arn, arn, list);
        }
        ak_json_append(list, ak_json_ref(e));
        pl->pg->n_seen++;
    }
    for (void *it = ak_json_iter(by_arn); it; it = ak_json_iter_next(by_arn, it))
        if ((r = health_event_obs(pl, ak_json_iter_key(it), ak_json_iter_value(it))) < 0)
            goto out;
    page_token(pl, ak_json_get_str(j, "nextToken"));
out:
    ak_json_free(by_arn);
    return r;
}

/* ---- entry points -------------------------------------------------------------------- */

struct api_def {
    enum ak_pull_api api;
    const char *name;
    const char *root; /* XML root element; NULL for JSON */
    int (*xml)(struct pull *pl, const struct ak_xml_node *root);
    int (*json)(struct pull *pl, const struct ak_json *j);
};

static const struct api_def apis[] = {
    {AK_PULL_EC2_INSTANCE_STATUS, "ec2:DescribeInstanceStatus", "DescribeInstanceStatusResponse",
     ec2_page, NULL},
    {AK_PULL_RDS_PENDING, "rds:DescribePendingMaintenanceActions",
     "DescribePendingMaintenanceActionsResponse", rds_page, NULL},
    {AK_PULL_EC_SERVICE_UPDATES, "elasticache:DescribeServiceUpdates",
     "DescribeServiceUpdatesResponse", ec_service_updates_page, NULL},
    {AK_PULL_EC_UPDATE_ACTIONS, "elasticache:DescribeUpdateActions",
     "DescribeUpdateActionsResponse", ec_update_actions_page, NULL},
    {AK_PULL_EC_EVENTS, "elasticache:DescribeEvents", "DescribeEventsResponse", ec_events_page,
     NULL},
    {AK_PULL_HEALTH_EVENTS, "health:DescribeEvents", NULL, NULL, health_events_page},
    {AK_PULL_HEALTH_ENTITIES, "health:DescribeAffectedEntities", NULL, NULL,
     health_entities_page},
};

static int parse_xml(struct pull *pl, const struct api_def *d, const char *body, size_t len)
{
    struct ak_buf xerr = AK_BUF_INIT(512);
    struct ak_xml_node *root = NULL;
    int r = ak_xml_parse(body, len, &root, &xerr);

    if (r < 0) {
        r = ak_err(pl->err, r, "%s: the response is not usable XML: %s.", pl->name, xerr.buf);
        goto out;
    }
    if (strcmp(root->name, d->root) != 0) {
        r = ak_err(pl->err, AK_EINVAL, "%s: the response is <%.64s>, not <%s>.", pl->name,
                   root->name, d->root);
        goto out;
    }
    r = d->xml(pl, root);
out:
    ak_xml_free(root);
    ak_buf_release(&xerr);
    return r;
}

static int parse_json(struct pull *pl, const struct api_def *d, const char *body, size_t len)
{
    struct ak_buf jerr = AK_BUF_INIT(512);
    struct ak_json *j = NULL;
    int r;

    if (len > PULL_MAX_JSON) {
        r = ak_err(pl->err, AK_ETOOBIG, "%s: the response is %zu bytes, over the %u-byte limit.",
                   pl->name, len, PULL_MAX_JSON);
        goto out;
    }
    j = ak_json_parse(body, len, &jerr);
    if (!j) {
        r = ak_err(pl->err, AK_EINVAL, "%s: the response is not valid JSON: %s.", pl->name,
                   jerr.buf);
        goto out;
    }
    if (!ak_json_is_obj(j)) {
        r = ak_err(pl->err, AK_EINVAL, "%s: the response is not a JSON object.", pl->name);
        goto out;
    }
    r = d->json(pl, j);
out:
    ak_json_free(j);
    ak_buf_release(&jerr);
    return r;
}

int ak_pull_parse(enum ak_pull_api api, const char *body, size_t len,
                  const struct ak_pull_ctx *ctx, struct ak_pull_page *ret, struct ak_buf *err)
{
    struct ak_pull_page pg = {0};
    struct pull pl = {.ctx = ctx, .pg = &pg, .err = err};
    const struct api_def *d = NULL;
    int r;

    for (size_t i = 0; i < AK_ARRAY_SIZE(apis); i++)
        if (apis[i].api == api)
            d = &apis[i];
    if (!d)
        return ak_err(err, AK_EINVAL, "Pull API %d is unknown.", (int)api);
    pl.name = d->name;
    if (!ctx || !nonempty(ctx->account) || !nonempty(ctx->region))
        return ak_err(err, AK_EINVAL, "%s: the page's account or region is not known.", d->name);
    if (!body) {
        body = "";
        len = 0;
    }
    r = d->root ? parse_xml(&pl, d, body, len) : parse_json(&pl, d, body, len);
    if (r < 0)
        goto out;
    *ret = pg;
    memset(&pg, 0, sizeof(pg));
out:
    ak_pull_page_release(&pg);
    return r;
}

/* ---- error documents ------------------------------------------------------------------ */

static int xml_error(const char *body, size_t len, char **ret_code, char **ret_message)
{
    struct ak_xml_node *root = NULL;
    const struct ak_xml_node *e = NULL;
    const char *code;
    int r = AK_ENOTFOUND;

    if (ak_xml_parse(body, len, &root, NULL) < 0)
        return AK_ENOTFOUND;
    if (strcmp(root->name, "Response") == 0) /* EC2 */
        e = ak_xml_path(root, "Errors/Error");
    else if (strcmp(root->name, "ErrorResponse") == 0) /* query protocol */
        e = ak_xml_child(root, "Error");
    code = nonempty(ak_xml_get(e, "Code"));
    if (code) {
        const char *msg = ak_xml_get(e, "Message");
        *ret_code = ak_xstrdup(code);
        *ret_message = ak_xstrdup(msg ? msg : "");
        r = AK_OK;
    }
    ak_xml_free(root);
    return r;
}

/* JSON 1.1: "__type" is "Code" or "prefix#Code" (some services append ":<url>"). */
static int json_error(const char *body, size_t len, char **ret_code, char **ret_message)
{
    struct ak_json *j = len <= PULL_MAX_JSON ? ak_json_parse(body, len, NULL) : NULL;
    const char *t = ak_json_get_str(j, "__type"), *msg, *hash, *colon;
    int r = AK_ENOTFOUND;

    if (t && (hash = strrchr(t, '#')))
        t = hash + 1;
    colon = t ? strchr(t, ':') : NULL;
    if (t && (colon ? colon > t : *t != 0)) {
        msg = ak_json_get_str(j, "message");
        if (!msg)
            msg = ak_json_get_str(j, "Message");
        *ret_code = colon ? ak_xstrndup(t, (size_t)(colon - t)) : ak_xstrdup(t);
        *ret_message = ak_xstrdup(msg ? msg : "");
        r = AK_OK;
    }
    ak_json_free(j);
    return r;
}

int ak_pull_error(const char *body, size_t len, char **ret_code, char **ret_message)
{
    size_t p = 0;

    if (!body)
        return AK_ENOTFOUND;
    while (p < len && (body[p] == ' ' || body[p] == '\t' || body[p] == '\r' || body[p] == '\n'))
        p++;
    if (p < len && body[p] == '<')
        return xml_error(body + p, len - p, ret_code, ret_message);
    if (p < len && body[p] == '{')
        return json_error(body, len, ret_code, ret_message);
    return AK_ENOTFOUND;
}
