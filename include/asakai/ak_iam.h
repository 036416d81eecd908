/* ak_iam.h — IAM trust policies: parse, evaluate with IAM's semantics, explain, audit (src/iam/).
 *
 * Pure functions (no I/O, no logging, no globals). Semantics: ../shared/docs/reference/oidc-sts.md
 * §3 (decision, Principal, Action wildcards, condition operators, missing keys, IfExists, Null,
 * ForAnyValue/ForAllValues, case rules) and the algorithm of §3.9; audit rules AUD-01..AUD-19 of
 * §6.3; token shapes of §5. The policy parser has a fuzz target (policy).
 */
#ifndef AK_IAM_H
#define AK_IAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_json;

#define AK_IAM_POLICY_MAX (64 * 1024)

/* A parsed policy document (opaque). */
struct ak_iam_policy;

/* Parses a policy document: Version, Statement (an object or an array) with Sid, Effect
 * (Allow|Deny), Principal ("*" or {"Federated"|"AWS"|"Service"|"CanonicalUser": string or
 * array}), NotPrincipal, Action / NotAction (string or array), Resource / NotResource (kept),
 * Condition {operator: {key: string | bool | number | array of them}}. Operators: the String*,
 * Arn*, Numeric*, Date*, Bool, Null, IpAddress families, with ForAnyValue:/ForAllValues: prefixes
 * and the IfExists suffix. A duplicate key ANYWHERE is an error naming its JSON path (IAM
 * silently keeps the last: a dropped condition), as is an unknown operator, a missing Effect, an
 * Effect other than Allow/Deny. AK_EINVAL with "$.Statement[0].Condition.StringLike: ..." in
 * err; AK_ETOOBIG over AK_IAM_POLICY_MAX. */
int ak_iam_policy_parse(const char *json, size_t len, struct ak_iam_policy **ret,
                        struct ak_buf *err);
void ak_iam_policy_free(struct ak_iam_policy *p);

/* A request context: condition keys are case-insensitive; each has one or more values. */
struct ak_iam_key {
    const char *name;            /* "oidc.circleci.com/org/O:sub", "sts:RoleSessionName" */
    const char *const *values;
    size_t n_values;
};
struct ak_iam_ctx {
    const char *principal_type;  /* "Federated" for web identity */
    const char *principal;       /* "arn:aws:iam::123456789012:oidc-provider/oidc.circleci.com/org/O" */
    const char *action;          /* "sts:AssumeRoleWithWebIdentity" */
    const struct ak_iam_key *keys;
    size_t n_keys;
};

enum ak_iam_decision { AK_IAM_IMPLICIT_DENY = 0, AK_IAM_ALLOW, AK_IAM_EXPLICIT_DENY };

struct ak_iam_result {
    enum ak_iam_decision decision;
    int statement;               /* index of the deciding statement; -1 for an implicit deny */
    char sid[128];               /* its Sid, "" when none */
    /* One line, for the log and `oidc simulate`: for an allow, the statement; for a deny, the
     * statement that came nearest and its first failing condition, e.g.
     * "Statement[0]: StringLike oidc.circleci.com/org/O:sub [org/O/project/P/user/u*] does
     *  not match \"org/O/project/Q/user/u\"" or "no statement names principal X". */
    char why[768];
};

/* Evaluates p for ctx (explicit Deny > Allow > implicit deny). Never fails. */
void ak_iam_evaluate(const struct ak_iam_policy *p, const struct ak_iam_ctx *ctx,
                     struct ak_iam_result *ret);

/* The condition keys AWS populates for a web-identity request from the token's claims:
 * "<provider>:sub", "<provider>:aud" (each element), "<provider>:amr", "<provider>:azp",
 * "<provider>:oaud" when present, and the provider-specific claim keys AWS accepts (GitHub:
 * actor, actor_id, job_workflow_ref, repository, repository_id, workflow, ref, environment,
 * enterprise_id; CircleCI: oidc.circleci.com/project-id, vcs-origin, vcs-ref, context-ids,
 * ssh-rerun) — any other claim is NOT a key. provider is the provider URL without "https://".
 * session_name adds "sts:RoleSessionName". The result owns its strings. */
struct ak_iam_claims_ctx {
    struct ak_iam_key *keys;
    size_t n_keys;
    void *priv;
};
int ak_iam_ctx_from_claims(const char *provider, const struct ak_json *claims,
                           const char *session_name, struct ak_iam_claims_ctx *ret);
void ak_iam_claims_ctx_release(struct ak_iam_claims_ctx *c);

/* ---- audit (`asakai oidc audit`) ------------------------------------------------------ */

enum ak_iam_sev { AK_SEV_INFO = 0, AK_SEV_LOW, AK_SEV_MEDIUM, AK_SEV_HIGH, AK_SEV_CRITICAL };
const char *ak_iam_sev_name(enum ak_iam_sev s);       /* "info".."critical" */
int ak_iam_sev_parse(const char *s, enum ak_iam_sev *ret); /* AK_EINVAL when unknown */

struct ak_iam_finding {
    char *rule;            /* "AUD-03" */
    enum ak_iam_sev severity;
    char *source;          /* file name, plus the role name when known ("plan.json: role deploy") */
    char *path;            /* JSON path in the policy: $.Statement[0].Condition.StringLike["...:sub"] */
    char *title;           /* "wildcard before an attacker-controlled suffix" */
    char *message;         /* plain explanation */
    char *counter_example; /* the minimal claims a stranger needs, as JSON object text; NULL when
                              the rule is not about who can assume (e.g. provider hygiene) */
};
struct ak_iam_findings {
    struct ak_iam_finding *v;
    size_t n;
};
void ak_iam_findings_release(struct ak_iam_findings *f);

/* Audits one input document, auto-detected: a trust policy, `aws iam get-role` output
 * ({"Role": {"AssumeRolePolicyDocument": ..., "MaxSessionDuration"}}; the document may be
 * URL-encoded text), or `terraform show -json` plan/state (aws_iam_role.assume_role_policy and
 * aws_iam_openid_connect_provider). source names the input in findings. Findings are appended to
 * ret (sorted by severity, highest first, after the call). AK_EINVAL when the input is none of
 * these (a duplicate key is not an error here: it is finding AUD-08). */
int ak_iam_audit(const char *json, size_t len, const char *source, struct ak_iam_findings *ret,
                 struct ak_buf *err);

/* JSON array of findings ({rule, severity, source, path, title, message, counter_example}) and a
 * SARIF 2.1.0 log of them (tool "asakai-oidc-audit", one rule per AUD id, level error for
 * high/critical, warning for medium, note below). */
struct ak_json *ak_iam_findings_json(const struct ak_iam_findings *f);
struct ak_json *ak_iam_findings_sarif(const struct ak_iam_findings *f);

/* ---- `asakai oidc init`: a safe starting point ----------------------------------------- */

struct ak_iam_init {
    const char *ci;          /* "circleci" | "github" | "gitlab" */
    const char *account_id;  /* 12 digits */
    const char *role_name;   /* default "<ci>-deploy" */
    /* circleci: org_id (UUID), project_id (UUID, optional: all projects of the org),
     * branch (optional: vcs-ref refs/heads/<branch>); github: owner, repo, branch or
     * environment; gitlab: host (default gitlab.com), project_path, branch */
    const char *org_id, *project_id, *owner, *repo, *project_path, *host, *branch, *environment;
    int64_t max_session_s;   /* default 3600 */
    /* github: the numeric repository id (`gh api repos/OWNER/REPO --jq .id`), pinned with
     * :repository_id so that a re-registered name does not inherit the role (AUD-13). */
    const char *repo_id;
};
/* Terraform JSON (.tf.json): aws_iam_openid_connect_provider + aws_iam_role with a trust policy
 * that passes ak_iam_audit with no finding at or above medium. AK_EINVAL naming the missing or
 * malformed field. */
int ak_iam_init_tf(const struct ak_iam_init *in, struct ak_json **ret, struct ak_buf *err);

#endif
