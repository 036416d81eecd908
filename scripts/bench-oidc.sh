#!/bin/sh
# OIDC / STS bench (issue 5; called by scripts/bench.sh; not a test: nothing passes or fails on
# time).
#   1. The STS twin in `asakai serve`: AssumeRoleWithWebIdentity exchanges per second with the
#      daemon pinned to one core (RS256 token, warm JWKS from jwks_file, trust policy evaluated,
#      credentials issued and sealed, audit row written), driven by bench/sts_load.c over
#      BENCH_OIDC_CONNS keep-alive connections from the other core; beside `openssl speed rsa2048`
#      verify/s on the daemon's core in the same run, as a ratio; p50/p99 latency on loopback;
#      the daemon's CPU time per exchange (the rest of the wall time is durable commits).
#      The aws-creds probe before the load warms the daemon (JWKS loaded, store open).
#   2. `asakai aws-creds` (eval of its env output) vs the seed's pipeline (`aws sts
#      assume-role-with-web-identity ... --duration-seconds 900`, three `jq`, three `export`)
#      against the same local endpoint (the twin; moto's STS when the twin does not answer),
#      BENCH_OIDC_RUNS runs each: median wall time and ratio; and what each needs installed.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${ASAKAI_BIN:-$ROOT/build/asakai}
PY=/usr/bin/python3
AWS=${AWS_BIN:-/usr/bin/aws}
RUNS=${BENCH_OIDC_RUNS:-50}
CONNS=${BENCH_OIDC_CONNS:-16}
SECS=${BENCH_OIDC_SECONDS:-5}
W=$(mktemp -d)
DPID=; MPID=
cleanup() {
    for p in $DPID $MPID; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT INT TERM
CORE_D=0; CORE_C=1
[ "$(nproc)" -lt 2 ] && CORE_C=0

free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
[ -x "$BIN" ] || { echo "bench-oidc: no asakai binary at $BIN" >&2; exit 1; }

ORG=7b1b5c4e-0c1a-4d4e-9a55-3f0e6a2d9c11
PROJ=0f3c2a9e-2b7d-4c53-8a1e-6d5b4e3f2a10
ISS=https://oidc.circleci.com/org/$ORG
ROLE=arn:aws:iam::123456789012:role/application-deploy-circleci

# an RS256 key, its JWKS, and a CircleCI-shaped token valid for an hour
$PY - "$W" "$ISS" "$ORG" "$PROJ" <<'EOF'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
w, iss, org, proj = sys.argv[1:]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
n = key.public_key().public_numbers()
jwks = {"keys": [{"kty": "RSA", "kid": "bench-1", "use": "sig", "alg": "RS256",
                  "n": b64(n.n.to_bytes(256, "big")), "e": b64(n.e.to_bytes(3, "big"))}]}
json.dump(jwks, open(w + "/jwks.json", "w"))
now = int(time.time())
claims = {"iss": iss, "aud": org, "iat": now - 5, "nbf": now - 5, "exp": now + 3600,
          "sub": "org/%s/project/%s/user/8d2c1e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f" % (org, proj),
          "oidc.circleci.com/project-id": proj}
hdr = {"alg": "RS256", "kid": "bench-1", "typ": "JWT"}
si = b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(claims).encode())
sig = key.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256())
open(w + "/token", "w").write(si + "." + b64(sig))
EOF
TOKEN=$(cat "$W/token")

DPORT=$(free_port)
cat > "$W/bench.yml" <<EOT
server: {listen: "127.0.0.1:$DPORT", data_dir: "$W/data", log_level: warn}
sts:
  enabled: true
  oidc_providers:
    - url: $ISS
      client_id_list: ["$ORG"]
      thumbprint_list: []
      jwks_file: $W/jwks.json
  roles:
    - name: application-deploy-circleci
      account_id: "123456789012"
      max_session_duration: 3600
      assume_role_policy: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.circleci.com/org/$ORG"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {"oidc.circleci.com/org/$ORG:aud": "$ORG"}, "StringLike": {"oidc.circleci.com/org/$ORG:sub": "org/$ORG/project/$PROJ/user/*"}}}]}'
EOT
TWIN=
${BENCH_OIDC_WRAP:-} taskset -c $CORE_D "$BIN" serve --config "$W/bench.yml" 2> "$W/daemon.log" &
DPID=$!
i=0
until curl -fsS "http://127.0.0.1:$DPORT/readyz" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 $DPID 2>/dev/null; then DPID=; break; fi
    sleep 0.1
done
if [ -n "$DPID" ] && CIRCLE_OIDC_TOKEN=$TOKEN "$BIN" aws-creds -q --role-arn "$ROLE" \
        --endpoint "http://127.0.0.1:$DPORT/sts" --max-attempts 1 >/dev/null 2>"$W/probe.err"; then
    TWIN="http://127.0.0.1:$DPORT/sts"
else
    echo "bench-oidc: the STS twin does not answer ($(tail -n 3 "$W/daemon.log" "$W/probe.err" 2>/dev/null | tr '\n' ' '))"
fi

echo
echo "== OIDC 1. STS twin: exchanges/s on one core (RS256, warm JWKS), $CONNS connections, ${SECS}s"
if [ -n "$TWIN" ]; then
    cc -O2 -D_GNU_SOURCE -pthread -o "$W/sts_load" "$ROOT/bench/sts_load.c"
    ENC=$($PY -c 'import sys,urllib.parse as u;print(u.quote(sys.argv[1],safe=""))' "$ROLE")
    printf 'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s&RoleSessionName=bench&WebIdentityToken=%s&DurationSeconds=900' \
        "$ENC" "$TOKEN" > "$W/body"
    cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
    C0=$(cpu_ticks $DPID)
    OUT=$(taskset -c $CORE_C "$W/sts_load" 127.0.0.1 "$DPORT" /sts "$W/body" "$CONNS" "$SECS" 0)
    C1=$(cpu_ticks $DPID)
    echo "bench-oidc: $OUT"
    OKN=$(echo "$OUT" | sed -n 's/^ok=\([0-9]*\).*/\1/p')
    TCK=$(getconf CLK_TCK)
    RATE=$(echo "$OUT" | sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
    P50=$(echo "$OUT" | sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p')
    P99=$(echo "$OUT" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p')
    SPEED=$(taskset -c $CORE_D openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}')
    printf '%-62s %12s\n' "STS twin: AssumeRoleWithWebIdentity exchanges/s (1 core)" "$RATE"
    printf '%-62s %12s\n' "openssl speed: RSA-2048 verify/s (same core, same run)" "$SPEED"
    $PY -c "print('%-62s %12.3f' % ('ratio exchanges / raw verify', $RATE / $SPEED))"
    $PY -c "c=($C1-$C0)/$TCK; n=max($OKN,1); print('%-62s %9.3f ms  (daemon busy %.0f%% of the core; idle time is waiting on durable commits)' % ('daemon CPU time per exchange', c*1000/n, 100*c/$SECS))"
    printf '%-62s %9s ms\n' "latency p50 on loopback ($CONNS connections)" "$P50"
    printf '%-62s %9s ms\n' "latency p99 on loopback ($CONNS connections)" "$P99"
else
    echo "(skipped: the twin is not available in this build)"
fi

echo
EP=$TWIN
if [ -z "$EP" ]; then
    MOTO_PY=$(command -v python3 || true)
    if [ -n "$MOTO_PY" ] && "$MOTO_PY" -c 'import moto.server' 2>/dev/null; then
        MPORT=$(free_port)
        "$MOTO_PY" -m moto.server -H 127.0.0.1 -p "$MPORT" >"$W/moto.log" 2>&1 &
        MPID=$!
        i=0
        until curl -sS -o /dev/null "http://127.0.0.1:$MPORT/" 2>/dev/null; do
            i=$((i + 1)); [ $i -gt 150 ] && { echo "bench-oidc: moto did not start" >&2; exit 1; }
            sleep 0.1
        done
        EP="http://127.0.0.1:$MPORT"
    fi
fi
echo "== OIDC 2. asakai aws-creds vs aws-cli + jq (the seed pipeline), $RUNS runs each, endpoint ${EP:-none}"
if [ -z "$EP" ] || [ ! -x "$AWS" ] || ! command -v jq >/dev/null; then
    echo "(skipped: needs the twin or moto, $AWS and jq)"
    exit 0
fi
cat > "$W/seed.sh" <<'EOT'
OUT=$("$AWS" sts assume-role-with-web-identity --role-arn "$ROLE" --role-session-name circleci-oidc \
      --web-identity-token "$CIRCLE_OIDC_TOKEN" --duration-seconds 900 --endpoint-url "$EP" \
      --region us-east-1 --output json)
export AWS_ACCESS_KEY_ID=$(echo "$OUT" | jq -r .Credentials.AccessKeyId)
export AWS_SECRET_ACCESS_KEY=$(echo "$OUT" | jq -r .Credentials.SecretAccessKey)
export AWS_SESSION_TOKEN=$(echo "$OUT" | jq -r .Credentials.SessionToken)
[ -n "$AWS_SESSION_TOKEN" ] && [ "$AWS_SESSION_TOKEN" != null ]
EOT
cat > "$W/asakai.sh" <<'EOT'
eval "$("$BIN" aws-creds -q --role-arn "$ROLE" --endpoint "$EP" --duration 900)"
[ -n "$AWS_SESSION_TOKEN" ]
EOT
export AWS BIN ROLE EP
export CIRCLE_OIDC_TOKEN="$TOKEN"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
time_runs() { # script -> one wall time in ms per line
    k=0
    while [ $k -lt "$RUNS" ]; do
        t0=$(date +%s%N)
        sh "$1" >/dev/null 2>>"$W/runs.err" || { echo "bench-oidc: $1 failed:" >&2; tail -n 5 "$W/runs.err" >&2; exit 1; }
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000))
        k=$((k + 1))
    done
}
time_runs "$W/seed.sh" > "$W/seed.times"
time_runs "$W/asakai.sh" > "$W/asakai.times"
NEEDED=$(readelf -d "$BIN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
NCLOSURE=$(ldd "$BIN" | grep -c '=>' || true)
LIBS="$NEEDED($NCLOSURE in the ldd closure)"
$PY - "$W" "$BIN" "$AWS" "$LIBS" <<'EOF'
import os, statistics, subprocess, sys
w, binary, aws, libs = sys.argv[1:]
def med(name):
    v = [int(x) for x in open(os.path.join(w, name)).read().split()]
    return statistics.median(v) / 1000.0, min(v) / 1000.0
seed, seed_min = med("seed.times")
ours, ours_min = med("asakai.times")
print("%-62s %9.1f ms (min %.1f)" % ("seed: aws sts assume-role-with-web-identity + 3 jq, median",
                                    seed, seed_min))
print("%-62s %9.1f ms (min %.1f)" % ("asakai aws-creds -o env + eval, median", ours, ours_min))
print("%-62s %9.1fx" % ("ratio seed / asakai (higher = asakai faster)", seed / ours))
def dpkg(p):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Installed-Size}", p], capture_output=True, text=True)
    return int(r.stdout) if r.returncode == 0 and r.stdout.strip() else 0
real_aws = os.path.realpath(aws)
pkgs = ["awscli", "python3-botocore", "python3-s3transfer", "python3-awscrt", "jq", "libjq1", "libonig5"]
sizes = {p: dpkg(p) for p in pkgs}
print()
print("what each needs installed (Debian packages, Installed-Size):")
print("  seed:   awscli %.1f MiB (+ python3-botocore %.1f MiB, python3-s3transfer %.1f MiB, "
      "python3-awscrt %.1f MiB, python3 itself) + jq %.1f MiB (jq, libjq1, libonig5)"
      % (sizes["awscli"] / 1024, sizes["python3-botocore"] / 1024, sizes["python3-s3transfer"] / 1024,
         sizes["python3-awscrt"] / 1024, (sizes["jq"] + sizes["libjq1"] + sizes["libonig5"]) / 1024))
tot = sum(sizes.values())
print("          total of those packages: %.1f MiB (%s)" % (tot / 1024, real_aws))
print("  asakai: one binary, %.1f MiB; shared libraries: %s" % (os.path.getsize(binary) / 1048576, libs))
EOF
