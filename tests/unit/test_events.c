/* test_events.c — SNS envelope, string-to-sign, payload classification, import splitting.
 * Fixtures: tests/data/events/ (the real signed SNS messages and Health/RDS samples of the
 * reference, plus ElastiCache/RDS messages built from its documented shapes). */
#include "ak_test.h"

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_events.h"
#include "asakai/ak_time.h"

#define D "tests/data/events/"

/* ---- a tiny SHA-256 (FIPS 180-4), so this test needs no crypto module ------------------ */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64], a[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(a, h, sizeof(a));
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = a[7] + (ROR(a[4], 6) ^ ROR(a[4], 11) ^ ROR(a[4], 25)) +
                      ((a[4] & a[5]) ^ (~a[4] & a[6])) + sha_k[i] + w[i];
        uint32_t t2 = (ROR(a[0], 2) ^ ROR(a[0], 13) ^ ROR(a[0], 22)) +
                      ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
        memmove(a + 1, a, 7 * sizeof(uint32_t));
        a[4] += t1;
        a[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        h[i] += a[i];
}

static void sha256_hex(const void *data, size_t n, char out[65])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    unsigned char blk[128] = {0};
    const unsigned char *p = data;
    size_t i = 0, rest;
    uint64_t bits = (uint64_t)n * 8;

    for (; i + 64 <= n; i += 64)
        sha_block(h, p + i);
    rest = n - i;
    memcpy(blk, p + i, rest);
    blk[rest] = 0x80;
    size_t tot = rest + 9 <= 64 ? 64 : 128;
    for (int b = 0; b < 8; b++)
        blk[tot - 1 - b] = (unsigned char)(bits >> (8 * b));
    sha_block(h, blk);
    if (tot == 128)
        sha_block(h, blk + 64);
    for (int k = 0; k < 8; k++)
        snprintf(out + 8 * k, 9, "%08x", h[k]);
}

/* ---- helpers --------------------------------------------------------------------------- */

static int64_t T(const char *s)
{
    int64_t ms = -1;
    if (ak_time_parse(s, &ms) != 0)
        abort();
    return ms;
}

/* Parses fixture `name` as a payload (ak_events_parse) with ctx; returns the code. */
static int parse_file(const char *name, const struct ak_events_ctx *ctx, struct ak_obs_list *l,
                      struct ak_buf *why)
{
    char path[256];
    size_t n = 0;
    snprintf(path, sizeof(path), D "%s", name);
    char *s = ak_test_read_file(path, &n);
    if (!s)
        abort();
    int r = ak_events_parse(s, n, ctx, l, why);
    free(s);
    return r;
}

static int raw_file(const char *name, int64_t received, struct ak_obs_list *l, struct ak_buf *why)
{
    char path[256];
    size_t n = 0;
    snprintf(path, sizeof(path), D "%s", name);
    char *s = ak_test_read_file(path, &n);
    if (!s)
        abort();
    int r = ak_events_parse_raw(s, n, received, l, why);
    free(s);
    return r;
}

static int sns_file(const char *name, struct ak_sns_msg *m, struct ak_buf *err)
{
    char path[256];
    size_t n = 0;
    snprintf(path, sizeof(path), D "%s", name);
    char *s = ak_test_read_file(path, &n);
    if (!s)
        abort();
    int r = ak_sns_parse(s, n, m, err);
    free(s);
    return r;
}

static const struct ak_events_ctx tokyo = {
    .topic_arn = "arn:aws:sns:ap-northeast-1:210987654321:maint",
    .account = "210987654321",
    .region = "ap-northeast-1",
    .received_ms = 1795000000000, /* 2026-11-18 */
};

/* ---- SNS envelope ------------------------------------------------------------------------ */

AK_TEST(sns_parse_sv2_notification)
{
    struct ak_sns_msg m = {0};
    struct ak_buf err = AK_BUF_INIT(1024);

    AK_ASSERT_OK(sns_file("sns-notification-sv2.json", &m, &err));
    AK_ASSERT_EQ_INT(m.type, AK_SNS_NOTIFICATION);
    AK_ASSERT_STR(m.type_str, "Notification");
    AK_ASSERT_STR(m.message_id, "9d2c5580-b61d-550c-8583-37a582870907");
    AK_ASSERT_STR(m.message, "This message uses signature version 2.");
    AK_ASSERT_EQ_INT(m.message_len, 38);
    AK_ASSERT_NULL(m.subject);
    AK_ASSERT_STR(m.signature_version, "2");
    AK_ASSERT(m.signature && strlen(m.signature) == 344);
    AK_ASSERT_CONTAINS(m.signing_cert_url, "SimpleNotificationService-7506a1e35b36ef5a");
    AK_ASSERT_CONTAINS(m.unsubscribe_url, "Action=Unsubscribe");
    AK_ASSERT_NULL(m.token);
    AK_ASSERT_NULL(m.subscribe_url);
    AK_ASSERT_STR(m.region, "us-west-2");
    AK_ASSERT_STR(m.account, "131990247566");
    AK_ASSERT_EQ_INT(err.len, 0);
    ak_sns_msg_release(&m);
    ak_sns_msg_release(&m); /* released twice: must be harmless */
    ak_buf_release(&err);
}

/* Compares the string-to-sign of fixture `json` with the bytes in fixture `sts`. */
static int sts_matches(const char *json, const char *sts, char hex[65])
{
    struct ak_sns_msg m = {0};
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[256];
    size_t n = 0;
    int ok = 0;

    snprintf(path, sizeof(path), D "%s", sts);
    char *want = ak_test_read_file(path, &n);
    if (want && sns_file(json, &m, NULL) == 0 && ak_sns_string_to_sign(&m, &out) == 0) {
        ok = out.len == n && memcmp(out.buf, want, n) == 0;
        sha256_hex(out.buf, out.len, hex);
    }
    free(want);
    ak_sns_msg_release(&m);
    ak_buf_release(&out);
    return ok;
}

AK_TEST(sns_string_to_sign_sv2_sha256)
{
    char hex[65] = "";
    AK_ASSERT(sts_matches("sns-notification-sv2.json", "sns-notification-sv2.sts", hex));
    AK_ASSERT_STR(hex, "cd81a9ac552ce5a7cd17fe67fc06d3088509064ee268cfd9c62e9160826a1cdb");
    /* the self-test of the tiny SHA-256 itself: FIPS 180-2 "abc" */
    sha256_hex("abc", 3, hex);
    AK_ASSERT_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

AK_TEST(sns_string_to_sign_sv1_subject)
{
    static const char want[] = "Message\nHello! This message has a subject.\n"
                               "MessageId\n26858270-545e-5848-82a2-e05566af3dcf\n"
                               "Subject\nMy message subject\n"
                               "Timestamp\n2026-03-06T19:53:21.424Z\n"
                               "TopicArn\narn:aws:sns:us-west-2:131990247566:"
                               "dongie-standard-topic\n"
                               "Type\nNotification\n";
    struct ak_sns_msg m = {0};
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    char hex[65];

    AK_ASSERT(sts_matches("sns-notification-subject-sv1.json", "sns-notification-subject-sv1.sts",
                          hex));
    AK_ASSERT_OK(sns_file("sns-notification-subject-sv1.json", &m, NULL));
    AK_ASSERT_STR(m.subject, "My message subject");
    AK_ASSERT_OK(ak_sns_string_to_sign(&m, &out));
    AK_ASSERT_STR(out.buf, want);
    ak_sns_msg_release(&m);
    ak_buf_release(&out);
}

AK_TEST(sns_string_to_sign_confirmations)
{
    struct ak_sns_msg m = {0};
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    char hex[65];

    AK_ASSERT(sts_matches("sns-subscription-confirmation-sv1.json",
                          "sns-subscription-confirmation-sv1.sts", hex));
    /* Token is signed for UnsubscribeConfirmation too (the JS validator's bug, §2.8) */
    AK_ASSERT(sts_matches("sns-unsubscribe-confirmation-sv2.json",
                          "sns-unsubscribe-confirmation-sv2.sts", hex));
    AK_ASSERT_OK(sns_file("sns-unsubscribe-confirmation-sv2.json", &m, NULL));
    AK_ASSERT_EQ_INT(m.type, AK_SNS_UNSUBSCRIBE_CONFIRMATION);
    AK_ASSERT_OK(ak_sns_string_to_sign(&m, &out));
    AK_ASSERT_CONTAINS(out.buf, "\nTimestamp\n2026-03-06T20:02:25.038Z\nToken\n2336412f37fb");
    AK_ASSERT(strncmp(out.buf, "Message\nYou have chosen to deactivate", 37) == 0);
    /* the JSON escape \n became a real newline */
    AK_ASSERT_CONTAINS(out.buf, "b24e11a2-06bd-4e73-aa29-0ed2de3b41b5.\nTo cancel");
    ak_sns_msg_release(&m);
    ak_buf_release(&out);
}

AK_TEST(sns_lambda_casing_and_null_subject)
{
    static const char body[] =
        "{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"Subject\":null,"
        "\"TopicArn\":\"arn:aws-cn:sns:cn-north-1:123456789012:t.fifo\",\"Message\":\"a\\nb\","
        "\"Timestamp\":\"2019-01-02T12:45:07.000Z\",\"SignatureVersion\":\"1\",\"Signature\":\"x\","
        "\"SigningCertUrl\":\"https://sns.cn-north-1.amazonaws.com.cn/x.pem\","
        "\"UnsubscribeUrl\":\"https://u\",\"MessageAttributes\":{}}";
    struct ak_sns_msg m = {0};
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(ak_sns_parse(body, strlen(body), &m, NULL));
    AK_ASSERT_NULL(m.subject);
    AK_ASSERT_STR(m.signing_cert_url, "https://sns.cn-north-1.amazonaws.com.cn/x.pem");
    AK_ASSERT_STR(m.unsubscribe_url, "https://u");
    AK_ASSERT_STR(m.region, "cn-north-1");
    AK_ASSERT_STR(m.account, "123456789012");
    AK_ASSERT_OK(ak_sns_string_to_sign(&m, &out));
    AK_ASSERT_STR(out.buf, "Message\na\nb\nMessageId\nm-1\nTimestamp\n2019-01-02T12:45:07.000Z\n"
                           "TopicArn\narn:aws-cn:sns:cn-north-1:123456789012:t.fifo\n"
                           "Type\nNotification\n");
    ak_sns_msg_release(&m);
    ak_buf_release(&out);
}

AK_TEST(sns_rejects_missing_and_bad_fields)
{
    static const char *const cases[][2] = {
        {"{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:aws:sns:us-east-1:"
         "123456789012:t\",\"Message\":\"x\",\"Timestamp\":\"2019-01-02T12:45:07Z\","
         "\"SignatureVersion\":\"1\",\"SigningCertURL\":\"https://c\"}",
         "has no Signature"},
        {"{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"m\",\"TopicArn\":\"arn:aws:sns:"
         "us-east-1:123456789012:t\",\"Message\":\"x\",\"Timestamp\":\"2019-01-02T12:45:07Z\","
         "\"SignatureVersion\":\"1\",\"Signature\":\"s\",\"SigningCertURL\":\"https://c\","
         "\"SubscribeURL\":\"https://s\"}",
         "has no Token"},
        {"{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:aws:sqs:us-east-1:"
         "123456789012:t\",\"Message\":\"x\",\"Timestamp\":\"2019-01-02T12:45:07Z\","
         "\"SignatureVersion\":\"1\",\"Signature\":\"s\",\"SigningCertURL\":\"https://c\"}",
         "TopicArn"},
        {"{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:aws:sns:us-east-1:"
         "12345:t\",\"Message\":\"x\",\"Timestamp\":\"2019-01-02T12:45:07Z\","
         "\"SignatureVersion\":\"1\",\"Signature\":\"s\",\"SigningCertURL\":\"https://c\"}",
         "TopicArn"},
        {"{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:aws:sns:us-east-1:"
         "123456789012:t\",\"Message\":7,\"Timestamp\":\"2019-01-02T12:45:07Z\"}",
         "Message is not a string"},
        {"{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:aws:sns:us-east-1:"
         "123456789012:t\",\"Message\":\"x\",\"Timestamp\":\"yesterday\","
         "\"SignatureVersion\":\"1\",\"Signature\":\"s\",\"SigningCertURL\":\"https://c\"}",
         "Timestamp"},
        {"{\"Type\":\"Notification\",\n\"MessageId\":", "line 2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ak_sns_msg m = {.message_id = (char *)"untouched"};
        struct ak_buf err = AK_BUF_INIT(1024);
        int r = ak_sns_parse(cases[i][0], strlen(cases[i][0]), &m, &err);
        printf("# case %zu: %s\n", i, err.buf);
        AK_ASSERT_EQ_INT(r, AK_EINVAL);
        AK_ASSERT_CONTAINS(err.buf, cases[i][1]);
        AK_ASSERT_STR(m.message_id, "untouched"); /* ret written only on success */
        ak_buf_release(&err);
    }
}

AK_TEST(sns_unsupported_and_too_big)
{
    struct ak_sns_msg m = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    static const char ev[] = "{\"source\":\"aws.health\"}";
    static const char odd[] = "{\"Type\":\"Teapot\",\"MessageId\":\"m\"}";
    size_t big = 1024 * 1024 + 1;
    char *huge = calloc(1, big);

    AK_ASSERT_EQ_INT(ak_sns_parse(ev, strlen(ev), &m, &err), AK_EUNSUPPORTED);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_sns_parse(odd, strlen(odd), &m, &err), AK_EUNSUPPORTED);
    AK_ASSERT_CONTAINS(err.buf, "Teapot");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_sns_parse(huge, big, &m, &err), AK_ETOOBIG);
    free(huge);
    ak_buf_release(&err);
}

AK_TEST(sns_looks_like)
{
    size_t n;
    char *s = ak_test_read_file(D "sns-subscription-confirmation-sv1.json", &n);
    AK_ASSERT(s && ak_sns_looks_like(s, n));
    free(s);
    s = ak_test_read_file(D "health-ec2-minimal-test.json", &n);
    AK_ASSERT(s && !ak_sns_looks_like(s, n));
    free(s);
    AK_ASSERT(!ak_sns_looks_like("{\"Type\":\"x\",\"TopicArn\":\"y\"}", 25));
    AK_ASSERT(!ak_sns_looks_like("not json", 8));
}

/* ---- AWS Health ---------------------------------------------------------------------- */

AK_TEST(health_custodian_ec2_retirement)
{
    struct ak_obs_list l = {0};
    struct ak_buf why = AK_BUF_INIT(1024);
    struct ak_obs *o;

    AK_ASSERT_OK(raw_file("health-ec2-retirement-custodian.json", 0, &l, &why));
    AK_ASSERT_EQ_INT(l.n, 1);
    o = &l.v[0];
    AK_ASSERT_STR(o->source, "aws.health");
    AK_ASSERT_STR(o->service, "ec2");
    AK_ASSERT_STR(o->kind, "instance-retirement");
    AK_ASSERT_STR(o->status, "scheduled"); /* no statusCode; start is not before the event time */
    AK_ASSERT_STR(o->event_code, "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED");
    AK_ASSERT_STR(o->key, "health:XXXXXXXXXXXX:arn:aws:health:us-east-1::event/EC2/"
                          "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED/"
                          "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED4e63a1f4-b043-4543-"
                          "88fa-53f30aeb295b");
    AK_ASSERT_STR(o->account, "XXXXXXXXXXXX");
    AK_ASSERT_STR(o->region, "us-east-1");
    AK_ASSERT_EQ_INT(o->window_start, 1561561200000);
    AK_ASSERT_EQ_INT(o->window_end, 1561561200000);
    AK_ASSERT_EQ_INT(o->deadline, 1561561200000);
    AK_ASSERT_EQ_INT(o->event_time, 1561561200000);
    AK_ASSERT(o->required);
    AK_ASSERT_EQ_INT(o->n_resources, 2); /* the entity and the (differently redacted) resource */
    AK_ASSERT_STR(o->resources[0], "i-XXXXXXXXXXXXXXX");
    AK_ASSERT_STR(o->title, "EC2 instance retirement i-XXXXXXXXXXXXXXX (+1 more)");
    AK_ASSERT_CONTAINS(o->description, "We will stop your instance after 2019-06-26 15:00 UTC.");
    AK_ASSERT_EQ_INT(o->page, 0);
    ak_obs_list_release(&l);

    /* received a week later, the open event has started */
    AK_ASSERT_OK(raw_file("health-ec2-retirement-custodian.json", 1561561200000 + 7 * 86400000LL,
                          &l, &why));
    AK_ASSERT_STR(l.v[0].status, "in-progress");
    ak_obs_list_release(&l);
    ak_buf_release(&why);
}

AK_TEST(health_minimal_test_event_issue)
{
    struct ak_obs_list l = {0};
    struct ak_obs *o;

    AK_ASSERT_OK(raw_file("health-ec2-minimal-test.json", 0, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    o = &l.v[0];
    AK_ASSERT_STR(o->kind, "other"); /* an issue code we do not map: kept, never dropped */
    AK_ASSERT_STR(o->account, "123456789012");
    AK_ASSERT_STR(o->region, "us-west-2");
    AK_ASSERT_EQ_INT(o->n_resources, 1); /* entity and resource are the same id */
    AK_ASSERT_STR(o->resources[0], "i-abcd1111");
    AK_ASSERT_EQ_INT(o->window_start, 1465139409000);
    AK_ASSERT_EQ_INT(o->window_end, 0);
    AK_ASSERT_EQ_INT(o->deadline, 0); /* category issue, not scheduledChange */
    AK_ASSERT(!o->required);
    AK_ASSERT_STR(o->status, "scheduled"); /* start 15:10 is after the event time 06:27 */
    AK_ASSERT_STR(o->title, "EC2 instance store drive performance degraded i-abcd1111");
    AK_ASSERT_STR(o->description, "A description of the event will be provided here");
    ak_obs_list_release(&l);
}

AK_TEST(health_ecs_bare_detail)
{
    struct ak_obs_list l = {0};
    struct ak_obs *o;

    AK_ASSERT_OK(parse_file("health-ecs-task-patching-detail.json", &tokyo, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    o = &l.v[0];
    AK_ASSERT_STR(o->service, "ecs");
    AK_ASSERT_STR(o->kind, "instance-retirement"); /* RETIREMENT wins over PATCHING */
    AK_ASSERT_STR(o->account, "210987654321");     /* from the context */
    AK_ASSERT_STR(o->region, "us-east-1");         /* eventRegion beats the context */
    AK_ASSERT_EQ_INT(o->n_resources, 2);
    AK_ASSERT_STR(o->resources[1], "cluster/service2");
    AK_ASSERT_EQ_INT(o->window_start, T("Wed, 16 Aug 2023 23:18:51 GMT"));
    AK_ASSERT_EQ_INT(o->window_end, T("2023-08-18T23:18:51Z"));
    AK_ASSERT_EQ_INT(o->deadline, o->window_start);
    AK_ASSERT_EQ_INT(o->event_time, T("2023-08-16T23:18:52Z"));
    AK_ASSERT_STR(o->status, "in-progress"); /* no statusCode, received in 2026 */
    AK_ASSERT_STR(o->key, "health:210987654321:arn:aws:health:us-east-1::event/ECS/"
                          "AWS_ECS_TASK_PATCHING_RETIREMENT/"
                          "AWS_ECS_TASK_PATCHING_RETIREMENT_test1");
    ak_obs_list_release(&l);
}

AK_TEST(health_eventbridge_through_sns)
{
    struct ak_obs_list l = {0};
    struct ak_buf why = AK_BUF_INIT(1024);

    AK_ASSERT_OK(raw_file("sns-eventbridge-health.json", T("2016-06-05T06:28:02Z"), &l, &why));
    AK_ASSERT_EQ_INT(l.n, 1);
    AK_ASSERT_STR(l.v[0].source, "aws.health");
    AK_ASSERT_STR(l.v[0].account, "123456789012");
    AK_ASSERT_STR(l.v[0].key, "health:123456789012:arn:aws:health:us-west-2::event/"
                              "AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED_"
                              "90353408594353980");
    ak_obs_list_release(&l);
    ak_buf_release(&why);
}

struct docs {
    char *v[8];
    size_t idx[8];
    size_t n;
    int stop_at;
};

static int collect(const char *doc, size_t len, size_t index, void *arg)
{
    struct docs *d = arg;
    if (d->n >= 8)
        return AK_ETOOBIG;
    d->v[d->n] = strndup(doc, len);
    d->idx[d->n++] = index;
    return d->stop_at && (int)d->n == d->stop_at ? 42 : 0;
}

static void docs_free(struct docs *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i]);
    d->n = 0;
}

AK_TEST(health_three_pages_same_key)
{
    struct docs d = {0};
    size_t n;
    char *s = ak_test_read_file(D "health-rds-hardware-3pages.ndjson", &n);
    const char *key = NULL;
    int seen = 0;

    AK_ASSERT(s);
    AK_ASSERT_OK(ak_events_split(s, n, collect, &d, NULL));
    free(s);
    AK_ASSERT_EQ_INT(d.n, 3);
    for (size_t i = 0; i < d.n; i++) {
        struct ak_obs_list l = {0};
        AK_ASSERT_OK(ak_events_parse(d.v[i], strlen(d.v[i]), NULL, &l, NULL));
        AK_ASSERT_EQ_INT(l.n, 1);
        struct ak_obs *o = &l.v[0];
        if (!key)
            key = strdup(o->key);
        AK_ASSERT_STR(o->key, key);
        AK_ASSERT_STR(o->kind, "hardware-maintenance");
        AK_ASSERT_STR(o->service, "rds");
        AK_ASSERT_STR(o->status, "scheduled"); /* upcoming */
        AK_ASSERT_EQ_INT(o->total_pages, 3);
        AK_ASSERT(o->page >= 1 && o->page <= 3);
        seen |= 1 << o->page;
        AK_ASSERT_EQ_INT(o->n_resources, 2);
        char want[80];
        snprintf(want, sizeof(want), "arn:aws:rds:us-west-2:123456789012:db:orders-%d",
                 o->page * 2);
        AK_ASSERT_STR(o->resources[1], want);
        AK_ASSERT_CONTAINS(o->description, "hardware maintenance is scheduled"); /* en_US */
        AK_ASSERT_EQ_INT(o->deadline, T("2019-03-14T07:00:00Z"));
        AK_ASSERT_STR(ak_kind_family(o->service, o->kind), "rds-host");
        ak_obs_list_release(&l);
    }
    AK_ASSERT_EQ_INT(seen, 0xE);
    AK_ASSERT_STR(key, "health:123456789012:arn:aws:health:us-west-2::event/RDS/"
                       "AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED/"
                       "AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED_USW2_20190314_20190321");
    free((char *)key);
    docs_free(&d);
}

/* A Health EventBridge event with the given code, status, category, description, actionability. */
static int health_one(const char *code, const char *status, const char *category,
                      const char *desc, const char *action, int64_t received, struct ak_obs_list *l)
{
    char buf[2048];
    int n = snprintf(buf, sizeof(buf),
                     "{\"version\":\"0\",\"id\":\"1\",\"detail-type\":\"AWS Health Event\","
                     "\"source\":\"aws.health\",\"account\":\"111122223333\",\"time\":"
                     "\"2026-11-01T00:00:00Z\",\"region\":\"eu-west-1\",\"resources\":[],"
                     "\"detail\":{\"eventArn\":\"arn:aws:health:eu-west-1::event/X/%s/1\","
                     "\"service\":\"RDS\",\"eventTypeCode\":\"%s\",\"eventTypeCategory\":\"%s\","
                     "%s%s%s%s%s%s"
                     "\"startTime\":\"Tue, 10 Nov 2026 00:00:00 GMT\","
                     "\"eventDescription\":[{\"language\":\"en_US\",\"latestDescription\":\"%s\"}],"
                     "\"affectedEntities\":[{\"entityValue\":\"db-1\"}]}}",
                     code, code, category, status ? "\"statusCode\":\"" : "", status ? status : "",
                     status ? "\"," : "", action ? "\"actionability\":\"" : "",
                     action ? action : "", action ? "\"," : "", desc);
    return ak_events_parse(buf, (size_t)n, &(struct ak_events_ctx){.received_ms = received}, l,
                           NULL);
}

AK_TEST(health_status_mapping)
{
    static const struct {
        const char *status;
        int64_t received;
        const char *want;
    } cases[] = {
        {"upcoming", 0, "scheduled"},
        {"upcoming", 1797000000000, "scheduled"}, /* upcoming stays scheduled */
        {"open", 1793000000000, "scheduled"},     /* 2026-10-26: before the start */
        {"open", 1797000000000, "in-progress"},   /* 2026-12-11: after the start */
        {"closed", 1793000000000, "completed"},
        {NULL, 1797000000000, "in-progress"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ak_obs_list l = {0};
        AK_ASSERT_OK(health_one("AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED", cases[i].status,
                                "scheduledChange", "d", NULL, cases[i].received, &l));
        AK_ASSERT_EQ_INT(l.n, 1);
        printf("# %s -> %s\n", cases[i].status ? cases[i].status : "(none)", l.v[0].status);
        AK_ASSERT_STR(l.v[0].status, cases[i].want);
        ak_obs_list_release(&l);
    }
}

AK_TEST(health_kind_mapping)
{
    static const struct {
        const char *code, *desc, *kind;
        bool required;
    } cases[] = {
        {"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "", "instance-retirement", true},
        {"AWS_EC2_DEDICATED_HOST_RETIREMENT_SCHEDULED", "", "instance-retirement", true},
        {"AWS_EC2_INSTANCE_STOP_SCHEDULED", "", "instance-stop", true},
        {"AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED", "", "system-reboot", false},
        {"AWS_EC2_INSTANCE_REBOOT_FLEXIBLE_MAINTENANCE_SCHEDULED", "", "instance-reboot", false},
        {"AWS_EC2_INSTANCE_NETWORK_MAINTENANCE_SCHEDULED", "", "network-maintenance", false},
        {"AWS_EC2_PERSISTENT_INSTANCE_POWER_MAINTENANCE_SCHEDULED", "", "power-maintenance", false},
        {"AWS_EC2_SYSTEM_MAINTENANCE_EVENT", "", "system-maintenance", false},
        {"AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED", "", "hardware-maintenance", false},
        {"AWS_RDS_MAINTENANCE_SCHEDULED", "A Minor Version upgrade of Aurora is scheduled",
         "minor-version-upgrade", false},
        {"AWS_RDS_MAINTENANCE_SCHEDULED", "Something else entirely", "other", false},
        {"AWS_RDS_AURORA_MINOR_VERSION_UPGRADE_SCHEDULED", "", "minor-version-upgrade", false},
        {"AWS_RDS_MAJOR_VERSION_UPGRADE_REQUIRED", "", "major-version-upgrade", false},
        {"AWS_RDS_OPERATING_SYSTEM_UPGRADE_SCHEDULED", "", "os-upgrade", false},
        {"AWS_RDS_INSTANCE_PATCHING_MAINTENANCE_SCHEDULED", "", "security-patching", false},
        {"AWS_RDS_CERTIFICATE_ROTATION_SCHEDULED", "", "certificate-rotation", false},
        {"AWS_RDS_PLANNED_LIFECYCLE_EVENT", "", "planned-lifecycle", false},
        {"AWS_ELASTICACHE_NODE_REPLACEMENT_SCHEDULED", "", "node-replacement", false},
        {"AWS_ELASTICACHE_SERVICE_UPDATE_AVAILABLE", "", "service-update", false},
        {"AWS_RDS_SOMETHING_NEW", "", "other", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ak_obs_list l = {0};
        AK_ASSERT_OK(health_one(cases[i].code, "upcoming", "scheduledChange", cases[i].desc,
                                NULL, 0, &l));
        printf("# %s -> %s\n", cases[i].code, l.v[0].kind);
        AK_ASSERT_STR(l.v[0].kind, cases[i].kind);
        AK_ASSERT_EQ_INT(l.v[0].required, cases[i].required);
        AK_ASSERT_STR(l.v[0].event_code, cases[i].code);
        ak_obs_list_release(&l);
    }
}

AK_TEST(health_required_by_actionability)
{
    struct ak_obs_list l = {0};

    AK_ASSERT_OK(health_one("AWS_RDS_PLANNED_LIFECYCLE_EVENT", "upcoming", "scheduledChange", "d",
                            "ACTION_REQUIRED", 0, &l));
    AK_ASSERT(l.v[0].required);
    AK_ASSERT_STR(l.v[0].title, "RDS planned lifecycle db-1");
    ak_obs_list_release(&l);
    AK_ASSERT_OK(health_one("AWS_RDS_PLANNED_LIFECYCLE_EVENT", "upcoming", "accountNotification",
                            "d", "ACTION_REQUIRED", 0, &l));
    AK_ASSERT(!l.v[0].required);
    AK_ASSERT_EQ_INT(l.v[0].deadline, 0);
    ak_obs_list_release(&l);
}

AK_TEST(health_api_epoch_seconds)
{
    struct ak_obs_list l = {0};
    struct ak_obs *o;

    AK_ASSERT_OK(parse_file("health-api-describe-events.json", &tokyo, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    o = &l.v[0];
    AK_ASSERT_EQ_INT(o->window_start, 1587462325096);
    AK_ASSERT_EQ_INT(o->window_end, 1587464204774);
    AK_ASSERT_EQ_INT(o->event_time, 1587464204865);
    AK_ASSERT_STR(o->status, "completed");
    AK_ASSERT_STR(o->kind, "other");
    AK_ASSERT_STR(o->region, "us-east-1");
    AK_ASSERT_STR(o->key, "health:210987654321:arn:aws:health:us-east-1::event/EC2/"
                          "AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_VKTXI_EXAMPLE111");
    ak_obs_list_release(&l);
}

/* ---- ElastiCache ------------------------------------------------------------------------- */

#define EC_KEY "elasticache:210987654321:ap-northeast-1:prod-sessions:elasticache-node"

AK_TEST(elasticache_node_replacement_scheduled)
{
    struct ak_obs_list l = {0};
    struct ak_obs *o;
    /* account and region come from the TopicArn alone */
    struct ak_events_ctx c = {.topic_arn = tokyo.topic_arn, .received_ms = 5};

    AK_ASSERT_OK(parse_file("elasticache-node-replacement-scheduled.json", &c, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    o = &l.v[0];
    AK_ASSERT_STR(o->source, "elasticache-sns");
    AK_ASSERT_STR(o->service, "elasticache");
    AK_ASSERT_STR(o->kind, "node-replacement");
    AK_ASSERT_STR(o->status, "scheduled");
    AK_ASSERT_STR(o->event_code, "ElastiCache:NodeReplacementScheduled");
    AK_ASSERT_STR(o->key, EC_KEY);
    AK_ASSERT_STR(o->account, "210987654321");
    AK_ASSERT_STR(o->region, "ap-northeast-1");
    AK_ASSERT_EQ_INT(o->window_start, 1796868000000);
    AK_ASSERT_EQ_INT(o->window_end, 1796868000000 + 3600000);
    AK_ASSERT_EQ_INT(o->deadline, 1796868000000);
    AK_ASSERT_EQ_INT(o->event_time, 5);
    AK_ASSERT(o->required);
    AK_ASSERT_EQ_INT(o->n_resources, 3); /* group (twice: deduped), cluster, node */
    AK_ASSERT_STR(o->resources[0], "prod-sessions");
    AK_ASSERT_STR(o->resources[1], "prod-sessions-0001-001");
    AK_ASSERT_STR(o->resources[2], "0001");
    AK_ASSERT_STR(o->title, "ElastiCache node replacement prod-sessions (+2 more)");
    AK_ASSERT_CONTAINS(o->description, "Cache Node ID: 0001");
    ak_obs_list_release(&l);
}

AK_TEST(elasticache_reschedule_window)
{
    struct ak_obs_list l = {0};

    AK_ASSERT_OK(parse_file("elasticache-node-replacement-rescheduled.json", &tokyo, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    AK_ASSERT_STR(l.v[0].status, "rescheduled");
    AK_ASSERT_STR(l.v[0].key, EC_KEY);
    /* the new window, not the previous one */
    AK_ASSERT_EQ_INT(l.v[0].window_start, 1797472800000);
    AK_ASSERT_EQ_INT(l.v[0].window_end, 1797472800000 + 3600000);
    AK_ASSERT_EQ_INT(l.v[0].deadline, 1797472800000);
    ak_obs_list_release(&l);
}

AK_TEST(elasticache_lifecycle_same_key)
{
    static const struct {
        const char *file, *status;
        int64_t start;
    } cases[] = {
        {"elasticache-node-replacement-canceled.json", "canceled", 1797472800000},
        {"elasticache-node-replace-started.json", "in-progress", 0},
        {"elasticache-node-replace-complete.json", "completed", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ak_obs_list l = {0};
        AK_ASSERT_OK(parse_file(cases[i].file, &tokyo, &l, NULL));
        AK_ASSERT_EQ_INT(l.n, 1);
        AK_ASSERT_STR(l.v[0].status, cases[i].status);
        AK_ASSERT_STR(l.v[0].kind, "node-replacement");
        AK_ASSERT_STR(l.v[0].key, EC_KEY);
        AK_ASSERT_EQ_INT(l.v[0].window_start, cases[i].start);
        ak_obs_list_release(&l);
    }
}

AK_TEST(elasticache_service_update)
{
    struct ak_obs_list l = {0};

    AK_ASSERT_OK(parse_file("elasticache-service-update-for-node.json", &tokyo, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    AK_ASSERT_STR(l.v[0].kind, "service-update");
    AK_ASSERT_STR(l.v[0].status, "scheduled");
    AK_ASSERT(!l.v[0].required);
    AK_ASSERT_STR(l.v[0].key, "elasticache:210987654321:ap-northeast-1:production-sessions-store:"
                              "elasticache-node:elasticache-20260608-intel");
    AK_ASSERT_STR(l.v[0].title, "ElastiCache service update elasticache-20260608-intel for "
                                "production-sessions-store");
    ak_obs_list_release(&l);
}

AK_TEST(elasticache_not_maintenance)
{
    static const char *const files[][2] = {
        {"elasticache-snapshot-complete.json", "ElastiCache:SnapshotComplete is not a maintenance"},
        {"elasticache-failover-complete.json", "ElastiCache:FailoverComplete is not a maintenance"},
    };
    for (size_t i = 0; i < 2; i++) {
        struct ak_obs_list l = {.n = 99};
        struct ak_buf why = AK_BUF_INIT(1024);
        AK_ASSERT_OK(parse_file(files[i][0], &tokyo, &l, &why));
        AK_ASSERT_EQ_INT(l.n, 0);
        AK_ASSERT_CONTAINS(why.buf, files[i][1]);
        ak_buf_release(&why);
    }
}

/* ---- RDS ----------------------------------------------------------------------------------- */

AK_TEST(rds_sns_maintenance_ids)
{
    static const struct {
        const char *file, *kind, *status, *key;
    } cases[] = {
        {"rds-sns-0230-system-update.json", "security-patching", "scheduled",
         "rds:210987654321:ap-northeast-1:orders-db:rds-host"},
        {"rds-sns-0026-patching.json", "security-patching", "in-progress",
         "rds:210987654321:ap-northeast-1:orders-db:rds-host"},
        /* no Source ARN: account and region from the context give the same key */
        {"rds-sns-0027-patched.json", "security-patching", "completed",
         "rds:210987654321:ap-northeast-1:orders-db:rds-host"},
        {"rds-sns-0155-minor-available.json", "minor-version-upgrade", "scheduled",
         "rds:210987654321:ap-northeast-1:orders-db:rds-engine"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ak_obs_list l = {0};
        AK_ASSERT_OK(parse_file(cases[i].file, &tokyo, &l, NULL));
        AK_ASSERT_EQ_INT(l.n, 1);
        AK_ASSERT_STR(l.v[0].source, "rds-sns");
        AK_ASSERT_STR(l.v[0].service, "rds");
        AK_ASSERT_STR(l.v[0].kind, cases[i].kind);
        AK_ASSERT_STR(l.v[0].status, cases[i].status);
        AK_ASSERT_STR(l.v[0].key, cases[i].key);
        AK_ASSERT_EQ_INT(l.v[0].event_time, T("2026-11-20T03:14:07.512Z"));
        AK_ASSERT(strncmp(l.v[0].event_code, "RDS-EVENT-0", 11) == 0);
        AK_ASSERT_CONTAINS(l.v[0].title, "orders-db");
        ak_obs_list_release(&l);
    }
}

AK_TEST(rds_not_maintenance)
{
    struct ak_obs_list l = {.n = 7};
    struct ak_buf why = AK_BUF_INIT(1024);

    AK_ASSERT_OK(parse_file("rds-sns-0002-backup.json", &tokyo, &l, &why));
    AK_ASSERT_EQ_INT(l.n, 0);
    AK_ASSERT_CONTAINS(why.buf,
                       "RDS-EVENT-0002 (Finished DB Instance backup) is not a maintenance");
    ak_buf_reset(&why);
    /* the AWS Lambda sample: Records[0].Sns.Message is a backup event */
    AK_ASSERT_OK(raw_file("rds-lambda-records.json", 0, &l, &why));
    AK_ASSERT_EQ_INT(l.n, 0);
    AK_ASSERT_CONTAINS(why.buf, "RDS-EVENT-0002");
    ak_buf_reset(&why);
    AK_ASSERT_OK(raw_file("rds-eventbridge-failover.json", 0, &l, &why));
    AK_ASSERT_EQ_INT(l.n, 0);
    AK_ASSERT_CONTAINS(why.buf, "RDS-EVENT-0049");
    ak_buf_reset(&why);
    /* the first message of a subscription is prose */
    AK_ASSERT_OK(parse_file("rds-sns-subscription-notice.txt", &tokyo, &l, &why));
    AK_ASSERT_EQ_INT(l.n, 0);
    AK_ASSERT_CONTAINS(why.buf, "subscription notice");
    ak_buf_release(&why);
}

AK_TEST(rds_eventbridge_os_upgrade)
{
    struct ak_obs_list l = {0};

    AK_ASSERT_OK(raw_file("rds-eventbridge-0289-os-upgrade.json", 0, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    AK_ASSERT_STR(l.v[0].source, "rds-eventbridge");
    AK_ASSERT_STR(l.v[0].kind, "os-upgrade");
    AK_ASSERT_STR(l.v[0].status, "completed");
    AK_ASSERT_STR(l.v[0].key, "rds:210987654321:ap-northeast-1:billing-aurora:rds-host");
    AK_ASSERT_EQ_INT(l.v[0].n_resources, 1);
    AK_ASSERT_STR(l.v[0].resources[0],
                  "arn:aws:rds:ap-northeast-1:210987654321:cluster:billing-aurora");
    AK_ASSERT_EQ_INT(l.v[0].event_time, T("2026-11-21T01:02:03.456Z"));
    AK_ASSERT_STR(l.v[0].title, "RDS os upgrade billing-aurora");
    ak_obs_list_release(&l);
}

AK_TEST(rds_engine_upgrade_and_unknown_maintenance)
{
    static const char up[] =
        "{\"Event Source\":\"db-instance\",\"Event Time\":\"2026-11-20 03:00:00.000\","
        "\"Source ID\":\"db9\",\"Event ID\":\"https://docs.aws.amazon.com/x#RDS-EVENT-0268\","
        "\"Event Message\":\"Major engine version upgrade finished.\"}";
    static const char eb[] =
        "{\"source\":\"aws.rds\",\"detail-type\":\"RDS DB Instance Event\",\"account\":\"1\","
        "\"region\":\"r\",\"detail\":{\"EventCategories\":[\"maintenance\"],"
        "\"SourceIdentifier\":\"db9\",\"Message\":\"new\",\"EventID\":\"RDS-EVENT-0354\"}}";
    static const char bad[] = "{\"Event ID\":\"#RDS-EVENT-12\",\"Source ID\":\"db9\"}";
    struct ak_obs_list l = {0};
    struct ak_buf why = AK_BUF_INIT(1024);

    AK_ASSERT_OK(ak_events_parse(up, strlen(up), &tokyo, &l, NULL));
    AK_ASSERT_STR(l.v[0].kind, "major-version-upgrade");
    AK_ASSERT_STR(l.v[0].status, "completed");
    AK_ASSERT_STR(l.v[0].key, "rds:210987654321:ap-northeast-1:db9:rds-engine");
    ak_obs_list_release(&l);
    AK_ASSERT_OK(ak_events_parse(eb, strlen(eb), NULL, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1); /* unknown id in the maintenance category: kept */
    AK_ASSERT_STR(l.v[0].kind, "other");
    AK_ASSERT_STR(l.v[0].key, "rds:1:r:db9:rds-other");
    ak_obs_list_release(&l);
    AK_ASSERT_EQ_INT(ak_events_parse(bad, strlen(bad), NULL, &l, &why), AK_EINVAL);
    AK_ASSERT_CONTAINS(why.buf, "RDS-EVENT-NNNN");
    ak_buf_release(&why);
}

/* ---- everything else ------------------------------------------------------------------- */

AK_TEST(ec2_state_change_and_confirmations)
{
    struct ak_obs_list l = {.n = 3};
    struct ak_buf why = AK_BUF_INIT(1024);

    AK_ASSERT_OK(raw_file("ec2-state-change.json", 0, &l, &why));
    AK_ASSERT_EQ_INT(l.n, 0);
    AK_ASSERT_CONTAINS(why.buf, "EC2 Instance State-change Notification");
    ak_buf_reset(&why);
    AK_ASSERT_OK(raw_file("sns-subscription-confirmation-sv1.json", 0, &l, &why));
    AK_ASSERT_EQ_INT(l.n, 0);
    AK_ASSERT_CONTAINS(why.buf, "SubscriptionConfirmation");
    ak_buf_release(&why);
}

AK_TEST(unknown_and_invalid_payloads)
{
    static const char unknown[] = "{\"hello\":\"world\"}";
    static const char other_src[] =
        "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{}}";
    static const char broken[] = "{\"source\": \"aws.health\",\n  \"detail\": {\"x\" 1}}";
    static const char text[] = "This message uses signature version 2.";
    struct ak_obs_list l = {.n = 5};
    struct ak_buf why = AK_BUF_INIT(1024);
    size_t n;
    char *s;

    AK_ASSERT_EQ_INT(ak_events_parse(unknown, strlen(unknown), NULL, &l, &why), AK_EUNSUPPORTED);
    AK_ASSERT(why.len > 0);
    ak_buf_reset(&why);
    AK_ASSERT_EQ_INT(ak_events_parse(other_src, strlen(other_src), NULL, &l, &why),
                     AK_EUNSUPPORTED);
    AK_ASSERT_CONTAINS(why.buf, "aws.s3");
    ak_buf_reset(&why);
    AK_ASSERT_EQ_INT(ak_events_parse(broken, strlen(broken), NULL, &l, &why), AK_EINVAL);
    AK_ASSERT_CONTAINS(why.buf, "line 2, column");
    ak_buf_reset(&why);
    AK_ASSERT_EQ_INT(ak_events_parse_raw(broken, strlen(broken), 0, &l, &why), AK_EINVAL);
    AK_ASSERT_CONTAINS(why.buf, "line 2");
    ak_buf_reset(&why);
    AK_ASSERT_EQ_INT(ak_events_parse(text, strlen(text), NULL, &l, &why), AK_EUNSUPPORTED);
    ak_buf_reset(&why);
    /* a real SNS test notification: plain-text Message */
    s = ak_test_read_file(D "sns-notification-sv2.json", &n);
    AK_ASSERT_EQ_INT(ak_events_parse_raw(s, n, 0, &l, &why), AK_EUNSUPPORTED);
    AK_ASSERT_CONTAINS(why.buf, "plain text");
    free(s);
    AK_ASSERT_EQ_INT(l.n, 5); /* never written on failure */
    ak_buf_release(&why);
}

AK_TEST(split_array_ndjson_concatenated)
{
    static const char arr[] = " [ {\"a\": 1}, {\"b\": [2, 3]} ]\n";
    static const char nd[] = "{\"a\":1}\n\n{\"b\":2}\r\n  {\"c\":3}\n";
    static const char cat[] = "{\"a\":1}{\"b\":2}[{\"c\":3}]";
    struct docs d = {0};

    AK_ASSERT_OK(ak_events_split(arr, strlen(arr), collect, &d, NULL));
    AK_ASSERT_EQ_INT(d.n, 2);
    AK_ASSERT_STR(d.v[0], "{\"a\":1}"); /* re-serialised compactly */
    AK_ASSERT_STR(d.v[1], "{\"b\":[2,3]}");
    AK_ASSERT_EQ_INT(d.idx[1], 1);
    docs_free(&d);
    AK_ASSERT_OK(ak_events_split(nd, strlen(nd), collect, &d, NULL));
    AK_ASSERT_EQ_INT(d.n, 3);
    AK_ASSERT_STR(d.v[2], "{\"c\":3}"); /* exact bytes */
    AK_ASSERT_EQ_INT(d.idx[2], 2);
    docs_free(&d);
    AK_ASSERT_OK(ak_events_split(cat, strlen(cat), collect, &d, NULL));
    AK_ASSERT_EQ_INT(d.n, 3);
    AK_ASSERT_STR(d.v[1], "{\"b\":2}");
    AK_ASSERT_STR(d.v[2], "{\"c\":3}");
    docs_free(&d);
    AK_ASSERT_OK(ak_events_split(" \n\t", 3, collect, &d, NULL));
    AK_ASSERT_EQ_INT(d.n, 0);
    /* a callback error stops the split and is returned */
    d.stop_at = 2;
    AK_ASSERT_EQ_INT(ak_events_split(nd, strlen(nd), collect, &d, NULL), 42);
    AK_ASSERT_EQ_INT(d.n, 2);
    docs_free(&d);
}

AK_TEST(split_errors_with_position)
{
    static const char bad[] = "{\"a\":1}\n{\"b\":2}\n{\"c\" 3}\n";
    static const char scalar[] = "{\"a\":1}\n42\n";
    static const char items[] = "[{\"a\":1}, 7]";
    struct docs d = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    char *big;

    AK_ASSERT_EQ_INT(ak_events_split(bad, strlen(bad), collect, &d, &err), AK_EINVAL);
    printf("# %s\n", err.buf);
    AK_ASSERT_CONTAINS(err.buf, "document 3: line 3, column ");
    AK_ASSERT_EQ_INT(d.n, 2);
    docs_free(&d);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_events_split(scalar, strlen(scalar), collect, &d, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "document 2: line 2, column 1: expected a JSON object");
    docs_free(&d);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_events_split(items, strlen(items), collect, &d, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "document 2:");
    docs_free(&d);
    ak_buf_reset(&err);
    /* a raw NUL byte (jansson would skip it silently) */
    AK_ASSERT_EQ_INT(ak_events_split("{\"a\":1}\n{\"b\":2\0}", 16, collect, &d, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "document 2: line 2, column 7: NUL byte");
    AK_ASSERT_EQ_INT(d.n, 1);
    docs_free(&d);
    ak_buf_reset(&err);
    big = calloc(1, 32 * 1024 * 1024 + 1);
    AK_ASSERT_EQ_INT(ak_events_split(big, 32 * 1024 * 1024 + 1, collect, &d, &err), AK_ETOOBIG);
    free(big);
    ak_buf_release(&err);
}

AK_TEST(kind_family)
{
    AK_ASSERT_STR(ak_kind_family("elasticache", "node-replacement"), "elasticache-node");
    AK_ASSERT_STR(ak_kind_family("elasticache", "service-update"), "elasticache-node");
    AK_ASSERT_STR(ak_kind_family("rds", "hardware-maintenance"), "rds-host");
    AK_ASSERT_STR(ak_kind_family("rds", "os-upgrade"), "rds-host");
    AK_ASSERT_STR(ak_kind_family("rds", "security-patching"), "rds-host");
    AK_ASSERT_STR(ak_kind_family("rds", "system-update"), "rds-host");
    AK_ASSERT_STR(ak_kind_family("rds", "minor-version-upgrade"), "rds-engine");
    AK_ASSERT_STR(ak_kind_family("rds", "major-version-upgrade"), "rds-engine");
    AK_ASSERT_STR(ak_kind_family("ec2", "instance-retirement"), "ec2-host");
    AK_ASSERT_STR(ak_kind_family("ec2", "power-maintenance"), "ec2-host");
    AK_ASSERT_STR(ak_kind_family("ec2", "system-reboot"), "ec2-host");
    AK_ASSERT_STR(ak_kind_family("ecs", "instance-retirement"), "ecs-instance-retirement");
    AK_ASSERT_STR(ak_kind_family("rds", "certificate-rotation"), "rds-certificate-rotation");
    AK_ASSERT_STR(ak_kind_family(NULL, NULL), "unknown-other");
    /* two fallbacks in one expression stay distinct */
    AK_ASSERT(strcmp(ak_kind_family("eks", "planned-lifecycle"),
                     ak_kind_family("rds", "planned-lifecycle")) != 0);
}

/* ---- resource tags ------------------------------------------------------------------------ */

AK_TEST(health_entity_tags_merged)
{
    struct ak_obs_list l = {0};

    /* later entities win; non-string values and empty keys are skipped */
    AK_ASSERT_OK(raw_file("health-ec2-retirement-tags.json", 0, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    AK_ASSERT_EQ_INT(l.v[0].n_resources, 3);
    AK_ASSERT_STR(l.v[0].tags, "{\"env\":\"prod\",\"team\":\"db\",\"cost-center\":\"42\","
                               "\"app\":\"orders\"}");
    ak_obs_list_release(&l);
    AK_ASSERT_OK(raw_file("health-ec2-minimal-test.json", 0, &l, NULL));
    AK_ASSERT_STR(l.v[0].tags, "{\"stage\":\"prod\",\"app\":\"my-app\"}");
    ak_obs_list_release(&l);
    /* no tags anywhere (or only empty objects): NULL, not "{}" */
    AK_ASSERT_OK(raw_file("health-ec2-retirement-custodian.json", 0, &l, NULL));
    AK_ASSERT_NULL(l.v[0].tags);
    ak_obs_list_release(&l);
}

AK_TEST(health_entity_tags_capped)
{
    struct ak_buf ev = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_obs_list l = {0};
    char big[300];

    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ak_buf_add(&ev, "{\"detail-type\": \"AWS Health Event\", \"source\": \"aws.health\", "
                    "\"account\": \"1\", \"time\": \"2026-11-20T02:00:00Z\", \"detail\": "
                    "{\"eventArn\": \"arn:aws:health:us-east-1::event/EC2/X/1\", "
                    "\"eventTypeCode\": \"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED\", "
                    "\"affectedEntities\": [{\"entityValue\": \"i-1\", \"tags\": {");
    for (int i = 0; i < 150; i++)
        ak_buf_addf(&ev, "%s\"k%03d\": \"v\"", i ? ", " : "", i);
    ak_buf_addf(&ev, ", \"long\": \"%s\"}}, {\"entityValue\": \"i-2\", \"tags\": "
                     "{\"k000\": \"last\", \"k149\": \"x\"}}]}}", big);
    AK_ASSERT_OK(ak_events_parse(ev.buf, ev.len, &tokyo, &l, NULL));
    AK_ASSERT_EQ_INT(l.n, 1);
    AK_ASSERT(l.v[0].tags != NULL);
    /* 100 distinct keys at most; an overlong value is skipped; existing keys still update */
    AK_ASSERT_CONTAINS(l.v[0].tags, "{\"k000\":\"last\",\"k001\":\"v\"");
    AK_ASSERT_CONTAINS(l.v[0].tags, "\"k099\":\"v\"}");
    AK_ASSERT(strstr(l.v[0].tags, "k100") == NULL);
    AK_ASSERT(strstr(l.v[0].tags, "k149") == NULL);
    AK_ASSERT(strstr(l.v[0].tags, "long") == NULL);
    ak_obs_list_release(&l);
    ak_buf_release(&ev);
}

AK_TEST_MAIN(AK_T(health_entity_tags_merged), AK_T(health_entity_tags_capped),
             AK_T(sns_parse_sv2_notification), AK_T(sns_string_to_sign_sv2_sha256),
             AK_T(sns_string_to_sign_sv1_subject), AK_T(sns_string_to_sign_confirmations),
             AK_T(sns_lambda_casing_and_null_subject), AK_T(sns_rejects_missing_and_bad_fields),
             AK_T(sns_unsupported_and_too_big), AK_T(sns_looks_like),
             AK_T(health_custodian_ec2_retirement), AK_T(health_minimal_test_event_issue),
             AK_T(health_ecs_bare_detail), AK_T(health_eventbridge_through_sns),
             AK_T(health_three_pages_same_key), AK_T(health_status_mapping),
             AK_T(health_kind_mapping), AK_T(health_required_by_actionability),
             AK_T(health_api_epoch_seconds), AK_T(elasticache_node_replacement_scheduled),
             AK_T(elasticache_reschedule_window), AK_T(elasticache_lifecycle_same_key),
             AK_T(elasticache_service_update), AK_T(elasticache_not_maintenance),
             AK_T(rds_sns_maintenance_ids), AK_T(rds_not_maintenance),
             AK_T(rds_eventbridge_os_upgrade), AK_T(rds_engine_upgrade_and_unknown_maintenance),
             AK_T(ec2_state_change_and_confirmations), AK_T(unknown_and_invalid_payloads),
             AK_T(split_array_ndjson_concatenated), AK_T(split_errors_with_position),
             AK_T(kind_family))
