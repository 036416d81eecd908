/* commands_note.c — the team memory: `asakai note add|list` and `asakai search`. A note's text
 * comes from --file, else stdin when it is not a terminal, else $EDITOR on a temporary file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "cli.h"
#include "../core/ak_banned.h"

#define NOTE_MAX (64 * 1024)

static int read_stream(FILE *f, const char *what, struct ak_buf *out)
{
    char chunk[8192];
    size_t n;

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (ak_buf_addn(out, chunk, n) < 0) {
            fprintf(stderr, "asakai note: %s is over 64 KiB; a note is shorter\n", what);
            return AK_EXIT_USAGE;
        }
    if (ferror(f)) {
        fprintf(stderr, "asakai note: error reading %s\n", what);
        return AK_EXIT_FAIL;
    }
    return AK_EXIT_OK;
}

static int read_file(const char *path, struct ak_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "asakai note: cannot read %s: %s\n", path, strerror(errno));
        return AK_EXIT_FAIL;
    }
    int rc = read_stream(f, path, out);
    fclose(f);
    return rc;
}

/* $VISUAL / $EDITOR (default vi) on a fresh temporary file, then its contents. */
static int from_editor(struct ak_buf *out)
{
    const char *ed = getenv("VISUAL");
    char path[] = "/tmp/asakai-note-XXXXXX";
    int fd, status = 0, rc;
    pid_t pid;

    if (!ed || !*ed)
        ed = getenv("EDITOR");
    if (!ed || !*ed)
        ed = "vi";
    if ((fd = mkstemp(path)) < 0) {
        fprintf(stderr, "asakai note: cannot create a temporary file: %s\n", strerror(errno));
        return AK_EXIT_FAIL;
    }
    close(fd);
    pid = fork();
    if (pid == 0) {
        /* through the shell: EDITOR may hold arguments ("code --wait") */
        execl("/bin/sh", "sh", "-c", "$0 \"$1\"", ed, path, (char *)NULL);
        _exit(127);
    }
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "asakai note: the editor (%s) failed; nothing saved\n", ed);
        rc = AK_EXIT_FAIL;
    } else
        rc = read_file(path, out);
    unlink(path);
    return rc;
}

static bool blank(const char *s)
{
    return strspn(s, " \t\r\n") == strlen(s);
}

static int note_add(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"tag", required_argument, NULL, 't'},
                                         {"maint", required_argument, NULL, 'm'},
                                         {"runbook", required_argument, NULL, 'r'},
                                         {"file", required_argument, NULL, 'f'},
                                         {"by", required_argument, NULL, 'b'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_json *body = ak_json_new_obj(), *tags = ak_json_new_arr(), *j = NULL;
    struct ak_buf text = AK_BUF_INIT(NOTE_MAX);
    const char *file = NULL, *by = NULL;
    uint64_t maint = 0, rb = 0;
    int c, rc = AK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 't': ak_json_append(tags, ak_json_new_str(optarg)); break;
        case 'm':
        case 'r':
            if (ak_parse_u64(optarg, 1, INT64_MAX, c == 'm' ? &maint : &rb) < 0) {
                rc = ak_cli_usage("note", "--maint and --runbook take an id");
                goto out;
            }
            break;
        case 'f': file = optarg; break;
        case 'b': by = optarg; break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out)) {
                rc = AK_EXIT_USAGE;
                goto out;
            }
            break;
        default: rc = ak_cli_usage("note", "bad option"); goto out;
        }
    }
    if (optind != argc) {
        rc = ak_cli_usage("note", "add takes its text from --file, stdin or $EDITOR");
        goto out;
    }
    if (file)
        rc = strcmp(file, "-") == 0 ? read_stream(stdin, "stdin", &text) : read_file(file, &text);
    else if (!isatty(0))
        rc = read_stream(stdin, "stdin", &text);
    else
        rc = from_editor(&text);
    if (rc != AK_EXIT_OK)
        goto out;
    if (blank(text.buf)) {
        fprintf(stderr, "asakai note: the note is empty; nothing saved\n");
        rc = AK_EXIT_USAGE;
        goto out;
    }
    ak_json_set_str(body, "text", text.buf);
    ak_json_set(body, "tags", ak_json_ref(tags));
    if (maint)
        ak_json_set_int(body, "maint_id", (int64_t)maint);
    if (rb)
        ak_json_set_int(body, "runbook_id", (int64_t)rb);
    ak_json_set_str(body, "by", ak_cli_user(by));
    rc = ak_cli_call_json(cli, "note", "POST", "/api/v1/notes", body, &j);
    if (rc != AK_EXIT_OK)
        goto out;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    else
        printf("note #%lld saved\n", (long long)ak_json_int(ak_json_get(j, "id")));
out:
    ak_json_free(j);
    ak_json_free(tags);
    ak_json_free(body);
    ak_buf_release(&text);
    return rc;
}

static void print_tags(const struct ak_json *tags)
{
    for (size_t i = 0; i < ak_json_len(tags); i++)
        printf("%s#%s", i ? " " : "", ak_json_str(ak_json_at(tags, i)));
}

static int note_list(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"tag", required_argument, NULL, 't'},
                                         {"maint", required_argument, NULL, 'm'},
                                         {"runbook", required_argument, NULL, 'r'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    enum ak_out out = ak_cli_default_output();
    struct ak_buf path = AK_BUF_INIT(4096);
    struct ak_json *j = NULL;
    int c;

    ak_buf_add(&path, "/api/v1/notes?limit=1000");
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        char *e = c == 'o' ? NULL : ak_url_escape(optarg);
        switch (c) {
        case 't': ak_buf_addf(&path, "&tag=%s", e); break;
        case 'm': ak_buf_addf(&path, "&maint=%s", e); break;
        case 'r': ak_buf_addf(&path, "&runbook=%s", e); break;
        case 'o':
            if (ak_cli_parse_output(optarg, &out)) {
                ak_buf_release(&path);
                return AK_EXIT_USAGE;
            }
            break;
        default:
            free(e);
            ak_buf_release(&path);
            return ak_cli_usage("note", "bad option");
        }
        free(e);
    }
    int rc = optind == argc ? ak_cli_call_json(cli, "note", "GET", path.buf, NULL, &j)
                            : ak_cli_usage("note", "list takes no argument");
    ak_buf_release(&path);
    if (rc != AK_EXIT_OK)
        return rc;
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    for (size_t i = 0; out == AK_OUT_TABLE && i < ak_json_len(j); i++) {
        const struct ak_json *n = ak_json_at(j, i);
        printf("#%lld  %s  by %s  ", (long long)ak_json_int(ak_json_get(n, "id")),
               ak_cli_str_or(n, "created_at", "-"), ak_cli_str_or(n, "by", "-"));
        print_tags(ak_json_get(n, "tags"));
        if (ak_json_is_int(ak_json_get(n, "maint_id")))
            printf("  maintenance #%lld", (long long)ak_json_int(ak_json_get(n, "maint_id")));
        if (ak_json_is_int(ak_json_get(n, "runbook_id")))
            printf("  runbook #%lld", (long long)ak_json_int(ak_json_get(n, "runbook_id")));
        printf("\n  %s\n\n", ak_cli_str_or(n, "text", ""));
    }
    if (out == AK_OUT_TABLE && !ak_json_len(j))
        printf("(no notes)\n");
    ak_json_free(j);
    return AK_EXIT_OK;
}

int ak_cmd_note(int argc, char **argv, struct ak_cli *cli)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return note_add(argc - 1, argv + 1, cli);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return note_list(argc - 1, argv + 1, cli);
    return ak_cli_usage("note", "expected 'add' or 'list'");
}

/* ---- search -------------------------------------------------------------------------------- */

static void add_arg(struct ak_buf *path, const char *name, const char *v)
{
    char *e = ak_url_escape(v);
    ak_buf_addf(path, "&%s=%s", name, e);
    free(e);
}

int ak_cmd_search(int argc, char **argv, struct ak_cli *cli)
{
    static const struct option opts[] = {{"kind", required_argument, NULL, 'k'},
                                         {"tag", required_argument, NULL, 't'},
                                         {"since", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 'u'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    static const char *const names[] = {['k'] = "kind", ['t'] = "tag", ['s'] = "since",
                                        ['u'] = "until", ['n'] = "limit"};
    enum ak_out out = ak_cli_default_output();
    struct ak_buf path = AK_BUF_INIT(8192), q = AK_BUF_INIT(1000);
    struct ak_json *j = NULL;
    int c, rc = AK_EXIT_OK;

    optind = 1;
    while (rc == AK_EXIT_OK && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'o')
            rc = ak_cli_parse_output(optarg, &out);
        else if (c >= 0 && (size_t)c < AK_ARRAY_SIZE(names) && names[c])
            add_arg(&path, names[c], optarg);
        else
            rc = ak_cli_usage("search", "bad option");
    }
    for (int i = optind; rc == AK_EXIT_OK && i < argc; i++)
        if (ak_buf_add(&q, i > optind ? " " : "") < 0 || ak_buf_add(&q, argv[i]) < 0)
            rc = ak_cli_usage("search", "the query is at most 1000 characters");
    if (rc == AK_EXIT_OK && !q.len)
        rc = ak_cli_usage("search", "what to look for: asakai search WORDS...");
    if (rc != AK_EXIT_OK)
        goto out;
    char *eq = ak_url_escape(q.buf);
    char *full = ak_xasprintf("/api/v1/search?q=%s%s", eq, path.buf);
    free(eq);
    rc = ak_cli_call_json(cli, "search", "GET", full, NULL, &j);
    free(full);
    if (rc != AK_EXIT_OK)
        goto out;
    const struct ak_json *hits = ak_json_get(j, "hits");
    if (out == AK_OUT_JSON)
        ak_cli_print_json(j);
    for (size_t i = 0; out == AK_OUT_TABLE && i < ak_json_len(hits); i++) {
        const struct ak_json *h = ak_json_at(hits, i);
        printf("%-11s #%-5lld %-10.10s %s\n", ak_cli_str_or(h, "kind", "-"),
               (long long)ak_json_int(ak_json_get(h, "id")), ak_cli_str_or(h, "at", "-"),
               ak_cli_str_or(h, "title", ""));
        printf("    %s\n", ak_cli_str_or(h, "snippet", ""));
    }
    if (out == AK_OUT_TABLE && !ak_json_len(hits))
        printf("(nothing found for \"%s\")\n", q.buf);
out:
    ak_json_free(j);
    ak_buf_release(&path);
    ak_buf_release(&q);
    return rc;
}
