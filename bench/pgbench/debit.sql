-- DebitWallet's statement (ChangeBalance in spec/queries/wallet.sql, as gen/db_statements.c prepares
-- it), amount 1, as the daemon runs it for a request without an idempotency key: a fresh
-- operation id per write.
\set op random(1, 9000000000000000)
WITH "wallet" AS (
  SELECT "id", "balance" FROM "Wallet" WHERE "userId" = :uid::text FOR UPDATE
), "operation" AS (
  INSERT INTO "Operation" ("id", "request", "attempt", "code")
  SELECT ('pgb-' || :op), '', ('pgb-' || :op),
         CASE WHEN clock_timestamp() > statement_timestamp() + make_interval(secs => (10)::integer)
                   THEN -1
              WHEN EXISTS (SELECT 1 FROM "WalletEntry" WHERE "operationId" = ('pgb-' || :op)) THEN -2
              WHEN "wallet"."id" IS NULL THEN 5
              WHEN "wallet"."balance"::bigint + (-1)::integer < 0 THEN 9
              WHEN "wallet"."balance"::bigint + (-1)::integer > 2147483647 THEN 11
              ELSE 0 END
    FROM (SELECT 1) AS "one" LEFT JOIN "wallet" ON TRUE
  ON CONFLICT ("id") DO UPDATE
    SET "attempt" = EXCLUDED."attempt", "code" = EXCLUDED."code", "detail" = EXCLUDED."detail",
        "createdAt" = EXCLUDED."createdAt"
  WHERE "Operation"."code" = -1 AND "Operation"."attempt" <> EXCLUDED."attempt"
    AND "Operation"."request" = EXCLUDED."request"
  RETURNING "code"
), "current" AS (
  SELECT "wallet"."id" AS "walletId", "wallet"."balance" + (-1)::integer AS "after"
    FROM "wallet", "operation"
   WHERE "operation"."code" = 0
), "entry" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter", "operationId", "idempotencyKey")
  SELECT "walletId", 3, (-1)::integer, "after", ('pgb-' || :op), NULL::text
    FROM "current"
)
UPDATE "Wallet"
   SET "balance" = "current"."after"
  FROM "current"
 WHERE "Wallet"."id" = "current"."walletId"
RETURNING "id", "userId", "balance", "createdAt";
