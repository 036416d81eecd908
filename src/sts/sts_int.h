/* sts_int.h — private to src/sts: the twin's state, the provider key cache, wire helpers. */
#ifndef AK_STS_INT_H
#define AK_STS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"

struct ak_cfg;
struct ak_cfg_oidc_provider;
struct ak_iam_policy;
struct ak_jwks;
struct ak_store;

/* One OIDC provider and its keys. keys is replaced (never mutated) under mu; a verifier takes a
 * snapshot by holding mu for the verification (RS256 ~22 us: not worth reference counting). */
struct sts_provider {
    const struct ak_cfg_oidc_provider *cfg;
    const char *host_path;       /* url without "https://": the provider ARN suffix, key prefix */
    pthread_mutex_t mu;
    struct ak_jwks *keys;        /* NULL until fetched (or from jwks_file, forever) */
    bool static_keys;            /* from jwks_file: never refetched */
    int64_t fetched_mono;        /* when keys were fetched (monotonic ms) */
    int64_t last_try_mono;       /* last fetch attempt (success or not), for the rate limit */
};

struct sts_role {
    char *arn;                   /* arn:aws:iam::<acct>:role/<name> */
    const char *name;
    const char *account_id;
    int64_t max_session_s;
    struct ak_iam_policy *policy;
    char unique_id[22];          /* "AROA" + 17 chars, stable: derived from the ARN */
    bool api_access;             /* sts.roles[].api_access */
};

struct ak_sts {
    const struct ak_cfg *cfg;
    struct sts_provider *prov;
    size_t n_prov;
    struct sts_role *roles;
    size_t n_roles;
    unsigned char key[AK_SEAL_KEY_LEN];
    pthread_mutex_t store_mu;    /* one connection, used by every HTTP worker in turn */
    struct ak_store *st;
    int64_t last_purge_mono;
    int64_t last_audit_purge_mono; /* audit retention, under store_mu */
};

/* ---- keys.c: JWKS per provider (jwks_file, or discovery over https) ------------------------ */

/* Loads jwks_file providers at start (AK_ECONFIG naming the provider). */
int ak__sts_keys_init(struct sts_provider *p, struct ak_buf *err);
void ak__sts_keys_release(struct sts_provider *p);

enum sts_verify {
    STS_V_OK = 0,
    STS_V_BAD,       /* signature or algorithm refused: InvalidIdentityToken */
    STS_V_NOKEY,     /* no key with that kid, even after a refetch: InvalidIdentityToken */
    STS_V_IDP,       /* discovery / JWKS unreachable and nothing cached: IDPCommunicationError */
};
struct ak_jwt;
/* Verifies t against p's keys: fetches them when missing or older than the cache TTL (a stale
 * set is used when a refresh fails), refetches once on an unknown kid at most every
 * sts.jwks_refetch_min_interval. The reason goes to why. */
enum sts_verify ak__sts_keys_verify(const struct ak_sts *s, struct sts_provider *p,
                                    const struct ak_jwt *t, struct ak_buf *why);

/* ---- wire.c: query protocol helpers (pure) ----------------------------------------------- */

struct sts_param {
    char *name, *value;
};
struct sts_params {
    struct sts_param *v;
    size_t n;
};
/* Parses application/x-www-form-urlencoded text ('+' is a space, %XX decoded) and appends the
 * pairs; a later duplicate replaces the earlier one. AK_EINVAL for a bad escape or a NUL, or
 * more than STS_PARAMS_MAX distinct names (each insert scans the list: a 256 KiB body of tiny
 * pairs would cost seconds of CPU; no STS action has more than ~30 parameters). */
#define STS_PARAMS_MAX 128
int ak__sts_form_parse(const char *s, size_t len, struct sts_params *ret);
const char *ak__sts_param(const struct sts_params *p, const char *name);
void ak__sts_params_release(struct sts_params *p);

/* RoleArn "arn:aws:iam::<12 digits>:role/[path/]name": *ret_acct / *ret_name point into arn
 * (name length in *ret_name_len). false when malformed. */
bool ak__sts_role_arn_parse(const char *arn, const char **ret_acct, const char **ret_name,
                            size_t *ret_name_len);
/* RoleSessionName: [\w+=,.@-]{2,64}. */
bool ak__sts_session_name_ok(const char *s);

/* Appends s XML-escaped (& < > " '). */
void ak__sts_xml_escape(struct ak_buf *b, const char *s);
/* A random UUID v4 (37 bytes with the NUL). */
void ak__sts_request_id(char out[40]);
/* "AROA" + 17 chars of base32 (A-Z, 2-7) of SHA-256(role_arn): stable across restarts. */
void ak__sts_role_unique_id(const char *role_arn, char out[22]);
/* "ASIA" + 16 random base32 chars. */
int ak__sts_new_akid(char out[21]);

#endif
