/* ak_httpc.h — outgoing HTTP(S) (the only door to libcurl; src/httpc/).
 *
 * Every request has a total timeout, a response-size cap, no redirects unless asked, NOSIGNAL,
 * and (for https) peer and host verification against ca_file or the system store.
 * Call ak_httpc_global_init() once in main before threads start.
 */
#ifndef AK_HTTPC_H
#define AK_HTTPC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ak_buf.h"

struct ak_httpc_req {
    const char *method;      /* "GET" (default when NULL), "POST", ... */
    const char *url;
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const void *body;        /* request body for POST/PUT; may be NULL */
    size_t body_len;
    int64_t timeout_ms;      /* total; 0 = 10 s */
    size_t max_response;     /* cap on the response body; 0 = 1 MiB */
    const char *ca_file;     /* NULL = system store */
    bool https_only;         /* refuse anything but https:// */
    bool follow_redirects;   /* default false: a 3xx is returned as is */
};

struct ak_httpc_resp {
    long status;             /* HTTP status, 0 when no response */
    struct ak_buf body;      /* response body (capped) */
    char *content_type;      /* may be NULL */
    int64_t retry_after_ms;  /* from a Retry-After header (seconds or HTTP date), 0 if none */
};

void ak_httpc_global_init(void);
void ak_httpc_global_cleanup(void);

/* Performs the request. AK_OK when a response arrived (any status; check resp->status),
 * AK_ETOOBIG when the body passed max_response, AK_ETIMEDOUT, AK_EFORBIDDEN (scheme refused),
 * AK_EIO otherwise, with the reason in err. resp must be ak_httpc_resp_release()d in every case. */
int ak_httpc_do(const struct ak_httpc_req *req, struct ak_httpc_resp *resp, struct ak_buf *err);
void ak_httpc_resp_init(struct ak_httpc_resp *resp);
void ak_httpc_resp_release(struct ak_httpc_resp *resp);

/* SMTP submission through libcurl. url: smtp://host[:port] (STARTTLS as starttls says) or
 * smtps://host[:465]. The message is sent verbatim (CRLF line ends, dot-stuffing done by curl). */
struct ak_smtp_req {
    const char *url;
    const char *from;             /* envelope sender (MAIL FROM) */
    const char *const *rcpt;      /* envelope recipients, NULL-terminated */
    const char *username, *password; /* AUTH when username is set */
    int starttls;                 /* 1 required, 0 never, -1 when offered */
    const char *ca_file;
    const char *message;          /* the whole RFC 5322 message */
    size_t message_len;
    int64_t timeout_ms;           /* 0 = 30 s */
};
/* AK_OK when the server accepted the message; AK_EIO / AK_ETIMEDOUT (transient) or
 * AK_EFORBIDDEN (5xx permanent refusal, e.g. relay denied) with the server's reply in err. */
int ak_smtp_send(const struct ak_smtp_req *req, struct ak_buf *err);

/* ---- many requests at once (libcurl multi), for the pollers ----------------------------- */

/* A set of concurrent requests driven by one thread. Requests are added with a completion
 * callback; ak_httpc_multi_run performs them with at most max_in_flight transfers at once
 * (connections reused per host), calling each callback from inside run as its transfer ends.
 * A callback may add further requests (the next page, a retry): run returns when nothing is
 * left. A request can be delayed (delay_ms) for backoff without blocking the others.
 * Not thread-safe: one multi belongs to one thread. */
struct ak_httpc_multi;

/* done: rc is AK_OK when a response arrived (any status), else as ak_httpc_do; resp is owned by
 * the multi and valid only during the call (take resp->body with ak_buf_detach if it must outlive the call);
 * err is the reason when rc < 0 ("" otherwise). */
typedef void (*ak_httpc_done_fn)(void *arg, int rc, struct ak_httpc_resp *resp, const char *err);

int ak_httpc_multi_new(int max_in_flight, struct ak_httpc_multi **ret);
void ak_httpc_multi_free(struct ak_httpc_multi *m); /* NULL-safe; aborts what is left, no callbacks */

/* Queues req (url, headers, body are copied; ca_file must stay valid until done runs) to start
 * after delay_ms (0 = now). AK_EINVAL for a bad request (e.g. scheme refused by https_only:
 * then done is still called, with AK_EFORBIDDEN, from run). */
int ak_httpc_multi_add(struct ak_httpc_multi *m, const struct ak_httpc_req *req, int64_t delay_ms,
                       ak_httpc_done_fn done, void *arg);

/* Runs until no request is queued, delayed or in flight. Returns AK_OK, or AK_EIO when libcurl
 * itself fails (the remaining callbacks are then called with AK_EIO). */
int ak_httpc_multi_run(struct ak_httpc_multi *m);

/* When *flag becomes true (from any thread), run stops within a second: every request in flight
 * or waiting ends with AK_EIO and "aborted" in err (callbacks still run,
 * once each); what callbacks add then is dropped. flag may be NULL (never). */
void ak_httpc_multi_set_abort(struct ak_httpc_multi *m, const atomic_bool *flag);

/* Highest number of transfers that were in flight at once during the last run (for the
 * benchmark and metrics) and the number of requests it completed. */
int ak_httpc_multi_peak(const struct ak_httpc_multi *m);
uint64_t ak_httpc_multi_done_count(const struct ak_httpc_multi *m);

/* Percent-decodes / -encodes for URLs (RFC 3986 unreserved kept). Result malloc'ed. */
char *ak_url_escape(const char *s);

#endif
