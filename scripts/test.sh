#!/usr/bin/env bash
# Builds tether and runs the whole test suite: unit tests (no root), integration and fault-injection
# tests (root, each inside throwaway network namespaces) and the end-to-end tests with real clients. Usage: scripts/test.sh [build-dir] [build-type]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
type=${2:-Release}

scripts/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$type" "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
# Integration tests create network namespaces and need root.
ctest --test-dir "$build" --output-on-failure --timeout 600 -j2
