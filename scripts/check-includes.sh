#!/usr/bin/env bash
# Containment of the C libraries' headers: each one may be included only in the directory that wraps
# it, so the rest of the tree depends on our wrappers, never on libnl, libiptc, libnftnl, ... directly.
# Fails listing every offending file:line. Usage: scripts/check-includes.sh [repo-root]
#
# The rule table: one line per rule,
#   <header pattern>  <allowed path prefix> [<allowed path prefix> ...]
# The pattern is an extended regex matched against the whole name inside #include <...> (or "...").
# A prefix is matched against the path from the repo root ("lib/netlink/" is a directory,
# "tests/unit/iptables_" the iptables tests). A new wrapper directory is one new line.
read -r -d '' RULES <<'EOF' || true
netlink/.*|linux/(rtnetlink|if_link|if_addr|neighbour|if_bridge|netconf|fib_rules)\.h   lib/netlink/
libiptc/.*|linux/netfilter_ipv[46]/.*|linux/netfilter/x_tables\.h                   lib/iptables/ tests/unit/iptables_
linux/netfilter/xt_.*\.h                                                              lib/iptables/ tests/unit/iptables_ lib/nftables/
libnetfilter_conntrack/.*                                                             lib/conntrack/
libnftnl/.*|libmnl/.*|linux/netfilter/(nf_tables|nfnetlink)\.h                        lib/nftables/
systemd/.*                                                                            lib/dbus/
nlohmann/.*                                                                           lib/cni/ ipam/ plugin/ tests/
EOF
# Notes on the rules:
# - x_tables: tests/unit/iptables_* check the entries lib/iptables builds, byte by byte.
# - xt_*.h in lib/nftables: the match structs iptables-nft puts into nf_tables' `match` expression.
# - nlohmann: the JSON boundary. Included directly by lib/cni (types.hpp: cni::json) and tests;
#   ipam/ and plugin/ parse their own config keys through cni::json. The libraries below them
#   (netlink, iptables, firewall, net, sys, ...) never see JSON.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

mapfile -t files < <(find lib plugin ipam tests -path tests/fuzz/corpus -prune -o \
  -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.cc' -o -name '*.h' -o -name '*.c' \) -print | sort)

# file:line:<header> for every #include in the tree
mapfile -t includes < <(grep -HnoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^>"]+[>"]' "${files[@]}" |
  sed -E 's/^([^:]+):([0-9]+):.*[<"]([^>"]+)[>"]$/\1:\2:\3/')

violations=0
while read -r pattern allowed; do
  [[ -z $pattern || $pattern == \#* ]] && continue
  for inc in "${includes[@]}"; do
    file=${inc%%:*} rest=${inc#*:}
    line=${rest%%:*} header=${rest#*:}
    [[ $header =~ ^($pattern)$ ]] || continue
    ok=0
    for prefix in $allowed; do
      [[ $file == "$prefix"* ]] && ok=1 && break
    done
    if ((!ok)); then
      echo "$file:$line: #include <$header> is allowed only under: $allowed" >&2
      violations=$((violations + 1))
    fi
  done
done <<<"$RULES"

if ((violations)); then
  echo "check-includes: $violations include(s) outside their wrapper directory (rules: scripts/check-includes.sh)" >&2
  exit 1
fi
echo "check-includes: ${#files[@]} files, ${#includes[@]} includes, all within their wrapper directories"
