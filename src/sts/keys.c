/* keys.c — each provider's signing keys: a static jwks_file, or OIDC discovery
 * (<iss>/.well-known/openid-configuration -> jwks_uri) over https only, cached for
 * sts.jwks_cache_ttl, refetched once on an unknown kid at most every
 * sts.jwks_refetch_min_interval (key rotation without letting a stream of made-up kids turn the
 * twin into a request amplifier against the IdP).
 *
 * The provider's mutex is held across a fetch: concurrent exchanges for one provider wait for
 * the one fetch (bounded by its timeout) instead of each making their own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_jwt.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "sts_int.h"
#include "../core/ak_banned.h"

#define FETCH_TIMEOUT_MS 5000
#define DISCOVERY_MAX (64 * 1024)

static int read_file(const char *path, char **ret, size_t *ret_len, struct ak_buf *err)
{
    FILE *f = fopen(path, "rb");
    struct ak_buf b = AK_BUF_INIT(AK_JWKS_MAX_BYTES);
    char chunk[4096];
    size_t n;
    int r = AK_OK;

    if (!f)
        return ak_err(err, AK_EIO, "cannot open %s", path);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (ak_buf_addn(&b, chunk, n) < 0) {
            r = ak_err(err, AK_ETOOBIG, "%s is over %d bytes", path, AK_JWKS_MAX_BYTES);
            goto out;
        }
    if (ferror(f))
        r = ak_err(err, AK_EIO, "cannot read %s", path);
out:
    fclose(f);
    if (r == AK_OK)
        *ret = ak_buf_detach(&b, ret_len);
    ak_buf_release(&b);
    return r;
}

int ak__sts_keys_init(struct sts_provider *p, struct ak_buf *err)
{
    char *text = NULL;
    size_t len = 0, skipped = 0;
    struct ak_buf why = AK_BUF_INIT(512);
    int r;

    pthread_mutex_init(&p->mu, NULL);
    if (!p->cfg->jwks_file)
        return AK_OK;
    r = read_file(p->cfg->jwks_file, &text, &len, &why);
    if (r == AK_OK)
        r = ak_jwks_parse(text, len, &p->keys, &skipped, &why);
    if (r < 0)
        r = ak_err(err, AK_ECONFIG, "sts.oidc_providers %s (line %d): jwks_file: %s",
                   p->cfg->url, p->cfg->line, why.buf);
    else
        p->static_keys = true;
    free(text);
    ak_buf_release(&why);
    return r;
}

void ak__sts_keys_release(struct sts_provider *p)
{
    ak_jwks_free(p->keys);
    p->keys = NULL;
    pthread_mutex_destroy(&p->mu);
}

static int get(const struct sts_provider *p, const char *url, size_t cap, char **ret,
               size_t *ret_len, struct ak_buf *err)
{
    const char *hdrs[] = {"Accept: application/json", NULL};
    struct ak_httpc_req rq = {.method = "GET", .url = url, .headers = hdrs,
                              .timeout_ms = FETCH_TIMEOUT_MS, .max_response = cap,
                              .ca_file = p->cfg->ca_file, .https_only = true};
    struct ak_httpc_resp resp;
    int r;

    ak_httpc_resp_init(&resp);
    r = ak_httpc_do(&rq, &resp, err);
    if (r == AK_OK && resp.status != 200)
        r = ak_err(err, AK_EIO, "%s answered HTTP %ld", url, resp.status);
    if (r == AK_OK)
        *ret = ak_buf_detach(&resp.body, ret_len);
    ak_httpc_resp_release(&resp);
    return r;
}

/* Discovery then the JWKS; the new key set in *ret. */
static int fetch(const struct sts_provider *p, struct ak_jwks **ret, struct ak_buf *err)
{
    char *url = ak_xasprintf("%s/.well-known/openid-configuration", p->cfg->url);
    char *doc = NULL, *jwks = NULL;
    size_t len = 0, skipped = 0;
    struct ak_json *j = NULL;
    struct ak_buf jerr = AK_BUF_INIT(256);
    const char *iss, *uri;
    int r;

    r = get(p, url, DISCOVERY_MAX, &doc, &len, err);
    if (r < 0)
        goto out;
    j = ak_json_parse(doc, len, &jerr);
    if (!ak_json_is_obj(j)) {
        r = ak_err(err, AK_EINVAL, "%s is not a JSON object (%s)", url, jerr.buf);
        goto out;
    }
    /* OIDC Discovery §4.3: the document's issuer must be the URL it was fetched for */
    iss = ak_json_get_str(j, "issuer");
    if (!iss || strcmp(iss, p->cfg->url) != 0) {
        r = ak_err(err, AK_EINVAL, "%s names issuer %.300s, not the provider's URL", url,
                   iss ? iss : "(none)");
        goto out;
    }
    uri = ak_json_get_str(j, "jwks_uri");
    if (!uri || !ak_startswith(uri, "https://")) {
        r = ak_err(err, AK_EINVAL, "%s has no https jwks_uri", url);
        goto out;
    }
    r = get(p, uri, AK_JWKS_MAX_BYTES, &jwks, &len, err);
    if (r < 0)
        goto out;
    r = ak_jwks_parse(jwks, len, ret, &skipped, err);
out:
    ak_metrics_inc("asakai_sts_jwks_fetches_total", r == AK_OK ? "result=\"ok\"" :
                                                                  "result=\"error\"");
    ak_json_free(j);
    ak_buf_release(&jerr);
    free(doc);
    free(jwks);
    free(url);
    return r;
}

/* Replaces p's keys by a fresh fetch; the caller holds p->mu. On failure the old keys stay. */
static int refresh(const struct ak_sts *s, struct sts_provider *p, struct ak_buf *why)
{
    struct ak_jwks *ks = NULL;
    int64_t now = ak_now_mono_ms();
    int r;

    (void)s;
    p->last_try_mono = now;
    r = fetch(p, &ks, why);
    if (r < 0)
        return r;
    ak_jwks_free(p->keys);
    p->keys = ks;
    p->fetched_mono = now;
    return AK_OK;
}

enum sts_verify ak__sts_keys_verify(const struct ak_sts *s, struct sts_provider *p,
                                    const struct ak_jwt *t, struct ak_buf *why)
{
    struct ak_buf ferr = AK_BUF_INIT(512);
    enum sts_verify v;
    int64_t now = ak_now_mono_ms();
    bool may_fetch;
    int r;

    pthread_mutex_lock(&p->mu);
    /* the rate limit holds with no keys too: while the IdP is down, every exchange would
     * otherwise block a worker on this mutex for a whole fetch timeout, one after another */
    may_fetch = p->last_try_mono == 0 || now - p->last_try_mono >= s->cfg->sts_jwks_refetch_ms;
    if (!p->static_keys && (!p->keys || now - p->fetched_mono >= s->cfg->sts_jwks_ttl_ms) &&
        may_fetch) {
        /* missing or stale: a stale set is still used when the refresh fails */
        if (refresh(s, p, &ferr) < 0 && !p->keys) {
            ak_buf_addf(why, "cannot fetch the provider's keys: %s", ferr.buf);
            v = STS_V_IDP;
            goto out;
        }
    }
    if (!p->keys) {
        /* an earlier fetch failed moments ago: do not hammer the IdP */
        ak_buf_addf(why, "the provider's keys are not available (last fetch failed)");
        v = STS_V_IDP;
        goto out;
    }
    r = ak_jwt_verify(t, p->keys, why);
    if (r == AK_ENOTFOUND && !p->static_keys &&
        now - p->last_try_mono >= s->cfg->sts_jwks_refetch_ms) {
        ak_buf_reset(why);
        ak_buf_reset(&ferr);
        if (refresh(s, p, &ferr) < 0) {
            ak_buf_addf(why, "unknown kid and the key refetch failed: %s", ferr.buf);
            v = STS_V_IDP;
            goto out;
        }
        r = ak_jwt_verify(t, p->keys, why);
    }
    if (r == AK_OK)
        v = STS_V_OK;
    else if (r == AK_ENOTFOUND) {
        if (!why->len)
            ak_buf_addf(why, "no key with kid %s", t->kid ? t->kid : "(none)");
        v = STS_V_NOKEY;
    } else
        v = STS_V_BAD;
out:
    pthread_mutex_unlock(&p->mu);
    ak_buf_release(&ferr);
    return v;
}
