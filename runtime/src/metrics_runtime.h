/* The runtime's own series beyond gRPC's (issue 22, item 4), for alerts and
 * the dashboard in deploy/: statement latency by statement name, the
 * database sessions by state, write group sizes and commit waits, reconnects, admission
 * refusals by class and reason, build info; and the business counters of
 * events.h. Recording is relaxed atomic adds on fixed tables (no lock,
 * allocation or system call); rendering happens on the scrape. */
#ifndef RT_METRICS_RUNTIME_H
#define RT_METRICS_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "service.h"

/* Statements with a series of their own; further names are not timed. */
#define RT_METRICS_MAX_STATEMENTS 64

/* Every statement of service present at 0 from the first scrape; the
 * daemon's name and version for wallet_build_info. */
void rt_metrics_runtime_init(const rt_service *service, const char *version);

/* A statement (its prepared name, a literal) answered after seconds, as
 * its caller waited: queueing, group commit and the round trip. */
void rt_metrics_statement(const char *name, double seconds);
/* A write transaction went out with n statements (group commit). */
void rt_metrics_db_group(size_t n);
/* A write transaction's commit was confirmed seconds after its last
 * statement's result came (the WAL flush, and a synchronous standby's). */
void rt_metrics_db_commit(double seconds);
/* A session that had been open opened again after a loss. */
void rt_metrics_db_reconnected(void);
/* The sessions now: busy (statements in flight), idle (open, none); the
 * rest of the daemon's sessions are down. From the fiber thread's loop. */
void rt_metrics_db_sessions(size_t busy, size_t idle);
/* A call refused RESOURCE_EXHAUSTED by admission control (executor.h):
 * class is rt_call_class; full: its class had no room, else its queue
 * wait ran out. */
void rt_metrics_admission_refused(int class, bool full);
/* What health Check answers for the whole daemon (health.c): SERVING or not. */
void rt_metrics_serving(bool serving);

void rt_metrics_runtime_render(FILE *out, size_t db_sessions);
/* The handlers' counters (events.c). */
void rt_events_render(FILE *out);

#endif
