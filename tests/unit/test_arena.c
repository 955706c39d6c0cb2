/* The per-call arena: alignment, growth across blocks, reset keeping the
 * first block, oversized requests, and its use as protobuf-c allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static void allocations_are_16_byte_aligned(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    for (size_t size = 0; size < 100; size++) {
        void *p = rt_arena_alloc(a, size);
        assert_int_equal((uintptr_t)p % 16, 0);
    }
    rt_arena_free(a);
}

static void grows_beyond_the_first_block_without_overlap(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(64);
    unsigned char *blocks[200];
    for (int i = 0; i < 200; i++) {
        blocks[i] = rt_arena_alloc(a, 40);
        memset(blocks[i], i, 40);
    }
    for (int i = 0; i < 200; i++)
        for (int k = 0; k < 40; k++)
            assert_int_equal(blocks[i][k], (unsigned char)i);
    assert_int_equal(rt_arena_used(a), 200 * 40);
    rt_arena_free(a);
}

static void big_allocations_get_their_own_block(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(128);
    char *small = rt_arena_strdup(a, "before");
    size_t big = 4 * 1024 * 1024;
    unsigned char *p = rt_arena_alloc(a, big);
    memset(p, 0xAB, big);
    assert_int_equal(p[big - 1], 0xAB);
    assert_string_equal(small, "before");
    assert_string_equal(rt_arena_strdup(a, "after"), "after");
    rt_arena_free(a);
}

static void reset_releases_everything_and_reuses_the_first_block(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(1024);
    void *first = rt_arena_alloc(a, 16);
    for (int i = 0; i < 100; i++)
        rt_arena_alloc(a, 512);
    assert_true(rt_arena_used(a) > 1024);
    rt_arena_reset(a);
    assert_int_equal(rt_arena_used(a), 0);
    assert_ptr_equal(rt_arena_alloc(a, 16), first);
    rt_arena_free(a);
}

static void zalloc_and_string_helpers(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(32);
    unsigned char *z = rt_arena_zalloc(a, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    assert_string_equal(rt_arena_strndup(a, "abcdef", 3), "abc");
    assert_string_equal(rt_arena_strndup(a, "ab", 10), "ab");
    assert_string_equal(rt_arena_printf(a, "%s-%d", "x", 42), "x-42");
    char longer[600];
    memset(longer, 'q', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_string_equal(rt_arena_printf(a, "%s", longer), longer);
    rt_arena_free(a);
}

static void protobuf_allocator_uses_the_arena(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    ProtobufCAllocator alloc = rt_arena_allocator(a);
    void *p = alloc.alloc(alloc.allocator_data, 100);
    assert_non_null(p);
    assert_int_equal(rt_arena_used(a), 100);
    alloc.free(alloc.allocator_data, p); /* a no-op: the arena owns it */
    assert_int_equal(rt_arena_used(a), 100);
    rt_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocations_are_16_byte_aligned),
        cmocka_unit_test(grows_beyond_the_first_block_without_overlap),
        cmocka_unit_test(big_allocations_get_their_own_block),
        cmocka_unit_test(reset_releases_everything_and_reuses_the_first_block),
        cmocka_unit_test(zalloc_and_string_helpers),
        cmocka_unit_test(protobuf_allocator_uses_the_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
