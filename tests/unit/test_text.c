/* Unit tests for jk_text: UTF-8 validation, ids, normalisation, numbers,
 * hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jk_text.h"

static void test_utf8(void **state)
{
    (void)state;
    assert_true(jk_utf8_valid("", 0));
    assert_true(jk_utf8_valid("劳动保障协理员\n\t", strlen("劳动保障协理员\n\t")));
    assert_true(jk_utf8_valid("\xF0\x9F\x98\x80", 4)); /* U+1F600 */
    assert_false(jk_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
    assert_false(jk_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(jk_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(jk_utf8_valid("\xE5\x8A", 2));         /* truncated */
    assert_false(jk_utf8_valid("a\0b", 3));
    assert_false(jk_utf8_valid("\x1b[31m", 5));         /* control */
    assert_false(jk_utf8_valid("\x7f", 1));
    assert_int_equal(jk_utf8_length("劳动a", strlen("劳动a")), 3);
}

static void s_bad_at(const char *s, size_t n, size_t want)
{
    size_t at = (size_t)-1;
    if (jk_utf8_check(s, n, &at))
        fail_msg("accepted a text with a fault at %zu", want);
    assert_int_equal(at, want);
    assert_false(jk_utf8_valid(s, n));
}

static void test_utf8_check(void **state)
{
    (void)state;
    size_t at = 1234;
    assert_true(jk_utf8_check("", 0, &at));
    assert_true(jk_utf8_check("劳动\t保障\r\n", strlen("劳动\t保障\r\n"), &at));
    assert_int_equal(at, 1234); /* untouched on success */
    assert_true(jk_utf8_check("\xC2\x80\xDF\xBF", 4, NULL));         /* U+0080, U+07FF */
    assert_true(jk_utf8_check("\xE0\xA0\x80\xEF\xBF\xBF", 6, NULL)); /* U+0800, U+FFFF */
    assert_true(jk_utf8_check("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", 8, NULL));
    assert_true(jk_utf8_check("\xED\x9F\xBF\xEE\x80\x80", 6, NULL)); /* around surrogates */

    /* The offset is the start of the faulty sequence or character. */
    s_bad_at("ab\x01", 3, 2);                  /* C0 control */
    s_bad_at("a\x7f", 2, 1);                   /* DEL */
    s_bad_at("a\0b", 3, 1);                    /* NUL */
    s_bad_at("劳\x80", 4, 3);                  /* stray continuation */
    s_bad_at("x\xC0\xAF", 3, 1);               /* overlong '/' */
    s_bad_at("x\xC1\xBF", 3, 1);               /* overlong */
    s_bad_at("\xE0\x9F\xBF", 3, 0);            /* overlong 3-byte */
    s_bad_at("\xF0\x8F\xBF\xBF", 4, 0);        /* overlong 4-byte */
    s_bad_at("ok\xED\xA0\x80", 5, 2);          /* surrogate */
    s_bad_at("\xF4\x90\x80\x80", 4, 0);        /* above U+10FFFF */
    s_bad_at("\xF5\x80\x80\x80", 4, 0);        /* never a lead byte */
    s_bad_at("\xFF", 1, 0);
    s_bad_at("劳动\xE5\x8A", 8, 6);             /* truncated at the end */
    s_bad_at("\xE5\x8A" "a", 3, 0);             /* a continuation missing */
    s_bad_at("劳\xE5\x8A\x01", 7, 3);          /* bad sequence before the control */
    /* Bytes below 0x80 at the fault are control characters; others are
     * invalid UTF-8 (the codec words its errors by that). */
    at = 0;
    assert_false(jk_utf8_check("abc\x1b[0m", 8, &at));
    assert_int_equal((unsigned char)"abc\x1b[0m"[at], 0x1b);
    /* n bounds the scan: a fault past n is not seen. */
    assert_true(jk_utf8_check("ab\x01", 2, &at));
}

static void test_id_char(void **state)
{
    (void)state;
    const char *ok = "AZaz09-_.:";
    for (const char *p = ok; *p; p++)
        assert_true(jk_id_char((unsigned char)*p));
    const char *no = " /\\@#'\"\t\n\x7f";
    for (const char *p = no; *p; p++)
        assert_false(jk_id_char((unsigned char)*p));
    assert_false(jk_id_char(0));
    assert_false(jk_id_char(0xe4));
    assert_false(jk_id_char(0x80));
}

static void test_ids(void **state)
{
    (void)state;
    assert_true(jk_id_valid("T-BAS-5-001", 48));
    assert_true(jk_id_valid("2026-1201-0001", 48));
    assert_true(jk_id_valid("a.b_c:d", 48));
    assert_false(jk_id_valid("", 48));
    assert_false(jk_id_valid(NULL, 48));
    assert_false(jk_id_valid("has space", 48));
    assert_false(jk_id_valid("中文", 48));
    assert_false(jk_id_valid("abc", 2));
    assert_false(jk_id_valid("a/b", 48));
}

static void test_normalize(void **state)
{
    (void)state;
    char out[128];
    const char *in = "  Ａｂｃ１２　 X\t\ty  ";
    size_t n = jk_text_normalize(in, strlen(in), out, sizeof out);
    assert_string_equal(out, "abc12 x y");
    assert_int_equal(n, strlen("abc12 x y"));
    assert_true(jk_text_equal_normalized("王芳", " 王芳　"));
    assert_false(jk_text_equal_normalized("王芳", "王 芳"));
    /* Output is never longer than input; a tiny buffer truncates safely. */
    char tiny[4];
    jk_text_normalize("abcdef", 6, tiny, sizeof tiny);
    assert_string_equal(tiny, "abc");
    /* Invalid UTF-8 passes through byte for byte. */
    n = jk_text_normalize("a\xFF" "B", 3, out, sizeof out);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "a\xFF" "b", 3);
}

static void test_numbers(void **state)
{
    (void)state;
    double x;
    assert_true(jk_text_parse_number("12", &x));
    assert_true(x == 12.0);
    assert_true(jk_text_parse_number(" -3.5 ", &x));
    assert_true(x == -3.5);
    assert_true(jk_text_parse_number("１２．５", &x));
    assert_true(x == 12.5);
    const char *bad[] = { "", " ", "12a", "1e3", "0x10", "inf", "nan", ".5", "5.", "1,000", "--1", "+" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(jk_text_parse_number(bad[i], &x));
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
    char hex[2 * sizeof bytes + 1];
    memset(hex, 'x', sizeof hex);
    jk_hex_encode(bytes, sizeof bytes, hex);
    assert_string_equal(hex, "00017f80abff");
    jk_hex_encode(bytes, 0, hex);
    assert_string_equal(hex, "");

    uint8_t out[6];
    assert_true(jk_hex_decode("00017f80abff", out, sizeof out));
    assert_memory_equal(out, bytes, sizeof bytes);
    assert_true(jk_hex_decode("00017F80ABFF", out, sizeof out)); /* upper case */
    assert_memory_equal(out, bytes, sizeof bytes);
    assert_true(jk_hex_decode("00017f80AbFf", out, sizeof out)); /* mixed */
    assert_memory_equal(out, bytes, sizeof bytes);
    assert_true(jk_hex_decode("", out, 0));

    /* Anything but exactly 2n digits is refused, and out is untouched. */
    const char *bad[] = {
        "00017f80abf",    /* odd, one short */
        "00017f80ab",     /* one byte short */
        "00017f80abff0",  /* one digit long */
        "00017f80abff00", /* one byte long */
        "00017f80abfg",   /* not a digit */
        "0x017f80abff",   /* prefix */
        " 00017f80abff",  /* white space */
        "00017f80abff ",
        "00017f80-bff",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(out, 0x5a, sizeof out);
        if (jk_hex_decode(bad[i], out, sizeof out))
            fail_msg("accepted \"%s\"", bad[i]);
        for (size_t k = 0; k < sizeof out; k++)
            assert_int_equal(out[k], 0x5a);
    }
    assert_false(jk_hex_decode(NULL, out, sizeof out));
    assert_false(jk_hex_decode("00", out, 0));

    /* Round trip of every byte value. */
    uint8_t all[256], back[256];
    char allhex[513];
    for (size_t i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    jk_hex_encode(all, sizeof all, allhex);
    assert_int_equal(strlen(allhex), 512);
    assert_true(jk_hex_decode(allhex, back, sizeof back));
    assert_memory_equal(all, back, sizeof all);

    assert_int_equal(jk_hex_digit('0'), 0);
    assert_int_equal(jk_hex_digit('9'), 9);
    assert_int_equal(jk_hex_digit('a'), 10);
    assert_int_equal(jk_hex_digit('F'), 15);
    assert_int_equal(jk_hex_digit('g'), -1);
    assert_int_equal(jk_hex_digit('/'), -1);
    assert_int_equal(jk_hex_digit(0), -1);
    assert_int_equal(jk_hex_digit(0xe4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_id_char),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
