/* test_scrape.c — ak_scrape: label rules and all-or-nothing parsing, the query_range matrix
 * parser, and real rounds against tiny HTTP servers on 127.0.0.1 in threads. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_scrape.h"
#include "ak_test.h"

/* ---- collecting what the callback sees ---- */

#define COL_MAX 64000

struct got {
    char key[320];   /* name{a="x",...} */
    int type;
    int64_t t_ms;
    double value;
};

struct col {
    struct got *g;
    size_t n;
    int stop_at;     /* return 42 at this call (1-based), 0 = never */
    int calls;
};

static void col_init(struct col *c)
{
    memset(c, 0, sizeof(*c));
    c->g = calloc(COL_MAX, sizeof(*c->g));
}

static int col_fn(void *arg, const struct ak_scrape_sample *s)
{
    struct col *c = arg;
    struct got *g;
    size_t k;

    if (++c->calls == c->stop_at)
        return 42;
    if (c->n == COL_MAX)
        return -99;
    g = &c->g[c->n++];
    k = (size_t)snprintf(g->key, sizeof(g->key), "%s{", s->name);
    for (size_t i = 0; i < s->nlabels && k < sizeof(g->key); i++)
        k += (size_t)snprintf(g->key + k, sizeof(g->key) - k, "%s%s=\"%s\"", i ? "," : "",
                              s->labels[i].name, s->labels[i].value);
    if (k < sizeof(g->key))
        snprintf(g->key + k, sizeof(g->key) - k, "}");
    g->type = (int)s->type;
    g->t_ms = s->t_ms;
    g->value = s->value;
    return 0;
}

static const struct got *col_find(const struct col *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->g[i].key, key) == 0)
            return &c->g[i];
    return NULL;
}

static size_t col_count_prefix(const struct col *c, const char *prefix)
{
    size_t n = 0;

    for (size_t i = 0; i < c->n; i++)
        n += strncmp(c->g[i].key, prefix, strlen(prefix)) == 0;
    return n;
}

#define NOW 1800000000000LL

/* ---- ak_scrape_parse ---- */

AK_TEST(parse_label_rules_exported_and_sorted)
{
    static const struct ak_expo_label extra[] = {{"env", "prod", 4}, {"zz", "", 0}};
    struct ak_scrape_target t = {.url = "http://node-1.example:9100/metrics", .job = "api",
                                 .service = "svc", .labels = extra, .nlabels = 2};
    const char *text =
        "# TYPE http_requests_total counter\n"
        "http_requests_total{zone=\"a\",job=\"scraped\",instance=\"x\",exported_job=\"old\"} 5 "
        "1700000000000\n"
        "temp{empty=\"\"} 3.5\n";
    static const struct ak_expo_label extra2[] = {{"exported_job", "E", 1}};
    const char *text2 = "m{job=\"s\",exported_job=\"o\"} 1\n";
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct col c;
    const struct got *g;
    size_t n = 0;

    col_init(&c);
    AK_ASSERT_OK(ak_scrape_parse(&t, text, strlen(text), AK_EXPO_PROM_TEXT, NOW, col_fn, &c, &n,
                                 &err));
    AK_ASSERT_EQ_INT(n, 2);
    AK_ASSERT_EQ_INT(c.n, 2);
    /* job and instance are the target's; the scraped ones are exported_, and exported_job being
     * taken by a scraped label, the scraped job becomes exported_exported_job */
    AK_ASSERT_STR(c.g[0].key,
                  "http_requests_total{env=\"prod\",exported_exported_job=\"scraped\","
                  "exported_instance=\"x\",exported_job=\"old\",instance=\"node-1.example:9100\","
                  "job=\"api\",service=\"svc\",zone=\"a\"}");
    AK_ASSERT_EQ_INT(c.g[0].type, AK_EXPO_COUNTER);
    AK_ASSERT_EQ_INT(c.g[0].t_ms, 1700000000000LL); /* the exposition's timestamp is kept */
    AK_ASSERT(c.g[0].value == 5);
    g = col_find(&c, "temp{env=\"prod\",instance=\"node-1.example:9100\",job=\"api\","
                     "service=\"svc\"}");
    AK_ASSERT(g != NULL); /* the empty scraped label and the empty extra label are dropped */
    AK_ASSERT_EQ_INT(g->t_ms, NOW);
    AK_ASSERT_EQ_INT(g->type, AK_EXPO_UNTYPED);
    AK_ASSERT(g->value == 3.5);
    /* Prometheus renames shorter names first: job (3) before exported_job (12) */
    t.labels = extra2;
    t.nlabels = 1;
    t.service = NULL;
    c.n = 0;
    AK_ASSERT_OK(ak_scrape_parse(&t, text2, strlen(text2), AK_EXPO_PROM_TEXT, NOW, col_fn, &c,
                                 &n, &err));
    AK_ASSERT_STR(c.g[0].key, "m{exported_exported_exported_job=\"o\","
                              "exported_exported_job=\"s\",exported_job=\"E\","
                              "instance=\"node-1.example:9100\",job=\"api\"}");
    free(c.g);
    ak_buf_release(&err);
}

AK_TEST(parse_instance_default_ports_and_extras_win)
{
    static const struct ak_expo_label extra[] = {{"job", "override", 8}};
    struct ak_scrape_target t = {.url = "https://user:pw@[::1]/m?x=1", .job = "j"};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct col c;

    col_init(&c);
    AK_ASSERT_OK(ak_scrape_parse(&t, "a 1\n", 4, AK_EXPO_AUTO, NOW, col_fn, &c, NULL, &err));
    AK_ASSERT_STR(c.g[0].key, "a{instance=\"[::1]:443\",job=\"j\"}");
    t.url = "HTTP://h.example/metrics";
    AK_ASSERT_OK(ak_scrape_parse(&t, "a 1\n", 4, AK_EXPO_AUTO, NOW, col_fn, &c, NULL, &err));
    AK_ASSERT_STR(c.g[1].key, "a{instance=\"h.example:80\",job=\"j\"}");
    t.url = "http://h:8080";
    t.labels = extra;
    t.nlabels = 1;
    AK_ASSERT_OK(ak_scrape_parse(&t, "a 1\n", 4, AK_EXPO_AUTO, NOW, col_fn, &c, NULL, &err));
    AK_ASSERT_STR(c.g[2].key, "a{instance=\"h:8080\",job=\"override\"}");
    /* unusable URLs and targets */
    t.url = "ftp://h/x";
    AK_ASSERT_EQ_INT(ak_scrape_parse(&t, "a 1\n", 4, AK_EXPO_AUTO, NOW, col_fn, &c, NULL, &err),
                     AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "http://");
    t.url = "http://h:99999/";
    AK_ASSERT_EQ_INT(ak_scrape_parse(&t, "a 1\n", 4, AK_EXPO_AUTO, NOW, col_fn, &c, NULL, NULL),
                     AK_EINVAL);
    t.url = "http:///x";
    AK_ASSERT_EQ_INT(ak_scrape_parse(&t, "a 1\n", 4, AK_EXPO_AUTO, NOW, col_fn, &c, NULL, NULL),
                     AK_EINVAL);
    t.url = "http://h/";
    t.job = NULL;
    AK_ASSERT_EQ_INT(ak_scrape_parse(&t, "a 1\n", 4, AK_EXPO_AUTO, NOW, col_fn, &c, NULL, NULL),
                     AK_EINVAL);
    AK_ASSERT_EQ_INT(c.n, 3);
    free(c.g);
    ak_buf_release(&err);
}

AK_TEST(parse_all_or_nothing_and_caps)
{
    struct ak_scrape_target t = {.url = "http://h:1/", .job = "j"};
    const char *bad = "a 1\nb 2\nc{x=\"1\" 3\n";
    const char *om = "# TYPE x counter\nx_total 1 1700000000.5\n# EOF\n";
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct col c;
    size_t n = 77;

    col_init(&c);
    AK_ASSERT_EQ_INT(ak_scrape_parse(&t, bad, strlen(bad), AK_EXPO_PROM_TEXT, NOW, col_fn, &c,
                                     &n, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(c.n, 0); /* the two good lines before the error are not delivered */
    AK_ASSERT_EQ_INT(n, 77);
    AK_ASSERT_CONTAINS(err.buf, "line 3");
    /* over max_bytes */
    ak_buf_reset(&err);
    t.max_bytes = 8;
    AK_ASSERT_EQ_INT(ak_scrape_parse(&t, bad, strlen(bad), AK_EXPO_PROM_TEXT, NOW, col_fn, &c,
                                     &n, &err), AK_ETOOBIG);
    AK_ASSERT_STR(err.buf, "body larger than 8 bytes");
    /* OpenMetrics: seconds timestamps become ms */
    t.max_bytes = 0;
    AK_ASSERT_OK(ak_scrape_parse(&t, om, strlen(om), AK_EXPO_OPENMETRICS, NOW, col_fn, &c, &n,
                                 NULL));
    AK_ASSERT_EQ_INT(n, 1);
    AK_ASSERT_STR(c.g[0].key, "x_total{instance=\"h:1\",job=\"j\"}");
    AK_ASSERT_EQ_INT(c.g[0].t_ms, 1700000000500LL);
    /* a callback's stop is returned unchanged */
    c.n = 0;
    c.calls = 0;
    c.stop_at = 2;
    AK_ASSERT_EQ_INT(ak_scrape_parse(&t, "a 1\nb 2\nc 3\n", 12, AK_EXPO_AUTO, NOW, col_fn, &c,
                                     &n, NULL), 42);
    AK_ASSERT_EQ_INT(c.n, 1);
    free(c.g);
    ak_buf_release(&err);
}

AK_TEST(parse_many_samples_share_strings)
{
    struct ak_scrape_target t = {.url = "http://h:1/", .job = "j"};
    struct ak_buf text = AK_BUF_INIT(AK_BUF_NOMAX);
    struct col c;
    size_t n = 0;

    for (int i = 0; i < 5000; i++)
        ak_buf_addf(&text, "m{cpu=\"%d\",mode=\"idle\"} %d\n", i, i);
    col_init(&c);
    AK_ASSERT_OK(ak_scrape_parse(&t, text.buf, text.len, AK_EXPO_PROM_TEXT, NOW, col_fn, &c, &n,
                                 NULL));
    AK_ASSERT_EQ_INT(n, 5000);
    AK_ASSERT_STR(c.g[4999].key, "m{cpu=\"4999\",instance=\"h:1\",job=\"j\",mode=\"idle\"}");
    AK_ASSERT(c.g[4999].value == 4999);
    free(c.g);
    ak_buf_release(&text);
}

/* ---- ak_scrape_parse_matrix ---- */

AK_TEST(matrix_success_specials_and_source)
{
    const char *body =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
        "{\"metric\":{\"__name__\":\"up\",\"source\":\"theirs\",\"job\":\"n\"},"
        "\"values\":[[1700000000.123,\"1.5\"],[1700000001,\"NaN\"],[1700000002.5,\"+Inf\"],"
        "[1700000003,\"-Inf\"],[1700000004,\"2e3\"]]},"
        "{\"metric\":{\"b\":\"2\",\"a\":\"1\"},\"values\":[[1700000000,\"-0.25\"]]}]},"
        "\"warnings\":[\"x\"]}";
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct col c;

    col_init(&c);
    AK_ASSERT_OK(ak_scrape_parse_matrix(body, strlen(body), "prom1", col_fn, &c, &err));
    AK_ASSERT_EQ_INT(c.n, 6);
    AK_ASSERT_STR(c.g[0].key, "up{exported_source=\"theirs\",job=\"n\",source=\"prom1\"}");
    AK_ASSERT_EQ_INT(c.g[0].t_ms, 1700000000123LL);
    AK_ASSERT(c.g[0].value == 1.5);
    AK_ASSERT_EQ_INT(c.g[0].type, AK_EXPO_UNTYPED);
    AK_ASSERT_EQ_INT(c.g[1].t_ms, 1700000001000LL);
    AK_ASSERT(isnan(c.g[1].value));
    AK_ASSERT_EQ_INT(c.g[2].t_ms, 1700000002500LL);
    AK_ASSERT(isinf(c.g[2].value) && c.g[2].value > 0);
    AK_ASSERT(isinf(c.g[3].value) && c.g[3].value < 0);
    AK_ASSERT(c.g[4].value == 2000);
    /* no __name__: query_result; labels sorted */
    AK_ASSERT_STR(c.g[5].key, "query_result{a=\"1\",b=\"2\",source=\"prom1\"}");
    AK_ASSERT(c.g[5].value == -0.25);
    /* without a source */
    c.n = 0;
    AK_ASSERT_OK(ak_scrape_parse_matrix(body, strlen(body), NULL, col_fn, &c, &err));
    AK_ASSERT_STR(c.g[0].key, "up{job=\"n\",source=\"theirs\"}");
    /* an empty result */
    c.n = 0;
    AK_ASSERT_OK(ak_scrape_parse_matrix(
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", 63, NULL,
        col_fn, &c, &err));
    AK_ASSERT_EQ_INT(c.n, 0);
    AK_ASSERT_EQ_INT(err.len, 0);
    free(c.g);
    ak_buf_release(&err);
}

static int matrix_rc(const char *body, struct ak_buf *err, size_t *ret_calls)
{
    struct col c;
    int r;

    col_init(&c);
    ak_buf_reset(err);
    r = ak_scrape_parse_matrix(body, strlen(body), "s", col_fn, &c, err);
    *ret_calls = c.n;
    free(c.g);
    return r;
}

#define MX(result) "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":" \
    result "}}"

AK_TEST(matrix_errors)
{
    static const char *const bad[] = {
        "",
        "{\"status\":\"success\"",
        "[]",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\"}}",
        "{\"status\":\"partial\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}",
        MX("[{\"metric\":{\"__name__\":\"a\"},\"values\":[[1,\"1\"]]},{\"values\":[[1,\"1\"]]}]"),
        MX("[{\"metric\":{\"a\":1},\"values\":[[1,\"1\"]]}]"),
        MX("[{\"metric\":{},\"values\":{}}]"),
        MX("[{\"metric\":{},\"values\":[[1,1.5]]}]"),
        MX("[{\"metric\":{},\"values\":[[\"1\",\"1\"]]}]"),
        MX("[{\"metric\":{},\"values\":[[1,\"1.5x\"]]}]"),
        MX("[{\"metric\":{},\"values\":[[1,\"0x10\"]]}]"),
        MX("[{\"metric\":{},\"values\":[[1,\"inf\"]]}]"),
        MX("[{\"metric\":{},\"values\":[[1,\"\"]]}]"),
        MX("[{\"metric\":{},\"values\":[[1,\"1\",2]]}]"),
        MX("[{\"metric\":{},\"values\":[[-1,\"1\"]]}]"),
        MX("[{\"metric\":{},\"values\":[[2,\"1\"],[1,\"1\"]]}]"),
        MX("[{\"metric\":{},\"values\":[[1,\"1\"],[1,\"1\"]]}]"),
    };
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t calls = 0;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = matrix_rc(bad[i], &err, &calls);

        if (r != AK_EINVAL || calls != 0 || err.len == 0)
            printf("# case %zu: r=%d calls=%zu err=%s\n", i, r, calls, err.buf);
        AK_ASSERT_EQ_INT(r, AK_EINVAL);
        AK_ASSERT_EQ_INT(calls, 0); /* checked whole before anything is delivered */
        AK_ASSERT(err.len > 0);
    }
    AK_ASSERT_EQ_INT(matrix_rc("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
                               "\"invalid parameter \\\"query\\\"\"}", &err, &calls), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "bad_data: invalid parameter \"query\".");
    AK_ASSERT_EQ_INT(matrix_rc(MX("[{\"metric\":{},\"values\":[[1,\"1\"]]}]"), &err, &calls),
                     AK_OK);
    AK_ASSERT_EQ_INT(calls, 1);
    ak_buf_release(&err);
}

/* ---- a tiny threaded HTTP server ----
 * One accept thread (polls every 20 ms until stopped, at most SRV_CONNS connections), one worker
 * per connection answering one request and closing. Paths: /prom, /om, /500, /bad, /slow (no
 * answer until the client hangs up, at most 5 s), /big, and .../api/v1/query_range (under /ok a
 * generated matrix; under /bad400 a JSON 400; under /down a plain 503). */

#define SRV_CONNS 64
#define REQ_MAX 65536
#define LOG_MAX 64

struct qlog {
    int64_t start, end, step;
    char query[128];
    char auth[64];
};

struct srv {
    int fd, port;
    pthread_t thread;
    pthread_t workers[SRV_CONNS];
    int n_conns;
    pthread_mutex_t mu;
    bool stop;
    int nq;
    struct qlog q[LOG_MAX];
    char base[64];
};

struct conn {
    struct srv *s;
    int fd;
};

static bool stopped(struct srv *s)
{
    bool v;

    pthread_mutex_lock(&s->mu);
    v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static bool wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, ms) == 1;
}

/* Case-insensitive strstr (strcasestr is a GNU extension). */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

static size_t content_length(const char *req)
{
    const char *p = find_ci(req, "\r\nContent-Length:");
    size_t n = 0;

    if (!p)
        return 0;
    for (p += 17; *p == ' '; p++) {
    }
    while (*p >= '0' && *p <= '9')
        n = n * 10 + (size_t)(*p++ - '0');
    return n;
}

static size_t read_request(int c, char *buf)
{
    size_t len = 0, want = 0;
    char *end;

    while (len < REQ_MAX - 1 && wait_readable(c, 3000)) {
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
    const char *q = p;

    while (n > 0) {
        ssize_t k = send(c, q, n, MSG_NOSIGNAL);

        if (k <= 0)
            return;
        q += k;
        n -= (size_t)k;
    }
}

static void send_resp(int c, int status, const char *ctype, const char *body, size_t len)
{
    char head[256];

    snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n", status, ctype, len);
    send_all(c, head, strlen(head));
    send_all(c, body, len);
}

/* Form value of key, percent-decoded, into out. */
static void form_get(const char *form, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key), k = 0;
    const char *p = form;

    out[0] = 0;
    while (p && *p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            for (p += kl + 1; *p && *p != '&' && k + 1 < n; p++) {
                if (*p == '%' && p[1] && p[2]) {
                    char hex[3] = {p[1], p[2], 0};

                    out[k++] = (char)strtoul(hex, NULL, 16);
                    p += 2;
                } else
                    out[k++] = *p == '+' ? ' ' : *p;
            }
            out[k] = 0;
            return;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
}

static int64_t secs_to_ms(const char *s)
{
    return llround(strtod(s, NULL) * 1000.0);
}

/* The fake query_range: logs the form, answers two series with one point per step from start to
 * end, the value being the point's time in seconds. */
static void query_range(struct srv *s, int c, const char *req)
{
    const char *form = strstr(req, "\r\n\r\n") + 4;
    char v[128];
    struct qlog q = {0};
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *auth = find_ci(req, "\r\nAuthorization: ");

    form_get(form, "start", v, sizeof(v));
    q.start = secs_to_ms(v);
    form_get(form, "end", v, sizeof(v));
    q.end = secs_to_ms(v);
    form_get(form, "step", v, sizeof(v));
    q.step = secs_to_ms(v);
    form_get(form, "query", q.query, sizeof(q.query));
    if (auth)
        snprintf(q.auth, sizeof(q.auth), "%.*s", (int)strcspn(auth + 17, "\r"), auth + 17);
    pthread_mutex_lock(&s->mu);
    if (s->nq < LOG_MAX)
        s->q[s->nq++] = q;
    pthread_mutex_unlock(&s->mu);
    ak_buf_add(&b, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[");
    for (int k = 0; k < 2; k++) {
        ak_buf_addf(&b, "%s{\"metric\":{\"__name__\":\"m\",\"k\":\"%d\"},\"values\":[",
                    k ? "," : "", k);
        for (int64_t t = q.start; q.step > 0 && t <= q.end; t += q.step)
            ak_buf_addf(&b, "%s[%lld.%03lld,\"%lld\"]", t == q.start ? "" : ",",
                        (long long)(t / 1000), (long long)(t % 1000), (long long)(t / 1000));
        ak_buf_add(&b, "]}");
    }
    ak_buf_add(&b, "]}}");
    send_resp(c, 200, "application/json", b.buf, b.len);
    ak_buf_release(&b);
}

static void respond(struct srv *s, int c, const char *req)
{
    char path[128];
    static const char prom[] = "# HELP a_total A.\n# TYPE a_total counter\n"
                               "a_total{job=\"inner\"} 7\nb 2.5 1700000000000\n";
    static const char om[] = "# TYPE c counter\nc_total{x=\"1\"} 3\n# EOF\n";
    static const char bad[] = "ok 1\nnot valid{\n";
    static const char err400[] =
        "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error\"}";

    if (sscanf(req, "%*s %127s", path) != 1)
        return;
    if (strstr(path, "/api/v1/query_range")) {
        if (strncmp(path, "/ok/", 4) == 0)
            query_range(s, c, req);
        else if (strncmp(path, "/bad400/", 8) == 0)
            send_resp(c, 400, "application/json", err400, strlen(err400));
        else
            send_resp(c, 503, "text/plain", "down", 4);
    } else if (strcmp(path, "/prom") == 0) {
        send_resp(c, 200, "text/plain; version=0.0.4", prom, sizeof(prom) - 1);
    } else if (strcmp(path, "/om") == 0) {
        send_resp(c, 200, "application/openmetrics-text; version=1.0.0; charset=utf-8", om,
                  sizeof(om) - 1);
    } else if (strcmp(path, "/bad") == 0) {
        send_resp(c, 200, "text/plain", bad, sizeof(bad) - 1);
    } else if (strcmp(path, "/500") == 0) {
        send_resp(c, 500, "text/plain", "oops", 4);
    } else if (strcmp(path, "/big") == 0) {
        char big[4096];

        memset(big, '#', sizeof(big));
        send_resp(c, 200, "text/plain", big, sizeof(big));
    } else if (strcmp(path, "/slow") == 0) {
        for (int i = 0; i < 250 && !stopped(s); i++)
            if (wait_readable(c, 20))
                break; /* the client hung up */
    } else {
        send_resp(c, 404, "text/plain", "no", 2);
    }
}

static void *conn_main(void *arg)
{
    struct conn *cn = arg;
    char *req = malloc(REQ_MAX);

    if (read_request(cn->fd, req) > 0)
        respond(cn->s, cn->fd, req);
    close(cn->fd);
    free(req);
    free(cn);
    return NULL;
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;

    while (!stopped(s) && s->n_conns < SRV_CONNS) {
        struct conn *cn;
        int c;

        if (!wait_readable(s->fd, 20))
            continue;
        c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        cn = malloc(sizeof(*cn));
        cn->s = s;
        cn->fd = c;
        if (pthread_create(&s->workers[s->n_conns], NULL, conn_main, cn) != 0)
            abort();
        s->n_conns++;
    }
    for (int i = 0; i < s->n_conns; i++)
        pthread_join(s->workers[i], NULL);
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

static void srv_start(struct srv *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->fd = bound_socket(&s->port);
    if (listen(s->fd, 64) < 0 || pthread_create(&s->thread, NULL, srv_main, s) != 0) {
        perror("listen");
        abort();
    }
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
}

static void srv_stop(struct srv *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

/* ---- ak_scrape_targets ---- */

AK_TEST(targets_round_against_a_server)
{
    enum { PROM, OM, E500, SLOW, BIG, BAD, REFUSED, BADURL, N };
    static const char *const paths[] = {"/prom", "/om", "/500", "/slow", "/big", "/bad"};
    static const struct ak_expo_label extra[] = {{"team", "sre", 3}};
    struct ak_scrape_target t[N];
    struct ak_scrape_result res[N];
    char urls[N][128], inst[64], key[256];
    struct srv s;
    struct col c;
    const struct got *g;
    int refused_port, refused_fd;

    ak_httpc_global_init();
    srv_start(&s);
    refused_fd = bound_socket(&refused_port); /* bound, never listening */
    memset(t, 0, sizeof(t));
    for (int i = 0; i < N; i++) {
        if (i < REFUSED)
            snprintf(urls[i], sizeof(urls[i]), "%s%s", s.base, paths[i]);
        t[i].url = urls[i];
        t[i].job = "svc";
        t[i].timeout_ms = 2000;
    }
    snprintf(urls[REFUSED], sizeof(urls[0]), "http://127.0.0.1:%d/metrics", refused_port);
    snprintf(urls[BADURL], sizeof(urls[0]), "gopher://x/");
    t[PROM].service = "svc";
    t[PROM].labels = extra;
    t[PROM].nlabels = 1;
    t[SLOW].timeout_ms = 300;
    t[BIG].max_bytes = 1024;
    col_init(&c);
    AK_ASSERT_OK(ak_scrape_targets(t, N, NOW, 3, NULL, col_fn, &c, res));
    srv_stop(&s);
    close(refused_fd);
    snprintf(inst, sizeof(inst), "127.0.0.1:%d", s.port);

    AK_ASSERT(res[PROM].up);
    AK_ASSERT_EQ_INT(res[PROM].status, 200);
    AK_ASSERT_EQ_INT(res[PROM].samples, 2);
    AK_ASSERT_STR(res[PROM].error, "");
    snprintf(key, sizeof(key), "a_total{exported_job=\"inner\",instance=\"%s\",job=\"svc\","
             "service=\"svc\",team=\"sre\"}", inst);
    g = col_find(&c, key);
    AK_ASSERT(g && g->value == 7 && g->t_ms == NOW && g->type == AK_EXPO_COUNTER);
    snprintf(key, sizeof(key), "b{instance=\"%s\",job=\"svc\",service=\"svc\",team=\"sre\"}",
             inst);
    g = col_find(&c, key);
    AK_ASSERT(g && g->value == 2.5 && g->t_ms == 1700000000000LL);
    snprintf(key, sizeof(key), "up{instance=\"%s\",job=\"svc\",service=\"svc\",team=\"sre\"}",
             inst);
    g = col_find(&c, key);
    AK_ASSERT(g && g->value == 1 && g->t_ms == NOW && g->type == AK_EXPO_GAUGE);
    snprintf(key, sizeof(key), "scrape_samples_scraped{instance=\"%s\",job=\"svc\","
             "service=\"svc\",team=\"sre\"}", inst);
    g = col_find(&c, key);
    AK_ASSERT(g && g->value == 2);
    snprintf(key, sizeof(key), "scrape_duration_seconds{instance=\"%s\",job=\"svc\","
             "service=\"svc\",team=\"sre\"}", inst);
    g = col_find(&c, key);
    AK_ASSERT(g && g->value >= 0 && g->value < 5 && g->value == res[PROM].duration_s);

    /* OpenMetrics by content type (the # EOF is required, the _total suffix allowed) */
    AK_ASSERT(res[OM].up);
    AK_ASSERT_EQ_INT(res[OM].samples, 1);
    snprintf(key, sizeof(key), "c_total{instance=\"%s\",job=\"svc\",x=\"1\"}", inst);
    AK_ASSERT(col_find(&c, key) != NULL);

    AK_ASSERT(!res[E500].up);
    AK_ASSERT_EQ_INT(res[E500].status, 500);
    AK_ASSERT_STR(res[E500].error, "HTTP 500");
    AK_ASSERT(!res[SLOW].up);
    AK_ASSERT_STR(res[SLOW].error, "timed out after 0.3 s");
    AK_ASSERT(res[SLOW].duration_s >= 0.25 && res[SLOW].duration_s < 2);
    AK_ASSERT(!res[BIG].up);
    AK_ASSERT_STR(res[BIG].error, "body larger than 1 KiB");
    AK_ASSERT(!res[BAD].up);
    AK_ASSERT_EQ_INT(res[BAD].samples, 0);
    AK_ASSERT_CONTAINS(res[BAD].error, "line 2: ");
    AK_ASSERT(!res[REFUSED].up);
    AK_ASSERT(res[REFUSED].error[0] != 0);
    AK_ASSERT(!res[BADURL].up);
    AK_ASSERT_CONTAINS(res[BADURL].error, "http://");

    /* up 0 for every failed target with a usable URL; nothing of the bad body but its up */
    AK_ASSERT_EQ_INT(col_count_prefix(&c, "up{"), N - 1);
    AK_ASSERT_EQ_INT(col_count_prefix(&c, "ok{"), 0);
    snprintf(key, sizeof(key), "up{instance=\"127.0.0.1:%d\",job=\"svc\"}", refused_port);
    g = col_find(&c, key);
    AK_ASSERT(g && g->value == 0);
    /* 2 + 1 samples, 3 synthetic series for each of the 7 targets with a URL */
    AK_ASSERT_EQ_INT(c.n, 3 + 3 * (N - 1));
    free(c.g);
}

AK_TEST(targets_abort_and_callback_stop)
{
    struct ak_scrape_target t[2] = {{.url = NULL, .job = "j"}, {.url = NULL, .job = "j"}};
    struct ak_scrape_result res[2];
    char url[128];
    atomic_bool stop = true;
    struct srv s;
    struct col c;

    ak_httpc_global_init();
    srv_start(&s);
    snprintf(url, sizeof(url), "%s/prom", s.base);
    t[0].url = t[1].url = url;
    col_init(&c);
    /* aborted before anything started: no traffic, no series, every result filled */
    AK_ASSERT_OK(ak_scrape_targets(t, 2, NOW, 0, &stop, col_fn, &c, res));
    AK_ASSERT_EQ_INT(c.n, 0);
    AK_ASSERT(!res[0].up && !res[1].up);
    AK_ASSERT_CONTAINS(res[1].error, "aborted");
    /* the callback refuses the second sample of the first target to finish */
    c.stop_at = 2;
    AK_ASSERT_EQ_INT(ak_scrape_targets(t, 2, NOW, 1, NULL, col_fn, &c, res), 42);
    srv_stop(&s);
    AK_ASSERT(!res[0].up);
    AK_ASSERT_EQ_INT(res[0].samples, 1);
    AK_ASSERT_CONTAINS(res[0].error, "code 42");
    AK_ASSERT(res[1].up); /* the other target went on */
    AK_ASSERT_EQ_INT(res[1].samples, 2);
    free(c.g);
}

/* ---- ak_scrape_query_range ---- */

AK_TEST(query_range_windows_split_and_reassembled)
{
    const int64_t start = 1700000000000LL, step = 15000;
    const int64_t end = start + 25000 * step + 7000; /* 25,001 points, end off the grid */
    struct ak_promapi_req req = {.query = "rate(x{a=\"b c\"}[5m]) & 1", .start_ms = start,
                                 .end_ms = end, .step_ms = step, .bearer_token = "tok123",
                                 .source = "prom1"};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char base[96];
    size_t nreq = 0, n0 = 0, n1 = 0;
    int64_t next0 = start, next1 = start;
    struct srv s;
    struct col c;

    ak_httpc_global_init();
    srv_start(&s);
    snprintf(base, sizeof(base), "%s/ok/", s.base);
    req.base_url = base;
    col_init(&c);
    AK_ASSERT_OK(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err));
    srv_stop(&s);
    AK_ASSERT_EQ_INT(nreq, 3);
    AK_ASSERT_EQ_INT(s.nq, 3);
    for (int i = 0; i < 3; i++) {
        AK_ASSERT_EQ_INT(s.q[i].start, start + i * 10000LL * step);
        AK_ASSERT_EQ_INT(s.q[i].step, step);
        AK_ASSERT((s.q[i].end - s.q[i].start) / step + 1 <= AK_PROMAPI_MAX_POINTS);
        AK_ASSERT_STR(s.q[i].query, req.query);
        AK_ASSERT_STR(s.q[i].auth, "Bearer tok123");
    }
    AK_ASSERT_EQ_INT(s.q[0].end, start + 9999 * step);
    AK_ASSERT_EQ_INT(s.q[2].end, end);
    /* every point once, in order, per series */
    for (size_t i = 0; i < c.n; i++) {
        const struct got *g = &c.g[i];
        bool k1 = strstr(g->key, "k=\"1\"") != NULL;
        int64_t *next = k1 ? &next1 : &next0;

        AK_ASSERT(strncmp(g->key, "m{k=", 4) == 0);
        AK_ASSERT_CONTAINS(g->key, "source=\"prom1\"");
        AK_ASSERT_EQ_INT(g->t_ms, *next);
        AK_ASSERT(g->value == (double)(g->t_ms / 1000));
        *next += step;
        if (k1)
            n1++;
        else
            n0++;
    }
    AK_ASSERT_EQ_INT(n0, 25001);
    AK_ASSERT_EQ_INT(n1, 25001);
    free(c.g);
    ak_buf_release(&err);
}

AK_TEST(query_range_errors)
{
    struct ak_promapi_req req = {.query = "up", .start_ms = 1700000000000LL,
                                 .end_ms = 1700000060000LL, .step_ms = 15000};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char base[96];
    size_t nreq = 99;
    struct srv s;
    struct col c;

    ak_httpc_global_init();
    col_init(&c);
    /* checked before any traffic */
    req.base_url = "http://127.0.0.1:1";
    req.step_ms = 0;
    AK_ASSERT_EQ_INT(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err), AK_EINVAL);
    req.step_ms = 1;
    req.end_ms = req.start_ms + 200000LL * 1000 * 1000;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err), AK_ETOOBIG);
    req.step_ms = 15000;
    req.end_ms = req.start_ms - 1;
    AK_ASSERT_EQ_INT(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err), AK_EINVAL);
    req.end_ms = req.start_ms + 60000;
    req.bearer_token = "a\r\nX-Evil: 1";
    AK_ASSERT_EQ_INT(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err), AK_EINVAL);
    req.bearer_token = NULL;

    srv_start(&s);
    snprintf(base, sizeof(base), "%s/bad400", s.base);
    req.base_url = base;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "HTTP 400 from the query API: bad_data: parse error.");
    snprintf(base, sizeof(base), "%s/down", s.base);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err), AK_EIO);
    AK_ASSERT_STR(err.buf, "HTTP 503 from the query API.");
    /* a response over max_bytes */
    snprintf(base, sizeof(base), "%s/ok", s.base);
    req.max_bytes = 100;
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_scrape_query_range(&req, col_fn, &c, &nreq, &err), AK_ETOOBIG);
    srv_stop(&s);
    AK_ASSERT_EQ_INT(nreq, 99);
    AK_ASSERT_EQ_INT(c.n, 0);
    free(c.g);
    ak_buf_release(&err);
}

AK_TEST_MAIN(AK_T(parse_label_rules_exported_and_sorted),
             AK_T(parse_instance_default_ports_and_extras_win),
             AK_T(parse_all_or_nothing_and_caps), AK_T(parse_many_samples_share_strings),
             AK_T(matrix_success_specials_and_source), AK_T(matrix_errors),
             AK_T(targets_round_against_a_server), AK_T(targets_abort_and_callback_stop),
             AK_T(query_range_windows_split_and_reassembled), AK_T(query_range_errors))
