/* ak_store.h — asakai's durable state (the only door to SQLite; src/store/).
 *
 * One struct ak_store is one connection: use it from one thread at a time. The daemon has one
 * writer connection (owned by the intake writer thread) and opens reader connections for API
 * reads; WAL lets readers run beside the writer. ak_store_open() with AK_STORE_WRITE runs the
 * versioned migrations. Every write goes through a transaction the caller opens with
 * ak_store_begin() (synchronous=FULL: a commit is durable when it returns).
 *
 * The interface is backend-neutral on purpose (a PostgreSQL backend will implement the same
 * functions for teams that run several replicas): no SQL crosses it.
 * Returned structs own their strings; release them with the matching *_release().
 */
#ifndef AK_STORE_H
#define AK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_store;

enum { AK_STORE_READ = 0, AK_STORE_WRITE = 1 };

/* Opens (creating dir and database when writing) DATA_DIR/asakai.db. A file that is not an
 * asakai database, or one from a newer schema, fails with AK_ECORRUPT / AK_EUNSUPPORTED and a
 * clear reason. busy timeout 5 s. */
int ak_store_open(const char *data_dir, int mode, struct ak_store **ret, struct ak_buf *err);
void ak_store_close(struct ak_store *st); /* NULL-safe */
int ak_store_schema_version(struct ak_store *st);

int ak_store_begin(struct ak_store *st);    /* BEGIN IMMEDIATE */
int ak_store_commit(struct ak_store *st);
int ak_store_rollback(struct ak_store *st); /* NULL-safe, no-op outside a transaction */

/* Durability of the following commits: full (synchronous=FULL, the default: durable when commit
 * returns) or not (synchronous=NORMAL: atomic, but the last commits may be lost on power failure —
 * only for data that can be recomputed from what is durable, like normalisation of the archive). */
int ak_store_set_durable(struct ak_store *st, bool full);

/* Wall time of the last store operation, for the store-latency metric (microseconds). */
int64_t ak_store_last_op_us(const struct ak_store *st);

/* ---- raw archive: every message received, verbatim, kept forever ----------------------- */

struct ak_raw {
    int64_t id;
    char *channel;      /* "sns", "eventbridge", "import", "demo" */
    char *dedupe_id;    /* "sns:<MessageId>", "eb:<event id>", "sha256:<hex of body>" */
    int64_t received_at;
    char *remote;       /* peer address, or "cli" */
    char *meta;         /* JSON object text: selected headers, file name, ...; may be NULL */
    char *body;         /* verbatim bytes (NUL-terminated copy) */
    size_t body_len;
    char *state;        /* "pending" (not yet normalised), "parsed", "ignored" (known, not a
                           maintenance), "unparsed" (unknown shape/invalid; kept), "control"
                           (SNS confirmation messages) */
    char *note;         /* why, for ignored/unparsed; summary for parsed */
};
void ak_raw_release(struct ak_raw *r);

/* Inserts r (id ignored; state "pending" unless r->state is set, e.g. "parsed" for a poll item
 * the poller normalises itself; note kept with it). When a raw message with the
 * same dedupe_id exists, inserts nothing, sets *ret_dup = true and *ret_id to the existing id. */
int ak_store_raw_put(struct ak_store *st, const struct ak_raw *r, int64_t *ret_id, bool *ret_dup);
int ak_store_raw_get(struct ak_store *st, int64_t id, struct ak_raw *ret);
/* Ids of up to max raw messages in state "pending", oldest first (caller frees *ret_ids). */
int ak_store_raw_pending(struct ak_store *st, size_t max, int64_t **ret_ids, size_t *ret_n);
int ak_store_raw_set_state(struct ak_store *st, int64_t id, const char *state, const char *note);
/* Counts raw messages (state NULL = all). */
int ak_store_raw_count(struct ak_store *st, const char *state, int64_t *ret);
/* Lists raw messages newest first, without bodies (body NULL), state NULL = all. */
int ak_store_raw_list(struct ak_store *st, const char *state, size_t limit, struct ak_raw **ret,
                      size_t *ret_n);

/* ---- maintenance records -------------------------------------------------------------- */

struct ak_maint_rec {
    int64_t id;
    char *key;           /* dedupe key (several records share one across a recurrence chain) */
    char *source;        /* source of the first observation */
    char *service, *kind, *status, *event_code, *account, *region;
    char **resources;
    size_t n_resources;
    int64_t window_start, window_end, deadline; /* 0 = unknown */
    char *title, *description;
    int64_t first_seen, last_seen, closed_at;   /* closed_at: when completed/canceled, else 0 */
    int64_t recurrence_of;                      /* 0 = none */
    bool required;
    bool important;      /* sticky importance (required, rescheduled, recurrence) */
    char *important_why; /* comma-separated reasons, may be NULL */
    char *sources;       /* comma-separated distinct sources seen ("aws.health,elasticache-sns") */
    char *tags;          /* resource tags as a JSON object text ({"env":"prod"}), may be NULL */
    char *acked_by;      /* who acknowledged it (stops reminders), NULL when not acknowledged */
    char *ack_note;
    int64_t acked_at;
    char *family;        /* ak_kind_family(service, kind), stored for the recurrence lookup;
                            NULL = the kind itself (added for ak_store_rec_find_completed) */
};
void ak_maint_rec_release(struct ak_maint_rec *r);

int ak_store_rec_get(struct ak_store *st, int64_t id, struct ak_maint_rec *ret);
/* The newest record (highest id) with this key; AK_ENOTFOUND if none. */
int ak_store_rec_latest_by_key(struct ak_store *st, const char *key, struct ak_maint_rec *ret);
/* Inserts r (r->id ignored); writes the new id. Resources are indexed for lookup. */
int ak_store_rec_insert(struct ak_store *st, const struct ak_maint_rec *r, int64_t *ret_id);
/* Remembers key as another key of record rec_id (idempotent): ak_store_rec_latest_by_key then
 * also finds the record by it (the newest of the records owning or aliasing the key). Used when a
 * poll item joins a push record whose key differs (an EC2 scheduled event and its Health event). */
int ak_store_rec_alias_add(struct ak_store *st, const char *key, int64_t rec_id);
/* The newest open record (status not completed/canceled) of service whose family (ak_kind_family
 * of its kind) is family and whose resources include resource; AK_ENOTFOUND if none. */
int ak_store_rec_find_open(struct ak_store *st, const char *service, const char *family,
                           const char *resource, struct ak_maint_rec *ret);
/* Overwrites every field of record r->id (resources replaced). */
int ak_store_rec_update(struct ak_store *st, const struct ak_maint_rec *r);
/* The most recently closed record with status "completed" of this service whose kind is in the
 * given family (ak_kind_family) and that shares resource, closed at or after since_ms. */
int ak_store_rec_find_completed(struct ak_store *st, const char *service, const char *family,
                                const char *resource, int64_t since_ms, struct ak_maint_rec *ret);

struct ak_rec_filter {
    bool all;             /* false: open records only (status not completed/canceled) */
    bool upcoming;        /* only records whose deadline or window_start is in the future */
    int64_t now_ms;       /* for upcoming */
    const char *service;  /* NULL = any */
    size_t limit;         /* 0 = 1000 */
};
/* Records matching f, soonest deadline (else window_start) first, unknown dates last. */
int ak_store_rec_list(struct ak_store *st, const struct ak_rec_filter *f, struct ak_maint_rec **ret,
                      size_t *ret_n);

/* ---- history: every delivery that touched a record ----------------------------------- */

struct ak_delivery {
    int64_t id;
    int64_t rec_id;
    int64_t raw_id;
    char *channel;       /* copied from the raw message */
    char *message_id;    /* the source's own id (SNS MessageId, event id, ...) */
    int64_t at;          /* when it was applied */
    char *change;        /* "created", "rescheduled: ...", "status scheduled -> completed",
                            "duplicate", "page 2/3", "unchanged" */
};
void ak_delivery_release(struct ak_delivery *d);
int ak_store_delivery_add(struct ak_store *st, const struct ak_delivery *d, int64_t *ret_id);
/* Oldest first. */
int ak_store_delivery_list(struct ak_store *st, int64_t rec_id, struct ak_delivery **ret,
                           size_t *ret_n);

/* ---- changes: the material changes of records, in order (what notifications are about) -- */

struct ak_change {
    int64_t id;
    int64_t rec_id;
    char *kind;     /* "created", "rescheduled", "status", "deadline", "resources", "reminder",
                       "ack", "silenced" */
    char *key;      /* stable identity of this change for its record: "created",
                       "status:completed", "window:<start ms>:<deadline ms>", "reminder:7d:<deadline ms>",
                       "ack" — the outbox refuses a second message for the same (record, receiver,
                       key) */
    char *summary;  /* one line: "rescheduled from Dec 10 02:00 to Dec 17 02:00" */
    int64_t at;
};
void ak_change_release(struct ak_change *c);
/* Adds a change unless one with the same (rec_id, key) exists (then *ret_dup). */
int ak_store_change_add(struct ak_store *st, const struct ak_change *c, int64_t *ret_id,
                        bool *ret_dup);
/* Changes with id > after_id, oldest first. */
int ak_store_change_list_after(struct ak_store *st, int64_t after_id, size_t max,
                               struct ak_change **ret, size_t *ret_n);
/* A record's changes, oldest first (its history besides deliveries). */
int ak_store_change_list_rec(struct ak_store *st, int64_t rec_id, struct ak_change **ret,
                             size_t *ret_n);

/* Acknowledges record id (by, note); AK_ENOTFOUND. Adds the "ack" change. */
int ak_store_rec_ack(struct ak_store *st, int64_t id, const char *by, const char *note,
                     int64_t now_ms);

/* ---- outbox: one row per (record change, receiver); the delivery worker's queue --------- */

struct ak_outbox {
    int64_t id;
    int64_t rec_id;      /* 0 for a digest */
    int64_t change_id;   /* 0 for a digest */
    char *receiver;
    char *key;           /* the change key, or "digest:<local date>" */
    char *state;         /* "pending", "sent", "dead", "silenced" */
    int attempts;
    int64_t created_at, next_at, sent_at;
    char *last_error;
    char *note;          /* e.g. "silenced by #3 (db migration week)" */
};
void ak_outbox_release(struct ak_outbox *o);
/* Adds a row in o->state (default "pending") unless (rec_id, receiver, key) exists (*ret_dup). */
int ak_store_outbox_add(struct ak_store *st, const struct ak_outbox *o, int64_t *ret_id,
                        bool *ret_dup);
/* Pending rows due at now_ms, at most one per (rec_id, receiver) — the oldest — so that a
 * record's messages reach a receiver in order; oldest first. */
int ak_store_outbox_due(struct ak_store *st, int64_t now_ms, size_t max, struct ak_outbox **ret,
                        size_t *ret_n);
/* The earliest next_at of the pending rows that can go next (the oldest of their record and
 * receiver), 0 when none: rows waiting behind one in backoff do not count. */
int ak_store_outbox_next_due(struct ak_store *st, int64_t *ret_ms);
/* Writes state, attempts, next_at, sent_at, last_error, note of row o->id. */
int ak_store_outbox_update(struct ak_store *st, const struct ak_outbox *o);
int ak_store_outbox_get(struct ak_store *st, int64_t id, struct ak_outbox *ret);
/* Newest first; state NULL = all. */
int ak_store_outbox_list(struct ak_store *st, const char *state, size_t limit,
                         struct ak_outbox **ret, size_t *ret_n);
/* A record's rows, oldest first (at most 10,000). */
int ak_store_outbox_list_rec(struct ak_store *st, int64_t rec_id, struct ak_outbox **ret,
                             size_t *ret_n);
/* Counts by state into the four counters (any may be NULL). */
int ak_store_outbox_counts(struct ak_store *st, int64_t *pending, int64_t *sent, int64_t *dead,
                           int64_t *silenced);
/* Moves dead row id (0 = every dead row) back to pending, due now, with a fresh give-up clock
 * (created_at = now, attempts = 0); *ret_n rows moved. */
int ak_store_outbox_retry(struct ak_store *st, int64_t id, int64_t now_ms, int64_t *ret_n);

/* Per (record, receiver) threading state: the email root Message-ID, the Slack thread ts. */
int ak_store_thread_get(struct ak_store *st, int64_t rec_id, const char *receiver, char **ret_ref);
int ak_store_thread_set(struct ak_store *st, int64_t rec_id, const char *receiver, const char *ref);

/* ---- silences --------------------------------------------------------------------------- */

struct ak_silence {
    int64_t id;
    char *matchers;     /* ak_matchers_format text: "service=rds,kind=~node.*" */
    int64_t starts_at, ends_at;
    char *reason, *created_by;
    int64_t created_at;
    int64_t expired_at; /* set by "silence expire"; 0 otherwise */
};
void ak_silence_release(struct ak_silence *s);
int ak_store_silence_add(struct ak_store *st, const struct ak_silence *s, int64_t *ret_id);
/* active_at != 0: only silences active then (starts <= t < ends, not expired). */
int ak_store_silence_list(struct ak_store *st, int64_t active_at, struct ak_silence **ret,
                          size_t *ret_n);
int ak_store_silence_expire(struct ak_store *st, int64_t id, int64_t now_ms);

/* ---- pollers: per-scope health and the two-poll reconciliation state (schema v3) -------- */

/* One scope = one poller in one account and region ("<poller>:<account>:<region>"; Health
 * uses region "global"). */
struct ak_poll_scope {
    char *scope;
    char *poller, *account, *region;
    int64_t last_run_at;   /* last pass that reached this scope (ok or not); 0 = never */
    int64_t last_ok_at;    /* last complete pass (every page); 0 = never */
    char *last_error;      /* NULL when the last pass succeeded; else one line (AWS code+message) */
    int64_t last_error_at;
    int64_t items;         /* observations in the last complete pass */
    int64_t seen;          /* resources described in the last complete pass (n_seen) */
    int64_t runs, failures;/* counters since the scope first ran */
    char *note;            /* a standing condition said once, e.g. "the Health API needs a
                              Business, Enterprise On-Ramp or Enterprise Support plan
                              (SubscriptionRequiredException)"; NULL = none */
};
void ak_poll_scope_release(struct ak_poll_scope *s);
/* Inserts or replaces the row of s->scope. */
int ak_store_poll_scope_put(struct ak_store *st, const struct ak_poll_scope *s);
/* AK_ENOTFOUND when the scope never ran. */
int ak_store_poll_scope_get(struct ak_store *st, const char *scope, struct ak_poll_scope *ret);
/* Every scope, ordered by scope. */
int ak_store_poll_scope_list(struct ak_store *st, struct ak_poll_scope **ret, size_t *ret_n);

/* An item a scope's poller saw pending, with how many passes in a row it has been missing (or
 * reported completed): the record closes at 2, so one flaky answer never closes it. */
struct ak_poll_seen {
    char *scope;
    char *key;             /* the observation key */
    int64_t rec_id;
    int misses;
    int64_t last_seen_at;
};
void ak_poll_seen_release(struct ak_poll_seen *s);
int ak_store_poll_seen_put(struct ak_store *st, const struct ak_poll_seen *s); /* upsert */
int ak_store_poll_seen_get(struct ak_store *st, const char *scope, const char *key,
                           struct ak_poll_seen *ret); /* AK_ENOTFOUND */
int ak_store_poll_seen_del(struct ak_store *st, const char *scope, const char *key);
/* Every row of scope, ordered by key. */
int ak_store_poll_seen_list(struct ak_store *st, const char *scope, struct ak_poll_seen **ret,
                            size_t *ret_n);

/* Push deliveries (channels "sns" and "eventbridge") applied to records at or after since_ms,
 * grouped by channel, topic (the raw message's meta topic_arn; NULL for EventBridge) and the
 * record's account, region and service; for the coverage report. */
struct ak_push_seen {
    char *channel, *topic, *account, *region, *service;
    int64_t last_at;
    int64_t count;
};
void ak_push_seen_release(struct ak_push_seen *p);
int ak_store_push_seen(struct ak_store *st, int64_t since_ms, struct ak_push_seen **ret,
                       size_t *ret_n);

/* ---- the STS twin (issue 5, schema v4): issued credentials and the exchange audit -------- */

struct ak_sts_cred {
    char *akid;            /* "ASIA..." */
    char *secret_sealed;   /* base64 of ak_seal(secret) with aad = akid: never stored in clear */
    char *token_hash;      /* hex SHA-256 of the session token (the token itself is not kept) */
    char *role_arn;        /* arn:aws:iam::<acct>:role/<name> */
    char *assumed_arn;     /* arn:aws:sts::<acct>:assumed-role/<name>/<session> */
    char *assumed_id;      /* AROA...:<session> */
    char *session_name;
    char *subject;         /* the token's sub */
    char *provider;        /* provider ARN */
    int64_t issued_at, expires_at;
};
void ak_sts_cred_release(struct ak_sts_cred *c);
int ak_store_sts_cred_put(struct ak_store *st, const struct ak_sts_cred *c); /* AK_EEXIST */
int ak_store_sts_cred_get(struct ak_store *st, const char *akid, struct ak_sts_cred *ret);
/* Deletes credentials that expired before before_ms; *ret_n (may be NULL) rows deleted. */
int ak_store_sts_cred_purge(struct ak_store *st, int64_t before_ms, int64_t *ret_n);

/* One exchange or signed call, allowed or denied. */
struct ak_sts_audit {
    int64_t id;
    int64_t at;
    char *action;          /* "AssumeRoleWithWebIdentity", "GetCallerIdentity", "api" */
    char *result;          /* "allowed" | "denied" */
    char *code;            /* AWS error code when denied ("AccessDenied", "InvalidIdentityToken") */
    char *reason;          /* the real reason (never sent to the caller beyond AWS's words) */
    char *role_arn, *provider, *subject, *audience, *session_name, *akid, *remote;
    int64_t duration_s;
};
void ak_sts_audit_release(struct ak_sts_audit *a);
int ak_store_sts_audit_add(struct ak_store *st, const struct ak_sts_audit *a, int64_t *ret_id);
/* Retention: deletes rows older than before_ms and all but the newest keep_max (> 0) rows, so
 * a flood of unauthenticated requests cannot grow the table without bound. */
int ak_store_sts_audit_purge(struct ak_store *st, int64_t before_ms, int64_t keep_max,
                             int64_t *ret_n);
/* Newest first; result NULL = both. */
int ak_store_sts_audit_list(struct ak_store *st, const char *result, size_t limit,
                            struct ak_sts_audit **ret, size_t *ret_n);

/* ---- runbooks, notes, search (issue 7, schema v5) ---------------------------------------- */

struct ak_rb_instance {
    int64_t id;
    char *template_name, *title, *owner;
    int64_t at_ms;            /* the event time */
    char *tz;
    char *vars;               /* JSON object text {"cluster": "prod-redis"} */
    int64_t maint_id;         /* linked maintenance record, 0 = none */
    char *status;             /* "open", "done", "canceled" */
    char *created_by;
    int64_t created_at;
    char *template_text;      /* the template as it was when the instance was made */
};
void ak_rb_instance_release(struct ak_rb_instance *r);

struct ak_rb_step_row {
    int64_t runbook_id;
    int seq;                  /* order in the template */
    char *step_id, *title, *owner, *type, *command, *body;
    int64_t due_at;
    char *state;              /* "pending", "done", "failed", "skipped", "rolled-back" */
    int64_t done_at;
    char *done_by, *note;
};
void ak_rb_step_row_release(struct ak_rb_step_row *s);

/* One action in the run record: who, when, what, exit code, output (redacted), note. */
struct ak_rb_event {
    int64_t id, runbook_id;
    char *step_id;
    char *action;             /* "done", "run", "check", "wait", "rollback", "dry-run", "note" */
    char *by;
    int64_t at;
    int exit_code;            /* -1 when not a command */
    int64_t duration_ms;
    char *output;             /* captured, redacted, capped */
    char *note;
};
void ak_rb_event_release(struct ak_rb_event *e);

/* Inserts the instance and its steps (steps[i].runbook_id ignored) in the caller's transaction;
 * writes the new id. */
int ak_store_rb_create(struct ak_store *st, const struct ak_rb_instance *r,
                       const struct ak_rb_step_row *steps, size_t n_steps, int64_t *ret_id);
int ak_store_rb_get(struct ak_store *st, int64_t id, struct ak_rb_instance *ret); /* ENOTFOUND */
/* Newest event time first; all = include done/canceled. */
int ak_store_rb_list(struct ak_store *st, bool all, size_t limit, struct ak_rb_instance **ret,
                     size_t *ret_n);
/* Instances linked to a maintenance record. */
int ak_store_rb_list_maint(struct ak_store *st, int64_t maint_id, struct ak_rb_instance **ret,
                           size_t *ret_n);
int ak_store_rb_set_status(struct ak_store *st, int64_t id, const char *status);
int ak_store_rb_steps(struct ak_store *st, int64_t runbook_id, struct ak_rb_step_row **ret,
                      size_t *ret_n); /* template order */
/* Sets state, done_at, done_by, note of one step; AK_ENOTFOUND. */
int ak_store_rb_step_update(struct ak_store *st, const struct ak_rb_step_row *s);
/* Steps not done/skipped due at or before until_ms (across open instances), soonest first. */
int ak_store_rb_steps_due(struct ak_store *st, int64_t until_ms, size_t limit,
                          struct ak_rb_step_row **ret, size_t *ret_n);
int ak_store_rb_event_add(struct ak_store *st, const struct ak_rb_event *e, int64_t *ret_id);
int ak_store_rb_events(struct ak_store *st, int64_t runbook_id, struct ak_rb_event **ret,
                       size_t *ret_n); /* oldest first */

struct ak_note {
    int64_t id;
    char *text;
    char *tags;               /* comma-separated, lowercase */
    int64_t maint_id, runbook_id; /* 0 = none */
    char *author;
    int64_t created_at;
};
void ak_note_release(struct ak_note *n);
int ak_store_note_add(struct ak_store *st, const struct ak_note *n, int64_t *ret_id);
int ak_store_note_get(struct ak_store *st, int64_t id, struct ak_note *ret);
int ak_store_note_list(struct ak_store *st, const char *tag, int64_t maint_id, int64_t runbook_id,
                       size_t limit, struct ak_note **ret, size_t *ret_n); /* newest first */

/* Full-text search (SQLite FTS5, bm25 ranking) over notes, runbook instances (title, steps,
 * run-record notes and outputs) and maintenance records (title, description, resources, raw
 * payloads). The index is kept current by the write functions above and by record/raw writes. */
struct ak_search_hit {
    char *kind;               /* "note", "runbook", "maintenance" */
    int64_t id;
    char *title;
    char *snippet;            /* with matches wrapped in [ ] */
    double rank;              /* lower is better (bm25) */
    int64_t at;               /* created / event time */
    char *tags;               /* notes: tags; maintenance: service; runbook: template */
};
void ak_search_hit_release(struct ak_search_hit *h);
struct ak_search_q {
    const char *query;        /* words (implicit AND); "quoted phrases"; a malformed query is
                                 retried as plain words, never an FTS syntax error to the user */
    const char *kind;         /* NULL = all */
    const char *tag;          /* notes with this tag, maintenance of this service, runbooks of
                                 this template; NULL = any */
    int64_t since_ms, until_ms; /* 0 = unbounded */
    size_t limit;             /* 0 = 20 */
};
int ak_store_search(struct ak_store *st, const struct ak_search_q *q, struct ak_search_hit **ret,
                    size_t *ret_n);

/* ---- small persistent values (cursors, installation id) ---------------------------------- */
int ak_store_kv_get(struct ak_store *st, const char *key, char **ret);
int ak_store_kv_set(struct ak_store *st, const char *key, const char *value);

/* ---- monitoring time series (issue 6): a second database, DATA_DIR/metrics.db ------------
 *
 * Kept apart from asakai.db so the scrape writes (every few seconds) never wait on, or bloat,
 * the maintenance archive, and so its size on disk can be measured alone. Same rules: one
 * connection per thread, writes inside ak_store_begin/commit. The metrics database uses WAL
 * with synchronous=NORMAL: a commit is atomic and survives a crash of the process; a power
 * failure may lose the last commits, never corrupt the file.
 * Only the functions of this section work on a metrics store, and only they do (the others,
 * and these on asakai.db, return AK_EINVAL); ak_store_begin/commit/rollback/close work on both.
 */

/* Opens (creating dir and file when writing) DATA_DIR/metrics.db, migrations as ak_store_open.
 * A file that is not an asakai metrics database fails with AK_ECORRUPT. */
int ak_store_open_metrics(const char *data_dir, int mode, struct ak_store **ret,
                          struct ak_buf *err);

enum ak_mtype { AK_MTYPE_GAUGE = 0, AK_MTYPE_COUNTER = 1, AK_MTYPE_UNTYPED = 2 };

/* One series: a metric name with a label set. */
struct ak_mseries {
    int64_t id;
    char *key;          /* canonical key name{a="x",b="y"} (ak_expo_series_key), unique */
    char *metric;       /* name */
    char *service;      /* the "service" label, else "job", else "" */
    char *labels;       /* JSON object text of all labels, e.g. {"instance":"h1","job":"node"} */
    int type;           /* enum ak_mtype */
    int64_t first_ms;   /* oldest sample time */
    int64_t last_ms;    /* newest sample time */
    double last_value;  /* value of the newest sample */
};
void ak_mseries_release(struct ak_mseries *s); /* NULL-safe; frees the strings */

/* Inserts the series when key is new (first_ms = last_ms = 0) and writes its id; an existing key
 * keeps its row (metric/service/labels/type unchanged) and gives its id. */
int ak_store_mseries_put(struct ak_store *st, const char *key, const char *metric,
                         const char *service, const char *labels_json, int type,
                         int64_t *ret_id);
/* Widens [first_ms, last_ms] to include [from_ms, to_ms] and, when to_ms is the new last,
 * sets last_value. */
int ak_store_mseries_touch(struct ak_store *st, int64_t id, int64_t from_ms, int64_t to_ms,
                           double last_value);
int ak_store_mseries_get(struct ak_store *st, const char *key, struct ak_mseries *ret);
/* Series of service (NULL = all) whose metric matches glob (NULL = all; '*' and '?'), by key. */
int ak_store_mseries_list(struct ak_store *st, const char *service, const char *glob,
                          struct ak_mseries **ret, size_t *ret_n);

/* Raw samples are kept as encoded chunks (ak_tsdb, up to 120 samples): one row per chunk,
 * keyed (series, start_ms). put replaces the row of the same key: the open chunk of a series is
 * re-written as it grows, so what was ingested is on disk after the next commit. */
int ak_store_mchunk_put(struct ak_store *st, int64_t series_id, int64_t start_ms, int64_t end_ms,
                        unsigned n, const uint8_t *data, size_t len);
/* Calls fn for every chunk of series_id overlapping [from_ms, to_ms], by start_ms. A non-zero
 * return of fn stops and is returned. The data pointer is valid only during the call. */
typedef int (*ak_mchunk_fn)(void *arg, int64_t start_ms, int64_t end_ms, unsigned n,
                            const uint8_t *data, size_t len);
int ak_store_mchunk_each(struct ak_store *st, int64_t series_id, int64_t from_ms, int64_t to_ms,
                         ak_mchunk_fn fn, void *arg);
/* The newest chunk of series_id (for appending after a restart); AK_ENOTFOUND when none.
 * *ret_data is malloc'ed. */
int ak_store_mchunk_last(struct ak_store *st, int64_t series_id, int64_t *ret_start_ms,
                         int64_t *ret_end_ms, unsigned *ret_n, uint8_t **ret_data,
                         size_t *ret_len);

/* The ingest log of the monitoring engine (its write-ahead log): opaque records, one per ingest
 * batch, numbered in append order. put appends (AK_ETOOBIG over 64 MiB) and writes the record's
 * id; each calls fn for every record, oldest first (a non-zero return of fn stops and is
 * returned; the data pointer is valid only during the call); trim deletes the records with
 * id <= upto_id. */
int ak_store_mlog_put(struct ak_store *st, const uint8_t *data, size_t len, int64_t *ret_id);
typedef int (*ak_mlog_fn)(void *arg, int64_t id, const uint8_t *data, size_t len);
int ak_store_mlog_each(struct ak_store *st, ak_mlog_fn fn, void *arg);
int ak_store_mlog_trim(struct ak_store *st, int64_t upto_id);

/* Downsampled points (tier 0 = minute, 1 = hour; the fields of struct ak_tsdb_point), keyed
 * (series, tier, start_ms); put replaces. */
struct ak_mpoint {
    int64_t start_ms;
    double min, max, sum, first, last;
    uint64_t count, decreases;
};
int ak_store_mpoint_put(struct ak_store *st, int64_t series_id, int tier,
                        const struct ak_mpoint *p);
/* Points of series_id in tier with start_ms in [from_ms, to_ms), oldest first (malloc'ed).
 * AK_ETOOBIG when more than 1,000,000 points match (two years of minutes): ask in parts. */
int ak_store_mpoint_range(struct ak_store *st, int64_t series_id, int tier, int64_t from_ms,
                          int64_t to_ms, struct ak_mpoint **ret, size_t *ret_n);
/* start_ms of the newest point of series_id in tier; AK_ENOTFOUND when none. */
int ak_store_mpoint_last(struct ak_store *st, int64_t series_id, int tier, int64_t *ret_start_ms);

/* Retention: deletes chunks ending before raw_before_ms, minute points starting before
 * minute_before_ms and hour points before hour_before_ms (0 = keep), in bounded batches inside
 * the caller's transaction. *ret_deleted (may be NULL) = chunk rows plus tier points deleted. */
int ak_store_mretain(struct ak_store *st, int64_t raw_before_ms, int64_t minute_before_ms,
                     int64_t hour_before_ms, int64_t *ret_deleted);

struct ak_mstats {
    int64_t series;
    int64_t chunks;
    int64_t raw_samples;      /* Σ n over chunks */
    int64_t chunk_bytes;      /* Σ encoded bytes */
    int64_t chunk_table_bytes;/* pages of the chunk table on disk (dbstat), -1 if unknown */
    int64_t points[2];        /* minute, hour */
    int64_t file_bytes;       /* page_count × page_size of the whole database */
};
int ak_store_mstats(struct ak_store *st, struct ak_mstats *ret);

/* Deploy markers (`asakai deploy mark`, POST /api/v1/deploys). */
struct ak_deploy {
    int64_t id;
    char *service;
    char *version;      /* may be NULL */
    int64_t at_ms;
    char *by;           /* who marked it ("cli", an API caller), may be NULL */
    char *note;         /* may be NULL */
};
void ak_deploy_release(struct ak_deploy *d);
int ak_store_deploy_add(struct ak_store *st, const struct ak_deploy *d, int64_t *ret_id);
/* Markers of service (NULL = all) with at_ms in [from_ms, to_ms], oldest first. */
int ak_store_deploy_list(struct ak_store *st, const char *service, int64_t from_ms,
                         int64_t to_ms, struct ak_deploy **ret, size_t *ret_n);

/* Results of the daily review, as JSON text; the newest 60 are kept. */
int ak_store_review_put(struct ak_store *st, int64_t at_ms, const char *json);
/* The newest result; AK_ENOTFOUND when none. *ret_json malloc'ed. */
int ak_store_review_latest(struct ak_store *st, int64_t *ret_at_ms, char **ret_json);

#endif
