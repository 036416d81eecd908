/* iam_int.h — the iam module's private model, shared by policy.c, eval.c, audit*.c, init.c. */
#ifndef AK_IAM_INT_H
#define AK_IAM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "asakai/ak_iam.h"

struct ak_buf;
struct ak_json;

enum ak__iam_base {
    IAM_STR_EQ, IAM_STR_EQ_IC, IAM_STR_LIKE, IAM_ARN_EQ, IAM_ARN_LIKE, IAM_NUM_EQ, IAM_NUM_LT,
    IAM_NUM_LE, IAM_NUM_GT, IAM_NUM_GE, IAM_DATE_EQ, IAM_DATE_LT, IAM_DATE_LE, IAM_DATE_GT,
    IAM_DATE_GE, IAM_BOOL, IAM_NULL, IAM_IP, IAM_BINARY,
};
enum ak__iam_set { IAM_SET_NONE = 0, IAM_SET_ANY, IAM_SET_ALL };

struct ak__iam_cond {
    char *op;                /* as written: "ForAnyValue:StringLikeIfExists" */
    enum ak__iam_base base;
    bool negated;            /* StringNotEquals, StringNotLike, ..., NotIpAddress */
    enum ak__iam_set set;
    bool ifexists;
    char *key;               /* as written (keys compare case-insensitively) */
    char **vals;             /* policy values as text ("true" for a JSON true) */
    size_t n_vals;
};

struct ak__iam_principal {
    char *type;              /* "Federated" "AWS" "Service" "CanonicalUser", or "*" */
    char *value;
};

struct ak__iam_stmt {
    char *sid;               /* "" when none */
    bool deny;
    bool not_principal;
    struct ak__iam_principal *pr;
    size_t n_pr;
    bool not_action;
    char **actions;
    size_t n_actions;
    bool has_resource;       /* Resource or NotResource present (kept, not evaluated) */
    struct ak__iam_cond *conds;
    size_t n_conds;
    char path[40];           /* "$.Statement[3]", or "$.Statement" for a lone object */
};

struct ak_iam_policy {
    bool variables;          /* Version 2012-10-17: ${...} is a policy variable */
    struct ak__iam_stmt *st;
    size_t n_st;
};

/* Duplicate keys found by the tolerant scanner. For each duplicate: the JSON path of the later
 * occurrence and the byte span [start, end) of the earlier member including its trailing comma
 * (removing it keeps the JSON valid and leaves what IAM keeps: the last one). */
struct ak__iam_dup {
    char *path;
    size_t start, end;
};
struct ak__iam_dups {
    struct ak__iam_dup *v;
    size_t n;
};
/* AK_OK after a complete scan of well-formed JSON (n may be 0); AK_EINVAL when the text is not
 * JSON this scanner understands. */
int ak__iam_dup_scan(const char *text, size_t len, struct ak__iam_dups *ret);
void ak__iam_dups_release(struct ak__iam_dups *d);
/* text without the earlier occurrences (malloc'ed, NUL-terminated). */
char *ak__iam_dup_strip(const char *text, size_t len, const struct ak__iam_dups *d,
                        size_t *ret_len);

/* Builds a policy from an already parsed document. */
int ak__iam_policy_from_json(const struct ak_json *doc, struct ak_iam_policy **ret,
                             struct ak_buf *err);
/* Appends ".Key" or "[\"key:with:colons\"]" to a path. */
void ak__iam_path_key(struct ak_buf *b, const char *key);

/* IAM string matching. Expands ${*} ${?} ${$} (and, with vars and ctx, ${key} from the request:
 * false when that key is absent) and matches s against pat; wild: * and ? are wildcards (Like
 * operators); icase: ASCII case-insensitive. */
bool ak__iam_str_match(const char *pat, const char *s, bool wild, bool icase, bool vars,
                       const struct ak_iam_ctx *ctx);
/* Pattern units: bytes 0..255, AK__IAM_STAR for a wildcard '*', AK__IAM_ONE for '?'. With wild
 * false, * and ? are literal; ${*} ${?} ${$} are always the literal characters; other ${...}
 * stay literal text. Returns a malloc'ed array of *ret_n units. */
enum { AK__IAM_STAR = 256, AK__IAM_ONE = 257 };
int *ak__iam_pat_tokens(const char *s, bool wild, size_t *ret_n);
/* A key's values in ctx (case-insensitive name), NULL when absent. */
const struct ak_iam_key *ak__iam_ctx_key(const struct ak_iam_ctx *ctx, const char *name);
/* Does the statement name the principal of ctx / the action? */
bool ak__iam_principal_ok(const struct ak__iam_stmt *s, const struct ak_iam_ctx *ctx);
bool ak__iam_action_ok(const struct ak__iam_stmt *s, const char *action);

/* Audit rule checks (audit_rules.c). */
struct ak__iam_provider {     /* an aws_iam_openid_connect_provider seen in the input */
    char *url;
    char **client_ids;
    size_t n_client_ids;
    char **thumbprints;
    size_t n_thumbprints;
    char *address;            /* terraform address */
    bool used;
};
struct ak__iam_audit_in {
    const struct ak_iam_policy *p;
    const char *source;       /* "plan.json: role deploy" */
    const struct ak__iam_provider *providers;
    size_t n_providers;
    long long max_session_s;  /* 0 when unknown */
};
void ak__iam_audit_policy(const struct ak__iam_audit_in *in, struct ak_iam_findings *out);
void ak__iam_audit_providers(struct ak__iam_provider *pv, size_t n, const char *source,
                             struct ak_iam_findings *out);
void ak__iam_finding_add(struct ak_iam_findings *f, const char *rule, enum ak_iam_sev sev,
                         const char *source, const char *path, const char *title,
                         const char *message, const char *counter_example);

/* Provider string (no https://) from a Federated principal value; NULL when it is not an OIDC
 * provider (a SAML provider ARN, "*"). Returns a pointer into value or to a static name. */
const char *ak__iam_oidc_provider(const char *value);

#endif
