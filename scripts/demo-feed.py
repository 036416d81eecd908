#!/usr/bin/python3
"""Prints the asakai demo feed as NDJSON on stdout: realistic AWS maintenance messages, dated
relative to now, clearly labelled (account 123456789012, topic 'asakai-demo', resources 'demo-*').

The story (from the product brief): an EC2 instance retirement, an RDS hardware maintenance, an
RDS minor version upgrade, and an ElastiCache node replacement that completes and then, a week
later, comes back as a new mandatory replacement for the same cluster.
"""
import datetime as dt
import json
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
