/*
 * jk_eligibility: 申报条件 (1.9.1 of the standard). Evaluates an applicant's
 * records, on a given date, against the alternatives the standard holds as
 * rule trees for a level, and says which alternative is met or, for each
 * one, what is missing, in plain Chinese a clerk can read out
 * ("连续从事本职业工作满24个月：现有最长连续11个月（2025-12-01起，2027-12-01满24个月）").
 *
 * The rules are data (jk_standard_alternative()); nothing here knows that
 * L4-2 exists. This file only knows what each rule kind means:
 *  - "以上" includes the number: N months or more, hours >= min_hours.
 *  - A period of N months that starts on S is complete on the day
 *    jk_date_add_months(S, N) (month-end clamped): work that is ongoing on
 *    that day counts as complete that day, not the day before. A period
 *    that ended on E (its last working day, inclusive) has lasted until E+1,
 *    so 2025-01-01..2025-06-30 is six months.
 *  - Continuous (连续) work is one period: periods that overlap or touch
 *    (the next starts no later than the day after the previous ends) join
 *    into one. Which periods take part depends on the rule: "this" uses
 *    work in this occupation only; "related" uses work in a related
 *    occupation and in this one (this occupation is related to itself), and
 *    a related period and a this-occupation period may join.
 *  - Work after the evaluation date does not count: every period is cut at
 *    the date `on`.
 *  - "since certificate L" counts only work from the date of the level-L
 *    certificate of this occupation on (and needs the certificate);
 *    "since graduation" counts from a graduation date. Under an `all` node
 *    that also says `graduated` from some kinds of institution, the
 *    graduation counted from is one from those kinds.
 *  - A certificate, a training completion certificate or a graduation dated
 *    after `on` does not count.
 *  - A school that the applicant is a student of counts for `internship`
 *    only when its status is the graduation-year internship or 见习期 at the
 *    time of the record; the record carries no date for that, so the caller
 *    must keep it current (an applicant's record is taken at application).
 *
 * Explanations: an `all` node explains every child that fails (except a
 * "since" work node whose missing certificate or graduation a sibling
 * already names); an `any` node that fails explains only the child that
 * came closest (fewest failed leaves, then fewest months short).
 *
 * Pure functions: no I/O, no allocation, no globals. Applicant records are
 * plain structs the caller fills (jk_candidates builds them from a CSV).
 *
 * Rejected: evaluating against hard-coded 1.9.1 logic (the standard is data
 * and the loader already validates it); counting months as days/30 (the
 * standard's 满 N 个月 is calendar months, and the clamp rule of jk_date
 * settles the 31st); returning free text only (callers need met/not met per
 * alternative to build reports).
 */
#ifndef JK_ELIGIBILITY_H
#define JK_ELIGIBILITY_H

#include <stdbool.h>
#include <stddef.h>

#include "jk_date.h"
#include "jk_err.h"
#include "jk_standard.h"

#define JK_APPLICANT_MAX_SCHOOLS 4      /* schools on one record */
#define JK_APPLICANT_MAX_WORK 64        /* work periods on one record */
#define JK_APPLICANT_MAX_HOURS 100000   /* sanity bound on training hours */
#define JK_ELIG_MAX_ALTERNATIVES 8      /* per level; the standard has 4 */
#define JK_ELIG_REASON_BYTES 1024       /* one alternative's explanation */

/* Where a student stands at a school. */
typedef enum {
    JK_SCHOOL_ENROLLED = 0,   /* 在读, not (yet) in the graduation-year internship */
    JK_SCHOOL_INTERNSHIP = 1, /* 毕业学年实习或见习期 */
    JK_SCHOOL_GRADUATED = 2,  /* 已毕业, on `graduated` */
} jk_school_status_t;

typedef struct {
    unsigned kind;              /* exactly one JK_INST_* bit */
    jk_education_t programme;   /* JK_INST_COLLEGE only: the education the
                                   programme leads to; JK_EDU_NONE reads as
                                   JK_EDU_ASSOCIATE (the least a 大专及以上院校
                                   confers). Ignored for other kinds. */
    jk_school_status_t status;
    jk_date_t graduated;        /* JK_SCHOOL_GRADUATED: graduation date */
} jk_school_t;

/* Preparatory training (预备培训) of this occupation for one level. */
typedef struct {
    int hours;                  /* 标准学时 completed; 0 = none */
    bool certificate;           /* holds the 结业证书 */
    jk_date_t certificate_date; /* with certificate */
} jk_training_t;

/* This occupation's 职业资格证书 or 职业技能等级证书 for one level. */
typedef struct {
    bool held;
    jk_date_t date;             /* date obtained */
} jk_level_certificate_t;

typedef struct {
    jk_occupation_scope_t scope; /* JK_OCC_THIS, or JK_OCC_RELATED for a
                                    related occupation other than this one */
    jk_date_t start;             /* first working day */
    jk_date_t end;               /* last working day, inclusive; ignored when ongoing */
    bool ongoing;                /* no end yet */
} jk_work_period_t;

/* An applicant's records. Zero-initialised means "nothing on record". */
typedef struct {
    jk_education_t education;   /* highest education held */
    bool equivalent;            /* held by 同等学力 */
    size_t n_schools;
    jk_school_t schools[JK_APPLICANT_MAX_SCHOOLS];
    jk_training_t training[JK_LEVEL_COUNT];            /* by jk_level_index() */
    jk_level_certificate_t certificates[JK_LEVEL_COUNT]; /* by jk_level_index() */
    const jk_work_period_t *work; /* borrowed; n_work entries, any order */
    size_t n_work;                /* <= JK_APPLICANT_MAX_WORK */
} jk_applicant_t;

/* The verdict on one alternative. */
typedef struct {
    const char *id;     /* "L4-2"; borrowed from the standard */
    const char *text;   /* the condition as printed; borrowed */
    bool met;
    char missing[JK_ELIG_REASON_BYTES]; /* what is missing, parts separated
                                           by "；"; "" when met. UTF-8, cut
                                           at a character boundary with "…"
                                           if it would not fit */
} jk_elig_alt_result_t;

typedef struct {
    int level;                  /* 5, 4, 3 */
    jk_date_t on;               /* the evaluation date */
    bool eligible;              /* some alternative is met */
    const char *met_id;         /* the first alternative met, or NULL */
    const char *met_text;       /* its printed text, or NULL */
    size_t n_alternatives;
    jk_elig_alt_result_t alternatives[JK_ELIG_MAX_ALTERNATIVES]; /* printed order */
} jk_elig_result_t;

/* Checks that a record is well formed: education and scopes known, at most
 * JK_APPLICANT_MAX_SCHOOLS schools each of exactly one known kind, hours in
 * 0..JK_APPLICANT_MAX_HOURS, at most JK_APPLICANT_MAX_WORK periods (and
 * `work` non-NULL when n_work > 0), no period ending before it starts, every
 * date within JK_DATE_MIN_YEAR..JK_DATE_MAX_YEAR. Returns JK_OK, JK_ERR_INVAL
 * or JK_ERR_RANGE, with *err (may be NULL) naming the field ("work[2]: ...").
 * Says nothing about eligibility. */
jk_err_t jk_applicant_validate(const jk_applicant_t *a, jk_error_t *err);

/* Evaluates applicant a on date `on` against every alternative of `level`
 * in standard s, and fills *out (all of it: every alternative gets met or
 * its explanation).
 * Returns JK_OK when some alternative is met, JK_ERR_INELIGIBLE when none
 * is (out is filled in both cases), JK_ERR_INVAL for a NULL argument, an
 * invalid level, an out-of-range date or a malformed record (see
 * jk_applicant_validate), JK_ERR_RANGE when the level has more than
 * JK_ELIG_MAX_ALTERNATIVES alternatives; out is then zeroed.
 * Pure: does not allocate, keeps no state; borrowed strings in *out live as
 * long as s. */
jk_err_t jk_eligibility_check(const jk_standard_t *s, int level, const jk_applicant_t *a,
                              jk_date_t on, jk_elig_result_t *out);

/* Every level applicant a may sit on date `on`, in the order 5, 4, 3:
 * writes them to levels[0..*n) and sets *n (0 when none). Returns JK_OK, or
 * the error jk_eligibility_check would return for a bad argument or record
 * (*n is then 0). */
jk_err_t jk_eligibility_levels(const jk_standard_t *s, const jk_applicant_t *a, jk_date_t on,
                               int levels[JK_LEVEL_COUNT], size_t *n);

/* Writes a clerk's summary of r to buf (always NUL-terminated when size >
 * 0, cut at a character boundary): "符合L4-2：<printed text>" when eligible,
 * otherwise one line per alternative, "L4-1：<missing>", joined by "\n".
 * Returns the length written. */
size_t jk_elig_result_format(const jk_elig_result_t *r, char *buf, size_t size);

/* Chinese names for messages: "大学专科", "技工院校"; "" when unknown. */
const char *jk_education_label(jk_education_t e);
const char *jk_institution_label(unsigned one_bit);

#endif
