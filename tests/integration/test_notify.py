#!/usr/bin/python3
"""Notifications end to end against real receivers (tests/integration/sinks.py): routing, email
headers and threading, Slack webhook / chat.postMessage, the signed webhook, the outbox under
faults (receiver down, kill -9, 429 storm, 550), reminders and ack, silences, route test, the
daily digest."""
import datetime
import json
import os
import re
import time
import zoneinfo

import aklib
import samples
import sinks
from aklib import Stack, check, check_eq, now_utc, rfc3339, run_cli, wait_for

DAY = datetime.timedelta(days=1)
SECRET = "s3cret"
# short backoff so fault tests finish in seconds; give_up_after is at its minimum
FAST = {"backoff_min": "1s", "backoff_max": "3s", "timeout": "3s", "give_up_after": "1h"}


def note(text):
    """A TAP comment line (shown by run.py's output, not a failure)."""
    for line in str(text).splitlines():
        print("# " + line)


# ---- the setup: daemon + sinks ----------------------------------------------------------------

class Notify:
    """Stack (cert server + daemon) + SMTP sink + Slack mock + webhook sink, with a config naming
    receivers team-mail (email), team-slack (Slack webhook), hook (signed webhook) and, when
    bot=True, slack-bot (chat.postMessage). route / notify / per-receiver extras are optional."""

    def __init__(self, route=None, notify=None, bot=False, mail=True, slack=True, hook=True,
                 mail_extra=None, start_smtp=True, smtp_tls=None, smtp_auth=None):
        self.smtp = sinks.SmtpSink(tls=smtp_tls, auth=smtp_auth)
        self.slack = sinks.SlackMock()
        self.hook = sinks.WebhookSink(SECRET)
        self.start_smtp = start_smtp
        recv = []
        if mail:
            e = {"smarthost": self.smtp.url(), "from": "asakai@example.com",
                 "to": ["sre@example.com"], "starttls": smtp_tls == "starttls"}
            if smtp_tls == "smtps":
                del e["starttls"]
            if smtp_tls:
                e["ca_file"] = os.path.join(aklib.PKI, "ca.pem")
            if smtp_auth:
                e["username"], e["password"] = smtp_auth
            r = {"name": "team-mail", "email": e, "digest": False}
            r.update(mail_extra or {})
            recv.append(r)
        if slack:
            recv.append({"name": "team-slack", "slack": {"webhook_url": self.slack.webhook_url()},
                         "digest": False})
        if bot:
            recv.append({"name": "slack-bot", "slack": {
                "bot_token": sinks.SLACK_TOKEN, "channel": sinks.SLACK_CHANNEL,
                "api_url": self.slack.api_url()}, "digest": False})
        if hook:
            recv.append({"name": "hook", "webhook": {"url": self.hook.hook_url(),
                                                     "secret": SECRET}, "digest": False})
        nt = dict(FAST)
        nt.update(notify or {})
        # YAML is a superset of JSON: flow style written by json.dumps
        self.yaml = "receivers: %s\n" % json.dumps(recv)
        if route is not None:
            self.yaml += "route: %s\n" % json.dumps(route)
        self.yaml += "notify: %s\n" % json.dumps(nt)
        self.s = Stack()
        with open(self.s.d.cfg_path, "a") as f:
            f.write(self.yaml)

    @property
    def d(self):
        return self.s.d

    def __enter__(self):
        try:
            if self.start_smtp:
                self.smtp.start()
            self.slack.start()
            self.hook.start()
            self.s.__enter__()
        except BaseException:
            self._close_sinks()
            raise
        return self

    def _close_sinks(self):
        for x in (self.smtp, self.slack, self.hook):
            try:
                x.close()
            except Exception:  # noqa: BLE001 - closing best effort
                pass

    def __exit__(self, et, ev, tb):
        try:
            self.s.__exit__(et, ev, tb)
        finally:
            self._close_sinks()
        return False

    # -- records --
    def post_eb(self, ev):
        r = self.d.post_eb(ev)
        check(r.status == 200 and r.json().get("result") in ("accepted", "duplicate"),
              "EventBridge post: %r" % r)
        return self.d.wait_normalised(r.json()["raw_id"])

    def post_sns(self, env):
        r = self.d.post_sns(env)
        check(r.status == 200, "SNS post: %r" % r)
        return self.d.wait_normalised(r.json()["raw_id"])

    def record_with(self, resource):
        recs = [x for x in self.d.records() if resource in x["resources"]]
        check(len(recs) == 1, "one record with resource %s, got %r" % (resource, recs))
        return recs[0]

    def outbox(self, state=None):
        return self.d.get_json("/api/v1/outbox" + ("?state=" + state if state else ""))

    def wait_idle(self, timeout=30.0, settle=1.0):
        """Until the outbox has no pending row (for `settle` seconds)."""
        def idle():
            if self.outbox("pending"):
                return False
            time.sleep(settle)
            return not self.outbox("pending")
        wait_for(idle, timeout=timeout, interval=0.2, what="an empty outbox (no pending row)")


def normal_event(entity, days=40, **kw):
    """A Health reboot maintenance 40 days out: not required, not soon — importance normal."""
    start = now_utc().replace(second=0) + days * DAY
    return samples.health_event("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2", start,
                                [entity], end=start + DAY / 24, **kw)


def important_event(entity, days=5, service="EC2",
                    code="AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", **kw):
    start = now_utc().replace(second=0) + days * DAY
    return samples.health_event(code, service, start, [entity], end=start + DAY / 24, **kw)


def rds_event(entity, days=5, **kw):
    return important_event(entity, days, service="RDS",
                           code="AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED", **kw)


def ec_msg(event, i=0, window=None):
    return samples.elasticache_message(event, group="cache-%d" % i, cluster="cache-%d-001" % i,
                                       window=window)


def ec_resched(i, old, new):
    hour = DAY / 24
    return json.dumps({
        "ElastiCache:NodeReplacementRescheduled": "cache-%d" % i,
        "Cache Cluster ID": "cache-%d-001" % i, "Cache Node ID": "0001",
        "Message": "The replacement in maintenance window for node with Cache Cluster ID: "
                   "cache-%d-001, Node ID: 0001 has re-scheduled from Previous Start Time: %s, "
                   "Previous End Time: %s to New Start Time: %s, New End Time: %s" %
                   (i, rfc3339(old), rfc3339(old + hour), rfc3339(new), rfc3339(new + hour))})


def wait_gauge(d, want, timeout=35.0, **labels):
    """asakai_outbox_messages is refreshed by the worker's periodic scan (30 s): polls; notes
    how stale it was."""
    t0 = time.monotonic()
    wait_for(lambda: d.metric("asakai_outbox_messages", **labels) == want, timeout=timeout,
             interval=0.5, what="asakai_outbox_messages%r == %s (now %s)" %
             (labels, want, d.metric("asakai_outbox_messages", **labels)))
    lag = time.monotonic() - t0
    if lag > 2:
        note("asakai_outbox_messages%r reached %s only after %.1fs" % (labels, want, lag))


def hook_rec_id(req):
    rec = (req.json or {}).get("record") or {}
    return rec.get("id")


def hook_for(n, rec_id):
    return [r for r in n.hook.delivered() if hook_rec_id(r) == rec_id]


def slack_mentions(req, rec):
    """Does this Slack payload speak of record rec (its title or a resource)?"""
    body = req.body.decode("utf-8", "replace")
    return any(x and x in body for x in [rec.get("title")] + list(rec["resources"]))


# ---- routing ----------------------------------------------------------------------------------

def test_default_routing_email_all_slack_important():
    with Notify() as n:
        n.post_eb(normal_event("i-0normal00000001"))
        n.post_eb(important_event("i-0import00000001"))
        norm = n.record_with("i-0normal00000001")
        imp = n.record_with("i-0import00000001")
        check_eq(norm["important"], False, "importance of the 40-day reboot (test premise)")
        check_eq(imp["important"], True, "importance of the retirement (test premise)")
        n.smtp.wait_count(2, what="an email for each record")
        n.hook.wait_count(2, pred=lambda r: r.answer == "ok", what="a webhook for each record")
        n.slack.wait_count(1, what="a Slack message for the important record")
        n.wait_idle()
        check_eq(len(n.smtp.for_record(norm["id"])), 1, "emails for the normal record")
        check_eq(len(n.smtp.for_record(imp["id"])), 1, "emails for the important record")
        check_eq(len(hook_for(n, norm["id"])), 1, "webhooks for the normal record")
        check_eq(len(hook_for(n, imp["id"])), 1, "webhooks for the important record")
        posts = n.slack.webhook_posts()
        check_eq(len(posts), 1, "Slack messages (only the important record): %r" % posts)
        check(slack_mentions(posts[0], imp), "the Slack message is about the important record")
        check(not slack_mentions(posts[0], norm), "the Slack message names the normal record")
        check_eq(n.slack.limit_violations, [], "Slack limit violations")
        # the outbox, the record view and the metrics agree
        sent = n.outbox("sent")
        check_eq(sorted((o["receiver"], o["key"]) for o in sent if o.get("record") == imp["id"]),
                 [("hook", "created"), ("team-mail", "created"), ("team-slack", "created")],
                 "sent outbox rows of the important record (%r)" % sent)
        full = n.d.record(imp["id"])
        check(any(c["kind"] == "created" for c in full.get("changes", [])),
              "record changes have 'created': %r" % full.get("changes"))
        check_eq(sorted((o["receiver"], o["state"]) for o in full.get("outbox", [])),
                 [("hook", "sent"), ("team-mail", "sent"), ("team-slack", "sent")],
                 "record view outbox")
        wait_gauge(n.d, 5.0, state="sent")
        m = n.d.metrics()
        check_eq(aklib.metric_value(m, "asakai_outbox_messages", state="pending"), 0.0,
                 "asakai_outbox_messages{state=pending}")
        per = {dict(k[1]).get("receiver"): v for k, v in m.items()
               if k[0] == "asakai_notify_sent_total" and dict(k[1]).get("result") in
               ("ok", "sent", "success")}
        check_eq(per, {"team-mail": 2.0, "hook": 2.0, "team-slack": 1.0},
                 "asakai_notify_sent_total by receiver (successful results)")


def test_route_test_cli_and_api():
    route = {"receivers": ["team-mail"], "routes": [
        {"match": {"service": "rds"}, "receivers": ["hook"], "continue": True},
        {"match_re": {"kind": "node-.*"}, "receivers": ["team-slack"]},
        {"matchers": ["importance=high"], "receivers": ["slack-bot"]}]}
    with Notify(route=route, bot=True) as n:
        n.post_eb(rds_event("db-route-1"))
        n.post_eb(normal_event("i-0route00000001"))
        w = now_utc().replace(minute=0, second=0) + 3 * DAY
        n.post_sns(n.s.signer.notification(ec_msg("NodeReplacementScheduled", 7,
                                                  (w, w + DAY / 24))))
        rds = n.record_with("db-route-1")
        ec2 = n.record_with("i-0route00000001")
        ec = n.record_with("cache-7-001")
        want = {rds["id"]: ["team-mail", "hook", "slack-bot"], ec2["id"]: ["team-mail"],
                ec["id"]: ["team-mail", "team-slack"]}
        for rid, recv in want.items():
            j = n.d.post("/api/v1/route/test?record=%d" % rid, "").json()
            check_eq(j.get("receivers"), recv, "route test ?record=%d receivers (%r)" % (rid, j))
            check(isinstance(j.get("explain"), list) and j["explain"],
                  "route test explain: %r" % j)
            r = run_cli(["route", "test", "--record", str(rid)], server=n.d.url)
            check_eq(r.rc, 0, "route test --record %d exit status (%r)" % (rid, r))
            for name in recv:
                check(name in r.out, "route test --record %d does not name %s: %r" %
                      (rid, name, r))
            full = n.d.record(rid)
            r = run_cli(["route", "test"], server=n.d.url, stdin=json.dumps(full).encode())
            check_eq(r.rc, 0, "route test with the record on stdin (%r)" % r)
            for name in recv:
                check(name in r.out, "route test (stdin) does not name %s: %r" % (name, r))
            j = n.d.post("/api/v1/route/test", json.dumps(full),
                         {"Content-Type": "application/json"}).json()
            check_eq(j.get("receivers"), recv, "route test with a JSON body (%r)" % j)
        rds_line = " ".join(n.d.post("/api/v1/route/test?record=%d" % rds["id"], "")
                            .json()["explain"])
        check("service" in rds_line, "explain mentions the matcher: %r" % rds_line)
        # and the deliveries follow the tree
        n.wait_idle()
        check_eq(sorted({hook_rec_id(r) for r in n.hook.delivered()}), [rds["id"]],
                 "records at the webhook")
        check_eq(len(n.slack.api_posts()), 1, "chat.postMessage posts (the RDS record)")
        check_eq(len(n.slack.webhook_posts()), 1, "Slack webhook posts (the ElastiCache record)")
        check(slack_mentions(n.slack.webhook_posts()[0], ec), "team-slack got the ElastiCache one")
        check_eq(len(n.smtp.snapshot()), 3, "emails (every record)")
        r = n.d.post("/api/v1/route/test?record=999999", "")
        check_eq(r.status, 404, "route test of an unknown record")


def test_config_unknown_receiver_in_route_refused():
    n = Notify(route={"receivers": ["nobody"]})
    try:
        d = n.d
        d.start(wait=False)
        rc = d.proc.wait(timeout=20)
        d._closed()
        check(rc != 0, "serve with a route naming an unknown receiver must fail")
        check("nobody" in d.log_text(), "the error names the receiver: %s" % d.log_tail())
    finally:
        n.s.cs.close()
        n._close_sinks()


# ---- email ------------------------------------------------------------------------------------

def _deadline_forms(dt):
    """The subject's "Mon DD HH:MM TZ" in the zones a reader may expect."""
    out = []
    for tz in ("Asia/Tokyo", "UTC"):
        z = dt.astimezone(zoneinfo.ZoneInfo(tz))
        out.append(z.strftime("%b %d %H:%M ") + z.tzname())
        out.append(z.strftime("%b ") + str(z.day) + z.strftime(" %H:%M ") + z.tzname())
    return out


def test_email_headers_and_threading():
    with Notify() as n:
        w1 = now_utc().replace(minute=0, second=0) + 20 * DAY
        w2 = w1 + 2 * DAY
        n.post_sns(n.s.signer.notification(ec_msg("NodeReplacementScheduled", 1,
                                                  (w1, w1 + DAY / 24))))
        rec = n.record_with("cache-1-001")
        first = n.smtp.wait_count(1, pred=lambda m: m.record == str(rec["id"]))[0]
        n.post_sns(n.s.signer.notification(ec_resched(1, w1, w2)))
        n.smtp.wait_count(2, pred=lambda m: m.record == str(rec["id"]),
                          what="the rescheduled email")
        n.post_sns(n.s.signer.notification(ec_msg("CacheNodeReplaceComplete", 1)))
        n.smtp.wait_count(3, pred=lambda m: m.record == str(rec["id"]),
                          what="the completed email")
        n.wait_idle()
        mails = n.smtp.for_record(rec["id"])
        note("subjects: %r" % [m.subject for m in mails])
        # envelope and the fixed headers
        for m in mails:
            check_eq(m.mail_from, "asakai@example.com", "envelope sender")
            check_eq(m.rcpt_tos, ["sre@example.com"], "envelope recipients")
            check("asakai@example.com" in (m.header("From") or ""), "From: %r" % m.header("From"))
            check("sre@example.com" in (m.header("To") or ""), "To: %r" % m.header("To"))
            check(m.header("Date"), "Date header missing")
            check(re.match(r"^<[^<>@\s]+@[^<>@\s]+>$", (m.header("Message-ID") or "").strip()),
                  "Message-ID %r is not <left@right>" % m.header("Message-ID"))
            check_eq(m.msg.get_content_type(), "multipart/alternative", "top content type")
            parts = m.parts()
            check("text/plain" in parts and "text/html" in parts,
                  "parts: %r" % list(parts))
            check(m.subject.startswith("[asakai] "), "subject %r" % m.subject)
            check(re.search(r" — deadline [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d [A-Z+0-9-]+$",
                            m.subject), "subject %r does not end in '— deadline Mon DD HH:MM TZ'"
                  % m.subject)
            check(any(x in parts["text/plain"] for x in rec["resources"]),
                  "text part does not name the resources %r" % rec["resources"])
            check(all(ord(c) < 128 for c in m.data.decode("utf-8", "replace").split(
                "\r\n\r\n", 1)[0]), "raw headers are not 7-bit (RFC 2047 needed)")
        check(any(f in first.subject for f in _deadline_forms(w1)),
              "first subject %r shows the deadline %s" % (first.subject, _deadline_forms(w1)))
        check(any(f in mails[1].subject for f in _deadline_forms(w2)),
              "rescheduled subject %r shows the new deadline" % mails[1].subject)
        # threading
        root = first.header("Message-ID").strip()
        check(first.header("In-Reply-To") is None, "the first email has In-Reply-To %r" %
              first.header("In-Reply-To"))
        ids = [m.header("Message-ID").strip() for m in mails]
        check_eq(len(set(ids)), len(ids), "distinct Message-IDs %r" % ids)
        for m in mails[1:]:
            check_eq((m.header("In-Reply-To") or "").strip(), root, "In-Reply-To of %r" %
                     m.subject)
            check(root in (m.header("References") or "").split(), "References %r lacks root %s"
                  % (m.header("References"), root))
        check_eq(len(mails), 3, "emails: created, rescheduled, completed (%r)" % mails)
        check_eq([c["kind"] for c in n.d.record(rec["id"])["changes"]][:1], ["created"],
                 "first change")


def test_no_duplicates_sns_retry_reimport_restart():
    with Notify() as n:
        w = now_utc().replace(minute=0, second=0) + 20 * DAY
        msg = ec_msg("NodeReplacementScheduled", 2, (w, w + DAY / 24))
        env = n.s.signer.notification(msg)
        n.post_sns(env)
        r = n.d.post_sns(env)                     # an SNS retry: same MessageId
        check_eq(r.json().get("result"), "duplicate", "SNS retry")
        n.post_sns(n.s.signer.notification(msg))  # the same notice republished: new MessageId
        ev = normal_event("i-0dup000000001")
        n.post_eb(ev)
        n.post_eb(ev)
        imp = n.d.post("/api/v1/events/import?name=again.json",
                       json.dumps([n.s.signer.notification(msg), ev]))
        check_eq(imp.status, 200, "re-import (%r)" % imp)
        rec = n.record_with("cache-2-001")
        ec2 = n.record_with("i-0dup000000001")
        n.smtp.wait_count(2)
        n.wait_idle()
        n.d.stop()
        n.d.start()
        time.sleep(3)
        n.wait_idle()
        check_eq(len(n.smtp.for_record(rec["id"])), 1, "emails for the ElastiCache record")
        check_eq(len(n.smtp.for_record(ec2["id"])), 1, "emails for the EC2 record")
        check_eq(len(hook_for(n, rec["id"])), 1, "webhooks for the ElastiCache record")
        check_eq(len(hook_for(n, ec2["id"])), 1, "webhooks for the EC2 record")
        check_eq(len(n.slack.webhook_posts()), 1, "Slack messages (ElastiCache is mandatory)")
        check_eq(len(n.smtp.snapshot()), 2, "emails in all")


# ---- webhook and Slack ------------------------------------------------------------------------

def test_webhook_signature_and_payload():
    with Notify(mail=False, slack=False) as n:
        n.post_eb(normal_event("i-0hook00000001"))
        rec = n.record_with("i-0hook00000001")
        req = n.hook.wait_count(1)[0]
        check(req.sig_ok, "signature: %s (header %r)" % (req.sig_error,
                                                          req.headers.get("x-asakai-signature")))
        ok, why = sinks.verify_signature("wrong", req.headers["x-asakai-signature"], req.body)
        check(not ok, "the signature also verifies with a wrong secret")
        ok, why = sinks.verify_signature(SECRET, req.headers["x-asakai-signature"],
                                         req.body + b" ")
        check(not ok, "the signature also verifies for a changed body")
        check("json" in req.headers.get("content-type", ""), "Content-Type %r" %
              req.headers.get("content-type"))
        j = req.json
        check(isinstance(j, dict), "webhook body is not a JSON object: %.200r" % req.body)
        check_eq(j.get("version"), "1", "version")
        check_eq(j.get("type"), "change", "type")
        check_eq(j["record"].get("id"), rec["id"], "record.id")
        check_eq(j["record"].get("deadline"), rec["deadline"], "record.deadline")
        check_eq(j.get("change", {}).get("kind"), "created", "change.kind")


def test_slack_chat_postmessage_threads():
    with Notify(bot=True, mail=False, hook=False, slack=False) as n:
        w1 = now_utc().replace(minute=0, second=0) + 3 * DAY
        w2 = w1 + DAY
        n.post_sns(n.s.signer.notification(ec_msg("NodeReplacementScheduled", 3,
                                                  (w1, w1 + DAY / 24))))
        first = n.slack.wait_count(1, pred=lambda r: r.answer == "ok")[0]
        n.post_sns(n.s.signer.notification(ec_resched(3, w1, w2)))
        n.post_sns(n.s.signer.notification(ec_msg("CacheNodeReplaceComplete", 3)))
        n.slack.wait_count(3, pred=lambda r: r.answer == "ok", what="3 chat.postMessage posts")
        n.wait_idle()
        posts = n.slack.api_posts()
        check_eq(len(posts), 3, "chat.postMessage calls (%r)" % n.slack.snapshot())
        check_eq(first.headers.get("authorization"), "Bearer xoxb-test", "Authorization")
        check("json" in first.headers.get("content-type", ""), "Content-Type %r" %
              first.headers.get("content-type"))
        check_eq(first.json.get("channel"), "C123", "channel")
        check("thread_ts" not in first.json or not first.json["thread_ts"],
              "the first message starts the thread: %r" % first.json.get("thread_ts"))
        check(first.json.get("text"), "text (the notification fallback) is empty")
        for p in posts[1:]:
            check_eq(p.json.get("thread_ts"), first.ts, "thread_ts of a later message")
        check_eq(n.slack.limit_violations, [], "Slack limit violations")


def test_slack_huge_record_stays_within_limits():
    big = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 600)[:32000]
    ents = ["i-0big%011d" % i for i in range(300)]
    with Notify(hook=False) as n:
        start = now_utc().replace(second=0) + 4 * DAY
        ev = samples.health_event("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "EC2", start, ents,
                                  description=big)
        n.post_eb(ev)
        rec = n.record_with(ents[0])
        n.smtp.wait_count(1, timeout=30)
        n.wait_idle()
        check_eq(n.slack.limit_violations, [], "Block Kit limit violations")
        check_eq([r.answer for r in n.slack.snapshot()], ["ok"], "Slack answers")
        check_eq(len(n.smtp.for_record(rec["id"])), 1, "the email of a huge record")
        for line in n.smtp.snapshot()[0].data.split(b"\r\n"):
            check(len(line) <= 998, "an email line of %d bytes (RFC 5322: 998)" % len(line))


# ---- faults -----------------------------------------------------------------------------------

def test_receivers_down_then_up_all_arrive_in_order():
    with Notify(start_smtp=False, slack=False) as n:
        n.hook.default = "500"
        w = now_utc().replace(minute=0, second=0) + 20 * DAY
        for i in range(10, 13):
            n.post_sns(n.s.signer.notification(ec_msg("NodeReplacementScheduled", i,
                                                      (w, w + DAY / 24))))
        for i in range(10, 13):
            n.post_sns(n.s.signer.notification(ec_resched(i, w, w + 3 * DAY)))
        n.post_sns(n.s.signer.notification(ec_msg("CacheNodeReplaceComplete", 10)))
        recs = [n.record_with("cache-%d-001" % i) for i in range(10, 13)]

        def failing():
            # a down receiver is paused as a whole after a failed attempt: at least one of its
            # rows carries attempts and the error, the others wait (are not hammered one by one)
            rows = n.outbox("pending")
            mail = [r for r in rows if r["receiver"] == "team-mail"]
            return len(rows) >= 6 and any(r["attempts"] >= 1 and r.get("last_error")
                                          for r in mail)
        wait_for(failing, timeout=20, what="pending rows with attempts and last_error")
        time.sleep(4)
        pend = n.outbox("pending")
        note("while down: %r" % [(r["receiver"], r["key"], r["attempts"], r["last_error"])
                                 for r in pend][:4])
        check(max(r["attempts"] for r in pend) <= 12, "attempts while down (spinning?): %r" %
              [r["attempts"] for r in pend])
        check(all(r["state"] == "pending" for r in pend), "state while down")
        n.smtp.start()
        n.hook.default = "ok"
        n.wait_idle(timeout=40)
        for rec in recs:
            changes = n.d.record(rec["id"])["changes"]
            order = [c["key"] for c in changes if c["kind"] not in ("silenced", "ack")]
            got = []
            for r in hook_for(n, rec["id"]):
                k = (r.json.get("change") or {}).get("key")
                if k not in got:
                    got.append(k)
            check_eq(got, order, "webhook change order of record %d" % rec["id"])
            mails = n.smtp.for_record(rec["id"])
            check_eq(len(mails), len(order), "emails of record %d" % rec["id"])
            check(mails[0].header("In-Reply-To") is None,
                  "the first email to arrive for record %d is not the root" % rec["id"])


def test_kill9_mid_delivery_nothing_lost():
    with Notify(mail=False, slack=False) as n:
        n.hook.default = ("slow", 0.6)
        ents = ["i-0kill%08d" % i for i in range(8)]
        for e in ents:
            n.post_eb(normal_event(e))
        n.hook.wait_count(2, what="the first deliveries")
        n.d.kill9()
        n.hook.default = "ok"
        n.d.start()
        n.hook.wait_count(8, pred=lambda r: r.answer == "ok" and
                          (r.json.get("change") or {}).get("kind") == "created", timeout=40,
                          what="every record's created message after kill -9")
        n.wait_idle()
        seen = {}
        for r in n.hook.delivered():
            k = (hook_rec_id(r), (r.json.get("change") or {}).get("key"))
            seen[k] = seen.get(k, 0) + 1
        ids = {n.record_with(e)["id"] for e in ents}
        check_eq({k[0] for k in seen}, ids, "records delivered after kill -9")
        dups = {k: v for k, v in seen.items() if v > 1}
        note("kill -9: %d messages, %d duplicated (at-least-once): %r" % (len(seen), len(dups),
                                                                          dups))
        check(sum(dups.values()) - len(dups) <= 2, "more duplicates than messages in flight")


def test_slack_429_storm_honours_retry_after():
    with Notify(mail=False, hook=False) as n:
        n.slack.push(*[("429", 1)] * 5)
        ents = ["i-0storm%07d" % i for i in range(3)]
        for e in ents:
            n.post_eb(important_event(e))
        n.slack.wait_count(3, pred=lambda r: r.answer == "ok", timeout=40,
                           what="3 Slack messages through the 429 storm")
        n.wait_idle()
        reqs = n.slack.snapshot()
        note("429 storm: %d requests, answers %r" % (len(reqs), [r.answer for r in reqs]))
        check_eq(len(n.slack.webhook_posts()), 3, "Slack messages delivered")
        check(len(reqs) <= 5 + 3 + 2, "requests during the storm: %d (spinning?)" % len(reqs))
        for a, b in zip(reqs, reqs[1:]):
            if a.answer == "429":
                check(b.at - a.at >= 0.9, "a request to the same Slack webhook %.2fs after it "
                      "answered 429 with Retry-After: 1 (answers %r)" %
                      (b.at - a.at, [r.answer for r in reqs]))
        for e in ents:
            rec = n.record_with(e)
            check(any(slack_mentions(r, rec) for r in n.slack.webhook_posts()),
                  "no Slack message for %s" % e)


def test_slack_500_and_hang_retried():
    with Notify(mail=False, hook=False, notify={"timeout": "2s"}) as n:
        n.slack.push("500", ("hang", 6))
        n.post_eb(important_event("i-0flaky0000001"))
        n.slack.wait_count(1, pred=lambda r: r.answer == "ok", timeout=30)
        reqs = n.slack.snapshot()
        check_eq([r.answer for r in reqs][:3], ["500", "hang", "ok"], "answers")
        check(reqs[2].at - reqs[1].at < 6, "the hung request was not cut by notify.timeout")
        row = [o for o in n.outbox("sent") if o["receiver"] == "team-slack"]
        check(row and row[0]["attempts"] == 3, "attempts of the sent row: %r" % row)


def test_smtp_550_dead_then_retry_command():
    """docs/internals/notify.md: SMTP 5xx is dead at once (a 4xx is retried: see the
    receiver-down test); outbox list shows it, metrics count it, outbox retry revives it."""
    with Notify(slack=False, hook=False) as n:
        n.smtp.mode = "550"
        n.post_eb(normal_event("i-0perm00000001"))
        rec = n.record_with("i-0perm00000001")

        def failed():
            rows = [o for o in n.outbox() if o["receiver"] == "team-mail"]
            return rows and rows[0]["attempts"] >= 1 and rows[0]["state"] == "dead" and rows[0]
        row = wait_for(failed, timeout=20, what="the refused email to be dead")
        check_eq(row["attempts"], 1, "attempts of a 550 (permanent: no retry)")
        check("550" in (row.get("last_error") or ""), "last_error %r names the 550" %
              row.get("last_error"))
        r = run_cli(["outbox", "list", "--state", "dead", "-o", "json"], server=n.d.url)
        check_eq(r.rc, 0, "outbox list (%r)" % r)
        check_eq([o["id"] for o in r.json()], [row["id"]], "outbox list --state dead")
        r = run_cli(["outbox", "list", "--state", "sent", "-o", "json"], server=n.d.url)
        check_eq(r.json(), [], "outbox list --state sent")
        wait_gauge(n.d, 1.0, state="dead")
        m = n.d.metrics()
        check_eq(aklib.metric_value(m, "asakai_notify_sent_total", receiver="team-mail",
                                    result="dead"), 1.0, "asakai_notify_sent_total dead")
        # every dead row, while the server still refuses: dead again after one more attempt
        r = run_cli(["outbox", "retry"], server=n.d.url)
        check_eq(r.rc, 0, "outbox retry (%r)" % r)
        wait_for(lambda: len(n.smtp.refused) == 2 and n.outbox("dead"), timeout=15,
                 what="the retried row to be refused and dead again")
        time.sleep(2)
        check_eq(len(n.smtp.refused), 2, "SMTP refusals (no retry of a 550)")
        n.smtp.mode = "ok"
        j = n.d.post("/api/v1/outbox/retry", json.dumps({"id": row["id"]}),
                     {"Content-Type": "application/json"})
        check_eq(j.json(), {"retried": 1}, "retry the dead row by id")
        n.smtp.wait_count(1, timeout=15, what="the email once the server accepts")
        n.wait_idle()
        check_eq(len(n.smtp.for_record(rec["id"])), 1, "emails")
        j = n.d.post("/api/v1/outbox/retry", "{}", {"Content-Type": "application/json"})
        check_eq(j.json(), {"retried": 0}, "retry with no dead row")


def test_slack_invalid_payload_dead_or_retried():
    """invalid_payload is Slack saying "never": dead at once is fine (then retry works), so is
    retrying; losing it silently or spinning is not."""
    with Notify(mail=False, hook=False) as n:
        n.slack.push("invalid_payload")
        n.post_eb(important_event("i-0invalid00001"))
        wait_for(lambda: len(n.slack.snapshot()) >= 1, timeout=15, what="a Slack request")
        time.sleep(5)
        rows = [o for o in n.outbox() if o["receiver"] == "team-slack"]
        check_eq(len(rows), 1, "outbox rows for team-slack")
        note("after invalid_payload: state %s attempts %s last_error %r" %
             (rows[0]["state"], rows[0]["attempts"], rows[0].get("last_error")))
        if rows[0]["state"] == "dead":
            check(rows[0].get("last_error"), "a dead row without last_error")
            r = run_cli(["outbox", "retry", str(rows[0]["id"])], server=n.d.url)
            check_eq(r.rc, 0, "outbox retry ID (%r)" % r)
        n.slack.wait_count(1, pred=lambda r: r.answer == "ok", timeout=20)
        check(len(n.slack.snapshot()) <= 4, "Slack requests: %r" % n.slack.snapshot())


# ---- reminders, ack, silences, digest ---------------------------------------------------------

def test_reminders_and_ack_stops_them():
    # deadline D = now + 20d + 10s; reminders at D-30d (before first seen: never), D-20d (~10 s
    # from now), D-(20d - 35s) (~45 s from now)
    rem = ["30d", "20d", "19d23h59m25s"]
    with Notify(slack=False, notify={"reminders": rem}) as n:
        t0 = time.time()
        start = now_utc() + 20 * DAY + datetime.timedelta(seconds=10)
        kw = dict(end=start + DAY / 24)
        n.post_eb(samples.health_event("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2",
                                       start, ["i-0acked0000001"], **kw))
        n.post_eb(samples.health_event("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2",
                                       start, ["i-0open00000001"], **kw))
        acked = n.record_with("i-0acked0000001")
        opened = n.record_with("i-0open00000001")

        def reminders(rec):
            return [r for r in hook_for(n, rec["id"]) if r.json.get("type") == "reminder"]
        # the worker looks for reminders every 30 s: the 20d one is due at ~10 s
        wait_for(lambda: reminders(acked), timeout=50, what="the 20d reminder")
        check(time.time() - t0 >= 8, "the 20d reminder came %.1fs after creation (due ~10s)" %
              (time.time() - t0))
        r = run_cli(["maint", "ack", str(acked["id"]), "--by", "alice", "--note", "on it"],
                    server=n.d.url)
        check_eq(r.rc, 0, "maint ack (%r)" % r)
        full = n.d.record(acked["id"])
        check_eq(full.get("acked_by"), "alice", "acked_by")
        check(any(c["kind"] == "ack" for c in full["changes"]), "ack in changes: %r" %
              full["changes"])
        wait_for(lambda: len(reminders(opened)) >= 2, timeout=75 - (time.time() - t0) + 5,
                 what="the second reminder of the open record")
        time.sleep(3)
        n.wait_idle()
        ra = [(r.json.get("change") or {}).get("key") for r in reminders(acked)]
        ro = [(r.json.get("change") or {}).get("key") for r in reminders(opened)]
        note("reminders: acked %r, open %r" % (ra, ro))
        check_eq(len(ra), 1, "reminders of the acknowledged record")
        check_eq(len(ro), 2, "reminders of the open record (30d passed before first seen)")
        check(all("30d" not in (k or "") for k in ra + ro), "a 30d reminder was sent")
        acks = [r for r in hook_for(n, acked["id"]) if (r.json.get("change") or {})
                .get("kind") == "ack"]
        check_eq(len(acks), 1, "ack messages to the webhook")
        check("alice" in acks[0].body.decode(), "the ack message names who took it")
        mails = n.smtp.for_record(acked["id"])
        check_eq(len(mails), 3, "emails of the acked record: created, reminder, ack")
        r = n.d.post("/api/v1/maintenance/999999/ack", json.dumps({"by": "bob"}))
        check_eq(r.status, 404, "ack of an unknown record")


def test_silence_suppresses_slack_and_is_in_history():
    with Notify() as n:
        r = run_cli(["silence", "add", "--match", "service=rds", "--for", "7d", "--reason",
                     "db migration week", "--by", "alice"], server=n.d.url)
        check_eq(r.rc, 0, "silence add (%r)" % r)
        r = run_cli(["silence", "list", "-o", "json"], server=n.d.url)
        sil = r.json()
        check(isinstance(sil, list) and len(sil) == 1, "silence list: %r" % r)
        check("service=rds" in json.dumps(sil[0]), "silence matchers: %r" % sil[0])
        n.post_eb(rds_event("db-silent-1", arn_id="RDSSILENT1"))
        n.post_eb(important_event("i-0loud0000001"))
        rds = n.record_with("db-silent-1")
        loud = n.record_with("i-0loud0000001")
        n.smtp.wait_count(1, pred=lambda m: m.record == str(loud["id"]))
        n.wait_idle()
        posts = n.slack.webhook_posts()
        check_eq(len(posts), 1, "Slack messages while RDS is silenced")
        check(slack_mentions(posts[0], loud), "the Slack message is the EC2 record's")
        rows = [o for o in n.d.record(rds["id"])["outbox"] if o["receiver"] == "team-slack"]
        check_eq([o["state"] for o in rows], ["silenced"], "the RDS record's Slack row")
        full = n.d.record(rds["id"])
        hist = json.dumps([full.get("changes"), full.get("outbox"), full.get("history")])
        check("silenc" in hist, "the silence is not in the record's history: %s" % hist[:600])
        note("silenced RDS: emails %d, webhooks %d" % (len(n.smtp.for_record(rds["id"])),
                                                       len(hook_for(n, rds["id"]))))
        # expire: a new change of the RDS record reaches Slack again
        r = run_cli(["silence", "expire", str(sil[0]["id"])], server=n.d.url)
        check_eq(r.rc, 0, "silence expire (%r)" % r)
        active = [s for s in n.d.get_json("/api/v1/silences")
                  if not s.get("expired_at") and s.get("state", "active") == "active"]
        check_eq(active, [], "active silences after expire")
        n.post_eb(rds_event("db-silent-1", days=6, arn_id="RDSSILENT1"))
        wait_for(lambda: n.slack.webhook_posts()[1:], timeout=20,
                 what="the RDS reschedule at Slack after the silence expired")
        check(slack_mentions(n.slack.webhook_posts()[1], rds), "the second Slack message is RDS")
        r = n.d.post("/api/v1/silences", json.dumps({"match": "service=", "for": "7d"}),
                     {"Content-Type": "application/json"})
        check_eq(r.status, 400, "a silence with an empty matcher value (%r)" % r)
        r = n.d.post("/api/v1/silences", json.dumps({"match": "service=ec2", "for": "2h",
                                                     "reason": "x", "by": "bob"}),
                     {"Content-Type": "application/json"})
        check_eq(r.status, 201, "POST /api/v1/silences (%r)" % r)
        check(isinstance(r.json().get("id"), int), "silence id: %r" % r)
        n.post_eb(important_event("i-0loud0000002"))
        loud2 = n.record_with("i-0loud0000002")
        wait_for(lambda: n.d.record(loud2["id"])["outbox"], what="outbox rows of the new record")
        n.wait_idle()
        check_eq(len(n.slack.webhook_posts()), 2, "Slack messages after silencing ec2")
        check_eq(sorted((o["receiver"], o["state"]) for o in n.d.record(loud2["id"])["outbox"]),
                 [("hook", "silenced"), ("team-mail", "silenced"), ("team-slack", "silenced")],
                 "rows of a record matching the API-made silence")


def test_daily_digest_at_configured_time():
    now = datetime.datetime.now(datetime.timezone.utc)
    at = (now + datetime.timedelta(minutes=1 if now.second < 40 else 2)).replace(second=0)
    extra = {"digest": True, "digest_time": at.strftime("%H:%M"), "digest_tz": "UTC"}
    with Notify(slack=False, hook=False, mail_extra=extra) as n:
        n.post_eb(normal_event("i-0digest000001"))
        n.post_eb(rds_event("db-digest-1"))
        n.post_eb(normal_event("i-0digest000002", days=50, arn_id="DIGESTDONE"))
        n.post_eb(normal_event("i-0digest000002", days=50, arn_id="DIGESTDONE",
                               status="closed"))
        recs = [n.record_with(e) for e in ("i-0digest000001", "db-digest-1")]
        check_eq(n.record_with("i-0digest000002")["status"], "completed", "closed record")
        n.smtp.wait_count(3)

        def digests():
            return [m for m in n.smtp.snapshot() if m.record is None]
        got = wait_for(digests, timeout=95, interval=0.5, what="the digest email at %s UTC"
                       % at.strftime("%H:%M"))
        lag = got[0].at - at.timestamp()
        note("digest subject %r, %.1fs after %s" % (got[0].subject, lag, at.strftime("%H:%M")))
        check(-1 <= lag <= 40, "the digest came %.1fs after its time (checked every 30 s)" % lag)
        time.sleep(3)
        check_eq(len(digests()), 1, "digest emails")
        text = got[0].parts().get("text/plain", "")
        for rec in recs:
            check(any(x in text for x in rec["resources"]), "the digest lacks record %d" %
                  rec["id"])
        rows = [o for o in n.outbox("sent") if o["key"].startswith("digest:")]
        check_eq(len(rows), 1, "digest rows in the outbox (%r)" % rows)
        check_eq(rows[0]["key"], "digest:" + at.strftime("%Y-%m-%d"), "digest key")


# ---- TLS and AUTH on the SMTP submission ----------------------------------------------------

def test_email_over_starttls_with_auth():
    # the submission port's usual setup: STARTTLS required, AUTH only over TLS
    with Notify(slack=False, hook=False, smtp_tls="starttls",
                smtp_auth=("asakai", "s3cr3t-pw")) as n:
        n.post_eb(important_event("i-0tls000000001"))
        n.smtp.wait_count(1, timeout=30)
        sess = n.smtp.sessions[0]
        check(sess["tls"], "the message travelled over TLS: %r" % sess)
        check(sess["auth"], "the session authenticated: %r" % sess)
        check("s3cr3t-pw" not in n.d.log_text(), "the password is not in the daemon's log")


def test_email_over_implicit_tls_smtps():
    with Notify(slack=False, hook=False, smtp_tls="smtps") as n:
        n.post_eb(important_event("i-0tls000000002"))
        n.smtp.wait_count(1, timeout=30)
        check(n.smtp.sessions[0]["tls"], "smtps:// is TLS from the first byte")


def test_email_starttls_required_but_not_offered_is_refused():
    # the receiver says starttls: true but the server offers none: never send in clear text
    n = Notify(slack=False, hook=False)
    with open(n.s.d.cfg_path) as f:
        cfg = f.read()
    with open(n.s.d.cfg_path, "w") as f:
        f.write(cfg.replace('"starttls": false', '"starttls": true'))
    with n:
        n.post_eb(important_event("i-0tls000000003"))
        wait_for(lambda: [o for o in n.outbox() if o["receiver"] == "team-mail" and
                          o["state"] in ("dead", "pending") and o.get("last_error")],
                 timeout=30, what="the mail row with an error")
        row = [o for o in n.outbox() if o["receiver"] == "team-mail"][0]
        check_eq(len(n.smtp.snapshot()), 0, "nothing was sent in clear text")
        check("TLS" in (row["last_error"] or "") or "tls" in (row["last_error"] or "").lower(),
              "the error says TLS: %r" % row)
