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
-- after all (its user undone by the sweep) leaves its key free for a retry.
-- locks: @id
DELETE FROM "Operation" WHERE "id" = @id::text AND "attempt" = @attempt::text;

-- name: AbandonCreation :execrows
-- The undo of a CreateUser whose wallet was not (or not surely) made: takes
-- the pending marker of @id and, in the same statement, deletes the user and
-- frees the idempotency key its attempt @attempt stored under
-- @operation_id -- but only while the marker is there and the user has no
-- wallet. The marker is the point the two sides meet: InsertUserWallet
-- (wallet.sql) removes it in the wallet's own transaction, so whichever of
-- the two comes second finds it gone (or waits on its row lock and then finds
-- it gone) and changes nothing: a wallet that committed is never deleted
-- (the cascade of the user's foreign key never runs), and a wallet insert
-- after the undo fails on the foreign key. 1: the user is gone, nothing of
-- the creation stays; 0: the undo was not this statement's to do (the user
-- has its wallet, or someone else undid it).
-- locks: @id @operation_id
WITH "marker" AS (
  DELETE FROM "PendingUser" WHERE "userId" = @id::text RETURNING "userId"
), "unfinished" AS (
  SELECT "userId" FROM "marker"
   WHERE NOT EXISTS (SELECT 1 FROM "Wallet" WHERE "userId" = @id::text)
), "forgotten" AS (
  DELETE FROM "Operation"
   WHERE "id" = @operation_id::text AND "attempt" = @attempt::text
     AND EXISTS (SELECT 1 FROM "unfinished")
)
DELETE FROM "User" WHERE "id" IN (SELECT "userId" FROM "unfinished");

-- name: GetRecentPendingUser :one
-- The pending marker of @id when it is younger than @seconds: a CreateUser
-- that may still be at work on the user (NOT_FOUND: none, or an older one,
-- whose attempt has surely ended, by answer or by crash).
SELECT * FROM "PendingUser"
 WHERE "userId" = @id::text
   AND "createdAt" > LOCALTIMESTAMP - make_interval(secs => @seconds::integer);

-- name: DeleteAbandonedUsers :execrows
-- One batch of the sweep, bounded so it never holds the writer session for
-- long: up to 500 markers older than any CreateUser can take (peer calls are
-- bounded to seconds) are removed, skipping any a concurrent sweep or wallet
-- insert holds; their users, none of whom got a wallet (InsertUserWallet
-- removes the marker with the wallet's insert), are deleted: their creation
-- never finished and no retry with its key came to finish it. A marker whose
-- user has a wallet anyway (written before InsertUserWallet cleared them) is
-- only removed. The rows it changed are the markers removed: none means the
-- sweep is done.
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
