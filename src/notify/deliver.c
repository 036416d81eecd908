/* deliver.c — sending one outbox row: render for the receiver's kind, send, record the outcome.
 *
 * Outcomes: sent; transient failure (network, 5xx, 429, SMTP 4xx) -> retry with exponential
 * backoff and jitter, or after Retry-After, until notify.give_up_after has passed since the row
 * was created -> dead; permanent refusal (Slack invalid_payload / channel_not_found, webhook 4xx,
 * SMTP 5xx) -> dead at once, with the receiver's words in last_error. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_log.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "notify_int.h"
#include "render.h"
#include "../core/ak_banned.h"

#define SEND_MAX_RESPONSE (64 * 1024)

enum outcome { SENT, RETRY, DEAD };

struct attempt {
    enum outcome outcome;
    int64_t retry_after_ms;
    bool unreachable; /* timeout / connection failure: the receiver, not the message */
    char error[300];
};

static void fail(struct attempt *a, enum outcome o, const char *fmt, const char *detail)
{
    a->outcome = o;
    snprintf(a->error, sizeof(a->error), fmt, detail ? detail : "");
}

/* "<asakai.r42.o7.<install>@example.com>"; the record's root is the same without ".o<id>". */
static void message_ids(const struct ak_notify *n, const struct ak_outbox *o, const char *from,
                        char *mid, char *root, size_t len)
{
    const char *at = from ? strrchr(from, '@') : NULL;
    const char *dom = at && at[1] ? at + 1 : "asakai.invalid";
    size_t dl = strcspn(dom, ">");
    snprintf(root, len, "<asakai.r%lld.%s@%.*s>", (long long)o->rec_id, n->install_id, (int)dl,
             dom);
    if (o->rec_id && ak_streq(o->key, "created")) /* the first message is the thread's root */
        snprintf(mid, len, "%s", root);
    else
        snprintf(mid, len, "<asakai.r%lld.o%lld.%s@%.*s>", (long long)o->rec_id, (long long)o->id,
                 n->install_id, (int)dl, dom);
}

static void send_email(struct ak_notify *n, const struct ak_cfg_receiver *rc,
                       const struct ak_outbox *o, const struct ak_render_ctx *c,
                       const struct ak_digest *dg, struct attempt *a)
{
    struct ak_buf msg = AK_BUF_INIT(8 * 1024 * 1024), err = AK_BUF_INIT(512);
    char mid[200], root[200];
    const char **to = ak_xcalloc(rc->to.n + 1, sizeof(*to));
    int r;

    for (size_t i = 0; i < rc->to.n; i++)
        to[i] = rc->to.v[i];
    message_ids(n, o, rc->from, mid, root, sizeof(mid));
    if (dg)
        r = ak__notify_digest_email(dg, rc->from, to, rc->to.n, mid, &msg);
    else
        r = ak__notify_email(c, rc->from, to, rc->to.n, mid, root, &msg);
    if (r < 0) {
        fail(a, DEAD, "cannot render the email: %s", ak_strerror(r));
        goto out;
    }
    struct ak_smtp_req req = {
        .url = rc->smarthost,
        .from = rc->from,
        .rcpt = to,
        .username = rc->username,
        .password = rc->password,
        .starttls = rc->starttls,
        .ca_file = rc->ca_file,
        .message = msg.buf,
        .message_len = msg.len,
        .timeout_ms = n->cfg->notify_timeout_ms,
    };
    r = ak_smtp_send(&req, &err);
    if (r == AK_OK)
        a->outcome = SENT;
    else {
        a->unreachable = r == AK_ETIMEDOUT || r == AK_EIO;
        fail(a, r == AK_EFORBIDDEN ? DEAD : RETRY, "SMTP: %s", err.buf);
    }
out:
    free(to);
    ak_buf_release(&msg);
    ak_buf_release(&err);
}

/* One HTTP POST of a JSON body; classifies the answer. */
static void post_json(struct ak_notify *n, const char *url, const char *const *headers,
                      const struct ak_buf *body, bool slack_api, struct attempt *a,
                      struct ak_json **ret_json)
{
    struct ak_httpc_resp resp;
    struct ak_buf err = AK_BUF_INIT(512);
    struct ak_httpc_req req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = body->buf,
        .body_len = body->len,
        .timeout_ms = n->cfg->notify_timeout_ms,
        .max_response = SEND_MAX_RESPONSE,
    };

    ak_httpc_resp_init(&resp);
    int r = ak_httpc_do(&req, &resp, &err);
    if (r < 0) {
        a->unreachable = r == AK_ETIMEDOUT || r == AK_EIO;
        fail(a, r == AK_EFORBIDDEN ? DEAD : RETRY, "%s", err.buf);
        goto out;
    }
    if (resp.status == 429 || resp.status >= 500 || resp.status == 408) {
        a->retry_after_ms = resp.retry_after_ms;
        char d[160];
        snprintf(d, sizeof(d), "HTTP %ld %.120s", resp.status, resp.body.buf);
        fail(a, RETRY, "%s", d);
        goto out;
    }
    if (resp.status < 200 || resp.status >= 300) {
        char d[200];
        snprintf(d, sizeof(d), "HTTP %ld %.160s", resp.status, resp.body.buf);
        fail(a, DEAD, "refused: %s", d);
        goto out;
    }
    if (slack_api) { /* chat.postMessage answers 200 with {"ok": false, "error": ...} */
        struct ak_json *j = ak_json_parse(resp.body.buf, resp.body.len, NULL);
        if (!j || !ak_json_bool(ak_json_get(j, "ok"))) {
            const char *e = ak_json_get_str(j, "error");
            bool transient = e && (ak_streq(e, "ratelimited") || ak_streq(e, "internal_error") ||
                                   ak_streq(e, "service_unavailable") ||
                                   ak_streq(e, "request_timeout"));
            fail(a, transient ? RETRY : DEAD, "Slack: %s", e ? e : "answer is not JSON");
            ak_json_free(j);
            goto out;
        }
        *ret_json = j;
    }
    a->outcome = SENT;
out:
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
}

static void send_slack(struct ak_notify *n, struct ak_store *st, const struct ak_cfg_receiver *rc,
                       const struct ak_outbox *o, const struct ak_render_ctx *c,
                       const struct ak_digest *dg, struct attempt *a)
{
    struct ak_buf body = AK_BUF_INIT(1024 * 1024);
    char *thread = NULL, *url = NULL, *auth = NULL;
    struct ak_json *answer = NULL;
    bool api = rc->bot_token && rc->channel;
    int r;

    if (api && o->rec_id)
        ak_store_thread_get(st, o->rec_id, rc->name, &thread);
    if (dg)
        r = ak__notify_digest_slack(dg, api ? rc->channel : NULL, &body);
    else
        r = ak__notify_slack(c, api ? rc->channel : NULL, thread, &body);
    if (r < 0) {
        fail(a, DEAD, "cannot render the Slack message: %s", ak_strerror(r));
        goto out;
    }
    if (api) {
        url = ak_xasprintf("%s/chat.postMessage",
                           rc->api_url ? rc->api_url : "https://slack.com/api");
        auth = ak_xasprintf("Authorization: Bearer %s", rc->bot_token);
        const char *h[] = {"Content-Type: application/json; charset=utf-8", auth, NULL};
        post_json(n, url, h, &body, true, a, &answer);
        const char *ts = ak_json_get_str(answer, "ts");
        if (a->outcome == SENT && o->rec_id && !thread && ts)
            ak_store_thread_set(st, o->rec_id, rc->name, ts); /* later ones reply in it */
    } else {
        const char *h[] = {"Content-Type: application/json", NULL};
        post_json(n, rc->webhook_url, h, &body, false, a, NULL);
    }
out:
    ak_json_free(answer);
    free(thread);
    free(url);
    free(auth);
    ak_buf_release(&body);
}

static void send_webhook(struct ak_notify *n, const struct ak_cfg_receiver *rc,
                         const struct ak_render_ctx *c, const struct ak_digest *dg,
                         struct attempt *a, int64_t now)
{
    struct ak_buf body = AK_BUF_INIT(8 * 1024 * 1024);
    char sig[160], hdr[200];
    int r = dg ? ak__notify_digest_webhook(dg, &body) : ak__notify_webhook(c, &body);

    if (r < 0) {
        fail(a, DEAD, "cannot render the webhook body: %s", ak_strerror(r));
        goto out;
    }
    const char *h[3] = {"Content-Type: application/json", NULL, NULL};
    if (rc->secret) {
        ak__notify_webhook_signature(rc->secret, now, body.buf, body.len, sig, sizeof(sig));
        snprintf(hdr, sizeof(hdr), "X-Asakai-Signature: %s", sig);
        h[1] = hdr;
    }
    post_json(n, rc->url, h, &body, false, a, NULL);
out:
    ak_buf_release(&body);
}

/* Exponential backoff from backoff_min, capped at backoff_max, with jitter on the upper half
 * (so many rows failing together do not retry together). The jitter comes from a hash of the
 * row and the time: no shared state between the concurrent senders. */
static int64_t backoff(const struct ak_notify *n, const struct ak_outbox *o, int64_t now)
{
    int64_t lo = n->cfg->notify_backoff_min_ms, hi = n->cfg->notify_backoff_max_ms, d = lo;
    for (int i = 1; i < o->attempts && d < hi; i++)
        d *= 2;
    if (d > hi)
        d = hi;
    uint64_t x = (uint64_t)o->id * 0x9E3779B97F4A7C15ULL ^ (uint64_t)now;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    return d / 2 + (int64_t)(x % (uint64_t)(d / 2 + 1));
}

/* Loads what the message is about: the record and its change, or the digest's content. */
static int load_subject(struct ak_store *st, const struct ak_outbox *o, struct ak_maint_rec *rec,
                        struct ak_change **ret_changes, size_t *ret_nc, struct ak_change **ret_c)
{
    int r = ak_store_rec_get(st, o->rec_id, rec);
    if (r < 0)
        return r;
    r = ak_store_change_list_rec(st, o->rec_id, ret_changes, ret_nc);
    if (r < 0)
        return r;
    for (size_t i = 0; i < *ret_nc; i++)
        if ((*ret_changes)[i].id == o->change_id)
            *ret_c = &(*ret_changes)[i];
    return *ret_c ? AK_OK : AK_ENOTFOUND;
}

struct digest_data {
    struct ak_maint_rec *recs;
    size_t n_recs;
    struct ak_change *changes;
    size_t n_changes;
};

static int load_digest(struct ak_store *st, int64_t since, struct digest_data *d)
{
    struct ak_rec_filter f = {.all = false, .limit = 500};
    int r = ak_store_rec_list(st, &f, &d->recs, &d->n_recs);
    if (r < 0)
        return r;
    /* changes of the last day: walk from the start (a digest is once a day; a cursor by time
     * would be the next step when the change log grows large) */
    struct ak_change *all = NULL;
    size_t na = 0;
    r = ak_store_change_list_after(st, 0, 100000, &all, &na);
    if (r < 0)
        return r;
    d->changes = ak_xcalloc(na ? na : 1, sizeof(*d->changes));
    for (size_t i = 0; i < na; i++) {
        if (all[i].at >= since && !ak_streq(all[i].kind, "reminder"))
            d->changes[d->n_changes++] = all[i];
        else
            ak_change_release(&all[i]);
    }
    free(all);
    return AK_OK;
}

static void digest_release(struct digest_data *d)
{
    for (size_t i = 0; i < d->n_recs; i++)
        ak_maint_rec_release(&d->recs[i]);
    free(d->recs);
    for (size_t i = 0; i < d->n_changes; i++)
        ak_change_release(&d->changes[i]);
    free(d->changes);
}

static int64_t paused_until(struct ak_notify *n, size_t idx)
{
    pthread_mutex_lock(&n->pause_mu);
    int64_t t = n->paused_until[idx];
    pthread_mutex_unlock(&n->pause_mu);
    return t;
}

static void pause_receiver(struct ak_notify *n, size_t idx, int64_t until)
{
    pthread_mutex_lock(&n->pause_mu);
    if (until > n->paused_until[idx])
        n->paused_until[idx] = until;
    pthread_mutex_unlock(&n->pause_mu);
}

void ak__notify_deliver(struct ak_notify *n, struct ak_store *st, struct ak_outbox *o, int64_t now)
{
    size_t idx = 0;
    const struct ak_cfg_receiver *rc = ak__notify_receiver(n, o->receiver, &idx);
    struct attempt a = {.outcome = RETRY};
    struct ak_maint_rec rec = {0};
    struct ak_change *changes = NULL, *change = NULL;
    size_t nc = 0;
    struct digest_data dd = {0};
    struct ak_digest dg;
    struct ak_buf why = AK_BUF_INIT(512);
    char labels[160], date[32] = "";
    bool is_digest = o->rec_id == 0;

    if (!rc) {
        fail(&a, DEAD, "receiver %s is no longer configured", o->receiver);
        goto record;
    }
    int64_t pause = paused_until(n, idx);
    if (pause > now) {
        o->next_at = pause; /* written with the batch, no attempt counted */
        return;
    }
    struct ak_render_ctx c = {.tz = n->tz[idx], .base_url = NULL, .now_ms = now};
    if (is_digest) {
        if (load_digest(st, now - 86400000LL, &dd) < 0) {
            fail(&a, RETRY, "%s", "cannot read the store for the digest");
            goto record;
        }
        snprintf(date, sizeof(date), "%s", ak_startswith(o->key, "digest:") ? o->key + 7 : o->key);
        dg = (struct ak_digest){.recs = dd.recs, .n_recs = dd.n_recs, .changes = dd.changes,
                                .n_changes = dd.n_changes, .since_ms = now - 86400000LL,
                                .date_label = date, .tz = n->tz[idx], .now_ms = now};
    } else {
        int r = load_subject(st, o, &rec, &changes, &nc, &change);
        if (r < 0) {
            fail(&a, r == AK_ENOTFOUND ? DEAD : RETRY, "cannot load the record: %s",
                 ak_strerror(r));
            goto record;
        }
        c.rec = &rec;
        c.change = change;
        c.important = ak_maint_is_important(&n->mcfg, &rec, now, &why);
        c.important_why = why.buf;
    }
    switch (rc->kind) {
    case AK_RECV_EMAIL: send_email(n, rc, o, &c, is_digest ? &dg : NULL, &a); break;
    case AK_RECV_SLACK: send_slack(n, st, rc, o, &c, is_digest ? &dg : NULL, &a); break;
    case AK_RECV_WEBHOOK: send_webhook(n, rc, &c, is_digest ? &dg : NULL, &a, now); break;
    }
record:
    o->attempts++;
    free(o->last_error);
    o->last_error = a.outcome == SENT ? NULL : ak_xstrdup(a.error);
    if (a.outcome == SENT) {
        free(o->state);
        o->state = ak_xstrdup("sent");
        o->sent_at = ak_now_wall_ms();
    } else if (a.outcome == DEAD || now - o->created_at >= n->cfg->notify_give_up_ms) {
        free(o->state);
        o->state = ak_xstrdup("dead");
    } else {
        int64_t d = backoff(n, o, now);
        if (a.retry_after_ms > d)
            d = a.retry_after_ms;
        o->next_at = ak_now_wall_ms() + d;
        if (rc && a.retry_after_ms) /* the receiver asked everyone to wait */
            pause_receiver(n, idx, ak_now_wall_ms() + a.retry_after_ms);
        else if (rc && a.unreachable)
            /* a receiver that hangs or refuses connections: its other rows wait out this row's
             * backoff instead of each costing a full timeout (which would hold up the round,
             * and with it every other receiver) */
            pause_receiver(n, idx, o->next_at);
    }
    snprintf(labels, sizeof(labels), "receiver=\"%s\",result=\"%s\"", o->receiver,
             a.outcome == SENT ? "sent" : ak_streq(o->state, "dead") ? "dead" : "retry");
    ak_metrics_inc("asakai_notify_sent_total", labels);
    if (a.outcome != SENT) {
        char att[16];
        snprintf(att, sizeof(att), "%d", o->attempts);
        ak_log(ak_streq(o->state, "dead") ? AK_LOG_ERR : AK_LOG_WARN, "notify",
               ak_streq(o->state, "dead") ? "gave up on a notification" : "notification failed",
               "receiver", o->receiver, "key", o->key, "attempts", att, "error", a.error, NULL);
    }
    for (size_t i = 0; i < nc; i++)
        ak_change_release(&changes[i]);
    free(changes);
    ak_maint_rec_release(&rec);
    digest_release(&dd);
    ak_buf_release(&why);
}
