-- Least privilege (docs/database.md "Roles"). Migrations run as the owner
-- role "wallet_owner", which owns every table; the daemons connect as
-- "wallet_app", which gets here only what their statements need: no DDL, no
-- UPDATE, DELETE or TRUNCATE on "WalletEntry", no DELETE on "Wallet", UPDATE
-- of the columns their statements set (and that lock rows FOR UPDATE), and
-- the DELETEs of CreateUser's compensation and of the sweeps. scripts/migrate.sh
-- creates both roles before this runs. Additive and safe on a live database:
-- no table is rewritten, no constraint validated; the triggers act on rows
-- written from now on.

-- The daemons' statements (spec/queries/*.sql and the generated CRUD in gen/).
GRANT SELECT, INSERT, DELETE ON "User" TO wallet_app;
GRANT SELECT, INSERT, UPDATE ("balance") ON "Wallet" TO wallet_app;
GRANT SELECT, INSERT, UPDATE ("createdAt"), DELETE ON "PendingUser" TO wallet_app;
GRANT SELECT, INSERT, UPDATE ("attempt", "code", "detail", "createdAt"), DELETE ON "Operation" TO wallet_app;
GRANT SELECT, INSERT ON "WalletEntry" TO wallet_app;

-- Every entry continues its wallet's chain: its "balanceAfter" is the
-- previous entry's plus its "amount" (the first entry's is its amount).
-- With "Wallet_balance_has_entry" below, balance = sum(entries) follows. The
-- wallet's row lock orders a wallet's writers (the daemons' statements hold it
-- already), so two transactions never both extend the same last entry. Names
-- are schema-qualified: a session's temporary table cannot stand in for them.
CREATE FUNCTION "WalletEntry_chains"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous integer;
BEGIN
    PERFORM 1 FROM public."Wallet" WHERE "id" = NEW."walletId" FOR UPDATE;
    SELECT "balanceAfter" INTO previous FROM public."WalletEntry"
     WHERE "walletId" = NEW."walletId" ORDER BY "seq" DESC LIMIT 1;
    IF NEW."balanceAfter"::bigint <> coalesce(previous, 0)::bigint + NEW."amount" THEN
        RAISE EXCEPTION 'ledger entry refused: wallet % balanceAfter % is not % + %',
            NEW."walletId", NEW."balanceAfter", coalesce(previous, 0), NEW."amount"
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER "WalletEntry_chain" BEFORE INSERT ON "WalletEntry"
    FOR EACH ROW EXECUTE FUNCTION "WalletEntry_chains"();

-- A balance written (a new wallet or a change) must equal its wallet's last
-- entry's "balanceAfter" (0 without entries) when the transaction commits: a
-- balance change without its entry in the same transaction is refused.
CREATE FUNCTION "Wallet_balance_has_entry"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    current integer;
    last integer;
BEGIN
    SELECT "balance" INTO current FROM public."Wallet" WHERE "id" = NEW."id";
    IF NOT FOUND THEN
        RETURN NULL; -- deleted since, with its user
    END IF;
    SELECT "balanceAfter" INTO last FROM public."WalletEntry"
     WHERE "walletId" = NEW."id" ORDER BY "seq" DESC LIMIT 1;
    IF current <> coalesce(last, 0) THEN
        RAISE EXCEPTION 'balance change refused: wallet % balance % has no ledger entry (its entries end at %)',
            NEW."id", current, coalesce(last, 0)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER "Wallet_balance_has_entry" AFTER INSERT OR UPDATE OF "balance" ON "Wallet"
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION "Wallet_balance_has_entry"();

-- A wallet's history goes only with its user, and only when a session of
-- the owner role deletes that user (an operator's deliberate act): a
-- DELETE FROM "Wallet" of a wallet with entries is refused to everyone, and
-- the daemons' role, which deletes users (CreateUser's compensation, the
-- sweep of abandoned users), cannot delete one whose wallet has history.
-- A foreign key's cascade runs as the table's owner, so the session's login
-- role (session_user) is what is checked.
CREATE FUNCTION "Wallet_keeps_history"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public."WalletEntry" WHERE "walletId" = OLD."id") THEN
        IF pg_trigger_depth() < 2 THEN
            RAISE EXCEPTION 'wallet % has ledger entries: it is deleted only with its user; DELETE refused', OLD."id"
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NOT pg_has_role(session_user, 'wallet_owner', 'MEMBER') THEN
            RAISE EXCEPTION 'wallet % has ledger entries: only the owner role deletes its user; DELETE refused', OLD."id"
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER "Wallet_keeps_history" BEFORE DELETE ON "Wallet"
    FOR EACH ROW EXECUTE FUNCTION "Wallet_keeps_history"();

-- Append-only, as 0003 made it, now whatever triggers the daemons' role
-- sets off: the one DELETE let through is the cascade from a wallet that
-- "Wallet_keeps_history" let go (its user deleted by the owner role).
CREATE OR REPLACE FUNCTION "WalletEntry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 AND pg_has_role(session_user, 'wallet_owner', 'MEMBER') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

-- Idempotency keys belong to their caller and method (runtime/src/serve/idempotency.c
-- rt_idempotency_scoped_id): operations recorded under a bare key before
-- this release move to the key's id in the anonymous scope (plaintext
-- callers), so a plaintext retry that spans the upgrade still finds its
-- outcome. Keyless operations (empty "request") keep their ids. Bounded by
-- IDEMPOTENCY_TTL: the sweep keeps the table small.
UPDATE "Operation"
   SET "id" = 'op1-' || encode(sha256(convert_to(E'operation/v1\na', 'UTF8') || '\x00'::bytea
                 || convert_to(CASE split_part("request", ':', 1)
                                 WHEN 'CreateUser' THEN '/user.UserService/CreateUser'
                                 ELSE '/wallet.WalletService/' || split_part("request", ':', 1) END, 'UTF8')
                 || '\x00'::bytea || convert_to("id", 'UTF8')), 'hex')
 WHERE "request" <> '' AND "id" NOT LIKE 'op1-%';
