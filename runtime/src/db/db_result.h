/* A failed statement's result as a caller-safe status, logged once with
 * its SQLSTATE (never its values). Used by the pipeline only. */
#ifndef RT_DB_RESULT_H
#define RT_DB_RESULT_H

#include "db.h"

/* res: the statement's error result (may be NULL: the connection's own
 * message is used). */
rt_status rt_db_result_status(const rt_db_statement *stmt, const PGresult *res, PGconn *conn);
/* The server itself reported the failure (the result has a SQLSTATE):
 * the statement's transaction did not commit. Errors libpq made up when
 * the connection broke have none: then the outcome is unknown. */
bool rt_db_result_from_server(const PGresult *res);
/* The result is PGRES_TUPLES_OK or PGRES_COMMAND_OK. */
bool rt_db_result_ok(const PGresult *res);
bool rt_db_result_is(const PGresult *res, const char *sqlstate);

#endif
