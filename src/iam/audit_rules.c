/* audit_rules.c — the trust-policy rules AUD-01..AUD-19 (oidc-sts.md §6.3) and their
 * counter-example tokens.
 *
 * A counter-example is built from the statement's own patterns (each '*' filled with what a
 * stranger would put there, in the provider's real subject format), turned into the request
 * context AWS would build (ak_iam_ctx_from_claims) and evaluated against the WHOLE policy: only a
 * token that ak_iam_evaluate allows is ever reported, so a Deny statement elsewhere that blocks
 * the attack also removes the counter-example. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_iam.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "iam_int.h"
#include "../core/ak_banned.h"

#define ATT_UUID "6a1f0e0e-0bad-4bad-8bad-000000000bad"
#define EVIL_ORIGIN "github.com/evil/x"
#define SESSION_LONG_S 7200

enum kind { K_OTHER, K_GITHUB, K_GITLAB, K_CIRCLECI };

/* One OIDC provider of one Allow statement. */
struct pctx {
    const struct ak__iam_audit_in *in;
    const struct ak__iam_stmt *s;
    const char *fed;
    const char *prov;
    enum kind kind;
    bool per_tenant;
    char org[128];
    struct ak_iam_findings *out;
};

void ak__iam_finding_add(struct ak_iam_findings *f, const char *rule, enum ak_iam_sev sev,
                         const char *source, const char *path, const char *title,
                         const char *message, const char *counter_example)
{
    f->v = ak_xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
    f->v[f->n++] = (struct ak_iam_finding){
        ak_xstrdup(rule),   sev, ak_xstrdup(source ? source : ""), ak_xstrdup(path ? path : "$"),
        ak_xstrdup(title),  ak_xstrdup(message), ak_xstrdup(counter_example)};
}

static enum ak_iam_sev sev(const struct pctx *c, enum ak_iam_sev base)
{
    return c->per_tenant && base > AK_SEV_INFO ? base - 1 : base;
}

static char *cond_path(const struct ak__iam_stmt *s, const struct ak__iam_cond *k)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    ak_buf_addf(&b, "%s.Condition", s->path);
    ak__iam_path_key(&b, k->op);
    ak__iam_path_key(&b, k->key);
    return ak_buf_detach(&b, NULL);
}

static void add(struct pctx *c, const char *rule, enum ak_iam_sev sv, const char *path,
                const char *title, const char *msg, const char *cx)
{
    ak__iam_finding_add(c->out, rule, sv, c->in->source, path, title, msg, cx);
}

/* ---- classification ---------------------------------------------------------------------- */

static enum kind kind_of(const char *prov)
{
    if (ak_startswith(prov, "token.actions.githubusercontent.com"))
        return K_GITHUB;
    if (ak_startswith(prov, "oidc.circleci.com/org/"))
        return K_CIRCLECI;
    if (strcmp(prov, "gitlab.com") == 0 || strstr(prov, "gitlab"))
        return K_GITLAB;
    return K_OTHER;
}

static bool multi_tenant(const char *prov)
{
    static const char *const multi[] = {"token.actions.githubusercontent.com", "gitlab.com",
                                        "app.terraform.io", "agent.buildkite.com",
                                        "accounts.google.com"};
    for (size_t i = 0; i < AK_ARRAY_SIZE(multi); i++)
        if (strcmp(prov, multi[i]) == 0)
            return true;
    return false;
}

/* The claim a key tests for this provider ("sub"), NULL when the key is not this provider's. */
static const char *claim_of(const struct pctx *c, const char *key)
{
    size_t n = strlen(c->prov);
    if (strncasecmp(key, c->prov, n) == 0 && key[n] == ':')
        return key + n + 1;
    return NULL;
}

static bool is_claim(const struct pctx *c, const struct ak__iam_cond *k, const char *claim)
{
    const char *cl = claim_of(c, k->key);
    return cl && strcasecmp(cl, claim) == 0;
}

static bool positive_str(const struct ak__iam_cond *k)
{
    return !k->negated && (k->base == IAM_STR_EQ || k->base == IAM_STR_EQ_IC ||
                           k->base == IAM_STR_LIKE);
}

static bool vacuous(const struct ak__iam_cond *k)
{
    return k->set == IAM_SET_ALL || k->ifexists;
}

static bool all_wild(const char *v, bool like)
{
    size_t n;
    int *t = ak__iam_pat_tokens(v, like, &n);
    bool all = like;
    for (size_t i = 0; i < n && all; i++)
        all = t[i] == AK__IAM_STAR || t[i] == AK__IAM_ONE;
    free(t);
    return all;
}

/* Does a positive, non-vacuous condition pin this claim to something narrower than "*"? */
static bool pins(const struct pctx *c, const char *claim, bool strict)
{
    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        if (!is_claim(c, k, claim) || !positive_str(k) || (strict && vacuous(k)))
            continue;
        if (!strict || !all_wild(k->vals[0], k->base == IAM_STR_LIKE))
            return true;
    }
    return false;
}

static bool tenant_pinned_elsewhere(const struct pctx *c)
{
    if (c->kind == K_GITHUB)
        return pins(c, "repository_id", true) || pins(c, "repository", true);
    if (c->kind == K_CIRCLECI)
        return pins(c, "oidc.circleci.com/project-id", true) ||
               pins(c, "oidc.circleci.com/vcs-origin", true);
    return false;
}

/* ---- filling patterns the way a stranger would ------------------------------------------- */

static bool has_suffix(const char *s, const char *suf)
{
    return ak_endswith(s, suf);
}

static const char *last_label(const char *prefix)
{
    static const char *const labels[] = {"/vcs-ref/", "/vcs-origin/", "/user/", "/project/"};
    const char *best = NULL, *bp = NULL;
    for (size_t i = 0; i < AK_ARRAY_SIZE(labels); i++) {
        const char *p = prefix, *hit = NULL;
        while ((p = strstr(p, labels[i])))
            hit = p++;
        if (hit && (!bp || hit > bp)) {
            bp = hit;
            best = labels[i];
        }
    }
    return best;
}

/* The origin a CircleCI pattern pins (literal between vcs-origin/ and /vcs-ref/), or ours. */
static void pinned_origin(const char *pattern, char *buf, size_t n)
{
    const char *o = strstr(pattern, "/vcs-origin/");
    const char *e = o ? strstr(o + 12, "/vcs-ref/") : NULL;
    snprintf(buf, n, "%s", EVIL_ORIGIN);
    if (o && e && !memchr(o + 12, '*', (size_t)(e - o - 12)) &&
        !memchr(o + 12, '?', (size_t)(e - o - 12)) && e > o + 12)
        snprintf(buf, n, "%.*s", (int)(e - o - 12), o + 12);
}

/* CircleCI V2: org/O/project/P/user/U/vcs-origin/ORIGIN/vcs-ref/REF. With inject, the fill
 * completes the subject through a branch of ours, so that the pattern's literal tail lands
 * inside our branch name (a branch may contain '/'). */
static void fill_circleci(struct ak_buf *b, const char *org, const char *prefix, const char *tail,
                          bool inject, const char *pattern)
{
    const char *lab = last_label(prefix);
    char origin[256];
    bool te = !*tail;

    pinned_origin(pattern, origin, sizeof(origin));
    if (!lab) {
        if (strcmp(prefix, "org/") == 0)
            ak_buf_add(b, org);
        else if (!*prefix)
            ak_buf_addf(b, "org/%s", org);
        if (ak_startswith(tail, "/project/") || (!*prefix && ak_startswith(tail, "/")))
            return;
        lab = "/org/";
    }
    if (strcmp(lab, "/org/") == 0 || strcmp(lab, "/project/") == 0) {
        if (strcmp(lab, "/org/") == 0)
            ak_buf_add(b, "/project/");
        ak_buf_add(b, ATT_UUID);
        if (ak_startswith(tail, "/user/") && !inject)
            return;
        lab = "/user/";
        ak_buf_add(b, "/user/");
    }
    if (strcmp(lab, "/user/") == 0) {
        ak_buf_add(b, ATT_UUID);
        if (ak_startswith(tail, "/vcs-origin/") && !inject)
            return;
        ak_buf_addf(b, "/vcs-origin/%s", inject ? origin : EVIL_ORIGIN);
        if (ak_startswith(tail, "/vcs-ref/") && !inject)
            return;
        ak_buf_addf(b, "/vcs-ref/refs/heads/%s", te && !inject ? "main" : "evil");
        return;
    }
    if (strcmp(lab, "/vcs-origin/") == 0) {
        const char *sofar = prefix, *p;
        while ((p = strstr(sofar, "/vcs-origin/")))
            sofar = p + 12;
        int slashes = 0;
        for (p = sofar; *p; p++)
            slashes += *p == '/';
        ak_buf_add(b, !*sofar ? EVIL_ORIGIN : slashes == 1 ? "evil/x" : "x");
        if (ak_startswith(tail, "/vcs-ref/") && !inject)
            ak_buf_add(b, "/vcs-ref/refs/heads/evil");
        else if (te || inject)
            ak_buf_add(b, "/vcs-ref/refs/heads/evil");
        return;
    }
    ak_buf_add(b, "evil");
}

/* GitHub default subject: repo:OWNER/REPO:ref:REF | :environment:ENV | :pull_request. */
static void fill_github(struct ak_buf *b, const char *prefix, const char *tail)
{
    bool te = !*tail;
    const char *r = ak_startswith(prefix, "repo:") ? prefix + 5 : NULL;
    if (!r) {
        if (*prefix) {
            ak_buf_add(b, "evil");
            return;
        }
        ak_buf_add(b, "repo:attacker-org");
        if (*tail == '/' || *tail == '@')
            return;
        ak_buf_add(b, "/x");
        if (*tail != ':')
            ak_buf_add(b, te ? ":ref:refs/heads/main" : ":ref:refs/heads/");
        return;
    }
    if (!strchr(r, '/') && !strchr(r, ':')) {
        ak_buf_add(b, *r ? "-evil" : "attacker-org");
        if (*tail == '/' || *tail == '@')
            return;
        ak_buf_add(b, te ? "/x:ref:refs/heads/main" : "/x");
        return;
    }
    if (!strchr(r, ':')) {
        ak_buf_add(b, te ? "x:ref:refs/heads/main" : "x");
        return;
    }
    if (has_suffix(prefix, ":ref:"))
        ak_buf_add(b, "refs/heads/evil");
    else if (has_suffix(prefix, ":"))
        ak_buf_add(b, "ref:refs/heads/evil");
    else
        ak_buf_add(b, "evil");
}

/* GitLab default subject: project_path:GROUP/PROJECT:ref_type:TYPE:ref:REF. */
static void fill_gitlab(struct ak_buf *b, const char *prefix, const char *tail)
{
    static const char rest[] = ":ref_type:branch:ref:main";
    bool te = !*tail;
    const char *r = ak_startswith(prefix, "project_path:") ? prefix + 13 : NULL;
    if (!r) {
        if (*prefix) {
            ak_buf_add(b, "evil");
            return;
        }
        ak_buf_add(b, "project_path:attacker-group");
        if (*tail == '/')
            return;
        ak_buf_add(b, "/x");
        if (*tail != ':')
            ak_buf_add(b, te ? rest : ":ref_type:branch:ref:");
        return;
    }
    if (!strchr(r, '/') && !strchr(r, ':')) {
        ak_buf_add(b, *r ? "-evil" : "attacker-group");
        if (*tail == '/')
            return;
        ak_buf_add(b, "/x");
        ak_buf_add(b, te ? rest : "");
        return;
    }
    if (!strchr(r, ':')) {
        ak_buf_addf(b, "x%s", te ? rest : "");
        return;
    }
    if (has_suffix(prefix, "ref_type:"))
        ak_buf_add(b, "branch");
    else
        ak_buf_add(b, "evil");
}

/* Fills pattern (a StringLike value) into a concrete value; inject_at: the index of the '*'
 * (counting from 0) to fill with a field-crossing value, -1 for none. */
static char *fill(const struct pctx *c, const char *pattern, int inject_at)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX), tail = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t n;
    int *t = ak__iam_pat_tokens(pattern, true, &n);
    int star = 0;

    for (size_t i = 0; i < n; i++) {
        if (t[i] < 256) {
            ak_buf_addc(&b, (char)t[i]);
            continue;
        }
        if (t[i] == AK__IAM_ONE) {
            ak_buf_addc(&b, 'x');
            continue;
        }
        ak_buf_reset(&tail);
        for (size_t k = i + 1; k < n && t[k] < 256; k++)
            ak_buf_addc(&tail, (char)t[k]);
        char *prefix = ak_xstrdup(b.buf);
        if (inject_at >= 0 && star > inject_at)
            ak_buf_add(&b, "x"); /* inside the branch name we already chose */
        else if (c->kind == K_CIRCLECI)
            fill_circleci(&b, c->org, prefix, tail.buf, star == inject_at, pattern);
        else if (c->kind == K_GITHUB)
            fill_github(&b, prefix, tail.buf);
        else if (c->kind == K_GITLAB)
            fill_gitlab(&b, prefix, tail.buf);
        else
            ak_buf_add(&b, "attacker");
        free(prefix);
        star++;
    }
    free(t);
    ak_buf_release(&tail);
    return ak_buf_detach(&b, NULL);
}

static char *literal(const char *v)
{
    size_t n;
    int *t = ak__iam_pat_tokens(v, false, &n);
    char *s = ak_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)t[i];
    s[n] = 0;
    free(t);
    return s;
}

/* ---- counter-examples -------------------------------------------------------------------- */

struct cx {
    const char *sub;          /* NULL: from the statement's own sub pattern, else a stranger's */
    const char *omit;         /* a claim left out (vacuous operators) */
    const char *set_true;     /* a boolean claim forced to true (ssh-rerun) */
};

static struct ak_json *claim_value(const struct pctx *c, const struct ak__iam_cond *k,
                                   const char *claim)
{
    bool boolean = strcasecmp(claim, "oidc.circleci.com/ssh-rerun") == 0;
    struct ak_json *v;
    char *s;

    if (k->base == IAM_NULL)
        return strcasecmp(k->vals[0], "false") == 0 ? ak_json_new_str("x") : NULL;
    if (k->negated)
        return boolean ? ak_json_new_bool(false) : ak_json_new_str("attacker-value");
    s = k->base == IAM_STR_LIKE ? fill(c, k->vals[0], -1) : literal(k->vals[0]);
    if (boolean || k->base == IAM_BOOL)
        v = ak_json_new_bool(strcasecmp(s, "true") == 0);
    else
        v = ak_json_new_str(s);
    free(s);
    if (strcasecmp(claim, "oidc.circleci.com/context-ids") == 0) {
        struct ak_json *a = ak_json_new_arr();
        ak_json_append(a, v);
        v = a;
    }
    return v;
}

static struct ak_json *claims_for(const struct pctx *c, const struct cx *x)
{
    struct ak_json *o = ak_json_new_obj(), *rest = ak_json_new_obj();
    struct ak_json *aud = NULL, *sub = NULL;

    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        const char *cl = claim_of(c, k->key);
        if (!cl || (x->omit && strcasecmp(cl, x->omit) == 0))
            continue;
        if (strcasecmp(cl, "sub") == 0) {
            if (!sub && !x->sub && positive_str(k))
                sub = claim_value(c, k, cl);
            continue;
        }
        if (strcasecmp(cl, "aud") == 0) {
            if (!aud && positive_str(k))
                aud = claim_value(c, k, cl);
            continue;
        }
        if (!ak_json_get(rest, cl)) {
            struct ak_json *v = claim_value(c, k, cl);
            if (v)
                ak_json_set(rest, cl, v);
        }
    }
    if (x->set_true)
        ak_json_set(rest, x->set_true, ak_json_new_bool(true));
    char *iss = ak_xasprintf("https://%s", c->prov);
    ak_json_set(o, "iss", ak_json_new_str(iss));
    free(iss);
    if (!aud)
        aud = ak_json_new_str(c->kind == K_CIRCLECI ? c->org : "sts.amazonaws.com");
    ak_json_set(o, "aud", aud);
    if (!sub) {
        char *s = x->sub ? ak_xstrdup(x->sub) : fill(c, "*", -1);
        sub = ak_json_new_str(s);
        free(s);
    }
    if (!(x->omit && strcmp(x->omit, "sub") == 0))
        ak_json_set(o, "sub", sub);
    else
        ak_json_free(sub);
    for (void *it = ak_json_iter(rest); it; it = ak_json_iter_next(rest, it))
        ak_json_set(o, ak_json_iter_key(it), ak_json_ref(ak_json_iter_value(it)));
    ak_json_free(rest);
    return o;
}

/* The claims JSON text when the whole policy allows it, else NULL. */
static char *counter(const struct pctx *c, const struct cx *x)
{
    struct ak_json *claims = claims_for(c, x);
    struct ak_iam_claims_ctx cc = {0};
    struct ak_iam_result res;
    char *out = NULL;

    if (ak_iam_ctx_from_claims(c->prov, claims, NULL, &cc) == AK_OK) {
        struct ak_iam_ctx ctx = {"Federated", c->fed, "sts:AssumeRoleWithWebIdentity", cc.keys,
                                 cc.n_keys};
        ak_iam_evaluate(c->in->p, &ctx, &res);
        if (res.decision == AK_IAM_ALLOW)
            out = ak_json_dump(claims, AK_JSON_COMPACT);
    }
    ak_iam_claims_ctx_release(&cc);
    ak_json_free(claims);
    return out;
}

static void add_cx(struct pctx *c, const char *rule, enum ak_iam_sev sv, const char *path,
                   const char *title, const char *msg, const struct cx *x)
{
    char *cx = counter(c, x);
    add(c, rule, sv, path, title, msg, cx);
    free(cx);
}

/* ---- AUD-01 / AUD-05: is the tenant pinned at all? ---------------------------------------- */

static void rule_unpinned(struct pctx *c)
{
    bool any_sub = false, neg_sub = false;
    struct cx x = {0};
    char msg[512];

    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        if (!is_claim(c, k, "sub") || k->base == IAM_NULL)
            continue;
        any_sub = true;
        neg_sub |= k->negated;
    }
    if (pins(c, "sub", false) || tenant_pinned_elsewhere(c))
        return;
    x.sub = NULL;
    if (!any_sub) {
        snprintf(msg, sizeof(msg),
                 "no condition restricts %s:sub: every identity the provider issues tokens "
                 "for can assume the role%s",
                 c->prov, c->per_tenant ? " (the issuer is per tenant, so: anyone in it)"
                                        : ", on any repository of any owner");
        add_cx(c, "AUD-01", sev(c, AK_SEV_CRITICAL), c->s->path, "tenant not pinned", msg, &x);
    } else if (neg_sub) {
        snprintf(msg, sizeof(msg),
                 "%s:sub is constrained only by negated operators: a deny-list admits "
                 "everyone not on it",
                 c->prov);
        add_cx(c, "AUD-05", sev(c, AK_SEV_HIGH), c->s->path, "negative-only restriction", msg,
               &x);
    }
}

/* ---- per sub pattern: AUD-02, 03, 04, 14, 15 (GitHub), 19 --------------------------------- */

/* Index of the first wildcard unit, n when none. */
static size_t first_wild(const int *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] >= 256)
            return i;
    return n;
}

static char *lit_prefix(const int *t, size_t n)
{
    size_t w = first_wild(t, n);
    char *s = ak_xmalloc(w + 1);
    for (size_t i = 0; i < w; i++)
        s[i] = (char)t[i];
    s[w] = 0;
    return s;
}

/* Over-broad: the tenant segment (GitHub owner, GitLab top group, CircleCI project) is not
 * fully literal before the first wildcard. Writes what is admitted into why. */
static bool over_broad(const struct pctx *c, const char *v, char *why, size_t n)
{
    size_t nt;
    int *t = ak__iam_pat_tokens(v, true, &nt);
    char *lp = lit_prefix(t, nt);
    bool wild = first_wild(t, nt) < nt, bad = false;
    const char *seg = NULL;

    if (!wild) {
        bad = false;
    } else if (!*lp) {
        bad = true;
        snprintf(why, n, "\"%s\" admits any subject", v);
    } else if (c->kind == K_GITHUB && ak_startswith(lp, "repo:")) {
        seg = lp + 5;
        bad = !strpbrk(seg, "/@") || strpbrk(seg, "/@") == seg;
        if (bad && *seg && !strpbrk(seg, "/@"))
            snprintf(why, n, "\"%s\" admits every owner whose name starts with \"%s\" "
                     "(%s-evil, %sbot, ...): end the owner with '/' or '@<id>/'", v, seg, seg, seg);
        else if (bad)
            snprintf(why, n, "\"%s\" admits any owner on github.com", v);
    } else if (c->kind == K_GITLAB && ak_startswith(lp, "project_path:")) {
        seg = lp + 13;
        bad = !strchr(seg, '/') || strchr(seg, '/') == seg;
        if (bad)
            snprintf(why, n, "\"%s\" admits %s", v,
                     *seg ? "every top-level group starting with that name"
                          : "any group and project on the instance");
    } else if (c->kind == K_CIRCLECI) {
        const char *p = strstr(lp, "/project/");
        bad = !p || !strchr(p + 9, '/') || strchr(p + 9, '/') == p + 9;
        if (bad)
            snprintf(why, n, "\"%s\" admits every project of the organisation%s", v,
                     " (and with fork tokens, their forks)");
    }
    free(lp);
    free(t);
    return bad;
}

/* AUD-03: index of the last '*' followed by a literal that a stranger can forge inside the
 * segment the '*' absorbs; -1 when none. *ret_early: that '*' sits before the user segment of
 * a CircleCI subject, where the plain fill already crosses fields. */
static int forgeable_star(const struct pctx *c, const char *v, bool *ret_early)
{
    size_t n;
    int *t = ak__iam_pat_tokens(v, true, &n);
    struct ak_buf pre = AK_BUF_INIT(AK_BUF_NOMAX), tail = AK_BUF_INIT(AK_BUF_NOMAX);
    int star = -1, found = -1;

    *ret_early = false;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < 256) {
            ak_buf_addc(&pre, (char)t[i]);
            continue;
        }
        ak_buf_addc(&pre, 'x');
        if (t[i] != AK__IAM_STAR)
            continue;
        star++;
        ak_buf_reset(&tail);
        for (size_t k = i + 1; k < n && t[k] < 256; k++)
            ak_buf_addc(&tail, (char)t[k]);
        if (c->kind == K_CIRCLECI) {
            /* a branch name may contain "/vcs-ref/refs/heads/main" */
            if (strstr(tail.buf, "/vcs-ref/") || strstr(tail.buf, "/vcs-origin/") ||
                strstr(tail.buf, "/user/")) {
                found = star;
                *ret_early = !strstr(pre.buf, "/user/");
            }
        } else if (c->kind == K_GITHUB || c->kind == K_GITLAB) {
            /* inside the ref segment a literal tail is a suffix of an attacker-chosen name */
            if (strstr(pre.buf, ":ref:") && tail.len > 0)
                found = star;
        }
    }
    free(t);
    ak_buf_release(&pre);
    ak_buf_release(&tail);
    return found;
}

static bool leading_claim(const struct pctx *c, const char *v)
{
    static const char *const abusable[] = {"workflow", "environment", "ref", "context",
                                           "head_ref", "base_ref"};
    size_t n;
    int *t = ak__iam_pat_tokens(v, true, &n);
    char *lp = lit_prefix(t, n);
    bool bad = false;

    free(t);
    if (c->kind == K_GITHUB) {
        const char *colon = strchr(lp, ':');
        for (size_t i = 0; colon && i < AK_ARRAY_SIZE(abusable) && !bad; i++)
            bad = strlen(abusable[i]) == (size_t)(colon - lp) &&
                  memcmp(lp, abusable[i], (size_t)(colon - lp)) == 0;
        if (strstr(v, "repo:") || strstr(v, "repository_owner") || strstr(v, "repository_id:"))
            bad = false;
    } else if (c->kind == K_CIRCLECI) {
        bad = !*lp && (strstr(v, "vcs-ref/") || strstr(v, "vcs-origin/"));
    }
    free(lp);
    return bad && !tenant_pinned_elsewhere(c);
}

/* AUD-14: "@<id>" that is not a number makes the subject impossible; a '*' right after the
 * owner or repo name also absorbs "@<id>" (both formats, and look-alike names). */
static const char *format_drift(const char *v)
{
    const char *at = strchr(v, '@');
    if (ak_startswith(v, "repo:") && at) {
        const char *e = at + 1;
        while (*e && *e != '/' && *e != ':')
            e++;
        for (const char *p = at + 1; p < e; p++)
            if ((*p < '0' || *p > '9') && *p != '*' && *p != '?')
                return "the immutable subject format needs numeric ids after '@' (owner@123/"
                       "repo@456): this value never matches";
    }
    if (ak_startswith(v, "repo:") && (strstr(v, "*/") || strstr(v, "*:")) &&
        !ak_startswith(v, "repo:*"))
        return "a '*' right after the owner or repository name matches both the legacy and "
               "the immutable (@id) subject formats, and look-alike names";
    return NULL;
}

static void rule_pull_request(struct pctx *c, const char *path, const char *v, bool like)
{
    char *filled = like ? fill(c, v, -1) : literal(v), *cand;
    const char *second = NULL;
    char msg[512];

    if (ak_startswith(filled, "repo:")) {
        second = strchr(filled + 5, ':');
        cand = second ? ak_xasprintf("%.*s:pull_request", (int)(second - filled), filled)
                      : NULL;
        if (cand && ak__iam_str_match(v, cand, like, false, false, NULL)) {
            struct cx x = {cand, NULL, NULL};
            snprintf(msg, sizeof(msg),
                     "\"%s\" also matches pull_request runs (%s): a pull request's workflow "
                     "gets this role",
                     v, cand);
            add_cx(c, "AUD-15", sev(c, AK_SEV_HIGH), path, "untrusted triggers reach the role",
                   msg, &x);
        }
        free(cand);
    }
    free(filled);
}

static void rule_case_circleci(struct pctx *c, const char *path, const char *v)
{
    char want[160];
    snprintf(want, sizeof(want), "org/%s/", c->org);
    if (ak_startswith(v, "org/") && strncasecmp(v, want, strlen(want)) == 0 &&
        strncmp(v, want, strlen(want)) != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "the organisation id in \"%s\" differs in case from the issuer's \"%s\": "
                 "values are case-sensitive, this subject never matches",
                 v, c->org);
        add(c, "AUD-19", AK_SEV_INFO, path, "case differs from the IdP", msg, NULL);
    }
}

/* "owner/repo" named by a positive sub ("repo:owner/repo:...") or repository condition. */
static size_t github_names(const struct pctx *c, char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        bool sub = is_claim(c, k, "sub"), repo = is_claim(c, k, "repository");
        if ((!sub && !repo) || !positive_str(k))
            continue;
        for (size_t v = 0; v < k->n_vals && n < max; v++) {
            const char *s = k->vals[v];
            if (sub && !ak_startswith(s, "repo:"))
                continue;
            s += sub ? 5 : 0;
            size_t len = strcspn(s, sub ? ":" : "");
            names[n++] = ak_xstrndup(s, len);
        }
    }
    return n;
}

/* AUD-19 (GitHub): the same repository written in two cases; values are case-sensitive, so at
 * most one spelling is what GitHub sends (configure-aws-credentials#318). */
static void rule_case_github(struct pctx *c)
{
    char *names[16];
    size_t n = github_names(c, names, 16);
    bool done = false;
    for (size_t i = 0; i < n && !done; i++)
        for (size_t k = i + 1; k < n && !done; k++)
            if (strcasecmp(names[i], names[k]) == 0 && strcmp(names[i], names[k]) != 0) {
                char msg[512];
                snprintf(msg, sizeof(msg),
                         "\"%.100s\" and \"%.100s\" differ only in case: GitHub sends one "
                         "spelling and values compare case-sensitively, so one of these "
                         "conditions never matches", names[i], names[k]);
                add(c, "AUD-19", AK_SEV_INFO, c->s->path, "case differs from the IdP", msg,
                    NULL);
                done = true;
            }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

static void sub_pattern(struct pctx *c, const struct ak__iam_cond *k, const char *v)
{
    char *path = cond_path(c->s, k);
    char why[512], msg[768];
    bool like = k->base == IAM_STR_LIKE;
    const char *drift;

    if (like && !tenant_pinned_elsewhere(c) && over_broad(c, v, why, sizeof(why))) {
        struct cx x = {NULL, NULL, NULL};
        char *s = fill(c, v, -1);
        x.sub = s;
        add_cx(c, "AUD-02", sev(c, AK_SEV_HIGH), path, "over-broad subject", why, &x);
        free(s);
    }
    bool early;
    int star = like ? forgeable_star(c, v, &early) : -1;
    if (star >= 0) {
        char *s = fill(c, v, early ? -1 : star);
        struct cx x = {s, NULL, NULL};
        snprintf(msg, sizeof(msg),
                 "in \"%s\" the '*' can absorb separators, so a stranger's value carries the "
                 "literal tail inside a field they choose (a branch name may contain '/'), "
                 "e.g. \"%s\"",
                 v, s);
        add_cx(c, "AUD-03", sev(c, AK_SEV_HIGH), path,
               "wildcard before an attacker-controlled suffix", msg, &x);
        free(s);
    }
    if (leading_claim(c, v)) {
        char *s = like ? fill(c, v, -1) : literal(v);
        struct cx x = {s, NULL, NULL};
        snprintf(msg, sizeof(msg),
                 "\"%s\" starts with a claim any repository can choose and names no "
                 "repository or owner",
                 v);
        add_cx(c, "AUD-04", sev(c, AK_SEV_HIGH), path, "user-controlled leading claim", msg,
               &x);
        free(s);
    }
    if (c->kind == K_GITHUB && (drift = format_drift(v))) {
        snprintf(msg, sizeof(msg), "\"%s\": %s", v, drift);
        add(c, "AUD-14", sev(c, AK_SEV_MEDIUM), path, "immutable-format drift", msg, NULL);
    }
    if (c->kind == K_GITHUB)
        rule_pull_request(c, path, v, like);
    if (c->kind == K_CIRCLECI)
        rule_case_circleci(c, path, v);
    free(path);
}

static void rule_sub_patterns(struct pctx *c)
{
    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        if (!is_claim(c, k, "sub") || !positive_str(k))
            continue;
        for (size_t v = 0; v < k->n_vals; v++)
            sub_pattern(c, k, k->vals[v]);
    }
}

/* ---- AUD-06, AUD-07 ---------------------------------------------------------------------- */

static bool claim_supported(enum kind kind, const char *claim)
{
    static const char *const std[] = {"sub", "aud", "amr", "azp", "oaud", "app_id", "user_id",
                                      "id"};
    static const char *const gh[] = {"actor", "actor_id", "job_workflow_ref", "repository",
                                     "repository_id", "workflow", "ref", "environment",
                                     "enterprise_id"};
    static const char *const cc[] = {"oidc.circleci.com/project-id",
                                     "oidc.circleci.com/vcs-origin", "oidc.circleci.com/vcs-ref",
                                     "oidc.circleci.com/context-ids",
                                     "oidc.circleci.com/ssh-rerun"};
    for (size_t i = 0; i < AK_ARRAY_SIZE(std); i++)
        if (strcasecmp(claim, std[i]) == 0)
            return true;
    for (size_t i = 0; kind == K_GITHUB && i < AK_ARRAY_SIZE(gh); i++)
        if (strcasecmp(claim, gh[i]) == 0)
            return true;
    for (size_t i = 0; kind == K_CIRCLECI && i < AK_ARRAY_SIZE(cc); i++)
        if (strcasecmp(claim, cc[i]) == 0)
            return true;
    return false;
}

/* A key of some other identity provider: "host.tld/...:claim" (not aws:, sts:, ...). */
static bool foreign_provider_key(const struct pctx *c, const char *key)
{
    const char *colon = strchr(key, ':');
    if (!colon || claim_of(c, key))
        return false;
    return memchr(key, '.', (size_t)(colon - key)) != NULL;
}

static void rule_keys(struct pctx *c)
{
    char msg[768];
    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        const char *cl = claim_of(c, k->key);
        char *path;
        bool noop = k->negated || vacuous(k) || (k->base == IAM_NULL &&
                                                 strcasecmp(k->vals[0], "true") == 0);

        if ((cl && !claim_supported(c->kind, cl)) || foreign_provider_key(c, k->key)) {
            struct cx x = {0};
            path = cond_path(c->s, k);
            snprintf(msg, sizeof(msg),
                     "%s is not a condition key AWS populates for %s: %s", k->key, c->prov,
                     noop ? "this check is a no-op (always true)"
                          : "the statement can never match");
            if (noop)
                add_cx(c, "AUD-07", AK_SEV_MEDIUM, path, "unsupported claim key", msg, &x);
            else
                add(c, "AUD-07", AK_SEV_MEDIUM, path, "unsupported claim key", msg, NULL);
            free(path);
            continue;
        }
        if (cl && vacuous(k) && k->base != IAM_NULL) {
            struct cx x = {NULL, cl, NULL};
            bool always = strcasecmp(cl, "sub") == 0 || strcasecmp(cl, "aud") == 0;
            path = cond_path(c->s, k);
            snprintf(msg, sizeof(msg),
                     "%s on %s is true when the token lacks the claim%s; use the plain "
                     "operator",
                     k->op, k->key,
                     always ? " (every token has it today, but nothing in the policy says so)"
                            : ", which a stranger's token can simply omit");
            if (always)
                add(c, "AUD-06", sev(c, AK_SEV_HIGH), path, "vacuous set/IfExists operator",
                    msg, NULL);
            else
                add_cx(c, "AUD-06", sev(c, AK_SEV_HIGH), path, "vacuous set/IfExists operator",
                       msg, &x);
            free(path);
        }
    }
}

/* ---- AUD-13, 15 (CircleCI), 16 ----------------------------------------------------------- */

static bool sub_has_immutable(const struct pctx *c)
{
    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        if (is_claim(c, k, "sub") && positive_str(k))
            for (size_t v = 0; v < k->n_vals; v++)
                if (ak_startswith(k->vals[v], "repo:") && strchr(k->vals[v], '@'))
                    return true;
    }
    return false;
}

static void rule_mutable(struct pctx *c)
{
    char msg[512];
    if (!pins(c, "sub", true) && !pins(c, "repository", true))
        return;
    if (c->kind == K_GITHUB && !pins(c, "repository_id", true) && !sub_has_immutable(c)) {
        snprintf(msg, sizeof(msg),
                 "the role is pinned by owner/repository names only: after a rename or "
                 "deletion someone else can register the name and mint the same subject; add "
                 "StringEquals %s:repository_id (or use the owner@id/repo@id subject)",
                 c->prov);
        add(c, "AUD-13", sev(c, AK_SEV_MEDIUM), c->s->path, "mutable identity", msg, NULL);
    } else if (c->kind == K_GITLAB) {
        snprintf(msg, sizeof(msg),
                 "GitLab subjects carry the project path, which can be re-registered after a "
                 "rename or deletion, and AWS has no GitLab id condition key: keep the "
                 "namespace");
        add(c, "AUD-13", AK_SEV_LOW, c->s->path, "mutable identity", msg, NULL);
    }
}

static bool ssh_rerun_excluded(const struct pctx *c)
{
    const struct ak_iam_policy *p = c->in->p;
    for (size_t i = 0; i < p->n_st; i++) {
        const struct ak__iam_stmt *s = &p->st[i];
        bool mine = s == c->s;
        if (!mine && !s->deny)
            continue;
        for (size_t k = 0; k < s->n_conds; k++) {
            const struct ak__iam_cond *q = &s->conds[k];
            if (!is_claim(c, q, "oidc.circleci.com/ssh-rerun") || q->base == IAM_NULL)
                continue;
            bool says_true = strcasecmp(q->vals[0], "true") == 0;
            if (s->deny && !q->negated && says_true)
                return true;
            if (mine && !vacuous(q) && (q->negated == says_true))
                return true;
        }
    }
    return false;
}

static void rule_untrusted_circleci(struct pctx *c)
{
    struct cx x = {NULL, NULL, "oidc.circleci.com/ssh-rerun"};
    char msg[512];
    if (ssh_rerun_excluded(c))
        return;
    snprintf(msg, sizeof(msg),
             "nothing excludes jobs re-run with SSH (%s:oidc.circleci.com/ssh-rerun): whoever "
             "may SSH into a job gets the role interactively; add a Deny statement with Bool "
             "that key \"true\"",
             c->prov);
    add_cx(c, "AUD-15", sev(c, AK_SEV_HIGH), c->s->path, "untrusted triggers reach the role",
           msg, &x);
}

static const struct ak__iam_provider *known_provider(const struct pctx *c)
{
    for (size_t i = 0; i < c->in->n_providers; i++) {
        const char *u = c->in->providers[i].url;
        if (u && ak_startswith(u, "https://") && strcmp(u + 8, c->prov) == 0)
            return &c->in->providers[i];
    }
    return NULL;
}

static void rule_audience(struct pctx *c)
{
    const struct ak__iam_provider *pv = known_provider(c);
    bool any = false;
    char msg[512];

    for (size_t i = 0; i < c->s->n_conds; i++) {
        const struct ak__iam_cond *k = &c->s->conds[i];
        if (!is_claim(c, k, "aud") || !positive_str(k))
            continue;
        char *path = cond_path(c->s, k);
        any = true;
        for (size_t v = 0; v < k->n_vals; v++) {
            if (strcmp(k->vals[v], "sts.amazonaws.com") == 0 && c->kind != K_CIRCLECI) {
                add(c, "AUD-16", AK_SEV_INFO, path, "audience hygiene",
                    "the audience sts.amazonaws.com is the same for every AWS customer: it "
                    "gives no tenant isolation (the subject must)", NULL);
            } else if (c->kind == K_CIRCLECI && strcmp(k->vals[v], c->org) != 0) {
                snprintf(msg, sizeof(msg),
                         "CircleCI tokens carry the organisation id (%s) as audience; \"%s\" "
                         "means a custom audience: check that jobs request it", c->org,
                         k->vals[v]);
                add(c, "AUD-16", AK_SEV_LOW, path, "audience hygiene", msg, NULL);
            }
        }
        free(path);
    }
    if (!any && pv && pv->n_client_ids > 1) {
        snprintf(msg, sizeof(msg),
                 "no %s:aud condition while the provider accepts %zu audiences: a token "
                 "minted for any of them works",
                 c->prov, pv->n_client_ids);
        add(c, "AUD-16", AK_SEV_LOW, c->s->path, "audience hygiene", msg, NULL);
    }
}

/* ---- statement-level rules --------------------------------------------------------------- */

static void rule_statement(const struct ak__iam_audit_in *in, const struct ak__iam_stmt *s,
                           struct ak_iam_findings *out)
{
    bool fed = false, other = false, star = false;
    struct ak_buf path = AK_BUF_INIT(AK_BUF_NOMAX);

    for (size_t i = 0; i < s->n_pr; i++) {
        star |= strcmp(s->pr[i].value, "*") == 0;
        if (strcmp(s->pr[i].type, "Federated") == 0)
            fed = true;
        else if (strcmp(s->pr[i].type, "*") != 0)
            other = true;
    }
    ak_buf_addf(&path, "%s.%s", s->path, s->not_principal ? "NotPrincipal" : "Principal");
    if (star && !s->deny) {
        struct ak__iam_stmt fake = *s;
        struct pctx c = {in, &fake, "arn:aws:iam::111122223333:oidc-provider/attacker.example",
                         "attacker.example", K_OTHER, false, "", out};
        char *cx = counter(&c, &(struct cx){NULL, NULL, NULL});
        ak__iam_finding_add(out, "AUD-11", AK_SEV_CRITICAL, in->source, path.buf,
                            "wildcard principal",
                            "the principal is \"*\": any identity provider or AWS account "
                            "passes the principal check, only conditions remain", cx);
        free(cx);
    }
    if (s->not_principal && !s->deny)
        ak__iam_finding_add(out, "AUD-11", AK_SEV_CRITICAL, in->source, path.buf,
                            "wildcard principal",
                            "NotPrincipal in an Allow admits every principal not listed "
                            "(and is not supported in role trust policies)", NULL);
    if (fed && other && !s->deny)
        ak__iam_finding_add(out, "AUD-12", AK_SEV_MEDIUM, in->source, path.buf,
                            "mixed principals",
                            "OIDC and AWS/Service principals share one statement: for the "
                            "non-OIDC principals the token claim keys are absent, so negated "
                            "and IfExists conditions pass for them; split the statement", NULL);
    ak_buf_reset(&path);
    ak_buf_addf(&path, "%s.%s", s->path, s->not_action ? "NotAction" : "Action");
    bool wild = s->not_action;
    for (size_t i = 0; i < s->n_actions; i++)
        wild |= strpbrk(s->actions[i], "*?") != NULL;
    if (fed && wild && !s->deny)
        ak__iam_finding_add(out, "AUD-10", AK_SEV_HIGH, in->source, path.buf,
                            "action wildcard",
                            s->not_action ? "NotAction in a federated Allow grants every "
                                            "other action, session tagging included"
                                          : "a wildcard action in a federated statement also "
                                            "grants sts:TagSession / sts:SetSourceIdentity and "
                                            "any AssumeRole* variant: name "
                                            "sts:AssumeRoleWithWebIdentity",
                            NULL);
    ak_buf_release(&path);
}

static void rule_literal_wildcards(const struct ak__iam_audit_in *in, const struct ak__iam_stmt *s,
                                   struct ak_iam_findings *out)
{
    for (size_t i = 0; i < s->n_conds; i++) {
        const struct ak__iam_cond *k = &s->conds[i];
        bool eq = k->base == IAM_STR_EQ || k->base == IAM_STR_EQ_IC;
        bool wild = false, none = true;
        if (!eq && k->base != IAM_STR_LIKE)
            continue;
        for (size_t v = 0; v < k->n_vals; v++) {
            size_t n;
            int *t = ak__iam_pat_tokens(k->vals[v], true, &n);
            bool w = first_wild(t, n) < n;
            free(t);
            wild |= w;
            none &= !w;
        }
        char *path = cond_path(s, k);
        char msg[512];
        if (eq && wild) {
            snprintf(msg, sizeof(msg),
                     "%s compares '*' and '?' literally: \"%s\" only matches itself, so the "
                     "condition is %s; use StringLike",
                     k->op, k->vals[0], k->negated ? "a no-op" : "dead");
            ak__iam_finding_add(out, "AUD-09", AK_SEV_MEDIUM, in->source, path,
                                "literal wildcard", msg, NULL);
        } else if (!eq && none && !k->negated) {
            snprintf(msg, sizeof(msg),
                     "StringLike without a wildcard is an exact match (\"%s\"): fine, "
                     "StringEquals says it plainer", k->vals[0]);
            ak__iam_finding_add(out, "AUD-09", AK_SEV_INFO, in->source, path,
                                "literal wildcard", msg, NULL);
        }
        free(path);
    }
}

static void audit_provider(const struct ak__iam_audit_in *in, const struct ak__iam_stmt *s,
                           const char *fed, const char *prov, struct ak_iam_findings *out)
{
    struct pctx c = {in, s, fed, prov, kind_of(prov), false, "", out};

    c.per_tenant = !multi_tenant(prov);
    if (c.kind == K_CIRCLECI)
        snprintf(c.org, sizeof(c.org), "%s", prov + strlen("oidc.circleci.com/org/"));
    rule_unpinned(&c);
    rule_sub_patterns(&c);
    rule_keys(&c);
    rule_mutable(&c);
    if (c.kind == K_GITHUB)
        rule_case_github(&c);
    if (c.kind == K_CIRCLECI)
        rule_untrusted_circleci(&c);
    rule_audience(&c);
    if (ak_endswith(prov, "/")) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "the provider \"%s\" ends with '/': it must equal the token's iss exactly "
                 "(without https://), and condition keys then read \"%s:sub\"", prov, prov);
        add(&c, "AUD-18", AK_SEV_INFO, s->path, "provider hygiene", msg, NULL);
    }
}

void ak__iam_audit_policy(const struct ak__iam_audit_in *in, struct ak_iam_findings *out)
{
    const struct ak_iam_policy *p = in->p;
    for (size_t i = 0; i < p->n_st; i++) {
        const struct ak__iam_stmt *s = &p->st[i];
        rule_statement(in, s, out);
        rule_literal_wildcards(in, s, out);
        if (s->deny || s->not_principal)
            continue;
        for (size_t k = 0; k < s->n_pr; k++) {
            const char *prov;
            if (strcmp(s->pr[k].type, "Federated") != 0 ||
                !(prov = ak__iam_oidc_provider(s->pr[k].value)))
                continue;
            audit_provider(in, s, s->pr[k].value, prov, out);
        }
    }
    if (in->max_session_s > SESSION_LONG_S) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "MaxSessionDuration is %lld s: a CI job rarely needs more than an hour, and a "
                 "leaked session lives as long", in->max_session_s);
        ak__iam_finding_add(out, "AUD-17", AK_SEV_LOW, in->source, "$.MaxSessionDuration",
                            "session length", msg, NULL);
    }
}

void ak__iam_audit_providers(struct ak__iam_provider *pv, size_t n, const char *source,
                             struct ak_iam_findings *out)
{
    for (size_t i = 0; i < n; i++) {
        const char *u = pv[i].url ? pv[i].url : "";
        char msg[512], src[512];
        snprintf(src, sizeof(src), "%s: %s", source, pv[i].address ? pv[i].address : "provider");
        if (!ak_startswith(u, "https://") || ak_endswith(u, "/") ||
            strpbrk(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
            snprintf(msg, sizeof(msg),
                     "the provider URL \"%s\" must be https://, without a trailing '/', and in "
                     "the exact case of the tokens' iss", u);
            ak__iam_finding_add(out, "AUD-18", AK_SEV_INFO, src, "$.url", "provider hygiene",
                                msg, NULL);
        }
        for (size_t t = 0; t < pv[i].n_thumbprints; t++) {
            const char *h = pv[i].thumbprints[t];
            if (strlen(h) == 40 && strspn(h, "0123456789abcdefABCDEF") == 40)
                continue;
            snprintf(msg, sizeof(msg), "thumbprint \"%.60s\" is not 40 hex digits", h);
            ak__iam_finding_add(out, "AUD-18", AK_SEV_INFO, src, "$.thumbprint_list",
                                "provider hygiene", msg, NULL);
        }
        if (!pv[i].used)
            ak__iam_finding_add(out, "AUD-18", AK_SEV_INFO, src, "$",
                                "provider hygiene",
                                "no role in this input trusts the provider: remove it or "
                                "check the roles' Federated principal", NULL);
    }
}
