/*
 * jk_paper: per-candidate papers.
 *
 * A theory paper meets its blueprint exactly (items per area × type), draws
 * only on items of its level and lower levels, orders items by section
 * (判断, then 单选, then 多选 — the order of a printed Chinese exam) and at
 * random within each section, and shuffles every item's options. Two more
 * controls hold across the papers of one builder:
 *  - exposure: no item appears on more than `exposure_max` of the planned
 *    papers (its cap is ceil(exposure_max * planned));
 *  - parallel forms: each paper's mean item difficulty is within
 *    `difficulty_tolerance` of the target (by default the mean difficulty of
 *    the items the level may use), repaired by swapping items within a cell.
 * Each candidate's paper is also distinct from every other paper of the
 * builder (its set of items and its order).
 *
 * Determinism: papers are a pure function of the bank, the blueprint, the
 * options (seed included) and the sequence of candidate ids given to the
 * builder. Each candidate's random stream is seeded from (seed, candidate
 * id); exposure counts depend on the candidates before, so build in a fixed
 * order (the sitting's candidate list order).
 *
 * A skills paper takes, per area, a set of tasks whose points add up to the
 * area's points exactly. The area's usable tasks are put in an order
 * shuffled per candidate and the first set that adds up in that order is
 * taken (a depth-first search, including a task before leaving it out), so
 * tasks of equal points are equally likely: with 30 equal tasks and 3 to
 * take, each is on about a tenth of the papers. Exposure caps, parallel
 * forms and distinctness are theory-paper controls; skills papers get the
 * even spread of the shuffle.
 *
 * Cost: building a theory paper is O(items on the paper) plus the difficulty
 * repair; the builder's memory is O(bank size + papers built) (one 64-bit
 * hash per paper for distinctness).
 */
#ifndef JK_PAPER_H
#define JK_PAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_bank.h"
#include "jk_blueprint.h"
#include "jk_err.h"

/* One item on a paper: the bank item and the option order the candidate
 * sees. perm nibble i (bits 4i..4i+3) = bank option index shown at
 * position i. Judge items have perm 0. */
typedef struct {
    uint32_t item;
    uint32_t perm;
} jk_paper_entry_t;

#define JK_PAPER_MAX_ITEMS 400
#define JK_PAPER_MAX_TASKS 32
/* Usable tasks of one skills area a builder takes; more is JK_ERR_TOO_BIG. */
#define JK_PAPER_MAX_AREA_TASKS 1024

typedef struct {
    int level;
    uint32_t n;                     /* entries used */
    jk_paper_entry_t entries[JK_PAPER_MAX_ITEMS];
    float mean_difficulty;
    uint64_t digest;                /* hash of (items, order, perms) */
} jk_theory_paper_t;

typedef struct {
    int level;
    uint32_t n;
    uint32_t tasks[JK_PAPER_MAX_TASKS]; /* bank task indexes, by area in table order */
    int minutes;                         /* sum of the tasks' suggested minutes */
} jk_skills_paper_t;

typedef struct {
    uint64_t seed;
    double exposure_max;          /* (0, 1]; default 0.5 */
    size_t planned_papers;        /* for exposure caps; 0 = unlimited exposure */
    double difficulty_target;     /* < 0: the mean of the usable items */
    double difficulty_tolerance;  /* default 0.05 */
    int max_repair_swaps;         /* default 2000 */
    long skills_max_steps;        /* skills: bound on one area's search; <= 0: 1000000 */
} jk_paper_opts_t;

void jk_paper_opts_default(jk_paper_opts_t *o);

typedef struct jk_paper_builder jk_paper_builder_t;

/* Prepares a builder for papers of bp->level from bank b (both borrowed).
 * Theory blueprint: fails with JK_ERR_SHORTAGE naming level, area, type and
 * how many items are missing when the bank can't fill a cell — including
 * when exposure caps make the cell too small for the planned papers.
 * Skills blueprint: finds each area's usable tasks once (for every paper of
 * the builder); fails with JK_ERR_SHORTAGE naming the area when no set of
 * its tasks adds up to its points, and JK_ERR_TOO_BIG naming the count when
 * an area has more than JK_PAPER_MAX_AREA_TASKS usable tasks or the areas
 * need more than JK_PAPER_MAX_TASKS tasks together. */
jk_paper_builder_t *jk_paper_builder_new(const jk_bank_t *b, const jk_blueprint_t *bp,
                                         const jk_paper_opts_t *opts, jk_error_t *err);
void jk_paper_builder_destroy(jk_paper_builder_t **pb);

/* Builds the next candidate's theory paper into *out (a theory builder
 * only). Errors: JK_ERR_SHORTAGE when exposure caps are exhausted,
 * JK_ERR_RANGE when the difficulty can't be brought within tolerance,
 * JK_ERR_DUP when no distinct paper was found. */
jk_err_t jk_paper_build(jk_paper_builder_t *pb, const char *candidate_id, jk_theory_paper_t *out,
                        jk_error_t *err);

/* Papers built so far, and the highest exposure of any item (for a skills
 * builder: of any task) as a count. */
size_t jk_paper_builder_count(const jk_paper_builder_t *pb);
uint32_t jk_paper_builder_max_exposure(const jk_paper_builder_t *pb);
double jk_paper_builder_target(const jk_paper_builder_t *pb);

/* Maps a response given in displayed positions (bit i = position i chosen)
 * back to bank option bits. Judge responses pass through unchanged. */
uint32_t jk_paper_unshuffle(const jk_item_t *it, uint32_t perm, uint32_t shown_mask);
/* Bank option index shown at display position pos. */
static inline unsigned jk_paper_perm_at(uint32_t perm, unsigned pos)
{
    return (perm >> (4 * pos)) & 0xFu;
}

/* Builds the next candidate's skills paper (a skills builder only): for
 * each area of the blueprint, a random set of the area's usable tasks whose
 * points add to the area's points. Its random stream is seeded from
 * (opts.seed, candidate id) alone, so a candidate's paper does not depend on
 * the candidates before. JK_ERR_RANGE names the area when the search gave up
 * after skills_max_steps steps (task points that make sets rare). Cost:
 * O(usable tasks) per area for the shuffle, plus the search: about one step
 * per task taken when the tasks' points divide the area's. */
jk_err_t jk_paper_build_skills_with(jk_paper_builder_t *pb, const char *candidate_id,
                                    jk_skills_paper_t *out, jk_error_t *err);

/* One skills paper without keeping a builder: the same paper as a builder
 * made with opts.seed = seed (other options default) gives. Errors as
 * jk_paper_builder_new and jk_paper_build_skills_with. */
jk_err_t jk_paper_build_skills(const jk_bank_t *b, const jk_blueprint_t *bp, uint64_t seed,
                               const char *candidate_id, jk_skills_paper_t *out, jk_error_t *err);

/* Checks a theory paper against its blueprint and the bank: counts per area
 * × type, points per area, levels, no repeated item, valid permutations.
 * Returns JK_OK or an error naming the first difference. */
jk_err_t jk_paper_check(const jk_bank_t *b, const jk_blueprint_t *bp, const jk_theory_paper_t *p,
                        jk_error_t *err);

#endif
