/* test_httpc.c — ak_httpc_do against a tiny real HTTP server on 127.0.0.1 in a thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "ak_test.h"

enum srv_mode {
    SRV_OK,            /* 200 "hello" text/plain */
    SRV_REDIRECT,      /* 302 to /next, then 200 "landed" on the next connection */
    SRV_REDIRECT_FILE, /* 302 to file:///etc/passwd */
    SRV_BIG_CL,        /* body_size bytes with Content-Length */
    SRV_BIG_NOCL,      /* body_size bytes, length given only by closing the connection */
    SRV_SLOW,          /* reads the request, never answers, waits for the client to go */
    SRV_ECHO,          /* answers with the raw request as the body */
};

struct srv {
    int fd;
    int port;
    int conns; /* connections to serve before the thread exits */
    size_t body_size;
    enum srv_mode mode;
    pthread_t thread;
    char url[64];
};

#define REQ_MAX 65536

static bool wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, ms) == 1;
}

static size_t content_length(const char *req)
{
    const char *p = req;
    size_t n = 0;

    while ((p = strchr(p, '\n')) != NULL) {
        p++;
        if (strncasecmp(p, "Content-Length:", 15) == 0) {
            for (p += 15; *p == ' '; p++) {
            }
            while (*p >= '0' && *p <= '9')
                n = n * 10 + (size_t)(*p++ - '0');
            return n;
        }
    }
    return 0;
}

/* Reads one request (headers + Content-Length body); returns its length, 0 on failure. */
static size_t read_request(int c, char *buf)
{
    size_t len = 0, want = 0;
    char *end;

    while (len < REQ_MAX - 1 && wait_readable(c, 2000)) {
        ssize_t k = recv(c, buf + len, REQ_MAX - 1 - len, 0);

        if (k <= 0)
            return 0;
        len += (size_t)k;
        buf[len] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (end && !want)
            want = (size_t)(end + 4 - buf) + content_length(buf);
        if (want && len >= want)
            return len;
    }
    return 0;
}

static void send_all(int c, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t k = send(c, s, n, MSG_NOSIGNAL); /* the client may have hung up: no SIGPIPE */

        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

static void send_str(int c, const char *s)
{
    send_all(c, s, strlen(s));
}

static void respond(struct srv *s, int c, int i, const char *req, size_t reqlen)
{
    char head[256];
    char *big;

    switch (s->mode) {
    case SRV_OK:
        send_str(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
        break;
    case SRV_REDIRECT:
        if (i == 0) {
            snprintf(head, sizeof(head),
                     "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/next\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n",
                     s->port);
            send_str(c, head);
        } else
            send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nlanded");
        break;
    case SRV_REDIRECT_FILE:
        send_str(c, "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n");
        break;
    case SRV_BIG_CL:
    case SRV_BIG_NOCL:
        if (s->mode == SRV_BIG_CL)
            snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     s->body_size);
        else
            snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        send_str(c, head);
        big = malloc(s->body_size);
        memset(big, 'x', s->body_size);
        send_all(c, big, s->body_size);
        free(big);
        break;
    case SRV_SLOW:
        (void)wait_readable(c, 3000); /* returns when the client closes */
        break;
    case SRV_ECHO:
        snprintf(head, sizeof(head),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                 reqlen);
        send_str(c, head);
        send_all(c, req, reqlen);
        break;
    }
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    char *req = malloc(REQ_MAX);

    for (int i = 0; i < s->conns && wait_readable(s->fd, 3000); i++) {
        int c = accept(s->fd, NULL, NULL);
        size_t n;

        if (c < 0)
            break;
        n = read_request(c, req);
        if (n > 0)
            respond(s, c, i, req, n);
        close(c);
    }
    free(req);
    return NULL;
}

static int bound_socket(int *ret_port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        perror("socket");
        abort();
    }
    *ret_port = ntohs(a.sin_port);
    return fd;
}

static void srv_start(struct srv *s, enum srv_mode mode, int conns)
{
    s->mode = mode;
    s->conns = conns;
    s->fd = bound_socket(&s->port);
    if (listen(s->fd, 8) < 0 || pthread_create(&s->thread, NULL, srv_main, s) != 0) {
        perror("listen");
        abort();
    }
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/", s->port);
}

static void srv_stop(struct srv *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* ---- tests ---- */

AK_TEST(get_200_body_and_content_type)
{
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    ak_httpc_global_init();
    ak_httpc_global_init(); /* idempotent */
    srv_start(&s, SRV_OK, 1);
    ak_httpc_resp_init(&resp);
    req.url = s.url;
    r = ak_httpc_do(&req, &resp, &err);
    srv_stop(&s);
    AK_ASSERT_OK(r);
    AK_ASSERT_EQ_INT(resp.status, 200);
    AK_ASSERT_EQ_INT(resp.body.len, 5);
    AK_ASSERT_STR(resp.body.buf, "hello");
    AK_ASSERT_STR(resp.content_type, "text/plain; charset=utf-8");
    AK_ASSERT_EQ_INT(err.len, 0);
    ak_httpc_resp_release(&resp);
    ak_httpc_resp_release(NULL);
    ak_buf_release(&err);
}

AK_TEST(redirect_not_followed_by_default)
{
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    int r;

    srv_start(&s, SRV_REDIRECT, 1);
    ak_httpc_resp_init(&resp);
    req.url = s.url;
    r = ak_httpc_do(&req, &resp, NULL);
    srv_stop(&s);
    AK_ASSERT_OK(r);
    AK_ASSERT_EQ_INT(resp.status, 302);
    AK_ASSERT_EQ_INT(resp.body.len, 0);
    ak_httpc_resp_release(&resp);
}

AK_TEST(redirect_followed_when_asked)
{
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    int r;

    srv_start(&s, SRV_REDIRECT, 2);
    ak_httpc_resp_init(&resp);
    req.url = s.url;
    req.follow_redirects = true;
    r = ak_httpc_do(&req, &resp, NULL);
    srv_stop(&s);
    AK_ASSERT_OK(r);
    AK_ASSERT_EQ_INT(resp.status, 200);
    AK_ASSERT_STR(resp.body.buf, "landed");
    ak_httpc_resp_release(&resp);
}

AK_TEST(redirect_to_file_scheme_refused)
{
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    srv_start(&s, SRV_REDIRECT_FILE, 1);
    ak_httpc_resp_init(&resp);
    req.url = s.url;
    req.follow_redirects = true;
    r = ak_httpc_do(&req, &resp, &err);
    srv_stop(&s);
    AK_ASSERT_EQ_INT(r, AK_EIO);
    AK_ASSERT(strstr(resp.body.buf, "root:") == NULL);
    AK_ASSERT_CONTAINS(err.buf, "127.0.0.1");
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
}

static int fetch_big(enum srv_mode mode, size_t body_size, size_t cap, struct ak_httpc_resp *resp,
                     struct ak_buf *err)
{
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    int r;

    s.body_size = body_size;
    srv_start(&s, mode, 1);
    req.url = s.url;
    req.max_response = cap;
    r = ak_httpc_do(&req, resp, err);
    srv_stop(&s);
    return r;
}

AK_TEST(body_over_cap_is_toobig)
{
    struct ak_httpc_resp resp;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_httpc_resp_init(&resp);
    /* announced by Content-Length: refused before the body is read */
    AK_ASSERT_EQ_INT(fetch_big(SRV_BIG_CL, 5000, 1000, &resp, &err), AK_ETOOBIG);
    AK_ASSERT_CONTAINS(err.buf, "larger than 1000 bytes");
    AK_ASSERT(resp.body.len <= 1000);
    ak_buf_reset(&err);
    /* no length: the write callback stops it */
    AK_ASSERT_EQ_INT(fetch_big(SRV_BIG_NOCL, 300000, 1000, &resp, &err), AK_ETOOBIG);
    AK_ASSERT(resp.body.len <= 1000);
    ak_buf_reset(&err);
    /* exactly at the cap is fine, both ways */
    AK_ASSERT_OK(fetch_big(SRV_BIG_CL, 1000, 1000, &resp, &err));
    AK_ASSERT_EQ_INT(resp.body.len, 1000);
    AK_ASSERT_OK(fetch_big(SRV_BIG_NOCL, 1000, 1000, &resp, &err));
    AK_ASSERT_EQ_INT(resp.body.len, 1000);
    AK_ASSERT_EQ_INT(resp.body.buf[999], 'x');
    AK_ASSERT_EQ_INT(fetch_big(SRV_BIG_NOCL, 1001, 1000, &resp, &err), AK_ETOOBIG);
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
}

AK_TEST(slow_server_times_out)
{
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    srv_start(&s, SRV_SLOW, 1);
    ak_httpc_resp_init(&resp);
    req.url = s.url;
    req.timeout_ms = 300;
    r = ak_httpc_do(&req, &resp, &err);
    srv_stop(&s);
    AK_ASSERT_EQ_INT(r, AK_ETIMEDOUT);
    AK_ASSERT_EQ_INT(resp.status, 0);
    AK_ASSERT_CONTAINS(err.buf, "timed out");
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
}

AK_TEST(scheme_policy)
{
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_httpc_resp_init(&resp);
    /* port 9 (discard) on loopback: if the check failed, the error would be AK_EIO */
    req.url = "http://127.0.0.1:9/";
    req.https_only = true;
    AK_ASSERT_EQ_INT(ak_httpc_do(&req, &resp, &err), AK_EFORBIDDEN);
    AK_ASSERT_CONTAINS(err.buf, "only https");
    ak_buf_reset(&err);
    req.https_only = false;
    req.url = "file:///etc/passwd";
    AK_ASSERT_EQ_INT(ak_httpc_do(&req, &resp, &err), AK_EFORBIDDEN);
    AK_ASSERT_EQ_INT(resp.body.len, 0);
    req.url = "ftp://127.0.0.1/";
    AK_ASSERT_EQ_INT(ak_httpc_do(&req, &resp, &err), AK_EFORBIDDEN);
    req.url = "gopher://127.0.0.1/";
    AK_ASSERT_EQ_INT(ak_httpc_do(&req, &resp, &err), AK_EFORBIDDEN);
    req.url = "httpx://127.0.0.1/";
    AK_ASSERT_EQ_INT(ak_httpc_do(&req, &resp, &err), AK_EFORBIDDEN);
    req.url = NULL;
    AK_ASSERT_EQ_INT(ak_httpc_do(&req, &resp, &err), AK_EINVAL);
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
}

AK_TEST(connection_refused_is_eio)
{
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char url[64];
    int port;
    int fd = bound_socket(&port); /* bound, never listening: connections are refused */

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/secret-path?token=abc", port);
    ak_httpc_resp_init(&resp);
    req.url = url;
    req.timeout_ms = 2000;
    AK_ASSERT_EQ_INT(ak_httpc_do(&req, &resp, &err), AK_EIO);
    close(fd);
    AK_ASSERT_EQ_INT(resp.status, 0);
    AK_ASSERT_CONTAINS(err.buf, "127.0.0.1");
    /* the URL's path and query may be secrets: never in the message */
    AK_ASSERT(strstr(err.buf, "secret-path") == NULL);
    AK_ASSERT(strstr(err.buf, "token") == NULL);
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
}

AK_TEST(post_sends_body_and_headers)
{
    static const char *const headers[] = {"X-Ak-Test: yes", "Content-Type: application/json",
                                          NULL};
    static const char body[] = "{\"text\":\"hi\\u0000there\"}";
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    size_t blen = sizeof(body) - 1;
    int r;

    srv_start(&s, SRV_ECHO, 1);
    ak_httpc_resp_init(&resp);
    req.url = s.url;
    req.method = "POST";
    req.headers = headers;
    req.body = body;
    req.body_len = blen;
    r = ak_httpc_do(&req, &resp, NULL);
    srv_stop(&s);
    AK_ASSERT_OK(r);
    AK_ASSERT_EQ_INT(resp.status, 200);
    AK_ASSERT_STR(resp.content_type, "application/octet-stream");
    AK_ASSERT(strncmp(resp.body.buf, "POST / HTTP/1.1\r\n", 17) == 0);
    AK_ASSERT_CONTAINS(resp.body.buf, "\r\nX-Ak-Test: yes\r\n");
    AK_ASSERT_CONTAINS(resp.body.buf, "\r\nContent-Type: application/json\r\n");
    AK_ASSERT_CONTAINS(resp.body.buf, "\r\nUser-Agent: asakai/");
    AK_ASSERT(strstr(resp.body.buf, "Expect:") == NULL);
    AK_ASSERT(resp.body.len > blen);
    AK_ASSERT_MEM(resp.body.buf + resp.body.len - blen, body, blen);
    ak_httpc_resp_release(&resp);
}

AK_TEST(url_escape)
{
    char *e = ak_url_escape("a b&c=d/\xc3\xa9?");

    AK_ASSERT_STR(e, "a%20b%26c%3Dd%2F%C3%A9%3F");
    free(e);
    e = ak_url_escape("AZaz09-._~");
    AK_ASSERT_STR(e, "AZaz09-._~");
    free(e);
    e = ak_url_escape("");
    AK_ASSERT_STR(e, "");
    free(e);
    AK_ASSERT_NULL(ak_url_escape(NULL));
    ak_httpc_global_cleanup();
}

AK_TEST_MAIN(AK_T(get_200_body_and_content_type), AK_T(redirect_not_followed_by_default),
             AK_T(redirect_followed_when_asked), AK_T(redirect_to_file_scheme_refused),
             AK_T(body_over_cap_is_toobig), AK_T(slow_server_times_out), AK_T(scheme_policy),
             AK_T(connection_refused_is_eio), AK_T(post_sends_body_and_headers),
             AK_T(url_escape))
