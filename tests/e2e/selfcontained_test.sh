#!/usr/bin/env bash
# The installed binaries are self-contained: inside a chroot holding only busybox-static, glibc
# (libc.so.6 + the dynamic loader) and `cmake --install`'s output (binaries + tether.libs), with no
# libnl, libiptc, libnetfilter_conntrack or libstdc++, VERSION works and a real ADD/CHECK/DEL with
# conf/10-tether.conflist works in a throwaway netns pair.
if [[ -z ${E2E_PRIVATE_MNT:-} ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
  exec unshare -m --propagation private env E2E_PRIVATE_MNT=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
need busybox; need jq; need ping

bin=$(stage_install)
root="$E2E_TMP/root"
mkdir -p "$root"/{bin,proc,sys,run,tmp,netns,lib64,lib/x86_64-linux-gnu,var/lib/cni,opt/cni}
cp -a "$bin" "$root/opt/cni/bin"
cp "$(command -v busybox)" "$root/bin/busybox" && ln -s busybox "$root/bin/sh"
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
cp -L /lib/x86_64-linux-gnu/libc.so.6 "$root/lib/x86_64-linux-gnu/"
for lib in libnl-3 libnl-route-3 libip4tc libip6tc libnetfilter_conntrack libmnl libnftnl libstdc++ libgcc_s; do
  [[ -z $(find "$root" -name "$lib.so*" -not -path '*/tether.libs/*') ]] || fail "$lib present outside tether.libs"
done
[[ -z $(find "$root/opt/cni/bin/tether.libs" -name 'libnl*' -o -name 'libstdc++*') ]] || fail "libnl/libstdc++ bundled: should be static"

# tether finds tether.libs through /proc/self/exe: a node always has /proc (and the plugin needs it
# for sysctls and netns paths anyway).
mount -t proc proc "$root/proc" && defer "umount -l '$root/proc'"
mount -t sysfs sysfs "$root/sys" && defer "umount -l '$root/sys'"
# Loader's view: tether needs only glibc at start; the netfilter libraries are dlopen'ed from
# tether.libs (lib/sys/lazy_lib.hpp) by the verbs that touch NAT rules.
deps=$(chroot "$root" /lib64/ld-linux-x86-64.so.2 --list /opt/cni/bin/tether) || fail "tether does not load: $deps"
[[ $deps != *"not found"* ]] || fail "unresolved: $deps"
[[ $deps != *libip4tc* ]] || fail "libip4tc linked at start (should be loaded lazily): $deps"
# No search path for the loader to walk at every start (lib/iptables/lazy_libs.cpp).
[[ -z $(readelf -d "$root/opt/cni/bin/tether" | grep -E 'RPATH|RUNPATH') ]] || fail "tether carries an rpath"
# tether-ipam needs only libc and libstdc++ and is linked fully static: no program interpreter.
readelf -l "$root/opt/cni/bin/tether-ipam" | grep -q 'program interpreter' && fail "tether-ipam is not static"

run() {  # run VERB NETNS-IN-CHROOT BINARY STDIN
  printf '%s' "$4" | ip netns exec "$H" chroot "$root" /bin/busybox env -i CNI_COMMAND="$1" \
    CNI_CONTAINERID=selfcontained CNI_NETNS="$2" CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin "$3"
}
for b in tether tether-ipam; do
  v=$(printf '{"cniVersion":"1.0.0"}' | chroot "$root" /bin/busybox env -i CNI_COMMAND=VERSION "/opt/cni/bin/$b") \
    || fail "$b VERSION"
  assert_match "$(jq -c .supportedVersions <<<"$v")" '"1.0.0"' "$b supportedVersions"
done

netns_add H h
netns_add C c
touch "$root/netns/c" && mount --bind "/run/netns/$C" "$root/netns/c" && defer "umount -l '$root/netns/c'"
# A UDP mapping and debug logging: DEL then flushes that port's conntrack entries (the ping below
# leaves some in H), which loads libnetfilter_conntrack and its dependencies from tether.libs.
# Both firewall backends: nftables (auto's choice here) loads libmnl, libiptc its own libraries,
# each from tether.libs.
for backend in nftables iptables; do
  log "firewallBackend $backend"
  conf=$(jq -c --arg b "$backend" '.plugins[0] + {name: .name, cniVersion: .cniVersion, logLevel: "debug",
    firewallBackend: $b, runtimeConfig: {portMappings: [{hostPort: 45353, containerPort: 53, protocol: "udp"}]}}' \
    "$TETHER_SOURCE_DIR/conf/10-tether.conflist")
  r=$(run ADD /netns/c /opt/cni/bin/tether "$conf") || fail "ADD in the chroot ($backend)"
  ip=$(first_ipv4 <<<"$r")
  assert_match "$(ip -n "$C" -4 -o addr show dev eth0)" " $ip/" "container address"
  ip netns exec "$H" ping -c1 -W2 "$ip" >/dev/null || fail "host netns cannot ping $ip"
  [[ -n $(tether_fw ip netns exec "$H" | grep -F "$ip") ]] || fail "no ipMasq rule for $ip ($backend)"
  run CHECK /netns/c /opt/cni/bin/tether "$(jq -c --argjson r "$r" '. + {prevResult: $r}' <<<"$conf")" || fail "CHECK"
  [[ -n $(tether_fw ip netns exec "$H" | grep -E -- "--dport 45353|udp \. 45353") ]] || fail "no DNAT for 45353/udp"
  dellog=$(run DEL /netns/c /opt/cni/bin/tether "$(jq -c --argjson r "$r" '. + {prevResult: $r}' <<<"$conf")" 2>&1 >/dev/null) ||
    fail "DEL: $dellog"
  assert_match "$dellog" 'deleted [0-9]+ stale UDP conntrack entries' "conntrack flush through the bundled library"
  ip -n "$C" link show eth0 >/dev/null 2>&1 && fail "eth0 left after DEL"
  [[ -z $(tether_fw ip netns exec "$H" | grep -F "$ip") ]] || fail "NAT rule left after DEL ($backend)"
  [[ -z $(ls "$root/var/lib/cni/networks/tether" | grep -E '^[0-9.]+$') ]] || fail "lease left after DEL"
done
glibc=$(objdump -T "$bin/tether" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
log "needs from the node: ${glibc:-?} (glibc) and nothing else"
log "install size: $(du -sh "$bin" | cut -f1) ($(du -sh "$bin/tether.libs" | cut -f1) bundled libs)"
