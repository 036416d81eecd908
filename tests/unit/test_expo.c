/* test_expo.c — Prometheus 0.0.4 / OpenMetrics 1.0 text parser: cases after the OpenMetrics spec
 * and its parser test corpus, and prometheus/common's text_parse_test.go (our own inputs). */
#include "ak_test.h"

#include <math.h>
#include <time.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_util.h"

/* Renders every sample as "family:type:key value[ @ts][ # exkey exvalue[ @ts]]\n". */
static int collect(const struct ak_expo_sample *s, void *arg)
{
    struct ak_buf *out = arg;
    ak_buf_addf(out, "%s:%s:", s->family, ak_expo_type_name(s->type));
    ak_expo_series_key(s->name, s->labels, s->nlabels, out);
    ak_buf_addf(out, " %g", s->value);
    if (s->has_ts)
        ak_buf_addf(out, " @%lld", (long long)s->ts_ms);
    if (s->has_exemplar) {
        ak_buf_add(out, " # ");
        ak_expo_series_key("", s->ex_labels, s->ex_nlabels, out);
        ak_buf_addf(out, " %g", s->ex_value);
        if (s->ex_has_ts)
            ak_buf_addf(out, " @%lld", (long long)s->ex_ts_ms);
    }
    if (*s->unit)
        ak_buf_addf(out, " [%s]", s->unit);
    ak_buf_addc(out, '\n');
    return 0;
}

static int parse(const char *text, enum ak_expo_format fmt, struct ak_buf *out, struct ak_buf *err)
{
    ak_buf_reset(out);
    ak_buf_reset(err);
    return ak_expo_parse(text, strlen(text), fmt, collect, out, err);
}

#define PROM AK_EXPO_PROM_TEXT
#define OM AK_EXPO_OPENMETRICS

AK_TEST(prom_basic)
{
    struct ak_buf out = AK_BUF_INIT(1 << 20), err = AK_BUF_INIT(1024);
    const char *in = "# A plain comment\n"
                     "# HELP http_requests_total The total. With \\\\ and \\n escapes.\n"
                     "# TYPE http_requests_total counter\n"
                     "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
                     "http_requests_total{ code = \"400\" ,\tmethod=\"post\", }   3   -5\n"
                     "\n"
                     "   \t\n"
                     "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\","
                     "error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
                     "metric_without_timestamp_and_labels 12.47\n"
                     "  something_weird{problem=\"division by zero\"} +Inf -3982045\n"
                     "a{} .23\n"
                     "b 08\n"
                     "c -3e3\n"
                     "d -Inf\n"
                     "e NaN\n"
                     "f 1.5E+2\n"
                     "g 1\n"; /* last line ends in \n; a missing one is tolerated too */
    AK_ASSERT_OK(parse(in, PROM, &out, &err));
    AK_ASSERT_STR(out.buf,
                  "http_requests_total:counter:http_requests_total{code=\"200\",method=\"post\"} "
                  "1027 @1395066363000\n"
                  "http_requests_total:counter:http_requests_total{code=\"400\",method=\"post\"} "
                  "3 @-5\n"
                  "msdos_file_access_time_seconds:untyped:msdos_file_access_time_seconds{error="
                  "\"Cannot find file:\\n\\\"FILE.TXT\\\"\",path=\"C:\\\\DIR\\\\FILE.TXT\"} "
                  "1.45826e+09\n"
                  "metric_without_timestamp_and_labels:untyped:"
                  "metric_without_timestamp_and_labels 12.47\n"
                  "something_weird:untyped:something_weird{problem=\"division by zero\"} inf "
                  "@-3982045\n"
                  "a:untyped:a 0.23\nb:untyped:b 8\nc:untyped:c -3000\nd:untyped:d -inf\n"
                  "e:untyped:e nan\nf:untyped:f 150\ng:untyped:g 1\n");
    AK_ASSERT_OK(parse("x 1", PROM, &out, &err));
    AK_ASSERT_STR(out.buf, "x:untyped:x 1\n");
    /* "# HELP name" or "# TYPE name" with nothing after the name is a plain comment */
    AK_ASSERT_OK(parse("# HELP x\n# TYPE x \n# HELP x real\n# TYPE x gauge\nx 2\n", PROM, &out,
                       &err));
    AK_ASSERT_STR(out.buf, "x:gauge:x 2\n");
    ak_buf_release(&out);
    ak_buf_release(&err);
}

static const struct ak_expo_label *label(const struct ak_expo_sample *s, const char *n)
{
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, n) == 0)
            return &s->labels[i];
    return NULL;
}

struct check_escape {
    int n;
    int ok;
};

static int escape_cb(const struct ak_expo_sample *s, void *arg)
{
    struct check_escape *c = arg;
    const struct ak_expo_label *l = label(s, "path");
    c->n++;
    c->ok = l && l->value_len == 8 && memcmp(l->value, "a\\b\"c\nd\\", 8) == 0 &&
            s->nlabels == 2 && strcmp(s->labels[0].name, "a") == 0;
    return 0;
}

AK_TEST(label_value_unescaped)
{
    struct check_escape c = {0, 0};
    const char *in = "x{path=\"a\\\\b\\\"c\\nd\\\\\",a=\"\"} 1\n";
    AK_ASSERT_OK(ak_expo_parse(in, strlen(in), PROM, escape_cb, &c, NULL));
    AK_ASSERT_EQ_INT(c.n, 1);
    AK_ASSERT(c.ok);
}

AK_TEST(prom_histogram_summary)
{
    struct ak_buf out = AK_BUF_INIT(1 << 20), err = AK_BUF_INIT(1024);
    const char *in = "# HELP rpc_duration_seconds A summary.\n"
                     "# TYPE rpc_duration_seconds summary\n"
                     "rpc_duration_seconds{quantile=\"0.01\"} 3102\n"
                     "rpc_duration_seconds{quantile=\"-12.34\"} NaN\n"
                     "rpc_duration_seconds_sum 1.7560473e+07\n"
                     "rpc_duration_seconds_count 2693\n"
                     "# TYPE req histogram\n"
                     "req_bucket{le=\"0.05\"} 24054\n"
                     "req_bucket{le=\"+Inf\"} 144320\n"
                     "req_sum 53423\n"
                     "req_count 144320\n"
                     "# HELP no_such_metric help for nothing is ignored\n";
    AK_ASSERT_OK(parse(in, PROM, &out, &err));
    AK_ASSERT_STR(out.buf,
                  "rpc_duration_seconds:summary:rpc_duration_seconds{quantile=\"0.01\"} 3102\n"
                  "rpc_duration_seconds:summary:rpc_duration_seconds{quantile=\"-12.34\"} nan\n"
                  "rpc_duration_seconds:summary:rpc_duration_seconds_sum 1.75605e+07\n"
                  "rpc_duration_seconds:summary:rpc_duration_seconds_count 2693\n"
                  "req:histogram:req_bucket{le=\"0.05\"} 24054\n"
                  "req:histogram:req_bucket{le=\"+Inf\"} 144320\n"
                  "req:histogram:req_sum 53423\nreq:histogram:req_count 144320\n");
    /* 0.0.4 families may be split; the family is found again by name */
    AK_ASSERT_OK(parse("# TYPE h histogram\nh_sum 1\nother 2\nh_count 3\n", PROM, &out, &err));
    AK_ASSERT_STR(out.buf, "h:histogram:h_sum 1\nother:untyped:other 2\nh:histogram:h_count 3\n");
    ak_buf_release(&out);
    ak_buf_release(&err);
}

AK_TEST(om_counter_unit_exemplar_ts)
{
    struct ak_buf out = AK_BUF_INIT(1 << 20), err = AK_BUF_INIT(1024);
    const char *in = "# TYPE foo_seconds counter\n"
                     "# UNIT foo_seconds seconds\n"
                     "# HELP foo_seconds Time \\\"spent\\\", with \\\\ \\n.\n"
                     "foo_seconds_total{a=\"b\"} 17.0 1520879607.789 # {trace_id=\"KOO5S4v\"} 1 "
                     "1520879607.7\n"
                     "foo_seconds_created{a=\"b\"} 1520430000.123\n"
                     "foo_seconds_total{a=\"c\"} 0 # {} 0.5\n"
                     "# TYPE g gauge\n"
                     "# HELP g \n"
                     "# UNIT g \n"
                     "g 007 -1\n"
                     "g inf 0\n"
                     "g -Infinity 1\n"
                     "g nan 2.5\n"
                     "# EOF";
    AK_ASSERT_OK(parse(in, OM, &out, &err));
    AK_ASSERT_STR(out.buf,
                  "foo_seconds:counter:foo_seconds_total{a=\"b\"} 17 @1520879607789 # "
                  "{trace_id=\"KOO5S4v\"} 1 @1520879607700 [seconds]\n"
                  "foo_seconds:counter:foo_seconds_created{a=\"b\"} 1.52043e+09 [seconds]\n"
                  "foo_seconds:counter:foo_seconds_total{a=\"c\"} 0 #  0.5 [seconds]\n"
                  "g:gauge:g 7 @-1000\ng:gauge:g inf @0\ng:gauge:g -inf @1000\n"
                  "g:gauge:g nan @2500\n");
    ak_buf_release(&out);
    ak_buf_release(&err);
}

AK_TEST(om_histogram_summary_stateset_info)
{
    struct ak_buf out = AK_BUF_INIT(1 << 20), err = AK_BUF_INIT(1024);
    const char *in = "# TYPE h histogram\n"
                     "h_bucket{le=\"0.1\"} 8 # {id=\"x\"} 0.05\n"
                     "h_bucket{le=\"1\"} 10\n"
                     "h_bucket{le=\"+Inf\"} 17\n"
                     "h_count 17\n"
                     "h_sum 324789.3\n"
                     "h_created 1520430000.123\n"
                     "h_bucket{le=\"1\",x=\"y\"} 1\n"
                     "h_bucket{le=\"+Inf\",x=\"y\"} 1\n"
                     "# TYPE gh gaugehistogram\n"
                     "gh_bucket{le=\"+Inf\"} 3\n"
                     "gh_gcount 3\n"
                     "gh_gsum 2\n"
                     "# TYPE s summary\n"
                     "s{quantile=\"0.5\"} 4\n"
                     "s_count 7\n"
                     "s_sum 9\n"
                     "# TYPE st stateset\n"
                     "st{st=\"a\"} 1\n"
                     "st{st=\"b\"} 0\n"
                     "# TYPE i info\n"
                     "i_info{version=\"1.2\"} 1\n"
                     "# TYPE u unknown\n"
                     "u{hash=\"# not a comment\",nul=\"a\\\\b\"} 1\n"
                     "u{p=\"q\"} 1 10\n"
                     "u{p=\"q\"} 2 11\n"
                     "# EOF\n";
    AK_ASSERT_OK(parse(in, OM, &out, &err));
    AK_ASSERT_STR(out.buf,
                  "h:histogram:h_bucket{le=\"0.1\"} 8 # {id=\"x\"} 0.05\n"
                  "h:histogram:h_bucket{le=\"1\"} 10\n"
                  "h:histogram:h_bucket{le=\"+Inf\"} 17\n"
                  "h:histogram:h_count 17\nh:histogram:h_sum 324789\n"
                  "h:histogram:h_created 1.52043e+09\n"
                  "h:histogram:h_bucket{le=\"1\",x=\"y\"} 1\n"
                  "h:histogram:h_bucket{le=\"+Inf\",x=\"y\"} 1\n"
                  "gh:gaugehistogram:gh_bucket{le=\"+Inf\"} 3\n"
                  "gh:gaugehistogram:gh_gcount 3\ngh:gaugehistogram:gh_gsum 2\n"
                  "s:summary:s{quantile=\"0.5\"} 4\ns:summary:s_count 7\ns:summary:s_sum 9\n"
                  "st:stateset:st{st=\"a\"} 1\nst:stateset:st{st=\"b\"} 0\n"
                  "i:info:i_info{version=\"1.2\"} 1\n"
                  "u:untyped:u{hash=\"# not a comment\",nul=\"a\\\\b\"} 1\n"
                  "u:untyped:u{p=\"q\"} 1 @10000\nu:untyped:u{p=\"q\"} 2 @11000\n");
    ak_buf_release(&out);
    ak_buf_release(&err);
}

struct nul_check {
    size_t len;
    int hit;
};

static int nul_cb(const struct ak_expo_sample *s, void *arg)
{
    struct nul_check *c = arg;
    c->len = s->labels[0].value_len;
    c->hit = memcmp(s->labels[0].value, "a\0b", 3) == 0;
    return 0;
}

AK_TEST(om_null_byte_and_auto)
{
    static const char in[] = "a{b=\"a\0b\"} 1\n# EOF\n";
    struct nul_check c = {0, 0};
    struct ak_buf out = AK_BUF_INIT(1 << 20), err = AK_BUF_INIT(1024);

    AK_ASSERT_OK(ak_expo_parse(in, sizeof(in) - 1, AK_EXPO_AUTO, nul_cb, &c, &err));
    AK_ASSERT_EQ_INT(c.len, 3);
    AK_ASSERT(c.hit);
    /* AUTO: "# EOF" last means OpenMetrics (float seconds), else 0.0.4 (ms) */
    AK_ASSERT_OK(parse("a 1 2.5\n# EOF\n", AK_EXPO_AUTO, &out, &err));
    AK_ASSERT_STR(out.buf, "a:untyped:a 1 @2500\n");
    AK_ASSERT_OK(parse("a 1 2\n", AK_EXPO_AUTO, &out, &err));
    AK_ASSERT_STR(out.buf, "a:untyped:a 1 @2\n");
    AK_ASSERT_EQ_INT(parse("a 1 2.5\n", AK_EXPO_AUTO, &out, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_expo_format_from_content_type(
                         "application/openmetrics-text; version=1.0.0; charset=utf-8"),
                     OM);
    AK_ASSERT_EQ_INT(ak_expo_format_from_content_type("Text/Plain; version=0.0.4"), PROM);
    AK_ASSERT_EQ_INT(ak_expo_format_from_content_type("application/json"), AK_EXPO_AUTO);
    AK_ASSERT_EQ_INT(ak_expo_format_from_content_type(NULL), AK_EXPO_AUTO);
    ak_buf_release(&out);
    ak_buf_release(&err);
}

struct bad_case {
    enum ak_expo_format fmt;
    const char *in;
    int code;
    const char *why; /* expected substring of the error */
};

/* One glyph of three code points: q, combining acute, combining dot below. */
#define GLYPH3 "q\xcc\x81\xcc\xa3"
#define GLYPH3_X8 GLYPH3 GLYPH3 GLYPH3 GLYPH3 GLYPH3 GLYPH3 GLYPH3 GLYPH3

static const struct bad_case bad_cases[] = {
    /* OpenMetrics framing */
    {OM, "a 1\n", AK_EINVAL, "line 1: missing # EOF"},
    {OM, "", AK_EINVAL, "missing # EOF"},
    {OM, "a 1\n# EOF\nb 1\n", AK_EINVAL, "line 3: text after # EOF"},
    {OM, "a 1\n# EOF\n\n", AK_EINVAL, "text after # EOF"},
    {OM, "# EOF\n# EOF\n", AK_EINVAL, "text after # EOF"},
    {OM, "a 1\n\n# EOF\n", AK_EINVAL, "line 2: blank line"},
    {OM, "a 1\r\n# EOF\n", AK_EINVAL, "line 1: invalid value"},
    {OM, "# random comment\n# EOF\n", AK_EINVAL, "invalid line starting with '#'"},
    {OM, "#EOF\n", AK_EINVAL, "invalid line starting"},
    {OM, "# EOF \n", AK_EINVAL, "invalid line starting"},
    {OM, "a  1\n# EOF\n", AK_EINVAL, "missing value"},
    {OM, "a 1 \n# EOF\n", AK_EINVAL, "trailing space"},
    {OM, " a 1\n# EOF\n", AK_EINVAL, "invalid metric name"},
    {OM, "a{b=\"c\",} 1\n# EOF\n", AK_EINVAL, "trailing comma"},
    {OM, "a{b = \"c\"} 1\n# EOF\n", AK_EINVAL, "expected '='"},
    /* metadata */
    {OM, "# TYPE a gauge\n# TYPE a gauge\n# EOF\n", AK_EINVAL, "line 2: second TYPE"},
    {OM, "# HELP a x\n# HELP a y\n# EOF\n", AK_EINVAL, "second HELP"},
    {OM, "# UNIT a_s s\n# UNIT a_s s\n# EOF\n", AK_EINVAL, "second UNIT"},
    {OM, "a 1\n# TYPE a gauge\n# EOF\n", AK_EINVAL, "TYPE for a after its samples"},
    {OM, "a 1\nb 1\na 2\n# EOF\n", AK_EINVAL, "line 3: family a appears again"},
    {OM, "# TYPE a gauge\nb 1\n# HELP a x\n# EOF\n", AK_EINVAL, "appears again"},
    {OM, "# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# EOF\n", AK_EINVAL, "not a suffix"},
    {OM, "# TYPE seconds gauge\n# UNIT seconds seconds\n# EOF\n", AK_EINVAL, "not a suffix"},
    {OM, "# TYPE a foo\n# EOF\n", AK_EINVAL, "unknown metric type"},
    {OM, "# TYPE a untyped\n# EOF\n", AK_EINVAL, "unknown metric type"},
    {OM, "# TYPE a Counter\n# EOF\n", AK_EINVAL, "unknown metric type"},
    {OM, "# HELP a\n# EOF\n", AK_EINVAL, "expected a space"},
    {OM, "# TYPE a counter\n# TYPE a_created gauge\n# EOF\n", AK_EINVAL, "clashes"},
    {OM, "# TYPE a_total gauge\n# TYPE a counter\n# EOF\n", AK_EINVAL, "clashes"},
    /* sample names per type */
    {OM, "# TYPE a counter\na 1\n# EOF\n", AK_EINVAL, "not valid in a counter family"},
    {OM, "# TYPE a histogram\na 1\n# EOF\n", AK_EINVAL, "not valid in a histogram"},
    {OM, "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 2\na_gsum 1\n# EOF\n",
     AK_EINVAL, "line 5: histogram a has a count that differs"},
    {OM, "# TYPE a info\na 1\n# EOF\n", AK_EINVAL, "not valid in a info"},
    {OM, "# TYPE a summary\na_count 1\n# TYPE a_sum gauge\n# EOF\n", AK_EINVAL,
     "family a_sum clashes with the samples of family a"},
    /* values */
    {OM, "# TYPE a counter\na_total -1\n# EOF\n", AK_EINVAL, "non-negative"},
    {OM, "# TYPE a counter\na_total NaN\n# EOF\n", AK_EINVAL, "non-negative"},
    {OM, "a 1 NaN\n# EOF\n", AK_EINVAL, "invalid timestamp"},
    {OM, "a 1 +Inf\n# EOF\n", AK_EINVAL, "invalid timestamp"},
    {OM, "a 0x1p3\n# EOF\n", AK_EINVAL, "invalid value"},
    {OM, "a 1_000\n# EOF\n", AK_EINVAL, "invalid value"},
    {OM, "a -NaN\n# EOF\n", AK_EINVAL, "invalid value"},
    {OM, "a 1e\n# EOF\n", AK_EINVAL, "invalid value"},
    {OM, "a .\n# EOF\n", AK_EINVAL, "invalid value"},
    {OM, "# TYPE a info\na_info 2\n# EOF\n", AK_EINVAL, "info value must be 1"},
    {OM, "# TYPE a stateset\na{a=\"x\"} 2\n# EOF\n", AK_EINVAL, "0 or 1"},
    {OM, "# TYPE a stateset\na{b=\"x\"} 1\n# EOF\n", AK_EINVAL, "without a a label"},
    {OM, "# TYPE a summary\na{quantile=\"1.5\"} 1\n# EOF\n", AK_EINVAL, "outside [0, 1]"},
    {OM, "# TYPE a summary\na 1\n# EOF\n", AK_EINVAL, "without a quantile label"},
    /* histograms */
    {OM, "# TYPE a histogram\na_bucket{le=\"1\"} 0\na_count 0\n# EOF\n", AK_EINVAL,
     "line 4: histogram a has a point without a le=\"+Inf\" bucket"},
    {OM, "# TYPE a histogram\na_bucket{le=\"1\"} 0\n# EOF\n", AK_EINVAL, "without a le=\"+Inf\""},
    {OM, "# TYPE a histogram\na_bucket{le=\"2\"} 0\na_bucket{le=\"1\"} 0\n"
         "a_bucket{le=\"+Inf\"} 0\n# EOF\n", AK_EINVAL, "line 3: buckets are not in increasing"},
    {OM, "# TYPE a histogram\na_bucket{le=\"1\"} 5\na_bucket{le=\"+Inf\"} 4\n# EOF\n",
     AK_EINVAL, "not cumulative"},
    {OM, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 4\na_count 5\na_sum 0\n# EOF\n", AK_EINVAL,
     "count that differs from its le=\"+Inf\" bucket"},
    {OM, "# TYPE a histogram\na_bucket 4\n# EOF\n", AK_EINVAL, "without a le label"},
    {OM, "# TYPE a histogram\na_bucket{le=\"NaN\"} 4\n# EOF\n", AK_EINVAL, "invalid le"},
    {OM, "# TYPE a histogram\na_bucket{le=\"+Inf\"} -1\n# EOF\n", AK_EINVAL, "non-negative"},
    {OM, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1.5\n# EOF\n", AK_EINVAL, "non-negative"},
    {OM, "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count -1\n# EOF\n", AK_EINVAL,
     "non-negative integer"},
    /* exemplars */
    {OM, "a 1 # {x=\"y\"} 1\n# EOF\n", AK_EINVAL, "exemplar on a sample"},
    {OM, "# TYPE a counter\na_total 1 # {x=\"y\"}\n# EOF\n", AK_EINVAL, "expected a space"},
    {OM, "# TYPE a counter\na_total 1 #{x=\"y\"} 1\n# EOF\n", AK_EINVAL, "invalid exemplar"},
    {OM, "# TYPE a counter\na_total 1 # {x=\"y\"} 1 2 3\n# EOF\n", AK_EINVAL, "exemplar timestamp"},
    {OM, "# TYPE a counter\na_total 1 # {x=\"0123456789012345678901234567890123456789012345678901"
         "234567890123456789012345678901234567890123456789012345678901234567890123456789\"} 1\n"
         "# EOF\n",
     AK_EINVAL, "longer than 128"},
    /* both formats */
    {OM, "a{b=\"\xff\"} 1\n# EOF\n", AK_EINVAL, "line 1: invalid UTF-8"},
    {PROM, "a 1\nb{c=\"\xc0\xaf\"} 1\n", AK_EINVAL, "line 2: invalid UTF-8"},
    {PROM, "a{c=\"\xed\xa0\x80\"} 1\n", AK_EINVAL, "invalid UTF-8"},
    {PROM, "a{c=\"\xe2\x82\"} 1\n", AK_EINVAL, "invalid UTF-8"},
    {OM, "a{b=\"1\",b=\"2\"} 1\n# EOF\n", AK_EINVAL, "duplicate label name b"},
    {PROM, "a{b=\"1\",c=\"x\",b=\"1\"} 1\n", AK_EINVAL, "duplicate label name b"},
    {OM, "a{x=\"1\"} 1\na{x=\"1\"} 2\n# EOF\n", AK_EINVAL, "line 2: duplicate sample"},
    {OM, "a 1 5\na 2 5\n# EOF\n", AK_EINVAL, "duplicate sample"},
    {PROM, "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", AK_EINVAL, "duplicate sample"},
    /* 0.0.4 */
    {PROM, "a{b=\"\\x\"} 1\n", AK_EINVAL, "invalid escape sequence"},
    {PROM, "a 1 1.5\n", AK_EINVAL, "invalid timestamp"},
    {PROM, "a 1 99999999999999999999\n", AK_EINVAL, "invalid timestamp"},
    {PROM, "a abc\n", AK_EINVAL, "invalid value"},
    {PROM, "a\n", AK_EINVAL, "missing value"},
    {PROM, "a 1 2 3\n", AK_EINVAL, "after the timestamp"},
    {PROM, "# TYPE a counter\n# TYPE a counter\n", AK_EINVAL, "second TYPE"},
    {PROM, "# HELP a x\n# HELP a y\n", AK_EINVAL, "second HELP"},
    {PROM, "a 1\n# TYPE a counter\n", AK_EINVAL, "TYPE for a after its samples"},
    {PROM, "# TYPE a histogram\na 1\n", AK_EINVAL, "does not fit family a of type histogram"},
    {PROM, "# TYPE a summary\na 1\n", AK_EINVAL, "without a quantile label"},
    {PROM, "# TYPE a histogram\na_bucket 1\n", AK_EINVAL, "without a le label"},
    {PROM, "# TYPE a nonsense\n", AK_EINVAL, "unknown metric type"},
    {PROM, "# TYPE a gaugehistogram\n", AK_EINVAL, "unknown metric type"},
    {PROM, "# TYPE a counter gauge\n", AK_EINVAL, "unknown metric type"},
    {PROM, "a{__name__=\"b\"} 1\n", AK_EINVAL, "line 1: label name __name__ is reserved"},
    {OM, "a{__name__=\"b\"} 1\n# EOF\n", AK_EINVAL, "__name__ is reserved"},
    {PROM, "# TYPE 1a counter\n", AK_EINVAL, "invalid metric name"},
    {PROM, "1a 1\n", AK_EINVAL, "invalid metric name"},
    {PROM, "{\"a.b\"} 1\n", AK_EINVAL, "invalid metric name"},
    {PROM, "a{b=\"c\" 1\n", AK_EINVAL, "expected ',' or '}'"},
    {PROM, "a{b=\"c 1\n", AK_EINVAL, "unterminated label value"},
    {PROM, "a{1b=\"c\"} 1\n", AK_EINVAL, "invalid label name"},
    {PROM, "a{b:c=\"c\"} 1\n", AK_EINVAL, "expected '='"},
    {PROM, "a{b=c} 1\n", AK_EINVAL, "expected '\"'"},
    {PROM, "a 1 # {x=\"y\"} 1\n", AK_EINVAL, "invalid timestamp"},
    /* rules the OpenMetrics conformance run found missing (docs/internals/expo.md) */
    {OM, "# TYPE t histogram\nt_sum 3\n# EOF\n", AK_EINVAL, "without a le=\"+Inf\" bucket"},
    {OM, "# TYPE t gaugehistogram\nt_gsum 3\n# EOF\n", AK_EINVAL, "without a le=\"+Inf\""},
    {OM, "# TYPE t histogram\nt_bucket{le=\"+Inf\"} 2\nt_sum 5\n# EOF\n", AK_EINVAL,
     "line 4: histogram t has a point with only one of its count and sum"},
    {OM, "# TYPE t histogram\nt_bucket{le=\"+Inf\"} 2\nt_count 2\n# EOF\n", AK_EINVAL,
     "only one of its count and sum"},
    {OM, "# TYPE t gaugehistogram\nt_bucket{le=\"+Inf\"} 2\nt_gcount 2\n# EOF\n", AK_EINVAL,
     "only one of its count and sum"},
    {OM, "# TYPE t histogram\nt_bucket{le=\"-5\"} 1\nt_bucket{le=\"+Inf\"} 1\nt_count 1\n"
         "t_sum 4\n# EOF\n", AK_EINVAL, "negative buckets and a _sum"},
    {OM, "# TYPE t histogram\nt_sum -2\n# EOF\n", AK_EINVAL, "t_sum must be a number that is"},
    {OM, "# TYPE t histogram\nt_sum nan\n# EOF\n", AK_EINVAL, "t_sum must be a number"},
    {OM, "# TYPE t gaugehistogram\nt_gsum NaN\n# EOF\n", AK_EINVAL, "t_gsum must be a number"},
    {OM, "# TYPE t gaugehistogram\nt_bucket{le=\"+Inf\"} 2\nt_gcount 2\nt_gsum -3\n# EOF\n",
     AK_EINVAL, "negative sum without negative buckets"},
    {OM, "# TYPE t histogram\nt_count 2\nt_bucket{le=\"+Inf\"} 2\n# EOF\n", AK_EINVAL,
     "line 3: bucket after the count or sum"},
    {OM, "# TYPE t histogram\nt_bucket{le=\"inf\"} 2\n# EOF\n", AK_EINVAL,
     "infinite le must be written \"+Inf\""},
    {OM, "# TYPE t summary\nt_sum NaN\n# EOF\n", AK_EINVAL, "t_sum must be a number"},
    {OM, "# TYPE t summary\nt_sum -0.5\n# EOF\n", AK_EINVAL, "t_sum must be a number"},
    {OM, "# TYPE t summary\nt{quantile=\"0.9\"} -3\n# EOF\n", AK_EINVAL,
     "quantile value must not be negative"},
    {OM, "# TYPE t_b info\n# UNIT t_b b\n# EOF\n", AK_EINVAL, "line 2: a info family has no unit"},
    {OM, "# UNIT t_b b\n# TYPE t_b stateset\n# EOF\n", AK_EINVAL, "stateset family has no unit"},
    {OM, "# TYPE t summary\nt_count{x=\"1\"} 0\nt_count{x=\"2\"} 0\nt_sum{x=\"1\"} 0\n# EOF\n",
     AK_EINVAL, "line 4: the samples of one t metric are not together"},
    {OM, "t{x=\"1\"} 1\nt{x=\"2\"} 1\nt{x=\"1\"} 2\n# EOF\n", AK_EINVAL, "not together"},
    {OM, "t 1 20\nt 1 10\n# EOF\n", AK_EINVAL, "line 2: timestamps of series t go backwards"},
    {OM, "t 1 -0.5\nt 1 -0.75\n# EOF\n", AK_EINVAL, "go backwards"},
    {OM, "t 1 5\nt 1\n# EOF\n", AK_EINVAL, "both with and without a timestamp"},
    {OM, "t 1\nt 1 5\n# EOF\n", AK_EINVAL, "both with and without a timestamp"},
    {OM, "t 1 5\nt 2 5.0\n# EOF\n", AK_EINVAL, "duplicate sample"},
    /* code points count, not glyphs: 1 + 44 * 3 = 133 code points in 45 glyphs */
    {OM, "# TYPE t histogram\nt_bucket{le=\"+Inf\"} 1 # {s=\"" GLYPH3_X8 GLYPH3_X8 GLYPH3_X8
         GLYPH3_X8 GLYPH3_X8 GLYPH3 GLYPH3 GLYPH3 GLYPH3 "\"} 1\n# EOF\n",
     AK_EINVAL, "longer than 128 characters"},
};

/* Valid inputs the OpenMetrics conformance run once rejected (docs/internals/expo.md). */
AK_TEST(om_conformance_valid)
{
    struct ak_buf out = AK_BUF_INIT(1 << 20), err = AK_BUF_INIT(1024);
    /* a HELP text may end in a lone backslash */
    AK_ASSERT_OK(parse("# HELP t costs 5\\\nt 1\n# EOF\n", OM, &out, &err));
    AK_ASSERT_STR(out.buf, "t:untyped:t 1\n");
    /* sub-millisecond steps: increasing, so valid; a point landing on the previous point's ms is
     * not delivered, the first one is kept */
    AK_ASSERT_OK(parse("t{k=\"v\"} 7 2.0000\nt{k=\"v\"} 8 2.0004\nt{k=\"v\"} 9 2.0020\n"
                       "t{k=\"w\"} 1 2\n# EOF\n", OM, &out, &err));
    AK_ASSERT_STR(out.buf, "t:untyped:t{k=\"v\"} 7 @2000\nt:untyped:t{k=\"v\"} 9 @2002\n"
                           "t:untyped:t{k=\"w\"} 1 @2000\n");
    /* negative buckets: no _sum for a histogram, but a negative _gsum for a gaugehistogram */
    AK_ASSERT_OK(parse("# TYPE h histogram\nh_bucket{le=\"-2\"} 1\nh_bucket{le=\"+Inf\"} 4\n"
                       "# TYPE g gaugehistogram\ng_bucket{le=\"-2\"} 1\ng_bucket{le=\"+Inf\"} 4\n"
                       "g_gcount 4\ng_gsum -6\n# EOF\n", OM, &out, &err));
    AK_ASSERT_STR(out.buf, "h:histogram:h_bucket{le=\"-2\"} 1\n"
                           "h:histogram:h_bucket{le=\"+Inf\"} 4\n"
                           "g:gaugehistogram:g_bucket{le=\"-2\"} 1\n"
                           "g:gaugehistogram:g_bucket{le=\"+Inf\"} 4\n"
                           "g:gaugehistogram:g_gcount 4\ng:gaugehistogram:g_gsum -6\n");
    /* two timestamped points of one histogram metric, each complete */
    AK_ASSERT_OK(parse("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 10\nh_count 1 10\nh_sum 2 10\n"
                       "h_bucket{le=\"+Inf\"} 3 20\nh_count 3 20\nh_sum 5 20\n# EOF\n", OM, &out,
                       &err));
    /* 0.0.4 keeps its own rules: timestamps may go back, sums may be negative */
    AK_ASSERT_OK(parse("t 1 20\nt 1 10\n# TYPE s summary\ns_sum -1\n", PROM, &out, &err));
    ak_buf_release(&out);
    ak_buf_release(&err);
}

AK_TEST(invalid_inputs)
{
    struct ak_buf out = AK_BUF_INIT(1 << 20), err = AK_BUF_INIT(1024);
    int failures = 0;
    for (size_t i = 0; i < AK_ARRAY_SIZE(bad_cases); i++) {
        const struct bad_case *b = &bad_cases[i];
        int r = parse(b->in, b->fmt, &out, &err);
        if (r != b->code || !strstr(err.buf, b->why)) {
            printf("# case %zu (%s): r=%d err=\"%s\", want %d \"%s\"\n", i, b->in, r, err.buf,
                   b->code, b->why);
            failures++;
        }
    }
    ak_buf_release(&out);
    ak_buf_release(&err);
    AK_ASSERT_EQ_INT(failures, 0);
}

AK_TEST(caps)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    size_t n = AK_EXPO_MAX_LINE + 10;
    char *big = malloc(n + 16);

    memset(big, 'a', n);
    memcpy(big + n, " 1\n", 3);
    AK_ASSERT_EQ_INT(ak_expo_parse(big, n + 3, PROM, NULL, NULL, &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "line 1: longer than 65536 bytes");
    /* exactly at the cap is fine */
    memset(big, 'a', AK_EXPO_MAX_LINE - 2);
    memcpy(big + AK_EXPO_MAX_LINE - 2, " 1\n# EOF\n", 9);
    ak_buf_reset(&err);
    AK_ASSERT_OK(ak_expo_parse(big, AK_EXPO_MAX_LINE + 7, OM, NULL, NULL, &err));
    free(big);
    ak_buf_reset(&err);
    /* the size check comes before any byte is read */
    AK_ASSERT_EQ_INT(ak_expo_parse("", (size_t)AK_EXPO_MAX_TEXT + 1, PROM, NULL, NULL, &err),
                     AK_ETOOBIG);

    struct ak_buf many = AK_BUF_INIT(1 << 20);
    ak_buf_add(&many, "a{");
    for (size_t i = 0; i <= AK_EXPO_MAX_LABELS; i++)
        ak_buf_addf(&many, "l%zu=\"v\",", i);
    ak_buf_add(&many, "} 1\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_expo_parse(many.buf, many.len, PROM, NULL, NULL, &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "more than 128 labels");
    ak_buf_release(&many);
    ak_buf_release(&err);
}

static int stop_cb(const struct ak_expo_sample *s, void *arg)
{
    int *n = arg;
    (void)s;
    return ++*n == 2 ? 42 : 0;
}

AK_TEST(callback_stops)
{
    int n = 0;
    const char *in = "a 1\nb 2\nc 3\n";
    AK_ASSERT_EQ_INT(ak_expo_parse(in, strlen(in), PROM, stop_cb, &n, NULL), 42);
    AK_ASSERT_EQ_INT(n, 2);
}

AK_TEST(series_key)
{
    struct ak_buf out = AK_BUF_INIT(1024);
    struct ak_expo_label l[] = {{"a", "x", 1}, {"b", "q\"\\\nz", 5}};
    AK_ASSERT_OK(ak_expo_series_key("m", l, 2, &out));
    AK_ASSERT_STR(out.buf, "m{a=\"x\",b=\"q\\\"\\\\\\nz\"}");
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak_expo_series_key("m", NULL, 0, &out));
    AK_ASSERT_STR(out.buf, "m");
    struct ak_buf small = AK_BUF_INIT(8);
    ak_buf_add(&small, "ab");
    AK_ASSERT_EQ_INT(ak_expo_series_key("m", l, 2, &small), AK_ETOOBIG);
    AK_ASSERT_STR(small.buf, "ab");
    AK_ASSERT_STR(ak_expo_type_name(AK_EXPO_GAUGEHISTOGRAM), "gaugehistogram");
    ak_buf_release(&small);
    ak_buf_release(&out);
}

/* ~1 MB of node_exporter-like text. */
static void node_text(struct ak_buf *b)
{
    static const char *const modes[] = {"idle", "iowait", "irq", "nice", "softirq", "steal",
                                        "system", "user"};
    int fam = 0;
    while (b->len < 1000 * 1000) {
        ak_buf_addf(b, "# HELP node_cpu_seconds_%d_total Seconds the CPUs spent in each mode.\n"
                       "# TYPE node_cpu_seconds_%d_total counter\n", fam, fam);
        for (int cpu = 0; cpu < 16; cpu++)
            for (size_t m = 0; m < AK_ARRAY_SIZE(modes); m++)
                ak_buf_addf(b, "node_cpu_seconds_%d_total{cpu=\"%d\",mode=\"%s\"} %d.%02d\n", fam,
                            cpu, modes[m], cpu * 1000 + (int)m * 37, (int)m);
        ak_buf_addf(b, "# TYPE node_filesystem_avail_bytes_%d gauge\n", fam);
        for (int d = 0; d < 8; d++)
            ak_buf_addf(b, "node_filesystem_avail_bytes_%d{device=\"/dev/nvme0n1p%d\","
                           "fstype=\"ext4\",mountpoint=\"/mnt/d%d\"} 1.23456789e+%02d\n",
                        fam, d, d, 9 + d);
        ak_buf_addf(b, "# TYPE rpc_%d histogram\n", fam);
        for (int i = 0; i < 10; i++)
            ak_buf_addf(b, "rpc_%d_bucket{le=\"%g\"} %d\n", fam, 0.005 * (1 << i), i * 10);
        ak_buf_addf(b, "rpc_%d_bucket{le=\"+Inf\"} 100\nrpc_%d_sum 12.5\nrpc_%d_count 100\n", fam,
                    fam, fam);
        fam++;
    }
}

static int count_cb(const struct ak_expo_sample *s, void *arg)
{
    (*(size_t *)arg)++;
    return s->value < -1 ? 1 : 0;
}

AK_TEST(throughput)
{
    struct ak_buf text = AK_BUF_INIT(4 << 20), err = AK_BUF_INIT(1024);
    struct timespec t0, t1;
    size_t n = 0;
    int reps = 5;

    node_text(&text);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < reps; i++)
        AK_ASSERT_OK(ak_expo_parse(text.buf, text.len, PROM, count_cb, &n, &err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    AK_ASSERT(n > 10000);
    printf("# expo throughput: %zu bytes, %zu samples per parse, %.0f samples/s, %.1f MB/s "
           "(as built: sanitizer builds run slower)\n",
           text.len, n / (size_t)reps, (double)n / s, (double)text.len * reps / s / 1e6);
    ak_buf_release(&text);
    ak_buf_release(&err);
}

AK_TEST_MAIN(AK_T(prom_basic), AK_T(label_value_unescaped), AK_T(prom_histogram_summary),
             AK_T(om_counter_unit_exemplar_ts), AK_T(om_histogram_summary_stateset_info),
             AK_T(om_null_byte_and_auto), AK_T(om_conformance_valid), AK_T(invalid_inputs),
             AK_T(caps), AK_T(callback_stops), AK_T(series_key), AK_T(throughput))
