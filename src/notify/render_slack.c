/* render_slack.c — Slack Block Kit payloads, built with ak_json and kept inside Slack's limits
 * (Slack answers 400 invalid_blocks / msg_blocks_too_long to a message over them, and a
 * message it refuses is never delivered). */
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

#define CHANGE_MAX 1000   /* the change + title section */
#define FIELD_MAX 200     /* each of the fields: short values, keeps the total small */
#define CONTEXT_MAX 300

size_t ak__notify_slack_units(const char *s, size_t len)
{
    size_t u = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xC0) == 0x80)
            continue;
        u += ch >= 0xF0 ? 2 : 1; /* outside the BMP: a surrogate pair in UTF-16 */
    }
    return u;
}

/* The next character of s as Slack text: its bytes (or an entity, a space for a control
 * character, U+FFFD for a byte that is not UTF-8); *ret_units its length for Slack. Returns the
 * input bytes consumed. */
static size_t next_piece(const char *s, bool escape, char piece[8], size_t *ret_len,
                         size_t *ret_units)
{
    unsigned char ch = (unsigned char)s[0];
    size_t cl = ch < 0x80 ? 1 : ch >= 0xF0 && ch < 0xF8 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC2 ? 2 : 0;
    const char *ent = NULL;

    for (size_t i = 1; i < cl; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            cl = 0;
    if (escape)
        ent = ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : NULL;
    if (ent || cl == 0 || (ch < 0x20 && ch != '\n') || ch == 0x7f) {
        const char *rep = ent ? ent : cl == 0 ? "\xEF\xBF\xBD" : " ";
        *ret_len = strlen(rep);
        memcpy(piece, rep, *ret_len);
        *ret_units = ent ? *ret_len : 1;
        return cl ? cl : 1;
    }
    memcpy(piece, s, cl);
    *ret_len = cl;
    *ret_units = cl == 4 ? 2 : 1;
    return cl;
}

/* Appends pieces of s while they fit in budget units; true when all of s went in. */
static bool emit(struct ak_buf *b, const char *s, bool escape, size_t budget)
{
    size_t units = 0;

    while (*s) {
        char piece[8];
        size_t plen, pu, used = next_piece(s, escape, piece, &plen, &pu);
        if (units + pu > budget)
            return false;
        ak_buf_addn(b, piece, plen);
        units += pu;
        s += used;
    }
    return true;
}

char *ak__notify_slack_text(const char *s, bool escape, size_t max, const char *link)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX), suffix = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t su;

    if (!s)
        s = "";
    if (emit(&b, s, escape, max))
        goto out;
    ak_buf_reset(&b);
    ak_buf_add(&suffix, "…");
    if (link && *link)
        ak_buf_addf(&suffix, " <%s|full record>", link);
    su = ak__notify_slack_units(suffix.buf, suffix.len);
    if (su > max) { /* a link longer than the room: the ellipsis alone */
        ak_buf_reset(&suffix);
        ak_buf_add(&suffix, "…");
        su = 1;
    }
    emit(&b, s, escape, max >= su ? max - su : 0);
    if (max >= su)
        ak_buf_addn(&b, suffix.buf, suffix.len);
out:
    ak_buf_release(&suffix);
    return ak_buf_detach(&b, NULL);
}

static struct ak_json *text_obj(const char *type, char *text)
{
    struct ak_json *t = ak_json_new_obj();

    ak_json_set_str(t, "type", type);
    ak_json_set_str(t, "text", text);
    if (strcmp(type, "plain_text") == 0)
        ak_json_set_bool(t, "emoji", true);
    free(text);
    return t;
}

struct ak_json *ak__notify_slack_header(const char *plain)
{
    struct ak_json *b = ak_json_new_obj();

    ak_json_set_str(b, "type", "header");
    ak_json_set(b, "text",
                text_obj("plain_text", ak__notify_slack_text(plain, false, AK_SLACK_HEADER_MAX,
                                                             NULL)));
    return b;
}

struct ak_json *ak__notify_slack_section(char *mrkdwn)
{
    struct ak_json *b = ak_json_new_obj();

    ak_json_set_str(b, "type", "section");
    ak_json_set(b, "text", text_obj("mrkdwn", mrkdwn));
    return b;
}

struct ak_json *ak__notify_slack_context(char *mrkdwn)
{
    struct ak_json *b = ak_json_new_obj(), *el = ak_json_new_arr();

    ak_json_set_str(b, "type", "context");
    ak_json_append(el, text_obj("mrkdwn", mrkdwn));
    ak_json_set(b, "elements", el);
    return b;
}

/* "<label> <escaped text, cut to fit max with a link>" as one mrkdwn string. */
char *ak__notify_slack_labeled(const char *label, const char *text, size_t max, const char *link)
{
    size_t lu = ak__notify_slack_units(label, strlen(label));
    char *t = ak__notify_slack_text(text, true, max > lu ? max - lu : 0, link);
    char *s = ak_xasprintf("%s%s", label, t);

    free(t);
    return s;
}

/* ---- the record message ----------------------------------------------------------------- */

static void add_field(struct ak_json *fields, const char *label, const char *value)
{
    char lab[64];

    if (!value || !*value || ak_json_len(fields) >= 10)
        return;
    snprintf(lab, sizeof(lab), "*%s*\n", label);
    ak_json_append(fields, text_obj("mrkdwn", ak__notify_slack_labeled(lab, value, FIELD_MAX,
                                                                       NULL)));
}

static void add_when_field(struct ak_json *fields, const struct ak_render_ctx *c,
                           const char *label, int64_t ms, int64_t end)
{
    char local[64], rel[64], e[64];
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);

    if (!ms)
        return;
    ak__notify_fmt_when(c->tz, ms, local, sizeof(local));
    ak_time_fmt_relative(ms, c->now_ms, rel, sizeof(rel));
    ak_buf_addf(&v, "%s (%s)", local, rel);
    if (end) {
        ak__notify_fmt_when(c->tz, end, e, sizeof(e));
        ak_buf_addf(&v, " until %s", e);
    }
    add_field(fields, label, v.buf);
    ak_buf_release(&v);
}

static struct ak_json *fields_block(const struct ak_render_ctx *c)
{
    const struct ak_maint_rec *r = c->rec;
    struct ak_json *b = ak_json_new_obj(), *f = ak_json_new_arr();
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);

    add_when_field(f, c, "Deadline", r->deadline, 0);
    add_when_field(f, c, "Window", r->window_start, r->window_end);
    add_field(f, "Status", r->status);
    ak_buf_addf(&v, "%s · %s", r->service ? r->service : "?", r->kind ? r->kind : "?");
    add_field(f, "Service", v.buf);
    add_field(f, "Account", r->account);
    add_field(f, "Region", r->region);
    add_field(f, "Event code", r->event_code);
    if (c->important)
        add_field(f, "Important",
                  c->important_why && *c->important_why ? c->important_why : "yes");
    if (r->acked_by)
        add_field(f, "Acknowledged by", r->acked_by);
    ak_buf_reset(&v);
    if (r->recurrence_of)
        ak_buf_addf(&v, "of #%" PRId64, r->recurrence_of);
    add_field(f, "Recurrence", v.buf);
    ak_buf_release(&v);
    if (ak_json_len(f) == 0)
        add_field(f, "Record", "no details yet");
    ak_json_set_str(b, "type", "section");
    ak_json_set(b, "fields", f);
    return b;
}

static struct ak_json *change_block(const struct ak_render_ctx *c, const char *url)
{
    struct ak_buf label = AK_BUF_INIT(AK_BUF_NOMAX), text = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *b;

    ak_buf_addf(&label, "*%s*", ak__notify_change_label(c->change ? c->change->kind : NULL));
    if (c->change && c->change->summary && *c->change->summary) {
        ak_buf_add(&label, ": ");
        ak__notify_add_line(&text, c->change->summary, AK_RENDER_FIELD_MAX);
    }
    if (c->rec->title && *c->rec->title) {
        ak_buf_add(&text, "\n");
        ak__notify_add_line(&text, c->rec->title, AK_RENDER_FIELD_MAX);
    }
    b = ak__notify_slack_section(ak__notify_slack_labeled(label.buf, text.buf, CHANGE_MAX, url));
    ak_buf_release(&label);
    ak_buf_release(&text);
    return b;
}

static struct ak_json *resources_block(const struct ak_maint_rec *r, const char *url)
{
    struct ak_buf label = AK_BUF_INIT(AK_BUF_NOMAX), v = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *b;

    /* stop collecting well past what a section can show; the cut adds the link */
    for (size_t i = 0; i < r->n_resources && v.len < 4 * AK_SLACK_SECTION_MAX; i++) {
        ak_buf_add(&v, i ? ", " : "");
        ak__notify_add_line(&v, r->resources[i], 256);
    }
    ak_buf_addf(&label, "*Resources* (%zu)\n", r->n_resources);
    b = ak__notify_slack_section(
        ak__notify_slack_labeled(label.buf, v.buf, AK_SLACK_SECTION_MAX, url));
    ak_buf_release(&label);
    ak_buf_release(&v);
    return b;
}

static struct ak_json *context_block(const struct ak_render_ctx *c, const char *url)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    char *src, *t;

    if (*url)
        ak_buf_addf(&v, "asakai · <%s|record #%" PRId64 ">", url, c->rec->id);
    else
        ak_buf_addf(&v, "asakai · record #%" PRId64, c->rec->id);
    src = ak__notify_slack_text(c->rec->sources ? c->rec->sources : c->rec->source, true, 100,
                                NULL);
    if (*src)
        ak_buf_addf(&v, " · %s", src);
    free(src);
    /* v is already mrkdwn; only cap it (a URL from the config could be long) */
    t = v.len <= CONTEXT_MAX ? ak_xstrdup(v.buf) : ak__notify_slack_text("asakai", false, 10,
                                                                          NULL);
    ak_buf_release(&v);
    return ak__notify_slack_context(t);
}

static char *fallback_text(const struct ak_render_ctx *c)
{
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    char *t;

    ak__notify_subject(c, &v);
    ak_buf_addf(&v, " (%s)", ak__notify_change_label(c->change ? c->change->kind : NULL));
    t = ak__notify_slack_text(v.buf, true, AK_SLACK_FALLBACK_MAX, NULL);
    ak_buf_release(&v);
    return t;
}

static struct ak_json *record_blocks(const struct ak_render_ctx *c, const char *url)
{
    struct ak_json *blocks = ak_json_new_arr();
    struct ak_buf h = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_buf_add(&h, c->important ? ":warning: " : "");
    ak_buf_add(&h, ak__notify_prefix(c->rec, c->change));
    ak__notify_headline(c->rec, &h);
    ak_json_append(blocks, ak__notify_slack_header(h.buf));
    ak_json_append(blocks, change_block(c, url));
    ak_json_append(blocks, fields_block(c));
    if (c->rec->n_resources > 1)
        ak_json_append(blocks, resources_block(c->rec, url));
    if (c->rec->description && *c->rec->description)
        ak_json_append(blocks, ak__notify_slack_section(ak__notify_slack_labeled(
                                   "*Description*\n", c->rec->description,
                                   AK_SLACK_SECTION_MAX, url)));
    ak_json_append(blocks, context_block(c, url));
    ak_buf_release(&h);
    return blocks;
}

void ak__notify_slack_envelope(struct ak_json *j, const char *channel, const char *thread_ts)
{
    if (channel && *channel)
        ak_json_set_str(j, "channel", channel);
    if (thread_ts && *thread_ts)
        ak_json_set_str(j, "thread_ts", thread_ts);
}

int ak__notify_slack(const struct ak_render_ctx *c, const char *channel, const char *thread_ts,
                     struct ak_buf *out)
{
    struct ak_buf url = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *j = NULL;
    char *fb;
    int r = AK_EINVAL;

    if (!c || !c->rec)
        goto out;
    ak__notify_record_url(c->base_url, c->rec->id, &url);
    j = ak_json_new_obj();
    ak__notify_slack_envelope(j, channel, thread_ts);
    fb = fallback_text(c);
    ak_json_set_str(j, "text", fb);
    free(fb);
    ak_json_set(j, "blocks", record_blocks(c, url.buf));
    r = ak__notify_json_into(j, out);
out:
    ak_json_free(j);
    ak_buf_release(&url);
    return r;
}
