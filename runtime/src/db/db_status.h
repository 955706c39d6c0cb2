/* SQLSTATE -> gRPC status: what a failed statement answers its caller.
 * Implemented by db_status.c. */
#ifndef RT_DB_STATUS_H
#define RT_DB_STATUS_H

#include "status.h"

/* SQLSTATE (five characters) to a caller-safe status. */
rt_status rt_db_status_for_sqlstate(const char *sqlstate);

#endif
