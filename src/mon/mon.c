/* mon.c — the engine's life cycle (start: open, recover, threads; stop: join, checkpoint,
 * close), the service list monitoring works on, and deploy markers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_log.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

size_t mon_services(const struct ak_cfg *cfg, struct mon_svc **ret)
{
    size_t n = 0;
    struct mon_svc *v = ak_xcalloc(cfg->n_services + 1, sizeof(*v));
    const char *host = cfg->mon_host_service;

    for (size_t i = 0; i < cfg->n_services; i++) {
        const struct ak_cfg_service *s = &cfg->services[i];
        struct mon_svc *o = &v[n++];
        o->name = s->name;
        o->type = s->type ? s->type : "http";
        o->cfg = s;
        o->interval_ms = s->scrape_interval_ms > 0 ? s->scrape_interval_ms : cfg->mon_interval_ms;
        o->scraped = s->targets.n > 0 || (cfg->mon_host_collector && ak_streq(s->name, host));
    }
    if (host && *host && !ak_cfg_service_find(cfg, host)) {
        struct mon_svc *o = &v[n++];
        o->name = host;
        o->type = "host";
        o->interval_ms = cfg->mon_interval_ms;
        o->scraped = cfg->mon_host_collector;
    }
    *ret = v;
    return n;
}

bool mon_service_known(const struct ak_cfg *cfg, const char *name)
{
    return name && (ak_cfg_service_find(cfg, name) || ak_streq(name, cfg->mon_host_service));
}

bool mon_sleep_until(struct ak_mon *m, int64_t abs_ms)
{
    pthread_mutex_lock(&m->tmu);
    while (!atomic_load(&m->stop)) {
        int64_t now = ak_now_wall_ms();
        if (now >= abs_ms)
            break;
        int64_t d = abs_ms - now;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += d / 1000;
        ts.tv_nsec += (d % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&m->cv, &m->tmu, &ts);
    }
    bool stop = atomic_load(&m->stop);
    pthread_mutex_unlock(&m->tmu);
    return stop;
}

int ak_mon_start(const struct ak_cfg *cfg, struct ak_mon **ret, struct ak_buf *err)
{
    struct ak_mon *m = ak_xcalloc(1, sizeof(*m));
    int r;

    m->cfg = cfg;
    m->interval_ms = cfg->mon_interval_ms > 0 ? cfg->mon_interval_ms : 15000;
    if (gethostname(m->hostname, sizeof(m->hostname) - 1) != 0 || !m->hostname[0])
        snprintf(m->hostname, sizeof(m->hostname), "localhost");
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->tmu, NULL);
    pthread_mutex_init(&m->smu, NULL);
    pthread_mutex_init(&m->round_mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    atomic_init(&m->stop, false);
    ak_buf_init(&m->key, AK_EXPO_MAX_LINE);
    ak_buf_init(&m->logrec, MON_LOG_RECORD_BYTES + 64);
    m->ckpt_mono_ms = ak_now_mono_ms();
    mon_status_init(m);
    r = ak_store_open_metrics(cfg->data_dir, AK_STORE_WRITE, &m->wst, err);
    if (r < 0)
        goto fail;
    r = mon_recover(m, err);
    if (r < 0)
        goto fail;
    if (cfg->mon_enabled) {
        if (pthread_create(&m->collector, NULL, mon_collector_main, m) != 0) {
            r = ak_err(err, AK_EINTERNAL, "cannot start the metrics collector thread.");
            goto fail;
        }
        m->collector_started = true;
        if (pthread_create(&m->keeper, NULL, mon_keeper_main, m) != 0) {
            r = ak_err(err, AK_EINTERNAL, "cannot start the metrics keeper thread.");
            goto fail;
        }
        m->keeper_started = true;
    }
    *ret = m;
    return AK_OK;
fail:
    ak_mon_stop(m);
    return r;
}

static void engine_stop(struct ak_mon *m, bool checkpoint)
{
    pthread_mutex_lock(&m->tmu);
    atomic_store(&m->stop, true);
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->tmu);
    if (m->collector_started)
        pthread_join(m->collector, NULL);
    if (m->keeper_started)
        pthread_join(m->keeper, NULL);
    if (m->wst && checkpoint) {
        struct ak_buf err = AK_BUF_INIT(1024);
        pthread_mutex_lock(&m->mu);
        if (mon_checkpoint(m, &err) < 0)
            ak_log(AK_LOG_ERR, "mon", "cannot store the last samples", "error", err.buf, NULL);
        pthread_mutex_unlock(&m->mu);
        ak_buf_release(&err);
    }
    ak_store_close(m->wst);
    mon_table_free(m);
    mon_status_free(m);
    ak_buf_release(&m->key);
    ak_buf_release(&m->logrec);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->tmu);
    pthread_mutex_destroy(&m->smu);
    pthread_mutex_destroy(&m->round_mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}

void ak_mon_stop(struct ak_mon *m)
{
    if (m)
        engine_stop(m, true);
}

void mon_drop_for_test(struct ak_mon *m)
{
    if (m)
        engine_stop(m, false);
}

static int unknown_service(const struct ak_cfg *cfg, const char *service, struct ak_buf *err)
{
    struct mon_svc *sv = NULL;
    size_t n = mon_services(cfg, &sv);
    struct ak_buf names = AK_BUF_INIT(4096);
    for (size_t i = 0; i < n; i++)
        ak_buf_addf(&names, "%s%s", i ? ", " : "", sv[i].name);
    int r = ak_err(err, AK_ENOTFOUND, "unknown service \"%s\"; the declared services are: %s.",
                   service ? service : "", n ? names.buf : "(none)");
    ak_buf_release(&names);
    free(sv);
    return r;
}

int ak_mon_deploy_mark(struct ak_mon *m, const char *service, const char *version, int64_t at_ms,
                       const char *by, const char *note, int64_t *ret_id, struct ak_buf *err)
{
    if (!mon_service_known(m->cfg, service))
        return unknown_service(m->cfg, service, err);
    struct ak_deploy d = {.service = (char *)service, .version = (char *)version,
                          .at_ms = at_ms ? at_ms : ak_now_wall_ms(), .by = (char *)by,
                          .note = (char *)note};
    int64_t id = 0;
    pthread_mutex_lock(&m->mu);
    int r = ak_store_deploy_add(m->wst, &d, &id);
    pthread_mutex_unlock(&m->mu);
    if (r < 0)
        return ak_err(err, r, "cannot store the deploy marker.");
    if (ret_id)
        *ret_id = id;
    return AK_OK;
}

struct ak_json *mon_deploy_json(const struct ak_deploy *d)
{
    struct ak_json *x = ak_json_new_obj();

    ak_json_set_int(x, "id", d->id);
    ak_json_set_str(x, "service", d->service);
    ak_json_set_str(x, "version", d->version);
    ak_json_set_int(x, "at", d->at_ms);
    ak_json_set_str(x, "by", d->by);
    ak_json_set_str(x, "note", d->note);
    return x;
}

int ak_mon_deploy_list(struct ak_mon *m, const char *service, int64_t from_ms, int64_t to_ms,
                       struct ak_json **ret, struct ak_buf *err)
{
    struct ak_store *st = NULL;
    struct ak_deploy *d = NULL;
    size_t n = 0;
    int r = mon_open_read(m, &st, err);
    if (r < 0)
        return r;
    r = ak_store_deploy_list(st, service, from_ms, to_ms ? to_ms : INT64_MAX, &d, &n);
    if (r < 0) {
        ak_err(err, r, "cannot read the deploy markers.");
        goto out;
    }
    struct ak_json *o = ak_json_new_obj(), *arr = ak_json_new_arr();
    for (size_t i = 0; i < n; i++)
        ak_json_append(arr, mon_deploy_json(&d[i]));
    ak_json_set(o, "deploys", arr);
    *ret = o;
out:
    for (size_t i = 0; i < n; i++)
        ak_deploy_release(&d[i]);
    free(d);
    ak_store_close(st);
    return r;
}
