/* render.c — what every receiver shares: human times, the headline and subject, and the
 * webhook body with its signature. */
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "render_int.h"
#include "src/core/ak_banned.h"

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static bool utc_tm(int64_t ms, struct tm *tm)
{
    /* floor division: times before 1970 keep the right second */
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));

    return gmtime_r(&t, tm) != NULL;
}

void ak__notify_fmt_when(const struct ak_tz *tz, int64_t ms, char *buf, size_t n)
{
    struct tm tm;

    if (n)
        buf[0] = 0;
    if (!ms || !n)
        return;
    if (tz) {
        ak_tz_fmt_short(tz, ms, buf, n);
        return;
    }
    if (utc_tm(ms, &tm))
        snprintf(buf, n, "%s %d %02d:%02d UTC", month_names[tm.tm_mon], tm.tm_mday, tm.tm_hour,
                 tm.tm_min);
}

void ak__notify_fmt_date822(int64_t ms, char *buf, size_t n)
{
    struct tm tm;

    if (n)
        buf[0] = 0;
    if (n && utc_tm(ms, &tm))
        snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", day_names[tm.tm_wday],
                 tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
}

size_t ak__notify_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    /* back off over continuation bytes so a character is never split */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

void ak__notify_add_line(struct ak_buf *b, const char *s, size_t max)
{
    size_t len, i;
    bool space = b->len > 0 && b->buf[b->len - 1] == ' ';

    if (!s)
        return;
    len = ak__notify_utf8_cut(s, strlen(s), max);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == ' ') {
            if (!space)
                ak_buf_addc(b, ' ');
            space = true;
            continue;
        }
        ak_buf_addc(b, (char)ch);
        space = false;
    }
}

static const struct {
    const char *id, *label;
} service_labels[] = {
    {"rds", "RDS"}, {"ec2", "EC2"}, {"elasticache", "ElastiCache"}, {"memorydb", "MemoryDB"},
    {"docdb", "DocumentDB"}, {"redshift", "Redshift"}, {"opensearch", "OpenSearch"},
    {"es", "OpenSearch"}, {"eks", "EKS"}, {"ecs", "ECS"}, {"neptune", "Neptune"},
    {"dms", "DMS"}, {"lambda", "Lambda"}, {"kafka", "MSK"}, {"mq", "Amazon MQ"},
};

static void add_service(struct ak_buf *out, const char *service)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(service_labels); i++)
        if (strcmp(service, service_labels[i].id) == 0) {
            ak_buf_add(out, service_labels[i].label);
            return;
        }
    ak__notify_add_line(out, service, 40);
}

/* The readable tail of an ARN ("arn:aws:rds:...:db:prod-db-1" -> "prod-db-1"). */
static const char *short_resource(const char *res)
{
    const char *p;

    if (!ak_startswith(res, "arn:"))
        return res;
    p = strrchr(res, '/');
    if (!p || !p[1])
        p = strrchr(res, ':');
    return p && p[1] ? p + 1 : res;
}

void ak__notify_headline(const struct ak_maint_rec *r, struct ak_buf *out)
{
    bool kind = r->kind && *r->kind && strcmp(r->kind, "other") != 0;

    if (r->service && *r->service && kind) {
        add_service(out, r->service);
        ak_buf_addc(out, ' ');
        for (const char *p = r->kind; *p && p - r->kind < 60; p++)
            ak_buf_addc(out, *p == '-' || *p == '_' || (unsigned char)*p < 0x20 ? ' ' : *p);
    } else if (r->title && *r->title) {
        ak__notify_add_line(out, r->title, 300);
    } else {
        ak_buf_addf(out, "maintenance #%" PRId64, r->id);
    }
    if (r->n_resources > 0 && r->resources[0]) {
        ak_buf_addc(out, ' ');
        ak__notify_add_line(out, short_resource(r->resources[0]), 80);
        if (r->n_resources > 1)
            ak_buf_addf(out, " (+%zu more)", r->n_resources - 1);
    }
}

static bool closed_as(const struct ak_maint_rec *r, const struct ak_change *ch, const char *st)
{
    if (ch && ch->key && ak_startswith(ch->key, "status:"))
        return strcmp(ch->key + 7, st) == 0;
    return ak_streq(r->status, st);
}

const char *ak__notify_prefix(const struct ak_maint_rec *r, const struct ak_change *ch)
{
    const char *kind = ch ? ch->kind : NULL;

    if (ak_streq(kind, "reminder"))
        return "Reminder: ";
    if (ak_streq(kind, "status") && closed_as(r, ch, "completed"))
        return "Completed: ";
    if (ak_streq(kind, "status") && closed_as(r, ch, "canceled"))
        return "Canceled: ";
    if (ak_streq(kind, "created") && r->recurrence_of)
        return "RECURRENCE: ";
    return "";
}

const char *ak__notify_change_label(const char *kind)
{
    static const struct {
        const char *kind, *label;
    } labels[] = {
        {"created", "New"},
        {"rescheduled", "Rescheduled"},
        {"status", "Status changed"},
        {"deadline", "Deadline changed"},
        {"resources", "Resources changed"},
        {"reminder", "Reminder"},
        {"ack", "Acknowledged"},
        {"silenced", "Silenced"},
    };

    for (size_t i = 0; kind && i < AK_ARRAY_SIZE(labels); i++)
        if (strcmp(kind, labels[i].kind) == 0)
            return labels[i].label;
    return "Update";
}

void ak__notify_record_url(const char *base_url, int64_t id, struct ak_buf *out)
{
    size_t len = base_url ? strlen(base_url) : 0;

    if (!len)
        return;
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    ak_buf_addn(out, base_url, len);
    ak_buf_addf(out, "/api/v1/maintenance/%" PRId64, id);
}

void ak__notify_when_suffix(const struct ak_maint_rec *r, const struct ak_tz *tz,
                            struct ak_buf *out)
{
    char when[64];

    if (r->deadline) {
        ak__notify_fmt_when(tz, r->deadline, when, sizeof(when));
        ak_buf_addf(out, " — deadline %s", when);
    } else if (r->window_start) {
        ak__notify_fmt_when(tz, r->window_start, when, sizeof(when));
        ak_buf_addf(out, " — window %s", when);
    }
}

int ak__notify_subject(const struct ak_render_ctx *c, struct ak_buf *out)
{
    struct ak_buf s = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t keep;
    int r;

    if (!c || !c->rec)
        return AK_EINVAL;
    ak_buf_add(&s, "[asakai] ");
    ak_buf_add(&s, ak__notify_prefix(c->rec, c->change));
    ak__notify_headline(c->rec, &s);
    ak__notify_when_suffix(c->rec, c->tz, &s);
    if (s.len > AK_RENDER_SUBJECT_MAX) {
        keep = ak__notify_utf8_cut(s.buf, s.len, AK_RENDER_SUBJECT_MAX - strlen("…"));
        s.len = keep;
        s.buf[keep] = 0;
        ak_buf_add(&s, "…");
    }
    r = ak_buf_addn(out, s.buf, s.len);
    ak_buf_release(&s);
    return r;
}

/* ---- webhook ------------------------------------------------------------------------- */

struct ak_json *ak__notify_change_json(const struct ak_change *ch, bool with_rec)
{
    struct ak_json *j = ak_json_new_obj();

    ak_json_set_int(j, "id", ch->id);
    if (with_rec)
        ak_json_set_int(j, "rec_id", ch->rec_id);
    ak_json_set_str(j, "kind", ch->kind);
    ak_json_set_str(j, "key", ch->key);
    ak_json_set_str(j, "summary", ch->summary);
    ak_json_set_time(j, "at", ch->at);
    return j;
}

int ak__notify_json_into(struct ak_json *j, struct ak_buf *out)
{
    char *s = ak_json_dump(j, AK_JSON_COMPACT);
    int r = s ? ak_buf_add(out, s) : AK_EINTERNAL;

    free(s);
    return r;
}

int ak__notify_webhook(const struct ak_render_ctx *c, struct ak_buf *out)
{
    struct ak_json *j = NULL, *rec = NULL;
    int r = AK_EINVAL;

    if (!c || !c->rec)
        goto out;
    rec = ak_maint_rec_json(NULL, c->rec, c->now_ms);
    /* the caller's importance is the configured one; the record view uses the defaults */
    ak_json_set_bool(rec, "important", c->important);
    ak_json_set_str(rec, "important_why",
                    c->important_why && *c->important_why ? c->important_why : NULL);
    j = ak_json_new_obj();
    ak_json_set_str(j, "version", "1");
    ak_json_set_str(j, "type",
                    c->change && ak_streq(c->change->kind, "reminder") ? "reminder" : "change");
    ak_json_set(j, "record", rec);
    ak_json_set(j, "change",
                c->change ? ak__notify_change_json(c->change, false) : ak_json_new_null());
    r = ak__notify_json_into(j, out);
out:
    ak_json_free(j);
    return r;
}

void ak__notify_webhook_signature(const char *secret, int64_t now_ms, const char *body,
                                  size_t len, char *out, size_t n)
{
    struct ak_buf msg = AK_BUF_INIT(AK_BUF_NOMAX);
    long long t = (long long)(now_ms / 1000);
    char hex[65];

    if (!n)
        return;
    ak_buf_addf(&msg, "%lld.", t);
    ak_buf_addn(&msg, body ? body : "", body ? len : 0);
    ak_hmac_sha256_hex(secret ? secret : "", secret ? strlen(secret) : 0, msg.buf, msg.len, hex);
    /* a value that does not fit is useless to the receiver: give "" rather than a cut one */
    if ((size_t)snprintf(out, n, "t=%lld,v1=%s", t, hex) >= n)
        out[0] = 0;
    ak_buf_release(&msg);
}
