/* apply.c — a finished pass becomes records, in one transaction.
 *
 * Per scope that answered completely: every item is archived (its JSON, deduplicated by content)
 * and applied like a push observation; then reconciliation counts, for every item the scope had
 * seen pending, whether it is still there. Two misses in a row close the record: a single
 * answer that lacks an item (eventual consistency, a partial outage) must not close anything.
 * A scope that failed only updates its health row.
 */
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_log.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "poll_int.h"
#include "../core/ak_banned.h"

#define FOUND_MAX 2000
#define MISSES_TO_CLOSE 2

static const char SUBSCRIPTION_NOTE[] =
    "the AWS Health API needs a Business, Enterprise On-Ramp or Enterprise Support plan "
    "(SubscriptionRequiredException): Health events reach asakai only through EventBridge";

struct pl_apply {
    struct ak_poll *p;
    const struct pl_scope *s;
    int64_t now;
    struct ak_json *found, *changes, *seen_keys;
    size_t items;
    bool changed;
    bool dry_run;
};

static bool closed_status(const char *st)
{
    return ak_streq(st, "completed") || ak_streq(st, "canceled");
}

static void add_change(struct pl_apply *ap, const char *key, int64_t rec_id, const char *change,
                       const char *what)
{
    struct ak_json *c = ak_json_new_obj();

    ak_json_set_str(c, "scope", ap->s->scope);
    ak_json_set_str(c, "key", key);
    ak_json_set_int(c, "rec_id", rec_id);
    ak_json_set_str(c, "change", change);
    ak_json_set_str(c, "what", what);
    ak_json_append(ap->changes, c);
    if (strcmp(change, "pending-close") != 0 && strcmp(change, "skipped") != 0)
        ap->changed = true;
}

static void add_found(struct pl_apply *ap, const struct ak_obs *o)
{
    struct ak_json *f;

    if (ak_json_len(ap->found) >= FOUND_MAX)
        return;
    f = ak_json_new_obj();
    ak_json_set_str(f, "scope", ap->s->scope);
    ak_json_set_str(f, "key", o->key);
    ak_json_set_str(f, "kind", o->kind);
    ak_json_set_str(f, "status", o->status);
    ak_json_set_str(f, "resource", o->n_resources ? o->resources[0] : NULL);
    if (o->deadline)
        ak_json_set_time(f, "deadline", o->deadline);
    else
        ak_json_set(f, "deadline", ak_json_new_null());
    ak_json_set_str(f, "title", o->title);
    ak_json_append(ap->found, f);
}

/* Archives the item's JSON verbatim; identical items share one raw row. */
static int archive(struct pl_apply *ap, const char *doc, const char *id, int64_t *ret_raw)
{
    struct ak_raw raw = {0};
    char hex[65], *dedupe, *meta;
    struct ak_json *m = ak_json_new_obj();
    bool dup = false;
    int r;

    ak_sha256_hex(doc, strlen(doc), hex);
    dedupe = ak_xasprintf("sha256:%s", hex);
    ak_json_set_str(m, "scope", ap->s->scope);
    ak_json_set_str(m, "item", id);
    meta = ak_json_dump(m, AK_JSON_COMPACT);
    ak_json_free(m);
    raw.channel = (char *)"poll";
    raw.dedupe_id = dedupe;
    raw.received_at = ap->now;
    raw.remote = (char *)"poller";
    raw.meta = meta;
    raw.body = (char *)doc;
    raw.body_len = strlen(doc);
    raw.state = (char *)"parsed";
    raw.note = (char *)"poll item";
    r = ak_store_raw_put(ap->p->st, &raw, ret_raw, &dup);
    free(dedupe);
    free(meta);
    return r;
}

static const char *change_name(enum ak_maint_change c)
{
    switch (c) {
    case AK_MAINT_CREATED:
        return "created";
    case AK_MAINT_UPDATED:
        return "updated";
    case AK_MAINT_CLOSED:
        return "closed";
    default:
        return NULL;
    }
}

static int apply_obs(struct pl_apply *ap, const struct ak_obs *o, const char *doc, const char *id,
                     int64_t *ret_rec, struct ak_buf *err)
{
    struct ak_maint_apply_opts opts = {.quiet_unchanged = true, .merge_by_resource = true};
    struct ak_maint_result res;
    int64_t raw_id = 0;
    int r = archive(ap, doc, id, &raw_id);

    if (r < 0)
        return ak_err(err, r, "cannot archive poll item %s: %s", id, ak_strerror(r));
    r = ak_maint_apply_ex(ap->p->st, &ap->p->mcfg, o, &opts, raw_id, "poll", id, ap->now, &res,
                          err);
    if (r == AK_EINVAL) {
        /* one item the maintenance logic refuses must not undo the whole pass (it would again
         * on every pass); it stays archived, and the report says why */
        add_change(ap, o->key, 0, "skipped", err->buf);
        ak_buf_reset(err);
        *ret_rec = 0;
        return AK_OK;
    }
    if (r < 0)
        return r;
    if (change_name(res.change))
        add_change(ap, o->key, res.rec_id, change_name(res.change), res.what);
    *ret_rec = res.rec_id;
    return AK_OK;
}

static int seen_put(struct pl_apply *ap, const char *key, int64_t rec_id, int misses)
{
    struct ak_poll_seen row = {0};

    row.scope = ap->s->scope;
    row.key = (char *)key;
    row.rec_id = rec_id;
    row.misses = misses;
    row.last_seen_at = ap->now;
    return ak_store_poll_seen_put(ap->p->st, &row);
}

/* An item reported completed/canceled: the same two-in-a-row rule as a vanished one. */
static int completed_item(struct pl_apply *ap, const struct ak_obs *o, const char *doc,
                          const char *id, struct ak_buf *err)
{
    struct ak_poll_seen row = {0};
    struct ak_maint_rec rec = {0};
    int64_t rec_id = 0;
    int misses = 0, r;

    r = ak_store_poll_seen_get(ap->p->st, ap->s->scope, o->key, &row);
    if (r == AK_OK) {
        misses = row.misses + 1;
        rec_id = row.rec_id;
    } else if (r == AK_ENOTFOUND) {
        /* never seen pending by this scope: close only a record push opened; an item that was
         * already done when asakai first looked is history, not news */
        r = ak_store_rec_latest_by_key(ap->p->st, o->key, &rec);
        if (r == AK_ENOTFOUND || (r == AK_OK && closed_status(rec.status))) {
            r = AK_OK;
            goto out;
        }
        misses = 1;
        rec_id = rec.id;
    }
    if (r < 0)
        goto out;
    if (misses >= MISSES_TO_CLOSE) {
        r = apply_obs(ap, o, doc, id, &rec_id, err);
        if (r == AK_OK)
            r = ak_store_poll_seen_del(ap->p->st, ap->s->scope, o->key);
        goto out;
    }
    r = seen_put(ap, o->key, rec_id, misses);
    if (r == AK_OK)
        add_change(ap, o->key, rec_id, "pending-close",
                   "reported completed; closes if the next poll says so too");
out:
    ak_poll_seen_release(&row);
    ak_maint_rec_release(&rec);
    if (r < 0 && err->len == 0)
        ak_err(err, r, "cannot reconcile %s: %s", o->key, ak_strerror(r));
    return r;
}

static int one_item(struct pl_apply *ap, const struct ak_obs *o, const char *doc, const char *id,
                    bool reconcile, struct ak_buf *err)
{
    int64_t rec_id = 0;
    int r;

    add_found(ap, o);
    ap->items++;
    ak_json_set_bool(ap->seen_keys, o->key, true);
    if (reconcile && closed_status(o->status))
        return completed_item(ap, o, doc, id, err);
    r = apply_obs(ap, o, doc, id, &rec_id, err);
    if (r == AK_OK && reconcile && rec_id)
        r = seen_put(ap, o->key, rec_id, 0);
    return r;
}

/* Items the scope saw pending before and did not mention now. */
static int vanished(struct pl_apply *ap, struct ak_buf *err)
{
    struct ak_poll_seen *rows = NULL;
    size_t n = 0;
    int r = ak_store_poll_seen_list(ap->p->st, ap->s->scope, &rows, &n);

    for (size_t i = 0; r == AK_OK && i < n; i++) {
        struct ak_poll_seen *row = &rows[i];
        if (ak_json_get(ap->seen_keys, row->key))
            continue;
        if (row->misses + 1 < MISSES_TO_CLOSE) {
            r = seen_put(ap, row->key, row->rec_id, row->misses + 1);
            if (r == AK_OK)
                add_change(ap, row->key, row->rec_id, "pending-close",
                           "missing from the answer; closes if the next poll misses it too");
            continue;
        }
        struct ak_maint_result res;
        r = ak_maint_close(ap->p->st, row->rec_id, "completed",
                           "gone from the pending list on 2 polls in a row", "poll", ap->now,
                           &res, err);
        if (r == AK_ENOTFOUND)
            r = AK_OK;
        else if (r == AK_OK && res.change == AK_MAINT_CLOSED)
            add_change(ap, row->key, row->rec_id, "closed", res.what);
        if (r == AK_OK)
            r = ak_store_poll_seen_del(ap->p->st, ap->s->scope, row->key);
    }
    for (size_t i = 0; i < n; i++)
        ak_poll_seen_release(&rows[i]);
    free(rows);
    if (r < 0 && err->len == 0)
        ak_err(err, r, "cannot reconcile scope %s: %s", ap->s->scope, ak_strerror(r));
    return r;
}

struct pl_ref {
    const struct ak_pull_page *pg;
    size_t i;
};

static int by_time(const void *a, const void *b)
{
    const struct pl_ref *x = a, *y = b;
    int64_t tx = x->pg->obs.v[x->i].event_time, ty = y->pg->obs.v[y->i].event_time;

    return tx < ty ? -1 : tx > ty;
}

static int apply_scope(struct pl_apply *ap, struct ak_buf *err)
{
    const struct pl_scope *s = ap->s;
    bool reconcile = s->poller != AK_POLLER_EC_EVENTS;
    struct pl_ref *refs = NULL;
    size_t n = 0;
    int r = AK_OK;

    for (size_t p = 0; p < s->n_pv; p++)
        n += s->pv[p].obs.n;
    refs = ak_xcalloc(n ? n : 1, sizeof(*refs));
    n = 0;
    for (size_t p = 0; p < s->n_pv; p++)
        for (size_t i = 0; i < s->pv[p].obs.n; i++)
            refs[n++] = (struct pl_ref){&s->pv[p], i};
    /* an event log is history: apply it oldest first so "complete" lands after "scheduled" */
    if (!reconcile)
        qsort(refs, n, sizeof(*refs), by_time);
    for (size_t k = 0; r == AK_OK && k < n; k++) {
        const struct ak_pull_page *pg = refs[k].pg;
        r = one_item(ap, &pg->obs.v[refs[k].i], pg->docs[refs[k].i], pg->ids[refs[k].i],
                     reconcile, err);
    }
    free(refs);
    if (r == AK_OK && reconcile)
        r = vanished(ap, err);
    return r;
}

static int scope_row(struct pl_apply *ap, bool log_news)
{
    const struct pl_scope *s = ap->s;
    struct ak_poll_scope row = {0};
    bool had_note;
    int r = ak_store_poll_scope_get(ap->p->st, s->scope, &row);

    if (r == AK_ENOTFOUND) {
        memset(&row, 0, sizeof(row));
        row.scope = ak_xstrdup(s->scope);
    } else if (r < 0) {
        return r;
    }
    free(row.poller);
    free(row.account);
    free(row.region);
    row.poller = ak_xstrdup(ak_cfg_poller_name(s->poller));
    row.account = ak_xstrdup(s->acct->cfg->id);
    row.region = ak_xstrdup(s->scope_region);
    row.last_run_at = ap->now;
    row.runs++;
    had_note = row.note != NULL;
    free(row.note);
    row.note = NULL;
    if (s->ok) {
        row.last_ok_at = ap->now;
        free(row.last_error);
        row.last_error = NULL;
        row.items = (int64_t)ap->items;
        row.seen = (int64_t)s->seen;
    } else {
        free(row.last_error);
        row.last_error = ak_xstrdup(s->error);
        row.last_error_at = ap->now;
        row.failures++;
        if (ak_streq(s->code, "SubscriptionRequiredException")) {
            row.note = ak_xstrdup(SUBSCRIPTION_NOTE);
            /* said once, clearly: not on every pass */
            if (log_news && !had_note)
                ak_log(AK_LOG_WARN, "poll", "health API unavailable", "account",
                       s->acct->cfg->id, "why", SUBSCRIPTION_NOTE, NULL);
        } else if (log_news) {
            ak_log(AK_LOG_WARN, "poll", "scope failed", "scope", s->scope, "error", s->error,
                   NULL);
        }
    }
    r = ak_store_poll_scope_put(ap->p->st, &row);
    ak_poll_scope_release(&row);
    return r;
}

static struct ak_json *scope_json(const struct pl_scope *s, size_t items)
{
    struct ak_json *j = ak_json_new_obj();

    ak_json_set_str(j, "scope", s->scope);
    ak_json_set_str(j, "poller", ak_cfg_poller_name(s->poller));
    ak_json_set_str(j, "account", s->acct->cfg->id);
    ak_json_set_str(j, "region", s->scope_region);
    ak_json_set_bool(j, "ok", s->ok);
    ak_json_set_str(j, "error", s->ok ? NULL : s->error);
    ak_json_set_int(j, "pages", s->pages);
    ak_json_set_int(j, "items", (int64_t)items);
    ak_json_set_int(j, "seen", (int64_t)s->seen);
    return j;
}

int ak__poll_apply(struct ak_poll *p, struct pl_pass *pass, bool dry_run, struct ak_json *report,
                   bool *ret_changed, struct ak_buf *err)
{
    struct pl_apply ap = {0};
    struct ak_json *scopes = ak_json_new_arr();
    int r;

    ap.p = p;
    ap.now = ak_now_wall_ms();
    ap.found = ak_json_new_arr();
    ap.changes = ak_json_new_arr();
    ap.dry_run = dry_run;
    r = ak_store_begin(p->st);
    if (r < 0) {
        ak_err(err, r, "cannot start the poll transaction: %s", ak_strerror(r));
        goto out;
    }
    for (size_t i = 0; r == AK_OK && i < pass->n_scopes; i++) {
        ap.s = &pass->scopes[i];
        ap.items = 0;
        ap.seen_keys = ak_json_new_obj();
        if (ap.s->ok)
            r = apply_scope(&ap, err);
        if (r == AK_OK)
            r = scope_row(&ap, !dry_run);
        ak_json_free(ap.seen_keys);
        ap.seen_keys = NULL;
        ak_json_append(scopes, scope_json(ap.s, ap.items));
    }
    if (r == AK_OK && !dry_run)
        r = ak_store_commit(p->st);
    /* also after a failed COMMIT: the transaction may still be open, and would then hold the
     * write lock and make every later BEGIN fail */
    if (r < 0 || dry_run)
        ak_store_rollback(p->st);
    if (r < 0 && err->len == 0)
        ak_err(err, r, "cannot commit the poll results: %s", ak_strerror(r));
out:
    ak_json_set(report, "scopes", scopes);
    ak_json_set(report, "found", ap.found);
    ak_json_set(report, "changes", ap.changes);
    *ret_changed = r == AK_OK && !dry_run && ap.changed;
    return r;
}
