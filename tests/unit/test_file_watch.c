/* Change detection (a rewrite, a rename over the file, a removal) and the
 * ticker's periodic calls and prompt stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "file_watch.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void changes_are_seen(void **state)
{
    (void)state;
    char dir[] = "/tmp/test-file-watch-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], other[64];
    snprintf(path, sizeof path, "%s/f", dir);
    snprintf(other, sizeof other, "%s/g", dir);
    struct stat seen = {0};
    assert_false(rt_file_changed(path, &seen)); /* absent, as first seen */
    write_file(path, "one");
    assert_true(rt_file_changed(path, &seen));
    assert_false(rt_file_changed(path, &seen));
    write_file(path, "two!"); /* size changes */
    assert_true(rt_file_changed(path, &seen));
    write_file(other, "two!");
    assert_int_equal(rename(other, path), 0); /* same size, new inode */
    assert_true(rt_file_changed(path, &seen));
    assert_int_equal(unlink(path), 0);
    assert_true(rt_file_changed(path, &seen));
    assert_false(rt_file_changed(path, &seen));
    assert_int_equal(rmdir(dir), 0);
}

static void count(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void ticker_ticks_and_stops(void **state)
{
    (void)state;
    atomic_int n = 0;
    rt_ticker *t = rt_ticker_start(1, "test-tick", count, &n);
    usleep(2300 * 1000);
    rt_ticker_stop(t); /* returns at once, not at the next tick */
    int seen = atomic_load(&n);
    assert_true(seen >= 1 && seen <= 3);
    rt_ticker_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(changes_are_seen),
        cmocka_unit_test(ticker_ticks_and_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
