/* Readers for nullable integer and boolean columns: the value lives in the arena and a
 * SQL NULL reads as a NULL pointer, the same convention strings already
 * follow (rt_db_get_text answers NULL for NULL). */
#ifndef RT_DB_NULLABLE_H
#define RT_DB_NULLABLE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"

const int32_t *rt_db_get_int32_or_null(rt_arena *arena, const PGresult *res, int row, int col);
const int64_t *rt_db_get_int64_or_null(rt_arena *arena, const PGresult *res, int row, int col);
const bool *rt_db_get_bool_or_null(rt_arena *arena, const PGresult *res, int row, int col);

#endif
