#!/usr/bin/env bash
# The main job: build, start weaver in its own network namespace (a "node"), attach two pods
# with the real CNI plugin exactly as kubelet would, show them talking, print `weave status`,
# then stop and clean up. Nothing listens outside the demo's namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh

ns=weave-demo
dir=/run/weave-demo
weaver_pid=
cleanup() {
  if [ -n "$weaver_pid" ] && kill -0 "$weaver_pid" 2>/dev/null; then
    kill -TERM "$weaver_pid"
    wait "$weaver_pid" 2>/dev/null || true
  fi
  for pod in pod-a pod-b; do ip netns del "$ns-$pod" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
cleanup
mkdir -p "$dir/weavedb"
ip netns add "$ns"
ip -n "$ns" link set lo up

echo "Starting weaver in network namespace $ns (log: $dir/weaver.log)"
ip netns exec "$ns" env EXPECT_NPC=0 HOSTNAME=demo-node \
  build/router/weaver --socket "$dir/weave.sock" --db-prefix "$dir/weavedb/weave-net" \
  >"$dir/weaver.log" 2>&1 &
weaver_pid=$!

# Wait (with a deadline) until the router answers on its socket.
for _ in $(seq 1 100); do
  if build/router/weave --socket "$dir/weave.sock" status >/dev/null 2>&1; then break; fi
  if ! kill -0 "$weaver_pid" 2>/dev/null; then cat "$dir/weaver.log"; exit 1; fi
  sleep 0.1
done
# Two pods, attached the way kubelet does it: CNI environment + the network config on stdin.
conf="{\"cniVersion\":\"1.0.0\",\"name\":\"weave\",\"type\":\"weave-net\",\"socket\":\"$dir/weave.sock\"}"
declare -A ip
for pod in pod-a pod-b; do
  ip netns add "$ns-$pod"
  result=$(CNI_COMMAND=ADD CNI_CONTAINERID="$pod" CNI_NETNS="/run/netns/$ns-$pod" CNI_IFNAME=eth0 \
    CNI_PATH=build/cni-plugin CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod" \
    build/cni-plugin/weave-net <<<"$conf")
  ip[$pod]=$(sed -n 's/.*"address":"\([0-9.]*\)\/.*/\1/p' <<<"$result")
  echo "CNI ADD $pod -> ${ip[$pod]}"
done
echo "\$ ping pod-b from pod-a"
ip netns exec "$ns-pod-a" ping -c 2 -W 2 "${ip[pod-b]}"
echo "\$ weave status"
build/router/weave --socket "$dir/weave.sock" status
echo "\$ weave ps"
build/router/weave --socket "$dir/weave.sock" ps
echo "\$ curl http://127.0.0.1:6784/status  (readiness, inside $ns)"
ip netns exec "$ns" curl -s -o /dev/null -w 'HTTP %{http_code}\n' http://127.0.0.1:6784/status
echo "weaver log:"
cat "$dir/weaver.log"
