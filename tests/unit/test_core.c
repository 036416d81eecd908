/* Unit tests for src/core: buffers, parsing, time. */
#include "ak_test.h"

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"

AK_TEST(buf_grows_and_stays_terminated)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    AK_ASSERT_STR(b.buf, "");
    for (int i = 0; i < 1000; i++)
        AK_ASSERT_OK(ak_buf_addf(&b, "%d,", i));
    AK_ASSERT_EQ_INT(b.buf[b.len], 0);
    AK_ASSERT(b.len > 3000);
    AK_ASSERT(strncmp(b.buf, "0,1,2,", 6) == 0);
    ak_buf_release(&b);
    AK_ASSERT_STR(b.buf, "");
}

AK_TEST(buf_cap_refuses_and_keeps_contents)
{
    struct ak_buf b = AK_BUF_INIT(8);
    AK_ASSERT_OK(ak_buf_add(&b, "12345"));
    AK_ASSERT_EQ_INT(ak_buf_add(&b, "6789"), AK_ETOOBIG);
    AK_ASSERT_STR(b.buf, "12345");
    AK_ASSERT_OK(ak_buf_add(&b, "678"));
    AK_ASSERT_EQ_INT(ak_buf_addc(&b, 'x'), AK_ETOOBIG);
    AK_ASSERT_EQ_INT(ak_buf_addf(&b, "%s", "long string"), AK_ETOOBIG);
    AK_ASSERT_STR(b.buf, "12345678");
    size_t n;
    char *p = ak_buf_detach(&b, &n);
    AK_ASSERT_EQ_INT(n, 8);
    AK_ASSERT_STR(p, "12345678");
    free(p);
}

AK_TEST(buf_addf_long)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    AK_ASSERT_OK(ak_buf_addf(&b, "<%s>", big));
    AK_ASSERT_EQ_INT(b.len, 1001);
    AK_ASSERT_EQ_INT(b.buf[1000], '>');
    ak_buf_release(&b);
}

AK_TEST(err_keeps_first_message)
{
    struct ak_buf e = AK_BUF_INIT(256);
    AK_ASSERT_EQ_INT(ak_err(&e, AK_EINVAL, "first %d", 1), AK_EINVAL);
    ak_err(&e, AK_EIO, "second");
    AK_ASSERT_STR(e.buf, "first 1");
    AK_ASSERT_EQ_INT(ak_err(NULL, AK_EIO, "x"), AK_EIO);
    AK_ASSERT_EQ_INT(ak_err_http_status(AK_ETOOBIG), 413);
    ak_buf_release(&e);
}

AK_TEST(parse_u64)
{
    uint64_t v;
    AK_ASSERT_OK(ak_parse_u64("18446744073709551615", 0, UINT64_MAX, &v));
    AK_ASSERT(v == UINT64_MAX);
    AK_ASSERT_EQ_INT(ak_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_u64("-1", 0, 10, &v), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_u64("12x", 0, 100, &v), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_u64("", 0, 100, &v), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_u64("101", 0, 100, &v), AK_EINVAL);
    AK_ASSERT_OK(ak_parse_u64("100", 0, 100, &v));
    AK_ASSERT_EQ_INT(v, 100);
}

AK_TEST(parse_duration)
{
    int64_t ms;
    AK_ASSERT_OK(ak_parse_duration_ms("15m", &ms));
    AK_ASSERT_EQ_INT(ms, 900000);
    AK_ASSERT_OK(ak_parse_duration_ms("30d", &ms));
    AK_ASSERT_EQ_INT(ms, 30LL * 86400000);
    AK_ASSERT_OK(ak_parse_duration_ms("1h30m", &ms));
    AK_ASSERT_EQ_INT(ms, 5400000);
    AK_ASSERT_OK(ak_parse_duration_ms("500ms", &ms));
    AK_ASSERT_EQ_INT(ms, 500);
    AK_ASSERT_OK(ak_parse_duration_ms("10", &ms));
    AK_ASSERT_EQ_INT(ms, 10000);
    AK_ASSERT_OK(ak_parse_duration_ms("2w", &ms));
    AK_ASSERT_EQ_INT(ms, 14LL * 86400000);
    AK_ASSERT_EQ_INT(ak_parse_duration_ms("10x", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_duration_ms("h", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_duration_ms("", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_duration_ms("1h30", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_duration_ms("99999999999999999999d", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_duration_ms("9999999999999w", &ms), AK_EINVAL);
}

AK_TEST(parse_size)
{
    uint64_t v;
    AK_ASSERT_OK(ak_parse_size("64k", &v));
    AK_ASSERT_EQ_INT(v, 65536);
    AK_ASSERT_OK(ak_parse_size("1MiB", &v));
    AK_ASSERT_EQ_INT(v, 1048576);
    AK_ASSERT_OK(ak_parse_size("256KiB", &v));
    AK_ASSERT_EQ_INT(v, 262144);
    AK_ASSERT_OK(ak_parse_size("100", &v));
    AK_ASSERT_EQ_INT(v, 100);
    AK_ASSERT_EQ_INT(ak_parse_size("1T", &v), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_size("1MiBx", &v), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_parse_size("99999999999999999999G", &v), AK_EINVAL);
}

AK_TEST(time_parse_forms)
{
    int64_t ms, ref;
    /* 2019-06-26T15:00:00Z = 1561561200 */
    ref = 1561561200000LL;
    AK_ASSERT_OK(ak_time_parse("2019-06-26T15:00:00Z", &ms));
    AK_ASSERT_EQ_INT(ms, ref);
    AK_ASSERT_OK(ak_time_parse("Wed, 26 Jun 2019 15:00:00 GMT", &ms));
    AK_ASSERT_EQ_INT(ms, ref);
    AK_ASSERT_OK(ak_time_parse("2019-06-26T15:00:00.250Z", &ms));
    AK_ASSERT_EQ_INT(ms, ref + 250);
    AK_ASSERT_OK(ak_time_parse("2019-06-27T00:00:00+09:00", &ms));
    AK_ASSERT_EQ_INT(ms, ref);
    AK_ASSERT_OK(ak_time_parse("2019-06-26 15:00:00.000", &ms));
    AK_ASSERT_EQ_INT(ms, ref);
    AK_ASSERT_OK(ak_time_parse("26 Jun 2019 15:00:00 GMT", &ms));
    AK_ASSERT_EQ_INT(ms, ref);
    AK_ASSERT_OK(ak_time_parse("2019-06-26", &ms));
    AK_ASSERT_EQ_INT(ms, ref - 15 * 3600000LL);
    AK_ASSERT_OK(ak_time_parse("2020-02-29T00:00:00Z", &ms));
    AK_ASSERT_EQ_INT(ak_time_parse("2019-02-29T00:00:00Z", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_time_parse("2019-13-01T00:00:00Z", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_time_parse("2019-06-26T25:00:00Z", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_time_parse("2019-06-26T15:00:00Zjunk", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_time_parse("Wed, 26 Foo 2019 15:00:00 GMT", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_time_parse("", &ms), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_time_parse(NULL, &ms), AK_EINVAL);
}

AK_TEST(time_format)
{
    char b[AK_TIME_RFC3339_LEN];
    ak_time_fmt_rfc3339(1561561200000LL, b, sizeof(b));
    AK_ASSERT_STR(b, "2019-06-26T15:00:00Z");
    ak_time_fmt_rfc3339_ms(1561561200123LL, b, sizeof(b));
    AK_ASSERT_STR(b, "2019-06-26T15:00:00.123Z");
    ak_time_fmt_rfc3339(0, b, sizeof(b));
    AK_ASSERT_STR(b, "");
    int64_t now = 1561561200000LL;
    ak_time_fmt_relative(now + 3 * 86400000LL + 5000, now, b, sizeof(b));
    AK_ASSERT_STR(b, "in 3 days");
    ak_time_fmt_relative(now - 2 * 3600000LL, now, b, sizeof(b));
    AK_ASSERT_STR(b, "2 hours ago");
    ak_time_fmt_relative(now + 20000, now, b, sizeof(b));
    AK_ASSERT_STR(b, "now");
}

AK_TEST(time_roundtrip_many)
{
    /* every day for 60 years at a varying time of day round-trips */
    char b[AK_TIME_RFC3339_LEN];
    for (int64_t t = 86400000LL; t < 60LL * 365 * 86400000; t += 86400000LL + 3723000) {
        int64_t back;
        ak_time_fmt_rfc3339(t, b, sizeof(b));
        AK_ASSERT_OK(ak_time_parse(b, &back));
        AK_ASSERT_EQ_INT(back, t / 1000 * 1000);
    }
}

AK_TEST(strings)
{
    AK_ASSERT(ak_startswith("arn:aws:sns", "arn:"));
    AK_ASSERT(!ak_startswith("ar", "arn:"));
    AK_ASSERT(ak_endswith("x.pem", ".pem"));
    AK_ASSERT(!ak_endswith("pem", ".pem"));
    AK_ASSERT(ak_streq(NULL, NULL));
    AK_ASSERT(!ak_streq("a", NULL));
    char *s = ak_xasprintf("%s-%d", "a", 7);
    AK_ASSERT_STR(s, "a-7");
    free(s);
}

AK_TEST(buf_add_html)
{
    struct ak_buf b = AK_BUF_INIT(64);
    AK_ASSERT_OK(ak_buf_add_html(&b, "<a href=\"x\">Tom & Jerry's</a>"));
    AK_ASSERT_STR(b.buf, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
    AK_ASSERT_OK(ak_buf_add_html(&b, NULL));
    ak_buf_reset(&b);
    /* the cap holds: an escape that does not fit is refused, what fit stays */
    struct ak_buf small = AK_BUF_INIT(8);
    AK_ASSERT_EQ_INT(ak_buf_add_html(&small, "abcde&&&&"), AK_ETOOBIG);
    AK_ASSERT_STR(small.buf, "abcde");
    ak_buf_release(&small);
    ak_buf_release(&b);
}

AK_TEST_MAIN(AK_T(buf_add_html), AK_T(buf_grows_and_stays_terminated), AK_T(buf_cap_refuses_and_keeps_contents),
             AK_T(buf_addf_long), AK_T(err_keeps_first_message), AK_T(parse_u64),
             AK_T(parse_duration), AK_T(parse_size), AK_T(time_parse_forms), AK_T(time_format),
             AK_T(time_roundtrip_many), AK_T(strings))
