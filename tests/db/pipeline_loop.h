/* The fiber thread's loop, for the cmocka tests that drive fibers over a
 * pipeline by hand (test_db.c, test_db_pipeline.c): poll the sessions and
 * process what arrived until *finished reaches target. Include after
 * cmocka.h. */
#ifndef TEST_PIPELINE_LOOP_H
#define TEST_PIPELINE_LOOP_H

#include <poll.h>

#include "db_pipeline.h"

#define TEST_MAX_SESSIONS 8

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
