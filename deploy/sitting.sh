#!/bin/bash
# sitting.sh: the main job — a whole simulated sitting on this machine.
#
# 1. The offline flow on the sample data: check the standard and the item
#    bank, import the candidates with their eligibility, plan the sitting
#    with staff, build every candidate's papers and one sealed package per
#    site, verify the packages.
# 2. The live exam: CURVE keys for every process, a private redis-server
#    (append-only file on), the broker, two scorers and one exam node per
#    site; the packages are released through the broker; simulated
#    candidates sit the theory exams, then the skills exams (examiners
#    score them), with progress shown.
# 3. The results (pass rates, score distributions, per-area means), then
#    everything started here is stopped.
#
# The exam clock runs JK_SIM_SCALE times faster than real time (default 120:
# a 90-minute exam takes 45 seconds) so the sitting fits in a few minutes;
# candidates who let their time run out are submitted by the exam node.
#
# Usage: deploy/sitting.sh            (output and logs in out/sitting)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
scale=${JK_SIM_SCALE:-120}
rate=${JK_SIM_RATE:-3}
out=$top/out/sitting
B=$top/build

"$top/deploy/build.sh" normal "$B" >/dev/null
admin=$B/clients/admin/jkadmin
rm -rf "$out"
mkdir -p "$out/logs" "$out/keys"

step() { printf '\n== %s ==\n' "$*"; }

step "standard"
"$admin" standard check
"$admin" standard show --level 5
step "item bank"
"$admin" bank check
"$admin" bank stats | grep -E 'bank:|times over|level [543]:'
step "candidates and eligibility (on the sitting date)"
"$admin" candidates import "$top/data/candidates.csv" --plan "$top/data/plan.json" | head -12
echo "  ..."
step "sitting plan"
"$admin" plan check "$top/data/plan.json"
"$admin" plan assign --plan "$top/data/plan.json" --candidates "$top/data/candidates.csv" \
    --roster "$out/roster.txt" 2>/dev/null
echo "  roster: $out/roster.txt"
step "papers and sealed packages"
"$admin" papers build --plan "$top/data/plan.json" --candidates "$top/data/candidates.csv" \
    --out "$out" 2>&1 | grep -v '^warning'
for p in "$out"/sites/*.jkpkg; do
    "$admin" package verify "$p" --key "$out/sites/center-signing.pub" --keys "$out/center/keys.json"
done

# ---- the live exam ----
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# bash's /dev/tcp: a connection that succeeds means the port is taken.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=0
for try in 1 2 3 4 5 6 7 8 9 10; do
    b=$(( 20000 + ($$ * 7 + try * 1013) % 30000 ))
    ok=1
    for i in 0 1 2 3 4 5 6 7 8 9; do port_free $((b + i)) || ok=0; done
    if [ $ok = 1 ]; then base=$b; break; fi
done
[ $base != 0 ] || { echo "sitting.sh: no free ports" >&2; exit 1; }
redis_port=$base; front=$((base + 1)); back=$((base + 2)); pub=$((base + 3))

step "keys (CURVE) for every process"
for n in broker examd-S01 examd-S02 scorer-1 scorer-2 jkadmin; do
    "$admin" keys curve --name $n --out "$out/keys" >/dev/null
done
mkdir -p "$out/keys/front" "$out/keys/back"
cp "$out"/keys/examd-*.pub "$out/keys/jkadmin.pub" "$out/keys/front/"
cp "$out"/keys/scorer-*.pub "$out/keys/back/"
"$admin" keys allow --dir "$out/keys/front" --out "$out/keys/allow-front.txt" >/dev/null
"$admin" keys allow --dir "$out/keys/back" --out "$out/keys/allow-back.txt" >/dev/null
echo "  keys and allow-lists in $out/keys"

step "starting redis-server (AOF on), broker, 2 scorers, 2 exam nodes"
mkdir -p "$out/redis"
redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly yes \
    --appendfsync everysec --dir "$out/redis" --daemonize no >"$out/logs/redis.log" 2>&1 &
pids="$pids $!"
for i in $(seq 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done
K=$out/keys
"$B/broker/broker" --frontend tcp://127.0.0.1:$front --backend tcp://127.0.0.1:$back \
    --pub tcp://127.0.0.1:$pub --curve.secret "$K/broker.key" \
    --curve.allow "$K/allow-front.txt" --curve.allow_backend "$K/allow-back.txt" \
    --release.allow jkadmin --log.file "$out/logs/broker.log" &
pids="$pids $!"
for s in 1 2; do
    "$B/scorerd/scorerd" --node.id scorer-$s --broker.endpoint tcp://127.0.0.1:$back \
        --curve.broker_public "$K/broker.pub" --curve.public "$K/scorer-$s.pub" \
        --curve.secret "$K/scorer-$s.key" --center.dir "$out/center" --redis.port $redis_port \
        --log.file "$out/logs/scorer-$s.log" &
    pids="$pids $!"
done
site_args=""
i=4
for site in S01 S02; do
    cport=$((base + i)); sport=$((base + i + 1)); i=$((i + 2))
    "$B/examd/examd" --node.id examd-$site --package "$out/sites/$site.jkpkg" \
        --center.key "$out/sites/center-signing.pub" --wal.dir "$out/wal-$site" \
        --candidate.endpoint tcp://127.0.0.1:$cport --staff.endpoint tcp://127.0.0.1:$sport \
        --broker.endpoint tcp://127.0.0.1:$front --curve.broker_public "$K/broker.pub" \
        --curve.public "$K/examd-$site.pub" --curve.secret "$K/examd-$site.key" \
        --clock.scale "$scale" --clock.origin "$(date +%s%3N)" \
        --log.file "$out/logs/examd-$site.log" &
    pids="$pids $!"
    site_args="$site_args --site $site=tcp://127.0.0.1:$cport,tcp://127.0.0.1:$sport"
done
echo "  redis 127.0.0.1:$redis_port; broker frontend $front, backend $back, pub $pub; logs in $out/logs"

step "releasing the packages through the broker (exam start)"
"$admin" sitting release --broker tcp://127.0.0.1:$front --keys "$out/center/keys.json" \
    --curve-secret "$K/jkadmin.key" --broker-public "$K/broker.pub"

step "theory exams (simulated candidates; clock x$scale)"
# shellcheck disable=SC2086
"$B/clients/loadgen/jkload" --center "$out/center" $site_args \
    --sessions L5-theory,L4-theory,L3-theory --rate "$rate" --seed 1 --acked "$out/acked-theory.tsv"
step "skills exams (examiners score the oral and written parts)"
# shellcheck disable=SC2086
"$B/clients/loadgen/jkload" --center "$out/center" $site_args \
    --sessions L5-skills,L4-skills,L3-skills --rate "$rate" --seed 2 --acked "$out/acked-skills.tsv"

step "results"
"$admin" results show --center "$out/center" --redis 127.0.0.1:$redis_port --wait 60 \
    --csv "$out/results.csv"
echo
echo "per-candidate results: $out/results.csv"
