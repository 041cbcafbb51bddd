#!/usr/bin/env bash
# Kubernetes: (1) conf/kubernetes manifests agree with the installer and each other; (2) the node
# path kind exercises, kubelet -> containerd CRI -> libcni -> tether, replayed with the files the
# DaemonSet installs: loopback first (0.3.1, CNI_IFNAME=lo), K8S_* CNI_ARGS in random order,
# capitalised portMappings keys, pod IP = first IP on eth0, DEL twice (second one netns-less).
# Runs in a throwaway host netns and a private mount namespace (libcni cache on tmpfs).
if [[ -z ${E2E_PRIVATE_MNT:-} ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
  mkdir -p /var/lib/cni /run/tether  # mount points only
  exec unshare -m --propagation private env E2E_PRIVATE_MNT=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
need jq; need curl; need busybox; need go
[[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import yaml' 2>/dev/null || fail "needs Debian's python3-yaml"
mount -t tmpfs tether-e2e /var/lib/cni
mount -t tmpfs tether-e2e /run/tether  # the plugin's firewall state (stateDir default)
k8s="$TETHER_SOURCE_DIR/conf/kubernetes"

log "manifests"
facts=$(/usr/bin/python3 - "$k8s" <<'PY'
import json, sys, yaml
d = sys.argv[1]
ds = yaml.safe_load(open(f"{d}/tether-daemonset.yaml"))
kind = yaml.safe_load(open(f"{d}/kind-config.yaml"))
pod = yaml.safe_load(open(f"{d}/hostport-pod.yaml"))
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
env = {e["name"]: e["value"] for e in c["env"]}
vols = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
mounts = {m["mountPath"]: vols[m["name"]] for m in c["volumeMounts"]}
assert ds["kind"] == "DaemonSet" and spec["hostNetwork"] is True
assert {"operator": "Exists"} in spec["tolerations"], "must tolerate the not-ready taint"
assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()
assert kind["networking"]["disableDefaultCNI"] is True
# The firewall-reload container: the image's tether, in --watch mode, on the host's state dir.
r = next(x for x in spec["containers"] if x["name"] == "firewall-reload")
assert r["image"] == c["image"] and r["command"][:3] == ["/tether/bin/tether", "firewall-reload", "--watch"], r
state = r["command"][r["command"].index("--state-dir") + 1]
assert {m["mountPath"]: vols[m["name"]] for m in r["volumeMounts"]}[state] == "/run/tether", "state dir mount"
assert "NET_ADMIN" in r["securityContext"]["capabilities"]["add"]
print(json.dumps({"subnet": env["TETHER_SUBNET"], "root": env.get("TETHER_HOST_ROOT", "/host"),
  "mounts": mounts, "image": c["image"], "pod_image": pod["spec"]["containers"][0]["image"],
  "pod_subnet": kind["networking"]["podSubnet"],
  "host_port": pod["spec"]["containers"][0]["ports"][0]["hostPort"]}))
PY
) || fail "manifest structure"
root=$(jq -r .root <<<"$facts")
assert_eq "$(jq -r --arg p "$root/opt/cni/bin" '.mounts[$p]' <<<"$facts")" /opt/cni/bin "bin hostPath mount"
assert_eq "$(jq -r --arg p "$root/etc/cni/net.d" '.mounts[$p]' <<<"$facts")" /etc/cni/net.d "conf hostPath mount"
assert_eq "$(jq -r .pod_subnet <<<"$facts")" "$(jq -r .subnet <<<"$facts")" "kind podSubnet = TETHER_SUBNET"
assert_eq "$(jq -r .pod_image <<<"$facts")" "$(jq -r .image <<<"$facts")" "hostport pod uses the installer image"
grep -q 'ENTRYPOINT \["/bin/sh", "/tether/install-cni.sh"\]' "$TETHER_SOURCE_DIR/Dockerfile" || fail "Dockerfile entrypoint"

log "install as the DaemonSet would (TETHER_SUBNET from the manifest)"
bin=$(stage_install)
host="$E2E_TMP/node" img="$E2E_TMP/tether"
mkdir -p "$img" && cp -a "$bin" "$img/bin" && cp -a "$TETHER_SOURCE_DIR/conf" "$img/conf"
TETHER_SRC=$img TETHER_HOST_ROOT=$host TETHER_SUBNET=$(jq -r .subnet <<<"$facts") TETHER_NO_SLEEP=1 \
  sh "$TETHER_SOURCE_DIR/scripts/install-cni.sh" >/dev/null || fail "install-cni.sh"

cnitool="$E2E_TMP/tether-cnitool"
(cd "$TETHER_SOURCE_DIR/tests/e2e/cnitool" &&
  GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS='' GOCACHE="$TETHER_BUILD_DIR/tests/e2e/gocache" \
    go build -o "$cnitool" .) || fail "building tether-cnitool"
# containerd's CRI plugin runs its own loopback config first.
lo="$E2E_TMP/lo" && mkdir -p "$lo"
printf '{"cniVersion":"0.3.1","name":"cni-loopback","plugins":[{"type":"loopback"}]}' >"$lo/99-loopback.conflist"

netns_add H node
netns_add P pod
hp=$(jq -r .host_port <<<"$facts")
cri() {  # cri VERB NETNS: one pod's calls, as containerd's CRI makes them
  ip netns exec "$H" env NETCONFPATH="$host/etc/cni/net.d" CNI_PATH="$host/opt/cni/bin:/usr/lib/cni" \
    CNI_CONTAINERID="f00dfeed$E2E_ID" \
    CNI_ARGS="K8S_POD_INFRA_CONTAINER_ID=f00dfeed$E2E_ID;IgnoreUnknown=1;K8S_POD_UID=0e5a-$E2E_ID;K8S_POD_NAME=tether-hostport;K8S_POD_NAMESPACE=default" \
    CAP_ARGS="{\"portMappings\":[{\"HostPort\":$hp,\"ContainerPort\":8080,\"Protocol\":\"tcp\",\"HostIP\":\"\"}]}" \
    "$cnitool" "$1" tether "$2"
}
log "ADD: loopback, then tether with capitalised portMappings"
ip netns exec "$H" env NETCONFPATH="$lo" CNI_PATH=/usr/lib/cni CNI_IFNAME=lo CNI_CONTAINERID="f00dfeed$E2E_ID" \
  "$cnitool" add cni-loopback "/run/netns/$P" >/dev/null || fail "loopback ADD"
r=$(cri add "/run/netns/$P") || fail "tether ADD"
podip=$(jq -r '[.ips[] | select(.interface != null and (.interface as $i | $ifs[$i].name == "eth0"))][0].address' \
  --argjson ifs "$(jq -c .interfaces <<<"$r")" <<<"$r")
podip=${podip%/*}
assert_match "$podip" '^10\.66\.' "pod IP (first IP on eth0) from TETHER_SUBNET"
assert_match "$(ip -n "$P" -4 -o addr show dev eth0)" " $podip/" "pod eth0"
ip -n "$P" link show lo | grep -q 'UP' || fail "loopback not up"
httpd_in "$P" 8080 pod
expect_http "$H" "$podip" 8080 pod
expect_http "$H" 127.0.0.1 "$hp" pod
log "DEL at stop (netns), DEL at removal (no netns)"
cri del "/run/netns/$P" || fail "first DEL"
ip -n "$P" link show eth0 >/dev/null 2>&1 && fail "eth0 left after DEL"
cri del "" || fail "second, netns-less DEL"
[[ -z $(ls "/var/lib/cni/networks/tether" 2>/dev/null | grep -E '^[0-9.]+$') ]] || fail "lease left"
[[ -z $(tether_fw ip netns exec "$H" | grep -E -- "$podip|--dport $hp| $hp ") ]] || fail "NAT rules left"
