/* One streaming server call (reflection, health Watch) served by a thread of
 * its own: every operation is a batch on the call's private completion queue
 * that the thread waits for, so a stream reads like blocking code. The
 * receipt of the client's close is requested up front, which is how a
 * waiting server-streaming handler learns that its caller went away. A
 * stream whose client sends nothing for idle_ms while the handler waits
 * for a message is ended by the server, so idle clients cannot keep the
 * stream threads (stream_accept.h) forever. */
#ifndef RT_STREAM_H
#define RT_STREAM_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "arena.h"

typedef struct {
    grpc_call *call;
    grpc_completion_queue *cq; /* the call's own: only this stream's batches */
    rt_arena *arena;           /* reset by the handler as it sees fit */
    bool sent_initial_md;
    bool closed; /* the client finished or cancelled: nothing more will arrive */
    bool finished;               /* a status was sent: */
    grpc_status_code final_code; /* this one */
    int idle_ms;                 /* longest wait for a message */
    int cancelled;
    char op_tag, close_tag; /* their addresses tag the two kinds of batch */
} rt_stream;

typedef enum { RT_STREAM_MESSAGE, RT_STREAM_END, RT_STREAM_BROKEN } rt_stream_read;

/* Takes over call (bound to cq); requests the close notification. False when
 * the call is already unusable; rt_stream_end must still be called. */
bool rt_stream_begin(rt_stream *s, grpc_call *call, grpc_completion_queue *cq, int idle_ms);
/* The next message, decoded into s->arena as type; END when the client
 * half-closed, BROKEN when the call failed, the bytes are not a type or
 * nothing came for idle_ms (the stream is then finished, CANCELLED). */
rt_stream_read rt_stream_recv(rt_stream *s, const ProtobufCMessageDescriptor *type, ProtobufCMessage **out);
bool rt_stream_send(rt_stream *s, const ProtobufCMessage *message);
/* Sends the final status (message may be NULL); false, sending nothing,
 * when the stream already has one. */
bool rt_stream_finish(rt_stream *s, grpc_status_code code, const char *message);
/* Waits up to timeout_ms for the client to go away; true once it has. */
bool rt_stream_wait_closed(rt_stream *s, int timeout_ms);
/* Cancels the call if it is not finished, waits for its batches, frees all. */
void rt_stream_end(rt_stream *s);

#endif
