/* W3C traceparent handling (trace.h): which headers are joined and which
 * start a new trace, flags and tracestate, child headers, the ratio
 * sampler; and the OTLP JSON of a span (otlp_export.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otlp_export.h"
#include "trace.h"

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"

/* The trace of a call whose metadata holds key: value pairs (NULL-ended). */
static rt_trace begin(const char *const *kv)
{
    grpc_metadata md[4];
    grpc_metadata_array a = {.metadata = md};
    for (; kv[0]; kv += 2) {
        md[a.count].key = grpc_slice_from_static_string(kv[0]);
        md[a.count].value = grpc_slice_from_static_string(kv[1]);
        a.count++;
    }
    rt_trace t;
    rt_trace_begin(&t, &a);
    return t;
}

static bool joined(const char *traceparent)
{
    rt_trace t = begin((const char *[]){"traceparent", traceparent, NULL});
    return strcmp(t.trace_hex, TRACE) == 0;
}

static void joins_valid_headers(void **state)
{
    (void)state;
    rt_trace t = begin((const char *[]){"traceparent", "00-" TRACE "-" PARENT "-01", "tracestate", "a=1,b=2", NULL});
    assert_string_equal(t.trace_hex, TRACE);
    assert_int_equal(t.flags, 1);
    assert_int_equal(t.parent_id[0], 0x00);
    assert_int_equal(t.parent_id[7], 0xb7);
    assert_int_equal(strlen(t.span_hex), 16);
    assert_string_not_equal(t.span_hex, PARENT);
    assert_int_equal(t.state_len, 7);
    assert_memory_equal(t.state, "a=1,b=2", 7);
    t = begin((const char *[]){"traceparent", "00-" TRACE "-" PARENT "-00", NULL});
    assert_int_equal(t.flags, 0);
    assert_true(joined("01-" TRACE "-" PARENT "-01-future-field")); /* a later version's extra fields */
    assert_true(joined("00-" TRACE "-" PARENT "-03"));
}

static void starts_a_trace_for_invalid_ones(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "00-" TRACE "-" PARENT, "00-" TRACE "-" PARENT "-01-extra", "ff-" TRACE "-" PARENT "-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT "-01", "00-00000000000000000000000000000000-" PARENT "-01",
        "00-" TRACE "-0000000000000000-01", "00_" TRACE "-" PARENT "-01", "00-" TRACE "-" PARENT "-0g",
        "0x-" TRACE "-" PARENT "-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(joined(bad[i]));
        rt_trace t = begin((const char *[]){"traceparent", bad[i], "tracestate", "a=1", NULL});
        assert_int_equal(strlen(t.trace_hex), 32);
        assert_string_not_equal(t.trace_hex, "00000000000000000000000000000000");
        assert_null(t.state); /* tracestate goes with the parent it came with */
        uint8_t zero[8] = {0};
        assert_memory_equal(t.parent_id, zero, 8);
        assert_int_equal(t.flags, 1); /* the default sampler: parentbased_always_on */
    }
    rt_trace t = begin((const char *[]){"traceparent", "00-" TRACE "-" PARENT "-01", "tracestate", "a=\x01", NULL});
    assert_null(t.state);
}

static void child_header(void **state)
{
    (void)state;
    rt_trace t = begin((const char *[]){"traceparent", "00-" TRACE "-" PARENT "-01", NULL});
    uint8_t span[8];
    char header[RT_TRACEPARENT_LEN + 1];
    rt_trace_child(&t, span, header);
    assert_int_equal(strlen(header), RT_TRACEPARENT_LEN);
    assert_memory_equal(header, "00-" TRACE "-", 36);
    assert_memory_equal(header + 52, "-01", 3);
    rt_trace c = begin((const char *[]){"traceparent", header, NULL});
    assert_memory_equal(c.parent_id, span, 8);
    assert_string_equal(c.trace_hex, TRACE);
}

static void unique_ids(void **state)
{
    (void)state;
    char seen[200][17];
    for (int i = 0; i < 200; i++) {
        rt_trace t = begin((const char *[]){NULL});
        strcpy(seen[i], t.span_hex);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(seen[k], seen[i]);
    }
}

static void ratio_sampler(void **state)
{
    (void)state;
    setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "0.25", 1);
    rt_trace_init("test", "0");
    int sampled = 0;
    for (int i = 0; i < 4000; i++)
        sampled += begin((const char *[]){NULL}).flags;
    assert_in_range(sampled, 800, 1200);
    /* Not parent-based: the caller's flag does not decide. */
    int kept = 0;
    for (int i = 0; i < 400; i++) {
        rt_trace t = begin((const char *[]){NULL});
        char header[RT_TRACEPARENT_LEN + 1];
        uint8_t span[8];
        rt_trace_child(&t, span, header);
        header[54] = '1';
        kept += begin((const char *[]){"traceparent", header, NULL}).flags == t.flags;
    }
    assert_int_equal(kept, 400);
    setenv("OTEL_TRACES_SAMPLER", "parentbased_always_off", 1);
    rt_trace_init("test", "0");
    assert_int_equal(begin((const char *[]){NULL}).flags, 0);
    assert_int_equal(begin((const char *[]){"traceparent", "00-" TRACE "-" PARENT "-01", NULL}).flags, 1);
    unsetenv("OTEL_TRACES_SAMPLER");
    unsetenv("OTEL_TRACES_SAMPLER_ARG");
    rt_trace_init("test", "0");
}

static void otlp_json(void **state)
{
    (void)state;
    rt_span s = {.kind = RT_SPAN_SERVER, .name = "/user.UserService/CreateUser", .start_ns = 1, .end_ns = 2,
                 .code = GRPC_STATUS_INTERNAL};
    memset(s.trace_id, 0xab, 16);
    memset(s.span_id, 0x01, 8);
    size_t len;
    char *json = rt_otlp_json(&s, 1, "svc \"x\"", "1.0", &len);
    assert_non_null(json);
    assert_int_equal(strlen(json), len);
    assert_non_null(strstr(json, "\"service.name\",\"value\":{\"stringValue\":\"svc \\\"x\\\"\"}"));
    assert_non_null(strstr(json, "\"traceId\":\"abababababababababababababababab\",\"spanId\":\"0101010101010101\","
                                 "\"parentSpanId\":\"\",\"name\":\"user.UserService/CreateUser\",\"kind\":2"));
    assert_non_null(strstr(json, "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\""));
    assert_non_null(strstr(json, "\"rpc.method\",\"value\":{\"stringValue\":\"CreateUser\"}"));
    assert_non_null(strstr(json, "\"status\":{\"code\":2}"));
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(joins_valid_headers),
        cmocka_unit_test(starts_a_trace_for_invalid_ones),
        cmocka_unit_test(child_header),
        cmocka_unit_test(unique_ids),
        cmocka_unit_test(ratio_sampler),
        cmocka_unit_test(otlp_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
