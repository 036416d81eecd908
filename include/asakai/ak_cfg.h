/* ak_cfg.h — asakai's configuration: one YAML file in, one immutable struct out.
 *
 * Every key is a row of the option table in src/cfg/cfg_schema.c (type, default, range, help).
 * The loader rejects unknown keys (naming the nearest known one), range-checks values, expands
 * ${ENV_VAR} references in string values (an unset variable is an error), and reports errors as
 * "FILE:LINE:COL: KEY: what is wrong". With no file, ak_cfg_defaults() gives embedded defaults.
 * A loaded struct ak_cfg is never modified afterwards; it may be read from any thread.
 */
#ifndef AK_CFG_H
#define AK_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_json;

struct ak_cfg_strlist {
    char **v;
    size_t n;
};

/* ---- notifications (issue 3) ---- */

enum ak_match_op { AK_MATCH_EQ = 1, AK_MATCH_NE, AK_MATCH_RE, AK_MATCH_NRE };

/* One matcher "field OP value": field is a record field (service, kind, status, account, region,
 * source, event_code, importance [high|normal], resource [any of the record's resources],
 * tag.<key> [a resource tag]); for =~ and !~ value is a POSIX ERE anchored at both ends. */
struct ak_matcher {
    char *field;
    enum ak_match_op op;
    char *value;
};

struct ak_matchers {
    struct ak_matcher *v;
    size_t n;
};

/* Parses "service=rds", "kind=~node-.*", "status!=completed", "tag.env!~dev|test" (no spaces
 * around the operator needed; value may be "quoted"); a comma-separated list with
 * ak_matchers_parse. AK_EINVAL with the reason in err (unknown field, empty value, bad regex). */
int ak_matcher_parse(const char *s, struct ak_matcher *ret, struct ak_buf *err);
int ak_matchers_parse(const char *s, struct ak_matchers *ret, struct ak_buf *err);
void ak_matcher_release(struct ak_matcher *m);
void ak_matchers_release(struct ak_matchers *m);
/* "service=rds,kind=~node.*" (for storing and showing); malloc'ed. */
char *ak_matchers_format(const struct ak_matchers *m);

enum ak_receiver_kind { AK_RECV_EMAIL = 1, AK_RECV_SLACK, AK_RECV_WEBHOOK };

struct ak_cfg_receiver {
    char *name;
    enum ak_receiver_kind kind;
    /* email: {smarthost, from, to[], username, password, starttls, ca_file} */
    char *smarthost;        /* smtp://host:port (STARTTLS when offered, required unless the host is
                               loopback or starttls: false) or smtps://host:465 */
    char *from;
    struct ak_cfg_strlist to;
    char *username, *password;
    int starttls;           /* -1 default (required unless loopback), 0 off, 1 required */
    char *ca_file;
    /* slack: {webhook_url} or {bot_token, channel, api_url} */
    char *webhook_url;
    char *bot_token;
    char *channel;
    char *api_url;          /* default https://slack.com/api (tests point it at 127.0.0.1) */
    /* webhook: {url, secret} — JSON POST signed with HMAC-SHA256 of secret */
    char *url;
    char *secret;
    /* every kind */
    bool digest;            /* daily digest to this receiver (default: true for email) */
    char *digest_time;      /* "09:00" */
    char *digest_tz;        /* "Asia/Tokyo" */
    int line;               /* where it was defined (for messages) */
};

struct ak_cfg_route {
    struct ak_matchers match;      /* match: {k: v} (=), match_re: {k: re} (=~), matchers: [..] */
    struct ak_cfg_strlist receivers;
    bool cont;                     /* continue: true */
    struct ak_cfg_route *routes;   /* children */
    size_t n_routes;
    int line;
};

/* ---- AWS accounts, pollers, inventory (issue 4) ---- */

struct ak_cfg_aws_account {
    char *id;                      /* aws.accounts[].id: 12 digits (quoted in YAML) */
    struct ak_cfg_strlist regions; /* regions: at least one, each like "ap-northeast-1" */
    char *assume_role_arn;         /* optional: arn:aws:iam::<12 digits>:role/<name>; NULL = the
                                      base credentials of the chain are used directly */
    char *external_id;             /* optional: sts:ExternalId sent with AssumeRole */
    char *endpoint_url;            /* optional: one http(s) endpoint for every AWS API of this
                                      account (tests, proxies); NULL = the real endpoints */
    char *profile;                 /* optional: base-credentials profile; NULL = the chain's */
    int line;
};

/* The pollers, by index into ak_cfg.pollers. */
enum ak_poller_id {
    AK_POLLER_EC2 = 0,       /* ec2_scheduled_events: EC2 DescribeInstanceStatus */
    AK_POLLER_RDS,           /* rds_pending_maintenance: RDS DescribePendingMaintenanceActions */
    AK_POLLER_EC_UPDATES,    /* elasticache_update_actions: DescribeServiceUpdates +
                                DescribeUpdateActions */
    AK_POLLER_EC_EVENTS,     /* elasticache_events: ElastiCache DescribeEvents */
    AK_POLLER_HEALTH,        /* health: Health DescribeEvents + DescribeAffectedEntities */
    AK_POLLER_N
};
/* "ec2_scheduled_events", ...; NULL for an id out of range. */
const char *ak_cfg_poller_name(int id);
/* The id of a poller name, -1 when unknown. */
int ak_cfg_poller_id(const char *name);

struct ak_cfg_poller {
    bool enabled;         /* pollers.<name>.enabled: default true, health false */
    int64_t interval_ms;  /* pollers.<name>.interval: default 15m (10s .. 24h) */
};

struct ak_cfg_inventory {
    char *service;        /* inventory[].service: ec2 | rds | elasticache */
    char *account;        /* 12 digits */
    char *region;
    int line;
};

/* ---- the STS twin (issue 5) ---- */

struct ak_cfg_oidc_provider {
    char *url;                         /* sts.oidc_providers[].url: https://host[/path], no query,
                                          no port, no trailing-slash rewriting; = the tokens' iss */
    struct ak_cfg_strlist client_ids;  /* client_id_list: the accepted audiences (1..100) */
    struct ak_cfg_strlist thumbprints; /* thumbprint_list: 40-hex SHA-1 (kept, reported by audit) */
    char *jwks_file;                   /* optional: static JWKS instead of discovery (path as
                                          written, resolved against the config file's folder) */
    char *ca_file;                     /* optional: CA bundle for discovery/JWKS over https */
    int64_t max_token_age_ms;          /* optional: now - iat; 0 = unchecked */
    int line;
};

struct ak_cfg_sts_role {
    char *name;                        /* sts.roles[].name: [\w+=,.@-]{1,64} */
    char *account_id;                  /* 12 digits */
    int64_t max_session_s;             /* max_session_duration: 3600 default, 3600..43200 */
    char *policy_json;                 /* assume_role_policy: an inline YAML/JSON mapping turned
                                          into JSON text (a duplicate key is a config error), a
                                          JSON string, or a file path (read at load) */
    bool api_access;                   /* api_access: sessions of this role may call /api/v1
                                          (keyless CI → asakai), default false */
    int line;
};

/* ---- runbooks, teams, the morning report (issue 7) ---- */

struct ak_cfg_team {
    char *name;                        /* teams[].name: [a-z0-9][a-z0-9-]* (a runbook owner) */
    struct ak_cfg_strlist receivers;   /* receivers: names of receivers (must exist) that get
                                          this team's runbook reminders */
    int line;
};

/* ---- daily monitoring (issue 6) ---- */

struct ak_cfg_label {
    char *name;                        /* a Prometheus label name [a-zA-Z_][a-zA-Z0-9_]*, not
                                          starting with "__" */
    char *value;
};

/* services[].limits: {metric: number}: the level a series of that metric must not reach (a
 * capacity, e.g. pg_stat_activity_count: 500). */
struct ak_cfg_limit {
    char *metric;                      /* a metric name */
    double value;                      /* finite */
};

/* A standard signal of a service type, for the coverage matrix and the dashboard row. */
struct ak_cfg_signal {
    char *name;                        /* [a-z][a-z0-9_]*: memory, cpu, disk, latency, errors,
                                          saturation, up, ... */
    struct ak_cfg_strlist metrics;     /* metric-name globs ('*' and '?'): any series matching one
                                          of them makes the signal present; the first is the one
                                          the dashboard draws */
    bool required;                     /* a missing required signal makes `asakai coverage`
                                          exit 1 */
};

/* monitoring.signals.<type>: the signals services of that type should have. The embedded
 * defaults define host, http, postgres, redis, worker and process (docs/config.md); a type in the
 * file replaces the default of the same name, a new name adds a type. */
struct ak_cfg_service_type {
    char *name;                        /* [a-z][a-z0-9_-]* */
    struct ak_cfg_signal *signals;
    size_t n_signals;
    int line;
};

/* services[]: what the team runs and how asakai reads its metrics. A series belongs to the
 * service named by its "service" label, else by its "job" label. */
struct ak_cfg_service {
    char *name;                        /* name: [a-z0-9][a-z0-9_.-]{0,62}, unique */
    char *type;                        /* type: a name in service_types, default "http" */
    struct ak_cfg_strlist targets;     /* targets: http(s):// URLs of metrics endpoints (Prometheus
                                          text 0.0.4 or OpenMetrics 1.0), scraped every
                                          scrape_interval; may be empty (series then come from
                                          the host collector, a source or an import) */
    struct ak_cfg_label *labels;       /* labels: {name: value} added to every scraped series */
    size_t n_labels;
    struct ak_cfg_limit *limits;       /* limits: {metric: number} */
    size_t n_limits;
    int64_t scrape_interval_ms;        /* scrape_interval: default monitoring.scrape_interval */
    int line;
};

/* monitoring.sources[]: a Prometheus-compatible query API (Prometheus, Thanos, Mimir,
 * VictoriaMetrics) read with /api/v1/query_range. */
struct ak_cfg_mon_source {
    char *name;                        /* name: [a-z0-9][a-z0-9_.-]*, unique */
    char *url;                         /* url: http(s)://host[:port][/prefix] (no query) */
    struct ak_cfg_strlist queries;     /* queries: PromQL expressions, at least one */
    int64_t step_ms;                   /* step: default 60s (1s .. 1h) */
    int64_t lookback_ms;               /* lookback: history read the first time, default 14d
                                          (1h .. 400d) */
    int64_t interval_ms;               /* interval: how often new data is read, default 1h
                                          (1m .. 24h) */
    char *bearer_token;                /* bearer_token: optional, sent as Authorization */
    char *ca_file;                     /* ca_file: optional CA bundle for https */
    int line;
};

struct ak_cfg {
    char *source;           /* file the config came from, or "(defaults)" */

    /* server */
    char *listen;           /* server.listen, default "127.0.0.1:9780" */
    char *data_dir;         /* server.data_dir, default "./asakai-data" */
    uint64_t max_body;      /* server.max_body_bytes, default 256 KiB (1 KiB .. 64 MiB) */
    int64_t request_timeout_ms; /* server.request_timeout, default 15s (1s .. 300s) */
    uint64_t threads;       /* server.threads, default 8 (1 .. 256) */
    uint64_t max_connections; /* server.max_connections, default 512 (1 .. 65536) */
    char *log_level;        /* server.log_level: debug|info|warn|error, default info */
    char *api_token;        /* server.api_token: if set, /api/v1 needs "Authorization: Bearer T" */

    /* intake.sns */
    struct ak_cfg_strlist sns_topics;  /* intake.sns.topics: TopicArn glob patterns ('*' '?');
                                          default: empty = every topic refused */
    char *sns_cert_url_pattern; /* intake.sns.cert_url_pattern: POSIX ERE; "{region}" is replaced by
                                   the TopicArn's region (escaped). Default:
                                   ^https://sns\.{region}\.amazonaws\.com(\.cn)?/SimpleNotificationService-[0-9a-f]+\.pem$ */
    char *sns_subscribe_url_pattern; /* intake.sns.subscribe_url_pattern, same rules. Default:
                                   ^https://sns\.{region}\.amazonaws\.com(\.cn)?/\?Action=ConfirmSubscription& */
    char *sns_ca_file;      /* intake.sns.ca_file: PEM bundle trusted for fetching over TLS and for
                               the signing certificate's chain; NULL = system store */
    bool sns_verify_cert_chain; /* intake.sns.verify_cert_chain, default false (SNS serves the
                                   leaf alone; needs ca_file holding its issuers) */
    struct ak_cfg_strlist sns_cert_names; /* intake.sns.cert_names: names the signing cert must hold
                               (SAN/CN); "{region}" expands. Default: [sns.amazonaws.com,
                               sns-signing.{region}.amazonaws.com, sns.{region}.amazonaws.com.cn,
                               sns-{region}.amazonaws.com.cn] */
    uint64_t sns_cert_max_bytes; /* intake.sns.cert_max_bytes, default 16 KiB */
    int64_t sns_fetch_timeout_ms; /* intake.sns.fetch_timeout, default 5s */
    bool sns_auto_confirm;  /* intake.sns.auto_confirm, default true: visit SubscribeURL of a verified
                               SubscriptionConfirmation from an allowed topic */

    /* intake.eventbridge */
    char *eb_api_key_header; /* intake.eventbridge.api_key_header, default "X-Asakai-Key" */
    char *eb_api_key;        /* intake.eventbridge.api_key; NULL = endpoint disabled (401) */

    /* maintenance */
    int64_t recurrence_window_ms; /* maintenance.recurrence_window, default 30d */
    int64_t important_within_ms;  /* maintenance.important_within, default 14d */
    struct ak_cfg_strlist important_rules; /* maintenance.important_rules: matcher sets
                                   ("service=rds,kind=hardware-maintenance"); a record matching
                                   any of them is important (an explicit rule) */

    /* notifications: receivers (every name unique; route names must exist) and the route tree.
     * route == NULL: the default tree — every record and change to every email receiver, and
     * records with importance high to every slack receiver (webhook receivers get everything). */
    struct ak_cfg_receiver *receivers;
    size_t n_receivers;
    struct ak_cfg_route *route;
    int64_t *reminders_ms;        /* notify.reminders, default [14d, 7d, 3d, 1d, 2h], descending */
    size_t n_reminders;
    int64_t notify_give_up_ms;    /* notify.give_up_after, default 24h (1h .. 30d) */
    int64_t notify_backoff_min_ms;/* notify.backoff_min, default 5s */
    int64_t notify_backoff_max_ms;/* notify.backoff_max, default 10m */
    int64_t notify_timeout_ms;    /* notify.timeout: per send attempt, default 15s */
    char *digest_time;            /* notify.digest_time, default "09:00" (receivers may override) */
    char *digest_tz;              /* notify.digest_tz, default "Asia/Tokyo" */

    /* AWS (pollers run only when aws.accounts is not empty) */
    struct ak_cfg_aws_account *aws_accounts; /* aws.accounts: ids unique */
    size_t n_aws_accounts;
    char *aws_sts_endpoint;       /* aws.sts_endpoint: STS for AssumeRole / web identity; NULL =
                                     the account's endpoint_url, else the regional STS */
    char *aws_ca_file;            /* aws.ca_file: CA bundle for https AWS endpoints; NULL = system */
    int64_t aws_timeout_ms;       /* aws.timeout: per request, default 20s (1s .. 300s) */
    uint64_t aws_max_in_flight;   /* aws.max_in_flight: concurrent requests, default 32 (1 .. 512) */
    uint64_t aws_max_attempts;    /* aws.max_attempts: per request on throttling/5xx, default 5
                                     (1 .. 20) */
    int64_t aws_retry_base_ms;    /* aws.retry_base: first backoff, doubled each attempt with full
                                     jitter, default 1s (10ms .. 60s) */
    struct ak_cfg_poller pollers[AK_POLLER_N]; /* pollers.<name> */
    struct ak_cfg_inventory *inventory;        /* inventory: what the team runs */
    size_t n_inventory;

    /* sts: the STS twin at /sts (issue 5) */
    bool sts_enabled;                  /* sts.enabled, default false */
    struct ak_cfg_oidc_provider *oidc_providers; /* sts.oidc_providers: urls unique */
    size_t n_oidc_providers;
    struct ak_cfg_sts_role *sts_roles; /* sts.roles: (account_id, name) unique */
    size_t n_sts_roles;
    int64_t sts_exp_leeway_ms;         /* sts.exp_leeway, default 5m (0 .. 10m) */
    int64_t sts_jwks_ttl_ms;           /* sts.jwks_cache_ttl, default 1h (1m .. 24h) */
    int64_t sts_jwks_refetch_ms;       /* sts.jwks_refetch_min_interval, default 30s: unknown kid
                                          refetch rate limit per provider */

    /* runbooks (issue 7) */
    char *runbook_dir;                 /* runbooks.template_dir: extra templates (searched before
                                          the shipped ones); NULL = only the shipped ones */
    char *runbook_shipped_dir;         /* runbooks.shipped_dir: default the install's
                                          share/asakai/runbooks, else ./runbooks */
    int64_t runbook_remind_within_ms;  /* runbooks.remind_within: default 1d */
    struct ak_cfg_team *teams;         /* teams: owner team -> receivers */
    size_t n_teams;
    /* report (issue 7) */
    bool report_enabled;               /* report.enabled: the daily delivery, default true (it
                                          goes with each receiver's digest) */
    int64_t report_urgent_within_ms;   /* report.urgent_within: default 3d */
    int64_t report_horizon_ms;         /* report.horizon: default 14d */

    /* daily monitoring (issue 6) */
    bool mon_enabled;                  /* monitoring.enabled, default true */
    bool mon_host_collector;           /* monitoring.host_collector, default true */
    char *mon_host_service;            /* monitoring.host_service: the service of the built-in
                                          collector's series (job "node"), default "host" (type
                                          host; implicitly declared when services lacks it) */
    struct ak_cfg_strlist mon_processes; /* monitoring.processes: process names (comm) whose
                                          RSS/CPU the host collector reports */
    int64_t mon_interval_ms;           /* monitoring.scrape_interval, default 15s (1s .. 1h);
                                          also the host collector's */
    int64_t mon_timeout_ms;            /* monitoring.scrape_timeout, default 10s (100ms .. 5m) */
    uint64_t mon_max_scrape_bytes;     /* monitoring.max_scrape_bytes, default 16 MiB
                                          (1 KiB .. 256 MiB) */
    uint64_t mon_max_series;           /* monitoring.max_series, default 50000 (10 .. 10000000):
                                          new series beyond it are dropped and counted */
    int64_t mon_raw_retention_ms;      /* monitoring.retention.raw, default 3d (1h .. 400d) */
    int64_t mon_minute_retention_ms;   /* monitoring.retention.minute, default 15d (1d .. 4000d) */
    int64_t mon_hour_retention_ms;     /* monitoring.retention.hour, default 400d (7d .. 4000d) */
    struct ak_cfg_service_type *service_types; /* monitoring.signals (defaults merged in) */
    size_t n_service_types;
    struct ak_cfg_mon_source *mon_sources; /* monitoring.sources */
    size_t n_mon_sources;
    struct ak_cfg_service *services;   /* services */
    size_t n_services;
    /* the daily review */
    int64_t review_window_ms;          /* review.window, default 14d (1h .. 166d) */
    char *review_time;                 /* review.time: "HH:MM" local, default "06:00" */
    char *review_tz;                   /* review.tz: IANA zone, default "Asia/Tokyo" */
    double review_fdr;                 /* review.fdr: Benjamini–Hochberg q, default 0.05
                                          (0.0001 .. 0.5) */
    double review_min_growth_pct;      /* review.min_growth_pct_per_day: effect gate, growth as %
                                          of the limit (else of the median level) per day,
                                          default 2 (0 .. 100) */
    double review_min_shift_pct;       /* review.min_shift_pct: level-shift gate, % of the
                                          baseline median, default 10 (0 .. 1000) */
    int64_t review_warmup_ms;          /* review.warmup: hours excluded after a restart or deploy,
                                          default 2h (0 .. 2d) */
    double review_days_horizon;        /* review.days_to_limit_within: report exhaustion within
                                          this many days, default 30 (1 .. 3650) */
};

/* Fills c with the embedded defaults (all strings owned by c). */
void ak_cfg_defaults(struct ak_cfg *c);

/* Loads and validates a YAML file on top of the defaults. On failure returns AK_ECONFIG (or
 * AK_EIO when the file cannot be read) and appends one line per problem found (up to 20) to err,
 * each "FILE:LINE:COL: KEY: reason"; *c is then released. */
int ak_cfg_load(const char *path, struct ak_cfg *c, struct ak_buf *err);
/* Same, from a string (name is used in messages). */
int ak_cfg_load_string(const char *name, const char *yaml, size_t len, struct ak_cfg *c,
                       struct ak_buf *err);

void ak_cfg_release(struct ak_cfg *c);

/* A YAML document (e.g. a runbook's front matter) as JSON: mappings → objects (a duplicate key
 * is an error), sequences → arrays, quoted scalars → strings, plain true/false → booleans, plain
 * JSON numbers → numbers, other plain scalars → strings. name and first_line are used in errors
 * "NAME:LINE:COL: reason". AK_EINVAL. */
int ak_cfg_yaml_to_json(const char *name, const char *text, size_t len, int first_line,
                        struct ak_json **ret, struct ak_buf *err);

/* The type entry of a service type name, NULL when unknown. */
const struct ak_cfg_service_type *ak_cfg_service_type_find(const struct ak_cfg *c,
                                                           const char *type);
/* The service entry of a name, NULL when none. */
const struct ak_cfg_service *ak_cfg_service_find(const struct ak_cfg *c, const char *name);

/* Writes a commented YAML listing of every key, its default and help (for `config defaults`). */
int ak_cfg_dump_defaults(struct ak_buf *out);

#endif
