/* policy.c — trust-policy parsing: the JSON document → struct ak_iam_policy.
 *
 * jansson already refuses duplicate keys but says only "line L, column C". IAM silently keeps
 * the last of two equal keys (a dropped condition, govuk-infrastructure#879), so the message has
 * to say WHERE in policy terms. A small scanner below re-reads the text when the strict parse
 * fails, to find the JSON path of every duplicate and the byte span of the member IAM drops;
 * the audit uses the spans for a tolerant pass that sees what IAM sees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_iam.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "iam_int.h"
#include "../core/ak_banned.h"

#define STMT_MAX 1024
#define LIST_MAX 1024
#define PATH_MAX_LEN 512
#define KEY_MAX 4096

/* ---- paths ------------------------------------------------------------------------------ */

static bool is_ident(const char *k)
{
    if (!*k || (k[0] >= '0' && k[0] <= '9'))
        return false;
    for (const char *p = k; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

void ak__iam_path_key(struct ak_buf *b, const char *key)
{
    if (is_ident(key)) {
        ak_buf_addf(b, ".%s", key);
        return;
    }
    ak_buf_addc(b, '[');
    ak_json_quote(b, key);
    ak_buf_addc(b, ']');
}

/* ---- the duplicate-key scanner ----------------------------------------------------------- */

struct scan {
    const char *s;
    size_t len, pos;
    int depth;
    struct ak_buf path;
    struct ak__iam_dups *out;
};

struct member {
    char *key;
    size_t start, end; /* the member "k": v plus its trailing comma */
    size_t order;
};

static void ws(struct scan *sc)
{
    while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) && sc->s[sc->pos])
        sc->pos++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(struct scan *sc, unsigned *ret)
{
    unsigned v = 0;
    if (sc->len - sc->pos < 4)
        return false;
    for (int i = 0; i < 4; i++) {
        int h = hexval(sc->s[sc->pos + (size_t)i]);
        if (h < 0)
            return false;
        v = v * 16 + (unsigned)h;
    }
    sc->pos += 4;
    *ret = v;
    return true;
}

static void put_utf8(struct ak_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        ak_buf_addc(b, (char)cp);
    } else if (cp < 0x800) {
        ak_buf_addc(b, (char)(0xC0 | (cp >> 6)));
        ak_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        ak_buf_addc(b, (char)(0xE0 | (cp >> 12)));
        ak_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ak_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        ak_buf_addc(b, (char)(0xF0 | (cp >> 18)));
        ak_buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        ak_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ak_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* A string at pos (the opening quote); decoded into out when out is not NULL, so that "a" and
 * "\u0061" are the same key, as they are for jansson and IAM. */
static bool scan_string(struct scan *sc, struct ak_buf *out)
{
    if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
        return false;
    sc->pos++;
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos++];
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\') {
            if (out)
                ak_buf_addc(out, (char)c);
            continue;
        }
        if (sc->pos >= sc->len)
            return false;
        char e = sc->s[sc->pos++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *m = e ? strchr(from, e) : NULL;
        if (m) {
            if (out)
                ak_buf_addc(out, to[m - from]);
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || !hex4(sc, &cp))
            return false;
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (sc->len - sc->pos < 2 || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u')
                return false;
            sc->pos += 2;
            if (!hex4(sc, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
        }
        if (out)
            put_utf8(out, cp);
    }
    return false;
}

static bool scan_value(struct scan *sc);

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void add_dup(struct scan *sc, const char *key, const struct member *earlier)
{
    struct ak__iam_dups *d = sc->out;
    size_t keep = sc->path.len;
    ak__iam_path_key(&sc->path, key);
    d->v = ak_xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
    d->v[d->n].path = ak_xstrdup(sc->path.buf);
    d->v[d->n].start = earlier->start;
    d->v[d->n].end = earlier->end;
    d->n++;
    sc->path.len = keep;
    sc->path.buf[keep] = 0;
}

/* Sorting by (key, order) puts equal keys next to each other: each but the last is dropped. */
static void report_dups(struct scan *sc, struct member *m, size_t n)
{
    if (n < 2)
        return;
    qsort(m, n, sizeof(*m), member_cmp);
    for (size_t i = 0; i + 1 < n; i++)
        if (strcmp(m[i].key, m[i + 1].key) == 0)
            add_dup(sc, m[i].key, &m[i]);
}

static bool scan_members(struct scan *sc, struct member **m, size_t *n)
{
    struct ak_buf key = AK_BUF_INIT(KEY_MAX);
    size_t keep = sc->path.len;
    bool ok = false;

    for (;;) {
        ws(sc);
        size_t start = sc->pos;
        ak_buf_reset(&key);
        if (!scan_string(sc, &key))
            goto out;
        ws(sc);
        if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
            goto out;
        sc->pos++;
        ak__iam_path_key(&sc->path, key.buf);
        if (!scan_value(sc))
            goto out;
        sc->path.len = keep;
        sc->path.buf[keep] = 0;
        ws(sc);
        if (sc->pos >= sc->len)
            goto out;
        char c = sc->s[sc->pos++];
        *m = ak_xrealloc(*m, (*n + 1) * sizeof(**m));
        (*m)[*n] = (struct member){ak_xstrdup(key.buf), start, sc->pos, *n};
        (*n)++;
        if (c == '}') {
            ok = true;
            goto out;
        }
        if (c != ',')
            goto out;
    }
out:
    sc->path.len = keep;
    sc->path.buf[keep] = 0;
    ak_buf_release(&key);
    return ok;
}

static bool scan_object(struct scan *sc)
{
    struct member *m = NULL;
    size_t n = 0;
    bool ok;

    sc->pos++;
    ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
        sc->pos++;
        return true;
    }
    ok = scan_members(sc, &m, &n);
    if (ok)
        report_dups(sc, m, n);
    for (size_t i = 0; i < n; i++)
        free(m[i].key);
    free(m);
    return ok;
}

static bool scan_array(struct scan *sc)
{
    size_t keep = sc->path.len;
    sc->pos++;
    ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
        sc->pos++;
        return true;
    }
    for (size_t i = 0;; i++) {
        ak_buf_addf(&sc->path, "[%zu]", i);
        bool ok = scan_value(sc);
        sc->path.len = keep;
        sc->path.buf[keep] = 0;
        if (!ok)
            return false;
        ws(sc);
        if (sc->pos >= sc->len)
            return false;
        char c = sc->s[sc->pos++];
        if (c == ']')
            return true;
        if (c != ',')
            return false;
    }
}

/* Numbers and literals: jansson has validated the grammar when it matters; here any run of
 * number/literal characters is accepted. */
static bool scan_scalar(struct scan *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] && strchr("+-.0123456789eEtruefalsn",
                                                         sc->s[sc->pos]))
        sc->pos++;
    return sc->pos > start;
}

static bool scan_value(struct scan *sc)
{
    bool ok;
    ws(sc);
    if (sc->pos >= sc->len || sc->depth >= AK_JSON_MAX_DEPTH)
        return false;
    sc->depth++;
    switch (sc->s[sc->pos]) {
    case '{':
        ok = scan_object(sc);
        break;
    case '[':
        ok = scan_array(sc);
        break;
    case '"':
        ok = scan_string(sc, NULL);
        break;
    default:
        ok = scan_scalar(sc);
        break;
    }
    sc->depth--;
    return ok;
}

static int span_cmp(const void *a, const void *b)
{
    const struct ak__iam_dup *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int ak__iam_dup_scan(const char *text, size_t len, struct ak__iam_dups *ret)
{
    struct scan sc = {text, len, 0, 0, AK_BUF_INIT(PATH_MAX_LEN), ret};
    int r = AK_EINVAL;

    ak_buf_add(&sc.path, "$");
    if (!scan_value(&sc))
        goto out;
    ws(&sc);
    if (sc.pos != len)
        goto out;
    /* the caller reads them in document order */
    if (ret->n > 1)
        qsort(ret->v, ret->n, sizeof(*ret->v), span_cmp);
    r = AK_OK;
out:
    ak_buf_release(&sc.path);
    return r;
}

void ak__iam_dups_release(struct ak__iam_dups *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].path);
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

char *ak__iam_dup_strip(const char *text, size_t len, const struct ak__iam_dups *d,
                        size_t *ret_len)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t pos = 0;

    /* spans are sorted by start; a span inside one already dropped goes with it */
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].start < pos)
            continue;
        ak_buf_addn(&b, text + pos, d->v[i].start - pos);
        pos = d->v[i].end;
    }
    ak_buf_addn(&b, text + pos, len - pos);
    return ak_buf_detach(&b, ret_len);
}

/* ---- the policy grammar ------------------------------------------------------------------ */

struct opname {
    const char *name;
    enum ak__iam_base base;
    bool negated;
};

static const struct opname ops[] = {
    {"StringEquals", IAM_STR_EQ, false},
    {"StringNotEquals", IAM_STR_EQ, true},
    {"StringEqualsIgnoreCase", IAM_STR_EQ_IC, false},
    {"StringNotEqualsIgnoreCase", IAM_STR_EQ_IC, true},
    {"StringLike", IAM_STR_LIKE, false},
    {"StringNotLike", IAM_STR_LIKE, true},
    {"ArnEquals", IAM_ARN_EQ, false},
    {"ArnNotEquals", IAM_ARN_EQ, true},
    {"ArnLike", IAM_ARN_LIKE, false},
    {"ArnNotLike", IAM_ARN_LIKE, true},
    {"NumericEquals", IAM_NUM_EQ, false},
    {"NumericNotEquals", IAM_NUM_EQ, true},
    {"NumericLessThan", IAM_NUM_LT, false},
    {"NumericLessThanEquals", IAM_NUM_LE, false},
    {"NumericGreaterThan", IAM_NUM_GT, false},
    {"NumericGreaterThanEquals", IAM_NUM_GE, false},
    {"DateEquals", IAM_DATE_EQ, false},
    {"DateNotEquals", IAM_DATE_EQ, true},
    {"DateLessThan", IAM_DATE_LT, false},
    {"DateLessThanEquals", IAM_DATE_LE, false},
    {"DateGreaterThan", IAM_DATE_GT, false},
    {"DateGreaterThanEquals", IAM_DATE_GE, false},
    {"Bool", IAM_BOOL, false},
    {"Null", IAM_NULL, false},
    {"IpAddress", IAM_IP, false},
    {"NotIpAddress", IAM_IP, true},
    {"BinaryEquals", IAM_BINARY, false},
};

static bool parse_op(const char *op, struct ak__iam_cond *c)
{
    const char *p = op;
    size_t n;

    c->set = IAM_SET_NONE;
    if (ak_startswith(p, "ForAnyValue:")) {
        c->set = IAM_SET_ANY;
        p += strlen("ForAnyValue:");
    } else if (ak_startswith(p, "ForAllValues:")) {
        c->set = IAM_SET_ALL;
        p += strlen("ForAllValues:");
    }
    n = strlen(p);
    c->ifexists = ak_endswith(p, "IfExists");
    if (c->ifexists)
        n -= strlen("IfExists");
    for (size_t i = 0; i < AK_ARRAY_SIZE(ops); i++) {
        if (strlen(ops[i].name) != n || memcmp(ops[i].name, p, n) != 0)
            continue;
        c->base = ops[i].base;
        c->negated = ops[i].negated;
        /* Null tests presence itself: neither a set prefix nor IfExists means anything */
        return c->base != IAM_NULL || (!c->ifexists && c->set == IAM_SET_NONE);
    }
    return false;
}

static char *scalar_text(const struct ak_json *v)
{
    if (ak_json_is_str(v))
        return ak_xstrdup(ak_json_str(v));
    if (ak_json_is_bool(v))
        return ak_xstrdup(ak_json_bool(v) ? "true" : "false");
    if (ak_json_is_num(v))
        return ak_json_dump(v, AK_JSON_COMPACT);
    return NULL;
}

/* A string or an array of strings (strict) or of scalars (loose: condition values). */
static int str_list(const struct ak_json *v, bool loose, char ***ret, size_t *ret_n,
                    const char *path, struct ak_buf *err)
{
    size_t n = ak_json_is_arr(v) ? ak_json_len(v) : 1;
    char **l;

    if (n == 0)
        return ak_err(err, AK_EINVAL, "%s: empty list", path);
    if (n > LIST_MAX)
        return ak_err(err, AK_ETOOBIG, "%s: more than %d values", path, LIST_MAX);
    l = ak_xcalloc(n, sizeof(*l));
    for (size_t i = 0; i < n; i++) {
        const struct ak_json *e = ak_json_is_arr(v) ? ak_json_at(v, i) : v;
        l[i] = loose ? scalar_text(e) : ak_xstrdup(ak_json_str(e));
        if (!l[i]) {
            for (size_t k = 0; k < i; k++)
                free(l[k]);
            free(l);
            return ak_err(err, AK_EINVAL, "%s: expected %s", path,
                          loose ? "a string, boolean or number (or an array of them)"
                                : "a string or an array of strings");
        }
    }
    *ret = l;
    *ret_n = n;
    return AK_OK;
}

static int parse_principal(const struct ak_json *v, struct ak__iam_stmt *s, const char *path,
                           struct ak_buf *err)
{
    if (ak_json_is_str(v)) {
        if (!ak_streq(ak_json_str(v), "*"))
            return ak_err(err, AK_EINVAL, "%s: a string principal must be \"*\"", path);
        s->pr = ak_xcalloc(1, sizeof(*s->pr));
        s->pr[0] = (struct ak__iam_principal){ak_xstrdup("*"), ak_xstrdup("*")};
        s->n_pr = 1;
        return AK_OK;
    }
    if (!ak_json_is_obj(v) || ak_json_len(v) == 0)
        return ak_err(err, AK_EINVAL, "%s: expected \"*\" or an object of principal types",
                      path);
    for (void *it = ak_json_iter(v); it; it = ak_json_iter_next(v, it)) {
        const char *type = ak_json_iter_key(it);
        static const char *const types[] = {"Federated", "AWS", "Service", "CanonicalUser"};
        bool known = false;
        char **vals;
        size_t n;
        for (size_t i = 0; i < AK_ARRAY_SIZE(types); i++)
            known |= strcmp(types[i], type) == 0;
        if (!known)
            return ak_err(err, AK_EINVAL, "%s: unknown principal type \"%s\"", path, type);
        int r = str_list(ak_json_iter_value(it), false, &vals, &n, path, err);
        if (r)
            return r;
        if (s->n_pr + n > LIST_MAX) {
            for (size_t i = 0; i < n; i++)
                free(vals[i]);
            free(vals);
            return ak_err(err, AK_ETOOBIG, "%s: more than %d principals", path, LIST_MAX);
        }
        s->pr = ak_xrealloc(s->pr, (s->n_pr + n) * sizeof(*s->pr));
        for (size_t i = 0; i < n; i++)
            s->pr[s->n_pr++] = (struct ak__iam_principal){ak_xstrdup(type), vals[i]};
        free(vals);
    }
    return AK_OK;
}

static int parse_conditions(const struct ak_json *v, struct ak__iam_stmt *s, struct ak_buf *path,
                            struct ak_buf *err)
{
    size_t keep = path->len;
    int r = AK_OK;

    if (!ak_json_is_obj(v))
        return ak_err(err, AK_EINVAL, "%s: expected an object of condition operators",
                      path->buf);
    for (void *it = ak_json_iter(v); it && !r; it = ak_json_iter_next(v, it)) {
        const char *op = ak_json_iter_key(it);
        const struct ak_json *keys = ak_json_iter_value(it);
        struct ak__iam_cond proto = {0};
        ak__iam_path_key(path, op);
        if (!parse_op(op, &proto)) {
            r = ak_err(err, AK_EINVAL, "%s: unknown condition operator \"%s\"", path->buf, op);
            break;
        }
        if (!ak_json_is_obj(keys) || ak_json_len(keys) == 0) {
            r = ak_err(err, AK_EINVAL, "%s: expected an object of condition keys", path->buf);
            break;
        }
        size_t keep2 = path->len;
        for (void *k = ak_json_iter(keys); k && !r; k = ak_json_iter_next(keys, k)) {
            struct ak__iam_cond c = proto;
            ak__iam_path_key(path, ak_json_iter_key(k));
            if (s->n_conds >= LIST_MAX) {
                r = ak_err(err, AK_ETOOBIG, "%s: more than %d conditions", path->buf, LIST_MAX);
                break;
            }
            r = str_list(ak_json_iter_value(k), true, &c.vals, &c.n_vals, path->buf, err);
            if (r)
                break;
            c.op = ak_xstrdup(op);
            c.key = ak_xstrdup(ak_json_iter_key(k));
            s->conds = ak_xrealloc(s->conds, (s->n_conds + 1) * sizeof(*s->conds));
            s->conds[s->n_conds++] = c;
            path->len = keep2;
            path->buf[keep2] = 0;
        }
        path->len = keep;
        path->buf[keep] = 0;
    }
    return r;
}

static bool stmt_key_known(const char *k)
{
    static const char *const known[] = {"Sid", "Effect", "Principal", "NotPrincipal", "Action",
                                        "NotAction", "Resource", "NotResource", "Condition"};
    for (size_t i = 0; i < AK_ARRAY_SIZE(known); i++)
        if (strcmp(known[i], k) == 0)
            return true;
    return false;
}

static int parse_stmt(const struct ak_json *v, struct ak__iam_stmt *s, struct ak_buf *path,
                      struct ak_buf *err)
{
    const struct ak_json *pr, *npr, *ac, *nac, *cond;
    const char *eff;
    int r;

    if (!ak_json_is_obj(v))
        return ak_err(err, AK_EINVAL, "%s: a statement must be an object", path->buf);
    for (void *it = ak_json_iter(v); it; it = ak_json_iter_next(v, it))
        if (!stmt_key_known(ak_json_iter_key(it)))
            return ak_err(err, AK_EINVAL, "%s: unknown element \"%s\"", path->buf,
                          ak_json_iter_key(it));
    if (ak_json_get(v, "Sid") && !ak_json_is_str(ak_json_get(v, "Sid")))
        return ak_err(err, AK_EINVAL, "%s.Sid: expected a string", path->buf);
    s->sid = ak_xstrdup(ak_json_get_str(v, "Sid") ? ak_json_get_str(v, "Sid") : "");
    eff = ak_json_get_str(v, "Effect");
    if (!eff)
        return ak_err(err, AK_EINVAL, "%s: no Effect (Allow or Deny)", path->buf);
    if (strcmp(eff, "Allow") && strcmp(eff, "Deny"))
        return ak_err(err, AK_EINVAL, "%s.Effect: \"%s\" is neither Allow nor Deny", path->buf,
                      eff);
    s->deny = strcmp(eff, "Deny") == 0;

    pr = ak_json_get(v, "Principal");
    npr = ak_json_get(v, "NotPrincipal");
    if (!pr == !npr)
        return ak_err(err, AK_EINVAL, "%s: needs exactly one of Principal and NotPrincipal",
                      path->buf);
    s->not_principal = npr != NULL;
    r = parse_principal(pr ? pr : npr, s, path->buf, err);
    if (r)
        return r;

    ac = ak_json_get(v, "Action");
    nac = ak_json_get(v, "NotAction");
    if (!ac == !nac)
        return ak_err(err, AK_EINVAL, "%s: needs exactly one of Action and NotAction",
                      path->buf);
    s->not_action = nac != NULL;
    r = str_list(ac ? ac : nac, false, &s->actions, &s->n_actions, path->buf, err);
    if (r)
        return r;
    s->has_resource = ak_json_get(v, "Resource") || ak_json_get(v, "NotResource");

    cond = ak_json_get(v, "Condition");
    if (!cond)
        return AK_OK;
    ak_buf_add(path, ".Condition");
    return parse_conditions(cond, s, path, err);
}

static void stmt_release(struct ak__iam_stmt *s)
{
    free(s->sid);
    for (size_t i = 0; i < s->n_pr; i++) {
        free(s->pr[i].type);
        free(s->pr[i].value);
    }
    free(s->pr);
    for (size_t i = 0; i < s->n_actions; i++)
        free(s->actions[i]);
    free(s->actions);
    for (size_t i = 0; i < s->n_conds; i++) {
        free(s->conds[i].op);
        free(s->conds[i].key);
        for (size_t k = 0; k < s->conds[i].n_vals; k++)
            free(s->conds[i].vals[k]);
        free(s->conds[i].vals);
    }
    free(s->conds);
}

void ak_iam_policy_free(struct ak_iam_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_st; i++)
        stmt_release(&p->st[i]);
    free(p->st);
    free(p);
}

static int check_top(const struct ak_json *doc, struct ak_buf *err)
{
    if (!ak_json_is_obj(doc))
        return ak_err(err, AK_EINVAL, "$: a policy must be a JSON object");
    for (void *it = ak_json_iter(doc); it; it = ak_json_iter_next(doc, it)) {
        const char *k = ak_json_iter_key(it);
        if (strcmp(k, "Version") && strcmp(k, "Id") && strcmp(k, "Statement"))
            return ak_err(err, AK_EINVAL, "$: unknown element \"%s\"", k);
    }
    if (ak_json_get(doc, "Version") && !ak_json_is_str(ak_json_get(doc, "Version")))
        return ak_err(err, AK_EINVAL, "$.Version: expected a string");
    return AK_OK;
}

int ak__iam_policy_from_json(const struct ak_json *doc, struct ak_iam_policy **ret,
                             struct ak_buf *err)
{
    struct ak_iam_policy *p = NULL;
    struct ak_buf path = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_json *st;
    bool arr;
    size_t n;
    int r = check_top(doc, err);

    if (r)
        goto out;
    st = ak_json_get(doc, "Statement");
    arr = ak_json_is_arr(st);
    n = arr ? ak_json_len(st) : 1;
    if (!st || (arr && n == 0)) {
        r = ak_err(err, AK_EINVAL, "$: no Statement");
        goto out;
    }
    if (n > STMT_MAX) {
        r = ak_err(err, AK_ETOOBIG, "$.Statement: more than %d statements", STMT_MAX);
        goto out;
    }
    p = ak_xcalloc(1, sizeof(*p));
    p->variables = ak_streq(ak_json_get_str(doc, "Version"), "2012-10-17");
    p->st = ak_xcalloc(n, sizeof(*p->st));
    for (size_t i = 0; i < n; i++) {
        struct ak__iam_stmt *s = &p->st[i];
        p->n_st++;
        if (arr)
            snprintf(s->path, sizeof(s->path), "$.Statement[%zu]", i);
        else
            snprintf(s->path, sizeof(s->path), "$.Statement");
        ak_buf_reset(&path);
        ak_buf_add(&path, s->path);
        r = parse_stmt(arr ? ak_json_at(st, i) : st, s, &path, err);
        if (r)
            goto out;
    }
    *ret = p;
    p = NULL;
out:
    ak_iam_policy_free(p);
    ak_buf_release(&path);
    return r;
}

int ak_iam_policy_parse(const char *json, size_t len, struct ak_iam_policy **ret,
                        struct ak_buf *err)
{
    struct ak_buf jerr = AK_BUF_INIT(512);
    struct ak__iam_dups d = {0};
    struct ak_json *doc = NULL;
    int r;

    if (len > AK_IAM_POLICY_MAX) {
        r = ak_err(err, AK_ETOOBIG, "the policy is %zu bytes, over the cap of %d", len,
                   AK_IAM_POLICY_MAX);
        goto out;
    }
    doc = ak_json_parse(json, len, &jerr);
    if (!doc) {
        if (ak__iam_dup_scan(json, len, &d) == AK_OK && d.n > 0)
            r = ak_err(err, AK_EINVAL,
                       "%s: duplicate key (IAM would silently keep only the last one)",
                       d.v[0].path);
        else
            r = ak_err(err, AK_EINVAL, "the policy is not valid JSON: %s", jerr.buf);
        goto out;
    }
    r = ak__iam_policy_from_json(doc, ret, err);
out:
    ak__iam_dups_release(&d);
    ak_json_free(doc);
    ak_buf_release(&jerr);
    return r;
}
