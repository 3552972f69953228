#!/usr/bin/env bash
# Benchmark (not a test): how long N real weavers (default 10), each given every node as a
# target, take to form a full mesh (every node's `weave status` shows N peers with N(N-1)
# established connections) and to agree on the IPAM ring by consensus (every node's IPAM
# "Status: ready"), and each router's memory (RSS) once converged. Nodes are network
# namespaces on a private underlay bridge (192.168.251.0/24); nothing leaves them.
# Goal: convergence under 2 s, RSS under 20 MB.
# Run as root after a build: test/bench/mesh_convergence.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10}
build=build
prefix=wmesh$$
dir=/tmp/$prefix
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do ip netns del "$ns"; done
  rm -rf "$dir"
}
trap cleanup EXIT

ip netns add "$prefix-u"
ip -n "$prefix-u" link add br0 type bridge
ip -n "$prefix-u" link set br0 up
peers=""
for i in $(seq 1 "$n"); do
  ns=$prefix-n$i
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add eth0 netns "$ns" type veth peer name p$i netns "$prefix-u"
  ip -n "$prefix-u" link set p$i master br0 up
  ip -n "$ns" addr add 192.168.251.$((10 + i))/24 dev eth0
  ip -n "$ns" link set eth0 up
  mkdir -p "$dir/n$i/host/etc" "$dir/n$i/db"
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/n$i/host/etc/machine-id"
  peers="$peers 192.168.251.$((10 + i))"
done

status() { "$build/router/weave" --socket "$dir/n$1/weave.sock" status 2>/dev/null || true; }
now() { echo "$EPOCHREALTIME"; }
ms() { echo "$1 $2" | awk '{printf "%.0f", ($2 - $1) * 1000}'; }

t_launch=$(now)
for i in $(seq 1 "$n"); do
  ip netns exec "$prefix-n$i" env EXPECT_NPC=0 HOSTNAME=node$i KUBE_PEERS="$peers" \
    "$build/router/weaver" --socket "$dir/n$i/weave.sock" --db-prefix "$dir/n$i/db/weave-net" \
    --host-root "$dir/n$i/host" >"$dir/n$i/weaver.log" 2>&1 &
  pids+=($!)
done
# Every router serving its API (the mesh starts right after).
for i in $(seq 1 "$n"); do
  until status "$i" | grep -q 'Service: router'; do sleep 0.01; done
done
t_ready=$(now)
want="Peers: $n (with $((n * (n - 1))) established connections)"
deadline=$(( $(date +%s) + 60 ))
for i in $(seq 1 "$n"); do
  until status "$i" | grep -qF "$want"; do
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "no convergence within 60 s (node $i)"; status "$i"; exit 1; fi
    sleep 0.01
  done
done
t_converged=$(now)
# IPAM: the ring agreed by consensus among all N (quorum N/2+1) and every bridge exposed.
for i in $(seq 1 "$n"); do
  until status "$i" | grep -q 'Status: ready'; do
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "no IPAM ring within 60 s (node $i)"; status "$i"; exit 1; fi
    sleep 0.01
  done
done
t_ring=$(now)
sleep 2  # let allocation settle before measuring memory
rss=()
for pid in "${pids[@]}"; do rss+=("$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"); done

echo "Mesh of $n weavers (goal: convergence < 2 s, RSS < 20 MB)"
echo "convergence from the last router serving:  $(ms "$t_ready" "$t_converged") ms"
echo "convergence from launching all routers:    $(ms "$t_launch" "$t_converged") ms"
echo "IPAM ring by consensus of $n, from the last router serving: $(ms "$t_ready" "$t_ring") ms"
printf '%s\n' "${rss[@]}" | sort -n | awk '
  { v[NR] = $1; sum += $1 }
  END { printf "router RSS with %d peers: min %.1f MB, mean %.1f MB, max %.1f MB\n",
               NR - 1, v[1] / 1024, sum / NR / 1024, v[NR] / 1024 }'
