#!/usr/bin/env bash
# `make test`: every suite in order, each in its own build, then one summary
# line of passed and failed test counts over all of them. Exits non-zero when
# anything failed. Starts and stops its own PostgreSQL (tests/integration/run.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0 failed_suites=()
suite_names=() suite_secs=() suite_counts=()
started=$(date +%s)

# Runs one suite, echoes its output, and adds the counts it reports to the
# totals: every runner ends with "N passed, M failed" (cmocka's via
# run-unit.sh, the Lua runner, the node suites' via tests/lib/node_suite.sh).
suite() {
  local name=$1; shift
  echo "== $name: $*"
  local log; log=$(mktemp)
  local t0; t0=$(date +%s)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local secs=$(($(date +%s) - t0))
  echo "== $name: $secs s"
  local p f
  p=$(grep -Eo '([0-9]+) passed, [0-9]+ failed' "$log" | tail -1 | cut -d' ' -f1)
  f=$(grep -Eo '[0-9]+ passed, ([0-9]+) failed' "$log" | tail -1 | cut -d' ' -f3)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  [ "$rc" -eq 0 ] || failed_suites+=("$name")
  suite_names+=("$name") suite_secs+=("$secs") suite_counts+=("$p passed, $f failed")
  rm -f "$log"
}

suite deps-are-installed-by-deps.sh bash scripts/check-deps.sh
suite deps-check-catches-a-missing-package bash tests/deps/test_check_deps.sh
suite build make --no-print-directory all
suite build-tracks-headers make --no-print-directory test-build-deps
suite runtime-layout make --no-print-directory test-runtime-layout
suite contract-is-compatible make --no-print-directory check-contract
suite regen-refuses-breaking-changes make --no-print-directory test-regen-gate
suite generated-code-is-current make --no-print-directory check-gen
suite queries-as-postgresql-reads-them make --no-print-directory check-queries
suite query-check-catches-mismatches make --no-print-directory test-describe
suite codegen make --no-print-directory test-codegen
suite unit make --no-print-directory test-unit
suite sanitize make --no-print-directory test-sanitize
suite fuzz make --no-print-directory test-fuzz
suite integration make --no-print-directory test-integration
suite valgrind env VALGRIND=1 make --no-print-directory test-integration
suite faults make --no-print-directory test-faults
suite package make --no-print-directory test-package
suite ha make --no-print-directory test-ha
suite explore make --no-print-directory test-explore

# The table: where make test's time goes (the target is 15 minutes on 2 cores).
echo
printf '%-40s %6s  %s\n' suite seconds result
for i in "${!suite_names[@]}"; do
  printf '%-40s %6s  %s\n' "${suite_names[$i]}" "${suite_secs[$i]}" "${suite_counts[$i]}"
done
printf '%-40s %6s\n' "(wall time)" $(($(date +%s) - started))
echo
[ ${#failed_suites[@]} -eq 0 ] || echo "failed suites: ${failed_suites[*]}"
echo "all: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
