/* events.c — the payload classifier (ak_events_parse, ak_events_parse_raw) and the import file
 * splitter (ak_events_split). The per-format parsers are in health.c, elasticache.c, rds.c. */
#include "asakai/ak_events.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "events-int.h"
#include "../core/ak_banned.h"

/* RDS's first message on a new subscription is prose, not JSON (§5.1). */
#define RDS_HELLO "This is a message to notify that RDS"

static bool has_prefixed_key(const struct ak_json *o, const char *prefix)
{
    for (void *it = ak_json_iter(o); it; it = ak_json_iter_next(o, it))
        if (ak_startswith(ak_json_iter_key(it), prefix))
            return true;
    return false;
}

static int eventbridge(const struct ak_json *ev, const struct ak_events_ctx *ctx,
                       struct ak_obs_list *l, struct ak_buf *why)
{
    const char *src = ak_json_get_str(ev, "source");
    const char *dt = ak_json_get_str(ev, "detail-type");

    if (strcmp(src, "aws.health") == 0) {
        if (!ak_startswith(dt, "AWS Health"))
            return ak_err(why, AK_EUNSUPPORTED, "aws.health detail-type \"%.100s\" is unknown.",
                          dt);
        return ak_events_health(ev, ak_json_get(ev, "detail"), ctx, l, why);
    }
    if (strcmp(src, "aws.rds") == 0)
        return ak_events_rds_eventbridge(ev, ctx, l, why);
    if (strcmp(src, "aws.ec2") == 0)
        /* EC2 scheduled events reach us as AWS Health events; these are state changes etc. */
        return ak_err(why, AK_OK, "EC2 \"%.100s\" is not a maintenance event.", dt);
    return ak_err(why, AK_EUNSUPPORTED, "EventBridge source \"%.100s\" is not supported.", src);
}

static int classify(const struct ak_json *j, const struct ak_events_ctx *ctx,
                    struct ak_obs_list *l, struct ak_buf *why)
{
    const struct ak_json *ev;

    if (!ak_json_is_obj(j))
        return ak_err(why, AK_EUNSUPPORTED, "The payload is JSON but not an object.");
    if (ak_json_get_str(j, "source") && ak_json_get_str(j, "detail-type") &&
        ak_json_get(j, "detail"))
        return eventbridge(j, ctx, l, why);
    if (ak_json_get_str(j, "eventArn") && ak_json_get_str(j, "eventTypeCode"))
        return ak_events_health(NULL, j, ctx, l, why); /* a bare Health detail */
    ev = ak_json_is_obj(ak_json_get(j, "event")) ? ak_json_get(j, "event") : j;
    if (ak_json_get_str(ev, "arn") && ak_json_get_str(ev, "eventTypeCode"))
        return ak_events_health_api(j, ctx, l, why);
    if (has_prefixed_key(j, "ElastiCache:"))
        return ak_events_elasticache(j, ctx, l, why);
    if (ak_json_get(j, "Event ID") || (ak_json_get(j, "Event Source") &&
                                       ak_json_get(j, "Event Message")))
        return ak_events_rds_sns(j, ctx, l, why);
    return ak_err(why, AK_EUNSUPPORTED,
                  "The JSON object is no known maintenance format (no EventBridge source, "
                  "\"ElastiCache:\" key or RDS \"Event ID\").");
}

static size_t skip_ws(const char *s, size_t len, size_t pos)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r' || s[pos] == '\n'))
        pos++;
    return pos;
}

int ak_events_parse(const char *payload, size_t len, const struct ak_events_ctx *ctx,
                    struct ak_obs_list *ret, struct ak_buf *why)
{
    static const struct ak_events_ctx no_ctx = {0};
    struct ak_events_ctx c = ctx ? *ctx : no_ctx;
    struct ak_obs_list l = {0};
    struct ak_json *j = NULL;
    struct ak_buf jerr = AK_BUF_INIT(512);
    char *region = NULL, *account = NULL;
    size_t p;
    int r;

    if (len > AK_EVENTS_MAX_BODY) {
        r = ak_err(why, AK_ETOOBIG, "The message is %zu bytes, over the %d-byte limit.", len,
                   AK_EVENTS_MAX_BODY);
        goto out;
    }
    p = skip_ws(payload, len, 0);
    if (p == len || (payload[p] != '{' && payload[p] != '[')) {
        if (len - p >= strlen(RDS_HELLO) && memcmp(payload + p, RDS_HELLO, strlen(RDS_HELLO)) == 0)
            r = ak_err(why, AK_OK, "The RDS subscription notice is not a maintenance event.");
        else
            r = ak_err(why, AK_EUNSUPPORTED, "The message is plain text, not JSON: \"%.80s\".",
                       payload + p);
        goto out;
    }
    j = ak_json_parse(payload, len, &jerr);
    if (!j) {
        r = ak_err(why, AK_EINVAL, "The message is not valid JSON: %s.", jerr.buf);
        goto out;
    }
    if (c.topic_arn && (!c.account || !c.region) &&
        ak_events_arn_split(c.topic_arn, "sns", &region, &account) == 0) {
        c.account = c.account ? c.account : account;
        c.region = c.region ? c.region : region;
    }
    r = classify(j, &c, &l, why);
    if (r < 0)
        goto out;
    *ret = l;
    memset(&l, 0, sizeof(l));
out:
    ak_obs_list_release(&l);
    ak_json_free(j);
    ak_buf_release(&jerr);
    free(region);
    free(account);
    return r;
}

/* Appends src's observations to dst (src is left empty). */
static void list_move(struct ak_obs_list *dst, struct ak_obs_list *src)
{
    for (size_t i = 0; i < src->n; i++)
        *ak_events_obs_push(dst) = src->v[i];
    free(src->v);
    src->v = NULL;
    src->n = 0;
}

/* A Lambda SNS event {"Records":[{"Sns":{...}}]}, as archived by Lambda-based relays (§5.1). */
static int lambda_records(const struct ak_json *recs, int64_t received_ms,
                          struct ak_obs_list *l, struct ak_buf *why)
{
    for (size_t i = 0; i < ak_json_len(recs); i++) {
        const struct ak_json *sns = ak_json_get(ak_json_at(recs, i), "Sns");
        const struct ak_json *msg = ak_json_get(sns, "Message");
        struct ak_events_ctx c = {.received_ms = received_ms};
        struct ak_obs_list one = {0};
        int r;

        if (!ak_json_is_str(msg))
            return ak_err(why, AK_EINVAL, "Records[%zu].Sns has no Message string.", i);
        c.topic_arn = ak_json_get_str(sns, "TopicArn");
        c.subject = ak_json_get_str(sns, "Subject");
        r = ak_events_parse(ak_json_str(msg), ak_json_str_len(msg), &c, &one, why);
        if (r < 0)
            return r;
        list_move(l, &one);
    }
    if (l->n == 0)
        ak_err(why, AK_OK, "The Lambda event has no maintenance record.");
    return AK_OK;
}

static int parse_sns(const char *body, size_t len, int64_t received_ms, struct ak_obs_list *l,
                     struct ak_buf *why)
{
    struct ak_sns_msg m = {0};
    struct ak_events_ctx c = {.received_ms = received_ms};
    int r = ak_sns_parse(body, len, &m, why);

    if (r < 0)
        return r;
    if (m.type != AK_SNS_NOTIFICATION) {
        r = ak_err(why, AK_OK, "An SNS %s is not a maintenance message.", m.type_str);
        goto out;
    }
    /* SNS publish time is when the service emitted the notice: a better "when" for messages
     * without their own time than the arrival (imports and retries arrive late) */
    int64_t ts;
    if (m.timestamp && ak_time_parse(m.timestamp, &ts) == AK_OK)
        c.received_ms = ts;
    c.topic_arn = m.topic_arn;
    c.account = m.account;
    c.region = m.region;
    c.subject = m.subject;
    r = ak_events_parse(m.message, m.message_len, &c, l, why);
out:
    ak_sns_msg_release(&m);
    return r;
}

int ak_events_parse_raw(const char *body, size_t len, int64_t received_ms,
                        struct ak_obs_list *ret, struct ak_buf *why)
{
    struct ak_events_ctx c = {.received_ms = received_ms};
    struct ak_obs_list l = {0};
    struct ak_json *j = NULL;
    struct ak_buf jerr = AK_BUF_INIT(512);
    int r;

    if (len > AK_EVENTS_MAX_BODY) {
        r = ak_err(why, AK_ETOOBIG, "The body is %zu bytes, over the %d-byte limit.", len,
                   AK_EVENTS_MAX_BODY);
        goto out;
    }
    j = ak_json_parse(body, len, &jerr);
    if (!j) {
        r = ak_err(why, AK_EINVAL, "The body is not valid JSON: %s.", jerr.buf);
        goto out;
    }
    if (ak_json_get_str(j, "Type") && ak_json_get_str(j, "TopicArn") &&
        ak_json_get_str(j, "MessageId"))
        r = parse_sns(body, len, received_ms, &l, why);
    else if (ak_json_is_arr(ak_json_get(j, "Records")))
        r = lambda_records(ak_json_get(j, "Records"), received_ms, &l, why);
    else
        r = classify(j, &c, &l, why);
    if (r < 0)
        goto out;
    *ret = l;
    memset(&l, 0, sizeof(l));
out:
    ak_obs_list_release(&l);
    ak_json_free(j);
    ak_buf_release(&jerr);
    return r;
}

/* ---- import files ------------------------------------------------------------------- */

static size_t digits(const char *s, uint64_t *v)
{
    size_t n = 0;

    *v = 0;
    while (n < 9 && s[n] >= '0' && s[n] <= '9')
        *v = *v * 10 + (uint64_t)(s[n++] - '0');
    return n;
}

/* Rewrites jansson's "line L, column C: why" (relative to the document) into a position in the
 * whole file, whose document starts at byte pos. */
static int split_err(struct ak_buf *err, const char *text, size_t pos, size_t index,
                     const char *msg)
{
    uint64_t line = 1, col = 1, l = 0, c = 0;
    const char *p = msg;
    size_t n;

    for (size_t i = 0; i < pos; i++) {
        col++;
        if (text[i] == '\n') {
            line++;
            col = 1;
        }
    }
    if (ak_startswith(p, "line ") && (n = digits(p + 5, &l)) > 0 && l > 0 &&
        ak_startswith(p + 5 + n, ", column ")) {
        p += 5 + n + 9;
        if ((n = digits(p, &c)) > 0 && ak_startswith(p + n, ": ")) {
            col = l == 1 ? col + (c > 0 ? c - 1 : 0) : c;
            line += l - 1;
            msg = p + n + 2;
        }
    }
    return ak_err(err, AK_EINVAL, "document %zu: line %llu, column %llu: %s", index + 1,
                  (unsigned long long)line, (unsigned long long)col, msg);
}

static int split_array(const struct ak_json *a, const char *text, size_t pos, size_t *index,
                       ak_events_doc_cb cb, void *arg, struct ak_buf *err)
{
    for (size_t i = 0; i < ak_json_len(a); i++) {
        const struct ak_json *item = ak_json_at(a, i);
        char *doc;
        int r;

        if (!ak_json_is_obj(item))
            return split_err(err, text, pos, *index, "array item is not a JSON object");
        doc = ak_json_dump(item, AK_JSON_COMPACT);
        r = cb(doc, strlen(doc), (*index)++, arg);
        free(doc);
        if (r)
            return r;
    }
    return AK_OK;
}

int ak_events_split(const char *text, size_t len, ak_events_doc_cb cb, void *arg,
                    struct ak_buf *err)
{
    struct ak_buf jerr = AK_BUF_INIT(512);
    struct ak_json *j = NULL;
    size_t pos = 0, index = 0, used, end, nul;
    const char *p;
    int r = AK_OK;

    if (len > AK_EVENTS_MAX_SPLIT)
        return ak_err(err, AK_ETOOBIG, "The file is %zu bytes, over the %d-byte limit.", len,
                      AK_EVENTS_MAX_SPLIT);
    /* jansson skips raw NUL bytes without counting them, which would shift every later
     * document: refuse them (JSON text cannot contain one). */
    p = memchr(text, 0, len);
    nul = p ? (size_t)(p - text) : SIZE_MAX;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a UTF-8 byte order mark from an editor */
    for (;;) {
        pos = skip_ws(text, len, pos);
        if (pos == len)
            break;
        used = 0;
        ak_buf_reset(&jerr);
        /* parse only up to the first NUL: a document that runs into it is the one to blame */
        size_t lim = nul < len ? nul : len;
        j = pos < lim ? ak_json_parse_prefix(text + pos, lim - pos, &used, &jerr) : NULL;
        if (!j && nul < len) {
            r = split_err(err, text, nul, index, "NUL byte in the text");
            goto out;
        }
        if (!j || used == 0 || used > lim - pos) {
            r = split_err(err, text, pos, index, j ? "empty document" : jerr.buf);
            goto out;
        }
        if (ak_json_is_obj(j)) {
            end = used;
            while (end > 0 && (text[pos + end - 1] == ' ' || text[pos + end - 1] == '\n' ||
                               text[pos + end - 1] == '\r' || text[pos + end - 1] == '\t'))
                end--;
            r = cb(text + pos, end, index++, arg);
        } else if (ak_json_is_arr(j))
            r = split_array(j, text, pos, &index, cb, arg, err);
        else
            r = split_err(err, text, pos, index, "expected a JSON object or array");
        if (r)
            goto out;
        ak_json_free(j);
        j = NULL;
        pos += used;
    }
out:
    ak_json_free(j);
    ak_buf_release(&jerr);
    return r;
}
