/* commands_oidc.c — `asakai oidc log | audit | simulate | init`: the STS twin's audit trail
 * (from the daemon) and the offline trust-policy tools (ak_iam.h, ak_jwt.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_iam.h"
#include "asakai/ak_json.h"
#include "asakai/ak_jwt.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

#define CMD "oidc"
#define AUDIT_FILE_MAX (64u * 1024 * 1024) /* terraform plans of big stacks */
#define SMALL_FILE_MAX (1024u * 1024)

/* "@file" or "-" read the value from a file / stdin; anything else is the value itself. */
static int arg_value(const char *arg, struct ak_buf *out)
{
    if (strcmp(arg, "-") == 0)
        return ak_cli_read_file(CMD, "-", out, AK_EXIT_USAGE, AK_EXIT_USAGE);
    if (arg[0] == '@')
        return ak_cli_read_file(CMD, arg + 1, out, AK_EXIT_USAGE, AK_EXIT_USAGE);
    if (ak_buf_add(out, arg) < 0) {
        fprintf(stderr, "asakai " CMD ": argument over %zu bytes\n", out->max);
        return AK_EXIT_USAGE;
    }
    return AK_EXIT_OK;
}

/* ---- log -------------------------------------------------------------------------------- */

static bool row_denied(const struct ak_json *row)
{
    return !ak_streq(ak_json_get_str(row, "result"), "allowed");
}

static void print_log_table(const struct ak_json *rows, bool denied)
{
    size_t shown = 0;

    printf("%-20s %-8s %-22s %-34s %-14s %s\n", "AT", "RESULT", "CODE", "ROLE / SESSION",
           "REMOTE", "SUBJECT / REASON");
    for (size_t i = 0; i < ak_json_len(rows); i++) {
        const struct ak_json *r = ak_json_at(rows, i);
        const char *role = ak_cli_str_or(r, "role_arn", "-"), *slash = strrchr(role, '/');
        char who[160];

        if (denied && !row_denied(r))
            continue;
        shown++;
        snprintf(who, sizeof(who), "%s/%s", slash ? slash + 1 : role,
                 ak_cli_str_or(r, "session_name", "-"));
        printf("%-20s %-8s %-22s %-34s %-14s %s\n", ak_cli_str_or(r, "at", "?"),
               ak_cli_str_or(r, "result", "?"), ak_cli_str_or(r, "code", "-"), who,
               ak_cli_str_or(r, "remote", "-"), ak_cli_str_or(r, "subject", "-"));
        if (row_denied(r) && ak_json_get_str(r, "reason"))
            printf("%-20s %s\n", "", ak_json_get_str(r, "reason"));
    }
    if (shown == 0)
        printf("no %sexchanges recorded\n", denied ? "denied " : "");
}

static int oidc_log(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"denied", no_argument, NULL, 'D'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_json *j = NULL, *keep = NULL;
    uint64_t limit = 100;
    bool denied = false;
    char path[128];
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'D': denied = true; break;
        case 'l':
            if (ak_parse_u64(optarg, 1, 10000, &limit) < 0)
                return ak_cli_usage(CMD, "--limit takes 1..10000");
            break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return ak_cli_usage(CMD, "bad option");
        }
    }
    if (optind != argc)
        return ak_cli_usage(CMD, "log takes no arguments");
    snprintf(path, sizeof(path), "/api/v1/oidc/log?limit=%llu%s", (unsigned long long)limit,
             denied ? "&result=denied" : "");
    r = ak_cli_call_json(cli, CMD, "GET", path, NULL, &j);
    if (r != AK_EXIT_OK)
        return r;
    if (!ak_json_is_arr(j)) {
        fprintf(stderr, "asakai " CMD ": the daemon's audit log is not a JSON array\n");
        ak_json_free(j);
        return AK_EXIT_FAIL;
    }
    if (out == AK_OUT_JSON) {
        /* filtered here too, in case the daemon ignores result= */
        keep = ak_json_new_arr();
        for (size_t i = 0; i < ak_json_len(j); i++)
            if (!denied || row_denied(ak_json_at(j, i)))
                ak_json_append(keep, ak_json_ref(ak_json_at(j, i)));
        ak_cli_print_json(keep);
        ak_json_free(keep);
    } else {
        print_log_table(j, denied);
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

/* ---- audit ------------------------------------------------------------------------------ */

enum audit_fmt { AUDIT_TEXT, AUDIT_JSON, AUDIT_SARIF };

static void print_findings_text(const struct ak_iam_findings *f, enum ak_iam_sev fail_on,
                                bool never_fail)
{
    size_t count[AK_SEV_CRITICAL + 1] = {0};

    for (size_t i = 0; i < f->n; i++) {
        const struct ak_iam_finding *x = &f->v[i];
        count[x->severity]++;
        printf("%-8s %s  %s\n", ak_iam_sev_name(x->severity), x->rule, x->title ? x->title : "");
        printf("         in %s at %s\n", x->source ? x->source : "?", x->path ? x->path : "$");
        if (x->message)
            printf("         %s\n", x->message);
        if (x->counter_example)
            printf("         a stranger needs only: %s\n", x->counter_example);
        printf("\n");
    }
    size_t failing = 0;
    printf("%zu finding(s)", f->n);
    for (int s = AK_SEV_CRITICAL, first = 1; s >= AK_SEV_INFO; s--) {
        if (count[s])
            printf("%s%zu %s", first ? ": " : ", ", count[s], ak_iam_sev_name((enum ak_iam_sev)s));
        if (count[s])
            first = 0;
        if (s >= (int)fail_on)
            failing += count[s];
    }
    if (never_fail)
        printf("\n");
    else
        printf("; %zu at or above --fail-on %s\n", failing, ak_iam_sev_name(fail_on));
}

static int oidc_audit(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"fail-on", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    enum audit_fmt fmt = AUDIT_TEXT;
    enum ak_iam_sev fail_on = AK_SEV_HIGH;
    struct ak_iam_findings found = {0};
    struct ak_json *j = NULL;
    bool never_fail = false, failing = false;
    int c, rc = AK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (strcmp(optarg, "text") == 0 || strcmp(optarg, "table") == 0)
                fmt = AUDIT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                fmt = AUDIT_JSON;
            else if (strcmp(optarg, "sarif") == 0)
                fmt = AUDIT_SARIF;
            else
                return ak_cli_usage(CMD, "audit -o takes text, json or sarif");
            break;
        case 'f':
            if (strcmp(optarg, "none") == 0)
                never_fail = true;
            else if (ak_iam_sev_parse(optarg, &fail_on) < 0)
                return ak_cli_usage(CMD, "--fail-on takes info, low, medium, high, critical "
                                         "or none");
            break;
        default: return ak_cli_usage(CMD, "bad option");
        }
    }
    if (optind >= argc)
        return ak_cli_usage(CMD, "audit needs at least one FILE");
    for (int i = optind; i < argc && rc == AK_EXIT_OK; i++) {
        struct ak_buf in = AK_BUF_INIT(AUDIT_FILE_MAX), err = AK_BUF_INIT(1024);
        rc = ak_cli_read_file(CMD, argv[i], &in, AK_EXIT_USAGE, AK_EXIT_USAGE);
        if (rc == AK_EXIT_OK && ak_iam_audit(in.buf, in.len, argv[i], &found, &err) < 0) {
            fprintf(stderr, "asakai " CMD ": %s: %s\n", argv[i], err.buf);
            rc = AK_EXIT_USAGE;
        }
        ak_buf_release(&in);
        ak_buf_release(&err);
    }
    if (rc != AK_EXIT_OK)
        goto out;
    for (size_t i = 0; i < found.n; i++)
        failing |= !never_fail && found.v[i].severity >= fail_on;
    if (fmt == AUDIT_TEXT) {
        print_findings_text(&found, fail_on, never_fail);
    } else {
        j = fmt == AUDIT_JSON ? ak_iam_findings_json(&found) : ak_iam_findings_sarif(&found);
        ak_cli_print_json(j);
    }
    rc = failing ? AK_EXIT_FAIL : AK_EXIT_OK;
out:
    ak_json_free(j);
    ak_iam_findings_release(&found);
    return rc;
}

/* ---- simulate --------------------------------------------------------------------------- */

/* The Federated principal of the policy that names provider (host/path), or NULL. */
static char *policy_provider_arn(const struct ak_json *pol, const char *host_path)
{
    const struct ak_json *st = ak_json_get(pol, "Statement");
    char *suffix = ak_xasprintf(":oidc-provider/%s", host_path), *found = NULL;
    size_t n = ak_json_is_arr(st) ? ak_json_len(st) : 1;

    for (size_t i = 0; i < n && !found; i++) {
        const struct ak_json *s = ak_json_is_arr(st) ? ak_json_at(st, i) : st;
        const struct ak_json *fed = ak_json_get(ak_json_get(s, "Principal"), "Federated");
        size_t m = ak_json_is_arr(fed) ? ak_json_len(fed) : 1;
        for (size_t k = 0; k < m && !found; k++) {
            const char *v = ak_json_str(ak_json_is_arr(fed) ? ak_json_at(fed, k) : fed);
            if (v && ak_endswith(v, suffix))
                found = ak_xstrdup(v);
        }
    }
    free(suffix);
    return found;
}

struct sim {
    const char *policy_file, *token_arg, *claims_arg, *provider, *account, *session;
    bool json_out;
};

/* host/path of the provider (what condition keys are prefixed with) and its principal ARN. */
static void sim_provider(const struct sim *o, const struct ak_json *pol, char **ret_host,
                         char **ret_arn, bool *ret_guessed)
{
    const char *p = o->provider, *mark = strstr(p, ":oidc-provider/");
    char *host;
    size_t n;

    *ret_guessed = false;
    if (ak_startswith(p, "arn:") && mark) {
        *ret_host = ak_xstrdup(mark + 15);
        *ret_arn = ak_xstrdup(p);
        return;
    }
    if (ak_startswith(p, "https://"))
        p += 8;
    n = strlen(p);
    while (n && p[n - 1] == '/')
        n--;
    host = ak_xstrndup(p, n);
    *ret_host = host;
    if (o->account) {
        *ret_arn = ak_xasprintf("arn:aws:iam::%s:oidc-provider/%s", o->account, host);
        return;
    }
    *ret_arn = policy_provider_arn(pol, host);
    if (!*ret_arn) {
        *ret_arn = ak_xasprintf("arn:aws:iam::000000000000:oidc-provider/%s", host);
        *ret_guessed = true;
    }
}

static const char *decision_name(enum ak_iam_decision d)
{
    return d == AK_IAM_ALLOW ? "allow" : d == AK_IAM_EXPLICIT_DENY ? "explicit_deny"
                                                                   : "implicit_deny";
}

static void print_sim(const struct sim *o, const char *principal, bool guessed,
                      const struct ak_iam_claims_ctx *cc, const struct ak_iam_result *res,
                      const char *iss)
{
    if (o->json_out) {
        struct ak_json *j = ak_json_new_obj(), *keys = ak_json_new_obj();
        ak_json_set_str(j, "decision", decision_name(res->decision));
        ak_json_set_int(j, "statement", res->statement);
        ak_json_set_str(j, "sid", res->sid);
        ak_json_set_str(j, "why", res->why);
        ak_json_set_str(j, "principal", principal);
        ak_json_set_bool(j, "verified", false);
        for (size_t i = 0; i < cc->n_keys; i++) {
            struct ak_json *vals = ak_json_new_arr();
            for (size_t k = 0; k < cc->keys[i].n_values; k++)
                ak_json_append(vals, ak_json_new_str(cc->keys[i].values[k]));
            ak_json_set(keys, cc->keys[i].name, vals);
        }
        ak_json_set(j, "keys", keys);
        ak_cli_print_json(j);
        ak_json_free(j);
        return;
    }
    if (o->token_arg)
        printf("note: offline simulation: the token was decoded WITHOUT verifying its "
               "signature, issuer, audience or lifetime.\n");
    else
        printf("note: offline simulation from claims given directly: nothing was verified.\n");
    if (iss && !ak_endswith(o->provider, iss + (ak_startswith(iss, "https://") ? 8 : 0)))
        printf("note: the token's iss %s is not --provider %s: real STS would refuse it "
               "(InvalidIdentityToken).\n", iss, o->provider);
    printf("principal: Federated %s%s\n", principal,
           guessed ? " (no statement names this provider; pass --account)" : "");
    printf("condition keys:\n");
    for (size_t i = 0; i < cc->n_keys; i++) {
        printf("  %s =", cc->keys[i].name);
        for (size_t k = 0; k < cc->keys[i].n_values; k++)
            printf(" %s%s", cc->keys[i].values[k], k + 1 < cc->keys[i].n_values ? "," : "");
        printf("\n");
    }
    if (res->decision == AK_IAM_ALLOW)
        printf("decision: ALLOW by Statement[%d]", res->statement);
    else if (res->decision == AK_IAM_EXPLICIT_DENY)
        printf("decision: DENY (explicit) by Statement[%d]", res->statement);
    else
        printf("decision: DENY (no statement allows)");
    if (res->sid[0])
        printf(" (Sid \"%s\")", res->sid);
    printf("\nwhy: %s\n", res->why);
}

static int sim_parse_args(int argc, char **argv, struct sim *o)
{
    static const struct option opts[] = {{"policy", required_argument, NULL, 'p'},
                                         {"token", required_argument, NULL, 't'},
                                         {"claims", required_argument, NULL, 'c'},
                                         {"provider", required_argument, NULL, 'P'},
                                         {"account", required_argument, NULL, 'a'},
                                         {"role-session-name", required_argument, NULL, 's'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->policy_file = optarg; break;
        case 't': o->token_arg = optarg; break;
        case 'c': o->claims_arg = optarg; break;
        case 'P': o->provider = optarg; break;
        case 'a': o->account = optarg; break;
        case 's': o->session = optarg; break;
        case 'o':
            if (strcmp(optarg, "json") == 0)
                o->json_out = true;
            else if (strcmp(optarg, "text") != 0 && strcmp(optarg, "table") != 0)
                return ak_cli_usage(CMD, "simulate -o takes text or json");
            break;
        default: return ak_cli_usage(CMD, "bad option");
        }
    }
    if (optind != argc)
        return ak_cli_usage(CMD, "simulate takes no positional argument");
    if (!o->policy_file || !o->provider)
        return ak_cli_usage(CMD, "simulate needs --policy FILE and --provider URL");
    if (!o->token_arg == !o->claims_arg)
        return ak_cli_usage(CMD, "simulate needs exactly one of --token JWT and --claims JSON");
    return AK_EXIT_OK;
}

/* The claims object to simulate with: a new reference, or NULL after printing why. */
static struct ak_json *sim_claims(const struct sim *o, char **ret_iss)
{
    struct ak_buf in = AK_BUF_INIT(SMALL_FILE_MAX), err = AK_BUF_INIT(1024);
    struct ak_json *claims = NULL;
    struct ak_jwt t = {0};
    size_t a = 0, b;

    if (arg_value(o->token_arg ? o->token_arg : o->claims_arg, &in) != AK_EXIT_OK)
        goto out;
    if (o->claims_arg) {
        claims = ak_json_parse(in.buf, in.len, &err);
        if (!claims || !ak_json_is_obj(claims)) {
            fprintf(stderr, "asakai " CMD ": --claims is not a JSON object%s%s\n",
                    err.len ? ": " : "", err.buf);
            ak_json_free(claims);
            claims = NULL;
        }
        goto out;
    }
    b = in.len;
    while (a < b && strchr(" \t\r\n", in.buf[a]))
        a++;
    while (b > a && strchr(" \t\r\n", in.buf[b - 1]))
        b--;
    if (ak_jwt_parse(in.buf + a, b - a, &t, &err) < 0) {
        fprintf(stderr, "asakai " CMD ": --token is not a JWT: %s\n", err.buf);
        goto out;
    }
    claims = ak_json_ref(t.claims);
    *ret_iss = ak_xstrdup(t.iss);
    ak_jwt_release(&t);
out:
    ak_buf_release(&in);
    ak_buf_release(&err);
    return claims;
}

static int oidc_simulate(int argc, char **argv)
{
    struct sim o = {0};
    struct ak_buf pin = AK_BUF_INIT(AK_IAM_POLICY_MAX), err = AK_BUF_INIT(1024);
    struct ak_iam_policy *pol = NULL;
    struct ak_json *pj = NULL, *claims = NULL;
    struct ak_iam_claims_ctx cc = {0};
    struct ak_iam_result res;
    char *host = NULL, *principal = NULL, *iss = NULL;
    bool guessed;
    int rc;

    rc = sim_parse_args(argc, argv, &o);
    if (rc != AK_EXIT_OK)
        return rc;
    rc = ak_cli_read_file(CMD, o.policy_file, &pin, AK_EXIT_USAGE, AK_EXIT_USAGE);
    if (rc != AK_EXIT_OK)
        goto out;
    rc = AK_EXIT_USAGE;
    if (ak_iam_policy_parse(pin.buf, pin.len, &pol, &err) < 0) {
        fprintf(stderr, "asakai " CMD ": %s: %s\n", o.policy_file, err.buf);
        goto out;
    }
    pj = ak_json_parse(pin.buf, pin.len, NULL);
    claims = sim_claims(&o, &iss);
    if (!claims)
        goto out;
    sim_provider(&o, pj, &host, &principal, &guessed);
    if (ak_iam_ctx_from_claims(host, claims, o.session, &cc) < 0) {
        fprintf(stderr, "asakai " CMD ": cannot build the request context from the claims\n");
        goto out;
    }
    struct ak_iam_ctx ctx = {.principal_type = "Federated", .principal = principal,
                             .action = "sts:AssumeRoleWithWebIdentity", .keys = cc.keys,
                             .n_keys = cc.n_keys};
    ak_iam_evaluate(pol, &ctx, &res);
    print_sim(&o, principal, guessed, &cc, &res, iss);
    rc = res.decision == AK_IAM_ALLOW ? AK_EXIT_OK : AK_EXIT_FAIL;
out:
    ak_iam_claims_ctx_release(&cc);
    ak_iam_policy_free(pol);
    ak_json_free(pj);
    ak_json_free(claims);
    ak_buf_release(&pin);
    ak_buf_release(&err);
    free(host);
    free(principal);
    free(iss);
    return rc;
}

/* ---- init ------------------------------------------------------------------------------- */

static int oidc_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ci", required_argument, NULL, 'c'},           {"account", required_argument, NULL, 'a'},
        {"role-name", required_argument, NULL, 'n'},    {"org-id", required_argument, NULL, 'O'},
        {"project-id", required_argument, NULL, 'P'},   {"owner", required_argument, NULL, 'w'},
        {"repo", required_argument, NULL, 'r'},         {"project-path", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'h'},         {"branch", required_argument, NULL, 'b'},
        {"environment", required_argument, NULL, 'e'},  {"max-session", required_argument, NULL, 'm'},
        {"repo-id", required_argument, NULL, 'i'},      {NULL, 0, NULL, 0}};
    struct ak_iam_init in = {0};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_json *tf = NULL;
    int64_t ms;
    int c, rc = AK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': in.ci = optarg; break;
        case 'a': in.account_id = optarg; break;
        case 'n': in.role_name = optarg; break;
        case 'O': in.org_id = optarg; break;
        case 'P': in.project_id = optarg; break;
        case 'w': in.owner = optarg; break;
        case 'r': in.repo = optarg; break;
        case 'i': in.repo_id = optarg; break;
        case 'p': in.project_path = optarg; break;
        case 'h': in.host = optarg; break;
        case 'b': in.branch = optarg; break;
        case 'e': in.environment = optarg; break;
        case 'm':
            if (ak_parse_duration_ms(optarg, &ms) < 0 || ms < 3600000 || ms > 43200000)
                return ak_cli_usage(CMD, "--max-session takes 3600..43200 seconds (1h..12h)");
            in.max_session_s = ms / 1000;
            break;
        default: return ak_cli_usage(CMD, "bad option");
        }
    }
    if (optind != argc)
        return ak_cli_usage(CMD, "init takes no positional argument");
    if (!in.ci || !in.account_id)
        return ak_cli_usage(CMD, "init needs --ci circleci|github|gitlab and --account ID");
    if (ak_iam_init_tf(&in, &tf, &err) < 0) {
        fprintf(stderr, "asakai " CMD " init: %s\n", err.buf);
        rc = AK_EXIT_USAGE;
    } else {
        ak_cli_print_json(tf);
    }
    ak_json_free(tf);
    ak_buf_release(&err);
    return rc;
}

int ak_cmd_oidc(int argc, char **argv, struct ak_cli *cli)
{
    if (argc < 2)
        return ak_cli_usage(CMD, "expected log, audit, simulate or init");
    if (strcmp(argv[1], "log") == 0)
        return oidc_log(argc - 1, argv + 1, cli);
    if (strcmp(argv[1], "audit") == 0)
        return oidc_audit(argc - 1, argv + 1);
    if (strcmp(argv[1], "simulate") == 0)
        return oidc_simulate(argc - 1, argv + 1);
    if (strcmp(argv[1], "init") == 0)
        return oidc_init(argc - 1, argv + 1);
    return ak_cli_usage(CMD, "expected log, audit, simulate or init");
}
