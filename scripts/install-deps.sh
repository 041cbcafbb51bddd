#!/usr/bin/env bash
# Installs tether's build, test and demo dependencies from Debian 12 packages (idempotent; skips
# apt-get entirely when everything is already installed).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  clang-format-14                        # scripts/check-format.sh (.clang-format is tuned for 14)
  libnl-3-dev libnl-route-3-dev libiptc-dev libnetfilter-conntrack-dev nlohmann-json3-dev
  libnftnl-dev libmnl-dev nftables   # nftables backend (lib/nftables); the nft CLI reads rules back in tests
  libsystemd-dev                # sd-bus headers (lib/dbus loads libsystemd.so.0 on first use)
  libgtest-dev libgmock-dev
  iproute2 iptables iputils-ping netcat-openbsd procps
  valgrind                      # tests/e2e/memcheck_test.sh: every verb under memcheck
  containernetworking-plugins   # reference host-local/bridge: interop tests and benchmarks
  firewalld dbus-daemon dbus-bin # a real firewalld on a private bus: tests/integration/fixture/firewalld_sandbox.*
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
  # firewalld's package starts and enables the service: on a host with systemd it would take over
  # the host's firewall. The tests only ever run it in a sandbox, so it must not start now
  # (policy-rc.d: deb-systemd-invoke honours it) nor at boot.
  new_firewalld=0
  [[ " ${missing[*]} " == *" firewalld "* ]] && new_firewalld=1
  if ((new_firewalld)) && [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Offline too (no running systemd needed): removes the boot and D-Bus activation symlinks.
  if ((new_firewalld)) && command -v systemctl >/dev/null; then
    systemctl disable firewalld.service || true
  fi
fi
