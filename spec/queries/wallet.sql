-- Statements that carry business rules, kept as SQL so they can be read and
-- reviewed as SQL. Each has a `-- name: Name :kind` line (docs/contracts.md), a comment, and
-- named parameters written @name::type; the generator (codegen/) turns each
-- into a prepared statement and a typed C function in gen/.

-- name: CreditWallet :one
-- Adds @amount unless the balance would pass the int32 range, and appends the
-- CREDIT entry recording it, in one statement and so in one transaction. The
-- row lock taken first orders concurrent changes of one wallet, and the
-- entry's number with them.
-- The operation row goes in the same statement, so in the same transaction:
-- its code is decided on the locked row (0, or 11 OUT_OF_RANGE / 5 NOT_FOUND when
-- nothing changes); when @operation_id exists already, nothing at all is
-- written and no row answers (the caller looks the operation up).
WITH "wallet" AS (
  SELECT "id", "balance" FROM "Wallet" WHERE "userId" = @user_id::text FOR UPDATE
), "operation" AS (
  INSERT INTO "Operation" ("id", "request", "attempt", "code")
  SELECT @operation_id::text, @request::text, @attempt::text,
         CASE WHEN "wallet"."id" IS NULL THEN 5
              WHEN "wallet"."balance" > 2147483647 - @amount::integer THEN 11
              ELSE 0 END
    FROM (SELECT 1) AS "one" LEFT JOIN "wallet" ON TRUE
  ON CONFLICT ("id") DO NOTHING
  RETURNING "code"
), "current" AS (
  SELECT "wallet"."id" AS "walletId", "wallet"."balance" + @amount::integer AS "after"
    FROM "wallet", "operation"
   WHERE "operation"."code" = 0
), "entry" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter", "operationId", "idempotencyKey")
  SELECT "walletId", 2, @amount::integer, "after", @operation_id::text, @idempotency_key::text
    FROM "current"
)
UPDATE "Wallet"
   SET "balance" = "current"."after"
  FROM "current"
 WHERE "Wallet"."id" = "current"."walletId"
RETURNING *;

-- name: DebitWallet :one
-- Subtracts @amount only while the balance covers it, and appends the DEBIT
-- entry (a negative amount) recording it, in one statement, so concurrent
-- debits can never take the balance below zero.
-- The operation row goes in the same statement, so in the same transaction:
-- its code is decided on the locked row (0, or 9 FAILED_PRECONDITION / 5 NOT_FOUND when
-- nothing changes); when @operation_id exists already, nothing at all is
-- written and no row answers (the caller looks the operation up).
WITH "wallet" AS (
  SELECT "id", "balance" FROM "Wallet" WHERE "userId" = @user_id::text FOR UPDATE
), "operation" AS (
  INSERT INTO "Operation" ("id", "request", "attempt", "code")
  SELECT @operation_id::text, @request::text, @attempt::text,
         CASE WHEN "wallet"."id" IS NULL THEN 5
              WHEN "wallet"."balance" < @amount::integer THEN 9
              ELSE 0 END
    FROM (SELECT 1) AS "one" LEFT JOIN "wallet" ON TRUE
  ON CONFLICT ("id") DO NOTHING
  RETURNING "code"
), "current" AS (
  SELECT "wallet"."id" AS "walletId", "wallet"."balance" - @amount::integer AS "after"
    FROM "wallet", "operation"
   WHERE "operation"."code" = 0
), "entry" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter", "operationId", "idempotencyKey")
  SELECT "walletId", 3, -@amount::integer, "after", @operation_id::text, @idempotency_key::text
    FROM "current"
)
UPDATE "Wallet"
   SET "balance" = "current"."after"
  FROM "current"
 WHERE "Wallet"."id" = "current"."walletId"
RETURNING *;
