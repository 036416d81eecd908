/* maint.c — observation -> maintenance record: dedupe, lifecycle, page merge, recurrence.
 *
 * The rules (docs/internals/maint.md has the long form):
 *   - no record with the key: create one;
 *   - an open record: merge the observation into it (resources, window, status, text);
 *   - a closed record: a stale copy (a completion/cancel again, the same window, or a message
 *     older than the completion) is attached to it unchanged; anything else is a new
 *     maintenance with the same key, a recurrence when the closed one completed recently.
 */
#include "asakai/ak_maint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_events.h"
#include "asakai/ak_json.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "maint_int.h"
#include "src/core/ak_banned.h"

#define WHAT_MAX 159
#define TAGS_MAX 100
#define CHANGES_MAX 4

/* A material change to record, in the same transaction, for notifications. */
struct pending_change {
    const char *kind;
    char key[80];
    char summary[160];
};

/* What one observation did to its record. */
struct outcome {
    enum ak_maint_change change;
    int64_t recurrence_of;
    struct ak_buf what;
    struct pending_change ch[CHANGES_MAX];
    size_t n_ch;
};

struct ak_maint_cfg ak_maint_cfg_or_default(const struct ak_maint_cfg *cfg)
{
    struct ak_maint_cfg c = {0};

    if (cfg)
        c = *cfg;
    if (c.recurrence_window_ms <= 0)
        c.recurrence_window_ms = AK_MAINT_DEFAULT_RECURRENCE_MS;
    if (c.important_within_ms <= 0)
        c.important_within_ms = AK_MAINT_DEFAULT_IMPORTANT_MS;
    return c;
}

bool ak_maint_status_closed(const char *status)
{
    return ak_streq(status, "completed") || ak_streq(status, "canceled");
}

bool ak_maint_list_add(char **list, const char *item)
{
    if (!item || !*item)
        return false;
    if (*list) {
        size_t n = strlen(item);
        for (const char *p = *list; p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len == n && memcmp(p, item, n) == 0)
                return false;
            p = end ? end + 1 : NULL;
        }
    }
    char *s = *list ? ak_xasprintf("%s,%s", *list, item) : ak_xstrdup(item);
    free(*list);
    *list = s;
    return true;
}

/* Lifecycle order: scheduled/rescheduled < in-progress < completed/canceled. */
/* When the maintenance closed: the time the closing message says it happened (a completion
 * imported or delivered late must not look recent), never in the future; else now. */
static int64_t closed_time(const struct ak_obs *o, int64_t now_ms)
{
    return o->event_time && o->event_time < now_ms ? o->event_time : now_ms;
}

static int status_rank(const char *status)
{
    if (ak_streq(status, "in-progress"))
        return 1;
    return ak_maint_status_closed(status) ? 2 : 0;
}

static bool has_resource(const struct ak_maint_rec *r, const char *res)
{
    for (size_t i = 0; i < r->n_resources; i++)
        if (strcmp(r->resources[i], res) == 0)
            return true;
    return false;
}

/* Adds the observation's resources the record lacks; returns how many were added. */
static size_t union_resources(struct ak_maint_rec *r, const struct ak_obs *o)
{
    size_t added = 0;

    for (size_t i = 0; i < o->n_resources; i++) {
        const char *res = o->resources[i];
        if (!res || !*res || has_resource(r, res))
            continue;
        r->resources = ak_xrealloc(r->resources, (r->n_resources + 1) * sizeof(*r->resources));
        r->resources[r->n_resources++] = ak_xstrdup(res);
        added++;
    }
    return added;
}

static void set_str(char **dst, const char *s)
{
    if (!s || !*s || ak_streq(*dst, s))
        return;
    free(*dst);
    *dst = ak_xstrdup(s);
}

/* Queues a change row (kind is a static string; key and summary are copied, cut to fit). */
static void change_add(struct outcome *oc, const char *kind, const char *key,
                       const char *summary)
{
    struct pending_change *c;

    AK_BUG_ON(oc->n_ch >= CHANGES_MAX);
    c = &oc->ch[oc->n_ch++];
    c->kind = kind;
    snprintf(c->key, sizeof(c->key), "%s", key);
    snprintf(c->summary, sizeof(c->summary), "%s", summary);
}

/* "2026-12-10T17:00Z": minutes are enough for people, seconds only when not zero. */
static void fmt_short(int64_t ms, char *buf, size_t n)
{
    size_t len;

    if (!ms) {
        snprintf(buf, n, "unknown");
        return;
    }
    ak_time_fmt_rfc3339(ms, buf, n);
    len = strlen(buf);
    if (len > 4 && strcmp(buf + len - 4, ":00Z") == 0) {
        buf[len - 4] = 'Z';
        buf[len - 3] = 0;
    }
}

/* Merges the tags object text add into *tags (later keys win); at most TAGS_MAX keys. Tags
 * are not news: they only refine routing. */
static void merge_tags(char **tags, const char *add)
{
    struct ak_json *acc = NULL, *in = NULL;

    if (!add || !*add)
        return;
    in = ak_json_parse(add, strlen(add), NULL);
    if (!ak_json_is_obj(in) || ak_json_len(in) == 0)
        goto out;
    if (*tags)
        acc = ak_json_parse(*tags, strlen(*tags), NULL);
    if (!ak_json_is_obj(acc)) {
        ak_json_free(acc);
        acc = ak_json_new_obj();
    }
    for (void *it = ak_json_iter(in); it; it = ak_json_iter_next(in, it)) {
        const char *k = ak_json_iter_key(it);
        struct ak_json *v = ak_json_iter_value(it);
        if (!ak_json_is_str(v) || (!ak_json_get(acc, k) && ak_json_len(acc) >= TAGS_MAX))
            continue;
        ak_json_set(acc, k, ak_json_ref(v));
    }
    free(*tags);
    *tags = ak_json_len(acc) ? ak_json_dump(acc, AK_JSON_COMPACT) : NULL;
out:
    ak_json_free(acc);
    ak_json_free(in);
}

static void what_add(struct outcome *oc, const char *fmt, const char *a, const char *b)
{
    if (oc->what.len)
        ak_buf_add(&oc->what, "; ");
    ak_buf_addf(&oc->what, fmt, a, b);
}

/* Sticky importance the observation itself carries: a mandatory maintenance. */
static void mark_mandatory(struct ak_maint_rec *r, const struct ak_obs *o)
{
    if (o->required || ak_streq(o->kind, "instance-retirement") ||
        ak_streq(o->kind, "instance-stop")) {
        r->important = true;
        ak_maint_list_add(&r->important_why, "mandatory");
    }
}

static void rec_from_obs(struct ak_maint_rec *r, const struct ak_obs *o, int64_t now_ms)
{
    memset(r, 0, sizeof(*r));
    r->key = ak_xstrdup(o->key);
    r->source = ak_xstrdup(o->source);
    r->service = ak_xstrdup(o->service);
    r->kind = ak_xstrdup(o->kind);
    r->family = ak_xstrdup(ak_kind_family(o->service, o->kind));
    r->status = ak_xstrdup(o->status);
    r->event_code = ak_xstrdup(o->event_code);
    r->account = ak_xstrdup(o->account);
    r->region = ak_xstrdup(o->region);
    union_resources(r, o);
    r->window_start = o->window_start;
    r->window_end = o->window_end;
    r->deadline = o->deadline;
    r->title = ak_xstrdup(o->title);
    r->description = ak_xstrdup(o->description);
    r->first_seen = r->last_seen = now_ms;
    r->closed_at = ak_maint_status_closed(o->status) ? closed_time(o, now_ms) : 0;
    r->required = o->required;
    ak_maint_list_add(&r->sources, o->source);
    merge_tags(&r->tags, o->tags);
    mark_mandatory(r, o);
}

/* The most recent completion of the same family sharing one of r's resources, closed at or
 * after since_ms; 0 when none. */
static int find_recurrence(struct ak_store *st, const struct ak_maint_rec *r, int64_t since_ms,
                           int64_t *ret_id)
{
    int64_t best_id = 0, best_at = 0;

    if (!r->service)
        goto out;
    for (size_t i = 0; i < r->n_resources; i++) {
        struct ak_maint_rec prev = {0};
        int ret = ak_store_rec_find_completed(st, r->service, r->family, r->resources[i],
                                              since_ms, &prev);
        if (ret == AK_ENOTFOUND)
            continue;
        if (ret < 0)
            return ret;
        if (prev.closed_at > best_at || (prev.closed_at == best_at && prev.id > best_id)) {
            best_id = prev.id;
            best_at = prev.closed_at;
        }
        ak_maint_rec_release(&prev);
    }
out:
    *ret_id = best_id;
    return AK_OK;
}

/* Creates the record for o. prev is the closed record with the same key, or NULL. */
static int create_rec(struct ak_store *st, const struct ak_maint_cfg *cfg, const struct ak_obs *o,
                      const struct ak_maint_rec *prev, int64_t now_ms, struct ak_maint_rec *r,
                      struct outcome *oc)
{
    int64_t since = now_ms - cfg->recurrence_window_ms, rec_of = 0;
    int ret = AK_OK;

    rec_from_obs(r, o, now_ms);
    if (prev && ak_streq(prev->status, "completed") && prev->closed_at >= since)
        rec_of = prev->id;
    else if (o->required && !ak_maint_status_closed(o->status))
        ret = find_recurrence(st, r, since, &rec_of);
    if (ret < 0)
        return ret;
    if (rec_of) {
        char why[48];
        r->recurrence_of = rec_of;
        r->important = true;
        snprintf(why, sizeof(why), "recurrence of #%lld", (long long)rec_of);
        ak_maint_list_add(&r->important_why, why);
    }
    ret = ak_store_rec_insert(st, r, &r->id);
    if (ret < 0)
        return ret;
    oc->change = AK_MAINT_CREATED;
    oc->recurrence_of = rec_of;
    if (rec_of)
        ak_buf_addf(&oc->what, "created (recurrence of #%lld)", (long long)rec_of);
    else
        ak_buf_add(&oc->what, "created");
    change_add(oc, "created", "created", oc->what.buf);
    return AK_OK;
}

static void fmt_when(int64_t ms, char *buf, size_t n)
{
    if (ms)
        ak_time_fmt_rfc3339(ms, buf, n);
    else
        snprintf(buf, n, "unknown");
}

/* The change row of a date move: a new window start is a reschedule ("window:<start>:<deadline>"),
 * a new deadline alone is "deadline:<ms>"; a new window end alone is not news. */
static void date_change(const struct ak_maint_rec *r, struct outcome *oc, int64_t old_start,
                        int64_t old_deadline)
{
    char a[AK_TIME_RFC3339_LEN], b[AK_TIME_RFC3339_LEN], key[80], sum[160];

    if (old_start != r->window_start) {
        fmt_short(old_start, a, sizeof(a));
        fmt_short(r->window_start, b, sizeof(b));
        snprintf(key, sizeof(key), "window:%lld:%lld", (long long)r->window_start,
                 (long long)r->deadline);
        if (old_start)
            snprintf(sum, sizeof(sum), "rescheduled from %s to %s", a, b);
        else
            snprintf(sum, sizeof(sum), "scheduled for %s", b);
        change_add(oc, "rescheduled", key, sum);
    } else if (old_deadline != r->deadline) {
        fmt_short(old_deadline, a, sizeof(a));
        fmt_short(r->deadline, b, sizeof(b));
        snprintf(key, sizeof(key), "deadline:%lld", (long long)r->deadline);
        if (old_deadline)
            snprintf(sum, sizeof(sum), "deadline moved from %s to %s", a, b);
        else
            snprintf(sum, sizeof(sum), "deadline set to %s", b);
        change_add(oc, "deadline", key, sum);
    }
}

/* Window and deadline: returns true when one of them moved. */
static bool merge_dates(struct ak_maint_rec *r, const struct ak_obs *o, struct outcome *oc)
{
    char a[AK_TIME_RFC3339_LEN], b[AK_TIME_RFC3339_LEN];
    bool moved = false;
    int64_t old_start = r->window_start, old_deadline = r->deadline;

    if (o->window_start && o->window_start != r->window_start) {
        r->window_start = o->window_start;
        moved = true;
    }
    if (o->window_end && o->window_end != r->window_end) {
        r->window_end = o->window_end;
        moved = true;
    }
    if (o->deadline && o->deadline != r->deadline) {
        r->deadline = o->deadline;
        moved = true;
    }
    if (!moved)
        return false;
    bool by_window = old_start != r->window_start;
    date_change(r, oc, old_start, old_deadline);
    fmt_when(by_window ? old_start : old_deadline, a, sizeof(a));
    fmt_when(by_window ? r->window_start : r->deadline, b, sizeof(b));
    if (ak_streq(o->status, "scheduled") || ak_streq(o->status, "rescheduled")) {
        set_str(&r->status, "rescheduled");
        r->important = true;
        ak_maint_list_add(&r->important_why, "rescheduled");
        what_add(oc, "rescheduled %s -> %s", a, b);
    } else
        what_add(oc, "dates %s -> %s", a, b);
    return true;
}

/* Status moves forward only; returns true when it changed. */
static bool merge_status(struct ak_maint_rec *r, const struct ak_obs *o, int64_t now_ms,
                         struct outcome *oc)
{
    int have = status_rank(r->status), got = status_rank(o->status);
    char *old = ak_xstrdup(r->status);
    bool changed = false;

    if (got > have || (got == 0 && have == 0 && ak_streq(o->status, "rescheduled") &&
                       !ak_streq(r->status, "rescheduled"))) {
        char key[80], sum[160];
        set_str(&r->status, o->status);
        what_add(oc, "status %s -> %s", old, r->status);
        snprintf(key, sizeof(key), "status:%s", r->status);
        snprintf(sum, sizeof(sum), "status %s -> %s", old, r->status);
        change_add(oc, "status", key, sum);
        changed = true;
        if (got == 2) {
            r->closed_at = closed_time(o, now_ms);
            oc->change = AK_MAINT_CLOSED;
        } else if (ak_streq(r->status, "rescheduled")) {
            r->important = true;
            ak_maint_list_add(&r->important_why, "rescheduled");
        }
    }
    free(old);
    return changed;
}

/* Merges o into the open record r. */
static int merge_rec(struct ak_store *st, struct ak_maint_rec *r, const struct ak_obs *o,
                     int64_t now_ms, struct outcome *oc)
{
    bool material = false, was_important = r->important;
    size_t added = union_resources(r, o);

    oc->change = AK_MAINT_UPDATED;
    if (added) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", added);
        if (o->page > 0) {
            char p[48];
            snprintf(p, sizeof(p), "page %d/%d", o->page, o->total_pages);
            what_add(oc, "%s (+%s resources)", p, n);
        } else
            what_add(oc, "resources +%s%s", n, "");
        material = true;
    }
    material |= merge_dates(r, o, oc);
    material |= merge_status(r, o, now_ms, oc);
    if (o->required && !r->required) {
        r->required = true;
        material = true;
        what_add(oc, "now %s%s", "mandatory", "");
    }
    mark_mandatory(r, o);
    material |= r->important != was_important;
    set_str(&r->title, o->title);
    set_str(&r->description, o->description);
    set_str(&r->event_code, o->event_code);
    if (!r->account)
        set_str(&r->account, o->account);
    if (!r->region)
        set_str(&r->region, o->region);
    ak_maint_list_add(&r->sources, o->source);
    merge_tags(&r->tags, o->tags);
    r->last_seen = now_ms;
    if (!material) {
        oc->change = AK_MAINT_UNCHANGED;
        ak_buf_reset(&oc->what);
        ak_buf_add(&oc->what, "duplicate");
    }
    return ak_store_rec_update(st, r);
}

/* A message about the closed record r that is no news: a completion/cancel again, the same
 * window, a window that ended before the completion, or a message older than the completion
 * (ElastiCache keeps sending scheduled notices after a manual replacement, ref. §4.4). */
static bool stale_after_close(const struct ak_maint_rec *r, const struct ak_obs *o)
{
    if (ak_maint_status_closed(o->status))
        return true;
    if (o->window_start && o->window_start == r->window_start)
        return true;
    if (o->window_end && o->window_end <= r->closed_at)
        return true;
    return o->event_time && o->event_time < r->closed_at; /* same instant: not evidence */
}

static int attach_stale(struct ak_store *st, struct ak_maint_rec *r, const struct ak_obs *o,
                        int64_t now_ms, struct outcome *oc)
{
    r->last_seen = now_ms;
    ak_maint_list_add(&r->sources, o->source);
    oc->change = AK_MAINT_UNCHANGED;
    ak_buf_add(&oc->what, ak_maint_status_closed(o->status) ? "duplicate"
                                                             : "stale notice after completion");
    return ak_store_rec_update(st, r);
}

static int check_obs(const struct ak_obs *o, struct ak_buf *err)
{
    if (!o || !o->key || !*o->key)
        return ak_err(err, AK_EINVAL, "The observation has no dedupe key.");
    if (!ak_streq(o->status, "scheduled") && !ak_streq(o->status, "rescheduled") &&
        !ak_streq(o->status, "in-progress") && !ak_maint_status_closed(o->status))
        return ak_err(err, AK_EINVAL, "The observation %s has an unknown status \"%s\".", o->key,
                      o->status ? o->status : "(none)");
    for (size_t i = 0; i < o->n_resources; i++)
        if (!o->resources || !o->resources[i])
            return ak_err(err, AK_EINVAL, "The observation %s has a NULL resource.", o->key);
    return AK_OK;
}

static int add_changes(struct ak_store *st, int64_t rec_id, const struct outcome *oc,
                       int64_t now_ms)
{
    int r = AK_OK;

    for (size_t i = 0; r == AK_OK && i < oc->n_ch; i++) {
        struct ak_change c = {0};
        c.rec_id = rec_id;
        c.kind = (char *)oc->ch[i].kind;
        c.key = (char *)oc->ch[i].key;
        c.summary = (char *)oc->ch[i].summary;
        c.at = now_ms;
        /* a change already recorded (a window moved back and forth) is not news again */
        r = ak_store_change_add(st, &c, NULL, NULL);
    }
    return r;
}

static int add_delivery(struct ak_store *st, int64_t rec_id, int64_t raw_id, const char *channel,
                        const char *message_id, int64_t now_ms, const char *what)
{
    struct ak_delivery d = {0};

    d.rec_id = rec_id;
    d.raw_id = raw_id;
    d.channel = (char *)channel;
    d.message_id = (char *)message_id;
    d.at = now_ms;
    d.change = (char *)what;
    return ak_store_delivery_add(st, &d, NULL);
}

/* merge_by_resource: the newest open record of o's service and kind family that shares one of
 * o's resources, into *ret; AK_ENOTFOUND when none. A closing observation never joins by
 * resource: an old completed item about an instance must not close the instance's next,
 * unrelated maintenance. */
static int find_by_resource(struct ak_store *st, const struct ak_obs *o, struct ak_maint_rec *ret)
{
    struct ak_maint_rec best = {0};
    char family[96];

    if (!o->service || ak_maint_status_closed(o->status))
        return AK_ENOTFOUND;
    /* copied: ak_kind_family's fallback lives in a small ring */
    snprintf(family, sizeof(family), "%s", ak_kind_family(o->service, o->kind));
    for (size_t i = 0; i < o->n_resources; i++) {
        struct ak_maint_rec cand = {0};
        int r = ak_store_rec_find_open(st, o->service, family, o->resources[i], &cand);
        if (r == AK_ENOTFOUND)
            continue;
        if (r < 0) {
            ak_maint_rec_release(&best);
            return r;
        }
        if (cand.id > best.id) {
            ak_maint_rec_release(&best);
            best = cand;
        } else
            ak_maint_rec_release(&cand);
    }
    if (!best.id)
        return AK_ENOTFOUND;
    *ret = best;
    return AK_OK;
}

/* The history row says that another source's key now leads to the record too (by source:
 * a Health key alone is near the length of the whole line). */
static void note_join(struct outcome *oc, const struct ak_obs *o)
{
    char what[WHAT_MAX + 1];

    if (oc->change == AK_MAINT_UNCHANGED)
        ak_buf_reset(&oc->what);
    snprintf(what, sizeof(what), "%s%sjoined by %s", oc->what.buf, oc->what.len ? "; " : "",
             o->source ? o->source : "another key");
    ak_buf_reset(&oc->what);
    ak_buf_add(&oc->what, what);
}

int ak_maint_apply(struct ak_store *st, const struct ak_maint_cfg *cfg, const struct ak_obs *o,
                   int64_t raw_id, const char *channel, const char *message_id, int64_t now_ms,
                   struct ak_maint_result *ret, struct ak_buf *err)
{
    static const struct ak_maint_apply_opts none = {0};

    return ak_maint_apply_ex(st, cfg, o, &none, raw_id, channel, message_id, now_ms, ret, err);
}

int ak_maint_apply_ex(struct ak_store *st, const struct ak_maint_cfg *cfg, const struct ak_obs *o,
                      const struct ak_maint_apply_opts *opts, int64_t raw_id, const char *channel,
                      const char *message_id, int64_t now_ms, struct ak_maint_result *ret,
                      struct ak_buf *err)
{
    static const struct ak_maint_apply_opts none = {0};
    struct ak_maint_cfg c = ak_maint_cfg_or_default(cfg);
    struct ak_maint_rec cur = {0}, fresh = {0};
    struct outcome oc = {.what = AK_BUF_INIT(WHAT_MAX)};
    bool joined = false;
    int64_t rec_id;
    int r = check_obs(o, err);

    if (r < 0)
        return r;
    if (!opts)
        opts = &none;
    r = ak_store_rec_latest_by_key(st, o->key, &cur);
    if (r == AK_ENOTFOUND && opts->merge_by_resource) {
        r = find_by_resource(st, o, &cur);
        joined = r == AK_OK;
    }
    if (r == AK_ENOTFOUND)
        r = create_rec(st, &c, o, NULL, now_ms, &fresh, &oc);
    else if (r == AK_OK && !ak_maint_status_closed(cur.status))
        r = merge_rec(st, &cur, o, now_ms, &oc);
    else if (r == AK_OK && stale_after_close(&cur, o))
        r = attach_stale(st, &cur, o, now_ms, &oc);
    else if (r == AK_OK)
        r = create_rec(st, &c, o, &cur, now_ms, &fresh, &oc);
    if (r == AK_OK && joined) {
        r = ak_store_rec_alias_add(st, o->key, cur.id);
        note_join(&oc, o);
    }
    if (r < 0)
        goto out;
    rec_id = fresh.id ? fresh.id : cur.id;
    /* a join is always history: it is why the record gained a source */
    if (!opts->quiet_unchanged || oc.change != AK_MAINT_UNCHANGED || joined)
        r = add_delivery(st, rec_id, raw_id, channel, message_id, now_ms, oc.what.buf);
    if (r == AK_OK)
        r = add_changes(st, rec_id, &oc, now_ms);
    if (r < 0)
        goto out;
    memset(ret, 0, sizeof(*ret));
    ret->rec_id = rec_id;
    ret->change = oc.change;
    ret->recurrence_of = oc.recurrence_of;
    snprintf(ret->what, sizeof(ret->what), "%s", oc.what.buf);
out:
    if (r < 0)
        ak_err(err, r, "Cannot apply observation %s to the store: %s.", o->key, ak_strerror(r));
    ak_maint_rec_release(&cur);
    ak_maint_rec_release(&fresh);
    ak_buf_release(&oc.what);
    return r;
}

/* The change row of a close: the same key as merge_status makes for the same status, so that a
 * close by a poller and a completion message arriving later are one piece of news. */
static int close_change(struct ak_store *st, int64_t rec_id, const char *old, const char *status,
                        const char *why, int64_t now_ms)
{
    struct ak_change ch = {0};
    char key[80], sum[160];

    snprintf(key, sizeof(key), "status:%s", status);
    if (why && *why)
        snprintf(sum, sizeof(sum), "status %s -> %s: %s", old, status, why);
    else
        snprintf(sum, sizeof(sum), "status %s -> %s", old, status);
    ch.rec_id = rec_id;
    ch.kind = (char *)"status";
    ch.key = key;
    ch.summary = sum;
    ch.at = now_ms;
    return ak_store_change_add(st, &ch, NULL, NULL);
}

int ak_maint_close(struct ak_store *st, int64_t rec_id, const char *status, const char *why,
                   const char *channel, int64_t now_ms, struct ak_maint_result *ret,
                   struct ak_buf *err)
{
    struct ak_maint_rec rec = {0};
    char what[160];
    char *old = NULL;
    int r;

    if (!ak_maint_status_closed(status))
        return ak_err(err, AK_EINVAL, "Cannot close record #%lld with status \"%s\": only "
                      "completed or canceled close a record.", (long long)rec_id,
                      status ? status : "(none)");
    r = ak_store_rec_get(st, rec_id, &rec);
    if (r < 0) {
        ak_err(err, r, "Cannot close record #%lld: %s.", (long long)rec_id, ak_strerror(r));
        goto out;
    }
    if (ak_maint_status_closed(rec.status)) {
        memset(ret, 0, sizeof(*ret));
        ret->rec_id = rec_id;
        ret->change = AK_MAINT_UNCHANGED;
        snprintf(ret->what, sizeof(ret->what), "already %s", rec.status);
        goto out;
    }
    old = rec.status;
    rec.status = ak_xstrdup(status);
    rec.closed_at = now_ms;
    if (why && *why)
        snprintf(what, sizeof(what), "status %s -> %s: %s", old, status, why);
    else
        snprintf(what, sizeof(what), "status %s -> %s", old, status);
    r = ak_store_rec_update(st, &rec);
    if (r == AK_OK)
        r = add_delivery(st, rec_id, 0, channel, NULL, now_ms, what);
    if (r == AK_OK)
        r = close_change(st, rec_id, old, status, why, now_ms);
    if (r < 0) {
        ak_err(err, r, "Cannot close record #%lld in the store: %s.", (long long)rec_id,
               ak_strerror(r));
        goto out;
    }
    memset(ret, 0, sizeof(*ret));
    ret->rec_id = rec_id;
    ret->change = AK_MAINT_CLOSED;
    snprintf(ret->what, sizeof(ret->what), "%s", what);
out:
    free(old);
    ak_maint_rec_release(&rec);
    return r;
}
