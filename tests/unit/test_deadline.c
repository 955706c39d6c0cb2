/* Deadline arithmetic across clocks and infinities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deadline.h"

static void infinite_and_past(void **state)
{
    (void)state;
    assert_int_equal(rt_deadline_ms_left(gpr_inf_future(GPR_CLOCK_REALTIME), 500), 500);
    assert_int_equal(rt_deadline_ms_left(gpr_inf_future(GPR_CLOCK_MONOTONIC), 7), 7);
    assert_false(rt_deadline_passed(gpr_inf_future(GPR_CLOCK_MONOTONIC)));
    assert_true(rt_deadline_passed(gpr_inf_past(GPR_CLOCK_MONOTONIC)));
    assert_true(rt_deadline_passed(gpr_now(GPR_CLOCK_MONOTONIC)));
}

static void finite_deadlines_on_either_clock(void **state)
{
    (void)state;
    gpr_timespec in_2s = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(2, GPR_TIMESPAN));
    int64_t left = rt_deadline_ms_left(in_2s, 1000000);
    assert_true(left > 1900 && left <= 2000);
    assert_int_equal(rt_deadline_ms_left(in_2s, 100), 100);
    gpr_timespec real = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_seconds(2, GPR_TIMESPAN));
    left = rt_deadline_ms_left(real, 1000000);
    assert_true(left > 1900 && left <= 2000);
    gpr_timespec ago = gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(5, GPR_TIMESPAN));
    assert_true(rt_deadline_passed(ago));
    assert_true(rt_elapsed_ms(ago) >= 5.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(infinite_and_past),
        cmocka_unit_test(finite_deadlines_on_either_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
