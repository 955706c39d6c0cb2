/* Accepting streaming calls (stream_accept.h). Each outstanding request has a
 * completion queue of its own that the accepted call is bound to, so the
 * thread serving the stream waits on events of that call only. A request
 * that fails (the server is shutting down) is not renewed. */
#include "stream_accept.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "call.h"
#include "deadline.h"
#include "log.h"
#include "status.h"
#include "tls_peer.h"

struct rt_streams {
    grpc_server *server;
    grpc_completion_queue *cq; /* new-call notifications */
    const rt_stream_method *methods;
    size_t n_methods;
    rt_authz *authz;
    void **registered;
    int idle_ms;
    pthread_t acceptor;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    size_t live; /* stream threads running */
};

/* One outstanding request, then the accepted call. */
typedef struct {
    rt_streams *streams;
    size_t method;
    grpc_completion_queue *call_cq;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array request_md;
} slot;

/* Frees a slot whose call never had a batch started on its queue (a request
 * that failed, or a refused call): the queue is empty, so it shuts down at
 * once. */
static void discard_slot(slot *s)
{
    grpc_completion_queue_shutdown(s->call_cq);
    while (grpc_completion_queue_next(s->call_cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(s->call_cq);
    grpc_metadata_array_destroy(&s->request_md);
    free(s);
}

static void request(rt_streams *ss, size_t method)
{
    slot *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->streams = ss;
    s->method = method;
    s->call_cq = grpc_completion_queue_create_for_next(NULL);
    grpc_metadata_array_init(&s->request_md);
    grpc_call_error err = grpc_server_request_registered_call(ss->server, ss->registered[method], &s->call,
                                                              &s->deadline, &s->request_md, NULL, s->call_cq,
                                                              ss->cq, s);
    if (err != GRPC_CALL_OK) {
        rt_log(RT_LOG_ERROR, "cannot request calls for %s: error %d", ss->methods[method].path, (int)err);
        discard_slot(s);
    }
}

static void free_slot(slot *s)
{
    grpc_metadata_array_destroy(&s->request_md);
    free(s);
}

/* One line per stream when it ends, as call.c writes one per unary call. */
static void log_finished(const rt_stream *stream, const char *method, const char *request_id,
                         gpr_timespec started)
{
    grpc_status_code code = stream->finished ? stream->final_code : GRPC_STATUS_CANCELLED;
    rt_log_fields f = {
        .method = method,
        .code = rt_status_code_name(code),
        .has_duration = true,
        .duration_ms = rt_elapsed_ms(started),
        .request_id = request_id,
    };
    rt_log_with(code == GRPC_STATUS_OK || code == GRPC_STATUS_CANCELLED ? RT_LOG_INFO : RT_LOG_WARN, &f, "%s",
                stream->finished ? "stream finished" : "the caller ended the stream");
}

static void *serve_stream(void *arg)
{
    slot *s = arg;
    rt_streams *ss = s->streams;
    const rt_stream_method *m = &ss->methods[s->method];
    gpr_timespec started = gpr_now(GPR_CLOCK_MONOTONIC);
    char request_id[RT_REQUEST_ID_MAX + 1];
    rt_request_id_of(&s->request_md, request_id);
    rt_arena *arena = rt_arena_new(1024); /* the caller's identity */
    rt_authz_peer peer;
    rt_tls_peer_of(s->call, arena, &peer);
    rt_log_set_call(m->name, request_id, peer.identity);
    rt_stream stream;
    if (rt_stream_begin(&stream, s->call, s->call_cq, ss->idle_ms)) {
        rt_status access = rt_authz_check(ss->authz, &peer, m->path, &s->request_md);
        if (rt_ok(access))
            m->serve(&stream, m->name, m->context);
        else
            rt_stream_finish(&stream, access.code, access.message);
    }
    log_finished(&stream, m->name, request_id, started);
    rt_log_set_call(NULL, NULL, NULL);
    rt_arena_free(arena);
    rt_stream_end(&stream);
    free_slot(s);
    pthread_mutex_lock(&ss->lock);
    if (--ss->live == 0)
        pthread_cond_broadcast(&ss->idle);
    pthread_mutex_unlock(&ss->lock);
    return NULL;
}

/* Over the cap: answered without a thread and without waiting (a client
 * that does not read must not hold up accepting): cancelling with a status
 * sends it as trailers. */
static void refuse(slot *s)
{
    grpc_call_cancel_with_status(s->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many streams; try again later", NULL);
    grpc_call_unref(s->call);
    discard_slot(s);
}

static void accept_stream(rt_streams *ss, slot *s)
{
    pthread_mutex_lock(&ss->lock);
    bool room = ss->live < RT_MAX_STREAMS;
    if (room)
        ss->live++;
    pthread_mutex_unlock(&ss->lock);
    if (!room) {
        refuse(s);
        return;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attr, serve_stream, s) != 0) {
        pthread_mutex_lock(&ss->lock);
        ss->live--;
        pthread_mutex_unlock(&ss->lock);
        refuse(s);
    }
    pthread_attr_destroy(&attr);
}

static void *acceptor_main(void *arg)
{
    rt_streams *ss = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(ss->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        slot *s = ev.tag;
        if (!ev.success) { /* shutdown: no call was handed over */
            discard_slot(s);
            continue;
        }
        request(ss, s->method);
        accept_stream(ss, s);
    }
}

rt_streams *rt_streams_create(grpc_server *server, const rt_stream_method *methods, size_t n, int idle_seconds,
                              rt_authz *authz)
{
    rt_streams *ss = calloc(1, sizeof *ss);
    if (!ss || !(ss->registered = calloc(n ? n : 1, sizeof *ss->registered)))
        abort();
    ss->server = server;
    ss->methods = methods;
    ss->n_methods = n;
    ss->idle_ms = idle_seconds * 1000;
    ss->authz = authz;
    pthread_mutex_init(&ss->lock, NULL);
    pthread_cond_init(&ss->idle, NULL);
    /* Non-polling: registered with the server, a polling queue would make
     * this thread one of the server's pollers, sharing (and bouncing) the
     * unary calls' network work with the server's polling thread, which
     * measured ~14k instructions and a thread wake-up per unary call. It
     * only waits here for the new-stream notifications. */
    grpc_completion_queue_attributes attr = {.version = 1,
                                             .cq_completion_type = GRPC_CQ_NEXT,
                                             .cq_polling_type = GRPC_CQ_NON_POLLING};
    ss->cq = grpc_completion_queue_create(grpc_completion_queue_factory_lookup(&attr), &attr, NULL);
    grpc_server_register_completion_queue(server, ss->cq, NULL);
    for (size_t i = 0; i < n; i++)
        ss->registered[i] = grpc_server_register_method(server, methods[i].path, NULL, GRPC_SRM_PAYLOAD_NONE, 0);
    return ss;
}

void rt_streams_start(rt_streams *ss)
{
    for (size_t i = 0; i < ss->n_methods; i++)
        request(ss, i);
    if (pthread_create(&ss->acceptor, NULL, acceptor_main, ss) != 0)
        abort();
    ss->started = true;
}

void rt_streams_wait(rt_streams *ss)
{
    pthread_mutex_lock(&ss->lock);
    while (ss->live > 0)
        pthread_cond_wait(&ss->idle, &ss->lock);
    pthread_mutex_unlock(&ss->lock);
}

void rt_streams_destroy(rt_streams *ss)
{
    if (!ss)
        return;
    grpc_completion_queue_shutdown(ss->cq);
    if (ss->started)
        pthread_join(ss->acceptor, NULL);
    else
        while (grpc_completion_queue_next(ss->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
    grpc_completion_queue_destroy(ss->cq);
    pthread_cond_destroy(&ss->idle);
    pthread_mutex_destroy(&ss->lock);
    free(ss->registered);
    free(ss);
}
