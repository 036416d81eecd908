/* store_search.c — schema v5's full-text index (SQLite FTS5) and ak_store_search().
 *
 * One FTS5 table, search_index (title, body), holds one document per note, runbook instance and
 * maintenance record. The document's rowid says what it is: id * 4 + 1 for a note, + 2 for a
 * runbook, + 3 for a maintenance record, so a trigger finds the document of a row without a
 * mapping table. Triggers rebuild a document whenever a row it is made of changes: the index is
 * current inside the writer's own transaction, whatever code path wrote (intake, poll, API).
 */
#include "asakai/ak_store.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX 1000
#define SEARCH_QUERY_MAX 1000

enum { DOC_NOTE = 1, DOC_RUNBOOK = 2, DOC_MAINT = 3 };

/* A note: its first line (at most 120 characters) as the title; text and tags as the body. */
#define NOTE_DOC                                                                                   \
    "INSERT INTO search_index (rowid, title, body) SELECT n.id * 4 + 1, "                          \
    "substr(n.text, 1, CASE WHEN instr(n.text, char(10)) BETWEEN 1 AND 121 "                       \
    "THEN instr(n.text, char(10)) - 1 ELSE 120 END), "                                             \
    "n.text || ' ' || replace(n.tags, ',', ' ') FROM notes n "

/* A runbook: its title; the template name, variables, every step (what, who, why, command,
 * note) and the run record (notes and outputs, each capped). */
#define RB_DOC                                                                                     \
    "INSERT INTO search_index (rowid, title, body) SELECT b.id * 4 + 2, b.title, "                 \
    "b.template || ' ' || COALESCE(b.owner, '') || ' ' || b.vars || ' ' || "                       \
    "COALESCE((SELECT group_concat(s.step_id || ' ' || COALESCE(s.title, '') || ' ' || "           \
    "COALESCE(s.owner, '') || ' ' || COALESCE(s.body, '') || ' ' || COALESCE(s.command, '') || "   \
    "' ' || COALESCE(s.note, ''), ' ') FROM runbook_steps s WHERE s.runbook_id = b.id), '') || "   \
    "' ' || COALESCE((SELECT group_concat(COALESCE(e.note, '') || ' ' || "                         \
    "substr(COALESCE(e.output, ''), 1, 65536), ' ') FROM runbook_events e "                        \
    "WHERE e.runbook_id = b.id), '') FROM runbooks b "

/* A maintenance record: its title; service, kind, event code, account, region, description,
 * resources and the verbatim payloads that built it (the 20 newest distinct ones, 64 KiB each;
 * JSON's "\n" escapes become spaces so that the next word stays a word). */
#define REC_DOC                                                                                    \
    "INSERT INTO search_index (rowid, title, body) SELECT r.id * 4 + 3, COALESCE(r.title, ''), "   \
    "COALESCE(r.service, '') || ' ' || COALESCE(r.kind, '') || ' ' || "                           \
    "COALESCE(r.event_code, '') || ' ' || COALESCE(r.account, '') || ' ' || "                      \
    "COALESCE(r.region, '') || ' ' || COALESCE(r.description, '') || ' ' || r.resources || ' ' || " \
    "COALESCE((SELECT group_concat(replace(substr(CAST(w.body AS TEXT), 1, 65536), '\\n', ' '), "  \
    "' ') FROM (SELECT DISTINCT x.id, x.body FROM deliveries d JOIN raw x ON x.id = d.raw_id "      \
    "WHERE d.rec_id = r.id ORDER BY x.id DESC LIMIT 20) w), '') FROM records r "

#define REINDEX(k, doc, alias, x)                                                                  \
    "DELETE FROM search_index WHERE rowid = " x " * 4 + " #k "; " doc "WHERE " alias ".id = " x ";"

const char ak__store_v5_sql[] =
    "CREATE TABLE runbooks ("
    "  id INTEGER PRIMARY KEY,"
    "  template TEXT NOT NULL, title TEXT NOT NULL, owner TEXT,"
    "  at INTEGER NOT NULL, tz TEXT NOT NULL,"
    "  vars TEXT NOT NULL DEFAULT '{}',"
    "  maint_id INTEGER REFERENCES records (id),"
    "  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'canceled')),"
    "  created_by TEXT, created_at INTEGER NOT NULL,"
    "  template_text TEXT);"
    "CREATE INDEX runbooks_at ON runbooks (at);"
    "CREATE INDEX runbooks_maint ON runbooks (maint_id) WHERE maint_id IS NOT NULL;"
    "CREATE TABLE runbook_steps ("
    "  runbook_id INTEGER NOT NULL REFERENCES runbooks (id),"
    "  seq INTEGER NOT NULL,"
    "  step_id TEXT NOT NULL, title TEXT, owner TEXT, type TEXT NOT NULL, command TEXT, body TEXT,"
    "  due_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'done', 'failed', 'skipped', 'rolled-back')),"
    "  done_at INTEGER NOT NULL DEFAULT 0, done_by TEXT, note TEXT,"
    "  PRIMARY KEY (runbook_id, step_id),"
    "  UNIQUE (runbook_id, seq));"
    "CREATE INDEX runbook_steps_due ON runbook_steps (due_at) "
    "  WHERE state NOT IN ('done', 'skipped');"
    "CREATE TABLE runbook_events ("
    "  id INTEGER PRIMARY KEY,"
    "  runbook_id INTEGER NOT NULL REFERENCES runbooks (id),"
    "  step_id TEXT, action TEXT NOT NULL, actor TEXT,"
    "  at INTEGER NOT NULL,"
    "  exit_code INTEGER NOT NULL DEFAULT -1,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  output TEXT, note TEXT);"
    "CREATE INDEX runbook_events_rb ON runbook_events (runbook_id, id);"
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  text TEXT NOT NULL,"
    "  tags TEXT NOT NULL DEFAULT '',"
    "  maint_id INTEGER REFERENCES records (id),"
    "  runbook_id INTEGER REFERENCES runbooks (id),"
    "  author TEXT, created_at INTEGER NOT NULL);"
    "CREATE INDEX notes_created ON notes (created_at);"
    "CREATE INDEX notes_maint ON notes (maint_id) WHERE maint_id IS NOT NULL;"
    "CREATE INDEX notes_runbook ON notes (runbook_id) WHERE runbook_id IS NOT NULL;"
    /* porter: "replaced" finds "replacement"; remove_diacritics 2: "café" finds "cafe" */
    "CREATE VIRTUAL TABLE search_index USING fts5 (title, body, "
    "  tokenize = 'porter unicode61 remove_diacritics 2');"
    "CREATE TRIGGER search_note_ins AFTER INSERT ON notes BEGIN "
    NOTE_DOC "WHERE n.id = new.id; END;"
    "CREATE TRIGGER search_note_upd AFTER UPDATE ON notes BEGIN "
    REINDEX(1, NOTE_DOC, "n", "new.id") " END;"
    "CREATE TRIGGER search_note_del AFTER DELETE ON notes BEGIN "
    "DELETE FROM search_index WHERE rowid = old.id * 4 + 1; END;"
    "CREATE TRIGGER search_rb_ins AFTER INSERT ON runbooks BEGIN "
    RB_DOC "WHERE b.id = new.id; END;"
    "CREATE TRIGGER search_rb_upd AFTER UPDATE OF title, template, owner, vars ON runbooks BEGIN "
    REINDEX(2, RB_DOC, "b", "new.id") " END;"
    "CREATE TRIGGER search_rbs_ins AFTER INSERT ON runbook_steps BEGIN "
    REINDEX(2, RB_DOC, "b", "new.runbook_id") " END;"
    "CREATE TRIGGER search_rbs_upd AFTER UPDATE OF note ON runbook_steps "
    "WHEN old.note IS NOT new.note BEGIN "
    REINDEX(2, RB_DOC, "b", "new.runbook_id") " END;"
    "CREATE TRIGGER search_rbe_ins AFTER INSERT ON runbook_events BEGIN "
    REINDEX(2, RB_DOC, "b", "new.runbook_id") " END;"
    "CREATE TRIGGER search_rec_ins AFTER INSERT ON records BEGIN "
    REC_DOC "WHERE r.id = new.id; END;"
    /* the writer updates a record on every observation: rebuild only when searchable text
     * changed (last_seen and the like do not) */
    "CREATE TRIGGER search_rec_upd AFTER UPDATE ON records WHEN "
    "old.title IS NOT new.title OR old.description IS NOT new.description OR "
    "old.resources IS NOT new.resources OR old.service IS NOT new.service OR "
    "old.kind IS NOT new.kind OR old.event_code IS NOT new.event_code OR "
    "old.account IS NOT new.account OR old.region IS NOT new.region BEGIN "
    REINDEX(3, REC_DOC, "r", "new.id") " END;"
    /* a payload joins its record's document once (a repeated delivery adds nothing) */
    "CREATE TRIGGER search_dlv_ins AFTER INSERT ON deliveries WHEN new.raw_id IS NOT NULL AND "
    "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.rec_id = new.rec_id AND "
    "d.raw_id = new.raw_id AND d.id <> new.id) BEGIN "
    REINDEX(3, REC_DOC, "r", "new.rec_id") " END;"
    /* the records (and their payloads) that existed before this version */
    REC_DOC ";";

/* hit_at: a note's creation, a runbook's event time, a record's deadline (else window start,
 * else first sighting). The tag filter: a note's tag, a runbook's template, a record's
 * service. Documents whose row is gone (none should be) are skipped. */
static const char search_sql[] =
    "SELECT h.k, h.xid, h.title, h.snip, h.rank, "
    "CASE h.k WHEN 1 THEN n.created_at WHEN 2 THEN b.at ELSE "
    "COALESCE(NULLIF(r.deadline, 0), NULLIF(r.window_start, 0), r.first_seen) END AS hit_at, "
    "CASE h.k WHEN 1 THEN n.tags WHEN 2 THEN b.template ELSE r.service END "
    "FROM (SELECT rowid & 3 AS k, rowid >> 2 AS xid, title, "
    "snippet(search_index, -1, '[', ']', '...', 16) AS snip, "
    "bm25(search_index, 4.0, 1.0) AS rank FROM search_index WHERE search_index MATCH ?1) h "
    "LEFT JOIN notes n ON h.k = 1 AND n.id = h.xid "
    "LEFT JOIN runbooks b ON h.k = 2 AND b.id = h.xid "
    "LEFT JOIN records r ON h.k = 3 AND r.id = h.xid "
    "WHERE (n.id IS NOT NULL OR b.id IS NOT NULL OR r.id IS NOT NULL) "
    "AND (?2 = 0 OR h.k = ?2) "
    "AND (?3 IS NULL OR (h.k = 1 AND instr(',' || n.tags || ',', ',' || ?3 || ',') > 0) "
    "OR (h.k = 2 AND b.template = ?3) OR (h.k = 3 AND lower(r.service) = ?3)) "
    "AND (?4 = 0 OR hit_at >= ?4) AND (?5 = 0 OR hit_at < ?5) "
    "ORDER BY h.rank, h.k, h.xid LIMIT ?6";

void ak_search_hit_release(struct ak_search_hit *h)
{
    if (!h)
        return;
    free(h->kind);
    free(h->title);
    free(h->snippet);
    free(h->tags);
    memset(h, 0, sizeof(*h));
}

static int kind_code(const char *kind)
{
    if (!kind || !*kind)
        return 0;
    if (strcmp(kind, "note") == 0)
        return DOC_NOTE;
    if (strcmp(kind, "runbook") == 0)
        return DOC_RUNBOOK;
    if (strcmp(kind, "maintenance") == 0)
        return DOC_MAINT;
    return -1;
}

static const char *kind_name(int64_t k)
{
    return k == DOC_NOTE ? "note" : k == DOC_RUNBOOK ? "runbook" : "maintenance";
}

/* The query as plain words: each whitespace-separated word a quoted FTS5 string (quotes inside
 * doubled), so that no character of it is syntax. Empty when q has no word. */
static void plain_words(const char *q, struct ak_buf *out)
{
    const char *p = q;

    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        if (out->len)
            ak_buf_addc(out, ' ');
        ak_buf_addc(out, '"');
        for (; *p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r'; p++) {
            if (*p == '"')
                ak_buf_addc(out, '"');
            ak_buf_addc(out, *p);
        }
        ak_buf_addc(out, '"');
    }
}

static void hit_read(sqlite3_stmt *s, struct ak_search_hit *h)
{
    h->kind = ak_xstrdup(kind_name(ak_store_col_i64(s, 0)));
    h->id = ak_store_col_i64(s, 1);
    h->title = ak_store_col_str(s, 2);
    h->snippet = ak_store_col_str(s, 3);
    h->rank = sqlite3_column_double(s, 4);
    h->at = ak_store_col_i64(s, 5);
    h->tags = ak_store_col_str(s, 6);
}

static void hits_free(struct ak_search_hit *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ak_search_hit_release(&v[i]);
    free(v);
}

/* Runs the search with match expression m; *ret_syntax is set when FTS5 refused m itself. */
static int search_run(struct ak_store *st, const struct ak_search_q *q, int kind, const char *tag,
                      const char *m, struct ak_search_hit **ret, size_t *ret_n, bool *ret_syntax)
{
    struct ak_search_hit *v = NULL;
    size_t n = 0, alloc = 0, limit = q->limit ? q->limit : SEARCH_LIMIT_DEFAULT;
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_SEARCH, search_sql, &s), rc;

    if (limit > SEARCH_LIMIT_MAX)
        limit = SEARCH_LIMIT_MAX;
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, m);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, kind);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, tag);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, q->since_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, q->until_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 6, (int64_t)limit);
    if (r < 0)
        return r;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            v = ak_xrealloc(v, alloc * sizeof(*v));
        }
        memset(&v[n], 0, sizeof(v[n]));
        hit_read(s, &v[n++]);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        hits_free(v, n);
        /* FTS5 reports a bad expression ("syntax error near", "no such column") as a plain
         * SQLITE_ERROR while stepping */
        *ret_syntax = rc == SQLITE_ERROR;
        return ak_store_map_rc(rc);
    }
    *ret = v;
    *ret_n = n;
    return AK_OK;
}

int ak_store_search(struct ak_store *st, const struct ak_search_q *q, struct ak_search_hit **ret,
                    size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    struct ak_buf plain = AK_BUF_INIT(4 * SEARCH_QUERY_MAX);
    struct ak_buf tag = AK_BUF_INIT(256);
    bool syntax = false;
    int kind, r;

    if (!st || !q || !q->query || !ret || !ret_n || strlen(q->query) > SEARCH_QUERY_MAX)
        return AK_EINVAL;
    kind = kind_code(q->kind);
    if (kind < 0)
        return AK_EINVAL;
    plain_words(q->query, &plain);
    if (!plain.len) {
        r = AK_EINVAL;
        goto out;
    }
    for (const char *p = q->tag; p && *p; p++)
        if (ak_buf_addc(&tag, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) < 0) {
            r = AK_EINVAL;
            goto out;
        }
    r = search_run(st, q, kind, q->tag && *q->tag ? tag.buf : NULL, q->query, ret, ret_n,
                   &syntax);
    if (r < 0 && syntax)
        r = search_run(st, q, kind, q->tag && *q->tag ? tag.buf : NULL, plain.buf, ret, ret_n,
                       &syntax);
out:
    ak_buf_release(&plain);
    ak_buf_release(&tag);
    ak_store_op_done(st, t0);
    return r;
}
