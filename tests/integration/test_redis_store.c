/*
 * integration.redis_store: scorerd's Redis layer (scorerd/redis_store.c and
 * the Functions library scorerd/jikao.lua) against a real redis-server.
 *
 * Each test starts its own redis-server (AOF on) on a free port and a store
 * driven by a zmq_poll loop as scorerd drives it. The stories: every kind of
 * session event applied and read back; duplicates and seq conflicts change
 * nothing; every permutation of a small session (with duplicates) gives the
 * same stored state and completes it exactly once; a result is stored once
 * (a void may replace it); reconcile names the missing seqs and the digest
 * of what is there; bad arguments are refused with their name; a kill -9 of
 * Redis fails each outstanding request once with UNAVAIL, and the store
 * reconnects when Redis is back, with the data restored from the AOF; a
 * frozen Redis (SIGSTOP) gives TIMEOUT and the store recovers after
 * SIGCONT; the in-flight bound refuses with FULL; a flushed library is
 * reloaded; AUTH works and a wrong password keeps the store from ready.
 *
 * Timeouts in the configuration are there to make a frozen Redis visible;
 * no test depends on how long anything takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "jk_codec.h"
#include "jk_harness.h"
#include "jk_log.h"
#include "jk_session_fsm.h"
#include "redis_store.h"

_Static_assert(REDIS_STORE_POLLIN == ZMQ_POLLIN, "poll bits must equal zmq's");
_Static_assert(REDIS_STORE_POLLOUT == ZMQ_POLLOUT, "poll bits must equal zmq's");
_Static_assert(REDIS_STORE_POLLERR == ZMQ_POLLERR, "poll bits must equal zmq's");

#define WAIT_MS 30000
#define T0 UINT64_C(1767225600000) /* 2026-01-01T00:00Z */

/* ---------------------------------------------------------------------- */
/* Envelopes.                                                               */

typedef struct {
    Jk__Envelope env;
    Jk__SessionOpen open;
    Jk__SessionResume resume;
    Jk__Answer answer;
    Jk__Submit submit;
    Jk__ProctorAction proctor;
    Jk__ExaminerScore xs;
    Jk__Heartbeat hb;
    Jk__Response resp;
    Jk__Selection sel;
    uint32_t opt[1];
    uint8_t digest[JK_CODEC_DIGEST_LEN];
    char sid[JK_CODEC_ID_MAX + 1];
    char item[JK_CODEC_ID_MAX + 1];
    char ws[JK_CODEC_ID_MAX + 1];
    char examiner[JK_CODEC_ID_MAX + 1];
} ev_t;

static uint8_t s_paper_digest[JK_CODEC_DIGEST_LEN] = {0x5a, 1, 2, 3};

static void ev_header(ev_t *e, const char *sid, uint64_t seq, Jk__Kind kind)
{
    memset(e, 0, sizeof *e);
    e->env = (Jk__Envelope)JK__ENVELOPE__INIT;
    e->env.has_schema_version = 1;
    e->env.schema_version = JK_SCHEMA_VERSION;
    e->env.has_kind = 1;
    e->env.kind = kind;
    e->env.node_id = "examd-0101";
    e->env.has_message_id = 1;
    e->env.message_id = 1000 + seq;
    e->env.has_sent_time_ms = 1;
    e->env.sent_time_ms = T0 + seq * 1000 + 7;
    e->env.body_case = (Jk__Envelope__BodyCase)(100 + kind);
    snprintf(e->sid, sizeof e->sid, "%s", sid);
    e->env.session_id = e->sid;
    e->env.exam_id = "E2026-06";
    e->env.site_id = "S0101";
    e->env.room_id = "R03";
    e->env.candidate_id = "C0001";
    e->env.has_seq = 1;
    e->env.seq = seq;
    e->env.has_event_time_ms = 1;
    e->env.event_time_ms = T0 + seq * 1000;
}

static void ev_check(const ev_t *e)
{
    jk_error_t err;
    if (jk_codec_validate(&e->env, NULL, &err) != JK_OK)
        fail_msg("test envelope seq %llu invalid: %s", (unsigned long long)e->env.seq, err.msg);
}

static ev_t *ev_open(ev_t *e, const char *sid, uint64_t seq)
{
    ev_header(e, sid, seq, JK__KIND__KIND_SESSION_OPEN);
    e->open = (Jk__SessionOpen)JK__SESSION_OPEN__INIT;
    e->open.paper_id = "P-L5-T-0001";
    e->open.has_paper_digest = 1;
    e->open.paper_digest.data = s_paper_digest;
    e->open.paper_digest.len = sizeof s_paper_digest;
    e->open.has_exam = 1;
    e->open.exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
    e->open.has_level = 1;
    e->open.level = 5;
    e->open.has_duration_ms = 1;
    e->open.duration_ms = 5400000;
    e->open.workstation_id = "WS-R03-17";
    e->open.has_item_count = 1;
    e->open.item_count = 3;
    e->env.session_open = &e->open;
    ev_check(e);
    return e;
}

/* option 0: cleared; option -1: judgment true; otherwise selection {option}. */
static ev_t *ev_answer(ev_t *e, const char *sid, uint64_t seq, const char *item, int option,
                       bool flagged)
{
    ev_header(e, sid, seq, JK__KIND__KIND_ANSWER);
    e->answer = (Jk__Answer)JK__ANSWER__INIT;
    snprintf(e->item, sizeof e->item, "%s", item);
    e->answer.item_id = e->item;
    e->answer.has_flagged = 1;
    e->answer.flagged = flagged;
    e->answer.has_change_counter = 1;
    e->answer.change_counter = (uint32_t)seq;
    e->resp = (Jk__Response)JK__RESPONSE__INIT;
    if (option == -1) {
        e->resp.value_case = JK__RESPONSE__VALUE_JUDGMENT;
        e->resp.judgment = 1;
        e->answer.response = &e->resp;
    } else if (option > 0) {
        e->sel = (Jk__Selection)JK__SELECTION__INIT;
        e->opt[0] = (uint32_t)option;
        e->sel.n_option_ids = 1;
        e->sel.option_ids = e->opt;
        e->resp.value_case = JK__RESPONSE__VALUE_SELECTION;
        e->resp.selection = &e->sel;
        e->answer.response = &e->resp;
    }
    e->env.answer = &e->answer;
    ev_check(e);
    return e;
}

static ev_t *ev_submit(ev_t *e, const char *sid, uint64_t seq, const uint8_t *digest)
{
    ev_header(e, sid, seq, JK__KIND__KIND_SUBMIT);
    e->submit = (Jk__Submit)JK__SUBMIT__INIT;
    e->submit.has_reason = 1;
    e->submit.reason = JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE;
    e->submit.has_final_event_count = 1;
    e->submit.final_event_count = seq - 1;
    if (digest)
        memcpy(e->digest, digest, sizeof e->digest);
    e->submit.has_digest = 1;
    e->submit.digest.data = e->digest;
    e->submit.digest.len = sizeof e->digest;
    e->env.submit = &e->submit;
    ev_check(e);
    return e;
}

static ev_t *ev_proctor(ev_t *e, const char *sid, uint64_t seq, Jk__ProctorActionKind action,
                        uint64_t extension_ms)
{
    ev_header(e, sid, seq, JK__KIND__KIND_PROCTOR_ACTION);
    e->proctor = (Jk__ProctorAction)JK__PROCTOR_ACTION__INIT;
    e->proctor.has_action = 1;
    e->proctor.action = action;
    e->proctor.proctor_id = "PR-07";
    if (action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME ||
        action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID ||
        action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT)
        e->proctor.reason = "workstation fault";
    if (extension_ms) {
        e->proctor.has_extension_ms = 1;
        e->proctor.extension_ms = extension_ms;
    }
    e->env.proctor_action = &e->proctor;
    return e;
}

static ev_t *ev_resume(ev_t *e, const char *sid, uint64_t seq, const char *ws)
{
    ev_header(e, sid, seq, JK__KIND__KIND_SESSION_RESUME);
    e->resume = (Jk__SessionResume)JK__SESSION_RESUME__INIT;
    snprintf(e->ws, sizeof e->ws, "%s", ws);
    e->resume.new_workstation_id = e->ws;
    e->resume.old_workstation_id = "WS-R03-17";
    e->resume.proctor_id = "PR-07";
    e->resume.has_last_seen_seq = 1;
    e->resume.last_seen_seq = seq - 1;
    e->env.session_resume = &e->resume;
    ev_check(e);
    return e;
}

static ev_t *ev_xscore(ev_t *e, const char *sid, uint64_t seq, const char *examiner,
                       uint32_t points)
{
    ev_header(e, sid, seq, JK__KIND__KIND_EXAMINER_SCORE);
    e->xs = (Jk__ExaminerScore)JK__EXAMINER_SCORE__INIT;
    e->xs.task_id = "T1";
    e->xs.part_id = "P1";
    snprintf(e->examiner, sizeof e->examiner, "%s", examiner);
    e->xs.examiner_id = e->examiner;
    e->xs.has_points_centi = 1;
    e->xs.points_centi = points;
    e->xs.has_max_points_centi = 1;
    e->xs.max_points_centi = 1000;
    e->env.examiner_score = &e->xs;
    ev_check(e);
    return e;
}

static void ev_hash(const ev_t *e, uint8_t out[JK_CODEC_DIGEST_LEN])
{
    assert_int_equal(jk_codec_event_hash(&e->env, out, NULL), JK_OK);
}

/* ---------------------------------------------------------------------- */
/* The poll loop, as scorerd runs it.                                       */

static void s_pump_once(redis_store_t *s, long max_ms)
{
    int fds[REDIS_STORE_FDS_MAX];
    zmq_pollitem_t it[REDIS_STORE_FDS_MAX];
    size_t n = redis_store_fds(s, fds);
    long t = redis_store_next_timeout_ms(s);
    if (t < 0 || t > max_ms)
        t = max_ms;
    for (size_t i = 0; i < n; i++) {
        it[i].socket = NULL;
        it[i].fd = fds[i];
        it[i].events = redis_store_poll_events(s);
        it[i].revents = 0;
    }
    zmq_poll(n ? it : NULL, (int)n, t);
    redis_store_handle(s, n ? it[0].revents : 0);
}

typedef bool (*cond_fn)(void *ctx);

typedef struct {
    redis_store_t *s;
    cond_fn cond;
    void *ctx;
} pump_t;

static bool s_pump_pred(void *ud)
{
    pump_t *p = ud;
    s_pump_once(p->s, 5);
    return p->cond(p->ctx);
}

#define PUMP_UNTIL(store, cond, ctx, what)                        \
    do {                                                          \
        pump_t p_ = {(store), (cond), (ctx)};                     \
        JK_HARNESS_WAIT(s_pump_pred, &p_, WAIT_MS, (what));       \
    } while (0)

static bool s_is_ready(void *ctx)
{
    return redis_store_ready(ctx);
}

typedef struct {
    redis_store_t *s;
    uint64_t n;
} failures_t;

/* At least n connection attempts have failed. */
static bool s_failed_n(void *ctx)
{
    failures_t *w = ctx;
    redis_store_stats_t st;
    redis_store_get_stats(w->s, &st);
    return st.connect_failures >= w->n;
}

/* ---------------------------------------------------------------------- */
/* Callback recorders.                                                      */

typedef struct {
    int calls;
    jk_err_t rc;
    char errstr[256];
    redis_store_apply_reply_t reply;
} apply_rec_t;

static void s_apply_cb(void *ud, jk_err_t rc, const char *errstr,
                       const redis_store_apply_reply_t *reply)
{
    apply_rec_t *r = ud;
    r->calls++;
    r->rc = rc;
    snprintf(r->errstr, sizeof r->errstr, "%s", errstr);
    if (rc == JK_OK) {
        assert_non_null(reply);
        r->reply = *reply;
    } else {
        assert_null(reply);
    }
}

static bool s_called(void *ctx)
{
    return ((apply_rec_t *)ctx)->calls > 0;
}

typedef struct {
    apply_rec_t *recs;
    size_t n;
} recs_t;

static bool s_all_called(void *ctx)
{
    recs_t *r = ctx;
    for (size_t i = 0; i < r->n; i++)
        if (r->recs[i].calls == 0)
            return false;
    return true;
}

typedef struct {
    int calls;
    jk_err_t rc;
    char errstr[256];
    redis_store_state_t *state;
} state_rec_t;

static void s_state_cb(void *ud, jk_err_t rc, const char *errstr, redis_store_state_t **st)
{
    state_rec_t *r = ud;
    r->calls++;
    r->rc = rc;
    snprintf(r->errstr, sizeof r->errstr, "%s", errstr);
    assert_non_null(st);
    if (rc == JK_OK) {
        assert_non_null(*st);
        r->state = *st; /* take it */
        *st = NULL;
    } else {
        assert_null(*st);
    }
}

static bool s_state_called(void *ctx)
{
    return ((state_rec_t *)ctx)->calls > 0;
}

typedef struct {
    int calls;
    jk_err_t rc;
    redis_store_result_reply_t reply;
} result_rec_t;

static void s_result_cb(void *ud, jk_err_t rc, const char *errstr,
                        const redis_store_result_reply_t *reply)
{
    result_rec_t *r = ud;
    (void)errstr;
    r->calls++;
    r->rc = rc;
    if (reply)
        r->reply = *reply;
}

static bool s_result_called(void *ctx)
{
    return ((result_rec_t *)ctx)->calls > 0;
}

typedef struct {
    int calls;
    jk_err_t rc;
    redis_store_reconcile_t reply;
} rec_rec_t;

static void s_reconcile_cb(void *ud, jk_err_t rc, const char *errstr,
                           const redis_store_reconcile_t *reply)
{
    rec_rec_t *r = ud;
    (void)errstr;
    r->calls++;
    r->rc = rc;
    if (reply)
        r->reply = *reply;
}

static bool s_reconcile_called(void *ctx)
{
    return ((rec_rec_t *)ctx)->calls > 0;
}

/* ---------------------------------------------------------------------- */
/* Fixture.                                                                 */

typedef struct {
    jk_redis_t *redis;
    redis_store_t *store;
    redis_store_config_t cfg;
} fx_t;

static void s_config(fx_t *f, int port)
{
    redis_store_config_default(&f->cfg);
    f->cfg.port = port;
    f->cfg.library_path =
        redis_store_library_embedded() ? NULL : JK_SOURCE_DIR "/scorerd/jikao.lua";
    /* Generous: only a frozen Redis should ever reach it here. */
    f->cfg.request_timeout_ms = 20000;
    f->cfg.reconnect_max_ms = 200;
}

static void s_store_start(fx_t *f)
{
    jk_error_t err;
    f->store = redis_store_new(&f->cfg, &err);
    if (!f->store)
        fail_msg("redis_store_new: %s", err.msg);
    PUMP_UNTIL(f->store, s_is_ready, f->store, "the store to become ready");
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->redis = jk_harness_redis_start(NULL, 0, true);
    if (!f->redis) {
        free(f);
        return -1;
    }
    s_config(f, jk_harness_redis_port(f->redis));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    redis_store_destroy(&f->store);
    jk_harness_redis_free(&f->redis);
    free(f);
    return 0;
}

/* Applies one event and waits for its answer. */
static apply_rec_t s_apply(fx_t *f, const ev_t *e)
{
    apply_rec_t rec = {0};
    jk_error_t err;
    jk_err_t rc = redis_store_apply(f->store, &e->env, s_apply_cb, &rec, &err);
    if (rc != JK_OK)
        fail_msg("redis_store_apply seq %llu: %s", (unsigned long long)e->env.seq, err.msg);
    PUMP_UNTIL(f->store, s_called, &rec, "jk_apply's answer");
    assert_int_equal(rec.calls, 1);
    return rec;
}

static void s_expect_applied(fx_t *f, const ev_t *e)
{
    apply_rec_t r = s_apply(f, e);
    if (r.rc != JK_OK)
        fail_msg("seq %llu: %s: %s", (unsigned long long)e->env.seq, jk_strerror(r.rc), r.errstr);
    assert_int_equal(r.reply.outcome, REDIS_STORE_APPLIED);
}

static redis_store_state_t *s_state(fx_t *f, const char *sid)
{
    state_rec_t rec = {0};
    jk_error_t err;
    if (redis_store_state(f->store, sid, s_state_cb, &rec, &err) != JK_OK)
        fail_msg("redis_store_state: %s", err.msg);
    PUMP_UNTIL(f->store, s_state_called, &rec, "jk_state's answer");
    if (rec.rc != JK_OK)
        fail_msg("jk_state: %s: %s", jk_strerror(rec.rc), rec.errstr);
    return rec.state;
}

static result_rec_t s_result(fx_t *f, const char *sid, Jk__ResultStatus status)
{
    result_rec_t rec = {0};
    jk_error_t err;
    Jk__ExamResult res = JK__EXAM_RESULT__INIT;
    res.has_exam = 1;
    res.exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
    res.has_status = 1;
    res.status = status;
    res.session_id = (char *)sid;
    if (status == JK__RESULT_STATUS__RESULT_STATUS_SCORED) {
        res.has_total_centi = 1;
        res.total_centi = 7250;
        res.has_passed = 1;
        res.passed = 1;
    }
    if (redis_store_result(f->store, sid, &res, s_result_cb, &rec, &err) != JK_OK)
        fail_msg("redis_store_result: %s", err.msg);
    PUMP_UNTIL(f->store, s_result_called, &rec, "jk_result's answer");
    assert_int_equal(rec.rc, JK_OK);
    return rec;
}

static redis_store_reconcile_t s_reconcile(fx_t *f, const char *sid, uint64_t count)
{
    rec_rec_t rec = {0};
    jk_error_t err;
    if (redis_store_reconcile(f->store, sid, count, s_reconcile_cb, &rec, &err) != JK_OK)
        fail_msg("redis_store_reconcile: %s", err.msg);
    PUMP_UNTIL(f->store, s_reconcile_called, &rec, "jk_reconcile's answer");
    assert_int_equal(rec.rc, JK_OK);
    return rec.reply;
}

/* ---------------------------------------------------------------------- */
/* Tests.                                                                   */

/* Every kind, then the state read back in full. */
static void test_apply_each_kind(void **state)
{
    fx_t *f = *state;
    const char *sid = "SES-ALL-1";
    static ev_t ev[14];
    uint8_t hashes[13][JK_CODEC_DIGEST_LEN];
    s_store_start(f);

    ev_proctor(&ev[0], sid, 1, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_AUTHORIZE, 0);
    ev_open(&ev[1], sid, 2);
    ev_answer(&ev[2], sid, 3, "I1", 2, false);
    ev_answer(&ev[3], sid, 4, "I2", -1, true);
    ev_proctor(&ev[4], sid, 5, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE, 0);
    ev_proctor(&ev[5], sid, 6, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME, 600000);
    ev_resume(&ev[6], sid, 7, "WS-R03-18");
    ev_proctor(&ev[7], sid, 8, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_RESUME, 0);
    ev_answer(&ev[8], sid, 9, "I1", 3, false);
    ev_xscore(&ev[9], sid, 10, "X1", 800);
    ev_answer(&ev[10], sid, 11, "I3", 0, false);
    for (int i = 0; i < 11; i++) {
        ev_check(&ev[i]);
        ev_hash(&ev[i], hashes[i]);
    }
    uint8_t digest[JK_CODEC_DIGEST_LEN];
    assert_int_equal(jk_codec_session_digest((const uint8_t (*)[32])hashes, 11, digest, NULL),
                     JK_OK);
    ev_submit(&ev[11], sid, 12, digest);
    ev_hash(&ev[11], hashes[11]);
    ev_xscore(&ev[12], sid, 13, "X2", 900);
    ev_hash(&ev[12], hashes[12]);

    for (int i = 0; i < 13; i++) {
        apply_rec_t r = s_apply(f, &ev[i]);
        assert_int_equal(r.rc, JK_OK);
        assert_int_equal(r.reply.outcome, REDIS_STORE_APPLIED);
        assert_int_equal(r.reply.applied, (uint64_t)i + 1);
        assert_int_equal(r.reply.last_seq, (uint64_t)i + 1);
        /* The submit (seq 12) completes the session: 1..12 are all there. */
        assert_int_equal(r.reply.became_complete, i == 11);
        assert_int_equal(r.reply.complete, i >= 11);
        assert_int_equal(r.reply.submit_seq, i >= 11 ? 12 : 0);
        assert_false(r.reply.scored);
    }

    redis_store_state_t *st = s_state(f, sid);
    assert_true(st->known);
    assert_string_equal(st->exam_id, "E2026-06");
    assert_string_equal(st->site_id, "S0101");
    assert_string_equal(st->room_id, "R03");
    assert_string_equal(st->candidate_id, "C0001");
    assert_int_equal(st->open_seq, 2);
    assert_string_equal(st->paper_id, "P-L5-T-0001");
    assert_memory_equal(st->paper_digest, s_paper_digest, 32);
    assert_int_equal(st->exam_type, JK__EXAM_TYPE__EXAM_TYPE_THEORY);
    assert_int_equal(st->level, 5);
    assert_int_equal(st->duration_ms, 5400000);
    assert_int_equal(st->item_count, 3);
    assert_int_equal(st->open_time_ms, T0 + 2000);
    assert_string_equal(st->workstation_id, "WS-R03-18");
    assert_int_equal(st->relocations, 1);
    assert_int_equal(st->status, JK_SESSION_SUBMITTED);
    assert_int_equal(st->status_seq, 12);
    assert_int_equal(st->applied, 13);
    assert_int_equal(st->last_seq, 13);
    assert_int_equal(st->submit_seq, 12);
    assert_int_equal(st->submit_reason, JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE);
    assert_int_equal(st->submit_time_ms, T0 + 12000);
    assert_memory_equal(st->submit_digest, digest, 32);
    assert_string_equal(st->submit_proctor_id, "");
    assert_true(st->complete);
    assert_int_equal(st->pause_count, 1);
    assert_int_equal(st->resume_count, 1);
    /* Paused from seq 5 to seq 8: 3 s. */
    assert_int_equal(st->resume_time_sum_ms - st->pause_time_sum_ms, 3000);
    assert_int_equal(st->ext_count, 1);
    assert_int_equal(st->ext_total_ms, 600000);
    assert_false(st->scored);
    assert_int_equal(st->result_status, 0);
    assert_null(st->result);

    /* Events in seq order: the hashes examd computed, and the state machine
     * events; replaying them through the machine ends in SUBMITTED. */
    assert_int_equal(st->n_events, 13);
    const jk_session_event_t want_ev[13] = {
        JK_SESSION_EV_AUTHORIZE, JK_SESSION_EV_OPEN,   JK_SESSION_EV_ANSWER,
        JK_SESSION_EV_ANSWER,    JK_SESSION_EV_PAUSE,  JK_SESSION_EV_EXTEND,
        JK_SESSION_EV_RELOCATE,  JK_SESSION_EV_RESUME, JK_SESSION_EV_ANSWER,
        JK_SESSION_EV_EXAMINER_SCORE, JK_SESSION_EV_ANSWER, JK_SESSION_EV_SUBMIT,
        JK_SESSION_EV_EXAMINER_SCORE};
    jk_session_state_t fsm = JK_SESSION_REGISTERED;
    for (size_t i = 0; i < 13; i++) {
        assert_memory_equal(st->event_hash[i], hashes[i], 32);
        assert_int_equal(st->event[i], want_ev[i]);
        assert_int_equal(jk_session_fsm_next(fsm, st->event[i], &fsm), JK_OK);
    }
    assert_int_equal(fsm, JK_SESSION_SUBMITTED);

    /* Answers: I1 from seq 9 (not 3), I2 flagged judgment, I3 cleared. */
    assert_int_equal(st->n_answers, 3);
    assert_string_equal(st->answers[0].item_id, "I1");
    assert_int_equal(st->answers[0].seq, 9);
    assert_int_equal(st->answers[0].change_counter, 9);
    Jk__Response *resp = jk__response__unpack(NULL, st->answers[0].response_len,
                                               st->answers[0].response);
    assert_non_null(resp);
    assert_int_equal(resp->value_case, JK__RESPONSE__VALUE_SELECTION);
    assert_int_equal(resp->selection->n_option_ids, 1);
    assert_int_equal(resp->selection->option_ids[0], 3);
    jk__response__free_unpacked(resp, NULL);
    assert_string_equal(st->answers[1].item_id, "I2");
    assert_true(st->answers[1].flagged);
    assert_non_null(st->answers[1].response);
    assert_string_equal(st->answers[2].item_id, "I3");
    assert_null(st->answers[2].response);
    assert_int_equal(st->answers[2].seq, 11);

    assert_int_equal(st->n_xscores, 2);
    assert_string_equal(st->xscores[0].examiner_id, "X1");
    assert_int_equal(st->xscores[0].points_centi, 800);
    assert_int_equal(st->xscores[0].max_points_centi, 1000);
    assert_false(st->xscores[0].arbitration);
    assert_string_equal(st->xscores[1].examiner_id, "X2");
    assert_int_equal(st->xscores[1].seq, 13);
    redis_store_state_free(&st);
    assert_null(st);

    /* An unknown session reads as unknown. */
    st = s_state(f, "SES-NOBODY");
    assert_false(st->known);
    assert_int_equal(st->n_events, 0);
    assert_int_equal(st->n_answers, 0);
    redis_store_state_free(&st);

    /* Keys carry the session's hash tag. */
    redisReply *rep = jk_harness_redis_cmd(f->redis, "KEYS %s", "jk:*");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    assert_int_equal(rep->elements, 4);
    for (size_t i = 0; i < rep->elements; i++)
        assert_non_null(strstr(rep->element[i]->str, "jk:{SES-ALL-1}:"));
    freeReplyObject(rep);
}

static void test_duplicate_and_conflict(void **state)
{
    fx_t *f = *state;
    const char *sid = "SES-DUP-1";
    static ev_t a, a2, b;
    s_store_start(f);
    ev_answer(&a, sid, 1, "I1", 2, false);
    s_expect_applied(f, &a);

    /* A resend: new message id and send time, same event hash. */
    ev_answer(&a2, sid, 1, "I1", 2, false);
    a2.env.message_id = 99999;
    a2.env.sent_time_ms += 60000;
    apply_rec_t r = s_apply(f, &a2);
    assert_int_equal(r.rc, JK_OK);
    assert_int_equal(r.reply.outcome, REDIS_STORE_DUPLICATE);
    assert_int_equal(r.reply.applied, 1);

    /* Same seq, other content: a conflict, and nothing changes. */
    ev_answer(&b, sid, 1, "I1", 4, false);
    r = s_apply(f, &b);
    assert_int_equal(r.rc, JK_OK);
    assert_int_equal(r.reply.outcome, REDIS_STORE_SEQ_CONFLICT);
    assert_int_equal(r.reply.applied, 1);

    redis_store_state_t *st = s_state(f, sid);
    assert_int_equal(st->applied, 1);
    assert_int_equal(st->n_answers, 1);
    Jk__Response *resp = jk__response__unpack(NULL, st->answers[0].response_len,
                                               st->answers[0].response);
    assert_non_null(resp);
    assert_int_equal(resp->selection->option_ids[0], 2);
    jk__response__free_unpacked(resp, NULL);
    uint8_t h[32];
    ev_hash(&a, h);
    assert_memory_equal(st->event_hash[0], h, 32);
    redis_store_state_free(&st);
}

/* Compares two stored states field by field. */
static void s_assert_same_state(const redis_store_state_t *x, const redis_store_state_t *y)
{
    assert_int_equal(x->known, y->known);
    assert_string_equal(x->exam_id, y->exam_id);
    assert_string_equal(x->candidate_id, y->candidate_id);
    assert_int_equal(x->open_seq, y->open_seq);
    assert_string_equal(x->paper_id, y->paper_id);
    assert_int_equal(x->open_time_ms, y->open_time_ms);
    assert_string_equal(x->workstation_id, y->workstation_id);
    assert_int_equal(x->status, y->status);
    assert_int_equal(x->status_seq, y->status_seq);
    assert_int_equal(x->applied, y->applied);
    assert_int_equal(x->last_seq, y->last_seq);
    assert_int_equal(x->submit_seq, y->submit_seq);
    assert_int_equal(x->complete, y->complete);
    assert_int_equal(x->ext_count, y->ext_count);
    assert_int_equal(x->ext_total_ms, y->ext_total_ms);
    /* Hashes and digests differ between sessions (the session id is part
     * of every event); the caller checks them against its own. */
    assert_int_equal(x->n_events, y->n_events);
    for (size_t i = 0; i < x->n_events; i++)
        assert_int_equal(x->event[i], y->event[i]);
    assert_int_equal(x->n_answers, y->n_answers);
    for (size_t i = 0; i < x->n_answers; i++) {
        const redis_store_answer_t *p = &x->answers[i], *q = &y->answers[i];
        assert_string_equal(p->item_id, q->item_id);
        assert_int_equal(p->seq, q->seq);
        assert_int_equal(p->flagged, q->flagged);
        assert_int_equal(p->change_counter, q->change_counter);
        assert_int_equal(p->response_len, q->response_len);
        if (p->response_len)
            assert_memory_equal(p->response, q->response, p->response_len);
    }
    assert_int_equal(x->n_xscores, y->n_xscores);
    for (size_t i = 0; i < x->n_xscores; i++) {
        assert_string_equal(x->xscores[i].examiner_id, y->xscores[i].examiner_id);
        assert_int_equal(x->xscores[i].seq, y->xscores[i].seq);
        assert_int_equal(x->xscores[i].points_centi, y->xscores[i].points_centi);
    }
}

#define PERM_N 6

/* Next permutation in lexicographic order; false after the last. */
static bool s_next_perm(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return false;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return true;
}

/* Builds the small session's events for session sid into ev[0..PERM_N). */
static void s_small_session(ev_t *ev, const char *sid)
{
    uint8_t h[PERM_N - 1][JK_CODEC_DIGEST_LEN], d[JK_CODEC_DIGEST_LEN];
    ev_open(&ev[0], sid, 1);
    ev_answer(&ev[1], sid, 2, "I1", 1, false);
    ev_answer(&ev[2], sid, 3, "I1", 4, true); /* replaces seq 2 */
    ev_answer(&ev[3], sid, 4, "I2", -1, false);
    ev_proctor(&ev[4], sid, 5, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME, 300000);
    for (int i = 0; i < PERM_N - 1; i++)
        ev_hash(&ev[i], h[i]);
    assert_int_equal(jk_codec_session_digest((const uint8_t (*)[32])h, PERM_N - 1, d, NULL),
                     JK_OK);
    ev_submit(&ev[5], sid, 6, d);
}

/* Every order of a 6-event session, each with every event applied twice
 * (the second copy right after a later one), gives the same state, and
 * completes the session exactly once. */
static void test_permutations_same_state(void **state)
{
    fx_t *f = *state;
    static ev_t ev[PERM_N];
    apply_rec_t recs[2 * PERM_N];
    int perm[PERM_N];
    redis_store_state_t *ref = NULL;
    int sessions = 0;
    s_store_start(f);
    for (int i = 0; i < PERM_N; i++)
        perm[i] = i;
    do {
        char sid[32];
        snprintf(sid, sizeof sid, "SES-PERM-%03d", sessions);
        s_small_session(ev, sid);
        memset(recs, 0, sizeof recs);
        /* Order: p0, p1, p0(dup), p2, p1(dup), ... : all pipelined at once. */
        size_t k = 0;
        jk_error_t err;
        for (int i = 0; i < PERM_N; i++) {
            assert_int_equal(redis_store_apply(f->store, &ev[perm[i]].env, s_apply_cb, &recs[k++],
                                               &err),
                             JK_OK);
            if (i > 0)
                assert_int_equal(redis_store_apply(f->store, &ev[perm[i - 1]].env, s_apply_cb,
                                                   &recs[k++], &err),
                                 JK_OK);
        }
        assert_int_equal(redis_store_apply(f->store, &ev[perm[PERM_N - 1]].env, s_apply_cb,
                                           &recs[k++], &err),
                         JK_OK);
        recs_t all = {recs, k};
        PUMP_UNTIL(f->store, s_all_called, &all, "a permutation's answers");
        int applied = 0, dups = 0, became = 0;
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(recs[i].calls, 1);
            assert_int_equal(recs[i].rc, JK_OK);
            applied += recs[i].reply.outcome == REDIS_STORE_APPLIED;
            dups += recs[i].reply.outcome == REDIS_STORE_DUPLICATE;
            became += recs[i].reply.became_complete;
        }
        assert_int_equal(applied, PERM_N);
        assert_int_equal(dups, PERM_N);
        assert_int_equal(became, 1);

        redis_store_state_t *st = s_state(f, sid);
        uint8_t h[JK_CODEC_DIGEST_LEN];
        assert_int_equal(st->n_events, PERM_N);
        for (int i = 0; i < PERM_N; i++) {
            ev_hash(&ev[i], h);
            assert_memory_equal(st->event_hash[i], h, sizeof h);
        }
        assert_memory_equal(st->submit_digest, ev[PERM_N - 1].digest, JK_CODEC_DIGEST_LEN);
        assert_true(st->complete);
        assert_int_equal(st->status, JK_SESSION_SUBMITTED);
        assert_int_equal(st->n_answers, 2);
        assert_int_equal(st->answers[0].seq, 3);
        assert_true(st->answers[0].flagged);
        if (!ref)
            ref = st;
        else {
            s_assert_same_state(ref, st);
            redis_store_state_free(&st);
        }
        sessions++;
    } while (s_next_perm(perm, PERM_N));
    assert_int_equal(sessions, 720);
    redis_store_state_free(&ref);
}

static void test_result_once(void **state)
{
    fx_t *f = *state;
    static ev_t ev[PERM_N], v;
    s_store_start(f);

    /* Not complete yet: the submit is missing. */
    s_small_session(ev, "SES-RES-1");
    for (int i = 0; i < PERM_N - 1; i++)
        s_expect_applied(f, &ev[i]);
    result_rec_t r = s_result(f, "SES-RES-1", JK__RESULT_STATUS__RESULT_STATUS_SCORED);
    assert_int_equal(r.reply.outcome, REDIS_STORE_RESULT_NOT_READY);
    assert_int_equal(r.reply.result_status, 0);
    /* Nor can it be voided while not voided. */
    r = s_result(f, "SES-RES-1", JK__RESULT_STATUS__RESULT_STATUS_VOIDED);
    assert_int_equal(r.reply.outcome, REDIS_STORE_RESULT_NOT_READY);

    apply_rec_t a = s_apply(f, &ev[PERM_N - 1]);
    assert_true(a.reply.became_complete);
    r = s_result(f, "SES-RES-1", JK__RESULT_STATUS__RESULT_STATUS_SCORED);
    assert_int_equal(r.reply.outcome, REDIS_STORE_RESULT_STORED);
    assert_int_equal(r.reply.result_status, JK__RESULT_STATUS__RESULT_STATUS_SCORED);
    /* A second scorer racing for the same session: refused. */
    r = s_result(f, "SES-RES-1", JK__RESULT_STATUS__RESULT_STATUS_SCORED);
    assert_int_equal(r.reply.outcome, REDIS_STORE_RESULT_EXISTS);

    redis_store_state_t *st = s_state(f, "SES-RES-1");
    assert_true(st->scored);
    assert_int_equal(st->result_status, JK__RESULT_STATUS__RESULT_STATUS_SCORED);
    Jk__ExamResult *er = jk__exam_result__unpack(NULL, st->result_len, st->result);
    assert_non_null(er);
    assert_int_equal(er->total_centi, 7250);
    assert_string_equal(er->session_id, "SES-RES-1");
    jk__exam_result__free_unpacked(er, NULL);
    redis_store_state_free(&st);

    /* Cheating found later: VOID, then the void result replaces the score,
     * once. */
    ev_proctor(&v, "SES-RES-1", 7, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID, 0);
    a = s_apply(f, &v);
    assert_int_equal(a.reply.outcome, REDIS_STORE_APPLIED);
    assert_true(a.reply.scored);
    assert_false(a.reply.became_complete);
    r = s_result(f, "SES-RES-1", JK__RESULT_STATUS__RESULT_STATUS_SCORED);
    assert_int_equal(r.reply.outcome, REDIS_STORE_RESULT_NOT_READY);
    r = s_result(f, "SES-RES-1", JK__RESULT_STATUS__RESULT_STATUS_VOIDED);
    assert_int_equal(r.reply.outcome, REDIS_STORE_RESULT_STORED);
    r = s_result(f, "SES-RES-1", JK__RESULT_STATUS__RESULT_STATUS_VOIDED);
    assert_int_equal(r.reply.outcome, REDIS_STORE_RESULT_EXISTS);
    assert_int_equal(r.reply.result_status, JK__RESULT_STATUS__RESULT_STATUS_VOIDED);
}

static void test_reconcile_missing(void **state)
{
    fx_t *f = *state;
    static ev_t ev[PERM_N];
    uint8_t h[PERM_N][32], d[32];
    s_store_start(f);
    s_small_session(ev, "SES-REC-1");
    for (int i = 0; i < PERM_N; i++)
        ev_hash(&ev[i], h[i]);
    /* seqs 1, 2, 4, 6 */
    s_expect_applied(f, &ev[0]);
    s_expect_applied(f, &ev[1]);
    s_expect_applied(f, &ev[3]);
    s_expect_applied(f, &ev[5]);

    redis_store_reconcile_t c = s_reconcile(f, "SES-REC-1", 6);
    assert_true(c.known);
    assert_int_equal(c.count, 6);
    assert_int_equal(c.applied, 4);
    assert_int_equal(c.last_seq, 6);
    assert_false(c.complete);
    assert_int_equal(c.status, JK_SESSION_SUBMITTED);
    assert_int_equal(c.missing_total, 2);
    assert_int_equal(c.n_missing, 2);
    assert_int_equal(c.missing[0], 3);
    assert_int_equal(c.missing[1], 5);
    assert_int_equal(c.contiguous, 2);
    assert_int_equal(jk_codec_session_digest((const uint8_t (*)[32])h, 2, d, NULL), JK_OK);
    assert_memory_equal(c.digest, d, 32);

    /* examd resends the missing ones; now everything agrees. */
    s_expect_applied(f, &ev[4]);
    apply_rec_t a = s_apply(f, &ev[2]);
    assert_true(a.reply.became_complete);
    c = s_reconcile(f, "SES-REC-1", 6);
    assert_int_equal(c.missing_total, 0);
    assert_int_equal(c.n_missing, 0);
    assert_int_equal(c.contiguous, 6);
    assert_true(c.complete);
    assert_int_equal(jk_codec_session_digest((const uint8_t (*)[32])h, 6, d, NULL), JK_OK);
    assert_memory_equal(c.digest, d, 32);
    /* The digest the submit carried is D(5), as examd computed it. */
    redis_store_state_t *st = s_state(f, "SES-REC-1");
    assert_int_equal(jk_codec_session_digest((const uint8_t (*)[32])h, 5, d, NULL), JK_OK);
    assert_memory_equal(st->submit_digest, d, 32);
    redis_store_state_free(&st);

    /* examd claims more than the center has. */
    c = s_reconcile(f, "SES-REC-1", 8);
    assert_int_equal(c.missing_total, 2);
    assert_int_equal(c.missing[0], 7);
    assert_int_equal(c.contiguous, 6);

    /* Unknown session. */
    c = s_reconcile(f, "SES-NOBODY", 3);
    assert_false(c.known);
    assert_int_equal(c.contiguous, 0);
}

static void test_bad_arguments(void **state)
{
    fx_t *f = *state;
    static ev_t e;
    apply_rec_t rec = {0};
    jk_error_t err;
    s_store_start(f);

    /* Not a session event: refused at once, no callback. */
    ev_header(&e, "SES-BAD-1", 1, JK__KIND__KIND_HEARTBEAT);
    e.env.has_seq = 0;
    e.hb = (Jk__Heartbeat)JK__HEARTBEAT__INIT;
    e.env.heartbeat = &e.hb;
    assert_int_equal(redis_store_apply(f->store, &e.env, s_apply_cb, &rec, &err), JK_ERR_INVAL);
    assert_non_null(strstr(err.msg, "envelope.kind"));

    /* FORCE_SUBMIT is an order, never an event of the stream. */
    ev_proctor(&e, "SES-BAD-1", 1, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT, 0);
    assert_int_equal(redis_store_apply(f->store, &e.env, s_apply_cb, &rec, &err), JK_ERR_INVAL);

    /* A session id that is not an id (would break the hash tag). */
    ev_answer(&e, "SES-BAD-1", 1, "I1", 1, false);
    e.env.session_id = "a}b{c";
    assert_int_equal(redis_store_apply(f->store, &e.env, s_apply_cb, &rec, &err), JK_ERR_INVAL);
    assert_non_null(strstr(err.msg, "session_id"));

    /* Content the codec would refuse reaches the library, which refuses it
     * by name: an item id with a space. */
    ev_answer(&e, "SES-BAD-1", 1, "I1", 1, false);
    e.answer.item_id = "I 1";
    assert_int_equal(redis_store_apply(f->store, &e.env, s_apply_cb, &rec, &err), JK_OK);
    PUMP_UNTIL(f->store, s_called, &rec, "the refusal");
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.rc, JK_ERR_INVAL);
    assert_non_null(strstr(rec.errstr, "jk_apply: item_id"));

    /* An event time outside the window. */
    memset(&rec, 0, sizeof rec);
    ev_answer(&e, "SES-BAD-1", 1, "I1", 1, false);
    e.env.event_time_ms = 5;
    assert_int_equal(redis_store_apply(f->store, &e.env, s_apply_cb, &rec, &err), JK_OK);
    PUMP_UNTIL(f->store, s_called, &rec, "the refusal");
    assert_int_equal(rec.rc, JK_ERR_INVAL);
    assert_non_null(strstr(rec.errstr, "event_time_ms"));

    /* Nothing was written for the refused events. */
    redis_store_state_t *st = s_state(f, "SES-BAD-1");
    assert_false(st->known);
    redis_store_state_free(&st);

    /* More distinct items than a paper can have. */
    for (int i = 0; i < 500; i++) {
        char item[16];
        snprintf(item, sizeof item, "I%03d", i);
        ev_answer(&e, "SES-BIG-1", (uint64_t)i + 1, item, 1, false);
        s_expect_applied(f, &e);
    }
    ev_answer(&e, "SES-BIG-1", 501, "I500", 1, false);
    apply_rec_t r = s_apply(f, &e);
    assert_int_equal(r.rc, JK_ERR_TOO_BIG);
    ev_answer(&e, "SES-BIG-1", 502, "I007", 2, false); /* an existing item: fine */
    s_expect_applied(f, &e);

    /* Bad reconcile count and session id. */
    rec_rec_t rr = {0};
    assert_int_equal(redis_store_reconcile(f->store, "SES-BIG-1", 0, s_reconcile_cb, &rr, &err),
                     JK_ERR_INVAL);
    assert_int_equal(redis_store_reconcile(f->store, "SES-BIG-1", JK_CODEC_SEQ_MAX + 1,
                                           s_reconcile_cb, &rr, &err),
                     JK_ERR_INVAL);
    state_rec_t sr = {0};
    assert_int_equal(redis_store_state(f->store, "", s_state_cb, &sr, &err), JK_ERR_INVAL);

    /* The library refuses malformed calls made by hand too. */
    redisReply *rep = jk_harness_redis_cmd(f->redis, "FCALL jk_apply 4 a b c d 1 x answer");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(rep->str, "JKINVAL"));
    freeReplyObject(rep);

    redis_store_stats_t stats;
    redis_store_get_stats(f->store, &stats);
    assert_true(stats.refused_inval >= 3);
    assert_true(stats.errors[JK_ERR_INVAL] >= 2);
    assert_true(stats.errors[JK_ERR_TOO_BIG] >= 1);
}

/* kill -9 with requests outstanding: each fails once with UNAVAIL; the
 * store reconnects when Redis is back; the AOF brought the data back. */
static void test_kill9_and_aof_restart(void **state)
{
    fx_t *f = *state;
    static ev_t ev[PERM_N], extra[10];
    apply_rec_t recs[10];
    jk_error_t err;
    s_store_start(f);
    s_small_session(ev, "SES-KILL-1");
    for (int i = 0; i < PERM_N; i++)
        s_expect_applied(f, &ev[i]);

    /* Freeze Redis so the next requests are outstanding, not answered. */
    assert_true(jk_harness_redis_pause(f->redis));
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 10; i++) {
        ev_answer(&extra[i], "SES-KILL-2", (uint64_t)i + 1, "I1", 1 + i % 4, false);
        assert_int_equal(redis_store_apply(f->store, &extra[i].env, s_apply_cb, &recs[i], &err),
                         JK_OK);
    }
    for (int i = 0; i < 20; i++)
        s_pump_once(f->store, 1); /* written to the socket */
    assert_int_equal(recs[0].calls, 0);
    assert_true(jk_harness_redis_kill(f->redis));

    recs_t all = {recs, 10};
    PUMP_UNTIL(f->store, s_all_called, &all, "the outstanding requests to fail");
    for (int i = 0; i < 10; i++) {
        assert_int_equal(recs[i].calls, 1);
        assert_int_equal(recs[i].rc, JK_ERR_UNAVAIL);
    }
    assert_false(redis_store_ready(f->store));
    assert_int_equal(redis_store_capacity(f->store), 0);
    assert_int_equal(redis_store_apply(f->store, &ev[0].env, s_apply_cb, &recs[0], &err),
                     JK_ERR_UNAVAIL);
    assert_true(strlen(redis_store_errstr(f->store)) > 0);
    /* Keeps trying while Redis is down, and stays alive. */
    redis_store_stats_t stats;
    redis_store_get_stats(f->store, &stats);
    uint64_t failures = stats.connect_failures;
    for (int i = 0; i < 50; i++)
        s_pump_once(f->store, 5);
    /* Still exactly once: nothing more was called. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(recs[i].calls, 1);

    assert_true(jk_harness_redis_restart(f->redis));
    PUMP_UNTIL(f->store, s_is_ready, f->store, "the store to reconnect");
    redis_store_get_stats(f->store, &stats);
    assert_true(stats.connect_failures >= failures);
    assert_true(stats.disconnects >= 1);
    assert_true(stats.reconnects >= 1);
    assert_int_equal(stats.in_flight, 0);
    assert_int_equal(stats.errors[JK_ERR_UNAVAIL], 10);

    /* The AOF had everything acknowledged before the kill. */
    redis_store_state_t *st = s_state(f, "SES-KILL-1");
    assert_int_equal(st->applied, PERM_N);
    assert_true(st->complete);
    assert_int_equal(st->n_answers, 2);
    redis_store_state_free(&st);
    apply_rec_t r = s_apply(f, &ev[3]);
    assert_int_equal(r.reply.outcome, REDIS_STORE_DUPLICATE);
    /* examd resends what failed; it applies now. */
    s_expect_applied(f, &extra[0]);
}

/* kill -9 while idle: the store learns of it only when it writes the next
 * requests (EPIPE / reset, not SIGPIPE); they fail once with UNAVAIL. */
static void test_kill9_while_idle(void **state)
{
    fx_t *f = *state;
    static ev_t ev[3];
    apply_rec_t recs[3];
    jk_error_t err;
    s_store_start(f);
    assert_true(jk_harness_redis_kill(f->redis));
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 3; i++) {
        ev_answer(&ev[i], "SES-IDLE-1", (uint64_t)i + 1, "I1", 1, false);
        /* Accepted: the store changes state only inside redis_store_handle(). */
        assert_int_equal(redis_store_apply(f->store, &ev[i].env, s_apply_cb, &recs[i], &err),
                         JK_OK);
    }
    recs_t all = {recs, 3};
    PUMP_UNTIL(f->store, s_all_called, &all, "the requests to fail");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(recs[i].calls, 1);
        assert_int_equal(recs[i].rc, JK_ERR_UNAVAIL);
    }
    assert_true(jk_harness_redis_restart(f->redis));
    PUMP_UNTIL(f->store, s_is_ready, f->store, "the store to reconnect");
    for (int i = 0; i < 3; i++)
        s_expect_applied(f, &ev[i]);
}

/* A frozen Redis: requests time out, the store reconnects after SIGCONT. */
static void test_timeout_and_recovery(void **state)
{
    fx_t *f = *state;
    static ev_t ev[3], after;
    apply_rec_t recs[3];
    jk_error_t err;
    f->cfg.request_timeout_ms = 300;
    f->cfg.connect_timeout_ms = 300;
    s_store_start(f);

    assert_true(jk_harness_redis_pause(f->redis));
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 3; i++) {
        ev_answer(&ev[i], "SES-TO-1", (uint64_t)i + 1, "I1", 1, false);
        assert_int_equal(redis_store_apply(f->store, &ev[i].env, s_apply_cb, &recs[i], &err),
                         JK_OK);
    }
    recs_t all = {recs, 3};
    PUMP_UNTIL(f->store, s_all_called, &all, "the requests to time out");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(recs[i].calls, 1);
        assert_int_equal(recs[i].rc, JK_ERR_TIMEOUT);
        assert_non_null(strstr(recs[i].errstr, "timed out"));
    }
    assert_false(redis_store_ready(f->store));
    /* While frozen, attempts time out too and the store keeps trying. */
    redis_store_stats_t stats;
    redis_store_get_stats(f->store, &stats);
    assert_int_equal(stats.timeouts, 1);

    assert_true(jk_harness_redis_resume(f->redis));
    PUMP_UNTIL(f->store, s_is_ready, f->store, "the store to recover");
    for (int i = 0; i < 3; i++)
        assert_int_equal(recs[i].calls, 1);
    /* The timed-out events may or may not have been applied (unknown
     * state); a resend is either way harmless. */
    for (int i = 0; i < 3; i++) {
        apply_rec_t r = s_apply(f, &ev[i]);
        assert_int_equal(r.rc, JK_OK);
        assert_true(r.reply.outcome == REDIS_STORE_APPLIED ||
                    r.reply.outcome == REDIS_STORE_DUPLICATE);
    }
    ev_answer(&after, "SES-TO-1", 4, "I2", 1, false);
    s_expect_applied(f, &after);
    redis_store_state_t *st = s_state(f, "SES-TO-1");
    assert_int_equal(st->applied, 4);
    redis_store_state_free(&st);
}

static void test_in_flight_bound(void **state)
{
    fx_t *f = *state;
    static ev_t ev[5];
    apply_rec_t recs[5];
    jk_error_t err;
    f->cfg.max_in_flight = 4;
    s_store_start(f);
    assert_int_equal(redis_store_capacity(f->store), 4);
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 4; i++) {
        ev_answer(&ev[i], "SES-BOUND-1", (uint64_t)i + 1, "I1", 1, false);
        assert_int_equal(redis_store_apply(f->store, &ev[i].env, s_apply_cb, &recs[i], &err),
                         JK_OK);
    }
    assert_int_equal(redis_store_capacity(f->store), 0);
    ev_answer(&ev[4], "SES-BOUND-1", 5, "I1", 1, false);
    assert_int_equal(redis_store_apply(f->store, &ev[4].env, s_apply_cb, &recs[4], &err),
                     JK_ERR_FULL);
    state_rec_t sr = {0};
    assert_int_equal(redis_store_state(f->store, "SES-BOUND-1", s_state_cb, &sr, &err),
                     JK_ERR_FULL);
    recs_t four = {recs, 4};
    PUMP_UNTIL(f->store, s_all_called, &four, "the four requests");
    assert_int_equal(recs[4].calls, 0);
    assert_int_equal(sr.calls, 0);
    assert_int_equal(redis_store_capacity(f->store), 4);
    redis_store_stats_t stats;
    redis_store_get_stats(f->store, &stats);
    assert_int_equal(stats.refused_full, 2);
    assert_int_equal(stats.requests, 4);
    assert_int_equal(stats.ok, 4);
    assert_int_equal(stats.in_flight, 0);
    assert_true(stats.latency_p50_us > 0);
    assert_true(stats.latency_p99_us >= stats.latency_p50_us);
    s_expect_applied(f, &ev[4]);
}

/* Someone flushes the functions: the store notices, reconnects, reloads. */
static void test_library_reload(void **state)
{
    fx_t *f = *state;
    static ev_t ev[2];
    s_store_start(f);
    ev_answer(&ev[0], "SES-LIB-1", 1, "I1", 1, false);
    s_expect_applied(f, &ev[0]);
    redisReply *rep = jk_harness_redis_cmd(f->redis, "FUNCTION FLUSH");
    assert_non_null(rep);
    freeReplyObject(rep);
    ev_answer(&ev[1], "SES-LIB-1", 2, "I1", 2, false);
    apply_rec_t r = s_apply(f, &ev[1]);
    assert_int_equal(r.rc, JK_ERR_UNAVAIL);
    PUMP_UNTIL(f->store, s_is_ready, f->store, "the library to be reloaded");
    s_expect_applied(f, &ev[1]);
}

static void test_auth(void **state)
{
    fx_t *f = *state;
    redisReply *rep = jk_harness_redis_cmd(f->redis, "CONFIG SET requirepass %s", "s3cret-pw");
    assert_non_null(rep);
    freeReplyObject(rep);

    /* Wrong password: never ready, and says why. */
    jk_error_t err;
    f->cfg.password = "wrong";
    redis_store_t *bad = redis_store_new(&f->cfg, &err);
    assert_non_null(bad);
    failures_t w = {bad, 2};
    PUMP_UNTIL(bad, s_failed_n, &w, "two failed handshakes");
    assert_false(redis_store_ready(bad));
    assert_non_null(strstr(redis_store_errstr(bad), "WRONGPASS"));
    redis_store_destroy(&bad);
    assert_null(bad);

    f->cfg.password = "s3cret-pw";
    s_store_start(f);
    static ev_t e;
    ev_answer(&e, "SES-AUTH-1", 1, "I1", 1, false);
    s_expect_applied(f, &e);
}

/* Nothing listening at first; the store keeps trying and connects once a
 * Redis appears on the port. */
static void test_connect_later(void **state)
{
    fx_t *f = *state;
    jk_error_t err;
    int port = jk_harness_redis_port(f->redis);
    assert_true(jk_harness_redis_kill(f->redis));
    f->store = redis_store_new(&f->cfg, &err);
    assert_non_null(f->store);
    redis_store_stats_t stats;
    failures_t w = {f->store, 3};
    PUMP_UNTIL(f->store, s_failed_n, &w, "three failed connects");
    assert_false(redis_store_ready(f->store));
    static ev_t e;
    apply_rec_t rec = {0};
    ev_answer(&e, "SES-LATE-1", 1, "I1", 1, false);
    assert_int_equal(redis_store_apply(f->store, &e.env, s_apply_cb, &rec, &err), JK_ERR_UNAVAIL);
    assert_int_equal(jk_harness_redis_port(f->redis), port);
    assert_true(jk_harness_redis_restart(f->redis));
    PUMP_UNTIL(f->store, s_is_ready, f->store, "the store to connect");
    s_expect_applied(f, &e);
    redis_store_get_stats(f->store, &stats);
    assert_int_equal(stats.connects, 1);
    assert_int_equal(stats.reconnects, 0);
}

/* Destroy with requests outstanding: each callback once, UNAVAIL. */
static void test_destroy_fails_outstanding(void **state)
{
    fx_t *f = *state;
    static ev_t ev[3];
    apply_rec_t recs[3];
    jk_error_t err;
    s_store_start(f);
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 3; i++) {
        ev_answer(&ev[i], "SES-DESTROY-1", (uint64_t)i + 1, "I1", 1, false);
        assert_int_equal(redis_store_apply(f->store, &ev[i].env, s_apply_cb, &recs[i], &err),
                         JK_OK);
    }
    redis_store_destroy(&f->store);
    assert_null(f->store);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(recs[i].calls, 1);
        assert_int_equal(recs[i].rc, JK_ERR_UNAVAIL);
    }
    redis_store_destroy(&f->store); /* NULL is fine */
}

static void test_config_errors(void **state)
{
    (void)state;
    redis_store_config_t cfg;
    jk_error_t err;
    redis_store_config_default(&cfg);
    cfg.port = 0;
    assert_null(redis_store_new(&cfg, &err));
    assert_int_equal(err.code, JK_ERR_CONFIG);
    redis_store_config_default(&cfg);
    cfg.library_path = "/nonexistent/jikao.lua";
    assert_null(redis_store_new(&cfg, &err));
    assert_int_equal(err.code, JK_ERR_IO);
    redis_store_config_default(&cfg);
    cfg.reconnect_min_ms = 500;
    cfg.reconnect_max_ms = 100;
    assert_null(redis_store_new(&cfg, &err));
    assert_int_equal(err.code, JK_ERR_CONFIG);
}

int main(void)
{
    jk_log_init("it_redis_store", JK_LOG_WARN, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_apply_each_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_and_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permutations_same_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconcile_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_and_aof_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_while_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_and_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_flight_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_fails_outstanding, setup, teardown),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
