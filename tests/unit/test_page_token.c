/* Page tokens (page_token.h, page_token_keys.h): a token opens with the keys
 * that made it and only for its scope, hides its position, expires after
 * the TTL, survives a rotation while the previous secret is listed, and the
 * checksum tokens of 36789b1 (recomputable by anyone) are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "page_token_seal.h"

#define OLD "old-secret-0123456789abcdefghijklmnopqrstuvwxyz"
#define NEW "new-secret-0123456789abcdefghijklmnopqrstuvwxyz"
#define NOW 1800000000

static rt_page_token_keys keys_of(const char *text)
{
    rt_page_token_keys keys;
    char error[256];
    if (!rt_page_token_keys_parse(text, strlen(text), 3600, &keys, error, sizeof error))
        fail_msg("%s", error);
    return keys;
}

static void round_trip_and_scope(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(4096);
    rt_page_token_keys keys = keys_of(OLD "\n");
    const char *token = rt_page_token_seal(arena, &keys, "ListTransactions:a", 1234567, NOW);
    assert_int_equal(strlen(token), 60);
    assert_int_equal(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 60);
    int64_t position = 0;
    assert_int_equal(rt_page_token_open(&keys, "ListTransactions:a", token, NOW + 10, &position), RT_PAGE_TOKEN_OK);
    assert_int_equal(position, 1234567);
    assert_int_equal(rt_page_token_open(&keys, "ListTransactions:b", token, NOW, &position), RT_PAGE_TOKEN_INVALID);
    /* Another deployment's secret opens nothing. */
    rt_page_token_keys other = keys_of(NEW);
    assert_int_equal(rt_page_token_open(&other, "ListTransactions:a", token, NOW, &position), RT_PAGE_TOKEN_INVALID);
    rt_arena_free(arena);
}

/* The same position twice gives two tokens, and neither holds the position's bytes. */
static void opaque(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(4096);
    rt_page_token_keys keys = keys_of(OLD);
    const int64_t position = 0x0102030405060708;
    const char *a = rt_page_token_seal(arena, &keys, "s", position, NOW);
    const char *b = rt_page_token_seal(arena, &keys, "s", position, NOW);
    assert_string_not_equal(a, b);
    char std[61];
    for (size_t i = 0; i <= 60; i++)
        std[i] = a[i] == '-' ? '+' : a[i] == '_' ? '/' : a[i];
    uint8_t raw[48];
    assert_int_equal(EVP_DecodeBlock(raw, (const uint8_t *)std, 60), 45);
    const uint8_t be[8] = {1, 2, 3, 4, 5, 6, 7, 8}, le[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    assert_null(memmem(raw, 45, be, 4)); /* not even half of it, either way round */
    assert_null(memmem(raw, 45, be + 4, 4));
    assert_null(memmem(raw, 45, le, 4));
    rt_arena_free(arena);
}

static void every_flipped_character_is_refused(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(4096);
    rt_page_token_keys keys = keys_of(OLD);
    const char *token = rt_page_token_seal(arena, &keys, "s", 5, NOW);
    char edited[61];
    int64_t position;
    for (size_t i = 0; i < 60; i++) {
        memcpy(edited, token, 61);
        edited[i] = edited[i] == 'A' ? 'B' : 'A';
        assert_int_equal(rt_page_token_open(&keys, "s", edited, NOW, &position), RT_PAGE_TOKEN_INVALID);
    }
    assert_int_equal(rt_page_token_open(&keys, "s", token + 1, NOW, &position), RT_PAGE_TOKEN_INVALID);
    assert_int_equal(rt_page_token_open(&keys, "s", "", NOW, &position), RT_PAGE_TOKEN_INVALID);
    assert_int_equal(rt_page_token_open(&keys, "s", rt_arena_printf(arena, "%sA", token), NOW, &position),
                     RT_PAGE_TOKEN_INVALID);
    rt_arena_free(arena);
}

/* 36789b1's token: base64url(position | SHA-256("page-token/v1\n" scope NUL position)[0..12]),
 * which a client computes for any position it likes. */
static void checksum_tokens_of_36789b1_are_refused(void **state)
{
    (void)state;
    const char *scope = "ListTransactions:0b9c5b3e-6d0a-4c4e-9a57-000000000001";
    uint8_t raw[21] = {0, 0, 0, 0, 0, 0, 0x10, 0};
    uint8_t digest[32];
    unsigned int len;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, "page-token/v1\n", 14);
    EVP_DigestUpdate(ctx, scope, strlen(scope) + 1);
    EVP_DigestUpdate(ctx, raw, 8);
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    memcpy(raw + 8, digest, 12);
    char b64[40];
    EVP_EncodeBlock((uint8_t *)b64, raw, 20);
    b64[27] = '\0'; /* drop the padding; + and / do not occur in this one or are refused anyway */
    rt_page_token_keys keys = keys_of(OLD);
    int64_t position;
    assert_int_equal(rt_page_token_open(&keys, scope, b64, NOW, &position), RT_PAGE_TOKEN_INVALID);
}

static void expiry(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(4096);
    rt_page_token_keys keys = keys_of(OLD); /* TTL 3600 */
    const char *token = rt_page_token_seal(arena, &keys, "s", 9, NOW);
    int64_t position;
    assert_int_equal(rt_page_token_open(&keys, "s", token, NOW + 3600, &position), RT_PAGE_TOKEN_OK);
    assert_int_equal(rt_page_token_open(&keys, "s", token, NOW + 3601, &position), RT_PAGE_TOKEN_EXPIRED);
    /* A replica whose clock is a little behind still takes it; far behind, not. */
    assert_int_equal(rt_page_token_open(&keys, "s", token, NOW - 60, &position), RT_PAGE_TOKEN_OK);
    assert_int_equal(rt_page_token_open(&keys, "s", token, NOW - 3600, &position), RT_PAGE_TOKEN_EXPIRED);
    rt_arena_free(arena);
}

/* The three steps of docs/security.md: add the new secret second, make it
 * first, drop the old one after a TTL. Tokens of either survive each step. */
static void rotation(void **state)
{
    (void)state;
    rt_arena *arena = rt_arena_new(4096);
    rt_page_token_keys before = keys_of(OLD);
    rt_page_token_keys step1 = keys_of(OLD "\n" NEW "\n");
    rt_page_token_keys step2 = keys_of("# rotated\n" NEW "\n\n" OLD "\r\n");
    rt_page_token_keys step3 = keys_of(NEW);
    const char *old_token = rt_page_token_seal(arena, &before, "s", 1, NOW);
    const char *new_token = rt_page_token_seal(arena, &step2, "s", 2, NOW);
    int64_t position;
    assert_int_equal(rt_page_token_open(&step1, "s", old_token, NOW, &position), RT_PAGE_TOKEN_OK);
    assert_int_equal(rt_page_token_open(&step1, "s", new_token, NOW, &position), RT_PAGE_TOKEN_OK);
    assert_int_equal(position, 2);
    assert_int_equal(rt_page_token_open(&step2, "s", old_token, NOW, &position), RT_PAGE_TOKEN_OK);
    assert_int_equal(position, 1);
    assert_int_equal(rt_page_token_open(&step3, "s", new_token, NOW, &position), RT_PAGE_TOKEN_OK);
    assert_int_equal(rt_page_token_open(&step3, "s", old_token, NOW, &position), RT_PAGE_TOKEN_INVALID);
    rt_arena_free(arena);
}

static void secret_files(void **state)
{
    (void)state;
    rt_page_token_keys keys;
    char error[256];
    const char *bad[] = {
        "", "# only a comment\n\n", "short\n", OLD "\n" NEW "\n" OLD "\n", "has a space in it 0123456789abcdefghij\n",
        "tab\tinside-0123456789abcdefghijklmnopqrstuvwxyz\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(rt_page_token_keys_parse(bad[i], strlen(bad[i]), 60, &keys, error, sizeof error));
    assert_false(rt_page_token_keys_parse("x" OLD "\0", sizeof("x" OLD), 60, &keys, error, sizeof error));
    assert_non_null(strstr(error, "printable"));
    char big[RT_PAGE_TOKEN_FILE_MAX + 2];
    memset(big, 'a', sizeof big);
    assert_false(rt_page_token_keys_parse(big, sizeof big, 60, &keys, error, sizeof error));
    /* The same line, with or without a line end, is the same key. */
    rt_page_token_keys a = keys_of(OLD), b = keys_of(OLD "  \r\n");
    assert_memory_equal(a.keys[0], b.keys[0], RT_PAGE_TOKEN_KEY_BYTES);
    assert_int_equal(b.n_keys, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_and_scope),
        cmocka_unit_test(opaque),
        cmocka_unit_test(every_flipped_character_is_refused),
        cmocka_unit_test(checksum_tokens_of_36789b1_are_refused),
        cmocka_unit_test(expiry),
        cmocka_unit_test(rotation),
        cmocka_unit_test(secret_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
