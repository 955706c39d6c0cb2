-- Statements about recorded operations (migrations/0003_ledger.sql) that no
-- single method owns. Same conventions as wallet.sql.

-- name: DeleteExpiredOperations :execrows
-- One batch of the sweep of operations recorded more than @ttl_seconds ago:
-- at most 1000, oldest first, skipping rows another daemon's sweep holds, so
-- it never keeps the writer session long. Ledger entries keep the key they
-- were written under; only the replay of its outcome ends.
DELETE FROM "Operation"
 WHERE "id" IN (SELECT "id" FROM "Operation"
                 WHERE "createdAt" < LOCALTIMESTAMP - make_interval(secs => @ttl_seconds::integer)
                 ORDER BY "createdAt"
                 LIMIT 1000
                   FOR UPDATE SKIP LOCKED);
