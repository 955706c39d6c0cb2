/* Running a statement and decoding the rows it answers, for generated
 * repository and query functions: one copy of the run/decode/clear steps
 * that every table's functions share, told the table by its decoder. Generated
 * code runs statements only through these three, never libpq itself. */
#ifndef RT_DB_ROWS_H
#define RT_DB_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"
#include "db.h"
#include "status.h"

/* Decodes row `row` of res into the row struct at out: a generated
 * db_<table>_decode_row, whose out points to its db_<table>_row. */
typedef void (*rt_db_decode_fn)(rt_arena *arena, const PGresult *res, int row, void *out);

/* Runs a statement that answers at most one row and decodes it into *out;
 * no row answers NOT_FOUND with the message not_found. */
rt_status rt_db_fetch_one(rt_db *db, rt_arena *arena, const rt_db_statement *stmt, const char *const *params,
                          rt_db_decode_fn decode, void *out, const char *not_found);

/* A single-row read by key answered a row with another key: the answer of
 * another statement (the database layer takes answers in the order it sent
 * statements, so a connection that reordered them would do this). Logged as
 * an error naming the statement, never the values; answers INTERNAL, so no
 * caller is handed another's row. */
rt_status rt_db_wrong_row(const rt_db_statement *stmt);

/* Runs a statement that answers any number of rows and decodes them all into
 * an arena array of row_size-byte rows: *rows (NULL when there are none) and
 * *n_rows. */
rt_status rt_db_fetch_all(rt_db *db, rt_arena *arena, const rt_db_statement *stmt, const char *const *params,
                          rt_db_decode_fn decode, size_t row_size, void **rows, size_t *n_rows);

/* Runs a statement that answers no rows (an INSERT, UPDATE or DELETE
 * without RETURNING); on OK, *affected (unless NULL) is the number of rows
 * it changed. */
static inline rt_status rt_db_run(rt_db *db, const rt_db_statement *stmt, const char *const *params,
                                  int64_t *affected)
{
    PGresult *res = NULL;
    rt_status status = rt_db_exec(db, stmt, params, &res);
    if (!rt_ok(status))
        return status;
    if (affected)
        *affected = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return RT_OK;
}

#endif
