/* certs.c — the SNS signing-certificate cache.
 *
 * Why a cache with references: a certificate is fetched once per URL and then used by every
 * worker thread; entries can be evicted (cache full, expired) while a worker still verifies with
 * one, so each user holds a reference and the last one frees an evicted entry. Failures are
 * cached too (a minute for refusals, seconds for transient errors) and fetches are rate limited,
 * so a flood of made-up certificate URLs cannot tie up workers or make us hammer the SNS host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "intake_int.h"
#include "../core/ak_banned.h"

char *ak__intake_expand_region(const char *pattern, const char *region, bool regex_escape)
{
    struct ak_buf b = AK_BUF_INIT(4096);
    for (const char *p = pattern; *p;) {
        if (strncmp(p, "{region}", 8) == 0) {
            for (const char *q = region; *q; q++) {
                if (regex_escape && strchr(".[]{}()\\*+?^$|", *q))
                    ak_buf_addc(&b, '\\');
                ak_buf_addc(&b, *q);
            }
            p += 8;
        } else
            ak_buf_addc(&b, *p++);
    }
    return ak_buf_detach(&b, NULL);
}

static void entry_free(struct cert_entry *e)
{
    free(e->url);
    ak_cert_free(e->cert);
    free(e);
}

/* Removes entry i from the cache (lock held); frees it unless someone still uses it. */
static void evict_locked(struct ak_intake *in, size_t i)
{
    struct cert_entry *e = in->certs[i];
    in->certs[i] = in->certs[--in->n_certs];
    e->in_cache = false;
    if (e->refs == 0)
        entry_free(e);
}

/* Finds a live entry for url (lock held), evicting expired ones on the way. */
static struct cert_entry *lookup_locked(struct ak_intake *in, const char *url, int64_t now)
{
    for (size_t i = 0; i < in->n_certs;) {
        struct cert_entry *e = in->certs[i];
        if (e->expires_ms <= now) {
            evict_locked(in, i);
            continue;
        }
        if (strcmp(e->url, url) == 0)
            return e;
        i++;
    }
    return NULL;
}

/* Eviction rank: cached failures go first, then certificates no message verified with yet,
 * then proven ones; oldest first within a rank. So a flood of made-up certificate URLs (or
 * valid certificates used with forged signatures) never pushes out the certificate genuine
 * messages use. */
static int rank(const struct cert_entry *e)
{
    return !e->cert ? 0 : !e->verified ? 1 : 2;
}

/* Inserts e (lock held), evicting the lowest-ranked, oldest entry when full. */
static void insert_locked(struct ak_intake *in, struct cert_entry *e)
{
    if (in->n_certs >= CERT_CACHE_MAX) {
        size_t victim = 0;
        for (size_t i = 1; i < in->n_certs; i++) {
            const struct cert_entry *a = in->certs[i], *v = in->certs[victim];
            if (rank(a) < rank(v) || (rank(a) == rank(v) && a->added_ms < v->added_ms))
                victim = i;
        }
        if (rank(e) < rank(in->certs[victim])) {
            entry_free(e); /* full of better entries: do not cache this one */
            return;
        }
        evict_locked(in, victim);
    }
    e->in_cache = true;
    in->certs[in->n_certs++] = e;
}

/* A cached answer: a reference to a certificate, or the cached failure. */
static int answer_locked(struct cert_entry *e, struct cert_entry **ret, struct ak_buf *why)
{
    if (e->cert) {
        e->refs++;
        *ret = e;
        return AK_OK;
    }
    ak_buf_add(why, e->reason);
    return e->err;
}

static bool fetch_allowed_locked(struct ak_intake *in, int64_t now)
{
    if (now - in->fetch_window_ms >= 1000) {
        in->fetch_window_ms = now;
        in->fetches_in_window = 0;
    }
    return in->fetches_in_window++ < CERT_FETCHES_PER_SEC;
}

/* Fetches and checks the certificate at url. */
static int fetch_and_check(struct ak_intake *in, const char *url, const char *region, int64_t now,
                           struct ak_cert **ret, struct ak_buf *why)
{
    const struct ak_cfg *cfg = in->cfg;
    struct ak_httpc_req req = {0};
    struct ak_httpc_resp resp;
    struct ak_cert *cert = NULL;
    char *names[16];
    size_t n_names = 0;
    int r;

    ak_httpc_resp_init(&resp);
    req.url = url;
    req.timeout_ms = cfg->sns_fetch_timeout_ms;
    req.max_response = cfg->sns_cert_max_bytes;
    req.ca_file = cfg->sns_ca_file;
    req.https_only = true;
    req.follow_redirects = false;
    r = ak_httpc_do(&req, &resp, why);
    if (r == AK_OK && (resp.status >= 500 || resp.status == 429))
        /* the certificate host has a hiccup: transient, so the sender retries (503) */
        r = ak_err(why, AK_EIO, "signing certificate fetch answered HTTP %ld", resp.status);
    else if (r == AK_OK && resp.status != 200)
        r = ak_err(why, AK_EFORBIDDEN, "signing certificate fetch answered HTTP %ld%s", resp.status,
                   resp.status >= 300 && resp.status < 400 ? " (redirects are refused)" : "");
    if (r == AK_ETOOBIG) {
        ak_buf_reset(why);
        r = ak_err(why, AK_EFORBIDDEN, "signing certificate is over %llu bytes",
                   (unsigned long long)cfg->sns_cert_max_bytes);
    }
    if (r < 0) {
        ak_metrics_inc("asakai_sns_cert_fetches_total", "result=\"error\"");
        goto out;
    }
    if (ak_cert_parse_pem(resp.body.buf, resp.body.len, &cert, why) < 0) {
        r = AK_EFORBIDDEN;
        goto out;
    }
    for (size_t i = 0; i < cfg->sns_cert_names.n && n_names < AK_ARRAY_SIZE(names); i++)
        names[n_names++] = ak__intake_expand_region(cfg->sns_cert_names.v[i], region, false);
    struct ak_cert_check chk = {
        .ca_file = cfg->sns_ca_file,
        .verify_chain = cfg->sns_verify_cert_chain,
        .now_ms = now,
        .names = (const char *const *)names,
        .n_names = n_names,
    };
    r = ak_cert_check(cert, &chk, why);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    if (r < 0) {
        ak_metrics_inc("asakai_sns_cert_fetches_total", "result=\"untrusted\"");
        r = AK_EFORBIDDEN;
        goto out;
    }
    ak_metrics_inc("asakai_sns_cert_fetches_total", "result=\"ok\"");
    *ret = cert;
    cert = NULL;
out:
    ak_cert_free(cert);
    ak_httpc_resp_release(&resp);
    return r;
}

int ak__intake_cert_get(struct ak_intake *in, const char *url, const char *region,
                        struct cert_entry **ret, struct ak_buf *why)
{
    int64_t now = ak_now_wall_ms();
    struct cert_entry *e;
    struct ak_cert *cert = NULL;
    int r;

    *ret = NULL;
    pthread_mutex_lock(&in->cache_mu);
    e = lookup_locked(in, url, now);
    if (e) {
        r = answer_locked(e, ret, why);
        pthread_mutex_unlock(&in->cache_mu);
        return r;
    }
    if (!fetch_allowed_locked(in, now)) {
        pthread_mutex_unlock(&in->cache_mu);
        ak_metrics_inc("asakai_sns_cert_fetches_total", "result=\"rate_limited\"");
        return ak_err(why, AK_EBUSY, "signing certificate fetches are rate limited; retry");
    }
    pthread_mutex_unlock(&in->cache_mu);

    r = fetch_and_check(in, url, region, now, &cert, why);

    e = ak_xcalloc(1, sizeof(*e));
    e->url = ak_xstrdup(url);
    e->added_ms = now;
    if (r == AK_OK) {
        e->cert = cert;
        int64_t na = ak_cert_not_after(cert);
        e->expires_ms = na && na < now + CERT_MAX_TTL_MS ? na : now + CERT_MAX_TTL_MS;
    } else {
        e->err = r;
        snprintf(e->reason, sizeof(e->reason), "%s", why->buf);
        bool transient = r == AK_EIO || r == AK_ETIMEDOUT || r == AK_EBUSY;
        e->expires_ms = now + (transient ? CERT_TRANSIENT_TTL_MS : CERT_FAIL_TTL_MS);
    }
    pthread_mutex_lock(&in->cache_mu);
    struct cert_entry *other = lookup_locked(in, url, now); /* another thread fetched it */
    if (other && other->cert) {
        entry_free(e);
        e = other;
    } else {
        for (size_t i = 0; other && i < in->n_certs; i++)
            if (in->certs[i] == other) { /* a cached failure: ours is newer */
                evict_locked(in, i);
                break;
            }
        if (e->cert) { /* take our reference first: insert_locked may free a failure entry */
            e->refs++;
            *ret = e;
            r = AK_OK;
        }
        insert_locked(in, e);
        pthread_mutex_unlock(&in->cache_mu);
        return r;
    }
    e->refs++; /* another thread's good entry */
    *ret = e;
    pthread_mutex_unlock(&in->cache_mu);
    return AK_OK;
}

void ak__intake_cert_verified(struct ak_intake *in, struct cert_entry *e)
{
    pthread_mutex_lock(&in->cache_mu);
    e->verified = true;
    pthread_mutex_unlock(&in->cache_mu);
}

void ak__intake_cert_put(struct ak_intake *in, struct cert_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&in->cache_mu);
    bool gone = --e->refs == 0 && !e->in_cache;
    pthread_mutex_unlock(&in->cache_mu);
    if (gone)
        entry_free(e);
}

void ak__intake_certs_free(struct ak_intake *in)
{
    for (size_t i = 0; i < in->n_certs; i++)
        entry_free(in->certs[i]);
    in->n_certs = 0;
}
