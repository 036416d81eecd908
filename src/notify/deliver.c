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
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "notify_int.h"
#include "render.h"
#include "../core/ak_banned.h"

#define SEND_MAX_RESPONSE (64 * 1024)

enum outcome { SENT, RETRY, DEAD, SKIPPED };

/* What one row is about: a record change (c), the plain digest (dg), the morning report (rep)
 * or a runbook step reminder (step); exactly one of dg, rep, step is set unless c is. */
struct payload {
    const struct ak_render_ctx *c;
    const struct ak_digest *dg;
    const struct ak_report_msg *rep;
    const struct ak_step_msg *step;
};

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
                       const struct ak_outbox *o, const struct payload *p, struct attempt *a)
{
    struct ak_buf msg = AK_BUF_INIT(8 * 1024 * 1024), err = AK_BUF_INIT(512);
    char mid[200], root[200];
    const char **to = ak_xcalloc(rc->to.n + 1, sizeof(*to));
    int r;

    for (size_t i = 0; i < rc->to.n; i++)
        to[i] = rc->to.v[i];
    message_ids(n, o, rc->from, mid, root, sizeof(mid));
    if (p->rep)
        r = ak__notify_report_email(p->rep, rc->from, to, rc->to.n, mid, &msg);
    else if (p->step)
        r = ak__notify_step_email(p->step, rc->from, to, rc->to.n, mid, &msg);
    else if (p->dg)
        r = ak__notify_digest_email(p->dg, rc->from, to, rc->to.n, mid, &msg);
    else
        r = ak__notify_email(p->c, rc->from, to, rc->to.n, mid, root, &msg);
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
                       const struct ak_outbox *o, const struct payload *p, struct attempt *a)
{
    struct ak_buf body = AK_BUF_INIT(1024 * 1024);
    char *thread = NULL, *url = NULL, *auth = NULL;
    struct ak_json *answer = NULL;
    bool api = rc->bot_token && rc->channel;
    int r;

    if (api && o->rec_id)
        ak_store_thread_get(st, o->rec_id, rc->name, &thread);
    if (p->rep)
        r = ak__notify_report_slack(p->rep, api ? rc->channel : NULL, &body);
    else if (p->step)
        r = ak__notify_step_slack(p->step, api ? rc->channel : NULL, &body);
    else if (p->dg)
        r = ak__notify_digest_slack(p->dg, api ? rc->channel : NULL, &body);
    else
        r = ak__notify_slack(p->c, api ? rc->channel : NULL, thread, &body);
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
                         const struct payload *p, struct attempt *a, int64_t now)
{
    struct ak_buf body = AK_BUF_INIT(8 * 1024 * 1024);
    char sig[160], hdr[200];
    int r = p->rep    ? ak__notify_report_webhook(p->rep, &body)
            : p->step ? ak__notify_step_webhook(p->step, &body)
            : p->dg   ? ak__notify_digest_webhook(p->dg, &body)
                      : ak__notify_webhook(p->c, &body);

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

/* The step of a "rbstep:<runbook id>:<step id>:<due ms>" row (the caller releases rb and
 * *ret_steps; *ret_step points into them). AK_ENOTFOUND when the runbook or step is gone. */
static int load_step(struct ak_store *st, const char *key, struct ak_rb_instance *rb,
                     struct ak_rb_step_row **ret_steps, size_t *ret_n,
                     struct ak_rb_step_row **ret_step)
{
    const char *p = key + strlen("rbstep:"), *c1 = strchr(p, ':');
    const char *c2 = c1 ? strrchr(c1 + 1, ':') : NULL;
    uint64_t id;
    char num[24];

    if (!c1 || !c2 || (size_t)(c1 - p) >= sizeof(num))
        return AK_ENOTFOUND;
    memcpy(num, p, (size_t)(c1 - p));
    num[c1 - p] = 0;
    if (ak_parse_u64(num, 1, INT64_MAX, &id) < 0)
        return AK_ENOTFOUND;
    int r = ak_store_rb_get(st, (int64_t)id, rb);
    if (r < 0)
        return r;
    r = ak_store_rb_steps(st, (int64_t)id, ret_steps, ret_n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < *ret_n; i++) {
        const char *sid = (*ret_steps)[i].step_id;
        if (sid && strlen(sid) == (size_t)(c2 - c1 - 1) && memcmp(sid, c1 + 1, strlen(sid)) == 0)
            *ret_step = &(*ret_steps)[i];
    }
    return *ret_step ? AK_OK : AK_ENOTFOUND;
}

/* The morning report through the daemon's hook; false when there is none or it failed (the
 * plain digest goes instead). */
static bool build_report(struct ak_notify *n, size_t idx, int64_t now, struct ak_buf *md,
                         struct ak_buf *html, struct ak_json **ret_report)
{
    struct ak_buf json = AK_BUF_INIT(64 * 1024 * 1024);
    int (*build)(void *, int64_t, const char *, struct ak_buf *, struct ak_buf *,
                 struct ak_buf *);
    void *arg;
    bool ok = false;

    pthread_mutex_lock(&n->mu);
    build = n->report_build;
    arg = n->report_arg;
    pthread_mutex_unlock(&n->mu);
    if (!build || !n->cfg->report_enabled)
        goto out;
    int r = build(arg, now, ak_tz_name(n->tz[idx]), md, html, &json);
    if (r == AK_OK)
        *ret_report = ak_json_parse(json.buf, json.len, NULL);
    ok = r == AK_OK && *ret_report;
    if (!ok)
        ak_log(AK_LOG_WARN, "notify", "cannot build the morning report; sending the plain digest",
               "error", ak_strerror(r < 0 ? r : AK_EINTERNAL), NULL);
out:
    ak_buf_release(&json);
    return ok;
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
    size_t nc = 0, nsteps = 0;
    struct digest_data dd = {0};
    struct ak_digest dg;
    struct ak_buf why = AK_BUF_INIT(512);
    struct ak_buf md = AK_BUF_INIT(32 * 1024 * 1024), html = AK_BUF_INIT(32 * 1024 * 1024);
    struct ak_json *report = NULL;
    struct ak_report_msg rep;
    struct ak_rb_instance rb = {0};
    struct ak_rb_step_row *steps = NULL, *step = NULL;
    struct ak_step_msg sm;
    struct payload p = {0};
    char labels[160], date[32] = "";
    bool is_step = o->rec_id == 0 && ak_startswith(o->key, "rbstep:");
    bool is_digest = o->rec_id == 0 && !is_step;

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
    p.c = &c;
    if (is_step) {
        int r = load_step(st, o->key, &rb, &steps, &nsteps, &step);
        if (r < 0) {
            fail(&a, r == AK_ENOTFOUND ? DEAD : RETRY, "cannot load the runbook step: %s",
                 ak_strerror(r));
            goto record;
        }
        if (ak_streq(step->state, "done") || ak_streq(step->state, "skipped")) {
            /* done before its reminder went out: nothing to remind */
            a.outcome = SKIPPED;
            goto record;
        }
        sm = (struct ak_step_msg){.rb = &rb, .step = step, .tz = n->tz[idx], .now_ms = now};
        p.step = &sm;
    } else if (is_digest) {
        snprintf(date, sizeof(date), "%s", ak_startswith(o->key, "digest:") ? o->key + 7 : o->key);
        if (build_report(n, idx, now, &md, &html, &report)) {
            rep = (struct ak_report_msg){.date = date, .md = md.buf, .html = html.buf,
                                         .report = report, .now_ms = now};
            p.rep = &rep;
        } else if (load_digest(st, now - 86400000LL, &dd) < 0) {
            fail(&a, RETRY, "%s", "cannot read the store for the digest");
            goto record;
        } else {
            dg = (struct ak_digest){.recs = dd.recs, .n_recs = dd.n_recs, .changes = dd.changes,
                                    .n_changes = dd.n_changes, .since_ms = now - 86400000LL,
                                    .date_label = date, .tz = n->tz[idx], .now_ms = now};
            p.dg = &dg;
        }
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
    case AK_RECV_EMAIL: send_email(n, rc, o, &p, &a); break;
    case AK_RECV_SLACK: send_slack(n, st, rc, o, &p, &a); break;
    case AK_RECV_WEBHOOK: send_webhook(n, rc, &p, &a, now); break;
    }
record:
    o->attempts++;
    free(o->last_error);
    o->last_error = a.outcome == SENT || a.outcome == SKIPPED ? NULL : ak_xstrdup(a.error);
    if (a.outcome == SENT) {
        free(o->state);
        o->state = ak_xstrdup("sent");
        o->sent_at = ak_now_wall_ms();
    } else if (a.outcome == SKIPPED) {
        free(o->state);
        o->state = ak_xstrdup("silenced");
        free(o->note);
        o->note = ak_xstrdup("the step was done before its reminder went out");
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
             a.outcome == SENT      ? "sent"
             : a.outcome == SKIPPED ? "skipped"
             : ak_streq(o->state, "dead") ? "dead" : "retry");
    ak_metrics_inc("asakai_notify_sent_total", labels);
    if (a.outcome != SENT && a.outcome != SKIPPED) {
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
    ak_buf_release(&md);
    ak_buf_release(&html);
    ak_json_free(report);
    ak_rb_instance_release(&rb);
    for (size_t i = 0; i < nsteps; i++)
        ak_rb_step_row_release(&steps[i]);
    free(steps);
}
