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
 * Skills papers: the builder keeps each area's usable tasks and the fewest
 * of them that add up to the area's points (a table over sums, once). Per
 * candidate the area's tasks are shuffled and searched depth-first,
 * including a task before leaving it out, pruning on the points still
 * reachable; the first set found is taken. Leaving room for the fewest
 * tasks of the later areas keeps every area solvable within
 * JK_PAPER_MAX_TASKS.
 *
 * Rejected: solving each paper as an integer program (exact but ~1000x
 * slower, and random drawing with a repair step meets the tolerance in a
 * handful of swaps for realistic banks); recomputing pools per paper;
 * skills: listing many solutions in a fixed task order and picking one (the
 * list is dominated by the first tasks: with 30 equal tasks every one of the
 * first 256 sets of 3 holds task 0).
 */
#include "jk_paper.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jk_rand.h"
#include "jk_strmap.h"

#define S_DISTINCT_TRIES 32
#define S_SKILLS_MAX_STEPS 1000000L
#define S_SKILLS_SEED_SALT 0x5a5a5a5aULL

typedef struct {
    int area;
    jk_item_type_t type;
    int need;
    uint32_t *pool;
    uint32_t n_pool;
    uint32_t active;
} s_cell_t;

/* A skills area: its usable tasks (bank order) and their points. */
typedef struct {
    int area;
    int32_t target;   /* the area's points */
    uint32_t *tasks;
    int32_t *pts;
    size_t n;
    int min_tasks;    /* fewest tasks adding up to target */
} s_skills_area_t;

struct jk_paper_builder {
    const jk_bank_t *bank;
    jk_blueprint_t bp;
    jk_paper_opts_t opts;
    s_cell_t cells[JK_AREA_COUNT * JK_ITEM__COUNT];
    int n_cells;
    uint32_t *exposure; /* per bank item (skills: per bank task) */
    uint32_t cap;       /* exposure cap per item (UINT32_MAX = none) */
    uint32_t max_exposure;
    double target;
    /* Set of selection digests (open addressing, 0 = empty). */
    uint64_t *seen;
    size_t seen_cap, seen_count;
    size_t built;
    /* Skills builders. */
    s_skills_area_t sk[JK_AREA_COUNT];
    int n_sk;
    int sk_min_total;    /* sum of the areas' min_tasks */
    uint32_t *sk_order;  /* one area's tasks in the candidate's order */
    int32_t *sk_pts;     /* their points */
    int64_t *sk_reach;   /* sk_reach[i]: points of sk_pts[i..] */
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
    o->skills_max_steps = S_SKILLS_MAX_STEPS;
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
    for (int i = 0; i < pb->n_sk; i++) {
        free(pb->sk[i].tasks);
        free(pb->sk[i].pts);
    }
    free(pb->sk_order);
    free(pb->sk_pts);
    free(pb->sk_reach);
    free(pb->exposure);
    free(pb->seen);
    free(pb);
    *ppb = NULL;
}

static jk_paper_builder_t *s_skills_new(jk_paper_builder_t *pb, jk_error_t *err);

jk_paper_builder_t *jk_paper_builder_new(const jk_bank_t *b, const jk_blueprint_t *bp,
                                         const jk_paper_opts_t *opts, jk_error_t *err)
{
    if (bp->exam != JK_EXAM_SKILLS &&
        (bp->exam != JK_EXAM_THEORY || bp->n_items <= 0 || bp->n_items > JK_PAPER_MAX_ITEMS)) {
        jk_error_set(err, JK_ERR_INVAL,
                     "paper builder: not a skills blueprint nor a theory blueprint of 1..%d items",
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
    size_t nitems = bp->exam == JK_EXAM_SKILLS ? jk_bank_task_count(b) : jk_bank_item_count(b);
    if (!pb || !(pb->exposure = calloc(nitems + 1, sizeof *pb->exposure))) {
        free(pb);
        jk_error_set(err, JK_ERR_NOMEM, "paper builder: out of memory");
        return NULL;
    }
    pb->bank = b;
    pb->bp = *bp;
    pb->opts = *opts;
    if (pb->opts.skills_max_steps <= 0)
        pb->opts.skills_max_steps = S_SKILLS_MAX_STEPS;
    if (bp->exam == JK_EXAM_SKILLS)
        return s_skills_new(pb, err);
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
    if (pb->bp.exam != JK_EXAM_THEORY)
        return jk_error_set(err, JK_ERR_INVAL, "candidate %s: a skills paper builder builds no "
                            "theory paper", candidate_id);
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

/* The fewest of pts[0..n) adding up to target, or INT_MAX when none does. */
static int s_fewest(const int32_t *pts, size_t n, int32_t target, bool *nomem)
{
    if (target <= 0)
        return target == 0 ? 0 : INT_MAX;
    uint16_t *f = malloc(((size_t)target + 1) * sizeof *f);
    if (!f) {
        *nomem = true;
        return INT_MAX;
    }
    f[0] = 0;
    for (int32_t v = 1; v <= target; v++)
        f[v] = UINT16_MAX;
    for (size_t i = 0; i < n; i++) {
        int32_t p = pts[i];
        if (p <= 0 || p > target)
            continue;
        for (int32_t v = target; v >= p; v--)
            if (f[v - p] != UINT16_MAX && f[v - p] + 1 < f[v])
                f[v] = (uint16_t)(f[v - p] + 1);
    }
    int r = f[target] == UINT16_MAX ? INT_MAX : f[target];
    free(f);
    return r;
}

static jk_paper_builder_t *s_skills_new(jk_paper_builder_t *pb, jk_error_t *err)
{
    const jk_bank_t *b = pb->bank;
    const jk_blueprint_t *bp = &pb->bp;
    const jk_standard_t *std = jk_bank_standard(b);
    int areas[JK_AREA_COUNT];
    size_t na = jk_standard_exam_areas(std, JK_EXAM_SKILLS, areas, JK_AREA_COUNT);
    size_t nt = jk_bank_task_count(b), max_n = 0;
    bool synthetic = jk_bank_is_synthetic(b), nomem = false;
    for (size_t ai = 0; ai < na; ai++) {
        s_skills_area_t *sa = &pb->sk[pb->n_sk++];
        sa->area = areas[ai];
        sa->target = bp->area_centi[sa->area];
        const jk_area_t *ar = jk_standard_area(std, sa->area);
        size_t n = 0;
        for (size_t t = 0; t < nt; t++) {
            const jk_task_t *tk = jk_bank_task(b, t);
            n += tk->area == sa->area && tk->level >= bp->level && !tk->synthetic == !synthetic;
        }
        if (n > JK_PAPER_MAX_AREA_TASKS) {
            jk_error_set(err, JK_ERR_TOO_BIG,
                         "level %d, skills area %s (%s): %zu usable tasks, more than the %d a "
                         "paper builder takes",
                         bp->level, ar->id, ar->name, n, JK_PAPER_MAX_AREA_TASKS);
            goto fail;
        }
        sa->tasks = malloc((n ? n : 1) * sizeof *sa->tasks);
        sa->pts = malloc((n ? n : 1) * sizeof *sa->pts);
        if (!sa->tasks || !sa->pts)
            goto nomem;
        for (size_t t = 0; t < nt; t++) {
            const jk_task_t *tk = jk_bank_task(b, t);
            if (tk->area == sa->area && tk->level >= bp->level && !tk->synthetic == !synthetic) {
                sa->tasks[sa->n] = (uint32_t)t;
                sa->pts[sa->n++] = tk->points_centi;
            }
        }
        int f = s_fewest(sa->pts, sa->n, sa->target, &nomem);
        if (nomem)
            goto nomem;
        if (f == INT_MAX) {
            jk_error_set(err, JK_ERR_SHORTAGE,
                         "level %d, skills area %s (%s): no set of the %zu usable tasks adds up to "
                         "%.0f points",
                         bp->level, ar->id, ar->name, sa->n, sa->target / 100.0);
            goto fail;
        }
        sa->min_tasks = f;
        pb->sk_min_total += f;
        if (pb->sk_min_total > JK_PAPER_MAX_TASKS) {
            jk_error_set(err, JK_ERR_TOO_BIG,
                         "level %d: a skills paper needs at least %d tasks (to skills area %s), "
                         "more than %d",
                         bp->level, pb->sk_min_total, ar->id, JK_PAPER_MAX_TASKS);
            goto fail;
        }
        if (sa->n > max_n)
            max_n = sa->n;
    }
    pb->sk_order = malloc((max_n + 1) * sizeof *pb->sk_order);
    pb->sk_pts = malloc((max_n + 1) * sizeof *pb->sk_pts);
    pb->sk_reach = malloc((max_n + 1) * sizeof *pb->sk_reach);
    if (!pb->sk_order || !pb->sk_pts || !pb->sk_reach)
        goto nomem;
    return pb;
nomem:
    jk_error_set(err, JK_ERR_NOMEM, "paper builder: out of memory");
fail:
    jk_paper_builder_destroy(&pb);
    return NULL;
}

typedef struct {
    const int32_t *pts;    /* the area's tasks' points in search order */
    const int64_t *reach;  /* reach[i]: sum of pts[i..n) */
    size_t n;
    int32_t target;
    uint32_t pick[JK_PAPER_MAX_TASKS]; /* positions taken */
    size_t n_pick, max_pick;
    long steps, max_steps;
} s_search_t;

/* Depth-first from position i with sum taken so far (< target): 1 when a
 * set was completed in pick, 0 when none exists below, -1 when out of steps. */
static int s_search(s_search_t *s, size_t i, int32_t sum)
{
    for (size_t j = i; j < s->n; j++) {
        if (sum + s->reach[j] < s->target)
            return 0; /* the rest can't reach the target */
        if (++s->steps > s->max_steps)
            return -1;
        if (sum + s->pts[j] > s->target || s->n_pick >= s->max_pick)
            continue;
        s->pick[s->n_pick++] = (uint32_t)j;
        if (sum + s->pts[j] == s->target)
            return 1;
        int r = s_search(s, j + 1, sum + s->pts[j]);
        if (r != 0)
            return r;
        s->n_pick--;
    }
    return 0;
}

jk_err_t jk_paper_build_skills_with(jk_paper_builder_t *pb, const char *candidate_id,
                                    jk_skills_paper_t *out, jk_error_t *err)
{
    if (pb->bp.exam != JK_EXAM_SKILLS)
        return jk_error_set(err, JK_ERR_INVAL, "candidate %s: a theory paper builder builds no "
                            "skills paper", candidate_id);
    const jk_bank_t *b = pb->bank;
    const jk_standard_t *std = jk_bank_standard(b);
    jk_rand_t rng;
    jk_rand_seed_str(&rng, pb->opts.seed ^ S_SKILLS_SEED_SALT, candidate_id);
    memset(out, 0, sizeof *out);
    out->level = pb->bp.level;
    int later = pb->sk_min_total; /* fewest tasks the areas not yet done need */
    for (int ai = 0; ai < pb->n_sk; ai++) {
        const s_skills_area_t *sa = &pb->sk[ai];
        later -= sa->min_tasks;
        size_t n = sa->n;
        /* The candidate's order: a Fisher-Yates shuffle, points alongside. */
        memcpy(pb->sk_order, sa->tasks, n * sizeof *sa->tasks);
        memcpy(pb->sk_pts, sa->pts, n * sizeof *sa->pts);
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)jk_rand_below(&rng, i);
            uint32_t t = pb->sk_order[i - 1];
            pb->sk_order[i - 1] = pb->sk_order[j];
            pb->sk_order[j] = t;
            int32_t p = pb->sk_pts[i - 1];
            pb->sk_pts[i - 1] = pb->sk_pts[j];
            pb->sk_pts[j] = p;
        }
        pb->sk_reach[n] = 0;
        for (size_t i = n; i > 0; i--)
            pb->sk_reach[i - 1] = pb->sk_reach[i] + (pb->sk_pts[i - 1] > 0 ? pb->sk_pts[i - 1] : 0);
        s_search_t s = { .pts = pb->sk_pts, .reach = pb->sk_reach, .n = n, .target = sa->target,
                         .max_pick = (size_t)(JK_PAPER_MAX_TASKS - (int)out->n - later),
                         .max_steps = pb->opts.skills_max_steps };
        int r = sa->target == 0 ? 1 : s_search(&s, 0, 0);
        const jk_area_t *ar = jk_standard_area(std, sa->area);
        if (r < 0)
            return jk_error_set(err, JK_ERR_RANGE,
                                "candidate %s: level %d, skills area %s (%s): no set of the %zu "
                                "usable tasks adding up to %.0f points found in %ld steps; the "
                                "tasks' points make such sets rare",
                                candidate_id, pb->bp.level, ar->id, ar->name, n,
                                sa->target / 100.0, s.max_steps);
        if (r == 0) /* the builder found a set of min_tasks <= max_pick tasks */
            return jk_error_set(err, JK_ERR_INTERNAL,
                                "candidate %s: level %d, skills area %s: the search missed a set "
                                "of %d tasks",
                                candidate_id, pb->bp.level, ar->id, sa->min_tasks);
        /* The area's tasks in bank order. */
        uint32_t first = out->n;
        for (size_t k = 0; k < s.n_pick; k++) {
            uint32_t t = pb->sk_order[s.pick[k]], q = out->n++;
            for (; q > first && out->tasks[q - 1] > t; q--)
                out->tasks[q] = out->tasks[q - 1];
            out->tasks[q] = t;
            out->minutes += jk_bank_task(b, t)->minutes;
        }
    }
    for (uint32_t k = 0; k < out->n; k++) {
        uint32_t e = ++pb->exposure[out->tasks[k]];
        if (e > pb->max_exposure)
            pb->max_exposure = e;
    }
    pb->built++;
    return JK_OK;
}

jk_err_t jk_paper_build_skills(const jk_bank_t *b, const jk_blueprint_t *bp, uint64_t seed,
                               const char *candidate_id, jk_skills_paper_t *out, jk_error_t *err)
{
    jk_error_t local;
    if (!err)
        err = &local;
    if (bp->exam != JK_EXAM_SKILLS)
        return jk_error_set(err, JK_ERR_INVAL, "skills paper: not a skills blueprint");
    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    o.seed = seed;
    jk_paper_builder_t *pb = jk_paper_builder_new(b, bp, &o, err);
    if (!pb)
        return err->code;
    jk_err_t rc = jk_paper_build_skills_with(pb, candidate_id, out, err);
    jk_paper_builder_destroy(&pb);
    return rc;
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
