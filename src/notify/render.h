/* render.h — private to src/notify: what a notification looks like on each receiver.
 *
 * Pure functions (no I/O, no globals): a record, the change being announced, and the reader's
 * time zone in; bytes out. Every output is bounded and always valid for its receiver (Slack
 * never gets a payload it would refuse for size; email is valid RFC 5322 / MIME).
 */
#ifndef AK_NOTIFY_RENDER_H
#define AK_NOTIFY_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_store.h"

struct ak_tz;

struct ak_render_ctx {
    const struct ak_maint_rec *rec;   /* the record (current state) */
    const struct ak_change *change;   /* the change announced ("created", "reminder", ...) */
    bool important;                   /* the record's importance now */
    const char *important_why;        /* may be NULL */
    const struct ak_tz *tz;           /* reader's time zone for human times; NULL = UTC */
    const char *base_url;             /* e.g. "http://127.0.0.1:9780" for links; may be NULL */
    int64_t now_ms;
};

/* "[asakai] RDS hardware maintenance prod-db-1 — deadline Dec 10 02:00 JST" (UTF-8); reminders
 * prefix "Reminder: ", completion "Completed: ", cancellation "Canceled: ", recurrence "RECURRENCE: ".
 * Capped at 200 bytes (cut on a UTF-8 boundary with "…"). */
int ak__notify_subject(const struct ak_render_ctx *c, struct ak_buf *out);

/* A complete RFC 5322 message with CRLF line ends: From, To, Subject (RFC 2047 encoded-word when
 * non-ASCII), Date (RFC 5322, in UTC "+0000"), Message-ID (message_id), In-Reply-To and
 * References (root_id, unless it equals message_id), MIME-Version, Auto-Submitted: auto-generated,
 * X-Asakai-Record: <id>, and a multipart/alternative body: text/plain and text/html (both UTF-8,
 * quoted-printable), with the record's fields, the change, the deadline in tz and in UTC, the
 * description and a link to the record when base_url is set. Header lines folded at 78. */
int ak__notify_email(const struct ak_render_ctx *c, const char *from, const char *const *to,
                     size_t n_to, const char *message_id, const char *root_id, struct ak_buf *out);

/* Slack Block Kit JSON: {"text": fallback, "blocks": [...]} plus "channel" and "thread_ts" when
 * given (chat.postMessage); within Slack's limits: at most 50 blocks, section text at most 3000
 * chars, header text 150, fallback text 4000 — longer content is cut with "…" and a link to the
 * record (base_url). Important records get a warning emoji header. */
int ak__notify_slack(const struct ak_render_ctx *c, const char *channel, const char *thread_ts,
                     struct ak_buf *out);

/* Webhook JSON body: {"version":"1","type":"change"|"reminder","record":{ak_maint_rec_json},
 * "change":{id, kind, key, summary, at}}. */
int ak__notify_webhook(const struct ak_render_ctx *c, struct ak_buf *out);
/* The signature header value for a webhook body: "t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * secret over "<t>.<body>">". */
void ak__notify_webhook_signature(const char *secret, int64_t now_ms, const char *body,
                                  size_t len, char *out, size_t n);

/* The daily digest: open records (already sorted by deadline) and the changes since since_ms. */
struct ak_digest {
    const struct ak_maint_rec *recs;
    size_t n_recs;
    const struct ak_change *changes;
    size_t n_changes;
    int64_t since_ms;
    const char *date_label;           /* "2026-11-27 (Fri)" in the receiver's tz */
    const struct ak_tz *tz;
    const char *base_url;
    int64_t now_ms;
};
int ak__notify_digest_email(const struct ak_digest *d, const char *from, const char *const *to,
                            size_t n_to, const char *message_id, struct ak_buf *out);
int ak__notify_digest_slack(const struct ak_digest *d, const char *channel, struct ak_buf *out);
int ak__notify_digest_webhook(const struct ak_digest *d, struct ak_buf *out);

/* The morning report as the digest (render_report.c): md and html from the report module,
 * report its JSON (counts, quadrants) for the subject and the Slack summary. */
struct ak_json;
struct ak_report_msg {
    const char *date;                 /* the digest's local date (the row key), a fallback label */
    const char *md, *html;
    const struct ak_json *report;
    int64_t now_ms;
};
/* Subject "[asakai] Morning report — 2026-12-01 (Tue): 2 do now, 3 plan, 1 delegate, 4 note";
 * text part = md, HTML part = html, header X-Asakai-Digest: <date>. */
int ak__notify_report_email(const struct ak_report_msg *m, const char *from,
                            const char *const *to, size_t n_to, const char *message_id,
                            struct ak_buf *out);
/* Header, counts per quadrant, the do-now items (title, due, why), within Slack's limits. */
int ak__notify_report_slack(const struct ak_report_msg *m, const char *channel,
                            struct ak_buf *out);
/* {"version":"1","type":"report","date","generated_at","report":{...}} */
int ak__notify_report_webhook(const struct ak_report_msg *m, struct ak_buf *out);

/* A runbook step reminder (outbox key "rbstep:<runbook id>:<step id>:<due ms>"). */
struct ak_step_msg {
    const struct ak_rb_instance *rb;
    const struct ak_rb_step_row *step;
    const struct ak_tz *tz;           /* reader's zone; NULL = UTC */
    int64_t now_ms;
};
/* "[cs] Publish the maintenance notice — due Dec 7 18:00 JST, runbook #3 ElastiCache node
 * replacement" ("OVERDUE: " before the title when past due), at most 200 bytes. */
int ak__notify_step_subject(const struct ak_step_msg *m, struct ak_buf *out);
int ak__notify_step_email(const struct ak_step_msg *m, const char *from, const char *const *to,
                          size_t n_to, const char *message_id, struct ak_buf *out);
int ak__notify_step_slack(const struct ak_step_msg *m, const char *channel, struct ak_buf *out);
/* {"version":"1","type":"runbook-step","summary","runbook":{id,title,template,owner,at},
 *  "step":{id,title,owner,type,state,due}} */
int ak__notify_step_webhook(const struct ak_step_msg *m, struct ak_buf *out);

#endif
