/* dashboard.c — GET /: a server-rendered overview of the maintenance inbox (no JavaScript).
 * The monitoring part (services, sparklines, findings, coverage gaps) is in dashboard_mon.c. */
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_json.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_poll.h"
#include "asakai/ak_report.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"


static void cell_time(struct ak_buf *b, int64_t ms, int64_t now)
{
    char iso[AK_TIME_RFC3339_LEN], rel[48];
    if (!ms) {
        ak_buf_add(b, "<td class=muted>not announced</td>");
        return;
    }
    ak_time_fmt_rfc3339(ms, iso, sizeof(iso));
    ak_time_fmt_relative(ms, now, rel, sizeof(rel));
    ak_buf_addf(b, "<td><time datetime=\"%s\">%s</time><br><small>%s</small></td>", iso, iso, rel);
}

static void row(struct ak_buf *b, const struct ak_maint_cfg *mc, const struct ak_maint_rec *r,
                int64_t now)
{
    struct ak_buf why = AK_BUF_INIT(512);
    bool imp = ak_maint_is_important(mc, r, now, &why);
    ak_buf_addf(b, "<tr class=\"%s %s\"><td><a href=\"/api/v1/maintenance/%lld\">#%lld</a></td><td>",
                imp ? "important" : "", r->status ? r->status : "", (long long)r->id,
                (long long)r->id);
    ak_buf_add_html(b, r->service);
    ak_buf_add(b, "</td><td>");
    ak_buf_add_html(b, r->kind);
    ak_buf_add(b, "</td><td>");
    ak_buf_add_html(b, r->status);
    ak_buf_add(b, "</td>");
    cell_time(b, r->deadline ? r->deadline : r->window_start, now);
    ak_buf_add(b, "<td>");
    for (size_t i = 0; i < r->n_resources && i < 5; i++) {
        ak_buf_add_html(b, r->resources[i]);
        ak_buf_add(b, "<br>");
    }
    ak_buf_add(b, "</td><td>");
    ak_buf_add_html(b, r->title);
    if (r->recurrence_of)
        ak_buf_addf(b, " <b>recurrence of #%lld</b>", (long long)r->recurrence_of);
    ak_buf_add(b, "</td><td>");
    if (imp)
        ak_buf_add_html(b, why.buf);
    ak_buf_add(b, "</td></tr>\n");
    ak_buf_release(&why);
}

/* Blind spots and partial coverage first: what cannot reach the team matters before the rest. */
static void coverage_panel(struct ak_http_req *rq, struct ak_store *st, int64_t now)
{
    struct ak_buf *b = &rq->out, err = AK_BUF_INIT(256);
    struct ak_json *cov = NULL;
    const struct ak_json *rows;
    size_t shown = 0;

    if (!st || ak_poll_coverage(rq->cfg, st, now, &cov, &err) < 0)
        goto out;
    rows = ak_json_get(cov, "rows");
    ak_buf_addf(b, "<h2>Coverage</h2><p>%lld blind spot(s), %lld partial, of %zu "
                   "account/region/service rows &middot; <a href=\"/api/v1/coverage\">JSON</a>"
                   "</p><ul>",
                (long long)ak_json_int(ak_json_get(cov, "blind_spots")),
                (long long)ak_json_int(ak_json_get(cov, "partial")), ak_json_len(rows));
    for (size_t i = 0; i < ak_json_len(rows); i++) {
        const struct ak_json *r = ak_json_at(rows, i);
        const char *v = ak_json_get_str(r, "verdict"), *why = ak_json_get_str(r, "why");
        if (!why || ak_streq(v, "covered"))
            continue;
        ak_buf_addf(b, "<li class=\"%s\"><b>%s</b> ", ak_streq(v, "blind") ? "blind" : "partial",
                    ak_streq(v, "blind") ? "BLIND" : "partial");
        ak_buf_add_html(b, why);
        ak_buf_add(b, "</li>");
        shown++;
    }
    if (!shown)
        ak_buf_add(b, "<li class=muted>no blind spot known (add what you run to "
                      "<code>inventory</code> in the config)</li>");
    ak_buf_add(b, "</ul>\n");
out:
    ak_json_free(cov);
    ak_buf_release(&err);
}

/* The morning report's matrix, as GET /api/v1/report builds it, for now. */
static void report_panel(struct ak_http_req *rq, struct ak_store *st, int64_t now)
{
    struct ak_buf err = AK_BUF_INIT(512);
    struct ak_json *rep = NULL;

    if (!st || ak_report_build(rq->cfg, st, now, NULL, &rep, &err) < 0)
        goto out;
    ak_buf_add(&rq->out, "<h2>Morning report</h2><p>What needs attention, by urgency and "
                         "importance, each with the rule that put it there &middot; "
                         "<a href=\"/api/v1/report?format=html\">full report</a> &middot; "
                         "<a href=\"/api/v1/report\">JSON</a></p>");
    ak_report_render_matrix(rep, &rq->out);
out:
    ak_json_free(rep);
    ak_buf_release(&err);
}

void ak__http_dashboard(struct ak_http_req *rq, struct ak_store *st)
{
    struct ak_maint_rec *recs = NULL;
    size_t n = 0;
    int64_t now = ak_now_wall_ms();
    struct ak_maint_cfg mc;
    ak_maint_cfg_init(&mc, rq->cfg);
    struct ak_rec_filter f = {.all = true, .now_ms = now, .limit = 500};
    struct ak_buf *b = &rq->out;

    ak_buf_reset(b);
    ak_buf_add(b,
               "<!doctype html><html lang=en><head><meta charset=utf-8>"
               "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
               "<meta http-equiv=refresh content=60><title>asakai</title><style>"
               "body{font:14px system-ui,sans-serif;margin:1em;color:#222}"
               "table{border-collapse:collapse;width:100%}td,th{padding:.4em .6em;"
               "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
               "tr.important td{background:#fff4e5}tr.completed td,tr.canceled td{color:#888}"
               ".muted{color:#999}small{color:#666}li.blind{color:#b00020}"
               ".wide{overflow-x:auto}");
    ak_buf_add(b, ak__http_mon_css);
    ak_buf_add(b, "</style></head><body>"
                  "<h1>asakai &mdash; daily operations</h1>"
                  "<p>Services and what the daily review found, then every AWS maintenance "
                  "notice received, soonest deadline first. "
                  "JSON: <a href=\"/api/v1/maintenance?all=1\">/api/v1/maintenance</a> &middot; "
                  "<a href=\"/api/v1/raw\">archive</a> &middot; "
                  "<a href=\"/metrics\">metrics</a></p>");
    ak__http_dashboard_mon(rq, now);
    report_panel(rq, st, now);
    coverage_panel(rq, st, now);
    ak_buf_add(b, "<h2>Maintenance</h2><div class=wide><table><tr><th>id</th><th>service</th>"
               "<th>kind</th><th>status</th>"
               "<th>deadline</th><th>resources</th><th>title</th><th>why important</th></tr>\n");
    if (st && ak_store_rec_list(st, &f, &recs, &n) == 0) {
        /* open ones first, then closed */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < n; i++) {
                bool closed = recs[i].closed_at != 0;
                if ((pass == 0) != closed)
                    row(b, &mc, &recs[i], now);
            }
    }
    if (!n)
        ak_buf_add(b, "<tr><td colspan=8 class=muted>No maintenance records yet.</td></tr>");
    ak_buf_add(b, "</table></div></body></html>\n");
    for (size_t i = 0; i < n; i++)
        ak_maint_rec_release(&recs[i]);
    free(recs);
    rq->status = 200;
    rq->content_type = "text/html; charset=utf-8";
}
