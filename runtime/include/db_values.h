/* Column readers and parameter formatting for generated repository code:
 * results come in text format, so every value is parsed here once.
 * Implemented by db_values.c. */
#ifndef RT_DB_VALUES_H
#define RT_DB_VALUES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"

/* Column readers for repository code; strings are copied into the arena. */
const char *rt_db_get_text(rt_arena *arena, const PGresult *res, int row, int col);
int32_t rt_db_get_int32(const PGresult *res, int row, int col);
int64_t rt_db_get_int64(const PGresult *res, int row, int col);
/* BOOLEAN as PostgreSQL prints it in text format: "t" or "f". */
bool rt_db_get_bool(const PGresult *res, int row, int col);
/* TIMESTAMP(3) text as PostgreSQL prints it -> "YYYY-MM-DDTHH:MM:SS.mmmZ". */
const char *rt_db_get_timestamp(rt_arena *arena, const PGresult *res, int row, int col);
/* Parameter formatting for repository code. */
const char *rt_db_param_int32(rt_arena *arena, int32_t value);
const char *rt_db_param_int64(rt_arena *arena, int64_t value);

#endif
