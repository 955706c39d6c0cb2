/* The fiber thread's side of a pipeline, for the cmocka tests that drive
 * fibers over one by hand (test_db.c, test_db_pipeline.c): its sessions
 * opened on a real server, its wake callback, and its loop (poll the
 * sessions and process what arrived until enough fibers finished).
 * Include after cmocka.h. */
#ifndef TEST_PIPELINE_LOOP_H
#define TEST_PIPELINE_LOOP_H

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "db_pipeline.h"
#include "db_session.h"
#include "fiber.h"

#define TEST_MAX_SESSIONS 8

/* A test's sessions and their pipeline; started and finished count the
 * fibers a test started and those that ran to their end. */
typedef struct {
    rt_db_session *sessions[TEST_MAX_SESSIONS];
    size_t n_sessions;
    rt_db_pipeline *pipeline;
    int started, finished;
} test_pipeline;

/* The pipeline's wake callback: resumes the fiber, counting it when it ends. */
static inline void test_pipeline_wake(void *ctx, rt_fiber *fiber)
{
    test_pipeline *fx = ctx;
    if (rt_fiber_resume(fiber))
        fx->finished++;
}

/* Opens n sessions on url preparing statements (the first the writer, the
 * others readers) and the pipeline over them; -1 when one does not open. */
static inline int test_pipeline_open(test_pipeline *fx, const char *url, const rt_db_statement *statements,
                                     size_t n_statements, size_t n)
{
    assert_true(n <= TEST_MAX_SESSIONS);
    for (size_t i = 0; i < n; i++) {
        char *error = NULL;
        fx->sessions[i] = rt_db_session_new(url, statements, n_statements, i == 0 ? RT_DB_WRITER : RT_DB_READER, 0);
        fx->n_sessions = i + 1;
        if (!rt_db_session_open(fx->sessions[i], &error)) {
            fprintf(stderr, "%s\n", error);
            free(error);
            return -1;
        }
    }
    fx->pipeline = rt_db_pipeline_create(fx->sessions, n, test_pipeline_wake, fx);
    return 0;
}

static inline void test_pipeline_close(test_pipeline *fx)
{
    rt_db_pipeline_destroy(fx->pipeline);
    for (size_t i = 0; i < fx->n_sessions; i++)
        rt_db_session_free(fx->sessions[i]);
}

static inline void run_pipeline_until(rt_db_pipeline *p, const int *finished, int target)
{
    struct pollfd fds[TEST_MAX_SESSIONS];
    assert_true(rt_db_pipeline_sessions(p) <= TEST_MAX_SESSIONS);
    for (int rounds = 0; *finished < target; rounds++) {
        assert_true(rounds < 10000);
        int timeout = -1;
        size_t n = 0;
        rt_db_pipeline_poll_setup(p, fds, &n, &timeout);
        assert_int_equal(n, rt_db_pipeline_sessions(p));
        if (poll(fds, n, timeout < 0 ? 1000 : timeout) < 0)
            fail();
        rt_db_pipeline_process(p, fds);
    }
}

#endif
