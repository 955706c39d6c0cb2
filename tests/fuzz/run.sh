#!/usr/bin/env bash
# Runs the libFuzzer targets (build-fuzz/fuzz/fuzz_*, `make fuzz-build`)
# FUZZ_SECONDS each, FUZZ_JOBS at a time (default: the cores, at most 2),
# or only FUZZ_TARGETS. Each starts from the committed seeds
# (tests/fuzz/corpus/<target>) and regression inputs
# (tests/fuzz/regressions/<target>, replayed first: each is a crash that was
# fixed) plus what earlier runs found (build-fuzz/corpus/<target>, not
# committed). A crash, leak or timeout writes its input to
# build-fuzz/crashes/<target>/ and fails, printing the command that replays
# it. Prints executions per second and in total per target.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-16}
jobs=${FUZZ_JOBS:-$(n=$(nproc); echo $((n > 2 ? 2 : n)))}
targets=${FUZZ_TARGETS:-}
[ -n "$targets" ] || targets=$(cd build-fuzz/fuzz && ls fuzz_* | grep -v '\.d$')
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

one() {
  local t=$1 logs=$2 seconds=$3
  local bin=build-fuzz/fuzz/$t crashes=build-fuzz/crashes/$t work=build-fuzz/corpus/$t
  mkdir -p "$crashes" "$work"
  local dirs=("$work")
  for d in tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do [ -d "$d" ] && dirs+=("$d"); done
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a leak or a blow-up.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dirs[@]}" >"$logs/$t" 2>&1
  echo $? >"$logs/$t.rc"
}
export -f one
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {} "$logs" "$seconds"

failed=0 passed=0
printf '%-20s %12s %14s %8s  %s\n' target exec/s executions corpus result
for t in $targets; do
  rc=$(cat "$logs/$t.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t" | tail -1)
  corpus=$(grep -o 'corp: [0-9]*' "$logs/$t" | tail -1 | cut -d' ' -f2)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    printf '%-20s %12s %14s %8s  %s\n' "$t" "${rate:-?}" "${execs:-?}" "${corpus:-?}" ok
  else
    failed=$((failed + 1))
    printf '%-20s %12s %14s %8s  %s\n' "$t" "${rate:-?}" "${execs:-?}" "${corpus:-?}" FAILED
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$logs/$t" | tail -1)
    grep -E '^==[0-9]+==ERROR|^SUMMARY|^[A-Za-z].*(accepted|differs|decode)' "$logs/$t" | head -5 | sed 's/^/    /'
    echo "    input: ${artifact:-(none written: see the log below)}"
    echo "    replay: build-fuzz/fuzz/$t ${artifact:-}"
    [ -n "$artifact" ] || tail -20 "$logs/$t" | sed 's/^/    | /'
  fi
done
# The summary line make test counts (scripts/test.sh).
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
