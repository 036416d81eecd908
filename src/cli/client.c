/* client.c — the CLI's calls to the daemon's HTTP API, and output helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

int ak_cli_call(struct ak_cli *cli, const char *method, const char *path, const void *body,
                size_t body_len, long *ret_status, struct ak_json **ret_json)
{
    return ak_cli_call_ct(cli, method, path, "application/json", body, body_len, ret_status,
                          ret_json);
}

int ak_cli_call_ct(struct ak_cli *cli, const char *method, const char *path,
                   const char *content_type, const void *body, size_t body_len, long *ret_status,
                   struct ak_json **ret_json)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_httpc_resp resp;
    char *url = ak_xasprintf("%s%s", cli->server, path);
    char *auth = cli->token ? ak_xasprintf("Authorization: Bearer %s", cli->token) : NULL;
    char *ct = ak_xasprintf("Content-Type: %s", content_type);
    const char *headers[3] = {ct, auth, NULL};
    struct ak_httpc_req req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = body_len,
        .timeout_ms = 120000,
        .max_response = 256 * 1024 * 1024,
    };
    int rc = AK_EXIT_FAIL;

    ak_httpc_resp_init(&resp);
    int r = ak_httpc_do(&req, &resp, &err);
    if (r < 0) {
        fprintf(stderr, "asakai: cannot reach the daemon at %s: %s\n"
                        "  (start it with 'asakai serve', or point --server / ASAKAI_SERVER at it)\n",
                cli->server, err.buf);
        goto out;
    }
    struct ak_json *j = ak_json_parse(resp.body.buf, resp.body.len, NULL);
    if (!j) {
        fprintf(stderr, "asakai: the daemon answered HTTP %ld with a body that is not JSON: %.200s\n",
                resp.status, resp.body.buf);
        goto out;
    }
    *ret_status = resp.status;
    *ret_json = j;
    rc = AK_EXIT_OK;
out:
    ak_httpc_resp_release(&resp);
    ak_buf_release(&err);
    free(url);
    free(auth);
    free(ct);
    return rc;
}

int ak_cli_parse_output(const char *s, enum ak_out *ret)
{
    if (strcmp(s, "table") == 0)
        *ret = AK_OUT_TABLE;
    else if (strcmp(s, "json") == 0)
        *ret = AK_OUT_JSON;
    else {
        fprintf(stderr, "asakai: -o takes 'table' or 'json', not '%s'\n", s);
        return AK_EXIT_USAGE;
    }
    return AK_EXIT_OK;
}

enum ak_out ak_cli_default_output(void)
{
    return isatty(1) ? AK_OUT_TABLE : AK_OUT_JSON;
}

void ak_cli_print_json(const struct ak_json *j)
{
    char *s = ak_json_dump(j, AK_JSON_PRETTY);
    printf("%s\n", s);
    free(s);
}

int ak_cli_usage(const char *cmd, const char *what)
{
    fprintf(stderr, "asakai %s: %s (see 'asakai %s --help')\n", cmd, what, cmd);
    return AK_EXIT_USAGE;
}

int ak_cli_read_file(const char *cmd, const char *path, struct ak_buf *out, int rc_io,
                     int rc_too_big)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = AK_EXIT_OK;

    if (!f) {
        fprintf(stderr, "asakai %s: cannot read %s: %s\n", cmd, path, strerror(errno));
        return rc_io;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (ak_buf_addn(out, chunk, n) < 0) {
            fprintf(stderr, "asakai %s: %s is over %zu bytes; split it\n", cmd, path, out->max);
            rc = rc_too_big;
            break;
        }
    if (rc == AK_EXIT_OK && ferror(f)) {
        fprintf(stderr, "asakai %s: error reading %s\n", cmd, path);
        rc = rc_io;
    }
    if (f != stdin)
        fclose(f);
    return rc;
}

const char *ak_cli_str_or(const struct ak_json *o, const char *k, const char *def)
{
    const char *s = ak_json_get_str(o, k);
    return s && *s ? s : def;
}

int ak_cli_call_json(struct ak_cli *cli, const char *cmd, const char *method, const char *path,
                     struct ak_json *body, struct ak_json **ret)
{
    char *b = body ? ak_json_dump(body, AK_JSON_COMPACT) : NULL;
    long status = 0;
    int r = ak_cli_call(cli, method, path, b, b ? strlen(b) : 0, &status, ret);

    free(b);
    if (r != AK_EXIT_OK)
        return r;
    if (status < 200 || status >= 300) {
        fprintf(stderr, "asakai %s: %s\n", cmd, ak_cli_str_or(*ret, "error", "failed"));
        ak_json_free(*ret);
        *ret = NULL;
        return status == 400 ? AK_EXIT_USAGE : AK_EXIT_FAIL;
    }
    return AK_EXIT_OK;
}
