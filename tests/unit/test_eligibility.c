/*
 * Unit tests for jk_eligibility: every alternative of 1.9.1 at every level
 * met and not met, against the real data/standard.json; the day a period
 * completes and the day before (6, 12, 24 months, starts on the 31st, leap
 * years); joined and broken periods; counting since a certificate and
 * since graduation; certificates and graduations dated after the
 * evaluation date; this vs related occupation; and the words a clerk reads.
 *
 * Applicants are built per test from small helpers (s_work, s_cert, ...)
 * on a zeroed record, so each test shows only the records it is about.
 * One test runs a copy of the standard with L3-4's 含同等学力 removed (made
 * in memory with jansson) to reach the "同等学力不计" branch.
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

#include "jk_eligibility.h"
#include "jk_text.h"

#define REAL_FILE JK_DATA_DIR "/standard.json"

static jk_standard_t *s_std;

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

/* ---- helpers ---- */

static jk_date_t D(int y, int m, int d)
{
    jk_date_t x = 0;
    assert_true(jk_date_from_ymd(y, m, d, &x));
    return x;
}

/* An applicant with room for work periods of its own. */
typedef struct {
    jk_applicant_t a;
    jk_work_period_t work[JK_APPLICANT_MAX_WORK + 1];
} s_app_t;

static void s_init(s_app_t *p)
{
    memset(p, 0, sizeof *p);
    p->a.work = p->work;
}

static void s_work(s_app_t *p, jk_occupation_scope_t scope, jk_date_t start, jk_date_t end)
{
    jk_work_period_t *w = &p->work[p->a.n_work++];
    w->scope = scope;
    w->start = start;
    w->end = end;
    w->ongoing = false;
}

static void s_work_on(s_app_t *p, jk_occupation_scope_t scope, jk_date_t start)
{
    jk_work_period_t *w = &p->work[p->a.n_work++];
    w->scope = scope;
    w->start = start;
    w->ongoing = true;
}

static void s_cert(s_app_t *p, int level, jk_date_t d)
{
    p->a.certificates[jk_level_index(level)].held = true;
    p->a.certificates[jk_level_index(level)].date = d;
}

static void s_training(s_app_t *p, int level, int hours, bool cert, jk_date_t d)
{
    jk_training_t *t = &p->a.training[jk_level_index(level)];
    t->hours = hours;
    t->certificate = cert;
    t->certificate_date = d;
}

static void s_school(s_app_t *p, unsigned kind, jk_school_status_t st, jk_date_t grad)
{
    jk_school_t *s = &p->a.schools[p->a.n_schools++];
    s->kind = kind;
    s->programme = JK_EDU_NONE;
    s->status = st;
    s->graduated = grad;
}

static jk_elig_result_t s_res; /* last result, for messages */

/* Checks one level and returns whether it is met; asserts the return code
 * agrees with the result. */
static bool s_check(int level, const s_app_t *p, jk_date_t on)
{
    jk_err_t rc = jk_eligibility_check(s_std, level, &p->a, on, &s_res);
    assert_true(rc == JK_OK || rc == JK_ERR_INELIGIBLE);
    assert_int_equal(rc == JK_OK, s_res.eligible);
    assert_int_equal(s_res.level, level);
    assert_int_equal(s_res.n_alternatives, 4);
    for (size_t i = 0; i < s_res.n_alternatives; i++) {
        const jk_elig_alt_result_t *ar = &s_res.alternatives[i];
        assert_int_equal(ar->met, ar->missing[0] == '\0');
        assert_true(jk_utf8_valid(ar->missing, strlen(ar->missing)));
    }
    return s_res.eligible;
}

/* True when alternative `id` ("L4-2") is met in the last result. */
static bool s_alt_met(const char *id)
{
    for (size_t i = 0; i < s_res.n_alternatives; i++)
        if (strcmp(s_res.alternatives[i].id, id) == 0)
            return s_res.alternatives[i].met;
    fail_msg("no alternative %s", id);
    return false;
}

static const char *s_missing(const char *id)
{
    for (size_t i = 0; i < s_res.n_alternatives; i++)
        if (strcmp(s_res.alternatives[i].id, id) == 0)
            return s_res.alternatives[i].missing;
    fail_msg("no alternative %s", id);
    return "";
}

#define assert_contains(hay, needle)                                                        \
    do {                                                                                    \
        const char *h_ = (hay), *n_ = (needle);                                             \
        if (!strstr(h_, n_))                                                                \
            fail_msg("\"%s\" does not contain \"%s\"", h_, n_);                             \
    } while (0)

#define assert_not_contains(hay, needle)                                                    \
    do {                                                                                    \
        const char *h_ = (hay), *n_ = (needle);                                             \
        if (strstr(h_, n_))                                                                 \
            fail_msg("\"%s\" contains \"%s\"", h_, n_);                                     \
    } while (0)

static const jk_date_t *s_on(void)
{
    static jk_date_t on;
    on = D(2026, 12, 12);
    return &on;
}
#define ON (*s_on())

/* ---- 五级 ---- */

static void test_level5(void **state)
{
    (void)state;
    s_app_t p;

    /* Nothing on record: every alternative says what is missing. */
    s_init(&p);
    assert_false(s_check(5, &p, ON));
    assert_null(s_res.met_id);
    assert_string_equal(s_missing("L5-1"),
                        "本职业五级/初级工预备培训满30标准学时并取得结业证书：无培训记录");
    assert_string_equal(s_missing("L5-2"), "连续从事本职业工作满6个月：无本职业工作记录");
    assert_string_equal(s_missing("L5-3"),
                        "技工院校或职业院校毕业学年实习或见习期：无此类院校在校记录");
    assert_string_equal(s_missing("L5-4"),
                        "大学专科及以上院校毕业学年实习或见习期：无此类院校在校记录");

    /* (1) training: 30 hours and a certificate dated by the day. */
    s_init(&p);
    s_training(&p, 5, 30, true, D(2026, 12, 12));
    assert_true(s_check(5, &p, ON));
    assert_string_equal(s_res.met_id, "L5-1");
    assert_string_equal(s_res.met_text,
                        "本职业五级/初级工预备培训达规定标准学时数，并取得结业证书。");
    s_training(&p, 5, 29, true, D(2026, 1, 10));
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-1"), "：现有29标准学时");
    s_training(&p, 5, 40, false, 0);
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-1"), "：未取得结业证书");
    s_training(&p, 5, 20, false, 0);
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-1"), "：现有20标准学时，未取得结业证书");
    s_training(&p, 5, 30, true, D(2026, 12, 13));
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-1"), "：结业证书日期2026-12-13在评定日2026-12-12之后");
    /* Training for another level does not count. */
    s_init(&p);
    s_training(&p, 4, 80, true, D(2026, 1, 10));
    assert_false(s_check(5, &p, ON));

    /* (2) six months of this occupation. */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 6, 12));
    assert_true(s_check(5, &p, ON));
    assert_string_equal(s_res.met_id, "L5-2");
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 6, 13));
    assert_false(s_check(5, &p, ON));
    assert_string_equal(s_missing("L5-2"), "连续从事本职业工作满6个月：现有最长连续5个月"
                                           "（2026-06-13起，2026-12-13满6个月）");

    /* (3) technical or vocational school, graduation-year internship. */
    s_init(&p);
    s_school(&p, JK_INST_VOCATIONAL_SCHOOL, JK_SCHOOL_INTERNSHIP, 0);
    assert_true(s_check(5, &p, ON));
    assert_string_equal(s_res.met_id, "L5-3");
    assert_false(s_alt_met("L5-4"));
    s_init(&p);
    s_school(&p, JK_INST_TECHNICAL_SCHOOL, JK_SCHOOL_INTERNSHIP, 0);
    assert_true(s_check(5, &p, ON));
    s_init(&p);
    s_school(&p, JK_INST_TECHNICAL_SCHOOL, JK_SCHOOL_ENROLLED, 0);
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-3"), "：在读，未到毕业学年实习或见习期");
    s_init(&p);
    s_school(&p, JK_INST_TECHNICAL_SCHOOL, JK_SCHOOL_GRADUATED, D(2025, 6, 30));
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-3"), "：已于2025-06-30毕业");

    /* (4) college (大专及以上) internship; a technician class is not one. */
    s_init(&p);
    s_school(&p, JK_INST_COLLEGE, JK_SCHOOL_INTERNSHIP, 0);
    assert_true(s_check(5, &p, ON));
    assert_string_equal(s_res.met_id, "L5-4");
    assert_false(s_alt_met("L5-3"));
    p.a.schools[0].programme = JK_EDU_BACHELOR;
    assert_true(s_check(5, &p, ON));
    s_init(&p);
    s_school(&p, JK_INST_TECHNICIAN_CLASS, JK_SCHOOL_INTERNSHIP, 0);
    assert_false(s_check(5, &p, ON));
}

/* ---- 四级 ---- */

static void test_level4(void **state)
{
    (void)state;
    s_app_t p;

    /* (1) training: 80 hours with a certificate. */
    s_init(&p);
    s_training(&p, 4, 80, true, D(2026, 9, 1));
    assert_true(s_check(4, &p, ON));
    assert_string_equal(s_res.met_id, "L4-1");
    s_training(&p, 4, 79, true, D(2026, 9, 1));
    assert_false(s_check(4, &p, ON));
    assert_contains(s_missing("L4-1"), "本职业四级/中级工预备培训满80标准学时并取得结业证书："
                                       "现有79标准学时");

    /* (2a) two years of this occupation. */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2024, 12, 12));
    assert_true(s_check(4, &p, ON));
    assert_string_equal(s_res.met_id, "L4-2");
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2025, 12, 1));
    assert_false(s_check(4, &p, ON));
    /* The brief's example: 11 months since 2025-12-01, no certificate. The
     * `any` explains its closest branch only. */
    assert_string_equal(s_missing("L4-2"), "连续从事本职业工作满24个月：现有最长连续12个月"
                                           "（2025-12-01起，2027-12-01满24个月）");
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 1, 1));
    assert_false(s_check(4, &p, ON));
    assert_string_equal(s_missing("L4-2"), "连续从事本职业工作满24个月：现有最长连续11个月"
                                           "（2026-01-01起，2028-01-01满24个月）");

    /* (2b) 五级 certificate, then a year of work. */
    s_init(&p);
    s_cert(&p, 5, D(2025, 12, 12));
    s_work_on(&p, JK_OCC_THIS, D(2025, 6, 1));
    assert_true(s_check(4, &p, ON));
    assert_string_equal(s_res.met_id, "L4-2");
    /* work before the certificate does not count for this branch */
    s_init(&p);
    s_cert(&p, 5, D(2026, 3, 1));
    s_work_on(&p, JK_OCC_THIS, D(2025, 6, 1));
    assert_false(s_check(4, &p, ON));
    assert_string_equal(s_missing("L4-2"),
                        "取得五级/初级工证书（2026-03-01）后连续从事本职业工作满12个月："
                        "现有最长连续9个月（2026-03-01起，2027-03-01满12个月）");
    /* work that ended before the certificate */
    s_init(&p);
    s_cert(&p, 5, D(2025, 1, 1));
    s_work(&p, JK_OCC_THIS, D(2024, 1, 1), D(2024, 6, 30));
    assert_false(s_check(4, &p, ON));
    assert_string_equal(s_missing("L4-2"), "取得五级/初级工证书（2025-01-01）后连续从事本职业"
                                           "工作满12个月：此后无本职业工作记录");
    /* a closer plain-work branch wins the explanation */
    s_init(&p);
    s_cert(&p, 5, D(2026, 11, 1));
    s_work_on(&p, JK_OCC_THIS, D(2025, 1, 1));
    assert_false(s_check(4, &p, ON));
    assert_contains(s_missing("L4-2"), "连续从事本职业工作满24个月：现有最长连续23个月");
    assert_not_contains(s_missing("L4-2"), "五级/初级工证书");

    /* (3) graduated from a technical or vocational school, then a year. */
    s_init(&p);
    s_school(&p, JK_INST_TECHNICAL_SCHOOL, JK_SCHOOL_GRADUATED, D(2025, 6, 30));
    s_work_on(&p, JK_OCC_THIS, D(2025, 7, 1));
    assert_true(s_check(4, &p, ON));
    assert_string_equal(s_res.met_id, "L4-3");
    s_init(&p);
    s_school(&p, JK_INST_VOCATIONAL_SCHOOL, JK_SCHOOL_GRADUATED, D(2026, 6, 30));
    s_work_on(&p, JK_OCC_THIS, D(2025, 1, 1)); /* 23 months, most before graduating */
    assert_false(s_check(4, &p, ON));
    assert_string_equal(s_missing("L4-3"),
                        "毕业（2026-06-30）后连续从事本职业工作满12个月：现有最长连续5个月"
                        "（2026-06-30起，2027-06-30满12个月）");
    /* a college graduation is not a technical school's */
    s_init(&p);
    s_school(&p, JK_INST_COLLEGE, JK_SCHOOL_GRADUATED, D(2020, 6, 30));
    s_work_on(&p, JK_OCC_THIS, D(2026, 6, 1));
    p.a.education = JK_EDU_HIGH_SCHOOL;
    assert_false(s_check(4, &p, ON));
    /* graduation is named once, the work since graduation not repeated */
    assert_string_equal(s_missing("L4-3"), "技工院校或职业院校毕业：无此类院校毕业记录");

    /* (4) 大学专科 or above (同等学力 counts), half a year of work. */
    s_init(&p);
    p.a.education = JK_EDU_ASSOCIATE;
    p.a.equivalent = true;
    s_work_on(&p, JK_OCC_THIS, D(2026, 6, 12));
    assert_true(s_check(4, &p, ON));
    assert_string_equal(s_res.met_id, "L4-4");
    p.a.education = JK_EDU_HIGH_SCHOOL;
    p.a.equivalent = false;
    assert_false(s_check(4, &p, ON));
    /* `all` explains every failed child */
    s_init(&p);
    p.a.education = JK_EDU_HIGH_SCHOOL;
    s_work_on(&p, JK_OCC_THIS, D(2026, 7, 1));
    assert_false(s_check(4, &p, ON));
    assert_string_equal(s_missing("L4-4"),
                        "具有大学专科及以上学历（含同等学力）：现为高中；"
                        "连续从事本职业工作满6个月：现有最长连续5个月"
                        "（2026-07-01起，2027-01-01满6个月）");
}

/* ---- 三级 ---- */

static void test_level3(void **state)
{
    (void)state;
    s_app_t p;

    /* (1) 四级 certificate, a year of work since, 三级 training. */
    s_init(&p);
    s_cert(&p, 4, D(2025, 10, 1));
    s_work_on(&p, JK_OCC_THIS, D(2020, 1, 1));
    s_training(&p, 3, 80, true, D(2026, 11, 1));
    assert_true(s_check(3, &p, ON));
    assert_string_equal(s_res.met_id, "L3-1");
    assert_false(s_alt_met("L3-2"));
    s_training(&p, 3, 80, false, 0);
    assert_false(s_check(3, &p, ON));
    assert_contains(s_missing("L3-1"), "：未取得结业证书");
    assert_contains(s_missing("L3-2"), "取得四级/中级工证书（2025-10-01）后连续从事本职业工作"
                                       "满24个月：现有最长连续14个月");

    /* (2) 四级 certificate, two years of work since. */
    s_init(&p);
    s_cert(&p, 4, D(2024, 12, 12));
    s_work_on(&p, JK_OCC_THIS, D(2018, 5, 1));
    assert_true(s_check(3, &p, ON));
    assert_string_equal(s_res.met_id, "L3-2");
    s_init(&p);
    s_cert(&p, 4, D(2024, 12, 13));
    s_work_on(&p, JK_OCC_THIS, D(2018, 5, 1));
    assert_false(s_check(3, &p, ON));
    assert_contains(s_missing("L3-2"), "现有最长连续23个月（2024-12-13起，2026-12-13满24个月）");
    /* no certificate: said once per alternative, in the work node */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2018, 5, 1));
    assert_false(s_check(3, &p, ON));
    assert_string_equal(s_missing("L3-2"),
                        "取得四级/中级工证书后连续从事本职业工作满24个月：缺少四级/中级工证书");
    /* a 五级 certificate is not a 四级 one */
    s_cert(&p, 5, D(2019, 1, 1));
    assert_false(s_check(3, &p, ON));

    /* (3) technician class graduates, a year of related work since. */
    s_init(&p);
    s_school(&p, JK_INST_TECHNICIAN_CLASS, JK_SCHOOL_GRADUATED, D(2025, 7, 1));
    s_work_on(&p, JK_OCC_RELATED, D(2026, 1, 10));
    assert_false(s_check(3, &p, ON));
    assert_string_equal(s_missing("L3-3"),
                        "毕业（2025-07-01）后连续从事相关职业工作满12个月："
                        "现有最长连续11个月（2026-01-10起，2027-01-10满12个月）");
    /* work before graduating counts from the graduation day */
    s_init(&p);
    s_school(&p, JK_INST_TECHNICIAN_CLASS, JK_SCHOOL_GRADUATED, D(2026, 1, 1));
    s_work_on(&p, JK_OCC_RELATED, D(2024, 1, 1));
    assert_false(s_check(3, &p, ON));
    assert_contains(s_missing("L3-3"), "现有最长连续11个月（2026-01-01起，2027-01-01满12个月）");
    assert_true(s_check(3, &p, D(2027, 1, 1)));
    s_init(&p);
    s_school(&p, JK_INST_TECHNICIAN_CLASS, JK_SCHOOL_GRADUATED, D(2025, 7, 1));
    s_work_on(&p, JK_OCC_RELATED, D(2025, 12, 12));
    assert_true(s_check(3, &p, ON));
    assert_string_equal(s_res.met_id, "L3-3");
    /* this occupation is related to itself */
    p.work[0].scope = JK_OCC_THIS;
    assert_true(s_check(3, &p, ON));
    assert_string_equal(s_res.met_id, "L3-3");
    /* a technical school (not its technician class) does not do */
    p.a.schools[0].kind = JK_INST_TECHNICAL_SCHOOL;
    assert_false(s_check(3, &p, ON));
    assert_string_equal(s_missing("L3-3"), "技工院校技师班毕业：无此类院校毕业记录");

    /* (4) 大学本科 (同等学力 counts), a year of related work. */
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    s_work_on(&p, JK_OCC_RELATED, D(2025, 12, 12));
    assert_true(s_check(3, &p, ON));
    assert_string_equal(s_res.met_id, "L3-4");
    p.a.equivalent = true;
    assert_true(s_check(3, &p, ON));
    p.a.education = JK_EDU_MASTER;
    assert_true(s_check(3, &p, ON));
    p.a.education = JK_EDU_ASSOCIATE;
    p.a.equivalent = false;
    assert_false(s_check(3, &p, ON));
    assert_string_equal(s_missing("L3-4"), "具有大学本科及以上学历（含同等学力）：现为大学专科");
    p.a.education = JK_EDU_NONE;
    assert_false(s_check(3, &p, ON));
    assert_string_equal(s_missing("L3-4"), "具有大学本科及以上学历（含同等学力）：未登记学历");
}

/* ---- the day a period completes ---- */

static void test_completion_day(void **state)
{
    (void)state;
    s_app_t p;

    /* 6 months: L5-2 */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 3, 15));
    assert_false(s_check(5, &p, D(2026, 9, 14)));
    assert_true(s_check(5, &p, D(2026, 9, 15)));

    /* 12 months: L3-4 (related) */
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    s_work_on(&p, JK_OCC_RELATED, D(2025, 3, 15));
    assert_false(s_check(3, &p, D(2026, 3, 14)));
    assert_contains(s_missing("L3-4"), "现有最长连续11个月（2025-03-15起，2026-03-15满12个月）");
    assert_true(s_check(3, &p, D(2026, 3, 15)));

    /* 24 months: L4-2 */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2024, 3, 15));
    assert_false(s_check(4, &p, D(2026, 3, 14)));
    assert_true(s_check(4, &p, D(2026, 3, 15)));

    /* A start on the 31st: the month-end clamp, leap and common years. */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2023, 8, 31)); /* + 6 = 2024-02-29 (leap) */
    assert_false(s_check(5, &p, D(2024, 2, 28)));
    assert_true(s_check(5, &p, D(2024, 2, 29)));
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2022, 8, 31)); /* + 6 = 2023-02-28 */
    assert_false(s_check(5, &p, D(2023, 2, 27)));
    assert_true(s_check(5, &p, D(2023, 2, 28)));
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 5, 31)); /* + 6 = 2026-11-30 */
    assert_false(s_check(5, &p, D(2026, 11, 29)));
    assert_true(s_check(5, &p, D(2026, 11, 30)));

    /* From 29 February: + 12 = 2025-02-28, + 24 = 2026-02-28. */
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    s_work_on(&p, JK_OCC_THIS, D(2024, 2, 29));
    assert_false(s_check(3, &p, D(2025, 2, 27)));
    assert_true(s_check(3, &p, D(2025, 2, 28)));
    s_check(4, &p, D(2026, 2, 27)); /* met by L4-4 (bachelor), not by L4-2 */
    assert_false(s_alt_met("L4-2"));
    s_check(4, &p, D(2026, 2, 28));
    assert_true(s_alt_met("L4-2"));

    /* A certificate dated the 31st: since-certificate uses the same clamp. */
    s_init(&p);
    s_cert(&p, 5, D(2025, 1, 31));
    s_work_on(&p, JK_OCC_THIS, D(2024, 11, 1));
    assert_false(s_check(4, &p, D(2026, 1, 30)));
    assert_true(s_check(4, &p, D(2026, 1, 31)));

    /* An ended period: its last day is inclusive, so Jan 1 - Jun 30 is six
     * months and Jan 1 - Jun 29 is not. */
    s_init(&p);
    s_work(&p, JK_OCC_THIS, D(2025, 1, 1), D(2025, 6, 30));
    assert_true(s_check(5, &p, ON));
    s_init(&p);
    s_work(&p, JK_OCC_THIS, D(2025, 1, 1), D(2025, 6, 29));
    assert_false(s_check(5, &p, ON));
    assert_string_equal(s_missing("L5-2"),
                        "连续从事本职业工作满6个月：现有最长连续5个月（2025-01-01至2025-06-29）");
    /* less than a month */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 12, 1));
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-2"), "现有最长连续不足1个月（2026-12-01起");
}

/* ---- continuity ---- */

static void test_joined_periods(void **state)
{
    (void)state;
    s_app_t p;

    /* Touching periods (next starts the day after) are one period. */
    s_init(&p);
    s_work(&p, JK_OCC_THIS, D(2026, 1, 1), D(2026, 3, 31));
    s_work_on(&p, JK_OCC_THIS, D(2026, 4, 1));
    assert_true(s_check(5, &p, D(2026, 7, 1)));

    /* Overlapping ones too, given in any order. */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 3, 1));
    s_work(&p, JK_OCC_THIS, D(2025, 10, 1), D(2026, 4, 30));
    s_work(&p, JK_OCC_THIS, D(2025, 1, 1), D(2025, 12, 31));
    assert_true(s_check(4, &p, D(2027, 1, 1)));

    /* A one-day gap breaks them: the longest part is what counts. */
    s_init(&p);
    s_work(&p, JK_OCC_THIS, D(2026, 1, 1), D(2026, 3, 31));
    s_work_on(&p, JK_OCC_THIS, D(2026, 4, 2));
    assert_false(s_check(5, &p, D(2026, 7, 1)));
    assert_false(s_check(5, &p, D(2026, 10, 1)));
    assert_true(s_check(5, &p, D(2026, 10, 2)));
    s_init(&p);
    s_work(&p, JK_OCC_THIS, D(2026, 1, 1), D(2026, 4, 30));
    s_work_on(&p, JK_OCC_THIS, D(2026, 7, 1));
    assert_false(s_check(5, &p, ON));
    assert_contains(s_missing("L5-2"), "现有最长连续5个月（2026-07-01起");

    /* A period inside another changes nothing. */
    s_init(&p);
    s_work(&p, JK_OCC_THIS, D(2025, 1, 1), D(2025, 12, 31));
    s_work(&p, JK_OCC_THIS, D(2025, 3, 1), D(2025, 4, 30));
    assert_true(s_check(5, &p, ON));
    assert_false(s_check(4, &p, ON));
    assert_contains(s_missing("L4-2"), "现有最长连续12个月（2025-01-01至2025-12-31）");

    /* For a "related" rule, related and this-occupation periods join; for a
     * "this" rule the related part does not count. */
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    s_work(&p, JK_OCC_RELATED, D(2025, 6, 1), D(2026, 2, 28));
    s_work_on(&p, JK_OCC_THIS, D(2026, 3, 1));
    assert_true(s_check(3, &p, D(2026, 6, 1)));
    assert_string_equal(s_res.met_id, "L3-4");
    assert_false(s_check(5, &p, D(2026, 6, 1)));
    assert_contains(s_missing("L5-2"), "现有最长连续3个月（2026-03-01起");
}

/* ---- since certificate, since graduation, dates after the day ---- */

static void test_since_and_future(void **state)
{
    (void)state;
    s_app_t p;

    /* A certificate dated after the day does not count, said in words. */
    s_init(&p);
    s_cert(&p, 5, D(2027, 1, 5));
    s_work_on(&p, JK_OCC_THIS, D(2025, 6, 1));
    assert_false(s_check(4, &p, ON));
    assert_contains(s_missing("L4-2"), "连续从事本职业工作满24个月：现有最长连续18个月");
    s_init(&p);
    s_cert(&p, 5, D(2027, 1, 5));
    assert_false(s_check(4, &p, ON));
    /* the plain-work branch is the closer one (one failed leaf, not two) */
    assert_string_equal(s_missing("L4-2"),
                        "连续从事本职业工作满24个月：无本职业工作记录");
    s_init(&p);
    s_cert(&p, 4, D(2027, 1, 5));
    s_work_on(&p, JK_OCC_THIS, D(2015, 1, 1));
    assert_false(s_check(3, &p, ON));
    assert_string_equal(s_missing("L3-2"),
                        "取得四级/中级工证书后连续从事本职业工作满24个月："
                        "四级/中级工证书日期2027-01-05在评定日2026-12-12之后");
    /* the same record is fine once the certificate date has passed */
    assert_true(s_check(3, &p, D(2029, 1, 5)));

    /* Since certificate: work that started before it counts from its date. */
    s_init(&p);
    s_cert(&p, 4, D(2024, 6, 15));
    s_work_on(&p, JK_OCC_THIS, D(2010, 1, 1));
    assert_false(s_check(3, &p, D(2026, 6, 14)));
    assert_true(s_check(3, &p, D(2026, 6, 15)));
    /* ...and a gap after the certificate restarts the count */
    s_init(&p);
    s_cert(&p, 4, D(2023, 1, 1));
    s_work(&p, JK_OCC_THIS, D(2010, 1, 1), D(2024, 6, 30));
    s_work_on(&p, JK_OCC_THIS, D(2024, 8, 1));
    assert_false(s_check(3, &p, D(2026, 6, 1)));
    assert_contains(s_missing("L3-2"), "现有最长连续22个月（2024-08-01起，2026-08-01满24个月）");
    s_init(&p);
    s_cert(&p, 4, D(2023, 1, 1));
    s_work(&p, JK_OCC_THIS, D(2010, 1, 1), D(2024, 6, 30));
    assert_false(s_check(3, &p, ON));
    assert_contains(s_missing("L3-2"), "现有最长连续18个月（2023-01-01至2024-06-30）");

    /* A graduation dated after the day. */
    s_init(&p);
    s_school(&p, JK_INST_TECHNICAL_SCHOOL, JK_SCHOOL_GRADUATED, D(2027, 6, 30));
    s_work_on(&p, JK_OCC_THIS, D(2024, 1, 1));
    assert_true(s_check(4, &p, ON)); /* by L4-2 */
    assert_false(s_alt_met("L4-3"));
    assert_string_equal(s_missing("L4-3"),
                        "技工院校或职业院校毕业：技工院校毕业日期2027-06-30在评定日2026-12-12之后");

    /* Since graduation uses the graduation of the kind asked for: an early
     * college graduation does not start L4-3's year. */
    s_init(&p);
    s_school(&p, JK_INST_COLLEGE, JK_SCHOOL_GRADUATED, D(2020, 6, 30));
    s_school(&p, JK_INST_VOCATIONAL_SCHOOL, JK_SCHOOL_GRADUATED, D(2026, 6, 30));
    s_work_on(&p, JK_OCC_THIS, D(2026, 1, 1));
    assert_false(s_check(4, &p, ON));
    assert_contains(s_missing("L4-3"), "毕业（2026-06-30）后连续从事本职业工作满12个月");
    /* two graduations of the right kind: the better one counts */
    s_init(&p);
    s_school(&p, JK_INST_TECHNICAL_SCHOOL, JK_SCHOOL_GRADUATED, D(2022, 6, 30));
    s_school(&p, JK_INST_VOCATIONAL_SCHOOL, JK_SCHOOL_GRADUATED, D(2026, 6, 30));
    s_work_on(&p, JK_OCC_THIS, D(2025, 9, 1));
    assert_true(s_check(4, &p, ON));
    assert_string_equal(s_res.met_id, "L4-3");

    /* Work after the day does not count; work running past it counts up to it. */
    s_init(&p);
    s_work_on(&p, JK_OCC_THIS, D(2026, 12, 13));
    assert_false(s_check(5, &p, ON));
    assert_string_equal(s_missing("L5-2"),
                        "连续从事本职业工作满6个月：评定日2026-12-12前无本职业工作记录");
    s_init(&p);
    s_work(&p, JK_OCC_THIS, D(2026, 6, 12), D(2027, 12, 31));
    assert_true(s_check(5, &p, ON));
    assert_false(s_check(5, &p, D(2026, 12, 11)));
    assert_contains(s_missing("L5-2"), "（2026-06-12起，2026-12-12满6个月）");
}

/* ---- related vs this ---- */

static void test_related_vs_this(void **state)
{
    (void)state;
    s_app_t p;

    /* Related work never counts where the rule says this occupation. */
    s_init(&p);
    s_work_on(&p, JK_OCC_RELATED, D(2015, 1, 1));
    p.a.education = JK_EDU_BACHELOR;
    assert_false(s_check(5, &p, ON));
    assert_string_equal(s_missing("L5-2"), "连续从事本职业工作满6个月：无本职业工作记录");
    assert_false(s_check(4, &p, ON));
    assert_true(s_check(3, &p, ON));
    assert_string_equal(s_res.met_id, "L3-4");

    /* Related rules count this occupation. */
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    s_work_on(&p, JK_OCC_THIS, D(2025, 1, 1));
    assert_true(s_check(3, &p, ON));
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    assert_false(s_check(3, &p, ON));
    assert_contains(s_missing("L3-4"), "连续从事相关职业工作满12个月：无相关职业或本职业工作记录");
}

/* ---- 同等学力 where it does not count (a modified standard) ---- */

static void test_equivalent_not_ok(void **state)
{
    (void)state;
    json_error_t je;
    json_t *root = json_load_file(REAL_FILE, 0, &je);
    assert_non_null(root);
    /* eligibility[2] is level 3; its alternatives[3] is L3-4, whose rule is
     * all[ education, work ]. */
    json_t *l3 = json_array_get(json_object_get(root, "eligibility"), 2);
    json_t *alt = json_array_get(json_object_get(l3, "alternatives"), 3);
    assert_string_equal(json_string_value(json_object_get(alt, "id")), "L3-4");
    json_t *all = json_object_get(json_object_get(alt, "rule"), "all");
    json_t *edu = json_object_get(json_array_get(all, 0), "education");
    assert_true(json_is_true(json_object_get(edu, "equivalent_ok")));
    json_object_set_new(edu, "equivalent_ok", json_false());
    char *text = json_dumps(root, 0);
    json_decref(root);
    assert_non_null(text);
    jk_error_t e;
    jk_standard_t *s = jk_standard_parse(text, strlen(text), "copy", &e);
    free(text);
    assert_non_null(s);

    s_app_t p;
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    p.a.equivalent = true;
    s_work_on(&p, JK_OCC_RELATED, D(2020, 1, 1));
    jk_elig_result_t r;
    assert_int_equal(jk_eligibility_check(s, 3, &p.a, ON, &r), JK_ERR_INELIGIBLE);
    assert_string_equal(r.alternatives[3].missing,
                        "具有大学本科及以上学历：现有大学本科为同等学力，不计");
    p.a.equivalent = false;
    assert_int_equal(jk_eligibility_check(s, 3, &p.a, ON, &r), JK_OK);
    assert_string_equal(r.met_id, "L3-4");
    jk_standard_destroy(&s);
}

/* ---- every level, bad input, the summary ---- */

static void test_levels(void **state)
{
    (void)state;
    s_app_t p;
    int levels[JK_LEVEL_COUNT];
    size_t n = 99;

    s_init(&p);
    assert_int_equal(jk_eligibility_levels(s_std, &p.a, ON, levels, &n), JK_OK);
    assert_int_equal(n, 0);

    /* 30 months of work: 五级 and 四级, not 三级. */
    s_work_on(&p, JK_OCC_THIS, D(2024, 6, 1));
    assert_int_equal(jk_eligibility_levels(s_std, &p.a, ON, levels, &n), JK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(levels[0], 5);
    assert_int_equal(levels[1], 4);

    /* A bachelor with a year of related work: 三级 only. */
    s_init(&p);
    p.a.education = JK_EDU_BACHELOR;
    s_work_on(&p, JK_OCC_RELATED, D(2025, 1, 1));
    assert_int_equal(jk_eligibility_levels(s_std, &p.a, ON, levels, &n), JK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(levels[0], 3);

    /* All three. */
    s_work_on(&p, JK_OCC_THIS, D(2024, 1, 1));
    assert_int_equal(jk_eligibility_levels(s_std, &p.a, ON, levels, &n), JK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(levels[2], 3);
}

static void test_bad_input(void **state)
{
    (void)state;
    s_app_t p;
    jk_elig_result_t r;
    jk_error_t e;
    s_init(&p);

    assert_int_equal(jk_eligibility_check(NULL, 5, &p.a, ON, &r), JK_ERR_INVAL);
    assert_int_equal(jk_eligibility_check(s_std, 5, NULL, ON, &r), JK_ERR_INVAL);
    assert_int_equal(jk_eligibility_check(s_std, 5, &p.a, ON, NULL), JK_ERR_INVAL);
    assert_int_equal(jk_eligibility_check(s_std, 2, &p.a, ON, &r), JK_ERR_INVAL);
    assert_int_equal(jk_eligibility_check(s_std, 6, &p.a, ON, &r), JK_ERR_INVAL);
    assert_int_equal(r.n_alternatives, 0);
    assert_int_equal(jk_eligibility_check(s_std, 5, &p.a, D(1900, 1, 1) - 1, &r), JK_ERR_INVAL);

    s_work(&p, JK_OCC_THIS, D(2025, 1, 2), D(2025, 1, 1));
    assert_int_equal(jk_applicant_validate(&p.a, &e), JK_ERR_INVAL);
    assert_string_equal(e.msg, "work[0]: ends 2025-01-01 before it starts 2025-01-02");
    assert_int_equal(jk_eligibility_check(s_std, 5, &p.a, ON, &r), JK_ERR_INVAL);
    assert_int_equal(r.n_alternatives, 0);

    s_init(&p);
    for (int i = 0; i <= JK_APPLICANT_MAX_WORK; i++)
        s_work_on(&p, JK_OCC_THIS, D(2020, 1, 1) + i);
    assert_int_equal(jk_applicant_validate(&p.a, &e), JK_ERR_RANGE);
    p.a.n_work = JK_APPLICANT_MAX_WORK; /* the bound itself is fine */
    assert_int_equal(jk_applicant_validate(&p.a, &e), JK_OK);
    assert_true(s_check(5, &p, ON));

    s_init(&p);
    p.a.work = NULL;
    p.a.n_work = 1;
    assert_int_equal(jk_applicant_validate(&p.a, &e), JK_ERR_INVAL);
    s_init(&p);
    s_school(&p, JK_INST_COLLEGE | JK_INST_TECHNICAL_SCHOOL, JK_SCHOOL_INTERNSHIP, 0);
    assert_int_equal(jk_applicant_validate(&p.a, &e), JK_ERR_INVAL);
    s_init(&p);
    s_training(&p, 5, -1, false, 0);
    assert_int_equal(jk_applicant_validate(&p.a, &e), JK_ERR_RANGE);
    s_init(&p);
    p.a.education = (jk_education_t)42;
    assert_int_equal(jk_applicant_validate(&p.a, &e), JK_ERR_INVAL);
    assert_int_equal(jk_applicant_validate(NULL, &e), JK_ERR_INVAL);

    int levels[JK_LEVEL_COUNT];
    size_t n = 7;
    assert_int_equal(jk_eligibility_levels(s_std, &p.a, ON, levels, &n), JK_ERR_INVAL);
    assert_int_equal(n, 0);
}

static void test_format(void **state)
{
    (void)state;
    s_app_t p;
    char buf[4096];

    s_init(&p);
    s_school(&p, JK_INST_VOCATIONAL_SCHOOL, JK_SCHOOL_INTERNSHIP, 0);
    assert_true(s_check(5, &p, ON));
    size_t n = jk_elig_result_format(&s_res, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "符合L5-3：技工院校（职业院校）毕业学年实习或见习期的人员。");

    s_init(&p);
    s_cert(&p, 5, D(2026, 3, 1));
    assert_false(s_check(4, &p, ON));
    jk_elig_result_format(&s_res, buf, sizeof buf);
    assert_string_equal(buf,
                        "L4-1：本职业四级/中级工预备培训满80标准学时并取得结业证书：无培训记录\n"
                        "L4-2：取得五级/初级工证书（2026-03-01）后连续从事本职业工作满12个月："
                        "无本职业工作记录\n"
                        "L4-3：技工院校或职业院校毕业：无此类院校毕业记录\n"
                        "L4-4：具有大学专科及以上学历（含同等学力）：未登记学历；"
                        "连续从事本职业工作满6个月：无本职业工作记录");

    /* Any buffer size gives valid UTF-8, cut with "…" when it must be. */
    for (size_t size = 1; size < 64; size++) {
        char small[64];
        memset(small, 'z', sizeof small);
        size_t m = jk_elig_result_format(&s_res, small, size);
        assert_true(m < size);
        assert_int_equal(strlen(small), m);
        assert_true(jk_utf8_valid(small, m));
        if (size > 4)
            assert_non_null(strstr(small, "…"));
    }
    assert_int_equal(jk_elig_result_format(&s_res, NULL, 10), 0);
    assert_int_equal(jk_elig_result_format(NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "");

    assert_string_equal(jk_education_label(JK_EDU_BACHELOR), "大学本科");
    assert_string_equal(jk_institution_label(JK_INST_TECHNICIAN_CLASS), "技工院校技师班");
    assert_string_equal(jk_institution_label(3), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level5),
        cmocka_unit_test(test_level4),
        cmocka_unit_test(test_level3),
        cmocka_unit_test(test_completion_day),
        cmocka_unit_test(test_joined_periods),
        cmocka_unit_test(test_since_and_future),
        cmocka_unit_test(test_related_vs_this),
        cmocka_unit_test(test_equivalent_not_ok),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
