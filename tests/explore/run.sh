#!/usr/bin/env bash
# The fault explorer (explore.js): `make explore SEED=n SECONDS=s` runs one
# seed; the make-test suite runs a few fixed seeds (EXPLORE_SEEDS) with a
# budget of EXPLORE_SECONDS of faults each. Every run starts and stops its own
# PostgreSQL and daemons; each is bounded by `timeout` (a hang fails, it never
# blocks make test). Prints each seed, so any failure replays with
# `make explore SEED=n SECONDS=s`. Exits non-zero if any seed found a violation.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
it="$root/tests/integration"
[ -d "$it/node_modules/@grpc/grpc-js" ] && [ "$it/node_modules/.package-lock.json" -nt "$it/package-lock.json" ] ||
  (cd "$it" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
seconds=${SECONDS_BUDGET:-30}
read -r -a seeds <<< "${SEEDS:-1}"
pass=0 fail=0
for seed in "${seeds[@]}"; do
  # faults + clients' longest deadline + settle window + setup, with room to spare
  if SEED=$seed SECONDS_BUDGET=$seconds timeout -k 10 $((seconds + 240)) node "$here/explore.js"; then
    pass=$((pass + 1))
  else
    echo "explore: seed $seed FAILED; replay: make explore SEED=$seed SECONDS=$seconds"
    fail=$((fail + 1))
  fi
done
echo "explore: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
