/* intake.c — what a delivery must pass before it is archived, and the archive hand-off.
 *
 * Order of checks for SNS (cheapest and least trusting first): envelope shape, topic allow-list,
 * SignatureVersion, certificate URL policy, certificate (cached by URL; fetched over https with no
 * redirects and a size cap; chain, names and dates checked), signature over the exact
 * string-to-sign. Nothing is stored and nothing is fetched for a message that fails a check
 * before that point. */
#include "asakai/ak_intake.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_events.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_log.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "intake_int.h"
#include "../core/ak_banned.h"

#define IMPORT_MAX_DOCS 10000

static void describe_metrics(void)
{
    ak_metrics_describe("asakai_intake_messages_total", "counter",
                        "Messages received at intake, by source and result.");
    ak_metrics_describe("asakai_intake_normalised_total", "counter",
                        "Archived messages normalised, by resulting state.");
    ak_metrics_describe("asakai_intake_commit_batch_messages", "summary",
                        "Messages per group commit.");
    ak_metrics_describe("asakai_intake_commit_seconds", "summary",
                        "Time of one group commit (insert + fsync).");
    ak_metrics_describe("asakai_store_op_seconds", "summary", "Store operation latency.");
    ak_metrics_describe("asakai_sns_cert_fetches_total", "counter",
                        "Signing certificate fetches, by result.");
    ak_metrics_describe("asakai_sns_subscription_confirmations_total", "counter",
                        "SubscribeURL visits, by result.");
}

int ak_intake_start(const struct ak_cfg *cfg, struct ak_intake **ret, struct ak_buf *err)
{
    struct ak_intake *in = ak_xcalloc(1, sizeof(*in));
    int r;

    describe_metrics();
    in->cfg = cfg;
    ak_maint_cfg_init(&in->mcfg, cfg);
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv_work, NULL);
    pthread_cond_init(&in->cv_done, NULL);
    pthread_mutex_init(&in->cache_mu, NULL);
    r = ak_store_open(cfg->data_dir, AK_STORE_WRITE, &in->st, err);
    if (r < 0)
        goto fail;
    if (pthread_create(&in->thread, NULL, ak__intake_writer_main, in) != 0) {
        r = ak_err(err, AK_EINTERNAL, "cannot start the intake writer thread");
        goto fail;
    }
    in->thread_started = true;
    *ret = in;
    return AK_OK;
fail:
    ak_intake_stop(in);
    return r;
}

void ak_intake_stop(struct ak_intake *in)
{
    if (!in)
        return;
    if (in->thread_started) {
        pthread_mutex_lock(&in->mu);
        in->stopping = true;
        pthread_cond_signal(&in->cv_work);
        pthread_mutex_unlock(&in->mu);
        pthread_join(in->thread, NULL);
    }
    ak_store_close(in->st);
    ak__intake_certs_free(in);
    for (size_t i = 0; i < in->n_res; i++) {
        if (in->res[i].ok) {
            regfree(&in->res[i].cert_re);
            regfree(&in->res[i].sub_re);
        }
    }
    pthread_mutex_destroy(&in->mu);
    pthread_cond_destroy(&in->cv_work);
    pthread_cond_destroy(&in->cv_done);
    pthread_mutex_destroy(&in->cache_mu);
    free(in);
}

void ak_intake_set_listener(struct ak_intake *in, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&in->mu);
    in->listener = fn;
    in->listener_arg = arg;
    pthread_mutex_unlock(&in->mu);
}

bool ak_intake_ready(struct ak_intake *in)
{
    pthread_mutex_lock(&in->mu);
    bool r = in->ready && !in->stopping;
    pthread_mutex_unlock(&in->mu);
    return r;
}

/* ---- results ------------------------------------------------------------------------- */

static void result_set(struct ak_intake_result *ret, int status, const char *result,
                       const char *reason)
{
    ret->status = status;
    snprintf(ret->result, sizeof(ret->result), "%s", result);
    snprintf(ret->reason, sizeof(ret->reason), "%s", reason ? reason : "");
}

static void count(const char *source, const char *result)
{
    char labels[96];
    snprintf(labels, sizeof(labels), "source=\"%s\",result=\"%s\"", source, result);
    ak_metrics_inc("asakai_intake_messages_total", labels);
}

static void reject(struct ak_intake_result *ret, const char *source, int status, const char *why,
                   const char *remote)
{
    result_set(ret, status, "rejected", why);
    count(source, "rejected");
    ak_log(AK_LOG_WARN, "intake", "rejected", "source", source, "status",
           status == 403 ? "403" : status == 401 ? "401" : status == 413 ? "413" : "400",
           "reason", why, "remote", remote, NULL);
}

/* ---- SNS policy ---------------------------------------------------------------------- */

static bool topic_allowed(const struct ak_cfg *cfg, const char *topic)
{
    for (size_t i = 0; i < cfg->sns_topics.n; i++)
        if (fnmatch(cfg->sns_topics.v[i], topic, 0) == 0)
            return true;
    return false;
}

static bool compile_region(const struct ak_cfg *cfg, const char *region, struct region_re *res);

/* Compiled URL patterns for one region (cached; regexec on a shared regex_t is thread-safe).
 * The cache holds REGION_RE_MAX regions; past that (a topic glob spanning regions lets anyone
 * send made-up ones before any signature check) the patterns are compiled for this message only:
 * *ret_temp is then true and the caller frees them with release_region(). */
static struct region_re *region_patterns(struct ak_intake *in, const char *region, bool *ret_temp)
{
    struct region_re *res = NULL;

    *ret_temp = false;
    if (strlen(region) >= sizeof(in->res[0].region))
        return NULL;
    pthread_mutex_lock(&in->cache_mu);
    for (size_t i = 0; i < in->n_res; i++)
        if (strcmp(in->res[i].region, region) == 0) {
            res = &in->res[i];
            goto out;
        }
    if (in->n_res >= REGION_RE_MAX) {
        pthread_mutex_unlock(&in->cache_mu);
        res = ak_xcalloc(1, sizeof(*res));
        *ret_temp = true;
        if (compile_region(in->cfg, region, res))
            return res;
        free(res);
        *ret_temp = false;
        return NULL;
    }
    res = &in->res[in->n_res];
    compile_region(in->cfg, region, res);
    in->n_res++;
out:
    pthread_mutex_unlock(&in->cache_mu);
    return res && res->ok ? res : NULL;
}

static void release_region(struct region_re *res, bool temp)
{
    if (!temp)
        return;
    regfree(&res->cert_re);
    regfree(&res->sub_re);
    free(res);
}

static bool compile_region(const struct ak_cfg *cfg, const char *region, struct region_re *res)
{
    snprintf(res->region, sizeof(res->region), "%s", region);
    char *a = ak__intake_expand_region(cfg->sns_cert_url_pattern, region, true);
    char *b = ak__intake_expand_region(cfg->sns_subscribe_url_pattern, region, true);
    res->ok = regcomp(&res->cert_re, a, REG_EXTENDED | REG_NOSUB) == 0;
    if (res->ok && regcomp(&res->sub_re, b, REG_EXTENDED | REG_NOSUB) != 0) {
        regfree(&res->cert_re);
        res->ok = false;
    }
    free(a);
    free(b);
    return res->ok;
}

static bool region_ok(const char *region)
{
    if (!region || !*region)
        return false;
    for (const char *p = region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

static int verify_signature(const struct ak_cert *cert, const struct ak_sns_msg *m,
                            struct ak_buf *why)
{
    struct ak_buf sts = AK_BUF_INIT(2 * 1024 * 1024);
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int r = ak_sns_string_to_sign(m, &sts);
    if (r < 0) {
        r = ak_err(why, AK_ESIG, "cannot build the string to sign");
        goto out;
    }
    if (ak_base64_decode(m->signature, strlen(m->signature), &sig, &siglen) < 0) {
        r = ak_err(why, AK_ESIG, "Signature is not valid base64");
        goto out;
    }
    r = ak_cert_verify(cert, ak_streq(m->signature_version, "2") ? AK_SIG_RSA_SHA256
                                                                  : AK_SIG_RSA_SHA1,
                       sts.buf, sts.len, sig, siglen, why);
    if (r < 0)
        r = AK_ESIG;
out:
    free(sig);
    ak_buf_release(&sts);
    return r;
}

static char *sns_meta(const struct ak_sns_msg *m, const char *remote)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_str(o, "type", m->type_str);
    ak_json_set_str(o, "topic_arn", m->topic_arn);
    ak_json_set_str(o, "message_id", m->message_id);
    ak_json_set_str(o, "signature_version", m->signature_version);
    ak_json_set_str(o, "signing_cert_url", m->signing_cert_url);
    ak_json_set_str(o, "remote", remote);
    char *s = ak_json_dump(o, AK_JSON_COMPACT);
    ak_json_free(o);
    return s;
}

/* Fills ret from the outcome of archiving one message. */
static void archive_result(struct ak_intake_result *ret, const char *source, int r, int64_t id,
                           bool dup)
{
    if (r < 0) {
        /* not stored: a 5xx makes SNS (and any sane sender) retry */
        result_set(ret, 503, "error", "could not store the message; retry");
        count(source, "error");
        return;
    }
    ret->raw_id = id;
    ret->duplicate = dup;
    result_set(ret, 200, dup ? "duplicate" : "accepted", NULL);
    count(source, dup ? "duplicate" : "accepted");
}

/* Archives one message through the writer, waiting for the commit; fills ret. */
static void archive_one(struct ak_intake *in, const char *source, struct ak_raw *raw,
                        struct ak_intake_result *ret)
{
    int64_t id = 0;
    bool dup = false;
    int rc = AK_EINTERNAL;
    struct job j = {.kind = JOB_ARCHIVE, .raws = raw, .ids = &id, .dups = &dup, .rcs = &rc, .n = 1};
    int r = ak__intake_submit(in, &j);

    archive_result(ret, source, r == AK_OK ? rc : r, id, dup);
}

static void confirm_subscription(struct ak_intake *in, const struct ak_sns_msg *m)
{
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    struct ak_buf why = AK_BUF_INIT(512);

    ak_httpc_resp_init(&resp);
    req.url = m->subscribe_url;
    req.timeout_ms = in->cfg->sns_fetch_timeout_ms;
    req.max_response = 64 * 1024;
    req.ca_file = in->cfg->sns_ca_file;
    req.https_only = true;
    int r = ak_httpc_do(&req, &resp, &why);
    if (r == AK_OK && resp.status == 200) {
        ak_metrics_inc("asakai_sns_subscription_confirmations_total", "result=\"ok\"");
        ak_log(AK_LOG_INFO, "intake", "subscription confirmed", "topic", m->topic_arn, NULL);
    } else {
        char st[16];
        snprintf(st, sizeof(st), "%ld", resp.status);
        ak_metrics_inc("asakai_sns_subscription_confirmations_total", "result=\"error\"");
        ak_log(AK_LOG_ERR, "intake", "subscription confirmation failed", "topic", m->topic_arn,
               "status", st, "error", why.buf, NULL);
    }
    ak_httpc_resp_release(&resp);
    ak_buf_release(&why);
}

/* Every check of an SNS delivery. AK_OK when m verified; otherwise ret is final. */
static int sns_verify(struct ak_intake *in, const char *body, size_t len, const char *remote,
                      struct ak_sns_msg *m, struct ak_intake_result *ret)
{
    const struct ak_cfg *cfg = in->cfg;
    struct ak_buf why = AK_BUF_INIT(512);
    struct cert_entry *ce = NULL;
    struct region_re *res = NULL;
    bool res_temp = false;
    int r = AK_EFORBIDDEN;

    if (ak_sns_parse(body, len, m, &why) < 0) {
        reject(ret, "sns", 400, why.len ? why.buf : "not an SNS message", remote);
        goto out;
    }
    if (!topic_allowed(cfg, m->topic_arn)) {
        ak_buf_reset(&why);
        ak_buf_addf(&why, "topic %s is not in intake.sns.topics", m->topic_arn);
        reject(ret, "sns", 403, why.buf, remote);
        goto out;
    }
    if (!ak_streq(m->signature_version, "1") && !ak_streq(m->signature_version, "2")) {
        reject(ret, "sns", 403, "unknown SignatureVersion (only 1 and 2 are accepted)", remote);
        goto out;
    }
    if (!region_ok(m->region) || !(res = region_patterns(in, m->region, &res_temp))) {
        reject(ret, "sns", 403, "TopicArn region is not valid", remote);
        goto out;
    }
    if (!ak_startswith(m->signing_cert_url, "https://") ||
        regexec(&res->cert_re, m->signing_cert_url, 0, NULL, 0) != 0) {
        reject(ret, "sns", 403, "SigningCertURL is not an allowed SNS certificate URL", remote);
        goto out;
    }
    if (m->type == AK_SNS_SUBSCRIPTION_CONFIRMATION &&
        (!ak_startswith(m->subscribe_url, "https://") ||
         regexec(&res->sub_re, m->subscribe_url, 0, NULL, 0) != 0)) {
        reject(ret, "sns", 403, "SubscribeURL is not an SNS endpoint of the topic's region", remote);
        goto out;
    }
    ak_buf_reset(&why);
    r = ak__intake_cert_get(in, m->signing_cert_url, m->region, &ce, &why);
    if (r < 0) {
        if (r == AK_ETIMEDOUT || r == AK_EIO || r == AK_EBUSY) {
            /* transient: let SNS retry rather than refuse a genuine message */
            result_set(ret, 503, "error", why.buf);
            count("sns", "error");
            ak_log(AK_LOG_WARN, "intake", "certificate unavailable", "reason", why.buf, NULL);
        } else
            reject(ret, "sns", 403, why.buf, remote);
        goto out;
    }
    ak_buf_reset(&why);
    r = verify_signature(ce->cert, m, &why);
    if (r < 0)
        reject(ret, "sns", 403, why.len ? why.buf : "signature does not verify", remote);
    else
        ak__intake_cert_verified(in, ce);
out:
    ak__intake_cert_put(in, ce);
    if (res)
        release_region(res, res_temp);
    ak_buf_release(&why);
    return r;
}

static void sns_raw(const struct ak_sns_msg *m, const char *body, size_t len, const char *remote,
                    struct ak_raw *raw)
{
    raw->channel = (char *)"sns";
    raw->dedupe_id = ak_xasprintf("sns:%s", m->message_id);
    raw->received_at = ak_now_wall_ms();
    raw->remote = (char *)remote;
    raw->meta = sns_meta(m, remote);
    raw->body = (char *)body;
    raw->body_len = len;
}

void ak_intake_sns(struct ak_intake *in, const char *body, size_t len, const char *remote,
                   struct ak_intake_result *ret)
{
    struct ak_sns_msg m;
    struct ak_raw raw = {0};

    memset(&m, 0, sizeof(m));
    memset(ret, 0, sizeof(*ret));
    if (sns_verify(in, body, len, remote, &m, ret) < 0)
        goto out;
    sns_raw(&m, body, len, remote, &raw);
    archive_one(in, "sns", &raw, ret);
    if (ret->status != 200)
        goto out;
    if (m.type == AK_SNS_SUBSCRIPTION_CONFIRMATION && !ret->duplicate && in->cfg->sns_auto_confirm)
        confirm_subscription(in, &m);
    else if (m.type == AK_SNS_UNSUBSCRIBE_CONFIRMATION && !ret->duplicate)
        ak_log(AK_LOG_WARN, "intake", "asakai was unsubscribed from a topic (not re-subscribing)",
               "topic", m.topic_arn, NULL);
out:
    free(raw.dedupe_id);
    free(raw.meta);
    ak_sns_msg_release(&m);
}

/* One queued asynchronous SNS notification (owned by the writer once queued). */
struct sns_pending {
    struct job job; /* first member: the writer hands back &job */
    struct ak_raw raw;
    int64_t id;
    bool dup;
    int rc;
    struct ak_intake_result *ret;
    void (*done)(void *arg);
    void *arg;
};

static void sns_pending_complete(struct job *j)
{
    struct sns_pending *p = (struct sns_pending *)j;
    archive_result(p->ret, "sns", j->rc == AK_OK ? p->rc : j->rc, p->id, p->dup);
    free(p->raw.dedupe_id);
    free(p->raw.meta);
    void (*done)(void *) = p->done;
    void *arg = p->arg;
    free(p);
    done(arg);
}

bool ak_intake_sns_async(struct ak_intake *in, const char *body, size_t len, const char *remote,
                         struct ak_intake_result *ret, void (*done)(void *arg), void *arg)
{
    struct ak_sns_msg m;
    struct sns_pending *p;

    memset(&m, 0, sizeof(m));
    memset(ret, 0, sizeof(*ret));
    if (sns_verify(in, body, len, remote, &m, ret) < 0) {
        ak_sns_msg_release(&m);
        return false;
    }
    if (m.type != AK_SNS_NOTIFICATION) { /* rare; may visit SubscribeURL: stay synchronous */
        ak_sns_msg_release(&m);
        ak_intake_sns(in, body, len, remote, ret);
        return false;
    }
    p = ak_xcalloc(1, sizeof(*p));
    sns_raw(&m, body, len, remote, &p->raw);
    ak_sns_msg_release(&m);
    p->ret = ret;
    p->done = done;
    p->arg = arg;
    p->rc = AK_EINTERNAL;
    p->job.kind = JOB_ARCHIVE;
    p->job.raws = &p->raw;
    p->job.ids = &p->id;
    p->job.dups = &p->dup;
    p->job.rcs = &p->rc;
    p->job.n = 1;
    p->job.complete = sns_pending_complete;
    if (ak__intake_submit_async(in, &p->job) < 0) {
        archive_result(ret, "sns", AK_EBUSY, 0, false);
        free(p->raw.dedupe_id);
        free(p->raw.meta);
        free(p);
        return false;
    }
    return true;
}

/* "eb:<id>" when the event has a string id, else the body's SHA-256. */
static char *event_dedupe_id(const char *body, size_t len)
{
    struct ak_json *j = ak_json_parse(body, len, NULL);
    const char *id = ak_json_get_str(j, "id");
    char *s;
    if (id && *id && strlen(id) < 200)
        s = ak_xasprintf("eb:%s", id);
    else {
        char hex[65];
        ak_sha256_hex(body, len, hex);
        s = ak_xasprintf("sha256:%s", hex);
    }
    ak_json_free(j);
    return s;
}

void ak_intake_eventbridge(struct ak_intake *in, const char *body, size_t len, const char *remote,
                           const char *api_key_value, struct ak_intake_result *ret)
{
    const char *key = in->cfg->eb_api_key;
    struct ak_buf why = AK_BUF_INIT(512);
    struct ak_json *j = NULL;
    struct ak_raw raw = {0};
    char *dedupe = NULL;

    memset(ret, 0, sizeof(*ret));
    if (!key || !*key) {
        reject(ret, "eventbridge", 401, "endpoint disabled: intake.eventbridge.api_key is not set",
               remote);
        goto out;
    }
    if (!api_key_value || !ak_ct_equal(api_key_value, strlen(api_key_value), key, strlen(key))) {
        reject(ret, "eventbridge", 401, "missing or wrong API key", remote);
        goto out;
    }
    j = ak_json_parse(body, len, &why);
    if (!j || !ak_json_is_obj(j)) {
        reject(ret, "eventbridge", 400, j ? "body is not a JSON object" : why.buf, remote);
        goto out;
    }
    dedupe = event_dedupe_id(body, len);
    raw.channel = (char *)"eventbridge";
    raw.dedupe_id = dedupe;
    raw.received_at = ak_now_wall_ms();
    raw.remote = (char *)remote;
    raw.body = (char *)body;
    raw.body_len = len;
    archive_one(in, "eventbridge", &raw, ret);
out:
    ak_json_free(j);
    free(dedupe);
    ak_buf_release(&why);
}

/* ---- import -------------------------------------------------------------------------- */

struct import_docs {
    char **docs;
    size_t *lens;
    size_t n, alloc;
};

static int collect_doc(const char *doc, size_t len, size_t index, void *arg)
{
    struct import_docs *d = arg;
    (void)index;
    if (d->n >= IMPORT_MAX_DOCS)
        return AK_ETOOBIG;
    if (d->n == d->alloc) {
        d->alloc = d->alloc ? d->alloc * 2 : 16;
        d->docs = ak_xrealloc(d->docs, d->alloc * sizeof(*d->docs));
        d->lens = ak_xrealloc(d->lens, d->alloc * sizeof(*d->lens));
    }
    d->docs[d->n] = ak_xstrndup(doc, len);
    d->lens[d->n] = len;
    d->n++;
    return AK_OK;
}

static char *doc_dedupe_id(const char *doc, size_t len)
{
    if (ak_sns_looks_like(doc, len)) {
        struct ak_sns_msg m;
        memset(&m, 0, sizeof(m));
        if (ak_sns_parse(doc, len, &m, NULL) == AK_OK) {
            /* its own namespace: an unverified file must never make a later genuine delivery of
             * that MessageId look like a duplicate (the record dedupes them by key anyway) */
            char *s = ak_xasprintf("import:sns:%s", m.message_id);
            ak_sns_msg_release(&m);
            return s;
        }
        ak_sns_msg_release(&m);
    }
    char *id = event_dedupe_id(doc, len);
    char *s = ak_xasprintf("import:%s", id);
    free(id);
    return s;
}

int ak_intake_import(struct ak_intake *in, const char *channel, const char *name,
                     const char *body, size_t len, struct ak_json **ret_report, struct ak_buf *err)
{
    struct import_docs d = {0};
    struct ak_buf split_err = AK_BUF_INIT(512);
    struct ak_raw *raws = NULL;
    int64_t *ids = NULL;
    bool *dups = NULL;
    int *rcs = NULL;
    char *meta = NULL;
    int64_t now = ak_now_wall_ms();
    size_t accepted = 0, duplicate = 0, skipped = 0, unparsed = 0;
    int split_rc, r;

    split_rc = ak_events_split(body, len, collect_doc, &d, &split_err);
    raws = ak_xcalloc(d.n ? d.n : 1, sizeof(*raws));
    ids = ak_xcalloc(d.n ? d.n : 1, sizeof(*ids));
    dups = ak_xcalloc(d.n ? d.n : 1, sizeof(*dups));
    rcs = ak_xcalloc(d.n ? d.n : 1, sizeof(*rcs));
    struct ak_json *mo = ak_json_new_obj();
    ak_json_set_str(mo, "file", name);
    meta = ak_json_dump(mo, AK_JSON_COMPACT);
    ak_json_free(mo);
    for (size_t i = 0; i < d.n; i++) {
        raws[i].channel = (char *)channel;
        raws[i].dedupe_id = doc_dedupe_id(d.docs[i], d.lens[i]);
        raws[i].received_at = now;
        raws[i].remote = (char *)"cli";
        raws[i].meta = meta;
        raws[i].body = d.docs[i];
        raws[i].body_len = d.lens[i];
    }
    r = AK_OK;
    if (d.n) {
        struct job j = {.kind = JOB_ARCHIVE, .raws = raws, .ids = ids, .dups = dups, .rcs = rcs,
                        .n = d.n};
        r = ak__intake_submit(in, &j);
        if (r < 0) {
            ak_err(err, r, "could not store the imported messages: %s", ak_strerror(r));
            goto out;
        }
    }
    struct job p = {.kind = JOB_PROCESS, .ids = ids, .n = d.n};
    if (d.n && (r = ak__intake_submit(in, &p)) < 0) {
        ak_err(err, r, "stored, but normalisation is pending: %s", ak_strerror(r));
        goto out;
    }
    struct ak_json *docs = ak_json_new_arr();
    for (size_t i = 0; i < d.n; i++) {
        struct ak_json *o = ak_json_new_obj();
        const char *st = p.states && p.states[i] ? p.states[i] : "pending";
        const char *result;
        if (rcs[i] < 0) {
            result = "error";
            skipped++;
        } else if (dups[i]) {
            result = "duplicate";
            duplicate++;
        } else if (ak_streq(st, "parsed") || ak_streq(st, "control")) {
            result = "accepted";
            accepted++;
        } else if (ak_streq(st, "unparsed")) {
            result = "unparsed";
            unparsed++;
        } else {
            result = "skipped";
            skipped++;
        }
        ak_json_set_int(o, "index", (int64_t)i);
        ak_json_set_str(o, "result", result);
        ak_json_set_int(o, "raw_id", ids[i]);
        ak_json_set_str(o, "state", st);
        ak_json_set_str(o, "note", p.notes && p.notes[i] ? p.notes[i] : NULL);
        ak_json_append(docs, o);
        count("import", result);
    }
    if (split_rc < 0) {
        struct ak_json *o = ak_json_new_obj();
        ak_json_set_int(o, "index", (int64_t)d.n);
        ak_json_set_str(o, "result", "skipped");
        ak_json_set_str(o, "note", split_err.buf);
        ak_json_append(docs, o);
        skipped++;
    }
    struct ak_json *rep = ak_json_new_obj();
    ak_json_set_str(rep, "file", name);
    ak_json_set_int(rep, "accepted", (int64_t)accepted);
    ak_json_set_int(rep, "duplicate", (int64_t)duplicate);
    ak_json_set_int(rep, "unparsed", (int64_t)unparsed);
    ak_json_set_int(rep, "skipped", (int64_t)skipped);
    ak_json_set(rep, "documents", docs);
    *ret_report = rep;
    for (size_t i = 0; p.states && i < d.n; i++) {
        free(p.states[i]);
        free(p.notes[i]);
    }
    free(p.states);
    free(p.notes);
    r = AK_OK;
out:
    for (size_t i = 0; i < d.n; i++) {
        free(d.docs[i]);
        free(raws[i].dedupe_id);
    }
    free(d.docs);
    free(d.lens);
    free(raws);
    free(ids);
    free(dups);
    free(rcs);
    free(meta);
    ak_buf_release(&split_err);
    return r;
}
