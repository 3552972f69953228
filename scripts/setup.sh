#!/usr/bin/env bash
# Installs every Debian package the build, the demo and the tests need.
# Idempotent: packages already present are skipped by apt. Run as root.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # the product's stack
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libmnl-dev libnftnl-dev libsodium-dev catch2
  # well-kept libraries for the rest
  libsqlite3-dev nlohmann-json3-dev libcurl4-openssl-dev libcpp-httplib-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev
  # kernel test and demo tools
  iproute2 iputils-ping nftables procps kmod curl ncat iperf3 tcpdump python3-grpcio openssl
  # the fake Kubernetes API server (test/kube) is checked against the Python client
  python3-kubernetes
  containernetworking-plugins
  # CNI conformance tests: libcni built offline with Go (test/libcni), portmap's iptables backend
  golang-go golang-github-appc-cni-dev iptables
  # the images (charts/images: a debootstrap base, built and run by podman with runc) and the
  # test that runs the manifest's DaemonSet from them (its YAML read by Debian's python3-yaml)
  podman runc debootstrap python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
