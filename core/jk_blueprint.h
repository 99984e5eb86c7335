/*
 * jk_blueprint: what a paper of a level and exam must contain, derived from
 * the standard's weight tables and a paper template.
 *
 * Theory: the template fixes how many items of each type and their points
 * (default 判断 20 × 1, 单选 60 × 1, 多选 10 × 2 = 100). The blueprint splits
 * each type's count over the areas so that every area gets exactly its
 * points from the theory weight table:
 *   1. types other than the last ("absorbing") type are apportioned in
 *      template order by largest remainder in proportion to the area weights
 *      (ties: the larger weight first, then table order), never giving an
 *      area more points than it has left;
 *   2. the absorbing type (by default 单选, 1 point) fills each area's
 *      remaining points; it must divide them and its counts must add up to
 *      the template's.
 * For the default template and the 2022 tables this gives, at 五级 and 四级:
 *   ethics 2/6/1, basics 5/14/3, info 3/8/2, employ 3/10/1, insure 3/10/1,
 *   retire 2/6/1, relations 2/6/1   (判断/单选/多选)
 * and at 三级 (info 10, employ 20):
 *   ethics 2/6/1, basics 5/14/3, info 2/6/1, employ 4/12/2, insure 3/10/1,
 *   retire 2/6/1, relations 2/6/1.
 *
 * Skills: the blueprint is the area points of the skills weight table; a
 * paper takes, per area, tasks whose points add up to exactly that.
 */
#ifndef JK_BLUEPRINT_H
#define JK_BLUEPRINT_H

#include <stdint.h>

#include "jk_bank.h"
#include "jk_err.h"
#include "jk_standard.h"

typedef struct {
    int counts[JK_ITEM__COUNT];             /* items per type */
    int32_t points_centi[JK_ITEM__COUNT];   /* points of one item of the type */
    jk_item_type_t order[JK_ITEM__COUNT];   /* apportioning order; last absorbs */
    int minutes;                            /* exam duration, >= the standard's minimum */
} jk_template_t;

/* 判断 20 × 1, 单选 60 × 1, 多选 10 × 2, order 多选, 判断, then 单选 absorbs;
 * 90 minutes. */
void jk_template_default(jk_template_t *t);

typedef struct {
    int level;
    jk_exam_t exam;
    int32_t total_centi;                        /* 10000 */
    int32_t area_centi[JK_AREA_COUNT];          /* by area index; 0 if not weighed */
    int cells[JK_AREA_COUNT][JK_ITEM__COUNT];   /* theory: items per area × type */
    int32_t points_centi[JK_ITEM__COUNT];       /* theory: points per item of type */
    int n_items;                                /* theory: items on the paper */
    int minutes;
} jk_blueprint_t;

/* Builds the theory blueprint of a level. Errors (JK_ERR_INVAL) name the
 * area and what could not be met when the template can't give an area its
 * exact points. tpl NULL = default template. */
jk_err_t jk_blueprint_theory(const jk_standard_t *s, int level, const jk_template_t *tpl,
                             jk_blueprint_t *out, jk_error_t *err);

/* Builds the skills blueprint (area points) of a level; minutes = the
 * standard's minimum unless given (> 0). */
jk_err_t jk_blueprint_skills(const jk_standard_t *s, int level, int minutes,
                             jk_blueprint_t *out, jk_error_t *err);

/* Checks that a template is consistent: counts >= 0, points > 0, total
 * points 100, minutes >= the standard's minimum. */
jk_err_t jk_template_check(const jk_standard_t *s, const jk_template_t *t, jk_error_t *err);

#endif
