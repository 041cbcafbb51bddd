#!/usr/bin/env bash
# The installed `tether` under valgrind's memcheck for every verb, on both firewall backends: no
# invalid read or write, no use of an uninitialised value, and no uninitialised byte in a syscall
# (a netlink message or batch reaching the kernel). The host's FORWARD policy drops (iptables-nft),
# so the nftables ADD writes the network's accepts and its last DEL removes them; the attachment
# is dual-stack with a TCP and a UDP mapping.
source "$(dirname "$0")/lib.sh"
need valgrind
need jq

bin=$(stage_install)
netns_add H host
netns_add C ctr
ip netns exec "$H" sh -c 'iptables-nft -P FORWARD DROP && ip6tables-nft -P FORWARD DROP'

# memcheck VERB CONF [ID]: prints the plugin's stdout; fails on a memcheck error or a CNI error.
memcheck() {
  local log="$E2E_TMP/valgrind-$1-${2##*/}.log" out rc=0
  out=$(ip netns exec "$H" env CNI_COMMAND="$1" CNI_CONTAINERID="mem-$E2E_ID" CNI_NETNS="/run/netns/$C" \
    CNI_IFNAME=eth0 CNI_PATH="$bin" valgrind -q --error-exitcode=99 --log-file="$log" "$bin/tether" <"$2") || rc=$?
  ((rc != 99)) || { cat "$log" >&2; fail "$1 ($2): memcheck found errors (above)"; }
  ((rc == 0)) || fail "$1 ($2): exit $rc: $out"
  printf '%s' "$out"
}

for backend in nftables iptables; do
  log "backend $backend"
  conf="$E2E_TMP/$backend.json"
  jq -n --arg b "$backend" --arg d "$E2E_TMP/$backend" '{
      cniVersion: "1.1.0", name: "memnet", type: "tether", bridge: "tmem0", isGateway: true,
      ipMasq: true, firewallBackend: $b, stateDir: ($d + "/state"),
      ipam: {type: "tether-ipam", dataDir: ($d + "/ipam"),
             ranges: [[{subnet: "10.88.0.0/24"}], [{subnet: "fd88::/64"}]]},
      runtimeConfig: {portMappings: [{hostPort: 18080, containerPort: 80, protocol: "tcp"},
                                     {hostPort: 18053, containerPort: 53, protocol: "udp"}]}}' >"$conf"
  result=$(memcheck ADD "$conf")
  [[ $(jq '.ips | length' <<<"$result") == 2 ]] || fail "ADD result: $result"
  tether_fw ip netns exec "$H" | grep -qiE 'tether' || fail "no firewall objects after ADD ($backend)"
  jq --argjson r "$result" '. + {prevResult: $r}' "$conf" >"$conf.prev"
  memcheck CHECK "$conf.prev" >/dev/null
  jq '. + {"cni.dev/valid-attachments": [{containerID: "other", ifname: "eth0"}, {containerID: "mem-'"$E2E_ID"'", ifname: "eth0"}]}' \
    "$conf" >"$conf.gc"
  memcheck GC "$conf.gc" >/dev/null
  memcheck STATUS "$conf" >/dev/null
  memcheck DEL "$conf.prev" >/dev/null
  memcheck DEL "$conf" >/dev/null  # again: nothing there
  left=$( (tether_fw ip netns exec "$H"; ip netns exec "$H" sh -c 'iptables-nft-save; ip6tables-nft-save') |
    grep -iE 'tether' || true)
  [[ -z $left ]] || fail "firewall objects left after DEL ($backend): $left"
done
