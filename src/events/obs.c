/* obs.c — building and freeing observations; small helpers shared by the payload parsers;
 * ak_kind_family. */
#include "asakai/ak_events.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "events-int.h"
#include "../core/ak_banned.h"

void ak_obs_release(struct ak_obs *o)
{
    if (!o)
        return;
    free(o->source);
    free(o->service);
    free(o->kind);
    free(o->status);
    free(o->event_code);
    free(o->key);
    free(o->account);
    free(o->region);
    for (size_t i = 0; i < o->n_resources; i++)
        free(o->resources[i]);
    free(o->resources);
    free(o->title);
    free(o->description);
    free(o->tags);
    memset(o, 0, sizeof(*o));
}

void ak_obs_list_release(struct ak_obs_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        ak_obs_release(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

struct ak_obs *ak_events_obs_push(struct ak_obs_list *l)
{
    size_t bytes;

    AK_BUG_ON(ak_size_mul_overflow(l->n + 1, sizeof(*l->v), &bytes));
    l->v = ak_xrealloc(l->v, bytes);
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

void ak_events_set(char **dst, const char *s)
{
    free(*dst);
    *dst = ak_xstrdup(s);
}

void ak_events_obs_add_resource(struct ak_obs *o, const char *s)
{
    size_t bytes;

    if (!s || !*s)
        return;
    AK_BUG_ON(ak_size_mul_overflow(o->n_resources + 1, sizeof(char *), &bytes));
    o->resources = ak_xrealloc(o->resources, bytes);
    o->resources[o->n_resources++] = ak_xstrdup(s);
}

bool ak_events_ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; hay && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == needle[i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

struct res_ref {
    const char *s;
    size_t idx;
};

static int res_cmp(const void *a, const void *b)
{
    const struct res_ref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorting a copy keeps this O(n log n): a Health page can list thousands of entities. */
void ak_events_obs_finish(struct ak_obs *o)
{
    struct res_ref *refs;
    bool *dup;
    size_t n = o->n_resources, w = 0;

    if (n < 2)
        return;
    refs = ak_xcalloc(n, sizeof(*refs));
    dup = ak_xcalloc(n, sizeof(*dup));
    for (size_t i = 0; i < n; i++)
        refs[i] = (struct res_ref){o->resources[i], i};
    qsort(refs, n, sizeof(*refs), res_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(refs[i].s, refs[i - 1].s) == 0)
            dup[refs[i].idx] = true;
    for (size_t i = 0; i < n; i++) {
        if (dup[i])
            free(o->resources[i]);
        else
            o->resources[w++] = o->resources[i];
    }
    o->n_resources = w;
    free(refs);
    free(dup);
}

void ak_events_obs_title(struct ak_obs *o, const char *prefix, const char *words,
                         const char *subject)
{
    struct ak_buf b = AK_BUF_INIT(512);

    ak_buf_add(&b, prefix);
    ak_buf_addc(&b, ' ');
    if (words)
        ak_buf_add(&b, words);
    else
        for (const char *p = o->kind ? o->kind : "other"; *p; p++)
            ak_buf_addc(&b, *p == '-' ? ' ' : *p);
    if (subject)
        ak_buf_addf(&b, " %.160s", subject);
    else if (o->n_resources > 0) {
        ak_buf_addf(&b, " %.160s", o->resources[0]);
        if (o->n_resources > 1)
            ak_buf_addf(&b, " (+%zu more)", o->n_resources - 1);
    }
    free(o->title);
    o->title = ak_buf_detach(&b, NULL);
}

int ak_events_arn_split(const char *arn, const char *service, char **ret_region,
                        char **ret_account)
{
    const char *p, *svc, *region, *account, *end;

    if (!arn || !ak_startswith(arn, "arn:") || !(p = strchr(arn + 4, ':')))
        return AK_EINVAL;
    svc = p + 1;
    if (!(p = strchr(svc, ':')))
        return AK_EINVAL;
    if (service && ((size_t)(p - svc) != strlen(service) ||
                    memcmp(svc, service, (size_t)(p - svc)) != 0))
        return AK_EINVAL;
    region = p + 1;
    if (!(p = strchr(region, ':')))
        return AK_EINVAL;
    account = p + 1;
    if (!(end = strchr(account, ':')))
        return AK_EINVAL;
    *ret_region = p > region ? ak_xstrndup(region, (size_t)(p - region)) : NULL;
    *ret_account = end > account ? ak_xstrndup(account, (size_t)(end - account)) : NULL;
    return AK_OK;
}

/* Health API numbers are epoch seconds with a fraction (§7.3). */
static int64_t secs_to_ms(double v)
{
    if (!(v > 0 && v < 253402300800.0)) /* also refuses NaN; 253402300800 = year 10000 */
        return 0;
    return (int64_t)(v * 1000.0 + 0.5);
}

int64_t ak_events_time(const struct ak_json *v)
{
    int64_t ms;

    if (ak_json_is_num(v))
        return secs_to_ms(ak_json_num(v));
    if (!ak_json_is_str(v) || ak_time_parse(ak_json_str(v), &ms) < 0)
        return 0;
    return ms;
}

/* ---- kind families ------------------------------------------------------------------ */

struct family {
    const char *service;
    const char *kind;
    const char *family;
};

static const struct family families[] = {
    {"elasticache", "node-replacement", "elasticache-node"},
    {"elasticache", "service-update", "elasticache-node"},
    {"rds", "hardware-maintenance", "rds-host"},
    {"rds", "os-upgrade", "rds-host"},
    {"rds", "security-patching", "rds-host"},
    {"rds", "system-update", "rds-host"},
    {"rds", "minor-version-upgrade", "rds-engine"},
    {"rds", "major-version-upgrade", "rds-engine"},
    {"ec2", "instance-retirement", "ec2-host"},
    {"ec2", "instance-stop", "ec2-host"},
    {"ec2", "instance-reboot", "ec2-host"},
    {"ec2", "system-reboot", "ec2-host"},
    {"ec2", "system-maintenance", "ec2-host"},
    {"ec2", "network-maintenance", "ec2-host"},
    {"ec2", "power-maintenance", "ec2-host"},
};

#define FAMILY_RING 8
#define FAMILY_LEN 96

const char *ak_kind_family(const char *service, const char *kind)
{
    /* "<service>-<kind>" has to live somewhere: a small per-thread ring keeps the last
     * FAMILY_RING results valid, so comparing two families in one expression is safe. */
    static _Thread_local char ring[FAMILY_RING][FAMILY_LEN];
    static _Thread_local unsigned next;
    char *buf;

    if (!service || !*service)
        service = "unknown";
    if (!kind || !*kind)
        kind = "other";
    for (size_t i = 0; i < AK_ARRAY_SIZE(families); i++)
        if (strcmp(families[i].service, service) == 0 && strcmp(families[i].kind, kind) == 0)
            return families[i].family;
    buf = ring[next++ % FAMILY_RING];
    snprintf(buf, FAMILY_LEN, "%.40s-%.40s", service, kind);
    return buf;
}
