/* init.c — `asakai oidc init`: Terraform JSON for an OIDC provider and a CI role whose trust
 * policy passes the audit with nothing at or above medium.
 *
 * The principal is written as the literal provider ARN (not an interpolation of the provider
 * resource) so that the policy text is exactly what IAM stores and what the audit reads; the
 * role depends_on the provider instead. Every input is validated against a narrow charset:
 * strings in .tf.json are templates, so "${" or "%{" in a branch name would be interpolated. */
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

#define ACTION "sts:AssumeRoleWithWebIdentity"

static bool charset(const char *s, const char *extra, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c && strchr(extra, c));
        if (!ok)
            return false;
    }
    return true;
}

static bool uuid_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
            return false;
    }
    return true;
}

/* Git ref names: no wildcards (they would be literal under StringEquals), no template
 * markers, no controls. */
static bool ref_ok(const char *s)
{
    return charset(s, "-_./+@=,", 1, 200) && !strstr(s, "..") && s[0] != '/' &&
           !ak_endswith(s, "/");
}

struct out {
    struct ak_json *conds;     /* the Allow statement's Condition */
    const char *prov;
    char *arn;
};

static void cond(struct out *o, const char *op, const char *claim, const char *value)
{
    struct ak_json *m = ak_json_get(o->conds, op);
    char *key = ak_xasprintf("%s:%s", o->prov, claim);
    if (!m) {
        m = ak_json_new_obj();
        ak_json_set(o->conds, op, m);
    }
    ak_json_set_str(m, key, value);
    free(key);
}

static struct ak_json *statement(const char *sid, const char *effect, const char *arn,
                                 struct ak_json *conds)
{
    struct ak_json *s = ak_json_new_obj(), *pr = ak_json_new_obj();
    ak_json_set_str(s, "Sid", sid);
    ak_json_set_str(s, "Effect", effect);
    ak_json_set_str(pr, "Federated", arn);
    ak_json_set(s, "Principal", pr);
    ak_json_set_str(s, "Action", ACTION);
    ak_json_set(s, "Condition", conds);
    return s;
}

static int circleci(const struct ak_iam_init *in, struct out *o, struct ak_json *stmts,
                    struct ak_json *aud, struct ak_buf *err)
{
    if (!uuid_ok(in->org_id))
        return ak_err(err, AK_EINVAL, "org_id: expected the organisation UUID in lowercase "
                      "(Organization Settings > Overview)");
    /* An org-wide role (any project) is what AUD-02 reports: the starting point names one. */
    if (!uuid_ok(in->project_id))
        return ak_err(err, AK_EINVAL, "project_id: expected the project UUID in lowercase "
                      "(Project Settings > Overview); an org-wide role is not a safe default");
    if (in->branch && !ref_ok(in->branch))
        return ak_err(err, AK_EINVAL, "branch: \"%s\" is not a plain git branch name",
                      in->branch);
    char *sub = ak_xasprintf("org/%s/project/%s/user/*", in->org_id, in->project_id);
    /* the project is pinned by the subject (CircleCI writes its leading fields); the branch
     * needs the vcs-ref key: in the subject a '*' lets a crafted branch name through (AUD-03) */
    cond(o, "StringEquals", "aud", in->org_id);
    if (in->branch) {
        char *ref = ak_xasprintf("refs/heads/%s", in->branch);
        cond(o, "StringEquals", "oidc.circleci.com/vcs-ref", ref);
        free(ref);
    }
    cond(o, "StringLike", "sub", sub);
    free(sub);
    ak_json_append(aud, ak_json_new_str(in->org_id));

    /* jobs re-run with SSH hand the role to whoever is at the keyboard (AUD-15) */
    struct ak_json *deny = ak_json_new_obj(), *b = ak_json_new_obj();
    char *key = ak_xasprintf("%s:oidc.circleci.com/ssh-rerun", o->prov);
    ak_json_set_str(b, key, "true");
    ak_json_set(deny, "Bool", b);
    free(key);
    ak_json_append(stmts, statement("NoSshReruns", "Deny", o->arn, deny));
    return AK_OK;
}

static int github(const struct ak_iam_init *in, struct out *o, struct ak_json *aud,
                  struct ak_buf *err)
{
    char *sub;
    if (!charset(in->owner, "-", 1, 39))
        return ak_err(err, AK_EINVAL, "owner: expected a GitHub user or organisation name");
    if (!charset(in->repo, "-_.", 1, 100))
        return ak_err(err, AK_EINVAL, "repo: expected a GitHub repository name");
    if (!charset(in->repo_id, "", 1, 20))
        return ak_err(err, AK_EINVAL, "repo_id: expected the numeric repository id (gh api "
                      "repos/%s/%s --jq .id): names alone can be re-registered (AUD-13)",
                      in->owner, in->repo);
    for (const char *p = in->repo_id; *p; p++)
        if (*p < '0' || *p > '9')
            return ak_err(err, AK_EINVAL, "repo_id: \"%s\" is not a number", in->repo_id);
    if (!in->branch == !in->environment)
        return ak_err(err, AK_EINVAL, "branch or environment: give exactly one (a role for "
                      "every ref also serves pull requests)");
    if (in->branch && !ref_ok(in->branch))
        return ak_err(err, AK_EINVAL, "branch: \"%s\" is not a plain git branch name",
                      in->branch);
    if (in->environment && !charset(in->environment, "-_. ", 1, 255))
        return ak_err(err, AK_EINVAL, "environment: \"%s\" is not a plain environment name",
                      in->environment);
    if (in->branch)
        sub = ak_xasprintf("repo:%s/%s:ref:refs/heads/%s", in->owner, in->repo, in->branch);
    else
        sub = ak_xasprintf("repo:%s/%s:environment:%s", in->owner, in->repo, in->environment);
    cond(o, "StringEquals", "aud", "sts.amazonaws.com");
    cond(o, "StringEquals", "sub", sub);
    cond(o, "StringEquals", "repository_id", in->repo_id);
    free(sub);
    ak_json_append(aud, ak_json_new_str("sts.amazonaws.com"));
    return AK_OK;
}

static int gitlab(const struct ak_iam_init *in, struct out *o, struct ak_json *aud,
                  struct ak_buf *err)
{
    const char *host = in->host ? in->host : "gitlab.com";
    if (!charset(host, "-.", 1, 200) || strchr(host, '.') == NULL)
        return ak_err(err, AK_EINVAL, "host: expected a host name such as gitlab.com (no "
                      "https://, no port)");
    if (!charset(in->project_path, "-_./", 3, 255) || !strchr(in->project_path, '/') ||
        in->project_path[0] == '/' || ak_endswith(in->project_path, "/"))
        return ak_err(err, AK_EINVAL, "project_path: expected group/project");
    if (!in->branch || !ref_ok(in->branch))
        return ak_err(err, AK_EINVAL, "branch: expected a plain git branch name");
    char *sub = ak_xasprintf("project_path:%s:ref_type:branch:ref:%s", in->project_path,
                             in->branch);
    char *audv = ak_xasprintf("https://%s", host);
    cond(o, "StringEquals", "aud", audv);
    cond(o, "StringEquals", "sub", sub);
    ak_json_append(aud, ak_json_new_str(audv));
    free(sub);
    free(audv);
    return AK_OK;
}

static char *provider_of(const struct ak_iam_init *in)
{
    if (strcmp(in->ci, "circleci") == 0)
        return ak_xasprintf("oidc.circleci.com/org/%s", in->org_id ? in->org_id : "");
    if (strcmp(in->ci, "github") == 0)
        return ak_xstrdup("token.actions.githubusercontent.com");
    return ak_xstrdup(in->host ? in->host : "gitlab.com");
}

static char *tf_name(const char *s)
{
    char *n = ak_xstrdup(s);
    for (char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    return n;
}

static struct ak_json *document(const struct out *o, struct ak_json *stmts)
{
    struct ak_json *doc = ak_json_new_obj(), *all = ak_json_new_arr();
    ak_json_set_str(doc, "Version", "2012-10-17");
    ak_json_append(all, statement("CiDeploy", "Allow", o->arn, ak_json_ref(o->conds)));
    for (size_t i = 0; i < ak_json_len(stmts); i++)
        ak_json_append(all, ak_json_ref(ak_json_at(stmts, i)));
    ak_json_set(doc, "Statement", all);
    return doc;
}

static struct ak_json *tf_json(const struct ak_iam_init *in, const char *role, const char *prov,
                               struct ak_json *aud, const char *policy, int64_t max_s)
{
    struct ak_json *tf = ak_json_new_obj(), *res = ak_json_new_obj(), *pv = ak_json_new_obj();
    struct ak_json *pvi = ak_json_new_obj(), *roles = ak_json_new_obj(), *r = ak_json_new_obj();
    struct ak_json *terraform = ak_json_new_obj(), *req = ak_json_new_obj();
    struct ak_json *aws = ak_json_new_obj(), *dep = ak_json_new_arr();
    char *url = ak_xasprintf("https://%s", prov), *rn = tf_name(role);
    char *depname = ak_xasprintf("aws_iam_openid_connect_provider.%s", in->ci);

    /* thumbprint_list became optional in the AWS provider 5.x (AWS trusts public CAs) */
    ak_json_set_str(aws, "source", "hashicorp/aws");
    ak_json_set_str(aws, "version", ">= 5.81.0");
    ak_json_set(req, "aws", aws);
    ak_json_set(terraform, "required_providers", req);
    ak_json_set(tf, "terraform", terraform);
    ak_json_set_str(pvi, "url", url);
    ak_json_set(pvi, "client_id_list", aud);
    ak_json_set(pv, in->ci, pvi);
    ak_json_set(res, "aws_iam_openid_connect_provider", pv);
    ak_json_set_str(r, "name", role);
    ak_json_set_int(r, "max_session_duration", max_s);
    ak_json_set_str(r, "assume_role_policy", policy);
    ak_json_append(dep, ak_json_new_str(depname));
    ak_json_set(r, "depends_on", dep);
    ak_json_set(roles, rn, r);
    ak_json_set(res, "aws_iam_role", roles);
    ak_json_set(tf, "resource", res);
    free(url);
    free(rn);
    free(depname);
    return tf;
}

int ak_iam_init_tf(const struct ak_iam_init *in, struct ak_json **ret, struct ak_buf *err)
{
    struct out o = {NULL, NULL, NULL};
    struct ak_json *stmts = NULL, *aud = NULL, *doc = NULL;
    char *prov = NULL, *role = NULL, *policy = NULL;
    int64_t max_s;
    int r;

    if (!in || !in->ci || (strcmp(in->ci, "circleci") && strcmp(in->ci, "github") &&
                           strcmp(in->ci, "gitlab")))
        return ak_err(err, AK_EINVAL, "ci: expected circleci, github or gitlab");
    if (!charset(in->account_id, "", 12, 12))
        return ak_err(err, AK_EINVAL, "account_id: expected the 12-digit AWS account id");
    for (const char *p = in->account_id; *p; p++)
        if (*p < '0' || *p > '9')
            return ak_err(err, AK_EINVAL, "account_id: expected the 12-digit AWS account id");
    role = in->role_name ? ak_xstrdup(in->role_name) : ak_xasprintf("%s-deploy", in->ci);
    if (!charset(role, "+=,.@_-", 1, 64)) {
        r = ak_err(err, AK_EINVAL, "role_name: 1 to 64 of letters, digits and +=,.@_-");
        goto out;
    }
    max_s = in->max_session_s ? in->max_session_s : 3600;
    if (max_s < 3600 || max_s > 43200) {
        r = ak_err(err, AK_EINVAL, "max_session_s: %lld is outside 3600..43200",
                   (long long)max_s);
        goto out;
    }
    prov = provider_of(in);
    o.prov = prov;
    o.arn = ak_xasprintf("arn:aws:iam::%s:oidc-provider/%s", in->account_id, prov);
    o.conds = ak_json_new_obj();
    stmts = ak_json_new_arr();
    aud = ak_json_new_arr();
    if (strcmp(in->ci, "circleci") == 0)
        r = circleci(in, &o, stmts, aud, err);
    else if (strcmp(in->ci, "github") == 0)
        r = github(in, &o, aud, err);
    else
        r = gitlab(in, &o, aud, err);
    if (r)
        goto out;
    doc = document(&o, stmts);
    policy = ak_json_dump(doc, AK_JSON_PRETTY);
    *ret = tf_json(in, role, prov, ak_json_ref(aud), policy, max_s);
out:
    ak_json_free(o.conds);
    free(o.arn);
    ak_json_free(stmts);
    ak_json_free(aud);
    ak_json_free(doc);
    free(prov);
    free(role);
    free(policy);
    return r;
}
