/* fuzz_xml.c — libFuzzer target for ak_xml_parse and the tree accessors: any response body an
 * AWS query/EC2 endpoint (or whatever answers in its place) may send. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the whole tree checking the contract of every node; returns the element count. */
static size_t walk(const struct ak_xml_node *n, size_t depth)
{
    size_t count = 0;

    for (; n; n = n->next) {
        if (depth >= AK_XML_MAX_DEPTH || !n->name || !n->text || strlen(n->text) != n->text_len)
            abort();
        if (n->child && n->child->parent != n)
            abort();
        if (ak_xml_next(n) && strcmp(ak_xml_next(n)->name, n->name) != 0)
            abort();
        count += 1 + walk(n->child, depth + 1);
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_xml_node *root = NULL;

    if (size > 256 * 1024)
        return 0;
    if (ak_xml_parse((const char *)data, size, &root, &err) == 0) {
        if (err.len || root->parent || root->next || walk(root, 0) > AK_XML_MAX_NODES)
            abort();
        (void)ak_xml_get(root, "Errors/Error/Code");
        ak_xml_free(root);
    } else if (err.len == 0 || root) {
        abort();
    }
    ak_buf_release(&err);
    return 0;
}
