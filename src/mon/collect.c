/* collect.c — the collector thread: the built-in host collector every scrape interval and each
 * service's targets on that service's own interval; the last result of each target is kept for
 * ak_mon_targets. Samples of a round are flushed in one transaction at its end. */
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_collect.h"
#include "asakai/ak_err.h"
#include "asakai/ak_log.h"
#include "asakai/ak_scrape.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

#define MAX_LABELS (AK_EXPO_MAX_LABELS + 4)

void mon_status_init(struct ak_mon *m)
{
    const struct ak_cfg *cfg = m->cfg;
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_services; i++)
        n += cfg->services[i].targets.n;
    m->targets = ak_xcalloc(n ? n : 1, sizeof(*m->targets));
    for (size_t i = 0; i < cfg->n_services; i++)
        for (size_t k = 0; k < cfg->services[i].targets.n; k++) {
            m->targets[m->n_targets].service = cfg->services[i].name;
            m->targets[m->n_targets++].url = cfg->services[i].targets.v[k];
        }
    m->sources = ak_xcalloc(cfg->n_mon_sources ? cfg->n_mon_sources : 1, sizeof(*m->sources));
    for (size_t i = 0; i < cfg->n_mon_sources; i++) {
        m->sources[i].name = cfg->mon_sources[i].name;
        m->sources[i].url = cfg->mon_sources[i].url;
    }
    m->n_sources = cfg->n_mon_sources;
}

void mon_status_free(struct ak_mon *m)
{
    free(m->targets);
    free(m->sources);
    m->targets = NULL;
    m->sources = NULL;
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const struct ak_expo_label *)a)->name, ((const struct ak_expo_label *)b)->name);
}

/* ---- host collector ---- */

struct host_ctx {
    struct ak_mon *m;
    struct mon_batch *b;
    int64_t now;
};

static int host_emit(void *ud, const struct ak_collect_sample *s)
{
    struct host_ctx *h = ud;
    struct ak_expo_label l[AK_COLLECT_MAX_LABELS + 3];
    size_t n = 0;
    for (size_t i = 0; i < s->nlabels && i < AK_COLLECT_MAX_LABELS; i++)
        if (!ak_streq(s->labels[i].name, "job") && !ak_streq(s->labels[i].name, "instance") &&
            !ak_streq(s->labels[i].name, "service"))
            l[n++] = (struct ak_expo_label){s->labels[i].name, s->labels[i].value,
                                            strlen(s->labels[i].value)};
    l[n++] = (struct ak_expo_label){"instance", h->m->hostname, strlen(h->m->hostname)};
    l[n++] = (struct ak_expo_label){"job", "node", 4};
    l[n++] = (struct ak_expo_label){"service", h->m->cfg->mon_host_service,
                                    strlen(h->m->cfg->mon_host_service)};
    qsort(l, n, sizeof(*l), cmp_label);
    int type = s->type == AK_COLLECT_COUNTER ? AK_MTYPE_COUNTER : AK_MTYPE_GAUGE;
    return mon_ingest(h->m, s->name, l, n, type, h->now, s->value, h->b);
}

static int collect_host(struct ak_mon *m, int64_t now, struct ak_buf *err)
{
    const struct ak_cfg *cfg = m->cfg;
    struct ak_collect_opts o = {.procs = (const char *const *)cfg->mon_processes.v,
                                .nprocs = cfg->mon_processes.n};
    struct mon_batch b;
    struct host_ctx h = {m, &b, now};
    struct ak_collect_sink sink = {host_emit, &h};

    pthread_mutex_lock(&m->mu);
    mon_batch_init(m, &b);
    int r = ak_collect_host(&o, &sink, NULL, err);
    if (r == AK_OK) {
        struct ak_collect_sample up = {"up", AK_COLLECT_GAUGE, NULL, 0, 1};
        r = host_emit(&h, &up);
    }
    pthread_mutex_unlock(&m->mu);
    return r;
}

/* ---- scrape targets ---- */

struct scrape_ctx {
    struct ak_mon *m;
    struct mon_batch b;
};

static int scrape_cb(void *arg, const struct ak_scrape_sample *s)
{
    struct scrape_ctx *c = arg;
    pthread_mutex_lock(&c->m->mu);
    int r = mon_ingest(c->m, s->name, s->labels, s->nlabels, mon_mtype(s->type, s->name),
                       s->t_ms, s->value, &c->b);
    pthread_mutex_unlock(&c->m->mu);
    return r;
}

static void scrape_service(struct ak_mon *m, const struct ak_cfg_service *svc, int64_t now)
{
    const struct ak_cfg *cfg = m->cfg;
    size_t n = svc->targets.n;
    struct ak_scrape_target *t = ak_xcalloc(n, sizeof(*t));
    struct ak_scrape_result *res = ak_xcalloc(n, sizeof(*res));
    struct ak_expo_label *extra = ak_xcalloc(svc->n_labels ? svc->n_labels : 1, sizeof(*extra));
    struct scrape_ctx c = {.m = m};

    for (size_t i = 0; i < svc->n_labels; i++)
        extra[i] = (struct ak_expo_label){svc->labels[i].name, svc->labels[i].value,
                                          strlen(svc->labels[i].value)};
    for (size_t i = 0; i < n; i++)
        t[i] = (struct ak_scrape_target){.url = svc->targets.v[i], .job = svc->name,
                                         .service = svc->name, .labels = extra,
                                         .nlabels = svc->n_labels,
                                         .timeout_ms = svc->scrape_interval_ms <
                                                               cfg->mon_timeout_ms
                                                           ? svc->scrape_interval_ms
                                                           : cfg->mon_timeout_ms,
                                         .max_bytes = (size_t)cfg->mon_max_scrape_bytes};
    pthread_mutex_lock(&m->mu);
    mon_batch_init(m, &c.b);
    pthread_mutex_unlock(&m->mu);
    int r = ak_scrape_targets(t, n, now, 0, &m->stop, scrape_cb, &c, res);
    pthread_mutex_lock(&m->smu);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m->n_targets; k++) {
            struct mon_tstatus *x = &m->targets[k];
            if (x->service != svc->name || !ak_streq(x->url, svc->targets.v[i]))
                continue;
            x->scraped = true;
            x->up = r == AK_OK && res[i].up;
            x->last_ms = now;
            x->duration_s = res[i].duration_s;
            x->samples = res[i].samples;
            memcpy(x->error, res[i].error, sizeof(x->error));
            x->error[sizeof(x->error) - 1] = 0;
        }
    pthread_mutex_unlock(&m->smu);
    free(t);
    free(res);
    free(extra);
}

int mon_collect_round(struct ak_mon *m, int64_t now, bool all, int64_t *due, struct ak_buf *err)
{
    const struct ak_cfg *cfg = m->cfg;
    size_t ns = cfg->n_services;
    int r = AK_OK;

    /* due[0..ns) per service, due[ns] the host collector */
    if (cfg->mon_host_collector && (all || due[ns] <= now)) {
        r = collect_host(m, now, err);
        if (r < 0)
            ak_log(AK_LOG_WARN, "mon", "host collector failed", "error", err->buf, NULL);
        if (due)
            due[ns] = now + m->interval_ms;
    }
    for (size_t i = 0; i < ns && !atomic_load(&m->stop); i++) {
        const struct ak_cfg_service *svc = &cfg->services[i];
        if (!svc->targets.n || (!all && due[i] > now))
            continue;
        scrape_service(m, svc, now);
        if (due)
            due[i] = now + (svc->scrape_interval_ms > 0 ? svc->scrape_interval_ms
                                                         : m->interval_ms);
    }
    pthread_mutex_lock(&m->mu);
    int f = mon_flush(m, err);
    pthread_mutex_unlock(&m->mu);
    return r < 0 ? r : f;
}

void *mon_collector_main(void *arg)
{
    struct ak_mon *m = arg;
    size_t ns = m->cfg->n_services;
    int64_t *due = ak_xcalloc(ns + 1, sizeof(*due));
    struct ak_buf err = AK_BUF_INIT(1024);

    while (!atomic_load(&m->stop)) {
        int64_t now = ak_now_wall_ms();
        ak_buf_reset(&err);
        pthread_mutex_lock(&m->round_mu);
        if (mon_collect_round(m, now, false, due, &err) < 0)
            ak_log(AK_LOG_WARN, "mon", "cannot store the collected samples", "error", err.buf,
                   NULL);
        pthread_mutex_unlock(&m->round_mu);
        int64_t next = now + MON_HOUR_MS;
        for (size_t i = 0; i <= ns; i++) {
            bool active = i == ns ? m->cfg->mon_host_collector : m->cfg->services[i].targets.n;
            if (active && due[i] < next)
                next = due[i];
        }
        if (mon_sleep_until(m, next))
            break;
    }
    ak_buf_release(&err);
    free(due);
    return NULL;
}

int ak_mon_collect_now(struct ak_mon *m, struct ak_buf *err)
{
    pthread_mutex_lock(&m->round_mu);
    int r = mon_collect_round(m, ak_now_wall_ms(), true, NULL, err);
    pthread_mutex_unlock(&m->round_mu);
    return r;
}
