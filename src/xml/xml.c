/* xml.c — a bounded XML reader on libexpat: one document -> a read-only element tree.
 *
 * The tree lives in one arena owned by a hidden header in front of the root node, so
 * ak_xml_free(root) releases everything at once. Reference: include/asakai/ak_xml.h. */
#include "asakai/ak_xml.h"

#include <expat.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "../core/ak_banned.h"

/* Expat joins a namespace URI and a local name with this byte; it cannot occur in a well-formed
 * document (not an XML character), so the local name is whatever follows its last copy. */
#define NS_SEP '\x01'
#define CHUNK_MIN (64 * 1024)
#define ALIGN alignof(struct ak_xml_node)

struct chunk {
    struct chunk *next;
    size_t used, cap;
    struct ak_xml_node pad[]; /* the data area, aligned for nodes */
};

struct xml_doc {
    struct chunk *chunks;
    struct ak_xml_node root;
};

struct xml_state {
    XML_Parser p;
    struct xml_doc *doc;
    struct ak_xml_node *open[AK_XML_MAX_DEPTH]; /* the open elements, root first */
    struct ak_xml_node *last[AK_XML_MAX_DEPTH]; /* their last child so far */
    struct ak_buf text[AK_XML_MAX_DEPTH];       /* their own character data so far */
    size_t depth;
    size_t nodes;
    int r;                  /* a refusal of ours (stops the parser), AK_OK otherwise */
    const char *why;
    unsigned long line, col;
};

static void *arena_alloc(struct xml_doc *d, size_t n)
{
    struct chunk *c = d->chunks;
    void *p;

    n = (n + ALIGN - 1) / ALIGN * ALIGN;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        c = ak_xmalloc(sizeof(*c) + cap);
        c->used = 0;
        c->cap = cap;
        c->next = d->chunks;
        d->chunks = c;
    }
    p = (char *)c->pad + c->used;
    c->used += n;
    return p;
}

static const char *arena_strndup(struct xml_doc *d, const char *s, size_t n)
{
    char *p;

    if (n == 0)
        return "";
    p = arena_alloc(d, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* Stops the parser with our own reason; the position is that of the current event. */
static void refuse(struct xml_state *st, int r, const char *why)
{
    if (st->r)
        return;
    st->r = r;
    st->why = why;
    st->line = (unsigned long)XML_GetCurrentLineNumber(st->p);
    st->col = (unsigned long)XML_GetCurrentColumnNumber(st->p) + 1;
    XML_StopParser(st->p, XML_FALSE);
}

static const char *local_name(const char *name)
{
    const char *p = strrchr(name, NS_SEP);
    return p ? p + 1 : name;
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_state *st = arg;
    struct ak_xml_node *n;
    const char *ln = local_name(name);

    (void)attrs;
    if (st->r)
        return;
    if (st->depth >= AK_XML_MAX_DEPTH) {
        refuse(st, AK_ETOOBIG, "elements nested deeper than the limit");
        return;
    }
    if (st->nodes >= AK_XML_MAX_NODES) {
        refuse(st, AK_ETOOBIG, "more elements than the limit");
        return;
    }
    if (st->depth == 0) {
        n = &st->doc->root;
    } else {
        struct ak_xml_node *parent = st->open[st->depth - 1];
        n = arena_alloc(st->doc, sizeof(*n));
        memset(n, 0, sizeof(*n));
        n->parent = parent;
        if (st->last[st->depth - 1])
            st->last[st->depth - 1]->next = n;
        else
            parent->child = n;
        st->last[st->depth - 1] = n;
    }
    n->name = arena_strndup(st->doc, ln, strlen(ln));
    n->text = "";
    st->open[st->depth] = n;
    st->last[st->depth] = NULL;
    ak_buf_reset(&st->text[st->depth]);
    st->depth++;
    st->nodes++;
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
    struct xml_state *st = arg;
    struct ak_buf *b;
    size_t s = 0, e;

    (void)name;
    if (st->r || st->depth == 0)
        return;
    st->depth--;
    b = &st->text[st->depth];
    e = b->len;
    while (s < e && xml_space(b->buf[s]))
        s++;
    while (e > s && xml_space(b->buf[e - 1]))
        e--;
    st->open[st->depth]->text = arena_strndup(st->doc, b->buf + s, e - s);
    st->open[st->depth]->text_len = e - s;
    ak_buf_reset(b);
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
    struct xml_state *st = arg;

    if (st->r || st->depth == 0 || len <= 0)
        return;
    /* expat refuses &#0; and raw NUL bytes already; this keeps the contract on its own */
    if (memchr(s, 0, (size_t)len)) {
        refuse(st, AK_EINVAL, "a NUL character in the text");
        return;
    }
    if (ak_buf_addn(&st->text[st->depth - 1], s, (size_t)len) < 0)
        refuse(st, AK_ETOOBIG, "text larger than the limit");
}

static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    refuse(arg, AK_EINVAL, "a DOCTYPE is not accepted");
}

static void XMLCALL on_entity_decl(void *arg, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    refuse(arg, AK_EINVAL, "an entity declaration is not accepted");
}

static int XMLCALL on_external(XML_Parser p, const XML_Char *context, const XML_Char *base,
                               const XML_Char *sysid, const XML_Char *pubid)
{
    (void)p;
    (void)context;
    (void)base;
    (void)sysid;
    (void)pubid;
    return XML_STATUS_ERROR; /* never fetch or read anything */
}

static void state_init(struct xml_state *st, XML_Parser p, struct xml_doc *doc)
{
    memset(st, 0, sizeof(*st));
    st->p = p;
    st->doc = doc;
    for (size_t i = 0; i < AK_XML_MAX_DEPTH; i++)
        ak_buf_init(&st->text[i], AK_XML_MAX);
    XML_SetUserData(p, st);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetEntityDeclHandler(p, on_entity_decl);
    XML_SetExternalEntityRefHandler(p, on_external);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
}

static void doc_free(struct xml_doc *d)
{
    struct chunk *c, *next;

    if (!d)
        return;
    for (c = d->chunks; c; c = next) {
        next = c->next;
        free(c);
    }
    free(d);
}

int ak_xml_parse(const char *xml, size_t len, struct ak_xml_node **ret, struct ak_buf *err)
{
    struct xml_state *st = NULL;
    struct xml_doc *doc = NULL;
    XML_Parser p = NULL;
    int r = AK_OK;

    if (len > AK_XML_MAX)
        return ak_err(err, AK_ETOOBIG, "The XML document is %zu bytes, over the %u-byte limit.",
                      len, AK_XML_MAX);
    p = XML_ParserCreateNS("UTF-8", NS_SEP);
    if (!p) {
        r = ak_err(err, AK_EINTERNAL, "The XML parser could not be created.");
        goto out;
    }
    doc = ak_xcalloc(1, sizeof(*doc));
    st = ak_xmalloc(sizeof(*st));
    state_init(st, p, doc);
    if (XML_Parse(p, len ? xml : "", (int)len, XML_TRUE) != XML_STATUS_OK || st->r) {
        if (st->r)
            r = ak_err(err, st->r, "line %lu, column %lu: %s", st->line, st->col, st->why);
        else
            r = ak_err(err, AK_EINVAL, "line %lu, column %lu: %s",
                       (unsigned long)XML_GetCurrentLineNumber(p),
                       (unsigned long)XML_GetCurrentColumnNumber(p) + 1,
                       XML_ErrorString(XML_GetErrorCode(p)));
        goto out;
    }
    *ret = &doc->root;
    doc = NULL;
out:
    if (st)
        for (size_t i = 0; i < AK_XML_MAX_DEPTH; i++)
            ak_buf_release(&st->text[i]);
    free(st);
    doc_free(doc);
    if (p)
        XML_ParserFree(p);
    return r;
}

void ak_xml_free(struct ak_xml_node *root)
{
    if (root)
        doc_free((struct xml_doc *)((char *)root - offsetof(struct xml_doc, root)));
}

static const struct ak_xml_node *child_n(const struct ak_xml_node *n, const char *name,
                                         size_t len)
{
    for (const struct ak_xml_node *c = n ? n->child : NULL; c; c = c->next)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

const struct ak_xml_node *ak_xml_child(const struct ak_xml_node *n, const char *name)
{
    if (!n)
        return NULL;
    if (!name)
        return n->child;
    return child_n(n, name, strlen(name));
}

const struct ak_xml_node *ak_xml_next(const struct ak_xml_node *n)
{
    const struct ak_xml_node *s;

    if (!n)
        return NULL;
    for (s = n->next; s; s = s->next)
        if (strcmp(s->name, n->name) == 0)
            return s;
    return NULL;
}

const struct ak_xml_node *ak_xml_path(const struct ak_xml_node *n, const char *path)
{
    const char *p = path, *slash;

    if (!path)
        return NULL;
    while (n && *p) {
        slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        n = child_n(n, p, len);
        p += len;
        if (*p == '/')
            p++;
    }
    return n;
}

const char *ak_xml_get(const struct ak_xml_node *n, const char *path)
{
    const struct ak_xml_node *c = ak_xml_path(n, path);
    return c ? c->text : NULL;
}
