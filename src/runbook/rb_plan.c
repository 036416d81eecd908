/* rb_plan.c — a template with its event time fixed: absolute deadlines and expanded text.
 *
 * "T-3d 18:00" means a time on the wall clock of the people doing the work: 18:00 local on the
 * event's local date minus three days, whatever DST did in between. Offsets without a clock time
 * are plain durations from the event instant ("T-1h" is one real hour before). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_runbook.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "rb_int.h"
#include "../core/ak_banned.h"

#define DAY_MS (86400LL * 1000)
#define VARS_MAX 1000
#define VALUE_MAX 4096
#define EXPANDED_MAX (1024 * 1024) /* one expanded body or command */
#define AT_LIMIT_MS (253402300799LL * 1000) /* 9999-12-31T23:59:59Z */

/* The value of variable name (declared in t): the last "name=v" of vars, else its default. */
static const char *var_value(const struct ak_rb_template *t, const char *const *vars,
                             size_t n_vars, const char *name, size_t nlen)
{
    for (size_t i = n_vars; i-- > 0;) {
        const char *eq = strchr(vars[i], '=');

        if (eq && (size_t)(eq - vars[i]) == nlen && memcmp(vars[i], name, nlen) == 0)
            return eq + 1;
    }
    for (size_t i = 0; i < t->n_vars; i++)
        if (strlen(t->vars[i].name) == nlen && memcmp(t->vars[i].name, name, nlen) == 0)
            return t->vars[i].def;
    return NULL;
}

static int check_vars(const struct ak_rb_template *t, const char *const *vars, size_t n_vars,
                      struct ak_buf *err)
{
    if (n_vars > VARS_MAX)
        return ak_err(err, AK_EINVAL, "more than %d variables given", VARS_MAX);
    for (size_t i = 0; i < n_vars; i++) {
        const char *eq = vars[i] ? strchr(vars[i], '=') : NULL;

        if (!eq || eq == vars[i])
            return ak_err(err, AK_EINVAL, "bad variable \"%.64s\": expected name=value",
                          vars[i] ? vars[i] : "(null)");
        if (strlen(eq + 1) > VALUE_MAX)
            return ak_err(err, AK_EINVAL, "the value of variable %.*s is longer than %d bytes",
                          (int)(eq - vars[i] > 64 ? 64 : eq - vars[i]), vars[i], VALUE_MAX);
    }
    for (size_t i = 0; i < t->n_vars; i++) {
        const struct ak_rb_var *v = &t->vars[i];
        const char *val = var_value(t, vars, n_vars, v->name, strlen(v->name));

        if (v->required && (!val || !*val))
            return ak_err(err, AK_EINVAL, "template %s needs variable %s (%s): give --var "
                                          "%s=...", t->name ? t->name : "", v->name,
                          v->description && *v->description ? v->description : "no description",
                          v->name);
    }
    return AK_OK;
}

/* True when v can stand in a shell word as is: ids, ARNs, host names, paths, plain URLs. */
static bool shell_safe(const char *v)
{
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              strchr("._:/=@+,%-", *v)))
            return false;
    return true;
}

/* Appends v single-quoted for /bin/sh ('\'' for a quote): it stays one word, never code. */
static void add_shell_quoted(struct ak_buf *out, const char *v)
{
    ak_buf_addc(out, '\'');
    for (; *v; v++) {
        if (*v == '\'')
            ak_buf_add(out, "'\\''");
        else
            ak_buf_addc(out, *v);
    }
    ak_buf_addc(out, '\'');
}

/* s with every {{name}} replaced by its value ("" when it has none). For a command (shell), a
 * value with anything but word characters is single-quoted: values can come from a maintenance
 * notice (--from-maint), and a resource name must never become shell code. */
static char *expand(const struct ak_rb_template *t, const char *const *vars, size_t n_vars,
                    const char *s, bool shell)
{
    struct ak_buf out = AK_BUF_INIT(EXPANDED_MAX);
    size_t n, at = 0;

    if (!s)
        return NULL;
    n = strlen(s);
    for (;;) {
        const char *name, *val;
        size_t nlen, end, k = ak__rb_next_var(s + at, n - at, &name, &nlen, &end);

        /* a capped buffer keeps what fitted: a huge expansion is cut, never unbounded */
        ak_buf_addn(&out, s + at, k);
        if (k == n - at)
            break;
        val = var_value(t, vars, n_vars, name, nlen);
        if (val && shell && !shell_safe(val))
            add_shell_quoted(&out, val);
        else if (val)
            ak_buf_add(&out, val);
        at += end;
    }
    return ak_buf_detach(&out, NULL);
}

/* The deadline of st for an event at at_ms. false when it falls outside years 1..9999. */
static bool step_due(const struct ak_rb_step *st, int64_t at_ms, const struct ak_tz *tz,
                     int64_t *ret_ms)
{
    int y, mon, d;
    int64_t days;

    if (st->at_hh < 0) {
        *ret_ms = at_ms + st->offset_ms;
        return *ret_ms >= -AT_LIMIT_MS && *ret_ms <= AT_LIMIT_MS;
    }
    /* the event's local date, moved by whole days on the calendar (not by 24 h steps) */
    ak_tz_to_local(tz, at_ms, &y, &mon, &d, NULL, NULL);
    days = ak_days_from_civil(y, (unsigned)mon, (unsigned)d) + st->offset_ms / DAY_MS;
    ak_tz_to_local(NULL, days * DAY_MS, &y, &mon, &d, NULL, NULL);
    return ak_tz_from_local(tz, y, mon, d, st->at_hh, st->at_mm, ret_ms) == AK_OK;
}

int ak_runbook_plan(const struct ak_rb_template *t, int64_t at_ms, const struct ak_tz *tz,
                    const char *const *vars, size_t n_vars, struct ak_rb_plan *ret,
                    struct ak_buf *err)
{
    struct ak_rb_plan p;
    int r;

    memset(&p, 0, sizeof(p));
    if (!t || !ret || (n_vars && !vars))
        return ak_err(err, AK_EINVAL, "no template to plan");
    if (at_ms < -AT_LIMIT_MS || at_ms > AT_LIMIT_MS)
        return ak_err(err, AK_EINVAL, "the event time is out of range");
    r = check_vars(t, vars, n_vars, err);
    if (r < 0)
        return r;
    p.at_ms = at_ms;
    p.tz = ak_xstrdup(tz ? ak_tz_name(tz) : "UTC");
    p.due = ak_xcalloc(t->n_steps + 1, sizeof(*p.due));
    for (size_t i = 0; i < t->n_steps; i++) {
        const struct ak_rb_step *st = &t->steps[i];
        struct ak_rb_due *d = &p.due[p.n_due++];

        d->step_id = ak_xstrdup(st->id);
        if (!step_due(st, at_ms, tz, &d->due_ms)) {
            r = ak_err(err, AK_EINVAL, "step %s: the deadline is out of range", st->id);
            goto out;
        }
        d->title = expand(t, vars, n_vars, st->title, false);
        d->body = expand(t, vars, n_vars, st->body, false);
        d->command = expand(t, vars, n_vars, st->command, true);
    }
    *ret = p;
    memset(&p, 0, sizeof(p));
    r = AK_OK;
out:
    ak_rb_plan_release(&p);
    return r;
}

void ak_rb_plan_release(struct ak_rb_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_due; i++) {
        free(p->due[i].step_id);
        free(p->due[i].title);
        free(p->due[i].body);
        free(p->due[i].command);
    }
    free(p->due);
    free(p->tz);
    memset(p, 0, sizeof(p[0]));
}

/* ---- event times ---- */

/* Exactly n digits at s, as a number; -1 otherwise. */
static int digits(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* An explicit zone at the end: "Z" or "+09:00". */
static bool has_zone(const char *s, size_t n)
{
    if (n > 16 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
        return true;
    return n > 16 + 5 && (s[n - 6] == '+' || s[n - 6] == '-') && s[n - 3] == ':';
}

int ak_runbook_parse_at(const char *s, const struct ak_tz *tz, int64_t *ret_ms,
                        struct ak_buf *err)
{
    static const char form[] = "expected \"2026-12-10 02:00\" (local time) or an RFC 3339 time "
                               "with an offset (2026-12-10T02:00:00+09:00)";
    int y, mon, d, hh, mm, ss = 0;
    int64_t ms;
    size_t n;

    if (!s)
        return ak_err(err, AK_EINVAL, "no event time given: %s", form);
    n = strlen(s);
    if (has_zone(s, n)) {
        if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
            return ak_err(err, AK_EINVAL, "bad event time: %s", form);
        if (ak_time_parse(s, &ms) < 0)
            return ak_err(err, AK_EINVAL, "bad event time: %s", form);
        *ret_ms = ms;
        return AK_OK;
    }
    if ((n != 16 && n != 19) || s[4] != '-' || s[7] != '-' ||
        (s[10] != ' ' && s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        (n == 19 && s[16] != ':'))
        return ak_err(err, AK_EINVAL, "bad event time: %s", form);
    y = digits(s, 4);
    mon = digits(s + 5, 2);
    d = digits(s + 8, 2);
    hh = digits(s + 11, 2);
    mm = digits(s + 14, 2);
    if (n == 19)
        ss = digits(s + 17, 2);
    if (y < 0 || mon < 0 || d < 0 || hh < 0 || mm < 0 || ss < 0 || ss > 59 ||
        ak_tz_from_local(tz, y, mon, d, hh, mm, &ms) < 0)
        return ak_err(err, AK_EINVAL, "bad event time: a field is out of range (%s)", form);
    *ret_ms = ms + ss * 1000LL;
    return AK_OK;
}
