/* cli.h — private to src/cli: the command table and the client of the daemon's API. */
#ifndef AK_CLI_H
#define AK_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "asakai/ak_buf.h"

struct ak_json;

/* Exit codes (documented in docs/CLI.md). */
enum { AK_EXIT_OK = 0, AK_EXIT_FAIL = 1, AK_EXIT_USAGE = 2 };

struct ak_cli {
    const char *server; /* --server, $ASAKAI_SERVER, or http://127.0.0.1:9780 */
    const char *token;  /* $ASAKAI_TOKEN */
};

struct ak_cmd {
    const char *name;
    int (*fn)(int argc, char **argv, struct ak_cli *cli);
    const char *summary;
    const char *usage; /* full --help text */
};

extern const struct ak_cmd ak_cli_cmds[];
extern const size_t ak_cli_n_cmds;

/* Prints the help of a command ("maint") to f. */
void ak_cli_print_help(const struct ak_cmd *c, int to_stderr);
const struct ak_cmd *ak_cli_find(const char *name);

/* Calls the daemon: method, path (with query), optional body. On success *ret_json is the parsed
 * JSON answer (a 2xx or an error document) and *ret_status the HTTP status. Prints a clear error
 * and returns AK_EXIT_FAIL when the daemon cannot be reached. */
int ak_cli_call(struct ak_cli *cli, const char *method, const char *path, const void *body,
                size_t body_len, long *ret_status, struct ak_json **ret_json);

/* ak_cli_call with another body type ("text/plain; version=0.0.4"). */
int ak_cli_call_ct(struct ak_cli *cli, const char *method, const char *path,
                   const char *content_type, const void *body, size_t body_len, long *ret_status,
                   struct ak_json **ret_json);

/* ak_cli_call with a JSON body (may be NULL): on a non-2xx prints "asakai CMD: <error>" and
 * returns AK_EXIT_USAGE for a 400, AK_EXIT_FAIL otherwise (*ret is then NULL). */
int ak_cli_call_json(struct ak_cli *cli, const char *cmd, const char *method, const char *path,
                     struct ak_json *body, struct ak_json **ret);
/* Prints "asakai CMD: WHAT (see 'asakai CMD --help')" and returns AK_EXIT_USAGE. */
int ak_cli_usage(const char *cmd, const char *what);
/* Reads path ('-' = stdin) into out, capped by out->max. On failure prints "asakai CMD: ..."
 * (cannot read, "is over N bytes; split it", error reading) and returns rc_io, or rc_too_big
 * when the cap was passed. */
int ak_cli_read_file(const char *cmd, const char *path, struct ak_buf *out, int rc_io,
                     int rc_too_big);
/* The string member k of o, or def when absent or empty. */
const char *ak_cli_str_or(const struct ak_json *o, const char *k, const char *def);

/* -o parsing: "table" | "json"; default table on a TTY, json otherwise. */
enum ak_out { AK_OUT_TABLE, AK_OUT_JSON };
int ak_cli_parse_output(const char *s, enum ak_out *ret);
enum ak_out ak_cli_default_output(void);
void ak_cli_print_json(const struct ak_json *j);

/* commands */
int ak_cmd_serve(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_config(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_events(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_maint(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_status(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_maint_ack(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_silence(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_outbox(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_route(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_poll(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_maint_coverage(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_aws_creds(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_oidc(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_runbook(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_note(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_search(int argc, char **argv, struct ak_cli *cli);

/* commands_runbook.c / commands_rbrun.c */
/* by, else $USER, else "cli": who the run record names. */
const char *ak_cli_user(const char *by);
/* GET /api/v1/runbooks/ID into *ret (errors printed). */
int ak_cli_rb_get(struct ak_cli *cli, unsigned long long id, struct ak_json **ret);
/* `runbook run ID STEP [--dry-run] [--yes] [--by NAME]` (argv[0] = "run"). */
int ak_cli_rb_run(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_report(int argc, char **argv, struct ak_cli *cli);

/* commands_mon.c / commands_import.c: daily monitoring */
int ak_cmd_review(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_coverage(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_deploy(int argc, char **argv, struct ak_cli *cli);
int ak_cmd_metrics(int argc, char **argv, struct ak_cli *cli);
/* `metrics import [--batch-bytes N] FILE...` (argv[0] = "import"). */
int ak_cli_metrics_import(int argc, char **argv, struct ak_cli *cli);

#endif
