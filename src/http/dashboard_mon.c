/* dashboard_mon.c — the dashboard's monitoring part (per service: signals as sparklines, the
 * latest review's findings, days to a limit; coverage gaps) and the chart page /chart.
 * Server-rendered inline SVG, no JavaScript, no external resources; every string is escaped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_mon.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define DAY_MS 86400000LL
#define SPARK_W 140
#define SPARK_H 34
#define CHART_W 900
#define CHART_H 320
#define CHART_L 70  /* left margin: y labels */
#define CHART_B 28  /* bottom margin: x labels */
#define CHART_T 22  /* top margin: deploy labels */
/* what one page shows at most (10,000 services must not make a 100 MB page) */
#define MAX_SERVICE_ROWS 200
#define MAX_FINDINGS 20     /* per service */
#define MAX_GAPS 100
#define MAX_TITLE 300       /* bytes of a series key shown in a tooltip */

const char ak__http_mon_css[] =
    ".svcs{display:flex;flex-direction:column;gap:.8em}"
    ".svc{border:1px solid #ddd;border-radius:6px;padding:.6em .8em}"
    ".svc h3{margin:0 0 .4em;font-size:1.05em;overflow-wrap:anywhere}"
    ".svc h3 small{font-weight:normal}"
    ".sigs{display:flex;flex-wrap:wrap;gap:.5em}"
    ".sig{display:block;border:1px solid #eee;border-radius:4px;padding:.2em .4em;"
    "text-decoration:none;color:#222;min-width:140px}"
    ".sig .n{font-size:.85em;color:#555}.sig .v{font-weight:600}"
    ".sig svg{display:block}.sig path{fill:none;stroke-width:1.5}"
    ".st-present path{stroke:#1b7f3b}.st-stale path{stroke:#d97706}"
    ".st-short path{stroke:#2563eb}.st-missing{color:#999;border-style:dashed}"
    ".badge{display:inline-block;border-radius:3px;padding:0 .4em;margin-right:.3em;"
    "font-size:.8em;color:#fff;background:#555}"
    ".k-growth,.k-days-to-limit{background:#b45309}.k-days-to-limit{background:#b00020}"
    ".k-level-shift{background:#6d28d9}.k-gap{background:#6b7280}"
    ".findings{margin:.4em 0 0;padding-left:1.2em}.findings a{color:#222}"
    ".svcs li,.gaps li{overflow-wrap:anywhere}"
    ".up{color:#1b7f3b}.down{color:#b00020}.dtl{color:#b00020;font-weight:600}"
    ".chart svg{width:100%;height:auto;max-width:900px}"
    ".chart .band{fill:#93c5fd;opacity:.45}.chart .mean{fill:none;stroke:#1d4ed8;"
    "stroke-width:1.5}.chart .axis{stroke:#999}.chart .grid{stroke:#eee}"
    ".chart text{font-size:11px;fill:#444}.chart .deploy{stroke:#b00020;stroke-dasharray:4 3}"
    ".chart .dl{fill:#b00020}.chart .dot{fill:#1d4ed8}";


/* Percent-encodes s for a query value (RFC 3986 unreserved kept); the result is also safe in an
 * HTML attribute. */
static void url_enc(struct ak_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            ak_buf_addc(b, (char)c);
        else
            ak_buf_addf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
}

/* s escaped, cut to at most max bytes (at a character boundary) with "…" when longer. */
static void add_html_cut(struct ak_buf *b, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n <= max) {
        ak_buf_add_html(b, s);
        return;
    }
    while (max && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--; /* not inside a UTF-8 sequence */
    char *cut = ak_xstrndup(s, max);
    ak_buf_add_html(b, cut);
    ak_buf_add(b, "&hellip;");
    free(cut);
}

static void chart_link(struct ak_buf *b, const char *series)
{
    ak_buf_add(b, "/chart?series=");
    url_enc(b, series);
}

/* A number for people: bytes in binary units, seconds as ms/s, ratios as %, else 3 digits with
 * k/M/G. unit may be NULL. */
static void fmt_value(double v, const char *unit, char *buf, size_t n)
{
    static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    static const char *const si[] = {"", "k", "M", "G", "T", "P"};
    double a = fabs(v);
    size_t i = 0;

    if (!isfinite(v)) {
        snprintf(buf, n, "%s", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
    } else if (ak_streq(unit, "bytes")) {
        for (; a >= 1024 && i + 1 < AK_ARRAY_SIZE(bin); i++)
            a /= 1024, v /= 1024;
        snprintf(buf, n, i ? "%.3g %s" : "%.0f %s", v, bin[i]);
    } else if (ak_streq(unit, "seconds")) {
        if (a < 1 && a > 0)
            snprintf(buf, n, "%.3g ms", v * 1000);
        else if (a < 120)
            snprintf(buf, n, "%.3g s", v);
        else if (a < 7200)
            snprintf(buf, n, "%.3g min", v / 60);
        else if (a < 2 * 86400)
            snprintf(buf, n, "%.3g h", v / 3600);
        else
            snprintf(buf, n, "%.3g d", v / 86400);
    } else if (ak_streq(unit, "ratio")) {
        snprintf(buf, n, "%.3g %%", v * 100);
    } else if (ak_streq(unit, "percent")) {
        snprintf(buf, n, "%.3g %%", v);
    } else {
        for (; a >= 1000 && i + 1 < AK_ARRAY_SIZE(si); i++)
            a /= 1000, v /= 1000;
        snprintf(buf, n, "%.3g%s%s%s", v, si[i], unit && *unit ? " " : "", unit ? unit : "");
    }
}

/* The unit a metric name suggests (the chart page has no signal to ask). */
static const char *unit_of(const char *metric, const char *type)
{
    if (ak_endswith(metric, "_bytes"))
        return "bytes";
    if (ak_endswith(metric, "_seconds") || ak_endswith(metric, "_seconds_sum"))
        return "seconds";
    if (ak_endswith(metric, "_ratio"))
        return "ratio";
    if (ak_endswith(metric, "_percent"))
        return "percent";
    if (ak_streq(type, "counter") || ak_endswith(metric, "_total"))
        return "/s";
    return NULL;
}

static bool num(const struct ak_json *j, double *ret)
{
    if (!ak_json_is_num(j))
        return false;
    *ret = ak_json_num(j);
    return isfinite(*ret);
}

/* A time given as ms or as RFC 3339 text (0 when neither). */
static int64_t time_of(const struct ak_json *j)
{
    int64_t ms = 0;
    if (ak_json_is_int(j))
        return ak_json_int(j);
    if (ak_json_is_str(j) && ak_time_parse(ak_json_str(j), &ms) == AK_OK)
        return ms;
    return 0;
}

/* The finite values of points [[t, v], ...] at or after t0: their range and how many. */
static size_t spark_range(const struct ak_json *pts, int64_t t0, double *lo, double *hi)
{
    size_t n = 0;
    *lo = *hi = 0;
    for (size_t i = 0; i < ak_json_len(pts); i++) {
        const struct ak_json *p = ak_json_at(pts, i);
        double v;
        if (!num(ak_json_at(p, 1), &v) || time_of(ak_json_at(p, 0)) < t0)
            continue;
        if (!n || v < *lo)
            *lo = v;
        if (!n || v > *hi)
            *hi = v;
        n++;
    }
    return n;
}

/* A sparkline over [t0, t0 + 7 d) of points [[t, v], ...], scaled to their own range (a flat
 * line in the middle when all are equal); a null or non-finite value breaks the line, and a
 * point alone between breaks is drawn as a short dash. */
static void sparkline(struct ak_buf *b, const struct ak_json *pts, int64_t t0)
{
    size_t run = 0;
    double lo, hi;
    spark_range(pts, t0, &lo, &hi);
    double span = hi > lo ? hi - lo : 1;

    ak_buf_addf(b, "<svg width=%d height=%d viewBox=\"0 0 %d %d\" role=img><path d=\"", SPARK_W,
                SPARK_H, SPARK_W, SPARK_H);
    for (size_t i = 0; i < ak_json_len(pts); i++) {
        const struct ak_json *p = ak_json_at(pts, i);
        double v;
        int64_t t = time_of(ak_json_at(p, 0));
        if (!num(ak_json_at(p, 1), &v) || t < t0) {
            if (run == 1)
                ak_buf_add(b, "h2 ");
            run = 0;
            continue;
        }
        double x = (double)(t - t0) * (SPARK_W - 2) / (double)(7 * DAY_MS) + 1;
        double y = hi > lo ? (SPARK_H - 2) - (v - lo) * (SPARK_H - 4) / span : SPARK_H / 2.0;
        ak_buf_addf(b, "%c%.1f %.1f ", run ? 'L' : 'M', x > SPARK_W - 2 ? SPARK_W - 2 : x, y);
        run++;
    }
    if (run == 1)
        ak_buf_add(b, "h2 ");
    ak_buf_add(b, "\"/></svg>");
}

/* The newest finite value of points (column 1), NaN when none. */
static double last_point(const struct ak_json *pts)
{
    for (size_t i = ak_json_len(pts); i-- > 0;) {
        double v;
        if (num(ak_json_at(ak_json_at(pts, i), 1), &v))
            return v;
    }
    return NAN;
}

/* The value a signal's cell shows. A counter's stored last value is its running total (a CPU
 * counter reads "16.6k"): with hourly points the engine gives the newest rate instead; without
 * (a new series) the rate comes from the raw samples of the last 2 hours, or nothing ("—")
 * until there are two samples. */
static double cell_value(struct ak_mon *mon, const struct ak_json *s, const char *series,
                         int64_t now)
{
    const struct ak_json *pts = ak_json_get(s, "points");
    struct ak_json *q = NULL;
    struct ak_buf err = AK_BUF_INIT(256);
    double last = NAN, lo = 0, hi = 0;
    bool counter = ak_streq(unit_of(ak_json_get_str(s, "metric"), NULL), "/s");

    if (spark_range(pts, 0, &lo, &hi)) {
        if (!num(ak_json_get(s, "last"), &last))
            last = last_point(pts);
        goto out;
    }
    if (ak_mon_query(mon, series, now - 2 * 3600000LL, now + 1, "raw", &q, &err) == AK_OK)
        counter = ak_streq(ak_json_get_str(q, "type"), "counter");
    if (counter)
        last = last_point(ak_json_get(q, "points")); /* NaN without a query */
    else if (!num(ak_json_get(s, "last"), &last))
        last = NAN;
out:
    ak_json_free(q);
    ak_buf_release(&err);
    return last;
}

static void signal_cell(struct ak_buf *b, struct ak_mon *mon, const struct ak_json *s,
                        int64_t t0, int64_t now)
{
    const char *state = ak_json_get_str(s, "state"), *unit = ak_json_get_str(s, "unit");
    const char *series = ak_json_get_str(s, "series"), *metric = ak_json_get_str(s, "metric");
    const struct ak_json *pts = ak_json_get(s, "points");
    char v[48];

    if (!series || !*series) {
        ak_buf_add(b, "<div class=\"sig st-missing\"><div class=n>");
        ak_buf_add_html(b, ak_json_get_str(s, "signal"));
        ak_buf_add(b, "</div><div class=v>no data</div><small>");
        ak_buf_add_html(b, state ? state : "missing");
        ak_buf_add(b, "</small></div>");
        return;
    }
    ak_buf_add(b, "<a class=\"sig st-");
    ak_buf_add_html(b, state ? state : "present");
    ak_buf_add(b, "\" href=\"");
    chart_link(b, series);
    ak_buf_add(b, "\" title=\"");
    add_html_cut(b, series, MAX_TITLE);
    ak_buf_add(b, "\"><div class=n>");
    ak_buf_add_html(b, ak_json_get_str(s, "signal"));
    if (state && !ak_streq(state, "present")) {
        ak_buf_add(b, " <small>(");
        ak_buf_add_html(b, state);
        ak_buf_add(b, ")</small>");
    }
    ak_buf_add(b, "</div>");
    sparkline(b, pts, t0);
    if ((!unit || !*unit) && metric)
        unit = unit_of(metric, NULL); /* counters are drawn as per-second rates */
    double last = cell_value(mon, s, series, now);
    if (isfinite(last))
        fmt_value(last, unit, v, sizeof(v));
    else
        snprintf(v, sizeof(v), "\xe2\x80\x94"); /* "—": a counter before its second sample */
    ak_buf_add(b, "<div class=v>");
    ak_buf_add_html(b, v);
    ak_buf_add(b, "</div></a>");
}

static void findings_list(struct ak_buf *b, const struct ak_json *fs)
{
    if (!ak_json_len(fs))
        return;
    ak_buf_add(b, "<ul class=findings>");
    for (size_t i = 0; i < ak_json_len(fs) && i < MAX_FINDINGS; i++) {
        const struct ak_json *f = ak_json_at(fs, i);
        const char *kind = ak_json_get_str(f, "kind"), *series = ak_json_get_str(f, "series");
        ak_buf_add(b, "<li>");
        if (series) {
            ak_buf_add(b, "<a href=\"");
            chart_link(b, series);
            ak_buf_add(b, "\">");
        }
        ak_buf_add(b, "<span class=\"badge k-");
        ak_buf_add_html(b, kind ? kind : "other");
        ak_buf_add(b, "\">");
        ak_buf_add_html(b, kind ? kind : "finding");
        ak_buf_add(b, "</span>");
        ak_buf_add_html(b, ak_json_get_str(f, "text"));
        if (series)
            ak_buf_add(b, "</a>");
        ak_buf_add(b, "</li>");
    }
    if (ak_json_len(fs) > MAX_FINDINGS)
        ak_buf_addf(b, "<li class=muted>%zu more (<a href=\"/api/v1/review/latest\">JSON</a>)"
                       "</li>", ak_json_len(fs) - MAX_FINDINGS);
    ak_buf_add(b, "</ul>");
}

/* The findings of one service in a review run now, and its nearest days-to-limit. */
static struct ak_json *findings_of(const struct ak_json *review, const char *service,
                                   double *days)
{
    struct ak_json *arr = ak_json_new_arr();
    const struct ak_json *fs = ak_json_get(review, "findings");
    *days = NAN;
    for (size_t i = 0; i < ak_json_len(fs); i++) {
        struct ak_json *f = ak_json_at(fs, i);
        double d;
        if (!ak_streq(ak_json_get_str(f, "service"), service))
            continue;
        ak_json_append(arr, ak_json_ref(f));
        if (ak_streq(ak_json_get_str(f, "kind"), "days-to-limit") &&
            num(ak_json_get(f, "days"), &d) && (isnan(*days) || d < *days))
            *days = d;
    }
    return arr;
}

/* review_now: a review run for this page (no daily review stored yet), else NULL. */
/* " ~11 days to a limit" for the nearest limit of a service. */
static void days_badge(struct ak_buf *b, double days)
{
    ak_buf_add(b, " <span class=dtl>");
    if (days <= 0)
        ak_buf_add(b, "at a limit now");
    else if (days < 1)
        ak_buf_add(b, "&lt; 1 day to a limit");
    else if (days >= 1000)
        ak_buf_add(b, "&gt; 999 days to a limit");
    else
        ak_buf_addf(b, "~%.0f day%s to a limit", days, days < 1.5 ? "" : "s");
    ak_buf_add(b, "</span>");
}

static void service_row(struct ak_buf *b, struct ak_mon *mon, const struct ak_json *svc,
                        int64_t t0, int64_t now, const struct ak_json *review_now)
{
    const struct ak_json *up = ak_json_get(svc, "up"), *sigs = ak_json_get(svc, "signals");
    struct ak_json *own = NULL;
    double days = NAN;
    bool has_days;

    if (review_now) {
        own = findings_of(review_now, ak_json_get_str(svc, "name"), &days);
        has_days = !isnan(days);
    } else
        has_days = num(ak_json_get(svc, "days_to_limit"), &days);

    ak_buf_add(b, "<div class=svc><h3>");
    ak_buf_add_html(b, ak_json_get_str(svc, "name"));
    ak_buf_add(b, " <small>");
    ak_buf_add_html(b, ak_json_get_str(svc, "type"));
    ak_buf_add(b, "</small> ");
    if (ak_json_is_bool(up))
        ak_buf_add(b, ak_json_bool(up) ? "<small class=up>&#9679; up</small>"
                                       : "<small class=down>&#9679; DOWN</small>");
    if (has_days)
        days_badge(b, days);
    ak_buf_add(b, "</h3><div class=sigs>");
    for (size_t i = 0; i < ak_json_len(sigs); i++)
        signal_cell(b, mon, ak_json_at(sigs, i), t0, now);
    if (!ak_json_len(sigs))
        ak_buf_add(b, "<span class=muted>no signals defined for this type</span>");
    ak_buf_add(b, "</div>");
    findings_list(b, own ? own : ak_json_get(svc, "findings"));
    ak_buf_add(b, "</div>\n");
    ak_json_free(own);
}

void ak__http_dashboard_mon(struct ak_http_req *rq, int64_t now_ms)
{
    struct ak_buf *b = &rq->out, err = AK_BUF_INIT(512);
    struct ak_json *d = NULL, *now_review = NULL;
    const struct ak_json *svcs, *gaps;
    char rel[48];

    if (!rq->mon)
        goto out;
    ak_buf_add(b, "<h2>Services</h2>");
    if (ak_mon_dashboard(rq->mon, now_ms, &d, &err) < 0) {
        ak_buf_add(b, "<p class=muted>monitoring data unavailable: ");
        ak_buf_add_html(b, err.buf);
        ak_buf_add(b, "</p>");
        goto out;
    }
    int64_t at = time_of(ak_json_get(d, "at")), review_at = time_of(ak_json_get(d, "review_at"));
    if (!at)
        at = now_ms;
    ak_buf_add(b, "<p>The last 7 days of each service's signals (hourly means) and what the "
                  "daily review found");
    svcs = ak_json_get(d, "services");
    if (review_at) {
        ak_time_fmt_relative(review_at, now_ms, rel, sizeof(rel));
        ak_buf_addf(b, " (daily review %s)", rel);
    } else if (ak_json_len(svcs)) {
        /* before the first daily run (a new install, the demo): review now, so the page is
         * never empty of findings; once a daily review is stored the page only reads */
        struct ak_mon_review_req req = {.now_ms = now_ms};
        ak_buf_reset(&err);
        if (ak_mon_review(rq->mon, &req, &now_review, &err) == AK_OK)
            ak_buf_add(b, " (no daily review stored yet: these findings are from a review run "
                          "for this page)");
        else
            ak_buf_add(b, " (no daily review yet)");
    }
    ak_buf_add(b, " &middot; <a href=\"/api/v1/monitoring/dashboard\">JSON</a></p>"
                  "<div class=svcs>\n");
    for (size_t i = 0; i < ak_json_len(svcs) && i < MAX_SERVICE_ROWS; i++)
        service_row(b, rq->mon, ak_json_at(svcs, i), at - 7 * DAY_MS, at, now_review);
    if (ak_json_len(svcs) > MAX_SERVICE_ROWS)
        ak_buf_addf(b, "<p class=muted>%zu more services not shown (<a href=\"/api/v1/monitoring/"
                       "dashboard\">JSON</a>)</p>", ak_json_len(svcs) - MAX_SERVICE_ROWS);
    if (!ak_json_len(svcs))
        ak_buf_add(b, "<p class=muted>No services yet: declare them under <code>services:</code> "
                      "in the config.</p>");
    ak_buf_add(b, "</div><h2>Coverage gaps</h2><ul class=gaps>");
    gaps = ak_json_get(d, "gaps");
    for (size_t i = 0; i < ak_json_len(gaps) && i < MAX_GAPS; i++) {
        ak_buf_add(b, "<li class=blind>");
        ak_buf_add_html(b, ak_json_str(ak_json_at(gaps, i)));
        ak_buf_add(b, "</li>");
    }
    if (ak_json_len(gaps) > MAX_GAPS)
        ak_buf_addf(b, "<li class=muted>%zu more</li>", ak_json_len(gaps) - MAX_GAPS);
    if (!ak_json_len(gaps))
        ak_buf_add(b, "<li class=muted>every required signal of every service is present</li>");
    ak_buf_add(b, "</ul> <p><a href=\"/api/v1/monitoring/coverage\">coverage JSON</a></p>\n");
out:
    ak_json_free(now_review);
    ak_json_free(d);
    ak_buf_release(&err);
}

/* ---- the chart page ---- */

struct frame {
    int64_t t0, t1;
    double lo, hi;
};

static double fx(const struct frame *f, int64_t t)
{
    return CHART_L + (double)(t - f->t0) * (CHART_W - CHART_L - 10) / (double)(f->t1 - f->t0);
}

static double fy(const struct frame *f, double v)
{
    double span = f->hi > f->lo ? f->hi - f->lo : 1;
    return CHART_T + (CHART_H - CHART_T - CHART_B) * (1 - (v - f->lo) / span);
}

/* One band polygon per run of points that have min and max: max left to right, min back. */
static void band(struct ak_buf *b, const struct ak_json *pts, const struct frame *f)
{
    size_t n = ak_json_len(pts), i = 0;
    while (i < n) {
        double lo = 0, hi = 0;
        size_t s = i;
        while (i < n && num(ak_json_at(ak_json_at(pts, i), 2), &lo) &&
               num(ak_json_at(ak_json_at(pts, i), 3), &hi))
            i++;
        if (i > s) {
            ak_buf_add(b, "<polygon class=band points=\"");
            for (size_t k = s; k < i; k++) {
                const struct ak_json *p = ak_json_at(pts, k);
                num(ak_json_at(p, 3), &hi);
                ak_buf_addf(b, "%.1f,%.1f ", fx(f, time_of(ak_json_at(p, 0))), fy(f, hi));
            }
            for (size_t k = i; k-- > s;) {
                const struct ak_json *p = ak_json_at(pts, k);
                num(ak_json_at(p, 2), &lo);
                ak_buf_addf(b, "%.1f,%.1f ", fx(f, time_of(ak_json_at(p, 0))), fy(f, lo));
            }
            ak_buf_add(b, "\"/>");
        }
        i++;
    }
}

/* The mean as a line broken at null points; a point alone between breaks gets a dot. Returns
 * how many points were drawn. */
static size_t mean_line(struct ak_buf *b, const struct ak_json *pts, const struct frame *f)
{
    struct ak_buf dots = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t run = 0, drawn = 0;
    double px = 0, py = 0;

    ak_buf_add(b, "<path class=mean d=\"");
    for (size_t i = 0; i <= ak_json_len(pts); i++) {
        const struct ak_json *p = ak_json_at(pts, i);
        double v;
        if (i == ak_json_len(pts) || !num(ak_json_at(p, 1), &v)) {
            if (run == 1)
                ak_buf_addf(&dots, "<circle class=dot cx=%.1f cy=%.1f r=2 />", px, py);
            run = 0;
            continue;
        }
        px = fx(f, time_of(ak_json_at(p, 0)));
        py = fy(f, v);
        ak_buf_addf(b, "%c%.1f %.1f ", run ? 'L' : 'M', px, py);
        run++;
        drawn++;
    }
    ak_buf_add(b, "\"/>");
    ak_buf_addn(b, dots.buf, dots.len);
    ak_buf_release(&dots);
    return drawn;
}

static void axes(struct ak_buf *b, const struct frame *f, const char *unit)
{
    char v[48], t[AK_TIME_RFC3339_LEN];
    int bottom = CHART_H - CHART_B;

    for (int k = 0; k <= 4; k++) {
        double val = f->lo + (f->hi - f->lo) * k / 4.0, y = fy(f, val);
        fmt_value(val, unit, v, sizeof(v));
        ak_buf_addf(b, "<line class=grid x1=%d x2=%d y1=%.1f y2=%.1f />", CHART_L,
                    CHART_W - 10, y, y);
        ak_buf_addf(b, "<text x=%d y=%.1f text-anchor=end>", CHART_L - 4, y + 4);
        ak_buf_add_html(b, v);
        ak_buf_add(b, "</text>");
    }
    for (int k = 0; k <= 4; k++) {
        int64_t ms = f->t0 + (f->t1 - f->t0) * k / 4;
        ak_time_fmt_rfc3339(ms, t, sizeof(t));
        /* "2026-11-26T01:00:00Z" -> "11-26 01:00" */
        if (strlen(t) >= 16) {
            t[10] = ' ';
            t[16] = 0;
        }
        ak_buf_addf(b, "<text x=%.1f y=%d text-anchor=%s>%s UTC</text>", fx(f, ms),
                    bottom + 16, k == 0 ? "start" : k == 4 ? "end" : "middle", t + 5);
    }
    ak_buf_addf(b, "<line class=axis x1=%d x2=%d y1=%d y2=%d /><line class=axis x1=%d x2=%d "
                   "y1=%d y2=%d />",
                CHART_L, CHART_W - 10, bottom, bottom, CHART_L, CHART_L, CHART_T, bottom);
}

static void deploy_marks(struct ak_buf *b, const struct ak_json *deps, const struct frame *f)
{
    for (size_t i = 0; i < ak_json_len(deps); i++) {
        const struct ak_json *d = ak_json_at(deps, i);
        int64_t at = time_of(ak_json_get(d, "at"));
        const char *ver = ak_json_get_str(d, "version"), *note = ak_json_get_str(d, "note");
        if (at < f->t0 || at > f->t1)
            continue; /* the range only: a marker outside would be drawn over the margins */
        double x = fx(f, at);
        ak_buf_addf(b, "<g class=deploy-marker><line class=deploy x1=%.1f x2=%.1f y1=%d y2=%d>"
                       "<title>deploy ",
                    x, x, CHART_T - 4, CHART_H - CHART_B);
        add_html_cut(b, ver, MAX_TITLE);
        if (note && *note) {
            ak_buf_add(b, ": ");
            add_html_cut(b, note, MAX_TITLE);
        }
        ak_buf_add(b, "</title></line>");
        ak_buf_addf(b, "<text class=dl x=%.1f y=%d text-anchor=middle>", x, CHART_T - 8);
        add_html_cut(b, ver && *ver ? ver : "deploy", 24);
        ak_buf_add(b, "</text></g>");
    }
}

static void frame_fit(struct frame *f, const struct ak_json *pts)
{
    bool any = false;
    f->lo = f->hi = 0;
    for (size_t i = 0; i < ak_json_len(pts); i++) {
        const struct ak_json *p = ak_json_at(pts, i);
        for (size_t k = 1; k <= 3; k++) {
            double v;
            if (!num(ak_json_at(p, k), &v))
                continue;
            if (!any || v < f->lo)
                f->lo = v;
            if (!any || v > f->hi)
                f->hi = v;
            any = true;
        }
    }
    if (f->hi <= f->lo) {
        /* a flat line in the middle rather than a division by zero */
        double pad = f->lo ? fabs(f->lo) * 0.1 : 1;
        f->lo -= pad;
        f->hi += pad;
    }
}

static void page_head(struct ak_buf *b, const char *title)
{
    ak_buf_add(b, "<!doctype html><html lang=en><head><meta charset=utf-8>"
                  "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
                  "<meta http-equiv=refresh content=60><title>");
    ak_buf_add_html(b, title);
    ak_buf_add(b, " &mdash; asakai</title><style>"
                  "body{font:14px system-ui,sans-serif;margin:1em;color:#222}"
                  ".muted{color:#999}");
    ak_buf_add(b, ak__http_mon_css);
    ak_buf_add(b, "</style></head><body><p><a href=\"/\">&larr; dashboard</a></p>");
}

void ak__http_chart(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf *b = &rq->out, err = AK_BUF_INIT(512);
    struct ak_json *q = NULL;
    const char *key = ak__http_arg(rq, "series"), *range = ak__http_arg(rq, "range");
    int64_t now = ak_now_wall_ms(), span = 7 * DAY_MS;
    struct frame f;
    (void)tail;

    if (!rq->mon) {
        ak__http_error(rq, 503, "monitoring is not running in this daemon");
        goto out;
    }
    if (!key || !*key) {
        ak__http_error(rq, 400, "series=KEY is required");
        goto out;
    }
    if (range && (ak_parse_duration_ms(range, &span) < 0 || span < 60000 || span > 400 * DAY_MS)) {
        ak__http_error(rq, 400, "range '%s' is not a duration from 1m to 400d (7d, 36h)", range);
        goto out;
    }
    int r = ak_mon_query(rq->mon, key, now - span, now + 1, "auto", &q, &err);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "%s", err.len ? err.buf : ak_strerror(r));
        goto out;
    }
    const struct ak_json *pts = ak_json_get(q, "points");
    const char *metric = ak_json_get_str(q, "metric"), *type = ak_json_get_str(q, "type");
    const char *unit = unit_of(metric ? metric : key, type);
    f.t0 = now - span;
    f.t1 = now;
    frame_fit(&f, pts);
    ak_buf_reset(b);
    page_head(b, metric ? metric : key);
    ak_buf_add(b, "<h1 style=\"font-size:1.2em;word-break:break-all\">");
    ak_buf_add_html(b, key);
    ak_buf_add(b, "</h1><p>");
    ak_buf_add_html(b, ak_json_get_str(q, "service"));
    ak_buf_add(b, " &middot; ");
    ak_buf_add_html(b, type);
    if (ak_streq(unit, "/s"))
        ak_buf_add(b, " (per-second rate)");
    ak_buf_add(b, " &middot; ");
    ak_buf_add_html(b, ak_json_get_str(q, "resolution") ? ak_json_get_str(q, "resolution")
                                                        : "auto");
    ak_buf_addf(b, " resolution, %zu points &middot; ranges: ", ak_json_len(pts));
    static const char *const ranges[] = {"1d", "7d", "14d", "30d"};
    for (size_t i = 0; i < AK_ARRAY_SIZE(ranges); i++) {
        ak_buf_add(b, "<a href=\"");
        chart_link(b, key);
        ak_buf_addf(b, "&amp;range=%s\">%s</a> ", ranges[i], ranges[i]);
    }
    ak_buf_addf(b, "</p><div class=chart><svg viewBox=\"0 0 %d %d\" role=img "
                   "aria-label=\"chart\" xmlns=\"http://www.w3.org/2000/svg\">",
                CHART_W, CHART_H);
    axes(b, &f, ak_streq(unit, "/s") ? NULL : unit);
    band(b, pts, &f);
    size_t drawn = mean_line(b, pts, &f);
    deploy_marks(b, ak_json_get(q, "deploys"), &f);
    if (!drawn)
        ak_buf_addf(b, "<text x=%d y=%d text-anchor=middle>no data in this range</text>",
                    CHART_W / 2, CHART_H / 2);
    ak_buf_add(b, "</svg></div><p><small>band: min&ndash;max per step; line: mean; dashed red "
                  "lines: deploys &middot; <a href=\"/api/v1/metrics/query?series=");
    url_enc(b, key);
    ak_buf_add(b, "\">JSON</a></small></p></body></html>\n");
    rq->status = 200;
    rq->content_type = "text/html; charset=utf-8";
out:
    ak_json_free(q);
    ak_buf_release(&err);
}
