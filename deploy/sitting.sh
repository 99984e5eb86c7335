#!/bin/sh
# sitting.sh: the main job, from a fresh machine.
#
# Installs what is missing, builds, and runs the offline flow on the sample
# data: check the standard and print each level's blueprint.
#
# Usage: deploy/sitting.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/build.sh" normal "$top/build" >/dev/null
admin="$top/build/clients/admin/jkadmin"

echo "== standard =="
"$admin" standard check "$top/data/standard.json"
"$admin" standard show "$top/data/standard.json"
