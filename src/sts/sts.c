/* sts.c — the STS twin: lifecycle, the two actions, API authentication, the audit.
 *
 * Wire contract: ../shared/docs/reference/oidc-sts.md §1. The caller only ever gets what AWS
 * would say; the real reason goes to the audit table (and the log for denials). Neither the web
 * identity token, the secret nor the session token is ever logged or stored in clear: the secret
 * is sealed with <data_dir>/sts.key, the session token kept as its SHA-256.
 */
#include "asakai/ak_sts.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asakai/ak_aws.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_iam.h"
#include "asakai/ak_json.h"
#include "asakai/ak_jwt.h"
#include "asakai/ak_log.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "sts_int.h"
#include "../core/ak_banned.h"

#define XMLNS "https://sts.amazonaws.com/doc/2011-06-15/"
#define API_VERSION "2011-06-15"
#define ACTION_AWI "AssumeRoleWithWebIdentity"
#define ACTION_GCI "GetCallerIdentity"
#define SIGV4_SKEW_MS (5 * 60 * 1000)
#define NBF_LEEWAY_S 60
#define PURGE_EVERY_MS (60 * 1000)
#define AUDIT_KEEP_MS (90LL * 24 * 3600 * 1000) /* audit rows kept 90 days ... */
#define AUDIT_KEEP_ROWS 1000000           /* ... and at most this many */
#define SESSION_TOKEN_BYTES 72
#define LOG_MAX 1000

/* AWS's own words (reference §1.5). */
#define MSG_INVALID_TOKEN                                                                          \
    "The web identity token that was passed could not be validated by Amazon Web Services. Get "  \
    "a new identity token from the identity provider and then retry the request."
#define MSG_NO_KEY                                                                                 \
    "Couldn't retrieve verification key from your identity provider,  please reference "          \
    "AssumeRoleWithWebIdentity documentation for requirements"
#define MSG_DENIED "Not authorized to perform sts:AssumeRoleWithWebIdentity"
#define MSG_BAD_TOKEN_ID "The security token included in the request is invalid."
#define MSG_EXPIRED_TOKEN_ID "The security token included in the request is expired"
#define MSG_SIG_MISMATCH                                                                           \
    "The request signature we calculated does not match the signature you provided. Check your "  \
    "AWS Secret Access Key and signing method. Consult the service documentation for details."

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* Reads <data_dir>/sts.key, or creates it (32 random bytes, 0600) the first time. */
static int load_key(const char *data_dir, unsigned char key[AK_SEAL_KEY_LEN], struct ak_buf *err)
{
    char *path = ak_xasprintf("%s/sts.key", data_dir);
    unsigned char extra;
    ssize_t n;
    int fd, r = AK_OK;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        r = ak_random_bytes(key, AK_SEAL_KEY_LEN);
        if (r == AK_OK && (write(fd, key, AK_SEAL_KEY_LEN) != AK_SEAL_KEY_LEN || fsync(fd) < 0))
            r = ak_err(err, AK_EIO, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        if (r < 0)
            unlink(path);
        goto out;
    }
    if (errno != EEXIST) {
        r = ak_err(err, AK_EIO, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r = ak_err(err, AK_EIO, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    n = read(fd, key, AK_SEAL_KEY_LEN);
    if (n != AK_SEAL_KEY_LEN || read(fd, &extra, 1) != 0)
        r = ak_err(err, AK_ECORRUPT, "%s is not a %d-byte key", path, AK_SEAL_KEY_LEN);
    close(fd);
out:
    free(path);
    return r;
}

static int roles_init(struct ak_sts *s, struct ak_buf *err)
{
    const struct ak_cfg *cfg = s->cfg;
    struct ak_buf why = AK_BUF_INIT(1024);
    int r = AK_OK;

    s->roles = ak_xcalloc(cfg->n_sts_roles + 1, sizeof(*s->roles));
    for (size_t i = 0; i < cfg->n_sts_roles; i++) {
        const struct ak_cfg_sts_role *c = &cfg->sts_roles[i];
        struct sts_role *ro = &s->roles[i];
        ro->name = c->name;
        ro->account_id = c->account_id;
        ro->max_session_s = c->max_session_s ? c->max_session_s : 3600;
        ro->api_access = c->api_access;
        ro->arn = ak_xasprintf("arn:aws:iam::%s:role/%s", c->account_id, c->name);
        ak__sts_role_unique_id(ro->arn, ro->unique_id);
        s->n_roles++;
        r = ak_iam_policy_parse(c->policy_json, strlen(c->policy_json), &ro->policy, &why);
        if (r < 0) {
            r = ak_err(err, AK_ECONFIG, "sts.roles %s (line %d): assume_role_policy: %s",
                       c->name, c->line, why.buf);
            break;
        }
    }
    ak_buf_release(&why);
    return r;
}

static void describe(void)
{
    ak_metrics_describe("asakai_sts_requests_total", "counter",
                        "STS twin requests by action, result and AWS error code.");
    ak_metrics_describe("asakai_sts_jwks_fetches_total", "counter",
                        "OIDC discovery + JWKS fetches by result.");
}

int ak_sts_start(const struct ak_cfg *cfg, struct ak_sts **ret, struct ak_buf *err)
{
    struct ak_sts *s = ak_xcalloc(1, sizeof(*s));
    int r;

    describe();
    s->cfg = cfg;
    pthread_mutex_init(&s->store_mu, NULL);
    s->prov = ak_xcalloc(cfg->n_oidc_providers + 1, sizeof(*s->prov));
    for (size_t i = 0; i < cfg->n_oidc_providers; i++) {
        struct sts_provider *p = &s->prov[i];
        p->cfg = &cfg->oidc_providers[i];
        p->host_path = ak_startswith(p->cfg->url, "https://") ? p->cfg->url + 8 : p->cfg->url;
        s->n_prov++;
        r = ak__sts_keys_init(p, err);
        if (r < 0)
            goto fail;
    }
    r = roles_init(s, err);
    if (r < 0)
        goto fail;
    r = ak_store_open(cfg->data_dir, AK_STORE_WRITE, &s->st, err);
    if (r < 0)
        goto fail;
    /* WAL without an fsync per exchange: a crash of asakai loses nothing, a power cut may lose
     * the last exchanges' rows — their credentials then fail like expired ones and the job asks
     * again. Two fsyncs per exchange capped the twin at ~2k exchanges/s (bench-oidc.sh). */
    ak_store_set_durable(s->st, false);
    r = load_key(cfg->data_dir, s->key, err);
    if (r < 0)
        goto fail;
    *ret = s;
    return AK_OK;
fail:
    ak_sts_stop(s);
    return r;
}

void ak_sts_stop(struct ak_sts *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_prov; i++)
        ak__sts_keys_release(&s->prov[i]);
    for (size_t i = 0; i < s->n_roles; i++) {
        free(s->roles[i].arn);
        ak_iam_policy_free(s->roles[i].policy);
    }
    free(s->prov);
    free(s->roles);
    ak_store_close(s->st);
    pthread_mutex_destroy(&s->store_mu);
    memset(s->key, 0, sizeof(s->key));
    free(s);
}

/* ---- one exchange: what it learned, for the answer and the audit --------------------------- */

struct xchg {
    struct ak_sts *s;
    const struct ak_sts_req *rq;
    struct ak_sts_resp *resp;
    bool json;
    struct sts_params params;
    const char *action;
    /* audit */
    const char *code;
    struct ak_buf reason;
    const char *role_arn, *subject, *audience, *session_name, *akid;
    char provider_arn[2200];
    int64_t duration_s;
};

static const char *header(const struct ak_sts_req *rq, const char *name)
{
    size_t n = strlen(name);

    for (const char *const *h = rq->headers; h && *h; h++)
        if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':') {
            const char *v = *h + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    return NULL;
}

/* Text from outside (an unverified token's sub and aud, a RoleArn or RoleSessionName that failed
 * validation: up to server.max_body_bytes) is cut to this before the audit table and the log. */
#define AUDIT_FIELD_MAX 2048

static char *audit_str(const char *s)
{
    return ak_xstrndup(s, AUDIT_FIELD_MAX);
}

static void audit_write(struct xchg *x, bool allowed)
{
    struct ak_sts_audit a = {0};
    char labels[200];

    a.at = ak_now_wall_ms();
    a.action = (char *)(x->action ? x->action : "unknown");
    a.result = (char *)(allowed ? "allowed" : "denied");
    a.code = (char *)x->code;
    a.reason = x->reason.len ? x->reason.buf : NULL;
    a.role_arn = audit_str(x->role_arn);
    a.provider = x->provider_arn[0] ? x->provider_arn : NULL;
    a.subject = audit_str(x->subject);
    a.audience = audit_str(x->audience);
    a.session_name = audit_str(x->session_name);
    a.akid = audit_str(x->akid);
    a.remote = (char *)x->rq->remote;
    a.duration_s = x->duration_s;
    pthread_mutex_lock(&x->s->store_mu);
    if (ak_store_begin(x->s->st) == AK_OK) {
        int64_t mono = ak_now_mono_ms();
        if (mono - x->s->last_audit_purge_mono >= PURGE_EVERY_MS) {
            /* retention: a flood of unauthenticated requests must not grow the table forever */
            (void)ak_store_sts_audit_purge(x->s->st, a.at - AUDIT_KEEP_MS, AUDIT_KEEP_ROWS,
                                           NULL);
            x->s->last_audit_purge_mono = mono;
        }
        if (ak_store_sts_audit_add(x->s->st, &a, NULL) == AK_OK)
            ak_store_commit(x->s->st);
        else
            ak_store_rollback(x->s->st);
    }
    pthread_mutex_unlock(&x->s->store_mu);
    snprintf(labels, sizeof(labels), "action=\"%s\",result=\"%s\",code=\"%s\"",
             x->action && (strcmp(x->action, ACTION_AWI) == 0 ||
                           strcmp(x->action, ACTION_GCI) == 0 || strcmp(x->action, "api") == 0)
                 ? x->action
                 : "other",
             a.result, x->code ? x->code : "");
    ak_metrics_inc("asakai_sts_requests_total", labels);
    if (!allowed)
        ak_log(AK_LOG_INFO, "sts", "request denied", "action", a.action, "code", x->code,
               "reason", a.reason, "role", a.role_arn, "subject", a.subject, "remote",
               x->rq->remote, NULL);
    free(a.role_arn);
    free(a.subject);
    free(a.audience);
    free(a.session_name);
    free(a.akid);
}

/* Sets an AWS error document as the answer; reason (the real one) goes to the audit. */
static void fail(struct xchg *x, int status, const char *code, const char *msg)
{
    struct ak_buf *b = &x->resp->body;

    x->code = code;
    if (!x->reason.len)
        ak_buf_add(&x->reason, msg);
    x->resp->status = status;
    ak_buf_reset(b);
    if (x->json) {
        struct ak_json *o = ak_json_new_obj(), *e = ak_json_new_obj();
        ak_json_set_str(e, "Type", status >= 500 ? "Receiver" : "Sender");
        ak_json_set_str(e, "Code", code);
        ak_json_set_str(e, "Message", msg);
        ak_json_set(o, "Error", e);
        ak_json_set_str(o, "RequestId", x->resp->request_id);
        char *t = ak_json_dump(o, AK_JSON_COMPACT);
        ak_buf_add(b, t);
        free(t);
        ak_json_free(o);
        x->resp->content_type = "application/json";
        return;
    }
    ak_buf_addf(b, "<ErrorResponse xmlns=\"" XMLNS "\">\n  <Error>\n    <Type>%s</Type>\n",
                status >= 500 ? "Receiver" : "Sender");
    ak_buf_add(b, "    <Code>");
    ak__sts_xml_escape(b, code);
    ak_buf_add(b, "</Code>\n    <Message>");
    ak__sts_xml_escape(b, msg);
    ak_buf_addf(b, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n",
                x->resp->request_id);
    x->resp->content_type = "text/xml";
}

static void xml_elem(struct ak_buf *b, int indent, const char *name, const char *v)
{
    ak_buf_addf(b, "%*s<%s>", indent, "", name);
    ak__sts_xml_escape(b, v);
    ak_buf_addf(b, "</%s>\n", name);
}

/* Parses the query string of path_query and, for a POST, the form body (body wins). */
static int read_params(struct xchg *x)
{
    const char *q = strchr(x->rq->path_query ? x->rq->path_query : "", '?');

    if (q && ak__sts_form_parse(q + 1, strlen(q + 1), &x->params) < 0)
        return AK_EINVAL;
    if (x->rq->method && strcmp(x->rq->method, "POST") == 0 && x->rq->body_len &&
        ak__sts_form_parse(x->rq->body, x->rq->body_len, &x->params) < 0)
        return AK_EINVAL;
    return AK_OK;
}

/* ---- AssumeRoleWithWebIdentity ------------------------------------------------------------- */

/* Collects Coral-style "Value X at 'member' failed to satisfy constraint: ..." sentences. */
struct verrs {
    struct ak_buf b;
    int n;
};

static void verr(struct verrs *v, const char *value, const char *member, const char *what)
{
    if (v->n++)
        ak_buf_add(&v->b, "; ");
    if (!value)
        ak_buf_addf(&v->b, "Value null at '%s' failed to satisfy constraint: %s", member, what);
    else if (strcmp(member, "webIdentityToken") == 0) /* sensitive: never echoed */
        ak_buf_addf(&v->b, "Value at '%s' failed to satisfy constraint: %s", member, what);
    else
        ak_buf_addf(&v->b, "Value '%.100s' at '%s' failed to satisfy constraint: %s", value,
                    member, what);
}

static void check_len(struct verrs *v, const char *val, const char *member, size_t min,
                      size_t max)
{
    char what[96];
    size_t n;

    if (!val) {
        verr(v, NULL, member, "Member must not be null");
        return;
    }
    n = strlen(val);
    if (n < min) {
        snprintf(what, sizeof(what), "Member must have length greater than or equal to %zu", min);
        verr(v, val, member, what);
    } else if (n > max) {
        snprintf(what, sizeof(what), "Member must have length less than or equal to %zu", max);
        verr(v, val, member, what);
    }
}

/* Parameter constraints of the service model (§1.2); false after answering ValidationError. */
static bool awi_params_ok(struct xchg *x, int64_t *ret_duration)
{
    const char *arn = ak__sts_param(&x->params, "RoleArn");
    const char *name = ak__sts_param(&x->params, "RoleSessionName");
    const char *tok = ak__sts_param(&x->params, "WebIdentityToken");
    const char *dur = ak__sts_param(&x->params, "DurationSeconds");
    const char *pol = ak__sts_param(&x->params, "Policy");
    struct verrs v = {AK_BUF_INIT(4096), 0};
    uint64_t d = 3600;
    bool ok;

    check_len(&v, arn, "roleArn", 20, 2048);
    check_len(&v, name, "roleSessionName", 2, 64);
    if (name && strlen(name) >= 2 && strlen(name) <= 64 && !ak__sts_session_name_ok(name))
        verr(&v, name, "roleSessionName",
             "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    check_len(&v, tok, "webIdentityToken", 4, AK_JWT_MAX);
    if (pol)
        check_len(&v, pol, "policy", 1, 2048);
    if (dur) {
        if (ak_parse_u64(dur, 0, UINT32_MAX, &d) < 0)
            verr(&v, dur, "durationSeconds", "Member must be an integer");
        else if (d < 900)
            verr(&v, dur, "durationSeconds",
                 "Member must have value greater than or equal to 900");
        else if (d > 43200)
            verr(&v, dur, "durationSeconds",
                 "Member must have value less than or equal to 43200");
    }
    x->role_arn = arn;
    x->session_name = name;
    x->duration_s = (int64_t)d;
    ok = v.n == 0;
    if (!ok) {
        struct ak_buf m = AK_BUF_INIT(8192);
        ak_buf_addf(&m, "%d validation error%s detected: %s", v.n, v.n > 1 ? "s" : "", v.b.buf);
        fail(x, 400, "ValidationError", m.buf);
        ak_buf_release(&m);
    }
    ak_buf_release(&v.b);
    *ret_duration = (int64_t)d;
    return ok;
}

static struct sts_provider *provider_for(struct ak_sts *s, const char *iss)
{
    for (size_t i = 0; i < s->n_prov; i++)
        if (iss && strcmp(s->prov[i].cfg->url, iss) == 0)
            return &s->prov[i];
    return NULL;
}

static struct sts_role *role_for(struct ak_sts *s, const char *arn)
{
    for (size_t i = 0; i < s->n_roles; i++)
        if (strcmp(s->roles[i].arn, arn) == 0)
            return &s->roles[i];
    return NULL;
}

/* Signature and claims; false after answering. ret_aud: the audience that matched. */
static bool token_ok(struct xchg *x, struct sts_provider *p, const struct ak_jwt *t,
                     const char **ret_aud)
{
    const struct ak_cfg_oidc_provider *pc = p->cfg;
    struct ak_jwt_rules rules = {
        .issuer = pc->url, .audiences = (const char *const *)pc->client_ids.v,
        .n_audiences = pc->client_ids.n, .now_ms = ak_now_wall_ms(),
        .exp_leeway_s = x->s->cfg->sts_exp_leeway_ms / 1000, .nbf_leeway_s = NBF_LEEWAY_S,
        .max_age_s = pc->max_token_age_ms / 1000};
    enum ak_jwt_fail why = AK_JWT_OK;
    char msg[256];

    switch (ak__sts_keys_verify(x->s, p, t, &x->reason)) {
    case STS_V_OK:
        break;
    case STS_V_IDP:
        fail(x, 400, "IDPCommunicationError", MSG_NO_KEY);
        return false;
    default:
        fail(x, 400, "InvalidIdentityToken", MSG_INVALID_TOKEN);
        return false;
    }
    if (ak_jwt_check_claims(t, &rules, &why, &x->reason) == AK_OK) {
        for (size_t i = 0; i < t->n_aud && !*ret_aud; i++)
            for (size_t j = 0; j < pc->client_ids.n; j++)
                if (strcmp(t->aud[i], pc->client_ids.v[j]) == 0)
                    *ret_aud = t->aud[i];
        return true;
    }
    switch (why) {
    case AK_JWT_EXPIRED:
        /* AWS's text, missing space included (reference §1.5) */
        snprintf(msg, sizeof(msg), "Token expired: current date/time %" PRId64
                 " must be before the expiration date/time%" PRId64, rules.now_ms / 1000, t->exp);
        fail(x, 400, "ExpiredTokenException", msg);
        break;
    case AK_JWT_TOO_OLD:
        snprintf(msg, sizeof(msg), "Token too old: %" PRId64, rules.now_ms / 1000 - t->iat);
        fail(x, 400, "ExpiredTokenException", msg);
        break;
    case AK_JWT_AUDIENCE:
        fail(x, 400, "InvalidIdentityToken", "Incorrect token audience");
        break;
    default:
        fail(x, 400, "InvalidIdentityToken", MSG_INVALID_TOKEN);
    }
    return false;
}

static bool trust_ok(struct xchg *x, struct sts_provider *p, struct sts_role *ro,
                     const struct ak_jwt *t)
{
    struct ak_iam_claims_ctx cc = {0};
    struct ak_iam_result res;
    struct ak_iam_ctx ctx;

    if (ak_iam_ctx_from_claims(p->host_path, t->claims, x->session_name, &cc) < 0) {
        ak_buf_add(&x->reason, "the token's claims could not be turned into condition keys");
        fail(x, 403, "AccessDenied", MSG_DENIED);
        return false;
    }
    ctx.principal_type = "Federated";
    ctx.principal = x->provider_arn;
    ctx.action = "sts:AssumeRoleWithWebIdentity";
    ctx.keys = cc.keys;
    ctx.n_keys = cc.n_keys;
    ak_iam_evaluate(ro->policy, &ctx, &res);
    ak_iam_claims_ctx_release(&cc);
    if (res.decision == AK_IAM_ALLOW)
        return true;
    ak_buf_addf(&x->reason, "%s: %s", res.decision == AK_IAM_EXPLICIT_DENY ? "explicit deny" :
                                                                            "implicit deny",
                res.why);
    fail(x, 403, "AccessDenied", MSG_DENIED);
    return false;
}

struct issued {
    char akid[21];
    char secret[41];
    char *token;
    int64_t expires_ms;
    char assumed_arn[512];
    char assumed_id[128];
};

/* Makes and stores the credentials (and purges expired ones now and then). */
static int issue(struct xchg *x, struct sts_role *ro, const char *sub, struct issued *out)
{
    unsigned char raw[SESSION_TOKEN_BYTES], sec[30];
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    char hash[65], *sealed_b64 = NULL, *sec_b64 = NULL;
    struct ak_sts_cred c = {0};
    int64_t now = ak_now_wall_ms(), mono = ak_now_mono_ms();
    int r;

    if ((r = ak__sts_new_akid(out->akid)) < 0 || (r = ak_random_bytes(raw, sizeof(raw))) < 0 ||
        (r = ak_random_bytes(sec, sizeof(sec))) < 0)
        goto out;
    sec_b64 = ak_base64_encode(sec, sizeof(sec)); /* 30 bytes: exactly 40 chars, no padding */
    memcpy(out->secret, sec_b64, 40);
    out->secret[40] = 0;
    out->token = ak_base64_encode(raw, sizeof(raw));
    out->expires_ms = now + x->duration_s * 1000;
    snprintf(out->assumed_arn, sizeof(out->assumed_arn), "arn:aws:sts::%s:assumed-role/%s/%s",
             ro->account_id, ro->name, x->session_name);
    snprintf(out->assumed_id, sizeof(out->assumed_id), "%s:%s", ro->unique_id, x->session_name);
    ak_sha256_hex(out->token, strlen(out->token), hash);
    r = ak_seal(x->s->key, out->secret, 40, out->akid, &sealed, &sealed_len);
    if (r < 0)
        goto out;
    sealed_b64 = ak_base64_encode(sealed, sealed_len);
    c.akid = out->akid;
    c.secret_sealed = sealed_b64;
    c.token_hash = hash;
    c.role_arn = ro->arn;
    c.assumed_arn = out->assumed_arn;
    c.assumed_id = out->assumed_id;
    c.session_name = (char *)x->session_name;
    c.subject = (char *)sub;
    c.provider = x->provider_arn;
    c.issued_at = now;
    c.expires_at = out->expires_ms;
    pthread_mutex_lock(&x->s->store_mu);
    r = ak_store_begin(x->s->st);
    if (r == AK_OK && mono - x->s->last_purge_mono >= PURGE_EVERY_MS) {
        r = ak_store_sts_cred_purge(x->s->st, now, NULL);
        x->s->last_purge_mono = mono;
    }
    if (r == AK_OK)
        r = ak_store_sts_cred_put(x->s->st, &c);
    r = r == AK_OK ? ak_store_commit(x->s->st) : (ak_store_rollback(x->s->st), r);
    pthread_mutex_unlock(&x->s->store_mu);
out:
    memset(sec, 0, sizeof(sec));
    if (sec_b64)
        memset(sec_b64, 0, strlen(sec_b64));
    free(sec_b64);
    free(sealed);
    free(sealed_b64);
    return r;
}

static void awi_answer(struct xchg *x, const struct issued *c, const char *sub, const char *aud)
{
    struct ak_buf *b = &x->resp->body;
    char exp[AK_TIME_RFC3339_LEN];

    x->resp->status = 200;
    ak_buf_reset(b);
    if (x->json) {
        struct ak_json *o = ak_json_new_obj(), *res = ak_json_new_obj(),
                       *cr = ak_json_new_obj(), *u = ak_json_new_obj(), *md = ak_json_new_obj(),
                       *top = ak_json_new_obj();
        ak_json_set_str(cr, "AccessKeyId", c->akid);
        ak_json_set_str(cr, "SecretAccessKey", c->secret);
        ak_json_set_str(cr, "SessionToken", c->token);
        ak_json_set_int(cr, "Expiration", c->expires_ms / 1000); /* epoch seconds (§1.6) */
        ak_json_set(res, "Credentials", cr);
        ak_json_set_str(res, "SubjectFromWebIdentityToken", sub);
        ak_json_set_str(u, "AssumedRoleId", c->assumed_id);
        ak_json_set_str(u, "Arn", c->assumed_arn);
        ak_json_set(res, "AssumedRoleUser", u);
        ak_json_set_str(res, "Provider", x->provider_arn);
        ak_json_set_str(res, "Audience", aud);
        ak_json_set(o, "AssumeRoleWithWebIdentityResult", res);
        ak_json_set_str(md, "RequestId", x->resp->request_id);
        ak_json_set(o, "ResponseMetadata", md);
        ak_json_set(top, "AssumeRoleWithWebIdentityResponse", o);
        char *t = ak_json_dump(top, AK_JSON_COMPACT);
        ak_buf_add(b, t);
        free(t);
        ak_json_free(top);
        x->resp->content_type = "application/json";
        return;
    }
    ak_time_fmt_rfc3339(c->expires_ms, exp, sizeof(exp));
    ak_buf_add(b, "<AssumeRoleWithWebIdentityResponse xmlns=\"" XMLNS "\">\n"
                  "  <AssumeRoleWithWebIdentityResult>\n    <Credentials>\n");
    xml_elem(b, 6, "AccessKeyId", c->akid);
    xml_elem(b, 6, "SecretAccessKey", c->secret);
    xml_elem(b, 6, "SessionToken", c->token);
    xml_elem(b, 6, "Expiration", exp);
    ak_buf_add(b, "    </Credentials>\n");
    xml_elem(b, 4, "SubjectFromWebIdentityToken", sub);
    ak_buf_add(b, "    <AssumedRoleUser>\n");
    xml_elem(b, 6, "AssumedRoleId", c->assumed_id);
    xml_elem(b, 6, "Arn", c->assumed_arn);
    ak_buf_add(b, "    </AssumedRoleUser>\n");
    xml_elem(b, 4, "Provider", x->provider_arn);
    xml_elem(b, 4, "Audience", aud);
    ak_buf_addf(b, "  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>\n"
                   "    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
                   "</AssumeRoleWithWebIdentityResponse>\n",
                x->resp->request_id);
    x->resp->content_type = "text/xml";
}

/* Returns true when credentials were issued (for the audit's result). */
static bool assume_role_with_web_identity(struct xchg *x)
{
    struct ak_jwt t;
    bool parsed = false, ok = false;
    const char *tok, *acct, *name, *aud = NULL;
    size_t name_len;
    struct sts_provider *p;
    struct sts_role *ro;
    struct issued c = {0};
    int64_t duration;

    memset(&t, 0, sizeof(t));
    if (!awi_params_ok(x, &duration))
        goto out;
    if (!ak__sts_role_arn_parse(x->role_arn, &acct, &name, &name_len)) {
        struct ak_buf m = AK_BUF_INIT(4096);
        ak_buf_addf(&m, "%s is invalid", x->role_arn);
        fail(x, 400, "ValidationError", m.buf);
        ak_buf_release(&m);
        goto out;
    }
    tok = ak__sts_param(&x->params, "WebIdentityToken");
    if (ak_jwt_parse(tok, strlen(tok), &t, &x->reason) < 0) {
        fail(x, 400, "InvalidIdentityToken", MSG_INVALID_TOKEN);
        goto out;
    }
    parsed = true;
    x->subject = t.sub;
    x->audience = t.n_aud ? t.aud[0] : NULL;
    p = provider_for(x->s, t.iss);
    if (!p) {
        struct ak_buf m = AK_BUF_INIT(1024);
        ak_buf_addf(&m, "No OpenIDConnect provider found in your account for %.300s",
                    t.iss ? t.iss : "");
        fail(x, 400, "InvalidIdentityToken", m.buf);
        ak_buf_release(&m);
        goto out;
    }
    /* the provider ARN lives in the role's account (reference §3.2) */
    snprintf(x->provider_arn, sizeof(x->provider_arn), "arn:aws:iam::%.12s:oidc-provider/%s",
             acct, p->host_path);
    if (!token_ok(x, p, &t, &aud))
        goto out;
    x->audience = aud;
    ro = role_for(x->s, x->role_arn);
    if (!ro) {
        /* AWS does not tell a missing role from a refusing trust policy: AccessDenied "Not
         * authorized to perform sts:AssumeRole[WithWebIdentity]" (uswitch/kiam#33) */
        ak_buf_addf(&x->reason, "no role %s is configured (sts.roles)", x->role_arn);
        fail(x, 403, "AccessDenied", MSG_DENIED);
        goto out;
    }
    if (!trust_ok(x, p, ro, &t))
        goto out;
    if (duration > ro->max_session_s) {
        ak_buf_addf(&x->reason, "DurationSeconds %" PRId64 " > the role's max %" PRId64,
                    duration, ro->max_session_s);
        fail(x, 400, "ValidationError",
             "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
        goto out;
    }
    if (issue(x, ro, t.sub, &c) < 0) {
        ak_buf_add(&x->reason, "cannot store the credentials");
        fail(x, 500, "InternalFailure", "An internal error occurred.");
        goto out;
    }
    x->akid = c.akid;
    awi_answer(x, &c, t.sub, aud);
    ok = true;
    /* the audit is written below while t (sub, aud) is still alive */
    x->code = NULL;
out:
    if (!ok && !x->code)
        x->code = "InternalFailure";
    audit_write(x, ok);
    x->subject = NULL;
    x->audience = NULL;
    x->akid = NULL;
    if (c.token) {
        memset(c.token, 0, strlen(c.token));
        free(c.token);
    }
    memset(c.secret, 0, sizeof(c.secret));
    if (parsed)
        ak_jwt_release(&t);
    return ok;
}

/* ---- SigV4 with issued credentials (GetCallerIdentity, the API) ---------------------------- */

struct sig_fail {
    int status;
    const char *code;
    const char *msg;
};

/* Verifies rq's SigV4 signature made with credentials this twin issued; *ret_cred on success.
 * AK_ENOTFOUND when there is no AWS4-HMAC-SHA256 Authorization; otherwise AK_ESIG with what AWS
 * would answer in *f and the real reason in why. */
static int verify_signed(struct ak_sts *s, const struct ak_sts_req *rq, const char *service,
                         struct ak_sts_cred *ret_cred, struct sig_fail *f, struct ak_buf *why)
{
    const char *authz = header(rq, "Authorization");
    const char *tok = header(rq, "X-Amz-Security-Token");
    struct ak_aws_auth auth;
    struct ak_sts_cred c = {0};
    unsigned char *secret = NULL;
    size_t secret_len = 0;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    char hash[65], *sec = NULL;
    int r;

    *f = (struct sig_fail){403, "InvalidClientTokenId", MSG_BAD_TOKEN_ID};
    if (!authz || strncmp(authz, "AWS4-HMAC-SHA256 ", 17) != 0) {
        *f = (struct sig_fail){403, "MissingAuthenticationToken",
                               "Request is missing Authentication Token"};
        ak_buf_add(why, "no AWS4-HMAC-SHA256 Authorization header");
        return AK_ENOTFOUND;
    }
    if (ak_aws_auth_parse(authz, &auth, why) < 0) {
        *f = (struct sig_fail){400, "IncompleteSignature", "Authorization header is malformed"};
        return AK_ESIG;
    }
    if (service && strcmp(auth.service, service) != 0) {
        ak_buf_addf(why, "credential scope names service %s, not %s", auth.service, service);
        *f = (struct sig_fail){403, "SignatureDoesNotMatch", MSG_SIG_MISMATCH};
        return AK_ESIG;
    }
    pthread_mutex_lock(&s->store_mu);
    r = ak_store_sts_cred_get(s->st, auth.akid, &c);
    pthread_mutex_unlock(&s->store_mu);
    if (r < 0) {
        ak_buf_addf(why, "access key %.40s was not issued by this twin (or was purged)",
                    auth.akid);
        r = AK_ESIG;
        goto out;
    }
    if (!tok) {
        ak_buf_add(why, "no X-Amz-Security-Token with temporary credentials");
        r = AK_ESIG;
        goto out;
    }
    ak_sha256_hex(tok, strlen(tok), hash);
    if (!ak_ct_equal(hash, 64, c.token_hash, strlen(c.token_hash))) {
        ak_buf_add(why, "the session token does not belong to this access key");
        r = AK_ESIG;
        goto out;
    }
    /* a role taken out of sts.roles revokes its sessions, as deleting an IAM role does */
    if (!role_for(s, c.role_arn)) {
        ak_buf_addf(why, "role %s is no longer configured (sts.roles)", c.role_arn);
        r = AK_ESIG;
        goto out;
    }
    if (c.expires_at <= ak_now_wall_ms()) {
        ak_buf_add(why, "the credentials expired");
        *f = (struct sig_fail){403, "ExpiredToken", MSG_EXPIRED_TOKEN_ID};
        r = AK_ESIG;
        goto out;
    }
    if (ak_base64_decode(c.secret_sealed, strlen(c.secret_sealed), &sealed, &sealed_len) < 0 ||
        ak_unseal(s->key, sealed, sealed_len, c.akid, &secret, &secret_len) < 0) {
        ak_buf_add(why, "the stored secret does not unseal (sts.key changed?)");
        r = AK_ESIG;
        goto out;
    }
    sec = ak_xstrndup((const char *)secret, secret_len);
    {
        struct ak_aws_incoming in = {rq->method, rq->path_query, rq->headers, rq->body,
                                     rq->body_len};
        r = ak_aws_verify(&in, &auth, sec, ak_now_wall_ms(), SIGV4_SKEW_MS, why);
    }
    if (r < 0) {
        if (r == AK_EINVAL)
            *f = (struct sig_fail){400, "IncompleteSignature", why->buf};
        else if (strstr(why->buf, "Signature expired"))
            *f = (struct sig_fail){403, "SignatureDoesNotMatch",
                                   strstr(why->buf, "Signature expired")};
        else
            *f = (struct sig_fail){403, "SignatureDoesNotMatch", MSG_SIG_MISMATCH};
        r = AK_ESIG;
        goto out;
    }
    *ret_cred = c;
    memset(&c, 0, sizeof(c));
out:
    if (sec) {
        memset(sec, 0, strlen(sec));
        free(sec);
    }
    if (secret) {
        memset(secret, 0, secret_len);
        free(secret);
    }
    free(sealed);
    ak_sts_cred_release(&c);
    return r;
}

static bool get_caller_identity(struct xchg *x)
{
    struct ak_sts_cred c = {0};
    struct sig_fail f;
    struct ak_buf *b = &x->resp->body;
    const char *acct;

    if (verify_signed(x->s, x->rq, "sts", &c, &f, &x->reason) < 0) {
        fail(x, f.status, f.code, f.msg);
        audit_write(x, false);
        return false;
    }
    /* "arn:aws:sts::<acct>:assumed-role/..." */
    acct = c.assumed_arn + strlen("arn:aws:sts::");
    x->akid = c.akid;
    x->role_arn = c.role_arn;
    x->subject = c.subject;
    x->session_name = c.session_name;
    snprintf(x->provider_arn, sizeof(x->provider_arn), "%s", c.provider ? c.provider : "");
    x->resp->status = 200;
    ak_buf_reset(b);
    if (x->json) {
        struct ak_json *top = ak_json_new_obj(), *o = ak_json_new_obj(),
                       *res = ak_json_new_obj(), *md = ak_json_new_obj();
        char acct12[13];
        snprintf(acct12, sizeof(acct12), "%.12s", acct);
        ak_json_set_str(res, "UserId", c.assumed_id);
        ak_json_set_str(res, "Account", acct12);
        ak_json_set_str(res, "Arn", c.assumed_arn);
        ak_json_set(o, "GetCallerIdentityResult", res);
        ak_json_set_str(md, "RequestId", x->resp->request_id);
        ak_json_set(o, "ResponseMetadata", md);
        ak_json_set(top, "GetCallerIdentityResponse", o);
        char *t = ak_json_dump(top, AK_JSON_COMPACT);
        ak_buf_add(b, t);
        free(t);
        ak_json_free(top);
        x->resp->content_type = "application/json";
    } else {
        ak_buf_add(b, "<GetCallerIdentityResponse xmlns=\"" XMLNS "\">\n"
                      "  <GetCallerIdentityResult>\n");
        xml_elem(b, 4, "UserId", c.assumed_id);
        ak_buf_addf(b, "    <Account>%.12s</Account>\n", acct);
        xml_elem(b, 4, "Arn", c.assumed_arn);
        ak_buf_addf(b, "  </GetCallerIdentityResult>\n  <ResponseMetadata>\n"
                       "    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
                       "</GetCallerIdentityResponse>\n",
                    x->resp->request_id);
        x->resp->content_type = "text/xml";
    }
    audit_write(x, true);
    x->akid = x->role_arn = x->subject = x->session_name = NULL;
    ak_sts_cred_release(&c);
    return true;
}

/* ---- entry points -------------------------------------------------------------------------- */

static void xchg_init(struct xchg *x, struct ak_sts *s, const struct ak_sts_req *rq,
                      struct ak_sts_resp *resp)
{
    const char *accept = header(rq, "Accept");

    memset(x, 0, sizeof(*x));
    x->s = s;
    x->rq = rq;
    x->resp = resp;
    x->json = accept && strstr(accept, "application/json") != NULL;
    ak_buf_init(&x->reason, 2048);
}

void ak_sts_handle(struct ak_sts *s, const struct ak_sts_req *rq, struct ak_sts_resp *ret)
{
    struct xchg x;
    const char *action, *version;
    char msg[300];

    memset(ret, 0, sizeof(*ret));
    ak_buf_init(&ret->body, 1024 * 1024);
    ak__sts_request_id(ret->request_id);
    xchg_init(&x, s, rq, ret);
    if (read_params(&x) < 0) {
        x.action = "unknown";
        fail(&x, 400, "MalformedQueryString", "The query string or form body is malformed.");
        audit_write(&x, false);
        goto out;
    }
    action = ak__sts_param(&x.params, "Action");
    version = ak__sts_param(&x.params, "Version");
    x.action = action && (strcmp(action, ACTION_AWI) == 0 || strcmp(action, ACTION_GCI) == 0)
                   ? action
                   : "unknown";
    if (!action) {
        fail(&x, 400, "MissingAction", "Missing Action");
    } else if (!version || strcmp(version, API_VERSION) != 0 ||
               (strcmp(action, ACTION_AWI) != 0 && strcmp(action, ACTION_GCI) != 0)) {
        /* AWS resolves the operation per API version */
        snprintf(msg, sizeof(msg), "Could not find operation %.64s for version %.32s", action,
                 version ? version : "NO_VERSION_SPECIFIED");
        fail(&x, 400, "InvalidAction", msg);
    } else if (strcmp(action, ACTION_AWI) == 0) {
        assume_role_with_web_identity(&x);
        goto out;
    } else {
        get_caller_identity(&x);
        goto out;
    }
    audit_write(&x, false);
out:
    ak__sts_params_release(&x.params);
    ak_buf_release(&x.reason);
}

int ak_sts_authenticate(struct ak_sts *s, const struct ak_sts_req *rq, char **ret_arn,
                        struct ak_buf *err)
{
    struct ak_sts_cred c = {0};
    struct ak_sts_resp dummy;
    struct sig_fail f;
    struct sts_role *ro;
    struct xchg x;
    int r;

    memset(&dummy, 0, sizeof(dummy));
    xchg_init(&x, s, rq, &dummy);
    x.action = "api";
    r = verify_signed(s, rq, NULL, &c, &f, &x.reason);
    if (r == AK_ENOTFOUND)
        goto out; /* not a SigV4 request: nothing to audit */
    if (r < 0) {
        x.code = f.code;
        /* the caller gets AWS's words; the real reason (which keys exist, why a token did not
         * match) stays in the audit */
        ak_err(err, AK_ESIG, "%s: %s", f.code, f.msg);
        audit_write(&x, false);
        goto out;
    }
    x.akid = c.akid;
    x.role_arn = c.role_arn;
    x.subject = c.subject;
    x.session_name = c.session_name;
    snprintf(x.provider_arn, sizeof(x.provider_arn), "%s", c.provider ? c.provider : "");
    ro = c.role_arn ? role_for(s, c.role_arn) : NULL;
    if (!ro || !ro->api_access) {
        /* a session proves who the job is; only roles opened to the API may use it here */
        r = AK_EFORBIDDEN;
        x.code = "AccessDenied";
        ak_buf_addf(&x.reason, "role %s has no api_access", c.role_arn ? c.role_arn : "?");
        ak_err(err, AK_EFORBIDDEN, "AccessDenied: the role of these credentials may not call "
                                   "the asakai API (sts.roles[].api_access)");
        audit_write(&x, false);
        goto out;
    }
    if (rq->path_query)
        ak_buf_addf(&x.reason, "%s %.200s", rq->method ? rq->method : "", rq->path_query);
    audit_write(&x, true);
    *ret_arn = ak_xstrdup(c.assumed_arn);
out:
    ak_sts_cred_release(&c);
    ak_buf_release(&x.reason);
    return r;
}

static struct ak_json *audit_json(const struct ak_sts_audit *a)
{
    struct ak_json *o = ak_json_new_obj();

    ak_json_set_int(o, "id", a->id);
    ak_json_set_time(o, "at", a->at);
    ak_json_set_str(o, "action", a->action);
    ak_json_set_str(o, "result", a->result);
    ak_json_set_str(o, "code", a->code);
    ak_json_set_str(o, "reason", a->reason);
    ak_json_set_str(o, "role_arn", a->role_arn);
    ak_json_set_str(o, "provider", a->provider);
    ak_json_set_str(o, "subject", a->subject);
    ak_json_set_str(o, "audience", a->audience);
    ak_json_set_str(o, "session_name", a->session_name);
    ak_json_set_str(o, "access_key_id", a->akid);
    ak_json_set_str(o, "remote", a->remote);
    ak_json_set_int(o, "duration_s", a->duration_s);
    return o;
}

int ak_sts_log(struct ak_sts *s, const char *result, size_t limit, struct ak_json **ret,
               struct ak_buf *err)
{
    struct ak_sts_audit *v = NULL;
    size_t n = 0;
    struct ak_json *arr;
    int r;

    if (result && strcmp(result, "allowed") != 0 && strcmp(result, "denied") != 0)
        return ak_err(err, AK_EINVAL, "result must be allowed or denied, not '%.40s'", result);
    if (limit == 0 || limit > LOG_MAX)
        limit = LOG_MAX;
    pthread_mutex_lock(&s->store_mu);
    r = ak_store_sts_audit_list(s->st, result, limit, &v, &n);
    pthread_mutex_unlock(&s->store_mu);
    if (r < 0)
        return ak_err(err, r, "cannot read the STS audit: %s", ak_strerror(r));
    arr = ak_json_new_arr();
    for (size_t i = 0; i < n; i++) {
        ak_json_append(arr, audit_json(&v[i]));
        ak_sts_audit_release(&v[i]);
    }
    free(v);
    *ret = arr;
    return AK_OK;
}
