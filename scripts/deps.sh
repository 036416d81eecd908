#!/bin/sh
# Install the Debian packages asakai needs to build, test, fuzz and benchmark.
# Idempotent: checks each package with dpkg and runs apt-get only when one is missing.
set -eu

# build: compilers (clang for libFuzzer: libclang-rt-14-dev), meson/ninja, the chosen libraries;
# tests: Debian's python3 with python3-cryptography (integration tests sign SNS messages),
# openssl and curl (bench, demo); util-linux's taskset (bench) is on every Debian;
# tzdata: /usr/share/zoneinfo, read by src/tz (digest times, "02:00 JST" in subjects);
# chromium + chromium-driver: the morning report's HTML page is rendered headless in the tests;
# prometheus (+ promtool) and prometheus-node-exporter: peers of the monitoring tests and bench
# (tests/integration/test_mon_real.py, scripts/bench-mon.sh start the binaries themselves on
# 127.0.0.1 with free ports and their own data dirs: the packaged services are not needed).
PKGS="gcc clang libclang-rt-14-dev pkg-config meson ninja-build make
libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev libsqlite3-dev libexpat1-dev
openssl curl ca-certificates tzdata python3 python3-cryptography python3-aiosmtpd python3-boto3 prometheus-alertmanager awscli jq
chromium chromium-driver prometheus prometheus-node-exporter"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi

echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# The Prometheus packages start their daemons (:9090, :9100) where systemd runs: stop and disable
# the ones this run installed, so nothing of ours listens or writes /var/lib/prometheus.
for svc in prometheus prometheus-node-exporter; do
    case " $missing " in
    *" $svc "*)
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            $SUDO systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
        fi ;;
    esac
done
