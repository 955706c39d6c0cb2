#!/usr/bin/env bash
# The database-backed query check (codegen/describe_queries.lua) on the
# generator's fixture: it passes as the fixture is, and fails, naming the
# query and the column, when the database differs from what the generator
# read (a column retyped inside a DO block, which the generator reads past)
# or when a query does not prepare on the migrated schema.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$root/tests/build/expect.sh"
fixture=codegen/tests/fixtures/shop
describe() { lua5.4 codegen/describe_queries.lua --migrations "$tmp/migrations" --queries "$tmp/queries" 2>&1; }
reset() { rm -rf "$tmp/migrations" "$tmp/queries"; cp -r "$fixture/migrations" "$fixture/queries" "$tmp/"; }

reset
out=$(describe); rc=$?
expect "the fixture's queries are what PostgreSQL says" test "$rc" -eq 0
expect "and it says how many and how long" grep -q "describe: 6 queries prepared and described" <<<"$out"

reset
printf '%s\n' 'DO $$ BEGIN ALTER TABLE "Item" ALTER COLUMN "stock" TYPE BIGINT; END $$;' >"$tmp/migrations/0009_retype.sql"
out=$(describe); rc=$?
expect "a column retyped where the generator cannot see it is caught" test "$rc" -ne 0
expect "naming the query and the column" \
  grep -q 'item.sql:3: query GetItems: column 4 is "stock" (OID 20) in PostgreSQL, "stock" INTEGER for the generator' <<<"$out"

reset
sed -i 's/"rank" = ANY/"ranking" = ANY/' "$tmp/queries/item.sql"
out=$(describe); rc=$?
expect "a query that does not prepare is caught" test "$rc" -ne 0
expect "with PostgreSQL's reason" \
  grep -q 'query ItemsRankedIn does not prepare on the migrated schema: ERROR:  column "ranking" does not exist' <<<"$out"

expect_summary
