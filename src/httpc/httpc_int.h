/* httpc_int.h — private to src/httpc: the easy-handle setup and response collection shared by
 * ak_httpc_do (httpc.c) and the multi interface (multi.c), so that both apply the same policy
 * (timeouts, caps, NOSIGNAL, no redirects, scheme restriction, CA file) and map errors alike. */
#ifndef AK_HTTPC_INT_H
#define AK_HTTPC_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_httpc.h"

/* Where a transfer's body goes; too_big is set when the write callback hit the cap. */
struct ak__httpc_sink {
    struct ak_buf *body;
    bool too_big;
};

/* The response cap of req (its max_response, or the 1 MiB default). */
size_t ak__httpc_max_response(const struct ak_httpc_req *req);

/* AK_OK for https://, and for http:// unless https_only; AK_EFORBIDDEN with a sentence in err
 * otherwise. Checked before libcurl sees the URL, so a refused scheme causes no traffic. */
int ak__httpc_check_scheme(const char *url, bool https_only, struct ak_buf *err);

/* The request's header list (its headers plus an empty "Expect:"), copied; the caller frees it
 * with curl_slist_free_all. AK_EINTERNAL on allocation failure. */
int ak__httpc_build_headers(const struct ak_httpc_req *req, struct curl_slist **ret,
                            struct ak_buf *err);

/* Sets every per-request option on h: URL, method and body, timeouts, protocols, redirects,
 * TLS verification, the response cap max, the error buffer and the write callback into sink.
 * h keeps pointers to req->url, req->body, errbuf and sink: they must outlive the transfer. */
void ak__httpc_set_options(CURL *h, const struct ak_httpc_req *req, size_t max, char *errbuf,
                           struct ak__httpc_sink *sink);

/* Empties resp for a new transfer with body cap max and points sink at its body. */
void ak__httpc_resp_begin(struct ak_httpc_resp *resp, size_t max, struct ak__httpc_sink *sink);

/* After a transfer on h: status, content type and Retry-After into resp. */
void ak__httpc_collect(CURL *h, struct ak_httpc_resp *resp);

/* A failed transfer's code: AK_ETOOBIG (cap), AK_ETIMEDOUT, else AK_EIO; the sentence in err
 * names the URL's host only (paths and queries may carry secrets). */
int ak__httpc_map_error(CURLcode rc, const struct ak__httpc_sink *sink, const char *url,
                        size_t max, const char *errbuf, struct ak_buf *err);

#endif
