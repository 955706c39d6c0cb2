/* Array parameters (db_array.h): the PostgreSQL array literal text for
 * strings that need quoting and escaping, NULL elements, integers at their
 * limits and empty lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_array.h"

static void text_elements_are_quoted_and_escaped(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(64);
    const char *items[] = {"a", "b c", "say \"hi\"", "back\\slash", NULL, ""};
    assert_string_equal(rt_db_param_text_array(arena, items, 6),
                        "{\"a\",\"b c\",\"say \\\"hi\\\"\",\"back\\\\slash\",NULL,\"\"}");
    assert_string_equal(rt_db_param_text_array(arena, items, 0), "{}");
    rt_arena_free(arena);
}

static void integers_at_their_limits(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(64);
    const int32_t small[] = {INT32_MIN, 0, INT32_MAX};
    const int64_t big[] = {INT64_MIN, INT64_MAX};
    assert_string_equal(rt_db_param_int32_array(arena, small, 3), "{-2147483648,0,2147483647}");
    assert_string_equal(rt_db_param_int64_array(arena, big, 2),
                        "{-9223372036854775808,9223372036854775807}");
    assert_string_equal(rt_db_param_int64_array(arena, big, 0), "{}");
    rt_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_elements_are_quoted_and_escaped),
        cmocka_unit_test(integers_at_their_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
