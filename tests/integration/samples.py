#!/usr/bin/python3
"""samples.py — AWS message builders for the integration tests, shaped like the samples of
docs/reference/maintenance-events.md §3 (Health), §4 (ElastiCache), §5 (RDS)."""
import copy
import json
import uuid

from aklib import ACCOUNT, REGION, rfc1123, rfc3339

# §3.3: the real EC2 retirement event (Cloud Custodian capture), ids filled in.
EC2_RETIREMENT = {
    "account": ACCOUNT,
    "region": "us-east-1",
    "detail": {
        "eventDescription": [{
            "latestDescription": "EC2 has detected degradation of the underlying hardware hosting "
            "your Amazon EC2 instance associated with this event in the us-east-1 region. Due to "
            "this degradation your instance could already be unreachable. We will stop your "
            "instance after 2019-06-26 15:00 UTC.\n\nYou can find more information about "
            "maintenance events scheduled for your EC2 instances in the AWS Management Console "
            "(https://console.aws.amazon.com/ec2/v2/home?region=us-east-1#Events)\n\n* What will "
            "happen to my instance?\nYour instance will be stopped after the specified retirement "
            "date. ...",
            "language": "en_US"}],
        "service": "EC2",
        "eventTypeCode": "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED",
        "affectedEntities": [{"entityValue": "i-0a1b2c3d4e5f60718", "tags": {}}],
        "startTime": "Wed, 26 Jun 2019 15:00:00 GMT",
        "eventTypeCategory": "scheduledChange",
        "endTime": "Wed, 26 Jun 2019 15:00:00 GMT",
        "eventArn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_"
                    "SCHEDULED/AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED4e63a1f4-b043-4543-"
                    "88fa-53f30aeb295b"
    },
    "detail-type": "AWS Health Event",
    "source": "aws.health",
    "version": "0",
    "time": "2019-06-26T15:00:00Z",
    "id": "c0b8b90d-eafd-c6fd-0203-568c3c2fdc79",
    "resources": ["i-0a1b2c3d4e5f60718"]
}


def ec2_retirement():
    return copy.deepcopy(EC2_RETIREMENT)


def health_event(code, service, start, entities, end=None, status="upcoming", arn_id=None,
                 page=None, total_pages=None, comm_id=None, event_id=None, region=REGION,
                 description="A maintenance is scheduled for your resources."):
    """An "AWS Health Event" with the newer fields (§3.2/§3.3)."""
    arn_id = arn_id or uuid.uuid4().hex
    comm = comm_id or uuid.uuid4().hex
    detail = {
        "eventArn": "arn:aws:health:%s::event/%s/%s/%s_%s" % (region, service, code, code,
                                                               arn_id),
        "service": service,
        "eventScopeCode": "ACCOUNT_SPECIFIC",
        "communicationId": "%s-%d" % (comm, page or 1),
        "lastUpdatedTime": rfc1123(start),
        "eventRegion": region,
        "eventTypeCode": code,
        "eventTypeCategory": "scheduledChange",
        "startTime": rfc1123(start),
        "statusCode": status,
        "eventDescription": [{"language": "en_US", "latestDescription": description}],
        "affectedEntities": [{"entityValue": e, "tags": {}} for e in entities],
    }
    if end is not None:
        detail["endTime"] = rfc1123(end)
    if page is not None:
        detail["page"] = str(page)
        detail["totalPages"] = str(total_pages)
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "AWS Health Event",
        "source": "aws.health",
        "account": ACCOUNT,
        "time": rfc3339(start),
        "region": region,
        "resources": list(entities),
        "detail": detail,
    }


def elasticache_message(event, group="prod-redis", cluster="prod-redis-001", node="0001",
                        window=None):
    """§4.3 shape; window=(start, end) adds the §4.2 window text."""
    m = {"ElastiCache:" + event: group, "Cache Cluster ID": cluster, "Cache Node ID": node}
    if window:
        m["Message"] = ("The node with Cache Cluster ID: %s, Node ID: %s is scheduled for "
                        "replacement during the maintenance window from Start Time: %s, End "
                        "Time: %s" % (cluster, node, rfc3339(window[0]), rfc3339(window[1])))
    return json.dumps(m)


def rds_eventbridge(event_no, instance, message):
    """§5.2 shape."""
    arn = "arn:aws:rds:%s:%s:db:%s" % (REGION, ACCOUNT, instance)
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "RDS DB Instance Event",
        "source": "aws.rds", "account": ACCOUNT, "time": "2026-11-20T22:36:43Z",
        "region": REGION, "resources": [arn],
        "detail": {"EventCategories": ["security patching"], "SourceType": "DB_INSTANCE",
                   "SourceArn": arn, "Date": "2026-11-20T22:36:43.292Z", "Message": message,
                   "SourceIdentifier": instance, "EventID": "RDS-EVENT-%04d" % event_no},
    }


def rds_sns_message(event_no, instance, message):
    """§5.1 shape (the SNS Message string)."""
    return json.dumps({
        "Event Source": "db-instance", "Event Time": "2026-11-20 12:45:06.000",
        "Identifier Link": "https://console.aws.amazon.com/rds/home?region=%s#dbinstance:id=%s"
                           % (REGION, instance),
        "Source ID": instance,
        "Event ID": "http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/"
                    "USER_Events.html#RDS-EVENT-%04d" % event_no,
        "Event Message": message})
