/* The grpc-status-details-bin payload of a failed validation: a
 * google.rpc.Status whose one detail is a BadRequest (packed in an Any with
 * the standard type URL) listing every violation in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "status_details.h"

static void bad_request_round_trip(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(1024);
    rt_violations v = {0};
    rt_violations_add(&v, "email", "must be a valid email address");
    rt_violations_add(&v, "name", "must not be empty");
    grpc_slice bytes = rt_status_details_bad_request(arena, GRPC_STATUS_INVALID_ARGUMENT, "invalid X", &v);

    Google__Rpc__Status *st =
        google__rpc__status__unpack(NULL, GRPC_SLICE_LENGTH(bytes), GRPC_SLICE_START_PTR(bytes));
    assert_non_null(st);
    assert_int_equal(st->code, GRPC_STATUS_INVALID_ARGUMENT);
    assert_string_equal(st->message, "invalid X");
    assert_int_equal(st->n_details, 1);
    assert_string_equal(st->details[0]->type_url, RT_BAD_REQUEST_TYPE_URL);
    Google__Rpc__BadRequest *bad =
        google__rpc__bad_request__unpack(NULL, st->details[0]->value.len, st->details[0]->value.data);
    assert_non_null(bad);
    assert_int_equal(bad->n_field_violations, 2);
    assert_string_equal(bad->field_violations[0]->field, "email");
    assert_string_equal(bad->field_violations[0]->description, "must be a valid email address");
    assert_string_equal(bad->field_violations[1]->field, "name");
    assert_string_equal(bad->field_violations[1]->description, "must not be empty");

    google__rpc__bad_request__free_unpacked(bad, NULL);
    google__rpc__status__free_unpacked(st, NULL);
    grpc_slice_unref(bytes);
    rt_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_request_round_trip),
    };
    return cmocka_run_group_tests_name("status_details", tests, NULL, NULL);
}
