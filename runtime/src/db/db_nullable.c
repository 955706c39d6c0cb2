/* Nullable integer and boolean columns (db_nullable.h), parsed as
 * db_values.c parses the NOT NULL ones. */
#include "db_nullable.h"

#include "db.h"

const int32_t *rt_db_get_int32_or_null(rt_arena *arena, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    int32_t *value = rt_arena_alloc(arena, sizeof *value);
    *value = rt_db_get_int32(res, row, col);
    return value;
}

const int64_t *rt_db_get_int64_or_null(rt_arena *arena, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    int64_t *value = rt_arena_alloc(arena, sizeof *value);
    *value = rt_db_get_int64(res, row, col);
    return value;
}

const bool *rt_db_get_bool_or_null(rt_arena *arena, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    bool *value = rt_arena_alloc(arena, sizeof *value);
    *value = rt_db_get_bool(res, row, col);
    return value;
}
