#!/usr/bin/python3
"""EventBridge intake and the maintenance inbox end to end: dedupe, lifecycle, recurrence,
cross-channel merge, Health pages."""
import datetime
import json

import aklib
import samples
from aklib import Stack, check, check_eq, now_utc, rfc3339

DAY = datetime.timedelta(days=1)


def _ok(r, what):
    check(r.status == 200, "%s: want 200, got %r" % (what, r))
    j = r.json()
    check(j.get("result") in ("accepted", "duplicate"), "%s: %r" % (what, j))
    return j["raw_id"]


def _normalised(d, raw_id, want_state="parsed"):
    row = d.wait_normalised(raw_id)
    check(row["state"] == want_state, "raw %d: state %r (note %r), want %r" %
          (raw_id, row["state"], row.get("note"), want_state))
    return row


# ---- EventBridge ------------------------------------------------------------------------------

def test_eventbridge_api_key():
    with Stack() as s:
        ev = samples.ec2_retirement()
        for key, what in ((None, "missing key"), ("wrong-key", "wrong key"),
                          (aklib.EB_KEY + "x", "key with a suffix"),
                          (aklib.EB_KEY[:-1], "key prefix"), ("", "empty key")):
            r = s.d.post_eb(ev, key=key)
            check(r.status == 401, "%s: want 401, got %r" % (what, r))
        check_eq(s.d.raws(), [], "archive after refused EventBridge posts")
        check_eq(s.d.metric("asakai_intake_messages_total", source="eventbridge",
                            result="rejected"), 5.0, "eventbridge rejected counter")
        r = s.d.post_eb(ev)
        check(r.status == 200 and r.json().get("result") == "accepted", "right key: %r" % r)
        r2 = s.d.post_eb(ev)
        check_eq(r2.json(), {"result": "duplicate", "raw_id": r.json()["raw_id"]},
                 "same event id again")
        check_eq(len(s.d.raws()), 1, "archive rows")


def test_eventbridge_event_without_id_deduped_by_content():
    with Stack() as s:
        ev = samples.ec2_retirement()
        del ev["id"]
        body = json.dumps(ev)
        r1 = s.d.post_eb(body)
        check(r1.status == 200 and r1.json()["result"] == "accepted", "first: %r" % r1)
        r2 = s.d.post_eb(body)
        check_eq(r2.json(), {"result": "duplicate", "raw_id": r1.json()["raw_id"]},
                 "same bytes again")
        ev["detail"]["affectedEntities"].append({"entityValue": "i-0other"})
        r3 = s.d.post_eb(ev)
        check(r3.status == 200 and r3.json()["result"] == "accepted", "changed event: %r" % r3)
        check_eq(len(s.d.raws()), 2, "archive rows")


def test_eventbridge_disabled_without_key():
    with Stack(eb_key=None) as s:
        r = s.d.post_eb(samples.ec2_retirement(), key="")
        check_eq(r.status, 401, "EventBridge endpoint without intake.eventbridge.api_key")
        r = s.d.post_eb(samples.ec2_retirement(), key="anything")
        check_eq(r.status, 401, "EventBridge endpoint without intake.eventbridge.api_key")


def test_eventbridge_bad_body():
    with Stack() as s:
        check_eq(s.d.post_eb("{not json").status, 400, "invalid JSON")
        check_eq(s.d.post_eb("[1,2]").status, 400, "JSON array")
        check_eq(s.d.raws(), [], "archive")


def test_eventbridge_ec2_retirement_record():
    with Stack() as s:
        ev = samples.ec2_retirement()
        body = json.dumps(ev)
        raw_id = _ok(s.d.post_eb(body), "EC2 retirement event")
        row = _normalised(s.d, raw_id)
        check_eq(row["body"], body, "archived body")
        check_eq(row["dedupe_id"], "eb:" + ev["id"], "dedupe id")
        recs = s.d.records()
        check_eq(len(recs), 1, "records")
        r = recs[0]
        check_eq(r["service"], "ec2", "service")
        check_eq(r["kind"], "instance-retirement", "kind")
        check("i-0a1b2c3d4e5f60718" in r["resources"], "instance not in resources %r"
              % r["resources"])
        check_eq(r["deadline"], "2019-06-26T15:00:00Z", "deadline (= startTime)")
        check_eq(r["event_code"], "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED", "event_code")
        check_eq(r["account"], aklib.ACCOUNT, "account")
        check_eq(r["source"], "aws.health", "source")
        check_eq(r["required"], True, "a retirement is required")
        check_eq(r["important"], True, "a retirement is important")
        full = s.d.record(r["id"])
        check_eq(len(full["history"]), 1, "history length")
        check_eq(full["history"][0]["raw_id"], raw_id, "history raw_id")
        check_eq(full["history"][0]["channel"], "eventbridge", "history channel")


# ---- ElastiCache node replacement via signed SNS ----------------------------------------------

def test_elasticache_lifecycle_and_recurrence():
    with Stack() as s:
        w1 = (now_utc().replace(minute=0, second=0) + 3 * DAY,)
        w1 = (w1[0], w1[0] + datetime.timedelta(hours=1))
        msg1 = samples.elasticache_message("NodeReplacementScheduled", window=w1)

        raw1 = _ok(s.d.post_sns(s.signer.notification(msg1, subject="ElastiCache")), "scheduled")
        _normalised(s.d, raw1)
        recs = s.d.records("")
        check_eq(len(recs), 1, "open records after the first notice")
        first = recs[0]
        check_eq(first["service"], "elasticache", "service")
        check_eq(first["kind"], "node-replacement", "kind")
        check_eq(first["status"], "scheduled", "status")
        check_eq(first["window_start"], rfc3339(w1[0]), "window_start from the notice text")
        check_eq(first["window_end"], rfc3339(w1[1]), "window_end from the notice text")
        for res in ("prod-redis", "prod-redis-001"):
            check(res in first["resources"], "%s not in resources %r" % (res, first["resources"]))
        check_eq(first["recurrence_of"], None, "recurrence_of of the first record")

        # the same notice again, new MessageId (SNS publishes it again): one record, 2 deliveries
        raw2 = _ok(s.d.post_sns(s.signer.notification(msg1, subject="ElastiCache")), "again")
        check(raw2 != raw1, "a new MessageId must be a new archive row")
        _normalised(s.d, raw2)
        recs = s.d.records()
        check_eq(len(recs), 1, "records after the repeated notice")
        hist = s.d.record(first["id"])["history"]
        check_eq([h["raw_id"] for h in hist], [raw1, raw2], "history raw ids")

        # completion
        done = samples.elasticache_message("CacheNodeReplaceComplete")
        raw3 = _ok(s.d.post_sns(s.signer.notification(done)), "complete")
        _normalised(s.d, raw3)
        recs = s.d.records()
        check_eq(len(recs), 1, "records after completion")
        check_eq(recs[0]["status"], "completed", "status after CacheNodeReplaceComplete")
        check(recs[0]["closed_at"] is not None, "closed_at after completion")
        check_eq(s.d.records(""), [], "open records after completion")

        # a new replacement a week later: a new record, a recurrence of the first
        w2 = (w1[0] + 7 * DAY, w1[1] + 7 * DAY)
        msg2 = samples.elasticache_message("NodeReplacementScheduled", window=w2)
        raw4 = _ok(s.d.post_sns(s.signer.notification(msg2, sv="2")), "new schedule")
        _normalised(s.d, raw4)
        recs = s.d.records()
        check_eq(len(recs), 2, "records after the recurrence")
        new = [r for r in recs if r["id"] != first["id"]][0]
        check_eq(new["recurrence_of"], first["id"], "recurrence_of")
        check_eq(new["important"], True, "important (recurrence)")
        check_eq(new["status"], "scheduled", "status of the recurrence")
        check_eq(new["window_start"], rfc3339(w2[0]), "window_start of the recurrence")
        still = s.d.record(first["id"])
        check_eq(still["status"], "completed", "first record stays completed")
        check_eq(len(still["history"]), 3, "first record's deliveries")
        opened = s.d.records("")
        check_eq([r["id"] for r in opened], [new["id"]], "open records")


def test_elasticache_stale_notice_after_completion_is_not_recurrence():
    """§4.4: a stale copy of the scheduled notice after completion is not a new maintenance."""
    with Stack() as s:
        w = now_utc().replace(minute=0, second=0) + 2 * DAY
        msg = samples.elasticache_message("NodeReplacementScheduled", window=(w, w + DAY / 24))
        _normalised(s.d, _ok(s.d.post_sns(s.signer.notification(msg)), "scheduled"))
        done = samples.elasticache_message("CacheNodeReplaceComplete")
        _normalised(s.d, _ok(s.d.post_sns(s.signer.notification(done)), "complete"))
        raw = _ok(s.d.post_sns(s.signer.notification(msg)), "stale copy")
        s.d.wait_normalised(raw)
        recs = s.d.records()
        check_eq(len(recs), 1, "records after a stale copy of the completed notice (%r)" % recs)
        check_eq(recs[0]["status"], "completed", "status")


# ---- the same Health event through two channels -----------------------------------------------

def test_health_event_eventbridge_and_sns_one_record():
    with Stack() as s:
        start = now_utc().replace(minute=0, second=0) + 20 * DAY
        ev = samples.health_event("AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED", "EC2", start,
                                  ["i-0feedface0000001"], end=start + DAY / 12)
        raw_eb = _ok(s.d.post_eb(ev), "via EventBridge")
        _normalised(s.d, raw_eb)
        env = s.signer.notification(json.dumps(ev))
        raw_sns = _ok(s.d.post_sns(env), "via SNS")
        _normalised(s.d, raw_sns)
        recs = s.d.records()
        check_eq(len(recs), 1, "records for one Health event delivered twice")
        r = recs[0]
        check_eq(r["kind"], "instance-reboot", "kind")
        check_eq(r["deadline"], rfc3339(start), "deadline")
        hist = s.d.record(r["id"], raw=True)["history"]
        check_eq(sorted((h["raw_id"], h["channel"]) for h in hist),
                 sorted([(raw_eb, "eventbridge"), (raw_sns, "sns")]), "history deliveries")
        sns_h = [h for h in hist if h["channel"] == "sns"][0]
        check_eq(sns_h.get("message_id"), env["MessageId"], "SNS delivery message_id")
        check_eq(sns_h.get("raw", {}).get("body"), json.dumps(env, indent=2),
                 "?raw=1 history body")


def test_health_two_pages_one_record_union_of_resources():
    with Stack() as s:
        start = now_utc().replace(minute=0, second=0) + 10 * DAY
        common = dict(code="AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED", service="RDS", start=start,
                      end=start + DAY / 6, arn_id="USW2_PAGED_1", comm_id="c0ffee" * 8,
                      total_pages=2)
        p1 = samples.health_event(entities=["db-alpha", "db-beta"], page=1, **common)
        p2 = samples.health_event(entities=["db-gamma"], page=2, **common)
        check(p1["detail"]["eventArn"] == p2["detail"]["eventArn"], "pages share the eventArn")
        _normalised(s.d, _ok(s.d.post_eb(p1), "page 1"))
        _normalised(s.d, _ok(s.d.post_eb(p2), "page 2"))
        recs = s.d.records()
        check_eq(len(recs), 1, "records for a 2-page Health event")
        check_eq(sorted(recs[0]["resources"]), ["db-alpha", "db-beta", "db-gamma"],
                 "resources (union of the pages)")
        check_eq(recs[0]["kind"], "hardware-maintenance", "kind")
        check_eq(len(s.d.record(recs[0]["id"])["history"]), 2, "history (two pages)")


def test_elasticache_reschedule_then_cancel():
    with Stack() as s:
        w = now_utc().replace(minute=0, second=0) + 20 * DAY
        msg = samples.elasticache_message("NodeReplacementScheduled", window=(w, w + DAY / 24))
        _normalised(s.d, _ok(s.d.post_sns(s.signer.notification(msg)), "scheduled"))
        w2 = w + 2 * DAY
        resched = json.dumps({
            "ElastiCache:NodeReplacementRescheduled": "prod-redis",
            "Cache Cluster ID": "prod-redis-001", "Cache Node ID": "0001",
            "Message": "The replacement in maintenance window for node with Cache Cluster ID: "
                       "prod-redis-001, Node ID: 0001 has re-scheduled from Previous Start Time: "
                       "%s, Previous End Time: %s to New Start Time: %s, New End Time: %s" %
                       (rfc3339(w), rfc3339(w + DAY / 24), rfc3339(w2), rfc3339(w2 + DAY / 24))})
        _normalised(s.d, _ok(s.d.post_sns(s.signer.notification(resched)), "rescheduled"))
        recs = s.d.records()
        check_eq(len(recs), 1, "records after a reschedule")
        check_eq(recs[0]["status"], "rescheduled", "status")
        check_eq(recs[0]["window_start"], rfc3339(w2), "window_start = the new start")
        check_eq(recs[0]["important"], True, "a rescheduled maintenance is important")
        cancel = samples.elasticache_message("NodeReplacementCanceled")
        _normalised(s.d, _ok(s.d.post_sns(s.signer.notification(cancel)), "canceled"))
        recs = s.d.records()
        check_eq(len(recs), 1, "records after a cancel")
        check_eq(recs[0]["status"], "canceled", "status after NodeReplacementCanceled")
        check_eq(s.d.records(""), [], "open records after the cancel")
        check_eq(len(s.d.record(recs[0]["id"])["history"]), 3, "deliveries")


def test_health_closed_completes_record():
    with Stack() as s:
        start = now_utc().replace(minute=0, second=0) + 5 * DAY
        kw = dict(code="AWS_EC2_INSTANCE_NETWORK_MAINTENANCE_SCHEDULED", service="EC2",
                  start=start, entities=["i-0net0000000001"], arn_id="NETMAINT1")
        _normalised(s.d, _ok(s.d.post_eb(samples.health_event(status="upcoming", **kw)), "open"))
        _normalised(s.d, _ok(s.d.post_eb(samples.health_event(status="closed", **kw)), "closed"))
        recs = s.d.records()
        check_eq(len(recs), 1, "records")
        check_eq(recs[0]["kind"], "network-maintenance", "kind")
        check_eq(recs[0]["status"], "completed", "status after statusCode closed")
        check(recs[0]["closed_at"] is not None, "closed_at")
