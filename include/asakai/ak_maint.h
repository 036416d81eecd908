/* ak_maint.h — the maintenance inbox's domain logic (src/maint/): observation -> record.
 *
 * Turns observations (ak_events.h) into maintenance records (ak_store.h): dedupe, lifecycle
 * (schedule, reschedule, in-progress, completion, cancellation), Health page merge, recurrence,
 * importance. Runs inside the caller's store transaction; never logs.
 */
#ifndef AK_MAINT_H
#define AK_MAINT_H

#include <stdbool.h>
#include <stdint.h>

struct ak_buf;
struct ak_json;
struct ak_obs;
struct ak_store;
struct ak_maint_rec;

struct ak_cfg;
struct ak_cfg_strlist;

struct ak_maint_cfg {
    int64_t recurrence_window_ms; /* default 30 d */
    int64_t important_within_ms;  /* deadline within this is important; default 14 d */
    const struct ak_cfg_strlist *important_rules; /* matcher sets (ak_cfg.h); may be NULL */
};

enum ak_maint_change {
    AK_MAINT_CREATED = 1,
    AK_MAINT_UPDATED,   /* a material change: window, deadline, status, resources */
    AK_MAINT_UNCHANGED, /* a duplicate delivery: recorded in history only */
    AK_MAINT_CLOSED,    /* completed or canceled by this observation */
};

struct ak_maint_result {
    int64_t rec_id;
    enum ak_maint_change change;
    int64_t recurrence_of; /* set when this observation created a recurrence */
    char what[160];        /* one line: "created", "rescheduled 2026-12-10T02:00Z -> ..." */
};

/* The maintenance settings of a loaded configuration (the one place that maps them). */
void ak_maint_cfg_init(struct ak_maint_cfg *mc, const struct ak_cfg *cfg);

/* What record r looks like to routing matchers (strings borrowed from r). */
struct ak_route_input;
void ak_maint_route_input(const struct ak_maint_rec *r, bool important,
                          struct ak_route_input *in);

/* Applies observation o, which arrived in raw message raw_id (channel, message_id), at now_ms.
 * Dedupe: the same key finds the same record; a duplicate only adds a history row. A completed
 * record receiving a new required observation for a different window (or after the completion)
 * starts a new record with recurrence_of set; a stale copy of the completed one does not. */
int ak_maint_apply(struct ak_store *st, const struct ak_maint_cfg *cfg, const struct ak_obs *o,
                   int64_t raw_id, const char *channel, const char *message_id, int64_t now_ms,
                   struct ak_maint_result *ret, struct ak_buf *err);

/* Options of ak_maint_apply_ex (a zeroed struct = ak_maint_apply). */
struct ak_maint_apply_opts {
    bool quiet_unchanged;   /* no history row when the observation changes nothing (a poller
                               sees the same pending item every pass); last_seen still moves */
    bool merge_by_resource; /* when no record has o->key: join the newest open record of the same
                               service and kind family sharing one of o's resources (a poll item
                               meeting the push record of another key) and remember o->key as
                               an alias of it (ak_store_rec_alias_add); the record's sources then
                               list both */
};
int ak_maint_apply_ex(struct ak_store *st, const struct ak_maint_cfg *cfg, const struct ak_obs *o,
                      const struct ak_maint_apply_opts *opts, int64_t raw_id, const char *channel,
                      const char *message_id, int64_t now_ms, struct ak_maint_result *ret,
                      struct ak_buf *err);

/* Closes record rec_id with status ("completed" or "canceled") because a poller confirmed it
 * gone: sets status and closed_at, adds a history row (raw_id 0, channel, message id NULL,
 * change "status <old> -> <status>: <why>") and the status change that notifications announce.
 * A record already closed is left as is (ret->change AK_MAINT_UNCHANGED). AK_ENOTFOUND. */
int ak_maint_close(struct ak_store *st, int64_t rec_id, const char *status, const char *why,
                   const char *channel, int64_t now_ms, struct ak_maint_result *ret,
                   struct ak_buf *err);

/* Normalises one archived raw message (state "pending"): parses it, applies every observation,
 * and sets the raw state (parsed / ignored / unparsed) with a note. Uses its own transaction.
 * A Health observation about exactly one resource is applied with merge_by_resource, so a push
 * that arrives after a poller created the record joins it.
 * summary (may be NULL) gets one line per observation applied. */
int ak_maint_process_raw(struct ak_store *st, const struct ak_maint_cfg *cfg, int64_t raw_id,
                         int64_t now_ms, struct ak_buf *summary, struct ak_buf *err);

/* true when the record is important at now_ms (sticky flag, a deadline within the window, or an
 * explicit rule of cfg->important_rules); reason (may be NULL) gets why. */
bool ak_maint_is_important(const struct ak_maint_cfg *cfg, const struct ak_maint_rec *r,
                           int64_t now_ms, struct ak_buf *reason);

/* The record as the API shows it: the field names of the issue (id, source, service, kind,
 * status, resources, account, region, window_start, window_end, deadline, title, description,
 * first_seen, last_seen, recurrence_of, important, ...), times RFC 3339 UTC or null. */
struct ak_json *ak_maint_rec_json(const struct ak_maint_cfg *cfg, const struct ak_maint_rec *r,
                                  int64_t now_ms);

#endif
