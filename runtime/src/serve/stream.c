/* Blocking operations on one streaming call (stream.h). At most one batch
 * tagged op_tag is in flight at a time, plus the close batch started by
 * rt_stream_begin; waiting for an op also notes the close when it comes. */
#include "stream.h"

#include <string.h>

#include "codec.h"

#define RT_STREAM_ARENA_BLOCK 8192

/* Waits for the event tagged tag, or until deadline (then false, with
 * *timed_out). Whatever else completes meanwhile can only be the close. */
static bool wait_for(rt_stream *s, void *tag, gpr_timespec deadline, bool *timed_out)
{
    *timed_out = false;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(s->cq, deadline, NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            *timed_out = true;
            return false;
        }
        if (ev.type != GRPC_OP_COMPLETE)
            return false;
        if (ev.tag == &s->close_tag)
            s->closed = true;
        if (ev.tag == tag)
            return ev.success;
    }
}

/* Starts ops and waits for them until deadline (*timed_out then). */
static bool run_batch_until(rt_stream *s, const grpc_op *ops, size_t n, gpr_timespec deadline, bool *timed_out)
{
    *timed_out = false;
    if (grpc_call_start_batch(s->call, ops, n, &s->op_tag, NULL) != GRPC_CALL_OK)
        return false;
    return wait_for(s, &s->op_tag, deadline, timed_out);
}

static bool run_batch(rt_stream *s, const grpc_op *ops, size_t n)
{
    bool timed_out;
    return run_batch_until(s, ops, n, gpr_inf_future(GPR_CLOCK_MONOTONIC), &timed_out);
}

bool rt_stream_begin(rt_stream *s, grpc_call *call, grpc_completion_queue *cq, int idle_ms)
{
    memset(s, 0, sizeof *s);
    s->call = call;
    s->cq = cq;
    s->idle_ms = idle_ms;
    s->arena = rt_arena_new(RT_STREAM_ARENA_BLOCK);
    grpc_op op = {.op = GRPC_OP_RECV_CLOSE_ON_SERVER};
    op.data.recv_close_on_server.cancelled = &s->cancelled;
    if (grpc_call_start_batch(call, &op, 1, &s->close_tag, NULL) != GRPC_CALL_OK) {
        s->closed = true; /* nothing to wait for at the end */
        return false;
    }
    return true;
}

rt_stream_read rt_stream_recv(rt_stream *s, const ProtobufCMessageDescriptor *type, ProtobufCMessage **out)
{
    grpc_byte_buffer *payload = NULL;
    grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
    op.data.recv_message.recv_message = &payload;
    bool timed_out;
    gpr_timespec idle_end = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(s->idle_ms, GPR_TIMESPAN));
    bool ok = run_batch_until(s, &op, 1, idle_end, &timed_out);
    if (timed_out) { /* the status goes out now; the receive then fails */
        grpc_call_cancel_with_status(s->call, GRPC_STATUS_CANCELLED, "stream idle: closed by the server", NULL);
        s->finished = true;
        s->final_code = GRPC_STATUS_CANCELLED;
        wait_for(s, &s->op_tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), &timed_out);
        if (payload)
            grpc_byte_buffer_destroy(payload);
        return RT_STREAM_BROKEN;
    }
    if (!ok)
        return RT_STREAM_BROKEN;
    if (!payload)
        return RT_STREAM_END;
    bool decoded = rt_codec_decode(s->arena, payload, type, out, NULL);
    grpc_byte_buffer_destroy(payload);
    return decoded ? RT_STREAM_MESSAGE : RT_STREAM_BROKEN;
}

bool rt_stream_send(rt_stream *s, const ProtobufCMessage *message)
{
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!s->sent_initial_md)
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    grpc_byte_buffer *bytes = rt_codec_encode(message);
    ops[n++].data.send_message.send_message = bytes;
    s->sent_initial_md = true;
    bool ok = run_batch(s, ops, n);
    grpc_byte_buffer_destroy(bytes);
    return ok;
}

bool rt_stream_finish(rt_stream *s, grpc_status_code code, const char *message)
{
    if (s->finished) /* already ended, e.g. idle: the first status stands */
        return false;
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!s->sent_initial_md)
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    grpc_slice details = grpc_slice_from_copied_string(message ? message : "");
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = code;
    ops[n++].data.send_status_from_server.status_details = message ? &details : NULL;
    s->sent_initial_md = true;
    bool ok = run_batch(s, ops, n);
    grpc_slice_unref(details);
    s->finished = ok;
    s->final_code = code;
    return ok;
}

bool rt_stream_wait_closed(rt_stream *s, int timeout_ms)
{
    if (s->closed)
        return true;
    bool timed_out;
    wait_for(s, &s->close_tag, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN)),
             &timed_out);
    return s->closed;
}

void rt_stream_end(rt_stream *s)
{
    if (!s->closed) {
        grpc_call_cancel(s->call, NULL); /* no-op when the status went out */
        bool timed_out;
        wait_for(s, &s->close_tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), &timed_out);
    }
    grpc_call_unref(s->call);
    grpc_completion_queue_shutdown(s->cq);
    while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(s->cq);
    rt_arena_free(s->arena);
}
