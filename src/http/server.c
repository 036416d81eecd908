/* server.c — libmicrohttpd glue: body accumulation under a cap, routing, responses, metrics. */
#include "asakai/ak_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_json.h"
#include "asakai/ak_log.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

struct ak_http {
    struct MHD_Daemon *d;
    const struct ak_cfg *cfg;
    struct ak_intake *in;
    struct ak_poll *poll;
    struct ak_sts *sts;
    struct ak_mon *mon;
    unsigned port;
    /* Requests that were suspended and are not completed yet (answered and sent, or aborted).
     * Counted before `closing` is checked, so stop sees every one it must wait for. */
    _Atomic int unanswered;
    _Atomic bool closing;
};

bool ak__http_suspend(struct ak_http_req *rq, void (*finish)(struct ak_http_req *rq))
{
    struct ak_http *h = rq->server;
    atomic_fetch_add(&h->unanswered, 1);
    if (atomic_load(&h->closing)) {
        /* libmicrohttpd must never be stopped with a suspended connection: refuse to suspend
         * once stopping began; the caller answers 503 and the sender retries elsewhere/later */
        atomic_fetch_sub(&h->unanswered, 1);
        return false;
    }
    rq->finish = finish;
    rq->suspended = true;
    rq->waited = true;
    MHD_suspend_connection(rq->conn);
    return true;
}

void ak__http_resume(struct ak_http_req *rq)
{
    atomic_store(&rq->resumed, true);
    MHD_resume_connection(rq->conn);
}

const char *ak__http_arg(struct ak_http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ak__http_header(struct ak_http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

void ak__http_json(struct ak_http_req *rq, int status, struct ak_json *j)
{
    char *s = ak_json_dump(j, AK_JSON_PRETTY);
    ak_json_free(j);
    ak_buf_reset(&rq->out);
    ak_buf_add(&rq->out, s);
    ak_buf_addc(&rq->out, '\n');
    free(s);
    rq->status = status;
    rq->content_type = "application/json";
}

void ak__http_error(struct ak_http_req *rq, int status, const char *fmt, ...)
{
    struct ak_buf msg = AK_BUF_INIT(1024);
    va_list ap;
    va_start(ap, fmt);
    ak_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_str(o, "error", msg.buf);
    ak__http_json(rq, status, o);
    ak_buf_release(&msg);
}

static void remote_addr(struct MHD_Connection *c, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, n, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)n);
}

static bool token_ok(struct ak_http_req *rq)
{
    const char *want = rq->cfg->api_token;
    if (!want || !*want)
        return true;
    const char *h = ak__http_header(rq, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return false;
    return ak_ct_equal(h + 7, strlen(h + 7), want, strlen(want));
}

static bool sigv4_request(struct ak_http_req *rq)
{
    const char *h = ak__http_header(rq, "Authorization");
    return h && strncmp(h, "AWS4-HMAC-SHA256 ", 17) == 0;
}

/* True when host (a Host header, "name[:port]") names this machine's loopback. */
static bool loopback_host(const char *host)
{
    static const char *names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < AK_ARRAY_SIZE(names); i++) {
        size_t n = strlen(names[i]);
        if (strncmp(host, names[i], n) == 0 && (host[n] == 0 || host[n] == ':'))
            return true;
    }
    return false;
}

/* No Origin, or the page of this very host (a browser's same-origin request). */
static bool same_origin(struct ak_http_req *rq)
{
    const char *host = ak__http_header(rq, "Host");
    const char *origin = ak__http_header(rq, "Origin");
    return !origin ||
           (host && strncmp(origin, "http://", 7) == 0 && strcmp(origin + 7, host) == 0);
}

/* The Content-Types the metrics import takes. */
static bool exposition_type(const char *ct)
{
    return ak_expo_format_from_content_type(ct) != AK_EXPO_AUTO;
}

/* The API answers its own clients only: a web page the operator happens to open must not be
 * able to silence notifications or import records through the browser (a cross-site POST can
 * only send form or text bodies, and carries a foreign Origin), nor read answers by rebinding a
 * DNS name to 127.0.0.1 (the Host header then names that site). Returns false after answering. */
static bool api_request_ok(struct ak_http_req *rq)
{
    const char *host = ak__http_header(rq, "Host");
    const char *ct = ak__http_header(rq, "Content-Type");

    if (!rq->cfg->api_token && (!host || !loopback_host(host))) {
        ak__http_error(rq, 403, "Host '%s' is not this machine's loopback: without "
                                "server.api_token the API answers only local clients",
                       host ? host : "");
        return false;
    }
    if (!same_origin(rq)) {
        ak__http_error(rq, 403, "cross-origin requests are refused");
        return false;
    }
    if (strcmp(rq->method, "POST") == 0 && strcmp(rq->path, AK__HTTP_METRICS_IMPORT) == 0) {
        /* an exposition: a browser that sends text/plain cross-site also sends Origin (refused
         * above), and without an API token only loopback clients get here */
        if (!exposition_type(ct)) {
            ak__http_error(rq, 415, "send the exposition as Content-Type: "
                                    "application/openmetrics-text or text/plain; version=0.0.4");
            return false;
        }
    } else if (strcmp(rq->method, "POST") == 0 &&
               (!ct || strncasecmp(ct, "application/json", 16) != 0)) {
        ak__http_error(rq, 415, "POST bodies must be sent as Content-Type: application/json");
        return false;
    }
    return true;
}

static void dispatch(struct ak_http_req *rq)
{
    bool path_matched = false;
    for (size_t i = 0; i < ak__http_n_routes; i++) {
        const struct ak_http_route *r = &ak__http_routes[i];
        const char *tail = NULL;
        if (r->prefix) {
            if (!ak_startswith(rq->path, r->path) || !rq->path[strlen(r->path)])
                continue;
            tail = rq->path + strlen(r->path);
        } else if (strcmp(rq->path, r->path) != 0)
            continue;
        path_matched = true;
        if (strcmp(rq->method, r->method) != 0) {
            snprintf(rq->allow, sizeof(rq->allow), "%s", r->method);
            continue;
        }
        rq->route = r->path;
        if (r->api && rq->sts && sigv4_request(rq)) {
            /* a CI job with credentials from the STS twin: keyless access to the API */
            if (!ak__http_sts_auth(rq))
                return;
        } else if (r->api && !token_ok(rq)) {
            ak__http_error(rq, 401, "missing or wrong API token (Authorization: Bearer ...)");
            return;
        }
        if (r->api && !api_request_ok(rq))
            return;
        r->fn(rq, tail);
        return;
    }
    if (path_matched)
        ak__http_error(rq, 405, "method %s not allowed here", rq->method);
    else
        ak__http_error(rq, 404, "no such endpoint: %s", rq->path);
}

static enum MHD_Result respond(struct ak_http_req *rq)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(rq->out.len, rq->out.buf, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    char labels[160];

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            rq->content_type ? rq->content_type : "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (rq->request_id[0])
        MHD_add_response_header(resp, "x-amzn-RequestId", rq->request_id);
    if (rq->status == 405 && rq->allow[0])
        MHD_add_response_header(resp, "Allow", rq->allow);
    if (rq->close_conn || atomic_load(&rq->server->closing))
        MHD_add_response_header(resp, "Connection", "close");
    ret = MHD_queue_response(rq->conn, (unsigned)rq->status, resp);
    MHD_destroy_response(resp);
    snprintf(labels, sizeof(labels), "route=\"%s\",code=\"%d\"", rq->route ? rq->route : "other",
             rq->status);
    ak_metrics_inc("asakai_http_requests_total", labels);
    return ret;
}

/* The body cap of a request: server.max_body, except for the metrics import, which takes up to
 * 64 MiB from a client that passes the API's checks (token, loopback Host without one, no
 * foreign Origin, an exposition Content-Type), so that nobody else — a web page posting to
 * 127.0.0.1 included — can make the server hold that much before it refuses them. */
static size_t body_cap(struct ak_http_req *rq)
{
    const char *host = ak__http_header(rq, "Host");
    if (strcmp(rq->method, "POST") == 0 && strcmp(rq->path, AK__HTTP_METRICS_IMPORT) == 0 &&
        token_ok(rq) && (rq->cfg->api_token || (host && loopback_host(host))) &&
        same_origin(rq) && exposition_type(ak__http_header(rq, "Content-Type")))
        return AK__HTTP_METRICS_IMPORT_MAX;
    return (size_t)rq->cfg->max_body;
}

static void too_big(struct ak_http_req *rq)
{
    if (rq->max_body != rq->cfg->max_body)
        ak__http_error(rq, 413, "request body is over this endpoint's limit (%zu bytes); send it "
                                "in smaller parts", rq->max_body);
    else
        ak__http_error(rq, 413, "request body is over server.max_body_bytes (%zu bytes)",
                       rq->max_body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct ak_http *h = cls;
    struct ak_http_req *rq = *con_cls;
    (void)version;

    if (!rq) {
        rq = ak_xcalloc(1, sizeof(*rq));
        rq->conn = conn;
        rq->cfg = h->cfg;
        rq->in = h->in;
        rq->poll = h->poll;
        rq->sts = h->sts;
        rq->mon = h->mon;
        rq->server = h;
        rq->method = method;
        rq->path = url;
        rq->max_body = body_cap(rq);
        ak_buf_init(&rq->body, rq->max_body);
        ak_buf_init(&rq->out, 64 * 1024 * 1024);
        remote_addr(conn, rq->remote, sizeof(rq->remote));
        *con_cls = rq;
        /* refuse an announced oversize body before reading it */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        uint64_t n;
        if (cl && ak_parse_u64(cl, 0, UINT64_MAX, &n) == AK_OK && n > rq->max_body) {
            /* answer now: libmicrohttpd then discards the body and closes the connection */
            rq->too_big = true;
            rq->close_conn = true;
            too_big(rq);
            ak_log(AK_LOG_WARN, "http", "request too large", "path", rq->path, "remote",
                   rq->remote, NULL);
            return respond(rq);
        }
        return MHD_YES;
    }
    if (rq->suspended) {
        /* called again after ak__http_resume(): the answer is ready */
        if (!atomic_load(&rq->resumed))
            return MHD_YES;
        rq->suspended = false;
        rq->finish(rq);
        return respond(rq);
    }
    if (*upload_size) {
        if (!rq->too_big && ak_buf_addn(&rq->body, upload, *upload_size) < 0)
            rq->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_big) {
        rq->close_conn = true;
        too_big(rq);
        ak_log(AK_LOG_WARN, "http", "request too large", "path", rq->path, "remote", rq->remote,
               NULL);
    } else
        dispatch(rq);
    if (rq->suspended)
        return MHD_YES;
    return respond(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ak_http_req *rq = *con_cls;
    (void)cls;
    (void)conn;
    if (!rq)
        return;
    if (rq->waited)
        atomic_fetch_sub(&rq->server->unanswered, 1);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && toe != MHD_REQUEST_TERMINATED_CLIENT_ABORT)
        ak_metrics_inc("asakai_http_requests_aborted_total", "");
    ak_buf_release(&rq->body);
    ak_buf_release(&rq->out);
    free(rq->ires);
    free(rq->user);
    free(rq);
    *con_cls = NULL;
}

/* "127.0.0.1:9780", "[::1]:9780", ":9780" (= 127.0.0.1). */
static int parse_listen(const char *s, struct sockaddr_storage *ss, struct ak_buf *err)
{
    char host[128];
    const char *colon;
    uint64_t port;

    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
            return ak_err(err, AK_ECONFIG, "listen address '%s' is not [HOST]:PORT", s);
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = 0;
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof(host))
            return ak_err(err, AK_ECONFIG, "listen address '%s' is not HOST:PORT", s);
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
    }
    if (ak_parse_u64(colon + 1, 0, 65535, &port) < 0)
        return ak_err(err, AK_ECONFIG, "listen address '%s': bad port", s);
    if (!host[0])
        snprintf(host, sizeof(host), "127.0.0.1");
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
    } else
        return ak_err(err, AK_ECONFIG, "listen address '%s': host must be an IP address", s);
    return AK_OK;
}

static void describe(void)
{
    ak_metrics_describe("asakai_http_requests_total", "counter", "HTTP requests by route and code.");
    ak_metrics_describe("asakai_http_requests_aborted_total", "counter",
                        "HTTP requests ended by error or timeout.");
}

int ak_http_start(const struct ak_cfg *cfg, struct ak_intake *in, struct ak_poll *poll,
                  struct ak_sts *sts, struct ak_mon *mon, struct ak_http **ret,
                  struct ak_buf *err)
{
    struct sockaddr_storage ss;
    struct ak_http *h;
    int r = parse_listen(cfg->listen, &ss, err);
    /* poll(), not epoll: libmicrohttpd 0.9.75 removes the listening socket from each epoll
     * worker in MHD_quiesce_daemon while the worker may remove it too, and the loser of that
     * race aborts the process ("Failed to remove listen FD from epoll set", seen once on a
     * SIGTERM right after start); with poll() quiescing only sets a flag */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;

    if (r < 0)
        return r;
    describe();
    h = ak_xcalloc(1, sizeof(*h));
    h->cfg = cfg;
    h->in = in;
    h->poll = poll;
    h->sts = sts;
    h->mon = mon;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)((cfg->request_timeout_ms + 999) / 1000), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)8 * 1024, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_END);
    if (!h->d) {
        free(h);
        return ak_err(err, AK_EIO, "cannot listen on %s (address in use or not permitted)",
                      cfg->listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    *ret = h;
    return AK_OK;
}

unsigned ak_http_port(const struct ak_http *h)
{
    return h->port;
}

void ak_http_stop(struct ak_http *h)
{
    if (!h)
        return;
    /* stop accepting; MHD_stop_daemon then waits for the requests in flight (the drain) */
    atomic_store(&h->closing, true);
    MHD_socket s = MHD_quiesce_daemon(h->d);
    /* Every request suspended on the writer is answered (and sent) before libmicrohttpd may stop:
     * it must not stop with a suspended connection, and an acknowledged message must get its 2xx.
     * No cap: the writer is still running and completes every job it holds. */
    while (atomic_load(&h->unanswered) > 0)
        usleep(5 * 1000);
    MHD_stop_daemon(h->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    free(h);
}
