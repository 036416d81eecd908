/* ak_aws.h — AWS request signing (Signature Version 4) and the credential chain (src/aws/).
 *
 * The whole public face of the aws module. Library-like: never logs; every failure returns an
 * AK_E* code with one sentence in err that names the source that failed and why. No function
 * ever writes a secret (secret key, session token, web-identity token) into err.
 * Thread-safe: no global state (the chain reads the environment, which callers must not change
 * concurrently).
 */
#ifndef AK_AWS_H
#define AK_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ak_buf.h"

/* A set of credentials. All strings are owned (malloc'ed) by the struct. */
struct ak_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    int64_t expires_ms;  /* 0 = does not expire */
    const char *source;  /* static: "env", "profile", "web-identity"; NULL when unset */
};

/* Frees the strings and zeroes the struct (the secret is wiped first). NULL-safe. */
void ak_aws_creds_release(struct ak_aws_creds *c);

/* A request to sign. url is the URL exactly as it will be sent, "http(s)://host[:port]/path?query"
 * (no fragment, no userinfo). headers are "Name: value" strings (NULL-terminated; may be NULL):
 * the headers that will be sent and must be signed; they must not include Host, X-Amz-Date,
 * X-Amz-Security-Token or Authorization (the signer derives those). Header values are signed
 * trimmed with runs of spaces collapsed; repeated names are joined with ',' in order given.
 * Canonical URI: the path is normalised (empty, "." and ".." segments removed, a trailing '/'
 * kept) and every byte outside RFC 3986 unreserved and '/' is percent-encoded once more — so
 * "%20" on the wire is signed as "%2520", as AWS expects for every service but S3 (service "s3"
 * is refused with AK_EUNSUPPORTED). Canonical query: each name/value is percent-decoded ('+' is
 * a space), re-encoded, and the pairs sorted by name then value. now_ms is the signing time. */
struct ak_aws_request {
    const char *method; /* "GET", "POST", ... */
    const char *url;
    const char *const *headers;
    const void *body;   /* the exact payload; may be NULL when body_len is 0 */
    size_t body_len;
    const char *region, *service;
    int64_t now_ms;
};

/* Signs req with creds. On success appends to ret_headers the lines to add to the request, each
 * "Name: value\n": X-Amz-Date, X-Amz-Security-Token (only with a session token), Authorization.
 * AK_EINVAL (bad URL, bad percent-encoding, forbidden or malformed header, missing field),
 * AK_EUNSUPPORTED (s3), with the reason in err; ret_headers is unchanged on failure. */
int ak_aws_sign(const struct ak_aws_request *req, const struct ak_aws_creds *creds,
                struct ak_buf *ret_headers, struct ak_buf *err);

/* As ak_aws_sign, and also appends the canonical request and the string to sign (no trailing
 * newline) to ret_creq and ret_sts when they are not NULL. For tests and debugging. */
int ak_aws_sign_detail(const struct ak_aws_request *req, const struct ak_aws_creds *creds,
                       struct ak_buf *ret_headers, struct ak_buf *ret_creq, struct ak_buf *ret_sts,
                       struct ak_buf *err);

/* INI parser for the shared credentials and config files (AWS CLI dialect): "[section]" lines
 * (a trailing # or ; comment allowed), "key = value" lines (key trimmed and lowercased, value
 * trimmed; '#' inside a value is part of it), full-line comments starting with # or ;, blank
 * lines, CRLF. Indented lines after a key are sub-properties (e.g. "s3 =\n  x = y") and are
 * passed to cb as nothing. cb is called for each property with its section; a non-zero return
 * from cb stops the parse and is returned. AK_EINVAL with "line N: ..." for a property outside
 * a section, an unterminated section header, a line without '=', an empty key, a NUL byte;
 * AK_ETOOBIG over 1 MiB. Values are never quoted in err. */
#define AK_AWS_INI_MAX (1024 * 1024)
int ak_aws_ini_parse(const char *text, size_t len,
                     int (*cb)(void *ud, const char *section, const char *key, const char *value),
                     void *ud, struct ak_buf *err);

/* Bounded extractor for STS query-protocol XML: the text of the first element named name
 * (exactly that name: "<name>" or "<name attr...>") up to its "</name>", with &amp; &lt; &gt;
 * &quot; &apos; decoded. AK_ENOTFOUND when the element is absent; AK_EINVAL when it is not
 * closed, contains markup or an unknown/unterminated entity; AK_ETOOBIG when len passes
 * AK_AWS_XML_MAX. *ret is malloc'ed. */
#define AK_AWS_XML_MAX (256 * 1024)
int ak_aws_xml_text(const char *xml, size_t len, const char *name, char **ret,
                    struct ak_buf *err);

/* Parses an AssumeRoleWithWebIdentityResponse (or AssumeRoleResponse): Credentials'
 * AccessKeyId, SecretAccessKey, SessionToken and Expiration (RFC 3339). Fills ret (source is
 * left NULL) only on success. AK_EINVAL when an element is missing or malformed. */
int ak_aws_sts_parse_creds(const char *xml, size_t len, struct ak_aws_creds *ret,
                           struct ak_buf *err);

/* Options of the credential chain; a zeroed struct means "the standard environment". */
struct ak_aws_chain_opts {
    const char *profile;      /* NULL = $AWS_PROFILE, else "default" */
    const char *sts_endpoint; /* NULL = $AWS_ENDPOINT_URL_STS, else https://sts.<region>.
                                 amazonaws.com (region: this region, $AWS_REGION,
                                 $AWS_DEFAULT_REGION), else https://sts.amazonaws.com */
    const char *region;
    const char *ca_file;      /* for https STS; NULL = system store */
    int64_t timeout_ms;       /* STS call; 0 = 10 s */
    int64_t now_ms;           /* 0 = now; used for the default role session name */
};

/* Environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN].
 * AK_ENOTFOUND when neither key variable is set; AK_ECONFIG when only one is. */
int ak_aws_creds_from_env(struct ak_aws_creds *ret, struct ak_buf *err);

/* Shared files: $AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials, section "[name]") then
 * $AWS_CONFIG_FILE (default ~/.aws/config, section "[profile name]", or "[default]" for
 * default), keys aws_access_key_id, aws_secret_access_key, aws_session_token. profile NULL means
 * $AWS_PROFILE, else "default". AK_ENOTFOUND when no file has keys for the profile (an unreadable
 * or missing file counts as empty); AK_ECONFIG when a file does not parse or a profile has only
 * one of the two keys; AK_ENOTFOUND is turned into AK_ECONFIG when the profile was named
 * explicitly (argument or $AWS_PROFILE) and neither file has that section. */
int ak_aws_creds_from_profile(const char *profile, struct ak_aws_creds *ret, struct ak_buf *err);

/* Web identity: $AWS_WEB_IDENTITY_TOKEN_FILE + $AWS_ROLE_ARN [+ $AWS_ROLE_SESSION_NAME], via an
 * unsigned STS AssumeRoleWithWebIdentity POST (query protocol, Version 2011-06-15).
 * AK_ENOTFOUND when neither variable is set; AK_ECONFIG when only one is or the token file
 * cannot be read or is empty/over 64 KiB; AK_EIO / AK_ETIMEDOUT for transport failures;
 * AK_ESIG when STS refuses (its error Code and Message in err); AK_EINVAL for a bad response. */
int ak_aws_creds_from_web_identity(const struct ak_aws_chain_opts *opts,
                                   struct ak_aws_creds *ret, struct ak_buf *err);

/* The chain, in order: environment, shared files (profile), web identity. The first source that
 * is configured decides: its failure is returned (not skipped). AK_ENOTFOUND with a sentence
 * listing what was tried when no source is configured. ret->source names the winner. */
int ak_aws_creds_resolve(const struct ak_aws_chain_opts *opts, struct ak_aws_creds *ret,
                         struct ak_buf *err);

/* ---- verifying incoming SigV4 requests (the STS twin's GetCallerIdentity, the API) ------- */

/* The parts of an "Authorization: AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/
 * aws4_request, SignedHeaders=a;b;c, Signature=<64 hex>" header value. */
struct ak_aws_auth {
    char akid[129];
    char date[9];          /* YYYYMMDD of the credential scope */
    char region[33];
    char service[33];
    char signed_headers[1024]; /* "host;x-amz-date", lowercase, sorted, ';'-separated */
    char signature[65];
};
/* Parses an Authorization header value (the three parts in any order, separated by ", " or ",").
 * AK_EINVAL naming what is malformed (algorithm, scope, a header name, signature length...). */
int ak_aws_auth_parse(const char *value, struct ak_aws_auth *ret, struct ak_buf *err);

/* An incoming request as received. headers: every received header "Name: value" (Host and
 * X-Amz-Date included). */
struct ak_aws_incoming {
    const char *method;
    const char *path_query;    /* "/sts?Action=..." or "/" exactly as on the request line */
    const char *const *headers;
    const void *body;
    size_t body_len;
};
/* Verifies an incoming request against auth (parsed from its Authorization header) and the
 * secret of auth->akid: "host" and "x-amz-date" must be signed (and "x-amz-security-token" when
 * the request has one), X-Amz-Date must be within skew_ms of now_ms and on the scope's date, an
 * x-amz-content-sha256 header must equal the body's hash; the canonical request is rebuilt as
 * the signer builds it (ak_aws_sign_detail) and the signatures compared in constant time.
 * AK_ESIG with AWS's wording in err: "SignatureDoesNotMatch: ..." or "SignatureDoesNotMatch:
 * Signature expired: <date> is now earlier than <date> (<now> - 5 min.)"; AK_EINVAL
 * ("IncompleteSignature: ...") for a request missing a required signed header. */
int ak_aws_verify(const struct ak_aws_incoming *in, const struct ak_aws_auth *auth,
                  const char *secret, int64_t now_ms, int64_t skew_ms, struct ak_buf *err);

#endif
