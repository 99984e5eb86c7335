/*
 * jkadmin standard check|show: load the standard, report what it holds, and
 * print each level's blueprint (area points for theory and skills).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "jk_standard.h"

static jk_standard_t *s_load(const char *path, jk_error_t *err)
{
    return path ? jk_standard_load(path, err) : jk_standard_load_default(err);
}

/* Parses "[FILE] [--level N]"; returns ADMIN_OK or ADMIN_USAGE. */
static int s_args(int argc, char **argv, const char **path, int *level)
{
    *path = NULL;
    *level = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--level") == 0 && i + 1 < argc) {
            *level = atoi(argv[++i]);
            if (!jk_level_valid(*level)) {
                admin__fail("--level: '%s' is not a level (5, 4 or 3)", argv[i]);
                return ADMIN_USAGE;
            }
        } else if (argv[i][0] == '-') {
            admin__fail("unknown option '%s'", argv[i]);
            return ADMIN_USAGE;
        } else if (!*path) {
            *path = argv[i];
        } else {
            admin__fail("unexpected argument '%s'", argv[i]);
            return ADMIN_USAGE;
        }
    }
    return ADMIN_OK;
}

int admin__standard_check(int argc, char **argv)
{
    const char *path;
    int level;
    int rc = s_args(argc, argv, &path, &level);
    if (rc != ADMIN_OK)
        return rc;
    jk_error_t err;
    jk_standard_t *s = s_load(path, &err);
    if (!s) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    printf("standard: %s %s (%s), ok\n", jk_standard_occupation_code(s),
           jk_standard_occupation_name(s), jk_standard_edition(s));
    size_t marked = 0;
    for (size_t i = 0; i < jk_standard_requirement_count(s); i++)
        if (jk_standard_requirement(s, i)->marks)
            marked++;
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        jk_level_counts_t c;
        jk_standard_counts(s, lv, &c);
        printf("  %-12s functions %zu, work contents %zu, skills %zu, knowledge %zu, "
               "eligibility alternatives %zu, training %d h\n",
               jk_standard_level_name(s, lv), c.functions, c.contents, c.skills, c.knowledge,
               jk_standard_alternative_count(s, lv), jk_standard_training_hours(s, lv));
    }
    printf("  requirements %zu (%zu marked as printed misprints or suspect text)\n",
           jk_standard_requirement_count(s), marked);
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        for (size_t i = 0; i < jk_standard_content_count(s, lv); i++) {
            const jk_content_t *ct = jk_standard_content(s, lv, i);
            if (ct->marks & JK_MARK_GAP)
                printf("  gap: level %d %s %s: %s\n", lv, ct->code, ct->name,
                       ct->note ? ct->note : "");
        }
    }
    for (size_t i = 0; i < jk_standard_requirement_count(s); i++) {
        const jk_requirement_t *r = jk_standard_requirement(s, i);
        if (r->marks & (JK_MARK_MISPRINT | JK_MARK_SUSPECT))
            printf("  %s: %s (printed %s): %s\n",
                   (r->marks & JK_MARK_MISPRINT) ? "misprint" : "suspect", r->ref, r->code,
                   r->note ? r->note : "");
    }
    jk_standard_destroy(&s);
    return ADMIN_OK;
}

static void s_print_exam(const jk_standard_t *s, jk_exam_t exam, int level)
{
    const jk_exam_rule_t *rule = jk_standard_exam_rule(s, exam);
    const jk_staffing_t *st = jk_standard_staffing(s, exam);
    printf("  %s: >= %d min, %d points, pass >= %d; %s 1:%d, at least %d per room%s\n",
           rule->name, rule->min_minutes, rule->full_marks, rule->pass_mark, st->name,
           st->candidates_per_staff, st->min_per_room, st->odd ? ", an odd number" : "");
    int areas[JK_AREA_COUNT];
    size_t n = jk_standard_exam_areas(s, exam, areas, JK_AREA_COUNT);
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        const jk_area_t *a = jk_standard_area(s, areas[i]);
        int pts = jk_standard_weight(s, exam, areas[i], level);
        total += pts;
        printf("    %-10s %-24s %3d\n", a->id, a->name, pts);
    }
    printf("    %-10s %-24s %3d\n", "total", "合计", total);
}

int admin__standard_show(int argc, char **argv)
{
    const char *path;
    int level;
    int rc = s_args(argc, argv, &path, &level);
    if (rc != ADMIN_OK)
        return rc;
    jk_error_t err;
    jk_standard_t *s = s_load(path, &err);
    if (!s) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    printf("%s %s（%s年版）\n", jk_standard_occupation_code(s), jk_standard_occupation_name(s),
           jk_standard_edition(s));
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        if (level && lv != level)
            continue;
        printf("\n%s — blueprint (points per area)\n", jk_standard_level_name(s, lv));
        s_print_exam(s, JK_EXAM_THEORY, lv);
        s_print_exam(s, JK_EXAM_SKILLS, lv);
    }
    jk_standard_destroy(&s);
    return ADMIN_OK;
}
