#!/usr/bin/env bash
# apt_sources (lib.sh) reads the mirrors the images are built from out of apt's sources, in both
# formats; a wrong answer would send debootstrap to the wrong archive on CI.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/sources.list.d"

cat >"$dir/sources.list" <<'SOURCES'
# deb http://commented.example/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main contrib
deb-src http://one.example/debian bookworm main
deb http://one.example/debian bookworm-backports main
deb http://nomain.example/debian bookworm contrib
SOURCES
cat >"$dir/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
# a comment inside the stanza
URIs: http://two.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://two.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no
SOURCES
cat >"$dir/sources.list.d/other.list.disabled" <<'SOURCES'
deb http://ignored.example/debian bookworm main
SOURCES

expected='http://one.example/debian bookworm
http://two.example/debian bookworm
http://two.example/debian bookworm-updates
http://two.example/debian-security bookworm-security'
actual="$(apt_sources bookworm "$dir" | sort)"
if [ "$actual" != "$expected" ]; then
  echo "apt_sources_test: expected:"$'\n'"$expected"$'\n'"got:"$'\n'"$actual" >&2
  exit 1
fi
[ -z "$(apt_sources bookworm "$dir/nothing-here")" ] || { echo "apt_sources_test: sources from an empty apt dir" >&2; exit 1; }
echo "apt_sources_test: ok"
