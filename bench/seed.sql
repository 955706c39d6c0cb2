-- Rows the benchmark works on, each wallet starting at 1,000,000,000 so that no
-- debit runs dry and no credit overflows during a run:
--   role 'rpc'     : 1 hot + 8 spread users with UUID ids, driven through the daemons;
--   role 'pgb-hot' : 1 user with a UUID id for pgbench's one-row runs;
--   role 'pgb'     : 1000 users with ids '1'..'1000' for pgbench's spread runs;
--   role 'xfer'    : 16 users with UUID ids, 8 pairs for TransferFunds.
-- Prints "role<TAB>id" for the rpc, pgb-hot and xfer rows.
BEGIN;
CREATE TEMP TABLE seed ON COMMIT DROP AS
  SELECT gen_random_uuid()::text AS id, 'rpc' AS role, g AS n FROM generate_series(0, 8) g
  UNION ALL SELECT gen_random_uuid()::text, 'pgb-hot', 0
  UNION ALL SELECT g::text, 'pgb', g FROM generate_series(1, 1000) g
  UNION ALL SELECT gen_random_uuid()::text, 'xfer', g FROM generate_series(0, 15) g;
INSERT INTO "User" ("id", "email", "name")
  SELECT id, 'bench-' || role || '-' || n || '-' || id || '@bench.invalid', 'Bench ' || role FROM seed;
INSERT INTO "Wallet" ("id", "userId", "balance")
  SELECT gen_random_uuid()::text, id, 1000000000 FROM seed;
-- Each starting balance opens the wallet's ledger, so balance = sum(entries) holds.
INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter")
  SELECT w.id, 1, w.balance, w.balance FROM "Wallet" w JOIN seed ON seed.id = w."userId";
SELECT role, id FROM seed WHERE role <> 'pgb' ORDER BY role DESC, n;
COMMIT;
