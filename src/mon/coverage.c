/* coverage.c — `asakai coverage`: services × the standard signals of their type, each cell
 * present / stale / short / missing, and the missing ones in words.
 *
 * Recent means sampled within 3 scrape intervals for a service that is scraped (targets, or the
 * host collector's service), within 2 h for one fed by a source or an import (those arrive in
 * batches). Short means present with less than 3 days of history: too little for the review. */
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

#define COVERAGE_SHORT_MS (3 * MON_DAY_MS)
#define COVERAGE_BATCH_RECENT_MS (2 * MON_HOUR_MS)

int64_t mon_recent_ms(const struct mon_svc *svc)
{
    return svc->scraped ? 3 * svc->interval_ms : COVERAGE_BATCH_RECENT_MS;
}

static bool matches(const struct ak_cfg_signal *sig, const char *metric)
{
    for (size_t g = 0; g < sig->metrics.n; g++)
        if (mon_glob(sig->metrics.v[g], metric))
            return true;
    return false;
}

void mon_cell_eval(const struct mon_svc *svc, const struct ak_cfg_signal *sig,
                   const struct ak_mseries *v, size_t n, int64_t now, struct mon_cell *ret)
{
    int64_t recent = now - mon_recent_ms(svc);
    const char *first_glob = sig->metrics.n ? sig->metrics.v[0] : "";
    struct mon_cell c = {.state = "missing"};
    int best_score = -1;

    for (size_t i = 0; i < n; i++) {
        if (!matches(sig, v[i].metric))
            continue;
        c.n++;
        if (!c.first || (v[i].first_ms && v[i].first_ms < c.first))
            c.first = v[i].first_ms;
        if (v[i].last_ms > c.last)
            c.last = v[i].last_ms;
        int score = (v[i].last_ms >= recent ? 2 : 0) + (ak_streq(v[i].metric, first_glob) ? 1 : 0);
        if (score > best_score) {
            best_score = score;
            c.best = &v[i];
        }
    }
    if (c.n)
        c.state = c.last < recent ? "stale" : now - c.first < COVERAGE_SHORT_MS ? "short"
                                                                               : "present";
    *ret = c;
}

char *mon_cell_sentence(const struct mon_svc *svc, const struct ak_cfg_signal *sig,
                        const struct mon_cell *c, int64_t now)
{
    if (ak_streq(c->state, "missing")) {
        struct ak_buf b = AK_BUF_INIT(4096);
        for (size_t g = 0; g < sig->metrics.n; g++)
            ak_buf_addf(&b, "%s%s", g ? ", " : "", sig->metrics.v[g]);
        char *s = ak_xasprintf("%s has no %s metric (%s)", svc->name, sig->name, b.buf);
        ak_buf_release(&b);
        return s;
    }
    if (ak_streq(c->state, "stale")) {
        char rel[64];
        ak_time_fmt_relative(c->last, now, rel, sizeof(rel));
        return ak_xasprintf("%s's %s metric %s has not been sampled since %s", svc->name,
                            sig->name, c->best ? c->best->metric : "", rel);
    }
    return NULL;
}

static void add_signal_name(struct ak_json *names, const char *s)
{
    for (size_t i = 0; i < ak_json_len(names); i++)
        if (ak_streq(ak_json_str(ak_json_at(names, i)), s))
            return;
    ak_json_append(names, ak_json_new_str(s));
}

static struct ak_json *cell_json(const struct ak_cfg_signal *sig, const struct mon_cell *c)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_str(o, "state", c->state);
    ak_json_set_bool(o, "required", sig->required);
    ak_json_set_str(o, "metric", c->best ? c->best->metric : NULL);
    ak_json_set_int(o, "series", (int64_t)c->n);
    ak_json_set(o, "last", c->last ? ak_json_new_int(c->last) : ak_json_new_null());
    return o;
}

int mon_coverage_build(struct ak_mon *m, struct ak_store *st, int64_t now, struct ak_json **ret,
                       size_t *ret_required_missing, struct ak_buf *err)
{
    struct mon_svc *sv = NULL;
    size_t nsv = mon_services(m->cfg, &sv), req_missing = 0;
    struct ak_json *o = ak_json_new_obj(), *names = ak_json_new_arr();
    struct ak_json *svcs = ak_json_new_arr(), *missing = ak_json_new_arr();
    int r = AK_OK;

    for (size_t i = 0; i < nsv && r == AK_OK; i++) {
        const struct ak_cfg_service_type *ty = ak_cfg_service_type_find(m->cfg, sv[i].type);
        struct ak_mseries *v = NULL;
        size_t n = 0;
        r = ak_store_mseries_list(st, sv[i].name, NULL, &v, &n);
        if (r < 0) {
            ak_err(err, r, "cannot list the series of %s.", sv[i].name);
            break;
        }
        mon_series_overlay(m, v, n);
        struct ak_json *so = ak_json_new_obj(), *cells = ak_json_new_obj();
        ak_json_set_str(so, "name", sv[i].name);
        ak_json_set_str(so, "type", sv[i].type);
        for (size_t k = 0; ty && k < ty->n_signals; k++) {
            const struct ak_cfg_signal *sig = &ty->signals[k];
            struct mon_cell c;
            mon_cell_eval(&sv[i], sig, v, n, now, &c);
            add_signal_name(names, sig->name);
            ak_json_set(cells, sig->name, cell_json(sig, &c));
            char *s = mon_cell_sentence(&sv[i], sig, &c, now);
            if (s)
                ak_json_append(missing, ak_json_new_str(s));
            free(s);
            if (sig->required && !ak_streq(c.state, "present") && !ak_streq(c.state, "short"))
                req_missing++;
        }
        ak_json_set(so, "cells", cells);
        ak_json_append(svcs, so);
        for (size_t k = 0; k < n; k++)
            ak_mseries_release(&v[k]);
        free(v);
    }
    free(sv);
    ak_json_set_int(o, "at", now);
    ak_json_set(o, "signals", names);
    ak_json_set(o, "services", svcs);
    ak_json_set(o, "missing", missing);
    ak_json_set_int(o, "required_missing", (int64_t)req_missing);
    if (r < 0) {
        ak_json_free(o);
        return r;
    }
    *ret = o;
    if (ret_required_missing)
        *ret_required_missing = req_missing;
    return AK_OK;
}

int ak_mon_coverage(struct ak_mon *m, int64_t now_ms, struct ak_json **ret,
                    size_t *ret_required_missing, struct ak_buf *err)
{
    struct ak_store *st = NULL;
    int r = mon_open_read(m, &st, err);
    if (r < 0)
        return r;
    r = mon_coverage_build(m, st, now_ms ? now_ms : ak_now_wall_ms(), ret, ret_required_missing,
                           err);
    ak_store_close(st);
    return r;
}
