#!/bin/sh
# Checks the module boundaries of docs/ARCHITECTURE.md: each third-party library is included by
# exactly one module, and no module includes another module's private header.
set -u
cd "$(dirname "$0")/.."
bad=0
check() { # header-regex allowed-dir
    hits=$(grep -rlE "#include <$1" src | grep -v "^src/$2/" || true)
    if [ -n "$hits" ]; then
        echo "include-check: <$1...> may only be included under src/$2/, found in: $hits"
        bad=1
    fi
}
check 'jansson\.h' json
check 'yaml\.h' cfg
check 'sqlite3\.h' store
check 'openssl/' crypto
check 'curl/' httpc
check 'microhttpd\.h' http
check 'expat\.h' xml
# private headers: src/X/*_int.h only from src/X
for h in $(find src -name '*_int.h' -o -name '*-int.h'); do
    dir=$(dirname "$h"); base=$(basename "$h")
    hits=$(grep -rl "include \"[^\"]*$base\"" src | grep -v "^$dir/" || true)
    if [ -n "$hits" ]; then echo "include-check: private $h included from: $hits"; bad=1; fi
done
# the module DAG of docs/ARCHITECTURE.md: which public headers each module may include
allowed() {
    case $1 in
    core) echo "core" ;;
    json | xml | metrics | tz | crypto | httpc | stats | expo | tsdb | collect) echo "core $1" ;;
    store) echo "core tsdb store" ;;
    cfg) echo "core json cfg" ;;
    route) echo "core json cfg route" ;;
    events) echo "core json xml events" ;;
    maint) echo "core json cfg route store events maint" ;;
    notify) echo "core json metrics tz cfg route crypto httpc store events maint notify" ;;
    intake) echo "core json metrics cfg crypto httpc store events maint notify intake" ;;
    http) echo "core json metrics tz cfg route expo crypto store maint notify intake poll sts runbook mon report http" ;;
    poll) echo "core json metrics cfg crypto httpc aws store events maint poll" ;;
    jwt) echo "core json crypto jwt" ;;
    review) echo "core stats review" ;;
    scrape) echo "core json expo httpc scrape" ;;
    mon) echo "core json metrics tz cfg stats review expo tsdb collect httpc scrape store mon" ;;
    iam) echo "core json iam" ;;
    runbook) echo "core json tz cfg runbook" ;;
    report) echo "core json tz cfg route crypto iam store events maint poll runbook report" ;;
    sts) echo "core json metrics cfg crypto jwt iam httpc aws store sts" ;;
    daemon) echo "core json cfg crypto httpc notify intake poll sts mon report http daemon" ;;
    aws) echo "core crypto httpc aws" ;;
    cli) echo "core json tz cfg expo crypto jwt iam httpc aws runbook daemon" ;;
    *) echo "UNKNOWN" ;;
    esac
}
module_of() {
    case $1 in
    err | buf | util | log | time) echo core ;;
    *) echo "$1" ;;
    esac
}
for dir in src/*/; do
    m=$(basename "$dir")
    ok=$(allowed "$m")
    if [ "$ok" = UNKNOWN ]; then
        echo "include-check: module src/$m is not in the table of scripts/check-includes.sh"
        bad=1
        continue
    fi
    for h in $(grep -ho '#include "asakai/ak_[a-z]*\.h"' "$dir"* | sed 's/.*ak_\([a-z]*\)\.h.*/\1/' | sort -u); do
        hm=$(module_of "$h")
        case " $ok " in
        *" $hm "*) ;;
        *) echo "include-check: src/$m includes ak_$h.h (module $hm), which it may not"; bad=1 ;;
        esac
    done
done
# banned functions header in every .c
for f in $(find src -name '*.c'); do
    grep -q 'ak_banned.h' "$f" || { echo "include-check: $f does not include ak_banned.h"; bad=1; }
done
exit $bad
