/* Pipelined sessions against a real PostgreSQL, driven the way the fiber
 * thread drives them: many fibers' statements in flight on two sessions,
 * each answered with its own result, a deadline that cancels only its own
 * statement, a failing read among the reads sent with it, a session killed
 * under a write, sessions that open from the loop while the first serves,
 * group commit's failure handling, a write held up by a row lock waiting
 * alone on the lock waiter, and what a caller's cancel tells its writes,
 * sent or not. Needs DATABASE_URL;
 * skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db_control.h"
#include "db_pipeline.h"
#include "db_session.h"
#include "pipeline_loop.h"

enum { SLEEP, ADD_ONE, TERMINATE_SELF, BUMP, INSERT_KEY, SLOW_WRITE, LOCK_SLOWLY, BUMP_LOCKED };

/* Writes (not idempotent) go through group commit; they report the
 * transaction they ran in, so the tests can see the grouping. */
static const rt_db_statement statements[] = {
    [SLEEP] = {"p_sleep", "SELECT pg_sleep($1::float8)", 1, true},
    [ADD_ONE] = {"p_add", "SELECT $1::int + 1", 1, true},
    [TERMINATE_SELF] = {"p_term", "SELECT pg_terminate_backend(pg_backend_pid())", 0, false},
    [BUMP] = {"p_bump", "UPDATE pipeline_test SET v = v + 1 WHERE k = $1::int RETURNING v, txid_current()", 1,
              false},
    [INSERT_KEY] = {"p_insert", "INSERT INTO pipeline_test (k, v) VALUES ($1::int, 0) RETURNING v, txid_current()",
                    1, false},
    [SLOW_WRITE] = {"p_slow", "SELECT pg_sleep($1::float8)", 1, false},
    /* Writes that declare the row they lock (rt_db_statement.lock_params):
     * the first holds its row 0.3 s before its group goes on. */
    [LOCK_SLOWLY] = {"p_lock_slowly",
                     "WITH l AS MATERIALIZED (SELECT k FROM pipeline_test WHERE k = $1::int FOR UPDATE) "
                     "SELECT 1 + 0 * length(pg_sleep(0.3)::text), txid_current() FROM l",
                     1, false, 1u},
    [BUMP_LOCKED] = {"p_bump_locked", "UPDATE pipeline_test SET v = v + 1 WHERE k = $1::int RETURNING v, txid_current()",
                     1, false, 1u},
};
#define N_STATEMENTS (sizeof statements / sizeof statements[0])
#define N_SESSIONS 2

/* N_SESSIONS sessions: the writer, then readers. */
typedef test_pipeline fixture;

/* A fiber's statement and what it got back. */
typedef struct {
    fixture *fx;
    rt_db_pipeline *pipeline; /* NULL: the fixture's */
    int statement;
    const char *param;
    int64_t deadline_ms;     /* 0: none */
    const atomic_bool *gone; /* its caller cancelled (rt_db_set_cancelled); NULL: never */
    rt_status status;
    int value;
    long long txid; /* writes: the transaction that committed it */
} job;

static int setup(void **state)
{
    const char *url = getenv("DATABASE_URL");
    *state = NULL;
    if (!url)
        return 0;
    /* The writes' table must exist before the statements are prepared. */
    PGconn *admin = PQconnectdb(url);
    PQclear(PQexec(admin, "DROP TABLE IF EXISTS pipeline_test; "
                          "CREATE TABLE pipeline_test (k int PRIMARY KEY, v int NOT NULL); "
                          "INSERT INTO pipeline_test VALUES (1, 0), (2, 0), (3, 0)"));
    PQfinish(admin);
    fixture *fx = calloc(1, sizeof *fx);
    if (test_pipeline_open(fx, url, statements, N_STATEMENTS, N_SESSIONS) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    if (!fx)
        return 0;
    test_pipeline_close(fx);
    free(fx);
    return 0;
}

/* Through a view, as handlers reach the pipeline via rt_db_exec. */
static void run_job(void *arg)
{
    job *j = arg;
    rt_db *view = rt_db_view(j->pipeline ? j->pipeline : j->fx->pipeline);
    if (j->deadline_ms)
        rt_db_set_deadline(view, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                              gpr_time_from_millis(j->deadline_ms, GPR_TIMESPAN)));
    rt_db_set_cancelled(view, j->gone);
    const char *params[] = {j->param};
    PGresult *res;
    j->status = rt_db_exec(view, &statements[j->statement], j->param ? params : NULL, &res);
    if (rt_ok(j->status)) {
        j->value = j->statement == ADD_ONE || PQnfields(res) == 2 ? rt_db_get_int32(res, 0, 0) : 0;
        j->txid = PQnfields(res) == 2 ? (long long)rt_db_get_int64(res, 0, 1) : 0;
        PQclear(res);
    }
    rt_db_close(view);
}

static void start(fixture *fx, rt_fiber *fiber, job *j)
{
    j->fx = fx;
    fx->started++;
    if (rt_fiber_start(fiber, run_job, j))
        fx->finished++;
}

static void drive(fixture *fx)
{
    run_pipeline_until(fx->pipeline, &fx->finished, fx->started);
}

#define FIXTURE_OR_SKIP(state)                                                                     \
    fixture *fx = *(state);                                                                        \
    if (!fx)                                                                                       \
        skip();

static void statements_in_flight_together_each_get_their_answer(void **state)
{
    FIXTURE_OR_SKIP(state);
    enum { N = 24 };
    rt_fiber *fibers[N];
    job jobs[N];
    char params[N][8];
    for (int i = 0; i < N; i++) {
        fibers[i] = rt_fiber_create();
        snprintf(params[i], sizeof params[i], "%d", i * 10);
        jobs[i] = (job){.statement = ADD_ONE, .param = params[i]};
        start(fx, fibers[i], &jobs[i]);
    }
    assert_int_equal(fx->finished, 0); /* all waiting at once, none blocked the thread */
    drive(fx);
    for (int i = 0; i < N; i++) {
        assert_int_equal(jobs[i].status.code, GRPC_STATUS_OK);
        assert_int_equal(jobs[i].value, i * 10 + 1);
        rt_fiber_destroy(fibers[i]);
    }
}

static void a_deadline_cancels_only_its_own_statement(void **state)
{
    FIXTURE_OR_SKIP(state);
    rt_fiber *late = rt_fiber_create(), *fine = rt_fiber_create(), *after = rt_fiber_create();
    job slow = {.statement = SLEEP, .param = "3", .deadline_ms = 200};
    job ok = {.statement = SLEEP, .param = "0.3"};
    job next = {.statement = ADD_ONE, .param = "1"};
    gpr_timespec t0 = gpr_now(GPR_CLOCK_MONOTONIC);
    start(fx, late, &slow);
    start(fx, fine, &ok);
    start(fx, after, &next);
    drive(fx);
    int64_t ms = gpr_time_to_millis(gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), t0));
    assert_int_equal(slow.status.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_int_equal(ok.status.code, GRPC_STATUS_OK);
    assert_int_equal(next.status.code, GRPC_STATUS_OK);
    assert_int_equal(next.value, 2);
    assert_true(ms < 2000);
    rt_fiber_destroy(late);
    rt_fiber_destroy(fine);
    rt_fiber_destroy(after);
}

/* The reads of one pass of the loop go as one transaction per session
 * (send_reads): one that fails by itself is answered with its error, and
 * the others, rolled back with it, go again and get their own answers. */
static void a_failing_read_does_not_fail_the_reads_sent_with_it(void **state)
{
    FIXTURE_OR_SKIP(state);
    enum { N = 9, BAD = 4 };
    rt_fiber *fibers[N];
    job jobs[N];
    char params[N][8];
    for (int i = 0; i < N; i++) {
        fibers[i] = rt_fiber_create();
        snprintf(params[i], sizeof params[i], i == BAD ? "x%d" : "%d", i);
        jobs[i] = (job){.statement = ADD_ONE, .param = params[i]};
        start(fx, fibers[i], &jobs[i]);
    }
    drive(fx);
    for (int i = 0; i < N; i++) {
        if (i == BAD) {
            assert_int_not_equal(jobs[i].status.code, GRPC_STATUS_OK);
        } else {
            assert_int_equal(jobs[i].status.code, GRPC_STATUS_OK);
            assert_int_equal(jobs[i].value, i + 1);
        }
        rt_fiber_destroy(fibers[i]);
    }
}

static void a_session_killed_under_a_write_answers_unavailable_then_recovers(void **state)
{
    FIXTURE_OR_SKIP(state);
    rt_fiber *f = rt_fiber_create();
    job kill = {.statement = TERMINATE_SELF};
    start(fx, f, &kill);
    drive(fx);
    assert_int_equal(kill.status.code, GRPC_STATUS_UNAVAILABLE);
    for (int i = 0; i < N_SESSIONS + 1; i++) { /* every session answers again */
        job read = {.statement = ADD_ONE, .param = "41"};
        start(fx, f, &read);
        drive(fx);
        assert_int_equal(read.status.code, GRPC_STATUS_OK);
        assert_int_equal(read.value, 42);
    }
    job write = {.statement = SLOW_WRITE, .param = "0"}; /* waits for the writer to reopen */
    start(fx, f, &write);
    drive(fx);
    assert_int_equal(write.status.code, GRPC_STATUS_OK);
    rt_fiber_destroy(f);
}

/* As the daemon starts: only the writer is open, the reader opens from
 * the loop without blocking it; reads never wait for it, then use it. */
static void sessions_open_from_the_loop_and_join_when_open(void **state)
{
    FIXTURE_OR_SKIP(state);
    char *error = NULL;
    rt_db_session *first = rt_db_session_new(getenv("DATABASE_URL"), statements, N_STATEMENTS, RT_DB_WRITER, 0);
    assert_true(rt_db_session_open(first, &error));
    rt_db_session *later = rt_db_session_new(getenv("DATABASE_URL"), statements, N_STATEMENTS, RT_DB_READER, 0);
    rt_db_session *both[] = {first, later};
    rt_db_pipeline *main_pipeline = fx->pipeline;
    fx->pipeline = rt_db_pipeline_create(both, 2, test_pipeline_wake, fx);
    enum { N = 6 };
    rt_fiber *fibers[N];
    job jobs[N];
    for (int round = 0; round < 2000 && rt_db_session_state_of(later) != RT_DB_SESSION_UP; round++) {
        for (int i = 0; i < N; i++) {
            fibers[i] = rt_fiber_create();
            jobs[i] = (job){.statement = ADD_ONE, .param = "1"};
            start(fx, fibers[i], &jobs[i]);
        }
        drive(fx);
        for (int i = 0; i < N; i++) {
            assert_int_equal(jobs[i].status.code, GRPC_STATUS_OK);
            assert_int_equal(jobs[i].value, 2);
            rt_fiber_destroy(fibers[i]);
        }
    }
    assert_int_equal(rt_db_session_state_of(later), RT_DB_SESSION_UP);
    rt_db_pipeline_destroy(fx->pipeline);
    fx->pipeline = main_pipeline;
    rt_db_session_free(later);
    rt_db_session_free(first);
}

static long long count_rows(const char *where)
{
    PGconn *c = PQconnectdb(getenv("DATABASE_URL"));
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pipeline_test WHERE %s", where);
    PGresult *r = PQexec(c, sql);
    long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    PQfinish(c);
    return n;
}

/* 20 increments of one row: the first goes alone, the 19 that arrive while
 * it commits go together in one transaction; each gets its own new value. */
static void writes_arriving_together_share_one_commit(void **state)
{
    FIXTURE_OR_SKIP(state);
    enum { N = 20 };
    rt_fiber *fibers[N];
    job jobs[N];
    for (int i = 0; i < N; i++) {
        fibers[i] = rt_fiber_create();
        jobs[i] = (job){.statement = BUMP, .param = "1"};
        start(fx, fibers[i], &jobs[i]);
    }
    drive(fx);
    bool seen[N + 1] = {false};
    for (int i = 0; i < N; i++) {
        assert_int_equal(jobs[i].status.code, GRPC_STATUS_OK);
        assert_true(jobs[i].value >= 1 && jobs[i].value <= N && !seen[jobs[i].value]);
        seen[jobs[i].value] = true;
        assert_int_equal(jobs[i].txid, i == 0 ? jobs[0].txid : jobs[1].txid);
        rt_fiber_destroy(fibers[i]);
    }
    assert_true(jobs[0].txid != jobs[1].txid);
    assert_int_equal(count_rows("k = 1 AND v = 20"), 1);
}

/* Issue 11 item 10. A group with a duplicate key: the duplicate alone gets
 * ALREADY_EXISTS; the other members, rolled back with it, go again
 * together as one transaction on the writer (never alone, never on a
 * read session, which is read-only and would refuse them). */
static void a_failing_write_does_not_take_its_group_down(void **state)
{
    FIXTURE_OR_SKIP(state);
    rt_fiber *fibers[4];
    job jobs[4] = {
        {.statement = BUMP, .param = "1"}, /* alone: the others wait for it */
        {.statement = INSERT_KEY, .param = "200"},
        {.statement = INSERT_KEY, .param = "200"},
        {.statement = INSERT_KEY, .param = "201"},
    };
    for (int i = 0; i < 4; i++) {
        fibers[i] = rt_fiber_create();
        start(fx, fibers[i], &jobs[i]);
    }
    drive(fx);
    assert_int_equal(jobs[0].status.code, GRPC_STATUS_OK);
    assert_int_equal(jobs[1].status.code, GRPC_STATUS_OK);
    assert_int_equal(jobs[2].status.code, GRPC_STATUS_ALREADY_EXISTS);
    assert_int_equal(jobs[3].status.code, GRPC_STATUS_OK);
    assert_int_equal(jobs[1].txid, jobs[3].txid); /* one transaction, not each alone */
    assert_int_equal(count_rows("k IN (200, 201)"), 2);
    for (int i = 0; i < 4; i++)
        rt_fiber_destroy(fibers[i]);
}

/* Twenty inserts of one key arriving together: one wins, every other
 * gets its own ALREADY_EXISTS (none gives up on a retry limit). */
static void many_duplicates_in_one_group_each_get_their_own_answer(void **state)
{
    FIXTURE_OR_SKIP(state);
    enum { N = 20 };
    rt_fiber *fibers[N];
    job jobs[N];
    for (int i = 0; i < N; i++) {
        fibers[i] = rt_fiber_create();
        jobs[i] = (job){.statement = INSERT_KEY, .param = "300"};
        start(fx, fibers[i], &jobs[i]);
    }
    drive(fx);
    int ok = 0, dup = 0;
    for (int i = 0; i < N; i++) {
        ok += jobs[i].status.code == GRPC_STATUS_OK;
        dup += jobs[i].status.code == GRPC_STATUS_ALREADY_EXISTS;
        rt_fiber_destroy(fibers[i]);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(dup, N - 1);
    assert_int_equal(count_rows("k = 300"), 1);
}

/* A write whose deadline passes while it waits for the writer session is
 * answered DEADLINE_EXCEEDED and never sent: the row is untouched. */
static void a_write_that_waited_past_its_deadline_is_never_sent(void **state)
{
    FIXTURE_OR_SKIP(state);
    rt_fiber *slow_fiber = rt_fiber_create(), *late_fiber = rt_fiber_create();
    job slow = {.statement = SLOW_WRITE, .param = "0.5"};
    job late = {.statement = BUMP, .param = "2", .deadline_ms = 100};
    start(fx, slow_fiber, &slow);
    start(fx, late_fiber, &late);
    drive(fx);
    assert_int_equal(slow.status.code, GRPC_STATUS_OK);
    assert_int_equal(late.status.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_int_equal(count_rows("k = 2 AND v = 0"), 1);
    rt_fiber_destroy(slow_fiber);
    rt_fiber_destroy(late_fiber);
}

/* A write whose deadline passes while its group still runs is answered
 * then, not when the group ends (DEADLINE_EXCEEDED: it may still commit
 * with the group); the other members are not disturbed. */
static void a_write_in_a_running_group_is_answered_by_its_deadline(void **state)
{
    FIXTURE_OR_SKIP(state);
    rt_fiber *f[3] = {rt_fiber_create(), rt_fiber_create(), rt_fiber_create()};
    job jobs[3] = {
        {.statement = SLOW_WRITE, .param = "0.3"},             /* alone: the next two wait */
        {.statement = BUMP, .param = "3", .deadline_ms = 450}, /* passes while the group runs */
        {.statement = SLOW_WRITE, .param = "1"},
    };
    gpr_timespec t0 = gpr_now(GPR_CLOCK_MONOTONIC);
    for (int i = 0; i < 2; i++)
        start(fx, f[i], &jobs[i]);
    start(fx, f[2], &jobs[2]);
    run_pipeline_until(fx->pipeline, &fx->finished, fx->started - 1);
    int64_t ms = gpr_time_to_millis(gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), t0));
    assert_int_equal(jobs[1].status.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_true(ms < 1100); /* the group ends at ~1.3 s */
    drive(fx);
    assert_int_equal(jobs[0].status.code, GRPC_STATUS_OK);
    assert_int_equal(jobs[2].status.code, GRPC_STATUS_OK);
    for (int i = 0; i < 3; i++)
        rt_fiber_destroy(f[i]);
}

/* A caller that cancels: its write already sent may commit yet and is
 * answered so (CANCELLED, RT_DB_CANCELLED_AFTER_SEND), so a handler knows
 * to undo it; its write still waiting for the writer is never sent and
 * answered "the caller cancelled". Both at once, not at the end of the
 * running group. */
static void a_cancelled_caller_hears_whether_its_write_was_sent(void **state)
{
    FIXTURE_OR_SKIP(state);
    atomic_bool gone = false;
    rt_fiber *sent_fiber = rt_fiber_create(), *queued_fiber = rt_fiber_create();
    job sent = {.statement = SLOW_WRITE, .param = "3", .gone = &gone};
    job queued = {.statement = INSERT_KEY, .param = "400", .gone = &gone}; /* waits for the writer */
    gpr_timespec t0 = gpr_now(GPR_CLOCK_MONOTONIC);
    start(fx, sent_fiber, &sent);
    start(fx, queued_fiber, &queued);
    atomic_store(&gone, true);
    drive(fx);
    int64_t ms = gpr_time_to_millis(gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), t0));
    assert_int_equal(sent.status.code, GRPC_STATUS_CANCELLED);
    assert_true(rt_db_cancelled_after_send(sent.status));
    assert_int_equal(queued.status.code, GRPC_STATUS_CANCELLED);
    assert_false(rt_db_cancelled_after_send(queued.status));
    assert_true(ms < 1000);
    assert_int_equal(count_rows("k = 400"), 0);
    rt_fiber_destroy(sent_fiber);
    rt_fiber_destroy(queued_fiber);
}

/* Issue 19 defect 7: two writers (as two replicas would) with groups
 * [row 1, row 2] and [row 2, row 1] arriving at once. In arrival order
 * each group locks its first row, holds it 0.3 s, then waits for the
 * other's: a deadlock, which the server breaks after deadlock_timeout by
 * failing one member (ABORTED). With the groups' locks taken in one global
 * order first, the second group waits for the first and both commit. */
static void two_writers_with_crossed_groups_do_not_deadlock(void **state)
{
    FIXTURE_OR_SKIP(state);
    rt_db_session *other_writer = rt_db_session_new(getenv("DATABASE_URL"), statements, N_STATEMENTS, RT_DB_WRITER, 0);
    char *error = NULL;
    if (!rt_db_session_open(other_writer, &error))
        fail_msg("%s", error);
    rt_db_pipeline *other = rt_db_pipeline_create(&other_writer, 1, test_pipeline_wake, fx);
    rt_db_pipeline *writers[2] = {fx->pipeline, other};
    rt_fiber *fibers[6];
    job jobs[6];
    for (int i = 0; i < 6; i++) {
        int w = i / 3, step = i % 3; /* per writer: one to make the next two a group, then the group */
        static const char *const rows[2][2] = {{"1", "2"}, {"2", "1"}};
        jobs[i] = step == 0 ? (job){.statement = SLOW_WRITE, .param = "0.05"}
                            : (job){.statement = step == 1 ? LOCK_SLOWLY : BUMP_LOCKED, .param = rows[w][step - 1]};
        jobs[i].pipeline = writers[w];
    }
    for (int i = 0; i < 6; i++) { /* both writers' first, then both groups */
        int order[6] = {0, 3, 1, 2, 4, 5};
        fibers[order[i]] = rt_fiber_create();
        start(fx, fibers[order[i]], &jobs[order[i]]);
    }
    struct pollfd fds[TEST_MAX_SESSIONS];
    for (int rounds = 0; fx->finished < fx->started; rounds++) {
        assert_true(rounds < 10000);
        size_t n0 = 0, n1 = 0;
        int timeout = -1;
        rt_db_pipeline_poll_setup(writers[0], fds, &n0, &timeout);
        rt_db_pipeline_poll_setup(writers[1], fds + n0, &n1, &timeout);
        if (poll(fds, n0 + n1, timeout < 0 ? 1000 : timeout) < 0)
            fail();
        rt_db_pipeline_process(writers[0], fds);
        rt_db_pipeline_process(writers[1], fds + n0);
    }
    for (int i = 0; i < 6; i++) {
        if (jobs[i].status.code != GRPC_STATUS_OK)
            fail_msg("job %d: %d %s", i, jobs[i].status.code, jobs[i].status.message);
        rt_fiber_destroy(fibers[i]);
    }
    assert_int_equal(jobs[1].txid, jobs[2].txid); /* each pair did run as one group */
    assert_int_equal(jobs[4].txid, jobs[5].txid);
    rt_db_pipeline_destroy(other);
    rt_db_session_free(other_writer);
}

/* Issue 24 item 3: another program's transaction holds row 3's lock, and
 * a group [row 3, row 1, row 2] forms behind a slow write. The group no
 * longer waits with row 3's write for the whole lock_timeout: that write
 * waits RT_PIPE_MEMBER_LOCK_MS, the other two then commit together while row
 * 3 is still locked (before, they were held until row 3's write gave up),
 * and row 3's waits on alone, on the lock waiter, until the lock is
 * released: applied once, in a transaction of its own. A later write to row
 * 3 follows it there; one to row 1 meanwhile commits. */
static void a_write_held_up_by_a_row_lock_waits_alone(void **state)
{
    FIXTURE_OR_SKIP(state);
    const char *url = getenv("DATABASE_URL");
    test_pipeline lw = {0};
    static const rt_db_session_role roles[] = {RT_DB_WRITER, RT_DB_LOCK_WAITER, RT_DB_READER};
    for (size_t i = 0; i < 3; i++) {
        char *error = NULL;
        lw.sessions[i] = rt_db_session_new(url, statements, N_STATEMENTS, roles[i], 10000);
        lw.n_sessions = i + 1;
        if (!rt_db_session_open(lw.sessions[i], &error))
            fail_msg("%s", error);
    }
    lw.pipeline = rt_db_pipeline_create(lw.sessions, 3, test_pipeline_wake, &lw);
    PGconn *holder = PQconnectdb(url);
    PGresult *held = PQexec(holder, "BEGIN; SELECT v FROM pipeline_test WHERE k = 3 FOR UPDATE");
    assert_int_equal(PQresultStatus(held), PGRES_TUPLES_OK);
    int before = atoi(PQgetvalue(held, 0, 0));
    PQclear(held);
    enum { N = 6, FIRST = 4 };
    rt_fiber *f[N];
    job jobs[N];
    /* the first makes the next three a group; the last two come later */
    static const char *const rows[N] = {"0.05", "3", "1", "2", "3", "1"};
    for (int i = 0; i < N; i++) {
        f[i] = rt_fiber_create();
        jobs[i] = (job){.fx = fx, .statement = i == 0 ? SLOW_WRITE : BUMP_LOCKED, .param = rows[i],
                        .pipeline = lw.pipeline, .status = {.code = -1}};
        if (i == FIRST)
            run_pipeline_until(lw.pipeline, &lw.finished, FIRST - 1);
        lw.started++;
        if (rt_fiber_start(f[i], run_job, &jobs[i]))
            lw.finished++;
    }
    assert_int_equal(jobs[1].status.code, -1); /* still waiting for the lock */
    for (int i = 2; i < FIRST; i++)
        assert_int_equal(jobs[i].status.code, GRPC_STATUS_OK);
    assert_int_equal(jobs[2].txid, jobs[3].txid); /* still one group */
    run_pipeline_until(lw.pipeline, &lw.finished, N - 2);
    assert_int_equal(jobs[5].status.code, GRPC_STATUS_OK);
    assert_int_equal(jobs[1].status.code, -1);
    assert_int_equal(jobs[4].status.code, -1);
    PQclear(PQexec(holder, "ROLLBACK"));
    PQfinish(holder);
    run_pipeline_until(lw.pipeline, &lw.finished, N);
    for (int i = 1; i < N; i++)
        if (jobs[i].status.code != GRPC_STATUS_OK)
            fail_msg("write %d: %d %s", i, jobs[i].status.code, jobs[i].status.message);
    assert_int_equal(jobs[1].value, before + 1); /* each applied once, in order */
    assert_int_equal(jobs[4].value, before + 2);
    assert_true(jobs[1].txid != jobs[2].txid);
    for (int i = 0; i < N; i++)
        rt_fiber_destroy(f[i]);
    test_pipeline_close(&lw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statements_in_flight_together_each_get_their_answer),
        cmocka_unit_test(a_deadline_cancels_only_its_own_statement),
        cmocka_unit_test(a_failing_read_does_not_fail_the_reads_sent_with_it),
        cmocka_unit_test(a_session_killed_under_a_write_answers_unavailable_then_recovers),
        cmocka_unit_test(sessions_open_from_the_loop_and_join_when_open),
        cmocka_unit_test(writes_arriving_together_share_one_commit),
        cmocka_unit_test(a_failing_write_does_not_take_its_group_down),
        cmocka_unit_test(many_duplicates_in_one_group_each_get_their_own_answer),
        cmocka_unit_test(a_write_that_waited_past_its_deadline_is_never_sent),
        cmocka_unit_test(a_write_in_a_running_group_is_answered_by_its_deadline),
        cmocka_unit_test(a_cancelled_caller_hears_whether_its_write_was_sent),
        cmocka_unit_test(two_writers_with_crossed_groups_do_not_deadlock),
        cmocka_unit_test(a_write_held_up_by_a_row_lock_waits_alone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
