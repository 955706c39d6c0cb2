-- Users whose wallet is still being created. CreateUser inserts the user and
-- its marker in one statement; the sweep in spec/queries/user.sql later
-- removes old markers and deletes those of their users that got no wallet
-- (a user-service killed in between). Additive: the old system's
-- tables are untouched.

-- CreateTable
CREATE TABLE "PendingUser" (
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingUser_pkey" PRIMARY KEY ("userId")
);
