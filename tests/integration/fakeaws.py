#!/usr/bin/python3
"""fakeaws.py — a fake AWS endpoint for asakai's poller tests and benchmark.

One HTTP server on 127.0.0.1 answers, with the wire shapes AWS documents (element names, list
members and result wrappers come from botocore's service models on disk, so they are exactly what
SDKs parse):

  ec2          DescribeInstanceStatus               ec2 protocol (XML, <item> lists, nextToken)
  rds          DescribePendingMaintenanceActions    query protocol, Version 2014-10-31, Marker
  elasticache  DescribeServiceUpdates, DescribeUpdateActions, DescribeEvents
                                                    query protocol, Version 2015-02-02, Marker
  health       DescribeEvents, DescribeAffectedEntities
                                                    JSON 1.1, X-Amz-Target AWSHealth_20160804.*,
                                                    nextToken, epoch-second timestamps; only for
                                                    the us-east-1 credential scope
  sts          AssumeRole                           query protocol, Version 2011-06-15

Requests are POST (form body, or JSON for Health) or GET with the query string. The service and
region are taken from the Authorization header's credential scope (AKID/date/region/service/
aws4_request); an Action/Version (or X-Amz-Target) that the scoped service does not have gives
400 InvalidAction (JSON: UnknownOperationException).

Every request's SigV4 signature is verified with botocore's signer as an independent reference:
the request is rebuilt as a botocore AWSRequest from the method, path, the query parameters
(decoded, so botocore re-encodes them canonically), ONLY the headers named in SignedHeaders and
the body; request.context['timestamp'] = X-Amz-Date; SigV4Auth(...).canonical_request(),
string_to_sign(), signature(); compared with hmac.compare_digest. `host` and `x-amz-date` must be
signed, and so must X-Amz-Security-Token when it is sent. An x-amz-content-sha256 header must
equal the body's SHA-256 (botocore would otherwise trust it).

Error codes, as (HTTP status, code) for ec2 | query (rds, elasticache, sts) | json (health):

  no Authorization header          403 MissingAuthenticationToken | same |
                                   403 MissingAuthenticationTokenException
  malformed Authorization or date; host, x-amz-date or security token not signed
                                   400 IncompleteSignature | same | 400 IncompleteSignatureException
  unknown access key, or a token that does not belong to it / is missing
                                   401 AuthFailure | 403 InvalidClientTokenId |
                                   400 UnrecognizedClientException
  signature mismatch               401 AuthFailure | 403 SignatureDoesNotMatch |
                                   400 InvalidSignatureException
  X-Amz-Date more than 5 min off   400 RequestExpired | 403 SignatureDoesNotMatch "Signature
                                   expired: ..." | 400 InvalidSignatureException "Signature expired"
  issued session expired           400 RequestExpired | 403 ExpiredToken |
                                   400 ExpiredTokenException
  Health scoped to a region other than us-east-1
                                   400 InvalidSignatureException "Credential should be scoped to a
                                   valid region"
  Action/Version not of the scoped service
                                   400 InvalidAction | 400 InvalidAction |
                                   400 UnknownOperationException
  throttle()                       503 RequestLimitExceeded | 400 Throttling |
                                   400 ThrottlingException
  fail_region()                    <status> <code> (default 500 InternalFailure; the query shape
                                   says Type Receiver for 5xx)
  bad parameter                    400 InvalidParameterValue, InvalidParameterCombination,
                                   InvalidPaginationToken (ec2) | 400 InvalidParameterValue (also
                                   a bad Marker; sts: ValidationError) | 400 ValidationException,
                                   InvalidPaginationToken
  Health without subscription      400 SubscriptionRequiredException
  AssumeRole of a role not in .roles (when that is a set)   403 AccessDenied

(EC2 answers a wrong secret with AuthFailure "AWS was not able to validate the provided access
credentials", HTTP 401, not SignatureDoesNotMatch; AWS SDKs treat ExpiredToken,
ExpiredTokenException and RequestExpired alike as "credentials expired". Sources: AWS "Common
Errors" API reference pages (InvalidClientTokenId 403, RequestExpired 400, ExpiredToken(Exception)
403, IncompleteSignature 400, MissingAuthenticationToken 403, ThrottlingException 400); observed
wire bodies in aws-sdk-java-v2#2981 (EC2 AuthFailure), aws-sdk-java#1443 (EC2 RequestExpired 400
for expired credentials), aws-sdk-go#253 (the three "expired" codes). The JSON codes follow the
AWS JSON (Coral) services, which answer auth failures with 400.)

Paging: every list API pages with page_size items (default 2, so tests paginate); MaxResults /
MaxRecords / maxResults are validated against AWS's ranges (ec2 5..1000, rds/elasticache 20..100,
health 10..100) and honoured when smaller than page_size. Tokens are opaque and bound to the
request's filters; a foreign or corrupt token is rejected.

Semantics kept from AWS: DescribeInstanceStatus lists only running instances unless
IncludeAllInstances=true; ElastiCache DescribeEvents returns only the last hour unless
StartTime/EndTime/Duration say otherwise (and never more than 14 days back); DescribeUpdateActions
drops node-level status unless ShowNodeLevelUpdateStatus=true; Health DescribeEvents is sorted by
lastUpdatedTime, newest first; DescribeAffectedEntities requires filter.eventArns.

Python API (tests):
  fake = FakeAws(access_key=.., secret_key=.., account='123456789012', page_size=2,
                 latency_ms=0, session_duration=3600, max_session_duration=3600)
  fake.start() / fake.stop() / fake.url / with FakeAws() as fake: ...
  fake.add_key(akid, secret, account)          another long-term key pair
  fake.roles = None | {role_arn, ...}          None: any role ARN may be assumed
  fake.set_ec2(acct, region, instances)        InstanceStatuses items, boto3 shape
  fake.set_rds(acct, region, actions)          ResourcePendingMaintenanceActions, boto3 shape
  fake.set_elasticache(acct, region, service_updates=[], update_actions=[], events=[])
  fake.set_health(acct, events=[], entities=[], subscription=True)
  fake.page_size = n; fake.latency_ms = n; fake.clock = callable (server's now, epoch seconds)
  fake.throttle(service, n, code=None, status=None)   next n requests to service fail
  fake.fail_region(region, status=500, code='InternalFailure', message=.., services=None)
  fake.clear_fail_region(region=None)
  fake.expire_sessions()                       every issued session credential is now expired
  fake.sessions                                {akid: {secret, token, account, role_arn, expires}}
  fake.requests                                log: dicts service, action, region, account, status,
                                               code, akid (copy with fake.log())
  fake.clear_log()

Standalone (benchmark):
  fakeaws.py --port P --accounts 20 --regions 4 --pages 3 --latency-ms 20 [--page-size 5]
prints "READY <url>", "KEYS <akid> <secret>", "ACCOUNTS a,b,..", "REGIONS r1,..", "ROLE <name>"
and serves until SIGTERM/SIGINT.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import random
import re
import signal
import socket
import string
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import parse_timestamp

DEFAULT_AKID = "AKIAFAKEASAKAI000001"
DEFAULT_SECRET = "fakeSecretKey/asakai+0123456789abcdefghij"
DEFAULT_ACCOUNT = "123456789012"
MAX_BODY = 1 << 20
SKEW_S = 300

SERVICES = {
    "ec2": {"protocol": "ec2", "version": "2016-11-15", "ops": ("DescribeInstanceStatus",)},
    "rds": {"protocol": "query", "version": "2014-10-31",
            "ops": ("DescribePendingMaintenanceActions",)},
    "elasticache": {"protocol": "query", "version": "2015-02-02",
                    "ops": ("DescribeServiceUpdates", "DescribeUpdateActions", "DescribeEvents")},
    "health": {"protocol": "json", "version": "2016-08-04", "target": "AWSHealth_20160804",
               "ops": ("DescribeEvents", "DescribeAffectedEntities")},
    "sts": {"protocol": "query", "version": "2011-06-15", "ops": ("AssumeRole",)},
}

# Auth failures: kind -> {protocol: (status, code)}.
AUTH_CODES = {
    "missing": {"ec2": (403, "MissingAuthenticationToken"),
                "query": (403, "MissingAuthenticationToken"),
                "json": (403, "MissingAuthenticationTokenException")},
    "incomplete": {"ec2": (400, "IncompleteSignature"), "query": (400, "IncompleteSignature"),
                   "json": (400, "IncompleteSignatureException")},
    "unknown_key": {"ec2": (401, "AuthFailure"), "query": (403, "InvalidClientTokenId"),
                    "json": (400, "UnrecognizedClientException")},
    "bad_signature": {"ec2": (401, "AuthFailure"), "query": (403, "SignatureDoesNotMatch"),
                      "json": (400, "InvalidSignatureException")},
    "skew": {"ec2": (400, "RequestExpired"), "query": (403, "SignatureDoesNotMatch"),
             "json": (400, "InvalidSignatureException")},
    "expired_token": {"ec2": (400, "RequestExpired"), "query": (403, "ExpiredToken"),
                      "json": (400, "ExpiredTokenException")},
}
THROTTLE_CODES = {"ec2": (503, "RequestLimitExceeded"), "query": (400, "Throttling"),
                  "json": (400, "ThrottlingException")}
INVALID_ACTION = {"ec2": "InvalidAction", "query": "InvalidAction",
                  "json": "UnknownOperationException"}
BAD_PARAM = {"ec2": "InvalidParameterValue", "query": "InvalidParameterValue",
             "json": "ValidationException"}
EC2_AUTH_MSG = "AWS was not able to validate the provided access credentials"

_MODELS = {}
_MODELS_LOCK = threading.Lock()


def model(service):
    with _MODELS_LOCK:
        m = _MODELS.get(service)
        if m is None:
            m = botocore.session.get_session().get_service_model(
                service, api_version=SERVICES[service]["version"])
            _MODELS[service] = m
        return m


class AwsError(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, "%d %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.message = message


# ---- values -----------------------------------------------------------------------------------

def to_dt(v):
    """A timestamp given as datetime, ISO string or epoch number -> aware UTC datetime."""
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.astimezone(datetime.timezone.utc)
    return parse_timestamp(v).astimezone(datetime.timezone.utc)


def iso_ms(v):
    return to_dt(v).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (to_dt(v).microsecond // 1000)


def epoch(v):
    return round(to_dt(v).timestamp(), 3)


def check_shape(shape, value, path, strict=True):
    """Raises ValueError when value does not fit shape (unknown keys only when strict)."""
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            raise ValueError("%s: want a dict" % path)
        for k, v in value.items():
            if k in shape.members:
                check_shape(shape.members[k], v, "%s.%s" % (path, k), strict)
            elif strict:
                raise ValueError("%s: %r is not a member of %s (members: %s)" %
                                 (path, k, shape.name, ", ".join(shape.members)))
    elif t == "list":
        if not isinstance(value, (list, tuple)):
            raise ValueError("%s: want a list" % path)
        for i, v in enumerate(value):
            check_shape(shape.member, v, "%s[%d]" % (path, i), strict)
    elif t == "timestamp":
        to_dt(value)
    elif t == "boolean" and not isinstance(value, bool):
        raise ValueError("%s: want a bool" % path)
    elif t in ("integer", "long") and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("%s: want an int" % path)


def _xml_scalar(shape, v):
    t = shape.type_name
    if t == "timestamp":
        return iso_ms(v)
    if t == "boolean":
        return "true" if v else "false"
    return str(v)


def xml_members(shape, value, out):
    for mname, mshape in shape.members.items():
        if mname in value and value[mname] is not None:
            xml_node(mshape, value[mname], mshape.serialization.get("name", mname), out)


def xml_node(shape, value, name, out):
    t = shape.type_name
    if t == "structure":
        out.append("<%s>" % name)
        xml_members(shape, value, out)
        out.append("</%s>" % name)
    elif t == "list":
        member = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for v in value:
                xml_node(shape.member, v, name, out)
        elif not value:
            out.append("<%s/>" % name)
        else:
            out.append("<%s>" % name)
            for v in value:
                xml_node(shape.member, v, member, out)
            out.append("</%s>" % name)
    elif t == "map":
        raise ValueError("maps are not used by the XML APIs this fake serves")
    else:
        out.append("<%s>%s</%s>" % (name, escape(_xml_scalar(shape, value)), name))


def json_value(shape, value):
    t = shape.type_name
    if t == "structure":
        d = {}
        for k, v in value.items():
            if v is None:
                continue
            d[k] = json_value(shape.members[k], v) if k in shape.members else v
        return d
    if t == "list":
        return [json_value(shape.member, v) for v in value]
    if t == "map":
        return {k: json_value(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        return epoch(value)
    return value


def _ns(service):
    ns = model(service).metadata.get("xmlNamespace", "")
    return ns if ns.endswith("/") else ns + "/"


def xml_response(service, op_name, result, rid):
    op = model(service).operation_model(op_name)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s">' %
           (op_name, _ns(service))]
    if SERVICES[service]["protocol"] == "ec2":
        out.append("<requestId>%s</requestId>" % rid)
        xml_members(op.output_shape, result, out)
    else:
        wrapper = op.output_shape.serialization.get("resultWrapper", op_name + "Result")
        out.append("<%s>" % wrapper)
        xml_members(op.output_shape, result, out)
        out.append("</%s><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>" %
                   (wrapper, rid))
    out.append("</%sResponse>" % op_name)
    return "".join(out).encode("utf-8")


def error_body(protocol, service, status, code, message, rid):
    if protocol == "json":
        return json.dumps({"__type": code, "message": message}).encode("utf-8")
    if protocol == "ec2":
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
                "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>" %
                (escape(code), escape(message), rid)).encode("utf-8")
    ns = _ns(service) if service in SERVICES else "https://%s.amazonaws.com/doc/" % service
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="%s"><Error>'
            "<Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>" %
            (escape(ns), "Receiver" if status >= 500 else "Sender", escape(code), escape(message),
             rid)).encode("utf-8")


# ---- request parameters -----------------------------------------------------------------------

def qlist(params, prefix):
    """Values of prefix.1, prefix.2, ... in index order."""
    out = []
    pat = re.compile(re.escape(prefix) + r"\.(\d+)$")
    for k, v in params.items():
        m = pat.match(k)
        if m:
            out.append((int(m.group(1)), v))
    return [v for _, v in sorted(out)]


def qfilters(params, prefix, values_sub):
    """{name: [values]} from prefix.N.Name / prefix.N.<values_sub>.M."""
    out = {}
    pat = re.compile(re.escape(prefix) + r"\.(\d+)\.Name$")
    for k, name in params.items():
        m = pat.match(k)
        if m:
            out[name] = qlist(params, "%s.%s.%s" % (prefix, m.group(1), values_sub))
    return out


def qbool(params, name):
    return params.get(name, "false").lower() == "true"


def qint(params, name, lo, hi, protocol):
    v = params.get(name)
    if v is None:
        return None
    try:
        n = int(v)
    except (TypeError, ValueError):
        n = None
    if n is None or n < lo or n > hi:
        raise AwsError(400, BAD_PARAM[protocol], "Invalid value for %s: %r; it must be between %d "
                       "and %d." % (name, v, lo, hi))
    return n


def qtime(params, name):
    v = params.get(name)
    if v is None:
        return None
    try:
        return to_dt(v)
    except (ValueError, TypeError, OverflowError):
        raise AwsError(400, "InvalidParameterValue", "Invalid timestamp for %s: %r" % (name, v))


def _rand(alphabet, n):
    return "".join(random.choice(alphabet) for _ in range(n))


# ---- the server -------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        # headers and body are separate writes: without this, delayed ACK costs 40 ms a request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.fake.lock:
            self.server.fake._conns.add(self.connection)

    def finish(self):
        with self.server.fake.lock:
            self.server.fake._conns.discard(self.connection)
        BaseHTTPRequestHandler.finish(self)

    def version_string(self):
        return "fakeaws"

    def log_message(self, *a):
        pass

    def do_POST(self):
        self.server.fake.handle(self)

    do_GET = do_POST


class FakeAws:
    def __init__(self, access_key=DEFAULT_AKID, secret_key=DEFAULT_SECRET, account=DEFAULT_ACCOUNT,
                 port=0, page_size=2, latency_ms=0, session_duration=3600,
                 max_session_duration=3600):
        self.lock = threading.RLock()
        self.keys = {access_key: {"secret": secret_key, "account": account}}
        self.access_key, self.secret_key, self.account = access_key, secret_key, account
        self.sessions = {}
        self.roles = None
        self.port = port
        self.page_size = page_size
        self.latency_ms = latency_ms
        self.session_duration = session_duration
        self.max_session_duration = max_session_duration
        self.clock = time.time
        self.requests = []
        self.ec2 = {}
        self.rds = {}
        self.elasticache = {}
        self.health = {}
        self._throttle = {}
        self._fail = {}
        self._httpd = None
        self._thread = None
        self._conns = set()

    # ---- lifecycle
    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fakeaws",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            # idle keep-alive connections would otherwise keep their handler threads alive
            with self.lock:
                conns = list(self._conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._thread.join(5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    # ---- state
    def add_key(self, akid, secret, account):
        with self.lock:
            self.keys[akid] = {"secret": secret, "account": account}

    def set_ec2(self, acct, region, instances):
        shape = model("ec2").operation_model("DescribeInstanceStatus").output_shape
        items = []
        for i, inst in enumerate(instances):
            inst = dict(inst)
            inst.setdefault("AvailabilityZone", region + "a")
            inst.setdefault("InstanceState", {"Code": 16, "Name": "running"})
            for k in ("SystemStatus", "InstanceStatus"):
                inst.setdefault(k, {"Status": "ok", "Details": [{"Name": "reachability",
                                                                 "Status": "passed"}]})
            check_shape(shape.members["InstanceStatuses"].member, inst, "instances[%d]" % i)
            items.append(inst)
        with self.lock:
            self.ec2[(acct, region)] = items

    def set_rds(self, acct, region, actions):
        shape = model("rds").operation_model("DescribePendingMaintenanceActions").output_shape
        check_shape(shape.members["PendingMaintenanceActions"], list(actions), "actions")
        with self.lock:
            self.rds[(acct, region)] = list(actions)

    def set_elasticache(self, acct, region, service_updates=(), update_actions=(), events=()):
        m = model("elasticache")
        for op, key, val in (("DescribeServiceUpdates", "ServiceUpdates", service_updates),
                             ("DescribeUpdateActions", "UpdateActions", update_actions),
                             ("DescribeEvents", "Events", events)):
            check_shape(m.operation_model(op).output_shape.members[key], list(val), key)
        with self.lock:
            self.elasticache[(acct, region)] = {"ServiceUpdates": list(service_updates),
                                                "UpdateActions": list(update_actions),
                                                "Events": list(events)}

    def set_health(self, acct, events=(), entities=(), subscription=True):
        m = model("health")
        check_shape(m.operation_model("DescribeEvents").output_shape.members["events"],
                    list(events), "events", strict=False)
        check_shape(m.operation_model("DescribeAffectedEntities").output_shape.members["entities"],
                    list(entities), "entities", strict=False)
        for e in events:
            if "arn" not in e:
                raise ValueError("every Health event needs an arn")
        with self.lock:
            self.health[acct] = {"events": list(events), "entities": list(entities),
                                 "subscription": subscription}

    # ---- fault injection
    def throttle(self, service, n, code=None, status=None):
        proto = SERVICES[service]["protocol"]
        dstatus, dcode = THROTTLE_CODES[proto]
        with self.lock:
            self._throttle[service] = [n, code or dcode, status or dstatus]

    def fail_region(self, region, status=500, code="InternalFailure",
                    message="An internal error has occurred.", services=None):
        with self.lock:
            self._fail[region] = (status, code, message, set(services) if services else None)

    def clear_fail_region(self, region=None):
        with self.lock:
            if region is None:
                self._fail.clear()
            else:
                self._fail.pop(region, None)

    def expire_sessions(self):
        with self.lock:
            for s in self.sessions.values():
                s["expires"] = min(s["expires"], self.clock() - 1)

    def log(self):
        with self.lock:
            return list(self.requests)

    def clear_log(self):
        with self.lock:
            del self.requests[:]

    # ---- HTTP
    def handle(self, h):
        rid = str(uuid.uuid4())
        entry = {"service": None, "action": None, "region": None, "account": None,
                 "status": 200, "code": None, "akid": None}
        protocol, service = "query", "sts"
        try:
            body = self._read_body(h)
            if self.latency_ms:
                time.sleep(self.latency_ms / 1000.0)
            path, _, rawq = h.path.partition("?")
            qpairs = urllib.parse.parse_qsl(rawq, keep_blank_values=True)
            scope = self._scope(h)
            if scope:
                entry["akid"], _, entry["region"], service = scope[:4]
                entry["service"] = service
            protocol = SERVICES.get(service, {}).get("protocol", "query")
            if h.headers.get("X-Amz-Target") and service not in SERVICES:
                protocol = "json"
            self._verify(h, body, path, qpairs, scope, protocol, entry)
            action, params = self._operation(h, body, qpairs, service, protocol)
            entry["action"] = action
            self._faults(service, entry["region"])
            fn = getattr(self, "_op_%s_%s" % (service, action))
            result = fn(params, entry["account"], entry["region"], protocol)
            if protocol == "json":
                out = json_value(model(service).operation_model(action).output_shape, result)
                resp = (200, json.dumps(out).encode("utf-8"), "application/x-amz-json-1.1", None)
            else:
                resp = (200, xml_response(service, action, result, rid), "text/xml;charset=UTF-8",
                        None)
        except AwsError as e:
            entry["status"], entry["code"] = e.status, e.code
            extra = {"x-amzn-ErrorType": e.code} if protocol == "json" else {}
            ctype = "application/x-amz-json-1.1" if protocol == "json" else "text/xml;charset=UTF-8"
            resp = (e.status, error_body(protocol, service, e.status, e.code, e.message, rid),
                    ctype, extra)
        except Exception as e:  # noqa: B902 - a bug in the fake must show, not hang the client
            entry["status"], entry["code"] = 500, "FakeAwsBug"
            msg = "fakeaws bug: %s: %s" % (type(e).__name__, e)
            sys.stderr.write(msg + "\n")
            resp = (500, error_body(protocol, service, 500, "InternalFailure", msg, rid),
                    "text/plain", None)
        # logged before the answer leaves, so a client that got it always finds it in the log
        with self.lock:
            self.requests.append(entry)
        self._send(h, resp[0], resp[1], resp[2], rid, resp[3])

    def _send(self, h, status, body, ctype, rid, extra=None):
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.send_header("x-amzn-RequestId", rid)
            for k, v in (extra or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
        except OSError:
            h.close_connection = True

    def _read_body(self, h):
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                line = h.rfile.readline(100)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while h.rfile.readline(1000).strip():
                        pass
                    return b"".join(chunks)
                total += n
                if total > MAX_BODY:
                    h.close_connection = True
                    raise AwsError(413, "RequestEntityTooLarge", "request body too large")
                chunks.append(h.rfile.read(n))
                h.rfile.readline(10)
        n = int(h.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            h.close_connection = True
            raise AwsError(413, "RequestEntityTooLarge", "request body too large")
        return h.rfile.read(n) if n > 0 else b""

    # ---- authentication
    @staticmethod
    def _parse_auth(h):
        auth = h.headers.get("Authorization")
        if auth is None:
            return None
        m = re.match(r"^AWS4-HMAC-SHA256 (.+)$", auth.strip())
        if not m:
            return {}
        parts = {}
        for p in m.group(1).split(","):
            k, eq, v = p.strip().partition("=")
            if eq:
                parts[k] = v
        return parts

    def _scope(self, h):
        parts = self._parse_auth(h)
        if not parts or "Credential" not in parts:
            return None
        cred = parts["Credential"].split("/")
        if len(cred) != 5 or cred[4] != "aws4_request":
            return None
        return cred

    def _auth_fail(self, kind, protocol, message):
        status, code = AUTH_CODES[kind][protocol]
        if protocol == "ec2" and code == "AuthFailure":
            message = EC2_AUTH_MSG + " (" + message + ")"
        raise AwsError(status, code, message)

    def _verify(self, h, body, path, qpairs, scope, protocol, entry):
        parts = self._parse_auth(h)
        if parts is None:
            self._auth_fail("missing", protocol, "Request is missing Authentication Token")
        if not scope or "SignedHeaders" not in parts or "Signature" not in parts:
            self._auth_fail("incomplete", protocol, "Authorization header requires 'Credential', "
                            "'Signature' and 'SignedHeaders' parameters, with a credential scope "
                            "AKID/date/region/service/aws4_request.")
        akid, sdate, region, service = scope[:4]
        signed = parts["SignedHeaders"].split(";")
        amz_date = h.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            self._auth_fail("incomplete", protocol, "X-Amz-Date header missing or not in "
                            "YYYYMMDD'T'HHMMSS'Z' form: %r" % amz_date)
        if "host" not in signed or "x-amz-date" not in signed:
            self._auth_fail("incomplete", protocol, "'Host' and 'X-Amz-Date' must be in "
                            "SignedHeaders (got %s)" % parts["SignedHeaders"])
        token = h.headers.get("X-Amz-Security-Token")
        if token is not None and "x-amz-security-token" not in signed:
            self._auth_fail("incomplete", protocol, "'X-Amz-Security-Token' must be signed")
        now = self.clock()
        if abs(when.timestamp() - now) > SKEW_S:
            nowz = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            if protocol == "ec2":
                self._auth_fail("skew", protocol, "Request has expired.")
            rel = "earlier" if when.timestamp() < now else "later"
            lim = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + (SKEW_S if rel == "later"
                                                                  else -SKEW_S)))
            self._auth_fail("skew", protocol, "Signature expired: %s is now %s than %s (%s %s 5 "
                            "min.)" % (amz_date, rel, lim, nowz, "+" if rel == "later" else "-"))
        with self.lock:
            key = self.keys.get(akid)
            sess = self.sessions.get(akid)
        if key is None and sess is None:
            self._auth_fail("unknown_key", protocol,
                            "The security token included in the request is invalid.")
        if key is not None:
            if token is not None:
                self._auth_fail("unknown_key", protocol,
                                "The security token included in the request is invalid.")
            secret, account = key["secret"], key["account"]
        else:
            if token is None or not hmac.compare_digest(token, sess["token"]):
                self._auth_fail("unknown_key", protocol,
                                "The security token included in the request is invalid.")
            secret, account = sess["secret"], sess["account"]
        entry["account"] = account
        if sdate != amz_date[:8]:
            self._auth_fail("bad_signature", protocol, "Date in Credential scope does not match "
                            "YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'" %
                            (sdate, amz_date[:8]))
        headers = {}
        for name in signed:
            vals = h.headers.get_all(name)
            if vals is None:
                self._auth_fail("incomplete", protocol, "signed header %r is not in the request"
                                % name)
            headers[name] = ",".join(vals)
        csum = headers.get("x-amz-content-sha256")
        if csum is not None and csum != hashlib.sha256(body).hexdigest():
            self._auth_fail("bad_signature", protocol, "The provided 'x-amz-content-sha256' header "
                            "does not match what was computed.")
        req = AWSRequest(method=h.command, url="http://%s%s" % (headers["host"], path),
                         headers=headers, data=body)
        req.params = qpairs
        req.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(akid, secret, token), service, region)
        creq = signer.canonical_request(req)
        sts = signer.string_to_sign(req, creq)
        want = signer.signature(sts, req)
        if not hmac.compare_digest(want, parts["Signature"]):
            self._auth_fail("bad_signature", protocol,
                            "The request signature we calculated does not match the signature you "
                            "provided. Check your AWS Secret Access Key and signing method. "
                            "Consult the service documentation for details.\n\nThe Canonical "
                            "String for this request should have been\n'%s'\n\nThe String-to-Sign "
                            "should have been\n'%s'\n" % (creq, sts))
        if sess is not None and sess["expires"] <= now:
            msg = ("Request has expired." if protocol == "ec2" else
                   "The security token included in the request is expired")
            self._auth_fail("expired_token", protocol, msg)
        if service == "health" and region != "us-east-1":
            raise AwsError(400, "InvalidSignatureException", "Credential should be scoped to a "
                           "valid region, not '%s'. (the Health API is served from us-east-1)"
                           % region)

    def _operation(self, h, body, qpairs, service, protocol):
        if service not in SERVICES:
            raise AwsError(400, INVALID_ACTION[protocol],
                           "This fake serves no service %r" % service)
        spec = SERVICES[service]
        if protocol == "json":
            target = h.headers.get("X-Amz-Target", "")
            prefix, _, action = target.partition(".")
            if h.command != "POST" or prefix != spec["target"] or action not in spec["ops"]:
                raise AwsError(400, "UnknownOperationException",
                               "Unknown operation %r for the %s credential scope"
                               % (target, service))
            try:
                params = json.loads(body.decode("utf-8") or "{}")
            except ValueError as e:
                raise AwsError(400, "SerializationException", "body is not JSON: %s" % e)
            if not isinstance(params, dict):
                raise AwsError(400, "SerializationException", "body is not a JSON object")
            return action, params
        params = dict(qpairs)
        if h.command == "POST" and body:
            params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                                 keep_blank_values=True))
        action, version = params.get("Action"), params.get("Version")
        if action is None:
            raise AwsError(400, "MissingAction", "The request must contain the parameter Action")
        if version != spec["version"] or action not in spec["ops"]:
            other = [s for s, v in SERVICES.items()
                     if v["version"] == version and action in v["ops"]]
            hint = (" (Action/Version belong to %r: credential should be scoped to correct "
                    "service '%s')" % (other[0], other[0])) if other else ""
            raise AwsError(400, INVALID_ACTION[protocol], "Could not find operation %s for "
                           "version %s in the %s credential scope%s" % (action, version, service,
                                                                       hint))
        return action, params

    def _faults(self, service, region):
        with self.lock:
            f = self._fail.get(region)
            if f is not None and (f[3] is None or service in f[3]):
                raise AwsError(f[0], f[1], f[2])
            t = self._throttle.get(service)
            if t is not None and t[0] > 0:
                t[0] -= 1
                raise AwsError(t[2], t[1], "Rate exceeded" if t[1] != "RequestLimitExceeded"
                               else "Request limit exceeded.")

    # ---- paging
    def _page(self, items, token, limit, bind, protocol, token_code):
        size = self.page_size if limit is None else min(self.page_size, limit)
        size = max(1, size)
        digest = hashlib.sha256(json.dumps(bind, sort_keys=True).encode()).hexdigest()[:16]
        start = 0
        if token:
            try:
                t = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
                start = int(t["o"])
                ok = t["d"] == digest and 0 <= start <= len(items)
            except (ValueError, KeyError, TypeError, UnicodeError):
                ok = False
            if not ok:
                raise AwsError(400, token_code, "The pagination token %r is invalid for this "
                               "request." % token[:80])
        page = items[start:start + size]
        nxt = None
        if start + size < len(items):
            nxt = base64.urlsafe_b64encode(json.dumps({"o": start + size, "d": digest}).encode()
                                           ).decode("ascii")
        return page, nxt

    @staticmethod
    def _bind(op, acct, region, params, drop):
        return [op, acct, region, sorted((k, v) for k, v in params.items()
                                         if k not in drop and not isinstance(v, dict))
                if isinstance(params, dict) else None]

    # ---- operations
    def _op_ec2_DescribeInstanceStatus(self, p, acct, region, protocol):
        ids = qlist(p, "InstanceId")
        limit = qint(p, "MaxResults", 5, 1000, protocol)
        if ids and limit is not None:
            raise AwsError(400, "InvalidParameterCombination", "The parameter instancesSet "
                           "cannot be used with the parameter maxResults")
        include_all = qbool(p, "IncludeAllInstances")
        filters = qfilters(p, "Filter", "Value")
        getters = {
            "instance-state-name": lambda i: [i["InstanceState"]["Name"]],
            "availability-zone": lambda i: [i.get("AvailabilityZone")],
            "instance-status.status": lambda i: [i["InstanceStatus"].get("Status")],
            "system-status.status": lambda i: [i["SystemStatus"].get("Status")],
            "event.code": lambda i: [e.get("Code") for e in i.get("Events", [])],
            "event.instance-event-id": lambda i: [e.get("InstanceEventId")
                                                  for e in i.get("Events", [])],
            "event.description": lambda i: [e.get("Description") for e in i.get("Events", [])],
        }
        for name in filters:
            if name not in getters:
                raise AwsError(400, "InvalidParameterValue", "The filter '%s' is invalid" % name)
        with self.lock:
            items = list(self.ec2.get((acct, region), []))
        sel = []
        for i in items:
            if not include_all and i["InstanceState"]["Name"] != "running":
                continue
            if ids and i.get("InstanceId") not in ids:
                continue
            if all(set(getters[n](i)) & set(vals) for n, vals in filters.items()):
                sel.append(i)
        page, nxt = self._page(sel, p.get("NextToken"), limit,
                               self._bind("ec2", acct, region, p, ("NextToken", "MaxResults")),
                               protocol, "InvalidPaginationToken")
        return {"InstanceStatuses": page, "NextToken": nxt}

    def _op_rds_DescribePendingMaintenanceActions(self, p, acct, region, protocol):
        limit = qint(p, "MaxRecords", 20, 100, protocol)
        rid = p.get("ResourceIdentifier")
        filters = qfilters(p, "Filters.Filter", "Values.Value")
        kinds = {"db-instance-id": ":db:", "db-cluster-id": ":cluster:"}
        for name in filters:
            if name not in kinds:
                raise AwsError(400, "InvalidParameterValue", "Unrecognized filter name: %s" % name)
        with self.lock:
            items = list(self.rds.get((acct, region), []))

        def match(a):
            arn = a.get("ResourceIdentifier", "")
            if rid is not None and arn != rid:
                return False
            for name, vals in filters.items():
                if not any(arn == v or arn.endswith(kinds[name] + v) for v in vals):
                    return False
            return True
        sel = [a for a in items if match(a)]
        page, nxt = self._page(sel, p.get("Marker"), limit,
                               self._bind("rds", acct, region, p, ("Marker", "MaxRecords")),
                               protocol, "InvalidParameterValue")
        return {"PendingMaintenanceActions": page, "Marker": nxt}

    def _ec_state(self, acct, region):
        with self.lock:
            st = self.elasticache.get((acct, region))
            return st if st is not None else {"ServiceUpdates": [], "UpdateActions": [],
                                              "Events": []}

    def _op_elasticache_DescribeServiceUpdates(self, p, acct, region, protocol):
        limit = qint(p, "MaxRecords", 20, 100, protocol)
        name = p.get("ServiceUpdateName")
        statuses = qlist(p, "ServiceUpdateStatus.member")
        sel = [u for u in self._ec_state(acct, region)["ServiceUpdates"]
               if (name is None or u.get("ServiceUpdateName") == name)
               and (not statuses or u.get("ServiceUpdateStatus") in statuses)]
        page, nxt = self._page(sel, p.get("Marker"), limit,
                               self._bind("ecsu", acct, region, p, ("Marker", "MaxRecords")),
                               protocol, "InvalidParameterValue")
        return {"ServiceUpdates": page, "Marker": nxt}

    def _op_elasticache_DescribeUpdateActions(self, p, acct, region, protocol):
        limit = qint(p, "MaxRecords", 20, 100, protocol)
        conds = [("ServiceUpdateName", [p["ServiceUpdateName"]] if "ServiceUpdateName" in p
                  else []),
                 ("ReplicationGroupId", qlist(p, "ReplicationGroupIds.member")),
                 ("CacheClusterId", qlist(p, "CacheClusterIds.member")),
                 ("Engine", [p["Engine"]] if "Engine" in p else []),
                 ("ServiceUpdateStatus", qlist(p, "ServiceUpdateStatus.member")),
                 ("UpdateActionStatus", qlist(p, "UpdateActionStatus.member"))]
        t0 = qtime(p, "ServiceUpdateTimeRange.StartTime")
        t1 = qtime(p, "ServiceUpdateTimeRange.EndTime")
        node_level = qbool(p, "ShowNodeLevelUpdateStatus")
        sel = []
        for a in self._ec_state(acct, region)["UpdateActions"]:
            if any(vals and a.get(k) not in vals for k, vals in conds):
                continue
            rel = a.get("ServiceUpdateReleaseDate")
            if (t0 or t1) and rel is None:
                continue
            if (t0 and to_dt(rel) < t0) or (t1 and to_dt(rel) > t1):
                continue
            if not node_level:
                a = {k: v for k, v in a.items()
                     if k not in ("NodeGroupUpdateStatus", "CacheNodeUpdateStatus")}
            sel.append(a)
        page, nxt = self._page(sel, p.get("Marker"), limit,
                               self._bind("ecua", acct, region, p, ("Marker", "MaxRecords")),
                               protocol, "InvalidParameterValue")
        return {"UpdateActions": page, "Marker": nxt}

    def _op_elasticache_DescribeEvents(self, p, acct, region, protocol):
        limit = qint(p, "MaxRecords", 20, 100, protocol)
        now = datetime.datetime.fromtimestamp(self.clock(), datetime.timezone.utc)
        start, end = qtime(p, "StartTime"), qtime(p, "EndTime")
        dur = qint(p, "Duration", 0, 20160, protocol)
        end = end or now
        if dur is not None:
            start = end - datetime.timedelta(minutes=dur)
        elif start is None:
            start = end - datetime.timedelta(hours=1)
        start = max(start, now - datetime.timedelta(days=14))
        sid, stype = p.get("SourceIdentifier"), p.get("SourceType")
        sel = [e for e in self._ec_state(acct, region)["Events"]
               if start <= to_dt(e["Date"]) <= end
               and (sid is None or e.get("SourceIdentifier") == sid)
               and (stype is None or e.get("SourceType") == stype)]
        page, nxt = self._page(sel, p.get("Marker"), limit,
                               self._bind("ecev", acct, region, p, ("Marker", "MaxRecords")),
                               protocol, "InvalidParameterValue")
        return {"Events": page, "Marker": nxt}

    def _health_state(self, acct):
        with self.lock:
            st = self.health.get(acct)
        if st is None:
            st = {"events": [], "entities": [], "subscription": True}
        if not st["subscription"]:
            raise AwsError(400, "SubscriptionRequiredException", "The AWS Premium Support "
                           "Subscription is required to use this service.")
        return st

    @staticmethod
    def _hfilter_times(obj, key, ranges):
        if not ranges:
            return True
        v = obj.get(key)
        if v is None:
            return False
        t = to_dt(v)
        for r in ranges:
            lo = to_dt(r["from"]) if r.get("from") is not None else None
            hi = to_dt(r["to"]) if r.get("to") is not None else None
            if (lo is None or t >= lo) and (hi is None or t <= hi):
                return True
        return False

    @staticmethod
    def _hlimit(p):
        v = p.get("maxResults")
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < 10 or v > 100:
            raise AwsError(400, "ValidationException", "1 validation error detected: Value '%s' "
                           "at 'maxResults' failed to satisfy constraint: Member must have value "
                           "between 10 and 100" % (v,))
        return v

    def _op_health_DescribeEvents(self, p, acct, region, protocol):
        st = self._health_state(acct)
        limit = self._hlimit(p)
        f = p.get("filter") or {}
        simple = {"eventArns": "arn", "eventTypeCodes": "eventTypeCode", "services": "service",
                  "regions": "region", "availabilityZones": "availabilityZone",
                  "eventTypeCategories": "eventTypeCategory", "eventStatusCodes": "statusCode"}
        ent_arns, ent_vals = f.get("entityArns"), f.get("entityValues")
        sel = []
        for e in st["events"]:
            if any(f.get(k) and e.get(field) not in f[k] for k, field in simple.items()):
                continue
            if not all(self._hfilter_times(e, key, f.get(key + "s"))
                       for key in ("startTime", "endTime", "lastUpdatedTime")):
                continue
            if ent_arns or ent_vals:
                ents = [x for x in st["entities"] if x.get("eventArn") == e["arn"]]
                if not any((ent_arns and x.get("entityArn") in ent_arns) or
                           (ent_vals and x.get("entityValue") in ent_vals) for x in ents):
                    continue
            sel.append(e)
        sel.sort(key=lambda e: -epoch(e["lastUpdatedTime"]) if e.get("lastUpdatedTime") else 0)
        bind = ["health-ev", acct, json.dumps(f, sort_keys=True)]
        page, nxt = self._page(sel, p.get("nextToken"), limit, bind, protocol,
                               "InvalidPaginationToken")
        return {"events": page, "nextToken": nxt}

    def _op_health_DescribeAffectedEntities(self, p, acct, region, protocol):
        st = self._health_state(acct)
        limit = self._hlimit(p)
        f = p.get("filter")
        if not isinstance(f, dict) or not f.get("eventArns"):
            raise AwsError(400, "ValidationException", "1 validation error detected: Value null "
                           "at 'filter.eventArns' failed to satisfy constraint: Member must not "
                           "be null")
        if len(f["eventArns"]) > 10:
            raise AwsError(400, "ValidationException", "filter.eventArns: at most 10 ARNs")
        sel = []
        for x in st["entities"]:
            if x.get("eventArn") not in f["eventArns"]:
                continue
            if f.get("entityArns") and x.get("entityArn") not in f["entityArns"]:
                continue
            if f.get("entityValues") and x.get("entityValue") not in f["entityValues"]:
                continue
            if f.get("statusCodes") and x.get("statusCode") not in f["statusCodes"]:
                continue
            if not self._hfilter_times(x, "lastUpdatedTime", f.get("lastUpdatedTimes")):
                continue
            x = dict(x)
            x.setdefault("awsAccountId", acct)
            sel.append(x)
        bind = ["health-ent", acct, json.dumps(f, sort_keys=True)]
        page, nxt = self._page(sel, p.get("nextToken"), limit, bind, protocol,
                               "InvalidPaginationToken")
        return {"entities": page, "nextToken": nxt}

    def _op_sts_AssumeRole(self, p, acct, region, protocol):
        arn, name = p.get("RoleArn"), p.get("RoleSessionName")
        if not arn or not name:
            raise AwsError(400, "ValidationError", "RoleArn and RoleSessionName are required")
        m = re.match(r"^arn:aws:iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$", arn)
        if not m:
            raise AwsError(400, "ValidationError", "%s is invalid" % arn)
        if not re.match(r"^[\w+=,.@-]{2,64}$", name):
            raise AwsError(400, "ValidationError", "1 validation error detected: Value '%s' at "
                           "'roleSessionName' failed to satisfy constraint" % name)
        dur = p.get("DurationSeconds")
        if dur is None:
            dur = self.session_duration
        else:
            try:
                dur = int(dur)
            except ValueError:
                raise AwsError(400, "ValidationError", "DurationSeconds is not an integer")
            if dur < 900:
                raise AwsError(400, "ValidationError", "1 validation error detected: Value '%d' "
                               "at 'durationSeconds' failed to satisfy constraint: Member must "
                               "have value greater than or equal to 900" % dur)
            if dur > self.max_session_duration:
                raise AwsError(400, "ValidationError", "The requested DurationSeconds exceeds "
                               "the MaxSessionDuration set for this role.")
        with self.lock:
            roles = self.roles
        if roles is not None and arn not in roles:
            raise AwsError(403, "AccessDenied", "User: arn:aws:iam::%s:user/caller is not "
                           "authorized to perform: sts:AssumeRole on resource: %s" % (acct, arn))
        akid = "ASIA" + _rand(string.ascii_uppercase + string.digits, 16)
        secret = _rand(string.ascii_letters + string.digits + "+/", 40)
        token = base64.b64encode(("fakeaws-session:%s:%s:%s" % (m.group(1), akid, uuid.uuid4())
                                  ).encode()).decode("ascii") * 3
        expires = int(self.clock()) + dur
        with self.lock:
            self.sessions[akid] = {"secret": secret, "token": token, "account": m.group(1),
                                   "role_arn": arn, "expires": expires}
        role_id = "AROA" + hashlib.sha1(arn.encode()).hexdigest()[:17].upper()
        return {"Credentials": {"AccessKeyId": akid, "SecretAccessKey": secret,
                                "SessionToken": token,
                                "Expiration": datetime.datetime.fromtimestamp(
                                    expires, datetime.timezone.utc)},
                "AssumedRoleUser": {"AssumedRoleId": "%s:%s" % (role_id, name),
                                    "Arn": "arn:aws:sts::%s:assumed-role/%s/%s" %
                                    (m.group(1), m.group(3), name)}}


# ---- realistic state for the benchmark --------------------------------------------------------

ALL_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "eu-central-1",
               "ap-southeast-2", "us-east-2", "ap-south-1"]
ROLE_NAME = "asakai-poller"


def fill_realistic(fake, accounts, regions, pages, seed=1):
    """Each account: Health events; each region: `pages` pages of each list API."""
    rnd = random.Random(seed)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    n = max(1, pages * fake.page_size)
    for a in accounts:
        fake.set_health(a, events=[{
            "arn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/%s-%d"
                   % (a, k), "service": "EC2",
            "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
            "eventTypeCategory": "scheduledChange", "region": regions[k % len(regions)],
            "startTime": now + datetime.timedelta(days=7 + k), "lastUpdatedTime": now,
            "statusCode": "upcoming", "eventScopeCode": "ACCOUNT_SPECIFIC"} for k in range(n)])
        for r in regions:
            insts = []
            for k in range(n):
                iid = "i-%017x" % rnd.getrandbits(68)
                ev = []
                if k % 3 == 0:
                    nb = now + datetime.timedelta(days=rnd.randint(2, 20))
                    ev.append({"InstanceEventId": "instance-event-%017x" % rnd.getrandbits(68),
                               "Code": rnd.choice(["system-reboot", "instance-retirement",
                                                   "system-maintenance", "instance-stop"]),
                               "Description": "The instance is scheduled for maintenance",
                               "NotBefore": nb, "NotAfter": nb + datetime.timedelta(hours=2),
                               "NotBeforeDeadline": nb + datetime.timedelta(days=14)})
                state = {"Code": 16, "Name": "running"} if k % 5 else {"Code": 80,
                                                                        "Name": "stopped"}
                insts.append({"InstanceId": iid, "InstanceState": state, "Events": ev})
            fake.set_ec2(a, r, insts)
            fake.set_rds(a, r, [{
                "ResourceIdentifier": "arn:aws:rds:%s:%s:db:db-%03d" % (r, a, k),
                "PendingMaintenanceActionDetails": [{
                    "Action": "system-update", "Description": "New Operating System update",
                    "AutoAppliedAfterDate": now + datetime.timedelta(days=10),
                    "ForcedApplyDate": now + datetime.timedelta(days=30),
                    "OptInStatus": "next-maintenance"}]} for k in range(n)])
            sus = [{"ServiceUpdateName": "elc-2024%04d-%03d" % (k, k),
                    "ServiceUpdateReleaseDate": now - datetime.timedelta(days=5),
                    "ServiceUpdateSeverity": "important", "ServiceUpdateStatus": "available",
                    "ServiceUpdateRecommendedApplyByDate": now + datetime.timedelta(days=25),
                    "ServiceUpdateType": "security-update", "Engine": "redis",
                    "AutoUpdateAfterRecommendedApplyByDate": False,
                    "EstimatedUpdateTime": "30 minutes per node"} for k in range(n)]
            uas = [{"ReplicationGroupId": "rg-%03d" % k,
                    "ServiceUpdateName": sus[k % len(sus)]["ServiceUpdateName"],
                    "ServiceUpdateReleaseDate": now - datetime.timedelta(days=5),
                    "ServiceUpdateSeverity": "important", "ServiceUpdateStatus": "available",
                    "ServiceUpdateRecommendedApplyByDate": now + datetime.timedelta(days=25),
                    "ServiceUpdateType": "security-update",
                    "UpdateActionAvailableDate": now - datetime.timedelta(days=4),
                    "UpdateActionStatus": "not-applied", "NodesUpdated": "0/3", "SlaMet": "n/a",
                    "Engine": "redis"} for k in range(n)]
            evs = [{"SourceIdentifier": "rg-%03d-001" % k, "SourceType": "cache-cluster",
                    "Message": "Cache node 0001 will be replaced during the maintenance window",
                    "Date": now - datetime.timedelta(minutes=5 + k)} for k in range(n)]
            fake.set_elasticache(a, r, sus, uas, evs)


def main(argv=None):
    ap = argparse.ArgumentParser(description="fake AWS endpoint (benchmark mode)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--regions", type=int, default=4)
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--page-size", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--session-duration", type=int, default=3600)
    args = ap.parse_args(argv)
    if not 1 <= args.regions <= len(ALL_REGIONS):
        ap.error("--regions must be 1..%d" % len(ALL_REGIONS))
    fake = FakeAws(port=args.port, page_size=args.page_size, latency_ms=args.latency_ms,
                   session_duration=args.session_duration)
    accounts = ["%012d" % (100000000000 + i) for i in range(1, args.accounts + 1)]
    regions = ALL_REGIONS[:args.regions]
    fill_realistic(fake, accounts, regions, args.pages)
    fake.roles = {"arn:aws:iam::%s:role/%s" % (a, ROLE_NAME) for a in accounts}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    fake.start()
    print("READY %s" % fake.url)
    print("KEYS %s %s" % (fake.access_key, fake.secret_key))
    print("ACCOUNTS %s" % ",".join(accounts))
    print("REGIONS %s" % ",".join(regions))
    print("ROLE %s" % ROLE_NAME)
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    fake.stop()
    log = fake.log()
    sys.stderr.write("fakeaws: %d requests, %d errors\n" %
                     (len(log), sum(1 for e in log if e["status"] != 200)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
