/* commands_poll.c — poll (run a pass now, scopes' health) and maint coverage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

static void print_pass(const struct ak_json *j)
{
    const struct ak_json *sc = ak_json_get(j, "scopes"), *ch = ak_json_get(j, "changes");
    const struct ak_json *found = ak_json_get(j, "found");
    size_t failed = 0;

    printf("%spoll pass: %zu scopes, %lld requests (%lld retries, at most %lld in flight), "
           "%.1f s\n",
           ak_json_bool(ak_json_get(j, "dry_run")) ? "DRY RUN — nothing changed. " : "",
           ak_json_len(sc), (long long)ak_json_int(ak_json_get(j, "requests")),
           (long long)ak_json_int(ak_json_get(j, "retries")),
           (long long)ak_json_int(ak_json_get(j, "peak_in_flight")),
           (double)ak_json_int(ak_json_get(j, "duration_ms")) / 1000.0);
    printf("%-58s %-3s %5s %5s %5s  %s\n", "SCOPE", "OK", "PAGES", "ITEMS", "SEEN", "ERROR");
    for (size_t i = 0; i < ak_json_len(sc); i++) {
        const struct ak_json *s = ak_json_at(sc, i);
        bool ok = ak_json_bool(ak_json_get(s, "ok"));
        failed += !ok;
        printf("%-58s %-3s %5lld %5lld %5lld  %s\n", ak_cli_str_or(s, "scope", "?"), ok ? "yes" : "NO",
               (long long)ak_json_int(ak_json_get(s, "pages")),
               (long long)ak_json_int(ak_json_get(s, "items")),
               (long long)ak_json_int(ak_json_get(s, "seen")), ak_cli_str_or(s, "error", ""));
    }
    printf("\nfound %zu item(s)\n", ak_json_len(found));
    for (size_t i = 0; i < ak_json_len(found); i++) {
        const struct ak_json *f = ak_json_at(found, i);
        printf("  %-10s %-22s %-24s deadline %s  %s\n", ak_cli_str_or(f, "status", "?"),
               ak_cli_str_or(f, "kind", "?"), ak_cli_str_or(f, "resource", "-"), ak_cli_str_or(f, "deadline", "-"),
               ak_cli_str_or(f, "title", ""));
    }
    printf("\n%zu change(s)\n", ak_json_len(ch));
    for (size_t i = 0; i < ak_json_len(ch); i++) {
        const struct ak_json *c = ak_json_at(ch, i);
        printf("  #%-5lld %-13s %s\n", (long long)ak_json_int(ak_json_get(c, "rec_id")),
               ak_cli_str_or(c, "change", "?"), ak_cli_str_or(c, "what", ""));
    }
    if (failed)
        printf("\n%zu scope(s) failed: their records were left as they were\n", failed);
}

static int poll_status(int argc, char **argv, struct ak_cli *cli)
{
    enum ak_out out = ak_cli_default_output();
    struct ak_json *j = NULL;
    int r;

    if (argc == 3 && strcmp(argv[1], "-o") == 0) {
        if (ak_cli_parse_output(argv[2], &out))
            return AK_EXIT_USAGE;
    } else if (argc != 1) {
        return ak_cli_usage("poll", "status takes only -o table|json");
    }
    r = ak_cli_call_json(cli, "poll", "GET", "/api/v1/poll", NULL, &j);
    if (r != AK_EXIT_OK)
        return r;
    if (out == AK_OUT_JSON) {
        ak_cli_print_json(j);
    } else {
        printf("%-58s %-4s %-7s %-20s %5s  %s\n", "SCOPE", "ON", "HEALTHY", "LAST OK", "ITEMS",
               "ERROR / NOTE");
        for (size_t i = 0; i < ak_json_len(j); i++) {
            const struct ak_json *s = ak_json_at(j, i);
            printf("%-58s %-4s %-7s %-20s %5lld  %s\n", ak_cli_str_or(s, "scope", "?"),
                   ak_json_bool(ak_json_get(s, "enabled")) ? "yes" : "no",
                   ak_json_bool(ak_json_get(s, "healthy")) ? "yes" : "NO",
                   ak_cli_str_or(s, "last_ok_at", "never"),
                   (long long)ak_json_int(ak_json_get(s, "items")),
                   ak_cli_str_or(s, "last_error", ak_cli_str_or(s, "note", "")));
        }
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

int ak_cmd_poll(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"source", required_argument, NULL, 's'},
                                         {"poller", required_argument, NULL, 's'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    const char *source = NULL;
    bool dry = false;
    struct ak_json *b, *j = NULL;
    size_t failed = 0;
    int c, r;

    if (argc >= 2 && strcmp(argv[1], "status") == 0)
        return poll_status(argc - 1, argv + 1, cli);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 's': source = optarg; break;
        case 'n': dry = true; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return ak_cli_usage("poll", "bad option");
        }
    }
    if (optind != argc)
        return ak_cli_usage("poll", "unexpected argument");
    b = ak_json_new_obj();
    if (source)
        ak_json_set_str(b, "poller", source);
    ak_json_set_bool(b, "dry_run", dry);
    r = ak_cli_call_json(cli, "poll", "POST", "/api/v1/poll", b, &j);
    ak_json_free(b);
    if (r != AK_EXIT_OK)
        return r;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else
        print_pass(j);
    const struct ak_json *sc = ak_json_get(j, "scopes");
    for (size_t i = 0; i < ak_json_len(sc); i++)
        failed += !ak_json_bool(ak_json_get(ak_json_at(sc, i), "ok"));
    ak_json_free(j);
    return failed ? AK_EXIT_FAIL : AK_EXIT_OK;
}

static void channels_words(const struct ak_json *ch, struct ak_buf *b)
{
    const struct ak_json *sns = ak_json_get(ch, "sns"), *eb = ak_json_get(ch, "eventbridge");
    const struct ak_json *pol = ak_json_get(ch, "pollers"), *h = ak_json_get(ch, "health_api");

    ak_buf_addf(b, "sns:%s eventbridge:%s", ak_json_bool(ak_json_get(sns, "seen")) ? "yes" : "no",
                ak_json_bool(ak_json_get(eb, "seen")) ? "yes" : "no");
    for (size_t i = 0; i < ak_json_len(pol); i++) {
        const struct ak_json *p = ak_json_at(pol, i);
        ak_buf_addf(b, " %s:%s", ak_cli_str_or(p, "poller", "?"),
                    !ak_json_bool(ak_json_get(p, "enabled"))   ? "off"
                    : ak_json_bool(ak_json_get(p, "healthy")) ? "ok"
                                                               : "failing");
    }
    ak_buf_addf(b, " health-api:%s",
                !ak_json_bool(ak_json_get(h, "enabled"))   ? "off"
                : ak_json_bool(ak_json_get(h, "healthy")) ? "ok"
                                                           : "failing");
}

int ak_cmd_maint_coverage(int argc, char **argv, struct ak_cli *cli)
{
    enum ak_out out = ak_cli_default_output();
    struct ak_json *j = NULL;
    int64_t blind;
    int r;

    if (argc == 3 && strcmp(argv[1], "-o") == 0) {
        if (ak_cli_parse_output(argv[2], &out))
            return AK_EXIT_USAGE;
    } else if (argc != 1) {
        return ak_cli_usage("maint", "coverage takes only -o table|json");
    }
    r = ak_cli_call_json(cli, "maint", "GET", "/api/v1/coverage", NULL, &j);
    if (r != AK_EXIT_OK)
        return r;
    blind = ak_json_int(ak_json_get(j, "blind_spots"));
    if (out == AK_OUT_JSON) {
        ak_cli_print_json(j);
    } else {
        const struct ak_json *rows = ak_json_get(j, "rows");
        printf("%-14s %-16s %-12s %-8s %s\n", "ACCOUNT", "REGION", "SERVICE", "VERDICT",
               "CHANNELS");
        for (size_t i = 0; i < ak_json_len(rows); i++) {
            const struct ak_json *row = ak_json_at(rows, i);
            struct ak_buf w = AK_BUF_INIT(1024);
            channels_words(ak_json_get(row, "channels"), &w);
            printf("%-14s %-16s %-12s %-8s %s\n", ak_cli_str_or(row, "account", "?"),
                   ak_cli_str_or(row, "region", "?"), ak_cli_str_or(row, "service", "?"),
                   ak_cli_str_or(row, "verdict", "?"), w.buf);
            if (ak_json_get_str(row, "why"))
                printf("    %s\n", ak_json_get_str(row, "why"));
            ak_buf_release(&w);
        }
        if (ak_json_len(rows) == 0)
            printf("nothing to report: no inventory in config and nothing seen yet\n");
        printf("\n%lld blind spot(s), %lld partial\n", (long long)blind,
               (long long)ak_json_int(ak_json_get(j, "partial")));
    }
    ak_json_free(j);
    return blind ? AK_EXIT_FAIL : AK_EXIT_OK;
}
