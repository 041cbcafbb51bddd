#!/usr/bin/env bash
# tether vs the reference CNI plugins (Debian containernetworking-plugins in /usr/lib/cni), side by
# side in one run, and the markdown tables of the README's Performance section.
#
#   sudo scripts/bench.sh                 # everything (~15 min on 2 vCPUs)
#   sudo QUICK=1 scripts/bench.sh         # latency + backend compare only, R=20 (~1 min)
#
# What it does: builds Release (tether, tether-ipam), installs them into a temp dir (the layout a
# node gets), creates ONE throwaway network namespace and runs everything inside it, so bridges,
# veths, forwarding sysctls and firewall rules never touch the host's namespace. Three sets:
# tether-nft (firewallBackend nftables), tether-ipt (iptables: libiptc, legacy x_tables) and ref
# (the reference plugins, with iptables-legacy through a PATH shim for their processes only).
#   1. cnibench, all sets interleaved: probe, execs (child processes), floor (exec cost, the same
#      kernel work through `ip -batch`), latency (ipam, bridge, bridge-masq, bridge-masq-portmap),
#      concurrency (C parallel full ADDs); compare (tether-nft vs ref, per-iteration A/B ratios);
#      also in QUICK: compare tether-nft vs tether-ipt and back (the two firewall backends,
#      AB_PAIRS pairs per order)
#   2. cnibench scale: N=1000 containers on one bridge for each tether set, REF_N for the
#      reference (its per-ADD cost grows with the nat table; N=1000 takes it ~15 minutes)
#   3. tests/bench/verb_probe.py: STATUS/VERSION/CHECK latency, strace -c syscalls per verb and
#      backend
#   4. tests/bench/bench_report.py: the tables, with the first/last 100 ADD medians of each scale
#      run (also saved as $OUT/report.md)
# cnibench runs through tests/bench/cnibench_run.py, which makes its exec timing end at the child's
# exit (stock CPython polls with 0.5-4 ms sleeps when a timeout is set; see that file).
#
# Knobs (environment): BUILD_DIR (build-bench), OUT (/tmp/tether-bench.<date>), R (30), AB_PAIRS
# (R*3: pairs per order of the backend A/B), N (1000), REF_N (200), C (8,32,64), QUICK, CNIBENCH
# (path to cnibench.py), EXTRA_SETS (more --set specs, space separated, e.g. a previous build for a
# before/after run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[[ $(id -u) -eq 0 ]] || { echo "bench: run as root (it creates network namespaces)" >&2; exit 1; }

CNIBENCH=${CNIBENCH:-$root/tests/bench/cnibench.py}
[[ -f $CNIBENCH ]] || CNIBENCH=$root/../shared/bench/cnibench.py
[[ -f $CNIBENCH ]] || { echo "bench: cnibench.py not found (set CNIBENCH=)" >&2; exit 1; }
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] ||
  { echo "bench: reference plugins missing: apt-get install containernetworking-plugins" >&2; exit 1; }
BUILD_DIR=${BUILD_DIR:-build-bench}
R=${R:-$([[ -n ${QUICK:-} ]] && echo 20 || echo 30)} N=${N:-1000} REF_N=${REF_N:-200} C=${C:-8,32,64}
AB_PAIRS=${AB_PAIRS:-$((R * 3))}
OUT=${OUT:-/tmp/tether-bench.$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$OUT"

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" --target tether tether-ipam -j"$(nproc)"
DESTDIR=$OUT/install cmake --install "$BUILD_DIR" >/dev/null
bin=$(dirname "$(find "$OUT/install" -name tether -type f | head -1)")

ns=tbench$$
work=$(mktemp -d /tmp/tether-bench-ipam.XXXXXX)
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  # cnibench removes its own container netns; this catches an interrupted run
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^tb$$-" || true); do ip netns del "$n" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

# tether twice, one set per firewall backend (bridge_extra_file merges into its config), and the
# reference plugins with iptables-legacy. The firewall state goes to the temp dir, not /run/tether.
printf '{"firewallBackend":"nftables","stateDir":"%s/state"}' "$work" >"$work/nft.json"
printf '{"firewallBackend":"iptables","stateDir":"%s/state"}' "$work" >"$work/ipt.json"
tether_common="cni_path=$bin:/usr/lib/cni,bridge=tether,ipam=tether-ipam,portmap=inline,chains=TETHER-"
nft_set="label=tether-nft,$tether_common,bridge_extra_file=$work/nft.json"
ipt_set="label=tether-ipt,$tether_common,bridge_extra_file=$work/ipt.json,iptables=legacy"
ref_set="label=ref,cni_path=/usr/lib/cni,iptables=legacy"
extra=() scenarios=probe,execs,floor,latency,concurrency
for s in ${EXTRA_SETS:-}; do extra+=(--set "$s"); done
common=(--ipam-dir "$work" --netns-prefix "tb$$-")

echo "== bench: output in $OUT (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
sets=(--set "$nft_set" --set "$ipt_set" "${extra[@]}" --set "$ref_set")
if [[ -n ${QUICK:-} ]]; then
  in_ns python3 tests/bench/cnibench_run.py "$CNIBENCH" "${sets[@]}" "${common[@]}" \
    --scenario latency -R "$R" --json-out "$OUT/main.json" | tee "$OUT/main.txt" || true
else
  in_ns python3 tests/bench/cnibench_run.py "$CNIBENCH" "${sets[@]}" "${common[@]}" \
    --scenario "$scenarios" -R "$R" -C "$C" --floor-reps 100 \
    --json-out "$OUT/main.json" | tee "$OUT/main.txt" || true
  # compare: A/B interleaved per iteration (exactly two sets)
  in_ns python3 tests/bench/cnibench_run.py "$CNIBENCH" --set "$nft_set" --set "$ref_set" "${common[@]}" \
    --scenario compare -R "$R" --json-out "$OUT/compare.json" | tee "$OUT/compare.txt" || true
  for s in "$nft_set" "$ipt_set"; do
    label=${s%%,*} label=${label#label=}
    in_ns python3 tests/bench/cnibench_run.py "$CNIBENCH" --set "$s" "${common[@]}" --scenario scale -N "$N" \
      --json-out "$OUT/scale-$label.json" | tee "$OUT/scale-$label.txt" || true
  done
  in_ns python3 tests/bench/cnibench_run.py "$CNIBENCH" --set "$ref_set" "${common[@]}" --scenario scale -N "$REF_N" \
    --json-out "$OUT/scale-ref.json" | tee "$OUT/scale-ref.txt" || true
  in_ns python3 tests/bench/verb_probe.py --bin-dir "$bin" --data-dir "$work/verbs" -R 100 \
    --json-out "$OUT/verbs.json" >/dev/null
fi

# The two firewall backends A/B, per-iteration ratios of the full ADD on an empty node (every ADD
# creates the firewall's tables or chains, every DEL removes them): the tightest measure of the
# difference, which is smaller than the run-to-run noise of separate medians. Once in each order
# (the set that goes first in a pair may pay for the other's leftovers); AB_PAIRS=300 resolves ~1%.
backends_ab() {  # FIRST_SET SECOND_SET FILE_SUFFIX
  in_ns python3 tests/bench/cnibench_run.py "$CNIBENCH" --set "$1" --set "$2" "${common[@]}" \
    --scenario compare -R "$AB_PAIRS" --json-out "$OUT/compare-backends$3.json" | tee "$OUT/compare-backends$3.txt" || true
}
backends_ab "$nft_set" "$ipt_set" ""
backends_ab "$ipt_set" "$nft_set" "-reversed"

# Exec floor (IPAM issue): what any glibc binary pays before main() here, next to tether-ipam and
# host-local, spawned without Python's subprocess overhead.
floor=$work/floor
mkdir -p "$floor"
cc -O2 -static -o "$floor/noop_static" tests/bench/floor/noop.c
cc -nostdlib -static -o "$floor/noop_nolibc" tests/bench/floor/noop_nolibc.S
cc -O2 -o "$floor/cpuid_cost" tests/bench/floor/cpuid_cost.c
in_ns python3 tests/bench/exec_floor.py --bin-dir "$bin" --data-dir "$work/floor-ipam" \
  --noop-static "$floor/noop_static" --noop-nolibc "$floor/noop_nolibc" --cpuid-cost "$floor/cpuid_cost" \
  -R "$([[ -n ${QUICK:-} ]] && echo 100 || echo 300)" --json-out "$OUT/floor.json" >"$OUT/floor.md" || true

python3 tests/bench/bench_report.py --main "$OUT/main.json" --compare "$OUT/compare.json" \
  --compare "$OUT/compare-backends.json" --compare "$OUT/compare-backends-reversed.json" \
  --scale "$OUT/scale-tether-nft.json" --scale "$OUT/scale-tether-ipt.json" --scale "$OUT/scale-ref.json" \
  --verbs "$OUT/verbs.json" --ours tether-nft --ours tether-ipt | tee "$OUT/report.md"
cat "$OUT/floor.md" | tee -a "$OUT/report.md"
echo "== bench: raw JSON and logs in $OUT"
