#!/usr/bin/python3
"""sinks.py — the receivers asakai delivers notifications to, for the integration tests and the
notification bench. Every sink listens on 127.0.0.1 only, is bounded (a request budget, hangs cut
short on close) and records what it received with the arrival time.

  SmtpSink     a real SMTP server (aiosmtpd): stores every message (envelope, bytes, parsed
               headers); mode "ok" | "451" (temporary) | "550" (permanent); stop() / start()
               again on the same port to play "down for a while"
  SlackMock    Slack's incoming webhook (/services/T000/B000/XXXX) and Web API
               (/api/chat.postMessage): records payloads; scripted answers per request: "ok",
               "invalid_payload", "no_service", ("429", retry_after), "500", ("hang", seconds),
               ("slow", seconds), ("error", "channel_not_found"); checks Block Kit limits
               (answers invalid_payload like Slack does when a message breaks them)
  WebhookSink  asakai's signed webhook receiver (/hook): verifies X-Asakai-Signature
               (t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>) per request

  python3 sinks.py bench-webhook PORT OUTFILE   a plain JSON sink for scripts/bench-notify.sh:
               for every POST it appends "<arrival unix time> <path> <body ids>" to OUTFILE,
               where body ids are the strings matching bench-[0-9]+ in the body (asakai
               records or Alertmanager alerts); stops on SIGTERM.
"""
import email
import email.policy
import hashlib
import hmac
import json
import re
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_REQUESTS = 20000     # request budget of an HTTP mock; beyond it every request gets 503
MAX_MESSAGES = 20000     # message budget of the SMTP sink; beyond it 452
MAX_BODY = 4 << 20       # a request body bigger than this is refused (413) and recorded

SLACK_WEBHOOK_PATH = "/services/T000/B000/XXXX"
SLACK_API_PATH = "/api/chat.postMessage"
SLACK_TOKEN = "xoxb-test"
SLACK_CHANNEL = "C123"


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(0.05)


# ---- SMTP -------------------------------------------------------------------------------------

class SmtpMessage:
    """One accepted message: envelope, verbatim bytes, the parsed email (policy.default)."""

    def __init__(self, mail_from, rcpt_tos, data):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.data = data
        self.msg = email.message_from_bytes(data, policy=email.policy.default)
        self.at = time.time()

    def header(self, name):
        v = self.msg[name]
        return None if v is None else str(v)

    @property
    def subject(self):
        return self.header("Subject") or ""

    @property
    def record(self):
        v = self.header("X-Asakai-Record")
        return v.strip() if v else None

    def parts(self):
        """{content type: text} of the leaf parts."""
        out = {}
        for p in self.msg.walk():
            if p.is_multipart():
                continue
            try:
                out[p.get_content_type()] = p.get_content()
            except (LookupError, ValueError) as e:
                out[p.get_content_type()] = "<undecodable: %s>" % e
        return out

    def __repr__(self):
        return "<mail %r record=%s id=%s>" % (self.subject, self.record,
                                               self.header("Message-ID"))


class _SmtpHandler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode = self.sink.mode
        if mode == "550-rcpt":
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        s = self.sink
        with s.lock:
            s.attempts += 1
            mode = s.mode
            if mode == "451":
                s.refused.append(("451", time.time()))
                return "451 4.3.0 temporary failure, try again later"
            if mode == "550":
                s.refused.append(("550", time.time()))
                return "550 5.7.1 message refused"
            if len(s.messages) >= MAX_MESSAGES:
                return "452 4.3.1 sink budget exhausted"
            s.messages.append(SmtpMessage(envelope.mail_from, envelope.rcpt_tos,
                                          envelope.content))
            tr = getattr(server, "transport", None)
            tls = session.ssl is not None or bool(tr and tr.get_extra_info("ssl_object"))
            s.sessions.append({"tls": tls, "auth": getattr(session, "authenticated", False)})
        return "250 OK queued"


class SmtpSink:
    """aiosmtpd on 127.0.0.1:port; a context manager (stop on exit)."""

    def __init__(self, port=None, tls=None, auth=None):
        """tls: None (plain), "starttls" (STARTTLS offered and required), "smtps" (implicit TLS,
        as on port 465), both with the test PKI's 127.0.0.1 certificate; auth: (user, password)
        required (over TLS only)."""
        from aiosmtpd.controller import Controller  # Debian's python3-aiosmtpd
        self._Controller = Controller
        self.tls = tls
        self.auth = auth
        self.sessions = []
        self.port = port or _free_port()
        self.lock = threading.Lock()
        self.messages = []
        self.refused = []
        self.attempts = 0
        self.mode = "ok"
        self.ctl = None

    def start(self):
        if self.ctl is not None:
            return self
        # the port may linger for a moment after stop(): retry binding briefly
        end = time.monotonic() + 10
        while True:
            ctl = self._Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.port,
                                   ready_timeout=5.0, **self._tls_kwargs())
            try:
                ctl.start()
                self.ctl = ctl
                return self
            except (OSError, RuntimeError):
                try:
                    ctl.stop()
                except (AssertionError, RuntimeError, OSError):
                    pass
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)

    def _tls_kwargs(self):
        kw = {}
        if self.tls:
            import ssl
            pki = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "pki")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(pki, "tls-server.pem"),
                                os.path.join(pki, "tls-server.key"))
            if self.tls == "starttls":
                kw.update(tls_context=ctx, require_starttls=True)
            else:
                kw.update(ssl_context=ctx, server_hostname="127.0.0.1")
        if self.auth:
            from aiosmtpd.smtp import AuthResult
            want = self.auth

            def check(server, session, envelope, mechanism, data):
                ok = (data.login.decode() if isinstance(data.login, bytes) else data.login,
                      data.password.decode() if isinstance(data.password, bytes)
                      else data.password) == want
                return AuthResult(success=ok)
            kw.update(authenticator=check, auth_required=True, auth_require_tls=True)
        return kw

    def stop(self):
        if self.ctl is not None:
            try:
                self.ctl.stop()
            finally:
                self.ctl = None

    close = stop

    def url(self):
        return "%s://127.0.0.1:%d" % ("smtps" if self.tls == "smtps" else "smtp", self.port)

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def for_record(self, rec_id):
        return [m for m in self.snapshot() if m.record == str(rec_id)]

    def wait_count(self, n, timeout=20.0, pred=None, what=None):
        """Waits until at least n messages (matching pred) arrived; returns them."""
        def enough():
            got = [m for m in self.snapshot() if pred is None or pred(m)]
            return got if len(got) >= n else None
        return _wait(enough, timeout, what or "%d message(s) at the SMTP sink" % n)

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()
        return False


# ---- HTTP mocks -------------------------------------------------------------------------------

class HttpRecord:
    def __init__(self, method, path, headers, body, answer):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.at = time.time()
        self.answer = answer          # what the mock answered: "ok", "429", ...
        self.sig_ok = None            # WebhookSink: signature verdict
        self.sig_error = None
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%s %s answer=%s %.120r>" % (self.method, self.path, self.answer, self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # a client that hung up (asakai timing out, a kill -9) is part of the tests: no traceback
        pass


class HttpMock:
    """A ThreadingHTTPServer on 127.0.0.1 with per-request scripted answers. Subclasses implement
    answer(rec, action) -> (status, headers dict, body bytes)."""

    def __init__(self, port=None):
        self.port = port or _free_port()
        self.lock = threading.Lock()
        self.requests = []
        self.script = []          # actions consumed one per request, then self.default
        self.default = "ok"
        self.closing = threading.Event()
        self.n = 0
        self.srv = None
        self.thread = None

    def start(self):
        mock = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall on keep-alive

            def log_message(self, *a):
                pass

            def do_POST(self):
                mock._serve(self)

            def do_GET(self):
                mock._serve(self)

        self.srv = _Server(("127.0.0.1", self.port), H)
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()
        return self

    def close(self):
        self.closing.set()
        if self.srv is not None:
            self.srv.shutdown()
            self.srv.server_close()
            self.srv = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.close()
        return False

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def push(self, *actions):
        with self.lock:
            self.script.extend(actions)

    def _next_action(self):
        with self.lock:
            self.n += 1
            if self.n > MAX_REQUESTS:
                return "budget"
            return self.script.pop(0) if self.script else self.default

    def _serve(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            body = b""
            action = "too-big"
        else:
            body = h.rfile.read(n) if n > 0 else b""
            action = self._next_action()
        rec = HttpRecord(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body,
                         action if isinstance(action, str) else action[0])
        if action == "budget":
            status, hdrs, out = 503, {}, b"sink budget exhausted"
        elif action == "too-big":
            status, hdrs, out = 413, {}, b"too big"
        elif isinstance(action, tuple) and action[0] == "hang":
            # recorded on arrival; held open (bounded by close()), then the connection dropped
            rec.answer = "hang"
            with self.lock:
                self.requests.append(rec)
            self.closing.wait(action[1])
            h.close_connection = True
            return
        else:
            if isinstance(action, tuple) and action[0] == "slow":
                # answer normally, but only after a while (bounded by close())
                self.closing.wait(action[1])
                action = "ok"
                rec.answer = "ok"
            status, hdrs, out = self.answer(rec, action)
        with self.lock:
            self.requests.append(rec)
        try:
            h.send_response(status)
            for k, v in hdrs.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(out)))
            h.end_headers()
            h.wfile.write(out)
        except OSError:
            pass

    def answer(self, rec, action):
        return 200, {"Content-Type": "text/plain"}, b"ok"

    def snapshot(self, path=None, answer=None):
        with self.lock:
            return [r for r in self.requests if (path is None or r.path == path) and
                    (answer is None or r.answer == answer)]

    def wait_count(self, n, timeout=20.0, pred=None, what=None):
        def enough():
            got = [r for r in self.snapshot() if pred is None or pred(r)]
            return got if len(got) >= n else None
        return _wait(enough, timeout, what or "%d request(s) at %s" % (n, self.url()))


def slack_limits_problem(payload):
    """Why Slack would refuse this message payload (None when it is within the limits)."""
    if not isinstance(payload, dict):
        return "payload is not a JSON object"
    text = payload.get("text")
    blocks = payload.get("blocks")
    if not text and not blocks:
        return "neither text nor blocks"
    if text is not None and (not isinstance(text, str) or len(text) > 40000):
        return "text longer than 40000"
    if blocks is not None:
        if not isinstance(blocks, list):
            return "blocks is not a list"
        if len(blocks) > 50:
            return "%d blocks > 50" % len(blocks)
        for i, b in enumerate(blocks):
            if not isinstance(b, dict) or "type" not in b:
                return "block %d has no type" % i
            t = b.get("text")
            if isinstance(t, dict) and len(t.get("text", "")) > 3000:
                return "block %d text %d chars > 3000" % (i, len(t["text"]))
            for j, f in enumerate(b.get("fields") or []):
                if len(f.get("text", "")) > 2000:
                    return "block %d field %d > 2000 chars" % (i, j)
                if j >= 10:
                    return "block %d has more than 10 fields" % i
            if b["type"] == "header" and isinstance(t, dict) and len(t.get("text", "")) > 150:
                return "header block %d text > 150 chars" % i
    return None


class SlackMock(HttpMock):
    """Slack's incoming webhook and chat.postMessage."""

    def __init__(self, port=None):
        super().__init__(port)
        self.ts_seq = 100
        self.limit_violations = []

    def webhook_url(self):
        return self.url(SLACK_WEBHOOK_PATH)

    def api_url(self):
        return self.url("/api")

    def webhook_posts(self, answer="ok"):
        return self.snapshot(SLACK_WEBHOOK_PATH, answer)

    def api_posts(self, answer="ok"):
        return self.snapshot(SLACK_API_PATH, answer)

    def answer(self, rec, action):
        api = rec.path == SLACK_API_PATH
        if rec.path not in (SLACK_WEBHOOK_PATH, SLACK_API_PATH) or rec.method != "POST":
            rec.answer = "no_service"
            return 404, {}, b"no_service"
        if isinstance(action, tuple) and action[0] == "429":
            return 429, {"Retry-After": str(action[1])}, (
                b'{"ok":false,"error":"ratelimited"}' if api else b"rate_limited")
        if action == "500":
            return 500, {}, b"internal_error"
        if action == "no_service":
            return 404, {}, b"no_service"
        if action == "invalid_payload":
            return (200, {"Content-Type": "application/json"},
                    b'{"ok":false,"error":"invalid_blocks"}') if api else (400, {},
                                                                          b"invalid_payload")
        if isinstance(action, tuple) and action[0] == "error":
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"ok": False, "error": action[1]}).encode()
        problem = slack_limits_problem(rec.json)
        if problem:
            rec.answer = "invalid_payload"
            with self.lock:
                self.limit_violations.append(problem)
            if api:
                return 200, {"Content-Type": "application/json"}, json.dumps(
                    {"ok": False, "error": "invalid_blocks", "detail": problem}).encode()
            return 400, {}, b"invalid_payload"
        if not api:
            return 200, {"Content-Type": "text/html"}, b"ok"
        if rec.headers.get("authorization") != "Bearer " + SLACK_TOKEN:
            rec.answer = "not_authed"
            return 200, {"Content-Type": "application/json"}, b'{"ok":false,"error":"not_authed"}'
        if rec.json.get("channel") != SLACK_CHANNEL:
            rec.answer = "channel_not_found"
            return 200, {"Content-Type": "application/json"}, \
                b'{"ok":false,"error":"channel_not_found"}'
        with self.lock:
            self.ts_seq += 1
            ts = "1700000000.%06d" % self.ts_seq
        rec.ts = ts
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"ok": True, "channel": SLACK_CHANNEL, "ts": ts,
             "message": {"text": rec.json.get("text", ""), "ts": ts}}).encode()


def verify_signature(secret, header, body, now=None, tolerance=300):
    """(ok, reason) for an X-Asakai-Signature header over body."""
    if not header:
        return False, "no X-Asakai-Signature header"
    fields = {}
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        fields.setdefault(k, []).append(v)
    if "t" not in fields or "v1" not in fields:
        return False, "header %r lacks t= or v1=" % header
    t = fields["t"][0]
    if not t.isdigit():
        return False, "t=%r is not a unix time" % t
    now = time.time() if now is None else now
    if abs(now - int(t)) > tolerance:
        return False, "t=%s is %ds away from now" % (t, now - int(t))
    want = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(want, v) for v in fields["v1"]):
        return False, "v1 does not match HMAC-SHA256(secret, t.body)"
    return True, None


class WebhookSink(HttpMock):
    """asakai's webhook receiver: POST /hook, signature checked with secret."""

    PATH = "/hook"

    def __init__(self, secret="s3cret", port=None):
        super().__init__(port)
        self.secret = secret

    def hook_url(self):
        return self.url(self.PATH)

    def answer(self, rec, action):
        rec.sig_ok, rec.sig_error = verify_signature(
            self.secret, rec.headers.get("x-asakai-signature"), rec.body)
        if action == "500":
            return 500, {}, b"error"
        if isinstance(action, tuple) and action[0] == "429":
            return 429, {"Retry-After": str(action[1])}, b"slow down"
        return 200, {"Content-Type": "application/json"}, b'{"ok":true}'

    def delivered(self):
        return self.snapshot(self.PATH, "ok")


# ---- the bench sink ---------------------------------------------------------------------------

def bench_webhook(port, outfile):
    import signal
    ids = re.compile(rb"bench-[0-9]+")
    lock = threading.Lock()
    out = open(outfile, "a", buffering=1)
    count = [0]

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall on keep-alive

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""
            t = time.time()
            found = sorted(set(m.decode() for m in ids.findall(body)))
            with lock:
                count[0] += 1
                if count[0] <= 10 * MAX_REQUESTS:
                    out.write("%.6f %s %s\n" % (t, self.path.split("?")[0] or "/",
                                                  " ".join(found) or "-"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    srv = _Server(("127.0.0.1", int(port)), H)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever(poll_interval=0.1)
    out.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "bench-webhook":
        bench_webhook(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
