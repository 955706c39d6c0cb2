/* Cooperative fibers on one thread: a handler written as plain sequential
 * code can wait for its database result without holding a thread, so one
 * thread keeps many calls' statements in flight on pipelined sessions
 * (executor.h, db_pipeline.h). A fiber only ever runs on the thread that
 * created it; it gives control back at rt_fiber_yield and nowhere else. */
#ifndef RT_FIBER_H
#define RT_FIBER_H

#include <stdbool.h>

typedef struct rt_fiber rt_fiber;
typedef void (*rt_fiber_fn)(void *arg);

/* A fiber with its own stack (guard page below it), reusable for many runs. */
rt_fiber *rt_fiber_create(void);
void rt_fiber_destroy(rt_fiber *fiber);

/* Starts fn(arg) on the fiber and runs it until it yields or returns.
 * True when fn returned: the fiber may then be started again. */
bool rt_fiber_start(rt_fiber *fiber, rt_fiber_fn fn, void *arg);
/* Continues a fiber that yielded, until it yields again or returns. */
bool rt_fiber_resume(rt_fiber *fiber);

/* The arg of the fiber's current run. */
void *rt_fiber_arg(const rt_fiber *fiber);
/* The fiber running on this thread, NULL outside any. */
rt_fiber *rt_fiber_self(void);
/* Back to whoever started or resumed the running fiber. */
void rt_fiber_yield(void);

#endif
