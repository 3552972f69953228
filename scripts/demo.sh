#!/usr/bin/env bash
# The main job: build, then run a three-node cluster made of network namespaces joined by an
# underlay bridge, weaver on every node (peers from KUBE_PEERS), a pod on every node attached
# with the real CNI plugin exactly as kubelet would; show pods talking across nodes over the
# kernel's VXLAN (fastdp), print `weave status` and `weave status connections`, then stop and
# clean up. Nothing listens or sends outside the demo's namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh

NODES_PREFIX=weave-demo
# shellcheck source=lib/nodes.sh
source scripts/lib/nodes.sh
trap nodes_cleanup EXIT
nodes_cleanup

nodes_create 3
peers="$(node_ip 1) $(node_ip 2) $(node_ip 3)"
for i in 1 2 3; do
  echo "Starting weaver on node$i ($(node_ns "$i"), $(node_ip "$i"); log: $NODES_DIR/n$i/weaver.log)"
  node_start "$i" "$peers"
done
nodes_wait_connections 3 fastdp

declare -A ip
for i in 1 2 3; do
  pod="pod-$i"
  ip[$pod]=$(pod_add "$i" "$pod")
  echo "CNI ADD $pod on node$i -> ${ip[$pod]}"
done
for from in 1 2 3; do
  for to in 1 2 3; do
    [ "$from" = "$to" ] && continue
    echo "\$ ping pod-$to (node$to) from pod-$from (node$from)"
    pod_exec "pod-$from" ping -c 2 -W 2 "${ip[pod-$to]}"
  done
done
echo "\$ TCP from pod-1 (node1) to pod-3 (node3)"
pod_exec pod-3 ncat -l 7000 --recv-only >"$NODES_DIR/received" &
listener=$!
for _ in $(seq 1 50); do
  pod_exec pod-3 ss -ltn | grep -q ':7000' && break
  sleep 0.1
done
head -c 1000000 /dev/urandom | pod_exec pod-1 ncat --send-only "${ip[pod-3]}" 7000
wait "$listener"
echo "pod-3 received $(wc -c <"$NODES_DIR/received") bytes"

echo "\$ weave status   (node1)"
node_weave 1 status
echo "\$ weave status connections   (node1)"
node_weave 1 status connections
echo "\$ weave status peers   (node1)"
node_weave 1 status peers
echo "\$ weave ps   (node1)"
node_weave 1 ps
echo "\$ curl http://127.0.0.1:6784/status  (readiness, inside node1)"
ip netns exec "$(node_ns 1)" curl -s -o /dev/null -w 'HTTP %{http_code}\n' http://127.0.0.1:6784/status
echo "node1's weaver log:"
cat "$NODES_DIR/n1/weaver.log"
