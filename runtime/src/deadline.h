/* Deadline arithmetic on the monotonic clock, where gRPC delivers a
 * caller's deadline; infinite deadlines are handled without overflow. */
#ifndef RT_DEADLINE_H
#define RT_DEADLINE_H

#include <grpc/support/time.h>
#include <stdbool.h>
#include <stdint.h>

/* deadline converted to GPR_CLOCK_MONOTONIC (infinities stay infinite). */
gpr_timespec rt_deadline_monotonic(gpr_timespec deadline);
/* Milliseconds left until deadline, clamped to [0, cap]. */
int64_t rt_deadline_ms_left(gpr_timespec deadline, int64_t cap);
bool rt_deadline_passed(gpr_timespec deadline);
/* Milliseconds elapsed since a monotonic start, with sub-ms precision. */
double rt_elapsed_ms(gpr_timespec start);

#endif
