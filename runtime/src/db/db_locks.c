/* Advisory lock keys of write transactions (db_locks.h). */
#include "db_locks.h"

#include <stdio.h>
#include <stdlib.h>

/* The locks come before set_config: the aggregate reads every lock first. */
const rt_db_statement rt_db_group_locks = {
    "rt_group_locks",
    "SELECT set_config('lock_timeout', $2, true) FROM "
    "(SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k) AS l) AS held",
    2, false, 0};

/* The same keys, split into two int4 (high and low 32 bits): one to one,
 * in a space that no group's lock shares. */
const rt_db_statement rt_db_alone_locks = {
    "rt_alone_locks",
    "SELECT set_config('lock_timeout', $2, true) FROM "
    "(SELECT count(*) FROM (SELECT pg_advisory_xact_lock((k >> 32)::int4, k::bit(32)::int4) "
    "FROM unnest($1::bigint[]) AS k) AS l) AS held",
    2, false, 0};

/* FNV-1a: a key's place in the global lock order (and its advisory lock;
 * two keys that collide only wait for each other). */
static int64_t key_hash(const char *key)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = (h ^ *c) * 1099511628211u;
    return (int64_t)h;
}

void rt_db_lock_set_add(rt_db_lock_set *set, const rt_db_statement *stmt, const char *const *params)
{
    for (int i = 0; i < stmt->n_params; i++) {
        if (!(stmt->lock_params >> i & 1u) || !params[i])
            continue;
        if (set->n == set->cap) {
            set->cap = set->cap ? 2 * set->cap : 8;
            set->keys = realloc(set->keys, set->cap * sizeof *set->keys);
            if (!set->keys)
                abort();
        }
        set->keys[set->n++] = key_hash(params[i]);
    }
}

bool rt_db_lock_set_shares(const rt_db_lock_set *set, const rt_db_statement *stmt, const char *const *params)
{
    for (int i = 0; i < stmt->n_params; i++) {
        if (!(stmt->lock_params >> i & 1u) || !params[i])
            continue;
        int64_t key = key_hash(params[i]);
        for (size_t k = 0; k < set->n; k++)
            if (set->keys[k] == key)
                return true;
    }
    return false;
}

static int compare_keys(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void rt_db_lock_set_clear(rt_db_lock_set *set)
{
    free(set->keys);
    *set = (rt_db_lock_set){0};
}

char *rt_db_lock_set_take(rt_db_lock_set *set)
{
    char *text = malloc(set->n * 22 + 3);
    if (!text)
        abort();
    if (set->n)
        qsort(set->keys, set->n, sizeof *set->keys, compare_keys);
    size_t len = 0;
    text[len++] = '{';
    for (size_t i = 0; i < set->n; i++)
        if (i == 0 || set->keys[i] != set->keys[i - 1])
            len += (size_t)sprintf(text + len, "%s%lld", len > 1 ? "," : "", (long long)set->keys[i]);
    text[len++] = '}';
    text[len] = '\0';
    rt_db_lock_set_clear(set);
    return text;
}
