/* Unit tests for jk_score: item rules (all-or-nothing and partial credit),
 * field rules, examiner panels (mean, rounding, arbitration, bad panels),
 * theory and skills totals, pass rule; and determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jk_date.h"
#include "jk_score.h"
#include "jk_text.h"

static jk_item_t s_item(jk_item_type_t t, int n_options, uint32_t key, int32_t pts)
{
    jk_item_t it;
    memset(&it, 0, sizeof it);
    it.type = t;
    it.n_options = (uint8_t)n_options;
    it.key = key;
    it.points_centi = pts;
    return it;
}

static jk_response_t R(uint32_t m) { return (jk_response_t){ true, m }; }
static const jk_response_t NONE = { false, 0 };

static void test_items(void **state)
{
    (void)state;
    jk_score_rules_t r;
    jk_score_rules_default(&r);
    jk_item_t judge_t = s_item(JK_ITEM_JUDGE, 0, 1, 100);
    jk_item_t judge_f = s_item(JK_ITEM_JUDGE, 0, 0, 100);
    assert_int_equal(jk_score_item(&judge_t, R(1), &r), 100);
    assert_int_equal(jk_score_item(&judge_t, R(0), &r), 0);
    assert_int_equal(jk_score_item(&judge_f, R(0), &r), 100);
    assert_int_equal(jk_score_item(&judge_f, NONE, &r), 0); /* no answer is not "false" */
    assert_int_equal(jk_score_item(&judge_t, R(3), &r), 0);

    jk_item_t single = s_item(JK_ITEM_SINGLE, 4, 1u << 2, 100);
    assert_int_equal(jk_score_item(&single, R(1u << 2), &r), 100);
    assert_int_equal(jk_score_item(&single, R(1u << 1), &r), 0);
    assert_int_equal(jk_score_item(&single, R((1u << 2) | 1u), &r), 0);
    assert_int_equal(jk_score_item(&single, NONE, &r), 0);

    /* 多选 ACD: 错选、多选、少选均不得分. */
    jk_item_t multi = s_item(JK_ITEM_MULTI, 5, 0x0Du, 200);
    assert_int_equal(jk_score_item(&multi, R(0x0D), &r), 200);
    assert_int_equal(jk_score_item(&multi, R(0x05), &r), 0);  /* 少选 */
    assert_int_equal(jk_score_item(&multi, R(0x1D), &r), 0);  /* 多选 */
    assert_int_equal(jk_score_item(&multi, R(0x0E), &r), 0);  /* 错选 */
    assert_int_equal(jk_score_item(&multi, R(0x00), &r), 0);
    assert_int_equal(jk_score_item(&multi, R(0x20D), &r), 0); /* bits beyond the options */

    /* Partial credit: half for a correct subset with no wrong option. */
    r.multi = JK_MULTI_PARTIAL;
    assert_int_equal(jk_score_item(&multi, R(0x0D), &r), 200);
    assert_int_equal(jk_score_item(&multi, R(0x05), &r), 100);
    assert_int_equal(jk_score_item(&multi, R(0x01), &r), 100);
    assert_int_equal(jk_score_item(&multi, R(0x03), &r), 0); /* B is wrong */
    assert_int_equal(jk_score_item(&multi, R(0x00), &r), 0);
    r.partial_permille = 333;
    jk_item_t m3 = s_item(JK_ITEM_MULTI, 4, 0x07u, 150);
    assert_int_equal(jk_score_item(&m3, R(0x01), &r), 49); /* 150 * 0.333 = 49.95, down */
}

static jk_field_t s_field(jk_field_kind_t k, const char *value, int32_t pts)
{
    jk_field_t f;
    memset(&f, 0, sizeof f);
    f.kind = k;
    f.value = value;
    f.points_centi = pts;
    if (k == JK_FIELD_DATE)
        assert_true(jk_date_parse_iso(value, &f.date));
    return f;
}

static void test_fields(void **state)
{
    (void)state;
    jk_field_t exact = s_field(JK_FIELD_EXACT, "110105199005120026", 100);
    assert_int_equal(jk_score_field(&exact, "110105199005120026"), 100);
    assert_int_equal(jk_score_field(&exact, "110105199005120026 "), 0);
    assert_int_equal(jk_score_field(&exact, NULL), 0);

    jk_field_t text = s_field(JK_FIELD_TEXT, "王芳", 100);
    assert_int_equal(jk_score_field(&text, "  王芳　"), 100);
    assert_int_equal(jk_score_field(&text, "王 芳"), 0);
    jk_field_t latin = s_field(JK_FIELD_TEXT, "Excel 表格", 100);
    assert_int_equal(jk_score_field(&latin, "ｅｘｃｅｌ   表格"), 100);

    jk_field_t num = s_field(JK_FIELD_NUMBER, NULL, 200);
    num.number = 12;
    num.tolerance = 0;
    assert_int_equal(jk_score_field(&num, "12"), 200);
    assert_int_equal(jk_score_field(&num, "１２"), 200);
    assert_int_equal(jk_score_field(&num, "12.0"), 200);
    assert_int_equal(jk_score_field(&num, "12个月"), 0);
    assert_int_equal(jk_score_field(&num, "1e1"), 0);
    assert_int_equal(jk_score_field(&num, "0x0c"), 0);
    assert_int_equal(jk_score_field(&num, "nan"), 0);
    num.number = 1234.5;
    num.tolerance = 0.5;
    assert_int_equal(jk_score_field(&num, "1235"), 200);
    assert_int_equal(jk_score_field(&num, "1234"), 200);
    assert_int_equal(jk_score_field(&num, "1235.01"), 0);
    assert_int_equal(jk_score_field(&num, "1,234.5"), 0);

    jk_field_t date = s_field(JK_FIELD_DATE, "2026-03-02", 100);
    assert_int_equal(jk_score_field(&date, "2026年3月2日"), 100);
    assert_int_equal(jk_score_field(&date, "2026/03/02"), 100);
    assert_int_equal(jk_score_field(&date, "2026-03-03"), 0);
    assert_int_equal(jk_score_field(&date, "三月二日"), 0);

    jk_field_t one = s_field(JK_FIELD_ONE_OF, NULL, 100);
    one.values[0] = "劳动合同期满终止";
    one.values[1] = "合同期满";
    one.n_values = 2;
    assert_int_equal(jk_score_field(&one, "合同期满"), 100);
    assert_int_equal(jk_score_field(&one, " 劳动合同期满终止 "), 100);
    assert_int_equal(jk_score_field(&one, "辞职"), 0);
}

static void test_panels(void **state)
{
    (void)state;
    jk_score_rules_t r;
    jk_score_rules_default(&r);
    jk_panel_outcome_t oc;
    int32_t s;
    jk_error_t e;

    int32_t a[] = { 700, 750, 800 };
    assert_int_equal(jk_score_panel(a, 3, 1000, &r, &oc, &s, &e), JK_OK);
    assert_int_equal(oc, JK_PANEL_SCORED);
    assert_int_equal(s, 750);
    int32_t b[] = { 600, 650, 650 }; /* 6.333.. -> 6.33 */
    assert_int_equal(jk_score_panel(b, 3, 1000, &r, &oc, &s, &e), JK_OK);
    assert_int_equal(s, 633);
    int32_t c[] = { 600, 600, 650 }; /* 6.1666.. -> 6.17 */
    assert_int_equal(jk_score_panel(c, 3, 1000, &r, &oc, &s, &e), JK_OK);
    assert_int_equal(s, 617);
    int32_t five[] = { 500, 550, 600, 600, 650 }; /* 5.8 */
    assert_int_equal(jk_score_panel(five, 5, 1000, &r, &oc, &s, &e), JK_OK);
    assert_int_equal(s, 580);
    assert_int_equal(jk_mean_round_half_up(5, 2), 3); /* 2.5 -> 3: halves up */
    assert_int_equal(jk_mean_round_half_up(7, 2), 4);

    /* Threshold 20% of 10 points = 2 points: a spread of exactly 2 is
     * scored, more goes to arbitration. */
    int32_t edge[] = { 600, 700, 800 };
    assert_int_equal(jk_score_panel(edge, 3, 1000, &r, &oc, &s, &e), JK_OK);
    assert_int_equal(oc, JK_PANEL_SCORED);
    int32_t wide[] = { 600, 700, 850 };
    assert_int_equal(jk_score_panel(wide, 3, 1000, &r, &oc, &s, &e), JK_OK);
    assert_int_equal(oc, JK_PANEL_ARBITRATION);

    int32_t two[] = { 500, 500 };
    assert_int_equal(jk_score_panel(two, 2, 1000, &r, &oc, &s, &e), JK_ERR_INVAL);
    assert_non_null(strstr(e.msg, "at least 3 and an odd number"));
    int32_t four[] = { 500, 500, 500, 500 };
    assert_int_equal(jk_score_panel(four, 4, 1000, &r, &oc, &s, &e), JK_ERR_INVAL);
    int32_t over[] = { 500, 500, 1050 };
    assert_int_equal(jk_score_panel(over, 3, 1000, &r, &oc, &s, &e), JK_ERR_RANGE);
    assert_non_null(strstr(e.msg, "examiner 3: 10.50 is outside 0..10.00"));
    int32_t step[] = { 500, 525, 500 };
    assert_int_equal(jk_score_panel(step, 3, 1000, &r, &oc, &s, &e), JK_ERR_RANGE);
    assert_non_null(strstr(e.msg, "not a multiple of 0.50"));
    int32_t neg[] = { -50, 0, 0 };
    assert_int_equal(jk_score_panel(neg, 3, 1000, &r, &oc, &s, &e), JK_ERR_RANGE);
}

/* Skills scoring over a two-task bank: an operation task scored by field
 * rules and an oral task scored by a panel; pending until examiners score,
 * arbitration, then the pass rule. */
static void test_skills_and_result(void **state)
{
    (void)state;
    jk_error_t e;
    jk_standard_t *std = jk_standard_load(JK_DATA_DIR "/standard.json", &e);
    assert_non_null(std);
    jk_bank_t *b = jk_bank_new(std);
    const char *doc =
        "{\"format\":\"jikao-bank\",\"format_version\":1,\"bank\":{\"id\":\"t\"},\"tasks\":["
        "{\"id\":\"OP\",\"type\":\"operation\",\"level\":5,\"area\":\"insure\",\"refs\":[\"L5.S.3.2.1\"],"
        "\"title\":\"t\",\"scenario\":\"s\",\"minutes\":20,\"parts\":[{\"id\":\"p1\",\"prompt\":\"q\",\"form\":\"f\","
        "\"fields\":[{\"name\":\"n\",\"label\":\"n\",\"points\":4,\"rule\":{\"kind\":\"text\",\"value\":\"王芳\"}},"
        "{\"name\":\"d\",\"label\":\"d\",\"points\":6,\"rule\":{\"kind\":\"date\",\"value\":\"2026-03-02\"}}]}],\"basis\":\"b\"},"
        "{\"id\":\"OR\",\"type\":\"oral\",\"level\":5,\"area\":\"relations\",\"refs\":[\"L5.S.5.1.1\"],"
        "\"title\":\"t\",\"scenario\":\"s\",\"minutes\":10,\"parts\":[{\"id\":\"p1\",\"prompt\":\"q\",\"points\":10,"
        "\"rubric\":[{\"criterion\":\"a\",\"points\":10}]}],\"basis\":\"b\"}]}";
    if (jk_bank_parse(b, doc, strlen(doc), "t.json", NULL, &e) != JK_OK)
        fail_msg("%s", e.msg);
    jk_skills_paper_t p = { .level = 5, .n = 2, .tasks = { 0, 1 } };
    jk_score_rules_t r;
    jk_score_rules_default(&r);

    const char *vals[2] = { "王芳", "2026年3月2日" };
    jk_part_response_t resp[2];
    memset(resp, 0, sizeof resp);
    resp[0].fields = vals;
    jk_exam_score_t sk;
    /* Oral part not scored yet: pending, counts 0. */
    assert_int_equal(jk_score_skills(b, &p, resp, 2, &r, &sk, &e), JK_OK);
    assert_true(sk.pending);
    assert_int_equal(sk.total_centi, 1000);
    assert_int_equal(sk.area_centi[jk_standard_area_find(std, "insure")], 1000);

    int32_t panel[3] = { 700, 750, 800 };
    resp[1].panel_centi = panel;
    resp[1].n_panel = 3;
    assert_int_equal(jk_score_skills(b, &p, resp, 2, &r, &sk, &e), JK_OK);
    assert_false(sk.pending);
    assert_int_equal(sk.total_centi, 1750);
    assert_int_equal(sk.max_area_centi[jk_standard_area_find(std, "relations")], 1000);

    /* A wide spread goes to arbitration; the arbitrated score replaces it. */
    int32_t wide[3] = { 200, 700, 900 };
    resp[1].panel_centi = wide;
    assert_int_equal(jk_score_skills(b, &p, resp, 2, &r, &sk, &e), JK_OK);
    assert_true(sk.pending);
    resp[1].arbitrated = true;
    resp[1].arbitrated_centi = 650;
    assert_int_equal(jk_score_skills(b, &p, resp, 2, &r, &sk, &e), JK_OK);
    assert_false(sk.pending);
    assert_int_equal(sk.total_centi, 1650);

    /* A malformed panel is named by task and part. */
    resp[1].arbitrated = false;
    resp[1].n_panel = 2;
    assert_int_equal(jk_score_skills(b, &p, resp, 2, &r, &sk, &e), JK_ERR_INVAL);
    assert_non_null(strstr(e.msg, "task OR part p1: panel of 2 examiners"));

    /* Same inputs, same result. */
    resp[1].n_panel = 3;
    resp[1].panel_centi = panel;
    jk_exam_score_t again;
    assert_int_equal(jk_score_skills(b, &p, resp, 2, &r, &again, &e), JK_OK);
    assert_int_equal(jk_score_skills(b, &p, resp, 2, &r, &sk, &e), JK_OK);
    assert_memory_equal(&again, &sk, sizeof sk);

    jk_exam_score_t th = { .total_centi = 6000 };
    sk.total_centi = 6000;
    sk.pending = false;
    jk_result_t res;
    jk_score_result(&th, &sk, &r, &res);
    assert_true(res.pass);
    th.total_centi = 5999;
    jk_score_result(&th, &sk, &r, &res);
    assert_false(res.pass);
    assert_false(res.theory_pass);
    assert_true(res.skills_pass);
    th.total_centi = 10000;
    sk.pending = true;
    jk_score_result(&th, &sk, &r, &res);
    assert_false(res.skills_pass);
    assert_false(res.pass);
    jk_bank_destroy(&b);
    jk_standard_destroy(&std);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_panels),
        cmocka_unit_test(test_skills_and_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
