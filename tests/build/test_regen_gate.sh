#!/usr/bin/env bash
# `make regen` runs the contract gate and the migration lint before it
# writes anything: in a scratch copy of the tree, a field of the contract
# renumbered and a NOT NULL column without a default added to a released
# table are each refused (file:line and rule), gen/ untouched;
# ALLOW_BREAKING=RULE lets the renumbering through. Which field and which
# table are found in the tree, so no contract change breaks this test.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$root/tests/build/expect.sh"

cd "$root" && make --no-print-directory -s build/tools/pg_parse >/dev/null || exit 1
mkdir -p "$tmp/build"
cp -a Makefile codegen proto migrations spec contract scripts runtime docs gen "$tmp/" &&
  cp -a build/.deps-ok build/tools "$tmp/build/"
cd "$tmp" || exit 1
regen() { make --no-print-directory -s regen 2>&1; }
snapshot=$(find gen -type f -exec sha256sum {} + | sort)

# The first plain scalar field of a service's proto file gets a new number.
file=$(grep -l '^service ' proto/*.proto | head -1)
line=$(grep -nE '^  (string|int32|int64|bool) [a-z_]+ = [0-9]+;' "$file" | head -1 | cut -d: -f1)
sed -i -E "${line}s/= [0-9]+;/= 999;/" "$file"
out=$(regen); rc=$?
expect "a renumbered field ($file:$line) stops make regen" test "$rc" -ne 0
expect "naming file:line and the rule" grep -q "$file:$line: FIELD_SAME_NUMBER: " <<<"$out"
expect "gen/ is untouched" test "$(find gen -type f -exec sha256sum {} + | sort)" = "$snapshot"
out=$(ALLOW_BREAKING=FIELD_SAME_NUMBER make --no-print-directory -s regen 2>&1); rc=$?
expect "ALLOW_BREAKING=FIELD_SAME_NUMBER lets it through" test "$rc" -eq 0
cp -a "$root/proto/." proto/ && cp -a "$root/gen/." gen/

# A NOT NULL column without a default on the first table a released migration made.
first=$(head -1 contract/released-migrations.sha256 | awk '{print $2}')
table=$(sed -n 's/^CREATE TABLE "\([^"]*\)".*/\1/p' "migrations/$first" | head -1)
printf '%s\n' "-- a new column" "ALTER TABLE \"$table\" ADD COLUMN \"mustHave\" TEXT NOT NULL;" >migrations/9999_must_have.sql
out=$(regen); rc=$?
expect "a NOT NULL column without a default on \"$table\" stops make regen" test "$rc" -ne 0
expect "naming file:line and the rule" \
  grep -q "migrations/9999_must_have.sql:2: ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT: " <<<"$out"
expect "gen/ is untouched" test "$(find gen -type f -exec sha256sum {} + | sort)" = "$snapshot"

expect_summary
