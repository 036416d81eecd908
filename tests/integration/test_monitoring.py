#!/usr/bin/python3
"""Daily monitoring end to end: a service scraped from a small Prometheus endpoint (targets,
series with job/instance), an OpenMetrics backfill with a leak found by `asakai review`,
`asakai coverage` failing on a missing signal until it appears, deploy markers, a bad import
refused locally with FILE:LINE, the API's errors, and the dashboard and chart page rendered by
headless Chromium on the demo's data (screenshot kept under <builddir>/test-artifacts/)."""
import json
import os
import random
import shutil
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aklib
from aklib import Daemon, check, check_eq, run_cli, wait_for

DAY = 86400
GIB = 1024 ** 3


def note(text):
    for line in str(text).splitlines():
        print("# " + line)


class Target:
    """A Prometheus text endpoint on 127.0.0.1 (/metrics); `latency` adds the latency family."""

    def __init__(self):
        self.latency = False
        self.hits = 0
        target = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                target.hits += 1
                body = target.text().encode()
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d/metrics" % self.port
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def text(self):
        lines = [
            "# TYPE process_resident_memory_bytes gauge",
            "process_resident_memory_bytes %d" % (300 * 2 ** 20),
            "# TYPE http_requests_total counter",
            'http_requests_total{code="200"} %d' % (1000 + 10 * self.hits),
        ]
        if self.latency:
            lines += ["# TYPE http_request_duration_seconds summary",
                      "http_request_duration_seconds_sum %f" % (0.12 * self.hits),
                      "http_request_duration_seconds_count %d" % self.hits]
        return "\n".join(lines) + "\n"

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def mon_config(services, interval="1s", host=False, extra=""):
    lines = ["server:", "  log_level: info", "monitoring:", "  scrape_interval: %s" % interval,
             "  scrape_timeout: 1s", "  host_collector: %s" % ("true" if host else "false"),
             "services:"]
    for s in services:
        lines += ["  - name: %s" % s["name"], "    type: %s" % s["type"]]
        if s.get("targets"):
            lines.append("    targets: [%s]" % ", ".join('"%s"' % t for t in s["targets"]))
        if s.get("limits"):
            lines.append("    limits:")
            lines += ["      %s: %s" % kv for kv in s["limits"].items()]
    return "\n".join(lines) + "\n" + extra


def leak_file(path, job, instance, days=14, step=3600, extra_5m=False):
    """OpenMetrics history: a memory series growing ~3 %/day (hourly), optionally a flat
    2-minute gauge (to make the file bigger than server.max_body_bytes)."""
    rnd = random.Random(7)
    now = int(time.time()) // 60 * 60
    t0 = now - days * DAY
    ts = list(range(t0, now, step))
    lab = '{instance="%s",job="%s"}' % (instance, job)
    out = ["# TYPE process_resident_memory_bytes gauge",
           "# UNIT process_resident_memory_bytes bytes",
           "# HELP process_resident_memory_bytes test leak"]
    out += ["process_resident_memory_bytes%s %.1f %d" %
            (lab, 500 * 2 ** 20 * 1.03 ** ((t - t0) / DAY) * (1 + rnd.gauss(0, 0.003)), t)
            for t in ts]
    n = len(ts)
    if extra_5m:
        out.append("# TYPE queue_depth gauge")
        t5 = list(range(t0, now, 120))
        out += ["queue_depth%s %d %d.%03d" % (lab, 10 + (i % 7), t, i % 1000)
                for i, t in enumerate(t5)]
        n += len(t5)
    out.append("# EOF")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return n


def run_on_tty_stderr(args):
    """Runs the CLI with stderr on a pseudo-terminal; returns what it wrote there."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([aklib.asakai_bin()] + args, stdout=subprocess.DEVNULL, stderr=slave,
                         stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    p.wait(timeout=60)
    os.close(master)
    check_eq(p.returncode, 0, "CLI on a terminal")
    return b"".join(chunks).decode("utf-8", "replace")


def cli_json(args, server, want_rc=0):
    r = run_cli(args + ["-o", "json"], server=server)
    check_eq(r.rc, want_rc, "asakai %s (%r)" % (" ".join(args), r))
    return r.json()


def test_scrape_import_review_coverage_deploys():
    tgt = Target()
    d = Daemon(config_text=mon_config([{
        "name": "shop", "type": "http", "targets": [tgt.url]}], host=True), name="mon")
    try:
        with d:
            # the target is scraped: up, with its samples
            def target_up():
                j = cli_json(["metrics", "targets"], d.url)
                ts = [t for t in j.get("targets", []) if t.get("url") == tgt.url]
                return ts and ts[0].get("up") is True and ts[0].get("service") == "shop"
            wait_for(target_up, timeout=15, what="the target scraped and up")
            r = run_cli(["metrics", "targets", "-o", "table"], server=d.url)
            check(r.rc == 0 and tgt.url in r.out and "shop" in r.out, "targets table: %r" % r)

            j = cli_json(["metrics", "series", "--service", "shop"], d.url)
            mem = [s for s in j["series"] if s["metric"] == "process_resident_memory_bytes"]
            check(mem, "scraped memory series listed: %r" % j)
            check_eq(mem[0]["labels"].get("job"), "shop", "job label")
            check_eq(mem[0]["labels"].get("instance"), "127.0.0.1:%d" % tgt.port, "instance label")
            check_eq(mem[0]["service"], "shop", "service of the series")

            # backfill: a leak over 14 days (plus a 5-minute series: > server.max_body_bytes)
            path = os.path.join(d.dir, "leak.om")
            n = leak_file(path, "shop", "shop-1", extra_5m=True)
            check(os.path.getsize(path) > 256 * 1024, "the import is bigger than max_body")
            r = run_cli(["metrics", "import", path], server=d.url)
            check_eq(r.rc, 0, "metrics import (%r)" % r)
            check("imported %d samples of 2 series" % n in r.out, "import totals: %r" % r.out)
            # again, in small batches: idempotent, series cut across batches
            r = run_cli(["metrics", "import", "--batch-bytes", "16k", path], server=d.url)
            check_eq(r.rc, 0, "re-import in 16 KiB batches (%r)" % r)
            check("of 2 series (0 new)" in r.out, "re-import adds no series: %r" % r.out)
            check("batch(es)" in r.out and "in 1 batch(es)" not in r.out, "several batches: %r"
                  % r.out)
            # on a terminal: a progress bar on stderr
            err = run_on_tty_stderr(["--server", d.url, "metrics", "import", "--batch-bytes",
                                     "64k", path])
            check("\r[" in err and "MiB/s" in err and "100%" in err, "progress bar: %r" %
                  err[-300:])
            j = cli_json(["metrics", "series", "--match", "queue_depth*"], d.url)
            check_eq(len(j["series"]), 1, "imported series found by glob")
            key = j["series"][0]["key"]
            q = d.get_json("/api/v1/metrics/query?" + urllib.parse.urlencode(
                {"series": key, "from": "14d", "resolution": "hour"}))
            check(300 <= len(q["points"]) <= 340, "hourly points of the import: %d" %
                  len(q["points"]))

            # the review finds the leak and says so in one sentence
            rev = cli_json(["review"], d.url)
            leak = [f for f in rev["findings"] if f["kind"] in ("growth", "days-to-limit") and
                    "process_resident_memory_bytes" in f["series"] and "shop-1" in f["series"]]
            check(leak, "a growth finding for the leak: %s" % json.dumps(rev)[:1500])
            note("finding: %s" % leak[0]["text"])
            check(len(leak[0]["text"]) > 20 and leak[0]["service"] == "shop", "the sentence")
            check(2.0 <= leak[0]["pct_per_day"] <= 4.5, "growth ~3 %%/day: %r" % leak[0])
            r = run_cli(["review", "-o", "table"], server=d.url)
            check(r.rc == 0 and leak[0]["text"] in r.out, "review table shows it: %r" % r)

            # coverage: latency is missing (exit 1, named), then appears (exit 0)
            r = run_cli(["coverage", "-o", "json"], server=d.url)
            check_eq(r.rc, 1, "coverage with a required signal missing (%r)" % r)
            cov = r.json()
            check(any("latency" in m and "shop" in m for m in cov["missing"]),
                  "the missing latency named: %r" % cov["missing"])
            check_eq(cov["services"][0]["cells"]["latency"]["state"], "missing", "latency cell")
            r = run_cli(["coverage", "-o", "table"], server=d.url)
            check(r.rc == 1 and "latency" in r.out and "missing" in r.out, "table: %r" % r)
            tgt.latency = True
            last = []

            def covered():
                last[:] = [run_cli(["coverage", "-o", "json"], server=d.url)]
                return last[0].rc == 0
            try:
                wait_for(covered, timeout=15, what="coverage exit 0 once latency is scraped")
            except aklib.TestFailure:
                note("last coverage: rc %d, missing %r" % (last[0].rc, last[0].json()["missing"]))
                raise

            # deploy markers
            r = run_cli(["deploy", "mark", "shop", "--version", "v1.2.3", "--note", "canary",
                         "--by", "tester"], server=d.url)
            check(r.rc == 0 and "v1.2.3" in r.out, "deploy mark (%r)" % r)
            j = cli_json(["deploy", "list", "--service", "shop", "--since", "1d"], d.url)
            check_eq([(x["service"], x["version"], x["by"], x["note"]) for x in j["deploys"]],
                     [("shop", "v1.2.3", "tester", "canary")], "deploy list")
            r = run_cli(["deploy", "mark", "nosuch", "--version", "v9"], server=d.url)
            check(r.rc == 1 and "nosuch" in r.err, "unknown service refused (%r)" % r)
            resp = d.post("/api/v1/deploys", json.dumps({"service": "nosuch"}))
            check_eq(resp.status, 404, "POST /api/v1/deploys for an unknown service")
            resp = d.post("/api/v1/deploys", json.dumps({"service": "shop", "at": "yesterday"}))
            check_eq(resp.status, 400, "a bad deploy time")

            # a bad file is refused before anything is sent
            before = d.get_json("/api/v1/metrics/stats")
            good = os.path.join(d.dir, "good.om")
            with open(good, "w") as f:
                f.write("# TYPE fine_metric gauge\nfine_metric 1 %d\n# EOF\n" % int(time.time()))
            bad = os.path.join(d.dir, "bad.om")
            with open(bad, "w") as f:
                f.write("# TYPE other gauge\nother 1 %d\nother{x=\"1\" 2 %d\n# EOF\n" %
                        (int(time.time()), int(time.time())))
            r = run_cli(["metrics", "import", good, bad], server=d.url)
            check_eq(r.rc, 2, "import of a bad file (%r)" % r)
            check(bad + ":3:" in r.err and "nothing sent" in r.err, "FILE:LINE reported: %r" %
                  r.err)
            after = d.get_json("/api/v1/metrics/stats")
            check_eq(after["series"], before["series"], "no series added by a refused import")
            check_eq(cli_json(["metrics", "series", "--match", "fine_metric"], d.url)["series"],
                     [], "the good file was not sent either")
            # samples without timestamps cannot be imported
            nots = os.path.join(d.dir, "nots.prom")
            with open(nots, "w") as f:
                f.write("# TYPE a gauge\na 1\n")
            r = run_cli(["metrics", "import", nots], server=d.url)
            check(r.rc == 2 and nots + ":2:" in r.err and "timestamp" in r.err,
                  "a sample without a timestamp (%r)" % r)

            # API errors
            for path, want in (("/api/v1/review?window=bogus", 400),
                               ("/api/v1/review?resolution=week", 400),
                               ("/api/v1/review/latest", 404),
                               ("/api/v1/metrics/query", 400),
                               ("/api/v1/metrics/query?series=nope%7Bx%3D%22y%22%7D", 404),
                               ("/api/v1/metrics/query?series=" + urllib.parse.quote(key) +
                                "&from=soon", 400),
                               ("/api/v1/deploys?since=never", 400),
                               ("/chart?series=nope", 404),
                               ("/chart", 400)):
                resp = d.get(path)
                check_eq(resp.status, want, "GET %s (%s)" % (path, resp.text[:200]))
            resp = d.post("/api/v1/metrics/import", "up 1 1\n")
            check_eq(resp.status, 415, "import sent as JSON")
            resp = d.post("/api/v1/metrics/import", b"x 1\n",
                          headers={"Content-Type": "text/plain; version=0.0.4"})
            check_eq(resp.status, 400, "import without timestamps")
            check("line 1" in resp.json().get("error", ""), "the line named: %r" % resp.text)
            for path in ("/api/v1/monitoring/coverage", "/api/v1/monitoring/dashboard",
                         "/api/v1/metrics/stats", "/api/v1/monitoring/targets"):
                d.get_json(path)
            r = run_cli(["metrics", "stats", "-o", "table"], server=d.url)
            check(r.rc == 0 and "bytes_per_sample" in r.out, "stats table: %r" % r)
            r = run_cli(["metrics", "query", key, "--from", "1d", "-o", "table"], server=d.url)
            check(r.rc == 0 and "MEAN" in r.out, "query table: %r" % r)
    finally:
        tgt.close()


# ---- the dashboard in a browser ----------------------------------------------------------------

def chromium_bin():
    for b in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(b)
        if p:
            return p
    return None


def artifacts_dir():
    d = os.path.join(os.path.dirname(os.path.abspath(aklib.asakai_bin())), "test-artifacts")
    os.makedirs(d, exist_ok=True)
    return d


def demo_daemon():
    return Daemon(config_text=mon_config([
        {"name": "api", "type": "http"},
        {"name": "db", "type": "postgres", "limits": {"pg_stat_activity_count": 500}}],
        interval="5s", host=True), name="dash")


def feed_demo(d):
    p = subprocess.run(["/usr/bin/python3", os.path.join(aklib.ROOT, "scripts", "demo-feed.py"),
                        "--monitoring", d.url], capture_output=True, timeout=120)
    check(p.returncode == 0, "demo-feed.py --monitoring: %r" % (p.stderr[-800:],))
    note(p.stdout.decode().strip())


def test_dashboard_and_chart_render():
    with demo_daemon() as d:
        feed_demo(d)
        t0 = time.monotonic()
        r = d.get("/")
        took = time.monotonic() - t0
        check_eq(r.status, 200, "GET /")
        html = r.text
        note("GET / took %.0f ms, %d bytes" % (took * 1000, len(html)))
        check("<script" not in html and "http://" not in html.replace(
            'xmlns="http://www.w3.org/2000/svg"', ""), "no script, no external resource")
        check('name=viewport' in html and 'http-equiv=refresh content=60' in html, "meta tags")
        for svc in ("api", "db", "host"):
            check("<h3>%s <small>" % svc in html, "service row %s" % svc)
        check(html.index("<h2>Services</h2>") < html.index("<h2>Maintenance</h2>"),
              "monitoring above the maintenance panels")
        check(html.count("<svg") >= 6, "sparklines drawn")
        check("class=\"badge k-" in html, "a finding badge on the dashboard")
        check("Coverage gaps" in html, "coverage gaps panel")
        check("to a limit" in html, "days to a limit shown for db's volume")
        # the chart of the api latency, with its deploy marker
        dash = d.get_json("/api/v1/monitoring/dashboard")
        api = [s for s in dash["services"] if s["name"] == "api"][0]
        lat = [s for s in api["signals"] if s["signal"] == "latency"][0]
        check(lat["series"] and len(lat["points"]) >= 150, "7 days of latency: %r" %
              {k: v for k, v in lat.items() if k != "points"})
        chart = "/chart?" + urllib.parse.urlencode({"series": lat["series"], "range": "7d"})
        check(chart.replace("&", "&amp;").split("&amp;range")[0] in html or
              "/chart?series=" in html, "the dashboard links to charts")
        r = d.get(chart)
        check_eq(r.status, 200, "GET %s" % chart)
        check("<svg" in r.text and "class=deploy-marker" in r.text and "v2.14.0" in r.text,
              "chart with the deploy marker")
        check("class=band" in r.text and "class=mean" in r.text, "band and mean line")

        browser = chromium_bin()
        if not browser:
            note("SKIP (browser part): chromium is not installed (bash scripts/deps.sh)")
            return
        profile = os.path.join(aklib.workdir(), "chromium-profile")
        base = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                "--disable-background-networking", "--enable-logging=stderr", "--v=0",
                "--user-data-dir=" + profile]
        try:
            p = subprocess.run(base + ["--dump-dom", d.url + "/"], capture_output=True,
                               timeout=90)
        except (OSError, subprocess.TimeoutExpired) as e:
            note("SKIP (browser part): chromium cannot run here: %s" % e)
            return
        dom = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode != 0 or "<html" not in dom:
            note("SKIP (browser part): chromium cannot run here (rc %d): %s" %
                 (p.returncode, err[-600:]))
            return
        for bad in ("Uncaught", "CONSOLE(", "Refused to"):
            check(bad not in err, "browser console clean (%s): %s" % (bad, err[-1200:]))
        check("<svg" in dom and "badge k-" in dom and ">api <small>" in dom, "DOM of /")
        p = subprocess.run(base + ["--dump-dom", d.url + chart], capture_output=True, timeout=90)
        cdom = p.stdout.decode("utf-8", "replace")
        check(p.returncode == 0 and "deploy-marker" in cdom and "<polygon" in cdom,
              "chart DOM (rc %d)" % p.returncode)
        check("Uncaught" not in p.stderr.decode("utf-8", "replace"), "chart console clean")
        shots = artifacts_dir()
        for name, url, size in (("dashboard.png", d.url + "/", "1200,2400"),
                                ("dashboard-phone.png", d.url + "/", "390,2400"),
                                ("chart.png", d.url + chart, "1000,600")):
            shot = os.path.join(shots, name)
            p = subprocess.run(base + ["--window-size=" + size, "--screenshot=" + shot, url],
                               capture_output=True, timeout=90)
            check(p.returncode == 0 and os.path.getsize(shot) > 10000,
                  "screenshot %s (rc %d)" % (name, p.returncode))
        note("screenshots in %s" % shots)


def test_dashboard_with_twenty_services_is_fast():
    services = [{"name": "svc%02d" % i, "type": "http"} for i in range(20)]
    with Daemon(config_text=mon_config(services, interval="5s"), name="dash20") as d:
        # a day of hourly history for each, so every row draws sparklines
        now = int(time.time())
        out = []
        for fam, typ in (("up", "gauge"), ("process_resident_memory_bytes", "gauge")):
            out.append("# TYPE %s %s" % (fam, typ))
            for s in services:
                out += ['%s{instance="a",job="%s"} %d %d' % (fam, s["name"], 1 + h, now - h * 3600)
                        for h in range(48, 0, -1)]
        out.append("# EOF")
        r = d.post("/api/v1/metrics/import", ("\n".join(out) + "\n").encode(),
                   headers={"Content-Type": "application/openmetrics-text; version=1.0.0"})
        check_eq(r.status, 200, "import (%s)" % r.text[:300])
        d.get("/")  # the first page may run the review (no daily one stored yet)
        best = min(_timed(d, "/api/v1/monitoring/dashboard") for _ in range(3))
        note("dashboard data for 20 services: %.1f ms" % (best * 1000))
        check(best < 0.5, "dashboard data in %.0f ms" % (best * 1000))


def _timed(d, path):
    t0 = time.monotonic()
    r = d.get(path)
    check_eq(r.status, 200, path)
    return time.monotonic() - t0


def test_import_cap_and_token():
    """The import's 64 MiB cap is only for clients that pass the API token; the CLI sends it."""
    token = "mon-token-0123456789"
    cfg = mon_config([{"name": "shop", "type": "http"}]).replace(
        "server:\n", "server:\n  api_token: %s\n  max_body_bytes: 64KiB\n" % token)
    with Daemon(config_text=cfg, name="montok") as d:
        path = os.path.join(d.dir, "leak.om")
        leak_file(path, "shop", "shop-1", extra_5m=True)
        with open(path, "rb") as f:
            body = f.read()
        om = {"Content-Type": "application/openmetrics-text; version=1.0.0"}
        try:
            r = d.post("/api/v1/metrics/import", body, headers=om)
            check(r.status in (401, 413), "a big import without the token: %r" % r)
        except OSError:
            pass  # answered 413 and closed before the body was sent: the refusal we want
        check("request too large" in d.log_text(), "refused as too large before the body")
        r = d.post("/api/v1/metrics/import", body,
                   headers=dict(om, Authorization="Bearer " + token))
        check_eq(r.status, 200, "a big import with the token (%s)" % r.text[:200])
        r = run_cli(["metrics", "import", path], server=d.url, token=token)
        check(r.rc == 0 and "(0 new)" in r.out, "the CLI sends the token (%r)" % r)
        r = run_cli(["review", "-o", "json"], server=d.url)
        check_eq(r.rc, 1, "the API refuses the CLI without the token (%r)" % r)


# ---- review of the web surface: escaping, parameters, caps, counters, CLI ----------------------

XSS_LABEL = '<img src=x onerror=alert(1)>"\''
XSS_VERSION = '<script>alert(2)</script>"v1'


def _prom_label(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _cell_value(html, signal):
    """The value shown in the first dashboard cell of a signal."""
    import re
    m = re.search(r'<div class=n>%s(?: <small>[^<]*</small>)?</div><svg.*?</svg><div class=v>'
                  r'(.*?)</div>' % signal, html)
    check(m, "a %s cell on the dashboard" % signal)
    return m.group(1)


def test_web_escaping_parameters_and_counters():
    token = "webrev-token-0123456789"
    cfg = mon_config([{"name": "web", "type": "http"}]).replace(
        "server:\n", "server:\n  api_token: %s\n  max_body_bytes: 64KiB\n" % token)
    auth = {"Authorization": "Bearer " + token}
    om = dict(auth, **{"Content-Type": "text/plain; version=0.0.4"})
    with Daemon(config_text=cfg, name="webrev") as d:
        now_ms = int(time.time() * 1000)
        # a label value and a deploy version that try to inject markup
        text = ("# TYPE process_resident_memory_bytes gauge\n"
                'process_resident_memory_bytes{instance="%s",job="web"} %d %d\n'
                "# TYPE process_cpu_seconds_total counter\n"
                'process_cpu_seconds_total{instance="a",job="web"} 16600 %d\n'
                % (_prom_label(XSS_LABEL), 300 * 2 ** 20, now_ms - 600000, now_ms - 600000))
        r = d.post("/api/v1/metrics/import", text.encode(), headers=om)
        check_eq(r.status, 200, "import (%s)" % r.text[:300])
        r = d.post("/api/v1/deploys", json.dumps({"service": "web", "version": XSS_VERSION,
                                                  "note": "<b>n</b>"}), headers=auth)
        check_eq(r.status, 201, "deploy with markup in its version (%s)" % r.text[:200])

        r = d.get("/", headers=auth)
        check_eq(r.status, 200, "GET /")
        html = r.text
        check("<img src=x" not in html and "onerror=alert(1)>" not in html,
              "label value not injected into /")
        check("&lt;img src=x onerror=alert(1)&gt;\\&quot;&#39;&quot;" in html,
              "label value escaped in the tooltip: %s" % html[html.find("title="):][:300])
        # one point: a visible dash, not a lone moveto
        import re
        m = re.search(r'<div class=n>memory[^\n]*?<path d="([^"]*)"', html)
        check(m and m.group(1).strip().endswith("h2"), "a one-point sparkline is drawn: %r" %
              (m and m.group(1)))
        check("/chart?series=process_resident_memory_bytes%7Binstance%3D%22%3Cimg%20src%3Dx" in html,
              "chart link percent-encoded")
        # a counter with one sample: no rate yet, and never the raw total ("16.6k")
        v = _cell_value(html, "cpu")
        check("16.6k" not in v and "16600" not in v, "cpu cell shows no raw counter: %r" % v)
        check_eq(v, "\u2014", "cpu cell before the second sample")
        text = ("# TYPE process_cpu_seconds_total counter\n"
                'process_cpu_seconds_total{instance="a",job="web"} 16630 %d\n' % (now_ms - 300000))
        check_eq(d.post("/api/v1/metrics/import", text.encode(), headers=om).status, 200,
                 "second counter sample")
        v = _cell_value(d.get("/", headers=auth).text, "cpu")
        check("16.6k" not in v and "/s" in v, "cpu cell shows a rate: %r" % v)

        key = [s for s in d.get("/api/v1/metrics/series?match=process_resident*",
                                headers=auth).json()["series"]][0]["key"]
        r = d.get("/chart?" + urllib.parse.urlencode({"series": key}), headers=auth)
        check_eq(r.status, 200, "GET /chart")
        check("<script>" not in r.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in r.text,
              "deploy version escaped in the chart: %r" % r.text[r.text.find("deploy-marker"):][:400])
        check("<img src=x" not in r.text and "<b>n</b>" not in r.text, "key and note escaped")
        check("class=deploy-marker" in r.text, "the deploy is drawn")

        # parameters: 400 with a sentence naming the parameter
        enc = urllib.parse.quote(key)
        for path, name in (("/api/v1/review?window=bogus", "window"),
                           ("/api/v1/review?window=", "window"),
                           ("/api/v1/review?window=99999999d", "window"),
                           ("/api/v1/review?resolution=week", "resolution"),
                           ("/api/v1/metrics/query?series=%s&from=soon" % enc, "from"),
                           ("/api/v1/metrics/query?series=%s&to=later" % enc, "to"),
                           ("/api/v1/metrics/query?series=%s&resolution=day" % enc, "resolution"),
                           ("/api/v1/deploys?since=never", "since"),
                           ("/chart?series=%s&range=0s" % enc, "range")):
            r = d.get(path, headers=auth)
            check_eq(r.status, 400, "GET %s (%s)" % (path, r.text[:200]))
            check(name in r.json().get("error", ""), "the error names %s: %r" % (name, r.text))
        for body, name in (({"version": "v1"}, "service"),
                           ({"service": "web", "at": int(time.time())}, "seconds"),
                           ({"service": "web", "at": now_ms + 30 * DAY * 1000}, "at"),
                           ({"service": "web", "at": "1999-01-01T00:00:00Z"}, "at"),
                           ({"service": "web", "at": "soon"}, "at"),
                           ({"service": "web", "version": "v" * 201}, "version"),
                           ({"service": "web", "version": 5}, "version"),
                           ({"service": "web", "note": "n" * 2001}, "note"),
                           ({"service": "web", "by": ["x"]}, "by")):
            r = d.post("/api/v1/deploys", json.dumps(body), headers=auth)
            check_eq(r.status, 400, "POST /api/v1/deploys %.80r (%s)" % (body, r.text[:200]))
            check(name in r.json().get("error", ""), "the error names %s: %r" % (name, r.text))

        # every monitoring route and page asks for the token
        for path in ("/", "/chart?series=" + enc, "/api/v1/review", "/api/v1/review/latest",
                     "/api/v1/monitoring/coverage", "/api/v1/deploys",
                     "/api/v1/metrics/series", "/api/v1/metrics/query?series=" + enc,
                     "/api/v1/monitoring/targets", "/api/v1/metrics/stats",
                     "/api/v1/monitoring/dashboard"):
            check_eq(d.get(path).status, 401, "GET %s without the token" % path)
        for path in ("/api/v1/deploys", "/api/v1/metrics/import"):
            check_eq(d.post(path, "{}").status, 401, "POST %s without the token" % path)

        # the 64 MiB cap is not granted to a cross-origin page, even with the token (a browser
        # sends the token it has no access to only by mistake; the body is never read)
        big = b"# TYPE q gauge\n" + b"".join(b"q %d %d\n" % (i, now_ms - 10 ** 9 + i)
                                               for i in range(8000))
        check(len(big) > 64 * 1024, "a body over max_body")
        try:
            r = d.post("/api/v1/metrics/import", big,
                       headers=dict(om, Origin="http://evil.example"))
            check(r.status == 413, "a cross-origin import answered %d, not 413" % r.status)
        except OSError:
            pass  # refused before the body was sent
        check("request too large" in d.log_text(), "refused as too large before the body")


def test_cli_monitoring_exit_codes_help_and_stdin_batches():
    # the daemon cannot be reached: 1; usage: 2; --help: 0
    r = run_cli(["coverage", "-o", "json"], server="http://127.0.0.1:1")
    check_eq(r.rc, 1, "coverage without a daemon (%r)" % r)
    r = run_cli(["coverage", "extra"], server="http://127.0.0.1:1")
    check_eq(r.rc, 2, "coverage with an argument (%r)" % r)
    r = run_cli(["coverage", "-o", "yaml"], server="http://127.0.0.1:1")
    check_eq(r.rc, 2, "coverage -o yaml (%r)" % r)
    for cmd in (["review"], ["coverage"], ["deploy", "mark"], ["deploy", "list"],
                ["metrics", "import"], ["metrics", "series"], ["metrics", "query"],
                ["metrics", "targets"], ["metrics", "stats"]):
        r = run_cli(cmd + ["--help"])
        check(r.rc == 0 and "usage: asakai %s" % cmd[0] in r.out, "%s --help (%r)" % (cmd, r))

    services = [{"name": "web", "type": "http"}, {"name": "a-service-with-a-long-name",
                                                  "type": "http"}]
    with Daemon(config_text=mon_config(services), name="webcli") as d:
        # many small families, a summary and a counter, through stdin in 4 KiB batches: no batch
        # may hold one family twice (the daemon refuses a second TYPE line)
        now = int(time.time()) * 1000
        out, n = [], 0
        for f in range(12):
            out.append("# TYPE fam%02d_total counter" % f)
            for inst in ("a", "b"):
                for k in range(60):
                    out.append('fam%02d_total{instance="%s",job="web"} %d %d' %
                               (f, inst, k * 3, now - (60 - k) * 60000))
                    n += 1
        out.append("# TYPE rpc_seconds summary")
        for k in range(60):
            t = now - (60 - k) * 60000
            out += ['rpc_seconds{quantile="0.5",job="web"} 0.1 %d' % t,
                    'rpc_seconds_sum{job="web"} %d %d' % (k, t),
                    'rpc_seconds_count{job="web"} %d %d' % (k * 10, t)]
            n += 3
        text = ("\n".join(out) + "\n").encode()
        r = run_cli(["metrics", "import", "--batch-bytes", "4k", "-"], server=d.url, stdin=text)
        check_eq(r.rc, 0, "import from stdin in 4 KiB batches (%r)" % r)
        check("imported %d samples of 27 series (27 new)" % n in r.out, "totals: %r" % r.out)
        check("\r[" not in r.err, "no progress bar without a terminal: %r" % r.err[-200:])
        batches = int(r.out.split(" in ")[1].split(" batch")[0])
        check(batches > 5, "several batches: %r" % r.out)

        r = run_cli(["coverage", "--output", "json"], server=d.url)
        check(r.rc == 1 and r.json()["required_missing"] > 0, "coverage --output json (%r)" % r)
        r = run_cli(["coverage", "-o", "table"], server=d.url)
        lines = r.out.splitlines()
        check(r.rc == 1 and lines[0].index("TYPE") == lines[2].index("http"),
              "coverage table columns aligned with a long service name: %r" % r.out[:400])
        r = run_cli(["review", "-o", "table"], server=d.url)
        check_eq(r.rc, 0, "review table (%r)" % r)
        for cmd in (["review"], ["coverage"], ["deploy", "list"], ["metrics", "series"],
                    ["metrics", "targets"], ["metrics", "stats"]):
            r = run_cli(cmd + ["-o", "json"], server=d.url)
            check(r.rc in (0, 1), "%s -o json (%r)" % (cmd, r))
            r.json()


def test_dashboard_caps_rows():
    """Many services do not make an endless page: 200 rows, then how many more."""
    services = [{"name": "s%03d" % i, "type": "http"} for i in range(205)]
    with Daemon(config_text=mon_config(services, interval="60s"), name="dashcap") as d:
        r = d.get("/")
        check_eq(r.status, 200, "GET / with 205 services")
        check_eq(r.text.count("<div class=svc>"), 200, "service rows shown")
        n = len(d.get_json("/api/v1/monitoring/dashboard")["services"])  # with the host
        check("%d more services not shown" % (n - 200) in r.text, "the rest counted")
        check("more</li>" in r.text, "coverage gaps capped too")


def _raw_points(server, key):
    j = cli_json(["metrics", "query", key, "--from", "1h", "--resolution", "raw"], server)
    return [p[0] for p in j["points"]]


def test_kill9_loses_no_accepted_sample():
    """Scraped every second, then kill -9 between checkpoints (they run every 5 min): every
    sample the API showed before the kill is there after the restart, in order, none twice, and
    scraping goes on into the same series."""
    tgt = Target()
    d = Daemon(config_text=mon_config([{"name": "shop", "type": "http",
                                        "targets": [tgt.url]}]), name="mon-crash")
    try:
        d.start()
        key = None

        def have_points():
            nonlocal key
            j = cli_json(["metrics", "series", "--service", "shop"], d.url)
            mem = [s["key"] for s in j["series"] if s["metric"] == "process_resident_memory_bytes"]
            key = mem[0] if mem else None
            return key and len(_raw_points(d.url, key)) >= 8
        wait_for(have_points, timeout=30, what="8 scrapes stored")
        before = _raw_points(d.url, key)
        d.kill9()
        d.start()
        after = _raw_points(d.url, key)
        note("kill -9 after %d samples; %d after the restart" % (len(before), len(after)))
        check(after[:len(before)] == before,
              "every sample seen before the kill survives, in order (before %r, after %r)" %
              (before[-3:], after[:len(before)][-3:]))
        check(len(set(after)) == len(after) and after == sorted(after), "no duplicates, in order")
        wait_for(lambda: len(_raw_points(d.url, key)) >= len(after) + 3, timeout=20,
                 what="scraping resumed into the same series")
        j = cli_json(["metrics", "series", "--service", "shop"], d.url)
        check_eq(len([s for s in j["series"] if s["metric"] == "process_resident_memory_bytes"]),
                 1, "one series after the restart")
        d.stop()
    finally:
        tgt.close()
        if d.running():
            d.kill9()
