#!/usr/bin/python3
"""POST /intake/sns: genuine SV1/SV2 deliveries, duplicates, every way to be refused, and the
subscription control messages."""
import json
import socket
import time

import aklib
from aklib import (CERT_HEX, CERT_HEX_BIG, CERT_HEX_EVIL, CERT_HEX_REDIRECT, CertServer, Signer,
                   Stack, check, check_eq)


def _archive(d):
    return d.raws()


def _assert_accepted(r, what):
    check(r.status == 200, "%s: want 200, got %r" % (what, r))
    j = r.json()
    check(j.get("result") == "accepted" and isinstance(j.get("raw_id"), int) and j["raw_id"] > 0,
          "%s: want {result: accepted, raw_id: N}, got %r" % (what, j))
    return j["raw_id"]


def _assert_refused(d, r, status, what):
    ok = r.status in status if isinstance(status, tuple) else r.status == status
    check(ok, "%s: want HTTP %s, got %r" % (what, status, r))
    if r.status == 403:
        ctype = r.headers.get("Content-Type", "")
        check(ctype.startswith("text/plain"), "%s: 403 Content-Type %r, want text/plain" %
              (what, ctype))
        body = r.text
        check(body.startswith("forbidden: ") and body.rstrip("\n").count("\n") == 0,
              "%s: 403 body must be one line 'forbidden: <reason>', got %r" % (what, body))
    rows = _archive(d)
    check(rows == [], "%s: nothing may be archived, but /api/v1/raw has %r" % (what, rows))


# ---- genuine deliveries -----------------------------------------------------------------------

def _accept_and_retry(sv):
    with Stack() as s:
        env = s.signer.notification({"probe": "sv" + sv, "n": 1}, subject="Probe SV" + sv, sv=sv)
        body = json.dumps(env, indent=2)
        raw_id = _assert_accepted(s.d.post_sns(body), "SV%s notification" % sv)
        rows = _archive(s.d)
        check_eq(len(rows), 1, "archive rows after one delivery")
        check_eq(rows[0]["dedupe_id"], "sns:" + env["MessageId"], "dedupe_id")
        check_eq(rows[0]["channel"], "sns", "channel")
        got = s.d.raw(raw_id)
        check(got.get("body") == body, "archived body is not the verbatim request body:\n%r\n%r"
              % (got.get("body"), body))
        # SNS retries reuse the MessageId
        r = s.d.post_sns(body)
        check(r.status == 200, "retry: want 200, got %r" % r)
        check_eq(r.json(), {"result": "duplicate", "raw_id": raw_id}, "retry answer")
        check_eq(len(_archive(s.d)), 1, "archive rows after the retry")
        check_eq(s.cs.hit_count("/SimpleNotificationService-"), 1,
                 "certificate fetches (the cert must be cached)")
        m = s.d.metrics()
        check_eq(aklib.metric_value(m, "asakai_intake_messages_total", source="sns",
                                    result="accepted"), 1.0, "accepted counter")
        check_eq(aklib.metric_value(m, "asakai_intake_messages_total", source="sns",
                                    result="duplicate"), 1.0, "duplicate counter")


def test_sv1_notification_accepted_then_duplicate():
    _accept_and_retry("1")


def test_sv2_notification_accepted_then_duplicate():
    _accept_and_retry("2")


def test_message_with_escapes_and_unicode_verifies():
    """The signature covers the JSON-unescaped Message (pitfall 2.8.1)."""
    with Stack() as s:
        msg = 'line1\nline2\t"quoted" \\ back \u00e9\u6771\u4eac \U0001F600 </script>'
        env = s.signer.notification(msg, subject="S\u00fcbject \"q\"", sv="2")
        _assert_accepted(s.d.post_sns(json.dumps(env)), "escaped message (ensure_ascii)")
        env = s.signer.notification(msg, sv="1")
        _assert_accepted(s.d.post_sns(json.dumps(env, ensure_ascii=False)),
                         "escaped message (raw UTF-8)")


def test_unknown_json_message_kept_unparsed():
    with Stack() as s:
        env = s.signer.notification({"SomeNewService:Thing": "x", "detail": {"a": [1, 2]}})
        raw_id = _assert_accepted(s.d.post_sns(json.dumps(env)), "unknown JSON message")
        row = s.d.wait_normalised(raw_id)
        check_eq(row["state"], "unparsed", "state of an unknown message")
        check(row.get("body") == json.dumps(env), "unparsed message body not kept verbatim")
        check_eq(s.d.records(), [], "records from an unknown message")


# ---- refusals: each case sends one request and returns (response, expected status) --------

def _envelope(s, **kw):
    return s.signer.notification({"probe": "refusal"}, **kw)


def case_tampered_message(s):
    env = _envelope(s)
    env["Message"] = json.dumps({"probe": "tampered"})
    return s.d.post_sns(env), 403


def case_tampered_subject(s):
    env = _envelope(s, subject="original")
    env["Subject"] = "changed"
    return s.d.post_sns(env), 403


def case_forged_signature_evil_key(s):
    """Signed with the evil key, pointing at the genuine certificate."""
    env = Signer(s.cs.url(), key_file="evil-signing.key").notification({"probe": "forged"})
    return s.d.post_sns(env), 403


def case_evil_cert_chain(s):
    """A self-consistent message signed by a cert from an untrusted CA (URL passes the pattern)."""
    env = Signer(s.cs.url(CERT_HEX_EVIL), key_file="evil-signing.key").notification({"p": 1})
    return s.d.post_sns(env), 403


def case_sv1_signature_claimed_as_sv2(s):
    env = _envelope(s, sv="1")
    env["SignatureVersion"] = "2"
    return s.d.post_sns(env), 403


def case_unknown_signature_version(s):
    env = _envelope(s, sv="2")
    env["SignatureVersion"] = "3"
    return s.d.post_sns(env), 403


def case_topic_not_allowed(s):
    env = _envelope(s, topic="arn:aws:sns:ap-northeast-1:999999999999:maintenance")
    return s.d.post_sns(env), 403


def case_topic_other_region_not_allowed(s):
    env = _envelope(s, topic="arn:aws:sns:us-east-1:123456789012:maintenance")
    return s.d.post_sns(env), 403


def case_cert_url_http(s):
    url = "http://127.0.0.1:%d/SimpleNotificationService-%s.pem" % (s.cs.port, CERT_HEX)
    return s.d.post_sns(_envelope(s, cert_url=url)), 403


def case_cert_url_redirect(s):
    return s.d.post_sns(_envelope(s, cert_url=s.cs.url(CERT_HEX_REDIRECT))), 403


def case_cert_oversize(s):
    return s.d.post_sns(_envelope(s, cert_url=s.cs.url(CERT_HEX_BIG))), 403


def case_cert_url_path_not_pem(s):
    url = "https://127.0.0.1:%d/confirm?x=SimpleNotificationService-%s.pem" % (s.cs.port,
                                                                                CERT_HEX)
    return s.d.post_sns(_envelope(s, cert_url=url)), 403


def case_invalid_json(s):
    return s.d.post_sns('{"Type": "Notification", "MessageId": '), 400


def case_json_not_sns(s):
    return s.d.post_sns(json.dumps({"hello": "world", "list": [1, 2, 3]})), 400


def case_json_array(s):
    return s.d.post_sns(json.dumps([_envelope(s)])), 400


def case_missing_signature(s):
    env = _envelope(s)
    del env["Signature"]
    return s.d.post_sns(env), 400


def case_bad_base64_signature(s):
    env = _envelope(s)
    env["Signature"] = "!!!not base64!!!"
    return s.d.post_sns(env), 403


def case_tampered_after_nul(s):
    """A NUL must not end the signed text early: "genuine\\u0000extra" is not "genuine"."""
    env = _envelope(s)
    body = json.dumps(env)
    signed = json.dumps(env["Message"])
    check(signed in body, "envelope layout")
    forged = body.replace(signed, signed[:-1] + '\\u0000{\\"evil\\":1}"')
    return s.d.post_sns(forged), (400, 403)


def case_duplicate_message_key(s):
    """Two "Message" members: the signed one first, another after it."""
    env = _envelope(s)
    body = json.dumps(env)
    check(body.endswith("}"), "envelope layout")
    body = body[:-1] + ', "Message": "{\\"injected\\": true}"}'
    return s.d.post_sns(body), (400, 403)


REFUSALS = [
    case_tampered_message, case_tampered_subject, case_forged_signature_evil_key,
    case_evil_cert_chain, case_sv1_signature_claimed_as_sv2, case_unknown_signature_version,
    case_topic_not_allowed, case_topic_other_region_not_allowed, case_cert_url_http,
    case_cert_url_redirect, case_cert_oversize, case_cert_url_path_not_pem, case_invalid_json,
    case_json_not_sns, case_json_array, case_missing_signature, case_bad_base64_signature,
    case_tampered_after_nul, case_duplicate_message_key,
]


def _one_refusal(case):
    with Stack() as s:
        r, want = case(s)
        _assert_refused(s.d, r, want, case.__name__)
        check_eq(s.d.metric("asakai_intake_messages_total", source="sns", result="rejected"), 1.0,
                 "%s: rejected counter" % case.__name__)
        check_eq(s.d.metric("asakai_intake_messages_total", source="sns", result="accepted"), 0.0,
                 "%s: accepted counter" % case.__name__)
        # a genuine message still goes through afterwards
        _assert_accepted(s.d.post_sns(s.signer.notification({"after": case.__name__})),
                         "genuine message after %s" % case.__name__)
        return s


def test_refuse_tampered_message():
    _one_refusal(case_tampered_message)


def test_refuse_tampered_subject():
    _one_refusal(case_tampered_subject)


def test_refuse_forged_signature_evil_key():
    _one_refusal(case_forged_signature_evil_key)


def test_refuse_cert_from_untrusted_ca():
    _one_refusal(case_evil_cert_chain)


def test_refuse_sv1_signature_claimed_as_sv2():
    _one_refusal(case_sv1_signature_claimed_as_sv2)


def test_refuse_unknown_signature_version_not_fetched():
    s = _one_refusal(case_unknown_signature_version)
    check_eq(s.cs.hits, ["/SimpleNotificationService-%s.pem" % CERT_HEX],
             "cert server requests (only for the genuine message sent afterwards)")


def test_refuse_topic_not_allowed_not_fetched():
    s = _one_refusal(case_topic_not_allowed)
    check_eq(len(s.cs.hits), 1, "cert server requests (only the genuine message's)")


def test_refuse_topic_other_region():
    _one_refusal(case_topic_other_region_not_allowed)


def test_refuse_cert_url_other_port_not_fetched():
    """The URL points at a live HTTPS server with a valid cert: it must not even be asked."""
    with CertServer() as decoy, Stack() as s:
        r = s.d.post_sns(_envelope(s, cert_url=decoy.url()))
        _assert_refused(s.d, r, 403, "cert URL on another port")
        check_eq(decoy.hits, [], "requests the decoy server received")
        check_eq(s.cs.hits, [], "requests the cert server received")


def test_refuse_cert_url_other_host_not_fetched():
    with Stack() as s:
        url = "https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-%s.pem" % CERT_HEX
        r = s.d.post_sns(_envelope(s, cert_url=url))
        _assert_refused(s.d, r, 403, "cert URL on the real SNS host (not allowed by pattern)")
        url = "https://127.0.0.1.evil.example:%d/SimpleNotificationService-%s.pem" % (s.cs.port,
                                                                                      CERT_HEX)
        r = s.d.post_sns(_envelope(s, cert_url=url))
        _assert_refused(s.d, r, 403, "cert URL on a look-alike host")
        check_eq(s.cs.hits, [], "requests the cert server received")


def test_refuse_cert_url_http_not_fetched():
    s = _one_refusal(case_cert_url_http)
    check_eq(len(s.cs.hits), 1, "cert server requests (only the genuine message's)")


def test_refuse_cert_url_redirect():
    s = _one_refusal(case_cert_url_redirect)
    check_eq(s.cs.hit_count("/SimpleNotificationService-%s" % CERT_HEX_REDIRECT), 1,
             "requests for the redirecting URL")
    # the redirect target is fetched once, for the genuine message only: not followed
    check_eq(s.cs.hit_count("/SimpleNotificationService-%s" % CERT_HEX), 1,
             "requests for the redirect target")


def test_refuse_cert_oversize():
    _one_refusal(case_cert_oversize)


def test_refuse_invalid_json():
    _one_refusal(case_invalid_json)


def test_refuse_json_not_sns():
    _one_refusal(case_json_not_sns)


def test_refuse_missing_signature_field():
    _one_refusal(case_missing_signature)


def test_refuse_bad_base64_signature():
    _one_refusal(case_bad_base64_signature)


def _raw_exchange(port, data, read_timeout=10.0):
    """Sends bytes on a fresh connection (ignoring a reset mid-send) and returns the response."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return out
    finally:
        s.close()


def test_refuse_tampered_after_nul():
    _one_refusal(case_tampered_after_nul)


def test_refuse_duplicate_message_key():
    _one_refusal(case_duplicate_message_key)


def test_max_body_bytes_boundary():
    """A body of exactly server.max_body_bytes is accepted; one byte more is 413."""
    with Stack(max_body="8KiB") as s:
        limit = 8 * 1024
        env = s.signer.notification("")
        base = len(json.dumps(env).encode())
        env = s.signer.notification("x" * (limit - base))
        body = json.dumps(env).encode()
        check_eq(len(body), limit, "test body size")
        r = s.d.post_sns(body)
        check(r.status == 200, "a body of exactly max_body_bytes: want 200, got %r" % r)
        env = s.signer.notification("y" * (limit - base + 1))
        body = json.dumps(env).encode()
        check_eq(len(body), limit + 1, "test body size")
        check_eq(s.d.post_sns(body).status, 413, "a body one byte over max_body_bytes")
        check_eq(len(_archive(s.d)), 1, "archive rows")


def test_refuse_body_over_max_body_bytes():
    with Stack(max_body="64KiB") as s:
        big = s.signer.notification("x" * (80 * 1024))
        r = s.d.post_sns(big)
        check_eq(r.status, 413, "status for a body over server.max_body_bytes (%r)" % r)
        # the same without Content-Length up front: chunked upload
        body = json.dumps(big).encode()
        req = (b"POST /intake/sns HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for i in range(0, len(body), 8192):
            part = body[i:i + 8192]
            req += b"%x\r\n" % len(part) + part + b"\r\n"
        req += b"0\r\n\r\n"
        resp = _raw_exchange(s.d.port, req)
        check(resp.startswith(b"HTTP/1.1 413"), "chunked oversize body: want 413, got %.200r"
              % resp)
        check_eq(_archive(s.d), [], "archive after oversize bodies")
        _assert_accepted(s.d.post_sns(s.signer.notification({"small": True})), "small message")


def test_truncated_request_nothing_stored():
    with Stack() as s:
        body = json.dumps(s.signer.notification({"probe": "truncated", "pad": "p" * 2000})).encode()
        check(len(body) > 1000, "test envelope too short")
        head = (b"POST /intake/sns HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 1000\r\n\r\n")
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", s.d.port), timeout=5)
            c.sendall(head + body[:100])
            c.shutdown(socket.SHUT_RDWR)
            c.close()
        time.sleep(0.5)
        check(s.d.running(), "daemon died after truncated requests:\n" + s.d.log_tail())
        check_eq(s.d.get("/readyz").status, 200, "/readyz after truncated requests")
        check_eq(_archive(s.d), [], "archive after truncated requests")
        _assert_accepted(s.d.post_sns(s.signer.notification({"after": "truncated"})),
                         "genuine message after truncated requests")
        check_eq(len(_archive(s.d)), 1, "archive rows")


# ---- subscription control messages ------------------------------------------------------------

def test_subscription_confirmation_other_host_refused_not_fetched():
    with CertServer() as decoy, Stack() as s:
        env = s.signer.confirmation("SubscriptionConfirmation", decoy.subscribe_url("tok1"))
        r = s.d.post_sns(env)
        _assert_refused(s.d, r, 403, "SubscribeURL on another port")
        time.sleep(0.3)
        check_eq(decoy.hits, [], "requests to the foreign SubscribeURL's server")
        check_eq(s.cs.hit_count("/confirm"), 0, "requests to the fake SubscribeURL")
        env = s.signer.confirmation(
            "SubscriptionConfirmation",
            "https://sns.ap-northeast-1.amazonaws.com/?Action=ConfirmSubscription&Token=x")
        _assert_refused(s.d, s.d.post_sns(env), 403, "SubscribeURL on the real SNS host")
        check_eq(s.d.metric("asakai_intake_messages_total", source="sns", result="rejected"), 2.0,
                 "rejected counter")


def test_subscription_confirmation_forged_not_visited():
    """SubscribeURL matches the pattern, but the message is not genuine: no visit."""
    with Stack() as s:
        evil = Signer(s.cs.url(), key_file="evil-signing.key")
        env = evil.confirmation("SubscriptionConfirmation", s.cs.subscribe_url("forged"))
        _assert_refused(s.d, s.d.post_sns(env), 403, "forged SubscriptionConfirmation")
        env = s.signer.confirmation("SubscriptionConfirmation", s.cs.subscribe_url("t"))
        env["SubscribeURL"] = s.cs.subscribe_url("t2")
        _assert_refused(s.d, s.d.post_sns(env), 403, "SubscribeURL changed after signing")
        env = s.signer.confirmation("SubscriptionConfirmation", s.cs.subscribe_url("t3"),
                                    topic="arn:aws:sns:ap-northeast-1:999999999999:other")
        _assert_refused(s.d, s.d.post_sns(env), 403, "confirmation from a topic not allowed")
        time.sleep(0.3)
        check_eq(s.cs.hit_count("/confirm"), 0, "SubscribeURL visits")


def test_subscription_confirmation_auto_confirm_off():
    with Stack(extra_sns={"auto_confirm": "false"}) as s:
        env = s.signer.confirmation("SubscriptionConfirmation", s.cs.subscribe_url("off"))
        raw_id = _assert_accepted(s.d.post_sns(env), "confirmation with auto_confirm off")
        check_eq(s.d.wait_normalised(raw_id)["state"], "control", "archive state")
        time.sleep(0.3)
        check_eq(s.cs.hit_count("/confirm"), 0, "SubscribeURL visits with auto_confirm off")


def _confirmation_ok(typ, sv, then):
    with Stack() as s:
        token = "tok-" + typ
        env = s.signer.confirmation(typ, s.cs.subscribe_url(token), token=token, sv=sv)
        raw_id = _assert_accepted(s.d.post_sns(env), typ)
        row = s.d.wait_normalised(raw_id)
        check_eq(row["state"], "control", "%s archive state" % typ)
        check(row.get("body") == json.dumps(env, indent=2), "%s body not verbatim" % typ)
        time.sleep(0.5)  # a visit after the answer would still be counted
        r = s.d.post_sns(env)
        check_eq(r.json().get("result"), "duplicate", "%s sent again" % typ)
        time.sleep(0.3)
        then(s, token)


def _check_visited_once(s, token):
    hits = [h for h in s.cs.hits if h.startswith("/confirm")]
    check_eq(len(hits), 1, "SubscribeURL visits (a duplicate must not re-confirm): %r" % hits)
    check("Token=" + token in hits[0], "visited URL %r is not the SubscribeURL" % hits[0])


def test_subscription_confirmation_visits_subscribe_url_once():
    _confirmation_ok("SubscriptionConfirmation", "1", _check_visited_once)


def _check_not_visited(s, token):
    check_eq(s.cs.hit_count("/confirm"), 0, "SubscribeURL visits for an UnsubscribeConfirmation")
    check_eq(s.d.records(), [], "records from a control message")


def test_unsubscribe_confirmation_archived_not_visited():
    _confirmation_ok("UnsubscribeConfirmation", "2", _check_not_visited)


# ---- all refusals against one daemon: counters and archive ------------------------------------

def test_refusals_counted_and_never_archived():
    with Stack() as s:
        sent = 0
        for case in REFUSALS:
            r, want = case(s)
            want = want if isinstance(want, tuple) else (want,)
            check(r.status in want, "%s: want %s, got %r" % (case.__name__, want, r))
            sent += 1
        env = s.signer.confirmation("SubscriptionConfirmation",
                                    "https://127.0.0.1:1/confirm?Action=ConfirmSubscription")
        check_eq(s.d.post_sns(env).status, 403, "SubscribeURL on another port")
        sent += 1
        m = s.d.metrics()
        check_eq(aklib.metric_value(m, "asakai_intake_messages_total", source="sns",
                                    result="rejected"), float(sent),
                 "asakai_intake_messages_total{source=sns,result=rejected} after %d refusals"
                 % sent)
        check_eq(aklib.metric_value(m, "asakai_intake_messages_total", source="sns",
                                    result="accepted"), 0.0, "accepted counter")
        check_eq(_archive(s.d), [], "archive after refusals")
        stats = s.d.get_json("/api/v1/stats")
        check_eq(stats.get("archive", {}).get("total"), 0, "stats archive total")
