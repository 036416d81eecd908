/* store.c — opening the database, migrations, transactions, the statement cache.
 *
 * One struct ak_store is one SQLite connection opened with SQLITE_OPEN_NOMUTEX: the caller
 * guarantees single-thread use, so SQLite's own mutexes would only cost time on the hot path.
 */
#include "asakai/ak_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

/* "akai" in ASCII: marks the file as ours (PRAGMA application_id). */
#define AK_STORE_APP_ID 0x616B6169

#define REC_COLS                                                                                   \
    "id, key, source, service, kind, family, status, event_code, account, region, "                \
    "window_start, window_end, deadline, title, description, first_seen, last_seen, closed_at, "   \
    "recurrence_of, required, important, important_why, sources, resources, tags, acked_by, "      \
    "ack_note, acked_at"

#define REC_VALUES_27 "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, " \
                      "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27"

#define CHANGE_COLS "id, rec_id, kind, key, summary, at"
#define OUTBOX_COLS                                                                                \
    "id, rec_id, change_id, receiver, key, state, attempts, created_at, next_at, sent_at, "        \
    "last_error, note"
#define SILENCE_COLS "id, matchers, starts_at, ends_at, reason, created_by, created_at, expired_at"

/* A pending outbox row o is at the head of its (record, receiver) queue when no older pending
 * row exists for the pair: the partial index outbox_head answers that with one seek. */
#define OUTBOX_HEAD(o)                                                                             \
    "NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.rec_id = " o ".rec_id "    \
    "AND p.receiver = " o ".receiver AND p.id < " o ".id)"

#define POLL_SCOPE_COLS                                                                            \
    "scope, poller, account, region, last_run_at, last_ok_at, last_error, last_error_at, items, "  \
    "seen, runs, failures, note"
#define POLL_SEEN_COLS "scope, key, rec_id, misses, last_seen_at"

#define STS_CRED_COLS                                                                              \
    "akid, secret_sealed, token_hash, role_arn, assumed_arn, assumed_id, session_name, subject, "  \
    "provider, issued_at, expires_at"
#define STS_AUDIT_COLS                                                                             \
    "id, at, action, result, code, reason, role_arn, provider, subject, audience, "                \
    "session_name, akid, remote, duration_s"

#define REC_DATE "COALESCE(NULLIF(deadline, 0), NULLIF(window_start, 0))"

static const char *const sql_text[AK_SQL__MAX] = {
    [AK_SQL_BEGIN] = "BEGIN IMMEDIATE",
    [AK_SQL_COMMIT] = "COMMIT",
    [AK_SQL_ROLLBACK] = "ROLLBACK",
    [AK_SQL_SAVEPOINT] = "SAVEPOINT ak_op",
    [AK_SQL_RELEASE] = "RELEASE ak_op",
    [AK_SQL_ROLLBACK_TO] = "ROLLBACK TO ak_op",
    [AK_SQL_RAW_INSERT] =
        "INSERT INTO raw (channel, dedupe_id, received_at, remote, meta, body, state, note) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, 'pending'), ?8) "
        "ON CONFLICT (dedupe_id) DO NOTHING",
    [AK_SQL_RAW_ID_BY_DEDUPE] = "SELECT id FROM raw WHERE dedupe_id = ?1",
    [AK_SQL_RAW_GET] = "SELECT id, channel, dedupe_id, received_at, remote, meta, state, note, "
                       "body FROM raw WHERE id = ?1",
    [AK_SQL_RAW_PENDING] = "SELECT id FROM raw WHERE state = 'pending' ORDER BY id LIMIT ?1",
    [AK_SQL_RAW_SET_STATE] = "UPDATE raw SET state = ?2, note = ?3 WHERE id = ?1",
    [AK_SQL_RAW_COUNT_ALL] = "SELECT count(*) FROM raw",
    [AK_SQL_RAW_COUNT_STATE] = "SELECT count(*) FROM raw WHERE state = ?1",
    [AK_SQL_RAW_LIST] = "SELECT id, channel, dedupe_id, received_at, remote, meta, state, note "
                        "FROM raw WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2",
    [AK_SQL_REC_GET] = "SELECT " REC_COLS " FROM records WHERE id = ?1",
    /* the owners through records_key, the aliases through record_keys' primary key: two
     * index seeks for max(id), whatever the size of either table */
    [AK_SQL_REC_LATEST_BY_KEY] =
        "SELECT " REC_COLS " FROM records WHERE id = (SELECT max(m) FROM ("
        "SELECT max(id) AS m FROM records WHERE key = ?1 UNION ALL "
        "SELECT max(rec_id) FROM record_keys WHERE key = ?1))",
    [AK_SQL_REC_INSERT] =
        "INSERT INTO records (key, source, service, kind, family, status, event_code, account, "
        "region, window_start, window_end, deadline, title, description, first_seen, last_seen, "
        "closed_at, recurrence_of, required, important, important_why, sources, resources, tags, "
        "acked_by, ack_note, acked_at) VALUES (" REC_VALUES_27 ")",
    [AK_SQL_REC_UPDATE] =
        "UPDATE records SET key = ?1, source = ?2, service = ?3, kind = ?4, family = ?5, "
        "status = ?6, event_code = ?7, account = ?8, region = ?9, window_start = ?10, "
        "window_end = ?11, deadline = ?12, title = ?13, description = ?14, first_seen = ?15, "
        "last_seen = ?16, closed_at = ?17, recurrence_of = ?18, required = ?19, important = ?20, "
        "important_why = ?21, sources = ?22, resources = ?23, tags = ?24, acked_by = ?25, "
        "ack_note = ?26, acked_at = ?27 WHERE id = ?28",
    [AK_SQL_REC_RES_DELETE] = "DELETE FROM record_resources WHERE rec_id = ?1",
    [AK_SQL_REC_RES_INSERT] =
        "INSERT INTO record_resources (rec_id, pos, resource) VALUES (?1, ?2, ?3)",
    [AK_SQL_REC_RES_GET] =
        "SELECT resource FROM record_resources WHERE rec_id = ?1 ORDER BY pos",
    [AK_SQL_REC_FIND_COMPLETED] =
        "SELECT " REC_COLS " FROM records r WHERE r.status = 'completed' AND r.service = ?1 "
        "AND COALESCE(r.family, r.kind) = ?2 AND r.closed_at >= ?4 AND EXISTS (SELECT 1 FROM "
        "record_resources rr WHERE rr.rec_id = r.id AND rr.resource = ?3) "
        "ORDER BY r.closed_at DESC, r.id DESC LIMIT 1",
    [AK_SQL_REC_FIND_OPEN] =
        "SELECT " REC_COLS " FROM records r WHERE r.id IN (SELECT rr.rec_id FROM "
        "record_resources rr WHERE rr.resource = ?3) AND r.status NOT IN ('completed', "
        "'canceled') AND r.service = ?1 AND COALESCE(r.family, r.kind) = ?2 "
        "ORDER BY r.id DESC LIMIT 1",
    [AK_SQL_REC_ALIAS_ADD] = "INSERT INTO record_keys (key, rec_id) VALUES (?1, ?2) "
                             "ON CONFLICT (key, rec_id) DO NOTHING",
    [AK_SQL_REC_LIST] =
        "SELECT " REC_COLS " FROM records WHERE (?1 OR status NOT IN ('completed', 'canceled')) "
        "AND (NOT ?2 OR deadline > ?3 OR window_start > ?3) AND (?4 IS NULL OR service = ?4) "
        "ORDER BY " REC_DATE " IS NULL, " REC_DATE ", id LIMIT ?5",
    [AK_SQL_DELIVERY_INSERT] =
        "INSERT INTO deliveries (rec_id, raw_id, channel, message_id, at, change) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [AK_SQL_DELIVERY_LIST] = "SELECT id, rec_id, raw_id, channel, message_id, at, change "
                             "FROM deliveries WHERE rec_id = ?1 ORDER BY id",
    [AK_SQL_REC_ACK] =
        "UPDATE records SET acked_by = ?2, ack_note = ?3, acked_at = ?4 WHERE id = ?1",
    [AK_SQL_CHANGE_INSERT] = "INSERT INTO changes (rec_id, kind, key, summary, at) "
                             "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (rec_id, key) DO NOTHING",
    [AK_SQL_CHANGE_ID_BY_KEY] = "SELECT id FROM changes WHERE rec_id = ?1 AND key = ?2",
    [AK_SQL_CHANGE_LIST_AFTER] =
        "SELECT " CHANGE_COLS " FROM changes WHERE id > ?1 ORDER BY id LIMIT ?2",
    [AK_SQL_CHANGE_LIST_REC] = "SELECT " CHANGE_COLS " FROM changes WHERE rec_id = ?1 ORDER BY id",
    [AK_SQL_OUTBOX_INSERT] =
        "INSERT INTO outbox (rec_id, change_id, receiver, key, state, attempts, created_at, "
        "next_at, sent_at, last_error, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
        "ON CONFLICT (rec_id, receiver, key) DO NOTHING",
    [AK_SQL_OUTBOX_ID_BY_KEY] =
        "SELECT id FROM outbox WHERE rec_id = ?1 AND receiver = ?2 AND key = ?3",
    /* Plan (checked by test_store's outbox_due_uses_indexes): SEARCH o USING INDEX outbox_next
     * (next_at<?), then per row SEARCH p USING INDEX outbox_head (rec_id=? AND receiver=? AND
     * id<?); a temp b-tree orders the due rows by id. Without statistics SQLite would prefer
     * the equality on outbox_state and walk every pending row, those in backoff included, so
     * the index is named: only rows due by time are visited. */
    [AK_SQL_OUTBOX_DUE] = "SELECT " OUTBOX_COLS " FROM outbox o INDEXED BY outbox_next "
                          "WHERE o.state = 'pending' AND "
                          "o.next_at <= ?1 AND " OUTBOX_HEAD("o") " ORDER BY o.id LIMIT ?2",
    /* walks outbox_next in time order and stops at the first queue head */
    [AK_SQL_OUTBOX_NEXT_DUE] = "SELECT o.next_at FROM outbox o INDEXED BY outbox_next "
                               "WHERE o.state = 'pending' AND " OUTBOX_HEAD("o") " "
                               "ORDER BY o.next_at LIMIT 1",
    [AK_SQL_OUTBOX_UPDATE] = "UPDATE outbox SET state = ?2, attempts = ?3, next_at = ?4, "
                             "sent_at = ?5, last_error = ?6, note = ?7 WHERE id = ?1",
    [AK_SQL_OUTBOX_GET] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id = ?1",
    [AK_SQL_OUTBOX_LIST_ALL] = "SELECT " OUTBOX_COLS " FROM outbox ORDER BY id DESC LIMIT ?1",
    /* the UNIQUE (rec_id, receiver, key) index serves the rec_id lookup */
    [AK_SQL_OUTBOX_LIST_REC] =
        "SELECT " OUTBOX_COLS " FROM outbox WHERE rec_id = ?1 ORDER BY id LIMIT ?2",
    [AK_SQL_OUTBOX_LIST_STATE] =
        "SELECT " OUTBOX_COLS " FROM outbox WHERE state = ?1 ORDER BY id DESC LIMIT ?2",
    [AK_SQL_OUTBOX_COUNTS] = "SELECT state, count(*) FROM outbox GROUP BY state",
    /* created_at = now: the give-up clock starts again */
    [AK_SQL_OUTBOX_RETRY_ONE] = "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2, "
                                "created_at = ?2 WHERE id = ?1 AND state = 'dead'",
    [AK_SQL_OUTBOX_RETRY_ALL] = "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?1, "
                                "created_at = ?1 WHERE state = 'dead'",
    [AK_SQL_OUTBOX_EXISTS] = "SELECT 1 FROM outbox WHERE id = ?1",
    [AK_SQL_THREAD_GET] = "SELECT ref FROM threads WHERE rec_id = ?1 AND receiver = ?2",
    [AK_SQL_THREAD_SET] = "INSERT INTO threads (rec_id, receiver, ref) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT (rec_id, receiver) DO UPDATE SET ref = excluded.ref",
    [AK_SQL_SILENCE_INSERT] =
        "INSERT INTO silences (matchers, starts_at, ends_at, reason, created_by, created_at, "
        "expired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [AK_SQL_SILENCE_LIST_ALL] = "SELECT " SILENCE_COLS " FROM silences ORDER BY id",
    [AK_SQL_SILENCE_LIST_ACTIVE] =
        "SELECT " SILENCE_COLS " FROM silences WHERE starts_at <= ?1 AND ends_at > ?1 "
        "AND (expired_at = 0 OR expired_at > ?1) ORDER BY id",
    [AK_SQL_SILENCE_EXPIRE] =
        "UPDATE silences SET expired_at = ?2 WHERE id = ?1 AND expired_at = 0",
    [AK_SQL_SILENCE_EXISTS] = "SELECT 1 FROM silences WHERE id = ?1",
    [AK_SQL_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
    [AK_SQL_KV_SET] = "INSERT INTO kv (key, value) VALUES (?1, ?2) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [AK_SQL_POLL_SCOPE_PUT] =
        "INSERT INTO poll_scopes (" POLL_SCOPE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
        "?9, ?10, ?11, ?12, ?13) ON CONFLICT (scope) DO UPDATE SET poller = excluded.poller, "
        "account = excluded.account, region = excluded.region, "
        "last_run_at = excluded.last_run_at, last_ok_at = excluded.last_ok_at, "
        "last_error = excluded.last_error, last_error_at = excluded.last_error_at, "
        "items = excluded.items, seen = excluded.seen, runs = excluded.runs, "
        "failures = excluded.failures, note = excluded.note",
    [AK_SQL_POLL_SCOPE_GET] = "SELECT " POLL_SCOPE_COLS " FROM poll_scopes WHERE scope = ?1",
    [AK_SQL_POLL_SCOPE_LIST] = "SELECT " POLL_SCOPE_COLS " FROM poll_scopes ORDER BY scope",
    [AK_SQL_POLL_SEEN_PUT] =
        "INSERT INTO poll_seen (" POLL_SEEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT (scope, key) DO UPDATE SET rec_id = excluded.rec_id, "
        "misses = excluded.misses, last_seen_at = excluded.last_seen_at",
    [AK_SQL_POLL_SEEN_GET] =
        "SELECT " POLL_SEEN_COLS " FROM poll_seen WHERE scope = ?1 AND key = ?2",
    [AK_SQL_POLL_SEEN_DEL] = "DELETE FROM poll_seen WHERE scope = ?1 AND key = ?2",
    [AK_SQL_POLL_SEEN_LIST] =
        "SELECT " POLL_SEEN_COLS " FROM poll_seen WHERE scope = ?1 ORDER BY key",
    /* json_extract raises an error on text that is not JSON: meta is checked first (CASE
     * evaluates a THEN only when its WHEN holds). Deliveries without a raw message (raw_id
     * NULL: closes by a poller) drop out of the inner join. */
    [AK_SQL_PUSH_SEEN] =
        "SELECT w.channel, CASE WHEN w.channel = 'sns' AND json_valid(w.meta) "
        "THEN json_extract(w.meta, '$.topic_arn') END AS topic, r.account, r.region, "
        "r.service, max(d.at), count(*) FROM deliveries d INDEXED BY deliveries_at "
        "JOIN raw w ON w.id = d.raw_id JOIN records r ON r.id = d.rec_id "
        "WHERE d.at >= ?1 AND w.channel IN ('sns', 'eventbridge') "
        "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
    [AK_SQL_STS_CRED_INSERT] =
        "INSERT INTO sts_creds (" STS_CRED_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11)",
    [AK_SQL_STS_CRED_GET] = "SELECT " STS_CRED_COLS " FROM sts_creds WHERE akid = ?1",
    [AK_SQL_STS_CRED_PURGE] = "DELETE FROM sts_creds WHERE expires_at < ?1",
    [AK_SQL_STS_AUDIT_PURGE] = "DELETE FROM sts_audit WHERE at < ?1 OR id <= "
                               "(SELECT coalesce(max(id), 0) FROM sts_audit) - ?2",
    [AK_SQL_STS_AUDIT_INSERT] =
        "INSERT INTO sts_audit (at, action, result, code, reason, role_arn, provider, subject, "
        "audience, session_name, akid, remote, duration_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, ?11, ?12, ?13)",
    /* newest first by time, then by insertion for rows of the same millisecond */
    [AK_SQL_STS_AUDIT_LIST] = "SELECT " STS_AUDIT_COLS " FROM sts_audit "
                              "WHERE (?1 IS NULL OR result = ?1) "
                              "ORDER BY at DESC, id DESC LIMIT ?2",
};

static int install_id_create(struct ak_store *st, struct ak_buf *err);

/* Schema migrations: step i brings the database to user_version i + 1. Never edit a released
 * step; append a new one. Each runs in its own transaction with the version bump; post (may be
 * NULL) runs after the SQL inside the same transaction, for data SQL cannot make. */
static const struct ak_store_migration migrations[] = {
    {"PRAGMA application_id = 1634427241;" /* AK_STORE_APP_ID */
    "CREATE TABLE raw ("
    "  id INTEGER PRIMARY KEY,"
    "  channel TEXT NOT NULL,"
    "  dedupe_id TEXT NOT NULL UNIQUE,"
    "  received_at INTEGER NOT NULL,"
    "  remote TEXT,"
    "  meta TEXT,"
    "  body BLOB NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  note TEXT);"
    "CREATE INDEX raw_state ON raw (state, id);"
    "CREATE TABLE records ("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL,"
    "  source TEXT, service TEXT, kind TEXT, family TEXT, status TEXT NOT NULL,"
    "  event_code TEXT, account TEXT, region TEXT,"
    "  window_start INTEGER NOT NULL DEFAULT 0, window_end INTEGER NOT NULL DEFAULT 0,"
    "  deadline INTEGER NOT NULL DEFAULT 0,"
    "  title TEXT, description TEXT,"
    "  first_seen INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,"
    "  closed_at INTEGER NOT NULL DEFAULT 0,"
    "  recurrence_of INTEGER REFERENCES records (id),"
    "  required INTEGER NOT NULL DEFAULT 0, important INTEGER NOT NULL DEFAULT 0,"
    "  important_why TEXT, sources TEXT,"
    "  resources TEXT NOT NULL DEFAULT '[]');"
    "CREATE INDEX records_key ON records (key, id);"
    "CREATE INDEX records_status ON records (status);"
    "CREATE INDEX records_deadline ON records (deadline);"
    "CREATE TABLE record_resources ("
    "  rec_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  resource TEXT NOT NULL,"
    "  PRIMARY KEY (rec_id, pos));"
    "CREATE INDEX record_resources_resource ON record_resources (resource);"
    "CREATE TABLE deliveries ("
    "  id INTEGER PRIMARY KEY,"
    "  rec_id INTEGER NOT NULL REFERENCES records (id),"
    "  raw_id INTEGER REFERENCES raw (id),"
    "  channel TEXT, message_id TEXT,"
    "  at INTEGER NOT NULL,"
    "  change TEXT);"
    "CREATE INDEX deliveries_rec ON deliveries (rec_id, id);", NULL},
    /* 2: notifications — record tags and acknowledgement, changes, outbox, threads, silences,
     * kv. Outbox rec_id/change_id are 0 for a digest, hence no foreign key on them. */
    {"ALTER TABLE records ADD COLUMN tags TEXT;"
    "ALTER TABLE records ADD COLUMN acked_by TEXT;"
    "ALTER TABLE records ADD COLUMN ack_note TEXT;"
    "ALTER TABLE records ADD COLUMN acked_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE changes ("
    "  id INTEGER PRIMARY KEY,"
    "  rec_id INTEGER NOT NULL REFERENCES records (id),"
    "  kind TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  summary TEXT,"
    "  at INTEGER NOT NULL,"
    "  UNIQUE (rec_id, key));"
    "CREATE INDEX changes_rec ON changes (rec_id, id);"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  rec_id INTEGER NOT NULL DEFAULT 0,"
    "  change_id INTEGER NOT NULL DEFAULT 0,"
    "  receiver TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'sent', 'dead', 'silenced')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  next_at INTEGER NOT NULL DEFAULT 0,"
    "  sent_at INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT, note TEXT,"
    "  UNIQUE (rec_id, receiver, key));"
    "CREATE INDEX outbox_state ON outbox (state, id);"
    "CREATE INDEX outbox_head ON outbox (rec_id, receiver, id) WHERE state = 'pending';"
    "CREATE INDEX outbox_next ON outbox (next_at) WHERE state = 'pending';"
    "CREATE TABLE threads ("
    "  rec_id INTEGER NOT NULL,"
    "  receiver TEXT NOT NULL,"
    "  ref TEXT NOT NULL,"
    "  PRIMARY KEY (rec_id, receiver)) WITHOUT ROWID;"
    "CREATE TABLE silences ("
    "  id INTEGER PRIMARY KEY,"
    "  matchers TEXT NOT NULL,"
    "  starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,"
    "  reason TEXT, created_by TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  expired_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE kv ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL) WITHOUT ROWID;",
     install_id_create},
    /* 3: pollers — record key aliases (a poll item joined to a push record of another key),
     * per-scope health, the two-poll reconciliation state, and deliveries by time for the
     * coverage report. poll_seen.rec_id has no foreign key: the row is the poller's memory of
     * an item, kept even if the record it pointed at were ever removed. */
    {"CREATE TABLE record_keys ("
    "  key TEXT NOT NULL,"
    "  rec_id INTEGER NOT NULL REFERENCES records (id),"
    "  PRIMARY KEY (key, rec_id)) WITHOUT ROWID;"
    "CREATE INDEX record_keys_rec ON record_keys (rec_id);"
    "CREATE TABLE poll_scopes ("
    "  scope TEXT PRIMARY KEY,"
    "  poller TEXT NOT NULL, account TEXT, region TEXT,"
    "  last_run_at INTEGER NOT NULL DEFAULT 0, last_ok_at INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT, last_error_at INTEGER NOT NULL DEFAULT 0,"
    "  items INTEGER NOT NULL DEFAULT 0, seen INTEGER NOT NULL DEFAULT 0,"
    "  runs INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,"
    "  note TEXT) WITHOUT ROWID;"
    "CREATE TABLE poll_seen ("
    "  scope TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  rec_id INTEGER NOT NULL DEFAULT 0,"
    "  misses INTEGER NOT NULL DEFAULT 0,"
    "  last_seen_at INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (scope, key)) WITHOUT ROWID;"
    "CREATE INDEX deliveries_at ON deliveries (at);", NULL},
    /* 4: the STS twin — credentials it issued (the secret sealed, the session token only as a
     * hash) and the audit of every exchange and signed call. */
    {"CREATE TABLE sts_creds ("
    "  akid TEXT PRIMARY KEY,"
    "  secret_sealed TEXT NOT NULL,"
    "  token_hash TEXT NOT NULL,"
    "  role_arn TEXT NOT NULL, assumed_arn TEXT NOT NULL, assumed_id TEXT NOT NULL,"
    "  session_name TEXT NOT NULL,"
    "  subject TEXT, provider TEXT,"
    "  issued_at INTEGER NOT NULL DEFAULT 0,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sts_creds_expires ON sts_creds (expires_at);"
    "CREATE TABLE sts_audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  result TEXT NOT NULL CHECK (result IN ('allowed', 'denied')),"
    "  code TEXT, reason TEXT, role_arn TEXT, provider TEXT, subject TEXT, audience TEXT,"
    "  session_name TEXT, akid TEXT, remote TEXT,"
    "  duration_s INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX sts_audit_at ON sts_audit (at);", NULL},
    /* 5: runbook instances, their steps and run record, team notes, and the full-text index
     * over notes, runbooks and maintenance records (store_search.c). */
    {ak__store_v5_sql, NULL},
};

static const struct ak_store_kind main_kind = {
    .file = "asakai.db",
    .what = "an asakai database",
    .app_id = AK_STORE_APP_ID,
    .migrations = migrations,
    .n_migrations = (int)AK_ARRAY_SIZE(migrations),
    .setup = "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL",
};

/* The kinds of file the store knows, to say what a refused file is. */
static const struct ak_store_kind *const kinds[] = {&main_kind, &ak__store_metrics_kind};

int64_t ak_store_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ak_store_op_done(struct ak_store *st, int64_t t0)
{
    st->last_op_us = ak_store_mono_us() - t0;
}

int64_t ak_store_last_op_us(const struct ak_store *st)
{
    return st ? st->last_op_us : 0;
}

int ak_store_map_rc(int rc)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_FOREIGNKEY: return AK_ENOTFOUND;
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK: return AK_EINVAL;
    }
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return AK_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return AK_EBUSY;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return AK_EIO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return AK_ECORRUPT;
    case SQLITE_CONSTRAINT: return AK_EEXIST;
    case SQLITE_TOOBIG: return AK_ETOOBIG;
    }
    return AK_EINTERNAL;
}

int ak_store_stmt(struct ak_store *st, enum ak_store_stmt_id id, sqlite3_stmt **ret)
{
    return ak_store_stmt_sql(st, id, sql_text[id], ret);
}

int ak_store_stmt_sql(struct ak_store *st, enum ak_store_stmt_id id, const char *sql,
                      sqlite3_stmt **ret)
{
    sqlite3_stmt *s = st->stmt[id];

    /* a connection runs the statements of its own database (and the transaction ones) only:
     * a wrong store is a clear AK_EINVAL, not an SQL error about a missing table */
    if (id > AK_SQL_ROLLBACK_TO && (id >= AK_SQL_MSERIES_GET) != st->metrics)
        return AK_EINVAL;
    if (!s) {
        if (!sql)
            return AK_EINTERNAL;
        int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
        if (rc != SQLITE_OK)
            return ak_store_map_rc(rc);
        st->stmt[id] = s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    *ret = s;
    return AK_OK;
}

int ak_store_collect(sqlite3_stmt *s, size_t max, size_t elem,
                     void (*read)(sqlite3_stmt *s, void *elem), void (*release)(void *elem),
                     void **ret, size_t *ret_n)
{
    unsigned char *v = NULL;
    size_t n = 0, alloc = 0, bytes;
    int rc = SQLITE_DONE, r = AK_OK;

    while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            AK_BUG_ON(ak_size_mul_overflow(alloc, elem, &bytes));
            v = ak_xrealloc(v, bytes);
        }
        memset(v + n * elem, 0, elem);
        read(s, v + n * elem);
        n++;
    }
    if (n < max && rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    sqlite3_reset(s);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            release(v + i * elem);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return AK_OK;
}

int ak_store_collect_one(sqlite3_stmt *s, size_t elem, void (*read)(sqlite3_stmt *s, void *elem),
                         void *ret)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        memset(ret, 0, elem);
        read(s, ret);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return AK_OK;
    return rc == SQLITE_DONE ? AK_ENOTFOUND : ak_store_map_rc(rc);
}

int ak_store_step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    /* sqlite3_reset() repeats the step's error code; the step's own code is the one we map. */
    sqlite3_reset(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? AK_OK : ak_store_map_rc(rc);
}

int ak_store_bind_str(sqlite3_stmt *s, int i, const char *v)
{
    int rc;

    if (!v)
        rc = sqlite3_bind_null(s, i);
    else {
        size_t n = strlen(v);
        if (n > INT_MAX)
            return AK_ETOOBIG;
        rc = sqlite3_bind_text(s, i, v, (int)n, SQLITE_STATIC);
    }
    return ak_store_map_rc(rc);
}

int ak_store_bind_i64(sqlite3_stmt *s, int i, int64_t v)
{
    return ak_store_map_rc(sqlite3_bind_int64(s, i, v));
}

int ak_store_bind_i64_opt(sqlite3_stmt *s, int i, int64_t v)
{
    return ak_store_map_rc(v ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i));
}

char *ak_store_col_str(sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(s, i);
    int n = sqlite3_column_bytes(s, i);
    return ak_xstrndup(t ? (const char *)t : "", t ? (size_t)n : 0);
}

int64_t ak_store_col_i64(sqlite3_stmt *s, int i)
{
    return sqlite3_column_int64(s, i);
}

static int run_fixed(struct ak_store *st, enum ak_store_stmt_id id)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, id, &s);
    return r < 0 ? r : ak_store_step_done(s);
}

int ak_store_sp_begin(struct ak_store *st)
{
    return run_fixed(st, AK_SQL_SAVEPOINT);
}

int ak_store_sp_end(struct ak_store *st, int r)
{
    if (r == AK_OK) {
        r = run_fixed(st, AK_SQL_RELEASE);
        if (r == AK_OK)
            return AK_OK;
    }
    /* ROLLBACK TO keeps the savepoint open; RELEASE then closes it (and the implicit
     * transaction it began when the caller had none). */
    run_fixed(st, AK_SQL_ROLLBACK_TO);
    run_fixed(st, AK_SQL_RELEASE);
    return r;
}

int ak_store_begin(struct ak_store *st)
{
    int64_t t0 = ak_store_mono_us();
    int r = run_fixed(st, AK_SQL_BEGIN);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_commit(struct ak_store *st)
{
    int64_t t0 = ak_store_mono_us();
    int r = run_fixed(st, AK_SQL_COMMIT);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rollback(struct ak_store *st)
{
    if (!st || sqlite3_get_autocommit(st->db))
        return AK_OK;
    return run_fixed(st, AK_SQL_ROLLBACK);
}

int ak_store_set_durable(struct ak_store *st, bool full)
{
    char *msg = NULL;
    /* a PRAGMA, not a statement we cache: it only runs when the writer switches modes */
    int rc = sqlite3_exec(st->db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                          NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? AK_OK : AK_EIO;
}

int ak_store_schema_version(struct ak_store *st)
{
    return st ? st->version : 0;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int mkdir_p(const char *dir, struct ak_buf *err)
{
    char *p = ak_xstrdup(dir);
    int r = AK_OK;

    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c != 0)
            continue;
        char save = *c;
        *c = 0;
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            r = ak_err(err, AK_EIO, "cannot create data directory %s: %s.", p, strerror(errno));
            goto out;
        }
        *c = save;
        if (!save)
            break;
    }
out:
    free(p);
    return r;
}

/* Fills buf with n bytes from /dev/urandom (the store does not link a crypto library). */
static int urandom_bytes(unsigned char *buf, size_t n, struct ak_buf *err)
{
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return ak_err(err, AK_EIO, "cannot open /dev/urandom: %s.", strerror(errno));
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            close(fd);
            return ak_err(err, AK_EIO, "cannot read /dev/urandom: %s.", strerror(e));
        }
        got += (size_t)k;
    }
    close(fd);
    return AK_OK;
}

/* kv "install_id": 16 random bytes in hex, made once when the kv table is created. It names
 * this installation (e.g. in Message-IDs) without revealing anything about the host. */
static int install_id_create(struct ak_store *st, struct ak_buf *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    char id[2 * sizeof(b) + 1];
    sqlite3_stmt *s = NULL;
    int r = urandom_bytes(b, sizeof(b), err), rc;

    if (r < 0)
        return r;
    for (size_t i = 0; i < sizeof(b); i++) {
        id[2 * i] = hex[b[i] >> 4];
        id[2 * i + 1] = hex[b[i] & 15];
    }
    id[2 * sizeof(b)] = 0;
    rc = sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO kv (key, value) "
                                    "VALUES ('install_id', ?1)", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        r = ak_err(err, ak_store_map_rc(rc), "%s: cannot create the installation id: %s.",
                   st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return r;
}

/* Reads a one-integer PRAGMA (uncached: only used while opening). */
static int pragma_int(sqlite3 *db, const char *sql, int64_t *ret)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *ret = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *ret = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

static int exec_sql(struct ak_store *st, const char *sql, struct ak_buf *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        int r = ak_err(err, ak_store_map_rc(rc), "%s: %s.", st->path,
                       msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return r;
    }
    return AK_OK;
}

static int migrate_step(struct ak_store *st, int to, struct ak_buf *err)
{
    int64_t v = 0;
    char bump[64];
    int r = exec_sql(st, "BEGIN IMMEDIATE", err);

    if (r < 0)
        return r;
    /* Another process may have migrated between our check and BEGIN IMMEDIATE. */
    int rc = pragma_int(st->db, "PRAGMA user_version", &v);
    if (rc != SQLITE_OK) {
        r = ak_err(err, ak_store_map_rc(rc), "%s: %s.", st->path, sqlite3_errmsg(st->db));
        goto out;
    }
    if (v >= to)
        goto out;
    const struct ak_store_migration *m = &st->kind->migrations[to - 1];
    r = exec_sql(st, m->sql, err);
    if (r == AK_OK && m->post)
        r = m->post(st, err);
    if (r < 0)
        goto out;
    snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", to);
    r = exec_sql(st, bump, err);
out:
    if (r < 0) {
        exec_sql(st, "ROLLBACK", NULL);
        return r;
    }
    return exec_sql(st, "COMMIT", err);
}

/* Checks that the file is ours and at a version we know; writes the version to *ret_ver. */
static int check_header(struct ak_store *st, int64_t *ret_ver, struct ak_buf *err)
{
    const struct ak_store_kind *k = st->kind;
    int64_t app = 0, ver = 0, ntables = 0;
    int rc = pragma_int(st->db, "PRAGMA application_id", &app);

    if (rc == SQLITE_OK)
        rc = pragma_int(st->db, "PRAGMA user_version", &ver);
    if (rc == SQLITE_OK)
        rc = pragma_int(st->db, "SELECT count(*) FROM sqlite_master", &ntables);
    if (rc != SQLITE_OK)
        return ak_err(err, ak_store_map_rc(rc), "%s is not %s (%s).", st->path, k->what,
                      sqlite3_errmsg(st->db));
    if (app != k->app_id && (app != 0 || ntables > 0 || ver != 0)) {
        /* name the other asakai file when it is one: the likely mistake is a swapped path */
        for (size_t i = 0; i < AK_ARRAY_SIZE(kinds); i++)
            if (kinds[i]->app_id == app)
                return ak_err(err, AK_ECORRUPT, "%s is not %s (it is %s, application_id %#llx).",
                              st->path, k->what, kinds[i]->what, (unsigned long long)app);
        return ak_err(err, AK_ECORRUPT, "%s is not %s (application_id %#llx, %lld tables).",
                      st->path, k->what, (unsigned long long)app, (long long)ntables);
    }
    if (ver > k->n_migrations)
        return ak_err(err, AK_EUNSUPPORTED,
                      "%s has schema version %lld, newer than this asakai knows (%d); "
                      "upgrade asakai.", st->path, (long long)ver, k->n_migrations);
    *ret_ver = ver;
    return AK_OK;
}

static int migrate(struct ak_store *st, int64_t ver, struct ak_buf *err)
{
    int last = st->kind->n_migrations;

    if (st->mode == AK_STORE_READ) {
        if (ver < last)
            return ak_err(err, ver == 0 ? AK_ENOTFOUND : AK_EUNSUPPORTED,
                          "%s has schema version %lld, not %d; start the daemon (or open it "
                          "for writing) once to create or migrate it.", st->path,
                          (long long)ver, last);
        st->version = (int)ver;
        return AK_OK;
    }
    for (int to = (int)ver + 1; to <= last; to++) {
        int r = migrate_step(st, to, err);
        if (r < 0)
            return r;
    }
    st->version = last;
    return AK_OK;
}

static int configure(struct ak_store *st, struct ak_buf *err)
{
    int r = exec_sql(st, st->kind->setup, err);

    if (r < 0 || st->mode == AK_STORE_READ)
        return r;
    /* page size and auto_vacuum only take on a file without pages: before WAL writes one */
    if (st->kind->create)
        r = exec_sql(st, st->kind->create, err);
    /* WAL lets the API's reader connections run beside the writer. */
    return r < 0 ? r : exec_sql(st, "PRAGMA journal_mode = WAL", err);
}

int ak_store_open(const char *data_dir, int mode, struct ak_store **ret, struct ak_buf *err)
{
    return ak_store_open_kind(data_dir, mode, &main_kind, ret, err);
}

int ak_store_open_kind(const char *data_dir, int mode, const struct ak_store_kind *kind,
                       struct ak_store **ret, struct ak_buf *err)
{
    struct ak_store *st = NULL;
    int flags = SQLITE_OPEN_NOMUTEX;
    int64_t ver = 0;
    int r, rc;

    if (!data_dir || !*data_dir)
        return ak_err(err, AK_EINVAL, "The data directory is not set.");
    if (mode == AK_STORE_WRITE) {
        r = mkdir_p(data_dir, err);
        if (r < 0)
            return r;
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    } else
        flags |= SQLITE_OPEN_READONLY;
    st = ak_xcalloc(1, sizeof(*st));
    st->mode = mode == AK_STORE_WRITE ? AK_STORE_WRITE : AK_STORE_READ;
    st->kind = kind;
    st->metrics = kind->metrics;
    st->path = ak_xasprintf("%s/%s", data_dir, kind->file);
    rc = sqlite3_open_v2(st->path, &st->db, flags, NULL);
    if (rc != SQLITE_OK) {
        r = ak_err(err, rc == SQLITE_CANTOPEN && mode != AK_STORE_WRITE ? AK_ENOTFOUND
                                                                        : ak_store_map_rc(rc),
                   "cannot open %s: %s.", st->path,
                   st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, 5000);
    /* The first read of the header is what tells a foreign file apart: check before WAL. */
    r = check_header(st, &ver, err);
    if (r == AK_OK)
        r = configure(st, err);
    if (r == AK_OK)
        r = migrate(st, ver, err);
out:
    if (r < 0) {
        ak_store_close(st);
        return r;
    }
    *ret = st;
    return AK_OK;
}

void ak_store_close(struct ak_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < AK_SQL__MAX; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close_v2(st->db);
    free(st->periods);
    free(st->path);
    free(st);
}
