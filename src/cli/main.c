/* main.c — `asakai <command> [<sub>] [options]`: global options, the command table, help. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ak_config.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

static int cmd_help(int argc, char **argv, struct ak_cli *cli);

const struct ak_cmd ak_cli_cmds[] = {
    {"serve", ak_cmd_serve, "Run the daemon (HTTP API, intake endpoints, store writer)",
     "usage: asakai serve [--config FILE] [--listen HOST:PORT] [--data DIR]\n"
     "\n"
     "Runs the daemon in the foreground until SIGTERM or SIGINT, then drains requests in\n"
     "flight, commits what was accepted and exits 0. Logs are logfmt on stderr.\n"
     "With no --config, runs on embedded defaults: data in ./asakai-data, listening on\n"
     "127.0.0.1:9780. --listen and --data override the configuration.\n"},
    {"config", ak_cmd_config, "Validate a configuration file or print the defaults",
     "usage: asakai config check FILE\n"
     "       asakai config defaults\n"
     "\n"
     "check     validates FILE without starting; errors are FILE:LINE:COL: KEY: reason.\n"
     "          Exit 0 when valid, 2 when not.\n"
     "defaults  prints every key with its default value and help, as YAML.\n"},
    {"events", ak_cmd_events, "Import AWS maintenance messages from files; list the archive",
     "usage: asakai events import [--channel import|demo] [-o table|json] FILE...\n"
     "       asakai events list [--state pending|parsed|ignored|unparsed|control] [--limit N]\n"
     "                          [-o table|json]\n"
     "\n"
     "import  sends each FILE ('-' = stdin) to the daemon, which archives every document and\n"
     "        normalises it with the same parsers as the intake endpoints. A file may hold an\n"
     "        SNS envelope, an EventBridge event, a JSON array of them, or NDJSON. Prints what\n"
     "        was accepted, what was a duplicate, what was skipped and why. Imported SNS\n"
     "        envelopes are trusted as the operator's own files: signatures are not checked.\n"
     "        Exit 1 when any document was skipped or kept unparsed.\n"
     "list    the archive of received messages, newest first (without bodies).\n"},
    {"maint", ak_cmd_maint, "List, show and acknowledge maintenance records",
     "usage: asakai maint list [--upcoming | --all] [--service S] [-o table|json]\n"
     "       asakai maint show ID [--raw] [-o table|json]\n"
     "       asakai maint ack ID --by NAME [--note TEXT]\n"
     "       asakai maint coverage [-o table|json]\n"
     "\n"
     "list  open records (default), soonest deadline first; --all includes completed and\n"
     "      canceled ones; --upcoming only those whose deadline or window is ahead.\n"
     "      -o json prints an array of records: id, source, service, kind, status, resources,\n"
     "      account, region, window_start, window_end, deadline, title, description,\n"
     "      first_seen, last_seen, recurrence_of (times RFC 3339 UTC).\n"
     "show  one record and the timeline of every delivery that touched it, its changes, its\n"
     "      notifications, the runbooks made from it and its notes; --raw adds the verbatim\n"
     "      payloads.\n"
     "ack   takes the record: stops its reminders; recorded in its history and announced.\n"
     "coverage  which maintenance can reach you, per account x region x service (from the\n"
     "      config inventory and from what pollers and push have seen): SNS seen in 30 days\n"
     "      (topics), EventBridge seen, pollers enabled and healthy, Health API; a verdict\n"
     "      covered | partial | blind with the reason in plain words.\n"
     "      Exit 1 when a blind spot exists (run it in CI).\n"},
    {"poll", ak_cmd_poll, "Poll AWS now for pending maintenance; show the pollers' health",
     "usage: asakai poll [--source POLLER] [--dry-run] [-o table|json]\n"
     "       asakai poll status [-o table|json]\n"
     "\n"
     "poll    runs one pass now, in the daemon, over every configured account and region:\n"
     "        every enabled poller, or only --source POLLER (even when disabled). Prints each\n"
     "        scope (poller:account:region) with pages, items and errors, what was found and\n"
     "        what changed (created, updated, closed, pending-close: a record closes only when\n"
     "        two polls in a row no longer list it). --dry-run makes the requests and reports\n"
     "        what would change without changing anything. Exit 1 when a scope failed.\n"
     "status  each scope's last run, last success, error, and whether it is healthy.\n"
     "\n"
     "POLLER: ec2_scheduled_events, rds_pending_maintenance, elasticache_update_actions,\n"
     "        elasticache_events, health.\n"},
    {"silence", ak_cmd_silence, "Silence notifications for matching records for a while",
     "usage: asakai silence add --match MATCHERS --for DURATION --reason TEXT [--by NAME]\n"
     "       asakai silence list [-o table|json]\n"
     "       asakai silence expire ID\n"
     "\n"
     "MATCHERS: comma-separated field OP value, OP one of = != =~ !~ (regex, anchored);\n"
     "fields: service kind status account region source event_code importance resource\n"
     "tag.<key>. Example: --match 'service=rds,kind=~.*upgrade' --for 7d --reason 'upgrade week'.\n"
     "Silenced notifications are kept in the outbox as 'silenced' and in the record's history.\n"},
    {"outbox", ak_cmd_outbox, "Show and retry the notification outbox",
     "usage: asakai outbox list [--state pending|sent|dead|silenced] [-o table|json]\n"
     "       asakai outbox retry [ID]     (no ID: every dead message)\n"
     "\n"
     "Every (record change, receiver) is one row, sent at least once with backoff; a row that\n"
     "could not be delivered within notify.give_up_after is 'dead' until retried.\n"},
    {"route", ak_cmd_route, "Show which receivers a record reaches, and why",
     "usage: asakai route test --record ID [-o table|json]\n"
     "       asakai route test [-o table|json] < record.json\n"},
    {"aws-creds", ak_cmd_aws_creds, "Exchange a CI job's OIDC token for AWS credentials (no aws-cli, no jq)",
     "usage: asakai aws-creds --role-arn ARN [--token-env VAR | --token-file FILE]\n"
     "                        [--session-name NAME] [--duration SECONDS] [--region REGION]\n"
     "                        [--endpoint URL] [--audience AUD] [--max-attempts N]\n"
     "                        [--ca-file FILE] [-q] [-o env|json|credential-process|github-env]\n"
     "\n"
     "Calls STS AssumeRoleWithWebIdentity (unsigned, like aws-cli) with the job's OIDC token\n"
     "and prints the temporary credentials. The token is taken from the first of:\n"
     "  --token-env VAR / --token-file FILE (GitLab CI: an id_tokens: variable you declare)\n"
     "  $AWS_WEB_IDENTITY_TOKEN_FILE         (EKS, or a file your job refreshes)\n"
     "  $CIRCLE_OIDC_TOKEN_V2, $CIRCLE_OIDC_TOKEN          (CircleCI)\n"
     "  $ACTIONS_ID_TOKEN_REQUEST_URL + _TOKEN             (GitHub Actions, needs\n"
     "      'permissions: id-token: write'; fetched for --audience, default sts.amazonaws.com)\n"
     "The token is read again before every retry, so a refreshed file or a fresh GitHub\n"
     "token is used.\n"
     "\n"
     "--role-arn       the role to assume (default $AWS_ROLE_ARN)\n"
     "--session-name   RoleSessionName (default $AWS_ROLE_SESSION_NAME, else circleci-<build>,\n"
     "                 github-<run id>, gitlab-<job id>, else asakai-<pid>); characters outside\n"
     "                 [A-Za-z0-9_+=,.@-] become '-', cut at 64\n"
     "--duration       DurationSeconds, 900..43200 or 15m..12h (default 3600; the role's\n"
     "                 max session duration caps it at AWS)\n"
     "--endpoint       STS URL; default $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL, else\n"
     "                 https://sts.<region>.amazonaws.com with --region / $AWS_REGION /\n"
     "                 $AWS_DEFAULT_REGION, else https://sts.amazonaws.com. Any STS-compatible\n"
     "                 endpoint works (asakai's own twin: http://HOST:9780/sts)\n"
     "--max-attempts   tries in all (default 6): IDPCommunicationError, throttling, HTTP 5xx,\n"
     "                 network errors and \"Couldn't retrieve verification key\" are retried\n"
     "                 with exponential backoff; an expired token is retried only when its\n"
     "                 file or GitHub request hands out a new one\n"
     "-q               no summary line on stderr\n"
     "\n"
     "Output (-o):\n"
     "  env                 export AWS_ACCESS_KEY_ID=... lines (plus AWS_SECRET_ACCESS_KEY,\n"
     "                      AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION, and AWS_REGION /\n"
     "                      AWS_DEFAULT_REGION with --region), single-quoted: safe to\n"
     "                      eval \"$(asakai aws-creds ...)\". The default.\n"
     "  json                {\"AccessKeyId\", \"SecretAccessKey\", \"SessionToken\",\n"
     "                      \"Expiration\" (RFC 3339)}\n"
     "  credential-process  the AWS SDK credential_process document (Version 1). In\n"
     "                      ~/.aws/config: credential_process = asakai aws-creds --role-arn ARN\n"
     "                      -o credential-process; SDKs and aws-cli then re-run it before expiry,\n"
     "                      so jobs outlive the session. Use --duration 1800 or more: SDKs\n"
     "                      refresh 15 minutes before expiry.\n"
     "  github-env          appends the variables to $GITHUB_ENV for the next steps and prints\n"
     "                      ::add-mask:: lines for the key id, secret and session token\n"
     "\n"
     "The token and the secret are never written to stderr. On failure, AWS's error code and\n"
     "message are printed verbatim and the exit status is 1; 2 for usage errors or when no\n"
     "token source is configured.\n"},
    {"oidc", ak_cmd_oidc, "Audit and simulate OIDC trust policies; the STS twin's audit log",
     "usage: asakai oidc log [--denied] [--limit N] [-o table|json]\n"
     "       asakai oidc audit [-o text|json|sarif] [--fail-on SEVERITY] FILE...\n"
     "       asakai oidc simulate --policy FILE (--token JWT | --claims JSON) --provider URL\n"
     "                            [--account ID] [--role-session-name NAME] [-o text|json]\n"
     "       asakai oidc init --ci circleci|github|gitlab --account ID [--role-name NAME]\n"
     "                        [--org-id UUID] [--project-id UUID] [--owner O] [--repo R]\n"
     "                        [--repo-id N]\n"
     "                        [--project-path GROUP/PROJECT] [--host HOST] [--branch B]\n"
     "                        [--environment E] [--max-session SECONDS]\n"
     "\n"
     "log       every token exchange at the daemon's STS twin, allowed or denied, newest\n"
     "          first, with the real reason for a denial (the caller got only AWS's code).\n"
     "          -o json: an array of {at, action, result, code, reason, role_arn, provider,\n"
     "          subject, audience, session_name, akid, remote}.\n"
     "audit     offline: reads IAM trust policies, 'aws iam get-role' output or\n"
     "          'terraform show -json' plans/state and reports misconfigurations AUD-01..19\n"
     "          (no sub pinning, wildcards a stranger can satisfy, vacuous conditions, ...),\n"
     "          each with the JSON path and the claims a stranger would need. -o sarif for\n"
     "          code scanning. Exit 1 when a finding is at or above --fail-on (info, low,\n"
     "          medium, high, critical, or none; default high).\n"
     "simulate  offline: would this token be allowed by this trust policy? Evaluates the\n"
     "          policy with IAM's semantics on the condition keys STS derives from the\n"
     "          token's claims. The token is decoded WITHOUT verifying its signature or\n"
     "          lifetime. --token/--claims take the value, @FILE or - (stdin). --provider is\n"
     "          the issuer URL (or the provider ARN); the principal ARN comes from --account\n"
     "          or from the policy. Prints allow/deny, the deciding statement and, for a\n"
     "          deny, the nearest condition that failed. Exit 0 allow, 1 deny.\n"
     "init      prints a safe starting point as Terraform JSON (save as oidc.tf.json): the\n"
     "          OIDC provider and a role whose trust policy passes the audit.\n"
     "          circleci: --org-id --project-id [--branch]; github: --owner --repo\n"
     "          --repo-id (the numeric id: gh api repos/OWNER/REPO --jq .id) and (--branch |\n"
     "          --environment); gitlab: --project-path --branch [--host].\n"},
    {"report", ak_cmd_report, "The morning report: what needs attention today, by urgency x importance",
     "usage: asakai report daily [--date YYYY-MM-DD] [--tz ZONE] [-o md|html|json]\n"
     "\n"
     "One digest of everything, from the daemon: maintenance deadlines within report.horizon\n"
     "(default 14 days) and recurrences, runbook steps overdue or due within\n"
     "report.urgent_within (default 3 days), what arrived overnight, coverage gaps, and the\n"
     "CI-auth audit of the STS twin's roles. Each item is placed in one quadrant of the\n"
     "urgency x importance matrix — do-now, plan, delegate, note — with the rule that put\n"
     "it there (docs/report.md).\n"
     "\n"
     "--date  the report of that local date, as of notify.digest_time (default: now)\n"
     "--tz    the zone for the date and for times (default notify.digest_tz)\n"
     "-o      md (default): Markdown; html: one self-contained page (no JavaScript);\n"
     "        json: {date, generated_at, tz, rules, counts, quadrants: {do-now, plan,\n"
     "        delegate, note}, sections: {maintenance, runbook_steps, overnight, coverage,\n"
     "        ci_auth}}, each item {kind, id, title, due, when, why, link, quadrant}.\n"},
    {"runbook", ak_cmd_runbook, "Dated procedures from templates: deadlines, hand-offs, run record",
     "usage: asakai runbook new TEMPLATE --at 'YYYY-MM-DD HH:MM' [--tz ZONE] [--var NAME=VALUE]...\n"
     "                          [--from-maint ID] [--by NAME] [-o table|json]\n"
     "       asakai runbook list [--all] [-o table|json]\n"
     "       asakai runbook show ID [-o table|json]\n"
     "       asakai runbook status ID [-o table|json]\n"
     "       asakai runbook export ID --format md|ics\n"
     "       asakai runbook done ID STEP [--note TEXT] [--by NAME]\n"
     "       asakai runbook run ID STEP [--dry-run] [--yes] [--by NAME]\n"
     "\n"
     "new     makes a runbook instance from TEMPLATE (runbooks.template_dir, then the shipped\n"
     "        templates: service-maintenance, release, ec2-retirement,\n"
     "        elasticache-node-replacement, rds-minor-upgrade, rds-hardware-maintenance): every\n"
     "        step gets an absolute deadline from its offset (T-14d, T-3d 18:00, T+1h) and the\n"
     "        event time --at, a local time in --tz (default notify.digest_tz; DST-safe) or RFC\n"
     "        3339 with an offset. --from-maint ID links the maintenance record and fills the\n"
     "        variables resource, resources, window_start, window_end, deadline (and\n"
     "        *_local), account, region, service from it; --at then defaults to its window\n"
     "        start (else deadline). --var overrides. -o json prints the instance: id,\n"
     "        template, title, at, tz, maint_id, steps [{id, title, owner, type, due (RFC 3339\n"
     "        with the zone's offset), state, command}].\n"
     "list    open runbooks, newest event first (--all: done and canceled too).\n"
     "show    the instance, its steps with deadlines and owners, and the run record.\n"
     "status  the steps only: what is done, what is due, what is overdue.\n"
     "export  md: the dated procedure as a Markdown document to follow; ics: an iCalendar\n"
     "        file with one event per step (\"[owner] title\" at its deadline) for the team\n"
     "        calendar.\n"
     "done    ticks a step (a task, or anything done by hand); recorded with who and when.\n"
     "run     executes a check, run, wait or rollback step here, with your shell and\n"
     "        credentials: /bin/sh -c COMMAND with the step's timeout (wait: polled every\n"
     "        interval until it succeeds). Asks 'run this? [y/N]' unless --yes (and refuses\n"
     "        without a terminal and without --yes). Output (stdout+stderr, first 64 KiB) is\n"
     "        shown and sent to the run record with secrets redacted (AWS keys, passwords,\n"
     "        tokens, Authorization headers, private keys). Success marks the step done. A\n"
     "        failing run step triggers the rollback steps that undo it, each recorded.\n"
     "        --dry-run shows the command and records that, running nothing.\n"
     "        Exit 0 when the step succeeded, 1 when it failed.\n"},
    {"note", ak_cmd_note, "Team memory: write down what you did and found",
     "usage: asakai note add [--tag TAG]... [--maint ID] [--runbook ID] [--file FILE] [--by NAME]\n"
     "       asakai note list [--tag TAG] [--maint ID] [--runbook ID] [-o table|json]\n"
     "\n"
     "add   saves a note: investigation results, decisions, gotchas. The text comes from\n"
     "      --file (- = stdin), else from stdin when it is not a terminal, else from $VISUAL /\n"
     "      $EDITOR on a temporary file. Tags are words (lowercased); --maint and --runbook\n"
     "      link the note to a maintenance record or a runbook (shown with them).\n"
     "list  notes, newest first, optionally with one tag or for one record or runbook.\n"},
    {"search", ak_cmd_search, "Full-text search over notes, runbooks and maintenance records",
     "usage: asakai search QUERY... [--kind note|runbook|maintenance] [--tag TAG]\n"
     "                     [--since DATE] [--until DATE] [--limit N] [-o table|json]\n"
     "\n"
     "Searches notes, runbook instances (title, steps, run-record notes and outputs) and\n"
     "maintenance records (title, description, resources and the raw AWS payloads), best\n"
     "match first (SQLite FTS5, bm25), each with a snippet where the matches are [marked].\n"
     "Words must all appear (stemmed: 'replaced' finds 'replacement'); \"quoted phrases\",\n"
     "OR, NOT and prefix* work; a query FTS5 cannot parse is searched as plain words.\n"
     "--tag: notes with that tag, maintenance of that service, runbooks of that template.\n"
     "--since/--until: DATE or RFC 3339 time (until DATE includes that day), on a note's\n"
     "creation, a runbook's event time, a record's deadline or window.\n"
     "-o json: {query, hits: [{kind, id, title, snippet, rank, at, tags, link}]}.\n"},
    {"review", ak_cmd_review, "The daily review now: leaks, days to a limit, shifts after deploys",
     "usage: asakai review [--window 14d] [--resolution hour|minute|raw] [--service S]\n"
     "                     [--latest] [-o table|json]\n"
     "\n"
     "Runs the daily review now, in the daemon, over the stored metrics: growth (leaks: a\n"
     "Mann-Kendall trend with Sen's slope, false discoveries controlled, small effects left\n"
     "out), days until a series reaches its limit, level shifts after deploy markers, and\n"
     "gaps. One sentence each, ranked, fewest days first.\n"
     "\n"
     "--window      how far back to look (default review.window, 14d)\n"
     "--resolution  hour (default), minute, or raw (a short window: raw samples averaged to\n"
     "              steps of the scrape interval)\n"
     "--service     one service only\n"
     "--latest      the daemon's last daily run (at review.time) instead of running one now\n"
     "-o json       the review object: {at, window_ms, resolution, step_ms, series, tested,\n"
     "              short, constant, findings: [{kind, service, series, metric, labels, text,\n"
     "              confidence, p, q, slope_per_day, pct_per_day, days, days_lo, days_hi,\n"
     "              limit, limit_name, level, shift, shift_pct, at, version, n, link}]}\n"
     "\n"
     "Exit 0 (findings are information); 1 when the daemon cannot answer.\n"},
    {"coverage", ak_cmd_coverage, "What we monitor and what we don't: services x standard signals",
     "usage: asakai coverage [-o table|json]\n"
     "\n"
     "Every declared service (services: in the config) against the standard signals of its\n"
     "type (up, memory, cpu, disk, latency, errors, saturation; monitoring.signals): each\n"
     "cell present, stale (no recent sample), missing (no matching series) or short (less\n"
     "than 3 days of history for the review); then the missing ones in words.\n"
     "Exit 1 when a required signal is missing (run it in CI), else 0.\n"},
    {"deploy", ak_cmd_deploy, "Mark deploys: the review compares before and after",
     "usage: asakai deploy mark SERVICE [--version V] [--at TIME] [--note TEXT] [--by NAME]\n"
     "       asakai deploy list [--service S] [--since 7d] [-o table|json]\n"
     "\n"
     "mark  records a deploy of SERVICE (a declared service; 404 otherwise) at TIME (RFC 3339\n"
     "      or ms since the epoch; default now). The review compares the same hours of day\n"
     "      before and after it for level shifts; charts draw it as a vertical line.\n"
     "list  deploy markers, newest first; --since a duration (7d) or ms since the epoch.\n"},
    {"metrics", ak_cmd_metrics, "The metrics store: import history, series, points, targets, size",
     "usage: asakai metrics import [--batch-bytes N] FILE...\n"
     "       asakai metrics series [--service S] [--match GLOB] [-o table|json]\n"
     "       asakai metrics query SERIES [--from 7d] [--to MS]\n"
     "                           [--resolution auto|raw|minute|hour] [-o table|json]\n"
     "       asakai metrics targets [-o table|json]\n"
     "       asakai metrics stats [-o table|json]\n"
     "\n"
     "import   backfills history from expositions with timestamps: OpenMetrics text (what\n"
     "         'promtool tsdb create-blocks-from openmetrics' takes) or Prometheus text 0.0.4\n"
     "         with ms timestamps; FILE '-' is stdin. Every file is validated here first\n"
     "         (errors FILE:LINE: reason, exit 2, nothing sent); the samples are then sent in\n"
     "         batches of about --batch-bytes (default 8M, 4k..64M), cut between series.\n"
     "         A progress bar on a terminal, else one line; then the totals. Importing the\n"
     "         same file again changes nothing.\n"
     "series   the stored series (key, service, type, first, last, last value); --match a\n"
     "         glob on the key ('*' and '?').\n"
     "query    one series' points [time, mean, min, max] (counters as per-second rates) and\n"
     "         the deploys of its service; --from a duration (default 7d) or ms; --resolution\n"
     "         auto picks the finest that gives at most 2000 points.\n"
     "targets  scrape targets and query-API sources with their last result.\n"
     "stats    storage: series, chunks, raw samples, bytes per sample, tier points, file size.\n"},
    {"status", ak_cmd_status, "Show whether the daemon is up and what its archive holds",
     "usage: asakai status [-o table|json]\n"},
    {"help", cmd_help, "Show help for asakai or one command", "usage: asakai help [COMMAND]\n"},
};
const size_t ak_cli_n_cmds = AK_ARRAY_SIZE(ak_cli_cmds);

static const char global_usage[] =
    "usage: asakai [--server URL] [--version] [--help] <command> [<args>]\n"
    "\n"
    "asakai gives a small SRE team on AWS its daily operations in one place.\n"
    "\n"
    "Global options:\n"
    "  --server URL   the daemon to talk to (env ASAKAI_SERVER; default http://127.0.0.1:9780)\n"
    "                 env ASAKAI_TOKEN is sent as the API bearer token when set\n"
    "  --version      print the version\n"
    "  --help         this help; 'asakai help COMMAND' or 'asakai COMMAND --help' for a command\n"
    "\n"
    "Exit codes: 0 ok, 1 failure or findings, 2 usage or configuration error.\n"
    "\n"
    "Commands:\n";

const struct ak_cmd *ak_cli_find(const char *name)
{
    for (size_t i = 0; i < ak_cli_n_cmds; i++)
        if (strcmp(ak_cli_cmds[i].name, name) == 0)
            return &ak_cli_cmds[i];
    return NULL;
}

void ak_cli_print_help(const struct ak_cmd *c, int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    if (c) {
        fprintf(f, "%s", c->usage);
        return;
    }
    fprintf(f, "%s", global_usage);
    for (size_t i = 0; i < ak_cli_n_cmds; i++)
        fprintf(f, "  %-9s %s\n", ak_cli_cmds[i].name, ak_cli_cmds[i].summary);
}

static int cmd_help(int argc, char **argv, struct ak_cli *cli)
{
    (void)cli;
    if (argc < 2) {
        ak_cli_print_help(NULL, 0);
        return AK_EXIT_OK;
    }
    const struct ak_cmd *c = ak_cli_find(argv[1]);
    if (!c) {
        fprintf(stderr, "asakai: no such command '%s' (see 'asakai help')\n", argv[1]);
        return AK_EXIT_USAGE;
    }
    ak_cli_print_help(c, 0);
    return AK_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct ak_cli cli = {0};
    int i;

    signal(SIGPIPE, SIG_IGN);
    cli.server = getenv("ASAKAI_SERVER");
    cli.token = getenv("ASAKAI_TOKEN");
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("asakai %s\n", AK_VERSION);
            return AK_EXIT_OK;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ak_cli_print_help(NULL, 0);
            return AK_EXIT_OK;
        } else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
            cli.server = argv[++i];
        } else if (strncmp(argv[i], "--server=", 9) == 0) {
            cli.server = argv[i] + 9;
        } else {
            fprintf(stderr, "asakai: unknown option '%s' (see 'asakai --help')\n", argv[i]);
            return AK_EXIT_USAGE;
        }
    }
    if (!cli.server || !*cli.server)
        cli.server = "http://127.0.0.1:9780";
    if (i >= argc) {
        ak_cli_print_help(NULL, 1);
        return AK_EXIT_USAGE;
    }
    const struct ak_cmd *c = ak_cli_find(argv[i]);
    if (!c) {
        fprintf(stderr, "asakai: no such command '%s' (see 'asakai help')\n", argv[i]);
        return AK_EXIT_USAGE;
    }
    for (int k = i + 1; k < argc; k++) {
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            ak_cli_print_help(c, 0);
            return AK_EXIT_OK;
        }
    }
    if (c->fn != ak_cmd_serve)
        ak_httpc_global_init();
    int rc = c->fn(argc - i, argv + i, &cli);
    return rc;
}
