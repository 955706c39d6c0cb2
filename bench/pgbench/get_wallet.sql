-- GetWallet's statement (gen/db_statements.c), the ceiling for wallet.WalletService/GetWallet.
SELECT "id", "userId", "balance", "createdAt" FROM "Wallet" WHERE "userId" = :uid;
