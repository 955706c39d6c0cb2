#!/usr/bin/env bash
# Proves the Makefile tracks every object's headers: in a scratch copy of the
# tree, built, a generated function gains an argument (its header and source
# change, as `make regen` would change them) and a runtime function used only
# by a unit test does too. `make` must then fail compiling the handler and the
# unit test that call them with the old arguments, not relink stale objects
# against the new signatures.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# expect name command...: counts the check; a failure shows the end of make's output ($out).
expect() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok    $name"
  else failed=$((failed + 1)); echo "FAIL  $name"; printf '%s\n' "$out" | tail -20; fi
}

cd "$root" && make --no-print-directory -s all build/tests/test_db_array >/dev/null || exit 1
# cp -a keeps mtimes: the copy is as up to date as the tree it came from.
mkdir -p "$tmp/tests"
cp -a Makefile gen runtime handlers scripts build bin "$tmp/" && cp -a tests/unit "$tmp/tests/"
cd "$tmp" || exit 1

sed -i 's/rt_status db_user_get_by_id(rt_db \*db, rt_arena \*arena, const char \*id,/&\n                           int added,/' gen/db_user.h
sed -i 's/^rt_status db_user_get_by_id(rt_db \*db, rt_arena \*arena, const char \*id,/&\n                           int added,/' gen/db_user.c
sed -i '/^ *int added, db_user_row \*out)$/{n;s/^{$/{\n    (void)added;/}' gen/db_user.c
grep -q 'int added' gen/db_user.h && grep -q '(void)added' gen/db_user.c || { echo "FAIL  the edit did not apply"; exit 1; }
out=$(make --no-print-directory -k all 2>&1)
expect "a changed gen/ header recompiles the handler that includes it" \
  grep -q 'handlers/user_service.c.*error: too few arguments to function .db_user_get_by_id' <<<"$out"
expect "and the build stops there, before linking a daemon" bash -c '! grep -q "LINK  bin/user-service" <<<"$1"' _ "$out"

sed -i 's/\(rt_db_param_text_array(rt_arena \*arena, const char \*const \*items, size_t n\)/\1, int added/' \
  runtime/include/db_array.h runtime/src/db/db_array.c
sed -i '/^const char \*rt_db_param_text_array(.*int added)$/{n;s/^{$/{\n    (void)added;/}' runtime/src/db/db_array.c
grep -q 'int added' runtime/include/db_array.h && grep -q '(void)added' runtime/src/db/db_array.c || { echo "FAIL  the edit did not apply"; exit 1; }
out=$(make --no-print-directory -k build/tests/test_db_array 2>&1)
expect "a changed runtime/ header recompiles the unit test that includes it" \
  grep -q 'test_db_array.c.*error: too few arguments to function .rt_db_param_text_array' <<<"$out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
