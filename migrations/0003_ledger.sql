-- The ledger: every balance change appends one immutable entry in the same
-- transaction as the change (spec/queries/wallet.sql), so for every wallet,
-- at every commit, "balance" = the sum of its entries' "amount". Entries are
-- numbered by "seq", which grows with every entry; a wallet's entries are
-- written under its row lock, so their numbers also follow their commit
-- order, and history pages keyed on (walletId, seq) never skip or repeat an
-- entry. Additive: the old system's tables are untouched.

-- CreateTable
CREATE TABLE "WalletEntry" (
    "seq" BIGINT GENERATED ALWAYS AS IDENTITY,
    "id" TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "walletId" TEXT NOT NULL,
    "kind" INTEGER NOT NULL,
    "amount" INTEGER NOT NULL,
    "balanceAfter" INTEGER NOT NULL,
    "transferId" TEXT,
    "operationId" TEXT,
    "idempotencyKey" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WalletEntry_pkey" PRIMARY KEY ("seq"),
    CONSTRAINT "WalletEntry_kind_check" CHECK ("kind" BETWEEN 1 AND 5)
);

-- Every write records its operation (Operation below) in its own
-- transaction: the id is the client's idempotency key, or one the daemon
-- makes. Its row says how the write ended, so a retry with the key replays
-- that outcome, and a daemon that lost its connection around COMMIT learns
-- the truth by looking the id up. "request" is the method and the request's
-- canonical bytes (key left out), so a key sent again with another payload
-- is refused; "attempt" tells the request that wrote the row from later
-- ones. "code" is the gRPC status the write answered (0 OK, or a business
-- refusal) and "detail" what the refusal named (a transfer's missing side).
-- Rows older than IDEMPOTENCY_TTL are swept.

-- CreateTable
CREATE TABLE "Operation" (
    "id" TEXT NOT NULL,
    "request" TEXT NOT NULL,
    "attempt" TEXT NOT NULL,
    "code" INTEGER NOT NULL,
    "detail" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Operation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex: the sweep of expired operations, oldest first
CREATE INDEX "Operation_createdAt_idx" ON "Operation"("createdAt");

-- CreateIndex: the entry an operation wrote, of each kind (a transfer writes
-- two, sharing its "transferId")
CREATE UNIQUE INDEX "WalletEntry_operationId_kind_key" ON "WalletEntry"("operationId", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "WalletEntry_id_key" ON "WalletEntry"("id");

-- CreateIndex: a wallet's history, newest first, read from the index alone
CREATE UNIQUE INDEX "WalletEntry_walletId_seq_key" ON "WalletEntry"("walletId", "seq");

-- AddForeignKey: an entry belongs to a wallet; deleting a user (which deletes
-- its wallet) takes its history with it, as the old system's cascade did.
ALTER TABLE "WalletEntry" ADD CONSTRAINT "WalletEntry_walletId_fkey" FOREIGN KEY ("walletId") REFERENCES "Wallet"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Append-only, enforced by the database itself: no statement may change or
-- remove an entry. The one exception is the cascade from deleting the
-- wallet's user, which runs inside the foreign key's own trigger
-- (pg_trigger_depth() > 1), never as a statement of its own.
CREATE FUNCTION "WalletEntry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER "WalletEntry_no_update_or_delete" BEFORE UPDATE OR DELETE ON "WalletEntry"
    FOR EACH ROW EXECUTE FUNCTION "WalletEntry_append_only"();

CREATE TRIGGER "WalletEntry_no_truncate" BEFORE TRUNCATE ON "WalletEntry"
    FOR EACH STATEMENT EXECUTE FUNCTION "WalletEntry_append_only"();

-- Wallets that exist before the ledger (a database adopted from the old
-- system, or one made before this migration) open with one entry holding
-- their balance, so the sum of entries equals the balance from the start.
INSERT INTO "WalletEntry" ("walletId", "kind", "amount", "balanceAfter", "createdAt")
SELECT "id", 1, "balance", "balance", CURRENT_TIMESTAMP FROM "Wallet" ORDER BY "createdAt", "id";
