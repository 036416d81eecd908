#!/usr/bin/python3
"""poll_bench.py — the pollers' benchmark (called by scripts/bench.sh; not a test).

One poll pass over A accounts x R regions x 4 APIs (EC2 DescribeInstanceStatus, RDS
DescribePendingMaintenanceActions, ElastiCache DescribeServiceUpdates+DescribeUpdateActions,
ElastiCache DescribeEvents), each account behind STS AssumeRole, against
tests/integration/fakeaws.py in its own process (every request's SigV4 checked with botocore,
P pages per list, L ms of latency per request like a real AWS round trip).

  1. asakai: `POST /api/v1/poll` (the second pass: records exist, steady state). Reports wall
     time, requests, peak requests in flight (libcurl multi).
  2. the peer, bench/poll_peer.py: what a team writes with boto3 — sequential, and with a
     thread pool of 16 — on the same fake, same state.
  3. intake while polling: EventBridge events posted one at a time to asakai, first while idle,
     then during a pass; p50/p99 latency of each (polling must not hold up intake).
Prints the ratios asakai / peer (lower is better for asakai).
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ASAKAI_BIN", os.path.join(ROOT, "build", "asakai"))
PY = "/usr/bin/python3"
ACCOUNTS = int(os.environ.get("BENCH_POLL_ACCOUNTS", "20"))
REGIONS = int(os.environ.get("BENCH_POLL_REGIONS", "4"))
PAGES = int(os.environ.get("BENCH_POLL_PAGES", "3"))
LATENCY = float(os.environ.get("BENCH_POLL_LATENCY_MS", "20"))
EB_KEY = "bench-key-0123456789"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(method, url, body=None, headers=None, timeout=600):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw


def start_fake():
    p = subprocess.Popen([PY, os.path.join(ROOT, "tests", "integration", "fakeaws.py"),
                          "--accounts", str(ACCOUNTS), "--regions", str(REGIONS),
                          "--pages", str(PAGES), "--latency-ms", str(LATENCY)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = {}
    while True:
        line = p.stdout.readline()
        if not line:
            raise SystemExit("poll bench: the fake AWS endpoint did not start")
        k, _, v = line.strip().partition(" ")
        info[k] = v
        if k == "READY":
            break
        if len(info) > 20:
            raise SystemExit("poll bench: unexpected output from fakeaws.py")
    # the remaining lines (KEYS, ACCOUNTS, ...) may follow READY
    while not all(k in info for k in ("KEYS", "ACCOUNTS", "REGIONS", "ROLE")):
        line = p.stdout.readline()
        if not line:
            break
        k, _, v = line.strip().partition(" ")
        info[k] = v
    return p, info


def config(info, data, port):
    accts = info["ACCOUNTS"].split(",")
    regions = info["REGIONS"].split(",")
    lines = ["server:", "  listen: 127.0.0.1:%d" % port, "  data_dir: " + data,
             "  log_level: warn",
             "intake:", "  eventbridge:", "    api_key: " + EB_KEY,
             "aws:", "  max_in_flight: 32", "  accounts:"]
    for a in accts:
        lines += ['    - id: "%s"' % a, "      regions: [%s]" % ", ".join(regions),
                  "      assume_role_arn: arn:aws:iam::%s:role/%s" % (a, info["ROLE"]),
                  "      endpoint_url: " + info["READY"]]
    lines += ["pollers:",
              "  ec2_scheduled_events: {enabled: true, interval: 24h}",
              "  rds_pending_maintenance: {enabled: true, interval: 24h}",
              "  elasticache_update_actions: {enabled: true, interval: 24h}",
              "  elasticache_events: {enabled: true, interval: 24h}",
              "  health: {enabled: false}"]
    return "\n".join(lines) + "\n"


def eb_event(i):
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS Health Event",
            "source": "aws.health", "account": "123456789012", "region": "us-east-1",
            "time": "2026-11-20T00:00:00Z", "resources": ["i-%017d" % i],
            "detail": {"eventArn": "arn:aws:health:us-east-1::event/EC2/X/bench-%s" % uuid.uuid4(),
                       "service": "EC2", "eventTypeCode": "AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED",
                       "eventTypeCategory": "scheduledChange",
                       "startTime": "Thu, 10 Dec 2026 02:00:00 GMT",
                       "affectedEntities": [{"entityValue": "i-%017d" % i}]}}


def intake_latencies(url, n=None, until=None):
    out = []
    i = 0
    while (n is not None and i < n) or (until is not None and not until.is_set()):
        t0 = time.perf_counter()
        http("POST", url + "/intake/eventbridge", eb_event(i), {"X-Asakai-Key": EB_KEY})
        out.append((time.perf_counter() - t0) * 1000)
        i += 1
    return out


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def main():
    fake, info = start_fake()
    tmp = tempfile.mkdtemp(prefix="asakai-bench-poll-")
    port = free_port()
    cfg = os.path.join(tmp, "asakai.yaml")
    with open(cfg, "w") as f:
        f.write(config(info, os.path.join(tmp, "data"), port))
    akid, secret = info["KEYS"].split()
    env = dict(os.environ, AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret,
               AWS_REGION="us-east-1")
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    d = subprocess.Popen([BIN, "serve", "--config", cfg], env=env, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    try:
        for _ in range(200):
            try:
                http("GET", url + "/readyz")
                break
            except OSError:
                time.sleep(0.05)
        # the scheduler's first pass (creates the records); then the measured pass
        deadline = time.time() + 300
        while time.time() < deadline:
            st = http("GET", url + "/api/v1/poll")
            if st and all(s["last_run_at"] for s in st if s["enabled"]):
                break
            time.sleep(0.2)
        # the measured pass, alone
        c0, a0 = cpu_s(fake.pid), cpu_s(d.pid)
        t0 = time.perf_counter()
        rep = http("POST", url + "/api/v1/poll", {})
        wall = time.perf_counter() - t0
        fake_cpu, ak_cpu = cpu_s(fake.pid) - c0, cpu_s(d.pid) - a0
        # intake alone, then during another pass
        idle = intake_latencies(url, n=300)
        stop = threading.Event()
        busy = []
        t = threading.Thread(target=lambda: busy.extend(intake_latencies(url, until=stop)))
        t.start()
        http("POST", url + "/api/v1/poll", {})
        stop.set()
        t.join()
        failed = [s for s in rep["scopes"] if not s["ok"]]
        pages = sum(s["pages"] for s in rep["scopes"])
        peers = {}
        for threads in ((0, 16) if not os.environ.get("BENCH_POLL_NO_PEER") else ()):
            out = subprocess.run(
                [PY, os.path.join(ROOT, "bench", "poll_peer.py"), "--url", info["READY"],
                 "--key", akid, "--secret", secret, "--accounts", info["ACCOUNTS"],
                 "--regions", info["REGIONS"], "--role", info["ROLE"], "--threads", str(threads)],
                capture_output=True, text=True, timeout=1200)
            peers[threads] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=60)
        fake.send_signal(signal.SIGTERM)
        fake.wait(timeout=30)
    seq, pool = peers.get(0, {"wall_s": float("nan"), "requests": 0}), \
        peers.get(16, {"wall_s": float("nan"), "requests": 0})
    print("poll pass: %d accounts x %d regions x 4 APIs = %d scopes, %d pages, %d requests "
          "(%d retries), latency %.0f ms/request at the fake" %
          (ACCOUNTS, REGIONS, len(rep["scopes"]), pages, rep["requests"], rep["retries"], LATENCY))
    print("  asakai (libcurl multi, max_in_flight 32): %.2f s wall, peak %d in flight, "
          "%d scope(s) failed; requests done in %.2f s, applied in %.2f s" %
          (wall, rep["peak_in_flight"], len(failed), rep["fetch_ms"] / 1000.0,
           (rep["duration_ms"] - rep["fetch_ms"]) / 1000.0))
    print("  bounds: requests x latency / 32 in flight = %.2f s; the fake used %.2f s CPU (one "
          "Python process verifying every SigV4 signature: with its GIL it, not asakai, is the "
          "ceiling here); asakai used %.2f s CPU" %
          (rep["requests"] * LATENCY / 1000.0 / 32, fake_cpu, ak_cpu))
    for s in failed[:5]:
        print("    failed scope %s: %s" % (s["scope"], s["error"]))
    print("  peer boto3 sequential:                   %.2f s wall, %d requests" %
          (seq["wall_s"], seq["requests"]))
    print("  peer boto3 16 threads:                   %.2f s wall, %d requests" %
          (pool["wall_s"], pool["requests"]))
    print("  ratio asakai/boto3-sequential: %.3f   ratio asakai/boto3-16-threads: %.3f" %
          (wall / seq["wall_s"], wall / pool["wall_s"]))
    print("intake while polling: %d EventBridge posts idle p50 %.1f ms p99 %.1f ms; "
          "%d during the pass p50 %.1f ms p99 %.1f ms (ratio p50 %.2f)" %
          (len(idle), pct(idle, .5), pct(idle, .99), len(busy), pct(busy, .5), pct(busy, .99),
           pct(busy, .5) / pct(idle, .5) if idle and busy else float("nan")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
