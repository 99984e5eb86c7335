/*
 * Unit tests for jk_standard: the real data/standard.json against figures
 * counted by hand from the printed standard, the queries, the staffing
 * arithmetic, and broken copies that must each be refused with a message
 * naming the JSON path.
 *
 * Broken copies are made from the real file in memory (load with jansson,
 * mutate, dump, parse with jk_standard_parse), so they stay in step with the
 * data; two tiny hand-written fixtures under tests/fixtures/standard/ cover
 * what jansson cannot dump (a duplicate key, a non-object root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jk_standard.h"

#define REAL_FILE JK_DATA_DIR "/standard.json"
#define FIXTURES JK_TEST_FIXTURES "/standard"

static jk_standard_t *s_std; /* the real standard, loaded once */

static int s_setup(void **state)
{
    (void)state;
    jk_error_t e;
    s_std = jk_standard_load(REAL_FILE, &e);
    if (!s_std) {
        fprintf(stderr, "cannot load the standard: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    jk_standard_destroy(&s_std);
    return 0;
}

/* ---- the real file ---- */

static void test_occupation(void **state)
{
    (void)state;
    assert_string_equal(jk_standard_occupation_code(s_std), "3-01-04-03");
    assert_string_equal(jk_standard_occupation_name(s_std), "劳动保障协理员");
    assert_string_equal(jk_standard_edition(s_std), "2022");
    assert_string_equal(jk_standard_definition(s_std),
                        "在街道（乡镇）、社区（行政村）基层从事劳动就业、社会保障等公共服务工作的人员。");
    assert_string_equal(jk_standard_level_name(s_std, 5), "五级/初级工");
    assert_string_equal(jk_standard_level_name(s_std, 4), "四级/中级工");
    assert_string_equal(jk_standard_level_name(s_std, 3), "三级/高级工");
    assert_null(jk_standard_level_name(s_std, 2));
    /* 1.8 培训参考学时 */
    assert_int_equal(jk_standard_training_hours(s_std, 5), 30);
    assert_int_equal(jk_standard_training_hours(s_std, 4), 80);
    assert_int_equal(jk_standard_training_hours(s_std, 3), 80);
    assert_int_equal(jk_standard_training_hours(s_std, 1), 0);
}

static void test_small_helpers(void **state)
{
    (void)state;
    assert_true(jk_level_valid(5) && jk_level_valid(4) && jk_level_valid(3));
    assert_false(jk_level_valid(2) || jk_level_valid(6) || jk_level_valid(0));
    assert_int_equal(jk_level_index(5), 0);
    assert_int_equal(jk_level_index(3), 2);
    assert_int_equal(jk_level_index(1), -1);
    assert_int_equal(jk_level_at(1), 4);
    assert_int_equal(jk_level_at(3), 0);
    assert_string_equal(jk_exam_name(JK_EXAM_THEORY), "theory");
    assert_string_equal(jk_exam_name(JK_EXAM_SKILLS), "skills");
    assert_null(jk_exam_name(JK_EXAM__COUNT));
    assert_int_equal(jk_exam_parse("skills"), JK_EXAM_SKILLS);
    assert_int_equal(jk_exam_parse("oral"), -1);
    assert_int_equal(jk_exam_parse(NULL), -1);
    assert_int_equal(jk_education_parse("associate"), JK_EDU_ASSOCIATE);
    assert_int_equal(jk_education_parse("phd"), -1);
    assert_string_equal(jk_education_name(JK_EDU_BACHELOR), "bachelor");
    assert_int_equal(jk_institution_parse("technician_class"), JK_INST_TECHNICIAN_CLASS);
    assert_int_equal(jk_institution_parse("university"), 0);
    assert_string_equal(jk_institution_name(JK_INST_VOCATIONAL_SCHOOL), "vocational_school");
    assert_null(jk_institution_name(JK_INST_TECHNICAL_SCHOOL | JK_INST_COLLEGE));
}

/*
 * Counted by hand from section 3 of the printed standard (3.1, 3.2, 3.3),
 * row by row, 技能要求 and 相关知识要求 separately:
 *
 * 五级/初级工  S: 1.1-1.3 = 4+3+3; 2.1-2.5 = 3+4+2+2+2; 3.1-3.4 = 3+2+2+2;
 *              4.1-4.2 = 2+3; 5.1-5.2 = 2+2                        -> 41
 *              K: 4+3+3; 3+4+3+2+2; 0 (3.1 printed empty)+2+2+2; 2+2;
 *              2+2                                                  -> 38
 * 四级/中级工  S: 5+4+3; 5+6+5+3+3; 5+3+2+4; 3+7; 3+4                -> 65
 *              K: 7+6+4; 5+6+4+3+4; 5+2+3+4; 4+7; 4+4                -> 72
 * 三级/高级工  S: 4+3+4; 4+4+4+4+4; 4+3+3+3; 3+7; 3+4                -> 61
 *              K: 8+5+4; 3+6+4+4+4; 3+2+2+3; 3+5; 4+4                -> 64
 * Each level: 5 职业功能 with 3+5+4+2+2 = 16 工作内容.
 * 基本要求: 2.1.1 (no items) + 2.1.2 (4) + 2.1.3 (3) = 8 references;
 *           2.2.1-2.2.9 = 3+6+3+2+3+3+2+4+6 = 32 items -> 40 references.
 */
enum {
    L5_SKILLS = 41, L5_KNOWLEDGE = 38,
    L4_SKILLS = 65, L4_KNOWLEDGE = 72,
    L3_SKILLS = 61, L3_KNOWLEDGE = 64,
    CONTENTS_PER_LEVEL = 16,
    BASIC_REFS = 40,
};

static void test_counts(void **state)
{
    (void)state;
    static const struct { int level; size_t skills, knowledge; } want[] = {
        { 5, L5_SKILLS, L5_KNOWLEDGE },
        { 4, L4_SKILLS, L4_KNOWLEDGE },
        { 3, L3_SKILLS, L3_KNOWLEDGE },
    };
    size_t total = BASIC_REFS;
    for (size_t i = 0; i < 3; i++) {
        jk_level_counts_t c;
        jk_standard_counts(s_std, want[i].level, &c);
        assert_int_equal(c.functions, JK_FUNCTION_COUNT);
        assert_int_equal(c.contents, CONTENTS_PER_LEVEL);
        assert_int_equal(c.skills, want[i].skills);
        assert_int_equal(c.knowledge, want[i].knowledge);
        assert_int_equal(jk_standard_content_count(s_std, want[i].level), CONTENTS_PER_LEVEL);
        total += want[i].skills + want[i].knowledge;
    }
    assert_int_equal(jk_standard_requirement_count(s_std), total);

    /* The same figures counted another way, from the requirement table. */
    size_t by_kind[3][3] = { { 0 } }, basic = 0;
    for (size_t i = 0; i < jk_standard_requirement_count(s_std); i++) {
        const jk_requirement_t *r = jk_standard_requirement(s_std, i);
        if (r->kind == JK_REQ_BASIC) {
            assert_int_equal(r->level, 0);
            basic++;
            continue;
        }
        by_kind[jk_level_index(r->level)][r->kind]++;
    }
    assert_int_equal(basic, BASIC_REFS);
    assert_int_equal(by_kind[0][JK_REQ_SKILL], L5_SKILLS);
    assert_int_equal(by_kind[1][JK_REQ_KNOWLEDGE], L4_KNOWLEDGE);
    assert_int_equal(by_kind[2][JK_REQ_SKILL], L3_SKILLS);

    jk_level_counts_t none;
    jk_standard_counts(s_std, 7, &none);
    assert_int_equal(none.skills, 0);
}

static void test_contents(void **state)
{
    (void)state;
    /* Names differ between levels: 2.3 and 2.4 at level 3. */
    static const struct { int level; size_t i; const char *code, *name; size_t ns, nk; } want[] = {
        { 5, 0, "1.1", "信息采集", 4, 4 },
        { 5, 5, "2.3", "职业培训服务", 2, 3 },
        { 5, 8, "3.1", "养老保险服务", 3, 0 },
        { 5, 12, "4.1", "退休人员政策法规咨询服务", 2, 2 },
        { 4, 5, "2.3", "职业培训服务", 5, 4 },
        { 4, 6, "2.4", "创业服务", 3, 3 },
        { 4, 13, "4.2", "退休人员社会化管理服务", 7, 7 },
        { 3, 5, "2.3", "职业培训指导服务", 4, 4 },
        { 3, 6, "2.4", "创业指导服务", 4, 4 },
        { 3, 15, "5.2", "劳动保障监察服务", 4, 4 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const jk_content_t *c = jk_standard_content(s_std, want[i].level, want[i].i);
        assert_non_null(c);
        assert_string_equal(c->code, want[i].code);
        assert_string_equal(c->name, want[i].name);
        assert_int_equal(c->level, want[i].level);
        assert_int_equal(c->n_skills, want[i].ns);
        assert_int_equal(c->n_knowledge, want[i].nk);
    }
    assert_null(jk_standard_content(s_std, 5, CONTENTS_PER_LEVEL));
    assert_null(jk_standard_content(s_std, 2, 0));
    /* Every content's area is the function its code starts with. */
    for (int li = 0; li < JK_LEVEL_COUNT; li++)
        for (size_t i = 0; i < CONTENTS_PER_LEVEL; i++) {
            const jk_content_t *c = jk_standard_content(s_std, jk_level_at(li), i);
            const jk_area_t *a = jk_standard_area(s_std, c->area);
            assert_int_equal(c->code[0] - '0', a->function);
        }
}

static void test_areas(void **state)
{
    (void)state;
    static const struct { const char *id, *name, *code; int function; } want[JK_AREA_COUNT] = {
        { "ethics", "职业道德和职业素养", "2.1", 0 },
        { "basics", "基础知识", "2.2", 0 },
        { "info", "基层平台信息管理", "1", 1 },
        { "employ", "就业创业服务", "2", 2 },
        { "insure", "社会保险服务", "3", 3 },
        { "retire", "退休人员社会化服务", "4", 4 },
        { "relations", "劳动关系协调和维权", "5", 5 },
    };
    for (int i = 0; i < JK_AREA_COUNT; i++) {
        int a = jk_standard_area_find(s_std, want[i].id);
        assert_true(a >= 0);
        const jk_area_t *ar = jk_standard_area(s_std, a);
        assert_string_equal(ar->id, want[i].id);
        assert_string_equal(ar->name, want[i].name);
        assert_string_equal(ar->code, want[i].code);
        assert_int_equal(ar->function, want[i].function);
    }
    assert_int_equal(jk_standard_area_find(s_std, "nope"), -1);
    assert_null(jk_standard_area(s_std, JK_AREA_COUNT));
}

/* Section 4 of the standard, every cell: points for levels 5, 4, 3. */
static void test_weights(void **state)
{
    (void)state;
    static const struct { const char *area; int p[3]; } theory[] = { /* 4.1 */
        { "ethics", { 10, 10, 10 } },   { "basics", { 25, 25, 25 } },
        { "info", { 15, 15, 10 } },     { "employ", { 15, 15, 20 } },
        { "insure", { 15, 15, 15 } },   { "retire", { 10, 10, 10 } },
        { "relations", { 10, 10, 10 } },
    };
    static const struct { const char *area; int p[3]; } skills[] = { /* 4.2 */
        { "info", { 25, 25, 20 } },     { "employ", { 30, 30, 35 } },
        { "insure", { 20, 20, 20 } },   { "retire", { 15, 15, 15 } },
        { "relations", { 10, 10, 10 } },
    };
    int areas[JK_AREA_COUNT];
    assert_int_equal(jk_standard_exam_areas(s_std, JK_EXAM_THEORY, areas, JK_AREA_COUNT), 7);
    for (size_t i = 0; i < 7; i++) {
        int a = jk_standard_area_find(s_std, theory[i].area);
        assert_int_equal(areas[i], a);
        for (int li = 0; li < 3; li++)
            assert_int_equal(jk_standard_weight(s_std, JK_EXAM_THEORY, a, jk_level_at(li)),
                             theory[i].p[li]);
    }
    assert_int_equal(jk_standard_exam_areas(s_std, JK_EXAM_SKILLS, areas, JK_AREA_COUNT), 5);
    for (size_t i = 0; i < 5; i++) {
        int a = jk_standard_area_find(s_std, skills[i].area);
        assert_int_equal(areas[i], a);
        for (int li = 0; li < 3; li++)
            assert_int_equal(jk_standard_weight(s_std, JK_EXAM_SKILLS, a, jk_level_at(li)),
                             skills[i].p[li]);
    }
    /* Not in the skills table; bad arguments. */
    assert_int_equal(jk_standard_weight(s_std, JK_EXAM_SKILLS,
                                        jk_standard_area_find(s_std, "ethics"), 5), 0);
    assert_int_equal(jk_standard_weight(s_std, JK_EXAM_THEORY, 0, 2), 0);
    assert_int_equal(jk_standard_exam_areas(s_std, JK_EXAM_SKILLS, NULL, 0), 5);
}

/* Every mark placed in the data, and nothing else marked. */
static void test_marks(void **state)
{
    (void)state;
    static const struct { const char *ref, *code; unsigned mark; } want[] = {
        { "2.1.3(1)", "2.1.3(1)", JK_MARK_SUSPECT },
        { "2.1.3(2)", "2.1.3(2)", JK_MARK_SUSPECT },
        { "2.2.8(3)", "2.2.8(3)", JK_MARK_SUSPECT },
        { "L4.K.3.1.2", "3.2.2", JK_MARK_MISPRINT },
        { "L4.K.3.2.2", "3.3.2", JK_MARK_MISPRINT },
        { "L4.K.4.2.7", "4.2.7", JK_MARK_SUSPECT },
        { "L3.S.3.1.1", "3.1.1", JK_MARK_SUSPECT },
    };
    size_t n_want = sizeof want / sizeof want[0];
    for (size_t i = 0; i < n_want; i++) {
        const jk_requirement_t *r = jk_standard_find(s_std, want[i].ref);
        assert_non_null(r);
        assert_string_equal(r->code, want[i].code);
        assert_int_equal(r->marks, want[i].mark);
        assert_non_null(r->note);
    }
    size_t marked = 0;
    for (size_t i = 0; i < jk_standard_requirement_count(s_std); i++) {
        const jk_requirement_t *r = jk_standard_requirement(s_std, i);
        if (r->marks)
            marked++;
        else
            assert_null(r->note);
        /* position code equals the printed code unless misprinted */
        if (!(r->marks & JK_MARK_MISPRINT))
            assert_string_equal(r->code, r->position_code);
        else
            assert_string_not_equal(r->code, r->position_code);
    }
    assert_int_equal(marked, n_want);

    const jk_requirement_t *r = jk_standard_find(s_std, "L3.S.3.1.1");
    assert_non_null(strstr(r->text, "城乡居民医疗保险"));
    assert_string_equal(jk_standard_find(s_std, "L4.K.3.1.2")->position_code, "3.1.2");

    /* The one gap: level 5, 3.1 养老保险服务, 相关知识要求 printed empty. */
    size_t gaps = 0;
    for (int li = 0; li < JK_LEVEL_COUNT; li++)
        for (size_t i = 0; i < jk_standard_content_count(s_std, jk_level_at(li)); i++) {
            const jk_content_t *c = jk_standard_content(s_std, jk_level_at(li), i);
            if (!c->marks)
                continue;
            gaps++;
            assert_int_equal(c->level, 5);
            assert_string_equal(c->code, "3.1");
            assert_int_equal(c->marks, JK_MARK_GAP);
            assert_int_equal(c->n_knowledge, 0);
            assert_int_equal(c->n_skills, 3);
            assert_non_null(c->note);
        }
    assert_int_equal(gaps, 1);
    assert_null(jk_standard_find(s_std, "L5.K.3.1.1"));
    assert_non_null(jk_standard_find(s_std, "L5.S.3.1.3"));

    /* The one garbled eligibility condition. */
    size_t alt_marks = 0;
    for (int li = 0; li < JK_LEVEL_COUNT; li++)
        for (size_t i = 0; i < jk_standard_alternative_count(s_std, jk_level_at(li)); i++) {
            const jk_alternative_t *a = jk_standard_alternative(s_std, jk_level_at(li), i);
            if (a->marks) {
                alt_marks++;
                assert_string_equal(a->id, "L5-4");
                assert_int_equal(a->marks, JK_MARK_SUSPECT);
            }
        }
    assert_int_equal(alt_marks, 1);
}

static void test_lookup(void **state)
{
    (void)state;
    const jk_requirement_t *r = jk_standard_find(s_std, "2.2.9(3)");
    assert_non_null(r);
    assert_int_equal(r->kind, JK_REQ_BASIC);
    assert_string_equal(r->text, "《中华人民共和国劳动合同法》相关知识。");
    assert_string_equal(r->content_code, "2.2.9");
    assert_string_equal(r->content_name, "相关法律、法规知识");
    assert_int_equal(r->area, jk_standard_area_find(s_std, "basics"));

    /* A section with no numbered items is referenced by its code. */
    r = jk_standard_find(s_std, "2.1.1");
    assert_non_null(r);
    assert_string_equal(r->text, "职业道德基本知识");
    assert_int_equal(r->area, jk_standard_area_find(s_std, "ethics"));
    assert_null(jk_standard_find(s_std, "2.1.2")); /* has items */

    /* Text joined across a page break (4.2.7) and a cell break (3 2.1.3). */
    r = jk_standard_find(s_std, "L4.S.4.2.7");
    assert_non_null(r);
    assert_string_equal(r->text, "能协助死亡退休人员家属申领丧葬补助金和遗属津贴的相关手续");
    assert_int_equal(r->kind, JK_REQ_SKILL);
    assert_int_equal(r->level, 4);
    assert_string_equal(r->content_name, "退休人员社会化管理服务");
    r = jk_standard_find(s_std, "L3.S.2.1.3");
    assert_string_equal(r->text, "能帮助服务对象协调解决在申请享受政策中遇到的问题");
    r = jk_standard_find(s_std, "L5.S.4.1.1");
    assert_string_equal(r->text, "能接待退休人员，了解其具体需要");

    /* The misprinted codes: printed 3.3.2 twice at level 4 knowledge. */
    r = jk_standard_find(s_std, "L4.K.3.2.2");
    assert_string_equal(r->code, "3.3.2");
    assert_string_equal(r->text, "失业保险业务经办程序");
    assert_string_equal(r->content_code, "3.2");
    r = jk_standard_find(s_std, "L4.K.3.3.2");
    assert_string_equal(r->code, "3.3.2");
    assert_string_equal(r->text, "工伤认定程序");
    assert_int_equal(r->marks, 0);
    r = jk_standard_find(s_std, "L4.K.3.1.2");
    assert_string_equal(r->text, "城镇职工养老保险及城乡居民养老保险经办业务程序");

    /* The footnote on 就业通用能力. */
    r = jk_standard_find(s_std, "L4.S.2.2.6");
    assert_non_null(r->footnote);
    assert_non_null(strstr(r->footnote, "就业通用能力：是指"));
    assert_non_null(strstr(r->text, "①"));

    assert_null(jk_standard_find(s_std, "L9.S.1.1.1"));
    assert_null(jk_standard_find(s_std, "L5.S.1.1.9"));
    assert_null(jk_standard_find(s_std, ""));
    assert_null(jk_standard_find(s_std, NULL));
    assert_null(jk_standard_find(NULL, "2.1.1"));

    /* Every requirement is found by its own reference. */
    for (size_t i = 0; i < jk_standard_requirement_count(s_std); i++) {
        const jk_requirement_t *q = jk_standard_requirement(s_std, i);
        assert_ptr_equal(jk_standard_find(s_std, q->ref), q);
    }
    assert_null(jk_standard_requirement(s_std, jk_standard_requirement_count(s_std)));
}

static void test_exams_and_staffing(void **state)
{
    (void)state;
    const jk_exam_rule_t *t = jk_standard_exam_rule(s_std, JK_EXAM_THEORY);
    const jk_exam_rule_t *k = jk_standard_exam_rule(s_std, JK_EXAM_SKILLS);
    assert_string_equal(t->name, "理论知识考试");
    assert_string_equal(k->name, "技能考核");
    assert_int_equal(t->min_minutes, 90);
    assert_int_equal(k->min_minutes, 90);
    assert_int_equal(t->full_marks, 100);
    assert_int_equal(t->pass_mark, 60);
    assert_int_equal(k->pass_mark, 60);
    assert_null(jk_standard_exam_rule(s_std, JK_EXAM__COUNT));

    const jk_staffing_t *p = jk_standard_staffing(s_std, JK_EXAM_THEORY);
    const jk_staffing_t *e = jk_standard_staffing(s_std, JK_EXAM_SKILLS);
    assert_string_equal(p->role, "proctor");
    assert_string_equal(p->name, "监考人员");
    assert_string_equal(e->role, "examiner");
    assert_string_equal(e->name, "考评人员");
    assert_int_equal(p->candidates_per_staff, 15);
    assert_int_equal(e->candidates_per_staff, 15);
    assert_int_equal(p->min_per_room, 2);
    assert_int_equal(e->min_per_room, 3);
    assert_false(p->odd);
    assert_true(e->odd);

    /* proctors max(2, ceil(n/15)); examiners max(3, ceil(n/15)) made odd */
    static const struct { int n, proctors, examiners; } want[] = {
        { 1, 2, 3 },   { 15, 2, 3 },  { 16, 2, 3 },  { 30, 2, 3 },
        { 31, 3, 3 },  { 45, 3, 3 },  { 46, 4, 5 },  { 60, 4, 5 },
        { 61, 5, 5 },  { 76, 6, 7 },  { 0, 0, 0 },   { -5, 0, 0 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(jk_staffing_needed(p, want[i].n), want[i].proctors);
        assert_int_equal(jk_staffing_needed(e, want[i].n), want[i].examiners);
    }
    assert_int_equal(jk_staffing_needed(NULL, 10), -1);
    jk_staffing_t bad = { .candidates_per_staff = 0, .min_per_room = 2 };
    assert_int_equal(jk_staffing_needed(&bad, 10), -1);
    jk_staffing_t big = { .candidates_per_staff = 15, .min_per_room = 2 };
    assert_int_equal(jk_staffing_needed(&big, INT32_MAX), INT32_MAX / 15 + 1);
}

static void s_assert_work(const jk_rule_t *r, jk_occupation_scope_t occ, int months,
                          jk_since_t since, int since_level)
{
    assert_int_equal(r->kind, JK_RULE_WORK);
    assert_int_equal(r->occupation, occ);
    assert_int_equal(r->min_months, months);
    assert_int_equal(r->since, since);
    assert_int_equal(r->since_level, since_level);
}

static void test_eligibility(void **state)
{
    (void)state;
    for (int li = 0; li < JK_LEVEL_COUNT; li++)
        assert_int_equal(jk_standard_alternative_count(s_std, jk_level_at(li)), 4);
    assert_null(jk_standard_alternative(s_std, 5, 4));

    const jk_alternative_t *a = jk_standard_alternative(s_std, 5, 0);
    assert_string_equal(a->id, "L5-1");
    assert_int_equal(a->rule.kind, JK_RULE_TRAINING);
    assert_int_equal(a->rule.level, 5);
    assert_int_equal(a->rule.min_hours, 30);
    assert_true(a->rule.certificate);
    s_assert_work(&jk_standard_alternative(s_std, 5, 1)->rule, JK_OCC_THIS, 6, JK_SINCE_NONE, 0);
    a = jk_standard_alternative(s_std, 5, 2);
    assert_int_equal(a->rule.kind, JK_RULE_INTERNSHIP);
    assert_int_equal(a->rule.institutions, JK_INST_TECHNICAL_SCHOOL | JK_INST_VOCATIONAL_SCHOOL);
    a = jk_standard_alternative(s_std, 5, 3);
    assert_int_equal(a->rule.kind, JK_RULE_INTERNSHIP);
    assert_int_equal(a->rule.institutions, 0);
    assert_int_equal(a->rule.min_education, JK_EDU_ASSOCIATE);

    a = jk_standard_alternative(s_std, 4, 0);
    assert_int_equal(a->rule.kind, JK_RULE_TRAINING);
    assert_int_equal(a->rule.min_hours, 80);
    a = jk_standard_alternative(s_std, 4, 1);
    assert_string_equal(a->id, "L4-2");
    assert_string_equal(a->text, "连续从事本职业工作两年以上，或取得本职业五级/初级工职业资格证书"
                                 "（职业技能等级证书）后，连续从事本职业工作1年以上。");
    assert_int_equal(a->rule.kind, JK_RULE_ANY);
    assert_int_equal(a->rule.n_children, 2);
    s_assert_work(&a->rule.children[0], JK_OCC_THIS, 24, JK_SINCE_NONE, 0);
    const jk_rule_t *all = &a->rule.children[1];
    assert_int_equal(all->kind, JK_RULE_ALL);
    assert_int_equal(all->n_children, 2);
    assert_int_equal(all->children[0].kind, JK_RULE_CERTIFICATE);
    assert_int_equal(all->children[0].level, 5);
    s_assert_work(&all->children[1], JK_OCC_THIS, 12, JK_SINCE_CERTIFICATE, 5);
    a = jk_standard_alternative(s_std, 4, 2);
    assert_int_equal(a->rule.kind, JK_RULE_ALL);
    assert_int_equal(a->rule.children[0].kind, JK_RULE_GRADUATED);
    assert_int_equal(a->rule.children[0].institutions,
                     JK_INST_TECHNICAL_SCHOOL | JK_INST_VOCATIONAL_SCHOOL);
    s_assert_work(&a->rule.children[1], JK_OCC_THIS, 12, JK_SINCE_GRADUATION, 0);
    a = jk_standard_alternative(s_std, 4, 3);
    assert_int_equal(a->rule.children[0].kind, JK_RULE_EDUCATION);
    assert_int_equal(a->rule.children[0].min_education, JK_EDU_ASSOCIATE);
    assert_true(a->rule.children[0].equivalent_ok);
    s_assert_work(&a->rule.children[1], JK_OCC_THIS, 6, JK_SINCE_NONE, 0);

    a = jk_standard_alternative(s_std, 3, 0);
    assert_int_equal(a->rule.kind, JK_RULE_ALL);
    s_assert_work(&a->rule.children[0], JK_OCC_THIS, 12, JK_SINCE_CERTIFICATE, 4);
    assert_int_equal(a->rule.children[1].kind, JK_RULE_TRAINING);
    assert_int_equal(a->rule.children[1].level, 3);
    assert_int_equal(a->rule.children[1].min_hours, 80);
    s_assert_work(&jk_standard_alternative(s_std, 3, 1)->rule, JK_OCC_THIS, 24,
                  JK_SINCE_CERTIFICATE, 4);
    a = jk_standard_alternative(s_std, 3, 2);
    assert_int_equal(a->rule.children[0].institutions, JK_INST_TECHNICIAN_CLASS);
    s_assert_work(&a->rule.children[1], JK_OCC_RELATED, 12, JK_SINCE_GRADUATION, 0);
    a = jk_standard_alternative(s_std, 3, 3);
    assert_int_equal(a->rule.children[0].min_education, JK_EDU_BACHELOR);
    s_assert_work(&a->rule.children[1], JK_OCC_RELATED, 12, JK_SINCE_NONE, 0);
}

static void test_load_default(void **state)
{
    (void)state;
    jk_error_t e;
    assert_int_equal(setenv("JK_STANDARD", FIXTURES "/no-such-file.json", 1), 0);
    jk_standard_t *s = jk_standard_load_default(&e);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_IO);
    assert_non_null(strstr(e.msg, "no-such-file.json"));
    assert_int_equal(unsetenv("JK_STANDARD"), 0);
    s = jk_standard_load_default(&e);
    assert_non_null(s);
    assert_int_equal(e.code, JK_OK);
    jk_standard_destroy(&s);
    assert_null(s);
    jk_standard_destroy(&s);   /* NULL *s */
    jk_standard_destroy(NULL); /* NULL s */
    /* The error record is optional. */
    assert_null(jk_standard_load(FIXTURES "/no-such-file.json", NULL));
}

/* ---- broken copies ---- */

static json_t *s_real_json(void)
{
    json_error_t je;
    json_t *root = json_load_file(REAL_FILE, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        fail_msg("%s:%d: %s", REAL_FILE, je.line, je.text);
    return root;
}

/* Walks "a/0/b" from root: object keys and array indexes. */
static json_t *s_at(json_t *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok;
         tok = strtok_r(NULL, "/", &save)) {
        if (json_is_array(v))
            v = json_array_get(v, strtoul(tok, NULL, 10));
        else
            v = json_object_get(v, tok);
        if (!v)
            fail_msg("no %s in the real file (at %s)", path, tok);
    }
    return v;
}

static jk_error_t s_err;

/* Dumps root (taking it), parses it as "broken.json" and expects failure
 * with code and each of the (up to two) needles in the message. */
static void s_expect_fail(json_t *root, jk_err_t code, const char *n1, const char *n2)
{
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    assert_non_null(text);
    jk_standard_t *s = jk_standard_parse(text, strlen(text), "broken.json", &s_err);
    free(text);
    if (s) {
        jk_standard_destroy(&s);
        fail_msg("a broken copy loaded (expected %s, \"%s\")", jk_strerror(code), n1 ? n1 : "");
    }
    if (s_err.code != code || strncmp(s_err.msg, "broken.json: ", 13) != 0 ||
        (n1 && !strstr(s_err.msg, n1)) || (n2 && !strstr(s_err.msg, n2)))
        fail_msg("expected %s with \"%s\" and \"%s\"; got %s: %s", jk_strerror(code),
                 n1 ? n1 : "", n2 ? n2 : "", jk_strerror(s_err.code), s_err.msg);
}

static void test_real_copy_loads(void **state)
{
    (void)state;
    /* The dump/parse round trip itself must not break anything. */
    json_t *root = s_real_json();
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    jk_error_t e;
    jk_standard_t *s = jk_standard_parse(text, strlen(text), "copy.json", &e);
    free(text);
    assert_non_null(s);
    assert_int_equal(jk_standard_requirement_count(s), jk_standard_requirement_count(s_std));
    jk_standard_destroy(&s);
}

#define L5 "work_requirements/0/functions"
#define L4 "work_requirements/1/functions"
#define L3 "work_requirements/2/functions"

static void test_broken_weights(void **state)
{
    (void)state;
    json_t *r = s_real_json();
    json_object_set_new(s_at(r, "weights/theory/rows/2/points"), "4", json_integer(14));
    s_expect_fail(r, JK_ERR_RANGE, "$.weights.theory.rows: ", "level 4 sum to 99");

    r = s_real_json();
    json_object_set_new(s_at(r, "weights/skills/rows/1/points"), "3", json_integer(34));
    s_expect_fail(r, JK_ERR_RANGE, "$.weights.skills.rows: ", "level 3 sum to 99");

    r = s_real_json();
    json_object_set_new(s_at(r, "weights/theory/rows/2/points"), "4", json_string("15"));
    s_expect_fail(r, JK_ERR_INVAL, "$.weights.theory.rows[2].points.4: ", "integer");

    r = s_real_json();
    json_object_del(s_at(r, "weights/theory/rows/6/points"), "5");
    s_expect_fail(r, JK_ERR_MISSING, "$.weights.theory.rows[6].points.5: ", "missing");

    r = s_real_json(); /* a weights row missing */
    json_array_remove(s_at(r, "weights/skills/rows"), 2);
    s_expect_fail(r, JK_ERR_MISSING, "$.weights.skills.rows: ", "\"insure\"");

    r = s_real_json();
    json_object_set_new(s_at(r, "weights/theory/rows/3"), "area", json_string("info"));
    s_expect_fail(r, JK_ERR_DUP, "$.weights.theory.rows[3]: ", "\"info\" appears twice");

    r = s_real_json(); /* a basic area has no place in the skills table */
    json_array_append(s_at(r, "weights/skills/rows"), s_at(r, "weights/theory/rows/0"));
    s_expect_fail(r, JK_ERR_INVAL, "$.weights.skills.rows[5]: ", "\"ethics\"");

    r = s_real_json();
    json_object_set_new(s_at(r, "weights/theory/rows/0"), "area", json_string("morals"));
    s_expect_fail(r, JK_ERR_NOTFOUND, "$.weights.theory.rows[0].area: ", "\"morals\"");
}

static void test_broken_codes(void **state)
{
    (void)state;
    json_t *r = s_real_json(); /* a duplicate requirement code */
    json_object_set_new(s_at(r, L5 "/0/contents/0/skills/1"), "code", json_string("1.1.1"));
    s_expect_fail(r, JK_ERR_DUP, "$.work_requirements[0].functions[0].contents[0].skills[1]: ",
                  "\"1.1.1\"");

    r = s_real_json(); /* a duplicate 基本要求 item code */
    json_object_set_new(s_at(r, "basic_requirements/1/sections/8/items/2"), "code",
                        json_string("2.2.9(2)"));
    s_expect_fail(r, JK_ERR_DUP, "$.basic_requirements[1].sections[8].items[2]: ", "2.2.9(2)");

    r = s_real_json(); /* a duplicate section code */
    json_object_set_new(s_at(r, "basic_requirements/1/sections/1"), "code",
                        json_string("2.2.1"));
    s_expect_fail(r, JK_ERR_DUP, "$.basic_requirements[1].sections[1]: ", "2.2.1");

    r = s_real_json(); /* a code that does not match its position */
    json_object_set_new(s_at(r, L3 "/4/contents/1/knowledge/3"), "code", json_string("5.2.5"));
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[2].functions[4].contents[1].knowledge[3]: ",
                  "position \"5.2.4\"");

    r = s_real_json(); /* a misprint left unmarked */
    json_object_del(s_at(r, L4 "/2/contents/0/knowledge/1"), "mark");
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[1].functions[2].contents[0].knowledge[1]: ",
                  "no misprint mark");

    r = s_real_json(); /* a misprint mark giving the wrong position */
    json_object_set_new(s_at(r, L4 "/2/contents/1/knowledge/1/mark"), "position_code",
                        json_string("3.2.3"));
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[1].functions[2].contents[1].knowledge[1]: ",
                  "\"3.2.2\"");

    r = s_real_json(); /* a misprint mark without position_code */
    json_object_del(s_at(r, L4 "/2/contents/1/knowledge/1/mark"), "position_code");
    s_expect_fail(r, JK_ERR_MISSING,
                  "$.work_requirements[1].functions[2].contents[1].knowledge[1].mark: ",
                  "position_code");

    r = s_real_json(); /* a content code out of place */
    json_object_set_new(s_at(r, L5 "/1/contents/4"), "code", json_string("2.6"));
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[0].functions[1].contents[4]: ",
                  "\"2.5\"");

    r = s_real_json(); /* an unknown mark kind */
    json_object_set_new(s_at(r, L3 "/2/contents/0/skills/0/mark"), "kind",
                        json_string("typo"));
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[2].functions[2].contents[0].skills[0]"
                                   ".mark.kind: ", "\"typo\"");

    r = s_real_json(); /* gap marks belong on contents, not requirements */
    json_object_set_new(s_at(r, L3 "/2/contents/0/skills/0/mark"), "kind", json_string("gap"));
    s_expect_fail(r, JK_ERR_INVAL, "skills[0].mark.kind: ", "does not belong");

    r = s_real_json();
    json_object_set_new(s_at(r, L5 "/0/contents/0/skills/0"), "text", json_string(""));
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[0].functions[0].contents[0].skills[0]"
                                   ".text: ", "empty");
}

static void test_broken_structure(void **state)
{
    (void)state;
    json_t *r = s_real_json(); /* a level with only four functions */
    json_array_remove(s_at(r, L4), 2);
    s_expect_fail(r, JK_ERR_MISSING, "$.work_requirements[1].functions: ",
                  "level 4 lacks function 3 (社会保险服务, area \"insure\")");

    r = s_real_json(); /* a function under the wrong area */
    json_object_set_new(s_at(r, L3 "/3"), "area", json_string("relations"));
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[2].functions[3]: ", "not 4");

    r = s_real_json();
    json_array_remove(s_at(r, "work_requirements"), 2);
    s_expect_fail(r, JK_ERR_MISSING, "$.work_requirements: ", "level 3");

    r = s_real_json();
    json_object_set_new(s_at(r, "levels/1"), "level", json_integer(2));
    s_expect_fail(r, JK_ERR_INVAL, "$.levels[1].level: ", "expected 4");

    r = s_real_json();
    json_array_remove(s_at(r, "basic_requirements"), 0);
    s_expect_fail(r, JK_ERR_MISSING, "$.basic_requirements: ", "\"ethics\"");

    r = s_real_json();
    json_object_set_new(s_at(r, "areas/4"), "id", json_string("info"));
    s_expect_fail(r, JK_ERR_DUP, "$.areas[4]: ", "\"info\"");

    r = s_real_json(); /* an empty cell without a gap mark */
    json_object_del(s_at(r, L5 "/2/contents/0"), "mark");
    s_expect_fail(r, JK_ERR_MISSING, "$.work_requirements[0].functions[2].contents[0]: ",
                  "相关知识要求 (knowledge) cell is empty but carries no gap mark");

    r = s_real_json();
    json_array_clear(s_at(r, L4 "/0/contents/0/skills"));
    s_expect_fail(r, JK_ERR_MISSING, "$.work_requirements[1].functions[0].contents[0]: ",
                  "技能要求 (skills) cell is empty");

    r = s_real_json(); /* a gap mark where nothing is empty */
    json_object_set(s_at(r, L5 "/2/contents/1"), "mark", s_at(r, L5 "/2/contents/0/mark"));
    s_expect_fail(r, JK_ERR_INVAL, "$.work_requirements[0].functions[2].contents[1]: ",
                  "neither cell is empty");

    r = s_real_json();
    json_object_set_new(s_at(r, "exams/theory"), "min_minutes", json_integer(60));
    s_expect_fail(r, JK_ERR_RANGE, "$.exams.theory.min_minutes: ", "60");

    r = s_real_json();
    json_object_set_new(s_at(r, "exams/skills"), "pass_mark", json_integer(50));
    s_expect_fail(r, JK_ERR_RANGE, "$.exams.skills.pass_mark: ", NULL);

    r = s_real_json();
    json_object_set_new(s_at(r, "staffing/skills"), "min_per_room", json_integer(4));
    s_expect_fail(r, JK_ERR_INVAL, "$.staffing.skills: ", "odd");

    r = s_real_json();
    json_object_set_new(s_at(r, "staffing/theory"), "candidates_per_staff", json_integer(0));
    s_expect_fail(r, JK_ERR_RANGE, "$.staffing.theory.candidates_per_staff: ", NULL);
}

static void test_broken_header(void **state)
{
    (void)state;
    json_t *r = s_real_json();
    json_object_set_new(r, "format_version", json_integer(2));
    s_expect_fail(r, JK_ERR_VERSION, "$.format_version: ", "version 2");

    r = s_real_json();
    json_object_set_new(r, "format", json_string("jikao-bank"));
    s_expect_fail(r, JK_ERR_VERSION, "$.format: ", "jikao-bank");

    r = s_real_json();
    json_object_del(s_at(r, "occupation"), "code");
    s_expect_fail(r, JK_ERR_MISSING, "$.occupation.code: ", "missing");
}

static void test_broken_eligibility(void **state)
{
    (void)state;
    json_t *r = s_real_json(); /* an unknown node kind */
    json_object_set_new(s_at(r, "eligibility/0/alternatives/1"), "rule",
                        json_pack("{s:{s:s,s:i}}", "wrok", "occupation", "this", "min_months", 6));
    s_expect_fail(r, JK_ERR_INVAL, "$.eligibility[0].alternatives[1].rule: ",
                  "unknown rule kind \"wrok\"");

    r = s_real_json(); /* training hours that disagree with 1.8 */
    json_object_set_new(s_at(r, "eligibility/0/alternatives/0/rule/training"), "min_hours",
                        json_integer(40));
    s_expect_fail(r, JK_ERR_INVAL, "$.eligibility[0].alternatives[0].rule.training.min_hours: ",
                  "is 30");

    r = s_real_json(); /* a non-positive period, deep inside any/all */
    json_object_set_new(s_at(r, "eligibility/1/alternatives/1/rule/any/1/all/1/work"),
                        "min_months", json_integer(0));
    s_expect_fail(r, JK_ERR_RANGE,
                  "$.eligibility[1].alternatives[1].rule.any[1].all[1].work.min_months: ", NULL);

    r = s_real_json(); /* since certificate without since_level */
    json_object_del(s_at(r, "eligibility/2/alternatives/1/rule/work"), "since_level");
    s_expect_fail(r, JK_ERR_MISSING, "$.eligibility[2].alternatives[1].rule.work.since_level: ",
                  NULL);

    r = s_real_json(); /* an unknown starting point */
    json_object_set_new(s_at(r, "eligibility/1/alternatives/1/rule/any/1/all/1/work"), "since",
                        json_string("birth"));
    s_expect_fail(r, JK_ERR_INVAL, "rule.any[1].all[1].work.since: ", "\"birth\"");

    r = s_real_json(); /* since_level without since certificate */
    json_object_set_new(s_at(r, "eligibility/1/alternatives/2/rule/all/1/work"), "since_level",
                        json_integer(5));
    s_expect_fail(r, JK_ERR_INVAL, "$.eligibility[1].alternatives[2].rule.all[1].work"
                                   ".since_level: ", NULL);

    r = s_real_json(); /* an invalid level */
    json_object_set_new(s_at(r, "eligibility/1/alternatives/1/rule/any/1/all/0/certificate"),
                        "level", json_integer(6));
    s_expect_fail(r, JK_ERR_RANGE, "rule.any[1].all[0].certificate.level: ", "level 6");

    r = s_real_json(); /* two kinds in one node */
    json_object_set_new(s_at(r, "eligibility/0/alternatives/0/rule"), "certificate",
                        json_pack("{s:i}", "level", 5));
    s_expect_fail(r, JK_ERR_INVAL, "$.eligibility[0].alternatives[0].rule: ", "exactly one key");

    r = s_real_json(); /* an empty any */
    json_object_set_new(s_at(r, "eligibility/1/alternatives/1/rule"), "any", json_array());
    s_expect_fail(r, JK_ERR_INVAL, "$.eligibility[1].alternatives[1].rule.any: ", "non-empty");

    r = s_real_json(); /* an unknown institution */
    json_array_append_new(s_at(r, "eligibility/0/alternatives/2/rule/internship/institutions"),
                          json_string("university"));
    s_expect_fail(r, JK_ERR_INVAL,
                  "$.eligibility[0].alternatives[2].rule.internship.institutions[2]: ",
                  "\"university\"");

    r = s_real_json(); /* a stray key in a node */
    json_object_set_new(s_at(r, "eligibility/2/alternatives/3/rule/all/0/education"), "max",
                        json_string("doctor"));
    s_expect_fail(r, JK_ERR_INVAL, "$.eligibility[2].alternatives[3].rule.all[0].education: ",
                  "\"max\"");

    r = s_real_json();
    json_object_set_new(s_at(r, "eligibility/2/alternatives/3"), "id", json_string("L3-9"));
    s_expect_fail(r, JK_ERR_INVAL, "$.eligibility[2].alternatives[3]: ", "\"L3-4\"");
}

static void test_broken_syntax(void **state)
{
    (void)state;
    /* A truncated file: the error names a line and a column. */
    json_t *root = s_real_json();
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    size_t cut = strlen(text) / 2;
    jk_error_t e;
    jk_standard_t *s = jk_standard_parse(text, cut, "broken.json", &e);
    free(text);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, "broken.json: line "));
    assert_non_null(strstr(e.msg, ", column "));

    /* Hand-written fixtures. */
    s = jk_standard_load(FIXTURES "/duplicate-key.json", &e);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, "duplicate-key.json: line 3, column"));
    s = jk_standard_load(FIXTURES "/not-an-object.json", &e);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_INVAL);
    assert_non_null(strstr(e.msg, "not-an-object.json: $: expected an object"));

    s = jk_standard_parse("", 0, "empty.json", &e);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_PARSE);
    s = jk_standard_parse(NULL, 0, NULL, &e);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_INVAL);

    /* Over the size bound: refused before parsing. */
    size_t big = (size_t)JK_STANDARD_MAX_BYTES + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    s = jk_standard_parse(huge, big, "huge.json", &e);
    free(huge);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_TOO_BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_occupation),
        cmocka_unit_test(test_small_helpers),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_contents),
        cmocka_unit_test(test_areas),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_marks),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_exams_and_staffing),
        cmocka_unit_test(test_eligibility),
        cmocka_unit_test(test_load_default),
        cmocka_unit_test(test_real_copy_loads),
        cmocka_unit_test(test_broken_weights),
        cmocka_unit_test(test_broken_codes),
        cmocka_unit_test(test_broken_structure),
        cmocka_unit_test(test_broken_header),
        cmocka_unit_test(test_broken_eligibility),
        cmocka_unit_test(test_broken_syntax),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
