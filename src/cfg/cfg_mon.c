/* cfg_mon.c — the daily monitoring part of the configuration (issue 6): `monitoring.signals`
 * (service types and their standard signals, merged over the built-in ones), `monitoring.sources`
 * and `services` (lists of records, loaded after the option walk like aws.accounts), and the
 * implicit host service. The scalar monitoring.* and review.* keys are rows of the option table
 * (cfg_schema.c).
 *
 * Service, type, signal, label and metric names are not secrets and may be quoted in messages;
 * URLs, label values, queries and tokens are never quoted (a URL or a query may hold a secret). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define SERVICES_MAX 1000
#define TARGETS_MAX 100
#define LABELS_MAX 64
#define LIMITS_MAX 256
#define TYPES_MAX 64
#define SIGNALS_MAX 32
#define GLOBS_MAX 32
#define SOURCES_MAX 100
#define QUERIES_MAX 100
#define NAME_MAX_LEN 63
#define METRIC_MAX_LEN 200
#define LABEL_VALUE_MAX_LEN 1024
#define QUERY_MAX_LEN (8 * 1024)
#define PROCESS_MAX_LEN 15         /* TASK_COMM_LEN - 1: what /proc/PID/comm holds */
#define WHY_MAX 320
#define SEC 1000LL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"

/* ---- the built-in service types (docs/config.md, "Monitoring") ---- */

struct builtin_signal {
    const char *name;
    bool required;
    const char *metrics[5];        /* NULL-terminated */
};

struct builtin_type {
    const char *name;
    struct builtin_signal signals[8]; /* ends at a NULL name */
};

static const struct builtin_type builtin_types[] = {
    {"host",
     {{"up", true, {"up"}},
      {"memory", true, {"node_memory_MemAvailable_bytes"}},
      {"cpu", true, {"node_cpu_seconds_total"}},
      {"disk", true, {"node_filesystem_avail_bytes"}},
      {"fds", false, {"node_filefd_allocated"}},
      {"network", false, {"node_network_receive_bytes_total"}},
      {"pressure", false, {"node_pressure_memory_waiting_seconds_total"}}}},
    {"http",
     {{"up", true, {"up"}},
      {"latency", true,
       {"http_request_duration_seconds*", "http_server_requests_seconds*",
        "*_request_duration_seconds*", "*_latency_seconds*"}},
      {"errors", true,
       {"http_requests_total", "http_server_requests_seconds_count", "*_errors_total",
        "*_requests_total"}},
      {"memory", true, {"process_resident_memory_bytes"}},
      {"cpu", false, {"process_cpu_seconds_total"}},
      {"saturation", false, {"*_in_flight*", "*_inflight*", "*_connections*", "*_queue_*"}}}},
    {"postgres",
     {{"up", true, {"up", "pg_up"}},
      {"connections", true, {"pg_stat_activity_count", "pg_stat_database_numbackends"}},
      {"disk", true, {"pg_database_size_bytes"}},
      {"errors", false, {"pg_stat_database_xact_rollback*", "pg_stat_database_deadlocks*"}},
      {"latency", false,
       {"pg_stat_statements_mean_exec_time_seconds*", "pg_stat_activity_max_tx_duration*"}},
      {"memory", false, {"process_resident_memory_bytes"}}}},
    {"redis",
     {{"up", true, {"up", "redis_up"}},
      {"memory", true, {"redis_memory_used_bytes"}},
      {"connections", true, {"redis_connected_clients"}},
      {"errors", false, {"redis_rejected_connections_total", "redis_errors_total*"}},
      {"latency", false,
       {"redis_commands_duration_seconds_total*", "redis_latency_percentiles_usec*"}},
      {"evictions", false, {"redis_evicted_keys_total"}}}},
    {"worker",
     {{"up", true, {"up"}},
      {"memory", true, {"process_resident_memory_bytes"}},
      {"cpu", false, {"process_cpu_seconds_total"}},
      {"errors", true, {"*_errors_total", "*_failures_total", "*_failed_total"}},
      {"saturation", false, {"*_queue_*", "*_backlog*", "*_pending*"}}}},
    {"process",
     {{"memory", true, {"asakai_process_resident_memory_bytes"}},
      {"cpu", true, {"asakai_process_cpu_seconds_total"}},
      {"up", false, {"asakai_process_count"}}}},
};

/* ---- value checks (reasons never quote the value) ---- */

static bool fail(char *why, size_t n, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return false;
}

static bool all_in(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

bool ak__cfg_check_service_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > NAME_MAX_LEN || !strchr(LOWER DIGITS, v[0]) ||
        !all_in(v, LOWER DIGITS "_.-"))
        return fail(why, n, "a service name is 1 to 63 of a-z, 0-9, '_', '.' and '-', starting "
                            "with a letter or digit");
    return true;
}

bool ak__cfg_check_process(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > PROCESS_MAX_LEN)
        return fail(why, n, "a process name is 1 to 15 bytes, as /proc/PID/comm holds it");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < ' ' || *p == 0x7f)
            return fail(why, n, "a process name must not contain control characters");
    return true;
}

static bool check_source_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > NAME_MAX_LEN || !strchr(LOWER DIGITS, v[0]) ||
        !all_in(v, LOWER DIGITS "_.-"))
        return fail(why, n, "a source name is 1 to 63 of a-z, 0-9, '_', '.' and '-', starting "
                            "with a letter or digit");
    return true;
}

static bool check_type_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > NAME_MAX_LEN || !strchr(LOWER, v[0]) || !all_in(v, LOWER DIGITS "_-"))
        return fail(why, n, "a service type is 1 to 63 of a-z, 0-9, '_' and '-', starting with a "
                            "letter");
    return true;
}

static bool check_signal_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > NAME_MAX_LEN || !strchr(LOWER, v[0]) || !all_in(v, LOWER DIGITS "_"))
        return fail(why, n, "a signal name is 1 to 63 of a-z, 0-9 and '_', starting with a "
                            "letter");
    return true;
}

/* A metric-name glob: the metric name characters plus '*' and '?'. */
static bool check_glob(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > METRIC_MAX_LEN || !all_in(v, LOWER UPPER DIGITS "_:*?"))
        return fail(why, n, "a metric glob is 1 to 200 of letters, digits, '_', ':', '*' and '?'");
    return true;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (the Prometheus metric name). */
static bool check_metric_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > METRIC_MAX_LEN || strchr(DIGITS, v[0]) ||
        !all_in(v, LOWER UPPER DIGITS "_:"))
        return fail(why, n, "must be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, at most 200)");
    return true;
}

/* [a-zA-Z_][a-zA-Z0-9_]*, not reserved ("__"), not one asakai sets itself. */
static bool check_label_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > METRIC_MAX_LEN || strchr(DIGITS, v[0]) ||
        !all_in(v, LOWER UPPER DIGITS "_"))
        return fail(why, n, "must be a label name ([a-zA-Z_][a-zA-Z0-9_]*, at most 200)");
    if (ak_startswith(v, "__"))
        return fail(why, n, "label names starting with \"__\" are reserved");
    /* A series belongs to the service its "service" (else "job") label names: asakai sets both
     * from the service's name, so a label here would move the series to another service. */
    if (strcmp(v, "service") == 0 || strcmp(v, "job") == 0)
        return fail(why, n, "is set by asakai from the service's name");
    return true;
}

static bool check_label_value(const char *v, char *why, size_t n)
{
    if (!*v)
        return fail(why, n, "a label value must not be empty (an empty label is no label)");
    if (strlen(v) > LABEL_VALUE_MAX_LEN)
        return fail(why, n, "a label value is at most 1024 bytes");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < ' ' || *p == 0x7f)
            return fail(why, n, "a label value must not contain control characters");
    return true;
}

static bool check_target_url(const char *v, char *why, size_t n)
{
    if (!ak__cfg_check_http_url(v, why, n))
        return false;
    if (strchr(v, '#'))
        return fail(why, n, "a target URL must not have a #fragment");
    return true;
}

/* The base of /api/v1/query_range: the API adds its own query string. */
static bool check_source_url(const char *v, char *why, size_t n)
{
    if (!ak__cfg_check_http_url(v, why, n))
        return false;
    if (strpbrk(v, "?#"))
        return fail(why, n, "a source URL is http(s)://host[:port][/prefix], without ?query or "
                            "#fragment");
    return true;
}

static bool check_query(const char *v, char *why, size_t n)
{
    if (!*v)
        return fail(why, n, "a query must not be empty");
    if (strlen(v) > QUERY_MAX_LEN)
        return fail(why, n, "a query is at most 8192 bytes");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p < ' ' && *p != '\n' && *p != '\t') || *p == 0x7f)
            return fail(why, n, "a query must not contain control characters");
    return true;
}

/* ---- small helpers ---- */

/* map[name] as a duration in [min,max] into *dst; left alone when absent. */
static void get_duration(struct ak__cfg_loader *ld, const struct ak_cfg_node *map,
                         const char *key, const char *name, int64_t min, int64_t max,
                         int64_t *dst)
{
    const struct ak_cfg_option o = {.key = name, .type = AK_CFG_DURATION, .min = (uint64_t)min,
                                    .max = (uint64_t)max};
    const struct ak_cfg_node *v = ak__cfg_map_get(map, name);
    char why[WHY_MAX];
    char *full;

    if (!v)
        return;
    full = ak_xasprintf("%s.%s", key, name);
    if (v->kind != AK_CFG_NODE_SCALAR || memchr(v->value, 0, v->len))
        ak__cfg_report(ld, v->line, v->col, full, "expected a duration, got %s",
                       ak__cfg_kind_name(v));
    else if (!ak__cfg_duration(&o, v->value, dst, why, sizeof(why)))
        ak__cfg_report(ld, v->line, v->col, full, "%s", why);
    free(full);
}

/* A key of a free-form mapping (labels, limits, signals): a non-empty name through check, not
 * seen before in map. NULL after reporting; else the full key "KEY.NAME" (malloc'ed). */
static char *free_key(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, size_t i,
                      const char *key, bool (*check)(const char *, char *, size_t))
{
    const struct ak_cfg_node *k = map->kids[i];
    char why[WHY_MAX];
    char *full;

    if (k->kind != AK_CFG_NODE_SCALAR || !k->len || memchr(k->value, 0, k->len)) {
        ak__cfg_report(ld, k->line, k->col, key, "keys must be non-empty names");
        return NULL;
    }
    full = ak_xasprintf("%s.%s", key, k->value);
    if (!check(k->value, why, sizeof(why))) {
        ak__cfg_report(ld, k->line, k->col, full, "%s", why);
        goto bad;
    }
    for (size_t j = 0; j < i; j += 2) {
        const struct ak_cfg_node *o = map->kids[j];

        if (o->kind == AK_CFG_NODE_SCALAR && o->len == k->len &&
            memcmp(o->value, k->value, k->len) == 0) {
            ak__cfg_report(ld, k->line, k->col, full,
                           "duplicate key (first set at line %zu column %zu)", o->line, o->col);
            goto bad;
        }
    }
    return full;
bad:
    free(full);
    return NULL;
}

/* false (after reporting) unless v is a mapping of at most max pairs; a null v is empty. */
static bool free_map_ok(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                        const char *what, size_t max)
{
    if (v->kind != AK_CFG_NODE_MAP) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a mapping of %s, got %s", what,
                       ak__cfg_kind_name(v));
        return false;
    }
    if (v->n / 2 > max) {
        ak__cfg_report(ld, v->line, v->col, key, "more than %zu entries", max);
        return false;
    }
    return true;
}

/* The list at v (not NULL) through check, at least one item; a repeated item is reported. */
static void get_nonempty_list(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                              const char *key, const char *what,
                              bool (*check)(const char *, char *, size_t), size_t max,
                              struct ak_cfg_strlist *dst)
{
    if (v->kind == AK_CFG_NODE_SEQ && v->n == 0) {
        ak__cfg_report(ld, v->line, v->col, key, "needs at least one %s", what);
        return;
    }
    ak__cfg_get_list(ld, v, key, check, true, max, dst);
    /* Items that failed are left out: only a complete list has indexes matching the file. */
    if (v->kind != AK_CFG_NODE_SEQ || dst->n != v->n)
        return;
    for (size_t i = 1; i < dst->n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(dst->v[i], dst->v[j]) == 0) {
                char *ikey = ak_xasprintf("%s[%zu]", key, i);

                ak__cfg_report(ld, v->kids[i]->line, v->kids[i]->col, ikey,
                               "the same %s as item %zu", what, j);
                free(ikey);
                break;
            }
        }
    }
}

static void strlist_from(struct ak_cfg_strlist *l, const char *const *v)
{
    size_t n = 0;

    while (v[n])
        n++;
    l->v = ak_xcalloc(n ? n : 1, sizeof(*l->v));
    for (l->n = 0; l->n < n; l->n++)
        l->v[l->n] = ak_xstrdup(v[l->n]);
}

/* ---- service types: monitoring.signals ---- */

static void signals_release(struct ak_cfg_signal *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].name);
        ak_cfg_strlist_release(&s[i].metrics);
    }
    free(s);
}

static void builtin_to_type(const struct builtin_type *b, struct ak_cfg_service_type *t)
{
    size_t n = 0;

    while (n < AK_ARRAY_SIZE(b->signals) && b->signals[n].name)
        n++;
    t->name = ak_xstrdup(b->name);
    t->signals = ak_xcalloc(n, sizeof(*t->signals));
    for (t->n_signals = 0; t->n_signals < n; t->n_signals++) {
        const struct builtin_signal *bs = &b->signals[t->n_signals];
        struct ak_cfg_signal *s = &t->signals[t->n_signals];

        s->name = ak_xstrdup(bs->name);
        s->required = bs->required;
        strlist_from(&s->metrics, bs->metrics);
    }
    t->line = 0;
}

static const char *const signal_keys[] = {"name", "metrics", "required"};

/* Item idx of the signal list seq of type t. */
static void load_signal(struct ak__cfg_loader *ld, const struct ak_cfg_node *seq, size_t idx,
                        const char *key, const struct ak_cfg_service_type *t,
                        struct ak_cfg_signal *s)
{
    const struct ak_cfg_node *m = seq->kids[idx], *v;
    int req;

    if (!ak__cfg_check_map(ld, m, key, signal_keys, AK_ARRAY_SIZE(signal_keys)))
        return;
    ak__cfg_get_str(ld, m, key, "name", check_signal_name, true, &s->name);
    for (size_t j = 0; s->name && j < idx; j++) {
        if (ak_streq(t->signals[j].name, s->name)) {
            v = ak__cfg_map_get(m, "name");
            ak__cfg_report(ld, v->line, v->col, key,
                           "duplicate signal \"%s\" (first defined at line %zu)", s->name,
                           seq->kids[j]->line);
            break;
        }
    }
    v = ak__cfg_map_get(m, "metrics");
    if (!v) {
        ak__cfg_report(ld, m->line, m->col, key, "needs metrics (a list of metric-name globs)");
    } else {
        char *mkey = ak_xasprintf("%s.metrics", key);

        get_nonempty_list(ld, v, mkey, "metric glob", check_glob, GLOBS_MAX, &s->metrics);
        free(mkey);
    }
    req = ak__cfg_get_bool(ld, m, key, "required");
    s->required = req == 1;
}

/* The signal list v of type t (t->name set). */
static void load_type_signals(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                              const char *key, struct ak_cfg_service_type *t)
{
    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key,
                       "expected a list of {name, metrics, required}, got %s",
                       ak_cfg_node_is_null(v) ? "nothing" : ak__cfg_kind_name(v));
        return;
    }
    if (v->n > SIGNALS_MAX) {
        ak__cfg_report(ld, v->line, v->col, key, "more than %d signals", SIGNALS_MAX);
        return;
    }
    t->signals = ak_xcalloc(v->n ? v->n : 1, sizeof(*t->signals));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        char *ikey = ak_xasprintf("%s[%zu]", key, i);

        load_signal(ld, v, i, ikey, t, &t->signals[i]);
        t->n_signals = i + 1;
        free(ikey);
    }
}

static struct ak_cfg_service_type *type_find(struct ak_cfg *c, const char *name)
{
    for (size_t i = 0; i < c->n_service_types; i++)
        if (strcmp(c->service_types[i].name, name) == 0)
            return &c->service_types[i];
    return NULL;
}

/* A type written in the file replaces the built-in one of its name, or is added. */
static void load_signals(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (!free_map_ok(ld, v, "monitoring.signals", "service types to signal lists", TYPES_MAX))
        return;
    for (size_t i = 0; i + 1 < v->n && !ak__cfg_too_many(ld); i += 2) {
        struct ak_cfg_service_type t = {0}, *dst;
        char *key = free_key(ld, v, i, "monitoring.signals", check_type_name);

        if (!key)
            continue;
        t.name = ak_xstrdup(v->kids[i]->value);
        t.line = (int)v->kids[i]->line;
        load_type_signals(ld, v->kids[i + 1], key, &t);
        free(key);
        /* Kept even when its signals had errors, so that services of this type do not add
         * "no service type" errors to the real one. */
        dst = type_find(c, t.name);
        if (dst) {
            free(dst->name);
            signals_release(dst->signals, dst->n_signals);
        } else {
            c->service_types = ak_xrealloc(c->service_types,
                                           (c->n_service_types + 1) * sizeof(*c->service_types));
            dst = &c->service_types[c->n_service_types++];
        }
        *dst = t;
    }
}

/* ---- monitoring.sources ---- */

static const char *const source_keys[] = {"name",     "url",      "queries",      "step",
                                          "lookback", "interval", "bearer_token", "ca_file"};

static void load_source(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, size_t idx,
                        struct ak_cfg_mon_source *s)
{
    const struct ak_cfg *c = ld->c;
    const struct ak_cfg_node *v;
    char *key = ak_xasprintf("monitoring.sources[%zu]", idx);

    s->line = (int)m->line;
    s->step_ms = 60 * SEC;
    s->lookback_ms = 14 * DAY;
    s->interval_ms = HOUR;
    if (!ak__cfg_check_map(ld, m, key, source_keys, AK_ARRAY_SIZE(source_keys)))
        goto out;
    ak__cfg_get_str(ld, m, key, "name", check_source_name, true, &s->name);
    for (size_t j = 0; s->name && j < idx; j++) {
        if (ak_streq(c->mon_sources[j].name, s->name)) {
            v = ak__cfg_map_get(m, "name");
            ak__cfg_report(ld, v->line, v->col, key,
                           "duplicate source \"%s\" (first defined at line %d)", s->name,
                           c->mon_sources[j].line);
            break;
        }
    }
    ak__cfg_get_str(ld, m, key, "url", check_source_url, true, &s->url);
    v = ak__cfg_map_get(m, "queries");
    if (!v) {
        ak__cfg_report(ld, m->line, m->col, key, "needs queries (a list of PromQL expressions)");
    } else {
        char *qkey = ak_xasprintf("%s.queries", key);

        get_nonempty_list(ld, v, qkey, "query", check_query, QUERIES_MAX, &s->queries);
        free(qkey);
    }
    get_duration(ld, m, key, "step", 1 * SEC, HOUR, &s->step_ms);
    get_duration(ld, m, key, "lookback", HOUR, 400 * DAY, &s->lookback_ms);
    get_duration(ld, m, key, "interval", 60 * SEC, DAY, &s->interval_ms);
    ak__cfg_get_str(ld, m, key, "bearer_token", ak__cfg_check_secret, false, &s->bearer_token);
    ak__cfg_get_str(ld, m, key, "ca_file", ak__cfg_check_path, false, &s->ca_file);
out:
    free(key);
}

static void load_sources(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, "monitoring.sources",
                       "expected a list of {name, url, queries, ...}, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > SOURCES_MAX) {
        ak__cfg_report(ld, v->line, v->col, "monitoring.sources", "more than %d sources",
                       SOURCES_MAX);
        return;
    }
    c->mon_sources = ak_xcalloc(v->n ? v->n : 1, sizeof(*c->mon_sources));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_source(ld, v->kids[i], i, &c->mon_sources[i]);
        c->n_mon_sources = i + 1;
    }
}

/* ---- services ---- */

static const char *const service_keys[] = {"name",   "type",   "targets",
                                           "labels", "limits", "scrape_interval"};

static void load_labels(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                        struct ak_cfg_service *s)
{
    if (!free_map_ok(ld, v, key, "label names to values", LABELS_MAX))
        return;
    s->labels = ak_xcalloc(v->n / 2 ? v->n / 2 : 1, sizeof(*s->labels));
    for (size_t i = 0; i + 1 < v->n && !ak__cfg_too_many(ld); i += 2) {
        char *full = free_key(ld, v, i, key, check_label_name);
        const struct ak_cfg_node *val = v->kids[i + 1];
        char *s_val;

        if (!full)
            continue;
        if (ak_cfg_node_is_null(val)) {
            ak__cfg_report(ld, val->line, val->col, full, "needs a value");
            s_val = NULL;
        } else {
            s_val = ak__cfg_node_str(ld, val, full, check_label_value, true);
        }
        if (s_val) {
            s->labels[s->n_labels].name = ak_xstrdup(v->kids[i]->value);
            s->labels[s->n_labels++].value = s_val;
        }
        free(full);
    }
}

/* A limit: a plain number, or a size with a unit for byte metrics (4GiB). */
static bool parse_limit(const char *v, double *ret)
{
    uint64_t x;

    if (ak__cfg_parse_number(v, ret))
        return true;
    if (ak_parse_size(v, &x) != AK_OK)
        return false;
    *ret = (double)x;
    return true;
}

static void load_limits(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                        struct ak_cfg_service *s)
{
    if (!free_map_ok(ld, v, key, "metric names to numbers", LIMITS_MAX))
        return;
    s->limits = ak_xcalloc(v->n / 2 ? v->n / 2 : 1, sizeof(*s->limits));
    for (size_t i = 0; i + 1 < v->n && !ak__cfg_too_many(ld); i += 2) {
        char *full = free_key(ld, v, i, key, check_metric_name);
        const struct ak_cfg_node *val = v->kids[i + 1];
        double d;

        if (!full)
            continue;
        if (val->kind != AK_CFG_NODE_SCALAR || ak_cfg_node_is_null(val) ||
            memchr(val->value, 0, val->len) || !parse_limit(val->value, &d))
            ak__cfg_report(ld, val->line, val->col, full,
                           "must be a number (examples: 500, 0.9, 1.5e9, 4GiB)");
        else {
            s->limits[s->n_limits].metric = ak_xstrdup(v->kids[i]->value);
            s->limits[s->n_limits++].value = d;
        }
        free(full);
    }
}

/* "(defined: host, http, ...)" for a type that is not one. */
static void unknown_type(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                         const char *type)
{
    struct ak_buf names = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_cfg *c = ld->c;
    char *tkey = ak_xasprintf("%s.type", key);

    for (size_t i = 0; i < c->n_service_types; i++)
        ak_buf_addf(&names, "%s%s", i ? ", " : "", c->service_types[i].name);
    ak__cfg_report(ld, v->line, v->col, tkey, "no service type named \"%s\" (defined: %s)", type,
                   names.buf);
    free(tkey);
    ak_buf_release(&names);
}

static void service_name(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                         size_t idx, struct ak_cfg_service *s)
{
    const struct ak_cfg *c = ld->c;

    ak__cfg_get_str(ld, m, key, "name", ak__cfg_check_service_name, true, &s->name);
    for (size_t j = 0; s->name && j < idx; j++) {
        if (ak_streq(c->services[j].name, s->name)) {
            const struct ak_cfg_node *v = ak__cfg_map_get(m, "name");

            ak__cfg_report(ld, v->line, v->col, key,
                           "duplicate service \"%s\" (first defined at line %d)", s->name,
                           c->services[j].line);
            break;
        }
    }
}

static void service_type(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                         struct ak_cfg_service *s)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(m, "type");
    char *tkey;

    if (!v) {
        s->type = ak_xstrdup("http");
        return;
    }
    tkey = ak_xasprintf("%s.type", key);
    s->type = ak__cfg_node_str(ld, v, tkey, NULL, true);
    free(tkey);
    if (s->type && !ak_cfg_service_type_find(ld->c, s->type)) {
        unknown_type(ld, v, key, s->type);
        ak_freep(&s->type);
    }
}

static void service_parts(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                          struct ak_cfg_service *s)
{
    const struct ak_cfg_node *v;
    char *sub;

    v = ak__cfg_map_get(m, "targets");
    if (v) {
        sub = ak_xasprintf("%s.targets", key);
        if (v->kind == AK_CFG_NODE_SEQ && v->n == 0)
            ak__cfg_get_list(ld, v, sub, check_target_url, true, TARGETS_MAX, &s->targets);
        else
            get_nonempty_list(ld, v, sub, "target", check_target_url, TARGETS_MAX, &s->targets);
        free(sub);
    }
    v = ak__cfg_map_get(m, "labels");
    if (v) {
        sub = ak_xasprintf("%s.labels", key);
        load_labels(ld, v, sub, s);
        free(sub);
    }
    v = ak__cfg_map_get(m, "limits");
    if (v) {
        sub = ak_xasprintf("%s.limits", key);
        load_limits(ld, v, sub, s);
        free(sub);
    }
}

static void load_service(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, size_t idx,
                         struct ak_cfg_service *s)
{
    const struct ak_cfg *c = ld->c;
    const struct ak_cfg_node *v;
    char *key = ak_xasprintf("services[%zu]", idx);

    s->line = (int)m->line;
    s->scrape_interval_ms = c->mon_interval_ms;
    if (!ak__cfg_check_map(ld, m, key, service_keys, AK_ARRAY_SIZE(service_keys)))
        goto out;
    service_name(ld, m, key, idx, s);
    service_type(ld, m, key, s);
    service_parts(ld, m, key, s);
    get_duration(ld, m, key, "scrape_interval", 1 * SEC, HOUR, &s->scrape_interval_ms);
    v = ak__cfg_map_get(m, "scrape_interval");
    /* like Prometheus: an unwritten timeout follows a shorter interval (the collector uses
     * min(timeout, interval)); a written one longer than the interval is a mistake */
    if (v && ld->mon_timeout && s->scrape_interval_ms < c->mon_timeout_ms) {
        char *ikey = ak_xasprintf("%s.scrape_interval", key);

        ak__cfg_report(ld, v->line, v->col, ikey,
                       "must not be shorter than monitoring.scrape_timeout");
        free(ikey);
    }
out:
    free(key);
}

static void load_services(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, "services",
                       "expected a list of {name, type, targets, ...}, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > SERVICES_MAX) {
        ak__cfg_report(ld, v->line, v->col, "services", "more than %d services", SERVICES_MAX);
        return;
    }
    c->services = ak_xcalloc(v->n + 1, sizeof(*c->services)); /* + the implicit host service */
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_service(ld, v->kids[i], i, &c->services[i]);
        c->n_services = i + 1;
    }
}

static void services_release(struct ak_cfg *c)
{
    for (size_t i = 0; i < c->n_services; i++) {
        struct ak_cfg_service *s = &c->services[i];

        free(s->name);
        free(s->type);
        ak_cfg_strlist_release(&s->targets);
        for (size_t j = 0; j < s->n_labels; j++) {
            free(s->labels[j].name);
            free(s->labels[j].value);
        }
        free(s->labels);
        for (size_t j = 0; j < s->n_limits; j++)
            free(s->limits[j].metric);
        free(s->limits);
    }
    free(c->services);
    c->services = NULL;
    c->n_services = 0;
}

/* The host collector's series belong to mon_host_service: declared here when the file does not
 * declare it, so that consumers see one list of services. */
static void add_host_service(struct ak_cfg *c)
{
    struct ak_cfg_service *s;

    if (!c->mon_host_collector || !c->mon_host_service ||
        ak_cfg_service_find(c, c->mon_host_service))
        return;
    c->services = ak_xrealloc(c->services, (c->n_services + 1) * sizeof(*c->services));
    s = &c->services[c->n_services++];
    memset(s, 0, sizeof(*s));
    s->name = ak_xstrdup(c->mon_host_service);
    s->type = ak_xstrdup("host");
    s->scrape_interval_ms = c->mon_interval_ms;
}

/* ---- `config defaults` ---- */

static void dump_signal(struct ak_buf *out, const struct builtin_signal *s)
{
    ak_buf_addf(out, "      - {name: %s, required: %s, metrics: [", s->name,
                s->required ? "true" : "false");
    /* Quoted: a plain scalar starting with '*' would be a YAML alias. */
    for (size_t i = 0; i < AK_ARRAY_SIZE(s->metrics) && s->metrics[i]; i++)
        ak_buf_addf(out, "%s'%s'", i ? ", " : "", s->metrics[i]);
    ak_buf_add(out, "]}\n");
}

void ak__cfg_dump_mon(struct ak_buf *out)
{
    ak_buf_add(out,
               "  # Standard signals per service type, for `asakai coverage` and the dashboard:\n"
               "  # a series whose metric matches a glob makes the signal present; a missing\n"
               "  # required signal makes coverage fail. A type written in the file replaces\n"
               "  # the built-in one of that name; a new name adds a type.\n"
               "  signals:\n");
    for (size_t i = 0; i < AK_ARRAY_SIZE(builtin_types); i++) {
        const struct builtin_type *t = &builtin_types[i];

        ak_buf_addf(out, "    %s:\n", t->name);
        for (size_t j = 0; j < AK_ARRAY_SIZE(t->signals) && t->signals[j].name; j++)
            dump_signal(out, &t->signals[j]);
    }
    ak_buf_add(out,
               "  # Prometheus-compatible query APIs read with /api/v1/query_range (none by\n"
               "  # default). step 60s (1s .. 1h), lookback 14d (1h .. 400d), interval 1h\n"
               "  # (1m .. 24h); bearer_token and ca_file are optional. An example:\n"
               "  # sources:\n"
               "  #   - name: prom\n"
               "  #     url: 'http://127.0.0.1:9090'\n"
               "  #     queries: ['up{job=\"api\"}', 'process_resident_memory_bytes']\n"
               "  #     lookback: 7d\n");
}

/* Follows the teams example (every line "# ", so that uncommented they load together). */
const char ak__cfg_dump_services_example[] =
    "# # What the team runs and where its metrics are (only the implicit host service by\n"
    "# # default). type: a service type of monitoring.signals (default http).\n"
    "# services:\n"
    "#   - name: api\n"
    "#     type: http\n"
    "#     targets: ['http://127.0.0.1:8080/metrics']\n"
    "#     labels: {env: prod}\n"
    "#   - name: db\n"
    "#     type: postgres\n"
    "#     targets: ['http://127.0.0.1:9187/metrics']\n"
    "#     limits: {pg_stat_activity_count: 500}\n"
    "#     scrape_interval: 30s\n";

/* ---- entry points ---- */

void ak__cfg_mon_defaults(struct ak_cfg *c)
{
    c->service_types = ak_xcalloc(AK_ARRAY_SIZE(builtin_types), sizeof(*c->service_types));
    for (size_t i = 0; i < AK_ARRAY_SIZE(builtin_types); i++)
        builtin_to_type(&builtin_types[i], &c->service_types[i]);
    c->n_service_types = AK_ARRAY_SIZE(builtin_types);
    add_host_service(c);
}

void ak__cfg_load_mon(struct ak__cfg_loader *ld)
{
    struct ak_cfg *c = ld->c;

    if (c->mon_timeout_ms > c->mon_interval_ms && !ld->mon_timeout)
        c->mon_timeout_ms = c->mon_interval_ms; /* the default 10s follows a shorter interval */
    if (c->mon_timeout_ms > c->mon_interval_ms)
        ak__cfg_report(ld, ld->mon_timeout->line, ld->mon_timeout->col,
                       "monitoring.scrape_timeout",
                       "must not be longer than monitoring.scrape_interval");
    if (ld->mon_signals && !ak_cfg_node_is_null(ld->mon_signals))
        load_signals(ld, ld->mon_signals);
    if (ld->mon_sources && !ak_cfg_node_is_null(ld->mon_sources))
        load_sources(ld, ld->mon_sources);
    /* The defaults' implicit host service may name another host_service than the file. */
    services_release(c);
    if (ld->services && !ak_cfg_node_is_null(ld->services))
        load_services(ld, ld->services);
    add_host_service(c);
}

void ak__cfg_mon_release(struct ak_cfg *c)
{
    for (size_t i = 0; i < c->n_service_types; i++) {
        free(c->service_types[i].name);
        signals_release(c->service_types[i].signals, c->service_types[i].n_signals);
    }
    free(c->service_types);
    c->service_types = NULL;
    c->n_service_types = 0;
    for (size_t i = 0; i < c->n_mon_sources; i++) {
        struct ak_cfg_mon_source *s = &c->mon_sources[i];

        free(s->name);
        free(s->url);
        ak_cfg_strlist_release(&s->queries);
        free(s->bearer_token);
        free(s->ca_file);
    }
    free(c->mon_sources);
    c->mon_sources = NULL;
    c->n_mon_sources = 0;
    services_release(c);
}

const struct ak_cfg_service_type *ak_cfg_service_type_find(const struct ak_cfg *c,
                                                           const char *type)
{
    for (size_t i = 0; c && type && i < c->n_service_types; i++)
        if (strcmp(c->service_types[i].name, type) == 0)
            return &c->service_types[i];
    return NULL;
}

const struct ak_cfg_service *ak_cfg_service_find(const struct ak_cfg *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_services; i++)
        if (ak_streq(c->services[i].name, name))
            return &c->services[i];
    return NULL;
}
