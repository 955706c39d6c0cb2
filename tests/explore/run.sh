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
# The seeds run side by side (each a PostgreSQL, four daemons and eight
# clients of its own, mostly waiting on the faults' timers): the first
# prints as it goes, the others into files printed whole, in seed order,
# once it is done, so no two outputs mix. Each is bounded by faults +
# clients' longest deadline + settle window + setup, with room to spare. A
# signal to this script is passed on to the explorers, which stop what they
# started (a background job would not see a Ctrl-C).
seed_run() { # seed; exec: the signal below reaches timeout, which passes it on
  SEED=$1 SECONDS_BUDGET=$seconds EXPLORE_TMP="$work" exec timeout -k 10 $((seconds + 240)) node "$here/explore.js"
}
pids=()
for i in "${!seeds[@]}"; do
  if [ "$i" -eq 0 ]; then seed_run "${seeds[$i]}" 2>&1 &
  else seed_run "${seeds[$i]}" >"$work/seed-$i.out" 2>&1 &
  fi
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null' INT TERM
for i in "${!seeds[@]}"; do
  while :; do wait "${pids[$i]}"; rc=$?; kill -0 "${pids[$i]}" 2>/dev/null || break; done
  [ "$i" -eq 0 ] || cat "$work/seed-$i.out"
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1))
  else
    echo "explore: seed ${seeds[$i]} FAILED; replay: make explore SEED=${seeds[$i]} SECONDS=$seconds"
    fail=$((fail + 1))
  fi
done
echo "explore: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
