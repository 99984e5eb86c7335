/*
 * jk_paper: paper assembly; see jk_paper.h for the rules it keeps.
 *
 * Each blueprint cell (area × type) has a pool: the indexes of the bank items
 * that may fill it. The first `active` entries of a pool are the items still
 * under their exposure cap; an item reaching its cap is swapped out of the
 * active region, so drawing never looks at an exhausted item. Drawing k items
 * is a partial Fisher–Yates shuffle of the active region (O(k)), which also
 * leaves the unchosen items right behind the chosen ones for the difficulty
 * repair to swap in.
 *
 * Rejected: solving each paper as an integer program (exact but ~1000x
 * slower, and random drawing with a repair step meets the tolerance in a
 * handful of swaps for realistic banks); recomputing pools per paper.
 */
#include "jk_paper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jk_rand.h"
#include "jk_strmap.h"

#define S_DISTINCT_TRIES 32

typedef struct {
    int area;
    jk_item_type_t type;
    int need;
    uint32_t *pool;
    uint32_t n_pool;
    uint32_t active;
} s_cell_t;

struct jk_paper_builder {
    const jk_bank_t *bank;
    jk_blueprint_t bp;
    jk_paper_opts_t opts;
    s_cell_t cells[JK_AREA_COUNT * JK_ITEM__COUNT];
    int n_cells;
    uint32_t *exposure; /* per bank item */
    uint32_t cap;       /* exposure cap per item (UINT32_MAX = none) */
    uint32_t max_exposure;
    double target;
    /* Set of selection digests (open addressing, 0 = empty). */
    uint64_t *seen;
    size_t seen_cap, seen_count;
    size_t built;
};

void jk_paper_opts_default(jk_paper_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->exposure_max = 0.5;
    o->planned_papers = 0;
    o->difficulty_target = -1.0;
    o->difficulty_tolerance = 0.05;
    o->max_repair_swaps = 2000;
}

static uint64_t s_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void jk_paper_builder_destroy(jk_paper_builder_t **ppb)
{
    if (!ppb || !*ppb)
        return;
    jk_paper_builder_t *pb = *ppb;
    for (int i = 0; i < pb->n_cells; i++)
        free(pb->cells[i].pool);
    free(pb->exposure);
    free(pb->seen);
    free(pb);
    *ppb = NULL;
}

jk_paper_builder_t *jk_paper_builder_new(const jk_bank_t *b, const jk_blueprint_t *bp,
                                         const jk_paper_opts_t *opts, jk_error_t *err)
{
    if (bp->exam != JK_EXAM_THEORY || bp->n_items <= 0 || bp->n_items > JK_PAPER_MAX_ITEMS) {
        jk_error_set(err, JK_ERR_INVAL, "paper builder: not a theory blueprint of 1..%d items",
                     JK_PAPER_MAX_ITEMS);
        return NULL;
    }
    jk_paper_opts_t def;
    if (!opts) {
        jk_paper_opts_default(&def);
        opts = &def;
    }
    if (!(opts->exposure_max > 0 && opts->exposure_max <= 1) || opts->difficulty_tolerance < 0) {
        jk_error_set(err, JK_ERR_RANGE,
                     "paper builder: exposure_max must be in (0, 1] and the tolerance >= 0");
        return NULL;
    }
    const jk_standard_t *std = jk_bank_standard(b);
    jk_paper_builder_t *pb = calloc(1, sizeof *pb);
    size_t nitems = jk_bank_item_count(b);
    if (!pb || !(pb->exposure = calloc(nitems + 1, sizeof *pb->exposure))) {
        free(pb);
        jk_error_set(err, JK_ERR_NOMEM, "paper builder: out of memory");
        return NULL;
    }
    pb->bank = b;
    pb->bp = *bp;
    pb->opts = *opts;
    pb->cap = UINT32_MAX;
    if (opts->planned_papers > 0) {
        double c = ceil(opts->exposure_max * (double)opts->planned_papers - 1e-9);
        pb->cap = c < 1 ? 1 : (c > UINT32_MAX ? UINT32_MAX : (uint32_t)c);
    }

    /* Cells and their pools. Items of the blueprint's level or a lower one
     * (a numerically greater or equal level) may be used. */
    double dsum = 0;
    for (int a = 0; a < JK_AREA_COUNT; a++) {
        for (int t = 0; t < JK_ITEM__COUNT; t++) {
            if (bp->cells[a][t] <= 0)
                continue;
            s_cell_t *c = &pb->cells[pb->n_cells++];
            c->area = a;
            c->type = (jk_item_type_t)t;
            c->need = bp->cells[a][t];
            size_t n = 0;
            for (size_t i = 0; i < nitems; i++) {
                const jk_item_t *it = jk_bank_item(b, i);
                if (it->area == a && it->type == (jk_item_type_t)t && it->level >= bp->level &&
                    it->points_centi == bp->points_centi[t])
                    n++;
            }
            c->pool = malloc((n ? n : 1) * sizeof *c->pool);
            if (!c->pool) {
                jk_error_set(err, JK_ERR_NOMEM, "paper builder: out of memory");
                jk_paper_builder_destroy(&pb);
                return NULL;
            }
            double cd = 0;
            for (size_t i = 0; i < nitems; i++) {
                const jk_item_t *it = jk_bank_item(b, i);
                if (it->area == a && it->type == (jk_item_type_t)t && it->level >= bp->level &&
                    it->points_centi == bp->points_centi[t]) {
                    c->pool[c->n_pool++] = (uint32_t)i;
                    cd += it->difficulty;
                }
            }
            c->active = c->n_pool;
            const jk_area_t *ar = jk_standard_area(std, a);
            if (c->n_pool < (uint32_t)c->need) {
                jk_error_set(err, JK_ERR_SHORTAGE,
                             "level %d, area %s (%s), type %s (%s, %.2f points): the paper needs "
                             "%d items, the bank has %u usable: %u missing",
                             bp->level, ar->id, ar->name, jk_item_type_name(c->type),
                             jk_item_type_label(c->type), bp->points_centi[t] / 100.0, c->need,
                             c->n_pool, (unsigned)c->need - c->n_pool);
                jk_paper_builder_destroy(&pb);
                return NULL;
            }
            if (pb->cap != UINT32_MAX) {
                /* Over the planned papers the cell uses need*N slots; each
                 * item can take at most cap of them. */
                uint64_t slots = (uint64_t)c->need * opts->planned_papers;
                uint64_t items_needed = (slots + pb->cap - 1) / pb->cap;
                if (items_needed > c->n_pool) {
                    jk_error_set(err, JK_ERR_SHORTAGE,
                                 "level %d, area %s (%s), type %s (%s): with no item on more than "
                                 "%.0f%% of %zu papers the cell needs %llu items, the bank has "
                                 "%u usable: %llu missing",
                                 bp->level, ar->id, ar->name, jk_item_type_name(c->type),
                                 jk_item_type_label(c->type), opts->exposure_max * 100,
                                 opts->planned_papers, (unsigned long long)items_needed, c->n_pool,
                                 (unsigned long long)(items_needed - c->n_pool));
                    jk_paper_builder_destroy(&pb);
                    return NULL;
                }
            }
            dsum += c->need * (cd / c->n_pool);
        }
    }
    pb->target = opts->difficulty_target >= 0 ? opts->difficulty_target : dsum / bp->n_items;
    pb->seen_cap = 1024;
    pb->seen = calloc(pb->seen_cap, sizeof *pb->seen);
    if (!pb->seen) {
        jk_error_set(err, JK_ERR_NOMEM, "paper builder: out of memory");
        jk_paper_builder_destroy(&pb);
        return NULL;
    }
    return pb;
}

size_t jk_paper_builder_count(const jk_paper_builder_t *pb) { return pb->built; }
uint32_t jk_paper_builder_max_exposure(const jk_paper_builder_t *pb) { return pb->max_exposure; }
double jk_paper_builder_target(const jk_paper_builder_t *pb) { return pb->target; }

/* Selection digest set. Returns true if d was already present. */
static bool s_seen_has(const jk_paper_builder_t *pb, uint64_t d)
{
    size_t m = pb->seen_cap - 1;
    for (size_t j = d & m; pb->seen[j]; j = (j + 1) & m)
        if (pb->seen[j] == d)
            return true;
    return false;
}

static int s_seen_add(jk_paper_builder_t *pb, uint64_t d)
{
    if ((pb->seen_count + 1) * 2 > pb->seen_cap) {
        size_t nc = pb->seen_cap * 2;
        uint64_t *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < pb->seen_cap; i++) {
            uint64_t v = pb->seen[i];
            if (!v)
                continue;
            size_t j = v & (nc - 1);
            while (ns[j])
                j = (j + 1) & (nc - 1);
            ns[j] = v;
        }
        free(pb->seen);
        pb->seen = ns;
        pb->seen_cap = nc;
    }
    size_t m = pb->seen_cap - 1, j = d & m;
    while (pb->seen[j])
        j = (j + 1) & m;
    pb->seen[j] = d;
    pb->seen_count++;
    return 0;
}

static uint32_t s_shuffle_options(jk_rand_t *r, unsigned n)
{
    uint8_t idx[JK_MAX_OPTIONS];
    for (unsigned i = 0; i < n; i++)
        idx[i] = (uint8_t)i;
    for (unsigned i = n - 1; n > 1 && i > 0; i--) {
        unsigned j = (unsigned)jk_rand_below(r, i + 1);
        uint8_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    uint32_t perm = 0;
    for (unsigned i = 0; i < n; i++)
        perm |= (uint32_t)idx[i] << (4 * i);
    return perm;
}

jk_err_t jk_paper_build(jk_paper_builder_t *pb, const char *candidate_id, jk_theory_paper_t *out,
                        jk_error_t *err)
{
    const jk_bank_t *b = pb->bank;
    jk_rand_t rng;
    jk_rand_seed_str(&rng, pb->opts.seed, candidate_id);
    for (int i = 0; i < pb->n_cells; i++) {
        s_cell_t *c = &pb->cells[i];
        if (c->active < (uint32_t)c->need) {
            const jk_area_t *ar = jk_standard_area(jk_bank_standard(b), c->area);
            return jk_error_set(err, JK_ERR_SHORTAGE,
                                "candidate %s: level %d, area %s, type %s: exposure caps leave %u "
                                "items for %d places (more papers than planned?)",
                                candidate_id, pb->bp.level, ar->id, jk_item_type_name(c->type),
                                c->active, c->need);
        }
    }

    uint64_t set_digest = 0;
    double dsum = 0;
    int tries = 0;
    for (;;) {
        /* Draw every cell. */
        dsum = 0;
        for (int i = 0; i < pb->n_cells; i++) {
            s_cell_t *c = &pb->cells[i];
            for (int k = 0; k < c->need; k++) {
                uint32_t j = (uint32_t)k + (uint32_t)jk_rand_below(&rng, c->active - (uint32_t)k);
                uint32_t t = c->pool[k];
                c->pool[k] = c->pool[j];
                c->pool[j] = t;
                dsum += jk_bank_item(b, c->pool[k])->difficulty;
            }
        }
        /* Parallel forms: swap within cells until the mean is in tolerance. */
        double n = pb->bp.n_items;
        double tol = pb->opts.difficulty_tolerance;
        for (int s = 0; s < pb->opts.max_repair_swaps && fabs(dsum / n - pb->target) > tol; s++) {
            s_cell_t *c = &pb->cells[jk_rand_below(&rng, (uint64_t)pb->n_cells)];
            if (c->active <= (uint32_t)c->need)
                continue;
            uint32_t in = (uint32_t)jk_rand_below(&rng, (uint64_t)c->need);
            uint32_t outp = (uint32_t)c->need +
                            (uint32_t)jk_rand_below(&rng, c->active - (uint32_t)c->need);
            double d_in = jk_bank_item(b, c->pool[in])->difficulty;
            double d_out = jk_bank_item(b, c->pool[outp])->difficulty;
            double ns = dsum - d_in + d_out;
            if (fabs(ns / n - pb->target) < fabs(dsum / n - pb->target)) {
                uint32_t t = c->pool[in];
                c->pool[in] = c->pool[outp];
                c->pool[outp] = t;
                dsum = ns;
            }
        }
        if (fabs(dsum / n - pb->target) > tol)
            return jk_error_set(err, JK_ERR_RANGE,
                                "candidate %s: mean difficulty %.3f can't be brought within %.3f "
                                "of the target %.3f with this bank",
                                candidate_id, dsum / n, tol, pb->target);
        /* Distinct selection: order-independent digest of the item set. */
        set_digest = 0;
        for (int i = 0; i < pb->n_cells; i++)
            for (int k = 0; k < pb->cells[i].need; k++)
                set_digest += s_mix(pb->cells[i].pool[k] + 1);
        if (set_digest == 0)
            set_digest = 1;
        if (!s_seen_has(pb, set_digest))
            break;
        if (++tries >= S_DISTINCT_TRIES)
            return jk_error_set(err, JK_ERR_DUP,
                                "candidate %s: no paper distinct from the %zu built so far after "
                                "%d draws; the bank is too small for this many papers",
                                candidate_id, pb->built, tries);
    }
    if (s_seen_add(pb, set_digest) < 0)
        return jk_error_set(err, JK_ERR_NOMEM, "paper builder: out of memory");

    /* Lay out by section, shuffled within each; shuffle options. */
    out->level = pb->bp.level;
    out->n = 0;
    static const jk_item_type_t sections[JK_ITEM__COUNT] = { JK_ITEM_JUDGE, JK_ITEM_SINGLE,
                                                              JK_ITEM_MULTI };
    for (int s = 0; s < JK_ITEM__COUNT; s++) {
        uint32_t start = out->n;
        for (int i = 0; i < pb->n_cells; i++) {
            s_cell_t *c = &pb->cells[i];
            if (c->type != sections[s])
                continue;
            for (int k = 0; k < c->need; k++)
                out->entries[out->n++].item = c->pool[k];
        }
        uint32_t cnt = out->n - start;
        for (uint32_t i = cnt; i > 1; i--) {
            uint32_t j = (uint32_t)jk_rand_below(&rng, i);
            uint32_t t = out->entries[start + i - 1].item;
            out->entries[start + i - 1].item = out->entries[start + j].item;
            out->entries[start + j].item = t;
        }
    }
    uint64_t digest = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < out->n; i++) {
        const jk_item_t *it = jk_bank_item(b, out->entries[i].item);
        out->entries[i].perm = it->n_options ? s_shuffle_options(&rng, it->n_options) : 0;
        digest = s_mix(digest ^ ((uint64_t)out->entries[i].item << 32 | out->entries[i].perm));
    }
    out->digest = digest;
    out->mean_difficulty = (float)(dsum / pb->bp.n_items);

    /* Exposure bookkeeping: count, and retire items that reached the cap. */
    for (int i = 0; i < pb->n_cells; i++) {
        s_cell_t *c = &pb->cells[i];
        for (int k = c->need - 1; k >= 0; k--) {
            uint32_t item = c->pool[k];
            uint32_t e = ++pb->exposure[item];
            if (e > pb->max_exposure)
                pb->max_exposure = e;
            if (e >= pb->cap) {
                c->pool[k] = c->pool[c->active - 1];
                c->pool[c->active - 1] = item;
                c->active--;
            }
        }
    }
    pb->built++;
    return JK_OK;
}

uint32_t jk_paper_unshuffle(const jk_item_t *it, uint32_t perm, uint32_t shown_mask)
{
    if (it->type == JK_ITEM_JUDGE)
        return shown_mask;
    uint32_t m = 0;
    for (unsigned pos = 0; pos < it->n_options; pos++)
        if (shown_mask & (1u << pos))
            m |= 1u << jk_paper_perm_at(perm, pos);
    return m;
}

/* ---- skills ---- */

typedef struct {
    const uint32_t *tasks; /* candidate task indexes of the area */
    const int32_t *pts;
    size_t n;
    int32_t target;
    uint64_t *sols;   /* bit sets of solutions */
    size_t n_sols, max_sols;
} s_subset_t;

static void s_subsets(s_subset_t *s, size_t i, int32_t sum, uint64_t set)
{
    if (s->n_sols >= s->max_sols)
        return;
    if (sum == s->target) {
        s->sols[s->n_sols++] = set;
        return;
    }
    if (i >= s->n || sum > s->target)
        return;
    s_subsets(s, i + 1, sum + s->pts[i], set | (1ULL << i));
    s_subsets(s, i + 1, sum, set);
}

jk_err_t jk_paper_build_skills(const jk_bank_t *b, const jk_blueprint_t *bp, uint64_t seed,
                               const char *candidate_id, jk_skills_paper_t *out, jk_error_t *err)
{
    const jk_standard_t *std = jk_bank_standard(b);
    jk_rand_t rng;
    jk_rand_seed_str(&rng, seed ^ 0x5a5a5a5aULL, candidate_id);
    memset(out, 0, sizeof *out);
    out->level = bp->level;
    int areas[JK_AREA_COUNT];
    size_t na = jk_standard_exam_areas(std, JK_EXAM_SKILLS, areas, JK_AREA_COUNT);
    uint32_t cand[64];
    int32_t pts[64];
    uint64_t sols[256];
    for (size_t ai = 0; ai < na; ai++) {
        int a = areas[ai];
        size_t n = 0;
        for (size_t t = 0; t < jk_bank_task_count(b) && n < 64; t++) {
            const jk_task_t *tk = jk_bank_task(b, t);
            if (tk->area == a && tk->level >= bp->level && !tk->synthetic == !jk_bank_is_synthetic(b)) {
                cand[n] = (uint32_t)t;
                pts[n++] = tk->points_centi;
            }
        }
        s_subset_t s = { cand, pts, n, bp->area_centi[a], sols, 0, sizeof sols / sizeof sols[0] };
        s_subsets(&s, 0, 0, 0);
        const jk_area_t *ar = jk_standard_area(std, a);
        if (s.n_sols == 0)
            return jk_error_set(err, JK_ERR_SHORTAGE,
                                "level %d, skills area %s (%s): no set of the %zu usable tasks "
                                "adds up to %.0f points",
                                bp->level, ar->id, ar->name, n, bp->area_centi[a] / 100.0);
        uint64_t set = s.sols[jk_rand_below(&rng, s.n_sols)];
        for (size_t i = 0; i < n; i++) {
            if (!(set & (1ULL << i)))
                continue;
            if (out->n >= JK_PAPER_MAX_TASKS)
                return jk_error_set(err, JK_ERR_TOO_BIG, "skills paper: more than %d tasks",
                                    JK_PAPER_MAX_TASKS);
            out->tasks[out->n++] = cand[i];
            out->minutes += jk_bank_task(b, cand[i])->minutes;
        }
    }
    return JK_OK;
}

/* ---- checking ---- */

jk_err_t jk_paper_check(const jk_bank_t *b, const jk_blueprint_t *bp, const jk_theory_paper_t *p,
                        jk_error_t *err)
{
    const jk_standard_t *std = jk_bank_standard(b);
    int cells[JK_AREA_COUNT][JK_ITEM__COUNT];
    int32_t area_pts[JK_AREA_COUNT];
    memset(cells, 0, sizeof cells);
    memset(area_pts, 0, sizeof area_pts);
    if ((int)p->n != bp->n_items)
        return jk_error_set(err, JK_ERR_INVAL, "paper has %u items, the blueprint %d", p->n,
                            bp->n_items);
    for (uint32_t i = 0; i < p->n; i++) {
        const jk_item_t *it = jk_bank_item(b, p->entries[i].item);
        if (!it)
            return jk_error_set(err, JK_ERR_NOTFOUND, "entry %u: no such item", i);
        if (it->level < bp->level)
            return jk_error_set(err, JK_ERR_RANGE, "entry %u (%s): a level-%d item on a level-%d paper",
                                i, it->id, it->level, bp->level);
        for (uint32_t j = 0; j < i; j++)
            if (p->entries[j].item == p->entries[i].item)
                return jk_error_set(err, JK_ERR_DUP, "entry %u (%s): repeats entry %u", i, it->id, j);
        unsigned seen = 0;
        for (unsigned k = 0; k < it->n_options; k++)
            seen |= 1u << jk_paper_perm_at(p->entries[i].perm, k);
        if (it->n_options && seen != (1u << it->n_options) - 1)
            return jk_error_set(err, JK_ERR_INVAL, "entry %u (%s): option order is not a permutation",
                                i, it->id);
        cells[it->area][it->type]++;
        area_pts[it->area] += it->points_centi;
    }
    for (int a = 0; a < JK_AREA_COUNT; a++) {
        for (int t = 0; t < JK_ITEM__COUNT; t++)
            if (cells[a][t] != bp->cells[a][t])
                return jk_error_set(err, JK_ERR_INVAL, "area %s, type %s: %d items, the blueprint says %d",
                                    jk_standard_area(std, a)->id, jk_item_type_name((jk_item_type_t)t),
                                    cells[a][t], bp->cells[a][t]);
        if (area_pts[a] != bp->area_centi[a])
            return jk_error_set(err, JK_ERR_INVAL, "area %s: %.2f points, the weight table says %.2f",
                                jk_standard_area(std, a)->id, area_pts[a] / 100.0,
                                bp->area_centi[a] / 100.0);
    }
    return JK_OK;
}
