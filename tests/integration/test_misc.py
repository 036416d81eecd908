#!/usr/bin/python3
"""Transient certificate failures, keep-alive, metrics exposition, API token, health routes."""
import http.client
import json
import re
import time

import aklib
from aklib import CERT_HEX_503, CERT_HEX_SLOW, Signer, Stack, check, check_eq, run_cli


def _transient(s, url, what):
    env = Signer(url).notification({"probe": what})
    t0 = time.monotonic()
    r = s.d.post_sns(env)
    dt = time.monotonic() - t0
    check(r.status == 503, "%s: a certificate that cannot be fetched now must give 503 (SNS "
          "retries 5xx, not 4xx); got %r" % (what, r))
    check_eq(s.d.raws(), [], "%s: archive" % what)
    check_eq(s.d.metric("asakai_intake_messages_total", source="sns", result="rejected"), 0.0,
             "%s: a transient failure is not a rejection" % what)
    return env, dt


def test_cert_server_down_gives_503():
    with Stack() as s:
        url = s.cs.url()
        s.cs.close()
        _transient(s, url, "cert server down")


def test_cert_fetch_timeout_gives_503():
    with Stack(fetch_timeout="1s") as s:
        _, dt = _transient(s, s.cs.url(CERT_HEX_SLOW), "cert fetch timeout")
        check(dt < 3.5, "the fetch must give up after intake.sns.fetch_timeout (took %.1fs)" % dt)


def test_cert_server_5xx_gives_503():
    with Stack() as s:
        env, _ = _transient(s, s.cs.url(CERT_HEX_503), "cert server answers 503")


def test_cert_failure_not_cached():
    """After a transient failure the next delivery fetches again and is accepted."""
    with Stack(fetch_timeout="1s") as s:
        env = Signer(s.cs.url(CERT_HEX_SLOW)).notification({"probe": "slow"})
        check_eq(s.d.post_sns(env).status, 503, "first delivery (timeout)")
        s.cs.hits.clear()
        env2 = s.signer.notification({"probe": "fine"})
        check_eq(s.d.post_sns(env2).status, 200, "delivery with a reachable cert")
        check_eq(len(s.cs.hits), 1, "fetches")


def test_keep_alive_connection_several_deliveries():
    with Stack() as s:
        c = http.client.HTTPConnection("127.0.0.1", s.d.port, timeout=10)
        try:
            ids = []
            for i in range(5):
                env = s.signer.notification({"probe": "keepalive", "i": i})
                c.request("POST", "/intake/sns", body=json.dumps(env),
                          headers={"Content-Type": "text/plain; charset=UTF-8",
                                   "Connection": "keep-alive"})
                r = c.getresponse()
                body = r.read()
                check(r.status == 200, "delivery %d on a kept-alive connection: %d %r" %
                      (i, r.status, body))
                ids.append(json.loads(body)["raw_id"])
            check_eq(len(set(ids)), 5, "distinct raw ids")
        finally:
            c.close()
        check_eq(len(s.d.raws()), 5, "archive rows")


def test_metrics_exposition():
    with Stack() as s:
        s.d.post_sns(s.signer.notification({"probe": "metrics"}))
        s.d.post_sns("not json")
        s.d.get("/api/v1/maintenance")
        r = s.d.get("/metrics")
        check_eq(r.status, 200, "/metrics status")
        check(r.headers.get("Content-Type", "").startswith("text/plain"),
              "/metrics Content-Type %r" % r.headers.get("Content-Type"))
        sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|'
                            r'\\.)*",?)*\})? -?[0-9.eE+-]+|NaN|[+-]Inf$')
        for line in r.text.splitlines():
            if line.startswith("# HELP ") or line.startswith("# TYPE ") or not line:
                continue
            check(sample.match(line), "not a Prometheus text line: %r" % line)
        m = aklib.parse_metrics(r.text)
        names = {k[0] for k in m}
        for want in ("asakai_intake_messages_total", "asakai_http_requests_total"):
            check(want in names, "%s missing from /metrics" % want)
        check(any(n.startswith("asakai_store_op_seconds") for n in names),
              "asakai_store_op_seconds missing from /metrics: %s" % sorted(names))
        check_eq(aklib.metric_value(m, "asakai_intake_messages_total", source="sns",
                                    result="accepted"), 1.0, "accepted")
        check_eq(aklib.metric_value(m, "asakai_intake_messages_total", source="sns",
                                    result="rejected"), 1.0, "rejected")
        types = re.findall(r"^# TYPE (\S+) (\S+)$", r.text, re.M)
        check(("asakai_intake_messages_total", "counter") in types, "TYPE of the intake counter")


def test_api_token_protects_api_not_intake():
    tok = "s3cret-token-xyz"
    with Stack(extra_server={"api_token": tok}) as s:
        check_eq(s.d.get("/api/v1/maintenance").status, 401, "API without token")
        check_eq(s.d.get("/api/v1/maintenance", headers={"Authorization": "Bearer wrong"})
                 .status, 401, "API with a wrong token")
        check_eq(s.d.get("/api/v1/maintenance", headers={"Authorization": "Bearer " + tok})
                 .status, 200, "API with the token")
        check_eq(s.d.post_sns(s.signer.notification({"p": 1})).status, 200,
                 "SNS intake needs no API token")
        check_eq(s.d.get("/readyz").status, 200, "/readyz needs no token")
        check_eq(s.d.get("/healthz").status, 200, "/healthz needs no token")
        r = run_cli(["maint", "list", "-o", "json"], server=s.d.url, token=tok)
        check_eq(r.rc, 0, "CLI with ASAKAI_TOKEN (%r)" % r)
        r = run_cli(["maint", "list", "-o", "json"], server=s.d.url)
        check_eq(r.rc, 1, "CLI without a token (%r)" % r)


def test_unknown_route_and_method():
    with Stack() as s:
        check_eq(s.d.get("/nope").status, 404, "unknown path")
        check(s.d.get("/intake/sns").status in (404, 405), "GET on the SNS intake")
        check_eq(s.d.get("/api/v1/maintenance/abc").status, 400, "non-numeric record id")
        check_eq(s.d.get("/api/v1/maintenance/424242").status, 404, "missing record")
        check_eq(s.d.get("/api/v1/raw/424242").status, 404, "missing archive row")
        check_eq(s.d.get("/api/v1/raw?limit=0").status, 400, "limit 0")
