/* store_notify.c — what notifications need: record changes, acknowledgement, the outbox,
 * per-receiver threads, silences and small key/value settings. */
#include "asakai/ak_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

#define LIST_DEFAULT 1000
#define ACK_SUMMARY_MAX 300

static int64_t limit_i64(size_t n)
{
    return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* Runs a bound query whose first row's first column is an integer; AK_ENOTFOUND without a
 * row. Resets s. */
static int query_i64(sqlite3_stmt *s, int64_t *ret)
{
    int rc = sqlite3_step(s);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;

    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        *ret = v;
        return AK_OK;
    }
    return rc == SQLITE_DONE ? AK_ENOTFOUND : ak_store_map_rc(rc);
}

/* AK_OK when the row id exists in the table the statement (SELECT 1 ... WHERE id = ?1)
 * queries, else AK_ENOTFOUND. */
static int exists(struct ak_store *st, enum ak_store_stmt_id id_stmt, int64_t id)
{
    sqlite3_stmt *s;
    int64_t one;
    int r = ak_store_stmt(st, id_stmt, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    return r == AK_OK ? query_i64(s, &one) : r;
}

/* ---- changes ------------------------------------------------------------------------------ */

void ak_change_release(struct ak_change *c)
{
    if (!c)
        return;
    free(c->kind);
    free(c->key);
    free(c->summary);
    memset(c, 0, sizeof(*c));
}

static void change_read(sqlite3_stmt *s, void *elem)
{
    struct ak_change *c = elem;

    c->id = ak_store_col_i64(s, 0);
    c->rec_id = ak_store_col_i64(s, 1);
    c->kind = ak_store_col_str(s, 2);
    c->key = ak_store_col_str(s, 3);
    c->summary = ak_store_col_str(s, 4);
    c->at = ak_store_col_i64(s, 5);
}

static void change_rel(void *elem)
{
    ak_change_release(elem);
}

static int change_insert(struct ak_store *st, const struct ak_change *c, int64_t *ret_id,
                         bool *ret_dup)
{
    sqlite3_stmt *s;
    int64_t id = 0;
    bool dup;
    int r = c && c->rec_id > 0 && c->kind && *c->kind && c->key && *c->key
                ? ak_store_stmt(st, AK_SQL_CHANGE_INSERT, &s)
                : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, c->rec_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, c->kind);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, c->key);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, c->summary);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, c->at);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r < 0)
        return r;
    dup = sqlite3_changes(st->db) == 0;
    if (!dup)
        id = sqlite3_last_insert_rowid(st->db);
    else {
        r = ak_store_stmt(st, AK_SQL_CHANGE_ID_BY_KEY, &s);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 1, c->rec_id);
        if (r == AK_OK)
            r = ak_store_bind_str(s, 2, c->key);
        if (r == AK_OK)
            r = query_i64(s, &id);
        if (r < 0)
            return r == AK_ENOTFOUND ? AK_EINTERNAL : r;
    }
    if (ret_id)
        *ret_id = id;
    if (ret_dup)
        *ret_dup = dup;
    return AK_OK;
}

int ak_store_change_add(struct ak_store *st, const struct ak_change *c, int64_t *ret_id,
                        bool *ret_dup)
{
    int64_t t0 = ak_store_mono_us();
    int r = change_insert(st, c, ret_id, ret_dup);

    ak_store_op_done(st, t0);
    return r;
}

int ak_store_change_list_after(struct ak_store *st, int64_t after_id, size_t max,
                               struct ak_change **ret, size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    size_t lim = max ? max : LIST_DEFAULT;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_CHANGE_LIST_AFTER, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, after_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, limit_i64(lim));
    if (r == AK_OK)
        r = ak_store_collect(s, lim, sizeof(**ret), change_read, change_rel, (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_change_list_rec(struct ak_store *st, int64_t rec_id, struct ak_change **ret,
                             size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_CHANGE_LIST_REC, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, rec_id);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), change_read, change_rel, (void **)ret,
                             ret_n);
    ak_store_op_done(st, t0);
    return r;
}

/* The record row and its "ack" change, together. */
static int ack_write(struct ak_store *st, int64_t id, const char *by, const char *note,
                     int64_t now_ms)
{
    struct ak_change c = {0};
    char summary[ACK_SUMMARY_MAX];
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_REC_ACK, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, by);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, note);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, now_ms);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && sqlite3_changes(st->db) == 0)
        r = AK_ENOTFOUND;
    if (r < 0)
        return r;
    /* snprintf truncates an overlong note: the summary is one line for a list. */
    snprintf(summary, sizeof(summary), "acknowledged by %s%s%s", by, note && *note ? ": " : "",
             note && *note ? note : "");
    for (char *p = summary; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    /* The cut may have split a UTF-8 character: drop the last (possibly partial) character
     * of a full-length summary; losing one whole character of a 300-byte line is fine. */
    size_t len = strlen(summary);
    if (len == sizeof(summary) - 1) {
        size_t i = len;
        while (i > 0 && ((unsigned char)summary[i - 1] & 0xC0) == 0x80)
            i--;
        if (i > 0 && ((unsigned char)summary[i - 1] & 0x80))
            summary[i - 1] = 0;
    }
    c.rec_id = id;
    c.kind = (char *)"ack";
    c.key = (char *)"ack";
    c.summary = summary;
    c.at = now_ms;
    /* A second ack updates who and why but is not news: the change already exists. */
    return change_insert(st, &c, NULL, NULL);
}

int ak_store_rec_ack(struct ak_store *st, int64_t id, const char *by, const char *note,
                     int64_t now_ms)
{
    int64_t t0 = ak_store_mono_us();
    int r;

    if (!by || !*by)
        return AK_EINVAL;
    r = ak_store_sp_begin(st);
    if (r == AK_OK)
        r = ak_store_sp_end(st, ack_write(st, id, by, note, now_ms));
    ak_store_op_done(st, t0);
    return r;
}

/* ---- outbox ------------------------------------------------------------------------------- */

void ak_outbox_release(struct ak_outbox *o)
{
    if (!o)
        return;
    free(o->receiver);
    free(o->key);
    free(o->state);
    free(o->last_error);
    free(o->note);
    memset(o, 0, sizeof(*o));
}

static void outbox_read(sqlite3_stmt *s, void *elem)
{
    struct ak_outbox *o = elem;

    o->id = ak_store_col_i64(s, 0);
    o->rec_id = ak_store_col_i64(s, 1);
    o->change_id = ak_store_col_i64(s, 2);
    o->receiver = ak_store_col_str(s, 3);
    o->key = ak_store_col_str(s, 4);
    o->state = ak_store_col_str(s, 5);
    o->attempts = (int)ak_store_col_i64(s, 6);
    o->created_at = ak_store_col_i64(s, 7);
    o->next_at = ak_store_col_i64(s, 8);
    o->sent_at = ak_store_col_i64(s, 9);
    o->last_error = ak_store_col_str(s, 10);
    o->note = ak_store_col_str(s, 11);
}

static void outbox_rel(void *elem)
{
    ak_outbox_release(elem);
}

static int outbox_bind_new(sqlite3_stmt *s, const struct ak_outbox *o)
{
    int r = ak_store_bind_i64(s, 1, o->rec_id);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, o->change_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, o->receiver);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, o->key);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 5, o->state ? o->state : "pending");
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 6, o->attempts);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 7, o->created_at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 8, o->next_at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 9, o->sent_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 10, o->last_error);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 11, o->note);
    return r;
}

static int outbox_insert(struct ak_store *st, const struct ak_outbox *o, int64_t *ret_id,
                         bool *ret_dup)
{
    sqlite3_stmt *s;
    int64_t id = 0;
    bool dup;
    int r = o && o->receiver && *o->receiver && o->key && *o->key && o->rec_id >= 0
                ? ak_store_stmt(st, AK_SQL_OUTBOX_INSERT, &s)
                : AK_EINVAL;

    if (r == AK_OK)
        r = outbox_bind_new(s, o);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r < 0)
        return r;
    dup = sqlite3_changes(st->db) == 0;
    if (!dup)
        id = sqlite3_last_insert_rowid(st->db);
    else {
        r = ak_store_stmt(st, AK_SQL_OUTBOX_ID_BY_KEY, &s);
        if (r == AK_OK)
            r = ak_store_bind_i64(s, 1, o->rec_id);
        if (r == AK_OK)
            r = ak_store_bind_str(s, 2, o->receiver);
        if (r == AK_OK)
            r = ak_store_bind_str(s, 3, o->key);
        if (r == AK_OK)
            r = query_i64(s, &id);
        if (r < 0)
            return r == AK_ENOTFOUND ? AK_EINTERNAL : r;
    }
    if (ret_id)
        *ret_id = id;
    if (ret_dup)
        *ret_dup = dup;
    return AK_OK;
}

int ak_store_outbox_add(struct ak_store *st, const struct ak_outbox *o, int64_t *ret_id,
                        bool *ret_dup)
{
    int64_t t0 = ak_store_mono_us();
    int r = outbox_insert(st, o, ret_id, ret_dup);

    ak_store_op_done(st, t0);
    return r;
}

int ak_store_outbox_due(struct ak_store *st, int64_t now_ms, size_t max, struct ak_outbox **ret,
                        size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    size_t lim = max ? max : LIST_DEFAULT;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_OUTBOX_DUE, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, now_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, limit_i64(lim));
    if (r == AK_OK)
        r = ak_store_collect(s, lim, sizeof(**ret), outbox_read, outbox_rel, (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_outbox_next_due(struct ak_store *st, int64_t *ret_ms)
{
    int64_t t0 = ak_store_mono_us(), v = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_OUTBOX_NEXT_DUE, &s);

    if (r == AK_OK)
        r = query_i64(s, &v);
    if (r == AK_ENOTFOUND) /* nothing pending */
        r = AK_OK;
    if (r == AK_OK)
        *ret_ms = v;
    ak_store_op_done(st, t0);
    return r;
}

static bool outbox_state_known(const char *state)
{
    return ak_streq(state, "pending") || ak_streq(state, "sent") || ak_streq(state, "dead") ||
           ak_streq(state, "silenced");
}

int ak_store_outbox_update(struct ak_store *st, const struct ak_outbox *o)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = o && o->id > 0 && outbox_state_known(o->state)
                ? ak_store_stmt(st, AK_SQL_OUTBOX_UPDATE, &s)
                : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, o->id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, o->state);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, o->attempts);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, o->next_at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, o->sent_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 6, o->last_error);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 7, o->note);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && sqlite3_changes(st->db) == 0)
        r = AK_ENOTFOUND;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_outbox_get(struct ak_store *st, int64_t id, struct ak_outbox *ret)
{
    int64_t t0 = ak_store_mono_us();
    struct ak_outbox *v = NULL;
    size_t n = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_OUTBOX_GET, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_collect(s, 1, sizeof(*v), outbox_read, outbox_rel, (void **)&v, &n);
    if (r == AK_OK && n == 0)
        r = AK_ENOTFOUND;
    if (r == AK_OK)
        *ret = v[0];
    free(v);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_outbox_list(struct ak_store *st, const char *state, size_t limit,
                         struct ak_outbox **ret, size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    size_t lim = limit ? limit : LIST_DEFAULT;
    sqlite3_stmt *s;
    int i = 1;
    /* two statements so that a state filter walks the (state, id) index */
    int r = ak_store_stmt(st, state ? AK_SQL_OUTBOX_LIST_STATE : AK_SQL_OUTBOX_LIST_ALL, &s);

    if (r == AK_OK && state)
        r = ak_store_bind_str(s, i++, state);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, i, limit_i64(lim));
    if (r == AK_OK)
        r = ak_store_collect(s, lim, sizeof(**ret), outbox_read, outbox_rel, (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_outbox_list_rec(struct ak_store *st, int64_t rec_id, struct ak_outbox **ret,
                             size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    size_t lim = 10000;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_OUTBOX_LIST_REC, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, rec_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, limit_i64(lim));
    if (r == AK_OK)
        r = ak_store_collect(s, lim, sizeof(**ret), outbox_read, outbox_rel, (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_outbox_counts(struct ak_store *st, int64_t *pending, int64_t *sent, int64_t *dead,
                           int64_t *silenced)
{
    int64_t t0 = ak_store_mono_us(), c[4] = {0};
    static const char *const names[4] = {"pending", "sent", "dead", "silenced"};
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_OUTBOX_COUNTS, &s), rc = SQLITE_DONE;

    while (r == AK_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        for (size_t i = 0; i < 4; i++)
            if (ak_streq(name, names[i]))
                c[i] = sqlite3_column_int64(s, 1);
    }
    if (r == AK_OK) {
        sqlite3_reset(s);
        r = rc == SQLITE_DONE ? AK_OK : ak_store_map_rc(rc);
    }
    if (r == AK_OK) {
        int64_t *out[4] = {pending, sent, dead, silenced};
        for (size_t i = 0; i < 4; i++)
            if (out[i])
                *out[i] = c[i];
    }
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_outbox_retry(struct ak_store *st, int64_t id, int64_t now_ms, int64_t *ret_n)
{
    int64_t t0 = ak_store_mono_us(), n = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, id ? AK_SQL_OUTBOX_RETRY_ONE : AK_SQL_OUTBOX_RETRY_ALL, &s);

    if (r == AK_OK && id)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, id ? 2 : 1, now_ms);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK)
        n = sqlite3_changes(st->db);
    /* a named row that is not dead is not an error (nothing to retry); a missing one is */
    if (r == AK_OK && id && n == 0)
        r = exists(st, AK_SQL_OUTBOX_EXISTS, id);
    if (r == AK_OK && ret_n)
        *ret_n = n;
    ak_store_op_done(st, t0);
    return r;
}

/* ---- threads ------------------------------------------------------------------------------ */

int ak_store_thread_get(struct ak_store *st, int64_t rec_id, const char *receiver, char **ret_ref)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = receiver ? ak_store_stmt(st, AK_SQL_THREAD_GET, &s) : AK_EINVAL, rc;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, rec_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, receiver);
    if (r == AK_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *ret_ref = ak_store_col_str(s, 0);
        else
            r = rc == SQLITE_DONE ? AK_ENOTFOUND : ak_store_map_rc(rc);
        sqlite3_reset(s);
    }
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_thread_set(struct ak_store *st, int64_t rec_id, const char *receiver, const char *ref)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = receiver && ref ? ak_store_stmt(st, AK_SQL_THREAD_SET, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, rec_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, receiver);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, ref);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    ak_store_op_done(st, t0);
    return r;
}

/* ---- silences ----------------------------------------------------------------------------- */

void ak_silence_release(struct ak_silence *s)
{
    if (!s)
        return;
    free(s->matchers);
    free(s->reason);
    free(s->created_by);
    memset(s, 0, sizeof(*s));
}

static void silence_read(sqlite3_stmt *s, void *elem)
{
    struct ak_silence *v = elem;

    v->id = ak_store_col_i64(s, 0);
    v->matchers = ak_store_col_str(s, 1);
    v->starts_at = ak_store_col_i64(s, 2);
    v->ends_at = ak_store_col_i64(s, 3);
    v->reason = ak_store_col_str(s, 4);
    v->created_by = ak_store_col_str(s, 5);
    v->created_at = ak_store_col_i64(s, 6);
    v->expired_at = ak_store_col_i64(s, 7);
}

static void silence_rel(void *elem)
{
    ak_silence_release(elem);
}

int ak_store_silence_add(struct ak_store *st, const struct ak_silence *v, int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = v && v->matchers && v->ends_at > v->starts_at
                ? ak_store_stmt(st, AK_SQL_SILENCE_INSERT, &s)
                : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, v->matchers);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, v->starts_at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, v->ends_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, v->reason);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 5, v->created_by);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 6, v->created_at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 7, v->expired_at);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_silence_list(struct ak_store *st, int64_t active_at, struct ak_silence **ret,
                          size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, active_at ? AK_SQL_SILENCE_LIST_ACTIVE : AK_SQL_SILENCE_LIST_ALL, &s);

    if (r == AK_OK && active_at)
        r = ak_store_bind_i64(s, 1, active_at);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), silence_read, silence_rel,
                             (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_silence_expire(struct ak_store *st, int64_t id, int64_t now_ms)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_SILENCE_EXPIRE, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, now_ms);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    /* expiring twice keeps the first time; only a missing silence is an error */
    if (r == AK_OK && sqlite3_changes(st->db) == 0)
        r = exists(st, AK_SQL_SILENCE_EXISTS, id);
    ak_store_op_done(st, t0);
    return r;
}

/* ---- kv ----------------------------------------------------------------------------------- */

int ak_store_kv_get(struct ak_store *st, const char *key, char **ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = key ? ak_store_stmt(st, AK_SQL_KV_GET, &s) : AK_EINVAL, rc;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, key);
    if (r == AK_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *ret = ak_store_col_str(s, 0);
        else
            r = rc == SQLITE_DONE ? AK_ENOTFOUND : ak_store_map_rc(rc);
        sqlite3_reset(s);
    }
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_kv_set(struct ak_store *st, const char *key, const char *value)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = key && value ? ak_store_stmt(st, AK_SQL_KV_SET, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, key);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, value);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    ak_store_op_done(st, t0);
    return r;
}
