/* store_poll.c — the pollers' state: per-scope health, the items each scope saw pending, and
 * the push deliveries the coverage report compares them with (schema v3). */
#include "asakai/ak_store.h"

#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

void ak_poll_scope_release(struct ak_poll_scope *s)
{
    if (!s)
        return;
    free(s->scope);
    free(s->poller);
    free(s->account);
    free(s->region);
    free(s->last_error);
    free(s->note);
    memset(s, 0, sizeof(*s));
}

void ak_poll_seen_release(struct ak_poll_seen *s)
{
    if (!s)
        return;
    free(s->scope);
    free(s->key);
    memset(s, 0, sizeof(*s));
}

void ak_push_seen_release(struct ak_push_seen *p)
{
    if (!p)
        return;
    free(p->channel);
    free(p->topic);
    free(p->account);
    free(p->region);
    free(p->service);
    memset(p, 0, sizeof(*p));
}

/* Row readers: one per result shape, so that the generic collector below can fill arrays of
 * any of the three structs. */
static void scope_read(sqlite3_stmt *s, void *dst)
{
    struct ak_poll_scope *p = dst;

    p->scope = ak_store_col_str(s, 0);
    p->poller = ak_store_col_str(s, 1);
    p->account = ak_store_col_str(s, 2);
    p->region = ak_store_col_str(s, 3);
    p->last_run_at = ak_store_col_i64(s, 4);
    p->last_ok_at = ak_store_col_i64(s, 5);
    p->last_error = ak_store_col_str(s, 6);
    p->last_error_at = ak_store_col_i64(s, 7);
    p->items = ak_store_col_i64(s, 8);
    p->seen = ak_store_col_i64(s, 9);
    p->runs = ak_store_col_i64(s, 10);
    p->failures = ak_store_col_i64(s, 11);
    p->note = ak_store_col_str(s, 12);
}

static void scope_free(void *p)
{
    ak_poll_scope_release(p);
}

static void seen_read(sqlite3_stmt *s, void *dst)
{
    struct ak_poll_seen *p = dst;
    int64_t misses = ak_store_col_i64(s, 3);

    p->scope = ak_store_col_str(s, 0);
    p->key = ak_store_col_str(s, 1);
    p->rec_id = ak_store_col_i64(s, 2);
    p->misses = misses < 0 ? 0 : misses > 1000000 ? 1000000 : (int)misses;
    p->last_seen_at = ak_store_col_i64(s, 4);
}

static void seen_free(void *p)
{
    ak_poll_seen_release(p);
}

static void push_read(sqlite3_stmt *s, void *dst)
{
    struct ak_push_seen *p = dst;

    p->channel = ak_store_col_str(s, 0);
    p->topic = ak_store_col_str(s, 1);
    p->account = ak_store_col_str(s, 2);
    p->region = ak_store_col_str(s, 3);
    p->service = ak_store_col_str(s, 4);
    p->last_at = ak_store_col_i64(s, 5);
    p->count = ak_store_col_i64(s, 6);
}

static void push_free(void *p)
{
    ak_push_seen_release(p);
}

static int scope_bind(sqlite3_stmt *s, const struct ak_poll_scope *p)
{
    const char *strs[] = {p->scope, p->poller, p->account, p->region};
    int64_t nums[] = {p->last_error_at, p->items, p->seen, p->runs, p->failures};
    int r = AK_OK, i = 1;

    for (size_t k = 0; r == AK_OK && k < AK_ARRAY_SIZE(strs); k++)
        r = ak_store_bind_str(s, i++, strs[k]);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, p->last_run_at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 6, p->last_ok_at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 7, p->last_error);
    i = 8;
    for (size_t k = 0; r == AK_OK && k < AK_ARRAY_SIZE(nums); k++)
        r = ak_store_bind_i64(s, i++, nums[k]);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 13, p->note);
    return r;
}

int ak_store_poll_scope_put(struct ak_store *st, const struct ak_poll_scope *p)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = p && p->scope && p->poller ? ak_store_stmt(st, AK_SQL_POLL_SCOPE_PUT, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = scope_bind(s, p);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_poll_scope_get(struct ak_store *st, const char *scope, struct ak_poll_scope *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = scope ? ak_store_stmt(st, AK_SQL_POLL_SCOPE_GET, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, scope);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(*ret), scope_read, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_poll_scope_list(struct ak_store *st, struct ak_poll_scope **ret, size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    void *v = NULL;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_POLL_SCOPE_LIST, &s);

    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(struct ak_poll_scope), scope_read, scope_free, &v,
                             ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_poll_seen_put(struct ak_store *st, const struct ak_poll_seen *p)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = p && p->scope && p->key ? ak_store_stmt(st, AK_SQL_POLL_SEEN_PUT, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, p->scope);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, p->key);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, p->rec_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 4, p->misses);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, p->last_seen_at);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    ak_store_op_done(st, t0);
    return r;
}

/* Binds (scope, key) of the GET and DEL statements. */
static int seen_stmt(struct ak_store *st, enum ak_store_stmt_id id, const char *scope,
                     const char *key, sqlite3_stmt **ret)
{
    int r = scope && key ? ak_store_stmt(st, id, ret) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(*ret, 1, scope);
    if (r == AK_OK)
        r = ak_store_bind_str(*ret, 2, key);
    return r;
}

int ak_store_poll_seen_get(struct ak_store *st, const char *scope, const char *key,
                           struct ak_poll_seen *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = seen_stmt(st, AK_SQL_POLL_SEEN_GET, scope, key, &s);

    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(*ret), seen_read, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_poll_seen_del(struct ak_store *st, const char *scope, const char *key)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = seen_stmt(st, AK_SQL_POLL_SEEN_DEL, scope, key, &s);

    if (r == AK_OK)
        r = ak_store_step_done(s);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_poll_seen_list(struct ak_store *st, const char *scope, struct ak_poll_seen **ret,
                            size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    void *v = NULL;
    sqlite3_stmt *s;
    int r = scope ? ak_store_stmt(st, AK_SQL_POLL_SEEN_LIST, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, scope);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(struct ak_poll_seen), seen_read, seen_free, &v,
                             ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_push_seen(struct ak_store *st, int64_t since_ms, struct ak_push_seen **ret,
                       size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    void *v = NULL;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_PUSH_SEEN, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, since_ms);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(struct ak_push_seen), push_read, push_free, &v,
                             ret_n);
    if (r == AK_OK)
        *ret = v;
    ak_store_op_done(st, t0);
    return r;
}
