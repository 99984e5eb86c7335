/* jk_score: pure scoring rules; see jk_score.h. Integer centi-points only,
 * so results are exact and identical on every machine. */
#include "jk_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jk_date.h"
#include "jk_text.h"

void jk_score_rules_default(jk_score_rules_t *r)
{
    memset(r, 0, sizeof *r);
    r->multi = JK_MULTI_ALL_OR_NOTHING;
    r->partial_permille = 500;
    r->arbitration_permille = 200;
    r->min_examiners = 3;
    r->step_centi = 50;
    r->pass_mark = 60;
}

int32_t jk_score_item(const jk_item_t *it, jk_response_t r, const jk_score_rules_t *rules)
{
    if (!r.answered)
        return 0;
    switch (it->type) {
    case JK_ITEM_JUDGE:
        return (r.mask & 1u) == (it->key & 1u) && r.mask <= 1u ? it->points_centi : 0;
    case JK_ITEM_SINGLE:
        return r.mask == it->key ? it->points_centi : 0;
    case JK_ITEM_MULTI: {
        uint32_t valid = it->n_options >= 32 ? 0xFFFFFFFFu : (1u << it->n_options) - 1;
        if (r.mask & ~valid)
            return 0;
        if (r.mask == it->key)
            return it->points_centi;
        if (rules && rules->multi == JK_MULTI_PARTIAL && r.mask != 0 && (r.mask & ~it->key) == 0)
            return (int32_t)((int64_t)it->points_centi * rules->partial_permille / 1000);
        return 0;
    }
    default:
        return 0;
    }
}

bool jk_field_matches(const jk_field_t *f, const char *resp)
{
    if (!resp)
        return false;
    switch (f->kind) {
    case JK_FIELD_EXACT:
        return f->value && strcmp(resp, f->value) == 0;
    case JK_FIELD_TEXT:
        return f->value && jk_text_equal_normalized(resp, f->value);
    case JK_FIELD_NUMBER: {
        double x;
        if (!jk_text_parse_number(resp, &x))
            return false;
        /* A tiny epsilon so "0.1+0.2"-style binary noise never flips a
         * match at exactly the tolerance. */
        return fabs(x - f->number) <= f->tolerance + 1e-9;
    }
    case JK_FIELD_DATE: {
        jk_date_t d;
        return jk_date_parse_loose(resp, &d) && d == f->date;
    }
    case JK_FIELD_ONE_OF:
        for (size_t i = 0; i < f->n_values; i++)
            if (jk_text_equal_normalized(resp, f->values[i]))
                return true;
        return false;
    }
    return false;
}

int32_t jk_score_field(const jk_field_t *f, const char *resp)
{
    return jk_field_matches(f, resp) ? f->points_centi : 0;
}

int32_t jk_mean_round_half_up(int64_t sum, size_t n)
{
    if (n == 0)
        return 0;
    return (int32_t)((2 * sum + (int64_t)n) / (2 * (int64_t)n));
}

jk_err_t jk_score_panel(const int32_t *s, size_t n, int32_t max, const jk_score_rules_t *rules,
                        jk_panel_outcome_t *outcome, int32_t *score, jk_error_t *err)
{
    jk_score_rules_t def;
    if (!rules) {
        jk_score_rules_default(&def);
        rules = &def;
    }
    if (n < (size_t)rules->min_examiners || n % 2 == 0)
        return jk_error_set(err, JK_ERR_INVAL,
                            "panel of %zu examiners; the standard requires at least %d and an "
                            "odd number",
                            n, rules->min_examiners);
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0 || s[i] > max)
            return jk_error_set(err, JK_ERR_RANGE, "examiner %zu: %.2f is outside 0..%.2f", i + 1,
                                s[i] / 100.0, max / 100.0);
        if (rules->step_centi > 0 && s[i] % rules->step_centi != 0)
            return jk_error_set(err, JK_ERR_RANGE, "examiner %zu: %.2f is not a multiple of %.2f",
                                i + 1, s[i] / 100.0, rules->step_centi / 100.0);
        lo = s[i] < lo ? s[i] : lo;
        hi = s[i] > hi ? s[i] : hi;
        sum += s[i];
    }
    /* spread > threshold, compared exactly in integers:
     * (hi - lo) * 1000 > max * permille */
    if ((int64_t)(hi - lo) * 1000 > (int64_t)max * rules->arbitration_permille) {
        *outcome = JK_PANEL_ARBITRATION;
        *score = 0;
        return JK_OK;
    }
    *outcome = JK_PANEL_SCORED;
    *score = jk_mean_round_half_up(sum, n);
    return JK_OK;
}

void jk_score_theory(const jk_bank_t *b, const jk_theory_paper_t *p, const jk_response_t *responses,
                     const jk_score_rules_t *rules, jk_exam_score_t *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < p->n; i++) {
        const jk_item_t *it = jk_bank_item(b, p->entries[i].item);
        int32_t pts = jk_score_item(it, responses[i], rules);
        out->total_centi += pts;
        out->area_centi[it->area] += pts;
        out->max_area_centi[it->area] += it->points_centi;
        out->answered += responses[i].answered;
        out->correct += pts == it->points_centi;
    }
}

jk_err_t jk_score_skills(const jk_bank_t *b, const jk_skills_paper_t *p,
                         const jk_part_response_t *responses, size_t n_responses,
                         const jk_score_rules_t *rules, jk_exam_score_t *out, jk_error_t *err)
{
    memset(out, 0, sizeof *out);
    size_t r = 0;
    for (uint32_t ti = 0; ti < p->n; ti++) {
        const jk_task_t *t = jk_bank_task(b, p->tasks[ti]);
        for (size_t pi = 0; pi < t->n_parts; pi++, r++) {
            const jk_part_t *part = &t->parts[pi];
            out->max_area_centi[t->area] += part->points_centi;
            if (r >= n_responses) {
                out->pending = true;
                continue;
            }
            const jk_part_response_t *pr = &responses[r];
            int32_t pts = 0;
            if (t->type == JK_TASK_OPERATION) {
                for (size_t f = 0; f < part->n_fields; f++)
                    pts += jk_score_field(&part->fields[f], pr->fields ? pr->fields[f] : NULL);
            } else if (pr->arbitrated) {
                if (pr->arbitrated_centi < 0 || pr->arbitrated_centi > part->points_centi)
                    return jk_error_set(err, JK_ERR_RANGE,
                                        "task %s part %s: arbitrated score %.2f outside 0..%.2f",
                                        t->id, part->id, pr->arbitrated_centi / 100.0,
                                        part->points_centi / 100.0);
                pts = pr->arbitrated_centi;
            } else if (pr->n_panel == 0) {
                out->pending = true;
            } else {
                jk_panel_outcome_t oc;
                jk_err_t rc = jk_score_panel(pr->panel_centi, pr->n_panel, part->points_centi,
                                             rules, &oc, &pts, err);
                if (rc != JK_OK)
                    return jk_error_prefix(err, "task %s part %s: ", t->id, part->id);
                if (oc == JK_PANEL_ARBITRATION)
                    out->pending = true;
            }
            out->total_centi += pts;
            out->area_centi[t->area] += pts;
        }
    }
    return JK_OK;
}

void jk_score_result(const jk_exam_score_t *theory, const jk_exam_score_t *skills,
                     const jk_score_rules_t *rules, jk_result_t *out)
{
    int pass = rules ? rules->pass_mark : 60;
    out->theory = *theory;
    out->skills = *skills;
    out->theory_pass = theory->total_centi >= pass * 100;
    out->skills_pass = !skills->pending && skills->total_centi >= pass * 100;
    out->pass = out->theory_pass && out->skills_pass;
}
