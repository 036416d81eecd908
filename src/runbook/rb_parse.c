/* rb_parse.c — runbook templates: a YAML front matter, an intro, and one "## id: Title" section
 * per step whose first line is a YAML flow mapping of attributes.
 *
 * The parser keeps going after an error so that one run lists every problem (up to 20), each
 * "NAME:LINE: reason": a template is written by a person who fixes them all at once. Headings
 * inside fenced code blocks are text, so a step may show a shell session with "## " in it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_runbook.h"
#include "asakai/ak_util.h"
#include "rb_int.h"
#include "../core/ak_banned.h"

#define DAY_MS (86400LL * 1000)
#define HOUR_MS (3600LL * 1000)
#define MIN_MS (60LL * 1000)
#define OFFSET_MAX_MS (400 * DAY_MS)
#define TIMEOUT_DEFAULT_MS (5 * MIN_MS)
#define INTERVAL_DEFAULT_MS (30 * 1000LL)
#define TIMEOUT_MAX_MS (24 * HOUR_MS)
#define INTERVAL_MAX_MS HOUR_MS
#define ATTR_LINES_MAX 20
#define ROLLBACK_OF_MAX 50
#define NAME_MAX_LEN 64
#define TEXT_MAX 4096 /* a title, description or default */

struct parser {
    const char *name;
    struct ak_buf *err;
    unsigned nerr;
    const char *text;
    size_t len;
    size_t *off; /* start of each line; off[nlines] = len + 1 */
    size_t nlines;
    size_t fm_first, fm_last; /* 0-based lines of the front matter's body */
    struct ak_rb_template *t;
};

/* ---- small helpers ---- */

static void report(struct parser *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct parser *p, size_t line, const char *fmt, ...)
{
    va_list ap;

    if (p->nerr++ >= AK_RB_MAX_ERRORS || !p->err)
        return;
    ak_buf_addf(p->err, "%s:%zu: ", p->name, line);
    va_start(ap, fmt);
    ak_buf_vaddf(p->err, fmt, ap);
    va_end(ap);
    ak_buf_addc(p->err, '\n');
}

/* Line i (0-based) without its "\n" or "\r\n". */
static const char *line_at(const struct parser *p, size_t i, size_t *ret_n)
{
    const char *s = p->text + p->off[i];
    size_t n = p->off[i + 1] - p->off[i] - 1;

    if (n && s[n - 1] == '\r')
        n--;
    *ret_n = n;
    return s;
}

static bool line_blank(const struct parser *p, size_t i)
{
    size_t n;
    const char *s = line_at(p, i, &n);

    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t')
            return false;
    return true;
}

static bool line_is(const struct parser *p, size_t i, const char *what)
{
    size_t n;
    const char *s = line_at(p, i, &n);

    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n == strlen(what) && memcmp(s, what, n) == 0;
}

static void split_lines(struct parser *p)
{
    size_t n = 1;

    for (size_t i = 0; i < p->len; i++)
        n += p->text[i] == '\n';
    p->off = ak_xcalloc(n + 1, sizeof(*p->off));
    p->nlines = 0;
    p->off[0] = 0;
    for (size_t i = 0; i < p->len; i++)
        if (p->text[i] == '\n')
            p->off[++p->nlines] = i + 1;
    /* a final line without "\n" still counts, as if it had one */
    if (p->off[p->nlines] < p->len)
        p->off[++p->nlines] = p->len + 1;
}

/* A fence opener/closer: ``` or ~~~ after at most three spaces. */
static bool line_fence(const struct parser *p, size_t i)
{
    size_t n, k = 0;
    const char *s = line_at(p, i, &n);

    while (k < 3 && k < n && s[k] == ' ')
        k++;
    return n - k >= 3 && (memcmp(s + k, "```", 3) == 0 || memcmp(s + k, "~~~", 3) == 0);
}

static bool line_heading(const struct parser *p, size_t i)
{
    size_t n;
    const char *s = line_at(p, i, &n);

    return n >= 3 && memcmp(s, "## ", 3) == 0;
}

static char *trimmed_dup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return ak_xstrndup(s, n);
}

/* Lines [a, b) joined with "\n", blank lines at both ends dropped; "" when none. */
static char *lines_text(const struct parser *p, size_t a, size_t b)
{
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);

    while (a < b && line_blank(p, a))
        a++;
    while (b > a && line_blank(p, b - 1))
        b--;
    for (size_t i = a; i < b; i++) {
        size_t n;
        const char *s = line_at(p, i, &n);

        ak_buf_addn(&out, s, n);
        if (i + 1 < b)
            ak_buf_addc(&out, '\n');
    }
    return ak_buf_detach(&out, NULL);
}

/* The file line of "key:" in the front matter (at any depth, first match), else its first line.
 * JSON has no positions; the key's own line is what a person needs. */
static size_t fm_line(const struct parser *p, const char *key)
{
    size_t klen = strlen(key);

    for (size_t i = p->fm_first; i < p->fm_last; i++) {
        size_t n, k = 0;
        const char *s = line_at(p, i, &n);

        while (k < n && (s[k] == ' ' || s[k] == '-' || s[k] == '{' || s[k] == '"'))
            k++;
        if (n - k > klen && memcmp(s + k, key, klen) == 0 &&
            (s[k + klen] == ':' || s[k + klen] == '"'))
            return i + 1;
    }
    return p->fm_first;
}

/* A scalar JSON value as text (string, number, boolean); NULL for anything else. */
static char *scalar_text(const struct ak_json *j)
{
    if (ak_json_is_str(j))
        return ak_xstrndup(ak_json_str(j), ak_json_str_len(j));
    if (ak_json_is_num(j) || ak_json_is_bool(j))
        return ak_json_dump(j, AK_JSON_COMPACT);
    return NULL;
}

/* A one-line text without control bytes, at most TEXT_MAX bytes. */
static bool text_ok(const char *s)
{
    size_t n = strlen(s);

    if (n > TEXT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
            return false;
    return true;
}

bool ak__rb_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool var_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > AK_RB_VAR_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

size_t ak__rb_next_var(const char *s, size_t n, const char **ret_name, size_t *ret_len,
                       size_t *ret_end)
{
    for (size_t i = 0; i + 4 < n; i++) {
        size_t k;

        if (s[i] != '{' || s[i + 1] != '{')
            continue;
        for (k = i + 2; k < n && k - i - 2 <= AK_RB_VAR_NAME_MAX && s[k] != '}'; k++)
            ;
        if (k + 1 < n && s[k] == '}' && s[k + 1] == '}' && var_name_ok(s + i + 2, k - i - 2)) {
            *ret_name = s + i + 2;
            *ret_len = k - i - 2;
            *ret_end = k + 2;
            return i;
        }
    }
    return n;
}

/* ---- the front matter ---- */

static void load_var(struct parser *p, const char *vname, const struct ak_json *v)
{
    struct ak_rb_template *t = p->t;
    struct ak_rb_var *var;
    size_t line = fm_line(p, vname);
    const struct ak_json *d;

    if (!var_name_ok(vname, strlen(vname))) {
        report(p, line, "variable names are letters, digits and _ (at most 64), not starting "
                        "with a digit");
        return;
    }
    if (!ak_json_is_obj(v)) {
        report(p, line, "variable %s: expected {description, default, required}", vname);
        return;
    }
    for (void *it = ak_json_iter(v); it; it = ak_json_iter_next(v, it)) {
        const char *k = ak_json_iter_key(it);

        if (strcmp(k, "description") && strcmp(k, "default") && strcmp(k, "required"))
            report(p, line, "variable %s: unknown attribute '%.64s' (description, default, "
                            "required)", vname, k);
    }
    var = &t->vars[t->n_vars++];
    var->name = ak_xstrdup(vname);
    d = ak_json_get(v, "description");
    var->description = d ? scalar_text(d) : ak_xstrdup("");
    if (!var->description || !text_ok(var->description))
        report(p, line, "variable %s: description must be one line of text", vname);
    d = ak_json_get(v, "default");
    if (d) {
        var->def = scalar_text(d);
        if (!var->def || strlen(var->def) > TEXT_MAX)
            report(p, line, "variable %s: default must be a single value", vname);
    }
    d = ak_json_get(v, "required");
    if (d && !ak_json_is_bool(d))
        report(p, line, "variable %s: required must be true or false", vname);
    var->required = ak_json_bool(d);
}

static void load_vars(struct parser *p, const struct ak_json *vars)
{
    struct ak_rb_template *t = p->t;

    if (!ak_json_is_obj(vars)) {
        report(p, fm_line(p, "variables"), "variables must be a mapping of name: {description, "
                                           "default, required}");
        return;
    }
    if (ak_json_len(vars) > AK_RB_MAX_VARS) {
        report(p, fm_line(p, "variables"), "more than %d variables", AK_RB_MAX_VARS);
        return;
    }
    t->vars = ak_xcalloc(ak_json_len(vars) + 1, sizeof(*t->vars));
    for (void *it = ak_json_iter(vars); it; it = ak_json_iter_next(vars, it))
        load_var(p, ak_json_iter_key(it), ak_json_iter_value(it));
}

static char *fm_text(struct parser *p, const struct ak_json *fm, const char *key)
{
    const struct ak_json *v = ak_json_get(fm, key);
    char *s;

    if (!v) {
        report(p, p->fm_first, "the front matter needs %s", key);
        return NULL;
    }
    s = scalar_text(v);
    if (!s || !*s || !text_ok(s)) {
        report(p, fm_line(p, key), "%s must be one line of text", key);
        ak_freep(&s);
    }
    return s;
}

static void load_front(struct parser *p, const struct ak_json *fm)
{
    struct ak_rb_template *t = p->t;
    const struct ak_json *vars;

    if (!ak_json_is_obj(fm)) {
        report(p, p->fm_first, "the front matter must be a mapping (title, owner, variables)");
        return;
    }
    for (void *it = ak_json_iter(fm); it; it = ak_json_iter_next(fm, it)) {
        const char *k = ak_json_iter_key(it);

        if (strcmp(k, "title") && strcmp(k, "owner") && strcmp(k, "variables"))
            report(p, fm_line(p, k), "unknown front matter key '%.64s' (title, owner, "
                                     "variables)", k);
    }
    t->title = fm_text(p, fm, "title");
    t->owner = fm_text(p, fm, "owner");
    if (t->owner && !ak__rb_id_ok(t->owner, strlen(t->owner)))
        report(p, fm_line(p, "owner"), "owner must be a team name (a-z, 0-9, '-')");
    vars = ak_json_get(fm, "variables");
    if (vars)
        load_vars(p, vars);
}

/* ---- offsets: "T-14d", "T-3d 18:00", "T-0", "T+1h", "T+2h30m" ---- */

static bool parse_clock(const char *s, int *ret_hh, int *ret_mm)
{
    if (strlen(s) != 5 || s[2] != ':' || strspn(s, "0123456789:") != 5)
        return false;
    *ret_hh = (s[0] - '0') * 10 + (s[1] - '0');
    *ret_mm = (s[3] - '0') * 10 + (s[4] - '0');
    return *ret_hh <= 23 && *ret_mm <= 59;
}

/* The d/h/m parts after the sign; false on anything else. */
static bool parse_parts(const char *s, size_t n, int64_t *ret_ms, bool *ret_hm)
{
    static const char units[] = "dhm";
    static const int64_t unit_ms[] = {DAY_MS, HOUR_MS, MIN_MS};
    size_t next_unit = 0, i = 0;
    int64_t total = 0;

    *ret_hm = false;
    if (n == 1 && s[0] == '0') {
        *ret_ms = 0;
        return true;
    }
    while (i < n) {
        size_t d = 0;
        int64_t v = 0;
        const char *u;

        while (i + d < n && s[i + d] >= '0' && s[i + d] <= '9' && d < 7)
            v = v * 10 + (s[i + d++] - '0');
        if (d == 0 || i + d >= n)
            return false;
        u = memchr(units + next_unit, s[i + d], strlen(units + next_unit));
        if (!u || s[i + d] == 0)
            return false; /* unknown unit, or units out of order or repeated */
        next_unit = (size_t)(u - units) + 1;
        total += v * unit_ms[u - units];
        if (total > OFFSET_MAX_MS)
            return false;
        *ret_hm |= *u != 'd';
        i += d + 1;
    }
    *ret_ms = total;
    return n > 0;
}

static bool parse_offset(const char *s, struct ak_rb_step *st, const char **why)
{
    const char *sp = strchr(s, ' ');
    size_t n = sp ? (size_t)(sp - s) : strlen(s);
    int64_t ms;
    bool hm;

    *why = "an offset is T-14d, T-3d 18:00, T-0, T+1h or T+2h30m (units d h m, at most 400d)";
    if (n < 3 || s[0] != 'T' || (s[1] != '-' && s[1] != '+'))
        return false;
    if (!parse_parts(s + 2, n - 2, &ms, &hm))
        return false;
    st->offset_ms = s[1] == '-' ? -ms : ms;
    st->at_hh = st->at_mm = -1;
    if (!sp)
        return true;
    if (!parse_clock(sp + 1, &st->at_hh, &st->at_mm)) {
        *why = "the clock time of an offset is HH:MM (00:00 to 23:59), as in T-3d 18:00";
        return false;
    }
    if (hm) {
        *why = "a clock time goes with whole days only (T-3d 18:00, T-0 09:00)";
        return false;
    }
    return true;
}

/* ---- steps ---- */

static const char *const type_names[] = {NULL, "task", "check", "run", "rollback", "wait"};

const char *ak_step_type_name(enum ak_step_type t)
{
    if ((int)t < AK_STEP_TASK || (int)t > AK_STEP_WAIT)
        return "unknown";
    return type_names[t];
}

static int step_type(const char *s)
{
    for (int i = AK_STEP_TASK; i <= AK_STEP_WAIT; i++)
        if (strcmp(s, type_names[i]) == 0)
            return i;
    return 0;
}

/* attrs[key] as text; reports a missing required one at line. */
static char *attr_text(struct parser *p, const struct ak_json *attrs, const char *key,
                       bool required, const struct ak_rb_step *st, size_t line)
{
    const struct ak_json *v = ak_json_get(attrs, key);
    char *s;

    if (!v) {
        if (required)
            report(p, line, "step %s: missing attribute %s", st->id, key);
        return NULL;
    }
    s = scalar_text(v);
    if (!s || !*s) {
        report(p, line, "step %s: %s must be a single value", st->id, key);
        ak_freep(&s);
    }
    return s;
}

static void attr_duration(struct parser *p, const struct ak_json *attrs, const char *key,
                          const struct ak_rb_step *st, size_t line, int64_t max,
                          const char *max_text, int64_t *dst)
{
    const struct ak_json *v = ak_json_get(attrs, key);
    char *s;
    int64_t ms = 0;

    if (!v)
        return;
    s = scalar_text(v);
    if (!s || ak_parse_duration_ms(s, &ms) < 0 || ms < 1000 || ms > max)
        report(p, line, "step %s: %s must be a duration from 1s to %s (30s, 5m, 1h)", st->id,
               key, max_text);
    else
        *dst = ms;
    free(s);
}

static void attr_rollback_of(struct parser *p, const struct ak_json *attrs,
                             struct ak_rb_step *st, size_t line)
{
    const struct ak_json *v = ak_json_get(attrs, "rollback_of");
    size_t n;

    if (!v)
        return;
    if (st->type != AK_STEP_ROLLBACK) {
        report(p, line, "step %s: rollback_of applies to rollback steps only", st->id);
        return;
    }
    n = ak_json_is_arr(v) ? ak_json_len(v) : 1;
    if (n == 0 || n > ROLLBACK_OF_MAX) {
        report(p, line, "step %s: rollback_of names 1 to %d step ids", st->id, ROLLBACK_OF_MAX);
        return;
    }
    st->rollback_of = ak_xcalloc(n, sizeof(*st->rollback_of));
    for (size_t i = 0; i < n; i++) {
        const struct ak_json *it = ak_json_is_arr(v) ? ak_json_at(v, i) : v;
        const char *s = ak_json_str(it);

        if (!s || !ak__rb_id_ok(s, strlen(s))) {
            report(p, line, "step %s: rollback_of must list step ids", st->id);
            continue;
        }
        st->rollback_of[st->n_rollback_of++] = ak_xstrdup(s);
    }
}

static const char *const attr_names[] = {"offset",  "owner",    "type",       "command",
                                         "timeout", "interval", "rollback_of"};

static void check_attr_names(struct parser *p, const struct ak_json *attrs,
                             const struct ak_rb_step *st, size_t line)
{
    for (void *it = ak_json_iter(attrs); it; it = ak_json_iter_next(attrs, it)) {
        const char *k = ak_json_iter_key(it);
        bool known = false;

        for (size_t i = 0; i < AK_ARRAY_SIZE(attr_names) && !known; i++)
            known = strcmp(k, attr_names[i]) == 0;
        if (!known)
            report(p, line, "step %s: unknown attribute '%.64s' (offset, owner, type, command, "
                            "timeout, interval, rollback_of)", st->id, k);
    }
}

static void step_attrs(struct parser *p, struct ak_rb_step *st, const struct ak_json *attrs,
                       size_t line)
{
    const char *why;
    char *type;

    check_attr_names(p, attrs, st, line);
    st->offset = attr_text(p, attrs, "offset", true, st, line);
    if (st->offset && !parse_offset(st->offset, st, &why))
        report(p, line, "step %s: bad offset \"%.40s\": %s", st->id, st->offset, why);
    st->owner = attr_text(p, attrs, "owner", true, st, line);
    if (st->owner && !ak__rb_id_ok(st->owner, strlen(st->owner)))
        report(p, line, "step %s: owner must be a team name (a-z, 0-9, '-')", st->id);
    type = attr_text(p, attrs, "type", true, st, line);
    if (type) {
        st->type = step_type(type);
        if (!st->type)
            report(p, line, "step %s: unknown step type \"%.40s\" (task, check, run, rollback, "
                            "wait)", st->id, type);
        free(type);
    }
    st->command = attr_text(p, attrs, "command", st->type > AK_STEP_TASK, st, line);
    if (st->command && st->type == AK_STEP_TASK) {
        report(p, line, "step %s: a task has no command (use check or run)", st->id);
        ak_freep(&st->command);
    }
    attr_duration(p, attrs, "timeout", st, line, TIMEOUT_MAX_MS, "24h", &st->timeout_ms);
    if (st->type == AK_STEP_WAIT)
        st->interval_ms = INTERVAL_DEFAULT_MS;
    if (ak_json_get(attrs, "interval") && st->type != AK_STEP_WAIT)
        report(p, line, "step %s: interval applies to wait steps only", st->id);
    else
        attr_duration(p, attrs, "interval", st, line, INTERVAL_MAX_MS, "1h", &st->interval_ms);
    if (st->type == AK_STEP_WAIT && st->interval_ms > st->timeout_ms)
        report(p, line, "step %s: interval is longer than timeout", st->id);
    attr_rollback_of(p, attrs, st, line);
}

/* The attribute mapping of the step whose heading is line h; returns the first body line. */
static size_t step_attr_block(struct parser *p, struct ak_rb_step *st, size_t h, size_t end)
{
    struct ak_buf jerr = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_json *attrs = NULL;
    size_t a = h + 1, e, n;
    const char *s;

    while (a < end && line_blank(p, a))
        a++;
    s = a < end ? line_at(p, a, &n) : NULL;
    if (!s || n == 0 || s[0] != '{') {
        report(p, h + 1, "step %s: needs its attributes on the line after the heading "
                         "({offset: T-1d, owner: sre, type: task})", st->id);
        return h + 1;
    }
    for (e = a; e < end && e - a < ATTR_LINES_MAX; e++) {
        s = line_at(p, e, &n);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n && s[n - 1] == '}')
            break;
    }
    if (e == end || e - a == ATTR_LINES_MAX) {
        report(p, a + 1, "step %s: the attribute mapping is not closed with '}'", st->id);
        return a + 1;
    }
    if (ak_cfg_yaml_to_json(p->name, p->text + p->off[a], p->off[e + 1] - 1 - p->off[a],
                            (int)a + 1, &attrs, &jerr) < 0) {
        /* already "NAME:LINE:COL: reason" */
        if (p->nerr++ < AK_RB_MAX_ERRORS && p->err)
            ak_buf_add(p->err, jerr.buf);
    } else if (!ak_json_is_obj(attrs)) {
        report(p, a + 1, "step %s: the attributes must be a mapping ({offset: ..., owner: ..., "
                         "type: ...})", st->id);
    } else {
        step_attrs(p, st, attrs, a + 1);
    }
    ak_json_free(attrs);
    ak_buf_release(&jerr);
    return e + 1;
}

static void step_heading(struct parser *p, struct ak_rb_step *st, size_t h)
{
    size_t n;
    const char *s = line_at(p, h, &n), *colon;

    s += 3;
    n -= 3;
    colon = memchr(s, ':', n);
    st->line = (int)h + 1;
    if (!colon) {
        st->id = trimmed_dup(s, n);
        st->title = ak_xstrdup("");
        report(p, h + 1, "a step heading is \"## id: Title\"");
        return;
    }
    st->id = trimmed_dup(s, (size_t)(colon - s));
    st->title = trimmed_dup(colon + 1, n - (size_t)(colon - s) - 1);
    if (!ak__rb_id_ok(st->id, strlen(st->id)))
        report(p, h + 1, "bad step id \"%.64s\": a-z, 0-9 and '-', at most 63, not starting "
                         "with '-'", st->id);
    if (!*st->title)
        report(p, h + 1, "step %s: the heading needs a title after the ':'", st->id);
    for (size_t i = 0; i + 1 < p->t->n_steps; i++) {
        if (strcmp(p->t->steps[i].id, st->id) == 0) {
            report(p, h + 1, "duplicate step id %s (first at line %d)", st->id,
                   p->t->steps[i].line);
            break;
        }
    }
}

/* The 0-based line of the next step heading at or after i (outside fences), or nlines. */
static size_t next_heading(const struct parser *p, size_t i, bool *fenced)
{
    for (; i < p->nlines; i++) {
        if (line_fence(p, i))
            *fenced = !*fenced;
        else if (!*fenced && line_heading(p, i))
            return i;
    }
    return p->nlines;
}

static void load_steps(struct parser *p, size_t first)
{
    struct ak_rb_template *t = p->t;
    bool fenced = false;
    size_t h = next_heading(p, first, &fenced);

    t->intro = lines_text(p, first, h);
    t->steps = ak_xcalloc(AK_RB_MAX_STEPS, sizeof(*t->steps));
    while (h < p->nlines) {
        struct ak_rb_step *st;
        size_t end, body;

        if (t->n_steps == AK_RB_MAX_STEPS) {
            report(p, h + 1, "more than %d steps", AK_RB_MAX_STEPS);
            return;
        }
        fenced = false;
        end = next_heading(p, h + 1, &fenced);
        st = &t->steps[t->n_steps++];
        st->timeout_ms = TIMEOUT_DEFAULT_MS;
        st->at_hh = st->at_mm = -1;
        step_heading(p, st, h);
        body = step_attr_block(p, st, h, end);
        st->body = lines_text(p, body < end ? body : end, end);
        h = end;
    }
    if (t->n_steps == 0)
        report(p, p->nlines ? p->nlines : 1, "the template has no steps (\"## id: Title\" "
                                             "sections)");
}

/* ---- checks across the template ---- */

static bool declared(const struct ak_rb_template *t, const char *name, size_t n)
{
    for (size_t i = 0; i < t->n_vars; i++)
        if (strlen(t->vars[i].name) == n && memcmp(t->vars[i].name, name, n) == 0)
            return true;
    return false;
}

/* Every {{name}} after the front matter must be declared; each name is reported once. */
static void check_vars(struct parser *p, size_t first)
{
    struct ak_buf seen = AK_BUF_INIT(AK_BUF_NOMAX); /* "\nname\n" per reported name */

    for (size_t i = first; i < p->nlines; i++) {
        size_t n, at = 0;
        const char *s = line_at(p, i, &n);

        for (;;) {
            const char *name;
            size_t nlen, end, k = ak__rb_next_var(s + at, n - at, &name, &nlen, &end);
            char key[AK_RB_VAR_NAME_MAX + 3];

            if (k == n - at)
                break;
            at += end;
            if (declared(p->t, name, nlen))
                continue;
            snprintf(key, sizeof(key), "\n%.*s\n", (int)nlen, name);
            if (strstr(seen.buf, key))
                continue;
            ak_buf_add(&seen, key + (seen.len ? 1 : 0));
            report(p, i + 1, "variable {{%.*s}} is used but not declared in the front matter",
                   (int)nlen, name);
        }
    }
    ak_buf_release(&seen);
}

static void check_rollbacks(struct parser *p)
{
    const struct ak_rb_template *t = p->t;

    for (size_t i = 0; i < t->n_steps; i++) {
        const struct ak_rb_step *st = &t->steps[i];

        for (size_t k = 0; k < st->n_rollback_of; k++) {
            size_t j;

            for (j = 0; j < t->n_steps; j++)
                if (j != i && strcmp(t->steps[j].id, st->rollback_of[k]) == 0)
                    break;
            if (j == t->n_steps)
                report(p, (size_t)st->line, "step %s: rollback_of names an unknown step %s",
                       st->id, st->rollback_of[k]);
        }
    }
}

/* ---- entry points ---- */

static size_t front_matter(struct parser *p)
{
    size_t k;

    if (p->nlines == 0 || !line_is(p, 0, "---")) {
        report(p, 1, "a template starts with a YAML front matter between two \"---\" lines");
        return 0;
    }
    for (k = 1; k < p->nlines; k++)
        if (line_is(p, k, "---") || line_is(p, k, "..."))
            break;
    if (k == p->nlines) {
        report(p, 1, "the front matter is not closed by a \"---\" line");
        return 0;
    }
    p->fm_first = 1;
    p->fm_last = k;
    return k + 1;
}

int ak_runbook_parse(const char *name, const char *text, size_t len, struct ak_rb_template *ret,
                     struct ak_buf *err)
{
    struct ak_rb_template t;
    struct parser p;
    struct ak_json *fm = NULL;
    const char *nul;
    size_t body;
    int r = AK_EINVAL;

    memset(&t, 0, sizeof(t));
    memset(&p, 0, sizeof(p));
    p.name = name ? name : "(template)";
    p.err = err;
    p.t = &t;
    p.text = text ? text : "";
    p.len = text ? len : 0;
    if (p.len > AK_RB_MAX_TEXT) {
        report(&p, 1, "the template is larger than %d KiB", AK_RB_MAX_TEXT / 1024);
        goto out;
    }
    split_lines(&p);
    nul = memchr(p.text, 0, p.len);
    if (nul) {
        size_t line = 1;

        for (const char *c = p.text; c < nul; c++)
            line += *c == '\n';
        report(&p, line, "the template contains a NUL byte");
        goto out;
    }
    body = front_matter(&p);
    if (!body)
        goto out;
    if (ak_cfg_yaml_to_json(p.name, p.text + p.off[1], p.off[p.fm_last] - p.off[1], 2, &fm,
                            p.nerr < AK_RB_MAX_ERRORS ? err : NULL) < 0) {
        p.nerr++;
        goto out;
    }
    t.name = ak_xstrdup(p.name);
    load_front(&p, fm);
    load_steps(&p, body);
    check_vars(&p, body);
    check_rollbacks(&p);
    if (p.nerr)
        goto out;
    *ret = t;
    memset(&t, 0, sizeof(t));
    r = AK_OK;
out:
    ak_json_free(fm);
    ak_rb_template_release(&t);
    free(p.off);
    return r;
}

static bool template_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= NAME_MAX_LEN && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Reads at most max bytes of path; -EFBIG when longer, -EISDIR for a non-regular file. */
static int read_capped(const char *path, size_t max, char **ret, size_t *ret_len)
{
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return -EISDIR;
    }
    buf = ak_xmalloc(max + 2);
    while (len <= max) {
        ssize_t k = read(fd, buf + len, max + 1 - len);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            r = k < 0 ? -errno : 0;
            break;
        }
        len += (size_t)k;
    }
    close(fd);
    if (r == 0 && len > max)
        r = -EFBIG;
    if (r < 0) {
        free(buf);
        return r;
    }
    buf[len] = 0;
    *ret = buf;
    *ret_len = len;
    return 0;
}

int ak_runbook_load(const char *dir, const char *name, struct ak_rb_template *ret,
                    struct ak_buf *err)
{
    char *path = NULL, *text = NULL;
    size_t len = 0;
    int r;

    if (!dir || !name || !template_name_ok(name))
        return ak_err(err, AK_EINVAL, "a template name is 1 to 64 of a-z, 0-9 and '-'");
    path = ak_xasprintf("%s/%s.md", dir, name);
    r = read_capped(path, AK_RB_MAX_TEXT, &text, &len);
    if (r == -ENOENT || r == -ENOTDIR) {
        r = ak_err(err, AK_ENOTFOUND, "no runbook template %s in %s", name, dir);
        goto out;
    }
    if (r < 0) {
        r = ak_err(err, r == -EFBIG ? AK_ETOOBIG : AK_EIO, "cannot read %s: %s", path,
                   r == -EFBIG  ? "larger than 256 KiB"
                   : r == -EISDIR ? "not a regular file"
                                  : strerror(-r));
        goto out;
    }
    r = ak_runbook_parse(name, text, len, ret, err);
out:
    free(path);
    free(text);
    return r;
}

void ak_rb_template_release(struct ak_rb_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_vars; i++) {
        free(t->vars[i].name);
        free(t->vars[i].description);
        free(t->vars[i].def);
    }
    free(t->vars);
    for (size_t i = 0; i < t->n_steps; i++) {
        struct ak_rb_step *st = &t->steps[i];

        free(st->id);
        free(st->title);
        free(st->offset);
        free(st->owner);
        free(st->command);
        for (size_t k = 0; k < st->n_rollback_of; k++)
            free(st->rollback_of[k]);
        free(st->rollback_of);
        free(st->body);
    }
    free(t->steps);
    free(t->name);
    free(t->title);
    free(t->owner);
    free(t->intro);
    memset(t, 0, sizeof(*t));
}
