/* render.c — the morning report as Markdown and as one self-contained HTML page.
 *
 * Renders only what ak_report_build put in the JSON (human times are already there), so the
 * same report reads the same in the CLI, the API, the email and the dashboard. Everything that
 * came from outside (titles, AWS's words, policy paths) is escaped for the output format: the
 * HTML has no script and no external resource, and a title cannot open a tag or a link.
 */
#include "asakai/ak_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "report_int.h"
#include "../core/ak_banned.h"

#define LIST_MAX 200  /* items shown per quadrant or section; the rest is counted */
#define FIELD_MAX 2000

/* ---- shared ------------------------------------------------------------------------------ */

static bool valid(const struct ak_json *rep)
{
    return ak_json_is_obj(ak_json_get(rep, "quadrants")) &&
           ak_json_is_obj(ak_json_get(rep, "sections"));
}

static const char *s_or(const struct ak_json *o, const char *k, const char *def)
{
    const char *s = ak_json_get_str(o, k);
    return s && *s ? s : def;
}

static int q_index(const char *key)
{
    for (int i = 0; i < AK__REPORT_NQ; i++)
        if (ak_streq(key, ak__report_q_keys[i]))
            return i;
    return AK__REPORT_NQ - 1;
}

/* "#12" for records; "" for the rest (their detail says what they are). */
static void ref_of(const struct ak_json *it, char *buf, size_t n)
{
    const struct ak_json *id = ak_json_get(it, "id");
    buf[0] = 0;
    if (ak_json_is_int(id))
        snprintf(buf, n, "#%" PRId64, ak_json_int(id));
}

/* ---- Markdown ---------------------------------------------------------------------------- */

/* s on one line with Markdown's active characters escaped (a title cannot become a link, an
 * emphasis run or a heading), at most FIELD_MAX bytes. */
static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void md_text(struct ak_buf *b, const char *s)
{
    size_t n = 0;
    for (const char *p = s; p && *p && n < FIELD_MAX; p++, n++) {
        unsigned char c = (unsigned char)*p;
        /* an underscore inside a word never emphasises (CommonMark): report.urgent_within
         * stays readable in the plain-text email */
        bool inword = c == '_' && p > s && alnum(p[-1]) && alnum(p[1]);
        if (c < 0x20 || c == 0x7f)
            ak_buf_addc(b, ' ');
        else if (c && strchr("\\`*_[]<>|~", c) && !inword)
            ak_buf_addf(b, "\\%c", c);
        else
            ak_buf_addc(b, (char)c);
    }
}

static void md_item(struct ak_buf *b, const struct ak_json *it, bool with_q)
{
    char ref[32];
    const char *owner = ak_json_get_str(it, "owner"), *when = ak_json_get_str(it, "when");
    const char *detail = ak_json_get_str(it, "detail");

    ref_of(it, ref, sizeof(ref));
    ak_buf_add(b, "- ");
    if (with_q)
        ak_buf_addf(b, "`%s` ", ak__report_q_keys[q_index(ak_json_get_str(it, "quadrant"))]);
    ak_buf_add(b, "**");
    if (owner) {
        ak_buf_add(b, "\\[");
        md_text(b, owner);
        ak_buf_add(b, "\\] ");
    }
    md_text(b, s_or(it, "title", "(untitled)"));
    ak_buf_add(b, "**");
    if (when) {
        ak_buf_add(b, " — due ");
        md_text(b, when);
    }
    if (*ref)
        ak_buf_addf(b, " — %s", ref);
    if (detail && *detail) {
        ak_buf_add(b, " — ");
        md_text(b, detail);
    }
    ak_buf_add(b, "\n");
    if (!with_q) {
        ak_buf_add(b, "  - why: ");
        md_text(b, s_or(it, "why", "?"));
        ak_buf_add(b, "\n");
    }
}

static void md_list(struct ak_buf *b, const struct ak_json *arr, bool with_q)
{
    size_t n = ak_json_len(arr);
    if (!n)
        ak_buf_add(b, "- nothing\n");
    for (size_t i = 0; i < n && i < LIST_MAX; i++)
        md_item(b, ak_json_at(arr, i), with_q);
    if (n > LIST_MAX)
        ak_buf_addf(b, "- … and %zu more\n", n - LIST_MAX);
}

int ak_report_render_md(const struct ak_json *rep, struct ak_buf *out)
{
    const struct ak_json *quads = ak_json_get(rep, "quadrants");
    const struct ak_json *secs = ak_json_get(rep, "sections"), *counts = ak_json_get(rep, "counts");
    const struct ak_json *rules = ak_json_get(rep, "rules");
    const struct ak_json *qrules = ak_json_get(rules, "quadrants");
    const struct ak_json *warns = ak_json_get(rep, "warnings");

    if (!valid(rep) || !out)
        return AK_EINVAL;
    ak_buf_add(out, "# Morning report — ");
    md_text(out, s_or(rep, "date_label", s_or(rep, "date", "?")));
    ak_buf_add(out, "\n\nAs of ");
    md_text(out, s_or(rep, "generated_local", s_or(rep, "generated_at", "?")));
    ak_buf_add(out, " (");
    md_text(out, s_or(rep, "tz", "UTC"));
    ak_buf_add(out, "):");
    for (int i = 0; i < AK__REPORT_NQ; i++)
        ak_buf_addf(out, "%s %s %" PRId64, i ? "," : "", ak__report_q_titles[i],
                    ak_json_int(ak_json_get(counts, ak__report_q_keys[i])));
    ak_buf_add(out, ".\nUrgent means due within ");
    md_text(out, s_or(rules, "urgent_within", "?"));
    ak_buf_add(out, " (report.urgent_within); the horizon is ");
    md_text(out, s_or(rules, "horizon", "?"));
    ak_buf_add(out, " (report.horizon).\n");
    for (int i = 0; i < AK__REPORT_NQ; i++) {
        const struct ak_json *a = ak_json_get(quads, ak__report_q_keys[i]);
        ak_buf_addf(out, "\n## %s — %s (%zu)\n\n", ak__report_q_titles[i], ak__report_q_axes[i],
                    ak_json_len(a));
        if (ak_json_get_str(qrules, ak__report_q_keys[i])) {
            ak_buf_add(out, "Rule: ");
            md_text(out, ak_json_get_str(qrules, ak__report_q_keys[i]));
            ak_buf_add(out, "\n\n");
        }
        md_list(out, a, false);
    }
    ak_buf_add(out, "\n---\n");
    for (int i = 0; i < AK__REPORT_NSEC; i++) {
        const struct ak_json *a = ak_json_get(secs, ak__report_sec_keys[i]);
        ak_buf_addf(out, "\n## %s (%zu)\n\n", ak__report_sec_titles[i], ak_json_len(a));
        md_list(out, a, true);
    }
    if (ak_json_len(warns)) {
        ak_buf_add(out, "\n## Warnings\n\n");
        for (size_t i = 0; i < ak_json_len(warns); i++) {
            ak_buf_add(out, "- ");
            md_text(out, ak_json_str(ak_json_at(warns, i)));
            ak_buf_add(out, "\n");
        }
    }
    /* the trailer fits only when nothing before it passed the buffer's cap */
    return ak_buf_add(out, "\n-- \nasakai morning report\n") < 0 ? AK_ETOOBIG : AK_OK;
}

/* ---- HTML -------------------------------------------------------------------------------- */

static void esc(struct ak_buf *b, const char *s)
{
    size_t n = 0;
    for (; s && *s && n < FIELD_MAX; s++, n++) {
        switch (*s) {
        case '<': ak_buf_add(b, "&lt;"); break;
        case '>': ak_buf_add(b, "&gt;"); break;
        case '&': ak_buf_add(b, "&amp;"); break;
        case '"': ak_buf_add(b, "&quot;"); break;
        case '\'': ak_buf_add(b, "&#39;"); break;
        default: ak_buf_addc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
        }
    }
}

/* Only our own API paths become links (never a scheme a title could smuggle in). */
static bool safe_link(const char *l)
{
    return l && l[0] == '/' && l[1] != '/' && strspn(l, "abcdefghijklmnopqrstuvwxyz"
                                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.")
                                                  == strlen(l);
}

static const char css[] =
    ".ak-matrix{border-collapse:separate;border-spacing:8px;width:100%;table-layout:fixed}"
    ".ak-matrix th{font-size:12px;color:#666;font-weight:normal;text-align:center;padding:2px}"
    ".ak-matrix th.ak-row{width:7em;text-align:right}"
    ".ak-q{vertical-align:top;padding:10px 12px;border-radius:6px;border:1px solid #ddd}"
    ".ak-q-do-now{background:#fdecea;border-color:#f5b7b1}.ak-q-plan{background:#e8f1fd}"
    ".ak-q-delegate{background:#fff6e0}.ak-q-note{background:#f4f4f4}"
    ".ak-q h2{font-size:16px;margin:0 0 2px}.ak-q .ak-count{color:#666;font-weight:normal}"
    ".ak-rule{font-size:12px;color:#555;margin:0 0 8px}"
    ".ak-q ul,.ak-sec ul{margin:0;padding-left:18px}.ak-item{margin:0 0 6px}"
    ".ak-when{white-space:nowrap;color:#333}.ak-why{font-size:12px;color:#444}"
    ".ak-detail{font-size:12px;color:#666}.ak-tag{font:11px monospace;background:#eee;"
    "padding:0 3px;border-radius:3px}.ak-none{color:#999}";

static void html_item(struct ak_buf *b, const struct ak_json *it, bool with_q)
{
    const char *kind = s_or(it, "kind", "item"), *link = ak_json_get_str(it, "link");
    const char *owner = ak_json_get_str(it, "owner"), *when = ak_json_get_str(it, "when");
    const char *detail = ak_json_get_str(it, "detail");
    char ref[32];

    ref_of(it, ref, sizeof(ref));
    ak_buf_add(b, "<li class=\"ak-item ak-");
    esc(b, kind);
    ak_buf_add(b, "\">");
    if (with_q)
        ak_buf_addf(b, "<span class=\"ak-tag\">%s</span> ",
                    ak__report_q_keys[q_index(ak_json_get_str(it, "quadrant"))]);
    if (owner) {
        ak_buf_add(b, "[");
        esc(b, owner);
        ak_buf_add(b, "] ");
    }
    if (safe_link(link)) {
        ak_buf_add(b, "<a href=\"");
        esc(b, link);
        ak_buf_add(b, "\">");
    }
    ak_buf_add(b, "<b class=\"ak-title\">");
    esc(b, s_or(it, "title", "(untitled)"));
    ak_buf_add(b, safe_link(link) ? "</b></a>" : "</b>");
    if (*ref)
        ak_buf_addf(b, " %s", ref);
    if (when) {
        ak_buf_add(b, " <span class=\"ak-when\">due ");
        esc(b, when);
        ak_buf_add(b, "</span>");
    }
    if (detail && *detail) {
        ak_buf_add(b, "<div class=\"ak-detail\">");
        esc(b, detail);
        ak_buf_add(b, "</div>");
    }
    if (!with_q) {
        ak_buf_add(b, "<div class=\"ak-why\">why: ");
        esc(b, s_or(it, "why", "?"));
        ak_buf_add(b, "</div>");
    }
    ak_buf_add(b, "</li>\n");
}

static void html_list(struct ak_buf *b, const struct ak_json *arr, bool with_q)
{
    size_t n = ak_json_len(arr);
    ak_buf_add(b, "<ul>\n");
    if (!n)
        ak_buf_add(b, "<li class=\"ak-none\">nothing</li>\n");
    for (size_t i = 0; i < n && i < LIST_MAX; i++)
        html_item(b, ak_json_at(arr, i), with_q);
    if (n > LIST_MAX)
        ak_buf_addf(b, "<li class=\"ak-none\">… and %zu more</li>\n", n - LIST_MAX);
    ak_buf_add(b, "</ul>\n");
}

static void html_quadrant(struct ak_buf *b, const struct ak_json *rep, int i)
{
    const char *key = ak__report_q_keys[i];
    const struct ak_json *a = ak_json_get(ak_json_get(rep, "quadrants"), key);
    const char *rule = ak_json_get_str(ak_json_get(ak_json_get(rep, "rules"), "quadrants"), key);

    ak_buf_addf(b, "<td class=\"ak-q ak-q-%s\" id=\"%s\" data-quadrant=\"%s\" data-count=\"%zu\">"
                   "<h2>%s <span class=\"ak-count\">(%zu)</span></h2>",
                key, key, key, ak_json_len(a), ak__report_q_titles[i], ak_json_len(a));
    ak_buf_add(b, "<p class=\"ak-rule\">");
    esc(b, rule ? rule : ak__report_q_axes[i]); /* a rule starts with its axis words */
    ak_buf_add(b, "</p>\n");
    html_list(b, a, false);
    ak_buf_add(b, "</td>\n");
}

int ak_report_render_matrix(const struct ak_json *rep, struct ak_buf *out)
{
    if (!valid(rep) || !out)
        return AK_EINVAL;
    ak_buf_addf(out, "<style>%s</style>\n", css);
    ak_buf_add(out, "<table class=\"ak-matrix\"><tr><th class=\"ak-row\"></th><th>urgent</th>"
                    "<th>not urgent</th></tr>\n<tr><th class=\"ak-row\">important</th>\n");
    html_quadrant(out, rep, 0);
    html_quadrant(out, rep, 1);
    ak_buf_add(out, "</tr>\n<tr><th class=\"ak-row\">less important</th>\n");
    html_quadrant(out, rep, 2);
    html_quadrant(out, rep, 3);
    return ak_buf_add(out, "</tr></table>\n") < 0 ? AK_ETOOBIG : AK_OK;
}

int ak_report_render_html(const struct ak_json *rep, struct ak_buf *out)
{
    const struct ak_json *secs = ak_json_get(rep, "sections"), *rules = ak_json_get(rep, "rules");
    const struct ak_json *warns = ak_json_get(rep, "warnings");

    if (!valid(rep) || !out)
        return AK_EINVAL;
    ak_buf_add(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\"><title>Morning report — ");
    esc(out, s_or(rep, "date_label", s_or(rep, "date", "?")));
    ak_buf_add(out, "</title><style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}"
                    ".ak-sec h2{font-size:16px;margin:1.2em 0 .4em}.ak-meta{color:#555}</style>"
                    "</head><body>\n<h1>Morning report — ");
    esc(out, s_or(rep, "date_label", s_or(rep, "date", "?")));
    ak_buf_add(out, "</h1>\n<p class=\"ak-meta\">As of ");
    esc(out, s_or(rep, "generated_local", s_or(rep, "generated_at", "?")));
    ak_buf_add(out, " (");
    esc(out, s_or(rep, "tz", "UTC"));
    ak_buf_add(out, "). Urgent means due within ");
    esc(out, s_or(rules, "urgent_within", "?"));
    ak_buf_add(out, " (report.urgent_within); the horizon is ");
    esc(out, s_or(rules, "horizon", "?"));
    ak_buf_add(out, " (report.horizon).</p>\n");
    int r = ak_report_render_matrix(rep, out);
    if (r < 0)
        return r;
    for (int i = 0; i < AK__REPORT_NSEC; i++) {
        const struct ak_json *a = ak_json_get(secs, ak__report_sec_keys[i]);
        ak_buf_addf(out, "<section class=\"ak-sec\" id=\"sec-%s\"><h2>%s (%zu)</h2>\n",
                    ak__report_sec_keys[i], ak__report_sec_titles[i], ak_json_len(a));
        html_list(out, a, true);
        ak_buf_add(out, "</section>\n");
    }
    if (ak_json_len(warns)) {
        ak_buf_add(out, "<section class=\"ak-sec\" id=\"sec-warnings\"><h2>Warnings</h2><ul>\n");
        for (size_t i = 0; i < ak_json_len(warns); i++) {
            ak_buf_add(out, "<li>");
            esc(out, ak_json_str(ak_json_at(warns, i)));
            ak_buf_add(out, "</li>\n");
        }
        ak_buf_add(out, "</ul></section>\n");
    }
    return ak_buf_add(out, "<p class=\"ak-meta\">asakai morning report</p>\n</body></html>\n") < 0
               ? AK_ETOOBIG : AK_OK;
}
