/* route.c — the notification routing tree: built once from the configuration, then matched
 * against records from any thread (the tree is never modified after ak_route_build).
 *
 * Regexes are compiled once here, anchored as "^(" value ")$" (the cfg module has checked that
 * the value's parentheses balance, which makes this anchor the whole expression). A record's
 * tags arrive as JSON text; they are parsed at most once per match and only when a tag matcher
 * is reached. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_route.h"
#include "asakai/ak_util.h"
#include "../core/ak_banned.h"

#define ROUTE_DEPTH_MAX 16
#define SHOW_MAX 120 /* bytes of a record's value shown in an explanation */

struct rnode {
    struct ak_matchers m;  /* a copy: the default tree has matchers of its own */
    regex_t *re;           /* re[i] compiled when m.v[i] is =~ or !~ */
    size_t *recv;          /* indices into cfg->receivers */
    size_t n_recv;
    bool cont;
    struct rnode *kids;
    size_t n_kids;
    int line;
};

struct ak_route_tree {
    const struct ak_cfg *cfg;
    struct rnode root;
};

/* What one match call knows about the record. */
struct ctx {
    const struct ak_route_input *in;
    struct ak_json *tags;
    bool tags_parsed;
};

/* ---- building ---- */

static bool is_re(enum ak_match_op op)
{
    return op == AK_MATCH_RE || op == AK_MATCH_NRE;
}

static int compile(const char *value, regex_t *rx)
{
    char *anchored = ak_xasprintf("^(%s)$", value);
    int rc = regcomp(rx, anchored, REG_EXTENDED | REG_NOSUB);

    free(anchored);
    return rc;
}

static void rnode_release(struct rnode *n)
{
    for (size_t i = 0; n->re && i < n->m.n; i++)
        if (is_re(n->m.v[i].op))
            regfree(&n->re[i]);
    free(n->re);
    ak_matchers_release(&n->m);
    free(n->recv);
    /* depth is capped at ROUTE_DEPTH_MAX when building */
    for (size_t i = 0; i < n->n_kids; i++)
        rnode_release(&n->kids[i]);
    free(n->kids);
    memset(n, 0, sizeof(*n));
}

/* Copies src into n->m and compiles its regexes. */
static int set_matchers(struct rnode *n, const struct ak_matchers *src, struct ak_buf *err)
{
    n->m.v = ak_xcalloc(src->n ? src->n : 1, sizeof(*n->m.v));
    n->re = ak_xcalloc(src->n ? src->n : 1, sizeof(*n->re));
    for (size_t i = 0; i < src->n; i++) {
        const struct ak_matcher *s = &src->v[i];

        if (!s->field || !s->value)
            return ak_err(err, AK_ECONFIG, "route at line %d: matcher %zu is incomplete.",
                          n->line, i + 1);
        if (is_re(s->op) && compile(s->value, &n->re[i]) != 0)
            return ak_err(err, AK_ECONFIG,
                          "route at line %d: the regular expression for %s does not compile.",
                          n->line, s->field);
        n->m.v[i].field = ak_xstrdup(s->field);
        n->m.v[i].op = s->op;
        n->m.v[i].value = ak_xstrdup(s->value);
        n->m.n = i + 1;
    }
    return AK_OK;
}

static int set_receivers(struct rnode *n, const struct ak_cfg *cfg,
                         const struct ak_cfg_strlist *names, struct ak_buf *err)
{
    n->recv = ak_xcalloc(names->n ? names->n : 1, sizeof(*n->recv));
    for (size_t i = 0; i < names->n; i++) {
        size_t j;

        for (j = 0; j < cfg->n_receivers; j++)
            if (ak_streq(cfg->receivers[j].name, names->v[i]))
                break;
        if (j == cfg->n_receivers)
            return ak_err(err, AK_ECONFIG, "route at line %d: no receiver named \"%s\".",
                          n->line, names->v[i]);
        n->recv[n->n_recv++] = j;
    }
    return AK_OK;
}

static int build_node(struct rnode *n, const struct ak_cfg *cfg, const struct ak_cfg_route *r,
                      size_t depth, struct ak_buf *err)
{
    int rc;

    n->line = r->line;
    n->cont = r->cont;
    if (depth >= ROUTE_DEPTH_MAX)
        return ak_err(err, AK_ECONFIG, "route at line %d: routes nest deeper than %d levels.",
                      r->line, ROUTE_DEPTH_MAX);
    if (depth == 0 && r->match.n)
        return ak_err(err, AK_ECONFIG,
                      "route at line %d: the root route matches every record; it takes no "
                      "matchers.",
                      r->line);
    rc = set_matchers(n, &r->match, err);
    if (rc == AK_OK)
        rc = set_receivers(n, cfg, &r->receivers, err);
    if (rc < 0)
        return rc;
    n->kids = ak_xcalloc(r->n_routes ? r->n_routes : 1, sizeof(*n->kids));
    for (size_t i = 0; i < r->n_routes; i++) {
        n->n_kids = i + 1;
        rc = build_node(&n->kids[i], cfg, &r->routes[i], depth + 1, err);
        if (rc < 0)
            return rc;
    }
    return AK_OK;
}

static void add_kind(struct rnode *n, const struct ak_cfg *cfg, enum ak_receiver_kind kind)
{
    for (size_t i = 0; i < cfg->n_receivers; i++)
        if (cfg->receivers[i].kind == kind)
            n->recv[n->n_recv++] = i;
}

/* The team's rule: everything to every email and webhook receiver; importance=high also to every
 * slack receiver. */
static void build_default(struct rnode *root, const struct ak_cfg *cfg)
{
    struct ak_matchers high = {NULL, 0};
    size_t n_slack = 0;

    root->recv = ak_xcalloc(cfg->n_receivers ? cfg->n_receivers : 1, sizeof(*root->recv));
    add_kind(root, cfg, AK_RECV_EMAIL);
    add_kind(root, cfg, AK_RECV_WEBHOOK);
    for (size_t i = 0; i < cfg->n_receivers; i++)
        n_slack += cfg->receivers[i].kind == AK_RECV_SLACK;
    if (!n_slack)
        return;
    root->kids = ak_xcalloc(1, sizeof(*root->kids));
    root->n_kids = 1;
    AK_BUG_ON(ak_matchers_parse("importance=high", &high, NULL) != AK_OK);
    AK_BUG_ON(set_matchers(&root->kids[0], &high, NULL) != AK_OK);
    ak_matchers_release(&high);
    root->kids[0].recv = ak_xcalloc(n_slack, sizeof(*root->kids[0].recv));
    add_kind(&root->kids[0], cfg, AK_RECV_SLACK);
}

int ak_route_build(const struct ak_cfg *cfg, struct ak_route_tree **ret, struct ak_buf *err)
{
    struct ak_route_tree *t = NULL;
    int r;

    if (!cfg || !ret)
        return ak_err(err, AK_EINVAL, "no configuration given.");
    t = ak_xcalloc(1, sizeof(*t));
    t->cfg = cfg;
    if (cfg->route) {
        r = build_node(&t->root, cfg, cfg->route, 0, err);
        if (r < 0)
            goto out;
    } else {
        build_default(&t->root, cfg);
    }
    *ret = t;
    t = NULL;
    r = AK_OK;
out:
    ak_route_free(t);
    return r;
}

void ak_route_free(struct ak_route_tree *t)
{
    if (!t)
        return;
    rnode_release(&t->root);
    free(t);
}

/* ---- matching ---- */

static const char *tag_value(struct ctx *cx, const char *key)
{
    if (!cx->tags_parsed) {
        const char *text = cx->in->tags_json;

        cx->tags_parsed = true;
        if (text)
            cx->tags = ak_json_parse(text, strlen(text), NULL);
    }
    return ak_json_get_str(cx->tags, key); /* NULL unless an object holding a string */
}

/* The record's value of a single-valued field (NULL when unset or unknown). */
static const char *field_value(struct ctx *cx, const char *field)
{
    const struct ak_route_input *in = cx->in;

    if (strcmp(field, "service") == 0)
        return in->service;
    if (strcmp(field, "kind") == 0)
        return in->kind;
    if (strcmp(field, "status") == 0)
        return in->status;
    if (strcmp(field, "account") == 0)
        return in->account;
    if (strcmp(field, "region") == 0)
        return in->region;
    if (strcmp(field, "source") == 0)
        return in->source;
    if (strcmp(field, "event_code") == 0)
        return in->event_code;
    if (strcmp(field, "importance") == 0)
        return in->important ? "high" : "normal";
    if (ak_startswith(field, "tag."))
        return tag_value(cx, field + 4);
    return NULL;
}

/* = or =~ against one value (NULL never matches). */
static bool positive(const struct ak_matcher *m, const regex_t *re, const char *v)
{
    if (!v)
        return false;
    if (m->op == AK_MATCH_EQ || m->op == AK_MATCH_NE)
        return strcmp(v, m->value) == 0;
    return regexec(re, v, 0, NULL, 0) == 0;
}

static void add_shown(struct ak_buf *b, const char *s)
{
    size_t i;

    for (i = 0; s[i] && i < SHOW_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        ak_buf_addc(b, ch < ' ' || ch == 0x7f ? '?' : (char)ch);
    }
    if (s[i])
        ak_buf_add(b, "...");
}

/* Why m did not match, for explain: "importance is normal, wanted high". */
static void explain_miss(struct ak_buf *why, const struct ak_matcher *m, const char *v,
                         const char *hit)
{
    bool resource = strcmp(m->field, "resource") == 0;

    if (!why)
        return;
    if (resource && (m->op == AK_MATCH_EQ || m->op == AK_MATCH_RE)) {
        ak_buf_addf(why, "no resource %s ", m->op == AK_MATCH_EQ ? "is" : "matches");
        add_shown(why, m->value);
        return;
    }
    if (resource) {
        ak_buf_add(why, "resource ");
        add_shown(why, hit);
        ak_buf_add(why, m->op == AK_MATCH_NE ? " is present" : " matches ");
        if (m->op == AK_MATCH_NRE)
            add_shown(why, m->value);
        return;
    }
    ak_buf_addf(why, "%s ", m->field);
    if (!v) {
        ak_buf_add(why, "is not set");
    } else {
        ak_buf_add(why, "is ");
        add_shown(why, v);
    }
    switch (m->op) {
    case AK_MATCH_EQ:
        ak_buf_add(why, ", wanted ");
        break;
    case AK_MATCH_NE:
        ak_buf_add(why, ", wanted anything but ");
        break;
    case AK_MATCH_RE:
        ak_buf_add(why, ", wanted a match of ");
        break;
    case AK_MATCH_NRE:
        ak_buf_add(why, ", which matches ");
        break;
    }
    add_shown(why, m->value);
}

/* One matcher; on a miss appends the reason to why (may be NULL). */
static bool matcher_eval(struct ctx *cx, const struct ak_matcher *m, const regex_t *re,
                         struct ak_buf *why)
{
    bool negative = m->op == AK_MATCH_NE || m->op == AK_MATCH_NRE;
    const char *v = NULL, *hit = NULL;
    bool any;

    if (strcmp(m->field, "resource") == 0) {
        /* resource=x: some resource is x; resource!=x: none is */
        any = false;
        for (size_t i = 0; i < cx->in->n_resources && !any; i++) {
            any = positive(m, re, cx->in->resources[i]);
            if (any)
                hit = cx->in->resources[i];
        }
    } else {
        v = field_value(cx, m->field);
        any = positive(m, re, v);
    }
    if (any != negative)
        return true;
    explain_miss(why, m, v, hit);
    return false;
}

static bool node_matches(struct ctx *cx, const struct rnode *n, struct ak_buf *why)
{
    for (size_t i = 0; i < n->m.n; i++)
        if (!matcher_eval(cx, &n->m.v[i], &n->re[i], why))
            return false;
    return true;
}

struct walk {
    const struct ak_route_tree *t;
    struct ctx cx;
    bool *seen;
    const char **out;
    size_t n_out;
    struct ak_buf *explain;
};

static void explain_head(struct walk *w, const struct rnode *n, const char *path)
{
    char *m;

    ak_buf_addf(w->explain, "route %s", path);
    if (n->m.n) {
        m = ak_matchers_format(&n->m);
        ak_buf_addf(w->explain, " {%s}", m);
        free(m);
    }
    ak_buf_add(w->explain, ": ");
}

static void take(struct walk *w, const struct rnode *n, const char *path)
{
    const struct ak_cfg_receiver *recv = w->t->cfg->receivers;

    if (w->explain) {
        explain_head(w, n, path);
        ak_buf_add(w->explain, n->n_recv ? "matched ->" : "matched (no receivers)");
        for (size_t i = 0; i < n->n_recv; i++)
            ak_buf_addf(w->explain, "%s %s", i ? "," : "", recv[n->recv[i]].name);
        ak_buf_addc(w->explain, '\n');
    }
    for (size_t i = 0; i < n->n_recv; i++) {
        if (w->seen[n->recv[i]])
            continue;
        w->seen[n->recv[i]] = true;
        w->out[w->n_out++] = recv[n->recv[i]].name;
    }
}

/* n has matched: take its receivers, then try its children in order. */
static void visit(struct walk *w, const struct rnode *n, const char *path)
{
    const char *stopped_by = NULL;
    char *stop_path = NULL;

    take(w, n, path);
    for (size_t i = 0; i < n->n_kids; i++) {
        const struct rnode *k = &n->kids[i];
        char *kpath = ak_xasprintf("%s/routes/%zu", strcmp(path, "/") ? path : "", i);
        struct ak_buf why = AK_BUF_INIT(AK_BUF_NOMAX);

        if (stopped_by) {
            if (w->explain) {
                explain_head(w, k, kpath);
                ak_buf_addf(w->explain, "not tried (%s matched and does not continue)\n",
                            stopped_by);
            }
        } else if (node_matches(&w->cx, k, w->explain ? &why : NULL)) {
            visit(w, k, kpath);
            if (!k->cont) {
                stop_path = ak_xstrdup(kpath);
                stopped_by = stop_path;
            }
        } else if (w->explain) {
            explain_head(w, k, kpath);
            ak_buf_addf(w->explain, "not matched (%s)\n", why.buf);
        }
        ak_buf_release(&why);
        free(kpath);
    }
    free(stop_path);
}

int ak_route_match(const struct ak_route_tree *t, const struct ak_route_input *in,
                   const char ***ret_receivers, size_t *ret_n, struct ak_buf *explain)
{
    size_t n = t && t->cfg->n_receivers ? t->cfg->n_receivers : 1;
    struct walk w;

    if (!t || !in || !ret_receivers || !ret_n)
        return AK_EINVAL;
    memset(&w, 0, sizeof(w));
    w.t = t;
    w.cx.in = in;
    w.explain = explain;
    w.seen = ak_xcalloc(n, sizeof(*w.seen));
    w.out = ak_xcalloc(n, sizeof(*w.out));
    visit(&w, &t->root, "/");
    ak_json_free(w.cx.tags);
    free(w.seen);
    if (!w.n_out) {
        free(w.out);
        w.out = NULL;
    }
    *ret_receivers = w.out;
    *ret_n = w.n_out;
    return AK_OK;
}

bool ak_route_matchers_match(const struct ak_matchers *m, const struct ak_route_input *in)
{
    struct ctx cx = {in, NULL, false};
    bool ok = true;

    if (!m || !in)
        return false;
    for (size_t i = 0; i < m->n && ok; i++) {
        const struct ak_matcher *x = &m->v[i];
        regex_t rx;

        if (!x->field || !x->value) {
            ok = false;
        } else if (!is_re(x->op)) {
            ok = matcher_eval(&cx, x, NULL, NULL);
        } else if (compile(x->value, &rx) != 0) {
            ok = false; /* a broken silence silences nothing */
        } else {
            ok = matcher_eval(&cx, x, &rx, NULL);
            regfree(&rx);
        }
    }
    ak_json_free(cx.tags);
    return ok;
}
