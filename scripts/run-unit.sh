#!/usr/bin/env bash
# Runs each cmocka test binary given as an argument and totals their results
# into one "N passed, M failed" line; exits non-zero if any test failed.
set -uo pipefail
passed=0 failed=0
for bin in "$@"; do
  out=$("$bin" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR)|^\[  PASSED' || true
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
    printf '%s\n' "$out" | tail -20; echo "$(basename "$bin"): exited $rc"; failed=$((failed + 1))
  fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
