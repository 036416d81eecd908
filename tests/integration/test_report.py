#!/usr/bin/python3
"""The morning report end to end: `asakai report daily` for a fixed date (data dated relative to
it) section by section in Markdown and JSON, the HTML page rendered by headless Chromium, runbook
step reminders to the owner team's receiver, and the scheduled digest carrying the report."""
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import time

import aklib
import samples
import sinks
from aklib import Stack, check, check_eq, now_utc, run_cli, wait_for

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
SECRET = "s3cret"
ACCT = "123456789012"
# a trust policy with no sub condition: AUD-01, critical
OPEN_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com"
                  % ACCT},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud":
                                   "sts.amazonaws.com"}}}]}


def note(text):
    for line in str(text).splitlines():
        print("# " + line)


def ms(dt):
    return int(dt.timestamp() * 1000)


def health(code, service, start, entity):
    return samples.health_event(code, service, start, [entity], end=start + HOUR)


def post(d, ev):
    r = d.post_eb(ev)
    check(r.status == 200, "EventBridge post: %r" % r)
    return d.wait_normalised(r.json()["raw_id"])


def record_with(d, resource):
    recs = [x for x in d.records() if resource in x["resources"]]
    check_eq(len(recs), 1, "records with resource %s" % resource)
    return recs[0]


def add_runbook(data_dir, title, owner, at, steps):
    """Seeds one open runbook instance with steps [(id, title, owner, due datetime, state)]
    straight into the daemon's store (the schema of src/store, v5); returns its id."""
    db = sqlite3.connect(os.path.join(data_dir, "asakai.db"), timeout=10)
    try:
        cur = db.execute(
            "INSERT INTO runbooks (template, title, owner, at, tz, vars, status, created_by, "
            "created_at, template_text) VALUES (?, ?, ?, ?, 'UTC', '{}', 'open', 'test', ?, '')",
            ("elasticache-node-replacement", title, owner, ms(at), ms(now_utc())))
        rb = cur.lastrowid
        for seq, (sid, stitle, sowner, due, state) in enumerate(steps):
            db.execute("INSERT INTO runbook_steps (runbook_id, seq, step_id, title, owner, type, "
                       "body, due_at, state) VALUES (?, ?, ?, ?, ?, 'task', ?, ?, ?)",
                       (rb, seq, sid, stitle, sowner, "Why: customers need notice.", ms(due),
                        state))
        db.commit()
        return rb
    finally:
        db.close()


def report_config(digest_time, digest_tz="UTC"):
    return ("notify: {digest_time: '%s', digest_tz: %s}\n"
            "inventory: [{service: rds, account: '210987654321', region: us-east-1}]\n"
            "sts:\n  enabled: false\n  roles:\n    - name: deploy\n      account_id: '%s'\n"
            "      assume_role_policy: '%s'\n" % (digest_time, digest_tz, ACCT,
                                                  json.dumps(OPEN_POLICY)))


def titles(items):
    return [i["title"] for i in items]


def find(items, needle):
    got = [i for i in items if needle in i["title"]]
    check_eq(len(got), 1, "items titled *%s* in %r" % (needle, titles(items)))
    return got[0]


# ---- the daily report for a fixed date --------------------------------------------------------

def seed_world(s, at):
    """Records and a runbook dated relative to the report time `at` (UTC)."""
    d = s.d
    post(d, health("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "EC2", at + 2 * DAY, "i-0retire000001"))
    post(d, health("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2", at + 2 * DAY,
                   "i-0reboot000001"))
    post(d, health("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2", at + 9 * DAY,
                   "i-0reboot000002"))
    post(d, health("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2", at + 40 * DAY,
                   "i-0faraway00001"))
    rb = add_runbook(d.data, "ElastiCache node replacement", "sre", at + 5 * DAY, [
        ("notify-cs", "Publish the maintenance notice", "cs", at + 20 * HOUR, "pending"),
        ("prepare", "Prepare the maintenance page", "sre", at + 30 * HOUR, "pending"),
        ("announce", "Announce internally", "sre", at - 3 * HOUR, "pending"),
        ("execute", "Replace the node", "sre", at + 5 * DAY, "pending"),
        ("book-room", "Book the war room", "sre", at + 10 * HOUR, "done"),
    ])
    return rb


def test_daily_report_for_a_fixed_date_md_and_json():
    # the report time: today's digest time two hours from now (UTC), so what we post now
    # "arrived overnight" and every deadline is relative to it
    at = (now_utc() + 2 * HOUR).replace(second=0, microsecond=0)
    date = at.strftime("%Y-%m-%d")
    s = Stack()
    with open(s.d.cfg_path, "a") as f:
        f.write(report_config(at.strftime("%H:%M")))
    with s:
        rb = seed_world(s, at)
        r = run_cli(["report", "daily", "--date", date, "--tz", "UTC", "-o", "json"],
                    server=s.d.url)
        check_eq(r.rc, 0, "report daily -o json (%r)" % r)
        rep = r.json()
        check_eq(rep["date"], date, "date")
        check_eq(rep["generated_at"], at.strftime("%Y-%m-%dT%H:%M:00Z"), "report time")
        q = rep["quadrants"]
        note("quadrants: %s" % json.dumps({k: titles(v) for k, v in q.items()}))
        retire = record_with(s.d, "i-0retire000001")
        check(retire["important"], "test premise: a retirement is important")
        # do now: the important deadline in 2 days, the overdue step, our own step due in 30 h,
        # the critical CI-auth finding
        it = find(q["do-now"], "i-0retire000001")
        check_eq(it["kind"], "maintenance", "kind")
        check_eq(it["id"], retire["id"], "id")
        check("within report.urgent_within (3d)" in it["why"], "why: %r" % it["why"])
        check("Announce internally" in titles(q["do-now"]), "the overdue step is do-now")
        check("overdue" in find(q["do-now"], "Announce internally")["why"], "overdue why")
        check("the runbook's own team" in find(q["do-now"], "Prepare the maintenance")["why"],
              "own team's step why")
        check("critical CI-auth finding" in find(q["do-now"], "AUD-01")["why"], "audit why")
        check_eq(len(q["do-now"]), 4, "do-now items")
        # delegate: the unimportant reboot in 2 days, the CS team's step
        check("but not important" in find(q["delegate"], "i-0reboot000001")["why"], "why")
        step = find(q["delegate"], "Publish the maintenance notice")
        check_eq((step["kind"], step["owner"], step["id"]),
                 ("runbook-step", "cs", "%d/notify-cs" % rb), "step item")
        check("owned by team cs" in step["why"], "step why: %r" % step["why"])
        check_eq(len(q["delegate"]), 2, "delegate items")
        # plan: the blind spot; note: the later reboot and the far one that arrived overnight
        check("a blind spot" in find(q["plan"], "blind spot: RDS in us-east-1")["why"], "blind")
        check("not important and not within" in find(q["note"], "i-0reboot000002")["why"],
              "later reboot why")
        check("changed overnight" in find(q["note"], "i-0faraway00001")["why"], "arrival why")
        for absent in ("Replace the node", "Book the war room"):
            check(all(absent not in t for v in q.values() for t in titles(v)),
                  "%s is not in the report" % absent)
        check_eq(rep["counts"], {k: len(v) for k, v in q.items()}, "counts")
        sec = rep["sections"]
        check_eq([len(sec[k]) for k in ("maintenance", "runbook_steps", "overnight", "coverage",
                                        "ci_auth")], [3, 3, 1, 1, 1], "section sizes")

        # the same report in Markdown: section by section, in order, with the same items
        r = run_cli(["report", "daily", "--date", date, "--tz", "UTC"], server=s.d.url)
        check_eq(r.rc, 0, "report daily (%r)" % r)
        md = r.out
        heads = ["# Morning report — %s" % rep["date_label"],
                 "## Do now — urgent and important (4)", "## Plan — important, not urgent (1)",
                 "## Delegate / batch — urgent, less important (2)", "## Note — the rest (2)",
                 "## Maintenance (3)", "## Runbook steps due (3)", "## Arrived overnight (1)",
                 "## Coverage gaps (1)", "## CI-auth audit (1)"]
        pos = [md.find("\n" + h + "\n") if i else md.find(h + "\n") for i, h in enumerate(heads)]
        check(all(p >= 0 for p in pos) and pos == sorted(pos),
              "Markdown headings in order: %r\n%s" % (list(zip(heads, pos)), md[:3000]))
        chunks = {heads[i]: md[pos[i]:pos[i + 1] if i + 1 < len(pos) else len(md)]
                  for i in range(len(pos))}
        for i, key in enumerate(("do-now", "plan", "delegate", "note")):
            for item in q[key]:
                check("**%s**" % item["title"] in chunks[heads[i + 1]] or
                      "] %s**" % item["title"] in chunks[heads[i + 1]],
                      "%r under %s" % (item["title"], heads[i + 1]))
        check("**\\[cs\\] Publish the maintenance notice** — due " in chunks[heads[3]],
              "the CS step line: %s" % chunks[heads[3]])
        check("why: " + step["why"][:40] in chunks[heads[3]], "its why in the Markdown")
        r = run_cli(["report", "daily", "--date", "2026-02-30"], server=s.d.url)
        check_eq(r.rc, 2, "an impossible date is a usage error (%r)" % r)
        check("does not exist" in r.err, "the reason: %r" % r.err)
        r = run_cli(["report", "daily", "--tz", "Mars/Olympus"], server=s.d.url)
        check_eq(r.rc, 2, "an unknown zone (%r)" % r)
        r = s.d.get("/api/v1/report?format=pdf")
        check_eq(r.status, 400, "format=pdf")


def chromium_bin():
    for b in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(b)
        if p:
            return p
    return None


def test_html_report_renders_in_headless_chromium():
    at = (now_utc() + 2 * HOUR).replace(second=0, microsecond=0)
    browser = chromium_bin()
    if not browser:
        note("SKIP: chromium is not installed (bash scripts/deps.sh installs it)")
        return
    s = Stack()
    with open(s.d.cfg_path, "a") as f:
        f.write(report_config(at.strftime("%H:%M")))
    with s:
        seed_world(s, at)
        url = "%s/api/v1/report?date=%s&tz=UTC&format=html" % (s.d.url, at.strftime("%Y-%m-%d"))
        r = s.d.get(url[len(s.d.url):])
        check_eq(r.status, 200, "GET report html")
        check(r.headers.get("content-type", "").startswith("text/html"), "content type")
        check("<script" not in r.text, "no script in the page")
        profile = os.path.join(aklib.workdir(), "chromium-profile")
        cmd = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
               "--user-data-dir=" + profile, "--dump-dom", url]
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=90)
        except (OSError, subprocess.TimeoutExpired) as e:
            note("SKIP: chromium cannot run here: %s" % e)
            return
        dom = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0 or "<html" not in dom:
            note("SKIP: chromium cannot run here (rc %d): %s" %
                 (p.returncode, p.stderr.decode("utf-8", "replace")[-600:]))
            return
        for q, n in (("do-now", 4), ("plan", 1), ("delegate", 2), ("note", 2)):
            check('id="%s"' % q in dom, "quadrant %s in the DOM" % q)
            check('data-count="%d"' % n in dom.split('id="%s"' % q)[1][:200],
                  "quadrant %s holds %d items" % (q, n))
        do_now = dom.split('id="do-now"')[1].split('id="plan"')[0]
        for needle in ("i-0retire000001", "Announce internally", "AUD-01", "why: "):
            check(needle in do_now, "%r in the do-now cell" % needle)
        delegate = dom.split('id="delegate"')[1].split('id="note"')[0]
        check("[cs] " in delegate and "Publish the maintenance notice" in delegate,
              "the CS step in the delegate cell")
        for sec in ("maintenance", "runbook_steps", "overnight", "coverage", "ci_auth"):
            check('id="sec-%s"' % sec in dom, "section %s" % sec)
        shot = os.path.join(aklib.workdir(), "report.png")
        p = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox",
                            "--user-data-dir=" + profile, "--window-size=1200,1600",
                            "--screenshot=" + shot, url], capture_output=True, timeout=90)
        check(p.returncode == 0 and os.path.getsize(shot) > 10000,
              "screenshot of the page (rc %d)" % p.returncode)
        # the dashboard shows the same matrix
        r = s.d.get("/")
        check_eq(r.status, 200, "dashboard")
        check('class="ak-matrix"' in r.text and 'id="do-now"' in r.text, "matrix on /")


# ---- notifications: runbook step reminders and the scheduled report ---------------------------

class Sinks:
    """SMTP sink + webhook sink + Slack mock, and a daemon whose receivers are sre-mail (email),
    cs-hook (webhook), sre-slack (Slack webhook); teams sre -> sre-mail, cs -> cs-hook."""

    def __init__(self, digest=None, teams=True, route=None):
        self.smtp = sinks.SmtpSink()
        self.hook = sinks.WebhookSink(SECRET)
        self.slack = sinks.SlackMock()
        self.digest = digest or {"digest": False}
        self.teams = teams
        self.route = route
        self.s = None

    def __enter__(self):
        self.smtp.start()
        self.hook.start()
        self.slack.start()
        recv = [dict({"name": "sre-mail", "email": {
                    "smarthost": self.smtp.url(), "from": "asakai@example.com",
                    "to": ["sre@example.com"], "starttls": False}}, **self.digest),
                dict({"name": "cs-hook", "webhook": {"url": self.hook.hook_url(),
                                                     "secret": SECRET}}, **self.digest),
                dict({"name": "sre-slack", "slack": {"webhook_url": self.slack.webhook_url()}},
                     **self.digest)]
        y = "receivers: %s\n" % json.dumps(recv)
        y += "notify: %s\n" % json.dumps({"backoff_min": "1s", "backoff_max": "3s",
                                          "timeout": "3s", "give_up_after": "1h"})
        if self.teams:
            y += "teams: %s\n" % json.dumps([{"name": "sre", "receivers": ["sre-mail"]},
                                             {"name": "cs", "receivers": ["cs-hook"]}])
        if self.route is not None:
            y += "route: %s\n" % json.dumps(self.route)
        self.s = Stack()
        with open(self.s.d.cfg_path, "a") as f:
            f.write(y)
        self.s.__enter__()
        return self

    def __exit__(self, et, ev, tb):
        try:
            if self.s:
                self.s.__exit__(et, ev, tb)
        finally:
            for x in (self.smtp, self.hook, self.slack):
                try:
                    x.close()
                except Exception:  # noqa: BLE001 - best effort
                    pass
        return False

    def outbox(self, state=None):
        return self.s.d.get_json("/api/v1/outbox" + ("?state=" + state if state else ""))


def step_hooks(x, step_id):
    return [r for r in x.hook.delivered() if r.json.get("type") == "runbook-step" and
            (r.json.get("step") or {}).get("id") == step_id]


def test_runbook_step_due_within_a_day_reminds_its_owner_team_once():
    now = now_utc()
    with Sinks() as x:
        rb = add_runbook(x.s.d.data, "ElastiCache node replacement", "sre", now + 3 * DAY, [
            ("notify-cs", "Publish the maintenance notice", "cs", now + 5 * HOUR, "pending"),
            ("prepare", "Prepare the maintenance page", "sre", now + 3 * DAY, "pending"),
            ("cs-done", "Brief the support desk", "cs", now + 4 * HOUR, "done"),
        ])
        # the worker looks every 30 s
        wait_for(lambda: step_hooks(x, "notify-cs"), timeout=45, interval=0.5,
                 what="the reminder of the CS team's step at cs-hook")
        got = step_hooks(x, "notify-cs")[0]
        check(got.sig_ok, "the reminder webhook is signed: %s" % got.sig_error)
        summary = got.json["summary"]
        note("reminder: %s" % summary)
        check(summary.startswith("[cs] Publish the maintenance notice — due ") and
              summary.endswith(", runbook #%d ElastiCache node replacement" % rb),
              "the reminder's words: %r" % summary)
        check_eq(got.json["runbook"]["id"], rb, "runbook id")
        key_rows = [o for o in x.outbox() if o["key"].startswith("rbstep:")]
        check_eq([(o["receiver"], o["key"].split(":")[2]) for o in key_rows],
                 [("cs-hook", "notify-cs")], "reminder rows (only the CS step, only cs-hook)")
        # a restart scans again at once: the key keeps it to one message
        x.s.d.stop()
        x.s.d.start()
        time.sleep(4)
        check_eq(len(step_hooks(x, "notify-cs")), 1, "reminders of the step after a restart")
        check_eq(step_hooks(x, "cs-done") + step_hooks(x, "prepare"), [],
                 "no reminder for a done step or one due in 3 days")
        check_eq([m for m in x.smtp.snapshot() if "Publish" in (m.subject or "")], [],
                 "the SRE mail did not get the CS team's reminder")
        check_eq(x.slack.webhook_posts(), [], "nothing to Slack")


def test_runbook_step_of_a_team_without_receivers_goes_to_the_root_route():
    now = now_utc()
    with Sinks(teams=False, route={"receivers": ["sre-mail"]}) as x:
        add_runbook(x.s.d.data, "Release 4.2", "sre", now + DAY, [
            ("freeze", "Freeze the release branch", "dev", now + 2 * HOUR, "pending")])
        m = x.smtp.wait_count(1, timeout=45, what="the reminder email")[0]
        check(m.subject.startswith("[dev] Freeze the release branch — due "),
              "subject: %r" % m.subject)
        check("asakai runbook done" in m.parts().get("text/plain", ""), "what to do when done")
        check_eq(step_hooks(x, "freeze"), [], "the hook is not on the root route")


def test_scheduled_digest_is_the_morning_report():
    now = datetime.datetime.now(datetime.timezone.utc)
    at = (now + datetime.timedelta(minutes=1 if now.second < 40 else 2)).replace(second=0,
                                                                                microsecond=0)
    digest = {"digest": True, "digest_time": at.strftime("%H:%M"), "digest_tz": "UTC"}
    with Sinks(digest=digest) as x:
        d = x.s.d
        post(d, health("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "EC2", at + 2 * DAY,
                       "i-0digestrep001"))
        post(d, health("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2", at + 30 * DAY,
                       "i-0digestrep002"))

        def digests():
            return [m for m in x.smtp.snapshot() if m.header("X-Asakai-Digest")]
        got = wait_for(digests, timeout=95, interval=0.5, what="the digest at %s UTC" %
                       at.strftime("%H:%M"))[0]
        note("digest subject %r" % got.subject)
        check(got.subject.startswith("[asakai] Morning report — %s" % at.strftime("%Y-%m-%d")),
              "the digest is the morning report: %r" % got.subject)
        check("1 do now" in got.subject, "counts in the subject: %r" % got.subject)
        text = got.parts().get("text/plain", "")
        html = got.parts().get("text/html", "")
        check("## Do now — urgent and important (1)" in text and "i-0digestrep001" in text,
              "the Markdown report in the text part: %s" % text[:1500])
        check("i-0digestrep002" in text, "the overnight arrival in the text part")
        check('id="do-now"' in html and "<script" not in html, "the HTML page in the HTML part")
        hooks = wait_for(lambda: [r for r in x.hook.delivered() if r.json.get("type") == "report"],
                         timeout=20, what="the report at the webhook")
        rep = hooks[0].json["report"]
        check_eq(rep["counts"]["do-now"], 1, "the webhook's JSON report counts")
        check("i-0digestrep001" in rep["quadrants"]["do-now"][0]["title"], "do-now item")
        posts = wait_for(lambda: [p for p in x.slack.webhook_posts()
                                  if "Morning report" in p.body.decode("utf-8", "replace")],
                         timeout=20, what="the Slack summary")
        body = posts[0].json
        problem = sinks.slack_limits_problem(body)
        check(not problem, "Slack limits: %s" % problem)
        flat = json.dumps(body)
        check("*do now* 1" in flat and "i-0digestrep001" in flat,
              "counts and the do-now item in Slack: %s" % flat[:1500])
        check("i-0digestrep002" not in flat, "Slack carries only the do-now items")
        rows = [o for o in x.outbox("sent") if o["key"].startswith("digest:")]
        check_eq(len(rows), 3, "digest rows (one per receiver): %r" % rows)
