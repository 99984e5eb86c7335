#!/bin/sh
# test.sh: the whole test suite, from a fresh machine.
#
# Installs what is missing (Debian packages), builds twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), and runs every ctest test in
# both builds. Tests start what they need themselves (redis-server on free
# loopback ports, the daemons) and stop it afterwards.
#
# Usage: deploy/test.sh [--no-asan] [ctest args...]
#   JK_TEST_ASAN=0 also skips the sanitizer build.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
asan=${JK_TEST_ASAN:-1}
if [ "${1:-}" = "--no-asan" ]; then
    asan=0
    shift
fi
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {
    kind=$1; dir=$2; shift 2
    echo "== build ($kind) =="
    "$top/deploy/build.sh" "$kind" "$dir"
    echo "== tests ($kind) =="
    (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@")
}

start=$(date +%s)
run_suite normal "$top/build" "$@"
if [ "$asan" != 0 ]; then
    # halt_on_error: the first report fails the test; detect_leaks: LSan on.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        run_suite asan "$top/build-asan" "$@"
fi
echo "== all tests passed in $(( $(date +%s) - start ))s =="
