/* The wire walk before decoding (wire.h), on a generated message with a
 * nested one (google.rpc.BadRequest and its FieldViolation): NUL bytes in
 * nested strings are named by path, unknown fields are dropped at every
 * depth with the nested length prefixes rewritten, malformed bytes and
 * groups are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "google/rpc/error_details.pb-c.h"
#include "wire.h"

static const ProtobufCMessageDescriptor *const bad_request = &google__rpc__bad_request__descriptor;

static void nul_in_a_nested_string_is_named_by_path(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    /* field_violations { field: "email" description: "x\0y" } */
    const uint8_t wire[] = {0x0a, 0x0c, 0x0a, 0x05, 'e', 'm', 'a', 'i', 'l', 0x12, 0x03, 'x', 0, 'y'};
    size_t kept;
    int unknown;
    const char *field;
    assert_int_equal(rt_wire_scrub(wire, sizeof wire, bad_request, NULL, &kept, &unknown, a, &field), RT_WIRE_NUL);
    assert_string_equal(field, "field_violations.description");
    rt_arena_free(a);
}

static void unknown_fields_are_dropped_at_every_depth(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    /* unknown 9 = 1; field_violations { field: "email"; unknown 9 = 1; description: "bad" } */
    const uint8_t wire[] = {0x48, 0x01, 0x0a, 0x0e, 0x0a, 0x05, 'e', 'm', 'a', 'i', 'l',
                            0x48, 0x01, 0x12, 0x03, 'b', 'a', 'd'};
    uint8_t out[sizeof wire];
    size_t kept;
    int unknown;
    const char *field;
    assert_int_equal(rt_wire_scrub(wire, sizeof wire, bad_request, out, &kept, &unknown, a, &field), RT_WIRE_OK);
    assert_true(unknown);
    assert_int_equal(kept, sizeof wire - 4);
    ProtobufCAllocator allocator = rt_arena_allocator(a);
    Google__Rpc__BadRequest *m = (Google__Rpc__BadRequest *)protobuf_c_message_unpack(bad_request, &allocator, kept, out);
    assert_non_null(m);
    assert_int_equal(m->base.n_unknown_fields, 0);
    assert_int_equal(m->n_field_violations, 1);
    assert_int_equal(m->field_violations[0]->base.n_unknown_fields, 0);
    assert_string_equal(m->field_violations[0]->field, "email");
    assert_string_equal(m->field_violations[0]->description, "bad");
    rt_arena_free(a);
}

static void malformed_bytes_and_groups_are_refused(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    const uint8_t truncated[] = {0x0a, 0x05, 0x0a};
    const uint8_t group[] = {0x0b, 0x0c};
    const uint8_t tag_zero[] = {0x00, 0x01};
    const uint8_t *cases[] = {truncated, group, tag_zero};
    const size_t lens[] = {sizeof truncated, sizeof group, sizeof tag_zero};
    for (size_t i = 0; i < 3; i++) {
        size_t kept;
        int unknown;
        const char *field;
        assert_int_equal(rt_wire_scrub(cases[i], lens[i], bad_request, NULL, &kept, &unknown, a, &field),
                         RT_WIRE_MALFORMED);
    }
    rt_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nul_in_a_nested_string_is_named_by_path),
        cmocka_unit_test(unknown_fields_are_dropped_at_every_depth),
        cmocka_unit_test(malformed_bytes_and_groups_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
