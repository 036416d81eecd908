/* ak_xml.h — a small, bounded XML reader (src/xml/; the only door to libexpat).
 *
 * AWS query-protocol APIs (EC2, RDS, ElastiCache, STS) answer in XML. ak_xml_parse turns one
 * document into a read-only element tree; the accessors below walk it. Library-like: never
 * logs, no global state, safe from any thread (one tree per caller).
 *
 * Safety: a document with a DOCTYPE (internal subset, entity declarations: "billion laughs",
 * external entities) is refused; only the five predefined entities and character references
 * are decoded. Caps: AK_XML_MAX bytes of input, AK_XML_MAX_DEPTH element nesting,
 * AK_XML_MAX_NODES elements. Namespaces: element names are local names ("ns:Foo" and
 * "{uri}Foo" both read as "Foo"); attributes are not kept (AWS puts no data in them).
 */
#ifndef AK_XML_H
#define AK_XML_H

#include <stddef.h>

struct ak_buf;

#define AK_XML_MAX (16u * 1024 * 1024)
#define AK_XML_MAX_DEPTH 64
#define AK_XML_MAX_NODES 500000

struct ak_xml_node {
    const char *name;             /* local name, never NULL */
    const char *text;             /* this element's own character data (children's text not
                                     included), leading/trailing XML whitespace trimmed; "" when
                                     none; never NULL */
    size_t text_len;              /* strlen(text): text is NUL-terminated and has no NUL inside
                                     (a reference to U+0000 is refused) */
    struct ak_xml_node *parent;   /* NULL for the root */
    struct ak_xml_node *child;    /* first child element, NULL when none */
    struct ak_xml_node *next;     /* next sibling element, NULL when last */
};

/* Parses xml (len bytes, need not be NUL-terminated). On success *ret is the root element; the
 * whole tree is one allocation owner: free it with ak_xml_free. AK_EINVAL with
 * "line L, column C: reason" in err for malformed XML, a DOCTYPE, a character reference to NUL;
 * AK_ETOOBIG over AK_XML_MAX bytes, AK_XML_MAX_DEPTH levels or AK_XML_MAX_NODES elements. */
int ak_xml_parse(const char *xml, size_t len, struct ak_xml_node **ret, struct ak_buf *err);
void ak_xml_free(struct ak_xml_node *root); /* NULL-safe */

/* The first child element of n named name (name NULL: the first child); NULL when none or n is
 * NULL. */
const struct ak_xml_node *ak_xml_child(const struct ak_xml_node *n, const char *name);
/* The next sibling of n with n's own name; NULL when none. Iterate a list:
 *   for (c = ak_xml_child(set, "item"); c; c = ak_xml_next(c)) ... */
const struct ak_xml_node *ak_xml_next(const struct ak_xml_node *n);
/* Follows a '/'-separated path of child names from n ("Error/Code"); NULL when any step is
 * missing. ak_xml_get: the text at path, NULL when missing (an empty element gives ""). */
const struct ak_xml_node *ak_xml_path(const struct ak_xml_node *n, const char *path);
const char *ak_xml_get(const struct ak_xml_node *n, const char *path);

#endif
