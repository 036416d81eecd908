/* httpc.c — outgoing HTTP(S) requests with libcurl's easy interface.
 *
 * src/httpc is the only module in asakai that includes libcurl. The easy-handle setup and the
 * response collection here (ak__httpc_*, httpc_int.h) are shared with multi.c, which runs many
 * requests at once for the pollers.
 */
#include "asakai/ak_httpc.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "ak_config.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "httpc_int.h"
#include "src/core/ak_banned.h"

#define AK_HTTPC_DEFAULT_TIMEOUT_MS 10000
#define AK_HTTPC_DEFAULT_MAX_RESPONSE (1024 * 1024)
#define AK_HTTPC_MAX_REDIRS 3L
#define AK_SMTP_DEFAULT_TIMEOUT_MS 30000
/* A server asking for more than an hour is asking for something else: a retry schedule. */
#define AK_RETRY_AFTER_MAX_MS (3600 * 1000LL)
#define AK_SMTP_REPLY_MAX 200

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static bool global_done;

/* One easy handle per thread, reset between requests: libcurl keeps the handle's connection
 * cache, so repeated requests to the same host (a notification worker sending to one webhook,
 * the CLI) reuse a keep-alive connection instead of a new TCP (and TLS) handshake each time.
 * The key's destructor frees the handle when its thread ends. */
static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void handle_key_init(void)
{
    AK_BUG_ON(pthread_key_create(&handle_key, handle_free) != 0);
}

/* The calling thread's handle, reset to defaults; NULL on allocation failure. */
static CURL *thread_handle(void)
{
    pthread_once(&handle_once, handle_key_init);
    CURL *h = pthread_getspecific(handle_key);
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    h = curl_easy_init();
    if (h && pthread_setspecific(handle_key, h) != 0) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return h;
}

void ak_httpc_global_init(void)
{
    pthread_mutex_lock(&global_lock);
    if (!global_done) {
        AK_BUG_ON(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK);
        global_done = true;
    }
    pthread_mutex_unlock(&global_lock);
}

void ak_httpc_global_cleanup(void)
{
    pthread_mutex_lock(&global_lock);
    if (global_done) {
        curl_global_cleanup();
        global_done = false;
    }
    pthread_mutex_unlock(&global_lock);
}

void ak_httpc_resp_init(struct ak_httpc_resp *resp)
{
    resp->status = 0;
    ak_buf_init(&resp->body, AK_BUF_NOMAX);
    resp->content_type = NULL;
    resp->retry_after_ms = 0;
}

void ak_httpc_resp_release(struct ak_httpc_resp *resp)
{
    if (!resp)
        return;
    ak_buf_release(&resp->body);
    ak_freep(&resp->content_type);
    resp->status = 0;
    resp->retry_after_ms = 0;
}

char *ak_url_escape(const char *s)
{
    char *e, *r;

    if (!s)
        return NULL;
    /* the length is an int in libcurl; a longer string is a caller bug */
    AK_BUG_ON(strlen(s) > 1024 * 1024);
    e = curl_easy_escape(NULL, s, (int)strlen(s));
    AK_BUG_ON(!e); /* only on OOM */
    r = ak_xstrdup(e);
    curl_free(e);
    return r;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct ak__httpc_sink *s = userp;
    size_t n = size * nmemb; /* libcurl guarantees size == 1 */

    if (ak_buf_addn(s->body, data, n) != AK_OK) {
        s->too_big = true;
        return 0; /* anything but n aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

size_t ak__httpc_max_response(const struct ak_httpc_req *req)
{
    return req->max_response ? req->max_response : AK_HTTPC_DEFAULT_MAX_RESPONSE;
}

/* Checked before libcurl sees the URL, so a refused scheme never causes any network traffic. */
int ak__httpc_check_scheme(const char *url, bool https_only, struct ak_buf *err)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return AK_OK;
    if (!https_only && strncasecmp(url, "http://", 7) == 0)
        return AK_OK;
    return ak_err(err, AK_EFORBIDDEN, "The URL scheme is not allowed here (only %s).",
                  https_only ? "https" : "http and https");
}

/* The host part only: URLs carry secrets (webhook paths, subscription tokens). */
static void url_host(const char *url, char *out, size_t n)
{
    CURLU *u = curl_url();
    char *host = NULL;

    snprintf(out, n, "?");
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        snprintf(out, n, "%s", host);
    curl_free(host);
    curl_url_cleanup(u);
}

int ak__httpc_build_headers(const struct ak_httpc_req *req, struct curl_slist **ret,
                            struct ak_buf *err)
{
    struct curl_slist *list = NULL, *t;

    /* No "Expect: 100-continue" round trip for bodies. */
    list = curl_slist_append(list, "Expect:");
    for (size_t i = 0; list && req->headers && req->headers[i]; i++) {
        t = curl_slist_append(list, req->headers[i]);
        if (!t) {
            curl_slist_free_all(list);
            list = NULL;
        } else
            list = t;
    }
    if (!list)
        return ak_err(err, AK_EINTERNAL, "Cannot build the request headers.");
    *ret = list;
    return AK_OK;
}

static void set_method(CURL *h, const struct ak_httpc_req *req)
{
    const char *m = req->method ? req->method : "GET";
    bool has_body = req->body || req->body_len;

    if (strcmp(m, "GET") == 0 && !has_body)
        return;
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(m, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    if (strcmp(m, "POST") == 0 || has_body) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    }
}

/* Options that depend on nothing but the request; each setopt only fails on an unknown option
 * or OOM, which the final curl_easy_perform would report anyway. */
void ak__httpc_set_options(CURL *h, const struct ak_httpc_req *req, size_t max, char *errbuf,
                           struct ak__httpc_sink *sink)
{
    int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : AK_HTTPC_DEFAULT_TIMEOUT_MS;
    const char *protos = req->https_only ? "https" : "http,https";

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protos);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, AK_HTTPC_MAX_REDIRS);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "asakai/" AK_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    set_method(h, req);
}

int ak__httpc_map_error(CURLcode rc, const struct ak__httpc_sink *sink, const char *url,
                        size_t max, const char *errbuf, struct ak_buf *err)
{
    char host[256];

    url_host(url, host, sizeof(host));
    if (sink->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return ak_err(err, AK_ETOOBIG, "The response from %s is larger than %zu bytes.", host,
                      max);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return ak_err(err, AK_ETIMEDOUT, "The request to %s timed out.", host);
    return ak_err(err, AK_EIO, "The request to %s failed: %s%s%s.", host, curl_easy_strerror(rc),
                  errbuf[0] ? ": " : "", errbuf);
}

/* The value of response header name of the last response, or NULL. */
static const char *header_value(CURL *h, const char *name)
{
    struct curl_header *hdr = NULL;

    if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK || !hdr)
        return NULL;
    return hdr->value;
}

/* Retry-After (RFC 9110 10.2.3): delta-seconds or an HTTP-date. A date is measured against the
 * response's own Date header when there is one, so that a skewed local clock does not matter.
 * Capped at one hour; anything unparsable counts as absent. */
static int64_t retry_after_ms(CURL *h)
{
    const char *v = header_value(h, "Retry-After"), *date;
    int64_t when = 0, base = 0, d;
    uint64_t secs = 0;

    if (!v)
        return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    if (ak_parse_u64(v, 0, UINT64_MAX, &secs) == AK_OK)
        return secs > (uint64_t)AK_RETRY_AFTER_MAX_MS / 1000 ? AK_RETRY_AFTER_MAX_MS
                                                             : (int64_t)secs * 1000;
    if (ak_time_parse(v, &when) != AK_OK)
        return 0;
    date = header_value(h, "Date");
    if (!date || ak_time_parse(date, &base) != AK_OK)
        base = ak_now_wall_ms();
    d = when - base;
    if (d <= 0)
        return 0;
    return d > AK_RETRY_AFTER_MAX_MS ? AK_RETRY_AFTER_MAX_MS : d;
}

void ak__httpc_resp_begin(struct ak_httpc_resp *resp, size_t max, struct ak__httpc_sink *sink)
{
    ak_buf_reset(&resp->body);
    resp->body.max = max;
    resp->status = 0;
    resp->retry_after_ms = 0;
    sink->body = &resp->body;
    sink->too_big = false;
}

void ak__httpc_collect(CURL *h, struct ak_httpc_resp *resp)
{
    const char *ct = NULL;
    long status = 0;

    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        resp->status = status;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
        free(resp->content_type);
        resp->content_type = ak_xstrdup(ct);
    }
    if (status > 0)
        resp->retry_after_ms = retry_after_ms(h);
}

int ak_httpc_do(const struct ak_httpc_req *req, struct ak_httpc_resp *resp, struct ak_buf *err)
{
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers = NULL;
    struct ak__httpc_sink sink = {0};
    CURL *h = NULL;
    size_t max;
    CURLcode rc;
    int r;

    if (!req || !req->url || !resp)
        return ak_err(err, AK_EINVAL, "No request URL was given.");
    r = ak__httpc_check_scheme(req->url, req->https_only, err);
    if (r < 0)
        return r;
    max = ak__httpc_max_response(req);
    ak__httpc_resp_begin(resp, max, &sink);
    errbuf[0] = 0;

    r = ak__httpc_build_headers(req, &headers, err);
    if (r < 0)
        goto out;
    h = thread_handle();
    if (!h) {
        r = ak_err(err, AK_EINTERNAL, "Cannot create a libcurl handle.");
        goto out;
    }
    ak__httpc_set_options(h, req, max, errbuf, &sink);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    rc = curl_easy_perform(h);
    ak__httpc_collect(h, resp);
    if (rc != CURLE_OK) {
        r = ak__httpc_map_error(rc, &sink, req->url, max, errbuf, err);
        goto out;
    }
    r = AK_OK;
out:
    if (h) /* keep the handle (and its connections) for the thread's next request */
        curl_easy_reset(h);
    curl_slist_free_all(headers);
    return r;
}

/* ---- SMTP ---- */

struct smtp_ctx {
    const char *msg;
    size_t len, pos;
    char reply[AK_SMTP_REPLY_MAX + 1]; /* the server's last error reply, sanitised */
};

static size_t smtp_read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
    struct smtp_ctx *c = userp;
    size_t n = size * nitems, left = c->len - c->pos;

    if (n > left)
        n = left;
    memcpy(buf, c->msg + c->pos, n);
    c->pos += n;
    return n;
}

/* Keeps the server's last error reply (4xx/5xx) line for the error sentence: the QUIT that curl
 * sends after a failure is answered 221, which says nothing. Only CURLINFO_HEADER_IN is looked
 * at: what curl sends (CURLINFO_HEADER_OUT) includes the AUTH exchange, i.e. the password. */
static int smtp_debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
    struct smtp_ctx *c = userp;
    size_t n = 0;

    (void)h;
    if (type != CURLINFO_HEADER_IN || size == 0 || (data[0] != '4' && data[0] != '5'))
        return 0;
    for (size_t i = 0; i < size && n < AK_SMTP_REPLY_MAX; i++) {
        unsigned char ch = (unsigned char)data[i];

        if (ch == '\r' || ch == '\n')
            break;
        c->reply[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    c->reply[n] = 0;
    return 0;
}

/* Envelope addresses go into MAIL FROM / RCPT TO lines: a CR or LF would inject commands. */
static bool smtp_addr_ok(const char *a)
{
    if (!a || !*a || strlen(a) > 320)
        return false;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p < 0x21 || *p == 0x7f || *p == '<' || *p == '>')
            return false;
    return true;
}

/* localhost, 127.0.0.0/8 or ::1: the only places a password may travel unencrypted to. */
static bool host_is_loopback(const char *url)
{
    struct in_addr a4;
    char host[256];

    url_host(url, host, sizeof(host));
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return strcmp(host, "[::1]") == 0 || strcasecmp(host, "localhost") == 0;
}

static int smtp_check(const struct ak_smtp_req *req, struct ak_buf *err)
{
    bool implicit_tls;

    if (!req || !req->url || !req->message)
        return ak_err(err, AK_EINVAL, "The SMTP request lacks a URL or a message.");
    implicit_tls = strncasecmp(req->url, "smtps://", 8) == 0;
    if (!implicit_tls && strncasecmp(req->url, "smtp://", 7) != 0)
        return ak_err(err, AK_EFORBIDDEN, "The SMTP URL scheme is not allowed (only smtp and "
                      "smtps).");
    if (!smtp_addr_ok(req->from))
        return ak_err(err, AK_EINVAL, "The SMTP envelope sender is empty or has characters not "
                      "allowed in an address.");
    if (!req->rcpt || !req->rcpt[0])
        return ak_err(err, AK_EINVAL, "The SMTP request has no recipient.");
    for (size_t i = 0; req->rcpt[i]; i++)
        if (!smtp_addr_ok(req->rcpt[i]))
            return ak_err(err, AK_EINVAL, "SMTP recipient #%zu is empty or has characters not "
                          "allowed in an address.", i + 1);
    /* libcurl 7.88 runs AUTH PLAIN/LOGIN over a clear-text connection when the server offers
     * it: a password may only travel in the clear to this machine (see smtp_use_ssl too). */
    if (req->username && !implicit_tls && req->starttls == 0 && !host_is_loopback(req->url))
        return ak_err(err, AK_EFORBIDDEN, "SMTP AUTH without TLS would send the password in "
                      "clear text; use smtps:// or STARTTLS.");
    return AK_OK;
}

static int smtp_map_error(CURLcode rc, long code, const struct smtp_ctx *c, const char *url,
                          const char *errbuf, struct ak_buf *err)
{
    const char *detail = c->reply[0] ? c->reply : errbuf[0] ? errbuf : curl_easy_strerror(rc);
    char host[256];

    url_host(url, host, sizeof(host));
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return ak_err(err, AK_ETIMEDOUT, "The SMTP submission to %s timed out.", host);
    if (rc == CURLE_USE_SSL_FAILED)
        return ak_err(err, AK_EFORBIDDEN, "The SMTP server %s did not provide the required TLS "
                      "(%s).", host, errbuf[0] ? errbuf : detail);
    if (code >= 500 && code <= 599)
        return ak_err(err, AK_EFORBIDDEN, "The SMTP server %s refused the message: %s.", host,
                      detail);
    return ak_err(err, AK_EIO, "The SMTP submission to %s failed: %s%s%s.", host,
                  curl_easy_strerror(rc), c->reply[0] ? "; the server said: " : "", c->reply);
}

static int smtp_rcpt_list(const struct ak_smtp_req *req, struct curl_slist **ret,
                          struct ak_buf *err)
{
    struct curl_slist *list = NULL, *t;

    for (size_t i = 0; req->rcpt[i]; i++) {
        t = curl_slist_append(list, req->rcpt[i]);
        if (!t) {
            curl_slist_free_all(list);
            return ak_err(err, AK_EINTERNAL, "Cannot build the SMTP recipient list.");
        }
        list = t;
    }
    *ret = list;
    return AK_OK;
}

/* starttls -1 ("when offered") becomes "required" when a password would go to another machine:
 * a man in the middle can strip STARTTLS from the EHLO reply, and libcurl would then send AUTH
 * in the clear. */
static long smtp_use_ssl(const struct ak_smtp_req *req)
{
    if (req->starttls == 1)
        return CURLUSESSL_ALL;
    if (req->starttls == 0)
        return CURLUSESSL_NONE;
    return req->username && !host_is_loopback(req->url) ? CURLUSESSL_ALL : CURLUSESSL_TRY;
}

static void smtp_set_options(CURL *h, const struct ak_smtp_req *req, struct smtp_ctx *c,
                             char *errbuf)
{
    int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : AK_SMTP_DEFAULT_TIMEOUT_MS;
    long use_ssl = smtp_use_ssl(req);

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
    if (req->username) {
        curl_easy_setopt(h, CURLOPT_USERNAME, req->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, req->from);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->message_len);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, smtp_read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* VERBOSE only routes the protocol trace to smtp_debug_cb; nothing reaches stderr */
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
}

int ak_smtp_send(const struct ak_smtp_req *req, struct ak_buf *err)
{
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *rcpt = NULL;
    struct smtp_ctx ctx;
    CURL *h = NULL;
    long code = 0;
    CURLcode rc;
    int r;

    r = smtp_check(req, err);
    if (r < 0)
        return r;
    memset(&ctx, 0, sizeof(ctx));
    ctx.msg = req->message;
    ctx.len = req->message_len;
    errbuf[0] = 0;
    r = smtp_rcpt_list(req, &rcpt, err);
    if (r < 0)
        goto out;
    h = curl_easy_init();
    if (!h) {
        r = ak_err(err, AK_EINTERNAL, "Cannot create a libcurl handle.");
        goto out;
    }
    smtp_set_options(h, req, &ctx, errbuf);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        r = AK_OK;
        goto out;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
        code = 0;
    r = smtp_map_error(rc, code, &ctx, req->url, errbuf, err);
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(rcpt);
    return r;
}
