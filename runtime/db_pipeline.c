/* Pipelined sessions (db_pipeline.h). Each session keeps a FIFO of the
 * fibers whose statements it carries, in the order sent, because results
 * come back in that order; a Sync ends each transaction (one read, or a
 * group of writes). Results are read only when poll says the socket is
 * readable, so the thread never blocks on the database.
 *
 * Failure handling mirrors the blocking path in db.c: a broken session is
 * reconnected and its reads retried once, writes answer UNAVAILABLE
 * (whether they committed is unknown); a deadline cancels the statement
 * running on the session. A cancel can land on the statement after the
 * intended one when that one finished first; such a statement was rolled
 * back, so it is simply sent again. */
#include "db_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "db_session.h"
#include "deadline.h"
#include "log.h"

/* Poll at least this often while statements are out, to notice
 * rt_db_interrupt_all and cancels that never come back. */
#define RT_PIPE_SLICE_MS 200
/* A cancelled statement that has not reported back by then means the
 * session is broken. */
#define RT_PIPE_CANCEL_GRACE_MS 5000

/* One statement in flight; lives on its fiber's stack while it waits. */
typedef struct waiter {
    struct waiter *next;
    rt_fiber *fiber;
    const rt_db_statement *stmt;
    const char *const *params;
    gpr_timespec deadline;
    grpc_status_code cancelled_as; /* OK until a cancel was sent for it */
    gpr_timespec cancelled_at;
    bool retried;
    bool solo;       /* its group failed: it goes alone from now on */
    bool ends_group; /* the Sync follows it */
    bool grouped;    /* sent by send_pending (counted in writes_out) */
    bool done;       /* finished while its own fiber was running: not woken */
    PGresult *first; /* its first result, while the Sync is awaited */
    PGresult *result;
    rt_status status;
} waiter;

typedef struct {
    rt_db *db;
    waiter *head, *tail;
    size_t count;
    bool want_write;  /* libpq holds output the socket did not take */
    bool ready;       /* opened (see rt_db_opened) and set up for pipelining */
    bool group_error; /* an error came for the head group beyond its statements' */
    size_t writes_out; /* groups from send_pending in flight (reads may share it) */
} session;

struct rt_db_pipeline {
    session *sessions;
    size_t n;
    waiter *ready, *ready_tail;     /* finished, their fibers not yet woken */
    waiter *pending, *pending_tail; /* writes waiting for the writer session */
    rt_db_wake_fn wake;
    void *ctx;
};

/* Pipeline mode with a non-blocking socket; a reconnect leaves both. */
static bool setup(session *s)
{
    PGconn *conn = rt_db_conn(s->db);
    if (PQstatus(conn) != CONNECTION_OK)
        return false;
    if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(conn))
        return false;
    return PQsetnonblocking(conn, 1) == 0;
}

/* Whether the session can carry statements yet: one opened in the
 * background is set up by the first look after it opened. */
static bool usable(session *s)
{
    if (!s->ready && rt_db_opened(s->db)) {
        s->ready = true;
        /* A session that failed to open was logged as such; it reconnects
         * when needed like a broken one. */
        if (!setup(s) && PQstatus(rt_db_conn(s->db)) == CONNECTION_OK)
            rt_log(RT_LOG_WARN, "a database session cannot enter pipeline mode: it reconnects when needed");
    }
    return s->ready;
}

/* Blocking, as db.c's reconnect is: a broken session is rare and its
 * fibers have nothing else to wait for. */
static bool reopen(session *s)
{
    PGconn *conn = rt_db_conn(s->db);
    if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF)
        PQsetnonblocking(conn, 0);
    return rt_db_reconnect(s->db) && setup(s);
}

rt_db_pipeline *rt_db_pipeline_create(rt_db **sessions, size_t n, rt_db_wake_fn wake, void *ctx)
{
    rt_db_pipeline *p = calloc(1, sizeof *p);
    if (!p || !(p->sessions = calloc(n, sizeof *p->sessions)))
        abort();
    p->n = n;
    p->wake = wake;
    p->ctx = ctx;
    for (size_t i = 0; i < n; i++)
        p->sessions[i].db = sessions[i];
    return p;
}

void rt_db_pipeline_destroy(rt_db_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->sessions[i].ready)
            continue;
        PGconn *conn = rt_db_conn(p->sessions[i].db);
        if (PQstatus(conn) == CONNECTION_OK) {
            PQsetnonblocking(conn, 0);
            PQexitPipelineMode(conn);
        }
    }
    free(p->sessions);
    free(p);
}

size_t rt_db_pipeline_sessions(const rt_db_pipeline *p)
{
    return p->n;
}

/* Appends w to the list head..tail (ready, pending, a session's FIFO). */
static void append(waiter **head, waiter **tail, waiter *w)
{
    w->next = NULL;
    if (*tail)
        (*tail)->next = w;
    else
        *head = w;
    *tail = w;
}

static void finish(rt_db_pipeline *p, waiter *w, rt_status status)
{
    w->status = status;
    w->next = NULL;
    if (w->fiber == rt_fiber_self()) {
        w->done = true;
        return;
    }
    append(&p->ready, &p->ready_tail, w);
}

static rt_status unavailable(void)
{
    return rt_status_of(GRPC_STATUS_UNAVAILABLE, "database unavailable");
}

static void enqueue(session *s, waiter *w)
{
    append(&s->head, &s->tail, w);
    s->count++;
}

static waiter *dequeue(session *s)
{
    waiter *w = s->head;
    s->head = w->next;
    if (!s->head)
        s->tail = NULL;
    s->count--;
    w->next = NULL;
    return w;
}

/* Sends a chain of waiters (linked through next) as one transaction: their
 * statements, then one Sync. False when the session broke; then none of
 * them is queued on it. */
static bool send_group(session *s, waiter *chain)
{
    PGconn *conn = rt_db_conn(s->db);
    if (PQstatus(conn) != CONNECTION_OK)
        return false;
    for (waiter *w = chain; w; w = w->next)
        if (!PQsendQueryPrepared(conn, w->stmt->name, w->stmt->n_params, w->params, NULL, NULL, 0))
            return false;
    if (!PQpipelineSync(conn))
        return false;
    int flushed = PQflush(conn);
    s->want_write = flushed == 1;
    if (flushed < 0)
        return false;
    while (chain) {
        waiter *w = chain;
        chain = w->next;
        w->first = NULL;
        w->cancelled_as = GRPC_STATUS_OK;
        w->ends_group = !chain;
        enqueue(s, w);
    }
    return true;
}

static bool send_on(session *s, waiter *w)
{
    w->next = NULL;
    return send_group(s, w);
}

/* The healthy session carrying the fewest statements (reads leave the
 * writer session to writes when there are others); when none is healthy,
 * one reconnected on the spot (or NULL). */
static session *pick(rt_db_pipeline *p, bool read)
{
    session *best = NULL;
    for (int pass = 0; pass < 2 && !best; pass++) /* the writer only when no other is there */
        for (size_t i = pass == 0 && read && p->n > 1 ? 1 : 0; i < p->n; i++) {
            session *s = &p->sessions[i];
            if (usable(s) && PQstatus(rt_db_conn(s->db)) == CONNECTION_OK && (!best || s->count < best->count))
                best = s;
        }
    for (size_t i = 0; !best && i < p->n; i++) {
        session *s = &p->sessions[i];
        if (s->ready && s->count == 0 && PQstatus(rt_db_conn(s->db)) != CONNECTION_OK && reopen(s))
            best = s;
    }
    return best;
}

static void session_broken(rt_db_pipeline *p, session *s);
static void submit(rt_db_pipeline *p, waiter *w);

/* Group commit. Writes share one session, the writer: when it is idle a
 * write goes at once; while a transaction is out on it, the writes that
 * arrive wait here, then go together as the next transaction, so one
 * commit (one WAL flush) serves them all. Each is still acknowledged only
 * after that commit, and a group that fails is undone whole and its
 * statements sent again alone (see group_done), so no request's outcome
 * depends on another's. One writer also means this daemon's transactions
 * never wait on each other's row locks. */
#define RT_PIPE_GROUP_MAX 64

static session *writer(rt_db_pipeline *p)
{
    session *s = &p->sessions[0];
    return usable(s) && PQstatus(rt_db_conn(s->db)) == CONNECTION_OK ? s : NULL;
}

/* Sends the waiting writes, up to RT_PIPE_GROUP_MAX, as one transaction on
 * the writer session once no other write transaction is out on it. Those
 * whose deadline passed while they waited answer DEADLINE_EXCEEDED
 * unsent, so nothing of theirs ever commits. */
static void send_pending(rt_db_pipeline *p)
{
    session *s = writer(p);
    if (s && s->writes_out > 0)
        return;
    waiter *chain = NULL, *last = NULL;
    for (size_t n = 0; n < RT_PIPE_GROUP_MAX && p->pending;) {
        waiter *w = p->pending;
        p->pending = w->next;
        if (!p->pending)
            p->pending_tail = NULL;
        if (rt_deadline_passed(w->deadline)) {
            finish(p, w, rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded"));
        } else {
            append(&chain, &last, w);
            n++;
        }
    }
    if (!chain)
        return;
    if (!s) { /* the writer is gone: nothing was sent, each goes alone */
        while (chain) {
            waiter *w = chain;
            chain = w->next;
            w->solo = true;
            submit(p, w);
        }
        return;
    }
    for (waiter *w = chain; w; w = w->next)
        w->grouped = true;
    if (send_group(s, chain)) {
        s->writes_out++;
        return;
    }
    session_broken(p, s);
    while (chain) { /* writes: whether the server saw them is unknown */
        waiter *w = chain;
        chain = w->next;
        finish(p, w, unavailable());
    }
}

/* Sends w on the best session; w finishes UNAVAILABLE when none takes it. */
static void submit(rt_db_pipeline *p, waiter *w)
{
    w->grouped = false; /* until send_pending sends it */
    if (!w->stmt->idempotent && !w->solo && writer(p)) {
        append(&p->pending, &p->pending_tail, w);
        send_pending(p);
        return;
    }
    session *s = pick(p, w->stmt->idempotent);
    if (!s) {
        finish(p, w, unavailable());
        return;
    }
    if (send_on(s, w))
        return;
    /* The send itself failed: the statement may have reached the server. */
    session_broken(p, s);
    if (w->stmt->idempotent && !w->retried && (s = pick(p, true))) {
        w->retried = true;
        if (send_on(s, w))
            return;
    }
    finish(p, w, unavailable());
}

/* The connection failed under its statements: reconnect, send the reads
 * again once, and answer the rest UNAVAILABLE. */
static void session_broken(rt_db_pipeline *p, session *s)
{
    waiter *lost = s->head;
    s->head = s->tail = NULL;
    s->count = 0;
    s->want_write = false;
    s->group_error = false;
    s->writes_out = 0;
    if (lost)
        rt_log(RT_LOG_ERROR, "database connection lost during statement %s", lost->stmt->name);
    rt_db_mark_lost(s->db);
    bool reopened = !rt_db_interrupted() && reopen(s);
    while (lost) {
        waiter *w = lost;
        lost = w->next;
        PQclear(w->first);
        w->first = NULL;
        if (reopened && w->stmt->idempotent && !w->retried) {
            w->retried = true;
            if (send_on(s, w))
                continue;
        }
        finish(p, w, unavailable());
    }
}

rt_status rt_db_pipeline_exec(rt_db_pipeline *p, gpr_timespec deadline, const rt_db_statement *stmt,
                              const char *const *params, PGresult **result)
{
    *result = NULL;
    if (rt_db_interrupted())
        return rt_status_of(GRPC_STATUS_CANCELLED, "server shutting down");
    if (rt_deadline_passed(deadline))
        return rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
    waiter w = {.fiber = rt_fiber_self(), .stmt = stmt, .params = params, .deadline = deadline};
    submit(p, &w);
    if (!w.done) /* until rt_db_pipeline_process wakes it */
        rt_fiber_yield();
    *result = w.result;
    return w.status;
}

static bool is_sqlstate(const PGresult *res, const char *code)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state && strcmp(state, code) == 0;
}

/* Settles one statement of a finished transaction by its own result. */
static void settle(rt_db_pipeline *p, session *s, waiter *w, bool alone)
{
    PGresult *first = w->first;
    w->first = NULL;
    if (w->cancelled_as == GRPC_STATUS_OK && is_sqlstate(first, "57014") && !rt_db_interrupted() &&
        !rt_deadline_passed(w->deadline)) {
        PQclear(first); /* hit by the cancel meant for the statement before it */
        submit(p, w);
        return;
    }
    rt_status status;
    if (rt_db_take_result(s->db, w->stmt, first, w->cancelled_as, &w->result, &status) == RT_DB_BROKEN) {
        if (!alone) { /* a write: whether its group committed is unknown */
            finish(p, w, unavailable());
            return;
        }
        w->next = s->head; /* it shares the fate of those behind it */
        s->head = w;
        if (!s->tail)
            s->tail = w;
        s->count++;
        session_broken(p, s);
        return;
    }
    finish(p, w, status);
}

static bool succeeded(const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* The Sync of the head transaction arrived: it committed, or it was rolled
 * back whole. Committed, each statement is settled by its own result, as
 * is a statement alone whose own result is the error. Otherwise nothing
 * committed, whatever a statement's own result said (a later statement, a
 * cancel or the commit itself failed): every statement is sent again
 * alone, the failed one too, as its error may have come from another
 * member's effect that the rollback undid. Those a cancel was meant for,
 * or whose deadline passed meanwhile, answer DEADLINE_EXCEEDED (CANCELLED
 * when stopping) instead. */
static void group_done(rt_db_pipeline *p, session *s)
{
    waiter *chain = NULL, *tail = NULL;
    for (bool last = false; !last;) {
        waiter *w = dequeue(s);
        last = w->ends_group;
        append(&chain, &tail, w);
    }
    bool failed = s->group_error;
    s->group_error = false;
    if (chain->grouped)
        s->writes_out--;
    for (waiter *w = chain; w && !failed; w = w->next)
        failed = !succeeded(w->first);
    bool alone = !chain->next;
    while (chain) {
        waiter *w = chain;
        chain = w->next;
        w->next = NULL;
        if (!failed || (alone && !succeeded(w->first))) {
            settle(p, s, w, alone); /* committed, or alone with its own error */
            continue;
        }
        /* Rolled back: whatever its own result said, nothing of it committed. */
        PQclear(w->first);
        w->first = NULL;
        if (w->cancelled_as != GRPC_STATUS_OK)
            finish(p, w, w->cancelled_as == GRPC_STATUS_CANCELLED
                             ? rt_status_of(GRPC_STATUS_CANCELLED, "server shutting down")
                             : rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded"));
        else if (rt_deadline_passed(w->deadline))
            finish(p, w, rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded"));
        else {
            w->solo = true;
            submit(p, w);
        }
    }
}

/* The statement of the head transaction still waiting for its result. */
static waiter *awaiting_result(session *s)
{
    for (waiter *w = s->head; w; w = w->ends_group ? NULL : w->next)
        if (!w->first)
            return w;
    return NULL;
}

/* Reads what arrived and completes statements whose Sync came back. */
static void session_read(rt_db_pipeline *p, session *s)
{
    PGconn *conn = rt_db_conn(s->db);
    if (!PQconsumeInput(conn)) {
        session_broken(p, s);
        return;
    }
    int nulls = 0; /* a NULL ends each statement's results; two: nothing more */
    while (s->head && !PQisBusy(conn)) {
        PGresult *res = PQgetResult(conn);
        if (!res) {
            if (++nulls > 1)
                break;
            continue;
        }
        nulls = 0;
        waiter *w;
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            group_done(p, s);
        } else if ((w = awaiting_result(s))) {
            w->first = res;
        } else { /* e.g. the commit at the Sync failed */
            s->group_error = s->group_error || PQresultStatus(res) == PGRES_FATAL_ERROR;
            PQclear(res);
        }
    }
    if (PQstatus(conn) == CONNECTION_BAD)
        session_broken(p, s);
    else if (s == &p->sessions[0])
        send_pending(p);
}

/* Cancels the running statement once its call's deadline passed or the
 * daemon is stopping; a cancel unanswered past the grace means the
 * session is gone. Returns ms until this session needs a look again. */
static int watch_head(rt_db_pipeline *p, session *s)
{
    waiter *w = s->head;
    if (!w)
        return -1;
    if (w->cancelled_as == GRPC_STATUS_OK) {
        bool interrupted = rt_db_interrupted();
        if (interrupted || rt_deadline_passed(w->deadline)) {
            rt_db_cancel(s->db);
            w->cancelled_as = interrupted ? GRPC_STATUS_CANCELLED : GRPC_STATUS_DEADLINE_EXCEEDED;
            w->cancelled_at = gpr_now(GPR_CLOCK_MONOTONIC);
            return RT_PIPE_SLICE_MS;
        }
        return (int)rt_deadline_ms_left(w->deadline, RT_PIPE_SLICE_MS);
    }
    if (rt_elapsed_ms(w->cancelled_at) > RT_PIPE_CANCEL_GRACE_MS) {
        session_broken(p, s);
        return 0;
    }
    return RT_PIPE_SLICE_MS;
}

void rt_db_pipeline_poll_setup(rt_db_pipeline *p, struct pollfd *fds, size_t *n_fds, int *timeout_ms)
{
    send_pending(p); /* the writer may have become idle or broken meanwhile */
    for (size_t i = 0; i < p->n; i++) {
        session *s = &p->sessions[i];
        int wait = watch_head(p, s);
        if (wait >= 0 && (*timeout_ms < 0 || wait < *timeout_ms))
            *timeout_ms = wait;
        short events = (short)((s->count ? POLLIN : 0) | (s->want_write ? POLLOUT : 0));
        fds[i] = (struct pollfd){.fd = events ? PQsocket(rt_db_conn(s->db)) : -1, .events = events};
    }
    *n_fds = p->n;
    if (p->ready) /* statements finished meanwhile (retries that failed) */
        *timeout_ms = 0;
}

void rt_db_pipeline_process(rt_db_pipeline *p, const struct pollfd *fds)
{
    for (size_t i = 0; i < p->n; i++) {
        session *s = &p->sessions[i];
        if (fds[i].fd < 0 || !fds[i].revents)
            continue;
        if (fds[i].revents & POLLOUT) {
            int flushed = PQflush(rt_db_conn(s->db));
            s->want_write = flushed == 1;
            if (flushed < 0) {
                session_broken(p, s);
                continue;
            }
        }
        if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
            session_read(p, s);
    }
    while (p->ready) {
        waiter *w = p->ready;
        p->ready = w->next;
        if (!p->ready)
            p->ready_tail = NULL;
        p->wake(p->ctx, w->fiber); /* w is gone once its fiber runs */
    }
}
