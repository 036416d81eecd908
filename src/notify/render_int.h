/* render_int.h — private to src/notify: helpers shared by the render*.c files. */
#ifndef AK_NOTIFY_RENDER_INT_H
#define AK_NOTIFY_RENDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_change;
struct ak_json;
struct ak_maint_rec;
struct ak_tz;

/* Caps that keep every rendered message bounded whatever the record holds. */
#define AK_RENDER_SUBJECT_MAX 200
#define AK_RENDER_DESC_MAX (32 * 1024)  /* description bytes shown in an email */
#define AK_RENDER_RES_MAX 100           /* resources listed in an email */
#define AK_RENDER_FIELD_MAX 512         /* one single-line field (title, account, ...) */
#define AK_RENDER_DIGEST_MAX 200        /* records / changes listed in a digest email */

/* "Dec 10 02:00 JST" in tz ("Dec 10 02:00 UTC" when tz is NULL); "" when ms is 0. */
void ak__notify_fmt_when(const struct ak_tz *tz, int64_t ms, char *buf, size_t n);
/* "Fri, 27 Nov 2026 00:00:00 +0000" (RFC 5322, locale-independent). */
void ak__notify_fmt_date822(int64_t ms, char *buf, size_t n);

/* Appends s (at most max bytes of it, cut on a UTF-8 boundary) with every control character
 * (CR and LF included) turned into a space and runs of spaces collapsed: a safe single line. */
void ak__notify_add_line(struct ak_buf *b, const char *s, size_t max);
/* The length of the longest prefix of s[0..len) that is at most max bytes and ends on a UTF-8
 * character boundary. */
size_t ak__notify_utf8_cut(const char *s, size_t len, size_t max);

/* "RDS hardware maintenance prod-db-1" (+ " (+2 more)"), from service, kind and the first
 * resource; falls back to the title, then to "maintenance #<id>". */
void ak__notify_headline(const struct ak_maint_rec *r, struct ak_buf *out);
/* "Reminder: ", "Completed: ", "Canceled: ", "RECURRENCE: " or "". */
const char *ak__notify_prefix(const struct ak_maint_rec *r, const struct ak_change *ch);
/* "New", "Rescheduled", "Status changed", ... for a change kind (NULL -> "Update"). */
const char *ak__notify_change_label(const char *kind);
/* "<base_url>/api/v1/maintenance/<id>" (base_url without trailing '/'); "" when base_url is
 * NULL or empty. */
void ak__notify_record_url(const char *base_url, int64_t id, struct ak_buf *out);
/* " — deadline Dec 10 02:00 JST" / " — window Dec 10 02:00 JST" / "". */
void ak__notify_when_suffix(const struct ak_maint_rec *r, const struct ak_tz *tz,
                            struct ak_buf *out);

/* The change as JSON: {id, [rec_id,] kind, key, summary, at}. */
struct ak_json *ak__notify_change_json(const struct ak_change *ch, bool with_rec);
/* Appends j serialised compactly (AK_ETOOBIG when out is full, out unchanged). */
int ak__notify_json_into(struct ak_json *j, struct ak_buf *out);

/* Email: a complete message from its parts (render_email.c, used by the digest too). */
struct ak__notify_mail {
    const char *from;
    const char *const *to;
    size_t n_to;
    const char *subject;     /* UTF-8, one line */
    const char *message_id;  /* with or without <> */
    const char *root_id;     /* threading root, may be NULL */
    int64_t date_ms;
    const char *xhdr_name;   /* one extra header ("X-Asakai-Record"), may be NULL */
    const char *xhdr_value;
    const char *text;        /* LF line ends */
    const char *html;
};
int ak__notify_mail_render(const struct ak__notify_mail *m, struct ak_buf *out);
/* Appends s HTML-escaped (& < > " '). */
void ak__notify_html_escape(struct ak_buf *b, const char *s);

/* Slack (render_slack.c, used by the digest too). */
#define AK_SLACK_MAX_BLOCKS 50
#define AK_SLACK_SECTION_MAX 3000
#define AK_SLACK_HEADER_MAX 150
#define AK_SLACK_FALLBACK_MAX 4000
#define AK_SLACK_FIELD_MAX 2000
#define AK_SLACK_TOTAL_MAX 12000 /* Slack refuses ~13,200 chars of block text (msg_blocks_too_long) */

/* Length of s[0..len) as Slack counts it, in UTF-16 code units (never less than characters). */
size_t ak__notify_slack_units(const char *s, size_t len);
/* s as Slack text of at most max units: mrkdwn-escaped (& < >) when escape is set; when it does
 * not fit it is cut and ends with "…" and, when link is non-empty, " <link|full record>".
 * Returns a malloc'ed string. */
char *ak__notify_slack_text(const char *s, bool escape, size_t max, const char *link);
/* label (already mrkdwn, counted but not escaped) followed by ak__notify_slack_text(text, true,
 * max - label's units, link); malloc'ed. */
char *ak__notify_slack_labeled(const char *label, const char *text, size_t max, const char *link);
/* Blocks. header cuts plain to 150 units; section and context take ownership of a malloc'ed
 * mrkdwn string that the caller already made fit. */
struct ak_json *ak__notify_slack_header(const char *plain);
struct ak_json *ak__notify_slack_section(char *mrkdwn);
struct ak_json *ak__notify_slack_context(char *mrkdwn);
/* Sets "channel" and "thread_ts" on the payload j when given. */
void ak__notify_slack_envelope(struct ak_json *j, const char *channel, const char *thread_ts);

#endif
