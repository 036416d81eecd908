#!/usr/bin/python3
"""Prints the asakai demo feed as NDJSON on stdout: realistic AWS maintenance messages, dated
relative to now, clearly labelled (account 123456789012, topic 'asakai-demo', resources 'demo-*').

The story (from the product brief): an EC2 instance retirement, an RDS hardware maintenance, an
RDS minor version upgrade, and an ElastiCache node replacement that completes and then, a week
later, comes back as a new mandatory replacement for the same cluster.

  demo-feed.py                  the maintenance feed (NDJSON) on stdout
  demo-feed.py --metrics        14 days of hourly metrics history of the demo services "api"
                                (http) and "db" (postgres) as OpenMetrics text on stdout
  demo-feed.py --monitoring URL imports that history into the daemon at URL
                                (POST /api/v1/metrics/import) and marks the api deploy of 3 days
                                ago (POST /api/v1/deploys)

The metrics story: api leaks memory (~3 %/day) and its latency rose 30 % after the deploy 3 days
ago; db's data volume fills in ~9 days while its database grows.
"""
import datetime as dt
import json
import math
import random
import sys
import urllib.request
import uuid

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:asakai-demo"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def rfc1123(t):
    return t.strftime("%a, %d %b %Y %H:%M:%S GMT")


def jst_0200(days):
    """02:00 JST (17:00 UTC the day before) `days` from now."""
    d = (NOW + dt.timedelta(days=days)).date()
    return dt.datetime(d.year, d.month, d.day, 17, 0, tzinfo=dt.timezone.utc) - dt.timedelta(days=1)


def sns(message, when, subject=None):
    env = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid5(uuid.NAMESPACE_URL, "asakai-demo:" + message)),
        "TopicArn": TOPIC,
        "Message": message,
        "Timestamp": iso(when),
        "SignatureVersion": "2",
        "Signature": "ZGVtbw==",
        "SigningCertURL": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-demo.pem",
        "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:demo",
    }
    if subject:
        env["Subject"] = subject
    return env


def health(code, service, entities, start, end, when, desc, category="scheduledChange"):
    arn = f"arn:aws:health:{REGION}::event/{service}/{code}/{code}_DEMO_{entities[0]}"
    return {
        "version": "0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, arn)),
        "detail-type": "AWS Health Event", "source": "aws.health", "account": ACCOUNT,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION, "resources": entities,
        "detail": {
            "eventArn": arn, "service": service, "eventTypeCode": code,
            "eventTypeCategory": category, "eventScopeCode": "ACCOUNT_SPECIFIC",
            "communicationId": uuid.uuid5(uuid.NAMESPACE_URL, arn).hex + "-1",
            "startTime": rfc1123(start), "endTime": rfc1123(end),
            "lastUpdatedTime": rfc1123(when), "statusCode": "upcoming", "eventRegion": REGION,
            "eventDescription": [{"language": "en_US", "latestDescription": desc}],
            "affectedEntities": [{"entityValue": e} for e in entities],
            "page": "1", "totalPages": "1",
        },
    }


def ec_window_text(node, start, end):
    fmt = "%Y-%m-%d %H:%M:%S UTC"
    return (f"The node with Cache Cluster ID: demo-sessions-0001-001, Node ID: {node} is scheduled "
            f"for replacement during the maintenance window from Start Time: {start.strftime(fmt)}, "
            f"End Time: {end.strftime(fmt)}")


DAY = 86400
GIB = 1024 ** 3
DEPLOY_AGO_S = 3 * DAY
DEPLOY_VERSION = "v2.14.0"


def hours(days=14):
    """Hourly-ish sample times (seconds) over the last `days` days: one in each hour, a few
    minutes past it (not in the future)."""
    rnd = random.Random(6)
    end = int(NOW.timestamp()) // 3600 * 3600
    last = int(NOW.timestamp()) - 1
    return [min(last, end - h * 3600 + rnd.randint(60, 900)) for h in range(days * 24, -1, -1)]


def daily(t, amp):
    """A day/night swing peaking at 14:00 JST (05:00 UTC)."""
    return 1 + amp * math.cos((t % DAY - 5 * 3600) / DAY * 2 * math.pi)


def om_labels(labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def metrics_text():
    """OpenMetrics 1.0 text: every family's series contiguous, timestamps in seconds."""
    ts = hours()
    now = NOW.timestamp()
    t0 = ts[0]
    rnd = random.Random(42)
    api = {"job": "api", "instance": "api-1"}
    db = {"job": "db", "instance": "db-1"}
    fs = {"service": "db", "job": "node", "instance": "db-1", "device": "/dev/nvme1n1",
          "fstype": "ext4", "mountpoint": "/var/lib/postgresql"}
    fams = []  # (name, type, unit, help, [(labels, name suffix, [(t, v)])])

    def fam(name, typ, unit, help_, series):
        fams.append((name, typ, unit, help_, series))

    fam("up", "gauge", "", "[demo] target up", [
        (api, "", [(t, 1) for t in ts]), (db, "", [(t, 1) for t in ts])])
    fam("process_resident_memory_bytes", "gauge", "bytes", "[demo] api leaks ~3 %/day", [
        (api, "", [(t, 520 * 2**20 * 1.03 ** ((t - t0) / DAY) * (1 + rnd.gauss(0, 0.004)))
                   for t in ts])])
    fam("http_request_duration_seconds", "gauge", "seconds",
        "[demo] mean request latency; +30 % after the deploy 3 days ago", [
            (api, "", [(t, 0.120 * daily(t, 0.1) * (1.3 if t >= now - DEPLOY_AGO_S else 1)
                        * (1 + rnd.gauss(0, 0.03))) for t in ts])])
    total, reqs = 0.0, []
    for i, t in enumerate(ts):
        total += (t - ts[i - 1] if i else 3600) * 50 * daily(t, 0.5) * (1 + rnd.gauss(0, 0.02))
        reqs.append((t, round(total)))
    fam("http_requests", "counter", "", "[demo] requests served", [(api, "_total", reqs)])
    fam("pg_stat_activity_count", "gauge", "", "[demo] connections", [
        (db, "", [(t, round(40 * daily(t, 0.35) + rnd.gauss(0, 2))) for t in ts])])
    fam("pg_database_size_bytes", "gauge", "bytes", "[demo] database grows", [
        (db, "", [(t, 20 * GIB * (1 + 0.015 * (t - t0) / DAY)) for t in ts])])
    fam("node_filesystem_avail_bytes", "gauge", "bytes", "[demo] db volume fills in ~9 days", [
        (fs, "", [(t, max(0.0, (36 + 4 * (now - t) / DAY) * GIB + rnd.gauss(0, 0.05 * GIB)))
                  for t in ts])])
    fam("node_filesystem_size_bytes", "gauge", "bytes", "[demo] db volume size", [
        (fs, "", [(t, 200 * GIB) for t in ts])])
    out = []
    for name, typ, unit, help_, series in fams:
        out.append(f"# TYPE {name} {typ}")
        if unit:
            out.append(f"# UNIT {name} {unit}")
        out.append(f"# HELP {name} {help_}")
        for labels, suffix, points in series:
            lab = om_labels(labels)
            out.extend(f"{name}{suffix}{lab} {v:.17g} {t}" for t, v in points)
    out.append("# EOF")
    return "\n".join(out) + "\n"


def post(url, path, body, ctype):
    req = urllib.request.Request(url.rstrip("/") + path, data=body, method="POST",
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def monitoring(url):
    rep = post(url, "/api/v1/metrics/import", metrics_text().encode(),
               "application/openmetrics-text; version=1.0.0")
    print(f"demo: imported {rep['samples']} samples of {rep['series']} series (api, db: 14 days)")
    at = (int(NOW.timestamp()) - DEPLOY_AGO_S) * 1000
    dep = post(url, "/api/v1/deploys", json.dumps({
        "service": "api", "version": DEPLOY_VERSION, "at": at, "by": "demo",
        "note": "[demo] new serializer"}).encode(), "application/json")
    print(f"demo: marked deploy #{dep['id']} of api {DEPLOY_VERSION} 3 days ago")


if __name__ == "__main__" and len(sys.argv) > 1:
    if sys.argv[1] == "--metrics":
        sys.stdout.write(metrics_text())
    elif sys.argv[1] == "--monitoring" and len(sys.argv) == 3:
        monitoring(sys.argv[2])
    else:
        sys.exit("usage: demo-feed.py [--metrics | --monitoring URL]")
    sys.exit(0)

feed = []
ec2_start = jst_0200(9)
feed.append(health(
    "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED", "EC2", ["i-0demo1a2b3c4d5e6f"],
    ec2_start, ec2_start, NOW - dt.timedelta(days=5),
    "[demo] EC2 has detected degradation of the underlying hardware hosting your Amazon EC2 "
    f"instance. We will stop your instance after {ec2_start.strftime('%Y-%m-%d %H:%M')} UTC."))
rds_start = jst_0200(14)
feed.append(health(
    "AWS_RDS_HARDWARE_MAINTENANCE_SCHEDULED", "RDS", ["demo-prod-db-1"],
    rds_start, rds_start + dt.timedelta(hours=2), NOW - dt.timedelta(days=12),
    "[demo] Amazon RDS will perform hardware maintenance on your DB instance during the window."))
feed.append(sns(json.dumps({
    "Event Source": "db-instance",
    "Event Time": (NOW - dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.000"),
    "Identifier Link": f"https://console.aws.amazon.com/rds/home?region={REGION}#dbinstance:id=demo-prod-db-2",
    "Source ID": "demo-prod-db-2",
    "Source ARN": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:demo-prod-db-2",
    "Event ID": "http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/USER_Events.html#RDS-EVENT-0155",
    "Event Message": "[demo] The DB instance has a DB engine minor version upgrade available."}),
    NOW - dt.timedelta(days=2), "RDS Notification Message"))
# ElastiCache: scheduled -> complete, then a new mandatory replacement a week later
w1s = NOW - dt.timedelta(days=13, hours=3)
w1e = w1s + dt.timedelta(hours=1)
feed.append(sns(json.dumps({
    "ElastiCache:NodeReplacementScheduled": "demo-sessions",
    "Replication Group ID": "demo-sessions", "Cache Cluster ID": "demo-sessions-0001-001",
    "Cache Node ID": "0001", "Message": ec_window_text("0001", w1s, w1e)}), NOW - dt.timedelta(days=20)))
feed.append(sns(json.dumps({
    "ElastiCache:CacheNodeReplaceComplete": "demo-sessions",
    "Replication Group ID": "demo-sessions", "Cache Cluster ID": "demo-sessions-0001-001"}),
    w1e))
w2s = jst_0200(5)
w2e = w2s + dt.timedelta(hours=1)
feed.append(sns(json.dumps({
    "ElastiCache:NodeReplacementScheduled": "demo-sessions",
    "Replication Group ID": "demo-sessions", "Cache Cluster ID": "demo-sessions-0001-001",
    "Cache Node ID": "0001", "Message": ec_window_text("0001", w2s, w2e)}), NOW - dt.timedelta(days=6)))

for doc in feed:
    print(json.dumps(doc, separators=(",", ":")))
