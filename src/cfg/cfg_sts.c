/* cfg_sts.c — the STS twin's part of the configuration (issue 5): `sts.oidc_providers` and
 * `sts.roles` (lists of records, loaded after the option walk like aws.accounts). The scalar
 * sts.* keys are rows of the option table (cfg_schema.c).
 *
 * A role's assume_role_policy is kept as JSON text, the form the iam module evaluates and the
 * audit shows: a YAML mapping is converted here (so that a team can write the policy in YAML
 * with positions in errors), a JSON string is checked, a file is read at load. Role names,
 * account IDs and client IDs are not secrets and may be quoted; URLs and paths are not quoted
 * (the file:line:col says where to look). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define PROVIDERS_MAX 100
#define ROLES_MAX 1000
#define CLIENT_IDS_MAX 100
#define CLIENT_ID_MAX_LEN 255
#define THUMBPRINTS_MAX 5          /* IAM's limit per OIDC provider */
#define PROVIDER_URL_MAX_LEN 255   /* IAM's limit */
#define ROLE_NAME_MAX_LEN 64
#define SESSION_MIN_S 3600
#define SESSION_MAX_S 43200
#define POLICY_MAX (64 * 1024)     /* JSON text, inline or read from a file */
#define TOKEN_AGE_MIN_MS (60 * 1000LL)
#define TOKEN_AGE_MAX_MS (24 * 3600 * 1000LL)
#define WHY_MAX 320

static bool fail(char *why, size_t n, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return false;
}

static bool has_space_or_ctl(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return true;
    return false;
}

/* ---- value checks (reasons never quote the value) ---- */

/* https://host[/path]: the issuer exactly as tokens carry it in iss, as IAM registers it. */
static bool check_provider_url(const char *v, char *why, size_t n)
{
    const char *host = v + strlen("https://");
    size_t hostlen;

    if (!ak_startswith(v, "https://"))
        return fail(why, n, "must start with https:// (OIDC issuers are https)");
    if (strlen(v) > PROVIDER_URL_MAX_LEN)
        return fail(why, n, "must be at most 255 characters");
    if (has_space_or_ctl(v))
        return fail(why, n, "must not contain spaces or control characters");
    if (strchr(v, '?'))
        return fail(why, n, "must not have a query (?...)");
    if (strchr(v, '#'))
        return fail(why, n, "must not have a fragment (#...)");
    hostlen = strcspn(host, "/");
    if (memchr(host, '@', hostlen))
        return fail(why, n, "must not contain user@");
    if (memchr(host, ':', hostlen))
        return fail(why, n, "must not have a port (IAM OIDC providers have none)");
    if (hostlen == 0 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") < hostlen)
        return fail(why, n, "must have a host name after https://");
    return true;
}

static bool check_client_id(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > CLIENT_ID_MAX_LEN)
        return fail(why, n, "a client id is 1 to 255 characters");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < ' ' || *p == 0x7f)
            return fail(why, n, "a client id must not contain control characters");
    return true;
}

static bool check_thumbprint(const char *v, char *why, size_t n)
{
    if (strlen(v) != 40 || strspn(v, "0123456789abcdefABCDEF") != 40)
        return fail(why, n, "a thumbprint is 40 hex digits (a SHA-1 fingerprint)");
    return true;
}

/* [\w+=,.@-]{1,64}, as IAM has it. */
static bool check_role_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > ROLE_NAME_MAX_LEN ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-") != len)
        return fail(why, n, "a role name is 1 to 64 of letters, digits and _+=,.@-");
    return true;
}

/* ---- files named in the configuration ---- */

/* path as written, made relative to the folder of the configuration file (ld->name). */
static char *resolve_path(const struct ak__cfg_loader *ld, const char *path)
{
    const char *slash = strrchr(ld->name, '/');

    if (path[0] == '/' || !slash)
        return ak_xstrdup(path);
    return ak_xasprintf("%.*s/%s", (int)(slash - ld->name), ld->name, path);
}

/* Opens path as a regular file for reading; the fd, or -errno (-EISDIR for a non-file). */
static int open_regular(const char *path)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return -EISDIR;
    }
    return fd;
}

/* Reads at most max bytes of path; -EFBIG when it is longer. */
static int read_capped(const char *path, size_t max, char **ret, size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    int fd = open_regular(path), r = 0;

    if (fd < 0)
        return fd;
    buf = ak_xmalloc(max + 2);
    while (len <= max) {
        ssize_t k = read(fd, buf + len, max + 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = -errno;
            break;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    if (r == 0 && len > max)
        r = -EFBIG;
    if (r < 0) {
        free(buf);
        return r;
    }
    buf[len] = 0;
    *ret = buf;
    *ret_len = len;
    return 0;
}

/* ---- assume_role_policy ---- */

/* Checks that text is one JSON object; reports at v under key otherwise. */
static bool policy_json_ok(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                           const char *key, const char *what, const char *text, size_t len)
{
    struct ak_buf jerr = AK_BUF_INIT(512);
    struct ak_json *j = ak_json_parse(text, len, &jerr);
    bool ok = j && ak_json_is_obj(j);

    if (!j)
        ak__cfg_report(ld, v->line, v->col, key, "%s is not valid JSON: %s", what, jerr.buf);
    else if (!ok)
        ak__cfg_report(ld, v->line, v->col, key, "%s must be a JSON object", what);
    ak_json_free(j);
    ak_buf_release(&jerr);
    return ok;
}

/* A YAML mapping through the converter shared with ak_cfg_yaml_to_json (cfg_yaml_json.c). */
static char *policy_from_map(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                             const char *key)
{
    struct ak_buf out = AK_BUF_INIT(POLICY_MAX);
    struct ak__cfg_json_fail f;
    char *text = NULL;

    if (!ak__cfg_node_to_json(v, "policy", key, &out, &f))
        ak__cfg_report(ld, f.line, f.col, f.key, "%s", f.msg);
    else if (policy_json_ok(ld, v, key, "the policy", out.buf, out.len))
        text = ak_buf_detach(&out, NULL);
    ak__cfg_json_fail_release(&f);
    ak_buf_release(&out);
    return text;
}

static char *policy_from_file(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                              const char *key)
{
    char *path = ak__cfg_node_str(ld, v, key, ak__cfg_check_path, true);
    char *full = NULL, *text = NULL;
    size_t len = 0;
    int r;

    if (!path)
        return NULL;
    full = resolve_path(ld, path);
    r = read_capped(full, POLICY_MAX, &text, &len);
    if (r == -EFBIG)
        ak__cfg_report(ld, v->line, v->col, key, "the policy file is larger than 64 KiB");
    else if (r < 0)
        ak__cfg_report(ld, v->line, v->col, key, "cannot read the policy file: %s",
                       r == -EISDIR ? "not a regular file" : strerror(-r));
    else if (memchr(text, 0, len)) {
        ak__cfg_report(ld, v->line, v->col, key, "the policy file contains a NUL byte");
        ak_freep(&text);
    } else if (!policy_json_ok(ld, v, key, "the policy file", text, len)) {
        ak_freep(&text);
    }
    free(path);
    free(full);
    return text;
}

static void role_policy(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                        struct ak_cfg_sts_role *ro)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(m, "assume_role_policy");
    char *pkey = ak_xasprintf("%s.assume_role_policy", key);
    const char *s;

    if (!v) {
        ak__cfg_report(ld, m->line, m->col, key, "needs assume_role_policy (a mapping, JSON "
                                                 "text or a file path)");
        goto out;
    }
    if (v->kind == AK_CFG_NODE_MAP) {
        ro->policy_json = policy_from_map(ld, v, pkey);
        goto out;
    }
    if (v->kind == AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, pkey, "expected a mapping, JSON text or a file "
                                                  "path, got a list");
        goto out;
    }
    s = v->value + strspn(v->value, " \t\r\n");
    if (*s != '{') {
        ro->policy_json = policy_from_file(ld, v, pkey);
        goto out;
    }
    if (v->len > POLICY_MAX)
        ak__cfg_report(ld, v->line, v->col, pkey, "the policy is larger than 64 KiB");
    else if (memchr(v->value, 0, v->len))
        ak__cfg_report(ld, v->line, v->col, pkey, "value contains a NUL byte");
    else if (policy_json_ok(ld, v, pkey, "the policy", v->value, v->len))
        ro->policy_json = ak_xstrdup(v->value);
out:
    free(pkey);
}

/* ---- sts.oidc_providers ---- */

static const char *const provider_keys[] = {"url",      "client_id_list", "thumbprint_list",
                                            "jwks_file", "ca_file",       "max_token_age"};

static void provider_url(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                         size_t idx, struct ak_cfg_oidc_provider *p)
{
    const struct ak_cfg *c = ld->c;

    ak__cfg_get_str(ld, m, key, "url", check_provider_url, true, &p->url);
    for (size_t j = 0; p->url && j < idx; j++) {
        if (ak_streq(c->oidc_providers[j].url, p->url)) {
            const struct ak_cfg_node *v = ak__cfg_map_get(m, "url");
            char *ukey = ak_xasprintf("%s.url", key);

            ak__cfg_report(ld, v->line, v->col, ukey,
                           "duplicate provider url (first defined at line %d)",
                           c->oidc_providers[j].line);
            free(ukey);
            break;
        }
    }
}

static void provider_lists(struct ak__cfg_loader *ld, const struct ak_cfg_node *m,
                           const char *key, struct ak_cfg_oidc_provider *p)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(m, "client_id_list");
    char *lkey = ak_xasprintf("%s.client_id_list", key);

    if (!v)
        ak__cfg_report(ld, m->line, m->col, key, "needs client_id_list (the accepted "
                                                 "audiences)");
    else if (v->kind == AK_CFG_NODE_SEQ && v->n == 0)
        ak__cfg_report(ld, v->line, v->col, lkey, "needs at least one client id");
    else
        ak__cfg_get_list(ld, v, lkey, check_client_id, true, CLIENT_IDS_MAX, &p->client_ids);
    free(lkey);
    v = ak__cfg_map_get(m, "thumbprint_list");
    if (v) {
        lkey = ak_xasprintf("%s.thumbprint_list", key);
        ak__cfg_get_list(ld, v, lkey, check_thumbprint, false, THUMBPRINTS_MAX,
                         &p->thumbprints);
        free(lkey);
    }
}

static void provider_jwks(struct ak__cfg_loader *ld, const struct ak_cfg_node *m,
                          const char *key, struct ak_cfg_oidc_provider *p)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(m, "jwks_file");
    char *path = NULL, *jkey;
    int fd;

    ak__cfg_get_str(ld, m, key, "jwks_file", ak__cfg_check_path, false, &path);
    if (!path)
        return;
    p->jwks_file = resolve_path(ld, path);
    free(path);
    fd = open_regular(p->jwks_file);
    if (fd >= 0) {
        close(fd);
        return;
    }
    jkey = ak_xasprintf("%s.jwks_file", key);
    ak__cfg_report(ld, v->line, v->col, jkey, "cannot read the JWKS file: %s",
                   fd == -EISDIR ? "not a regular file" : strerror(-fd));
    free(jkey);
}

static void provider_token_age(struct ak__cfg_loader *ld, const struct ak_cfg_node *m,
                               const char *key, struct ak_cfg_oidc_provider *p)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(m, "max_token_age");
    char *akey;
    int64_t ms = 0;

    if (!v)
        return;
    akey = ak_xasprintf("%s.max_token_age", key);
    if (v->kind != AK_CFG_NODE_SCALAR || memchr(v->value, 0, v->len) ||
        ak_parse_duration_ms(v->value, &ms) < 0)
        ak__cfg_report(ld, v->line, v->col, akey, "not a duration (examples: 5m, 1h)");
    else if (ms < TOKEN_AGE_MIN_MS || ms > TOKEN_AGE_MAX_MS)
        ak__cfg_report(ld, v->line, v->col, akey, "must be between 1m and 1d");
    else
        p->max_token_age_ms = ms;
    free(akey);
}

static void load_provider(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, size_t idx,
                          struct ak_cfg_oidc_provider *p)
{
    char *key = ak_xasprintf("sts.oidc_providers[%zu]", idx);

    p->line = (int)m->line;
    if (!ak__cfg_check_map(ld, m, key, provider_keys, AK_ARRAY_SIZE(provider_keys)))
        goto out;
    provider_url(ld, m, key, idx, p);
    provider_lists(ld, m, key, p);
    provider_jwks(ld, m, key, p);
    ak__cfg_get_str(ld, m, key, "ca_file", ak__cfg_check_path, false, &p->ca_file);
    provider_token_age(ld, m, key, p);
out:
    free(key);
}

/* ---- sts.roles ---- */

static const char *const role_keys[] = {"name", "account_id", "max_session_duration",
                                        "assume_role_policy", "api_access"};

static void role_session(struct ak__cfg_loader *ld, const struct ak_cfg_node *m,
                         const char *key, struct ak_cfg_sts_role *ro)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(m, "max_session_duration");
    uint64_t s = SESSION_MIN_S;

    ro->max_session_s = SESSION_MIN_S;
    if (!v)
        return;
    if (v->kind != AK_CFG_NODE_SCALAR || memchr(v->value, 0, v->len) ||
        ak_parse_u64(v->value, SESSION_MIN_S, SESSION_MAX_S, &s) < 0) {
        char *skey = ak_xasprintf("%s.max_session_duration", key);

        ak__cfg_report(ld, v->line, v->col, skey,
                       "must be a number of seconds between 3600 and 43200");
        free(skey);
        return;
    }
    ro->max_session_s = (int64_t)s;
}

static void role_unique(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                        size_t idx, const struct ak_cfg_sts_role *ro)
{
    const struct ak_cfg *c = ld->c;

    if (!ro->name || !ro->account_id)
        return;
    for (size_t j = 0; j < idx; j++) {
        const struct ak_cfg_sts_role *o = &c->sts_roles[j];

        if (ak_streq(o->name, ro->name) && ak_streq(o->account_id, ro->account_id)) {
            ak__cfg_report(ld, m->line, m->col, key,
                           "duplicate role %s in account %s (first defined at line %d)",
                           ro->name, ro->account_id, o->line);
            return;
        }
    }
}

static void load_role(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, size_t idx,
                      struct ak_cfg_sts_role *ro)
{
    char *key = ak_xasprintf("sts.roles[%zu]", idx);

    ro->line = (int)m->line;
    ro->max_session_s = SESSION_MIN_S;
    if (!ak__cfg_check_map(ld, m, key, role_keys, AK_ARRAY_SIZE(role_keys)))
        goto out;
    ak__cfg_get_str(ld, m, key, "name", check_role_name, true, &ro->name);
    ak__cfg_get_str(ld, m, key, "account_id", ak__cfg_check_account_id, true, &ro->account_id);
    role_session(ld, m, key, ro);
    role_policy(ld, m, key, ro);
    /* a session is for AWS-shaped tests unless the role says it may also call asakai's API */
    ro->api_access = ak__cfg_get_bool(ld, m, key, "api_access") == 1;
    role_unique(ld, m, key, idx, ro);
out:
    free(key);
}

/* ---- lists ---- */

static bool list_shape(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                       const char *what, size_t max)
{
    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a list of %s, got %s", what,
                       ak__cfg_kind_name(v));
        return false;
    }
    if (v->n > max) {
        ak__cfg_report(ld, v->line, v->col, key, "more than %zu %s", max, what);
        return false;
    }
    return true;
}

static void load_providers(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (!list_shape(ld, v, "sts.oidc_providers", "providers", PROVIDERS_MAX))
        return;
    c->oidc_providers = ak_xcalloc(v->n ? v->n : 1, sizeof(*c->oidc_providers));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_provider(ld, v->kids[i], i, &c->oidc_providers[i]);
        c->n_oidc_providers = i + 1;
    }
}

static void load_roles(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (!list_shape(ld, v, "sts.roles", "roles", ROLES_MAX))
        return;
    c->sts_roles = ak_xcalloc(v->n ? v->n : 1, sizeof(*c->sts_roles));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_role(ld, v->kids[i], i, &c->sts_roles[i]);
        c->n_sts_roles = i + 1;
    }
}

/* ---- `config defaults` example (every line a comment, indented for depth 1) ---- */

const char ak__cfg_dump_sts_example[] =
    "  # OIDC providers whose tokens the STS twin accepts, and the roles it lets them assume\n"
    "  # (none by default). url: the tokens' iss (https, no port, query or fragment);\n"
    "  # client_id_list: the accepted audiences; jwks_file (optional, relative to this file):\n"
    "  # static keys instead of discovery. assume_role_policy: a mapping, JSON text or a file\n"
    "  # path. See docs/config.md.\n"
    "  # oidc_providers:\n"
    "  #   - url: 'https://oidc.circleci.com/org/00000000-0000-0000-0000-000000000000'\n"
    "  #     client_id_list: ['00000000-0000-0000-0000-000000000000']\n"
    "  #     thumbprint_list: []\n"
    "  # roles:\n"
    "  #   - name: application-deploy-circleci\n"
    "  #     account_id: '123456789012'\n"
    "  #     max_session_duration: 3600\n"
    "  #     assume_role_policy:\n"
    "  #       Version: '2012-10-17'\n"
    "  #       Statement:\n"
    "  #         - Effect: Allow\n"
    "  #           Principal: {Federated: 'arn:aws:iam::123456789012:oidc-provider/"
    "oidc.circleci.com/org/00000000-0000-0000-0000-000000000000'}\n"
    "  #           Action: 'sts:AssumeRoleWithWebIdentity'\n"
    "\n";

/* ---- entry points ---- */

void ak__cfg_load_sts(struct ak__cfg_loader *ld)
{
    if (ld->sts_providers && !ak_cfg_node_is_null(ld->sts_providers))
        load_providers(ld, ld->sts_providers);
    if (ld->sts_roles && !ak_cfg_node_is_null(ld->sts_roles))
        load_roles(ld, ld->sts_roles);
}

void ak__cfg_sts_release(struct ak_cfg *c)
{
    for (size_t i = 0; i < c->n_oidc_providers; i++) {
        struct ak_cfg_oidc_provider *p = &c->oidc_providers[i];

        free(p->url);
        ak_cfg_strlist_release(&p->client_ids);
        ak_cfg_strlist_release(&p->thumbprints);
        free(p->jwks_file);
        free(p->ca_file);
    }
    free(c->oidc_providers);
    c->oidc_providers = NULL;
    c->n_oidc_providers = 0;
    for (size_t i = 0; i < c->n_sts_roles; i++) {
        free(c->sts_roles[i].name);
        free(c->sts_roles[i].account_id);
        free(c->sts_roles[i].policy_json);
    }
    free(c->sts_roles);
    c->sts_roles = NULL;
    c->n_sts_roles = 0;
}
