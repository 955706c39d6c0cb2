-- CreditWallet's statement (spec/queries/wallet.sql, as gen/db_statements.c prepares it), amount 1.
\set amount 1
WITH "current" AS (
  SELECT "id" AS "walletId", "balance" + :amount::integer AS "after"
    FROM "Wallet"
   WHERE "userId" = :uid::text
     AND "balance" <= 2147483647 - :amount::integer
     FOR UPDATE
), "entry" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter")
  SELECT "walletId", 2, :amount::integer, "after" FROM "current"
)
UPDATE "Wallet"
   SET "balance" = "current"."after"
  FROM "current"
 WHERE "Wallet"."id" = "current"."walletId"
RETURNING "id", "userId", "balance", "createdAt";
