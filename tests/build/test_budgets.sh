#!/usr/bin/env bash
# The time budgets the Makefile hands its runners are the documented ones
# (README, Testing): make test's fuzz step 16 s per target, `make fuzz` 600 s,
# `make explore` 60 s, make test's explorer 20 s, and SECONDS=n given on the
# command line wins. Read from `make -n`, so nothing runs. (A global
# `SECONDS ?= 60`, meant for the explorer, once made every make-test fuzz
# target run 60 s.)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/build/expect.sh"
EXPECT_TAIL=1 # the runner's command line
cd "$root" || exit 1

# `make -n $1 ${@:4}` would pass $2=$3 to its runner (the last $2= it
# shows); -o: without what the target builds first (a make of its own).
budget_is() {
  local target=$1 var=$2 want=$3; shift 3
  out=$(make -n --no-print-directory -o all -o fuzz-build "$target" "$@" 2>&1)
  [ "$(printf '%s\n' "$out" | grep -o "$var=[0-9]*" | tail -1 | cut -d= -f2)" = "$want" ]
}
expect "make test's fuzz step: 16 s per target" budget_is test-fuzz FUZZ_SECONDS 16
expect "make fuzz: 600 s per target" budget_is fuzz FUZZ_SECONDS 600
expect "make fuzz SECONDS=5: 5 s" budget_is fuzz FUZZ_SECONDS 5 SECONDS=5
expect "make explore: 60 s of faults" budget_is explore SECONDS_BUDGET 60
expect "make explore SECONDS=7: 7 s" budget_is explore SECONDS_BUDGET 7 SECONDS=7
expect "make test's explorer: 20 s of faults per seed" budget_is test-explore SECONDS_BUDGET 20
expect_summary
