/* Unit tests for jk_blueprint and jk_paper: blueprint cells per level,
 * template errors, papers for every level from the sample bank checked
 * against the weight tables, distinctness, determinism, exposure and
 * difficulty control, shortages named, option shuffles, skills papers (their
 * spread over equal tasks, and their limits). */
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

/* Sorted copy of a paper's tasks, hashed: an id of its task set. */
static uint64_t s_task_set(const jk_skills_paper_t *p)
{
    uint32_t t[JK_PAPER_MAX_TASKS];
    memcpy(t, p->tasks, p->n * sizeof t[0]);
    for (uint32_t i = 1; i < p->n; i++)
        for (uint32_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            uint32_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < p->n; i++)
        h = (h ^ (t[i] + 1)) * 0x100000001b3ULL;
    return h;
}

/* A skills paper meets its blueprint: the level, the points of every area,
 * no task twice, the minutes the sum of its tasks'. */
static void s_check_skills(const jk_bank_t *b, const jk_blueprint_t *bp, const jk_skills_paper_t *p)
{
    int32_t per_area[JK_AREA_COUNT] = { 0 };
    int minutes = 0;
    assert_int_equal(p->level, bp->level);
    assert_true(p->n <= JK_PAPER_MAX_TASKS);
    for (uint32_t k = 0; k < p->n; k++) {
        const jk_task_t *t = jk_bank_task(b, p->tasks[k]);
        assert_non_null(t);
        assert_true(t->level >= bp->level);
        per_area[t->area] += t->points_centi;
        minutes += t->minutes;
        for (uint32_t j = 0; j < k; j++)
            assert_int_not_equal(p->tasks[j], p->tasks[k]);
    }
    for (int a = 0; a < JK_AREA_COUNT; a++)
        assert_int_equal(per_area[a], bp->area_centi[a]);
    assert_int_equal(p->minutes, minutes);
}

static void test_skills_papers(void **state)
{
    (void)state;
    jk_error_t e;
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        jk_blueprint_t bp;
        assert_int_equal(jk_blueprint_skills(g_std, lv, 0, &bp, &e), JK_OK);
        jk_paper_opts_t o;
        jk_paper_opts_default(&o);
        o.seed = 3;
        jk_paper_builder_t *pb = jk_paper_builder_new(g_bank, &bp, &o, &e);
        if (!pb)
            fail_msg("level %d: %s", lv, e.msg);
        int variants = 0;
        uint32_t first[JK_PAPER_MAX_TASKS];
        uint32_t first_n = 0;
        uint64_t sets[200];
        size_t uses[512] = { 0 };
        assert_true(jk_bank_task_count(g_bank) <= 512);
        for (int c = 0; c < 200; c++) {
            char cand[16];
            snprintf(cand, sizeof cand, "S%d", c);
            jk_skills_paper_t p, q;
            if (jk_paper_build_skills(g_bank, &bp, 3, cand, &p, &e) != JK_OK)
                fail_msg("level %d: %s", lv, e.msg);
            s_check_skills(g_bank, &bp, &p);
            /* The builder gives the same paper, whatever came before. */
            assert_int_equal(jk_paper_build_skills_with(pb, cand, &q, &e), JK_OK);
            assert_int_equal(q.n, p.n);
            assert_memory_equal(q.tasks, p.tasks, p.n * sizeof p.tasks[0]);
            sets[c] = s_task_set(&p);
            for (uint32_t k = 0; k < p.n; k++)
                uses[p.tasks[k]]++;
            if (c == 0) {
                memcpy(first, p.tasks, sizeof first);
                first_n = p.n;
            } else if (p.n != first_n || memcmp(first, p.tasks, p.n * sizeof first[0]) != 0) {
                variants++;
            }
        }
        assert_true(variants > 0); /* more than one way to fill each level */
        assert_int_equal(jk_paper_builder_count(pb), 200);
        /* Several task sets, and no task on every paper unless its area has
         * no other way to add up. */
        qsort(sets, 200, sizeof sets[0], s_cmp_u64);
        size_t distinct = 1;
        for (int i = 1; i < 200; i++)
            distinct += sets[i] != sets[i - 1];
        assert_true(distinct >= 4);
        size_t most = 0;
        for (size_t t = 0; t < jk_bank_task_count(g_bank); t++)
            most = uses[t] > most ? uses[t] : most;
        assert_int_equal(jk_paper_builder_max_exposure(pb), most);
        assert_true(most < 200);
        /* A theory builder builds no skills paper and the reverse. */
        jk_theory_paper_t *tp = malloc(sizeof *tp);
        assert_int_equal(jk_paper_build(pb, "X", tp, &e), JK_ERR_INVAL);
        free(tp);
        jk_paper_builder_destroy(&pb);
    }
}

/* A bank of skills tasks only: per skills area, n tasks of 5 points usable
 * at level 5 (relations: n_rel tasks of rel_points), refs borrowed from the
 * sample bank's level-5 tasks of the area. */
static jk_bank_t *s_skills_bank(int n, int n_rel, int rel_points)
{
    jk_bank_t *b = jk_bank_new(g_std);
    assert_non_null(b);
    size_t cap = 1 << 20, len = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    len += (size_t)snprintf(doc + len, cap - len,
                            "{\"format\":\"jikao-bank\",\"format_version\":1,\"bank\":{\"id\":\"t\","
                            "\"title\":\"t\",\"standard\":\"3-01-04-03/2022\",\"synthetic\":false},"
                            "\"items\":[],\"tasks\":[");
    int areas[JK_AREA_COUNT];
    size_t na = jk_standard_exam_areas(g_std, JK_EXAM_SKILLS, areas, JK_AREA_COUNT);
    bool comma = false;
    for (size_t ai = 0; ai < na; ai++) {
        const char *ref = NULL;
        for (size_t t = 0; t < jk_bank_task_count(g_bank) && !ref; t++) {
            const jk_task_t *tk = jk_bank_task(g_bank, t);
            if (tk->area == areas[ai] && tk->level == 5)
                ref = tk->refs[0];
        }
        assert_non_null(ref);
        const char *aid = jk_standard_area(g_std, areas[ai])->id;
        bool rel = strcmp(aid, "relations") == 0;
        int count = rel ? n_rel : n, pts = rel ? rel_points : 5;
        for (int i = 0; i < count; i++) {
            if (cap - len < 1024) {
                cap *= 2;
                doc = realloc(doc, cap);
                assert_non_null(doc);
            }
            len += (size_t)snprintf(
                doc + len, cap - len,
                "%s{\"id\":\"T-%s-%04d\",\"type\":\"oral\",\"level\":5,\"area\":\"%s\",\"refs\":"
                "[\"%s\"],\"title\":\"t\",\"scenario\":\"s\",\"minutes\":5,\"parts\":[{\"id\":"
                "\"p1\",\"prompt\":\"q\",\"points\":%d,\"rubric\":[{\"criterion\":\"c\",\"points\":"
                "%d}]}],\"basis\":\"b\"}",
                comma ? "," : "", aid, i, aid, ref, pts, pts);
            comma = true;
        }
    }
    len += (size_t)snprintf(doc + len, cap - len, "]}");
    jk_error_t e;
    if (jk_bank_parse(b, doc, len, "skills-test.json", NULL, &e) != JK_OK)
        fail_msg("%s", e.msg);
    free(doc);
    return b;
}

/* With 30 equal tasks per area every task gets about its fair share of the
 * papers (area points / 5 of 30), and the papers differ. */
static void test_skills_spread(void **state)
{
    (void)state;
    enum { N = 3000, PER_AREA = 30 };
    jk_bank_t *b = s_skills_bank(PER_AREA, PER_AREA, 5);
    jk_blueprint_t bp;
    jk_error_t e;
    assert_int_equal(jk_blueprint_skills(g_std, 5, 0, &bp, &e), JK_OK);
    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    o.seed = 17;
    jk_paper_builder_t *pb = jk_paper_builder_new(b, &bp, &o, &e);
    if (!pb)
        fail_msg("%s", e.msg);
    size_t nt = jk_bank_task_count(b);
    size_t *uses = calloc(nt, sizeof *uses);
    uint64_t *sets = malloc(N * sizeof *sets);
    assert_non_null(uses);
    assert_non_null(sets);
    for (int c = 0; c < N; c++) {
        char cand[16];
        snprintf(cand, sizeof cand, "C%05d", c);
        jk_skills_paper_t p;
        if (jk_paper_build_skills_with(pb, cand, &p, &e) != JK_OK)
            fail_msg("candidate %s: %s", cand, e.msg);
        s_check_skills(b, &bp, &p);
        for (uint32_t k = 0; k < p.n; k++)
            uses[p.tasks[k]]++;
        sets[c] = s_task_set(&p);
    }
    for (size_t t = 0; t < nt; t++) {
        const jk_task_t *tk = jk_bank_task(b, t);
        double fair = (double)N * (bp.area_centi[tk->area] / 500) / PER_AREA;
        if (uses[t] > fair * 1.35 || uses[t] < fair * 0.65)
            fail_msg("task %s is on %zu of %d papers; its fair share is %.0f", tk->id, uses[t], N,
                     fair);
    }
    /* No two candidates got the same tasks (there are ~1e19 ways). */
    qsort(sets, N, sizeof sets[0], s_cmp_u64);
    for (int i = 1; i < N; i++)
        assert_true(sets[i] != sets[i - 1]);
    free(sets);
    free(uses);
    jk_paper_builder_destroy(&pb);
    jk_bank_destroy(&b);
}

/* No set adds up: SHORTAGE naming the area. Too many usable tasks: TOO_BIG
 * naming the count (never silently ignored). The search's step bound:
 * RANGE naming the area and the bound. */
static void test_skills_limits(void **state)
{
    (void)state;
    jk_blueprint_t bp;
    jk_error_t e;
    assert_int_equal(jk_blueprint_skills(g_std, 5, 0, &bp, &e), JK_OK);

    jk_bank_t *b = s_skills_bank(10, 10, 3); /* relations: 10 points from 3-point tasks */
    jk_skills_paper_t p;
    assert_null(jk_paper_builder_new(b, &bp, NULL, &e));
    assert_int_equal(e.code, JK_ERR_SHORTAGE);
    assert_non_null(strstr(e.msg, "level 5, skills area relations"));
    assert_non_null(strstr(e.msg, "no set of the 10 usable tasks adds up to 10 points"));
    assert_int_equal(jk_paper_build_skills(b, &bp, 1, "C1", &p, &e), JK_ERR_SHORTAGE);
    jk_bank_destroy(&b);

    b = s_skills_bank(6, JK_PAPER_MAX_AREA_TASKS + 1, 5);
    assert_null(jk_paper_builder_new(b, &bp, NULL, &e));
    assert_int_equal(e.code, JK_ERR_TOO_BIG);
    char want[64];
    snprintf(want, sizeof want, "%d usable tasks", JK_PAPER_MAX_AREA_TASKS + 1);
    assert_non_null(strstr(e.msg, want));
    assert_non_null(strstr(e.msg, "relations"));
    jk_bank_destroy(&b);

    /* At the bound every task can be drawn (the 64-task limit is gone). */
    b = s_skills_bank(6, JK_PAPER_MAX_AREA_TASKS, 5);
    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    jk_paper_builder_t *pb = jk_paper_builder_new(b, &bp, &o, &e);
    if (!pb)
        fail_msg("%s", e.msg);
    bool late = false;
    for (int c = 0; c < 200 && !late; c++) {
        char cand[16];
        snprintf(cand, sizeof cand, "C%d", c);
        assert_int_equal(jk_paper_build_skills_with(pb, cand, &p, &e), JK_OK);
        s_check_skills(b, &bp, &p);
        for (uint32_t k = 0; k < p.n; k++) {
            const char *id = jk_bank_task(b, p.tasks[k])->id;
            late |= strncmp(id, "T-relations-", 12) == 0 && atoi(id + 12) >= 64;
        }
    }
    assert_true(late);
    jk_paper_builder_destroy(&pb);

    o.skills_max_steps = 1; /* every area needs more than one step */
    pb = jk_paper_builder_new(b, &bp, &o, &e);
    assert_non_null(pb);
    assert_int_equal(jk_paper_build_skills_with(pb, "C1", &p, &e), JK_ERR_RANGE);
    assert_non_null(strstr(e.msg, "candidate C1: level 5, skills area"));
    assert_non_null(strstr(e.msg, "found in 1 steps"));
    jk_paper_builder_destroy(&pb);
    jk_bank_destroy(&b);
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
        cmocka_unit_test(test_skills_spread),
        cmocka_unit_test(test_skills_limits),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
