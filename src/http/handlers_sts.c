/* handlers_sts.c — the STS twin's routes (/sts, unsigned or SigV4 as AWS has it: not behind the
 * API token), its audit (/api/v1/oidc/log), and SigV4 authentication of API requests with
 * credentials the twin issued (a CI job calls /api/v1 keylessly). */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_log.h"
#include "asakai/ak_sts.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define MAX_HEADERS 128

struct collect {
    struct ak__http_sts_wire *w;
    struct ak_buf *q;
};

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct ak__http_sts_wire *w = cls;
    (void)kind;
    if (w->n_headers >= MAX_HEADERS)
        return MHD_NO;
    w->headers[w->n_headers++] = ak_xasprintf("%s: %s", key, value ? value : "");
    return MHD_YES;
}

/* RFC 3986 percent-encoding (unreserved kept), as SigV4 canonicalises anyway. */
static void pct(struct ak_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            ak_buf_addc(b, (char)c);
        else
            ak_buf_addf(b, "%%%02X", c);
    }
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct collect *c = cls;
    (void)kind;
    ak_buf_addc(c->q, c->q->len ? '&' : '?');
    pct(c->q, key);
    ak_buf_addc(c->q, '=');
    if (value)
        pct(c->q, value);
    return MHD_YES;
}

void ak__http_sts_wire_build(struct ak_http_req *rq, struct ak__http_sts_wire *w,
                             struct ak_sts_req *out)
{
    struct ak_buf q = AK_BUF_INIT(64 * 1024);
    struct collect c = {w, &q};

    memset(w, 0, sizeof(*w));
    w->headers = ak_xcalloc(MAX_HEADERS + 1, sizeof(char *));
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, add_header, w);
    /* libmicrohttpd hands over the query already split and decoded: re-encode it (the
     * canonical request sorts and re-encodes, so the original spelling does not matter) */
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, add_arg, &c);
    w->path_query = ak_xasprintf("%s%s", rq->path, q.buf);
    ak_buf_release(&q);
    memset(out, 0, sizeof(*out));
    out->method = rq->method;
    out->path_query = w->path_query;
    out->headers = (const char *const *)w->headers;
    out->body = rq->body.buf;
    out->body_len = rq->body.len;
    out->remote = rq->remote;
}

void ak__http_sts_wire_release(struct ak__http_sts_wire *w)
{
    for (size_t i = 0; i < w->n_headers; i++)
        free(w->headers[i]);
    free(w->headers);
    free(w->path_query);
    memset(w, 0, sizeof(*w));
}

void ak__http_sts(struct ak_http_req *rq, const char *tail)
{
    struct ak__http_sts_wire w;
    struct ak_sts_req in;
    struct ak_sts_resp out;

    (void)tail;
    if (!rq->sts) {
        ak__http_error(rq, 404, "the STS twin is off (sts.enabled: false)");
        return;
    }
    ak__http_sts_wire_build(rq, &w, &in);
    ak_sts_handle(rq->sts, &in, &out);
    ak_buf_reset(&rq->out);
    ak_buf_addn(&rq->out, out.body.buf, out.body.len);
    rq->status = out.status;
    rq->content_type = out.content_type;
    snprintf(rq->request_id, sizeof(rq->request_id), "%s", out.request_id);
    ak_buf_release(&out.body);
    ak__http_sts_wire_release(&w);
}

bool ak__http_sts_auth(struct ak_http_req *rq)
{
    struct ak__http_sts_wire w;
    struct ak_sts_req in;
    struct ak_buf err = AK_BUF_INIT(1024);
    char *arn = NULL;
    int r;

    ak__http_sts_wire_build(rq, &w, &in);
    r = ak_sts_authenticate(rq->sts, &in, &arn, &err);
    ak__http_sts_wire_release(&w);
    if (r == AK_OK) {
        ak_log(AK_LOG_DEBUG, "http", "API request signed by an STS twin session", "principal",
               arn, "path", rq->path, NULL);
        free(arn);
        ak_buf_release(&err);
        return true;
    }
    if (r == AK_EFORBIDDEN)
        ak__http_error(rq, 403, "%s", err.buf);
    else
        ak__http_error(rq, 401, "SigV4 authentication failed: %s",
                       err.len ? err.buf : ak_strerror(r));
    ak_buf_release(&err);
    return false;
}

void ak__http_oidc_log(struct ak_http_req *rq, const char *tail)
{
    const char *result = ak__http_arg(rq, "result");
    const char *lim = ak__http_arg(rq, "limit");
    struct ak_buf err = AK_BUF_INIT(512);
    struct ak_json *j = NULL;
    uint64_t limit = 100;
    int r;

    (void)tail;
    if (!rq->sts) {
        ak__http_error(rq, 404, "the STS twin is off (sts.enabled: false)");
        goto out;
    }
    if (lim && ak_parse_u64(lim, 1, 1000, &limit) < 0) {
        ak__http_error(rq, 400, "limit must be a number from 1 to 1000");
        goto out;
    }
    r = ak_sts_log(rq->sts, result, (size_t)limit, &j, &err);
    if (r < 0)
        ak__http_error(rq, ak_err_http_status(r), "%s", err.buf);
    else
        ak__http_json(rq, 200, j);
out:
    ak_buf_release(&err);
}
