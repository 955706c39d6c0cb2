/* The thread that runs every handler: each call gets a fiber, its
 * statements go out on pipelined sessions (db_pipeline.h) and its peer
 * calls complete on the server's queue, so dozens of calls wait on the
 * database or the other service at once without a thread each. The
 * polling thread (server.c) only hands calls and completions over; the
 * handler, its statements and its answer all happen here. */
#ifndef RT_EXECUTOR_H
#define RT_EXECUTOR_H

#include "call.h"
#include "db_session.h"
#include "fiber.h"

typedef struct rt_executor rt_executor;

/* Serves one call on worker (whose db is the fiber's own view). */
typedef void (*rt_executor_serve_fn)(void *ctx, rt_call *call, rt_worker *worker);

/* Starts the thread; the sessions (see rt_db_pipeline_create) must stay
 * until rt_executor_destroy returns. Peer calls are made on cq, whose
 * poller passes their completions to rt_executor_complete. */
rt_executor *rt_executor_create(grpc_completion_queue *cq, rt_db_session **sessions, size_t n_sessions,
                                rt_executor_serve_fn serve, void *ctx);
/* Hands a call over (any thread); it is served in arrival order. */
void rt_executor_submit(rt_executor *e, rt_call *call);
/* A fiber's wait for one gRPC operation started with the wait as its tag
 * on rt_executor_cq: a peer call's batch, a channel state change. */
typedef struct rt_wait {
    rt_tag_kind kind; /* RT_TAG_WAIT, set by rt_executor_wait_init */
    struct rt_wait *next;
    rt_fiber *fiber;
    bool success;
} rt_wait;

grpc_completion_queue *rt_executor_cq(rt_executor *e);
void rt_executor_wait_init(rt_wait *w);
/* From the fiber that started the operation: returns once it completed,
 * with gRPC's success flag; the thread serves other fibers meanwhile. */
bool rt_executor_wait(rt_wait *w);
/* From the polling thread: the operation tagged w completed. */
void rt_executor_complete(rt_executor *e, rt_wait *w, bool success);

/* Serves what was submitted, then stops the thread and frees everything. */
void rt_executor_destroy(rt_executor *e);

#endif
