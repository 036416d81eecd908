#!/bin/sh
# Runs every test and prints the closing line "N passed, N failed".
#   1. unit tests (TAP) from the ASan+UBSan build, one binary per module
#   2. the include-boundary check
#   3. integration tests against the real daemon (ASan+UBSan build), Debian's /usr/bin/python3
#   4. fuzz smoke: each libFuzzer target replays its corpus and fuzzes FUZZ_SMOKE_SECONDS
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ASAN=${ASAN_BUILD:-build-asan}
export AK_SRCDIR="$ROOT"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
LOG=${TEST_LOG_DIR:-$ROOT/build-asan/test-logs}
mkdir -p "$LOG"
pass=0
fail=0

count_tap() { # file -> updates pass/fail
    p=$(grep -c '^ok ' "$1" || true)
    f=$(grep -c '^not ok ' "$1" || true)
    pass=$((pass + p))
    fail=$((fail + f))
}

echo "== unit tests (ASan+UBSan)"
for t in $(find "$ASAN/src" -maxdepth 2 -type f -name 'test_*' -perm -u+x | sort); do
    name=$(basename "$t")
    if "$t" > "$LOG/$name.tap" 2>&1; then st=ok; else st=FAILED; fi
    grep -A8 '^not ok' "$LOG/$name.tap" | head -40
    if ! grep -q '^1\.\.' "$LOG/$name.tap"; then
        echo "not ok - $name crashed before reporting" >> "$LOG/$name.tap"
        tail -20 "$LOG/$name.tap"
    elif [ "$st" = FAILED ] && ! grep -q '^not ok' "$LOG/$name.tap"; then
        # all subtests passed but the binary failed: a sanitizer report at exit (leak)
        echo "not ok - $name exited non-zero (sanitizer report?)" >> "$LOG/$name.tap"
        tail -30 "$LOG/$name.tap"
    fi
    count_tap "$LOG/$name.tap"
    printf '   %-20s %s\n' "$name" "$st"
done

echo "== include boundaries"
if sh scripts/check-includes.sh > "$LOG/includes.txt" 2>&1; then
    pass=$((pass + 1)); echo "   ok"
else
    fail=$((fail + 1)); cat "$LOG/includes.txt"
fi

echo "== integration tests (real daemon, ASan+UBSan)"
if [ -f tests/integration/run.py ]; then
    ASAKAI_BIN="$ROOT/$ASAN/asakai" /usr/bin/python3 tests/integration/run.py -j 3 \
        > "$LOG/integration.tap" 2>&1
    grep -A12 '^not ok' "$LOG/integration.tap" | head -80
    grep -E '^# [0-9]+/[0-9]+ passed' "$LOG/integration.tap" || true
    count_tap "$LOG/integration.tap"
    if ! grep -q '^1\.\.' "$LOG/integration.tap"; then
        fail=$((fail + 1)); tail -30 "$LOG/integration.tap"
    fi
fi

echo "== fuzz smoke (libFuzzer, ${FUZZ_SMOKE_SECONDS:-5}s each)"
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    if [ ! -f build-fuzz/build.ninja ]; then
        CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false > "$LOG/fuzz-setup.txt" 2>&1
    fi
    if ninja -C build-fuzz > "$LOG/fuzz-build.txt" 2>&1; then
        for t in $(find build-fuzz/fuzz -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort); do
            name=$(basename "$t" | sed 's/^fuzz_//')
            if sh scripts/fuzz.sh build-fuzz "$name" "${FUZZ_SMOKE_SECONDS:-5}" > "$LOG/fuzz-$name.txt" 2>&1; then
                pass=$((pass + 1)); printf '   %-12s ok\n' "$name"
            else
                fail=$((fail + 1)); printf '   %-12s FAILED\n' "$name"; tail -30 "$LOG/fuzz-$name.txt"
            fi
        done
    else
        fail=$((fail + 1)); echo "   fuzz build FAILED"; tail -30 "$LOG/fuzz-build.txt"
    fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
