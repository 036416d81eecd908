/* promapi.c — reading series from a Prometheus-compatible query API (/api/v1/query_range):
 * the range is cut into windows of at most AK_PROMAPI_MAX_POINTS steps, each POSTed as a form,
 * and each JSON matrix answer is checked whole before its samples are delivered
 * (docs/internals/scrape.md).
 */
#include "asakai/ak_scrape.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "scrape_int.h"
#include "src/core/ak_banned.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_BYTES (64u * 1024 * 1024)
#define MAX_BODY (256u * 1024 * 1024)   /* one response, whatever max_bytes says */
#define MAX_SERIES 100000               /* series in one response */
#define MAX_REQUESTS 10000              /* windows in one read */
#define MAX_QUERY_LEN (64 * 1024)
#define MAX_TIME_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */
#define MAX_STEP_MS (366LL * 24 * 3600 * 1000)
#define NO_NAME "query_result"

/* A series value: a JSON string with a Prometheus float ("1.5", "1e3", "NaN", "+Inf", "-Inf"). */
static int parse_value(const char *s, size_t n, double *ret)
{
    char *end = NULL;

    if (strcmp(s, "NaN") == 0) {
        *ret = NAN;
        return AK_OK;
    }
    if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0 || strcmp(s, "-Inf") == 0) {
        *ret = s[0] == '-' ? -INFINITY : INFINITY;
        return AK_OK;
    }
    /* strtod also takes hex, "inf", "nan(...)" and leading blanks: only plain decimals pass */
    if (n == 0 || n > 64 || strspn(s, "0123456789+-.eE") != n)
        return AK_EINVAL;
    *ret = strtod(s, &end);
    return end == s + n ? AK_OK : AK_EINVAL;
}

/* A point's time: seconds (integer or fraction) to ms, rounded to the nearest. */
static int parse_time(const struct ak_json *t, int64_t *ret)
{
    double s;

    if (!ak_json_is_num(t))
        return AK_EINVAL;
    s = ak_json_is_int(t) ? (double)ak_json_int(t) : ak_json_num(t);
    if (!isfinite(s) || s < 0 || s * 1000.0 > (double)MAX_TIME_MS)
        return AK_EINVAL;
    *ret = llround(s * 1000.0);
    return AK_OK;
}

struct matrix {
    const char *source;
    struct ak_expo_label src;   /* the imposed "source" label */
    size_t nsrc;
    struct ak_expo_label in[AK_EXPO_MAX_LABELS];
    struct ak__scrape_lset ls;
    ak_scrape_sample_fn fn;     /* NULL in the checking pass */
    void *arg;
    struct ak_buf *err;
};

/* The series' name and labels (sorted) into m->in; *ret_n labels. */
static int series_labels(struct matrix *m, size_t k, const struct ak_json *metric,
                         const char **ret_name, size_t *ret_n)
{
    size_t n = 0;

    *ret_name = NO_NAME;
    if (!ak_json_is_obj(metric))
        return ak_err(m->err, AK_EINVAL, "Series %zu of the query result has no \"metric\" "
                      "object.", k);
    for (void *it = ak_json_iter(metric); it; it = ak_json_iter_next(metric, it)) {
        const char *key = ak_json_iter_key(it);
        const struct ak_json *v = ak_json_iter_value(it);

        if (!ak_json_is_str(v) || !key[0])
            return ak_err(m->err, AK_EINVAL, "Series %zu of the query result has a label that "
                          "is unnamed or not a string.", k);
        if (strcmp(key, "__name__") == 0) {
            if (ak_json_str_len(v) > 0)
                *ret_name = ak_json_str(v);
            continue;
        }
        if (n == AK_EXPO_MAX_LABELS)
            return ak_err(m->err, AK_ETOOBIG, "Series %zu of the query result has more than %d "
                          "labels.", k, AK_EXPO_MAX_LABELS);
        m->in[n].name = key;
        m->in[n].value = ak_json_str(v);
        m->in[n++].value_len = ak_json_str_len(v);
    }
    ak__scrape_sort_labels(m->in, n);
    *ret_n = n;
    return AK_OK;
}

static int one_series(struct matrix *m, size_t k, const struct ak_json *ser)
{
    const struct ak_json *values = ak_json_get(ser, "values");
    struct ak_scrape_sample s = {.type = AK_EXPO_UNTYPED};
    size_t n = 0;
    int64_t last = 0;
    int r;

    r = series_labels(m, k, ak_json_get(ser, "metric"), &s.name, &n);
    if (r < 0)
        return r;
    if (!ak_json_is_arr(values))
        return ak_err(m->err, AK_EINVAL, "Series %zu of the query result has no \"values\" "
                      "array.", k);
    ak__scrape_merge(&m->ls, m->in, n, &m->src, m->nsrc);
    s.labels = m->ls.out;
    s.nlabels = m->ls.n;
    for (size_t i = 0; i < ak_json_len(values); i++) {
        const struct ak_json *p = ak_json_at(values, i), *v = ak_json_at(p, 1);

        if (!ak_json_is_arr(p) || ak_json_len(p) != 2 || parse_time(ak_json_at(p, 0), &s.t_ms) ||
            !ak_json_is_str(v) || parse_value(ak_json_str(v), ak_json_str_len(v), &s.value))
            return ak_err(m->err, AK_EINVAL, "Point %zu of series %zu of the query result is not "
                          "[<seconds>, \"<number>\"].", i, k);
        if (i > 0 && s.t_ms <= last)
            return ak_err(m->err, AK_EINVAL, "Point %zu of series %zu of the query result is not "
                          "later than the one before.", i, k);
        last = s.t_ms;
        if (m->fn && (r = m->fn(m->arg, &s)) != 0)
            return r;
    }
    return AK_OK;
}

/* The envelope: AK_OK with *ret_result the matrix's result array, or the error it carries. */
static int envelope(const struct ak_json *j, const struct ak_json **ret_result, struct ak_buf *err)
{
    const char *status = ak_json_get_str(j, "status"), *rt;
    const struct ak_json *data = ak_json_get(j, "data"), *result;

    if (!ak_json_is_obj(j))
        return ak_err(err, AK_EINVAL, "The query API response is not a JSON object.");
    if (ak_streq(status, "error")) {
        const char *et = ak_json_get_str(j, "errorType"), *e = ak_json_get_str(j, "error");

        return ak_err(err, AK_EINVAL, "%s: %s.", et && *et ? et : "error",
                      e && *e ? e : "no reason given");
    }
    if (!ak_streq(status, "success"))
        return ak_err(err, AK_EINVAL, "The query API response has no status \"success\".");
    rt = ak_json_get_str(data, "resultType");
    if (!ak_streq(rt, "matrix"))
        return ak_err(err, AK_EINVAL, "The query API answered a result of type \"%.32s\" where "
                      "a matrix was expected.", rt ? rt : "(none)");
    result = ak_json_get(data, "result");
    if (!ak_json_is_arr(result))
        return ak_err(err, AK_EINVAL, "The query API response has no \"result\" array.");
    if (ak_json_len(result) > MAX_SERIES)
        return ak_err(err, AK_ETOOBIG, "The query API answered more than %d series.",
                      MAX_SERIES);
    *ret_result = result;
    return AK_OK;
}

static int walk(struct matrix *m, const struct ak_json *result)
{
    int r = AK_OK;

    for (size_t k = 0; r == AK_OK && k < ak_json_len(result); k++)
        r = one_series(m, k, ak_json_at(result, k));
    return r;
}

int ak_scrape_parse_matrix(const char *body, size_t len, const char *source,
                           ak_scrape_sample_fn fn, void *arg, struct ak_buf *err)
{
    struct ak_buf jerr = AK_BUF_INIT(512);
    struct ak_json *j = NULL;
    const struct ak_json *result = NULL;
    struct matrix m = {.source = source, .err = err};
    int r;

    if (!body && len)
        return ak_err(err, AK_EINVAL, "No query API response was given.");
    if (len > MAX_BODY)
        return ak_err(err, AK_ETOOBIG, "The query API response is larger than %u MiB.",
                      MAX_BODY >> 20);
    j = ak_json_parse(body ? body : "", len, &jerr);
    if (!j) {
        r = ak_err(err, AK_EINVAL, "The query API response is not valid JSON (%s).", jerr.buf);
        goto out;
    }
    r = envelope(j, &result, err);
    if (r < 0)
        goto out;
    if (source && source[0]) {
        m.src.name = "source";
        m.src.value = source;
        m.src.value_len = strlen(source);
        m.nsrc = 1;
    }
    ak__scrape_lset_init(&m.ls, AK_EXPO_MAX_LABELS, 1);
    /* check everything first: a response delivers all its samples or none */
    r = walk(&m, result);
    if (r == AK_OK && fn) {
        m.fn = fn;
        m.arg = arg;
        r = walk(&m, result);
    }
    ak__scrape_lset_release(&m.ls);
out:
    ak_json_free(j);
    ak_buf_release(&jerr);
    return r;
}

/* ---- query_range requests ----------------------------------------------------------------- */

/* ms as "<seconds>.<mmm>" (ms >= 0). */
static void fmt_ts(int64_t ms, char *out, size_t n)
{
    snprintf(out, n, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

static int check_req(const struct ak_promapi_req *req, struct ak_buf *err)
{
    if (!req || !req->base_url || !req->query)
        return ak_err(err, AK_EINVAL, "The query_range request lacks a base URL or a query.");
    if (!req->query[0] || strlen(req->query) > MAX_QUERY_LEN)
        return ak_err(err, AK_EINVAL, "The query is empty or longer than %d bytes.",
                      MAX_QUERY_LEN);
    if (req->step_ms <= 0 || req->step_ms > MAX_STEP_MS)
        return ak_err(err, AK_EINVAL, "The query step must be between 1 ms and 366 days.");
    if (req->start_ms < 0 || req->end_ms > MAX_TIME_MS || req->end_ms < req->start_ms)
        return ak_err(err, AK_EINVAL, "The query range is empty or out of bounds.");
    if ((req->end_ms - req->start_ms) / req->step_ms / AK_PROMAPI_MAX_POINTS >= MAX_REQUESTS)
        return ak_err(err, AK_ETOOBIG, "The query range needs more than %d requests at this "
                      "step.", MAX_REQUESTS);
    if (req->bearer_token && strpbrk(req->bearer_token, "\r\n"))
        return ak_err(err, AK_EINVAL, "The bearer token contains a line break.");
    return AK_OK;
}

/* The error of a non-2xx answer: the server's own when it sent the JSON envelope. A bad query
 * (400, 422) is AK_EINVAL, a server-side timeout AK_ETIMEDOUT, anything else AK_EIO. */
static int http_error(const struct ak_httpc_resp *resp, struct ak_buf *err)
{
    struct ak_json *j = ak_json_parse(resp->body.buf, resp->body.len, NULL);
    const char *et = ak_json_get_str(j, "errorType"), *e = ak_json_get_str(j, "error");
    int r = AK_EIO;

    if (resp->status == 400 || resp->status == 422)
        r = AK_EINVAL;
    else if (ak_streq(et, "timeout"))
        r = AK_ETIMEDOUT;
    if (e)
        r = ak_err(err, r, "HTTP %ld from the query API: %s: %.400s.", resp->status,
                   et && *et ? et : "error", e);
    else
        r = ak_err(err, r, "HTTP %ld from the query API.", resp->status);
    ak_json_free(j);
    return r;
}

/* One window [s, e]. */
static int one_request(const struct ak_promapi_req *req, const char *url, const char *query,
                       int64_t s, int64_t e, ak_scrape_sample_fn fn, void *arg,
                       struct ak_buf *err)
{
    struct ak_buf form = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_httpc_resp resp;
    char ts[3][32];
    char *auth = NULL;
    const char *headers[4] = {"Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL, NULL};
    struct ak_httpc_req hreq = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS,
        .max_response = req->max_bytes ? req->max_bytes : DEFAULT_MAX_BYTES,
        .ca_file = req->ca_file,
    };
    int r;

    ak_httpc_resp_init(&resp);
    fmt_ts(s, ts[0], sizeof(ts[0]));
    fmt_ts(e, ts[1], sizeof(ts[1]));
    fmt_ts(req->step_ms, ts[2], sizeof(ts[2]));
    (void)ak_buf_addf(&form, "query=%s&start=%s&end=%s&step=%s", query, ts[0], ts[1], ts[2]);
    if (req->bearer_token) {
        auth = ak_xasprintf("Authorization: Bearer %s", req->bearer_token);
        headers[2] = auth;
    }
    if (hreq.max_response > MAX_BODY)
        hreq.max_response = MAX_BODY;
    hreq.body = form.buf;
    hreq.body_len = form.len;
    r = ak_httpc_do(&hreq, &resp, err);
    if (r < 0)
        goto out;
    if (resp.status < 200 || resp.status > 299) {
        r = http_error(&resp, err);
        goto out;
    }
    r = ak_scrape_parse_matrix(resp.body.buf, resp.body.len, req->source, fn, arg, err);
out:
    ak_httpc_resp_release(&resp);
    ak_buf_release(&form);
    free(auth);
    return r;
}

int ak_scrape_query_range(const struct ak_promapi_req *req, ak_scrape_sample_fn fn, void *arg,
                          size_t *ret_requests, struct ak_buf *err)
{
    const int64_t k = AK_PROMAPI_MAX_POINTS;
    char *url = NULL, *query = NULL;
    size_t base_len, nreq = 0;
    int64_t s, e;
    int r;

    r = check_req(req, err);
    if (r < 0)
        return r;
    base_len = strlen(req->base_url);
    while (base_len > 0 && req->base_url[base_len - 1] == '/')
        base_len--;
    url = ak_xasprintf("%.*s/api/v1/query_range", (int)base_len, req->base_url);
    query = ak_url_escape(req->query);
    /* Windows on the step grid of start: [s, s + (k-1)*step], the next from s + k*step, so no
     * point is asked twice or skipped; the last one ends at end. */
    for (s = req->start_ms; s <= req->end_ms && r == AK_OK; s += k * req->step_ms) {
        e = s + (k - 1) * req->step_ms;
        if (e > req->end_ms)
            e = req->end_ms;
        nreq++;
        r = one_request(req, url, query, s, e, fn, arg, err);
    }
    free(url);
    free(query);
    if (r == AK_OK && ret_requests)
        *ret_requests = nreq;
    return r;
}
