/* Deadline arithmetic (deadline.h). Done by hand on tv_sec/tv_nsec because
 * gpr's helpers assert on mixed clock types and saturate inconsistently. */
#include "deadline.h"

gpr_timespec rt_deadline_monotonic(gpr_timespec deadline)
{
    if (deadline.tv_sec == INT64_MAX)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    if (deadline.tv_sec == INT64_MIN)
        return gpr_inf_past(GPR_CLOCK_MONOTONIC);
    return gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC);
}

int64_t rt_deadline_ms_left(gpr_timespec deadline, int64_t cap)
{
    deadline = rt_deadline_monotonic(deadline);
    if (deadline.tv_sec == INT64_MAX)
        return cap;
    if (deadline.tv_sec == INT64_MIN)
        return 0;
    gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
    int64_t ns = (deadline.tv_sec - now.tv_sec) * 1000000000 + (deadline.tv_nsec - now.tv_nsec);
    if (ns <= 0)
        return 0;
    int64_t ms = (ns + 999999) / 1000000; /* a partial millisecond still counts */
    return ms > cap ? cap : ms;
}

bool rt_deadline_passed(gpr_timespec deadline)
{
    return rt_deadline_ms_left(deadline, 1) == 0;
}

double rt_elapsed_ms(gpr_timespec start)
{
    gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
    return (double)(now.tv_sec - start.tv_sec) * 1e3 + (double)(now.tv_nsec - start.tv_nsec) / 1e6;
}
