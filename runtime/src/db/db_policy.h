/* The database layer's policy, in one place: what it sends again, when it
 * cancels, how long it waits before calling a session dead, and how it
 * backs off. docs/ link here; codegen/ reads RT_DB_RETRYABLE_PREFIX from
 * this file (codegen/model/sql.lua). Used by db_pipeline.c (retries,
 * cancels, stalls) and db_session.c (attempts, backoff).
 *
 * What is retryable: a read, i.e. a statement whose SQL starts with
 * RT_DB_RETRYABLE_PREFIX (rt_db_statement.idempotent, set by the
 * generator). When its connection breaks it is sent again, on whichever
 * session takes it, up to RT_PIPE_MAX_RUNS runs in all; so is any statement
 * rolled back through no fault of its own (another of its group failed, or
 * a cancel of ours meant for another landed on it). A write whose
 * connection broke after it was sent is never sent again: whether it
 * committed is unknown, and its caller hears RT_DB_OUTCOME_UNKNOWN (db.h).
 * Cancels: a statement whose call's deadline passes, or whose caller went
 * away, is cancelled on the server, its caller answered at once
 * (db_cancel.h); a write that was sent may commit all the same, and its
 * caller hears so (DEADLINE_EXCEEDED, or CANCELLED with
 * RT_DB_CANCELLED_AFTER_SEND, db.h). Stalls: a session
 * silent RT_PIPE_STALL_MS after a cancel is dropped and reopened. Backoff:
 * a session that cannot open tries again after RT_DB_BACKOFF_FIRST_MS,
 * doubling to RT_DB_BACKOFF_MAX_MS, with jitter. Lock waits: a write
 * waits for a lock at most RT_PIPE_MEMBER_LOCK_MS in its group, then alone
 * (db_pipeline.c). */
#ifndef RT_DB_POLICY_H
#define RT_DB_POLICY_H

/* A statement whose SQL starts with this is a read: retryable. */
#define RT_DB_RETRYABLE_PREFIX "SELECT "

/* Group commit: at most this many writes per transaction. */
#define RT_PIPE_GROUP_MAX 64
/* How long a member of a group waits for a lock (lock_timeout of the
 * group's statements): one row locked elsewhere delays the other writes of
 * its group, and those behind it, by about this much. A member that waits
 * longer is rolled back and runs alone on the lock waiter session with the
 * rest of the writer's lock_timeout (DB_LOCK_TIMEOUT_MS; db_pipeline.c).
 * Waits between our own groups are on advisory locks, under the whole
 * lock_timeout: a commit may take longer than this. */
#define RT_PIPE_MEMBER_LOCK_MS 50
/* Poll at least this often while anything waits, to notice
 * rt_db_interrupt_all. */
#define RT_PIPE_SLICE_MS 200
/* A cancel sent and nothing read from the session for this long: the
 * server or the path to it is gone (stopped, black-holed); the session is
 * dropped and reopened. */
#define RT_PIPE_STALL_MS 3000
/* A "canceling statement" error this soon after a cancel of ours on the
 * session, on a statement it was not meant for, was ours landing late:
 * that statement is sent again, like any rolled back through no fault of
 * its own (RT_PIPE_MAX_RUNS). Any other is foreign (statement_timeout):
 * logged and answered. */
#define RT_PIPE_OWN_CANCEL_MS 1000
/* A statement rolled back through no fault of its own, and a read whose
 * connection broke, is sent at most this many times in all (a group that
 * shrank because another statement failed goes again regardless). */
#define RT_PIPE_MAX_RUNS 3

/* An attempt (connect and prepare) that has not finished by then failed;
 * at start-up, when no call waits for it, a slow server gets longer. */
#define RT_DB_ATTEMPT_MS 3000
#define RT_DB_START_ATTEMPT_MS 10000
/* One host of a multi-host URL that has not accepted a session by then is
 * left for the next (start-up: the attempt's time shared among the hosts).
 * With the backoff's cap, this bounds how long after a promotion a session
 * reaches the new primary while the old one hangs: at most this plus one
 * backoff step, under the 3 s of SPEC.md. */
#define RT_DB_HOST_MS 1000
/* A call waits for a session's next attempt only when it is due at least
 * this long before the call's deadline: time for the attempt to fail and
 * the call to hear UNAVAILABLE rather than its deadline passing. */
#define RT_DB_WAIT_MARGIN_MS 250
/* Backoff between failed attempts: doubles from the first to the cap, each
 * delay drawn at random from its upper half (jitter: the daemons' sessions
 * do not retry in step). */
#define RT_DB_BACKOFF_FIRST_MS 100
#define RT_DB_BACKOFF_MAX_MS 2000

#endif
