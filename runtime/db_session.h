/* What db.c shares with db_pipeline.c: a session's connection and the
 * steps both ways of running a statement take (reconnect, cancel, turn a
 * result into a status). Nothing outside the database layer includes it. */
#ifndef RT_DB_SESSION_H
#define RT_DB_SESSION_H

#include <grpc/status.h>

#include "db.h"
#include "db_pipeline.h"

typedef enum { RT_DB_DONE, RT_DB_BROKEN } rt_db_outcome;

PGconn *rt_db_conn(rt_db *db);
/* The first attempt to open a session from rt_db_open_later is over (its
 * connection may still have failed); until then another thread may be
 * writing it, so nothing else may touch it. */
bool rt_db_opened(rt_db *db);
/* Re-opens a broken session and prepares its statements again; logs why not. */
bool rt_db_reconnect(rt_db *db);
/* Asks the server to cancel the statement running on the session. */
void rt_db_cancel(rt_db *db);
/* The session's connection was found broken (for the db_up gauge). */
void rt_db_mark_lost(rt_db *db);
/* rt_db_interrupt_all ran: statements are cancelled and refused. */
bool rt_db_interrupted(void);

/* A statement's first result (owned, may be NULL) into *result and *status.
 * cancelled_as is the code a cancel this side sent means (OK: none sent).
 * RT_DB_BROKEN when the error says the connection itself is gone. */
rt_db_outcome rt_db_take_result(rt_db *db, const rt_db_statement *stmt, PGresult *res,
                                grpc_status_code cancelled_as, PGresult **result, rt_status *status);

/* A handle that runs statements on the pipeline's shared sessions; each
 * fiber has its own, so deadlines do not mix. Close with rt_db_close. */
rt_db *rt_db_view(rt_db_pipeline *pipeline);

#endif
