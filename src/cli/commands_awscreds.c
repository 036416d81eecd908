/* commands_awscreds.c — `asakai aws-creds`: a CI job's OIDC token exchanged at AWS STS
 * (AssumeRoleWithWebIdentity, unsigned) for temporary credentials, printed as shell exports,
 * JSON, credential_process JSON, or appended to $GITHUB_ENV. Replaces aws-cli + jq in a job.
 *
 * The web identity token and the secret never reach stderr: error texts that came from the
 * network are printed with any copy of the token replaced by "<token>".
 * Reference: ../shared/docs/reference/oidc-sts.md §1 (wire), §2.4-2.5 (refresh,
 * credential_process), §5 (CI token variables), §7.1-7.2 (peers).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asakai/ak_aws.h"
#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

#define CMD "aws-creds"
#define TOKEN_READ_MAX (64 * 1024) /* a token file or GitHub answer; tokens are <= 20000 */
#define TOKEN_MAX 20000            /* STS's WebIdentityToken limit */
#define STS_TIMEOUT_MS 15000
#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 8000
#define DEFAULT_ATTEMPTS 6
#define DEFAULT_AUDIENCE "sts.amazonaws.com" /* configure-aws-credentials' default */

enum fmt { FMT_ENV, FMT_JSON, FMT_PROCESS, FMT_GITHUB };
enum src_kind { SRC_ENV, SRC_FILE, SRC_GITHUB };

struct tok_src {
    enum src_kind kind;
    const char *name;     /* variable name or file path; for GitHub the URL variable's name */
    const char *url;      /* GitHub: ACTIONS_ID_TOKEN_REQUEST_URL */
    const char *bearer;   /* GitHub: ACTIONS_ID_TOKEN_REQUEST_TOKEN */
    const char *audience; /* GitHub */
    const char *ca_file;
};

struct awscreds {
    const char *role_arn, *session_name, *region, *endpoint, *ca_file;
    int64_t duration_s;
    unsigned max_attempts;
    enum fmt fmt;
    bool quiet;
    struct tok_src src;
};

/* The outcome of one failed attempt, kept for the final message. */
struct failure {
    long status;   /* 0: no HTTP answer */
    char *code;    /* AWS error code, NULL when none */
    char *message; /* AWS's message, or the transport / local reason */
    char *request_id;
    bool retry;
};

static void wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

static void failure_release(struct failure *f)
{
    free(f->code);
    free(f->message);
    free(f->request_id);
    *f = (struct failure){0};
}

/* Prints s with every occurrence of the token replaced, so that a server echoing the request
 * cannot make us leak it into a CI log. */
static void put_redacted(FILE *f, const char *s, const char *tok)
{
    size_t tl = tok ? strlen(tok) : 0;
    const char *p;

    while (tl >= 8 && (p = strstr(s, tok)) != NULL) {
        fwrite(s, 1, (size_t)(p - s), f);
        fputs("<token>", f);
        s = p + tl;
    }
    fputs(s, f);
}

/* ---- token sources ---------------------------------------------------------------------- */

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Picks the first configured source: flag, AWS_WEB_IDENTITY_TOKEN_FILE, CIRCLE_OIDC_TOKEN_V2,
 * CIRCLE_OIDC_TOKEN, GitHub Actions' token request URL. */
static int pick_source(const char *flag_env, const char *flag_file, struct tok_src *s)
{
    if (flag_env) {
        s->kind = SRC_ENV;
        s->name = flag_env;
    } else if (flag_file) {
        s->kind = SRC_FILE;
        s->name = flag_file;
    } else if (env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE")) {
        s->kind = SRC_FILE;
        s->name = env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
    } else if (env_nonempty("CIRCLE_OIDC_TOKEN_V2")) {
        s->kind = SRC_ENV;
        s->name = "CIRCLE_OIDC_TOKEN_V2";
    } else if (env_nonempty("CIRCLE_OIDC_TOKEN")) {
        s->kind = SRC_ENV;
        s->name = "CIRCLE_OIDC_TOKEN";
    } else if (env_nonempty("ACTIONS_ID_TOKEN_REQUEST_URL") &&
               env_nonempty("ACTIONS_ID_TOKEN_REQUEST_TOKEN")) {
        s->kind = SRC_GITHUB;
        s->name = "ACTIONS_ID_TOKEN_REQUEST_URL";
        s->url = env_nonempty("ACTIONS_ID_TOKEN_REQUEST_URL");
        s->bearer = env_nonempty("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    } else {
        fprintf(stderr,
                "asakai " CMD ": no web identity token found: tried --token-env, --token-file, "
                "AWS_WEB_IDENTITY_TOKEN_FILE, CIRCLE_OIDC_TOKEN_V2, CIRCLE_OIDC_TOKEN and "
                "ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN\n"
                "  (GitHub Actions: add 'permissions: id-token: write' to the job; GitLab CI: "
                "declare an id_tokens: variable and pass --token-env NAME)\n");
        return AK_EXIT_USAGE;
    }
    return AK_EXIT_OK;
}

static const char *src_label(const struct tok_src *s)
{
    switch (s->kind) {
    case SRC_FILE: return "token file";
    case SRC_GITHUB: return "GitHub Actions token request";
    default: return "variable";
    }
}

static int read_token_file(const char *path, struct ak_buf *out, struct ak_buf *why)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;
    int r = AK_OK;

    if (!f)
        return ak_err(why, AK_EIO, "cannot read token file %s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (ak_buf_addn(out, chunk, n) < 0) {
            r = ak_err(why, AK_ETOOBIG, "token file %s is over %d bytes", path, TOKEN_READ_MAX);
            break;
        }
    }
    memset(chunk, 0, sizeof(chunk));
    if (r == AK_OK && ferror(f))
        r = ak_err(why, AK_EIO, "error reading token file %s", path);
    fclose(f);
    return r;
}

/* GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=A with the request token as
 * bearer; the answer is {"value": "<jwt>"} (what @actions/core getIDToken does). */
static int fetch_github(const struct tok_src *s, struct ak_buf *out, bool *transient,
                        struct ak_buf *why)
{
    struct ak_httpc_resp resp;
    struct ak_buf herr = AK_BUF_INIT(512);
    char *aud = ak_url_escape(s->audience);
    char *url = ak_xasprintf("%s%saudience=%s", s->url, strchr(s->url, '?') ? "&" : "?", aud);
    char *auth = ak_xasprintf("Authorization: bearer %s", s->bearer);
    const char *headers[] = {auth, "Accept: application/json; api-version=2.0", NULL};
    struct ak_httpc_req req = {.method = "GET", .url = url, .headers = headers,
                               .timeout_ms = STS_TIMEOUT_MS, .max_response = TOKEN_READ_MAX,
                               .ca_file = s->ca_file};
    struct ak_json *j = NULL;
    const char *v;
    int r;

    ak_httpc_resp_init(&resp);
    r = ak_httpc_do(&req, &resp, &herr);
    if (r < 0) {
        *transient = r == AK_EIO || r == AK_ETIMEDOUT;
        r = ak_err(why, r, "GitHub token request failed: %s", herr.buf);
        goto out;
    }
    if (resp.status != 200) {
        *transient = resp.status >= 500 || resp.status == 429;
        r = ak_err(why, AK_EIO, "GitHub token request answered HTTP %ld", resp.status);
        goto out;
    }
    j = ak_json_parse(resp.body.buf, resp.body.len, NULL);
    v = ak_json_get_str(j, "value");
    if (!v) {
        r = ak_err(why, AK_EINVAL, "GitHub token request answered without a \"value\" string");
        goto out;
    }
    r = ak_buf_add(out, v);
out:
    if (resp.body.len)
        memset(resp.body.buf, 0, resp.body.len);
    ak_httpc_resp_release(&resp);
    ak_json_free(j);
    ak_buf_release(&herr);
    wipe_free(auth);
    free(url);
    free(aud);
    return r;
}

/* Reads the token now (again before every retry: a file may have been rewritten, a GitHub
 * token may have expired). *ret is malloc'ed and trimmed. *transient says whether waiting and
 * trying again may help. */
static int read_token(const struct tok_src *s, char **ret, bool *transient, struct ak_buf *why)
{
    struct ak_buf b = AK_BUF_INIT(TOKEN_READ_MAX);
    const char *v;
    size_t start = 0, len;
    int r = AK_OK;

    *transient = false;
    if (s->kind == SRC_ENV) {
        v = getenv(s->name);
        if (!v || !*v) {
            r = ak_err(why, AK_ECONFIG, "variable %s is %s", s->name, v ? "empty" : "not set");
            goto out;
        }
        r = ak_buf_add(&b, v);
        if (r < 0)
            r = ak_err(why, r, "variable %s is over %d bytes", s->name, TOKEN_READ_MAX);
    } else if (s->kind == SRC_FILE) {
        r = read_token_file(s->name, &b, why);
        /* the job may be writing the file right now */
        *transient = r == AK_EIO;
    } else {
        r = fetch_github(s, &b, transient, why);
    }
    if (r < 0)
        goto out;
    len = b.len;
    while (start < len && strchr(" \t\r\n", b.buf[start]))
        start++;
    while (len > start && strchr(" \t\r\n", b.buf[len - 1]))
        len--;
    if (len == start) {
        *transient = s->kind != SRC_ENV;
        r = ak_err(why, AK_EINVAL, "the token from %s %s is empty", src_label(s), s->name);
        goto out;
    }
    if (len - start > TOKEN_MAX || memchr(b.buf + start, 0, len - start)) {
        r = ak_err(why, AK_EINVAL, "the token from %s %s is not a token (%s)", src_label(s),
                   s->name, len - start > TOKEN_MAX ? "over 20000 characters" : "binary");
        goto out;
    }
    *ret = ak_xstrndup(b.buf + start, len - start);
out:
    if (b.len)
        memset(b.buf, 0, b.len);
    ak_buf_release(&b);
    return r;
}

/* ---- request ---------------------------------------------------------------------------- */

/* --endpoint, $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL (botocore's order), the regional
 * endpoint, the global one. */
static char *sts_endpoint(const struct awscreds *o)
{
    const char *region = o->region;

    if (o->endpoint)
        return ak_xstrdup(o->endpoint);
    if (env_nonempty("AWS_ENDPOINT_URL_STS"))
        return ak_xstrdup(env_nonempty("AWS_ENDPOINT_URL_STS"));
    if (env_nonempty("AWS_ENDPOINT_URL"))
        return ak_xstrdup(env_nonempty("AWS_ENDPOINT_URL"));
    if (!region)
        region = env_nonempty("AWS_REGION");
    if (!region)
        region = env_nonempty("AWS_DEFAULT_REGION");
    if (region)
        return ak_xasprintf("https://sts.%s.amazonaws.com%s/", region,
                            ak_startswith(region, "cn-") ? ".cn" : "");
    return ak_xstrdup("https://sts.amazonaws.com/");
}

/* RoleSessionName must match [\w+=,.@-]{2,64}: other bytes become '-' (as the CircleCI orb
 * does), the result is cut at 64 and padded when shorter than 2. */
static char *sanitize_session(const char *in)
{
    size_t n = strlen(in) > 64 ? 64 : strlen(in);
    char *s = ak_xmalloc(n + 3);

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c && strchr("_+=,.@-", c));
        s[i] = ok ? (char)c : '-';
    }
    while (n < 2)
        s[n++] = '-';
    s[n] = 0;
    return s;
}

static char *default_session(void)
{
    static const struct {
        const char *var, *prefix;
    } ci[] = {{"CIRCLE_BUILD_NUM", "circleci"}, {"GITHUB_RUN_ID", "github"},
              {"CI_JOB_ID", "gitlab"}};
    char *raw = NULL, *s;

    if (env_nonempty("AWS_ROLE_SESSION_NAME"))
        raw = ak_xstrdup(env_nonempty("AWS_ROLE_SESSION_NAME"));
    for (size_t i = 0; !raw && i < AK_ARRAY_SIZE(ci); i++)
        if (env_nonempty(ci[i].var))
            raw = ak_xasprintf("%s-%s", ci[i].prefix, env_nonempty(ci[i].var));
    if (!raw)
        raw = ak_xasprintf("asakai-%ld", (long)getpid());
    s = sanitize_session(raw);
    free(raw);
    return s;
}

static char *form_body(const struct awscreds *o, const char *tok)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    char *arn = ak_url_escape(o->role_arn), *name = ak_url_escape(o->session_name);
    char *t = ak_url_escape(tok);

    ak_buf_addf(&b, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s"
                    "&RoleSessionName=%s&WebIdentityToken=%s&DurationSeconds=%lld",
                arn, name, t, (long long)o->duration_s);
    wipe_free(t);
    free(arn);
    free(name);
    return ak_buf_detach(&b, NULL);
}

static bool looks_json(const struct ak_buf *b)
{
    size_t i = 0;
    while (i < b->len && strchr(" \t\r\n", b->buf[i]))
        i++;
    return i < b->len && b->buf[i] == '{';
}

static char *json_dup(const struct ak_json *o, const char *k)
{
    const char *s = ak_json_get_str(o, k);
    return s && *s ? ak_xstrdup(s) : NULL;
}

/* Success, JSON form (Accept: application/json; Expiration in epoch seconds). */
static int parse_json_creds(const struct ak_buf *body, struct ak_aws_creds *ret, char **ret_arn,
                            struct ak_buf *why)
{
    struct ak_json *root = ak_json_parse(body->buf, body->len, NULL);
    const struct ak_json *res, *c, *exp;
    struct ak_aws_creds cr = {0};
    int64_t ms = 0;
    int r = AK_OK;

    res = ak_json_get(ak_json_get(root, "AssumeRoleWithWebIdentityResponse"),
                      "AssumeRoleWithWebIdentityResult");
    if (!res)
        res = ak_json_get(root, "AssumeRoleWithWebIdentityResult");
    if (!res)
        res = root;
    c = ak_json_get(res, "Credentials");
    exp = ak_json_get(c, "Expiration");
    if (ak_json_is_num(exp))
        ms = (int64_t)(ak_json_num(exp) * 1000.0);
    else if (!ak_json_str(exp) || ak_time_parse(ak_json_str(exp), &ms) < 0)
        ms = 0;
    cr.access_key_id = json_dup(c, "AccessKeyId");
    cr.secret_access_key = json_dup(c, "SecretAccessKey");
    cr.session_token = json_dup(c, "SessionToken");
    cr.expires_ms = ms;
    if (!root || !cr.access_key_id || !cr.secret_access_key || !cr.session_token || ms <= 0) {
        r = ak_err(why, AK_EINVAL, "the STS answer (JSON) lacks %s",
                   !root                   ? "a parsable document"
                   : !c                    ? "Credentials"
                   : !cr.access_key_id     ? "Credentials.AccessKeyId"
                   : !cr.secret_access_key ? "Credentials.SecretAccessKey"
                   : !cr.session_token     ? "Credentials.SessionToken"
                                           : "a valid Credentials.Expiration");
        ak_aws_creds_release(&cr);
        goto out;
    }
    *ret = cr;
    *ret_arn = json_dup(ak_json_get(res, "AssumedRoleUser"), "Arn");
out:
    ak_json_free(root);
    return r;
}

static int parse_success(const struct ak_buf *body, struct ak_aws_creds *ret, char **ret_arn,
                         struct ak_buf *why)
{
    struct ak_buf perr = AK_BUF_INIT(512);
    int r;

    if (looks_json(body))
        return parse_json_creds(body, ret, ret_arn, why);
    r = ak_aws_sts_parse_creds(body->buf, body->len, ret, &perr);
    if (r < 0)
        r = ak_err(why, r, "the STS answer (XML) is not usable: %s", perr.buf);
    else if (ak_aws_xml_text(body->buf, body->len, "Arn", ret_arn, NULL) < 0)
        *ret_arn = NULL;
    ak_buf_release(&perr);
    return r;
}

/* Error documents: query-protocol XML <ErrorResponse><Error><Code/><Message/>..., or its JSON
 * rendering ({"Error": {...}, "RequestId"} possibly under "ErrorResponse"), or a JSON-protocol
 * {"__type", "message"}. */
static void parse_error(const struct ak_buf *body, struct failure *f)
{
    if (looks_json(body)) {
        struct ak_json *root = ak_json_parse(body->buf, body->len, NULL);
        const struct ak_json *er = ak_json_get(root, "ErrorResponse");
        const struct ak_json *top = er ? er : root, *e = ak_json_get(top, "Error");
        if (!e)
            e = top;
        f->code = json_dup(e, "Code");
        if (!f->code && ak_json_get_str(e, "__type")) {
            const char *t = ak_json_get_str(e, "__type"), *h = strrchr(t, '#');
            f->code = ak_xstrdup(h ? h + 1 : t);
        }
        f->message = json_dup(e, "Message");
        if (!f->message)
            f->message = json_dup(e, "message");
        f->request_id = json_dup(top, "RequestId");
        ak_json_free(root);
        return;
    }
    if (ak_aws_xml_text(body->buf, body->len, "Code", &f->code, NULL) < 0)
        f->code = NULL;
    if (ak_aws_xml_text(body->buf, body->len, "Message", &f->message, NULL) < 0)
        f->message = NULL;
    if (ak_aws_xml_text(body->buf, body->len, "RequestId", &f->request_id, NULL) < 0)
        f->request_id = NULL;
}

/* What botocore's standard mode retries (throttling, 5xx, IDPCommunicationError) plus the
 * InvalidIdentityToken that AWS answers when it could not fetch the IdP's keys (transient;
 * CircleCI-Public/aws-cli-orb#136). */
static bool retryable(const struct failure *f)
{
    static const char *const codes[] = {
        "IDPCommunicationError", "IDPCommunicationErrorException", "Throttling",
        "ThrottlingException", "ThrottledException", "RequestThrottled",
        "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
        "SlowDown", "ServiceUnavailable", "InternalFailure", "InternalError",
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"};

    if (f->status >= 500 || f->status == 429)
        return true;
    for (size_t i = 0; f->code && i < AK_ARRAY_SIZE(codes); i++)
        if (strcmp(f->code, codes[i]) == 0)
            return true;
    return ak_streq(f->code, "InvalidIdentityToken") && f->message &&
           ak_startswith(f->message, "Couldn't retrieve verification key");
}

/* One exchange. AK_OK with ret filled, or the failure described in f. */
static int exchange(const struct awscreds *o, const char *url, const char *tok,
                    struct ak_aws_creds *ret, char **ret_arn, int64_t *retry_after_ms,
                    struct failure *f)
{
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "Accept: application/json", NULL};
    char *body = form_body(o, tok);
    struct ak_httpc_req req = {.method = "POST", .url = url, .headers = headers, .body = body,
                               .body_len = strlen(body), .timeout_ms = STS_TIMEOUT_MS,
                               .max_response = AK_AWS_XML_MAX, .ca_file = o->ca_file};
    struct ak_httpc_resp resp;
    struct ak_buf why = AK_BUF_INIT(1024);
    int r;

    ak_httpc_resp_init(&resp);
    r = ak_httpc_do(&req, &resp, &why);
    if (r < 0) {
        f->message = ak_xasprintf("cannot reach STS at %s: %s", url, why.buf);
        f->retry = r == AK_EIO || r == AK_ETIMEDOUT;
        goto out;
    }
    *retry_after_ms = resp.retry_after_ms;
    if (resp.status == 200) {
        r = parse_success(&resp.body, ret, ret_arn, &why);
        if (r < 0) {
            f->status = resp.status;
            f->message = ak_buf_detach(&why, NULL);
        }
        goto out;
    }
    r = AK_ESIG;
    f->status = resp.status;
    parse_error(&resp.body, f);
    if (!f->code && !f->message)
        f->message = ak_xasprintf("STS at %s answered HTTP %ld without an AWS error document: "
                                  "%.200s", url, resp.status, resp.body.buf);
    f->retry = retryable(f);
out:
    /* the body carries the token; a success answer the secret */
    memset(body, 0, strlen(body));
    free(body);
    if (resp.body.len)
        memset(resp.body.buf, 0, resp.body.len);
    ak_httpc_resp_release(&resp);
    ak_buf_release(&why);
    return r;
}

static uint64_t rand_u64(void)
{
    uint64_t v = 0;
    if (ak_random_bytes(&v, sizeof(v)) < 0)
        v = (uint64_t)ak_now_mono_ms() * 6364136223846793005ULL + (uint64_t)getpid();
    return v;
}

/* Exponential backoff with jitter in [d/2, d], or the server's Retry-After when longer. */
static int64_t backoff_ms(unsigned attempt, int64_t retry_after_ms)
{
    int64_t d = BACKOFF_BASE_MS;
    for (unsigned i = 1; i < attempt && d < BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > BACKOFF_CAP_MS)
        d = BACKOFF_CAP_MS;
    d = d / 2 + (int64_t)(rand_u64() % (uint64_t)(d / 2 + 1));
    if (retry_after_ms > d)
        d = retry_after_ms > BACKOFF_CAP_MS * 4 ? BACKOFF_CAP_MS * 4 : retry_after_ms;
    return d;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void print_failure(const struct failure *f, const char *tok, const char *prefix)
{
    fprintf(stderr, "asakai " CMD ": %s", prefix);
    if (f->code) {
        fprintf(stderr, "An error occurred (%s) when calling the AssumeRoleWithWebIdentity "
                        "operation: ", f->code);
        put_redacted(stderr, f->message ? f->message : "", tok);
    } else {
        put_redacted(stderr, f->message ? f->message : "failed", tok);
    }
    if (f->status || f->request_id) {
        fprintf(stderr, " (");
        if (f->status)
            fprintf(stderr, "HTTP %ld", f->status);
        if (f->request_id)
            fprintf(stderr, "%srequest id %s", f->status ? ", " : "", f->request_id);
        fprintf(stderr, ")");
    }
    fputc('\n', stderr);
}

/* Runs the exchange with retries. Exit code; on success ret and *ret_arn are filled. */
static int obtain(const struct awscreds *o, struct ak_aws_creds *ret, char **ret_arn)
{
    struct failure f = {0};
    char *url = sts_endpoint(o), *tok = NULL, *prev = NULL;
    bool expired_retry = false;
    int rc = AK_EXIT_FAIL;

    for (unsigned attempt = 1;; attempt++) {
        struct ak_buf why = AK_BUF_INIT(1024);
        int64_t retry_after = 0;
        bool transient = false;
        int r;

        wipe_free(prev);
        prev = tok;
        tok = NULL;
        r = read_token(&o->src, &tok, &transient, &why);
        if (r == AK_OK && expired_retry && prev && strcmp(prev, tok) == 0) {
            /* STS's own words stay the message */
            print_failure(&f, tok, "");
            fprintf(stderr, "asakai " CMD ": the token from %s %s was not renewed\n",
                    src_label(&o->src), o->src.name);
            ak_buf_release(&why);
            break;
        }
        failure_release(&f);
        if (r < 0) {
            f.message = ak_buf_detach(&why, NULL);
            f.retry = transient;
        } else {
            r = exchange(o, url, tok, ret, ret_arn, &retry_after, &f);
            if (r == AK_OK) {
                rc = AK_EXIT_OK;
                ak_buf_release(&why);
                break;
            }
            /* an expired token helps only if the source can hand out a fresh one */
            expired_retry = ak_streq(f.code, "ExpiredTokenException") &&
                            o->src.kind != SRC_ENV;
            if (expired_retry)
                f.retry = true;
        }
        ak_buf_release(&why);
        if (!f.retry || attempt >= o->max_attempts) {
            print_failure(&f, tok ? tok : prev, "");
            if (f.retry)
                fprintf(stderr, "asakai " CMD ": gave up after %u attempts\n", attempt);
            break;
        }
        int64_t d = backoff_ms(attempt, retry_after);
        char head[96];
        snprintf(head, sizeof(head), "attempt %u/%u failed, retrying in %.1f s: ", attempt,
                 o->max_attempts, (double)d / 1000.0);
        print_failure(&f, tok ? tok : prev, head);
        sleep_ms(d);
    }
    failure_release(&f);
    wipe_free(tok);
    wipe_free(prev);
    free(url);
    return rc;
}

/* ---- output ----------------------------------------------------------------------------- */

/* 'it'\''s': safe to eval in any POSIX shell. */
static void put_shell_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

struct kv {
    const char *k, *v;
};

static size_t cred_vars(const struct awscreds *o, const struct ak_aws_creds *c, char *exp,
                        struct kv *v)
{
    size_t n = 0;
    v[n++] = (struct kv){"AWS_ACCESS_KEY_ID", c->access_key_id};
    v[n++] = (struct kv){"AWS_SECRET_ACCESS_KEY", c->secret_access_key};
    v[n++] = (struct kv){"AWS_SESSION_TOKEN", c->session_token};
    v[n++] = (struct kv){"AWS_CREDENTIAL_EXPIRATION", exp};
    if (o->region) {
        v[n++] = (struct kv){"AWS_REGION", o->region};
        v[n++] = (struct kv){"AWS_DEFAULT_REGION", o->region};
    }
    return n;
}

static int out_env(const struct awscreds *o, const struct ak_aws_creds *c, char *exp)
{
    struct kv v[6];
    size_t n = cred_vars(o, c, exp, v);

    for (size_t i = 0; i < n; i++) {
        printf("export %s=", v[i].k);
        put_shell_quoted(stdout, v[i].v);
        putchar('\n');
    }
    return AK_EXIT_OK;
}

static int out_json(const struct ak_aws_creds *c, const char *exp, bool process)
{
    struct ak_json *j = ak_json_new_obj();
    char *s;

    if (process)
        ak_json_set_int(j, "Version", 1);
    ak_json_set_str(j, "AccessKeyId", c->access_key_id);
    ak_json_set_str(j, "SecretAccessKey", c->secret_access_key);
    ak_json_set_str(j, "SessionToken", c->session_token);
    ak_json_set_str(j, "Expiration", exp);
    s = ak_json_dump(j, process ? AK_JSON_COMPACT : AK_JSON_PRETTY);
    printf("%s\n", s);
    wipe_free(s);
    ak_json_free(j);
    return AK_EXIT_OK;
}

/* $GITHUB_ENV takes NAME=value lines, or NAME<<DELIM ... DELIM for values with a newline. The
 * values are masked first so that no later step can print them in the log. */
static int out_github(const struct awscreds *o, const struct ak_aws_creds *c, char *exp)
{
    const char *path = env_nonempty("GITHUB_ENV");
    struct kv v[6];
    size_t n = cred_vars(o, c, exp, v);
    FILE *f;
    int rc = AK_EXIT_OK;

    if (!path) {
        fprintf(stderr, "asakai " CMD ": -o github-env needs $GITHUB_ENV (set by GitHub "
                        "Actions in every step)\n");
        return AK_EXIT_USAGE;
    }
    printf("::add-mask::%s\n::add-mask::%s\n::add-mask::%s\n", c->access_key_id,
           c->secret_access_key, c->session_token);
    fflush(stdout);
    f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "asakai " CMD ": cannot append to $GITHUB_ENV %s: %s\n", path,
                strerror(errno));
        return AK_EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strpbrk(v[i].v, "\r\n")) {
            fprintf(f, "%s=%s\n", v[i].k, v[i].v);
        } else {
            char delim[40] = "ghadelimiter_";
            if (ak_random_hex(12, delim + 13) < 0)
                snprintf(delim + 13, sizeof(delim) - 13, "%llx", (unsigned long long)rand_u64());
            fprintf(f, "%s<<%s\n%s\n%s\n", v[i].k, delim, v[i].v, delim);
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "asakai " CMD ": error writing $GITHUB_ENV %s: %s\n", path,
                strerror(errno));
        rc = AK_EXIT_FAIL;
    }
    return rc;
}

/* ---- command ---------------------------------------------------------------------------- */

static int parse_fmt(const char *s, enum fmt *ret)
{
    static const struct {
        const char *name;
        enum fmt f;
    } fmts[] = {{"env", FMT_ENV}, {"json", FMT_JSON}, {"credential-process", FMT_PROCESS},
                {"github-env", FMT_GITHUB}};
    for (size_t i = 0; i < AK_ARRAY_SIZE(fmts); i++) {
        if (strcmp(s, fmts[i].name) == 0) {
            *ret = fmts[i].f;
            return AK_EXIT_OK;
        }
    }
    return ak_cli_usage(CMD, "-o takes env, json, credential-process or github-env");
}

static int parse_duration(const char *s, int64_t *ret)
{
    int64_t ms;
    if (ak_parse_duration_ms(s, &ms) < 0 || ms % 1000 || ms < 900000 || ms > 43200000)
        return ak_cli_usage(CMD, "--duration takes 900..43200 seconds (or 15m..12h)");
    *ret = ms / 1000;
    return AK_EXIT_OK;
}

static int parse_args(int argc, char **argv, struct awscreds *o, const char **flag_env,
                      const char **flag_file, const char **audience)
{
    static const struct option opts[] = {
        {"role-arn", required_argument, NULL, 'r'},   {"token-env", required_argument, NULL, 'E'},
        {"token-file", required_argument, NULL, 'F'}, {"session-name", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},   {"region", required_argument, NULL, 'R'},
        {"endpoint", required_argument, NULL, 'e'},   {"audience", required_argument, NULL, 'a'},
        {"output", required_argument, NULL, 'o'},     {"max-attempts", required_argument, NULL, 'm'},
        {"ca-file", required_argument, NULL, 'C'},    {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0}};
    uint64_t u;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->role_arn = optarg; break;
        case 'E': *flag_env = optarg; break;
        case 'F': *flag_file = optarg; break;
        case 'n': o->session_name = optarg; break;
        case 'R': o->region = optarg; break;
        case 'e': o->endpoint = optarg; break;
        case 'a': *audience = optarg; break;
        case 'C': o->ca_file = optarg; break;
        case 'q': o->quiet = true; break;
        case 'o':
            if (parse_fmt(optarg, &o->fmt))
                return AK_EXIT_USAGE;
            break;
        case 'd':
            if (parse_duration(optarg, &o->duration_s))
                return AK_EXIT_USAGE;
            break;
        case 'm':
            if (ak_parse_u64(optarg, 1, 20, &u) < 0)
                return ak_cli_usage(CMD, "--max-attempts takes 1..20");
            o->max_attempts = (unsigned)u;
            break;
        default: return ak_cli_usage(CMD, "bad option");
        }
    }
    if (optind != argc)
        return ak_cli_usage(CMD, "unexpected argument");
    if (*flag_env && *flag_file)
        return ak_cli_usage(CMD, "--token-env and --token-file exclude each other");
    if (!o->role_arn)
        o->role_arn = env_nonempty("AWS_ROLE_ARN");
    if (!o->role_arn)
        return ak_cli_usage(CMD, "--role-arn is required (or $AWS_ROLE_ARN)");
    if (strlen(o->role_arn) < 20 || strlen(o->role_arn) > 2048)
        return ak_cli_usage(CMD, "--role-arn must be a role ARN (20..2048 characters)");
    return AK_EXIT_OK;
}

int ak_cmd_aws_creds(int argc, char **argv, struct ak_cli *cli)
{
    struct awscreds o = {.duration_s = 3600, .max_attempts = DEFAULT_ATTEMPTS, .fmt = FMT_ENV};
    const char *flag_env = NULL, *flag_file = NULL, *audience = DEFAULT_AUDIENCE;
    struct ak_aws_creds creds = {0};
    char *session = NULL, *arn = NULL, exp[AK_TIME_RFC3339_LEN];
    int rc;
    (void)cli;

    rc = parse_args(argc, argv, &o, &flag_env, &flag_file, &audience);
    if (rc != AK_EXIT_OK)
        return rc;
    rc = pick_source(flag_env, flag_file, &o.src);
    if (rc != AK_EXIT_OK)
        return rc;
    o.src.audience = audience;
    o.src.ca_file = o.ca_file;
    session = o.session_name ? sanitize_session(o.session_name) : default_session();
    if (o.session_name && strcmp(session, o.session_name) != 0)
        fprintf(stderr, "asakai " CMD ": note: session name sanitized to %s\n", session);
    o.session_name = session;
    /* botocore refreshes credentials with less than 15 minutes left: short ones would make an
     * SDK re-run us on nearly every call */
    if (o.fmt == FMT_PROCESS && o.duration_s < 1800)
        fprintf(stderr, "asakai " CMD ": warning: --duration %llds with credential-process: "
                        "SDKs refresh 15 minutes before expiry; use 1800 or more\n",
                (long long)o.duration_s);
    rc = obtain(&o, &creds, &arn);
    if (rc != AK_EXIT_OK)
        goto out;
    ak_time_fmt_rfc3339(creds.expires_ms, exp, sizeof(exp));
    switch (o.fmt) {
    case FMT_ENV: rc = out_env(&o, &creds, exp); break;
    case FMT_JSON: rc = out_json(&creds, exp, false); break;
    case FMT_PROCESS: rc = out_json(&creds, exp, true); break;
    case FMT_GITHUB: rc = out_github(&o, &creds, exp); break;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "asakai " CMD ": cannot write the credentials to stdout\n");
        rc = AK_EXIT_FAIL;
    }
    if (rc == AK_EXIT_OK && !o.quiet && o.fmt != FMT_PROCESS)
        fprintf(stderr, "asakai " CMD ": %s%s as session %s (token from %s %s), expires %s\n",
                arn ? "assumed " : "credentials for ", arn ? arn : o.role_arn, session,
                src_label(&o.src), o.src.name, exp);
out:
    ak_aws_creds_release(&creds);
    free(arn);
    free(session);
    return rc;
}
