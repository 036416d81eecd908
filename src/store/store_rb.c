/* store_rb.c — runbook instances, their steps and run record, and team notes (schema v5).
 * The full-text index follows these tables through triggers (store_search.c). */
#include "asakai/ak_store.h"

#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

#define LIST_DEFAULT 1000
#define LIST_MAX 100000
#define TAGS_MAX 1024

#define RB_COLS                                                                                    \
    "id, template, title, owner, at, tz, vars, maint_id, status, created_by, created_at, "         \
    "template_text"
#define STEP_COLS                                                                                  \
    "s.runbook_id, s.seq, s.step_id, s.title, s.owner, s.type, s.command, s.body, s.due_at, "      \
    "s.state, s.done_at, s.done_by, s.note"
#define EVENT_COLS "id, runbook_id, step_id, action, actor, at, exit_code, duration_ms, output, note"
#define NOTE_COLS "id, text, tags, maint_id, runbook_id, author, created_at"

static const char sql_rb_insert[] =
    "INSERT INTO runbooks (template, title, owner, at, tz, vars, maint_id, status, created_by, "
    "created_at, template_text) VALUES (?1, ?2, ?3, ?4, ?5, COALESCE(?6, '{}'), ?7, "
    "COALESCE(?8, 'open'), ?9, ?10, ?11)";
static const char sql_rb_step_insert[] =
    "INSERT INTO runbook_steps (runbook_id, seq, step_id, title, owner, type, command, body, "
    "due_at, state, done_at, done_by, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "COALESCE(?10, 'pending'), ?11, ?12, ?13)";
static const char sql_rb_get[] = "SELECT " RB_COLS " FROM runbooks WHERE id = ?1";
static const char sql_rb_list[] = "SELECT " RB_COLS " FROM runbooks WHERE (?1 OR status = 'open') "
                                  "ORDER BY at DESC, id DESC LIMIT ?2";
static const char sql_rb_list_maint[] =
    "SELECT " RB_COLS " FROM runbooks WHERE maint_id = ?1 ORDER BY id";
static const char sql_rb_set_status[] = "UPDATE runbooks SET status = ?2 WHERE id = ?1";
static const char sql_rb_steps[] =
    "SELECT " STEP_COLS " FROM runbook_steps s WHERE s.runbook_id = ?1 ORDER BY s.seq";
static const char sql_rb_step_update[] =
    "UPDATE runbook_steps SET state = ?3, done_at = ?4, done_by = ?5, note = ?6 "
    "WHERE runbook_id = ?1 AND step_id = ?2";
/* the partial index runbook_steps_due holds exactly the steps still to do */
static const char sql_rb_steps_due[] =
    "SELECT " STEP_COLS " FROM runbook_steps s JOIN runbooks b ON b.id = s.runbook_id "
    "WHERE s.state NOT IN ('done', 'skipped') AND s.due_at <= ?1 AND b.status = 'open' "
    "ORDER BY s.due_at, s.runbook_id, s.seq LIMIT ?2";
static const char sql_rb_event_insert[] =
    "INSERT INTO runbook_events (runbook_id, step_id, action, actor, at, exit_code, duration_ms, "
    "output, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char sql_rb_events[] =
    "SELECT " EVENT_COLS " FROM runbook_events WHERE runbook_id = ?1 ORDER BY id";
static const char sql_note_insert[] =
    "INSERT INTO notes (text, tags, maint_id, runbook_id, author, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_note_get[] = "SELECT " NOTE_COLS " FROM notes WHERE id = ?1";
static const char sql_note_list[] =
    "SELECT " NOTE_COLS " FROM notes WHERE (?1 IS NULL OR instr(',' || tags || ',', "
    "',' || ?1 || ',') > 0) AND (?2 = 0 OR maint_id = ?2) AND (?3 = 0 OR runbook_id = ?3) "
    "ORDER BY created_at DESC, id DESC LIMIT ?4";

void ak_rb_instance_release(struct ak_rb_instance *r)
{
    if (!r)
        return;
    free(r->template_name);
    free(r->title);
    free(r->owner);
    free(r->tz);
    free(r->vars);
    free(r->status);
    free(r->created_by);
    free(r->template_text);
    memset(r, 0, sizeof(*r));
}

void ak_rb_step_row_release(struct ak_rb_step_row *s)
{
    if (!s)
        return;
    free(s->step_id);
    free(s->title);
    free(s->owner);
    free(s->type);
    free(s->command);
    free(s->body);
    free(s->state);
    free(s->done_by);
    free(s->note);
    memset(s, 0, sizeof(*s));
}

void ak_rb_event_release(struct ak_rb_event *e)
{
    if (!e)
        return;
    free(e->step_id);
    free(e->action);
    free(e->by);
    free(e->output);
    free(e->note);
    memset(e, 0, sizeof(*e));
}

void ak_note_release(struct ak_note *n)
{
    if (!n)
        return;
    free(n->text);
    free(n->tags);
    free(n->author);
    memset(n, 0, sizeof(*n));
}

static bool nonempty(const char *s)
{
    return s && *s;
}

static bool rb_status_ok(const char *s)
{
    return !s || ak_streq(s, "open") || ak_streq(s, "done") || ak_streq(s, "canceled");
}

static bool step_state_ok(const char *s)
{
    return !s || ak_streq(s, "pending") || ak_streq(s, "done") || ak_streq(s, "failed") ||
           ak_streq(s, "skipped") || ak_streq(s, "rolled-back");
}

static size_t clamp_limit(size_t limit)
{
    return limit == 0 ? LIST_DEFAULT : limit > LIST_MAX ? LIST_MAX : limit;
}

/* ---- instances ---------------------------------------------------------------------------- */

static void rb_read(sqlite3_stmt *s, void *p)
{
    struct ak_rb_instance *r = p;
    r->id = ak_store_col_i64(s, 0);
    r->template_name = ak_store_col_str(s, 1);
    r->title = ak_store_col_str(s, 2);
    r->owner = ak_store_col_str(s, 3);
    r->at_ms = ak_store_col_i64(s, 4);
    r->tz = ak_store_col_str(s, 5);
    r->vars = ak_store_col_str(s, 6);
    r->maint_id = ak_store_col_i64(s, 7);
    r->status = ak_store_col_str(s, 8);
    r->created_by = ak_store_col_str(s, 9);
    r->created_at = ak_store_col_i64(s, 10);
    r->template_text = ak_store_col_str(s, 11);
}

static void rb_release_v(void *p)
{
    ak_rb_instance_release(p);
}

static int step_insert(struct ak_store *st, int64_t rb_id, const struct ak_rb_step_row *x)
{
    const char *strs[] = {x->step_id, x->title, x->owner, x->type, x->command, x->body};
    sqlite3_stmt *s;
    int r;

    if (!nonempty(x->step_id) || !nonempty(x->type) || !step_state_ok(x->state))
        return AK_EINVAL;
    r = ak_store_stmt_sql(st, AK_SQL_RB_STEP_INSERT, sql_rb_step_insert, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, rb_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, x->seq);
    for (size_t i = 0; r == AK_OK && i < AK_ARRAY_SIZE(strs); i++)
        r = ak_store_bind_str(s, (int)i + 3, strs[i]);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 9, x->due_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 10, x->state);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 11, x->done_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 12, x->done_by);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 13, x->note);
    return r == AK_OK ? ak_store_step_done(s) : r;
}

static int rb_insert(struct ak_store *st, const struct ak_rb_instance *x, int64_t *ret_id)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt_sql(st, AK_SQL_RB_INSERT, sql_rb_insert, &s);

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, x->template_name);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, x->title);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, x->owner);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, x->at_ms);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 5, x->tz);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 6, x->vars);
    if (r == AK_OK)
        r = ak_store_bind_i64_opt(s, 7, x->maint_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 8, x->status);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 9, x->created_by);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 10, x->created_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 11, x->template_text);
    if (r == AK_OK)
        r = ak_store_step_done(s); /* an unknown maint_id: the foreign key, AK_ENOTFOUND */
    if (r == AK_OK)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    return r;
}

int ak_store_rb_create(struct ak_store *st, const struct ak_rb_instance *r,
                       const struct ak_rb_step_row *steps, size_t n_steps, int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us(), id = 0;
    int ret;

    if (!st || !r || !nonempty(r->template_name) || !nonempty(r->title) || !nonempty(r->tz) ||
        !rb_status_ok(r->status) || (n_steps && !steps))
        return AK_EINVAL;
    ret = ak_store_sp_begin(st);
    if (ret < 0)
        return ret;
    ret = rb_insert(st, r, &id);
    for (size_t i = 0; ret == AK_OK && i < n_steps; i++)
        ret = step_insert(st, id, &steps[i]);
    ret = ak_store_sp_end(st, ret);
    if (ret == AK_OK && ret_id)
        *ret_id = id;
    ak_store_op_done(st, t0);
    return ret;
}

int ak_store_rb_get(struct ak_store *st, int64_t id, struct ak_rb_instance *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ret ? ak_store_stmt_sql(st, AK_SQL_RB_GET, sql_rb_get, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(*ret), rb_read, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rb_list(struct ak_store *st, bool all, size_t limit, struct ak_rb_instance **ret,
                     size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    void *v = NULL;
    int r = ret && ret_n ? ak_store_stmt_sql(st, AK_SQL_RB_LIST, sql_rb_list, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, all);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, (int64_t)clamp_limit(limit));
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), rb_read, rb_release_v, &v, ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rb_list_maint(struct ak_store *st, int64_t maint_id, struct ak_rb_instance **ret,
                           size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    void *v = NULL;
    int r = ret && ret_n ? ak_store_stmt_sql(st, AK_SQL_RB_LIST_MAINT, sql_rb_list_maint, &s)
                         : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, maint_id);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), rb_read, rb_release_v, &v, ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rb_set_status(struct ak_store *st, int64_t id, const char *status)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = status && rb_status_ok(status)
                ? ak_store_stmt_sql(st, AK_SQL_RB_SET_STATUS, sql_rb_set_status, &s)
                : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, status);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && sqlite3_changes(st->db) == 0)
        r = AK_ENOTFOUND;
    ak_store_op_done(st, t0);
    return r;
}

/* ---- steps -------------------------------------------------------------------------------- */

static void step_read(sqlite3_stmt *s, void *p)
{
    struct ak_rb_step_row *x = p;
    x->runbook_id = ak_store_col_i64(s, 0);
    x->seq = (int)ak_store_col_i64(s, 1);
    x->step_id = ak_store_col_str(s, 2);
    x->title = ak_store_col_str(s, 3);
    x->owner = ak_store_col_str(s, 4);
    x->type = ak_store_col_str(s, 5);
    x->command = ak_store_col_str(s, 6);
    x->body = ak_store_col_str(s, 7);
    x->due_at = ak_store_col_i64(s, 8);
    x->state = ak_store_col_str(s, 9);
    x->done_at = ak_store_col_i64(s, 10);
    x->done_by = ak_store_col_str(s, 11);
    x->note = ak_store_col_str(s, 12);
}

static void step_release_v(void *p)
{
    ak_rb_step_row_release(p);
}

int ak_store_rb_steps(struct ak_store *st, int64_t runbook_id, struct ak_rb_step_row **ret,
                      size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    void *v = NULL;
    int r = ret && ret_n ? ak_store_stmt_sql(st, AK_SQL_RB_STEPS, sql_rb_steps, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, runbook_id);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), step_read, step_release_v, &v, ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rb_step_update(struct ak_store *st, const struct ak_rb_step_row *x)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = x && nonempty(x->step_id) && nonempty(x->state) && step_state_ok(x->state)
                ? ak_store_stmt_sql(st, AK_SQL_RB_STEP_UPDATE, sql_rb_step_update, &s)
                : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, x->runbook_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, x->step_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, x->state);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, x->done_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 5, x->done_by);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 6, x->note);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && sqlite3_changes(st->db) == 0)
        r = AK_ENOTFOUND;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rb_steps_due(struct ak_store *st, int64_t until_ms, size_t limit,
                          struct ak_rb_step_row **ret, size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    void *v = NULL;
    int r = ret && ret_n ? ak_store_stmt_sql(st, AK_SQL_RB_STEPS_DUE, sql_rb_steps_due, &s)
                         : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, until_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, (int64_t)clamp_limit(limit));
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), step_read, step_release_v, &v, ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}

/* ---- run record --------------------------------------------------------------------------- */

int ak_store_rb_event_add(struct ak_store *st, const struct ak_rb_event *e, int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = e && nonempty(e->action)
                ? ak_store_stmt_sql(st, AK_SQL_RB_EVENT_INSERT, sql_rb_event_insert, &s)
                : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, e->runbook_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, e->step_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, e->action);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, e->by);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, e->at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 6, e->exit_code);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 7, e->duration_ms);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 8, e->output);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 9, e->note);
    if (r == AK_OK)
        r = ak_store_step_done(s); /* an unknown runbook: the foreign key, AK_ENOTFOUND */
    if (r == AK_OK && ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    ak_store_op_done(st, t0);
    return r;
}

static void event_read(sqlite3_stmt *s, void *p)
{
    struct ak_rb_event *e = p;
    e->id = ak_store_col_i64(s, 0);
    e->runbook_id = ak_store_col_i64(s, 1);
    e->step_id = ak_store_col_str(s, 2);
    e->action = ak_store_col_str(s, 3);
    e->by = ak_store_col_str(s, 4);
    e->at = ak_store_col_i64(s, 5);
    e->exit_code = (int)ak_store_col_i64(s, 6);
    e->duration_ms = ak_store_col_i64(s, 7);
    e->output = ak_store_col_str(s, 8);
    e->note = ak_store_col_str(s, 9);
}

static void event_release_v(void *p)
{
    ak_rb_event_release(p);
}

int ak_store_rb_events(struct ak_store *st, int64_t runbook_id, struct ak_rb_event **ret,
                       size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    void *v = NULL;
    int r = ret && ret_n ? ak_store_stmt_sql(st, AK_SQL_RB_EVENTS, sql_rb_events, &s)
                         : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, runbook_id);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), event_read, event_release_v, &v, ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}

/* ---- notes -------------------------------------------------------------------------------- */

/* tags as stored: lowercase, comma-separated, without spaces or empty items. AK_EINVAL for
 * characters a tag cannot hold (a tag is a word: letters, digits, - _ . : /). */
static int tags_normalize(const char *in, struct ak_buf *out)
{
    bool item = false;

    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
        unsigned char c = *p;
        if (c == ',' || c == ' ' || c == '\t') {
            item = false;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c >= 0x80))
            return AK_EINVAL;
        if (!item && out->len && ak_buf_addc(out, ',') < 0)
            return AK_ETOOBIG;
        item = true;
        if (ak_buf_addc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c)) < 0)
            return AK_ETOOBIG;
    }
    return AK_OK;
}

int ak_store_note_add(struct ak_store *st, const struct ak_note *n, int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us();
    struct ak_buf tags = AK_BUF_INIT(TAGS_MAX);
    sqlite3_stmt *s;
    int r = n && nonempty(n->text) ? tags_normalize(n->tags, &tags) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_stmt_sql(st, AK_SQL_NOTE_INSERT, sql_note_insert, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, n->text);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, tags.buf);
    if (r == AK_OK)
        r = ak_store_bind_i64_opt(s, 3, n->maint_id);
    if (r == AK_OK)
        r = ak_store_bind_i64_opt(s, 4, n->runbook_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 5, n->author);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 6, n->created_at);
    if (r == AK_OK)
        r = ak_store_step_done(s); /* a link to nothing: the foreign key, AK_ENOTFOUND */
    if (r == AK_OK && ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    ak_buf_release(&tags);
    ak_store_op_done(st, t0);
    return r;
}

static void note_read(sqlite3_stmt *s, void *p)
{
    struct ak_note *n = p;
    n->id = ak_store_col_i64(s, 0);
    n->text = ak_store_col_str(s, 1);
    n->tags = ak_store_col_str(s, 2);
    n->maint_id = ak_store_col_i64(s, 3);
    n->runbook_id = ak_store_col_i64(s, 4);
    n->author = ak_store_col_str(s, 5);
    n->created_at = ak_store_col_i64(s, 6);
}

static void note_release_v(void *p)
{
    ak_note_release(p);
}

int ak_store_note_get(struct ak_store *st, int64_t id, struct ak_note *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ret ? ak_store_stmt_sql(st, AK_SQL_NOTE_GET, sql_note_get, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(*ret), note_read, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_note_list(struct ak_store *st, const char *tag, int64_t maint_id, int64_t runbook_id,
                       size_t limit, struct ak_note **ret, size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    struct ak_buf t = AK_BUF_INIT(TAGS_MAX);
    sqlite3_stmt *s;
    void *v = NULL;
    int r = ret && ret_n ? tags_normalize(tag, &t) : AK_EINVAL;

    /* one tag: a comma in it would match a pair of neighbours */
    if (r == AK_OK && strchr(t.buf, ','))
        r = AK_EINVAL;
    if (r == AK_OK)
        r = ak_store_stmt_sql(st, AK_SQL_NOTE_LIST, sql_note_list, &s);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, t.len ? t.buf : NULL);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, maint_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, runbook_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, (int64_t)clamp_limit(limit));
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), note_read, note_release_v, &v, ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_buf_release(&t);
    ak_store_op_done(st, t0);
    return r;
}
