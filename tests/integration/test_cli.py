#!/usr/bin/python3
"""The asakai CLI against a live daemon: events import, maint list/show, config check, usage."""
import datetime
import json
import os
import re
import shutil
import tempfile

import aklib
import samples
from aklib import RFC3339_UTC, Stack, check, check_eq, now_utc, rfc3339, run_cli

DAY = datetime.timedelta(days=1)

RECORD_FIELDS = {"id", "key", "source", "sources", "service", "kind", "status", "event_code",
                 "resources", "account", "region", "window_start", "window_end", "deadline",
                 "title", "description", "first_seen", "last_seen", "closed_at", "recurrence_of",
                 "required", "important", "important_why"}
TIME_FIELDS = ("window_start", "window_end", "deadline", "first_seen", "last_seen", "closed_at")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def _import_docs(s):
    """Two files: a JSON array and NDJSON; EventBridge events, signed SNS envelopes, 1 unknown."""
    base = now_utc().replace(minute=0, second=0)
    arr = [
        samples.health_event("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2",
                             base + 9 * DAY, ["i-0import00000001"]),
        s.signer.notification(samples.elasticache_message(
            "NodeReplacementScheduled", group="cache-a", cluster="cache-a-001",
            window=(base + 4 * DAY, base + 4 * DAY + DAY / 24))),
        samples.rds_eventbridge(230, "db-import-1", "A system update is available for your DB "
                                "instance."),
    ]
    nd = [
        samples.health_event("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "EC2", base + 2 * DAY,
                             ["i-0import00000002"]),
        s.signer.notification(samples.rds_sns_message(155, "db-import-2", "The DB instance has "
                                                      "a DB engine minor version upgrade "
                                                      "available.")),
        {"kind": "mystery", "payload": {"value": 42}},
    ]
    d = aklib.workdir()
    fa = _write(os.path.join(d, "events.json"), json.dumps(arr, indent=2))
    fn = _write(os.path.join(d, "events.ndjson"), "".join(json.dumps(x) + "\n" for x in nd))
    return fa, fn


def test_events_import_and_reimport():
    with Stack() as s:
        fa, fn = _import_docs(s)
        r = run_cli(["events", "import", "-o", "json", fa, fn], server=s.d.url)
        reps = r.json()
        check(isinstance(reps, list) and len(reps) == 2, "import report: %r" % r)
        ra, rn = reps
        check_eq((ra["accepted"], ra["duplicate"], ra["unparsed"], ra["skipped"]), (3, 0, 0, 0),
                 "JSON array report (accepted, duplicate, unparsed, skipped) %r" % ra)
        check_eq((rn["accepted"], rn["duplicate"], rn["unparsed"], rn["skipped"]), (2, 0, 1, 0),
                 "NDJSON report (accepted, duplicate, unparsed, skipped) %r" % rn)
        check_eq([d["result"] for d in rn["documents"]], ["accepted", "accepted", "unparsed"],
                 "NDJSON per-document results")
        check_eq(r.rc, 1, "exit status when a document was kept unparsed (%r)" % r)
        recs = s.d.records()
        check_eq(len(recs), 5, "records after import")
        check_eq(sorted(x["service"] for x in recs), ["ec2", "ec2", "elasticache", "rds", "rds"],
                 "services")
        raws = s.d.raws()
        check_eq(len(raws), 6, "archive rows after import")
        check(all(x["channel"] == "import" for x in raws), "import channel: %r" %
              [x["channel"] for x in raws])
        check_eq(sorted(x["state"] for x in raws), ["parsed"] * 5 + ["unparsed"], "raw states")

        r2 = run_cli(["events", "import", "-o", "json", fa, fn], server=s.d.url)
        reps2 = r2.json()
        check_eq([(x["accepted"], x["duplicate"], x["skipped"]) for x in reps2],
                 [(0, 3, 0), (0, 3, 0)], "re-import (accepted, duplicate, skipped)")
        check_eq(len(s.d.records()), 5, "records after re-import")
        check_eq(len(s.d.raws()), 6, "archive rows after re-import")
        for x in s.d.records():
            check_eq(len(s.d.record(x["id"])["history"]), 1, "history of #%d after re-import"
                     % x["id"])


def test_events_import_stdin_and_bad_file():
    with Stack() as s:
        ev = json.dumps(samples.ec2_retirement())
        r = run_cli(["events", "import", "-o", "json", "-"], server=s.d.url, stdin=ev.encode())
        check_eq(r.rc, 0, "import from stdin (%r)" % r)
        check_eq(r.json()[0]["accepted"], 1, "accepted from stdin")
        bad = _write(os.path.join(aklib.workdir(), "bad.json"), '{"a": 1}\n{"b": \n')
        r = run_cli(["events", "import", "-o", "json", bad], server=s.d.url)
        check(r.rc != 0, "import of a file that is not JSON must fail (%r)" % r)
        r = run_cli(["events", "import", "/nonexistent/file.json"], server=s.d.url)
        check_eq(r.rc, 1, "import of a missing file (%r)" % r)


def test_maint_list_and_show_json():
    with Stack() as s:
        base = now_utc().replace(minute=0, second=0)
        for days, inst in ((30, "i-0later"), (3, "i-0soonest"), (12, "i-0middle")):
            ev = samples.health_event("AWS_EC2_INSTANCE_STOP_SCHEDULED", "EC2",
                                      base + days * DAY, [inst])
            s.d.wait_normalised(s.d.post_eb(ev).json()["raw_id"])
        # no deadline at all: an RDS security patch notice; sorts last
        s.d.wait_normalised(s.d.post_eb(samples.rds_eventbridge(
            230, "db-nodate", "A system update is available for your DB instance.")).json()
            ["raw_id"])

        r = run_cli(["maint", "list", "-o", "json"], server=s.d.url)
        check_eq(r.rc, 0, "maint list exit status (%r)" % r)
        recs = r.json()
        check_eq(len(recs), 4, "records listed")
        for rec in recs:
            missing = RECORD_FIELDS - set(rec)
            check(not missing, "record #%s lacks fields %s" % (rec.get("id"), sorted(missing)))
            for f in TIME_FIELDS:
                v = rec[f]
                check(v is None or (isinstance(v, str) and RFC3339_UTC.match(v)),
                      "record #%s field %s=%r is not RFC 3339 UTC or null" % (rec["id"], f, v))
            check(isinstance(rec["resources"], list), "resources must be a list")
            check(RFC3339_UTC.match(rec["first_seen"] or ""), "first_seen missing")
        dates = [x["deadline"] or x["window_start"] for x in recs]
        dated = [x for x in dates if x]
        check_eq(dated, sorted(dated), "soonest deadline first")
        check(all(d is not None for d in dates[:len(dated)]),
              "records without a date must come after dated ones: %r" % dates)
        check_eq(recs[0]["resources"][0] if recs[0]["resources"] else None, "i-0soonest",
                 "first listed record")
        check_eq(recs[0]["deadline"], rfc3339(base + 3 * DAY), "first deadline")

        # a record whose deadline has passed is open but not upcoming
        s.d.wait_normalised(s.d.post_eb(samples.ec2_retirement()).json()["raw_id"])
        r = run_cli(["maint", "list", "-o", "json", "--upcoming"], server=s.d.url)
        up = r.json()
        check("2019-06-26T15:00:00Z" not in [x["deadline"] for x in up],
              "--upcoming lists a past deadline: %r" % [x["deadline"] for x in up])
        check_eq(len(up), 3, "--upcoming records (three future stops)")

        r = run_cli(["maint", "list", "-o", "json", "--service", "rds"], server=s.d.url)
        check_eq([x["service"] for x in r.json()], ["rds"], "--service rds")

        rid = recs[0]["id"]
        r = run_cli(["maint", "show", str(rid), "-o", "json"], server=s.d.url)
        check_eq(r.rc, 0, "maint show exit status (%r)" % r)
        one = r.json()
        check_eq(one["id"], rid, "shown id")
        check(isinstance(one.get("history"), list) and len(one["history"]) == 1,
              "maint show history: %r" % one.get("history"))
        h = one["history"][0]
        for f in ("raw_id", "channel", "message_id", "at", "change"):
            check(f in h, "history entry lacks %s: %r" % (f, h))
        check(RFC3339_UTC.match(h["at"] or ""), "history at %r" % h["at"])
        r = run_cli(["maint", "show", str(rid), "--raw", "-o", "json"], server=s.d.url)
        check("body" in r.json()["history"][0].get("raw", {}), "--raw adds the payload")
        r = run_cli(["maint", "show", "999999", "-o", "json"], server=s.d.url)
        check_eq(r.rc, 1, "maint show of a missing record (%r)" % r)
        r = run_cli(["maint", "list"], server=s.d.url)  # table output (stdout is a pipe: json)
        check_eq(r.rc, 0, "maint list default output")


def test_cli_daemon_unreachable():
    port = aklib.free_port()
    r = run_cli(["maint", "list", "-o", "json"], server="http://127.0.0.1:%d" % port)
    check_eq(r.rc, 1, "exit status without a daemon (%r)" % r)
    check("cannot reach" in r.err, "stderr should say the daemon cannot be reached: %r" % r.err)


def test_config_check():
    d = aklib.workdir()
    good = _write(os.path.join(d, "good.yaml"),
                  "server:\n  listen: 127.0.0.1:9999\n  max_body_bytes: 1MiB\n"
                  "intake:\n  sns:\n    topics: ['arn:aws:sns:us-east-1:123456789012:*']\n")
    r = run_cli(["config", "check", good])
    check_eq(r.rc, 0, "config check of a valid file (%r)" % r)
    bad = _write(os.path.join(d, "bad.yaml"),
                 "server:\n  listen: 127.0.0.1:9999\n  max_bdy_bytes: 1MiB\n"
                 "maintenance:\n  important_within: soon\n")
    r = run_cli(["config", "check", bad])
    check_eq(r.rc, 2, "config check of an invalid file (%r)" % r)
    check(re.search(re.escape(bad) + r":3:3: ", r.err),
          "stderr must locate the unknown key as %s:3:3: ...; got %r" % (bad, r.err))
    check(re.search(re.escape(bad) + r":5:\d+: ", r.err),
          "stderr must locate the bad duration on line 5; got %r" % r.err)
    check("max_body_bytes" in r.err, "the unknown key's message should name the nearest key: %r"
          % r.err)
    syntax = _write(os.path.join(d, "syntax.yaml"), "server:\n  listen: [unclosed\n")
    r = run_cli(["config", "check", syntax])
    check_eq(r.rc, 2, "config check of broken YAML (%r)" % r)
    check(re.search(re.escape(syntax) + r":\d+:\d+: ", r.err), "YAML error location: %r" % r.err)
    r = run_cli(["config", "check", os.path.join(d, "missing.yaml")])
    check_eq(r.rc, 2, "config check of a missing file (%r)" % r)


def test_serve_refuses_bad_config():
    d = aklib.Daemon(config_text="server:\n  threads: 0\n")
    d.start(wait=False)
    try:
        rc = d.proc.wait(timeout=10)
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        d.proc = None
        d._logf.close()
    check_eq(rc, 2, "serve with an invalid config: exit status")
    check(re.search(re.escape(d.cfg_path) + r":2:\d+: ", d.log_text()),
          "serve should report FILE:LINE:COL: %r" % d.log_text())


def test_cli_version_help_usage():
    r = run_cli(["--version"])
    check(r.rc == 0 and re.match(r"^asakai \d+\.\d+\.\d+", r.out), "--version: %r" % r)
    r = run_cli(["help", "maint"])
    check(r.rc == 0 and "usage: asakai maint list" in r.out, "help maint: %r" % r)
    r = run_cli(["help"])
    check(r.rc == 0 and "maint" in r.out and "events" in r.out, "help: %r" % r)
    r = run_cli(["maint", "--help"])
    check(r.rc == 0 and "usage: asakai maint" in r.out, "maint --help: %r" % r)
    for args in (["maint", "list", "--bogus"], ["maint", "frobnicate"], ["nosuchcommand"],
                 ["--nosuchoption"], [], ["maint", "list", "--all", "--upcoming"],
                 ["maint", "show", "abc"], ["maint", "list", "-o", "yaml"], ["help", "nope"],
                 ["config", "check"], ["events", "import"]):
        r = run_cli(args, server="http://127.0.0.1:1")
        check_eq(r.rc, 2, "exit status of usage error %r (%r)" % (args, r))
        check(r.err.strip() != "", "usage error %r must explain on stderr" % (args,))


def test_serve_refuses_open_api_beyond_loopback():
    # listening beyond loopback without server.api_token would let anyone who reaches the intake
    # endpoints add unsigned messages through /api/v1/events/import: refused at start (exit 2)
    d = tempfile.mkdtemp(prefix="asakai-listen-")
    r = run_cli(["serve", "--listen", "0.0.0.0:%d" % aklib.free_port(), "--data", d], timeout=20)
    check_eq(r.rc, 2, "exit code; stderr: %s" % r.err)
    check("server.api_token" in r.err, "the error names server.api_token: %r" % r.err)
    check(not os.path.exists(os.path.join(d, "asakai.db")), "no store was created")
    shutil.rmtree(d, ignore_errors=True)
