/* ak_runbook.h — runbook templates and dated procedures (src/runbook/).
 *
 * A template is a Markdown file with a YAML front matter and one section per step:
 *
 *   ---
 *   title: ElastiCache node replacement
 *   owner: sre                       # owner team of the runbook
 *   variables:                       # name: {description, default?, required?}
 *     cluster: {description: "replication group id", required: true}
 *     window: {description: "maintenance window", default: "see the notice"}
 *   ---
 *   Free Markdown: what this procedure is for.
 *
 *   ## notify-cs: Ask CS to publish the maintenance notice
 *   {offset: "T-14d", owner: cs, type: task}
 *   Why: customers need two weeks' notice. Variables expand: {{cluster}}.
 *
 *   ## check-replicas: Replicas are in sync
 *   {offset: "T-1h", owner: sre, type: check, command: "redis-cli -h {{endpoint}} info", timeout: 30s}
 *
 * Step attributes (a YAML flow mapping on the line after the heading): offset (required:
 * "T-14d", "T-3d 18:00" = 18:00 local time three days before the event's date, "T-0", "T+1h",
 * "T+2h30m"; units d h m), owner (required: a team name), type (required: task | check | run |
 * rollback | wait), command (required for check/run/rollback/wait), timeout (default 5m), for
 * wait also interval (default 30s); rollback_of (for a rollback: the step ids it undoes; default
 * every earlier run step). Step ids: [a-z0-9][a-z0-9-]{0,62}, unique. Pure functions: no I/O
 * except ak_runbook_load reading one file; no logging.
 */
#ifndef AK_RUNBOOK_H
#define AK_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_json;
struct ak_tz;

enum ak_step_type { AK_STEP_TASK = 1, AK_STEP_CHECK, AK_STEP_RUN, AK_STEP_ROLLBACK, AK_STEP_WAIT };
const char *ak_step_type_name(enum ak_step_type t);

struct ak_rb_var {
    char *name, *description, *def; /* def NULL = no default */
    bool required;
};

struct ak_rb_step {
    char *id, *title;
    char *offset;              /* as written: "T-3d 18:00" */
    int64_t offset_ms;         /* signed offset from the event time (the day part and h/m) */
    int at_hh, at_mm;          /* -1 when no clock time: else the local time of day to use on
                                  the day (event local date + the day part of the offset) */
    char *owner;
    enum ak_step_type type;
    char *command;             /* NULL for task */
    int64_t timeout_ms, interval_ms;
    char **rollback_of;        /* rollback steps: ids undone; NULL/0 = every earlier run step */
    size_t n_rollback_of;
    char *body;                /* the step's free Markdown (why) */
    int line;                  /* line of the heading in the template */
};

struct ak_rb_template {
    char *name;                /* file name without .md */
    char *title, *owner, *intro;
    struct ak_rb_var *vars;
    size_t n_vars;
    struct ak_rb_step *steps;
    size_t n_steps;
};

/* Parses a template; name is used in errors as "NAME:LINE: reason" (several errors, up to 20,
 * one per line of err). AK_EINVAL for a bad front matter, a bad offset, an unknown step type,
 * a missing attribute, a duplicate id, a variable used in a step but not declared ("{{x}}"). */
int ak_runbook_parse(const char *name, const char *text, size_t len, struct ak_rb_template *ret,
                     struct ak_buf *err);
/* Reads and parses dir/NAME.md (NAME: [a-z0-9-]+). AK_ENOTFOUND when absent. */
int ak_runbook_load(const char *dir, const char *name, struct ak_rb_template *ret,
                    struct ak_buf *err);
void ak_rb_template_release(struct ak_rb_template *t);

/* A dated instance: the template with the event time fixed and the variables filled. */
struct ak_rb_due {
    char *step_id;
    int64_t due_ms;            /* absolute deadline (UTC ms) */
    char *title, *body, *command; /* with {{variables}} expanded */
};
struct ak_rb_plan {
    int64_t at_ms;             /* the event time (UTC ms) */
    char *tz;                  /* zone name used for local clock times */
    struct ak_rb_due *due;     /* parallel to the template's steps */
    size_t n_due;
};
/* Computes every step's deadline from the event time at_ms in zone tz: an offset without a clock
 * time is at_ms + offset; "T-3d 18:00" is 18:00 local on (local date of at_ms) - 3 days,
 * resolved in tz (a local time in a DST gap moves forward by the gap; in an overlap the first
 * occurrence). vars: "k=v" strings (later wins); a required variable without a value and without
 * a default is AK_EINVAL naming it. */
int ak_runbook_plan(const struct ak_rb_template *t, int64_t at_ms, const struct ak_tz *tz,
                    const char *const *vars, size_t n_vars, struct ak_rb_plan *ret,
                    struct ak_buf *err);
void ak_rb_plan_release(struct ak_rb_plan *p);

/* Parses "2026-12-10 02:00" / "2026-12-10T02:00" (local time in tz) or an RFC 3339 time with an
 * offset; AK_EINVAL. A local time in a DST gap moves forward; in an overlap, the first. */
int ak_runbook_parse_at(const char *s, const struct ak_tz *tz, int64_t *ret_ms,
                        struct ak_buf *err);

/* Replaces what looks like a secret in command output with "[REDACTED]": AWS access key ids
 * (AKIA/ASIA + 16), aws_secret_access_key / password / token / secret / api_key = value,
 * "Authorization: ..." and Bearer tokens, private key PEM blocks, URLs' userinfo, long base64
 * or hex runs following such keywords. In place; returns the number of redactions. */
size_t ak_runbook_redact(struct ak_buf *text);

#endif
