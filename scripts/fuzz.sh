#!/bin/sh
# fuzz.sh BUILD_DIR [TARGET [SECONDS]] — replays each target's seed corpus, then fuzzes it for
# SECONDS (default $FUZZ_SECONDS or 10) on a scratch copy of the corpus. Crashes are saved under
# fuzz/ as crash-* (add them to the corpus once fixed).
set -eu
BUILD=${1:-build-fuzz}
ONLY=${2:-}
SECS=${3:-${FUZZ_SECONDS:-10}}
cd "$(dirname "$0")/.."
status=0
for t in $(find "$BUILD/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort); do
    name=$(basename "$t" | sed 's/^fuzz_//')
    [ -n "$ONLY" ] && [ "$ONLY" != "$name" ] && continue
    corpus="fuzz/corpus/$name"
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
    dict=""
    [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    echo "fuzz_$name: ${SECS}s"
    log="$work.log"
    # shellcheck disable=SC2086
    if "$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -artifact_prefix=fuzz/crash-$name- \
        -print_final_stats=1 $dict "$work" > "$log" 2>&1; then
        tail -6 "$log"
    else
        tail -40 "$log"
        echo "fuzz_$name: FAILED (see fuzz/crash-$name-*)"
        status=1
    fi
    rm -rf "$work" "$log"
done
exit $status
