/* The leaf pool's fiber thread (executor.h). One loop: start fibers for
 * calls handed over, poll the sessions (and an eventfd that says "calls
 * arrived"), wake the fibers whose statements finished. The eventfd is
 * written only when the loop sleeps, so under load a call is handed over
 * without a system call. */
#include "executor.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "db_pipeline.h"
#include "db_session.h"
#include "fiber.h"

/* Calls in progress at once; more wait in arrival order. Each fiber keeps
 * the stack pages it touched resident, so the bound is also memory's. */
#define RT_EXECUTOR_MAX_FIBERS 512

typedef struct slot {
    struct slot *next_free;
    rt_fiber *fiber;
    rt_worker worker;
    rt_call *call;
    rt_executor *executor;
} slot;

struct rt_executor {
    rt_db_pipeline *pipeline;
    rt_executor_serve_fn serve;
    void *ctx;
    pthread_t thread;
    int wake_fd;

    pthread_mutex_t lock; /* guards the queue and stopping */
    rt_call *queue_head, *queue_tail;
    bool stopping;
    atomic_bool sleeping; /* the loop is (about to be) in poll(2) */

    /* Loop thread only. */
    slot *free_slots;
    size_t n_slots, live;
    slot *all[RT_EXECUTOR_MAX_FIBERS];
};

static slot *take_slot(rt_executor *e)
{
    slot *s = e->free_slots;
    if (s) {
        e->free_slots = s->next_free;
    } else if (e->n_slots < RT_EXECUTOR_MAX_FIBERS) {
        s = calloc(1, sizeof *s);
        if (!s)
            abort();
        s->fiber = rt_fiber_create();
        s->worker.db = rt_db_view(e->pipeline);
        s->executor = e;
        e->all[e->n_slots++] = s;
    } else {
        return NULL;
    }
    e->live++;
    return s;
}

static void put_slot(rt_executor *e, slot *s)
{
    s->call = NULL;
    s->next_free = e->free_slots;
    e->free_slots = s;
    e->live--;
}

static void run_slot(void *arg)
{
    slot *s = arg;
    s->executor->serve(s->executor->ctx, s->call, &s->worker);
}

/* The pipeline's wake-up: continue the fiber, recycle it if it ended. */
static void wake(void *ctx, rt_fiber *fiber)
{
    rt_executor *e = ctx;
    if (rt_fiber_resume(fiber))
        put_slot(e, rt_fiber_arg(fiber));
}

static rt_call *pop_call(rt_executor *e)
{
    pthread_mutex_lock(&e->lock);
    rt_call *c = e->queue_head;
    if (c) {
        e->queue_head = c->next_free;
        if (!e->queue_head)
            e->queue_tail = NULL;
    }
    pthread_mutex_unlock(&e->lock);
    return c;
}

static void start_waiting_calls(rt_executor *e)
{
    for (;;) {
        if (!e->free_slots && e->n_slots == RT_EXECUTOR_MAX_FIBERS)
            return;
        rt_call *c = pop_call(e);
        if (!c)
            return;
        slot *s = take_slot(e);
        s->call = c;
        if (rt_fiber_start(s->fiber, run_slot, s))
            put_slot(e, s);
    }
}

static void *executor_main(void *arg)
{
    rt_executor *e = arg;
    pthread_setname_np(pthread_self(), "db-fibers");
    size_t n = rt_db_pipeline_sessions(e->pipeline);
    struct pollfd *fds = calloc(n + 1, sizeof *fds);
    if (!fds)
        abort();
    for (;;) {
        start_waiting_calls(e);
        int timeout = -1;
        size_t n_fds = 0;
        rt_db_pipeline_poll_setup(e->pipeline, fds + 1, &n_fds, &timeout);
        fds[0] = (struct pollfd){.fd = e->wake_fd, .events = POLLIN};
        pthread_mutex_lock(&e->lock);
        bool startable = e->queue_head && (e->free_slots || e->n_slots < RT_EXECUTOR_MAX_FIBERS);
        bool done = e->stopping && !e->queue_head && e->live == 0;
        if (startable)
            timeout = 0;
        else
            atomic_store(&e->sleeping, true);
        pthread_mutex_unlock(&e->lock);
        if (done)
            break;
        int ready = poll(fds, n_fds + 1, timeout);
        atomic_store(&e->sleeping, false);
        if (ready < 0 && errno != EINTR)
            abort(); /* only EFAULT/EINVAL/ENOMEM: a bug or an exhausted machine */
        if (ready > 0 && fds[0].revents) {
            uint64_t count;
            ssize_t ignored = read(e->wake_fd, &count, sizeof count);
            (void)ignored; /* readable eventfd: cannot fail */
        }
        if (ready < 0)
            for (size_t i = 0; i <= n_fds; i++)
                fds[i].revents = 0;
        rt_db_pipeline_process(e->pipeline, fds + 1);
    }
    free(fds);
    return NULL;
}

rt_executor *rt_executor_create(rt_db **sessions, size_t n_sessions, rt_executor_serve_fn serve, void *ctx)
{
    rt_executor *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->serve = serve;
    e->ctx = ctx;
    e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (e->wake_fd < 0)
        abort();
    pthread_mutex_init(&e->lock, NULL);
    e->pipeline = rt_db_pipeline_create(sessions, n_sessions, wake, e);
    if (pthread_create(&e->thread, NULL, executor_main, e) != 0)
        abort();
    return e;
}

static void wake_loop(rt_executor *e)
{
    uint64_t one = 1;
    ssize_t ignored = write(e->wake_fd, &one, sizeof one);
    (void)ignored; /* a full eventfd counter is still readable: the loop wakes */
}

void rt_executor_submit(rt_executor *e, rt_call *call)
{
    call->next_free = NULL;
    pthread_mutex_lock(&e->lock);
    if (e->queue_tail)
        e->queue_tail->next_free = call;
    else
        e->queue_head = call;
    e->queue_tail = call;
    bool asleep = atomic_exchange(&e->sleeping, false);
    pthread_mutex_unlock(&e->lock);
    if (asleep)
        wake_loop(e);
}

void rt_executor_destroy(rt_executor *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    atomic_store(&e->sleeping, false);
    pthread_mutex_unlock(&e->lock);
    wake_loop(e);
    pthread_join(e->thread, NULL);
    for (size_t i = 0; i < e->n_slots; i++) {
        rt_fiber_destroy(e->all[i]->fiber);
        rt_db_close(e->all[i]->worker.db);
        free(e->all[i]);
    }
    rt_db_pipeline_destroy(e->pipeline);
    pthread_mutex_destroy(&e->lock);
    close(e->wake_fd);
    free(e);
}
