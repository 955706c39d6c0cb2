/* Which calls get the peer service's admission class (admission.h): only
 * those a peer's certificate or address proves, never a header alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "admission.h"

static rt_admission *admission_for(char *address, char *tls_name)
{
    char *addresses[] = {address};
    char *names[] = {tls_name};
    rt_config config = {.peer_addresses = addresses, .peer_tls_names = names, .n_peers = 1};
    return rt_admission_create(&config);
}

static void certificate_must_name_the_peer(void **state)
{
    (void)state;
    rt_admission *a = admission_for("127.0.0.1:50052", "wallet-service");
    const char *peer_dns[] = {"localhost", "Wallet-Service"};
    const char *client_dns[] = {"admin"};
    const char *ips[] = {"127.0.0.1"};
    assert_true(rt_admission_matches(a, true, peer_dns, 2, ips, 1, NULL));
    /* A client certificate, even from the peer's own address, is not the peer. */
    assert_false(rt_admission_matches(a, true, client_dns, 1, ips, 1, "ipv4:127.0.0.1:40000"));
    assert_false(rt_admission_matches(a, true, NULL, 0, NULL, 0, "ipv4:127.0.0.1:40000"));
    rt_admission_destroy(a);
}

static void without_a_tls_name_the_dialled_host_is_the_name(void **state)
{
    (void)state;
    rt_admission *a = admission_for("ipv4:10.0.0.7:50052,10.0.0.8:50052", NULL);
    const char *ip7[] = {"10.0.0.7"}, *ip9[] = {"10.0.0.9"}, *dns[] = {"10.0.0.8"};
    assert_true(rt_admission_matches(a, true, NULL, 0, ip7, 1, NULL));
    assert_false(rt_admission_matches(a, true, NULL, 0, ip9, 1, NULL));
    /* An address is an IP SAN, never a DNS SAN spelled like one. */
    assert_false(rt_admission_matches(a, true, dns, 1, NULL, 0, NULL));
    rt_admission_destroy(a);

    a = admission_for("[::1]:50052", NULL);
    const char *v6[] = {"0:0:0:0:0:0:0:1"};
    assert_true(rt_admission_matches(a, true, NULL, 0, v6, 1, NULL));
    assert_true(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:%5B::1%5D:40000"));
    assert_true(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:[::1]:40000"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv4:127.0.0.1:40000"));
    rt_admission_destroy(a);
}

static void plaintext_needs_the_peers_address(void **state)
{
    (void)state;
    rt_admission *a = admission_for("127.0.0.1:50052", "wallet-service");
    assert_true(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv4:127.0.0.1:40000"));
    assert_true(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:[::ffff:127.0.0.1]:40000"));
    assert_true(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:%5B::ffff:127.0.0.1%5D:40000"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv4:127.0.0.2:40000"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:[::1]:40000"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "unix:/tmp/s"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv4:"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:[::1"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:%5B::1"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, NULL));
    rt_admission_destroy(a);

    /* A name resolves (localhost: 127.0.0.1 and/or ::1, per /etc/hosts). */
    a = admission_for("localhost:50052", NULL);
    assert_true(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv4:127.0.0.1:40000") ||
                rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv6:[::1]:40000"));
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv4:192.0.2.1:40000"));
    rt_admission_destroy(a);

    /* A peer that does not resolve matches no address. */
    a = admission_for("no-such-host.invalid:50052", NULL);
    assert_false(rt_admission_matches(a, false, NULL, 0, NULL, 0, "ipv4:127.0.0.1:40000"));
    rt_admission_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(certificate_must_name_the_peer),
        cmocka_unit_test(without_a_tls_name_the_dialled_host_is_the_name),
        cmocka_unit_test(plaintext_needs_the_peers_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
