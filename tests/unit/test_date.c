/* Unit tests for jk_date: civil conversion, parsing, month arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jk_date.h"

static jk_date_t D(int y, int m, int d)
{
    jk_date_t x = 0;
    assert_true(jk_date_from_ymd(y, m, d, &x));
    return x;
}

static void test_civil(void **state)
{
    (void)state;
    assert_int_equal(D(1970, 1, 1), 0);
    assert_int_equal(D(2000, 3, 1) - D(2000, 2, 28), 2); /* 2000 is leap */
    assert_int_equal(D(1900, 3, 1) - D(1900, 2, 28), 1); /* 1900 is not */
    assert_int_equal(D(2026, 11, 30), 20787);
    /* Round trip across the whole range. */
    for (jk_date_t z = D(1900, 1, 1); z <= D(2200, 12, 31); z += 17) {
        int y, m, d;
        jk_date_to_ymd(z, &y, &m, &d);
        assert_int_equal(D(y, m, d), z);
    }
    jk_date_t x = 42;
    assert_false(jk_date_from_ymd(2026, 2, 29, &x));
    assert_false(jk_date_from_ymd(2026, 13, 1, &x));
    assert_false(jk_date_from_ymd(1899, 12, 31, &x));
    assert_false(jk_date_from_ymd(2201, 1, 1, &x));
    assert_int_equal(x, 42);
}

static void test_parse(void **state)
{
    (void)state;
    jk_date_t x;
    assert_true(jk_date_parse_iso("2026-03-02", &x));
    assert_int_equal(x, D(2026, 3, 2));
    assert_false(jk_date_parse_iso("2026-3-2", &x));
    assert_false(jk_date_parse_iso("2026-02-30", &x));
    assert_false(jk_date_parse_iso("2026-03-02x", &x));
    assert_false(jk_date_parse_iso(NULL, &x));
    assert_false(jk_date_parse_iso("", &x));

    const char *ok[] = { "2026-03-02", "2026/3/2", "2026.03.02", "2026年3月2日", " 2026年03月02日 ",
                         "2026年3月2" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_true(jk_date_parse_loose(ok[i], &x));
        assert_int_equal(x, D(2026, 3, 2));
    }
    const char *bad[] = { "26-3-2", "2026-3", "2026年13月1日", "2026/02/29", "二〇二六年三月二日",
                          "2026-3-2 10:00", "", "2026--3-2" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(jk_date_parse_loose(bad[i], &x));

    char buf[11];
    assert_string_equal(jk_date_format(D(2026, 3, 2), buf), "2026-03-02");
    assert_string_equal(jk_date_format(D(1900, 1, 1), buf), "1900-01-01");
}

static void test_add_months(void **state)
{
    (void)state;
    assert_int_equal(jk_date_add_months(D(2024, 1, 31), 1), D(2024, 2, 29));
    assert_int_equal(jk_date_add_months(D(2025, 1, 31), 1), D(2025, 2, 28));
    assert_int_equal(jk_date_add_months(D(2024, 2, 29), 12), D(2025, 2, 28));
    assert_int_equal(jk_date_add_months(D(2024, 3, 15), 24), D(2026, 3, 15));
    assert_int_equal(jk_date_add_months(D(2025, 8, 31), 6), D(2026, 2, 28));
    assert_int_equal(jk_date_add_months(D(2026, 3, 15), -6), D(2025, 9, 15));
    assert_int_equal(jk_date_add_months(D(2026, 12, 1), 1), D(2027, 1, 1));
    assert_int_equal(jk_date_add_months(D(2026, 1, 1), -1), D(2025, 12, 1));
}

static void test_wall(void **state)
{
    (void)state;
    /* 2026-11-30T15:59:59.999Z is 23:59:59.999 in Beijing; one ms later is
     * the next day there. */
    int64_t t = (int64_t)D(2026, 11, 30) * 86400000LL + 15LL * 3600000 + 3599999;
    assert_int_equal(jk_date_from_wall_ms(t), D(2026, 11, 30));
    assert_int_equal(jk_date_from_wall_ms(t + 1), D(2026, 12, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_add_months),
        cmocka_unit_test(test_wall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
