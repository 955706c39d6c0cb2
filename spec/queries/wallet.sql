-- Statements that carry business rules, kept as SQL so they can be read and
-- reviewed as SQL. Each has a `-- name: Name :kind` line (docs/contracts.md), a comment, and
-- named parameters written @name::type; the generator (codegen/) turns each
-- into a prepared statement and a typed C function in gen/.

-- name: CreditWallet :one
-- Adds @amount unless the balance would pass the int32 range; no row means
-- either no wallet or an overflow, and nothing changed.
UPDATE "Wallet"
   SET "balance" = "balance" + @amount::integer
 WHERE "userId" = @user_id::text
   AND "balance" <= 2147483647 - @amount::integer
RETURNING *;

-- name: DebitWallet :one
-- Subtracts @amount only while the balance covers it, in one statement, so
-- concurrent debits can never take the balance below zero; no row means
-- either no wallet or insufficient balance, and nothing changed.
UPDATE "Wallet"
   SET "balance" = "balance" - @amount::integer
 WHERE "userId" = @user_id::text
   AND "balance" >= @amount::integer
RETURNING *;
