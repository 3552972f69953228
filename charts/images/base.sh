#!/usr/bin/env bash
# base.sh: prints the name of the images' base, making it first if needed: Debian bookworm
# "minbase" from debootstrap, without documentation, manual pages or locales, with apt pointed at
# this machine's Debian mirror (the only archive build machines and CI may reach).
#
# Cached twice, so that only the first build on a machine pays for debootstrap: in podman's
# storage as localhost/weave-debian:bookworm-<key>, and as a tarball in $WEAVE_IMAGES_CACHE
# (default /var/cache/weave-images) from which the image is imported again if podman's storage was
# reset. The key hashes this script and the apt sources, so changing either makes a new base.
# WEAVE_IMAGES_REFRESH=1 makes it anew anyway, to pick up the security updates published since.
#
# Environment: WEAVE_DEBIAN_MIRROR overrides the mirror found in /etc/apt/sources.list*.
# Needs root (debootstrap).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

suite=bookworm
cache="${WEAVE_IMAGES_CACHE:-/var/cache/weave-images}"

[ "$(id -u)" = 0 ] || die "run as root (debootstrap)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/setup.sh installs it)"

if [ -n "${WEAVE_DEBIAN_MIRROR:-}" ]; then
  sources="$WEAVE_DEBIAN_MIRROR $suite"$'\n'"$WEAVE_DEBIAN_MIRROR $suite-updates"
else
  sources="$(apt_sources "$suite")"
fi
mirror="$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$sources")"
[ -n "$mirror" ] ||
  die "no Debian $suite source (main) in /etc/apt/sources.list*; set WEAVE_DEBIAN_MIRROR"

key="$( (cat "${BASH_SOURCE[0]}"; echo "$sources") | sha256sum | cut -c1-16)"
image="localhost/weave-debian:$suite-$key"
tarball="$cache/debian-$suite-$key.tar"

mkdir -p "$cache"
# One builder at a time per machine: two would debootstrap the same tarball.
exec 9>"$cache/lock"
flock 9

if [ "${WEAVE_IMAGES_REFRESH:-0}" = 1 ]; then
  rm -f "$tarball"
  "$podman" rmi -f "$image" >/dev/null 2>&1 || true
fi
if "$podman" image exists "$image"; then
  echo "$image"
  exit 0
fi

if [ ! -f "$tarball" ]; then
  work="$(mktemp -d "$cache/build.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  rootfs="$work/rootfs"
  echo "base.sh: debootstrap --variant=minbase $suite from $mirror (once per machine)" >&2
  if ! debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap $suite from $mirror failed (log above)"
  fi

  # Packages installed later (by the images' Containerfiles) bring no documentation either;
  # copyright files stay, as Debian's licences ask.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-weave-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/01-weave-minimal" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  awk '{ print "deb", $1, $2, "main" }' <<<"$sources" >"$rootfs/etc/apt/sources.list"
  # Nothing installed into an image may try to start a service.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"

  # debootstrap takes the suite's packages only: security and stable updates come now, in the
  # base, rather than as second copies in every image's package layer.
  if ! "$podman" run --rm --network host --rootfs "$rootfs" /bin/bash -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq' \
    >"$work/upgrade.log" 2>&1; then
    tail -n 20 "$work/upgrade.log" >&2
    die "upgrading the base from $mirror failed (log above)"
  fi

  # What debootstrap installed before the rules above existed, its caches and its logs; the
  # host's name and resolver and podman's marker, which podman provides per container.
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,info,locale,lintian}/* "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf "$rootfs"/run/.containerenv
  tar --numeric-owner --xattrs -C "$rootfs" -cf "$work/rootfs.tar" .
  rm -f "$cache"/debian-"$suite"-*.tar  # bases of earlier recipes or mirrors
  mv "$work/rootfs.tar" "$tarball"
fi

# Bases of earlier recipes or mirrors, unless images still use them.
for old in $("$podman" images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/weave-debian:' | grep -vx "$image"); do
  "$podman" rmi "$old" >/dev/null 2>&1 || true
done
"$podman" import --quiet --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$tarball" "$image" >/dev/null
echo "$image"
