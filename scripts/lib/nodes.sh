# Shared by the demo and the data-plane benchmark: "nodes" made of network namespaces joined by
# an underlay bridge, each running the real weaver, with pods attached by the real weave-net
# plugin as kubelet does. Source it from the repository root after setting NODES_PREFIX (names
# of namespaces and the work directory). Everything stays inside the namespaces it creates:
#
#   $NODES_PREFIX-u      the underlay: bridge br0
#   $NODES_PREFIX-n<i>   node i: eth0 = 192.168.77.(10+i)/24 (MTU ${UNDERLAY_MTU:-1500})
#   $NODES_PREFIX-<pod>  a pod
#   /run/$NODES_PREFIX/  sockets, stores, logs
#
# nodes_cleanup removes all of it (call it from an EXIT trap).

NODES_DIR=/run/$NODES_PREFIX
WEAVER=build/router/weaver
WEAVE=build/router/weave
WEAVE_NET=build/cni-plugin/weave-net
declare -A NODE_PID=()

node_ns() { echo "$NODES_PREFIX-n$1"; }
node_ip() { echo "192.168.77.$((10 + $1))"; }
node_weave() { local i=$1; shift; "$WEAVE" --socket "$NODES_DIR/n$i/weave.sock" "$@"; }

nodes_cleanup() {
  local pid
  for pid in "${NODE_PID[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  NODE_PID=()
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^$NODES_PREFIX-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$NODES_DIR"
}

# nodes_create N: the underlay and N nodes.
nodes_create() {
  local n=$1 i
  mkdir -p "$NODES_DIR"
  ip netns add "$NODES_PREFIX-u"
  ip -n "$NODES_PREFIX-u" link add br0 type bridge
  ip -n "$NODES_PREFIX-u" link set br0 mtu "${UNDERLAY_MTU:-1500}" up
  for i in $(seq 1 "$n"); do
    local ns
    ns=$(node_ns "$i")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "${NODES_PREFIX}e$i" netns "$ns" mtu "${UNDERLAY_MTU:-1500}" type veth \
      peer name "n$i" netns "$NODES_PREFIX-u" mtu "${UNDERLAY_MTU:-1500}"
    ip -n "$ns" link set "${NODES_PREFIX}e$i" name eth0
    ip -n "$ns" addr add "$(node_ip "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$NODES_PREFIX-u" link set "n$i" master br0 up
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
    mkdir -p "$NODES_DIR/n$i/weavedb"
  done
}

# node_start I PEERS [VAR=value...]: weaver on node I with KUBE_PEERS=PEERS, waits until it
# serves its API.
node_start() {
  local i=$1 peers=$2
  shift 2
  ip netns exec "$(node_ns "$i")" env EXPECT_NPC=0 HOSTNAME="node$i" KUBE_PEERS="$peers" "$@" \
    "$WEAVER" --socket "$NODES_DIR/n$i/weave.sock" --db-prefix "$NODES_DIR/n$i/weavedb/weave-net" \
    --host-root "$NODES_DIR/n$i" --name "$(printf '0a:00:00:00:00:%02x' "$i")" \
    >>"$NODES_DIR/n$i/weaver.log" 2>&1 &
  NODE_PID[$i]=$!
  local _
  for _ in $(seq 1 150); do
    if node_weave "$i" status >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${NODE_PID[$i]}" 2>/dev/null; then cat "$NODES_DIR/n$i/weaver.log"; return 1; fi
    sleep 0.1
  done
  echo "weaver on node $i did not start" >&2
  return 1
}

# nodes_wait_connections N OVERLAY: until every node of 1..N has N-1 connections established
# over OVERLAY (fastdp or sleeve), for at most 30 s.
nodes_wait_connections() {
  local n=$1 overlay=$2 _ i ok
  for _ in $(seq 1 300); do
    ok=1
    for i in $(seq 1 "$n"); do
      [ "$(node_weave "$i" status connections 2>/dev/null | grep -cE " established (encrypted +)?$overlay ")" \
        -eq $((n - 1)) ] || ok=0
    done
    [ $ok = 1 ] && return 0
    sleep 0.1
  done
  echo "connections did not all become established over $overlay" >&2
  return 1
}

# pod_add NODE NAME: a pod namespace attached on NODE; prints its address.
pod_add() {
  local i=$1 pod=$2 conf result
  ip netns add "$NODES_PREFIX-$pod"
  ip -n "$NODES_PREFIX-$pod" link set lo up
  conf="{\"cniVersion\":\"1.0.0\",\"name\":\"weave\",\"type\":\"weave-net\",\"socket\":\"$NODES_DIR/n$i/weave.sock\"}"
  result=$(CNI_COMMAND=ADD CNI_CONTAINERID="$pod" CNI_NETNS="/run/netns/$NODES_PREFIX-$pod" \
    CNI_IFNAME=eth0 CNI_PATH="$(dirname "$WEAVE_NET")" \
    CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod" "$WEAVE_NET" <<<"$conf")
  sed -n 's/.*"address":"\([0-9.]*\)\/.*/\1/p' <<<"$result"
}

pod_exec() { local pod=$1; shift; ip netns exec "$NODES_PREFIX-$pod" "$@"; }
