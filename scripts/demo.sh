#!/bin/sh
# make demo: starts the daemon on embedded defaults (data in ./asakai-data, 127.0.0.1:9780) plus
# two demo services to monitor (asakai-data/demo.yaml: "api" and "db"; the host itself is
# collected for real), feeds it the clearly labelled demo stream and 14 days of metrics history
# (scripts/demo-feed.py, dated relative to now), prints where to look, and stays in the
# foreground until Ctrl-C (which stops the daemon cleanly).
set -eu
cd "$(dirname "$0")/.."
BIN=build/asakai
SERVER=http://127.0.0.1:9780
LOG=asakai-data/demo-daemon.log
mkdir -p asakai-data
if curl -fsS "$SERVER/healthz" >/dev/null 2>&1; then
    echo "demo: something already listens on $SERVER; stop it first (or use it: open $SERVER/)" >&2
    exit 1
fi
CONFIG=asakai-data/demo.yaml
cat > "$CONFIG" <<'EOC'
# Written by scripts/demo.sh: the demo's monitored services. Everything else is the embedded
# defaults (asakai config defaults). Their history is imported by scripts/demo-feed.py.
services:
  - name: api
    type: http
  - name: db
    type: postgres
    limits:
      pg_stat_activity_count: 500
EOC
"$BIN" serve --config "$CONFIG" > "$LOG" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; exit 0' INT TERM
i=0
until curl -fsS "$SERVER/readyz" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 $PID 2>/dev/null; then
        echo "demo: the daemon did not start; its log:" >&2
        cat "$LOG" >&2
        exit 1
    fi
    sleep 0.1
done
echo "demo: feeding the demo stream (account 123456789012, topic asakai-demo, resources demo-*)"
/usr/bin/python3 scripts/demo-feed.py | "$BIN" --server "$SERVER" events import --channel demo -o table - || true
echo
echo "demo: importing 14 days of metrics history for the demo services api and db"
/usr/bin/python3 scripts/demo-feed.py --monitoring "$SERVER" || true
echo
"$BIN" --server "$SERVER" review -o table || true
echo
"$BIN" --server "$SERVER" coverage -o table || true
echo
"$BIN" --server "$SERVER" maint list --all -o table
echo
echo "demo: the recurring ElastiCache replacement (#5) gets its runbook, dated from the notice"
"$BIN" --server "$SERVER" runbook new elasticache-node-replacement --from-maint 5 \
    --var endpoint=demo-sessions.abc123.apne1.cache.amazonaws.com \
    --var service_update=elc-20261120-001 --var health_url=https://demo.example.com/healthz \
    -o table || true
cat <<EOT

asakai demo is running (pid $PID, log $LOG).
  Dashboard:       $SERVER/   (services host, api, db with sparklines and findings)
  Monitoring:      $BIN review   |   $BIN coverage   |   $BIN metrics series --service api
  Maintenance API: $SERVER/api/v1/maintenance?all=1
  Morning report:  $SERVER/api/v1/report?format=html   ($BIN report daily)
  Runbooks:        $BIN runbook list   |   $BIN runbook export 1 --format md
  Metrics:         $SERVER/metrics
  CLI:             $BIN maint list    |   $BIN maint show 4
Press Ctrl-C to stop.
EOT
wait $PID
