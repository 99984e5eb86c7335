/*
 * Unit tests for jk_candidates: the sample data/candidates.csv loads with
 * no error and splits as designed when judged on the sitting date; the
 * 身份证号 check; and broken inputs, each reported with its line and column
 * while the good rows are kept.
 *
 * Two fixtures under tests/fixtures/candidates/ hold what is awkward to
 * write inline (a BOM with CRLF and Chinese headers; a file mixing good
 * rows with a dozen kinds of bad ones, including invalid UTF-8). The rest
 * are inline strings. Messages are collected by a jk_diag_t callback into
 * one buffer, one per line, and searched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jk_candidates.h"
#include "jk_text.h"

#define SAMPLE JK_DATA_DIR "/candidates.csv"
#define FIXTURES JK_TEST_FIXTURES "/candidates"
#define SITTING_Y 2026
#define SITTING_M 12
#define SITTING_D 12

/* ---- collecting diagnostics ---- */

typedef struct {
    char text[1 << 16]; /* messages, one per line */
    size_t len;
    size_t errors, warnings;
} s_log_t;

static void s_collect(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg)
{
    (void)code;
    s_log_t *l = ud;
    if (sev == JK_DIAG_ERROR)
        l->errors++;
    else
        l->warnings++;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", msg);
    if (n > 0 && l->len + (size_t)n < sizeof l->text)
        l->len += (size_t)n;
}

typedef struct {
    s_log_t log;
    jk_diag_t diag;
    jk_error_t err;
    jk_candidates_t *c;
} s_run_t;

static s_run_t *s_run_new(void)
{
    s_run_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    jk_diag_init(&r->diag, s_collect, &r->log, 0);
    r->c = jk_candidates_new();
    assert_non_null(r->c);
    return r;
}

static void s_run_free(s_run_t **r)
{
    /* Whatever the input, every message is valid UTF-8 (no echo of bad
     * bytes, no character cut in half). */
    assert_true(jk_utf8_valid((*r)->log.text, (*r)->log.len));
    jk_candidates_destroy(&(*r)->c);
    free(*r);
    *r = NULL;
}

static jk_err_t s_parse(s_run_t *r, const char *csv)
{
    return jk_candidates_parse(r->c, csv, strlen(csv), "t.csv", &r->diag, &r->err);
}

#define assert_logged(r, needle)                                                            \
    do {                                                                                    \
        if (!strstr((r)->log.text, (needle)))                                               \
            fail_msg("no message \"%s\" in:\n%s", (needle), (r)->log.text);                 \
    } while (0)

/* A valid 身份证号 from 17 digits. */
static const char *s_id(char out[19], const char *first17)
{
    memcpy(out, first17, 17);
    out[17] = jk_id_number_check_digit(first17);
    out[18] = '\0';
    assert_true(out[17] != 0);
    return out;
}

#define HEADER "admission_no,name,id_number,level\n"

/* ---- the sample ---- */

static void test_sample(void **state)
{
    (void)state;
    s_run_t *r = s_run_new();
    assert_int_equal(jk_candidates_load_file(r->c, SAMPLE, &r->diag, &r->err), JK_OK);
    assert_int_equal(r->diag.errors, 0);
    assert_int_equal(r->diag.warnings, 0);
    assert_int_equal(jk_candidates_count(r->c), 360);
    assert_int_equal(jk_candidates_rejected(r->c), 0);

    jk_error_t e;
    jk_standard_t *s = jk_standard_load(JK_DATA_DIR "/standard.json", &e);
    assert_non_null(s);
    jk_date_t on;
    assert_true(jk_date_from_ymd(SITTING_Y, SITTING_M, SITTING_D, &on));

    /* Applied for: half 五级, a quarter each 四级 and 三级. Not eligible for
     * the level applied for: 18 of 360 (5 %), 8 / 5 / 5. */
    int applied[6] = { 0 }, ineligible[6] = { 0 };
    for (size_t i = 0; i < jk_candidates_count(r->c); i++) {
        const jk_candidate_t *k = jk_candidates_get(r->c, i);
        char want[48];
        snprintf(want, sizeof want, "2026-1201-%04u", (unsigned)(i + 1));
        assert_string_equal(k->admission_no, want);
        assert_ptr_equal(jk_candidates_find(r->c, want), k);
        assert_true(jk_id_number_valid(k->id_number));
        assert_int_equal(k->line, i + 2);
        assert_true(jk_utf8_length(k->name, strlen(k->name)) >= 2);
        applied[k->level]++;
        jk_elig_result_t res;
        jk_err_t rc = jk_eligibility_check(s, k->level, &k->applicant, on, &res);
        assert_true(rc == JK_OK || rc == JK_ERR_INELIGIBLE);
        if (rc == JK_ERR_INELIGIBLE)
            ineligible[k->level]++;
    }
    assert_int_equal(applied[5], 180);
    assert_int_equal(applied[4], 90);
    assert_int_equal(applied[3], 90);
    assert_int_equal(ineligible[5], 8);
    assert_int_equal(ineligible[4], 5);
    assert_int_equal(ineligible[3], 5);

    /* Names are distinct. */
    for (size_t i = 0; i < jk_candidates_count(r->c); i++)
        for (size_t j = i + 1; j < jk_candidates_count(r->c); j++)
            assert_string_not_equal(jk_candidates_get(r->c, i)->name,
                                    jk_candidates_get(r->c, j)->name);

    /* One record read back in full: 2026-1201-0001 works since 2026-06-13
     * and misses 五级 by one day. */
    const jk_candidate_t *k = jk_candidates_find(r->c, "2026-1201-0001");
    assert_non_null(k);
    assert_int_equal(k->level, 5);
    assert_int_equal(k->applicant.n_work, 1);
    assert_true(k->applicant.work[0].ongoing);
    jk_elig_result_t res;
    assert_int_equal(jk_eligibility_check(s, 5, &k->applicant, on, &res), JK_ERR_INELIGIBLE);
    assert_int_equal(jk_eligibility_check(s, 5, &k->applicant, on + 1, &res), JK_OK);

    assert_null(jk_candidates_find(r->c, "2026-1201-0361"));
    assert_null(jk_candidates_get(r->c, 360));
    jk_standard_destroy(&s);
    s_run_free(&r);
}

/* ---- 身份证号 ---- */

static void test_id_number(void **state)
{
    (void)state;
    /* The example of GB 11643-1999. */
    assert_int_equal(jk_id_number_check_digit("11010519491231002"), 'X');
    assert_true(jk_id_number_valid("11010519491231002X"));
    assert_true(jk_id_number_valid("11010519491231002x"));
    assert_false(jk_id_number_valid("110105194912310021"));
    assert_false(jk_id_number_valid("11010519491231002"));
    assert_false(jk_id_number_valid("11010519491231002XX"));
    assert_false(jk_id_number_valid("1101051949123100AX"));
    assert_false(jk_id_number_valid(NULL));
    assert_int_equal(jk_id_number_check_digit("1101051949123100A"), 0);
    /* A right check digit on an impossible birth date is still refused. */
    char id[19];
    assert_false(jk_id_number_valid(s_id(id, "11010519490231002")));
    assert_true(jk_id_number_valid(s_id(id, "11010520000229002")));
    assert_false(jk_id_number_valid(s_id(id, "11010519000229002")));
}

/* ---- fixtures ---- */

static void test_bom_crlf_aliases(void **state)
{
    (void)state;
    s_run_t *r = s_run_new();
    assert_int_equal(
        jk_candidates_load_file(r->c, FIXTURES "/bom-crlf-aliases.csv", &r->diag, &r->err),
        JK_OK);
    assert_int_equal(r->diag.errors, 0);
    assert_int_equal(jk_candidates_count(r->c), 2);

    const jk_candidate_t *a = jk_candidates_find(r->c, "T-001");
    assert_non_null(a);
    assert_string_equal(a->name, "王\"五");
    assert_string_equal(a->id_number, "110105199003071239");
    assert_int_equal(a->level, 5);
    assert_int_equal(a->line, 2);
    assert_int_equal(a->applicant.education, JK_EDU_HIGH_SCHOOL);
    assert_false(a->applicant.equivalent);
    assert_int_equal(a->applicant.n_work, 1);
    assert_true(a->applicant.work[0].ongoing);

    /* Line 3 is blank; the last line has no line end; 'x' is upper-cased. */
    const jk_candidate_t *b = jk_candidates_find(r->c, "T-002");
    assert_non_null(b);
    assert_int_equal(b->line, 4);
    assert_string_equal(b->name, "李四");
    assert_string_equal(b->id_number, "31010419851120054X");
    assert_int_equal(b->level, 4);
    const jk_applicant_t *ap = &b->applicant;
    assert_int_equal(ap->education, JK_EDU_BACHELOR);
    assert_true(ap->equivalent);
    assert_int_equal(ap->n_schools, 1);
    assert_int_equal(ap->schools[0].kind, JK_INST_COLLEGE);
    assert_int_equal(ap->schools[0].programme, JK_EDU_BACHELOR);
    assert_int_equal(ap->schools[0].status, JK_SCHOOL_GRADUATED);
    char d[11];
    assert_string_equal(jk_date_format(ap->schools[0].graduated, d), "2020-06-30");
    const jk_training_t *t4 = &ap->training[jk_level_index(4)];
    assert_int_equal(t4->hours, 80);
    assert_true(t4->certificate);
    assert_string_equal(jk_date_format(t4->certificate_date, d), "2026-01-10");
    const jk_training_t *t5 = &ap->training[jk_level_index(5)];
    assert_int_equal(t5->hours, 30);
    assert_false(t5->certificate);
    assert_int_equal(ap->training[jk_level_index(3)].hours, 0);
    assert_true(ap->certificates[jk_level_index(5)].held);
    assert_string_equal(jk_date_format(ap->certificates[jk_level_index(5)].date, d),
                        "2022-05-01");
    assert_false(ap->certificates[jk_level_index(4)].held);
    assert_int_equal(ap->n_work, 2);
    assert_int_equal(ap->work[0].scope, JK_OCC_THIS);
    assert_false(ap->work[0].ongoing);
    assert_string_equal(jk_date_format(ap->work[0].end, d), "2024-12-31");
    assert_int_equal(ap->work[1].scope, JK_OCC_RELATED);
    assert_true(ap->work[1].ongoing);
    s_run_free(&r);
}

static void test_mixed_errors(void **state)
{
    (void)state;
    s_run_t *r = s_run_new();
    jk_err_t rc =
        jk_candidates_load_file(r->c, FIXTURES "/mixed-errors.csv", &r->diag, &r->err);
    /* The first problem's code comes back; the good rows are kept. */
    assert_int_equal(rc, JK_ERR_INVAL);
    assert_non_null(strstr(r->err.msg, "line 3, column \"id_number\""));
    assert_int_equal(jk_candidates_count(r->c), 3);
    assert_non_null(jk_candidates_find(r->c, "A-01"));
    assert_non_null(jk_candidates_find(r->c, "A-08"));
    assert_non_null(jk_candidates_find(r->c, "A-16"));
    assert_int_equal(jk_candidates_rejected(r->c), 13);
    assert_int_equal(r->diag.errors, 14); /* line 10 has two problems */
    assert_int_equal(r->log.errors, 14);

    assert_logged(r, "line 3, column \"id_number\": \"440106199208150020\": check digit is 0, "
                     "expected 1");
    assert_logged(r, "line 4, column \"work\": entry 1 \"this:2025-02-30:\": expected "
                     "scope:start:[end] with dates YYYY-MM-DD");
    assert_logged(r, "line 5, column \"level\": \"6\": must be 5, 4 or 3");
    assert_logged(r, "line 6, column \"admission_no\": A-01 already used on line 2");
    assert_logged(r, "line 7, column \"id_number\": 440106199208150013 already used on line 2");
    assert_logged(r, "line 9, column \"name\": not valid UTF-8");
    assert_logged(r, "line 10, column \"name\": empty");
    assert_logged(r, "line 10, column \"level\": \"x\": must be 5, 4 or 3");
    assert_logged(r, "line 11, column \"name\": quote inside an unquoted field");
    assert_logged(r, "line 12, column \"education\": missing: the row has 8 fields, the "
                     "header 9");
    assert_logged(r, "line 13, column 10: extra field");
    assert_logged(r, "line 14, column \"training\": entry 2 \"5:40\": level 5 given twice");
    assert_logged(r, "line 15, column \"schools\": entry 1 \"vocational_school:graduated\": "
                     "graduated needs a date");
    assert_logged(r, "line 17, column \"name\": unterminated quoted field");

    /* The full good record of line 8. */
    const jk_candidate_t *k = jk_candidates_find(r->c, "A-08");
    assert_int_equal(k->level, 3);
    assert_int_equal(k->line, 8);
    assert_int_equal(k->applicant.education, JK_EDU_ASSOCIATE);
    assert_int_equal(k->applicant.n_work, 2);
    assert_true(k->applicant.certificates[jk_level_index(4)].held);
    assert_int_equal(k->applicant.schools[0].kind, JK_INST_TECHNICAL_SCHOOL);
    s_run_free(&r);
}

/* ---- the header ---- */

static void test_header_errors(void **state)
{
    (void)state;
    char id[19], csv[512];
    s_id(id, "11010519900307123");

    /* missing required column */
    s_run_t *r = s_run_new();
    snprintf(csv, sizeof csv, "admission_no,name,level\nA-1,张三,5\n");
    assert_int_equal(s_parse(r, csv), JK_ERR_MISSING);
    assert_logged(r, "t.csv: line 1: header: missing required column \"id_number\" (身份证号)");
    assert_int_equal(jk_candidates_count(r->c), 0);
    s_run_free(&r);

    /* unknown column, named with its position and text */
    r = s_run_new();
    snprintf(csv, sizeof csv, "admission_no,name,birthday,id_number,level\nA-1,张三,x,%s,5\n",
             id);
    assert_int_equal(s_parse(r, csv), JK_ERR_INVAL);
    assert_logged(r, "t.csv: line 1, column 3: unknown column \"birthday\"");
    assert_int_equal(jk_candidates_count(r->c), 0);
    s_run_free(&r);

    /* the same column twice, once in Chinese */
    r = s_run_new();
    snprintf(csv, sizeof csv, "admission_no,name,id_number,level,准考证号\n");
    assert_int_equal(s_parse(r, csv), JK_ERR_DUP);
    assert_logged(r, "line 1, column \"准考证号\": column \"admission_no\" given twice "
                     "(also column 1)");
    s_run_free(&r);

    /* a header that is not UTF-8 (a GBK export) */
    r = s_run_new();
    assert_int_equal(s_parse(r, "admission_no,name,id_number,level,\xd1\xa7\xc0\xfa\n"),
                     JK_ERR_PARSE);
    assert_logged(r, "line 1, column 5: header is not valid UTF-8");
    s_run_free(&r);

    /* a header with a syntax error */
    r = s_run_new();
    assert_int_equal(s_parse(r, "admission_no,\"name\"x,id_number,level\n"), JK_ERR_PARSE);
    assert_logged(r, "line 1: header: column 2: text after the closing quote");
    s_run_free(&r);

    /* an overlong header cell; a long unknown name is quoted cut at a
     * character boundary */
    r = s_run_new();
    {
        char hdr[8192] = "admission_no,name,id_number,level,";
        size_t n = strlen(hdr);
        memset(hdr + n, 'h', JK_CANDIDATES_FIELD_MAX + 1);
        hdr[n + JK_CANDIDATES_FIELD_MAX + 1] = '\0';
        assert_int_equal(s_parse(r, hdr), JK_ERR_TOO_BIG);
        assert_logged(r, "line 1, column 5: header cell longer than 4096 bytes");
    }
    s_run_free(&r);
    r = s_run_new();
    assert_int_equal(s_parse(r, "admission_no,name,id_number,level,x出生日期出生日期出生日期出生"
                                "日期出生日期出生日期出生日期\n"),
                     JK_ERR_INVAL);
    assert_logged(r, "column 5: unknown column \"x出生日期出生日期出生日期出生日期出生日期出\"");
    s_run_free(&r);

    /* too many columns */
    r = s_run_new();
    assert_int_equal(s_parse(r, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n"), JK_ERR_INVAL);
    assert_logged(r, "line 1: header: 17 columns");
    s_run_free(&r);

    /* empty, BOM only, blank lines only: no header */
    r = s_run_new();
    assert_int_equal(jk_candidates_parse(r->c, "", 0, "t.csv", &r->diag, &r->err),
                     JK_ERR_MISSING);
    assert_logged(r, "t.csv: line 1: empty file");
    assert_int_equal(r->err.code, JK_ERR_MISSING);
    s_run_free(&r);
    r = s_run_new();
    assert_int_equal(s_parse(r, "\xef\xbb\xbf"), JK_ERR_MISSING);
    s_run_free(&r);
    r = s_run_new();
    assert_int_equal(s_parse(r, "\n\r\n\n"), JK_ERR_MISSING);
    assert_logged(r, "t.csv: line 1: empty file");
    s_run_free(&r);
    r = s_run_new();
    assert_int_equal(jk_candidates_parse(r->c, NULL, 0, "t.csv", &r->diag, &r->err),
                     JK_ERR_MISSING);
    s_run_free(&r);

    /* UTF-16 */
    r = s_run_new();
    assert_int_equal(jk_candidates_parse(r->c, "\xff\xfe" "a\0", 4, "t.csv", &r->diag, &r->err),
                     JK_ERR_PARSE);
    assert_logged(r, "line 1: UTF-16 text");
    s_run_free(&r);

    /* header only: accepted with a warning, no rows */
    r = s_run_new();
    assert_int_equal(s_parse(r, "\n" HEADER), JK_OK);
    assert_int_equal(jk_candidates_count(r->c), 0);
    assert_int_equal(r->diag.errors, 0);
    assert_int_equal(r->diag.warnings, 1);
    assert_logged(r, "t.csv: line 2: header only, no candidate rows");
    s_run_free(&r);

    /* header names ignore letter case and surrounding blanks; optional
     * columns may be left out */
    r = s_run_new();
    snprintf(csv, sizeof csv, " Admission_No ,NAME,Id_Number,LEVEL\r\nA-1,张三,%s,5\r\n", id);
    assert_int_equal(s_parse(r, csv), JK_OK);
    assert_int_equal(jk_candidates_count(r->c), 1);
    s_run_free(&r);
}

/* ---- rows ---- */

static void test_row_errors(void **state)
{
    (void)state;
    char id1[19], id2[19], id3[19], csv[1024];
    s_id(id1, "11010519900307123");
    s_id(id2, "11010519900307124");
    s_id(id3, "11010519900307125");

    /* bad dates, each in its column */
    s_run_t *r = s_run_new();
    snprintf(csv, sizeof csv,
             "admission_no,name,id_number,level,certificates,training,schools,work\n"
             "A-1,张三,%s,4,5:2024-13-01,,,\n"
             "A-2,李四,%s,4,,5:30:2024/01/10,,\n"
             "A-3,王五,%s,4,,,technical_school:graduated:2024-06-31,this:2024-02-01:2024-01-31\n",
             id1, id2, id3);
    assert_int_equal(s_parse(r, csv), JK_ERR_INVAL);
    assert_logged(r, "line 2, column \"certificates\": entry 1 \"5:2024-13-01\": \"2024-13-01\" "
                     "is not a date");
    assert_logged(r, "line 3, column \"training\": entry 1 \"5:30:2024/01/10\": certificate "
                     "date \"2024/01/10\" is not a date");
    assert_logged(r, "line 4, column \"schools\": entry 1");
    assert_logged(r, "line 4, column \"work\": entry 1 \"this:2024-02-01:2024-01-31\": ends "
                     "before it starts");
    assert_int_equal(jk_candidates_count(r->c), 0);
    assert_int_equal(jk_candidates_rejected(r->c), 3);
    assert_int_equal(r->diag.errors, 4);
    s_run_free(&r);

    /* bad values of each list and of level, education, admission number */
    r = s_run_new();
    snprintf(csv, sizeof csv,
             "admission_no,name,id_number,level,education,schools,training,certificates,work\n"
             "A 1,张三,%s,2,phd,university:graduated:2020-06-30,5:thirty,5,elsewhere:2020-01-01\n",
             id1);
    assert_int_equal(s_parse(r, csv), JK_ERR_INVAL);
    assert_logged(r, "column \"admission_no\": \"A 1\": must be 1 to 32 characters");
    assert_logged(r, "column \"level\": \"2\": must be 5, 4 or 3");
    assert_logged(r, "column \"education\": \"phd\": education must be");
    assert_logged(r, "column \"schools\": entry 1 \"university:graduated:2020-06-30\": school "
                     "kind must be");
    assert_logged(r, "column \"training\": entry 1 \"5:thirty\": expected "
                     "level:hours[:certificate-date]");
    assert_logged(r, "column \"certificates\": entry 1 \"5\": expected level:date");
    assert_logged(r, "column \"work\": entry 1 \"elsewhere:2020-01-01\": occupation must be "
                     "this or related");
    assert_int_equal(r->diag.errors, 7);
    assert_int_equal(jk_candidates_rejected(r->c), 1);
    s_run_free(&r);

    /* ID number: length, characters, birth date */
    r = s_run_new();
    snprintf(csv, sizeof csv,
             HEADER "A-1,张三,1101051990030712,5\n"
                    "A-2,李四,11010519900307123Y,5\n"
                    "A-3,王五,110105199013071230,5\n"
                    "A-4,赵六,,5\n");
    assert_int_equal(s_parse(r, csv), JK_ERR_INVAL);
    assert_logged(r, "line 2, column \"id_number\": 16 characters, a 身份证号 has 18");
    assert_logged(r, "line 3, column \"id_number\": \"11010519900307123Y\": must be 17 digits "
                     "followed by a digit or X");
    assert_logged(r, "line 4, column \"id_number\": \"110105199013071230\": birth date 19901307 "
                     "is not a date");
    assert_logged(r, "line 5, column \"id_number\": empty");
    s_run_free(&r);

    /* schools, education: the finer points */
    r = s_run_new();
    snprintf(csv, sizeof csv,
             "admission_no,name,id_number,level,education,schools\n"
             "A-1,张三,%s,5,none:equivalent,technical_school/bachelor:internship\n"
             "A-2,李四,%s,5,bachelor:equal,vocational_school:internship:2026-06-30\n"
             "A-3,王五,%s,5,,college:enrolled;college:internship;college:enrolled;college:enrolled;"
             "college:enrolled\n",
             id1, id2, id3);
    assert_int_equal(s_parse(r, csv), JK_ERR_INVAL);
    assert_logged(r, "line 2, column \"education\": \"none:equivalent\": none cannot be "
                     "equivalent");
    assert_logged(r, "line 2, column \"schools\": entry 1 "
                     "\"technical_school/bachelor:internship\": only college takes a programme");
    assert_logged(r, "line 3, column \"education\": \"bachelor:equal\": after the education only");
    assert_logged(r, "line 3, column \"schools\": entry 1 "
                     "\"vocational_school:internship:2026-06-30\": internship takes no date");
    assert_logged(r, "line 4, column \"schools\": more than 4 schools");
    assert_int_equal(jk_candidates_count(r->c), 0);
    s_run_free(&r);

    /* a name over 50 characters, a tab in a name */
    r = s_run_new();
    char name[256] = "";
    for (int i = 0; i < 51; i++)
        strcat(name, "张");
    snprintf(csv, sizeof csv, HEADER "A-1,%s,%s,5\nA-2,\"李\t四\",%s,5\n", name, id1, id2);
    assert_int_equal(s_parse(r, csv), JK_ERR_INVAL);
    assert_logged(r, "line 2, column \"name\": 51 characters, at most 50");
    assert_logged(r, "line 3, column \"name\": contains a tab or line break");
    s_run_free(&r);
}

static void test_syntax(void **state)
{
    (void)state;
    char id[5][19], csv[2048];
    s_id(id[0], "11010519900307120");
    s_id(id[1], "11010519900307121");
    s_id(id[2], "11010519900307122");
    s_id(id[3], "11010519900307123");
    s_id(id[4], "11010519900307124");

    /* Quoted fields: doubled quotes, a comma, a line break (which moves the
     * line numbers of the rows after it), CRLF and LF mixed. */
    s_run_t *r = s_run_new();
    snprintf(csv, sizeof csv,
             HEADER "\"A-1\",\"张,三\",%s,\"5\"\r\n"
                    "A-2,\"李\n四\",%s,5\n"
                    "A-3,王五,%s,9\r\n"
                    "\n"
                    "A-4,\"赵\"\"六\",%s,4\n"
                    "A-5,钱\r七,%s,4\n",
             id[0], id[1], id[2], id[3], id[4]);
    assert_int_equal(s_parse(r, csv), JK_ERR_INVAL);
    assert_int_equal(jk_candidates_count(r->c), 2);
    assert_string_equal(jk_candidates_find(r->c, "A-1")->name, "张,三");
    assert_string_equal(jk_candidates_find(r->c, "A-4")->name, "赵\"六");
    assert_int_equal(jk_candidates_find(r->c, "A-4")->line, 7);
    assert_logged(r, "line 3, column \"name\": contains a tab or line break");
    assert_logged(r, "line 5, column \"level\": \"9\"");
    assert_logged(r, "line 8, column \"name\": carriage return not followed by a line feed");
    s_run_free(&r);

    /* Text after a closing quote: the row is refused and reading goes on
     * with the next line. */
    r = s_run_new();
    snprintf(csv, sizeof csv, HEADER "A-1,\"张三\"x,%s,5\nA-2,李四,%s,5\n", id[0], id[1]);
    assert_int_equal(s_parse(r, csv), JK_ERR_PARSE);
    assert_logged(r, "line 2, column \"name\": text after the closing quote");
    assert_int_equal(jk_candidates_count(r->c), 1);
    assert_non_null(jk_candidates_find(r->c, "A-2"));
    s_run_free(&r);

    /* An unterminated quote swallows the rest; the rows before stay. */
    r = s_run_new();
    snprintf(csv, sizeof csv, HEADER "A-1,张三,%s,5\nA-2,\"李四,%s,5\nA-3,王五,%s,5\n", id[0],
             id[1], id[2]);
    assert_int_equal(s_parse(r, csv), JK_ERR_PARSE);
    assert_logged(r, "line 3, column \"name\": unterminated quoted field");
    assert_int_equal(jk_candidates_count(r->c), 1);
    assert_int_equal(jk_candidates_rejected(r->c), 1);
    s_run_free(&r);

    /* Invalid UTF-8 in a row: overlong, surrogate, truncated. */
    r = s_run_new();
    snprintf(csv, sizeof csv,
             HEADER "A-1,\xc0\xaf,%s,5\nA-2,\xed\xa0\x80,%s,5\nA-3,\xe5\xbc,%s,5\nA-4,张三,%s,5\n",
             id[0], id[1], id[2], id[3]);
    assert_int_equal(s_parse(r, csv), JK_ERR_PARSE);
    assert_logged(r, "line 2, column \"name\": not valid UTF-8");
    assert_logged(r, "line 3, column \"name\": not valid UTF-8");
    assert_logged(r, "line 4, column \"name\": not valid UTF-8");
    assert_int_equal(jk_candidates_count(r->c), 1);
    s_run_free(&r);

    /* A BOM before a CRLF file. */
    r = s_run_new();
    snprintf(csv, sizeof csv, "\xef\xbb\xbf" "admission_no,name,id_number,level\r\nA-1,张三,%s,5\r\n",
             id[0]);
    assert_int_equal(s_parse(r, csv), JK_OK);
    assert_int_equal(jk_candidates_count(r->c), 1);
    s_run_free(&r);
}

static void test_duplicates(void **state)
{
    (void)state;
    char id1[19], id2[19], csv[512];
    s_id(id1, "11010519900307123");
    s_id(id2, "11010519900307124");

    s_run_t *r = s_run_new();
    snprintf(csv, sizeof csv, HEADER "A-1,张三,%s,5\nA-1,李四,%s,5\nA-2,王五,%s,5\n", id1, id2,
             id1);
    assert_int_equal(s_parse(r, csv), JK_ERR_DUP);
    assert_logged(r, "t.csv: line 3, column \"admission_no\": A-1 already used on line 2");
    assert_logged(r, "t.csv: line 4, column \"id_number\": ");
    assert_logged(r, " already used on line 2");
    assert_int_equal(jk_candidates_count(r->c), 1);
    assert_string_equal(jk_candidates_find(r->c, "A-1")->name, "张三");

    /* Across documents parsed into one list: the earlier one is named. */
    snprintf(csv, sizeof csv, HEADER "A-1,李四,%s,5\n", id2);
    assert_int_equal(jk_candidates_parse(r->c, csv, strlen(csv), "u.csv", &r->diag, &r->err),
                     JK_ERR_DUP);
    assert_logged(r, "u.csv: line 2, column \"admission_no\": A-1 already used on line 2 of t.csv");
    /* x and X are the same 身份证号 */
    char lower[19];
    memcpy(lower, "11010519491231002x", 19);
    snprintf(csv, sizeof csv, HEADER "B-1,甲,11010519491231002X,5\nB-2,乙,%s,5\n", lower);
    assert_int_equal(s_parse(r, csv), JK_ERR_DUP);
    assert_logged(r, "line 3, column \"id_number\": 11010519491231002X already used on line 2");
    assert_int_equal(jk_candidates_count(r->c), 2);
    s_run_free(&r);
}

static void test_bounds(void **state)
{
    (void)state;
    char id1[19], id2[19];
    s_id(id1, "11010519900307123");
    s_id(id2, "11010519900307124");

    /* An overlong field and an overlong line, each named by its column. */
    size_t big = JK_CANDIDATES_LINE_MAX + 100;
    char *csv = malloc(2 * big + 8192);
    assert_non_null(csv);
    char *p = csv;
    p += sprintf(p, "admission_no,name,id_number,level,work\nA-1,");
    memset(p, 'a', JK_CANDIDATES_FIELD_MAX + 1);
    p += JK_CANDIDATES_FIELD_MAX + 1;
    p += sprintf(p, ",%s,5,\nA-2,张三,%s,5,", id1, id1);
    for (size_t i = 0; i < big / 32; i++)
        p += sprintf(p, "this:2020-01-01:2020-01-31;     ");
    p += sprintf(p, "\nA-3,李四,%s,5,\n", id2);
    s_run_t *r = s_run_new();
    assert_int_equal(jk_candidates_parse(r->c, csv, (size_t)(p - csv), "t.csv", &r->diag, &r->err),
                     JK_ERR_TOO_BIG);
    assert_logged(r, "line 2, column \"name\": field longer than 4096 bytes");
    assert_logged(r, "line 3, column \"work\": line longer than 65536 bytes");
    assert_int_equal(jk_candidates_count(r->c), 1);
    assert_non_null(jk_candidates_find(r->c, "A-3"));
    assert_int_equal(jk_candidates_rejected(r->c), 2);
    s_run_free(&r);
    free(csv);
}

static void test_row_limit(void **state)
{
    (void)state;
    /* 200,001 rows of 4 columns: the first 200,000 are taken. */
    size_t rows = JK_CANDIDATES_ROWS_MAX + 1;
    size_t cap = 64 + rows * 48;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t len = (size_t)sprintf(csv, "%s", HEADER);
    for (size_t i = 0; i < rows; i++) {
        char first17[18], id[19];
        /* vary the birth year, the birth day and the sequence to stay unique */
        snprintf(first17, sizeof first17, "110105%04zu01%02zu%03zu", 1930 + i / 7000,
                 i / 1000 % 7 + 1, i % 1000);
        s_id(id, first17);
        len += (size_t)snprintf(csv + len, cap - len, "N%06zu,张三,%s,5\n", i, id);
    }
    s_run_t *r = s_run_new();
    assert_int_equal(jk_candidates_parse(r->c, csv, len, "t.csv", &r->diag, &r->err),
                     JK_ERR_TOO_BIG);
    assert_int_equal(jk_candidates_count(r->c), JK_CANDIDATES_ROWS_MAX);
    assert_int_equal(r->diag.errors, 1);
    char want[64];
    snprintf(want, sizeof want, "line %zu: more than 200000 rows", rows + 1);
    assert_logged(r, want);
    /* the list is full: a further document adds nothing */
    const char *more = HEADER "Z-1,李四,11010519491231002X,5\n";
    assert_int_equal(jk_candidates_parse(r->c, more, strlen(more), "u.csv", &r->diag, &r->err),
                     JK_ERR_TOO_BIG);
    assert_int_equal(jk_candidates_count(r->c), JK_CANDIDATES_ROWS_MAX);
    s_run_free(&r);
    free(csv);
}

static void test_file_bounds(void **state)
{
    (void)state;
    /* A buffer over the file bound is refused before it is read. */
    size_t len = JK_CANDIDATES_FILE_MAX + 1;
    char *big = calloc(1, len);
    assert_non_null(big);
    s_run_t *r = s_run_new();
    assert_int_equal(jk_candidates_parse(r->c, big, len, "big.csv", &r->diag, &r->err),
                     JK_ERR_TOO_BIG);
    assert_logged(r, "big.csv: line 1: 67108865 bytes, more than 67108864");
    free(big);

    /* A file that is not there. */
    assert_int_equal(jk_candidates_load_file(r->c, FIXTURES "/no-such-file.csv", &r->diag,
                                             &r->err),
                     JK_ERR_IO);
    assert_non_null(strstr(r->err.msg, "no-such-file.csv: cannot open"));
    assert_int_equal(jk_candidates_parse(NULL, "", 0, "t", NULL, NULL), JK_ERR_INVAL);
    assert_int_equal(jk_candidates_load_file(r->c, NULL, NULL, NULL), JK_ERR_INVAL);

    /* NULL diagnostics and error record are allowed. */
    const char *bad = HEADER "A-1,张三,11010519491231002X,7\n";
    assert_int_equal(jk_candidates_parse(r->c, bad, strlen(bad), "t.csv", NULL, NULL),
                     JK_ERR_INVAL);
    assert_int_equal(jk_candidates_count(r->c), 0);
    s_run_free(&r);

    /* destroy accepts NULL */
    jk_candidates_t *none = NULL;
    jk_candidates_destroy(&none);
    jk_candidates_destroy(NULL);
    assert_int_equal(jk_candidates_count(NULL), 0);
    assert_null(jk_candidates_find(NULL, "A-1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_id_number),
        cmocka_unit_test(test_bom_crlf_aliases),
        cmocka_unit_test(test_mixed_errors),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_row_errors),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_row_limit),
        cmocka_unit_test(test_file_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
