/* Column readers and parameter formatting for generated repository code
 * (db_values.h). Results come in text format, so every value is parsed here once. */
#include "db_values.h"

#include <inttypes.h>
#include <stdlib.h>

#include "log.h"
#include "timefmt.h"

const char *rt_db_get_text(rt_arena *arena, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return rt_arena_strndup(arena, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

int32_t rt_db_get_int32(const PGresult *res, int row, int col)
{
    return (int32_t)strtol(PQgetvalue(res, row, col), NULL, 10);
}

int64_t rt_db_get_int64(const PGresult *res, int row, int col)
{
    return (int64_t)strtoll(PQgetvalue(res, row, col), NULL, 10);
}

bool rt_db_get_bool(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 't';
}

const char *rt_db_get_timestamp(rt_arena *arena, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    const char *text = PQgetvalue(res, row, col);
    char iso[RT_TIMEFMT_LEN + 1];
    if (rt_timefmt_from_pg(text, iso))
        return rt_arena_strdup(arena, iso);
    /* Only a session not in UTC/ISO mode gets here; show the raw value
     * rather than failing the whole call. */
    rt_log(RT_LOG_WARN, "unexpected timestamp text from the database in column %d", col);
    return rt_arena_strdup(arena, text);
}

const char *rt_db_param_int32(rt_arena *arena, int32_t value)
{
    return rt_arena_printf(arena, "%" PRId32, value);
}

const char *rt_db_param_int64(rt_arena *arena, int64_t value)
{
    return rt_arena_printf(arena, "%" PRId64, value);
}
