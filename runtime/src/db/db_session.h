/* One PostgreSQL connection with every statement of the daemon prepared on
 * it: a session. It opens without blocking (PQconnectStart/PQconnectPoll,
 * then all prepares in one pipelined round trip), driven from the loop of
 * the thread that owns it, so that thread never waits on the network; a
 * failed or lost session tries again after a backoff with jitter.
 *
 * A session is not a fiber's view (rt_db, db.h): nothing runs statements
 * on a session directly, the pipeline (db_pipeline.h) owns its connection
 * once it is up. Outside the database layer only the daemon's start-up
 * uses it; the server and the executor pass sessions along. */
#ifndef RT_DB_SESSION_H
#define RT_DB_SESSION_H

#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>

#include "db.h"

typedef struct rt_db_session rt_db_session;

typedef enum {
    RT_DB_SESSION_DOWN,       /* no connection; the next attempt is scheduled */
    RT_DB_SESSION_CONNECTING, /* PQconnectPoll in progress */
    RT_DB_SESSION_PREPARING,  /* connected, prepares sent, results awaited */
    RT_DB_SESSION_UP,         /* ready: in pipeline mode, non-blocking */
} rt_db_session_state;

/* What a step of an opening session came to. */
typedef enum { RT_DB_SESSION_BUSY, RT_DB_SESSION_OPENED, RT_DB_SESSION_FAILED } rt_db_session_event;

/* Which session. Readers are read-only, so a write can never run on one.
 * The writer runs the groups of writes; the lock waiter runs, one at a
 * time, a write that a row lock held up in its group (db_pipeline.h). Both
 * get lock_timeout: how long a write may wait for a lock in all. Only the
 * writer counts for rt_db_writable (health): while the lock waiter is
 * down, a write handed to it waits for it or is answered UNAVAILABLE, as
 * writes are while the writer is down. Besides the daemon's statements
 * every session prepares db_locks.h's. */
typedef enum { RT_DB_WRITER, RT_DB_LOCK_WAITER, RT_DB_READER } rt_db_session_role;

/* A session that is down, with its first attempt due at once. The URL is
 * the configured one (Prisma's extra parameters are handled here);
 * statements must outlive the session. lock_timeout_ms 0: none. */
rt_db_session *rt_db_session_new(const char *url, const rt_db_statement *statements, size_t n_statements,
                                 rt_db_session_role role, int lock_timeout_ms);
void rt_db_session_free(rt_db_session *s);

/* Opens the session, waiting (start-up only: never on a thread that serves
 * calls). False with *error (malloc'd, no secrets) naming what failed: the
 * database that cannot be reached, or the statement that cannot be
 * prepared and why (a missing migration). */
bool rt_db_session_open(rt_db_session *s, char **error);

rt_db_session_state rt_db_session_state_of(const rt_db_session *s);
/* The connection, meaningful while UP. */
PGconn *rt_db_session_conn(const rt_db_session *s);
rt_db_session_role rt_db_session_role_of(const rt_db_session *s);
/* The lock_timeout it was created with (0: none; readers: 0). */
int rt_db_session_lock_timeout_ms(const rt_db_session *s);
/* Why the last attempt failed (NULL if it did not); true when the reason
 * was a statement that cannot be prepared rather than the network. */
const char *rt_db_session_failure(const rt_db_session *s, bool *prepare_failed);

/* While not UP: the socket events the session waits for (0: none) and
 * *timeout_ms lowered to when it next needs a step. */
short rt_db_session_events(rt_db_session *s, int *fd, int *timeout_ms);
/* Progress after poll(2) (revents may be 0: a timer). */
rt_db_session_event rt_db_session_step(rt_db_session *s, short revents);
/* The connection of an UP session failed: it closes and tries again, at
 * once if it had been up a while, else after its next backoff step. */
void rt_db_session_lost(rt_db_session *s);
/* DOWN and its next attempt not yet due: the database was unreachable at
 * the last attempt. Nothing brings an attempt forward (calls waiting or
 * not): at most one attempt per backoff step, whatever the traffic. */
bool rt_db_session_backing_off(const rt_db_session *s);
/* The session is up, opening, or has its next attempt due well before
 * deadline (monotonic; a margin for the attempt to fail in): a call with
 * that deadline may wait for it. */
bool rt_db_session_attempt_by(const rt_db_session *s, gpr_timespec deadline);

#endif
