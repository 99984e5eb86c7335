/*
 * jk_eligibility: evaluates 1.9.1 rule trees against an applicant's records;
 * see jk_eligibility.h for the reading of the rules.
 *
 * Design. A check first turns the work periods into "spans": for each of
 * the two scopes (this occupation; related, which includes this one) the
 * periods are cut at the evaluation date, sorted by start and joined where
 * they touch or overlap, so a rule only has to look for the best span. A
 * span is half-open, [start, x): x is the first day not worked (the day
 * after the last working day, or the evaluation date for ongoing work), so
 * "N months complete" is simply x >= jk_date_add_months(start, N), which
 * makes an ongoing period complete exactly on the completion day and an
 * ended period 2025-01-01..2025-06-30 six months long.
 *
 * Rules are then evaluated recursively; each node returns a verdict (met,
 * failed leaves, months short) and appends its explanation to a bounded
 * buffer. `any` evaluates each child into a scratch buffer and keeps the
 * explanation of the closest one. An `all` node passes its children a
 * context naming the `graduated` and `certificate` siblings, so a "since
 * graduation" node counts from a graduation of the right kind and a "since
 * certificate" node does not repeat "缺少五级/初级工证书" its sibling already
 * says.
 *
 * Everything is on the stack and bounded (JK_APPLICANT_MAX_WORK periods,
 * rule depth <= 8 as the standard's loader enforces); messages are cut at a
 * UTF-8 character boundary, never in the middle of one.
 */
#include "jk_eligibility.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define S_SEP "；"      /* between parts of one explanation */
#define S_ELLIPSIS "…" /* marks an explanation cut to fit */
#define S_FMT_BYTES (2 * JK_ELIG_REASON_BYTES) /* scratch for one formatted part */

/* ---- labels ---- */

const char *jk_education_label(jk_education_t e)
{
    switch (e) {
    case JK_EDU_NONE: return "无";
    case JK_EDU_HIGH_SCHOOL: return "高中";
    case JK_EDU_ASSOCIATE: return "大学专科";
    case JK_EDU_BACHELOR: return "大学本科";
    case JK_EDU_MASTER: return "硕士研究生";
    case JK_EDU_DOCTOR: return "博士研究生";
    }
    return "";
}

const char *jk_institution_label(unsigned one_bit)
{
    switch (one_bit) {
    case JK_INST_TECHNICAL_SCHOOL: return "技工院校";
    case JK_INST_VOCATIONAL_SCHOOL: return "职业院校";
    case JK_INST_TECHNICIAN_CLASS: return "技工院校技师班";
    case JK_INST_COLLEGE: return "大专及以上院校";
    }
    return "";
}

#define S_INST_ALL                                                                          \
    (JK_INST_TECHNICAL_SCHOOL | JK_INST_VOCATIONAL_SCHOOL | JK_INST_TECHNICIAN_CLASS |      \
     JK_INST_COLLEGE)

/* ---- bounded UTF-8 text buffer ---- */

typedef struct {
    char *p;
    size_t cap; /* bytes, including the NUL */
    size_t len; /* bytes */
    bool full;  /* cut: later text is dropped */
} s_buf_t;

static void s_buf_init(s_buf_t *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = cap == 0;
    if (cap)
        p[0] = '\0';
}

/* Backs n up to a character boundary of s (s[n] is not a continuation). */
static size_t s_boundary(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Appends n bytes of UTF-8; when they do not fit, keeps what fits at a
 * character boundary and ends the buffer with "…". */
static void s_buf_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (b->len + n < b->cap) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return;
    }
    size_t ell = strlen(S_ELLIPSIS);
    b->full = true;
    if (b->cap <= ell) { /* no room even for the mark: cut what is there */
        b->len = s_boundary(b->p, b->len < b->cap - 1 ? b->len : b->cap - 1);
        b->p[b->len] = '\0';
        return;
    }
    size_t limit = b->cap - 1 - ell; /* bytes of text before the mark */
    if (b->len > limit) {
        b->len = s_boundary(b->p, limit);
    } else {
        size_t take = s_boundary(s, limit - b->len);
        memcpy(b->p + b->len, s, take);
        b->len += take;
    }
    memcpy(b->p + b->len, S_ELLIPSIS, ell);
    b->len += ell;
    b->p[b->len] = '\0';
}

static void s_buf_vprintf(s_buf_t *b, const char *fmt, va_list ap)
{
    char tmp[S_FMT_BYTES];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : s_boundary(tmp, sizeof tmp - 1);
    s_buf_put(b, tmp, len);
}

static void s_buf_printf(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_buf_printf(s_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* Starts a new part of an explanation: a separator unless it is the first. */
static void s_buf_part(s_buf_t *b)
{
    if (b->len > 0)
        s_buf_put(b, S_SEP, strlen(S_SEP));
}

/* Writes the kinds of a JK_INST_* set joined by 或 ("技工院校或职业院校"). */
static void s_buf_kinds(s_buf_t *b, unsigned kinds)
{
    bool first = true;
    for (unsigned bit = 1; bit <= JK_INST_COLLEGE; bit <<= 1) {
        if (!(kinds & bit))
            continue;
        if (!first)
            s_buf_put(b, "或", strlen("或"));
        const char *l = jk_institution_label(bit);
        s_buf_put(b, l, strlen(l));
        first = false;
    }
}

/* ---- work spans ---- */

typedef struct {
    jk_date_t start; /* first day counted */
    jk_date_t x;     /* first day not worked; <= on */
    bool open;       /* the work goes on past the evaluation date */
} s_span_t;

enum { S_SCOPES = 2 }; /* indexed by jk_occupation_scope_t */

typedef struct {
    const jk_standard_t *s;
    const jk_applicant_t *a;
    jk_date_t on;
    s_span_t spans[S_SCOPES][JK_APPLICANT_MAX_WORK]; /* joined, sorted by start */
    size_t n_spans[S_SCOPES];
    size_t n_recorded[S_SCOPES]; /* periods on record in the scope, any date */
} s_env_t;

static void s_build_spans(s_env_t *env)
{
    const jk_applicant_t *a = env->a;
    for (int sc = 0; sc < S_SCOPES; sc++) {
        s_span_t *sp = env->spans[sc];
        size_t n = 0;
        env->n_recorded[sc] = 0;
        for (size_t i = 0; i < a->n_work; i++) {
            const jk_work_period_t *w = &a->work[i];
            /* "related" includes this occupation; "this" only itself. */
            if (sc == JK_OCC_THIS && w->scope != JK_OCC_THIS)
                continue;
            env->n_recorded[sc]++;
            if (w->start >= env->on) /* work after the date does not count */
                continue;
            s_span_t s = { .start = w->start };
            s.open = w->ongoing || w->end >= env->on;
            s.x = s.open ? env->on : w->end + 1;
            /* insertion sort by start: at most JK_APPLICANT_MAX_WORK items */
            size_t j = n++;
            while (j > 0 && sp[j - 1].start > s.start) {
                sp[j] = sp[j - 1];
                j--;
            }
            sp[j] = s;
        }
        /* Join spans that overlap or touch: the next one starts no later
         * than the day after the previous one's last day (= its x). */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (m > 0 && sp[i].start <= sp[m - 1].x) {
                if (sp[i].x > sp[m - 1].x)
                    sp[m - 1].x = sp[i].x;
                sp[m - 1].open = sp[m - 1].open || sp[i].open;
            } else {
                sp[m++] = sp[i];
            }
        }
        env->n_spans[sc] = m;
    }
}

/* Whole months from a to x: the largest k with add_months(a, k) <= x. */
static int s_full_months(jk_date_t a, jk_date_t x)
{
    if (x <= a)
        return 0;
    int ya, ma, da, yx, mx, dx;
    jk_date_to_ymd(a, &ya, &ma, &da);
    jk_date_to_ymd(x, &yx, &mx, &dx);
    int k = (yx - ya) * 12 + (mx - ma);
    if (k < 0)
        k = 0;
    while (k > 0 && jk_date_add_months(a, k) > x)
        k--;
    while (jk_date_add_months(a, k + 1) <= x)
        k++;
    return k;
}

/* ---- rule evaluation ---- */

typedef struct {
    unsigned grad_kinds; /* kinds a sibling `graduated` asks for; 0 = any */
    bool grad_named;     /* a sibling `graduated` explains a missing graduation */
    unsigned cert_named; /* bit 1 << level: a sibling `certificate` explains it */
} s_ctx_t;

typedef struct {
    bool met;
    int failed; /* failed leaves */
    int short_months; /* months missing, summed over failed work leaves */
} s_verdict_t;

static const s_verdict_t s_MET = { true, 0, 0 };

static s_verdict_t s_fail(int short_months)
{
    s_verdict_t v = { false, 1, short_months };
    return v;
}

static const char *s_level_name(const s_env_t *env, int level)
{
    const char *n = jk_standard_level_name(env->s, level);
    return n ? n : "";
}

static const char *s_scope_name(jk_occupation_scope_t sc)
{
    return sc == JK_OCC_THIS ? "本职业" : "相关职业";
}

/* True when the date counts on the evaluation date. */
static bool s_by(const s_env_t *env, jk_date_t d) { return d <= env->on; }

static s_verdict_t s_eval(const s_env_t *env, const s_ctx_t *ctx, const jk_rule_t *r,
                          s_buf_t *b, int depth);

static s_verdict_t s_eval_training(const s_env_t *env, const jk_rule_t *r, s_buf_t *b)
{
    const jk_training_t *t = &env->a->training[jk_level_index(r->level)];
    bool hours_ok = t->hours >= r->min_hours;
    bool cert_ok = !r->certificate || (t->certificate && s_by(env, t->certificate_date));
    if (hours_ok && cert_ok)
        return s_MET;
    char d1[11], d2[11];
    s_buf_part(b);
    s_buf_printf(b, "本职业%s预备培训满%d标准学时%s：", s_level_name(env, r->level),
                 r->min_hours, r->certificate ? "并取得结业证书" : "");
    if (t->hours <= 0 && !t->certificate) {
        s_buf_printf(b, "无培训记录");
        return s_fail(0);
    }
    if (!hours_ok)
        s_buf_printf(b, "现有%d标准学时", t->hours);
    if (!cert_ok) {
        if (!hours_ok)
            s_buf_printf(b, "，");
        if (!t->certificate)
            s_buf_printf(b, "未取得结业证书");
        else
            s_buf_printf(b, "结业证书日期%s在评定日%s之后",
                         jk_date_format(t->certificate_date, d1), jk_date_format(env->on, d2));
    }
    return s_fail(0);
}

static s_verdict_t s_eval_certificate(const s_env_t *env, const jk_rule_t *r, s_buf_t *b)
{
    const jk_level_certificate_t *c = &env->a->certificates[jk_level_index(r->level)];
    char d1[11], d2[11];
    if (c->held && s_by(env, c->date))
        return s_MET;
    s_buf_part(b);
    if (!c->held)
        s_buf_printf(b, "缺少%s证书", s_level_name(env, r->level));
    else
        s_buf_printf(b, "%s证书日期%s在评定日%s之后", s_level_name(env, r->level),
                     jk_date_format(c->date, d1), jk_date_format(env->on, d2));
    return s_fail(0);
}

static s_verdict_t s_eval_education(const s_env_t *env, const jk_rule_t *r, s_buf_t *b)
{
    const jk_applicant_t *a = env->a;
    bool level_ok = a->education >= r->min_education;
    if (level_ok && (!a->equivalent || r->equivalent_ok))
        return s_MET;
    s_buf_part(b);
    s_buf_printf(b, "具有%s及以上学历%s：", jk_education_label(r->min_education),
                 r->equivalent_ok ? "（含同等学力）" : "");
    if (!level_ok && a->education == JK_EDU_NONE)
        s_buf_printf(b, "未登记学历");
    else if (!level_ok)
        s_buf_printf(b, "现为%s%s", jk_education_label(a->education),
                     a->equivalent ? "（同等学力）" : "");
    else
        s_buf_printf(b, "现有%s为同等学力，不计", jk_education_label(a->education));
    return s_fail(0);
}

static s_verdict_t s_eval_graduated(const s_env_t *env, const jk_rule_t *r, s_buf_t *b)
{
    const jk_applicant_t *a = env->a;
    const jk_school_t *future = NULL, *student = NULL;
    for (size_t i = 0; i < a->n_schools; i++) {
        const jk_school_t *sc = &a->schools[i];
        if (!(sc->kind & r->institutions))
            continue;
        if (sc->status == JK_SCHOOL_GRADUATED && s_by(env, sc->graduated))
            return s_MET;
        if (sc->status == JK_SCHOOL_GRADUATED)
            future = sc;
        else
            student = sc;
    }
    char d1[11], d2[11];
    s_buf_part(b);
    s_buf_kinds(b, r->institutions);
    s_buf_printf(b, "毕业：");
    if (future)
        s_buf_printf(b, "%s毕业日期%s在评定日%s之后", jk_institution_label(future->kind),
                     jk_date_format(future->graduated, d1), jk_date_format(env->on, d2));
    else if (student)
        s_buf_printf(b, "%s尚未毕业", jk_institution_label(student->kind));
    else
        s_buf_printf(b, "无此类院校毕业记录");
    return s_fail(0);
}

static bool s_internship_school(const jk_rule_t *r, const jk_school_t *sc)
{
    if (r->institutions)
        return (sc->kind & r->institutions) != 0;
    if (sc->kind != JK_INST_COLLEGE)
        return false;
    jk_education_t prog = sc->programme == JK_EDU_NONE ? JK_EDU_ASSOCIATE : sc->programme;
    return prog >= r->min_education;
}

static s_verdict_t s_eval_internship(const s_env_t *env, const jk_rule_t *r, s_buf_t *b)
{
    const jk_applicant_t *a = env->a;
    const jk_school_t *graduated = NULL, *enrolled = NULL;
    for (size_t i = 0; i < a->n_schools; i++) {
        const jk_school_t *sc = &a->schools[i];
        if (!s_internship_school(r, sc))
            continue;
        if (sc->status == JK_SCHOOL_INTERNSHIP)
            return s_MET;
        if (sc->status == JK_SCHOOL_GRADUATED)
            graduated = sc;
        else
            enrolled = sc;
    }
    char d1[11];
    s_buf_part(b);
    if (r->institutions)
        s_buf_kinds(b, r->institutions);
    else
        s_buf_printf(b, "%s及以上院校", jk_education_label(r->min_education));
    s_buf_printf(b, "毕业学年实习或见习期：");
    if (enrolled)
        s_buf_printf(b, "在读，未到毕业学年实习或见习期");
    else if (graduated)
        s_buf_printf(b, "已于%s毕业", jk_date_format(graduated->graduated, d1));
    else
        s_buf_printf(b, "无此类院校在校记录");
    return s_fail(0);
}

/* Writes the requirement of a work node: "取得四级/中级工证书（2024-03-01）后
 * 连续从事本职业工作满12个月：", the date only when has_anchor. */
static void s_work_label(const s_env_t *env, const jk_rule_t *r, bool has_anchor,
                         jk_date_t anchor, s_buf_t *b)
{
    char d[11];
    s_buf_part(b);
    if (r->since == JK_SINCE_CERTIFICATE) {
        s_buf_printf(b, "取得%s证书", s_level_name(env, r->since_level));
        if (has_anchor)
            s_buf_printf(b, "（%s）", jk_date_format(anchor, d));
        s_buf_printf(b, "后");
    } else if (r->since == JK_SINCE_GRADUATION) {
        s_buf_printf(b, "毕业");
        if (has_anchor)
            s_buf_printf(b, "（%s）", jk_date_format(anchor, d));
        s_buf_printf(b, "后");
    }
    s_buf_printf(b, "连续从事%s工作满%d个月：", s_scope_name(r->occupation), r->min_months);
}

static s_verdict_t s_eval_work(const s_env_t *env, const s_ctx_t *ctx, const jk_rule_t *r,
                               s_buf_t *b)
{
    const jk_applicant_t *a = env->a;
    char d1[11], d2[11];
    /* Anchors: the days counting may start from. */
    jk_date_t anchors[JK_APPLICANT_MAX_SCHOOLS];
    size_t n_anchors = 0;
    if (r->since == JK_SINCE_NONE) {
        anchors[n_anchors++] = INT32_MIN;
    } else if (r->since == JK_SINCE_CERTIFICATE) {
        const jk_level_certificate_t *c = &a->certificates[jk_level_index(r->since_level)];
        if (!c->held || !s_by(env, c->date)) {
            /* A sibling `certificate` node already says what is wrong. */
            if (ctx->cert_named & (1u << r->since_level))
                return s_fail(r->min_months);
            s_work_label(env, r, false, 0, b);
            if (!c->held)
                s_buf_printf(b, "缺少%s证书", s_level_name(env, r->since_level));
            else
                s_buf_printf(b, "%s证书日期%s在评定日%s之后", s_level_name(env, r->since_level),
                             jk_date_format(c->date, d1), jk_date_format(env->on, d2));
            return s_fail(r->min_months);
        }
        anchors[n_anchors++] = c->date;
    } else {
        for (size_t i = 0; i < a->n_schools; i++) {
            const jk_school_t *sc = &a->schools[i];
            if (sc->status == JK_SCHOOL_GRADUATED && s_by(env, sc->graduated) &&
                (!ctx->grad_kinds || (sc->kind & ctx->grad_kinds)))
                anchors[n_anchors++] = sc->graduated;
        }
        if (n_anchors == 0) {
            if (ctx->grad_named)
                return s_fail(r->min_months);
            s_work_label(env, r, false, 0, b);
            s_buf_printf(b, "无毕业记录");
            return s_fail(r->min_months);
        }
    }

    /* The best span over every anchor: complete wins; else most months,
     * then the latest end. */
    int sc = r->occupation == JK_OCC_THIS ? JK_OCC_THIS : JK_OCC_RELATED;
    bool found = false;
    s_span_t best = { 0, 0, false };
    int best_months = -1;
    jk_date_t best_anchor = anchors[0];
    for (size_t k = 0; k < n_anchors; k++) {
        for (size_t i = 0; i < env->n_spans[sc]; i++) {
            s_span_t s = env->spans[sc][i];
            if (s.start < anchors[k])
                s.start = anchors[k];
            if (s.start >= s.x)
                continue;
            if (s.x >= jk_date_add_months(s.start, r->min_months))
                return s_MET;
            int m = s_full_months(s.start, s.x);
            if (!found || m > best_months || (m == best_months && s.x > best.x)) {
                found = true;
                best = s;
                best_months = m;
                best_anchor = anchors[k];
            }
        }
    }

    bool has_anchor = r->since != JK_SINCE_NONE;
    s_work_label(env, r, has_anchor, best_anchor, b);
    const char *scope = s_scope_name(r->occupation);
    const char *also = r->occupation == JK_OCC_RELATED ? "或本职业" : "";
    if (!found) {
        if (env->n_recorded[sc] == 0)
            s_buf_printf(b, "无%s%s工作记录", scope, also);
        else if (env->n_spans[sc] == 0)
            s_buf_printf(b, "评定日%s前无%s%s工作记录", jk_date_format(env->on, d1), scope,
                         also);
        else
            s_buf_printf(b, "此后无%s%s工作记录", scope, also);
        return s_fail(r->min_months);
    }
    if (best_months == 0)
        s_buf_printf(b, "现有最长连续不足1个月");
    else
        s_buf_printf(b, "现有最长连续%d个月", best_months);
    if (best.open)
        s_buf_printf(b, "（%s起，%s满%d个月）", jk_date_format(best.start, d1),
                     jk_date_format(jk_date_add_months(best.start, r->min_months), d2),
                     r->min_months);
    else
        s_buf_printf(b, "（%s至%s）", jk_date_format(best.start, d1),
                     jk_date_format(best.x - 1, d2));
    return s_fail(r->min_months - best_months);
}

static s_verdict_t s_eval_all(const s_env_t *env, const s_ctx_t *ctx, const jk_rule_t *r,
                              s_buf_t *b, int depth)
{
    s_ctx_t c = *ctx;
    for (size_t i = 0; i < r->n_children; i++) {
        const jk_rule_t *k = &r->children[i];
        if (k->kind == JK_RULE_GRADUATED) {
            c.grad_kinds = k->institutions;
            c.grad_named = true;
        } else if (k->kind == JK_RULE_CERTIFICATE && k->level > 0 && k->level < 32) {
            c.cert_named |= 1u << k->level;
        }
    }
    s_verdict_t v = s_MET;
    for (size_t i = 0; i < r->n_children; i++) {
        s_verdict_t kv = s_eval(env, &c, &r->children[i], b, depth + 1);
        if (!kv.met) {
            v.met = false;
            v.failed += kv.failed;
            v.short_months += kv.short_months;
        }
    }
    return v;
}

static s_verdict_t s_eval_any(const s_env_t *env, const s_ctx_t *ctx, const jk_rule_t *r,
                              s_buf_t *b, int depth)
{
    char best_text[JK_ELIG_REASON_BYTES], text[JK_ELIG_REASON_BYTES];
    s_verdict_t best = { false, 0, 0 };
    bool have = false;
    best_text[0] = '\0';
    for (size_t i = 0; i < r->n_children; i++) {
        s_buf_t kb;
        s_buf_init(&kb, text, sizeof text);
        s_verdict_t kv = s_eval(env, ctx, &r->children[i], &kb, depth + 1);
        if (kv.met)
            return s_MET;
        if (!have || kv.failed < best.failed ||
            (kv.failed == best.failed && kv.short_months < best.short_months)) {
            have = true;
            best = kv;
            memcpy(best_text, text, kb.len + 1);
        }
    }
    if (best_text[0]) {
        s_buf_part(b);
        s_buf_put(b, best_text, strlen(best_text));
    }
    return best;
}

static s_verdict_t s_eval(const s_env_t *env, const s_ctx_t *ctx, const jk_rule_t *r,
                          s_buf_t *b, int depth)
{
    /* The loader bounds nesting at 8; this guards hand-made trees. */
    if (depth > 32)
        return s_fail(0);
    switch (r->kind) {
    case JK_RULE_ALL: return s_eval_all(env, ctx, r, b, depth);
    case JK_RULE_ANY: return s_eval_any(env, ctx, r, b, depth);
    case JK_RULE_TRAINING: return s_eval_training(env, r, b);
    case JK_RULE_CERTIFICATE: return s_eval_certificate(env, r, b);
    case JK_RULE_WORK: return s_eval_work(env, ctx, r, b);
    case JK_RULE_INTERNSHIP: return s_eval_internship(env, r, b);
    case JK_RULE_GRADUATED: return s_eval_graduated(env, r, b);
    case JK_RULE_EDUCATION: return s_eval_education(env, r, b);
    }
    s_buf_part(b);
    s_buf_printf(b, "无法评定的条件");
    return s_fail(0);
}

/* ---- validation ---- */

static bool s_date_ok(jk_date_t d)
{
    jk_date_t lo = 0, hi = 0;
    jk_date_from_ymd(JK_DATE_MIN_YEAR, 1, 1, &lo);
    jk_date_from_ymd(JK_DATE_MAX_YEAR, 12, 31, &hi);
    return d >= lo && d <= hi;
}

jk_err_t jk_applicant_validate(const jk_applicant_t *a, jk_error_t *err)
{
    if (!a)
        return jk_error_set(err, JK_ERR_INVAL, "no applicant");
    if ((int)a->education < JK_EDU_NONE || a->education > JK_EDU_DOCTOR)
        return jk_error_set(err, JK_ERR_INVAL, "education: unknown value %d", (int)a->education);
    if (a->n_schools > JK_APPLICANT_MAX_SCHOOLS)
        return jk_error_set(err, JK_ERR_RANGE, "schools: %zu, at most %d", a->n_schools,
                            JK_APPLICANT_MAX_SCHOOLS);
    for (size_t i = 0; i < a->n_schools; i++) {
        const jk_school_t *sc = &a->schools[i];
        if (!jk_institution_name(sc->kind))
            return jk_error_set(err, JK_ERR_INVAL, "schools[%zu]: kind must be one JK_INST_* bit",
                                i);
        if ((int)sc->programme < JK_EDU_NONE || sc->programme > JK_EDU_DOCTOR)
            return jk_error_set(err, JK_ERR_INVAL, "schools[%zu]: unknown programme %d", i,
                                (int)sc->programme);
        if ((int)sc->status < JK_SCHOOL_ENROLLED || sc->status > JK_SCHOOL_GRADUATED)
            return jk_error_set(err, JK_ERR_INVAL, "schools[%zu]: unknown status %d", i,
                                (int)sc->status);
        if (sc->status == JK_SCHOOL_GRADUATED && !s_date_ok(sc->graduated))
            return jk_error_set(err, JK_ERR_RANGE, "schools[%zu]: graduation date out of range",
                                i);
    }
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        const jk_training_t *t = &a->training[li];
        if (t->hours < 0 || t->hours > JK_APPLICANT_MAX_HOURS)
            return jk_error_set(err, JK_ERR_RANGE, "training[level %d]: %d hours, not 0..%d",
                                jk_level_at(li), t->hours, JK_APPLICANT_MAX_HOURS);
        if (t->certificate && !s_date_ok(t->certificate_date))
            return jk_error_set(err, JK_ERR_RANGE,
                                "training[level %d]: certificate date out of range",
                                jk_level_at(li));
        const jk_level_certificate_t *c = &a->certificates[li];
        if (c->held && !s_date_ok(c->date))
            return jk_error_set(err, JK_ERR_RANGE, "certificates[level %d]: date out of range",
                                jk_level_at(li));
    }
    if (a->n_work > JK_APPLICANT_MAX_WORK)
        return jk_error_set(err, JK_ERR_RANGE, "work: %zu periods, at most %d", a->n_work,
                            JK_APPLICANT_MAX_WORK);
    if (a->n_work > 0 && !a->work)
        return jk_error_set(err, JK_ERR_INVAL, "work: %zu periods but no array", a->n_work);
    for (size_t i = 0; i < a->n_work; i++) {
        const jk_work_period_t *w = &a->work[i];
        char d1[11], d2[11];
        if (w->scope != JK_OCC_THIS && w->scope != JK_OCC_RELATED)
            return jk_error_set(err, JK_ERR_INVAL, "work[%zu]: unknown scope %d", i,
                                (int)w->scope);
        if (!s_date_ok(w->start) || (!w->ongoing && !s_date_ok(w->end)))
            return jk_error_set(err, JK_ERR_RANGE, "work[%zu]: date out of range", i);
        if (!w->ongoing && w->end < w->start)
            return jk_error_set(err, JK_ERR_INVAL, "work[%zu]: ends %s before it starts %s", i,
                                jk_date_format(w->end, d1), jk_date_format(w->start, d2));
    }
    return JK_OK;
}

/* ---- public ---- */

jk_err_t jk_eligibility_check(const jk_standard_t *s, int level, const jk_applicant_t *a,
                              jk_date_t on, jk_elig_result_t *out)
{
    if (!out)
        return JK_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (!s || !a || !jk_level_valid(level) || !s_date_ok(on))
        return JK_ERR_INVAL;
    jk_err_t rc = jk_applicant_validate(a, NULL);
    if (rc != JK_OK)
        return JK_ERR_INVAL;
    size_t n = jk_standard_alternative_count(s, level);
    if (n > JK_ELIG_MAX_ALTERNATIVES)
        return JK_ERR_RANGE;

    /* The spans are the big part (2 x 64 x 12 bytes); still fine on a stack. */
    s_env_t env;
    env.s = s;
    env.a = a;
    env.on = on;
    s_build_spans(&env);

    out->level = level;
    out->on = on;
    out->n_alternatives = n;
    for (size_t i = 0; i < n; i++) {
        const jk_alternative_t *alt = jk_standard_alternative(s, level, i);
        jk_elig_alt_result_t *ar = &out->alternatives[i];
        s_ctx_t ctx = { 0, false, 0 };
        s_buf_t b;
        ar->id = alt->id;
        ar->text = alt->text;
        s_buf_init(&b, ar->missing, sizeof ar->missing);
        ar->met = s_eval(&env, &ctx, &alt->rule, &b, 0).met;
        if (ar->met) {
            ar->missing[0] = '\0';
            if (!out->eligible) {
                out->eligible = true;
                out->met_id = alt->id;
                out->met_text = alt->text;
            }
        } else if (b.len == 0) {
            s_buf_printf(&b, "未满足"); /* not reachable with the standard's rules */
        }
    }
    return out->eligible ? JK_OK : JK_ERR_INELIGIBLE;
}

jk_err_t jk_eligibility_levels(const jk_standard_t *s, const jk_applicant_t *a, jk_date_t on,
                               int levels[JK_LEVEL_COUNT], size_t *n)
{
    if (!n || !levels)
        return JK_ERR_INVAL;
    *n = 0;
    jk_elig_result_t r;
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        jk_err_t rc = jk_eligibility_check(s, jk_level_at(li), a, on, &r);
        if (rc == JK_OK)
            levels[(*n)++] = jk_level_at(li);
        else if (rc != JK_ERR_INELIGIBLE) {
            *n = 0;
            return rc;
        }
    }
    return JK_OK;
}

size_t jk_elig_result_format(const jk_elig_result_t *r, char *buf, size_t size)
{
    s_buf_t b;
    if (!buf || size == 0)
        return 0;
    s_buf_init(&b, buf, size);
    if (!r)
        return 0;
    if (r->eligible) {
        s_buf_printf(&b, "符合%s：%s", r->met_id, r->met_text ? r->met_text : "");
        return b.len;
    }
    for (size_t i = 0; i < r->n_alternatives; i++) {
        const jk_elig_alt_result_t *ar = &r->alternatives[i];
        if (i > 0)
            s_buf_put(&b, "\n", 1);
        s_buf_printf(&b, "%s：%s", ar->id ? ar->id : "", ar->missing);
    }
    return b.len;
}
