#!/usr/bin/env bash
# Installs the dependencies (Debian packages) and builds everything into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "build.sh: run as root (it installs packages)" >&2
  exit 1
fi
./scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
