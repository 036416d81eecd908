/* test_httpc.c — ak_httpc_do and the multi against tiny HTTP servers on 127.0.0.1 in threads. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
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
    SRV_CANNED,        /* answers with the bytes in srv.canned */
};

struct srv {
    int fd;
    int port;
    int conns; /* connections to serve before the thread exits */
    size_t body_size;
    enum srv_mode mode;
    const char *canned;
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
    case SRV_CANNED:
        send_str(c, s->canned);
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

/* ---- Retry-After ---- */

static int64_t retry_after_of(const char *canned, long *ret_status)
{
    struct srv s = {0};
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    int64_t v;

    ak_httpc_global_init();
    s.canned = canned;
    srv_start(&s, SRV_CANNED, 1);
    ak_httpc_resp_init(&resp);
    req.url = s.url;
    if (ak_httpc_do(&req, &resp, NULL) != AK_OK)
        resp.retry_after_ms = -1;
    srv_stop(&s);
    *ret_status = resp.status;
    v = resp.retry_after_ms;
    ak_httpc_resp_release(&resp);
    return v;
}

AK_TEST(retry_after_seconds_and_date)
{
    long status = 0;

    AK_ASSERT_EQ_INT(retry_after_of("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n", &status),
                     7000);
    AK_ASSERT_EQ_INT(status, 429);
    /* an HTTP-date 90 s after the response's own Date header, whatever our clock says */
    AK_ASSERT_EQ_INT(retry_after_of("HTTP/1.1 503 Service Unavailable\r\n"
                                    "Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                                    "Retry-After: Wed, 21 Oct 2015 07:29:30 GMT\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n", &status),
                     90000);
    AK_ASSERT_EQ_INT(status, 503);
    /* capped at one hour */
    AK_ASSERT_EQ_INT(retry_after_of("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 86400\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n", &status),
                     3600000);
    /* a date in the past, garbage, a negative number, or none: 0 */
    AK_ASSERT_EQ_INT(retry_after_of("HTTP/1.1 429 Too Many Requests\r\n"
                                    "Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                                    "Retry-After: Wed, 21 Oct 2015 07:00:00 GMT\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n", &status),
                     0);
    AK_ASSERT_EQ_INT(retry_after_of("HTTP/1.1 429 Too Many Requests\r\nRetry-After: soon\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n", &status),
                     0);
    AK_ASSERT_EQ_INT(retry_after_of("HTTP/1.1 429 Too Many Requests\r\nRetry-After: -5\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n", &status),
                     0);
    AK_ASSERT_EQ_INT(retry_after_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                    "Connection: close\r\n\r\n", &status), 0);
    AK_ASSERT_EQ_INT(status, 200);
}

/* ---- SMTP: a tiny server that speaks enough of RFC 5321 for libcurl ---- */

enum smtp_mode {
    SMTP_ACCEPT,
    SMTP_REJECT_RCPT, /* 550 to every RCPT */
    SMTP_HANG,        /* never answers the end of DATA */
    SMTP_AUTH_FAIL,   /* 535 to AUTH */
};

struct smtp_srv {
    int fd, port;
    enum smtp_mode mode;
    bool offer_auth;
    pthread_t thread;
    char url[64];
    /* what arrived */
    char from[256];
    char rcpt[4][256];
    int n_rcpt;
    char auth[512]; /* the AUTH PLAIN credentials, base64 as sent */
    char *data;     /* the message, dot-stuffing undone */
    size_t data_len;
    bool quit, starttls;
};

struct lineio {
    int fd;
    char buf[16384];
    size_t len;
};

/* One CRLF-terminated line into out (without CRLF); false on EOF, timeout or overlong line. */
static bool smtp_getline(struct lineio *io, char *out, size_t cap)
{
    for (;;) {
        char *eol = memchr(io->buf, '\n', io->len);
        ssize_t k;

        if (eol) {
            size_t n = (size_t)(eol - io->buf) + 1, l = n;

            if (l >= 2 && io->buf[l - 2] == '\r')
                l -= 2;
            else
                l -= 1;
            if (l >= cap)
                return false;
            memcpy(out, io->buf, l);
            out[l] = 0;
            memmove(io->buf, io->buf + n, io->len - n);
            io->len -= n;
            return true;
        }
        if (io->len == sizeof(io->buf) || !wait_readable(io->fd, 3000))
            return false;
        k = recv(io->fd, io->buf + io->len, sizeof(io->buf) - io->len, 0);
        if (k <= 0)
            return false;
        io->len += (size_t)k;
    }
}

static void smtp_angle(const char *line, char *out, size_t cap)
{
    const char *a = strchr(line, '<'), *b = a ? strchr(a, '>') : NULL;

    snprintf(out, cap, "%.*s", a && b ? (int)(b - a - 1) : 0, a ? a + 1 : "");
}

static void smtp_data(struct smtp_srv *s, struct lineio *io, char *line, size_t cap)
{
    send_str(io->fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
    while (smtp_getline(io, line, cap)) {
        const char *l = line;
        size_t n;

        if (strcmp(line, ".") == 0) {
            if (s->mode == SMTP_HANG)
                (void)wait_readable(io->fd, 5000);
            else
                send_str(io->fd, "250 2.0.0 Ok: queued as 1\r\n");
            return;
        }
        if (l[0] == '.')
            l++; /* RFC 5321 4.5.2: undo the transparency dot */
        n = strlen(l);
        s->data = realloc(s->data, s->data_len + n + 3);
        memcpy(s->data + s->data_len, l, n);
        memcpy(s->data + s->data_len + n, "\r\n", 3);
        s->data_len += n + 2;
    }
}

static void smtp_auth(struct smtp_srv *s, struct lineio *io, const char *line, char *buf,
                      size_t cap)
{
    if (strlen(line) > 11) /* "AUTH PLAIN <initial response>" */
        snprintf(s->auth, sizeof(s->auth), "%.500s", line + 11);
    else {
        send_str(io->fd, "334 \r\n");
        if (!smtp_getline(io, buf, cap))
            return;
        snprintf(s->auth, sizeof(s->auth), "%.500s", buf);
    }
    send_str(io->fd, s->mode == SMTP_AUTH_FAIL ? "535 5.7.8 Authentication credentials invalid\r\n"
                                               : "235 2.7.0 Authentication successful\r\n");
}

static void smtp_session(struct smtp_srv *s, int c)
{
    static struct lineio io; /* one session at a time; too big for a thread stack frame */
    char line[2048], extra[2048];

    memset(&io, 0, sizeof(io));
    io.fd = c;
    send_str(c, "220 test.local ESMTP\r\n");
    while (smtp_getline(&io, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0) {
            send_str(c, "250-test.local\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
            send_str(c, s->offer_auth ? "250-AUTH PLAIN\r\n250 SIZE 1000000\r\n"
                                      : "250 SIZE 1000000\r\n");
        } else if (strncasecmp(line, "HELO", 4) == 0) {
            send_str(c, "250 test.local\r\n");
        } else if (strncasecmp(line, "STARTTLS", 8) == 0) {
            s->starttls = true;
            send_str(c, "454 4.7.0 TLS not available\r\n");
        } else if (strncasecmp(line, "AUTH PLAIN", 10) == 0) {
            smtp_auth(s, &io, line, extra, sizeof(extra));
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            smtp_angle(line, s->from, sizeof(s->from));
            send_str(c, "250 2.1.0 Ok\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            if (s->mode == SMTP_REJECT_RCPT) {
                send_str(c, "550 5.7.1 Relaying denied\r\n");
                continue;
            }
            if (s->n_rcpt < 4)
                smtp_angle(line, s->rcpt[s->n_rcpt++], sizeof(s->rcpt[0]));
            send_str(c, "250 2.1.5 Ok\r\n");
        } else if (strcasecmp(line, "DATA") == 0) {
            smtp_data(s, &io, line, sizeof(line));
            if (s->mode == SMTP_HANG)
                return;
        } else if (strcasecmp(line, "QUIT") == 0) {
            s->quit = true;
            send_str(c, "221 2.0.0 Bye\r\n");
            return;
        } else if (strcasecmp(line, "RSET") == 0 || strcasecmp(line, "NOOP") == 0) {
            send_str(c, "250 2.0.0 Ok\r\n");
        } else {
            send_str(c, "502 5.5.2 Command not recognized\r\n");
        }
    }
}

static void *smtp_main(void *arg)
{
    struct smtp_srv *s = arg;
    int c;

    if (!wait_readable(s->fd, 5000))
        return NULL;
    c = accept(s->fd, NULL, NULL);
    if (c >= 0) {
        smtp_session(s, c);
        close(c);
    }
    return NULL;
}

/* Listens on addr (IPv4, NULL = 127.0.0.1) at a free port and serves one session. */
static void smtp_start_on(struct smtp_srv *s, enum smtp_mode mode, bool offer_auth,
                          const char *addr)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);

    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->offer_auth = offer_auth;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || inet_pton(AF_INET, addr ? addr : "127.0.0.1", &a.sin_addr) != 1 ||
        bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0 || listen(s->fd, 8) < 0 ||
        pthread_create(&s->thread, NULL, smtp_main, s) != 0) {
        perror("smtp server");
        abort();
    }
    s->port = ntohs(a.sin_port);
    snprintf(s->url, sizeof(s->url), "smtp://%s:%d", addr ? addr : "127.0.0.1", s->port);
}

static void smtp_start(struct smtp_srv *s, enum smtp_mode mode, bool offer_auth)
{
    smtp_start_on(s, mode, offer_auth, NULL);
}

/* An IPv4 address of this machine that is not loopback, or false. */
static bool non_loopback_addr(char *out, size_t n)
{
    struct ifaddrs *ifs = NULL;
    bool found = false;

    if (getifaddrs(&ifs) != 0)
        return false;
    for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)(const void *)i->ifa_addr;

        if (!sa || sa->sin_family != AF_INET || (ntohl(sa->sin_addr.s_addr) >> 24) == 127)
            continue;
        found = inet_ntop(AF_INET, &sa->sin_addr, out, (socklen_t)n) != NULL;
    }
    freeifaddrs(ifs);
    return found;
}

/* Waits for the session to end; the caller inspects and frees s->data. */
static void smtp_join(struct smtp_srv *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lines starting with a dot (stuffed by curl, unstuffed by the server), a lone dot, 8-bit. */
static const char test_msg[] = "From: asakai <asakai@example.com>\r\n"
                               "To: sre@example.com\r\n"
                               "Subject: [asakai] RDS maintenance\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "\r\n"
                               "line one\r\n"
                               ".leading dot\r\n"
                               ".\r\n"
                               "..two dots\r\n"
                               "caf\xc3\xa9 02:00 JST\r\n";

static const char *const two_rcpt[] = {"sre@example.com", "oncall@example.org", NULL};

AK_TEST(smtp_delivers_byte_exact)
{
    struct smtp_srv s;
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    ak_httpc_global_init();
    smtp_start(&s, SMTP_ACCEPT, false);
    req.url = s.url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    req.timeout_ms = 5000;
    r = ak_smtp_send(&req, &err);
    smtp_join(&s);
    AK_ASSERT_OK(r);
    AK_ASSERT_EQ_INT(err.len, 0);
    AK_ASSERT_STR(s.from, "asakai@example.com");
    AK_ASSERT_EQ_INT(s.n_rcpt, 2);
    AK_ASSERT_STR(s.rcpt[0], "sre@example.com");
    AK_ASSERT_STR(s.rcpt[1], "oncall@example.org");
    AK_ASSERT_EQ_INT(s.data_len, sizeof(test_msg) - 1);
    AK_ASSERT_MEM(s.data, test_msg, sizeof(test_msg) - 1);
    AK_ASSERT(s.quit);
    AK_ASSERT(!s.starttls); /* starttls 0: never asked */
    AK_ASSERT(s.auth[0] == 0);
    free(s.data);
    ak_buf_release(&err);
}

AK_TEST(smtp_rcpt_550_is_forbidden)
{
    struct smtp_srv s;
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    ak_httpc_global_init();
    smtp_start(&s, SMTP_REJECT_RCPT, false);
    req.url = s.url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    r = ak_smtp_send(&req, &err);
    smtp_join(&s);
    AK_ASSERT_EQ_INT(r, AK_EFORBIDDEN);
    AK_ASSERT_CONTAINS(err.buf, "550 5.7.1 Relaying denied");
    AK_ASSERT_CONTAINS(err.buf, "127.0.0.1");
    AK_ASSERT_EQ_INT(s.data_len, 0); /* nothing was sent */
    free(s.data);
    ak_buf_release(&err);
}

AK_TEST(smtp_hang_times_out)
{
    struct smtp_srv s;
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int64_t t0;
    int r;

    ak_httpc_global_init();
    smtp_start(&s, SMTP_HANG, false);
    req.url = s.url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    req.timeout_ms = 700;
    t0 = mono_ms();
    r = ak_smtp_send(&req, &err);
    t0 = mono_ms() - t0;
    smtp_join(&s);
    AK_ASSERT_EQ_INT(r, AK_ETIMEDOUT);
    AK_ASSERT_CONTAINS(err.buf, "timed out");
    AK_ASSERT(t0 >= 600 && t0 < 3000);
    free(s.data);
    ak_buf_release(&err);
}

AK_TEST(smtp_connection_refused_is_eio)
{
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char url[64];
    int port, fd;

    ak_httpc_global_init();
    fd = bound_socket(&port); /* bound, never listening: connect() is refused */
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
    req.url = url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    AK_ASSERT_EQ_INT(ak_smtp_send(&req, &err), AK_EIO);
    close(fd);
    AK_ASSERT_CONTAINS(err.buf, "127.0.0.1");
    ak_buf_release(&err);
}

AK_TEST(smtp_auth_plain_over_loopback)
{
    struct smtp_srv s;
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    ak_httpc_global_init();
    smtp_start(&s, SMTP_ACCEPT, true);
    req.url = s.url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.username = "asakai";
    req.password = "s3cret-pw";
    req.starttls = -1; /* not offered by this server: carries on in clear text */
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    r = ak_smtp_send(&req, &err);
    smtp_join(&s);
    AK_ASSERT_OK(r);
    /* base64("\0asakai\0s3cret-pw"): libcurl 7.88 does AUTH PLAIN without TLS when offered */
    AK_ASSERT_STR(s.auth, "AGFzYWthaQBzM2NyZXQtcHc=");
    AK_ASSERT_EQ_INT(s.data_len, sizeof(test_msg) - 1);
    free(s.data);
    ak_buf_release(&err);
}

AK_TEST(smtp_auth_failure_hides_password)
{
    struct smtp_srv s;
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    ak_httpc_global_init();
    smtp_start(&s, SMTP_AUTH_FAIL, true);
    req.url = s.url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.username = "asakai";
    req.password = "s3cret-pw";
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    r = ak_smtp_send(&req, &err);
    smtp_join(&s);
    AK_ASSERT_EQ_INT(r, AK_EFORBIDDEN);
    AK_ASSERT_CONTAINS(err.buf, "535");
    AK_ASSERT(strstr(err.buf, "s3cret") == NULL);
    AK_ASSERT(strstr(err.buf, "AGFzYWthaQBzM2NyZXQtcHc=") == NULL);
    AK_ASSERT_EQ_INT(s.data_len, 0);
    free(s.data);
    ak_buf_release(&err);
}

AK_TEST(smtp_starttls_required_but_missing)
{
    struct smtp_srv s;
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    int r;

    ak_httpc_global_init();
    smtp_start(&s, SMTP_ACCEPT, true);
    req.url = s.url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.username = "asakai";
    req.password = "s3cret-pw";
    req.starttls = 1;
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    r = ak_smtp_send(&req, &err);
    smtp_join(&s);
    AK_ASSERT_EQ_INT(r, AK_EFORBIDDEN);
    AK_ASSERT_CONTAINS(err.buf, "TLS");
    AK_ASSERT(s.auth[0] == 0); /* the password never left */
    AK_ASSERT_EQ_INT(s.data_len, 0);
    free(s.data);
    ak_buf_release(&err);
}

AK_TEST(smtp_password_to_remote_host_requires_tls)
{
    struct smtp_srv s;
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char addr[64];
    int r;

    if (!non_loopback_addr(addr, sizeof(addr)))
        AK_SKIP("this machine has no IPv4 address besides loopback");
    ak_httpc_global_init();
    /* starttls -1 ("when offered") with a password for a remote host means "required": this
     * server does not offer STARTTLS, so nothing but EHLO happens */
    smtp_start_on(&s, SMTP_ACCEPT, true, addr);
    req.url = s.url;
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.username = "asakai";
    req.password = "s3cret-pw";
    req.starttls = -1;
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    req.timeout_ms = 5000;
    r = ak_smtp_send(&req, &err);
    smtp_join(&s);
    AK_ASSERT_EQ_INT(r, AK_EFORBIDDEN);
    AK_ASSERT_CONTAINS(err.buf, "TLS"); /* libcurl: "STARTTLS not supported." */
    AK_ASSERT(s.auth[0] == 0);
    AK_ASSERT(s.from[0] == 0);
    free(s.data);
    ak_buf_release(&err);
}

AK_TEST(smtp_request_checks)
{
    static const char *const crlf_rcpt[] = {"a@example.com\r\nRCPT TO:<evil@example.com>", NULL};
    static const char *const none[] = {NULL};
    struct ak_smtp_req req = {0};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_httpc_global_init();
    req.from = "asakai@example.com";
    req.rcpt = two_rcpt;
    req.message = test_msg;
    req.message_len = sizeof(test_msg) - 1;
    /* a password in clear text to another machine: refused before any connection */
    req.url = "smtp://192.0.2.1:25";
    req.username = "asakai";
    req.password = "s3cret-pw";
    req.starttls = 0;
    AK_ASSERT_EQ_INT(ak_smtp_send(&req, &err), AK_EFORBIDDEN);
    AK_ASSERT_CONTAINS(err.buf, "clear text");
    req.starttls = -1;
    req.username = req.password = NULL;
    req.url = "http://127.0.0.1:25";
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_smtp_send(&req, &err), AK_EFORBIDDEN);
    req.url = "smtp://127.0.0.1:25";
    req.rcpt = crlf_rcpt;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_smtp_send(&req, &err), AK_EINVAL);
    req.rcpt = none;
    AK_ASSERT_EQ_INT(ak_smtp_send(&req, &err), AK_EINVAL);
    req.rcpt = two_rcpt;
    req.from = "a b@example.com";
    AK_ASSERT_EQ_INT(ak_smtp_send(&req, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_smtp_send(NULL, &err), AK_EINVAL);
    ak_buf_release(&err);
}

/* ---- many at once (libcurl multi): a threaded keep-alive server, one thread per connection ----
 *
 * The request target picks the answer: /hang never answers; /big?n=N sends N bytes (with
 * Content-Length, or without it and closing with &nocl); /echo sends the raw request back; /ra
 * is a 429 with Retry-After; anything else waits ?d=MS and answers its own path as the body. */

#define MSRV_CONNS 64
#define MSRV_LOG 256

struct msrv {
    int fd, port;
    pthread_t thread;
    pthread_t workers[MSRV_CONNS];
    int n_conns; /* accepted connections; read after msrv_stop */
    pthread_mutex_t mu;
    bool stop;
    int n_log;
    struct {
        char path[64];
        int64_t at;
    } log[MSRV_LOG];
    char base[64];
};

struct mconn {
    struct msrv *s;
    int fd;
};

static bool msrv_stopped(struct msrv *s)
{
    bool stop;

    pthread_mutex_lock(&s->mu);
    stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* Waits up to ms for fd to become readable, giving up early when the server stops. */
static bool msrv_wait(struct msrv *s, int fd, int ms)
{
    for (int waited = 0; waited < ms && !msrv_stopped(s); waited += 20)
        if (wait_readable(fd, 20))
            return true;
    return false;
}

static long query_num(const char *target, const char *key)
{
    const char *q = strchr(target, '?'), *p;
    long n = 0;

    if (!q || !(p = strstr(q, key)))
        return 0;
    for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (*p - '0');
    return n;
}

/* Answers one request; false when the connection is to be closed. */
static bool mrespond(struct msrv *s, int c, const char *req, size_t reqlen)
{
    char target[256], path[64], head[256];
    long delay;

    if (sscanf(req, "%*s %255s", target) != 1)
        return false;
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(target, "?"), target);
    pthread_mutex_lock(&s->mu);
    if (s->n_log < MSRV_LOG) {
        snprintf(s->log[s->n_log].path, sizeof(s->log[0].path), "%s", path);
        s->log[s->n_log++].at = mono_ms();
    }
    pthread_mutex_unlock(&s->mu);
    if (strcmp(path, "/hang") == 0) {
        (void)msrv_wait(s, c, 5000); /* until the client gives up and closes */
        return false;
    }
    if (strcmp(path, "/big") == 0) {
        size_t n = (size_t)query_num(target, "n=");
        bool nocl = strstr(target, "nocl") != NULL;
        char *big = malloc(n + 1);

        if (nocl)
            snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        else
            snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
        send_str(c, head);
        memset(big, 'x', n);
        send_all(c, big, n);
        free(big);
        return !nocl;
    }
    if (strcmp(path, "/echo") == 0) {
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", reqlen);
        send_str(c, head);
        send_all(c, req, reqlen);
        return true;
    }
    if (strcmp(path, "/ra") == 0) {
        send_str(c, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n"
                    "Content-Length: 0\r\n\r\n");
        return true;
    }
    delay = query_num(target, "d=");
    if (delay > 0)
        (void)poll(NULL, 0, (int)delay);
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
             "Content-Length: %zu\r\n\r\n", strlen(path));
    send_str(c, head);
    send_str(c, path);
    return true;
}

static void *mconn_main(void *arg)
{
    struct mconn *mc = arg;
    char *req = malloc(REQ_MAX);
    size_t n;

    while (msrv_wait(mc->s, mc->fd, 5000)) {
        n = read_request(mc->fd, req);
        if (n == 0 || !mrespond(mc->s, mc->fd, req, n))
            break;
    }
    close(mc->fd);
    free(req);
    free(mc);
    return NULL;
}

static void *msrv_main(void *arg)
{
    struct msrv *s = arg;

    while (!msrv_stopped(s)) {
        struct mconn *mc;
        int c;

        if (!wait_readable(s->fd, 20))
            continue;
        c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        if (s->n_conns == MSRV_CONNS) {
            close(c);
            continue;
        }
        mc = malloc(sizeof(*mc));
        mc->s = s;
        mc->fd = c;
        if (pthread_create(&s->workers[s->n_conns], NULL, mconn_main, mc) != 0)
            abort();
        s->n_conns++;
    }
    for (int i = 0; i < s->n_conns; i++)
        pthread_join(s->workers[i], NULL);
    return NULL;
}

static void msrv_start(struct msrv *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->fd = bound_socket(&s->port);
    if (listen(s->fd, 64) < 0 || pthread_create(&s->thread, NULL, msrv_main, s) != 0) {
        perror("listen");
        abort();
    }
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
}

static void msrv_stop(struct msrv *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

/* When the server saw path first, -1 if never. */
static int64_t msrv_arrival(struct msrv *s, const char *path)
{
    int64_t at = -1;

    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n_log && at < 0; i++)
        if (strcmp(s->log[i].path, path) == 0)
            at = s->log[i].at;
    pthread_mutex_unlock(&s->mu);
    return at;
}

/* What one callback saw. */
struct mres {
    int calls;
    int rc;
    long status;
    char body[1024];
    size_t body_len;
    char ct[64];
    char err[256];
    int64_t retry_after_ms;
    int64_t at;
    int seq;
};

static int mres_seq;

static void mres_done(void *arg, int rc, struct ak_httpc_resp *resp, const char *err)
{
    struct mres *r = arg;

    r->calls++;
    r->rc = rc;
    r->status = resp->status;
    r->body_len = resp->body.len;
    snprintf(r->body, sizeof(r->body), "%s", resp->body.buf);
    snprintf(r->ct, sizeof(r->ct), "%s", resp->content_type ? resp->content_type : "");
    snprintf(r->err, sizeof(r->err), "%s", err ? err : "(null)");
    r->retry_after_ms = resp->retry_after_ms;
    r->at = mono_ms();
    r->seq = ++mres_seq;
}

static int madd(struct ak_httpc_multi *m, const char *url, int64_t delay_ms, struct mres *r)
{
    struct ak_httpc_req req = {0};

    req.url = url;
    req.timeout_ms = 5000;
    return ak_httpc_multi_add(m, &req, delay_ms, mres_done, r);
}

AK_TEST(multi_fifty_with_eight_in_flight)
{
    struct ak_httpc_multi *m = NULL;
    struct mres res[60];
    char url[128], want[64];
    struct msrv s;
    int r;

    ak_httpc_global_init();
    memset(res, 0, sizeof(res));
    msrv_start(&s);
    AK_ASSERT_OK(ak_httpc_multi_new(8, &m));
    for (int i = 0; i < 50; i++) {
        snprintf(url, sizeof(url), "%s/item/%d?d=30", s.base, i);
        AK_ASSERT_OK(madd(m, url, 0, &res[i]));
    }
    AK_ASSERT_EQ_INT(res[0].calls, 0); /* nothing happens before run */
    r = ak_httpc_multi_run(m);
    AK_ASSERT_OK(r);
    AK_ASSERT_EQ_INT(ak_httpc_multi_done_count(m), 50);
    AK_ASSERT(ak_httpc_multi_peak(m) > 1);
    AK_ASSERT(ak_httpc_multi_peak(m) <= 8);
    for (int i = 0; i < 50; i++) {
        snprintf(want, sizeof(want), "/item/%d", i);
        AK_ASSERT_EQ_INT(res[i].calls, 1);
        AK_ASSERT_OK(res[i].rc);
        AK_ASSERT_EQ_INT(res[i].status, 200);
        AK_ASSERT_STR(res[i].body, want);
        AK_ASSERT_STR(res[i].ct, "text/plain");
        AK_ASSERT_STR(res[i].err, "");
    }
    /* a second run on the same multi: counters are per run, connections are still reused */
    for (int i = 50; i < 60; i++) {
        snprintf(url, sizeof(url), "%s/again/%d", s.base, i);
        AK_ASSERT_OK(madd(m, url, 0, &res[i]));
    }
    AK_ASSERT_OK(ak_httpc_multi_run(m));
    AK_ASSERT_EQ_INT(ak_httpc_multi_done_count(m), 10);
    for (int i = 50; i < 60; i++) {
        snprintf(want, sizeof(want), "/again/%d", i);
        AK_ASSERT_STR(res[i].body, want);
    }
    ak_httpc_multi_free(m);
    msrv_stop(&s);
    /* keep-alive: 60 requests over at most max_in_flight connections */
    AK_ASSERT(s.n_conns >= 1);
    AK_ASSERT(s.n_conns <= 8);
}

/* A paginated listing: each page's callback asks for the next one. */
struct chain {
    struct ak_httpc_multi *m;
    const char *base;
    char name;
    int n;
    char got[5][32];
    int add_rc;
};

static void chain_done(void *arg, int rc, struct ak_httpc_resp *resp, const char *err)
{
    struct chain *c = arg;
    struct ak_httpc_req req = {0};
    char url[128];

    (void)err;
    if (rc != AK_OK || c->n >= 5)
        return;
    snprintf(c->got[c->n++], sizeof(c->got[0]), "%s", resp->body.buf);
    if (c->n == 5)
        return;
    snprintf(url, sizeof(url), "%s/pages/%c/%d?d=10", c->base, c->name, c->n + 1);
    req.url = url; /* a stack buffer: add must copy it */
    c->add_rc |= ak_httpc_multi_add(c->m, &req, 0, chain_done, c);
}

AK_TEST(multi_callback_adds_next_page)
{
    struct ak_httpc_multi *m = NULL;
    struct chain a = {0}, b = {0};
    struct ak_httpc_req req = {0};
    char url[128], want[32];
    struct msrv s;

    ak_httpc_global_init();
    msrv_start(&s);
    AK_ASSERT_OK(ak_httpc_multi_new(4, &m));
    a.m = b.m = m;
    a.base = b.base = s.base;
    a.name = 'a';
    b.name = 'b';
    snprintf(url, sizeof(url), "%s/pages/a/1?d=10", s.base);
    req.url = url;
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, 0, chain_done, &a));
    snprintf(url, sizeof(url), "%s/pages/b/1?d=10", s.base);
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, 0, chain_done, &b));
    AK_ASSERT_OK(ak_httpc_multi_run(m));
    AK_ASSERT_EQ_INT(ak_httpc_multi_done_count(m), 10);
    AK_ASSERT_EQ_INT(a.add_rc, 0);
    AK_ASSERT_EQ_INT(b.add_rc, 0);
    AK_ASSERT_EQ_INT(a.n, 5);
    AK_ASSERT_EQ_INT(b.n, 5);
    for (int i = 0; i < 5; i++) {
        snprintf(want, sizeof(want), "/pages/a/%d", i + 1);
        AK_ASSERT_STR(a.got[i], want);
        snprintf(want, sizeof(want), "/pages/b/%d", i + 1);
        AK_ASSERT_STR(b.got[i], want);
    }
    /* the two chains ran side by side */
    AK_ASSERT_EQ_INT(ak_httpc_multi_peak(m), 2);
    ak_httpc_multi_free(m);
    msrv_stop(&s);
}

AK_TEST(multi_delay_is_honoured)
{
    struct ak_httpc_multi *m = NULL;
    struct mres late = {0}, mid = {0}, early = {0};
    char u1[128], u2[128], u3[128];
    int64_t t0, t_late, t_mid, t_early;
    struct msrv s;

    ak_httpc_global_init();
    msrv_start(&s);
    /* one slot: a waiting request must not hold it */
    AK_ASSERT_OK(ak_httpc_multi_new(1, &m));
    snprintf(u1, sizeof(u1), "%s/late", s.base);
    snprintf(u2, sizeof(u2), "%s/mid", s.base);
    snprintf(u3, sizeof(u3), "%s/early", s.base);
    t0 = mono_ms();
    AK_ASSERT_OK(madd(m, u1, 400, &late));
    AK_ASSERT_OK(madd(m, u2, 200, &mid));
    AK_ASSERT_OK(madd(m, u3, 0, &early));
    AK_ASSERT_OK(ak_httpc_multi_run(m));
    t_late = msrv_arrival(&s, "/late");
    t_mid = msrv_arrival(&s, "/mid");
    t_early = msrv_arrival(&s, "/early");
    AK_ASSERT(t_late - t0 >= 400);
    AK_ASSERT(t_mid - t0 >= 200);
    AK_ASSERT(t_mid - t0 < 400);
    AK_ASSERT(t_early >= t0);
    AK_ASSERT(t_early - t0 < 200);
    AK_ASSERT(late.at - t0 < 3000);
    AK_ASSERT_EQ_INT(early.seq + 1, mid.seq);
    AK_ASSERT_EQ_INT(mid.seq + 1, late.seq);
    AK_ASSERT_STR(late.body, "/late");
    AK_ASSERT_EQ_INT(ak_httpc_multi_peak(m), 1);
    ak_httpc_multi_free(m);
    msrv_stop(&s);
}

AK_TEST(multi_timeout_and_retry_after)
{
    struct ak_httpc_multi *m = NULL;
    struct ak_httpc_req req = {0};
    struct mres hang = {0}, quick = {0}, ra = {0};
    char u1[128], u2[128], u3[128];
    int64_t t0;
    struct msrv s;

    ak_httpc_global_init();
    msrv_start(&s);
    AK_ASSERT_OK(ak_httpc_multi_new(4, &m));
    snprintf(u1, sizeof(u1), "%s/hang", s.base);
    snprintf(u2, sizeof(u2), "%s/quick", s.base);
    snprintf(u3, sizeof(u3), "%s/ra", s.base);
    req.url = u1;
    req.timeout_ms = 300;
    t0 = mono_ms();
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, 0, mres_done, &hang));
    AK_ASSERT_OK(madd(m, u2, 0, &quick));
    AK_ASSERT_OK(madd(m, u3, 0, &ra));
    AK_ASSERT_OK(ak_httpc_multi_run(m));
    AK_ASSERT_EQ_INT(hang.rc, AK_ETIMEDOUT);
    AK_ASSERT_EQ_INT(hang.status, 0);
    AK_ASSERT_CONTAINS(hang.err, "timed out");
    AK_ASSERT_CONTAINS(hang.err, "127.0.0.1");
    AK_ASSERT(hang.at - t0 >= 250 && hang.at - t0 < 3000);
    /* the hanging request held nobody up */
    AK_ASSERT_OK(quick.rc);
    AK_ASSERT_STR(quick.body, "/quick");
    AK_ASSERT(quick.seq < hang.seq);
    /* a 429 is a response (rc AK_OK) and its Retry-After is parsed as in ak_httpc_do */
    AK_ASSERT_OK(ra.rc);
    AK_ASSERT_EQ_INT(ra.status, 429);
    AK_ASSERT_EQ_INT(ra.retry_after_ms, 3000);
    AK_ASSERT_EQ_INT(ak_httpc_multi_done_count(m), 3);
    ak_httpc_multi_free(m);
    msrv_stop(&s);
}

AK_TEST(multi_response_over_cap_is_toobig)
{
    struct ak_httpc_multi *m = NULL;
    struct ak_httpc_req req = {0};
    struct mres cl = {0}, nocl = {0}, exact = {0};
    char u1[128], u2[128], u3[128];
    struct msrv s;

    ak_httpc_global_init();
    msrv_start(&s);
    AK_ASSERT_OK(ak_httpc_multi_new(3, &m));
    snprintf(u1, sizeof(u1), "%s/big?n=5000", s.base);
    snprintf(u2, sizeof(u2), "%s/big?n=300000&nocl", s.base);
    snprintf(u3, sizeof(u3), "%s/big?n=1000", s.base);
    req.max_response = 1000;
    req.url = u1;
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, 0, mres_done, &cl));
    req.url = u2;
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, 0, mres_done, &nocl));
    req.url = u3;
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, 0, mres_done, &exact));
    AK_ASSERT_OK(ak_httpc_multi_run(m));
    AK_ASSERT_EQ_INT(cl.rc, AK_ETOOBIG);
    AK_ASSERT_CONTAINS(cl.err, "larger than 1000 bytes");
    AK_ASSERT(cl.body_len <= 1000);
    AK_ASSERT_EQ_INT(nocl.rc, AK_ETOOBIG);
    AK_ASSERT(nocl.body_len <= 1000);
    AK_ASSERT_OK(exact.rc);
    AK_ASSERT_EQ_INT(exact.body_len, 1000);
    AK_ASSERT_STR(exact.err, "");
    ak_httpc_multi_free(m);
    msrv_stop(&s);
}

AK_TEST(multi_refused_requests_report_through_done)
{
    struct ak_httpc_multi *m = NULL, *untouched = (struct ak_httpc_multi *)&m;
    struct ak_httpc_req req = {0};
    struct mres https = {0}, ftp = {0}, nourl = {0}, refused = {0};
    char u1[128], u2[128];
    struct msrv s;
    int port, fd;

    ak_httpc_global_init();
    AK_ASSERT_EQ_INT(ak_httpc_multi_new(0, &untouched), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_httpc_multi_new(-3, &untouched), AK_EINVAL);
    AK_ASSERT(untouched == (struct ak_httpc_multi *)&m);
    AK_ASSERT_EQ_INT(ak_httpc_multi_new(2, NULL), AK_EINVAL);
    msrv_start(&s);
    fd = bound_socket(&port); /* bound, never listening: connections are refused */
    AK_ASSERT_OK(ak_httpc_multi_new(2, &m));
    snprintf(u1, sizeof(u1), "%s/never", s.base);
    req.url = u1;
    req.https_only = true;
    AK_ASSERT_EQ_INT(ak_httpc_multi_add(m, &req, 0, mres_done, &https), AK_EINVAL);
    req.https_only = false;
    req.url = "ftp://127.0.0.1/";
    AK_ASSERT_EQ_INT(ak_httpc_multi_add(m, &req, 500, mres_done, &ftp), AK_EINVAL);
    req.url = NULL;
    AK_ASSERT_EQ_INT(ak_httpc_multi_add(m, &req, 0, mres_done, &nourl), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_httpc_multi_add(m, NULL, 0, NULL, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_httpc_multi_add(NULL, &req, 0, mres_done, &nourl), AK_EINVAL);
    snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/secret-path?token=abc", port);
    AK_ASSERT_OK(madd(m, u2, 0, &refused));
    AK_ASSERT_EQ_INT(https.calls, 0); /* reported from run, not from add */
    AK_ASSERT_OK(ak_httpc_multi_run(m));
    close(fd);
    AK_ASSERT_EQ_INT(https.calls, 1);
    AK_ASSERT_EQ_INT(https.rc, AK_EFORBIDDEN);
    AK_ASSERT_CONTAINS(https.err, "only https");
    AK_ASSERT_EQ_INT(https.status, 0);
    AK_ASSERT_EQ_INT(ftp.rc, AK_EFORBIDDEN); /* refused at once, its delay ignored */
    AK_ASSERT(ftp.seq < refused.seq);
    AK_ASSERT_EQ_INT(nourl.calls, 1);
    AK_ASSERT_EQ_INT(nourl.rc, AK_EINVAL);
    AK_ASSERT_EQ_INT(refused.rc, AK_EIO);
    AK_ASSERT_CONTAINS(refused.err, "127.0.0.1");
    AK_ASSERT(strstr(refused.err, "secret-path") == NULL);
    AK_ASSERT_EQ_INT(ak_httpc_multi_done_count(m), 4);
    AK_ASSERT_EQ_INT(ak_httpc_multi_peak(m), 1); /* only the refused connection took a slot */
    ak_httpc_multi_free(m);
    msrv_stop(&s);
    AK_ASSERT_EQ_INT(s.n_conns, 0); /* a refused scheme never reaches the network */
}

AK_TEST(multi_copies_request_and_posts)
{
    struct ak_httpc_multi *m = NULL;
    struct ak_httpc_req req = {0};
    struct mres echo = {0};
    char url[128], method[8], body[32], hdr[32];
    const char *headers[2] = {hdr, NULL};
    struct msrv s;

    ak_httpc_global_init();
    msrv_start(&s);
    AK_ASSERT_OK(ak_httpc_multi_new(2, &m));
    snprintf(url, sizeof(url), "%s/echo", s.base);
    snprintf(method, sizeof(method), "PUT");
    snprintf(body, sizeof(body), "{\"page\":2}");
    snprintf(hdr, sizeof(hdr), "X-Ak-Test: multi");
    req.url = url;
    req.method = method;
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, 0, mres_done, &echo));
    /* the caller's buffers are gone before the request starts */
    memset(url, 'Z', sizeof(url) - 1);
    memset(method, 'Z', sizeof(method) - 1);
    memset(body, 'Z', sizeof(body) - 1);
    memset(hdr, 'Z', sizeof(hdr) - 1);
    AK_ASSERT_OK(ak_httpc_multi_run(m));
    AK_ASSERT_OK(echo.rc);
    AK_ASSERT(strncmp(echo.body, "PUT /echo HTTP/1.1\r\n", 20) == 0);
    AK_ASSERT_CONTAINS(echo.body, "\r\nX-Ak-Test: multi\r\n");
    AK_ASSERT_CONTAINS(echo.body, "\r\nUser-Agent: asakai/");
    AK_ASSERT(strstr(echo.body, "Expect:") == NULL);
    AK_ASSERT(strstr(echo.body, "ZZZ") == NULL);
    AK_ASSERT(echo.body_len > 10);
    AK_ASSERT_STR(echo.body + echo.body_len - 10, "{\"page\":2}");
    ak_httpc_multi_free(m);
    msrv_stop(&s);
}

AK_TEST(multi_free_with_entries_left)
{
    struct ak_httpc_multi *m = NULL;
    struct ak_httpc_req req = {0};
    struct mres res[6];
    static const char *const headers[] = {"X-A: 1", NULL};

    ak_httpc_global_init();
    memset(res, 0, sizeof(res));
    ak_httpc_multi_free(NULL);
    AK_ASSERT_EQ_INT(ak_httpc_multi_peak(NULL), 0);
    AK_ASSERT_EQ_INT(ak_httpc_multi_done_count(NULL), 0);
    AK_ASSERT_OK(ak_httpc_multi_new(2, &m));
    req.url = "http://127.0.0.1:9/x";
    req.method = "POST";
    req.headers = headers;
    req.body = "abc";
    req.body_len = 3;
    for (int i = 0; i < 4; i++)
        AK_ASSERT_OK(ak_httpc_multi_add(m, &req, i < 2 ? 0 : 60000, mres_done, &res[i]));
    req.https_only = true; /* refused ones are freed too */
    AK_ASSERT_EQ_INT(ak_httpc_multi_add(m, &req, 0, mres_done, &res[4]), AK_EINVAL);
    req.https_only = false;
    AK_ASSERT_OK(ak_httpc_multi_add(m, &req, INT64_MAX, mres_done, &res[5]));
    ak_httpc_multi_free(m); /* ASan reports anything left behind */
    for (int i = 0; i < 6; i++)
        AK_ASSERT_EQ_INT(res[i].calls, 0);
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
             AK_T(retry_after_seconds_and_date), AK_T(smtp_delivers_byte_exact),
             AK_T(smtp_rcpt_550_is_forbidden), AK_T(smtp_hang_times_out),
             AK_T(smtp_connection_refused_is_eio), AK_T(smtp_auth_plain_over_loopback),
             AK_T(smtp_auth_failure_hides_password), AK_T(smtp_starttls_required_but_missing),
             AK_T(smtp_password_to_remote_host_requires_tls),
             AK_T(smtp_request_checks), AK_T(multi_fifty_with_eight_in_flight),
             AK_T(multi_callback_adds_next_page), AK_T(multi_delay_is_honoured),
             AK_T(multi_timeout_and_retry_after), AK_T(multi_response_over_cap_is_toobig),
             AK_T(multi_refused_requests_report_through_done),
             AK_T(multi_copies_request_and_posts), AK_T(multi_free_with_entries_left),
             AK_T(url_escape))
