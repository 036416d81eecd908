/* pass.c — one poll pass: every scope's requests driven by one libcurl multi.
 *
 * Each scope is a small state machine (API stage, page token, attempt) advanced from the multi's
 * completion callbacks; an account's scopes wait for its credentials, which are fetched once per
 * account (STS AssumeRole through the same multi). Nothing here touches the store except reading
 * the scopes' last successful pass; results stay in memory until apply.c commits them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "poll_int.h"
#include "../core/ak_banned.h"

#define CREDS_MARGIN_MS (5 * 60 * 1000)
#define BACKOFF_CAP_MS (20 * 1000)
#define PAGE_MAX (8u * 1024 * 1024)
#define MAX_PAGES 1000 /* per API and scope: a token that never ends is a bug, not data */
#define HEALTH_BATCH 10
#define EVENTS_WINDOW_MS (14LL * 24 * 3600 * 1000)
#define EVENTS_OVERLAP_MS (3600LL * 1000)

static const enum ak_pull_api st_ec2[] = {AK_PULL_EC2_INSTANCE_STATUS, 0};
static const enum ak_pull_api st_rds[] = {AK_PULL_RDS_PENDING, 0};
static const enum ak_pull_api st_ecu[] = {AK_PULL_EC_SERVICE_UPDATES, AK_PULL_EC_UPDATE_ACTIONS, 0};
static const enum ak_pull_api st_ece[] = {AK_PULL_EC_EVENTS, 0};
static const enum ak_pull_api st_health[] = {AK_PULL_HEALTH_EVENTS, AK_PULL_HEALTH_ENTITIES, 0};

int ak__poll_stages(int poller, const enum ak_pull_api **ret)
{
    static const enum ak_pull_api *const all[AK_POLLER_N] = {
        [AK_POLLER_EC2] = st_ec2,        [AK_POLLER_RDS] = st_rds,
        [AK_POLLER_EC_UPDATES] = st_ecu, [AK_POLLER_EC_EVENTS] = st_ece,
        [AK_POLLER_HEALTH] = st_health,
    };

    if (poller < 0 || poller >= AK_POLLER_N)
        return AK_EINVAL;
    *ret = all[poller];
    return AK_OK;
}

/* ---- credentials ----------------------------------------------------------------------- */

static void creds_copy(struct ak_aws_creds *dst, const struct ak_aws_creds *src)
{
    ak_aws_creds_release(dst);
    dst->access_key_id = ak_xstrdup(src->access_key_id);
    dst->secret_access_key = ak_xstrdup(src->secret_access_key);
    dst->session_token = ak_xstrdup(src->session_token);
    dst->expires_ms = src->expires_ms;
    dst->source = src->source;
}

static bool creds_fresh(const struct ak_aws_creds *c, int64_t now_ms)
{
    return c->access_key_id && (c->expires_ms == 0 || c->expires_ms > now_ms + CREDS_MARGIN_MS);
}

void ak__poll_account_reset(struct pl_account *a)
{
    ak_aws_creds_release(&a->base);
    ak_aws_creds_release(&a->creds);
    free(a->error);
    free(a->waiters);
    memset(a, 0, sizeof(*a));
}

static const char *account_region(const struct pl_account *a)
{
    return a->cfg->regions.n ? a->cfg->regions.v[0] : "us-east-1";
}

static char *service_url(const struct pl_account *a, const char *service, const char *region)
{
    if (a->cfg->endpoint_url) {
        size_t n = strlen(a->cfg->endpoint_url);
        return ak_xasprintf("%s%s", a->cfg->endpoint_url,
                            n && a->cfg->endpoint_url[n - 1] == '/' ? "" : "/");
    }
    if (strcmp(service, "health") == 0)
        return ak_xstrdup("https://health.us-east-1.amazonaws.com/");
    return ak_xasprintf("https://%s.%s.amazonaws.com/", service, region);
}

/* The signed request: headers = extra + the signer's lines. */
struct pl_req {
    char *url;
    char *body;
    const char *hdr[8];
    struct ak_buf signed_lines;
    char *lines_copy;
};

static void req_release(struct pl_req *q)
{
    free(q->url);
    free(q->body);
    ak_buf_release(&q->signed_lines);
    free(q->lines_copy);
}

/* Signs and queues q; done/arg as ak_httpc_multi_add. */
static int req_send(struct pl_pass *pass, struct pl_req *q, const char *content_type,
                    const char *target, const struct ak_aws_creds *creds, const char *region,
                    const char *service, int64_t delay_ms, ak_httpc_done_fn done, void *arg,
                    struct ak_buf *err)
{
    char ct[96], tg[128];
    struct ak_aws_request ar = {0};
    const char *sign_hdr[3] = {ct, NULL, NULL};
    size_t nh = 0;
    int r;

    snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
    if (target) {
        snprintf(tg, sizeof(tg), "X-Amz-Target: %s", target);
        sign_hdr[1] = tg;
    }
    ar.method = "POST";
    ar.url = q->url;
    ar.headers = sign_hdr;
    ar.body = q->body;
    ar.body_len = strlen(q->body);
    ar.region = region;
    ar.service = service;
    ar.now_ms = ak_now_wall_ms() + delay_ms;
    ak_buf_init(&q->signed_lines, 16 * 1024);
    r = ak_aws_sign(&ar, creds, &q->signed_lines, err);
    if (r < 0)
        return r;
    q->hdr[nh++] = ct;
    if (target)
        q->hdr[nh++] = tg;
    q->lines_copy = ak_xstrdup(q->signed_lines.buf);
    for (char *s = q->lines_copy, *nl; s && *s && nh < AK_ARRAY_SIZE(q->hdr) - 1; s = nl) {
        nl = strchr(s, '\n');
        if (nl)
            *nl++ = '\0';
        if (*s)
            q->hdr[nh++] = s;
    }
    q->hdr[nh] = NULL;

    struct ak_httpc_req hr = {0};
    hr.method = "POST";
    hr.url = q->url;
    hr.headers = q->hdr;
    hr.body = q->body;
    hr.body_len = strlen(q->body);
    hr.timeout_ms = pass->cfg->aws_timeout_ms;
    hr.max_response = PAGE_MAX;
    hr.ca_file = pass->cfg->aws_ca_file;
    pass->requests++;
    /* a request the multi refuses still reaches done (with the error), so that is the one
     * place failures are handled */
    (void)ak_httpc_multi_add(pass->m, &hr, delay_ms, done, arg);
    return AK_OK;
}

/* Query-protocol form body. params: NULL-terminated name, value pairs (a NULL value skips). */
static char *form_body(const char *action, const char *version, const char *const *params)
{
    struct ak_buf b = AK_BUF_INIT(64 * 1024);

    ak_buf_addf(&b, "Action=%s&Version=%s", action, version);
    for (size_t i = 0; params && params[i]; i += 2) {
        if (!params[i + 1])
            continue;
        char *v = ak_url_escape(params[i + 1]);
        ak_buf_addf(&b, "&%s=%s", params[i], v);
        free(v);
    }
    return ak_buf_detach(&b, NULL);
}

static void scope_fail(struct pl_scope *s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void account_start_waiters(struct pl_pass *pass, struct pl_account *a);
static void scope_next(struct pl_scope *s, int64_t delay_ms);
static bool retryable(long status, const char *code);
static int64_t backoff_ms(struct pl_pass *pass, int attempt, int64_t retry_after_ms);

static void on_assume_role(void *arg, int rc, struct ak_httpc_resp *resp, const char *errs);

struct pl_sts_ctx {
    struct pl_pass *pass;
    struct pl_account *acct;
};

static char *sts_endpoint(const struct pl_pass *pass, const struct pl_account *a)
{
    const char *e = pass->cfg->aws_sts_endpoint ? pass->cfg->aws_sts_endpoint
                                                : a->cfg->endpoint_url;

    if (e) {
        size_t n = strlen(e);
        return ak_xasprintf("%s%s", e, n && e[n - 1] == '/' ? "" : "/");
    }
    return ak_xasprintf("https://sts.%s.amazonaws.com/", account_region(a));
}

static int assume_role_send(struct pl_pass *pass, struct pl_account *a, int64_t delay_ms)
{
    struct pl_req q = {0};
    struct ak_buf err = AK_BUF_INIT(512);
    struct pl_sts_ctx *c = ak_xcalloc(1, sizeof(*c));
    const char *params[] = {"RoleArn", a->cfg->assume_role_arn, "RoleSessionName", "asakai-poller",
                            "DurationSeconds", "3600", "ExternalId", a->cfg->external_id, NULL};
    int r;

    if (pass->abort && atomic_load(pass->abort)) {
        /* stopping: a request queued now would be dropped with its context */
        free(c);
        free(a->error);
        a->error = ak_xstrdup("asakai is stopping");
        ak_buf_release(&err);
        return AK_EBUSY;
    }
    c->pass = pass;
    c->acct = a;
    q.url = sts_endpoint(pass, a);
    q.body = form_body("AssumeRole", "2011-06-15", params);
    r = req_send(pass, &q, "application/x-www-form-urlencoded; charset=utf-8", NULL, &a->base,
                 account_region(a), "sts", delay_ms, on_assume_role, c, &err);
    if (r < 0) {
        free(c);
        free(a->error);
        a->error = ak_xasprintf("AssumeRole %s: %s", a->cfg->assume_role_arn, err.buf);
    }
    req_release(&q);
    ak_buf_release(&err);
    return r;
}

static void account_fail(struct pl_pass *pass, struct pl_account *a)
{
    a->state = PL_CREDS_FAILED;
    for (size_t i = 0; i < a->n_waiters; i++)
        scope_fail(a->waiters[i], "credentials", "%s", a->error ? a->error : "no credentials");
    a->n_waiters = 0;
    (void)pass;
}

static void on_assume_role(void *arg, int rc, struct ak_httpc_resp *resp, const char *errs)
{
    struct pl_sts_ctx *c = arg;
    struct pl_pass *pass = c->pass;
    struct pl_account *a = c->acct;
    struct ak_buf err = AK_BUF_INIT(512);
    char *code = NULL, *msg = NULL;
    struct ak_aws_creds got = {0};

    free(c);
    if (rc == AK_OK && resp->status == 200 &&
        ak_aws_sts_parse_creds(resp->body.buf, resp->body.len, &got, &err) == AK_OK) {
        got.source = "assume-role";
        creds_copy(&a->creds, &got);
        ak_aws_creds_release(&got);
        a->state = PL_CREDS_READY;
        a->gen++;
        account_start_waiters(pass, a);
        goto out;
    }
    if (rc == AK_OK && ak_pull_error(resp->body.buf, resp->body.len, &code, &msg) != AK_OK)
        code = NULL;
    free(a->error);
    if (rc < 0)
        a->error = ak_xasprintf("AssumeRole %s: %s", a->cfg->assume_role_arn, errs);
    else if (code)
        a->error = ak_xasprintf("AssumeRole %s: %s: %s", a->cfg->assume_role_arn, code, msg);
    else if (resp->status == 200)
        a->error = ak_xasprintf("AssumeRole %s: %s", a->cfg->assume_role_arn, err.buf);
    else
        a->error = ak_xasprintf("AssumeRole %s: HTTP %ld", a->cfg->assume_role_arn, resp->status);
    if ((rc < 0 || retryable(resp->status, code)) &&
        ++a->attempts < (int)pass->cfg->aws_max_attempts) {
        pass->retries++;
        if (assume_role_send(pass, a, backoff_ms(pass, a->attempts,
                                                 rc == AK_OK ? resp->retry_after_ms : 0)) == AK_OK)
            goto out;
    }
    account_fail(pass, a);
out:
    free(code);
    free(msg);
    ak_buf_release(&err);
}

/* Makes sure a's credentials are being had; s (may be NULL) waits for them. */
static void account_need(struct pl_pass *pass, struct pl_account *a, struct pl_scope *s)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    int64_t now = ak_now_wall_ms();

    if (s) {
        a->waiters = ak_xrealloc(a->waiters, (a->n_waiters + 1) * sizeof(*a->waiters));
        a->waiters[a->n_waiters++] = s;
    }
    if (a->state == PL_CREDS_FETCHING)
        goto out;
    if (a->state == PL_CREDS_FAILED) {
        account_fail(pass, a);
        goto out;
    }
    if (a->state == PL_CREDS_READY && creds_fresh(&a->creds, now)) {
        account_start_waiters(pass, a);
        goto out;
    }
    if (!creds_fresh(&a->base, now)) {
        struct ak_aws_chain_opts o = {0};
        ak_aws_creds_release(&a->base);
        o.profile = a->cfg->profile;
        o.sts_endpoint = pass->cfg->aws_sts_endpoint;
        o.region = account_region(a);
        o.ca_file = pass->cfg->aws_ca_file;
        o.timeout_ms = pass->cfg->aws_timeout_ms;
        if (ak_aws_creds_resolve(&o, &a->base, &err) < 0) {
            free(a->error);
            a->error = ak_xasprintf("credentials for account %s: %s", a->cfg->id, err.buf);
            account_fail(pass, a);
            goto out;
        }
    }
    if (!a->cfg->assume_role_arn) {
        creds_copy(&a->creds, &a->base);
        a->state = PL_CREDS_READY;
        a->gen++;
        account_start_waiters(pass, a);
        goto out;
    }
    a->state = PL_CREDS_FETCHING;
    a->attempts = 0;
    if (assume_role_send(pass, a, 0) < 0)
        account_fail(pass, a);
out:
    ak_buf_release(&err);
}

static void account_start_waiters(struct pl_pass *pass, struct pl_account *a)
{
    /* scope_next may put a scope back on the list (it never does while READY), so take it */
    struct pl_scope **w = a->waiters;
    size_t n = a->n_waiters;

    a->waiters = NULL;
    a->n_waiters = 0;
    for (size_t i = 0; i < n; i++)
        scope_next(w[i], 0);
    free(w);
    (void)pass;
}

/* Drops credentials signed with generation gen (an expired token) so the next need fetches. */
static void account_invalidate(struct pl_account *a, unsigned gen)
{
    if (a->gen != gen || a->state != PL_CREDS_READY)
        return;
    a->state = PL_CREDS_NONE;
    ak_aws_creds_release(&a->creds);
    if (!a->cfg->assume_role_arn)
        ak_aws_creds_release(&a->base);
    else if (a->base.expires_ms)
        ak_aws_creds_release(&a->base); /* web identity: the role chain may have expired too */
}

/* ---- scopes ---------------------------------------------------------------------------- */

static void scope_fail(struct pl_scope *s, const char *code, const char *fmt, ...)
{
    va_list ap;
    struct ak_buf b = AK_BUF_INIT(1024);

    va_start(ap, fmt);
    ak_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    free(s->error);
    free(s->code);
    s->error = ak_buf_detach(&b, NULL);
    s->code = ak_xstrdup(code);
    s->done = true;
    s->ok = false;
}

static enum ak_pull_api scope_api(const struct pl_scope *s)
{
    const enum ak_pull_api *st = NULL;

    ak__poll_stages(s->poller, &st);
    return st[s->stage];
}

static const char *api_service(enum ak_pull_api api)
{
    switch (api) {
    case AK_PULL_EC2_INSTANCE_STATUS:
        return "ec2";
    case AK_PULL_RDS_PENDING:
        return "rds";
    case AK_PULL_EC_SERVICE_UPDATES:
    case AK_PULL_EC_UPDATE_ACTIONS:
    case AK_PULL_EC_EVENTS:
        return "elasticache";
    case AK_PULL_HEALTH_EVENTS:
    case AK_PULL_HEALTH_ENTITIES:
        return "health";
    }
    return "?";
}

static char *health_body(const struct pl_scope *s, enum ak_pull_api api)
{
    struct ak_json *o = ak_json_new_obj(), *f = ak_json_new_obj();
    char *out;

    if (api == AK_PULL_HEALTH_EVENTS) {
        struct ak_json *cat = ak_json_new_arr(), *stc = ak_json_new_arr();
        ak_json_append(cat, ak_json_new_str("scheduledChange"));
        ak_json_append(stc, ak_json_new_str("open"));
        ak_json_append(stc, ak_json_new_str("upcoming"));
        ak_json_set(f, "eventTypeCategories", cat);
        ak_json_set(f, "eventStatusCodes", stc);
    } else {
        struct ak_json *arns = ak_json_new_arr();
        for (size_t i = s->batch; i < ak_json_len(s->health_arns) && i < s->batch + HEALTH_BATCH;
             i++)
            ak_json_append(arns, ak_json_ref(ak_json_at(s->health_arns, i)));
        ak_json_set(f, "eventArns", arns);
    }
    ak_json_set(o, "filter", f);
    ak_json_set_int(o, "maxResults", 100);
    if (s->token)
        ak_json_set_str(o, "nextToken", s->token);
    out = ak_json_dump(o, AK_JSON_COMPACT);
    ak_json_free(o);
    return out;
}

static char *query_body(const struct pl_scope *s, enum ak_pull_api api)
{
    char start[40] = "";

    switch (api) {
    case AK_PULL_EC2_INSTANCE_STATUS: {
        const char *p[] = {"IncludeAllInstances", "true", "MaxResults", "1000", "NextToken",
                           s->token, NULL};
        return form_body("DescribeInstanceStatus", "2016-11-15", p);
    }
    case AK_PULL_RDS_PENDING: {
        const char *p[] = {"MaxRecords", "100", "Marker", s->token, NULL};
        return form_body("DescribePendingMaintenanceActions", "2014-10-31", p);
    }
    case AK_PULL_EC_SERVICE_UPDATES: {
        const char *p[] = {"ServiceUpdateStatus.member.1", "available", "MaxRecords", "100",
                           "Marker", s->token, NULL};
        return form_body("DescribeServiceUpdates", "2015-02-02", p);
    }
    case AK_PULL_EC_UPDATE_ACTIONS: {
        const char *p[] = {"ServiceUpdateStatus.member.1", "available", "MaxRecords", "100",
                           "Marker", s->token, NULL};
        return form_body("DescribeUpdateActions", "2015-02-02", p);
    }
    case AK_PULL_EC_EVENTS: {
        /* fixed for the scope's whole pass: a page token is only valid for the same query */
        ak_time_fmt_rfc3339(s->events_from_ms, start, sizeof(start));
        const char *p[] = {"StartTime", start, "MaxRecords", "100", "Marker", s->token, NULL};
        return form_body("DescribeEvents", "2015-02-02", p);
    }
    default:
        return NULL;
    }
}

static void on_page(void *arg, int rc, struct ak_httpc_resp *resp, const char *errs);

/* Sends the scope's current request (or waits for credentials). */
static void scope_next(struct pl_scope *s, int64_t delay_ms)
{
    struct pl_pass *pass = s->pass;
    struct pl_account *a = s->acct;
    enum ak_pull_api api = scope_api(s);
    struct pl_req q = {0};
    struct ak_buf err = AK_BUF_INIT(512);
    bool health = api == AK_PULL_HEALTH_EVENTS || api == AK_PULL_HEALTH_ENTITIES;
    static const char *const targets[] = {"AWSHealth_20160804.DescribeEvents",
                                          "AWSHealth_20160804.DescribeAffectedEntities"};

    if (pass->abort && atomic_load(pass->abort)) {
        scope_fail(s, "stopped", "asakai is stopping: the pass was cut short");
        goto out;
    }
    /* freshness is judged once per pass (ak__poll_pass_run): judging it here again would fetch
     * forever when what STS gives is already inside the margin (clock skew); credentials that
     * run out mid-pass come back as ExpiredToken and get the one refresh of on_page */
    if (a->state != PL_CREDS_READY) {
        account_need(pass, a, s);
        goto out;
    }
    q.url = service_url(a, api_service(api), s->region);
    q.body = health ? health_body(s, api) : query_body(s, api);
    s->creds_gen = a->gen;
    if (req_send(pass, &q,
                 health ? "application/x-amz-json-1.1"
                        : "application/x-www-form-urlencoded; charset=utf-8",
                 health ? targets[api == AK_PULL_HEALTH_ENTITIES] : NULL, &a->creds, s->region,
                 api_service(api), delay_ms, on_page, s, &err) < 0)
        scope_fail(s, "request", "cannot build the request: %s", err.buf);
out:
    req_release(&q);
    ak_buf_release(&err);
}

static bool is_code(const char *code, const char *const *set)
{
    for (size_t i = 0; code && set[i]; i++)
        if (strcmp(code, set[i]) == 0)
            return true;
    return false;
}

static bool retryable(long status, const char *code)
{
    static const char *const throttle[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
        "TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
        "SlowDown", "PriorRequestNotComplete", "ServiceUnavailable", "InternalFailure",
        "InternalError", "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
        NULL};

    return status == 429 || status >= 500 || is_code(code, throttle);
}

static bool expired(const char *code)
{
    static const char *const set[] = {"ExpiredToken", "ExpiredTokenException", "RequestExpired",
                                      "TokenRefreshRequired", "InvalidClientTokenId",
                                      "AuthFailure", NULL};
    return is_code(code, set);
}

static int64_t backoff_ms(struct pl_pass *pass, int attempt, int64_t retry_after_ms)
{
    int64_t base = pass->cfg->aws_retry_base_ms, d = base;
    uint64_t x = (++pass->rng + (uint64_t)pass->started_ms) * 6364136223846793005ULL;

    for (int i = 1; i < attempt && d < BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > BACKOFF_CAP_MS)
        d = BACKOFF_CAP_MS;
    /* "equal jitter": at least half the step, so a retry never comes back at once */
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    d = d / 2 + (int64_t)(x % (uint64_t)(d / 2 + 1));
    return retry_after_ms > d ? (retry_after_ms < BACKOFF_CAP_MS ? retry_after_ms : BACKOFF_CAP_MS)
                              : d;
}

static void merge_obj(struct ak_json **into, const struct ak_json *from)
{
    if (!from)
        return;
    if (!*into)
        *into = ak_json_new_obj();
    for (void *it = ak_json_iter(from); it; it = ak_json_iter_next(from, it))
        ak_json_set(*into, ak_json_iter_key(it), ak_json_ref(ak_json_iter_value(it)));
}

static void merge_arr(struct ak_json **into, const struct ak_json *from)
{
    if (!from)
        return;
    if (!*into)
        *into = ak_json_new_arr();
    for (size_t i = 0; i < ak_json_len(from); i++)
        ak_json_append(*into, ak_json_ref(ak_json_at(from, i)));
}

/* Takes a parsed page and moves to the next request, stage or the end. */
static void scope_advance(struct pl_scope *s, struct ak_pull_page *pg)
{
    enum ak_pull_api api = scope_api(s);
    const enum ak_pull_api *st = NULL;

    s->pages++;
    s->seen += pg->n_seen;
    merge_obj(&s->service_updates, pg->service_updates);
    merge_arr(&s->health_arns, pg->health_arns);
    merge_obj(&s->health_events, pg->health_events);
    /* the same token again would ask for the same page forever */
    bool same = pg->next_token && s->token && strcmp(pg->next_token, s->token) == 0;
    free(s->token);
    s->token = pg->next_token ? ak_xstrdup(pg->next_token) : NULL;
    s->chain_pages = s->token ? s->chain_pages + 1 : 0;
    s->pv = ak_xrealloc(s->pv, (s->n_pv + 1) * sizeof(*s->pv));
    s->pv[s->n_pv++] = *pg;
    memset(pg, 0, sizeof(*pg));
    s->attempts = 0;
    if (s->token) {
        if (same) {
            scope_fail(s, "pagination", "%s answered the page token it was asked with: stopped",
                       api_service(api));
            return;
        }
        if (s->chain_pages >= MAX_PAGES) {
            scope_fail(s, "pagination", "more than %d pages: stopped", MAX_PAGES);
            return;
        }
        scope_next(s, 0);
        return;
    }
    if (api == AK_PULL_HEALTH_ENTITIES) {
        s->batch += HEALTH_BATCH;
        if (s->batch < ak_json_len(s->health_arns)) {
            scope_next(s, 0);
            return;
        }
    }
    ak__poll_stages(s->poller, &st);
    s->stage++;
    if (st[s->stage] == AK_PULL_HEALTH_ENTITIES && ak_json_len(s->health_arns) == 0)
        s->stage++;
    if (st[s->stage]) {
        scope_next(s, 0);
        return;
    }
    s->done = true;
    s->ok = true;
}

static void on_page(void *arg, int rc, struct ak_httpc_resp *resp, const char *errs)
{
    struct pl_scope *s = arg;
    struct pl_pass *pass = s->pass;
    struct ak_pull_page pg = {0};
    struct ak_pull_ctx ctx = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    char *code = NULL, *msg = NULL;
    enum ak_pull_api api = scope_api(s);

    if (rc == AK_OK && resp->status == 200) {
        ctx.account = s->acct->cfg->id;
        ctx.region = s->region;
        ctx.received_ms = ak_now_wall_ms();
        ctx.service_updates = s->service_updates;
        ctx.health_events = s->health_events;
        if (ak_pull_parse(api, resp->body.buf, resp->body.len, &ctx, &pg, &err) < 0)
            scope_fail(s, "parse", "%s answered a page asakai cannot read: %s",
                       api_service(api), err.buf);
        else
            scope_advance(s, &pg);
        goto out;
    }
    if (rc == AK_OK && ak_pull_error(resp->body.buf, resp->body.len, &code, &msg) != AK_OK) {
        code = NULL;
        msg = NULL;
    }
    if (rc == AK_OK && code && ak_streq(code, "SignatureDoesNotMatch") && msg &&
        strstr(msg, "expired") && !s->refreshed) {
        /* signed when queued, sent minutes later behind thousands of others: sign again */
        s->refreshed = true;
        pass->retries++;
        scope_next(s, 0);
        goto out;
    }
    if (rc == AK_OK && code && expired(code) && !s->refreshed) {
        /* the token ran out mid-pass (or the keys were rotated): fetch once more */
        s->refreshed = true;
        pass->retries++;
        account_invalidate(s->acct, s->creds_gen);
        scope_next(s, 0);
        goto out;
    }
    if ((rc < 0 || retryable(resp->status, code)) &&
        ++s->attempts < (int)pass->cfg->aws_max_attempts) {
        pass->retries++;
        scope_next(s, backoff_ms(pass, s->attempts, rc == AK_OK ? resp->retry_after_ms : 0));
        goto out;
    }
    if (rc < 0)
        scope_fail(s, "transport", "%s: %s", api_service(api), errs);
    else if (code && s->attempts >= (int)pass->cfg->aws_max_attempts)
        scope_fail(s, code, "%s: %s (gave up after %d attempts)", code, msg, s->attempts);
    else if (code)
        scope_fail(s, code, "%s: %s", code, msg);
    else
        scope_fail(s, "http", "%s answered HTTP %ld", api_service(api), resp->status);
out:
    free(code);
    free(msg);
    ak_pull_page_release(&pg);
    ak_buf_release(&err);
}

/* ---- the pass -------------------------------------------------------------------------- */

static void scope_init(struct pl_scope *s, struct pl_pass *pass, struct pl_account *a,
                       int poller, const char *region, struct ak_store *st)
{
    struct ak_poll_scope row = {0};

    s->pass = pass;
    s->acct = a;
    s->poller = poller;
    if (poller == AK_POLLER_HEALTH) {
        s->region = ak_xstrdup("us-east-1");
        s->scope_region = ak_xstrdup("global");
    } else {
        s->region = ak_xstrdup(region);
        s->scope_region = ak_xstrdup(region);
    }
    s->scope = ak_xasprintf("%s:%s:%s", ak_cfg_poller_name(poller), a->cfg->id, s->scope_region);
    if (st && ak_store_poll_scope_get(st, s->scope, &row) == AK_OK)
        s->since_ms = row.last_ok_at;
    ak_poll_scope_release(&row);
    /* events are kept 14 days: ask from the last good pass with an hour of overlap */
    s->events_from_ms = pass->started_ms - EVENTS_WINDOW_MS + 60000;
    if (s->since_ms && s->since_ms - EVENTS_OVERLAP_MS > s->events_from_ms)
        s->events_from_ms = s->since_ms - EVENTS_OVERLAP_MS;
}

static void scope_release(struct pl_scope *s)
{
    free(s->region);
    free(s->scope_region);
    free(s->scope);
    free(s->token);
    free(s->error);
    free(s->code);
    for (size_t i = 0; i < s->n_pv; i++)
        ak_pull_page_release(&s->pv[i]);
    free(s->pv);
    ak_json_free(s->service_updates);
    ak_json_free(s->health_arns);
    ak_json_free(s->health_events);
}

void ak__poll_pass_release(struct pl_pass *pass)
{
    for (size_t i = 0; i < pass->n_scopes; i++)
        scope_release(&pass->scopes[i]);
    free(pass->scopes);
    ak_httpc_multi_free(pass->m);
    for (size_t i = 0; i < pass->n_accts; i++) {
        free(pass->accts[i].error);
        pass->accts[i].error = NULL;
        free(pass->accts[i].waiters);
        pass->accts[i].waiters = NULL;
        pass->accts[i].n_waiters = 0;
        if (pass->accts[i].state != PL_CREDS_READY)
            pass->accts[i].state = PL_CREDS_NONE;
    }
    memset(pass, 0, sizeof(*pass));
}

int ak__poll_pass_run(struct ak_poll *p, unsigned mask, struct pl_pass *pass, struct ak_buf *err)
{
    const struct ak_cfg *cfg = p->cfg;
    size_t n = 0, k = 0;
    int r;

    memset(pass, 0, sizeof(*pass));
    pass->cfg = cfg;
    pass->accts = p->accts;
    pass->n_accts = cfg->n_aws_accounts;
    pass->started_ms = ak_now_wall_ms();
    pass->abort = &p->abort;
    for (size_t i = 0; i < cfg->n_aws_accounts; i++)
        for (int q = 0; q < AK_POLLER_N; q++)
            if (mask & (1u << q))
                n += q == AK_POLLER_HEALTH ? 1 : cfg->aws_accounts[i].regions.n;
    pass->scopes = ak_xcalloc(n ? n : 1, sizeof(*pass->scopes));
    for (size_t i = 0; i < cfg->n_aws_accounts; i++) {
        struct pl_account *a = &p->accts[i];
        if (a->state == PL_CREDS_FAILED || a->state == PL_CREDS_FETCHING ||
            (a->state == PL_CREDS_READY && !creds_fresh(&a->creds, pass->started_ms)))
            a->state = PL_CREDS_NONE;
        for (int q = 0; q < AK_POLLER_N; q++) {
            if (!(mask & (1u << q)))
                continue;
            size_t nr = q == AK_POLLER_HEALTH ? 1 : a->cfg->regions.n;
            for (size_t j = 0; j < nr; j++)
                scope_init(&pass->scopes[k++], pass, a, q, a->cfg->regions.v[j], p->st);
        }
    }
    pass->n_scopes = k;
    r = ak_httpc_multi_new((int)cfg->aws_max_in_flight, &pass->m);
    if (r < 0) {
        ak_err(err, r, "cannot start the HTTP client for polling");
        return r;
    }
    ak_httpc_multi_set_abort(pass->m, &p->abort);
    for (size_t i = 0; i < pass->n_scopes; i++)
        scope_next(&pass->scopes[i], 0);
    r = ak_httpc_multi_run(pass->m);
    pass->peak = ak_httpc_multi_peak(pass->m);
    for (size_t i = 0; i < pass->n_scopes; i++)
        if (!pass->scopes[i].done)
            scope_fail(&pass->scopes[i], "internal", "the pass ended before this scope did");
    if (r < 0)
        ak_err(err, r, "the HTTP client failed during the pass");
    return AK_OK;
}
