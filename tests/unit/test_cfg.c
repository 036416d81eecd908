/* test_cfg.c — the configuration loader: defaults, a full file, every error class with its
 * exact FILE:LINE:COL, ${ENV} expansion, suggestions, ranges, and the defaults dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "ak_test.h"

#define KIB 1024ULL
#define SEC 1000LL
#define DAY (86400LL * SEC)

static int load(const char *yaml, struct ak_cfg *c, struct ak_buf *err)
{
    return ak_cfg_load_string("t.yaml", yaml, strlen(yaml), c, err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

AK_TEST(defaults_match_header)
{
    struct ak_cfg c;

    ak_cfg_defaults(&c);
    AK_ASSERT_STR(c.source, "(defaults)");
    AK_ASSERT_STR(c.listen, "127.0.0.1:9780");
    AK_ASSERT_STR(c.data_dir, "./asakai-data");
    AK_ASSERT_EQ_INT(c.max_body, 256 * KIB);
    AK_ASSERT_EQ_INT(c.request_timeout_ms, 15 * SEC);
    AK_ASSERT_EQ_INT(c.threads, 8);
    AK_ASSERT_EQ_INT(c.max_connections, 512);
    AK_ASSERT_STR(c.log_level, "info");
    AK_ASSERT_NULL(c.api_token);
    AK_ASSERT_EQ_INT(c.sns_topics.n, 0);
    AK_ASSERT_STR(c.sns_cert_url_pattern, "^https://sns\\.{region}\\.amazonaws\\.com(\\.cn)?/"
                                          "SimpleNotificationService-[0-9a-f]+\\.pem$");
    AK_ASSERT_STR(c.sns_subscribe_url_pattern,
                  "^https://sns\\.{region}\\.amazonaws\\.com(\\.cn)?/"
                  "\\?Action=ConfirmSubscription&");
    AK_ASSERT_NULL(c.sns_ca_file);
    AK_ASSERT(!c.sns_verify_cert_chain);
    AK_ASSERT_EQ_INT(c.sns_cert_names.n, 4);
    AK_ASSERT_STR(c.sns_cert_names.v[0], "sns.amazonaws.com");
    AK_ASSERT_STR(c.sns_cert_names.v[1], "sns-signing.{region}.amazonaws.com");
    AK_ASSERT_STR(c.sns_cert_names.v[2], "sns.{region}.amazonaws.com.cn");
    AK_ASSERT_STR(c.sns_cert_names.v[3], "sns-{region}.amazonaws.com.cn");
    AK_ASSERT_EQ_INT(c.sns_cert_max_bytes, 16 * KIB);
    AK_ASSERT_EQ_INT(c.sns_fetch_timeout_ms, 5 * SEC);
    AK_ASSERT(c.sns_auto_confirm);
    AK_ASSERT_STR(c.eb_api_key_header, "X-Asakai-Key");
    AK_ASSERT_NULL(c.eb_api_key);
    AK_ASSERT_EQ_INT(c.recurrence_window_ms, 30 * DAY);
    AK_ASSERT_EQ_INT(c.important_within_ms, 14 * DAY);
    ak_cfg_release(&c);
    AK_ASSERT_NULL(c.listen);
    ak_cfg_release(&c); /* twice is harmless */
    ak_cfg_release(NULL);
}

AK_TEST(full_file_loads)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[1024];
    int r;

    setenv("AK_TEST_API_TOKEN", "tok-123", 1);
    setenv("AK_TEST_EB_PREFIX", "abc", 1);
    setenv("AK_TEST_EB_SUFFIX", "xyz", 1);
    snprintf(path, sizeof(path), "%s/tests/data/cfg/full.yaml", ak_test_srcdir());
    r = ak_cfg_load(path, &c, &err);
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_OK(r);
    AK_ASSERT_STR(c.source, path);
    AK_ASSERT_STR(c.listen, "[::1]:8443");
    AK_ASSERT_STR(c.data_dir, "/var/lib/asakai");
    AK_ASSERT_EQ_INT(c.max_body, 1024 * KIB);
    AK_ASSERT_EQ_INT(c.request_timeout_ms, 30 * SEC);
    AK_ASSERT_EQ_INT(c.threads, 16);
    AK_ASSERT_EQ_INT(c.max_connections, 2048);
    AK_ASSERT_STR(c.log_level, "debug");
    AK_ASSERT_STR(c.api_token, "tok-123");
    AK_ASSERT_EQ_INT(c.sns_topics.n, 2);
    AK_ASSERT_STR(c.sns_topics.v[0], "arn:aws:sns:us-east-1:123456789012:maintenance-*");
    AK_ASSERT_STR(c.sns_topics.v[1], "arn:aws-cn:sns:cn-north-1:*:health");
    AK_ASSERT_STR(c.sns_cert_url_pattern,
                  "^https://sns\\.{region}\\.amazonaws\\.com/"
                  "SimpleNotificationService-[0-9a-f]+\\.pem$");
    AK_ASSERT_STR(c.sns_ca_file, "/etc/ssl/certs/ca-certificates.crt");
    AK_ASSERT(c.sns_verify_cert_chain);
    AK_ASSERT_EQ_INT(c.sns_cert_names.n, 1);
    AK_ASSERT_STR(c.sns_cert_names.v[0], "sns.amazonaws.com");
    AK_ASSERT_EQ_INT(c.sns_cert_max_bytes, 32 * KIB);
    AK_ASSERT_EQ_INT(c.sns_fetch_timeout_ms, 2500);
    AK_ASSERT(!c.sns_auto_confirm);
    AK_ASSERT_STR(c.eb_api_key_header, "X-Api-Key");
    AK_ASSERT_STR(c.eb_api_key, "k-abc-xyz-${literal}");
    AK_ASSERT_EQ_INT(c.recurrence_window_ms, 7 * DAY);
    AK_ASSERT_EQ_INT(c.important_within_ms, 7 * DAY);
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(empty_and_comment_only_give_defaults)
{
    static const char *const docs[] = {"", "# only a comment\n", "---\n", "~\n", "server:\n"};
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[1024];

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        AK_ASSERT_OK(load(docs[i], &c, &err));
        AK_ASSERT_STR(c.listen, "127.0.0.1:9780");
        AK_ASSERT_STR(c.source, "t.yaml");
        ak_cfg_release(&c);
    }
    snprintf(path, sizeof(path), "%s/tests/data/cfg/comments_only.yaml", ak_test_srcdir());
    AK_ASSERT_OK(ak_cfg_load(path, &c, &err));
    AK_ASSERT_EQ_INT(c.threads, 8);
    AK_ASSERT_STR(err.buf, "");
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(missing_file_is_eio)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[512];

    snprintf(path, sizeof(path), "%s/nope.yaml", AK_TMPDIR());
    AK_ASSERT_EQ_INT(ak_cfg_load(path, &c, &err), AK_EIO);
    AK_ASSERT_CONTAINS(err.buf, "cannot read ");
    AK_ASSERT_CONTAINS(err.buf, "nope.yaml: No such file or directory");
    AK_ASSERT_NULL(c.listen);
    ak_buf_release(&err);
}

AK_TEST(many_errors_are_all_reported)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[1024], want[1400];

    snprintf(path, sizeof(path), "%s/tests/data/cfg/many_errors.yaml", ak_test_srcdir());
    AK_ASSERT_EQ_INT(ak_cfg_load(path, &c, &err), AK_ECONFIG);
    AK_ASSERT_NULL(c.listen); /* released on failure */
    AK_ASSERT_EQ_INT(count_lines(err.buf), 9);
#define LINE(l, rest)                                                                              \
    do {                                                                                           \
        snprintf(want, sizeof(want), "%s:%s\n", path, l rest);                                    \
        AK_ASSERT_CONTAINS(err.buf, want);                                                         \
    } while (0)
    LINE("2:11: ", "server.listen: must be HOST:PORT or [IPv6]:PORT");
    LINE("3:12: ", "server.threads: must be between 1 and 256");
    LINE("4:14: ", "server.log_level: must be one of: debug|info|warn|error");
    LINE("5:20: ", "server.request_timeout: not a duration (examples: 500ms, 15s, 2h, 30d)");
    LINE("6:3: ", "server.listn: unknown key; did you mean 'server.listen'?");
    LINE("9:5: ", "intake.sns.topic: unknown key; did you mean 'intake.sns.topics'?");
    LINE("10:23: ", "intake.sns.cert_url_pattern: bad regular expression (with "
                    "{region}=us-east-1): Unmatched ( or \\(");
    LINE("11:16: ", "intake.eventbridge: expected a mapping of keys, got a single value");
    LINE("13:22: ", "maintenance.recurrence_window: expected a single value, got a list");
#undef LINE
    /* Document order. */
    AK_ASSERT(strstr(err.buf, ":2:11:") < strstr(err.buf, ":13:22:"));
    ak_buf_release(&err);
}

AK_TEST(unknown_key_suggestions)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    /* The right name in the wrong section. */
    AK_ASSERT_EQ_INT(load("server:\n  topics: ['*']\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:3: server.topics: unknown key; did you mean "
                           "'intake.sns.topics'?\n");
    ak_buf_reset(&err);
    /* A misspelt section. */
    AK_ASSERT_EQ_INT(load("intake:\n  snss:\n    topics: []\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:3: intake.snss: unknown key; did you mean 'intake.sns'?\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("maintenanse: {}\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:1: maintenanse: unknown key; did you mean 'maintenance'?\n");
    ak_buf_reset(&err);
    /* Nothing close: no guess. */
    AK_ASSERT_EQ_INT(load("foo: 1\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:1: foo: unknown key\n");
    ak_buf_reset(&err);
    /* Flat dotted keys are refused, not silently taken. */
    AK_ASSERT_EQ_INT(load("server.listen: 1.2.3.4:80\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:1:1: (document): keys must not contain '.'");
    ak_buf_release(&err);
}

AK_TEST(wrong_shapes)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("server: 8\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:9: server: expected a mapping of keys, got a single value\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    topics: '*'\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:13: intake.sns.topics: expected a list, got a single value\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    topics: ['*', [a], ~]\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:19: intake.sns.topics[1]: expected a string, got a list\n"
                           "t.yaml:3:24: intake.sns.topics[2]: expected a string, got nothing\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("- a\n- b\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:1: (document): expected a mapping of keys, got a list\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  threads:\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:11: server.threads: needs a value\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  threads: {a: 1}\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:12: server.threads: expected a single value, got a mapping\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  verify: 1\n  threads: x\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:3:12: server.threads: not a whole number\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    auto_confirm: maybe\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:19: intake.sns.auto_confirm: must be true or false\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  listen: \"a\\0b:1\"\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:11: server.listen: value contains a NUL byte\n");
    ak_buf_release(&err);
}

AK_TEST(ranges)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("server:\n  max_body_bytes: 65MiB\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:19: server.max_body_bytes: must be between 1KiB and 64MiB\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  request_timeout: 301s\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:20: server.request_timeout: must be between 1s and 5m\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  max_connections: 65537\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:20: server.max_connections: must be between 1 and 65536\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  threads: 99999999999999999999999\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:12: server.threads: not a whole number\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    fetch_timeout: 50ms\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:20: intake.sns.fetch_timeout: must be between 100ms and 1m\n");
    ak_buf_reset(&err);
    /* The bounds themselves are inside. */
    AK_ASSERT_OK(load("server:\n  max_body_bytes: 64MiB\n  request_timeout: 1s\n  threads: 256\n"
                      "maintenance:\n  important_within: 365d\n",
                      &c, &err));
    AK_ASSERT_EQ_INT(c.max_body, 64 * 1024 * KIB);
    AK_ASSERT_EQ_INT(c.request_timeout_ms, SEC);
    AK_ASSERT_EQ_INT(c.threads, 256);
    AK_ASSERT_EQ_INT(c.important_within_ms, 365 * DAY);
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(bad_duration_and_size)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("maintenance:\n  recurrence_window: 30 days\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:22: maintenance.recurrence_window: not a duration "
                           "(examples: 500ms, 15s, 2h, 30d)\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    cert_max_bytes: 16 KB\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:21: intake.sns.cert_max_bytes: not a size "
                           "(examples: 4096, 64KiB, 1MiB)\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  request_timeout: -5s\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:20: server.request_timeout: not a duration");
    ak_buf_release(&err);
}

AK_TEST(duplicate_keys)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("server:\n  threads: 2\n  threads: 3\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:3: server.threads: duplicate key (first set at line 2 "
                           "column 3)\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server: {}\nintake: {}\nserver: {}\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:1: server: duplicate key (first set at line 1 column 1)\n");
    ak_buf_release(&err);
}

AK_TEST(yaml_syntax_errors)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("server:\n  listen: a: b\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:12: (syntax): mapping values are not allowed in this "
                           "context\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  threads: [1, 2\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:1: (syntax): did not find expected ',' or ']' while "
                           "parsing a flow sequence (line 2 column 12)\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n\tthreads: 1\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:1: (syntax): found character that cannot start any "
                                "token");
    ak_buf_reset(&err);
    /* Invalid UTF-8 is a reader error: located by byte offset. */
    AK_ASSERT_EQ_INT(load("server:\n  data_dir: \xff\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:13: (syntax): invalid leading UTF-8 octet");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server: {}\n---\nserver: {}\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:1: (syntax): only one YAML document is allowed\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("x: &a 1\nserver:\n  threads: *a\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:12: (syntax): aliases (*name) are not supported in the "
                           "configuration\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
                          &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:19: (syntax): nesting is too deep\n");
    ak_buf_release(&err);
}

AK_TEST(env_expansion)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    setenv("AK_T_HOST", "10.0.0.1", 1);
    setenv("AK_T_PORT", "8080", 1);
    setenv("AK_T_EMPTY", "", 1);
    AK_ASSERT_OK(load("server:\n  listen: ${AK_T_HOST}:${AK_T_PORT}\n"
                      "  data_dir: '/srv/$${HOME}/${AK_T_EMPTY}x$y${AK_T_PORT}'\n",
                      &c, &err));
    AK_ASSERT_STR(c.listen, "10.0.0.1:8080");
    AK_ASSERT_STR(c.data_dir, "/srv/${HOME}/x$y8080");
    ak_cfg_release(&c);
    /* List items expand too. */
    setenv("AK_T_ACCT", "123456789012", 1);
    AK_ASSERT_OK(load("intake:\n  sns:\n    topics: ['arn:aws:sns:*:${AK_T_ACCT}:x']\n", &c, &err));
    AK_ASSERT_STR(c.sns_topics.v[0], "arn:aws:sns:*:123456789012:x");
    ak_cfg_release(&c);
    /* Not-string options do not expand. */
    AK_ASSERT_EQ_INT(load("server:\n  threads: ${AK_T_PORT}\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:12: server.threads: not a whole number\n");
    ak_buf_release(&err);
}

AK_TEST(env_errors)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    unsetenv("AK_T_UNSET_VAR");
    AK_ASSERT_EQ_INT(load("intake:\n  eventbridge:\n    api_key: ${AK_T_UNSET_VAR}\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:14: intake.eventbridge.api_key: environment variable "
                           "AK_T_UNSET_VAR is not set\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  api_token: ${OOPS\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:14: server.api_token: unterminated \"${\"");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  api_token: ${BAD-NAME}\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:14: server.api_token: bad environment variable name");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("server:\n  api_token: ${}\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "bad environment variable name");
    ak_buf_release(&err);
}

AK_TEST(secrets_never_in_messages)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    setenv("AK_T_SECRET", "hunter2 with space", 1);
    AK_ASSERT_EQ_INT(load("intake:\n  eventbridge:\n    api_key: ${AK_T_SECRET}\n"
                          "server:\n  listen: ${AK_T_SECRET}\n  log_level: ${AK_T_SECRET}\n",
                          &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_EQ_INT(count_lines(err.buf), 3);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:3:14: intake.eventbridge.api_key: must not contain spaces");
    AK_ASSERT(strstr(err.buf, "hunter2") == NULL);
    ak_buf_release(&err);
}

AK_TEST(nullable_options)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(load("server:\n  api_token: ~\nintake:\n  sns:\n    topics:\n    ca_file:\n",
                      &c, &err));
    AK_ASSERT_NULL(c.api_token);
    AK_ASSERT_NULL(c.sns_ca_file);
    AK_ASSERT_EQ_INT(c.sns_topics.n, 0);
    ak_cfg_release(&c);
    /* An explicitly empty string is not "unset". */
    AK_ASSERT_EQ_INT(load("server:\n  api_token: ''\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:14: server.api_token: must not be empty (leave the key out "
                           "to unset it)\n");
    ak_buf_release(&err);
}

AK_TEST(regex_options)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    subscribe_url_pattern: 'https://x'\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:28: intake.sns.subscribe_url_pattern: regular expression "
                           "must be anchored: start it with '^'\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    cert_url_pattern: '^a[b'\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:3:23: intake.sns.cert_url_pattern: bad regular "
                                "expression (with {region}=us-east-1): ");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    cert_url_pattern: '^((a{1,100}){1,100})'\n", &c,
                          &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "repeats too much");
    ak_buf_reset(&err);
    /* {region} is substituted before compiling: "{r" alone would be a bad interval. */
    AK_ASSERT_OK(load("intake:\n  sns:\n    cert_url_pattern: '^https://{region}/x{1,3}$'\n", &c,
                      &err));
    AK_ASSERT_STR(c.sns_cert_url_pattern, "^https://{region}/x{1,3}$");
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(listen_validation)
{
    static const char *const good[] = {"0.0.0.0:1", "localhost:65535", "[::]:9780",
                                       "[fe80::1]:80", "my-host.example.com:443"};
    static const char *const bad[] = {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":80",
                                      "::1:80", "[::1]80", "[]:80", "h:8x", "a b:1"};
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char doc[128];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(doc, sizeof(doc), "server:\n  listen: '%s'\n", good[i]);
        AK_ASSERT_OK(load(doc, &c, &err));
        AK_ASSERT_STR(c.listen, good[i]);
        ak_cfg_release(&c);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(doc, sizeof(doc), "server:\n  listen: '%s'\n", bad[i]);
        ak_buf_reset(&err);
        AK_ASSERT_EQ_INT(load(doc, &c, &err), AK_ECONFIG);
        AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:11: server.listen: ");
    }
    ak_buf_release(&err);
}

AK_TEST(topic_validation)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(load("intake:\n  sns:\n    topics: ['*', 'arn:aws:sns:*:*:*', "
                      "'arn:aws-us-gov:sns:us-gov-west-1:1234?:a_b-c.fifo']\n",
                      &c, &err));
    AK_ASSERT_EQ_INT(c.sns_topics.n, 3);
    ak_cfg_release(&c);
    AK_ASSERT_EQ_INT(load("intake:\n  sns:\n    topics:\n      - arn:aws:sqs:us-east-1:1:q\n"
                          "      - 'arn:aws:sns:us-east-1:1'\n      - my-topic\n"
                          "      - 'arn:aws:sns:us-east-1::x'\n",
                          &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_EQ_INT(count_lines(err.buf), 4);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:4:9: intake.sns.topics[0]: must be '*' or a TopicArn");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:5:9: intake.sns.topics[1]: ");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:6:9: intake.sns.topics[2]: ");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:7:9: intake.sns.topics[3]: ");
    ak_buf_release(&err);
}

AK_TEST(error_cap_is_twenty)
{
    struct ak_cfg c;
    struct ak_buf doc = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_buf_add(&doc, "server:\n");
    for (int i = 0; i < 30; i++)
        ak_buf_addf(&doc, "  bogus%d: 1\n", i);
    AK_ASSERT_EQ_INT(ak_cfg_load_string("t.yaml", doc.buf, doc.len, &c, &err), AK_ECONFIG);
    AK_ASSERT_EQ_INT(count_lines(err.buf), 20);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:21:3: server.bogus19: unknown key\n");
    AK_ASSERT(strstr(err.buf, "bogus20") == NULL);
    /* err may be NULL. */
    AK_ASSERT_EQ_INT(ak_cfg_load_string("t.yaml", doc.buf, doc.len, &c, NULL), AK_ECONFIG);
    ak_buf_release(&doc);
    ak_buf_release(&err);
}

AK_TEST(file_errors_name_the_file)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[512], want[600];
    FILE *f;

    snprintf(path, sizeof(path), "%s/asakai.yaml", AK_TMPDIR());
    f = fopen(path, "w");
    AK_ASSERT(f != NULL);
    fputs("# comment\nserver:\n  threads: 1000\n", f);
    fclose(f);
    AK_ASSERT_EQ_INT(ak_cfg_load(path, &c, &err), AK_ECONFIG);
    snprintf(want, sizeof(want), "%s:3:12: server.threads: must be between 1 and 256\n", path);
    AK_ASSERT_STR(err.buf, want);
    ak_buf_release(&err);
    /* A directory cannot be read as a file. */
    AK_ASSERT_EQ_INT(ak_cfg_load(AK_TMPDIR(), &c, &err), AK_EIO);
    AK_ASSERT_CONTAINS(err.buf, "cannot read ");
    AK_ASSERT_CONTAINS(err.buf, "Is a directory");
    ak_buf_release(&err);
}

AK_TEST(odd_keys)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("? [a]\n: 1\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:3: (document): keys must be non-empty names\n");
    ak_buf_reset(&err);
    /* Control bytes in a key do not break the one-line-per-error format. */
    AK_ASSERT_EQ_INT(load("\"a\\nb\": 1\n", &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:1: a?b: unknown key\n");
    ak_buf_release(&err);
}

AK_TEST(oversized_input_refused)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t n = 1024 * 1024 + 1;
    char *big = malloc(n);

    AK_ASSERT(big != NULL);
    memset(big, '#', n); /* a valid, all-comment document: only the size is wrong */
    AK_ASSERT_EQ_INT(ak_cfg_load_string("big.yaml", big, n, &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "big.yaml:1:1: (document): file is larger than 1048576 bytes\n");
    AK_ASSERT_OK(ak_cfg_load_string("big.yaml", big, n - 1, &c, &err));
    ak_cfg_release(&c);
    free(big);
    ak_buf_release(&err);
}

AK_TEST(dump_defaults_roundtrip)
{
    struct ak_cfg d, c;
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(ak_cfg_dump_defaults(&out));
    AK_ASSERT_CONTAINS(out.buf, "server:\n");
    AK_ASSERT_CONTAINS(out.buf, "  listen: '127.0.0.1:9780'\n");
    AK_ASSERT_CONTAINS(out.buf, "\nintake:\n");
    AK_ASSERT_CONTAINS(out.buf, "  sns:\n");
    AK_ASSERT_CONTAINS(out.buf, "    topics: []\n");
    AK_ASSERT_CONTAINS(out.buf, "  eventbridge:\n");
    AK_ASSERT_CONTAINS(out.buf, "    # api_key:\n");
    AK_ASSERT_CONTAINS(out.buf, "      - 'sns-signing.{region}.amazonaws.com'\n");
    AK_ASSERT_CONTAINS(out.buf, "  recurrence_window: 30d\n");
    AK_ASSERT_CONTAINS(out.buf, "# (duration, 1s .. 5m)\n");
    AK_ASSERT_OK(ak_cfg_load_string("dump", out.buf, out.len, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    ak_cfg_defaults(&d);
    AK_ASSERT_STR(c.listen, d.listen);
    AK_ASSERT_STR(c.data_dir, d.data_dir);
    AK_ASSERT_EQ_INT(c.max_body, d.max_body);
    AK_ASSERT_EQ_INT(c.request_timeout_ms, d.request_timeout_ms);
    AK_ASSERT_EQ_INT(c.threads, d.threads);
    AK_ASSERT_EQ_INT(c.max_connections, d.max_connections);
    AK_ASSERT_STR(c.log_level, d.log_level);
    AK_ASSERT_NULL(c.api_token);
    AK_ASSERT_EQ_INT(c.sns_topics.n, 0);
    AK_ASSERT_STR(c.sns_cert_url_pattern, d.sns_cert_url_pattern);
    AK_ASSERT_STR(c.sns_subscribe_url_pattern, d.sns_subscribe_url_pattern);
    AK_ASSERT_NULL(c.sns_ca_file);
    AK_ASSERT_EQ_INT(c.sns_verify_cert_chain, d.sns_verify_cert_chain);
    AK_ASSERT_EQ_INT(c.sns_cert_names.n, d.sns_cert_names.n);
    for (size_t i = 0; i < d.sns_cert_names.n; i++)
        AK_ASSERT_STR(c.sns_cert_names.v[i], d.sns_cert_names.v[i]);
    AK_ASSERT_EQ_INT(c.sns_cert_max_bytes, d.sns_cert_max_bytes);
    AK_ASSERT_EQ_INT(c.sns_fetch_timeout_ms, d.sns_fetch_timeout_ms);
    AK_ASSERT_EQ_INT(c.sns_auto_confirm, d.sns_auto_confirm);
    AK_ASSERT_STR(c.eb_api_key_header, d.eb_api_key_header);
    AK_ASSERT_NULL(c.eb_api_key);
    AK_ASSERT_EQ_INT(c.recurrence_window_ms, d.recurrence_window_ms);
    AK_ASSERT_EQ_INT(c.important_within_ms, d.important_within_ms);
    ak_cfg_release(&c);
    ak_cfg_release(&d);
    ak_buf_release(&out);
    ak_buf_release(&err);
}

AK_TEST(dump_into_capped_buffer)
{
    struct ak_buf out = AK_BUF_INIT(64);

    AK_ASSERT_EQ_INT(ak_cfg_dump_defaults(&out), AK_ETOOBIG);
    AK_ASSERT_EQ_INT(out.len, 0);
    ak_buf_release(&out);
}

AK_TEST_MAIN(AK_T(defaults_match_header), AK_T(full_file_loads),
             AK_T(empty_and_comment_only_give_defaults), AK_T(missing_file_is_eio),
             AK_T(many_errors_are_all_reported), AK_T(unknown_key_suggestions), AK_T(wrong_shapes),
             AK_T(ranges), AK_T(bad_duration_and_size), AK_T(duplicate_keys),
             AK_T(yaml_syntax_errors), AK_T(env_expansion), AK_T(env_errors),
             AK_T(secrets_never_in_messages), AK_T(nullable_options), AK_T(regex_options),
             AK_T(listen_validation), AK_T(topic_validation), AK_T(error_cap_is_twenty),
             AK_T(file_errors_name_the_file), AK_T(odd_keys), AK_T(oversized_input_refused),
             AK_T(dump_defaults_roundtrip),
             AK_T(dump_into_capped_buffer))
