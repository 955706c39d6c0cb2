#!/usr/bin/env bash
# Applies migrations/NNNN_*.sql in order, each in its own transaction, and
# records them in "_wallet_migrations"; re-running is a no-op. A database the
# old NestJS + Prisma system created (tables present, no migrations table) is
# adopted: 0001 is recorded as applied instead of failing on existing tables.
# Concurrent runners serialise on an advisory lock.
# Every migration runs with lock_timeout (MIGRATE_LOCK_TIMEOUT, default 5s): a
# statement that would queue behind live traffic for a table lock -- and make
# every later query on that table queue behind it -- fails fast instead, and
# the migration rolls back; run it again when the table is quieter. A
# migration whose first line is `-- migrate: no-transaction` (CREATE/DROP INDEX
# CONCURRENTLY, which cannot run in a transaction; the lint in
# codegen/migration_lint.lua keeps anything else out of it) runs statement by
# statement, under the same lock held for the session.
#
# Roles (docs/database.md "Roles"): migrations run as the owner role
# "wallet_owner", which owns every table; the daemons connect as "wallet_app",
# which the migrations grant only what the daemons' statements need.
# DATABASE_URL (from the environment) names either a superuser -- then this
# also creates both roles when missing (wallet_owner NOLOGIN, wallet_app LOGIN,
# with WALLET_APP_PASSWORD when set), hands every table and function of the
# schema to wallet_owner (adopting the old system's) and takes CREATE and TEMP
# from everyone else -- or wallet_owner itself (or a member of it), once the
# roles exist.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to a libpq URI, e.g. postgresql://postgres@localhost:5432/wallet}"
dir="${MIGRATIONS_DIR:-$(cd "$(dirname "$0")/../migrations" && pwd)}"
lock_timeout="${MIGRATE_LOCK_TIMEOUT:-5s}"
lock=727274 # an arbitrary, project-wide advisory lock key
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

superuser=$(psql_q -c 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')
if [ "$superuser" = t ]; then
  # Roles are the cluster's: a concurrent runner on another database may create them first.
  password=()
  [ -z "${WALLET_APP_PASSWORD:-}" ] || password=(-v app_password="$WALLET_APP_PASSWORD")
  psql_q "${password[@]}" <<'SQL'
DO $$ BEGIN CREATE ROLE wallet_owner NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE wallet_app LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
\if :{?app_password}
ALTER ROLE wallet_app PASSWORD :'app_password';
\endif
SQL
  psql_q <<SQL
BEGIN;
SELECT pg_advisory_xact_lock($lock) \g /dev/null
SELECT current_database() AS db \gset
SET LOCAL lock_timeout = '$lock_timeout';
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE TEMPORARY ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO wallet_app;
GRANT USAGE, CREATE ON SCHEMA public TO wallet_owner;
GRANT USAGE ON SCHEMA public TO wallet_app;
DO \$\$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
              AND c.relowner <> 'wallet_owner'::regrole LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO wallet_owner', r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.proowner <> 'wallet_owner'::regrole LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO wallet_owner', r.name);
  END LOOP;
END
\$\$;
COMMIT;
SQL
else
  member=$(psql_q -c "SELECT to_regrole('wallet_owner') IS NOT NULL AND pg_has_role(current_user, 'wallet_owner', 'MEMBER')
                        AND to_regrole('wallet_app') IS NOT NULL")
  if [ "$member" != t ]; then
    echo "migrate: connected as $(psql_q -c 'SELECT current_user'), which is not the owner role wallet_owner;" \
      "run make migrate once with a superuser's DATABASE_URL to create the roles (docs/database.md, Roles)" >&2
    exit 1
  fi
fi

psql_q <<SQL
BEGIN;
SELECT pg_advisory_xact_lock($lock) \g /dev/null
SET LOCAL ROLE wallet_owner;
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
    # Check, apply and record under the session's lock, outside a transaction, as the owner.
    out=$(psql_q -v version="$version" -v file="$file" -v lock_timeout="$lock_timeout" <<SQL
SELECT pg_advisory_lock($lock) \g /dev/null
SET ROLE wallet_owner;
SET lock_timeout = :'lock_timeout';
SELECT NOT EXISTS (SELECT 1 FROM "_wallet_migrations" WHERE "version" = :'version') AS pending \gset
\if :pending
\i :file
INSERT INTO "_wallet_migrations" ("version") VALUES (:'version');
SELECT 'applied';
\endif
RESET ROLE;
SELECT pg_advisory_unlock($lock) \g /dev/null
SQL
)
  else
    # Check, apply and record under one transaction holding the lock, as the owner.
    out=$(psql_q -v version="$version" -v file="$file" -v lock_timeout="$lock_timeout" <<SQL
BEGIN;
SELECT pg_advisory_xact_lock($lock) \g /dev/null
SET LOCAL ROLE wallet_owner;
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
