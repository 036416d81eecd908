#!/bin/sh
# make bench — intake throughput against the physical limit, in the same run:
#   signed SNS notifications accepted per second, end to end over HTTP with durable commit
#   (daemon pinned to one core), beside the RSA-2048 verify rate `openssl speed` measures on that
#   same core. Prints both and their ratio. Not a test: nothing here passes or fails on time.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/build/asakai
GEN=$ROOT/build/bench/bench_intake
N=${BENCH_MESSAGES:-12000}
CONNS=${BENCH_CONNS:-256}
W=$(mktemp -d)
trap 'kill $SPID $DPID 2>/dev/null; rm -rf "$W"' EXIT
SPID=; DPID=
CORE_D=0; CORE_C=1
[ "$(nproc)" -lt 2 ] && CORE_C=0

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

cd "$W"
# a throw-away PKI: CA, SNS signing cert (SAN sns.amazonaws.com), TLS cert for 127.0.0.1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout sign.key -out sign.csr -subj /CN=sns.amazonaws.com 2>/dev/null
printf 'subjectAltName=DNS:sns.amazonaws.com\n' > sign.ext
openssl x509 -req -in sign.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out sign.pem -days 2 -extfile sign.ext 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > tls.ext
openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tls.pem -days 2 -extfile tls.ext 2>/dev/null
mkdir www && cp sign.pem www/SimpleNotificationService-0be0c4.pem
CPORT=$(free_port)
(cd www && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$CPORT" -cert ../tls.pem -key ../tls.key) >/dev/null 2>&1 &
SPID=$!
DPORT=$(free_port)
TOPIC=arn:aws:sns:ap-northeast-1:123456789012:bench
cat > bench.yml <<EOT
server: {listen: "127.0.0.1:$DPORT", data_dir: "$W/data", threads: ${BENCH_THREADS:-2}, max_connections: 1024, log_level: warn}
intake:
  sns:
    topics: ["$TOPIC"]
    cert_url_pattern: '^https://127\.0\.0\.1:$CPORT/SimpleNotificationService-[0-9a-f]+\.pem$'
    ca_file: "$W/ca.pem"
    verify_cert_chain: true
EOT
${BENCH_WRAP:-} taskset -c $CORE_D "$BIN" serve --config bench.yml 2> daemon.log &
DPID=$!
i=0
until curl -fsS "http://127.0.0.1:$DPORT/readyz" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && { cat daemon.log; exit 1; }; sleep 0.1
done
echo "bench: signing $N SNS notifications (SignatureVersion 2, RSA-2048) ..."
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
DAEMON=$(pgrep -f "serve --config bench.yml" | head -1)
PERF=
if [ -n "${BENCH_PERF:-}" ]; then # profile the daemon during the load only
    ${BENCH_PROFILER:-perf record -F 2000 -g -o "$BENCH_PERF"} -p "$DAEMON" >/dev/null 2>"$BENCH_PERF.err" &
    PERF=$!
    sleep 0.5
fi
OUT=$(BENCH_CPU_PID=$DAEMON taskset -c $CORE_C "$GEN" sign.key "https://127.0.0.1:$CPORT/SimpleNotificationService-0be0c4.pem" \
      "$TOPIC" 127.0.0.1 "$DPORT" "$N" "$CONNS")
[ -n "$PERF" ] && kill -INT $PERF && wait $PERF 2>/dev/null
echo "bench: $OUT"
RATE=$(echo "$OUT" | sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
curl -fsS "http://127.0.0.1:$DPORT/metrics" > "$ROOT/build/bench-metrics.txt"
ROWS=$(curl -fsS "http://127.0.0.1:$DPORT/api/v1/stats" | /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["archive"]["total"])')
kill -TERM $DPID; wait $DPID || true; DPID=
echo "bench: archive holds $ROWS messages after a clean stop (sent $N)"
SPEED=$(taskset -c $CORE_D openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}')
echo
printf '%-58s %12s\n' "intake: signed SNS notifications accepted/s (1 core, HTTP, fsync)" "$RATE"
printf '%-58s %12s\n' "openssl speed: RSA-2048 verify/s (same core, same run)" "$SPEED"
/usr/bin/python3 -c "r=$RATE/$SPEED; print('%-58s %12.3f  (goal >= 0.333)' % ('ratio intake / raw verify', r))"
ASAKAI_BIN="$BIN" sh "$ROOT/scripts/bench-notify.sh"
echo
echo "== pollers: one pass over 20 accounts x 4 regions x 4 APIs vs boto3 (bench/poll_bench.py)"
ASAKAI_BIN="$BIN" /usr/bin/python3 "$ROOT/bench/poll_bench.py"
echo
echo "== OIDC / STS twin and aws-creds (scripts/bench-oidc.sh)"
ASAKAI_BIN="$BIN" sh "$ROOT/scripts/bench-oidc.sh"
