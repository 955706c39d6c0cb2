/* The fiber thread (executor.h). One loop: resume fibers whose gRPC
 * operations completed, start fibers for calls handed over, poll the
 * sessions (and an eventfd that says "something was handed over"), wake
 * the fibers whose statements finished. The eventfd is written only when
 * the loop sleeps, so under load a hand-over costs no system call. */
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
#include "log.h"

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
    grpc_completion_queue *cq;
    rt_db_pipeline *pipeline;
    rt_executor_serve_fn serve;
    void *ctx;
    pthread_t thread;
    int wake_fd;

    pthread_mutex_t lock; /* guards the queues and stopping */
    rt_call *queue_head, *queue_tail;
    rt_wait *done_head, *done_tail; /* completed waits, fibers to resume */
    bool stopping;
    atomic_bool sleeping; /* the loop is (about to be) in poll(2) */

    /* Loop thread only. */
    slot *free_slots;
    size_t n_slots, live;
    slot *all[RT_EXECUTOR_MAX_FIBERS];
};

static void wake_loop(rt_executor *e)
{
    uint64_t one = 1;
    ssize_t ignored = write(e->wake_fd, &one, sizeof one);
    (void)ignored; /* a full eventfd counter is still readable: the loop wakes */
}

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
        s->worker.executor = e;
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

/* Continues a fiber whose wait is over, with its call's log context
 * (which the fibers that ran meanwhile replaced); recycles it if it ended. */
static void wake(void *ctx, rt_fiber *fiber)
{
    rt_executor *e = ctx;
    slot *s = rt_fiber_arg(fiber);
    rt_log_set_call(rt_call_method_name(s->call), rt_call_request_id(s->call), rt_call_identity(s->call));
    bool ended = rt_fiber_resume(fiber);
    rt_log_set_call(NULL, NULL, NULL);
    if (ended)
        put_slot(e, s);
}

static rt_wait *pop_done(rt_executor *e)
{
    pthread_mutex_lock(&e->lock);
    rt_wait *w = e->done_head;
    if (w) {
        e->done_head = w->next;
        if (!e->done_head)
            e->done_tail = NULL;
    }
    pthread_mutex_unlock(&e->lock);
    return w;
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
        bool ended = rt_fiber_start(s->fiber, run_slot, s);
        rt_log_set_call(NULL, NULL, NULL); /* the fiber may have stopped mid-call */
        if (ended)
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
        for (rt_wait *w; (w = pop_done(e));)
            wake(e, w->fiber);
        start_waiting_calls(e);
        int timeout = -1;
        size_t n_fds = 0;
        rt_db_pipeline_poll_setup(e->pipeline, fds + 1, &n_fds, &timeout);
        fds[0] = (struct pollfd){.fd = e->wake_fd, .events = POLLIN};
        pthread_mutex_lock(&e->lock);
        bool startable = e->done_head || (e->queue_head && (e->free_slots || e->n_slots < RT_EXECUTOR_MAX_FIBERS));
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

rt_executor *rt_executor_create(grpc_completion_queue *cq, rt_db **sessions, size_t n_sessions,
                                rt_executor_serve_fn serve, void *ctx)
{
    rt_executor *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->cq = cq;
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

grpc_completion_queue *rt_executor_cq(rt_executor *e)
{
    return e->cq;
}

void rt_executor_wait_init(rt_wait *w)
{
    *w = (rt_wait){.kind = RT_TAG_WAIT, .fiber = rt_fiber_self()};
}

bool rt_executor_wait(rt_wait *w)
{
    rt_fiber_yield(); /* until rt_executor_complete queued w and the loop woke us */
    return w->success;
}

void rt_executor_complete(rt_executor *e, rt_wait *w, bool success)
{
    w->success = success;
    w->next = NULL;
    pthread_mutex_lock(&e->lock);
    if (e->done_tail)
        e->done_tail->next = w;
    else
        e->done_head = w;
    e->done_tail = w;
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
