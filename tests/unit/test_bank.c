/* Unit tests for jk_bank: the sample bank loads clean; broken documents are
 * refused with messages naming file, path, id and field; documents are
 * all-or-nothing; ids are unique across files; the writer round-trips; the
 * synthetic generator marks everything synthetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jk_bank.h"
#include "jk_standard.h"

static jk_standard_t *g_std;

static int s_setup(void **state)
{
    (void)state;
    jk_error_t e;
    g_std = jk_standard_load(JK_DATA_DIR "/standard.json", &e);
    if (!g_std)
        fprintf(stderr, "%s\n", e.msg);
    return g_std ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    jk_standard_destroy(&g_std);
    return 0;
}

typedef struct {
    char msgs[64][JK_ERROR_MSG_MAX];
    size_t n;
} collect_t;

static void s_collect(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg)
{
    (void)sev;
    (void)code;
    collect_t *c = ud;
    if (c->n < 64)
        snprintf(c->msgs[c->n++], JK_ERROR_MSG_MAX, "%s", msg);
}

static bool s_has(const collect_t *c, const char *needle)
{
    for (size_t i = 0; i < c->n; i++)
        if (strstr(c->msgs[i], needle))
            return true;
    return false;
}

#define HDR "{\"format\":\"jikao-bank\",\"format_version\":1,\"bank\":{\"id\":\"t\",\"standard\":\"3-01-04-03/2022\"},"
#define ITEM_OK                                                                                    \
    "{\"id\":\"T1\",\"type\":\"single\",\"level\":5,\"ref\":\"2.2.9(3)\",\"stem\":\"问（　）\","     \
    "\"options\":[{\"id\":\"A\",\"text\":\"甲\"},{\"id\":\"B\",\"text\":\"乙\"},{\"id\":\"C\",\"text\":\"丙\"},{\"id\":\"D\",\"text\":\"丁\"}]," \
    "\"key\":\"B\",\"points\":1,\"difficulty\":0.3,\"basis\":\"《中华人民共和国劳动合同法》\"}"

static void test_sample_bank_loads(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c = { .n = 0 };
    jk_diag_t d;
    jk_diag_init(&d, s_collect, &c, 0);
    jk_error_t e;
    jk_err_t rc = jk_bank_load_path(b, JK_DATA_DIR "/bank", &d, &e);
    for (size_t i = 0; i < c.n; i++)
        fprintf(stderr, "%s\n", c.msgs[i]);
    assert_int_equal(rc, JK_OK);
    assert_int_equal(d.errors, 0);
    assert_true(jk_bank_item_count(b) >= 300);
    assert_true(jk_bank_task_count(b) >= 24);
    assert_false(jk_bank_is_synthetic(b));
    /* Every area at every level has items and tasks it can use. */
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        size_t counts[JK_AREA_COUNT][JK_ITEM__COUNT];
        jk_bank_counts(b, jk_level_at(li), counts);
        for (int a = 0; a < JK_AREA_COUNT; a++)
            for (int t = 0; t < JK_ITEM__COUNT; t++)
                assert_true(counts[a][t] > 0);
    }
    for (size_t i = 0; i < jk_bank_item_count(b); i++) {
        const jk_item_t *it = jk_bank_item(b, i);
        assert_int_equal(jk_bank_find_item(b, it->id), (long)i);
        assert_non_null(it->basis);
        assert_true(it->area >= 0);
    }
    jk_bank_destroy(&b);
    jk_bank_destroy(&b); /* NULL is fine */
}

static void test_minimal_ok(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    const char *doc = HDR "\"items\":[" ITEM_OK "]}";
    jk_error_t e;
    assert_int_equal(jk_bank_parse(b, doc, strlen(doc), "t.json", NULL, &e), JK_OK);
    assert_int_equal(jk_bank_item_count(b), 1);
    const jk_item_t *it = jk_bank_item(b, 0);
    assert_string_equal(it->id, "T1");
    assert_int_equal(it->type, JK_ITEM_SINGLE);
    assert_int_equal(it->key, 1u << 1);
    assert_int_equal(it->points_centi, 100);
    assert_int_equal(it->n_options, 4);
    assert_int_equal(it->area, jk_standard_area_find(g_std, "basics"));
    /* The same id again, in another document: refused. */
    collect_t c = { .n = 0 };
    jk_diag_t d;
    jk_diag_init(&d, s_collect, &c, 0);
    assert_int_equal(jk_bank_parse(b, doc, strlen(doc), "u.json", &d, &e), JK_ERR_DUP);
    assert_true(s_has(&c, "u.json: $.items[0] (T1): id: 'T1' is already in the bank"));
    assert_int_equal(jk_bank_item_count(b), 1);
    jk_bank_destroy(&b);
}

/* Replace `from` with `to` in ITEM_OK and check the message. */
static void s_bad_item(const char *from, const char *to, jk_err_t want_code, const char *want)
{
    char item[4096];
    const char *p = strstr(ITEM_OK, from);
    assert_non_null(p);
    snprintf(item, sizeof item, "%.*s%s%s", (int)(p - ITEM_OK), ITEM_OK, to, p + strlen(from));
    char doc[8192];
    snprintf(doc, sizeof doc, HDR "\"items\":[%s]}", item);
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c = { .n = 0 };
    jk_diag_t d;
    jk_diag_init(&d, s_collect, &c, 0);
    jk_error_t e;
    jk_err_t rc = jk_bank_parse(b, doc, strlen(doc), "bad.json", &d, &e);
    if (rc != want_code || !s_has(&c, want)) {
        for (size_t i = 0; i < c.n; i++)
            fprintf(stderr, "  got: %s\n", c.msgs[i]);
        fail_msg("replacing %s with %s: want code %d and '%s', got %d", from, to, want_code, want, rc);
    }
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

static void test_bad_items(void **state)
{
    (void)state;
    s_bad_item("\"ref\":\"2.2.9(3)\"", "\"ref\":\"9.9.9\"", JK_ERR_NOTFOUND,
               "bad.json: $.items[0] (T1): ref: '9.9.9' is not a requirement of the standard");
    s_bad_item("\"ref\":\"2.2.9(3)\"", "\"ref\":\"L3.K.1.1.1\"", JK_ERR_RANGE,
               "ref: 'L3.K.1.1.1' is a level-3 requirement; a level-5 entry");
    s_bad_item("\"key\":\"B\"", "\"key\":\"E\"", JK_ERR_INVAL, "key: expected one option id A..D");
    s_bad_item("\"key\":\"B\"", "\"key\":[\"A\"]", JK_ERR_INVAL, "key: expected one option id");
    s_bad_item("\"text\":\"丙\"", "\"text\":\"甲\"", JK_ERR_DUP, "options[2].text: same as option A");
    s_bad_item("\"points\":1", "\"points\":0", JK_ERR_RANGE, "points: 0 is not in (0, 100]");
    s_bad_item("\"points\":1", "\"points\":1.005", JK_ERR_RANGE, "not a multiple of 0.01");
    s_bad_item("\"points\":1,", "", JK_ERR_MISSING, "points: missing");
    s_bad_item("\"type\":\"single\"", "\"type\":\"essay\"", JK_ERR_INVAL, "type: expected");
    s_bad_item("\"level\":5", "\"level\":2", JK_ERR_RANGE, "level: expected 5, 4 or 3");
    s_bad_item("\"difficulty\":0.3", "\"difficulty\":1.5", JK_ERR_RANGE, "difficulty:");
    s_bad_item("\"difficulty\":0.3", "\"dificulty\":0.3", JK_ERR_INVAL, "unknown field 'dificulty'");
    s_bad_item("\"id\":\"T1\"", "\"id\":\"T 1\"", JK_ERR_INVAL, "id: 'T 1' has characters");
    s_bad_item("\"stem\":\"问（　）\"", "\"stem\":\"\"", JK_ERR_INVAL, "stem: empty");
    s_bad_item("\"stem\":\"问（　）\"", "\"stem\":\"\\u0001\"", JK_ERR_INVAL, "stem: not valid UTF-8 text");
    s_bad_item("{\"id\":\"C\",\"text\":\"丙\"}", "{\"id\":\"X\",\"text\":\"丙\"}", JK_ERR_INVAL,
               "options[2].id: 'X', expected 'C'");
    s_bad_item(",\"basis\":\"《中华人民共和国劳动合同法》\"", "", JK_ERR_MISSING, "basis: missing");
    /* judge and multi specifics */
    s_bad_item("\"type\":\"single\"", "\"type\":\"judge\"", JK_ERR_INVAL, "options: a judge item has no options");
    s_bad_item("\"type\":\"single\"", "\"type\":\"multi\"", JK_ERR_INVAL,
               "key: a multi item's key is an array");
    s_bad_item("\"type\":\"single\",", "\"type\":\"multi\",", JK_ERR_INVAL, "a multi item");
}

static void test_multi_keys(void **state)
{
    (void)state;
    const char *pre = HDR "\"items\":[{\"id\":\"M1\",\"type\":\"multi\",\"level\":5,\"ref\":\"2.1.1\",\"stem\":\"s\","
        "\"options\":[{\"id\":\"A\",\"text\":\"a\"},{\"id\":\"B\",\"text\":\"b\"},{\"id\":\"C\",\"text\":\"c\"},{\"id\":\"D\",\"text\":\"d\"}],"
        "\"key\":";
    const char *post = ",\"points\":2,\"basis\":\"x\"}]}";
    static const struct { const char *key; jk_err_t rc; const char *msg; } cases[] = {
        { "[\"A\",\"C\"]", JK_OK, NULL },
        { "[\"A\"]", JK_ERR_INVAL, "at least two correct options" },
        { "[\"A\",\"B\",\"C\",\"D\"]", JK_ERR_INVAL, "every option is correct" },
        { "[\"A\",\"A\"]", JK_ERR_DUP, "key[1]: 'A' given twice" },
        { "[\"A\",\"Z\"]", JK_ERR_INVAL, "key[1]: not an option id" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[2048];
        snprintf(doc, sizeof doc, "%s%s%s", pre, cases[i].key, post);
        jk_bank_t *b = jk_bank_new(g_std);
        jk_error_t e;
        jk_err_t rc = jk_bank_parse(b, doc, strlen(doc), "m.json", NULL, &e);
        assert_int_equal(rc, cases[i].rc);
        if (cases[i].msg && !strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].msg);
        if (rc == JK_OK)
            assert_int_equal(jk_bank_item(b, 0)->key, 0x5u);
        jk_bank_destroy(&b);
    }
}

static void test_documents(void **state)
{
    (void)state;
    static const struct { const char *doc; jk_err_t rc; const char *msg; } cases[] = {
        { "{\"format\":\"jikao-bank\",", JK_ERR_PARSE, "doc.json:1:" },
        { "[]", JK_ERR_INVAL, "doc.json: $: expected an object" },
        { "{\"format\":\"other\",\"format_version\":1,\"bank\":{\"id\":\"x\"}}", JK_ERR_VERSION, "format: expected \"jikao-bank\"" },
        { "{\"format\":\"jikao-bank\",\"format_version\":2,\"bank\":{\"id\":\"x\"}}", JK_ERR_VERSION, "format_version: expected 1" },
        { "{\"format\":\"jikao-bank\",\"format_version\":1}", JK_ERR_MISSING, "bank: expected an object" },
        { "{\"format\":\"jikao-bank\",\"format_version\":1,\"bank\":{\"id\":\"x\",\"standard\":\"1-02-03/2019\"}}", JK_ERR_VERSION, "standard: '1-02-03/2019'" },
        { "{\"format\":\"jikao-bank\",\"format_version\":1,\"bank\":{\"id\":\"x\"},\"items\":{}}", JK_ERR_INVAL, "$.items: expected an array" },
        { "{\"format\":\"jikao-bank\",\"format_version\":1,\"format\":\"x\",\"bank\":{\"id\":\"x\"}}", JK_ERR_PARSE, "duplicate object key" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jk_bank_t *b = jk_bank_new(g_std);
        jk_error_t e;
        jk_err_t rc = jk_bank_parse(b, cases[i].doc, strlen(cases[i].doc), "doc.json", NULL, &e);
        if (rc != cases[i].rc || !strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: got %d '%s', want %d '%s'", i, rc, e.msg, cases[i].rc, cases[i].msg);
        jk_bank_destroy(&b);
    }
}

/* One bad item among good ones: nothing of the document is added, and
 * every error is reported. */
static void test_all_or_nothing(void **state)
{
    (void)state;
    char doc[8192];
    snprintf(doc, sizeof doc,
             HDR "\"items\":[%s,{\"id\":\"T2\",\"type\":\"judge\",\"level\":5,\"ref\":\"2.1.1\",\"stem\":\"s\",\"key\":true,\"points\":1,\"basis\":\"b\"},"
                 "{\"id\":\"T3\",\"type\":\"judge\",\"level\":5,\"ref\":\"nope\",\"stem\":\"s\",\"key\":\"yes\",\"points\":1,\"basis\":\"b\"},"
                 "{\"id\":\"T2\",\"type\":\"judge\",\"level\":5,\"ref\":\"2.1.1\",\"stem\":\"s\",\"key\":false,\"points\":1,\"basis\":\"b\"}]}",
             ITEM_OK);
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c = { .n = 0 };
    jk_diag_t d;
    jk_diag_init(&d, s_collect, &c, 0);
    jk_error_t e;
    assert_int_not_equal(jk_bank_parse(b, doc, strlen(doc), "mix.json", &d, &e), JK_OK);
    assert_int_equal(jk_bank_item_count(b), 0);
    assert_int_equal(d.errors, 3);
    assert_true(s_has(&c, "$.items[2] (T3): ref: 'nope'"));
    assert_true(s_has(&c, "$.items[2] (T3): key: a judge item's key is true or false"));
    assert_true(s_has(&c, "$.items[3] (T2): id: 'T2' already used by $.items[1]"));
    jk_bank_destroy(&b);
}

static void test_tasks(void **state)
{
    (void)state;
    const char *ok = HDR "\"tasks\":[{\"id\":\"S1\",\"type\":\"operation\",\"level\":5,\"area\":\"insure\","
        "\"refs\":[\"L5.S.3.2.1\"],\"title\":\"t\",\"scenario\":\"s\",\"minutes\":20,\"parts\":[{\"id\":\"p1\",\"prompt\":\"填表\",\"form\":\"表\","
        "\"fields\":[{\"name\":\"n\",\"label\":\"姓名\",\"points\":1,\"rule\":{\"kind\":\"text\",\"value\":\"王芳\"}},"
        "{\"name\":\"d\",\"label\":\"日期\",\"points\":2,\"rule\":{\"kind\":\"date\",\"value\":\"2026-03-02\"}},"
        "{\"name\":\"m\",\"label\":\"月\",\"points\":2,\"rule\":{\"kind\":\"number\",\"value\":12,\"tolerance\":0}},"
        "{\"name\":\"r\",\"label\":\"原因\",\"points\":5,\"rule\":{\"kind\":\"one_of\",\"values\":[\"合同期满\",\"劳动合同期满终止\"]}}]}],"
        "\"basis\":\"b\"},"
        "{\"id\":\"S2\",\"type\":\"oral\",\"level\":5,\"area\":\"insure\",\"refs\":[\"L5.S.3.2.1\"],\"title\":\"t\",\"scenario\":\"s\",\"minutes\":10,"
        "\"parts\":[{\"id\":\"p1\",\"prompt\":\"q\",\"points\":6,\"rubric\":[{\"criterion\":\"a\",\"points\":2},{\"criterion\":\"b\",\"points\":4}]}],\"basis\":\"b\"}]}";
    jk_bank_t *b = jk_bank_new(g_std);
    jk_error_t e;
    if (jk_bank_parse(b, ok, strlen(ok), "t.json", NULL, &e) != JK_OK)
        fail_msg("%s", e.msg);
    assert_int_equal(jk_bank_task_count(b), 2);
    const jk_task_t *t = jk_bank_task(b, 0);
    assert_int_equal(t->points_centi, 1000);
    assert_int_equal(t->parts[0].n_fields, 4);
    assert_int_equal(t->parts[0].fields[2].kind, JK_FIELD_NUMBER);
    assert_int_equal(jk_bank_task(b, 1)->points_centi, 600);
    assert_int_equal(jk_bank_find_task(b, "S2"), 1);
    assert_int_equal(jk_bank_find_item(b, "S2"), -1);
    jk_bank_destroy(&b);

    static const struct { const char *from, *to, *msg; } bad[] = {
        { "\"points\":6", "\"points\":7", "parts[0].points: 7.00, but its rubric add up to 6.00" },
        { "\"area\":\"insure\",\"refs\":[\"L5.S.3.2.1\"],\"title\":\"t\",\"scenario\":\"s\",\"minutes\":20", "\"area\":\"ethics\",\"refs\":[\"L5.S.3.2.1\"],\"title\":\"t\",\"scenario\":\"s\",\"minutes\":20", "area: 'ethics' is not an area of the skills weight table" },
        { "\"refs\":[\"L5.S.3.2.1\"],\"title\":\"t\",\"scenario\":\"s\",\"minutes\":10", "\"refs\":[\"L5.S.1.1.1\"],\"title\":\"t\",\"scenario\":\"s\",\"minutes\":10", "refs[0]: 'L5.S.1.1.1' belongs to area 'info', not 'insure'" },
        { "\"value\":\"2026-03-02\"", "\"value\":\"2026-02-30\"", "rule.value: '2026-02-30' is not a date" },
        { "\"kind\":\"one_of\"", "\"kind\":\"regex\"", "rule.kind: expected exact" },
        { "\"minutes\":20", "\"minutes\":0", "minutes: expected an integer from 1 to 240" },
        { "\"name\":\"m\"", "\"name\":\"n\"", "fields[2].name: 'n' used twice" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[8192];
        const char *p = strstr(ok, bad[i].from);
        assert_non_null(p);
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(p - ok), ok, bad[i].to, p + strlen(bad[i].from));
        b = jk_bank_new(g_std);
        jk_err_t rc = jk_bank_parse(b, doc, strlen(doc), "t.json", NULL, &e);
        if (rc == JK_OK || !strstr(e.msg, bad[i].msg))
            fail_msg("case %zu: got '%s', want '%s'", i, rc == JK_OK ? "ok" : e.msg, bad[i].msg);
        assert_int_equal(jk_bank_task_count(b), 0);
        jk_bank_destroy(&b);
    }
}

static void test_write_roundtrip_and_generate(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    jk_error_t e;
    assert_int_equal(jk_bank_generate(b, 2000, 42, &e), JK_OK);
    size_t n = jk_bank_item_count(b);
    assert_true(n > 1900 && n <= 2000);
    assert_true(jk_bank_is_synthetic(b));
    for (size_t i = 0; i < n; i++) {
        const jk_item_t *it = jk_bank_item(b, i);
        assert_true(it->synthetic);
        assert_non_null(strstr(it->stem, "【合成】"));
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(jk_bank_write_json(b, "syn", "synthetic", f, &e), JK_OK);
    fclose(f);
    jk_bank_t *b2 = jk_bank_new(g_std);
    if (jk_bank_parse(b2, buf, len, "syn.json", NULL, &e) != JK_OK)
        fail_msg("%s", e.msg);
    assert_int_equal(jk_bank_item_count(b2), n);
    for (size_t i = 0; i < n; i++) {
        const jk_item_t *x = jk_bank_item(b, i), *y = jk_bank_item(b2, i);
        assert_string_equal(x->id, y->id);
        assert_int_equal(x->key, y->key);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->area, y->area);
        assert_string_equal(x->stem, y->stem);
        assert_true(x->difficulty - y->difficulty < 0.001f && y->difficulty - x->difficulty < 0.001f);
    }
    /* Same seed, same bank. */
    jk_bank_t *b3 = jk_bank_new(g_std);
    assert_int_equal(jk_bank_generate(b3, 2000, 42, &e), JK_OK);
    assert_int_equal(jk_bank_item_count(b3), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(jk_bank_item(b, i)->key, jk_bank_item(b3, i)->key);
    free(buf);
    jk_bank_destroy(&b);
    jk_bank_destroy(&b2);
    jk_bank_destroy(&b3);
}

static void test_missing_file(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    jk_error_t e;
    assert_int_equal(jk_bank_load_path(b, "/nonexistent/bank.json", NULL, &e), JK_ERR_IO);
    assert_non_null(strstr(e.msg, "/nonexistent/bank.json"));
    jk_bank_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_bank_loads),
        cmocka_unit_test(test_minimal_ok),
        cmocka_unit_test(test_bad_items),
        cmocka_unit_test(test_multi_keys),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_tasks),
        cmocka_unit_test(test_write_roundtrip_and_generate),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
