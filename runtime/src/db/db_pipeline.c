/* Pipelined sessions (db_pipeline.h). Each session keeps a FIFO of the
 * statements it carries, in the order sent, because results come back in
 * that order; a Sync ends each transaction (a share of the reads one pass
 * of the loop submitted, send_reads, or a group of writes). Results are
 * read only when poll says the socket is readable.
 *
 * A statement in flight is a heap `waiter`; the fiber waits on a `ticket`
 * on its own stack. The two part when the call is answered before the
 * server answers (its deadline, a shutdown): the waiter stays in the FIFO
 * without a ticket until its result comes, and is cancelled on the server
 * once it is the one running. Writes whose caller was answered before
 * they were sent (its deadline passed, or it cancelled the call) are
 * never sent; a write sent before its caller cancelled may commit all the
 * same, and says so (cancelled_in_flight).
 *
 * Lock order: the members of a group lock rows (and unique keys) in
 * their arrival order, so two groups on two replicas, [A, B] and [B, A],
 * could deadlock, stalling both writers until the server's deadlock check.
 * Each group therefore starts with rt_db_group_locks (db_locks.h): an
 * advisory lock per key its members lock (rt_db_statement.lock_params),
 * hashed, sorted and taken in that one global order. Two groups that touch
 * a common row share its key, so the later one waits at that key before
 * locking anything a member would; groups can only wait on each other in
 * key order, never in a cycle. A `lock` waiter carries the statement; it
 * has no caller.
 *
 * Row locks held elsewhere (another program's transaction): the same
 * statement sets the group's lock_timeout to RT_PIPE_MEMBER_LOCK_MS, so a
 * member waits that long at most, not the writer's whole lock_timeout
 * (DB_LOCK_TIMEOUT_MS) with every other member and every later write
 * waiting behind it. A member that times out so fails its group as any
 * failing member does (the others go again at once, without it) and is
 * handed to the lock waiter, a second writing session, which runs such
 * writes one at a time, each in its own transaction, with the lock wait it
 * has left: its answer is the one it would have had in its group, and the
 * writer goes on. Alone, it takes its keys in db_locks.h's second space,
 * so it never holds a lock a group waits for; it waits for row locks a
 * group holds at most as long as that group lasts, and the group for its
 * row locks at most RT_PIPE_MEMBER_LOCK_MS, so no wait between the two
 * lasts longer than that.
 *
 * Honest outcomes: a write is answered UNAVAILABLE only when it surely
 * did not commit (never sent, or the server reported its transaction
 * failed); when the connection is lost after it was sent and before its
 * commit was confirmed, see outcome_unknown; when its caller cancels after
 * it was sent, see cancelled_in_flight. */
#include "db_pipeline.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "db_cancel.h"
#include "db_control.h"
#include "db_locks.h"
#include "db_policy.h"
#include "db_result.h"
#include "deadline.h"
#include "log.h"
#include "metrics_runtime.h"


/* What a fiber waits on, on its own stack. */
typedef struct ticket {
    struct ticket *next; /* in the ready list */
    rt_fiber *fiber;
    PGresult *result;
    rt_status status;
    bool done; /* answered while its own fiber was running: not woken */
} ticket;

/* One statement, queued or in flight (heap: it may outlive its call). */
typedef struct waiter {
    struct waiter *next;
    ticket *ticket; /* NULL once its call was answered */
    const rt_db_statement *stmt;
    const char *const *params; /* valid while ticket is set */
    gpr_timespec deadline;
    PGresult *first; /* its result, while the Sync is awaited */
    int runs;        /* times sent */
    bool ends_group; /* the Sync follows it */
    bool cancelled;  /* a cancel was sent for it */
    bool patient;    /* waits for the database until its deadline (rt_db_set_patient) */
    const atomic_bool *gone; /* its caller cancelled (rt_db_set_cancelled); read while ticket is set */
    bool lock;       /* its transaction's locks (db_locks.h), for the members after it */
    char *lock_args[2]; /* lock: its parameters, owned */
    bool alone;      /* held up by a row lock in its group: runs on the lock waiter */
    int alone_lock_ms; /* alone: the lock wait it has left (0: no limit) */
} waiter;

typedef struct {
    rt_db_session *db;
    size_t index;
    waiter *head, *tail;
    size_t count;
    bool want_write;   /* libpq holds output the socket did not take */
    bool group_failed; /* an error came for the head group beyond its statements' */
    bool write_out;    /* the writer: a group of writes is in flight */
    bool stall_watch;  /* a cancel went out and nothing was read since */
    bool opened_before; /* by the loop: a later opening is a reconnect */
    bool executed;      /* the write group's statements all answered: its commit is awaited */
    gpr_timespec cancel_at;
    gpr_timespec executed_at; /* when executed became true */
} session;

struct rt_db_pipeline {
    session *sessions;
    size_t n;
    ticket *ready, *ready_tail;     /* answered, their fibers not yet woken */
    waiter *pending, *pending_tail; /* writes waiting for the writer */
    waiter *parked, *parked_tail;   /* reads waiting for a session to open */
    waiter *reads, *reads_tail;     /* reads submitted in this pass of the loop, not yet sent */
    size_t n_reads;
    waiter *alone, *alone_tail;     /* writes waiting for the lock waiter */
    session *lock_waiter;           /* RT_DB_LOCK_WAITER, or NULL: members wait in their group */
    int lock_timeout_ms;            /* the writer's: a write's whole lock wait (0: no limit) */
    bool down_reported;             /* "database unreachable" was logged */
    bool prepare_reported;          /* "cannot prepare" was logged */
    unsigned fd_epoch;              /* see rt_db_pipeline_fd_epoch */
    gpr_timespec down_since;
    rt_db_wake_fn wake;
    void *ctx;
};

static atomic_bool g_interrupted;

void rt_db_interrupt_all(void)
{
    atomic_store(&g_interrupted, true);
}

static bool interrupted(void)
{
    return atomic_load(&g_interrupted);
}

static rt_status unavailable(void)
{
    return rt_status_of(GRPC_STATUS_UNAVAILABLE, "database unavailable");
}

static rt_status deadline_exceeded(void)
{
    return rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
}

static rt_status shutting_down(void)
{
    return rt_status_of(GRPC_STATUS_CANCELLED, "server shutting down");
}

/* A statement whose caller cancelled before it was sent: never applied. */
static rt_status caller_cancelled(void)
{
    return rt_status_of(GRPC_STATUS_CANCELLED, "the caller cancelled");
}

/* The answer to a statement in flight whose caller cancelled. A write may
 * commit all the same: its group goes on for its other members' callers,
 * and a cancel sent to the server (to_cancel) may come once it ran, or end
 * only its commit's wait for the standby; so it says so, and the handler
 * may have to undo it (RT_DB_CANCELLED_AFTER_SEND, db.h). A read has
 * nothing to undo. */
static rt_status cancelled_in_flight(const waiter *w)
{
    return w->stmt->idempotent ? caller_cancelled() : rt_status_of(GRPC_STATUS_CANCELLED, RT_DB_CANCELLED_AFTER_SEND);
}

/* w's caller cancelled its call (only asked while w->ticket is set). */
static bool caller_gone(const waiter *w)
{
    return w->gone && atomic_load(w->gone);
}

static bool is_up(const session *s)
{
    return rt_db_session_state_of(s->db) == RT_DB_SESSION_UP;
}

static PGconn *conn_of(const session *s)
{
    return rt_db_session_conn(s->db);
}

static void append(waiter **head, waiter **tail, waiter *w)
{
    w->next = NULL;
    if (*tail)
        (*tail)->next = w;
    else
        *head = w;
    *tail = w;
}

static waiter *pop(waiter **head, waiter **tail)
{
    waiter *w = *head;
    if (w) {
        *head = w->next;
        if (!*head)
            *tail = NULL;
        w->next = NULL;
    }
    return w;
}

/* Gives w's caller its answer (res owned by it from now on); a waiter
 * whose caller was answered already just drops res. */
static void answer(rt_db_pipeline *p, waiter *w, rt_status status, PGresult *res)
{
    ticket *t = w->ticket;
    if (!t) {
        PQclear(res);
        return;
    }
    w->ticket = NULL;
    t->status = status;
    t->result = res;
    if (t->fiber == rt_fiber_self()) {
        t->done = true;
        return;
    }
    t->next = NULL;
    if (p->ready_tail)
        p->ready_tail->next = t;
    else
        p->ready = t;
    p->ready_tail = t;
}

static void free_waiter(waiter *w)
{
    free(w->lock_args[0]);
    free(w->lock_args[1]);
    free(w);
}

/* Answers a waiter that is in no session's FIFO and frees it. */
static void finish(rt_db_pipeline *p, waiter *w, rt_status status)
{
    answer(p, w, status, NULL);
    free_waiter(w);
}

/* A write was sent and the connection was lost before its commit was
 * confirmed: it may have committed. Answered DEADLINE_EXCEEDED ("may have
 * completed"), never UNAVAILABLE ("not applied, retry"), which a client
 * would retry into a double credit. The handlers settle the outcome by
 * the write's operation id (RT_DB_OUTCOME_UNKNOWN, db.h). */
static void outcome_unknown(rt_db_pipeline *p, waiter *w)
{
    rt_log(RT_LOG_WARN, "database connection lost after statement %s was sent: outcome unknown", w->stmt->name);
    finish(p, w, rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, RT_DB_OUTCOME_UNKNOWN));
}

typedef enum { SENT, NOT_SENT, MAYBE_SENT } send_outcome;

/* A write transaction: a group's locks or a write leads it. */
static bool writes(const waiter *chain)
{
    return chain->lock || !chain->stmt->idempotent;
}

/* Sends a chain of waiters (linked through next) as one transaction: their
 * statements, then one Sync; queued on the session when SENT. A write
 * group asks for its statements' results before the Sync (a Flush), so
 * they arrive before its commit and the commit's own wait is measured. */
static send_outcome send_chain(session *s, waiter *chain)
{
    PGconn *conn = conn_of(s);
    if (!is_up(s) || PQstatus(conn) != CONNECTION_OK)
        return NOT_SENT;
    for (waiter *w = chain; w; w = w->next)
        if (!PQsendQueryPrepared(conn, w->stmt->name, w->stmt->n_params, w->params, NULL, NULL, 0))
            return MAYBE_SENT;
    if (writes(chain) && !PQsendFlushRequest(conn))
        return MAYBE_SENT;
    if (!PQpipelineSync(conn))
        return MAYBE_SENT;
    int flushed = PQflush(conn);
    s->want_write = flushed == 1;
    if (flushed < 0)
        return MAYBE_SENT;
    while (chain) {
        waiter *w = chain;
        chain = w->next;
        w->first = NULL;
        w->cancelled = false;
        w->ends_group = !chain;
        w->runs++;
        append(&s->head, &s->tail, w);
        s->count++;
    }
    return SENT;
}

/* An open session other than the writer that reads may go to (the lock
 * waiter never takes them). */
static bool open_reader(const rt_db_pipeline *p, const session *s)
{
    return s != &p->sessions[0] && s != p->lock_waiter && is_up(s);
}

/* The open session carrying the fewest statements; reads leave the
 * writer to writes when another is open. */
static session *pick_read(rt_db_pipeline *p)
{
    session *best = NULL;
    for (size_t i = 1; i < p->n; i++) {
        session *s = &p->sessions[i];
        if (open_reader(p, s) && (!best || s->count < best->count))
            best = s;
    }
    return best ? best : is_up(&p->sessions[0]) ? &p->sessions[0] : NULL;
}

static void lose(rt_db_pipeline *p, session *s);
static void send_pending(rt_db_pipeline *p);

/* True while s cannot take a statement and its last attempt failed:
 * nothing can be sent on it before its next backoff step. */
static bool backing_off(const session *s)
{
    return rt_db_session_backing_off(s->db);
}

static bool all_backing_off(const rt_db_pipeline *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (!backing_off(&p->sessions[i]))
            return false;
    return true;
}

/* Whether w may wait for s: patient, or s opening or trying again before
 * w's deadline. A call waits for at most that one attempt (when it fails,
 * session_failed answers UNAVAILABLE); waiting calls never bring an
 * attempt forward (db_session.h). */
static bool may_wait(const waiter *w, const session *s)
{
    return w->patient || rt_db_session_attempt_by(s->db, w->deadline);
}

/* A read with no open session waits for one that will open in time;
 * otherwise it is answered UNAVAILABLE at once: the database was
 * unreachable at the last attempt of every session. */
static void park(rt_db_pipeline *p, waiter *w)
{
    for (size_t i = 0; i < p->n; i++)
        if (may_wait(w, &p->sessions[i])) {
            append(&p->parked, &p->parked_tail, w);
            return;
        }
    finish(p, w, unavailable());
}

/* Puts chain (linked through next, ending at tail) in front of a queue. */
static void push_front(waiter **head, waiter **tail, waiter *chain, waiter *chain_tail)
{
    chain_tail->next = *head;
    if (!*head)
        *tail = chain_tail;
    *head = chain;
}

/* Takes w: a write joins the writer's next group; a read waits for the
 * end of this pass of the loop (send_reads). */
static void submit(rt_db_pipeline *p, waiter *w)
{
    if (!w->stmt->idempotent) {
        append(&p->pending, &p->pending_tail, w);
        send_pending(p);
        return;
    }
    append(&p->reads, &p->reads_tail, w);
    p->n_reads++;
}

/* The sessions reads may go to (pick_read's choice). */
static size_t read_sessions(const rt_db_pipeline *p)
{
    size_t n = 0;
    for (size_t i = 1; i < p->n; i++)
        n += open_reader(p, &p->sessions[i]);
    return n ? n : is_up(&p->sessions[0]);
}

/* Sends the reads this pass submitted, an equal share to each read session
 * (the least loaded first), each share as one transaction: its statements
 * and one Sync. libpq 15 writes to the socket at every Sync, so one Sync per
 * read cost a send(2) per call and woke a backend per call; a pass's reads
 * go in one write per session instead, and wait at most for the rest of
 * the pass. A read rolled back with its share through no fault of its own
 * goes again (group_done), as one lost with its session does (lose). With
 * no open session, the reads wait for one (park). */
static void send_reads(rt_db_pipeline *p)
{
    while (p->reads) {
        session *s = pick_read(p);
        if (!s) {
            for (waiter *w; (w = pop(&p->reads, &p->reads_tail));)
                park(p, w);
            p->n_reads = 0;
            return;
        }
        size_t k = read_sessions(p), share = (p->n_reads + k - 1) / k;
        waiter *chain = NULL, *last = NULL;
        size_t taken = 0;
        for (; taken < share && p->reads; taken++)
            append(&chain, &last, pop(&p->reads, &p->reads_tail));
        p->n_reads -= taken;
        if (send_chain(s, chain) == SENT)
            continue;
        p->n_reads += taken; /* back in front, in their order; s is down now */
        push_front(&p->reads, &p->reads_tail, chain, last);
        lose(p, s); /* a read may go again: nothing of it took effect */
    }
}

/* Puts writes rolled back through no fault of their own (a chain) before
 * every newer write of their queue, in their order, and reads back in the
 * queue. */
static void rerun(rt_db_pipeline *p, waiter *chain)
{
    waiter *writes = NULL, *writes_tail = NULL, *alone = NULL, *alone_tail = NULL;
    while (chain) {
        waiter *w = chain;
        chain = w->next;
        if (w->stmt->idempotent)
            submit(p, w);
        else if (w->alone)
            append(&alone, &alone_tail, w);
        else
            append(&writes, &writes_tail, w);
    }
    if (writes)
        push_front(&p->pending, &p->pending_tail, writes, writes_tail);
    if (alone)
        push_front(&p->alone, &p->alone_tail, alone, alone_tail);
    if (writes || alone)
        send_pending(p);
}

/* How long a member of a group waits for a lock: RT_PIPE_MEMBER_LOCK_MS,
 * or the whole lock_timeout when that is no longer or there is no lock
 * waiter to hand a held-up member to. */
static int member_lock_ms(const rt_db_pipeline *p)
{
    int all = p->lock_timeout_ms;
    if (!p->lock_waiter || (all > 0 && all <= RT_PIPE_MEMBER_LOCK_MS))
        return all;
    return RT_PIPE_MEMBER_LOCK_MS;
}

/* The waiter that starts a transaction of writes (chain): it takes the
 * locks of their keys in ascending order and sets the lock_timeout of the
 * statements after it (see the file comment); alone: one write on the
 * lock waiter, with the lock wait it has left. */
static waiter *transaction_locks(const rt_db_pipeline *p, const waiter *chain, bool alone)
{
    rt_db_lock_set set = {0};
    for (const waiter *w = chain; w; w = w->next)
        rt_db_lock_set_add(&set, w->stmt, w->params);
    waiter *lock = calloc(1, sizeof *lock);
    char *ms = malloc(12);
    if (!lock || !ms)
        abort();
    snprintf(ms, 12, "%d", alone ? chain->alone_lock_ms : member_lock_ms(p));
    *lock = (waiter){.stmt = alone ? &rt_db_alone_locks : &rt_db_group_locks, .lock = true,
                     .lock_args = {rt_db_lock_set_take(&set), ms}};
    lock->params = (const char *const *)lock->lock_args;
    return lock;
}

/* Answers UNAVAILABLE (none of them was sent) the waiting statements that
 * are not patient, after an attempt to open failed; with until, only those
 * that cannot wait for until's next attempt. */
static void refuse_impatient(rt_db_pipeline *p, waiter **head, waiter **tail, const session *until)
{
    waiter *keep = NULL, *keep_tail = NULL;
    for (waiter *w; (w = pop(head, tail));) {
        if (w->patient || (until && may_wait(w, until)))
            append(&keep, &keep_tail, w);
        else
            finish(p, w, unavailable());
    }
    *head = keep;
    *tail = keep_tail;
}

/* Sends the writes waiting in a queue, up to max, as one transaction on
 * s once no other write transaction is out on it. While s is down, they
 * wait for its next attempt if it comes before their deadline. */
static void send_writes(rt_db_pipeline *p, session *s, waiter **head, waiter **tail, size_t max)
{
    if (!*head)
        return;
    if (!is_up(s)) {
        refuse_impatient(p, head, tail, s);
        return;
    }
    if (s->write_out)
        return;
    waiter *chain = NULL, *last = NULL;
    size_t n = 0;
    for (; n < max && *head; n++)
        append(&chain, &last, pop(head, tail));
    waiter *lock = transaction_locks(p, chain, s == p->lock_waiter);
    lock->next = chain;
    send_outcome sent = send_chain(s, lock);
    if (sent == SENT) {
        s->write_out = true;
        if (s != p->lock_waiter)
            rt_metrics_db_group(n);
        return;
    }
    free_waiter(lock);
    lose(p, s);
    if (sent == NOT_SENT) { /* back in front, in their order: patient ones wait for the reconnect */
        push_front(head, tail, chain, last);
        refuse_impatient(p, head, tail, s);
        return;
    }
    while (chain) {
        waiter *w = chain;
        chain = w->next;
        outcome_unknown(p, w);
    }
}

/* Waiting writes that lock a key of a write on the lock waiter (queued or
 * running) go there too, behind it, with their whole lock wait: in a group
 * they would wait RT_PIPE_MEMBER_LOCK_MS for the same row, holding up the
 * group, then follow it there anyway. */
static void follow_to_lock_waiter(rt_db_pipeline *p)
{
    session *lw = p->lock_waiter;
    if (!lw || !p->pending || (!p->alone && !lw->head) || member_lock_ms(p) == p->lock_timeout_ms)
        return;
    rt_db_lock_set held = {0};
    for (waiter *w = lw->head; w; w = w->next)
        if (w->ticket) /* params are valid only while it is */
            rt_db_lock_set_add(&held, w->stmt, w->params);
    for (waiter *w = p->alone; w; w = w->next)
        if (w->ticket)
            rt_db_lock_set_add(&held, w->stmt, w->params);
    waiter *keep = NULL, *keep_tail = NULL;
    for (waiter *w; (w = pop(&p->pending, &p->pending_tail));) {
        if (!w->ticket || !rt_db_lock_set_shares(&held, w->stmt, w->params)) {
            append(&keep, &keep_tail, w);
            continue;
        }
        w->alone = true;
        w->alone_lock_ms = p->lock_timeout_ms;
        append(&p->alone, &p->alone_tail, w);
    }
    p->pending = keep;
    p->pending_tail = keep_tail;
    rt_db_lock_set_clear(&held);
}

/* Groups of waiting writes go to the writer, up to RT_PIPE_GROUP_MAX at a
 * time; writes held up by a row lock to the lock waiter, one at a time. */
static void send_pending(rt_db_pipeline *p)
{
    follow_to_lock_waiter(p);
    send_writes(p, &p->sessions[0], &p->pending, &p->pending_tail, RT_PIPE_GROUP_MAX);
    if (p->lock_waiter)
        send_writes(p, p->lock_waiter, &p->alone, &p->alone_tail, 1);
}

/* Opened, failed or lost sessions: one log line per change of the
 * database's state (not per session attempt, not per call). */
static size_t sessions_up(const rt_db_pipeline *p)
{
    size_t up = 0;
    for (size_t i = 0; i < p->n; i++)
        up += is_up(&p->sessions[i]);
    return up;
}

static void session_opened(rt_db_pipeline *p, session *s)
{
    if (p->down_reported)
        rt_log(RT_LOG_INFO, "database reachable again after %.0f ms", rt_elapsed_ms(p->down_since));
    if (p->prepare_reported)
        rt_log(RT_LOG_INFO, "database statements prepare again: serving");
    p->down_reported = p->prepare_reported = false;
    rt_log(RT_LOG_DEBUG, "database session %zu open", s->index);
    if (s->opened_before || s->index == 0) /* the writer opened first before serving */
        rt_metrics_db_reconnected();
    s->opened_before = true;
    waiter *parked = p->parked;
    p->parked = p->parked_tail = NULL;
    rerun(p, parked);
    send_pending(p);
}

static void session_failed(rt_db_pipeline *p, session *s)
{
    bool prepare_failed;
    const char *why = rt_db_session_failure(s->db, &prepare_failed);
    if (prepare_failed && !p->prepare_reported) {
        rt_log(RT_LOG_ERROR, "%s: NOT_SERVING until the statements prepare", why ? why : "cannot prepare");
        p->prepare_reported = true;
    } else if (!prepare_failed && !p->down_reported && sessions_up(p) == 0) {
        rt_log(RT_LOG_WARN, "database unreachable (%s): calls answer UNAVAILABLE, reconnecting with backoff",
               why ? why : "?");
        p->down_reported = true;
        p->down_since = gpr_now(GPR_CLOCK_MONOTONIC);
    }
    if (s->index == 0)
        refuse_impatient(p, &p->pending, &p->pending_tail, NULL);
    else if (s == p->lock_waiter)
        refuse_impatient(p, &p->alone, &p->alone_tail, NULL);
    if (all_backing_off(p))
        refuse_impatient(p, &p->parked, &p->parked_tail, NULL);
}

/* The connection failed under its statements: the session reopens; reads
 * go again, writes get their honest outcome (see the file comment). */
static void lose(rt_db_pipeline *p, session *s)
{
    waiter *lost = s->head;
    size_t count = s->count;
    s->head = s->tail = NULL;
    s->count = 0;
    s->want_write = s->group_failed = s->write_out = s->stall_watch = s->executed = false;
    rt_db_session_lost(s->db);
    const char *why = rt_db_session_failure(s->db, NULL);
    rt_log(RT_LOG_WARN, "database session %zu lost with %zu statements in flight (%s): reconnecting", s->index,
           count, why ? why : "?");
    waiter *again = NULL, *again_tail = NULL;
    while (lost) {
        waiter *group = lost, *end = lost;
        while (!end->ends_group && end->next)
            end = end->next;
        lost = end->next;
        end->next = NULL;
        bool failed_on_server = false; /* then the transaction did not commit */
        for (waiter *w = group; w; w = w->next)
            failed_on_server |= w->first && !rt_db_result_ok(w->first) && rt_db_result_from_server(w->first);
        while (group) {
            waiter *w = group;
            group = w->next;
            PQclear(w->first);
            w->first = NULL;
            if (!w->ticket)
                free_waiter(w);
            else if (w->stmt->idempotent && w->runs < RT_PIPE_MAX_RUNS)
                append(&again, &again_tail, w);
            else if (w->stmt->idempotent || failed_on_server)
                finish(p, w, unavailable());
            else
                outcome_unknown(p, w);
        }
    }
    rerun(p, again);
}

rt_status rt_db_pipeline_exec(rt_db_pipeline *p, gpr_timespec deadline, bool patient, const atomic_bool *gone,
                              const rt_db_statement *stmt, const char *const *params, PGresult **result)
{
    *result = NULL;
    if (interrupted())
        return shutting_down();
    if (rt_deadline_passed(deadline))
        return deadline_exceeded();
    ticket t = {.fiber = rt_fiber_self()};
    waiter *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    *w = (waiter){.ticket = &t, .stmt = stmt, .params = params, .deadline = deadline, .patient = patient,
                  .gone = gone};
    submit(p, w);
    if (!t.done) /* until rt_db_pipeline_process wakes it */
        rt_fiber_yield();
    *result = t.result;
    return t.status;
}

/* A "canceling statement" error on w that no cancel of ours meant for it. */
static bool own_cancel_misdirected(const session *s, const waiter *w)
{
    return !w->cancelled && s->cancel_at.tv_sec != 0 && rt_elapsed_ms(s->cancel_at) < RT_PIPE_OWN_CANCEL_MS;
}

/* w's transaction was rolled back through no fault of its own: its own
 * statement succeeded, was skipped after another's error, or was hit by a
 * cancel of ours meant for another statement. */
static bool innocent(const session *s, const waiter *w)
{
    const PGresult *res = w->first;
    if (!res || rt_db_result_ok(res) || PQresultStatus(res) == PGRES_PIPELINE_ABORTED)
        return true;
    return rt_db_result_is(res, "57014") && own_cancel_misdirected(s, w);
}

/* The answer to a statement that failed by itself with res (or whose
 * group could not take its locks). */
static rt_status failure_status(const session *s, const waiter *w, const PGresult *res)
{
    if (rt_db_result_is(res, "57014")) {
        rt_log(RT_LOG_WARN, "database statement %s cancelled by the server, not by this daemon "
                            "(statement_timeout?): answered, not retried", w->stmt->name);
        return rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "statement cancelled by the database");
    }
    return rt_db_result_status(w->stmt, res, conn_of(s));
}

/* A member of a group on the writer that waited RT_PIPE_MEMBER_LOCK_MS for
 * a lock and failed (res), when it has lock wait left: it goes to the lock
 * waiter with the rest (see the file comment). Its group was rolled back,
 * so nothing of it was applied. */
static bool hand_to_lock_waiter(rt_db_pipeline *p, const session *s, waiter *w, const PGresult *res)
{
    int all = p->lock_timeout_ms, waited = member_lock_ms(p);
    if (s->index != 0 || w->alone || !p->lock_waiter || !rt_db_result_is(res, "55P03") || waited == all)
        return false;
    rt_log(RT_LOG_INFO, "database write %s waited %d ms for a lock in its group: runs alone", w->stmt->name,
           waited);
    w->alone = true;
    w->alone_lock_ms = all == 0 ? 0 : all - waited;
    append(&p->alone, &p->alone_tail, w);
    return true;
}

/* The Sync of the head transaction arrived. Committed: each statement is
 * answered with its own result. Otherwise the one that failed is answered
 * with its error (or handed to the lock waiter), and the others, rolled
 * back with it, go again; when the transaction's locks could not be taken
 * (lock_timeout), every member is answered with that. */
static void group_done(rt_db_pipeline *p, session *s)
{
    waiter *chain = NULL, *tail = NULL;
    for (bool last = false; !last && s->head;) {
        waiter *w = pop(&s->head, &s->tail);
        s->count--;
        last = w->ends_group;
        append(&chain, &tail, w);
    }
    bool committed = !s->group_failed;
    s->group_failed = false;
    for (waiter *w = chain; w; w = w->next)
        committed = committed && rt_db_result_ok(w->first);
    if (writes(chain)) {
        s->write_out = false;
        if (committed && s->executed)
            rt_metrics_db_commit(rt_elapsed_ms(s->executed_at) / 1e3);
        s->executed = false;
    }
    waiter *lock = NULL;
    if (chain->lock) {
        lock = chain;
        chain = chain->next;
    }
    const PGresult *lock_error = lock && !committed && !innocent(s, lock) ? lock->first : NULL;
    /* When a member failed by itself, the group is smaller next time: the
     * others go again without limit. Otherwise (the commit failed, a
     * misdirected cancel) they might fail again alike: a few runs at most. */
    bool shrinks = false;
    for (waiter *w = chain; w && !committed; w = w->next)
        shrinks = shrinks || !innocent(s, w);
    waiter *again = NULL, *again_tail = NULL;
    while (chain) {
        waiter *w = chain;
        chain = w->next;
        w->next = NULL;
        PGresult *res = w->first;
        if (committed || !w->ticket) {
            w->first = NULL;
            answer(p, w, RT_OK, res);
            free_waiter(w);
            continue;
        }
        if (innocent(s, w) && !lock_error) {
            if (rt_db_result_is(res, "57014"))
                rt_log(RT_LOG_INFO, "database statement %s hit by a cancel meant for another: sent again",
                       w->stmt->name);
            w->first = NULL;
            PQclear(res);
            if (shrinks || w->runs < RT_PIPE_MAX_RUNS)
                append(&again, &again_tail, w);
            else
                finish(p, w, rt_status_of(GRPC_STATUS_ABORTED, "transaction conflict, retry"));
            continue;
        }
        bool own_error = !innocent(s, w);
        w->first = NULL;
        if (own_error && hand_to_lock_waiter(p, s, w, res)) {
            PQclear(res);
            continue;
        }
        rt_status status = failure_status(s, w, own_error ? res : lock_error);
        PQclear(res);
        finish(p, w, status);
    }
    if (lock) {
        PQclear(lock->first);
        free_waiter(lock);
    }
    rerun(p, again);
}

/* The statement of the head transaction still waiting for its result:
 * the one the server is running, or one after it in the same group (the
 * server sends a group's results only at its Flush or Sync, send_chain):
 * a cancel meant for a finished member then lands on a later one, which
 * goes again (see own_cancel_misdirected). NULL once they all answered. */
static waiter *awaited(session *s)
{
    for (waiter *w = s->head; w; w = w->ends_group ? NULL : w->next)
        if (!w->first)
            return w;
    return NULL;
}

/* Reads what arrived and completes transactions whose Sync came back; an
 * idle session is read too, so a server that closes it (a restart) is
 * noticed before a write is sent on it. */
static void session_read(rt_db_pipeline *p, session *s)
{
    if (!PQconsumeInput(conn_of(s))) {
        lose(p, s);
        return;
    }
    s->stall_watch = false;
    int nulls = 0; /* a NULL ends each statement's results; two: nothing more */
    while (is_up(s) && s->head && !PQisBusy(conn_of(s))) {
        PGresult *res = PQgetResult(conn_of(s));
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
        } else if ((w = awaited(s))) {
            w->first = res;
            if (w->ends_group && writes(s->head)) {
                s->executed = true;
                s->executed_at = gpr_now(GPR_CLOCK_MONOTONIC);
            }
        } else { /* e.g. the commit at the Sync failed */
            s->group_failed = s->group_failed || PQresultStatus(res) == PGRES_FATAL_ERROR;
            PQclear(res);
        }
    }
    if (is_up(s) && PQstatus(conn_of(s)) == CONNECTION_BAD)
        lose(p, s);
    else if (s->index == 0 || s == p->lock_waiter)
        send_pending(p);
}

/* The earlier of *next and t. */
static void sooner(gpr_timespec *next, gpr_timespec t)
{
    if (gpr_time_cmp(t, *next) < 0)
        *next = t;
}

/* Answers queued waiters whose deadline passed or whose caller cancelled
 * (never sent, so never applied: "the caller cancelled") or that a
 * shutdown stops; returns the next deadline among those left. */
static gpr_timespec expire_queue(rt_db_pipeline *p, waiter **head, waiter **tail)
{
    gpr_timespec next = gpr_inf_future(GPR_CLOCK_MONOTONIC);
    waiter *keep = NULL, *keep_tail = NULL;
    for (waiter *w; (w = pop(head, tail));) {
        if (interrupted())
            finish(p, w, shutting_down());
        else if (rt_deadline_passed(w->deadline))
            finish(p, w, deadline_exceeded());
        else if (caller_gone(w))
            finish(p, w, caller_cancelled());
        else {
            sooner(&next, w->deadline);
            append(&keep, &keep_tail, w);
        }
    }
    *head = keep;
    *tail = keep_tail;
    return next;
}

/* The running statement w has no caller to answer any more; for a
 * group's locks, none of its members has. */
static bool abandoned(const waiter *w)
{
    if (!w->lock)
        return !w->ticket;
    for (w = w->next; w; w = w->ends_group ? NULL : w->next)
        if (w->ticket)
            return false;
    return true;
}

/* What a cancel on s would stop, if its callers are all gone: the statement
 * running, or, once a write group's statements all answered, its commit
 * (the group's first waiter stands for it, and every member must be
 * abandoned). A cancel that reaches a commit waiting for the standby ends
 * that wait and leaves the commit local; nobody is answered OK for it, as
 * the callers were answered already. */
static waiter *to_cancel(session *s)
{
    waiter *w = awaited(s);
    if (w)
        return abandoned(w) ? w : NULL;
    if (!s->executed)
        return NULL;
    for (w = s->head; w; w = w->ends_group ? NULL : w->next)
        if (w->ticket)
            return NULL;
    return s->head;
}

/* Answers the calls of statements in flight on s whose deadline passed or
 * whose caller cancelled (both may commit yet: a write's caller hears
 * DEADLINE_EXCEEDED or RT_DB_CANCELLED_AFTER_SEND, never that it did not
 * apply), cancels the running one once its call was answered, and drops a
 * session that stays silent after a cancel. Returns the next moment to
 * look. */
static gpr_timespec watch_session(rt_db_pipeline *p, session *s)
{
    gpr_timespec next = gpr_inf_future(GPR_CLOCK_MONOTONIC);
    for (waiter *w = s->head; w; w = w->next) {
        if (!w->ticket)
            continue;
        if (interrupted()) /* sent: it may commit yet (a drain out of time) */
            answer(p, w, rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, RT_DB_OUTCOME_UNKNOWN), NULL);
        else if (rt_deadline_passed(w->deadline))
            answer(p, w, deadline_exceeded(), NULL);
        else if (caller_gone(w))
            answer(p, w, cancelled_in_flight(w), NULL);
        else
            sooner(&next, w->deadline);
    }
    waiter *w = to_cancel(s);
    if (w && !w->cancelled) {
        rt_db_cancel_send(conn_of(s));
        w->cancelled = true;
        s->cancel_at = gpr_now(GPR_CLOCK_MONOTONIC);
        s->stall_watch = true;
    }
    if (s->stall_watch) {
        gpr_timespec stall = gpr_time_add(s->cancel_at, gpr_time_from_millis(RT_PIPE_STALL_MS, GPR_TIMESPAN));
        if (rt_deadline_passed(stall)) {
            rt_log(RT_LOG_WARN, "database session %zu silent %d ms after a cancel", s->index, RT_PIPE_STALL_MS);
            lose(p, s);
        } else {
            sooner(&next, stall);
        }
    }
    return next;
}

void rt_db_pipeline_poll_setup(rt_db_pipeline *p, struct pollfd *fds, size_t *n_fds, int *timeout_ms)
{
    send_reads(p);
    send_pending(p); /* the writer may have become idle or open meanwhile */
    gpr_timespec next = expire_queue(p, &p->pending, &p->pending_tail);
    sooner(&next, expire_queue(p, &p->parked, &p->parked_tail));
    sooner(&next, expire_queue(p, &p->alone, &p->alone_tail));
    for (size_t i = 0; i < p->n; i++)
        if (is_up(&p->sessions[i]))
            sooner(&next, watch_session(p, &p->sessions[i]));
    bool waiting = p->pending || p->parked || p->alone;
    bool settled = true;
    size_t busy = 0, idle = 0;
    for (size_t i = 0; i < p->n; i++) {
        session *s = &p->sessions[i];
        waiting = waiting || s->count;
        busy += is_up(s) && s->count;
        idle += is_up(s) && !s->count;
        int fd = -1;
        short events;
        if (is_up(s)) {
            fd = PQsocket(conn_of(s));
            events = (short)(POLLIN | (s->want_write ? POLLOUT : 0));
        } else {
            events = rt_db_session_events(s->db, &fd, timeout_ms);
            settled = false;
        }
        fds[i] = (struct pollfd){.fd = fd, .events = events};
    }
    *n_fds = p->n;
    if (!settled)
        p->fd_epoch++;
    rt_metrics_db_sessions(busy, idle);
    if (gpr_time_cmp(next, gpr_inf_future(GPR_CLOCK_MONOTONIC)) != 0 || waiting) {
        int wait = (int)rt_deadline_ms_left(next, RT_PIPE_SLICE_MS);
        if (*timeout_ms < 0 || wait < *timeout_ms)
            *timeout_ms = wait;
    }
    if (p->ready)
        *timeout_ms = 0;
}

void rt_db_pipeline_process(rt_db_pipeline *p, const struct pollfd *fds)
{
    for (size_t i = 0; i < p->n; i++) {
        session *s = &p->sessions[i];
        short revents = fds[i].fd >= 0 ? fds[i].revents : 0;
        if (!is_up(s)) {
            rt_db_session_event ev = rt_db_session_step(s->db, revents);
            if (ev == RT_DB_SESSION_OPENED)
                session_opened(p, s);
            else if (ev == RT_DB_SESSION_FAILED)
                session_failed(p, s);
            continue;
        }
        if (!revents)
            continue;
        if (revents & POLLOUT) {
            int flushed = PQflush(conn_of(s));
            s->want_write = flushed == 1;
            if (flushed < 0) {
                lose(p, s);
                continue;
            }
        }
        if (revents & (POLLIN | POLLERR | POLLHUP))
            session_read(p, s);
    }
    while (p->ready) {
        ticket *t = p->ready;
        p->ready = t->next;
        if (!p->ready)
            p->ready_tail = NULL;
        p->wake(p->ctx, t->fiber); /* t is gone once its fiber runs */
    }
}

rt_db_pipeline *rt_db_pipeline_create(rt_db_session **sessions, size_t n, rt_db_wake_fn wake, void *ctx)
{
    rt_db_pipeline *p = calloc(1, sizeof *p);
    if (!p || !(p->sessions = calloc(n, sizeof *p->sessions)))
        abort();
    p->n = n;
    p->wake = wake;
    p->ctx = ctx;
    for (size_t i = 0; i < n; i++) {
        p->sessions[i] = (session){.db = sessions[i], .index = i};
        if (i > 0 && !p->lock_waiter && rt_db_session_role_of(sessions[i]) == RT_DB_LOCK_WAITER)
            p->lock_waiter = &p->sessions[i];
    }
    p->lock_timeout_ms = rt_db_session_lock_timeout_ms(sessions[0]);
    return p;
}

static void free_list(waiter *w)
{
    while (w) {
        waiter *next = w->next;
        PQclear(w->first);
        free_waiter(w);
        w = next;
    }
}

void rt_db_pipeline_destroy(rt_db_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free_list(p->sessions[i].head);
    free_list(p->pending);
    free_list(p->parked);
    free_list(p->reads);
    free_list(p->alone);
    free(p->sessions);
    free(p);
}

unsigned rt_db_pipeline_fd_epoch(const rt_db_pipeline *p)
{
    return p->fd_epoch;
}

size_t rt_db_pipeline_sessions(const rt_db_pipeline *p)
{
    return p->n;
}
