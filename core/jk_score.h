/*
 * jk_score: the scoring rules, as pure functions (no I/O, no clock, no
 * randomness): the same inputs always give the same result, which is what
 * lets a replay of an exam node's log reproduce a final score exactly.
 *
 * Rules (docs/scoring.md explains them with examples):
 *  - 判断 and 单选: full points for exactly the key, else 0.
 *  - 多选: all-or-nothing by default (错选、多选、少选均不得分). With
 *    JK_MULTI_PARTIAL, a response that picks some correct options and no
 *    wrong one earns partial_permille / 1000 of the points (rounded down to
 *    0.01 point); a wrong option always gives 0.
 *  - 模拟操作 fields: all of the field's points when its rule matches, else 0.
 *  - Examiner-scored parts: every examiner of the panel (>= 3, an odd
 *    number) scores 0..max in steps of 0.5 point. When max - min of their
 *    scores exceeds arbitration_permille / 1000 of the part's points, the
 *    part goes to arbitration and has no score until an arbitrated score
 *    replaces it. Otherwise the part's score is the mean, rounded to 0.01
 *    point with halves rounded up.
 *  - Totals: theory and skills each out of 100; sub-scores per area; a
 *    candidate passes only with >= pass mark (60) in both.
 */
#ifndef JK_SCORE_H
#define JK_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_bank.h"
#include "jk_err.h"
#include "jk_paper.h"

typedef enum { JK_MULTI_ALL_OR_NOTHING = 0, JK_MULTI_PARTIAL = 1 } jk_multi_rule_t;

typedef struct {
    jk_multi_rule_t multi;
    int partial_permille;      /* JK_MULTI_PARTIAL: share of points, default 500 */
    int arbitration_permille;  /* spread threshold as a share of the part's points, default 200 */
    int min_examiners;         /* default 3 */
    int32_t step_centi;        /* examiners score in steps of this, default 50 (0.5 point) */
    int pass_mark;             /* default 60 */
} jk_score_rules_t;

void jk_score_rules_default(jk_score_rules_t *r);

/* A theory response: answered or not, and the chosen options as bank
 * option bits (after jk_paper_unshuffle); judge: bit 0 = "true". */
typedef struct {
    bool answered;
    uint32_t mask;
} jk_response_t;

/* Points (centi) a response earns on an item. */
int32_t jk_score_item(const jk_item_t *it, jk_response_t r, const jk_score_rules_t *rules);

/* Points (centi) a typed response earns on a field; NULL response = 0. */
int32_t jk_score_field(const jk_field_t *f, const char *response);
/* Whether a typed response matches the field's rule. */
bool jk_field_matches(const jk_field_t *f, const char *response);

typedef enum {
    JK_PANEL_SCORED = 0,    /* *score is the part's score */
    JK_PANEL_ARBITRATION,   /* spread too wide: needs an arbitrated score */
} jk_panel_outcome_t;

/* Combines a panel's scores of one part. Errors: JK_ERR_INVAL when the panel
 * is smaller than min_examiners or even, JK_ERR_RANGE when a score is
 * outside 0..max or not a multiple of the step. */
jk_err_t jk_score_panel(const int32_t *scores_centi, size_t n, int32_t max_centi,
                        const jk_score_rules_t *rules, jk_panel_outcome_t *outcome,
                        int32_t *score_centi, jk_error_t *err);

/* Rounded mean, halves up: (2*sum + n) / (2n) for non-negative sums. */
int32_t jk_mean_round_half_up(int64_t sum, size_t n);

typedef struct {
    int32_t total_centi;                 /* out of 10000 */
    int32_t area_centi[JK_AREA_COUNT];   /* by area index */
    int32_t max_area_centi[JK_AREA_COUNT];
    uint32_t answered, correct;          /* theory: counts over items */
    bool pending;                        /* skills: a part awaits examiners or arbitration */
} jk_exam_score_t;

/* Scores a theory paper: responses[i] belongs to paper entry i, already in
 * bank option bits. */
void jk_score_theory(const jk_bank_t *b, const jk_theory_paper_t *p, const jk_response_t *responses,
                     const jk_score_rules_t *rules, jk_exam_score_t *out);

/* Per part of a skills paper: for operation parts the typed field values;
 * for examiner parts the panel's scores and, if any, an arbitrated score. */
typedef struct {
    const char *const *fields;    /* OPERATION: values by field index (NULL = blank) */
    const int32_t *panel_centi;   /* ORAL/WRITTEN: examiners' scores */
    size_t n_panel;
    bool arbitrated;              /* an arbitration score replaces the panel's */
    int32_t arbitrated_centi;
} jk_part_response_t;

/* Scores a skills paper. responses are laid out task by task, part by part,
 * in paper order. A part with no panel yet, or one sent to arbitration
 * without an arbitrated score, makes the result pending (it counts 0 until
 * then). Returns JK_ERR_INVAL/RANGE for a malformed panel (named by task and
 * part). */
jk_err_t jk_score_skills(const jk_bank_t *b, const jk_skills_paper_t *p,
                         const jk_part_response_t *responses, size_t n_responses,
                         const jk_score_rules_t *rules, jk_exam_score_t *out, jk_error_t *err);

typedef struct {
    jk_exam_score_t theory, skills;
    bool theory_pass, skills_pass, pass;
} jk_result_t;

/* Combines the two exams: pass only with >= pass mark in both; a pending
 * skills score does not pass. */
void jk_score_result(const jk_exam_score_t *theory, const jk_exam_score_t *skills,
                     const jk_score_rules_t *rules, jk_result_t *out);

#endif
