/* Streaming methods of the server (reflection, health Watch): registered
 * without a payload, accepted on a completion queue of their own by one
 * thread, each stream then served by a thread of its own (stream.h). A cap
 * on live streams keeps callers from growing the thread count without
 * bound. */
#ifndef RT_STREAM_ACCEPT_H
#define RT_STREAM_ACCEPT_H

#include <grpc/grpc.h>

#include "authz.h"
#include "stream.h"

#define RT_MAX_STREAMS 64

/* Serves one stream to its end (rt_stream_end is the caller's). */
typedef void (*rt_stream_fn)(rt_stream *stream, const char *name, void *context);

typedef struct {
    const char *path; /* "/grpc.health.v1.Health/Watch" */
    const char *name; /* "Watch", for logs */
    rt_stream_fn serve;
    void *context;
} rt_stream_method;

typedef struct rt_streams rt_streams;

/* Before grpc_server_start: registers methods[n] (which must outlive it) and
 * the accepting queue; a stream waiting idle_seconds for a client's
 * message is ended (stream.h). Each stream is authorized by authz first. */
rt_streams *rt_streams_create(grpc_server *server, const rt_stream_method *methods, size_t n, int idle_seconds,
                              rt_authz *authz);
/* After grpc_server_start: requests the first calls, starts accepting. */
void rt_streams_start(rt_streams *streams);
/* After the server's shutdown completed and before grpc_server_destroy:
 * waits for every stream thread to end. */
void rt_streams_wait(rt_streams *streams);
/* After grpc_server_destroy: stops the accepting thread, frees everything. */
void rt_streams_destroy(rt_streams *streams);

#endif
