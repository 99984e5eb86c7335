/*
 * jkadmin bank check|stats|generate: validate item banks, count what they
 * hold per level × area × type (and whether each level's theory blueprint
 * can be filled, and how many times over), and generate synthetic banks for
 * load tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "jk_bank.h"
#include "jk_blueprint.h"
#include "jk_standard.h"
#include "jk_qti.h"

#include <libxml/parser.h>
#include <sys/stat.h>

/* Loads the standard and every bank path given; prints every error. */
static int s_load(int argc, char **argv, jk_standard_t **std, jk_bank_t **bank, int *consumed)
{
    jk_error_t err;
    const char *stdpath = NULL;
    int i = 0;
    if (i + 1 < argc && strcmp(argv[i], "--standard") == 0) {
        stdpath = argv[i + 1];
        i += 2;
    }
    *std = stdpath ? jk_standard_load(stdpath, &err) : jk_standard_load_default(&err);
    if (!*std) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    *bank = jk_bank_new(*std);
    if (!*bank) {
        admin__fail("out of memory");
        return ADMIN_FAIL;
    }
    jk_diag_t diag;
    jk_diag_init(&diag, jk_diag_print, stderr, 200);
    int paths = 0;
    jk_err_t first = JK_OK;
    for (; i < argc && argv[i][0] != '-'; i++, paths++) {
        jk_err_t rc = jk_bank_load_path(*bank, argv[i], &diag, &err);
        if (rc != JK_OK && first == JK_OK)
            first = rc;
    }
    *consumed = i;
    if (paths == 0) {
        jk_err_t rc = jk_bank_load_path(*bank, JK_DATA_DIR "/bank", &diag, &err);
        if (rc != JK_OK)
            first = rc;
    }
    if (diag.suppressed)
        fprintf(stderr, "... and %zu more errors\n", diag.suppressed);
    if (first != JK_OK) {
        admin__fail("bank: %zu errors", diag.errors);
        return admin__exit_code(first);
    }
    return ADMIN_OK;
}

int admin__bank_check(int argc, char **argv)
{
    jk_standard_t *std = NULL;
    jk_bank_t *bank = NULL;
    int used;
    int rc = s_load(argc, argv, &std, &bank, &used);
    if (rc == ADMIN_OK) {
        if (used < argc) {
            admin__fail("unexpected argument '%s'", argv[used]);
            rc = ADMIN_USAGE;
        } else {
            printf("bank: %zu theory items, %zu skills tasks, ok%s\n", jk_bank_item_count(bank),
                   jk_bank_task_count(bank), jk_bank_is_synthetic(bank) ? " (synthetic)" : "");
        }
    }
    jk_bank_destroy(&bank);
    jk_standard_destroy(&std);
    return rc;
}

int admin__bank_stats(int argc, char **argv)
{
    jk_standard_t *std = NULL;
    jk_bank_t *bank = NULL;
    int used;
    int rc = s_load(argc, argv, &std, &bank, &used);
    if (rc != ADMIN_OK)
        goto out;
    printf("bank: %zu theory items, %zu skills tasks\n", jk_bank_item_count(bank),
           jk_bank_task_count(bank));
    int areas[JK_AREA_COUNT];
    size_t na = jk_standard_exam_areas(std, JK_EXAM_THEORY, areas, JK_AREA_COUNT);
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        size_t own[JK_AREA_COUNT][JK_ITEM__COUNT], usable[JK_AREA_COUNT][JK_ITEM__COUNT];
        memset(own, 0, sizeof own);
        for (size_t i = 0; i < jk_bank_item_count(bank); i++) {
            const jk_item_t *it = jk_bank_item(bank, i);
            if (it->level == lv && it->area >= 0)
                own[it->area][it->type]++;
        }
        jk_bank_counts(bank, lv, usable);
        jk_blueprint_t bp;
        jk_error_t err;
        bool have_bp = jk_blueprint_theory(std, lv, NULL, &bp, &err) == JK_OK;
        printf("\n%s: items written for this level / usable at it (own and lower levels)"
               " / needed by one paper\n", jk_standard_level_name(std, lv));
        printf("  %-10s %14s %14s %14s\n", "area", "judge", "single", "multi");
        double worst = 1e9;
        for (size_t k = 0; k < na; k++) {
            int a = areas[k];
            printf("  %-10s", jk_standard_area(std, a)->id);
            for (int t = 0; t < JK_ITEM__COUNT; t++) {
                int need = have_bp ? bp.cells[a][t] : 0;
                printf("  %4zu/%4zu/%3d", own[a][t], usable[a][t], need);
                if (need > 0 && (double)usable[a][t] / need < worst)
                    worst = (double)usable[a][t] / need;
            }
            printf("\n");
        }
        if (have_bp)
            printf("  the theory blueprint can be filled %.1f times over in its tightest cell\n",
                   worst);
    }
    size_t tasks[JK_LEVEL_COUNT][JK_AREA_COUNT];
    memset(tasks, 0, sizeof tasks);
    for (size_t i = 0; i < jk_bank_task_count(bank); i++) {
        const jk_task_t *t = jk_bank_task(bank, i);
        tasks[jk_level_index(t->level)][t->area]++;
    }
    printf("\nskills tasks written per level × area:\n");
    size_t ns = jk_standard_exam_areas(std, JK_EXAM_SKILLS, areas, JK_AREA_COUNT);
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        printf("  level %d:", jk_level_at(li));
        for (size_t k = 0; k < ns; k++)
            printf(" %s %zu", jk_standard_area(std, areas[k])->id, tasks[li][areas[k]]);
        printf("\n");
    }
out:
    jk_bank_destroy(&bank);
    jk_standard_destroy(&std);
    return rc;
}

int admin__bank_generate(int argc, char **argv)
{
    size_t n = 0;
    unsigned long long seed = 1;
    const char *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--items") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else {
            admin__fail("bank generate: unexpected argument '%s'", argv[i]);
            return ADMIN_USAGE;
        }
    }
    if (n == 0 || n > 10000000 || !out) {
        admin__fail("bank generate: needs --items N (1..10000000) and --out FILE");
        return ADMIN_USAGE;
    }
    jk_error_t err;
    jk_standard_t *std = jk_standard_load_default(&err);
    if (!std) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    jk_bank_t *bank = jk_bank_new(std);
    int rc = ADMIN_OK;
    FILE *f = NULL;
    if (!bank || jk_bank_generate(bank, n, seed, &err) != JK_OK) {
        admin__fail("bank generate: %s", bank ? err.msg : "out of memory");
        rc = ADMIN_FAIL;
    } else if (!(f = fopen(out, "w"))) {
        admin__fail("bank generate: cannot write %s", out);
        rc = ADMIN_FAIL;
    } else if (jk_bank_write_json(bank, "synthetic", "合成题库（负载测试）", f, &err) != JK_OK) {
        admin__fail("bank generate: %s: %s", out, err.msg);
        rc = ADMIN_FAIL;
    } else {
        printf("bank generate: %zu synthetic items written to %s\n", jk_bank_item_count(bank), out);
    }
    if (f && fclose(f) != 0 && rc == ADMIN_OK) {
        admin__fail("bank generate: error writing %s", out);
        rc = ADMIN_FAIL;
    }
    jk_bank_destroy(&bank);
    jk_standard_destroy(&std);
    return rc;
}

/* bank import: JSON bank files and QTI items or packages into one JSON
 * bank. Every problem is reported; items that can't be imported are named
 * and left out; the exit code says whether anything was left out. */
int admin__bank_import(int argc, char **argv)
{
    const char *out = NULL, *id = "imported";
    jk_qti_defaults_t d;
    jk_qti_defaults_init(&d);
    const char *paths[256];
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--out") == 0 && v) out = v, i++;
        else if (strcmp(k, "--id") == 0 && v) id = v, i++;
        else if (strcmp(k, "--level") == 0 && v) d.level = atoi(v), i++;
        else if (strcmp(k, "--ref") == 0 && v) d.ref = v, i++;
        else if (strcmp(k, "--basis") == 0 && v) d.basis = v, i++;
        else if (k[0] == '-') {
            admin__fail("bank import: unknown option '%s'", k);
            return ADMIN_USAGE;
        } else if (n < 256) {
            paths[n++] = k;
        } else {
            admin__fail("bank import: more than 256 paths; give a directory instead");
            return ADMIN_USAGE;
        }
    }
    if (!out || n == 0) {
        admin__fail("bank import: needs --out FILE and at least one PATH (bank JSON, QTI item, "
                    "imsmanifest.xml or a package directory)");
        return ADMIN_USAGE;
    }
    jk_error_t err;
    jk_standard_t *std = jk_standard_load_default(&err);
    if (!std) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    jk_bank_t *bank = jk_bank_new(std);
    jk_diag_t diag;
    jk_diag_init(&diag, jk_diag_print, stderr, 500);
    size_t left_out = 0;
    for (int i = 0; i < n; i++) {
        const char *p = paths[i];
        size_t l = strlen(p);
        struct stat st;
        bool is_dir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
        if (!is_dir && l > 5 && strcmp(p + l - 5, ".json") == 0) {
            if (jk_bank_load_file(bank, p, &diag, &err) != JK_OK)
                left_out++;
            continue;
        }
        jk_qti_stats_t qs;
        jk_err_t rc = is_dir ? jk_qti_import_package(bank, p, &d, &diag, &qs, &err)
                             : jk_qti_import_file(bank, p, &d, &diag, &qs, &err);
        if (rc != JK_OK && qs.read == 0)
            left_out++;
        left_out += qs.skipped;
        printf("%s: %zu items read, %zu imported, %zu skipped, %zu warnings\n", p, qs.read,
               qs.imported, qs.skipped, qs.warnings);
    }
    int rc = ADMIN_OK;
    FILE *f = fopen(out, "w");
    if (!f || jk_bank_write_json(bank, id, id, f, &err) != JK_OK) {
        admin__fail("cannot write %s", out);
        rc = ADMIN_FAIL;
    }
    if (f && fclose(f) != 0 && rc == ADMIN_OK) {
        admin__fail("error writing %s", out);
        rc = ADMIN_FAIL;
    }
    if (rc == ADMIN_OK) {
        printf("bank import: %zu items and %zu tasks written to %s", jk_bank_item_count(bank),
               jk_bank_task_count(bank), out);
        printf(left_out ? "; %zu inputs or items left out (see the errors above)\n" : "\n",
               left_out);
        if (left_out)
            rc = ADMIN_INVALID;
    }
    xmlCleanupParser();
    jk_bank_destroy(&bank);
    jk_standard_destroy(&std);
    return rc;
}
