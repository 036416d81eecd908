/* audit.c — `asakai oidc audit`: input detection (trust policy, `aws iam get-role`,
 * `terraform show -json`), the duplicate-key pass (AUD-08), provider hygiene, sorting, and the
 * JSON / SARIF 2.1.0 renderings. The rules themselves are in audit_rules.c.
 *
 * Duplicate keys: the strict parse fails; the scanner in policy.c names each duplicate's path,
 * then a tolerant pass drops the earlier occurrences (what IAM does: the last one wins) and
 * the audit goes on over the document IAM would actually enforce, so a dropped `sub` check
 * shows up as AUD-01 next to the AUD-08. */
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

#define AUDIT_MAX (16 * 1024 * 1024)
#define TF_DEPTH_MAX 16
#define TF_ITEMS_MAX 10000

static const char *const sev_names[] = {"info", "low", "medium", "high", "critical"};

const char *ak_iam_sev_name(enum ak_iam_sev s)
{
    return (unsigned)s < AK_ARRAY_SIZE(sev_names) ? sev_names[s] : "info";
}

int ak_iam_sev_parse(const char *s, enum ak_iam_sev *ret)
{
    for (size_t i = 0; s && i < AK_ARRAY_SIZE(sev_names); i++)
        if (strcmp(s, sev_names[i]) == 0) {
            *ret = (enum ak_iam_sev)i;
            return AK_OK;
        }
    return AK_EINVAL;
}

void ak_iam_findings_release(struct ak_iam_findings *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        struct ak_iam_finding *x = &f->v[i];
        free(x->rule);
        free(x->source);
        free(x->path);
        free(x->title);
        free(x->message);
        free(x->counter_example);
    }
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

/* ---- parsing with duplicates tolerated --------------------------------------------------- */

/* Parses text; on duplicate keys reports AUD-08 for each (paths rebased from `prefix` onto the
 * policy's "$" when prefix is given) and parses the text IAM would keep. */
static struct ak_json *parse_tolerant(const char *text, size_t len, const char *source,
                                      const char *prefix, struct ak_iam_findings *out,
                                      struct ak_buf *err)
{
    struct ak_buf jerr = AK_BUF_INIT(512);
    struct ak__iam_dups d = {0};
    struct ak_json *j = ak_json_parse(text, len, &jerr);
    char *stripped = NULL;
    size_t slen;

    if (j || ak__iam_dup_scan(text, len, &d) != AK_OK || d.n == 0) {
        if (!j)
            ak_err(err, AK_EINVAL, "%s: not valid JSON: %s", source, jerr.buf);
        goto out;
    }
    for (size_t i = 0; i < d.n; i++) {
        const char *p = d.v[i].path;
        char *rebased = NULL, msg[512];
        if (prefix && ak_startswith(p, prefix))
            p = rebased = ak_xasprintf("$%s", p + strlen(prefix));
        snprintf(msg, sizeof(msg),
                 "the key at %.300s appears twice in one object: IAM silently keeps the last "
                 "one and drops the first (a lost condition); the other findings describe the "
                 "document IAM keeps",
                 p);
        ak__iam_finding_add(out, "AUD-08", AK_SEV_HIGH, source, p, "duplicate JSON keys", msg,
                            NULL);
        free(rebased);
    }
    stripped = ak__iam_dup_strip(text, len, &d, &slen);
    ak_buf_reset(&jerr);
    j = ak_json_parse(stripped, slen, &jerr);
    if (!j)
        ak_err(err, AK_EINVAL, "%s: not valid JSON: %s", source, jerr.buf);
out:
    free(stripped);
    ak__iam_dups_release(&d);
    ak_buf_release(&jerr);
    return j;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* `aws iam get-role` prints the document URL-encoded in some versions and outputs. */
static char *url_decode(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out = ak_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        int hi = s[i] == '%' && i + 2 < n + 1 && s[i + 1] ? hexval(s[i + 1]) : -1;
        int lo = hi >= 0 && s[i + 2] ? hexval(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = 0;
    return out;
}

/* Audits one policy given as text (terraform's assume_role_policy, an encoded get-role doc). */
static int audit_policy_text(const char *text, const char *source,
                             const struct ak__iam_provider *pv, size_t n_pv, long long max_s,
                             struct ak_iam_findings *out, struct ak_buf *err)
{
    const char *t = text + strspn(text, " \t\r\n");
    char *dec = *t == '{' ? NULL : url_decode(t);
    const char *use = dec ? dec : t;
    struct ak_json *doc = parse_tolerant(use, strlen(use), source, NULL, out, err);
    struct ak_iam_policy *p = NULL;
    struct ak_buf perr = AK_BUF_INIT(1024);
    int r = doc ? AK_OK : AK_EINVAL;

    if (!r) {
        r = ak__iam_policy_from_json(doc, &p, &perr);
        if (r)
            ak_err(err, r, "%s: %s", source, perr.buf);
    }
    if (!r) {
        struct ak__iam_audit_in in = {p, source, pv, n_pv, max_s};
        ak__iam_audit_policy(&in, out);
    }
    ak_iam_policy_free(p);
    ak_json_free(doc);
    ak_buf_release(&perr);
    free(dec);
    return r;
}

static int audit_policy_doc(const struct ak_json *doc, const char *source,
                            const struct ak__iam_provider *pv, size_t n_pv, long long max_s,
                            struct ak_iam_findings *out, struct ak_buf *err)
{
    struct ak_iam_policy *p = NULL;
    struct ak_buf perr = AK_BUF_INIT(1024);
    int r = ak__iam_policy_from_json(doc, &p, &perr);
    if (r) {
        ak_err(err, r, "%s: %s", source, perr.buf);
    } else {
        struct ak__iam_audit_in in = {p, source, pv, n_pv, max_s};
        ak__iam_audit_policy(&in, out);
    }
    ak_iam_policy_free(p);
    ak_buf_release(&perr);
    return r;
}

/* ---- aws iam get-role -------------------------------------------------------------------- */

static int audit_get_role(const struct ak_json *role, const char *source,
                          struct ak_iam_findings *out, struct ak_buf *err)
{
    const struct ak_json *d = ak_json_get(role, "AssumeRolePolicyDocument");
    const char *name = ak_json_get_str(role, "RoleName");
    long long max_s = ak_json_is_int(ak_json_get(role, "MaxSessionDuration"))
                          ? (long long)ak_json_int(ak_json_get(role, "MaxSessionDuration"))
                          : 0;
    char *src = name ? ak_xasprintf("%s: role %s", source, name) : ak_xstrdup(source);
    int r;

    if (ak_json_is_str(d))
        r = audit_policy_text(ak_json_str(d), src, NULL, 0, max_s, out, err);
    else
        r = audit_policy_doc(d, src, NULL, 0, max_s, out, err);
    free(src);
    return r;
}

/* ---- terraform show -json ---------------------------------------------------------------- */

struct tf {
    const char *source;
    struct ak__iam_provider *pv;
    size_t n_pv;
    const struct ak_json **roles;  /* resources (borrowed) */
    size_t n_roles;
    char **seen;                   /* addresses, planned values first */
    size_t n_seen;
    size_t items;
};

static bool tf_seen(struct tf *t, const char *addr)
{
    for (size_t i = 0; addr && i < t->n_seen; i++)
        if (strcmp(t->seen[i], addr) == 0)
            return true;
    if (addr) {
        t->seen = ak_xrealloc(t->seen, (t->n_seen + 1) * sizeof(*t->seen));
        t->seen[t->n_seen++] = ak_xstrdup(addr);
    }
    return false;
}

static char **str_array(const struct ak_json *a, size_t *ret_n)
{
    size_t n = ak_json_is_arr(a) ? ak_json_len(a) : 0, got = 0;
    char **v = n ? ak_xcalloc(n, sizeof(*v)) : NULL;
    for (size_t i = 0; i < n; i++)
        if (ak_json_str(ak_json_at(a, i)))
            v[got++] = ak_xstrdup(ak_json_str(ak_json_at(a, i)));
    *ret_n = got;
    return v;
}

static void tf_resource(struct tf *t, const struct ak_json *res)
{
    const char *type = ak_json_get_str(res, "type");
    const struct ak_json *v = ak_json_get(res, "values");
    if (!type || !ak_json_is_obj(v) || tf_seen(t, ak_json_get_str(res, "address")))
        return;
    if (strcmp(type, "aws_iam_role") == 0) {
        t->roles = ak_xrealloc(t->roles, (t->n_roles + 1) * sizeof(*t->roles));
        t->roles[t->n_roles++] = res;
    } else if (strcmp(type, "aws_iam_openid_connect_provider") == 0) {
        struct ak__iam_provider p = {0};
        p.url = ak_xstrdup(ak_json_get_str(v, "url"));
        p.client_ids = str_array(ak_json_get(v, "client_id_list"), &p.n_client_ids);
        p.thumbprints = str_array(ak_json_get(v, "thumbprint_list"), &p.n_thumbprints);
        p.address = ak_xstrdup(ak_json_get_str(res, "address"));
        t->pv = ak_xrealloc(t->pv, (t->n_pv + 1) * sizeof(*t->pv));
        t->pv[t->n_pv++] = p;
    }
}

static void tf_module(struct tf *t, const struct ak_json *m, int depth)
{
    const struct ak_json *res = ak_json_get(m, "resources");
    const struct ak_json *kids = ak_json_get(m, "child_modules");
    if (!ak_json_is_obj(m) || depth > TF_DEPTH_MAX)
        return;
    for (size_t i = 0; i < ak_json_len(res) && t->items++ < TF_ITEMS_MAX; i++)
        tf_resource(t, ak_json_at(res, i));
    for (size_t i = 0; i < ak_json_len(kids) && t->items++ < TF_ITEMS_MAX; i++)
        tf_module(t, ak_json_at(kids, i), depth + 1);
}

static bool is_terraform(const struct ak_json *doc)
{
    return ak_json_get(doc, "planned_values") || ak_json_get(doc, "prior_state") ||
           ak_json_is_obj(ak_json_get(ak_json_get(doc, "values"), "root_module"));
}

static void tf_mark_used(struct tf *t, const char *policy)
{
    for (size_t i = 0; i < t->n_pv; i++) {
        const char *u = t->pv[i].url;
        if (!u)
            continue;
        if (ak_startswith(u, "https://"))
            u += 8;
        char *needle = ak_xasprintf(":oidc-provider/%s\"", u);
        char *esc = ak_xasprintf(":oidc-provider/%s", u);
        if (strstr(policy, needle) || strstr(policy, esc))
            t->pv[i].used = true;
        free(needle);
        free(esc);
    }
}

static int audit_terraform(const struct ak_json *doc, const char *source,
                           struct ak_iam_findings *out, struct ak_buf *err)
{
    struct tf t = {source, NULL, 0, NULL, 0, NULL, 0, 0};
    int r = AK_OK;

    tf_module(&t, ak_json_get(ak_json_get(doc, "planned_values"), "root_module"), 0);
    tf_module(&t, ak_json_get(ak_json_get(doc, "values"), "root_module"), 0);
    tf_module(&t, ak_json_get(ak_json_get(ak_json_get(doc, "prior_state"), "values"),
                              "root_module"), 0);
    for (size_t i = 0; i < t.n_roles && !r; i++) {
        const struct ak_json *v = ak_json_get(t.roles[i], "values");
        const char *pol = ak_json_get_str(v, "assume_role_policy");
        const char *name = ak_json_get_str(v, "name");
        const char *addr = ak_json_get_str(t.roles[i], "address");
        long long max_s = (long long)ak_json_int(ak_json_get(v, "max_session_duration"));
        if (!pol || !*pol)
            continue; /* unknown until apply */
        tf_mark_used(&t, pol);
        char *src = ak_xasprintf("%s: role %s", source, name ? name : addr ? addr : "?");
        r = audit_policy_text(pol, src, t.pv, t.n_pv, max_s, out, err);
        free(src);
    }
    if (!r)
        ak__iam_audit_providers(t.pv, t.n_pv, source, out);
    for (size_t i = 0; i < t.n_pv; i++) {
        free(t.pv[i].url);
        free(t.pv[i].address);
        for (size_t k = 0; k < t.pv[i].n_client_ids; k++)
            free(t.pv[i].client_ids[k]);
        free(t.pv[i].client_ids);
        for (size_t k = 0; k < t.pv[i].n_thumbprints; k++)
            free(t.pv[i].thumbprints[k]);
        free(t.pv[i].thumbprints);
    }
    free(t.pv);
    free(t.roles);
    for (size_t i = 0; i < t.n_seen; i++)
        free(t.seen[i]);
    free(t.seen);
    return r;
}

/* ---- entry point ------------------------------------------------------------------------- */

/* Stable: equal severities keep the order the rules produced (statement order). */
static void sort_findings(struct ak_iam_findings *f)
{
    for (size_t i = 1; i < f->n; i++) {
        struct ak_iam_finding x = f->v[i];
        size_t k = i;
        while (k > 0 && f->v[k - 1].severity < x.severity) {
            f->v[k] = f->v[k - 1];
            k--;
        }
        f->v[k] = x;
    }
}

int ak_iam_audit(const char *json, size_t len, const char *source, struct ak_iam_findings *ret,
                 struct ak_buf *err)
{
    struct ak_iam_findings mine = {0};
    const char *src = source ? source : "input";
    struct ak_json *doc = NULL;
    const struct ak_json *role;
    int r;

    if (len > AUDIT_MAX)
        return ak_err(err, AK_ETOOBIG, "%s: %zu bytes, over the audit cap of %d", src, len,
                      AUDIT_MAX);
    role = NULL;
    /* the prefix rebases duplicate paths inside an embedded get-role document */
    doc = parse_tolerant(json, len, src, "$.Role.AssumeRolePolicyDocument", &mine, err);
    if (!doc) {
        r = AK_EINVAL;
        goto out;
    }
    role = ak_json_get(doc, "Role");
    if (ak_json_get(doc, "Statement"))
        r = audit_policy_doc(doc, src, NULL, 0, 0, &mine, err);
    else if (ak_json_is_obj(role) && ak_json_get(role, "AssumeRolePolicyDocument"))
        r = audit_get_role(role, src, &mine, err);
    else if (ak_json_is_obj(doc) && is_terraform(doc))
        r = audit_terraform(doc, src, &mine, err);
    else
        r = ak_err(err, AK_EINVAL,
                   "%s: neither a trust policy, `aws iam get-role` output nor `terraform show "
                   "-json` output", src);
    if (r)
        goto out;
    ret->v = ak_xrealloc(ret->v, (ret->n + mine.n + 1) * sizeof(*ret->v));
    if (mine.n)
        memcpy(ret->v + ret->n, mine.v, mine.n * sizeof(*mine.v));
    ret->n += mine.n;
    free(mine.v);
    mine.v = NULL;
    mine.n = 0;
    sort_findings(ret);
out:
    ak_iam_findings_release(&mine);
    ak_json_free(doc);
    return r;
}

/* ---- renderings -------------------------------------------------------------------------- */

struct ak_json *ak_iam_findings_json(const struct ak_iam_findings *f)
{
    struct ak_json *a = ak_json_new_arr();
    for (size_t i = 0; f && i < f->n; i++) {
        const struct ak_iam_finding *x = &f->v[i];
        struct ak_json *o = ak_json_new_obj();
        ak_json_set_str(o, "rule", x->rule);
        ak_json_set_str(o, "severity", ak_iam_sev_name(x->severity));
        ak_json_set_str(o, "source", x->source);
        ak_json_set_str(o, "path", x->path);
        ak_json_set_str(o, "title", x->title);
        ak_json_set_str(o, "message", x->message);
        ak_json_set_str(o, "counter_example", x->counter_example);
        ak_json_append(a, o);
    }
    return a;
}

static const struct {
    const char *id, *name, *text;
    enum ak_iam_sev sev;
} rules[] = {
    {"AUD-01", "TenantNotPinned", "tenant not pinned: no positive condition on the subject",
     AK_SEV_CRITICAL},
    {"AUD-02", "OverBroadSubject", "over-broad subject pattern", AK_SEV_HIGH},
    {"AUD-03", "WildcardBeforeSuffix", "wildcard before an attacker-controlled suffix",
     AK_SEV_HIGH},
    {"AUD-04", "UserControlledLeadingClaim", "user-controlled leading claim in a custom subject",
     AK_SEV_HIGH},
    {"AUD-05", "NegativeOnlyRestriction", "subject restricted by negated operators only",
     AK_SEV_HIGH},
    {"AUD-06", "VacuousOperator", "ForAllValues or IfExists on an identity claim", AK_SEV_HIGH},
    {"AUD-07", "UnsupportedClaimKey", "condition key not populated for this provider",
     AK_SEV_MEDIUM},
    {"AUD-08", "DuplicateKeys", "duplicate JSON keys", AK_SEV_HIGH},
    {"AUD-09", "LiteralWildcard", "wildcard under an exact-match operator", AK_SEV_MEDIUM},
    {"AUD-10", "ActionWildcard", "action wildcard or NotAction in a federated statement",
     AK_SEV_HIGH},
    {"AUD-11", "WildcardPrincipal", "wildcard principal", AK_SEV_CRITICAL},
    {"AUD-12", "MixedPrincipals", "OIDC and AWS/Service principals in one statement",
     AK_SEV_MEDIUM},
    {"AUD-13", "MutableIdentity", "pinned by names only, no immutable id", AK_SEV_MEDIUM},
    {"AUD-14", "ImmutableFormatDrift", "subject format drift (legacy vs @id)", AK_SEV_MEDIUM},
    {"AUD-15", "UntrustedTriggers", "untrusted triggers reach the role", AK_SEV_HIGH},
    {"AUD-16", "AudienceHygiene", "audience hygiene", AK_SEV_LOW},
    {"AUD-17", "SessionLength", "session length", AK_SEV_LOW},
    {"AUD-18", "ProviderHygiene", "OIDC provider hygiene", AK_SEV_INFO},
    {"AUD-19", "CaseMismatch", "case differs from the identity provider's", AK_SEV_INFO},
};

static const char *level(enum ak_iam_sev s)
{
    return s >= AK_SEV_HIGH ? "error" : s == AK_SEV_MEDIUM ? "warning" : "note";
}

static struct ak_json *text_obj(const char *s)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_str(o, "text", s);
    return o;
}

static struct ak_json *sarif_rules(void)
{
    struct ak_json *a = ak_json_new_arr();
    for (size_t i = 0; i < AK_ARRAY_SIZE(rules); i++) {
        struct ak_json *r = ak_json_new_obj(), *cfg = ak_json_new_obj();
        ak_json_set_str(r, "id", rules[i].id);
        ak_json_set_str(r, "name", rules[i].name);
        ak_json_set(r, "shortDescription", text_obj(rules[i].text));
        ak_json_set_str(cfg, "level", level(rules[i].sev));
        ak_json_set(r, "defaultConfiguration", cfg);
        ak_json_append(a, r);
    }
    return a;
}

static struct ak_json *sarif_result(const struct ak_iam_finding *x)
{
    struct ak_json *r = ak_json_new_obj(), *loc = ak_json_new_obj(), *phys = ak_json_new_obj();
    struct ak_json *art = ak_json_new_obj(), *logs = ak_json_new_arr(), *ll = ak_json_new_obj();
    struct ak_json *locs = ak_json_new_arr(), *props = ak_json_new_obj();
    const char *colon = strstr(x->source, ": ");
    char *uri = colon ? ak_xstrndup(x->source, (size_t)(colon - x->source))
                      : ak_xstrdup(x->source);
    int idx = 0;

    for (size_t i = 0; i < AK_ARRAY_SIZE(rules); i++)
        if (strcmp(rules[i].id, x->rule) == 0)
            idx = (int)i;
    ak_json_set_str(r, "ruleId", x->rule);
    ak_json_set_int(r, "ruleIndex", idx);
    ak_json_set_str(r, "level", level(x->severity));
    ak_json_set(r, "message", text_obj(x->message));
    ak_json_set_str(art, "uri", uri);
    ak_json_set(phys, "artifactLocation", art);
    ak_json_set(loc, "physicalLocation", phys);
    ak_json_set_str(ll, "fullyQualifiedName", x->path);
    ak_json_set_str(ll, "kind", "member");
    ak_json_append(logs, ll);
    ak_json_set(loc, "logicalLocations", logs);
    ak_json_append(locs, loc);
    ak_json_set(r, "locations", locs);
    ak_json_set_str(props, "severity", ak_iam_sev_name(x->severity));
    ak_json_set_str(props, "source", x->source);
    ak_json_set_str(props, "title", x->title);
    if (x->counter_example)
        ak_json_set_str(props, "counterExample", x->counter_example);
    ak_json_set(r, "properties", props);
    free(uri);
    return r;
}

struct ak_json *ak_iam_findings_sarif(const struct ak_iam_findings *f)
{
    struct ak_json *log = ak_json_new_obj(), *runs = ak_json_new_arr(), *run = ak_json_new_obj();
    struct ak_json *tool = ak_json_new_obj(), *drv = ak_json_new_obj(), *res = ak_json_new_arr();

    ak_json_set_str(log, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    ak_json_set_str(log, "version", "2.1.0");
    ak_json_set_str(drv, "name", "asakai-oidc-audit");
    ak_json_set(drv, "rules", sarif_rules());
    ak_json_set(tool, "driver", drv);
    ak_json_set(run, "tool", tool);
    for (size_t i = 0; f && i < f->n; i++)
        ak_json_append(res, sarif_result(&f->v[i]));
    ak_json_set(run, "results", res);
    ak_json_append(runs, run);
    ak_json_set(log, "runs", runs);
    return log;
}
