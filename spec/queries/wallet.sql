-- Statements that carry business rules, kept as SQL so they can be read and
-- reviewed as SQL. Each has a `-- name: Name :kind` line (docs/contracts.md), a comment, and
-- named parameters written @name::type; the generator (codegen/) turns each
-- into a prepared statement and a typed C function in gen/.

-- name: InsertUserWallet :one
-- CreateWallet: inserts the wallet of @user_id and, in the same statement,
-- removes the user's pending marker (user.sql): from that commit on the user
-- is finished, and a CreateUser undo (AbandonCreation) that comes later, or
-- waits on the marker meanwhile, finds no marker and deletes nothing. An
-- undo that came first deleted the user: the foreign key then refuses this
-- insert.
-- locks: @user_id
WITH "finished" AS (
  DELETE FROM "PendingUser" WHERE "userId" = @user_id::text
)
INSERT INTO "Wallet" ("id", "userId")
VALUES (@id::text, @user_id::text)
RETURNING *;

-- name: ChangeBalance :one
-- CreditWallet and DebitWallet: adds @delta (negative for a debit) unless the
-- balance would leave 0..2147483647, and appends the entry of @kind (CREDIT,
-- DEBIT) recording it, in one statement and so in one transaction. The row
-- lock taken first orders concurrent changes of one wallet, and the entry's
-- number with them, so concurrent debits can never take a balance below zero.
-- The operation row goes in the same statement: its code is decided on the
-- locked row (0; 5 NOT_FOUND, 9 FAILED_PRECONDITION below zero or 11
-- OUT_OF_RANGE past int32, when nothing changes); when @operation_id exists
-- already, nothing at all is written and no row answers (the caller looks the
-- operation up), unless the row is a fence (code -1, see FenceOperation) that
-- another attempt with the same payload left: this retry takes its place.
-- When an entry already carries @operation_id (a key whose operation row was
-- swept after IDEMPOTENCY_TTL), the row written, or the fence replaced, gets
-- code -2 and nothing applies: the key expired (the unique index on
-- ("operationId", "kind") stays as the last guard against a second apply).
-- A statement that reaches its operation row
-- more than @apply_seconds after the database started it writes a fence of
-- its own (code -1) instead of applying: no write applies after the fence or
-- operation row that stands for it may have been swept (idempotency.h:
-- RT_WRITE_APPLY_SECONDS, the floor of IDEMPOTENCY_TTL).
-- locks: @user_id @operation_id
WITH "wallet" AS (
  SELECT "id", "balance" FROM "Wallet" WHERE "userId" = @user_id::text FOR UPDATE
), "operation" AS (
  INSERT INTO "Operation" ("id", "request", "attempt", "code")
  SELECT @operation_id::text, @request::text, @attempt::text,
         CASE WHEN clock_timestamp() > statement_timestamp() + make_interval(secs => @apply_seconds::integer)
                   THEN -1
              WHEN EXISTS (SELECT 1 FROM "WalletEntry" WHERE "operationId" = @operation_id::text) THEN -2
              WHEN "wallet"."id" IS NULL THEN 5
              WHEN "wallet"."balance"::bigint + @delta::integer < 0 THEN 9
              WHEN "wallet"."balance"::bigint + @delta::integer > 2147483647 THEN 11
              ELSE 0 END
    FROM (SELECT 1) AS "one" LEFT JOIN "wallet" ON TRUE
  ON CONFLICT ("id") DO UPDATE
    SET "attempt" = EXCLUDED."attempt", "code" = EXCLUDED."code", "detail" = EXCLUDED."detail",
        "createdAt" = EXCLUDED."createdAt"
  WHERE "Operation"."code" = -1 AND "Operation"."attempt" <> EXCLUDED."attempt"
    AND "Operation"."request" = EXCLUDED."request"
  RETURNING "code"
), "current" AS (
  SELECT "wallet"."id" AS "walletId", "wallet"."balance" + @delta::integer AS "after"
    FROM "wallet", "operation"
   WHERE "operation"."code" = 0
), "entry" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter", "operationId", "idempotencyKey")
  SELECT "walletId", @kind::integer, @delta::integer, "after", @operation_id::text, @idempotency_key::text
    FROM "current"
)
UPDATE "Wallet"
   SET "balance" = "current"."after"
  FROM "current"
 WHERE "Wallet"."id" = "current"."walletId"
RETURNING *;

-- name: TransferFunds :many
-- Moves @amount from the wallet of @from_user_id to that of @to_user_id in one
-- statement: both rows are locked in the order of their ids, so transfers
-- A->B and B->A running at once queue instead of deadlocking. The operation
-- row records the outcome decided on the locked rows: 0, 5 NOT_FOUND (its
-- detail names the side without a wallet), 9 FAILED_PRECONDITION (the
-- sender lacks funds) or 11 OUT_OF_RANGE (the receiver would overflow); only
-- on 0 are the TRANSFER_OUT and TRANSFER_IN entries, sharing @transfer_id,
-- appended and the balances changed. Answers the two changed wallets; no
-- rows when nothing changed (a refusal, or @operation_id existed already).
-- An expired key (entries carry @operation_id, its operation row is gone:
-- code -2) and a statement late by more than @apply_seconds (code -1) are
-- handled as in ChangeBalance.
-- locks: @from_user_id @to_user_id @operation_id
WITH "locked" AS (
  SELECT "id", "userId", "balance" FROM "Wallet"
   WHERE "userId" IN (@from_user_id::text, @to_user_id::text)
   ORDER BY "id"
     FOR UPDATE
), "sides" AS (
  SELECT "from"."id" AS "fromId", "from"."balance" AS "fromBalance",
         "to"."id" AS "toId", "to"."balance" AS "toBalance"
    FROM (SELECT 1) AS "one"
    LEFT JOIN "locked" AS "from" ON "from"."userId" = @from_user_id::text
    LEFT JOIN "locked" AS "to" ON "to"."userId" = @to_user_id::text
), "operation" AS (
  INSERT INTO "Operation" ("id", "request", "attempt", "code", "detail")
  SELECT @operation_id::text, @request::text, @attempt::text,
         CASE WHEN clock_timestamp() > statement_timestamp() + make_interval(secs => @apply_seconds::integer)
                   THEN -1
              WHEN EXISTS (SELECT 1 FROM "WalletEntry" WHERE "operationId" = @operation_id::text) THEN -2
              WHEN "fromId" IS NULL OR "toId" IS NULL THEN 5
              WHEN "fromBalance" < @amount::integer THEN 9
              WHEN "toBalance" > 2147483647 - @amount::integer THEN 11
              ELSE 0 END,
         CASE WHEN "fromId" IS NULL THEN 'from_user_id' WHEN "toId" IS NULL THEN 'to_user_id' END
    FROM "sides"
  ON CONFLICT ("id") DO UPDATE
    SET "attempt" = EXCLUDED."attempt", "code" = EXCLUDED."code", "detail" = EXCLUDED."detail",
        "createdAt" = EXCLUDED."createdAt"
  WHERE "Operation"."code" = -1 AND "Operation"."attempt" <> EXCLUDED."attempt"
    AND "Operation"."request" = EXCLUDED."request"
  RETURNING "code"
), "moves" AS (
  SELECT "fromId" AS "walletId", 5 AS "kind", -@amount::integer AS "amount",
         "fromBalance" - @amount::integer AS "after"
    FROM "sides", "operation" WHERE "operation"."code" = 0
  UNION ALL
  SELECT "toId", 4, @amount::integer, "toBalance" + @amount::integer
    FROM "sides", "operation" WHERE "operation"."code" = 0
), "entries" AS (
  INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter", "transferId", "operationId",
                             "idempotencyKey")
  SELECT "walletId", "kind", "amount", "after", @transfer_id::text, @operation_id::text, @idempotency_key::text
    FROM "moves"
)
UPDATE "Wallet"
   SET "balance" = "moves"."after"
  FROM "moves"
 WHERE "Wallet"."id" = "moves"."walletId"
RETURNING *;

-- name: ListTransactions :many
-- One page of the history of @user_id's wallet, newest first: the entries
-- numbered below @before_seq (keyset paging on the index of (walletId, seq),
-- never OFFSET, so entries appended meanwhile shift nothing), at most @limit.
SELECT * FROM "WalletEntry"
 WHERE "walletId" = (SELECT "id" FROM "Wallet" WHERE "userId" = @user_id::text)
   AND "seq" < @before_seq::bigint
 ORDER BY "seq" DESC
 LIMIT @limit::integer;

-- name: FenceOperation :execrows
-- For a write whose connection was lost after it was sent: marks @id as
-- never to apply (code -1), unless the write's own operation row is there
-- already. The two meet on the primary key: if the write inserted its row
-- and has not finished, this waits for it to commit or roll back; if it has
-- not reached its insert yet, this row makes that insert change nothing, now
-- and whenever the lost transaction goes on. 1: fenced, the write never
-- applies; 0: the row exists, read it (GetOperation) for the true outcome.
-- A later request with the same key and payload replaces the fence.
-- No `locks:` line: the lost transaction may still hold its group's advisory
-- locks while it waits for a row; the fence must wait only for its row.
INSERT INTO "Operation" ("id", "request", "attempt", "code")
VALUES (@id::text, @request::text, @attempt::text, -1)
ON CONFLICT ("id") DO NOTHING;
