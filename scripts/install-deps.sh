#!/usr/bin/env bash
# Installs tether's build, test and demo dependencies from Debian 12 packages (idempotent; skips
# apt-get entirely when everything is already installed).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  clang-format-14                        # scripts/check-format.sh (.clang-format is tuned for 14)
  libnl-3-dev libnl-route-3-dev libiptc-dev libnetfilter-conntrack-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  iproute2 iptables iputils-ping netcat-openbsd procps
  containernetworking-plugins   # reference host-local/bridge: interop tests and benchmarks
  # End-to-end tests (tests/e2e): real clients and the tools they need.
  podman runc conmon containerd busybox-static jq curl util-linux python3-yaml
  golang-go golang-github-appc-cni-dev   # libcni 1.1.2 source: tests/e2e/cnitool is built on it
  clang libclang-rt-14-dev               # libFuzzer targets (scripts/fuzz.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
