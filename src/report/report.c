/* report.c — the morning report: collect what needs attention, place each item in one quadrant
 * of the urgency × importance matrix, and say which rule placed it there.
 *
 * Why every item carries its rule ("why"): a report that orders work is only trusted when the
 * reader can see, and argue with, the reason a thing is at the top. The rules are the ones of
 * docs/report.md; their two knobs are report.urgent_within and report.horizon.
 */
#include "asakai/ak_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_iam.h"
#include "asakai/ak_json.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_poll.h"
#include "asakai/ak_store.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "report_int.h"
#include "../core/ak_banned.h"

#define DAY_MS (86400000LL)
#define OVERNIGHT_MS DAY_MS
#define MAX_RECORDS 5000
#define MAX_STEPS 1000
#define MAX_CHANGES 100000
#define MAX_ITEMS 20000

enum { Q_DO_NOW, Q_PLAN, Q_DELEGATE, Q_NOTE };
enum { S_MAINT, S_STEPS, S_OVERNIGHT, S_COVERAGE, S_CI_AUTH, S_MONITORING };

const char *const ak__report_q_keys[AK__REPORT_NQ] = {"do-now", "plan", "delegate", "note"};
const char *const ak__report_q_titles[AK__REPORT_NQ] = {"Do now", "Plan", "Delegate / batch",
                                                        "Note"};
const char *const ak__report_q_axes[AK__REPORT_NQ] = {
    "urgent and important", "important, not urgent", "urgent, less important", "the rest"};
const char *const ak__report_sec_keys[AK__REPORT_NSEC] = {
    "maintenance", "runbook_steps", "overnight", "coverage", "ci_auth", "monitoring"};
const char *const ak__report_sec_titles[AK__REPORT_NSEC] = {
    "Maintenance", "Runbook steps due", "Arrived overnight", "Coverage gaps", "CI-auth audit",
    "Monitoring review"};

struct item {
    int q, sec;
    int64_t due;  /* 0 = none (sorted last) */
    size_t seq;   /* insertion order, for a stable sort */
    struct ak_json *j;
};

struct ctx {
    const struct ak_cfg *cfg;
    struct ak_store *st;
    struct ak_tz *tz;
    struct ak_maint_cfg mc;
    int64_t at, urgent, horizon;
    char urgent_s[32], horizon_s[32];
    struct item *items;
    size_t n_items, alloc;
    int64_t *recs;      /* ids of the records in the maintenance section */
    size_t n_recs;
    struct ak_json *warnings;
};

/* ---- items ------------------------------------------------------------------------------- */

/* A new item object: kind, id (set by the caller), title, due, when, why, link, quadrant. */
static struct ak_json *add_item(struct ctx *c, int q, int sec, const char *kind,
                                const char *title, int64_t due, const char *why,
                                const char *link)
{
    struct ak_json *j = ak_json_new_obj();
    char when[160] = "", local[64], rel[64];

    ak_json_set_str(j, "kind", kind);
    ak_json_set_str(j, "title", title);
    ak_json_set_time(j, "due", due);
    if (due) {
        ak_tz_fmt_short(c->tz, due, local, sizeof(local));
        ak_time_fmt_relative(due, c->at, rel, sizeof(rel));
        snprintf(when, sizeof(when), "%s (%s)", local, rel);
    }
    ak_json_set_str(j, "when", due ? when : NULL);
    ak_json_set_str(j, "why", why);
    ak_json_set_str(j, "link", link);
    ak_json_set_str(j, "quadrant", ak__report_q_keys[q]);
    if (c->n_items >= MAX_ITEMS) { /* bounded whatever the store holds */
        ak_json_free(j);
        return NULL;
    }
    if (c->n_items == c->alloc) {
        c->alloc = c->alloc ? c->alloc * 2 : 64;
        c->items = ak_xrealloc(c->items, c->alloc * sizeof(*c->items));
    }
    c->items[c->n_items] = (struct item){q, sec, due, c->n_items, j};
    c->n_items++;
    return j;
}

static void warn(struct ctx *c, const char *what, const struct ak_buf *err, int r)
{
    struct ak_buf b = AK_BUF_INIT(1024);
    ak_buf_addf(&b, "%s: %s", what, err && err->len ? err->buf : ak_strerror(r));
    ak_json_append(c->warnings, ak_json_new_str(b.buf));
    ak_buf_release(&b);
}

/* ---- maintenance ------------------------------------------------------------------------- */

static const char *service_label(const char *s)
{
    static const struct { const char *id, *label; } v[] = {
        {"ec2", "EC2"}, {"rds", "RDS"}, {"elasticache", "ElastiCache"}, {"health", "AWS Health"},
    };
    for (size_t i = 0; s && i < AK_ARRAY_SIZE(v); i++)
        if (strcmp(s, v[i].id) == 0)
            return v[i].label;
    return s;
}

/* One line: control characters become spaces, at most max bytes (cut on a UTF-8 boundary). */
static void add_line(struct ak_buf *b, const char *s, size_t max)
{
    size_t n = 0;
    for (; s && *s && n < max; s++, n++) {
        unsigned char ch = (unsigned char)*s;
        if (n + 4 >= max && (ch & 0xC0) == 0xC0)
            break;
        ak_buf_addc(b, ch < 0x20 || ch == 0x7f ? ' ' : *s);
    }
}

/* "RDS hardware maintenance prod-db-1 (+2 more)": service, kind and the first resource (the
 * readable tail of an ARN); the title when the kind is unknown. */
static void headline(const struct ak_maint_rec *r, struct ak_buf *out)
{
    bool kind = r->kind && *r->kind && strcmp(r->kind, "other") != 0;

    if (r->service && *r->service && kind) {
        add_line(out, service_label(r->service), 40);
        ak_buf_addc(out, ' ');
        for (const char *p = r->kind; *p && p - r->kind < 60; p++)
            ak_buf_addc(out, *p == '-' || *p == '_' || (unsigned char)*p < 0x20 ? ' ' : *p);
    } else if (r->title && *r->title) {
        add_line(out, r->title, 200);
    } else {
        ak_buf_addf(out, "maintenance #%" PRId64, r->id);
    }
    if (r->n_resources > 0 && r->resources[0]) {
        const char *res = r->resources[0], *p = NULL;
        if (ak_startswith(res, "arn:")) {
            p = strrchr(res, '/');
            if (!p || !p[1])
                p = strrchr(res, ':');
        }
        ak_buf_addc(out, ' ');
        add_line(out, p && p[1] ? p + 1 : res, 120);
        if (r->n_resources > 1)
            ak_buf_addf(out, " (+%zu more)", r->n_resources - 1);
    }
}

static void rec_link(int64_t id, char *buf, size_t n)
{
    snprintf(buf, n, "/api/v1/maintenance/%" PRId64, id);
}

static bool arrived_overnight(const struct ctx *c, const struct ak_maint_rec *r)
{
    return r->first_seen > c->at - OVERNIGHT_MS && r->first_seen <= c->at;
}

/* The quadrant of one open record and the rule that puts it there (docs/report.md). */
static int place_record(const struct ctx *c, const struct ak_maint_rec *r, struct ak_buf *why)
{
    struct ak_maint_rec bare = *r;
    struct ak_buf imp_why = AK_BUF_INIT(512);
    int64_t when = r->deadline ? r->deadline : r->window_start;
    const char *what = r->deadline ? "deadline" : "window starts";
    char rel[64] = "no date yet";
    int q;

    /* importance without the clock: the sticky flag and explicit rules; nearness is the other
     * axis of the matrix and must not count twice */
    bare.deadline = bare.window_start = 0;
    bool important = ak_maint_is_important(&c->mc, &bare, c->at, &imp_why);
    bool urgent = when && when - c->at <= c->urgent;
    bool forced = r->required && r->deadline;
    if (when)
        ak_time_fmt_relative(when, c->at, rel, sizeof(rel));

    if (urgent && forced) {
        q = Q_DO_NOW;
        ak_buf_addf(why, "forced apply %s: required maintenance that AWS applies at its deadline, "
                         "within report.urgent_within (%s)", rel, c->urgent_s);
    } else if (urgent && important) {
        q = Q_DO_NOW;
        ak_buf_addf(why, "%s %s, within report.urgent_within (%s), and important (%s)", what, rel,
                    c->urgent_s, imp_why.buf);
    } else if (urgent) {
        q = Q_DELEGATE;
        ak_buf_addf(why, "%s %s, within report.urgent_within (%s), but not important: batch it or "
                         "hand it off", what, rel, c->urgent_s);
    } else if (r->recurrence_of) {
        q = Q_PLAN;
        ak_buf_addf(why, "a recurrence of #%" PRId64 " (%s): the same maintenance again, last "
                         "time's runbook and notes apply", r->recurrence_of, rel);
    } else if (important) {
        q = Q_PLAN;
        ak_buf_addf(why, "important (%s), %s %s: later than report.urgent_within (%s)",
                    imp_why.buf, what, rel, c->urgent_s);
    } else {
        q = Q_NOTE;
        ak_buf_addf(why, "%s %s, not important and not within report.urgent_within (%s)", what,
                    rel, c->urgent_s);
    }
    if (arrived_overnight(c, r))
        ak_buf_add(why, "; new overnight");
    if (r->acked_by) {
        ak_buf_add(why, "; taken by ");
        add_line(why, r->acked_by, 64);
    }
    ak_buf_release(&imp_why);
    return q;
}

static void maint_item(struct ctx *c, const struct ak_maint_rec *r)
{
    struct ak_buf title = AK_BUF_INIT(AK_BUF_NOMAX), why = AK_BUF_INIT(AK_BUF_NOMAX);
    char link[64];
    int64_t when = r->deadline ? r->deadline : r->window_start;
    int q = place_record(c, r, &why);

    headline(r, &title);
    rec_link(r->id, link, sizeof(link));
    struct ak_json *j = add_item(c, q, S_MAINT, "maintenance", title.buf, when, why.buf, link);
    if (j) {
        ak_json_set_int(j, "id", r->id);
        ak_json_set_str(j, "service", r->service);
        ak_json_set_str(j, "status", r->status);
        ak_json_set_bool(j, "required", r->required);
        ak_json_set_str(j, "detail", r->title);
    }
    ak_buf_release(&title);
    ak_buf_release(&why);
}

/* Open records with a deadline or window within the horizon (overdue ones too), and
 * recurrences whatever their date. */
static int add_maintenance(struct ctx *c)
{
    struct ak_maint_rec *recs = NULL;
    size_t n = 0;
    struct ak_rec_filter f = {.all = false, .now_ms = c->at, .limit = MAX_RECORDS};
    int r = ak_store_rec_list(c->st, &f, &recs, &n);

    if (r < 0)
        return r;
    c->recs = ak_xcalloc(n ? n : 1, sizeof(*c->recs));
    for (size_t i = 0; i < n; i++) {
        int64_t when = recs[i].deadline ? recs[i].deadline : recs[i].window_start;
        bool in = when && when - c->at <= c->horizon;
        if (!in && !recs[i].recurrence_of)
            continue;
        c->recs[c->n_recs++] = recs[i].id;
        maint_item(c, &recs[i]);
    }
    for (size_t i = 0; i < n; i++)
        ak_maint_rec_release(&recs[i]);
    free(recs);
    return AK_OK;
}

/* ---- runbook steps ----------------------------------------------------------------------- */

static void step_item(struct ctx *c, const struct ak_rb_step_row *s, const struct ak_rb_instance *rb)
{
    struct ak_buf why = AK_BUF_INIT(AK_BUF_NOMAX), detail = AK_BUF_INIT(AK_BUF_NOMAX);
    char rel[64], local[64], link[64], id[160];
    const char *team = rb && rb->owner ? rb->owner : NULL;
    bool ours = !s->owner || !team || ak_streq(s->owner, team);
    int q;

    ak_time_fmt_relative(s->due_at, c->at, rel, sizeof(rel));
    ak_tz_fmt_short(c->tz, s->due_at, local, sizeof(local));
    if (s->due_at < c->at) {
        q = Q_DO_NOW;
        ak_buf_addf(&why, "overdue: was due %s (%s) and is %s", local, rel,
                    s->state && !ak_streq(s->state, "pending") ? s->state : "not done");
    } else if (ours) {
        q = Q_DO_NOW;
        ak_buf_addf(&why, "due %s, within report.urgent_within (%s), owned by %s (the runbook's "
                          "own team)", rel, c->urgent_s, s->owner ? s->owner : "the runbook");
    } else {
        q = Q_DELEGATE;
        ak_buf_addf(&why, "due %s, within report.urgent_within (%s), owned by team %s: make sure "
                          "they have it", rel, c->urgent_s, s->owner);
    }
    ak_buf_addf(&detail, "runbook #%" PRId64, s->runbook_id);
    if (rb && rb->title) {
        ak_buf_addc(&detail, ' ');
        add_line(&detail, rb->title, 200);
    }
    ak_buf_add(&detail, ", owner ");
    add_line(&detail, s->owner ? s->owner : "?", 64);
    snprintf(link, sizeof(link), "/api/v1/runbooks/%" PRId64, s->runbook_id);
    snprintf(id, sizeof(id), "%" PRId64 "/%.120s", s->runbook_id, s->step_id ? s->step_id : "?");
    struct ak_json *j = add_item(c, q, S_STEPS, "runbook-step", s->title, s->due_at, why.buf, link);
    if (j) {
        ak_json_set_str(j, "id", id);
        ak_json_set_int(j, "runbook", s->runbook_id);
        ak_json_set_str(j, "step", s->step_id);
        ak_json_set_str(j, "owner", s->owner);
        ak_json_set_str(j, "state", s->state);
        ak_json_set_str(j, "detail", detail.buf);
    }
    ak_buf_release(&why);
    ak_buf_release(&detail);
}

/* Steps not done, overdue or due within urgent_within. */
static int add_steps(struct ctx *c)
{
    struct ak_rb_step_row *steps = NULL;
    struct ak_rb_instance rb = {0};
    size_t n = 0;
    int64_t have = 0;
    int r = ak_store_rb_steps_due(c->st, c->at + c->urgent, MAX_STEPS, &steps, &n);

    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (have != steps[i].runbook_id) {
            ak_rb_instance_release(&rb);
            memset(&rb, 0, sizeof(rb));
            have = ak_store_rb_get(c->st, steps[i].runbook_id, &rb) == AK_OK
                       ? steps[i].runbook_id : 0;
        }
        step_item(c, &steps[i], have ? &rb : NULL);
    }
    ak_rb_instance_release(&rb);
    for (size_t i = 0; i < n; i++)
        ak_rb_step_row_release(&steps[i]);
    free(steps);
    return AK_OK;
}

/* ---- overnight --------------------------------------------------------------------------- */

static bool in_maint_section(const struct ctx *c, int64_t id)
{
    for (size_t i = 0; i < c->n_recs; i++)
        if (c->recs[i] == id)
            return true;
    return false;
}

static void arrival_item(struct ctx *c, int64_t rec_id, const struct ak_change *cs, size_t n)
{
    struct ak_maint_rec rec = {0};
    struct ak_buf title = AK_BUF_INIT(AK_BUF_NOMAX), why = AK_BUF_INIT(AK_BUF_NOMAX);
    char link[64];
    size_t shown = 0;

    if (ak_store_rec_get(c->st, rec_id, &rec) < 0)
        return;
    headline(&rec, &title);
    ak_buf_add(&why, "changed overnight (");
    for (size_t i = 0; i < n; i++) {
        if (cs[i].rec_id != rec_id || ak_streq(cs[i].kind, "reminder"))
            continue;
        if (shown++ == 5) {
            ak_buf_add(&why, "; …");
            break;
        }
        if (shown > 1)
            ak_buf_add(&why, "; ");
        add_line(&why, cs[i].summary && *cs[i].summary ? cs[i].summary : cs[i].kind, 200);
    }
    ak_buf_addf(&why, "), nothing of it due within report.horizon (%s)", c->horizon_s);
    rec_link(rec.id, link, sizeof(link));
    struct ak_json *j = add_item(c, Q_NOTE, S_OVERNIGHT, "arrival", title.buf,
                                 rec.deadline ? rec.deadline : rec.window_start, why.buf, link);
    if (j) {
        ak_json_set_int(j, "id", rec.id);
        ak_json_set_str(j, "service", rec.service);
        ak_json_set_str(j, "status", rec.status);
        ak_json_set_str(j, "detail", rec.title);
    }
    ak_maint_rec_release(&rec);
    ak_buf_release(&title);
    ak_buf_release(&why);
}

/* Records created or changed in the 24 h before the report time that are not already in the
 * maintenance section (those say "new overnight" in their why): arrivals that changed nothing
 * urgent. */
static int add_overnight(struct ctx *c)
{
    struct ak_change *cs = NULL;
    size_t n = 0;
    int r = ak_store_change_list_after(c->st, 0, MAX_CHANGES, &cs, &n);

    if (r < 0)
        return r;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        bool keep = cs[i].at > c->at - OVERNIGHT_MS && cs[i].at <= c->at &&
                    !ak_streq(cs[i].kind, "reminder") && !in_maint_section(c, cs[i].rec_id);
        if (keep)
            cs[w++] = cs[i];
        else
            ak_change_release(&cs[i]);
    }
    for (size_t i = 0; i < w; i++) {
        size_t k;
        for (k = 0; k < i && cs[k].rec_id != cs[i].rec_id; k++)
            ;
        if (k == i) /* first change of its record */
            arrival_item(c, cs[i].rec_id, cs + i, w - i);
    }
    for (size_t i = 0; i < w; i++)
        ak_change_release(&cs[i]);
    free(cs);
    return AK_OK;
}

/* ---- coverage ---------------------------------------------------------------------------- */

static void add_coverage(struct ctx *c)
{
    struct ak_json *cov = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_poll_coverage(c->cfg, c->st, c->at, &cov, &err);

    if (r < 0) {
        warn(c, "coverage", &err, r);
        goto out;
    }
    const struct ak_json *rows = ak_json_get(cov, "rows");
    for (size_t i = 0; i < ak_json_len(rows); i++) {
        const struct ak_json *row = ak_json_at(rows, i);
        const char *v = ak_json_get_str(row, "verdict");
        const char *acct = ak_json_get_str(row, "account"), *reg = ak_json_get_str(row, "region");
        const char *svc = ak_json_get_str(row, "service"), *rwhy = ak_json_get_str(row, "why");
        bool blind = ak_streq(v, "blind");
        if (!blind && !ak_streq(v, "partial"))
            continue;
        struct ak_buf title = AK_BUF_INIT(1024), why = AK_BUF_INIT(4096);
        char id[160];
        ak_buf_addf(&title, "%s %s in %s", blind ? "blind spot:" : "partial coverage:",
                    service_label(svc ? svc : "?"), reg ? reg : "?");
        ak_buf_addf(&why, "%s: ", blind ? "a blind spot (maintenance of this kind cannot reach "
                                          "you) is important, not urgent"
                                        : "partial coverage is a gap worth knowing");
        add_line(&why, rwhy ? rwhy : v, 1500);
        snprintf(id, sizeof(id), "%.20s/%.40s/%.40s", acct ? acct : "?", reg ? reg : "?",
                 svc ? svc : "?");
        struct ak_json *j = add_item(c, blind ? Q_PLAN : Q_NOTE, S_COVERAGE, "coverage",
                                     title.buf, 0, why.buf, "/api/v1/coverage");
        if (j) {
            ak_json_set_str(j, "id", id);
            ak_json_set_str(j, "verdict", v);
            ak_json_set_str(j, "account", acct);
        }
        ak_buf_release(&title);
        ak_buf_release(&why);
    }
out:
    ak_json_free(cov);
    ak_buf_release(&err);
}

/* ---- CI-auth audit ----------------------------------------------------------------------- */

static void finding_item(struct ctx *c, const struct ak_cfg_sts_role *role,
                         const struct ak_iam_finding *f, size_t idx)
{
    struct ak_buf title = AK_BUF_INIT(1024), why = AK_BUF_INIT(4096);
    const char *sev = ak_iam_sev_name(f->severity);
    char id[200];
    int q = f->severity == AK_SEV_CRITICAL ? Q_DO_NOW
            : f->severity == AK_SEV_HIGH   ? Q_PLAN
                                           : Q_NOTE;

    ak_buf_addf(&title, "role %.64s: %s %s", role->name ? role->name : "?", f->rule ? f->rule : "?",
                f->title ? f->title : "");
    ak_buf_addf(&why, "%s CI-auth finding: %s", sev,
                q == Q_DO_NOW ? "a stranger's CI job may assume this role — do now"
                : q == Q_PLAN ? "fix it before it is exploited — plan"
                              : "lower severity — note");
    if (f->message && *f->message) {
        ak_buf_add(&why, ". ");
        add_line(&why, f->message, 1000);
    }
    snprintf(id, sizeof(id), "%.64s/%.16s/%zu", role->name ? role->name : "?",
             f->rule ? f->rule : "?", idx);
    struct ak_json *j = add_item(c, q, S_CI_AUTH, "audit", title.buf, 0, why.buf, NULL);
    if (j) {
        ak_json_set_str(j, "id", id);
        ak_json_set_str(j, "severity", sev);
        ak_json_set_str(j, "rule", f->rule);
        ak_json_set_str(j, "role", role->name);
        ak_json_set_str(j, "detail", f->path);
    }
    ak_buf_release(&title);
    ak_buf_release(&why);
}

/* Every configured STS-twin role's trust policy through the auditor; info findings are left
 * out (they are advice, not work). */
static void add_ci_auth(struct ctx *c)
{
    for (size_t i = 0; i < c->cfg->n_sts_roles; i++) {
        const struct ak_cfg_sts_role *role = &c->cfg->sts_roles[i];
        struct ak_iam_findings f = {0};
        struct ak_buf err = AK_BUF_INIT(1024), src = AK_BUF_INIT(256);
        if (!role->policy_json)
            continue;
        ak_buf_addf(&src, "config: role %.64s", role->name ? role->name : "?");
        int r = ak_iam_audit(role->policy_json, strlen(role->policy_json), src.buf, &f, &err);
        if (r < 0)
            warn(c, src.buf, &err, r);
        for (size_t k = 0; r == AK_OK && k < f.n; k++)
            if (f.v[k].severity > AK_SEV_INFO)
                finding_item(c, role, &f.v[k], k);
        ak_iam_findings_release(&f);
        ak_buf_release(&err);
        ak_buf_release(&src);
    }
}

/* ---- the monitoring review ------------------------------------------------------------- */

/* Where a finding of the daily review lands: exhaustion within urgent_within is do-now, within
 * the horizon plan; a leak or a level shift after a release is plan (it will not fix itself);
 * a target down is delegate (threshold alerts page for it, the report only makes sure someone
 * owns it); other gaps are notes. */
static int monitoring_quadrant(const struct ctx *c, const struct ak_json *f, const char **why)
{
    const char *kind = ak_json_get_str(f, "kind");
    const char *text = ak_json_get_str(f, "text");

    if (ak_streq(kind, "days-to-limit")) {
        double days = ak_json_num(ak_json_get(f, "days"));
        if (days * DAY_MS <= (double)c->urgent) {
            *why = "a limit is reached within the urgent window: urgent and important";
            return Q_DO_NOW;
        }
        *why = "a limit is reached within the horizon: important, not urgent";
        return Q_PLAN;
    }
    if (ak_streq(kind, "growth")) {
        *why = "sustained growth (a leak) will not stop by itself: important, not urgent";
        return Q_PLAN;
    }
    if (ak_streq(kind, "level-shift")) {
        *why = "a level shift after a change: important, not urgent";
        return Q_PLAN;
    }
    if (text && strstr(text, " is down")) {
        *why = "a target is down: urgent; alerts page for it, make sure someone owns it";
        return Q_DELEGATE;
    }
    *why = "a series stopped or was renamed: worth knowing";
    return Q_NOTE;
}

static void monitoring_item(struct ctx *c, const struct ak_json *f, size_t idx)
{
    const char *why = NULL, *kind = ak_json_get_str(f, "kind");
    const char *text = ak_json_get_str(f, "text");
    const char *service = ak_json_get_str(f, "service");
    struct ak_buf title = AK_BUF_INIT(1024);
    int q = monitoring_quadrant(c, f, &why);
    int64_t due = 0;
    char id[64];

    if (ak_streq(kind, "days-to-limit")) {
        double days = ak_json_num(ak_json_get(f, "days"));
        if (days >= 0 && days < 3650)
            due = c->at + (int64_t)(days * DAY_MS);
    }
    if (service && *service)
        ak_buf_addf(&title, "%.64s: ", service);
    add_line(&title, text ? text : kind ? kind : "finding", 600);
    snprintf(id, sizeof(id), "review/%zu", idx);
    struct ak_json *j = add_item(c, q, S_MONITORING, "monitoring", title.buf, due, why,
                                 ak_json_get_str(f, "link"));
    if (j) {
        ak_json_set_str(j, "id", id);
        ak_json_set_str(j, "finding", kind);
        ak_json_set_str(j, "series", ak_json_get_str(f, "series"));
    }
    ak_buf_release(&title);
}

/* The newest daily review from DATA_DIR/metrics.db, when the monitoring engine has run one.
 * A review older than two days is stale: it is said in the warnings rather than reported as
 * today's news. */
static void add_monitoring(struct ctx *c)
{
    struct ak_store *ms = NULL;
    struct ak_json *rev = NULL;
    struct ak_buf err = AK_BUF_INIT(1024);
    char *text = NULL;
    int64_t at = 0;
    int r = ak_store_open_metrics(c->cfg->data_dir, AK_STORE_READ, &ms, &err);

    if (r < 0)
        goto out; /* no metrics database yet: nothing was monitored, nothing to report */
    r = ak_store_review_latest(ms, &at, &text);
    if (r == AK_ENOTFOUND)
        goto out;
    if (r < 0) {
        warn(c, "monitoring review", NULL, r);
        goto out;
    }
    if (at < c->at - 2 * DAY_MS) {
        struct ak_buf b = AK_BUF_INIT(256);
        ak_buf_addf(&b, "the newest monitoring review is from %lld h before the report: the "
                        "daily review has not run since", (long long)((c->at - at) / 3600000));
        warn(c, "monitoring review", &b, AK_EINVAL);
        ak_buf_release(&b);
        goto out;
    }
    rev = ak_json_parse(text, strlen(text), &err);
    if (!rev) {
        warn(c, "monitoring review", &err, AK_ECORRUPT);
        goto out;
    }
    const struct ak_json *fs = ak_json_get(rev, "findings");
    for (size_t i = 0; i < ak_json_len(fs) && i < 200; i++)
        monitoring_item(c, ak_json_at(fs, i), i);
out:
    free(text);
    ak_json_free(rev);
    ak_store_close(ms);
    ak_buf_release(&err);
}

/* ---- assembly ---------------------------------------------------------------------------- */

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if ((x->due == 0) != (y->due == 0))
        return x->due == 0 ? 1 : -1;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void quadrant_rules(const struct ctx *c, struct ak_json *rules)
{
    struct ak_json *q = ak_json_new_obj();
    struct ak_buf b = AK_BUF_INIT(1024);

    ak_buf_addf(&b, "urgent and important: a deadline within %s of an important record, a forced "
                    "apply within %s, an overdue runbook step or one of the runbook's own team "
                    "due within %s, a critical CI-auth finding, a monitored limit reached "
                    "within %s",
                c->urgent_s, c->urgent_s, c->urgent_s, c->urgent_s);
    ak_json_set_str(q, "do-now", b.buf);
    ak_buf_reset(&b);
    ak_buf_addf(&b, "important, not urgent: a later deadline (within %s) of an important record, "
                    "a recurrence, a blind spot, a high CI-auth finding, a monitored limit reached "
                    "within %s, a leak, a level shift after a release", c->horizon_s,
                c->horizon_s);
    ak_json_set_str(q, "plan", b.buf);
    ak_buf_reset(&b);
    ak_buf_addf(&b, "urgent, less important: a deadline within %s of a record that is not "
                    "important, a runbook step due within %s owned by another team, a monitored "
                    "target that is down", c->urgent_s, c->urgent_s);
    ak_json_set_str(q, "delegate", b.buf);
    ak_json_set_str(q, "note", "the rest: later deadlines of records that are not important, "
                               "arrivals that changed nothing urgent, partial coverage, medium "
                               "and low CI-auth findings");
    ak_json_set(rules, "quadrants", q);
    ak_buf_release(&b);
}

static struct ak_json *assemble(struct ctx *c)
{
    struct ak_json *o = ak_json_new_obj(), *counts = ak_json_new_obj();
    struct ak_json *quads = ak_json_new_obj(), *secs = ak_json_new_obj();
    struct ak_json *qa[AK__REPORT_NQ], *sa[AK__REPORT_NSEC], *rules = ak_json_new_obj();
    int y = 0, mon = 0, d = 0;
    char date[16], label[32], local[64];
    static const char wd[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};

    ak_tz_to_local(c->tz, c->at, &y, &mon, &d, NULL, NULL);
    snprintf(date, sizeof(date), "%04d-%02d-%02d", y, mon, d);
    int64_t days = ak_days_from_civil(y, (unsigned)mon, (unsigned)d);
    snprintf(label, sizeof(label), "%s (%s)", date, wd[((days % 7) + 7) % 7]);
    if (c->n_items)
        qsort(c->items, c->n_items, sizeof(*c->items), item_cmp);
    for (size_t i = 0; i < AK__REPORT_NQ; i++)
        qa[i] = ak_json_new_arr();
    for (size_t i = 0; i < AK__REPORT_NSEC; i++)
        sa[i] = ak_json_new_arr();
    for (size_t i = 0; i < c->n_items; i++) {
        ak_json_append(qa[c->items[i].q], ak_json_ref(c->items[i].j));
        ak_json_append(sa[c->items[i].sec], c->items[i].j);
        c->items[i].j = NULL;
    }
    ak_json_set_str(o, "date", date);
    ak_json_set_str(o, "date_label", label);
    ak_json_set_time(o, "generated_at", c->at);
    ak_tz_fmt_short(c->tz, c->at, local, sizeof(local));
    ak_json_set_str(o, "generated_local", local);
    ak_json_set_str(o, "tz", ak_tz_name(c->tz));
    ak_json_set_str(rules, "urgent_within", c->urgent_s);
    ak_json_set_str(rules, "horizon", c->horizon_s);
    quadrant_rules(c, rules);
    ak_json_set(o, "rules", rules);
    for (size_t i = 0; i < AK__REPORT_NQ; i++) {
        ak_json_set_int(counts, ak__report_q_keys[i], (int64_t)ak_json_len(qa[i]));
        ak_json_set(quads, ak__report_q_keys[i], qa[i]);
    }
    ak_json_set(o, "counts", counts);
    ak_json_set(o, "quadrants", quads);
    for (size_t i = 0; i < AK__REPORT_NSEC; i++)
        ak_json_set(secs, ak__report_sec_keys[i], sa[i]);
    ak_json_set(o, "sections", secs);
    ak_json_set(o, "warnings", ak_json_ref(c->warnings));
    return o;
}

/* "3d", "1d 1h", "36h 30m": the config's own units, zero parts left out. */
static void fmt_span(int64_t ms, char *buf, size_t n)
{
    int64_t d = ms / DAY_MS, h = ms % DAY_MS / 3600000, m = ms % 3600000 / 60000;
    size_t k = 0;

    buf[0] = 0;
    if (d)
        k += (size_t)snprintf(buf + k, n - k, "%" PRId64 "d", d);
    if (h && k < n)
        k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64 "h", k ? " " : "", h);
    if ((m || !k) && k < n)
        snprintf(buf + k, n - k, "%s%" PRId64 "m", k ? " " : "", m);
}

static int load_tz(const struct ak_cfg *cfg, const char *tz_name, struct ak_tz **ret,
                   struct ak_buf *err)
{
    const char *zone = tz_name && *tz_name ? tz_name : cfg->digest_tz ? cfg->digest_tz : "UTC";
    int r = ak_tz_load(zone, NULL, ret, NULL);
    if (r < 0)
        return ak_err(err, AK_EINVAL, "unknown time zone '%.80s' (an IANA name like "
                                      "Asia/Tokyo or UTC)", zone);
    return AK_OK;
}

int ak_report_build(const struct ak_cfg *cfg, struct ak_store *st, int64_t at_ms,
                    const char *tz_name, struct ak_json **ret, struct ak_buf *err)
{
    struct ctx c = {.cfg = cfg, .st = st, .at = at_ms};
    int r;

    if (!cfg || !st || !ret)
        return ak_err(err, AK_EINVAL, "the report needs a configuration and a store");
    r = load_tz(cfg, tz_name, &c.tz, err);
    if (r < 0)
        return r;
    ak_maint_cfg_init(&c.mc, cfg);
    c.urgent = cfg->report_urgent_within_ms > 0 ? cfg->report_urgent_within_ms : 3 * DAY_MS;
    c.horizon = cfg->report_horizon_ms > 0 ? cfg->report_horizon_ms : 14 * DAY_MS;
    if (c.horizon < c.urgent)
        c.horizon = c.urgent; /* what is urgent is always within sight */
    fmt_span(c.urgent, c.urgent_s, sizeof(c.urgent_s));
    fmt_span(c.horizon, c.horizon_s, sizeof(c.horizon_s));
    c.warnings = ak_json_new_arr();
    r = add_maintenance(&c);
    if (r < 0) {
        ak_err(err, r, "cannot read the maintenance records: %s", ak_strerror(r));
        goto out;
    }
    r = add_steps(&c);
    if (r < 0) {
        ak_err(err, r, "cannot read the runbook steps: %s", ak_strerror(r));
        goto out;
    }
    r = add_overnight(&c);
    if (r < 0) {
        ak_err(err, r, "cannot read the changes of the last day: %s", ak_strerror(r));
        goto out;
    }
    add_coverage(&c);
    add_ci_auth(&c);
    add_monitoring(&c);
    *ret = assemble(&c);
out:
    for (size_t i = 0; i < c.n_items; i++)
        ak_json_free(c.items[i].j);
    free(c.items);
    free(c.recs);
    ak_json_free(c.warnings);
    ak_tz_free(c.tz);
    return r;
}

int ak_report_digest(const struct ak_cfg *cfg, int64_t at_ms, const char *tz_name,
                     struct ak_buf *md, struct ak_buf *html, struct ak_buf *json,
                     struct ak_buf *err)
{
    struct ak_store *st = NULL;
    struct ak_json *rep = NULL;
    char *text = NULL;
    int r = ak_store_open(cfg->data_dir, AK_STORE_READ, &st, err);

    if (r < 0)
        goto out;
    r = ak_report_build(cfg, st, at_ms, tz_name, &rep, err);
    if (r < 0)
        goto out;
    r = ak_report_render_md(rep, md);
    if (r == AK_OK)
        r = ak_report_render_html(rep, html);
    if (r == AK_OK) {
        text = ak_json_dump(rep, AK_JSON_COMPACT);
        r = ak_buf_add(json, text);
    }
    if (r < 0)
        ak_err(err, r, "cannot render the report: %s", ak_strerror(r));
out:
    free(text);
    ak_json_free(rep);
    ak_store_close(st);
    return r;
}

int ak_report_at(const struct ak_cfg *cfg, const char *date, const char *tz_name, int64_t *ret_ms,
                 struct ak_buf *err)
{
    struct ak_tz *tz = NULL;
    int hh = 9, mm = 0, y, mon, d;
    int64_t at;
    int r;

    if (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-' ||
        strspn(date, "0123456789-") != 10)
        return ak_err(err, AK_EINVAL, "date '%.40s' is not YYYY-MM-DD", date ? date : "");
    y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
    mon = (date[5] - '0') * 10 + (date[6] - '0');
    d = (date[8] - '0') * 10 + (date[9] - '0');
    if (cfg && cfg->digest_time) {
        char tail;
        if (sscanf(cfg->digest_time, "%2d:%2d%c", &hh, &mm, &tail) != 2 || hh < 0 || hh > 23 ||
            mm < 0 || mm > 59) {
            hh = 9;
            mm = 0;
        }
    }
    r = load_tz(cfg, tz_name, &tz, err);
    if (r < 0)
        return r;
    r = ak_tz_from_local(tz, y, mon, d, hh, mm, &at);
    if (r < 0)
        r = ak_err(err, AK_EINVAL, "date '%s' does not exist", date);
    else
        *ret_ms = at;
    ak_tz_free(tz);
    return r;
}
