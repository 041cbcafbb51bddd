#!/usr/bin/env bash
# containerd 1.6 `ctr run --cni` with tether and a one-layer busybox OCI image built here.
# ctr's go-cni reads the fixed /etc/cni/net.d and /opt/cni/bin: the test runs in a private mount
# namespace with those bind-mounted to its own dirs, and runs a private containerd (own root, state,
# socket) plus ctr inside a throwaway "host" netns, so the bridge and NAT rules never reach the
# real host (nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup mounts runc
# needs). Usage: containerd_test.sh CONFLIST (relative to conf/)
if [[ -z ${E2E_PRIVATE_MNT:-} ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
  mkdir -p /etc/cni/net.d /var/lib/cni /run/tether  # mount points (what the packages create anyway)
  exec unshare -m --propagation private env E2E_PRIVATE_MNT=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/rootfs.sh"
source "$(dirname "$0")/oci_image.sh"
conflist=${1:?conflist under conf/}
need containerd; need ctr; need runc; need jq; need curl; need busybox; need nsenter

bin=$(stage_install)
netns_add H h
# What ctr sees: only our conflist and our binaries (Debian's go-cni also searches /usr/lib/cni;
# tether-ipam must come from $bin, so check the result comes from tether, below).
mkdir -p "$E2E_TMP/net.d"
cp "$TETHER_SOURCE_DIR/conf/$conflist" "$E2E_TMP/net.d/"
mount --bind "$E2E_TMP/net.d" /etc/cni/net.d
mount -t tmpfs tether-e2e /opt && mkdir -p /opt/cni/bin && mount --bind "$bin" /opt/cni/bin
mount -t tmpfs tether-e2e /var/lib/cni
mount -t tmpfs tether-e2e /run/tether  # the plugin's firewall state (stateDir default)
net=$(jq -r .name "$E2E_TMP/net.d/$(basename "$conflist")")
subnet=$(jq -r '.plugins[0].ipam.ranges[0][0].subnet' "$E2E_TMP/net.d/$(basename "$conflist")")
prefix=${subnet%.*}  # a /16 or /24 written as a.b.c.0: its first three octets match its hosts
prefix=${prefix%.*}

T=$E2E_TMP/containerd && mkdir -p "$T"
sock=$T/c.sock
cat >"$T/config.toml" <<CONF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
CONF
nsenter --net="/run/netns/$H" containerd --config "$T/config.toml" >"$T/log" 2>&1 &
cpid=$!
on_failure "tail -n 20 '$T/log'"
on_failure "cat '$T/run.log'"
# Shims outlive a killed containerd: end every process started with our private socket, by pid.
defer "for p in \$(pgrep -f -- '$sock'); do kill -9 \$p; done"
defer "kill $cpid; wait $cpid"
retry 50 test -S "$sock" || fail "containerd did not start: $(tail -5 "$T/log")"
ns="e2e$E2E_ID"
c() { nsenter --net="/run/netns/$H" ctr -a "$sock" -n "$ns" "$@"; }

rootfs="$E2E_TMP/rootfs"
make_busybox_rootfs "$rootfs"
echo containerd >"$rootfs/www/id"
ref="docker.io/tether-e2e/busybox:$E2E_ID"
make_oci_image "$rootfs" "$E2E_TMP/image.tar" "$ref"
c image import --snapshotter native "$E2E_TMP/image.tar" >/dev/null || fail "ctr image import"
c image ls -q | grep -qx "$ref" || fail "imported image $ref not listed: $(c image ls -q)"

log "ctr run --cni ($conflist)"
id="c$E2E_ID"
c run --cni --snapshotter native --rm "$ref" "$id" /bin/busybox httpd -f -p 80 -h /www >"$T/run.log" 2>&1 &
runpid=$!
defer "kill $runpid"
defer "c task kill -s KILL $id"
pid=""
for ((i = 0; i < 50; i++)); do
  pid=$(c task ls 2>/dev/null | awk -v id="$id" '$1 == id && $3 == "RUNNING" {print $2}')
  [[ -n $pid ]] && break
  kill -0 "$runpid" 2>/dev/null || break  # ctr run already failed
  sleep 0.2
done
[[ -n $pid ]] || fail "task did not start: $(cat "$T/run.log")"
cip=$(nsenter --net="/proc/$pid/ns/net" ip -4 -o addr show dev eth0 | awk '{print $4}')
assert_match "$cip" "^${prefix//./\\.}\." "container eth0 address from $subnet"
cip=${cip%/*}
lease_dir=/var/lib/cni/networks/$net
[[ -f $lease_dir/$cip ]] || fail "no tether-ipam lease for $cip in $lease_dir"
assert_match "$(cat "$lease_dir/$cip")" "$ns-$id" "lease owner (CNI_CONTAINERID = <namespace>-<id>)"
expect_http "$H" "$cip" 80 containerd

log "task exit: DEL with empty netns releases everything"
c task kill -s KILL "$id" >/dev/null
wait "$runpid" || true
[[ -e $lease_dir/$cip ]] && fail "lease $cip kept after the task exited: $(cat "$T/run.log")"
[[ -z $(ip -n "$H" -o link show type veth) ]] || fail "veth left in host netns"
[[ -z $(tether_fw ip netns exec "$H" | grep -F "$cip") ]] || fail "NAT rules for $cip kept"
