/* SQLSTATE -> gRPC status (db_status.h). Messages are fixed texts: PostgreSQL's own
 * messages can quote SQL, values or names and never reach a caller. */
#include "db_status.h"

#include <string.h>

rt_status rt_db_status_for_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return rt_status_of(GRPC_STATUS_INTERNAL, "internal error");
    if (strcmp(s, "23505") == 0)
        return rt_status_of(GRPC_STATUS_ALREADY_EXISTS, "already exists");
    if (strcmp(s, "23503") == 0)
        return rt_status_of(GRPC_STATUS_FAILED_PRECONDITION, "referenced row does not exist");
    if (strcmp(s, "23514") == 0)
        return rt_status_of(GRPC_STATUS_FAILED_PRECONDITION, "check constraint violated");
    if (strcmp(s, "22003") == 0)
        return rt_status_of(GRPC_STATUS_OUT_OF_RANGE, "value out of range");
    if (strncmp(s, "22", 2) == 0)
        return rt_status_of(GRPC_STATUS_INVALID_ARGUMENT, "invalid value");
    if (strcmp(s, "57014") == 0)
        return rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
    if (strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
        strcmp(s, "57P03") == 0)
        return rt_status_of(GRPC_STATUS_UNAVAILABLE, "database unavailable");
    if (strcmp(s, "55P03") == 0) /* lock_timeout: nothing applied */
        return rt_status_of(GRPC_STATUS_ABORTED, "row locked by another transaction, retry");
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return rt_status_of(GRPC_STATUS_ABORTED, "transaction conflict, retry");
    if (strncmp(s, "53", 2) == 0)
        return rt_status_of(GRPC_STATUS_RESOURCE_EXHAUSTED, "database resources exhausted");
    return rt_status_of(GRPC_STATUS_INTERNAL, "internal error");
}
