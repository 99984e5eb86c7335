/*
 * scorerd scoring: a session's result, computed from its Redis state, the
 * center's paper for it and the bank's keys with the library's rules
 * (jk_score), stored once (jk_result) and published.
 *
 * Before scoring, the session's events 1..n are run through the state
 * machine in seq order: events are stored in any order, and this is where
 * the order is checked. A stream the machine refuses is not scored; it is
 * logged as an alarm for the operator (it can only come from a broken or
 * forged exam node, since every event is authenticated).
 *
 * Pure in what matters: the same state gives the same result, so any scorer
 * (or a replay of an exam node's log through jk_score) computes the same
 * points.
 */
#include <stdlib.h>
#include <string.h>

#include "jk_log.h"
#include "scorerd.h"

static char s_logbuf[JK_LOG_VALUE_MAX];

typedef struct {
    scorerd_t *sc;
    char session_id[JK_CODEC_ID_MAX + 1];
} s_job_t;

static void s_queue(scorerd_t *sc, const char *sid)
{
    for (size_t i = 0; i < sc->n_to_score; i++)
        if (strcmp(sc->to_score[i], sid) == 0)
            return;
    if (sc->n_to_score == sc->cap_to_score) {
        size_t nc = sc->cap_to_score ? sc->cap_to_score * 2 : 64;
        if (nc > 100000)
            return; /* bounded: reconciliation will ask again */
        char **p = realloc(sc->to_score, nc * sizeof *p);
        if (!p)
            return;
        sc->to_score = p;
        sc->cap_to_score = nc;
    }
    char *copy = strdup(sid);
    if (copy)
        sc->to_score[sc->n_to_score++] = copy;
}

/* Maps a stored response to bank option bits (judge: bit 0 = true). */
static jk_response_t s_theory_response(const redis_store_answer_t *a)
{
    jk_response_t r = { false, 0 };
    if (!a || !a->response)
        return r;
    Jk__Response *resp = jk__response__unpack(NULL, a->response_len, a->response);
    if (!resp)
        return r;
    if (resp->value_case == JK__RESPONSE__VALUE_JUDGMENT) {
        r.answered = true;
        r.mask = resp->judgment ? 1u : 0u;
    } else if (resp->value_case == JK__RESPONSE__VALUE_SELECTION) {
        r.answered = resp->selection->n_option_ids > 0;
        for (size_t i = 0; i < resp->selection->n_option_ids; i++) {
            uint32_t id = resp->selection->option_ids[i];
            if (id >= 1 && id <= 16)
                r.mask |= 1u << (id - 1);
        }
    }
    jk__response__free_unpacked(resp, NULL);
    return r;
}

static const redis_store_answer_t *s_find_answer(const redis_store_state_t *st, const char *item)
{
    /* Answers are sorted by item id. */
    size_t lo = 0, hi = st->n_answers;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(st->answers[mid].item_id, item);
        if (c == 0)
            return &st->answers[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Runs the events through the state machine; false when the stream is
 * incomplete (a gap) or illegal (*illegal set). */
static bool s_check_stream(const redis_store_state_t *st, bool *illegal, char *why, size_t wl)
{
    *illegal = false;
    jk_session_state_t state = JK_SESSION_REGISTERED;
    for (size_t i = 0; i < st->n_events; i++) {
        jk_session_event_t ev = st->event[i];
        if (ev == 0)
            return false; /* not all here yet */
        jk_session_state_t next;
        if (jk_session_fsm_next(state, ev, &next) != JK_OK) {
            *illegal = true;
            snprintf(why, wl, "seq %zu: %s in state %s", i + 1, jk_session_event_name(ev),
                     jk_session_state_name(state));
            return false;
        }
        state = next;
    }
    return true;
}

static void s_on_result(void *ud, jk_err_t rc, const char *errstr, const redis_store_result_reply_t *rep);

typedef struct {
    scorerd_t *sc;
    char session_id[JK_CODEC_ID_MAX + 1];
    uint8_t *packed;   /* the ExamResult, for publishing */
    size_t len;
} s_store_job_t;

static void s_store(scorerd_t *sc, const jk_sitting_entry_t *e, Jk__ExamResult *er)
{
    s_store_job_t *job = calloc(1, sizeof *job);
    if (!job)
        return;
    job->sc = sc;
    snprintf(job->session_id, sizeof job->session_id, "%s", e->session_id);
    job->len = jk__exam_result__get_packed_size(er);
    job->packed = malloc(job->len ? job->len : 1);
    if (!job->packed) {
        free(job);
        return;
    }
    jk__exam_result__pack(er, job->packed);
    jk_error_t err;
    if (redis_store_result(sc->store, e->session_id, er, s_on_result, job, &err) != JK_OK) {
        free(job->packed);
        free(job);
        s_queue(sc, e->session_id);
    }
}

/* Publishes the stored result through the broker (address empty: to the
 * broker itself, which publishes RESULT envelopes on its PUB socket). */
static void s_publish(scorerd_t *sc, const jk_sitting_entry_t *e, const uint8_t *packed, size_t len)
{
    Jk__ExamResult *mine = jk__exam_result__unpack(NULL, len, packed);
    if (!mine)
        return;
    const jk_sitting_session_t *ps = jk_sitting_session(sc->center, e->session);
    Jk__ExamResult other = JK__EXAM_RESULT__INIT;
    other.has_exam = 1;
    other.exam = ps->exam == JK_EXAM_THEORY ? JK__EXAM_TYPE__EXAM_TYPE_SKILLS : JK__EXAM_TYPE__EXAM_TYPE_THEORY;
    other.has_status = 1;
    other.status = JK__RESULT_STATUS__RESULT_STATUS_PENDING;
    Jk__Result res = JK__RESULT__INIT;
    res.has_level = 1;
    res.level = (uint32_t)ps->level;
    res.theory = ps->exam == JK_EXAM_THEORY ? mine : &other;
    res.skills = ps->exam == JK_EXAM_THEORY ? &other : mine;
    res.has_passed = 1;
    res.passed = 0; /* one exam known here; the pass needs both (jkadmin results) */
    Jk__Envelope env = JK__ENVELOPE__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_RESULT;
    env.exam_id = (char *)jk_sitting_id(sc->center);
    env.site_id = (char *)e->site;
    env.room_id = (char *)e->room;
    env.session_id = (char *)e->session_id;
    env.candidate_id = (char *)e->admission;
    env.has_event_time_ms = 1;
    env.event_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    env.body_case = JK__ENVELOPE__BODY_RESULT;
    env.result = &res;
    scorerd__reply(sc, (const uint8_t *)"", 0, &env);
    jk__exam_result__free_unpacked(mine, NULL);
}

static void s_on_result(void *ud, jk_err_t rc, const char *errstr, const redis_store_result_reply_t *rep)
{
    s_store_job_t *job = ud;
    scorerd_t *sc = job->sc;
    const jk_sitting_entry_t *e = jk_sitting_find_entry(sc->center, job->session_id);
    if (rc != JK_OK) {
        if (rc == JK_ERR_UNAVAIL || rc == JK_ERR_TIMEOUT)
            s_queue(sc, job->session_id);
        else
            JK_ERROR("result.refused", "session=%s error=%s", job->session_id, jk_log_value(errstr, s_logbuf));
    } else if (rep->outcome == REDIS_STORE_RESULT_STORED) {
        sc->stats.scored++;
        if (e)
            s_publish(sc, e, job->packed, job->len);
    } else {
        sc->stats.results_existing++;
    }
    free(job->packed);
    free(job);
}

static void s_area_scores(scorerd_t *sc, const jk_exam_score_t *es, jk_exam_t exam, int level,
                          Jk__ExamResult *er, Jk__AreaScore *areas, Jk__AreaScore **ptrs)
{
    int ids[JK_AREA_COUNT];
    size_t n = jk_standard_exam_areas(sc->std, exam, ids, JK_AREA_COUNT);
    for (size_t i = 0; i < n; i++) {
        Jk__AreaScore a = JK__AREA_SCORE__INIT;
        const jk_area_t *ar = jk_standard_area(sc->std, ids[i]);
        a.area_code = (char *)ar->code;
        a.has_points_centi = 1;
        a.points_centi = (uint32_t)es->area_centi[ids[i]];
        a.has_max_points_centi = 1;
        a.max_points_centi = (uint32_t)(jk_standard_weight(sc->std, exam, ids[i], level) * 100);
        areas[i] = a;
        ptrs[i] = &areas[i];
    }
    er->n_areas = n;
    er->areas = ptrs;
}

static void s_score_state(scorerd_t *sc, const jk_sitting_entry_t *e, redis_store_state_t *st)
{
    const jk_sitting_session_t *ps = jk_sitting_session(sc->center, e->session);
    Jk__ExamResult er = JK__EXAM_RESULT__INIT;
    Jk__AreaScore areas[JK_AREA_COUNT];
    Jk__AreaScore *ptrs[JK_AREA_COUNT];
    er.has_exam = 1;
    er.exam = ps->exam == JK_EXAM_THEORY ? JK__EXAM_TYPE__EXAM_TYPE_THEORY : JK__EXAM_TYPE__EXAM_TYPE_SKILLS;
    er.session_id = (char *)e->session_id;
    er.has_status = 1;

    if (st->status == JK_SESSION_VOIDED) {
        if (st->scored && st->result_status == JK__RESULT_STATUS__RESULT_STATUS_VOIDED)
            return;
        er.status = JK__RESULT_STATUS__RESULT_STATUS_VOIDED;
        s_store(sc, e, &er);
        return;
    }
    if (st->scored)
        return;
    if (st->status == JK_SESSION_ABSENT) {
        er.status = JK__RESULT_STATUS__RESULT_STATUS_ABSENT;
        s_store(sc, e, &er);
        return;
    }
    if (!st->complete)
        return;
    bool illegal;
    char why[200];
    if (!s_check_stream(st, &illegal, why, sizeof why)) {
        if (illegal) {
            sc->stats.illegal_streams++;
            JK_ERROR("score.illegal_stream", "session=%s why=%s note=\"not scored; operator\"",
                     e->session_id, jk_log_value(why, s_logbuf));
        }
        return;
    }
    jk_exam_score_t es;
    if (ps->exam == JK_EXAM_THEORY) {
        jk_theory_paper_t *p = calloc(1, sizeof *p);
        jk_response_t *resp = calloc(e->n_items + 1, sizeof *resp);
        if (!p || !resp) {
            free(p);
            free(resp);
            return;
        }
        p->level = ps->level;
        for (size_t k = 0; k < e->n_items; k++) {
            long idx = jk_bank_find_item(sc->bank, e->items[k].item);
            if (idx < 0) {
                JK_ERROR("score.unknown_item", "session=%s item=%s", e->session_id, e->items[k].item);
                free(p);
                free(resp);
                return;
            }
            p->entries[p->n++].item = (uint32_t)idx;
            resp[k] = s_theory_response(s_find_answer(st, e->items[k].item));
        }
        jk_score_theory(sc->bank, p, resp, &sc->rules, &es);
        free(p);
        free(resp);
    } else {
        /* Skills: per part, typed fields (operation) or the panel's scores
         * (oral, written), in paper order. */
        jk_skills_paper_t sp;
        memset(&sp, 0, sizeof sp);
        sp.level = ps->level;
        size_t n_parts = 0;
        for (size_t t = 0; t < e->n_tasks && t < JK_PAPER_MAX_TASKS; t++) {
            long idx = jk_bank_find_task(sc->bank, e->tasks[t]);
            if (idx < 0) {
                JK_ERROR("score.unknown_task", "session=%s task=%s", e->session_id, e->tasks[t]);
                return;
            }
            sp.tasks[sp.n++] = (uint32_t)idx;
            n_parts += jk_bank_task(sc->bank, (size_t)idx)->n_parts;
        }
        jk_part_response_t *pr = calloc(n_parts + 1, sizeof *pr);
        const char **vals = calloc(n_parts * JK_MAX_FIELDS + 1, sizeof *vals);
        int32_t *panel = calloc(n_parts * 64 + 1, sizeof *panel);
        Jk__Response **unpacked = calloc(n_parts + 1, sizeof *unpacked);
        if (!pr || !vals || !panel || !unpacked) {
            free(pr);
            free(vals);
            free(panel);
            free(unpacked);
            return;
        }
        size_t r = 0;
        for (uint32_t t = 0; t < sp.n; t++) {
            const jk_task_t *task = jk_bank_task(sc->bank, sp.tasks[t]);
            for (size_t q = 0; q < task->n_parts; q++, r++) {
                const jk_part_t *part = &task->parts[q];
                if (task->type == JK_TASK_OPERATION) {
                    char item[2 * JK_CODEC_ID_MAX + 2];
                    snprintf(item, sizeof item, "%s:%s", task->id, part->id);
                    const redis_store_answer_t *a = s_find_answer(st, item);
                    const char **fv = &vals[r * JK_MAX_FIELDS];
                    if (a && a->response)
                        unpacked[r] = jk__response__unpack(NULL, a->response_len, a->response);
                    Jk__Response *resp = unpacked[r];
                    for (size_t f = 0; f < part->n_fields; f++) {
                        fv[f] = NULL;
                        if (resp && resp->value_case == JK__RESPONSE__VALUE_FORM)
                            for (size_t k = 0; k < resp->form->n_fields; k++)
                                if (strcmp(resp->form->fields[k]->name, part->fields[f].name) == 0)
                                    fv[f] = resp->form->fields[k]->value;
                    }
                    pr[r].fields = fv;
                    continue;
                }
                /* Examiner-scored: the panel's round-0 scores, and the
                 * arbitration score if any (the last one wins). */
                int32_t *ps_ = &panel[r * 64];
                size_t np = 0;
                for (size_t k = 0; k < st->n_xscores; k++) {
                    const redis_store_xscore_t *x = &st->xscores[k];
                    if (strcmp(x->task_id, task->id) != 0 || strcmp(x->part_id, part->id) != 0)
                        continue;
                    if (x->arbitration) {
                        pr[r].arbitrated = true;
                        pr[r].arbitrated_centi = (int32_t)x->points_centi;
                    } else if (np < 64) {
                        ps_[np++] = (int32_t)x->points_centi;
                    }
                }
                /* A part is scored once the whole panel has scored it. */
                if ((int)np >= (e->panel > 0 ? e->panel : sc->rules.min_examiners)) {
                    pr[r].panel_centi = ps_;
                    pr[r].n_panel = np;
                }
            }
        }
        jk_error_t err;
        jk_err_t rc = jk_score_skills(sc->bank, &sp, pr, r, &sc->rules, &es, &err);
        for (size_t i = 0; i < n_parts; i++)
            if (unpacked[i])
                jk__response__free_unpacked(unpacked[i], NULL);
        free(pr);
        free(vals);
        free(panel);
        free(unpacked);
        if (rc != JK_OK) {
            JK_ERROR("score.skills", "session=%s error=%s", e->session_id, jk_log_value(err.msg, s_logbuf));
            return;
        }
        if (es.pending) {
            JK_DEBUG("score.pending", "session=%s note=\"examiners or arbitration outstanding\"",
                     e->session_id);
            return;
        }
    }
    er.status = JK__RESULT_STATUS__RESULT_STATUS_SCORED;
    er.has_total_centi = 1;
    er.total_centi = (uint32_t)es.total_centi;
    er.has_passed = 1;
    er.passed = es.total_centi >= sc->rules.pass_mark * 100;
    s_area_scores(sc, &es, ps->exam, ps->level, &er, areas, ptrs);
    JK_INFO("session.scored", "session=%s candidate=%s exam=%s total=%.2f passed=%s", e->session_id,
            e->admission, jk_exam_name(ps->exam), es.total_centi / 100.0, er.passed ? "yes" : "no");
    s_store(sc, e, &er);
}

static void s_on_state(void *ud, jk_err_t rc, const char *errstr, redis_store_state_t **pst)
{
    redis_store_state_t *st = pst ? *pst : NULL;
    s_job_t *job = ud;
    scorerd_t *sc = job->sc;
    if (rc != JK_OK) {
        if (rc == JK_ERR_UNAVAIL || rc == JK_ERR_TIMEOUT)
            s_queue(sc, job->session_id);
        else
            JK_ERROR("score.state", "session=%s error=%s", job->session_id, jk_log_value(errstr, s_logbuf));
    } else {
        const jk_sitting_entry_t *e = jk_sitting_find_entry(sc->center, job->session_id);
        if (e && st && st->known)
            s_score_state(sc, e, st);
    }
    if (pst)
        redis_store_state_free(pst);
    free(job);
}

void scorerd__score(scorerd_t *sc, const char *session_id)
{
    if (redis_store_capacity(sc->store) < 2) {
        s_queue(sc, session_id);
        return;
    }
    s_job_t *job = calloc(1, sizeof *job);
    if (!job)
        return;
    job->sc = sc;
    snprintf(job->session_id, sizeof job->session_id, "%s", session_id);
    jk_error_t err;
    if (redis_store_state(sc->store, session_id, s_on_state, job, &err) != JK_OK) {
        free(job);
        s_queue(sc, session_id);
    }
}

void scorerd__score_pending(scorerd_t *sc)
{
    while (sc->n_to_score > 0 && redis_store_ready(sc->store) && redis_store_capacity(sc->store) >= 2) {
        char *sid = sc->to_score[--sc->n_to_score];
        scorerd__score(sc, sid);
        free(sid);
    }
}
