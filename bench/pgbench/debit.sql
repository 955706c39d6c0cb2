-- DebitWallet's conditional statement (spec/queries/wallet.sql, as gen/db_statements.c prepares it), amount 1.
\set amount 1
UPDATE "Wallet" SET "balance" = "balance" - :amount::integer
 WHERE "userId" = :uid::text AND "balance" >= :amount::integer
RETURNING "id", "userId", "balance", "createdAt";
