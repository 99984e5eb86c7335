/* Unit tests for jk_sitting: a sitting built from the sample data parses
 * back; site documents hold papers, item text, rubrics, credential
 * verifiers and the site key, and never an answer key or a field's
 * expected value; the center document holds every paper; secrets derive
 * as documented; a build is reproducible from the same inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jk_bank.h"
#include "jk_candidates.h"
#include "jk_date.h"
#include "jk_eligibility.h"
#include "jk_paper.h"
#include "jk_plan.h"
#include "jk_sitting.h"
#include "jk_standard.h"

static jk_standard_t *g_std;
static jk_bank_t *g_bank;
static jk_candidates_t *g_cands;
static jk_plan_t *g_plan;
static jk_plan_result_t *g_res;
static uint8_t g_master[32];

static int s_setup(void **state)
{
    (void)state;
    jk_error_t e;
    g_std = jk_standard_load(JK_DATA_DIR "/standard.json", &e);
    g_bank = jk_bank_new(g_std);
    g_cands = jk_candidates_new();
    if (!g_std || jk_bank_load_path(g_bank, JK_DATA_DIR "/bank", NULL, &e) != JK_OK ||
        jk_candidates_load_file(g_cands, JK_DATA_DIR "/candidates.csv", NULL, &e) != JK_OK)
        return -1;
    g_plan = jk_plan_load(g_std, JK_DATA_DIR "/plan.json", NULL, &e);
    if (!g_plan)
        return -1;
    jk_date_t on;
    jk_date_parse_iso("2026-12-12", &on);
    size_t n = jk_candidates_count(g_cands);
    jk_plan_candidate_t *pc = calloc(n, sizeof *pc);
    for (size_t i = 0; i < n; i++) {
        const jk_candidate_t *c = jk_candidates_get(g_cands, i);
        jk_elig_result_t r;
        pc[i].admission = c->admission_no;
        pc[i].level = c->level;
        pc[i].eligible = jk_eligibility_check(g_std, c->level, &c->applicant, on, &r) == JK_OK;
    }
    g_res = jk_plan_assign(g_plan, pc, n, 7, NULL, &e);
    free(pc);
    for (int i = 0; i < 32; i++)
        g_master[i] = (uint8_t)(i * 7 + 1);
    return g_res && jk_plan_result_ok(g_res) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    jk_plan_result_destroy(&g_res);
    jk_plan_destroy(&g_plan);
    jk_candidates_destroy(&g_cands);
    jk_bank_destroy(&g_bank);
    jk_standard_destroy(&g_std);
    return 0;
}

static jk_sitting_build_t *s_build(uint64_t seed)
{
    jk_sitting_spec_t spec = { .std = g_std, .bank = g_bank, .candidates = g_cands,
                               .assignment = g_res, .seed = seed, .master = g_master,
                               .created_ms = 1796000000000LL, .pbkdf2_iterations = 1000 };
    jk_error_t e;
    jk_sitting_build_t *b = jk_sitting_build(&spec, NULL, NULL, &e);
    if (!b)
        fail_msg("%s", e.msg);
    return b;
}

static void test_build_and_parse(void **state)
{
    (void)state;
    jk_sitting_build_t *b = s_build(11);
    assert_int_equal(jk_sitting_build_site_count(b), 2);
    size_t len;
    const char *cdoc = jk_sitting_build_center_doc(b, &len);
    jk_error_t e;
    jk_sitting_t *center = jk_sitting_parse(cdoc, len, "center", &e);
    assert_non_null(center);
    assert_false(jk_sitting_is_site(center));
    assert_int_equal(jk_sitting_entry_count(center), jk_sitting_build_papers(b));
    uint8_t k[32];
    assert_false(jk_sitting_site_key_get(center, k));

    size_t site_entries = 0;
    for (size_t s = 0; s < jk_sitting_build_site_count(b); s++) {
        const char *doc = jk_sitting_build_site_doc(b, s, &len);
        /* No answer key and no expected field value crosses to a site: the
         * documents have no "key", "rule", "value(s)" or "tolerance" field. */
        assert_null(strstr(doc, "\"key\""));
        assert_null(strstr(doc, "\"rule\""));
        assert_null(strstr(doc, "\"values\""));
        assert_null(strstr(doc, "\"tolerance\""));
        assert_null(strstr(doc, "master"));
        jk_sitting_t *site = jk_sitting_parse(doc, len, "site", &e);
        if (!site)
            fail_msg("%s", e.msg);
        assert_true(jk_sitting_is_site(site));
        assert_string_equal(jk_sitting_site(site), jk_sitting_build_site_id(b, s));
        /* The site key is the documented derivation of the master. */
        uint8_t want[32], got[32];
        jk_sitting_site_key(g_master, jk_sitting_site(site), want);
        assert_true(jk_sitting_site_key_get(site, got));
        assert_memory_equal(want, got, 32);
        for (size_t i = 0; i < jk_sitting_entry_count(site); i++) {
            const jk_sitting_entry_t *se = jk_sitting_entry(site, i);
            const jk_sitting_entry_t *ce = jk_sitting_find_entry(center, se->session_id);
            assert_non_null(ce);
            assert_string_equal(ce->site, jk_sitting_site(site));
            assert_int_equal(se->n_items, ce->n_items);
            for (size_t q = 0; q < se->n_items; q++) {
                assert_string_equal(se->items[q].item, ce->items[q].item);
                const jk_sitting_item_t *it = jk_sitting_item(site, se->items[q].item);
                assert_non_null(it); /* its text travels with the paper */
                assert_int_equal(it->n_options, se->items[q].n_order);
            }
            for (size_t q = 0; q < se->n_tasks; q++)
                assert_non_null(jk_sitting_task(site, se->tasks[q]));
            /* The candidate's password (admission ticket) opens the login. */
            char pw[JK_SITTING_PASSWORD_LEN + 1];
            jk_sitting_password(g_master, se->admission, pw);
            const jk_sitting_credential_t *cr = jk_sitting_credential(site, se->admission);
            assert_non_null(cr);
            assert_true(jk_sitting_check_password(cr, pw, strlen(pw)));
            pw[0] = pw[0] == '0' ? '1' : '0';
            assert_false(jk_sitting_check_password(cr, pw, strlen(pw)));
            site_entries++;
        }
        jk_sitting_destroy(&site);
    }
    assert_int_equal(site_entries, jk_sitting_entry_count(center));
    jk_sitting_destroy(&center);
    jk_sitting_build_destroy(&b);
}

static void test_reproducible(void **state)
{
    (void)state;
    jk_sitting_build_t *a = s_build(5), *b = s_build(5), *c = s_build(6);
    size_t la, lb, lc;
    const char *da = jk_sitting_build_center_doc(a, &la), *db = jk_sitting_build_center_doc(b, &lb),
               *dc = jk_sitting_build_center_doc(c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    assert_true(la != lc || memcmp(da, dc, la) != 0);
    jk_sitting_build_destroy(&a);
    jk_sitting_build_destroy(&b);
    jk_sitting_build_destroy(&c);
}

static void test_bad_documents(void **state)
{
    (void)state;
    jk_error_t e;
    const char *bad[] = { "", "{", "[]", "{\"format\":\"jikao-sitting\",\"format_version\":2}",
                          "{\"format\":\"jikao-sitting\",\"format_version\":1,\"role\":\"other\"}",
                          "{\"format\":\"jikao-sitting\",\"format_version\":1,\"role\":\"site\",\"sitting\":{\"id\":\"x\"},"
                          "\"site\":\"S1\",\"site_key\":\"zz\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jk_sitting_t *s = jk_sitting_parse(bad[i], strlen(bad[i]), "bad.json", &e);
        assert_null(s);
        assert_non_null(strstr(e.msg, "bad.json"));
    }
}

/* A minimal site document whose one item and one task are given. */
static char *s_site_doc(const char *item, const char *task, const char *entry_tasks)
{
    static const char fmt[] =
        "{\"format\":\"jikao-sitting\",\"format_version\":1,\"role\":\"site\","
        "\"sitting\":{\"id\":\"X1\",\"name\":\"x\"},\"site\":\"S1\","
        "\"site_key\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"sessions\":[{\"id\":\"K\",\"level\":4,\"exam\":\"skills\",\"start_ms\":0,"
        "\"minutes\":60}],\"rooms\":[],\"duties\":[],"
        "\"entries\":[{\"session_id\":\"K.A1\",\"session\":\"K\",\"admission\":\"A1\","
        "\"name\":\"n\",\"site\":\"S1\",\"room\":\"R1\",\"seat\":1,\"tasks\":[%s],"
        "\"panel\":2}],"
        "\"credentials\":{},\"items\":{\"I1\":%s},\"tasks\":{\"T1\":%s}}";
    size_t n = sizeof fmt + strlen(item) + strlen(task) + strlen(entry_tasks);
    char *doc = malloc(n);
    assert_non_null(doc);
    snprintf(doc, n, fmt, entry_tasks, item, task);
    return doc;
}

/* n copies of elem, comma-separated, into a malloc'd string. */
static char *s_repeat(const char *elem, int n)
{
    size_t el = strlen(elem), cap = (el + 1) * (size_t)n + 1, at = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (int i = 0; i < n; i++) {
        if (i)
            out[at++] = ',';
        memcpy(out + at, elem, el);
        at += el;
    }
    out[at] = '\0';
    return out;
}

static char *s_task(int parts, int fields, int rubric)
{
    char *fs = s_repeat("{\"name\":\"f\",\"label\":\"l\",\"input\":\"text\"}", fields);
    char *rs = s_repeat("\"r\"", rubric);
    size_t pn = strlen(fs) + strlen(rs) + 200;
    char *part = malloc(pn);
    assert_non_null(part);
    snprintf(part, pn,
             "{\"id\":\"p\",\"prompt\":\"q\",\"points_centi\":100,\"form\":\"F\","
             "\"fields\":[%s],\"rubric\":[%s]}",
             fs, rs);
    char *ps = s_repeat(part, parts);
    size_t tn = strlen(ps) + 200;
    char *task = malloc(tn);
    assert_non_null(task);
    snprintf(task, tn,
             "{\"type\":\"operation\",\"title\":\"t\",\"scenario\":\"s\",\"minutes\":10,"
             "\"points_centi\":100,\"parts\":[%s]}",
             ps);
    free(fs);
    free(rs);
    free(part);
    free(ps);
    return task;
}

static char *s_item(int options)
{
    char *os = s_repeat("\"o\"", options);
    size_t n = strlen(os) + 100;
    char *item = malloc(n);
    assert_non_null(item);
    snprintf(item, n, "{\"type\":\"single\",\"stem\":\"s\",\"points_centi\":100,\"options\":[%s]}",
             os);
    free(os);
    return item;
}

/* Arrays over their maxima are refused (JK_ERR_TOO_BIG naming the document
 * and the field), never truncated; at their maxima they parse whole. */
static void test_oversized_arrays(void **state)
{
    (void)state;
    const struct {
        int options, parts, fields, rubric, tasks;
        const char *field; /* expected in the message; NULL: parses */
    } cases[] = {
        { JK_MAX_OPTIONS, JK_MAX_PARTS, JK_MAX_FIELDS, JK_MAX_RUBRIC, JK_PAPER_MAX_TASKS, NULL },
        { JK_MAX_OPTIONS + 1, 1, 1, 1, 1, "$.items.I1.options" },
        { 1, JK_MAX_PARTS + 1, 1, 1, 1, "$.tasks.T1.parts" },
        { 1, 1, JK_MAX_FIELDS + 1, 1, 1, "$.tasks.T1.parts[0].fields" },
        { 1, 1, 1, JK_MAX_RUBRIC + 1, 1, "$.tasks.T1.parts[0].rubric" },
        { 1, 1, 1, 1, JK_PAPER_MAX_TASKS + 1, "$.entries[0].tasks" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *item = s_item(cases[i].options);
        char *task = s_task(cases[i].parts, cases[i].fields, cases[i].rubric);
        char *et = s_repeat("\"T1\"", cases[i].tasks);
        char *doc = s_site_doc(item, task, et);
        jk_error_t e;
        memset(&e, 0, sizeof e);
        jk_sitting_t *s = jk_sitting_parse(doc, strlen(doc), "big.json", &e);
        if (!cases[i].field) {
            if (!s)
                fail_msg("case %zu: %s", i, e.msg);
            const jk_sitting_task_t *t = jk_sitting_task(s, "T1");
            assert_non_null(t);
            assert_int_equal(t->n_parts, JK_MAX_PARTS);
            assert_int_equal(t->parts[JK_MAX_PARTS - 1].n_fields, JK_MAX_FIELDS);
            assert_int_equal(t->parts[JK_MAX_PARTS - 1].n_rubric, JK_MAX_RUBRIC);
            assert_int_equal(jk_sitting_item(s, "I1")->n_options, JK_MAX_OPTIONS);
            assert_int_equal(jk_sitting_entry(s, 0)->n_tasks, JK_PAPER_MAX_TASKS);
            jk_sitting_destroy(&s);
        } else {
            assert_null(s);
            assert_int_equal(e.code, JK_ERR_TOO_BIG);
            if (!strstr(e.msg, "big.json") || !strstr(e.msg, cases[i].field))
                fail_msg("case %zu: '%s' does not name big.json and %s", i, e.msg, cases[i].field);
        }
        free(item);
        free(task);
        free(et);
        free(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_parse),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_oversized_arrays),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
