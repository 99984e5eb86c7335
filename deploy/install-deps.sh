#!/bin/sh
# install-deps.sh: install every Debian 12 package the project needs to build,
# run and test. Idempotent: packages already installed are skipped, and apt is
# not touched at all when nothing is missing (so it also works offline on a
# machine that has everything).
#
# Usage: deploy/install-deps.sh [--check]
#   --check   only report what is missing; exit 1 if anything is.
set -eu

PACKAGES="
build-essential
cmake
pkg-config
libzmq3-dev
libprotobuf-c-dev
protobuf-c-compiler
libhiredis-dev
libssl-dev
libcmocka-dev
libjansson-dev
libxml2-dev
redis-server
redis-tools
"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    [ "${1:-}" = "--check" ] || echo "install-deps: all packages present"
    exit 0
fi

if [ "${1:-}" = "--check" ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing:$missing" >&2
    echo "install-deps: run as root (or with sudo) to install them" >&2
    exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# The packaged redis-server starts a system instance on port 6379; the project
# never uses it (tests and the sitting start private servers on free ports), so
# leave it as the package set it up.
echo "install-deps: done"
