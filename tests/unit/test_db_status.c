/* Every row of the SQLSTATE -> gRPC status table, and that no message ever
 * carries database text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_status.h"

static void expect(const char *sqlstate, grpc_status_code code, const char *message)
{
    rt_status s = rt_db_status_for_sqlstate(sqlstate);
    assert_int_equal(s.code, code);
    if (message)
        assert_string_equal(s.message, message);
    else
        assert_non_null(s.message);
}

static void constraint_violations(void **state)
{
    (void)state;
    expect("23505", GRPC_STATUS_ALREADY_EXISTS, "already exists");
    expect("23503", GRPC_STATUS_FAILED_PRECONDITION, "referenced row does not exist");
    expect("23514", GRPC_STATUS_FAILED_PRECONDITION, NULL);
    expect("23502", GRPC_STATUS_INTERNAL, "internal error"); /* not null: a bug of ours */
}

static void data_exceptions(void **state)
{
    (void)state;
    expect("22003", GRPC_STATUS_OUT_OF_RANGE, NULL);
    expect("22P02", GRPC_STATUS_INVALID_ARGUMENT, NULL);
    expect("22001", GRPC_STATUS_INVALID_ARGUMENT, NULL);
    expect("22007", GRPC_STATUS_INVALID_ARGUMENT, NULL);
}

static void cancellation_and_availability(void **state)
{
    (void)state;
    expect("57014", GRPC_STATUS_DEADLINE_EXCEEDED, NULL);
    expect("55P03", GRPC_STATUS_ABORTED, NULL);
    expect("08000", GRPC_STATUS_UNAVAILABLE, "database unavailable");
    expect("08006", GRPC_STATUS_UNAVAILABLE, "database unavailable");
    expect("57P01", GRPC_STATUS_UNAVAILABLE, "database unavailable");
    expect("57P02", GRPC_STATUS_UNAVAILABLE, "database unavailable");
    expect("57P03", GRPC_STATUS_UNAVAILABLE, "database unavailable");
    expect("57P04", GRPC_STATUS_INTERNAL, "internal error");
}

static void conflicts_and_resources(void **state)
{
    (void)state;
    expect("40001", GRPC_STATUS_ABORTED, NULL);
    expect("40P01", GRPC_STATUS_ABORTED, NULL);
    expect("40002", GRPC_STATUS_INTERNAL, "internal error");
    expect("53100", GRPC_STATUS_RESOURCE_EXHAUSTED, NULL);
    expect("53300", GRPC_STATUS_RESOURCE_EXHAUSTED, NULL);
}

static void everything_else_is_internal(void **state)
{
    (void)state;
    expect("42P01", GRPC_STATUS_INTERNAL, "internal error");
    expect("42601", GRPC_STATUS_INTERNAL, "internal error");
    expect("XX000", GRPC_STATUS_INTERNAL, "internal error");
    expect(NULL, GRPC_STATUS_INTERNAL, "internal error");
    expect("", GRPC_STATUS_INTERNAL, "internal error");
    expect("2350", GRPC_STATUS_INTERNAL, "internal error");
    expect("235050", GRPC_STATUS_INTERNAL, "internal error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constraint_violations),
        cmocka_unit_test(data_exceptions),
        cmocka_unit_test(cancellation_and_availability),
        cmocka_unit_test(conflicts_and_resources),
        cmocka_unit_test(everything_else_is_internal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
