/* commands_report.c — `asakai report daily`: the morning report from the daemon. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

/* Appends s percent-encoded for a query value (unreserved characters and '/' kept). */
static void add_query_value(struct ak_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/", c))
            ak_buf_addc(b, (char)c);
        else
            ak_buf_addf(b, "%%%02X", c);
    }
}

/* GET path and print the body as it is (the daemon renders Markdown and HTML, so the CLI, the
 * API and the email show the same report). */
static int get_raw(struct ak_cli *cli, const char *path, bool json)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_httpc_resp resp;
    char *url = ak_xasprintf("%s%s", cli->server, path);
    char *auth = cli->token ? ak_xasprintf("Authorization: Bearer %s", cli->token) : NULL;
    const char *headers[2] = {auth, NULL};
    struct ak_httpc_req req = {
        .method = "GET",
        .url = url,
        .headers = headers,
        .timeout_ms = 120000,
        .max_response = 64 * 1024 * 1024,
    };
    int rc = AK_EXIT_FAIL;

    ak_httpc_resp_init(&resp);
    if (ak_httpc_do(&req, &resp, &err) < 0) {
        fprintf(stderr, "asakai: cannot reach the daemon at %s: %s\n"
                        "  (start it with 'asakai serve', or point --server / ASAKAI_SERVER at it)\n",
                cli->server, err.buf);
        goto out;
    }
    if (resp.status != 200) {
        struct ak_json *j = ak_json_parse(resp.body.buf, resp.body.len, NULL);
        fprintf(stderr, "asakai report: %s\n",
                ak_cli_str_or(j, "error", resp.body.len ? resp.body.buf : "failed"));
        ak_json_free(j);
        rc = resp.status == 400 ? AK_EXIT_USAGE : AK_EXIT_FAIL;
        goto out;
    }
    if (json) {
        struct ak_json *j = ak_json_parse(resp.body.buf, resp.body.len, NULL);
        if (j) {
            ak_cli_print_json(j);
            ak_json_free(j);
            rc = fflush(stdout) == 0 ? AK_EXIT_OK : AK_EXIT_FAIL;
            goto out;
        }
    }
    fwrite(resp.body.buf, 1, resp.body.len, stdout);
    if (resp.body.len && resp.body.buf[resp.body.len - 1] != '\n')
        putchar('\n');
    rc = fflush(stdout) == 0 ? AK_EXIT_OK : AK_EXIT_FAIL;
out:
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
    free(url);
    free(auth);
    return rc;
}

int ak_cmd_report(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {
        {"date", required_argument, NULL, 'd'},
        {"tz", required_argument, NULL, 'z'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *date = NULL, *tz = NULL, *fmt = "md";
    struct ak_buf path = AK_BUF_INIT(1024);
    int c, rc;

    if (argc < 2 || strcmp(argv[1], "daily") != 0)
        return ak_cli_usage("report", "the subcommand is 'daily'");
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': date = optarg; break;
        case 'z': tz = optarg; break;
        case 'o': fmt = optarg; break;
        default: return ak_cli_usage("report", "unknown option or missing value");
        }
    }
    if (optind != argc)
        return ak_cli_usage("report", "daily takes no arguments besides its options");
    if (strcmp(fmt, "md") != 0 && strcmp(fmt, "html") != 0 && strcmp(fmt, "json") != 0)
        return ak_cli_usage("report", "-o takes md, html or json");
    ak_buf_addf(&path, "/api/v1/report?format=%s", fmt);
    if (date) {
        ak_buf_add(&path, "&date=");
        add_query_value(&path, date);
    }
    if (tz) {
        ak_buf_add(&path, "&tz=");
        add_query_value(&path, tz);
    }
    rc = get_raw(cli, path.buf, strcmp(fmt, "json") == 0);
    ak_buf_release(&path);
    return rc;
}
