/* cfg_yaml.c — libyaml events to a small node tree that keeps every node's line and column.
 *
 * We use the event API rather than yaml_parser_load() so that we can refuse aliases (no
 * billion-laughs expansion), a second document and absurd nesting while still parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

void ak_cfg_node_free(struct ak_cfg_node *n)
{
    if (!n)
        return;
    /* Depth is capped at AK_CFG_MAX_DEPTH while building, so recursion is bounded. */
    for (size_t i = 0; i < n->n; i++)
        ak_cfg_node_free(n->kids[i]);
    free(n->kids);
    free(n->value);
    free(n);
}

bool ak_cfg_node_is_null(const struct ak_cfg_node *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

    if (!n)
        return true;
    if (n->kind != AK_CFG_NODE_SCALAR || !n->plain)
        return false;
    for (size_t i = 0; i < AK_ARRAY_SIZE(nulls); i++)
        if (strcmp(n->value, nulls[i]) == 0)
            return true;
    return false;
}

static struct ak_cfg_node *node_new(enum ak_cfg_node_kind kind, yaml_mark_t m, size_t base)
{
    struct ak_cfg_node *n = ak_xcalloc(1, sizeof(*n));

    n->kind = kind;
    n->line = m.line + 1 + base;
    n->col = m.column + 1;
    return n;
}

static void node_append(struct ak_cfg_node *parent, struct ak_cfg_node *kid)
{
    if (parent->n == parent->alloc) {
        size_t na = parent->alloc ? parent->alloc * 2 : 8;
        size_t bytes;

        AK_BUG_ON(ak_size_mul_overflow(na, sizeof(*parent->kids), &bytes));
        parent->kids = ak_xrealloc(parent->kids, bytes);
        parent->alloc = na;
    }
    parent->kids[parent->n++] = kid;
}

static void set_error(struct ak_cfg_yaml_error *e, yaml_mark_t m, size_t base, const char *msg)
{
    e->line = m.line + 1 + base;
    e->col = m.column + 1;
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
}

/* Reader errors (bad UTF-8, control bytes) carry a byte offset, not a mark: count lines. */
static void offset_to_mark(const char *s, size_t len, size_t off, yaml_mark_t *m)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < off && i < len; i++) {
        if (s[i] == '\n') {
            m->line++;
            m->column = 0;
        } else {
            m->column++;
        }
    }
}

static void parser_error(const yaml_parser_t *p, const char *yaml, size_t len, size_t base,
                         struct ak_cfg_yaml_error *e)
{
    char msg[sizeof(e->msg)];
    yaml_mark_t m = p->problem_mark;

    if (p->error == YAML_READER_ERROR)
        offset_to_mark(yaml, len, p->problem_offset, &m);
    if (p->context)
        snprintf(msg, sizeof(msg), "%s %s (line %zu column %zu)",
                 p->problem ? p->problem : "syntax error", p->context,
                 p->context_mark.line + 1 + base,
                 p->context_mark.column + 1);
    else
        snprintf(msg, sizeof(msg), "%s", p->problem ? p->problem : "syntax error");
    set_error(e, m, base, msg);
}

struct builder {
    struct ak_cfg_node *root;
    struct ak_cfg_node *stack[AK_CFG_MAX_DEPTH];
    size_t depth;
    int docs;
    size_t base; /* added to every line: the text starts at line base + 1 of its file */
};

static void attach(struct builder *b, struct ak_cfg_node *n)
{
    if (b->depth)
        node_append(b->stack[b->depth - 1], n);
    else
        b->root = n;
}

/* Handles one event. Returns 1 at stream end, 0 to go on, AK_ECONFIG with e filled. */
static int on_event(struct builder *b, const yaml_event_t *ev, struct ak_cfg_yaml_error *e)
{
    struct ak_cfg_node *n;

    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (b->docs++ > 0) {
            set_error(e, ev->start_mark, b->base, "only one YAML document is allowed");
            return AK_ECONFIG;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        set_error(e, ev->start_mark, b->base,
                  "aliases (*name) are not supported in the configuration");
        return AK_ECONFIG;
    case YAML_SCALAR_EVENT:
        n = node_new(AK_CFG_NODE_SCALAR, ev->start_mark, b->base);
        n->len = ev->data.scalar.length;
        /* Copy len bytes, NULs included ("\0" escapes), so the walker can refuse them. */
        n->value = ak_xmalloc(n->len + 1);
        memcpy(n->value, ev->data.scalar.value, n->len);
        n->value[n->len] = 0;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        attach(b, n);
        return 0;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (b->depth == AK_CFG_MAX_DEPTH) {
            set_error(e, ev->start_mark, b->base, "nesting is too deep");
            return AK_ECONFIG;
        }
        n = node_new(ev->type == YAML_MAPPING_START_EVENT ? AK_CFG_NODE_MAP : AK_CFG_NODE_SEQ,
                     ev->start_mark, b->base);
        attach(b, n);
        b->stack[b->depth++] = n;
        return 0;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        AK_BUG_ON(b->depth == 0);
        b->depth--;
        return 0;
    default:
        return 0;
    }
}

int ak_cfg_yaml_parse(const char *yaml, size_t len, struct ak_cfg_node **ret_root,
                      struct ak_cfg_yaml_error *e)
{
    return ak_cfg_yaml_parse_at(yaml, len, 1, ret_root, e);
}

int ak_cfg_yaml_parse_at(const char *yaml, size_t len, size_t first_line,
                         struct ak_cfg_node **ret_root, struct ak_cfg_yaml_error *e)
{
    yaml_parser_t p;
    yaml_event_t ev;
    struct builder b;
    int r = AK_ECONFIG;

    memset(&b, 0, sizeof(b));
    b.base = first_line > 1 ? first_line - 1 : 0;
    if (!yaml_parser_initialize(&p)) {
        snprintf(e->msg, sizeof(e->msg), "cannot initialise the YAML parser");
        e->line = e->col = 1;
        return AK_EINTERNAL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            parser_error(&p, yaml, len, b.base, e);
            r = AK_ECONFIG;
            goto out;
        }
        r = on_event(&b, &ev, e);
        yaml_event_delete(&ev);
        if (r < 0)
            goto out;
        if (r == 1)
            break;
    }
    *ret_root = b.root;
    b.root = NULL;
    r = AK_OK;
out:
    ak_cfg_node_free(b.root);
    yaml_parser_delete(&p);
    return r;
}
