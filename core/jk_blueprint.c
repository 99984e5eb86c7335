/* jk_blueprint: apportioning a paper template over the weight table; see
 * jk_blueprint.h for the rule. */
#include "jk_blueprint.h"

#include <string.h>

void jk_template_default(jk_template_t *t)
{
    memset(t, 0, sizeof *t);
    t->counts[JK_ITEM_JUDGE] = 20;
    t->counts[JK_ITEM_SINGLE] = 60;
    t->counts[JK_ITEM_MULTI] = 10;
    t->points_centi[JK_ITEM_JUDGE] = 100;
    t->points_centi[JK_ITEM_SINGLE] = 100;
    t->points_centi[JK_ITEM_MULTI] = 200;
    t->order[0] = JK_ITEM_MULTI;
    t->order[1] = JK_ITEM_JUDGE;
    t->order[2] = JK_ITEM_SINGLE;
    t->minutes = 90;
}

jk_err_t jk_template_check(const jk_standard_t *s, const jk_template_t *t, jk_error_t *err)
{
    int64_t total = 0;
    int seen = 0;
    for (int i = 0; i < JK_ITEM__COUNT; i++) {
        jk_item_type_t ty = t->order[i];
        if ((int)ty < 0 || ty >= JK_ITEM__COUNT || (seen & (1 << ty)))
            return jk_error_set(err, JK_ERR_INVAL, "template: order must list each item type once");
        seen |= 1 << ty;
        if (t->counts[i] < 0 || t->counts[i] > 1000)
            return jk_error_set(err, JK_ERR_RANGE, "template: %s count %d out of range 0..1000",
                                jk_item_type_name((jk_item_type_t)i), t->counts[i]);
        if (t->counts[i] > 0 && (t->points_centi[i] <= 0 || t->points_centi[i] > 10000))
            return jk_error_set(err, JK_ERR_RANGE, "template: %s points must be in (0, 100]",
                                jk_item_type_name((jk_item_type_t)i));
        total += (int64_t)t->counts[i] * t->points_centi[i];
    }
    const jk_exam_rule_t *rule = jk_standard_exam_rule(s, JK_EXAM_THEORY);
    if (total != (int64_t)rule->full_marks * 100)
        return jk_error_set(err, JK_ERR_INVAL, "template: items add up to %.2f points, not %d",
                            (double)total / 100.0, rule->full_marks);
    if (t->minutes < rule->min_minutes)
        return jk_error_set(err, JK_ERR_RANGE,
                            "template: %d minutes; the standard requires at least %d", t->minutes,
                            rule->min_minutes);
    return JK_OK;
}

jk_err_t jk_blueprint_theory(const jk_standard_t *s, int level, const jk_template_t *tpl,
                             jk_blueprint_t *out, jk_error_t *err)
{
    jk_template_t def;
    if (!tpl) {
        jk_template_default(&def);
        tpl = &def;
    }
    if (!jk_level_valid(level))
        return jk_error_set(err, JK_ERR_RANGE, "level %d is not 5, 4 or 3", level);
    jk_err_t rc = jk_template_check(s, tpl, err);
    if (rc != JK_OK)
        return rc;

    memset(out, 0, sizeof *out);
    out->level = level;
    out->exam = JK_EXAM_THEORY;
    out->minutes = tpl->minutes;
    memcpy(out->points_centi, tpl->points_centi, sizeof out->points_centi);

    int areas[JK_AREA_COUNT];
    size_t na = jk_standard_exam_areas(s, JK_EXAM_THEORY, areas, JK_AREA_COUNT);
    int32_t left[JK_AREA_COUNT] = { 0 };
    int32_t weight[JK_AREA_COUNT] = { 0 };
    int32_t wsum = 0;
    for (size_t i = 0; i < na; i++) {
        weight[i] = jk_standard_weight(s, JK_EXAM_THEORY, areas[i], level) * 100;
        left[i] = weight[i];
        out->area_centi[areas[i]] = weight[i];
        wsum += weight[i];
    }
    out->total_centi = wsum;

    /* Largest-remainder apportionment for every type but the last. */
    for (int oi = 0; oi < JK_ITEM__COUNT - 1; oi++) {
        jk_item_type_t ty = tpl->order[oi];
        int n = tpl->counts[ty];
        int32_t pts = tpl->points_centi[ty];
        int given = 0;
        int64_t rem[JK_AREA_COUNT];
        for (size_t i = 0; i < na; i++) {
            int64_t q = (int64_t)n * weight[i]; /* share * wsum */
            int c = (int)(q / wsum);
            if ((int64_t)c * pts > left[i])
                c = left[i] / pts;
            out->cells[areas[i]][ty] = c;
            rem[i] = q - (int64_t)c * wsum;
            given += c;
        }
        while (given < n) {
            int best = -1;
            for (size_t i = 0; i < na; i++) {
                if ((int64_t)(out->cells[areas[i]][ty] + 1) * pts > left[i])
                    continue;
                if (best < 0 || rem[i] > rem[best] ||
                    (rem[i] == rem[best] && weight[i] > weight[best]))
                    best = (int)i;
            }
            if (best < 0)
                return jk_error_set(err, JK_ERR_INVAL,
                                    "level %d: the template's %d %s items of %.2f points do not "
                                    "fit the areas' points",
                                    level, n, jk_item_type_name(ty), pts / 100.0);
            out->cells[areas[best]][ty]++;
            rem[best] -= wsum; /* taken: falls behind every other remainder */
            given++;
        }
        for (size_t i = 0; i < na; i++)
            left[i] -= out->cells[areas[i]][ty] * pts;
    }

    /* The absorbing type fills what is left, exactly. */
    jk_item_type_t last = tpl->order[JK_ITEM__COUNT - 1];
    int32_t lp = tpl->points_centi[last];
    int total_last = 0;
    for (size_t i = 0; i < na; i++) {
        if (left[i] % lp != 0)
            return jk_error_set(err, JK_ERR_INVAL,
                                "level %d: area '%s' has %.2f points left, which %s items of "
                                "%.2f points can't fill exactly",
                                level, jk_standard_area(s, areas[i])->id, left[i] / 100.0,
                                jk_item_type_name(last), lp / 100.0);
        out->cells[areas[i]][last] = left[i] / lp;
        total_last += left[i] / lp;
    }
    if (total_last != tpl->counts[last])
        return jk_error_set(err, JK_ERR_INVAL,
                            "level %d: the areas need %d %s items, the template has %d", level,
                            total_last, jk_item_type_name(last), tpl->counts[last]);
    for (int t = 0; t < JK_ITEM__COUNT; t++)
        out->n_items += tpl->counts[t];
    return JK_OK;
}

jk_err_t jk_blueprint_skills(const jk_standard_t *s, int level, int minutes,
                             jk_blueprint_t *out, jk_error_t *err)
{
    if (!jk_level_valid(level))
        return jk_error_set(err, JK_ERR_RANGE, "level %d is not 5, 4 or 3", level);
    const jk_exam_rule_t *rule = jk_standard_exam_rule(s, JK_EXAM_SKILLS);
    if (minutes <= 0)
        minutes = rule->min_minutes;
    if (minutes < rule->min_minutes)
        return jk_error_set(err, JK_ERR_RANGE, "skills exam: %d minutes; the standard requires at least %d",
                            minutes, rule->min_minutes);
    memset(out, 0, sizeof *out);
    out->level = level;
    out->exam = JK_EXAM_SKILLS;
    out->minutes = minutes;
    int areas[JK_AREA_COUNT];
    size_t na = jk_standard_exam_areas(s, JK_EXAM_SKILLS, areas, JK_AREA_COUNT);
    for (size_t i = 0; i < na; i++) {
        out->area_centi[areas[i]] = jk_standard_weight(s, JK_EXAM_SKILLS, areas[i], level) * 100;
        out->total_centi += out->area_centi[areas[i]];
    }
    return JK_OK;
}
