/* Watches the database sessions' sockets while the serving loop sleeps in
 * grpc_completion_queue_next, which cannot poll them: a small thread
 * ("db-watch") waits in epoll on the events the pipeline asked for and,
 * when one is ready, tells the loop and, if it sleeps, ends its sleep
 * (cq_wake.h). Each socket is registered one-shot and re-armed by the
 * loop only as it goes to sleep, so while the loop is busy (it polls the
 * sockets itself) this thread stays asleep and costs nothing. */
#ifndef RT_DB_WATCH_H
#define RT_DB_WATCH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "cq_wake.h"

typedef struct rt_db_watch rt_db_watch;

/* For up to n sockets; wakes the loop through wake. Starts the thread. */
rt_db_watch *rt_db_watch_create(size_t n, rt_cq_wake *wake);
/* From the loop: whether a socket was reported ready since the last call
 * (then the loop polls them); clears it. */
bool rt_db_watch_ready(rt_db_watch *w);
/* From the loop, about to sleep: watch fds[0..n) (fd -1: none) from now
 * on; epoch is rt_db_pipeline_fd_epoch's (a change registers every
 * socket anew). Returns false when a socket was reported ready meanwhile:
 * the loop must not sleep. A report after this ends the sleep. */
bool rt_db_watch_sleep(rt_db_watch *w, const struct pollfd *fds, size_t n, unsigned epoch);
/* From the loop, awake again: reports no longer end its sleep. */
void rt_db_watch_awake(rt_db_watch *w);
/* Stops the thread. */
void rt_db_watch_destroy(rt_db_watch *w);

#endif
