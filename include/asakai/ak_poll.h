/* ak_poll.h — the AWS pollers (src/poll/): pull what push misses, reconcile, show blind spots.
 *
 * A pass asks every enabled poller (ak_cfg.h enum ak_poller_id) in every configured account and
 * region at once: one libcurl multi drives every request (credentials per account — the chain,
 * then STS AssumeRole when the account names a role — pagination, backoff on throttling, one
 * credential refresh on an expired token). When every request has ended, the results are applied
 * in ONE store transaction on the poller's own connection: each item becomes an observation
 * applied like a push (ak_maint_apply_ex; same keys, so a maintenance seen by push and by poll is
 * one record with both sources in its history), its JSON archived verbatim (channel "poll",
 * deduplicated by content). Reconciliation: an item that is missing from a scope's complete
 * answer, or reported completed/canceled, counts a miss; the record closes at the second miss in
 * a row, so one flaky answer never closes a record. A scope whose pass failed (throttled past the
 * retries, denied, unreachable) changes nothing but its own health row; the other scopes still
 * land. The pass runs on its own thread and never blocks intake (SQLite WAL; the transaction is
 * short).
 */
#ifndef AK_POLL_H
#define AK_POLL_H

#include <stdbool.h>
#include <stdint.h>

struct ak_buf;
struct ak_cfg;
struct ak_json;
struct ak_store;
struct ak_poll;

/* Opens the poller's store connection under cfg->data_dir and, when aws.accounts is not empty,
 * starts the poller thread: it runs each enabled poller every pollers.<name>.interval (first
 * pass a few seconds after start, or one interval after the last pass before a restart) and the
 * passes asked for with ak_poll_run_async. cfg must outlive the poller. */
int ak_poll_start(const struct ak_cfg *cfg, struct ak_poll **ret, struct ak_buf *err);
/* Stops the poller thread: a pass in progress is abandoned without changes (its requests end
 * within a second), queued ak_poll_run_async calls get AK_EBUSY. NULL-safe. */
void ak_poll_stop(struct ak_poll *p);
/* Makes a pass in progress end soon: no new request is made, what is in flight finishes, and
 * the pass is abandoned without changing anything. For shutdown, before the HTTP server stops
 * (an API call may be running a pass). NULL-safe. */
void ak_poll_abort(struct ak_poll *p);
/* fn(arg) runs on the poller thread after a pass committed record changes (the notify kick). */
void ak_poll_set_listener(struct ak_poll *p, void (*fn)(void *arg), void *arg);

struct ak_poll_opts {
    const char *poller; /* a poller name ("rds_pending_maintenance"); NULL = every enabled one */
    bool dry_run;       /* make the requests, report what would change, change nothing */
};

/* Queues one pass now on the poller thread (so an HTTP worker never runs or waits for a pass)
 * and returns at once. A named poller runs even when disabled in config. AK_OK when queued: then
 * done(arg, r, report, err) is called exactly once, from the poller thread, when the pass ended —
 * report (owned by the callee; NULL when r < 0) is the JSON object
 *   {"dry_run", "started_at", "duration_ms", "fetch_ms", "requests", "retries", "peak_in_flight",
 *    "scopes": [{"scope","poller","account","region","ok","error","pages","items","seen"}],
 *    "found":  [{"scope","key","kind","status","resource","deadline","title"}],
 *    "changes":[{"scope","key","rec_id","change","what"}]}
 * with change "created", "updated", "closed", "pending-close" (first miss) or "skipped" (an item
 * the maintenance logic refused, with why), unchanged items omitted; r is AK_EBUSY when the
 * poller stopped before or during the pass. Otherwise no call, and AK_EINVAL (unknown poller),
 * AK_ECONFIG (no account configured) or AK_EBUSY (stopping), with the reason in err. */
typedef void (*ak_poll_done_fn)(void *arg, int r, struct ak_json *report, const char *err);
int ak_poll_run_async(struct ak_poll *p, const struct ak_poll_opts *o, ak_poll_done_fn done,
                      void *arg, struct ak_buf *err);

/* The scopes' health (store) for the configured accounts and pollers: JSON array of
 * {"scope","poller","account","region","enabled","interval","last_run_at","last_ok_at",
 *  "last_error","items","seen","runs","failures","note","healthy"}; healthy = last pass ok and
 * last_ok_at within 3 intervals. */
int ak_poll_status(const struct ak_cfg *cfg, struct ak_store *st, int64_t now_ms,
                   struct ak_json **ret, struct ak_buf *err);

/* The coverage report: for every (account, region, service) in the inventory or discovered
 * (poll scopes that saw resources, records), which channels can bring its maintenance —
 * SNS push seen within 30 days (with topics), EventBridge push seen within 30 days, the
 * service's poller (enabled, healthy), the Health API (poller healthy, or unavailable) — and a
 * plain-words verdict: "covered", "partial" (a gap worth knowing) or "blind" (maintenance of this
 * kind cannot reach you). JSON object {"generated_at", "blind_spots": N, "partial": N,
 * "rows": [{"account","region","service","from":["inventory","poller","records"],
 *           "channels": {...}, "verdict", "why"}]}. */
int ak_poll_coverage(const struct ak_cfg *cfg, struct ak_store *st, int64_t now_ms,
                     struct ak_json **ret, struct ak_buf *err);

#endif
