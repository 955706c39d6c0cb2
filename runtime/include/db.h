/* The database as handlers see it: prepared statements run from a
 * handler's fiber through its view of the shared sessions (rt_call_db;
 * db_pipeline.h), failures answered as caller-safe statuses, and the column
 * readers (db_values.h).
 * Generated repository functions (gen/db_*.c) are its only callers
 * besides the runtime. */
#ifndef RT_DB_H
#define RT_DB_H

#include <grpc/support/time.h>
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "db_values.h" /* the column readers every statement's caller uses */
#include "status.h"

typedef struct rt_db rt_db;

/* A prepared statement as the generator describes it. */
typedef struct {
    const char *name; /* prepared statement name, unique per daemon */
    const char *sql;  /* with $1..$n placeholders */
    int n_params;
    /* A read: when its connection breaks it is sent again, on whichever
     * session takes it, up to RT_PIPE_MAX_RUNS (3) runs in all
     * (db_pipeline.c). A write never is: whether it committed is unknown. */
    bool idempotent;
    /* Writes: bit i set when parameter i+1 names something the statement
     * locks or must be the only one to insert (a row it locks FOR UPDATE, a
     * unique key it inserts). Group commit takes a lock on each of these
     * keys, in one global order, before the group's statements run, so two
     * groups (two replicas) can never deadlock (db_pipeline.c). */
    unsigned lock_params;
} rt_db_statement;

/* A fiber's view of the shared sessions (rt_db_view, db_pipeline.h): the
 * only thing statements run on, with the deadline of the fiber's call.
 * Sessions themselves are another type (rt_db_session, db_session.h), so
 * running a statement on one does not compile. Close with rt_db_close. */
void rt_db_close(rt_db *db);
/* Statements run after this are answered by the monotonic-clock deadline
 * (gpr_inf_future to clear); the server sets it from each call. */
void rt_db_set_deadline(rt_db *db, gpr_timespec deadline);
/* Patient statements wait for the database (reconnecting with its usual
 * backoff) until the deadline instead of answering UNAVAILABLE while it is
 * unreachable: for settling a lost write's outcome (FenceOperation), where
 * only an unreachable-until-the-deadline database may end in
 * DEADLINE_EXCEEDED. Set, run, clear: the view serves call after call. */
void rt_db_set_patient(rt_db *db, bool patient);
/* Statements run after this are answered CANCELLED as soon as *gone is
 * true (the call's caller cancelled), like a deadline that passed: a write
 * not yet sent is never sent ("the caller cancelled": not applied), one
 * already sent is cancelled on the server but may commit all the same
 * (RT_DB_CANCELLED_AFTER_SEND). NULL to clear; *gone must outlive the
 * statements. */
void rt_db_set_cancelled(rt_db *db, const atomic_bool *gone);

/* The message of the DEADLINE_EXCEEDED a write gets when its connection
 * was lost after it was sent: it may have committed, and only a look at
 * what it wrote can tell (handlers settle it by their operation ids). */
#define RT_DB_OUTCOME_UNKNOWN "outcome unknown: the database connection was lost"
/* That status, as opposed to a deadline that passed or a cancel. */
static inline bool rt_db_outcome_unknown(rt_status status)
{
    return status.code == GRPC_STATUS_DEADLINE_EXCEEDED && status.message &&
           strcmp(status.message, RT_DB_OUTCOME_UNKNOWN) == 0;
}

/* The message of the CANCELLED a write gets when its caller cancelled after
 * it was sent: it may have committed all the same, like a write whose
 * connection was lost (its group goes on for the other writes in it, and
 * the cancel sent to the server may come once it ran). A write its caller
 * cancelled before it was sent is answered CANCELLED "the caller
 * cancelled" and never applies. The code stays CANCELLED, not
 * DEADLINE_EXCEEDED: the caller is gone and hears neither, the call's log
 * line says what happened, and rt_db_outcome_unknown stays false, so no
 * handler spends a fence (operations.h) on a caller that is gone (a retry
 * with its key reads the outcome); only a handler with something to undo
 * (the user insert of a CreateUser) tells the two cancels apart. */
#define RT_DB_CANCELLED_AFTER_SEND "the caller cancelled after the write was sent: it may have committed"
/* That status, as opposed to a cancel before the write was sent. */
static inline bool rt_db_cancelled_after_send(rt_status status)
{
    return status.code == GRPC_STATUS_CANCELLED && status.message &&
           strcmp(status.message, RT_DB_CANCELLED_AFTER_SEND) == 0;
}

/* Runs a prepared statement with text parameters (NULL means SQL NULL)
 * from a fiber. On OK, *result holds PGRES_TUPLES_OK or PGRES_COMMAND_OK
 * and the caller PQclear()s it. Otherwise *result is NULL and the status
 * says why: ALREADY_EXISTS for a unique violation, and so on (the SQLSTATE
 * table of db_status.c). UNAVAILABLE only when the statement surely
 * did not take effect (the database cannot be reached); a write whose
 * outcome is unknown (the connection was lost after it was sent) answers
 * DEADLINE_EXCEEDED with RT_DB_OUTCOME_UNKNOWN, one whose caller cancelled
 * after it was sent CANCELLED with RT_DB_CANCELLED_AFTER_SEND. Always
 * answered by the deadline (or at the caller's cancel): the statement is
 * then cancelled on the server without the caller waiting for it. */
rt_status rt_db_exec(rt_db *db, const rt_db_statement *stmt, const char *const *params,
                     PGresult **result);

#endif
