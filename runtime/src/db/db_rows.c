/* Run a statement, decode its rows, clear its result (db_rows.h). */
#include "db_rows.h"

#include "log.h"

rt_status rt_db_fetch_one(rt_db *db, rt_arena *arena, const rt_db_statement *stmt, const char *const *params,
                          rt_db_decode_fn decode, void *out, const char *not_found)
{
    PGresult *res = NULL;
    rt_status status = rt_db_exec(db, stmt, params, &res);
    if (!rt_ok(status))
        return status;
    int found = PQntuples(res) > 0;
    if (found)
        decode(arena, res, 0, out);
    PQclear(res);
    return found ? RT_OK : rt_status_of(GRPC_STATUS_NOT_FOUND, not_found);
}

rt_status rt_db_fetch_all(rt_db *db, rt_arena *arena, const rt_db_statement *stmt, const char *const *params,
                          rt_db_decode_fn decode, size_t row_size, void **rows, size_t *n_rows)
{
    PGresult *res = NULL;
    rt_status status = rt_db_exec(db, stmt, params, &res);
    if (!rt_ok(status))
        return status;
    int n = PQntuples(res);
    char *all = n > 0 ? rt_arena_alloc(arena, (size_t)n * row_size) : NULL;
    for (int i = 0; i < n; i++)
        decode(arena, res, i, all + (size_t)i * row_size);
    *rows = all;
    *n_rows = (size_t)n;
    PQclear(res);
    return RT_OK;
}

rt_status rt_db_wrong_row(const rt_db_statement *stmt)
{
    rt_log(RT_LOG_ERROR, "database statement %s answered a row that does not carry the key it asked for: "
                         "another statement's answer; the call fails INTERNAL", stmt->name);
    return rt_status_of(GRPC_STATUS_INTERNAL, NULL);
}
