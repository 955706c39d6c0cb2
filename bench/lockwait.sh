#!/usr/bin/env bash
# One locked row against the writes to other rows (issue 24 item 3): a psql
# session holds the row lock of a fresh wallet (SELECT ... FOR UPDATE in an
# open transaction) while bench/lockwait.js credits 8 other fresh wallets in
# closed loops and sends a credit to the locked one every 250 ms (each waits
# for the lock, up to the daemon's DB_LOCK_TIMEOUT_MS, and is answered
# ABORTED). The same load first runs with no lock held, for the machine's
# own latency right then (figures drift with the other work on it). Prints
# lockwait.js's key=value lines (those of the run without the lock prefixed
# "free."), then checks each answer: every credit answered OK applied once
# (balances = OK answers, each balance = its ledger's sum), no other.
#   lockwait.sh DATABASE_URL WALLET_HOST:PORT SECS
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${1:?usage: lockwait.sh DATABASE_URL WALLET_HOST:PORT SECS}
addr=${2:?wallet-service address}
secs=${3:?seconds}
sql() { psql "$url" -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
tag="bench-lockwait-$$-$(date +%s)"
ids=$(sql -c "
  WITH u AS (INSERT INTO \"User\" (id, email, name)
             SELECT gen_random_uuid()::text, '$tag-' || i || '@bench.invalid', 'Bench lock' FROM generate_series(0, 8) i
             RETURNING id, email),
       w AS (INSERT INTO \"Wallet\" (id, \"userId\", balance) SELECT gen_random_uuid()::text, id, 0 FROM u RETURNING id, \"userId\"),
       e AS (INSERT INTO \"WalletEntry\" (\"walletId\", kind, amount, \"balanceAfter\") SELECT id, 1, 0, 0 FROM w)
  SELECT id FROM u ORDER BY email")
mapfile -t wallets <<<"$ids"
[ "${#wallets[@]}" = 9 ] || { echo "lockwait.sh: seeding failed" >&2; exit 1; }
locked=${wallets[0]}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
node "$here/lockwait.js" "$addr" "$secs" "${wallets[@]}" >"$out"
sed 's/^/free./' "$out"

# The holder: its lock outlasts the load by 2 s (the last credits' waits).
PGAPPNAME=$tag psql "$url" -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL &
BEGIN;
SELECT 1 FROM "Wallet" WHERE "userId" = '$locked' FOR UPDATE;
SELECT pg_sleep($secs + 2);
ROLLBACK;
SQL
holder=$!
trap 'kill "$holder" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do
  [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$tag' AND query LIKE '%pg_sleep%'")" = 1 ] && break
  sleep 0.05
done
free_ok=$(awk -F= '$1 == "others.ok" { print $2 }' "$out")
free_locked_ok=$(awk -F= '$1 == "locked.ok" { print $2 }' "$out")
node "$here/lockwait.js" "$addr" "$secs" "${wallets[@]}" | tee "$out"
wait "$holder"
trap 'rm -f "$out"' EXIT
ok=$(( free_ok + $(awk -F= '$1 == "others.ok" { print $2 }' "$out") ))
locked_ok=$(( free_locked_ok + $(awk -F= '$1 == "locked.ok" { print $2 }' "$out") ))
applied=$(sql -c "SELECT sum(balance) FROM \"Wallet\" w JOIN \"User\" u ON u.id = w.\"userId\" WHERE u.email LIKE '$tag-%' AND u.id <> '$locked'")
drift=$(sql -c "SELECT count(*) FROM \"Wallet\" w JOIN \"User\" u ON u.id = w.\"userId\" WHERE u.email LIKE '$tag-%'
                  AND w.balance <> (SELECT coalesce(sum(e.amount), 0) FROM \"WalletEntry\" e WHERE e.\"walletId\" = w.id)")
echo "applied_once=$([ "$applied" = "$ok" ] && [ "$(sql -c "SELECT balance FROM \"Wallet\" WHERE \"userId\" = '$locked'")" = "$locked_ok" ] && [ "$drift" = 0 ] && echo yes || echo "NO ($applied applied, $ok answered OK; ledger drift $drift)")"
