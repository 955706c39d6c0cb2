#!/usr/bin/env bash
# Applies migrations/NNNN_*.sql in order, each in its own transaction, and
# records them in "_wallet_migrations"; re-running is a no-op. A database the
# old NestJS + Prisma system created (tables present, no migrations table) is
# adopted: 0001 is recorded as applied instead of failing on existing tables.
# Concurrent runners serialise on an advisory lock. DATABASE_URL from the environment.
# Every migration runs with lock_timeout (MIGRATE_LOCK_TIMEOUT, default 5s): a
# statement that would queue behind live traffic for a table lock -- and make
# every later query on that table queue behind it -- fails fast instead, and
# the migration rolls back; run it again when the table is quieter. A
# migration whose first line is `-- migrate: no-transaction` (CREATE/DROP INDEX
# CONCURRENTLY, which cannot run in a transaction; the lint in
# codegen/migration_lint.lua keeps anything else out of it) runs statement by
# statement, under the same lock held for the session.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to a libpq URI, e.g. postgresql://user@localhost:5432/wallet}"
dir="${MIGRATIONS_DIR:-$(cd "$(dirname "$0")/../migrations" && pwd)}"
lock_timeout="${MIGRATE_LOCK_TIMEOUT:-5s}"
lock=727274 # an arbitrary, project-wide advisory lock key
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

psql_q <<SQL
BEGIN;
SELECT pg_advisory_xact_lock($lock) \g /dev/null
CREATE TABLE IF NOT EXISTS "_wallet_migrations" (
  "version"   TEXT PRIMARY KEY,
  "appliedAt" TIMESTAMP(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
INSERT INTO "_wallet_migrations" ("version")
SELECT '0001'
 WHERE to_regclass('"User"') IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM "_wallet_migrations");
COMMIT;
SQL

for file in "$dir"/[0-9][0-9][0-9][0-9]_*.sql; do
  [ -e "$file" ] || continue
  version=$(basename "$file" | cut -c1-4)
  if head -n1 "$file" | grep -q '^-- migrate: no-transaction'; then
    # Check, apply and record under the session's lock, outside a transaction.
    out=$(psql_q -v version="$version" -v file="$file" -v lock_timeout="$lock_timeout" <<SQL
SELECT pg_advisory_lock($lock) \g /dev/null
SET lock_timeout = :'lock_timeout';
SELECT NOT EXISTS (SELECT 1 FROM "_wallet_migrations" WHERE "version" = :'version') AS pending \gset
\if :pending
\i :file
INSERT INTO "_wallet_migrations" ("version") VALUES (:'version');
SELECT 'applied';
\endif
SELECT pg_advisory_unlock($lock) \g /dev/null
SQL
)
  else
    # Check, apply and record under one transaction holding the lock.
    out=$(psql_q -v version="$version" -v file="$file" -v lock_timeout="$lock_timeout" <<SQL
BEGIN;
SELECT pg_advisory_xact_lock($lock) \g /dev/null
SET LOCAL lock_timeout = :'lock_timeout';
SELECT NOT EXISTS (SELECT 1 FROM "_wallet_migrations" WHERE "version" = :'version') AS pending \gset
\if :pending
\i :file
INSERT INTO "_wallet_migrations" ("version") VALUES (:'version');
SELECT 'applied';
\endif
COMMIT;
SQL
)
  fi
  case "$out" in *applied*) echo "migrate: applied $(basename "$file")" >&2 ;; esac
done
echo "migrate: database is up to date" >&2
