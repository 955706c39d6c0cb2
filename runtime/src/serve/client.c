/* Peer calls (client.h). The child call is created with the server call as
 * parent, so the caller's deadline and cancellation reach the peer. It
 * completes on the server's queue, and the handler's fiber waits for it
 * (rt_executor_wait) while the thread serves other calls. */
#include "client.h"
#include "client_control.h"

#include <pthread.h>
#include <string.h>

#include "call.h"
#include "codec.h"
#include "deadline.h"
#include "executor.h"
#include "log.h"
#include "metrics.h"

/* A peer call never outlives this, even for a caller without a deadline. */
#define RT_CLIENT_TIMEOUT_MS 5000
/* How long a call waits for a peer that is not connected (starting, or
 * being reconnected after a restart) before calling it unavailable. Peer
 * channels retry connecting at least every 500 ms (peers.c), so a peer that
 * is back is found within this. */
#define RT_CLIENT_CONNECT_BUDGET_MS 1000

/* Peer calls in flight, so that a drain that runs out of time can end them
 * (rt_client_interrupt_all, from the main thread); each node lives on its
 * caller's fiber stack while the call runs. */
typedef struct in_flight {
    struct in_flight *prev, *next;
    grpc_call *call;
} in_flight;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static in_flight *g_in_flight;
static bool g_interrupted;

/* False once interrupted: the call must not start. */
static bool track(in_flight *n)
{
    pthread_mutex_lock(&g_lock);
    bool ok = !g_interrupted;
    if (ok) {
        n->prev = NULL;
        n->next = g_in_flight;
        if (g_in_flight)
            g_in_flight->prev = n;
        g_in_flight = n;
    }
    pthread_mutex_unlock(&g_lock);
    return ok;
}

static void untrack(in_flight *n)
{
    pthread_mutex_lock(&g_lock);
    if (n->prev)
        n->prev->next = n->next;
    else
        g_in_flight = n->next;
    if (n->next)
        n->next->prev = n->prev;
    pthread_mutex_unlock(&g_lock);
}

void rt_client_interrupt_all(void)
{
    pthread_mutex_lock(&g_lock);
    g_interrupted = true;
    for (in_flight *n = g_in_flight; n; n = n->next)
        grpc_call_cancel(n->call, NULL); /* its handler sees CANCELLED and decides */
    pthread_mutex_unlock(&g_lock);
}

typedef struct {
    grpc_metadata_array initial_md;
    grpc_metadata_array trailing_md;
    grpc_byte_buffer *response;
    grpc_status_code code;
    grpc_slice details;
} peer_answer;

static gpr_timespec child_deadline(rt_call *parent)
{
    gpr_timespec cap = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                    gpr_time_from_millis(RT_CLIENT_TIMEOUT_MS, GPR_TIMESPAN));
    gpr_timespec own = rt_deadline_monotonic(parent->deadline);
    return gpr_time_cmp(own, cap) < 0 ? own : cap;
}

/* Waits until the channel is connected, at most until deadline. Calls are
 * then made fail-fast: waiting here instead of with WAIT_FOR_READY keeps a
 * down peer from costing callers their whole deadline, and nothing is ever
 * sent twice. */
static bool channel_ready(grpc_channel *channel, rt_executor *executor, gpr_timespec deadline)
{
    grpc_connectivity_state state = grpc_channel_check_connectivity_state(channel, 1);
    while (state != GRPC_CHANNEL_READY) {
        if (state == GRPC_CHANNEL_SHUTDOWN)
            return false;
        rt_wait changed;
        rt_executor_wait_init(&changed);
        grpc_channel_watch_connectivity_state(channel, state, deadline, rt_executor_cq(executor), &changed);
        if (!rt_executor_wait(&changed))
            return false; /* the deadline came first */
        state = grpc_channel_check_connectivity_state(channel, 1);
    }
    return true;
}

/* Runs the single batch of a unary call and waits for it. traceparent
 * names the peer call's span in the caller's trace (trace.h); tracestate
 * goes on as it came. */
static bool exchange(rt_call *parent, grpc_call *call, grpc_byte_buffer *request, peer_answer *a,
                     const char *traceparent)
{
    /* The depth puts the call in the peer's class of its own (executor.h). */
    static const char *const depths[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
    grpc_metadata md[] = {
        {.key = grpc_slice_from_static_string("x-request-id"),
         .value = grpc_slice_from_static_string(rt_call_request_id(parent))},
        {.key = grpc_slice_from_static_string(RT_CALL_DEPTH_KEY),
         .value = grpc_slice_from_static_string(depths[parent->depth < 8 ? parent->depth : 8])},
        {.key = grpc_slice_from_static_string("traceparent"), .value = grpc_slice_from_static_string(traceparent)},
        {.key = grpc_slice_from_static_string("tracestate"),
         .value = grpc_slice_from_static_buffer(parent->trace.state, parent->trace.state_len)},
    };
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = parent->trace.state ? 4 : 3;
    ops[0].data.send_initial_metadata.metadata = md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &a->initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &a->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &a->trailing_md;
    ops[5].data.recv_status_on_client.status = &a->code;
    ops[5].data.recv_status_on_client.status_details = &a->details;
    rt_wait done;
    rt_executor_wait_init(&done);
    if (grpc_call_start_batch(call, ops, 6, &done, NULL) != GRPC_CALL_OK)
        return false;
    rt_executor_wait(&done); /* the call's deadline bounds the wait */
    return true;
}

/* Our servers always answer with initial metadata; an UNAVAILABLE without
 * it came from the transport, i.e. the peer is down or unreachable. */
static rt_status status_of(rt_call *parent, const char *service_name, peer_answer *a)
{
    if (a->code == GRPC_STATUS_UNAVAILABLE && a->initial_md.count == 0)
        return rt_status_of(GRPC_STATUS_UNAVAILABLE,
                            rt_arena_printf(parent->arena, "%s unavailable", service_name));
    size_t len = GRPC_SLICE_LENGTH(a->details);
    const char *message =
        len ? rt_arena_strndup(parent->arena, (const char *)GRPC_SLICE_START_PTR(a->details), len)
            : NULL;
    return rt_status_of(a->code, message);
}

static rt_status unary(rt_call *parent, const char *service_name, const char *method_path,
                       const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *response_type, ProtobufCMessage **response)
{
    *response = NULL;
    grpc_channel *channel = rt_peers_channel(parent->peers, service_name);
    if (!channel) {
        rt_log(RT_LOG_ERROR, "no channel for peer %s (not declared in rules.depends_on?)", service_name);
        return rt_status_of(GRPC_STATUS_INTERNAL, "internal error");
    }
    gpr_timespec started = gpr_now(GPR_CLOCK_MONOTONIC);
    gpr_timespec deadline = child_deadline(parent);
    gpr_timespec budget = gpr_time_add(started, gpr_time_from_millis(RT_CLIENT_CONNECT_BUDGET_MS, GPR_TIMESPAN));
    if (!channel_ready(channel, parent->fiber->executor,
                       gpr_time_cmp(deadline, budget) < 0 ? deadline : budget)) {
        if (rt_deadline_passed(parent->deadline))
            return rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
        rt_log(RT_LOG_WARN, "peer %s is not reachable", service_name);
        return rt_status_of(GRPC_STATUS_UNAVAILABLE,
                            rt_arena_printf(parent->arena, "%s unavailable", service_name));
    }
    grpc_call *call = grpc_channel_create_call(channel, parent->call, GRPC_PROPAGATE_DEFAULTS,
                                               rt_executor_cq(parent->fiber->executor),
                                               grpc_slice_from_static_string(method_path), NULL,
                                               deadline, NULL);
    peer_answer a = {.code = GRPC_STATUS_UNKNOWN, .details = grpc_empty_slice()};
    grpc_metadata_array_init(&a.initial_md);
    grpc_metadata_array_init(&a.trailing_md);
    grpc_byte_buffer *payload = rt_codec_encode(request);

    uint8_t span_id[8];
    char traceparent[RT_TRACEPARENT_LEN + 1];
    rt_trace_child(&parent->trace, span_id, traceparent);
    rt_status status;
    in_flight node = {.call = call};
    bool tracked = track(&node);
    if (!tracked) {
        status = rt_status_of(GRPC_STATUS_CANCELLED, "server shutting down");
    } else if (!exchange(parent, call, payload, &a, traceparent)) {
        rt_log(RT_LOG_ERROR, "peer call %s could not be started", method_path);
        status = rt_status_of(GRPC_STATUS_INTERNAL, "internal error");
    } else {
        status = status_of(parent, service_name, &a);
        if (rt_ok(status) && !rt_codec_decode(parent->arena, a.response, response_type, response, NULL)) {
            rt_log(RT_LOG_ERROR, "peer %s answered %s with an invalid message", service_name,
                   method_path);
            status = rt_status_of(GRPC_STATUS_INTERNAL, "internal error");
        }
    }
    if (tracked)
        untrack(&node);
    rt_log_fields f = {
        .method = method_path,
        .code = rt_status_code_name(status.code),
        .has_duration = true,
        .duration_ms = rt_elapsed_ms(started),
        .request_id = rt_call_request_id(parent),
        .identity = rt_call_identity(parent),
        .trace_id = parent->trace.trace_hex,
        .span_id = parent->trace.span_hex,
    };
    rt_log_with(RT_LOG_DEBUG, &f, "peer call to %s", service_name);
    rt_trace_end_span(&parent->trace, RT_SPAN_CLIENT, method_path, span_id, parent->trace.span_id, started,
                      status.code);

    grpc_byte_buffer_destroy(payload);
    if (a.response)
        grpc_byte_buffer_destroy(a.response);
    grpc_slice_unref(a.details);
    grpc_metadata_array_destroy(&a.initial_md);
    grpc_metadata_array_destroy(&a.trailing_md);
    grpc_call_unref(call);
    return status;
}

/* Counts every peer call, however it ends. */
rt_status rt_client_unary(rt_call *parent, const char *service_name, const char *method_path,
                          const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *response_type,
                          ProtobufCMessage **response)
{
    gpr_timespec started = gpr_now(GPR_CLOCK_MONOTONIC);
    rt_metrics_client_started(method_path);
    rt_status status = unary(parent, service_name, method_path, request, response_type, response);
    rt_metrics_client_handled(method_path, status.code, rt_elapsed_ms(started) / 1e3);
    return status;
}
