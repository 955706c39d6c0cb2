-- Statements that keep "no user without a wallet" true even when
-- user-service is killed half-way through CreateUser (see
-- migrations/0002_pending_users.sql). Same conventions as wallet.sql.

-- name: InsertPendingUser :one
-- Inserts the user together with its pending marker, in one statement and so
-- in one transaction.
-- locks: @email
WITH "marker" AS (
  INSERT INTO "PendingUser" ("userId") VALUES (@id::text)
)
INSERT INTO "User" ("id", "email", "name")
VALUES (@id::text, @email::text, @name::text)
RETURNING *;

-- name: InsertPendingUserOnce :one
-- InsertPendingUser for a request with an idempotency key: the operation row
-- under @operation_id (its detail the new user's id) goes in the same
-- statement; when the key is taken already, nothing is written and no row
-- answers (the caller looks the operation up).
-- locks: @operation_id @email
WITH "operation" AS (
  INSERT INTO "Operation" ("id", "request", "attempt", "code", "detail")
  VALUES (@operation_id::text, @request::text, @attempt::text, 0, @id::text)
  ON CONFLICT ("id") DO NOTHING
  RETURNING "id"
), "marker" AS (
  INSERT INTO "PendingUser" ("userId") SELECT @id::text FROM "operation"
)
INSERT INTO "User" ("id", "email", "name")
SELECT @id::text, @email::text, @name::text FROM "operation"
RETURNING *;

-- name: ForgetOperation :execrows
-- Removes the operation @id of attempt @attempt: a write that did not happen
-- after all (a CreateUser undone) leaves its key free for a retry.
-- locks: @id
DELETE FROM "Operation" WHERE "id" = @id::text AND "attempt" = @attempt::text;

-- name: DeleteAbandonedUsers :execrows
-- One batch of the sweep, bounded so it never holds the writer session for
-- long: up to 500 markers older than any CreateUser can take (peer calls are
-- bounded to seconds) are removed, skipping any a concurrent sweep holds;
-- of their users, those without a wallet are deleted: their creation never
-- finished. Users that got their wallet are kept, so a
-- finished CreateUser needs no statement of its own to clear its marker.
-- The rows it changed are the markers removed: none means the sweep is done.
WITH "batch" AS (
  SELECT "userId" FROM "PendingUser"
   WHERE "createdAt" < LOCALTIMESTAMP - INTERVAL '5 minutes'
   LIMIT 500
     FOR UPDATE SKIP LOCKED
), "abandoned" AS (
  DELETE FROM "User" AS "u"
   WHERE "u"."id" IN (SELECT "userId" FROM "batch")
     AND NOT EXISTS (SELECT 1 FROM "Wallet" AS "w" WHERE "w"."userId" = "u"."id")
)
DELETE FROM "PendingUser" AS "p"
 WHERE "p"."userId" IN (SELECT "userId" FROM "batch");
