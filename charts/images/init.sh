#!/bin/bash
# The weave-kube image's init step: the DaemonSet's init container runs it, and launch.sh runs it
# itself unless INIT_CONTAINER=true (manifests without an init container). Runs in the host's
# network namespace, privileged. It
#   1. unless EXPECT_NPC=0, loads br_netfilter and sets bridge-nf-call-iptables=1: weave-npc's
#      rules see traffic between pods of one node (bridged) only through it;
#   2. checks that the kernel can do what the router needs (nf_tables, bridge, veth: fatal when
#      missing; VXLAN: without it every connection uses the slower sleeve overlay);
#   3. installs the CNI plugin and its conflist on the host (`weave setup-cni`: HOST_ROOT,
#      default /host; WEAVE_CNI_PLUGIN_DIR, default $HOST_ROOT/opt/cni/bin; HAIRPIN_MODE).
set -euo pipefail

warn() { echo "init.sh: warning: $*" >&2; }
die() {
  echo "init.sh: $*" >&2
  exit 1
}

if [ "${EXPECT_NPC:-1}" != 0 ]; then
  modprobe br_netfilter 2>/dev/null ||
    warn "modprobe br_netfilter failed; fine if it is built into the kernel"
  bridge_nf=/proc/sys/net/bridge/bridge-nf-call-iptables
  if [ ! -e "$bridge_nf" ]; then
    warn "$bridge_nf is absent (no br_netfilter): network policy will not apply between pods of one node"
  elif [ "$(cat "$bridge_nf")" != 1 ]; then
    echo 1 >"$bridge_nf" || die "cannot set $bridge_nf to 1 (is the container privileged?)"
  fi
fi

# The checks create throwaway objects named after this process and remove them at once.
scratch="wvinit$$"
cleanup() {
  ip link del "${scratch}b" 2>/dev/null || true
  ip link del "${scratch}v" 2>/dev/null || true
  ip link del "${scratch}x" 2>/dev/null || true
  nft delete table inet "$scratch" 2>/dev/null || true
}
trap cleanup EXIT
why() { "$@" 2>&1 >/dev/null | head -n 1; }

if ! err="$(why nft add table inet "$scratch")"; then
  die "the kernel lacks nf_tables with the inet family (CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET), which the router's masquerading and the policy gate need: ${err:-nft failed}"
fi
if ! err="$(why ip link add "${scratch}b" type bridge)"; then
  die "the kernel cannot make a bridge (CONFIG_BRIDGE), which holds the pods' interfaces: ${err:-ip failed}"
fi
if ! err="$(why ip link add "${scratch}v" type veth peer name "${scratch}p")"; then
  die "the kernel cannot make veth pairs (CONFIG_VETH), which connect pods: ${err:-ip failed}"
fi
if ! err="$(why ip link add "${scratch}x" type vxlan id 1 dstport 0 nolearning)"; then
  warn "the kernel cannot make VXLAN devices (CONFIG_VXLAN): no fastdp, every connection will use the sleeve overlay (${err:-ip failed})"
fi
cleanup

export HOST_ROOT="${HOST_ROOT:-/host}"
# As the original did for hosts whose /opt is read-only (Container-Optimized OS): the CNI
# binaries go to /home/kubernetes/bin there.
if [ -z "${WEAVE_CNI_PLUGIN_DIR:-}" ] && ! mkdir -p "$HOST_ROOT/opt/cni/bin" 2>/dev/null; then
  if mkdir -p "$HOST_ROOT/home/kubernetes/bin" 2>/dev/null; then
    export WEAVE_CNI_PLUGIN_DIR="$HOST_ROOT/home/kubernetes/bin"
  else
    die "Failed to install the Weave CNI plugin: neither $HOST_ROOT/opt/cni/bin nor $HOST_ROOT/home/kubernetes/bin can be created"
  fi
fi
/home/weave/weave --local setup-cni || die "Failed to install the Weave CNI plugin (weave setup-cni, above)"
