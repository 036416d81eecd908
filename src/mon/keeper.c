/* keeper.c — the keeper thread: reads the query-API sources incrementally, applies retention
 * every hour, and runs the daily review at review.time in review.tz. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_log.h"
#include "asakai/ak_scrape.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

/* A stale review is redone this long after start (tests and the demo wait for it). */
#define MON_STARTUP_REVIEW_MS (30 * 1000)

struct source_ctx {
    struct ak_mon *m;
    const char *name;
    struct mon_batch b;
};

/* Adds job and service = the source name to a source's sample that has neither. */
static int source_cb(void *arg, const struct ak_scrape_sample *s)
{
    struct source_ctx *c = arg;
    struct ak_expo_label l[AK_EXPO_MAX_LABELS + 2];
    bool has_job = false, has_svc = false;
    size_t n = 0;
    /* ak_scrape_query_range has no abort flag: a non-zero return ends the read (it may be
     * many windows of 30 s requests) so that ak_mon_stop does not wait for it */
    if (atomic_load(&c->m->stop))
        return AK_ETIMEDOUT;
    if (s->nlabels > AK_EXPO_MAX_LABELS)
        return 0;
    for (size_t i = 0; i < s->nlabels; i++) {
        has_job |= ak_streq(s->labels[i].name, "job");
        has_svc |= ak_streq(s->labels[i].name, "service");
    }
    struct ak_expo_label add[2];
    size_t na = 0;
    size_t len = strlen(c->name);
    /* a series belongs to its service label, else its job label (ak_cfg.h): only a series
     * with neither is the source's own */
    if (!has_job && !has_svc) {
        add[na++] = (struct ak_expo_label){"job", c->name, len};
        add[na++] = (struct ak_expo_label){"service", c->name, len};
    }
    /* merge two sorted lists */
    size_t i = 0, k = 0;
    while (i < s->nlabels || k < na) {
        if (k >= na || (i < s->nlabels && strcmp(s->labels[i].name, add[k].name) < 0))
            l[n++] = s->labels[i++];
        else
            l[n++] = add[k++];
    }
    pthread_mutex_lock(&c->m->mu);
    int r = mon_ingest(c->m, s->name, l, n, mon_mtype(s->type, s->name), s->t_ms, s->value,
                       &c->b);
    pthread_mutex_unlock(&c->m->mu);
    return r;
}

/* The newest sample already stored from source name (restarts do not re-read the lookback). */
static int64_t source_last(struct ak_mon *m, const char *name)
{
    char pat[300];
    int64_t last = 0;
    snprintf(pat, sizeof(pat), "source=\"%s\"", name);
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->tab_cap; i++) {
        const struct mon_series *s = m->tab[i];
        const char *p = s ? strstr(s->key, pat) : NULL;
        if (p && (p[-1] == '{' || p[-1] == ',') && s->last_t > last)
            last = s->last_t;
    }
    pthread_mutex_unlock(&m->mu);
    return last;
}

static void read_source(struct ak_mon *m, size_t idx, int64_t now)
{
    const struct ak_cfg_mon_source *src = &m->cfg->mon_sources[idx];
    struct mon_sstatus *st = &m->sources[idx];
    struct ak_buf err = AK_BUF_INIT(1024);
    struct source_ctx c = {.m = m, .name = src->name};
    size_t requests = 0, total_req = 0;
    int r = AK_OK;

    int64_t start = st->last_read > now - src->lookback_ms ? st->last_read : now - src->lookback_ms;
    pthread_mutex_lock(&m->mu);
    mon_batch_init(m, &c.b);
    pthread_mutex_unlock(&m->mu);
    for (size_t q = 0; q < src->queries.n && r == AK_OK && !atomic_load(&m->stop); q++) {
        struct ak_promapi_req req = {.base_url = src->url, .query = src->queries.v[q],
                                     .start_ms = start, .end_ms = now, .step_ms = src->step_ms,
                                     .bearer_token = src->bearer_token, .ca_file = src->ca_file,
                                     .source = src->name};
        r = ak_scrape_query_range(&req, source_cb, &c, &requests, &err);
        total_req += requests;
    }
    pthread_mutex_lock(&m->mu);
    int f = mon_flush(m, &err);
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_lock(&m->smu);
    st->requests += total_req;
    st->samples += c.b.st.samples;
    if (r == AK_OK && f == AK_OK) {
        st->last_read = now;
        st->last_ok = now;
        st->error[0] = 0;
    } else {
        snprintf(st->error, sizeof(st->error), "%s", err.len ? err.buf : ak_strerror(r));
    }
    pthread_mutex_unlock(&m->smu);
    if ((r != AK_OK || f != AK_OK) && !atomic_load(&m->stop))
        ak_log(AK_LOG_WARN, "mon", "cannot read a metrics source", "source", src->name, "error",
               err.buf, NULL);
    ak_buf_release(&err);
}

static void retain(struct ak_mon *m, int64_t now)
{
    const struct ak_cfg *cfg = m->cfg;
    int64_t deleted = 0;
    pthread_mutex_lock(&m->mu);
    int r = ak_store_begin(m->wst);
    if (r == AK_OK)
        r = ak_store_mretain(m->wst, now - cfg->mon_raw_retention_ms,
                             now - cfg->mon_minute_retention_ms, now - cfg->mon_hour_retention_ms,
                             &deleted);
    if (r == AK_OK)
        r = ak_store_commit(m->wst);
    else
        ak_store_rollback(m->wst);
    pthread_mutex_unlock(&m->mu);
    if (r < 0)
        ak_log(AK_LOG_WARN, "mon", "metrics retention failed", "error", ak_strerror(r), NULL);
}

/* True when no review is stored or the newest is more than a day old. */
static bool review_is_stale(struct ak_mon *m, int64_t now)
{
    struct ak_store *st = NULL;
    struct ak_buf err = AK_BUF_INIT(256);
    int64_t at = 0;
    char *json = NULL;
    bool stale = true;

    if (mon_open_read(m, &st, &err) == AK_OK && ak_store_review_latest(st, &at, &json) == AK_OK)
        stale = at < now - 24 * MON_HOUR_MS;
    free(json);
    ak_store_close(st);
    ak_buf_release(&err);
    return stale;
}

void *mon_keeper_main(void *arg)
{
    struct ak_mon *m = arg;
    const struct ak_cfg *cfg = m->cfg;
    struct ak_tz *tz = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    int hh = 6, mm = 0;
    int64_t now = ak_now_wall_ms();
    int64_t *due = ak_xcalloc(cfg->n_mon_sources + 1, sizeof(*due));

    if (ak_tz_load(cfg->review_tz ? cfg->review_tz : "UTC", NULL, &tz, &err) < 0) {
        ak_log(AK_LOG_WARN, "mon", "review time zone not loaded; using UTC", "error", err.buf,
               NULL);
        if (ak_tz_load("UTC", NULL, &tz, NULL) < 0)
            tz = NULL; /* no zone data at all: the review still runs on demand */
    }
    if (cfg->review_time && sscanf(cfg->review_time, "%d:%d", &hh, &mm) != 2)
        hh = 6, mm = 0;
    for (size_t i = 0; i < cfg->n_mon_sources; i++) {
        int64_t last = source_last(m, cfg->mon_sources[i].name);
        pthread_mutex_lock(&m->smu);
        m->sources[i].last_read = last;
        pthread_mutex_unlock(&m->smu);
    }
    int64_t next_retain = now + 60000; /* not at start: let the first rounds land first */
    int64_t next_review = tz ? ak_tz_next_local(tz, now, hh, mm) : 0;
    /* A daemon started after review.time (or new, or down for a day) would leave the dashboard
     * and the morning report without a review until tomorrow: run one soon after the first
     * collection rounds, imports and source reads have landed. */
    if (next_review && review_is_stale(m, now))
        next_review = now + MON_STARTUP_REVIEW_MS;
    while (!atomic_load(&m->stop)) {
        now = ak_now_wall_ms();
        for (size_t i = 0; i < cfg->n_mon_sources && !atomic_load(&m->stop); i++)
            if (due[i] <= now) {
                read_source(m, i, now);
                due[i] = now + cfg->mon_sources[i].interval_ms;
            }
        if (now >= next_retain) {
            retain(m, now);
            next_retain = now + MON_HOUR_MS;
        }
        if (next_review && now >= next_review) {
            ak_buf_reset(&err);
            if (mon_daily_review(m, now, &err) < 0)
                ak_log(AK_LOG_WARN, "mon", "daily review failed", "error", err.buf, NULL);
            next_review = ak_tz_next_local(tz, now + 1000, hh, mm);
        }
        int64_t next = next_retain;
        if (next_review && next_review < next)
            next = next_review;
        for (size_t i = 0; i < cfg->n_mon_sources; i++)
            if (due[i] < next)
                next = due[i];
        if (mon_sleep_until(m, next))
            break;
    }
    ak_tz_free(tz);
    free(due);
    ak_buf_release(&err);
    return NULL;
}
