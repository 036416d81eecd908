/* commands_notify.c — maint ack, silence, outbox, route test. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

/* ---- maint ack ------------------------------------------------------------------------- */

int ak_cmd_maint_ack(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"by", required_argument, NULL, 'b'},
                                         {"note", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *by = NULL, *note = NULL;
    uint64_t id;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': by = optarg; break;
        case 'n': note = optarg; break;
        default: return ak_cli_usage("maint", "bad option");
        }
    }
    if (optind + 1 != argc || ak_parse_u64(argv[optind], 1, INT64_MAX, &id) < 0)
        return ak_cli_usage("maint", "ack needs one numeric record ID");
    if (!by || !*by)
        return ak_cli_usage("maint", "ack needs --by NAME (who takes it)");
    struct ak_json *b = ak_json_new_obj(), *j = NULL;
    ak_json_set_str(b, "by", by);
    if (note)
        ak_json_set_str(b, "note", note);
    char *path = ak_xasprintf("/api/v1/maintenance/%llu/ack", (unsigned long long)id);
    int r = ak_cli_call_json(cli, "maint", "POST", path, b, &j);
    free(path);
    ak_json_free(b);
    if (r == AK_EXIT_OK)
        printf("#%llu acknowledged by %s: reminders stopped\n", (unsigned long long)id, by);
    ak_json_free(j);
    return r;
}

/* ---- silence ---------------------------------------------------------------------------- */

static int silence_add(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"match", required_argument, NULL, 'm'},
                                         {"for", required_argument, NULL, 'f'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {"by", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    const char *match = NULL, *dur = NULL, *reason = NULL, *by = getenv("USER");
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': match = optarg; break;
        case 'f': dur = optarg; break;
        case 'r': reason = optarg; break;
        case 'b': by = optarg; break;
        default: return ak_cli_usage("silence", "bad option");
        }
    }
    if (!match || !dur || !reason)
        return ak_cli_usage("silence", "add needs --match M, --for DURATION and --reason TEXT");
    struct ak_json *b = ak_json_new_obj(), *j = NULL;
    ak_json_set_str(b, "match", match);
    ak_json_set_str(b, "for", dur);
    ak_json_set_str(b, "reason", reason);
    ak_json_set_str(b, "by", by ? by : "cli");
    int r = ak_cli_call_json(cli, "silence", "POST", "/api/v1/silences", b, &j);
    ak_json_free(b);
    if (r == AK_EXIT_OK)
        printf("silence #%lld: %s until %s\n", (long long)ak_json_int(ak_json_get(j, "id")),
               ak_cli_str_or(j, "match", "-"), ak_cli_str_or(j, "ends_at", "-"));
    ak_json_free(j);
    return r;
}

static int silence_list(int argc, char **argv, struct ak_cli *cli)
{
    enum ak_out out = ak_cli_default_output();
    struct ak_json *j = NULL;
    if (argc == 3 && strcmp(argv[1], "-o") == 0) {
        if (ak_cli_parse_output(argv[2], &out))
            return AK_EXIT_USAGE;
    } else if (argc != 1)
        return ak_cli_usage("silence", "list takes only -o table|json");
    int r = ak_cli_call_json(cli, "silence", "GET", "/api/v1/silences", NULL, &j);
    if (r != AK_EXIT_OK)
        return r;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else {
        printf("%-5s %-8s %-30s %-21s %-10s %s\n", "ID", "STATE", "MATCH", "ENDS", "BY", "REASON");
        for (size_t i = 0; i < ak_json_len(j); i++) {
            const struct ak_json *s = ak_json_at(j, i);
            printf("%-5lld %-8s %-30s %-21s %-10s %s\n",
                   (long long)ak_json_int(ak_json_get(s, "id")), ak_cli_str_or(s, "state", "-"),
                   ak_cli_str_or(s, "match", "-"), ak_cli_str_or(s, "ends_at", "-"),
                   ak_cli_str_or(s, "created_by", "-"), ak_cli_str_or(s, "reason", ""));
        }
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

static int silence_expire(int argc, char **argv, struct ak_cli *cli)
{
    uint64_t id;
    struct ak_json *j = NULL;
    if (argc != 2 || ak_parse_u64(argv[1], 1, INT64_MAX, &id) < 0)
        return ak_cli_usage("silence", "expire needs one numeric silence ID");
    char *path = ak_xasprintf("/api/v1/silences/%llu/expire", (unsigned long long)id);
    int r = ak_cli_call_json(cli, "silence", "POST", path, NULL, &j);
    free(path);
    if (r == AK_EXIT_OK)
        printf("silence #%llu expired\n", (unsigned long long)id);
    ak_json_free(j);
    return r;
}

int ak_cmd_silence(int argc, char **argv, struct ak_cli *cli)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return silence_add(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return silence_list(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "expire") == 0)
        return silence_expire(argc - 1, argv + 1, cli);
    return ak_cli_usage("silence", "expected 'add', 'list' or 'expire'");
}

/* ---- outbox ----------------------------------------------------------------------------- */

static int outbox_list(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"state", required_argument, NULL, 's'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    const char *state = NULL;
    struct ak_json *j = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 's': state = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return ak_cli_usage("outbox", "bad option");
        }
    }
    char *st = state ? ak_url_escape(state) : NULL;
    char *path = ak_xasprintf("/api/v1/outbox%s%s", st ? "?state=" : "", st ? st : "");
    int r = ak_cli_call_json(cli, "outbox", "GET", path, NULL, &j);
    free(st);
    free(path);
    if (r != AK_EXIT_OK)
        return r;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else {
        printf("%-6s %-7s %-14s %-34s %-9s %-4s %s\n", "ID", "RECORD", "RECEIVER", "CHANGE",
               "STATE", "TRY", "LAST ERROR / NOTE");
        for (size_t i = 0; i < ak_json_len(j); i++) {
            const struct ak_json *o = ak_json_at(j, i);
            char rec[24] = "digest";
            if (ak_json_is_int(ak_json_get(o, "record")))
                snprintf(rec, sizeof(rec), "#%lld", (long long)ak_json_int(ak_json_get(o, "record")));
            printf("%-6lld %-7s %-14s %-34.34s %-9s %-4lld %.60s\n",
                   (long long)ak_json_int(ak_json_get(o, "id")), rec, ak_cli_str_or(o, "receiver", "-"),
                   ak_cli_str_or(o, "key", "-"), ak_cli_str_or(o, "state", "-"),
                   (long long)ak_json_int(ak_json_get(o, "attempts")),
                   ak_cli_str_or(o, "last_error", ak_cli_str_or(o, "note", "")));
        }
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}

static int outbox_retry(int argc, char **argv, struct ak_cli *cli)
{
    struct ak_json *b = ak_json_new_obj(), *j = NULL;
    uint64_t id;
    if (argc == 2) {
        if (ak_parse_u64(argv[1], 1, INT64_MAX, &id) < 0) {
            ak_json_free(b);
            return ak_cli_usage("outbox", "retry takes a numeric outbox ID, or nothing for every dead row");
        }
        ak_json_set_int(b, "id", (int64_t)id);
    } else if (argc != 1) {
        ak_json_free(b);
        return ak_cli_usage("outbox", "retry takes at most one ID");
    }
    int r = ak_cli_call_json(cli, "outbox", "POST", "/api/v1/outbox/retry", b, &j);
    ak_json_free(b);
    if (r == AK_EXIT_OK)
        printf("%lld dead message(s) queued again\n", (long long)ak_json_int(ak_json_get(j, "retried")));
    ak_json_free(j);
    return r;
}

int ak_cmd_outbox(int argc, char **argv, struct ak_cli *cli)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return outbox_list(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "retry") == 0)
        return outbox_retry(argc - 1, argv + 1, cli);
    return ak_cli_usage("outbox", "expected 'list' or 'retry'");
}

/* ---- route test ----------------------------------------------------------------------- */

int ak_cmd_route(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"record", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    const char *rid = NULL;
    struct ak_buf in = AK_BUF_INIT(1024 * 1024);
    struct ak_json *j = NULL;
    long status = 0;
    int c, r;

    if (argc < 2 || strcmp(argv[1], "test") != 0)
        return ak_cli_usage("route", "expected 'test'");
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rid = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return ak_cli_usage("route", "bad option");
        }
    }
    if (rid) {
        uint64_t id;
        if (ak_parse_u64(rid, 1, INT64_MAX, &id) < 0)
            return ak_cli_usage("route", "--record takes a numeric record ID");
        char *path = ak_xasprintf("/api/v1/route/test?record=%llu", (unsigned long long)id);
        r = ak_cli_call(cli, "POST", path, NULL, 0, &status, &j);
        free(path);
    } else {
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            if (ak_buf_addn(&in, chunk, n) < 0) {
                ak_buf_release(&in);
                return ak_cli_usage("route", "the record on stdin is over 1 MiB");
            }
        if (!in.len) {
            ak_buf_release(&in);
            return ak_cli_usage("route", "test needs --record ID or a record JSON on stdin");
        }
        r = ak_cli_call(cli, "POST", "/api/v1/route/test", in.buf, in.len, &status, &j);
    }
    ak_buf_release(&in);
    if (r != AK_EXIT_OK)
        return r;
    if (status != 200) {
        fprintf(stderr, "asakai route: %s\n", ak_cli_str_or(j, "error", "failed"));
        ak_json_free(j);
        return status == 400 ? AK_EXIT_USAGE : AK_EXIT_FAIL;
    }
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else {
        const struct ak_json *rv = ak_json_get(j, "receivers"), *ex = ak_json_get(j, "explain");
        printf("receivers:");
        for (size_t i = 0; i < ak_json_len(rv); i++)
            printf(" %s", ak_json_str(ak_json_at(rv, i)));
        printf("%s\nwhy:\n", ak_json_len(rv) ? "" : " (none)");
        for (size_t i = 0; i < ak_json_len(ex); i++)
            printf("  %s\n", ak_json_str(ak_json_at(ex, i)));
    }
    ak_json_free(j);
    return AK_EXIT_OK;
}
