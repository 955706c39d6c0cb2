/* Health state and the Health service (health.h). NOT_SERVING while the
 * probe thread cannot reach the database (its pings may wait; no thread
 * that serves calls does), while the daemon's own writer session is not
 * open (a probe that reaches a new primary does not mean writes do), or
 * while the statements no longer prepare on it (a migration was undone).
 * Watch polls the state
 * every WATCH_POLL_MS while it waits for its caller to go away: simpler than
 * waking streams from the probe thread, and a quarter second is far below
 * any load balancer's reaction time. */
#include "health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db_control.h"
#include "db_probe.h"
#include "grpc/health/v1/health.pb-c.h"
#include "log.h"
#include "metrics_runtime.h"
#include "sd_notify.h"

#define PROBE_INTERVAL_S 1
#define WATCH_POLL_MS 250

typedef Grpc__Health__V1__HealthCheckResponse__ServingStatus serving_status;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool db_ok, draining, stop, started;
    const char *service_name;
    char *url; /* rt_db_probe_url's */
    pthread_t probe;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .db_ok = true};

static void *probe_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g.lock);
    /* The first probe waits an interval: the daemon has just connected, and
     * a ping (one more PostgreSQL back-end start) would compete with the
     * first calls for the CPU. */
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += PROBE_INTERVAL_S;
        if (!g.stop)
            pthread_cond_timedwait(&g.wake, &g.lock, &until);
        if (g.stop)
            break;
        pthread_mutex_unlock(&g.lock);
        bool ok = rt_db_probe(g.url);
        pthread_mutex_lock(&g.lock);
        if (ok != g.db_ok) {
            rt_log(ok ? RT_LOG_INFO : RT_LOG_WARN, ok ? "database reachable again: SERVING"
                                                      : "database unreachable: NOT_SERVING");
            if (!g.draining) /* systemctl status; "draining" stays once said */
                rt_sd_notify(ok ? "STATUS=serving" : "STATUS=database unreachable");
        }
        g.db_ok = ok;
        rt_metrics_serving(ok && !g.draining && rt_db_statements_ready());
    }
    pthread_mutex_unlock(&g.lock);
    return NULL;
}

void rt_health_start(const char *service_name, const char *database_url)
{
    g.url = rt_db_probe_url(database_url);
    g.service_name = service_name;
    g.db_ok = true; /* the daemon connected its sessions a moment ago */
    g.draining = g.stop = false;
    rt_metrics_serving(rt_db_statements_ready());
    if (pthread_create(&g.probe, NULL, probe_main, NULL) != 0)
        abort();
    g.started = true;
}

void rt_health_drain(void)
{
    pthread_mutex_lock(&g.lock);
    g.draining = true;
    rt_metrics_serving(false);
    pthread_mutex_unlock(&g.lock);
}

void rt_health_stop(void)
{
    if (!g.started)
        return;
    pthread_mutex_lock(&g.lock);
    g.stop = true;
    pthread_cond_signal(&g.wake);
    pthread_mutex_unlock(&g.lock);
    pthread_join(g.probe, NULL);
    free(g.url);
    g.url = NULL;
    g.started = false;
}

/* The status of service ("" is the whole daemon); SERVICE_UNKNOWN for a
 * name this daemon does not serve. */
static serving_status status_of(const char *service, bool *draining)
{
    pthread_mutex_lock(&g.lock);
    bool serving = g.db_ok && !g.draining && rt_db_statements_ready() && rt_db_writable();
    *draining = g.draining;
    pthread_mutex_unlock(&g.lock);
    if (service[0] && (!g.service_name || strcmp(service, g.service_name) != 0))
        return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    return serving ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

static rt_status check(rt_call *call, const ProtobufCMessage *request, ProtobufCMessage **response)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const Grpc__Health__V1__HealthCheckRequest *)request;
    bool draining;
    serving_status st = status_of(req->service, &draining);
    if (st == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN)
        return rt_status_of(GRPC_STATUS_NOT_FOUND,
                            rt_arena_printf(rt_call_arena(call), "unknown service %.200s", req->service));
    Grpc__Health__V1__HealthCheckResponse *resp = rt_arena_alloc(rt_call_arena(call), sizeof *resp);
    grpc__health__v1__health_check_response__init(resp);
    resp->status = st;
    *response = &resp->base;
    return RT_OK;
}

const rt_method rt_health_check_method = {
    .path = "/grpc.health.v1.Health/Check",
    .name = "Health/Check",
    .request_type = &grpc__health__v1__health_check_request__descriptor,
    .response_type = &grpc__health__v1__health_check_response__descriptor,
    .invoke = check,
};

void rt_health_watch(rt_stream *stream, const char *name, void *context)
{
    (void)name;
    (void)context;
    ProtobufCMessage *msg;
    if (rt_stream_recv(stream, &grpc__health__v1__health_check_request__descriptor, &msg) != RT_STREAM_MESSAGE) {
        if (!stream->closed)
            rt_stream_finish(stream, GRPC_STATUS_INVALID_ARGUMENT, "request is not a valid HealthCheckRequest");
        return;
    }
    const char *service = ((const Grpc__Health__V1__HealthCheckRequest *)msg)->service;
    int last = -1;
    for (;;) {
        bool draining;
        serving_status st = status_of(service, &draining);
        if ((int)st != last) {
            Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
            resp.status = st;
            if (!rt_stream_send(stream, &resp.base))
                return;
            last = (int)st;
        }
        if (draining) { /* the last word: the server is going away */
            rt_stream_finish(stream, GRPC_STATUS_UNAVAILABLE, "the server is shutting down");
            return;
        }
        if (rt_stream_wait_closed(stream, WATCH_POLL_MS))
            return;
    }
}
