/* store_rec.c — maintenance records, their resource index, and the delivery history. */
#include "asakai/ak_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

#define REC_LIST_DEFAULT 1000

void ak_maint_rec_release(struct ak_maint_rec *r)
{
    if (!r)
        return;
    free(r->key);
    free(r->source);
    free(r->service);
    free(r->kind);
    free(r->status);
    free(r->event_code);
    free(r->account);
    free(r->region);
    for (size_t i = 0; i < r->n_resources; i++)
        free(r->resources[i]);
    free(r->resources);
    free(r->title);
    free(r->description);
    free(r->important_why);
    free(r->sources);
    free(r->family);
    free(r->tags);
    free(r->acked_by);
    free(r->ack_note);
    memset(r, 0, sizeof(*r));
}

void ak_delivery_release(struct ak_delivery *d)
{
    if (!d)
        return;
    free(d->channel);
    free(d->message_id);
    free(d->change);
    memset(d, 0, sizeof(*d));
}

/* The resources as a JSON array of strings (the records.resources column, for readers that
 * query the database directly). Escapes what RFC 8259 requires. */
static void resources_json(const struct ak_maint_rec *r, struct ak_buf *b)
{
    ak_buf_addc(b, '[');
    for (size_t i = 0; i < r->n_resources; i++) {
        const unsigned char *p = (const unsigned char *)r->resources[i];
        ak_buf_add(b, i ? ",\"" : "\"");
        for (; p && *p; p++) {
            if (*p == '"' || *p == '\\') {
                ak_buf_addc(b, '\\');
                ak_buf_addc(b, (char)*p);
            } else if (*p < 0x20)
                ak_buf_addf(b, "\\u%04x", *p);
            else
                ak_buf_addc(b, (char)*p);
        }
        ak_buf_addc(b, '"');
    }
    ak_buf_addc(b, ']');
}

/* Binds the 27 record fields in the column order of AK_SQL_REC_INSERT / _UPDATE. */
static int rec_bind(sqlite3_stmt *s, const struct ak_maint_rec *r, const char *res_json)
{
    const char *strs1[] = {r->key, r->source, r->service, r->kind, r->family, r->status,
                           r->event_code, r->account, r->region};
    int64_t nums1[] = {r->window_start, r->window_end, r->deadline};
    const char *strs2[] = {r->title, r->description};
    int64_t nums2[] = {r->first_seen, r->last_seen, r->closed_at};
    int ret = AK_OK, i = 1;

    for (size_t k = 0; ret == AK_OK && k < AK_ARRAY_SIZE(strs1); k++)
        ret = ak_store_bind_str(s, i++, strs1[k]);
    for (size_t k = 0; ret == AK_OK && k < AK_ARRAY_SIZE(nums1); k++)
        ret = ak_store_bind_i64(s, i++, nums1[k]);
    for (size_t k = 0; ret == AK_OK && k < AK_ARRAY_SIZE(strs2); k++)
        ret = ak_store_bind_str(s, i++, strs2[k]);
    for (size_t k = 0; ret == AK_OK && k < AK_ARRAY_SIZE(nums2); k++)
        ret = ak_store_bind_i64(s, i++, nums2[k]);
    if (ret == AK_OK)
        ret = ak_store_bind_i64_opt(s, 18, r->recurrence_of);
    if (ret == AK_OK)
        ret = ak_store_bind_i64(s, 19, r->required);
    if (ret == AK_OK)
        ret = ak_store_bind_i64(s, 20, r->important);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 21, r->important_why);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 22, r->sources);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 23, res_json);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 24, r->tags);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 25, r->acked_by);
    if (ret == AK_OK)
        ret = ak_store_bind_str(s, 26, r->ack_note);
    if (ret == AK_OK)
        ret = ak_store_bind_i64(s, 27, r->acked_at);
    return ret;
}

static int rec_res_write(struct ak_store *st, int64_t id, const struct ak_maint_rec *r)
{
    sqlite3_stmt *s;
    int ret = ak_store_stmt(st, AK_SQL_REC_RES_DELETE, &s);

    if (ret == AK_OK)
        ret = ak_store_bind_i64(s, 1, id);
    if (ret == AK_OK)
        ret = ak_store_step_done(s);
    for (size_t i = 0; ret == AK_OK && i < r->n_resources; i++) {
        ret = ak_store_stmt(st, AK_SQL_REC_RES_INSERT, &s);
        if (ret == AK_OK)
            ret = ak_store_bind_i64(s, 1, id);
        if (ret == AK_OK)
            ret = ak_store_bind_i64(s, 2, (int64_t)i);
        if (ret == AK_OK)
            ret = ak_store_bind_str(s, 3, r->resources[i]);
        if (ret == AK_OK)
            ret = ak_store_step_done(s);
    }
    return ret;
}

static bool rec_valid(const struct ak_maint_rec *r)
{
    if (!r->key || !r->status || (r->n_resources && !r->resources))
        return false;
    for (size_t i = 0; i < r->n_resources; i++)
        if (!r->resources[i])
            return false;
    return true;
}

/* INSERT (id == 0) or UPDATE (id > 0) of the record row plus its resources, atomically. */
static int rec_write(struct ak_store *st, const struct ak_maint_rec *r, int64_t id,
                     int64_t *ret_id)
{
    struct ak_buf res = AK_BUF_INIT(AK_BUF_NOMAX);
    sqlite3_stmt *s;
    int ret;

    if (!rec_valid(r))
        return AK_EINVAL;
    resources_json(r, &res);
    ret = ak_store_sp_begin(st);
    if (ret < 0)
        goto out;
    ret = ak_store_stmt(st, id ? AK_SQL_REC_UPDATE : AK_SQL_REC_INSERT, &s);
    if (ret == AK_OK)
        ret = rec_bind(s, r, res.buf);
    if (ret == AK_OK && id)
        ret = ak_store_bind_i64(s, 28, id);
    if (ret == AK_OK)
        ret = ak_store_step_done(s);
    if (ret == AK_OK && id && sqlite3_changes(st->db) == 0)
        ret = AK_ENOTFOUND;
    if (ret == AK_OK && !id)
        id = sqlite3_last_insert_rowid(st->db);
    if (ret == AK_OK)
        ret = rec_res_write(st, id, r);
    ret = ak_store_sp_end(st, ret);
    if (ret == AK_OK && ret_id)
        *ret_id = id;
out:
    ak_buf_release(&res);
    return ret;
}

int ak_store_rec_insert(struct ak_store *st, const struct ak_maint_rec *r, int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us();
    int ret = rec_write(st, r, 0, ret_id);
    ak_store_op_done(st, t0);
    return ret;
}

int ak_store_rec_update(struct ak_store *st, const struct ak_maint_rec *r)
{
    int64_t t0 = ak_store_mono_us();
    int ret = r->id > 0 ? rec_write(st, r, r->id, NULL) : AK_EINVAL;
    ak_store_op_done(st, t0);
    return ret;
}

/* Reads one row of REC_COLS (resources excepted: see rec_load_resources). */
static void rec_read_row(sqlite3_stmt *s, struct ak_maint_rec *r)
{
    memset(r, 0, sizeof(*r));
    r->id = ak_store_col_i64(s, 0);
    r->key = ak_store_col_str(s, 1);
    r->source = ak_store_col_str(s, 2);
    r->service = ak_store_col_str(s, 3);
    r->kind = ak_store_col_str(s, 4);
    r->family = ak_store_col_str(s, 5);
    r->status = ak_store_col_str(s, 6);
    r->event_code = ak_store_col_str(s, 7);
    r->account = ak_store_col_str(s, 8);
    r->region = ak_store_col_str(s, 9);
    r->window_start = ak_store_col_i64(s, 10);
    r->window_end = ak_store_col_i64(s, 11);
    r->deadline = ak_store_col_i64(s, 12);
    r->title = ak_store_col_str(s, 13);
    r->description = ak_store_col_str(s, 14);
    r->first_seen = ak_store_col_i64(s, 15);
    r->last_seen = ak_store_col_i64(s, 16);
    r->closed_at = ak_store_col_i64(s, 17);
    r->recurrence_of = ak_store_col_i64(s, 18);
    r->required = ak_store_col_i64(s, 19) != 0;
    r->important = ak_store_col_i64(s, 20) != 0;
    r->important_why = ak_store_col_str(s, 21);
    r->sources = ak_store_col_str(s, 22);
    /* column 23 is the resources convenience copy: resources come from record_resources */
    r->tags = ak_store_col_str(s, 24);
    r->acked_by = ak_store_col_str(s, 25);
    r->ack_note = ak_store_col_str(s, 26);
    r->acked_at = ak_store_col_i64(s, 27);
}

static int rec_load_resources(struct ak_store *st, struct ak_maint_rec *r)
{
    size_t alloc = 0;
    sqlite3_stmt *s;
    int ret = ak_store_stmt(st, AK_SQL_REC_RES_GET, &s), rc;

    if (ret == AK_OK)
        ret = ak_store_bind_i64(s, 1, r->id);
    if (ret < 0)
        return ret;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (r->n_resources == alloc) {
            alloc = alloc ? alloc * 2 : 4;
            r->resources = ak_xrealloc(r->resources, alloc * sizeof(*r->resources));
        }
        r->resources[r->n_resources++] = ak_store_col_str(s, 0);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? AK_OK : ak_store_map_rc(rc);
}

/* Steps a bound record query into a growing array (at most max rows); loads resources after
 * the scan so that only one statement is active at a time. */
static int rec_collect(struct ak_store *st, sqlite3_stmt *s, size_t max, struct ak_maint_rec **ret,
                       size_t *ret_n)
{
    struct ak_maint_rec *v = NULL;
    size_t n = 0, alloc = 0;
    int r = AK_OK, rc = SQLITE_DONE;

    while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            v = ak_xrealloc(v, alloc * sizeof(*v));
        }
        rec_read_row(s, &v[n++]);
    }
    if (n < max && rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    sqlite3_reset(s);
    for (size_t i = 0; r == AK_OK && i < n; i++)
        r = rec_load_resources(st, &v[i]);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            ak_maint_rec_release(&v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return AK_OK;
}

/* Runs a bound query expected to give at most one record into *ret; AK_ENOTFOUND if none. */
static int rec_one(struct ak_store *st, sqlite3_stmt *s, struct ak_maint_rec *ret)
{
    struct ak_maint_rec *v = NULL;
    size_t n = 0;
    int r = rec_collect(st, s, 1, &v, &n);

    if (r == AK_OK && n == 0)
        r = AK_ENOTFOUND;
    if (r == AK_OK)
        *ret = v[0];
    free(v);
    return r;
}

int ak_store_rec_get(struct ak_store *st, int64_t id, struct ak_maint_rec *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_REC_GET, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, id);
    if (r == AK_OK)
        r = rec_one(st, s, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rec_latest_by_key(struct ak_store *st, const char *key, struct ak_maint_rec *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = key ? ak_store_stmt(st, AK_SQL_REC_LATEST_BY_KEY, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, key);
    if (r == AK_OK)
        r = rec_one(st, s, ret);
    ak_store_op_done(st, t0);
    return r;
}

/* One record by (service, family, resource) and, when since_ms >= 0, a closing time bound. */
static int rec_find(struct ak_store *st, int sql, const char *service, const char *family,
                    const char *resource, int64_t since_ms, struct ak_maint_rec *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = service && family && resource ? ak_store_stmt(st, sql, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, service);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 2, family);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, resource);
    if (r == AK_OK && since_ms >= 0)
        r = ak_store_bind_i64(s, 4, since_ms);
    if (r == AK_OK)
        r = rec_one(st, s, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rec_find_completed(struct ak_store *st, const char *service, const char *family,
                                const char *resource, int64_t since_ms, struct ak_maint_rec *ret)
{
    return rec_find(st, AK_SQL_REC_FIND_COMPLETED, service, family, resource,
                    since_ms < 0 ? 0 : since_ms, ret);
}

int ak_store_rec_find_open(struct ak_store *st, const char *service, const char *family,
                           const char *resource, struct ak_maint_rec *ret)
{
    return rec_find(st, AK_SQL_REC_FIND_OPEN, service, family, resource, -1, ret);
}

int ak_store_rec_alias_add(struct ak_store *st, const char *key, int64_t rec_id)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = key && *key && rec_id > 0 ? ak_store_stmt(st, AK_SQL_REC_ALIAS_ADD, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, key);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, rec_id);
    if (r == AK_OK)
        r = ak_store_step_done(s); /* an unknown rec_id fails the foreign key: AK_ENOTFOUND */
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_rec_list(struct ak_store *st, const struct ak_rec_filter *f, struct ak_maint_rec **ret,
                      size_t *ret_n)
{
    static const struct ak_rec_filter none = {0};
    int64_t t0 = ak_store_mono_us();
    size_t limit;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_REC_LIST, &s);

    if (!f)
        f = &none;
    limit = f->limit ? f->limit : REC_LIST_DEFAULT;
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, f->all);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, f->upcoming);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 3, f->now_ms);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, f->service);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    if (r == AK_OK)
        r = rec_collect(st, s, limit, ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_delivery_add(struct ak_store *st, const struct ak_delivery *d, int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_DELIVERY_INSERT, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, d->rec_id);
    if (r == AK_OK)
        r = ak_store_bind_i64_opt(s, 2, d->raw_id);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 3, d->channel);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 4, d->message_id);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 5, d->at);
    if (r == AK_OK)
        r = ak_store_bind_str(s, 6, d->change);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_delivery_list(struct ak_store *st, int64_t rec_id, struct ak_delivery **ret,
                           size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    struct ak_delivery *v = NULL;
    size_t n = 0, alloc = 0;
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_DELIVERY_LIST, &s), rc;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, rec_id);
    if (r < 0)
        goto out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            v = ak_xrealloc(v, alloc * sizeof(*v));
        }
        struct ak_delivery *d = &v[n++];
        d->id = ak_store_col_i64(s, 0);
        d->rec_id = ak_store_col_i64(s, 1);
        d->raw_id = ak_store_col_i64(s, 2);
        d->channel = ak_store_col_str(s, 3);
        d->message_id = ak_store_col_str(s, 4);
        d->at = ak_store_col_i64(s, 5);
        d->change = ak_store_col_str(s, 6);
    }
    if (rc != SQLITE_DONE)
        r = ak_store_map_rc(rc);
    sqlite3_reset(s);
out:
    ak_store_op_done(st, t0);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            ak_delivery_release(&v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return AK_OK;
}
