/* notify.c — the notification worker: changes -> outbox rows (routing, silences), reminders,
 * digests, and the delivery loop (deliver.c sends).
 *
 * Why an outbox in the store: a change is turned into one row per receiver in the same
 * transaction that advances the change cursor, so a crash never loses or doubles the routing;
 * the row then lives until it is sent or declared dead, across restarts. The unique key
 * (record, receiver, change key) is what makes "never two messages for the same change" hold
 * even when a change is seen twice. */
#include "asakai/ak_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_log.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "notify_int.h"
#include "../core/ak_banned.h"

#define CURSOR_KEY "notify.change_cursor"

const struct ak_cfg_receiver *ak__notify_receiver(const struct ak_notify *n, const char *name,
                                                  size_t *ret_index)
{
    for (size_t i = 0; i < n->cfg->n_receivers; i++)
        if (ak_streq(n->cfg->receivers[i].name, name)) {
            if (ret_index)
                *ret_index = i;
            return &n->cfg->receivers[i];
        }
    return NULL;
}

/* The first active silence matching the record, or NULL (caller releases *ret_s). */
static bool silenced_by(struct ak_silence *sil, size_t n_sil, const struct ak_route_input *in,
                        size_t *ret_i)
{
    for (size_t i = 0; i < n_sil; i++) {
        struct ak_matchers m = {0};
        if (ak_matchers_parse(sil[i].matchers, &m, NULL) < 0)
            continue;
        bool hit = m.n > 0 && ak_route_matchers_match(&m, in);
        ak_matchers_release(&m);
        if (hit) {
            *ret_i = i;
            return true;
        }
    }
    return false;
}

/* Routes one change into outbox rows (inside the caller's transaction). */
static int route_change(struct ak_notify *n, const struct ak_change *c, struct ak_silence *sil,
                        size_t n_sil, int64_t now)
{
    struct ak_maint_rec rec = {0};
    const char **recv = NULL;
    size_t n_recv = 0, si = 0;
    struct ak_route_input in;
    int r = ak_store_rec_get(n->st, c->rec_id, &rec);

    if (r == AK_ENOTFOUND)
        return AK_OK; /* nothing to announce */
    if (r < 0)
        return r;
    bool important = ak_maint_is_important(&n->mcfg, &rec, now, NULL);
    ak_maint_route_input(&rec, important, &in);
    r = ak_route_match(n->routes, &in, &recv, &n_recv, NULL);
    if (r < 0)
        goto out;
    bool silenced = silenced_by(sil, n_sil, &in, &si);
    for (size_t i = 0; i < n_recv; i++) {
        struct ak_outbox o = {0};
        char note[256] = "";
        bool dup = false;
        int64_t id;
        o.rec_id = c->rec_id;
        o.change_id = c->id;
        o.receiver = (char *)recv[i];
        o.key = c->key;
        o.state = (char *)(silenced ? "silenced" : "pending");
        o.created_at = now;
        o.next_at = now;
        if (silenced) {
            snprintf(note, sizeof(note), "silenced by #%lld (%s)", (long long)sil[si].id,
                     sil[si].reason ? sil[si].reason : "");
            o.note = note;
        }
        r = ak_store_outbox_add(n->st, &o, &id, &dup);
        if (r < 0)
            goto out;
    }
out:
    free(recv);
    ak_maint_rec_release(&rec);
    return r;
}

/* Turns every change after the cursor into outbox rows; returns how many changes it routed. */
static size_t route_changes(struct ak_notify *n, int64_t now)
{
    struct ak_change *cs = NULL;
    struct ak_silence *sil = NULL;
    size_t nc = 0, ns = 0, done = 0;
    char *cur = NULL;
    uint64_t cursor = 0;

    if (ak_store_kv_get(n->st, CURSOR_KEY, &cur) == AK_OK && cur)
        (void)ak_parse_u64(cur, 0, INT64_MAX, &cursor);
    free(cur);
    if (ak_store_change_list_after(n->st, (int64_t)cursor, NOTIFY_ROUTE_BATCH, &cs, &nc) < 0 ||
        !nc)
        goto out;
    ak_store_silence_list(n->st, now, &sil, &ns);
    if (ak_store_begin(n->st) < 0)
        goto out;
    int r = AK_OK;
    for (size_t i = 0; i < nc && r == AK_OK; i++) {
        r = route_change(n, &cs[i], sil, ns, now);
        if (r == AK_OK) {
            cursor = (uint64_t)cs[i].id;
            done++;
        } else {
            char id[24];
            snprintf(id, sizeof(id), "%lld", (long long)cs[i].id);
            ak_log(AK_LOG_ERR, "notify", "cannot route a change; will retry", "change", id,
                   "error", ak_strerror(r), NULL);
        }
    }
    char buf[24];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cursor);
    if (ak_store_kv_set(n->st, CURSOR_KEY, buf) < 0 || ak_store_commit(n->st) < 0) {
        ak_store_rollback(n->st);
        done = 0;
        ak_log(AK_LOG_ERR, "notify", "routing changes failed; will retry", NULL);
    }
out:
    for (size_t i = 0; i < nc; i++)
        ak_change_release(&cs[i]);
    free(cs);
    for (size_t i = 0; i < ns; i++)
        ak_silence_release(&sil[i]);
    free(sil);
    return done;
}

/* The reminder label of an offset: "14d", "2h", "30m". */
static void offset_label(int64_t ms, char *buf, size_t n)
{
    if (ms % 86400000 == 0)
        snprintf(buf, n, "%lldd", (long long)(ms / 86400000));
    else if (ms % 3600000 == 0)
        snprintf(buf, n, "%lldh", (long long)(ms / 3600000));
    else
        snprintf(buf, n, "%lldm", (long long)(ms / 60000));
}

/* Adds the due reminder of one open record: only the smallest offset already reached (a
 * daemon that was down does not send a burst of stale reminders), and only offsets reached
 * after the record was first seen (a record announced 3 days before its deadline gets no
 * "14 days left" reminder). The change key makes each reminder happen once per deadline. */
static void remind(struct ak_notify *n, const struct ak_maint_rec *r, int64_t now)
{
    const int64_t *off = n->cfg->reminders_ms;
    int64_t pick = -1;

    if (!r->deadline || r->acked_by || r->closed_at || now >= r->deadline)
        return;
    for (size_t i = 0; i < n->cfg->n_reminders; i++) {
        int64_t due = r->deadline - off[i];
        if (now >= due && due > r->first_seen)
            pick = off[i]; /* descending order: the last one reached is the smallest */
    }
    if (pick < 0)
        return;
    char label[32], key[96], left[32], when[AK_TIME_RFC3339_LEN];
    offset_label(pick, label, sizeof(label));
    snprintf(key, sizeof(key), "reminder:%s:%lld", label, (long long)r->deadline);
    ak_fmt_duration(r->deadline - now, left, sizeof(left));
    ak_time_fmt_rfc3339(r->deadline, when, sizeof(when));
    char summary[200];
    snprintf(summary, sizeof(summary), "deadline in %s (%s)", left, when);
    struct ak_change c = {.rec_id = r->id, .kind = (char *)"reminder", .key = key,
                          .summary = summary, .at = now};
    bool dup;
    int64_t id;
    ak_store_change_add(n->st, &c, &id, &dup);
}

static void scan_reminders(struct ak_notify *n, int64_t now)
{
    struct ak_maint_rec *recs = NULL;
    size_t nr = 0;
    struct ak_rec_filter f = {.all = false, .now_ms = now, .limit = 5000};

    if (!n->cfg->n_reminders || ak_store_rec_list(n->st, &f, &recs, &nr) < 0)
        return;
    if (ak_store_begin(n->st) == AK_OK) {
        for (size_t i = 0; i < nr; i++)
            remind(n, &recs[i], now);
        if (ak_store_commit(n->st) < 0)
            ak_store_rollback(n->st);
    }
    for (size_t i = 0; i < nr; i++)
        ak_maint_rec_release(&recs[i]);
    free(recs);
}

/* Who gets the reminders of a step owned by team: the team's receivers (teams[]), else the
 * root route's receivers (with no route configured, every receiver: the default tree sends an
 * important record to all of them). */
static const struct ak_cfg_strlist *step_receivers(const struct ak_notify *n, const char *team,
                                                   struct ak_cfg_strlist *all)
{
    for (size_t i = 0; team && i < n->cfg->n_teams; i++)
        if (ak_streq(n->cfg->teams[i].name, team) && n->cfg->teams[i].receivers.n)
            return &n->cfg->teams[i].receivers;
    if (n->cfg->route)
        return &n->cfg->route->receivers;
    return all;
}

/* One outbox row per (step, receiver) for every step not done whose deadline is within
 * runbooks.remind_within (overdue ones included: they are still not done). The key holds the
 * deadline, so each step is reminded once per deadline. */
static void scan_rb_steps(struct ak_notify *n, int64_t now)
{
    struct ak_rb_step_row *steps = NULL;
    size_t ns = 0;
    int64_t within = n->cfg->runbook_remind_within_ms > 0 ? n->cfg->runbook_remind_within_ms
                                                           : 86400000LL;
    struct ak_cfg_strlist all = {0};

    if (!n->cfg->n_receivers || ak_store_rb_steps_due(n->st, now + within, 1000, &steps, &ns) < 0
        || !ns)
        goto out;
    all.v = ak_xcalloc(n->cfg->n_receivers, sizeof(char *));
    for (size_t i = 0; i < n->cfg->n_receivers; i++)
        all.v[all.n++] = n->cfg->receivers[i].name;
    if (ak_store_begin(n->st) < 0)
        goto out;
    int r = AK_OK;
    for (size_t i = 0; i < ns && r == AK_OK; i++) {
        const struct ak_cfg_strlist *to = step_receivers(n, steps[i].owner, &all);
        char key[200];
        snprintf(key, sizeof(key), "rbstep:%lld:%.80s:%lld", (long long)steps[i].runbook_id,
                 steps[i].step_id ? steps[i].step_id : "", (long long)steps[i].due_at);
        for (size_t k = 0; k < to->n && r == AK_OK; k++) {
            struct ak_outbox o = {.receiver = to->v[k], .key = key, .state = (char *)"pending",
                                  .created_at = now, .next_at = now};
            int64_t id;
            bool dup;
            r = ak_store_outbox_add(n->st, &o, &id, &dup);
        }
    }
    if (r < 0 || ak_store_commit(n->st) < 0) {
        ak_store_rollback(n->st);
        ak_log(AK_LOG_ERR, "notify", "cannot queue runbook step reminders; will retry", NULL);
    }
out:
    free(all.v);
    for (size_t i = 0; i < ns; i++)
        ak_rb_step_row_release(&steps[i]);
    free(steps);
}

/* Queues the daily digest of each receiver that wants one, once per local date. */
static void schedule_digests(struct ak_notify *n, int64_t now)
{
    for (size_t i = 0; i < n->cfg->n_receivers; i++) {
        const struct ak_cfg_receiver *rc = &n->cfg->receivers[i];
        int hh = 9, mm = 0;
        if (!rc->digest || !n->tz[i])
            continue;
        if (rc->digest_time && sscanf(rc->digest_time, "%d:%d", &hh, &mm) != 2)
            continue;
        int64_t at = ak_tz_next_local(n->tz[i], now - 86400000LL, hh, mm);
        /* a digest missed while the daemon was down is sent late (up to 6 h), but a new
         * installation does not start with one for a time before it existed */
        if (at > now || now - at > NOTIFY_DIGEST_CATCHUP_MS || at < n->first_started_ms)
            continue;
        int64_t local = at + (int64_t)ak_tz_offset(n->tz[i], at, NULL) * 1000;
        char key[48], date[AK_TIME_RFC3339_LEN];
        ak_time_fmt_rfc3339(local, date, sizeof(date));
        date[10] = 0;
        snprintf(key, sizeof(key), "digest:%s", date);
        struct ak_outbox o = {.receiver = rc->name, .key = key, .state = (char *)"pending",
                              .created_at = now, .next_at = now};
        int64_t id;
        bool dup;
        ak_store_outbox_add(n->st, &o, &id, &dup);
    }
}

static void publish_counts(struct ak_notify *n);

struct sender {
    struct ak_notify *n;
    struct ak_store *st;
    struct ak_outbox *rows;
    const size_t *shard; /* the sender each row belongs to */
    bool *handled;
    size_t me, nr;
    int64_t now;
};

static bool is_stopping(struct ak_notify *n)
{
    pthread_mutex_lock(&n->mu);
    bool stop = n->stopping;
    pthread_mutex_unlock(&n->mu);
    return stop;
}

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    bool first = true;
    for (size_t i = 0; i < s->nr; i++) {
        if (s->shard[i] != s->me)
            continue;
        if (!first && is_stopping(s->n)) /* stop promptly when asked */
            break;
        first = false;
        ak__notify_deliver(s->n, s->st, &s->rows[i], s->now);
        s->handled[i] = true;
    }
    return NULL;
}

/* Sends what is due; returns how many rows it looked at. Receivers are served concurrently,
 * each receiver's rows by one sender in order: a slow or rate-limited receiver (a 429 pauses
 * it) does not hold up the others, and a receiver never sees two of our requests at once. Each
 * sender has its own store connection. */
static size_t deliver_due(struct ak_notify *n, int64_t now)
{
    struct ak_outbox *rows = NULL;
    size_t nr = 0, done = 0;
    if (ak_store_outbox_due(n->st, now, NOTIFY_SEND_BATCH, &rows, &nr) < 0)
        return 0;
    bool *handled = ak_xcalloc(nr ? nr : 1, sizeof(bool));
    size_t *shard = ak_xcalloc(nr ? nr : 1, sizeof(size_t));
    size_t nrecv = n->cfg->n_receivers ? n->cfg->n_receivers : 1;
    size_t nt = nrecv < NOTIFY_SENDERS ? nrecv : NOTIFY_SENDERS;
    if (nr < nt)
        nt = nr;
    for (size_t i = 0; i < nr && nt; i++) {
        size_t idx = 0;
        ak__notify_receiver(n, rows[i].receiver, &idx);
        shard[i] = idx % nt;
    }
    struct sender s[NOTIFY_SENDERS];
    pthread_t th[NOTIFY_SENDERS];
    bool started[NOTIFY_SENDERS] = {false};
    for (size_t t = 0; t < nt; t++) {
        s[t] = (struct sender){n, n->send_st[t], rows, shard, handled, t, nr, now};
        if (t > 0)
            started[t] = pthread_create(&th[t], NULL, sender_main, &s[t]) == 0;
    }
    if (nt)
        sender_main(&s[0]);
    for (size_t t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            sender_main(&s[t]); /* could not start a thread: do its share here */
    }
    /* keep the handled rows first so that one loop writes them */
    for (size_t i = 0; i < nr; i++)
        if (handled[i]) {
            if (i != done) {
                struct ak_outbox tmp = rows[done];
                rows[done] = rows[i];
                rows[i] = tmp;
            }
            done++;
        }
    free(handled);
    free(shard);
    /* one transaction for the round's outcomes: the intake writer shares the database, and one
     * lock instead of one per row keeps both moving (a crash before this commit only repeats
     * these sends: at-least-once) */
    int r = done ? ak_store_begin(n->st) : AK_OK;
    for (size_t i = 0; r == AK_OK && i < done; i++)
        r = ak_store_outbox_update(n->st, &rows[i]);
    if (done && (r < 0 || ak_store_commit(n->st) < 0)) {
        ak_store_rollback(n->st);
        ak_log(AK_LOG_ERR, "notify", "cannot record delivery outcomes; they will be sent again",
               NULL);
        /* the rows are still due: do not resend them in a tight loop while the store is stuck */
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < nr; i++)
        ak_outbox_release(&rows[i]);
    free(rows);
    return nr;
}

static void publish_counts(struct ak_notify *n)
{
    int64_t p = 0, s = 0, d = 0, q = 0;
    if (ak_store_outbox_counts(n->st, &p, &s, &d, &q) < 0)
        return;
    ak_metrics_set("asakai_outbox_messages", "state=\"pending\"", (double)p);
    ak_metrics_set("asakai_outbox_messages", "state=\"sent\"", (double)s);
    ak_metrics_set("asakai_outbox_messages", "state=\"dead\"", (double)d);
    ak_metrics_set("asakai_outbox_messages", "state=\"silenced\"", (double)q);
}

static void *worker_main(void *arg)
{
    struct ak_notify *n = arg;

    for (;;) {
        int64_t now = ak_now_wall_ms();
        size_t routed = route_changes(n, now);
        if (now - n->last_reminder_scan_ms >= NOTIFY_REMINDER_SCAN_MS) {
            n->last_reminder_scan_ms = now;
            scan_reminders(n, now);
            scan_rb_steps(n, now);
            schedule_digests(n, now);
            publish_counts(n);
        }
        if (deliver_due(n, ak_now_wall_ms()) || routed)
            publish_counts(n);

        int64_t next = 0, wait_ms = 1000;
        if (ak_store_outbox_next_due(n->st, &next) == AK_OK && next) {
            int64_t d = next - ak_now_wall_ms();
            wait_ms = d < 0 ? 0 : d < wait_ms ? d : wait_ms;
        }
        pthread_mutex_lock(&n->mu);
        if (n->stopping) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        if (!n->kicked && !routed && wait_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&n->cv, &n->mu, &ts);
        }
        n->kicked = false;
        bool stop = n->stopping;
        pthread_mutex_unlock(&n->mu);
        if (stop)
            break;
    }
    return NULL;
}

static void describe(void)
{
    ak_metrics_describe("asakai_outbox_messages", "gauge", "Outbox rows by state.");
    ak_metrics_describe("asakai_notify_sent_total", "counter",
                        "Notification send attempts by receiver and result.");
}

int ak_notify_start(const struct ak_cfg *cfg, struct ak_notify **ret, struct ak_buf *err)
{
    struct ak_notify *n = ak_xcalloc(1, sizeof(*n));
    char *id = NULL;
    int r;

    describe();
    n->cfg = cfg;
    ak_maint_cfg_init(&n->mcfg, cfg);
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    pthread_mutex_init(&n->pause_mu, NULL);
    r = ak_route_build(cfg, &n->routes, err);
    if (r < 0)
        goto fail;
    n->tz = ak_xcalloc(cfg->n_receivers ? cfg->n_receivers : 1, sizeof(*n->tz));
    n->paused_until = ak_xcalloc(cfg->n_receivers ? cfg->n_receivers : 1, sizeof(int64_t));
    for (size_t i = 0; i < cfg->n_receivers; i++) {
        const char *zone = cfg->receivers[i].digest_tz ? cfg->receivers[i].digest_tz
                                                       : cfg->digest_tz;
        r = ak_tz_load(zone ? zone : "UTC", NULL, &n->tz[i], err);
        if (r < 0)
            goto fail;
    }
    r = ak_store_open(cfg->data_dir, AK_STORE_WRITE, &n->st, err);
    if (r < 0)
        goto fail;
    /* Every write of this connection may be lost on power failure without losing a message:
     * routing re-runs from the cursor committed with it, and a lost "sent" mark only repeats a
     * send, which at-least-once delivery allows. So no fsync per row. */
    ak_store_set_durable(n->st, false);
    for (size_t i = 0; i < NOTIFY_SENDERS; i++) {
        r = ak_store_open(cfg->data_dir, AK_STORE_WRITE, &n->send_st[i], err);
        if (r < 0)
            goto fail;
        ak_store_set_durable(n->send_st[i], false);
    }
    if (ak_store_kv_get(n->st, "install_id", &id) == AK_OK && id)
        snprintf(n->install_id, sizeof(n->install_id), "%.32s", id);
    else
        snprintf(n->install_id, sizeof(n->install_id), "asakai");
    free(id);
    id = NULL;
    uint64_t first = 0;
    if (ak_store_kv_get(n->st, "notify.first_started", &id) == AK_OK && id)
        (void)ak_parse_u64(id, 0, INT64_MAX, &first);
    free(id);
    if (!first) {
        char buf[24];
        first = (uint64_t)ak_now_wall_ms();
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)first);
        ak_store_kv_set(n->st, "notify.first_started", buf);
    }
    n->first_started_ms = (int64_t)first;
    if (pthread_create(&n->thread, NULL, worker_main, n) != 0) {
        r = ak_err(err, AK_EINTERNAL, "cannot start the notification worker");
        goto fail;
    }
    n->thread_started = true;
    *ret = n;
    return AK_OK;
fail:
    ak_notify_stop(n);
    return r;
}

void ak_notify_set_report(struct ak_notify *n,
                          int (*build)(void *arg, int64_t at_ms, const char *tz,
                                       struct ak_buf *md, struct ak_buf *html,
                                       struct ak_buf *json),
                          void *arg)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->report_build = build;
    n->report_arg = arg;
    pthread_mutex_unlock(&n->mu);
}

void ak_notify_kick(struct ak_notify *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->kicked = true;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

void ak_notify_stop(struct ak_notify *n)
{
    if (!n)
        return;
    if (n->thread_started) {
        pthread_mutex_lock(&n->mu);
        n->stopping = true;
        pthread_cond_signal(&n->cv);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
    }
    ak_store_close(n->st);
    for (size_t i = 0; i < NOTIFY_SENDERS; i++)
        ak_store_close(n->send_st[i]);
    ak_route_free(n->routes);
    for (size_t i = 0; n->tz && i < n->cfg->n_receivers; i++)
        ak_tz_free(n->tz[i]);
    free(n->tz);
    free(n->paused_until);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->pause_mu);
    free(n);
}
