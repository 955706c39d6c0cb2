/* The floor (issue 24): the smallest server this design allows, for
 * `make bench` to measure the daemons against in the same run. The gRPC C
 * core answers grpc.health.v1.Health/Check with a constant SERVING on one
 * completion-queue thread: no runtime, no fibers, no decode, no log, no
 * metrics. Whatever a daemon's Bare call costs above this is the runtime's.
 *   floor HOST:PORT        serves until SIGTERM/SIGINT
 * It prints "listening" on stdout once the port is bound. Built only for
 * the benchmark (make bench-floor), never installed. */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64 /* outstanding requests: at least the calls in flight (8x8) */

/* One call from arrival to its final batch's completion; the tag of both. */
typedef struct {
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *request;
    grpc_byte_buffer *reply;
    int cancelled;
    bool finishing;
} slot;

static grpc_server *server;
static grpc_completion_queue *cq;
static void *method;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* The answer: HealthCheckResponse{status: SERVING}, field 1 varint 1. */
static grpc_byte_buffer *serving(void)
{
    static const char bytes[] = {0x08, 0x01};
    grpc_slice s = grpc_slice_from_static_buffer(bytes, sizeof bytes);
    return grpc_raw_byte_buffer_create(&s, 1);
}

static void request(slot *s)
{
    memset(s, 0, sizeof *s);
    grpc_metadata_array_init(&s->md);
    if (grpc_server_request_registered_call(server, method, &s->call, &s->deadline, &s->md, &s->request, cq, cq, s) !=
        GRPC_CALL_OK)
        abort();
}

/* A call arrived: one batch with the metadata, the constant and the status. */
static void answer(slot *s)
{
    s->finishing = true;
    s->reply = serving();
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->reply;
    ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[2].data.send_status_from_server.status = GRPC_STATUS_OK;
    ops[3].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[3].data.recv_close_on_server.cancelled = &s->cancelled;
    if (grpc_call_start_batch(s->call, ops, 4, s, NULL) != GRPC_CALL_OK)
        abort();
}

static void release(slot *s)
{
    if (s->request)
        grpc_byte_buffer_destroy(s->request);
    if (s->reply)
        grpc_byte_buffer_destroy(s->reply);
    grpc_metadata_array_destroy(&s->md);
    if (s->call)
        grpc_call_unref(s->call);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    grpc_init();
    grpc_arg reuse = {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0};
    grpc_channel_args args = {.num_args = 1, .args = &reuse};
    server = grpc_server_create(&args, NULL);
    cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(server, cq, NULL);
    method = grpc_server_register_method(server, "/grpc.health.v1.Health/Check", NULL,
                                         GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(server, argv[1], creds);
    grpc_server_credentials_release(creds);
    if (port == 0) {
        fprintf(stderr, "floor: cannot listen on %s\n", argv[1]);
        return 1;
    }
    grpc_server_start(server);
    for (int i = 0; i < SLOTS; i++) {
        slot *s = malloc(sizeof *s);
        if (!s)
            abort();
        request(s);
    }
    printf("listening\n");
    fflush(stdout);

    /* The one thread: a call's arrival renews its slot with a fresh one and
     * answers; its final batch's completion frees it. A 200 ms tick notices
     * the stop signal. */
    bool shutting_down = false;
    for (;;) {
        gpr_timespec tick = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(200, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(cq, tick, NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (stop && !shutting_down) {
            shutting_down = true;
            grpc_server_shutdown_and_notify(server, cq, &shutting_down);
            grpc_server_cancel_all_calls(server);
        }
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == &shutting_down) {
            grpc_completion_queue_shutdown(cq);
            continue;
        }
        slot *s = ev.tag;
        if (s->finishing || !ev.success) { /* answered, or a slot cancelled by the shutdown */
            release(s);
            free(s);
            continue;
        }
        slot *next = malloc(sizeof *next);
        if (!next)
            abort();
        if (!shutting_down)
            request(next);
        else
            free(next);
        answer(s);
    }
    grpc_server_destroy(server);
    grpc_completion_queue_destroy(cq);
    grpc_shutdown();
    return 0;
}
