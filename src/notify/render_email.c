/* render_email.c — RFC 5322 / MIME messages: folded headers, RFC 2047 subjects, a
 * multipart/alternative body with quoted-printable text and HTML parts, CRLF everywhere. */
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "render_int.h"
#include "src/core/ak_banned.h"

#define HDR_FOLD 78  /* RFC 5322 2.1.1: lines SHOULD be at most 78 characters */
#define QP_LINE 76   /* RFC 2045 6.7: encoded lines at most 76 characters */
#define EW_BYTES 36  /* UTF-8 bytes per encoded-word: 48 base64 chars, 60-char word */

/* ---- headers -------------------------------------------------------------------------- */

/* "Name: value" folded before a space whenever the line would pass 78 columns. The value is
 * already a single line (no control characters). */
static void add_header(struct ak_buf *b, const char *name, const char *value)
{
    size_t col = strlen(name) + 1;
    const char *p = value;
    bool first = true;

    ak_buf_addf(b, "%s:", name);
    while (*p) {
        size_t wl;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        wl = strcspn(p, " ");
        if (!first && col + 1 + wl > HDR_FOLD) {
            ak_buf_add(b, "\r\n");
            col = 0;
        }
        ak_buf_addc(b, ' ');
        ak_buf_addn(b, p, wl);
        col += 1 + wl;
        p += wl;
        first = false;
    }
    ak_buf_add(b, "\r\n");
}

static void base64(struct ak_buf *b, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        ak_buf_addc(b, tab[(v >> 18) & 63]);
        ak_buf_addc(b, tab[(v >> 12) & 63]);
        ak_buf_addc(b, i + 1 < n ? tab[(v >> 6) & 63] : '=');
        ak_buf_addc(b, i + 2 < n ? tab[v & 63] : '=');
    }
}

static bool needs_encoding(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return true;
    /* "=?" could be read as the start of an encoded-word */
    return strstr(s, "=?") != NULL;
}

/* RFC 2047: "=?UTF-8?B?...?=" words of whole UTF-8 characters, one per folded line. */
static void add_subject(struct ak_buf *b, const char *subject)
{
    size_t len = strlen(subject), off = 0;

    if (!needs_encoding(subject)) {
        add_header(b, "Subject", subject);
        return;
    }
    ak_buf_add(b, "Subject:");
    while (off < len) {
        size_t n = ak__notify_utf8_cut(subject + off, len - off, EW_BYTES);
        if (n == 0) /* not UTF-8 at all: never loop */
            n = len - off < EW_BYTES ? len - off : EW_BYTES;
        ak_buf_add(b, off ? "\r\n =?UTF-8?B?" : " =?UTF-8?B?");
        base64(b, (const unsigned char *)subject + off, n);
        ak_buf_add(b, "?=");
        off += n;
    }
    ak_buf_add(b, "\r\n");
}

/* A header value we write as given must be one line of visible ASCII-or-UTF-8. */
static bool header_safe(const char *s)
{
    if (!s || !*s || strlen(s) > 900) /* RFC 5322: lines at most 998 */
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static void add_msgid(struct ak_buf *b, const char *name, const char *id)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_buf_addf(&v, id[0] == '<' ? "%s" : "<%s>", id);
    add_header(b, name, v.buf);
    ak_buf_release(&v);
}

static bool same_id(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (a[0] == '<' && la >= 2)
        a++, la -= 2;
    if (b[0] == '<' && lb >= 2)
        b++, lb -= 2;
    return la == lb && memcmp(a, b, la) == 0;
}

/* ---- body ----------------------------------------------------------------------------- */

static bool qp_literal(unsigned char ch)
{
    return ch >= 33 && ch <= 126 && ch != '=';
}

/* Quoted-printable (RFC 2045 6.7) of LF-separated text, CRLF line ends, lines ≤ 76 with soft
 * breaks; trailing blanks encoded; CR dropped. */
static void qp_encode(struct ak_buf *b, const char *text)
{
    size_t col = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        const unsigned char *q = p + 1;
        char tok[4];
        size_t tl;
        bool last;

        if (*p == '\r')
            continue;
        if (*p == '\n') {
            ak_buf_add(b, "\r\n");
            col = 0;
            continue;
        }
        while (*q == '\r')
            q++;
        last = *q == '\n' || *q == 0;
        if (qp_literal(*p) || ((*p == ' ' || *p == '\t') && !last)) {
            tok[0] = (char)*p;
            tl = 1;
        } else {
            snprintf(tok, sizeof(tok), "=%02X", *p);
            tl = 3;
        }
        /* the last token of a line may reach column 76; others leave room for the '=' */
        if (col + tl > (last ? QP_LINE : QP_LINE - 1)) {
            ak_buf_add(b, "=\r\n");
            col = 0;
        }
        /* "From " at a line start gets mangled to ">From " by mbox-minded MTAs */
        if (col == 0 && strncmp((const char *)p, "From ", 5) == 0) {
            memcpy(tok, "=46", 3);
            tl = 3;
        }
        ak_buf_addn(b, tok, tl);
        col += tl;
    }
}

void ak__notify_html_escape(struct ak_buf *b, const char *s)
{
    ak_buf_add_html(b, s);
}

/* FNV-1a: a boundary that is stable for a Message-ID (a resend is byte-identical) and, being
 * "=_...", can never occur inside quoted-printable content. */
static void boundary_of(const char *message_id, char *out, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const unsigned char *p = (const unsigned char *)message_id; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    snprintf(out, n, "=_asakai_%016" PRIx64, h);
}

static void add_part(struct ak_buf *b, const char *boundary, const char *type, const char *body)
{
    ak_buf_addf(b, "\r\n--%s\r\n", boundary);
    ak_buf_addf(b, "Content-Type: %s; charset=UTF-8\r\n", type);
    ak_buf_add(b, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    qp_encode(b, body);
}

static int check_mail(const struct ak__notify_mail *m)
{
    if (!header_safe(m->from) || !m->to || m->n_to == 0 || !header_safe(m->message_id) ||
        strchr(m->message_id, ' ') || !m->subject || !m->text || !m->html)
        return AK_EINVAL;
    if (m->root_id && (!header_safe(m->root_id) || strchr(m->root_id, ' ')))
        return AK_EINVAL;
    for (size_t i = 0; i < m->n_to; i++)
        if (!header_safe(m->to[i]))
            return AK_EINVAL;
    return AK_OK;
}

static void add_headers(struct ak_buf *b, const struct ak__notify_mail *m, const char *boundary)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    char date[64];

    add_header(b, "From", m->from);
    for (size_t i = 0; i < m->n_to; i++)
        ak_buf_addf(&v, "%s%s", i ? ", " : "", m->to[i]);
    add_header(b, "To", v.buf);
    add_subject(b, m->subject);
    ak__notify_fmt_date822(m->date_ms, date, sizeof(date));
    add_header(b, "Date", date);
    add_msgid(b, "Message-ID", m->message_id);
    if (m->root_id && *m->root_id && !same_id(m->root_id, m->message_id)) {
        add_msgid(b, "In-Reply-To", m->root_id);
        add_msgid(b, "References", m->root_id);
    }
    add_header(b, "MIME-Version", "1.0");
    add_header(b, "Auto-Submitted", "auto-generated");
    if (m->xhdr_name && header_safe(m->xhdr_value))
        add_header(b, m->xhdr_name, m->xhdr_value);
    ak_buf_addf(b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n", boundary);
    ak_buf_release(&v);
}

int ak__notify_mail_render(const struct ak__notify_mail *m, struct ak_buf *out)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    char boundary[64];
    int r = check_mail(m);

    if (r < 0)
        return r;
    boundary_of(m->message_id, boundary, sizeof(boundary));
    add_headers(&b, m, boundary);
    ak_buf_add(&b, "\r\nThis is a multi-part message in MIME format.\r\n");
    add_part(&b, boundary, "text/plain", m->text);
    add_part(&b, boundary, "text/html", m->html);
    ak_buf_addf(&b, "\r\n--%s--\r\n", boundary);
    r = ak_buf_addn(out, b.buf, b.len);
    ak_buf_release(&b);
    return r;
}

/* ---- the record message ----------------------------------------------------------------- */

/* One "Label: value" row in both bodies; value is a single line (cleaned here). */
struct bodies {
    struct ak_buf text, html;
};

static void row(struct bodies *bd, const char *label, const char *value)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);

    if (!value || !*value)
        return;
    ak__notify_add_line(&v, value, AK_RENDER_FIELD_MAX);
    ak_buf_addf(&bd->text, "%-14s %s\n", label, v.buf);
    ak_buf_addf(&bd->html, "<tr><th align=\"left\" valign=\"top\">%s</th><td>", label);
    ak__notify_html_escape(&bd->html, v.buf);
    ak_buf_add(&bd->html, "</td></tr>\n");
    ak_buf_release(&v);
}

/* "Dec 10 02:00 JST (in 12 days; 2026-12-09T17:00:00Z)" */
static void when_value(const struct ak_render_ctx *c, int64_t ms, struct ak_buf *v)
{
    char local[64], rel[64], utc[AK_TIME_RFC3339_LEN];

    ak__notify_fmt_when(c->tz, ms, local, sizeof(local));
    ak_time_fmt_relative(ms, c->now_ms, rel, sizeof(rel));
    ak_time_fmt_rfc3339(ms, utc, sizeof(utc));
    ak_buf_addf(v, "%s (%s; %s)", local, rel, utc);
}

static void time_rows(struct bodies *bd, const struct ak_render_ctx *c)
{
    const struct ak_maint_rec *r = c->rec;
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);

    if (r->deadline) {
        when_value(c, r->deadline, &v);
        row(bd, "Deadline:", v.buf);
    }
    if (r->window_start) {
        ak_buf_reset(&v);
        when_value(c, r->window_start, &v);
        if (r->window_end) {
            char end[64];
            ak__notify_fmt_when(c->tz, r->window_end, end, sizeof(end));
            ak_buf_addf(&v, " until %s", end);
        }
        row(bd, "Window:", v.buf);
    }
    ak_buf_release(&v);
}

static void resources_row(struct bodies *bd, const struct ak_maint_rec *r)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t n = r->n_resources < AK_RENDER_RES_MAX ? r->n_resources : AK_RENDER_RES_MAX;

    for (size_t i = 0; i < n; i++) {
        ak_buf_add(&v, i ? ", " : "");
        ak__notify_add_line(&v, r->resources[i], 256);
    }
    if (n < r->n_resources)
        ak_buf_addf(&v, " and %zu more", r->n_resources - n);
    /* the list may be long: it is the one row not cut to a field's size */
    if (v.len) {
        ak_buf_addf(&bd->text, "%-14s %s\n", "Resources:", v.buf);
        ak_buf_add(&bd->html, "<tr><th align=\"left\" valign=\"top\">Resources:</th><td>");
        ak__notify_html_escape(&bd->html, v.buf);
        ak_buf_add(&bd->html, "</td></tr>\n");
    }
    ak_buf_release(&v);
}

static void field_rows(struct bodies *bd, const struct ak_render_ctx *c, const char *url)
{
    const struct ak_maint_rec *r = c->rec;
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);

    time_rows(bd, c);
    row(bd, "Status:", r->status);
    row(bd, "Service:", r->service);
    row(bd, "Kind:", r->kind);
    row(bd, "Event code:", r->event_code);
    row(bd, "Account:", r->account);
    row(bd, "Region:", r->region);
    resources_row(bd, r);
    if (c->important)
        ak_buf_addf(&v, "yes%s%s", c->important_why && *c->important_why ? ": " : "",
                    c->important_why ? c->important_why : "");
    row(bd, "Important:", v.buf);
    ak_buf_reset(&v);
    if (r->recurrence_of)
        ak_buf_addf(&v, "recurrence of #%" PRId64, r->recurrence_of);
    row(bd, "Recurrence:", v.buf);
    ak_buf_reset(&v);
    if (r->acked_by)
        ak_buf_addf(&v, "%s%s%s", r->acked_by, r->ack_note ? " — " : "",
                    r->ack_note ? r->ack_note : "");
    row(bd, "Acknowledged:", v.buf);
    row(bd, "Sources:", r->sources ? r->sources : r->source);
    ak_buf_reset(&v);
    ak_buf_addf(&v, "#%" PRId64 "%s%s", r->id, *url ? " " : "", url);
    row(bd, "Record:", v.buf);
    ak_buf_release(&v);
}

/* The description keeps its lines (LF); cut at AK_RENDER_DESC_MAX with a pointer to the rest. */
static void description(struct bodies *bd, const struct ak_maint_rec *r, const char *url)
{
    size_t len = r->description ? strlen(r->description) : 0;
    size_t keep = ak__notify_utf8_cut(r->description ? r->description : "", len,
                                      AK_RENDER_DESC_MAX);
    char *d;

    if (!len)
        return;
    d = ak_xstrndup(r->description, keep);
    ak_buf_addf(&bd->text, "\nDescription:\n%s\n", d);
    ak_buf_add(&bd->html, "<h3>Description</h3>\n<p style=\"white-space: pre-wrap\">");
    ak__notify_html_escape(&bd->html, d);
    ak_buf_add(&bd->html, "</p>\n");
    if (keep < len) {
        ak_buf_addf(&bd->text, "… (cut; the full description: %s)\n", *url ? url : "asakai");
        ak_buf_add(&bd->html, "<p>… (cut; the full description is in ");
        if (*url) {
            ak_buf_add(&bd->html, "<a href=\"");
            ak__notify_html_escape(&bd->html, url);
            ak_buf_add(&bd->html, "\">the record</a>)</p>\n");
        } else {
            ak_buf_add(&bd->html, "asakai)</p>\n");
        }
    }
    free(d);
}

static void record_bodies(struct bodies *bd, const struct ak_render_ctx *c, const char *url)
{
    const struct ak_maint_rec *r = c->rec;
    struct ak_buf head = AK_BUF_INIT(AK_BUF_NOMAX), chg = AK_BUF_INIT(AK_BUF_NOMAX);

    ak__notify_headline(r, &head);
    ak_buf_add(&chg, ak__notify_change_label(c->change ? c->change->kind : NULL));
    if (c->change && c->change->summary && *c->change->summary) {
        ak_buf_add(&chg, ": ");
        ak__notify_add_line(&chg, c->change->summary, AK_RENDER_FIELD_MAX);
    }
    ak_buf_addf(&bd->text, "%s\n\n%s\n", chg.buf, head.buf);
    ak_buf_add(&bd->html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n"
                          "<p><b>");
    ak__notify_html_escape(&bd->html, chg.buf);
    ak_buf_add(&bd->html, "</b></p>\n<h2>");
    ak__notify_html_escape(&bd->html, head.buf);
    ak_buf_add(&bd->html, "</h2>\n");
    if (r->title && *r->title) {
        ak_buf_reset(&head);
        ak__notify_add_line(&head, r->title, AK_RENDER_FIELD_MAX);
        ak_buf_addf(&bd->text, "%s\n", head.buf);
        ak_buf_add(&bd->html, "<p>");
        ak__notify_html_escape(&bd->html, head.buf);
        ak_buf_add(&bd->html, "</p>\n");
    }
    ak_buf_add(&bd->text, "\n");
    ak_buf_add(&bd->html, "<table cellpadding=\"3\">\n");
    field_rows(bd, c, url);
    ak_buf_add(&bd->html, "</table>\n");
    if (*url) {
        ak_buf_add(&bd->html, "<p><a href=\"");
        ak__notify_html_escape(&bd->html, url);
        ak_buf_addf(&bd->html, "\">Open record #%" PRId64 " in asakai</a></p>\n", r->id);
    }
    description(bd, r, url);
    ak_buf_addf(&bd->text, "\n-- \nasakai maintenance inbox · record #%" PRId64 "\n", r->id);
    ak_buf_add(&bd->html, "<p style=\"color:#888\">asakai maintenance inbox</p>\n</body></html>\n");
    ak_buf_release(&head);
    ak_buf_release(&chg);
}

int ak__notify_email(const struct ak_render_ctx *c, const char *from, const char *const *to,
                     size_t n_to, const char *message_id, const char *root_id, struct ak_buf *out)
{
    struct bodies bd = {AK_BUF_INIT(AK_BUF_NOMAX), AK_BUF_INIT(AK_BUF_NOMAX)};
    struct ak_buf subject = AK_BUF_INIT(AK_BUF_NOMAX), url = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak__notify_mail m = {0};
    char id[32];
    int r = AK_EINVAL;

    if (!c || !c->rec)
        goto out;
    r = ak__notify_subject(c, &subject);
    if (r < 0)
        goto out;
    ak__notify_record_url(c->base_url, c->rec->id, &url);
    record_bodies(&bd, c, url.buf);
    snprintf(id, sizeof(id), "%" PRId64, c->rec->id);
    m = (struct ak__notify_mail){
        .from = from, .to = to, .n_to = n_to, .subject = subject.buf,
        .message_id = message_id, .root_id = root_id, .date_ms = c->now_ms,
        .xhdr_name = "X-Asakai-Record", .xhdr_value = id,
        .text = bd.text.buf, .html = bd.html.buf,
    };
    r = ak__notify_mail_render(&m, out);
out:
    ak_buf_release(&bd.text);
    ak_buf_release(&bd.html);
    ak_buf_release(&subject);
    ak_buf_release(&url);
    return r;
}
