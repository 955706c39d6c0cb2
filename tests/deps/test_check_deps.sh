#!/usr/bin/env bash
# The dependency check itself: it passes on scripts/deps.sh as committed, and
# it fails, naming the package, when a package the project needs (grpc-proto,
# whose files the generator and the health and reflection tests read) is
# dropped from the list. Prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0 fail=0
check() { if "$@"; then pass=$((pass + 1)); else echo "FAIL: $*" >&2; fail=$((fail + 1)); fi; }

check bash scripts/check-deps.sh >/dev/null 2>&1

tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
sed 's/\bgrpc-proto\b//' scripts/deps.sh >"$tmp/deps.sh"
bash scripts/check-deps.sh "$tmp/deps.sh" >"$tmp/out" 2>&1
rc=$?
check test "$rc" -ne 0
check grep -q 'comes from package grpc-proto' "$tmp/out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
