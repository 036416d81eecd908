/* test_route.c — the routing tree: the issue's example, continue, first match stops, nesting, the
 * default tree, explanations, resource and tag matchers, and matchers for silences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_route.h"
#include "ak_test.h"

/* The configuration of issue 3, verbatim. */
static const char issue_example[] =
    "receivers:\n"
    "  - name: team-mail\n"
    "    email: {smarthost: \"smtp://127.0.0.1:2525\", from: \"asakai@example.com\", to: "
    "[\"sre@example.com\"]}\n"
    "  - name: team-slack\n"
    "    slack: {webhook_url: \"https://hooks.slack.com/services/T000/B000/XXXX\"}\n"
    "route:\n"
    "  receivers: [team-mail]          # everything\n"
    "  routes:\n"
    "    - match: {importance: high}\n"
    "      receivers: [team-slack]\n";

static const char receivers_abc[] = "receivers:\n"
                                    "  - {name: a, webhook: {url: 'http://127.0.0.1:1/a'}}\n"
                                    "  - {name: b, webhook: {url: 'http://127.0.0.1:1/b'}}\n"
                                    "  - {name: c, webhook: {url: 'http://127.0.0.1:1/c'}}\n"
                                    "  - {name: d, webhook: {url: 'http://127.0.0.1:1/d'}}\n";

struct fixture {
    struct ak_cfg cfg;
    struct ak_route_tree *t;
    struct ak_buf err;
};

static int setup(struct fixture *f, const char *yaml)
{
    int r;

    memset(f, 0, sizeof(*f));
    ak_buf_init(&f->err, AK_BUF_NOMAX);
    r = ak_cfg_load_string("t.yaml", yaml, strlen(yaml), &f->cfg, &f->err);
    if (r == AK_OK)
        r = ak_route_build(&f->cfg, &f->t, &f->err);
    if (r != AK_OK)
        printf("# setup: %s\n", f->err.buf);
    return r;
}

static void teardown(struct fixture *f)
{
    ak_route_free(f->t);
    ak_cfg_release(&f->cfg);
    ak_buf_release(&f->err);
}

/* The receivers reached, as "a,b" (empty string for none). */
static char *reach(const struct fixture *f, const struct ak_route_input *in, struct ak_buf *ex)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    const char **v = NULL;
    size_t n = 0;

    if (ak_route_match(f->t, in, &v, &n, ex) != AK_OK)
        return strdup("(error)");
    for (size_t i = 0; i < n; i++)
        ak_buf_addf(&b, "%s%s", i ? "," : "", v[i]);
    free(v);
    return ak_buf_detach(&b, NULL);
}

#define ASSERT_REACH(f, in, want)                                                                  \
    do {                                                                                           \
        char *got_ = reach((f), (in), NULL);                                                       \
        int ok_ = strcmp(got_, (want)) == 0;                                                       \
        if (!ok_)                                                                                  \
            printf("# reach: got \"%s\", wanted \"%s\"\n", got_, (want));                          \
        free(got_);                                                                                \
        AK_ASSERT(ok_);                                                                            \
    } while (0)

AK_TEST(issue_example)
{
    struct fixture f;
    struct ak_route_input normal = {.service = "rds", .kind = "hardware-maintenance"};
    struct ak_route_input important = normal;

    important.important = true;
    AK_ASSERT_OK(setup(&f, issue_example));
    ASSERT_REACH(&f, &normal, "team-mail");
    ASSERT_REACH(&f, &important, "team-mail,team-slack");
    teardown(&f);
}

AK_TEST(explain_text)
{
    struct fixture f;
    struct ak_route_input in = {.service = "rds"};
    struct ak_buf ex = AK_BUF_INIT(AK_BUF_NOMAX);
    char *got;

    AK_ASSERT_OK(setup(&f, issue_example));
    got = reach(&f, &in, &ex);
    AK_ASSERT_STR(got, "team-mail");
    free(got);
    AK_ASSERT_STR(ex.buf, "route /: matched -> team-mail\n"
                          "route /routes/0 {importance=high}: not matched (importance is normal, "
                          "wanted high)\n");
    ak_buf_reset(&ex);
    in.important = true;
    got = reach(&f, &in, &ex);
    free(got);
    AK_ASSERT_STR(ex.buf, "route /: matched -> team-mail\n"
                          "route /routes/0 {importance=high}: matched -> team-slack\n");
    ak_buf_release(&ex);
    teardown(&f);
}

AK_TEST(first_match_stops_and_continue)
{
    static const char routes[] = "route:\n"
                                 "  receivers: [a]\n"
                                 "  routes:\n"
                                 "    - {match: {service: rds}, receivers: [b]}\n"
                                 "    - {match_re: {service: 'rds|ec2'}, receivers: [c]}\n"
                                 "    - {matchers: ['service!=ec2'], receivers: [d], continue: "
                                 "true}\n";
    struct fixture f;
    struct ak_route_input rds = {.service = "rds"}, ec2 = {.service = "ec2"},
                          s3 = {.service = "s3"};
    struct ak_buf ex = AK_BUF_INIT(AK_BUF_NOMAX);
    char yaml[2048], *got;

    snprintf(yaml, sizeof(yaml), "%s%s", receivers_abc, routes);
    AK_ASSERT_OK(setup(&f, yaml));
    ASSERT_REACH(&f, &rds, "a,b"); /* /routes/0 matched and stops its siblings */
    ASSERT_REACH(&f, &ec2, "a,c");
    ASSERT_REACH(&f, &s3, "a,d");
    got = reach(&f, &rds, &ex);
    free(got);
    AK_ASSERT_STR(ex.buf, "route /: matched -> a\n"
                          "route /routes/0 {service=rds}: matched -> b\n"
                          "route /routes/1 {service=~rds|ec2}: not tried (/routes/0 matched and "
                          "does not continue)\n"
                          "route /routes/2 {service!=ec2}: not tried (/routes/0 matched and does "
                          "not continue)\n");
    ak_buf_release(&ex);
    teardown(&f);

    /* With continue on the first route, the next matching sibling is reached too. */
    snprintf(yaml, sizeof(yaml), "%s%s", receivers_abc,
             "route:\n  routes:\n"
             "    - {match: {service: rds}, receivers: [b], continue: true}\n"
             "    - {match: {service: s3}, receivers: [a]}\n"
             "    - {match_re: {service: 'rds|ec2'}, receivers: [c, b]}\n"
             "    - {matchers: ['service=~.*'], receivers: [d]}\n");
    AK_ASSERT_OK(setup(&f, yaml));
    ASSERT_REACH(&f, &rds, "b,c"); /* deduplicated, first-reached order */
    ASSERT_REACH(&f, &s3, "a");
    ASSERT_REACH(&f, &ec2, "c,b");
    teardown(&f);
}

AK_TEST(nested_routes_accumulate)
{
    static const char routes[] =
        "route:\n"
        "  receivers: [a]\n"
        "  routes:\n"
        "    - match: {account: '111111111111'}\n"
        "      receivers: [b]\n"
        "      routes:\n"
        "        - match: {importance: high}\n"
        "          receivers: [c]\n"
        "          routes:\n"
        "            - {match: {region: us-east-1}, receivers: [d, a]}\n"
        "    - {receivers: [d]}\n";
    struct fixture f;
    struct ak_route_input in = {.account = "111111111111", .region = "us-east-1"};
    struct ak_buf ex = AK_BUF_INIT(AK_BUF_NOMAX);
    char yaml[2048], *got;

    snprintf(yaml, sizeof(yaml), "%s%s", receivers_abc, routes);
    AK_ASSERT_OK(setup(&f, yaml));
    ASSERT_REACH(&f, &in, "a,b");
    in.important = true;
    ASSERT_REACH(&f, &in, "a,b,c,d");
    got = reach(&f, &in, &ex);
    free(got);
    AK_ASSERT_CONTAINS(ex.buf, "route /routes/0/routes/0/routes/0 {region=us-east-1}: matched "
                               "-> d, a\n");
    in.account = "222222222222"; /* falls through to the catch-all sibling */
    ASSERT_REACH(&f, &in, "a,d");
    ak_buf_release(&ex);
    teardown(&f);
}

AK_TEST(default_tree)
{
    static const char yaml[] =
        "receivers:\n"
        "  - {name: mail, email: {smarthost: 'smtp://localhost', from: a@example.com, to: "
        "[b@example.com]}}\n"
        "  - {name: chat, slack: {webhook_url: 'https://hooks.slack.com/services/x'}}\n"
        "  - {name: hook, webhook: {url: 'https://example.com/hook'}}\n"
        "  - {name: chat2, slack: {bot_token: xoxb-1, channel: '#sre'}}\n";
    struct fixture f;
    struct ak_route_input in = {.service = "ec2"};
    struct ak_buf ex = AK_BUF_INIT(AK_BUF_NOMAX);
    char *got;

    AK_ASSERT_OK(setup(&f, yaml));
    AK_ASSERT_NULL(f.cfg.route);
    ASSERT_REACH(&f, &in, "mail,hook");
    in.important = true;
    got = reach(&f, &in, &ex);
    AK_ASSERT_STR(got, "mail,hook,chat,chat2");
    free(got);
    AK_ASSERT_STR(ex.buf, "route /: matched -> mail, hook\n"
                          "route /routes/0 {importance=high}: matched -> chat, chat2\n");
    ak_buf_release(&ex);
    teardown(&f);

    /* No receivers at all: nothing is reached, and that is not an error. */
    AK_ASSERT_OK(setup(&f, ""));
    ASSERT_REACH(&f, &in, "");
    teardown(&f);
}

AK_TEST(resource_matching)
{
    static const char routes[] =
        "route:\n  routes:\n"
        "    - {matchers: ['resource=prod-db-1'], receivers: [a], continue: true}\n"
        "    - {matchers: ['resource=~\"arn:aws:rds:.*:db:prod-.*\"'], receivers: [b], continue: "
        "true}\n"
        "    - {matchers: ['resource!=prod-db-1'], receivers: [c], continue: true}\n"
        "    - {matchers: ['resource!~prod-.*'], receivers: [d]}\n";
    static const char *const two[] = {"arn:aws:rds:us-east-1:1:db:prod-db-2", "prod-db-1"};
    static const char *const other[] = {"dev-db-1"};
    struct fixture f;
    struct ak_route_input in = {.resources = two, .n_resources = 2};
    struct ak_buf ex = AK_BUF_INIT(AK_BUF_NOMAX);
    char yaml[2048], *got;

    snprintf(yaml, sizeof(yaml), "%s%s", receivers_abc, routes);
    AK_ASSERT_OK(setup(&f, yaml));
    ASSERT_REACH(&f, &in, "a,b"); /* any resource: the second one is prod-db-1 */
    in.resources = other;
    in.n_resources = 1;
    got = reach(&f, &in, &ex);
    AK_ASSERT_STR(got, "c,d");
    free(got);
    AK_ASSERT_CONTAINS(ex.buf, "not matched (no resource is prod-db-1)\n");
    AK_ASSERT_CONTAINS(ex.buf, "not matched (no resource matches arn:aws:rds:.*:db:prod-.*)\n");
    in.n_resources = 0; /* no resources: = never matches, != always does */
    ASSERT_REACH(&f, &in, "c,d");
    ak_buf_release(&ex);
    teardown(&f);
}

AK_TEST(tag_matching)
{
    static const char routes[] = "route:\n  routes:\n"
                                 "    - {match: {tag.env: prod}, receivers: [a]}\n"
                                 "    - {match_re: {'tag.aws:team': 'sre|dba'}, receivers: [b]}\n"
                                 "    - {matchers: ['tag.env!=prod'], receivers: [c]}\n";
    struct fixture f;
    struct ak_route_input in = {.tags_json = "{\"env\":\"prod\",\"aws:team\":\"sre\"}"};
    struct ak_buf ex = AK_BUF_INIT(AK_BUF_NOMAX);
    char yaml[2048], *got;

    snprintf(yaml, sizeof(yaml), "%s%s", receivers_abc, routes);
    AK_ASSERT_OK(setup(&f, yaml));
    ASSERT_REACH(&f, &in, "a");
    in.tags_json = "{\"env\":\"dev\",\"aws:team\":\"dba\"}";
    got = reach(&f, &in, &ex);
    AK_ASSERT_STR(got, "b");
    free(got);
    AK_ASSERT_CONTAINS(ex.buf, "not matched (tag.env is dev, wanted prod)\n");
    in.tags_json = "{\"env\":\"dev\"}";
    ASSERT_REACH(&f, &in, "c");
    in.tags_json = NULL; /* no tags: tag.env!=prod holds */
    ASSERT_REACH(&f, &in, "c");
    in.tags_json = "not json"; /* unreadable tags count as none */
    ASSERT_REACH(&f, &in, "c");
    in.tags_json = "{\"env\":7}"; /* a non-string tag is not a value */
    ASSERT_REACH(&f, &in, "c");
    ak_buf_release(&ex);
    teardown(&f);
}

AK_TEST(every_field_is_matched)
{
    static const char *const res[] = {"i-0abc"};
    struct ak_route_input in = {"ec2",       "instance-retirement", "upcoming",
                                "123456789012", "ap-northeast-1",   "health",
                                "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
                                true,        res,
                                1,           "{\"team\":\"sre\"}"};
    static const char *const yes[] = {
        "service=ec2", "kind=instance-retirement", "status=upcoming", "account=123456789012",
        "region=ap-northeast-1", "source=health",
        "event_code=~AWS_EC2_.*", "importance=high", "resource=i-0abc", "tag.team=sre",
        "service!=rds", "region!~us-.*", "status=~upcoming|ongoing"};
    static const char *const no[] = {
        "service=rds", "kind!=instance-retirement", "status!~upcoming", "account=1",
        "region=~us-.*", "source=eventbridge", "event_code=AWS_EC2", "importance=normal",
        "resource=i-0def", "tag.team=dba", "tag.owner=~.*", "service=~ec"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct ak_matchers m;

        AK_ASSERT_OK(ak_matchers_parse(yes[i], &m, NULL));
        if (!ak_route_matchers_match(&m, &in))
            printf("# should match: %s\n", yes[i]);
        AK_ASSERT(ak_route_matchers_match(&m, &in));
        ak_matchers_release(&m);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct ak_matchers m;

        AK_ASSERT_OK(ak_matchers_parse(no[i], &m, NULL));
        if (ak_route_matchers_match(&m, &in))
            printf("# should not match: %s\n", no[i]);
        AK_ASSERT(!ak_route_matchers_match(&m, &in));
        ak_matchers_release(&m);
    }
}

AK_TEST(silence_matchers)
{
    struct ak_route_input in = {.service = "rds", .region = "us-east-1"};
    struct ak_matchers m, empty = {NULL, 0};
    struct ak_matcher bad[] = {{(char[]){"service"}, AK_MATCH_RE, (char[]){"(rds"}}};
    struct ak_matchers broken = {bad, 1};

    AK_ASSERT_OK(ak_matchers_parse("service=rds, region=~us-.*", &m, NULL));
    AK_ASSERT(ak_route_matchers_match(&m, &in));
    in.region = "eu-west-1";
    AK_ASSERT(!ak_route_matchers_match(&m, &in)); /* every matcher must hold */
    in.region = NULL;
    AK_ASSERT(!ak_route_matchers_match(&m, &in)); /* unset never matches =~ */
    ak_matchers_release(&m);
    AK_ASSERT(ak_route_matchers_match(&empty, &in));
    AK_ASSERT(!ak_route_matchers_match(&broken, &in)); /* a broken regex silences nothing */
    AK_ASSERT(!ak_route_matchers_match(NULL, &in));
}

AK_TEST(regex_is_anchored)
{
    struct ak_route_input in = {.service = "elasticache"};
    struct ak_matchers m;

    AK_ASSERT_OK(ak_matchers_parse("service=~cache", &m, NULL));
    AK_ASSERT(!ak_route_matchers_match(&m, &in)); /* a substring is not a match */
    ak_matchers_release(&m);
    AK_ASSERT_OK(ak_matchers_parse("service=~rds|elasticache", &m, NULL));
    AK_ASSERT(ak_route_matchers_match(&m, &in)); /* the anchor spans every alternative */
    ak_matchers_release(&m);
    AK_ASSERT_OK(ak_matchers_parse("service=~elastic|rds", &m, NULL));
    AK_ASSERT(!ak_route_matchers_match(&m, &in));
    ak_matchers_release(&m);
}

AK_TEST(build_errors)
{
    struct ak_cfg c;
    struct ak_cfg_route root, kid;
    struct ak_matcher bad = {(char[]){"service"}, AK_MATCH_RE, (char[]){"a{1"}};
    char *names[] = {(char[]){"ghost"}};
    struct ak_route_tree *t = NULL;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    /* Structures built by hand (not through the loader) are checked again. */
    ak_cfg_defaults(&c);
    memset(&root, 0, sizeof(root));
    memset(&kid, 0, sizeof(kid));
    root.line = 3;
    root.routes = &kid;
    root.n_routes = 1;
    kid.line = 7;
    kid.receivers.v = names;
    kid.receivers.n = 1;
    c.route = &root;
    AK_ASSERT_EQ_INT(ak_route_build(&c, &t, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "route at line 7: no receiver named \"ghost\".");
    AK_ASSERT_NULL(t);
    ak_buf_reset(&err);
    kid.receivers.n = 0;
    kid.match.v = &bad;
    kid.match.n = 1;
    AK_ASSERT_EQ_INT(ak_route_build(&c, &t, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "route at line 7: the regular expression for service does not "
                           "compile.");
    c.route = NULL;
    ak_cfg_release(&c);
    ak_buf_release(&err);
    ak_route_free(NULL);
}

AK_TEST_MAIN(AK_T(issue_example), AK_T(explain_text), AK_T(first_match_stops_and_continue),
             AK_T(nested_routes_accumulate), AK_T(default_tree), AK_T(resource_matching),
             AK_T(tag_matching), AK_T(every_field_is_matched), AK_T(silence_matchers),
             AK_T(regex_is_anchored), AK_T(build_errors))
