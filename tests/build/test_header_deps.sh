#!/usr/bin/env bash
# Proves the Makefile tracks every object's headers: in a scratch copy of the
# tree, built, a gen/ header a handler includes changes (as `make regen` would
# change it) and so does a runtime header a unit test includes. `make` must
# then recompile the handler and the unit test, not relink stale objects.
# Which headers is found in the tree, so no contract change breaks this test.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$root/tests/build/expect.sh"
EXPECT_TAIL=20 # make's output: the failing command is further up

cd "$root" && make --no-print-directory -s all $(ls tests/unit/test_*.c | sed 's|tests/unit/\(.*\)\.c|build/tests/\1|') \
  >/dev/null || exit 1
# cp -a keeps mtimes: the copy is as up to date as the tree it came from.
mkdir -p "$tmp/tests"
cp -a Makefile gen runtime handlers scripts build bin "$tmp/" && cp -a tests/unit "$tmp/tests/"
cd "$tmp" || exit 1

# A gen/ header some handler includes (whatever the contract generates) and a
# runtime/include header some unit test includes, found in the tree.
pick() { # dir-of-includers pattern-of-headers -> "includer header"
  local f h
  for f in $1; do
    for h in $(sed -n 's/^#include "\([^"/]*\.h\)"$/\1/p' "$f"); do
      [ -f "$2/$h" ] && { echo "$f $2/$h"; return 0; }
    done
  done
  return 1
}
read -r handler gen_header < <(pick "$(ls handlers/*.c)" gen) || { echo "FAIL  no handler includes a gen/ header"; exit 1; }
read -r unit rt_header < <(pick "$(ls tests/unit/test_*.c)" runtime/include) ||
  { echo "FAIL  no unit test includes a runtime/include header"; exit 1; }

# The gen/ header changes as `make regen` would change it; #error stands for
# any change its includers must see.
echo '#error "header changed"' >>"$gen_header"
out=$(make --no-print-directory -k all 2>&1)
expect "a changed gen/ header ($gen_header) recompiles the handler that includes it ($handler)" \
  grep -q "build/${handler%.c}.o\] Error" <<<"$out"
expect "and the build stops there, before linking a daemon" bash -c '! grep -q "LINK  bin/" <<<"$1"' _ "$out"
sed -i '$d' "$gen_header"

# The runtime header gains a macro only a cmocka test uses: the runtime's own
# objects still compile (so make gets to the test), the unit test that
# includes the header must not.
echo '#define cmocka_unit_test(f) header_deps_probe_changed' >>"$rt_header"
target="build/tests/$(basename "$unit" .c)"
out=$(make --no-print-directory -k "$target" 2>&1)
expect "a changed runtime/ header ($rt_header) recompiles the unit test that includes it ($unit)" \
  grep -q "$target\] Error" <<<"$out"

expect_summary
