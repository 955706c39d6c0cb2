#!/usr/bin/env bash
# `make test`: every suite, each in its own build, then a table of each
# suite's wall and CPU time and one summary line of passed and failed test
# counts over all of them. Exits non-zero when anything failed. Most suites
# run one after another; a few that mostly wait (on timers, failovers, their
# faults) run side by side (suite_bg), each with its own PostgreSQL, ports and
# temp dir, its output kept and printed whole once it ends.
set -uo pipefail
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0 failed_suites=()
rows=()
started=$(date +%s)
scratch=$(mktemp -d)
bg_pids=() bg_names=() bg_cmds=() bg_started=0
# A signal stops the suites running in the background too: each is a process
# group of its own (set -m), told as a Ctrl-C would tell it, so its runner
# stops what it started.
stop_bg() {
  local p
  for p in "${bg_pids[@]}"; do kill -INT -- "-$p" 2>/dev/null; done
  wait
  rm -rf "$scratch"
  exit 130
}
trap stop_bg INT TERM
trap 'rm -rf "$scratch"' EXIT

# Runs a suite's command in a subshell of its own (so `times` sees only its
# processes), its output into $1/log, and to stdout as it comes when $2 is
# "tee"; then writes "status wall-seconds cpu-seconds" into $1/end. CPU is
# user + system of its processes, daemons included, not of the PostgreSQL
# servers (pg_ctl detaches them).
run_timed() (
  dir=$1 show=$2; shift 2
  t0=$(date +%s)
  if [ "$show" = tee ]; then
    "$@" 2>&1 | tee "$dir/log"; rc=${PIPESTATUS[0]}
  else
    "$@" >"$dir/log" 2>&1; rc=$?
  fi
  times >"$dir/times"
  cpu=$(sed -n 2p "$dir/times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%d", t }')
  echo "$rc $(($(date +%s) - t0)) ${cpu:-0}" >"$dir/end"
)

# Adds a finished suite (its run_timed dir) to the totals and the table:
# every runner ends with "N passed, M failed" (cmocka's via run-unit.sh, the
# Lua runner, the node suites' via tests/lib/node_suite.sh).
count() {
  local name=$1 dir=$2 rc secs cpu p f
  read -r rc secs cpu 2>/dev/null <"$dir/end" || { rc=1 secs='?' cpu='?'; }
  p=$(grep -Eo '([0-9]+) passed, [0-9]+ failed' "$dir/log" | tail -1 | cut -d' ' -f1)
  f=$(grep -Eo '[0-9]+ passed, ([0-9]+) failed' "$dir/log" | tail -1 | cut -d' ' -f3)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  [ "$rc" -eq 0 ] || failed_suites+=("$name")
  echo "== $name: $secs s (cpu $cpu s)"
  rows+=("$(printf '%-40s %6s %6s  %s' "$name" "$secs" "$cpu" "$p passed, $f failed")")
  rm -rf "$dir"
}

# Runs one suite in the foreground, its output as it comes.
suite() {
  local name=$1; shift
  echo "== $name: $*"
  mkdir "$scratch/fg"
  run_timed "$scratch/fg" tee "$@"
  count "$name" "$scratch/fg"
}

# Starts one suite in the background, its output into a file; suite_wait
# prints it. For suites that wait more than they compute and share nothing
# with the others (own PostgreSQL, free ports, mktemp dirs, nothing to build).
suite_bg() {
  local name=$1; shift
  local dir=$scratch/bg-${#bg_pids[@]}
  mkdir "$dir"
  [ ${#bg_pids[@]} -gt 0 ] || bg_started=$(date +%s)
  echo "== $name: $* (started in the background)"
  set -m
  run_timed "$dir" file "$@" &
  set +m
  bg_pids+=($!) bg_names+=("$name") bg_cmds+=("$*")
}

# Waits for the background suites, then prints each one's output whole, in
# the order they were started, and counts it; the table gets a row for the
# group's wall time.
suite_wait() {
  local i secs
  wait
  secs=$(($(date +%s) - bg_started))
  for i in "${!bg_pids[@]}"; do
    echo "== ${bg_names[$i]}: ${bg_cmds[$i]} (ran in the background)"
    cat "$scratch/bg-$i/log"
    count "${bg_names[$i]}" "$scratch/bg-$i"
  done
  echo "== ${bg_names[*]}, side by side: $secs s"
  rows+=("$(printf '%-40s %6s' "(${bg_names[*]}: side by side)" "$secs")")
  bg_pids=() bg_names=() bg_cmds=()
}

suite deps-are-installed-by-deps.sh bash scripts/check-deps.sh
suite deps-check-catches-a-missing-package bash tests/deps/test_check_deps.sh
suite build make --no-print-directory -j"$(nproc)" test-binaries
suite build-tracks-headers make --no-print-directory test-build-deps
suite runtime-layout make --no-print-directory test-runtime-layout
suite budgets-are-as-documented make --no-print-directory test-budgets
suite contract-is-compatible make --no-print-directory check-contract
suite regen-refuses-breaking-changes make --no-print-directory test-regen-gate
suite generated-code-is-current make --no-print-directory check-gen
suite queries-as-postgresql-reads-them make --no-print-directory check-queries
suite query-check-catches-mismatches make --no-print-directory test-describe
suite codegen make --no-print-directory test-codegen
suite unit make --no-print-directory test-unit
suite sanitize-unit make --no-print-directory test-sanitize-unit
suite sanitize-integration make --no-print-directory test-sanitize-integration
suite sanitize-faults make --no-print-directory test-sanitize-faults
suite fuzz make --no-print-directory test-fuzz
suite integration make --no-print-directory test-integration
suite valgrind env VALGRIND=1 make --no-print-directory test-integration
suite faults make --no-print-directory test-faults
# Everything these need is built by now (bin/, build/tests/tools): the
# background makes build nothing, so they never race on a file.
suite_bg explore make --no-print-directory test-explore
suite_bg ha make --no-print-directory test-ha
suite_bg package make --no-print-directory test-package
suite_wait

# The table: where make test's time goes (the target: under 15 minutes on 2 cores).
echo
printf '%-40s %6s %6s  %s\n' suite wall-s cpu-s result
printf '%s\n' "${rows[@]}"
printf '%-40s %6s\n' "(make test, wall)" $(($(date +%s) - started))
echo
[ ${#failed_suites[@]} -eq 0 ] || echo "failed suites: ${failed_suites[*]}"
echo "all: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
