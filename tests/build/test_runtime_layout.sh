#!/usr/bin/env bash
# The runtime's shape holds: its objects call each other without a cycle, so
# each module can be read (and tested) knowing only the ones below it (the
# graph comes from nm, call_graph.sh, and tsort finds loops; a two-object
# cycle built here proves the check fails when there is one); and every
# public header (runtime/include) compiles on its own, with nothing of
# runtime/src or gen/ on the include path.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# acyclic FILE...: the call graph of these objects has no loop (tsort names it otherwise).
acyclic() {
  local graph; graph=$(bash "$root/tests/build/call_graph.sh" "$@") || return 2
  tsort <<<"$graph" >/dev/null 2>"$tmp/loop"
}
expect() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok    $name"
  else failed=$((failed + 1)); echo "FAIL  $name"; cat "$tmp/loop" 2>/dev/null; fi
}

cd "$root" && make --no-print-directory -s all >/dev/null || exit 1
expect "the runtime's object call graph has no cycle" acyclic "$root/build/libruntime.a"

mkdir -p "$tmp/cycle"
printf 'int b(int);\nint a(int n) { return n ? b(n - 1) : 0; }\n' >"$tmp/cycle/a.c"
printf 'int a(int);\nint b(int n) { return n ? a(n - 1) : 1; }\n' >"$tmp/cycle/b.c"
cc -c "$tmp/cycle/a.c" -o "$tmp/cycle/a.o" && cc -c "$tmp/cycle/b.c" -o "$tmp/cycle/b.o" || exit 1
# cyclic FILE...: the check fails, naming the objects of the loop.
cyclic() { ! acyclic "$@" && grep -q 'a.o' "$tmp/loop" && grep -q 'b.o' "$tmp/loop"; }
expect "a cycle between two objects is caught" cyclic "$tmp/cycle/a.o" "$tmp/cycle/b.o"

# public_headers: each runtime/include/*.h, included alone, compiles.
public_headers() {
  local h ok=0
  for h in "$root"/runtime/include/*.h; do
    printf '#include "%s"\n' "$(basename "$h")" >"$tmp/one.c"
    cc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$root/runtime/include" -I"$root/runtime/proto" \
      -I/usr/include/postgresql -c "$tmp/one.c" -o "$tmp/one.o" 2>>"$tmp/loop" || { echo "  $h" >>"$tmp/loop"; ok=1; }
  done
  return $ok
}
: >"$tmp/loop"
expect "every public header compiles on its own" public_headers

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
