/* Unit tests for src/iam: parsing, IAM evaluation semantics with their explanations, the
 * request context from claims, the audit rules (one fixture that fires and one near miss per
 * rule, under tests/data/iam/), counter-examples, JSON/SARIF, and `oidc init`. */
#include "ak_test.h"

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_iam.h"
#include "asakai/ak_json.h"

#define PROV "p.example"
#define ARN "arn:aws:iam::123456789012:oidc-provider/" PROV
#define GH "token.actions.githubusercontent.com"
#define ORG "1a2b3c4d-2222-4333-8444-555555555555"
#define PID "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define CC "oidc.circleci.com/org/" ORG

/* ---- helpers ----------------------------------------------------------------------------- */

static struct ak_iam_policy *parse(const char *text, struct ak_buf *err)
{
    struct ak_iam_policy *p = NULL;
    if (ak_iam_policy_parse(text, strlen(text), &p, err) != AK_OK)
        return NULL;
    return p;
}

/* "name=v1|v2;name2=v" → keys (static storage: one context at a time) */
static struct ak_iam_key g_keys[16];
static const char *g_vals[16][8];
static char g_spec[1024];

static size_t make_keys(const char *spec)
{
    size_t n = 0;
    snprintf(g_spec, sizeof(g_spec), "%s", spec ? spec : "");
    for (char *s = g_spec; *s && n < 16;) {
        char *end = strchr(s, ';'), *eq;
        if (end)
            *end = 0;
        eq = strchr(s, '=');
        if (eq) {
            size_t nv = 0;
            *eq = 0;
            for (char *v = eq + 1; v && nv < 8;) {
                char *bar = strchr(v, '|');
                if (bar)
                    *bar = 0;
                g_vals[n][nv++] = v;
                v = bar ? bar + 1 : NULL;
            }
            g_keys[n] = (struct ak_iam_key){s, g_vals[n], nv};
            n++;
        }
        if (!end)
            break;
        s = end + 1;
    }
    return n;
}

static int eval_full(const char *policy, const char *principal, const char *action,
                     const char *keys, struct ak_iam_result *res)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_iam_policy *p = parse(policy, &err);
    if (!p) {
        printf("# parse failed: %s\n", err.buf);
        ak_buf_release(&err);
        return -100;
    }
    struct ak_iam_ctx ctx = {"Federated", principal, action, g_keys, make_keys(keys)};
    ak_iam_evaluate(p, &ctx, res);
    ak_iam_policy_free(p);
    ak_buf_release(&err);
    return (int)res->decision;
}

/* One Allow statement for ARN with the given Condition block. */
static int eval_cond(const char *cond, const char *keys, struct ak_iam_result *res)
{
    char policy[4096];
    snprintf(policy, sizeof(policy),
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"S\",\"Effect\":\"Allow\","
             "\"Principal\":{\"Federated\":\"" ARN "\"},\"Action\":"
             "\"sts:AssumeRoleWithWebIdentity\",\"Condition\":%s}]}",
             cond);
    return eval_full(policy, ARN, "sts:AssumeRoleWithWebIdentity", keys, res);
}

/* ---- parsing ----------------------------------------------------------------------------- */

AK_TEST(parse_duplicate_key_names_json_path)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    const char *t = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                    "\"Principal\":{\"Federated\":\"" ARN "\"},\"Action\":\"sts:x\","
                    "\"Condition\":{\"StringEquals\":{\"" PROV ":sub\":\"a\",\"" PROV
                    ":sub\":\"b\"}}}]}";
    AK_ASSERT_NULL(parse(t, &err));
    AK_ASSERT_CONTAINS(err.buf,
                       "$.Statement[0].Condition.StringEquals[\"" PROV ":sub\"]: duplicate key");
    ak_buf_reset(&err);
    /* the same key spelt with an escape is still the same key, as in IAM */
    t = "{\"Statement\":{\"Effect\":\"Allow\",\"Effect\":\"Deny\",\"Principal\":\"*\","
        "\"Action\":\"*\"}}";
    AK_ASSERT_NULL(parse(t, &err));
    AK_ASSERT_CONTAINS(err.buf, "$.Statement.Effect: duplicate key");
    ak_buf_reset(&err);
    t = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
        "\"Condition\":{\"Bool\":{\"a\":\"true\",\"\\u0061\":\"false\"}}}]}";
    AK_ASSERT_NULL(parse(t, &err));
    AK_ASSERT_CONTAINS(err.buf, "$.Statement[0].Condition.Bool.a: duplicate key");
    ak_buf_release(&err);
}

AK_TEST(parse_errors)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_iam_policy *p = NULL;
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"Statement\":[{\"Principal\":\"*\",\"Action\":\"*\"}]}", "$.Statement[0]: no Effect"},
        {"{\"Statement\":[{\"Effect\":\"allow\",\"Principal\":\"*\",\"Action\":\"*\"}]}",
         "neither Allow nor Deny"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
         "\"Condition\":{\"StringLikeX\":{\"k\":\"v\"}}}]}",
         "$.Statement[0].Condition.StringLikeX: unknown condition operator"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
         "\"Condition\":{\"ForAnyValue:Null\":{\"k\":\"true\"}}}]}", "unknown condition operator"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Robot\":\"x\"},"
         "\"Action\":\"*\"}]}", "unknown principal type"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}]}", "Principal"},
        {"{\"Statement\":[]}", "no Statement"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"k\":null}}}]}", "StringEquals.k: expected"},
        {"[1]", "must be a JSON object"},
        {"{\"Statement\":", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(ak_iam_policy_parse(bad[i].text, strlen(bad[i].text), &p, &err),
                         AK_EINVAL);
        AK_ASSERT_CONTAINS(err.buf, bad[i].want);
    }
    char *big = calloc(1, AK_IAM_POLICY_MAX + 2);
    memset(big, ' ', AK_IAM_POLICY_MAX + 1);
    AK_ASSERT_EQ_INT(ak_iam_policy_parse(big, AK_IAM_POLICY_MAX + 1, &p, &err), AK_ETOOBIG);
    free(big);
    /* a lone statement object, numbers and booleans as condition values */
    const char *ok = "{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\","
                     "\"NotAction\":[\"sts:TagSession\"],\"Resource\":\"*\",\"Condition\":"
                     "{\"NumericLessThan\":{\"n\":[1,2.5]},\"Bool\":{\"b\":true}}}}";
    AK_ASSERT_OK(ak_iam_policy_parse(ok, strlen(ok), &p, &err));
    ak_iam_policy_free(p);
    ak_iam_policy_free(NULL);
    ak_buf_release(&err);
}

/* ---- evaluation table -------------------------------------------------------------------- */

struct evcase {
    const char *cond, *keys;
    int want;
    const char *why; /* substring of the explanation, NULL: not checked */
};

#define K(x) "\"" PROV ":" x "\""
#define ALLOW AK_IAM_ALLOW
#define DENY AK_IAM_IMPLICIT_DENY

static const struct evcase cases[] = {
    /* string operators, keys case-insensitive, values case-sensitive */
    {"{\"StringEquals\":{" K("sub") ":\"a\"}}", PROV ":sub=a", ALLOW, "Allow: principal, action"},
    {"{\"StringEquals\":{" K("sub") ":\"a\"}}", PROV ":sub=A", DENY,
     "Statement[0] (S): StringEquals p.example:sub [a] does not match \"A\""},
    {"{\"StringEquals\":{\"P.EXAMPLE:SUB\":\"a\"}}", PROV ":sub=a", ALLOW, NULL},
    {"{\"StringEqualsIgnoreCase\":{" K("sub") ":\"abc\"}}", PROV ":sub=ABC", ALLOW, NULL},
    {"{\"StringNotEquals\":{" K("sub") ":\"a\"}}", PROV ":sub=b", ALLOW, NULL},
    {"{\"StringNotEquals\":{" K("sub") ":\"a\"}}", PROV ":sub=a", DENY,
     "StringNotEquals p.example:sub [a] matches \"a\""},
    {"{\"StringNotEquals\":{" K("sub") ":[\"a\",\"b\"]}}", PROV ":sub=b", DENY, NULL},
    {"{\"StringNotEqualsIgnoreCase\":{" K("sub") ":\"a\"}}", PROV ":sub=A", DENY, NULL},
    {"{\"StringEquals\":{" K("sub") ":[\"a\",\"b\"]}}", PROV ":sub=b", ALLOW, NULL},
    /* wildcards: '*' crosses '/' and ':', '?' is one character, anchored */
    {"{\"StringLike\":{" K("sub") ":\"org/*/x\"}}", PROV ":sub=org/a/b:c/x", ALLOW, NULL},
    {"{\"StringLike\":{" K("sub") ":\"abc*\"}}", PROV ":sub=xabc", DENY, "does not match"},
    {"{\"StringLike\":{" K("sub") ":\"a?c\"}}", PROV ":sub=abc", ALLOW, NULL},
    {"{\"StringLike\":{" K("sub") ":\"a?c\"}}", PROV ":sub=ac", DENY, NULL},
    {"{\"StringLike\":{" K("sub") ":\"a?c\"}}", PROV ":sub=abbc", DENY, NULL},
    {"{\"StringLike\":{" K("sub") ":\"a?c\"}}", PROV ":sub=a\xc3\xa9" "c", ALLOW, NULL},
    {"{\"StringLike\":{" K("sub") ":\"A*\"}}", PROV ":sub=abc", DENY, NULL},
    {"{\"StringEquals\":{" K("sub") ":\"repo:*\"}}", PROV ":sub=repo:x", DENY, NULL},
    {"{\"StringEquals\":{" K("sub") ":\"repo:*\"}}", PROV ":sub=repo:*", ALLOW, NULL},
    /* escapes and policy variables */
    {"{\"StringLike\":{" K("sub") ":\"a${*}b\"}}", PROV ":sub=a*b", ALLOW, NULL},
    {"{\"StringLike\":{" K("sub") ":\"a${*}b\"}}", PROV ":sub=axb", DENY, NULL},
    {"{\"StringLike\":{" K("sub") ":\"a${?}${$}\"}}", PROV ":sub=a?$", ALLOW, NULL},
    {"{\"StringEquals\":{" K("sub") ":\"${" PROV ":aud}\"}}", PROV ":sub=x;" PROV ":aud=x",
     ALLOW, NULL},
    {"{\"StringEquals\":{" K("sub") ":\"${" PROV ":aud}\"}}", PROV ":sub=x", DENY, NULL},
    /* missing keys */
    {"{\"StringLike\":{" K("sub") ":\"*\"}}", "", DENY,
     "StringLike p.example:sub [*]: the key is absent from the request"},
    {"{\"StringNotLike\":{" K("sub") ":\"a*\"}}", "", ALLOW, NULL},
    {"{\"StringEqualsIfExists\":{" K("env") ":\"prod\"}}", "", ALLOW, NULL},
    {"{\"StringEqualsIfExists\":{" K("env") ":\"prod\"}}", PROV ":env=dev", DENY,
     "StringEqualsIfExists p.example:env [prod] does not match \"dev\""},
    {"{\"Null\":{" K("sub") ":\"true\"}}", "", ALLOW, NULL},
    {"{\"Null\":{" K("sub") ":\"true\"}}", PROV ":sub=a", DENY,
     "Null p.example:sub [true]: the key is present"},
    {"{\"Null\":{" K("sub") ":\"false\"}}", PROV ":sub=a", ALLOW, NULL},
    {"{\"Null\":{" K("sub") ":\"false\"}}", "", DENY, "the key is absent"},
    /* set operators */
    {"{\"ForAnyValue:StringEquals\":{" K("amr") ":\"a\"}}", PROV ":amr=x|a", ALLOW, NULL},
    {"{\"ForAnyValue:StringEquals\":{" K("amr") ":\"a\"}}", PROV ":amr=x|y", DENY,
     "ForAnyValue:StringEquals p.example:amr [a] does not match \"x\""},
    {"{\"ForAnyValue:StringEquals\":{" K("amr") ":\"a\"}}", "", DENY, "absent"},
    {"{\"ForAllValues:StringEquals\":{" K("amr") ":[\"a\",\"b\"]}}", PROV ":amr=a|b", ALLOW,
     NULL},
    {"{\"ForAllValues:StringEquals\":{" K("amr") ":[\"a\",\"b\"]}}", PROV ":amr=a|c", DENY,
     "does not match \"c\""},
    {"{\"ForAllValues:StringEquals\":{" K("amr") ":\"a\"}}", "", ALLOW, NULL},
    {"{\"ForAllValues:StringLike\":{" K("amr") ":\"a*\"}}", PROV ":amr=ab|ac", ALLOW, NULL},
    /* several operators and keys: AND */
    {"{\"StringEquals\":{" K("aud") ":\"x\"},\"StringLike\":{" K("sub") ":\"y*\"}}",
     PROV ":aud=x;" PROV ":sub=zz", DENY, "StringLike p.example:sub [y*]"},
    {"{\"StringEquals\":{" K("aud") ":\"x\"},\"StringLike\":{" K("sub") ":\"y*\"}}",
     PROV ":aud=x;" PROV ":sub=yy", ALLOW, "2 conditions"},
    /* numbers, dates, booleans, addresses, ARNs */
    {"{\"NumericLessThan\":{\"n\":10}}", "n=9", ALLOW, NULL},
    {"{\"NumericLessThan\":{\"n\":10}}", "n=10", DENY, NULL},
    {"{\"NumericGreaterThanEquals\":{\"n\":\"1.5\"}}", "n=1.5", ALLOW, NULL},
    {"{\"NumericEquals\":{\"n\":1}}", "n=one", DENY, NULL},
    {"{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"}}",
     "aws:CurrentTime=2026-01-01T00:00:00Z", ALLOW, NULL},
    {"{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"}}",
     "aws:CurrentTime=1767225600", DENY, NULL},
    {"{\"Bool\":{" K("ssh") ":true}}", PROV ":ssh=true", ALLOW, NULL},
    {"{\"Bool\":{" K("ssh") ":\"true\"}}", PROV ":ssh=false", DENY, NULL},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=10.1.2.3", ALLOW, NULL},
    {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=10.1.2.3", DENY,
     NULL},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/32\"}}", "aws:SourceIp=2001:db8::1", ALLOW,
     NULL},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=11.0.0.1", DENY, NULL},
    {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:iam::*:role/x\"}}",
     "aws:SourceArn=arn:aws:iam::123456789012:role/x", ALLOW, NULL},
    {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:iam::1*\"}}",
     "aws:SourceArn=arn:aws:iam::1:2:role/x", DENY, NULL},
    {"{\"ArnNotEquals\":{\"aws:SourceArn\":\"arn:aws:s3:::b*\"}}",
     "aws:SourceArn=arn:aws:s3:::bucket", DENY, NULL},
};

AK_TEST(evaluation_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ak_iam_result res;
        int d = eval_cond(cases[i].cond, cases[i].keys, &res);
        if (d != cases[i].want || (cases[i].why && !strstr(res.why, cases[i].why))) {
            printf("# case %zu: %s with %s -> %d (%s)\n", i, cases[i].cond, cases[i].keys, d,
                   res.why);
            AK_ASSERT_EQ_INT(d, cases[i].want);
            AK_ASSERT_CONTAINS(res.why, cases[i].why);
        }
        AK_ASSERT_EQ_INT(res.statement, d == ALLOW ? 0 : -1);
    }
}

AK_TEST(variables_need_version_2012)
{
    struct ak_iam_result res;
    const char *p = "{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                    "\"Principal\":\"*\",\"Action\":\"*\",\"Condition\":{\"StringEquals\":"
                    "{\"k\":\"${aws:username}\"}}}]}";
    /* under 2008-10-17, ${...} is plain text */
    AK_ASSERT_EQ_INT(eval_full(p, "x", "a", "k=${aws:username}", &res), ALLOW);
}

#define STMT(effect, sid, action, cond)                                                          \
    "{\"Sid\":\"" sid "\",\"Effect\":\"" effect "\",\"Principal\":{\"Federated\":\"" ARN         \
    "\"},\"Action\":" action ",\"Condition\":" cond "}"

AK_TEST(decisions_deny_action_principal)
{
    struct ak_iam_result res;
    const char *pol =
        "{\"Version\":\"2012-10-17\",\"Statement\":["
        STMT("Allow", "A", "\"sts:AssumeRoleWithWebIdentity\"",
             "{\"StringLike\":{" K("sub") ":\"repo:o/*\"}}") ","
        STMT("Deny", "NoSsh", "\"sts:*\"", "{\"Bool\":{" K("ssh") ":\"true\"}}") "]}";

    AK_ASSERT_EQ_INT(eval_full(pol, ARN, "sts:AssumeRoleWithWebIdentity", PROV ":sub=repo:o/r",
                               &res), AK_IAM_ALLOW);
    AK_ASSERT_STR(res.sid, "A");
    AK_ASSERT_STR(res.why, "Statement[0] (A): Allow: principal, action and 1 condition match");
    /* explicit deny wins over the matching allow */
    AK_ASSERT_EQ_INT(eval_full(pol, ARN, "sts:AssumeRoleWithWebIdentity",
                               PROV ":sub=repo:o/r;" PROV ":ssh=true", &res),
                     AK_IAM_EXPLICIT_DENY);
    AK_ASSERT_EQ_INT(res.statement, 1);
    AK_ASSERT_STR(res.sid, "NoSsh");
    AK_ASSERT_CONTAINS(res.why, "Statement[1] (NoSsh): Deny");
    AK_ASSERT_CONTAINS(res.why, "Bool p.example:ssh [true]");
    /* principal mismatch; the bare provider form of the principal */
    AK_ASSERT_EQ_INT(eval_full(pol, "arn:aws:iam::123456789012:oidc-provider/q.example",
                               "sts:AssumeRoleWithWebIdentity", PROV ":sub=repo:o/r", &res),
                     AK_IAM_IMPLICIT_DENY);
    AK_ASSERT_STR(res.why, "no statement names principal Federated "
                           "arn:aws:iam::123456789012:oidc-provider/q.example");
    AK_ASSERT_EQ_INT(eval_full(pol, PROV, "sts:AssumeRoleWithWebIdentity", PROV ":sub=repo:o/r",
                               &res), AK_IAM_ALLOW);
    /* the action is checked (case-insensitively, with wildcards) */
    AK_ASSERT_EQ_INT(eval_full(pol, ARN, "sts:AssumeRole", PROV ":sub=repo:o/r", &res),
                     AK_IAM_IMPLICIT_DENY);
    AK_ASSERT_CONTAINS(res.why, "Statement[0] (A): action sts:AssumeRole is not in Action");

    const char *wild = "{\"Statement\":[" STMT("Allow", "W", "[\"STS:assumerole*\"]", "{}") "]}";
    AK_ASSERT_EQ_INT(eval_full(wild, ARN, "sts:AssumeRoleWithWebIdentity", "", &res),
                     AK_IAM_ALLOW);
    AK_ASSERT_EQ_INT(eval_full(wild, ARN, "sts:TagSession", "", &res), AK_IAM_IMPLICIT_DENY);
    const char *notact = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                         "\"NotAction\":\"sts:TagSession\"}]}";
    AK_ASSERT_EQ_INT(eval_full(notact, "anything", "sts:AssumeRoleWithWebIdentity", "", &res),
                     AK_IAM_ALLOW);
    AK_ASSERT_EQ_INT(eval_full(notact, "anything", "STS:TAGSESSION", "", &res),
                     AK_IAM_IMPLICIT_DENY);
    const char *notpr = "{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"Federated\":"
                        "\"" ARN "\"},\"Action\":\"*\"}]}";
    AK_ASSERT_EQ_INT(eval_full(notpr, ARN, "x", "", &res), AK_IAM_IMPLICIT_DENY);
    AK_ASSERT_EQ_INT(eval_full(notpr, "other", "x", "", &res), AK_IAM_ALLOW);
    /* a nearest statement: the one whose principal and action match */
    const char *two = "{\"Statement\":["
        STMT("Allow", "Other", "\"sts:AssumeRole\"", "{}") ","
        STMT("Allow", "Near", "\"sts:AssumeRoleWithWebIdentity\"",
             "{\"StringEquals\":{" K("aud") ":\"x\"},\"StringLike\":{" K("sub") ":\"org/O/*\"}}")
        "]}";
    AK_ASSERT_EQ_INT(eval_full(two, ARN, "sts:AssumeRoleWithWebIdentity",
                               PROV ":aud=x;" PROV ":sub=org/Q/p", &res), AK_IAM_IMPLICIT_DENY);
    AK_ASSERT_STR(res.why, "Statement[1] (Near): StringLike p.example:sub [org/O/*] does not "
                           "match \"org/Q/p\"");
}

/* ---- context from claims ----------------------------------------------------------------- */

static const struct ak_iam_key *find_key(const struct ak_iam_claims_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_keys; i++)
        if (strcmp(c->keys[i].name, name) == 0)
            return &c->keys[i];
    return NULL;
}

AK_TEST(ctx_from_claims_github_and_circleci)
{
    struct ak_iam_claims_ctx c = {0};
    struct ak_buf err = AK_BUF_INIT(256);
    const char *gh = "{\"sub\":\"repo:o/r:ref:refs/heads/main\",\"aud\":[\"a1\",\"a2\"],"
                     "\"repository\":\"o/r\",\"repository_id\":74,\"repository_owner\":\"o\","
                     "\"actor\":\"octocat\",\"run_id\":\"1\",\"iss\":\"https://" GH "\"}";
    struct ak_json *j = ak_json_parse(gh, strlen(gh), &err);
    AK_ASSERT_OK(ak_iam_ctx_from_claims(GH, j, "sess", &c));
    AK_ASSERT_EQ_INT(c.n_keys, 6);
    AK_ASSERT_EQ_INT(find_key(&c, GH ":aud")->n_values, 2);
    AK_ASSERT_STR(find_key(&c, GH ":aud")->values[1], "a2");
    AK_ASSERT_STR(find_key(&c, GH ":repository_id")->values[0], "74");
    AK_ASSERT_STR(find_key(&c, "sts:RoleSessionName")->values[0], "sess");
    AK_ASSERT_NULL(find_key(&c, GH ":repository_owner")); /* not a key AWS populates */
    AK_ASSERT_NULL(find_key(&c, GH ":iss"));
    ak_iam_claims_ctx_release(&c);
    ak_json_free(j);

    const char *cc = "{\"sub\":\"org/" ORG "/project/" PID "/user/u\",\"aud\":\"" ORG "\","
                     "\"oidc.circleci.com/context-ids\":[\"c1\",\"c2\"],"
                     "\"oidc.circleci.com/ssh-rerun\":true,\"oidc.circleci.com/vcs-ref\":"
                     "\"refs/heads/main\",\"actor\":\"x\"}";
    j = ak_json_parse(cc, strlen(cc), &err);
    AK_ASSERT_OK(ak_iam_ctx_from_claims(CC, j, NULL, &c));
    AK_ASSERT_EQ_INT(c.n_keys, 5);
    AK_ASSERT_STR(find_key(&c, CC ":oidc.circleci.com/ssh-rerun")->values[0], "true");
    AK_ASSERT_EQ_INT(find_key(&c, CC ":oidc.circleci.com/context-ids")->n_values, 2);
    AK_ASSERT_NULL(find_key(&c, CC ":actor"));
    ak_iam_claims_ctx_release(&c);
    ak_iam_claims_ctx_release(NULL);
    AK_ASSERT_EQ_INT(ak_iam_ctx_from_claims(NULL, j, NULL, &c), AK_EINVAL);
    ak_json_free(j);
    ak_buf_release(&err);
}

/* ---- audit fixtures ---------------------------------------------------------------------- */

static bool has_rule(const struct ak_iam_findings *f, const char *rule)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].rule, rule) == 0)
            return true;
    return false;
}

static const struct ak_iam_finding *get_rule(const struct ak_iam_findings *f, const char *rule)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].rule, rule) == 0)
            return &f->v[i];
    return NULL;
}

static int audit_text(const char *text, size_t len, struct ak_iam_findings *f)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_iam_audit(text, len, "test.json", f, &err);
    if (r)
        printf("# audit: %s\n", err.buf);
    ak_buf_release(&err);
    return r;
}

static int audit_file(const char *name, struct ak_iam_findings *f, char **ret_text)
{
    char path[256];
    size_t len = 0;
    snprintf(path, sizeof(path), "tests/data/iam/%s", name);
    char *t = ak_test_read_file(path, &len);
    if (!t)
        return -100;
    int r = audit_text(t, len, f);
    if (ret_text)
        *ret_text = t;
    else
        free(t);
    return r;
}

/* Each counter-example must be allowed by the policy it was derived from. */
static int check_counter_examples(const char *policy, const struct ak_iam_findings *f)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_iam_policy *p = NULL;
    int bad = 0;

    if (ak_iam_policy_parse(policy, strlen(policy), &p, &err) != AK_OK) {
        ak_buf_release(&err);
        return 0; /* not a plain policy (duplicates, get-role, terraform) */
    }
    for (size_t i = 0; i < f->n; i++) {
        const char *cx = f->v[i].counter_example;
        struct ak_iam_claims_ctx c = {0};
        struct ak_iam_result res;
        if (!cx)
            continue;
        struct ak_json *j = ak_json_parse(cx, strlen(cx), &err);
        const char *iss = ak_json_get_str(j, "iss");
        if (!iss || strncmp(iss, "https://", 8) != 0 ||
            ak_iam_ctx_from_claims(iss + 8, j, NULL, &c) != AK_OK) {
            bad++;
        } else {
            struct ak_iam_ctx ctx = {"Federated", iss + 8, "sts:AssumeRoleWithWebIdentity",
                                     c.keys, c.n_keys};
            ak_iam_evaluate(p, &ctx, &res);
            if (res.decision != AK_IAM_ALLOW) {
                printf("# %s counter-example not allowed: %s (%s)\n", f->v[i].rule, cx,
                       res.why);
                bad++;
            }
        }
        ak_iam_claims_ctx_release(&c);
        ak_json_free(j);
    }
    ak_iam_policy_free(p);
    ak_buf_release(&err);
    return bad;
}

AK_TEST(audit_fixture_per_rule)
{
    for (int rule = 1; rule <= 19; rule++) {
        char id[16], name[64];
        struct ak_iam_findings f = {0};
        char *text = NULL;
        snprintf(id, sizeof(id), "AUD-%02d", rule);

        snprintf(name, sizeof(name), "%s-fires.json", id);
        AK_ASSERT_OK(audit_file(name, &f, &text));
        if (!has_rule(&f, id))
            printf("# %s did not fire\n", name);
        AK_ASSERT(has_rule(&f, id));
        AK_ASSERT_EQ_INT(check_counter_examples(text, &f), 0);
        for (size_t i = 1; i < f.n; i++) /* sorted, highest first */
            AK_ASSERT(f.v[i - 1].severity >= f.v[i].severity);
        free(text);
        ak_iam_findings_release(&f);

        snprintf(name, sizeof(name), "%s-near-miss.json", id);
        AK_ASSERT_OK(audit_file(name, &f, &text));
        if (has_rule(&f, id))
            printf("# %s fired: %s\n", name, get_rule(&f, id)->message);
        AK_ASSERT(!has_rule(&f, id));
        AK_ASSERT_EQ_INT(check_counter_examples(text, &f), 0);
        free(text);
        ak_iam_findings_release(&f);
    }
}

AK_TEST(audit_details)
{
    struct ak_iam_findings f = {0};
    const struct ak_iam_finding *x;

    AK_ASSERT_OK(audit_file("AUD-01-fires.json", &f, NULL));
    x = get_rule(&f, "AUD-01");
    AK_ASSERT_EQ_INT(x->severity, AK_SEV_CRITICAL);
    AK_ASSERT_STR(x->path, "$.Statement[0]");
    AK_ASSERT_STR(x->counter_example, "{\"iss\":\"https://" GH "\",\"aud\":\"sts.amazonaws.com\","
                                      "\"sub\":\"repo:attacker-org/x:ref:refs/heads/main\"}");
    ak_iam_findings_release(&f);

    AK_ASSERT_OK(audit_file("AUD-02-fires.json", &f, NULL));
    x = get_rule(&f, "AUD-02");
    AK_ASSERT_CONTAINS(x->counter_example, "\"sub\":\"repo:acme-evil/x:ref:refs/heads/main\"");
    AK_ASSERT_STR(x->path, "$.Statement[0].Condition.StringLike[\"" GH ":sub\"]");
    ak_iam_findings_release(&f);

    /* AUD-08: the duplicate's path, and the tolerant pass still finds the dropped sub check */
    AK_ASSERT_OK(audit_file("AUD-08-fires.json", &f, NULL));
    AK_ASSERT_STR(get_rule(&f, "AUD-08")->path, "$.Statement[0].Condition.StringEquals");
    AK_ASSERT(has_rule(&f, "AUD-01"));
    AK_ASSERT_EQ_INT(f.v[0].severity, AK_SEV_CRITICAL);
    ak_iam_findings_release(&f);

    /* AUD-17: get-role with a URL-encoded document; the source names the role */
    AK_ASSERT_OK(audit_file("AUD-17-fires.json", &f, NULL));
    AK_ASSERT_STR(get_rule(&f, "AUD-17")->source, "test.json: role deploy");
    ak_iam_findings_release(&f);

    /* AUD-16 from terraform show: the role lives in a child module */
    AK_ASSERT_OK(audit_file("AUD-16-fires.json", &f, NULL));
    AK_ASSERT_STR(get_rule(&f, "AUD-16")->source, "test.json: role deploy");
    ak_iam_findings_release(&f);

    /* not a known shape */
    struct ak_buf err = AK_BUF_INIT(512);
    AK_ASSERT_EQ_INT(ak_iam_audit("{\"a\":1}", 7, "x.json", &f, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "x.json: neither a trust policy");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_iam_audit("{", 1, "x.json", &f, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(f.n, 0);
    ak_buf_release(&err);
}

static const char *cc_policy(const char *sub_pattern, char *buf, size_t n)
{
    snprintf(buf, n,
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
             "{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/" CC "\"},\"Action\":"
             "\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringEquals\":{\"" CC
             ":aud\":\"" ORG "\"},\"StringLike\":{\"" CC ":sub\":\"%s\"}}},{\"Effect\":\"Deny\","
             "\"Principal\":{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/" CC "\"},"
             "\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"Bool\":{\"" CC
             ":oidc.circleci.com/ssh-rerun\":\"true\"}}}]}",
             sub_pattern);
    return buf;
}

AK_TEST(audit_circleci_branch_patterns)
{
    char pol[4096];
    struct ak_iam_findings f = {0};
    const struct ak_iam_finding *x;

    /* the project wildcard absorbs user and origin: a stranger project, any origin, "main" */
    cc_policy("org/" ORG "/project/*/vcs-ref/refs/heads/main", pol, sizeof(pol));
    AK_ASSERT_OK(audit_text(pol, strlen(pol), &f));
    x = get_rule(&f, "AUD-03");
    AK_ASSERT(x);
    AK_ASSERT_CONTAINS(x->counter_example,
                       "\"sub\":\"org/" ORG "/project/6a1f0e0e-0bad-4bad-8bad-000000000bad/user/"
                       "6a1f0e0e-0bad-4bad-8bad-000000000bad/vcs-origin/github.com/evil/x/"
                       "vcs-ref/refs/heads/main\"");
    AK_ASSERT(has_rule(&f, "AUD-02"));
    AK_ASSERT_EQ_INT(check_counter_examples(pol, &f), 0);
    ak_iam_findings_release(&f);

    /* the docs' org-repos "main only": a crafted branch name in any my-org repository */
    cc_policy("org/" ORG "/project/*/user/*/vcs-origin/github.com/my-org/*/vcs-ref/refs/heads/"
              "main", pol, sizeof(pol));
    AK_ASSERT_OK(audit_text(pol, strlen(pol), &f));
    x = get_rule(&f, "AUD-03");
    AK_ASSERT(x);
    AK_ASSERT_CONTAINS(x->counter_example, "/vcs-origin/github.com/my-org/x/vcs-ref/refs/heads/"
                                           "evil/vcs-ref/refs/heads/main\"");
    AK_ASSERT_EQ_INT(check_counter_examples(pol, &f), 0);
    ak_iam_findings_release(&f);

    /* the V1 per-project pattern has no literal tail after its '*' */
    cc_policy("org/" ORG "/project/" PID "/user/*", pol, sizeof(pol));
    AK_ASSERT_OK(audit_text(pol, strlen(pol), &f));
    AK_ASSERT(!has_rule(&f, "AUD-03"));
    AK_ASSERT(!has_rule(&f, "AUD-02"));
    AK_ASSERT(!has_rule(&f, "AUD-15"));
    ak_iam_findings_release(&f);
}

AK_TEST(audit_circleci_ssh_rerun)
{
    char path[] = "tests/data/iam/AUD-19-near-miss.json";
    size_t len;
    char *t = ak_test_read_file(path, &len);
    struct ak_iam_findings f = {0};
    AK_ASSERT(t);
    /* drop the Deny statement: AUD-15 with an ssh-rerun counter-example */
    char *deny = strstr(t, "\"Sid\": \"NoSsh\"");
    AK_ASSERT(deny);
    char *open = deny;
    while (open > t && *open != '{')
        open--;
    char *comma = open;
    while (comma > t && *comma != ',')
        comma--;
    memcpy(comma, "]}", 3);
    AK_ASSERT_OK(audit_text(t, strlen(t), &f));
    const struct ak_iam_finding *x = get_rule(&f, "AUD-15");
    AK_ASSERT(x);
    AK_ASSERT_EQ_INT(x->severity, AK_SEV_MEDIUM); /* per-tenant issuer: one step down */
    AK_ASSERT_CONTAINS(x->counter_example, "\"oidc.circleci.com/ssh-rerun\":true");
    AK_ASSERT_EQ_INT(check_counter_examples(t, &f), 0);
    ak_iam_findings_release(&f);
    free(t);
}

AK_TEST(audit_github_case_mismatch)
{
    const char *t = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":"
                    "\"arn:aws:iam::1:oidc-provider/" GH "\"},\"Action\":"
                    "\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringEquals\":{\"" GH
                    ":sub\":\"repo:Acme/app:ref:refs/heads/main\",\"" GH
                    ":repository\":\"acme/app\",\"" GH ":repository_id\":\"7\"}}}]}";
    struct ak_iam_findings f = {0};
    AK_ASSERT_OK(audit_text(t, strlen(t), &f));
    AK_ASSERT_CONTAINS(get_rule(&f, "AUD-19")->message, "\"Acme/app\" and \"acme/app\"");
    ak_iam_findings_release(&f);
}

AK_TEST(audit_get_role_duplicate_path_rebased)
{
    const char *t = "{\"Role\":{\"RoleName\":\"r\",\"MaxSessionDuration\":3600,"
                    "\"AssumeRolePolicyDocument\":{\"Version\":\"2012-10-17\",\"Statement\":"
                    "[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"arn:aws:iam::1:"
                    "oidc-provider/" GH "\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\","
                    "\"Condition\":{\"StringEquals\":{\"" GH ":sub\":\"repo:a/b:ref:x\",\"" GH
                    ":sub\":\"repo:a/c:ref:x\"}}}]}}}";
    struct ak_iam_findings f = {0};
    AK_ASSERT_OK(audit_text(t, strlen(t), &f));
    AK_ASSERT_STR(get_rule(&f, "AUD-08")->path,
                  "$.Statement[0].Condition.StringEquals[\"" GH ":sub\"]");
    ak_iam_findings_release(&f);
}

AK_TEST(findings_json_and_sarif)
{
    struct ak_iam_findings f = {0};
    AK_ASSERT_OK(audit_file("AUD-02-fires.json", &f, NULL));
    struct ak_json *j = ak_iam_findings_json(&f);
    AK_ASSERT_EQ_INT(ak_json_len(j), f.n);
    struct ak_json *first = ak_json_at(j, 0);
    AK_ASSERT_STR(ak_json_get_str(first, "rule"), f.v[0].rule);
    AK_ASSERT_STR(ak_json_get_str(first, "severity"), "high");
    AK_ASSERT(ak_json_get_str(first, "counter_example"));
    AK_ASSERT(ak_json_is_null(ak_json_get(ak_json_at(j, f.n - 1), "counter_example")));
    ak_json_free(j);

    struct ak_json *s = ak_iam_findings_sarif(&f);
    AK_ASSERT_STR(ak_json_get_str(s, "version"), "2.1.0");
    struct ak_json *run = ak_json_at(ak_json_get(s, "runs"), 0);
    struct ak_json *drv = ak_json_get(ak_json_get(run, "tool"), "driver");
    AK_ASSERT_STR(ak_json_get_str(drv, "name"), "asakai-oidc-audit");
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(drv, "rules")), 19);
    struct ak_json *r0 = ak_json_at(ak_json_get(run, "results"), 0);
    AK_ASSERT_STR(ak_json_get_str(r0, "level"), "error");
    AK_ASSERT_STR(ak_json_get_str(r0, "ruleId"), f.v[0].rule);
    struct ak_json *rule = ak_json_at(ak_json_get(drv, "rules"),
                                      (size_t)ak_json_int(ak_json_get(r0, "ruleIndex")));
    AK_ASSERT_STR(ak_json_get_str(rule, "id"), f.v[0].rule);
    struct ak_json *loc = ak_json_at(ak_json_get(r0, "locations"), 0);
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(ak_json_get(loc, "physicalLocation"),
                                              "artifactLocation"), "uri"), "test.json");
    const struct ak_json *last = ak_json_at(ak_json_get(run, "results"), f.n - 1);
    AK_ASSERT_STR(ak_json_get_str(last, "level"), "note"); /* the info finding */
    ak_json_free(s);
    ak_iam_findings_release(&f);
}

AK_TEST(severity_names)
{
    enum ak_iam_sev s;
    AK_ASSERT_STR(ak_iam_sev_name(AK_SEV_CRITICAL), "critical");
    AK_ASSERT_STR(ak_iam_sev_name(AK_SEV_INFO), "info");
    AK_ASSERT_OK(ak_iam_sev_parse("medium", &s));
    AK_ASSERT_EQ_INT(s, AK_SEV_MEDIUM);
    AK_ASSERT_EQ_INT(ak_iam_sev_parse("severe", &s), AK_EINVAL);
}

/* ---- init -------------------------------------------------------------------------------- */

/* Audits the .tf.json: its trust policy alone, and as `terraform show -json` would show it. */
static void audit_init(struct ak_json *tf, struct ak_iam_findings *f)
{
    struct ak_json *res = ak_json_get(tf, "resource");
    struct ak_json *roles = ak_json_get(res, "aws_iam_role");
    struct ak_json *role = ak_json_iter_value(ak_json_iter(roles));
    struct ak_json *pv = ak_json_iter_value(ak_json_iter(ak_json_get(res,
                                            "aws_iam_openid_connect_provider")));
    const char *pol = ak_json_get_str(role, "assume_role_policy");
    if (!pol || audit_text(pol, strlen(pol), f) != AK_OK)
        return;
    struct ak_json *show = ak_json_new_obj(), *vals = ak_json_new_obj(), *root = ak_json_new_obj();
    struct ak_json *list = ak_json_new_arr(), *a = ak_json_new_obj(), *b = ak_json_new_obj();
    ak_json_set_str(a, "address", "aws_iam_openid_connect_provider.x");
    ak_json_set_str(a, "type", "aws_iam_openid_connect_provider");
    ak_json_set(a, "values", ak_json_ref(pv));
    ak_json_set_str(b, "address", "aws_iam_role.x");
    ak_json_set_str(b, "type", "aws_iam_role");
    ak_json_set(b, "values", ak_json_ref(role));
    ak_json_append(list, a);
    ak_json_append(list, b);
    ak_json_set(root, "resources", list);
    ak_json_set(vals, "root_module", root);
    ak_json_set(show, "values", vals);
    char *text = ak_json_dump(show, 0);
    audit_text(text, strlen(text), f);
    free(text);
    ak_json_free(show);
}

AK_TEST(init_tf_passes_audit_for_each_ci)
{
    struct ak_iam_init ins[] = {
        {.ci = "circleci", .account_id = "123456789012", .org_id = ORG, .project_id = PID,
         .branch = "main"},
        {.ci = "circleci", .account_id = "123456789012", .org_id = ORG, .project_id = PID},
        {.ci = "github", .account_id = "123456789012", .owner = "acme", .repo = "app",
         .repo_id = "74", .branch = "main"},
        {.ci = "github", .account_id = "123456789012", .owner = "acme", .repo = "app",
         .repo_id = "74", .environment = "prod", .role_name = "gh-prod", .max_session_s = 7200},
        {.ci = "gitlab", .account_id = "123456789012", .project_path = "grp/sub/app",
         .branch = "main"},
        {.ci = "gitlab", .account_id = "123456789012", .host = "gitlab.example.com",
         .project_path = "grp/app", .branch = "release/1.x"},
    };
    for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
        struct ak_buf err = AK_BUF_INIT(512);
        struct ak_json *tf = NULL;
        struct ak_iam_findings f = {0};
        AK_ASSERT_OK(ak_iam_init_tf(&ins[i], &tf, &err));
        audit_init(tf, &f);
        AK_ASSERT(f.n > 0 || strcmp(ins[i].ci, "circleci") == 0); /* the audit did run */
        for (size_t k = 0; k < f.n; k++) {
            if (f.v[k].severity >= AK_SEV_MEDIUM)
                printf("# init %zu: %s %s\n", i, f.v[k].rule, f.v[k].message);
            AK_ASSERT(f.v[k].severity < AK_SEV_MEDIUM);
        }
        struct ak_json *role = ak_json_iter_value(ak_json_iter(
            ak_json_get(ak_json_get(tf, "resource"), "aws_iam_role")));
        AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(role, "max_session_duration")),
                         ins[i].max_session_s ? ins[i].max_session_s : 3600);
        AK_ASSERT_STR(ak_json_get_str(role, "name"),
                      ins[i].role_name ? ins[i].role_name
                      : strcmp(ins[i].ci, "github") == 0 ? "github-deploy"
                      : strcmp(ins[i].ci, "gitlab") == 0 ? "gitlab-deploy" : "circleci-deploy");
        ak_iam_findings_release(&f);
        ak_json_free(tf);
        ak_buf_release(&err);
    }
}

AK_TEST(init_tf_allows_the_right_token_only)
{
    struct ak_iam_init in = {.ci = "circleci", .account_id = "123456789012", .org_id = ORG,
                             .project_id = PID, .branch = "main"};
    struct ak_buf err = AK_BUF_INIT(512);
    struct ak_json *tf = NULL;
    struct ak_iam_result res;
    AK_ASSERT_OK(ak_iam_init_tf(&in, &tf, &err));
    struct ak_json *role = ak_json_iter_value(ak_json_iter(
        ak_json_get(ak_json_get(tf, "resource"), "aws_iam_role")));
    const char *pol = ak_json_get_str(role, "assume_role_policy");
    const char *arn = "arn:aws:iam::123456789012:oidc-provider/" CC;
    const char *good = CC ":sub=org/" ORG "/project/" PID "/user/u/vcs-origin/github.com/a/b/"
                       "vcs-ref/refs/heads/main;" CC ":aud=" ORG ";" CC
                       ":oidc.circleci.com/vcs-ref=refs/heads/main";
    AK_ASSERT_EQ_INT(eval_full(pol, arn, "sts:AssumeRoleWithWebIdentity", good, &res),
                     AK_IAM_ALLOW);
    char with_ssh[2048];
    snprintf(with_ssh, sizeof(with_ssh), "%s;" CC ":oidc.circleci.com/ssh-rerun=true", good);
    AK_ASSERT_EQ_INT(eval_full(pol, arn, "sts:AssumeRoleWithWebIdentity", with_ssh, &res),
                     AK_IAM_EXPLICIT_DENY);
    const char *other = CC ":sub=org/" ORG "/project/6a1f0e0e-0bad-4bad-8bad-000000000bad/user/"
                        "u/vcs-origin/github.com/a/b/vcs-ref/refs/heads/main;" CC ":aud=" ORG
                        ";" CC ":oidc.circleci.com/vcs-ref=refs/heads/main";
    AK_ASSERT_EQ_INT(eval_full(pol, arn, "sts:AssumeRoleWithWebIdentity", other, &res),
                     AK_IAM_IMPLICIT_DENY);
    AK_ASSERT_CONTAINS(res.why, ":sub [org/" ORG "/project/" PID "/user/*] does not match");
    /* the crafted branch that beats the sub pattern does not beat the vcs-ref key */
    const char *crafted = CC ":sub=org/" ORG "/project/" PID "/user/u/vcs-origin/github.com/a/b/"
                          "vcs-ref/refs/heads/x/vcs-ref/refs/heads/main;" CC ":aud=" ORG ";" CC
                          ":oidc.circleci.com/vcs-ref=refs/heads/x/vcs-ref/refs/heads/main";
    AK_ASSERT_EQ_INT(eval_full(pol, arn, "sts:AssumeRoleWithWebIdentity", crafted, &res),
                     AK_IAM_IMPLICIT_DENY);
    AK_ASSERT_CONTAINS(res.why, "oidc.circleci.com/vcs-ref [refs/heads/main] does not match");
    ak_json_free(tf);
    ak_buf_release(&err);
}

AK_TEST(init_tf_rejects_bad_input)
{
    static const struct {
        struct ak_iam_init in;
        const char *want;
    } bad[] = {
        {{.ci = "jenkins", .account_id = "123456789012"}, "ci:"},
        {{.ci = "github", .account_id = "12345", .owner = "a", .repo = "b", .repo_id = "1",
          .branch = "main"}, "account_id"},
        {{.ci = "github", .account_id = "123456789012", .owner = "a", .repo = "b",
          .branch = "main"}, "repo_id"},
        {{.ci = "github", .account_id = "123456789012", .owner = "a", .repo = "b",
          .repo_id = "1"}, "branch or environment"},
        {{.ci = "github", .account_id = "123456789012", .owner = "a", .repo = "b",
          .repo_id = "1", .branch = "${var.x}"}, "branch"},
        {{.ci = "circleci", .account_id = "123456789012", .org_id = "1A2B"}, "org_id"},
        {{.ci = "circleci", .account_id = "123456789012", .org_id = ORG}, "project_id"},
        {{.ci = "gitlab", .account_id = "123456789012", .project_path = "app", .branch = "m"},
         "project_path"},
        {{.ci = "gitlab", .account_id = "123456789012", .project_path = "g/app",
          .branch = "main", .max_session_s = 60}, "max_session_s"},
        {{.ci = "gitlab", .account_id = "123456789012", .project_path = "g/app",
          .branch = "main", .role_name = "a b"}, "role_name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ak_buf err = AK_BUF_INIT(512);
        struct ak_json *tf = NULL;
        AK_ASSERT_EQ_INT(ak_iam_init_tf(&bad[i].in, &tf, &err), AK_EINVAL);
        AK_ASSERT_NULL(tf);
        AK_ASSERT_CONTAINS(err.buf, bad[i].want);
        ak_buf_release(&err);
    }
}

AK_TEST_MAIN(AK_T(parse_duplicate_key_names_json_path), AK_T(parse_errors),
             AK_T(evaluation_table), AK_T(variables_need_version_2012),
             AK_T(decisions_deny_action_principal), AK_T(ctx_from_claims_github_and_circleci),
             AK_T(audit_fixture_per_rule), AK_T(audit_details),
             AK_T(audit_circleci_branch_patterns), AK_T(audit_circleci_ssh_rerun),
             AK_T(audit_github_case_mismatch), AK_T(audit_get_role_duplicate_path_rebased),
             AK_T(findings_json_and_sarif),
             AK_T(severity_names), AK_T(init_tf_passes_audit_for_each_ci),
             AK_T(init_tf_allows_the_right_token_only), AK_T(init_tf_rejects_bad_input))
