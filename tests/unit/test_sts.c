/* test_sts.c — the STS twin's wire helpers (form decoding, parameter formats, identifiers).
 * The exchanges themselves are tested end to end with the real aws CLIs and boto3 in
 * tests/integration/test_sts.py. */
#include <stdlib.h>
#include <string.h>

#include "ak_test.h"
#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_jwt.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_util.h"
#include "src/sts/sts_int.h"

AK_TEST(form_parse_decodes_and_later_wins)
{
    struct sts_params p = {0};
    const char *body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                       "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci-deploy"
                       "&RoleSessionName=a+b&Empty=&Flag&Version=2";

    AK_ASSERT_OK(ak__sts_form_parse(body, strlen(body), &p));
    AK_ASSERT_STR(ak__sts_param(&p, "Action"), "AssumeRoleWithWebIdentity");
    AK_ASSERT_STR(ak__sts_param(&p, "RoleArn"), "arn:aws:iam::123456789012:role/ci-deploy");
    AK_ASSERT_STR(ak__sts_param(&p, "RoleSessionName"), "a b");
    AK_ASSERT_STR(ak__sts_param(&p, "Empty"), "");
    AK_ASSERT_STR(ak__sts_param(&p, "Flag"), "");
    AK_ASSERT_STR(ak__sts_param(&p, "Version"), "2");
    AK_ASSERT_NULL(ak__sts_param(&p, "Missing"));
    AK_ASSERT_EQ_INT(p.n, 6);
    ak__sts_params_release(&p);
}

AK_TEST(form_parse_refuses_bad_escapes_and_nul)
{
    static const char *bad[] = {"a=%4", "a=%zz", "a=%", "a=%00", "%4=1", "x=1&a=%4g"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sts_params p = {0};
        AK_ASSERT_EQ_INT(ak__sts_form_parse(bad[i], strlen(bad[i]), &p), AK_EINVAL);
        ak__sts_params_release(&p);
    }
    /* length-bounded: bytes past len are not read */
    struct sts_params p = {0};
    AK_ASSERT_OK(ak__sts_form_parse("a=%41%zz", 5, &p));
    AK_ASSERT_STR(ak__sts_param(&p, "a"), "A");
    ak__sts_params_release(&p);
}

/* Regression: each insert scans the list, so a 256 KiB body of tiny distinct pairs cost ~2 s of
 * CPU per unauthenticated request; distinct names are capped, repeats are not counted. */
AK_TEST(form_parse_caps_distinct_names)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    struct sts_params p = {0}, q = {0}, big = {0};

    for (int i = 0; i < STS_PARAMS_MAX; i++)
        ak_buf_addf(&b, "%sk%d=v", i ? "&" : "", i);
    for (int i = 0; i < 1000; i++)
        ak_buf_add(&b, "&k0=again");
    AK_ASSERT_OK(ak__sts_form_parse(b.buf, b.len, &p));
    AK_ASSERT_EQ_INT(p.n, STS_PARAMS_MAX);
    AK_ASSERT_STR(ak__sts_param(&p, "k0"), "again");
    ak_buf_add(&b, "&one-too-many=x");
    AK_ASSERT_EQ_INT(ak__sts_form_parse(b.buf, b.len, &q), AK_EINVAL);
    ak_buf_reset(&b);
    for (int i = 0; i < 30000; i++)
        ak_buf_addf(&b, "k%d=&", i);
    AK_ASSERT_EQ_INT(ak__sts_form_parse(b.buf, b.len, &big), AK_EINVAL);
    ak__sts_params_release(&p);
    ak__sts_params_release(&q);
    ak__sts_params_release(&big);
    ak_buf_release(&b);
}

/* Regression: with no keys cached (IdP down), every exchange used to fetch again, blocking a
 * worker on the provider's mutex for a whole fetch timeout each: the refetch interval must hold
 * there too. 127.0.0.3:443 has no listener (connection refused at once). */
AK_TEST(keys_fetch_is_rate_limited_without_keys)
{
    static const char *labels = "result=\"error\"";
    struct ak_cfg cfg;
    struct ak_cfg_oidc_provider pc;
    struct ak_sts s;
    struct sts_provider p;
    struct ak_jwt t;
    struct ak_buf why = AK_BUF_INIT(2048);
    static const char hdr[] = "{\"alg\":\"RS256\",\"kid\":\"k1\"}";
    char *h = ak_base64url_encode(hdr, strlen(hdr));
    char *c = ak_base64url_encode("{}", 2), *tok = ak_xasprintf("%s.%s.AAAA", h, c);
    double before;

    ak_httpc_global_init();
    memset(&cfg, 0, sizeof(cfg));
    memset(&pc, 0, sizeof(pc));
    memset(&s, 0, sizeof(s));
    memset(&p, 0, sizeof(p));
    pc.url = (char *)"https://127.0.0.3/dead";
    cfg.sts_jwks_ttl_ms = 3600 * 1000;
    cfg.sts_jwks_refetch_ms = 60 * 1000;
    s.cfg = &cfg;
    p.cfg = &pc;
    p.host_path = pc.url + 8;
    AK_ASSERT_OK(ak__sts_keys_init(&p, NULL));
    AK_ASSERT_OK(ak_jwt_parse(tok, strlen(tok), &t, NULL));
    before = ak_metrics_get("asakai_sts_jwks_fetches_total", labels);
    AK_ASSERT_EQ_INT(ak__sts_keys_verify(&s, &p, &t, &why), STS_V_IDP);
    AK_ASSERT_CONTAINS(why.buf, "cannot fetch the provider's keys");
    for (int i = 0; i < 3; i++) {
        ak_buf_reset(&why);
        AK_ASSERT_EQ_INT(ak__sts_keys_verify(&s, &p, &t, &why), STS_V_IDP);
        AK_ASSERT_CONTAINS(why.buf, "not available (last fetch failed)");
    }
    AK_ASSERT_EQ_INT((int)(ak_metrics_get("asakai_sts_jwks_fetches_total", labels) - before), 1);
    ak_jwt_release(&t);
    ak__sts_keys_release(&p);
    ak_buf_release(&why);
    free(h);
    free(c);
    free(tok);
}

AK_TEST(session_name_rules)
{
    AK_ASSERT(ak__sts_session_name_ok("ci"));
    AK_ASSERT(ak__sts_session_name_ok("circleci-oidc_1+=,.@x"));
    AK_ASSERT(!ak__sts_session_name_ok("x"));
    AK_ASSERT(!ak__sts_session_name_ok("Session1:2"));
    AK_ASSERT(!ak__sts_session_name_ok("has space"));
    AK_ASSERT(!ak__sts_session_name_ok("a/b"));
    char long65[66];
    memset(long65, 'a', 65);
    long65[65] = 0;
    AK_ASSERT(!ak__sts_session_name_ok(long65));
    long65[64] = 0;
    AK_ASSERT(ak__sts_session_name_ok(long65));
}

AK_TEST(role_arn_parse)
{
    const char *acct, *name;
    size_t n;

    AK_ASSERT(ak__sts_role_arn_parse("arn:aws:iam::123456789012:role/ci-deploy", &acct, &name, &n));
    AK_ASSERT(strncmp(acct, "123456789012", 12) == 0);
    AK_ASSERT_STR(name, "ci-deploy");
    AK_ASSERT_EQ_INT(n, 9);
    /* the path is dropped from the name */
    AK_ASSERT(ak__sts_role_arn_parse("arn:aws:iam::123456789012:role/team/a/deploy", &acct,
                                     &name, &n));
    AK_ASSERT_STR(name, "deploy");
    AK_ASSERT(!ak__sts_role_arn_parse("nothing-valid-in-here", &acct, &name, &n));
    AK_ASSERT(!ak__sts_role_arn_parse("arn:aws:iam::12345678901:role/x", &acct, &name, &n));
    AK_ASSERT(!ak__sts_role_arn_parse("arn:aws:iam::123456789012:user/x", &acct, &name, &n));
    AK_ASSERT(!ak__sts_role_arn_parse("arn:aws:iam::123456789012:role/", &acct, &name, &n));
    AK_ASSERT(!ak__sts_role_arn_parse("arn:aws:iam::123456789012:role/a b", &acct, &name, &n));
}

AK_TEST(xml_escape)
{
    struct ak_buf b = AK_BUF_INIT(1024);
    ak__sts_xml_escape(&b, "a<b>&\"c'");
    AK_ASSERT_STR(b.buf, "a&lt;b&gt;&amp;&quot;c&apos;");
    ak_buf_release(&b);
}

static bool b32_only(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '2' && *s <= '7')))
            return false;
    return true;
}

AK_TEST(identifiers)
{
    char a[22], b[22], c[22], k1[21], k2[21], id[40];

    ak__sts_role_unique_id("arn:aws:iam::123456789012:role/ci-deploy", a);
    ak__sts_role_unique_id("arn:aws:iam::123456789012:role/ci-deploy", b);
    ak__sts_role_unique_id("arn:aws:iam::123456789012:role/other", c);
    AK_ASSERT_EQ_INT(strlen(a), 21);
    AK_ASSERT(strncmp(a, "AROA", 4) == 0 && b32_only(a + 4));
    AK_ASSERT_STR(a, b); /* stable */
    AK_ASSERT(strcmp(a, c) != 0);

    AK_ASSERT_OK(ak__sts_new_akid(k1));
    AK_ASSERT_OK(ak__sts_new_akid(k2));
    AK_ASSERT_EQ_INT(strlen(k1), 20);
    AK_ASSERT(strncmp(k1, "ASIA", 4) == 0 && b32_only(k1 + 4));
    AK_ASSERT(strcmp(k1, k2) != 0);

    ak__sts_request_id(id);
    AK_ASSERT_EQ_INT(strlen(id), 36);
    AK_ASSERT(id[8] == '-' && id[13] == '-' && id[14] == '4' && id[18] == '-' && id[23] == '-');
}

AK_TEST_MAIN(AK_T(form_parse_decodes_and_later_wins), AK_T(form_parse_refuses_bad_escapes_and_nul),
             AK_T(form_parse_caps_distinct_names), AK_T(keys_fetch_is_rate_limited_without_keys),
             AK_T(session_name_rules), AK_T(role_arn_parse), AK_T(xml_escape), AK_T(identifiers))
