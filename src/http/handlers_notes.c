/* handlers_notes.c — the team memory: notes (POST/GET /api/v1/notes) and the full-text search
 * across notes, runbooks and maintenance records (GET /api/v1/search). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define NOTE_TEXT_MAX (64 * 1024)
#define NOTE_TAGS_MAX 20
#define NOTE_TAG_MAX 64
#define QUERY_MAX 1000

struct ak_json *ak__http_note_json(const struct ak_note *n)
{
    struct ak_json *o = ak_json_new_obj(), *tags = ak_json_new_arr();
    const char *p = n->tags;

    ak_json_set_int(o, "id", n->id);
    ak_json_set_str(o, "text", n->text);
    while (p && *p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len)
            ak_json_append(tags, ak_json_new_strn(p, len));
        p = c ? c + 1 : p + len;
    }
    ak_json_set(o, "tags", tags);
    if (n->maint_id)
        ak_json_set_int(o, "maint_id", n->maint_id);
    else
        ak_json_set(o, "maint_id", ak_json_new_null());
    if (n->runbook_id)
        ak_json_set_int(o, "runbook_id", n->runbook_id);
    else
        ak_json_set(o, "runbook_id", ak_json_new_null());
    ak_json_set_str(o, "by", n->author);
    ak_json_set_time(o, "created_at", n->created_at);
    return o;
}

/* tags[] (or one string) as "a,b"; false after answering 400. */
static bool tags_arg(struct ak_http_req *rq, const struct ak_json *j, struct ak_buf *out)
{
    if (!j || ak_json_is_null(j))
        return true;
    if (ak_json_is_str(j)) {
        if (ak_json_str_len(j) <= NOTE_TAGS_MAX * (NOTE_TAG_MAX + 1) &&
            ak_buf_add(out, ak_json_str(j)) == AK_OK)
            return true;
    } else if (ak_json_is_arr(j) && ak_json_len(j) <= NOTE_TAGS_MAX) {
        size_t i;
        for (i = 0; i < ak_json_len(j); i++) {
            const char *t = ak_json_str(ak_json_at(j, i));
            if (!t || !*t || strlen(t) > NOTE_TAG_MAX || strchr(t, ','))
                break;
            ak_buf_add(out, i ? "," : "");
            ak_buf_add(out, t);
        }
        if (i == ak_json_len(j))
            return true;
    }
    ak__http_error(rq, 400, "\"tags\": at most %d tags of 1..%d characters", NOTE_TAGS_MAX,
                   NOTE_TAG_MAX);
    return false;
}

static void note_add(struct ak_http_req *rq)
{
    struct ak_json *b = ak__http_body_object(rq);
    struct ak_buf tags = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_store *st = NULL;
    struct ak_note n = {0}, got = {0};
    int64_t id = 0;

    if (!b)
        return;
    const char *text = ak_json_get_str(b, "text"), *by = ak_json_get_str(b, "by");
    if (!text || !*text || strlen(text) > NOTE_TEXT_MAX || (by && strlen(by) > 100)) {
        ak__http_error(rq, 400, "\"text\" (1 byte .. 64 KiB) is required; \"by\" is at most 100");
        goto out;
    }
    if (!tags_arg(rq, ak_json_get(b, "tags"), &tags))
        goto out;
    n.text = (char *)text;
    n.tags = tags.buf;
    n.maint_id = ak_json_int(ak_json_get(b, "maint_id"));
    n.runbook_id = ak_json_int(ak_json_get(b, "runbook_id"));
    n.author = (char *)(by && *by ? by : "api");
    n.created_at = ak_now_wall_ms();
    if (!(st = ak__http_open_store(rq, AK_STORE_WRITE)))
        goto out;
    int r = ak_store_begin(st);
    if (r == AK_OK)
        r = ak_store_note_add(st, &n, &id);
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0) {
        ak_store_rollback(st);
        ak__http_error(rq, ak_err_http_status(r), "cannot add the note: %s",
                       r == AK_EINVAL ? "a tag is a word (letters, digits, - _ . : /)"
                       : r == AK_ENOTFOUND ? "no such maintenance record or runbook"
                                           : ak_strerror(r));
        goto out;
    }
    if (ak_store_note_get(st, id, &got) == AK_OK)
        ak__http_json(rq, 201, ak__http_note_json(&got));
    else
        ak__http_error(rq, 500, "added note %lld, but cannot read it back", (long long)id);
    ak_note_release(&got);
out:
    ak_buf_release(&tags);
    ak_json_free(b);
    ak_store_close(st);
}

void ak__http_notes_post(struct ak_http_req *rq, const char *tail)
{
    (void)tail;
    note_add(rq);
}

/* ?name=N (a positive id) into *ret (0 when absent); false after answering 400. */
static bool id_arg(struct ak_http_req *rq, const char *name, int64_t *ret)
{
    const char *v = ak__http_arg(rq, name);
    uint64_t id = 0;

    if (v && ak_parse_u64(v, 1, INT64_MAX, &id) < 0) {
        ak__http_error(rq, 400, "%s must be an id", name);
        return false;
    }
    *ret = (int64_t)id;
    return true;
}

static bool limit_arg(struct ak_http_req *rq, uint64_t max, uint64_t *ret)
{
    const char *l = ak__http_arg(rq, "limit");
    if (l && ak_parse_u64(l, 1, max, ret) < 0) {
        ak__http_error(rq, 400, "limit must be a number from 1 to %llu", (unsigned long long)max);
        return false;
    }
    return true;
}

void ak__http_notes_get(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = NULL;
    struct ak_note *v = NULL, one = {0};
    size_t n = 0;
    int64_t maint = 0, rb = 0;
    uint64_t limit = 1000, id = 0;
    int r;

    if (tail && *tail && ak_parse_u64(tail, 1, INT64_MAX, &id) < 0) {
        ak__http_error(rq, 400, "'%s' is not a note id", tail);
        return;
    }
    if (!id_arg(rq, "maint", &maint) || !id_arg(rq, "runbook", &rb) ||
        !limit_arg(rq, 10000, &limit))
        return;
    if (!(st = ak__http_open_store(rq, AK_STORE_READ)))
        return;
    if (id) {
        r = ak_store_note_get(st, (int64_t)id, &one);
        if (r < 0)
            ak__http_error(rq, ak_err_http_status(r), "note %llu: %s", (unsigned long long)id,
                           ak_strerror(r));
        else
            ak__http_json(rq, 200, ak__http_note_json(&one));
        ak_note_release(&one);
        goto out;
    }
    r = ak_store_note_list(st, ak__http_arg(rq, "tag"), maint, rb, (size_t)limit, &v, &n);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "cannot list notes: %s",
                       r == AK_EINVAL ? "tag must be one word" : ak_strerror(r));
        goto out;
    }
    struct ak_json *a = ak_json_new_arr();
    for (size_t i = 0; i < n; i++)
        ak_json_append(a, ak__http_note_json(&v[i]));
    ak__http_json(rq, 200, a);
out:
    for (size_t i = 0; i < n; i++)
        ak_note_release(&v[i]);
    free(v);
    ak_store_close(st);
}

/* ---- search -------------------------------------------------------------------------------- */

/* ?since= / ?until= as RFC 3339 or a date; a date-only until includes that whole day. */
static bool date_arg(struct ak_http_req *rq, const char *name, bool end, int64_t *ret)
{
    const char *v = ak__http_arg(rq, name);
    int64_t ms = 0;

    *ret = 0;
    if (!v || !*v)
        return true;
    if (ak_time_parse(v, &ms) < 0) {
        ak__http_error(rq, 400, "%s: '%s' is not a date (2026-12-10) or RFC 3339 time", name, v);
        return false;
    }
    if (end && strlen(v) == 10)
        ms += 86400000;
    *ret = ms;
    return true;
}

static const char *hit_link(const struct ak_search_hit *h, char *buf, size_t n)
{
    const char *base = ak_streq(h->kind, "note")      ? "/api/v1/notes/"
                       : ak_streq(h->kind, "runbook") ? "/api/v1/runbooks/"
                                                      : "/api/v1/maintenance/";
    snprintf(buf, n, "%s%lld", base, (long long)h->id);
    return buf;
}

void ak__http_search(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = NULL;
    struct ak_search_hit *v = NULL;
    size_t n = 0;
    uint64_t limit = 20;
    char link[64];
    struct ak_search_q q = {0};
    (void)tail;

    q.query = ak__http_arg(rq, "q");
    q.kind = ak__http_arg(rq, "kind");
    q.tag = ak__http_arg(rq, "tag");
    if (!q.query || !*q.query || strlen(q.query) > QUERY_MAX) {
        ak__http_error(rq, 400, "q (1..%d characters) is required", QUERY_MAX);
        return;
    }
    if (q.kind && *q.kind && !ak_streq(q.kind, "note") && !ak_streq(q.kind, "runbook") &&
        !ak_streq(q.kind, "maintenance")) {
        ak__http_error(rq, 400, "kind must be note, runbook or maintenance, not '%s'", q.kind);
        return;
    }
    if (q.tag && strlen(q.tag) > 128) {
        ak__http_error(rq, 400, "tag is at most 128 characters");
        return;
    }
    if (!limit_arg(rq, 1000, &limit) || !date_arg(rq, "since", false, &q.since_ms) ||
        !date_arg(rq, "until", true, &q.until_ms))
        return;
    q.limit = (size_t)limit;
    if (!(st = ak__http_open_store(rq, AK_STORE_READ)))
        return;
    int r = ak_store_search(st, &q, &v, &n);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "search failed: %s",
                       r == AK_EINVAL ? "the query has no word to look for" : ak_strerror(r));
        goto out;
    }
    struct ak_json *o = ak_json_new_obj(), *a = ak_json_new_arr();
    ak_json_set_str(o, "query", q.query);
    for (size_t i = 0; i < n; i++) {
        struct ak_json *h = ak_json_new_obj();
        ak_json_set_str(h, "kind", v[i].kind);
        ak_json_set_int(h, "id", v[i].id);
        ak_json_set_str(h, "title", v[i].title);
        ak_json_set_str(h, "snippet", v[i].snippet);
        ak_json_set(h, "rank", ak_json_new_real(v[i].rank));
        ak_json_set_time(h, "at", v[i].at);
        ak_json_set_str(h, "tags", v[i].tags);
        ak_json_set_str(h, "link", hit_link(&v[i], link, sizeof(link)));
        ak_json_append(a, h);
    }
    ak_json_set(o, "hits", a);
    ak__http_json(rq, 200, o);
out:
    for (size_t i = 0; i < n; i++)
        ak_search_hit_release(&v[i]);
    free(v);
    ak_store_close(st);
}
