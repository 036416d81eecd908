/* test_xml.c — the bounded XML reader: trees, lists, entities, CDATA, namespaces, refusals
 * (DOCTYPE, billion laughs, external entities, NUL), caps and error positions. */
#include "ak_test.h"

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "asakai/ak_xml.h"

static int parse(const char *s, struct ak_xml_node **root, struct ak_buf *err)
{
    return ak_xml_parse(s, strlen(s), root, err);
}

AK_TEST(nested_lists)
{
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<DescribeInstanceStatusResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
        "  <requestId>r-1</requestId>\n"
        "  <instanceStatusSet>\n"
        "    <item><instanceId>i-1</instanceId><eventsSet>\n"
        "      <item><code>system-reboot</code></item>\n"
        "      <item><code>instance-stop</code></item>\n"
        "    </eventsSet></item>\n"
        "    <item><instanceId>i-2</instanceId><eventsSet/></item>\n"
        "  </instanceStatusSet>\n"
        "  <nextToken>tok</nextToken>\n"
        "</DescribeInstanceStatusResponse>\n";
    struct ak_xml_node *root = NULL;
    const struct ak_xml_node *set, *it, *ev;
    const char *ids[2] = {0};
    size_t n = 0, events = 0;

    AK_ASSERT_OK(parse(doc, &root, NULL));
    AK_ASSERT_STR(root->name, "DescribeInstanceStatusResponse");
    AK_ASSERT_NULL(root->parent);
    AK_ASSERT_STR(root->text, "");
    AK_ASSERT_STR(ak_xml_get(root, "requestId"), "r-1");
    AK_ASSERT_STR(ak_xml_get(root, "nextToken"), "tok");
    set = ak_xml_child(root, "instanceStatusSet");
    AK_ASSERT(set && set->parent == root);
    for (it = ak_xml_child(set, "item"); it; it = ak_xml_next(it)) {
        AK_ASSERT(n < 2);
        ids[n++] = ak_xml_get(it, "instanceId");
        for (ev = ak_xml_path(it, "eventsSet/item"); ev; ev = ak_xml_next(ev))
            events++;
    }
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_STR(ids[0], "i-1");
    AK_ASSERT_STR(ids[1], "i-2");
    AK_ASSERT_EQ_INT(events, 2);
    ev = ak_xml_path(set, "item/eventsSet/item");
    AK_ASSERT_STR(ak_xml_get(ev, "code"), "system-reboot");
    AK_ASSERT_STR(ak_xml_get(ak_xml_next(ev), "code"), "instance-stop");
    AK_ASSERT_NULL(ak_xml_next(ak_xml_next(ev)));
    /* an empty element reads "", a missing one NULL */
    AK_ASSERT_STR(ak_xml_get(ak_xml_next(ak_xml_child(set, "item")), "eventsSet"), "");
    AK_ASSERT_NULL(ak_xml_get(root, "instanceStatusSet/item/nope"));
    AK_ASSERT_NULL(ak_xml_path(root, "nope/item"));
    AK_ASSERT(ak_xml_child(root, NULL) == ak_xml_child(root, "requestId"));
    AK_ASSERT_NULL(ak_xml_child(NULL, "x"));
    AK_ASSERT_NULL(ak_xml_next(NULL));
    ak_xml_free(root);
    ak_xml_free(NULL);
}

AK_TEST(next_skips_other_names)
{
    struct ak_xml_node *root = NULL;
    const struct ak_xml_node *a;

    AK_ASSERT_OK(parse("<r><a>1</a><b>x</b><a>2</a><c/><a>3</a></r>", &root, NULL));
    a = ak_xml_child(root, "a");
    AK_ASSERT_STR(a->text, "1");
    AK_ASSERT_STR(ak_xml_next(a)->text, "2");
    AK_ASSERT_STR(ak_xml_next(ak_xml_next(a))->text, "3");
    AK_ASSERT_STR(ak_xml_child(root, "b")->next->name, "a");
    ak_xml_free(root);
}

AK_TEST(entities_and_char_refs)
{
    struct ak_xml_node *root = NULL;

    AK_ASSERT_OK(parse("<m>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;&#x41;</m>", &root,
                       NULL));
    AK_ASSERT_STR(root->text, "a <b> & \"c\" 'd' \xc3\xa9" "A");
    AK_ASSERT_EQ_INT(root->text_len, strlen(root->text));
    ak_xml_free(root);
}

AK_TEST(cdata_and_own_text_trimmed)
{
    struct ak_xml_node *root = NULL;

    AK_ASSERT_OK(parse("<r>\n  head <![CDATA[<not> &a tag]]>\n  <c> inner </c> tail\t\r\n</r>",
                       &root, NULL));
    /* own text only: the child's " inner " is not part of it; ends are trimmed */
    AK_ASSERT_STR(root->text, "head <not> &a tag\n   tail");
    AK_ASSERT_STR(ak_xml_get(root, "c"), "inner");
    AK_ASSERT_EQ_INT(ak_xml_child(root, "c")->text_len, 5);
    ak_xml_free(root);
}

AK_TEST(namespaces_give_local_names)
{
    struct ak_xml_node *root = NULL;

    AK_ASSERT_OK(parse("<a:Envelope xmlns:a=\"urn:x\" xmlns=\"urn:d\"><a:Body><Code>X</Code>"
                       "<b:Code xmlns:b=\"urn:b\">Y</b:Code></a:Body></a:Envelope>",
                       &root, NULL));
    AK_ASSERT_STR(root->name, "Envelope");
    AK_ASSERT_STR(ak_xml_get(root, "Body/Code"), "X");
    AK_ASSERT_STR(ak_xml_next(ak_xml_path(root, "Body/Code"))->text, "Y");
    ak_xml_free(root);
}

static void expect_refused(const char *doc, int code, const char *msg)
{
    struct ak_xml_node *root = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = parse(doc, &root, &err);

    if (r != code || root || !strstr(err.buf, msg)) {
        printf("# r=%d err=%s (want %d, \"%s\")\n", r, err.buf, code, msg);
        ak_test_failed_ = 1;
    }
    ak_xml_free(root);
    ak_buf_release(&err);
}

AK_TEST(doctype_and_billion_laughs_refused)
{
    expect_refused("<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                   "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                   "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
                   "<lolz>&lol3;</lolz>",
                   AK_EINVAL, "line 1, column 16: a DOCTYPE is not accepted");
    expect_refused("<?xml version=\"1.0\"?>\n<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>",
                   AK_EINVAL, "line 2, column ");
    expect_refused("<!DOCTYPE r><r/>", AK_EINVAL, "DOCTYPE");
    /* without a DTD no entity but the five predefined exists */
    expect_refused("<r>&xxe;</r>", AK_EINVAL, "line 1, column 4: undefined entity");
}

AK_TEST(nul_refused)
{
    struct ak_xml_node *root = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    static const char raw[] = "<r>a\0b</r>";

    expect_refused("<r>&#0;</r>", AK_EINVAL, "line 1, column 4: reference to invalid character");
    expect_refused("<r>&#x0;</r>", AK_EINVAL, "invalid character");
    AK_ASSERT_EQ_INT(ak_xml_parse(raw, sizeof(raw) - 1, &root, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "line 1, column 5:");
    AK_ASSERT_NULL(root);
    ak_buf_release(&err);
}

AK_TEST(malformed_with_position)
{
    expect_refused("<a>\n  <b>x</c>\n</a>", AK_EINVAL, "line 2, column 9: mismatched tag");
    expect_refused("", AK_EINVAL, "line 1, column 1: no element found");
    expect_refused("<a/><b/>", AK_EINVAL, "line 1, column 5: junk after document element");
    expect_refused("<a>", AK_EINVAL, "no element found");
    expect_refused("<a x=1/>", AK_EINVAL, "line 1, column 6: not well-formed");
    expect_refused("<u:a>x</u:a>", AK_EINVAL, "unbound prefix");
    expect_refused("<r>\xff\xfe</r>", AK_EINVAL, "not well-formed");
}

AK_TEST(not_nul_terminated_input)
{
    struct ak_xml_node *root = NULL;
    char buf[16];

    memcpy(buf, "<a>xy</a>GARBAGE", 16);
    AK_ASSERT_OK(ak_xml_parse(buf, 9, &root, NULL));
    AK_ASSERT_STR(root->text, "xy");
    ak_xml_free(root);
}

AK_TEST(depth_cap)
{
    struct ak_buf doc = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_xml_node *root = NULL;
    const struct ak_xml_node *n;
    int depth = 0;

    for (int i = 0; i < AK_XML_MAX_DEPTH; i++)
        ak_buf_add(&doc, "<d>");
    for (int i = 0; i < AK_XML_MAX_DEPTH; i++)
        ak_buf_add(&doc, "</d>");
    AK_ASSERT_OK(ak_xml_parse(doc.buf, doc.len, &root, &err));
    for (n = root; n; n = n->child)
        depth++;
    AK_ASSERT_EQ_INT(depth, AK_XML_MAX_DEPTH);
    ak_xml_free(root);
    root = NULL;

    ak_buf_reset(&doc);
    for (int i = 0; i <= AK_XML_MAX_DEPTH; i++)
        ak_buf_add(&doc, "<d>");
    for (int i = 0; i <= AK_XML_MAX_DEPTH; i++)
        ak_buf_add(&doc, "</d>");
    AK_ASSERT_EQ_INT(ak_xml_parse(doc.buf, doc.len, &root, &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "line 1, column 193: elements nested deeper than the limit");
    AK_ASSERT_NULL(root);
    ak_buf_release(&doc);
    ak_buf_release(&err);
}

AK_TEST(node_and_size_caps)
{
    struct ak_buf doc = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_xml_node *root = NULL;
    size_t n = 0;

    ak_buf_add(&doc, "<r>");
    for (int i = 0; i < AK_XML_MAX_NODES - 1; i++)
        ak_buf_add(&doc, "<i/>");
    ak_buf_add(&doc, "</r>");
    AK_ASSERT_OK(ak_xml_parse(doc.buf, doc.len, &root, &err));
    for (const struct ak_xml_node *c = root->child; c; c = c->next)
        n++;
    AK_ASSERT_EQ_INT(n, AK_XML_MAX_NODES - 1);
    ak_xml_free(root);
    root = NULL;

    doc.len -= 4;
    ak_buf_add(&doc, "<i/></r>");
    AK_ASSERT_EQ_INT(ak_xml_parse(doc.buf, doc.len, &root, &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "more elements than the limit");
    AK_ASSERT_NULL(root);

    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_xml_parse(doc.buf, (size_t)AK_XML_MAX + 1, &root, &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "over the 16777216-byte limit");
    ak_buf_release(&doc);
    ak_buf_release(&err);
}

AK_TEST(large_text_in_pieces)
{
    struct ak_buf doc = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_xml_node *root = NULL;

    ak_buf_add(&doc, "<r>");
    for (int i = 0; i < 20000; i++)
        ak_buf_add(&doc, "abcdefghij&amp;");
    ak_buf_add(&doc, "</r>");
    AK_ASSERT_OK(ak_xml_parse(doc.buf, doc.len, &root, NULL));
    AK_ASSERT_EQ_INT(root->text_len, 20000 * 11);
    AK_ASSERT_EQ_INT(strlen(root->text), 20000 * 11);
    AK_ASSERT(memcmp(root->text + 11 * 19999, "abcdefghij&", 11) == 0);
    ak_xml_free(root);
    ak_buf_release(&doc);
}

AK_TEST_MAIN(AK_T(nested_lists), AK_T(next_skips_other_names), AK_T(entities_and_char_refs),
             AK_T(cdata_and_own_text_trimmed), AK_T(namespaces_give_local_names),
             AK_T(doctype_and_billion_laughs_refused), AK_T(nul_refused),
             AK_T(malformed_with_position), AK_T(not_nul_terminated_input), AK_T(depth_cap),
             AK_T(node_and_size_caps), AK_T(large_text_in_pieces))
