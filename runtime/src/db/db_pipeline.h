/* Database sessions shared by the fibers of one thread in libpq pipeline
 * mode: a statement is sent without waiting for the ones before it, and
 * its fiber waits while the thread serves other calls. The thread never
 * waits on the network: sessions open and reopen from its poll loop
 * (db_session.h), cancels go through a helper thread (db_cancel.h), and
 * every statement is answered by its call's deadline whether or not the
 * server ever answers it.
 *
 * Reads wait for the end of the loop's pass (rt_db_pipeline_poll_setup),
 * then go out an equal share per session, each share one transaction
 * ended by one Sync: one write(2) per session and pass instead of one per
 * read, since libpq 15 flushes at every Sync. A read that fails fails
 * alone; those rolled back with it go again. Writes (statements not
 * marked idempotent) use group commit on the first session, the writer,
 * which alone may write: the writes that arrive while a transaction is
 * out go together in the next one, one commit for all, each acknowledged
 * only after it. When
 * one member fails, it alone is answered with its error; the others were
 * rolled back with it through no fault of their own and go again together
 * as the next group, on the writer, before any newer write. A member held
 * up by a row lock is not answered yet: it runs again alone on the lock
 * waiter session (db_session.h), which the pipeline never gives reads.
 *
 * Measured reason (docs/benchmarks.md): a thread blocked per statement
 * cost ~45 us of daemon CPU in wake-ups per call, PostgreSQL spends far
 * less per statement when several arrive together, and a commit (a WAL
 * flush) per write capped writes to one row at ~2,500/s. */
#ifndef RT_DB_PIPELINE_H
#define RT_DB_PIPELINE_H

#include <poll.h>
#include <stddef.h>

#include "db.h"
#include "db_session.h"
#include "fiber.h"

typedef struct rt_db_pipeline rt_db_pipeline;

/* Called on the pipeline's thread for a fiber whose statement finished. */
typedef void (*rt_db_wake_fn)(void *ctx, rt_fiber *fiber);

/* Takes sessions, sessions[0] the writer, each up or not: those not up
 * are opened from the loop. The first RT_DB_LOCK_WAITER among the others
 * is the lock waiter; without one, a write waits for a row lock in its
 * group for the writer's whole lock_timeout. The caller frees them after
 * destroy. */
rt_db_pipeline *rt_db_pipeline_create(rt_db_session **sessions, size_t n, rt_db_wake_fn wake, void *ctx);
/* Every fiber's statement must have been answered. */
void rt_db_pipeline_destroy(rt_db_pipeline *p);

/* A handle that runs statements on the pipeline's shared sessions (db.h);
 * each fiber has its own, so deadlines do not mix. */
rt_db *rt_db_view(rt_db_pipeline *pipeline);

/* From a fiber on the pipeline's thread: rt_db_exec's contract, with the
 * deadline given (monotonic); patient and gone: see rt_db_set_patient and
 * rt_db_set_cancelled. */
rt_status rt_db_pipeline_exec(rt_db_pipeline *p, gpr_timespec deadline, bool patient, const atomic_bool *gone,
                              const rt_db_statement *stmt, const char *const *params, PGresult **result);

/* The thread's loop: what to poll (one entry per session, *n_fds of them),
 * with *timeout_ms lowered to the next moment to act on; then, after
 * poll(2), reads results, steps opening sessions and wakes the fibers
 * whose statements were answered. */
void rt_db_pipeline_poll_setup(rt_db_pipeline *p, struct pollfd *fds, size_t *n_fds, int *timeout_ms);
void rt_db_pipeline_process(rt_db_pipeline *p, const struct pollfd *fds);
/* Changes with every poll_setup that saw a session down or opening: a
 * socket may have closed and its number been reused since, so whoever
 * keeps the fds registered (epoll: db_watch.h) registers them anew. */
unsigned rt_db_pipeline_fd_epoch(const rt_db_pipeline *p);
/* Sessions the poll set has entries for. */
size_t rt_db_pipeline_sessions(const rt_db_pipeline *p);

#endif
