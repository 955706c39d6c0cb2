/* The generated validators (gen/user.validate.c, gen/wallet.validate.c) with
 * every rule of proto/user.proto and proto/wallet.proto, passing and failing:
 * one violation per field, in rule order, with the descriptions of
 * docs/DESIGN-NOTES.md, and every bad field reported at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "user.validate.h"
#include "wallet.validate.h"

#define VALID_UUID "123e4567-e89b-12d3-a456-426614174000"

static rt_violations check_create_user(const char *email, const char *name)
{
    User__CreateUserRequest request = USER__CREATE_USER_REQUEST__INIT;
    request.email = (char *)email;
    request.name = (char *)name;
    rt_violations v;
    memset(&v, 0, sizeof v);
    user__create_user_request__validate(&request, &v);
    return v;
}

static rt_violations check_user_id(const char *id)
{
    User__GetUserByIdRequest request = USER__GET_USER_BY_ID_REQUEST__INIT;
    request.id = (char *)id;
    rt_violations v;
    memset(&v, 0, sizeof v);
    user__get_user_by_id_request__validate(&request, &v);
    return v;
}

static rt_violations check_update_balance(const char *user_id, int32_t amount)
{
    Wallet__UpdateBalanceRequest request = WALLET__UPDATE_BALANCE_REQUEST__INIT;
    request.user_id = (char *)user_id;
    request.amount = amount;
    rt_violations v;
    memset(&v, 0, sizeof v);
    wallet__update_balance_request__validate(&request, &v);
    return v;
}

static void assert_one(rt_violations v, const char *field, const char *description)
{
    assert_int_equal(v.count, 1);
    assert_string_equal(v.items[0].field, field);
    assert_string_equal(v.items[0].description, description);
}

/* An address of exactly len bytes: "a...a@example.com". */
static const char *email_of_length(char *buf, size_t len)
{
    const char *domain = "@example.com";
    size_t local = len - strlen(domain);
    memset(buf, 'a', local);
    strcpy(buf + local, domain);
    return buf;
}

static void test_valid_create_user(void **state)
{
    (void)state;
    assert_int_equal(check_create_user("jane@example.com", "Jane Doe").count, 0);
    assert_int_equal(check_create_user("j.doe+tag@mail.example.co.uk", "Zoë Ñandú 日本").count, 0);
}

static void test_email_length(void **state)
{
    (void)state;
    char buf[300];
    assert_int_equal(check_create_user(email_of_length(buf, 254), "Jane").count, 0);
    assert_one(check_create_user(email_of_length(buf, 255), "Jane"), "email", "must be at most 254 bytes");
}

static void test_bad_emails(void **state)
{
    (void)state;
    const char *bad[] = {
        "",                     /* empty */
        "jane.example.com",     /* no @ */
        "jane@doe@example.com", /* two @ */
        "jane@localhost",       /* no dot in the domain */
        "jane doe@example.com", /* space in the local part */
        "jane@exa mple.com",    /* space in the domain */
        "@example.com",         /* empty local part */
        "jane@",                /* empty domain */
        "jane@example.com.",    /* trailing dot */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_one(check_create_user(bad[i], "Jane"), "email", "must be a valid email address");
}

static void test_name_required_and_length(void **state)
{
    (void)state;
    char name[202];
    assert_one(check_create_user("jane@example.com", ""), "name", "must not be empty");
    memset(name, 'n', 200);
    name[200] = '\0';
    assert_int_equal(check_create_user("jane@example.com", name).count, 0);
    name[200] = 'n';
    name[201] = '\0';
    assert_one(check_create_user("jane@example.com", name), "name", "must be at most 200 bytes");
}

static void test_name_invalid_utf8(void **state)
{
    (void)state;
    const char *bad[] = {
        "\xc0\xaf",         /* overlong encoding of '/' */
        "\xe0\x80\xaf",     /* overlong three-byte form */
        "Jane\xc3",         /* truncated two-byte sequence */
        "Jane\xe6\x97",     /* truncated three-byte sequence */
        "\xed\xa0\x80",     /* UTF-16 surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xff",             /* never valid */
        "\x80",             /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_one(check_create_user("jane@example.com", bad[i]), "name", "must be valid UTF-8");
}

static void test_uuids(void **state)
{
    (void)state;
    assert_int_equal(check_user_id(VALID_UUID).count, 0);
    assert_int_equal(check_user_id("123E4567-E89B-12D3-A456-426614174000").count, 0);
    const char *bad[] = {
        "",
        "123e4567-e89b-12d3-a456-42661417400",   /* one short */
        "123e4567-e89b-12d3-a456-4266141740000", /* one long */
        "123e4567-e89b-12d3-a456-42661417400g",  /* not hex */
        "123e4567e89b12d3a456426614174000",      /* no dashes */
        "123e4567-e89b-12d3-a4564-26614174000",  /* dash misplaced */
        "123e4567-e89b-12d3-a456_426614174000",  /* wrong separator */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_one(check_user_id(bad[i]), "id", "must be a UUID");
}

static void test_amount(void **state)
{
    (void)state;
    assert_int_equal(check_update_balance(VALID_UUID, 1).count, 0);
    assert_int_equal(check_update_balance(VALID_UUID, INT32_MAX).count, 0);
    assert_one(check_update_balance(VALID_UUID, 0), "amount", "must be greater than or equal to 1");
    assert_one(check_update_balance(VALID_UUID, -1), "amount", "must be greater than or equal to 1");
    assert_one(check_update_balance(VALID_UUID, INT32_MIN), "amount", "must be greater than or equal to 1");
}

static void test_wallet_user_ids(void **state)
{
    (void)state;
    Wallet__CreateWalletRequest create = WALLET__CREATE_WALLET_REQUEST__INIT;
    Wallet__GetWalletRequest get = WALLET__GET_WALLET_REQUEST__INIT;
    rt_violations v;
    create.user_id = "not-a-uuid";
    memset(&v, 0, sizeof v);
    wallet__create_wallet_request__validate(&create, &v);
    assert_one(v, "user_id", "must be a UUID");
    get.user_id = VALID_UUID;
    memset(&v, 0, sizeof v);
    wallet__get_wallet_request__validate(&get, &v);
    assert_int_equal(v.count, 0);
}

static void test_every_bad_field_reported_together(void **state)
{
    (void)state;
    rt_violations v = check_create_user("nope", "");
    assert_int_equal(v.count, 2);
    assert_string_equal(v.items[0].field, "email");
    assert_string_equal(v.items[0].description, "must be a valid email address");
    assert_string_equal(v.items[1].field, "name");
    assert_string_equal(v.items[1].description, "must not be empty");

    v = check_update_balance("xyz", -5);
    assert_int_equal(v.count, 2);
    assert_string_equal(v.items[0].field, "user_id");
    assert_string_equal(v.items[1].field, "amount");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_create_user),
        cmocka_unit_test(test_email_length),
        cmocka_unit_test(test_bad_emails),
        cmocka_unit_test(test_name_required_and_length),
        cmocka_unit_test(test_name_invalid_utf8),
        cmocka_unit_test(test_uuids),
        cmocka_unit_test(test_amount),
        cmocka_unit_test(test_wallet_user_ids),
        cmocka_unit_test(test_every_bad_field_reported_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
