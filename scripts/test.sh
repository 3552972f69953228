#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test: unit tests (label "unit") and
# kernel tests in their own network namespaces (label "netns", root only).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j2 "$@"
