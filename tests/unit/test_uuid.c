/* Generated ids: canonical lowercase v4 form, RFC 4122 variant, and no
 * repeats; plus the case folding applied to ids callers send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uuid.h"
#include "rules.h"

#define N 1000

static void format_version_and_variant(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) {
        char id[RT_UUID_STRLEN + 1];
        rt_uuid_v4(id);
        assert_int_equal(strlen(id), 36);
        assert_true(rt_rule_uuid(id, strlen(id)));
        for (int k = 0; k < 36; k++)
            assert_false(id[k] >= 'A' && id[k] <= 'Z');
        assert_int_equal(id[14], '4');
        assert_non_null(strchr("89ab", id[19]));
    }
}

static int compare(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void unique_over_many(void **state)
{
    (void)state;
    char (*ids)[RT_UUID_STRLEN + 1] = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++)
        rt_uuid_v4(ids[i]);
    qsort(ids, N, sizeof *ids, compare);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void lowercasing(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(128);
    assert_string_equal(rt_uuid_lower(a, "0AF3C2D1-ABCD-4EF0-9ABC-DEF012345678"),
                        "0af3c2d1-abcd-4ef0-9abc-def012345678");
    assert_string_equal(rt_uuid_lower(a, ""), "");
    assert_string_equal(rt_uuid_lower(a, NULL), "");
    rt_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_version_and_variant),
        cmocka_unit_test(unique_over_many),
        cmocka_unit_test(lowercasing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
