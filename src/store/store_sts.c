/* store_sts.c — the STS twin's state (schema v4): the credentials it issued and the audit of
 * every exchange and signed call. The store keeps what it is given: sealing the secret and
 * hashing the token are the sts module's job (the store links no crypto library). */
#include "asakai/ak_store.h"

#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "store_int.h"
#include "src/core/ak_banned.h"

#define AUDIT_LIST_DEFAULT 1000
#define AUDIT_LIST_MAX 100000

void ak_sts_cred_release(struct ak_sts_cred *c)
{
    if (!c)
        return;
    free(c->akid);
    free(c->secret_sealed);
    free(c->token_hash);
    free(c->role_arn);
    free(c->assumed_arn);
    free(c->assumed_id);
    free(c->session_name);
    free(c->subject);
    free(c->provider);
    memset(c, 0, sizeof(*c));
}

void ak_sts_audit_release(struct ak_sts_audit *a)
{
    if (!a)
        return;
    free(a->action);
    free(a->result);
    free(a->code);
    free(a->reason);
    free(a->role_arn);
    free(a->provider);
    free(a->subject);
    free(a->audience);
    free(a->session_name);
    free(a->akid);
    free(a->remote);
    memset(a, 0, sizeof(*a));
}

/* The nine strings of a credential row, in column order. */
static void cred_strs(const struct ak_sts_cred *c, const char *out[9])
{
    out[0] = c->akid;
    out[1] = c->secret_sealed;
    out[2] = c->token_hash;
    out[3] = c->role_arn;
    out[4] = c->assumed_arn;
    out[5] = c->assumed_id;
    out[6] = c->session_name;
    out[7] = c->subject;
    out[8] = c->provider;
}

int ak_store_sts_cred_put(struct ak_store *st, const struct ak_sts_cred *c)
{
    int64_t t0 = ak_store_mono_us();
    const char *strs[9];
    sqlite3_stmt *s;
    int r;

    if (!c)
        return AK_EINVAL;
    cred_strs(c, strs);
    /* subject and provider may be unknown; the rest makes the credential usable */
    for (int i = 0; i < 7; i++)
        if (!strs[i] || !*strs[i])
            return AK_EINVAL;
    r = ak_store_stmt(st, AK_SQL_STS_CRED_INSERT, &s);
    for (int i = 0; r == AK_OK && i < 9; i++)
        r = ak_store_bind_str(s, i + 1, strs[i]);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 10, c->issued_at);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 11, c->expires_at);
    if (r == AK_OK)
        r = ak_store_step_done(s); /* a second row for the akid: AK_EEXIST */
    ak_store_op_done(st, t0);
    return r;
}

static void cred_read(sqlite3_stmt *s, void *p)
{
    struct ak_sts_cred *c = p;
    char **dst[9] = {&c->akid,        &c->secret_sealed, &c->token_hash,
                     &c->role_arn,    &c->assumed_arn,   &c->assumed_id,
                     &c->session_name, &c->subject,      &c->provider};

    for (int i = 0; i < 9; i++)
        *dst[i] = ak_store_col_str(s, i);
    c->issued_at = ak_store_col_i64(s, 9);
    c->expires_at = ak_store_col_i64(s, 10);
}

int ak_store_sts_cred_get(struct ak_store *st, const char *akid, struct ak_sts_cred *ret)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = akid && ret ? ak_store_stmt(st, AK_SQL_STS_CRED_GET, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, akid);
    if (r == AK_OK)
        r = ak_store_collect_one(s, sizeof(*ret), cred_read, ret);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_sts_cred_purge(struct ak_store *st, int64_t before_ms, int64_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = ak_store_stmt(st, AK_SQL_STS_CRED_PURGE, &s);

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, before_ms);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && ret_n)
        *ret_n = sqlite3_changes(st->db);
    ak_store_op_done(st, t0);
    return r;
}

int ak_store_sts_audit_purge(struct ak_store *st, int64_t before_ms, int64_t keep_max,
                             int64_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = keep_max > 0 ? ak_store_stmt(st, AK_SQL_STS_AUDIT_PURGE, &s) : AK_EINVAL;

    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, before_ms);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, keep_max);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && ret_n)
        *ret_n = sqlite3_changes(st->db);
    ak_store_op_done(st, t0);
    return r;
}

static bool result_ok(const char *result)
{
    return ak_streq(result, "allowed") || ak_streq(result, "denied");
}

int ak_store_sts_audit_add(struct ak_store *st, const struct ak_sts_audit *a, int64_t *ret_id)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r;

    if (!a || !a->action || !*a->action || !result_ok(a->result))
        return AK_EINVAL;
    const char *strs[] = {a->action,   a->result,  a->code,         a->reason,
                          a->role_arn, a->provider, a->subject,     a->audience,
                          a->session_name, a->akid, a->remote};
    r = ak_store_stmt(st, AK_SQL_STS_AUDIT_INSERT, &s);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 1, a->at);
    for (size_t i = 0; r == AK_OK && i < AK_ARRAY_SIZE(strs); i++)
        r = ak_store_bind_str(s, (int)i + 2, strs[i]);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 13, a->duration_s);
    if (r == AK_OK)
        r = ak_store_step_done(s);
    if (r == AK_OK && ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    ak_store_op_done(st, t0);
    return r;
}

static void audit_read(sqlite3_stmt *s, void *p)
{
    struct ak_sts_audit *a = p;
    char **dst[] = {&a->action,   &a->result,   &a->code,     &a->reason,
                    &a->role_arn, &a->provider, &a->subject,  &a->audience,
                    &a->session_name, &a->akid, &a->remote};

    a->id = ak_store_col_i64(s, 0);
    a->at = ak_store_col_i64(s, 1);
    for (size_t i = 0; i < AK_ARRAY_SIZE(dst); i++)
        *dst[i] = ak_store_col_str(s, (int)i + 2);
    a->duration_s = ak_store_col_i64(s, 13);
}

static void audit_release_v(void *p)
{
    ak_sts_audit_release(p);
}

int ak_store_sts_audit_list(struct ak_store *st, const char *result, size_t limit,
                            struct ak_sts_audit **ret, size_t *ret_n)
{
    int64_t t0 = ak_store_mono_us();
    sqlite3_stmt *s;
    int r = (!result || result_ok(result)) && ret && ret_n
                ? ak_store_stmt(st, AK_SQL_STS_AUDIT_LIST, &s)
                : AK_EINVAL;

    if (limit == 0)
        limit = AUDIT_LIST_DEFAULT;
    if (limit > AUDIT_LIST_MAX)
        limit = AUDIT_LIST_MAX;
    if (r == AK_OK)
        r = ak_store_bind_str(s, 1, result);
    if (r == AK_OK)
        r = ak_store_bind_i64(s, 2, (int64_t)limit);
    if (r == AK_OK)
        r = ak_store_collect(s, SIZE_MAX, sizeof(**ret), audit_read, audit_release_v,
                             (void **)ret, ret_n);
    ak_store_op_done(st, t0);
    return r;
}
