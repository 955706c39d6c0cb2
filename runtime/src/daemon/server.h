/* The gRPC server: listening socket, completion queue, the one thread
 * that polls it and serves the calls as fibers (executor.h), and the
 * standing requests that feed them. */
#ifndef RT_SERVER_H
#define RT_SERVER_H

#include "config.h"
#include "db_session.h"
#include "peers.h"
#include "service.h"

typedef struct rt_server rt_server;

/* Database sessions the server needs: --db-sessions, shared by all calls in
 * pipeline mode, and the lock waiter (db_session.h). */
size_t rt_server_session_count(const rt_config *config);
/* Creates the server and binds config->listen. NULL with *error (malloc'd)
 * when the address cannot be bound. */
rt_server *rt_server_create(const rt_service *service, const rt_config *config,
                            const rt_peers *peers, char **error);
/* Starts serving; dbs[n_dbs] (rt_server_session_count) are lent to the
 * serving loop until rt_server_destroy returns. */
void rt_server_start(rt_server *server, rt_db_session **dbs, size_t n_dbs);
/* Readable once a shutdown begun by rt_server_begin_shutdown has drained:
 * gRPC has closed every call and every handler has returned. */
int rt_server_drained_fd(const rt_server *server);
/* Stops accepting calls and starting background work; calls in flight may
 * finish. */
void rt_server_begin_shutdown(rt_server *server);
/* Ends the calls still in flight: gRPC answers them UNAVAILABLE, so the
 * drain calls it only after their handlers had their chance to answer
 * (daemon.c); their handlers still have to return. */
void rt_server_cancel_all(rt_server *server);
/* Made readable (an eventfd, non-blocking) whenever the count of calls in
 * flight drops to zero; it may still hold an earlier one, so read it empty,
 * then check rt_server_calls_in_flight before waiting on it. */
int rt_server_answered_fd(const rt_server *server);
/* Calls between arrival and their answer's completion. */
long rt_server_calls_in_flight(rt_server *server);
/* Once drained (or on a never-started server): stops the threads and frees
 * everything except the lent connections. A server whose handlers did not
 * return is not destroyed: the process exits instead (daemon.c). */
void rt_server_destroy(rt_server *server);

#endif
