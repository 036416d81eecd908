/* Unit tests for src/json. */
#include "ak_test.h"

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"

AK_TEST(parse_and_read)
{
    const char *t = "{\"a\":\"x\\ny\",\"n\":42,\"r\":1.5,\"b\":true,\"z\":null,\"l\":[1,2,3]}";
    struct ak_buf e = AK_BUF_INIT(256);
    struct ak_json *j = ak_json_parse(t, strlen(t), &e);
    AK_ASSERT(j);
    AK_ASSERT_STR(ak_json_get_str(j, "a"), "x\ny");
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(j, "n")), 42);
    AK_ASSERT(ak_json_num(ak_json_get(j, "r")) == 1.5);
    AK_ASSERT(ak_json_bool(ak_json_get(j, "b")));
    AK_ASSERT(ak_json_is_null(ak_json_get(j, "z")));
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(j, "l")), 3);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_at(ak_json_get(j, "l"), 2)), 3);
    AK_ASSERT_NULL(ak_json_get_str(j, "n"));
    AK_ASSERT_NULL(ak_json_get(j, "missing"));
    int keys = 0;
    for (void *it = ak_json_iter(j); it; it = ak_json_iter_next(j, it))
        keys++;
    AK_ASSERT_EQ_INT(keys, 6);
    ak_json_free(j);
    ak_buf_release(&e);
}

AK_TEST(parse_errors_name_position)
{
    struct ak_buf e = AK_BUF_INIT(256);
    const char *t = "{\n  \"a\": 1,\n  \"b\": }";
    AK_ASSERT_NULL(ak_json_parse(t, strlen(t), &e));
    AK_ASSERT_CONTAINS(e.buf, "line 3");
    ak_buf_reset(&e);
    AK_ASSERT_NULL(ak_json_parse("{\"a\":1,\"a\":2}", 13, &e));
    AK_ASSERT_CONTAINS(e.buf, "duplicate");
    ak_buf_reset(&e);
    AK_ASSERT_NULL(ak_json_parse("{} x", 4, &e));
    ak_buf_reset(&e);
    AK_ASSERT_NULL(ak_json_parse("\"a\\u0000b\"", 10, &e));
    ak_buf_reset(&e);
    AK_ASSERT_NULL(ak_json_parse("{\"a\":1\0}", 8, &e));
    AK_ASSERT_CONTAINS(e.buf, "NUL byte");
    ak_buf_release(&e);
}

AK_TEST(depth_limit)
{
    char t[400];
    int n = 100;
    for (int i = 0; i < n; i++)
        t[i] = '[';
    for (int i = 0; i < n; i++)
        t[n + i] = ']';
    struct ak_buf e = AK_BUF_INIT(256);
    AK_ASSERT_NULL(ak_json_parse(t, 2 * (size_t)n, &e));
    AK_ASSERT_CONTAINS(e.buf, "deeper");
    n = 10;
    for (int i = 0; i < n; i++)
        t[i] = '[';
    for (int i = 0; i < n; i++)
        t[n + i] = ']';
    struct ak_json *j = ak_json_parse(t, 2 * (size_t)n, NULL);
    AK_ASSERT(j);
    ak_json_free(j);
    ak_buf_release(&e);
}

AK_TEST(prefix_parse_ndjson)
{
    const char *t = "{\"a\":1}\n{\"a\":2}\n";
    size_t used = 0;
    struct ak_json *j = ak_json_parse_prefix(t, strlen(t), &used, NULL);
    AK_ASSERT(j);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(j, "a")), 1);
    AK_ASSERT_EQ_INT(used, 7);
    ak_json_free(j);
}

AK_TEST(build_and_dump)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_str(o, "s", "a\"b");
    ak_json_set_int(o, "i", -5);
    ak_json_set_time(o, "t", 1561561200000LL);
    ak_json_set_time(o, "u", 0);
    ak_json_set_str(o, "n", NULL);
    struct ak_json *a = ak_json_new_arr();
    ak_json_append(a, ak_json_new_str("x"));
    ak_json_set(o, "a", a);
    char *d = ak_json_dump(o, AK_JSON_COMPACT);
    AK_ASSERT_STR(d, "{\"s\":\"a\\\"b\",\"i\":-5,\"t\":\"2019-06-26T15:00:00Z\",\"u\":null,"
                     "\"n\":null,\"a\":[\"x\"]}");
    free(d);
    AK_ASSERT_EQ_INT(ak_json_append(o, ak_json_new_int(1)), AK_EINVAL);
    ak_json_free(o);
}

AK_TEST(invalid_utf8_is_replaced_not_lost)
{
    struct ak_json *s = ak_json_new_strn("ok\xff!", 4);
    AK_ASSERT_STR(ak_json_str(s), "ok\xef\xbf\xbd!");
    ak_json_free(s);
    /* a name cut in its last character keeps the characters before it */
    s = ak_json_new_strn("\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4", 8);
    AK_ASSERT_STR(ak_json_str(s), "\xe5\xb1\xb1\xe7\x94\xb0\xef\xbf\xbd\xef\xbf\xbd");
    ak_json_free(s);
    s = ak_json_new_strn("\xc0\xaf", 2); /* overlong '/' */
    AK_ASSERT_STR(ak_json_str(s), "\xef\xbf\xbd\xef\xbf\xbd");
    ak_json_free(s);
    struct ak_buf b = AK_BUF_INIT(100);
    AK_ASSERT_OK(ak_json_quote(&b, "q\"\n"));
    AK_ASSERT_STR(b.buf, "\"q\\\"\\n\"");
    ak_buf_release(&b);
}

AK_TEST_MAIN(AK_T(parse_and_read), AK_T(parse_errors_name_position), AK_T(depth_limit),
             AK_T(prefix_parse_ndjson), AK_T(build_and_dump), AK_T(invalid_utf8_is_replaced_not_lost))
