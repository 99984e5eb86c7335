/*
 * bench_papers: builds theory papers for N candidates (default 100,000) from
 * a synthetic bank (default 20,000 items) and prints papers/s and peak
 * memory, next to a ceiling measured in the same run: the rate of drawing
 * the same number of random items and option orders with no rule at all
 * (no blueprint, no exposure, no difficulty control, no distinctness). The
 * ratio says what the rules cost; absolute times wander on shared machines.
 *
 * Usage: bench_papers [--candidates N] [--items N] [--level 5|4|3] [--seed S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "jk_bank.h"
#include "jk_blueprint.h"
#include "jk_clock.h"
#include "jk_paper.h"
#include "jk_rand.h"
#include "jk_standard.h"

static long s_peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    size_t n_cand = 100000, n_items = 20000;
    int level = 5;
    uint64_t seed = 2026;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--candidates") == 0)
            n_cand = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--items") == 0)
            n_items = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--level") == 0)
            level = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_papers [--candidates N] [--items N] [--level L] [--seed S]\n");
            return 2;
        }
    }
    const jk_clock_t *clk = jk_clock_system();
    jk_error_t e;
    jk_standard_t *std = jk_standard_load_default(&e);
    if (!std) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    jk_bank_t *bank = jk_bank_new(std);
    int64_t t0 = jk_clock_mono_us(clk);
    if (jk_bank_generate(bank, n_items, seed, &e) != JK_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    int64_t t1 = jk_clock_mono_us(clk);
    printf("bank: %zu synthetic items generated in %.2f s\n", jk_bank_item_count(bank),
           (t1 - t0) / 1e6);

    jk_blueprint_t bp;
    if (jk_blueprint_theory(std, level, NULL, &bp, &e) != JK_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    long rss_before = s_peak_rss_kib();

    /* Papers are kept, compactly, as a sitting would keep them until they
     * are written into site packages. */
    jk_paper_entry_t *store = malloc(n_cand * (size_t)bp.n_items * sizeof *store);
    jk_theory_paper_t *p = malloc(sizeof *p);
    if (!store || !p) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* Ceiling: random draws only. */
    jk_rand_t rng;
    jk_rand_seed(&rng, seed);
    size_t nb = jk_bank_item_count(bank);
    int64_t c0 = jk_clock_mono_us(clk);
    uint64_t sink = 0;
    for (size_t c = 0; c < n_cand; c++) {
        jk_paper_entry_t *dst = store + c * (size_t)bp.n_items;
        for (int k = 0; k < bp.n_items; k++) {
            dst[k].item = (uint32_t)jk_rand_below(&rng, nb);
            uint32_t perm = 0;
            for (unsigned o = 0; o < 4; o++)
                perm |= (uint32_t)jk_rand_below(&rng, 4) << (4 * o);
            dst[k].perm = perm;
            sink += dst[k].item;
        }
    }
    int64_t c1 = jk_clock_mono_us(clk);
    double ceiling = n_cand / ((c1 - c0) / 1e6);

    jk_paper_opts_t o;
    jk_paper_opts_default(&o);
    o.seed = seed;
    o.planned_papers = n_cand;
    o.exposure_max = 0.2;
    jk_paper_builder_t *pb = jk_paper_builder_new(bank, &bp, &o, &e);
    if (!pb) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    int64_t b0 = jk_clock_mono_us(clk);
    int last_pct = -1;
    bool tty = isatty(2); /* the progress line only where it redraws */
    for (size_t c = 0; c < n_cand; c++) {
        char cand[32];
        snprintf(cand, sizeof cand, "2026-%07zu", c);
        if (jk_paper_build(pb, cand, p, &e) != JK_OK) {
            fprintf(stderr, "\npaper %zu: %s\n", c, e.msg);
            return 1;
        }
        memcpy(store + c * (size_t)bp.n_items, p->entries, (size_t)bp.n_items * sizeof *store);
        int pct = (int)(c * 100 / n_cand);
        if (tty && pct != last_pct && pct % 10 == 0) {
            fprintf(stderr, "\rbuilding papers: %3d%%", pct);
            last_pct = pct;
        }
    }
    int64_t b1 = jk_clock_mono_us(clk);
    if (tty)
        fprintf(stderr, "\rbuilding papers: 100%%\n");
    double rate = n_cand / ((b1 - b0) / 1e6);
    long rss = s_peak_rss_kib();

    printf("level %d blueprint: %d items per paper; exposure cap %.0f%% of %zu papers; "
           "difficulty target %.3f +/- %.3f\n",
           level, bp.n_items, o.exposure_max * 100, n_cand, jk_paper_builder_target(pb),
           o.difficulty_tolerance);
    printf("ceiling (random draws, no rules): %10.0f papers/s\n", ceiling);
    printf("papers built with every rule:     %10.0f papers/s  (%.1f%% of the ceiling)\n", rate,
           100.0 * rate / ceiling);
    printf("wall time for %zu papers: %.2f s; highest exposure of any item: %u papers\n", n_cand,
           (b1 - b0) / 1e6, jk_paper_builder_max_exposure(pb));
    printf("peak memory: %.1f MiB (%.1f MiB before papers); target >= 20000 papers/s, <= 1024 MiB\n",
           rss / 1024.0, rss_before / 1024.0);
    (void)sink;
    jk_paper_builder_destroy(&pb);
    free(p);
    free(store);
    jk_bank_destroy(&bank);
    jk_standard_destroy(&std);
    return 0;
}
