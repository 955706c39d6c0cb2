/* Byte buffers <-> messages, with a message descriptor built by hand so
 * the runtime is tested without any generated code: round trip, empty
 * messages, garbage and missing payloads, NUL bytes in strings, unknown
 * fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>

#include "codec.h"

/* message Tiny { string name = 1; int32 n = 2; } */
typedef struct {
    ProtobufCMessage base;
    char *name;
    int32_t n;
} Tiny;

static const ProtobufCMessageDescriptor tiny_descriptor;

static void tiny_init(ProtobufCMessage *m)
{
    Tiny *t = (Tiny *)m;
    memset(t, 0, sizeof *t);
    t->base.descriptor = &tiny_descriptor;
    t->name = (char *)protobuf_c_empty_string;
}

static const ProtobufCFieldDescriptor tiny_fields[] = {
    {"name", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0, offsetof(Tiny, name), NULL,
     &protobuf_c_empty_string, 0, 0, NULL, NULL},
    {"n", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32, 0, offsetof(Tiny, n), NULL, NULL, 0, 0, NULL, NULL},
};
static const unsigned tiny_by_name[] = {1, 0};
static const ProtobufCIntRange tiny_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor tiny_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Tiny", "Tiny", "Test__Tiny", "test", sizeof(Tiny), 2,
    tiny_fields, tiny_by_name, 1, tiny_ranges, tiny_init, NULL, NULL, NULL,
};

static grpc_byte_buffer *bytes(const void *data, size_t len)
{
    grpc_slice s = grpc_slice_from_copied_buffer(data, len);
    grpc_byte_buffer *b = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return b;
}

static void round_trip(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    Tiny in;
    tiny_init(&in.base);
    in.name = "Jane \xc3\xa9";
    in.n = -7;
    grpc_byte_buffer *b = rt_codec_encode(&in.base);
    ProtobufCMessage *out;
    assert_true(rt_codec_decode(a, b, &tiny_descriptor, &out, NULL));
    assert_string_equal(((Tiny *)out)->name, "Jane \xc3\xa9");
    assert_int_equal(((Tiny *)out)->n, -7);
    assert_true(rt_arena_used(a) > 0); /* decoded into the arena */
    grpc_byte_buffer_destroy(b);
    rt_arena_free(a);
}

static void empty_payload_is_the_default_message(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    grpc_byte_buffer *b = bytes("", 0);
    ProtobufCMessage *out;
    assert_true(rt_codec_decode(a, b, &tiny_descriptor, &out, NULL));
    assert_string_equal(((Tiny *)out)->name, "");
    assert_int_equal(((Tiny *)out)->n, 0);
    grpc_byte_buffer_destroy(b);
    rt_arena_free(a);
}

static void garbage_and_missing_payloads_are_refused(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    ProtobufCMessage *out = (ProtobufCMessage *)1;
    assert_false(rt_codec_decode(a, NULL, &tiny_descriptor, &out, NULL));
    assert_null(out);
    const unsigned char garbage[][4] = {
        {0xff, 0xff, 0xff, 0xff}, /* invalid tag varint */
        {0x0a, 0x05, 'a', 'b'},   /* string longer than the buffer */
        {0x10, 0x80, 0x80, 0x80}, /* truncated varint */
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        grpc_byte_buffer *b = bytes(garbage[i], sizeof garbage[i]);
        assert_false(rt_codec_decode(a, b, &tiny_descriptor, &out, NULL));
        assert_null(out);
        grpc_byte_buffer_destroy(b);
    }
    rt_arena_free(a);
}

/* "Jane\0junk" passes strlen-based rules as "Jane": refused, field named. */
static void string_with_nul_is_refused_by_name(void **state)
{
    (void)state;
    rt_arena *a = rt_arena_new(256);
    const unsigned char wire[] = {0x10, 0x07, 0x0a, 0x04, 'J', 0, 'x', 'y'};
    grpc_byte_buffer *b = bytes(wire, sizeof wire);
    ProtobufCMessage *out;
    const char *field = NULL;
    assert_false(rt_codec_decode(a, b, &tiny_descriptor, &out, &field));
    assert_null(out);
    assert_string_equal(field, "name");
    grpc_byte_buffer_destroy(b);
    rt_arena_free(a);
}

/* 2-byte unknown fields (tag 9, varint) cost the arena nothing: the
 * message decodes as if they were not there. */
static void unknown_fields_are_dropped(void **state)
{
    (void)state;
    enum { N = 4000 };
    unsigned char wire[2 * N + 6];
    for (size_t i = 0; i < N; i++) {
        wire[2 * i] = 0x48;
        wire[2 * i + 1] = 0x01;
    }
    memcpy(wire + 2 * N, (const unsigned char[]){0x0a, 0x02, 'o', 'k', 0x10, 0x05}, 6);
    grpc_byte_buffer *b = bytes(wire, sizeof wire);
    rt_arena *a = rt_arena_new(256);
    ProtobufCMessage *out;
    const char *field = "unset";
    assert_true(rt_codec_decode(a, b, &tiny_descriptor, &out, &field));
    assert_null(field);
    assert_string_equal(((Tiny *)out)->name, "ok");
    assert_int_equal(((Tiny *)out)->n, 5);
    assert_int_equal(out->n_unknown_fields, 0);
    assert_true(rt_arena_used(a) < 1024);
    grpc_byte_buffer_destroy(b);
    rt_arena_free(a);
}

static int setup(void **state)
{
    (void)state;
    grpc_init();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    grpc_shutdown();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(empty_payload_is_the_default_message),
        cmocka_unit_test(garbage_and_missing_payloads_are_refused),
        cmocka_unit_test(string_with_nul_is_refused_by_name),
        cmocka_unit_test(unknown_fields_are_dropped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
