/* sns.c — the Amazon SNS HTTP(S) delivery envelope: parse, string-to-sign, sniff.
 * Reference: maintenance-events.md §2 (fields §2.2-2.4, string-to-sign §2.6, pitfalls §2.8). */
#include "asakai/ak_events.h"

#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "events-int.h"
#include "../core/ak_banned.h"

struct sns_field {
    const char *name;
    const char *alt; /* Lambda-style casing, or NULL */
    size_t off;
};

#define F(name, alt, member) {name, alt, offsetof(struct ak_sns_msg, member)}
static const struct sns_field sns_fields[] = {
    F("Type", NULL, type_str),
    F("MessageId", NULL, message_id),
    F("TopicArn", NULL, topic_arn),
    F("Subject", NULL, subject),
    F("Message", NULL, message),
    F("Timestamp", NULL, timestamp),
    F("SignatureVersion", NULL, signature_version),
    F("Signature", NULL, signature),
    F("SigningCertURL", "SigningCertUrl", signing_cert_url),
    F("SubscribeURL", "SubscribeUrl", subscribe_url),
    F("Token", NULL, token),
    F("UnsubscribeURL", "UnsubscribeUrl", unsubscribe_url),
};
#undef F

void ak_sns_msg_release(struct ak_sns_msg *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < AK_ARRAY_SIZE(sns_fields); i++)
        ak_freep((char *)m + sns_fields[i].off);
    ak_freep(&m->region);
    ak_freep(&m->account);
    memset(m, 0, sizeof(*m));
}

static bool is_account(const char *s, size_t n)
{
    if (n != 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_region(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool is_topic_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 256)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* arn:aws:sns:REGION:ACCOUNT:NAME in the aws, aws-cn and aws-us-gov partitions. */
static int parse_topic_arn(const char *arn, char **ret_region, char **ret_account)
{
    static const char *const parts[] = {"arn:aws:sns:", "arn:aws-cn:sns:", "arn:aws-us-gov:sns:"};
    const char *p = NULL, *c1, *c2;

    for (size_t i = 0; i < AK_ARRAY_SIZE(parts) && !p; i++)
        if (ak_startswith(arn, parts[i]))
            p = arn + strlen(parts[i]);
    if (!p || !(c1 = strchr(p, ':')) || !(c2 = strchr(c1 + 1, ':')))
        return AK_EINVAL;
    if (!is_region(p, (size_t)(c1 - p)) || !is_account(c1 + 1, (size_t)(c2 - c1 - 1)) ||
        !is_topic_name(c2 + 1))
        return AK_EINVAL;
    *ret_region = ak_xstrndup(p, (size_t)(c1 - p));
    *ret_account = ak_xstrndup(c1 + 1, 12);
    return AK_OK;
}

/* Copies every known string field; a present field that is not a string (Subject: null aside)
 * is an error. */
static int copy_fields(const struct ak_json *j, struct ak_sns_msg *m, struct ak_buf *err)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(sns_fields); i++) {
        const struct sns_field *f = &sns_fields[i];
        struct ak_json *v = ak_json_get(j, f->name);
        char **dst = (char **)((char *)m + f->off);

        if (!v && f->alt)
            v = ak_json_get(j, f->alt);
        if (!v || ak_json_is_null(v))
            continue;
        if (!ak_json_is_str(v))
            return ak_err(err, AK_EINVAL, "SNS field %s is not a string.", f->name);
        *dst = ak_xstrndup(ak_json_str(v), ak_json_str_len(v));
        if (dst == &m->message)
            m->message_len = ak_json_str_len(v);
    }
    return AK_OK;
}

static int check_fields(struct ak_sns_msg *m, struct ak_buf *err)
{
    const char *missing = NULL;
    int64_t ms;

    if (ak_streq(m->type_str, "Notification"))
        m->type = AK_SNS_NOTIFICATION;
    else if (ak_streq(m->type_str, "SubscriptionConfirmation"))
        m->type = AK_SNS_SUBSCRIPTION_CONFIRMATION;
    else if (ak_streq(m->type_str, "UnsubscribeConfirmation"))
        m->type = AK_SNS_UNSUBSCRIBE_CONFIRMATION;
    else
        return ak_err(err, AK_EUNSUPPORTED, "SNS Type \"%.64s\" is not supported.", m->type_str);

    if (!m->message_id)
        missing = "MessageId";
    else if (!m->topic_arn)
        missing = "TopicArn";
    else if (!m->message)
        missing = "Message";
    else if (!m->timestamp)
        missing = "Timestamp";
    else if (!m->signature_version)
        missing = "SignatureVersion";
    else if (!m->signature)
        missing = "Signature";
    else if (!m->signing_cert_url)
        missing = "SigningCertURL";
    else if (m->type != AK_SNS_NOTIFICATION && !m->subscribe_url)
        missing = "SubscribeURL";
    else if (m->type != AK_SNS_NOTIFICATION && !m->token)
        missing = "Token";
    if (missing)
        return ak_err(err, AK_EINVAL, "SNS %s has no %s field.", m->type_str, missing);

    if (parse_topic_arn(m->topic_arn, &m->region, &m->account) < 0)
        return ak_err(err, AK_EINVAL, "SNS TopicArn \"%.200s\" is not an SNS topic ARN.",
                      m->topic_arn);
    if (ak_time_parse(m->timestamp, &ms) < 0)
        return ak_err(err, AK_EINVAL, "SNS Timestamp \"%.64s\" is not a valid time.",
                      m->timestamp);
    if (m->type != AK_SNS_NOTIFICATION)
        ak_freep(&m->subject); /* only Notifications sign a Subject */
    return AK_OK;
}

int ak_sns_parse(const char *body, size_t len, struct ak_sns_msg *ret, struct ak_buf *err)
{
    struct ak_sns_msg m = {0};
    struct ak_json *j = NULL;
    struct ak_buf jerr = AK_BUF_INIT(512);
    int r;

    if (len > AK_EVENTS_MAX_BODY) {
        r = ak_err(err, AK_ETOOBIG, "SNS body is %zu bytes, over the %d-byte limit.", len,
                   AK_EVENTS_MAX_BODY);
        goto out;
    }
    j = ak_json_parse(body, len, &jerr);
    if (!j) {
        r = ak_err(err, AK_EINVAL, "SNS body is not valid JSON: %s.", jerr.buf);
        goto out;
    }
    if (!ak_json_is_obj(j) || !ak_json_get(j, "Type")) {
        r = ak_err(err, AK_EUNSUPPORTED, "The body is JSON but not an SNS envelope (no Type).");
        goto out;
    }
    r = copy_fields(j, &m, err);
    if (r < 0)
        goto out;
    if (!m.type_str) {
        r = ak_err(err, AK_EINVAL, "SNS field Type is empty.");
        goto out;
    }
    r = check_fields(&m, err);
    if (r < 0)
        goto out;
    *ret = m;
    memset(&m, 0, sizeof(m));
out:
    ak_sns_msg_release(&m);
    ak_json_free(j);
    ak_buf_release(&jerr);
    return r;
}

static int add_pair(struct ak_buf *out, const char *name, const char *value, size_t n)
{
    int r = ak_buf_add(out, name);
    if (r >= 0)
        r = ak_buf_addc(out, '\n');
    if (r >= 0)
        r = ak_buf_addn(out, value, n);
    if (r >= 0)
        r = ak_buf_addc(out, '\n');
    return r;
}

#define PAIR(name, v) add_pair(out, name, v, strlen(v))

int ak_sns_string_to_sign(const struct ak_sns_msg *m, struct ak_buf *out)
{
    bool note = m && m->type == AK_SNS_NOTIFICATION;
    int r;

    if (!m || !m->message || !m->message_id || !m->timestamp || !m->topic_arn || !m->type_str)
        return AK_EINVAL;
    if (!note && (!m->subscribe_url || !m->token))
        return AK_EINVAL;
    /* AWS's fixed byte order (§2.6); Token is signed for both confirmation types. */
    r = add_pair(out, "Message", m->message, m->message_len);
    if (r >= 0)
        r = PAIR("MessageId", m->message_id);
    if (r >= 0 && note && m->subject)
        r = PAIR("Subject", m->subject);
    if (r >= 0 && !note)
        r = PAIR("SubscribeURL", m->subscribe_url);
    if (r >= 0)
        r = PAIR("Timestamp", m->timestamp);
    if (r >= 0 && !note)
        r = PAIR("Token", m->token);
    if (r >= 0)
        r = PAIR("TopicArn", m->topic_arn);
    if (r >= 0)
        r = PAIR("Type", m->type_str);
    return r < 0 ? r : AK_OK;
}

bool ak_sns_looks_like(const char *body, size_t len)
{
    struct ak_json *j;
    bool yes;

    if (!body || len > AK_EVENTS_MAX_BODY)
        return false;
    j = ak_json_parse(body, len, NULL);
    yes = ak_json_is_obj(j) && ak_json_get_str(j, "Type") && ak_json_get_str(j, "TopicArn") &&
          ak_json_get_str(j, "MessageId");
    ak_json_free(j);
    return yes;
}
