/* handlers_notify.c — the notification API: ack, silences, outbox, route test, and the record's
 * changes and outbox rows for `maint show`. Writes open their own store connection (the daemon
 * stays the only writer process; SQLite serialises the writers inside it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_route.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define SILENCE_MAX_MS (366LL * 86400000)

static struct ak_json *change_json(const struct ak_change *c)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "id", c->id);
    ak_json_set_str(o, "kind", c->kind);
    ak_json_set_str(o, "key", c->key);
    ak_json_set_str(o, "summary", c->summary);
    ak_json_set_time(o, "at", c->at);
    return o;
}

static struct ak_json *outbox_json(const struct ak_outbox *o)
{
    struct ak_json *j = ak_json_new_obj();
    ak_json_set_int(j, "id", o->id);
    if (o->rec_id)
        ak_json_set_int(j, "record", o->rec_id);
    else
        ak_json_set(j, "record", ak_json_new_null());
    ak_json_set_str(j, "receiver", o->receiver);
    ak_json_set_str(j, "key", o->key);
    ak_json_set_str(j, "state", o->state);
    ak_json_set_int(j, "attempts", o->attempts);
    ak_json_set_time(j, "created_at", o->created_at);
    ak_json_set_time(j, "next_at", ak_streq(o->state, "pending") ? o->next_at : 0);
    ak_json_set_time(j, "sent_at", o->sent_at);
    ak_json_set_str(j, "last_error", o->last_error);
    ak_json_set_str(j, "note", o->note);
    return j;
}

void ak__http_record_extras(struct ak_store *st, int64_t rec_id, struct ak_json *rec)
{
    struct ak_change *cs = NULL;
    struct ak_outbox *os = NULL;
    size_t nc = 0, no = 0;
    struct ak_json *ca = ak_json_new_arr(), *oa = ak_json_new_arr();

    if (ak_store_change_list_rec(st, rec_id, &cs, &nc) == AK_OK)
        for (size_t i = 0; i < nc; i++)
            ak_json_append(ca, change_json(&cs[i]));
    if (ak_store_outbox_list_rec(st, rec_id, &os, &no) == AK_OK)
        for (size_t i = 0; i < no; i++)
            ak_json_append(oa, outbox_json(&os[i]));
    ak_json_set(rec, "changes", ca);
    ak_json_set(rec, "outbox", oa);
    for (size_t i = 0; i < nc; i++)
        ak_change_release(&cs[i]);
    free(cs);
    for (size_t i = 0; i < no; i++)
        ak_outbox_release(&os[i]);
    free(os);
}

/* POST /api/v1/maintenance/ID/ack {"by": NAME, "note": TEXT} */
void ak__http_maint_post(struct ak_http_req *rq, const char *tail)
{
    char idbuf[24];
    const char *slash = strchr(tail, '/');
    uint64_t id;
    struct ak_json *b = NULL;
    struct ak_store *st = NULL;

    if (!slash || strcmp(slash, "/ack") != 0 || (size_t)(slash - tail) >= sizeof(idbuf)) {
        ak__http_error(rq, 404, "no such endpoint: %s (POST .../ID/ack)", rq->path);
        return;
    }
    memcpy(idbuf, tail, (size_t)(slash - tail));
    idbuf[slash - tail] = 0;
    if (ak_parse_u64(idbuf, 1, INT64_MAX, &id) < 0) {
        ak__http_error(rq, 400, "'%s' is not a record id", idbuf);
        return;
    }
    if (!(b = ak__http_body_object(rq)))
        return;
    const char *by = ak_json_get_str(b, "by"), *note = ak_json_get_str(b, "note");
    if (!by || !*by || strlen(by) > 100 || (note && strlen(note) > 2000)) {
        ak__http_error(rq, 400, "\"by\" (1..100 chars) is required; \"note\" is at most 2000");
        goto out;
    }
    if (!(st = ak__http_open_store(rq, AK_STORE_WRITE)))
        goto out;
    int64_t now = ak_now_wall_ms();
    int r = ak_store_begin(st);
    if (r == AK_OK)
        r = ak_store_rec_ack(st, (int64_t)id, by, note, now);
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0) {
        ak_store_rollback(st);
        ak__http_error(rq, ak_err_http_status(r), "cannot acknowledge record %llu: %s",
                       (unsigned long long)id, ak_strerror(r));
        goto out;
    }
    struct ak_maint_rec rec = {0};
    struct ak_maint_cfg mc;
    ak_maint_cfg_init(&mc, rq->cfg);
    if (ak_store_rec_get(st, (int64_t)id, &rec) == AK_OK)
        ak__http_json(rq, 200, ak_maint_rec_json(&mc, &rec, now));
    else
        ak__http_error(rq, 500, "acknowledged, but cannot read the record back");
    ak_maint_rec_release(&rec);
out:
    ak_json_free(b);
    ak_store_close(st);
}

static struct ak_json *silence_json(const struct ak_silence *s, int64_t now)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "id", s->id);
    ak_json_set_str(o, "match", s->matchers);
    ak_json_set_time(o, "starts_at", s->starts_at);
    ak_json_set_time(o, "ends_at", s->ends_at);
    ak_json_set_str(o, "reason", s->reason);
    ak_json_set_str(o, "created_by", s->created_by);
    ak_json_set_time(o, "created_at", s->created_at);
    ak_json_set_time(o, "expired_at", s->expired_at);
    bool active = !s->expired_at && s->starts_at <= now && now < s->ends_at;
    ak_json_set_str(o, "state", active ? "active" : s->expired_at || now >= s->ends_at
                                                        ? "expired" : "pending");
    return o;
}

void ak__http_silences_get(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    struct ak_silence *s = NULL;
    size_t n = 0;
    int64_t now = ak_now_wall_ms();
    (void)tail;
    if (!st)
        return;
    if (ak_store_silence_list(st, 0, &s, &n) < 0)
        ak__http_error(rq, 500, "cannot list silences");
    else {
        struct ak_json *a = ak_json_new_arr();
        for (size_t i = 0; i < n; i++)
            ak_json_append(a, silence_json(&s[i], now));
        ak__http_json(rq, 200, a);
    }
    for (size_t i = 0; i < n; i++)
        ak_silence_release(&s[i]);
    free(s);
    ak_store_close(st);
}

/* POST /api/v1/silences {"match": "service=rds", "for": "7d", "reason": ..., "by": ...} */
static void silence_add(struct ak_http_req *rq)
{
    struct ak_json *b = ak__http_body_object(rq);
    struct ak_matchers m = {0};
    struct ak_buf err = AK_BUF_INIT(512);
    struct ak_store *st = NULL;
    char *fmt = NULL;
    int64_t dur = 0, now = ak_now_wall_ms(), id;

    if (!b)
        return;
    const char *match = ak_json_get_str(b, "match"), *forv = ak_json_get_str(b, "for");
    const char *reason = ak_json_get_str(b, "reason"), *by = ak_json_get_str(b, "by");
    if (!match || ak_matchers_parse(match, &m, &err) < 0 || m.n == 0) {
        ak__http_error(rq, 400, "\"match\": %s", err.len ? err.buf : "at least one matcher needed");
        goto out;
    }
    if (!forv || ak_parse_duration_ms(forv, &dur) < 0 || dur <= 0 || dur > SILENCE_MAX_MS) {
        ak__http_error(rq, 400, "\"for\" must be a duration from 1s to 366d (e.g. \"7d\")");
        goto out;
    }
    if (!reason || !*reason || strlen(reason) > 500) {
        ak__http_error(rq, 400, "\"reason\" (1..500 chars) is required");
        goto out;
    }
    if (!(st = ak__http_open_store(rq, AK_STORE_WRITE)))
        goto out;
    fmt = ak_matchers_format(&m);
    struct ak_silence s = {.matchers = fmt, .starts_at = now, .ends_at = now + dur,
                           .reason = (char *)reason, .created_by = (char *)(by ? by : "api"),
                           .created_at = now};
    int r = ak_store_begin(st);
    if (r == AK_OK)
        r = ak_store_silence_add(st, &s, &id);
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0) {
        ak_store_rollback(st);
        ak__http_error(rq, 500, "cannot store the silence: %s", ak_strerror(r));
        goto out;
    }
    s.id = id;
    ak__http_json(rq, 201, silence_json(&s, now));
out:
    free(fmt);
    ak_matchers_release(&m);
    ak_buf_release(&err);
    ak_json_free(b);
    ak_store_close(st);
}

/* POST /api/v1/silences (add) and POST /api/v1/silences/ID/expire */
void ak__http_silences_post(struct ak_http_req *rq, const char *tail)
{
    uint64_t id;
    char idbuf[24];
    if (!tail || !*tail) {
        silence_add(rq);
        return;
    }
    const char *slash = strchr(tail, '/');
    if (!slash || strcmp(slash, "/expire") != 0 || (size_t)(slash - tail) >= sizeof(idbuf)) {
        ak__http_error(rq, 404, "no such endpoint: %s (POST .../ID/expire)", rq->path);
        return;
    }
    memcpy(idbuf, tail, (size_t)(slash - tail));
    idbuf[slash - tail] = 0;
    if (ak_parse_u64(idbuf, 1, INT64_MAX, &id) < 0) {
        ak__http_error(rq, 400, "'%s' is not a silence id", idbuf);
        return;
    }
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_WRITE);
    if (!st)
        return;
    int r = ak_store_begin(st);
    if (r == AK_OK)
        r = ak_store_silence_expire(st, (int64_t)id, ak_now_wall_ms());
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0) {
        ak_store_rollback(st);
        ak__http_error(rq, ak_err_http_status(r), "silence %llu: %s", (unsigned long long)id,
                       ak_strerror(r));
    } else {
        struct ak_json *o = ak_json_new_obj();
        ak_json_set_int(o, "id", (int64_t)id);
        ak_json_set_str(o, "state", "expired");
        ak__http_json(rq, 200, o);
    }
    ak_store_close(st);
}

void ak__http_outbox_get(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    struct ak_outbox *os = NULL;
    size_t n = 0;
    (void)tail;
    if (!st)
        return;
    const char *state = ak__http_arg(rq, "state");
    if (ak_store_outbox_list(st, state, 1000, &os, &n) < 0)
        ak__http_error(rq, 500, "cannot list the outbox");
    else {
        struct ak_json *a = ak_json_new_arr();
        for (size_t i = 0; i < n; i++)
            ak_json_append(a, outbox_json(&os[i]));
        ak__http_json(rq, 200, a);
    }
    for (size_t i = 0; i < n; i++)
        ak_outbox_release(&os[i]);
    free(os);
    ak_store_close(st);
}

/* POST /api/v1/outbox/retry {"id": N} or {} for every dead row */
void ak__http_outbox_retry(struct ak_http_req *rq, const char *tail)
{
    struct ak_json *b = ak__http_body_object(rq);
    struct ak_store *st = NULL;
    int64_t n = 0;
    (void)tail;
    if (!b)
        return;
    struct ak_json *idj = ak_json_get(b, "id");
    if (idj && (!ak_json_is_int(idj) || ak_json_int(idj) < 1)) {
        ak__http_error(rq, 400, "\"id\" must be a positive integer");
        goto out;
    }
    if (!(st = ak__http_open_store(rq, AK_STORE_WRITE)))
        goto out;
    int r = ak_store_begin(st);
    if (r == AK_OK)
        r = ak_store_outbox_retry(st, idj ? ak_json_int(idj) : 0, ak_now_wall_ms(), &n);
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0) {
        ak_store_rollback(st);
        ak__http_error(rq, ak_err_http_status(r), "cannot retry: %s", ak_strerror(r));
        goto out;
    }
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "retried", n);
    ak__http_json(rq, 200, o);
out:
    ak_json_free(b);
    ak_store_close(st);
}

static const char **str_array(const struct ak_json *a, size_t *ret_n)
{
    size_t n = ak_json_len(a);
    const char **v = ak_xcalloc(n + 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ak_json_str(ak_json_at(a, i)))
            v[k++] = ak_json_str(ak_json_at(a, i));
    *ret_n = k;
    return v;
}

/* POST /api/v1/route/test  body: a record JSON, or ?record=ID */
void ak__http_route_test(struct ak_http_req *rq, const char *tail)
{
    struct ak_buf err = AK_BUF_INIT(1024), explain = AK_BUF_INIT(64 * 1024);
    struct ak_route_tree *tree = NULL;
    struct ak_store *st = NULL;
    struct ak_maint_rec rec = {0};
    struct ak_json *b = NULL, *recj = NULL;
    struct ak_route_input in = {0};
    const char **res = NULL, **recv = NULL;
    char *tags = NULL;
    size_t n_res = 0, n_recv = 0;
    struct ak_maint_cfg mc;
    ak_maint_cfg_init(&mc, rq->cfg);
    int64_t now = ak_now_wall_ms();
    (void)tail;

    if (ak_route_build(rq->cfg, &tree, &err) < 0) {
        ak__http_error(rq, 500, "routing tree: %s", err.buf);
        goto out;
    }
    const char *rid = ak__http_arg(rq, "record");
    if (rid) {
        uint64_t id;
        if (ak_parse_u64(rid, 1, INT64_MAX, &id) < 0) {
            ak__http_error(rq, 400, "'%s' is not a record id", rid);
            goto out;
        }
        if (!(st = ak__http_open_store(rq, AK_STORE_READ)))
            goto out;
        int r = ak_store_rec_get(st, (int64_t)id, &rec);
        if (r < 0) {
            ak__http_error(rq, ak_err_http_status(r), "record %llu: %s", (unsigned long long)id,
                           ak_strerror(r));
            goto out;
        }
        recj = ak_maint_rec_json(&mc, &rec, now);
    } else {
        if (!(b = ak__http_body_object(rq)))
            goto out;
        recj = ak_json_ref(b);
    }
    in.service = ak_json_get_str(recj, "service");
    in.kind = ak_json_get_str(recj, "kind");
    in.status = ak_json_get_str(recj, "status");
    in.account = ak_json_get_str(recj, "account");
    in.region = ak_json_get_str(recj, "region");
    in.source = ak_json_get_str(recj, "source");
    in.event_code = ak_json_get_str(recj, "event_code");
    in.important = ak_json_bool(ak_json_get(recj, "important"));
    res = str_array(ak_json_get(recj, "resources"), &n_res);
    in.resources = res;
    in.n_resources = n_res;
    if (ak_json_is_obj(ak_json_get(recj, "tags"))) {
        tags = ak_json_dump(ak_json_get(recj, "tags"), AK_JSON_COMPACT);
        in.tags_json = tags;
    }
    ak_route_match(tree, &in, &recv, &n_recv, &explain);
    struct ak_json *o = ak_json_new_obj(), *ra = ak_json_new_arr(), *ea = ak_json_new_arr();
    for (size_t i = 0; i < n_recv; i++)
        ak_json_append(ra, ak_json_new_str(recv[i]));
    for (char *line = explain.buf; *line;) {
        size_t l = strcspn(line, "\n");
        ak_json_append(ea, ak_json_new_strn(line, l));
        line += l + (line[l] == '\n');
    }
    ak_json_set(o, "receivers", ra);
    ak_json_set(o, "explain", ea);
    ak_json_set_bool(o, "important", in.important);
    ak__http_json(rq, 200, o);
out:
    free(recv);
    free(res);
    free(tags);
    ak_json_free(recj);
    ak_json_free(b);
    ak_maint_rec_release(&rec);
    ak_route_free(tree);
    ak_store_close(st);
    ak_buf_release(&err);
    ak_buf_release(&explain);
}
