/* Background work of a service, e.g. sweeping what crashed creations left:
 * it runs on a fiber of its own on the fiber thread (executor.h), on its own
 * schedule, never inside a caller's call, so no caller waits for it and no
 * caller's deadline cuts it short. Each run gets a time budget of its own
 * (its statements are cancelled past it) and should do one bounded batch;
 * returning true says more is waiting, and the next run comes after a short
 * pause instead of the full interval, leaving the sessions to calls between
 * batches. Nothing starts once the daemon drains. */
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

/* Registers a task before the daemon starts (RT_BACKGROUND_TASK does it at
 * program load); its first run comes as soon as the daemon serves. */
void rt_background_register(const rt_task_def *def);
size_t rt_background_count(void);
const rt_task_def *rt_background_get(size_t i);

/* In a handler file: RT_BACKGROUND_TASK(sweep, "sweep", 60000, sweep_fn);
 * the daemon built from it runs sweep_fn on that schedule. */
#define RT_BACKGROUND_TASK(id, task_name, interval, fn)                                                   \
    static const rt_task_def id##_task = {.name = task_name, .interval_ms = interval, .run = fn};          \
    __attribute__((constructor)) static void id##_register(void) { rt_background_register(&id##_task); }

#endif
