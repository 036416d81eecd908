/* creds.c — the credential chain: environment, shared files with profiles, web identity. */
#include "asakai/ak_aws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"

#define MAX_TOKEN (64 * 1024)

static void wipe_free(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

void ak_aws_creds_release(struct ak_aws_creds *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    memset(c, 0, sizeof(*c));
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int ak_aws_creds_from_env(struct ak_aws_creds *ret, struct ak_buf *err)
{
    const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *token = env("AWS_SESSION_TOKEN");

    if (!id && !secret)
        return ak_err(err, AK_ENOTFOUND, "environment: AWS_ACCESS_KEY_ID is not set.");
    if (!id || !secret)
        return ak_err(err, AK_ECONFIG, "environment: %s is set but %s is not.",
                      id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                      id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    *ret = (struct ak_aws_creds){.access_key_id = ak_xstrdup(id),
                                 .secret_access_key = ak_xstrdup(secret),
                                 .session_token = ak_xstrdup(token), .source = "env"};
    return AK_OK;
}

/* Reads a whole file of at most max bytes. AK_ENOTFOUND when it does not exist. */
static int read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct ak_buf *err)
{
    FILE *f = NULL;
    struct ak_buf b = AK_BUF_INIT(max);
    char chunk[4096];
    size_t n;
    int r = AK_OK;

    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return AK_ENOTFOUND;
        return ak_err(err, AK_ECONFIG, "%s cannot be opened: %s.", path, strerror(errno));
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (ak_buf_addn(&b, chunk, n) < 0) {
            r = ak_err(err, AK_ECONFIG, "%s is larger than %zu bytes.", path, max);
            goto out;
        }
    }
    if (ferror(f)) {
        r = ak_err(err, AK_ECONFIG, "%s cannot be read.", path);
        goto out;
    }
    *ret = ak_buf_detach(&b, ret_len);
out:
    memset(chunk, 0, sizeof(chunk));
    fclose(f);
    ak_buf_release(&b);
    return r;
}

struct profile_scan {
    const char *want; /* the section name to match */
    bool found;       /* the section exists */
    char *id, *secret, *token;
};

static int profile_cb(void *ud, const char *section, const char *key, const char *value)
{
    struct profile_scan *ps = ud;
    char **slot = NULL;

    if (strcmp(section, ps->want) != 0)
        return 0;
    ps->found = true;
    if (strcmp(key, "aws_access_key_id") == 0)
        slot = &ps->id;
    else if (strcmp(key, "aws_secret_access_key") == 0)
        slot = &ps->secret;
    else if (strcmp(key, "aws_session_token") == 0)
        slot = &ps->token;
    if (slot) {
        wipe_free(*slot); /* a repeated key: the last one wins, as in botocore */
        *slot = ak_xstrdup(value);
    }
    return 0;
}

static void scan_release(struct profile_scan *ps)
{
    free(ps->id);
    wipe_free(ps->secret);
    wipe_free(ps->token);
    ps->id = ps->secret = ps->token = NULL;
}

static char *default_path(const char *var, const char *rel)
{
    const char *v = env(var), *home = env("HOME");
    if (v)
        return ak_xstrdup(v);
    return home ? ak_xasprintf("%s/.aws/%s", home, rel) : NULL;
}

/* Scans one file for the section. AK_OK with ps filled (maybe empty), or AK_ECONFIG. */
static int scan_file(const char *what, const char *path, struct profile_scan *ps,
                     struct ak_buf *err)
{
    struct ak_buf perr = AK_BUF_INIT(512);
    char *text = NULL;
    size_t len = 0;
    int r;

    if (!path)
        return AK_OK;
    r = read_file(path, AK_AWS_INI_MAX, &text, &len, err);
    if (r == AK_ENOTFOUND)
        return AK_OK;
    if (r < 0)
        return r;
    r = ak_aws_ini_parse(text, len, profile_cb, ps, &perr);
    if (r < 0)
        r = ak_err(err, AK_ECONFIG, "%s %s: %s", what, path, perr.buf);
    wipe_free(text);
    ak_buf_release(&perr);
    return r;
}

/* AK_OK with ret filled, AK_ENOTFOUND (no keys), AK_ECONFIG (half a key pair). */
static int take_keys(const char *what, const char *path, const char *profile,
                     struct profile_scan *ps, struct ak_aws_creds *ret, struct ak_buf *err)
{
    if (!ps->id && !ps->secret)
        return AK_ENOTFOUND;
    if (!ps->id || !ps->secret)
        return ak_err(err, AK_ECONFIG, "%s %s: profile %s has %s but not %s.", what, path,
                      profile, ps->id ? "aws_access_key_id" : "aws_secret_access_key",
                      ps->id ? "aws_secret_access_key" : "aws_access_key_id");
    *ret = (struct ak_aws_creds){.access_key_id = ps->id, .secret_access_key = ps->secret,
                                 .session_token = ps->token, .source = "profile"};
    ps->id = ps->secret = ps->token = NULL;
    return AK_OK;
}

int ak_aws_creds_from_profile(const char *profile, struct ak_aws_creds *ret, struct ak_buf *err)
{
    char *cred_path = default_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    char *conf_path = default_path("AWS_CONFIG_FILE", "config");
    char *conf_section = NULL;
    struct profile_scan a = {0}, b = {0};
    bool named = profile || env("AWS_PROFILE");
    int r;

    if (!profile)
        profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
    a.want = profile;
    r = scan_file("shared credentials file", cred_path, &a, err);
    if (r < 0)
        goto out;
    r = take_keys("shared credentials file", cred_path, profile, &a, ret, err);
    if (r != AK_ENOTFOUND)
        goto out;
    /* the config file names profiles "[profile x]", except the default one */
    conf_section = strcmp(profile, "default") == 0 ? ak_xstrdup("default")
                                                   : ak_xasprintf("profile %s", profile);
    b.want = conf_section;
    r = scan_file("config file", conf_path, &b, err);
    if (r < 0)
        goto out;
    r = take_keys("config file", conf_path, profile, &b, ret, err);
    if (r != AK_ENOTFOUND)
        goto out;
    if (named && !a.found && !b.found)
        r = ak_err(err, AK_ECONFIG, "profile: profile %s is in neither %s nor %s.", profile,
                   cred_path ? cred_path : "(no credentials file)",
                   conf_path ? conf_path : "(no config file)");
    else
        r = ak_err(err, AK_ENOTFOUND, "profile: profile %s has no keys in the shared files.",
                   profile);
out:
    scan_release(&a);
    scan_release(&b);
    free(conf_section);
    free(cred_path);
    free(conf_path);
    return r;
}

static char *sts_endpoint(const struct ak_aws_chain_opts *o)
{
    const char *region = o->region ? o->region : env("AWS_REGION");

    if (o->sts_endpoint)
        return ak_xstrdup(o->sts_endpoint);
    if (env("AWS_ENDPOINT_URL_STS"))
        return ak_xstrdup(env("AWS_ENDPOINT_URL_STS"));
    if (!region)
        region = env("AWS_DEFAULT_REGION");
    if (region)
        return ak_xasprintf("https://sts.%s.amazonaws.com/", region);
    return ak_xstrdup("https://sts.amazonaws.com/");
}

static char *read_token(const char *path, struct ak_buf *err, int *r)
{
    char *tok = NULL;
    size_t len = 0;

    *r = read_file(path, MAX_TOKEN, &tok, &len, err);
    if (*r == AK_ENOTFOUND)
        *r = ak_err(err, AK_ECONFIG, "web identity: token file %s does not exist.", path);
    if (*r < 0)
        return NULL;
    while (len && strchr(" \t\r\n", tok[len - 1]))
        tok[--len] = 0;
    if (len == 0 || memchr(tok, 0, len)) {
        *r = ak_err(err, AK_ECONFIG, "web identity: token file %s is empty or binary.", path);
        wipe_free(tok);
        return NULL;
    }
    return tok;
}

static int sts_error(const struct ak_httpc_resp *resp, struct ak_buf *err)
{
    char *code = NULL, *msg = NULL;
    int r;

    (void)ak_aws_xml_text(resp->body.buf, resp->body.len, "Code", &code, NULL);
    (void)ak_aws_xml_text(resp->body.buf, resp->body.len, "Message", &msg, NULL);
    r = ak_err(err, resp->status >= 500 ? AK_EIO : AK_ESIG,
               "web identity: STS answered HTTP %ld%s%s%s%.200s.", resp->status,
               code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
    free(code);
    free(msg);
    return r;
}

int ak_aws_creds_from_web_identity(const struct ak_aws_chain_opts *opts,
                                   struct ak_aws_creds *ret, struct ak_buf *err)
{
    static const struct ak_aws_chain_opts none = {0};
    const char *tfile = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *arn = env("AWS_ROLE_ARN");
    const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                                   "Accept: text/xml", NULL};
    struct ak_httpc_resp resp;
    struct ak_buf body = AK_BUF_INIT(AK_BUF_NOMAX), herr = AK_BUF_INIT(512);
    struct ak_buf perr = AK_BUF_INIT(512);
    char *tok = NULL, *url = NULL, *e_arn = NULL, *e_name = NULL, *e_tok = NULL, *name = NULL;
    int r;

    ak_httpc_resp_init(&resp);
    if (!opts)
        opts = &none;
    if (!tfile && !arn) {
        r = ak_err(err, AK_ENOTFOUND, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set.");
        goto out;
    }
    if (!tfile || !arn) {
        r = ak_err(err, AK_ECONFIG, "web identity: %s is set but %s is not.",
                   tfile ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
                   tfile ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
        goto out;
    }
    tok = read_token(tfile, err, &r);
    if (!tok)
        goto out;
    name = env("AWS_ROLE_SESSION_NAME")
               ? ak_xstrdup(env("AWS_ROLE_SESSION_NAME"))
               : ak_xasprintf("asakai-%lld",
                              (long long)(opts->now_ms ? opts->now_ms : ak_now_wall_ms()));
    e_arn = ak_url_escape(arn);
    e_name = ak_url_escape(name);
    e_tok = ak_url_escape(tok);
    ak_buf_addf(&body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s"
                       "&RoleSessionName=%s&WebIdentityToken=%s", e_arn, e_name, e_tok);
    url = sts_endpoint(opts);
    struct ak_httpc_req req = {.method = "POST", .url = url, .headers = headers,
                               .body = body.buf, .body_len = body.len,
                               .timeout_ms = opts->timeout_ms, .max_response = AK_AWS_XML_MAX,
                               .ca_file = opts->ca_file};
    r = ak_httpc_do(&req, &resp, &herr);
    if (r < 0) {
        r = ak_err(err, r, "web identity: STS %s: %s", url, herr.buf);
        goto out;
    }
    if (resp.status != 200) {
        r = sts_error(&resp, err);
        goto out;
    }
    r = ak_aws_sts_parse_creds(resp.body.buf, resp.body.len, ret, &perr);
    if (r < 0) {
        r = ak_err(err, r, "web identity: %s", perr.buf);
        goto out;
    }
    ret->source = "web-identity";
out:
    ak_httpc_resp_release(&resp);
    /* the body and its escaped copy carry the token */
    memset(body.buf, 0, body.len);
    ak_buf_release(&body);
    ak_buf_release(&herr);
    ak_buf_release(&perr);
    wipe_free(tok);
    wipe_free(e_tok);
    free(e_arn);
    free(e_name);
    free(name);
    free(url);
    return r;
}

int ak_aws_creds_resolve(const struct ak_aws_chain_opts *opts, struct ak_aws_creds *ret,
                         struct ak_buf *err)
{
    struct ak_buf e = AK_BUF_INIT(1024);
    int r;

    r = ak_aws_creds_from_env(ret, &e);
    if (r == AK_ENOTFOUND) {
        ak_buf_reset(&e);
        r = ak_aws_creds_from_profile(opts ? opts->profile : NULL, ret, &e);
    }
    if (r == AK_ENOTFOUND) {
        ak_buf_reset(&e);
        r = ak_aws_creds_from_web_identity(opts, ret, &e);
    }
    if (r == AK_ENOTFOUND)
        r = ak_err(err, AK_ENOTFOUND, "No AWS credentials: none in the environment, the shared "
                                      "files (profile) or a web identity token.");
    else if (r < 0)
        r = ak_err(err, r, "%s", e.buf);
    ak_buf_release(&e);
    return r;
}
