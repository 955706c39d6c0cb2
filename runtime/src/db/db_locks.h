/* The advisory locks that order write transactions (db_pipeline.c): each
 * transaction of writes first takes a lock per key its statements declare
 * (rt_db_statement.lock_params), hashed and taken in ascending order, one
 * global order, so transactions can only wait on each other in key order,
 * never in a cycle. The same statement then sets the transaction's
 * lock_timeout for the statements after it.
 *
 * Two key spaces: a group (many writes, one transaction, on the writer)
 * takes its keys with pg_advisory_xact_lock(bigint); a write retried alone
 * after a row lock held it up in its group (db_pipeline.h) takes them with
 * pg_advisory_xact_lock(int4, int4), a space PostgreSQL keeps apart from
 * the first. So a write waiting alone for a row locked elsewhere never
 * holds a lock a group waits for, and writes alone still wait for each
 * other in key order. */
#ifndef RT_DB_LOCKS_H
#define RT_DB_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Parameters: $1 the keys (a bigint array literal, ascending), $2 the
 * lock_timeout (ms, text) of the transaction's statements after it. */
extern const rt_db_statement rt_db_group_locks;
extern const rt_db_statement rt_db_alone_locks;

/* The keys one transaction locks, gathered statement by statement. */
typedef struct {
    int64_t *keys;
    size_t n, cap;
} rt_db_lock_set;

/* Adds the keys stmt declares (its lock_params set in params, non-NULL). */
void rt_db_lock_set_add(rt_db_lock_set *set, const rt_db_statement *stmt, const char *const *params);
/* Whether stmt with params locks a key of set. */
bool rt_db_lock_set_shares(const rt_db_lock_set *set, const rt_db_statement *stmt, const char *const *params);
void rt_db_lock_set_clear(rt_db_lock_set *set);
/* The keys as $1 of the statements above (malloc'd): ascending, each once;
 * set is emptied. */
char *rt_db_lock_set_take(rt_db_lock_set *set);

#endif
