/* Background work of a service, e.g. sweeping what crashed creations left:
 * it runs on a fiber of its own on the fiber thread (executor.h), on its own
 * schedule, never inside a caller's call, so no caller waits for it and no
 * caller's deadline cuts it short. Each run gets a time budget of its own
 * (its statements are cancelled past it) and should do one bounded batch;
 * returning true says more is waiting, and the next run comes after a short
 * pause instead of the full interval, leaving the sessions to calls between
 * batches. Nothing starts once the daemon drains.
 * A daemon's tasks are listed in its service table (rt_service.tasks,
 * service.h): its handlers define them and the list, so the daemon's main
 * leads to everything it runs. */
#ifndef RT_BACKGROUND_H
#define RT_BACKGROUND_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* Budget of one run, and the pause between runs while work is waiting. */
#define RT_TASK_BUDGET_MS 5000
#define RT_TASK_BACKLOG_PAUSE_MS 20
#define RT_MAX_TASKS 8

typedef struct rt_task rt_task;

/* One run; true when more work is waiting. */
typedef bool (*rt_task_fn)(rt_task *task);

typedef struct {
    const char *name; /* for logs */
    int interval_ms;  /* from the end of one run to the start of the next */
    rt_task_fn run;
} rt_task_def;

/* The database view of the running task (like rt_call_db for a call). */
rt_db *rt_task_db(rt_task *task);

#endif
