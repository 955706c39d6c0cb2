/* The serving loop's wake (cq_wake.h) and database watch (db_watch.h):
 * a wake from another thread ends a sleep in grpc_completion_queue_next
 * promptly, a wake fired before the sleep is not lost, wakes fired
 * together count once, a stopped wake lets the queue drain to
 * GRPC_QUEUE_SHUTDOWN, and a readable socket ends the sleep through the
 * db-watch thread, or stops the loop from sleeping when it came first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <grpc/grpc.h>

#include "call.h"
#include "cq_wake.h"
#include "db_watch.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static gpr_timespec in_ms(int ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* The next event within ms, its tag checked to be a wake's and taken. */
static void expect_wake(grpc_completion_queue *cq, rt_cq_wake *w, int ms)
{
    grpc_event ev = grpc_completion_queue_next(cq, in_ms(ms), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    assert_int_equal(*(rt_tag_kind *)ev.tag, RT_TAG_WAKE);
    rt_cq_wake_taken(w, ev.tag);
}

static void expect_quiet(grpc_completion_queue *cq, int ms)
{
    assert_int_equal(grpc_completion_queue_next(cq, in_ms(ms), NULL).type, GRPC_QUEUE_TIMEOUT);
}

static void stop_and_drain(grpc_completion_queue *cq, rt_cq_wake *w)
{
    rt_cq_wake_stop(w);
    expect_wake(cq, w, 5000); /* the cancelled parked call, not renewed */
    grpc_completion_queue_shutdown(cq);
    double t0 = now_ms();
    assert_int_equal(grpc_completion_queue_next(cq, in_ms(5000), NULL).type, GRPC_QUEUE_SHUTDOWN);
    assert_true(now_ms() - t0 < 1000);
    grpc_completion_queue_destroy(cq);
    rt_cq_wake_destroy(w);
}

static void *fire_later(void *arg)
{
    usleep(100 * 1000);
    rt_cq_wake_fire(arg);
    return NULL;
}

static void wake_ends_a_sleep(void **state)
{
    (void)state;
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    rt_cq_wake *w = rt_cq_wake_create(cq);
    expect_quiet(cq, 200); /* the parked call stays parked */
    for (int i = 0; i < 3; i++) { /* and again with each renewed call */
        pthread_t t;
        pthread_create(&t, NULL, fire_later, w);
        double t0 = now_ms();
        expect_wake(cq, w, 10000);
        double took = now_ms() - t0;
        assert_true(took >= 90 && took < 2000);
        pthread_join(t, NULL);
    }
    stop_and_drain(cq, w);
}

static void wake_before_the_sleep_is_kept(void **state)
{
    (void)state;
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    rt_cq_wake *w = rt_cq_wake_create(cq);
    rt_cq_wake_fire(w);
    rt_cq_wake_fire(w); /* counts once */
    expect_wake(cq, w, 1000);
    expect_quiet(cq, 100);
    rt_cq_wake_fire(w);
    expect_wake(cq, w, 1000);
    stop_and_drain(cq, w);
}

static void stop_while_parked_drains(void **state)
{
    (void)state;
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    rt_cq_wake *w = rt_cq_wake_create(cq);
    stop_and_drain(cq, w);
}

static void stop_after_a_fire_drains(void **state)
{
    (void)state;
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    rt_cq_wake *w = rt_cq_wake_create(cq);
    rt_cq_wake_fire(w);
    rt_cq_wake_stop(w); /* the fired call is the last one */
    expect_wake(cq, w, 1000);
    grpc_completion_queue_shutdown(cq);
    assert_int_equal(grpc_completion_queue_next(cq, in_ms(5000), NULL).type, GRPC_QUEUE_SHUTDOWN);
    grpc_completion_queue_destroy(cq);
    rt_cq_wake_destroy(w);
}

static void *write_later(void *arg)
{
    usleep(100 * 1000);
    ssize_t n = write(*(int *)arg, "x", 1);
    (void)n;
    return NULL;
}

static void readable_socket_ends_a_sleep(void **state)
{
    (void)state;
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    rt_cq_wake *w = rt_cq_wake_create(cq);
    rt_db_watch *watch = rt_db_watch_create(2, w);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct pollfd fds[2] = {{.fd = sv[0], .events = POLLIN}, {.fd = -1}};
    for (unsigned epoch = 0; epoch < 2; epoch++) { /* registered, then re-armed after it fired */
        assert_true(rt_db_watch_sleep(watch, fds, 2, 0));
        pthread_t t;
        pthread_create(&t, NULL, write_later, &sv[1]);
        double t0 = now_ms();
        expect_wake(cq, w, 10000);
        assert_true(now_ms() - t0 < 2000);
        rt_db_watch_awake(watch);
        assert_true(rt_db_watch_ready(watch));
        assert_false(rt_db_watch_ready(watch)); /* cleared */
        pthread_join(t, NULL);
        char c;
        assert_int_equal(read(sv[0], &c, 1), 1);
    }
    /* Ready as the loop goes to sleep: either it does not sleep, or the
     * report ends the sleep; never lost. */
    for (unsigned i = 0; i < 50; i++) {
        assert_int_equal(write(sv[1], "x", 1), 1);
        bool slept = rt_db_watch_sleep(watch, fds, 2, i / 10); /* re-armed, or anew with each epoch */
        if (slept)
            expect_wake(cq, w, 2000);
        rt_db_watch_awake(watch);
        assert_true(rt_db_watch_ready(watch));
        char c;
        assert_int_equal(read(sv[0], &c, 1), 1);
    }
    rt_db_watch_destroy(watch);
    close(sv[0]);
    close(sv[1]);
    stop_and_drain(cq, w);
}

static void ready_before_the_sleep_keeps_the_loop_awake(void **state)
{
    (void)state;
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    rt_cq_wake *w = rt_cq_wake_create(cq);
    rt_db_watch *watch = rt_db_watch_create(1, w);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct pollfd fds[1] = {{.fd = sv[0], .events = POLLIN}};
    assert_true(rt_db_watch_sleep(watch, fds, 1, 0));
    rt_db_watch_awake(watch); /* the loop went on: no wake is due for what follows */
    assert_int_equal(write(sv[1], "x", 1), 1);
    expect_quiet(cq, 200); /* reported while awake: no wake */
    assert_true(rt_db_watch_ready(watch)); /* the loop sees it at its next turn */
    assert_false(rt_db_watch_ready(watch));
    rt_db_watch_destroy(watch);
    close(sv[0]);
    close(sv[1]);
    stop_and_drain(cq, w);
}

int main(void)
{
    grpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wake_ends_a_sleep),
        cmocka_unit_test(wake_before_the_sleep_is_kept),
        cmocka_unit_test(stop_while_parked_drains),
        cmocka_unit_test(stop_after_a_fire_drains),
        cmocka_unit_test(readable_socket_ends_a_sleep),
        cmocka_unit_test(ready_before_the_sleep_keeps_the_loop_awake),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    grpc_shutdown();
    return failed;
}
