/* test_cfg.c — the configuration loader: defaults, a full file, every error class with its
 * exact FILE:LINE:COL, ${ENV} expansion, suggestions, ranges, and the defaults dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
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

/* ---- notifications: notify.*, receivers, route (issue 3) ---- */

AK_TEST(notify_defaults)
{
    struct ak_cfg c;

    ak_cfg_defaults(&c);
    AK_ASSERT_EQ_INT(c.n_reminders, 5);
    AK_ASSERT_EQ_INT(c.reminders_ms[0], 14 * DAY);
    AK_ASSERT_EQ_INT(c.reminders_ms[1], 7 * DAY);
    AK_ASSERT_EQ_INT(c.reminders_ms[2], 3 * DAY);
    AK_ASSERT_EQ_INT(c.reminders_ms[3], 1 * DAY);
    AK_ASSERT_EQ_INT(c.reminders_ms[4], 2 * 3600 * SEC);
    AK_ASSERT_EQ_INT(c.notify_give_up_ms, 24 * 3600 * SEC);
    AK_ASSERT_EQ_INT(c.notify_backoff_min_ms, 5 * SEC);
    AK_ASSERT_EQ_INT(c.notify_backoff_max_ms, 600 * SEC);
    AK_ASSERT_EQ_INT(c.notify_timeout_ms, 15 * SEC);
    AK_ASSERT_STR(c.digest_time, "09:00");
    AK_ASSERT_STR(c.digest_tz, "Asia/Tokyo");
    AK_ASSERT_EQ_INT(c.n_receivers, 0);
    AK_ASSERT_NULL(c.receivers);
    AK_ASSERT_NULL(c.route);
    ak_cfg_release(&c);
    AK_ASSERT_NULL(c.reminders_ms);
}

AK_TEST(notify_full_file)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_cfg_receiver *r;
    const struct ak_cfg_route *rt;
    char path[1024], *m;

    setenv("AK_TEST_SMTP_PASSWORD", "smtp-pw", 1);
    setenv("AK_TEST_SLACK_URL", "https://hooks.slack.com/services/T1/B2/zzz", 1);
    setenv("AK_TEST_SLACK_TOKEN", "xoxb-123", 1);
    setenv("AK_TEST_HOOK_SECRET", "hook-secret", 1);
    snprintf(path, sizeof(path), "%s/tests/data/cfg/notify.yaml", ak_test_srcdir());
    AK_ASSERT_OK(ak_cfg_load(path, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    /* notify.*: reminders sorted descending */
    AK_ASSERT_EQ_INT(c.n_reminders, 4);
    AK_ASSERT_EQ_INT(c.reminders_ms[0], 14 * DAY);
    AK_ASSERT_EQ_INT(c.reminders_ms[1], 1 * DAY);
    AK_ASSERT_EQ_INT(c.reminders_ms[2], 2 * 3600 * SEC);
    AK_ASSERT_EQ_INT(c.reminders_ms[3], 30 * 60 * SEC);
    AK_ASSERT_EQ_INT(c.notify_give_up_ms, 2 * DAY);
    AK_ASSERT_EQ_INT(c.notify_backoff_min_ms, 2 * SEC);
    AK_ASSERT_EQ_INT(c.notify_backoff_max_ms, 300 * SEC);
    AK_ASSERT_EQ_INT(c.notify_timeout_ms, 20 * SEC);
    AK_ASSERT_STR(c.digest_time, "08:30");
    AK_ASSERT_STR(c.digest_tz, "Europe/Berlin");
    AK_ASSERT_EQ_INT(c.n_receivers, 5);
    r = &c.receivers[0];
    AK_ASSERT_STR(r->name, "team-mail");
    AK_ASSERT_EQ_INT(r->kind, AK_RECV_EMAIL);
    AK_ASSERT_STR(r->smarthost, "smtp://mail.example.com:587");
    AK_ASSERT_STR(r->from, "asakai@example.com");
    AK_ASSERT_EQ_INT(r->to.n, 2);
    AK_ASSERT_STR(r->to.v[1], "dba@example.com");
    AK_ASSERT_STR(r->username, "asakai");
    AK_ASSERT_STR(r->password, "smtp-pw");
    AK_ASSERT_EQ_INT(r->starttls, 1);
    AK_ASSERT_STR(r->ca_file, "/etc/ssl/certs/ca-certificates.crt");
    AK_ASSERT(r->digest); /* email: on by default */
    AK_ASSERT_STR(r->digest_time, "08:30"); /* from notify.* */
    AK_ASSERT_STR(r->digest_tz, "Europe/Berlin");
    AK_ASSERT_EQ_INT(r->line, 12);
    r = &c.receivers[1];
    AK_ASSERT_EQ_INT(r->kind, AK_RECV_SLACK);
    AK_ASSERT_STR(r->webhook_url, "https://hooks.slack.com/services/T1/B2/zzz");
    AK_ASSERT_NULL(r->bot_token);
    AK_ASSERT_STR(r->api_url, "https://slack.com/api");
    AK_ASSERT(r->digest);
    AK_ASSERT_STR(r->digest_time, "18:00");
    r = &c.receivers[2];
    AK_ASSERT_STR(r->name, "dba_bot");
    AK_ASSERT_STR(r->bot_token, "xoxb-123");
    AK_ASSERT_STR(r->channel, "#dba");
    AK_ASSERT_STR(r->api_url, "http://127.0.0.1:8089/api");
    AK_ASSERT(!r->digest); /* slack: off by default */
    AK_ASSERT_STR(r->digest_tz, "UTC");
    r = &c.receivers[3];
    AK_ASSERT_EQ_INT(r->kind, AK_RECV_WEBHOOK);
    AK_ASSERT_STR(r->url, "https://hooks.example.com/asakai");
    AK_ASSERT_STR(r->secret, "hook-secret");
    r = &c.receivers[4];
    AK_ASSERT_STR(r->smarthost, "smtps://smtp.example.com");
    AK_ASSERT_EQ_INT(r->starttls, -1);
    AK_ASSERT(!r->digest);
    /* the tree */
    rt = c.route;
    AK_ASSERT(rt != NULL);
    AK_ASSERT_EQ_INT(rt->line, 38);
    AK_ASSERT_EQ_INT(rt->match.n, 0);
    AK_ASSERT_EQ_INT(rt->receivers.n, 1);
    AK_ASSERT_STR(rt->receivers.v[0], "team-mail");
    AK_ASSERT_EQ_INT(rt->n_routes, 3);
    m = ak_matchers_format(&rt->routes[0].match);
    AK_ASSERT_STR(m, "importance=high");
    free(m);
    AK_ASSERT(rt->routes[0].cont);
    m = ak_matchers_format(&rt->routes[1].match);
    AK_ASSERT_STR(m, "service=rds,tag.team=~dba|data,status!=completed,kind!~\"test,.*\"");
    free(m);
    AK_ASSERT(!rt->routes[1].cont);
    AK_ASSERT_EQ_INT(rt->routes[1].receivers.n, 2);
    AK_ASSERT_STR(rt->routes[1].receivers.v[1], "hook-1");
    AK_ASSERT_EQ_INT(rt->routes[1].n_routes, 1);
    AK_ASSERT_STR(rt->routes[1].routes[0].receivers.v[0], "relay");
    AK_ASSERT_EQ_INT(rt->routes[1].routes[0].match.v[0].op, AK_MATCH_RE);
    AK_ASSERT_EQ_INT(rt->routes[2].match.n, 0);
    AK_ASSERT_EQ_INT(rt->routes[2].line, 50);
    ak_cfg_release(&c);
    AK_ASSERT_NULL(c.receivers);
    AK_ASSERT_NULL(c.route);
    ak_buf_release(&err);
}

AK_TEST(notify_errors_file)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[1024], want[1400];

    setenv("AK_TEST_HOOK_SECRET", "hook-secret", 1);
    snprintf(path, sizeof(path), "%s/tests/data/cfg/notify_errors.yaml", ak_test_srcdir());
    AK_ASSERT_EQ_INT(ak_cfg_load(path, &c, &err), AK_ECONFIG);
    AK_ASSERT_NULL(c.receivers);
#define LINE(l, rest)                                                                              \
    do {                                                                                           \
        snprintf(want, sizeof(want), "%s:%s\n", path, l rest);                                    \
        AK_ASSERT_CONTAINS(err.buf, want);                                                         \
    } while (0)
    LINE("3:24: ", "receivers[0].email.smarthost: must be a URL starting with smtp:// or "
                   "smtps://");
    LINE("4:11: ", "receivers[1].name: duplicate receiver name \"mail\" (first defined at "
                   "line 2)");
    LINE("8:5: ", "receivers[2]: has both email and slack; a receiver has exactly one kind "
                  "(define two receivers and route to both)");
    LINE("9:11: ", "receivers[3].name: a receiver name is 1 to 64 of a-z, 0-9, '_' and '-'");
    LINE("10:20: ", "receivers[3].webhook.url: must be a URL starting with https:// or http://");
    LINE("12:19: ", "notify.reminders[1]: not a duration (examples: 500ms, 15s, 2h, 30d)");
    LINE("16:27: ", "route.routes[0].match_re.service: bad regular expression: unbalanced "
                    "parentheses or brackets");
    LINE("17:19: ", "route.routes[0].receivers[0]: no receiver named \"nobody\" (defined: mail, "
                    "both)");
    LINE("18:23: ", "route.routes[1].match.colour: unknown field (fields: service, kind, status, "
                    "account, region, source, event_code, importance, resource, tag.<key>)");
#undef LINE
    AK_ASSERT_EQ_INT(count_lines(err.buf), 9);
    AK_ASSERT(strstr(err.buf, "hook-secret") == NULL);
    ak_buf_release(&err);
}

/* Loads yaml expecting failure; err gets exactly the messages. */
static int load_err(const char *yaml, struct ak_buf *err)
{
    struct ak_cfg c;
    int r;

    ak_buf_reset(err);
    r = load(yaml, &c, err);
    if (r == AK_OK)
        ak_cfg_release(&c);
    return r;
}

#define RECV(kind) "receivers:\n  - name: x\n    " kind "\n"

AK_TEST(receiver_errors)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load_err("receivers:\n  - name: x\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:5: receivers[0]: needs one of email, slack or webhook\n");
    AK_ASSERT_EQ_INT(load_err("receivers:\n  - webhook: {url: 'http://h/'}\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:5: receivers[0]: needs name\n");
    AK_ASSERT_EQ_INT(load_err("receivers: {name: x}\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:12: receivers: expected a list of receivers, got a "
                           "mapping\n");
    AK_ASSERT_EQ_INT(load_err(RECV("email: {smarthost: 'smtp://user:pw@h', from: a@b, to: [c@d]}"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:3:24: receivers[0].email.smarthost: a URL must not carry "
                                "user@ credentials");
    AK_ASSERT(strstr(err.buf, "pw") == NULL);
    AK_ASSERT_EQ_INT(load_err(RECV("email: {smarthost: 'smtp://h:99999', from: a@b, to: [c@d]}"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:24: receivers[0].email.smarthost: the URL's port must be a "
                           "number from 1 to 65535\n");
    AK_ASSERT_EQ_INT(load_err(RECV("email: {smarthost: 'smtp://h', from: 'A <a@b>', to: []}"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:42: receivers[0].email.from: must be a bare e-mail address "
                           "like sre@example.com\n"
                           "t.yaml:3:57: receivers[0].email.to: needs at least one address\n");
    AK_ASSERT_EQ_INT(load_err(RECV("email: {smarthost: 'smtp://h', from: a@b, to: [c@d], "
                                   "smarthostt: 1}"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:58: receivers[0].email.smarthostt: unknown key; did you "
                           "mean 'smarthost'?\n");
    /* A password is never sent in clear text to another host. */
    AK_ASSERT_EQ_INT(load_err(RECV("email: {smarthost: 'smtp://mail.example.com', from: a@b, "
                                   "to: [c@d], username: u, password: p, starttls: false}"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "receivers[0].email: starttls: false would send the password "
                                "unencrypted");
    AK_ASSERT_OK(load_err(RECV("email: {smarthost: 'smtp://127.0.0.1:2525', from: a@b, "
                               "to: [c@d], username: u, password: p, starttls: false}"),
                          &err));
    AK_ASSERT_EQ_INT(load_err(RECV("email: {smarthost: 'smtps://h', from: a@b, to: [c@d], "
                                   "starttls: true, password: p}"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:12: receivers[0].email: password needs a username\n"
                           "t.yaml:3:59: receivers[0].email: starttls applies to smtp:// only "
                           "(smtps:// is TLS from the start)\n");
    AK_ASSERT_EQ_INT(load_err(RECV("slack: {webhook_url: 'https://a/', bot_token: t}"), &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:12: receivers[0].slack: has both webhook_url and bot_token; "
                           "a slack receiver uses one of them\n");
    AK_ASSERT_EQ_INT(load_err(RECV("slack: {bot_token: t}"), &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:12: receivers[0].slack: bot_token needs a channel\n");
    AK_ASSERT_EQ_INT(load_err(RECV("slack: {}"), &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:12: receivers[0].slack: needs webhook_url, or bot_token and "
                           "channel\n");
    AK_ASSERT_EQ_INT(load_err(RECV("slack: {webhook_url: 'smtp://a/'}"), &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:26: receivers[0].slack.webhook_url: must be a URL starting "
                           "with https:// or http://\n");
    AK_ASSERT_EQ_INT(load_err(RECV("webhook: {secret: s}"), &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:14: receivers[0].webhook: needs url\n");
    AK_ASSERT_EQ_INT(load_err(RECV("webhook: {url: 'http://h'}\n    digest_time: '24:00'\n"
                                   "    digest_tz: ../etc/passwd\n    digest: sometimes"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:6:13: receivers[0].digest: must be true or false\n"
                           "t.yaml:4:18: receivers[0].digest_time: must be a time of day HH:MM "
                           "(00:00 .. 23:59)\n"
                           "t.yaml:5:16: receivers[0].digest_tz: must be an IANA time zone name "
                           "like Asia/Tokyo or UTC\n");
    AK_ASSERT_EQ_INT(load_err(RECV("webhook: {url: 'http://h', secret: '${AK_T_UNSET_VAR}'}"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:3:40: receivers[0].webhook.secret: environment variable "
                           "AK_T_UNSET_VAR is not set\n");
    ak_buf_release(&err);
}

AK_TEST(receiver_secrets_never_in_messages)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    setenv("AK_T_HOOK", "https://hooks.slack.com/services/T/B/s3cr3t with space", 1);
    setenv("AK_T_TOKEN", "xoxb-s3cr3t two", 1);
    AK_ASSERT_EQ_INT(load_err("receivers:\n"
                              "  - {name: a, slack: {webhook_url: '${AK_T_HOOK}'}}\n"
                              "  - {name: b, slack: {bot_token: '${AK_T_TOKEN}', channel: c}}\n",
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_EQ_INT(count_lines(err.buf), 2);
    AK_ASSERT_CONTAINS(err.buf, "receivers[0].slack.webhook_url: a URL must not contain spaces");
    AK_ASSERT_CONTAINS(err.buf, "receivers[1].slack.bot_token: must not contain spaces");
    AK_ASSERT(strstr(err.buf, "s3cr3t") == NULL);
    ak_buf_release(&err);
}

AK_TEST(receivers_without_route)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(load("receivers:\n"
                      "  - {name: email, email: {smarthost: 'smtp://localhost', from: a@b, "
                      "to: [c@d]}}\n"
                      "  - {name: slack, slack: {webhook_url: 'https://hooks.slack.com/x'}}\n"
                      "notify:\n  digest_tz: UTC\n",
                      &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_NULL(c.route); /* the route module builds the default tree */
    AK_ASSERT_EQ_INT(c.n_receivers, 2);
    AK_ASSERT(c.receivers[0].digest);
    AK_ASSERT(!c.receivers[1].digest);
    AK_ASSERT_STR(c.receivers[1].digest_time, "09:00");
    AK_ASSERT_STR(c.receivers[1].digest_tz, "UTC"); /* notify.* is read first, wherever it is */
    ak_cfg_release(&c);
    /* "route:" with nothing under it is no route either */
    AK_ASSERT_OK(load("route:\nreceivers: []\n", &c, &err));
    AK_ASSERT_NULL(c.route);
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(route_errors)
{
    static const char recv[] = "receivers:\n  - {name: a, webhook: {url: 'http://h'}}\n";
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char yaml[1024];

#define ROUTE(body) (snprintf(yaml, sizeof(yaml), "%s%s", recv, body), yaml)
    AK_ASSERT_EQ_INT(load_err(ROUTE("route:\n  receivers: [a, b]\n"), &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:4:18: route.receivers[1]: no receiver named \"b\" (defined: "
                           "a)\n");
    AK_ASSERT_EQ_INT(load_err("route:\n  receivers: [a]\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:15: route.receivers[0]: no receiver named \"a\" (no "
                           "receivers are defined)\n");
    AK_ASSERT_EQ_INT(load_err(ROUTE("route:\n  match: {service: rds}\n  continue: true\n"), &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:4:3: route.match: the root route matches every record; put "
                           "matchers on child routes\n"
                           "t.yaml:5:3: route: continue applies to child routes only\n");
    AK_ASSERT_EQ_INT(load_err(ROUTE("route:\n  routes:\n    - matchers: ['service=rds', "
                                    "'kind~x', 'importance=urgent']\n"
                                    "      recievers: [a]\n"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:6:7: route.routes[0].recievers: unknown key; did you mean "
                           "'receivers'?\n"
                           "t.yaml:5:33: route.routes[0].matchers[1]: matcher \"kind~x\": expected "
                           "an operator (=, !=, =~ or !~) after the field name.\n"
                           "t.yaml:5:43: route.routes[0].matchers[2]: matcher "
                           "\"importance=urgent\": importance is high or normal.\n");
    AK_ASSERT_EQ_INT(load_err(ROUTE("route:\n  routes:\n    - match_re: {region: 'a)|(b'}\n"
                                    "    - match_re: {region: 'x{1,'}\n    - routes: {}\n"
                                    "    - continue: 2\n    - match: [service]\n"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:5:26: route.routes[0].match_re.region: bad regular expression: "
                           "unbalanced parentheses or brackets\n"
                           "t.yaml:6:26: route.routes[1].match_re.region: bad regular "
                           "expression: Unmatched \\{\n"
                           "t.yaml:7:15: route.routes[2].routes: expected a list of routes, got "
                           "a mapping\n"
                           "t.yaml:8:17: route.routes[3].continue: must be true or false\n"
                           "t.yaml:9:14: route.routes[4].match: expected a mapping of field: "
                           "value, got a list\n");
    /* deep trees hit the YAML nesting cap first */
    AK_ASSERT_EQ_INT(load_err(ROUTE("route: {routes: [{routes: [{routes: [{routes: [{routes: "
                                    "[{routes: [{routes: [{routes: [{receivers: [a]}]"
                                    "}]}]}]}]}]}]}\n"),
                              &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "(syntax): nesting is too deep\n");
#undef ROUTE
    ak_buf_release(&err);
}

AK_TEST(reminders)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(load("notify:\n  reminders: []\n", &c, &err));
    AK_ASSERT_EQ_INT(c.n_reminders, 0);
    ak_cfg_release(&c);
    AK_ASSERT_OK(load("notify:\n  reminders: [1m, 90d, 1h30m]\n", &c, &err));
    AK_ASSERT_EQ_INT(c.n_reminders, 3);
    AK_ASSERT_EQ_INT(c.reminders_ms[0], 90 * DAY);
    AK_ASSERT_EQ_INT(c.reminders_ms[1], 90 * 60 * SEC);
    AK_ASSERT_EQ_INT(c.reminders_ms[2], 60 * SEC);
    ak_cfg_release(&c);
    AK_ASSERT_EQ_INT(load_err("notify:\n  reminders: [7d, 1w]\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:14: notify.reminders: 7d is listed twice\n");
    AK_ASSERT_EQ_INT(load_err("notify:\n  reminders: [30s, 91d, tomorrow, [1d]]\n", &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:15: notify.reminders[0]: must be between 1m and 90d\n"
                           "t.yaml:2:20: notify.reminders[1]: must be between 1m and 90d\n"
                           "t.yaml:2:25: notify.reminders[2]: not a duration (examples: 500ms, "
                           "15s, 2h, 30d)\n"
                           "t.yaml:2:35: notify.reminders[3]: expected a duration, got a list\n");
    AK_ASSERT_EQ_INT(load_err("notify:\n  reminders: 7d\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:14: notify.reminders: expected a list of durations, got a "
                           "single value\n");
    AK_ASSERT_EQ_INT(load_err("notify:\n  backoff_min: 1h\n  backoff_max: 1m\n", &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:1: notify.backoff_min: must not be longer than "
                           "notify.backoff_max\n");
    AK_ASSERT_EQ_INT(load_err("notify:\n  digest_time: '9:00'\n  give_up_after: 10m\n", &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:16: notify.digest_time: must be a time of day HH:MM (00:00 "
                           ".. 23:59)\n"
                           "t.yaml:3:18: notify.give_up_after: must be between 1h and 30d\n");
    AK_ASSERT_EQ_INT(load_err("notify:\n  reminder: [1d]\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:2:3: notify.reminder: unknown key; did you mean "
                           "'notify.reminders'?\n");
    AK_ASSERT_EQ_INT(load_err("recievers: []\n", &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:1:1: recievers: unknown key; did you mean 'receivers'?\n");
    ak_buf_release(&err);
}

/* ---- matchers ---- */

AK_TEST(matcher_ops_and_fields)
{
    static const struct {
        const char *in, *field;
        enum ak_match_op op;
        const char *value;
    } ok[] = {
        {"service=rds", "service", AK_MATCH_EQ, "rds"},
        {"kind=~node-.*", "kind", AK_MATCH_RE, "node-.*"},
        {"status!=completed", "status", AK_MATCH_NE, "completed"},
        {"tag.env!~dev|test", "tag.env", AK_MATCH_NRE, "dev|test"},
        {"account = 123456789012", "account", AK_MATCH_EQ, "123456789012"},
        {"  region=~ap-.*  ", "region", AK_MATCH_RE, "ap-.*"},
        {"source=health", "source", AK_MATCH_EQ, "health"},
        {"event_code=AWS_RDS_MAINTENANCE_SCHEDULED", "event_code", AK_MATCH_EQ,
         "AWS_RDS_MAINTENANCE_SCHEDULED"},
        {"importance=high", "importance", AK_MATCH_EQ, "high"},
        {"importance!=normal", "importance", AK_MATCH_NE, "normal"},
        {"importance=~h.*", "importance", AK_MATCH_RE, "h.*"},
        {"resource=arn:aws:rds:us-east-1:1:db:x=y", "resource", AK_MATCH_EQ,
         "arn:aws:rds:us-east-1:1:db:x=y"},
        {"tag.aws:cloudformation:stack-name=web", "tag.aws:cloudformation:stack-name",
         AK_MATCH_EQ, "web"},
        {"service=a,b", "service", AK_MATCH_EQ, "a,b"}, /* one matcher: the comma is data */
        {"service=\"a \\\"b\\\" \\\\c\"", "service", AK_MATCH_EQ, "a \"b\" \\c"},
        {"service!=\"~x\"", "service", AK_MATCH_NE, "~x"},
        {"kind=~[[:alpha:]]+\\(x\\)", "kind", AK_MATCH_RE, "[[:alpha:]]+\\(x\\)"},
        {"kind=~[])(]", "kind", AK_MATCH_RE, "[])(]"},
        {"kind=~[+*]+(a+)*\\++x{2}", "kind", AK_MATCH_RE, "[+*]+(a+)*\\++x{2}"},
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        struct ak_matcher m;
        int r = ak_matcher_parse(ok[i].in, &m, &err);

        if (r != AK_OK)
            printf("# %s: %s\n", ok[i].in, err.buf);
        AK_ASSERT_OK(r);
        AK_ASSERT_STR(m.field, ok[i].field);
        AK_ASSERT_EQ_INT(m.op, ok[i].op);
        AK_ASSERT_STR(m.value, ok[i].value);
        ak_matcher_release(&m);
        AK_ASSERT_NULL(m.field);
        ak_matcher_release(&m);
        ak_buf_release(&err);
    }
    ak_matcher_release(NULL);
    ak_matchers_release(NULL);
}

AK_TEST(matcher_errors)
{
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"colour=red", "matcher \"colour=red\": unknown field (fields: service, kind, status, "
                       "account, region, source, event_code, importance, resource, tag.<key>)."},
        {"service", "matcher \"service\": expected an operator (=, !=, =~ or !~) after the field "
                    "name."},
        {"=rds", "matcher \"=rds\": expected a field name."},
        {"service=", "matcher \"service=\": service: empty value."},
        {"service=\"\"", "matcher \"service=\"\"\": service: empty value."},
        {"service=\"rds", "matcher \"service=\"rds\": quoted value has no closing '\"'."},
        {"service=\"r\\ds\"", "matcher \"service=\"r\\ds\"\": only \\\" and \\\\ may be escaped in "
                              "a quoted value."},
        {"service=\"rds\" x", "matcher \"service=\"rds\" x\": unexpected text after the quoted "
                              "value."},
        {"service=r\"ds", "matcher \"service=r\"ds\": a value containing '\"' must be quoted as a "
                          "whole (\"...\")."},
        {"importance=urgent", "matcher \"importance=urgent\": importance is high or normal."},
        {"kind=~(node", "matcher \"kind=~(node\": bad regular expression: unbalanced parentheses "
                        "or brackets."},
        {"kind=~a)|(b", "matcher \"kind=~a)|(b\": bad regular expression: unbalanced parentheses "
                        "or brackets."},
        {"kind=~(?:a)", "matcher \"kind=~(?:a)\": bad regular expression: Invalid preceding "
                        "regular expression."},
        {"kind=~(a{1000}){1000}", "matcher \"kind=~(a{1000}){1000}\": bad regular expression: "
                                  "it repeats too much ({n,m} bounds)."},
        {"kind=~a+++", "matcher \"kind=~a+++\": bad regular expression: stacked repetitions "
                       "(like a+* or a{2}+) are not allowed."},
        {"kind=~a{2}*", "matcher \"kind=~a{2}*\": bad regular expression: stacked repetitions "
                        "(like a+* or a{2}+) are not allowed."},
        {"tag.=x", "matcher \"tag.=x\": unknown field (fields: service, kind, status, account, "
                   "region, source, event_code, importance, resource, tag.<key>)."},
        {"service=a\tb\x01", "matcher \"service=a?b?\": service: value contains a control "
                             "character."},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        struct ak_matcher m = {NULL, 0, NULL};

        AK_ASSERT_EQ_INT(ak_matcher_parse(bad[i].in, &m, &err), AK_EINVAL);
        AK_ASSERT_STR(err.buf, bad[i].msg);
        AK_ASSERT_NULL(m.field); /* untouched on failure */
        ak_buf_release(&err);
    }
}

AK_TEST(matcher_lists_and_format)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_matchers l, l2;
    char *f, *f2;

    AK_ASSERT_OK(ak_matchers_parse("service=rds, kind=~node.*,tag.team=\"a,b\" ,status!~x|y",
                                   &l, &err));
    AK_ASSERT_EQ_INT(l.n, 4);
    AK_ASSERT_STR(l.v[2].field, "tag.team");
    AK_ASSERT_STR(l.v[2].value, "a,b");
    AK_ASSERT_STR(l.v[3].value, "x|y");
    f = ak_matchers_format(&l);
    AK_ASSERT_STR(f, "service=rds,kind=~node.*,tag.team=\"a,b\",status!~x|y");
    /* the format reads back to the same matchers */
    AK_ASSERT_OK(ak_matchers_parse(f, &l2, &err));
    f2 = ak_matchers_format(&l2);
    AK_ASSERT_STR(f2, f);
    free(f);
    free(f2);
    ak_matchers_release(&l);
    ak_matchers_release(&l2);
    AK_ASSERT_NULL(l.v);
    /* values that need quotes get them, with escapes */
    AK_ASSERT_OK(ak_matchers_parse("service=\"~a\\\\\", kind=\" x \\\"y\\\"\"", &l, &err));
    f = ak_matchers_format(&l);
    AK_ASSERT_STR(f, "service=\"~a\\\\\",kind=\" x \\\"y\\\"\"");
    free(f);
    ak_matchers_release(&l);
    f = ak_matchers_format(NULL);
    AK_ASSERT_STR(f, "");
    free(f);
    AK_ASSERT_STR(err.buf, "");
    ak_buf_release(&err);
}

AK_TEST(matcher_list_errors_and_caps)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX), text = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_matchers l = {NULL, 0};
    struct ak_matcher m;

    AK_ASSERT_EQ_INT(ak_matchers_parse("  ", &l, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "no matchers given (write field=value, ...).");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_matchers_parse("service=rds,", &l, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "matcher list ends with ','.");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_matchers_parse("service=rds,,kind=x", &l, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "matcher \"\": expected a field name.");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_matchers_parse("service=rds,regoin=x", &l, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "matcher \"regoin=x\": unknown field");
    AK_ASSERT_NULL(l.v);
    ak_buf_reset(&err);
    /* 64 matchers are fine, 65 are not */
    for (int i = 0; i < 64; i++)
        ak_buf_addf(&text, "%sservice=s%d", i ? "," : "", i);
    AK_ASSERT_OK(ak_matchers_parse(text.buf, &l, &err));
    AK_ASSERT_EQ_INT(l.n, 64);
    ak_matchers_release(&l);
    ak_buf_add(&text, ",kind=x");
    AK_ASSERT_EQ_INT(ak_matchers_parse(text.buf, &l, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "more than 64 matchers.");
    ak_buf_reset(&err);
    /* 1 KiB per value */
    ak_buf_reset(&text);
    ak_buf_add(&text, "service=");
    for (int i = 0; i < 1024; i++)
        ak_buf_addc(&text, 'a');
    AK_ASSERT_OK(ak_matcher_parse(text.buf, &m, &err));
    ak_matcher_release(&m);
    ak_buf_addc(&text, 'a');
    AK_ASSERT_EQ_INT(ak_matcher_parse(text.buf, &m, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, ": value is longer than 1024 bytes.");
    AK_ASSERT_EQ_INT(ak_matcher_parse(NULL, &m, NULL), AK_EINVAL);
    ak_buf_release(&text);
    ak_buf_release(&err);
}

AK_TEST(dump_example_loads)
{
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX), yaml = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cfg c;
    const char *p;

    /* The commented receivers/route example, uncommented, is a valid configuration. */
    setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x", 1);
    AK_ASSERT_OK(ak_cfg_dump_defaults(&out));
    AK_ASSERT_CONTAINS(out.buf, "  reminders: [14d,7d,3d,1d,2h]\n");
    AK_ASSERT_CONTAINS(out.buf, "  digest_tz: 'Asia/Tokyo'\n");
    p = strstr(out.buf, "# receivers:\n");
    AK_ASSERT(p != NULL);
    for (; *p; p = strchr(p, '\n') + 1) {
        const char *nl = strchr(p, '\n');

        AK_ASSERT(strncmp(p, "# ", 2) == 0);
        ak_buf_addn(&yaml, p + 2, (size_t)(nl - p - 1));
    }
    AK_ASSERT_OK(ak_cfg_load_string("example", yaml.buf, yaml.len, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_receivers, 2);
    AK_ASSERT_STR(c.receivers[1].webhook_url, "https://hooks.slack.com/services/T/B/x");
    AK_ASSERT_EQ_INT(c.route->n_routes, 1);
    AK_ASSERT_EQ_INT(c.n_teams, 2);
    AK_ASSERT_STR(c.teams[0].receivers.v[1], "team-slack");
    ak_cfg_release(&c);
    ak_buf_release(&out);
    ak_buf_release(&yaml);
    ak_buf_release(&err);
}

AK_TEST(important_rules)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(4096);
    AK_ASSERT_OK(load("maintenance:\n  important_rules: [\"service=rds,kind=hardware-maintenance\", "
                      "\"tag.env=prod\"]\n", &c, &err));
    AK_ASSERT_EQ_INT(c.important_rules.n, 2);
    AK_ASSERT_STR(c.important_rules.v[1], "tag.env=prod");
    ak_cfg_release(&c);
    AK_ASSERT_EQ_INT(load("maintenance:\n  important_rules: [\"servic=rds\"]\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:21:");
    AK_ASSERT_CONTAINS(err.buf, "maintenance.important_rules");
    ak_buf_release(&err);
}

/* ---- AWS accounts, pollers, inventory (issue 4) ---- */

#define MIN (60 * SEC)
#define HOUR (3600 * SEC)

/* Expects exactly one error line, equal to want. */
static void expect_error(const char *yaml, const char *want)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load(yaml, &c, &err), AK_ECONFIG);
    AK_ASSERT_STR(err.buf, want);
    AK_ASSERT_NULL(c.aws_accounts);
    AK_ASSERT_NULL(c.inventory);
    ak_buf_release(&err);
}

AK_TEST(aws_defaults)
{
    struct ak_cfg c;

    ak_cfg_defaults(&c);
    AK_ASSERT_NULL(c.aws_accounts);
    AK_ASSERT_EQ_INT(c.n_aws_accounts, 0);
    AK_ASSERT_NULL(c.aws_sts_endpoint);
    AK_ASSERT_NULL(c.aws_ca_file);
    AK_ASSERT_EQ_INT(c.aws_timeout_ms, 20 * SEC);
    AK_ASSERT_EQ_INT(c.aws_max_in_flight, 32);
    AK_ASSERT_EQ_INT(c.aws_max_attempts, 5);
    AK_ASSERT_EQ_INT(c.aws_retry_base_ms, 1 * SEC);
    for (int i = 0; i < AK_POLLER_N; i++) {
        AK_ASSERT_EQ_INT(c.pollers[i].enabled, i != AK_POLLER_HEALTH);
        AK_ASSERT_EQ_INT(c.pollers[i].interval_ms, 15 * MIN);
    }
    AK_ASSERT_NULL(c.inventory);
    AK_ASSERT_EQ_INT(c.n_inventory, 0);
    ak_cfg_release(&c);
}

AK_TEST(poller_names)
{
    static const char *const names[] = {"ec2_scheduled_events", "rds_pending_maintenance",
                                        "elasticache_update_actions", "elasticache_events",
                                        "health"};
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    char want[128];

    AK_ASSERT_EQ_INT(AK_POLLER_N, 5);
    AK_ASSERT_OK(ak_cfg_dump_defaults(&out));
    for (int i = 0; i < AK_POLLER_N; i++) {
        AK_ASSERT_STR(ak_cfg_poller_name(i), names[i]);
        AK_ASSERT_EQ_INT(ak_cfg_poller_id(names[i]), i);
        /* The option table has both rows of every poller, under the same name. */
        snprintf(want, sizeof(want), "\n  %s:\n", names[i]);
        AK_ASSERT_CONTAINS(out.buf, want);
    }
    AK_ASSERT_EQ_INT(ak_cfg_poller_id("health "), -1);
    AK_ASSERT_EQ_INT(ak_cfg_poller_id("ec2"), -1);
    AK_ASSERT_EQ_INT(ak_cfg_poller_id(""), -1);
    AK_ASSERT_EQ_INT(ak_cfg_poller_id(NULL), -1);
    AK_ASSERT_NULL(ak_cfg_poller_name(-1));
    AK_ASSERT_NULL(ak_cfg_poller_name(AK_POLLER_N));
    ak_buf_release(&out);
}

/* The example of issue 4, as users write it. */
static const char issue4_sample[] =
    "aws:\n"
    "  accounts:\n"
    "    - id: \"123456789012\"\n"
    "      regions: [ap-northeast-1]\n"
    "      assume_role_arn: arn:aws:iam::123456789012:role/asakai-reader   # optional\n"
    "      endpoint_url: http://127.0.0.1:4566   # optional\n"
    "pollers:\n"
    "  ec2_scheduled_events: {enabled: true, interval: 15m}\n"
    "  rds_pending_maintenance: {enabled: true}\n"
    "  elasticache_update_actions: {enabled: true}\n"
    "  elasticache_events: {enabled: true}\n"
    "  health: {enabled: false}\n"
    "inventory:\n"
    "  - {service: elasticache, account: \"123456789012\", region: ap-northeast-1}\n";

AK_TEST(aws_issue_sample_loads)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_cfg_aws_account *a;

    AK_ASSERT_OK(load(issue4_sample, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_aws_accounts, 1);
    a = &c.aws_accounts[0];
    AK_ASSERT_STR(a->id, "123456789012");
    AK_ASSERT_EQ_INT(a->regions.n, 1);
    AK_ASSERT_STR(a->regions.v[0], "ap-northeast-1");
    AK_ASSERT_STR(a->assume_role_arn, "arn:aws:iam::123456789012:role/asakai-reader");
    AK_ASSERT_NULL(a->external_id);
    AK_ASSERT_STR(a->endpoint_url, "http://127.0.0.1:4566");
    AK_ASSERT_NULL(a->profile);
    AK_ASSERT_EQ_INT(a->line, 3);
    AK_ASSERT_NULL(c.aws_sts_endpoint);
    AK_ASSERT_NULL(c.aws_ca_file);
    AK_ASSERT_EQ_INT(c.aws_timeout_ms, 20 * SEC);
    AK_ASSERT_EQ_INT(c.aws_max_in_flight, 32);
    AK_ASSERT_EQ_INT(c.aws_max_attempts, 5);
    AK_ASSERT_EQ_INT(c.aws_retry_base_ms, SEC);
    AK_ASSERT(c.pollers[AK_POLLER_EC2].enabled);
    AK_ASSERT(c.pollers[AK_POLLER_RDS].enabled);
    AK_ASSERT(c.pollers[AK_POLLER_EC_UPDATES].enabled);
    AK_ASSERT(c.pollers[AK_POLLER_EC_EVENTS].enabled);
    AK_ASSERT(!c.pollers[AK_POLLER_HEALTH].enabled);
    for (int i = 0; i < AK_POLLER_N; i++)
        AK_ASSERT_EQ_INT(c.pollers[i].interval_ms, 15 * MIN);
    AK_ASSERT_EQ_INT(c.n_inventory, 1);
    AK_ASSERT_STR(c.inventory[0].service, "elasticache");
    AK_ASSERT_STR(c.inventory[0].account, "123456789012");
    AK_ASSERT_STR(c.inventory[0].region, "ap-northeast-1");
    AK_ASSERT_EQ_INT(c.inventory[0].line, 14);
    ak_cfg_release(&c);
    AK_ASSERT_NULL(c.aws_accounts);
    AK_ASSERT_NULL(c.inventory);
    ak_buf_release(&err);
}

AK_TEST(aws_full_file_loads)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_cfg_aws_account *a, *b;
    char path[1024];

    setenv("AK_TEST_AWS_ENDPOINT", "http://[::1]:4566/", 1);
    snprintf(path, sizeof(path), "%s/tests/data/cfg/aws.yaml", ak_test_srcdir());
    AK_ASSERT_OK(ak_cfg_load(path, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_aws_accounts, 2);
    a = &c.aws_accounts[0];
    b = &c.aws_accounts[1];
    AK_ASSERT_STR(a->id, "123456789012");
    AK_ASSERT_EQ_INT(a->regions.n, 2);
    AK_ASSERT_STR(a->regions.v[0], "ap-northeast-1");
    AK_ASSERT_STR(a->regions.v[1], "us-east-1");
    AK_ASSERT_STR(a->assume_role_arn, "arn:aws:iam::123456789012:role/asakai-reader");
    AK_ASSERT_STR(a->external_id, "team-sre:2024");
    AK_ASSERT_STR(a->profile, "sre");
    AK_ASSERT_NULL(a->endpoint_url);
    AK_ASSERT_EQ_INT(a->line, 4);
    AK_ASSERT_STR(b->id, "012345678901"); /* plain scalar: the text as written */
    AK_ASSERT_EQ_INT(b->regions.n, 2);
    AK_ASSERT_STR(b->regions.v[0], "us-gov-west-1");
    AK_ASSERT_STR(b->regions.v[1], "us-isob-east-1");
    AK_ASSERT_NULL(b->assume_role_arn);
    AK_ASSERT_NULL(b->external_id);
    AK_ASSERT_NULL(b->profile);
    AK_ASSERT_STR(b->endpoint_url, "http://[::1]:4566/");
    AK_ASSERT_EQ_INT(b->line, 9);
    AK_ASSERT_STR(c.aws_sts_endpoint, "https://sts.ap-northeast-1.amazonaws.com");
    AK_ASSERT_STR(c.aws_ca_file, "/etc/asakai/aws-ca.pem");
    AK_ASSERT_EQ_INT(c.aws_timeout_ms, 45 * SEC);
    AK_ASSERT_EQ_INT(c.aws_max_in_flight, 8);
    AK_ASSERT_EQ_INT(c.aws_max_attempts, 3);
    AK_ASSERT_EQ_INT(c.aws_retry_base_ms, 250);
    AK_ASSERT(!c.pollers[AK_POLLER_EC2].enabled);
    AK_ASSERT_EQ_INT(c.pollers[AK_POLLER_EC2].interval_ms, 10 * SEC);
    AK_ASSERT(c.pollers[AK_POLLER_RDS].enabled);
    AK_ASSERT_EQ_INT(c.pollers[AK_POLLER_RDS].interval_ms, HOUR);
    AK_ASSERT(c.pollers[AK_POLLER_EC_UPDATES].enabled);
    AK_ASSERT_EQ_INT(c.pollers[AK_POLLER_EC_UPDATES].interval_ms, 24 * HOUR);
    AK_ASSERT(!c.pollers[AK_POLLER_EC_EVENTS].enabled);
    AK_ASSERT_EQ_INT(c.pollers[AK_POLLER_EC_EVENTS].interval_ms, 15 * MIN);
    AK_ASSERT(c.pollers[AK_POLLER_HEALTH].enabled);
    AK_ASSERT_EQ_INT(c.pollers[AK_POLLER_HEALTH].interval_ms, 30 * MIN);
    AK_ASSERT_EQ_INT(c.n_inventory, 3);
    AK_ASSERT_STR(c.inventory[0].service, "elasticache");
    AK_ASSERT_STR(c.inventory[1].service, "rds");
    AK_ASSERT_STR(c.inventory[1].account, "012345678901");
    AK_ASSERT_STR(c.inventory[1].region, "us-gov-west-1");
    AK_ASSERT_EQ_INT(c.inventory[1].line, 29);
    AK_ASSERT_STR(c.inventory[2].service, "ec2");
    AK_ASSERT_STR(c.inventory[2].region, "us-east-1");
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(aws_empty_sections_keep_defaults)
{
    static const char *const docs[] = {"aws:\n", "aws:\n  accounts:\n", "aws: {accounts: []}\n",
                                       "pollers:\n", "pollers: {health: ~}\n", "inventory:\n",
                                       "inventory: []\n"};
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        AK_ASSERT_OK(load(docs[i], &c, &err));
        AK_ASSERT_STR(err.buf, "");
        AK_ASSERT_EQ_INT(c.n_aws_accounts, 0);
        AK_ASSERT_EQ_INT(c.n_inventory, 0);
        AK_ASSERT(!c.pollers[AK_POLLER_HEALTH].enabled);
        AK_ASSERT_EQ_INT(c.aws_max_in_flight, 32);
        ak_cfg_release(&c);
    }
    ak_buf_release(&err);
}

/* One valid account (lines 1-4), then rest. */
#define ACCT(rest)                                                                                 \
    "aws:\n  accounts:\n    - id: \"123456789012\"\n      regions: [us-east-1]\n" rest

AK_TEST(aws_account_errors)
{
    expect_error("aws:\n  accounts:\n    - id: \"12345678901\"\n      regions: [us-east-1]\n",
                 "t.yaml:3:11: aws.accounts[0].id: must be a 12-digit AWS account ID\n");
    expect_error("aws:\n  accounts:\n    - id: 1234567890123\n      regions: [us-east-1]\n",
                 "t.yaml:3:11: aws.accounts[0].id: must be a 12-digit AWS account ID\n");
    expect_error("aws:\n  accounts:\n    - id: 12345678901a\n      regions: [us-east-1]\n",
                 "t.yaml:3:11: aws.accounts[0].id: must be a 12-digit AWS account ID\n");
    /* A YAML float or hex is not digits as written. */
    expect_error("aws:\n  accounts:\n    - id: 1.2345678901e11\n      regions: [us-east-1]\n",
                 "t.yaml:3:11: aws.accounts[0].id: must be a 12-digit AWS account ID\n");
    expect_error("aws:\n  accounts:\n    - regions: [us-east-1]\n",
                 "t.yaml:3:7: aws.accounts[0]: needs id\n");
    expect_error(ACCT("    - id: 123456789012\n      regions: [eu-west-1]\n"),
                 "t.yaml:5:11: aws.accounts[1].id: duplicate account id 123456789012 (first "
                 "defined at line 3)\n");
    expect_error("aws:\n  accounts:\n    - id: \"123456789012\"\n",
                 "t.yaml:3:7: aws.accounts[0]: needs regions (a list of region names)\n");
    expect_error("aws:\n  accounts:\n    - id: \"123456789012\"\n      regions: []\n",
                 "t.yaml:4:16: aws.accounts[0].regions: needs at least one region\n");
    expect_error("aws:\n  accounts:\n    - id: \"123456789012\"\n      regions: us-east-1\n",
                 "t.yaml:4:16: aws.accounts[0].regions: expected a list, got a single value\n");
    expect_error("aws:\n  accounts:\n    - id: \"123456789012\"\n      regions: [us-east-1, "
                 "Tokyo]\n",
                 "t.yaml:4:28: aws.accounts[0].regions[1]: must be an AWS region name like "
                 "ap-northeast-1 or us-gov-west-1\n");
    expect_error("aws:\n  accounts:\n    - id: \"123456789012\"\n      regions: [us-east-1, "
                 "us-east-1]\n",
                 "t.yaml:4:28: aws.accounts[0].regions[1]: region us-east-1 is listed twice\n");
    expect_error(ACCT("      assume_role_arn: arn:aws:iam::123456789012:user/x\n"),
                 "t.yaml:5:24: aws.accounts[0].assume_role_arn: must be an IAM role ARN like "
                 "arn:aws:iam::123456789012:role/NAME\n");
    expect_error(ACCT("      external_id: abc\n"),
                 "t.yaml:5:7: aws.accounts[0]: external_id is sent with AssumeRole: it needs "
                 "assume_role_arn\n");
    expect_error(ACCT("      endpoint_url: ftp://127.0.0.1:4566\n"),
                 "t.yaml:5:21: aws.accounts[0].endpoint_url: must be a URL starting with "
                 "https:// or http://\n");
    expect_error(ACCT("      endpoint_url: 127.0.0.1:4566\n"),
                 "t.yaml:5:21: aws.accounts[0].endpoint_url: must be a URL starting with "
                 "https:// or http://\n");
    expect_error(ACCT("      profile: 'a b'\n"),
                 "t.yaml:5:16: aws.accounts[0].profile: a profile name must not contain "
                 "spaces, control characters, '[' or ']'\n");
    expect_error(ACCT("      asume_role_arn: x\n"),
                 "t.yaml:5:7: aws.accounts[0].asume_role_arn: unknown key; did you mean "
                 "'assume_role_arn'?\n");
    expect_error(ACCT("      id: \"123456789013\"\n"),
                 "t.yaml:5:7: aws.accounts[0].id: duplicate key (first set at line 3 column "
                 "7)\n");
    expect_error("aws:\n  accounts:\n    - nope\n",
                 "t.yaml:3:7: aws.accounts[0]: expected a mapping of keys, got a single value\n");
    expect_error("aws:\n  accounts: {id: 1}\n",
                 "t.yaml:2:13: aws.accounts: expected a list of accounts, got a mapping\n");
    expect_error("aws:\n  acounts: []\n",
                 "t.yaml:2:3: aws.acounts: unknown key; did you mean 'aws.accounts'?\n");
}

AK_TEST(aws_value_checks)
{
    static const char *const good_regions[] = {"ap-northeast-1", "us-east-1", "us-gov-west-1",
                                               "us-iso-east-1", "us-isob-east-1",
                                               "eu-central-2", "us-gov-1", "il-central-1"};
    static const char *const bad_regions[] = {
        "ap-northeast1", "apnortheast-1", "a-east-1", "usa-east-1", "US-east-1", "us-east-",
        "us--1", "us-gov-west-1a", "us-isox1-east-1", "us-foo-east-1", "us-east-1-", "-us-east-1",
        "us-east-1 ", "us-gov-west-1-2"};
    static const char *const bad_arns[] = {
        "arn:aws:iam::123456789012:role/", "arn:aws:iam:us-east-1:123456789012:role/x",
        "arn:aws:iam::12345678901:role/x", "arn:aws:sts::123456789012:role/x",
        "arn:azure:iam::123456789012:role/x", "arn:aws:iam::123456789012:role/a b",
        "xarn:aws:iam::123456789012:role/x"};
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX), yaml = AK_BUF_INIT(AK_BUF_NOMAX);

    for (size_t i = 0; i < sizeof(good_regions) / sizeof(good_regions[0]); i++) {
        ak_buf_reset(&yaml);
        ak_buf_addf(&yaml, "inventory: [{service: rds, account: '123456789012', region: '%s'}]\n",
                    good_regions[i]);
        AK_ASSERT_OK(load(yaml.buf, &c, &err));
        AK_ASSERT_STR(c.inventory[0].region, good_regions[i]);
        ak_cfg_release(&c);
    }
    for (size_t i = 0; i < sizeof(bad_regions) / sizeof(bad_regions[0]); i++) {
        ak_buf_reset(&yaml);
        ak_buf_reset(&err);
        ak_buf_addf(&yaml, ACCT("    - id: '000000000000'\n      regions: ['%s']\n"),
                    bad_regions[i]);
        AK_ASSERT_EQ_INT(load(yaml.buf, &c, &err), AK_ECONFIG);
        AK_ASSERT_STR(err.buf, "t.yaml:6:17: aws.accounts[1].regions[0]: must be an AWS region "
                               "name like ap-northeast-1 or us-gov-west-1\n");
    }
    for (size_t i = 0; i < sizeof(bad_arns) / sizeof(bad_arns[0]); i++) {
        ak_buf_reset(&yaml);
        ak_buf_reset(&err);
        ak_buf_addf(&yaml, ACCT("      assume_role_arn: '%s'\n"), bad_arns[i]);
        AK_ASSERT_EQ_INT(load(yaml.buf, &c, &err), AK_ECONFIG);
        AK_ASSERT_CONTAINS(err.buf, "t.yaml:5:24: aws.accounts[0].assume_role_arn: ");
        AK_ASSERT_EQ_INT(count_lines(err.buf), 1);
    }
    /* Other partitions and role paths are fine. */
    AK_ASSERT_OK(load(ACCT("      assume_role_arn: arn:aws-us-gov:iam::123456789012:role/a/b\n"
                           "      external_id: 'Ab_+=,.@:/-9'\n"),
                      &c, &err));
    AK_ASSERT_STR(c.aws_accounts[0].assume_role_arn,
                  "arn:aws-us-gov:iam::123456789012:role/a/b");
    AK_ASSERT_STR(c.aws_accounts[0].external_id, "Ab_+=,.@:/-9");
    ak_cfg_release(&c);
    ak_buf_reset(&err);
    /* The external ID may be a shared secret: never quoted. */
    AK_ASSERT_EQ_INT(load(ACCT("      assume_role_arn: arn:aws:iam::123456789012:role/r\n"
                               "      external_id: 'hunter2 x'\n"),
                          &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_STR(err.buf, "t.yaml:6:20: aws.accounts[0].external_id: must be 2 to 1224 of "
                           "letters, digits and _+=,.@:/-\n");
    ak_buf_release(&yaml);
    ak_buf_release(&err);
}

AK_TEST(aws_scalar_ranges)
{
    expect_error("aws:\n  timeout: 0s\n", "t.yaml:2:12: aws.timeout: must be between 1s and 5m\n");
    expect_error("aws:\n  max_in_flight: 513\n",
                 "t.yaml:2:18: aws.max_in_flight: must be between 1 and 512\n");
    expect_error("aws:\n  max_attempts: 0\n",
                 "t.yaml:2:17: aws.max_attempts: must be between 1 and 20\n");
    expect_error("aws:\n  retry_base: 5ms\n",
                 "t.yaml:2:15: aws.retry_base: must be between 10ms and 1m\n");
    expect_error("aws:\n  sts_endpoint: sts.amazonaws.com\n",
                 "t.yaml:2:17: aws.sts_endpoint: must be a URL starting with https:// or "
                 "http://\n");
    expect_error("aws:\n  ca_file: ''\n", "t.yaml:2:12: aws.ca_file: must not be empty\n");
}

AK_TEST(poller_errors)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    expect_error("pollers:\n  ec2_schedule_events: {enabled: true}\n",
                 "t.yaml:2:3: pollers.ec2_schedule_events: unknown poller; did you mean "
                 "'pollers.ec2_scheduled_events'?\n");
    expect_error("pollers:\n  s3: {enabled: true}\n",
                 "t.yaml:2:3: pollers.s3: unknown poller (pollers: ec2_scheduled_events, "
                 "rds_pending_maintenance, elasticache_update_actions, elasticache_events, "
                 "health)\n");
    expect_error("pollers:\n  health: {enabled: true, intervall: 1h}\n",
                 "t.yaml:2:27: pollers.health.intervall: unknown key; did you mean "
                 "'pollers.health.interval'?\n");
    expect_error("pollers:\n  health: {enabled: maybe}\n",
                 "t.yaml:2:21: pollers.health.enabled: must be true or false\n");
    expect_error("pollers:\n  health: {interval: 9s}\n",
                 "t.yaml:2:22: pollers.health.interval: must be between 10s and 1d\n");
    expect_error("pollers:\n  rds_pending_maintenance:\n    interval: 24h1s\n",
                 "t.yaml:3:15: pollers.rds_pending_maintenance.interval: must be between 10s "
                 "and 1d\n");
    expect_error("pollers:\n  health: false\n",
                 "t.yaml:2:11: pollers.health: expected a mapping of keys, got a single value\n");
    /* The bounds themselves are inside. */
    AK_ASSERT_OK(load("pollers:\n  health: {interval: 10s}\n  elasticache_events: {interval: 1d}\n",
                      &c, &err));
    AK_ASSERT_EQ_INT(c.pollers[AK_POLLER_HEALTH].interval_ms, 10 * SEC);
    AK_ASSERT_EQ_INT(c.pollers[AK_POLLER_EC_EVENTS].interval_ms, 24 * HOUR);
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(inventory_errors)
{
    expect_error("inventory:\n  - {service: elasticcache, account: '123456789012', region: "
                 "us-east-1}\n",
                 "t.yaml:2:15: inventory[0].service: must be one of ec2, rds, elasticache; did "
                 "you mean 'elasticache'?\n");
    expect_error("inventory:\n  - {service: s3, account: '123456789012', region: us-east-1}\n",
                 "t.yaml:2:15: inventory[0].service: must be one of ec2, rds, elasticache\n");
    expect_error("inventory:\n  - {service: rds, account: 12345, region: us-east-1}\n",
                 "t.yaml:2:29: inventory[0].account: must be a 12-digit AWS account ID\n");
    expect_error("inventory:\n  - {service: rds, account: '123456789012', region: tokyo}\n",
                 "t.yaml:2:53: inventory[0].region: must be an AWS region name like "
                 "ap-northeast-1 or us-gov-west-1\n");
    expect_error("inventory:\n  - {service: rds, account: '123456789012'}\n",
                 "t.yaml:2:5: inventory[0]: needs region\n");
    expect_error("inventory:\n  - {service: rds, account: '123456789012', region: us-east-1, "
                 "regoin: x}\n",
                 "t.yaml:2:64: inventory[0].regoin: unknown key; did you mean 'region'?\n");
    expect_error("inventory:\n  - {service: rds, account: '123456789012', region: us-east-1}\n"
                 "  - {service: ec2, account: '123456789012', region: us-east-1}\n"
                 "  - {region: us-east-1, account: '123456789012', service: rds}\n",
                 "t.yaml:4:5: inventory[2]: duplicate entry (same service, account and region "
                 "as line 2)\n");
    expect_error("inventory:\n  - rds\n",
                 "t.yaml:2:5: inventory[0]: expected a mapping of keys, got a single value\n");
    expect_error("inventory: {service: rds}\n",
                 "t.yaml:1:12: inventory: expected a list of {service, account, region}, got a "
                 "mapping\n");
    expect_error("inventroy: []\n", "t.yaml:1:1: inventroy: unknown key; did you mean "
                                    "'inventory'?\n");
}

AK_TEST(aws_env_expansion)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    setenv("AK_T_LOCALSTACK", "127.0.0.1:4566", 1);
    setenv("AK_T_ACCOUNT", "210987654321", 1);
    AK_ASSERT_OK(load("aws:\n  accounts:\n    - id: ${AK_T_ACCOUNT}\n      regions: [us-east-1]\n"
                      "      endpoint_url: http://${AK_T_LOCALSTACK}/\n"
                      "  sts_endpoint: 'http://${AK_T_LOCALSTACK}'\n",
                      &c, &err));
    AK_ASSERT_STR(c.aws_accounts[0].id, "210987654321");
    AK_ASSERT_STR(c.aws_accounts[0].endpoint_url, "http://127.0.0.1:4566/");
    AK_ASSERT_STR(c.aws_sts_endpoint, "http://127.0.0.1:4566");
    ak_cfg_release(&c);
    unsetenv("AK_T_UNSET_ENDPOINT");
    expect_error(ACCT("      endpoint_url: ${AK_T_UNSET_ENDPOINT}\n"),
                 "t.yaml:5:21: aws.accounts[0].endpoint_url: environment variable "
                 "AK_T_UNSET_ENDPOINT is not set\n");
    /* The expanded value is checked, and not quoted. */
    setenv("AK_T_BAD_ENDPOINT", "ftp://secret-host", 1);
    expect_error(ACCT("      endpoint_url: ${AK_T_BAD_ENDPOINT}\n"),
                 "t.yaml:5:21: aws.accounts[0].endpoint_url: must be a URL starting with "
                 "https:// or http://\n");
    ak_buf_release(&err);
}

AK_TEST(aws_errors_are_all_reported_and_freed)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    /* Good accounts and entries were built before the bad ones: all freed on failure (ASan). */
    AK_ASSERT_EQ_INT(load(ACCT("      profile: sre\n"
                               "    - id: '000000000001'\n      regions: [bad]\n"
                               "inventory:\n"
                               "  - {service: rds, account: '123456789012', region: us-east-1}\n"
                               "  - {service: x, account: '1', region: y}\n"
                               "pollers:\n  health: {interval: 1s}\n"),
                          &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_EQ_INT(count_lines(err.buf), 5);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:12:22: pollers.health.interval:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:7:17: aws.accounts[1].regions[0]:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:10:15: inventory[1].service:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:10:27: inventory[1].account:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:10:40: inventory[1].region:");
    AK_ASSERT_NULL(c.aws_accounts);
    ak_buf_release(&err);
}

AK_TEST(dump_has_aws_keys)
{
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX), yaml = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cfg c;
    const char *p, *end;

    AK_ASSERT_OK(ak_cfg_dump_defaults(&out));
    AK_ASSERT_CONTAINS(out.buf, "\naws:\n");
    AK_ASSERT_CONTAINS(out.buf, "  # accounts:\n");
    AK_ASSERT_CONTAINS(out.buf, "role/asakai-reader'\n\n  # STS endpoint");
    AK_ASSERT_CONTAINS(out.buf, "  # sts_endpoint:\n");
    AK_ASSERT_CONTAINS(out.buf, "  # ca_file:\n");
    AK_ASSERT_CONTAINS(out.buf, "  # Time allowed for one AWS API request.\n"
                                "  # (duration, 1s .. 5m)\n  timeout: 20s\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (integer, 1 .. 512)\n  max_in_flight: 32\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (integer, 1 .. 20)\n  max_attempts: 5\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (duration, 10ms .. 1m)\n  retry_base: 1s\n");
    AK_ASSERT_CONTAINS(out.buf, "\npollers:\n  ec2_scheduled_events:\n    # Poll EC2 scheduled "
                                "events (DescribeInstanceStatus).\n");
    AK_ASSERT_CONTAINS(out.buf, "    # (duration, 10s .. 1d)\n    interval: 15m\n");
    AK_ASSERT_CONTAINS(out.buf, "  health:\n    # Poll AWS Health");
    AK_ASSERT_CONTAINS(out.buf, "    # (true or false)\n    enabled: false\n");
    AK_ASSERT_CONTAINS(out.buf, "\n# inventory:\n");
    /* The dump loads back to the defaults. */
    AK_ASSERT_OK(ak_cfg_load_string("dump", out.buf, out.len, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.aws_timeout_ms, 20 * SEC);
    AK_ASSERT_EQ_INT(c.aws_retry_base_ms, SEC);
    AK_ASSERT(!c.pollers[AK_POLLER_HEALTH].enabled);
    AK_ASSERT(c.pollers[AK_POLLER_EC_EVENTS].enabled);
    AK_ASSERT_EQ_INT(c.n_aws_accounts, 0);
    ak_cfg_release(&c);
    /* The commented accounts and inventory examples, uncommented, are valid. */
    ak_buf_add(&yaml, "aws:\n");
    p = strstr(out.buf, "  # accounts:\n");
    for (; strncmp(p, "  # ", 4) == 0; p = end + 1) {
        end = strchr(p, '\n');
        ak_buf_add(&yaml, "  ");
        ak_buf_addn(&yaml, p + 4, (size_t)(end - p - 3));
    }
    p = strstr(out.buf, "\n# inventory:\n") + 1;
    for (; strncmp(p, "# ", 2) == 0; p = end + 1) {
        end = strchr(p, '\n');
        ak_buf_addn(&yaml, p + 2, (size_t)(end - p - 1));
    }
    AK_ASSERT_OK(ak_cfg_load_string("example", yaml.buf, yaml.len, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_aws_accounts, 1);
    AK_ASSERT_STR(c.aws_accounts[0].id, "123456789012");
    AK_ASSERT(c.aws_accounts[0].assume_role_arn != NULL);
    AK_ASSERT_EQ_INT(c.n_inventory, 1);
    AK_ASSERT_STR(c.inventory[0].service, "elasticache");
    ak_cfg_release(&c);
    ak_buf_release(&out);
    ak_buf_release(&yaml);
    ak_buf_release(&err);
}

/* ---- the STS twin (issue 5) ---- */

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(text, 1, len, f);
        fclose(f);
    }
}

/* Loads yaml as if it were the file DIR/asakai.yaml (relative paths resolve against DIR). */
static int load_in_tmp(const char *yaml, struct ak_cfg *c, struct ak_buf *err)
{
    char name[512];
    snprintf(name, sizeof(name), "%s/asakai.yaml", AK_TMPDIR());
    return ak_cfg_load_string(name, yaml, strlen(yaml), c, err);
}

#define ORG "a1b2c3d4-0000-4000-8000-00000000beef"
#define CIRCLE_POLICY                                                                              \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"             \
    "{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/oidc.circleci.com/org/" ORG "\"},"  \
    "\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringLike\":"                 \
    "{\"oidc.circleci.com/org/" ORG ":sub\":\"org/" ORG "/project/p1/user/*\"}}}]}"

static const char issue5_sample[] =
    "sts:\n"
    "  enabled: true\n"
    "  oidc_providers:\n"
    "    - url: https://oidc.circleci.com/org/" ORG "\n"
    "      client_id_list: [" ORG "]\n"
    "      thumbprint_list: []\n"
    "      jwks_file: jwks.json   # optional: static keys instead of discovery\n"
    "  roles:\n"
    "    - name: application-deploy-circleci\n"
    "      account_id: \"123456789012\"\n"
    "      max_session_duration: 3600\n"
    "      assume_role_policy: {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": "
    "\"Allow\", \"Principal\": {\"Federated\": \"arn:aws:iam::123456789012:oidc-provider/"
    "oidc.circleci.com/org/" ORG "\"}, \"Action\": \"sts:AssumeRoleWithWebIdentity\", "
    "\"Condition\": {\"StringLike\": {\"oidc.circleci.com/org/" ORG ":sub\": \"org/" ORG
    "/project/p1/user/*\"}}}]}\n";

AK_TEST(sts_defaults)
{
    struct ak_cfg c;

    ak_cfg_defaults(&c);
    AK_ASSERT(!c.sts_enabled);
    AK_ASSERT_EQ_INT(c.n_oidc_providers, 0);
    AK_ASSERT_NULL(c.oidc_providers);
    AK_ASSERT_EQ_INT(c.n_sts_roles, 0);
    AK_ASSERT_EQ_INT(c.sts_exp_leeway_ms, 5 * MIN);
    AK_ASSERT_EQ_INT(c.sts_jwks_ttl_ms, HOUR);
    AK_ASSERT_EQ_INT(c.sts_jwks_refetch_ms, 30 * SEC);
    ak_cfg_release(&c);
}

AK_TEST(sts_issue_sample_loads)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char jwks[512], want[512];
    const struct ak_cfg_oidc_provider *p;
    const struct ak_cfg_sts_role *r;

    snprintf(jwks, sizeof(jwks), "%s/jwks.json", AK_TMPDIR());
    write_text(jwks, "{\"keys\":[]}", 11);
    AK_ASSERT_OK(load_in_tmp(issue5_sample, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT(c.sts_enabled);
    AK_ASSERT_EQ_INT(c.n_oidc_providers, 1);
    p = &c.oidc_providers[0];
    AK_ASSERT_STR(p->url, "https://oidc.circleci.com/org/" ORG);
    AK_ASSERT_EQ_INT(p->client_ids.n, 1);
    AK_ASSERT_STR(p->client_ids.v[0], ORG);
    AK_ASSERT_EQ_INT(p->thumbprints.n, 0);
    snprintf(want, sizeof(want), "%s/jwks.json", AK_TMPDIR());
    AK_ASSERT_STR(p->jwks_file, want); /* resolved against the config file's folder */
    AK_ASSERT_NULL(p->ca_file);
    AK_ASSERT_EQ_INT(p->max_token_age_ms, 0);
    AK_ASSERT_EQ_INT(p->line, 4);
    AK_ASSERT_EQ_INT(c.n_sts_roles, 1);
    r = &c.sts_roles[0];
    AK_ASSERT_STR(r->name, "application-deploy-circleci");
    AK_ASSERT_STR(r->account_id, "123456789012");
    AK_ASSERT_EQ_INT(r->max_session_s, 3600);
    AK_ASSERT_STR(r->policy_json, CIRCLE_POLICY);
    AK_ASSERT_EQ_INT(r->line, 9);
    AK_ASSERT_EQ_INT(c.sts_exp_leeway_ms, 5 * MIN);
    ak_cfg_release(&c);
    AK_ASSERT_NULL(c.oidc_providers);
    AK_ASSERT_NULL(c.sts_roles);
    /* without the JWKS file the same configuration is refused */
    unlink(jwks);
    AK_ASSERT_EQ_INT(load_in_tmp(issue5_sample, &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "asakai.yaml:7:18: sts.oidc_providers[0].jwks_file: cannot read "
                                "the JWKS file: No such file or directory\n");
    AK_ASSERT_EQ_INT(count_lines(err.buf), 1);
    ak_buf_release(&err);
}

AK_TEST(sts_full_file_loads)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char jwks[512], ca[512], yaml[2048];
    const struct ak_cfg_oidc_provider *p;

    snprintf(jwks, sizeof(jwks), "%s/abs-jwks.json", AK_TMPDIR());
    write_text(jwks, "{}", 2);
    snprintf(ca, sizeof(ca), "%s/ca.pem", AK_TMPDIR());
    snprintf(yaml, sizeof(yaml),
             "sts:\n"
             "  exp_leeway: 0s\n"
             "  jwks_cache_ttl: 10m\n"
             "  jwks_refetch_min_interval: 1m\n"
             "  oidc_providers:\n"
             "    - url: https://token.actions.githubusercontent.com\n"
             "      client_id_list: [sts.amazonaws.com, other]\n"
             "      thumbprint_list: [6938fd4d98bab03faadb97b34396831e3780aea1,"
             " 1C58A3A8518E8759BF075B76B750D4F2DF264FCD]\n"
             "      jwks_file: %s\n"
             "      ca_file: %s\n"
             "      max_token_age: 10m\n"
             "    - url: https://gitlab.example.com/\n"
             "      client_id_list: ['https://gitlab.example.com']\n"
             "  roles:\n"
             "    - {name: 'a+=,.@-_Z9', account_id: 012345678901, max_session_duration: 43200,"
             " assume_role_policy: '{\"Version\":\"2012-10-17\"}'}\n"
             "    - {name: \"a+=,.@-_Z9\", account_id: '123456789012', assume_role_policy: {}}\n",
             jwks, ca);
    AK_ASSERT_OK(load_in_tmp(yaml, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT(!c.sts_enabled);
    AK_ASSERT_EQ_INT(c.sts_exp_leeway_ms, 0);
    AK_ASSERT_EQ_INT(c.sts_jwks_ttl_ms, 10 * MIN);
    AK_ASSERT_EQ_INT(c.sts_jwks_refetch_ms, MIN);
    AK_ASSERT_EQ_INT(c.n_oidc_providers, 2);
    p = &c.oidc_providers[0];
    AK_ASSERT_EQ_INT(p->client_ids.n, 2);
    AK_ASSERT_STR(p->client_ids.v[1], "other");
    AK_ASSERT_EQ_INT(p->thumbprints.n, 2);
    AK_ASSERT_STR(p->thumbprints.v[1], "1C58A3A8518E8759BF075B76B750D4F2DF264FCD");
    AK_ASSERT_STR(p->jwks_file, jwks); /* absolute: kept */
    AK_ASSERT_STR(p->ca_file, ca);
    AK_ASSERT_EQ_INT(p->max_token_age_ms, 10 * MIN);
    p = &c.oidc_providers[1];
    AK_ASSERT_STR(p->url, "https://gitlab.example.com/"); /* no trailing-slash rewriting */
    AK_ASSERT_STR(p->client_ids.v[0], "https://gitlab.example.com");
    AK_ASSERT_NULL(p->jwks_file);
    AK_ASSERT_EQ_INT(c.n_sts_roles, 2);
    AK_ASSERT_STR(c.sts_roles[0].account_id, "012345678901"); /* unquoted, zero kept */
    AK_ASSERT_EQ_INT(c.sts_roles[0].max_session_s, 43200);
    AK_ASSERT_STR(c.sts_roles[0].policy_json, "{\"Version\":\"2012-10-17\"}");
    AK_ASSERT_STR(c.sts_roles[1].name, "a+=,.@-_Z9"); /* same name, other account */
    AK_ASSERT_EQ_INT(c.sts_roles[1].max_session_s, 3600);
    AK_ASSERT_STR(c.sts_roles[1].policy_json, "{}");
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(sts_policy_yaml_to_json)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *yaml =
        "sts:\n"
        "  roles:\n"
        "    - name: r\n"
        "      account_id: '123456789012'\n"
        "      assume_role_policy:\n"
        "        Version: 2012-10-17\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Action: [sts:AssumeRoleWithWebIdentity, 'sts:TagSession']\n"
        "            Condition:\n"
        "              Bool: {a: true, b: 'true', c: \"false\", d: false, e: True}\n"
        "              Num: {i: 42, n: -1.5e3, z: 0, q: '3', lead: 012, h: 0x1F, inf: .inf}\n"
        "              Str: {var: '${aws:username}', empty: '', null: ~,"
        " quote: 'say \"hi\"\\', uni: \"\\u00e9\"}\n"
        "              Nested: [[1, [true]], {k: [v]}]\n"
        "              Plain:\n"
        "                plainvar: ${x}\n";
    AK_ASSERT_OK(load(yaml, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_STR(c.sts_roles[0].policy_json,
                  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                  "[\"sts:AssumeRoleWithWebIdentity\",\"sts:TagSession\"],\"Condition\":{"
                  "\"Bool\":{\"a\":true,\"b\":\"true\",\"c\":\"false\",\"d\":false,\"e\":"
                  "\"True\"},"
                  "\"Num\":{\"i\":42,\"n\":-1.5e3,\"z\":0,\"q\":\"3\",\"lead\":\"012\",\"h\":"
                  "\"0x1F\",\"inf\":\".inf\"},"
                  "\"Str\":{\"var\":\"${aws:username}\",\"empty\":\"\","
                  "\"null\":\"~\",\"quote\":\"say \\\"hi\\\"\\\\\",\"uni\":\"\xc3\xa9\"},"
                  "\"Nested\":[[1,[true]],{\"k\":[\"v\"]}],"
                  "\"Plain\":{\"plainvar\":\"${x}\"}}}]}");
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

#define ROLE_HEAD "sts:\n  roles:\n    - name: r\n      account_id: '123456789012'\n"

AK_TEST(sts_policy_duplicate_key)
{
    expect_error(ROLE_HEAD "      assume_role_policy:\n"
                           "        Version: '2012-10-17'\n"
                           "        Statement:\n"
                           "          - Effect: Allow\n"
                           "            Condition:\n"
                           "              StringLike: {sub: a}\n"
                           "              StringEquals: {aud: b}\n"
                           "              StringLike: {sub: c}\n",
                 "t.yaml:12:15: sts.roles[0].assume_role_policy.Statement[0].Condition.StringLike:"
                 " duplicate key (first set at line 10 column 15)\n");
    expect_error(ROLE_HEAD "      assume_role_policy: {Version: 1, Version: 2}\n",
                 "t.yaml:5:40: sts.roles[0].assume_role_policy.Version: duplicate key (first set "
                 "at line 5 column 28)\n");
    expect_error(ROLE_HEAD "      assume_role_policy: {? [a] : b}\n",
                 "t.yaml:5:30: sts.roles[0].assume_role_policy: policy keys must be non-empty "
                 "strings\n");
    expect_error(ROLE_HEAD "      assume_role_policy: {Version: \"a\\0b\"}\n",
                 "t.yaml:5:37: sts.roles[0].assume_role_policy.Version: value contains a NUL "
                 "byte\n");
}

AK_TEST(sts_policy_json_text_and_files)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX), big = AK_BUF_INIT(AK_BUF_NOMAX);
    char path[512], yaml[1024];
    const char *text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}\n";

    /* a block scalar holding JSON: kept as written */
    AK_ASSERT_OK(load(ROLE_HEAD "      assume_role_policy: |\n        {\"Version\": \"x\",\n"
                                "         \"Statement\": []}\n", &c, &err));
    AK_ASSERT_STR(c.sts_roles[0].policy_json, "{\"Version\": \"x\",\n \"Statement\": []}\n");
    ak_cfg_release(&c);
    /* a relative file path: against the config file's folder */
    snprintf(path, sizeof(path), "%s/trust.json", AK_TMPDIR());
    write_text(path, text, strlen(text));
    AK_ASSERT_OK(load_in_tmp(ROLE_HEAD "      assume_role_policy: trust.json\n", &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_STR(c.sts_roles[0].policy_json, text);
    ak_cfg_release(&c);
    snprintf(yaml, sizeof(yaml), ROLE_HEAD "      assume_role_policy: '%s'\n", path);
    AK_ASSERT_OK(load(yaml, &c, &err));
    AK_ASSERT_STR(c.sts_roles[0].policy_json, text);
    ak_cfg_release(&c);
    /* file errors */
    AK_ASSERT_EQ_INT(load_in_tmp(ROLE_HEAD "      assume_role_policy: nope.json\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "asakai.yaml:5:27: sts.roles[0].assume_role_policy: cannot read "
                                "the policy file: No such file or directory\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(load_in_tmp(ROLE_HEAD "      assume_role_policy: .\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "policy: cannot read the policy file: not a regular file\n");
    ak_buf_reset(&err);
    write_text(path, "{\"a\": 1, \"a\": 2}", 16);
    AK_ASSERT_EQ_INT(load_in_tmp(ROLE_HEAD "      assume_role_policy: trust.json\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "asakai.yaml:5:27: sts.roles[0].assume_role_policy: the policy "
                                "file is not valid JSON: ");
    ak_buf_reset(&err);
    write_text(path, "[1]", 3);
    AK_ASSERT_EQ_INT(load_in_tmp(ROLE_HEAD "      assume_role_policy: trust.json\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "the policy file must be a JSON object\n");
    ak_buf_reset(&err);
    write_text(path, "{\"a\":\"\0\"}", 9);
    AK_ASSERT_EQ_INT(load_in_tmp(ROLE_HEAD "      assume_role_policy: trust.json\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "the policy file contains a NUL byte\n");
    ak_buf_reset(&err);
    ak_buf_add(&big, "{\"k\":\"");
    for (int i = 0; i < 64 * 1024; i++)
        ak_buf_addc(&big, 'x');
    ak_buf_add(&big, "\"}");
    write_text(path, big.buf, big.len);
    AK_ASSERT_EQ_INT(load_in_tmp(ROLE_HEAD "      assume_role_policy: trust.json\n", &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "the policy file is larger than 64 KiB\n");
    ak_buf_reset(&err);
    /* JSON text errors */
    expect_error(ROLE_HEAD "      assume_role_policy: '{\"Version\": }'\n",
                 "t.yaml:5:27: sts.roles[0].assume_role_policy: the policy is not valid JSON: "
                 "line 1, column 13: unexpected token near '}'\n");
    expect_error(ROLE_HEAD "      assume_role_policy: '{\"a\": 1, \"a\": 2}'\n",
                 "t.yaml:5:27: sts.roles[0].assume_role_policy: the policy is not valid JSON: "
                 "line 1, column 12: duplicate object key near '\"a\"'\n");
    expect_error(ROLE_HEAD "      assume_role_policy: [a]\n",
                 "t.yaml:5:27: sts.roles[0].assume_role_policy: expected a mapping, JSON text or "
                 "a file path, got a list\n");
    expect_error(ROLE_HEAD,
                 "t.yaml:3:7: sts.roles[0]: needs assume_role_policy (a mapping, JSON text or a "
                 "file path)\n");
    /* an inline policy over 64 KiB as JSON */
    ak_buf_reset(&big);
    ak_buf_add(&big, ROLE_HEAD "      assume_role_policy: {k: ");
    for (int i = 0; i < 64 * 1024; i++)
        ak_buf_addc(&big, 'x');
    ak_buf_add(&big, "}\n");
    AK_ASSERT_EQ_INT(ak_cfg_load_string("t.yaml", big.buf, big.len, &c, &err), AK_ECONFIG);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:5:31: sts.roles[0].assume_role_policy.k: policy is longer "
                                "than 64 KiB as JSON");
    ak_buf_release(&big);
    ak_buf_release(&err);
}

#define PROV(rest)                                                                                 \
    "sts:\n  oidc_providers:\n    - url: https://oidc.example.com/org/1\n"                       \
    "      client_id_list: [aud1]\n" rest

AK_TEST(sts_provider_errors)
{
    static const struct {
        const char *url, *why;
    } urls[] = {
        {"http://oidc.example.com", "must start with https:// (OIDC issuers are https)"},
        {"https://oidc.example.com/a?b=c", "must not have a query (?...)"},
        {"https://oidc.example.com/#x", "must not have a fragment (#...)"},
        {"https://oidc.example.com:8443/x", "must not have a port (IAM OIDC providers have none)"},
        {"https://user@oidc.example.com", "must not contain user@"},
        {"https:///path", "must have a host name after https://"},
        {"https://oi_dc.example.com", "must have a host name after https://"},
        {"'https://oidc.example.com/a b'", "must not contain spaces or control characters"},
    };
    char yaml[512], want[512];

    for (size_t i = 0; i < AK_ARRAY_SIZE(urls); i++) {
        snprintf(yaml, sizeof(yaml), "sts:\n  oidc_providers:\n    - url: %s\n"
                                     "      client_id_list: [a]\n", urls[i].url);
        snprintf(want, sizeof(want), "t.yaml:3:12: sts.oidc_providers[0].url: %s\n", urls[i].why);
        expect_error(yaml, want);
    }
    struct ak_buf longurl = AK_BUF_INIT(AK_BUF_NOMAX);
    ak_buf_add(&longurl, "sts:\n  oidc_providers:\n    - url: https://h/");
    for (int i = 0; i < 250; i++)
        ak_buf_addc(&longurl, 'p');
    ak_buf_add(&longurl, "\n      client_id_list: [a]\n");
    expect_error(longurl.buf, "t.yaml:3:12: sts.oidc_providers[0].url: must be at most 255 "
                              "characters\n");
    ak_buf_release(&longurl);
    expect_error("sts:\n  oidc_providers:\n    - client_id_list: [a]\n",
                 "t.yaml:3:7: sts.oidc_providers[0]: needs url\n");
    expect_error("sts:\n  oidc_providers:\n    - url: https://a.example\n",
                 "t.yaml:3:7: sts.oidc_providers[0]: needs client_id_list (the accepted "
                 "audiences)\n");
    expect_error("sts:\n  oidc_providers:\n    - url: https://a.example\n"
                 "      client_id_list: []\n",
                 "t.yaml:4:23: sts.oidc_providers[0].client_id_list: needs at least one client "
                 "id\n");
    expect_error("sts:\n  oidc_providers:\n    - url: https://a.example\n      client_id_list: a\n",
                 "t.yaml:4:23: sts.oidc_providers[0].client_id_list: expected a list, got a "
                 "single value\n");
    expect_error(PROV("      thumbprint_list: [6938fd4d98bab03faadb97b34396831e3780aea]\n"),
                 "t.yaml:5:25: sts.oidc_providers[0].thumbprint_list[0]: a thumbprint is 40 hex "
                 "digits (a SHA-1 fingerprint)\n");
    expect_error(PROV("      thumbprint_list: [6938fd4d98bab03faadb97b34396831e3780aeag]\n"),
                 "t.yaml:5:25: sts.oidc_providers[0].thumbprint_list[0]: a thumbprint is 40 hex "
                 "digits (a SHA-1 fingerprint)\n");
    expect_error(PROV("      thumbprint_list: [a, b, c, d, e, f]\n"),
                 "t.yaml:5:24: sts.oidc_providers[0].thumbprint_list: list has more than 5 "
                 "items\n");
    expect_error(PROV("    - url: https://oidc.example.com/org/1\n      client_id_list: [x]\n"),
                 "t.yaml:5:12: sts.oidc_providers[1].url: duplicate provider url (first defined "
                 "at line 3)\n");
    expect_error(PROV("      jwks_file: /nonexistent/jwks.json\n"),
                 "t.yaml:5:18: sts.oidc_providers[0].jwks_file: cannot read the JWKS file: No "
                 "such file or directory\n");
    expect_error(PROV("      jwks_file: /\n"),
                 "t.yaml:5:18: sts.oidc_providers[0].jwks_file: cannot read the JWKS file: not a "
                 "regular file\n");
    expect_error(PROV("      max_token_age: 30s\n"),
                 "t.yaml:5:22: sts.oidc_providers[0].max_token_age: must be between 1m and 1d\n");
    expect_error(PROV("      max_token_age: soon\n"),
                 "t.yaml:5:22: sts.oidc_providers[0].max_token_age: not a duration (examples: "
                 "5m, 1h)\n");
    expect_error(PROV("      client_ids: [a]\n"),
                 "t.yaml:5:7: sts.oidc_providers[0].client_ids: unknown key\n");
    expect_error(PROV("      thumbprints_list: []\n"),
                 "t.yaml:5:7: sts.oidc_providers[0].thumbprints_list: unknown key; did you mean "
                 "'thumbprint_list'?\n");
    expect_error("sts:\n  oidc_providers: {url: x}\n",
                 "t.yaml:2:19: sts.oidc_providers: expected a list of providers, got a "
                 "mapping\n");
    expect_error("sts:\n  oidc_provider: []\n",
                 "t.yaml:2:3: sts.oidc_provider: unknown key; did you mean "
                 "'sts.oidc_providers'?\n");
    /* client ids: 1..100 entries of 1..255 characters */
    struct ak_buf doc = AK_BUF_INIT(AK_BUF_NOMAX);
    ak_buf_add(&doc, "sts:\n  oidc_providers:\n    - url: https://a.example\n"
                     "      client_id_list: [");
    for (int i = 0; i < 101; i++)
        ak_buf_addf(&doc, "%sc%d", i ? ", " : "", i);
    ak_buf_add(&doc, "]\n");
    expect_error(doc.buf, "t.yaml:4:23: sts.oidc_providers[0].client_id_list: list has more than "
                          "100 items\n");
    ak_buf_reset(&doc);
    ak_buf_add(&doc, "sts:\n  oidc_providers:\n    - url: https://a.example\n"
                     "      client_id_list: [");
    for (int i = 0; i < 256; i++)
        ak_buf_addc(&doc, 'c');
    ak_buf_add(&doc, "]\n");
    expect_error(doc.buf, "t.yaml:4:24: sts.oidc_providers[0].client_id_list[0]: a client id is 1 "
                          "to 255 characters\n");
    ak_buf_release(&doc);
}

AK_TEST(sts_role_errors)
{
#define POL "      assume_role_policy: {}\n"
    expect_error("sts:\n  roles:\n    - name: 'a b'\n      account_id: '123456789012'\n" POL,
                 "t.yaml:3:13: sts.roles[0].name: a role name is 1 to 64 of letters, digits and "
                 "_+=,.@-\n");
    expect_error("sts:\n  roles:\n    - name: a1234567890123456789012345678901234567890123456789"
                 "012345678901234\n      account_id: '123456789012'\n" POL,
                 "t.yaml:3:13: sts.roles[0].name: a role name is 1 to 64 of letters, digits and "
                 "_+=,.@-\n");
    expect_error("sts:\n  roles:\n    - account_id: '123456789012'\n" POL,
                 "t.yaml:3:7: sts.roles[0]: needs name\n");
    expect_error("sts:\n  roles:\n    - name: r\n      account_id: '12345678901'\n" POL,
                 "t.yaml:4:19: sts.roles[0].account_id: must be a 12-digit AWS account ID\n");
    expect_error("sts:\n  roles:\n    - name: r\n      account_id: 1.2345678901e11\n" POL,
                 "t.yaml:4:19: sts.roles[0].account_id: must be a 12-digit AWS account ID\n");
    expect_error("sts:\n  roles:\n    - name: r\n" POL, "t.yaml:3:7: sts.roles[0]: needs "
                                                        "account_id\n");
    static const char *const sessions[] = {"3599", "43201", "1h", "-3600", "[3600]"};
    for (size_t i = 0; i < AK_ARRAY_SIZE(sessions); i++) {
        char yaml[256];
        snprintf(yaml, sizeof(yaml), ROLE_HEAD "      max_session_duration: %s\n" POL,
                 sessions[i]);
        expect_error(yaml, "t.yaml:5:29: sts.roles[0].max_session_duration: must be a number of "
                           "seconds between 3600 and 43200\n");
    }
    expect_error(ROLE_HEAD POL
                 "    - {name: r, account_id: 123456789012, assume_role_policy: {}}\n",
                 "t.yaml:6:7: sts.roles[1]: duplicate role r in account 123456789012 (first "
                 "defined at line 3)\n");
    expect_error(ROLE_HEAD POL "      max_sesion_duration: 3600\n",
                 "t.yaml:6:7: sts.roles[0].max_sesion_duration: unknown key; did you mean "
                 "'max_session_duration'?\n");
    expect_error(ROLE_HEAD POL "      policy: {}\n",
                 "t.yaml:6:7: sts.roles[0].policy: unknown key\n");
    expect_error("sts:\n  roles: [r]\n",
                 "t.yaml:2:11: sts.roles[0]: expected a mapping of keys, got a single value\n");
    expect_error("sts:\n  roles: r\n",
                 "t.yaml:2:10: sts.roles: expected a list of roles, got a single value\n");
    expect_error("sts:\n  role: []\n", "t.yaml:2:3: sts.role: unknown key; did you mean "
                                       "'sts.roles'?\n");
#undef POL
}

AK_TEST(sts_scalar_ranges)
{
    expect_error("sts:\n  exp_leeway: 11m\n",
                 "t.yaml:2:15: sts.exp_leeway: must be between 0ms and 10m\n");
    expect_error("sts:\n  jwks_cache_ttl: 59s\n",
                 "t.yaml:2:19: sts.jwks_cache_ttl: must be between 1m and 1d\n");
    expect_error("sts:\n  jwks_cache_ttl: 25h\n",
                 "t.yaml:2:19: sts.jwks_cache_ttl: must be between 1m and 1d\n");
    expect_error("sts:\n  jwks_refetch_min_interval: 500ms\n",
                 "t.yaml:2:30: sts.jwks_refetch_min_interval: must be between 1s and 1h\n");
    expect_error("sts:\n  jwks_refetch_min_interval: 2h\n",
                 "t.yaml:2:30: sts.jwks_refetch_min_interval: must be between 1s and 1h\n");
    expect_error("sts:\n  enabled: maybe\n", "t.yaml:2:12: sts.enabled: must be true or false\n");
    expect_error("sts:\n  exp_leway: 1m\n",
                 "t.yaml:2:3: sts.exp_leway: unknown key; did you mean 'sts.exp_leeway'?\n");
    expect_error("sts:\n  jwks_cache: 1h\n",
                 "t.yaml:2:3: sts.jwks_cache: unknown key; did you mean 'sts.jwks_cache_ttl'?\n");
}

AK_TEST(sts_errors_are_all_reported_and_freed)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("sts:\n"
                          "  oidc_providers:\n"
                          "    - url: http://a\n"
                          "      client_id_list: [ok]\n"
                          "      thumbprint_list: [x]\n"
                          "  roles:\n"
                          "    - name: 'bad name'\n"
                          "      account_id: '1'\n"
                          "      assume_role_policy: {a: 1, a: 2}\n",
                          &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_EQ_INT(count_lines(err.buf), 5);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:3:12: sts.oidc_providers[0].url:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:5:25: sts.oidc_providers[0].thumbprint_list[0]:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:7:13: sts.roles[0].name:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:8:19: sts.roles[0].account_id:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:9:34: sts.roles[0].assume_role_policy.a: duplicate key");
    AK_ASSERT_NULL(c.oidc_providers);
    AK_ASSERT_NULL(c.sts_roles);
    ak_buf_release(&err);
}

AK_TEST(dump_has_sts_keys)
{
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX), yaml = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cfg c;
    const char *p, *end;

    AK_ASSERT_OK(ak_cfg_dump_defaults(&out));
    AK_ASSERT_CONTAINS(out.buf, "\nsts:\n  # OIDC providers");
    AK_ASSERT_CONTAINS(out.buf, "  # (true or false)\n  enabled: false\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (duration, 0ms .. 10m)\n  exp_leeway: 5m\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (duration, 1m .. 1d)\n  jwks_cache_ttl: 1h\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (duration, 1s .. 1h)\n  jwks_refetch_min_interval: 30s\n");
    AK_ASSERT_OK(ak_cfg_load_string("dump", out.buf, out.len, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT(!c.sts_enabled);
    AK_ASSERT_EQ_INT(c.sts_exp_leeway_ms, 5 * MIN);
    ak_cfg_release(&c);
    /* the commented example, uncommented, loads */
    ak_buf_add(&yaml, "sts:\n");
    p = strstr(out.buf, "  # oidc_providers:\n");
    AK_ASSERT(p != NULL);
    for (; strncmp(p, "  # ", 4) == 0; p = end + 1) {
        end = strchr(p, '\n');
        ak_buf_add(&yaml, "  ");
        ak_buf_addn(&yaml, p + 4, (size_t)(end - p - 3));
    }
    AK_ASSERT_OK(ak_cfg_load_string("example", yaml.buf, yaml.len, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_oidc_providers, 1);
    AK_ASSERT_EQ_INT(c.n_sts_roles, 1);
    AK_ASSERT_STR(c.sts_roles[0].policy_json,
                  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                  "{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/oidc.circleci.com/org/"
                  "00000000-0000-0000-0000-000000000000\"},\"Action\":"
                  "\"sts:AssumeRoleWithWebIdentity\"}]}");
    ak_cfg_release(&c);
    ak_buf_release(&out);
    ak_buf_release(&yaml);
    ak_buf_release(&err);
}


/* ---- runbooks, teams, report (issue 7) ---- */

#define TEAM_RECV "receivers:\n  - name: mail\n    email: {smarthost: 'smtp://127.0.0.1:25', " \
                  "from: a@example.com, to: [b@example.com]}\n"

AK_TEST(runbook_defaults)
{
    struct ak_cfg c;

    ak_cfg_defaults(&c);
    AK_ASSERT_NULL(c.runbook_dir);
    AK_ASSERT(c.runbook_shipped_dir != NULL);
    AK_ASSERT(ak_endswith(c.runbook_shipped_dir, "runbooks"));
    AK_ASSERT_EQ_INT(c.runbook_remind_within_ms, DAY);
    AK_ASSERT_EQ_INT(c.n_teams, 0);
    AK_ASSERT(c.report_enabled);
    AK_ASSERT_EQ_INT(c.report_urgent_within_ms, 3 * DAY);
    AK_ASSERT_EQ_INT(c.report_horizon_ms, 14 * DAY);
    ak_cfg_release(&c);
}

AK_TEST(runbook_keys_and_teams_load)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(load(TEAM_RECV "runbooks:\n  template_dir: /etc/asakai/runbooks\n"
                                "  shipped_dir: /opt/asakai/runbooks\n  remind_within: 12h\n"
                                "report:\n  enabled: false\n  urgent_within: 2d\n"
                                "  horizon: 30d\n"
                                "teams:\n  - {name: sre, receivers: [mail]}\n  - name: cs\n"
                                "  - {name: product-2, receivers: []}\n",
                      &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_STR(c.runbook_dir, "/etc/asakai/runbooks");
    AK_ASSERT_STR(c.runbook_shipped_dir, "/opt/asakai/runbooks");
    AK_ASSERT_EQ_INT(c.runbook_remind_within_ms, 12 * 3600 * SEC);
    AK_ASSERT(!c.report_enabled);
    AK_ASSERT_EQ_INT(c.report_urgent_within_ms, 2 * DAY);
    AK_ASSERT_EQ_INT(c.report_horizon_ms, 30 * DAY);
    AK_ASSERT_EQ_INT(c.n_teams, 3);
    AK_ASSERT_STR(c.teams[0].name, "sre");
    AK_ASSERT_EQ_INT(c.teams[0].receivers.n, 1);
    AK_ASSERT_STR(c.teams[0].receivers.v[0], "mail");
    AK_ASSERT_EQ_INT(c.teams[0].line, 13);
    AK_ASSERT_STR(c.teams[1].name, "cs");
    AK_ASSERT_EQ_INT(c.teams[1].receivers.n, 0);
    AK_ASSERT_STR(c.teams[2].name, "product-2");
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(team_errors)
{
    expect_error(TEAM_RECV "teams:\n  - {name: sre, receivers: [mail, slack]}\n",
                 "t.yaml:5:35: teams[0].receivers[1]: no receiver named \"slack\" (defined: "
                 "mail)\n");
    expect_error("teams:\n  - {name: sre, receivers: [mail]}\n",
                 "t.yaml:2:29: teams[0].receivers[0]: no receiver named \"mail\" (no receivers "
                 "are defined)\n");
    expect_error("teams:\n  - {name: sre}\n  - {name: sre}\n",
                 "t.yaml:3:12: teams[1]: duplicate team \"sre\" (first defined at line 2)\n");
    expect_error("teams:\n  - {name: SRE}\n",
                 "t.yaml:2:12: teams[0].name: a team name is 1 to 64 of a-z, 0-9 and '-', not "
                 "starting with '-'\n");
    expect_error("teams:\n  - {receivers: []}\n", "t.yaml:2:5: teams[0]: needs name\n");
    expect_error("teams:\n  - {name: sre, receiver: [x]}\n",
                 "t.yaml:2:17: teams[0].receiver: unknown key; did you mean 'receivers'?\n");
    expect_error("teams: {name: sre}\n",
                 "t.yaml:1:8: teams: expected a list of {name, receivers}, got a mapping\n");
    expect_error("team:\n  - {name: sre}\n",
                 "t.yaml:1:1: team: unknown key; did you mean 'teams'?\n");
    expect_error("runbooks:\n  remind_within: 10s\n",
                 "t.yaml:2:18: runbooks.remind_within: must be between 1m and 30d\n");
    expect_error("runbooks:\n  template_dir: [a]\n",
                 "t.yaml:2:17: runbooks.template_dir: expected a single value, got a list\n");
    expect_error("report:\n  urgent_within: 20d\n  horizon: 7d\n",
                 "t.yaml:1:1: report.urgent_within: must not be longer than report.horizon\n");
}

AK_TEST(dump_has_runbook_keys)
{
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(ak_cfg_dump_defaults(&out));
    AK_ASSERT_CONTAINS(out.buf, "\nrunbooks:\n");
    AK_ASSERT_CONTAINS(out.buf, "  # template_dir:\n");
    AK_ASSERT_CONTAINS(out.buf, "  shipped_dir: './runbooks'\n");
    AK_ASSERT_CONTAINS(out.buf, "  remind_within: 1d\n");
    AK_ASSERT_CONTAINS(out.buf, "\nreport:\n");
    AK_ASSERT_CONTAINS(out.buf, "  enabled: true\n");
    AK_ASSERT_CONTAINS(out.buf, "  urgent_within: 3d\n");
    AK_ASSERT_CONTAINS(out.buf, "  horizon: 14d\n");
    AK_ASSERT_CONTAINS(out.buf, "# teams:\n");
    ak_buf_release(&out);
}

/* ak_cfg_yaml_to_json: the typing rules, positions shifted by first_line, and its errors. */
static void expect_json(const char *yaml, const char *want)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *j = NULL;
    char *text;

    AK_ASSERT_OK(ak_cfg_yaml_to_json("f.md", yaml, strlen(yaml), 2, &j, &err));
    AK_ASSERT_STR(err.buf, "");
    text = ak_json_dump(j, AK_JSON_COMPACT);
    AK_ASSERT_STR(text, want);
    free(text);
    ak_json_free(j);
    ak_buf_release(&err);
}

static void expect_json_error_n(const char *yaml, size_t len, const char *want)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *j = (struct ak_json *)&err; /* must stay as it is */

    AK_ASSERT_EQ_INT(ak_cfg_yaml_to_json("f.md", yaml, len, 2, &j, &err), AK_EINVAL);
    AK_ASSERT(j == (struct ak_json *)&err);
    AK_ASSERT_STR(err.buf, want);
    ak_buf_release(&err);
}

static void expect_json_error(const char *yaml, const char *want)
{
    expect_json_error_n(yaml, strlen(yaml), want);
}

AK_TEST(yaml_to_json)
{
    expect_json("title: ElastiCache node replacement\nowner: sre\nvariables:\n"
                "  cluster: {description: \"replication group id\", required: true}\n"
                "  n: 3\n  q: '3'\n  t: 'true'\n  f: false\n  x: 1.5e3\n  z: 007\n"
                "  nul: null\n  e: ''\n  l: [a, 2, [b]]\n",
                "{\"title\":\"ElastiCache node replacement\",\"owner\":\"sre\",\"variables\":"
                "{\"cluster\":{\"description\":\"replication group id\",\"required\":true},"
                "\"n\":3,\"q\":\"3\",\"t\":\"true\",\"f\":false,\"x\":1500.0,\"z\":\"007\","
                "\"nul\":\"null\",\"e\":\"\",\"l\":[\"a\",2,[\"b\"]]}}");
    expect_json("- 1\n- yes\n- 'x: y'\n", "[1,\"yes\",\"x: y\"]");
    expect_json("# only a comment\n", "null");
    expect_json("", "null");
    expect_json("日本語: 朝会\n", "{\"日本語\":\"朝会\"}");
}

AK_TEST(yaml_to_json_errors)
{
    static const char nul[] = "a: \"x\\0y\"\n";

    expect_json_error("title: a\nvariables:\n  x: 1\n  x: 2\n",
                      "f.md:5:3: variables.x: duplicate key (first set at line 4 column 3)\n");
    expect_json_error("a: [1, 2\n", "f.md:3:1: did not find expected ',' or ']' while parsing a "
                                    "flow sequence (line 2 column 4)\n");
    expect_json_error("a: &x 1\nb: *x\n",
                      "f.md:3:4: aliases (*name) are not supported in the configuration\n");
    expect_json_error_n(nul, sizeof(nul) - 1, "f.md:2:4: a: value contains a NUL byte\n");
    expect_json_error("{[a]: b}\n", "f.md:2:2: YAML keys must be non-empty strings\n");
    expect_json_error("a: 1e999\n", "f.md:2:1: cannot be represented as JSON (line 1, column 10: "
                                    "real number overflow near '1e999')\n");
    expect_json_error("a: 1\n---\nb: 2\n", "f.md:3:1: only one YAML document is allowed\n");
}

/* ---- daily monitoring: monitoring.*, services, review.* (issue 6) ---- */

static const char *const builtin_type_names[] = {"host", "http", "postgres", "redis", "worker",
                                                 "process"};

static const struct ak_cfg_signal *signal_of(const struct ak_cfg *c, const char *type,
                                             const char *name)
{
    const struct ak_cfg_service_type *t = ak_cfg_service_type_find(c, type);

    for (size_t i = 0; t && i < t->n_signals; i++)
        if (strcmp(t->signals[i].name, name) == 0)
            return &t->signals[i];
    return NULL;
}

/* The built-in types as docs/config.md lists them. */
static void assert_builtin_types(const struct ak_cfg *c)
{
    const struct ak_cfg_signal *s;

    AK_ASSERT_EQ_INT(c->n_service_types, 6);
    for (size_t i = 0; i < 6; i++)
        AK_ASSERT_STR(c->service_types[i].name, builtin_type_names[i]);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(c, "host")->n_signals, 7);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(c, "http")->n_signals, 6);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(c, "postgres")->n_signals, 6);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(c, "redis")->n_signals, 6);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(c, "worker")->n_signals, 5);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(c, "process")->n_signals, 3);
    s = signal_of(c, "host", "memory");
    AK_ASSERT(s && s->required && s->metrics.n == 1);
    AK_ASSERT_STR(s->metrics.v[0], "node_memory_MemAvailable_bytes");
    s = signal_of(c, "host", "pressure");
    AK_ASSERT(s && !s->required);
    AK_ASSERT_STR(s->metrics.v[0], "node_pressure_memory_waiting_seconds_total");
    s = signal_of(c, "http", "latency");
    AK_ASSERT(s && s->required && s->metrics.n == 4);
    AK_ASSERT_STR(s->metrics.v[0], "http_request_duration_seconds*");
    AK_ASSERT_STR(s->metrics.v[3], "*_latency_seconds*");
    s = signal_of(c, "http", "saturation");
    AK_ASSERT(s && !s->required && s->metrics.n == 4);
    AK_ASSERT_STR(s->metrics.v[3], "*_queue_*");
    s = signal_of(c, "postgres", "up");
    AK_ASSERT(s && s->required && s->metrics.n == 2);
    AK_ASSERT_STR(s->metrics.v[1], "pg_up");
    s = signal_of(c, "postgres", "connections");
    AK_ASSERT(s && s->required);
    AK_ASSERT_STR(s->metrics.v[1], "pg_stat_database_numbackends");
    s = signal_of(c, "redis", "evictions");
    AK_ASSERT(s && !s->required);
    AK_ASSERT_STR(s->metrics.v[0], "redis_evicted_keys_total");
    s = signal_of(c, "worker", "errors");
    AK_ASSERT(s && s->required && s->metrics.n == 3);
    AK_ASSERT_STR(s->metrics.v[2], "*_failed_total");
    s = signal_of(c, "process", "up");
    AK_ASSERT(s && !s->required);
    AK_ASSERT_STR(s->metrics.v[0], "asakai_process_count");
    s = signal_of(c, "process", "memory");
    AK_ASSERT(s && s->required);
    AK_ASSERT_NULL(signal_of(c, "process", "disk"));
}

AK_TEST(mon_defaults)
{
    struct ak_cfg c;
    const struct ak_cfg_service *h;

    ak_cfg_defaults(&c);
    AK_ASSERT(c.mon_enabled);
    AK_ASSERT(c.mon_host_collector);
    AK_ASSERT_STR(c.mon_host_service, "host");
    AK_ASSERT_EQ_INT(c.mon_processes.n, 0);
    AK_ASSERT_EQ_INT(c.mon_interval_ms, 15 * SEC);
    AK_ASSERT_EQ_INT(c.mon_timeout_ms, 10 * SEC);
    AK_ASSERT_EQ_INT(c.mon_max_scrape_bytes, 16 * 1024 * KIB);
    AK_ASSERT_EQ_INT(c.mon_max_series, 50000);
    AK_ASSERT_EQ_INT(c.mon_raw_retention_ms, 3 * DAY);
    AK_ASSERT_EQ_INT(c.mon_minute_retention_ms, 15 * DAY);
    AK_ASSERT_EQ_INT(c.mon_hour_retention_ms, 400 * DAY);
    AK_ASSERT_EQ_INT(c.n_mon_sources, 0);
    AK_ASSERT_EQ_INT(c.review_window_ms, 14 * DAY);
    AK_ASSERT_STR(c.review_time, "06:00");
    AK_ASSERT_STR(c.review_tz, "Asia/Tokyo");
    AK_ASSERT(c.review_fdr == 0.05);
    AK_ASSERT(c.review_min_growth_pct == 2.0);
    AK_ASSERT(c.review_min_shift_pct == 10.0);
    AK_ASSERT_EQ_INT(c.review_warmup_ms, 2 * HOUR);
    AK_ASSERT(c.review_days_horizon == 30.0);
    assert_builtin_types(&c);
    AK_ASSERT_NULL(ak_cfg_service_type_find(&c, "nginx"));
    AK_ASSERT_NULL(ak_cfg_service_type_find(&c, NULL));
    /* the host collector's service, declared implicitly */
    AK_ASSERT_EQ_INT(c.n_services, 1);
    h = ak_cfg_service_find(&c, "host");
    AK_ASSERT(h == &c.services[0]);
    AK_ASSERT_STR(h->type, "host");
    AK_ASSERT_EQ_INT(h->targets.n, 0);
    AK_ASSERT_EQ_INT(h->n_labels, 0);
    AK_ASSERT_EQ_INT(h->n_limits, 0);
    AK_ASSERT_EQ_INT(h->scrape_interval_ms, 15 * SEC);
    AK_ASSERT_NULL(ak_cfg_service_find(&c, "api"));
    AK_ASSERT_NULL(ak_cfg_service_find(NULL, "host"));
    ak_cfg_release(&c);
    AK_ASSERT_NULL(c.services);
    AK_ASSERT_NULL(c.service_types);
    AK_ASSERT_NULL(ak_cfg_service_find(&c, "host"));
}

static const char mon_full[] =
    "monitoring:\n"                                                      /* 1 */
    "  enabled: false\n"
    "  host_collector: true\n"
    "  host_service: node-1\n"
    "  processes: [postgres, redis-server, 'kworker/0:1']\n"             /* 5 */
    "  scrape_interval: 30s\n"
    "  scrape_timeout: 5s\n"
    "  max_scrape_bytes: 4MiB\n"
    "  max_series: 1000\n"
    "  retention: {raw: 2d, minute: 30d, hour: 800d}\n"                 /* 10 */
    "  sources:\n"
    "    - name: prom\n"
    "      url: 'https://prom.example.com:9090/prefix'\n"
    "      queries: ['up{job=\"api\"}', 'rate(x[5m])']\n"
    "      step: 30s\n"                                                  /* 15 */
    "      lookback: 7d\n"
    "      interval: 10m\n"
    "      bearer_token: ${AK_TEST_PROM_TOKEN}\n"
    "      ca_file: /etc/ssl/prom.pem\n"
    "    - {name: thanos.eu, url: 'http://127.0.0.1:10902', queries: [up]}\n" /* 20 */
    "services:\n"
    "  - name: api\n"
    "    targets: ['http://127.0.0.1:8080/metrics', 'https://api-2:8443/metrics?x=1']\n"
    "    labels: {env: prod, region: '${AK_TEST_REGION}'}\n"
    "    limits: {process_resident_memory_bytes: 2GiB, http_in_flight: 500}\n" /* 25 */
    "  - name: db\n"
    "    type: postgres\n"
    "    targets: []\n"
    "    limits:\n"
    "      pg_stat_activity_count: 450\n"                                /* 30 */
    "      pg_database_size_bytes: 1.5e11\n"
    "    scrape_interval: 1m\n"
    "review:\n"
    "  window: 28d\n"
    "  time: '07:30'\n"                                                  /* 35 */
    "  tz: Europe/Berlin\n"
    "  fdr: 0.01\n"
    "  min_growth_pct_per_day: 0.5\n"
    "  min_shift_pct: 25\n"
    "  warmup: 0\n"                                                      /* 40 */
    "  days_to_limit_within: 90\n";

AK_TEST(mon_full_file_loads)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_cfg_mon_source *src;
    const struct ak_cfg_service *s;

    setenv("AK_TEST_PROM_TOKEN", "tok-prom", 1);
    setenv("AK_TEST_REGION", "ap-northeast-1", 1);
    AK_ASSERT_OK(load(mon_full, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT(!c.mon_enabled);
    AK_ASSERT(c.mon_host_collector);
    AK_ASSERT_STR(c.mon_host_service, "node-1");
    AK_ASSERT_EQ_INT(c.mon_processes.n, 3);
    AK_ASSERT_STR(c.mon_processes.v[2], "kworker/0:1");
    AK_ASSERT_EQ_INT(c.mon_interval_ms, 30 * SEC);
    AK_ASSERT_EQ_INT(c.mon_timeout_ms, 5 * SEC);
    AK_ASSERT_EQ_INT(c.mon_max_scrape_bytes, 4 * 1024 * KIB);
    AK_ASSERT_EQ_INT(c.mon_max_series, 1000);
    AK_ASSERT_EQ_INT(c.mon_raw_retention_ms, 2 * DAY);
    AK_ASSERT_EQ_INT(c.mon_minute_retention_ms, 30 * DAY);
    AK_ASSERT_EQ_INT(c.mon_hour_retention_ms, 800 * DAY);
    AK_ASSERT_EQ_INT(c.n_mon_sources, 2);
    src = &c.mon_sources[0];
    AK_ASSERT_STR(src->name, "prom");
    AK_ASSERT_STR(src->url, "https://prom.example.com:9090/prefix");
    AK_ASSERT_EQ_INT(src->queries.n, 2);
    AK_ASSERT_STR(src->queries.v[0], "up{job=\"api\"}");
    AK_ASSERT_STR(src->queries.v[1], "rate(x[5m])");
    AK_ASSERT_EQ_INT(src->step_ms, 30 * SEC);
    AK_ASSERT_EQ_INT(src->lookback_ms, 7 * DAY);
    AK_ASSERT_EQ_INT(src->interval_ms, 10 * MIN);
    AK_ASSERT_STR(src->bearer_token, "tok-prom");
    AK_ASSERT_STR(src->ca_file, "/etc/ssl/prom.pem");
    AK_ASSERT_EQ_INT(src->line, 12);
    src = &c.mon_sources[1];
    AK_ASSERT_STR(src->name, "thanos.eu");
    AK_ASSERT_EQ_INT(src->step_ms, 60 * SEC); /* the defaults of a source */
    AK_ASSERT_EQ_INT(src->lookback_ms, 14 * DAY);
    AK_ASSERT_EQ_INT(src->interval_ms, HOUR);
    AK_ASSERT_NULL(src->bearer_token);
    AK_ASSERT_NULL(src->ca_file);
    AK_ASSERT_EQ_INT(src->line, 20);
    /* api, db, then the implicit host service under its configured name */
    AK_ASSERT_EQ_INT(c.n_services, 3);
    s = ak_cfg_service_find(&c, "api");
    AK_ASSERT(s == &c.services[0]);
    AK_ASSERT_STR(s->type, "http"); /* the default type */
    AK_ASSERT_EQ_INT(s->targets.n, 2);
    AK_ASSERT_STR(s->targets.v[1], "https://api-2:8443/metrics?x=1");
    AK_ASSERT_EQ_INT(s->n_labels, 2);
    AK_ASSERT_STR(s->labels[0].name, "env");
    AK_ASSERT_STR(s->labels[0].value, "prod");
    AK_ASSERT_STR(s->labels[1].name, "region");
    AK_ASSERT_STR(s->labels[1].value, "ap-northeast-1");
    AK_ASSERT_EQ_INT(s->n_limits, 2);
    AK_ASSERT_STR(s->limits[0].metric, "process_resident_memory_bytes");
    AK_ASSERT(s->limits[0].value == 2147483648.0);
    AK_ASSERT_STR(s->limits[1].metric, "http_in_flight");
    AK_ASSERT(s->limits[1].value == 500.0);
    AK_ASSERT_EQ_INT(s->scrape_interval_ms, 30 * SEC); /* monitoring.scrape_interval */
    AK_ASSERT_EQ_INT(s->line, 22);
    s = &c.services[1];
    AK_ASSERT_STR(s->name, "db");
    AK_ASSERT_STR(s->type, "postgres");
    AK_ASSERT_EQ_INT(s->targets.n, 0);
    AK_ASSERT_EQ_INT(s->n_limits, 2);
    AK_ASSERT(s->limits[0].value == 450.0);
    AK_ASSERT(s->limits[1].value == 1.5e11);
    AK_ASSERT_EQ_INT(s->scrape_interval_ms, MIN);
    s = &c.services[2];
    AK_ASSERT_STR(s->name, "node-1");
    AK_ASSERT_STR(s->type, "host");
    AK_ASSERT_EQ_INT(s->scrape_interval_ms, 30 * SEC);
    AK_ASSERT_NULL(ak_cfg_service_find(&c, "host")); /* the default name is gone */
    assert_builtin_types(&c);
    AK_ASSERT_EQ_INT(c.review_window_ms, 28 * DAY);
    AK_ASSERT_STR(c.review_time, "07:30");
    AK_ASSERT_STR(c.review_tz, "Europe/Berlin");
    AK_ASSERT(c.review_fdr == 0.01);
    AK_ASSERT(c.review_min_growth_pct == 0.5);
    AK_ASSERT(c.review_min_shift_pct == 25.0);
    AK_ASSERT_EQ_INT(c.review_warmup_ms, 0);
    AK_ASSERT(c.review_days_horizon == 90.0);
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(mon_host_service)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    /* A declared service of that name keeps its own settings and is not added twice. */
    AK_ASSERT_OK(load("services:\n  - {name: host, type: worker, targets: ['http://h:9100/m'], "
                      "scrape_interval: 1m}\n  - {name: api}\n",
                      &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_services, 2);
    AK_ASSERT_STR(c.services[0].type, "worker");
    AK_ASSERT_EQ_INT(c.services[0].targets.n, 1);
    AK_ASSERT_EQ_INT(c.services[0].scrape_interval_ms, MIN);
    AK_ASSERT_STR(c.services[1].name, "api");
    ak_cfg_release(&c);
    /* No collector: no implicit service. */
    AK_ASSERT_OK(load("monitoring:\n  host_collector: false\n", &c, &err));
    AK_ASSERT_EQ_INT(c.n_services, 0);
    AK_ASSERT_NULL(ak_cfg_service_find(&c, "host"));
    ak_cfg_release(&c);
    AK_ASSERT_OK(load("monitoring:\n  host_collector: off\nservices:\n  - name: api\n", &c,
                      &err));
    AK_ASSERT_EQ_INT(c.n_services, 1);
    AK_ASSERT_STR(c.services[0].name, "api");
    ak_cfg_release(&c);
    /* Empty sections keep the defaults, the implicit service included. */
    AK_ASSERT_OK(load("monitoring:\nservices:\nreview:\n", &c, &err));
    AK_ASSERT_EQ_INT(c.n_services, 1);
    AK_ASSERT_STR(c.services[0].name, "host");
    AK_ASSERT_EQ_INT(c.n_service_types, 6);
    ak_cfg_release(&c);
    AK_ASSERT_OK(load("services: []\nmonitoring:\n  signals: {}\n  sources: []\n", &c, &err));
    AK_ASSERT_EQ_INT(c.n_services, 1);
    AK_ASSERT_EQ_INT(c.n_service_types, 6);
    AK_ASSERT_EQ_INT(c.n_mon_sources, 0);
    ak_cfg_release(&c);
    AK_ASSERT_STR(err.buf, "");
    ak_buf_release(&err);
}

AK_TEST(mon_type_override_and_addition)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_cfg_service_type *t;

    AK_ASSERT_OK(load("monitoring:\n"
                      "  signals:\n"
                      "    redis:\n"
                      "      - {name: memory, metrics: [redis_memory_used_bytes], required: true}\n"
                      "    queue:\n"
                      "      - name: depth\n"
                      "        metrics: ['*_queue_depth', 'sqs_?pproximate*']\n"
                      "        required: yes\n"
                      "      - {name: age, metrics: [oldest_message_age_seconds]}\n"
                      "    worker: []\n"
                      "services:\n  - {name: q, type: queue}\n  - {name: cache, type: redis}\n",
                      &c, &err));
    AK_ASSERT_STR(err.buf, "");
    /* redis replaced in place, worker emptied, queue added after the built-in ones */
    AK_ASSERT_EQ_INT(c.n_service_types, 7);
    AK_ASSERT_STR(c.service_types[3].name, "redis");
    t = ak_cfg_service_type_find(&c, "redis");
    AK_ASSERT(t == &c.service_types[3]);
    AK_ASSERT_EQ_INT(t->n_signals, 1);
    AK_ASSERT_STR(t->signals[0].name, "memory");
    AK_ASSERT(t->signals[0].required);
    AK_ASSERT_EQ_INT(t->line, 3);
    AK_ASSERT_NULL(signal_of(&c, "redis", "evictions"));
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(&c, "worker")->n_signals, 0);
    t = ak_cfg_service_type_find(&c, "queue");
    AK_ASSERT(t == &c.service_types[6]);
    AK_ASSERT_EQ_INT(t->line, 5);
    AK_ASSERT_EQ_INT(t->n_signals, 2);
    AK_ASSERT_STR(t->signals[0].name, "depth");
    AK_ASSERT(t->signals[0].required);
    AK_ASSERT_EQ_INT(t->signals[0].metrics.n, 2);
    AK_ASSERT_STR(t->signals[0].metrics.v[1], "sqs_?pproximate*");
    AK_ASSERT_STR(t->signals[1].name, "age");
    AK_ASSERT(!t->signals[1].required); /* default */
    /* the others are untouched */
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(&c, "http")->n_signals, 6);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(&c, "host")->n_signals, 7);
    AK_ASSERT_STR(ak_cfg_service_find(&c, "q")->type, "queue");
    AK_ASSERT_STR(ak_cfg_service_find(&c, "cache")->type, "redis");
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

static void expect_limit(const char *text, double want)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char *yaml = ak_xasprintf("services:\n  - name: a\n    limits: {m: %s}\n", text);

    AK_ASSERT_OK(load(yaml, &c, &err));
    free(yaml);
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.services[0].n_limits, 1);
    AK_ASSERT_STR(c.services[0].limits[0].metric, "m");
    if (c.services[0].limits[0].value != want)
        printf("# limit %s: got %.17g, want %.17g\n", text, c.services[0].limits[0].value, want);
    AK_ASSERT(c.services[0].limits[0].value == want);
    ak_cfg_release(&c);
    ak_buf_release(&err);
}

AK_TEST(mon_limit_numbers)
{
    static const char *const bad[] = {"abc", "0x10", "nan", "inf", "-inf", "1e400", ".",
                                      "1e", "1e+", "--1", "+1", "'1 '", "5%", "'1,000'",
                                      "''", "[1]", "{a: 1}", "~", "4 GiB", "1..2"};

    expect_limit("500", 500.0);
    expect_limit("0", 0.0);
    expect_limit("0.9", 0.9);
    expect_limit("-3.25", -3.25);
    expect_limit("1.5e9", 1.5e9);
    expect_limit("2E-3", 0.002);
    expect_limit("1e+2", 100.0);
    expect_limit("007", 7.0);
    expect_limit("'42'", 42.0);
    expect_limit(".5", 0.5);
    expect_limit("4GiB", 4294967296.0);
    expect_limit("64k", 65536.0);
    for (size_t i = 0; i < AK_ARRAY_SIZE(bad); i++) {
        struct ak_cfg c;
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        char *yaml = ak_xasprintf("services:\n  - name: a\n    limits: {m: %s}\n", bad[i]);

        AK_ASSERT_EQ_INT(load(yaml, &c, &err), AK_ECONFIG);
        free(yaml);
        if (strcmp(err.buf, "t.yaml:3:17: services[0].limits.m: must be a number (examples: 500, "
                            "0.9, 1.5e9, 4GiB)\n") != 0)
            printf("# limit %s: %s", bad[i], err.buf);
        AK_ASSERT_STR(err.buf, "t.yaml:3:17: services[0].limits.m: must be a number (examples: "
                               "500, 0.9, 1.5e9, 4GiB)\n");
        ak_buf_release(&err);
    }
}

#define SVC(rest) "services:\n  - name: api\n    targets: ['http://127.0.0.1:8080/metrics']\n" rest
#define SRC(rest)                                                                                  \
    "monitoring:\n  sources:\n    - name: prom\n      url: 'http://127.0.0.1:9090'\n"           \
    "      queries: [up]\n" rest
#define DEFINED "(defined: host, http, postgres, redis, worker, process)"

AK_TEST(mon_service_errors)
{
    expect_error(SVC("    taget: x\n"),
                 "t.yaml:4:5: services[0].taget: unknown key; did you mean 'targets'?\n");
    expect_error(SVC("    type: web\n"),
                 "t.yaml:4:11: services[0].type: no service type named \"web\" " DEFINED "\n");
    expect_error("services:\n  - {name: api}\n  - {name: api}\n",
                 "t.yaml:3:12: services[1]: duplicate service \"api\" (first defined at line 2)\n");
    expect_error("services:\n  - {name: api}\n  - {name: db}\n  - {name: api}\n",
                 "t.yaml:4:12: services[2]: duplicate service \"api\" (first defined at line 2)\n");
    expect_error("services:\n  - {name: API}\n",
                 "t.yaml:2:12: services[0].name: a service name is 1 to 63 of a-z, 0-9, '_', '.' "
                 "and '-', starting with a letter or digit\n");
    expect_error("services:\n  - {name: -api}\n",
                 "t.yaml:2:12: services[0].name: a service name is 1 to 63 of a-z, 0-9, '_', '.' "
                 "and '-', starting with a letter or digit\n");
    expect_error("services:\n  - {type: http}\n", "t.yaml:2:5: services[0]: needs name\n");
    expect_error("services:\n  - name: api\n    targets: ['ftp://h/metrics']\n",
                 "t.yaml:3:15: services[0].targets[0]: must be a URL starting with https:// or "
                 "http://\n");
    expect_error("services:\n  - name: api\n    targets: ['http:///metrics']\n",
                 "t.yaml:3:15: services[0].targets[0]: the URL needs a host name or address\n");
    expect_error("services:\n  - name: api\n    targets: ['http://h/m#x']\n",
                 "t.yaml:3:15: services[0].targets[0]: a target URL must not have a #fragment\n");
    expect_error("services:\n  - name: api\n    targets: ['http://h/m', 'http://h/m']\n",
                 "t.yaml:3:29: services[0].targets[1]: the same target as item 0\n");
    expect_error("services:\n  - name: api\n    targets: 'http://h/m'\n",
                 "t.yaml:3:14: services[0].targets: expected a list, got a single value\n");
    expect_error(SVC("    labels: {__x: a}\n"),
                 "t.yaml:4:14: services[0].labels.__x: label names starting with \"__\" are "
                 "reserved\n");
    expect_error(SVC("    labels: {job: a}\n"),
                 "t.yaml:4:14: services[0].labels.job: is set by asakai from the service's name\n");
    expect_error(SVC("    labels: {a-b: a}\n"),
                 "t.yaml:4:14: services[0].labels.a-b: must be a label name "
                 "([a-zA-Z_][a-zA-Z0-9_]*, at most 200)\n");
    expect_error(SVC("    labels: {a: x, a: y}\n"),
                 "t.yaml:4:20: services[0].labels.a: duplicate key (first set at line 4 column "
                 "14)\n");
    expect_error(SVC("    labels: {env: ''}\n"),
                 "t.yaml:4:19: services[0].labels.env: a label value must not be empty (an empty "
                 "label is no label)\n");
    expect_error(SVC("    labels: {env: }\n"),
                 "t.yaml:4:19: services[0].labels.env: needs a value\n");
    expect_error(SVC("    labels: [env]\n"),
                 "t.yaml:4:13: services[0].labels: expected a mapping of label names to values, "
                 "got a list\n");
    expect_error(SVC("    limits: {1x: 5}\n"),
                 "t.yaml:4:14: services[0].limits.1x: must be a metric name "
                 "([a-zA-Z_:][a-zA-Z0-9_:]*, at most 200)\n");
    expect_error(SVC("    limits: {m: 1, m: 2}\n"),
                 "t.yaml:4:20: services[0].limits.m: duplicate key (first set at line 4 column "
                 "14)\n");
    expect_error(SVC("    scrape_interval: 2h\n"),
                 "t.yaml:4:22: services[0].scrape_interval: must be between 1s and 1h\n");
    expect_error("monitoring:\n  scrape_timeout: 8s\n" SVC("    scrape_interval: 5s\n"),
                 "t.yaml:6:22: services[0].scrape_interval: must not be shorter than "
                 "monitoring.scrape_timeout\n");
    expect_error(SVC("    scrape_interval: soon\n"),
                 "t.yaml:4:22: services[0].scrape_interval: not a duration (examples: 500ms, 15s, "
                 "2h, 30d)\n");
    expect_error("services: {name: api}\n",
                 "t.yaml:1:11: services: expected a list of {name, type, targets, ...}, got a "
                 "mapping\n");
    expect_error("services:\n  - api\n",
                 "t.yaml:2:5: services[0]: expected a mapping of keys, got a single value\n");
    expect_error("service:\n  - {name: api}\n",
                 "t.yaml:1:1: service: unknown key; did you mean 'services'?\n");
}

AK_TEST(mon_scalar_errors)
{
    expect_error("monitoring:\n  scrape_intervall: 5s\n",
                 "t.yaml:2:3: monitoring.scrape_intervall: unknown key; did you mean "
                 "'monitoring.scrape_interval'?\n");
    expect_error("monitoring:\n  retention:\n    minutes: 1d\n",
                 "t.yaml:3:5: monitoring.retention.minutes: unknown key; did you mean "
                 "'monitoring.retention.minute'?\n");
    expect_error("monitoring:\n  max_series: 5\n",
                 "t.yaml:2:15: monitoring.max_series: must be between 10 and 10000000\n");
    expect_error("monitoring:\n  retention:\n    raw: 10m\n",
                 "t.yaml:3:10: monitoring.retention.raw: must be between 1h and 400d\n");
    expect_error("monitoring:\n  retention: {hour: 5000d}\n",
                 "t.yaml:2:21: monitoring.retention.hour: must be between 7d and 4000d\n");
    expect_error("monitoring:\n  max_scrape_bytes: 1GiB\n",
                 "t.yaml:2:21: monitoring.max_scrape_bytes: must be between 1KiB and 256MiB\n");
    expect_error("monitoring:\n  scrape_timeout: 50ms\n",
                 "t.yaml:2:19: monitoring.scrape_timeout: must be between 100ms and 5m\n");
    expect_error("monitoring:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n",
                 "t.yaml:3:3: monitoring.scrape_timeout: must not be longer than "
                 "monitoring.scrape_interval\n");
    {   /* an unwritten timeout follows a shorter interval, as in Prometheus */
        struct ak_cfg c;
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        AK_ASSERT_OK(load("monitoring:\n  scrape_interval: 5s\n" SVC("    scrape_interval: 1s\n"),
                          &c, &err));
        AK_ASSERT_EQ_INT(c.mon_timeout_ms, 5000);
        AK_ASSERT_EQ_INT(ak_cfg_service_find(&c, "api")->scrape_interval_ms, 1000);
        ak_cfg_release(&c);
        ak_buf_release(&err);
    }
    expect_error("monitoring:\n  enabled: maybe\n",
                 "t.yaml:2:12: monitoring.enabled: must be true or false\n");
    expect_error("monitoring:\n  processes: [postgres, a-very-long-process-name]\n",
                 "t.yaml:2:25: monitoring.processes[1]: a process name is 1 to 15 bytes, as "
                 "/proc/PID/comm holds it\n");
    expect_error("monitoring:\n  host_service: Host\n",
                 "t.yaml:2:17: monitoring.host_service: a service name is 1 to 63 of a-z, 0-9, "
                 "'_', '.' and '-', starting with a letter or digit\n");
    expect_error("monitoring:\n  host_service:\n",
                 "t.yaml:2:16: monitoring.host_service: needs a value\n");
    expect_error("review:\n  fdr: 0.9\n",
                 "t.yaml:2:8: review.fdr: must be between 0.0001 and 0.5\n");
    expect_error("review:\n  fdr: 0.00001\n",
                 "t.yaml:2:8: review.fdr: must be between 0.0001 and 0.5\n");
    expect_error("review:\n  fdr: 5%\n",
                 "t.yaml:2:8: review.fdr: not a number (examples: 2, 0.05, 1e-3)\n");
    expect_error("review:\n  fdr: nan\n",
                 "t.yaml:2:8: review.fdr: not a number (examples: 2, 0.05, 1e-3)\n");
    expect_error("review:\n  min_growth_pct_per_day: -1\n",
                 "t.yaml:2:27: review.min_growth_pct_per_day: must be between 0 and 100\n");
    expect_error("review:\n  min_shift_pct: 1001\n",
                 "t.yaml:2:18: review.min_shift_pct: must be between 0 and 1000\n");
    expect_error("review:\n  days_to_limit_within: 0.5\n",
                 "t.yaml:2:25: review.days_to_limit_within: must be between 1 and 3650\n");
    expect_error("review:\n  window: 200d\n",
                 "t.yaml:2:11: review.window: must be between 1h and 166d\n");
    expect_error("review:\n  warmup: 3d\n",
                 "t.yaml:2:11: review.warmup: must be between 0ms and 2d\n");
    expect_error("review:\n  time: '25:00'\n",
                 "t.yaml:2:9: review.time: must be a time of day HH:MM (00:00 .. 23:59)\n");
    expect_error("review:\n  time: 6am\n",
                 "t.yaml:2:9: review.time: must be a time of day HH:MM (00:00 .. 23:59)\n");
    expect_error("review:\n  tz: ../etc/passwd\n",
                 "t.yaml:2:7: review.tz: must be an IANA time zone name like Asia/Tokyo or UTC\n");
    expect_error("review:\n  tz: 'Asia/ Tokyo'\n",
                 "t.yaml:2:7: review.tz: must be an IANA time zone name like Asia/Tokyo or UTC\n");
    expect_error("review:\n  windw: 1d\n",
                 "t.yaml:2:3: review.windw: unknown key; did you mean 'review.window'?\n");
    expect_error("reveiw:\n  window: 1d\n",
                 "t.yaml:1:1: reveiw: unknown key; did you mean 'review'?\n");
}

AK_TEST(mon_source_errors)
{
    expect_error("monitoring:\n  sources:\n    - name: prom\n      url: 'http://h:9090/?x=1'\n"
                 "      queries: [up]\n",
                 "t.yaml:4:12: monitoring.sources[0].url: a source URL is "
                 "http(s)://host[:port][/prefix], without ?query or #fragment\n");
    expect_error("monitoring:\n  sources:\n    - name: prom\n      url: 'ftp://h'\n"
                 "      queries: [up]\n",
                 "t.yaml:4:12: monitoring.sources[0].url: must be a URL starting with https:// or "
                 "http://\n");
    expect_error("monitoring:\n  sources:\n    - name: prom\n      url: 'http://user@h'\n"
                 "      queries: [up]\n",
                 "t.yaml:4:12: monitoring.sources[0].url: a URL must not carry user@ credentials "
                 "(use the username and password keys, with ${ENV})\n");
    expect_error("monitoring:\n  sources:\n    - {name: p, queries: [up]}\n",
                 "t.yaml:3:7: monitoring.sources[0]: needs url\n");
    expect_error("monitoring:\n  sources:\n    - {name: p, url: 'http://h'}\n",
                 "t.yaml:3:7: monitoring.sources[0]: needs queries (a list of PromQL "
                 "expressions)\n");
    expect_error("monitoring:\n  sources:\n    - {name: p, url: 'http://h', queries: []}\n",
                 "t.yaml:3:43: monitoring.sources[0].queries: needs at least one query\n");
    expect_error("monitoring:\n  sources:\n    - {name: p, url: 'http://h', queries: ['']}\n",
                 "t.yaml:3:44: monitoring.sources[0].queries[0]: a query must not be empty\n");
    expect_error(SRC("    - {name: prom, url: 'http://h2', queries: [up]}\n"),
                 "t.yaml:6:14: monitoring.sources[1]: duplicate source \"prom\" (first defined "
                 "at line 3)\n");
    expect_error(SRC("      lookbak: 7d\n"),
                 "t.yaml:6:7: monitoring.sources[0].lookbak: unknown key; did you mean "
                 "'lookback'?\n");
    expect_error(SRC("      step: 2h\n"),
                 "t.yaml:6:13: monitoring.sources[0].step: must be between 1s and 1h\n");
    expect_error(SRC("      lookback: 30m\n"),
                 "t.yaml:6:17: monitoring.sources[0].lookback: must be between 1h and 400d\n");
    expect_error(SRC("      interval: 10s\n"),
                 "t.yaml:6:17: monitoring.sources[0].interval: must be between 1m and 1d\n");
    expect_error(SRC("      bearer_token: ''\n"),
                 "t.yaml:6:21: monitoring.sources[0].bearer_token: must not be empty (leave the "
                 "key out to unset it)\n");
    expect_error("monitoring:\n  sources:\n    - {name: Prom, url: 'http://h', queries: [up]}\n",
                 "t.yaml:3:14: monitoring.sources[0].name: a source name is 1 to 63 of a-z, 0-9, "
                 "'_', '.' and '-', starting with a letter or digit\n");
    expect_error("monitoring:\n  sources: {name: p}\n",
                 "t.yaml:2:12: monitoring.sources: expected a list of {name, url, queries, ...}, "
                 "got a mapping\n");
    expect_error("monitoring:\n  source: []\n",
                 "t.yaml:2:3: monitoring.source: unknown key; did you mean "
                 "'monitoring.sources'?\n");
}

AK_TEST(mon_signal_errors)
{
    expect_error("monitoring:\n  signals:\n    Web:\n      - {name: up, metrics: [up]}\n",
                 "t.yaml:3:5: monitoring.signals.Web: a service type is 1 to 63 of a-z, 0-9, '_' "
                 "and '-', starting with a letter\n");
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: up}\n",
                 "t.yaml:4:9: monitoring.signals.web[0]: needs metrics (a list of metric-name "
                 "globs)\n");
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: up, metrics: []}\n",
                 "t.yaml:4:29: monitoring.signals.web[0].metrics: needs at least one metric "
                 "glob\n");
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: up, metrics: ['up-x']}\n",
                 "t.yaml:4:30: monitoring.signals.web[0].metrics[0]: a metric glob is 1 to 200 of "
                 "letters, digits, '_', ':', '*' and '?'\n");
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: Up, metrics: [up]}\n",
                 "t.yaml:4:16: monitoring.signals.web[0].name: a signal name is 1 to 63 of a-z, "
                 "0-9 and '_', starting with a letter\n");
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: up, metrics: [up]}\n"
                 "      - {name: up, metrics: [x]}\n",
                 "t.yaml:5:16: monitoring.signals.web[1]: duplicate signal \"up\" (first defined "
                 "at line 4)\n");
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: up, metrics: [up], "
                 "required: maybe}\n",
                 "t.yaml:4:45: monitoring.signals.web[0].required: must be true or false\n");
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: up, metrics: [up], "
                 "requred: true}\n",
                 "t.yaml:4:35: monitoring.signals.web[0].requred: unknown key; did you mean "
                 "'required'?\n");
    expect_error("monitoring:\n  signals:\n    web: {name: up}\n",
                 "t.yaml:3:10: monitoring.signals.web: expected a list of {name, metrics, "
                 "required}, got a mapping\n");
    expect_error("monitoring:\n  signals:\n    web:\n",
                 "t.yaml:3:9: monitoring.signals.web: expected a list of {name, metrics, "
                 "required}, got nothing\n");
    expect_error("monitoring:\n  signals: [web]\n",
                 "t.yaml:2:12: monitoring.signals: expected a mapping of service types to signal "
                 "lists, got a list\n");
    expect_error("monitoring:\n  signals:\n    web: []\n    web: []\n",
                 "t.yaml:4:5: monitoring.signals.web: duplicate key (first set at line 3 column "
                 "5)\n");
    /* A type whose signals have errors still exists: its services add no second error. */
    expect_error("monitoring:\n  signals:\n    web:\n      - {name: up}\n"
                 "services:\n  - {name: a, type: web}\n",
                 "t.yaml:4:9: monitoring.signals.web[0]: needs metrics (a list of metric-name "
                 "globs)\n");
    /* An added type is among the defined ones. */
    expect_error("monitoring:\n  signals:\n    web: []\nservices:\n  - {name: a, type: wbe}\n",
                 "t.yaml:5:21: services[0].type: no service type named \"wbe\" (defined: host, "
                 "http, postgres, redis, worker, process, web)\n");
}

AK_TEST(mon_errors_are_all_reported_and_freed)
{
    struct ak_cfg c;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_EQ_INT(load("monitoring:\n  max_series: 1\n"
                          "  signals:\n    web:\n      - {name: up, metrics: [up]}\n"
                          "      - {name: up, metrics: [x]}\n"
                          "  sources:\n    - {name: p, url: 'http://h', queries: [up]}\n"
                          "    - {name: p, url: 'http://h?x', queries: [up]}\n"
                          "services:\n  - {name: a, type: web, labels: {x: y},"
                          " limits: {m: 1}, targets: ['http://h/m']}\n"
                          "  - {name: a, type: nope, limits: {m: x}}\n"
                          "review:\n  fdr: 1\n",
                          &c, &err),
                     AK_ECONFIG);
    AK_ASSERT_EQ_INT(count_lines(err.buf), 8);
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:2:15: monitoring.max_series:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:6:16: monitoring.signals.web[1]: duplicate signal");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:9:22: monitoring.sources[1].url:");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:9:14: monitoring.sources[1]: duplicate source");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:12:12: services[1]: duplicate service");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:12:21: services[1].type: no service type");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:12:39: services[1].limits.m: must be a number");
    AK_ASSERT_CONTAINS(err.buf, "t.yaml:14:8: review.fdr:");
    AK_ASSERT_NULL(c.services);
    AK_ASSERT_NULL(c.service_types);
    AK_ASSERT_NULL(c.mon_sources);
    ak_buf_release(&err);
}

AK_TEST(dump_has_mon_keys)
{
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX), yaml = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cfg c;
    const char *p;

    AK_ASSERT_OK(ak_cfg_dump_defaults(&out));
    AK_ASSERT_CONTAINS(out.buf, "\nmonitoring:\n");
    AK_ASSERT_CONTAINS(out.buf, "  enabled: true\n  # Run the built-in host collector");
    AK_ASSERT_CONTAINS(out.buf, "  host_service: 'host'\n");
    AK_ASSERT_CONTAINS(out.buf, "  processes: []\n");
    AK_ASSERT_CONTAINS(out.buf, "  scrape_interval: 15s\n");
    AK_ASSERT_CONTAINS(out.buf, "  scrape_timeout: 10s\n");
    AK_ASSERT_CONTAINS(out.buf, "  max_scrape_bytes: 16MiB\n");
    AK_ASSERT_CONTAINS(out.buf, "  max_series: 50000\n");
    AK_ASSERT_CONTAINS(out.buf, "  retention:\n");
    AK_ASSERT_CONTAINS(out.buf, "    raw: 3d\n");
    AK_ASSERT_CONTAINS(out.buf, "    minute: 15d\n");
    AK_ASSERT_CONTAINS(out.buf, "    hour: 400d\n");
    AK_ASSERT_CONTAINS(out.buf, "  signals:\n    host:\n"
                                "      - {name: up, required: true, metrics: ['up']}\n");
    AK_ASSERT_CONTAINS(out.buf, "      - {name: latency, required: true, metrics: "
                                "['http_request_duration_seconds*', "
                                "'http_server_requests_seconds*', '*_request_duration_seconds*', "
                                "'*_latency_seconds*']}\n");
    AK_ASSERT_CONTAINS(out.buf, "  # sources:\n");
    AK_ASSERT_CONTAINS(out.buf, "\nreview:\n");
    AK_ASSERT_CONTAINS(out.buf, "  window: 14d\n");
    AK_ASSERT_CONTAINS(out.buf, "  time: '06:00'\n");
    AK_ASSERT_CONTAINS(out.buf, "  tz: 'Asia/Tokyo'\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (number, 0.0001 .. 0.5)\n  fdr: 0.05\n");
    AK_ASSERT_CONTAINS(out.buf, "  min_growth_pct_per_day: 2\n");
    AK_ASSERT_CONTAINS(out.buf, "  min_shift_pct: 10\n");
    AK_ASSERT_CONTAINS(out.buf, "  warmup: 2h\n");
    AK_ASSERT_CONTAINS(out.buf, "  # (number, 1 .. 3650)\n  days_to_limit_within: 30\n");
    AK_ASSERT_CONTAINS(out.buf, "# services:\n");
    /* The dump loads back to the defaults, the dumped signals giving the built-in types. */
    AK_ASSERT_OK(ak_cfg_load_string("dump", out.buf, out.len, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    assert_builtin_types(&c);
    AK_ASSERT_EQ_INT(ak_cfg_service_type_find(&c, "host")->line > 0, 1); /* from the dump */
    AK_ASSERT_EQ_INT(c.n_services, 1);
    AK_ASSERT(c.review_fdr == 0.05);
    ak_cfg_release(&c);
    /* The sources example, uncommented, loads. */
    p = strstr(out.buf, "  # sources:\n");
    AK_ASSERT(p != NULL);
    ak_buf_add(&yaml, "monitoring:\n");
    for (; strncmp(p, "  # ", 4) == 0; p = strchr(p, '\n') + 1) {
        const char *nl = strchr(p, '\n');

        ak_buf_add(&yaml, "  ");
        ak_buf_addn(&yaml, p + 4, (size_t)(nl - p - 3));
    }
    AK_ASSERT_OK(load(yaml.buf, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_mon_sources, 1);
    AK_ASSERT_STR(c.mon_sources[0].queries.v[0], "up{job=\"api\"}");
    AK_ASSERT_EQ_INT(c.mon_sources[0].lookback_ms, 7 * DAY);
    ak_cfg_release(&c);
    /* So does the services example (after the receivers and teams ones). */
    ak_buf_reset(&yaml);
    p = strstr(out.buf, "# receivers:\n");
    AK_ASSERT(p != NULL);
    for (; *p; p = strchr(p, '\n') + 1) {
        const char *nl = strchr(p, '\n');

        AK_ASSERT(strncmp(p, "# ", 2) == 0);
        ak_buf_addn(&yaml, p + 2, (size_t)(nl - p - 1));
    }
    setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x", 1);
    AK_ASSERT_OK(load(yaml.buf, &c, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(c.n_services, 3);
    AK_ASSERT_STR(c.services[1].type, "postgres");
    AK_ASSERT(c.services[1].limits[0].value == 500.0);
    AK_ASSERT_STR(c.services[2].name, "host");
    ak_cfg_release(&c);
    ak_buf_release(&out);
    ak_buf_release(&yaml);
    ak_buf_release(&err);
}

AK_TEST_MAIN(AK_T(important_rules), AK_T(defaults_match_header), AK_T(full_file_loads),
             AK_T(empty_and_comment_only_give_defaults), AK_T(missing_file_is_eio),
             AK_T(many_errors_are_all_reported), AK_T(unknown_key_suggestions), AK_T(wrong_shapes),
             AK_T(ranges), AK_T(bad_duration_and_size), AK_T(duplicate_keys),
             AK_T(yaml_syntax_errors), AK_T(env_expansion), AK_T(env_errors),
             AK_T(secrets_never_in_messages), AK_T(nullable_options), AK_T(regex_options),
             AK_T(listen_validation), AK_T(topic_validation), AK_T(error_cap_is_twenty),
             AK_T(file_errors_name_the_file), AK_T(odd_keys), AK_T(oversized_input_refused),
             AK_T(dump_defaults_roundtrip),
             AK_T(dump_into_capped_buffer), AK_T(notify_defaults), AK_T(notify_full_file),
             AK_T(notify_errors_file), AK_T(receiver_errors),
             AK_T(receiver_secrets_never_in_messages), AK_T(receivers_without_route),
             AK_T(route_errors), AK_T(reminders), AK_T(matcher_ops_and_fields),
             AK_T(matcher_errors), AK_T(matcher_lists_and_format),
             AK_T(matcher_list_errors_and_caps), AK_T(dump_example_loads), AK_T(aws_defaults),
             AK_T(poller_names), AK_T(aws_issue_sample_loads), AK_T(aws_full_file_loads),
             AK_T(aws_empty_sections_keep_defaults), AK_T(aws_account_errors),
             AK_T(aws_value_checks), AK_T(aws_scalar_ranges), AK_T(poller_errors),
             AK_T(inventory_errors), AK_T(aws_env_expansion),
             AK_T(aws_errors_are_all_reported_and_freed), AK_T(dump_has_aws_keys),
             AK_T(sts_defaults), AK_T(sts_issue_sample_loads), AK_T(sts_full_file_loads),
             AK_T(sts_policy_yaml_to_json), AK_T(sts_policy_duplicate_key),
             AK_T(sts_policy_json_text_and_files), AK_T(sts_provider_errors),
             AK_T(sts_role_errors), AK_T(sts_scalar_ranges),
             AK_T(sts_errors_are_all_reported_and_freed), AK_T(dump_has_sts_keys),
             AK_T(runbook_defaults), AK_T(runbook_keys_and_teams_load), AK_T(team_errors),
             AK_T(dump_has_runbook_keys), AK_T(yaml_to_json), AK_T(yaml_to_json_errors),
             AK_T(mon_defaults), AK_T(mon_full_file_loads), AK_T(mon_host_service),
             AK_T(mon_type_override_and_addition), AK_T(mon_limit_numbers),
             AK_T(mon_service_errors), AK_T(mon_scalar_errors), AK_T(mon_source_errors),
             AK_T(mon_signal_errors), AK_T(mon_errors_are_all_reported_and_freed),
             AK_T(dump_has_mon_keys))
