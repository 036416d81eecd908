/* commands_runbook.c — `asakai runbook new|list|show|export|status|done` (run: commands_rbrun.c).
 * Everything goes through the daemon's API; export prints the daemon's Markdown or iCalendar
 * as it comes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

#define CMD "runbook"

const char *ak_cli_user(const char *by)
{
    const char *u = by && *by ? by : getenv("USER");
    return u && *u ? u : "cli";
}

int ak_cli_rb_get(struct ak_cli *cli, unsigned long long id, struct ak_json **ret)
{
    char *path = ak_xasprintf("/api/v1/runbooks/%llu", id);
    int r = ak_cli_call_json(cli, CMD, "GET", path, NULL, ret);
    free(path);
    return r;
}

static bool parse_id(const char *s, unsigned long long *ret)
{
    uint64_t v;
    if (!s || ak_parse_u64(s, 1, INT64_MAX, &v) < 0)
        return false;
    *ret = (unsigned long long)v;
    return true;
}

static const char *s_or(const struct ak_json *o, const char *k, const char *def)
{
    return ak_cli_str_or(o, k, def);
}

/* "2026-12-10T02:00:00+09:00" -> "2026-12-10 02:00" */
static void short_time(const char *iso, char *buf, size_t n)
{
    if (!iso || strlen(iso) < 16) {
        snprintf(buf, n, "-");
        return;
    }
    snprintf(buf, n, "%.10s %.5s", iso, iso + 11);
}

static void print_steps(const struct ak_json *rb, int64_t now)
{
    const struct ak_json *steps = ak_json_get(rb, "steps");

    printf("  %-3s %-16s %-8s %-9s %-11s %-24s %s\n", "#", "DUE", "OWNER", "TYPE", "STATE", "STEP",
           "TITLE");
    for (size_t i = 0; i < ak_json_len(steps); i++) {
        const struct ak_json *s = ak_json_at(steps, i);
        char due[32];
        int64_t ms = 0;
        const char *state = s_or(s, "state", "-");
        short_time(ak_json_get_str(s, "due"), due, sizeof(due));
        bool late = ak_time_parse(s_or(s, "due_utc", ""), &ms) == AK_OK && ms < now &&
                    strcmp(state, "pending") == 0 && strcmp(s_or(s, "type", ""), "rollback");
        printf("  %-3zu %-16s %-8s %-9s %-11s %-24s %s\n", i + 1, due, s_or(s, "owner", "-"),
               s_or(s, "type", "-"), late ? "OVERDUE" : state, s_or(s, "id", "-"),
               s_or(s, "title", ""));
    }
}

static void print_instance(const struct ak_json *rb, bool full)
{
    int64_t now = ak_now_wall_ms();
    char at[32];
    const struct ak_json *mid = ak_json_get(rb, "maint_id");

    short_time(ak_json_get_str(rb, "at"), at, sizeof(at));
    printf("runbook #%lld  %s\n", (long long)ak_json_int(ak_json_get(rb, "id")),
           s_or(rb, "title", "-"));
    printf("  template    %s\n  event time  %s %s (%s)\n  status      %s (%lld done, %lld to do)\n",
           s_or(rb, "template", "-"), at, s_or(rb, "tz", ""), s_or(rb, "at", ""),
           s_or(rb, "status", "-"), (long long)ak_json_int(ak_json_get(rb, "steps_done")),
           (long long)ak_json_int(ak_json_get(rb, "steps_todo")));
    if (ak_json_is_int(mid))
        printf("  maintenance #%lld\n", (long long)ak_json_int(mid));
    printf("\n");
    print_steps(rb, now);
    if (!full)
        return;
    const struct ak_json *ev = ak_json_get(rb, "run_record");
    if (!ak_json_len(ev))
        return;
    printf("\nRun record:\n");
    for (size_t i = 0; i < ak_json_len(ev); i++) {
        const struct ak_json *e = ak_json_at(ev, i);
        const struct ak_json *ec = ak_json_get(e, "exit_code");
        printf("  %s  %-9s %-20s by %-10s", s_or(e, "at", "-"), s_or(e, "action", "-"),
               s_or(e, "step", "-"), s_or(e, "by", "-"));
        if (ak_json_is_int(ec))
            printf(" exit %lld (%lld ms)", (long long)ak_json_int(ec),
                   (long long)ak_json_int(ak_json_get(e, "duration_ms")));
        if (ak_json_get_str(e, "note"))
            printf("  %s", ak_json_get_str(e, "note"));
        printf("\n");
        const char *out = ak_json_get_str(e, "output");
        if (out && *out)
            printf("      | %.*s%s\n", 400, out, strlen(out) > 400 ? " ..." : "");
    }
}

/* ---- new ------------------------------------------------------------------------------------ */

static int rb_new(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"at", required_argument, NULL, 'a'},
                                         {"tz", required_argument, NULL, 'z'},
                                         {"var", required_argument, NULL, 'v'},
                                         {"from-maint", required_argument, NULL, 'm'},
                                         {"by", required_argument, NULL, 'b'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_json *body = ak_json_new_obj(), *vars = ak_json_new_obj(), *j = NULL;
    unsigned long long maint = 0;
    const char *by = NULL;
    int c, rc = AK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'a': ak_json_set_str(body, "at", optarg); break;
        case 'z': ak_json_set_str(body, "tz", optarg); break;
        case 'v': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                rc = ak_cli_usage(CMD, "--var takes NAME=VALUE");
                goto out;
            }
            char *k = ak_xstrndup(optarg, (size_t)(eq - optarg));
            ak_json_set_str(vars, k, eq + 1);
            free(k);
            break;
        }
        case 'm':
            if (!parse_id(optarg, &maint)) {
                rc = ak_cli_usage(CMD, "--from-maint takes a maintenance record id");
                goto out;
            }
            break;
        case 'b': by = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out)) {
                rc = AK_EXIT_USAGE;
                goto out;
            }
            break;
        default: rc = ak_cli_usage(CMD, "bad option"); goto out;
        }
    }
    if (optind + 1 != argc) {
        rc = ak_cli_usage(CMD, "new needs one TEMPLATE name");
        goto out;
    }
    if (!ak_json_get(body, "at") && !maint) {
        rc = ak_cli_usage(CMD, "new needs --at 'YYYY-MM-DD HH:MM' (or --from-maint ID)");
        goto out;
    }
    ak_json_set_str(body, "template", argv[optind]);
    if (maint)
        ak_json_set_int(body, "maint_id", (int64_t)maint);
    ak_json_set_str(body, "by", ak_cli_user(by));
    ak_json_set(body, "vars", ak_json_ref(vars));
    rc = ak_cli_call_json(cli, CMD, "POST", "/api/v1/runbooks", body, &j);
    if (rc != AK_EXIT_OK)
        goto out;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else
        print_instance(j, false);
out:
    ak_json_free(j);
    ak_json_free(vars);
    ak_json_free(body);
    return rc;
}

/* ---- list / show / status --------------------------------------------------------------------- */

static int rb_list(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_json *j = NULL;
    bool all = false;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'a')
            all = true;
        else if (c != 'o' || ak_cli_parse_output(optarg, &out))
            return c == 'o' ? AK_EXIT_USAGE : ak_cli_usage(CMD, "bad option");
    }
    if (optind != argc)
        return ak_cli_usage(CMD, "list takes no argument");
    int rc = ak_cli_call_json(cli, CMD, "GET", all ? "/api/v1/runbooks?all=1" : "/api/v1/runbooks",
                              NULL, &j);
    if (rc != AK_EXIT_OK)
        return rc;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else {
        printf("%-5s %-16s %-9s %-10s %-30s %s\n", "ID", "EVENT TIME", "STATUS", "PROGRESS",
               "TEMPLATE", "TITLE");
        for (size_t i = 0; i < ak_json_len(j); i++) {
            const struct ak_json *rb = ak_json_at(j, i);
            char at[32], prog[32];
            long long done = (long long)ak_json_int(ak_json_get(rb, "steps_done"));
            short_time(ak_json_get_str(rb, "at"), at, sizeof(at));
            snprintf(prog, sizeof(prog), "%lld/%lld", done,
                     done + (long long)ak_json_int(ak_json_get(rb, "steps_todo")));
            printf("%-5lld %-16s %-9s %-10s %-30s %s\n",
                   (long long)ak_json_int(ak_json_get(rb, "id")), at, s_or(rb, "status", "-"),
                   prog, s_or(rb, "template", "-"), s_or(rb, "title", "-"));
        }
        if (!ak_json_len(j))
            printf("(no %srunbooks)\n", all ? "" : "open ");
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

/* show and status: one instance; status prints the steps only. */
static int rb_show(int argc, char **argv, struct ak_cli *cli, bool full)
{
    enum ak_out out = ak_cli_default_output();
    struct ak_json *j = NULL;
    unsigned long long id = 0;
    int c;

    optind = 1;
    while ((c = getopt(argc, argv, "o:")) != -1)
        if (c != 'o' || ak_cli_parse_output(optarg, &out))
            return c == 'o' ? AK_EXIT_USAGE : ak_cli_usage(CMD, "bad option");
    if (optind + 1 != argc || !parse_id(argv[optind], &id))
        return ak_cli_usage(CMD, "needs one numeric runbook ID");
    int rc = ak_cli_rb_get(cli, id, &j);
    if (rc != AK_EXIT_OK)
        return rc;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else
        print_instance(j, full);
    ak_json_free(j);
    return AK_EXIT_OK;
}

/* ---- export ------------------------------------------------------------------------------------ */

static int rb_export(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    const char *fmt = "md";
    unsigned long long id = 0;
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_httpc_resp resp;
    int c, rc = AK_EXIT_FAIL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        if (c != 'f')
            return ak_cli_usage(CMD, "bad option");
        fmt = optarg;
    }
    if (strcmp(fmt, "md") != 0 && strcmp(fmt, "ics") != 0)
        return ak_cli_usage(CMD, "--format takes md or ics");
    if (optind + 1 != argc || !parse_id(argv[optind], &id))
        return ak_cli_usage(CMD, "export needs one numeric runbook ID");
    char *url = ak_xasprintf("%s/api/v1/runbooks/%llu/export?format=%s", cli->server, id, fmt);
    char *auth = cli->token ? ak_xasprintf("Authorization: Bearer %s", cli->token) : NULL;
    const char *headers[] = {auth, NULL};
    struct ak_httpc_req req = {.method = "GET", .url = url, .headers = headers,
                               .timeout_ms = 60000, .max_response = 64 * 1024 * 1024};
    ak_httpc_resp_init(&resp);
    if (ak_httpc_do(&req, &resp, &err) < 0) {
        fprintf(stderr, "asakai: cannot reach the daemon at %s: %s\n", cli->server, err.buf);
    } else if (resp.status != 200) {
        struct ak_json *j = ak_json_parse(resp.body.buf, resp.body.len, NULL);
        fprintf(stderr, "asakai %s: %s\n", CMD, s_or(j, "error", "export failed"));
        rc = resp.status == 400 ? AK_EXIT_USAGE : AK_EXIT_FAIL;
        ak_json_free(j);
    } else {
        /* bytes as they came: the iCalendar CRLFs must survive */
        fwrite(resp.body.buf, 1, resp.body.len, stdout);
        rc = AK_EXIT_OK;
    }
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
    free(url);
    free(auth);
    return rc;
}

/* ---- done ------------------------------------------------------------------------------------- */

static int rb_done(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"note", required_argument, NULL, 'n'},
                                         {"by", required_argument, NULL, 'b'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    const char *note = NULL, *by = NULL;
    unsigned long long id = 0;
    struct ak_json *j = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'n': note = optarg; break;
        case 'b': by = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return ak_cli_usage(CMD, "bad option");
        }
    }
    if (optind + 2 != argc || !parse_id(argv[optind], &id))
        return ak_cli_usage(CMD, "done needs a numeric runbook ID and a STEP id");
    const char *step = argv[optind + 1];
    char *esc = ak_url_escape(step);
    char *path = ak_xasprintf("/api/v1/runbooks/%llu/steps/%s/done", id, esc);
    struct ak_json *body = ak_json_new_obj();
    ak_json_set_str(body, "by", ak_cli_user(by));
    if (note)
        ak_json_set_str(body, "note", note);
    int rc = ak_cli_call_json(cli, CMD, "POST", path, body, &j);
    free(esc);
    free(path);
    ak_json_free(body);
    if (rc != AK_EXIT_OK)
        return rc;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else
        printf("runbook #%llu: step %s done (runbook %s)\n", id, step, s_or(j, "status", "-"));
    ak_json_free(j);
    return AK_EXIT_OK;
}

int ak_cmd_runbook(int argc, char **argv, struct ak_cli *cli)
{
    const char *sub = argc >= 2 ? argv[1] : "";

    if (strcmp(sub, "new") == 0)
        return rb_new(argc - 1, argv + 1, cli);
    if (strcmp(sub, "list") == 0)
        return rb_list(argc - 1, argv + 1, cli);
    if (strcmp(sub, "show") == 0)
        return rb_show(argc - 1, argv + 1, cli, true);
    if (strcmp(sub, "status") == 0)
        return rb_show(argc - 1, argv + 1, cli, false);
    if (strcmp(sub, "export") == 0)
        return rb_export(argc - 1, argv + 1, cli);
    if (strcmp(sub, "done") == 0)
        return rb_done(argc - 1, argv + 1, cli);
    if (strcmp(sub, "run") == 0)
        return ak_cli_rb_run(argc - 1, argv + 1, cli);
    return ak_cli_usage(CMD, "expected new, list, show, status, export, done or run");
}
