/* poll.c — the poller service: a scheduler thread, on-demand passes, the report.
 *
 * Passes never overlap (pass_mu): the scheduler and `asakai poll` share one store connection
 * and the accounts' cached credentials.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_log.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_poll.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "poll_int.h"
#include "../core/ak_banned.h"

#define FIRST_PASS_DELAY_MS 3000

static unsigned enabled_mask(const struct ak_cfg *cfg)
{
    unsigned m = 0;

    for (int i = 0; i < AK_POLLER_N; i++)
        if (cfg->pollers[i].enabled)
            m |= 1u << i;
    return m;
}

static void record_metrics(const struct pl_pass *pass)
{
    char labels[160];

    for (size_t i = 0; i < pass->n_scopes; i++) {
        const struct pl_scope *s = &pass->scopes[i];
        snprintf(labels, sizeof(labels), "poller=\"%s\",result=\"%s\"",
                 ak_cfg_poller_name(s->poller), s->ok ? "ok" : "error");
        ak_metrics_inc("asakai_poll_scopes_total", labels);
    }
    ak_metrics_add("asakai_poll_requests_total", NULL, (double)pass->requests);
    ak_metrics_add("asakai_poll_retries_total", NULL, (double)pass->retries);
    ak_metrics_observe("asakai_poll_pass_seconds", NULL,
                       (double)(ak_now_wall_ms() - pass->started_ms) / 1000.0);
}

/* One pass of the pollers in mask; the caller holds pass_mu. */
static int run_pass(struct ak_poll *p, unsigned mask, bool dry_run, struct ak_json **ret_report,
                    struct ak_buf *err)
{
    struct pl_pass pass;
    struct ak_json *rep = ak_json_new_obj();
    bool changed = false;
    int r;

    r = ak__poll_pass_run(p, mask, &pass, err);
    if (r < 0)
        goto out;
    if (atomic_load(&p->abort)) {
        /* cut short: what did not run is not a failure of the scope */
        r = ak_err(err, AK_EBUSY, "asakai is stopping: the poll pass was abandoned");
        goto out;
    }
    ak_json_set_bool(rep, "dry_run", dry_run);
    ak_json_set_time(rep, "started_at", pass.started_ms);
    ak_json_set_int(rep, "requests", (int64_t)pass.requests);
    ak_json_set_int(rep, "retries", (int64_t)pass.retries);
    ak_json_set_int(rep, "peak_in_flight", pass.peak);
    ak_json_set_int(rep, "fetch_ms", ak_now_wall_ms() - pass.started_ms);
    r = ak__poll_apply(p, &pass, dry_run, rep, &changed, err);
    ak_json_set_int(rep, "duration_ms", ak_now_wall_ms() - pass.started_ms);
    if (!dry_run)
        record_metrics(&pass);
    if (changed && p->listener)
        p->listener(p->listener_arg);
out:
    ak__poll_pass_release(&pass);
    if (r == AK_OK && ret_report)
        *ret_report = rep;
    else
        ak_json_free(rep);
    return r;
}

/* The mask of the pollers o asks for; AK_EINVAL / AK_ECONFIG with the reason. */
static int opts_mask(const struct ak_poll *p, const struct ak_poll_opts *o, unsigned *ret,
                     struct ak_buf *err)
{
    if (p->cfg->n_aws_accounts == 0)
        return ak_err(err, AK_ECONFIG,
                      "no AWS account is configured (aws.accounts): there is nothing to poll");
    if (o && o->poller) {
        int id = ak_cfg_poller_id(o->poller);
        if (id < 0)
            return ak_err(err, AK_EINVAL,
                          "unknown poller \"%s\" (ec2_scheduled_events, rds_pending_maintenance, "
                          "elasticache_update_actions, elasticache_events, health)",
                          o->poller);
        *ret = 1u << id;
        return AK_OK;
    }
    *ret = enabled_mask(p->cfg);
    if (!*ret)
        return ak_err(err, AK_ECONFIG,
                      "every poller is disabled (pollers.*.enabled): name one with --source");
    return AK_OK;
}

int ak_poll_run_async(struct ak_poll *p, const struct ak_poll_opts *o, ak_poll_done_fn done,
                      void *arg, struct ak_buf *err)
{
    struct pl_request *q;
    unsigned mask = 0;
    int r = opts_mask(p, o, &mask, err);

    if (r < 0)
        return r;
    q = ak_xcalloc(1, sizeof(*q));
    q->mask = mask;
    q->dry_run = o && o->dry_run;
    q->done = done;
    q->arg = arg;
    pthread_mutex_lock(&p->mu);
    if (p->stopping || !p->thread_started) {
        pthread_mutex_unlock(&p->mu);
        free(q);
        return ak_err(err, AK_EBUSY, "the pollers are stopping");
    }
    if (p->queue_tail)
        p->queue_tail->next = q;
    else
        p->queue = q;
    p->queue_tail = q;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return AK_OK;
}

/* Runs one queued request (the caller does not hold mu). */
static void run_request(struct ak_poll *p, struct pl_request *q)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *rep = NULL;
    int r;

    pthread_mutex_lock(&p->pass_mu);
    r = run_pass(p, q->mask, q->dry_run, &rep, &err);
    pthread_mutex_unlock(&p->pass_mu);
    q->done(q->arg, r, r == AK_OK ? rep : NULL, err.buf);
    if (r < 0)
        ak_json_free(rep);
    ak_buf_release(&err);
    free(q);
}

/* The pollers due at now; moves their next time. */
static unsigned due_mask(struct ak_poll *p, int64_t now)
{
    unsigned m = 0;

    for (int i = 0; i < AK_POLLER_N; i++) {
        if (!p->cfg->pollers[i].enabled || p->next_due[i] > now)
            continue;
        m |= 1u << i;
        p->next_due[i] = now + p->cfg->pollers[i].interval_ms;
    }
    return m;
}

static int64_t next_wake(const struct ak_poll *p)
{
    int64_t t = INT64_MAX;

    for (int i = 0; i < AK_POLLER_N; i++)
        if (p->cfg->pollers[i].enabled && p->next_due[i] < t)
            t = p->next_due[i];
    return t;
}

static void *scheduler_main(void *arg)
{
    struct ak_poll *p = arg;

    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        if (p->queue) {
            struct pl_request *q = p->queue;
            p->queue = q->next;
            if (!p->queue)
                p->queue_tail = NULL;
            pthread_mutex_unlock(&p->mu);
            run_request(p, q);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        int64_t now = ak_now_wall_ms(), wake = next_wake(p);
        if (wake > now) {
            struct timespec ts;
            int64_t at = wake == INT64_MAX ? now + 3600 * 1000 : wake;
            clock_gettime(CLOCK_REALTIME, &ts);
            at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (at - now);
            ts.tv_sec = at / 1000;
            ts.tv_nsec = (at % 1000) * 1000000;
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
            continue;
        }
        unsigned mask = due_mask(p, now);
        pthread_mutex_unlock(&p->mu);
        struct ak_buf err = AK_BUF_INIT(1024);
        pthread_mutex_lock(&p->pass_mu);
        if (run_pass(p, mask, false, NULL, &err) < 0 && !atomic_load(&p->abort))
            ak_log(AK_LOG_ERR, "poll", "pass failed", "error", err.buf, NULL);
        pthread_mutex_unlock(&p->pass_mu);
        ak_buf_release(&err);
        pthread_mutex_lock(&p->mu);
    }
    /* what was asked for and will not run now */
    while (p->queue) {
        struct pl_request *q = p->queue;
        p->queue = q->next;
        q->done(q->arg, AK_EBUSY, NULL, "the pollers are stopping");
        free(q);
    }
    p->queue_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* A restart must not poll AWS again at once: each poller is next due one interval after the
 * oldest last run of its scopes (a few seconds after start when a scope never ran). */
static void schedule_from_store(struct ak_poll *p, int64_t now)
{
    struct ak_poll_scope *rows = NULL;
    size_t n = 0;
    int64_t oldest[AK_POLLER_N] = {0};

    if (ak_store_poll_scope_list(p->st, &rows, &n) < 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        int id = ak_cfg_poller_id(rows[i].poller);
        if (id >= 0 && (!oldest[id] || rows[i].last_run_at < oldest[id]))
            oldest[id] = rows[i].last_run_at;
    }
    for (int i = 0; i < AK_POLLER_N; i++) {
        int64_t due = oldest[i] ? oldest[i] + p->cfg->pollers[i].interval_ms : 0;
        p->next_due[i] = due > now + FIRST_PASS_DELAY_MS ? due : now + FIRST_PASS_DELAY_MS;
    }
    for (size_t i = 0; i < n; i++)
        ak_poll_scope_release(&rows[i]);
    free(rows);
}

static void describe(void)
{
    ak_metrics_describe("asakai_poll_scopes_total", "counter",
                        "Poll scopes (poller x account x region) run, by result.");
    ak_metrics_describe("asakai_poll_requests_total", "counter", "AWS API requests by pollers.");
    ak_metrics_describe("asakai_poll_retries_total", "counter",
                        "Poller request retries (throttling, 5xx, expired credentials).");
    ak_metrics_describe("asakai_poll_pass_seconds", "summary", "Wall time of a poll pass.");
}

int ak_poll_start(const struct ak_cfg *cfg, struct ak_poll **ret, struct ak_buf *err)
{
    struct ak_poll *p = ak_xcalloc(1, sizeof(*p));
    int64_t now = ak_now_wall_ms();
    int r;

    describe();
    p->cfg = cfg;
    ak_maint_cfg_init(&p->mcfg, cfg);
    pthread_mutex_init(&p->pass_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->accts = ak_xcalloc(cfg->n_aws_accounts ? cfg->n_aws_accounts : 1, sizeof(*p->accts));
    for (size_t i = 0; i < cfg->n_aws_accounts; i++)
        p->accts[i].cfg = &cfg->aws_accounts[i];
    r = ak_store_open(cfg->data_dir, AK_STORE_WRITE, &p->st, err);
    if (r < 0)
        goto fail;
    schedule_from_store(p, now);
    if (cfg->n_aws_accounts) {
        if (pthread_create(&p->thread, NULL, scheduler_main, p) != 0) {
            r = ak_err(err, AK_EINTERNAL, "cannot start the poller thread");
            goto fail;
        }
        p->thread_started = true;
    }
    *ret = p;
    return AK_OK;
fail:
    ak_poll_stop(p);
    return r;
}

void ak_poll_set_listener(struct ak_poll *p, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&p->pass_mu);
    p->listener = fn;
    p->listener_arg = arg;
    pthread_mutex_unlock(&p->pass_mu);
}

void ak_poll_abort(struct ak_poll *p)
{
    if (p)
        atomic_store(&p->abort, true);
}

void ak_poll_stop(struct ak_poll *p)
{
    if (!p)
        return;
    atomic_store(&p->abort, true);
    if (p->thread_started) {
        pthread_mutex_lock(&p->mu);
        p->stopping = true;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    for (size_t i = 0; i < p->cfg->n_aws_accounts; i++)
        ak__poll_account_reset(&p->accts[i]);
    free(p->accts);
    ak_store_close(p->st);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->pass_mu);
    free(p);
}
