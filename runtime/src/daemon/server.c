/* Server threading (server.h).
 *
 * One completion queue and one thread, "grpc-poller", that both polls it
 * and runs the handlers as fibers (executor.h): it takes each arriving
 * call, serves it, and resumes the fibers whose peer calls completed, so
 * no handler ever holds a thread while it waits for PostgreSQL or the
 * other service, and only this thread enters gRPC for unary calls (a
 * second one, as before issue 24, made gRPC hand its transport work to its
 * own thread pool). A chain such as CreateUser -> wallet CreateWallet ->
 * user GetUserById therefore cannot starve a daemon however many are in
 * flight. More polling threads measured slower: they wake each other to
 * take turns.
 *
 * Every registered method keeps --db-sessions outstanding requests, renewed as
 * each call arrives, so gRPC hands calls over as fast as they come; the
 * loop's admission control (executor.h) then serves, queues (bounded)
 * or refuses them RESOURCE_EXHAUSTED at once.
 * Generic slots must exist even though every known method is registered:
 * without one, an unknown method would wait for the caller's deadline
 * instead of getting UNIMPLEMENTED.
 *
 * Besides the service's own methods the server answers the built-in ones:
 * health Check like any unary method, and the streaming reflection and
 * health Watch methods on threads of their own (stream_accept.h). */
#include "server.h"

#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "admission.h"
#include "call.h"
#include "executor.h"
#include "health.h"
#include "log.h"
#include "reflection.h"
#include "stream_accept.h"
#include "tls.h"

struct rt_server {
    const rt_service *service;
    const char *database_url; /* probed for health */
    grpc_server *grpc;
    grpc_completion_queue *cq;
    pthread_t poller;
    rt_executor *executor;
    size_t n_slots; /* outstanding requests per method */
    const rt_method **methods; /* the service's, then the built-in unary ones */
    size_t n_methods;
    void **registered; /* gRPC handle per method */
    rt_stream_method stream_methods[3];
    rt_streams *streams;
    rt_call_cache *calls;
    rt_executor_limits limits;
    rt_authz *authz;
    rt_admission *admission; /* which calls are the peer's (admission.h) */
    int drained_fd;
    int answered_fd; /* see rt_server_answered_fd */
    char shutdown_tag; /* its address tags the shutdown notification */
    atomic_bool accepting;
    bool started;
    /* Calls between arrival and their final batch's completion. gRPC's
     * shutdown notification can come before cancelled handlers return (a
     * caller that went away leaves its handler running), and a batch
     * started on a shut-down queue aborts, so the drain is over only once
     * the notification came and this is zero. */
    pthread_mutex_t lock;
    long active;
    bool shutdown_notified;
};

size_t rt_server_session_count(const rt_config *config)
{
    return (size_t)config->db_sessions + 1; /* and the lock waiter (db_session.h) */
}

/* Puts one more outstanding request for method (NULL: a generic slot). */
static void request_slot(rt_server *s, const rt_method *m, void *registered)
{
    if (!atomic_load(&s->accepting))
        return;
    rt_call *c = rt_call_acquire(s->calls);
    c->method = m;
    c->registered = registered;
    grpc_call_error err =
        m ? grpc_server_request_registered_call(s->grpc, registered, &c->call, &c->deadline,
                                                &c->request_md, &c->payload, s->cq, s->cq, c)
          : grpc_server_request_call(s->grpc, &c->call, &c->details, &c->request_md, s->cq, s->cq, c);
    if (err != GRPC_CALL_OK) {
        rt_log(RT_LOG_ERROR, "cannot request calls for %s: error %d", m ? m->path : "(generic)", (int)err);
        rt_call_release(c);
    }
}

/* Under the lock: says "drained" once nothing is left of the shutdown. */
static void note_drained(rt_server *s)
{
    if (!s->shutdown_notified || s->active != 0)
        return;
    uint64_t one = 1;
    ssize_t ignored = write(s->drained_fd, &one, sizeof one);
    (void)ignored; /* an eventfd write of 1 cannot fail here */
}

static void count_call(rt_server *s, int delta)
{
    pthread_mutex_lock(&s->lock);
    s->active += delta;
    if (s->active == 0) {
        uint64_t one = 1;
        ssize_t ignored = write(s->answered_fd, &one, sizeof one);
        (void)ignored; /* a full counter is readable all the same */
    }
    note_drained(s);
    pthread_mutex_unlock(&s->lock);
}

static void serve(void *server, rt_call *c, rt_fiber_ctx *fiber)
{
    if (!rt_call_serve(c, fiber))
        count_call(server, -1);
}

/* Overload: answered at once, never served (executor.h). */
static void refuse(void *server, rt_call *c, const char *message)
{
    if (!rt_call_refuse(c, GRPC_STATUS_RESOURCE_EXHAUSTED, message))
        count_call(server, -1);
}

static void *poller_main(void *arg)
{
    rt_server *s = arg;
    pthread_setname_np(pthread_self(), "grpc-poller"); /* for top -H and perf */
    for (;;) {
        grpc_event ev = rt_executor_next(s->executor); /* serves the fibers meanwhile */
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.tag == &s->shutdown_tag) {
            pthread_mutex_lock(&s->lock);
            s->shutdown_notified = true;
            note_drained(s);
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        bool closing = *(rt_tag_kind *)ev.tag == RT_TAG_CLOSE;
        rt_call *c = closing ? rt_call_of_close(ev.tag) : ev.tag;
        if (closing || c->finishing) {
            if (rt_call_completed(c, ev.tag, ev.success))
                count_call(s, -1);
        } else if (!ev.success) {
            rt_call_release(c); /* a request cancelled by shutdown */
        } else {
            c->started = gpr_now(GPR_CLOCK_MONOTONIC);
            /* A peer call's depth counts only from the peer itself (admission.h). */
            c->depth = rt_call_depth_of(&c->request_md);
            if (c->depth > 0 && !rt_admission_from_peer(s->admission, c->call))
                c->depth = 0;
            count_call(s, +1);
            request_slot(s, c->method, c->registered);
            rt_call_class class = c->method == &rt_health_check_method ? RT_CLASS_HEALTH
                                  : c->depth > 0                       ? RT_CLASS_PEERS
                                                                       : RT_CLASS_CALLERS;
            if (!rt_executor_submit(s->executor, c, class))
                refuse(s, c, "server overloaded: too many calls in progress; retry later");
        }
    }
    rt_executor_finish(s->executor);
    return NULL;
}

/* Channel arguments of the server:
 * - ALLOW_REUSEPORT 0: gRPC enables SO_REUSEPORT by default, which would let
 *   a second daemon bind a busy port silently and steal half its traffic.
 * - MAX_RECEIVE_MESSAGE_LENGTH: --max-message-bytes, sized to the largest
 *   request of the contract; bigger ones are refused by gRPC
 *   (RESOURCE_EXHAUSTED) before reaching a handler. Answers are ours: no
 *   send limit beyond gRPC's own.
 * - MAX_CONCURRENT_STREAMS: --max-concurrent-streams per connection; a
 *   client multiplexing more waits on its side (HTTP/2 flow control).
 * - RESOURCE_QUOTA: --memory-quota-mb for gRPC's own buffers (reads,
 *   writes, per-stream state); under pressure gRPC shrinks them and refuses
 *   new streams before the process grows.
 * - KEEPALIVE_TIME_MS 60000 / KEEPALIVE_TIMEOUT_MS 20000: ping idle clients
 *   every minute, drop them after 20 s without an answer, so half-open
 *   connections (NAT, crashed hosts) do not pile up.
 * - HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS 10000 and
 *   KEEPALIVE_PERMIT_WITHOUT_CALLS 1: accept client keepalive pings every
 *   10 s even on idle connections, so clients with keepalive enabled are not
 *   sent GOAWAY "too_many_pings". */
static grpc_server *create_grpc_server(const rt_config *config)
{
    grpc_resource_quota *quota = grpc_resource_quota_create("server");
    grpc_resource_quota_resize(quota, (size_t)config->memory_quota_mb * 1024 * 1024);
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = config->max_message_bytes},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_CONCURRENT_STREAMS,
         .value.integer = config->max_concurrent_streams},
        {.type = GRPC_ARG_POINTER, .key = GRPC_ARG_RESOURCE_QUOTA,
         .value.pointer = {.p = quota, .vtable = grpc_resource_quota_arg_vtable()}},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_TIME_MS, .value.integer = 60000},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_TIMEOUT_MS, .value.integer = 20000},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
         .value.integer = 10000},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, .value.integer = 1},
    };
    grpc_channel_args channel_args = {.num_args = sizeof args / sizeof args[0], .args = args};
    grpc_server *server = grpc_server_create(&channel_args, NULL);
    grpc_resource_quota_unref(quota); /* the server holds its own reference */
    return server;
}

/* After every call completed: the loop has only background tasks left to
 * finish. Its parked wake call must go first, or the queue never drains. */
static void destroy_queue(rt_server *s)
{
    if (s->executor)
        rt_executor_stop_wake(s->executor);
    grpc_completion_queue_shutdown(s->cq);
    if (s->started)
        pthread_join(s->poller, NULL);
    else /* nothing ever polled it: drain here */
        while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
    grpc_completion_queue_destroy(s->cq);
    rt_executor_destroy(s->executor);
}

rt_server *rt_server_create(const rt_service *service, const rt_config *config,
                            const rt_peers *peers, char **error)
{
    *error = NULL;
    rt_server *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    if (!(s->authz = rt_authz_create(config->authz_policy_file, config->reload_seconds, error))) {
        free(s);
        return NULL;
    }
    s->admission = rt_admission_create(config);
    s->service = service;
    s->database_url = config->database_url;
    s->limits = (rt_executor_limits){.max_calls = config->max_calls,
                                     .max_queued = config->max_queued_calls,
                                     .queue_wait_ms = config->queue_wait_ms};
    pthread_mutex_init(&s->lock, NULL);
    s->grpc = create_grpc_server(config);
    s->calls = rt_call_cache_create(peers, s->authz);
    s->drained_fd = eventfd(0, EFD_CLOEXEC);
    s->answered_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->n_methods = service->n_methods + 1;
    s->methods = calloc(s->n_methods, sizeof *s->methods);
    s->registered = calloc(s->n_methods, sizeof *s->registered);
    if (s->drained_fd < 0 || s->answered_fd < 0 || !s->registered || !s->methods)
        abort();
    for (size_t i = 0; i < service->n_methods; i++)
        s->methods[i] = &service->methods[i];
    s->methods[service->n_methods] = &rt_health_check_method;
    s->n_slots = (size_t)config->db_sessions;
    s->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->grpc, s->cq, NULL);
    for (size_t i = 0; i < s->n_methods; i++)
        s->registered[i] = grpc_server_register_method(s->grpc, s->methods[i]->path, NULL,
                                                       GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    void *descriptors = (void *)service->descriptors;
    s->stream_methods[0] = (rt_stream_method){RT_REFLECTION_V1_PATH, "ServerReflectionInfo", rt_reflection_serve,
                                              descriptors};
    s->stream_methods[1] = (rt_stream_method){RT_REFLECTION_V1ALPHA_PATH, "ServerReflectionInfo",
                                              rt_reflection_serve, descriptors};
    s->stream_methods[2] = (rt_stream_method){RT_HEALTH_WATCH_PATH, "Health/Watch", rt_health_watch, NULL};
    s->streams = rt_streams_create(s->grpc, s->stream_methods, sizeof s->stream_methods / sizeof s->stream_methods[0],
                                   config->stream_idle_seconds, s->authz);
    grpc_server_credentials *creds = rt_tls_server_credentials(config);
    int port = grpc_server_add_http2_port(s->grpc, config->listen, creds);
    grpc_server_credentials_release(creds);
    if (port == 0) {
        if (asprintf(error, "cannot listen on %s: address in use or invalid", config->listen) < 0)
            *error = NULL;
        rt_server_destroy(s);
        return NULL;
    }
    rt_tls_warn_if_exposed(config);
    return s;
}

void rt_server_start(rt_server *s, rt_db_session **dbs, size_t n_dbs)
{
    s->executor = rt_executor_create(s->cq, dbs, n_dbs, s->service->tasks, &s->limits, serve, refuse, s);
    grpc_server_start(s->grpc);
    s->started = true;
    atomic_store(&s->accepting, true);
    for (size_t i = 0; i < s->n_methods; i++)
        for (size_t k = 0; k < s->n_slots; k++)
            request_slot(s, s->methods[i], s->registered[i]);
    for (size_t k = 0; k < s->n_slots; k++)
        request_slot(s, NULL, NULL);
    rt_streams_start(s->streams);
    rt_health_start(s->service->self.service_name, s->database_url);
    if (pthread_create(&s->poller, NULL, poller_main, s) != 0) {
        perror("pthread_create");
        abort();
    }
}

int rt_server_drained_fd(const rt_server *s)
{
    return s->drained_fd;
}

int rt_server_answered_fd(const rt_server *s)
{
    return s->answered_fd;
}

long rt_server_calls_in_flight(rt_server *s)
{
    pthread_mutex_lock(&s->lock);
    long n = s->active;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void rt_server_begin_shutdown(rt_server *s)
{
    atomic_store(&s->accepting, false);
    rt_executor_stop_background(s->executor);
    rt_health_drain(); /* Watch streams say NOT_SERVING and end */
    grpc_server_shutdown_and_notify(s->grpc, s->cq, &s->shutdown_tag);
}

void rt_server_cancel_all(rt_server *s)
{
    grpc_server_cancel_all_calls(s->grpc);
}

void rt_server_destroy(rt_server *s)
{
    if (!s)
        return;
    rt_streams_wait(s->streams);
    if (!s->started) /* bound, never started: gRPC wants a shutdown all the same */
        grpc_server_shutdown_and_notify(s->grpc, s->cq, &s->shutdown_tag);
    grpc_server_destroy(s->grpc);
    destroy_queue(s);
    rt_streams_destroy(s->streams);
    rt_health_stop();
    rt_call_cache_destroy(s->calls);
    rt_authz_destroy(s->authz);
    rt_admission_destroy(s->admission);
    pthread_mutex_destroy(&s->lock);
    free(s->registered);
    free(s->methods);
    close(s->drained_fd);
    close(s->answered_fd);
    free(s);
}
