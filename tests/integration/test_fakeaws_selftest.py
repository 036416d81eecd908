#!/usr/bin/python3
"""Self-test of fakeaws.py: real boto3 clients must parse every answer into the expected fields,
paginators must walk every page, and the SigV4 checks must reject what AWS rejects."""
import datetime
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from aklib import ROOT, check, check_eq
from fakeaws import FakeAws

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
NO_RETRY = Config(retries={"total_max_attempts": 1})
OTHER = "210987654321"


def _client(fake, service, region="eu-west-1", key=None, secret=None, token=None, config=None):
    return boto3.session.Session().client(
        service, region_name=region, endpoint_url=fake.url,
        aws_access_key_id=key or fake.access_key, aws_secret_access_key=secret or fake.secret_key,
        aws_session_token=token, config=config or NO_RETRY)


def _raw_capture(client):
    """Records the raw body of every response the client receives."""
    bodies = []

    def grab(http_response=None, **kw):
        bodies.append(http_response.content.decode("utf-8"))
    client.meta.events.register("after-call", grab)
    return bodies


def _error(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], \
            e.response["Error"].get("Message", "")
    raise AssertionError("expected a ClientError from %s" % getattr(fn, "__name__", fn))


def _signed(fake, service, region, method, params, body=b"", headers=None, secret=None,
            amz_date=None):
    """A request signed by botocore's SigV4Auth, sent with http.client (so tests can tamper)."""
    url = fake.url + "/"
    if method == "GET":
        url += "?" + urllib.parse.urlencode(params)
    elif params is not None:
        body = urllib.parse.urlencode(params).encode()
        headers = dict(headers or {}, **{"Content-Type": "application/x-www-form-urlencoded"})
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(fake.access_key, secret or fake.secret_key), service,
              region).add_auth(req)
    p = req.prepare()
    return p.url, dict(p.headers.items()), p.body or b""


def _send(fake, method, url, headers, body):
    c = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        path = url[len(fake.url):]
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8")
    finally:
        c.close()


def _instances():
    ev = {"InstanceEventId": "instance-event-0d59937288b749b32", "Code": "system-reboot",
          "Description": "The instance is scheduled for a reboot",
          "NotBefore": "2019-03-14T20:00:00.000Z", "NotAfter": "2019-03-15T22:00:00.000Z",
          "NotBeforeDeadline": "2019-04-05T11:00:00.000Z"}
    out = [{"InstanceId": "i-%017d" % k, "Events": [ev] if k == 0 else []} for k in range(4)]
    out.append({"InstanceId": "i-stopped000000000",
                "InstanceState": {"Code": 80, "Name": "stopped"},
                "Events": [{"InstanceEventId": "instance-event-0e439355b779n26",
                            "Code": "instance-stop",
                            "Description": "The instance is running on degraded hardware",
                            "NotBefore": datetime.datetime(2015, 5, 23, tzinfo=UTC)}]})
    return out


def test_ec2_describe_instance_status():
    with FakeAws() as fake:
        fake.set_ec2(fake.account, "eu-west-1", _instances())
        ec2 = _client(fake, "ec2")
        raw = _raw_capture(ec2)
        r = ec2.describe_instance_status()
        check_eq(len(r["InstanceStatuses"]), 2, "first page (page_size 2)")
        check("NextToken" in r, "a first page of 4 running instances must carry NextToken")
        check('xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"' in raw[0] and
              "<instanceStatusSet><item>" in raw[0] and "<nextToken>" in raw[0] and
              "<requestId>" in raw[0], "EC2 wire shape: %s" % raw[0][:400])
        first = r["InstanceStatuses"][0]
        ev = first["Events"][0]
        check_eq(ev["InstanceEventId"], "instance-event-0d59937288b749b32", "InstanceEventId")
        check_eq(ev["Code"], "system-reboot", "Code")
        check_eq(ev["NotBeforeDeadline"], datetime.datetime(2019, 4, 5, 11, tzinfo=UTC),
                 "NotBeforeDeadline")
        check_eq(ev["NotAfter"], datetime.datetime(2019, 3, 15, 22, tzinfo=UTC), "NotAfter")
        check_eq(first["InstanceState"], {"Code": 16, "Name": "running"}, "default state")
        check_eq(first["AvailabilityZone"], "eu-west-1a", "default AZ")
        check_eq(r["InstanceStatuses"][1]["Events"], [], "empty eventsSet parses as []")
        pag = ec2.get_paginator("describe_instance_status")
        running = [i["InstanceId"] for p in pag.paginate() for i in p["InstanceStatuses"]]
        check_eq(running, ["i-%017d" % k for k in range(4)], "running instances, all pages")
        pages = list(pag.paginate(IncludeAllInstances=True))
        check_eq([len(p["InstanceStatuses"]) for p in pages], [2, 2, 1], "page sizes")
        last = pages[-1]["InstanceStatuses"][0]
        check_eq(last["InstanceState"]["Name"], "stopped", "IncludeAllInstances adds stopped")
        check("NotAfter" not in last["Events"][0], "absent NotAfter stays absent")
        f = ec2.describe_instance_status(IncludeAllInstances=True, Filters=[
            {"Name": "event.code", "Values": ["instance-stop", "system-reboot"]}])
        check_eq(len(f["InstanceStatuses"]), 2, "event.code filter (page)")
        check_eq(_error(ec2.describe_instance_status, MaxResults=4)[:2],
                 ("InvalidParameterValue", 400), "MaxResults below 5")
        check_eq(_error(ec2.describe_instance_status, NextToken="garbage")[:2],
                 ("InvalidPaginationToken", 400), "corrupt NextToken")
        check_eq(_error(ec2.describe_instance_status, Filters=[{"Name": "nope", "Values": ["x"]}]
                        )[:2], ("InvalidParameterValue", 400), "unknown filter")
        other = _client(fake, "ec2", region="us-west-2")
        check_eq(other.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"], [],
                 "another region has no instances")
        log = [e for e in fake.log() if e["service"] == "ec2" and e["status"] == 200]
        check(all(e["account"] == fake.account and e["action"] == "DescribeInstanceStatus"
                  for e in log), "request log: %r" % log[:2])


def test_rds_pending_maintenance_actions():
    with FakeAws() as fake:
        acts = [{"ResourceIdentifier": "arn:aws:rds:eu-west-1:%s:db:db-%d" % (fake.account, k),
                 "PendingMaintenanceActionDetails": [{
                     "Action": "system-update", "Description": "New Operating System update",
                     "AutoAppliedAfterDate": NOW + datetime.timedelta(days=3),
                     "ForcedApplyDate": NOW + datetime.timedelta(days=30),
                     "OptInStatus": "next-maintenance"}]} for k in range(5)]
        acts.append({"ResourceIdentifier": "arn:aws:rds:eu-west-1:%s:cluster:global-db1-cl1"
                     % fake.account, "PendingMaintenanceActionDetails": [
                         {"Action": "system-update",
                          "Description": "Upgrade to Aurora PostgreSQL 2.4.2"}]})
        fake.set_rds(fake.account, "eu-west-1", acts)
        rds = _client(fake, "rds")
        raw = _raw_capture(rds)
        pages = list(rds.get_paginator("describe_pending_maintenance_actions").paginate())
        check_eq(len(pages), 3, "pages")
        check("<DescribePendingMaintenanceActionsResult><PendingMaintenanceActions>"
              "<ResourcePendingMaintenanceActions>" in raw[0] and "<Marker>" in raw[0] and
              "<PendingMaintenanceAction><Action>" in raw[0], "RDS wire shape: %s" % raw[0][:400])
        got = [a for p in pages for a in p["PendingMaintenanceActions"]]
        check_eq([a["ResourceIdentifier"] for a in got], [a["ResourceIdentifier"] for a in acts],
                 "all resources")
        d = got[0]["PendingMaintenanceActionDetails"][0]
        check_eq(d["ForcedApplyDate"], NOW + datetime.timedelta(days=30), "ForcedApplyDate")
        check_eq(d["OptInStatus"], "next-maintenance", "OptInStatus")
        check("ForcedApplyDate" not in got[-1]["PendingMaintenanceActionDetails"][0],
              "no deadline announced stays absent")
        f = rds.describe_pending_maintenance_actions(
            Filters=[{"Name": "db-cluster-id", "Values": ["global-db1-cl1"]}])
        check_eq(len(f["PendingMaintenanceActions"]), 1, "db-cluster-id filter")
        check_eq(_error(rds.describe_pending_maintenance_actions, MaxRecords=10)[:2],
                 ("InvalidParameterValue", 400), "MaxRecords below 20")
        check_eq(_error(rds.describe_pending_maintenance_actions,
                        Marker=pages[0]["Marker"], ResourceIdentifier="x")[:2],
                 ("InvalidParameterValue", 400), "Marker from another query")


def test_elasticache_apis():
    with FakeAws() as fake:
        su = [{"ServiceUpdateName": "elc-2019100%d-001" % k,
               "ServiceUpdateReleaseDate": "2019-10-09T16:00:00Z",
               "ServiceUpdateEndDate": "2020-02-09T15:59:59Z", "ServiceUpdateSeverity": "important",
               "ServiceUpdateRecommendedApplyByDate": "2019-11-08T15:59:59Z",
               "ServiceUpdateStatus": "available" if k else "expired",
               "ServiceUpdateType": "security-update", "Engine": "redis, memcached",
               "AutoUpdateAfterRecommendedApplyByDate": False,
               "EstimatedUpdateTime": "30 minutes per node"} for k in range(3)]
        ua = [{"ReplicationGroupId": "mycluster%d" % k, "ServiceUpdateName": "elc-20191007-001",
               "ServiceUpdateReleaseDate": "2019-10-09T16:00:00Z",
               "ServiceUpdateSeverity": "important", "ServiceUpdateStatus": "available",
               "ServiceUpdateRecommendedApplyByDate": "2019-11-08T15:59:59Z",
               "ServiceUpdateType": "security-update",
               "UpdateActionAvailableDate": "2019-12-05T19:15:19.995Z",
               "UpdateActionStatus": "complete" if k else "not-applied", "NodesUpdated": "9/9",
               "SlaMet": "n/a", "Engine": "redis",
               "NodeGroupUpdateStatus": [{"NodeGroupId": "0001", "NodeGroupMemberUpdateStatus": [
                   {"CacheClusterId": "mycluster-0001-001", "CacheNodeId": "0001",
                    "NodeUpdateStatus": "complete", "NodeUpdateInitiatedBy": "system"}]}]}
              for k in range(3)]
        ev = [{"SourceIdentifier": "my-redis-%d" % k, "SourceType": "cache-cluster",
               "Message": "Cache node 0001 replaced", "Date": NOW - datetime.timedelta(minutes=m)}
              for k, m in enumerate((5, 20, 50, 120, 60 * 24 * 3))]
        fake.set_elasticache(fake.account, "eu-west-1", su, ua, ev)
        ec = _client(fake, "elasticache")
        raw = _raw_capture(ec)
        got = [u for p in ec.get_paginator("describe_service_updates").paginate()
               for u in p["ServiceUpdates"]]
        check_eq(len(got), 3, "service updates")
        check("<DescribeServiceUpdatesResult><Marker>" in raw[0] and "<ServiceUpdate>" in raw[0],
              "ServiceUpdates wire shape: %s" % raw[0][:300])
        check_eq(got[0]["AutoUpdateAfterRecommendedApplyByDate"], False, "bool")
        check_eq(got[0]["ServiceUpdateRecommendedApplyByDate"],
                 datetime.datetime(2019, 11, 8, 15, 59, 59, tzinfo=UTC), "apply-by date")
        avail = ec.describe_service_updates(ServiceUpdateStatus=["available"])["ServiceUpdates"]
        check_eq([u["ServiceUpdateStatus"] for u in avail], ["available", "available"],
                 "status filter")
        acts = [a for p in ec.get_paginator("describe_update_actions").paginate()
                for a in p["UpdateActions"]]
        check_eq(len(acts), 3, "update actions")
        check("NodeGroupUpdateStatus" not in acts[0], "node level hidden by default")
        check_eq(acts[0]["UpdateActionAvailableDate"],
                 datetime.datetime(2019, 12, 5, 19, 15, 19, 995000, tzinfo=UTC), "ms timestamp")
        nl = ec.describe_update_actions(ShowNodeLevelUpdateStatus=True,
                                        UpdateActionStatus=["not-applied"])["UpdateActions"]
        check_eq(len(nl), 1, "UpdateActionStatus filter")
        check_eq(nl[0]["NodeGroupUpdateStatus"][0]["NodeGroupMemberUpdateStatus"][0]
                 ["NodeUpdateStatus"], "complete", "node-level status")
        recent = [e for p in ec.get_paginator("describe_events").paginate()
                  for e in p["Events"]]
        check_eq([e["SourceIdentifier"] for e in recent], ["my-redis-0", "my-redis-1",
                                                           "my-redis-2"], "default: last hour")
        check_eq(recent[0]["Date"], NOW - datetime.timedelta(minutes=5), "event Date")
        week = [e for p in ec.get_paginator("describe_events").paginate(
            StartTime=NOW - datetime.timedelta(days=7)) for e in p["Events"]]
        check_eq(len(week), 5, "StartTime a week back")
        check_eq(len(ec.describe_events(Duration=180, MaxRecords=20)["Events"]), 2,
                 "Duration 180 min, first page")


def test_health_api():
    with FakeAws() as fake:
        arn = "arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/E%d"
        events = [{"arn": arn % k, "service": "EC2",
                   "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
                   "eventTypeCategory": "scheduledChange", "region": "eu-west-1",
                   "startTime": 1587462325.096 + k, "lastUpdatedTime": 1587464204.865 + 100 * k,
                   "statusCode": "upcoming", "eventScopeCode": "ACCOUNT_SPECIFIC"}
                  for k in range(3)]
        ents = [{"entityArn": "arn:aws:health:us-east-1:%s:entity/x%d" % (fake.account, k),
                 "eventArn": arn % 0, "entityValue": "i-%017d" % k, "statusCode": "IMPAIRED",
                 "lastUpdatedTime": 1587464204.865} for k in range(3)]
        fake.set_health(fake.account, events=events, entities=ents)
        h = _client(fake, "health", region="us-east-1")
        raw = _raw_capture(h)
        pages = list(h.get_paginator("describe_events").paginate())
        check_eq([len(p["events"]) for p in pages], [2, 1], "pages")
        wire = json.loads(raw[0])
        check_eq(wire["events"][0]["lastUpdatedTime"], 1587464404.865, "epoch seconds on the wire")
        check("nextToken" in wire, "nextToken on the wire")
        got = [e for p in pages for e in p["events"]]
        check_eq([e["arn"] for e in got], [arn % 2, arn % 1, arn % 0], "newest first")
        check_eq(got[2]["startTime"], datetime.datetime.fromtimestamp(1587462325.096, UTC),
                 "startTime")
        f = h.describe_events(filter={"eventStatusCodes": ["closed"]})
        check_eq(f["events"], [], "status filter")
        ent = [e for p in h.get_paginator("describe_affected_entities").paginate(
            filter={"eventArns": [arn % 0]}) for e in p["entities"]]
        check_eq([e["entityValue"] for e in ent], ["i-%017d" % k for k in range(3)], "entities")
        check_eq(ent[0]["awsAccountId"], fake.account, "awsAccountId filled in")
        check_eq(_error(h.describe_events, maxResults=10, nextToken="bogus")[:2],
                 ("InvalidPaginationToken", 400), "bad nextToken")
        west = _client(fake, "health", region="us-west-2")
        check_eq(_error(west.describe_events)[:2], ("InvalidSignatureException", 400),
                 "Health is only served from us-east-1")
        fake.set_health(fake.account, subscription=False)
        check_eq(_error(h.describe_events)[:2], ("SubscriptionRequiredException", 400),
                 "no Business support")


def test_assume_role_sessions():
    with FakeAws() as fake:
        fake.set_ec2(OTHER, "eu-west-1", _instances())
        fake.set_ec2(fake.account, "eu-west-1", [])
        sts = _client(fake, "sts")
        raw = _raw_capture(sts)
        r = sts.assume_role(RoleArn="arn:aws:iam::%s:role/poller" % OTHER, RoleSessionName="s1",
                            DurationSeconds=900)
        check("<AssumeRoleResult><Credentials><AccessKeyId>" in raw[0],
              "STS wire shape: %s" % raw[0][:300])
        c = r["Credentials"]
        left = (c["Expiration"] - datetime.datetime.now(UTC)).total_seconds()
        check(880 < left <= 901, "DurationSeconds=900 honoured (%.0fs left)" % left)
        check(c["AccessKeyId"].startswith("ASIA"), "session key id %r" % c["AccessKeyId"])
        check_eq(r["AssumedRoleUser"]["Arn"], "arn:aws:sts::%s:assumed-role/poller/s1" % OTHER,
                 "AssumedRoleUser.Arn")
        ec2 = _client(fake, "ec2", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                      token=c["SessionToken"])
        got = ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"]
        check_eq(len(got), 2, "the assumed account's instances (first page)")
        check_eq(fake.log()[-1]["account"], OTHER, "request account = credentials' account")
        base = _client(fake, "ec2")
        check_eq(base.describe_instance_status()["InstanceStatuses"], [], "base account's")
        notoken = _client(fake, "rds", key=c["AccessKeyId"], secret=c["SecretAccessKey"])
        check_eq(_error(notoken.describe_pending_maintenance_actions)[:2],
                 ("InvalidClientTokenId", 403), "session key without its token")
        check_eq(_error(sts.assume_role, RoleArn="arn:aws:iam::%s:role/p" % OTHER,
                        RoleSessionName="s2", DurationSeconds=7200)[:2],
                 ("ValidationError", 400), "beyond MaxSessionDuration")
        fake.roles = {"arn:aws:iam::%s:role/poller" % OTHER}
        check_eq(_error(sts.assume_role, RoleArn="arn:aws:iam::%s:role/other" % OTHER,
                        RoleSessionName="s3")[:2], ("AccessDenied", 403), "role not allowed")
        fake.expire_sessions()
        check_eq(_error(ec2.describe_instance_status)[:2], ("RequestExpired", 400),
                 "EC2, expired session")
        rds = _client(fake, "rds", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                      token=c["SessionToken"])
        code, status, msg = _error(rds.describe_pending_maintenance_actions)
        check_eq((code, status), ("ExpiredToken", 403), "RDS, expired session")
        h = _client(fake, "health", region="us-east-1", key=c["AccessKeyId"],
                    secret=c["SecretAccessKey"], token=c["SessionToken"])
        check_eq(_error(h.describe_events)[:2], ("ExpiredTokenException", 400),
                 "Health, expired session")
        r2 = sts.assume_role(RoleArn="arn:aws:iam::%s:role/poller" % OTHER, RoleSessionName="s4")
        c2 = r2["Credentials"]
        left = (c2["Expiration"] - datetime.datetime.now(UTC)).total_seconds()
        check(3580 < left <= 3601, "default duration 3600 (%.0fs left)" % left)
        ec2b = _client(fake, "ec2", key=c2["AccessKeyId"], secret=c2["SecretAccessKey"],
                       token=c2["SessionToken"])
        check_eq(len(ec2b.describe_instance_status()["InstanceStatuses"]), 2, "fresh session")


def test_signature_failures():
    with FakeAws() as fake:
        bad = dict(secret="wrong" + fake.secret_key[5:])
        code, status, msg = _error(_client(fake, "rds", **bad).describe_pending_maintenance_actions)
        check_eq((code, status), ("SignatureDoesNotMatch", 403), "RDS, wrong secret")
        check("Canonical String" in msg, "the message shows the expected canonical request")
        check_eq(_error(_client(fake, "sts", **bad).assume_role,
                        RoleArn="arn:aws:iam::%s:role/r" % OTHER, RoleSessionName="ss")[:2],
                 ("SignatureDoesNotMatch", 403), "STS, wrong secret")
        check_eq(_error(_client(fake, "ec2", **bad).describe_instance_status)[:2],
                 ("AuthFailure", 401), "EC2, wrong secret")
        check_eq(_error(_client(fake, "health", region="us-east-1", **bad).describe_events)[:2],
                 ("InvalidSignatureException", 400), "Health, wrong secret")
        check_eq(_error(_client(fake, "elasticache", key="AKIAUNKNOWN000000000"
                                ).describe_events)[:2],
                 ("InvalidClientTokenId", 403), "unknown key")
        check_eq(_error(_client(fake, "ec2", key="AKIAUNKNOWN000000000"
                                ).describe_instance_status)[:2],
                 ("AuthFailure", 401), "EC2, unknown key")
        # the server's clock 10 minutes ahead = the request is 10 minutes old
        fake.clock = lambda: time.time() + 600
        code, status, msg = _error(_client(fake, "rds").describe_pending_maintenance_actions)
        check_eq((code, status), ("SignatureDoesNotMatch", 403), "RDS, clock skew")
        check(msg.startswith("Signature expired"), "skew message: %r" % msg)
        check_eq(_error(_client(fake, "ec2").describe_instance_status)[:2],
                 ("RequestExpired", 400), "EC2, clock skew")
        fake.clock = lambda: time.time() + 240
        _client(fake, "rds").describe_pending_maintenance_actions()  # within 5 minutes
        fake.clock = time.time

        q = {"Action": "DescribePendingMaintenanceActions", "Version": "2014-10-31"}
        url, hdr, body = _signed(fake, "rds", "eu-west-1", "POST", q)
        check_eq(_send(fake, "POST", url, hdr, body)[0], 200, "hand-signed POST")
        tampered = body.replace(b"2014-10-31", b"2014-10-30")
        st, text = _send(fake, "POST", url, hdr, tampered)
        check_eq(st, 403, "tampered body: %s" % text[:200])
        check("<ErrorResponse" in text and "<Code>SignatureDoesNotMatch</Code>" in text and
              "<Type>Sender</Type>" in text, "query error shape: %s" % text[:300])
        url, hdr, body = _signed(fake, "rds", "eu-west-1", "GET", q)
        check_eq(_send(fake, "GET", url, hdr, b"")[0], 200, "hand-signed GET with query string")
        st, text = _send(fake, "GET", url.replace("2014-10-31", "2014-10-31&MaxRecords=20"), hdr,
                         b"")
        check_eq(st, 403, "GET with an unsigned extra parameter")
        url, hdr, body = _signed(fake, "rds", "eu-west-1", "POST", q, headers={"X-Extra": "a"})
        hdr["X-Extra"] = "b"
        check_eq(_send(fake, "POST", url, hdr, body)[0], 403, "changed signed header")
        url, hdr, body = _signed(fake, "ec2", "eu-west-1", "POST", q)
        st, text = _send(fake, "POST", url, hdr, body)
        check_eq(st, 400, "RDS action in the EC2 credential scope: %s" % text[:200])
        check("<Response><Errors><Error><Code>InvalidAction</Code>" in text and
              "<RequestID>" in text, "EC2 error shape: %s" % text[:300])
        st, text = _send(fake, "POST", url, {"Content-Type": hdr["Content-Type"]}, body)
        check_eq(st, 403, "no Authorization")
        check("MissingAuthenticationToken" in text, text[:200])
        url, hdr, body = _signed(fake, "health", "us-east-1", "POST", None, body=b"{}",
                                 headers={"X-Amz-Target": "AWSHealth_20160804.DescribeEvents",
                                          "Content-Type": "application/x-amz-json-1.1"})
        st, text = _send(fake, "POST", url, hdr, b'{"maxResults": 10}')
        check_eq(st, 400, "Health tampered body")
        check_eq(json.loads(text)["__type"], "InvalidSignatureException", "JSON error shape")
        log = fake.log()
        check(any(e["code"] == "SignatureDoesNotMatch" and e["service"] == "rds" for e in log),
              "failures are logged")


def test_throttle_and_region_failure():
    with FakeAws() as fake:
        ec2, rds = _client(fake, "ec2"), _client(fake, "rds")
        ec = _client(fake, "elasticache")
        h = _client(fake, "health", region="us-east-1")
        fake.throttle("ec2", 1)
        check_eq(_error(ec2.describe_instance_status)[:2], ("RequestLimitExceeded", 503), "EC2")
        ec2.describe_instance_status()
        fake.throttle("rds", 1)
        check_eq(_error(rds.describe_pending_maintenance_actions)[:2], ("Throttling", 400), "RDS")
        fake.throttle("elasticache", 1)
        check_eq(_error(ec.describe_update_actions)[:2], ("Throttling", 400), "ElastiCache")
        fake.throttle("health", 1)
        check_eq(_error(h.describe_events)[:2], ("ThrottlingException", 400), "Health")
        # botocore's default retry must recognise every code as throttling and try again
        for svc, call in (("ec2", "describe_instance_status"),
                          ("rds", "describe_pending_maintenance_actions"),
                          ("health", "describe_events")):
            fake.throttle(svc, 2)
            c = _client(fake, svc, region="us-east-1",
                        config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))
            r = getattr(c, call)()
            check_eq(r["ResponseMetadata"]["RetryAttempts"], 2, "%s retried as throttling" % svc)
        fake.fail_region("eu-west-1")
        check_eq(_error(rds.describe_pending_maintenance_actions)[:2], ("InternalFailure", 500),
                 "failed region")
        _client(fake, "rds", region="us-west-2").describe_pending_maintenance_actions()
        fake.fail_region("eu-west-1", status=503, code="ServiceUnavailable", services=["ec2"])
        check_eq(_error(ec2.describe_instance_status)[:2], ("ServiceUnavailable", 503), "ec2 only")
        rds.describe_pending_maintenance_actions()
        fake.clear_fail_region()
        ec2.describe_instance_status()


def test_latency_and_request_log():
    with FakeAws(latency_ms=150) as fake:
        ec2 = _client(fake, "ec2")
        t0 = time.monotonic()
        ec2.describe_instance_status()
        check(time.monotonic() - t0 >= 0.15, "latency_ms applied")
        fake.latency_ms = 0
        fake.clear_log()
        sts = _client(fake, "sts", region="ap-northeast-1")
        sts.assume_role(RoleArn="arn:aws:iam::%s:role/r" % OTHER, RoleSessionName="ss")
        check_eq(fake.log(), [{"service": "sts", "action": "AssumeRole",
                               "region": "ap-northeast-1", "account": fake.account,
                               "status": 200, "code": None, "akid": fake.access_key}], "log")


def test_standalone_mode_and_peer():
    fake = os.path.join(ROOT, "tests", "integration", "fakeaws.py")
    peer = os.path.join(ROOT, "bench", "poll_peer.py")
    p = subprocess.Popen([sys.executable, fake, "--port", "0", "--accounts", "2", "--regions",
                          "2", "--pages", "2", "--page-size", "3"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        info = {}
        for _ in range(5):
            line = p.stdout.readline().split()
            check(line, "fakeaws exited early: %s" % p.stderr.read() if p.poll() is not None
                  else "empty line")
            info[line[0]] = line[1:]
        check(info["READY"][0].startswith("http://127.0.0.1:"), "READY line %r" % info)
        for threads in ("1", "4"):
            out = subprocess.run([sys.executable, peer, "--url", info["READY"][0],
                                  "--key", info["KEYS"][0], "--secret", info["KEYS"][1],
                                  "--accounts", info["ACCOUNTS"][0], "--regions",
                                  info["REGIONS"][0], "--role", info["ROLE"][0],
                                  "--threads", threads], capture_output=True, text=True,
                                 timeout=90)
            check_eq(out.returncode, 0, "peer exit (stderr %s)" % out.stderr[-500:])
            res = json.loads(out.stdout)
            # 2 accounts x (1 AssumeRole + 2 regions x 5 APIs x 2 pages); 6 items per API
            check_eq(res["requests"], 2 * (1 + 2 * 5 * 2), "peer requests (threads %s)" % threads)
            check_eq(res["records"], 2 * 2 * 5 * 6, "peer records")
            check_eq(res["errors"], 0, "peer errors")
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    check_eq(p.returncode, 0, "fakeaws exits 0 on SIGTERM")
