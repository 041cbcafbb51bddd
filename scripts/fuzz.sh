#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and fuzzes each for a time budget, seeded from
# tests/fuzz/corpus/<target>/. Fails on any crash, hang, leak or sanitizer report; the failing
# input is left in <build>/fuzz-artifacts/. Every seed (including past crash reproducers) is
# replayed first, so a regression fails even with a budget of 0.
#
# Usage: scripts/fuzz.sh [seconds-per-target=30] [build-dir=build-fuzz] [target...]
# Env:   FUZZ_MAX_LEN (default 8192), FUZZ_TIMEOUT per input in s (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
budget=${1:-30}
build=${2:-build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
max_len=${FUZZ_MAX_LEN:-8192}
timeout=${FUZZ_TIMEOUT:-10}

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (Debian 12: apt-get install clang; libFuzzer ships with it)" >&2
  exit 2
fi
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S . -B "$build" -DTETHER_FUZZ=ON -DTETHER_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  # Every tests/fuzz/fuzz_<name>.cpp is one target (tests/fuzz/CMakeLists.txt globs the same way).
  mapfile -t targets < <(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
fi
cmake --build "$build" -j2 --target "${targets[@]}"

build=$(cd "$build" && pwd)
mkdir -p "$build/fuzz-artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
summary=()
for t in "${targets[@]}"; do
  seeds=$src/tests/fuzz/corpus/$t
  work=$build/fuzz-corpus/$t
  mkdir -p "$work"
  log=$build/fuzz-artifacts/$t.log
  dict=()
  # A target-specific dictionary when there is one, else the shared CNI/JSON one.
  d=$src/tests/fuzz/dict/$t.dict
  [[ -f $d ]] || d=$src/tests/fuzz/dict/cni.dict
  [[ -f $d ]] && dict=(-dict="$d")
  echo "== $t: replaying $(ls "$seeds" 2>/dev/null | wc -l) seeds, then ${budget}s"
  # New interesting inputs go to the build dir's corpus; the seeds in the repo stay as written.
  # -max_total_time=0 would mean "forever": a zero budget only replays the seeds.
  limit=(-max_total_time="$budget")
  ((budget > 0)) || limit=(-runs=0)
  if "$build/fuzz/$t" "${limit[@]}" -max_len="$max_len" -timeout="$timeout" \
       -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" "${dict[@]}" \
       "$work" "$seeds" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    summary+=("$t: ok, ${execs:-?} execs, ${cov:-cov ?}, corpus $(ls "$work" | wc -l)")
  else
    failed+=("$t")
    summary+=("$t: FAILED (see $log)")
    grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
done
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean"
