#!/usr/bin/python3
"""mon_bench.py — daily-monitoring benchmarks beside Prometheus (called by scripts/bench-mon.sh).

usage: mon_bench.py BUILD_DIR

Not a test: nothing passes or fails on time; it prints numbers and ratios.
  (1) review: bench/review_bench over N series x P hourly points (default 10,000 x 720 = 30 days)
      runs ak_review_run once (Mann-Kendall + Sen + BH + level shifts + gaps); the same values as
      OpenMetrics -> promtool tsdb create-blocks-from openmetrics -> prometheus on those blocks ->
      instant queries predict_linear(m[30d], 86400) and deriv(m[30d]) over all series, best of 3.
  (2) ingest: bench/mon_bench imports S series x K scrapes of 0.0.4 text (one ak_mon_import per
      scrape: parse + store + commit), CPU time of the process; promtool create-blocks-from
      openmetrics on the same samples, CPU time (user+sys) of that process.
  (3) bytes per raw sample on disk for the data of (2): asakai's chunk table and metrics.db,
      Prometheus's block chunks/ and whole block.
  (4) the same on real data: BENCH_MON_NODE_SCRAPES (480) scrapes of this machine's
      prometheus-node-exporter, stamped 15 s apart (two hours: full chunks and a packed hour of
      minute points, as on a daemon that has been running; the current hour's minute points are
      loose rows), as one OpenMetrics file that `asakai metrics import` (into a daemon started
      here) and promtool both store.
Sizes (env): BENCH_MON_SERIES (10000), BENCH_MON_POINTS (720), BENCH_MON_INGEST_SERIES (2000),
BENCH_MON_SCRAPES (500: 2 h 5 min at 15 s, so that chunks fill and the first hour of minute points
is packed, as on a daemon that has been running; a shorter run measures only open chunks and
loose points); BENCH_MON_QUICK=1 divides the series counts by 10.
Prometheus/promtool come from PROMETHEUS_BIN / PROMTOOL_BIN (default /usr/bin/...).
"""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PROM = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL_BIN", "/usr/bin/promtool")
NODE_EXPORTER = os.environ.get("NODE_EXPORTER_BIN", "/usr/bin/prometheus-node-exporter")
QUICK = os.environ.get("BENCH_MON_QUICK") == "1"
# promtool backfills one block duration per pass over the whole file; 744h lets it use its largest
# compatible block (486h), 80x less CPU than the 2h default on 30 days (both sides at their best).
BLOCK = "--max-block-duration=744h"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def env_int(name, dflt):
    v = int(os.environ.get(name, dflt))
    return max(1, v // 10) if QUICK and "SERIES" in name else v


def free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def kv(line):
    """'prog a=1 b=2 stats={...}' -> dict (stats parsed as JSON)."""
    out = {}
    head, _, stats = line.partition(" stats=")
    for tok in head.split()[1:]:
        k, _, v = tok.partition("=")
        out[k] = float(v)
    if stats:
        out["stats"] = json.loads(stats)
    return out


def run_prog(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.strip()[-800:]))
    return kv(p.stdout.strip().splitlines()[-1])


def promtool_blocks(om, out_dir):
    """Runs promtool create-blocks; returns (cpu seconds user+sys, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", BLOCK, om, out_dir],
                       capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError("promtool failed: %s" % (p.stderr or p.stdout)[-800:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def blocks(tsdb_dir):
    """[(block dir, numSamples)] of a TSDB dir."""
    out = []
    for b in sorted(os.listdir(tsdb_dir)):
        meta = os.path.join(tsdb_dir, b, "meta.json")
        if os.path.exists(meta):
            with open(meta) as f:
                out.append((os.path.join(tsdb_dir, b), json.load(f)["stats"]["numSamples"]))
    return out


class Prometheus:
    def __init__(self, work, tsdb_dir):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        self.log = open(os.path.join(work, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROM, "--config.file=" + cfg, "--storage.tsdb.path=" + tsdb_dir,
             "--storage.tsdb.retention.time=60d", "--web.listen-address=127.0.0.1:%d" % self.port,
             "--query.timeout=10m", "--query.max-samples=200000000"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        end = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited %s (log %s)" % (self.proc.returncode,
                                                                      self.log.name))
            try:
                with OPENER.open(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > end:
                raise RuntimeError("prometheus not ready after 120 s")
            time.sleep(0.2)

    def query(self, q, at_s):
        u = self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": at_s})
        t0 = time.monotonic()
        with OPENER.open(u, timeout=900) as r:
            body = json.load(r)
        dt = time.monotonic() - t0
        if body.get("status") != "success":
            raise RuntimeError("query %s: %s" % (q, body))
        return dt, len(body["data"]["result"])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def last_om_ts(om):
    """Newest timestamp in an OpenMetrics file (seconds)."""
    best = 0.0
    with open(om, "rb") as f:
        for line in f:
            if line[:1] != b"#":
                best = max(best, float(line.rsplit(None, 1)[1]))
    return best


def bench_review(build, work):
    n = env_int("BENCH_MON_SERIES", 10000)
    pts = env_int("BENCH_MON_POINTS", 720)
    om = os.path.join(work, "review.om")
    r = run_prog([os.path.join(build, "bench", "review_bench"), str(n), str(pts),
                  "--openmetrics", om])
    print("review: asakai ak_review_run over %d series x %d hourly points: %.3f s wall, "
          "%.3f s CPU, peak RSS %.0f MB (data alone %.0f MB); findings %d (growth %d, "
          "days-to-limit %d, shift %d, gap %d), tested %d" %
          (n, pts, r["wall_s"], r["cpu_s"], r["rss_peak_mb"], r["rss_data_mb"], r["findings"],
           r["growth"], r["dtl"], r["shift"], r["gap"], r["tested"]))
    sys.stdout.flush()
    tsdb = os.path.join(work, "review-tsdb")
    cpu, wall = promtool_blocks(om, tsdb)
    at = last_om_ts(om)
    os.unlink(om)
    print("review: promtool create-blocks %.1f s CPU (%.1f s wall)" % (cpu, wall))
    prom = Prometheus(work, tsdb)
    try:
        days = max(1, int(round(pts / 24.0)))
        sel = '{__name__=~"bench_.*"}[%dd]' % days
        res = {}
        for name, q in (("predict_linear", "predict_linear(%s, 86400)" % sel),
                        ("deriv", "deriv(%s)" % sel)):
            times = []
            for _ in range(3):
                dt, count = prom.query(q, at)
                if count != n:
                    raise RuntimeError("%s returned %d series, want %d" % (q, count, n))
                times.append(dt)
            res[name] = min(times)
    finally:
        prom.stop()
    ratio = r["wall_s"] / res["predict_linear"] if res["predict_linear"] > 0 else float("nan")
    cratio = r["cpu_s"] / res["predict_linear"] if res["predict_linear"] > 0 else float("nan")
    print("review: asakai %.3f s wall, %.3f s CPU (MK+Sen+BH+shift+gaps) vs prometheus "
          "predict_linear %.3f s, deriv %.3f s: ratio %.2f wall, %.2f CPU (asakai / "
          "predict_linear; %d series, results checked)" %
          (r["wall_s"], r["cpu_s"], res["predict_linear"], res["deriv"], ratio, cratio, n))


def bench_ingest(build, work):
    n = env_int("BENCH_MON_INGEST_SERIES", 2000)
    k = env_int("BENCH_MON_SCRAPES", 500)
    om = os.path.join(work, "ingest.om")
    data = os.path.join(work, "ak-data")
    os.makedirs(data)
    r = run_prog([os.path.join(build, "bench", "mon_bench"), data, str(n), str(k),
                  "--openmetrics", om])
    tsdb = os.path.join(work, "ingest-tsdb")
    cpu, wall = promtool_blocks(om, tsdb)
    blk = blocks(tsdb)
    p_samples = sum(s for _, s in blk)
    p_rate = p_samples / cpu if cpu > 0 else float("nan")
    a_rate = r["samples_per_cpu_s"]
    print("ingest: asakai %.0f samples/s per core (%d samples, %d series x %d scrapes of 0.0.4 "
          "text, parse+store+commit, %.2f s CPU)" % (a_rate, r["samples"], n, k, r["cpu_s"]))
    print("ingest: promtool create-blocks-from openmetrics %.0f samples/s per core (%d samples, "
          "%.2f s CPU user+sys, %.2f s wall)" % (p_rate, p_samples, cpu, wall))
    print("ingest: ratio asakai / promtool %.2f" % (a_rate / p_rate))

    st = r["stats"]
    raw = st.get("raw_samples") or r["samples"]
    a_stat = st.get("bytes_per_sample")
    a_blob = st["chunk_bytes"] / raw if st.get("chunk_bytes") is not None else float("nan")
    if a_stat is None:
        a_stat = a_blob
    db_bytes = 0
    for suffix in ("", "-wal", "-shm"):
        p = os.path.join(data, "metrics.db" + suffix)
        if os.path.exists(p):
            db_bytes += os.path.getsize(p)
    a_file = db_bytes / raw
    p_chunks = sum(dir_bytes(os.path.join(b, "chunks")) for b, _ in blk) / p_samples
    p_block = sum(dir_bytes(b) for b, _ in blk) / p_samples
    print("bytes/sample: asakai chunk table %.2f (metrics stats bytes_per_sample; chunk blobs "
          "alone %.2f), whole metrics.db %.2f (%d raw samples, %d bytes, minute+hour tiers "
          "included)" % (a_stat, a_blob, a_file, raw, db_bytes))
    print("bytes/sample: prometheus block chunks/ %.2f, whole block %.2f (%d samples, %d "
          "block(s))" % (p_chunks, p_block, p_samples, len(blk)))
    print("bytes/sample: ratio asakai / prometheus: chunks %.2f, whole %.2f" %
          (a_stat / p_chunks, a_file / p_block))

def wait_http(url, proc, what, timeout=60):
    end = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError("%s exited %s" % (what, proc.returncode))
        try:
            with OPENER.open(url, timeout=2) as r:
                if r.status == 200:
                    return r.read()
        except OSError:
            pass
        if time.monotonic() > end:
            raise RuntimeError("%s not ready after %d s" % (what, timeout))
        time.sleep(0.1)


def node_openmetrics(texts, om, t_end):
    """node_exporter scrapes -> one OpenMetrics file: every sample name its own "unknown"
    family (both stores keep raw values whatever the type), each series' points contiguous,
    stamped 15 s apart ending at t_end."""
    series = {}
    for i, text in enumerate(texts):
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, val = line.rpartition(" ")
            series.setdefault(key, {})[i] = val
    n = 0
    t0 = t_end - 15 * (len(texts) - 1)
    with open(om, "w") as f:
        fams = {}
        for key in series:
            fams.setdefault(key.split("{", 1)[0], []).append(key)
        for fam in sorted(fams):
            f.write("# TYPE %s unknown\n" % fam)
            for key in sorted(fams[fam]):
                for i, val in sorted(series[key].items()):
                    f.write("%s %s %.3f\n" % (key, val, t0 + 15 * i))
                    n += 1
        f.write("# EOF\n")
    return n, len(series)


def bench_node(build, work):
    if not os.access(NODE_EXPORTER, os.X_OK):
        print("node data: %s is missing: skipped" % NODE_EXPORTER)
        return
    k = env_int("BENCH_MON_NODE_SCRAPES", 480)
    port = free_port()
    log = open(os.path.join(work, "node_exporter.log"), "wb")
    ne = subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port],
                          stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    texts = []
    try:
        url = "http://127.0.0.1:%d/metrics" % port
        wait_http(url, ne, "node_exporter")
        for _ in range(k):
            texts.append(wait_http(url, ne, "node_exporter").decode())
            time.sleep(0.1)
    finally:
        ne.kill()
        ne.wait()
    om = os.path.join(work, "node.om")
    n, nser = node_openmetrics(texts, om, int(time.time()) - 60)
    tsdb = os.path.join(work, "node-tsdb")
    promtool_blocks(om, tsdb)
    blk = blocks(tsdb)
    p_samples = sum(s for _, s in blk)
    p_chunks = sum(dir_bytes(os.path.join(b, "chunks")) for b, _ in blk) / p_samples
    p_block = sum(dir_bytes(b) for b, _ in blk) / p_samples

    data = os.path.join(work, "node-ak")
    os.makedirs(data)
    cfg = os.path.join(work, "node-ak.yaml")
    with open(cfg, "w") as f:
        f.write("monitoring:\n  host_collector: false\n")
    aport = free_port()
    server = "http://127.0.0.1:%d" % aport
    alog = open(os.path.join(work, "node-ak.log"), "wb")
    bin_ = os.path.join(build, "asakai")
    ak = subprocess.Popen([bin_, "serve", "--config", cfg, "--listen", "127.0.0.1:%d" % aport,
                           "--data", data], stdin=subprocess.DEVNULL, stdout=alog, stderr=alog)
    try:
        wait_http(server + "/readyz", ak, "asakai")
        p = subprocess.run([bin_, "--server", server, "metrics", "import", om],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("metrics import failed: %s" % (p.stderr or p.stdout)[-500:])
        p = subprocess.run([bin_, "--server", server, "metrics", "stats", "-o", "json"],
                           capture_output=True, text=True, timeout=120)
        st = json.loads(p.stdout)
    finally:
        ak.terminate()
        ak.wait()
    raw = st["raw_samples"]
    a_file = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                 if f.startswith("metrics.db")) / raw
    print("node data: %d samples of %d series (%d scrapes of this machine's node_exporter, "
          "15 s apart)" % (n, nser, k))
    print("node data: asakai chunk table %.2f B/sample (chunk blobs alone %.2f), whole "
          "metrics.db %.2f; prometheus chunks/ %.2f, whole block %.2f: ratio chunks %.2f, whole "
          "%.2f" % (st["bytes_per_sample"], st["chunk_bytes"] / raw, a_file, p_chunks, p_block,
                    st["bytes_per_sample"] / p_chunks, a_file / p_block))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    for b in (PROM, PROMTOOL):
        if not os.access(b, os.X_OK):
            print("bench-mon: %s is missing (sh scripts/deps.sh installs prometheus)" % b)
            return 1
    work = tempfile.mkdtemp(prefix="asakai-bench-mon-")
    rc = 0
    try:
        for name, fn, prog in (("review", bench_review, "review_bench"),
                               ("ingest", bench_ingest, "mon_bench"),
                               ("node data", bench_node, "mon_bench")):
            if not os.access(os.path.join(build, "bench", prog), os.X_OK):
                print("%s: bench/%s was not built (module missing from this build)" %
                      (name, prog))
                rc = 1
                continue
            try:
                fn(build, work)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                print("%s: FAILED: %s" % (name, e))
                rc = 1
            sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
