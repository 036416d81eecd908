/* httpc.c — outgoing HTTP(S) requests with libcurl's easy interface.
 *
 * This is the only file in asakai that includes libcurl. One easy handle per request: requests
 * are rare (webhooks, certificate fetches, subscription confirmations), so connection reuse is
 * not worth the shared state between threads.
 */
#include "asakai/ak_httpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "ak_config.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "src/core/ak_banned.h"

#define AK_HTTPC_DEFAULT_TIMEOUT_MS 10000
#define AK_HTTPC_DEFAULT_MAX_RESPONSE (1024 * 1024)
#define AK_HTTPC_MAX_REDIRS 3L

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static bool global_done;

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
}

void ak_httpc_resp_release(struct ak_httpc_resp *resp)
{
    if (!resp)
        return;
    ak_buf_release(&resp->body);
    ak_freep(&resp->content_type);
    resp->status = 0;
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

struct sink {
    struct ak_buf *body;
    bool too_big;
};

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct sink *s = userp;
    size_t n = size * nmemb; /* libcurl guarantees size == 1 */

    if (ak_buf_addn(s->body, data, n) != AK_OK) {
        s->too_big = true;
        return 0; /* anything but n aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Checked before libcurl sees the URL, so a refused scheme never causes any network traffic. */
static int check_scheme(const char *url, bool https_only, struct ak_buf *err)
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

static int build_headers(const struct ak_httpc_req *req, struct curl_slist **ret,
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
static void set_options(CURL *h, const struct ak_httpc_req *req, size_t max, char *errbuf,
                        struct sink *sink)
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

static int map_error(CURLcode rc, const struct sink *sink, const char *url, size_t max,
                     const char *errbuf, struct ak_buf *err)
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

int ak_httpc_do(const struct ak_httpc_req *req, struct ak_httpc_resp *resp, struct ak_buf *err)
{
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers = NULL;
    struct sink sink = {0};
    CURL *h = NULL;
    const char *ct = NULL;
    size_t max;
    long status = 0;
    CURLcode rc;
    int r;

    if (!req || !req->url || !resp)
        return ak_err(err, AK_EINVAL, "No request URL was given.");
    r = check_scheme(req->url, req->https_only, err);
    if (r < 0)
        return r;
    max = req->max_response ? req->max_response : AK_HTTPC_DEFAULT_MAX_RESPONSE;
    ak_buf_reset(&resp->body);
    resp->body.max = max;
    resp->status = 0;
    sink.body = &resp->body;
    errbuf[0] = 0;

    r = build_headers(req, &headers, err);
    if (r < 0)
        goto out;
    h = curl_easy_init();
    if (!h) {
        r = ak_err(err, AK_EINTERNAL, "Cannot create a libcurl handle.");
        goto out;
    }
    set_options(h, req, max, errbuf, &sink);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    rc = curl_easy_perform(h);
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        resp->status = status;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
        free(resp->content_type);
        resp->content_type = ak_xstrdup(ct);
    }
    if (rc != CURLE_OK) {
        r = map_error(rc, &sink, req->url, max, errbuf, err);
        goto out;
    }
    r = AK_OK;
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    return r;
}
