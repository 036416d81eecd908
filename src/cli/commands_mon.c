/* commands_mon.c — daily monitoring from the command line: review, coverage, deploy markers,
 * and what the metrics store holds (metrics series/query/targets/stats; import is in
 * commands_import.c). Every command asks the daemon (docs/API.md "Monitoring"). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

/* A time field (ms, RFC 3339 text or null) for a table. */
static const char *when(const struct ak_json *j, char *buf, size_t n)
{
    if (ak_json_is_str(j))
        snprintf(buf, n, "%s", ak_json_str(j));
    else if (ak_json_is_int(j) && ak_json_int(j))
        ak_time_fmt_rfc3339(ak_json_int(j), buf, n);
    else
        snprintf(buf, n, "-");
    return buf;
}

/* A number field for a table ("-" when null). */
static const char *number(const struct ak_json *j, char *buf, size_t n)
{
    if (ak_json_is_num(j))
        snprintf(buf, n, "%.6g", ak_json_num(j));
    else
        snprintf(buf, n, "-");
    return buf;
}

/* Adds "&name=value" (value escaped) to a path that already has its "?". */
static void arg(struct ak_buf *path, const char *name, const char *value)
{
    if (!value)
        return;
    char *e = ak_url_escape(value);
    ak_buf_addf(path, "&%s=%s", name, e);
    free(e);
}

/* GET path and print it as JSON or with table(); returns the exit code. */
static int get_and_print(struct ak_cli *cli, const char *cmd, const char *path, enum ak_out out,
                         void (*table)(const struct ak_json *))
{
    struct ak_json *j = NULL;
    int r = ak_cli_call_json(cli, cmd, "GET", path, NULL, &j);
    if (r != AK_EXIT_OK)
        return r;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else
        table(j);
    ak_json_free(j);
    return AK_EXIT_OK;
}

/* Only "-o FMT" (or nothing) after the subcommand. */
static int only_output(int argc, char **argv, const char *cmd, const char *what, enum ak_out *out)
{
    *out = ak_cli_default_output();
    if (argc == 3 && (strcmp(argv[1], "-o") == 0 || strcmp(argv[1], "--output") == 0))
        return ak_cli_parse_output(argv[2], out);
    if (argc == 2 && ak_startswith(argv[1], "-o") && argv[1][2])
        return ak_cli_parse_output(argv[1] + 2, out);
    if (argc == 2 && ak_startswith(argv[1], "--output="))
        return ak_cli_parse_output(argv[1] + 9, out);
    if (argc != 1)
        return ak_cli_usage(cmd, what);
    return AK_EXIT_OK;
}

/* The width of a column: the longest string member k of the objects in arr, within [min, max]. */
static int col_width(const struct ak_json *arr, const char *k, int min, int max)
{
    size_t w = (size_t)min;
    for (size_t i = 0; i < ak_json_len(arr); i++) {
        const char *v = ak_json_get_str(ak_json_at(arr, i), k);
        if (v && strlen(v) > w)
            w = strlen(v);
    }
    return w > (size_t)max ? max : (int)w;
}

/* ---- review ---------------------------------------------------------------------------- */

static void review_table(const struct ak_json *j)
{
    const struct ak_json *fs = ak_json_get(j, "findings");
    char t[AK_TIME_RFC3339_LEN], w[32];

    ak_fmt_duration(ak_json_int(ak_json_get(j, "window_ms")), w, sizeof(w));
    printf("review at %s over %s (%s): %lld series, %lld tested, %lld short, %lld constant\n\n",
           when(ak_json_get(j, "at"), t, sizeof(t)), w, ak_cli_str_or(j, "resolution", "hour"),
           (long long)ak_json_int(ak_json_get(j, "series")),
           (long long)ak_json_int(ak_json_get(j, "tested")),
           (long long)ak_json_int(ak_json_get(j, "short")),
           (long long)ak_json_int(ak_json_get(j, "constant")));
    if (!ak_json_len(fs)) {
        printf("no findings: nothing grows, nothing nears a limit, no shift after a deploy\n");
        return;
    }
    /* columns as wide as their longest value (capped), the series under the sentence */
    int wk = col_width(fs, "kind", 4, 16), ws = col_width(fs, "service", 7, 24);
    printf("%-*s %-*s %s\n", wk, "KIND", ws, "SERVICE", "FINDING");
    for (size_t i = 0; i < ak_json_len(fs); i++) {
        const struct ak_json *f = ak_json_at(fs, i);
        printf("%-*s %-*s %s\n", wk, ak_cli_str_or(f, "kind", "?"), ws,
               ak_cli_str_or(f, "service", "-"), ak_cli_str_or(f, "text", ""));
        printf("%-*s %s\n", wk + ws + 1, "", ak_cli_str_or(f, "series", ""));
    }
}

int ak_cmd_review(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"window", required_argument, NULL, 'w'},
                                         {"resolution", required_argument, NULL, 'r'},
                                         {"service", required_argument, NULL, 's'},
                                         {"latest", no_argument, NULL, 'l'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_buf path = AK_BUF_INIT(4096);
    const char *window = NULL, *res = NULL, *service = NULL;
    bool latest = false;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'w': window = optarg; break;
        case 'r': res = optarg; break;
        case 's': service = optarg; break;
        case 'l': latest = true; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return ak_cli_usage("review", "bad option");
        }
    }
    if (optind != argc)
        return ak_cli_usage("review", "unexpected argument");
    if (latest && (window || res || service))
        return ak_cli_usage("review", "--latest takes no --window, --resolution or --service");
    ak_buf_add(&path, latest ? "/api/v1/review/latest" : "/api/v1/review?");
    arg(&path, "window", window);
    arg(&path, "resolution", res);
    arg(&path, "service", service);
    rc = get_and_print(cli, "review", path.buf, out, review_table);
    ak_buf_release(&path);
    return rc;
}

/* ---- coverage -------------------------------------------------------------------------- */

static void coverage_table(const struct ak_json *j)
{
    const struct ak_json *sigs = ak_json_get(j, "signals"), *svcs = ak_json_get(j, "services");
    const struct ak_json *missing = ak_json_get(j, "missing");

    int wn = col_width(svcs, "name", 7, 32), wt = col_width(svcs, "type", 4, 16);
    printf("%-*s %-*s", wn, "SERVICE", wt, "TYPE");
    for (size_t i = 0; i < ak_json_len(sigs); i++)
        printf(" %-10s", ak_json_str(ak_json_at(sigs, i)));
    printf("\n");
    for (size_t i = 0; i < ak_json_len(svcs); i++) {
        const struct ak_json *s = ak_json_at(svcs, i), *cells = ak_json_get(s, "cells");
        printf("%-*s %-*s", wn, ak_cli_str_or(s, "name", "?"), wt, ak_cli_str_or(s, "type", "?"));
        for (size_t k = 0; k < ak_json_len(sigs); k++) {
            const struct ak_json *cell = ak_json_get(cells, ak_json_str(ak_json_at(sigs, k)));
            int wc = (int)strlen(ak_json_str(ak_json_at(sigs, k)) ?
                                 ak_json_str(ak_json_at(sigs, k)) : "");
            char v[24];
            if (!cell)
                snprintf(v, sizeof(v), ".");
            else
                snprintf(v, sizeof(v), "%s%s", ak_cli_str_or(cell, "state", "?"),
                         ak_json_bool(ak_json_get(cell, "required")) ? "*" : "");
            printf(" %-*s", wc > 10 ? wc : 10, v);
        }
        printf("\n");
    }
    if (!ak_json_len(svcs))
        printf("no services: declare them under 'services:' in the config\n");
    printf("\n* required; . not defined for the type\n");
    if (ak_json_len(missing)) {
        printf("\nmissing:\n");
        for (size_t i = 0; i < ak_json_len(missing); i++)
            printf("  %s\n", ak_json_str(ak_json_at(missing, i)));
    }
    printf("\n%lld required signal(s) missing\n",
           (long long)ak_json_int(ak_json_get(j, "required_missing")));
}

int ak_cmd_coverage(int argc, char **argv, struct ak_cli *cli)
{
    enum ak_out out;
    struct ak_json *j = NULL;
    int r = only_output(argc, argv, "coverage", "coverage takes only -o table|json", &out);

    if (r != AK_EXIT_OK)
        return r;
    r = ak_cli_call_json(cli, "coverage", "GET", "/api/v1/monitoring/coverage", NULL, &j);
    if (r != AK_EXIT_OK)
        return r;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else
        coverage_table(j);
    r = ak_json_int(ak_json_get(j, "required_missing")) > 0 ? AK_EXIT_FAIL : AK_EXIT_OK;
    ak_json_free(j);
    return r;
}

/* ---- deploy ---------------------------------------------------------------------------- */

static int deploy_mark(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"version", required_argument, NULL, 'v'},
                                         {"at", required_argument, NULL, 'a'},
                                         {"note", required_argument, NULL, 'n'},
                                         {"by", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    const char *version = NULL, *at = NULL, *note = NULL, *by = NULL;
    struct ak_json *b, *j = NULL;
    char t[AK_TIME_RFC3339_LEN];
    int64_t ms;
    uint64_t n;
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'v': version = optarg; break;
        case 'a': at = optarg; break;
        case 'n': note = optarg; break;
        case 'b': by = optarg; break;
        default: return ak_cli_usage("deploy", "bad option");
        }
    }
    if (optind + 1 != argc)
        return ak_cli_usage("deploy", "mark takes one SERVICE");
    b = ak_json_new_obj();
    ak_json_set_str(b, "service", argv[optind]);
    if (version)
        ak_json_set_str(b, "version", version);
    if (at && ak_parse_u64(at, 1, INT64_MAX, &n) == AK_OK)
        ak_json_set_int(b, "at", (int64_t)n);
    else if (at && ak_time_parse(at, &ms) == AK_OK)
        ak_json_set_str(b, "at", at);
    else if (at) {
        ak_json_free(b);
        return ak_cli_usage("deploy", "--at takes an RFC 3339 time or ms since the epoch");
    }
    if (note)
        ak_json_set_str(b, "note", note);
    ak_json_set_str(b, "by", ak_cli_user(by));
    r = ak_cli_call_json(cli, "deploy", "POST", "/api/v1/deploys", b, &j);
    ak_json_free(b);
    if (r != AK_EXIT_OK)
        return r;
    printf("deploy #%lld of %s%s%s marked at %s\n", (long long)ak_json_int(ak_json_get(j, "id")),
           ak_cli_str_or(j, "service", argv[optind]), version ? " " : "", version ? version : "",
           when(ak_json_get(j, "at"), t, sizeof(t)));
    ak_json_free(j);
    return AK_EXIT_OK;
}

static void deploy_table(const struct ak_json *j)
{
    const struct ak_json *ds = ak_json_get(j, "deploys");
    char t[AK_TIME_RFC3339_LEN];

    printf("%-6s %-14s %-16s %-21s %-10s %s\n", "ID", "SERVICE", "VERSION", "AT", "BY", "NOTE");
    for (size_t i = 0; i < ak_json_len(ds); i++) {
        const struct ak_json *d = ak_json_at(ds, i);
        printf("%-6lld %-14s %-16s %-21s %-10s %s\n", (long long)ak_json_int(ak_json_get(d, "id")),
               ak_cli_str_or(d, "service", "?"), ak_cli_str_or(d, "version", "-"),
               when(ak_json_get(d, "at"), t, sizeof(t)), ak_cli_str_or(d, "by", "-"),
               ak_cli_str_or(d, "note", ""));
    }
    if (!ak_json_len(ds))
        printf("no deploys marked\n");
}

static int deploy_list(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"service", required_argument, NULL, 's'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_buf path = AK_BUF_INIT(4096);
    int c, rc;

    ak_buf_add(&path, "/api/v1/deploys?");
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 's': arg(&path, "service", optarg); break;
        case 'S': arg(&path, "since", optarg); break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out) == AK_EXIT_OK)
                break;
            ak_buf_release(&path);
            return AK_EXIT_USAGE;
        default: ak_buf_release(&path); return ak_cli_usage("deploy", "bad option");
        }
    }
    rc = optind == argc ? get_and_print(cli, "deploy", path.buf, out, deploy_table)
                        : ak_cli_usage("deploy", "list takes no argument");
    ak_buf_release(&path);
    return rc;
}

int ak_cmd_deploy(int argc, char **argv, struct ak_cli *cli)
{
    if (argc >= 2 && strcmp(argv[1], "mark") == 0)
        return deploy_mark(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return deploy_list(argc - 1, argv + 1, cli);
    return ak_cli_usage("deploy", "use 'deploy mark SERVICE' or 'deploy list'");
}

/* ---- metrics --------------------------------------------------------------------------- */

static void series_table(const struct ak_json *j)
{
    const struct ak_json *ss = ak_json_get(j, "series");
    char t[AK_TIME_RFC3339_LEN], v[32];

    printf("%-12s %-8s %-21s %-12s %s\n", "SERVICE", "TYPE", "LAST", "VALUE", "SERIES");
    for (size_t i = 0; i < ak_json_len(ss); i++) {
        const struct ak_json *s = ak_json_at(ss, i);
        printf("%-12s %-8s %-21s %-12s %s\n", ak_cli_str_or(s, "service", "-"),
               ak_cli_str_or(s, "type", "-"), when(ak_json_get(s, "last"), t, sizeof(t)),
               number(ak_json_get(s, "last_value"), v, sizeof(v)), ak_cli_str_or(s, "key", "?"));
    }
    printf("%zu series\n", ak_json_len(ss));
}

static int metrics_series(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"service", required_argument, NULL, 's'},
                                         {"match", required_argument, NULL, 'm'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_buf path = AK_BUF_INIT(4096);
    int c, rc;

    ak_buf_add(&path, "/api/v1/metrics/series?");
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 's': arg(&path, "service", optarg); break;
        case 'm': arg(&path, "match", optarg); break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out) == AK_EXIT_OK)
                break;
            ak_buf_release(&path);
            return AK_EXIT_USAGE;
        default: ak_buf_release(&path); return ak_cli_usage("metrics", "bad option");
        }
    }
    rc = optind == argc ? get_and_print(cli, "metrics", path.buf, out, series_table)
                        : ak_cli_usage("metrics", "series takes no argument");
    ak_buf_release(&path);
    return rc;
}

static void query_table(const struct ak_json *j)
{
    const struct ak_json *pts = ak_json_get(j, "points"), *ds = ak_json_get(j, "deploys");
    char t[AK_TIME_RFC3339_LEN], a[32], b[32], c[32];

    printf("%s  (%s, %s, step %lld s)\n", ak_cli_str_or(j, "series", "?"),
           ak_cli_str_or(j, "type", "?"), ak_cli_str_or(j, "resolution", "?"),
           (long long)(ak_json_int(ak_json_get(j, "step_ms")) / 1000));
    printf("%-21s %-14s %-14s %s\n", "TIME", "MEAN", "MIN", "MAX");
    for (size_t i = 0; i < ak_json_len(pts); i++) {
        const struct ak_json *p = ak_json_at(pts, i);
        printf("%-21s %-14s %-14s %s\n", when(ak_json_at(p, 0), t, sizeof(t)),
               number(ak_json_at(p, 1), a, sizeof(a)), number(ak_json_at(p, 2), b, sizeof(b)),
               number(ak_json_at(p, 3), c, sizeof(c)));
    }
    for (size_t i = 0; i < ak_json_len(ds); i++) {
        const struct ak_json *d = ak_json_at(ds, i);
        printf("deploy %s at %s\n", ak_cli_str_or(d, "version", "-"),
               when(ak_json_get(d, "at"), t, sizeof(t)));
    }
}

static int metrics_query(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"resolution", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    const char *from = NULL, *to = NULL, *res = NULL;
    struct ak_buf path = AK_BUF_INIT(8192);
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'r': res = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out))
                return AK_EXIT_USAGE;
            break;
        default: return ak_cli_usage("metrics", "bad option");
        }
    }
    if (optind + 1 != argc)
        return ak_cli_usage("metrics", "query takes one SERIES (see 'asakai metrics series')");
    ak_buf_add(&path, "/api/v1/metrics/query?");
    arg(&path, "series", argv[optind]);
    arg(&path, "from", from);
    arg(&path, "to", to);
    arg(&path, "resolution", res);
    rc = get_and_print(cli, "metrics", path.buf, out, query_table);
    ak_buf_release(&path);
    return rc;
}

static void targets_table(const struct ak_json *j)
{
    const struct ak_json *ts = ak_json_get(j, "targets"), *ss = ak_json_get(j, "sources");
    char t[AK_TIME_RFC3339_LEN], d[32];

    printf("%-12s %-4s %-21s %-8s %-7s %-40s %s\n", "SERVICE", "UP", "LAST SCRAPE", "DURATION",
           "SAMPLES", "URL", "ERROR");
    for (size_t i = 0; i < ak_json_len(ts); i++) {
        const struct ak_json *x = ak_json_at(ts, i);
        printf("%-12s %-4s %-21s %-8s %-7lld %-40s %s\n", ak_cli_str_or(x, "service", "?"),
               ak_json_bool(ak_json_get(x, "up")) ? "up" : "DOWN",
               when(ak_json_get(x, "last_scrape"), t, sizeof(t)),
               number(ak_json_get(x, "duration_s"), d, sizeof(d)),
               (long long)ak_json_int(ak_json_get(x, "samples")), ak_cli_str_or(x, "url", "?"),
               ak_cli_str_or(x, "error", ""));
    }
    if (!ak_json_len(ts))
        printf("no scrape targets (services[].targets in the config)\n");
    if (!ak_json_len(ss))
        return;
    printf("\n%-14s %-21s %-21s %-8s %-8s %-40s %s\n", "SOURCE", "LAST READ", "LAST OK",
           "REQUESTS", "SAMPLES", "URL", "ERROR");
    for (size_t i = 0; i < ak_json_len(ss); i++) {
        const struct ak_json *x = ak_json_at(ss, i);
        char t2[AK_TIME_RFC3339_LEN];
        printf("%-14s %-21s %-21s %-8lld %-8lld %-40s %s\n", ak_cli_str_or(x, "name", "?"),
               when(ak_json_get(x, "last_read"), t, sizeof(t)),
               when(ak_json_get(x, "last_ok"), t2, sizeof(t2)),
               (long long)ak_json_int(ak_json_get(x, "requests")),
               (long long)ak_json_int(ak_json_get(x, "samples")), ak_cli_str_or(x, "url", "?"),
               ak_cli_str_or(x, "error", ""));
    }
}

static void stats_table(const struct ak_json *j)
{
    static const char *const keys[] = {"series", "chunks", "raw_samples", "chunk_bytes",
                                       "bytes_per_sample", "points_minute", "points_hour",
                                       "file_bytes"};
    char v[32];
    for (size_t i = 0; i < AK_ARRAY_SIZE(keys); i++)
        printf("%-17s %s\n", keys[i], number(ak_json_get(j, keys[i]), v, sizeof(v)));
}

int ak_cmd_metrics(int argc, char **argv, struct ak_cli *cli)
{
    enum ak_out out;
    const char *sub = argc >= 2 ? argv[1] : "";

    if (strcmp(sub, "import") == 0)
        return ak_cli_metrics_import(argc - 1, argv + 1, cli);
    if (strcmp(sub, "series") == 0)
        return metrics_series(argc - 1, argv + 1, cli);
    if (strcmp(sub, "query") == 0)
        return metrics_query(argc - 1, argv + 1, cli);
    if (strcmp(sub, "targets") == 0) {
        if (only_output(argc - 1, argv + 1, "metrics", "targets takes only -o table|json", &out))
            return AK_EXIT_USAGE;
        return get_and_print(cli, "metrics", "/api/v1/monitoring/targets", out, targets_table);
    }
    if (strcmp(sub, "stats") == 0) {
        if (only_output(argc - 1, argv + 1, "metrics", "stats takes only -o table|json", &out))
            return AK_EXIT_USAGE;
        return get_and_print(cli, "metrics", "/api/v1/metrics/stats", out, stats_table);
    }
    return ak_cli_usage("metrics", "use import, series, query, targets or stats");
}
