-- Users whose wallet is still being created. CreateUser inserts the user and
-- its marker in one statement and removes the marker once the wallet exists;
-- a user-service killed in between leaves the marker, and the sweep in
-- spec/queries/user.sql later deletes that user. Additive: the old system's
-- tables are untouched.

-- CreateTable
CREATE TABLE "PendingUser" (
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingUser_pkey" PRIMARY KEY ("userId")
);
