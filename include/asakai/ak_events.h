/* ak_events.h — parsers for every AWS maintenance message format (src/events/).
 *
 * Pure functions: no I/O, no logging, no globals; safe from any thread; each one has a fuzz
 * target. Two layers:
 *   1. the SNS HTTP envelope (ak_sns_*): parse, build the exact string-to-sign;
 *   2. the payload classifier (ak_events_parse): an EventBridge event (aws.health, aws.rds, aws.ec2)
 *      or an SNS Message body (ElastiCache, RDS event subscription, EventBridge-through-SNS) becomes
 *      zero or more observations (struct ak_obs) — one per real-world maintenance it mentions.
 * Reference: ../shared/docs/reference/maintenance-events.md.
 */
#ifndef AK_EVENTS_H
#define AK_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_json;

/* ---- SNS envelope ---------------------------------------------------------------------- */

enum ak_sns_type {
    AK_SNS_NOTIFICATION = 1,
    AK_SNS_SUBSCRIPTION_CONFIRMATION,
    AK_SNS_UNSUBSCRIBE_CONFIRMATION,
};

/* Every string is owned (malloc'ed) and JSON-unescaped; absent fields are NULL. */
struct ak_sns_msg {
    enum ak_sns_type type;
    char *type_str;
    char *message_id;
    char *topic_arn;
    char *subject;           /* Notification only; NULL when absent or JSON null */
    char *message;
    size_t message_len;
    char *timestamp;
    char *signature_version; /* "1" or "2" (anything else is refused by the verifier) */
    char *signature;         /* base64 */
    char *signing_cert_url;  /* also accepted as SigningCertUrl */
    char *subscribe_url;     /* confirmations only */
    char *token;             /* confirmations only */
    char *unsubscribe_url;
    char *region;            /* parsed from topic_arn: arn:aws:sns:REGION:ACCOUNT:NAME */
    char *account;           /* parsed from topic_arn */
};

/* Parses an SNS HTTP(S) delivery body. Requires Type (one of the three), MessageId, TopicArn
 * (a well-formed SNS ARN), Message, Timestamp, SignatureVersion, Signature, SigningCertURL, and
 * for confirmations SubscribeURL and Token. AK_EINVAL with the missing/bad field named in err;
 * AK_EUNSUPPORTED when the JSON is valid but not an SNS envelope. */
int ak_sns_parse(const char *body, size_t len, struct ak_sns_msg *ret, struct ak_buf *err);
void ak_sns_msg_release(struct ak_sns_msg *m);

/* Builds the string-to-sign of SignatureVersion 1 and 2 ("Name\nValue\n" pairs in AWS's fixed
 * order; Subject only when present; Token and SubscribeURL for both confirmation types). */
int ak_sns_string_to_sign(const struct ak_sns_msg *m, struct ak_buf *out);

/* True if body looks like an SNS envelope (has "Type" and "TopicArn" and "MessageId"). */
bool ak_sns_looks_like(const char *body, size_t len);

/* ---- observations -------------------------------------------------------------------- */

/* One real-world maintenance as one message describes it. All strings owned; NULL = unknown. */
struct ak_obs {
    char *source;        /* "aws.health", "elasticache-sns", "rds-sns", "rds-eventbridge",
                            "ec2-eventbridge", ... */
    char *service;       /* "ec2", "rds", "elasticache", lowercase; Health service lowercased */
    char *kind;          /* instance-retirement, instance-stop, instance-reboot, system-reboot,
                            system-maintenance, network-maintenance, power-maintenance,
                            node-replacement, hardware-maintenance, minor-version-upgrade,
                            major-version-upgrade, os-upgrade, security-patching, service-update,
                            certificate-rotation, planned-lifecycle, other */
    char *status;        /* scheduled, rescheduled, in-progress, completed, canceled */
    char *event_code;    /* verbatim: AWS_EC2_..., ElastiCache:NodeReplacementScheduled, RDS-EVENT-0026 */
    char *key;           /* dedupe key: identical for every message about the same maintenance,
                            e.g. "health:<account>:<eventArn>",
                            "elasticache:<acct>:<region>:<cluster>:<family>[:<update name>]" — no
                            window in it, so a reschedule/completion lands on the same record */
    char *account;
    char *region;
    char **resources;    /* ids / ARNs */
    size_t n_resources;
    int64_t window_start; /* ms, 0 = unknown */
    int64_t window_end;
    int64_t deadline;     /* the moment AWS acts on its own; 0 = not announced */
    int64_t event_time;   /* when the message says it happened; 0 = unknown */
    char *title;          /* one line, e.g. "EC2 instance retirement i-0abc" */
    char *description;
    bool required;        /* a mandatory maintenance (retirement, forced apply, mandatory replacement) */
    int page;             /* Health pagination: 1-based page, 0 = not paged */
    int total_pages;
    char *tags;           /* resource tags as a JSON object text ({"env":"prod"}): the union of
                             the affected entities' string tags, later entities win; NULL = none */
};

struct ak_obs_list {
    struct ak_obs *v;
    size_t n;
};

/* Context the payload arrived with (for messages that do not carry it themselves). */
struct ak_events_ctx {
    const char *topic_arn;  /* SNS TopicArn, or NULL */
    const char *account;    /* from the TopicArn when known */
    const char *region;
    const char *subject;    /* SNS Subject */
    int64_t received_ms;    /* when the payload was published (SNS Timestamp) or arrived; used
                               when the payload has no time of its own */
};

/* Parses one payload: an EventBridge event object or the text of an SNS Message.
 * AK_OK with ret->n >= 0 observations: n == 0 means a known format that is not a maintenance
 * (an RDS backup event, an ElastiCache snapshot), with the reason in why (if not NULL).
 * AK_EUNSUPPORTED: valid input of an unknown shape (the caller keeps it as unparsed).
 * AK_EINVAL: malformed. Unknown Health event codes are kept as kind "other", never dropped. */
int ak_events_parse(const char *payload, size_t len, const struct ak_events_ctx *ctx,
                    struct ak_obs_list *ret, struct ak_buf *why);

/* Parses a whole raw delivery as archived: an SNS envelope (then its Message) or a bare
 * EventBridge event. Same results as ak_events_parse. */
int ak_events_parse_raw(const char *body, size_t len, int64_t received_ms,
                        struct ak_obs_list *ret, struct ak_buf *why);

void ak_obs_release(struct ak_obs *o);
void ak_obs_list_release(struct ak_obs_list *l);

/* Splits an import file into documents: a single JSON object, a JSON array of objects, or NDJSON
 * (also concatenated objects). Calls cb(doc, doc_len, index, arg) with each document's exact bytes
 * (re-serialised compactly for array items); stops on the first callback error.
 * AK_EINVAL with "document N: line L, column C: ..." when the text is not JSON. */
typedef int (*ak_events_doc_cb)(const char *doc, size_t len, size_t index, void *arg);
int ak_events_split(const char *text, size_t len, ak_events_doc_cb cb, void *arg,
                    struct ak_buf *err);

/* The kind "family" used for recurrence: node-replacement and service-update are one family
 * for elasticache; hardware-maintenance/os-upgrade/security-patching another for rds; ...
 * Known families are static strings; the "<service>-<kind>" fallback lives in a per-thread ring
 * of 8 buffers: copy it if it must outlive the next 8 calls in the same thread. */
const char *ak_kind_family(const char *service, const char *kind);


/* ---- pull APIs (issue 4): one response page -> observations ------------------------------ */

/* The AWS APIs the pollers call. Wire formats: ../shared/docs/reference/maintenance-events.md
 * §6-7 (EC2 protocol XML with <item> lists; RDS/ElastiCache query XML; Health JSON 1.1). */
enum ak_pull_api {
    AK_PULL_EC2_INSTANCE_STATUS = 1, /* EC2 DescribeInstanceStatus (IncludeAllInstances=true) */
    AK_PULL_RDS_PENDING,             /* RDS DescribePendingMaintenanceActions */
    AK_PULL_EC_SERVICE_UPDATES,      /* ElastiCache DescribeServiceUpdates */
    AK_PULL_EC_UPDATE_ACTIONS,       /* ElastiCache DescribeUpdateActions */
    AK_PULL_EC_EVENTS,               /* ElastiCache DescribeEvents */
    AK_PULL_HEALTH_EVENTS,           /* Health DescribeEvents */
    AK_PULL_HEALTH_ENTITIES,         /* Health DescribeAffectedEntities */
};

/* What the caller knows about the page: where it came from. */
struct ak_pull_ctx {
    const char *account;           /* required */
    const char *region;            /* required (Health: the event's own region is used) */
    int64_t received_ms;           /* when the page arrived */
    /* AK_PULL_EC_UPDATE_ACTIONS: the service updates seen by DescribeServiceUpdates, as
     * filled by ak_pull_parse (page->service_updates of those pages); may be NULL. */
    const struct ak_json *service_updates;
    /* AK_PULL_HEALTH_ENTITIES: the events of DescribeEvents (page->health_events), by arn. */
    const struct ak_json *health_events;
};

/* One page, parsed. Every string owned. */
struct ak_pull_page {
    char *next_token;     /* nextToken / Marker / NextToken of the page; NULL = last page */
    size_t n_seen;        /* resources described on the page (EC2: instances, with or without
                             events; RDS: resources with pending actions; ElastiCache: update
                             actions; events): > 0 proves the service runs in that region */
    struct ak_obs_list obs; /* one observation per maintenance item on the page */
    char **docs;          /* parallel to obs.v: the item as a compact JSON object text
                             {"api":"ec2:DescribeInstanceStatus","account":..,"region":..,
                              "item":{...the item's fields, XML turned into JSON...}} —
                             what the raw archive keeps (identical items give identical text) */
    char **ids;           /* parallel to obs.v: the item's own id (instance event id,
                             "<resource>/<action>", "<group>/<update>", event "<source>/<date>",
                             Health arn + entity) — the history's message id */
    /* AK_PULL_EC_SERVICE_UPDATES: object name -> {"severity","status","type","description",
     * "release","recommended_apply_by","end","auto_update":bool,"engine"}. Owned. */
    struct ak_json *service_updates;
    /* AK_PULL_HEALTH_EVENTS: array of the events' arns (for DescribeAffectedEntities, <= 10
     * per call) and object arn -> the event as returned. Owned. obs stays empty for this API:
     * observations come with the entities. */
    struct ak_json *health_arns;
    struct ak_json *health_events;
};
void ak_pull_page_release(struct ak_pull_page *p);

/* Parses one successful response body of api. Observations (same keys as the push parsers, so
 * push and poll meet in one record):
 *  EC2: one per scheduled event: kind = the event code, status "completed"/"canceled" when the
 *   description starts with "[Completed]"/"[Canceled]" else "scheduled", window NotBefore ..
 *   NotAfter, deadline NotBeforeDeadline if present else NotBefore, required, key
 *   "ec2:<acct>:<region>:<instance>:<instance-event-id>", source "ec2-api";
 *  RDS: one per PendingMaintenanceAction: kind from Action (db-upgrade ->
 *   minor-version-upgrade, ca-certificate-rotation -> certificate-rotation; system-update,
 *   hardware-maintenance, os-upgrade and any other action verbatim),
 *   deadline CurrentApplyDate, else the earlier of AutoAppliedAfterDate and ForcedApplyDate,
 *   else 0 with "no date announced" in the description; required when a forced or auto-apply
 *   date exists; key "rds:<acct>:<region>:<db name>:<family>" (the push key), source "rds-api";
 *  ElastiCache update actions: kind service-update, status from UpdateActionStatus (complete ->
 *   completed; in-progress/stopping -> in-progress; else scheduled), deadline
 *   ServiceUpdateRecommendedApplyByDate, required when the service update auto-applies after
 *   it, key "elasticache:<acct>:<region>:<group or cluster>:<family>:<update name>" (the push
 *   key), source "elasticache-api";
 *  ElastiCache events: node-replacement messages (scheduled / rescheduled / started / complete /
 *   canceled, with the window when the message has one) keyed like the SNS ones; other
 *   messages give no observation (n_seen still counts them);
 *  Health entities: one per event, resources = its entities, the push key
 *   "health:<acct>:<eventArn>", source "health-api".
 * AK_EINVAL (malformed, with where), AK_ETOOBIG (caps of ak_xml.h / the JSON reader). */
int ak_pull_parse(enum ak_pull_api api, const char *body, size_t len,
                  const struct ak_pull_ctx *ctx, struct ak_pull_page *ret, struct ak_buf *err);

/* An AWS error response: EC2 "<Response><Errors><Error><Code>..", query protocol
 * "<ErrorResponse><Error><Code>..", JSON {"__type":"prefix#Code","message"|"Message":..}.
 * *ret_code and *ret_message are malloc'ed (message may be ""). AK_ENOTFOUND when body is not
 * an error document. */
int ak_pull_error(const char *body, size_t len, char **ret_code, char **ret_message);

#endif
