/* cfg_schema.c — the option table (cf. redis standardConfig) and everything driven by it:
 * defaults, value parsing and validation, key lookup and "did you mean", the defaults dump. */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define KIB 1024ULL
#define MIB (1024ULL * 1024ULL)
#define SEC 1000ULL
#define HOUR (3600ULL * SEC)
#define DAY (24ULL * HOUR)
#define REGEX_MAX_LEN 1024
#define REGEX_MAX_REPEAT 1000 /* product of {n,m} bounds: keeps regcomp's automaton small */

static bool check_listen(const char *v, char *why, size_t n);
static bool check_topic(const char *v, char *why, size_t n);
static bool check_rule(const char *v, char *why, size_t n);
static bool check_regex(const char *v, char *why, size_t n);
static bool check_cert_name(const char *v, char *why, size_t n);
static bool check_header(const char *v, char *why, size_t n);

#define OFF(f) offsetof(struct ak_cfg, f)
/* Two rows per poller: pollers.NAME.enabled and pollers.NAME.interval. NAME must be the one
 * ak_cfg_poller_name(ID) gives (the unit tests check every name against the table). */
#define POLLER(name, id, on, help)                                                                 \
    {"pollers." #name ".enabled", AK_CFG_BOOL, OFF(pollers[id].enabled), on, 0, 0, false, NULL,    \
     NULL, help},                                                                                  \
    {"pollers." #name ".interval", AK_CFG_DURATION, OFF(pollers[id].interval_ms), "15m",           \
     10 * SEC, 24 * HOUR, false, NULL, NULL,                                                       \
     "Time between two polls of each account and region."}

const struct ak_cfg_option ak_cfg_options[] = {
    {"server.listen", AK_CFG_STR, OFF(listen), "127.0.0.1:9780", 0, 0, false, check_listen, NULL,
     "Address the HTTP server listens on: HOST:PORT or [IPv6]:PORT, port 1..65535."},
    {"server.data_dir", AK_CFG_STR, OFF(data_dir), "./asakai-data", 0, 0, false,
     ak__cfg_check_path, NULL, "Directory for the event store and other state."},
    {"server.max_body_bytes", AK_CFG_SIZE, OFF(max_body), "256KiB", 1 * KIB, 64 * MIB, false, NULL,
     NULL, "Largest request body accepted; bigger requests get 413."},
    {"server.request_timeout", AK_CFG_DURATION, OFF(request_timeout_ms), "15s", 1 * SEC, 300 * SEC,
     false, NULL, NULL, "Time allowed to receive one request."},
    {"server.threads", AK_CFG_U64, OFF(threads), "8", 1, 256, false, NULL, NULL,
     "Worker threads of the HTTP server."},
    {"server.max_connections", AK_CFG_U64, OFF(max_connections), "512", 1, 65536, false, NULL,
     NULL, "Concurrent connections accepted; further ones are refused."},
    {"server.log_level", AK_CFG_ENUM, OFF(log_level), "info", 0, 0, false, NULL,
     "debug|info|warn|error", "Least severe log level written to stderr."},
    {"server.api_token", AK_CFG_STR, OFF(api_token), NULL, 0, 0, true, ak__cfg_check_secret,
     NULL, "If set, /api/v1 requires \"Authorization: Bearer <token>\". Use ${ENV_VAR}."},
    {"intake.sns.topics", AK_CFG_STRLIST, OFF(sns_topics), "", 0, 0, false, check_topic, NULL,
     "TopicArn glob patterns ('*', '?') accepted from SNS; empty refuses every topic."},
    {"intake.sns.cert_url_pattern", AK_CFG_STR, OFF(sns_cert_url_pattern),
     "^https://sns\\.{region}\\.amazonaws\\.com(\\.cn)?/SimpleNotificationService-[0-9a-f]+\\.pem$",
     0, 0, false, check_regex, NULL,
     "POSIX ERE the SigningCertURL must match; {region} is the TopicArn's region."},
    {"intake.sns.subscribe_url_pattern", AK_CFG_STR, OFF(sns_subscribe_url_pattern),
     "^https://sns\\.{region}\\.amazonaws\\.com(\\.cn)?/\\?Action=ConfirmSubscription&", 0, 0,
     false, check_regex, NULL,
     "POSIX ERE the SubscribeURL must match before it is visited; {region} as above."},
    {"intake.sns.ca_file", AK_CFG_STR, OFF(sns_ca_file), NULL, 0, 0, true, ak__cfg_check_path,
     NULL,
     "PEM bundle trusted for certificate fetches and the signing chain; unset = system store."},
    {"intake.sns.verify_cert_chain", AK_CFG_BOOL, OFF(sns_verify_cert_chain), "false", 0, 0, false,
     NULL, NULL,
     "Also verify the signing certificate's chain to ca_file. SNS serves the leaf alone, so this "
     "needs ca_file to hold its issuers (Amazon RSA 2048 M01 + Amazon Root CA 1). Off by default: "
     "the https fetch from the topic region's SNS host, the URL pattern and cert_names "
     "authenticate the certificate, as AWS's own SDK validators do."},
    {"intake.sns.cert_names", AK_CFG_STRLIST, OFF(sns_cert_names),
     "sns.amazonaws.com,sns-signing.{region}.amazonaws.com,sns.{region}.amazonaws.com.cn,"
     "sns-{region}.amazonaws.com.cn",
     0, 0, false, check_cert_name, NULL,
     "Names (SAN or CN) the signing certificate must hold one of; {region} expands."},
    {"intake.sns.cert_max_bytes", AK_CFG_SIZE, OFF(sns_cert_max_bytes), "16KiB", 1 * KIB, 1 * MIB,
     false, NULL, NULL, "Largest signing certificate fetched."},
    {"intake.sns.fetch_timeout", AK_CFG_DURATION, OFF(sns_fetch_timeout_ms), "5s", 100, 60 * SEC,
     false, NULL, NULL, "Time allowed for fetching a certificate or confirming a subscription."},
    {"intake.sns.auto_confirm", AK_CFG_BOOL, OFF(sns_auto_confirm), "true", 0, 0, false, NULL,
     NULL, "Visit the SubscribeURL of a verified SubscriptionConfirmation from an allowed topic."},
    {"intake.eventbridge.api_key_header", AK_CFG_STR, OFF(eb_api_key_header), "X-Asakai-Key", 0, 0,
     false, check_header, NULL, "HTTP header carrying the EventBridge API destination key."},
    {"intake.eventbridge.api_key", AK_CFG_STR, OFF(eb_api_key), NULL, 0, 0, true,
     ak__cfg_check_secret, NULL,
     "Expected API key; unset disables the EventBridge endpoint (401). Use ${ENV_VAR}."},
    {"maintenance.recurrence_window", AK_CFG_DURATION, OFF(recurrence_window_ms), "30d", 1 * HOUR,
     365 * DAY, false, NULL, NULL,
     "Events of the same kind within this window count as one recurring maintenance."},
    {"maintenance.important_within", AK_CFG_DURATION, OFF(important_within_ms), "14d", 1 * HOUR,
     365 * DAY, false, NULL, NULL, "Maintenance starting within this time is flagged important."},
    {"maintenance.important_rules", AK_CFG_STRLIST, OFF(important_rules), "", 0, 0, false,
     check_rule, NULL,
     "Matcher sets that make a record important, e.g. \"service=rds,kind=hardware-maintenance\" "
     "(comma = and; list items = or)."},
    {"notify.reminders", AK_CFG_DURLIST, OFF(reminders_ms), "14d,7d,3d,1d,2h", 60 * SEC, 90 * DAY,
     false, NULL, NULL,
     "Reminders are sent this long before a record's deadline until it is acknowledged, "
     "completed or canceled; [] sends none."},
    {"notify.give_up_after", AK_CFG_DURATION, OFF(notify_give_up_ms), "24h", 1 * HOUR, 30 * DAY,
     false, NULL, NULL, "A message still undelivered after this long is declared dead."},
    {"notify.backoff_min", AK_CFG_DURATION, OFF(notify_backoff_min_ms), "5s", 100, 1 * HOUR, false,
     NULL, NULL, "First retry delay after a failed send (doubles, with jitter)."},
    {"notify.backoff_max", AK_CFG_DURATION, OFF(notify_backoff_max_ms), "10m", 1 * SEC, 24 * HOUR,
     false, NULL, NULL, "Longest retry delay; not less than backoff_min."},
    {"notify.timeout", AK_CFG_DURATION, OFF(notify_timeout_ms), "15s", 1 * SEC, 300 * SEC, false,
     NULL, NULL, "Time allowed for one send attempt."},
    {"notify.digest_time", AK_CFG_STR, OFF(digest_time), "09:00", 0, 0, false,
     ak__cfg_check_hhmm, NULL,
     "Local time (HH:MM) of the daily digest; a receiver may set its own."},
    {"notify.digest_tz", AK_CFG_STR, OFF(digest_tz), "Asia/Tokyo", 0, 0, false,
     ak__cfg_check_tz, NULL, "IANA time zone of digest_time; a receiver may set its own."},
    {"aws.sts_endpoint", AK_CFG_STR, OFF(aws_sts_endpoint), NULL, 0, 0, true,
     ak__cfg_check_http_url, NULL,
     "STS endpoint (http:// or https://) for AssumeRole and web identity; unset = the account's "
     "endpoint_url, else the regional STS."},
    {"aws.ca_file", AK_CFG_STR, OFF(aws_ca_file), NULL, 0, 0, true, ak__cfg_check_path, NULL,
     "PEM bundle trusted for https AWS endpoints; unset = system store."},
    {"aws.timeout", AK_CFG_DURATION, OFF(aws_timeout_ms), "20s", 1 * SEC, 300 * SEC, false, NULL,
     NULL, "Time allowed for one AWS API request."},
    {"aws.max_in_flight", AK_CFG_U64, OFF(aws_max_in_flight), "32", 1, 512, false, NULL, NULL,
     "AWS API requests in flight at once, over every account, region and poller."},
    {"aws.max_attempts", AK_CFG_U64, OFF(aws_max_attempts), "5", 1, 20, false, NULL, NULL,
     "Attempts per AWS API request when it is throttled or fails with a 5xx."},
    {"aws.retry_base", AK_CFG_DURATION, OFF(aws_retry_base_ms), "1s", 10, 60 * SEC, false, NULL,
     NULL, "First retry delay of an AWS API request; doubles per attempt, with full jitter."},
    POLLER(ec2_scheduled_events, AK_POLLER_EC2, "true",
           "Poll EC2 scheduled events (DescribeInstanceStatus)."),
    POLLER(rds_pending_maintenance, AK_POLLER_RDS, "true",
           "Poll RDS pending maintenance actions (DescribePendingMaintenanceActions)."),
    POLLER(elasticache_update_actions, AK_POLLER_EC_UPDATES, "true",
           "Poll ElastiCache service updates (DescribeServiceUpdates, DescribeUpdateActions)."),
    POLLER(elasticache_events, AK_POLLER_EC_EVENTS, "true",
           "Poll ElastiCache events (DescribeEvents)."),
    POLLER(health, AK_POLLER_HEALTH, "false",
           "Poll AWS Health events (DescribeEvents, DescribeAffectedEntities); the Health API "
           "needs a Business, Enterprise On-Ramp or Enterprise support plan."),
    {"sts.enabled", AK_CFG_BOOL, OFF(sts_enabled), "false", 0, 0, false, NULL, NULL,
     "Serve the STS twin at /sts: AssumeRoleWithWebIdentity for the OIDC providers and roles "
     "below, and GetCallerIdentity."},
    {"sts.exp_leeway", AK_CFG_DURATION, OFF(sts_exp_leeway_ms), "5m", 0, 10 * 60 * SEC, false,
     NULL, NULL, "Clock skew allowed when checking a token's exp, nbf and iat."},
    {"sts.jwks_cache_ttl", AK_CFG_DURATION, OFF(sts_jwks_ttl_ms), "1h", 60 * SEC, 24 * HOUR,
     false, NULL, NULL, "How long a provider's fetched JWKS is used before it is fetched again."},
    {"sts.jwks_refetch_min_interval", AK_CFG_DURATION, OFF(sts_jwks_refetch_ms), "30s", 1 * SEC,
     1 * HOUR, false, NULL, NULL,
     "Least time between two fetches of a provider's JWKS for a token with an unknown kid."},
    {"runbooks.template_dir", AK_CFG_STR, OFF(runbook_dir), NULL, 0, 0, true,
     ak__cfg_check_path, NULL,
     "Folder of the team's own runbook templates (NAME.md), searched before the shipped ones."},
    {"runbooks.shipped_dir", AK_CFG_STR, OFF(runbook_shipped_dir), "./runbooks", 0, 0, false,
     ak__cfg_check_path, NULL,
     "Folder of the templates shipped with asakai; by default the installed "
     "share/asakai/runbooks when it exists, else ./runbooks."},
    {"runbooks.remind_within", AK_CFG_DURATION, OFF(runbook_remind_within_ms), "1d", 60 * SEC,
     30 * DAY, false, NULL, NULL,
     "A runbook step due within this time and not done sends a reminder to its owner team's "
     "receivers (teams below)."},
    {"report.enabled", AK_CFG_BOOL, OFF(report_enabled), "true", 0, 0, false, NULL, NULL,
     "Deliver the morning report (asakai report daily) with each receiver's daily digest."},
    {"report.urgent_within", AK_CFG_DURATION, OFF(report_urgent_within_ms), "3d", 1 * HOUR,
     30 * DAY, false, NULL, NULL,
     "A deadline within this time is urgent (the do-now and delegate quadrants)."},
    {"report.horizon", AK_CFG_DURATION, OFF(report_horizon_ms), "14d", 1 * DAY, 90 * DAY, false,
     NULL, NULL, "How far ahead the morning report looks for deadlines and runbook steps."},
    {"monitoring.enabled", AK_CFG_BOOL, OFF(mon_enabled), "true", 0, 0, false, NULL, NULL,
     "Collect, scrape and store metrics (DATA_DIR/metrics.db) for the daily review."},
    {"monitoring.host_collector", AK_CFG_BOOL, OFF(mon_host_collector), "true", 0, 0, false, NULL,
     NULL, "Run the built-in host collector (node_exporter's metric names, job \"node\")."},
    {"monitoring.host_service", AK_CFG_STR, OFF(mon_host_service), "host", 0, 0, false,
     ak__cfg_check_service_name, NULL,
     "Service of the host collector's series; declared implicitly (type host) when services "
     "lacks it."},
    {"monitoring.processes", AK_CFG_STRLIST, OFF(mon_processes), "", 0, 0, false,
     ak__cfg_check_process, NULL,
     "Process names (as in /proc/PID/comm) whose count, RSS and CPU the host collector reports."},
    {"monitoring.scrape_interval", AK_CFG_DURATION, OFF(mon_interval_ms), "15s", 1 * SEC,
     1 * HOUR, false, NULL, NULL,
     "Time between two scrapes of a target (a service may set its own); also the host "
     "collector's."},
    {"monitoring.scrape_timeout", AK_CFG_DURATION, OFF(mon_timeout_ms), "10s", 100, 300 * SEC,
     false, NULL, NULL,
     "Time allowed for one scrape; not longer than scrape_interval."},
    {"monitoring.max_scrape_bytes", AK_CFG_SIZE, OFF(mon_max_scrape_bytes), "16MiB", 1 * KIB,
     256 * MIB, false, NULL, NULL, "Largest scrape response read; a bigger one fails the scrape."},
    {"monitoring.max_series", AK_CFG_U64, OFF(mon_max_series), "50000", 10, 10000000, false, NULL,
     NULL, "Series stored at most; new series beyond it are dropped and counted."},
    {"monitoring.retention.raw", AK_CFG_DURATION, OFF(mon_raw_retention_ms), "3d", 1 * HOUR,
     400 * DAY, false, NULL, NULL, "How long raw samples are kept."},
    {"monitoring.retention.minute", AK_CFG_DURATION, OFF(mon_minute_retention_ms), "15d", 1 * DAY,
     4000 * DAY, false, NULL, NULL, "How long the per-minute points are kept."},
    {"monitoring.retention.hour", AK_CFG_DURATION, OFF(mon_hour_retention_ms), "400d", 7 * DAY,
     4000 * DAY, false, NULL, NULL, "How long the per-hour points are kept."},
    {"review.window", AK_CFG_DURATION, OFF(review_window_ms), "14d", 1 * HOUR, 166 * DAY, false,
     NULL, NULL, "History the daily review looks at for growth, exhaustion and level shifts."},
    {"review.time", AK_CFG_STR, OFF(review_time), "06:00", 0, 0, false, ak__cfg_check_hhmm, NULL,
     "Local time (HH:MM) of the daily review."},
    {"review.tz", AK_CFG_STR, OFF(review_tz), "Asia/Tokyo", 0, 0, false, ak__cfg_check_tz, NULL,
     "IANA time zone of review.time."},
    {"review.fdr", AK_CFG_DOUBLE, OFF(review_fdr), "0.05", AK_CFG_PPM(0.0001), AK_CFG_PPM(0.5),
     false, NULL, NULL,
     "False discovery rate of the growth tests (Benjamini-Hochberg q over all series)."},
    {"review.min_growth_pct_per_day", AK_CFG_DOUBLE, OFF(review_min_growth_pct), "2", 0,
     AK_CFG_PPM(100), false, NULL, NULL,
     "Least growth reported, in % per day of the series' limit (else of its median level)."},
    {"review.min_shift_pct", AK_CFG_DOUBLE, OFF(review_min_shift_pct), "10", 0, AK_CFG_PPM(1000),
     false, NULL, NULL, "Least level shift reported, in % of the baseline median."},
    {"review.warmup", AK_CFG_DURATION, OFF(review_warmup_ms), "2h", 0, 2 * DAY, false, NULL, NULL,
     "Time after a restart or deploy excluded from the review."},
    {"review.days_to_limit_within", AK_CFG_DOUBLE, OFF(review_days_horizon), "30",
     AK_CFG_PPM(1), AK_CFG_PPM(3650), false, NULL, NULL,
     "Report a series whose trend reaches its limit within this many days."},
};
const size_t ak_cfg_noptions = AK_ARRAY_SIZE(ak_cfg_options);

/* ---- checks: reasons never quote the value (it may be a secret) ---- */

static bool fail(char *why, size_t n, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return false;
}

static bool has_space_or_ctl(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return true;
    return false;
}

static bool check_listen(const char *v, char *why, size_t n)
{
    const char *colon, *host = v, *host_end;
    uint64_t port;

    if (v[0] == '[') {
        host_end = strchr(v, ']');
        if (!host_end || host_end == v + 1 || host_end[1] != ':')
            return fail(why, n, "must be HOST:PORT or [IPv6]:PORT");
        host++;
        colon = host_end + 1;
        for (const char *p = host; p < host_end; p++)
            if (!strchr("0123456789abcdefABCDEF:.", *p))
                return fail(why, n, "bad character in the IPv6 address");
    } else {
        colon = strrchr(v, ':');
        if (!colon || colon == v)
            return fail(why, n, "must be HOST:PORT or [IPv6]:PORT");
        for (const char *p = v; p < colon; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *p))
                return fail(why, n, "bad character in the host (IPv6 needs [brackets])");
    }
    if (ak_parse_u64(colon + 1, 1, 65535, &port) != AK_OK)
        return fail(why, n, "port must be a number from 1 to 65535");
    return true;
}

bool ak__cfg_check_path(const char *v, char *why, size_t n)
{
    if (!*v)
        return fail(why, n, "must not be empty");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < ' ' || *p == 0x7f)
            return fail(why, n, "must not contain control characters");
    return true;
}

bool ak__cfg_check_secret(const char *v, char *why, size_t n)
{
    if (!*v)
        return fail(why, n, "must not be empty (leave the key out to unset it)");
    if (has_space_or_ctl(v))
        return fail(why, n, "must not contain spaces or control characters");
    return true;
}

static bool topic_field_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*?", s[i]))
            return false;
    return true;
}

/* "*" or arn:PARTITION:sns:REGION:ACCOUNT:NAME, each field non-empty, globs allowed. */
static bool check_rule(const char *v, char *why, size_t n)
{
    struct ak_matchers m = {0};
    struct ak_buf err = AK_BUF_INIT(256);
    bool ok = ak_matchers_parse(v, &m, &err) == AK_OK && m.n > 0;
    if (!ok)
        snprintf(why, n, "%s", err.len ? err.buf : "an empty rule matches everything");
    ak_matchers_release(&m);
    ak_buf_release(&err);
    return ok;
}

static bool check_topic(const char *v, char *why, size_t n)
{
    static const char msg[] =
        "must be '*' or a TopicArn pattern like arn:aws:sns:REGION:ACCOUNT:NAME";
    const char *p = v;
    int field = 0;

    if (strcmp(v, "*") == 0)
        return true;
    if (!ak_startswith(v, "arn:"))
        return fail(why, n, msg);
    for (;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (!topic_field_ok(p, len))
            return fail(why, n, msg);
        if (field == 2 && !(len == 3 && memcmp(p, "sns", 3) == 0))
            return fail(why, n, msg);
        field++;
        if (!end)
            break;
        p = end + 1;
    }
    if (field != 6)
        return fail(why, n, msg);
    return true;
}

static bool check_cert_name(const char *v, char *why, size_t n)
{
    if (!*v)
        return fail(why, n, "must not be empty");
    for (const char *p = v; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*{}", *p))
            return fail(why, n, "must be a DNS name (letters, digits, '.', '-', '*', {region})");
    return true;
}

static bool check_header(const char *v, char *why, size_t n)
{
    /* RFC 9110 token characters. */
    if (!*v)
        return fail(why, n, "must not be empty");
    for (const char *p = v; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~",
                    *p))
            return fail(why, n, "must be an HTTP header name (token characters only)");
    return true;
}

bool ak__cfg_check_hhmm(const char *v, char *why, size_t n)
{
    static const char msg[] = "must be a time of day HH:MM (00:00 .. 23:59)";

    if (strlen(v) != 5 || v[2] != ':')
        return fail(why, n, msg);
    for (size_t i = 0; i < 5; i++)
        if (i != 2 && (v[i] < '0' || v[i] > '9'))
            return fail(why, n, msg);
    if ((v[0] - '0') * 10 + (v[1] - '0') > 23 || v[3] > '5')
        return fail(why, n, msg);
    return true;
}

/* The zone is loaded when it is used (cfg does not read zoneinfo); here only its shape, and
 * nothing that could leave the zoneinfo directory. */
bool ak__cfg_check_tz(const char *v, char *why, size_t n)
{
    static const char msg[] = "must be an IANA time zone name like Asia/Tokyo or UTC";
    size_t len = strlen(v);

    if (len == 0 || len > 64 || v[0] == '/' || v[len - 1] == '/' || strstr(v, "..") ||
        strstr(v, "//"))
        return fail(why, n, msg);
    for (const char *p = v; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+-.", *p))
            return fail(why, n, msg);
    return true;
}

/* Replaces every "{region}" by "us-east-1", the way the intake module will use the pattern. */
static char *regex_instantiate(const char *v)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *p = v, *hit;

    while ((hit = strstr(p, "{region}"))) {
        ak_buf_addn(&b, p, (size_t)(hit - p));
        ak_buf_add(&b, "us-east-1");
        p = hit + strlen("{region}");
    }
    ak_buf_add(&b, p);
    return ak_buf_detach(&b, NULL);
}

/* glibc builds an automaton whose size multiplies nested {n,m} bounds; refuse huge ones. */
bool ak__cfg_regex_repeats_ok(const char *re)
{
    uint64_t product = 1;

    for (const char *p = re; *p; p++) {
        uint64_t bound = 0;

        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p != '{')
            continue;
        for (p++; *p && *p != '}'; p++) {
            if (*p >= '0' && *p <= '9') {
                bound = bound * 10 + (uint64_t)(*p - '0');
                if (bound > REGEX_MAX_REPEAT)
                    return false;
            } else if (*p == ',') {
                bound = 0;
            }
        }
        if (bound > 1)
            product *= bound;
        if (product > REGEX_MAX_REPEAT)
            return false;
        if (!*p)
            break;
    }
    return true;
}

static bool check_regex(const char *v, char *why, size_t n)
{
    char *re = NULL;
    regex_t rx;
    int rc;
    bool ok = false;

    if (strlen(v) > REGEX_MAX_LEN)
        return fail(why, n, "regular expression is longer than 1024 bytes");
    if (v[0] != '^')
        return fail(why, n, "regular expression must be anchored: start it with '^'");
    re = regex_instantiate(v);
    if (!ak__cfg_regex_repeats_ok(re)) {
        fail(why, n, "regular expression repeats too much ({n,m} bounds)");
        goto out;
    }
    if (ak__cfg_regex_stacked(re)) {
        fail(why, n, "stacked repetitions (like a+* or a{2}+) are not allowed");
        goto out;
    }
    rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];

        regerror(rc, &rx, msg, sizeof(msg));
        snprintf(why, n, "bad regular expression (with {region}=us-east-1): %s", msg);
        goto out;
    }
    regfree(&rx);
    ok = true;
out:
    free(re);
    return ok;
}

/* ---- parsing values ---- */

static void fmt_size(uint64_t v, char *buf, size_t n)
{
    if (v && v % MIB == 0)
        snprintf(buf, n, "%lluMiB", (unsigned long long)(v / MIB));
    else if (v && v % KIB == 0)
        snprintf(buf, n, "%lluKiB", (unsigned long long)(v / KIB));
    else
        snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* Compact, exact and parseable back: 100ms, 15s, 5m, 365d. */
static void fmt_ms(uint64_t ms, char *buf, size_t n)
{
    static const struct {
        uint64_t ms;
        const char *unit;
    } units[] = {{DAY, "d"}, {HOUR, "h"}, {60 * SEC, "m"}, {SEC, "s"}};

    for (size_t i = 0; i < AK_ARRAY_SIZE(units); i++) {
        if (ms && ms % units[i].ms == 0) {
            snprintf(buf, n, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(buf, n, "%llums", (unsigned long long)ms);
}

bool ak__cfg_parse_bool(const char *v, bool *ret)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};

    for (size_t i = 0; i < AK_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *ret = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *ret = false;
            return true;
        }
    }
    return false;
}

static bool enum_has(const char *choices, const char *v)
{
    size_t len = strlen(v);

    for (const char *p = choices; *p;) {
        const char *end = strchr(p, '|');
        size_t l = end ? (size_t)(end - p) : strlen(p);

        if (l == len && memcmp(p, v, len) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

static bool set_u64(const struct ak_cfg_option *o, uint64_t *dst, const char *v, char *why,
                    size_t n)
{
    uint64_t x;

    if (o->type == AK_CFG_SIZE) {
        char lo[32], hi[32];

        if (ak_parse_size(v, &x) != AK_OK)
            return fail(why, n, "not a size (examples: 4096, 64KiB, 1MiB)");
        if (x < o->min || x > o->max) {
            fmt_size(o->min, lo, sizeof(lo));
            fmt_size(o->max, hi, sizeof(hi));
            snprintf(why, n, "must be between %s and %s", lo, hi);
            return false;
        }
    } else {
        if (ak_parse_u64(v, 0, UINT64_MAX, &x) != AK_OK)
            return fail(why, n, "not a whole number");
        if (x < o->min || x > o->max) {
            snprintf(why, n, "must be between %llu and %llu", (unsigned long long)o->min,
                     (unsigned long long)o->max);
            return false;
        }
    }
    *dst = x;
    return true;
}

bool ak__cfg_duration(const struct ak_cfg_option *o, const char *v, int64_t *dst, char *why,
                      size_t n)
{
    int64_t ms;

    if (ak_parse_duration_ms(v, &ms) != AK_OK)
        return fail(why, n, "not a duration (examples: 500ms, 15s, 2h, 30d)");
    if (ms < (int64_t)o->min || ms > (int64_t)o->max) {
        char lo[32], hi[32];

        fmt_ms(o->min, lo, sizeof(lo));
        fmt_ms(o->max, hi, sizeof(hi));
        snprintf(why, n, "must be between %s and %s", lo, hi);
        return false;
    }
    *dst = ms;
    return true;
}

bool ak__cfg_parse_number(const char *v, double *ret)
{
    const char *p = v;
    size_t digits = 0;
    char *end;
    double d;

    /* The grammar first: strtod would also take hex, "inf", "nan" and leading spaces. */
    if (*p == '-')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    d = strtod(v, &end);
    if (*end || !isfinite(d))
        return false;
    *ret = d;
    return true;
}

static bool set_double(const struct ak_cfg_option *o, double *dst, const char *v, char *why,
                       size_t n)
{
    double x, lo = (double)o->min / 1e6, hi = (double)o->max / 1e6;

    if (!ak__cfg_parse_number(v, &x))
        return fail(why, n, "not a number (examples: 2, 0.05, 1e-3)");
    if (x < lo || x > hi) {
        snprintf(why, n, "must be between %g and %g", lo, hi);
        return false;
    }
    *dst = x;
    return true;
}

static void *field(const struct ak_cfg_option *o, struct ak_cfg *c)
{
    return (char *)c + o->offset;
}

bool ak_cfg_option_set(const struct ak_cfg_option *o, struct ak_cfg *c, const char *v, char *why,
                       size_t n)
{
    char **s;

    switch (o->type) {
    case AK_CFG_STR:
    case AK_CFG_ENUM:
        if (o->type == AK_CFG_ENUM && !enum_has(o->choices, v)) {
            snprintf(why, n, "must be one of: %s", o->choices);
            return false;
        }
        if (o->check && !o->check(v, why, n))
            return false;
        s = field(o, c);
        free(*s);
        *s = ak_xstrdup(v);
        return true;
    case AK_CFG_BOOL:
        if (!ak__cfg_parse_bool(v, field(o, c)))
            return fail(why, n, "must be true or false");
        return true;
    case AK_CFG_U64:
    case AK_CFG_SIZE:
        return set_u64(o, field(o, c), v, why, n);
    case AK_CFG_DURATION:
        return ak__cfg_duration(o, v, field(o, c), why, n);
    case AK_CFG_DOUBLE:
        return set_double(o, field(o, c), v, why, n);
    case AK_CFG_STRLIST:
    case AK_CFG_DURLIST:
        return fail(why, n, "expected a list");
    }
    return fail(why, n, "unknown option type");
}

void ak_cfg_strlist_release(struct ak_cfg_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void ak_cfg_option_set_list(const struct ak_cfg_option *o, struct ak_cfg *c,
                            struct ak_cfg_strlist *list)
{
    struct ak_cfg_strlist *dst = field(o, c);

    AK_BUG_ON(o->type != AK_CFG_STRLIST);
    ak_cfg_strlist_release(dst);
    *dst = *list;
    list->v = NULL;
    list->n = 0;
}

/* struct ak_cfg has one duration list; its count is the field after the array. */
static size_t *durlist_count(const struct ak_cfg_option *o, struct ak_cfg *c)
{
    AK_BUG_ON(o->offset != OFF(reminders_ms));
    return &c->n_reminders;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? 1 : x > y ? -1 : 0;
}

bool ak__cfg_option_set_durlist(const struct ak_cfg_option *o, struct ak_cfg *c, int64_t *v,
                                size_t n, char *why, size_t whylen)
{
    int64_t **dst = field(o, c);

    AK_BUG_ON(o->type != AK_CFG_DURLIST);
    if (n)
        qsort(v, n, sizeof(*v), cmp_desc);
    for (size_t i = 1; i < n; i++) {
        if (v[i] == v[i - 1]) {
            char d[32];

            fmt_ms((uint64_t)v[i], d, sizeof(d));
            snprintf(why, whylen, "%s is listed twice", d);
            free(v);
            return false;
        }
    }
    free(*dst);
    *dst = v;
    *durlist_count(o, c) = n;
    return true;
}

/* ---- defaults ---- */

static void default_list(const struct ak_cfg_option *o, struct ak_cfg *c)
{
    struct ak_cfg_strlist l = {NULL, 0};
    const char *p = o->def;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        l.v = ak_xrealloc(l.v, (l.n + 1) * sizeof(*l.v));
        l.v[l.n++] = ak_xstrndup(p, len);
        p += len + (end ? 1 : 0);
    }
    ak_cfg_option_set_list(o, c, &l);
}

static void default_durlist(const struct ak_cfg_option *o, struct ak_cfg *c)
{
    int64_t *v = ak_xcalloc(AK_CFG_MAX_DURLIST, sizeof(*v));
    size_t n = 0;
    char why[128];

    for (const char *p = o->def; *p;) {
        const char *end = strchr(p, ',');
        char *item = ak_xstrndup(p, end ? (size_t)(end - p) : strlen(p));

        AK_BUG_ON(n == AK_CFG_MAX_DURLIST || !ak__cfg_duration(o, item, &v[n], why, sizeof(why)));
        n++;
        p += strlen(item) + (end ? 1 : 0);
        free(item);
    }
    AK_BUG_ON(!ak__cfg_option_set_durlist(o, c, v, n, why, sizeof(why)));
}

void ak_cfg_defaults(struct ak_cfg *c)
{
    char why[256];

    memset(c, 0, sizeof(*c));
    c->source = ak_xstrdup("(defaults)");
    for (size_t i = 0; i < ak_cfg_noptions; i++) {
        const struct ak_cfg_option *o = &ak_cfg_options[i];

        if (o->type == AK_CFG_STRLIST)
            default_list(o, c);
        else if (o->type == AK_CFG_DURLIST)
            default_durlist(o, c);
        else if (o->def)
            /* A default that does not pass its own validation is a bug in the table. */
            AK_BUG_ON(!ak_cfg_option_set(o, c, o->def, why, sizeof(why)));
    }
    ak__cfg_runbook_defaults(c);
    ak__cfg_mon_defaults(c);
}

/* ---- key lookup and suggestions ---- */

const struct ak_cfg_option *ak_cfg_option_find(const char *key)
{
    for (size_t i = 0; i < ak_cfg_noptions; i++)
        if (strcmp(ak_cfg_options[i].key, key) == 0)
            return &ak_cfg_options[i];
    return NULL;
}

bool ak_cfg_is_section(const char *key)
{
    size_t len = strlen(key);

    for (size_t i = 0; i < ak_cfg_noptions; i++) {
        const char *k = ak_cfg_options[i].key;

        if (strncmp(k, key, len) == 0 && k[len] == '.')
            return true;
    }
    return false;
}

#define SUGGEST_MAX_LEN 64

size_t ak__cfg_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[SUGGEST_MAX_LEN + 1];

    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *last_component(const char *k)
{
    const char *dot = strrchr(k, '.');
    return dot ? dot + 1 : k;
}

struct suggestion {
    const char *key;
    size_t len;
    size_t dist;
};

static void consider(const char *key, size_t klen, const char *cand, size_t clen,
                     struct suggestion *best)
{
    char tail[SUGGEST_MAX_LEN + 1];
    size_t d;

    if (clen > SUGGEST_MAX_LEN)
        return;
    d = ak__cfg_edit_distance(key, klen, cand, clen);
    /* Right name in the wrong section ("server.topics") is as good as a one-letter typo. */
    memcpy(tail, cand, clen);
    tail[clen] = 0;
    if (d > 1 && strcmp(last_component(key), last_component(tail)) == 0)
        d = 1;
    if (d < best->dist) {
        best->dist = d;
        best->key = cand;
        best->len = clen;
    }
}

bool ak_cfg_suggest(const char *key, char *buf, size_t n)
{
    struct suggestion best = {NULL, 0, SIZE_MAX};
    /* lists of records, not in the table */
    static const char *const special[] = {"receivers",          "route",    "aws.accounts",
                                          "inventory",          "sts.roles",
                                          "sts.oidc_providers", "teams",
                                          "services",           "monitoring.signals",
                                          "monitoring.sources"};
    size_t klen = strlen(key);

    if (klen > SUGGEST_MAX_LEN)
        return false;
    /* A key with control bytes is not a typo, and short sections ("aws") would attract it. */
    for (size_t i = 0; i < klen; i++)
        if ((unsigned char)key[i] < ' ' || key[i] == 0x7f)
            return false;
    for (size_t i = 0; i < AK_ARRAY_SIZE(special); i++)
        consider(key, klen, special[i], strlen(special[i]), &best);
    for (size_t i = 0; i < ak_cfg_noptions; i++) {
        const char *k = ak_cfg_options[i].key;

        consider(key, klen, k, strlen(k), &best);
        /* Sections too: every prefix ending before a dot. */
        for (const char *dot = strchr(k, '.'); dot; dot = strchr(dot + 1, '.'))
            consider(key, klen, k, (size_t)(dot - k), &best);
    }
    /* Far-off keys get no suggestion: "foo" is not a typo of "server". */
    if (!best.key || best.dist > (klen / 3 > 2 ? klen / 3 : 2))
        return false;
    snprintf(buf, n, "%.*s", (int)best.len, best.key);
    return true;
}

/* ---- the defaults as commented YAML ---- */

static void dump_quoted(struct ak_buf *out, const char *s)
{
    /* Single quotes keep backslashes literal; only ' needs doubling, and "${" must not expand. */
    ak_buf_addc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            ak_buf_add(out, "''");
        else if (s[0] == '$' && s[1] == '{')
            ak_buf_add(out, "$$");
        else
            ak_buf_addc(out, *s);
    }
    ak_buf_addc(out, '\'');
}

static void dump_indent(struct ak_buf *out, size_t depth)
{
    for (size_t i = 0; i < depth; i++)
        ak_buf_add(out, "  ");
}

static size_t section_len(const char *key)
{
    const char *last = key ? strrchr(key, '.') : NULL;
    return last ? (size_t)(last - key) : 0;
}

/* Opens the mapping levels of key's section not already open after prev's. Returns depth. */
static size_t dump_sections(struct ak_buf *out, const char *prev, const char *key)
{
    const char *p = key, *kend = key + section_len(key);
    const char *q = prev, *pend = prev ? prev + section_len(prev) : NULL;
    bool same = prev != NULL;
    size_t depth = 0;

    while (p < kend) {
        const char *dot = memchr(p, '.', (size_t)(kend - p));
        size_t len = dot ? (size_t)(dot - p) : (size_t)(kend - p);

        if (same && q < pend) {
            const char *qdot = memchr(q, '.', (size_t)(pend - q));
            size_t qlen = qdot ? (size_t)(qdot - q) : (size_t)(pend - q);

            same = qlen == len && memcmp(p, q, len) == 0;
            q += qlen + 1;
        } else {
            same = false;
        }
        if (!same) {
            if (depth == 0)
                ak_buf_addc(out, '\n');
            dump_indent(out, depth);
            ak_buf_addf(out, "%.*s:\n", (int)len, p);
        }
        p += len + 1;
        depth++;
    }
    return depth;
}

static void dump_type(struct ak_buf *out, const struct ak_cfg_option *o)
{
    char lo[32], hi[32];

    switch (o->type) {
    case AK_CFG_STR:
        ak_buf_add(out, o->nullable ? "string, optional" : "string");
        break;
    case AK_CFG_ENUM:
        ak_buf_addf(out, "one of %s", o->choices);
        break;
    case AK_CFG_BOOL:
        ak_buf_add(out, "true or false");
        break;
    case AK_CFG_U64:
        ak_buf_addf(out, "integer, %llu .. %llu", (unsigned long long)o->min,
                    (unsigned long long)o->max);
        break;
    case AK_CFG_SIZE:
        fmt_size(o->min, lo, sizeof(lo));
        fmt_size(o->max, hi, sizeof(hi));
        ak_buf_addf(out, "size, %s .. %s", lo, hi);
        break;
    case AK_CFG_DURATION:
        fmt_ms(o->min, lo, sizeof(lo));
        fmt_ms(o->max, hi, sizeof(hi));
        ak_buf_addf(out, "duration, %s .. %s", lo, hi);
        break;
    case AK_CFG_STRLIST:
        ak_buf_add(out, "list of strings");
        break;
    case AK_CFG_DURLIST:
        fmt_ms(o->min, lo, sizeof(lo));
        fmt_ms(o->max, hi, sizeof(hi));
        ak_buf_addf(out, "list of durations, each %s .. %s", lo, hi);
        break;
    case AK_CFG_DOUBLE:
        ak_buf_addf(out, "number, %g .. %g", (double)o->min / 1e6, (double)o->max / 1e6);
        break;
    }
}

static void dump_value(struct ak_buf *out, const struct ak_cfg_option *o, size_t depth)
{
    const char *name = last_component(o->key);

    dump_indent(out, depth);
    if (!o->def) {
        ak_buf_addf(out, "# %s:\n", name); /* unset by default: shown commented out */
        return;
    }
    ak_buf_addf(out, "%s:", name);
    if (o->type == AK_CFG_STR) {
        ak_buf_addc(out, ' ');
        dump_quoted(out, o->def);
    } else if (o->type == AK_CFG_STRLIST && !*o->def) {
        ak_buf_add(out, " []");
    } else if (o->type == AK_CFG_DURLIST) {
        ak_buf_addf(out, " [%s]", o->def); /* "14d,7d" is a valid flow list as it is */
    } else if (o->type == AK_CFG_STRLIST) {
        for (const char *p = o->def; *p;) {
            const char *end = strchr(p, ',');
            char *item = ak_xstrndup(p, end ? (size_t)(end - p) : strlen(p));

            ak_buf_addc(out, '\n');
            dump_indent(out, depth + 1);
            ak_buf_add(out, "- ");
            dump_quoted(out, item);
            p += strlen(item) + (end ? 1 : 0);
            free(item);
        }
    } else {
        ak_buf_addf(out, " %s", o->def);
    }
    ak_buf_addc(out, '\n');
}

static const char dump_notify_example[] =
    "\n"
    "# Receivers and the routing tree have no defaults. Without a route, every record and change\n"
    "# goes to every email and webhook receiver, and records with importance high also to every\n"
    "# slack receiver. An example (see docs/config.md):\n"
    "# receivers:\n"
    "#   - name: team-mail\n"
    "#     email: {smarthost: 'smtp://127.0.0.1:25', from: asakai@example.com,"
    " to: [sre@example.com]}\n"
    "#   - name: team-slack\n"
    "#     slack: {webhook_url: '${SLACK_WEBHOOK_URL}'}\n"
    "# route:\n"
    "#   receivers: [team-mail]\n"
    "#   routes:\n"
    "#     - match: {importance: high}\n"
    "#       receivers: [team-slack]\n";

int ak_cfg_dump_defaults(struct ak_buf *out)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *prev = NULL;
    char *text;
    size_t len;
    int r;

    ak_buf_add(&b, "# asakai configuration: every key with its default value.\n"
                   "# Durations: 500ms 15s 2h 30d 1w. Sizes: 4096 64KiB 1MiB.\n"
                   "# \"${NAME}\" in a string is replaced by the environment variable NAME;"
                   " \"$${\" is a literal \"${\".\n");
    for (size_t i = 0; i < ak_cfg_noptions; i++) {
        const struct ak_cfg_option *o = &ak_cfg_options[i];
        size_t depth;

        /* monitoring's lists close its section, at depth 1 */
        if (prev && ak_startswith(prev, "monitoring.") && !ak_startswith(o->key, "monitoring."))
            ak__cfg_dump_mon(&b);
        depth = dump_sections(&b, prev, o->key);

        if (ak_startswith(o->key, "aws.") && !(prev && ak_startswith(prev, "aws.")))
            ak_buf_add(&b, ak__cfg_dump_accounts_example);
        if (ak_startswith(o->key, "sts.") && !(prev && ak_startswith(prev, "sts.")))
            ak_buf_add(&b, ak__cfg_dump_sts_example);
        dump_indent(&b, depth);
        ak_buf_addf(&b, "# %s\n", o->help);
        dump_indent(&b, depth);
        ak_buf_add(&b, "# (");
        dump_type(&b, o);
        ak_buf_add(&b, ")\n");
        dump_value(&b, o, depth);
        prev = o->key;
    }
    ak_buf_add(&b, ak__cfg_dump_inventory_example);
    ak_buf_add(&b, dump_notify_example);
    ak_buf_add(&b, ak__cfg_dump_teams_example);
    ak_buf_add(&b, ak__cfg_dump_services_example);
    /* Built aside and added in one go, so a capped out is either complete or untouched. */
    text = ak_buf_detach(&b, &len);
    r = ak_buf_addn(out, text, len);
    free(text);
    return r;
}
