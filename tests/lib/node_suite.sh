# What the node-driven suites share (tests/integration, tests/faults,
# tests/package, tests/ha and tests/explore, each sourcing this from its run.sh): the integration suite's node
# modules, a temp dir the postgres user can enter, a free port, node's test
# runner ending with the one summary line scripts/test.sh reads
# ("N passed, M failed"), and the sanitizer reports daemons leave in their logs.
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
