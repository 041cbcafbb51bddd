#!/usr/bin/env bash
# A real tether demo, entirely inside throwaway network namespaces (the real host is not touched):
#   td-host  : the "node", where the plugin runs (bridge tether0, NAT rules)
#   td-c1/c2 : two "containers" attached with conf/10-tether.conflist, c1 publishes 8080->80/tcp
#   td-out   : an "outside" machine connected to td-host
# It builds and installs tether into a temp CNI dir, ADDs both containers, shows their addresses,
# pings between them, proves MASQUERADE (outside sees the node's address) and the port mapping
# (outside reaches c1 through node:8080), then DELs everything and checks nothing is left.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }

scripts/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build build --target tether tether-ipam -j"$(nproc)"

tmp=$(mktemp -d /tmp/tether-demo.XXXXXX)
ns=(td-host td-c1 td-c2 td-out)
cleanup() {
  for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
cleanup_children() { jobs -p | xargs -r kill 2>/dev/null || true; }

DESTDIR=$tmp cmake --install build >/dev/null
bin=$tmp/opt/cni/bin
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "namespaces: node, two containers, one outside host"
for n in "${ns[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n td-host link add uplink type veth peer name eth0 netns td-out
ip -n td-host addr add 10.250.99.1/24 dev uplink && ip -n td-host link set uplink up
ip -n td-out addr add 10.250.99.2/24 dev eth0 && ip -n td-out link set eth0 up

# The conflist as shipped, with its IPAM store and firewall state moved into the temp dir.
conf() {  # $1 = runtimeConfig JSON
  jq -c --arg dir "$tmp/ipam" --arg state "$tmp/state" --argjson rc "$1" \
    '.plugins[0] + {cniVersion, name} | .ipam.dataDir = $dir | .stateDir = $state | .runtimeConfig = $rc' \
    conf/10-tether.conflist
}
# tether's firewall objects on the node, whichever backend `auto` picked (nftables in a fresh netns).
fw() {
  ip netns exec td-host sh -c 'for f in ip ip6; do nft list table $f tether; done; iptables-legacy-save' 2>/dev/null |
    grep -E 'tether|TETHER' || true
}
cni() {  # $1 = command, $2 = container netns, $3 = runtimeConfig
  ip netns exec td-host env -i CNI_COMMAND="$1" CNI_CONTAINERID="demo-$2" CNI_NETNS="/var/run/netns/$2" \
    CNI_IFNAME=eth0 CNI_PATH="$bin" "$bin/tether" <<<"$(conf "$3")"
}

step "ADD td-c1 (publishes node:8080 -> c1:80) and td-c2"
cni ADD td-c1 '{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}' | jq -c '{ips, interfaces: [.interfaces[].name]}'
cni ADD td-c2 '{}' | jq -c '{ips}'
for c in td-c1 td-c2; do echo "$c: $(ip -n $c -br addr show eth0)"; done
ip1=$(ip -n td-c1 -j addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')
ip2=$(ip -n td-c2 -j addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')

step "ping c1 -> c2 ($ip2) and c2 -> c1 ($ip1)"
ip netns exec td-c1 ping -c2 -W2 "$ip2" | tail -2
ip netns exec td-c2 ping -c2 -W2 "$ip1" | tail -2

step "MASQUERADE: c1 connects to the outside host, which sees the node's address"
ip netns exec td-out timeout 10 nc -lvn 9000 </dev/null >"$tmp/masq.log" 2>&1 & server=$!
sleep 0.3
echo hi | ip netns exec td-c1 nc -w2 -N 10.250.99.2 9000 || true
wait $server || true
grep -o "Connection received on [0-9.]*" "$tmp/masq.log"

step "port mapping: the outside host reaches c1:80 through node 10.250.99.1:8080"
ip netns exec td-c1 sh -c 'echo "hello from c1" | timeout 10 nc -lN 80' & server=$!
sleep 0.3
ip netns exec td-out nc -w2 10.250.99.1 8080 </dev/null
wait $server || true

step "rules installed on the node (firewallBackend auto: nftables here; \`nft list table ip tether\`)"
ip netns exec td-host nft list table ip tether | grep -E 'map|elements|dnat|masquerade|chain' | head -20

step "DEL both containers (twice: DEL is idempotent) and check nothing is left"
for c in td-c1 td-c2; do cni DEL $c '{}'; cni DEL $c '{}'; done
echo "veths on the node:   $(ip -n td-host -o link show 2>/dev/null | grep -c '^[0-9]*: veth' || true)"
echo "firewall objects:    $(fw | wc -l)"
echo "IPAM leases:         $(ls "$tmp/ipam/tether" | grep -cE '^[0-9.]+$' || true)"
cleanup_children
step "demo done; namespaces and temp files removed"
