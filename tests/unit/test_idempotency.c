/* Idempotency keys from the field or the metadata (runtime/src/serve/idempotency.c):
 * which one wins, when they conflict, what a valid key is, and that a
 * request's fingerprint ignores how its key travelled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "idempotency.h"
#include "user.pb-c.h"
#include "wallet.pb-c.h"

typedef struct {
    rt_arena *arena;
    grpc_metadata md[1];
    grpc_metadata_array array;
} fixture;

/* An arena and metadata holding `idempotency-key: key` (none when NULL). */
static void with_metadata(fixture *f, const char *key)
{
    *f = (fixture){.arena = rt_arena_new(1024)};
    if (key) {
        f->md[0].key = grpc_slice_from_static_string(RT_IDEMPOTENCY_METADATA);
        f->md[0].value = grpc_slice_from_static_string(key);
        f->array.count = 1;
        f->array.metadata = f->md;
    }
}

static void metadata_key_fills_an_empty_field(void **state)
{
    (void)state;
    fixture f;
    with_metadata(&f, "order-42");
    Wallet__UpdateBalanceRequest r = WALLET__UPDATE_BALANCE_REQUEST__INIT;
    rt_violations v = {0};
    rt_idempotency_resolve(f.arena, &f.array, &r.base, &v);
    assert_int_equal(v.count, 0);
    assert_string_equal(r.idempotency_key, "order-42");
    rt_arena_free(f.arena);
}

static void field_and_metadata_must_agree(void **state)
{
    (void)state;
    fixture f;
    with_metadata(&f, "order-42");
    Wallet__UpdateBalanceRequest same = WALLET__UPDATE_BALANCE_REQUEST__INIT;
    same.idempotency_key = "order-42";
    rt_violations v = {0};
    rt_idempotency_resolve(f.arena, &f.array, &same.base, &v);
    assert_int_equal(v.count, 0);

    Wallet__UpdateBalanceRequest other = WALLET__UPDATE_BALANCE_REQUEST__INIT;
    other.idempotency_key = "order-43";
    rt_idempotency_resolve(f.arena, &f.array, &other.base, &v);
    assert_int_equal(v.count, 1);
    assert_string_equal(v.items[0].field, "idempotency_key");
    rt_arena_free(f.arena);
}

static void keys_are_1_to_128_printable_ascii(void **state)
{
    (void)state;
    char longest[129], too_long[130];
    memset(longest, 'k', 128), longest[128] = '\0';
    memset(too_long, 'k', 129), too_long[129] = '\0';
    const struct { const char *key; size_t violations; } cases[] = {
        {longest, 0}, {"a b~!", 0}, {too_long, 1}, {"tab\there", 1}, {"caf\xc3\xa9", 1}, {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture f;
        with_metadata(&f, NULL);
        Wallet__UpdateBalanceRequest r = WALLET__UPDATE_BALANCE_REQUEST__INIT;
        r.idempotency_key = (char *)cases[i].key;
        rt_violations v = {0};
        rt_idempotency_resolve(f.arena, &f.array, &r.base, &v);
        assert_int_equal(v.count, cases[i].violations);
        rt_arena_free(f.arena);
    }
}

/* Found by fuzz_metadata: a metadata value holding a NUL byte was cut at it,
 * so "order-42\0junk" was taken as the key "order-42". */
static void a_metadata_value_with_a_nul_is_refused(void **state)
{
    (void)state;
    for (int in_field = 0; in_field < 2; in_field++) {
        fixture f;
        with_metadata(&f, "order-42");
        f.md[0].value = grpc_slice_from_copied_buffer("order-42\0junk", 13);
        Wallet__UpdateBalanceRequest r = WALLET__UPDATE_BALANCE_REQUEST__INIT;
        r.idempotency_key = in_field ? "order-42" : "";
        rt_violations v = {0};
        rt_idempotency_resolve(f.arena, &f.array, &r.base, &v);
        assert_int_equal(v.count, 1);
        assert_string_equal(v.items[0].field, "idempotency_key");
        grpc_slice_unref(f.md[0].value);
        rt_arena_free(f.arena);
    }
}

static void requests_without_the_field_are_left_alone(void **state)
{
    (void)state;
    fixture f;
    with_metadata(&f, "order-42");
    Wallet__GetWalletRequest r = WALLET__GET_WALLET_REQUEST__INIT;
    rt_violations v = {0};
    rt_idempotency_resolve(f.arena, &f.array, &r.base, &v);
    assert_int_equal(v.count, 0);
    rt_arena_free(f.arena);
}

static void fingerprint_names_the_method_and_ignores_the_key(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(1024);
    Wallet__UpdateBalanceRequest keyed = WALLET__UPDATE_BALANCE_REQUEST__INIT;
    keyed.user_id = "u";
    keyed.amount = 5;
    keyed.idempotency_key = "k";
    Wallet__UpdateBalanceRequest bare = keyed;
    bare.idempotency_key = "";
    const char *a = rt_idempotency_fingerprint(arena, "CreditWallet", &keyed.base);
    assert_string_equal(a, rt_idempotency_fingerprint(arena, "CreditWallet", &bare.base));
    assert_string_equal(a, "CreditWallet:0a01751005"); /* field 1 "u", field 2 varint 5 */
    assert_string_equal(keyed.idempotency_key, "k");    /* put back */
    assert_string_not_equal(a, rt_idempotency_fingerprint(arena, "DebitWallet", &keyed.base));
    bare.amount = 6;
    assert_string_not_equal(a, rt_idempotency_fingerprint(arena, "CreditWallet", &bare.base));
    rt_arena_free(arena);
}

/* A key belongs to its caller and method: the same string from another
 * caller or for another method is another operation; the id shows no key. */
static void operation_ids_are_scoped_by_caller_and_method(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(1024);
    const char *credit = "/wallet.WalletService/CreditWallet";
    const char *a = rt_idempotency_scoped_id(arena, "spiffe://wallet.local/client/admin", credit, "rent-2026-12");
    assert_string_equal(a, rt_idempotency_scoped_id(arena, "spiffe://wallet.local/client/admin", credit, "rent-2026-12"));
    assert_int_equal(strlen(a), 4 + 64);
    assert_memory_equal(a, "op1-", 4);
    assert_null(strstr(a, "rent"));
    const char *others[] = {
        rt_idempotency_scoped_id(arena, "spiffe://wallet.local/client/payments", credit, "rent-2026-12"),
        rt_idempotency_scoped_id(arena, "spiffe://wallet.local/client/admin", "/wallet.WalletService/DebitWallet",
                                 "rent-2026-12"),
        rt_idempotency_scoped_id(arena, "spiffe://wallet.local/client/admin", credit, "rent-2026-11"),
        rt_idempotency_scoped_id(arena, NULL, credit, "rent-2026-12"),
        /* an empty certificate identity is not the anonymous scope */
        rt_idempotency_scoped_id(arena, "", credit, "rent-2026-12"),
        /* parts never run into each other */
        rt_idempotency_scoped_id(arena, "spiffe://wallet.local/client/admin/", "wallet.WalletService/CreditWallet",
                                 "rent-2026-12"),
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        assert_string_not_equal(a, others[i]);
        for (size_t k = i + 1; k < sizeof others / sizeof others[0]; k++)
            assert_string_not_equal(others[i], others[k]);
    }
    rt_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metadata_key_fills_an_empty_field),
        cmocka_unit_test(field_and_metadata_must_agree),
        cmocka_unit_test(a_metadata_value_with_a_nul_is_refused),
        cmocka_unit_test(keys_are_1_to_128_printable_ascii),
        cmocka_unit_test(requests_without_the_field_are_left_alone),
        cmocka_unit_test(fingerprint_names_the_method_and_ignores_the_key),
        cmocka_unit_test(operation_ids_are_scoped_by_caller_and_method),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
