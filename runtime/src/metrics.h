/* Prometheus metrics, named as go-grpc-prometheus names them so existing
 * dashboards work: per method, calls started, calls handled by status code
 * and a handling-time histogram, on the server side and for peer calls, plus
 * the database sessions that are up (and, rendered with them, the runtime's
 * and handlers' series of metrics_runtime.h and events.h). Counting is a few relaxed atomic adds,
 * because every call pays it; nothing is counted until rt_metrics_init.
 *
 * Calls to unknown methods are not counted: their paths are chosen by the
 * caller, and a label per path would let anyone grow the registry. They are
 * still logged (UNIMPLEMENTED) like every call. */
#ifndef RT_METRICS_H
#define RT_METRICS_H

#include <grpc/status.h>
#include <stdbool.h>
#include <stddef.h>

#include "service.h"

/* Methods per side (server, client) with series of their own; further
 * methods are not counted. */
#define RT_METRICS_MAX_METHODS 32

/* Resets every series and starts counting, with every method of service
 * (x every status code) present at 0 from the first scrape. db_sessions is
 * the number of database sessions the daemon keeps. */
void rt_metrics_init(const rt_service *service, size_t db_sessions);

/* Server side; a NULL method (unknown path) is not counted. */
void rt_metrics_server_started(const rt_method *method);
void rt_metrics_server_handled(const rt_method *method, grpc_status_code code, double seconds);
/* Peer calls, by method path ("/wallet.WalletService/CreateWallet"); the
 * path must be a string that outlives the process (generated literals). */
void rt_metrics_client_started(const char *path);
void rt_metrics_client_handled(const char *path, grpc_status_code code, double seconds);

/* A database session's state changed to up or down; *counted is the
 * session's own record of what it last reported (false initially). */
void rt_metrics_db_up(bool *counted, bool up);

/* The exposition text (format 0.0.4), malloc'd; *len is its length. NULL
 * when out of memory. */
char *rt_metrics_render(size_t *len);

#endif
