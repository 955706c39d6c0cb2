/* rt_daemon_main (daemon.h): the life of a daemon, from flags to exit code.
 *
 * Signals: SIGTERM and SIGINT are blocked before any thread exists (gRPC
 * starts its own in grpc_init), so every thread inherits the mask and only
 * the main thread sees them, through a signalfd. The first one starts a
 * drain: no new calls, calls in flight get --drain-seconds to finish, then
 * their database statements and peer calls are interrupted so that their
 * handlers answer them, and what is left is cancelled; a second signal
 * exits at once (code 1), as does a drain whose handlers did not return
 * within the grace (drain). */
#include "daemon.h"

#include <grpc/grpc.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "client_control.h"
#include "code_pages.h"
#include "config.h"
#include "idempotency.h"
#include "db_control.h"
#include "db_url.h"
#include "db_session.h"
#include "log.h"
#include "metrics_http.h"
#include "page_token_keys.h"
#include "peers.h"
#include "sd_notify.h"
#include "server.h"
#include "tls_files.h"
#include "trace.h"

#ifndef RT_VERSION
#define RT_VERSION "0.0.0-dev"
#endif

/* getenv with the const-correct signature rt_config_parse expects. */
static const char *environment(const char *name)
{
    return getenv(name);
}

/* Waits until fd is readable or timeout_ms passes (-1: forever). */
static bool readable(int fd, int timeout_ms, int other_fd, bool *other)
{
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = other_fd, .events = POLLIN}};
    *other = false;
    for (;;) {
        int n = poll(fds, 2, timeout_ms);
        if (n < 0)
            continue; /* EINTR: the signals that matter are blocked */
        *other = fds[1].revents != 0;
        return fds[0].revents != 0;
    }
}

static void consume_signal(int sfd, const char **name)
{
    struct signalfd_siginfo info;
    if (read(sfd, &info, sizeof info) == (ssize_t)sizeof info)
        *name = info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
}

/* How often the heap's free pages go back to the system (malloc_trim):
 * glibc keeps what a burst of calls freed, fragmented between live blocks,
 * so RSS would stay at the burst's peak. The same tick drops the library
 * code pages mapped around what ran (code_pages.h): the kernel maps them
 * back 16 at a time, so once would not hold; the re-faults cost ~1 ms a
 * tick. */
#define RT_TRIM_INTERVAL_MS 2000

/* How long handlers get to answer once their statements and peer calls
 * were interrupted, and then how long the calls gRPC cancels get. */
#define RT_CANCEL_GRACE_MS 1000

/* Until every unary call in flight was answered (by its own handler), at
 * most timeout_ms or until a second signal. */
static void wait_answered(rt_server *server, int timeout_ms, int sfd, bool *second_signal)
{
    int fd = rt_server_answered_fd(server);
    uint64_t stale;
    ssize_t ignored = read(fd, &stale, sizeof stale); /* EAGAIN when empty */
    (void)ignored;
    *second_signal = false;
    if (rt_server_calls_in_flight(server) > 0)
        readable(fd, timeout_ms, sfd, second_signal);
}

/* From the first signal to the end of in-flight calls, at most
 * drain_seconds plus twice the cancel grace. False when the daemon must exit
 * without waiting for handlers: a second signal, or handlers that did not
 * return after being cancelled (a statement the database does not let go). */
static bool drain(rt_server *server, int sfd, int drain_seconds)
{
    int drained = rt_server_drained_fd(server);
    const char *signal_name = "signal";
    consume_signal(sfd, &signal_name);
    rt_log(RT_LOG_INFO, "draining after %s: up to %d s for calls in flight", signal_name, drain_seconds);
    rt_sd_notify("STOPPING=1\nSTATUS=draining");
    rt_server_begin_shutdown(server);
    bool second_signal;
    if (readable(drained, drain_seconds * 1000, sfd, &second_signal))
        return true;
    if (!second_signal) {
        rt_log(RT_LOG_WARN, "drain time is up: cancelling calls in flight");
        /* Statements and peer calls end first, so each handler answers its
         * own call with what it knows: a write that may have been sent is
         * never answered "not applied". gRPC's cancel, which answers every
         * call UNAVAILABLE, comes only for what is left after the grace
         * (streams such as Health/Watch, a handler that did not return). */
        rt_db_interrupt_all();
        rt_client_interrupt_all();
        wait_answered(server, RT_CANCEL_GRACE_MS, sfd, &second_signal);
        if (!second_signal) {
            rt_server_cancel_all(server);
            if (readable(drained, RT_CANCEL_GRACE_MS, sfd, &second_signal))
                return true;
        }
    }
    if (second_signal) {
        consume_signal(sfd, &signal_name);
        rt_log(RT_LOG_WARN, "second signal (%s): exiting now, calls in flight are cut off", signal_name);
    } else {
        rt_log(RT_LOG_ERROR, "calls still running %d ms after they were interrupted: exiting without them",
               2 * RT_CANCEL_GRACE_MS);
    }
    return false;
}

static int print_config_outcome(rt_config_outcome outcome, const rt_service *service, const char *error)
{
    switch (outcome) {
    case RT_CONFIG_HELP:
        rt_config_usage(service, stdout);
        return 0;
    case RT_CONFIG_VERSION:
        printf("%s %s\n", service->daemon_name, RT_VERSION);
        return 0;
    default:
        fprintf(stderr, "%s: %s\nTry '%s --help' for the options.\n", service->daemon_name, error,
                service->daemon_name);
        return 2;
    }
}

/* The role of session i of the daemon's: the writer, the lock waiter, then
 * the readers (DB_SESSIONS counts the writer and the readers). */
static rt_db_session_role session_role(size_t i)
{
    return i == 0 ? RT_DB_WRITER : i == 1 ? RT_DB_LOCK_WAITER : RT_DB_READER;
}

/* The daemon's sessions, the first the writer. Only the first opens here,
 * before serving: a database that cannot be reached, or that lacks a
 * migration (a statement does not prepare), stops the daemon with exit 1
 * and says what is missing, so health never says SERVING for a daemon
 * about to fail every call. The others open from the fiber thread's loop,
 * without blocking it, as the writer already serves. */
static rt_db_session **open_sessions(const rt_service *service, const rt_config *config, size_t n)
{
    rt_db_session **dbs = calloc(n, sizeof *dbs);
    if (!dbs)
        abort();
    rt_db_set_application_name(service->daemon_name);
    char *where = rt_db_describe_url(config->database_url);
    rt_log(RT_LOG_INFO, "connecting %zu database sessions to %s", n, where ? where : "?");
    free(where);
    for (size_t i = 0; i < n; i++)
        dbs[i] = rt_db_session_new(config->database_url, service->statements, service->n_statements,
                                   session_role(i), config->db_lock_timeout_ms);
    char *error = NULL;
    if (rt_db_session_open(dbs[0], &error))
        return dbs;
    rt_log(RT_LOG_ERROR, "%s", error);
    fprintf(stderr, "%s: %s\n", service->daemon_name, error);
    free(error);
    for (size_t i = 0; i < n; i++)
        rt_db_session_free(dbs[i]);
    free(dbs);
    return NULL;
}

/* The writer's first opening (open_sessions) runs on a thread of its own
 * while the main thread starts gRPC (grpc_init, the metrics endpoint, the
 * server): both take milliseconds and neither needs the other, so exec ->
 * first served call pays the longer of the two, not their sum. */
typedef struct {
    const rt_service *service;
    const rt_config *config;
    size_t n;
    rt_db_session **dbs; /* after the join: NULL when the writer did not open */
    pthread_t thread;
} opening;

static void *opening_main(void *arg)
{
    opening *o = arg;
    o->dbs = open_sessions(o->service, o->config, o->n);
    return NULL;
}

static void opening_start(opening *o, const rt_service *service, const rt_config *config)
{
    *o = (opening){.service = service, .config = config, .n = rt_server_session_count(config)};
    if (pthread_create(&o->thread, NULL, opening_main, o) != 0)
        abort();
}

/* The sessions once the opening ended (NULL: the daemon cannot start). */
static rt_db_session **opening_join(opening *o)
{
    pthread_join(o->thread, NULL);
    return o->dbs;
}

static void free_sessions(rt_db_session **dbs, size_t n)
{
    for (size_t i = 0; dbs && i < n; i++)
        rt_db_session_free(dbs[i]);
    free(dbs);
}

/* Everything after a valid config, grpc_init included, with the writer's
 * session opening meanwhile (o). */
static int serve(const rt_service *service, const rt_config *config, int sfd, opening *o)
{
    rt_peers *peers = rt_peers_create(service, config);
    char *error = NULL;
    rt_server *server = rt_server_create(service, config, peers, &error);
    size_t n_dbs = o->n;
    rt_db_session **dbs = opening_join(o);
    int code = 1;
    if (!dbs) { /* open_sessions said why; the server never listened */
        rt_server_destroy(server);
        free(error);
    } else if (!server) {
        rt_log(RT_LOG_ERROR, "%s", error ? error : "cannot listen");
        fprintf(stderr, "%s: %s\n", service->daemon_name, error ? error : "cannot listen");
        free(error);
    } else {
        rt_server_start(server, dbs, n_dbs);
        rt_log_with(RT_LOG_INFO, &(rt_log_fields){.address = config->listen},
                    "serving %s (%s, %zu database sessions)", service->self.service_name, RT_VERSION, n_dbs);
        /* Listening, and the writer's statements prepared (open_sessions). */
        rt_sd_notify("READY=1\nSTATUS=serving");
        bool ignored;
        while (!readable(sfd, RT_TRIM_INTERVAL_MS, sfd, &ignored)) {
            malloc_trim(0);
            rt_code_pages_trim();
        }
        if (!drain(server, sfd, config->drain_seconds)) {
            rt_log_flush(); /* _exit skips rt_daemon_main's stop */
            _exit(1); /* handlers still hold the server: nothing can be freed */
        }
        rt_db_interrupt_all(); /* a background batch still running is cut short */
        rt_db_cancel_flush(RT_CANCEL_GRACE_MS);
        code = 0;
        rt_server_destroy(server);
    }
    rt_peers_destroy(peers);
    free_sessions(dbs, n_dbs);
    return code;
}

/* glibc gives threads that allocate arenas of their own, up to 8 per core,
 * each keeping what was freed in it: with the daemon's threads and gRPC's
 * own that was ~2 MiB of a ~22 MiB RSS under load (measured when each
 * database session still had a thread of its own). No more threads than cores
 * run at once, so as many arenas rarely contend. Before any thread starts. */
static void limit_malloc_arenas(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    mallopt(M_ARENA_MAX, cores > 1 ? (int)cores : 1);
}

int rt_daemon_main(const rt_service *service, int argc, char **argv)
{
    rt_config config;
    char error[512];
    rt_config_outcome outcome =
        rt_config_parse(&config, service, argc, argv, environment, error, sizeof error);
    if (outcome != RT_CONFIG_RUN) {
        rt_config_free(&config);
        return print_config_outcome(outcome, service, error);
    }
    rt_log_init(service->daemon_name, config.log_level);
    rt_sd_init();
    rt_idempotency_set_ttl(config.idempotency_ttl_seconds);
    limit_malloc_arenas();

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    int sfd = signalfd(-1, &signals, SFD_CLOEXEC);
    if (sfd < 0) {
        perror("signalfd");
        rt_config_free(&config);
        return 1;
    }

    /* After the signal mask: these start threads. */
    rt_log_start_buffering();
    rt_trace_init(service->daemon_name, RT_VERSION);
    rt_tls_files *tls_files = rt_tls_files_open(&config, error, sizeof error);
    if (!tls_files) {
        rt_log_stop_buffering();
        close(sfd);
        rt_config_free(&config);
        return print_config_outcome(RT_CONFIG_ERROR, service, error);
    }
    if (!rt_page_token_keys_start(config.page_token_secret_file, config.page_token_ttl_seconds,
                                  config.reload_seconds, error, sizeof error)) {
        rt_tls_files_close(tls_files);
        close(sfd);
        rt_config_free(&config);
        return print_config_outcome(RT_CONFIG_ERROR, service, error);
    }
    opening writer;
    opening_start(&writer, service, &config);
    grpc_init();
    rt_metrics_http *metrics = NULL;
    int code = 1;
    if (rt_metrics_http_start(service, &config, &metrics))
        code = serve(service, &config, sfd, &writer);
    else
        free_sessions(opening_join(&writer), writer.n);
    rt_metrics_http_stop(metrics);
    grpc_shutdown();
    rt_page_token_keys_stop();
    rt_tls_files_close(tls_files);
    rt_log(RT_LOG_INFO, code == 0 ? "stopped" : "not started");
    rt_trace_shutdown();
    rt_sd_close();
    rt_log_stop_buffering(); /* last: what the shutdowns logged goes out too */
    close(sfd);
    rt_config_free(&config);
    return code;
}
