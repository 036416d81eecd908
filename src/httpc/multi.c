/* multi.c — many HTTP(S) requests at once with libcurl's multi interface, for the pollers.
 *
 * Requests wait in one list ordered by due time (monotonic ms; ties keep the order of adding)
 * and are attached to the CURLM when due, at most max_in_flight at once. The connection cache
 * belongs to the CURLM, so a finished transfer's connection is reused by the next one to the
 * same host; the easy handles themselves are kept too (reset, not freed) for the next request.
 * Options, caps and error mapping are ak_httpc_do's own (httpc_int.h).
 */
#include "asakai/ak_httpc.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "httpc_int.h"
#include "src/core/ak_banned.h"

#define AK_MULTI_MAX_IN_FLIGHT 1024
/* A delay longer than a day is a caller's bug; capped so that now + delay cannot overflow. */
#define AK_MULTI_MAX_DELAY_MS (24 * 3600 * 1000LL)
/* The longest single wait in run: curl and the queue both give shorter ones when they need. */
#define AK_MULTI_POLL_MAX_MS 1000

struct entry {
    struct entry *next;        /* in the waiting list */
    struct ak_httpc_req req;   /* url, method and body point at the copies below */
    char *url, *method;
    void *body;
    struct curl_slist *headers;
    int64_t due_ms;            /* monotonic */
    ak_httpc_done_fn done;
    void *arg;
    int fail_rc;               /* < 0: refused at add, reported from run with this code */
    struct ak_buf err;
    /* while in flight */
    CURL *h;
    int slot;                  /* index in m->flight */
    size_t max;
    struct ak__httpc_sink sink;
    struct ak_httpc_resp resp;
    char errbuf[CURL_ERROR_SIZE];
};

struct ak_httpc_multi {
    CURLM *cm;
    int max_in_flight;
    struct entry *head, *tail; /* waiting, by due_ms */
    struct entry **flight;     /* max_in_flight slots, the first n_flight used */
    int n_flight;
    CURL **idle;               /* reset easy handles kept for reuse, at most max_in_flight */
    int n_idle;
    int peak;
    uint64_t done_count;
    bool in_run;
    const atomic_bool *abort;  /* ak_httpc_multi_set_abort */
};

static void entry_free(struct entry *e)
{
    free(e->url);
    free(e->method);
    free(e->body);
    curl_slist_free_all(e->headers);
    ak_httpc_resp_release(&e->resp);
    ak_buf_release(&e->err);
    free(e);
}

/* The request's own copies: the caller's buffers may be gone by the time it starts. */
static int entry_copy_req(struct entry *e, const struct ak_httpc_req *req)
{
    e->req = *req;
    e->req.headers = NULL; /* sent from e->headers */
    e->url = ak_xstrdup(req->url);
    e->req.url = e->url;
    e->method = ak_xstrdup(req->method);
    e->req.method = e->method;
    if (req->body) {
        /* an empty but present body still makes a POST, as in ak_httpc_do */
        e->body = ak_xmalloc(req->body_len ? req->body_len : 1);
        memcpy(e->body, req->body, req->body_len);
    }
    e->req.body = e->body;
    return ak__httpc_build_headers(req, &e->headers, &e->err);
}

/* Into the waiting list after every entry due at or before e. Appending is the common case
 * (no delay, or equal delays), so it is checked first. */
static void enqueue(struct ak_httpc_multi *m, struct entry *e)
{
    struct entry **pp;

    e->next = NULL;
    if (!m->head || m->tail->due_ms <= e->due_ms) {
        if (m->tail)
            m->tail->next = e;
        else
            m->head = e;
        m->tail = e;
        return;
    }
    for (pp = &m->head; (*pp)->due_ms <= e->due_ms; pp = &(*pp)->next) {
    }
    e->next = *pp; /* not NULL: the tail is due later than e */
    *pp = e;
}

static struct entry *dequeue(struct ak_httpc_multi *m)
{
    struct entry *e = m->head;

    m->head = e->next;
    if (!m->head)
        m->tail = NULL;
    e->next = NULL;
    return e;
}

int ak_httpc_multi_new(int max_in_flight, struct ak_httpc_multi **ret)
{
    struct ak_httpc_multi *m;

    if (!ret || max_in_flight < 1 || max_in_flight > AK_MULTI_MAX_IN_FLIGHT)
        return AK_EINVAL;
    m = ak_xcalloc(1, sizeof(*m));
    m->cm = curl_multi_init();
    if (!m->cm) {
        free(m);
        return AK_EINTERNAL;
    }
    m->max_in_flight = max_in_flight;
    m->flight = ak_xcalloc((size_t)max_in_flight, sizeof(*m->flight));
    m->idle = ak_xcalloc((size_t)max_in_flight, sizeof(*m->idle));
    /* One connection per transfer at most, and as many kept open for reuse. */
    curl_multi_setopt(m->cm, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_in_flight);
    curl_multi_setopt(m->cm, CURLMOPT_MAXCONNECTS, (long)max_in_flight);
    *ret = m;
    return AK_OK;
}

static void handle_put(struct ak_httpc_multi *m, CURL *h)
{
    if (m->n_idle < m->max_in_flight) {
        curl_easy_reset(h);
        m->idle[m->n_idle++] = h;
    } else
        curl_easy_cleanup(h);
}

/* Takes e out of the CURLM and the flight slots; its handle goes back to the idle ones. */
static void detach(struct ak_httpc_multi *m, struct entry *e)
{
    curl_multi_remove_handle(m->cm, e->h);
    m->n_flight--;
    m->flight[e->slot] = m->flight[m->n_flight];
    m->flight[e->slot]->slot = e->slot;
    m->flight[m->n_flight] = NULL;
    handle_put(m, e->h);
    e->h = NULL;
}

void ak_httpc_multi_free(struct ak_httpc_multi *m)
{
    if (!m)
        return;
    while (m->n_flight > 0) {
        struct entry *e = m->flight[0];

        detach(m, e);
        entry_free(e);
    }
    while (m->head)
        entry_free(dequeue(m));
    for (int i = 0; i < m->n_idle; i++)
        curl_easy_cleanup(m->idle[i]);
    curl_multi_cleanup(m->cm);
    free(m->flight);
    free(m->idle);
    free(m);
}

int ak_httpc_multi_add(struct ak_httpc_multi *m, const struct ak_httpc_req *req, int64_t delay_ms,
                       ak_httpc_done_fn done, void *arg)
{
    struct entry *e;
    int r;

    if (!m || !done)
        return AK_EINVAL;
    e = ak_xcalloc(1, sizeof(*e));
    ak_buf_init(&e->err, AK_BUF_NOMAX);
    ak_httpc_resp_init(&e->resp);
    e->done = done;
    e->arg = arg;
    if (!req || !req->url)
        r = ak_err(&e->err, AK_EINVAL, "No request URL was given.");
    else
        r = ak__httpc_check_scheme(req->url, req->https_only, &e->err);
    if (r == AK_OK)
        r = entry_copy_req(e, req);
    if (r < 0) {
        /* reported through done like any other outcome, so a caller has one place to look */
        e->fail_rc = r;
        delay_ms = 0;
    }
    if (delay_ms < 0)
        delay_ms = 0;
    if (delay_ms > AK_MULTI_MAX_DELAY_MS)
        delay_ms = AK_MULTI_MAX_DELAY_MS;
    e->due_ms = ak_now_mono_ms() + delay_ms;
    enqueue(m, e);
    return r < 0 ? AK_EINVAL : AK_OK;
}

/* Calls e's callback and frees e. */
static void finish(struct ak_httpc_multi *m, struct entry *e, int rc)
{
    if (rc < 0 && e->err.len == 0)
        ak_err(&e->err, rc, "The request failed: %s.", ak_strerror(rc));
    e->done(e->arg, rc, &e->resp, rc < 0 ? e->err.buf : "");
    m->done_count++;
    entry_free(e);
}

static int attach(struct ak_httpc_multi *m, struct entry *e)
{
    CURL *h = m->n_idle > 0 ? m->idle[--m->n_idle] : curl_easy_init();

    if (!h)
        return ak_err(&e->err, AK_EIO, "Cannot create a libcurl handle.");
    e->max = ak__httpc_max_response(&e->req);
    ak__httpc_resp_begin(&e->resp, e->max, &e->sink);
    e->errbuf[0] = 0;
    ak__httpc_set_options(h, &e->req, e->max, e->errbuf, &e->sink);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)e);
    if (curl_multi_add_handle(m->cm, h) != CURLM_OK) {
        handle_put(m, h);
        return ak_err(&e->err, AK_EIO, "libcurl refused to start the request.");
    }
    e->h = h;
    e->slot = m->n_flight;
    m->flight[m->n_flight++] = e;
    if (m->n_flight > m->peak)
        m->peak = m->n_flight;
    return AK_OK;
}

/* Starts what is due while there is room; refused requests are reported without a slot.
 * Callbacks may add entries meanwhile: the loop reads the list head afresh each time. */
static void start_due(struct ak_httpc_multi *m)
{
    int64_t now = ak_now_mono_ms();
    struct entry *e;
    int r;

    while (m->head && m->head->due_ms <= now) {
        if (!m->head->fail_rc && m->n_flight >= m->max_in_flight)
            return;
        e = dequeue(m);
        if (e->fail_rc) {
            finish(m, e, e->fail_rc);
            continue;
        }
        r = attach(m, e);
        if (r < 0)
            finish(m, e, r);
    }
}

/* Collects the finished transfers and calls their callbacks (the handle is out of the CURLM by
 * then, so a callback may add requests). */
static void drain(struct ak_httpc_multi *m)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(m->cm, &left)) != NULL) {
        struct entry *e;
        char *priv = NULL;
        CURLcode rc;
        int r = AK_OK;

        if (msg->msg != CURLMSG_DONE)
            continue;
        rc = msg->data.result;
        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv)
            continue; /* cannot happen: every attached handle has its entry */
        e = (struct entry *)(void *)priv;
        ak__httpc_collect(e->h, &e->resp);
        if (rc != CURLE_OK)
            r = ak__httpc_map_error(rc, &e->sink, e->url, e->max, e->errbuf, &e->err);
        detach(m, e);
        finish(m, e, r);
    }
}

/* How long run may wait for sockets: until curl wants to be called, or the next waiting entry
 * is due (when it could start), at most AK_MULTI_POLL_MAX_MS. */
static int wait_ms(struct ak_httpc_multi *m)
{
    int64_t w = AK_MULTI_POLL_MAX_MS, d;
    long t = -1;

    if (curl_multi_timeout(m->cm, &t) == CURLM_OK && t >= 0 && t < w)
        w = t;
    if (m->head && (m->head->fail_rc || m->n_flight < m->max_in_flight)) {
        d = m->head->due_ms - ak_now_mono_ms();
        if (d < w)
            w = d < 0 ? 0 : d;
    }
    return (int)w;
}

/* libcurl itself failed: every request in flight or waiting now is reported with AK_EIO (those
 * refused at add with their own code). Requests their callbacks add stay queued for a later run
 * or for free, so that a callback that retries on error cannot make this loop forever. */
void ak_httpc_multi_set_abort(struct ak_httpc_multi *m, const atomic_bool *flag)
{
    if (m)
        m->abort = flag;
}

static void fail_all(struct ak_httpc_multi *m, CURLMcode mc)
{
    struct entry *list = m->head, *e;

    m->head = m->tail = NULL;
    while (m->n_flight > 0) {
        e = m->flight[0];
        detach(m, e);
        ak_httpc_resp_release(&e->resp);
        e->next = list;
        list = e;
    }
    while ((e = list) != NULL) {
        list = e->next;
        if (e->fail_rc) {
            finish(m, e, e->fail_rc);
            continue;
        }
        if (mc == CURLM_OK)
            ak_err(&e->err, AK_EIO, "aborted: the client is stopping.");
        else
            ak_err(&e->err, AK_EIO, "libcurl failed: %s.", curl_multi_strerror(mc));
        finish(m, e, AK_EIO);
    }
}

int ak_httpc_multi_run(struct ak_httpc_multi *m)
{
    CURLMcode mc = CURLM_OK;
    uint64_t before;
    int running = 0;

    if (!m)
        return AK_EINVAL;
    AK_BUG_ON(m->in_run); /* run called from one of its own callbacks */
    m->in_run = true;
    m->peak = 0;
    m->done_count = 0;
    for (;;) {
        if (m->abort && atomic_load(m->abort)) {
            fail_all(m, CURLM_OK);
            break;
        }
        start_due(m);
        if (!m->head && m->n_flight == 0)
            break;
        mc = curl_multi_perform(m->cm, &running);
        if (mc != CURLM_OK)
            break;
        before = m->done_count;
        drain(m);
        if (m->done_count != before)
            continue; /* slots were freed: start what waits before sleeping */
        mc = curl_multi_poll(m->cm, NULL, 0, wait_ms(m), NULL);
        if (mc != CURLM_OK)
            break;
    }
    if (mc != CURLM_OK)
        fail_all(m, mc);
    m->in_run = false;
    if (m->abort && atomic_load(m->abort)) {
        /* what the callbacks of an abort added is dropped, not run */
        struct entry *e;
        while ((e = m->head) != NULL) {
            m->head = e->next;
            entry_free(e);
        }
        m->tail = NULL;
    }
    return mc == CURLM_OK ? AK_OK : AK_EIO;
}

int ak_httpc_multi_peak(const struct ak_httpc_multi *m)
{
    return m ? m->peak : 0;
}

uint64_t ak_httpc_multi_done_count(const struct ak_httpc_multi *m)
{
    return m ? m->done_count : 0;
}
