/* ak_sts.h — the STS twin (src/sts/): an AWS STS-compatible endpoint that verifies everything
 * real STS verifies, for testing trust policies and CI pipelines end to end and for keyless
 * access to asakai's own API.
 *
 * Wire contract: ../shared/docs/reference/oidc-sts.md §1 (query protocol, exact XML, JSON when
 * asked with Accept: application/json, error documents and codes) and §4 (provider checks).
 *   AssumeRoleWithWebIdentity (unsigned; POST form or GET query): JWT parsed and verified
 *     against the provider's JWKS (jwks_file, or OIDC discovery over https: cached for
 *     sts.jwks_cache_ttl, refetched once on an unknown kid at most every
 *     sts.jwks_refetch_min_interval), claims checked (iss exact, aud in client_id_list, exp with
 *     sts.exp_leeway, nbf, iat, max_token_age), RoleSessionName ([\w+=,.@-]{2,64}),
 *     DurationSeconds (900 .. min(43200, role max), default 3600), RoleArn (an existing role),
 *     the trust policy evaluated (ak_iam.h) with the token's condition keys; then credentials:
 *     "ASIA" + 16 key id, 40-char secret, opaque session token, expiry; the secret is stored
 *     sealed (AES-256-GCM, key in <data_dir>/sts.key, created 0600), the token only hashed.
 *   GetCallerIdentity (SigV4 with issued credentials + X-Amz-Security-Token): signature, token
 *     hash and expiry verified; answers the assumed-role ARN.
 * Every exchange, allowed or denied, is written to the audit table with the real reason; the
 * caller gets only what AWS would say. Thread-safe: called from HTTP worker threads.
 */
#ifndef AK_STS_H
#define AK_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ak_buf.h"

struct ak_cfg;
struct ak_json;
struct ak_sts;

/* Parses every role's trust policy and every provider (jwks_file read and parsed), opens the
 * twin's store connection and its sealing key. AK_ECONFIG naming the role/provider at fault.
 * cfg must outlive it. */
int ak_sts_start(const struct ak_cfg *cfg, struct ak_sts **ret, struct ak_buf *err);
void ak_sts_stop(struct ak_sts *s); /* NULL-safe */

/* An HTTP request to /sts, as received. */
struct ak_sts_req {
    const char *method;          /* "POST" or "GET" */
    const char *path_query;      /* request target as on the request line */
    const char *const *headers;  /* every header, "Name: value", NULL-terminated */
    const char *body;            /* form body (POST) */
    size_t body_len;
    const char *remote;          /* peer address, for the audit */
};

struct ak_sts_resp {
    int status;
    const char *content_type;    /* "text/xml" or "application/json" (static) */
    struct ak_buf body;          /* initialised by ak_sts_handle; the caller releases it */
    char request_id[40];         /* also sent as x-amzn-RequestId */
};

/* Answers one STS request (Action=AssumeRoleWithWebIdentity | GetCallerIdentity; others:
 * 400 InvalidAction). Never fails: errors are AWS error documents in ret. */
void ak_sts_handle(struct ak_sts *s, const struct ak_sts_req *rq, struct ak_sts_resp *ret);

/* Authenticates an API request signed with SigV4 by credentials this twin issued (service any,
 * region any); AK_OK with the assumed-role ARN in *ret_arn (malloc'ed); AK_ENOTFOUND when the
 * request carries no AWS4-HMAC-SHA256 Authorization; AK_ESIG with the reason in err otherwise.
 * Audited as action "api". */
int ak_sts_authenticate(struct ak_sts *s, const struct ak_sts_req *rq, char **ret_arn,
                        struct ak_buf *err);

/* The audit, newest first ("allowed" / "denied" / NULL = both), as a JSON array for
 * GET /api/v1/oidc/log. */
int ak_sts_log(struct ak_sts *s, const char *result, size_t limit, struct ak_json **ret,
               struct ak_buf *err);

#endif
