#!/usr/bin/python3
"""The AWS pollers end to end: `asakai serve` polls tests/integration/fakeaws.py, which answers
in AWS's documented wire shapes and verifies every request's SigV4 signature with botocore (an
independent signer). Cases of issue 4: a new pending action, a reschedule, a completion, an item
that vanishes for one poll only, throttling (Throttling, RequestLimitExceeded), expired
credentials, a region that fails while others land, pagination, push + poll = one record,
AssumeRole per account, the Health API without a support plan, and the coverage report."""
import datetime
import json
import threading
import subprocess
import time

import aklib
import samples
from aklib import Daemon, Stack, check, check_eq, run_cli, wait_for
from fakeaws import FakeAws

ACCT = "111111111111"
ACCT2 = "222222222222"
R1 = "ap-northeast-1"
R2 = "us-west-2"
DAY = datetime.timedelta(days=1)
POLLERS = ("ec2_scheduled_events", "rds_pending_maintenance", "elasticache_update_actions",
           "elasticache_events", "health")


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def ec2_instance(iid, events=()):
    return {"InstanceId": iid, "AvailabilityZone": R1 + "a",
            "InstanceState": {"Code": 16, "Name": "running"},
            "SystemStatus": {"Status": "ok"}, "InstanceStatus": {"Status": "ok"},
            "Events": list(events)}


def ec2_event(eid, code="system-reboot", start=None, desc="The instance is scheduled for a reboot",
              deadline=None):
    start = start or now() + 10 * DAY
    e = {"InstanceEventId": eid, "Code": code, "Description": desc,
         "NotBefore": iso(start), "NotAfter": iso(start + datetime.timedelta(hours=2))}
    if deadline:
        e["NotBeforeDeadline"] = iso(deadline)
    return e


def rds_action(acct, region, db, action="system-update", forced=None, auto=None):
    a = {"Action": action, "Description": "Upgrade to the latest OS patches"}
    if forced:
        a["ForcedApplyDate"] = iso(forced)
    if auto:
        a["AutoAppliedAfterDate"] = iso(auto)
    return {"ResourceIdentifier": "arn:aws:rds:%s:%s:db:%s" % (region, acct, db),
            "PendingMaintenanceActionDetails": [a]}


def aws_config(fake, accounts, extra_pollers=None, inventory=(), enabled=None):
    """The aws/pollers/inventory YAML for accounts [(id, [regions], role?)]."""
    lines = ["aws:", "  retry_base: 20ms", "  max_attempts: 4", "  timeout: 5s", "  accounts:"]
    for acct, regions, role in accounts:
        lines += ['    - id: "%s"' % acct, "      regions: [%s]" % ", ".join(regions),
                  "      endpoint_url: " + fake.url]
        if role:
            lines.append("      assume_role_arn: arn:aws:iam::%s:role/asakai-reader" % acct)
    lines.append("pollers:")
    for p in POLLERS:
        on = (enabled or {}).get(p, p != "health")
        lines.append("  %s: {enabled: %s, interval: 24h}" % (p, "true" if on else "false"))
    if inventory:
        lines.append("inventory:")
        for svc, acct, region in inventory:
            lines.append('  - {service: %s, account: "%s", region: %s}' % (svc, acct, region))
    return "\n".join(lines) + "\n"


class Polled:
    """FakeAws + a daemon configured to poll it with the fake's base keys. The scheduler's first
    pass (a few seconds after start) is awaited, so every test knows it counts as poll #1."""

    def __init__(self, accounts=((ACCT, (R1,), True),), stack=False, threads=8, **cfg_kw):
        self.fake = FakeAws(page_size=2)
        self.fake.start()
        self.stack = Stack() if stack else None
        self.d = self.stack.d if stack else Daemon(name="poll", threads=threads)
        with open(self.d.cfg_path, "a") as f:
            f.write(aws_config(self.fake, accounts, **cfg_kw))
        self.d.env = {"AWS_ACCESS_KEY_ID": self.fake.access_key,
                      "AWS_SECRET_ACCESS_KEY": self.fake.secret_key,
                      "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": R1}
        self.accounts = accounts

    def __enter__(self):
        try:
            if self.stack:
                self.stack.__enter__()
            else:
                self.d.start()
        except Exception:
            self.fake.stop()
            raise
        return self

    def __exit__(self, et, ev, tb):
        try:
            if self.stack:
                self.stack.__exit__(et, ev, tb)
            else:
                self.d.__exit__(et, ev, tb)
        finally:
            self.fake.stop()
        return False

    def wait_first_pass(self, timeout=20):
        def done():
            st = self.d.get_json("/api/v1/poll")
            on = [s for s in st if s["enabled"]]
            return on and all(s["last_run_at"] for s in on)
        wait_for(done, timeout=timeout, what="the scheduler's first poll pass")

    def poll(self, *args, want=0):
        r = run_cli(["poll", "-o", "json"] + list(args), server=self.d.url, timeout=90)
        check(r.rc == want, "asakai poll %s: exit %d (want %d)\nstdout: %s\nstderr: %s" %
              (" ".join(args), r.rc, want, r.out[-3000:], r.err[-2000:]))
        return json.loads(r.out)

    def records(self):
        return self.d.records("?all=1")

    def by_resource(self, res):
        return [r for r in self.records() if res in (r.get("resources") or [])]


def scopes_by_name(rep):
    return {s["scope"]: s for s in rep["scopes"]}


# ---- the cases --------------------------------------------------------------------------------

def test_new_action_reschedule_and_two_poll_completion():
    """EC2: a new scheduled event becomes a record (poll #1, with signed requests, AssumeRole,
    pagination over 3 pages); a reschedule moves its window; the event marked [Completed] closes
    it only on the second poll that says so."""
    with Polled() as p:
        start = now() + 10 * DAY
        inst = [ec2_instance("i-%017d" % i) for i in range(5)]
        inst[3]["Events"] = [ec2_event("instance-event-0aaa", start=start,
                                       deadline=start + 20 * DAY)]
        p.fake.set_ec2(ACCT, R1, inst)
        p.wait_first_pass()
        recs = p.by_resource("i-%017d" % 3)
        check_eq(len(recs), 1, "records for the instance")
        rec = recs[0]
        check_eq(rec["service"], "ec2", "service")
        check_eq(rec["kind"], "system-reboot", "kind")
        check_eq(rec["status"], "scheduled", "status")
        check(rec["window_start"].startswith(start.strftime("%Y-%m-%dT%H:%M")),
              "window_start %s vs %s" % (rec["window_start"], start))
        log = p.fake.log()
        ec2 = [x for x in log if x["service"] == "ec2"]
        check(len(ec2) >= 3 and all(x["status"] == 200 for x in ec2),
              "EC2 paginated over 3 pages of 2 with valid signatures: %s" % ec2)
        check(any(x["service"] == "sts" and x["action"] == "AssumeRole" for x in log),
              "AssumeRole was called")
        check(all(x["account"] == ACCT for x in ec2), "EC2 called with the assumed role's account")

        # reschedule: same event id, new start
        new_start = start + 3 * DAY
        inst[3]["Events"] = [ec2_event("instance-event-0aaa", start=new_start,
                                       deadline=start + 20 * DAY)]
        p.fake.set_ec2(ACCT, R1, inst)
        rep = p.poll("--source", "ec2_scheduled_events")
        ch = [c for c in rep["changes"] if c["rec_id"] == rec["id"]]
        check_eq([c["change"] for c in ch], ["updated"], "reschedule change")
        rec2 = p.d.record(rec["id"])
        check(rec2["window_start"].startswith(new_start.strftime("%Y-%m-%dT%H:%M")),
              "rescheduled window %s" % rec2["window_start"])

        # completion: [Completed] once -> pending-close, twice -> closed
        inst[3]["Events"] = [ec2_event("instance-event-0aaa", start=new_start,
                                       desc="[Completed] The instance is scheduled for a reboot")]
        p.fake.set_ec2(ACCT, R1, inst)
        rep = p.poll("--source", "ec2_scheduled_events")
        check_eq([c["change"] for c in rep["changes"] if c["rec_id"] == rec["id"]],
                 ["pending-close"], "first [Completed]")
        check_eq(p.d.record(rec["id"])["status"], "rescheduled", "still open after one poll")
        rep = p.poll("--source", "ec2_scheduled_events")
        check_eq([c["change"] for c in rep["changes"] if c["rec_id"] == rec["id"]],
                 ["closed"], "second [Completed]")
        check_eq(p.d.record(rec["id"])["status"], "completed", "closed after two polls")


def test_vanish_for_one_poll_does_not_close_rds():
    """RDS: an action missing from one answer stays open; missing twice in a row closes it.
    A new action with no date is recorded as such; the ForcedApplyDate is the deadline."""
    with Polled() as p:
        forced = now() + 5 * DAY
        act = rds_action(ACCT, R1, "orders-db", "system-update", forced=forced)
        other = rds_action(ACCT, R1, "users-db", "db-upgrade")
        p.fake.set_rds(ACCT, R1, [act, other])
        p.wait_first_pass()
        recs = [r for r in p.records() if r["service"] == "rds"]
        check_eq(len(recs), 2, "two RDS records")
        orders = [r for r in recs if any("orders-db" in x for x in r["resources"])][0]
        check(orders["deadline"] and orders["deadline"].startswith(forced.strftime("%Y-%m-%d")),
              "deadline = ForcedApplyDate: %s" % orders["deadline"])
        check(orders["important"], "a forced apply within 14 days is important")
        users = [r for r in recs if r is not orders][0]
        check_eq(users["kind"], "minor-version-upgrade", "db-upgrade kind")
        check(users["deadline"] is None, "no date announced: no deadline")

        p.fake.set_rds(ACCT, R1, [other])          # orders-db vanishes once
        rep = p.poll("--source", "rds_pending_maintenance")
        check_eq([c["change"] for c in rep["changes"] if c["rec_id"] == orders["id"]],
                 ["pending-close"], "first miss")
        p.fake.set_rds(ACCT, R1, [act, other])     # ... and is back
        p.poll("--source", "rds_pending_maintenance")
        check_eq(p.d.record(orders["id"])["status"], "scheduled", "a flaky answer closes nothing")
        p.fake.set_rds(ACCT, R1, [other])
        p.poll("--source", "rds_pending_maintenance")
        check_eq(p.d.record(orders["id"])["status"], "scheduled", "one miss after a sighting")
        rep = p.poll("--source", "rds_pending_maintenance")
        check_eq([c["change"] for c in rep["changes"] if c["rec_id"] == orders["id"]],
                 ["closed"], "second miss in a row")
        check_eq(p.d.record(orders["id"])["status"], "completed", "closed")
        check_eq(p.d.record(users["id"])["status"], "scheduled", "the other stays open")


def test_throttling_backoff_and_give_up():
    """Throttling (query protocol) and RequestLimitExceeded (EC2, HTTP 503) are retried with
    backoff; past aws.max_attempts the scope fails and the rest of the pass still lands."""
    with Polled() as p:
        p.fake.set_ec2(ACCT, R1, [ec2_instance("i-0000000000000000a",
                                               [ec2_event("instance-event-0bbb")])])
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "a-db", forced=now() + 3 * DAY)])
        p.wait_first_pass()
        p.fake.clear_log()
        p.fake.throttle("ec2", 2)
        p.fake.throttle("rds", 2)
        rep = p.poll()
        sc = scopes_by_name(rep)
        check(all(s["ok"] for s in sc.values()), "retried through throttling: %s" % sc)
        check(rep["retries"] >= 4, "at least 4 retries: %d" % rep["retries"])
        codes = [x.get("code") for x in p.fake.log()]
        check("RequestLimitExceeded" in codes and "Throttling" in codes, "both throttles: %s" %
              codes)
        p.fake.throttle("rds", 50)
        rep = p.poll(want=1)
        sc = scopes_by_name(rep)
        bad = sc["rds_pending_maintenance:%s:%s" % (ACCT, R1)]
        check(not bad["ok"] and "Throttling" in bad["error"], "rds gave up: %s" % bad)
        check(sc["ec2_scheduled_events:%s:%s" % (ACCT, R1)]["ok"], "ec2 still landed")
        p.fake.throttle("rds", 0)
        rds = [r for r in p.records() if r["service"] == "rds"]
        check_eq(rds[0]["status"], "scheduled", "a failed scope closes nothing")
        st = {s["scope"]: s for s in p.d.get_json("/api/v1/poll")}
        check(not st["rds_pending_maintenance:%s:%s" % (ACCT, R1)]["healthy"], "unhealthy")


def test_expired_credentials_refreshed():
    """The assumed role's session expires between passes (and mid-pass): the pass notices the
    ExpiredToken / RequestExpired answer, assumes the role again once, and succeeds."""
    with Polled() as p:
        p.fake.set_ec2(ACCT, R1, [ec2_instance("i-0000000000000000b",
                                               [ec2_event("instance-event-0ccc")])])
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "b-db")])
        p.wait_first_pass()
        p.fake.clear_log()
        p.fake.expire_sessions()
        rep = p.poll()
        check(all(s["ok"] for s in rep["scopes"]), "every scope ok: %s" % rep["scopes"])
        log = p.fake.log()
        codes = [x.get("code") for x in log]
        check(any(c in ("ExpiredToken", "RequestExpired") for c in codes),
              "the fake saw the expired session: %s" % codes)
        check(sum(1 for x in log if x["action"] == "AssumeRole") == 1,
              "the role was assumed again exactly once")


def test_region_error_others_land_and_multi_account():
    """Two accounts (one with a role, one with the base keys); one region answers 500s: its
    scopes fail, every other scope lands, and nothing of the failing region is closed."""
    accounts = ((ACCT, (R1, R2), True), (ACCT2, (R1,), True))
    with Polled(accounts=accounts) as p:
        for acct, regions, _ in accounts:
            for region in regions:
                p.fake.set_rds(acct, region, [rds_action(acct, region, "db-" + region)])
        p.wait_first_pass()
        check_eq(len([r for r in p.records() if r["service"] == "rds"]), 3, "3 RDS records")
        p.fake.fail_region(R2)
        for _ in range(2):
            p.fake.set_rds(ACCT, R2, [])           # would close it, if the answer came
            rep = p.poll("--source", "rds_pending_maintenance", want=1)
        sc = scopes_by_name(rep)
        check(not sc["rds_pending_maintenance:%s:%s" % (ACCT, R2)]["ok"], "R2 failed")
        check(sc["rds_pending_maintenance:%s:%s" % (ACCT, R1)]["ok"], "R1 landed")
        check(sc["rds_pending_maintenance:%s:%s" % (ACCT2, R1)]["ok"], "account 2 landed")
        r2 = [r for r in p.records() if r["region"] == R2]
        check_eq([r["status"] for r in r2], ["scheduled"], "R2 record untouched")
        accts = {x["account"] for x in p.fake.log() if x["service"] == "rds"}
        check_eq(accts, {ACCT, ACCT2}, "each account polled with its own role")


def test_elasticache_update_actions_and_events():
    """ElastiCache: DescribeServiceUpdates + DescribeUpdateActions make one record per group and
    update with the recommended apply-by date; DescribeEvents' node replacement message becomes
    the same record an SNS notification makes."""
    with Polled() as p:
        apply_by = now() + 8 * DAY
        su = {"ServiceUpdateName": "elc-20261120-001", "ServiceUpdateReleaseDate": iso(now()),
              "ServiceUpdateEndDate": iso(now() + 60 * DAY), "ServiceUpdateSeverity": "critical",
              "ServiceUpdateRecommendedApplyByDate": iso(apply_by),
              "ServiceUpdateStatus": "available",
              "ServiceUpdateDescription": "Security update", "ServiceUpdateType": "security-update",
              "Engine": "redis", "EngineVersion": "redis 6.x",
              "AutoUpdateAfterRecommendedApplyByDate": True, "EstimatedUpdateTime": "30 minutes"}
        ua = {"ReplicationGroupId": "sessions", "ServiceUpdateName": "elc-20261120-001",
              "ServiceUpdateReleaseDate": iso(now()), "ServiceUpdateSeverity": "critical",
              "ServiceUpdateStatus": "available",
              "ServiceUpdateRecommendedApplyByDate": iso(apply_by),
              "ServiceUpdateType": "security-update", "UpdateActionAvailableDate": iso(now()),
              "UpdateActionStatus": "not-applied", "NodesUpdated": "0/3",
              "UpdateActionStatusModifiedDate": iso(now()), "SlaMet": "n/a", "Engine": "redis"}
        w = now() + 12 * DAY
        msg = ("The node with Cache Cluster ID: cart-cache-001, Node ID: 0002 is scheduled for "
               "replacement during the maintenance window from Start Time: %s, End Time: %s" %
               (w.strftime("%Y-%m-%dT%H:%M:%SZ"),
                (w + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")))
        ev = [{"SourceIdentifier": "cart-cache-001", "SourceType": "cache-cluster",
               "Message": msg, "Date": iso(now() - datetime.timedelta(hours=2))},
              {"SourceIdentifier": "cart-cache-001", "SourceType": "cache-cluster",
               "Message": "Cache cluster created", "Date": iso(now() - DAY)}]
        p.fake.set_elasticache(ACCT, R1, service_updates=[su], update_actions=[ua], events=ev)
        p.wait_first_pass()
        recs = [r for r in p.records() if r["service"] == "elasticache"]
        check_eq(sorted(r["kind"] for r in recs), ["node-replacement", "service-update"],
                 "one record per maintenance")
        upd = [r for r in recs if r["kind"] == "service-update"][0]
        check(upd["deadline"] and upd["deadline"].startswith(apply_by.strftime("%Y-%m-%d")),
              "deadline = recommended apply-by: %s" % upd["deadline"])
        check("sessions" in upd["resources"], "resources %s" % upd["resources"])
        check(upd["important"], "critical + auto-applied is important")
        node = [r for r in recs if r["kind"] == "node-replacement"][0]
        check(node["window_start"].startswith(w.strftime("%Y-%m-%dT%H:%M")),
              "node replacement window from the event text: %s" % node["window_start"])
        # the events API repeats itself every pass: no new record, no new history row
        n_hist = len(p.d.record(node["id"]).get("history", []))
        p.poll("--source", "elasticache_events")
        check_eq(len(p.d.record(node["id"]).get("history", [])), n_hist, "quiet repeat")
        check_eq(len([r for r in p.records() if r["service"] == "elasticache"]), 2, "no dupes")
        raws = [x for x in p.d.raws() if x["channel"] == "poll"]
        check_eq(len(raws), 2, "each maintenance item archived once")
        body = p.d.raw(raws[0]["id"])
        check("elasticache:" in json.dumps(body), "archived item names its API: %.200s" % body)


def test_push_and_poll_one_record():
    """An RDS maintenance announced by SNS (RDS-EVENT-0230, security patching) and then seen by
    the pending-actions poller (system-update) is ONE record whose sources and history name both
    channels."""
    acct = aklib.ACCOUNT
    with Polled(accounts=((acct, (R1,), False),), stack=True) as p:
        st = p.stack
        env = st.signer.notification(samples.rds_sns_message(
            230, "orders-db", "A new security patch is available for your DB instance."))
        check_eq(st.d.post_sns(env).status, 200, "SNS accepted")
        wait_for(lambda: any(r["service"] == "rds" for r in p.records()), what="push record")
        p.wait_first_pass()
        p.fake.set_rds(acct, R1, [rds_action(acct, R1, "orders-db", "system-update",
                                             forced=now() + 6 * DAY)])
        p.poll("--source", "rds_pending_maintenance")
        recs = [r for r in p.records() if r["service"] == "rds"]
        check_eq(len(recs), 1, "one record for push + poll: %s" % recs)
        rec = p.d.record(recs[0]["id"])
        srcs = rec.get("sources") or ""
        check("rds-api" in srcs and "rds-sns" in srcs, "sources name both: %s" % srcs)
        chans = {h["channel"] for h in rec.get("history", [])}
        check({"sns", "poll"} <= chans, "history channels %s" % chans)
        check(rec["deadline"], "the poll brought the deadline push lacked")


def test_health_subscription_required_said_once():
    """Health API without a support plan: the scope fails with the plan named, the note is on
    the scope, and the daemon log says it once over several passes."""
    with Polled(enabled={"health": True}) as p:
        p.fake.set_health(ACCT, subscription=False)
        p.wait_first_pass()
        p.poll("--source", "health", want=1)
        p.poll("--source", "health", want=1)
        st = {s["scope"]: s for s in p.d.get_json("/api/v1/poll")}
        h = st["health:%s:global" % ACCT]
        check("SubscriptionRequiredException" in (h["last_error"] or ""), "error %s" % h)
        check("Business" in (h["note"] or ""), "note names the plan: %s" % h["note"])
        n = p.d.log_text().count("health API unavailable")
        check_eq(n, 1, "said once in the log")


def test_dry_run_changes_nothing_and_cli_errors():
    with Polled() as p:
        p.wait_first_pass()
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "dry-db")])
        rep = p.poll("--dry-run")
        check(rep["dry_run"], "dry_run flag")
        check(any(c["change"] == "created" for c in rep["changes"]), "would create")
        check_eq([r for r in p.records() if r["service"] == "rds"], [], "nothing created")
        r = run_cli(["poll", "--source", "nope"], server=p.d.url)
        check_eq(r.rc, 2, "unknown poller is a usage error")
        check("unknown poller" in r.err, r.err)
        r = run_cli(["poll", "--help"], server=p.d.url)
        check(r.rc == 0 and "--dry-run" in r.out, "help")


def test_coverage_blind_spot_exit_code():
    """An ElastiCache cluster in the inventory with no SNS topic delivering and no poller is a
    blind spot (exit 1, in plain words); enabling the pollers and a healthy pass covers it."""
    inv = (("elasticache", ACCT, R1), ("rds", ACCT, R1))
    off = {n: False for n in POLLERS}
    with Polled(inventory=inv, enabled=dict(off, rds_pending_maintenance=True)) as p:
        p.wait_first_pass()
        r = run_cli(["maint", "coverage"], server=p.d.url)
        check_eq(r.rc, 1, "blind spot exit code")
        check("no SNS notification topic has delivered in 30 days" in r.out and
              "node replacements will not reach you" in r.out, r.out)
        cov = json.loads(run_cli(["maint", "coverage", "-o", "json"], server=p.d.url).out)
        rows = {(x["service"], x["region"]): x for x in cov["rows"]}
        check_eq(rows[("elasticache", R1)]["verdict"], "blind", "elasticache verdict")
        check_eq(rows[("rds", R1)]["verdict"], "covered", "rds covered by its healthy poller")
        html = p.d.get("/").text
        check("BLIND" in html and "node replacements will not reach you" in html,
              "the dashboard's coverage panel names the blind spot")
    with Polled(inventory=inv) as p:
        p.wait_first_pass()
        r = run_cli(["maint", "coverage"], server=p.d.url)
        check_eq(r.rc, 0, "covered: " + r.out)


def test_events_pagination_keeps_its_query():
    """DescribeEvents pages over more than a second: every page must repeat the first page's
    StartTime, or the page token is refused (a real bug the benchmark found)."""
    off = {n: False for n in POLLERS}
    with Polled(enabled=dict(off, elasticache_events=True)) as p:
        p.wait_first_pass()
        w = now() + 9 * DAY
        ev = []
        for i in range(5):
            msg = ("The node with Cache Cluster ID: c%d-001, Node ID: 0001 is scheduled for "
                   "replacement during the maintenance window from Start Time: %s, End Time: %s"
                   % (i, w.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      (w + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")))
            ev.append({"SourceIdentifier": "c%d-001" % i, "SourceType": "cache-cluster",
                       "Message": msg, "Date": iso(now() - datetime.timedelta(minutes=i + 1))})
        p.fake.set_elasticache(ACCT, R1, events=ev)
        p.fake.latency_ms = 450
        rep = p.poll("--source", "elasticache_events")
        sc = rep["scopes"][0]
        check(sc["ok"] and sc["pages"] == 3, "3 pages, ok: %s" % sc)
        check_eq(len([r for r in p.records() if r["kind"] == "node-replacement"]), 5,
                 "five node replacements")


# ---- adversarial answers (review of issue 4) ---------------------------------------------------

def test_bad_pages_fail_the_scope_and_close_nothing():
    """A page token that comes back unchanged stops the scope at once (not after 1000 requests);
    a 200 answer that is not XML fails the scope; either way, twice in a row, the open record
    stays open and the other scopes land."""
    with Polled() as p:
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "loop-db", forced=now() + 4 * DAY)])
        p.fake.set_ec2(ACCT, R1, [ec2_instance("i-0000000000000000c",
                                               [ec2_event("instance-event-0ddd")])])
        p.wait_first_pass()
        rec = [r for r in p.records() if r["service"] == "rds"][0]
        scope = "rds_pending_maintenance:%s:%s" % (ACCT, R1)
        p.fake._op_rds_DescribePendingMaintenanceActions = \
            lambda params, acct, region, protocol: {"PendingMaintenanceActions": [],
                                                    "Marker": "the-same-marker"}
        for _ in range(2):
            rep = p.poll(want=1)
            sc = scopes_by_name(rep)
            check(not sc[scope]["ok"] and "token" in sc[scope]["error"], "loop: %s" % sc[scope])
            check(sc[scope]["pages"] <= 3, "stopped at once: %d pages" % sc[scope]["pages"])
            check(sc["ec2_scheduled_events:%s:%s" % (ACCT, R1)]["ok"], "ec2 still landed")
        del p.fake._op_rds_DescribePendingMaintenanceActions
        orig = p.fake.handle

        def not_xml(h):
            sc = p.fake._scope(h)
            if sc and sc[3] == "rds":
                p.fake._read_body(h)
                p.fake._send(h, 200, b"<html><body>502 Bad Gateway", "text/html", "rid")
                return
            orig(h)
        p.fake.handle = not_xml
        for _ in range(2):
            rep = p.poll("--source", "rds_pending_maintenance", want=1)
            bad = scopes_by_name(rep)[scope]
            check(not bad["ok"] and "cannot read" in bad["error"], "not XML: %s" % bad)
            check_eq(rep["changes"], [], "a failed scope changes nothing")
        p.fake.handle = orig
        check_eq(p.d.record(rec["id"])["status"], "scheduled", "record untouched")


def test_short_lived_role_credentials_assumed_once_per_pass():
    """STS hands out a session that expires within asakai's 5-minute refresh margin (e.g. a
    skewed clock): the pass uses it instead of assuming the role again and again."""
    with Polled() as p:
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "skew-db")])
        p.wait_first_pass()
        orig = p.fake._op_sts_AssumeRole

        def short(*a):
            r = orig(*a)
            r["Credentials"]["Expiration"] = now() + datetime.timedelta(minutes=2)
            return r
        p.fake._op_sts_AssumeRole = short
        p.fake.expire_sessions()
        p.fake.clear_log()
        rep = p.poll()
        check(all(s["ok"] for s in rep["scopes"]), "every scope ok: %s" % rep["scopes"])
        n = sum(1 for x in p.fake.log() if x["action"] == "AssumeRole")
        check(1 <= n <= 2, "AssumeRole called %d times in one pass" % n)


def test_assume_role_denied_changes_nothing_and_leaks_no_secret():
    with Polled() as p:
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "denied-db")])
        p.wait_first_pass()
        rec = [r for r in p.records() if r["service"] == "rds"][0]
        p.fake.roles = set()                       # AccessDenied for every role
        p.fake.expire_sessions()
        p.fake.set_rds(ACCT, R1, [])
        for _ in range(2):
            rep = p.poll(want=1)
            check(all(not s["ok"] and "AccessDenied" in s["error"] for s in rep["scopes"]),
                  "every scope failed on the role: %s" % rep["scopes"])
        check_eq(p.d.record(rec["id"])["status"], "scheduled", "nothing closed")
        st = json.dumps(p.d.get_json("/api/v1/poll"))
        for secret in (p.fake.secret_key,) + tuple(s["secret"] for s in p.fake.sessions.values()):
            check(secret not in st and secret not in p.d.log_text(), "a secret leaked")


def test_endpoint_hangs_past_timeout_then_sigterm_mid_pass():
    """An endpoint slower than aws.timeout fails its scope as a timeout (others land); SIGTERM
    while a pass waits on slow answers stops the daemon promptly and cleanly, changing nothing."""
    with Polled() as p:
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "slow-db")])
        p.wait_first_pass()
        rec = [r for r in p.records() if r["service"] == "rds"][0]
        orig = p.fake._op_rds_DescribePendingMaintenanceActions

        def hang(*a):
            time.sleep(6)                          # aws.timeout is 5s
            return orig(*a)
        p.fake._op_rds_DescribePendingMaintenanceActions = hang
        rep = p.poll("--source", "rds_pending_maintenance", want=1)
        bad = rep["scopes"][0]
        check(not bad["ok"] and "timed out" in bad["error"], "timeout: %s" % bad)
        p.fake._op_rds_DescribePendingMaintenanceActions = orig
        p.fake.set_rds(ACCT, R1, [])
        p.fake.latency_ms = 2000
        cli = subprocess.Popen([aklib.asakai_bin(), "--server", p.d.url, "poll"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.7)
        t0 = time.monotonic()
        p.d.stop(timeout=20)                       # exit 0, no sanitizer report
        check(time.monotonic() - t0 < 10, "stopped in %.1fs" % (time.monotonic() - t0))
        cli.wait(timeout=20)
        p.fake.latency_ms = 0
        p.d.start()
        check_eq(p.d.record(rec["id"])["status"], "scheduled", "the cut pass changed nothing")


def test_a_pass_asked_for_by_the_api_never_blocks_an_http_worker():
    """With ONE HTTP worker thread, `asakai poll` against a slow AWS (1.5 s per request) is
    suspended while the pass runs on the poller thread: intake and other API calls are answered
    while the poll command is still waiting."""
    off = {n: False for n in POLLERS}
    with Polled(threads=1, enabled=dict(off, rds_pending_maintenance=True)) as p:
        p.fake.set_rds(ACCT, R1, [rds_action(ACCT, R1, "slow-%d" % i) for i in range(5)])
        p.wait_first_pass()
        p.fake.latency_ms = 1500
        out = {}
        n0 = len(p.fake.log())
        t = threading.Thread(target=lambda: out.update(rep=p.poll("--source",
                                                                   "rds_pending_maintenance")))
        t.start()
        wait_for(lambda: len(p.fake.log()) > n0, timeout=10, what="a request of the pass")
        alive_before = t.is_alive()
        r = aklib.request("GET", p.d.url + "/healthz", timeout=10)
        answered_while_polling = t.is_alive()
        t.join(60)
        check(alive_before, "the pass was still running")
        check_eq(r.status, 200, "healthz")
        check(answered_while_polling, "the worker answered while the pass was running")
        check(all(s["ok"] for s in out["rep"]["scopes"]), "the pass itself succeeded")


def test_health_api_and_ec2_poll_meet_the_health_push():
    """One EC2 reboot, three channels: the Health event on EventBridge (push), the same event
    from the Health API (DescribeEvents + DescribeAffectedEntities) and the instance's scheduled
    event from DescribeInstanceStatus. One record; its sources name all three."""
    acct = aklib.ACCOUNT
    start = now() + 6 * DAY
    with Polled(accounts=((acct, (R1,), False),), stack=True, enabled={"health": True}) as p:
        ev = samples.health_event("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2", start,
                                  ["i-0health0000000001"], region=R1)
        check_eq(p.d.post_eb(ev).status, 200, "EventBridge accepted")
        wait_for(lambda: any(r["service"] == "ec2" for r in p.records()), what="push record")
        arn = ev["detail"]["eventArn"]
        p.fake.set_health(acct, events=[{
            "arn": arn, "service": "EC2",
            "eventTypeCode": "AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED",
            "eventTypeCategory": "scheduledChange", "region": R1,
            "startTime": start, "lastUpdatedTime": now(), "statusCode": "upcoming",
            "eventScopeCode": "ACCOUNT_SPECIFIC"}],
            entities=[{"entityArn": arn + "/i-0health0000000001", "eventArn": arn,
                       "entityValue": "i-0health0000000001", "awsAccountId": acct,
                       "lastUpdatedTime": now(), "statusCode": "PENDING"}])
        p.fake.set_ec2(acct, R1, [ec2_instance("i-0health0000000001", [ec2_event(
            "instance-event-0ddd", code="system-reboot", start=start,
            deadline=start + 7 * DAY)])])
        p.wait_first_pass()
        rep = p.poll()
        check(all(s["ok"] for s in rep["scopes"]), "scopes %s" % rep["scopes"])
        recs = [r for r in p.records() if r["service"] == "ec2"]
        check_eq(len(recs), 1, "one record: %s" % [(r["id"], r["kind"], r.get("sources"))
                                                    for r in recs])
        rec = p.d.record(recs[0]["id"])
        srcs = rec.get("sources") or ""
        for s in ("aws.health", "health-api", "ec2-api"):
            check(s in srcs, "sources name %s: %s" % (s, srcs))
