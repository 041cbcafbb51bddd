# shellcheck shell=bash
# Shared helpers for the end-to-end tests (sourced). Every resource a test creates is registered
# with `defer` right after it exists; the EXIT trap undoes them in reverse order, even on failure.
# Environment (set by tests/e2e/CMakeLists.txt): TETHER_SOURCE_DIR, TETHER_BUILD_DIR.
set -euo pipefail

E2E_NAME=${E2E_NAME:-$(basename "$0" .sh)}
E2E_SKIP=77  # CTest SKIP_RETURN_CODE
: "${TETHER_SOURCE_DIR:?}" "${TETHER_BUILD_DIR:?}"

log() { printf '[%s %s] %s\n' "$E2E_NAME" "$(date +%T)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit "$E2E_SKIP"; }

_deferred=()
_diagnostics=()
defer() { _deferred+=("$*"); }
# on_failure CMD: run (output shown) only if the test fails, before any cleanup.
on_failure() { _diagnostics+=("$*"); }
_run_deferred() {
  local rc=$? i
  set +e
  if ((rc != 0 && rc != E2E_SKIP)); then
    for i in "${_diagnostics[@]}"; do log "diagnostics: $i"; eval "$i" >&2; done
  fi
  for ((i = ${#_deferred[@]} - 1; i >= 0; i--)); do
    eval "${_deferred[i]}" >/dev/null 2>&1
  done
  if ((rc == 0)); then log "PASS"; elif ((rc != E2E_SKIP)); then log "exit code $rc"; fi
  exit "$rc"
}
trap _run_deferred EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || skip "needs root"
E2E_TMP=$(mktemp -d "/tmp/tether-e2e-$E2E_NAME.XXXXXX")
# --one-file-system: never descend into something a test mounted below it (proc, sysfs, netns).
defer "rm -rf --one-file-system '$E2E_TMP'"
# ...after unmounting whatever is still mounted below it (runs first: defers run in reverse).
defer "awk -v t='$E2E_TMP/' 'index(\$5, t) == 1 {print \$5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"
E2E_ID=$$  # unique per run: used in every name this test creates

need() { command -v "$1" >/dev/null || fail "missing '$1' (scripts/install-deps.sh installs it)"; }

# The firewall as text in the netns the given command prefix runs in (`tether_fw ip netns exec NS`,
# `tether_fw in_host`): legacy x_tables and tether's nftables tables, whichever backend wrote them.
# Reads only: no `-t TABLE`, which would create a legacy table (and so change `auto`'s choice).
tether_fw() {
  "$@" sh -c 'iptables-legacy-save; ip6tables-legacy-save; for f in ip ip6 bridge; do nft list table $f tether; done' \
    2>/dev/null || true
}

# Installs the build's binaries (+ bundled libs) the way `cmake --install` lays them out; prints
# the CNI bin dir.
stage_install() {
  local root="$E2E_TMP/install"
  DESTDIR="$root" cmake --install "$TETHER_BUILD_DIR" --prefix / >/dev/null \
    || fail "cmake --install of $TETHER_BUILD_DIR failed"
  local dir
  dir=$(cmake -L -N "$TETHER_BUILD_DIR" 2>/dev/null | sed -n 's/^CNI_BIN_DIR:PATH=//p')
  echo "$root${dir:-/opt/cni/bin}"
}

# netns_add VAR ROLE: throwaway named netns "te<pid>-<role>" stored in VAR; deleted at exit.
# (Not a $(...) helper: `defer` must run in the test's own shell.)
netns_add() {
  local name="te$E2E_ID-$2"
  ip netns add "$name"
  defer "ip netns del '$name'"
  ip -n "$name" link set lo up
  printf -v "$1" '%s' "$name"
}

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() { [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"; }
assert_match() { [[ "$1" =~ $2 ]] || fail "$3: '$1' does not match /$2/"; }
# retry N CMD...: up to N tries, 0.2 s apart.
retry() {
  local n=$1 i
  shift
  for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.2; done
  return 1
}

# The jq expression for the first IPv4 address of a CNI result on stdin (without prefix).
first_ipv4() { jq -r '[.ips[] | select(.address | test("^[0-9.]+/")) | .address][0] | split("/")[0]'; }

# httpd_in NETNS PORT TEXT: busybox httpd in NETNS answering GET /id with TEXT; stopped at exit.
httpd_in() {
  local ns=$1 port=$2 dir="$E2E_TMP/www-$1-$2"
  mkdir -p "$dir" && printf '%s\n' "$3" >"$dir/id"
  ip netns exec "$ns" busybox httpd -f -p "$port" -h "$dir" &
  defer "kill $!"
}
# http_get NETNS(or "") HOST PORT: the body of GET /id (3 s timeout).
http_get() {
  local ns=$1 url="http://$2:$3/id"
  [[ $2 == *:* ]] && url="http://[$2]:$3/id"
  # curl, not busybox wget: Debian's static busybox wget segfaults here.
  if [[ -n $ns ]]; then ip netns exec "$ns" curl -sfg -m 3 "$url"; else curl -sfg -m 3 "$url"; fi
}
# expect_http NETNS HOST PORT TEXT: retries briefly (the server may still be starting).
expect_http() {
  local got="" i
  for ((i = 0; i < 25; i++)); do
    got=$(http_get "$1" "$2" "$3" 2>/dev/null) && [[ $got == "$4" ]] && return 0
    sleep 0.2
  done
  fail "GET http://$2:$3/id from '${1:-root netns}': got '$got', expected '$4'"
}

# No TETHER-* iptables chain/rule may mention $1 in the root netns (legacy tables: libiptc).
assert_no_tether_rules() {
  local left
  left=$( (iptables-legacy-save; ip6tables-legacy-save) 2>/dev/null | grep -E "$1" || true)
  [[ -z $left ]] || fail "iptables rules left behind: $left"
}

# For tests whose client calls the plugin in the root netns: isGateway turns on forwarding there;
# put the global forwarding sysctls back as they were at exit.
preserve_root_forwarding() {
  local f v
  for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding; do
    v=$(cat "$f")
    defer "echo $v > $f"
  done
}
