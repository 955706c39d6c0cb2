/* The serving loop (executor.h), run by the thread that polls the server's
 * completion queue, so that one thread alone enters gRPC for the unary
 * calls (two threads on one transport made gRPC hand its work to its own
 * thread pool: issue 24). Each turn: start background tasks that are due
 * and calls handed over (while their class has fibers to spare), refuse
 * queued calls whose wait is up, feed systemd's watchdog (sd_notify.h:
 * only this loop proves calls are served), look at the database sessions
 * and wake the fibers whose statements finished. It then waits in
 * grpc_completion_queue_next until the next of those timers, and a fiber
 * whose gRPC operation completed is resumed as the completion is taken.
 * The sessions are polled here (poll(2) with no wait) while statements are
 * out; while the loop sleeps, the db-watch thread (db_watch.h) watches
 * them and ends the sleep through the parked-call wake (cq_wake.h). */
#include "executor.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "background.h"
#include "cq_wake.h"
#include "db_pipeline.h"
#include "db_session.h"
#include "db_watch.h"
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
    rt_cq_wake *wake;
    rt_db_watch *watch;
    atomic_bool background_stopped; /* the only field other threads touch */

    /* The loop's thread only. */
    call_class classes[RT_N_CLASSES];
    gpr_timespec next_give_up; /* no queued call's wait ends before this */
    struct pollfd *fds;        /* one per session, as poll_setup filled them */
    size_t n_fds;
    bool asleep;   /* the db watch may end the current wait */
    bool draining; /* the last wait returned an event: take the next without waiting */
    slot *free_slots;
    size_t n_slots, max_slots, live;
    slot **all;
    rt_task tasks[RT_MAX_TASKS];
    size_t n_tasks;
};

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
        e->classes[s->class].running--;
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

/* The class of a queued call that may start now, or -1. */
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
    if (atomic_load_explicit(&e->background_stopped, memory_order_relaxed))
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

/* Starts what is due; returns ms until the next timer (-1: none). */
static int run_due(rt_executor *e)
{
    int timeout = start_due_tasks(e);
    timeout = sooner(timeout, rt_sd_watchdog_tick()); /* this loop's liveness, for systemd */
    start_waiting_calls(e);
    timeout = sooner(timeout, refuse_expired_calls(e));
    return startable_class(e) >= 0 ? 0 : timeout;
}

/* One turn without the wait: starts what is due, looks at the sessions;
 * returns the ms the loop may then wait in the queue (0: go on at once,
 * -1: until an event), the db watch armed unless 0. The sessions are
 * polled once a turn: after answers were read, what their fibers sent is
 * watched by db_watch as the loop waits, and the answers' own completions
 * are already on the queue, so the wait ends at once without a poll. */
static int turn(rt_executor *e)
{
    bool polled = false;
    for (;;) {
        int timeout = run_due(e);
        int db_timeout = -1; /* stays -1 while no statement is out and every session is up */
        rt_db_pipeline_poll_setup(e->pipeline, e->fds, &e->n_fds, &db_timeout);
        timeout = sooner(timeout, db_timeout);
        int ready = 0;
        /* The watch's report is taken whenever the sessions are polled: left
         * set, it would end every sleep at once (rt_db_watch_sleep) and the
         * loop would spin while a commit is awaited. */
        bool reported = rt_db_watch_ready(e->watch);
        if (!polled && (db_timeout >= 0 || reported)) {
            polled = true;
            ready = poll(e->fds, e->n_fds, 0);
            if (ready < 0 && errno != EINTR && errno != EAGAIN)
                abort(); /* only EFAULT/EINVAL/ENOMEM: a bug or an exhausted machine */
        }
        if (ready > 0) {
            rt_db_pipeline_process(e->pipeline, e->fds);
            continue; /* what it woke may have sent more: poll_setup again */
        }
        if (timeout == 0) {
            for (size_t i = 0; i < e->n_fds; i++)
                e->fds[i].revents = 0;
            rt_db_pipeline_process(e->pipeline, e->fds); /* timers: sessions opening, expired waits */
            return 0;
        }
        /* Nothing changed since poll_setup: its fds are the ones to watch. */
        if (!rt_db_watch_sleep(e->watch, e->fds, e->n_fds, rt_db_pipeline_fd_epoch(e->pipeline)))
            return 0;
        e->asleep = true;
        return timeout;
    }
}

static gpr_timespec deadline_in(int ms)
{
    if (ms < 0)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    if (ms == 0)
        return gpr_inf_past(GPR_CLOCK_MONOTONIC);
    return after_ms(ms);
}

/* The operation tagged w completed: resumes the fiber that waits on it. */
static void complete_wait(rt_executor *e, rt_wait *w, bool success)
{
    w->success = success;
    wake(e, w->fiber);
}

/* Events are taken while the queue has them (no wait) before the next
 * turn, so the calls that arrived together start together and their reads
 * go out in one write per session (db_pipeline.c) instead of one each. */
grpc_event rt_executor_next(rt_executor *e)
{
    for (;;) {
        int timeout = e->draining ? 0 : turn(e);
        grpc_event ev = grpc_completion_queue_next(e->cq, deadline_in(timeout), NULL);
        if (e->asleep) {
            rt_db_watch_awake(e->watch);
            e->asleep = false;
        }
        e->draining = ev.type == GRPC_OP_COMPLETE;
        if (ev.type == GRPC_QUEUE_TIMEOUT)
            continue; /* a timer is due, or the queue is empty for now */
        if (ev.type != GRPC_OP_COMPLETE)
            return ev;
        rt_tag_kind kind = *(rt_tag_kind *)ev.tag;
        if (kind == RT_TAG_WAIT)
            complete_wait(e, ev.tag, ev.success);
        else if (kind == RT_TAG_WAKE)
            rt_cq_wake_taken(e->wake, ev.tag);
        else
            return ev;
    }
}

void rt_executor_stop_wake(rt_executor *e)
{
    rt_cq_wake_stop(e->wake);
}

/* Queued calls or live fibers remain. */
static bool busy(const rt_executor *e)
{
    bool any = e->live > 0;
    for (int k = 0; k < RT_N_CLASSES; k++)
        any = any || e->classes[k].head;
    return any;
}

void rt_executor_finish(rt_executor *e)
{
    while (busy(e)) { /* background tasks still on their statements */
        int timeout = run_due(e);
        rt_db_pipeline_poll_setup(e->pipeline, e->fds, &e->n_fds, &timeout);
        if (poll(e->fds, e->n_fds, timeout) <= 0)
            for (size_t i = 0; i < e->n_fds; i++)
                e->fds[i].revents = 0;
        rt_db_pipeline_process(e->pipeline, e->fds);
    }
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
    e->pipeline = rt_db_pipeline_create(sessions, n_sessions, wake, e);
    e->fds = calloc(rt_db_pipeline_sessions(e->pipeline) + 1, sizeof *e->fds);
    if (!e->all || !e->fds)
        abort();
    e->wake = rt_cq_wake_create(cq);
    e->watch = rt_db_watch_create(rt_db_pipeline_sessions(e->pipeline), e->wake);
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
    call_class *q = &e->classes[class];
    bool room = q->queued + q->running < e->limits.max_calls + e->limits.max_queued;
    if (!room) {
        rt_metrics_admission_refused(class, true);
        return false;
    }
    if (q->tail)
        q->tail->next_free = call;
    else
        q->head = call;
    q->tail = call;
    q->queued++;
    if (gpr_time_cmp(call->give_up, e->next_give_up) < 0)
        e->next_give_up = call->give_up;
    return true;
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
    rt_fiber_yield(); /* until the loop takes w's completion off the queue (complete_wait) */
    return w->success;
}

rt_db *rt_task_db(rt_task *task)
{
    return task->db;
}

void rt_executor_stop_background(rt_executor *e)
{
    atomic_store(&e->background_stopped, true);
}

void rt_executor_destroy(rt_executor *e)
{
    if (!e)
        return;
    rt_db_watch_destroy(e->watch);
    rt_cq_wake_destroy(e->wake);
    for (size_t i = 0; i < e->n_slots; i++) {
        rt_fiber_destroy(e->all[i]->fiber);
        rt_db_close(e->all[i]->ctx.db);
        free(e->all[i]);
    }
    free(e->all);
    free(e->fds);
    rt_db_pipeline_destroy(e->pipeline);
    free(e);
}
