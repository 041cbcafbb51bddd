#!/usr/bin/env bash
# Fails when a C++ source differs from what clang-format 14 (Debian 12's, the version the
# .clang-format at the repo root was tuned for) makes of it, naming each file and line.
# Fix with:  clang-format-14 -i <file>...     Usage: scripts/check-format.sh [repo-root]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

cf=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $cf ]]; then
  echo "check-format: clang-format-14 not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if ! "$cf" --version | grep -q 'version 14\.'; then
  echo "check-format: $cf is not clang-format 14 ($("$cf" --version)); other versions format differently" >&2
  exit 1
fi
[[ -f .clang-format ]] || { echo "check-format: no .clang-format at $(pwd)" >&2; exit 1; }

mapfile -t files < <(find lib plugin ipam tests -path tests/fuzz/corpus -prune -o \
  -type f \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)

# --dry-run reports every change it would make as "<file>:<line>:<col>: error: code should be
# clang-formatted" plus the source line; each batch keeps just file:line, one write per line
# (sed -u), so the parallel batches cannot interleave within a line.
report=$(printf '%s\0' "${files[@]}" |
  xargs -0 -n 8 -P "$(nproc)" sh -c '"$0" --style=file --dry-run "$@" 2>&1 |
    sed -unE "s/^(.+):([0-9]+):[0-9]+: (error|warning): code should be clang-formatted.*/\1:\2/p"' "$cf" |
  sort -t: -k1,1 -k2,2n -u)

if [[ -n $report ]]; then
  echo "$report" | sed 's/$/: differs from clang-format/' >&2
  nfiles=$(cut -d: -f1 <<<"$report" | sort -u | wc -l)
  echo "check-format: $(wc -l <<<"$report") line(s) in $nfiles file(s) differ from $cf --style=file" \
    "(fix: $cf -i <file>...)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files match $cf --style=file"
