/* Fibers: control passes only at yield, each fiber keeps its own stack
 * (locals survive being switched out), and a finished fiber is reusable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fiber.h"

typedef struct {
    char trace[32];
    size_t len;
} journal;

static void note(journal *j, char c)
{
    j->trace[j->len++] = c;
    j->trace[j->len] = '\0';
}

typedef struct {
    journal *journal;
    char name;
    int yields;
    rt_fiber *seen_self;
} task;

static void run_task(void *arg)
{
    task *t = arg;
    char local[64]; /* must survive the switches */
    memset(local, t->name, sizeof local);
    t->seen_self = rt_fiber_self();
    for (int i = 0; i < t->yields; i++) {
        note(t->journal, t->name);
        rt_fiber_yield();
    }
    for (size_t i = 0; i < sizeof local; i++)
        assert_int_equal(local[i], t->name);
    note(t->journal, (char)(t->name - 'a' + 'A'));
}

static void fibers_interleave_only_at_yield(void **state)
{
    (void)state;
    journal j = {0};
    rt_fiber *a = rt_fiber_create(), *b = rt_fiber_create();
    task ta = {&j, 'a', 2, NULL}, tb = {&j, 'b', 1, NULL};
    assert_false(rt_fiber_start(a, run_task, &ta));
    assert_false(rt_fiber_start(b, run_task, &tb));
    assert_ptr_equal(rt_fiber_arg(a), &ta);
    assert_false(rt_fiber_resume(a));
    assert_true(rt_fiber_resume(b));
    assert_true(rt_fiber_resume(a));
    assert_string_equal(j.trace, "abaBA");
    assert_ptr_equal(ta.seen_self, a);
    assert_ptr_equal(tb.seen_self, b);
    assert_null(rt_fiber_self());
    rt_fiber_destroy(a);
    rt_fiber_destroy(b);
}

static void a_finished_fiber_runs_again(void **state)
{
    (void)state;
    journal j = {0};
    rt_fiber *f = rt_fiber_create();
    task t1 = {&j, 'x', 0, NULL}, t2 = {&j, 'y', 1, NULL};
    assert_true(rt_fiber_start(f, run_task, &t1));
    assert_false(rt_fiber_start(f, run_task, &t2));
    assert_true(rt_fiber_resume(f));
    assert_string_equal(j.trace, "XyY");
    rt_fiber_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fibers_interleave_only_at_yield),
        cmocka_unit_test(a_finished_fiber_runs_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
