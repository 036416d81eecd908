/* eval.c — trust-policy evaluation with IAM's semantics (oidc-sts.md §3.9) and its one-line
 * explanation; the request context AWS builds from a token's claims. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_iam.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "iam_int.h"
#include "../core/ak_banned.h"

#define SHOW 160         /* bytes of a value shown in an explanation */
#define CLAIM_VALUES_MAX 100

/* ---- string matching --------------------------------------------------------------------- */

enum { PAT_STAR = AK__IAM_STAR, PAT_ONE = AK__IAM_ONE };

struct pat {
    int *u;
    size_t n;
};

static void pat_add(struct pat *p, int u)
{
    p->u[p->n++] = u;
}

/* ${*} ${?} ${$} are the escapes for the literal characters; any other ${key} is a policy
 * variable (only under Version 2012-10-17) taken from the request: its first value, and no
 * match at all when the request lacks the key. Without vars, ${key} stays literal text. */
static bool pat_build(const char *s, bool wild, bool vars, const struct ak_iam_ctx *ctx,
                      struct pat *p)
{
    size_t cap = strlen(s) + 1;
    p->u = ak_xcalloc(cap, sizeof(*p->u));
    p->n = 0;
    for (const char *c = s; *c;) {
        if (c[0] == '$' && c[1] == '{') {
            const char *end = strchr(c + 2, '}');
            if (end && end == c + 3 && strchr("*?$", c[2])) {
                pat_add(p, (unsigned char)c[2]);
                c = end + 1;
                continue;
            }
            if (end && vars) {
                char *name = ak_xstrndup(c + 2, (size_t)(end - c - 2));
                const struct ak_iam_key *k = ak__iam_ctx_key(ctx, name);
                free(name);
                if (!k || k->n_values == 0 || !k->values[0])
                    return false;
                size_t vl = strlen(k->values[0]);
                cap += vl;
                p->u = ak_xrealloc(p->u, cap * sizeof(*p->u));
                for (size_t i = 0; i < vl; i++)
                    pat_add(p, (unsigned char)k->values[0][i]);
                c = end + 1;
                continue;
            }
        }
        if (wild && *c == '*')
            pat_add(p, PAT_STAR);
        else if (wild && *c == '?')
            pat_add(p, PAT_ONE);
        else
            pat_add(p, (unsigned char)*c);
        c++;
    }
    return true;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* One character for '?': a UTF-8 lead byte and its continuation bytes. */
static size_t one_char(const char *s)
{
    size_t n = 1;
    while (((unsigned char)s[n] & 0xC0) == 0x80)
        n++;
    return n;
}

/* Iterative glob with single backtrack point (the last '*'): linear in practice, O(n*m) worst. */
static bool pat_match(const struct pat *p, const char *s, bool icase)
{
    size_t pi = 0, si = 0, slen = strlen(s);
    size_t star = (size_t)-1, mark = 0;

    while (si < slen) {
        if (pi < p->n && p->u[pi] == PAT_STAR) {
            star = pi++;
            mark = si;
        } else if (pi < p->n && p->u[pi] == PAT_ONE) {
            pi++;
            si += one_char(s + si);
        } else if (pi < p->n &&
                   (icase ? lower(p->u[pi]) == lower((unsigned char)s[si])
                          : p->u[pi] == (unsigned char)s[si])) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    if (si > slen)
        return false;
    while (pi < p->n && p->u[pi] == PAT_STAR)
        pi++;
    return pi == p->n;
}

int *ak__iam_pat_tokens(const char *s, bool wild, size_t *ret_n)
{
    struct pat p = {0};
    pat_build(s, wild, false, NULL, &p);
    *ret_n = p.n;
    return p.u;
}

bool ak__iam_str_match(const char *pat, const char *s, bool wild, bool icase, bool vars,
                       const struct ak_iam_ctx *ctx)
{
    struct pat p = {0};
    bool ok = pat_build(pat, wild, vars, ctx, &p) && pat_match(&p, s, icase);
    free(p.u);
    return ok;
}

/* ARNs: six ':'-separated parts matched one by one (a '*' does not cross a ':' here; the
 * resource part, the last one, may contain ':'). */
static bool arn_match(const char *pat, const char *s, bool vars, const struct ak_iam_ctx *ctx)
{
    const char *pp = pat, *sp = s;
    bool ok = true;
    for (int part = 0; part < 6 && ok; part++) {
        const char *pe = part < 5 ? strchr(pp, ':') : NULL;
        const char *se = part < 5 ? strchr(sp, ':') : NULL;
        if (part < 5 && (!pe || !se))
            return ak_streq(pat, "*") ? true : false;
        char *a = pe ? ak_xstrndup(pp, (size_t)(pe - pp)) : ak_xstrdup(pp);
        char *b = se ? ak_xstrndup(sp, (size_t)(se - sp)) : ak_xstrdup(sp);
        ok = ak__iam_str_match(a, b, true, false, vars, ctx);
        free(a);
        free(b);
        if (pe) {
            pp = pe + 1;
            sp = se + 1;
        }
    }
    return ok;
}

/* ---- operators --------------------------------------------------------------------------- */

static bool num_parse(const char *s, double *ret)
{
    char *end;
    if (!*s)
        return false;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *ret = v;
    return true;
}

/* Dates: ISO 8601 or epoch seconds, as IAM accepts both. */
static bool date_parse(const char *s, double *ret)
{
    int64_t ms;
    if (ak_time_parse(s, &ms) == AK_OK) {
        *ret = (double)ms / 1000.0;
        return true;
    }
    return num_parse(s, ret);
}

static bool cmp_ok(enum ak__iam_base b, double r, double p)
{
    switch (b) {
    case IAM_NUM_EQ:
    case IAM_DATE_EQ:
        return r == p;
    case IAM_NUM_LT:
    case IAM_DATE_LT:
        return r < p;
    case IAM_NUM_LE:
    case IAM_DATE_LE:
        return r <= p;
    case IAM_NUM_GT:
    case IAM_DATE_GT:
        return r > p;
    case IAM_NUM_GE:
    case IAM_DATE_GE:
        return r >= p;
    default:
        return false;
    }
}

static bool ip_match(const char *cidr, const char *ip)
{
    unsigned char a[16], b[16];
    char net[64];
    const char *slash = strchr(cidr, '/');
    size_t nl = slash ? (size_t)(slash - cidr) : strlen(cidr);
    int fam, bytes;
    uint64_t bits;

    if (nl >= sizeof(net))
        return false;
    memcpy(net, cidr, nl);
    net[nl] = 0;
    fam = strchr(net, ':') ? AF_INET6 : AF_INET;
    bytes = fam == AF_INET6 ? 16 : 4;
    if (inet_pton(fam, net, a) != 1 || inet_pton(fam, ip, b) != 1)
        return false;
    bits = (uint64_t)bytes * 8;
    if (slash && ak_parse_u64(slash + 1, 0, (uint64_t)bytes * 8, &bits) != AK_OK)
        return false;
    for (uint64_t i = 0; i < bits; i++) {
        unsigned m = 0x80u >> (i % 8);
        if ((a[i / 8] & m) != (b[i / 8] & m))
            return false;
    }
    return true;
}

/* The positive form of the operator for one request value and one policy value. */
static bool match1(const struct ak__iam_cond *c, const char *pv, const char *rv, bool vars,
                   const struct ak_iam_ctx *ctx)
{
    double a, b;
    switch (c->base) {
    case IAM_STR_EQ:
        return ak__iam_str_match(pv, rv, false, false, vars, ctx);
    case IAM_STR_EQ_IC:
        return ak__iam_str_match(pv, rv, false, true, vars, ctx);
    case IAM_STR_LIKE:
        return ak__iam_str_match(pv, rv, true, false, vars, ctx);
    case IAM_ARN_EQ:
    case IAM_ARN_LIKE:
        return arn_match(pv, rv, vars, ctx);
    case IAM_NUM_EQ:
    case IAM_NUM_LT:
    case IAM_NUM_LE:
    case IAM_NUM_GT:
    case IAM_NUM_GE:
        return num_parse(rv, &a) && num_parse(pv, &b) && cmp_ok(c->base, a, b);
    case IAM_DATE_EQ:
    case IAM_DATE_LT:
    case IAM_DATE_LE:
    case IAM_DATE_GT:
    case IAM_DATE_GE:
        return date_parse(rv, &a) && date_parse(pv, &b) && cmp_ok(c->base, a, b);
    case IAM_BOOL:
        return strcasecmp(pv, rv) == 0;
    case IAM_IP:
        return ip_match(pv, rv);
    case IAM_BINARY:
        return strcmp(pv, rv) == 0;
    case IAM_NULL:
        break;
    }
    return false;
}

/* value_ok of §3.9: OR over the policy values; a negated operator must match none (AND). */
static bool value_ok(const struct ak__iam_cond *c, const char *rv, bool vars,
                     const struct ak_iam_ctx *ctx)
{
    bool hit = false;
    for (size_t i = 0; i < c->n_vals && !hit; i++)
        hit = match1(c, c->vals[i], rv, vars, ctx);
    return c->negated ? !hit : hit;
}

const struct ak_iam_key *ak__iam_ctx_key(const struct ak_iam_ctx *ctx, const char *name)
{
    if (!ctx || !name)
        return NULL;
    for (size_t i = 0; i < ctx->n_keys; i++)
        if (ctx->keys[i].name && strcasecmp(ctx->keys[i].name, name) == 0 &&
            ctx->keys[i].n_values > 0)
            return &ctx->keys[i];
    return NULL;
}

/* op_ok of §3.9. *ret_bad: the request value that failed (NULL: the key's absence). */
static bool op_ok(const struct ak__iam_cond *c, bool vars, const struct ak_iam_ctx *ctx,
                  const char **ret_bad)
{
    const struct ak_iam_key *k = ak__iam_ctx_key(ctx, c->key);
    *ret_bad = NULL;
    if (c->base == IAM_NULL)
        return (k == NULL) == (strcasecmp(c->vals[0], "true") == 0);
    if (!k) {
        if (c->ifexists || c->set == IAM_SET_ALL)
            return true;
        if (c->set == IAM_SET_ANY)
            return false;
        return c->negated;
    }
    if (c->set == IAM_SET_ALL) {
        for (size_t i = 0; i < k->n_values; i++)
            if (!value_ok(c, k->values[i], vars, ctx)) {
                *ret_bad = k->values[i];
                return false;
            }
        return true;
    }
    if (c->set == IAM_SET_ANY) {
        for (size_t i = 0; i < k->n_values; i++)
            if (value_ok(c, k->values[i], vars, ctx))
                return true;
        *ret_bad = k->values[0];
        return false;
    }
    *ret_bad = k->values[0];
    return value_ok(c, k->values[0], vars, ctx);
}

/* ---- principal and action ---------------------------------------------------------------- */

/* A Federated principal is written as the provider ARN; a context may carry either that ARN or
 * the bare provider ("oidc.circleci.com/org/O", the iss without https://) when the account is
 * not known, as in `oidc simulate`. */
static bool principal_value_ok(const struct ak__iam_principal *pr, const struct ak_iam_ctx *ctx)
{
    if (strcmp(pr->value, "*") == 0)
        return true;
    if (!ctx->principal)
        return false;
    if (strcmp(pr->value, ctx->principal) == 0)
        return true;
    if (strcmp(pr->type, "Federated") == 0 && !ak_startswith(ctx->principal, "arn:")) {
        const char *prov = ak__iam_oidc_provider(pr->value);
        return prov && strcmp(prov, ctx->principal) == 0;
    }
    return false;
}

bool ak__iam_principal_ok(const struct ak__iam_stmt *s, const struct ak_iam_ctx *ctx)
{
    bool named = false;
    for (size_t i = 0; i < s->n_pr && !named; i++) {
        const struct ak__iam_principal *pr = &s->pr[i];
        if (strcmp(pr->type, "*") == 0)
            named = true;
        else if (ctx->principal_type && strcmp(pr->type, ctx->principal_type) == 0)
            named = principal_value_ok(pr, ctx);
    }
    return s->not_principal ? !named : named;
}

bool ak__iam_action_ok(const struct ak__iam_stmt *s, const char *action)
{
    bool hit = false;
    for (size_t i = 0; i < s->n_actions && !hit; i++)
        hit = action && ak__iam_str_match(s->actions[i], action, true, true, false, NULL);
    return s->not_action ? !hit : hit;
}

const char *ak__iam_oidc_provider(const char *value)
{
    static const char *const builtin[] = {"cognito-identity.amazonaws.com", "www.amazon.com",
                                          "graph.facebook.com", "accounts.google.com"};
    const char *p;
    if (!value)
        return NULL;
    if (ak_startswith(value, "arn:") && (p = strstr(value, ":oidc-provider/")))
        return *(p + 15) ? p + 15 : NULL;
    for (size_t i = 0; i < AK_ARRAY_SIZE(builtin); i++)
        if (strcmp(value, builtin[i]) == 0)
            return builtin[i];
    return NULL;
}

/* ---- the decision and its explanation ---------------------------------------------------- */

static void show_vals(struct ak_buf *b, const struct ak__iam_cond *c)
{
    ak_buf_addc(b, '[');
    for (size_t i = 0; i < c->n_vals; i++)
        ak_buf_addf(b, "%s%.*s", i ? ", " : "", SHOW, c->vals[i]);
    ak_buf_addc(b, ']');
}

static void explain_cond(struct ak_buf *b, const struct ak__iam_cond *c, const char *bad)
{
    ak_buf_addf(b, "%s %s ", c->op, c->key);
    show_vals(b, c);
    if (c->base == IAM_NULL) {
        ak_buf_add(b, strcasecmp(c->vals[0], "true") == 0 ? ": the key is present"
                                                            : ": the key is absent");
        return;
    }
    if (!bad) {
        ak_buf_add(b, ": the key is absent from the request");
        return;
    }
    if (c->negated)
        ak_buf_addf(b, " matches \"%.*s\"", SHOW, bad);
    else
        ak_buf_addf(b, " does not match \"%.*s\"", SHOW, bad);
}

struct verdict {
    bool principal, action;
    size_t n_ok;            /* conditions that hold */
    const struct ak__iam_cond *fail;
    const char *bad;
};

static bool stmt_matches(const struct ak_iam_policy *p, const struct ak__iam_stmt *s,
                         const struct ak_iam_ctx *ctx, struct verdict *v)
{
    *v = (struct verdict){0};
    v->principal = ak__iam_principal_ok(s, ctx);
    v->action = ak__iam_action_ok(s, ctx->action);
    for (size_t i = 0; i < s->n_conds; i++) {
        const char *bad;
        if (op_ok(&s->conds[i], p->variables, ctx, &bad)) {
            v->n_ok++;
        } else if (!v->fail) {
            v->fail = &s->conds[i];
            v->bad = bad;
        }
    }
    return v->principal && v->action && !v->fail;
}

static void stmt_head(struct ak_buf *b, const struct ak__iam_stmt *s, int i)
{
    ak_buf_addf(b, "Statement[%d]", i);
    if (s->sid[0])
        ak_buf_addf(b, " (%.*s)", 100, s->sid);
}

static void why_decided(struct ak_buf *b, const struct ak__iam_stmt *s, int i)
{
    stmt_head(b, s, i);
    ak_buf_addf(b, ": %s: principal, action and %zu condition%s match", s->deny ? "Deny" : "Allow",
                s->n_conds, s->n_conds == 1 ? "" : "s");
    for (size_t k = 0; k < s->n_conds && s->deny; k++) {
        ak_buf_add(b, k ? "; " : " (");
        ak_buf_addf(b, "%s %s ", s->conds[k].op, s->conds[k].key);
        show_vals(b, &s->conds[k]);
        ak_buf_add(b, k + 1 == s->n_conds ? ")" : "");
    }
}

static void why_nearest(struct ak_buf *b, const struct ak_iam_policy *p,
                        const struct ak_iam_ctx *ctx)
{
    long best_score = -1;
    size_t best = 0;
    struct verdict bv = {0};

    for (size_t i = 0; i < p->n_st; i++) {
        struct verdict v;
        if (p->st[i].deny)
            continue;
        stmt_matches(p, &p->st[i], ctx, &v);
        long score = (v.principal ? 1L << 30 : 0) + (v.action ? 1L << 29 : 0) + (long)v.n_ok;
        if (score > best_score) {
            best_score = score;
            best = i;
            bv = v;
        }
    }
    if (best_score < 0) {
        ak_buf_add(b, "the policy has no Allow statement");
        return;
    }
    if (!bv.principal) {
        ak_buf_addf(b, "no statement names principal %.*s%s%.*s", 40,
                    ctx->principal_type ? ctx->principal_type : "", ctx->principal_type ? " " : "",
                    SHOW * 2, ctx->principal ? ctx->principal : "(none)");
        return;
    }
    stmt_head(b, &p->st[best], (int)best);
    if (!bv.action) {
        ak_buf_addf(b, ": action %.*s is not %s", SHOW, ctx->action ? ctx->action : "(none)",
                    p->st[best].not_action ? "allowed (NotAction)" : "in Action");
        return;
    }
    ak_buf_add(b, ": ");
    explain_cond(b, bv.fail, bv.bad);
}

void ak_iam_evaluate(const struct ak_iam_policy *p, const struct ak_iam_ctx *ctx,
                     struct ak_iam_result *ret)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    int allow = -1, deny = -1;

    memset(ret, 0, sizeof(*ret));
    ret->statement = -1;
    for (size_t i = 0; p && ctx && i < p->n_st && deny < 0; i++) {
        struct verdict v;
        if (!stmt_matches(p, &p->st[i], ctx, &v))
            continue;
        if (p->st[i].deny)
            deny = (int)i;
        else if (allow < 0)
            allow = (int)i;
    }
    if (!p || !ctx) {
        ak_buf_add(&b, "no policy or no request");
    } else if (deny >= 0 || allow >= 0) {
        int i = deny >= 0 ? deny : allow;
        ret->decision = deny >= 0 ? AK_IAM_EXPLICIT_DENY : AK_IAM_ALLOW;
        ret->statement = i;
        snprintf(ret->sid, sizeof(ret->sid), "%s", p->st[i].sid);
        why_decided(&b, &p->st[i], i);
    } else {
        why_nearest(&b, p, ctx);
    }
    /* the explanation is one line of at most sizeof(why): cut, never lose it */
    snprintf(ret->why, sizeof(ret->why), "%s", b.buf);
    ak_buf_release(&b);
}

/* ---- the request context from claims ----------------------------------------------------- */

struct cc_priv {
    char **strs;
    size_t n;
};

static const char *const github_keys[] = {"actor", "actor_id", "job_workflow_ref", "repository",
                                          "repository_id", "workflow", "ref", "environment",
                                          "enterprise_id"};
static const char *const circleci_keys[] = {"oidc.circleci.com/project-id",
                                            "oidc.circleci.com/vcs-origin",
                                            "oidc.circleci.com/vcs-ref",
                                            "oidc.circleci.com/context-ids",
                                            "oidc.circleci.com/ssh-rerun"};

static char *claim_text(const struct ak_json *v)
{
    if (ak_json_is_str(v))
        return ak_xstrdup(ak_json_str(v));
    if (ak_json_is_bool(v))
        return ak_xstrdup(ak_json_bool(v) ? "true" : "false");
    if (ak_json_is_num(v))
        return ak_json_dump(v, AK_JSON_COMPACT);
    return NULL;
}

static int add_claim(struct ak_iam_claims_ctx *c, const char *provider, const char *claim,
                     const struct ak_json *v)
{
    size_t n = ak_json_is_arr(v) ? ak_json_len(v) : 1;
    char **vals;
    size_t got = 0;

    if (!v || ak_json_is_null(v) || n == 0)
        return AK_OK;
    if (n > CLAIM_VALUES_MAX)
        return AK_ETOOBIG;
    vals = ak_xcalloc(n, sizeof(*vals));
    for (size_t i = 0; i < n; i++) {
        char *t = claim_text(ak_json_is_arr(v) ? ak_json_at(v, i) : v);
        if (t)
            vals[got++] = t;
    }
    if (!got) {
        free(vals);
        return AK_OK;
    }
    c->keys = ak_xrealloc(c->keys, (c->n_keys + 1) * sizeof(*c->keys));
    c->keys[c->n_keys++] = (struct ak_iam_key){
        provider ? ak_xasprintf("%s:%s", provider, claim) : ak_xstrdup(claim),
        (const char *const *)vals, got};
    return AK_OK;
}

int ak_iam_ctx_from_claims(const char *provider, const struct ak_json *claims,
                           const char *session_name, struct ak_iam_claims_ctx *ret)
{
    static const char *const std[] = {"sub", "aud", "amr", "azp", "oaud"};
    struct ak_iam_claims_ctx c = {0};
    int r = AK_OK;

    if (!provider || !*provider || !ak_json_is_obj(claims))
        return AK_EINVAL;
    for (size_t i = 0; i < AK_ARRAY_SIZE(std) && !r; i++)
        r = add_claim(&c, provider, std[i], ak_json_get(claims, std[i]));
    if (ak_startswith(provider, "token.actions.githubusercontent.com"))
        for (size_t i = 0; i < AK_ARRAY_SIZE(github_keys) && !r; i++)
            r = add_claim(&c, provider, github_keys[i], ak_json_get(claims, github_keys[i]));
    if (ak_startswith(provider, "oidc.circleci.com/"))
        for (size_t i = 0; i < AK_ARRAY_SIZE(circleci_keys) && !r; i++)
            r = add_claim(&c, provider, circleci_keys[i],
                          ak_json_get(claims, circleci_keys[i]));
    if (!r && session_name) {
        struct ak_json *s = ak_json_new_str(session_name);
        r = add_claim(&c, NULL, "sts:RoleSessionName", s);
        ak_json_free(s);
    }
    if (r) {
        ak_iam_claims_ctx_release(&c);
        return r;
    }
    *ret = c;
    return AK_OK;
}

void ak_iam_claims_ctx_release(struct ak_iam_claims_ctx *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_keys; i++) {
        free((char *)c->keys[i].name);
        for (size_t k = 0; k < c->keys[i].n_values; k++)
            free((char *)c->keys[i].values[k]);
        free((void *)c->keys[i].values);
    }
    free(c->keys);
    c->keys = NULL;
    c->n_keys = 0;
    c->priv = NULL;
}
