/* The fiber thread (executor.h). One loop: resume fibers whose gRPC
 * operations completed, start background tasks that are due and calls
 * handed over (while their class has fibers to spare), refuse queued calls
 * whose wait is up, poll the sessions (and an eventfd that says "something
 * was handed over"), wake the fibers whose statements finished, and
 * feed systemd's watchdog (sd_notify.h): only this loop proves calls are
 * served. The
 * eventfd is written only when the loop sleeps, so under load a hand-over
 * costs no system call. */
#include "executor.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "background.h"
#include "db_pipeline.h"
#include "db_session.h"
#include "deadline.h"
#include "fiber.h"
#include "log.h"
#include "metrics_runtime.h"
#include "sd_notify.h"

struct rt_task {
    const rt_task_def *def;
    gpr_timespec due;
    bool running;
    rt_db *db; /* the view of the slot running it */
};

/* A fiber with its database view; runs a call or a task. */
typedef struct slot {
    struct slot *next_free;
    rt_fiber *fiber;
    rt_fiber_ctx ctx;
    rt_call *call;
    rt_task *task;
    int class; /* of call */
    bool more; /* the task has more work waiting */
    rt_executor *executor;
} slot;

typedef struct {
    rt_call *head, *tail;
    int queued;  /* in the list */
    int running; /* in fibers */
} call_class;

struct rt_executor {
    grpc_completion_queue *cq;
    rt_db_pipeline *pipeline;
    rt_executor_limits limits;
    rt_executor_serve_fn serve;
    rt_executor_refuse_fn refuse;
    void *ctx;
    pthread_t thread;
    int wake_fd;

    pthread_mutex_t lock; /* guards the classes, done list and flags */
    call_class classes[RT_N_CLASSES];
    gpr_timespec next_give_up; /* no queued call's wait ends before this */
    rt_wait *done_head, *done_tail; /* completed waits, fibers to resume */
    bool stopping, background_stopped;
    atomic_bool sleeping; /* the loop is (about to be) in poll(2) */

    /* Loop thread only. */
    slot *free_slots;
    size_t n_slots, max_slots, live;
    slot **all;
    rt_task tasks[RT_MAX_TASKS];
    size_t n_tasks;
};

static void wake_loop(rt_executor *e)
{
    uint64_t one = 1;
    ssize_t ignored = write(e->wake_fd, &one, sizeof one);
    (void)ignored; /* a full eventfd counter is still readable: the loop wakes */
}

/* Fibers are bounded by the classes' limits and the tasks: never NULL. */
static slot *take_slot(rt_executor *e)
{
    slot *s = e->free_slots;
    if (s) {
        e->free_slots = s->next_free;
    } else {
        if (e->n_slots == e->max_slots)
            abort(); /* a bug in the accounting */
        s = calloc(1, sizeof *s);
        if (!s)
            abort();
        s->fiber = rt_fiber_create();
        s->ctx.db = rt_db_view(e->pipeline);
        s->ctx.executor = e;
        s->executor = e;
        e->all[e->n_slots++] = s;
    }
    e->live++;
    return s;
}

static gpr_timespec after_ms(int64_t ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* A fiber ended: its call's class has room again, its task is rescheduled. */
static void put_slot(rt_executor *e, slot *s)
{
    if (s->call) {
        pthread_mutex_lock(&e->lock);
        e->classes[s->class].running--;
        pthread_mutex_unlock(&e->lock);
    } else {
        s->task->running = false;
        s->task->due = after_ms(s->more ? RT_TASK_BACKLOG_PAUSE_MS : s->task->def->interval_ms);
    }
    s->call = NULL;
    s->task = NULL;
    s->next_free = e->free_slots;
    e->free_slots = s;
    e->live--;
}

static void run_slot(void *arg)
{
    slot *s = arg;
    if (s->call) {
        s->executor->serve(s->executor->ctx, s->call, &s->ctx);
        return;
    }
    rt_db_set_deadline(s->ctx.db, after_ms(RT_TASK_BUDGET_MS));
    s->more = s->task->def->run(s->task);
    rt_db_set_deadline(s->ctx.db, gpr_inf_future(GPR_CLOCK_MONOTONIC));
}

/* Starts s's fiber (a call or task already set) with its log context. */
static void start_slot(rt_executor *e, slot *s)
{
    s->more = false;
    bool ended = rt_fiber_start(s->fiber, run_slot, s);
    rt_call_enter(NULL); /* the fiber may have stopped mid-call */
    if (ended)
        put_slot(e, s);
    else if (s->call)
        rt_call_watch(s->call); /* it waits: its caller may cancel meanwhile */
}

/* Continues a fiber whose wait is over, with its call's log and trace
 * context (which the fibers that ran meanwhile replaced); recycles it if it ended. */
static void wake(void *ctx, rt_fiber *fiber)
{
    rt_executor *e = ctx;
    slot *s = rt_fiber_arg(fiber);
    if (s->call)
        rt_call_enter(s->call);
    else
        rt_log_set_call(s->task->def->name, NULL, NULL);
    bool ended = rt_fiber_resume(fiber);
    rt_call_enter(NULL);
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

/* Under the lock: the class of a queued call that may start now, or -1. */
static int startable_class(rt_executor *e)
{
    for (int k = RT_N_CLASSES - 1; k >= 0; k--) /* health, peers (callers wait on them), callers */
        if (e->classes[k].head && e->classes[k].running < e->limits.max_calls)
            return k;
    return -1;
}

/* Takes the next call that may start, counting it as running. */
static rt_call *pop_call(rt_executor *e, int *class)
{
    pthread_mutex_lock(&e->lock);
    rt_call *c = NULL;
    int k = startable_class(e);
    if (k >= 0) {
        call_class *q = &e->classes[k];
        c = q->head;
        q->head = c->next_free;
        if (!q->head)
            q->tail = NULL;
        q->queued--;
        q->running++;
        *class = k;
    }
    pthread_mutex_unlock(&e->lock);
    return c;
}

static void start_waiting_calls(rt_executor *e)
{
    int class;
    for (rt_call *c; (c = pop_call(e, &class));) {
        slot *s = take_slot(e);
        s->call = c;
        s->class = class;
        start_slot(e, s);
    }
}

/* Refuses the queued calls whose wait is up; returns ms until the next
 * one's is (-1: none queued). The exact minimum is found by a scan only
 * when the remembered lower bound has passed. */
static int refuse_expired_calls(rt_executor *e)
{
    gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
    rt_call *expired = NULL;
    pthread_mutex_lock(&e->lock);
    if (gpr_time_cmp(now, e->next_give_up) >= 0) {
        e->next_give_up = gpr_inf_future(GPR_CLOCK_MONOTONIC);
        for (int k = 0; k < RT_N_CLASSES; k++) {
            call_class *q = &e->classes[k];
            rt_call *prev = NULL;
            for (rt_call *c = q->head, *next; c; c = next) {
                next = c->next_free;
                if (gpr_time_cmp(c->give_up, now) > 0) {
                    if (gpr_time_cmp(c->give_up, e->next_give_up) < 0)
                        e->next_give_up = c->give_up;
                    prev = c;
                    continue;
                }
                if (prev)
                    prev->next_free = next;
                else
                    q->head = next;
                if (q->tail == c)
                    q->tail = prev;
                q->queued--;
                rt_metrics_admission_refused(k, false);
                c->next_free = expired;
                expired = c;
            }
        }
    }
    gpr_timespec next = e->next_give_up;
    pthread_mutex_unlock(&e->lock);
    while (expired) {
        rt_call *c = expired;
        expired = c->next_free;
        e->refuse(e->ctx, c, "server overloaded: no capacity for this call in time; retry later");
    }
    return next.tv_sec == INT64_MAX ? -1 : (int)rt_deadline_ms_left(next, INT_MAX);
}

/* The smaller of two poll timeouts, where -1 means none. */
static int sooner(int a, int b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* Starts the background tasks that are due; returns ms until the next is
 * (-1: none, or stopping). */
static int start_due_tasks(rt_executor *e)
{
    pthread_mutex_lock(&e->lock);
    bool stopped = e->background_stopped;
    pthread_mutex_unlock(&e->lock);
    if (stopped)
        return -1;
    for (size_t i = 0; i < e->n_tasks; i++) {
        rt_task *t = &e->tasks[i];
        if (t->running || !rt_deadline_passed(t->due))
            continue;
        slot *s = take_slot(e);
        s->task = t;
        t->running = true;
        t->db = s->ctx.db;
        rt_log_set_call(t->def->name, NULL, NULL);
        start_slot(e, s);
    }
    int next = -1;
    for (size_t i = 0; i < e->n_tasks; i++)
        if (!e->tasks[i].running) /* one that ended at once is due later */
            next = sooner(next, (int)rt_deadline_ms_left(e->tasks[i].due, INT_MAX));
    return next;
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
        int timeout = start_due_tasks(e);
        timeout = sooner(timeout, rt_sd_watchdog_tick()); /* this loop's liveness, for systemd */
        start_waiting_calls(e);
        timeout = sooner(timeout, refuse_expired_calls(e));
        size_t n_fds = 0;
        rt_db_pipeline_poll_setup(e->pipeline, fds + 1, &n_fds, &timeout);
        fds[0] = (struct pollfd){.fd = e->wake_fd, .events = POLLIN};
        pthread_mutex_lock(&e->lock);
        bool startable = e->done_head || startable_class(e) >= 0;
        bool done = e->stopping && e->live == 0;
        for (int k = 0; k < RT_N_CLASSES; k++)
            done = done && !e->classes[k].head;
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

rt_executor *rt_executor_create(grpc_completion_queue *cq, rt_db_session **sessions, size_t n_sessions,
                                const rt_task_def *const *tasks, const rt_executor_limits *limits,
                                rt_executor_serve_fn serve, rt_executor_refuse_fn refuse, void *ctx)
{
    rt_executor *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->cq = cq;
    e->limits = *limits;
    e->serve = serve;
    e->refuse = refuse;
    e->ctx = ctx;
    e->next_give_up = gpr_inf_future(GPR_CLOCK_MONOTONIC);
    for (; tasks && tasks[e->n_tasks]; e->n_tasks++) {
        if (e->n_tasks == RT_MAX_TASKS) {
            fprintf(stderr, "more than %d background tasks in the service table\n", RT_MAX_TASKS);
            abort(); /* a build mistake, found at the first start */
        }
        e->tasks[e->n_tasks] = (rt_task){.def = tasks[e->n_tasks], .due = gpr_inf_past(GPR_CLOCK_MONOTONIC)};
    }
    e->max_slots = (size_t)limits->max_calls * RT_N_CLASSES + e->n_tasks;
    e->all = calloc(e->max_slots, sizeof *e->all);
    e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!e->all || e->wake_fd < 0)
        abort();
    pthread_mutex_init(&e->lock, NULL);
    e->pipeline = rt_db_pipeline_create(sessions, n_sessions, wake, e);
    if (pthread_create(&e->thread, NULL, executor_main, e) != 0)
        abort();
    return e;
}

/* How long c may wait for a fiber: queue_wait_ms, and at most half of what
 * is left of its deadline, so a call that never started is refused while
 * its caller still listens, and one that starts has time to finish. */
static gpr_timespec give_up_time(const rt_executor *e, const rt_call *c)
{
    gpr_timespec deadline = rt_deadline_monotonic(c->method ? c->deadline : c->details.deadline);
    int64_t wait = rt_deadline_ms_left(deadline, 2 * (int64_t)e->limits.queue_wait_ms) / 2;
    return after_ms(wait);
}

bool rt_executor_submit(rt_executor *e, rt_call *call, rt_call_class class)
{
    call->next_free = NULL;
    call->give_up = give_up_time(e, call);
    pthread_mutex_lock(&e->lock);
    call_class *q = &e->classes[class];
    bool room = q->queued + q->running < e->limits.max_calls + e->limits.max_queued;
    bool asleep = false;
    if (room) {
        if (q->tail)
            q->tail->next_free = call;
        else
            q->head = call;
        q->tail = call;
        q->queued++;
        if (gpr_time_cmp(call->give_up, e->next_give_up) < 0)
            e->next_give_up = call->give_up;
        asleep = atomic_exchange(&e->sleeping, false);
    }
    pthread_mutex_unlock(&e->lock);
    if (asleep)
        wake_loop(e);
    if (!room)
        rt_metrics_admission_refused(class, true);
    return room;
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

void rt_executor_wake(rt_executor *e)
{
    atomic_store(&e->sleeping, false);
    wake_loop(e); /* always: rare, and a check of sleeping could race the loop going to sleep */
}

rt_db *rt_task_db(rt_task *task)
{
    return task->db;
}

void rt_executor_stop_background(rt_executor *e)
{
    pthread_mutex_lock(&e->lock);
    e->background_stopped = true;
    pthread_mutex_unlock(&e->lock);
}

void rt_executor_destroy(rt_executor *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    e->background_stopped = true;
    atomic_store(&e->sleeping, false);
    pthread_mutex_unlock(&e->lock);
    wake_loop(e);
    pthread_join(e->thread, NULL);
    for (size_t i = 0; i < e->n_slots; i++) {
        rt_fiber_destroy(e->all[i]->fiber);
        rt_db_close(e->all[i]->ctx.db);
        free(e->all[i]);
    }
    free(e->all);
    rt_db_pipeline_destroy(e->pipeline);
    pthread_mutex_destroy(&e->lock);
    close(e->wake_fd);
    free(e);
}
