/* commands.c — serve, config, events, maint, status. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_daemon.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

#define IMPORT_FILE_MAX (32u * 1024 * 1024)

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "asakai %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'asakai %s --help')\n", cmd);
    return AK_EXIT_USAGE;
}

/* ---- serve ---------------------------------------------------------------------------- */

int ak_cmd_serve(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"data", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL, *listen = NULL, *data = NULL;
    int c;
    (void)cli;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'l': listen = optarg; break;
        case 'd': data = optarg; break;
        default: return usage_error("serve", "%s", "bad option");
        }
    }
    if (optind < argc)
        return usage_error("serve", "unexpected argument '%s'", argv[optind]);
    return ak_daemon_serve(config, listen, data);
}

/* ---- config --------------------------------------------------------------------------- */

int ak_cmd_config(int argc, char **argv, struct ak_cli *cli)
{
    struct ak_buf err = AK_BUF_INIT(64 * 1024);
    struct ak_cfg cfg;
    int rc;
    (void)cli;
    if (argc >= 2 && strcmp(argv[1], "defaults") == 0) {
        struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
        ak_cfg_dump_defaults(&out);
        fputs(out.buf, stdout);
        ak_buf_release(&out);
        return AK_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "check") != 0)
        return usage_error("config", "%s", "expected 'check FILE' or 'defaults'");
    int r = ak_cfg_load(argv[2], &cfg, &err);
    if (r < 0) {
        fprintf(stderr, "%s%s", err.buf, ak_endswith(err.buf, "\n") ? "" : "\n");
        rc = AK_EXIT_USAGE;
    } else {
        printf("%s: ok\n", argv[2]);
        ak_cfg_release(&cfg);
        rc = AK_EXIT_OK;
    }
    ak_buf_release(&err);
    return rc;
}

/* ---- events --------------------------------------------------------------------------- */

static void print_import_table(const struct ak_json *rep)
{
    const struct ak_json *docs = ak_json_get(rep, "documents");
    printf("%s: %lld accepted, %lld duplicate, %lld unparsed (kept), %lld skipped\n",
           ak_json_get_str(rep, "file"), (long long)ak_json_int(ak_json_get(rep, "accepted")),
           (long long)ak_json_int(ak_json_get(rep, "duplicate")),
           (long long)ak_json_int(ak_json_get(rep, "unparsed")),
           (long long)ak_json_int(ak_json_get(rep, "skipped")));
    for (size_t i = 0; i < ak_json_len(docs); i++) {
        const struct ak_json *d = ak_json_at(docs, i);
        const char *note = ak_json_get_str(d, "note");
        printf("  #%-4lld %-10s raw=%-6lld %s\n", (long long)ak_json_int(ak_json_get(d, "index")),
               ak_json_get_str(d, "result"), (long long)ak_json_int(ak_json_get(d, "raw_id")),
               note ? note : "");
    }
}

static int events_import(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"channel", required_argument, NULL, 'C'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    const char *channel = "import";
    int c, rc = AK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'C': channel = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return usage_error("events", "%s", "bad option");
        }
    }
    if (strcmp(channel, "import") != 0 && strcmp(channel, "demo") != 0)
        return usage_error("events", "--channel must be import or demo, not '%s'", channel);
    if (optind >= argc)
        return usage_error("events", "%s", "import needs at least one FILE ('-' for stdin)");
    struct ak_json *all = ak_json_new_arr();
    for (int i = optind; i < argc; i++) {
        struct ak_buf body = AK_BUF_INIT(IMPORT_FILE_MAX);
        struct ak_json *rep = NULL;
        long status = 0;
        if (ak_cli_read_file("events import", argv[i], &body, AK_EXIT_FAIL, AK_EXIT_FAIL) !=
            AK_EXIT_OK) {
            rc = AK_EXIT_FAIL;
            ak_buf_release(&body);
            continue;
        }
        char *name = ak_url_escape(argv[i]);
        char *path = ak_xasprintf("/api/v1/events/import?name=%s&channel=%s", name, channel);
        int r = ak_cli_call(cli, "POST", path, body.buf, body.len, &status, &rep);
        free(name);
        free(path);
        ak_buf_release(&body);
        if (r != AK_EXIT_OK) {
            ak_json_free(all);
            return r;
        }
        if (status != 200) {
            fprintf(stderr, "asakai events import: %s: %s\n", argv[i],
                    ak_json_get_str(rep, "error") ? ak_json_get_str(rep, "error") : "failed");
            rc = AK_EXIT_FAIL;
            ak_json_free(rep);
            continue;
        }
        if (ak_json_int(ak_json_get(rep, "skipped")) || ak_json_int(ak_json_get(rep, "unparsed")))
            rc = AK_EXIT_FAIL;
        if (out == AK_OUT_TABLE)
            print_import_table(rep);
        ak_json_append(all, rep);
    }
    if (out == AK_OUT_JSON)
        ak_cli_print_json(all);
    ak_json_free(all);
    return rc;
}

static int events_list(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"state", required_argument, NULL, 's'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    const char *state = NULL, *limit = "100";
    struct ak_json *j = NULL;
    long status;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 's': state = optarg; break;
        case 'n': limit = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return usage_error("events", "%s", "bad option");
        }
    }
    char *st = state ? ak_url_escape(state) : NULL;
    char *lim = ak_url_escape(limit);
    char *path = ak_xasprintf("/api/v1/raw?limit=%s%s%s", lim, st ? "&state=" : "", st ? st : "");
    int r = ak_cli_call(cli, "GET", path, NULL, 0, &status, &j);
    free(st);
    free(lim);
    free(path);
    if (r != AK_EXIT_OK)
        return r;
    if (status != 200) {
        fprintf(stderr, "asakai events list: %s\n", ak_json_get_str(j, "error"));
        ak_json_free(j);
        return status == 400 ? AK_EXIT_USAGE : AK_EXIT_FAIL;
    }
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else {
        printf("%-6s %-12s %-9s %-20s %s\n", "ID", "CHANNEL", "STATE", "RECEIVED", "NOTE");
        for (size_t i = 0; i < ak_json_len(j); i++) {
            const struct ak_json *e = ak_json_at(j, i);
            const char *note = ak_json_get_str(e, "note");
            printf("%-6lld %-12s %-9s %-20s %.80s\n", (long long)ak_json_int(ak_json_get(e, "id")),
                   ak_json_get_str(e, "channel"), ak_json_get_str(e, "state"),
                   ak_json_get_str(e, "received_at"), note ? note : "");
        }
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

int ak_cmd_events(int argc, char **argv, struct ak_cli *cli)
{
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return events_import(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return events_list(argc - 1, argv + 1, cli);
    return usage_error("events", "%s", "expected 'import' or 'list'");
}

/* ---- maint ---------------------------------------------------------------------------- */

/* "2026-12-10T02:00:00Z" -> "Dec 10 02:00 UTC (in 14 days)" */
static void when(const char *iso, int64_t now, char *buf, size_t n)
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t ms;
    char rel[48];
    if (!iso || ak_time_parse(iso, &ms) < 0) {
        snprintf(buf, n, "-");
        return;
    }
    ak_time_fmt_relative(ms, now, rel, sizeof(rel));
    int mo = (iso[5] - '0') * 10 + (iso[6] - '0');
    snprintf(buf, n, "%s %.2s %.5s (%s)", mo >= 1 && mo <= 12 ? mon[mo - 1] : "?", iso + 8,
             iso + 11, rel);
}

static void print_rec_line(const struct ak_json *r, int64_t now)
{
    char dl[64];
    const char *deadline = ak_json_get_str(r, "deadline");
    if (!deadline)
        deadline = ak_json_get_str(r, "window_start");
    when(deadline, now, dl, sizeof(dl));
    const struct ak_json *res = ak_json_get(r, "resources");
    printf("%-5lld %-11s %-22s %-11s %-30s %s%s%s\n", (long long)ak_json_int(ak_json_get(r, "id")),
           ak_cli_str_or(r, "service", "-"), ak_cli_str_or(r, "kind", "-"),
           ak_cli_str_or(r, "status", "-"), dl,
           ak_json_len(res) ? ak_json_str(ak_json_at(res, 0)) : "-",
           ak_json_bool(ak_json_get(r, "important")) ? "  !" : "",
           ak_json_is_int(ak_json_get(r, "recurrence_of")) ? "  (recurrence)" : "");
}

static int maint_list(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"upcoming", no_argument, NULL, 'u'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"service", required_argument, NULL, 's'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    bool upcoming = false, all = false;
    const char *service = NULL;
    struct ak_json *j = NULL;
    long status;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'u': upcoming = true; break;
        case 'a': all = true; break;
        case 's': service = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return usage_error("maint", "%s", "bad option");
        }
    }
    if (upcoming && all)
        return usage_error("maint", "%s", "--upcoming and --all exclude each other");
    if (optind < argc)
        return usage_error("maint", "unexpected argument '%s'", argv[optind]);
    char *svc = service ? ak_url_escape(service) : NULL;
    char *path = ak_xasprintf("/api/v1/maintenance?x=1%s%s%s%s", all ? "&all=1" : "",
                              upcoming ? "&upcoming=1" : "", svc ? "&service=" : "", svc ? svc : "");
    int r = ak_cli_call(cli, "GET", path, NULL, 0, &status, &j);
    free(svc);
    free(path);
    if (r != AK_EXIT_OK)
        return r;
    if (status != 200) {
        fprintf(stderr, "asakai maint list: %s\n", ak_cli_str_or(j, "error", "failed"));
        ak_json_free(j);
        return AK_EXIT_FAIL;
    }
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else {
        int64_t now = ak_now_wall_ms();
        printf("%-5s %-11s %-22s %-11s %-30s %s\n", "ID", "SERVICE", "KIND", "STATUS", "DEADLINE",
               "RESOURCE");
        for (size_t i = 0; i < ak_json_len(j); i++)
            print_rec_line(ak_json_at(j, i), now);
        if (!ak_json_len(j))
            printf("(no %s maintenance records)\n", all ? "" : "open");
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

static int maint_show(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"raw", no_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    bool raw = false;
    struct ak_json *j = NULL;
    long status;
    uint64_t id;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'r': raw = true; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return usage_error("maint", "%s", "bad option");
        }
    }
    if (optind + 1 != argc || ak_parse_u64(argv[optind], 1, INT64_MAX, &id) < 0)
        return usage_error("maint", "%s", "show needs one numeric record ID");
    char *path = ak_xasprintf("/api/v1/maintenance/%llu%s", (unsigned long long)id,
                              raw ? "?raw=1" : "");
    int r = ak_cli_call(cli, "GET", path, NULL, 0, &status, &j);
    free(path);
    if (r != AK_EXIT_OK)
        return r;
    if (status != 200) {
        fprintf(stderr, "asakai maint show: %s\n", ak_cli_str_or(j, "error", "failed"));
        ak_json_free(j);
        return AK_EXIT_FAIL;
    }
    if (out == AK_OUT_JSON) {
        ak_cli_print_json(j);
        ak_json_free(j);
        return AK_EXIT_OK;
    }
    int64_t now = ak_now_wall_ms();
    char a[64], b[64], d[64];
    when(ak_json_get_str(j, "window_start"), now, a, sizeof(a));
    when(ak_json_get_str(j, "window_end"), now, b, sizeof(b));
    when(ak_json_get_str(j, "deadline"), now, d, sizeof(d));
    printf("#%lld  %s\n", (long long)ak_json_int(ak_json_get(j, "id")),
           ak_cli_str_or(j, "title", "-"));
    printf("  service     %s\n  kind        %s\n  status      %s\n",
           ak_cli_str_or(j, "service", "-"), ak_cli_str_or(j, "kind", "-"),
           ak_cli_str_or(j, "status", "-"));
    printf("  account     %s   region %s\n", ak_cli_str_or(j, "account", "-"),
           ak_cli_str_or(j, "region", "-"));
    const struct ak_json *res = ak_json_get(j, "resources");
    printf("  resources  ");
    for (size_t i = 0; i < ak_json_len(res); i++)
        printf(" %s", ak_json_str(ak_json_at(res, i)));
    printf("\n  window      %s -> %s\n  deadline    %s\n", a, b, d);
    if (ak_json_bool(ak_json_get(j, "important")))
        printf("  important   yes (%s)\n", ak_cli_str_or(j, "important_why", ""));
    if (ak_json_is_int(ak_json_get(j, "recurrence_of")))
        printf("  recurrence  of #%lld\n", (long long)ak_json_int(ak_json_get(j, "recurrence_of")));
    printf("  first seen  %s\n  last seen   %s\n", ak_cli_str_or(j, "first_seen", "-"),
           ak_cli_str_or(j, "last_seen", "-"));
    const char *desc = ak_json_get_str(j, "description");
    if (desc && *desc)
        printf("\n%s\n", desc);
    const struct ak_json *h = ak_json_get(j, "history");
    printf("\nTimeline (%zu deliveries):\n", ak_json_len(h));
    for (size_t i = 0; i < ak_json_len(h); i++) {
        const struct ak_json *e = ak_json_at(h, i);
        printf("  %s  %-11s raw=%-5lld %-40s %s\n", ak_cli_str_or(e, "at", "-"),
               ak_cli_str_or(e, "channel", "-"),
               (long long)ak_json_int(ak_json_get(e, "raw_id")),
               ak_cli_str_or(e, "message_id", "-"),
               ak_cli_str_or(e, "change", ""));
        const struct ak_json *rw = ak_json_get(e, "raw");
        if (raw && rw)
            printf("    %s\n", ak_cli_str_or(rw, "body", ""));
    }
    const struct ak_json *ch = ak_json_get(j, "changes");
    if (ak_json_len(ch)) {
        printf("\nChanges:\n");
        for (size_t i = 0; i < ak_json_len(ch); i++) {
            const struct ak_json *chg = ak_json_at(ch, i);
            printf("  %s  %-11s %s\n", ak_cli_str_or(chg, "at", "-"),
                   ak_cli_str_or(chg, "kind", "-"),
                   ak_cli_str_or(chg, "summary", ""));
        }
    }
    const struct ak_json *rbs = ak_json_get(j, "runbooks");
    if (ak_json_len(rbs)) {
        printf("\nRunbooks:\n");
        for (size_t i = 0; i < ak_json_len(rbs); i++) {
            const struct ak_json *rb = ak_json_at(rbs, i);
            printf("  #%-5lld %-9s %s\n", (long long)ak_json_int(ak_json_get(rb, "id")),
                   ak_cli_str_or(rb, "status", "-"), ak_cli_str_or(rb, "title", "-"));
        }
    }
    const struct ak_json *notes = ak_json_get(j, "notes");
    if (ak_json_len(notes)) {
        printf("\nNotes:\n");
        for (size_t i = 0; i < ak_json_len(notes); i++) {
            const struct ak_json *nt = ak_json_at(notes, i);
            printf("  #%-5lld %s  %.100s\n", (long long)ak_json_int(ak_json_get(nt, "id")),
                   ak_cli_str_or(nt, "by", "-"), ak_cli_str_or(nt, "text", ""));
        }
    }
    const struct ak_json *ob = ak_json_get(j, "outbox");
    if (ak_json_len(ob)) {
        printf("\nNotifications:\n");
        for (size_t i = 0; i < ak_json_len(ob); i++) {
            const struct ak_json *o = ak_json_at(ob, i);
            const char *err = ak_cli_str_or(o, "last_error", ak_cli_str_or(o, "note", ""));
            printf("  %-14s %-30.30s %-9s %s\n", ak_cli_str_or(o, "receiver", "-"),
                   ak_cli_str_or(o, "key", "-"),
                   ak_cli_str_or(o, "state", "-"), err);
        }
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

int ak_cmd_maint(int argc, char **argv, struct ak_cli *cli)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return maint_list(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return maint_show(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "ack") == 0)
        return ak_cmd_maint_ack(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "coverage") == 0)
        return ak_cmd_maint_coverage(argc - 1, argv + 1, cli);
    return usage_error("maint", "%s", "expected 'list', 'show', 'ack' or 'coverage'");
}

/* ---- status --------------------------------------------------------------------------- */

int ak_cmd_status(int argc, char **argv, struct ak_cli *cli)
{
    enum ak_out out = ak_cli_default_output();
    struct ak_json *j = NULL;
    long status;
    if (argc == 3 && strcmp(argv[1], "-o") == 0) {
        if (ak_cli_parse_output(argv[2], &out))
            return AK_EXIT_USAGE;
    } else if (argc != 1)
        return usage_error("status", "%s", "takes only -o table|json");
    int r = ak_cli_call(cli, "GET", "/api/v1/stats", NULL, 0, &status, &j);
    if (r != AK_EXIT_OK)
        return r;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else {
        const struct ak_json *a = ak_json_get(j, "archive");
        printf("daemon     %s (up)\narchive    %lld messages", cli->server,
               (long long)ak_json_int(ak_json_get(a, "total")));
        for (void *it = ak_json_iter(a); it; it = ak_json_iter_next(a, it))
            if (strcmp(ak_json_iter_key(it), "total") != 0)
                printf(", %lld %s", (long long)ak_json_int(ak_json_iter_value(it)),
                       ak_json_iter_key(it));
        printf("\n");
    }
    ak_json_free(j);
    return status == 200 ? AK_EXIT_OK : AK_EXIT_FAIL;
}
