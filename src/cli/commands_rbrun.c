/* commands_rbrun.c — `asakai runbook run ID STEP [--dry-run] [--yes]`: the CLI executes a
 * check/run/wait/rollback step itself, on the operator's machine with the operator's shell and
 * credentials (the daemon never runs commands), and posts what happened to the run record.
 *
 * A command runs as /bin/sh -c COMMAND in its own process group with stdin from /dev/null and
 * stdout+stderr captured together (capped); at the step's timeout the group is killed. Output
 * is redacted (ak_runbook_redact) before it is printed or sent. A failing `run` step makes the
 * CLI run the rollback steps that undo it, each recorded as well. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_runbook.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

#define CMD "runbook"
#define OUTPUT_CAP (64 * 1024)
#define DEFAULT_TIMEOUT_MS (5 * 60 * 1000)
#define DEFAULT_INTERVAL_MS (30 * 1000)

struct run_result {
    int exit_code;       /* 124 on timeout (like timeout(1)), 127 when it could not start */
    bool timed_out;
    int64_t duration_ms;
    struct ak_buf output;
};

static void run_result_release(struct run_result *r)
{
    ak_buf_release(&r->output);
}

static void child_exec(const char *command, int out_fd)
{
    int devnull = open("/dev/null", O_RDONLY);

    setpgid(0, 0);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    _exit(127);
}

/* Reads what is available from fd into out (the first OUTPUT_CAP bytes; the rest is counted
 * and dropped); false at end of file. */
static bool drain(int fd, struct ak_buf *out, size_t *dropped)
{
    char buf[8192];
    ssize_t k = read(fd, buf, sizeof(buf));

    if (k < 0)
        return errno == EINTR || errno == EAGAIN;
    if (k == 0)
        return false;
    size_t room = out->len < OUTPUT_CAP ? OUTPUT_CAP - out->len : 0;
    size_t take = (size_t)k < room ? (size_t)k : room;
    ak_buf_addn(out, buf, take);
    *dropped += (size_t)k - take;
    return true;
}

/* Runs command with a timeout, capturing its output. */
static void run_command(const char *command, int64_t timeout_ms, struct run_result *res)
{
    int p[2], status = 0;
    int64_t t0 = ak_now_mono_ms();
    size_t dropped = 0;
    bool open_pipe = true;
    pid_t pid;

    ak_buf_init(&res->output, AK_BUF_NOMAX);
    res->exit_code = 127;
    res->timed_out = false;
    res->duration_ms = 0;
    if (pipe(p) < 0) {
        ak_buf_addf(&res->output, "cannot start /bin/sh: %s\n", strerror(errno));
        return;
    }
    if ((pid = fork()) < 0) {
        ak_buf_addf(&res->output, "cannot start /bin/sh: %s\n", strerror(errno));
        close(p[0]);
        close(p[1]);
        return;
    }
    if (pid == 0) {
        close(p[0]);
        child_exec(command, p[1]);
    }
    close(p[1]);
    while (open_pipe) {
        int64_t left = timeout_ms - (ak_now_mono_ms() - t0);
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        if (left <= 0) {
            res->timed_out = true;
            break;
        }
        int n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (n > 0)
            open_pipe = drain(p[0], &res->output, &dropped);
    }
    if (res->timed_out) {
        /* the whole group: a shell's children must not outlive the step */
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    res->duration_ms = ak_now_mono_ms() - t0;
    if (res->timed_out) {
        char d[32];
        ak_fmt_duration(timeout_ms, d, sizeof(d));
        ak_buf_addf(&res->output, "\n[timed out after %s; killed]\n", d);
        res->exit_code = 124;
    } else
        res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (dropped)
        ak_buf_addf(&res->output, "\n[%zu more bytes of output not kept]\n", dropped);
    ak_runbook_redact(&res->output);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A wait step: polls the command every interval until it succeeds or the timeout passes. */
static void run_wait(const char *command, int64_t timeout_ms, int64_t interval_ms,
                     struct run_result *res)
{
    int64_t t0 = ak_now_mono_ms();
    int attempt = 0;

    for (;;) {
        int64_t left = timeout_ms - (ak_now_mono_ms() - t0);
        attempt++;
        run_command(command, left > 1000 ? left : 1000, res);
        printf("  attempt %d: exit %d\n", attempt, res->exit_code);
        fflush(stdout);
        left = timeout_ms - (ak_now_mono_ms() - t0);
        if (res->exit_code == 0 || left <= interval_ms)
            break;
        run_result_release(res);
        sleep_ms(interval_ms);
    }
    if (res->exit_code != 0 && !res->timed_out) {
        char d[32];
        ak_fmt_duration(timeout_ms, d, sizeof(d));
        ak_buf_addf(&res->output, "\n[still failing after %d attempts within %s]\n", attempt, d);
        ak_runbook_redact(&res->output);
    }
    res->duration_ms = ak_now_mono_ms() - t0;
}

static const struct ak_json *find_step(const struct ak_json *rb, const char *id)
{
    const struct ak_json *steps = ak_json_get(rb, "steps");
    for (size_t i = 0; i < ak_json_len(steps); i++)
        if (ak_streq(ak_json_get_str(ak_json_at(steps, i), "id"), id))
            return ak_json_at(steps, i);
    return NULL;
}

static int post_event(struct ak_cli *cli, unsigned long long id, const char *step,
                      const char *action, const char *by, const struct run_result *res,
                      const char *state, const char *note)
{
    struct ak_json *b = ak_json_new_obj(), *ans = NULL;
    char *path = ak_xasprintf("/api/v1/runbooks/%llu/events", id);

    ak_json_set_str(b, "step", step);
    ak_json_set_str(b, "action", action);
    ak_json_set_str(b, "by", by);
    if (res) {
        ak_json_set_int(b, "exit_code", res->exit_code);
        ak_json_set_int(b, "duration_ms", res->duration_ms);
        ak_json_set(b, "output", ak_json_new_strn(res->output.buf, res->output.len));
    }
    if (state)
        ak_json_set_str(b, "state", state);
    if (note)
        ak_json_set_str(b, "note", note);
    int rc = ak_cli_call_json(cli, CMD, "POST", path, b, &ans);
    ak_json_free(ans);
    ak_json_free(b);
    free(path);
    return rc;
}

/* The command as shown on the terminal: redacted like the output (a template may hold a key). */
static char *shown(const char *command)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    ak_buf_add(&b, command);
    ak_runbook_redact(&b);
    return ak_buf_detach(&b, NULL);
}

/* Asks on the terminal; false unless the answer is y/yes. */
static bool confirm(const char *step, const char *command)
{
    char line[16];

    char *cmd_shown = shown(command);
    printf("step %s will run:\n  %s\nrun this? [y/N] ", step, cmd_shown);
    free(cmd_shown);
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin))
        return false;
    return strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 || strcmp(line, "Y\n") == 0;
}

static int64_t step_ms(const struct ak_json *s, const char *k, int64_t def)
{
    int64_t v = ak_json_int(ak_json_get(s, k));
    return v > 0 ? v : def;
}

/* Executes one step (not a task): prints and posts the result with the step's new state. */
static int exec_step(struct ak_cli *cli, unsigned long long id, const struct ak_json *s,
                     const char *by, bool *ret_ok)
{
    const char *sid = ak_json_get_str(s, "id"), *type = ak_json_get_str(s, "type");
    const char *command = ak_json_get_str(s, "command");
    int64_t timeout = step_ms(s, "timeout_ms", DEFAULT_TIMEOUT_MS);
    struct run_result res = {0};

    char *cmd_shown = shown(command);
    printf("-> %s %s: %s\n", type, sid, cmd_shown);
    free(cmd_shown);
    fflush(stdout);
    if (ak_streq(type, "wait"))
        run_wait(command, timeout, step_ms(s, "interval_ms", DEFAULT_INTERVAL_MS), &res);
    else
        run_command(command, timeout, &res);
    if (res.output.len)
        printf("%s%s", res.output.buf, ak_endswith(res.output.buf, "\n") ? "" : "\n");
    printf("<- %s %s: exit %d (%lld ms)\n", type, sid, res.exit_code,
           (long long)res.duration_ms);
    *ret_ok = res.exit_code == 0;
    int rc = post_event(cli, id, sid, type, by, &res, *ret_ok ? "done" : "failed", NULL);
    run_result_release(&res);
    return rc;
}

static bool rollback_undoes(const struct ak_json *rbstep, const char *sid)
{
    const struct ak_json *of = ak_json_get(rbstep, "rollback_of");
    for (size_t i = 0; i < ak_json_len(of); i++)
        if (ak_streq(ak_json_str(ak_json_at(of, i)), sid))
            return true;
    return false;
}

/* The run step sid failed: runs every rollback step that undoes it, in template order. */
static int roll_back(struct ak_cli *cli, unsigned long long id, const struct ak_json *rb,
                     const char *sid, const char *by)
{
    const struct ak_json *steps = ak_json_get(rb, "steps");
    size_t n = 0;
    bool all_ok = true;
    int rc = AK_EXIT_OK;

    for (size_t i = 0; i < ak_json_len(steps) && rc == AK_EXIT_OK; i++) {
        const struct ak_json *s = ak_json_at(steps, i);
        bool ok = false;
        if (!ak_streq(ak_json_get_str(s, "type"), "rollback") || !rollback_undoes(s, sid))
            continue;
        if (!n++)
            printf("step %s failed: rolling back\n", sid);
        rc = exec_step(cli, id, s, by, &ok);
        all_ok = all_ok && ok;
    }
    if (!n) {
        printf("step %s failed; the runbook has no rollback step for it\n", sid);
        return rc;
    }
    if (rc == AK_EXIT_OK && all_ok)
        rc = post_event(cli, id, sid, "note", by, NULL, "rolled-back",
                        "rolled back after the failure");
    return rc;
}

int ak_cli_rb_run(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"yes", no_argument, NULL, 'y'},
                                         {"by", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    bool dry = false, yes = false, ok = false;
    const char *by = NULL;
    struct ak_json *rb = NULL;
    uint64_t id = 0;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "y", opts, NULL)) != -1) {
        switch (c) {
        case 'n': dry = true; break;
        case 'y': yes = true; break;
        case 'b': by = optarg; break;
        default: return ak_cli_usage(CMD, "bad option");
        }
    }
    if (optind + 2 != argc || ak_parse_u64(argv[optind], 1, INT64_MAX, &id) < 0)
        return ak_cli_usage(CMD, "run needs a numeric runbook ID and a STEP id");
    const char *sid = argv[optind + 1];
    by = ak_cli_user(by);
    if ((rc = ak_cli_rb_get(cli, (unsigned long long)id, &rb)) != AK_EXIT_OK)
        return rc;
    const struct ak_json *s = find_step(rb, sid);
    const char *type = ak_json_get_str(s, "type"), *command = ak_json_get_str(s, "command");
    if (!s) {
        fprintf(stderr, "asakai %s: runbook #%llu has no step '%s'\n", CMD,
                (unsigned long long)id, sid);
        rc = AK_EXIT_USAGE;
    } else if (!command || !*command || ak_streq(type, "task")) {
        fprintf(stderr, "asakai %s: step %s is a %s without a command: mark it with "
                "'asakai runbook done %llu %s'\n", CMD, sid, type ? type : "step",
                (unsigned long long)id, sid);
        rc = AK_EXIT_USAGE;
    } else if (dry) {
        char *cmd_shown = shown(command);
        printf("dry run: step %s (%s) would run:\n  %s\n", sid, type, cmd_shown);
        free(cmd_shown);
        rc = post_event(cli, (unsigned long long)id, sid, "dry-run", by, NULL, NULL,
                        "dry run: nothing executed");
    } else if (!yes && !isatty(0)) {
        fprintf(stderr, "asakai %s: refusing to run step %s without a terminal to confirm on; "
                "pass --yes\n", CMD, sid);
        rc = AK_EXIT_USAGE;
    } else if (!yes && !confirm(sid, command)) {
        printf("not run\n");
        rc = AK_EXIT_FAIL;
    } else {
        rc = exec_step(cli, (unsigned long long)id, s, by, &ok);
        if (rc == AK_EXIT_OK && !ok && ak_streq(type, "run"))
            rc = roll_back(cli, (unsigned long long)id, rb, sid, by);
        if (rc == AK_EXIT_OK && !ok)
            rc = AK_EXIT_FAIL;
    }
    ak_json_free(rb);
    return rc;
}
