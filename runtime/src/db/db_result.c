/* Statement results into statuses (db_result.h). Expected refusals
 * (duplicates, conflicts) are the caller's business and logged as
 * warnings; anything unmapped is a bug or an outage worth paging. */
#include "db_result.h"

#include <stdlib.h>
#include <string.h>

#include "db_status.h"
#include "log.h"

bool rt_db_result_ok(const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

bool rt_db_result_is(const PGresult *res, const char *sqlstate)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state && strcmp(state, sqlstate) == 0;
}

bool rt_db_result_from_server(const PGresult *res)
{
    return res && (PQresultStatus(res) == PGRES_PIPELINE_ABORTED || PQresultErrorField(res, PG_DIAG_SQLSTATE));
}

rt_status rt_db_result_status(const rt_db_statement *stmt, const PGresult *res, PGconn *conn)
{
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    rt_status status = rt_db_status_for_sqlstate(sqlstate);
    rt_log_level level = status.code == GRPC_STATUS_INTERNAL ? RT_LOG_ERROR : RT_LOG_WARN;
    /* Data exceptions (class 22) quote the offending parameter value. */
    bool quotes_values = sqlstate && strncmp(sqlstate, "22", 2) == 0;
    const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn);
    size_t n = strcspn(text ? text : "", "\n");
    rt_log(level, "database statement %s failed: SQLSTATE %s: %.*s", stmt->name, sqlstate ? sqlstate : "none",
           quotes_values ? 14 : (int)n, quotes_values ? "data exception" : (text ? text : ""));
    return status;
}
