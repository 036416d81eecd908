/* test_aws.c — SigV4 against the AWS test suite, the INI and STS XML parsers, the credential
 * chain (env, shared files, web identity against a canned STS on 127.0.0.1). */
#include "asakai/ak_aws.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "ak_test.h"

#define SUITE_NOW_MS 1440938160000LL /* 20150830T123600Z */

static const char *const cases[] = {
    "get-vanilla", "get-vanilla-query-order-key-case", "get-vanilla-query-order-key",
    "get-vanilla-query-order-value", "get-vanilla-query-unreserved", "get-vanilla-utf8-query",
    "get-unreserved", "get-utf8", "get-space-normalized", "get-header-value-trim",
    "get-header-key-duplicate", "get-header-value-order", "post-vanilla", "post-vanilla-query",
    "post-header-value-case", "post-x-www-form-urlencoded",
    "post-x-www-form-urlencoded-parameters", "post-sts-header-before",
    "get-vanilla-with-session-token",
};

static char *fixture(const char *name, const char *ext)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/data/aws/sigv4/%s/%s.%s", name, name, ext);
    return ak_test_read_file(path, NULL);
}

/* Signs the .req of a suite case; Host, X-Amz-Date and X-Amz-Security-Token come from the URL,
 * the time and the credentials. Returns 0 when everything matched. */
static int run_case(const char *name, char *why, size_t whylen)
{
    char *req = fixture(name, "req"), *creq = fixture(name, "creq"), *sts = fixture(name, "sts");
    char *authz = fixture(name, "authz"), *tok = NULL;
    char path[256], url[512], method[8], target[300], host[128] = "";
    const char *hdrs[16];
    size_t nh = 0;
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX), c = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf s = AK_BUF_INIT(AK_BUF_NOMAX), err = AK_BUF_INIT(AK_BUF_NOMAX);
    int bad = 1;

    snprintf(path, sizeof(path), "tests/data/aws/sigv4/%s/session-token", name);
    tok = ak_test_read_file(path, NULL);
    if (!req || !creq || !sts || !authz) {
        snprintf(why, whylen, "fixture missing");
        goto out;
    }
    char *body = strstr(req, "\n\n");
    if (body) {
        *body = 0;
        body += 2;
    }
    char *line = strchr(req, '\n');
    *line++ = 0;
    /* "GET /path?q HTTP/1.1": the target may contain a space (get-space-normalized) */
    char *sp1 = strchr(req, ' '), *sp2 = strrchr(req, ' ');
    snprintf(method, sizeof(method), "%.*s", (int)(sp1 - req), req);
    snprintf(target, sizeof(target), "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (strncasecmp(line, "Host:", 5) == 0)
            snprintf(host, sizeof(host), "%s", line + 5);
        else if (strncasecmp(line, "X-Amz-Date:", 11) == 0) {
        } else if (strncasecmp(line, "X-Amz-Security-Token:", 21) == 0) {
            free(tok);
            tok = ak_xstrdup(line + 21);
        } else
            hdrs[nh++] = line;
        line = next;
    }
    hdrs[nh] = NULL;
    snprintf(url, sizeof(url), "https://%s%s", host, target);
    struct ak_aws_creds cr = {.access_key_id = (char *)"AKIDEXAMPLE",
                              .secret_access_key = (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              .session_token = tok};
    struct ak_aws_request rq = {.method = method, .url = url, .headers = hdrs, .body = body,
                                .body_len = body ? strlen(body) : 0, .region = "us-east-1",
                                .service = "service", .now_ms = SUITE_NOW_MS};
    if (ak_aws_sign_detail(&rq, &cr, &out, &c, &s, &err) != 0) {
        snprintf(why, whylen, "sign failed: %s", err.buf);
        goto out;
    }
    if (strcmp(c.buf, creq) != 0) {
        snprintf(why, whylen, "creq differs:\n%s\n--- expected\n%s", c.buf, creq);
        goto out;
    }
    if (strcmp(s.buf, sts) != 0) {
        snprintf(why, whylen, "sts differs:\n%s", s.buf);
        goto out;
    }
    char want[1024];
    snprintf(want, sizeof(want), "Authorization: %s\n", authz);
    if (!strstr(out.buf, want) || !strstr(out.buf, "X-Amz-Date: 20150830T123600Z\n")) {
        snprintf(why, whylen, "headers differ: %s", out.buf);
        goto out;
    }
    if (tok && !strstr(out.buf, "X-Amz-Security-Token: ")) {
        snprintf(why, whylen, "no token header");
        goto out;
    }
    bad = 0;
out:
    free(req);
    free(creq);
    free(sts);
    free(authz);
    free(tok);
    ak_buf_release(&out);
    ak_buf_release(&c);
    ak_buf_release(&s);
    ak_buf_release(&err);
    return bad;
}

AK_TEST(sigv4_suite)
{
    char why[2048];
    for (size_t i = 0; i < AK_ARRAY_SIZE(cases); i++) {
        why[0] = 0;
        if (run_case(cases[i], why, sizeof(why)) != 0)
            AK_FAIL_("case %s: %s", cases[i], why);
    }
}

AK_TEST(hmac_raw_rfc4231)
{
    unsigned char out[32];
    char hex[65];
    ak_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    AK_ASSERT_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static int sign_one(const char *url, const char *const *hdrs, const char *service,
                    struct ak_buf *creq, struct ak_buf *err)
{
    struct ak_aws_creds cr = {.access_key_id = (char *)"AKID", .secret_access_key = (char *)"s"};
    struct ak_aws_request rq = {.method = "GET", .url = url, .headers = hdrs,
                                .region = "us-east-1", .service = service,
                                .now_ms = SUITE_NOW_MS};
    struct ak_buf h = AK_BUF_INIT(AK_BUF_NOMAX);
    int r = ak_aws_sign_detail(&rq, &cr, &h, creq, NULL, err);
    if (r < 0 && h.len != 0)
        r = 99; /* headers must be untouched on failure */
    ak_buf_release(&h);
    return r;
}

AK_TEST(sigv4_canonical_details)
{
    struct ak_buf c = AK_BUF_INIT(AK_BUF_NOMAX), e = AK_BUF_INIT(AK_BUF_NOMAX);
    /* path normalisation, double encoding of an encoded path, '+' as space, valueless param */
    AK_ASSERT_OK(sign_one("http://h:8080/a/./b/../c//d%20e/?b=2&a=x+y&flag", NULL, "ec2", &c, &e));
    AK_ASSERT_CONTAINS(c.buf, "GET\n/a/c/d%2520e/\na=x%20y&b=2&flag=\nhost:h:8080\n");
    ak_buf_reset(&c);
    AK_ASSERT_OK(sign_one("https://h/..", NULL, "ec2", &c, &e));
    AK_ASSERT(ak_startswith(c.buf, "GET\n/\n\n"));
    /* negative cases */
    const char *host_hdr[] = {"Host: x", NULL}, *bad_hdr[] = {"no colon", NULL};
    const char *crlf[] = {"X-A: a\r\nInjected: 1", NULL};
    AK_ASSERT_EQ_INT(sign_one("https://h/", host_hdr, "ec2", &c, &e), AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "Host");
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(sign_one("https://h/", bad_hdr, "ec2", &c, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(sign_one("https://h/", crlf, "ec2", &c, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(sign_one("https://h/?a=%zz", NULL, "ec2", &c, &e), AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "percent-encoding");
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(sign_one("https://h/?a=%4", NULL, "ec2", &c, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(sign_one("ftp://h/", NULL, "ec2", &c, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(sign_one("https://h/", NULL, "s3", &c, &e), AK_EUNSUPPORTED);
    ak_buf_release(&c);
    ak_buf_release(&e);
}

struct kv_log {
    struct ak_buf b;
};

static int log_cb(void *ud, const char *section, const char *key, const char *value)
{
    struct kv_log *l = ud;
    ak_buf_addf(&l->b, "[%s]%s=%s|", section, key, value);
    return 0;
}

static int ini(const char *text, struct kv_log *l, struct ak_buf *err)
{
    ak_buf_reset(&l->b);
    return ak_aws_ini_parse(text, strlen(text), log_cb, l, err);
}

AK_TEST(ini_parser)
{
    struct kv_log l = {AK_BUF_INIT(AK_BUF_NOMAX)};
    struct ak_buf e = AK_BUF_INIT(AK_BUF_NOMAX);
    AK_ASSERT_OK(ini("# c\n; c\n[default]  # trailing\r\n  AWS_Access_Key_ID =  AK  \r\n"
                     "\n[profile x]\ns3 =\n  max = 1\n  y = 2\nk=v # not a comment\n",
                     &l, &e));
    AK_ASSERT_STR(l.b.buf, "[default]aws_access_key_id=AK|[profile x]s3=|"
                           "[profile x]k=v # not a comment|");
    AK_ASSERT_EQ_INT(ini("k = v\n", &l, &e), AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "line 1");
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(ini("[a]\n\n[b\n", &l, &e), AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "line 3");
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(ini("[a]\njunk\n", &l, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(ini("[a]\n = v\n", &l, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(ini("[a] x\n", &l, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(ini("[ ]\n", &l, &e), AK_EINVAL);
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(ak_aws_ini_parse("[a]\0", 4, log_cb, &l, &e), AK_EINVAL);
    ak_buf_release(&l.b);
    ak_buf_release(&e);
}

#define STS_OK                                                                                     \
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"  \
    "  <AssumeRoleWithWebIdentityResult>\n"                                                        \
    "    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>\n" \
    "    <Credentials>\n"                                                                          \
    "      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE&amp;x</SessionToken>\n"     \
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"          \
    "      <Expiration>2014-10-24T23:00:23Z</Expiration>\n"                                        \
    "      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>\n"                                     \
    "    </Credentials>\n"                                                                         \
    "  </AssumeRoleWithWebIdentityResult>\n"                                                       \
    "</AssumeRoleWithWebIdentityResponse>\n"

AK_TEST(xml_extract)
{
    struct ak_buf e = AK_BUF_INIT(AK_BUF_NOMAX);
    char *v = NULL;
    const char *x = "<a><Codex>no</Codex><Code k=\"1\">&lt;&amp;&gt;&quot;&apos;</Code></a>";
    AK_ASSERT_OK(ak_aws_xml_text(x, strlen(x), "Code", &v, &e));
    AK_ASSERT_STR(v, "<&>\"'");
    ak_freep(&v);
    AK_ASSERT_OK(ak_aws_xml_text("<E/>", 4, "E", &v, &e));
    AK_ASSERT_STR(v, "");
    ak_freep(&v);
    AK_ASSERT_EQ_INT(ak_aws_xml_text(x, strlen(x), "Message", &v, &e), AK_ENOTFOUND);
    AK_ASSERT_EQ_INT(ak_aws_xml_text("<C>a&nbsp;</C>", 14, "C", &v, &e), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_aws_xml_text("<C>a&amp", 8, "C", &v, &e), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_aws_xml_text("<C>a<b/></C>", 12, "C", &v, &e), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_aws_xml_text("<C>abc", 6, "C", &v, &e), AK_EINVAL);
    AK_ASSERT_NULL(v);
    size_t big = AK_AWS_XML_MAX + 1;
    char *huge = ak_xmalloc(big);
    memset(huge, 'a', big);
    AK_ASSERT_EQ_INT(ak_aws_xml_text(huge, big, "C", &v, &e), AK_ETOOBIG);
    struct ak_aws_creds c = {0};
    AK_ASSERT_EQ_INT(ak_aws_sts_parse_creds(huge, big, &c, &e), AK_ETOOBIG);
    free(huge);

    ak_buf_reset(&e);
    AK_ASSERT_OK(ak_aws_sts_parse_creds(STS_OK, strlen(STS_OK), &c, &e));
    AK_ASSERT_STR(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
    AK_ASSERT_STR(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
    AK_ASSERT_STR(c.session_token, "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE&x");
    AK_ASSERT_EQ_INT(c.expires_ms, 1414191623000LL);
    ak_aws_creds_release(&c);
    AK_ASSERT_NULL(c.access_key_id);
    const char *miss = "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
                       "</SecretAccessKey><Expiration>2014-10-24T23:00:23Z</Expiration>"
                       "</Credentials>";
    AK_ASSERT_EQ_INT(ak_aws_sts_parse_creds(miss, strlen(miss), &c, &e), AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "SessionToken");
    AK_ASSERT_NULL(c.access_key_id);
    ak_buf_release(&e);
}

static void clear_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
        "AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < AK_ARRAY_SIZE(vars); i++)
        unsetenv(vars[i]);
    setenv("HOME", AK_TMPDIR(), 1); /* never the real ~/.aws */
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

AK_TEST(chain_env_and_profiles)
{
    struct ak_aws_creds c = {0};
    struct ak_buf e = AK_BUF_INIT(AK_BUF_NOMAX);
    char cred[512], conf[512];

    clear_env();
    AK_ASSERT_EQ_INT(ak_aws_creds_resolve(NULL, &c, &e), AK_ENOTFOUND);
    ak_buf_reset(&e);
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    AK_ASSERT_EQ_INT(ak_aws_creds_resolve(NULL, &c, &e), AK_ECONFIG);
    AK_ASSERT_CONTAINS(e.buf, "AWS_SECRET_ACCESS_KEY");
    ak_buf_reset(&e);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtok", 1);
    AK_ASSERT_OK(ak_aws_creds_resolve(NULL, &c, &e));
    AK_ASSERT_STR(c.source, "env");
    AK_ASSERT_STR(c.session_token, "envtok");
    ak_aws_creds_release(&c);
    clear_env();

    snprintf(cred, sizeof(cred), "%s/credentials", AK_TMPDIR());
    snprintf(conf, sizeof(conf), "%s/config", AK_TMPDIR());
    write_file(cred, "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sdef\n"
                     "[half]\naws_access_key_id = AKHALF\n");
    write_file(conf, "[default]\nregion = us-east-1\n[profile dev]\n"
                     "aws_access_key_id=AKDEV\naws_secret_access_key=sdev\n"
                     "aws_session_token=tdev\n[dev]\naws_access_key_id=WRONG\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_CONFIG_FILE", conf, 1);
    AK_ASSERT_OK(ak_aws_creds_resolve(NULL, &c, &e));
    AK_ASSERT_STR(c.source, "profile");
    AK_ASSERT_STR(c.access_key_id, "AKDEF");
    AK_ASSERT_NULL(c.session_token);
    ak_aws_creds_release(&c);
    setenv("AWS_PROFILE", "dev", 1); /* only in config, as [profile dev] */
    AK_ASSERT_OK(ak_aws_creds_resolve(NULL, &c, &e));
    AK_ASSERT_STR(c.access_key_id, "AKDEV");
    AK_ASSERT_STR(c.session_token, "tdev");
    ak_aws_creds_release(&c);
    AK_ASSERT_EQ_INT(ak_aws_creds_from_profile("half", &c, &e), AK_ECONFIG);
    AK_ASSERT_CONTAINS(e.buf, "aws_secret_access_key");
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(ak_aws_creds_from_profile("nope", &c, &e), AK_ECONFIG);
    AK_ASSERT_CONTAINS(e.buf, "nope");
    ak_buf_reset(&e);
    write_file(cred, "[default]\naws_secret_access_key = TOPSECRET\njunk line\n");
    unsetenv("AWS_PROFILE");
    AK_ASSERT_EQ_INT(ak_aws_creds_resolve(NULL, &c, &e), AK_ECONFIG);
    AK_ASSERT_CONTAINS(e.buf, "line 3");
    AK_ASSERT(!strstr(e.buf, "TOPSECRET"));
    AK_ASSERT_NULL(c.access_key_id);
    ak_buf_release(&e);
    clear_env();
}

/* A canned STS: answers one request with a fixed response, keeps what it received. */
struct canned {
    int fd;
    int port;
    const char *resp;
    char got[8192];
};

static void *canned_main(void *arg)
{
    struct canned *cs = arg;
    int c = accept(cs->fd, NULL, NULL);
    size_t n = 0;
    if (c < 0)
        return NULL;
    for (;;) {
        ssize_t k = recv(c, cs->got + n, sizeof(cs->got) - 1 - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
        cs->got[n] = 0;
        char *hend = strstr(cs->got, "\r\n\r\n");
        char *cl = strstr(cs->got, "Content-Length:");
        if (hend && cl && n >= (size_t)(hend + 4 - cs->got) + strtoul(cl + 15, NULL, 10))
            break;
    }
    char head[256];
    int hl = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: text/xml\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      strstr(cs->resp, "ErrorResponse") ? "403 Forbidden" : "200 OK",
                      strlen(cs->resp));
    if (send(c, head, (size_t)hl, 0) < 0 || send(c, cs->resp, strlen(cs->resp), 0) < 0) {
    }
    close(c);
    return NULL;
}

static int canned_start(struct canned *cs, pthread_t *th)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    cs->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (cs->fd < 0 || bind(cs->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(cs->fd, 1) < 0 || getsockname(cs->fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    cs->port = ntohs(a.sin_port);
    return pthread_create(th, NULL, canned_main, cs);
}

AK_TEST(chain_web_identity)
{
    struct canned cs = {.resp = STS_OK};
    pthread_t th;
    struct ak_aws_creds c = {0};
    struct ak_buf e = AK_BUF_INIT(AK_BUF_NOMAX);
    char tokf[512], url[128];

    clear_env();
    snprintf(tokf, sizeof(tokf), "%s/token", AK_TMPDIR());
    write_file(tokf, "eyJ.tok+en/=\n");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokf, 1);
    AK_ASSERT_EQ_INT(ak_aws_creds_resolve(NULL, &c, &e), AK_ECONFIG);
    AK_ASSERT_CONTAINS(e.buf, "AWS_ROLE_ARN");
    ak_buf_reset(&e);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r", 1);
    setenv("AWS_ROLE_SESSION_NAME", "sess", 1);
    AK_ASSERT_OK(canned_start(&cs, &th));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", cs.port);
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    int r = ak_aws_creds_resolve(NULL, &c, &e);
    pthread_join(th, NULL);
    close(cs.fd);
    AK_ASSERT_OK(r);
    AK_ASSERT_STR(c.source, "web-identity");
    AK_ASSERT_STR(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
    AK_ASSERT_EQ_INT(c.expires_ms, 1414191623000LL);
    ak_aws_creds_release(&c);
    AK_ASSERT_CONTAINS(cs.got, "POST / HTTP/1.1");
    AK_ASSERT(!strstr(cs.got, "Authorization:"));
    AK_ASSERT_CONTAINS(cs.got, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="
                               "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=sess"
                               "&WebIdentityToken=eyJ.tok%2Ben%2F%3D");

    /* STS refuses: its code and message, not the token, reach err */
    struct canned cs2 = {.resp = "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                                 "<Message>bad &amp; expired</Message></Error></ErrorResponse>"};
    AK_ASSERT_OK(canned_start(&cs2, &th));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", cs2.port);
    struct ak_aws_chain_opts o = {.sts_endpoint = url};
    r = ak_aws_creds_from_web_identity(&o, &c, &e);
    pthread_join(th, NULL);
    close(cs2.fd);
    AK_ASSERT_EQ_INT(r, AK_ESIG);
    AK_ASSERT_CONTAINS(e.buf, "403 InvalidIdentityToken: bad & expired");
    AK_ASSERT(!strstr(e.buf, "eyJ"));
    ak_buf_reset(&e);

    /* a missing token file */
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    AK_ASSERT_EQ_INT(ak_aws_creds_from_web_identity(&o, &c, &e), AK_ECONFIG);
    AK_ASSERT_CONTAINS(e.buf, "does not exist");
    ak_buf_release(&e);
    clear_env();
}

/* ---- the verifier: every suite request verifies, and fails after any one-byte change ---- */

#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* A suite request as a server receives it: every header line, the token header added when the
 * case signs with one it did not list in its .req. */
struct incoming {
    char *req, *tok, *authz;
    char method[8], target[300];
    const char *hdrs[20];
    size_t nh;
    char tokhdr[1200];
    const char *body;
    size_t body_len;
};

static int incoming_load(const char *name, struct incoming *in)
{
    char path[256];

    memset(in, 0, sizeof(*in));
    in->req = fixture(name, "req");
    in->authz = fixture(name, "authz");
    snprintf(path, sizeof(path), "tests/data/aws/sigv4/%s/session-token", name);
    in->tok = ak_test_read_file(path, NULL);
    if (!in->req || !in->authz)
        return -1;
    char *body = strstr(in->req, "\n\n");
    if (body) {
        *body = 0;
        in->body = body + 2;
        in->body_len = strlen(in->body);
    }
    char *line = strchr(in->req, '\n');
    *line++ = 0;
    char *sp1 = strchr(in->req, ' '), *sp2 = strrchr(in->req, ' ');
    snprintf(in->method, sizeof(in->method), "%.*s", (int)(sp1 - in->req), in->req);
    snprintf(in->target, sizeof(in->target), "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);
    while (line && *line && in->nh < 16) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        in->hdrs[in->nh++] = line;
        line = next;
    }
    if (in->tok) {
        snprintf(in->tokhdr, sizeof(in->tokhdr), "X-Amz-Security-Token:%s", in->tok);
        in->hdrs[in->nh++] = in->tokhdr;
    }
    in->hdrs[in->nh] = NULL;
    return 0;
}

static void incoming_free(struct incoming *in)
{
    free(in->req);
    free(in->tok);
    free(in->authz);
}

static int verify_in(const struct incoming *in, const char *target, const char *const *hdrs,
                     const char *body, size_t body_len, const char *authz, int64_t now,
                     struct ak_buf *err)
{
    struct ak_aws_auth a;
    struct ak_aws_incoming x = {.method = in->method, .path_query = target, .headers = hdrs,
                                .body = body, .body_len = body_len};
    int r = ak_aws_auth_parse(authz, &a, err);
    if (r < 0)
        return r;
    return ak_aws_verify(&x, &a, SUITE_SECRET, now, 5 * 60 * 1000, err);
}

/* Runs the positive and the mutated checks of one case; 0 when all behaved. */
static int verify_case(const char *name, char *why, size_t whylen)
{
    struct incoming in;
    struct ak_buf e = AK_BUF_INIT(AK_BUF_NOMAX);
    char target[320], body[512], authz[1024], hcopy[1300];
    const char *hdrs[20];
    int bad = 1, r;

    if (incoming_load(name, &in) < 0) {
        snprintf(why, whylen, "fixture missing");
        goto out;
    }
    r = verify_in(&in, in.target, in.hdrs, in.body, in.body_len, in.authz, SUITE_NOW_MS, &e);
    if (r != AK_OK) {
        snprintf(why, whylen, "does not verify: %d %s", r, e.buf);
        goto out;
    }
    /* a wrong secret */
    struct ak_aws_auth a;
    struct ak_aws_incoming x = {.method = in.method, .path_query = in.target, .headers = in.hdrs,
                                .body = in.body, .body_len = in.body_len};
    if (ak_aws_auth_parse(in.authz, &a, &e) != 0 ||
        ak_aws_verify(&x, &a, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", SUITE_NOW_MS, 300000,
                      &e) != AK_ESIG) {
        snprintf(why, whylen, "verifies with another secret");
        goto out;
    }
    /* one byte of the body (appended to an empty one) */
    snprintf(body, sizeof(body), "%s", in.body ? in.body : "");
    size_t blen = strlen(body);
    if (blen)
        body[blen - 1] ^= 1;
    else
        body[blen++] = 'x';
    if (verify_in(&in, in.target, in.hdrs, body, blen, in.authz, SUITE_NOW_MS, &e) != AK_ESIG) {
        snprintf(why, whylen, "verifies with another body");
        goto out;
    }
    /* the query: one byte changed, or one parameter added */
    snprintf(target, sizeof(target), "%s", in.target);
    char *q = strchr(target, '?');
    if (q && q[1])
        q[1] = q[1] == 'Z' ? 'Y' : 'Z';
    else
        snprintf(target + strlen(target), sizeof(target) - strlen(target), "%sa=b", q ? "" : "?");
    if (verify_in(&in, target, in.hdrs, in.body, in.body_len, in.authz, SUITE_NOW_MS, &e) !=
        AK_ESIG) {
        snprintf(why, whylen, "verifies with another query %s", target);
        goto out;
    }
    /* every signed header, one byte of its value (the last) changed; X-Amz-Date one second on */
    for (size_t i = 0; i < in.nh; i++) {
        memcpy(hdrs, in.hdrs, sizeof(hdrs));
        snprintf(hcopy, sizeof(hcopy), "%s", in.hdrs[i]);
        size_t hl = strlen(hcopy);
        hcopy[hl - 1] ^= 1;
        if (strncasecmp(hcopy, "X-Amz-Date:", 11) == 0)
            snprintf(hcopy, sizeof(hcopy), "X-Amz-Date:20150830T123601Z");
        hdrs[i] = hcopy;
        r = verify_in(&in, in.target, hdrs, in.body, in.body_len, in.authz, SUITE_NOW_MS, &e);
        if (r != AK_ESIG) {
            snprintf(why, whylen, "verifies (%d) with header %s", r, hcopy);
            goto out;
        }
    }
    /* the signature, one hex digit changed */
    snprintf(authz, sizeof(authz), "%s", in.authz);
    char *last = authz + strlen(authz) - 1;
    *last = *last == '0' ? '1' : '0';
    if (verify_in(&in, in.target, in.hdrs, in.body, in.body_len, authz, SUITE_NOW_MS, &e) !=
        AK_ESIG) {
        snprintf(why, whylen, "verifies with another signature");
        goto out;
    }
    bad = 0;
out:
    incoming_free(&in);
    ak_buf_release(&e);
    return bad;
}

AK_TEST(verify_suite)
{
    char why[2048];
    for (size_t i = 0; i < AK_ARRAY_SIZE(cases); i++) {
        why[0] = 0;
        if (verify_case(cases[i], why, sizeof(why)) != 0)
            AK_FAIL_("case %s: %s", cases[i], why);
    }
}

AK_TEST(verify_time_and_required_headers)
{
    struct incoming in;
    struct ak_buf e = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *hdrs[20];
    int64_t five = 5 * 60 * 1000;

    AK_ASSERT_OK(incoming_load("get-vanilla", &in));
    /* exactly at the edges of the window still verifies */
    AK_ASSERT_OK(verify_in(&in, in.target, in.hdrs, NULL, 0, in.authz, SUITE_NOW_MS + five, &e));
    AK_ASSERT_OK(verify_in(&in, in.target, in.hdrs, NULL, 0, in.authz, SUITE_NOW_MS - five, &e));
    /* AWS's own example: signed 010406, now 011752 */
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, in.hdrs, NULL, 0, in.authz,
                               SUITE_NOW_MS + five + 1000, &e), AK_ESIG);
    AK_ASSERT_STR(e.buf, "SignatureDoesNotMatch: Signature expired: 20150830T123600Z is now "
                         "earlier than 20150830T123601Z (20150830T124101Z - 5 min.)");
    ak_buf_reset(&e);
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, in.hdrs, NULL, 0, in.authz,
                               SUITE_NOW_MS - five - 1000, &e), AK_ESIG);
    AK_ASSERT_STR(e.buf, "SignatureDoesNotMatch: Signature not yet current: 20150830T123600Z is "
                         "still later than 20150830T123559Z (20150830T123059Z + 5 min.)");
    ak_buf_reset(&e);
    /* the X-Amz-Date of another day than the scope */
    memcpy(hdrs, in.hdrs, sizeof(hdrs));
    for (size_t i = 0; i < in.nh; i++)
        if (strncasecmp(hdrs[i], "X-Amz-Date:", 11) == 0)
            hdrs[i] = "X-Amz-Date:20150831T000000Z";
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, hdrs, NULL, 0, in.authz, 1440979200000LL, &e),
                     AK_ESIG);
    AK_ASSERT_CONTAINS(e.buf, "'20150830' != '20150831'");
    ak_buf_reset(&e);
    for (size_t i = 0; i < in.nh; i++)
        if (strncasecmp(hdrs[i], "X-Amz-Date:", 11) == 0)
            hdrs[i] = "X-Amz-Date:2015-08-30T12:36:00Z";
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, hdrs, NULL, 0, in.authz, SUITE_NOW_MS, &e),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "IncompleteSignature: X-Amz-Date");
    ak_buf_reset(&e);
    /* host or x-amz-date not signed; a token header the signature does not cover */
    const char *nohost = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=x-amz-date, Signature=5fa00fa31553b73ebf1942"
                         "676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, in.hdrs, NULL, 0, nohost, SUITE_NOW_MS, &e),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "IncompleteSignature: SignedHeaders must include host");
    ak_buf_reset(&e);
    memcpy(hdrs, in.hdrs, sizeof(hdrs));
    hdrs[in.nh] = "X-Amz-Security-Token: tok";
    hdrs[in.nh + 1] = NULL;
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, hdrs, NULL, 0, in.authz, SUITE_NOW_MS, &e),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(e.buf, "x-amz-security-token");
    ak_buf_reset(&e);
    /* a signed header the request lacks */
    memcpy(hdrs, in.hdrs, sizeof(hdrs));
    for (size_t i = 0; i < in.nh; i++)
        if (strncasecmp(hdrs[i], "Host:", 5) == 0)
            hdrs[i] = "Hos: example.amazonaws.com";
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, hdrs, NULL, 0, in.authz, SUITE_NOW_MS, &e),
                     AK_EINVAL);
    ak_buf_reset(&e);
    /* x-amz-content-sha256 must be the body's hash (and then it is also signed) */
    memcpy(hdrs, in.hdrs, sizeof(hdrs));
    hdrs[in.nh] = "X-Amz-Content-Sha256: 0000000000000000000000000000000000000000000000000000000"
                  "000000000";
    hdrs[in.nh + 1] = NULL;
    AK_ASSERT_EQ_INT(verify_in(&in, in.target, hdrs, NULL, 0, in.authz, SUITE_NOW_MS, &e),
                     AK_ESIG);
    AK_ASSERT_CONTAINS(e.buf, "x-amz-content-sha256");
    ak_buf_reset(&e);
    hdrs[in.nh] = "X-Amz-Content-Sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                  "7852b855";
    AK_ASSERT_OK(verify_in(&in, in.target, hdrs, NULL, 0, in.authz, SUITE_NOW_MS, &e));
    incoming_free(&in);
    ak_buf_release(&e);
}

/* The signer's output verifies: a GetCallerIdentity as botocore sends it, with a token. */
AK_TEST(verify_signer_round_trip)
{
    const char *body = "Action=GetCallerIdentity&Version=2011-06-15";
    const char *ct = "Content-Type: application/x-www-form-urlencoded; charset=utf-8";
    const char *sh[] = {ct, NULL};
    struct ak_aws_creds cr = {.access_key_id = (char *)"ASIAEXAMPLE",
                              .secret_access_key = (char *)"s3cr3t",
                              .session_token = (char *)"tok/en+=="};
    struct ak_aws_request rq = {.method = "POST", .url = "http://127.0.0.1:9780/sts",
                                .headers = sh, .body = body, .body_len = strlen(body),
                                .region = "us-east-1", .service = "sts",
                                .now_ms = SUITE_NOW_MS};
    struct ak_buf h = AK_BUF_INIT(AK_BUF_NOMAX), e = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_aws_auth a;
    const char *hdrs[8];
    size_t n = 0;

    AK_ASSERT_OK(ak_aws_sign(&rq, &cr, &h, &e));
    hdrs[n++] = "Host: 127.0.0.1:9780";
    hdrs[n++] = ct;
    for (char *p = h.buf; *p;) {
        char *nl = strchr(p, '\n');
        *nl = 0;
        hdrs[n++] = p;
        p = nl + 1;
    }
    hdrs[n] = NULL;
    AK_ASSERT(ak_startswith(hdrs[n - 1], "Authorization: "));
    AK_ASSERT_OK(ak_aws_auth_parse(hdrs[n - 1] + 15, &a, &e));
    AK_ASSERT_STR(a.akid, "ASIAEXAMPLE");
    AK_ASSERT_STR(a.date, "20150830");
    AK_ASSERT_STR(a.region, "us-east-1");
    AK_ASSERT_STR(a.service, "sts");
    AK_ASSERT_STR(a.signed_headers, "content-type;host;x-amz-date;x-amz-security-token");
    struct ak_aws_incoming x = {.method = "POST", .path_query = "/sts", .headers = hdrs,
                                .body = body, .body_len = strlen(body)};
    AK_ASSERT_OK(ak_aws_verify(&x, &a, "s3cr3t", SUITE_NOW_MS + 1000, 300000, &e));
    AK_ASSERT_STR(e.buf, "");
    x.path_query = "/sts/";
    AK_ASSERT_EQ_INT(ak_aws_verify(&x, &a, "s3cr3t", SUITE_NOW_MS, 300000, &e), AK_ESIG);
    AK_ASSERT_CONTAINS(e.buf, "SignatureDoesNotMatch: The request signature we calculated");
    ak_buf_release(&h);
    ak_buf_release(&e);
}

static int auth_parse(const char *v, struct ak_aws_auth *a, struct ak_buf *e)
{
    ak_buf_reset(e);
    return ak_aws_auth_parse(v, a, e);
}

#define SIG64 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
#define CRED "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

AK_TEST(auth_parse_forms_and_errors)
{
    struct ak_aws_auth a, keep;
    struct ak_buf e = AK_BUF_INIT(AK_BUF_NOMAX);

    /* any order, "," or ", " */
    AK_ASSERT_OK(auth_parse("AWS4-HMAC-SHA256 Signature=" SIG64 ",SignedHeaders=host;x-amz-date,"
                            CRED, &a, &e));
    AK_ASSERT_STR(a.akid, "AKIDEXAMPLE");
    AK_ASSERT_STR(a.date, "20150830");
    AK_ASSERT_STR(a.region, "us-east-1");
    AK_ASSERT_STR(a.service, "service");
    AK_ASSERT_STR(a.signed_headers, "host;x-amz-date");
    AK_ASSERT_STR(a.signature, SIG64);
    keep = a;
    static const struct {
        const char *v, *why;
    } bad[] = {
        {"AWS4-HMAC-SHA1 " CRED ", SignedHeaders=host, Signature=" SIG64, "algorithm"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host", "lacks Signature"},
        {"AWS4-HMAC-SHA256 " CRED ", " CRED ", SignedHeaders=host, Signature=" SIG64, "repeats"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG64 ", X=1", "part"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG64 ",", "part"},
        {"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service, SignedHeaders=host, "
         "Signature=" SIG64, "AKID/date"},
        {"AWS4-HMAC-SHA256 Credential=AK-ID/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=host, Signature=" SIG64, "access key id"},
        {"AWS4-HMAC-SHA256 Credential=AKID/2015083/us-east-1/service/aws4_request, "
         "SignedHeaders=host, Signature=" SIG64, "YYYYMMDD"},
        {"AWS4-HMAC-SHA256 Credential=AKID/20150830/US-east-1/service/aws4_request, "
         "SignedHeaders=host, Signature=" SIG64, "region"},
        {"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1//aws4_request, "
         "SignedHeaders=host, Signature=" SIG64, "service"},
        {"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_requesT, "
         "SignedHeaders=host, Signature=" SIG64, "aws4_request"},
        {"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request/x, "
         "SignedHeaders=host, Signature=" SIG64, "five"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date;host, Signature=" SIG64, "sorted"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;host, Signature=" SIG64, "sorted"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=Host, Signature=" SIG64, "lowercase"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;;x, Signature=" SIG64, "name 2"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=, Signature=" SIG64, "empty"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG64 "0", "64"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=5FA00FA31553B73EBF1942676E8629"
         "1E8372FF2A2260956D9B8AAE1D763FBF31", "lowercase hex"},
        {"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature", "no '=value'"},
        {"", "algorithm"},
    };
    for (size_t i = 0; i < AK_ARRAY_SIZE(bad); i++) {
        if (auth_parse(bad[i].v, &a, &e) != AK_EINVAL)
            AK_FAIL_("case %zu parses", i);
        if (!strstr(e.buf, bad[i].why))
            AK_FAIL_("case %zu: \"%s\" lacks \"%s\"", i, e.buf, bad[i].why);
    }
    AK_ASSERT_EQ_INT(auth_parse(NULL, &a, &e), AK_EINVAL);
    AK_ASSERT_MEM(&a, &keep, sizeof(a)); /* untouched on failure */
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    AK_ASSERT_EQ_INT(auth_parse(big, &a, &e), AK_EINVAL);
    ak_buf_release(&e);
}

AK_TEST_MAIN(AK_T(sigv4_suite), AK_T(hmac_raw_rfc4231), AK_T(sigv4_canonical_details),
             AK_T(ini_parser), AK_T(xml_extract), AK_T(chain_env_and_profiles),
             AK_T(chain_web_identity), AK_T(verify_suite),
             AK_T(verify_time_and_required_headers), AK_T(verify_signer_round_trip),
             AK_T(auth_parse_forms_and_errors))
