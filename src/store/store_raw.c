/* store_raw.c — the raw archive: every message received, verbatim, kept forever. */
#include "asakai/ak_store.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

#define RAW_LIST_DEFAULT 1000

static const char *const raw_states[] = {"pending", "parsed", "ignored", "unparsed", "control"};

static bool raw_state_valid(const char *state)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(raw_states); i++)
        if (ak_streq(state, raw_states[i]))
            return true;
    return false;
}

void ak_raw_release(struct ak_raw *r)
{
    if (!r)
        return;
    free(r->channel);
    free(r->dedupe_id);
    free(r->remote);
    free(r->meta);
    free(r->body);
    free(r->state);
    free(r->note);
    memset(r, 0, sizeof(*r));
}

static int raw_bind_put(sqlite3_stmt *s, const struct ak_raw *r)
{
    int ret = ak_store_bind_str(s, 1, r->channel);

    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 2, r->dedupe_id);
    if (ret == AK_OK)
        ret = ak_store_bind_i64(s, 3, r->received_at);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 4, r->remote);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 5, r->meta);
    if (ret == AK_OK)
        ret = ak_store_map_rc(sqlite3_bind_blob(s, 6, r->body ? r->body : "", (int)r->body_len,
                                                SQLITE_STATIC));
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 7, r->state); /* NULL: the column default, "pending" */
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 8, r->note);
    return ret;
}

static int raw_existing_id(struct ak_store *st, const char *dedupe_id, int64_t *ret_id)
{
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_RAW_ID_BY_DEDUPE, &s);

    if (r < 0)
        return r;
    r = ak_store_bind_str(s, 1, dedupe_id);
    if (r < 0)
        goto out;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *ret_id = sqlite3_column_int64(s, 0);
    else
        r = rc == SQLITE_DONE ? AK_EINTERNAL : ak_store_map_rc(rc);
out:
    sqlite3_reset(s);
    return r;
}

int ak_store_raw_put(struct ak_store *st, const struct ak_raw *r, int64_t *ret_id, bool *ret_dup)
{
    int64_t t0 = ak_store_mono_us(), id = 0;
    bool dup = false;
    sqlite3_stmt *s;
    int ret;

    if (!r->channel || !r->dedupe_id || (!r->body && r->body_len) || r->body_len > INT_MAX ||
        (r->state && !raw_state_valid(r->state)))
        return r->body_len > INT_MAX ? AK_ETOOBIG : AK_EINVAL;
    ret = ak_store_stmt(st, AK_SQL_RAW_INSERT, &s);
    if (ret < 0)
        goto out;
    ret = raw_bind_put(s, r);
    if (ret == AK_OK)
        ret = ak_store_step_done(s);
    if (ret < 0)
        goto out;
    /* ON CONFLICT DO NOTHING: no change means the dedupe_id was already archived. */
    if (sqlite3_changes(st->db) == 1)
        id = sqlite3_last_insert_rowid(st->db);
    else {
        dup = true;
        ret = raw_existing_id(st, r->dedupe_id, &id);
    }
out:
    ak_store_op_done(st, t0);
    if (ret == AK_OK) {
        *ret_id = id;
        if (ret_dup)
            *ret_dup = dup;
    }
    return ret;
}

/* Reads the columns id, channel, dedupe_id, received_at, remote, meta, state, note [, body]. */
static void raw_read_row(sqlite3_stmt *s, struct ak_raw *r, bool with_body)
{
    memset(r, 0, sizeof(*r));
    r->id = ak_store_col_i64(s, 0);
    r->channel = ak_store_col_str(s, 1);
    r->dedupe_id = ak_store_col_str(s, 2);
    r->received_at = ak_store_col_i64(s, 3);
    r->remote = ak_store_col_str(s, 4);
    r->meta = ak_store_col_str(s, 5);
    r->state = ak_store_col_str(s, 6);
    r->note = ak_store_col_str(s, 7);
    if (with_body) {
        const void *b = sqlite3_column_blob(s, 8);
        size_t n = (size_t)sqlite3_column_bytes(s, 8);
        r->body = ak_xmalloc(n + 1);
        if (n)
            memcpy(r->body, b, n);
        r->body[n] = 0;
        r->body_len = n;
    }
}

int ak_store_raw_get(struct ak_store *st, int64_t id, struct ak_raw *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_RAW_GET, &s);

    if (r < 0)
        goto out;
    r = ak_store_bind_i64(s, 1, id);
    if (r < 0)
        goto out;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        raw_read_row(s, ret, true);
    else
        r = rc == SQLITE_DONE ? AK_ENOTFOUND : ak_store_map_rc(rc);
    sqlite3_reset(s);
out:
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_raw_pending(struct ak_store *st, size_t max, int64_t **ret_ids, size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    int64_t *ids = NULL;
    size_t n = 0, alloc = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_RAW_PENDING, &s), rc;

    if (r < 0)
        goto out;
    r = ak_store_bind_i64(s, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    if (r < 0)
        goto out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            ids = ak_xrealloc(ids, alloc * sizeof(*ids));
        }
        ids[n++] = sqlite3_column_int64(s, 0);
    }
    if (rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    sqlite3_reset(s);
out:
    ak_store_op_done(st, t0);
    if (r < 0) {
        free(ids);
        return r;
    }
    *ret_ids = ids;
    *ret_n = n;
    return AK_OK;
}

int ak_store_raw_set_state(struct ak_store *st, int64_t id, const char *state, const char *note)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r;

    if (!raw_state_valid(state))
        return AK_EINVAL;
    r = ak_store_stmt(st, AK_SQL_RAW_SET_STATE, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, state);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, note);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && sqlite3_changes(st->db) == 0)
        r = AK_ENOTFOUND;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_raw_count(struct ak_store *st, const char *state, int64_t *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, state ? AK_SQL_RAW_COUNT_STATE : AK_SQL_RAW_COUNT_ALL, &s);

    if (r == AK_OK && state)
        r = ak_store_bind_str(s, 1, state);
    if (r == AK_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *ret = sqlite3_column_int64(s, 0);
        else
            r = ak_store_map_rc(rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
        sqlite3_reset(s);
    }
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_raw_list(struct ak_store *st, const char *state, size_t limit, struct ak_raw **ret,
                      size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    struct ak_raw *v = NULL;
    size_t n = 0, alloc = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_RAW_LIST, &s), rc;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, state);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, limit ? (int64_t)limit : RAW_LIST_DEFAULT);
    if (r < 0)
        goto out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            v = ak_xrealloc(v, alloc * sizeof(*v));
        }
        raw_read_row(s, &v[n++], false);
    }
    if (rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    sqlite3_reset(s);
out:
    ak_store_op_done(st, t0);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            ak_raw_release(&v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return AK_OK;
}
