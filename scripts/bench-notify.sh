#!/bin/sh
# Notification bench (called by scripts/bench.sh; not a test: nothing passes or fails on time).
#   One local webhook sink (tests/integration/sinks.py bench-webhook) records arrival times.
#   1. asakai with one webhook receiver: N distinct EventBridge Health events through
#      POST /intake/eventbridge, each becomes a record whose "created" change is routed and
#      delivered (signed JSON) to the sink.
#   2. Prometheus Alertmanager (Debian package) with a webhook_config to the same sink: the same N
#      alerts through POST /api/v2/alerts, one group per alert (group_wait 0s).
#   Both are driven by the same client (C concurrent keep-alive connections, one event per
#   request); latency = sink arrival - the moment the client sent that event. Prints throughput
#   (N / (last arrival - first send)), p50/p99 latency of each and the ratios asakai / Alertmanager.
#   Bounded: each phase waits at most BENCH_NOTIFY_WAIT seconds (default 60) for its deliveries.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${ASAKAI_BIN:-$ROOT/build/asakai}
AM=${ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}
PY=/usr/bin/python3
N=${BENCH_NOTIFY_N:-2000}
C=${BENCH_NOTIFY_CONNS:-16}
WAIT=${BENCH_NOTIFY_WAIT:-60}
W=$(mktemp -d)
SPID=; DPID=; APID=
cleanup() {
    for p in $SPID $DPID $APID; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT INT TERM

free_port() {
    $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
wait_http() { # url what pid
    i=0
    until curl -fsS "$1" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 150 ] || ! kill -0 "$3" 2>/dev/null; then
            echo "bench-notify: $2 did not become ready" >&2; return 1
        fi
        sleep 0.1
    done
}

[ -x "$BIN" ] || { echo "bench-notify: no asakai binary at $BIN" >&2; exit 1; }
[ -x "$AM" ] || { echo "bench-notify: no Alertmanager at $AM (sh scripts/deps.sh)" >&2; exit 1; }

SPORT=$(free_port)
$PY tests/integration/sinks.py bench-webhook "$SPORT" "$W/arrivals.txt" &
SPID=$!
i=0 # the sink answers POST only: any HTTP answer means it listens
until curl -sS -o /dev/null "http://127.0.0.1:$SPORT/" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "bench-notify: no webhook sink" >&2; exit 1; }
    sleep 0.1
done

# The client: sends N events, one per request over C keep-alive connections, writes
# "<send unix time> <id>" per event; then waits until the sink saw every id under PATH; then
# prints one line of numbers.
cat > "$W/drive.py" <<'EOF'
import http.client, json, sys, threading, time
mode, port, n, conns, sends, arrivals, path, wait_s = sys.argv[1:9]
port, n, conns, wait_s = int(port), int(n), int(conns), float(wait_s)

def rfc1123(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))

def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

now = time.time()
def event(i):
    bid = "bench-%06d" % i
    if mode == "asakai":
        start = now + 40 * 86400 + i * 60
        return bid, "/intake/eventbridge", {"Content-Type": "application/json",
                                             "X-Asakai-Key": "bench-key-0123456789"}, {
            "version": "0", "id": "bench-ev-%06d" % i, "detail-type": "AWS Health Event",
            "source": "aws.health", "account": "123456789012", "time": rfc3339(now),
            "region": "ap-northeast-1", "resources": [bid],
            "detail": {"eventArn": "arn:aws:health:ap-northeast-1::event/EC2/"
                       "AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED/BENCH_%06d" % i,
                       "service": "EC2",
                       "eventTypeCode": "AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED",
                       "eventTypeCategory": "scheduledChange", "statusCode": "upcoming",
                       "startTime": rfc1123(start), "endTime": rfc1123(start + 3600),
                       "eventDescription": [{"language": "en_US",
                                             "latestDescription": "Scheduled reboot."}],
                       "affectedEntities": [{"entityValue": bid, "tags": {}}]}}
    return bid, "/api/v2/alerts", {"Content-Type": "application/json"}, [{
        "labels": {"alertname": "MaintenanceScheduled", "id": bid, "service": "ec2",
                   "resource": bid},
        "annotations": {"summary": "Scheduled reboot of " + bid},
        "startsAt": rfc3339(now)}]

sent = {}
lock = threading.Lock()
nxt = [0]
errors = []

def worker():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        with lock:
            i = nxt[0]
            nxt[0] += 1
        if i >= n:
            break
        bid, url, hdrs, body = event(i)
        data = json.dumps(body).encode()
        t = time.time()
        for attempt in range(3):
            try:
                c.request("POST", url, data, hdrs)
                r = c.getresponse()
                r.read()
                if r.status >= 300:
                    errors.append("%s: HTTP %d" % (bid, r.status))
                break
            except (OSError, http.client.HTTPException) as e:
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if attempt == 2:
                    errors.append("%s: %s" % (bid, e))
        with lock:
            sent[bid] = t
    c.close()

ts = [threading.Thread(target=worker) for _ in range(conns)]
t0 = time.time()
for t in ts: t.start()
for t in ts: t.join()
t_sent = time.time()
with open(sends, "w") as f:
    for k, v in sent.items():
        f.write("%.6f %s\n" % (v, k))

def arrived():
    got = {}
    try:
        with open(arrivals) as f:
            for line in f:
                p = line.split()
                if len(p) < 3 or p[1] != path:
                    continue
                for bid in p[2:]:
                    if bid in sent and bid not in got:
                        got[bid] = float(p[0])
    except OSError:
        pass
    return got

end = time.time() + wait_s
got = arrived()
while len(got) < len(sent) and time.time() < end:
    time.sleep(0.2)
    got = arrived()
lat = sorted(got[k] - sent[k] for k in got)
def pct(p):
    return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] if lat else float("nan")
span = (max(got.values()) - t0) if got else float("nan")
rate = len(got) / span if got else 0.0
print("delivered=%d/%d errors=%d intake_rate=%.1f rate=%.1f p50=%.4f p99=%.4f max=%.4f" % (
    len(got), n, len(errors), n / (t_sent - t0), rate, pct(50), pct(99),
    lat[-1] if lat else float("nan")))
for e in errors[:3]:
    sys.stderr.write("bench-notify: send error %s\n" % e)
EOF

# ---- 1. asakai -------------------------------------------------------------------------------
DPORT=$(free_port)
cat > "$W/asakai.yml" <<EOT
server: {listen: "127.0.0.1:$DPORT", data_dir: "$W/data", threads: 8, log_level: warn}
intake:
  eventbridge: {api_key: "bench-key-0123456789"}
receivers:
  - name: bench-hook
    webhook: {url: "http://127.0.0.1:$SPORT/asakai", secret: "bench-secret"}
notify: {backoff_min: 1s, backoff_max: 5s, timeout: 5s}
EOT
"$BIN" serve --config "$W/asakai.yml" 2> "$W/asakai.log" &
DPID=$!
wait_http "http://127.0.0.1:$DPORT/readyz" asakai $DPID || { tail -20 "$W/asakai.log"; exit 1; }
echo "bench-notify: asakai: $N EventBridge events, $C connections -> webhook receiver ..."
A_OUT=$($PY "$W/drive.py" asakai "$DPORT" "$N" "$C" "$W/sends-asakai.txt" "$W/arrivals.txt" \
        /asakai "$WAIT")
echo "bench-notify: asakai: $A_OUT"
curl -fsS "http://127.0.0.1:$DPORT/metrics" 2>/dev/null |
    grep -E '^asakai_(outbox_messages|notify_sent_total)' | sed 's/^/bench-notify:   /' || true
kill -TERM $DPID; wait $DPID || true; DPID=

# ---- 2. Prometheus Alertmanager -------------------------------------------------------------
APORT=$(free_port)
cat > "$W/am.yml" <<EOT
route:
  receiver: sink
  group_by: ['id']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: sink
    webhook_configs:
      - url: "http://127.0.0.1:$SPORT/am"
        send_resolved: false
EOT
mkdir "$W/am-data"
"$AM" --config.file="$W/am.yml" --storage.path="$W/am-data" \
    --web.listen-address="127.0.0.1:$APORT" --cluster.listen-address= 2> "$W/am.log" &
APID=$!
wait_http "http://127.0.0.1:$APORT/-/ready" Alertmanager $APID || { tail -20 "$W/am.log"; exit 1; }
AM_VER=$("$AM" --version 2>&1 | head -1)
echo "bench-notify: Alertmanager ($AM_VER): $N alerts, $C connections -> webhook_config ..."
M_OUT=$($PY "$W/drive.py" am "$APORT" "$N" "$C" "$W/sends-am.txt" "$W/arrivals.txt" /am "$WAIT")
echo "bench-notify: alertmanager: $M_OUT"
kill -TERM $APID; wait $APID || true; APID=

echo
$PY - "$A_OUT" "$M_OUT" <<'EOF'
import sys
def parse(s):
    return dict(kv.split("=", 1) for kv in s.split())
a, m = parse(sys.argv[1]), parse(sys.argv[2])
def f(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return float("nan")
rows = [("delivered", "delivered"), ("deliveries/s (intake -> webhook)", "rate"),
        ("p50 latency s (intake -> webhook)", "p50"), ("p99 latency s", "p99")]
print("%-40s %14s %14s %10s" % ("notification bench", "asakai", "alertmanager", "ratio"))
for name, k in rows:
    if k == "delivered":
        print("%-40s %14s %14s" % (name, a.get(k), m.get(k)))
        continue
    x, y = f(a, k), f(m, k)
    r = x / y if y else float("nan")
    print("%-40s %14.4f %14.4f %10.3f" % (name, x, y, r))
print("(ratio = asakai / alertmanager: > 1 is better for throughput, < 1 is better for latency)")
EOF
