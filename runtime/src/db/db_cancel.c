/* The cancel helper (db_cancel.h): one detached thread, started on first
 * use, draining a bounded queue of PGcancel handles (PQgetCancel copies
 * what it needs, so the connection may close meanwhile). It is never
 * joined: at exit it may still be waiting on an unreachable server, which
 * is why rt_db_cancel_flush waits a bounded time. */
#include "db_cancel.h"
#include "db_control.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

#define RT_CANCEL_QUEUE_MAX 32

typedef struct request {
    struct request *next;
    PGcancel *cancel;
} request;

static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t idle; /* broadcast after each request */
    request *head, *tail;
    int queued;
    bool sending; /* the helper is inside PQcancel */
    bool full_logged;
} g = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
     .idle = PTHREAD_COND_INITIALIZER};

static void *helper_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "db-cancel");
    for (;;) {
        pthread_mutex_lock(&g.lock);
        while (!g.head)
            pthread_cond_wait(&g.wake, &g.lock);
        request *r = g.head;
        g.head = r->next;
        if (!g.head)
            g.tail = NULL;
        g.queued--;
        g.sending = true;
        pthread_mutex_unlock(&g.lock);
        char err[256];
        if (!PQcancel(r->cancel, err, sizeof err))
            rt_log(RT_LOG_WARN, "database cancel request failed");
        PQfreeCancel(r->cancel);
        free(r);
        pthread_mutex_lock(&g.lock);
        g.sending = false;
        pthread_cond_broadcast(&g.idle);
        pthread_mutex_unlock(&g.lock);
    }
    return NULL;
}

static void start_helper(void)
{
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, helper_main, NULL) != 0)
        abort();
    pthread_attr_destroy(&attr);
}

void rt_db_cancel_send(PGconn *conn)
{
    pthread_once(&g.once, start_helper);
    PGcancel *cancel = PQgetCancel(conn);
    if (!cancel)
        return;
    pthread_mutex_lock(&g.lock);
    bool full = g.queued >= RT_CANCEL_QUEUE_MAX;
    bool log_full = full && !g.full_logged;
    g.full_logged = full;
    request *r = full ? NULL : malloc(sizeof *r);
    if (r) {
        *r = (request){.cancel = cancel};
        if (g.tail)
            g.tail->next = r;
        else
            g.head = r;
        g.tail = r;
        g.queued++;
        pthread_cond_signal(&g.wake);
    }
    pthread_mutex_unlock(&g.lock);
    if (!r)
        PQfreeCancel(cancel);
    if (log_full)
        rt_log(RT_LOG_WARN, "database cancel requests are not getting through: dropping further ones");
}

bool rt_db_cancel_flush(int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until); /* the condition variable's clock */
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g.lock);
    int rc = 0;
    while ((g.head || g.sending) && rc == 0)
        rc = pthread_cond_timedwait(&g.idle, &g.lock, &until);
    bool done = !g.head && !g.sending;
    pthread_mutex_unlock(&g.lock);
    return done;
}
