/* PostgreSQL timestamp text -> API timestamps: every shape PostgreSQL
 * prints for TIMESTAMP(3) and timestamptz in UTC, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "timefmt.h"

static void converts(const char *pg, const char *iso)
{
    char out[RT_TIMEFMT_LEN + 1];
    assert_true(rt_timefmt_from_pg(pg, out));
    assert_string_equal(out, iso);
}

static void refuses(const char *pg)
{
    char out[RT_TIMEFMT_LEN + 1];
    assert_false(rt_timefmt_from_pg(pg, out));
}

static void fraction_shapes(void **state)
{
    (void)state;
    converts("2026-04-02 17:26:48", "2026-04-02T17:26:48.000Z");
    converts("2026-04-02 17:26:48.1", "2026-04-02T17:26:48.100Z");
    converts("2026-04-02 17:26:48.12", "2026-04-02T17:26:48.120Z");
    converts("2026-04-02 17:26:48.123", "2026-04-02T17:26:48.123Z");
    converts("2026-04-02 17:26:48.1239", "2026-04-02T17:26:48.123Z");
    converts("2026-04-02 17:26:48.123456", "2026-04-02T17:26:48.123Z");
    converts("2026-04-02 17:26:48.999999", "2026-04-02T17:26:48.999Z"); /* truncated, not rounded */
}

static void utc_offsets_and_separators(void **state)
{
    (void)state;
    converts("2026-04-02 17:26:48.12+00", "2026-04-02T17:26:48.120Z");
    converts("2026-04-02 17:26:48+00:00", "2026-04-02T17:26:48.000Z");
    converts("2026-04-02T17:26:48.5", "2026-04-02T17:26:48.500Z");
    converts("2024-02-29 00:00:00", "2024-02-29T00:00:00.000Z");
    converts("0001-01-01 00:00:00", "0001-01-01T00:00:00.000Z");
}

static void refused_shapes(void **state)
{
    (void)state;
    refuses("");
    refuses(NULL);
    refuses("infinity");
    refuses("-infinity");
    refuses("2026-04-02");
    refuses("2026-04-02 17:26");
    refuses("2026-04-02 17:26:48.");
    refuses("2026-04-02 17:26:48.1234567");
    refuses("2026-04-02 17:26:48+02");
    refuses("2026-04-02 17:26:48 BC");
    refuses("2026-13-02 17:26:48");
    refuses("2026-04-31 17:26:48");
    refuses("2025-02-29 17:26:48");
    refuses("2026-04-02 24:00:00");
    refuses("2026-04-02 17:60:48");
    refuses("26-04-02 17:26:48");
    refuses("12026-04-02 17:26:48");
    refuses("2026/04/02 17:26:48");
}

static void realtime_clock_format(void **state)
{
    (void)state;
    struct timespec ts = {.tv_sec = 1775150808, .tv_nsec = 123999999};
    char out[RT_TIMEFMT_LEN + 1];
    rt_timefmt_from_timespec(&ts, out);
    assert_string_equal(out, "2026-04-02T17:26:48.123Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fraction_shapes),
        cmocka_unit_test(utc_offsets_and_separators),
        cmocka_unit_test(refused_shapes),
        cmocka_unit_test(realtime_clock_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
