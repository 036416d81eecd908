/* test_runbook.c — runbook templates: parsing with NAME:LINE errors, offsets, deadlines across
 * time zones and the 2026 America/New_York DST changes (expected instants from
 * `zdump -v -c 2026,2027 America/New_York`), variables, event times, redaction, and every
 * template shipped in runbooks/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_runbook.h"
#include "asakai/ak_time.h"
#include "asakai/ak_tz.h"
#include "ak_test.h"

#define MIN_MS (60LL * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

static int64_t at(const char *s)
{
    int64_t ms = 0;

    if (ak_time_parse(s, &ms) != 0) {
        printf("# bad test time %s\n", s);
        fflush(stdout);
        abort();
    }
    return ms;
}

static struct ak_tz *zone(const char *name)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_tz *tz = NULL;

    if (ak_tz_load(name, NULL, &tz, &err) != 0)
        printf("# cannot load %s: %s\n", name, err.buf);
    ak_buf_release(&err);
    return tz;
}

static int parse(const char *text, struct ak_rb_template *t, struct ak_buf *err)
{
    return ak_runbook_parse("t.md", text, strlen(text), t, err);
}

/* ---- parsing ---- */

static const char good[] =
    "---\n"
    "title: ElastiCache node replacement\n"
    "owner: sre\n"
    "variables:\n"
    "  cluster: {description: \"replication group id\", required: true}\n"
    "  window: {description: \"maintenance window\", default: \"see the notice\"}\n"
    "  port: {description: port, default: 6379}\n"
    "  note: {description: \"optional\"}\n"
    "---\n"
    "Free Markdown: what this procedure is for.\n"
    "\n"
    "## notify-cs: Ask CS to publish the maintenance notice\n"
    "{offset: \"T-14d\", owner: cs, type: task}\n"
    "Why: customers need two weeks' notice. Variables expand: {{cluster}}.\n"
    "\n"
    "```sh\n"
    "## not-a-step: a shell comment in a fence\n"
    "docker inspect -f '{{.State.Status}}' x\n"
    "```\n"
    "\n"
    "## check-replicas: Replicas are in sync\n"
    "{offset: \"T-1h\", owner: sre, type: check, command: \"redis-cli -h {{cluster}} -p {{port}} "
    "info\", timeout: 30s}\n"
    "\n"
    "## prepare: Prepare at six\n"
    "{offset: \"T-3d 18:00\", owner: product-2, type: task}\n"
    "## apply: Apply\n"
    "{offset: \"T-0\", owner: sre, type: run,\n"
    "  command: \"aws elasticache batch-apply-update-action --replication-group-ids "
    "{{cluster}}\"}\n"
    "## wait: Wait\n"
    "{offset: \"T+2h30m\", owner: sre, type: wait, command: \"true\", timeout: 1h, interval: 1m}\n"
    "## undo: Undo\n"
    "{offset: \"T+3h\", owner: sre, type: rollback, command: \"false\", rollback_of: apply}\n"
    "## undo-all: Undo all\n"
    "{offset: \"T+1d 09:30\", owner: sre, type: rollback, command: \"x\", rollback_of: [apply, "
    "wait], timeout: 90}\n";

AK_TEST(parses_a_template)
{
    struct ak_rb_template t;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_rb_step *s;

    AK_ASSERT_OK(parse(good, &t, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_STR(t.name, "t.md");
    AK_ASSERT_STR(t.title, "ElastiCache node replacement");
    AK_ASSERT_STR(t.owner, "sre");
    AK_ASSERT_STR(t.intro, "Free Markdown: what this procedure is for.");
    AK_ASSERT_EQ_INT(t.n_vars, 4);
    AK_ASSERT_STR(t.vars[0].name, "cluster");
    AK_ASSERT(t.vars[0].required);
    AK_ASSERT_NULL(t.vars[0].def);
    AK_ASSERT_STR(t.vars[1].def, "see the notice");
    AK_ASSERT(!t.vars[1].required);
    AK_ASSERT_STR(t.vars[2].def, "6379");
    AK_ASSERT_STR(t.vars[3].description, "optional");
    AK_ASSERT_EQ_INT(t.n_steps, 7);

    s = &t.steps[0];
    AK_ASSERT_STR(s->id, "notify-cs");
    AK_ASSERT_STR(s->title, "Ask CS to publish the maintenance notice");
    AK_ASSERT_STR(s->owner, "cs");
    AK_ASSERT_EQ_INT(s->type, AK_STEP_TASK);
    AK_ASSERT_NULL(s->command);
    AK_ASSERT_STR(s->offset, "T-14d");
    AK_ASSERT_EQ_INT(s->offset_ms, -14 * DAY_MS);
    AK_ASSERT_EQ_INT(s->at_hh, -1);
    AK_ASSERT_EQ_INT(s->line, 12);
    AK_ASSERT_STR(s->body, "Why: customers need two weeks' notice. Variables expand: {{cluster}}.\n"
                           "\n```sh\n## not-a-step: a shell comment in a fence\n"
                           "docker inspect -f '{{.State.Status}}' x\n```");
    s = &t.steps[1];
    AK_ASSERT_EQ_INT(s->type, AK_STEP_CHECK);
    AK_ASSERT_STR(s->command, "redis-cli -h {{cluster}} -p {{port}} info");
    AK_ASSERT_EQ_INT(s->timeout_ms, 30000);
    AK_ASSERT_EQ_INT(s->interval_ms, 0);
    AK_ASSERT_EQ_INT(s->offset_ms, -HOUR_MS);
    AK_ASSERT_STR(s->body, "");
    s = &t.steps[2];
    AK_ASSERT_EQ_INT(s->offset_ms, -3 * DAY_MS);
    AK_ASSERT_EQ_INT(s->at_hh, 18);
    AK_ASSERT_EQ_INT(s->at_mm, 0);
    AK_ASSERT_STR(s->owner, "product-2");
    AK_ASSERT_EQ_INT(s->timeout_ms, 5 * MIN_MS);
    s = &t.steps[3];
    AK_ASSERT_EQ_INT(s->type, AK_STEP_RUN);
    AK_ASSERT_EQ_INT(s->offset_ms, 0);
    AK_ASSERT_STR(s->command,
                  "aws elasticache batch-apply-update-action --replication-group-ids {{cluster}}");
    AK_ASSERT_EQ_INT(s->line, 26);
    s = &t.steps[4];
    AK_ASSERT_EQ_INT(s->type, AK_STEP_WAIT);
    AK_ASSERT_EQ_INT(s->offset_ms, 2 * HOUR_MS + 30 * MIN_MS);
    AK_ASSERT_EQ_INT(s->timeout_ms, HOUR_MS);
    AK_ASSERT_EQ_INT(s->interval_ms, MIN_MS);
    s = &t.steps[5];
    AK_ASSERT_EQ_INT(s->type, AK_STEP_ROLLBACK);
    AK_ASSERT_EQ_INT(s->n_rollback_of, 1);
    AK_ASSERT_STR(s->rollback_of[0], "apply");
    s = &t.steps[6];
    AK_ASSERT_EQ_INT(s->n_rollback_of, 2);
    AK_ASSERT_STR(s->rollback_of[1], "wait");
    AK_ASSERT_EQ_INT(s->offset_ms, DAY_MS);
    AK_ASSERT_EQ_INT(s->at_hh, 9);
    AK_ASSERT_EQ_INT(s->at_mm, 30);
    AK_ASSERT_EQ_INT(s->timeout_ms, 90000);
    AK_ASSERT_STR(ak_step_type_name(AK_STEP_WAIT), "wait");
    AK_ASSERT_STR(ak_step_type_name(AK_STEP_ROLLBACK), "rollback");
    AK_ASSERT_STR(ak_step_type_name((enum ak_step_type)99), "unknown");
    ak_rb_template_release(&t);
    ak_rb_template_release(&t); /* released twice: harmless */
    ak_rb_template_release(NULL);
    ak_buf_release(&err);
}

AK_TEST(crlf_and_no_final_newline)
{
    static const char text[] = "---\r\ntitle: T\r\nowner: sre\r\n---\r\n## a: A\r\n"
                               "{offset: \"T-0\", owner: sre, type: task}\r\nbody";
    struct ak_rb_template t;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(parse(text, &t, &err));
    AK_ASSERT_EQ_INT(t.n_steps, 1);
    AK_ASSERT_STR(t.steps[0].title, "A");
    AK_ASSERT_STR(t.steps[0].body, "body");
    AK_ASSERT_STR(t.intro, "");
    ak_rb_template_release(&t);
    ak_buf_release(&err);
}

static void expect_errors(const char *text, const char *want)
{
    struct ak_rb_template t;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    memset(&t, 0x5a, sizeof(t));
    AK_ASSERT_EQ_INT(parse(text, &t, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, want);
    AK_ASSERT(t.name == (char *)(uintptr_t)0x5a5a5a5a5a5a5a5aULL); /* untouched */
    ak_buf_release(&err);
}

#define HEAD "---\ntitle: T\nowner: sre\n---\n"

AK_TEST(errors_name_file_and_line)
{
    expect_errors("---\n"
                  "title: Broken\n"
                  "owner: sre\n"
                  "variables:\n"
                  "  cluster: {description: \"id\", required: true}\n"
                  "---\n"
                  "Intro {{cluster}}.\n"
                  "\n"
                  "## one: Bad offset\n"
                  "{offset: \"T-14x\", owner: sre, type: task}\n"
                  "\n"
                  "## two: Unknown type\n"
                  "{offset: \"T-1d\", owner: sre, type: deploy}\n"
                  "\n"
                  "## three: Missing owner\n"
                  "{offset: \"T-1h\", type: check, command: \"echo {{cluster}}\"}\n"
                  "\n"
                  "## one: Duplicate\n"
                  "{offset: \"T+1h\", owner: sre, type: task}\n"
                  "Uses {{undeclared_var}} here, and {{undeclared_var}} again.\n"
                  "\n"
                  "## four: Missing command\n"
                  "{offset: \"T-0\", owner: sre, type: run}\n"
                  "```\n"
                  "## not-a-step: inside a fence\n"
                  "```\n",
                  "t.md:10: step one: bad offset \"T-14x\": an offset is T-14d, T-3d 18:00, T-0, "
                  "T+1h or T+2h30m (units d h m, at most 400d)\n"
                  "t.md:13: step two: unknown step type \"deploy\" (task, check, run, rollback, "
                  "wait)\n"
                  "t.md:16: step three: missing attribute owner\n"
                  "t.md:18: duplicate step id one (first at line 9)\n"
                  "t.md:23: step four: missing attribute command\n"
                  "t.md:20: variable {{undeclared_var}} is used but not declared in the front "
                  "matter\n");
}

AK_TEST(front_matter_errors)
{
    expect_errors("title: T\n", "t.md:1: a template starts with a YAML front matter between two "
                                "\"---\" lines\n");
    expect_errors("", "t.md:1: a template starts with a YAML front matter between two \"---\" "
                      "lines\n");
    expect_errors("---\ntitle: T\n", "t.md:1: the front matter is not closed by a \"---\" line\n");
    expect_errors("---\ntitle: T\nowner: [sre\n---\n",
                  "t.md:4:1: did not find expected ',' or ']' while parsing a flow sequence "
                  "(line 3 column 8)\n");
    expect_errors("---\ntitle: T\ntitle: U\n---\n",
                  "t.md:3:1: title: duplicate key (first set at line 2 column 1)\n");
    expect_errors("---\n---\n## a: A\n{offset: T-0, owner: sre, type: task}\n",
                  "t.md:1: the front matter must be a mapping (title, owner, variables)\n");
    expect_errors("---\nowner: Sre Team\ntitel: x\n---\n## a: A\n"
                  "{offset: T-0, owner: sre, type: task}\n",
                  "t.md:3: unknown front matter key 'titel' (title, owner, variables)\n"
                  "t.md:1: the front matter needs title\n"
                  "t.md:2: owner must be a team name (a-z, 0-9, '-')\n");
    expect_errors("---\ntitle: T\nowner: sre\nvariables:\n  1x: {description: d}\n"
                  "  y: {required: maybe, color: red}\n  z: [a]\n---\n"
                  "## a: A\n{offset: T-0, owner: sre, type: task}\n",
                  "t.md:5: variable names are letters, digits and _ (at most 64), not starting "
                  "with a digit\n"
                  "t.md:6: variable y: unknown attribute 'color' (description, default, "
                  "required)\n"
                  "t.md:6: variable y: required must be true or false\n"
                  "t.md:7: variable z: expected {description, default, required}\n");
    expect_errors(HEAD "intro only\n", "t.md:5: the template has no steps (\"## id: Title\" "
                                       "sections)\n");
}

AK_TEST(step_errors)
{
    expect_errors(HEAD "## Bad_Id: x\n{offset: T-0, owner: sre, type: task}\n",
                  "t.md:5: bad step id \"Bad_Id\": a-z, 0-9 and '-', at most 63, not starting "
                  "with '-'\n");
    expect_errors(HEAD "## no colon\n{offset: T-0, owner: sre, type: task}\n",
                  "t.md:5: a step heading is \"## id: Title\"\n");
    expect_errors(HEAD "## a:\n{offset: T-0, owner: sre, type: task}\n",
                  "t.md:5: step a: the heading needs a title after the ':'\n");
    expect_errors(HEAD "## a: A\nno attributes here\n",
                  "t.md:5: step a: needs its attributes on the line after the heading "
                  "({offset: T-1d, owner: sre, type: task})\n");
    expect_errors(HEAD "## a: A\n{offset: T-0, owner: sre,\ntype: task\n",
                  "t.md:6: step a: the attribute mapping is not closed with '}'\n");
    expect_errors(HEAD "## a: A\n{offset: T-0, owner: sre, type: task, type: run}\n",
                  "t.md:6:39: type: duplicate key (first set at line 6 column 27)\n");
    expect_errors(HEAD "## a: A\n{offset: \"T-3d2h 18:00\", owner: sre, type: task}\n"
                  "## b: B\n{offset: \"T-3d 25:00\", owner: sre, type: task}\n"
                  "## c: C\n{offset: \"T-1h1d\", owner: sre, type: task}\n"
                  "## d: D\n{offset: \"T-401d\", owner: sre, type: task}\n",
                  "t.md:6: step a: bad offset \"T-3d2h 18:00\": a clock time goes with whole "
                  "days only (T-3d 18:00, T-0 09:00)\n"
                  "t.md:8: step b: bad offset \"T-3d 25:00\": the clock time of an offset is "
                  "HH:MM (00:00 to 23:59), as in T-3d 18:00\n"
                  "t.md:10: step c: bad offset \"T-1h1d\": an offset is T-14d, T-3d 18:00, T-0, "
                  "T+1h or T+2h30m (units d h m, at most 400d)\n"
                  "t.md:12: step d: bad offset \"T-401d\": an offset is T-14d, T-3d 18:00, T-0, "
                  "T+1h or T+2h30m (units d h m, at most 400d)\n");
    expect_errors(HEAD "## a: A\n{offset: T-0, owner: sre, type: task, command: ls, when: now}\n"
                  "## b: B\n{offset: T-0, owner: sre, type: run, command: ls, interval: 5s, "
                  "timeout: 2d}\n"
                  "## c: C\n{offset: T-0, owner: sre, type: rollback, command: ls, "
                  "rollback_of: [nope]}\n"
                  "## d: D\n{offset: T-0, owner: sre, type: check, command: ls, "
                  "rollback_of: [a]}\n",
                  "t.md:6: step a: unknown attribute 'when' (offset, owner, type, command, "
                  "timeout, interval, rollback_of)\n"
                  "t.md:6: step a: a task has no command (use check or run)\n"
                  "t.md:8: step b: timeout must be a duration from 1s to 24h (30s, 5m, 1h)\n"
                  "t.md:8: step b: interval applies to wait steps only\n"
                  "t.md:12: step d: rollback_of applies to rollback steps only\n"
                  "t.md:9: step c: rollback_of names an unknown step nope\n");
    expect_errors(HEAD "## a: A\n{offset: T-0, owner: sre, type: wait, command: x, timeout: 10s, "
                  "interval: 1m}\n",
                  "t.md:6: step a: interval is longer than timeout\n");
}

AK_TEST(error_caps_and_odd_input)
{
    struct ak_buf text = AK_BUF_INIT(AK_BUF_NOMAX), err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_rb_template t;
    static const char nul[] = HEAD "## a: A\n\0";
    size_t lines = 0;

    ak_buf_add(&text, HEAD);
    for (int i = 0; i < 30; i++)
        ak_buf_addf(&text, "## s%d: S\n{offset: T-0, owner: sre, type: nope}\n", i);
    AK_ASSERT_EQ_INT(parse(text.buf, &t, &err), AK_EINVAL);
    for (const char *p = err.buf; *p; p++)
        lines += *p == '\n';
    AK_ASSERT_EQ_INT(lines, 20);
    AK_ASSERT_EQ_INT(ak_runbook_parse("t.md", text.buf, text.len, &t, NULL), AK_EINVAL);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_runbook_parse("t.md", nul, sizeof(nul) - 1, &t, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "t.md:6: the template contains a NUL byte\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_runbook_parse("t.md", NULL, 5, &t, &err), AK_EINVAL);
    ak_buf_reset(&text);
    ak_buf_add(&text, HEAD);
    while (text.len <= 256 * 1024)
        ak_buf_add(&text, "padding padding padding padding padding padding padding padding\n");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse(text.buf, &t, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "t.md:1: the template is larger than 256 KiB\n");
    ak_buf_release(&text);
    ak_buf_release(&err);
}

/* ---- deadlines ---- */

static const char dated[] = HEAD
    "## days: Three days before\n{offset: \"T-3d\", owner: sre, type: task}\n"
    "## evening: Three days before at six\n{offset: \"T-3d 18:00\", owner: sre, type: task}\n"
    "## hour: One hour before\n{offset: \"T-1h\", owner: sre, type: task}\n"
    "## morning: The event day at nine\n{offset: \"T-0 09:00\", owner: sre, type: task}\n"
    "## after: Two and a half hours after\n{offset: \"T+2h30m\", owner: sre, type: task}\n"
    "## next-day: The next day at half past one\n{offset: \"T+1d 01:30\", owner: sre, type: task}\n"
    "## gap: The day before at half past two\n{offset: \"T-1d 02:30\", owner: sre, type: task}\n";

/* Plans dated for an event at `when` (local, in zone name; NULL = UTC) and checks the deadlines
 * of the seven steps against RFC 3339 UTC strings. */
static void expect_plan(const char *zname, const char *when, const char *const want[7])
{
    struct ak_rb_template t;
    struct ak_rb_plan p;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_tz *tz = zname ? zone(zname) : NULL;
    int64_t ev = 0;

    AK_ASSERT(!zname || tz);
    AK_ASSERT_OK(parse(dated, &t, &err));
    AK_ASSERT_OK(ak_runbook_parse_at(when, tz, &ev, &err));
    AK_ASSERT_OK(ak_runbook_plan(&t, ev, tz, NULL, 0, &p, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(p.at_ms, ev);
    AK_ASSERT_STR(p.tz, zname ? zname : "UTC");
    AK_ASSERT_EQ_INT(p.n_due, 7);
    for (size_t i = 0; i < 7; i++) {
        char got[AK_TIME_RFC3339_LEN];

        ak_time_fmt_rfc3339(p.due[i].due_ms, got, sizeof(got));
        AK_ASSERT_STR(p.due[i].step_id, t.steps[i].id);
        AK_ASSERT_STR(got, want[i]);
    }
    ak_rb_plan_release(&p);
    ak_rb_template_release(&t);
    ak_tz_free(tz);
    ak_buf_release(&err);
}

AK_TEST(deadlines_tokyo_and_utc)
{
    /* 02:00 JST on Dec 10 is Dec 9 17:00 UTC: "T-3d 18:00" counts from the local date */
    static const char *const tokyo[7] = {
        "2026-12-06T17:00:00Z", "2026-12-07T09:00:00Z", "2026-12-09T16:00:00Z",
        "2026-12-10T00:00:00Z", "2026-12-09T19:30:00Z", "2026-12-10T16:30:00Z",
        "2026-12-08T17:30:00Z"};
    static const char *const utc[7] = {
        "2026-12-07T02:00:00Z", "2026-12-07T18:00:00Z", "2026-12-10T01:00:00Z",
        "2026-12-10T09:00:00Z", "2026-12-10T04:30:00Z", "2026-12-11T01:30:00Z",
        "2026-12-09T02:30:00Z"};

    expect_plan("Asia/Tokyo", "2026-12-10 02:00", tokyo);
    expect_plan(NULL, "2026-12-10T02:00", utc);
}

AK_TEST(deadlines_across_spring_forward)
{
    /* Event Tuesday 2026-03-10 02:00 EDT (06:00Z). DST began Sunday 03-08 at 02:00 EST.
     * "T-3d" is 72 real hours: Saturday 01:00 EST. "T-3d 18:00" is Saturday 18:00 EST (23:00Z),
     * still on the wall clock. "T-1d 02:30" is Monday 02:30 EDT. */
    static const char *const ny[7] = {
        "2026-03-07T06:00:00Z", "2026-03-07T23:00:00Z", "2026-03-10T05:00:00Z",
        "2026-03-10T13:00:00Z", "2026-03-10T08:30:00Z", "2026-03-11T05:30:00Z",
        "2026-03-09T06:30:00Z"};
    /* Event Monday 2026-03-09 02:00 EDT: "T-1d 02:30" is Sunday 02:30, which does not exist;
     * it moves forward by the gap to 03:30 EDT (07:30Z). "T-3d 18:00" is Friday 18:00 EST. */
    static const char *const gap[7] = {
        "2026-03-06T06:00:00Z", "2026-03-06T23:00:00Z", "2026-03-09T05:00:00Z",
        "2026-03-09T13:00:00Z", "2026-03-09T08:30:00Z", "2026-03-10T05:30:00Z",
        "2026-03-08T07:30:00Z"};

    expect_plan("America/New_York", "2026-03-10 02:00", ny);
    expect_plan("America/New_York", "2026-03-09 02:00", gap);
}

AK_TEST(deadlines_on_fall_back_day)
{
    /* An event at 01:30 on 2026-11-01, the hour that happens twice: the first (EDT, 05:30Z).
     * "T+2h30m" is 08:00Z (03:00 EST); "T-0 09:00" is 09:00 EST (14:00Z); "T+1d 01:30" is
     * Monday 01:30 EST; "T-3d 18:00" is Thursday 18:00 EDT (22:00Z). */
    static const char *const ny[7] = {
        "2026-10-29T05:30:00Z", "2026-10-29T22:00:00Z", "2026-11-01T04:30:00Z",
        "2026-11-01T14:00:00Z", "2026-11-01T08:00:00Z", "2026-11-02T06:30:00Z",
        "2026-10-31T06:30:00Z"};
    struct ak_tz *tz = zone("America/New_York");
    int64_t ms = 0;

    AK_ASSERT(tz != NULL);
    AK_ASSERT_OK(ak_runbook_parse_at("2026-11-01 01:30", tz, &ms, NULL));
    AK_ASSERT_EQ_INT(ms, at("2026-11-01T05:30:00Z"));
    ak_tz_free(tz);
    expect_plan("America/New_York", "2026-11-01 01:30", ny);
    /* the same wall time given with its offset: the second 01:30 (EST) is 06:30Z */
    expect_plan("America/New_York", "2026-11-01T01:30:00-05:00",
                (const char *const[7]){"2026-10-29T06:30:00Z", "2026-10-29T22:00:00Z",
                                       "2026-11-01T05:30:00Z", "2026-11-01T14:00:00Z",
                                       "2026-11-01T09:00:00Z", "2026-11-02T06:30:00Z",
                                       "2026-10-31T06:30:00Z"});
}

/* ---- variables ---- */

static const char with_vars[] =
    "---\ntitle: V\nowner: sre\nvariables:\n"
    "  cluster: {description: \"replication group id\", required: true}\n"
    "  region: {description: region, default: ap-northeast-1}\n"
    "  note: {description: optional}\n"
    "---\n"
    "## a: Check {{cluster}}\n"
    "{offset: T-1h, owner: sre, type: check, command: \"aws elasticache "
    "describe-replication-groups --replication-group-id {{cluster}} --region {{region}}\"}\n"
    "Note: [{{note}}] {{region}}{{region}} {{.Go}} {{ cluster }} {{cluster\n";

static int plan_vars(const char *const *vars, size_t n, struct ak_rb_plan *p, struct ak_buf *err)
{
    struct ak_rb_template t;
    int r;

    if (parse(with_vars, &t, err) != 0)
        return 99;
    r = ak_runbook_plan(&t, at("2026-12-10T00:00:00Z"), NULL, vars, n, p, err);
    ak_rb_template_release(&t);
    return r;
}

AK_TEST(variables_expand)
{
    static const char *const later_wins[] = {"cluster=first", "note=x=y", "cluster=prod-cache",
                                             "undeclared=ignored"};
    static const char *const region[] = {"cluster=c", "region=us-east-1"};
    struct ak_rb_plan p;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(plan_vars(later_wins, 4, &p, &err));
    AK_ASSERT_STR(p.due[0].title, "Check prod-cache");
    AK_ASSERT_STR(p.due[0].command, "aws elasticache describe-replication-groups "
                                    "--replication-group-id prod-cache --region ap-northeast-1");
    AK_ASSERT_STR(p.due[0].body, "Note: [x=y] ap-northeast-1ap-northeast-1 {{.Go}} {{ cluster }} "
                                 "{{cluster");
    AK_ASSERT_EQ_INT(p.due[0].due_ms, at("2026-12-09T23:00:00Z"));
    ak_rb_plan_release(&p);
    AK_ASSERT_OK(plan_vars(region, 2, &p, &err));
    AK_ASSERT_STR(p.due[0].body, "Note: [] us-east-1us-east-1 {{.Go}} {{ cluster }} {{cluster");
    ak_rb_plan_release(&p);
    ak_rb_plan_release(&p);
    AK_ASSERT_STR(err.buf, "");
    ak_buf_release(&err);
}

AK_TEST(variables_in_commands_are_never_shell_code)
{
    /* a value from a maintenance notice must stay one word: quoted unless plainly safe */
    static const char *const evil[] = {"cluster=x; rm -rf / #", "region=it's"};
    static const char *const arn[] = {"cluster=arn:aws:rds:us-east-1:123456789012:db:a-b_c.d",
                                      "region=us-east-1"};
    struct ak_rb_plan p;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT_OK(plan_vars(evil, 2, &p, &err));
    AK_ASSERT_STR(p.due[0].command, "aws elasticache describe-replication-groups "
                                    "--replication-group-id 'x; rm -rf / #' --region 'it'\\''s'");
    AK_ASSERT_STR(p.due[0].title, "Check x; rm -rf / #"); /* text is not a shell */
    ak_rb_plan_release(&p);
    AK_ASSERT_OK(plan_vars(arn, 2, &p, &err));
    AK_ASSERT_STR(p.due[0].command, "aws elasticache describe-replication-groups "
                                    "--replication-group-id arn:aws:rds:us-east-1:123456789012:"
                                    "db:a-b_c.d --region us-east-1");
    ak_rb_plan_release(&p);
    ak_buf_release(&err);
}

AK_TEST(variables_required_and_malformed)
{
    static const char *const none[] = {"region=x"};
    static const char *const empty[] = {"cluster=first", "cluster="};
    static const char *const bad[] = {"cluster"};
    static const char *const noname[] = {"=x"};
    struct ak_rb_plan p;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    memset(&p, 0x5a, sizeof(p));
    AK_ASSERT_EQ_INT(plan_vars(none, 1, &p, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "template t.md needs variable cluster (replication group id): give "
                           "--var cluster=...");
    AK_ASSERT(p.tz == (char *)(uintptr_t)0x5a5a5a5a5a5a5a5aULL);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(plan_vars(NULL, 0, &p, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "needs variable cluster");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(plan_vars(empty, 2, &p, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "needs variable cluster");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(plan_vars(bad, 1, &p, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "bad variable \"cluster\": expected name=value");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(plan_vars(noname, 1, &p, &err), AK_EINVAL);
    AK_ASSERT_STR(err.buf, "bad variable \"=x\": expected name=value");
    ak_buf_release(&err);
}

AK_TEST(undeclared_variable_in_template)
{
    expect_errors(HEAD "## a: Restart {{service}}\n{offset: T-0, owner: sre, type: run, "
                       "command: \"systemctl restart {{unit}}\"}\n{{service}} again\n",
                  "t.md:5: variable {{service}} is used but not declared in the front matter\n"
                  "t.md:6: variable {{unit}} is used but not declared in the front matter\n");
}

/* ---- event times ---- */

AK_TEST(parse_at_forms)
{
    struct ak_tz *tk = zone("Asia/Tokyo"), *ny = zone("America/New_York");
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    static const char *const bad[] = {"2026-12-10",       "2026-13-10 02:00", "2026-02-30 02:00",
                                      "2026-12-10 24:00", "2026-12-10 02:60", "tomorrow",
                                      "",                 "2026-12-10 2:00",  "2026/12/10 02:00",
                                      "2026-12-10 02:00:60", "2026-12-10X02:00",
                                      "2026-12-10T02:00:00+25:00", "12-10 02:00+09:00x"};
    int64_t ms = 0;

    AK_ASSERT(tk && ny);
    AK_ASSERT_OK(ak_runbook_parse_at("2026-12-10 02:00", tk, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-12-09T17:00:00Z"));
    AK_ASSERT_OK(ak_runbook_parse_at("2026-12-10T02:00", tk, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-12-09T17:00:00Z"));
    AK_ASSERT_OK(ak_runbook_parse_at("2026-12-10 02:00:30", tk, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-12-09T17:00:30Z"));
    AK_ASSERT_OK(ak_runbook_parse_at("2026-12-10T02:00:00+09:00", ny, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-12-09T17:00:00Z"));
    AK_ASSERT_OK(ak_runbook_parse_at("2026-12-10T02:00:00Z", tk, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-12-10T02:00:00Z"));
    AK_ASSERT_OK(ak_runbook_parse_at("2026-12-10 02:00", NULL, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-12-10T02:00:00Z"));
    /* the spring-forward gap moves forward; the fall-back overlap takes the first */
    AK_ASSERT_OK(ak_runbook_parse_at("2026-03-08 02:30", ny, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-03-08T07:30:00Z"));
    AK_ASSERT_OK(ak_runbook_parse_at("2026-11-01 01:30", ny, &ms, &err));
    AK_ASSERT_EQ_INT(ms, at("2026-11-01T05:30:00Z"));
    AK_ASSERT_STR(err.buf, "");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ms = 42;
        ak_buf_reset(&err);
        if (ak_runbook_parse_at(bad[i], tk, &ms, &err) != AK_EINVAL || ms != 42)
            printf("# accepted \"%s\"\n", bad[i]);
        AK_ASSERT_EQ_INT(ak_runbook_parse_at(bad[i], tk, &ms, &err), AK_EINVAL);
        AK_ASSERT_EQ_INT(ms, 42);
        AK_ASSERT_CONTAINS(err.buf, "event time");
    }
    AK_ASSERT_EQ_INT(ak_runbook_parse_at(NULL, tk, &ms, NULL), AK_EINVAL);
    ak_tz_free(tk);
    ak_tz_free(ny);
    ak_buf_release(&err);
}

/* ---- redaction ---- */

static void expect_redact(const char *in, size_t len, const char *want, size_t want_len,
                          size_t count)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_buf_addn(&b, in, len);
    AK_ASSERT_EQ_INT(ak_runbook_redact(&b), count);
    if (b.len != want_len || memcmp(b.buf, want, want_len) != 0)
        printf("# got: %s\n", b.buf);
    AK_ASSERT_EQ_INT(b.len, want_len);
    AK_ASSERT_MEM(b.buf, want, want_len);
    ak_buf_release(&b);
}

#define REDACT(in, want, n) expect_redact(in, strlen(in), want, strlen(want), n)

AK_TEST(redacts_secrets)
{
    static const char nul_in[] = "a\0password=x\0b";
    static const char nul_out[] = "a\0password=[REDACTED]\0b";

    REDACT("AccessKeyId: AKIAIOSFODNN7EXAMPLE\n", "AccessKeyId: [REDACTED]\n", 1);
    REDACT("\"AccessKeyId\": \"ASIAY34FZKBOKMUTVV7A\",", "\"AccessKeyId\": \"[REDACTED]\",", 1);
    REDACT("{\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\", "
           "\"SessionToken\": \"IQoJb3JpZ2luX2VjEJr//////////wEaCXVz\"}",
           "{\"SecretAccessKey\": \"[REDACTED]\", \"SessionToken\": \"[REDACTED]\"}", 2);
    REDACT("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
           "aws_secret_access_key = [REDACTED]\n", 1);
    REDACT("password=hunter2 user=bob", "password=[REDACTED] user=bob", 1);
    REDACT("DB_PASSWORD='p a s s' next", "DB_PASSWORD='[REDACTED]' next", 1);
    REDACT("requirepass: \"s3cret\"", "requirepass: \"[REDACTED]\"", 1);
    REDACT("mysql --password hunter2 -h db", "mysql --password [REDACTED] -h db", 1);
    REDACT("api_key: abc123\nApiKey=zzz", "api_key: [REDACTED]\nApiKey=[REDACTED]", 2);
    REDACT("> Authorization: Bearer abc.def.ghi\r\n> Host: x\r\n",
           "> Authorization: [REDACTED]\r\n> Host: x\r\n", 1);
    REDACT("authorization: Basic dXNlcjpwYXNz\n", "authorization: [REDACTED]\n", 1);
    REDACT("got Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln ok",
           "got Bearer [REDACTED] ok", 1);
    REDACT("curl -H 'X-Api-Key: 1234' x", "curl -H 'X-Api-Key: [REDACTED]' x", 1);
    REDACT("token ghp_0123456789abcdefghijABCDEFGHIJ0123", "token [REDACTED]", 1);
    REDACT("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n"
           "-----END RSA PRIVATE KEY-----\nafter",
           "before\n[REDACTED]\nafter", 1);
    REDACT("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
           "[REDACTED]", 1);
    REDACT("redis://:s3cret@cache.example:6379/0", "redis://:[REDACTED]@cache.example:6379/0", 1);
    REDACT("postgres://app:pw@db/x and mysql://u:p@h", "postgres://app:[REDACTED]@db/x and "
                                                       "mysql://u:[REDACTED]@h", 2);
    expect_redact(nul_in, sizeof(nul_in) - 1, nul_out, sizeof(nul_out) - 1, 1);
    /* a second pass finds nothing more */
    REDACT("password=[REDACTED] Authorization: [REDACTED] redis://:[REDACTED]@h",
           "password=[REDACTED] Authorization: [REDACTED] redis://:[REDACTED]@h", 0);
}

AK_TEST(leaves_non_secrets_alone)
{
    static const char *const plain[] = {
        "Status: available\nReplicationGroupId: prod-cache\n",
        "Endpoint: prod-cache.abc123.ng.0001.apne1.cache.amazonaws.com:6379",
        "https://user@example.com/path https://example.com:8443/x?a=b",
        "Reset the password for user bob, then rotate the token.",
        "AKIAshort AKIAIOSFODNN7EXAMPLEX XAKIAIOSFODNN7EXAMPLE",
        "tokens are counted; connected_slaves:2; role:master",
        "i-0123456789abcdef0 ami-0abcdef1234567890 arn:aws:iam::123456789012:role/x",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "password=\n",
        "",
    };

    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        REDACT(plain[i], plain[i], 0);
    AK_ASSERT_EQ_INT(ak_runbook_redact(NULL), 0);
}

AK_TEST(redaction_respects_the_cap)
{
    struct ak_buf b = AK_BUF_INIT(16);

    AK_ASSERT_OK(ak_buf_add(&b, "password=x abcd"));
    AK_ASSERT_EQ_INT(ak_runbook_redact(&b), 1);
    AK_ASSERT_EQ_INT(b.len, 16);
    AK_ASSERT_STR(b.buf, "password=[REDACT");
    ak_buf_release(&b);
}

/* ---- loading and the shipped templates ---- */

static const char *const shipped[] = {"service-maintenance",  "release",
                                      "ec2-retirement",       "elasticache-node-replacement",
                                      "rds-minor-upgrade",    "rds-hardware-maintenance"};

/* Every required variable of t as "name=value". */
static size_t fill_required(const struct ak_rb_template *t, char vals[][80])
{
    size_t n = 0;

    for (size_t i = 0; i < t->n_vars && n < 16; i++)
        if (t->vars[i].required)
            snprintf(vals[n++], 80, "%s=x", t->vars[i].name);
    return n;
}

AK_TEST(shipped_templates_parse_and_plan)
{
    char dir[1024];
    struct ak_tz *tz = zone("Asia/Tokyo");
    size_t rollbacks = 0;

    AK_ASSERT(tz != NULL);
    snprintf(dir, sizeof(dir), "%s/runbooks", ak_test_srcdir());
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        struct ak_rb_template t;
        struct ak_rb_plan p;
        char vals[16][80];
        const char *vars[16];
        size_t nv, owners = 0;

        if (ak_runbook_load(dir, shipped[i], &t, &err) != 0)
            printf("# %s: %s\n", shipped[i], err.buf);
        AK_ASSERT_STR(err.buf, "");
        AK_ASSERT_STR(t.name, shipped[i]);
        AK_ASSERT(t.title && *t.title && t.intro && strlen(t.intro) > 100);
        AK_ASSERT(t.n_steps >= 8);
        for (size_t k = 0; k < t.n_steps; k++) {
            const struct ak_rb_step *s = &t.steps[k];

            AK_ASSERT((s->type == AK_STEP_TASK) == (s->command == NULL));
            owners += strcmp(s->owner, t.owner) != 0;
            rollbacks += s->type == AK_STEP_ROLLBACK;
        }
        AK_ASSERT(owners > 0); /* every procedure hands something to another team */
        nv = fill_required(&t, vals);
        for (size_t k = 0; k < nv; k++)
            vars[k] = vals[k];
        AK_ASSERT_OK(ak_runbook_plan(&t, at("2026-12-10T17:00:00Z"), tz, vars, nv, &p, &err));
        AK_ASSERT_EQ_INT(p.n_due, t.n_steps);
        for (size_t k = 0; k < p.n_due; k++)
            AK_ASSERT(!p.due[k].command || !strstr(p.due[k].command, "{{"));
        ak_rb_plan_release(&p);
        ak_rb_template_release(&t);
        ak_buf_release(&err);
    }
    AK_ASSERT(rollbacks >= 3);
    ak_tz_free(tz);
}

AK_TEST(load_errors)
{
    char dir[1024];
    struct ak_rb_template t;
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    snprintf(dir, sizeof(dir), "%s/runbooks", ak_test_srcdir());
    AK_ASSERT_EQ_INT(ak_runbook_load(dir, "no-such-template", &t, &err), AK_ENOTFOUND);
    AK_ASSERT_CONTAINS(err.buf, "no runbook template no-such-template in ");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_runbook_load(dir, "../README", &t, &err), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_runbook_load(dir, "Release", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_runbook_load(dir, "", &t, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_runbook_load("/nonexistent-dir", "release", &t, NULL), AK_ENOTFOUND);
    ak_buf_release(&err);
}

/* The complete example of docs/runbooks.md parses and gives the deadlines the page states. */
AK_TEST(docs_example)
{
    char *doc = ak_test_read_file("docs/runbooks.md", NULL);
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    static const char *const vars[] = {"cluster=c", "endpoint=e", "service_update=u"};
    struct ak_tz *tz = zone("Asia/Tokyo");
    struct ak_rb_template t;
    struct ak_rb_plan p;
    char *start, *end;
    int64_t ev = 0;

    AK_ASSERT(doc != NULL && tz != NULL);
    start = strstr(doc, "```markdown\n");
    AK_ASSERT(start != NULL);
    start += strlen("```markdown\n");
    end = strstr(start, "\n```\n");
    AK_ASSERT(end != NULL);
    AK_ASSERT_OK(ak_runbook_parse("example", start, (size_t)(end - start) + 1, &t, &err));
    AK_ASSERT_STR(err.buf, "");
    AK_ASSERT_EQ_INT(t.n_steps, 7);
    AK_ASSERT_OK(ak_runbook_parse_at("2026-12-10 02:00", tz, &ev, &err));
    AK_ASSERT_OK(ak_runbook_plan(&t, ev, tz, vars, 3, &p, &err));
    AK_ASSERT_EQ_INT(p.due[0].due_ms, at("2026-11-26T02:00:00+09:00"));
    AK_ASSERT_EQ_INT(p.due[2].due_ms, at("2026-12-09T17:00:00+09:00"));
    AK_ASSERT_EQ_INT(p.due[4].due_ms, at("2026-12-10T02:00:00+09:00"));
    AK_ASSERT_EQ_INT(p.due[6].due_ms, at("2026-12-11T10:00:00+09:00"));
    AK_ASSERT_CONTAINS(p.due[5].command, "--replication-group-id c --region ap-northeast-1");
    ak_rb_plan_release(&p);
    ak_rb_template_release(&t);
    ak_tz_free(tz);
    ak_buf_release(&err);
    free(doc);
}

AK_TEST_MAIN(AK_T(parses_a_template), AK_T(crlf_and_no_final_newline),
             AK_T(errors_name_file_and_line), AK_T(front_matter_errors), AK_T(step_errors),
             AK_T(error_caps_and_odd_input), AK_T(deadlines_tokyo_and_utc),
             AK_T(deadlines_across_spring_forward), AK_T(deadlines_on_fall_back_day),
             AK_T(variables_expand), AK_T(variables_in_commands_are_never_shell_code), AK_T(variables_required_and_malformed),
             AK_T(undeclared_variable_in_template), AK_T(parse_at_forms), AK_T(redacts_secrets),
             AK_T(leaves_non_secrets_alone), AK_T(redaction_respects_the_cap),
             AK_T(shipped_templates_parse_and_plan), AK_T(load_errors), AK_T(docs_example))
