-- Statements that keep "no user without a wallet" true even when
-- user-service is killed half-way through CreateUser (see
-- migrations/0002_pending_users.sql). Same conventions as wallet.sql.

-- name: InsertPendingUser :one
-- Inserts the user together with its pending marker, in one statement and so
-- in one transaction.
WITH "marker" AS (
  INSERT INTO "PendingUser" ("userId") VALUES (@id::text)
)
INSERT INTO "User" ("id", "email", "name")
VALUES (@id::text, @email::text, @name::text)
RETURNING *;

-- name: ClearPendingUser :exec
-- The user's wallet exists: the user is complete.
DELETE FROM "PendingUser" WHERE "userId" = @user_id::text;

-- name: DeleteAbandonedUsers :exec
-- Deletes users whose creation never finished: their marker is older than any
-- CreateUser can take (peer calls are bounded to seconds). Their wallet, if
-- any, goes with them through the cascading foreign key.
WITH "abandoned" AS (
  DELETE FROM "PendingUser"
   WHERE "createdAt" < LOCALTIMESTAMP - INTERVAL '5 minutes'
  RETURNING "userId"
)
DELETE FROM "User" WHERE "id" IN (SELECT "userId" FROM "abandoned");
