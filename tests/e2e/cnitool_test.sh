#!/usr/bin/env bash
# cnitool-compatible driver (tests/e2e/cnitool, built on Debian's libcni 1.1.2) with the conf/
# conflists unchanged. cnitool acts in its current netns, so it runs inside a throwaway "host" netns;
# the whole test runs in a private mount namespace with tmpfs over the libcni cache + default IPAM
# dataDir (/var/lib/cni) and /run/tether, so nothing reaches the real host.
if [[ -z ${E2E_PRIVATE_MNT:-} ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
  mkdir -p /var/lib/cni /run/tether  # mount points only
  exec unshare -m --propagation private env E2E_PRIVATE_MNT=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
need go; need jq; need busybox; need iptables; need ping
mount -t tmpfs tether-e2e /var/lib/cni
mount -t tmpfs tether-e2e /run/tether

cnitool="$E2E_TMP/tether-cnitool"
(cd "$TETHER_SOURCE_DIR/tests/e2e/cnitool" &&
  GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS='' GOCACHE="$TETHER_BUILD_DIR/tests/e2e/gocache" \
    go build -o "$cnitool" .) || fail "building tether-cnitool (needs golang-go + golang-github-appc-cni-dev)"
bin=$(stage_install)
netns_add H h
netns_add C1 c1
netns_add C2 c2
netns_add C3 c3
export CNI_PATH="$bin:/usr/lib/cni" NETCONFPATH="$TETHER_SOURCE_DIR/conf/cnitool"
unset CNI_ARGS CAP_ARGS CNI_IFNAME
ct() { ip netns exec "$H" "$cnitool" "$@"; }
in_ns() { ip netns exec "$@"; }
leases() { ls "$1" 2>/dev/null | grep -E '^[0-9a-f.:]+$' || true; }
legacy_rules() { tether_fw in_ns "$H" | grep -E "$1" || true; }

log "chain: tether -> tuning -> firewall (conf/cnitool/tether-chain.conflist)"
r1=$(CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_NAMESPACE=e2e" \
     CAP_ARGS='{"portMappings":[{"hostPort":18081,"containerPort":80,"protocol":"tcp"}]}' \
     ct add tether-chain "/run/netns/$C1") || fail "add c1"
ip1=$(first_ipv4 <<<"$r1")
assert_match "$ip1" '^10\.68\.0\.[0-9]+$' "c1 address"
assert_eq "$(jq -r '.interfaces[.ips[0].interface].name' <<<"$r1")" eth0 "result ips[0].interface"
assert_eq "$(jq -r '.interfaces[.ips[0].interface].sandbox' <<<"$r1")" "/run/netns/$C1" "sandbox"
assert_match "$(ip -n "$C1" -4 -o addr show dev eth0)" " $ip1/24 " "eth0 address in c1"
# tuning ran after tether with tether's result as prevResult, and changed the interface tether made.
assert_eq "$(in_ns "$C1" cat /sys/class/net/eth0/mtu)" 1400 "eth0 mtu set by tuning"
assert_eq "$(in_ns "$C1" cat /proc/sys/net/ipv4/conf/eth0/log_martians)" 1 "tuning sysctl"
# firewall (nft iptables) saw the address through prevResult.
assert_match "$(in_ns "$H" iptables -S CNI-FORWARD)" "$ip1" "firewall CNI-FORWARD rule"
cache=(/var/lib/cni/results/tether-chain-cnitool-*-eth0)
[[ -f ${cache[0]} ]] || fail "no libcni cache entry"
assert_eq "$(jq -r '.result.ips[0].address' "${cache[0]}")" "$ip1/24" "cached result"
[[ -f /var/lib/cni/networks/tether-chain/$ip1 ]] || fail "no lease file for $ip1"

r2=$(ct add tether-chain "/run/netns/$C2") || fail "add c2"
ip2=$(first_ipv4 <<<"$r2")
[[ $ip2 != "$ip1" ]] || fail "c1 and c2 got the same address $ip1"
in_ns "$C1" ping -c1 -W2 "$ip2" >/dev/null || fail "c1 cannot ping c2 ($ip2)"
in_ns "$C2" ping -c1 -W2 10.68.0.1 >/dev/null || fail "c2 cannot ping the gateway"
httpd_in "$C1" 80 c1
expect_http "$H" "$ip1" 80 c1
expect_http "$H" 127.0.0.1 18081 c1   # CAP_ARGS portMappings -> runtimeConfig -> DNAT
expect_http "$C2" 10.68.0.1 18081 c1

log "CHECK passes, then fails once the container lost its address"
ct check tether-chain "/run/netns/$C1" || fail "check c1"
ip -n "$C1" addr del "$ip1/24" dev eth0
if ct check tether-chain "/run/netns/$C1" 2>/dev/null; then fail "check passed without c1's address"; fi

log "DEL releases everything; a second DEL (no cache) succeeds"
ct del tether-chain "/run/netns/$C1" || fail "del c1"
ip -n "$C1" link show eth0 >/dev/null 2>&1 && fail "eth0 still in c1"
[[ -e /var/lib/cni/networks/tether-chain/$ip1 ]] && fail "lease $ip1 not released"
compgen -G "/var/lib/cni/results/tether-chain-cnitool-*" >/dev/null && [[ -e ${cache[0]} ]] && fail "cache entry kept"
[[ -z $(in_ns "$H" iptables -S CNI-FORWARD | grep "$ip1") ]] || fail "firewall rule for $ip1 kept"
[[ -z $(legacy_rules "$ip1|18081") ]] || fail "NAT rules kept: $(legacy_rules "$ip1|18081")"
ct del tether-chain "/run/netns/$C1" || fail "second del c1"

log "gc: 1.0.0 list DELs cached attachments only; a 1.1.0 list also sends GC (valid-attachments [])"
r3=$(ct add tether-chain "/run/netns/$C3") || fail "add c3"
ip3=$(first_ipv4 <<<"$r3")
rm -f /var/lib/cni/results/tether-chain-cnitool-*"$(printf '%s' "/run/netns/$C3" | sha512sum | cut -c1-20)"-eth0
ct gc tether-chain || fail "gc"
[[ -e /var/lib/cni/networks/tether-chain/$ip2 ]] && fail "gc did not DEL cached c2"
[[ -e /var/lib/cni/networks/tether-chain/$ip3 ]] || fail "1.0.0 gc must not touch uncached c3"
gcdir="$E2E_TMP/gc-conf" && mkdir -p "$gcdir"
jq '.cniVersion = "1.1.0" | .plugins = [.plugins[0]]' "$NETCONFPATH/tether-chain.conflist" >"$gcdir/gc.conflist"
NETCONFPATH=$gcdir ct status tether-chain || fail "STATUS"
NETCONFPATH=$gcdir ct gc tether-chain || fail "gc 1.1.0"
[[ -z $(leases /var/lib/cni/networks/tether-chain) ]] || fail "GC left leases: $(leases /var/lib/cni/networks/tether-chain)"
[[ -z $(legacy_rules "$ip3") ]] || fail "GC left NAT rules for $ip3"
# Netns-less DEL/GC cannot reach into the sandboxes; a runtime deletes them. So do we.
ip -n "$C2" link del eth0 && ip -n "$C3" link del eth0

export NETCONFPATH="$TETHER_SOURCE_DIR/conf"
log "dual-stack (conf/dual-stack.conflist)"
r=$(ct add tether-dual "/run/netns/$C1") || fail "add dual"
assert_eq "$(jq -r '[.ips[].address] | length' <<<"$r")" 2 "dual-stack ips"
v6=$(jq -r '.ips[] | select(.address | contains(":")) | .address' <<<"$r")
assert_match "$v6" '^fd00:69::[0-9a-f]+/64$' "v6 address"
in_ns "$C1" ping -6 -c1 -W3 fd00:69::1 >/dev/null || fail "c1 cannot ping6 the gateway"
in_ns "$C1" ping -c1 -W2 10.69.0.1 >/dev/null || fail "c1 cannot ping the v4 gateway"
ct del tether-dual "/run/netns/$C1" || fail "del dual"
[[ -z $(leases /var/lib/cni/networks/tether-dual) ]] || fail "dual-stack leases kept"

log "port mappings + hairpin (conf/port-mappings.conflist)"
caps='{"portMappings":[{"hostPort":18082,"containerPort":80,"protocol":"tcp"}]}'
r=$(CAP_ARGS=$caps ct add tether-ports "/run/netns/$C1") || fail "add ports c1"
pip1=$(first_ipv4 <<<"$r")
ct add tether-ports "/run/netns/$C2" >/dev/null || fail "add ports c2"
httpd_in "$C1" 80 ports-c1
expect_http "$H" 127.0.0.1 18082 ports-c1
expect_http "$C2" 10.70.0.1 18082 ports-c1
expect_http "$C1" 10.70.0.1 18082 ports-c1  # hairpin: its own host port
CAP_ARGS=$caps ct del tether-ports "/run/netns/$C1" || fail "del ports c1"
ct del tether-ports "/run/netns/$C2" || fail "del ports c2"
[[ -z $(legacy_rules "18082|$pip1") ]] || fail "port-mapping rules kept: $(legacy_rules "18082|$pip1")"

log "tmpfs dataDir (conf/tmpfs-datadir.conflist)"
r=$(ct add tether-tmpfs "/run/netns/$C1") || fail "add tmpfs"
tip=$(first_ipv4 <<<"$r")
[[ -f /run/tether/ipam/tether-tmpfs/$tip ]] || fail "lease not under /run/tether/ipam"
ct del tether-tmpfs "/run/netns/$C1" || fail "del tmpfs"
[[ -e /run/tether/ipam/tether-tmpfs/$tip ]] && fail "tmpfs lease kept"

log "STATUS on conf/10-tether.conflist (1.1.0)"
ct status tether || fail "STATUS 10-tether"
