#!/usr/bin/env bash
# The fault explorer (explore.js): `make explore SEED=n SECONDS=s` runs one
# seed; the make-test suite runs a few fixed seeds (EXPLORE_SEEDS) with a
# budget of EXPLORE_SECONDS of faults each. Every run starts and stops its own
# PostgreSQL and daemons; each is bounded by `timeout` (a hang fails, it never
# blocks make test). Prints each seed, so any failure replays with
# `make explore SEED=n SECONDS=s`. Exits non-zero if any seed found a violation.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/node_suite.sh" # node modules, temp dir
suite_node_modules
seconds=${SECONDS_BUDGET:-30}
read -r -a seeds <<< "${SEEDS:-1}"
pass=0 fail=0
# Each run's PostgreSQL and logs live under $work: whatever becomes of a
# run (killed by its timeout), its server is stopped here.
work=$(suite_tmp wallet-explore)
cleanup() {
  for pg in "$work"/*/pg; do [ -d "$pg" ] && bash "$root/scripts/pg.sh" stop "$pg" >/dev/null 2>&1; done
  [ "${KEEP_LOGS:-0}" = 1 ] || rm -rf "$work" # KEEP_LOGS=1: a failing run's daemon logs stay
}
trap cleanup EXIT
for seed in "${seeds[@]}"; do
  # faults + clients' longest deadline + settle window + setup, with room to
  # spare; --foreground keeps it in this process group, so a Ctrl-C or a
  # signal to the group reaches the explorer, which stops what it started.
  if SEED=$seed SECONDS_BUDGET=$seconds EXPLORE_TMP="$work" \
     timeout --foreground -k 10 $((seconds + 240)) node "$here/explore.js"; then
    pass=$((pass + 1))
  else
    echo "explore: seed $seed FAILED; replay: make explore SEED=$seed SECONDS=$seconds"
    fail=$((fail + 1))
  fi
done
echo "explore: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
