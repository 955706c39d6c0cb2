/* The string rules behind generated validators, at their edges: UTF-8
 * well-formedness, the email shape, the UUID shape; and the violations cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"
#include "violations.h"

#define UTF8(s) rt_rule_utf8((s), sizeof(s) - 1)
#define EMAIL(s) rt_rule_email((s), strlen(s))
#define UUID(s) rt_rule_uuid((s), strlen(s))

static void utf8_accepts_well_formed(void **state)
{
    (void)state;
    assert_true(UTF8(""));
    assert_true(UTF8("plain ascii"));
    assert_true(UTF8("Zo\xc3\xab"));                 /* U+00EB */
    assert_true(UTF8("\xe2\x82\xac"));               /* U+20AC */
    assert_true(UTF8("\xf0\x9f\x98\x80"));           /* U+1F600 */
    assert_true(UTF8("\xef\xbf\xbf"));               /* U+FFFF */
    assert_true(UTF8("\xf4\x8f\xbf\xbf"));           /* U+10FFFF */
    assert_true(UTF8("\xed\x9f\xbf"));               /* U+D7FF, just below surrogates */
    assert_true(UTF8("a\0b"));                       /* NUL is valid UTF-8 */
}

static void utf8_refuses_malformed(void **state)
{
    (void)state;
    assert_false(UTF8("\xc0\xaf"));                  /* overlong '/' */
    assert_false(UTF8("\xc1\xbf"));                  /* overlong */
    assert_false(UTF8("\xe0\x80\xaf"));              /* overlong 3-byte */
    assert_false(UTF8("\xf0\x80\x80\xaf"));          /* overlong 4-byte */
    assert_false(UTF8("\xed\xa0\x80"));              /* U+D800 surrogate */
    assert_false(UTF8("\xed\xbf\xbf"));              /* U+DFFF surrogate */
    assert_false(UTF8("\xf4\x90\x80\x80"));          /* U+110000 */
    assert_false(UTF8("\xf5\x80\x80\x80"));
    assert_false(UTF8("\xff"));
    assert_false(UTF8("\x80"));                      /* lone continuation */
    assert_false(UTF8("ab\xc3"));                    /* truncated at the end */
    assert_false(UTF8("\xe2\x82"));                  /* truncated */
    assert_false(UTF8("\xe2\x28\xa1"));              /* bad continuation */
    assert_false(UTF8("\xf0\x9f\x98"));
}

static void email_accepts(void **state)
{
    (void)state;
    assert_true(EMAIL("jane@example.com"));
    assert_true(EMAIL("jane.doe+tag@mail.example.co"));
    assert_true(EMAIL("a@b.cd"));
    assert_true(EMAIL("x_y-z@sub-domain.example.org"));
    assert_true(EMAIL("j\xc3\xa9r\xc3\xb4me@example.fr"));
    assert_true(EMAIL("!#$%&'*/=?^`{|}~@example.com"));
    assert_true(EMAIL("a@1.example.com"));
}

static void email_refuses(void **state)
{
    (void)state;
    assert_false(EMAIL(""));
    assert_false(EMAIL("jane"));
    assert_false(EMAIL("@example.com"));
    assert_false(EMAIL("jane@"));
    assert_false(EMAIL("jane@example"));
    assert_false(EMAIL("jane@@example.com"));
    assert_false(EMAIL("ja@ne@example.com"));
    assert_false(EMAIL("jane doe@example.com"));
    assert_false(EMAIL("jane@exa mple.com"));
    assert_false(EMAIL(" jane@example.com"));
    assert_false(EMAIL("jane@example.com "));
    assert_false(EMAIL("jane\t@example.com"));
    assert_false(EMAIL("jane\x7f@example.com"));
    assert_false(EMAIL("jane\xc2\x85@example.com")); /* C1 control */
    assert_false(EMAIL("jane\xc3@example.com"));     /* malformed UTF-8 */
    assert_false(EMAIL("jane@.example.com"));
    assert_false(EMAIL("jane@example..com"));
    assert_false(EMAIL("jane@example.com."));
    assert_false(EMAIL("jane@-example.com"));
    assert_false(EMAIL("jane@example-.com"));
    assert_false(EMAIL("jane@exa_mple.com"));
    assert_false(EMAIL("jane@example.c"));
    assert_false(EMAIL("jane@example.c0m"));
    assert_false(EMAIL("jane@ex\xc3\xa4mple.com"));
    assert_false(rt_rule_email("jane@exa\0mple.com", 17));
    char label[80] = "a@";
    memset(label + 2, 'x', 64);
    strcpy(label + 66, ".com");
    assert_false(EMAIL(label)); /* a 64-byte label */
}

static void uuid_shape(void **state)
{
    (void)state;
    assert_true(UUID("123e4567-e89b-42d3-a456-426614174000"));
    assert_true(UUID("123E4567-E89B-42D3-A456-426614174000"));
    assert_true(UUID("00000000-0000-0000-0000-000000000000"));
    assert_false(UUID(""));
    assert_false(UUID("123e4567e89b42d3a456426614174000"));
    assert_false(UUID("123e4567-e89b-42d3-a456-42661417400"));
    assert_false(UUID("123e4567-e89b-42d3-a456-4266141740000"));
    assert_false(UUID("{123e4567-e89b-42d3-a456-426614174000}"));
    assert_false(UUID("123e4567-e89b-42d3-a456_426614174000"));
    assert_false(UUID("g23e4567-e89b-42d3-a456-426614174000"));
    assert_false(UUID("123e4567-e89b-42d3-a4564-26614174000"));
}

static void violations_are_capped(void **state)
{
    (void)state;
    rt_violations v = {0};
    for (int i = 0; i < RT_MAX_VIOLATIONS + 5; i++)
        rt_violations_add(&v, "field", "must be something");
    assert_int_equal(v.count, RT_MAX_VIOLATIONS);
    assert_string_equal(v.items[0].field, "field");
    assert_string_equal(v.items[RT_MAX_VIOLATIONS - 1].description, "must be something");
}

static void chars_count_code_points(void **state)
{
    (void)state;
    assert_int_equal(rt_rule_chars("", 0), 0);
    assert_int_equal(rt_rule_chars("abc", 3), 3);
    assert_int_equal(rt_rule_chars("J\xc3\xb6rg", 5), 4);          /* ö: 2 bytes */
    assert_int_equal(rt_rule_chars("\xe2\x82\xac\xf0\x9f\x98\x80", 7), 2); /* euro sign, emoji */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_accepts_well_formed),
        cmocka_unit_test(utf8_refuses_malformed),
        cmocka_unit_test(email_accepts),
        cmocka_unit_test(email_refuses),
        cmocka_unit_test(uuid_shape),
        cmocka_unit_test(chars_count_code_points),
        cmocka_unit_test(violations_are_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
