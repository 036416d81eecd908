#!/usr/bin/python3
"""aklib.py — helpers for asakai's integration tests.

  free_port()        a TCP port on 127.0.0.1 that was free a moment ago
  request()          HTTP to 127.0.0.1 only (urllib, no proxy, no redirects, timeouts)
  Daemon             runs `$ASAKAI_BIN serve` on a temp config; waits for /readyz; stop() = SIGTERM
                     and exit 0 required; kill9(); restart on the same data dir and port
  CertServer         an HTTPS server on 127.0.0.1 (test PKI) serving SNS signing certificates, a
                     redirect, an oversize body, an untrusted cert, and a fake SubscribeURL
  Signer             builds real SNS envelopes signed SHA1withRSA (SV1) / SHA256withRSA (SV2)
  Stack              CertServer + Daemon + Signer wired together (the usual test setup)
  run_cli()          runs the asakai CLI against a daemon
"""
import base64
import datetime
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PKI = os.path.join(ROOT, "tests", "data", "pki")

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
TOPIC = "arn:aws:sns:%s:%s:maintenance" % (REGION, ACCOUNT)
EB_KEY = "test-eb-key-0123456789"

CERT_HEX = "a1b2c3d4e5f60718293a4b5c6d7e8f90"      # the genuine signing cert
CERT_HEX_EVIL = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"  # a cert chained to the evil CA
CERT_HEX_REDIRECT = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"  # 302 to the genuine one
CERT_HEX_BIG = "b16b16b16b16b16b16b16b16b16b16b1"   # 64 KiB body
CERT_HEX_SLOW = "5105105105105105105105105105105a"  # answers after 4 s
CERT_HEX_503 = "503503503503503503503503503503ab"   # answers HTTP 503

# Every daemon started while a test runs, so the runner can show their logs on failure.
LIVE = []
# Where the current test keeps its files (set by run.py; a fresh temp dir otherwise).
WORKDIR = [None]


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


def workdir():
    if WORKDIR[0] is None:
        WORKDIR[0] = tempfile.mkdtemp(prefix="asakai-integ-")
    return WORKDIR[0]


def asakai_bin():
    b = os.environ.get("ASAKAI_BIN")
    if not b or not os.access(b, os.X_OK):
        raise TestFailure("set ASAKAI_BIN to the built asakai binary (got %r)" % b)
    return b


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    """Polls pred() until it returns a true value (returned) or timeout (TestFailure)."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = pred()
        except (OSError, urllib.error.URLError) as e:
            v, last = None, e
        if v:
            return v
        if time.monotonic() > end:
            raise TestFailure("timed out after %.1fs waiting for %s%s" %
                              (timeout, what, " (last error: %s)" % last if last else ""))
        time.sleep(interval)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc1123(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


# ---- HTTP client ------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise TestFailure("HTTP %d body is not JSON: %.300r" % (self.status, self.body))

    def __repr__(self):
        return "HTTP %d %.300r" % (self.status, self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def request(method, url, body=None, headers=None, timeout=15.0):
    """One HTTP request to 127.0.0.1; any status is returned (never raised)."""
    check(url.startswith("http://127.0.0.1:"), "tests only talk to 127.0.0.1: %s" % url)
    if isinstance(body, str):
        body = body.encode("utf-8")
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


# ---- the daemon -------------------------------------------------------------------------------

def _yq(s):
    """A YAML single-quoted scalar (backslashes literal)."""
    return "'" + str(s).replace("'", "''") + "'"


class Daemon:
    """`asakai serve` on a temp config. Use as a context manager (stops with SIGTERM, exit 0)."""

    def __init__(self, cert_port=None, topics=None, max_body="256KiB", eb_key=EB_KEY,
                 extra_sns=None, port=None, name="daemon", threads=8, log_level="info",
                 fetch_timeout="3s", config_text=None, extra_server=None):
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=workdir())
        self.data = os.path.join(self.dir, "data")
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.cfg_path = os.path.join(self.dir, "asakai.yaml")
        self.proc = None
        self.logs = []
        self.starts = 0
        self.env = {}  # extra environment for the daemon (AWS credentials for the pollers)
        if config_text is None:
            config_text = self._config(cert_port, topics, max_body, eb_key, extra_sns or {},
                                       threads, log_level, fetch_timeout, extra_server or {})
        with open(self.cfg_path, "w") as f:
            f.write(config_text)
        LIVE.append(self)

    def _config(self, cert_port, topics, max_body, eb_key, extra_sns, threads, log_level,
                fetch_timeout, extra_server):
        cp = cert_port or 1
        lines = [
            "server:",
            "  max_body_bytes: %s" % max_body,
            "  request_timeout: 5s",
            "  threads: %d" % threads,
            "  log_level: %s" % log_level,
        ] + ["  %s: %s" % (k, v) for k, v in extra_server.items()] + [
            "intake:",
            "  sns:",
            "    topics: [%s]" % ", ".join(_yq(t) for t in (topics or
                                           ["arn:aws:sns:%s:%s:*" % (REGION, ACCOUNT)])),
            "    cert_url_pattern: " +
            _yq(r"^https://127\.0\.0\.1:%d/SimpleNotificationService-[0-9a-f]+\.pem$" % cp),
            "    subscribe_url_pattern: " + _yq(r"^https://127\.0\.0\.1:%d/confirm\?" % cp),
            "    ca_file: " + _yq(os.path.join(PKI, "ca.pem")),
            "    cert_names: [sns.amazonaws.com]",
            "    fetch_timeout: %s" % fetch_timeout,
        ]
        if "verify_cert_chain" not in extra_sns:
            # the test PKI has no intermediate, so the chain check can run (off by default)
            lines.append("    verify_cert_chain: true")
        for k, v in extra_sns.items():
            lines.append("    %s: %s" % (k, v))
        if eb_key:
            lines += ["  eventbridge:", "    api_key: " + _yq(eb_key)]
        return "\n".join(lines) + "\n"

    # -- lifecycle --
    def start(self, wait=True):
        check(self.proc is None, "daemon already running")
        self.starts += 1
        log = os.path.join(self.dir, "stderr.%d.log" % self.starts)
        self.logs.append(log)
        self._logf = open(log, "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        env.update(self.env)
        self.proc = subprocess.Popen(
            [asakai_bin(), "serve", "--config", self.cfg_path, "--listen",
             "127.0.0.1:%d" % self.port, "--data", self.data],
            stdin=subprocess.DEVNULL, stdout=self._logf, stderr=self._logf, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        def ready():
            if self.proc.poll() is not None:
                raise TestFailure("daemon exited with %s before it was ready; stderr:\n%s" %
                                  (self.proc.returncode, self.log_tail()))
            try:
                return request("GET", self.url + "/readyz", timeout=1.0).status == 200
            except OSError:
                return False
        wait_for(ready, timeout=timeout, what="/readyz of %s" % self.url)

    def _closed(self):
        self.proc = None
        self._logf.close()
        self.check_log_clean()

    def stop(self, timeout=30.0):
        """SIGTERM; requires exit status 0 and a log without sanitizer reports."""
        if self.proc is None:
            return
        p = self.proc
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self._closed()
            raise TestFailure("daemon did not exit within %.0fs of SIGTERM" % timeout)
        self._closed()
        check(rc == 0, "daemon exited with status %d after SIGTERM (want 0); stderr tail:\n%s" %
              (rc, self.log_tail()))

    def kill9(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._closed()

    def restart(self):
        self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def check_log_clean(self):
        txt = self.log_text(self.logs[-1])
        for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            check(pat not in txt, "sanitizer report in daemon stderr (%s):\n%s" %
                  (pat, self.log_tail()))

    def log_text(self, path=None):
        path = path or (self.logs[-1] if self.logs else None)
        if not path or not os.path.exists(path):
            return ""
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=25):
        return "\n".join(self.log_text().splitlines()[-n:])

    def __enter__(self):
        return self.start()

    def __exit__(self, et, ev, tb):
        if et is None:
            self.stop()
        else:
            try:
                if self.proc is not None:
                    self.proc.kill()
                    self.proc.wait()
                    self._logf.close()
                    self.proc = None
            except OSError:
                pass
        return False

    # -- HTTP --
    def get(self, path, **kw):
        return request("GET", self.url + path, **kw)

    def get_json(self, path, want=200):
        r = self.get(path)
        check(r.status == want, "GET %s: %r (want %d)" % (path, r, want))
        return r.json()

    def post(self, path, body, headers=None, **kw):
        if path.startswith("/api/") and not any(k.lower() == "content-type" for k in
                                                 (headers or {})):
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        return request("POST", self.url + path, body=body, headers=headers, **kw)

    def post_sns(self, env, **kw):
        body = env if isinstance(env, (bytes, str)) else json.dumps(env, indent=2)
        return self.post("/intake/sns", body, {"Content-Type": "text/plain; charset=UTF-8",
                         "x-amz-sns-message-type": "Notification"}, **kw)

    def post_eb(self, event, key=EB_KEY, **kw):
        h = {"Content-Type": "application/json"}
        if key is not None:
            h["X-Asakai-Key"] = key
        body = event if isinstance(event, (bytes, str)) else json.dumps(event)
        return self.post("/intake/eventbridge", body, h, **kw)

    def raws(self, state=None, limit=10000):
        q = "?limit=%d" % limit + ("&state=" + state if state else "")
        return self.get_json("/api/v1/raw" + q)

    def raw(self, raw_id):
        return self.get_json("/api/v1/raw/%d" % raw_id)

    def records(self, query="?all=1"):
        return self.get_json("/api/v1/maintenance" + query)

    def record(self, rec_id, raw=False):
        return self.get_json("/api/v1/maintenance/%d%s" % (rec_id, "?raw=1" if raw else ""))

    def wait_normalised(self, raw_id, timeout=10.0):
        """Waits until archived message raw_id left state "pending"; returns it."""
        def done():
            r = self.raw(raw_id)
            return r if r.get("state") != "pending" else None
        return wait_for(done, timeout=timeout, what="raw %d to be normalised" % raw_id)

    def metrics(self):
        r = self.get("/metrics")
        check(r.status == 200, "GET /metrics: %r" % r)
        return parse_metrics(r.text)

    def metric(self, name, **labels):
        return metric_value(self.metrics(), name, **labels)


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(labels.items())): float}."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
    lab_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            continue
        labels = frozenset(lab_re.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric_value(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


# ---- the HTTPS certificate server ------------------------------------------------------------

def _read(path):
    with open(path, "rb") as f:
        return f.read()


class CertServer:
    """HTTPS on 127.0.0.1 with the test PKI's TLS cert. Paths:
        /SimpleNotificationService-<CERT_HEX>.pem           the genuine signing cert
        /SimpleNotificationService-<CERT_HEX_EVIL>.pem      a signing cert from the evil CA
        /SimpleNotificationService-<CERT_HEX_REDIRECT>.pem  302 to the genuine one
        /SimpleNotificationService-<CERT_HEX_BIG>.pem       a 64 KiB body
        /SimpleNotificationService-<CERT_HEX_SLOW>.pem      the genuine cert after 4 s
        /SimpleNotificationService-<CERT_HEX_503>.pem       HTTP 503
        /confirm?...                                         fake SubscribeURL (records hits)
    Every request is recorded in .hits (path strings). At most max_requests are served; later
    ones get 503."""

    def __init__(self, max_requests=2000):
        self.hits = []
        self.lock = threading.Lock()
        self.max_requests = max_requests
        self.good_pem = _read(os.path.join(PKI, "sns-signing.pem"))
        self.evil_pem = _read(os.path.join(PKI, "evil-signing.pem"))
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_GET(self):
                with outer.lock:
                    outer.hits.append(self.path)
                    n = len(outer.hits)
                if n > outer.max_requests:
                    return self._send(503, b"request budget exhausted\n")
                p = self.path
                if p == "/SimpleNotificationService-%s.pem" % CERT_HEX_REDIRECT:
                    self.send_response(302)
                    self.send_header("Location", "https://127.0.0.1:%d/SimpleNotificationService-"
                                     "%s.pem" % (outer.port, CERT_HEX))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif p == "/SimpleNotificationService-%s.pem" % CERT_HEX_EVIL:
                    self._send(200, outer.evil_pem, "application/x-x509-ca-cert")
                elif p == "/SimpleNotificationService-%s.pem" % CERT_HEX_BIG:
                    pad = b"# padding\n" * (64 * 1024 // 10)
                    self._send(200, outer.good_pem + pad, "application/x-x509-ca-cert")
                elif p == "/SimpleNotificationService-%s.pem" % CERT_HEX_SLOW:
                    time.sleep(4)
                    self._send(200, outer.good_pem, "application/x-x509-ca-cert")
                elif p == "/SimpleNotificationService-%s.pem" % CERT_HEX_503:
                    self._send(503, b"Service Unavailable\n")
                elif re.match(r"^/SimpleNotificationService-[0-9a-f]+\.pem$", p):
                    self._send(200, outer.good_pem, "application/x-x509-ca-cert")
                elif p.startswith("/confirm?"):
                    self._send(200, b'<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws'
                               b'.com/doc/2010-03-31/"><ConfirmSubscriptionResult><Subscription'
                               b'Arn>' + TOPIC.encode() + b':0000</SubscriptionArn></Confirm'
                               b'SubscriptionResult></ConfirmSubscriptionResponse>', "text/xml")
                else:
                    self._send(404, b"not found\n")

            def _send(self, code, body, ctype="text/plain"):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(PKI, "tls-server.pem"),
                            os.path.join(PKI, "tls-server.key"))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # clients that hang up
        # handshake in the handler thread, so a stuck client cannot block accept()
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True,
                                            do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval":
                                       0.05}, daemon=True)
        self.thread.start()

    def url(self, hexname=CERT_HEX):
        return "https://127.0.0.1:%d/SimpleNotificationService-%s.pem" % (self.port, hexname)

    def subscribe_url(self, token):
        return ("https://127.0.0.1:%d/confirm?Action=ConfirmSubscription&TopicArn=%s&Token=%s" %
                (self.port, TOPIC, token))

    def hit_count(self, prefix=""):
        with self.lock:
            return sum(1 for h in self.hits if h.startswith(prefix))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


# ---- SNS envelopes ---------------------------------------------------------------------------

def _load_key(name):
    return serialization.load_pem_private_key(_read(os.path.join(PKI, name)), password=None)


def string_to_sign(env):
    """§2.6: "Name\\nValue\\n" pairs in AWS's order; Subject only when present."""
    t = env["Type"]
    if t == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    out = []
    for n in names:
        if n in env and env[n] is not None:
            out.append("%s\n%s\n" % (n, env[n]))
    return "".join(out).encode("utf-8")


class Signer:
    def __init__(self, cert_url, key_file="sns-signing.key"):
        self.cert_url = cert_url
        self.key = _load_key(key_file)

    def sign(self, env, sv=None):
        sv = sv or env.get("SignatureVersion", "1")
        h = hashes.SHA256() if sv == "2" else hashes.SHA1()
        sig = self.key.sign(string_to_sign(env), padding.PKCS1v15(), h)
        env["SignatureVersion"] = sv
        env["Signature"] = base64.b64encode(sig).decode()
        return env

    def _base(self, typ, message, message_id, topic, timestamp, cert_url):
        return {
            "Type": typ,
            "MessageId": message_id or str(uuid.uuid4()),
            "TopicArn": topic or TOPIC,
            "Message": message,
            "Timestamp": timestamp or now_utc().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "SignatureVersion": "1",
            "Signature": "",
            "SigningCertURL": cert_url or self.cert_url,
        }

    def notification(self, message, message_id=None, subject=None, sv="1", topic=None,
                     timestamp=None, cert_url=None):
        if not isinstance(message, str):
            message = json.dumps(message)
        env = self._base("Notification", message, message_id, topic, timestamp, cert_url)
        if subject is not None:
            env["Subject"] = subject
        env["UnsubscribeURL"] = ("https://127.0.0.1:1/?Action=Unsubscribe&SubscriptionArn=%s:x"
                                 % (topic or TOPIC))
        return self.sign(env, sv)

    def confirmation(self, typ, subscribe_url, token=None, message_id=None, sv="1", topic=None,
                     cert_url=None):
        token = token or uuid.uuid4().hex * 4
        t = topic or TOPIC
        if typ == "SubscriptionConfirmation":
            msg = ("You have chosen to subscribe to the topic %s.\nTo confirm the subscription, "
                   "visit the SubscribeURL included in this message." % t)
        else:
            msg = ("You have chosen to deactivate subscription %s:2bcfbf39.\nTo cancel this "
                   "operation and restore the subscription, visit the SubscribeURL included in "
                   "this message." % t)
        env = self._base(typ, msg, message_id, topic, None, cert_url)
        env["Token"] = token
        env["SubscribeURL"] = subscribe_url
        return self.sign(env, sv)


class Stack:
    """CertServer + Daemon (configured for it) + Signer; the usual test setup."""

    def __init__(self, **daemon_kw):
        self.cs = CertServer()
        try:
            self.d = Daemon(cert_port=self.cs.port, **daemon_kw)
        except Exception:
            self.cs.close()
            raise
        self.signer = Signer(self.cs.url())

    def __enter__(self):
        try:
            self.d.start()
        except Exception:
            self.cs.close()
            raise
        return self

    def __exit__(self, et, ev, tb):
        try:
            self.d.__exit__(et, ev, tb)
        finally:
            self.cs.close()
        return False


# ---- the CLI ---------------------------------------------------------------------------------

class CliResult:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            raise TestFailure("CLI stdout is not JSON (rc %d): %.300r / stderr %.300r" %
                              (self.rc, self.out, self.err))

    def __repr__(self):
        return "rc=%d stdout=%.400r stderr=%.400r" % (self.rc, self.out, self.err)


def run_cli(args, server=None, timeout=60, stdin=None, token=None):
    cmd = [asakai_bin()]
    if server:
        cmd += ["--server", server]
    env = dict(os.environ)
    env.pop("ASAKAI_SERVER", None)
    env.pop("ASAKAI_TOKEN", None)
    if token:
        env["ASAKAI_TOKEN"] = token
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    p = subprocess.run(cmd + list(args), capture_output=True, timeout=timeout, env=env,
                       input=stdin)
    return CliResult(p.returncode, p.stdout.decode("utf-8", "replace"),
                     p.stderr.decode("utf-8", "replace"))


def cleanup_workdir(keep=False):
    d = WORKDIR[0]
    WORKDIR[0] = None
    LIVE.clear()
    if d and not keep:
        shutil.rmtree(d, ignore_errors=True)
    return d
