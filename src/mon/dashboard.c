/* dashboard.c — the monitoring part of the dashboard: per service its signals' 7-day hourly
 * sparklines, the newest stored review's findings, the nearest limit, and the coverage gaps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

#define DASH_SPAN_MS (7 * MON_DAY_MS)

static struct ak_json *signal_json(struct ak_mon *m, struct ak_store *st,
                                   const struct ak_cfg_signal *sig,
                                   const struct mon_cell *c, int64_t now)
{
    struct ak_json *o = ak_json_new_obj(), *pts = ak_json_new_arr();
    const struct ak_mseries *s = c->best;
    double mn = NAN, mx = NAN, last = s ? s->last_value : NAN;

    ak_json_set_str(o, "signal", sig->name);
    ak_json_set_str(o, "series", s ? s->key : NULL);
    ak_json_set_str(o, "metric", s ? s->metric : NULL);
    ak_json_set_str(o, "unit", s ? mon_unit(s->metric) : "");
    ak_json_set_str(o, "state", c->state);
    if (s) {
        bool counter = s->type == AK_MTYPE_COUNTER;
        struct mon_agg *a = NULL;
        size_t n = 0;
        int64_t from = now - DASH_SPAN_MS;
        if (mon_read_aggs_live(m, st, s->id, from - MON_HOUR_MS, now, MON_HOUR_MS, &a, &n) == AK_OK)
            for (size_t i = 0; i < n; i++) {
                double v = mon_agg_value(a, i, counter);
                if (a[i].t < from || !isfinite(v))
                    continue;
                struct ak_json *p = ak_json_new_arr();
                ak_json_append(p, ak_json_new_int(a[i].t));
                ak_json_append(p, ak_json_new_real(v));
                ak_json_append(pts, p);
                mn = isnan(mn) || v < mn ? v : mn;
                mx = isnan(mx) || v > mx ? v : mx;
                if (counter)
                    last = v;
            }
        free(a);
    }
    mon_json_num(o, "last", last);
    mon_json_num(o, "min", mn);
    mon_json_num(o, "max", mx);
    ak_json_set(o, "points", pts);
    return o;
}

/* true/false from the service's "up" series (any target down: false), null without one. */
static struct ak_json *up_json(const struct mon_svc *svc, const struct ak_mseries *v, size_t n,
                               int64_t now)
{
    int up = -1;
    for (size_t i = 0; i < n; i++) {
        if (!ak_streq(v[i].metric, "up") || v[i].last_ms < now - mon_recent_ms(svc))
            continue;
        if (v[i].last_value == 0)
            up = 0;
        else if (up < 0)
            up = 1;
    }
    return up < 0 ? ak_json_new_null() : ak_json_new_bool(up == 1);
}

static void add_findings(struct ak_json *so, const struct ak_json *review, const char *service)
{
    struct ak_json *arr = ak_json_new_arr();
    const struct ak_json *f = ak_json_get(review, "findings");
    double days = NAN;
    for (size_t i = 0; i < ak_json_len(f); i++) {
        struct ak_json *x = ak_json_at(f, i);
        if (!ak_streq(ak_json_get_str(x, "service"), service))
            continue;
        ak_json_append(arr, ak_json_ref(x));
        struct ak_json *d = ak_json_get(x, "days");
        if (ak_streq(ak_json_get_str(x, "kind"), "days-to-limit") && ak_json_is_num(d) &&
            (isnan(days) || ak_json_num(d) < days))
            days = ak_json_num(d);
    }
    ak_json_set(so, "findings", arr);
    mon_json_num(so, "days_to_limit", days);
}

static int service_json(struct ak_mon *m, struct ak_store *st, const struct mon_svc *svc,
                        const struct ak_json *review, int64_t now, struct ak_json **ret)
{
    const struct ak_cfg_service_type *ty = ak_cfg_service_type_find(m->cfg, svc->type);
    struct ak_mseries *v = NULL;
    size_t n = 0;
    int r = ak_store_mseries_list(st, svc->name, NULL, &v, &n);
    if (r < 0)
        return r;
    mon_series_overlay(m, v, n);
    struct ak_json *so = ak_json_new_obj(), *sigs = ak_json_new_arr();
    ak_json_set_str(so, "name", svc->name);
    ak_json_set_str(so, "type", svc->type);
    ak_json_set(so, "up", up_json(svc, v, n, now));
    for (size_t k = 0; ty && k < ty->n_signals; k++) {
        struct mon_cell c;
        mon_cell_eval(svc, &ty->signals[k], v, n, now, &c);
        ak_json_append(sigs, signal_json(m, st, &ty->signals[k], &c, now));
    }
    ak_json_set(so, "signals", sigs);
    add_findings(so, review, svc->name);
    for (size_t i = 0; i < n; i++)
        ak_mseries_release(&v[i]);
    free(v);
    *ret = so;
    return AK_OK;
}

int ak_mon_dashboard(struct ak_mon *m, int64_t now_ms, struct ak_json **ret, struct ak_buf *err)
{
    struct ak_store *st = NULL;
    struct ak_json *review = NULL, *cov = NULL, *o = NULL;
    struct mon_svc *sv = NULL;
    size_t nsv = 0;
    int64_t rat = 0;
    char *rtext = NULL;
    int64_t now = now_ms ? now_ms : ak_now_wall_ms();
    int r = mon_open_read(m, &st, err);
    if (r < 0)
        return r;
    if (ak_store_review_latest(st, &rat, &rtext) == AK_OK && rtext)
        review = ak_json_parse(rtext, strlen(rtext), NULL);
    r = mon_coverage_build(m, st, now, &cov, NULL, err);
    if (r < 0)
        goto out;
    o = ak_json_new_obj();
    ak_json_set_int(o, "at", now);
    ak_json_set(o, "review_at", review && rat ? ak_json_new_int(rat) : ak_json_new_null());
    struct ak_json *svcs = ak_json_new_arr();
    ak_json_set(o, "services", svcs);
    nsv = mon_services(m->cfg, &sv);
    for (size_t i = 0; i < nsv; i++) {
        struct ak_json *so = NULL;
        r = service_json(m, st, &sv[i], review, now, &so);
        if (r < 0) {
            ak_err(err, r, "cannot read the series of %s.", sv[i].name);
            goto out;
        }
        ak_json_append(svcs, so);
    }
    ak_json_set(o, "gaps", ak_json_ref(ak_json_get(cov, "missing")));
    *ret = o;
    o = NULL;
out:
    ak_json_free(o);
    ak_json_free(cov);
    ak_json_free(review);
    free(rtext);
    free(sv);
    ak_store_close(st);
    return r;
}
