#!/usr/bin/env bash
# podman 4.3 (network_backend = "cni") with tether, conf/podman/tether-<VERSION>.conflist.
# podman makes the container netns itself and calls the plugin in its own netns. By default that
# is a throwaway "host" netns (podman runs under nsenter; not `ip netns exec`, which remounts /sys
# and hides the cgroup mounts runc needs). E2E_PODMAN_ROOT_NETNS=1 runs it in the root netns as a
# user would: then the bridge, subnet, network name and dataDir (the only fields rewritten in the
# conflist) are unique per run, forwarding sysctls are restored, and everything is removed at exit.
# Usage: podman_test.sh 1.0.0|0.4.0
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/rootfs.sh"
version=${1:?conflist version}
need podman; need runc; need jq; need curl; need busybox; need iptables-legacy-save; need nsenter

bin=$(stage_install)
if [[ ${E2E_PODMAN_ROOT_NETNS:-0} == 1 ]]; then
  in_host() { "$@"; }
  preserve_root_forwarding
else
  netns_add H h
  in_host() { nsenter --net="/run/netns/$H" "$@"; }
fi
br="te${E2E_ID}pm"
net="tether-e2e-$E2E_ID"
subnet_prefix="10.201.$((E2E_ID % 250))"
in_host ip route | grep -q "^$subnet_prefix\." && fail "$subnet_prefix.0/24 already routed here; rerun"
in_host ip link show "$br" >/dev/null 2>&1 && fail "bridge $br already exists"
hostport=$((20000 + E2E_ID % 20000))
HNS=${H:-}  # expect_http's netns ("" = root)
dd="$E2E_TMP/ipam"

# Private podman: its own storage, state, CNI config dir and containers.conf.
netd="$E2E_TMP/net.d" && mkdir -p "$netd"
jq --arg n "$net" --arg br "$br" --arg s "$subnet_prefix.0/24" --arg gw "$subnet_prefix.1" --arg dd "$dd" \
  '.name = $n | .plugins[0].bridge = $br | .plugins[0].ipam.ranges = [[{subnet: $s, gateway: $gw}]]
   | .plugins[0].ipam.dataDir = $dd | .plugins[0].stateDir = ($dd + "-state")' \
  "$TETHER_SOURCE_DIR/conf/podman/tether-$version.conflist" >"$netd/$net.conflist"
cat >"$E2E_TMP/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[network]
network_backend = "cni"
network_config_dir = "$netd"
cni_plugin_dirs = ["$bin"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$E2E_TMP/containers.conf"
pm() {
  in_host podman --root "$E2E_TMP/storage" --runroot "$E2E_TMP/run" --tmpdir "$E2E_TMP/tmp" \
    --storage-driver vfs --network-config-dir "$netd" --cgroup-manager cgroupfs --runtime runc "$@"
}
# Cleanup order: containers (their DEL), then our bridge and anything left that names our subnet.
defer "in_host ip link del '$br'"
defer "pm rm -f -a -t 0"
rootfs="$E2E_TMP/rootfs"
make_busybox_rootfs "$rootfs"
echo podman-a >"$rootfs/www/id"

on_failure "pm ps -a"
pm network ls --format '{{.Name}}' | grep -qx "$net" || fail "podman does not list network $net (VERSION/supportedVersions?)"

leases() { ls "$dd/$net" 2>/dev/null | grep -E '^[0-9.]+$' || true; }
inspect() { pm inspect "$1" --format "{{(index .NetworkSettings.Networks \"$net\").$2}}"; }
sandbox_of() { pm inspect "$1" --format '{{.NetworkSettings.SandboxKey}}'; }

log "run -p $hostport:80 (conflist $version)"
pm run -d --name "a$E2E_ID" --network "$net" -p "$hostport:80" --rootfs "$rootfs" \
  /bin/busybox httpd -f -p 80 -h /www >/dev/null || fail "podman run a"
ipa=$(inspect "a$E2E_ID" IPAddress)
assert_match "$ipa" "^${subnet_prefix//./\\.}\.[0-9]+$" "podman inspect IPAddress"
assert_eq "$(leases)" "$ipa" "lease files"
sb=$(sandbox_of "a$E2E_ID")
assert_match "$(nsenter --net="$sb" ip -4 -o addr show dev eth0)" " $ipa/24 " "eth0 in the container netns"
expect_http "$HNS" "$ipa" 80 podman-a
expect_http "$HNS" 127.0.0.1 "$hostport" podman-a

log "--ip and --mac-address"
want_ip="$subnet_prefix.77" want_mac="02:42:0a:c9:00:4d"
pm run -d --name "b$E2E_ID" --network "$net" --ip "$want_ip" --mac-address "$want_mac" --rootfs "$rootfs" \
  /bin/busybox sleep 600 >/dev/null || fail "podman run b"
assert_eq "$(inspect "b$E2E_ID" IPAddress)" "$want_ip" "--ip"
assert_eq "$(inspect "b$E2E_ID" MacAddress)" "$want_mac" "--mac-address (inspect)"
assert_match "$(nsenter --net="$(sandbox_of "b$E2E_ID")" ip -o link show dev eth0)" "link/ether $want_mac " "--mac-address (eth0)"
pm exec "b$E2E_ID" /bin/busybox ping -c1 -W2 "$ipa" >/dev/null || fail "b cannot ping a"

log "stop releases, start re-adds"
pm stop -t 0 "a$E2E_ID" >/dev/null || fail "podman stop"
assert_eq "$(leases)" "$want_ip" "leases after stop"
assert_eq "$(in_host ip -o link show master "$br" | wc -l)" 1 "ports on $br after stop (only b's veth)"
[[ -z $(tether_fw in_host | grep -E -- "--dport $hostport|$ipa/32|-d $ipa |$ipa |\. $hostport " ) ]] \
  || fail "NAT rules for a kept after stop"
pm start "a$E2E_ID" >/dev/null || fail "podman start"
ipa2=$(inspect "a$E2E_ID" IPAddress)
assert_match "$ipa2" "^${subnet_prefix//./\\.}\." "IP after start"
expect_http "$HNS" "$ipa2" 80 podman-a
expect_http "$HNS" 127.0.0.1 "$hostport" podman-a

log "rm -f leaves nothing"
pm rm -f -t 0 "a$E2E_ID" "b$E2E_ID" >/dev/null || fail "podman rm -f"
[[ -z $(leases) ]] || fail "leases left: $(leases)"
[[ -z $(in_host ip -o link show master "$br" 2>/dev/null) ]] || fail "veths left on $br"
in_host ip link del "$br" || fail "bridge $br missing"
left=$(tether_fw in_host | grep -E "$subnet_prefix\.|--dport $hostport|$br|\. $hostport " || true)
[[ -z $left ]] || fail "iptables rules left behind: $left"
