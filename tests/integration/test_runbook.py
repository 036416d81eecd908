#!/usr/bin/python3
"""Runbooks and the team memory against a live daemon: `runbook new` (time zones, DST,
--from-maint), export md/ics, done, run (check, failing run step and its rollback, wait,
--dry-run, secrets redacted), notes from stdin and a file, and search."""
import datetime
import json
import os
import re

import aklib
import samples
from aklib import REGION, Stack, check, check_eq, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.normpath(os.path.join(HERE, "..", "..", "runbooks"))
FAKE_KEY = "AKIAIOSFODNN7EXAMPLE"

# A template of our own: commands that run here, in a temporary folder. The fake key is built
# by the shell, so that it appears in the commands' output only (never in the template).
TEST_TEMPLATE = """---
title: Test procedure
owner: sre
variables:
  dir: {description: "work folder", required: true}
---
A procedure whose commands are harmless.

## prepare: Tell the team
{offset: "T-1d", owner: cs, type: task}
Why: people need to know.

## check-ready: The target is ready
{offset: "T-1h", owner: sre, type: check, command: "touch {{dir}}/checked; echo ready", timeout: 10s}
The check leaves a file so that a dry run can be told from a real one.

## apply: Apply the change
{offset: "T-0", owner: sre, type: run, command: "echo applying; echo aws_access_key_id=%(head)s$(printf %(tail)s); exit 3", timeout: 10s}
This fails on purpose.

## undo: Undo the change
{offset: "T+5m", owner: sre, type: rollback, command: "echo undoing %(head)s$(printf %(tail)s); touch {{dir}}/undone", timeout: 10s, rollback_of: [apply]}

## wait-flag: Wait for the flag
{offset: "T+10m", owner: sre, type: wait, command: "test -f {{dir}}/flag", timeout: 3s, interval: 1s}
""" % {"head": FAKE_KEY[:4], "tail": FAKE_KEY[4:]}


def _stack():
    """A Stack whose daemon knows the shipped templates and a folder with the test template."""
    s = Stack()
    tdir = os.path.join(s.d.dir, "templates")
    os.makedirs(tdir)
    with open(os.path.join(tdir, "rbtest.md"), "w") as f:
        f.write(TEST_TEMPLATE)
    with open(s.d.cfg_path, "a") as f:
        f.write("runbooks:\n  template_dir: %s\n  shipped_dir: %s\n" % (tdir, SHIPPED))
    return s


def _cli(s, *args, **kw):
    return run_cli(list(args), server=s.d.url, **kw)


def _ok(r, what):
    check(r.rc == 0, "%s: %r" % (what, r))
    return r


def _steps(rb):
    return {st["id"]: st for st in rb["steps"]}


def test_runbook_new_time_zones_and_dst():
    with _stack() as s:
        r = _ok(_cli(s, "runbook", "new", "release", "--at", "2026-11-05 10:00", "--tz",
                     "America/New_York", "--var", "version=2026.11.1", "--var",
                     "previous_version=2026.10.2", "--var", "health_url=http://127.0.0.1:1/h",
                     "-o", "json"), "runbook new release")
        rb = r.json()
        check(isinstance(rb["id"], int) and rb["template"] == "release", "instance: %r" % rb)
        check_eq(rb["at"], "2026-11-05T10:00:00-05:00", "event time")
        due = {k: v["due"] for k, v in _steps(rb).items()}
        # 2026-11-01 02:00 EDT -> EST: T-7d is 168 hours earlier, 11:00 daylight time
        check_eq(due["feature-freeze"], "2026-10-29T11:00:00-04:00", "T-7d across the DST end")
        check_eq(due["release-notes"], "2026-10-31T11:00:00-04:00", "T-5d")
        check_eq(due["brief-cs"], "2026-11-02T10:00:00-05:00", "T-3d")
        check_eq(due["staging-qa"], "2026-11-02T18:00:00-05:00", "T-3d 18:00 local")
        check_eq(due["go-no-go"], "2026-11-04T17:00:00-05:00", "T-1d 17:00 local")
        check_eq(due["deploy"], "2026-11-05T10:00:00-05:00", "T-0")
        check_eq(due["announce"], "2026-11-05T11:30:00-05:00", "T+1h30m")
        check_eq(due["morning-review"], "2026-11-06T10:00:00-05:00", "T+1d 10:00")
        for st in rb["steps"]:
            check(st["owner"] and st["type"] in ("task", "check", "run", "wait", "rollback"),
                  "step fields: %r" % st)
        check_eq(_steps(rb)["rollback-deploy"]["rollback_of"], ["deploy"], "rollback_of")
        check("2026.11.1" in _steps(rb)["deploy"]["command"], "variables expanded")
        # spring forward: 2026-03-08 02:00 EST -> 03:00 EDT; a 02:30 local time moves forward
        r = _ok(_cli(s, "runbook", "new", "release", "--at", "2026-03-08 02:30", "--tz",
                     "America/New_York", "--var", "version=1", "--var", "previous_version=0",
                     "--var", "health_url=http://x", "-o", "json"), "new in the DST gap")
        rb2 = r.json()
        check_eq(rb2["at"], "2026-03-08T03:30:00-04:00", "event time in the gap")
        check_eq(_steps(rb2)["go-no-go"]["due"], "2026-03-07T17:00:00-05:00", "day before, EST")
        # Asia/Tokyo, as in the issue
        r = _ok(_cli(s, "runbook", "new", "release", "--at", "2026-12-10 02:00", "--tz",
                     "Asia/Tokyo", "--var", "version=1", "--var", "previous_version=0",
                     "--var", "health_url=http://x", "-o", "json"), "new in Tokyo")
        rb3 = r.json()
        check_eq(_steps(rb3)["feature-freeze"]["due"], "2026-12-03T02:00:00+09:00", "T-7d JST")
        check_eq(_steps(rb3)["go-no-go"]["due"], "2026-12-09T17:00:00+09:00", "T-1d 17:00 JST")
        # errors: unknown template, missing variable, bad time
        r = _cli(s, "runbook", "new", "no-such-template", "--at", "2026-12-10 02:00")
        check(r.rc != 0 and "no-such-template" in r.err, "unknown template: %r" % r)
        r = _cli(s, "runbook", "new", "release", "--at", "2026-12-10 02:00", "--tz", "UTC")
        check(r.rc == 2 and "version" in r.err, "missing variable named: %r" % r)
        r = _cli(s, "runbook", "new", "release", "--at", "next tuesday", "--var", "version=1")
        check(r.rc == 2, "bad time: %r" % r)
        r = _ok(_cli(s, "runbook", "list", "-o", "json"), "list")
        check_eq(len(r.json()), 3, "three open runbooks")


def _import_elasticache(s, start):
    env = s.signer.notification(samples.elasticache_message(
        "NodeReplacementScheduled", group="prod-redis", cluster="prod-redis-001", node="0001",
        window=(start, start + datetime.timedelta(hours=1))))
    path = os.path.join(aklib.workdir(), "ec.json")
    with open(path, "w") as f:
        json.dump(env, f)
    _ok(_cli(s, "events", "import", "-o", "json", path), "events import")
    recs = [r for r in s.d.records() if r["service"] == "elasticache"]
    check_eq(len(recs), 1, "one ElastiCache record")
    return recs[0]


def test_from_maint_notes_and_search():
    with _stack() as s:
        start = datetime.datetime(2026, 12, 10, 17, 0, tzinfo=datetime.timezone.utc)
        rec = _import_elasticache(s, start)
        r = _ok(_cli(s, "runbook", "new", "elasticache-node-replacement", "--from-maint",
                     str(rec["id"]), "--tz", "Asia/Tokyo", "--var",
                     "endpoint=prod-redis.example.internal", "--var",
                     "service_update=elasticache-patch-update-2026-11", "--var",
                     "health_url=http://127.0.0.1:1/h", "-o", "json"), "new --from-maint")
        rb = r.json()
        check_eq(rb["maint_id"], rec["id"], "linked record")
        check_eq(rb["vars"]["cluster"], "prod-redis", "cluster from the record's resource")
        check_eq(rb["vars"]["region"], REGION, "region from the record")
        check_eq(rb["at"], "2026-12-11T02:00:00+09:00", "event time = the window start")
        check("prod-redis" in rb["title"], "title names the resource: %r" % rb["title"])
        # maint show links back
        m = _ok(_cli(s, "maint", "show", str(rec["id"]), "-o", "json"), "maint show").json()
        check_eq([x["id"] for x in m["runbooks"]], [rb["id"]], "record's runbooks")
        t = _ok(_cli(s, "maint", "show", str(rec["id"]), "-o", "table"), "maint show table")
        check("Runbooks:" in t.out and "#%d" % rb["id"] in t.out, "table links: %r" % t.out)
        # notes: from stdin (not a terminal) and from a file
        n1 = _ok(_cli(s, "note", "add", "--tag", "ElastiCache", "--tag", "replacement",
                      "--maint", str(rec["id"]), "--runbook", str(rb["id"]), "-o", "json",
                      stdin=b"ElastiCache replacement: the app reconnected only after we "
                            b"lowered the client DNS TTL.\n"), "note from stdin").json()
        check_eq(n1["tags"], ["elasticache", "replacement"], "tags lowercased")
        path = os.path.join(aklib.workdir(), "note.md")
        with open(path, "w") as f:
            f.write("RDS minor upgrade went fine; nothing to replace.\n")
        n2 = _ok(_cli(s, "note", "add", "--tag", "rds", "--file", path, "-o", "json"),
                 "note from a file").json()
        r = _ok(_cli(s, "note", "list", "--tag", "elasticache", "-o", "json"), "note list")
        check_eq([x["id"] for x in r.json()], [n1["id"]], "notes by tag")
        r = _cli(s, "note", "add", stdin=b"  \n")
        check(r.rc == 2, "empty note refused: %r" % r)
        m = _ok(_cli(s, "maint", "show", str(rec["id"]), "-o", "json"), "maint show").json()
        check_eq([x["id"] for x in m["notes"]], [n1["id"]], "record's notes")
        # search: last time's runbook, its note and the maintenance that triggered it
        r = _ok(_cli(s, "search", "elasticache", "replacement", "-o", "json"), "search")
        hits = r.json()["hits"]
        kinds = {(h["kind"], h["id"]) for h in hits}
        check(("note", n1["id"]) in kinds and ("runbook", rb["id"]) in kinds and
              ("maintenance", rec["id"]) in kinds, "all three found: %r" % hits)
        check(("note", n2["id"]) not in kinds, "the RDS note does not match both words")
        ranks = [h["rank"] for h in hits]
        check(ranks == sorted(ranks), "best first: %r" % ranks)
        for h in hits:
            check(re.search(r"\[[^\]]+\]", h["snippet"]), "highlighted snippet: %r" % h)
        # a term only one of them holds puts it first
        hits = _ok(_cli(s, "search", "elasticache OR ttl", "-o", "json"), "s").json()["hits"]
        check_eq((hits[0]["kind"], hits[0]["id"]), ("note", n1["id"]), "the note first")
        hits = _ok(_cli(s, "search", "elasticache OR NodeReplacementScheduled", "-o", "json"),
                   "s").json()["hits"]
        check_eq((hits[0]["kind"], hits[0]["id"]), ("maintenance", rec["id"]),
                 "the record first (its raw SNS payload)")
        # filters
        hits = _ok(_cli(s, "search", "replacement", "--kind", "note", "-o", "json"),
                   "kind").json()["hits"]
        check({h["kind"] for h in hits} == {"note"}, "kind filter: %r" % hits)
        hits = _ok(_cli(s, "search", "replacement", "--tag", "elasticache", "-o", "json"),
                   "tag").json()["hits"]
        check_eq({h["kind"] for h in hits}, {"note", "maintenance"}, "tag filter")
        hits = _ok(_cli(s, "search", "replacement", "--kind", "runbook", "--since",
                        "2026-12-10", "--until", "2026-12-10", "-o", "json"),
                   "dates").json()["hits"]
        check_eq([h["id"] for h in hits], [rb["id"]], "runbook on its event date (UTC)")
        hits = _ok(_cli(s, "search", "replacement", "--kind", "runbook", "--until",
                        "2026-12-09", "-o", "json"), "until").json()["hits"]
        check_eq(hits, [], "nothing before")
        r = _ok(_cli(s, "search", "elasticache", "\"replacement", "-o", "table"),
                "malformed query")
        check("[" in r.out and "runbook" in r.out, "table output: %r" % r.out)


def _run(s, *args, **kw):
    return _cli(s, "runbook", "run", *args, **kw)


def test_export_done_and_run():
    with _stack() as s:
        work = os.path.join(aklib.workdir(), "rbwork")
        os.makedirs(work, exist_ok=True)
        rb = _ok(_cli(s, "runbook", "new", "rbtest", "--at", "2026-12-10 02:00", "--tz",
                      "Asia/Tokyo", "--var", "dir=" + work, "-o", "json"), "new rbtest").json()
        rid = str(rb["id"])
        # export: Markdown and iCalendar
        md = _ok(_cli(s, "runbook", "export", rid, "--format", "md"), "export md").out
        check(md.startswith("# Test procedure") and "## 3. Apply the change" in md and
              "2026-12-10 02:00 JST" in md, "markdown: %s" % md[:600])
        ics = _ok(_cli(s, "runbook", "export", rid, "--format", "ics"), "export ics").out
        raw = ics.encode()
        check(b"\n" not in raw.replace(b"\r\n", b""), "CRLF line endings only")
        for line in raw.split(b"\r\n"):
            check(len(line) <= 75, "folded at 75 octets: %r" % line)
        text = raw.replace(b"\r\n ", b"").decode()
        lines = text.split("\r\n")
        check(lines[0] == "BEGIN:VCALENDAR" and "END:VCALENDAR" in lines, "calendar")
        events = text.split("BEGIN:VEVENT")[1:]
        check_eq(len(events), len(rb["steps"]), "one VEVENT per step")
        by_uid = {}
        for ev, st in zip(events, rb["steps"]):
            props = dict(l.split(":", 1) for l in ev.split("\r\n") if ":" in l)
            due = datetime.datetime.strptime(st["due_utc"], "%Y-%m-%dT%H:%M:%SZ")
            check_eq(props["DTSTART"], due.strftime("%Y%m%dT%H%M%SZ"), "DTSTART in UTC")
            check_eq(props["SUMMARY"], "[%s] %s" % (st["owner"], st["title"]), "SUMMARY")
            by_uid[props["UID"]] = st["id"]
        check_eq(len(by_uid), len(rb["steps"]), "UIDs unique")
        ics2 = _ok(_cli(s, "runbook", "export", rid, "--format", "ics"), "again").out
        check_eq(ics2, ics, "stable export")
        check("Why: people need to know." in text, "DESCRIPTION holds the why")
        # done
        r = _ok(_cli(s, "runbook", "done", rid, "prepare", "--note", "posted in #ops", "--by",
                     "alice", "-o", "json"), "done").json()
        st = _steps(r)["prepare"]
        check(st["state"] == "done" and st["done_by"] == "alice" and st["note"] ==
              "posted in #ops", "done step: %r" % st)
        # dry run: nothing runs
        r = _ok(_run(s, rid, "check-ready", "--dry-run"), "dry run")
        check("touch" in r.out, "dry run shows the command: %r" % r)
        check(not os.path.exists(os.path.join(work, "checked")), "dry run ran nothing")
        # without a terminal and without --yes: refused
        r = _run(s, rid, "check-ready", stdin=b"y\n")
        check(r.rc == 2 and "--yes" in r.err, "refused without a TTY: %r" % r)
        check(not os.path.exists(os.path.join(work, "checked")), "nothing ran")
        # a check that succeeds
        r = _ok(_run(s, rid, "check-ready", "--yes", "--by", "bob"), "check")
        check(os.path.exists(os.path.join(work, "checked")) and "ready" in r.out, "ran: %r" % r)
        # a run step that fails: its rollback runs, all recorded, the key never shown
        r = _run(s, rid, "apply", "--yes", "--by", "bob")
        check(r.rc == 1, "failing step exits 1: %r" % r)
        check("rolling back" in r.out and os.path.exists(os.path.join(work, "undone")),
              "rollback ran: %r" % r)
        check(FAKE_KEY not in r.out and FAKE_KEY not in r.err, "key redacted in the CLI")
        # a wait step that times out, then one that succeeds
        r = _run(s, rid, "wait-flag", "--yes")
        check(r.rc == 1 and "attempt 2" in r.out, "wait polls until its timeout: %r" % r)
        open(os.path.join(work, "flag"), "w").close()
        _ok(_run(s, rid, "wait-flag", "--yes"), "wait succeeds")
        r = _run(s, rid, "prepare", "--yes")
        check(r.rc == 2 and "runbook done" in r.err, "a task is not run: %r" % r)
        show = _ok(_cli(s, "runbook", "show", rid, "-o", "json"), "show")
        check(FAKE_KEY not in show.out, "key redacted in the run record")
        rb = show.json()
        st = _steps(rb)
        check_eq(st["check-ready"]["state"], "done", "check done")
        check_eq(st["apply"]["state"], "rolled-back", "run step rolled back")
        check_eq(st["undo"]["state"], "done", "rollback done")
        check_eq(st["wait-flag"]["state"], "done", "wait done")
        ev = [(e["action"], e["step"], e["exit_code"]) for e in rb["run_record"]]
        check_eq(ev[:5], [("done", "prepare", None), ("dry-run", "check-ready", None),
                          ("check", "check-ready", 0), ("run", "apply", 3),
                          ("rollback", "undo", 0)], "run record")
        run_ev = [e for e in rb["run_record"] if e["action"] == "run"][0]
        check("[REDACTED]" in run_ev["output"] and "applying" in run_ev["output"],
              "output kept, redacted: %r" % run_ev)
        check(run_ev["by"] == "bob" and run_ev["duration_ms"] >= 0, "who: %r" % run_ev)
        check_eq(rb["status"], "open", "a rolled-back step keeps the runbook open")
        r = _ok(_cli(s, "runbook", "done", rid, "apply", "--note", "applied by hand", "-o",
                     "json"), "done by hand").json()
        check_eq(r["status"], "done", "every step but the rollbacks done: the runbook is done")
        md = _ok(_cli(s, "runbook", "export", rid, "--format", "md"), "export md").out
        check(FAKE_KEY not in md and "## Run record" in md, "md run record")
        # the events API redacts what a client did not
        r = s.d.post("/api/v1/runbooks/%s/events" % rid, json.dumps(
            {"step": "apply", "action": "note", "by": "curl", "output": "key " + FAKE_KEY}),
            {"Content-Type": "application/json"})
        check(r.status == 200 and FAKE_KEY not in r.text and "[REDACTED]" in r.text, "server-side redaction: %r" % r)
