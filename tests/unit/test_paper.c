/* Unit tests for jk_blueprint and jk_paper: blueprint cells per level,
 * template errors, papers for every level from the sample bank checked
 * against the weight tables, distinctness, determinism, exposure and
 * difficulty control, shortages named, option shuffles, skills papers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jk_bank.h"
#include "jk_blueprint.h"
#include "jk_paper.h"
#include "jk_standard.h"

static jk_standard_t *g_std;
static jk_bank_t *g_bank;

static int s_setup(void **state)
{
    (void)state;
    jk_error_t e;
    g_std = jk_standard_load(JK_DATA_DIR "/standard.json", &e);
    if (!g_std)
        return -1;
    g_bank = jk_bank_new(g_std);
    if (jk_bank_load_path(g_bank, JK_DATA_DIR "/bank", NULL, &e) != JK_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    jk_bank_destroy(&g_bank);
    jk_standard_destroy(&g_std);
    return 0;
}

static int A(const char *id) { return jk_standard_area_find(g_std, id); }

static void s_expect_cells(const jk_blueprint_t *bp, const char *area, int j, int s, int m)
{
    int a = A(area);
    if (bp->cells[a][JK_ITEM_JUDGE] != j || bp->cells[a][JK_ITEM_SINGLE] != s ||
        bp->cells[a][JK_ITEM_MULTI] != m)
        fail_msg("level %d %s: %d/%d/%d, want %d/%d/%d", bp->level, area, bp->cells[a][0],
                 bp->cells[a][1], bp->cells[a][2], j, s, m);
}

static void test_blueprints(void **state)
{
    (void)state;
    jk_blueprint_t bp;
    jk_error_t e;
    for (int lv = 5; lv >= 4; lv--) {
        assert_int_equal(jk_blueprint_theory(g_std, lv, NULL, &bp, &e), JK_OK);
        s_expect_cells(&bp, "ethics", 2, 6, 1);
        s_expect_cells(&bp, "basics", 5, 14, 3);
        s_expect_cells(&bp, "info", 3, 8, 2);
        s_expect_cells(&bp, "employ", 3, 10, 1);
        s_expect_cells(&bp, "insure", 3, 10, 1);
        s_expect_cells(&bp, "retire", 2, 6, 1);
        s_expect_cells(&bp, "relations", 2, 6, 1);
        assert_int_equal(bp.n_items, 90);
        assert_int_equal(bp.total_centi, 10000);
    }
    assert_int_equal(jk_blueprint_theory(g_std, 3, NULL, &bp, &e), JK_OK);
    s_expect_cells(&bp, "ethics", 2, 6, 1);
    s_expect_cells(&bp, "basics", 5, 14, 3);
    s_expect_cells(&bp, "info", 2, 6, 1);
    s_expect_cells(&bp, "employ", 4, 12, 2);
    s_expect_cells(&bp, "insure", 3, 10, 1);
    s_expect_cells(&bp, "retire", 2, 6, 1);
    s_expect_cells(&bp, "relations", 2, 6, 1);
    /* Every cell's points add to the weight table's, at every level. */
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        assert_int_equal(jk_blueprint_theory(g_std, lv, NULL, &bp, &e), JK_OK);
        for (int a = 0; a < JK_AREA_COUNT; a++) {
            int32_t pts = 0;
            for (int t = 0; t < JK_ITEM__COUNT; t++)
                pts += bp.cells[a][t] * bp.points_centi[t];
            assert_int_equal(pts, jk_standard_weight(g_std, JK_EXAM_THEORY, a, lv) * 100);
        }
        assert_int_equal(jk_blueprint_skills(g_std, lv, 0, &bp, &e), JK_OK);
        assert_int_equal(bp.total_centi, 10000);
        assert_int_equal(bp.minutes, 90);
        assert_int_equal(bp.area_centi[A("employ")], lv == 3 ? 3500 : 3000);
    }
}

/* The sample bank can fill every level's theory blueprint at least three
 * times over with different items in every area x type cell. */
static void test_sample_bank_three_times_over(void **state)
{
    (void)state;
    jk_error_t e;
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        jk_blueprint_t bp;
        assert_int_equal(jk_blueprint_theory(g_std, lv, NULL, &bp, &e), JK_OK);
        size_t usable[JK_AREA_COUNT][JK_ITEM__COUNT];
        jk_bank_counts(g_bank, lv, usable);
        for (int a = 0; a < JK_AREA_COUNT; a++)
            for (int t = 0; t < JK_ITEM__COUNT; t++)
                if (usable[a][t] < 3 * (size_t)bp.cells[a][t])
                    fail_msg("level %d area %s type %s: %zu usable items for %d places", lv,
                             jk_standard_area(g_std, a)->id, jk_item_type_name((jk_item_type_t)t),
                             usable[a][t], bp.cells[a][t]);
    }
}

static void test_templates(void **state)
{
    (void)state;
    jk_template_t t;
    jk_blueprint_t bp;
    jk_error_t e;
    jk_template_default(&t);
    t.minutes = 60;
    assert_int_equal(jk_blueprint_theory(g_std, 5, &t, &bp, &e), JK_ERR_RANGE);
    assert_non_null(strstr(e.msg, "60 minutes; the standard requires at least 90"));
    jk_template_default(&t);
    t.counts[JK_ITEM_SINGLE] = 59;
    assert_int_equal(jk_blueprint_theory(g_std, 5, &t, &bp, &e), JK_ERR_INVAL);
    assert_non_null(strstr(e.msg, "add up to 99.00 points, not 100"));
    /* 50 single items of 2 points: basics' 25 points can't be met. */
    jk_template_default(&t);
    t.counts[JK_ITEM_JUDGE] = 0;
    t.counts[JK_ITEM_MULTI] = 0;
    t.counts[JK_ITEM_SINGLE] = 50;
    t.points_centi[JK_ITEM_SINGLE] = 200;
    assert_int_equal(jk_blueprint_theory(g_std, 5, &t, &bp, &e), JK_ERR_INVAL);
    assert_non_null(strstr(e.msg, "area 'basics' has 25.00 points left, which single items of 2.00 points can't fill exactly"));
}

static void s_build_level(int level, size_t n_papers, uint64_t seed, uint64_t *digests)
{
    jk_blueprint_t bp;
    jk_error_t e;
    assert_int_equal(jk_blueprint_theory(g_std, level, NULL, &bp, &e), JK_OK);
    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    o.seed = seed;
    o.planned_papers = n_papers;
    o.exposure_max = 0.5;
    jk_paper_builder_t *pb = jk_paper_builder_new(g_bank, &bp, &o, &e);
    if (!pb)
        fail_msg("level %d: %s", level, e.msg);
    jk_theory_paper_t *p = malloc(sizeof *p);
    double target = jk_paper_builder_target(pb);
    for (size_t i = 0; i < n_papers; i++) {
        char cand[32];
        snprintf(cand, sizeof cand, "C%05zu", i);
        if (jk_paper_build(pb, cand, p, &e) != JK_OK)
            fail_msg("level %d paper %zu: %s", level, i, e.msg);
        if (jk_paper_check(g_bank, &bp, p, &e) != JK_OK)
            fail_msg("level %d paper %zu: %s", level, i, e.msg);
        assert_true(fabs(p->mean_difficulty - target) <= o.difficulty_tolerance + 1e-6);
        /* Sections: judge, then single, then multi. */
        for (uint32_t k = 1; k < p->n; k++)
            assert_true(jk_bank_item(g_bank, p->entries[k - 1].item)->type <=
                        jk_bank_item(g_bank, p->entries[k].item)->type);
        digests[i] = p->digest;
    }
    assert_true(jk_paper_builder_max_exposure(pb) <= (uint32_t)ceil(0.5 * n_papers));
    free(p);
    jk_paper_builder_destroy(&pb);
    jk_paper_builder_destroy(&pb);
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_papers_every_level(void **state)
{
    (void)state;
    enum { N = 200 };
    uint64_t d1[N], d2[N], d3[N];
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        s_build_level(lv, N, 7, d1);
        s_build_level(lv, N, 7, d2);
        s_build_level(lv, N, 8, d3);
        /* Deterministic from the seed; another seed gives other papers. */
        assert_memory_equal(d1, d2, sizeof d1);
        int same = 0;
        for (int i = 0; i < N; i++)
            same += d1[i] == d3[i];
        assert_true(same < 2);
        /* Every paper distinct. */
        qsort(d1, N, sizeof d1[0], s_cmp_u64);
        for (int i = 1; i < N; i++)
            assert_true(d1[i] != d1[i - 1]);
    }
}

static void test_shortage_named(void **state)
{
    (void)state;
    /* A bank with only the ethics items: every other cell is short. */
    jk_bank_t *b = jk_bank_new(g_std);
    jk_error_t e;
    for (size_t i = 0; i < jk_bank_item_count(g_bank); i++) {
        const jk_item_t *it = jk_bank_item(g_bank, i);
        if (it->area == A("ethics"))
            assert_int_equal(jk_bank_add_item(b, it, "copy", NULL, &e), JK_OK);
    }
    jk_blueprint_t bp;
    assert_int_equal(jk_blueprint_theory(g_std, 5, NULL, &bp, &e), JK_OK);
    jk_paper_builder_t *pb = jk_paper_builder_new(b, &bp, NULL, &e);
    assert_null(pb);
    assert_int_equal(e.code, JK_ERR_SHORTAGE);
    assert_non_null(strstr(e.msg, "level 5, area basics (基础知识), type judge (判断, 1.00 points): the paper needs 5 items, the bank has 0 usable: 5 missing"));

    /* Exposure: the ethics multi cell (need 1) with no item on more than
     * 10% of 100 papers needs 10 items. */
    jk_bank_destroy(&b);
    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    o.planned_papers = 100;
    o.exposure_max = 0.1;
    pb = jk_paper_builder_new(g_bank, &bp, &o, &e);
    assert_null(pb);
    assert_non_null(strstr(e.msg, "with no item on more than 10% of 100 papers"));
    assert_non_null(strstr(e.msg, "missing"));
}

static void test_exposure_exhausted(void **state)
{
    (void)state;
    jk_blueprint_t bp;
    jk_error_t e;
    assert_int_equal(jk_blueprint_theory(g_std, 5, NULL, &bp, &e), JK_OK);
    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    o.planned_papers = 10;
    o.exposure_max = 0.5; /* cap 5 per item */
    jk_paper_builder_t *pb = jk_paper_builder_new(g_bank, &bp, &o, &e);
    assert_non_null(pb);
    jk_theory_paper_t *p = malloc(sizeof *p);
    jk_err_t rc = JK_OK;
    size_t built = 0;
    for (; built < 1000 && rc == JK_OK; built++) {
        char cand[16];
        snprintf(cand, sizeof cand, "X%zu", built);
        rc = jk_paper_build(pb, cand, p, &e);
    }
    /* The tightest cell (ethics multi: 4 items, cap 5) runs out after 20. */
    assert_int_equal(rc, JK_ERR_SHORTAGE);
    assert_true(built <= 25);
    assert_true(jk_paper_builder_max_exposure(pb) <= 5);
    free(p);
    jk_paper_builder_destroy(&pb);
}

static void test_difficulty_out_of_reach(void **state)
{
    (void)state;
    jk_blueprint_t bp;
    jk_error_t e;
    assert_int_equal(jk_blueprint_theory(g_std, 5, NULL, &bp, &e), JK_OK);
    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    o.difficulty_target = 0.95;
    o.difficulty_tolerance = 0.01;
    jk_paper_builder_t *pb = jk_paper_builder_new(g_bank, &bp, &o, &e);
    assert_non_null(pb);
    jk_theory_paper_t *p = malloc(sizeof *p);
    assert_int_equal(jk_paper_build(pb, "C1", p, &e), JK_ERR_RANGE);
    assert_non_null(strstr(e.msg, "can't be brought within 0.010 of the target 0.950"));
    free(p);
    jk_paper_builder_destroy(&pb);
}

static void test_unshuffle(void **state)
{
    (void)state;
    jk_item_t it;
    memset(&it, 0, sizeof it);
    it.type = JK_ITEM_MULTI;
    it.n_options = 5;
    /* Displayed order: bank options C, A, E, B, D. */
    uint32_t perm = 2u | 0u << 4 | 4u << 8 | 1u << 12 | 3u << 16;
    assert_int_equal(jk_paper_perm_at(perm, 2), 4);
    /* The candidate ticks displayed positions 0 and 3 (C and B). */
    assert_int_equal(jk_paper_unshuffle(&it, perm, 1u | 1u << 3), (1u << 2) | (1u << 1));
    it.type = JK_ITEM_JUDGE;
    assert_int_equal(jk_paper_unshuffle(&it, 0, 1u), 1u);
}

static void test_skills_papers(void **state)
{
    (void)state;
    jk_error_t e;
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        jk_blueprint_t bp;
        assert_int_equal(jk_blueprint_skills(g_std, lv, 0, &bp, &e), JK_OK);
        int variants = 0;
        uint32_t first[JK_PAPER_MAX_TASKS];
        uint32_t first_n = 0;
        for (int c = 0; c < 50; c++) {
            char cand[16];
            snprintf(cand, sizeof cand, "S%d", c);
            jk_skills_paper_t p;
            if (jk_paper_build_skills(g_bank, &bp, 3, cand, &p, &e) != JK_OK)
                fail_msg("level %d: %s", lv, e.msg);
            int32_t per_area[JK_AREA_COUNT] = { 0 };
            for (uint32_t k = 0; k < p.n; k++) {
                const jk_task_t *t = jk_bank_task(g_bank, p.tasks[k]);
                assert_true(t->level >= lv);
                per_area[t->area] += t->points_centi;
            }
            for (int a = 0; a < JK_AREA_COUNT; a++)
                assert_int_equal(per_area[a], bp.area_centi[a]);
            if (c == 0) {
                memcpy(first, p.tasks, sizeof first);
                first_n = p.n;
            } else if (p.n != first_n || memcmp(first, p.tasks, p.n * sizeof first[0]) != 0) {
                variants++;
            }
        }
        assert_true(variants > 0); /* more than one way to fill each level */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blueprints),
        cmocka_unit_test(test_sample_bank_three_times_over),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_papers_every_level),
        cmocka_unit_test(test_shortage_named),
        cmocka_unit_test(test_exposure_exhausted),
        cmocka_unit_test(test_difficulty_out_of_reach),
        cmocka_unit_test(test_unshuffle),
        cmocka_unit_test(test_skills_papers),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
