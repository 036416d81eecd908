#!/usr/bin/python3
"""Daily monitoring against real components (issue 6).

  node_exporter   Debian's prometheus-node-exporter on a free port, scraped as a service of type
                  host beside the built-in collector (job "node"): the same values for the numbers
                  both read from the kernel, the same families with the same label names.
  prometheus      a real Prometheus with 14 days of backfilled history (promtool tsdb
                  create-blocks-from openmetrics) as a query-API source: the leak is found on the
                  leaking series only, and 14 days of hourly points are stored.
  leaker          tests/integration/leaker.py keeps 2 MiB more every 100 ms and reports its own
                  VmRSS: a 2-minute raw review finds the growth.

Every server listens on 127.0.0.1 on a free port (never :9090/:9100, where a packaged daemon may
run), with its own data dir under the test's work dir, and is killed in finally. A test whose
peer binary is absent prints "# SKIP why" and passes (sh scripts/deps.sh installs them).
"""
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse

import aklib
from aklib import check, check_eq

NODE_EXPORTER = os.environ.get("NODE_EXPORTER_BIN", "/usr/bin/prometheus-node-exporter")
PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL_BIN", "/usr/bin/promtool")
PY = "/usr/bin/python3"
DAY = 86400


def skip(why):
    print("# SKIP %s" % why)


def missing(*bins):
    for b in bins:
        if not os.access(b, os.X_OK):
            return "%s is not installed (sh scripts/deps.sh installs it)" % b
    return None


class Proc:
    """A peer process on 127.0.0.1, its output in the work dir, killed on exit."""

    def __init__(self, name, argv, stdin=subprocess.DEVNULL):
        self.name = name
        self.log = os.path.join(aklib.workdir(), name + ".log")
        self._logf = open(self.log, "wb")
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=self._logf, stderr=self._logf,
                                  start_new_session=True)

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=15):
        with open(self.log, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])

    def wait_http(self, url, timeout=30.0):
        def ready():
            if not self.alive():
                raise aklib.TestFailure("%s exited with %s:\n%s" %
                                        (self.name, self.p.returncode, self.tail()))
            return aklib.request("GET", url, timeout=2.0).status == 200
        aklib.wait_for(ready, timeout=timeout, interval=0.1, what="%s at %s" % (self.name, url))

    def kill(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._logf.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.kill()
        return False


def cli_json(d, *args):
    r = aklib.run_cli(list(args) + ["-o", "json"], server=d.url)
    check(r.rc == 0, "asakai %s: %r" % (" ".join(args), r))
    return r.json()


def series_of(d, service=None, match=None):
    """{key: series object} of one service or name glob (GET /api/v1/metrics/series)."""
    args = ["metrics", "series"] + (["--service", service] if service else []) + \
        (["--match", match] if match else [])
    return {s["key"]: s for s in cli_json(d, *args)["series"]}


def find(series, metric, **labels):
    """The one series of metric whose labels include labels."""
    hits = [s for s in series.values() if s["metric"] == metric and
            all(s.get("labels", {}).get(k) == v for k, v in labels.items())]
    check(len(hits) == 1, "want one %s%r, got %d: %r" %
          (metric, labels, len(hits), [h["key"] for h in hits][:5]))
    return hits[0]


OWN_LABELS = ("job", "instance", "service")


def families(series):
    """{metric: sorted label names} of stored series, without the labels asakai sets."""
    out = {}
    for s in series.values():
        names = sorted(k for k in s.get("labels", {}) if k not in OWN_LABELS)
        out.setdefault(s["metric"], set()).add(tuple(names))
    return out


def exposition_families(text):
    """{metric: {label-name tuples}} from Prometheus text."""
    out = {}
    for (name, labels) in aklib.parse_metrics(text):
        out.setdefault(name, set()).add(tuple(sorted(k for k, _ in labels)))
    return out


# ---- (a) node_exporter vs the built-in collector ---------------------------------------------

def node_exporter_argv(port):
    # only what the comparison needs is slow-free; systemd/hwmon/... fail or crawl in containers.
    # Debian defaults netdev.device-exclude to ^lo$: include lo like the built-in collector.
    return [NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
            "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
            "--collector.stat", "--collector.loadavg", "--collector.filesystem",
            "--collector.netdev", "--collector.netdev.device-exclude=^$", "--collector.diskstats",
            "--collector.filefd", "--collector.pressure"]


def test_node_exporter_agrees_with_builtin_collector():
    why = missing(NODE_EXPORTER)
    if why:
        return skip(why)
    port = aklib.free_port()
    with Proc("node-exporter", node_exporter_argv(port)) as ne:
        url = "http://127.0.0.1:%d/metrics" % port
        ne.wait_http(url)
        cfg = ("server:\n  threads: 2\n"
               "monitoring:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
               "  host_collector: true\n"
               "services:\n"
               "  - name: nodeexp\n    type: host\n    scrape_interval: 1s\n"
               "    targets: ['%s']\n" % url)
        with aklib.Daemon(config_text=cfg, name="mon-ne") as d:
            def both():
                a, b = series_of(d, "host"), series_of(d, "nodeexp")
                want = ("node_memory_MemTotal_bytes", "node_filefd_maximum", "node_load1")
                ok = all(any(s["metric"] == m for s in x.values()) for x in (a, b) for m in want)
                return (a, b) if ok else None
            aklib.wait_for(both, timeout=20, interval=0.5, what="series from both collectors")
            time.sleep(2.5)  # a few more rounds, so both sides' newest values are close in time
            host, nexp = series_of(d, "host"), series_of(d, "nodeexp")
            compare = [  # (metric, labels, relative slack, absolute slack)
                ("node_memory_MemTotal_bytes", {}, 0, 0),
                ("node_filesystem_size_bytes", {"mountpoint": "/"}, 0, 0),
                ("node_filefd_maximum", {}, 0, 0),
                ("node_load1", {}, 0.25, 0.5),
                ("node_cpu_seconds_total", {"cpu": "0", "mode": "idle"}, 0.01, 5.0),
                ("node_network_receive_bytes_total", {"device": "lo"}, 0.01, 5e6),
            ]
            seen = []
            for metric, labels, rel, slack in compare:
                a = find(host, metric, **labels)
                b = find(nexp, metric, **labels)
                check_eq(a["labels"].get("job"), "node", "built-in job label of %s" % a["key"])
                va, vb = float(a["last_value"]), float(b["last_value"])
                tol = slack + rel * max(abs(va), abs(vb))
                check(abs(va - vb) <= tol, "%s%r: built-in %r vs node_exporter %r (tolerance %g)"
                      % (metric, labels, va, vb, tol))
                if rel == 0:
                    check(va > 0, "%s is %r" % (metric, va))
                seen.append("%s %.6g/%.6g" % (metric[5:], va, vb))
            print("# built-in/node_exporter: " + ", ".join(seen))
            # the stored point agrees with the list's last value (metrics query, raw)
            mt = find(host, "node_memory_MemTotal_bytes")
            q = cli_json(d, "metrics", "query", mt["key"], "--from", "5m", "--resolution", "raw")
            check(len(q["points"]) >= 2, "raw points of %s: %r" % (mt["key"], q))
            check_eq(q["points"][-1][1], mt["last_value"], "newest raw MemTotal point")

            text = aklib.request("GET", url).text
            theirs = exposition_families(text)
            ours = {m: ls for m, ls in families(host).items() if m.startswith("node_")}
            check(len(ours) >= 20, "built-in collector stored only %d node_ families: %r" %
                  (len(ours), sorted(ours)))
            same = [m for m, ls in ours.items() if m in theirs and ls <= theirs[m]]
            differ = sorted(m for m in ours if m not in same)
            print("# node_exporter families shared: %d of the built-in collector's %d%s" %
                  (len(same), len(ours), "; not matching: " + ", ".join(
                      "%s%s vs %s" % (m, sorted(ours[m]), sorted(theirs.get(m, [])))
                      for m in differ) if differ else ""))
            check(len(same) >= 0.9 * len(ours), "only %d of %d families match node_exporter's "
                  "names and label names: %s" % (len(same), len(ours), differ))
            # the scraped copy stored the same families with the same label names as exposed
            stored = families(nexp)
            for m in same:
                if m in stored:
                    check(stored[m] <= theirs[m], "stored %s labels %r vs exposed %r" %
                          (m, stored[m], theirs[m]))


# ---- (b) Prometheus as a query-API source ----------------------------------------------------

def write_history(path, end_s, days=14, step=60):
    """OpenMetrics with timestamps: rb_leak_bytes grows 3 % of its median level a day (plus a
    daily cycle and noise), rb_flat_seasonal has the same cycle and noise and no trend."""
    rnd = random.Random(6)
    n = days * DAY // step
    start = end_s - (n - 1) * step
    base = 4e8
    with open(path, "w") as f:
        for name in ("rb_leak_bytes", "rb_flat_seasonal"):
            f.write("# TYPE %s gauge\n" % name)
            for i in range(n):
                t = start + i * step
                d = (t - start) / DAY
                v = base * (1 + 0.05 * math.sin(2 * math.pi * (t % DAY) / DAY)) + \
                    rnd.gauss(0, base * 0.005)
                if name == "rb_leak_bytes":
                    v += base * 0.03 * (d - days / 2.0)
                f.write('%s{job="batch",instance="b-1"} %.0f %d\n' % (name, v, t))
        f.write("# EOF\n")
    return n


def test_prometheus_source_leak_found():
    why = missing(PROMETHEUS, PROMTOOL)
    if why:
        return skip(why)
    w = aklib.workdir()
    om = os.path.join(w, "history.om")
    tsdb = os.path.join(w, "prom-tsdb")
    end = int(time.time()) // 60 * 60 - 60
    n = write_history(om, end)
    # 744h: promtool's largest compatible block, one pass over the file (2h blocks: 170 passes)
    p = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics",
                        "--max-block-duration=744h", om, tsdb], capture_output=True, timeout=100)
    check(p.returncode == 0, "promtool: %r" % p.stderr[-600:])
    port = aklib.free_port()
    pcfg = os.path.join(w, "prometheus.yml")
    with open(pcfg, "w") as f:
        f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    with Proc("prometheus", [PROMETHEUS, "--config.file=" + pcfg, "--storage.tsdb.path=" + tsdb,
                             "--storage.tsdb.retention.time=30d",
                             "--web.listen-address=127.0.0.1:%d" % port]) as prom:
        purl = "http://127.0.0.1:%d" % port
        prom.wait_http(purl + "/-/ready", timeout=60)
        # the peer has the history: 14 days of the leak at 60 s
        r = aklib.request("GET", purl + "/api/v1/query?" + urllib.parse.urlencode(
            {"query": "count_over_time(rb_leak_bytes[15d])", "time": end}))
        got = r.json()["data"]["result"]
        check(got and int(float(got[0]["value"][1])) == n, "prometheus holds %r, want %d" %
              (got, n))
        cfg = ("server:\n  threads: 2\n"
               "monitoring:\n  host_collector: false\n"
               "  sources:\n"
               "    - name: prom\n      url: '%s'\n"
               "      queries: [rb_leak_bytes, rb_flat_seasonal]\n"
               "      step: 60s\n      lookback: 15d\n      interval: 1m\n"
               "services:\n  - name: batch\n    type: worker\n" % purl)
        with aklib.Daemon(config_text=cfg, name="mon-prom") as d:
            def read():
                t = cli_json(d, "metrics", "targets")
                src = [s for s in t.get("sources", []) if s.get("name") == "prom"]
                check(len(src) == 1, "sources: %r" % t)
                check(not src[0].get("error"), "source prom: %r" % src[0])
                return src[0] if src[0].get("last_ok") else None
            src = aklib.wait_for(read, timeout=60, interval=0.5, what="source prom read")
            # 2 x 14 days at 60 s, plus the lookback repeats after the end (<= 5 min) and one
            # incremental read (interval 1m) on a slow machine
            check(2 * n <= src["samples"] <= 2 * n + 24, "source read %r samples, want %d" %
                  (src["samples"], 2 * n))
            st = cli_json(d, "metrics", "stats")
            check(2 * n <= st["raw_samples"] <= 2 * n + 24 and st["series"] == 2,
                  "stored %r raw samples in %r series, want %d in 2" %
                  (st["raw_samples"], st["series"], 2 * n))
            # by name: which service a source's series belong to is the engine's business here
            ser = series_of(d, match="rb_*")
            leak = find(ser, "rb_leak_bytes")
            flat = find(ser, "rb_flat_seasonal")
            t_first, t_last = (end - (n - 1) * 60) * 1000, end * 1000
            for s in (leak, flat):
                # query_range points sit on the query's step grid; after the last sample
                # Prometheus repeats it for its 5 min lookback
                check(t_first - 60000 <= s["first"] <= t_first + 60000 and
                      t_last - 60000 <= s["last"] <= t_last + 360000,
                      "%s spans %r..%r, want %d..%d" % (s["key"], s["first"], s["last"],
                                                      t_first, t_last))
                q = cli_json(d, "metrics", "query", s["key"], "--from", "15d",
                             "--resolution", "hour")
                check_eq(q["step_ms"], 3600000, "hour step")
                hours = len(q["points"])
                check(14 * 24 <= hours <= 14 * 24 + 2, "%s has %d hourly points, want 336..338" %
                      (s["key"], hours))
                # each full hour is the mean of its 60 minutes
                mid = q["points"][hours // 2]
                check(mid[2] <= mid[1] <= mid[3], "hour point mean within min..max: %r" % mid)
            rv = cli_json(d, "review")
            kinds = ("growth", "days-to-limit")
            on_leak = [f for f in rv["findings"] if f["metric"] == "rb_leak_bytes" and
                       f["kind"] in kinds]
            on_flat = [f for f in rv["findings"] if f["metric"] == "rb_flat_seasonal" and
                       f["kind"] in kinds]
            check(on_leak, "no growth finding on the leak: %s" % json.dumps(rv)[:1500])
            check(not on_flat, "growth finding on the flat series: %r" % on_flat)
            g = on_leak[0]
            check(2.0 <= g["pct_per_day"] <= 4.0, "leak %r %%/day, want ~3" % g["pct_per_day"])
            check(g["n"] >= 300, "review used %r hourly points, want ~336" % g["n"])
            print("# prometheus source: %d samples read; finding: %s" % (src["samples"],
                                                                        g["text"]))


# ---- (c) a leaking process ------------------------------------------------------------------

def test_leaking_process_found():
    if not os.access(PY, os.X_OK):
        return skip("%s is missing" % PY)
    port = aklib.free_port()
    leaker = os.path.join(aklib.HERE, "leaker.py")
    with Proc("leaker", [PY, leaker, str(port), "2", "0.1", "1024"],
              stdin=subprocess.PIPE) as lk:
        url = "http://127.0.0.1:%d/metrics" % port
        lk.wait_http(url)
        cfg = ("server:\n  threads: 2\n"
               "monitoring:\n  host_collector: false\n  scrape_interval: 1s\n"
               "  scrape_timeout: 900ms\n"
               "services:\n"
               "  - name: leaker\n    type: worker\n    scrape_interval: 1s\n"
               "    targets: ['%s']\n" % url)
        with aklib.Daemon(config_text=cfg, name="mon-leak") as d:
            t0 = time.monotonic()

            def rss_series():
                ser = series_of(d, "leaker")
                hit = [s for s in ser.values() if s["metric"] == "process_resident_memory_bytes"]
                return hit[0] if hit else None
            s = aklib.wait_for(rss_series, timeout=15, interval=0.5, what="leaker's RSS series")
            time.sleep(max(0.0, 38 - (time.monotonic() - t0)))
            q = cli_json(d, "metrics", "query", s["key"], "--from", "2m", "--resolution", "raw")
            vals = [p[1] for p in q["points"] if p[1] is not None]
            check(len(vals) >= 25, "only %d raw points in ~38 s at 1 s: %r" % (len(vals), q))
            check(vals[-1] - vals[0] >= 30 * 2**20, "RSS grew %r bytes, want >= 30 MiB: %r" %
                  (vals[-1] - vals[0], vals))
            ups = sum(1 for a, b in zip(vals, vals[1:]) if b > a)
            check(ups >= 0.8 * (len(vals) - 1), "RSS rose in only %d of %d steps" %
                  (ups, len(vals) - 1))
            rv = cli_json(d, "review", "--window", "2m", "--resolution", "raw")
            hits = [f for f in rv["findings"] if f["metric"] == "process_resident_memory_bytes"
                    and f["kind"] in ("growth", "days-to-limit")]
            check(hits, "no growth finding for the leaker: %s" % json.dumps(rv)[:1500])
            check(hits[0]["slope_per_day"] > 0, "leak slope %r" % hits[0]["slope_per_day"])
            print("# leaker: %d raw points, +%.0f MiB; finding: %s" %
                  (len(vals), (vals[-1] - vals[0]) / 2**20, hits[0]["text"]))


if __name__ == "__main__":
    sys.exit("run through tests/integration/run.py")
