/* Timestamps as the API shows them: UTC ISO-8601 with exactly three
 * fractional digits and a Z, the format the replaced system produced. */
#ifndef RT_TIMEFMT_H
#define RT_TIMEFMT_H

#include <stdbool.h>
#include <time.h>

#define RT_TIMEFMT_LEN 24 /* "2026-04-02T17:26:48.123Z" */

/* PostgreSQL ISO output of a UTC timestamp ("2026-04-02 17:26:48.12",
 * optionally with up to 6 fractional digits and a "+00" offset) ->
 * out[25]; fractions are truncated to milliseconds. False on anything else
 * (BC dates, infinity, other offsets). */
bool rt_timefmt_from_pg(const char *pg, char out[RT_TIMEFMT_LEN + 1]);
/* A realtime clock reading in the same format, for log lines. */
void rt_timefmt_from_timespec(const struct timespec *ts, char out[RT_TIMEFMT_LEN + 1]);

#endif
