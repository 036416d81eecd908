#!/bin/sh
# Daily-monitoring bench (make bench; not a test: nothing passes or fails on time). In one run,
# beside the real Prometheus tools (Debian's prometheus package, started here on 127.0.0.1 with a
# free port and a temp data dir):
#   (1) review: asakai's ak_review_run over 10,000 series x 30 days hourly vs Prometheus instant
#       queries predict_linear(m[30d], 86400) and deriv(m[30d]) over the same data (best of 3);
#   (2) ingest: text-format scrapes parsed and stored per CPU second vs promtool create-blocks;
#   (3) bytes per raw sample on disk, asakai's metrics.db vs the Prometheus block.
# The drivers are bench/review_bench.c, bench/mon_bench.c and bench/mon_bench.py.
# Sizes: BENCH_MON_SERIES, BENCH_MON_POINTS, BENCH_MON_INGEST_SERIES, BENCH_MON_SCRAPES;
# BENCH_MON_QUICK=1 for a run 10x smaller. BENCH_BUILD: the build dir (default build).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BENCH_BUILD:-build}
echo
echo "== daily monitoring: review, ingest and bytes/sample vs Prometheus (bench/mon_bench.py)"
ninja -C "$BUILD" bench/review_bench bench/mon_bench >/dev/null 2>&1 || true
exec /usr/bin/python3 bench/mon_bench.py "$BUILD"
