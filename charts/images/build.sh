#!/usr/bin/env bash
# build.sh BUILD_DIR [REGISTRY] [TAG]: builds the images <REGISTRY>/weave-kube:<TAG> and
# <REGISTRY>/weave-npc:<TAG> with podman from the binaries in BUILD_DIR (the CMake build tree).
# REGISTRY defaults to "localhost", TAG to the project version of that build.
#
#   weave-kube  /home/weave/{weaver,weave,weave-net,init.sh,launch.sh}, WORKDIR /home/weave,
#               ENTRYPOINT /home/weave/launch.sh
#   weave-npc   /usr/bin/weave-npc, ENTRYPOINT /usr/bin/weave-npc
#
# Each image is base.sh's Debian minbase plus the packages ./packages lists for it, checked here
# against the libraries the binaries name (readelf, ldd, then dpkg -S on this build machine) so that a new library
# fails the build with its package's name instead of failing the pod. Binaries are stripped.
# After building, every binary is run inside its image once, which proves it loads there.
# The first build on a machine makes the base (debootstrap, a minute or two); later ones reuse it
# and the package layers, and take seconds. Needs root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] && [ $# -le 3 ] || die "usage: build.sh BUILD_DIR [REGISTRY] [TAG]"
[ -d "$1" ] || die "build directory $1 does not exist"
build_dir="$(cd "$1" && pwd)"
registry="${2:-localhost}"
tag="${3:-$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)}"
[ -n "$tag" ] || die "no TAG given and no CMAKE_PROJECT_VERSION in $build_dir/CMakeCache.txt"
[ "$(id -u)" = 0 ] || die "run as root (podman, debootstrap)"

# Where the CMake build puts each binary, and which image carries it.
declare -A binary_path=([weaver]=router/weaver [weave]=router/weave
  [weave-net]=cni-plugin/weave-net [weave-npc]=npc/weave-npc)
declare -A image_binaries=([weave-kube]="weaver weave weave-net" [weave-npc]="weave-npc")
# The CNI plugin runs on the host with the host's libraries, never the image's: it must be static.
static_binaries=" weave-net "

for name in "${!binary_path[@]}"; do
  [ -x "$build_dir/${binary_path[$name]}" ] ||
    die "$build_dir/${binary_path[$name]} is missing: build it first (ninja -C $build_dir $name)"
done

# The spellings under which dpkg may know the library `path` (as ldd printed it): itself, its
# target, each with and without /usr (merged /usr: /lib is /usr/lib).
path_spellings() {
  local path real
  path="$1"
  real="$(realpath "$path")"
  printf '%s\n' "$path" "$real" "/usr${path#/usr}" "${path#/usr}" "/usr${real#/usr}" "${real#/usr}"
}

# Fills package_of[file] from one `dpkg -S` over every spelling of the libraries given.
declare -A package_of=()
lookup_packages() {
  local candidates=() lib line pkgs file
  for lib in "$@"; do mapfile -t -O "${#candidates[@]}" candidates < <(path_spellings "$lib"); done
  while IFS= read -r line; do
    pkgs="${line%%: *}"
    file="${line#*: }"
    if [ "$pkgs" != "$line" ] && [ -z "${package_of[$file]:-}" ]; then
      package_of[$file]="${pkgs%%,*}"
    fi
  done < <(dpkg -S "${candidates[@]}" 2>/dev/null || true)
}

# The package (without its architecture) that owns the library `path`, or nothing.
package_for() {
  local spelling
  while IFS= read -r spelling; do
    if [ -n "${package_of[$spelling]:-}" ]; then
      echo "${package_of[$spelling]%%:*}"
      return
    fi
  done < <(path_spellings "$1")
}

# Fails unless every shared library of the image's binaries comes from a package ./packages lists
# for that image; warns about listed libraries nothing links.
check_packages() {
  local image="$1" name path libs=() lib pkg
  local -A listed=() needed=()
  for pkg in $(image_packages "$image"); do listed[$pkg]=1; done
  for name in ${image_binaries[$image]}; do
    path="$build_dir/${binary_path[$name]}"
    local out
    out="$(ldd "$path" 2>&1 || true)"
    if [[ "$static_binaries" == *" $name "* ]]; then
      grep -Eq 'statically linked|not a dynamic executable' <<<"$out" ||
        die "$name must be statically linked (the host runs it with its own libraries), but ldd says: $(head -n 3 <<<"$out" | tr '\n' ' ')"
      continue
    fi
    if grep -q 'not found' <<<"$out"; then
      die "$name links libraries this machine lacks: $(grep 'not found' <<<"$out" | tr -s '\t\n' '  ')"
    fi
    # The libraries the binary names itself (DT_NEEDED), where ldd finds them: apt installs what
    # those need in turn, and the run in the image proves the whole closure loads.
    local needed_names
    needed_names=" $(readelf -d "$path" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ') "
    libs=($(awk -v names="$needed_names" \
      '$2 == "=>" && $3 ~ /^\// && index(names, " " $1 " ") { print $3 }' <<<"$out"))
    lookup_packages "${libs[@]}"
    for lib in "${libs[@]}"; do
      pkg="$(package_for "$lib")"
      [ -n "$pkg" ] || die "$name links $lib, which no Debian package on this machine owns (dpkg -S)"
      needed[$pkg]=1
      [ -n "${listed[$pkg]:-}" ] ||
        die "$name links $lib from package $pkg, which $images_dir/packages does not list for $image"
    done
  done
  for pkg in "${!listed[@]}"; do
    if [[ "$pkg" == lib* ]] && [ -z "${needed[$pkg]:-}" ]; then
      echo "build.sh: warning: $images_dir/packages lists $pkg for $image, but none of its binaries links it" >&2
    fi
  done
}

# `podman build` with its output kept in $stage/<label>.log and shown only if it fails.
podman_build() {
  local label="$1"
  shift
  if ! "$podman" build --pull=never "$@" >"$stage/$label.log" 2>&1; then
    tail -n 30 "$stage/$label.log" >&2
    die "podman build of $label failed (output above)"
  fi
}

# The base plus an image's packages (runtime.Containerfile), named by a hash of both so that it is
# built once per package list.
runtime_image() {
  local image="$1" base="$2" packages
  packages="$(image_packages "$image" | sort | tr '\n' ' ')"
  local key
  key="$( (echo "$base $packages"; cat "$images_dir/runtime.Containerfile") | sha256sum | cut -c1-16)"
  local name="localhost/weave-runtime:$image-$key"
  if ! "$podman" image exists "$name"; then
    echo "build.sh: installing the packages of $image: $packages" >&2
    podman_build "runtime-$image" --network host -f "$images_dir/runtime.Containerfile" \
      --build-arg BASE="$base" --build-arg PACKAGES="$packages" -t "$name" "$images_dir"
  fi
  echo "$name"
}

# Runs `command...` inside `image` (no network) and fails with its output unless it exits 0.
smoke() {
  local image="$1" entrypoint="$2"
  shift 2
  local out
  if ! out="$("$podman" run --rm --pull=never --network none --entrypoint "$entrypoint" "$image" "$@" </dev/null 2>&1)"; then
    die "$entrypoint $* does not run in $image: $(head -n 5 <<<"$out" | tr '\n' ' ')"
  fi
}

for image in weave-kube weave-npc; do check_packages "$image"; done

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
for name in "${!binary_path[@]}"; do
  strip --strip-unneeded -o "$stage/$name" "$build_dir/${binary_path[$name]}"
done
install -m 0755 "$images_dir/init.sh" "$images_dir/launch.sh" "$stage/"

base="$("$images_dir/base.sh")"
for image in weave-kube weave-npc; do
  runtime="$(runtime_image "$image" "$base")"
  # Runtimes of other package lists or bases are no longer needed.
  for old in $("$podman" images --format '{{.Repository}}:{{.Tag}}' | grep "^localhost/weave-runtime:$image-" | grep -vx "$runtime"); do
    "$podman" rmi "$old" >/dev/null 2>&1 || true
  done
  name="$registry/$image:$tag"
  previous="$("$podman" image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)"
  podman_build "$image" --network none -f "$images_dir/$image.Containerfile" \
    --build-arg RUNTIME="$runtime" --label org.opencontainers.image.title="$image" \
    --label org.opencontainers.image.version="$tag" -t "$name" "$stage"
  # The image this tag named before, now untagged, unless a container still uses it.
  if [ -n "$previous" ] && [ "$previous" != "$("$podman" image inspect --format '{{.Id}}' "$name")" ]; then
    "$podman" rmi "$previous" >/dev/null 2>&1 || true
  fi
done

kube="$registry/weave-kube:$tag"
npc="$registry/weave-npc:$tag"
smoke "$kube" /home/weave/weaver --help
smoke "$kube" /home/weave/weave version
# The entrypoint as a manifest without an init container runs it: launch.sh runs init.sh
# (kernel checks in the container's own namespace, the plugin installed under HOST_ROOT), then
# hands its arguments to weaver.
if ! out="$("$podman" run --rm --pull=never --network none --privileged -e HOST_ROOT=/tmp/host \
  "$kube" --help 2>&1)" || ! grep -q 'weaver' <<<"$out"; then
  die "launch.sh --help does not reach weaver in $kube: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
fi
smoke "$kube" /bin/bash -c 'command -v modprobe ip nft >/dev/null'
smoke "$kube" /bin/bash -c 'echo "{\"cniVersion\":\"1.0.0\"}" | CNI_COMMAND=VERSION /home/weave/weave-net'
smoke "$npc" /usr/bin/weave-npc --help

for image in "$kube" "$npc"; do
  size="$("$podman" image inspect --format '{{.Size}}' "$image")"
  echo "$image $((size / 1000000)) MB"
done
