/* maint_json.c — importance at a moment, and the record as the API shows it. */
#include "asakai/ak_maint.h"
#include "asakai/ak_route.h"

#include <stdio.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "maint_int.h"
#include "src/core/ak_banned.h"

void ak_maint_cfg_init(struct ak_maint_cfg *mc, const struct ak_cfg *cfg)
{
    mc->recurrence_window_ms = cfg->recurrence_window_ms;
    mc->important_within_ms = cfg->important_within_ms;
    mc->important_rules = &cfg->important_rules;
}

void ak_maint_route_input(const struct ak_maint_rec *r, bool important,
                          struct ak_route_input *in)
{
    memset(in, 0, sizeof(*in));
    in->service = r->service;
    in->kind = r->kind;
    in->status = r->status;
    in->account = r->account;
    in->region = r->region;
    in->source = r->source;
    in->event_code = r->event_code;
    in->important = important;
    in->resources = (const char *const *)r->resources;
    in->n_resources = r->n_resources;
    in->tags_json = r->tags;
}

/* The first explicit rule the record matches (1-based), or 0. */
static size_t matching_rule(const struct ak_cfg_strlist *rules, const struct ak_maint_rec *r)
{
    struct ak_route_input in;
    ak_maint_route_input(r, r->important, &in);
    for (size_t i = 0; rules && i < rules->n; i++) {
        struct ak_matchers m = {0};
        bool hit = ak_matchers_parse(rules->v[i], &m, NULL) == AK_OK && m.n > 0 &&
                   ak_route_matchers_match(&m, &in);
        ak_matchers_release(&m);
        if (hit)
            return i + 1;
    }
    return 0;
}

bool ak_maint_is_important(const struct ak_maint_cfg *cfg, const struct ak_maint_rec *r,
                           int64_t now_ms, struct ak_buf *reason)
{
    size_t rule = cfg ? matching_rule(cfg->important_rules, r) : 0;
    struct ak_maint_cfg c = ak_maint_cfg_or_default(cfg);
    /* When AWS acts: the deadline, else the start of the window. */
    int64_t when = r->deadline ? r->deadline : r->window_start;
    bool soon = !ak_maint_status_closed(r->status) && when &&
                when - now_ms <= c.important_within_ms;

    if (reason && r->important && r->important_why && *r->important_why)
        ak_buf_add(reason, r->important_why);
    if (reason && soon) {
        char rel[64];
        ak_time_fmt_relative(when, now_ms, rel, sizeof(rel));
        ak_buf_addf(reason, "%sdeadline %s", reason->len ? ", " : "", rel);
    }
    if (reason && rule)
        ak_buf_addf(reason, "%srule %s", reason->len ? ", " : "",
                    cfg->important_rules->v[rule - 1]);
    return r->important || soon || rule;
}

static struct ak_json *str_array(char **v, size_t n)
{
    struct ak_json *a = ak_json_new_arr();

    for (size_t i = 0; i < n; i++)
        ak_json_append(a, ak_json_new_str(v[i]));
    return a;
}

/* "a,b,c" -> ["a","b","c"] */
static struct ak_json *csv_array(const char *csv)
{
    struct ak_json *a = ak_json_new_arr();

    for (const char *p = csv; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len)
            ak_json_append(a, ak_json_new_strn(p, len));
        p = end ? end + 1 : NULL;
    }
    return a;
}

static void set_strings(struct ak_json *j, const struct ak_maint_rec *r)
{
    ak_json_set_str(j, "key", r->key);
    ak_json_set_str(j, "source", r->source);
    ak_json_set(j, "sources", csv_array(r->sources));
    ak_json_set_str(j, "service", r->service);
    ak_json_set_str(j, "kind", r->kind);
    ak_json_set_str(j, "status", r->status);
    ak_json_set_str(j, "event_code", r->event_code);
    ak_json_set(j, "resources", str_array(r->resources, r->n_resources));
    ak_json_set_str(j, "account", r->account);
    ak_json_set_str(j, "region", r->region);
}

/* tags as an object (null when none, or when the stored text is not an object) and who
 * acknowledged the record. */
static void set_ack(struct ak_json *j, const struct ak_maint_rec *r)
{
    struct ak_json *tags = r->tags ? ak_json_parse(r->tags, strlen(r->tags), NULL) : NULL;

    if (!ak_json_is_obj(tags)) {
        ak_json_free(tags);
        tags = ak_json_new_null();
    }
    ak_json_set(j, "tags", tags);
    ak_json_set_str(j, "acked_by", r->acked_by);
    ak_json_set_str(j, "ack_note", r->ack_note);
    ak_json_set_time(j, "acked_at", r->acked_at);
}

struct ak_json *ak_maint_rec_json(const struct ak_maint_cfg *cfg, const struct ak_maint_rec *r,
                                  int64_t now_ms)
{
    struct ak_buf why = AK_BUF_INIT(1024);
    struct ak_json *j;
    bool important;

    if (!r)
        return NULL;
    j = ak_json_new_obj();
    ak_json_set_int(j, "id", r->id);
    set_strings(j, r);
    ak_json_set_time(j, "window_start", r->window_start);
    ak_json_set_time(j, "window_end", r->window_end);
    ak_json_set_time(j, "deadline", r->deadline);
    ak_json_set_str(j, "title", r->title);
    ak_json_set_str(j, "description", r->description);
    ak_json_set_time(j, "first_seen", r->first_seen);
    ak_json_set_time(j, "last_seen", r->last_seen);
    ak_json_set_time(j, "closed_at", r->closed_at);
    if (r->recurrence_of)
        ak_json_set_int(j, "recurrence_of", r->recurrence_of);
    else
        ak_json_set(j, "recurrence_of", ak_json_new_null());
    set_ack(j, r);
    ak_json_set_bool(j, "required", r->required);
    important = ak_maint_is_important(cfg, r, now_ms, &why);
    ak_json_set_bool(j, "important", important);
    ak_json_set_str(j, "important_why", why.len ? why.buf : NULL);
    ak_buf_release(&why);
    return j;
}
