/* render_digest.c — the daily digest: open records by deadline and what changed since the last
 * one, as an email, a Slack message and a webhook body. */
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "render_int.h"
#include "src/core/ak_banned.h"

#define SLACK_LINE_MAX 400         /* one record or change line */
#define SLACK_RECS_BUDGET 6000     /* all record lines */
#define SLACK_CHANGES_BUDGET 2800  /* all change lines (one section) */
#define MORE_RESERVE 200           /* room kept for the "… and N more" line */

static const struct ak_maint_rec *find_rec(const struct ak_digest *d, int64_t id)
{
    for (size_t i = 0; i < d->n_recs; i++)
        if (d->recs[i].id == id)
            return &d->recs[i];
    return NULL;
}

/* Records with at least one change since since_ms (the "changed" of the subject). */
static size_t n_changed(const struct ak_digest *d)
{
    size_t n = 0;

    for (size_t i = 0; i < d->n_changes; i++) {
        size_t j;
        for (j = 0; j < i; j++)
            if (d->changes[j].rec_id == d->changes[i].rec_id)
                break;
        n += j == i;
    }
    return n;
}

static int64_t when_of(const struct ak_maint_rec *r)
{
    return r->deadline ? r->deadline : r->window_start;
}

/* "Dec 10 02:00 JST (in 12 days)" / "no date yet" */
static void when_text(const struct ak_digest *d, const struct ak_maint_rec *r, struct ak_buf *v)
{
    char local[64], rel[64];
    int64_t w = when_of(r);

    if (!w) {
        ak_buf_add(v, "no date yet");
        return;
    }
    ak__notify_fmt_when(d->tz, w, local, sizeof(local));
    ak_time_fmt_relative(w, d->now_ms, rel, sizeof(rel));
    ak_buf_addf(v, "%s%s (%s)", r->deadline ? "" : "window ", local, rel);
}

static bool rec_important(const struct ak_digest *d, const struct ak_maint_rec *r)
{
    return ak_maint_is_important(NULL, r, d->now_ms, NULL);
}

static bool valid(const struct ak_digest *d)
{
    return d && (d->recs || !d->n_recs) && (d->changes || !d->n_changes);
}

/* ---- email ----------------------------------------------------------------------------- */

struct dbodies {
    struct ak_buf text, html;
};

static void email_rec(struct dbodies *bd, const struct ak_digest *d, const struct ak_maint_rec *r)
{
    struct ak_buf when = AK_BUF_INIT(AK_BUF_NOMAX), head = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf url = AK_BUF_INIT(AK_BUF_NOMAX), st = AK_BUF_INIT(AK_BUF_NOMAX);
    bool imp = rec_important(d, r);

    when_text(d, r, &when);
    ak__notify_headline(r, &head);
    ak__notify_add_line(&st, r->status, 40);
    ak__notify_record_url(d->base_url, r->id, &url);
    ak_buf_addf(&bd->text, "#%-5" PRId64 " %s%s\n       %s — %s\n", r->id, head.buf,
                imp ? "  [important]" : "", when.buf, st.len ? st.buf : "?");
    ak_buf_addf(&bd->html, "<tr><td>#%" PRId64 "</td><td>", r->id);
    ak__notify_html_escape(&bd->html, when.buf);
    ak_buf_add(&bd->html, "</td><td>");
    if (url.len) {
        ak_buf_add(&bd->html, "<a href=\"");
        ak__notify_html_escape(&bd->html, url.buf);
        ak_buf_add(&bd->html, "\">");
    }
    ak__notify_html_escape(&bd->html, head.buf);
    ak_buf_add(&bd->html, url.len ? "</a>" : "");
    ak_buf_add(&bd->html, imp ? " <b>important</b>" : "");
    ak_buf_add(&bd->html, "</td><td>");
    ak__notify_html_escape(&bd->html, st.buf);
    ak_buf_add(&bd->html, "</td></tr>\n");
    ak_buf_release(&when);
    ak_buf_release(&head);
    ak_buf_release(&url);
    ak_buf_release(&st);
}

/* "#42 Nov 26 13:10 JST  Rescheduled: ... — RDS hardware maintenance prod-db-1" */
static void change_line(const struct ak_digest *d, const struct ak_change *ch, struct ak_buf *v)
{
    const struct ak_maint_rec *r = find_rec(d, ch->rec_id);
    char at[64];

    ak__notify_fmt_when(d->tz, ch->at, at, sizeof(at));
    ak_buf_addf(v, "%s  %s", at, ak__notify_change_label(ch->kind));
    if (ch->summary && *ch->summary) {
        ak_buf_add(v, ": ");
        ak__notify_add_line(v, ch->summary, AK_RENDER_FIELD_MAX);
    }
    if (r) {
        ak_buf_add(v, " — ");
        ak__notify_headline(r, v);
    }
}

static void email_changes(struct dbodies *bd, const struct ak_digest *d, const char *since)
{
    size_t n = d->n_changes < AK_RENDER_DIGEST_MAX ? d->n_changes : AK_RENDER_DIGEST_MAX;
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_buf_addf(&bd->text, "\nChanged since %s:\n\n", since);
    ak_buf_add(&bd->html, "<h3>Changed since ");
    ak__notify_html_escape(&bd->html, since);
    ak_buf_add(&bd->html, "</h3>\n<ul>\n");
    if (!d->n_changes) {
        ak_buf_add(&bd->text, "Nothing changed.\n");
        ak_buf_add(&bd->html, "<li>Nothing changed.</li>\n");
    }
    for (size_t i = 0; i < n; i++) {
        ak_buf_reset(&v);
        change_line(d, &d->changes[i], &v);
        ak_buf_addf(&bd->text, "#%-5" PRId64 " %s\n", d->changes[i].rec_id, v.buf);
        ak_buf_addf(&bd->html, "<li>#%" PRId64 " ", d->changes[i].rec_id);
        ak__notify_html_escape(&bd->html, v.buf);
        ak_buf_add(&bd->html, "</li>\n");
    }
    if (n < d->n_changes) {
        ak_buf_addf(&bd->text, "… and %zu more\n", d->n_changes - n);
        ak_buf_addf(&bd->html, "<li>… and %zu more</li>\n", d->n_changes - n);
    }
    ak_buf_add(&bd->html, "</ul>\n");
    ak_buf_release(&v);
}

static void digest_bodies(struct dbodies *bd, const struct ak_digest *d, const char *title,
                          const char *since)
{
    size_t n = d->n_recs < AK_RENDER_DIGEST_MAX ? d->n_recs : AK_RENDER_DIGEST_MAX;

    ak_buf_addf(&bd->text, "%s\n\nOpen maintenance (%zu), by deadline:\n\n", title, d->n_recs);
    ak_buf_add(&bd->html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n"
                          "<h2>");
    ak__notify_html_escape(&bd->html, title);
    ak_buf_addf(&bd->html, "</h2>\n<h3>Open maintenance (%zu), by deadline</h3>\n"
                           "<table cellpadding=\"3\">\n", d->n_recs);
    if (!d->n_recs)
        ak_buf_add(&bd->text, "None.\n");
    for (size_t i = 0; i < n; i++)
        email_rec(bd, d, &d->recs[i]);
    if (n < d->n_recs) {
        ak_buf_addf(&bd->text, "… and %zu more\n", d->n_recs - n);
        ak_buf_addf(&bd->html, "<tr><td colspan=\"4\">… and %zu more</td></tr>\n",
                    d->n_recs - n);
    }
    ak_buf_add(&bd->html, "</table>\n");
    email_changes(bd, d, since);
    ak_buf_add(&bd->text, "\n-- \nasakai maintenance inbox\n");
    ak_buf_add(&bd->html, "<p style=\"color:#888\">asakai maintenance inbox</p>\n</body></html>\n");
}

static void digest_title(const struct ak_digest *d, struct ak_buf *out)
{
    ak_buf_add(out, "Daily maintenance digest — ");
    ak__notify_add_line(out, d->date_label ? d->date_label : "", 64);
}

int ak__notify_digest_email(const struct ak_digest *d, const char *from, const char *const *to,
                            size_t n_to, const char *message_id, struct ak_buf *out)
{
    struct dbodies bd = {AK_BUF_INIT(AK_BUF_NOMAX), AK_BUF_INIT(AK_BUF_NOMAX)};
    struct ak_buf title = AK_BUF_INIT(AK_BUF_NOMAX), subject = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak__notify_mail m = {0};
    char since[64];
    int r = AK_EINVAL;

    if (!valid(d))
        goto out;
    digest_title(d, &title);
    ak_buf_addf(&subject, "[asakai] %s: %zu open, %zu changed", title.buf, d->n_recs,
                n_changed(d));
    ak__notify_fmt_when(d->tz, d->since_ms, since, sizeof(since));
    digest_bodies(&bd, d, title.buf, since);
    m = (struct ak__notify_mail){
        .from = from, .to = to, .n_to = n_to, .subject = subject.buf,
        .message_id = message_id, .date_ms = d->now_ms,
        .xhdr_name = "X-Asakai-Digest", .xhdr_value = d->date_label,
        .text = bd.text.buf, .html = bd.html.buf,
    };
    r = ak__notify_mail_render(&m, out);
out:
    ak_buf_release(&bd.text);
    ak_buf_release(&bd.html);
    ak_buf_release(&title);
    ak_buf_release(&subject);
    return r;
}

/* ---- Slack ----------------------------------------------------------------------------- */

/* Packs lines into sections of at most 3000 units, at most budget units in all. */
struct packer {
    struct ak_json *blocks;
    struct ak_buf cur;
    size_t cur_units, total, budget;
};

static void pack_flush(struct packer *p)
{
    if (!p->cur.len)
        return;
    ak_json_append(p->blocks, ak__notify_slack_section(ak_buf_detach(&p->cur, NULL)));
    p->cur_units = 0;
}

/* false (nothing added) when the line would pass the budget */
static bool pack_line(struct packer *p, const char *line)
{
    size_t u = ak__notify_slack_units(line, strlen(line)) + 1;

    if (p->total + u > p->budget)
        return false;
    if (p->cur_units + u > AK_SLACK_SECTION_MAX)
        pack_flush(p);
    ak_buf_addf(&p->cur, "%s%s", p->cur.len ? "\n" : "", line);
    p->cur_units += u;
    p->total += u;
    return true;
}

static char *slack_rec_line(const struct ak_digest *d, const struct ak_maint_rec *r)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX), w = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf url = AK_BUF_INIT(AK_BUF_NOMAX);
    char *head, *when, *line;

    ak__notify_headline(r, &v);
    head = ak__notify_slack_text(v.buf, true, 200, NULL);
    when_text(d, r, &w);
    when = ak__notify_slack_text(w.buf, true, 100, NULL);
    ak__notify_record_url(d->base_url, r->id, &url);
    if (url.len && url.len < 200)
        line = ak_xasprintf("• <%s|#%" PRId64 "> *%s* — %s%s", url.buf, r->id, when, head,
                            rec_important(d, r) ? " :warning:" : "");
    else
        line = ak_xasprintf("• #%" PRId64 " *%s* — %s%s", r->id, when, head,
                            rec_important(d, r) ? " :warning:" : "");
    free(head);
    free(when);
    ak_buf_release(&v);
    ak_buf_release(&w);
    ak_buf_release(&url);
    return line;
}

static void slack_recs(struct ak_json *blocks, const struct ak_digest *d)
{
    struct packer p = {blocks, AK_BUF_INIT(AK_BUF_NOMAX), 0, 0, SLACK_RECS_BUDGET - MORE_RESERVE};
    size_t i;

    for (i = 0; i < d->n_recs; i++) {
        char *line = slack_rec_line(d, &d->recs[i]);
        bool ok = pack_line(&p, line);
        free(line);
        if (!ok)
            break;
    }
    if (i < d->n_recs) {
        struct ak_buf more = AK_BUF_INIT(AK_BUF_NOMAX);
        p.budget += MORE_RESERVE;
        ak_buf_addf(&more, "… and %zu more", d->n_recs - i);
        if (d->base_url && *d->base_url && strlen(d->base_url) < 120)
            ak_buf_addf(&more, " (<%s/api/v1/maintenance|all in asakai>)", d->base_url);
        pack_line(&p, more.buf);
        ak_buf_release(&more);
    }
    if (!d->n_recs)
        pack_line(&p, "No open maintenance.");
    pack_flush(&p);
    ak_buf_release(&p.cur);
}

static void slack_changes(struct ak_json *blocks, const struct ak_digest *d, const char *since)
{
    struct packer p = {blocks, AK_BUF_INIT(AK_BUF_NOMAX), 0, 0,
                       SLACK_CHANGES_BUDGET - MORE_RESERVE};
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t i;

    ak_buf_addf(&v, "*Changed since %s*", since);
    pack_line(&p, v.buf);
    for (i = 0; i < d->n_changes; i++) {
        char *t;
        bool ok;
        ak_buf_reset(&v);
        change_line(d, &d->changes[i], &v);
        t = ak__notify_slack_text(v.buf, true, SLACK_LINE_MAX, NULL);
        ak_buf_reset(&v);
        ak_buf_addf(&v, "• #%" PRId64 " %s", d->changes[i].rec_id, t);
        free(t);
        ok = pack_line(&p, v.buf);
        if (!ok)
            break;
    }
    ak_buf_reset(&v);
    p.budget += MORE_RESERVE;
    if (i < d->n_changes)
        ak_buf_addf(&v, "… and %zu more", d->n_changes - i);
    else if (!d->n_changes)
        ak_buf_add(&v, "Nothing changed.");
    if (v.len)
        pack_line(&p, v.buf);
    pack_flush(&p);
    ak_buf_release(&p.cur);
    ak_buf_release(&v);
}

int ak__notify_digest_slack(const struct ak_digest *d, const char *channel, struct ak_buf *out)
{
    struct ak_buf title = AK_BUF_INIT(AK_BUF_NOMAX), v = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *j = NULL, *blocks;
    char since[64], *t;
    int r = AK_EINVAL;

    if (!valid(d))
        goto out;
    digest_title(d, &title);
    ak__notify_fmt_when(d->tz, d->since_ms, since, sizeof(since));
    j = ak_json_new_obj();
    ak__notify_slack_envelope(j, channel, NULL);
    ak_buf_addf(&v, "[asakai] %s: %zu open, %zu changed", title.buf, d->n_recs, n_changed(d));
    ak_json_set(j, "text", ak_json_new_str(t = ak__notify_slack_text(v.buf, true,
                                                                     AK_SLACK_FALLBACK_MAX, NULL)));
    free(t);
    blocks = ak_json_new_arr();
    ak_json_append(blocks, ak__notify_slack_header(title.buf));
    ak_buf_reset(&v);
    ak_buf_addf(&v, "*%zu open*, *%zu changed* since %s", d->n_recs, n_changed(d), since);
    ak_json_append(blocks, ak__notify_slack_section(ak__notify_slack_text(v.buf, false, 200,
                                                                          NULL)));
    slack_recs(blocks, d);
    slack_changes(blocks, d, since);
    ak_json_set(j, "blocks", blocks);
    r = ak__notify_json_into(j, out);
out:
    ak_json_free(j);
    ak_buf_release(&title);
    ak_buf_release(&v);
    return r;
}

/* ---- webhook --------------------------------------------------------------------------- */

int ak__notify_digest_webhook(const struct ak_digest *d, struct ak_buf *out)
{
    struct ak_json *j = NULL, *recs, *chs;
    int r = AK_EINVAL;

    if (!valid(d))
        goto out;
    j = ak_json_new_obj();
    ak_json_set_str(j, "version", "1");
    ak_json_set_str(j, "type", "digest");
    ak_json_set_str(j, "date", d->date_label);
    ak_json_set_time(j, "since", d->since_ms);
    ak_json_set_time(j, "generated_at", d->now_ms);
    recs = ak_json_new_arr();
    for (size_t i = 0; i < d->n_recs; i++)
        ak_json_append(recs, ak_maint_rec_json(NULL, &d->recs[i], d->now_ms));
    ak_json_set(j, "records", recs);
    chs = ak_json_new_arr();
    for (size_t i = 0; i < d->n_changes; i++)
        ak_json_append(chs, ak__notify_change_json(&d->changes[i], true));
    ak_json_set(j, "changes", chs);
    r = ak__notify_json_into(j, out);
out:
    ak_json_free(j);
    return r;
}
