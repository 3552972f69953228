#!/usr/bin/env bash
# Benchmark (not a test): CNI ADD and DEL latency of the real weave-net plugin against a real
# weaver, for N pods (default 100), as kubelet would call it. Prints p50 and p99 of:
#   add       the plugin's ADD alone          del       the plugin's DEL alone
#   add+ns    `ip netns add` + ADD            del+ns    DEL + `ip netns del`
#   add@churn ADD while another pod's DEL and namespace deletion run (a rolling update)
# Run as root after a build: test/bench/cni_latency.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100}
build=build
prefix=wbench$$
node=$prefix-node
dir=/tmp/$prefix
weaver_pid=

cleanup() {
  [ -n "$weaver_pid" ] && kill "$weaver_pid" 2>/dev/null && wait "$weaver_pid" 2>/dev/null
  for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do ip netns del "$ns"; done
  rm -rf "$dir"
}
trap cleanup EXIT

mkdir -p "$dir/db"
ip netns add "$node"
ip -n "$node" link set lo up
ip netns exec "$node" env EXPECT_NPC=0 "$build/router/weaver" --socket "$dir/weave.sock" \
  --db-prefix "$dir/db/weave-net" --host-root "$dir" --log-level "${LOG_LEVEL:-info}" \
  >"$dir/weaver.log" 2>&1 &
weaver_pid=$!
for _ in $(seq 1 100); do
  "$build/router/weave" --socket "$dir/weave.sock" status 2>/dev/null | grep -q 'Status: ready' && break
  sleep 0.1
done

conf="{\"cniVersion\":\"1.0.0\",\"name\":\"weave\",\"type\":\"weave-net\",\"socket\":\"$dir/weave.sock\"}"
cni() {  # command pod
  CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/$prefix-$2 CNI_IFNAME=eth0 \
    CNI_PATH="$build/cni-plugin" "$build/cni-plugin/weave-net" <<<"$conf" >/dev/null
}
ms() { echo "$1 $2" | awk '{printf "%.3f\n", ($2 - $1) * 1000}'; }

add=() addns=() del=() delns=()
for i in $(seq 1 "$n"); do
  t0=$EPOCHREALTIME; ip netns add "$prefix-p$i"; t1=$EPOCHREALTIME
  cni ADD "p$i"; t2=$EPOCHREALTIME
  add+=("$(ms "$t1" "$t2")"); addns+=("$(ms "$t0" "$t2")")
done
# Churn: each pod of the first half is deleted (DEL, then its namespace) while a new pod is
# added, as when a deployment rolls; the ADD is timed.
churn=()
half=$((n / 2))
for i in $(seq 1 "$half"); do
  ip netns add "$prefix-q$i"
  (cni DEL "p$i"; ip netns del "$prefix-p$i") &
  deleting=$!
  t0=$EPOCHREALTIME; cni ADD "q$i"; t1=$EPOCHREALTIME
  wait "$deleting"
  churn+=("$(ms "$t0" "$t1")")
done
for i in $(seq 1 "$half"); do cni DEL "q$i"; ip netns del "$prefix-q$i"; done
for i in $(seq $((half + 1)) "$n"); do
  t0=$EPOCHREALTIME; cni DEL "p$i"; t1=$EPOCHREALTIME
  ip netns del "$prefix-p$i"; t2=$EPOCHREALTIME
  del+=("$(ms "$t0" "$t1")"); delns+=("$(ms "$t0" "$t2")")
done

report() {  # name values...
  local name=$1; shift
  printf '%s\n' "$@" | sort -n | awk -v name="$name" '
    { v[NR] = $1 }
    END { p50 = v[int((NR + 1) * 0.50)]; p99 = v[int(NR * 0.99 + 0.999)];
          printf "%-10s n=%-3d  p50 %7.2f ms  p99 %7.2f ms\n", name, NR, p50, p99 }'
}
echo "CNI latency over $n pods (goal: ADD p50 < 15 ms, DEL p50 < 10 ms)"
report add "${add[@]}"
report add+ns "${addns[@]}"
report add@churn "${churn[@]}"
report del "${del[@]}"
report del+ns "${delns[@]}"
if [ -n "${KEEP_LOG:-}" ]; then cp "$dir/weaver.log" "$KEEP_LOG"; fi
