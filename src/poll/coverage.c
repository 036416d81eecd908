/* coverage.c — which maintenance can reach the team, and which cannot.
 *
 * A blind spot is a service the team runs (inventory) or that asakai has seen (pollers, push)
 * where no channel that carries its maintenance works: for ElastiCache node replacements that is
 * the cluster's SNS topic or DescribeEvents (AWS Health never shows them), for EC2 scheduled
 * events DescribeInstanceStatus, the Health API or Health on EventBridge, for RDS the pending
 * maintenance API or its event notifications. Each verdict says why in plain words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_poll.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "poll_int.h"
#include "../core/ak_banned.h"

#define PUSH_WINDOW_MS (30LL * 24 * 3600 * 1000)
#define HEALTHY_INTERVALS 3

static const char *const services[] = {"ec2", "rds", "elasticache"};

static const struct ak_cfg_aws_account *find_account(const struct ak_cfg *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->n_aws_accounts; i++)
        if (ak_streq(cfg->aws_accounts[i].id, id))
            return &cfg->aws_accounts[i];
    return NULL;
}

static bool account_has_region(const struct ak_cfg_aws_account *a, const char *region)
{
    for (size_t i = 0; a && i < a->regions.n; i++)
        if (ak_streq(a->regions.v[i], region))
            return true;
    return false;
}

static const struct ak_poll_scope *find_scope(const struct ak_poll_scope *v, size_t n,
                                              const char *scope)
{
    for (size_t i = 0; i < n; i++)
        if (ak_streq(v[i].scope, scope))
            return &v[i];
    return NULL;
}

static bool scope_healthy(const struct ak_cfg *cfg, int poller, const struct ak_poll_scope *row,
                          int64_t now)
{
    return row && row->last_ok_at && !row->last_error &&
           now - row->last_ok_at <= HEALTHY_INTERVALS * cfg->pollers[poller].interval_ms;
}

/* {"enabled","healthy","last_ok_at","error","note"} of one poller for (account, region). */
static struct ak_json *poller_json(const struct ak_cfg *cfg, int poller, const char *account,
                                   const char *region, const struct ak_poll_scope *rows,
                                   size_t n_rows, int64_t now, bool *ret_healthy)
{
    const struct ak_cfg_aws_account *a = find_account(cfg, account);
    bool configured = a && (poller == AK_POLLER_HEALTH || account_has_region(a, region));
    bool enabled = configured && cfg->pollers[poller].enabled;
    char *scope = ak_xasprintf("%s:%s:%s", ak_cfg_poller_name(poller), account,
                               poller == AK_POLLER_HEALTH ? "global" : region);
    const struct ak_poll_scope *row = find_scope(rows, n_rows, scope);
    struct ak_json *j = ak_json_new_obj();
    bool healthy = enabled && scope_healthy(cfg, poller, row, now);

    ak_json_set_str(j, "poller", ak_cfg_poller_name(poller));
    ak_json_set_bool(j, "enabled", enabled);
    ak_json_set_bool(j, "healthy", healthy);
    if (row && row->last_ok_at)
        ak_json_set_time(j, "last_ok_at", row->last_ok_at);
    else
        ak_json_set(j, "last_ok_at", ak_json_new_null());
    ak_json_set_str(j, "error", row ? row->last_error : NULL);
    ak_json_set_str(j, "note", row ? row->note : NULL);
    if (!configured)
        ak_json_set_str(j, "why", "the account or region is not in aws.accounts");
    free(scope);
    *ret_healthy = healthy;
    return j;
}

struct cov_key {
    char account[32], region[32];
    int service; /* index into services */
    unsigned from; /* 1 inventory, 2 poller, 4 records */
};

static void key_add(struct cov_key **v, size_t *n, const char *account, const char *region,
                    const char *service, unsigned from)
{
    int si = -1;

    if (!account || !region || !service)
        return;
    for (size_t i = 0; i < AK_ARRAY_SIZE(services); i++)
        if (strcmp(services[i], service) == 0)
            si = (int)i;
    if (si < 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].service == si && strcmp((*v)[i].account, account) == 0 &&
            strcmp((*v)[i].region, region) == 0) {
            (*v)[i].from |= from;
            return;
        }
    *v = ak_xrealloc(*v, (*n + 1) * sizeof(**v));
    memset(&(*v)[*n], 0, sizeof(**v));
    snprintf((*v)[*n].account, sizeof((*v)[*n].account), "%s", account);
    snprintf((*v)[*n].region, sizeof((*v)[*n].region), "%s", region);
    (*v)[*n].service = si;
    (*v)[*n].from = from;
    (*n)++;
}

static const char *poller_service(const char *poller)
{
    int id = ak_cfg_poller_id(poller);

    switch (id) {
    case AK_POLLER_EC2:
        return "ec2";
    case AK_POLLER_RDS:
        return "rds";
    case AK_POLLER_EC_UPDATES:
    case AK_POLLER_EC_EVENTS:
        return "elasticache";
    default:
        return NULL;
    }
}

/* {"seen","last_at","count","topics":[...]} of push channel ch for the key. */
static struct ak_json *push_json(const struct ak_push_seen *v, size_t n, const char *ch,
                                 const struct cov_key *k, bool *ret_seen)
{
    struct ak_json *j = ak_json_new_obj(), *topics = ak_json_new_arr();
    int64_t last = 0, count = 0;

    for (size_t i = 0; i < n; i++) {
        if (!ak_streq(v[i].channel, ch) || !ak_streq(v[i].account, k->account) ||
            !ak_streq(v[i].region, k->region) || !ak_streq(v[i].service, services[k->service]))
            continue;
        count += v[i].count;
        if (v[i].last_at > last)
            last = v[i].last_at;
        if (v[i].topic)
            ak_json_append(topics, ak_json_new_str(v[i].topic));
    }
    ak_json_set_bool(j, "seen", count > 0);
    if (last)
        ak_json_set_time(j, "last_at", last);
    else
        ak_json_set(j, "last_at", ak_json_new_null());
    ak_json_set_int(j, "count", count);
    if (strcmp(ch, "sns") == 0)
        ak_json_set(j, "topics", topics);
    else
        ak_json_free(topics);
    *ret_seen = count > 0;
    return j;
}

/* Plain words for a poller that is not healthy: "is not enabled", "is failing: ...". */
static void poller_words(struct ak_buf *b, const struct ak_json *pj)
{
    const char *name = ak_json_get_str(pj, "poller"), *e = ak_json_get_str(pj, "error");

    if (ak_json_get_str(pj, "why"))
        ak_buf_addf(b, "no %s poller can run there (the account or region is not in "
                       "aws.accounts)", name);
    else if (!ak_json_bool(ak_json_get(pj, "enabled")))
        ak_buf_addf(b, "the %s poller is not enabled", name);
    else if (e)
        ak_buf_addf(b, "the %s poller is failing (%s)", name, e);
    else
        ak_buf_addf(b, "the %s poller has not completed a pass lately", name);
}

static const char *verdict(const struct cov_key *k, const char *svc_name, bool sns, bool eb,
                           struct ak_json *pol, bool h_ec2, bool h_rds, bool h_ecu, bool h_ece,
                           bool h_health, struct ak_buf *why)
{
    switch (k->service) {
    case 0: /* ec2 */
        if (h_ec2 || h_health || eb)
            return "covered";
        ak_buf_addf(why, "%s in %s (account %s): ", svc_name, k->region, k->account);
        poller_words(why, ak_json_at(pol, 0));
        ak_buf_add(why, ", the Health API is not polled successfully and no Health event has "
                        "arrived by EventBridge in 30 days — instance retirements and reboots "
                        "will not reach you");
        return "blind";
    case 1: /* rds */
        if (h_rds)
            return "covered";
        ak_buf_addf(why, "%s in %s (account %s): ", svc_name, k->region, k->account);
        poller_words(why, ak_json_at(pol, 0));
        if (sns || eb) {
            ak_buf_add(why, "; RDS events arrive by push, but the apply-by dates "
                            "(AutoAppliedAfterDate, ForcedApplyDate) exist only in "
                            "DescribePendingMaintenanceActions — deadlines will be missing");
            return "partial";
        }
        ak_buf_add(why, " and no RDS event notification has arrived in 30 days — pending "
                        "maintenance and forced upgrades will not reach you");
        return "blind";
    default: /* elasticache */
        if (sns || h_ece) {
            if (h_ecu)
                return "covered";
            ak_buf_addf(why, "%s in %s (account %s): node replacements are covered, but ",
                        svc_name, k->region, k->account);
            poller_words(why, ak_json_at(pol, 0));
            ak_buf_add(why, " — service updates and their recommended apply-by dates will be "
                            "missing");
            return "partial";
        }
        ak_buf_addf(why, "%s in %s (account %s): no SNS notification topic has delivered in 30 "
                         "days and ", svc_name, k->region, k->account);
        poller_words(why, ak_json_at(pol, 1));
        ak_buf_add(why, " — node replacements will not reach you");
        if (h_ecu)
            ak_buf_add(why, " (service updates are polled)");
        return "blind";
    }
}

static struct ak_json *row_json(const struct ak_cfg *cfg, const struct cov_key *k,
                                const struct ak_poll_scope *rows, size_t n_rows,
                                const struct ak_push_seen *push, size_t n_push, int64_t now,
                                int *ret_blind, int *ret_partial)
{
    static const char *const names[] = {"EC2", "RDS", "ElastiCache"};
    struct ak_json *j = ak_json_new_obj(), *ch = ak_json_new_obj(), *pol = ak_json_new_arr();
    struct ak_json *from = ak_json_new_arr();
    struct ak_buf why = AK_BUF_INIT(2048);
    bool sns, eb, h_ec2 = false, h_rds = false, h_ecu = false, h_ece = false, h_health = false;
    const char *v;

    ak_json_set(ch, "sns", push_json(push, n_push, "sns", k, &sns));
    ak_json_set(ch, "eventbridge", push_json(push, n_push, "eventbridge", k, &eb));
    if (k->service == 0)
        ak_json_append(pol, poller_json(cfg, AK_POLLER_EC2, k->account, k->region, rows, n_rows,
                                        now, &h_ec2));
    else if (k->service == 1)
        ak_json_append(pol, poller_json(cfg, AK_POLLER_RDS, k->account, k->region, rows, n_rows,
                                        now, &h_rds));
    else {
        ak_json_append(pol, poller_json(cfg, AK_POLLER_EC_UPDATES, k->account, k->region, rows,
                                        n_rows, now, &h_ecu));
        ak_json_append(pol, poller_json(cfg, AK_POLLER_EC_EVENTS, k->account, k->region, rows,
                                        n_rows, now, &h_ece));
    }
    ak_json_set(ch, "pollers", pol);
    ak_json_set(ch, "health_api", poller_json(cfg, AK_POLLER_HEALTH, k->account, k->region, rows,
                                              n_rows, now, &h_health));
    v = verdict(k, names[k->service], sns, eb, pol, h_ec2, h_rds, h_ecu, h_ece, h_health, &why);
    if (k->from & 1)
        ak_json_append(from, ak_json_new_str("inventory"));
    if (k->from & 2)
        ak_json_append(from, ak_json_new_str("poller"));
    if (k->from & 4)
        ak_json_append(from, ak_json_new_str("records"));
    ak_json_set_str(j, "account", k->account);
    ak_json_set_str(j, "region", k->region);
    ak_json_set_str(j, "service", services[k->service]);
    ak_json_set(j, "from", from);
    ak_json_set(j, "channels", ch);
    ak_json_set_str(j, "verdict", v);
    ak_json_set_str(j, "why", why.len ? why.buf : NULL);
    *ret_blind += strcmp(v, "blind") == 0;
    *ret_partial += strcmp(v, "partial") == 0;
    ak_buf_release(&why);
    return j;
}

static int by_key(const void *a, const void *b)
{
    const struct cov_key *x = a, *y = b;
    int c = strcmp(x->account, y->account);

    if (!c)
        c = strcmp(x->region, y->region);
    return c ? c : x->service - y->service;
}

int ak_poll_coverage(const struct ak_cfg *cfg, struct ak_store *st, int64_t now_ms,
                     struct ak_json **ret, struct ak_buf *err)
{
    struct ak_poll_scope *rows = NULL;
    struct ak_push_seen *push = NULL;
    size_t n_rows = 0, n_push = 0, n = 0;
    struct cov_key *keys = NULL;
    struct ak_json *out = NULL, *arr;
    int blind = 0, partial = 0, r;

    r = ak_store_poll_scope_list(st, &rows, &n_rows);
    if (r == AK_OK)
        r = ak_store_push_seen(st, now_ms - PUSH_WINDOW_MS, &push, &n_push);
    if (r < 0) {
        ak_err(err, r, "cannot read the coverage state: %s", ak_strerror(r));
        goto out;
    }
    for (size_t i = 0; i < cfg->n_inventory; i++)
        key_add(&keys, &n, cfg->inventory[i].account, cfg->inventory[i].region,
                cfg->inventory[i].service, 1);
    for (size_t i = 0; i < n_rows; i++)
        if (rows[i].seen > 0)
            key_add(&keys, &n, rows[i].account, rows[i].region, poller_service(rows[i].poller),
                    2);
    for (size_t i = 0; i < n_push; i++)
        key_add(&keys, &n, push[i].account, push[i].region, push[i].service, 4);
    if (n > 1)
        qsort(keys, n, sizeof(*keys), by_key);
    out = ak_json_new_obj();
    arr = ak_json_new_arr();
    for (size_t i = 0; i < n; i++)
        ak_json_append(arr, row_json(cfg, &keys[i], rows, n_rows, push, n_push, now_ms, &blind,
                                     &partial));
    ak_json_set_time(out, "generated_at", now_ms);
    ak_json_set_int(out, "blind_spots", blind);
    ak_json_set_int(out, "partial", partial);
    ak_json_set(out, "rows", arr);
    *ret = out;
out:
    for (size_t i = 0; i < n_rows; i++)
        ak_poll_scope_release(&rows[i]);
    free(rows);
    for (size_t i = 0; i < n_push; i++)
        ak_push_seen_release(&push[i]);
    free(push);
    free(keys);
    return r;
}

static struct ak_json *status_row(const struct ak_cfg *cfg, int poller, const char *account,
                                  const char *region, const struct ak_poll_scope *rows,
                                  size_t n_rows, int64_t now)
{
    char *scope = ak_xasprintf("%s:%s:%s", ak_cfg_poller_name(poller), account, region);
    const struct ak_poll_scope *row = find_scope(rows, n_rows, scope);
    struct ak_json *j = ak_json_new_obj();
    char iv[32];

    ak_fmt_duration(cfg->pollers[poller].interval_ms, iv, sizeof(iv));
    ak_json_set_str(j, "scope", scope);
    ak_json_set_str(j, "poller", ak_cfg_poller_name(poller));
    ak_json_set_str(j, "account", account);
    ak_json_set_str(j, "region", region);
    ak_json_set_bool(j, "enabled", cfg->pollers[poller].enabled);
    ak_json_set_str(j, "interval", iv);
    if (row && row->last_run_at)
        ak_json_set_time(j, "last_run_at", row->last_run_at);
    else
        ak_json_set(j, "last_run_at", ak_json_new_null());
    if (row && row->last_ok_at)
        ak_json_set_time(j, "last_ok_at", row->last_ok_at);
    else
        ak_json_set(j, "last_ok_at", ak_json_new_null());
    ak_json_set_str(j, "last_error", row ? row->last_error : NULL);
    ak_json_set_int(j, "items", row ? row->items : 0);
    ak_json_set_int(j, "seen", row ? row->seen : 0);
    ak_json_set_int(j, "runs", row ? row->runs : 0);
    ak_json_set_int(j, "failures", row ? row->failures : 0);
    ak_json_set_str(j, "note", row ? row->note : NULL);
    ak_json_set_bool(j, "healthy", scope_healthy(cfg, poller, row, now));
    free(scope);
    return j;
}

int ak_poll_status(const struct ak_cfg *cfg, struct ak_store *st, int64_t now_ms,
                   struct ak_json **ret, struct ak_buf *err)
{
    struct ak_poll_scope *rows = NULL;
    size_t n_rows = 0;
    struct ak_json *arr;
    int r = ak_store_poll_scope_list(st, &rows, &n_rows);

    if (r < 0)
        return ak_err(err, r, "cannot read the pollers' state: %s", ak_strerror(r));
    arr = ak_json_new_arr();
    for (size_t i = 0; i < cfg->n_aws_accounts; i++) {
        const struct ak_cfg_aws_account *a = &cfg->aws_accounts[i];
        for (int q = 0; q < AK_POLLER_N; q++) {
            if (q == AK_POLLER_HEALTH) {
                ak_json_append(arr, status_row(cfg, q, a->id, "global", rows, n_rows, now_ms));
                continue;
            }
            for (size_t j = 0; j < a->regions.n; j++)
                ak_json_append(arr,
                               status_row(cfg, q, a->id, a->regions.v[j], rows, n_rows, now_ms));
        }
    }
    for (size_t i = 0; i < n_rows; i++)
        ak_poll_scope_release(&rows[i]);
    free(rows);
    *ret = arr;
    return AK_OK;
}
