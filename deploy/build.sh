#!/bin/sh
# build.sh: configure and build the project.
#
# Usage: deploy/build.sh [normal|asan] [build-dir]
#   normal  optimised with debug info (default), into build/
#   asan    AddressSanitizer + UndefinedBehaviorSanitizer, into build-asan/
# Installs missing Debian packages first (as root) via install-deps.sh.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-normal}
case "$kind" in
    normal) dir=${2:-$top/build}; flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo" ;;
    asan)   dir=${2:-$top/build-asan}; flags="-DCMAKE_BUILD_TYPE=Debug -DJK_SANITIZE=ON" ;;
    *) echo "build.sh: unknown build kind '$kind' (normal or asan)" >&2; exit 2 ;;
esac

if ! "$top/deploy/install-deps.sh" --check >/dev/null 2>&1; then
    "$top/deploy/install-deps.sh"
fi

jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086
cmake -S "$top" -B "$dir" $flags >/dev/null
cmake --build "$dir" -j "$jobs"
