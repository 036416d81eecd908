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
# private headers: src/X/*_int.h only from src/X
for h in $(find src -name '*_int.h' -o -name '*-int.h'); do
    dir=$(dirname "$h"); base=$(basename "$h")
    hits=$(grep -rl "include \"[^\"]*$base\"" src | grep -v "^$dir/" || true)
    if [ -n "$hits" ]; then echo "include-check: private $h included from: $hits"; bad=1; fi
done
# banned functions header in every .c
for f in $(find src -name '*.c'); do
    grep -q 'ak_banned.h' "$f" || { echo "include-check: $f does not include ak_banned.h"; bad=1; }
done
exit $bad
