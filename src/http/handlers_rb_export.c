/* handlers_rb_export.c — GET /api/v1/runbooks/ID/export?format=md|ics: the dated procedure as a
 * Markdown document a person follows, and its deadlines as an iCalendar file (RFC 5545) for the
 * team calendar: one VEVENT per step, CRLF line endings, lines folded at 75 octets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_runbook.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define ICS_LINE_MAX 75

struct rb_doc {
    struct ak_rb_instance rb;
    struct ak_rb_step_row *steps;
    size_t n_steps;
    struct ak_rb_event *events;
    size_t n_events;
    struct ak_rb_template t;
    bool have_t;
    struct ak_tz *tz;
};

static void rb_doc_release(struct rb_doc *d)
{
    ak_rb_instance_release(&d->rb);
    for (size_t i = 0; i < d->n_steps; i++)
        ak_rb_step_row_release(&d->steps[i]);
    free(d->steps);
    for (size_t i = 0; i < d->n_events; i++)
        ak_rb_event_release(&d->events[i]);
    free(d->events);
    ak_rb_template_release(&d->t);
    ak_tz_free(d->tz);
}

static int rb_doc_load(struct ak_store *st, int64_t id, struct rb_doc *d)
{
    int r = ak_store_rb_get(st, id, &d->rb);

    if (r == AK_OK)
        r = ak_store_rb_steps(st, id, &d->steps, &d->n_steps);
    if (r == AK_OK)
        r = ak_store_rb_events(st, id, &d->events, &d->n_events);
    if (r < 0)
        return r;
    ak_tz_load(d->rb.tz, NULL, &d->tz, NULL);
    if (d->rb.template_text)
        d->have_t = ak_runbook_parse(d->rb.template_name, d->rb.template_text,
                                     strlen(d->rb.template_text), &d->t, NULL) == AK_OK;
    return AK_OK;
}

/* ---- Markdown ------------------------------------------------------------------------------ */

static void md_step(struct ak_buf *b, const struct rb_doc *d, size_t i)
{
    const struct ak_rb_step_row *s = &d->steps[i];
    char due[64], utc[AK_TIME_RFC3339_LEN], done[64];
    bool is_done = ak_streq(s->state, "done");

    ak__http_rb_fmt_human(d->tz, s->due_at, due, sizeof(due));
    ak_time_fmt_rfc3339(s->due_at, utc, sizeof(utc));
    ak_buf_addf(b, "\n## %zu. %s\n\n", i + 1, s->title ? s->title : s->step_id);
    ak_buf_addf(b, "- [%c] **%s** `%s` — owner **%s**, due **%s** (%s)\n", is_done ? 'x' : ' ',
                s->type, s->step_id, s->owner ? s->owner : "-", due, utc);
    if (is_done) {
        ak__http_rb_fmt_human(d->tz, s->done_at, done, sizeof(done));
        ak_buf_addf(b, "- done by %s at %s\n", s->done_by ? s->done_by : "?", done);
    } else if (!ak_streq(s->state, "pending"))
        ak_buf_addf(b, "- state: **%s**\n", s->state);
    if (s->note && *s->note)
        ak_buf_addf(b, "- note: %s\n", s->note);
    if (s->command && *s->command)
        ak_buf_addf(b, "\n```sh\n%s\n```\n", s->command);
    if (s->body && *s->body)
        ak_buf_addf(b, "\n%s\n", s->body);
}

static void md_render(const struct rb_doc *d, struct ak_buf *b)
{
    char at[64], when[64];

    ak__http_rb_fmt_human(d->tz, d->rb.at_ms, at, sizeof(at));
    ak_buf_addf(b, "# %s\n\n", d->rb.title);
    ak_buf_addf(b, "Runbook #%lld from template `%s` · event time **%s** (%s) · status **%s**",
                (long long)d->rb.id, d->rb.template_name, at, d->rb.tz, d->rb.status);
    if (d->rb.maint_id)
        ak_buf_addf(b, " · maintenance #%lld", (long long)d->rb.maint_id);
    ak_buf_addf(b, "\n");
    if (d->have_t && d->t.intro && *d->t.intro)
        ak_buf_addf(b, "\n%s\n", d->t.intro);
    ak_buf_addf(b, "\n| # | due (%s) | owner | step | type | state |\n|---|---|---|---|---|---|\n",
                d->rb.tz);
    for (size_t i = 0; i < d->n_steps; i++) {
        ak__http_rb_fmt_human(d->tz, d->steps[i].due_at, when, sizeof(when));
        ak_buf_addf(b, "| %zu | %s | %s | %s | %s | %s |\n", i + 1, when,
                    d->steps[i].owner ? d->steps[i].owner : "-", d->steps[i].step_id,
                    d->steps[i].type, d->steps[i].state);
    }
    for (size_t i = 0; i < d->n_steps; i++)
        md_step(b, d, i);
    if (!d->n_events)
        return;
    ak_buf_addf(b, "\n## Run record\n\n");
    for (size_t i = 0; i < d->n_events; i++) {
        const struct ak_rb_event *e = &d->events[i];
        ak__http_rb_fmt_human(d->tz, e->at, when, sizeof(when));
        ak_buf_addf(b, "- %s — %s `%s` by %s", when, e->action, e->step_id ? e->step_id : "-",
                    e->by ? e->by : "?");
        if (e->exit_code >= 0)
            ak_buf_addf(b, ", exit %d, %lld ms", e->exit_code, (long long)e->duration_ms);
        if (e->note && *e->note)
            ak_buf_addf(b, " — %s", e->note);
        ak_buf_addf(b, "\n");
        if (e->output && *e->output)
            ak_buf_addf(b, "\n  ```\n%s\n  ```\n", e->output);
    }
}

/* ---- iCalendar ------------------------------------------------------------------------------ */

/* Appends one content line: name, value (already escaped), folded at 75 octets (never inside a
 * UTF-8 sequence), CRLF. */
static void ics_line(struct ak_buf *b, const char *name, const char *value)
{
    struct ak_buf l = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t col = 0, i = 0;

    ak_buf_addf(&l, "%s:%s", name, value);
    while (i < l.len) {
        size_t room = ICS_LINE_MAX - col, n = l.len - i;
        if (n > room) {
            n = room;
            while (n > 0 && ((unsigned char)l.buf[i + n] & 0xC0) == 0x80)
                n--;
        }
        ak_buf_addn(b, l.buf + i, n);
        i += n;
        if (i < l.len) {
            ak_buf_add(b, "\r\n ");
            col = 1;
        }
    }
    ak_buf_add(b, "\r\n");
    ak_buf_release(&l);
}

/* TEXT escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline. */
static void ics_text(struct ak_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\' || *s == ';' || *s == ',')
            ak_buf_addc(b, '\\');
        if (*s == '\n')
            ak_buf_add(b, "\\n");
        else if (*s != '\r')
            ak_buf_addc(b, *s);
    }
}

static void ics_time(int64_t ms, char *buf, size_t n)
{
    char iso[AK_TIME_RFC3339_LEN];
    size_t k = 0;

    ak_time_fmt_rfc3339(ms, iso, sizeof(iso)); /* 2026-12-10T02:00:00Z */
    for (const char *p = iso; *p && k + 1 < n; p++)
        if (*p != '-' && *p != ':')
            buf[k++] = *p;
    buf[k] = 0;
}

static void ics_event(struct ak_buf *b, const struct rb_doc *d, size_t i, const char *host,
                      const char *stamp)
{
    const struct ak_rb_step_row *s = &d->steps[i];
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    char t[32];

    ak_buf_add(b, "BEGIN:VEVENT\r\n");
    ak_buf_addf(&v, "asakai-runbook-%lld-%s@%s", (long long)d->rb.id, s->step_id, host);
    ics_line(b, "UID", v.buf);
    ics_line(b, "DTSTAMP", stamp);
    ics_time(s->due_at, t, sizeof(t));
    ics_line(b, "DTSTART", t);
    ak_buf_reset(&v);
    ak_buf_addf(&v, "[%s] ", s->owner ? s->owner : "-");
    ics_text(&v, s->title ? s->title : s->step_id);
    ics_line(b, "SUMMARY", v.buf);
    ak_buf_reset(&v);
    ics_text(&v, d->rb.title);
    ak_buf_addf(&v, " (runbook #%lld\\, step %s\\, %s)", (long long)d->rb.id, s->step_id,
                s->type);
    if (s->body && *s->body) {
        ak_buf_add(&v, "\\n\\n");
        ics_text(&v, s->body);
    }
    if (s->command && *s->command) {
        ak_buf_add(&v, "\\n\\ncommand: ");
        ics_text(&v, s->command);
    }
    ics_line(b, "DESCRIPTION", v.buf);
    ak_buf_reset(&v);
    ics_text(&v, s->owner ? s->owner : "-");
    ics_line(b, "CATEGORIES", v.buf);
    ics_line(b, "STATUS", ak_streq(s->state, "done") ? "CONFIRMED" : "TENTATIVE");
    ak_buf_add(b, "END:VEVENT\r\n");
    ak_buf_release(&v);
}

static void ics_render(const struct rb_doc *d, const char *install_id, struct ak_buf *b)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    char stamp[32];

    /* DTSTAMP: when the instance was made, so that an export is the same bytes every time */
    ics_time(d->rb.created_at ? d->rb.created_at : d->rb.at_ms, stamp, sizeof(stamp));
    ak_buf_add(b, "BEGIN:VCALENDAR\r\n");
    ics_line(b, "VERSION", "2.0");
    ics_line(b, "PRODID", "-//asakai//runbook//EN");
    ics_line(b, "CALSCALE", "GREGORIAN");
    ics_line(b, "METHOD", "PUBLISH");
    ics_text(&v, d->rb.title);
    ics_line(b, "X-WR-CALNAME", v.buf);
    for (size_t i = 0; i < d->n_steps; i++)
        ics_event(b, d, i, install_id && *install_id ? install_id : "asakai", stamp);
    ak_buf_add(b, "END:VCALENDAR\r\n");
    ak_buf_release(&v);
}

void ak__http_rb_export(struct ak_http_req *rq, struct ak_store *st, int64_t id)
{
    const char *fmt = ak__http_arg(rq, "format");
    struct rb_doc d = {0};
    char *install_id = NULL;
    bool ics = ak_streq(fmt, "ics");

    if (fmt && !ics && !ak_streq(fmt, "md")) {
        ak__http_error(rq, 400, "format must be md or ics, not '%s'", fmt);
        return;
    }
    int r = rb_doc_load(st, id, &d);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "runbook %lld: %s", (long long)id,
                       ak_strerror(r));
        goto out;
    }
    ak_buf_reset(&rq->out);
    if (ics) {
        ak_store_kv_get(st, "install_id", &install_id);
        ics_render(&d, install_id, &rq->out);
        rq->content_type = "text/calendar; charset=utf-8";
    } else {
        md_render(&d, &rq->out);
        rq->content_type = "text/markdown; charset=utf-8";
    }
    rq->status = 200;
out:
    free(install_id);
    rb_doc_release(&d);
}
