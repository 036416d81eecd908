/* handlers_runbook.c — the runbook API: create an instance from a template (optionally from a
 * maintenance record), list, show, mark steps done, record what the CLI ran.
 *
 * The CLI, not the daemon, executes step commands: it runs on the operator's machine with the
 * operator's credentials and shell, and posts the (redacted) result here. The daemon redacts
 * again before storing: the run record must never hold a secret, whatever client posted it.
 * Writes open their own store connection, like the acknowledgement API. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_runbook.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "http_int.h"
#include "../core/ak_banned.h"

#define TEMPLATE_FILE_MAX (1024 * 1024)
#define TEMPLATE_NAME_MAX 64
#define VARS_MAX 100
#define VAR_VALUE_MAX 4096
#define OUTPUT_MAX (64 * 1024)
#define NOTE_MAX 4000
#define BY_MAX 100

/* ---- helpers shared with the export and notes handlers ------------------------------------ */

void ak__http_rb_fmt_local(const struct ak_tz *tz, int64_t ms, char *buf, size_t n)
{
    int off = tz ? ak_tz_offset(tz, ms, NULL) : 0;
    int a = off < 0 ? -off : off;
    char b[AK_TIME_RFC3339_LEN];
    size_t l;

    ak_time_fmt_rfc3339(ms + (int64_t)off * 1000, b, sizeof(b));
    l = strlen(b);
    if (l && b[l - 1] == 'Z')
        b[l - 1] = 0;
    snprintf(buf, n, "%s%c%02d:%02d", b, off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
}

void ak__http_rb_fmt_human(const struct ak_tz *tz, int64_t ms, char *buf, size_t n)
{
    const char *abbr = NULL;
    char iso[48];

    if (tz)
        ak_tz_offset(tz, ms, &abbr);
    ak__http_rb_fmt_local(tz, ms, iso, sizeof(iso));
    iso[10] = ' ';
    snprintf(buf, n, "%.16s %s", iso, abbr && *abbr ? abbr : "UTC");
}

/* "42/steps/x/done" -> 42 and the rest after the first '/' ("" when none); false when the id
 * is not a number. */
static bool split_id(const char *tail, int64_t *ret_id, const char **ret_rest)
{
    char idbuf[24];
    const char *slash = strchr(tail, '/');
    size_t n = slash ? (size_t)(slash - tail) : strlen(tail);
    uint64_t id;

    if (n == 0 || n >= sizeof(idbuf))
        return false;
    memcpy(idbuf, tail, n);
    idbuf[n] = 0;
    if (ak_parse_u64(idbuf, 1, INT64_MAX, &id) < 0)
        return false;
    *ret_id = (int64_t)id;
    *ret_rest = slash ? slash + 1 : "";
    return true;
}

static bool name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int load_tz(struct ak_http_req *rq, const char *name, struct ak_tz **ret)
{
    struct ak_buf err = AK_BUF_INIT(512);
    int r = ak_tz_load(name, NULL, ret, &err);
    if (r < 0)
        ak__http_error(rq, 400, "time zone \"%s\": %s", name, err.buf);
    ak_buf_release(&err);
    return r;
}

/* ---- templates ---------------------------------------------------------------------------- */

/* Reads dir/NAME.md into *ret (NUL-terminated). AK_ENOTFOUND when absent. */
static int read_template(const char *dir, const char *name, char **ret, size_t *ret_len,
                         struct ak_buf *err)
{
    char *path = ak_xasprintf("%s/%s.md", dir, name), *text = NULL;
    struct stat sb;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = AK_OK;

    if (fd < 0) {
        r = errno == ENOENT ? AK_ENOTFOUND
                            : ak_err(err, AK_EIO, "cannot read %s: %s.", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > TEMPLATE_FILE_MAX) {
        r = ak_err(err, AK_EINVAL, "%s is not a regular file of at most 1 MiB.", path);
        goto out;
    }
    text = ak_xmalloc((size_t)sb.st_size + 1);
    while (got < (size_t)sb.st_size) {
        ssize_t k = read(fd, text + got, (size_t)sb.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            r = ak_err(err, AK_EIO, "cannot read %s: %s.", path, k < 0 ? strerror(errno) : "short");
            goto out;
        }
        got += (size_t)k;
    }
    text[got] = 0;
    *ret = text;
    *ret_len = got;
    text = NULL;
out:
    if (fd >= 0)
        close(fd);
    free(text);
    free(path);
    return r;
}

/* The team's folder first, then the shipped templates. */
static int load_template(const struct ak_cfg *cfg, const char *name, struct ak_rb_template *ret,
                         char **ret_text, struct ak_buf *err)
{
    const char *dirs[] = {cfg->runbook_dir, cfg->runbook_shipped_dir};
    char *text = NULL;
    size_t len = 0;
    int r = AK_ENOTFOUND;

    for (size_t i = 0; i < AK_ARRAY_SIZE(dirs) && r == AK_ENOTFOUND; i++)
        if (dirs[i] && *dirs[i])
            r = read_template(dirs[i], name, &text, &len, err);
    if (r == AK_ENOTFOUND)
        return ak_err(err, AK_ENOTFOUND, "no runbook template \"%s\" in %s%s%s.", name,
                      cfg->runbook_dir ? cfg->runbook_dir : "",
                      cfg->runbook_dir ? " or " : "",
                      cfg->runbook_shipped_dir ? cfg->runbook_shipped_dir : "(none)");
    if (r == AK_OK)
        r = ak_runbook_parse(name, text, len, ret, err);
    if (r == AK_OK)
        *ret_text = text;
    else
        free(text);
    return r;
}

static const struct ak_rb_step *tmpl_step(const struct ak_rb_template *t, const char *id)
{
    for (size_t i = 0; t && i < t->n_steps; i++)
        if (ak_streq(t->steps[i].id, id))
            return &t->steps[i];
    return NULL;
}

static bool tmpl_has_var(const struct ak_rb_template *t, const char *name)
{
    for (size_t i = 0; i < t->n_vars; i++)
        if (ak_streq(t->vars[i].name, name))
            return true;
    return false;
}

/* The step ids rollback step index i undoes: its rollback_of, else every earlier run step. */
static struct ak_json *rollback_of_json(const struct ak_rb_template *t, size_t i)
{
    struct ak_json *a = ak_json_new_arr();
    const struct ak_rb_step *s = &t->steps[i];

    if (s->n_rollback_of) {
        for (size_t k = 0; k < s->n_rollback_of; k++)
            ak_json_append(a, ak_json_new_str(s->rollback_of[k]));
        return a;
    }
    for (size_t k = 0; k < i; k++)
        if (t->steps[k].type == AK_STEP_RUN)
            ak_json_append(a, ak_json_new_str(t->steps[k].id));
    return a;
}

/* ---- the instance as JSON ----------------------------------------------------------------- */

static struct ak_json *step_json(const struct ak_rb_step_row *s, const struct ak_rb_template *t,
                                 const struct ak_tz *tz)
{
    struct ak_json *o = ak_json_new_obj();
    char due[48];
    const struct ak_rb_step *ts = tmpl_step(t, s->step_id);

    ak__http_rb_fmt_local(tz, s->due_at, due, sizeof(due));
    ak_json_set_str(o, "id", s->step_id);
    ak_json_set_int(o, "seq", s->seq);
    ak_json_set_str(o, "title", s->title);
    ak_json_set_str(o, "owner", s->owner);
    ak_json_set_str(o, "type", s->type);
    ak_json_set_str(o, "due", due);
    ak_json_set_time(o, "due_utc", s->due_at);
    ak_json_set_str(o, "state", s->state);
    ak_json_set_str(o, "command", s->command);
    ak_json_set_str(o, "body", s->body);
    ak_json_set_time(o, "done_at", s->done_at);
    ak_json_set_str(o, "done_by", s->done_by);
    ak_json_set_str(o, "note", s->note);
    if (ts) {
        ak_json_set_str(o, "offset", ts->offset);
        if (ts->command) {
            ak_json_set_int(o, "timeout_ms", ts->timeout_ms);
            ak_json_set_int(o, "interval_ms", ts->interval_ms);
        }
        if (ts->type == AK_STEP_ROLLBACK)
            ak_json_set(o, "rollback_of", rollback_of_json(t, (size_t)(ts - t->steps)));
    }
    return o;
}

static struct ak_json *event_json(const struct ak_rb_event *e)
{
    struct ak_json *o = ak_json_new_obj();
    ak_json_set_int(o, "id", e->id);
    ak_json_set_str(o, "step", e->step_id);
    ak_json_set_str(o, "action", e->action);
    ak_json_set_str(o, "by", e->by);
    ak_json_set_time(o, "at", e->at);
    if (e->exit_code >= 0 || ak_streq(e->action, "run") || ak_streq(e->action, "check") ||
        ak_streq(e->action, "wait") || ak_streq(e->action, "rollback"))
        ak_json_set_int(o, "exit_code", e->exit_code);
    else
        ak_json_set(o, "exit_code", ak_json_new_null());
    ak_json_set_int(o, "duration_ms", e->duration_ms);
    ak_json_set_str(o, "output", e->output);
    ak_json_set_str(o, "note", e->note);
    return o;
}

/* One instance as JSON: with its steps (from the store, completed from the template it was
 * made of: offsets, timeouts, what each rollback undoes) and, when full, the run record. */
static struct ak_json *instance_json(struct ak_store *st, const struct ak_rb_instance *rb,
                                     bool full)
{
    struct ak_json *o = ak_json_new_obj(), *sa = ak_json_new_arr();
    struct ak_rb_template t = {0};
    struct ak_rb_step_row *steps = NULL;
    struct ak_rb_event *evs = NULL;
    struct ak_tz *tz = NULL;
    size_t ns = 0, ne = 0, done = 0, todo = 0;
    bool have_t = false;
    int64_t next_due = 0;
    char at[48];

    ak_tz_load(rb->tz, NULL, &tz, NULL); /* unknown now: shown in UTC */
    if (rb->template_text)
        have_t = ak_runbook_parse(rb->template_name, rb->template_text,
                                  strlen(rb->template_text), &t, NULL) == AK_OK;
    ak__http_rb_fmt_local(tz, rb->at_ms, at, sizeof(at));
    ak_json_set_int(o, "id", rb->id);
    ak_json_set_str(o, "template", rb->template_name);
    ak_json_set_str(o, "title", rb->title);
    ak_json_set_str(o, "owner", rb->owner);
    ak_json_set_str(o, "at", at);
    ak_json_set_time(o, "at_utc", rb->at_ms);
    ak_json_set_str(o, "tz", rb->tz);
    if (rb->maint_id)
        ak_json_set_int(o, "maint_id", rb->maint_id);
    else
        ak_json_set(o, "maint_id", ak_json_new_null());
    ak_json_set_str(o, "status", rb->status);
    ak_json_set_str(o, "created_by", rb->created_by);
    ak_json_set_time(o, "created_at", rb->created_at);
    struct ak_json *vars = rb->vars ? ak_json_parse(rb->vars, strlen(rb->vars), NULL) : NULL;
    ak_json_set(o, "vars", vars ? vars : ak_json_new_obj());
    if (ak_store_rb_steps(st, rb->id, &steps, &ns) == AK_OK) {
        for (size_t i = 0; i < ns; i++) {
            ak_json_append(sa, step_json(&steps[i], have_t ? &t : NULL, tz));
            if (ak_streq(steps[i].state, "done") || ak_streq(steps[i].state, "skipped"))
                done++;
            else if (!ak_streq(steps[i].type, "rollback")) {
                todo++;
                if (!next_due || steps[i].due_at < next_due)
                    next_due = steps[i].due_at;
            }
        }
    }
    ak_json_set_int(o, "steps_done", (int64_t)done);
    ak_json_set_int(o, "steps_todo", (int64_t)todo);
    ak_json_set_time(o, "next_due", next_due);
    ak_json_set(o, "steps", sa);
    if (full) {
        struct ak_json *ea = ak_json_new_arr();
        if (ak_store_rb_events(st, rb->id, &evs, &ne) == AK_OK)
            for (size_t i = 0; i < ne; i++)
                ak_json_append(ea, event_json(&evs[i]));
        ak_json_set(o, "run_record", ea);
        if (have_t)
            ak_json_set_str(o, "intro", t.intro);
    }
    for (size_t i = 0; i < ns; i++)
        ak_rb_step_row_release(&steps[i]);
    free(steps);
    for (size_t i = 0; i < ne; i++)
        ak_rb_event_release(&evs[i]);
    free(evs);
    ak_rb_template_release(&t);
    ak_tz_free(tz);
    return o;
}

/* Answers instance id (full) from st; 404 when absent. */
static void answer_instance(struct ak_http_req *rq, struct ak_store *st, int64_t id, int status)
{
    struct ak_rb_instance rb = {0};
    int r = ak_store_rb_get(st, id, &rb);

    if (r < 0)
        ak__http_error(rq, ak_err_http_status(r), "runbook %lld: %s", (long long)id,
                       ak_strerror(r));
    else
        ak__http_json(rq, status, instance_json(st, &rb, true));
    ak_rb_instance_release(&rb);
}

/* ---- POST /api/v1/runbooks ---------------------------------------------------------------- */

struct vars {
    char **kv; /* "k=v" */
    size_t n;
};

static void vars_add(struct vars *v, const char *k, const char *val)
{
    v->kv = ak_xrealloc(v->kv, (v->n + 1) * sizeof(*v->kv));
    v->kv[v->n++] = ak_xasprintf("%s=%s", k, val);
}

static void vars_release(struct vars *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->kv[i]);
    free(v->kv);
    memset(v, 0, sizeof(*v));
}

/* The shipped templates name the resource by what it is: the record's first resource fills
 * instance_id (EC2), cluster (ElastiCache), db_instance and db_arn (RDS: the name after ":db:"
 * of an ARN). */
static void resource_aliases(const struct ak_rb_template *t, const struct ak_maint_rec *rec,
                             struct vars *v)
{
    const char *res = rec->n_resources ? rec->resources[0] : NULL, *db;

    if (!res)
        return;
    if (ak_streq(rec->service, "ec2") && tmpl_has_var(t, "instance_id"))
        vars_add(v, "instance_id", res);
    if (ak_streq(rec->service, "elasticache") && tmpl_has_var(t, "cluster"))
        vars_add(v, "cluster", res);
    if (!ak_streq(rec->service, "rds"))
        return;
    db = ak_startswith(res, "arn:") && strstr(res, ":db:") ? strstr(res, ":db:") + 4 : res;
    if (tmpl_has_var(t, "db_instance"))
        vars_add(v, "db_instance", db);
    if (ak_startswith(res, "arn:") && tmpl_has_var(t, "db_arn"))
        vars_add(v, "db_arn", res);
}

/* The variables a maintenance record gives, for those the template declares. */
static void vars_from_record(const struct ak_rb_template *t, const struct ak_maint_rec *rec,
                             const struct ak_tz *tz, struct vars *v)
{
    struct {
        const char *name;
        int64_t ms;
    } times[] = {{"window_start", rec->window_start},
                 {"window_end", rec->window_end},
                 {"deadline", rec->deadline}};
    const char *strs[][2] = {{"account", rec->account}, {"region", rec->region},
                             {"service", rec->service}, {"maint_title", rec->title}};
    char buf[64], name[64];

    if (rec->n_resources && tmpl_has_var(t, "resource"))
        vars_add(v, "resource", rec->resources[0]);
    if (rec->n_resources && tmpl_has_var(t, "resources")) {
        struct ak_buf all = AK_BUF_INIT(VAR_VALUE_MAX);
        for (size_t i = 0; i < rec->n_resources; i++)
            if (ak_buf_add(&all, i ? "," : "") < 0 || ak_buf_add(&all, rec->resources[i]) < 0)
                break;
        vars_add(v, "resources", all.buf);
        ak_buf_release(&all);
    }
    for (size_t i = 0; i < AK_ARRAY_SIZE(times); i++) {
        if (!times[i].ms)
            continue;
        if (tmpl_has_var(t, times[i].name)) {
            ak__http_rb_fmt_local(tz, times[i].ms, buf, sizeof(buf));
            vars_add(v, times[i].name, buf);
        }
        snprintf(name, sizeof(name), "%s_local", times[i].name);
        if (tmpl_has_var(t, name)) {
            ak__http_rb_fmt_human(tz, times[i].ms, buf, sizeof(buf));
            vars_add(v, name, buf);
        }
    }
    for (size_t i = 0; i < AK_ARRAY_SIZE(strs); i++)
        if (strs[i][1] && tmpl_has_var(t, strs[i][0]))
            vars_add(v, strs[i][0], strs[i][1]);
    resource_aliases(t, rec, v);
    if (rec->window_start && rec->window_end && tmpl_has_var(t, "window")) {
        char a[64], b[64];
        ak__http_rb_fmt_human(tz, rec->window_start, a, sizeof(a));
        ak__http_rb_fmt_human(tz, rec->window_end, b, sizeof(b));
        char *w = ak_xasprintf("%s - %s", a, b);
        vars_add(v, "window", w);
        free(w);
    }
    if (tmpl_has_var(t, "maint_id")) {
        snprintf(buf, sizeof(buf), "%lld", (long long)rec->id);
        vars_add(v, "maint_id", buf);
    }
}

/* The request's "vars" object (string, number or boolean values) after the record's. */
static bool vars_from_body(struct ak_http_req *rq, const struct ak_json *jv, struct vars *v)
{
    if (!jv || ak_json_is_null(jv))
        return true;
    if (!ak_json_is_obj(jv) || ak_json_len(jv) > VARS_MAX) {
        ak__http_error(rq, 400, "\"vars\" must be an object of at most %d names", VARS_MAX);
        return false;
    }
    for (void *it = ak_json_iter(jv); it; it = ak_json_iter_next(jv, it)) {
        const char *k = ak_json_iter_key(it);
        const struct ak_json *x = ak_json_iter_value(it);
        char num[32];
        const char *s = ak_json_str(x);
        if (!s && ak_json_is_int(x)) {
            snprintf(num, sizeof(num), "%lld", (long long)ak_json_int(x));
            s = num;
        } else if (!s && ak_json_is_bool(x))
            s = ak_json_bool(x) ? "true" : "false";
        if (!s || strlen(s) > VAR_VALUE_MAX || !*k || strlen(k) > 64 ||
            strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                strlen(k)) {
            ak__http_error(rq, 400, "\"vars\".%.64s: a name of letters, digits, _ and - with a "
                           "string value of at most %d bytes", k, VAR_VALUE_MAX);
            return false;
        }
        vars_add(v, k, s);
    }
    return true;
}

/* The final value of each declared variable ("k=v" list, later wins), as a JSON object. */
static char *vars_json(const struct vars *v)
{
    struct ak_json *o = ak_json_new_obj();
    for (size_t i = 0; i < v->n; i++) {
        const char *eq = strchr(v->kv[i], '=');
        char *k = ak_xstrndup(v->kv[i], (size_t)(eq - v->kv[i]));
        ak_json_set_str(o, k, eq + 1);
        free(k);
    }
    char *s = ak_json_dump(o, AK_JSON_COMPACT | AK_JSON_SORT);
    ak_json_free(o);
    return s;
}

/* s with {{name}} replaced by the variables' values (unknown names kept as written). */
static char *expand(const char *s, const struct vars *v)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *p = s;

    while (p && *p) {
        const char *o = strstr(p, "{{"), *c = o ? strstr(o + 2, "}}") : NULL;
        if (!o || !c) {
            ak_buf_add(&b, p);
            break;
        }
        ak_buf_addn(&b, p, (size_t)(o - p));
        const char *val = NULL;
        size_t nl = (size_t)(c - o - 2);
        for (size_t i = v->n; i-- > 0 && !val;)
            if (strncmp(v->kv[i], o + 2, nl) == 0 && v->kv[i][nl] == '=')
                val = v->kv[i] + nl + 1;
        if (val)
            ak_buf_add(&b, val);
        else
            ak_buf_addn(&b, o, (size_t)(c + 2 - o));
        p = c + 2;
    }
    return ak_buf_detach(&b, NULL);
}

struct create_req {
    const char *tmpl_name, *at, *tz_name, *by;
    int64_t maint_id;
    struct ak_rb_template t;
    char *text;
    struct ak_tz *tz;
    struct ak_maint_rec rec;
    struct vars vars;
    struct ak_rb_plan plan;
    int64_t at_ms;
};

static void create_req_release(struct create_req *c)
{
    ak_rb_template_release(&c->t);
    free(c->text);
    ak_tz_free(c->tz);
    ak_maint_rec_release(&c->rec);
    vars_release(&c->vars);
    ak_rb_plan_release(&c->plan);
}

/* Parses the body, loads template, zone and record, and plans; false after answering. */
static bool create_prepare(struct ak_http_req *rq, const struct ak_json *b, struct ak_store *st,
                           struct create_req *c)
{
    struct ak_buf err = AK_BUF_INIT(4096);
    bool ok = false;
    int r;

    c->tmpl_name = ak_json_get_str(b, "template");
    c->at = ak_json_get_str(b, "at");
    c->tz_name = ak_json_get_str(b, "tz");
    c->by = ak_json_get_str(b, "by");
    c->maint_id = ak_json_int(ak_json_get(b, "maint_id"));
    if (!c->tz_name || !*c->tz_name)
        c->tz_name = rq->cfg->digest_tz ? rq->cfg->digest_tz : "UTC";
    if (!name_ok(c->tmpl_name, TEMPLATE_NAME_MAX)) {
        ak__http_error(rq, 400, "\"template\": a template name (a-z, 0-9, -) is required");
        goto out;
    }
    if ((c->by && strlen(c->by) > BY_MAX) || c->maint_id < 0) {
        ak__http_error(rq, 400, "\"by\" is at most %d characters; \"maint_id\" a record id",
                       BY_MAX);
        goto out;
    }
    if (load_tz(rq, c->tz_name, &c->tz) < 0)
        goto out;
    r = load_template(rq->cfg, c->tmpl_name, &c->t, &c->text, &err);
    if (r < 0) {
        ak__http_error(rq, r == AK_ENOTFOUND ? 404 : 422, "%s", err.buf);
        goto out;
    }
    if (c->maint_id) {
        r = ak_store_rec_get(st, c->maint_id, &c->rec);
        if (r < 0) {
            ak__http_error(rq, ak_err_http_status(r), "maintenance record %lld: %s",
                           (long long)c->maint_id, ak_strerror(r));
            goto out;
        }
        vars_from_record(&c->t, &c->rec, c->tz, &c->vars);
    }
    if (!vars_from_body(rq, ak_json_get(b, "vars"), &c->vars))
        goto out;
    if (c->at && *c->at) {
        if (ak_runbook_parse_at(c->at, c->tz, &c->at_ms, &err) < 0) {
            ak__http_error(rq, 400, "\"at\": %s", err.buf);
            goto out;
        }
    } else if (c->rec.window_start || c->rec.deadline) {
        /* the maintenance's own time: the window opens, or the deadline */
        c->at_ms = c->rec.window_start ? c->rec.window_start : c->rec.deadline;
    } else {
        ak__http_error(rq, 400, "\"at\" is required (the event time, e.g. \"2026-12-10 02:00\")"
                       "%s", c->maint_id ? ": the record has no window or deadline" : "");
        goto out;
    }
    r = ak_runbook_plan(&c->t, c->at_ms, c->tz, (const char *const *)c->vars.kv, c->vars.n,
                        &c->plan, &err);
    if (r < 0) {
        ak__http_error(rq, 400, "%s", err.buf);
        goto out;
    }
    ok = true;
out:
    ak_buf_release(&err);
    return ok;
}

static int create_store(struct ak_store *st, struct create_req *c, int64_t *ret_id)
{
    struct ak_rb_instance rb = {0};
    struct ak_rb_step_row *rows = ak_xcalloc(c->t.n_steps ? c->t.n_steps : 1, sizeof(*rows));
    char *vj = vars_json(&c->vars), *title = expand(c->t.title, &c->vars);
    int r;

    if (c->rec.id && c->rec.n_resources && !strstr(title, c->rec.resources[0])) {
        char *t2 = ak_xasprintf("%s: %s", title, c->rec.resources[0]);
        free(title);
        title = t2;
    }
    rb.template_name = (char *)c->tmpl_name;
    rb.title = title;
    rb.owner = c->t.owner;
    rb.at_ms = c->at_ms;
    rb.tz = (char *)ak_tz_name(c->tz);
    rb.vars = vj;
    rb.maint_id = c->maint_id;
    rb.created_by = (char *)(c->by && *c->by ? c->by : "api");
    rb.created_at = ak_now_wall_ms();
    rb.template_text = c->text;
    for (size_t i = 0; i < c->t.n_steps && i < c->plan.n_due; i++) {
        rows[i].seq = (int)i;
        rows[i].step_id = c->t.steps[i].id;
        rows[i].title = c->plan.due[i].title;
        rows[i].owner = c->t.steps[i].owner;
        rows[i].type = (char *)ak_step_type_name(c->t.steps[i].type);
        rows[i].command = c->plan.due[i].command;
        rows[i].body = c->plan.due[i].body;
        rows[i].due_at = c->plan.due[i].due_ms;
    }
    r = ak_store_begin(st);
    if (r == AK_OK)
        r = ak_store_rb_create(st, &rb, rows, c->plan.n_due < c->t.n_steps ? c->plan.n_due
                                                                          : c->t.n_steps,
                               ret_id);
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0)
        ak_store_rollback(st);
    free(rows);
    free(vj);
    free(title);
    return r;
}

static void rb_create(struct ak_http_req *rq)
{
    struct ak_json *b = ak__http_body_object(rq);
    struct create_req c = {0};
    struct ak_store *st = NULL;
    int64_t id = 0;

    if (!b)
        return;
    if (!(st = ak__http_open_store(rq, AK_STORE_WRITE)))
        goto out;
    if (!create_prepare(rq, b, st, &c))
        goto out;
    int r = create_store(st, &c, &id);
    if (r < 0) {
        ak__http_error(rq, ak_err_http_status(r), "cannot create the runbook: %s",
                       ak_strerror(r));
        goto out;
    }
    answer_instance(rq, st, id, 201);
out:
    create_req_release(&c);
    ak_json_free(b);
    ak_store_close(st);
}

/* ---- GET ---------------------------------------------------------------------------------- */

static void rb_list(struct ak_http_req *rq)
{
    struct ak_store *st = ak__http_open_store(rq, AK_STORE_READ);
    struct ak_rb_instance *v = NULL;
    const char *all = ak__http_arg(rq, "all");
    size_t n = 0;

    if (!st)
        return;
    int r = ak_store_rb_list(st, all && (strcmp(all, "1") == 0 || strcmp(all, "true") == 0), 0,
                             &v, &n);
    if (r < 0)
        ak__http_error(rq, ak_err_http_status(r), "cannot list runbooks: %s", ak_strerror(r));
    else {
        struct ak_json *a = ak_json_new_arr();
        for (size_t i = 0; i < n; i++)
            ak_json_append(a, instance_json(st, &v[i], false));
        ak__http_json(rq, 200, a);
    }
    for (size_t i = 0; i < n; i++)
        ak_rb_instance_release(&v[i]);
    free(v);
    ak_store_close(st);
}

void ak__http_runbooks_get(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = NULL;
    const char *rest = "";
    int64_t id = 0;

    if (!tail || !*tail) {
        rb_list(rq);
        return;
    }
    if (!split_id(tail, &id, &rest)) {
        ak__http_error(rq, 400, "'%s' is not a runbook id", tail);
        return;
    }
    if (*rest && strcmp(rest, "export") != 0) {
        ak__http_error(rq, 404, "no such endpoint: %s (GET .../ID or .../ID/export)", rq->path);
        return;
    }
    if (!(st = ak__http_open_store(rq, AK_STORE_READ)))
        return;
    if (*rest)
        ak__http_rb_export(rq, st, id);
    else
        answer_instance(rq, st, id, 200);
    ak_store_close(st);
}

/* ---- POST .../ID/steps/STEP/done and .../ID/events ---------------------------------------- */

/* Closes the instance when every step but the rollbacks is done or skipped. */
static int maybe_close(struct ak_store *st, int64_t id)
{
    struct ak_rb_step_row *s = NULL;
    size_t n = 0;
    bool open = false;
    int r = ak_store_rb_steps(st, id, &s, &n);

    for (size_t i = 0; r == AK_OK && i < n; i++)
        if (!ak_streq(s[i].type, "rollback") && !ak_streq(s[i].state, "done") &&
            !ak_streq(s[i].state, "skipped"))
            open = true;
    for (size_t i = 0; i < n; i++)
        ak_rb_step_row_release(&s[i]);
    free(s);
    if (r == AK_OK && !open && n)
        r = ak_store_rb_set_status(st, id, "done");
    return r;
}

static int step_get(struct ak_store *st, int64_t id, const char *step, struct ak_rb_step_row *ret)
{
    struct ak_rb_step_row *s = NULL;
    size_t n = 0;
    int r = ak_store_rb_steps(st, id, &s, &n), found = AK_ENOTFOUND;

    for (size_t i = 0; r == AK_OK && i < n; i++) {
        if (found == AK_ENOTFOUND && ak_streq(s[i].step_id, step)) {
            *ret = s[i];
            memset(&s[i], 0, sizeof(s[i]));
            found = AK_OK;
        }
        ak_rb_step_row_release(&s[i]);
    }
    free(s);
    return r < 0 ? r : found;
}

/* In one transaction: the event, the step's new state (when state), the instance's status. */
static int record_event(struct ak_store *st, const struct ak_rb_event *e, const char *state,
                        const char *note)
{
    struct ak_rb_step_row s = {0};
    int r = ak_store_begin(st);

    if (r == AK_OK && e->step_id)
        r = step_get(st, e->runbook_id, e->step_id, &s);
    if (r == AK_OK)
        r = ak_store_rb_event_add(st, e, NULL);
    if (r == AK_OK && state) {
        free(s.state);
        s.state = ak_xstrdup(state);
        if (ak_streq(state, "done")) {
            s.done_at = e->at;
            free(s.done_by);
            s.done_by = ak_xstrdup(e->by);
        }
        if (note) {
            free(s.note);
            s.note = ak_xstrdup(note);
        }
        r = ak_store_rb_step_update(st, &s);
    }
    if (r == AK_OK)
        r = maybe_close(st, e->runbook_id);
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0)
        ak_store_rollback(st);
    ak_rb_step_row_release(&s);
    return r;
}

static bool text_ok(const char *s, size_t max)
{
    return !s || strlen(s) <= max;
}

static void step_done(struct ak_http_req *rq, struct ak_store *st, int64_t id, const char *step,
                      const struct ak_json *b)
{
    const char *by = ak_json_get_str(b, "by"), *note = ak_json_get_str(b, "note");
    struct ak_rb_event e = {0};
    struct ak_buf nb = AK_BUF_INIT(NOTE_MAX + 1);

    if (!by || !*by || !text_ok(by, BY_MAX) || !text_ok(note, NOTE_MAX)) {
        ak__http_error(rq, 400, "\"by\" (1..%d chars) is required; \"note\" is at most %d",
                       BY_MAX, NOTE_MAX);
        return;
    }
    if (note) {
        ak_buf_add(&nb, note);
        ak_runbook_redact(&nb);
    }
    e.runbook_id = id;
    e.step_id = (char *)step;
    e.action = (char *)"done";
    e.by = (char *)by;
    e.at = ak_now_wall_ms();
    e.exit_code = -1;
    e.note = note ? nb.buf : NULL;
    int r = record_event(st, &e, "done", e.note);
    if (r < 0)
        ak__http_error(rq, ak_err_http_status(r), "runbook %lld step %s: %s", (long long)id, step,
                       ak_strerror(r));
    else
        answer_instance(rq, st, id, 200);
    ak_buf_release(&nb);
}

static bool action_ok(const char *a)
{
    static const char *const ok[] = {"done", "run", "check", "wait", "rollback", "dry-run",
                                     "note", "skip"};
    for (size_t i = 0; a && i < AK_ARRAY_SIZE(ok); i++)
        if (strcmp(a, ok[i]) == 0)
            return true;
    return false;
}

static bool state_ok(const char *s)
{
    return !s || ak_streq(s, "pending") || ak_streq(s, "done") || ak_streq(s, "failed") ||
           ak_streq(s, "skipped") || ak_streq(s, "rolled-back");
}

/* Redacts (again) and caps the output the CLI captured, on a UTF-8 boundary. */
static void clean_output(const char *in, struct ak_buf *out)
{
    ak_buf_add(out, in);
    ak_runbook_redact(out);
    if (out->len > OUTPUT_MAX) {
        size_t n = OUTPUT_MAX;
        while (n > 0 && ((unsigned char)out->buf[n] & 0xC0) == 0x80)
            n--;
        out->len = n;
        out->buf[n] = 0;
        ak_buf_add(out, "\n[output truncated at 64 KiB]");
    }
}

static void event_post(struct ak_http_req *rq, struct ak_store *st, int64_t id,
                       const struct ak_json *b)
{
    const char *step = ak_json_get_str(b, "step"), *action = ak_json_get_str(b, "action");
    const char *by = ak_json_get_str(b, "by"), *note = ak_json_get_str(b, "note");
    const char *output = ak_json_get_str(b, "output"), *state = ak_json_get_str(b, "state");
    const struct ak_json *ec = ak_json_get(b, "exit_code");
    struct ak_buf ob = AK_BUF_INIT(AK_BUF_NOMAX), nb = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_rb_event e = {0};

    if (!action_ok(action) || !by || !*by || !text_ok(by, BY_MAX) || !text_ok(note, NOTE_MAX) ||
        !text_ok(step, 64) || !state_ok(state) || (state && !step) ||
        (ec && !ak_json_is_null(ec) && !ak_json_is_int(ec))) {
        ak__http_error(rq, 400, "expected {step, action (done|run|check|wait|rollback|dry-run|"
                       "note|skip), by, exit_code, duration_ms, output, note, state "
                       "(pending|done|failed|skipped|rolled-back, needs step)}");
        return;
    }
    if (output)
        clean_output(output, &ob);
    if (note) {
        ak_buf_add(&nb, note);
        ak_runbook_redact(&nb);
    }
    e.runbook_id = id;
    e.step_id = (char *)step;
    e.action = (char *)action;
    e.by = (char *)by;
    e.at = ak_now_wall_ms();
    e.exit_code = ec && ak_json_is_int(ec) ? (int)ak_json_int(ec) : -1;
    e.duration_ms = ak_json_int(ak_json_get(b, "duration_ms"));
    e.output = output ? ob.buf : NULL;
    e.note = note ? nb.buf : NULL;
    int r = record_event(st, &e, state, NULL);
    if (r < 0)
        ak__http_error(rq, ak_err_http_status(r), "runbook %lld%s%s: %s", (long long)id,
                       step ? " step " : "", step ? step : "", ak_strerror(r));
    else
        answer_instance(rq, st, id, 200);
    ak_buf_release(&ob);
    ak_buf_release(&nb);
}

void ak__http_runbooks_post(struct ak_http_req *rq, const char *tail)
{
    struct ak_store *st = NULL;
    struct ak_json *b = NULL;
    const char *rest = "";
    char step[72];
    int64_t id = 0;

    if (!tail || !*tail) {
        rb_create(rq);
        return;
    }
    if (!split_id(tail, &id, &rest)) {
        ak__http_error(rq, 400, "'%s' is not a runbook id", tail);
        return;
    }
    bool is_done = ak_startswith(rest, "steps/") && ak_endswith(rest, "/done") &&
                   strlen(rest) > 11 && strlen(rest) - 11 < sizeof(step);
    if (!is_done && strcmp(rest, "events") != 0) {
        ak__http_error(rq, 404, "no such endpoint: %s (POST .../ID/steps/STEP/done or "
                       ".../ID/events)", rq->path);
        return;
    }
    if (!(b = ak__http_body_object(rq)))
        return;
    if (!(st = ak__http_open_store(rq, AK_STORE_WRITE)))
        goto out;
    if (is_done) {
        memcpy(step, rest + 6, strlen(rest) - 11);
        step[strlen(rest) - 11] = 0;
        step_done(rq, st, id, step, b);
    } else
        event_post(rq, st, id, b);
out:
    ak_json_free(b);
    ak_store_close(st);
}

/* ---- for GET /api/v1/maintenance/ID --------------------------------------------------------- */

void ak__http_record_runbooks(struct ak_store *st, int64_t rec_id, struct ak_json *rec)
{
    struct ak_rb_instance *v = NULL;
    struct ak_note *nv = NULL;
    size_t n = 0, nn = 0;
    struct ak_json *a = ak_json_new_arr(), *na = ak_json_new_arr();

    if (ak_store_rb_list_maint(st, rec_id, &v, &n) == AK_OK)
        for (size_t i = 0; i < n; i++) {
            struct ak_json *o = ak_json_new_obj();
            ak_json_set_int(o, "id", v[i].id);
            ak_json_set_str(o, "title", v[i].title);
            ak_json_set_str(o, "status", v[i].status);
            ak_json_set_str(o, "template", v[i].template_name);
            ak_json_set_time(o, "at", v[i].at_ms);
            ak_json_append(a, o);
        }
    if (ak_store_note_list(st, NULL, rec_id, 0, 100, &nv, &nn) == AK_OK)
        for (size_t i = 0; i < nn; i++)
            ak_json_append(na, ak__http_note_json(&nv[i]));
    ak_json_set(rec, "runbooks", a);
    ak_json_set(rec, "notes", na);
    for (size_t i = 0; i < n; i++)
        ak_rb_instance_release(&v[i]);
    free(v);
    for (size_t i = 0; i < nn; i++)
        ak_note_release(&nv[i]);
    free(nv);
}
