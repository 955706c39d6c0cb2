/* Which listen addresses count as loopback for the plaintext warning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tls.h"

static void loopback_addresses(void **state)
{
    (void)state;
    assert_true(rt_tls_is_loopback("127.0.0.1:50051"));
    assert_true(rt_tls_is_loopback("127.8.9.10:1"));
    assert_true(rt_tls_is_loopback("localhost:50051"));
    assert_true(rt_tls_is_loopback("[::1]:50051"));
    assert_false(rt_tls_is_loopback("0.0.0.0:50051"));
    assert_false(rt_tls_is_loopback("[::]:50051"));
    assert_false(rt_tls_is_loopback("10.0.0.7:50051"));
    assert_false(rt_tls_is_loopback("localhost.example.com:50051"));
    assert_false(rt_tls_is_loopback("1270.0.0.1:5"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loopback_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
