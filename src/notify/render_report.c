/* render_report.c — the morning report as the daily digest (email, Slack, webhook), and the
 * runbook step reminders.
 *
 * The report itself is built and rendered above notify (src/report, through the hook of
 * ak_notify_set_report); here it is only wrapped for each receiver: the email carries the
 * report's Markdown as its text part and its HTML page as the HTML part, Slack gets a short
 * summary (Slack caps a message far below a report's size), webhooks the report's JSON. */
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "render_int.h"
#include "src/core/ak_banned.h"

#define SLACK_ITEM_MAX 600     /* one do-now line */
#define SLACK_ITEMS_BUDGET 7000
#define SLACK_ITEMS_MAX 30

static const char *const qkeys[4] = {"do-now", "plan", "delegate", "note"};
static const char *const qnames[4] = {"do now", "plan", "delegate", "note"};

static int64_t count_of(const struct ak_json *rep, int i)
{
    return ak_json_int(ak_json_get(ak_json_get(rep, "counts"), qkeys[i]));
}

/* "Morning report — 2026-12-01 (Tue): 2 do now, 3 plan, 1 delegate, 4 note" */
static void report_title(const struct ak_report_msg *m, struct ak_buf *out, bool counts)
{
    const char *label = ak_json_get_str(m->report, "date_label");
    ak_buf_add(out, "Morning report — ");
    ak__notify_add_line(out, label ? label : m->date ? m->date : "", 64);
    for (int i = 0; counts && i < 4; i++)
        ak_buf_addf(out, "%s%" PRId64 " %s", i ? ", " : ": ", count_of(m->report, i), qnames[i]);
}

static bool report_valid(const struct ak_report_msg *m)
{
    return m && m->md && m->html && ak_json_is_obj(m->report);
}

int ak__notify_report_email(const struct ak_report_msg *m, const char *from,
                            const char *const *to, size_t n_to, const char *message_id,
                            struct ak_buf *out)
{
    struct ak_buf subject = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    if (!report_valid(m))
        return AK_EINVAL;
    ak_buf_add(&subject, "[asakai] ");
    report_title(m, &subject, true);
    struct ak__notify_mail mail = {
        .from = from, .to = to, .n_to = n_to, .subject = subject.buf,
        .message_id = message_id, .date_ms = m->now_ms,
        .xhdr_name = "X-Asakai-Digest", .xhdr_value = ak_json_get_str(m->report, "date"),
        .text = m->md, .html = m->html,
    };
    r = ak__notify_mail_render(&mail, out);
    ak_buf_release(&subject);
    return r;
}

/* "• *title* — due Dec 3 02:00 JST (in 2 days)\n    _why_" within SLACK_ITEM_MAX units. */
static char *slack_item(const struct ak_json *it)
{
    const char *owner = ak_json_get_str(it, "owner"), *when = ak_json_get_str(it, "when");
    struct ak_buf head = AK_BUF_INIT(AK_BUF_NOMAX);
    char *t, *w, *why, *line;

    if (owner)
        ak_buf_addf(&head, "[%.40s] ", owner);
    ak_buf_add(&head, ak_json_get_str(it, "title") ? ak_json_get_str(it, "title") : "?");
    t = ak__notify_slack_text(head.buf, true, 200, NULL);
    w = ak__notify_slack_text(when ? when : "", true, 80, NULL);
    why = ak__notify_slack_text(ak_json_get_str(it, "why") ? ak_json_get_str(it, "why") : "",
                                true, SLACK_ITEM_MAX - 300, NULL);
    line = ak_xasprintf("• *%s*%s%s\n      _%s_", t, *w ? " — due " : "", w, why);
    free(t);
    free(w);
    free(why);
    ak_buf_release(&head);
    return line;
}

static void slack_do_now(struct ak_json *blocks, const struct ak_json *rep)
{
    const struct ak_json *a = ak_json_get(ak_json_get(rep, "quadrants"), "do-now");
    struct ak_buf cur = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t units = 0, total = 0, i;

    ak_buf_add(&cur, "*Do now*");
    units = 8;
    for (i = 0; i < ak_json_len(a) && i < SLACK_ITEMS_MAX; i++) {
        char *line = slack_item(ak_json_at(a, i));
        size_t u = ak__notify_slack_units(line, strlen(line)) + 1;
        if (total + u > SLACK_ITEMS_BUDGET) {
            free(line);
            break;
        }
        if (units + u > AK_SLACK_SECTION_MAX - 100) {
            ak_json_append(blocks, ak__notify_slack_section(ak_buf_detach(&cur, NULL)));
            units = 0;
        }
        ak_buf_addf(&cur, "%s%s", cur.len ? "\n" : "", line);
        units += u;
        total += u;
        free(line);
    }
    if (!ak_json_len(a))
        ak_buf_add(&cur, "\nNothing urgent and important today.");
    else if (i < ak_json_len(a))
        ak_buf_addf(&cur, "\n… and %zu more in the full report", ak_json_len(a) - i);
    ak_json_append(blocks, ak__notify_slack_section(ak_buf_detach(&cur, NULL)));
    ak_buf_release(&cur);
}

int ak__notify_report_slack(const struct ak_report_msg *m, const char *channel,
                            struct ak_buf *out)
{
    struct ak_buf title = AK_BUF_INIT(AK_BUF_NOMAX), v = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *j, *blocks;
    char *t;
    int r;

    if (!report_valid(m))
        return AK_EINVAL;
    j = ak_json_new_obj();
    ak__notify_slack_envelope(j, channel, NULL);
    ak_buf_add(&v, "[asakai] ");
    report_title(m, &v, true);
    ak_json_set(j, "text", ak_json_new_str(t = ak__notify_slack_text(v.buf, true,
                                                                     AK_SLACK_FALLBACK_MAX, NULL)));
    free(t);
    blocks = ak_json_new_arr();
    report_title(m, &title, false);
    ak_json_append(blocks, ak__notify_slack_header(title.buf));
    ak_buf_reset(&v);
    for (int i = 0; i < 4; i++)
        ak_buf_addf(&v, "%s*%s* %" PRId64, i ? "  ·  " : "", qnames[i], count_of(m->report, i));
    ak_json_append(blocks, ak__notify_slack_section(ak_buf_detach(&v, NULL)));
    slack_do_now(blocks, m->report);
    ak_json_append(blocks, ak__notify_slack_context(ak_xstrdup(
                               "Full report: `asakai report daily` or GET /api/v1/report"
                               "?format=html")));
    ak_json_set(j, "blocks", blocks);
    r = ak__notify_json_into(j, out);
    ak_json_free(j);
    ak_buf_release(&title);
    ak_buf_release(&v);
    return r;
}

int ak__notify_report_webhook(const struct ak_report_msg *m, struct ak_buf *out)
{
    struct ak_json *j;
    int r;

    if (!report_valid(m))
        return AK_EINVAL;
    j = ak_json_new_obj();
    ak_json_set_str(j, "version", "1");
    ak_json_set_str(j, "type", "report");
    ak_json_set_str(j, "date", ak_json_get_str(m->report, "date"));
    ak_json_set_time(j, "generated_at", m->now_ms);
    ak_json_set(j, "report", ak_json_ref((struct ak_json *)m->report));
    r = ak__notify_json_into(j, out);
    ak_json_free(j);
    return r;
}

/* ---- runbook step reminders ----------------------------------------------------------- */

static bool step_valid(const struct ak_step_msg *m)
{
    return m && m->rb && m->step && m->step->title;
}

int ak__notify_step_subject(const struct ak_step_msg *m, struct ak_buf *out)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    char when[64];
    size_t cut;

    if (!step_valid(m))
        return AK_EINVAL;
    ak__notify_fmt_when(m->tz, m->step->due_at, when, sizeof(when));
    ak_buf_add(&b, "[");
    ak__notify_add_line(&b, m->step->owner ? m->step->owner : "?", 40);
    ak_buf_add(&b, "] ");
    if (m->step->due_at < m->now_ms)
        ak_buf_add(&b, "OVERDUE: ");
    ak__notify_add_line(&b, m->step->title, AK_RENDER_FIELD_MAX);
    ak_buf_addf(&b, " — due %s, runbook #%" PRId64, when, m->rb->id);
    if (m->rb->title) {
        ak_buf_addc(&b, ' ');
        ak__notify_add_line(&b, m->rb->title, AK_RENDER_FIELD_MAX);
    }
    cut = ak__notify_utf8_cut(b.buf, b.len, AK_RENDER_SUBJECT_MAX);
    int r = ak_buf_addn(out, b.buf, cut);
    if (r == AK_OK && cut < b.len)
        r = ak_buf_add(out, "…");
    ak_buf_release(&b);
    return r;
}

int ak__notify_step_email(const struct ak_step_msg *m, const char *from, const char *const *to,
                          size_t n_to, const char *message_id, struct ak_buf *out)
{
    struct ak_buf subject = AK_BUF_INIT(AK_BUF_NOMAX), text = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf html = AK_BUF_INIT(AK_BUF_NOMAX);
    char when[64], rel[64], utc[AK_TIME_RFC3339_LEN], rbid[32];
    int r = ak__notify_step_subject(m, &subject);

    if (r < 0)
        goto out;
    ak__notify_fmt_when(m->tz, m->step->due_at, when, sizeof(when));
    ak_time_fmt_relative(m->step->due_at, m->now_ms, rel, sizeof(rel));
    ak_time_fmt_rfc3339(m->step->due_at, utc, sizeof(utc));
    ak_buf_add(&text, subject.buf);
    ak_buf_addf(&text, "\n\nDue:     %s (%s; %s)\nOwner:   ", when, rel, utc);
    ak__notify_add_line(&text, m->step->owner, 64);
    ak_buf_add(&text, "\nStep:    ");
    ak__notify_add_line(&text, m->step->step_id, 80);
    ak_buf_add(&text, " (");
    ak__notify_add_line(&text, m->step->type, 20);
    ak_buf_addf(&text, ")\nRunbook: #%" PRId64 " ", m->rb->id);
    ak__notify_add_line(&text, m->rb->title, AK_RENDER_FIELD_MAX);
    ak_buf_add(&text, "\n\n");
    if (m->step->body && *m->step->body) {
        size_t n = ak__notify_utf8_cut(m->step->body, strlen(m->step->body), AK_RENDER_DESC_MAX);
        ak_buf_addn(&text, m->step->body, n);
        ak_buf_add(&text, "\n\n");
    }
    ak_buf_addf(&text, "When it is done: asakai runbook done %" PRId64 " ", m->rb->id);
    ak__notify_add_line(&text, m->step->step_id, 80);
    ak_buf_add(&text, "\n");
    ak_buf_add(&html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n<pre>");
    ak__notify_html_escape(&html, text.buf);
    ak_buf_add(&html, "</pre>\n</body></html>\n");
    snprintf(rbid, sizeof(rbid), "%" PRId64, m->rb->id);
    struct ak__notify_mail mail = {
        .from = from, .to = to, .n_to = n_to, .subject = subject.buf,
        .message_id = message_id, .date_ms = m->now_ms,
        .xhdr_name = "X-Asakai-Runbook", .xhdr_value = rbid,
        .text = text.buf, .html = html.buf,
    };
    r = ak__notify_mail_render(&mail, out);
out:
    ak_buf_release(&subject);
    ak_buf_release(&text);
    ak_buf_release(&html);
    return r;
}

int ak__notify_step_slack(const struct ak_step_msg *m, const char *channel, struct ak_buf *out)
{
    struct ak_buf subject = AK_BUF_INIT(AK_BUF_NOMAX), v = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *j = NULL, *blocks;
    char *t;
    int r = ak__notify_step_subject(m, &subject);

    if (r < 0)
        goto out;
    j = ak_json_new_obj();
    ak__notify_slack_envelope(j, channel, NULL);
    ak_json_set(j, "text", ak_json_new_str(t = ak__notify_slack_text(subject.buf, true,
                                                                     AK_SLACK_FALLBACK_MAX, NULL)));
    free(t);
    blocks = ak_json_new_arr();
    t = ak__notify_slack_text(subject.buf, true, AK_SLACK_SECTION_MAX - 10, NULL);
    ak_json_append(blocks, ak__notify_slack_section(ak_xasprintf(":alarm_clock: %s", t)));
    free(t);
    if (m->step->body && *m->step->body)
        ak_json_append(blocks, ak__notify_slack_section(
                                   ak__notify_slack_text(m->step->body, true, 1500, NULL)));
    ak_buf_addf(&v, "When it is done: asakai runbook done %" PRId64 " ", m->rb->id);
    ak__notify_add_line(&v, m->step->step_id, 80);
    ak_json_append(blocks, ak__notify_slack_context(ak__notify_slack_text(v.buf, true, 300,
                                                                          NULL)));
    ak_json_set(j, "blocks", blocks);
    r = ak__notify_json_into(j, out);
out:
    ak_json_free(j);
    ak_buf_release(&subject);
    ak_buf_release(&v);
    return r;
}

int ak__notify_step_webhook(const struct ak_step_msg *m, struct ak_buf *out)
{
    struct ak_buf subject = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *j = NULL, *rb, *st;
    int r = ak__notify_step_subject(m, &subject);

    if (r < 0)
        goto out;
    j = ak_json_new_obj();
    ak_json_set_str(j, "version", "1");
    ak_json_set_str(j, "type", "runbook-step");
    ak_json_set_str(j, "summary", subject.buf);
    rb = ak_json_new_obj();
    ak_json_set_int(rb, "id", m->rb->id);
    ak_json_set_str(rb, "title", m->rb->title);
    ak_json_set_str(rb, "template", m->rb->template_name);
    ak_json_set_str(rb, "owner", m->rb->owner);
    ak_json_set_time(rb, "at", m->rb->at_ms);
    ak_json_set(j, "runbook", rb);
    st = ak_json_new_obj();
    ak_json_set_str(st, "id", m->step->step_id);
    ak_json_set_str(st, "title", m->step->title);
    ak_json_set_str(st, "owner", m->step->owner);
    ak_json_set_str(st, "type", m->step->type);
    ak_json_set_str(st, "state", m->step->state);
    ak_json_set_time(st, "due", m->step->due_at);
    ak_json_set(j, "step", st);
    r = ak__notify_json_into(j, out);
out:
    ak_json_free(j);
    ak_buf_release(&subject);
    return r;
}
