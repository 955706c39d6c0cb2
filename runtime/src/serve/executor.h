/* The serving loop, run by the one thread that polls the server's
 * completion queue (server.c): each call gets a fiber, its statements go
 * out on pipelined sessions (db_pipeline.h) and its peer calls complete on
 * the same queue, so dozens of calls wait on the database or the other
 * service at once without a thread each, and only this thread enters gRPC
 * for them (issue 24: a second thread on the same transport cost ~20% more
 * CPU per call in gRPC's own hand-offs). */
#ifndef RT_EXECUTOR_H
#define RT_EXECUTOR_H

#include "call.h"
#include "db_session.h"
#include "fiber.h"

typedef struct rt_executor rt_executor;

/* Serves one call with what its fiber lends it (fiber->db: the fiber's own view). */
typedef void (*rt_executor_serve_fn)(void *ctx, rt_call *call, rt_fiber_ctx *fiber);
/* Answers a call RESOURCE_EXHAUSTED with message, unserved (any thread). */
typedef void (*rt_executor_refuse_fn)(void *ctx, rt_call *call, const char *message);

/* Admission control. Calls from callers, calls the peer service makes on
 * behalf of its own callers (x-call-depth, see client.c, from the verified
 * peer only: admission.h) and health checks
 * are classes with fibers of their own, so a chain such as CreateUser ->
 * CreateWallet -> GetUserById never waits for a fiber held by a call
 * waiting on it, and an overloaded daemon still answers its health checks.
 * Per class, at most max_calls run; up to max_queued more wait in arrival
 * order, each at most queue_wait_ms and at most half of its remaining
 * deadline, so the rest of its time is left to serve it. Beyond that a
 * call is refused RESOURCE_EXHAUSTED at once. Fibers start health checks
 * first, then peer calls (callers wait on those), then callers' calls. */
typedef enum { RT_CLASS_CALLERS, RT_CLASS_PEERS, RT_CLASS_HEALTH, RT_N_CLASSES } rt_call_class;
typedef struct {
    int max_calls;
    int max_queued;
    int queue_wait_ms;
} rt_executor_limits;

/* The sessions (see rt_db_pipeline_create) must stay until
 * rt_executor_destroy returns. Peer calls are made on cq, which only the
 * loop (rt_executor_next) polls. The background tasks (background.h;
 * NULL-terminated, the service table's) run from the loop. Starts the
 * db-watch thread (db_watch.h). */
rt_executor *rt_executor_create(grpc_completion_queue *cq, rt_db_session **sessions, size_t n_sessions,
                                const rt_task_def *const *tasks, const rt_executor_limits *limits,
                                rt_executor_serve_fn serve, rt_executor_refuse_fn refuse, void *ctx);
/* The loop: runs what is due, resumes the fibers whose waits completed,
 * waits until the next timer or event, and returns the first completion
 * that is not the loop's own: an arriving or finishing call, the server's
 * shutdown notification, or GRPC_QUEUE_SHUTDOWN. */
grpc_event rt_executor_next(rt_executor *e);
/* Hands a call of class over (the loop's thread): it is served, or refused
 * through the refuse function when its wait is up. False when its class is
 * full: the call was not taken and the caller answers it. */
bool rt_executor_submit(rt_executor *e, rt_call *call, rt_call_class class);
/* A fiber's wait for one gRPC operation started with the wait as its tag
 * on rt_executor_cq: a peer call's batch, a channel state change. */
typedef struct rt_wait {
    rt_tag_kind kind; /* RT_TAG_WAIT, set by rt_executor_wait_init */
    rt_fiber *fiber;
    bool success;
} rt_wait;

grpc_completion_queue *rt_executor_cq(rt_executor *e);
void rt_executor_wait_init(rt_wait *w);
/* From the fiber that started the operation: returns once it completed,
 * with gRPC's success flag; the thread serves other fibers meanwhile. */
bool rt_executor_wait(rt_wait *w);

/* A drain began: background tasks start no more (any thread). */
void rt_executor_stop_background(rt_executor *e);
/* Before the queue shuts down: the wake's parked call is cancelled and
 * not renewed, so the queue can drain (any thread). */
void rt_executor_stop_wake(rt_executor *e);
/* After GRPC_QUEUE_SHUTDOWN, on the loop's thread: runs the fibers still
 * live (background tasks on their statements) to their end. */
void rt_executor_finish(rt_executor *e);
/* Stops the db-watch thread and frees everything; after rt_executor_finish
 * and the queue's destruction. */
void rt_executor_destroy(rt_executor *e);

#endif
