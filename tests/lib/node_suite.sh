# What the node-driven suites share (tests/integration, tests/faults,
# tests/package, tests/ha and tests/explore, each sourcing this from its run.sh): the integration suite's node
# modules, a temp dir the postgres user can enter, a free port, node's test
# runner (over all files at once, or in shards side by side) ending with the
# one summary line scripts/test.sh reads ("N passed, M failed"), and the
# sanitizer reports daemons leave in their logs.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
it="$root/tests/integration"

# Installs the integration suite's node modules when they are missing or older
# than its package-lock.json.
suite_node_modules() {
  [ -d "$it/node_modules/@grpc/grpc-js" ] && [ "$it/node_modules/.package-lock.json" -nt "$it/package-lock.json" ] ||
    (cd "$it" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# A fresh temp dir named after $1 that the postgres user may enter (a data
# dir goes inside).
suite_tmp() {
  local dir; dir=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 711 "$dir"
  echo "$dir"
}

# A port free now (the kernel's choice), or a random one without python3.
suite_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# Runs node's test runner over the files given, one at a time, within $1
# seconds in all (a hang fails, it never blocks make test), then prints
# "N passed, M failed" from node's summary. Answers node's status.
suite_node_test() {
  local seconds=$1; shift
  local out rc
  out=$(mktemp)
  timeout "$seconds" node --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  local pass fail
  pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$out" | tail -1)
  fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$out" | tail -1)
  rm -f "$out"
  echo "${pass:-0} passed, ${fail:-0} failed"
  return "$rc"
}

# Fails (answers 1) when a daemon built with sanitizers reported into the
# logs under $1, showing the reports.
suite_sanitizer_reports() {
  local pattern="ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:"
  grep -l -E "$pattern" "$1"/*.log 2>/dev/null || return 0
  grep -h -A30 -E "$pattern" "$1"/*.log | head -120
  return 1
}

# Runs node's test runner over the files given (after "--") in $2 shards side
# by side, within $1 seconds per file, then prints "N passed, M failed" over
# all of them. Each shard first calls the function named $3 with its number
# (0, 1, ...) in a subshell of its own, which starts what the shard's files
# share (a PostgreSQL of its own) and exports where it is; then it runs, one
# at a time, each file no other shard has claimed yet (mkdir is the claim),
# so a long file does not hold the others up. Shard 0 prints as it goes, the
# others into files printed whole after it, so no two outputs mix; node's
# per-run summary lines are left out. A signal to the caller is passed on (a
# background job would not see a Ctrl-C). Answers non-zero if anything failed.
suite_node_shards() {
  local seconds=$1 shards=$2 setup=$3; shift 4
  local work; work=$(mktemp -d)
  mkdir "$work/claims"
  local pids=() n
  set -m
  for ((n = 0; n < shards; n++)); do
    if [ "$n" -eq 0 ]; then suite_shard "$work" "$n" "$seconds" "$setup" "$@" &
    else suite_shard "$work" "$n" "$seconds" "$setup" "$@" >"$work/$n.out" 2>&1 &
    fi
    pids+=($!)
  done
  set +m
  trap 'for p in "${pids[@]}"; do kill -INT -- "-$p" 2>/dev/null; done' INT TERM
  local status=0 rc pass=0 fail=0 p f
  for ((n = 0; n < shards; n++)); do
    while :; do wait "${pids[$n]}" && rc=0 || rc=$?; kill -0 "${pids[$n]}" 2>/dev/null || break; done
    [ "$rc" -eq 0 ] || status=1
    [ "$n" -eq 0 ] || cat "$work/$n.out"
  done
  trap - INT TERM
  for n in "$work"/*.counts; do
    [ -f "$n" ] || continue
    read -r p f <"$n"
    pass=$((pass + p)) fail=$((fail + f))
  done
  # a file no shard ran (its shard's setup failed) is a failure too
  for n in "$@"; do [ -d "$work/claims/$(basename "$n")" ] || { echo "not run: $n"; fail=$((fail + 1)); status=1; }; done
  rm -rf "$work"
  echo "${pass} passed, ${fail} failed"
  return "$status"
}

# One shard of suite_node_shards: its setup, then the files it claims; its
# counts into $1/<n>.counts. Answers non-zero if anything failed.
suite_shard() {
  local work=$1 n=$2 seconds=$3 setup=$4; shift 4
  "$setup" "$n" || { echo "shard $n: $setup failed"; return 1; }
  local f out rc status=0 pass=0 fail=0 p
  out=$(mktemp)
  for f in "$@"; do
    mkdir "$work/claims/$(basename "$f")" 2>/dev/null || continue
    timeout "$seconds" node --test --test-concurrency=1 --test-reporter=spec "$f" >"$out" 2>&1 && rc=0 || rc=$?
    grep -Ev '^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [0-9.]+$' "$out" || true
    p=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$out" | tail -1)
    pass=$((pass + ${p:-0}))
    p=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$out" | tail -1)
    # a file that failed without saying so (timed out, crashed) counts once
    [ "$rc" -eq 0 ] || { status=1; [ "${p:-0}" -gt 0 ] || p=1; echo "$f: node exited with $rc"; }
    fail=$((fail + ${p:-0}))
  done
  rm -f "$out"
  echo "$pass $fail" >"$work/$n.counts"
  return "$status"
}
