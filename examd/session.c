/*
 * examd sessions: the model of each candidate × exam, the clock, and the one
 * place where session events are made (examd__emit) and applied
 * (examd__apply).
 *
 * Clock policy (docs/live-exam.md, "The clock"): a candidate's time starts
 * when their session opens and lasts the session's minutes, plus granted
 * extensions, plus time spent paused:
 *     deadline = open + duration + extensions + paused time
 * computed here and nowhere else. Time the exam node itself was down is
 * credited back as a system extension after a restart (examd__credit_downtime),
 * so a crash of the node is never charged to candidates; at most one WAL
 * tick interval before the crash is uncertain and credited too.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "examd.h"
#include "jk_log.h"

/* ---- building ---- */

static size_t s_slots_of(const examd_t *ex, const jk_sitting_entry_t *e)
{
    if (e->n_items)
        return e->n_items;
    size_t n = 0;
    for (size_t t = 0; t < e->n_tasks; t++) {
        const jk_sitting_task_t *task = jk_sitting_task(ex->site, e->tasks[t]);
        n += task ? task->n_parts : 0;
    }
    return n;
}

jk_err_t examd__sessions_build(examd_t *ex, jk_error_t *err)
{
    size_t n = jk_sitting_entry_count(ex->site);
    ex->sessions = calloc(n ? n : 1, sizeof *ex->sessions);
    ex->by_sid = jk_strmap_new(n);
    ex->by_admission = jk_strmap_new(n);
    if (!ex->sessions || !ex->by_sid || !ex->by_admission)
        return jk_error_set(err, JK_ERR_NOMEM, "sessions: out of memory");
    for (size_t i = 0; i < n; i++) {
        ex_session_t *s = &ex->sessions[i];
        s->entry = jk_sitting_entry(ex->site, i);
        s->plan = jk_sitting_session(ex->site, s->entry->session);
        s->room = s->entry->room;
        jk_sitting_session_key(ex->site_key, s->entry->session_id, s->key);
        s->state = JK_SESSION_REGISTERED;
        s->duration_ms = (int64_t)s->plan->minutes * 60000;
        for (size_t t = 0; t < s->entry->n_tasks; t++)
            if (!jk_sitting_task(ex->site, s->entry->tasks[t]))
                return jk_error_set(err, JK_ERR_NOTFOUND, "session %s: task %s is not in the package",
                                    s->entry->session_id, s->entry->tasks[t]);
        for (size_t k = 0; k < s->entry->n_items; k++)
            if (!jk_sitting_item(ex->site, s->entry->items[k].item))
                return jk_error_set(err, JK_ERR_NOTFOUND, "session %s: item %s is not in the package",
                                    s->entry->session_id, s->entry->items[k].item);
        s->next_of_candidate = -1;
        size_t first;
        if (jk_strmap_get(ex->by_admission, s->entry->admission, &first)) {
            /* append to the candidate's chain, keeping plan order */
            long k = (long)first;
            while (ex->sessions[k].next_of_candidate >= 0)
                k = ex->sessions[k].next_of_candidate;
            ex->sessions[k].next_of_candidate = (long)i;
        } else if (jk_strmap_put(ex->by_admission, s->entry->admission, i, NULL) < 0) {
            return jk_error_set(err, JK_ERR_NOMEM, "sessions: out of memory");
        }
        s->n_slots = s_slots_of(ex, s->entry);
        s->slots = calloc(s->n_slots ? s->n_slots : 1, sizeof *s->slots);
        if (!s->slots || jk_strmap_put(ex->by_sid, s->entry->session_id, i, NULL) != 1)
            return jk_error_set(err, JK_ERR_NOMEM, "sessions: out of memory");
    }
    ex->n_sessions = n;
    return JK_OK;
}

void examd__sessions_free(examd_t *ex)
{
    for (size_t i = 0; i < ex->n_sessions; i++) {
        ex_session_t *s = &ex->sessions[i];
        for (size_t k = 0; k < s->n_slots; k++)
            free(s->slots[k].response);
        free(s->slots);
        free(s->slot_order);
        free(s->hashes);
        OPENSSL_cleanse(s->token, sizeof s->token);
        OPENSSL_cleanse(s->key, sizeof s->key);
    }
    free(ex->sessions);
    ex->sessions = NULL;
    ex->n_sessions = 0;
    jk_strmap_destroy(&ex->by_sid);
    jk_strmap_destroy(&ex->by_admission);
}

ex_session_t *examd__session(examd_t *ex, const char *session_id)
{
    size_t v;
    if (!ex->by_sid || !session_id || !jk_strmap_get(ex->by_sid, session_id, &v))
        return NULL;
    return &ex->sessions[v];
}

/* Papers this short are scanned; longer ones get a sorted index. */
#define S_SLOT_SCAN_MAX 16

typedef struct {
    const char *id;
    uint16_t k;
} s_slot_key_t;

static int s_slot_key_cmp(const void *a, const void *b)
{
    const s_slot_key_t *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->k > y->k) - (x->k < y->k);
}

/* The slots of a theory paper ordered by item id (then slot), 2 bytes a
 * slot; NULL when out of memory (the caller scans). */
static uint16_t *s_slot_order(const jk_sitting_entry_t *e)
{
    if (e->n_items > UINT16_MAX)
        return NULL;
    s_slot_key_t *keys = malloc(e->n_items * sizeof *keys);
    uint16_t *order = malloc(e->n_items * sizeof *order);
    if (!keys || !order) {
        free(keys);
        free(order);
        return NULL;
    }
    for (size_t k = 0; k < e->n_items; k++) {
        keys[k].id = e->items[k].item;
        keys[k].k = (uint16_t)k;
    }
    qsort(keys, e->n_items, sizeof *keys, s_slot_key_cmp);
    for (size_t k = 0; k < e->n_items; k++)
        order[k] = keys[k].k;
    free(keys);
    return order;
}

long examd__slot_index(const examd_t *ex, ex_session_t *s, const char *item_id)
{
    const jk_sitting_entry_t *e = s->entry;
    if (e->n_items) {
        if (!s->slot_order && e->n_items > S_SLOT_SCAN_MAX)
            s->slot_order = s_slot_order(e);
        if (!s->slot_order) {
            for (size_t k = 0; k < e->n_items; k++)
                if (strcmp(e->items[k].item, item_id) == 0)
                    return (long)k;
            return -1;
        }
        /* The first slot whose id is >= item_id: the lowest slot of that id,
         * as the scan would find. */
        size_t lo = 0, hi = e->n_items;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(e->items[s->slot_order[mid]].item, item_id) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < e->n_items && strcmp(e->items[s->slot_order[lo]].item, item_id) == 0)
            return (long)s->slot_order[lo];
        return -1;
    }
    /* Skills: "<task id>:<part id>" (a few tasks of a few parts: scanned). */
    const char *colon = strchr(item_id, ':');
    if (!colon)
        return -1;
    size_t tl = (size_t)(colon - item_id);
    long base = 0;
    for (size_t t = 0; t < e->n_tasks; t++) {
        const jk_sitting_task_t *task = jk_sitting_task(ex->site, e->tasks[t]);
        if (strlen(task->id) == tl && strncmp(task->id, item_id, tl) == 0) {
            for (size_t p = 0; p < task->n_parts; p++)
                if (strcmp(task->parts[p].id, colon + 1) == 0)
                    return base + (long)p;
            return -1;
        }
        base += (long)task->n_parts;
    }
    return -1;
}

/* ---- the clock ---- */

int64_t examd__remaining_ms(const examd_t *ex, const ex_session_t *s, int64_t now_ms)
{
    (void)ex;
    if (s->open_ms == 0)
        return s->duration_ms + s->extension_ms;
    if (s->state != JK_SESSION_IN_PROGRESS && s->state != JK_SESSION_PAUSED)
        return 0;
    int64_t paused = s->paused_total_ms;
    if (s->paused_since_ms > 0)
        paused += now_ms - s->paused_since_ms; /* frozen while paused */
    int64_t deadline = s->open_ms + s->duration_ms + s->extension_ms + paused;
    int64_t left = deadline - now_ms;
    return left > 0 ? left : 0;
}

/* ---- digests ---- */

static jk_err_t s_store_hash(ex_session_t *s, uint64_t seq, const uint8_t h[JK_CODEC_DIGEST_LEN])
{
    if (seq > s->cap_hashes) {
        size_t nc = s->cap_hashes ? s->cap_hashes * 2 : 64;
        while (nc < seq)
            nc *= 2;
        void *p = realloc(s->hashes, nc * sizeof *s->hashes);
        if (!p)
            return JK_ERR_NOMEM;
        s->hashes = p;
        s->cap_hashes = nc;
    }
    memcpy(s->hashes[seq - 1], h, JK_CODEC_DIGEST_LEN);
    return JK_OK;
}

jk_err_t examd__session_digest(const ex_session_t *s, uint8_t out[JK_CODEC_DIGEST_LEN])
{
    return jk_codec_session_digest((const uint8_t(*)[JK_CODEC_DIGEST_LEN])s->hashes, s->last_seq,
                                   out, NULL);
}

/* ---- applying ---- */

jk_err_t examd__apply(examd_t *ex, ex_session_t *s, const Jk__Envelope *env, const uint8_t *bytes,
                      size_t len, uint64_t lsn, bool replay, jk_error_t *err)
{
    (void)bytes;
    (void)len;
    if (!env->has_seq || env->seq != s->last_seq + 1)
        return jk_error_set(err, JK_ERR_STATE, "session %s: event seq %llu after %llu",
                            s->entry->session_id, (unsigned long long)env->seq,
                            (unsigned long long)s->last_seq);
    jk_session_event_t ev;
    jk_session_state_t next;
    jk_err_t rc = jk_codec_session_event(env, &ev, err);
    if (rc != JK_OK)
        return rc;
    rc = jk_session_fsm_next(s->state, ev, &next);
    if (rc != JK_OK)
        return jk_error_set(err, rc, "session %s: %s is illegal in state %s", s->entry->session_id,
                            jk_session_event_name(ev), jk_session_state_name(s->state));
    uint8_t h[JK_CODEC_DIGEST_LEN];
    if (jk_codec_event_hash(env, h, err) != JK_OK || s_store_hash(s, env->seq, h) != JK_OK)
        return jk_error_set(err, JK_ERR_NOMEM, "session %s: cannot hash event", s->entry->session_id);
    int64_t t = (int64_t)env->event_time_ms;

    switch (env->body_case) {
    case JK__ENVELOPE__BODY_SESSION_OPEN:
        s->open_ms = t;
        if (env->session_open->has_duration_ms)
            s->duration_ms = (int64_t)env->session_open->duration_ms;
        if (env->session_open->workstation_id)
            snprintf(s->workstation, sizeof s->workstation, "%s", env->session_open->workstation_id);
        break;
    case JK__ENVELOPE__BODY_SESSION_RESUME:
        if (env->session_resume->new_workstation_id)
            snprintf(s->workstation, sizeof s->workstation, "%s",
                     env->session_resume->new_workstation_id);
        s->relocate_allowed = false;
        break;
    case JK__ENVELOPE__BODY_ANSWER: {
        const Jk__Answer *a = env->answer;
        long k = examd__slot_index(ex, s, a->item_id);
        if (k < 0)
            return jk_error_set(err, JK_ERR_NOTFOUND, "session %s: item %s is not on the paper",
                                s->entry->session_id, a->item_id);
        ex_slot_t *slot = &s->slots[k];
        /* The new response first: a failure leaves the slot as it was. */
        uint8_t *resp = NULL;
        size_t resp_len = 0;
        if (a->response) {
            size_t n = jk__response__get_packed_size(a->response);
            resp = malloc(n ? n : 1);
            if (!resp)
                return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
            resp_len = jk__response__pack(a->response, resp);
        }
        free(slot->response);
        slot->response = resp;
        slot->response_len = resp_len;
        slot->seq = env->seq;
        slot->flagged = a->has_flagged && a->flagged;
        slot->change_counter = a->has_change_counter ? a->change_counter : slot->change_counter + 1;
        break;
    }
    case JK__ENVELOPE__BODY_SUBMIT:
        s->end_ms = t;
        if (s->paused_since_ms > 0) {
            s->paused_total_ms += t - s->paused_since_ms;
            s->paused_since_ms = 0;
        }
        break;
    case JK__ENVELOPE__BODY_PROCTOR_ACTION:
        switch (env->proctor_action->action) {
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE:
            s->paused_since_ms = t;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_RESUME:
            if (s->paused_since_ms > 0)
                s->paused_total_ms += t - s->paused_since_ms;
            s->paused_since_ms = 0;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME:
            s->extension_ms += (int64_t)env->proctor_action->extension_ms;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID:
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_MARK_ABSENT:
            s->end_ms = t;
            break;
        default:
            break;
        }
        break;
    case JK__ENVELOPE__BODY_EXAMINER_SCORE:
        s->examiner_scores++;
        break;
    default:
        return jk_error_set(err, JK_ERR_INVAL, "session %s: not a session event",
                            s->entry->session_id);
    }
    if (s->reconciled) {
        /* A new event after reconciliation (a void found later, a late
         * examiner score): the session must be reconciled again, and its
         * final record is needed until then. */
        s->reconciled = false;
        s->reconcile_at_us = 0;
        s->first_lsn = s->reconciled_lsn;
    }
    s->state = next;
    s->last_seq = env->seq;
    if (s->first_lsn == 0 || lsn < s->first_lsn)
        s->first_lsn = lsn;
    if (!replay)
        JK_DEBUG("session.event", "session=%s seq=%llu kind=%s state=%s", s->entry->session_id,
                 (unsigned long long)env->seq, jk_codec_kind_name(env->kind),
                 jk_session_state_name(s->state));
    return JK_OK;
}

/* ---- making events ---- */

jk_err_t examd__emit(examd_t *ex, ex_session_t *s, Jk__Kind kind, examd_fill_fn fill, void *ud,
                     uint64_t *lsn_out, jk_error_t *err)
{
    if (jk_wal_failed(ex->wal))
        return jk_error_set(err, JK_ERR_IO, "the write-ahead log has failed; nothing is accepted");
    if (ex->broken)
        return jk_error_set(err, JK_ERR_INTERNAL, "the exam node is stopping; nothing is accepted");
    int64_t now = jk_clock_wall_ms(ex->clock);
    Jk__Envelope env = JK__ENVELOPE__INIT;
    env.has_schema_version = 1;
    env.schema_version = JK_SCHEMA_VERSION;
    env.has_kind = 1;
    env.kind = kind;
    env.key_id = "s1";
    env.node_id = ex->cfg.node_id;
    env.has_message_id = 1;
    env.message_id = examd__message_id(ex);
    env.exam_id = ex->sitting_id;
    env.site_id = ex->site_id;
    env.room_id = (char *)s->room;
    env.session_id = (char *)s->entry->session_id;
    env.candidate_id = (char *)s->entry->admission;
    env.has_seq = 1;
    env.seq = s->last_seq + 1;
    env.has_event_time_ms = 1;
    env.event_time_ms = (uint64_t)now;
    env.has_sent_time_ms = 1;
    env.sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    fill(&env, ud);

    /* The state machine and the clock decide before anything is logged. */
    jk_session_event_t ev;
    jk_session_state_t next;
    jk_err_t rc = jk_codec_session_event(&env, &ev, err);
    if (rc != JK_OK)
        return rc;
    if (jk_session_fsm_next(s->state, ev, &next) != JK_OK)
        return jk_error_set(err, JK_ERR_STATE, "%s is not allowed while the session is %s",
                            jk_session_event_name(ev), jk_session_state_name(s->state));
    if ((ev == JK_SESSION_EV_ANSWER || ev == JK_SESSION_EV_SUBMIT) &&
        examd__remaining_ms(ex, s, now) <= 0)
        return jk_error_set(err, JK_ERR_LATE, "time is up for session %s", s->entry->session_id);

    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = jk_codec_encode_signed(&env, s->key, sizeof s->key, &bytes, &len, err);
    if (rc != JK_OK)
        return rc;
    uint64_t lsn = 0;
    rc = jk_wal_append(ex->wal, EXAMD_WAL_EVENT, bytes, len, &lsn, err);
    if (rc == JK_ERR_FULL) {
        /* Too much pending: commit now, then append. */
        uint64_t durable;
        if (jk_wal_commit(ex->wal, &durable, err) == JK_OK) {
            ex->durable_lsn = durable;
            rc = jk_wal_append(ex->wal, EXAMD_WAL_EVENT, bytes, len, &lsn, err);
        }
    }
    if (rc != JK_OK) {
        free(bytes);
        return rc;
    }
    rc = examd__apply(ex, s, &env, bytes, len, lsn, false, err);
    if (rc != JK_OK) {
        /* Not reachable: emit checked the same machine. But the record is
         * appended: committed, it would make replay fail (or the next event
         * would reuse its seq and replay would find two records for one
         * seq), and examd would refuse to start. So nothing more is
         * accepted and examd_run stops before the next commit; the record
         * is dropped with the uncommitted rest (never acknowledged). */
        ex->broken = true;
        snprintf(ex->broken_why, sizeof ex->broken_why,
                 "session %s: event seq %llu (lsn %llu) was logged but could not be applied: %.100s",
                 s->entry->session_id, (unsigned long long)env.seq, (unsigned long long)lsn,
                 err ? err->msg : "?");
        JK_ERROR("session.apply_failed",
                 "session=%s seq=%llu lsn=%llu error=%s action=stop note=\"the record is not "
                 "committed; examd stops and a restart recovers the state before it\"",
                 s->entry->session_id, (unsigned long long)env.seq, (unsigned long long)lsn,
                 jk_log_value(err ? err->msg : "", (char[JK_LOG_VALUE_MAX]){ 0 }));
        free(bytes);
        return rc;
    }
    examd__outbox_add_take(ex, s, env.seq, bytes, len); /* takes bytes */
    ex->stats.events++;
    if (lsn_out)
        *lsn_out = lsn;
    return JK_OK;
}

/* ---- time-up and downtime ---- */

typedef struct {
    Jk__Submit sub;
    uint8_t digest[JK_CODEC_DIGEST_LEN];
} s_submit_t;

static void s_fill_submit(Jk__Envelope *env, void *ud)
{
    s_submit_t *su = ud;
    env->body_case = JK__ENVELOPE__BODY_SUBMIT;
    env->submit = &su->sub;
}

/* Builds the Submit body for session s: reason, count and digest of the
 * events before it, answered items. */
static void s_submit_body(ex_session_t *s, Jk__SubmitReason reason, s_submit_t *su)
{
    Jk__Submit init = JK__SUBMIT__INIT;
    su->sub = init;
    su->sub.has_reason = 1;
    su->sub.reason = reason;
    su->sub.has_final_event_count = 1;
    su->sub.final_event_count = s->last_seq;
    examd__session_digest(s, su->digest);
    su->sub.has_digest = 1;
    su->sub.digest.data = su->digest;
    su->sub.digest.len = sizeof su->digest;
    uint32_t answered = 0;
    for (size_t k = 0; k < s->n_slots; k++)
        answered += s->slots[k].response != NULL;
    su->sub.has_answered_count = 1;
    su->sub.answered_count = answered;
}

jk_err_t examd__submit(examd_t *ex, ex_session_t *s, Jk__SubmitReason reason, const char *proctor,
                       const char *why, uint64_t *lsn, jk_error_t *err)
{
    s_submit_t su;
    s_submit_body(s, reason, &su);
    su.sub.proctor_id = (char *)proctor;
    su.sub.reason_text = (char *)why;
    return examd__emit(ex, s, JK__KIND__KIND_SUBMIT, s_fill_submit, &su, lsn, err);
}

void examd__check_deadlines(examd_t *ex)
{
    int64_t now = jk_clock_wall_ms(ex->clock);
    for (size_t i = 0; i < ex->n_sessions; i++) {
        ex_session_t *s = &ex->sessions[i];
        if (s->state != JK_SESSION_IN_PROGRESS || examd__remaining_ms(ex, s, now) > 0)
            continue;
        /* The deadline has passed: the session is submitted as TIME_UP
         * (emit's deadline check applies to the candidate's own ANSWER and
         * SUBMIT only). */
        s_submit_t su;
        s_submit_body(s, JK__SUBMIT_REASON__SUBMIT_REASON_TIME_UP, &su);
        jk_error_t err;
        if (examd__emit(ex, s, JK__KIND__KIND_SUBMIT, s_fill_submit, &su, NULL, &err) == JK_OK) {
            ex->stats.time_ups++;
            JK_INFO("session.time_up", "session=%s candidate=%s answered=%u", s->entry->session_id,
                    s->entry->admission, su.sub.answered_count);
        } else {
            JK_ERROR("session.time_up_failed", "session=%s error=%s", s->entry->session_id,
                     jk_log_value(err.msg, (char[JK_LOG_VALUE_MAX]){ 0 }));
        }
    }
}

typedef struct {
    Jk__ProctorAction pa;
} s_action_t;

static void s_fill_action(Jk__Envelope *env, void *ud)
{
    env->body_case = JK__ENVELOPE__BODY_PROCTOR_ACTION;
    env->proctor_action = &((s_action_t *)ud)->pa;
}

void examd__credit_downtime(examd_t *ex, int64_t lost_ms)
{
    if (lost_ms <= 0)
        return;
    for (size_t i = 0; i < ex->n_sessions; i++) {
        ex_session_t *s = &ex->sessions[i];
        if (s->state != JK_SESSION_IN_PROGRESS)
            continue; /* a paused clock was stopped anyway */
        int64_t left = lost_ms;
        while (left > 0) {
            int64_t part = left > (int64_t)JK_CODEC_EXTENSION_MAX_MS ? (int64_t)JK_CODEC_EXTENSION_MAX_MS : left;
            s_action_t a = { JK__PROCTOR_ACTION__INIT };
            a.pa.has_action = 1;
            a.pa.action = JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME;
            a.pa.proctor_id = "system";
            a.pa.reason = "exam node restart: downtime credited";
            a.pa.has_extension_ms = 1;
            a.pa.extension_ms = (uint64_t)(part < 1 ? 1 : part);
            jk_error_t err;
            if (examd__emit(ex, s, JK__KIND__KIND_PROCTOR_ACTION, s_fill_action, &a, NULL, &err) != JK_OK) {
                JK_ERROR("session.credit_failed", "session=%s error=%s", s->entry->session_id,
                         jk_log_value(err.msg, (char[JK_LOG_VALUE_MAX]){ 0 }));
                break;
            }
            left -= part;
        }
        JK_INFO("session.downtime_credited", "session=%s ms=%lld", s->entry->session_id,
                (long long)lost_ms);
    }
}
