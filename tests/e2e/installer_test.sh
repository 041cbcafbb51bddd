#!/usr/bin/env bash
# scripts/install-cni.sh (the installer image's entrypoint) against a scratch host root laid out
# like the Dockerfile's image: installs binaries + bundled libs + a conflist with the subnet from
# TETHER_SUBNET, is idempotent, rejects bad input without writing, exits on TERM, and the installed
# files work: ADD/DEL with the rendered conflist in a throwaway netns pair.
source "$(dirname "$0")/lib.sh"
need jq; need ping
bin=$(stage_install)
img="$E2E_TMP/image/tether" host="$E2E_TMP/host"
mkdir -p "$img" "$host"
cp -a "$bin" "$img/bin" && cp -a "$TETHER_SOURCE_DIR/conf" "$img/conf"
cp "$TETHER_SOURCE_DIR/scripts/install-cni.sh" "$img/install-cni.sh"
# The image's userland is busybox only (Dockerfile): run the script with exactly those applets.
bb="$E2E_TMP/busybox-bin" && mkdir -p "$bb"
for a in sh cp mv rm mkdir chmod sed grep cmp sleep kill cat ls echo env; do ln -s "$(command -v busybox)" "$bb/$a"; done
inst() { env -i PATH="$bb" TETHER_SRC="$img" TETHER_HOST_ROOT="$host" TETHER_NO_SLEEP=1 "$@" "$bb/sh" "$img/install-cni.sh"; }

log "bad input writes nothing"
for bad in 10.1.2.0 10.300.0.0/16 '10.0.0.0/8"}' 'fd00::/64' ' 10.1.0.0/16'; do
  if inst TETHER_SUBNET="$bad" 2>/dev/null; then fail "accepted TETHER_SUBNET='$bad'"; fi
done
if inst TETHER_CONFLIST=../CMakeLists.txt 2>/dev/null; then fail "accepted TETHER_CONFLIST outside conf/"; fi
[[ -z $(ls -A "$host") ]] || fail "a rejected run wrote: $(find "$host")"

log "install"
inst TETHER_SUBNET=10.123.0.0/16 >/dev/null || fail "install-cni.sh"
cb="$host/opt/cni/bin" cf="$host/etc/cni/net.d/10-tether.conflist"
for f in tether tether-ipam; do [[ -x $cb/$f ]] || fail "$f not installed executable"; cmp -s "$cb/$f" "$bin/$f" || fail "$f differs"; done
for f in "$bin"/tether.libs/*; do cmp -s "$f" "$cb/tether.libs/${f##*/}" || fail "${f##*/} not installed"; done
assert_eq "$(jq -r '.plugins[0].ipam.ranges[0][0].subnet' "$cf")" 10.123.0.0/16 "rendered subnet"
assert_eq "$(jq -S 'del(.plugins[0].ipam.ranges)' "$cf")" \
  "$(jq -S 'del(.plugins[0].ipam.ranges)' "$TETHER_SOURCE_DIR/conf/10-tether.conflist")" "rest of the conflist unchanged"
[[ -z $(find "$host" -name '*.tmp*') ]] || fail "temporary files left"

log "rerun is idempotent (unchanged files are not replaced)"
before=$(stat -c %i "$cb/tether" "$cf")
inst TETHER_SUBNET=10.123.0.0/16 >/dev/null || fail "second run"
assert_eq "$(stat -c %i "$cb/tether" "$cf")" "$before" "inodes after an identical rerun"
inst TETHER_SUBNET=10.124.0.0/16 >/dev/null || fail "third run"
assert_eq "$(jq -r '.plugins[0].ipam.ranges[0][0].subnet' "$cf")" 10.124.0.0/16 "subnet updated"

log "sleeps until TERM, then exits 0"
rm -rf "$host" && mkdir -p "$host"
env -i PATH="$bb" TETHER_SRC="$img" TETHER_HOST_ROOT="$host" TETHER_SUBNET=10.123.0.0/16 "$bb/sh" "$img/install-cni.sh" >/dev/null &
ipid=$!
defer "kill $ipid"
retry 50 test -f "$cf" || fail "daemon mode did not install"
sleep 0.3
kill -0 "$ipid" || fail "installer exited instead of sleeping"
kill -TERM "$ipid"
for ((i = 0; i < 25; i++)); do kill -0 "$ipid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ipid" 2>/dev/null && fail "installer ignored TERM"
wait "$ipid" || fail "installer exit code $? on TERM"

log "installed files work: ADD/DEL with the rendered conflist"
netns_add H h
netns_add C c
dd="$E2E_TMP/ipam"
conf=$(jq -c --arg dd "$dd" '.plugins[0] + {name: .name, cniVersion: .cniVersion} | .ipam.dataDir = $dd | .stateDir = ($dd + "-state")' "$cf")
call() {
  printf '%s' "$2" | ip netns exec "$H" env -i PATH=/usr/bin:/bin CNI_COMMAND="$1" CNI_CONTAINERID=installer \
    CNI_NETNS="/run/netns/$C" CNI_IFNAME=eth0 CNI_PATH="$cb" "$cb/tether"
}
r=$(call ADD "$conf") || fail "ADD with the installed plugin"
ip=$(first_ipv4 <<<"$r")
assert_match "$ip" '^10\.123\.' "address from TETHER_SUBNET"
ip netns exec "$H" ping -c1 -W2 "$ip" >/dev/null || fail "cannot ping $ip"
call DEL "$(jq -c --argjson r "$r" '. + {prevResult: $r}' <<<"$conf")" || fail "DEL"
ip -n "$C" link show eth0 >/dev/null 2>&1 && fail "eth0 left after DEL"
true
