/* The thread that runs the leaf pool's handlers: each call gets a fiber,
 * and its statements go out on pipelined sessions (db_pipeline.h), so
 * dozens of calls wait on the database at once without a thread each.
 * gRPC's worker threads only hand calls over; the handler, the statement
 * and the answer all happen here. Methods that call peers stay on their
 * own blocking pool (server.c): a peer call would stall every fiber. */
#ifndef RT_EXECUTOR_H
#define RT_EXECUTOR_H

#include "call.h"

typedef struct rt_executor rt_executor;

/* Serves one call on worker (whose db is the fiber's own view). */
typedef void (*rt_executor_serve_fn)(void *ctx, rt_call *call, rt_worker *worker);

/* Starts the thread; the sessions (the first connected, see
 * rt_db_pipeline_create) must stay open until rt_executor_destroy returns. */
rt_executor *rt_executor_create(rt_db **sessions, size_t n_sessions, rt_executor_serve_fn serve, void *ctx);
/* Hands a call over (any thread); it is served in arrival order. */
void rt_executor_submit(rt_executor *e, rt_call *call);
/* Serves what was submitted, then stops the thread and frees everything. */
void rt_executor_destroy(rt_executor *e);

#endif
