/* Unit tests for jk_qti: every fixture of tests/fixtures/qti imports to the
 * expected item (type, key, points, options, stem, level/ref from the
 * jikao: attributes or the defaults) or is refused with file, line and
 * element named; hostile documents (XXE, entity bombs, external DTDs, bad
 * encodings, oversize) are refused without reading anything; package hrefs
 * cannot leave the package; imported items round-trip through
 * jk_bank_write_json and jk_bank_parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "jk_bank.h"
#include "jk_qti.h"
#include "jk_standard.h"

#define QTI_DIR JK_TEST_FIXTURES "/qti"

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
    xmlCleanupParser(); /* once, at process exit */
    return 0;
}

/* ---- diagnostics collector ---- */

#define MAX_MSGS 64

typedef struct {
    char msgs[MAX_MSGS][JK_ERROR_MSG_MAX];
    jk_diag_severity_t sev[MAX_MSGS];
    size_t n;
    jk_diag_t d;
} collect_t;

static void s_collect(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg)
{
    (void)code;
    collect_t *c = ud;
    if (c->n < MAX_MSGS) {
        c->sev[c->n] = sev;
        snprintf(c->msgs[c->n++], JK_ERROR_MSG_MAX, "%s", msg);
    }
}

static void s_collect_init(collect_t *c)
{
    memset(c, 0, sizeof *c);
    jk_diag_init(&c->d, s_collect, c, 0);
}

/* True when some message of the given severity contains every needle
 * (NULL-terminated list). */
static bool s_has_all(const collect_t *c, jk_diag_severity_t sev, const char *n1, const char *n2,
                      const char *n3)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->sev[i] != sev)
            continue;
        if (strstr(c->msgs[i], n1) && (!n2 || strstr(c->msgs[i], n2)) &&
            (!n3 || strstr(c->msgs[i], n3)))
            return true;
    }
    return false;
}

static void s_dump(const collect_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(stderr, "  %s: %s\n", c->sev[i] == JK_DIAG_ERROR ? "error" : "warning", c->msgs[i]);
}

static bool s_any_contains(const collect_t *c, const char *needle)
{
    for (size_t i = 0; i < c->n; i++)
        if (strstr(c->msgs[i], needle))
            return true;
    return false;
}

static const jk_item_t *s_item(const jk_bank_t *b, const char *id)
{
    long i = jk_bank_find_item(b, id);
    return i < 0 ? NULL : jk_bank_item(b, (size_t)i);
}

#define ASSERT_STATS(st, r, i, s, w)                                                               \
    do {                                                                                           \
        assert_int_equal((st).read, (r));                                                          \
        assert_int_equal((st).imported, (i));                                                      \
        assert_int_equal((st).skipped, (s));                                                       \
        assert_int_equal((st).warnings, (w));                                                      \
    } while (0)

/* Imports one fixture file into a fresh bank. */
static jk_err_t s_import_fixture(jk_bank_t **b, const char *file, const jk_qti_defaults_t *d,
                                 collect_t *c, jk_qti_stats_t *st, jk_error_t *e)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", QTI_DIR, file);
    *b = jk_bank_new(g_std);
    assert_non_null(*b);
    s_collect_init(c);
    jk_err_t rc = jk_qti_import_file(*b, path, d, &c->d, st, e);
    s_dump(c);
    return rc;
}

static jk_err_t s_import_text(jk_bank_t *b, const char *xml, const jk_qti_defaults_t *d,
                              collect_t *c, jk_qti_stats_t *st, jk_error_t *e)
{
    s_collect_init(c);
    jk_err_t rc = jk_qti_import_buffer(b, xml, strlen(xml), "mem.xml", d, &c->d, st, e);
    s_dump(c);
    return rc;
}

/* ---- fixtures: items that import ---- */

static void test_single_21(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "single-21.xml", NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 1, 0, 0);
    assert_int_equal(c.n, 0);
    const jk_item_t *it = s_item(b, "LCL-010-1");
    assert_non_null(it);
    assert_int_equal(it->type, JK_ITEM_SINGLE);
    assert_int_equal(it->level, 5);
    assert_string_equal(it->ref, "2.2.9(3)");
    assert_string_equal(it->stem, "用人单位自用工之日起即与劳动者建立劳动关系。\n"
                                  "已建立劳动关系，未同时订立书面劳动合同的，应当自用工之日起（　）"
                                  "内订立书面劳动合同。");
    assert_int_equal(it->n_options, 4);
    assert_string_equal(it->options[0].text, "十五日");
    assert_string_equal(it->options[1].text, "一个月");
    assert_string_equal(it->options[3].text, "三个月");
    assert_int_equal(it->options[2].id, 'C');
    assert_int_equal(it->key, 1u << 1); /* B */
    assert_int_equal(it->points_centi, 100);
    assert_true(it->difficulty > 0.29f && it->difficulty < 0.31f);
    assert_string_equal(it->basis, "《中华人民共和国劳动合同法》第十条");
    assert_false(it->synthetic);
    jk_bank_destroy(&b);
}

static void test_multi_match_30_with_lossy_parts(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "multi-match-30.xml", NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 1, 0, 3);
    assert_int_equal(c.d.errors, 0);
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "multi-match-30.xml:22: item LCL-017-1: <qti-stylesheet>:",
                          "not imported", NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "multi-match-30.xml:30: item LCL-017-1: <qti-simple-choice>:",
                          "fixed=\"true\"", NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "multi-match-30.xml:34: item LCL-017-1: <qti-modal-feedback>:",
                          "feedback", NULL));
    const jk_item_t *it = s_item(b, "LCL-017-1");
    assert_non_null(it);
    assert_int_equal(it->type, JK_ITEM_MULTI);
    assert_int_equal(it->n_options, 5);
    assert_string_equal(it->options[2].text, "试用期");
    assert_string_equal(it->options[4].text, "补充保险和福利待遇");
    assert_int_equal(it->key, (1u << 0) | (1u << 1) | (1u << 3)); /* A, B, D */
    assert_int_equal(it->points_centi, 200);                     /* jikao:points */
    assert_string_equal(it->stem, "根据《中华人民共和国劳动合同法》，下列属于劳动合同必备条款的有（　）。");
    assert_true(it->difficulty > 0.49f && it->difficulty < 0.51f); /* default */
    jk_bank_destroy(&b);
}

static void test_multi_map_21(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "multi-map-21.xml", NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 1, 0, 0);
    const jk_item_t *it = s_item(b, "LCL-038-1");
    assert_non_null(it);
    assert_int_equal(it->type, JK_ITEM_MULTI);
    assert_int_equal(it->key, (1u << 0) | (1u << 1) | (1u << 3));
    assert_int_equal(it->points_centi, 150); /* 0.5 + 0.5 + 0.5 */
    assert_string_equal(it->options[3].text, "未按照劳动合同约定提供劳动保护或者劳动条件的");
    assert_string_equal(it->stem, "《中华人民共和国劳动合同法》规定了劳动者可以单方解除劳动合同的情形。\n"
                                  "用人单位有下列情形之一的，劳动者可以解除劳动合同（　）。");
    jk_bank_destroy(&b);
}

static void test_judge_30(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "judge-30.xml", NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 1, 0, 0);
    const jk_item_t *it = s_item(b, "LCL-019-2");
    assert_non_null(it);
    assert_int_equal(it->type, JK_ITEM_JUDGE);
    assert_int_equal(it->n_options, 0);
    assert_int_equal(it->key, 1u); /* 正确, though listed second */
    assert_int_equal(it->points_centi, 100);
    assert_string_equal(it->stem, "同一用人单位与同一劳动者只能约定一次试用期。");
    jk_bank_destroy(&b);
}

/* ---- fixtures: items that are refused ---- */

static void test_image_is_reported_and_skipped(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "image-21.xml", NULL, &c, &st, &e), JK_ERR_INVAL);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "image-21.xml:17: item LCL-IMG-1: <img>:",
                          "cannot be imported", "劳动合同文本"));
    assert_non_null(strstr(e.msg, "image-21.xml:17: item LCL-IMG-1: <img>:"));
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

static void test_text_entry_is_refused(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "text-entry-30.xml", NULL, &c, &st, &e), JK_ERR_INVAL);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR,
                          "text-entry-30.xml:16: item LCL-082-1: <qti-text-entry-interaction>: "
                          "only choice interactions can be imported",
                          NULL, NULL));
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

static void test_xxe_is_refused_unread(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "xxe.xml", NULL, &c, &st, &e), JK_ERR_INVAL);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_int_equal(c.n, 1);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "xxe.xml:3: <!ENTITY>: entity declarations are refused",
                          "nothing of this document was read", NULL));
    /* Not a byte of the entity's target found its way anywhere. */
    assert_false(s_any_contains(&c, "root:"));
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

static void test_billion_laughs_is_refused(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "billion-laughs.xml", NULL, &c, &st, &e), JK_ERR_INVAL);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "billion-laughs.xml:3: <!ENTITY>:", NULL, NULL));
    jk_bank_destroy(&b);
}

static void test_external_dtd_is_never_loaded(void **state)
{
    (void)state;
    /* No entity is declared in the document itself, so the pre-check lets
     * it through; libxml2 must still not load the external DTD that
     * declares &leak;, leaving the reference undefined. */
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE assessmentItem SYSTEM \"" QTI_DIR "/external.dtd\">\n"
        "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"DTD-1\">\n"
        "<itemBody><p>&leak;</p></itemBody></assessmentItem>\n";
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_text(b, xml, NULL, &c, &st, &e), JK_ERR_PARSE);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:4: not well-formed XML", "leak", NULL));
    assert_false(s_any_contains(&c, "LEAKED"));
    /* The same with a DOCTYPE naming a URL: no network, same outcome. */
    const char *net =
        "<!DOCTYPE a PUBLIC \"-//X//Y\" \"http://127.0.0.1:9/qti.dtd\"><a>&x;</a>";
    assert_int_equal(s_import_text(b, net, NULL, &c, &st, &e), JK_ERR_PARSE);
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

static void test_malformed_names_line(void **state)
{
    (void)state;
    jk_bank_t *b;
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_fixture(&b, "malformed.xml", NULL, &c, &st, &e), JK_ERR_PARSE);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "malformed.xml:11: not well-formed XML:", "mismatch", NULL));
    assert_non_null(strstr(e.msg, "malformed.xml:11:"));
    jk_bank_destroy(&b);
}

static void test_encodings_and_sizes(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_text(b, "<?xml version=\"1.0\" encoding=\"GBK\"?><a/>", NULL, &c, &st, &e),
                     JK_ERR_VERSION);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:1:", "encoding 'GBK'", NULL));
    static const char utf16[] = "\xFF\xFE<\0a\0/\0>\0";
    s_collect_init(&c);
    assert_int_equal(jk_qti_import_buffer(b, utf16, sizeof utf16 - 1, "u16.xml", NULL, &c.d, &st, &e),
                     JK_ERR_VERSION);
    size_t big = JK_QTI_FILE_MAX + 1;
    char *buf = malloc(big);
    assert_non_null(buf);
    memset(buf, ' ', big);
    s_collect_init(&c);
    assert_int_equal(jk_qti_import_buffer(b, buf, big, "big.xml", NULL, &c.d, &st, &e), JK_ERR_TOO_BIG);
    ASSERT_STATS(st, 1, 0, 1, 0);
    free(buf);
    jk_bank_destroy(&b);
}

/* ---- conventions, defaults, mapping rules (buffers) ---- */

#define Q3_HEAD                                                                                    \
    "<qti-assessment-item xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\" "                  \
    "xmlns:jikao=\"urn:jikao:qti-import:1\" "

static void test_defaults_fill_missing_metadata(void **state)
{
    (void)state;
    const char *xml = Q3_HEAD "identifier=\"题目 1\">\n"
        "<qti-response-declaration identifier=\"R\" cardinality=\"single\" base-type=\"identifier\">"
        "<qti-correct-response><qti-value>n</qti-value></qti-correct-response></qti-response-declaration>\n"
        "<qti-item-body><qti-choice-interaction response-identifier=\"R\" max-choices=\"1\">\n"
        "<qti-prompt>劳动合同期限三个月以上不满一年的，试用期不得超过两个月。</qti-prompt>\n"
        "<qti-simple-choice identifier=\"y\">对</qti-simple-choice>"
        "<qti-simple-choice identifier=\"n\">错</qti-simple-choice>"
        "</qti-choice-interaction></qti-item-body>\n"
        "<qti-response-processing template=\"https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml\"/>\n"
        "</qti-assessment-item>\n";
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;

    /* Without defaults: level, ref and basis are missing, all reported. */
    assert_int_equal(s_import_text(b, xml, NULL, &c, &st, &e), JK_ERR_MISSING);
    ASSERT_STATS(st, 1, 0, 1, 1); /* the warning: the id had to be sanitised */
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:1: item 题目 1: <qti-assessment-item>: no level", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "no ref", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "no basis", NULL, NULL));

    jk_qti_defaults_t d;
    jk_qti_defaults_init(&d);
    d.level = 5;
    d.ref = "2.2.9(3)";
    d.basis = "《中华人民共和国劳动合同法》第十九条";
    d.difficulty = 0.25f;
    d.points_centi[JK_ITEM_JUDGE] = 50;
    d.id_prefix = "QTI-";
    assert_int_equal(s_import_text(b, xml, &d, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 1, 0, 1);
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "identifier '题目 1' is stored as id 'QTI-_1'", NULL, NULL));
    const jk_item_t *it = s_item(b, "QTI-_1");
    assert_non_null(it);
    assert_int_equal(it->type, JK_ITEM_JUDGE);
    assert_int_equal(it->key, 0u); /* 错: 三个月以上不满一年的，试用期不得超过一个月 */
    assert_int_equal(it->level, 5);
    assert_string_equal(it->ref, "2.2.9(3)");
    assert_string_equal(it->basis, "《中华人民共和国劳动合同法》第十九条");
    assert_int_equal(it->points_centi, 50);
    assert_true(it->difficulty > 0.24f && it->difficulty < 0.26f);

    /* Importing it again collides with the id now in the bank. */
    assert_int_equal(s_import_text(b, xml, &d, &c, &st, &e), JK_ERR_DUP);
    ASSERT_STATS(st, 1, 0, 1, 1);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:1: item 题目 1", "already in the bank", NULL));
    jk_bank_destroy(&b);
}

static void test_jikao_attributes_are_strict(void **state)
{
    (void)state;
    const char *xml = Q3_HEAD "identifier=\"M1\" jikao:level=\"6\" jikao:dificulty=\"0.3\" "
        "jikao:ref=\"L3.K.5.1.1\" jikao:points=\"0.333\" jikao:basis=\"x\">\n"
        "<qti-response-declaration identifier=\"R\" cardinality=\"single\" base-type=\"identifier\">"
        "<qti-correct-response><qti-value>a</qti-value></qti-correct-response></qti-response-declaration>\n"
        "<qti-item-body><p>问</p><qti-choice-interaction response-identifier=\"R\">"
        "<qti-simple-choice identifier=\"a\">甲</qti-simple-choice>"
        "<qti-simple-choice identifier=\"b\">乙</qti-simple-choice>"
        "</qti-choice-interaction></qti-item-body>\n"
        "<qti-response-processing template=\"https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct\"/>\n"
        "</qti-assessment-item>\n";
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_not_equal(s_import_text(b, xml, NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "jikao:level: '6'", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "jikao:dificulty: unknown attribute", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "jikao:points: '0.333'", NULL, NULL));

    /* A level-5 item citing a level-3 requirement: the bank's own rule. */
    const char *lvl = Q3_HEAD "identifier=\"M2\" jikao:level=\"5\" jikao:ref=\"L3.K.5.1.1\" jikao:basis=\"x\">\n"
        "<qti-response-declaration identifier=\"R\" cardinality=\"single\" base-type=\"identifier\">"
        "<qti-correct-response><qti-value>a</qti-value></qti-correct-response></qti-response-declaration>\n"
        "<qti-item-body><p>问</p><qti-choice-interaction response-identifier=\"R\">"
        "<qti-simple-choice identifier=\"a\">甲</qti-simple-choice>"
        "<qti-simple-choice identifier=\"b\">乙</qti-simple-choice>"
        "</qti-choice-interaction></qti-item-body>\n"
        "<qti-response-processing template=\"https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct\"/>\n"
        "</qti-assessment-item>\n";
    assert_int_equal(s_import_text(b, lvl, NULL, &c, &st, &e), JK_ERR_RANGE);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:1: item M2", "level-3 requirement", NULL));
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

#define MAP_ITEM(card, maxc, entries)                                                              \
    Q3_HEAD "identifier=\"MAP\" jikao:level=\"5\" jikao:ref=\"2.2.9(3)\" jikao:basis=\"b\">\n"   \
    "<qti-response-declaration identifier=\"R\" cardinality=\"" card "\" base-type=\"identifier\">\n" \
    "<qti-mapping default-value=\"0\">" entries "</qti-mapping></qti-response-declaration>\n"      \
    "<qti-item-body><p>问（　）</p><qti-choice-interaction response-identifier=\"R\" max-choices=\"" maxc "\">\n" \
    "<qti-simple-choice identifier=\"a\">甲</qti-simple-choice>"                                   \
    "<qti-simple-choice identifier=\"b\">乙</qti-simple-choice>"                                   \
    "<qti-simple-choice identifier=\"c\">丙</qti-simple-choice>"                                   \
    "<qti-simple-choice identifier=\"d\">丁</qti-simple-choice>"                                   \
    "</qti-choice-interaction></qti-item-body>\n"                                                  \
    "<qti-response-processing template=\"https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response\"/>\n" \
    "</qti-assessment-item>\n"

static void test_map_response_not_representable(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    /* Unequal weights and a penalty: imported all-or-nothing, reported. */
    const char *lossy = MAP_ITEM("multiple", "0",
                                 "<qti-map-entry map-key=\"a\" mapped-value=\"2\"/>"
                                 "<qti-map-entry map-key=\"b\" mapped-value=\"1\"/>"
                                 "<qti-map-entry map-key=\"c\" mapped-value=\"-1\"/>");
    assert_int_equal(s_import_text(b, lossy, NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 1, 0, 2);
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "mem.xml:3: item MAP: <qti-mapping>: negative mapped values",
                          "key A,B and 3 points", NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "<qti-mapping>: unequal mapped values (1 to 2)", NULL, NULL));
    const jk_item_t *it = s_item(b, "MAP");
    assert_non_null(it);
    assert_int_equal(it->type, JK_ITEM_MULTI);
    assert_int_equal(it->key, 3u);
    assert_int_equal(it->points_centi, 300);

    /* Partial credit on two choices of a single-choice interaction: no
     * single key exists, so the item is skipped. */
    jk_bank_t *b2 = jk_bank_new(g_std);
    const char *amb = MAP_ITEM("single", "1",
                               "<qti-map-entry map-key=\"a\" mapped-value=\"1\"/>"
                               "<qti-map-entry map-key=\"b\" mapped-value=\"0.5\"/>");
    assert_int_equal(s_import_text(b2, amb, NULL, &c, &st, &e), JK_ERR_INVAL);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:3: item MAP: <qti-mapping>: 2 choices have a positive value",
                          "not representable", NULL));
    assert_int_equal(jk_bank_item_count(b2), 0);
    jk_bank_destroy(&b2);
    jk_bank_destroy(&b);
}

static void test_stem_flattening(void **state)
{
    (void)state;
    const char *xml =
        "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
        "xmlns:jikao=\"urn:jikao:qti-import:1\" identifier=\"FLAT-1\" "
        "jikao:level=\"5\" jikao:ref=\"2.2.9(1)\" jikao:basis=\"《中华人民共和国劳动法》第三十六条\">\n"
        "<responseDeclaration identifier=\"R\" cardinality=\"single\" baseType=\"identifier\">"
        "<correctResponse><value>b</value></correctResponse></responseDeclaration>\n"
        "<itemBody>\n"
        "  <div><p>国家实行劳动者每日工作时间不超过\n   <em>八</em>小时、\n"
        "  平均每周工作时间不超过<span>四十四</span>小时的工时制度。</p>\n"
        "  <p>Line one<br/>line <b>two</b> and 2<sup>3</sup></p>\n"
        "  <ol><li>第一</li><li>第二</li></ol></div>\n"
        "  <choiceInteraction responseIdentifier=\"R\" shuffle=\"false\" maxChoices=\"1\">\n"
        "    <prompt>以上所述的法律是（　）。</prompt>\n"
        "    <simpleChoice identifier=\"a\"><p>《中华人民共和国\n劳动合同法》</p></simpleChoice>\n"
        "    <simpleChoice identifier=\"b\">《中华人民共和国劳动法》<feedbackInline outcomeIdentifier=\"F\" identifier=\"b\" showHide=\"show\">对</feedbackInline></simpleChoice>\n"
        "  </choiceInteraction>\n"
        "  <p>（本题 1 分）</p>\n"
        "</itemBody>\n"
        "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct\"/>\n"
        "</assessmentItem>\n";
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(s_import_text(b, xml, NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 1, 0, 4);
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "mem.xml:7: item FLAT-1: <sup>: subscript and superscript", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "mem.xml:9: item FLAT-1: <choiceInteraction>: shuffle=\"false\"", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "mem.xml:13: item FLAT-1: <feedbackInline>: feedback", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "mem.xml:15: item FLAT-1: <p>: text after the interaction", NULL, NULL));
    const jk_item_t *it = s_item(b, "FLAT-1");
    assert_non_null(it);
    assert_string_equal(it->stem,
                        "国家实行劳动者每日工作时间不超过八小时、平均每周工作时间不超过四十四小时的工时制度。\n"
                        "Line one\nline two and 23\n"
                        "1. 第一\n2. 第二\n"
                        "以上所述的法律是（　）。\n"
                        "（本题1分）"); /* spaces next to Chinese are typesetting */
    assert_string_equal(it->options[0].text, "《中华人民共和国劳动合同法》");
    assert_string_equal(it->options[1].text, "《中华人民共和国劳动法》");
    jk_bank_destroy(&b);
}

static void test_other_refusals(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    jk_qti_stats_t st;
    jk_error_t e;
    /* A manifest given as an item. */
    assert_int_equal(s_import_text(b, "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"/>", NULL,
                                   &c, &st, &e), JK_ERR_VERSION);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:1: <manifest>: an IMS content package manifest", NULL, NULL));
    /* Two interactions, MathML, a template variable. */
    const char *two = Q3_HEAD "identifier=\"T2\" jikao:level=\"5\" jikao:ref=\"2.2.9(3)\" jikao:basis=\"b\">\n"
        "<qti-template-declaration identifier=\"X\" cardinality=\"single\" base-type=\"integer\"/>\n"
        "<qti-response-declaration identifier=\"R\" cardinality=\"single\" base-type=\"identifier\">"
        "<qti-correct-response><qti-value>a</qti-value></qti-correct-response></qti-response-declaration>\n"
        "<qti-item-body><p><math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi>x</mi></math></p>\n"
        "<qti-choice-interaction response-identifier=\"R\" max-choices=\"1\">"
        "<qti-simple-choice identifier=\"a\">甲</qti-simple-choice>"
        "<qti-simple-choice identifier=\"b\">乙</qti-simple-choice></qti-choice-interaction>\n"
        "<qti-extended-text-interaction response-identifier=\"S\"/>\n"
        "</qti-item-body></qti-assessment-item>\n";
    assert_int_not_equal(s_import_text(b, two, NULL, &c, &st, &e), JK_OK);
    ASSERT_STATS(st, 1, 0, 1, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:2: item T2: <qti-template-declaration>:", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:6: item T2: <qti-extended-text-interaction>: only choice", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "mem.xml:6: item T2: <qti-extended-text-interaction>: 2 interactions", NULL, NULL));
    /* A key naming no choice; a multi key of one choice. */
    const char *badkey = MAP_ITEM("multiple", "0", "<qti-map-entry map-key=\"a\" mapped-value=\"1\"/>");
    assert_int_equal(s_import_text(b, badkey, NULL, &c, &st, &e), JK_ERR_INVAL);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "<qti-mapping>: one correct choice; a multiple-response item needs at least two",
                          NULL, NULL));
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

/* ---- packages ---- */

static void test_package(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    s_collect_init(&c);
    jk_qti_defaults_t d;
    jk_qti_defaults_init(&d);
    d.level = 5;
    jk_qti_stats_t st;
    jk_error_t e;
    jk_err_t rc = jk_qti_import_package(b, QTI_DIR "/package", &d, &c.d, &st, &e);
    s_dump(&c);
    assert_int_equal(rc, JK_ERR_INVAL); /* the ../ href */
    ASSERT_STATS(st, 4, 3, 1, 2);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "package/imsmanifest.xml:32: <resource>: 'outside': href '../single-21.xml' refused",
                          "leaves the package directory", NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "imsmanifest.xml:16: <resource>: 'q1': its <metadata> is not read", NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "imsmanifest.xml:35: <resource>: type 'imsqti_test_xmlv3p0'", NULL, NULL));
    assert_int_equal(jk_bank_item_count(b), 3);
    assert_null(s_item(b, "LCL-010-1")); /* the file behind ../ was not read */

    const jk_item_t *q1 = s_item(b, "SIL-045-1");
    assert_non_null(q1);
    assert_int_equal(q1->type, JK_ITEM_SINGLE);
    assert_int_equal(q1->level, 5); /* from the defaults */
    assert_string_equal(q1->ref, "L5.K.3.2.1");
    assert_int_equal(q1->key, 1u << 1);
    const jk_item_t *q2 = s_item(b, "SIL-046-1");
    assert_non_null(q2);
    assert_int_equal(q2->type, JK_ITEM_JUDGE);
    assert_int_equal(q2->key, 1u);
    const jk_item_t *q3 = s_item(b, "LDZ-010-1");
    assert_non_null(q3);
    assert_int_equal(q3->type, JK_ITEM_MULTI);
    assert_int_equal(q3->level, 4); /* jikao:level beats the default */
    assert_int_equal(q3->key, 7u);
    assert_int_equal(q3->points_centi, 200);
    assert_string_equal(q3->options[2].text, "在乡镇、街道设立的具有劳动争议调解职能的组织");

    /* A manifest file given to jk_qti_import_file is imported as a package;
     * the items are now duplicates of the bank's. */
    s_collect_init(&c);
    rc = jk_qti_import_file(b, QTI_DIR "/package/imsmanifest.xml", &d, &c.d, &st, &e);
    ASSERT_STATS(st, 4, 0, 4, 2);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "items/q1-single-30.xml:7: item SIL-045-1", "already in the bank", NULL));
    jk_bank_destroy(&b);
}

static void test_package_hrefs_refused(void **state)
{
    (void)state;
    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    s_collect_init(&c);
    jk_qti_stats_t st;
    jk_error_t e;
    jk_err_t rc = jk_qti_import_package(b, QTI_DIR "/package-hrefs/imsmanifest.xml", NULL, &c.d, &st, &e);
    s_dump(&c);
    assert_int_equal(rc, JK_ERR_INVAL);
    ASSERT_STATS(st, 7, 0, 7, 0);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "imsmanifest.xml:6: <resource>: 'abs'", "absolute path", NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "'url'", "a URL", NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "'fileurl'", "a URL", NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "'climb'", "leaves the package directory", NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "'encoded'", "leaves the package directory", NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "'backslash'", "backslash", NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "'base'", "leaves the package directory", NULL));
    assert_int_equal(jk_bank_item_count(b), 0);
    jk_bank_destroy(&b);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_package_links_duplicates_missing(void **state)
{
    (void)state;
    char dir[400];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%.300s/jk-qti-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    char manifest[600], link[600], item[600];
    snprintf(manifest, sizeof manifest, "%s/imsmanifest.xml", dir);
    snprintf(link, sizeof link, "%s/link.xml", dir);
    snprintf(item, sizeof item, "%s/judge.xml", dir);
    s_write(manifest,
            "<manifest><resources>\n"
            "<resource identifier=\"link\" type=\"imsqti_item_xmlv2p1\" href=\"link.xml\"/>\n"
            "<resource identifier=\"j1\" type=\"imsqti_item_xmlv3p0\" href=\"judge.xml\"/>\n"
            "<resource identifier=\"j2\" type=\"imsqti_item_xmlv3p0\" href=\"./judge.xml\"/>\n"
            "<resource identifier=\"gone\" type=\"imsqti_item_xmlv3p0\" href=\"gone.xml\"/>\n"
            "</resources></manifest>\n");
    /* A symlink inside the package pointing at a file outside it. */
    char outside[4096];
    assert_non_null(realpath(QTI_DIR "/single-21.xml", outside));
    assert_int_equal(symlink(outside, link), 0);
    /* A real item, listed twice. */
    FILE *in = fopen(QTI_DIR "/judge-30.xml", "rb");
    assert_non_null(in);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    buf[n] = 0;
    s_write(item, buf);

    jk_bank_t *b = jk_bank_new(g_std);
    collect_t c;
    s_collect_init(&c);
    jk_qti_stats_t st;
    jk_error_t e;
    assert_int_equal(jk_qti_import_package(b, dir, NULL, &c.d, &st, &e), JK_ERR_INVAL);
    s_dump(&c);
    ASSERT_STATS(st, 3, 1, 2, 1);
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "imsmanifest.xml:2: <resource>: 'link': 'link.xml' leads outside",
                          "symbolic link", NULL));
    assert_true(s_has_all(&c, JK_DIAG_WARNING, "imsmanifest.xml:4: <resource>: 'j2': 'judge.xml' is listed again",
                          NULL, NULL));
    assert_true(s_has_all(&c, JK_DIAG_ERROR, "imsmanifest.xml:5: <resource>: 'gone': 'gone.xml': cannot open",
                          NULL, NULL));
    assert_int_equal(jk_bank_item_count(b), 1);
    assert_non_null(s_item(b, "LCL-019-2"));
    assert_null(s_item(b, "LCL-010-1"));
    jk_bank_destroy(&b);
    unlink(item);
    unlink(link);
    unlink(manifest);
    rmdir(dir);
}

/* ---- round trip ---- */

static void test_round_trip_through_json(void **state)
{
    (void)state;
    static const char *const files[] = { "single-21.xml", "multi-match-30.xml", "multi-map-21.xml",
                                         "judge-30.xml", NULL };
    jk_bank_t *b = jk_bank_new(g_std);
    jk_qti_defaults_t d;
    jk_qti_defaults_init(&d);
    d.level = 5;
    jk_error_t e;
    for (size_t i = 0; files[i]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", QTI_DIR, files[i]);
        assert_int_equal(jk_qti_import_file(b, path, &d, NULL, NULL, &e), JK_OK);
    }
    jk_qti_stats_t st;
    assert_int_equal(jk_qti_import_package(b, QTI_DIR "/package", &d, NULL, &st, &e), JK_ERR_INVAL);
    assert_int_equal(st.imported, 3);
    assert_int_equal(jk_bank_item_count(b), 7);

    char *json = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&json, &len);
    assert_non_null(out);
    assert_int_equal(jk_bank_write_json(b, "qti-import", "QTI 导入", out, &e), JK_OK);
    fclose(out);

    jk_bank_t *b2 = jk_bank_new(g_std);
    collect_t c;
    s_collect_init(&c);
    jk_err_t rc = jk_bank_parse(b2, json, len, "roundtrip.json", &c.d, &e);
    s_dump(&c);
    assert_int_equal(rc, JK_OK);
    assert_int_equal(jk_bank_item_count(b2), 7);
    for (size_t i = 0; i < jk_bank_item_count(b); i++) {
        const jk_item_t *x = jk_bank_item(b, i);
        const jk_item_t *y = s_item(b2, x->id);
        assert_non_null(y);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->level, y->level);
        assert_string_equal(x->ref, y->ref);
        assert_int_equal(x->area, y->area);
        assert_string_equal(x->stem, y->stem);
        assert_int_equal(x->n_options, y->n_options);
        for (int k = 0; k < x->n_options; k++)
            assert_string_equal(x->options[k].text, y->options[k].text);
        assert_int_equal(x->key, y->key);
        assert_int_equal(x->points_centi, y->points_centi);
        assert_true(x->difficulty - y->difficulty < 0.001f && y->difficulty - x->difficulty < 0.001f);
        assert_string_equal(x->basis, y->basis);
    }
    free(json);
    jk_bank_destroy(&b2);
    jk_bank_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_21),
        cmocka_unit_test(test_multi_match_30_with_lossy_parts),
        cmocka_unit_test(test_multi_map_21),
        cmocka_unit_test(test_judge_30),
        cmocka_unit_test(test_image_is_reported_and_skipped),
        cmocka_unit_test(test_text_entry_is_refused),
        cmocka_unit_test(test_xxe_is_refused_unread),
        cmocka_unit_test(test_billion_laughs_is_refused),
        cmocka_unit_test(test_external_dtd_is_never_loaded),
        cmocka_unit_test(test_malformed_names_line),
        cmocka_unit_test(test_encodings_and_sizes),
        cmocka_unit_test(test_defaults_fill_missing_metadata),
        cmocka_unit_test(test_jikao_attributes_are_strict),
        cmocka_unit_test(test_map_response_not_representable),
        cmocka_unit_test(test_stem_flattening),
        cmocka_unit_test(test_other_refusals),
        cmocka_unit_test(test_package),
        cmocka_unit_test(test_package_hrefs_refused),
        cmocka_unit_test(test_package_links_duplicates_missing),
        cmocka_unit_test(test_round_trip_through_json),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
