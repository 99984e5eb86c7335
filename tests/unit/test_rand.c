/* Unit tests for jk_rand, jk_arena and jk_strmap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jk_arena.h"
#include "jk_rand.h"
#include "jk_strmap.h"

static void test_rand_deterministic(void **state)
{
    (void)state;
    jk_rand_t a, b, c;
    jk_rand_seed(&a, 42);
    jk_rand_seed(&b, 42);
    jk_rand_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = jk_rand_next(&a);
        assert_int_equal(x, jk_rand_next(&b));
        differ += x != jk_rand_next(&c);
    }
    assert_true(differ > 990);
    jk_rand_seed_str(&a, 1, "C001");
    jk_rand_seed_str(&b, 1, "C002");
    assert_true(jk_rand_next(&a) != jk_rand_next(&b));
}

static void test_rand_below_uniform(void **state)
{
    (void)state;
    jk_rand_t r;
    jk_rand_seed(&r, 7);
    int counts[7] = { 0 };
    for (int i = 0; i < 70000; i++) {
        uint64_t x = jk_rand_below(&r, 7);
        assert_true(x < 7);
        counts[x]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(counts[i] > 9500 && counts[i] < 10500);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(jk_rand_below(&r, 1), 0);
    double d = jk_rand_double(&r);
    assert_true(d >= 0 && d < 1);
}

static void test_shuffle(void **state)
{
    (void)state;
    jk_rand_t r;
    jk_rand_seed(&r, 9);
    int v[10];
    for (int i = 0; i < 10; i++)
        v[i] = i;
    jk_rand_shuffle(&r, v, 10, sizeof v[0]);
    int seen = 0;
    for (int i = 0; i < 10; i++)
        seen |= 1 << v[i];
    assert_int_equal(seen, 0x3FF);
}

static void test_arena(void **state)
{
    (void)state;
    jk_arena_t *a = jk_arena_new(128);
    assert_non_null(a);
    char *s = jk_arena_strdup(a, "劳动");
    assert_string_equal(s, "劳动");
    assert_null(jk_arena_strdup(a, NULL));
    char *big = jk_arena_alloc(a, 10000); /* larger than a block */
    memset(big, 1, 10000);
    for (int i = 0; i < 1000; i++) {
        uint64_t *p = jk_arena_alloc(a, sizeof *p);
        assert_true(((uintptr_t)p % _Alignof(max_align_t)) == 0);
        *p = (uint64_t)i;
    }
    uint32_t *z = jk_arena_calloc(a, 16, sizeof *z);
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    assert_null(jk_arena_calloc(a, SIZE_MAX / 2, 4));
    /* Sizes whose block (header + rounded size) would wrap are refused
     * rather than served from a tiny malloc. */
    assert_null(jk_arena_alloc(a, SIZE_MAX));
    assert_null(jk_arena_alloc(a, SIZE_MAX - 20));
    assert_null(jk_arena_alloc(a, SIZE_MAX - 31)); /* rounds to a size the header wraps */
    assert_null(jk_arena_strndup(a, "x", SIZE_MAX - 20));
    assert_true(jk_arena_used(a) >= 10000 + 1000 * 8);
    assert_true(jk_arena_reserved(a) >= jk_arena_used(a));
    jk_arena_destroy(&a);
    assert_null(a);
    jk_arena_destroy(&a);
}

static void test_strmap(void **state)
{
    (void)state;
    jk_strmap_t *m = jk_strmap_new(4);
    char keys[5000][16];
    for (int i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        assert_int_equal(jk_strmap_put(m, keys[i], (size_t)i, NULL), 1);
    }
    size_t prev = 0;
    assert_int_equal(jk_strmap_put(m, "k17", 99, &prev), 0);
    assert_int_equal(prev, 17);
    assert_int_equal(jk_strmap_count(m), 5000);
    for (int i = 0; i < 5000; i++) {
        size_t v;
        assert_true(jk_strmap_get(m, keys[i], &v));
        assert_int_equal(v, (size_t)i);
    }
    assert_false(jk_strmap_get(m, "k5000", NULL));
    jk_strmap_destroy(&m);
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rand_deterministic), cmocka_unit_test(test_rand_below_uniform),
        cmocka_unit_test(test_shuffle),            cmocka_unit_test(test_arena),
        cmocka_unit_test(test_strmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
