-- Statements that carry business rules, kept as SQL so they can be read and
-- reviewed as SQL. Each has a `-- name: Name :one|:exec` line, a comment, and
-- named parameters written @name::type; the generator (codegen/) turns each
-- into a prepared statement and a typed C function in gen/.

-- name: CreditWallet :one
-- Adds @amount unless the balance would pass the int32 range, and appends the
-- CREDIT entry recording it, in one statement and so in one transaction. The
-- row lock taken first orders concurrent changes of one wallet, and the
-- entry's number with them. No row means either no wallet or an overflow,
-- and nothing changed.
WITH "current" AS (
  SELECT "id" AS "walletId", "balance" + @amount::integer AS "after"
    FROM "Wallet"
   WHERE "userId" = @user_id::text
     AND "balance" <= 2147483647 - @amount::integer
     FOR UPDATE
), "entry" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter")
  SELECT "walletId", 2, @amount::integer, "after" FROM "current"
)
UPDATE "Wallet"
   SET "balance" = "current"."after"
  FROM "current"
 WHERE "Wallet"."id" = "current"."walletId"
RETURNING *;

-- name: DebitWallet :one
-- Subtracts @amount only while the balance covers it, and appends the DEBIT
-- entry (a negative amount) recording it, in one statement, so concurrent
-- debits can never take the balance below zero; no row means either no
-- wallet or insufficient balance, and nothing changed.
WITH "current" AS (
  SELECT "id" AS "walletId", "balance" - @amount::integer AS "after"
    FROM "Wallet"
   WHERE "userId" = @user_id::text
     AND "balance" >= @amount::integer
     FOR UPDATE
), "entry" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter")
  SELECT "walletId", 3, -@amount::integer, "after" FROM "current"
)
UPDATE "Wallet"
   SET "balance" = "current"."after"
  FROM "current"
 WHERE "Wallet"."id" = "current"."walletId"
RETURNING *;
