/* ak_notify.h — notifications (src/notify/): route record changes to receivers through a durable
 * outbox, deliver them (email over SMTP, Slack webhook / chat.postMessage, signed webhook) with
 * backoff, send reminders before deadlines and a daily digest.
 *
 * One worker thread with its own store connection: it turns new changes (ak_store_change_*) into
 * outbox rows for the receivers the routing tree gives (unless an active silence matches), adds
 * reminder changes when a deadline offset passes, adds the daily digest rows, and sends what is
 * due. Delivery is at-least-once: a crash between a send and its commit sends that message again
 * after restart (an email keeps its Message-ID, so clients show one copy).
 */
#ifndef AK_NOTIFY_H
#define AK_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_cfg;
struct ak_json;
struct ak_notify;

int ak_notify_start(const struct ak_cfg *cfg, struct ak_notify **ret, struct ak_buf *err);
void ak_notify_stop(struct ak_notify *n); /* NULL-safe; finishes the send in progress */
/* New changes may be waiting (called after a commit that added changes); cheap, any thread. */
void ak_notify_kick(struct ak_notify *n);

/* The morning report as the daily digest (issue 7; notify sits below the report module, so the
 * daemon supplies it). When build is set and report.enabled, each digest row is sent as the
 * report of its send time: build(arg, at_ms, tz, md, html, json) fills the Markdown, the HTML
 * page and the report's JSON text for zone tz (the receiver's digest zone) and returns AK_OK.
 * Email then carries md as its text part and html as its HTML part, Slack a summary (counts
 * per quadrant and the do-now items), webhooks the JSON. build runs on the sender threads,
 * possibly concurrently: it must be thread-safe (open its own store connection). A failed
 * build sends the plain digest instead. Any thread; build NULL = the plain digest. */
void ak_notify_set_report(struct ak_notify *n,
                          int (*build)(void *arg, int64_t at_ms, const char *tz,
                                       struct ak_buf *md, struct ak_buf *html,
                                       struct ak_buf *json),
                          void *arg);

#endif
