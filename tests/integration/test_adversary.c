/*
 * Integration stories: hostile and odd input against each daemon, and the
 * order of events.
 *
 * story_examd_candidates: malformed, truncated, wrong-version, oversized,
 *   forged (bad token), replayed and late requests on the candidate endpoint
 *   are refused and counted; examd keeps serving candidates.
 * story_examd_staff: junk on the staff endpoint gets an error line; it keeps
 *   serving.
 * story_scorer: through the broker, as an exam node would: forged events,
 *   events moved to another session, wrong site, replays, late events after
 *   the submit, malformed envelopes; refused (or DUPLICATE for a replay) and
 *   counted, and the scorer keeps applying good events.
 * story_order: one session's events sent in many permutations, with
 *   duplicates, give the same final state in Redis.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "jk_clock.h"
#include "jk_cluster.h"
#include "jk_codec.h"
#include "jk_net.h"
#include "jk_package.h"
#include "jk_rand.h"
#include "jk_sitting.h"
#include "jk_ws.h"

static jk_cluster_t *g_c;
static void *g_ctx;
static jk_sitting_t *g_center;
static uint8_t g_master[32];

static int s_setup(void **state)
{
    (void)state;
    jk_cluster_opts_t o;
    jk_cluster_opts_default(&o);
    o.sites = 1;
    o.scorers = 1;
    o.candidates = 6;
    o.clock_scale = 600; /* 90 minutes = 9 s, so a deadline can pass in the story */
    g_c = jk_cluster_new(&o);
    if (!g_c)
        return -1;
    g_ctx = zmq_ctx_new();
    jk_error_t err;
    g_center = jk_sitting_load(jk_harness_strf("%s/sitting.json", jk_cluster_center(g_c)), &err);
    uint8_t *mk = NULL;
    size_t ml = 0;
    if (!g_center ||
        jk_package_file_read(jk_harness_strf("%s/master.key", jk_cluster_center(g_c)), 256, &mk, &ml, &err) != JK_OK ||
        jk_release_key_parse((const char *)mk, g_master, &err) != JK_OK)
        return -1;
    free(mk);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    bool clean = jk_cluster_logs_clean(g_c);
    jk_sitting_destroy(&g_center);
    /* Not zmq_ctx_term: a failed story may have left a socket open, and
     * term would wait for it forever. */
    zmq_ctx_shutdown(g_ctx);
    jk_cluster_free(&g_c);
    return clean ? 0 : -1;
}

/* ---- a workstation (jk_ws) ---- */

static void s_login(jk_ws_t *w)
{
    assert_true(jk_ws_open(w, g_ctx, g_c, 0));
    assert_true(jk_ws_login(w, g_c, 0, 0));
}

static uint8_t *s_answer_bytes(jk_ws_t *w, const uint8_t *key, size_t *len)
{
    uint8_t *b = jk_ws_answer_bytes(w, g_center, 0, key, len);
    assert_non_null(b);
    return b;
}

static Jk__Envelope *s_expect_ack(jk_ws_t *w)
{
    Jk__Envelope *r = jk_ws_recv(w->sock);
    assert_non_null(r);
    assert_int_equal(r->body_case, JK__ENVELOPE__BODY_ACK);
    return r;
}

static void test_examd_candidates(void **state)
{
    (void)state;
    jk_ws_t w;
    s_login(&w);
    long bad0 = jk_cluster_status(g_c, 0, "bad_frames");

    /* Malformed, truncated, wrong version: no reply (no message id can be
     * trusted), counted. */
    jk_ws_send_raw(w.sock, "\x08\x01\x10\x05garbage!!", 13);
    size_t len;
    uint8_t *good = s_answer_bytes(&w, w.token, &len);
    jk_ws_send_raw(w.sock, good, len / 2);
    uint8_t *v2 = malloc(len);
    memcpy(v2, good, len);
    v2[1] = 2; /* schema_version field value: 1 -> 2 */
    jk_ws_send_raw(w.sock, v2, len);
    free(v2);
    zmq_send(w.sock, "JK1C", 4, 0); /* wrong frame count */
    /* Forged: a request tagged with the wrong token. */
    uint8_t wrong[32];
    memset(wrong, 0x5a, sizeof wrong);
    uint8_t *forged = s_answer_bytes(&w, wrong, &len);
    jk_ws_send_raw(w.sock, forged, len);
    Jk__Envelope *r = s_expect_ack(&w);
    assert_int_equal(r->ack->status, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_int_equal(r->ack->reason, JK__REJECT_REASON__REJECT_REASON_BAD_AUTH);
    jk_codec_free(&r);
    free(forged);
    /* A good answer is applied ... */
    free(good);
    good = s_answer_bytes(&w, w.token, &len);
    jk_ws_send_raw(w.sock, good, len);
    r = s_expect_ack(&w);
    assert_int_equal(r->ack->status, JK__ACK_STATUS__ACK_STATUS_APPLIED);
    jk_codec_free(&r);
    /* ... and its replay refused. */
    jk_ws_send_raw(w.sock, good, len);
    r = s_expect_ack(&w);
    assert_int_equal(r->ack->status, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_int_equal(r->ack->reason, JK__REJECT_REASON__REJECT_REASON_STALE);
    jk_codec_free(&r);
    free(good);
    /* Oversized: libzmq drops a frame over the maximum and the connection
     * with it; examd carries on. */
    void *big = jk_ws_dealer(g_ctx, jk_cluster_candidate_endpoint(g_c, 0), 5000);
    size_t bl = 200 * 1024;
    char *junk = calloc(1, bl);
    jk_ws_send_raw(big, junk, bl);
    free(junk);
    zmq_close(big);

    long bad = jk_cluster_status(g_c, 0, "bad_frames") - bad0;
    fprintf(stderr, "story: examd counted %ld bad frames, forged %ld, replayed %ld\n", bad,
            jk_cluster_status(g_c, 0, "forged"), jk_cluster_status(g_c, 0, "replayed"));
    assert_true(bad >= 4);
    assert_true(jk_cluster_status(g_c, 0, "forged") >= 1);
    assert_true(jk_cluster_status(g_c, 0, "replayed") >= 1);

    /* Late: wait for the clock to submit the session, then answer. */
    for (int i = 0; i < 200; i++) {
        char cmd[128], buf[1024];
        snprintf(cmd, sizeof cmd, "session %s", w.sid);
        if (jk_cluster_staff(g_c, 0, cmd, buf, sizeof buf) && strstr(buf, "state=SUBMITTED"))
            break;
        usleep(100000);
    }
    good = s_answer_bytes(&w, w.token, &len);
    jk_ws_send_raw(w.sock, good, len);
    free(good);
    r = s_expect_ack(&w);
    assert_int_equal(r->ack->status, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_true(r->ack->reason == JK__REJECT_REASON__REJECT_REASON_AFTER_DEADLINE ||
                r->ack->reason == JK__REJECT_REASON__REJECT_REASON_ILLEGAL_STATE);
    jk_codec_free(&r);
    /* Still serving: status answers, a fresh login works. */
    assert_true(jk_cluster_status(g_c, 0, "sessions") > 0);
    zmq_close(w.sock);
}

static void test_examd_staff(void **state)
{
    (void)state;
    char buf[4096];
    const char *junk[] = { "", "frobnicate", "pause", "pause no-such-session p1 why",
                           "extend S01 -5 p1 x", "score x y z w 1000", "authorize",
                           "\x01\x02 control" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        assert_true(jk_cluster_staff(g_c, 0, junk[i], buf, sizeof buf));
        if (strncmp(buf, "error", 5) != 0)
            fail_msg("'%s' got '%s'", junk[i], buf);
    }
    char *big = malloc(8192);
    memset(big, 'a', 8191);
    big[8191] = '\0';
    assert_true(jk_cluster_staff(g_c, 0, big, buf, sizeof buf));
    assert_int_equal(strncmp(buf, "error", 5), 0);
    free(big);
    assert_true(jk_cluster_staff(g_c, 0, "status", buf, sizeof buf));
    assert_int_equal(strncmp(buf, "ok", 2), 0);
}

/* ---- an exam node of our own, through the broker ---- */

static void *s_node(void)
{
    void *ctx = g_ctx;
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    char secret[JK_NET_Z85_LEN + 1], server[JK_NET_Z85_LEN + 1];
    jk_error_t err;
    const char *keys = jk_harness_strf("%s/keys", jk_cluster_dir(g_c));
    assert_int_equal(jk_net_key_read(jk_harness_strf("%s/jkadmin.key", keys), true, secret, &err), JK_OK);
    assert_int_equal(jk_net_key_read(jk_harness_strf("%s/broker.pub", keys), false, server, &err), JK_OK);
    o.secret_key_z85 = secret;
    o.server_key_z85 = server;
    o.routing_id = "test-node";
    void *s = jk_net_client(ctx, ZMQ_DEALER, jk_cluster_broker_frontend(g_c), &o, &err);
    assert_non_null(s);
    int t = 10000;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &t, sizeof t);
    return s;
}

typedef struct {
    const jk_sitting_entry_t *e;
    uint8_t key[32];
    uint64_t msg;
} s_sess_t;

static void s_sess_init(s_sess_t *s, size_t index)
{
    s->e = jk_sitting_entry(g_center, index);
    uint8_t sk[32];
    jk_sitting_site_key(g_master, s->e->site, sk);
    jk_sitting_session_key(sk, s->e->session_id, s->key);
    s->msg = 1000000;
}

/* Builds event seq of a small session: 1 authorize (the proctor), 2 open,
 * 3..n-1 answers, n submit. */
static Jk__Envelope *s_event(s_sess_t *s, uint64_t seq, uint64_t n, uint8_t (*hashes)[32])
{
    Jk__Envelope *env = calloc(1, sizeof *env);
    Jk__Envelope init = JK__ENVELOPE__INIT;
    *env = init;
    env->has_schema_version = 1;
    env->schema_version = 1;
    env->has_kind = 1;
    env->node_id = "test-node";
    env->has_message_id = 1;
    env->message_id = ++s->msg;
    env->exam_id = (char *)jk_sitting_id(g_center);
    env->site_id = (char *)s->e->site;
    env->room_id = (char *)s->e->room;
    env->session_id = (char *)s->e->session_id;
    env->candidate_id = (char *)s->e->admission;
    env->has_seq = 1;
    env->seq = seq;
    env->has_event_time_ms = 1;
    env->event_time_ms = 1796000000000ULL + seq * 1000;
    env->has_sent_time_ms = 1;
    env->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    static uint8_t digest[32];
    static uint32_t opt;
    if (seq == 1) {
        Jk__ProctorAction *pa = calloc(1, sizeof *pa);
        Jk__ProctorAction pi = JK__PROCTOR_ACTION__INIT;
        *pa = pi;
        pa->has_action = 1;
        pa->action = JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_AUTHORIZE;
        pa->proctor_id = "proctor-test";
        env->kind = JK__KIND__KIND_PROCTOR_ACTION;
        env->body_case = JK__ENVELOPE__BODY_PROCTOR_ACTION;
        env->proctor_action = pa;
    } else if (seq == 2) {
        Jk__SessionOpen *o = calloc(1, sizeof *o);
        Jk__SessionOpen oi = JK__SESSION_OPEN__INIT;
        *o = oi;
        o->paper_id = (char *)s->e->session_id;
        o->has_paper_digest = 1;
        o->paper_digest.data = digest;
        o->paper_digest.len = 32;
        o->has_exam = 1;
        o->exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
        o->has_level = 1;
        o->level = 5;
        o->has_duration_ms = 1;
        o->duration_ms = 5400000;
        o->workstation_id = "ws-x";
        o->has_item_count = 1;
        o->item_count = (uint32_t)s->e->n_items;
        env->kind = JK__KIND__KIND_SESSION_OPEN;
        env->body_case = JK__ENVELOPE__BODY_SESSION_OPEN;
        env->session_open = o;
    } else if (seq < n) {
        Jk__Answer *a = calloc(1, sizeof *a);
        Jk__Answer ai = JK__ANSWER__INIT;
        *a = ai;
        Jk__Response *r = calloc(1, sizeof *r);
        Jk__Response ri = JK__RESPONSE__INIT;
        *r = ri;
        /* items 0..4 answered twice with different choices: the highest seq wins */
        size_t k = (seq - 3) % 5;
        a->item_id = (char *)s->e->items[k].item;
        if (s->e->items[k].n_order) {
            Jk__Selection *sel = calloc(1, sizeof *sel);
            Jk__Selection si = JK__SELECTION__INIT;
            *sel = si;
            opt = 1;
            sel->n_option_ids = 1;
            sel->option_ids = calloc(1, sizeof(uint32_t));
            sel->option_ids[0] = (uint32_t)(1 + seq % 2);
            r->value_case = JK__RESPONSE__VALUE_SELECTION;
            r->selection = sel;
        } else {
            r->value_case = JK__RESPONSE__VALUE_JUDGMENT;
            r->judgment = seq % 2;
        }
        a->response = r;
        a->has_flagged = 1;
        a->has_change_counter = 1;
        a->change_counter = (uint32_t)seq;
        env->kind = JK__KIND__KIND_ANSWER;
        env->body_case = JK__ENVELOPE__BODY_ANSWER;
        env->answer = a;
    } else {
        Jk__Submit *sb = calloc(1, sizeof *sb);
        Jk__Submit si = JK__SUBMIT__INIT;
        *sb = si;
        sb->has_reason = 1;
        sb->reason = JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE;
        sb->has_final_event_count = 1;
        sb->final_event_count = seq - 1;
        jk_codec_session_digest((const uint8_t(*)[32])hashes, seq - 1, digest, NULL);
        sb->has_digest = 1;
        sb->digest.data = digest;
        sb->digest.len = 32;
        env->kind = JK__KIND__KIND_SUBMIT;
        env->body_case = JK__ENVELOPE__BODY_SUBMIT;
        env->submit = sb;
    }
    (void)opt;
    return env;
}

static void s_event_free(Jk__Envelope *env)
{
    if (env->body_case == JK__ENVELOPE__BODY_PROCTOR_ACTION)
        free(env->proctor_action);
    else if (env->body_case == JK__ENVELOPE__BODY_SESSION_OPEN)
        free(env->session_open);
    else if (env->body_case == JK__ENVELOPE__BODY_ANSWER) {
        if (env->answer->response->selection) {
            if (env->answer->response->value_case == JK__RESPONSE__VALUE_SELECTION) {
                free(env->answer->response->selection->option_ids);
                free(env->answer->response->selection);
            }
        }
        free(env->answer->response);
        free(env->answer);
    } else if (env->body_case == JK__ENVELOPE__BODY_SUBMIT)
        free(env->submit);
    free(env);
}

/* Sends bytes and returns the ACK's status and reason (for the message). */
static void s_send_expect(void *node, const uint8_t *b, size_t l, Jk__AckStatus *st, Jk__RejectReason *why)
{
    jk_ws_send_raw(node, b, l);
    Jk__Envelope *r = jk_ws_recv(node);
    assert_non_null(r);
    assert_int_equal(r->body_case, JK__ENVELOPE__BODY_ACK);
    *st = r->ack->status;
    *why = r->ack->has_reason ? r->ack->reason : 0;
    jk_codec_free(&r);
}

static uint8_t *s_signed(Jk__Envelope *env, const uint8_t *key, size_t *len)
{
    uint8_t *b = NULL;
    assert_int_equal(jk_codec_encode_signed(env, key, 32, &b, len, NULL), JK_OK);
    return b;
}

static void test_scorer(void **state)
{
    (void)state;
    void *node = s_node();
    s_sess_t a, b;
    s_sess_init(&a, 1);
    s_sess_init(&b, 2);
    const uint64_t n = 8;
    uint8_t hashes[8][32];
    Jk__AckStatus st;
    Jk__RejectReason why;
    size_t l;
    long forged0 = jk_cluster_scorer_stat(g_c, 0, "forged");

    /* Forged: a made-up key. */
    Jk__Envelope *e1 = s_event(&a, 1, n, hashes);
    uint8_t bogus[32];
    memset(bogus, 7, sizeof bogus);
    uint8_t *x = s_signed(e1, bogus, &l);
    s_send_expect(node, x, l, &st, &why);
    free(x);
    assert_int_equal(st, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_int_equal(why, JK__REJECT_REASON__REJECT_REASON_BAD_AUTH);
    /* Moved to another session: b's key on a's event. */
    x = s_signed(e1, b.key, &l);
    s_send_expect(node, x, l, &st, &why);
    free(x);
    assert_int_equal(why, JK__REJECT_REASON__REJECT_REASON_BAD_AUTH);
    /* Wrong site. */
    e1->site_id = "S99";
    x = s_signed(e1, a.key, &l);
    s_send_expect(node, x, l, &st, &why);
    free(x);
    assert_int_equal(why, JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED);
    e1->site_id = (char *)a.e->site;
    /* Good: applied; a replay: DUPLICATE, no effect. */
    x = s_signed(e1, a.key, &l);
    s_send_expect(node, x, l, &st, &why);
    assert_int_equal(st, JK__ACK_STATUS__ACK_STATUS_APPLIED);
    s_send_expect(node, x, l, &st, &why);
    assert_int_equal(st, JK__ACK_STATUS__ACK_STATUS_DUPLICATE);
    free(x);
    jk_codec_event_hash(e1, hashes[0], NULL);
    s_event_free(e1);
    /* The rest of the session, then a late answer after the submit. */
    for (uint64_t q = 2; q <= n; q++) {
        Jk__Envelope *e = s_event(&a, q, n, hashes);
        jk_codec_event_hash(e, hashes[q - 1], NULL);
        x = s_signed(e, a.key, &l);
        s_send_expect(node, x, l, &st, &why);
        assert_int_equal(st, JK__ACK_STATUS__ACK_STATUS_APPLIED);
        free(x);
        s_event_free(e);
    }
    Jk__Envelope *late = s_event(&a, n + 1, n + 2, hashes); /* an answer at seq n+1 */
    x = s_signed(late, a.key, &l);
    s_send_expect(node, x, l, &st, &why);
    free(x);
    s_event_free(late);
    assert_int_equal(st, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_int_equal(why, JK__REJECT_REASON__REJECT_REASON_AFTER_DEADLINE);
    /* Malformed envelopes are refused by the broker in front. */
    jk_ws_send_raw(node, "\x08\x02\x10\x05", 4);
    /* Still serving: b's first event applies. */
    Jk__Envelope *eb = s_event(&b, 1, n, hashes);
    x = s_signed(eb, b.key, &l);
    s_send_expect(node, x, l, &st, &why);
    assert_int_equal(st, JK__ACK_STATUS__ACK_STATUS_APPLIED);
    free(x);
    s_event_free(eb);
    /* Counted (stats lines are written every second). */
    sleep(2);
    long forged = jk_cluster_scorer_stat(g_c, 0, "forged") - forged0;
    fprintf(stderr, "story: scorer counted forged %ld, wrong site %ld, duplicates %ld, late %ld; "
                    "broker refused %ld malformed\n",
            forged, jk_cluster_scorer_stat(g_c, 0, "wrong_site"), jk_cluster_scorer_stat(g_c, 0, "duplicates"),
            jk_cluster_scorer_stat(g_c, 0, "late"), jk_cluster_broker_stat(g_c, "refused_malformed"));
    assert_true(forged >= 2);
    assert_true(jk_cluster_scorer_stat(g_c, 0, "wrong_site") >= 1);
    assert_true(jk_cluster_scorer_stat(g_c, 0, "duplicates") >= 1);
    assert_true(jk_cluster_scorer_stat(g_c, 0, "late") >= 1);
    zmq_close(node);
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The state of a session in Redis, as one comparable string. */
static char *s_snapshot(const char *sid)
{
    jk_redis_t *r = jk_cluster_redis(g_c);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    const char *keys[] = { "ans", "ev", "xs" };
    for (int k = 0; k < 3; k++) {
        redisReply *rep = jk_harness_redis_cmd(r, "HGETALL jk:{%s}:%s", sid, keys[k]);
        /* sort field/value pairs for a stable comparison */
        size_t n = rep && rep->type == REDIS_REPLY_ARRAY ? rep->elements / 2 : 0;
        char **pairs = calloc(n + 1, sizeof *pairs);
        for (size_t i = 0; i < n; i++) {
            redisReply *fk = rep->element[2 * i], *fv = rep->element[2 * i + 1];
            pairs[i] = malloc(fk->len + 2 * fv->len + 4);
            size_t o = (size_t)sprintf(pairs[i], "%.*s=", (int)fk->len, fk->str);
            for (size_t q = 0; q < fv->len; q++)
                o += (size_t)sprintf(pairs[i] + o, "%02x", (unsigned char)fv->str[q]);
        }
        qsort(pairs, n, sizeof *pairs, s_cmp_str);
        fprintf(f, "[%s]", keys[k]);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%s;", pairs[i]);
            free(pairs[i]);
        }
        free(pairs);
        if (rep)
            freeReplyObject(rep);
    }
    redisReply *m = jk_harness_redis_cmd(r, "HMGET jk:{%s}:meta status applied last_seq submit_seq complete result", sid);
    for (size_t i = 0; m && i < m->elements; i++)
        fprintf(f, "|%.*s", m->element[i]->type == REDIS_REPLY_STRING ? (int)m->element[i]->len : 1,
                m->element[i]->type == REDIS_REPLY_STRING ? m->element[i]->str : "-");
    if (m)
        freeReplyObject(m);
    fclose(f);
    return out;
}

static void s_clear(const char *sid)
{
    redisReply *r = jk_harness_redis_cmd(jk_cluster_redis(g_c), "DEL jk:{%s}:meta jk:{%s}:ev jk:{%s}:ans jk:{%s}:xs",
                                         sid, sid, sid, sid);
    if (r)
        freeReplyObject(r);
}

typedef struct {
    const char *sid;
} s_scored_t;

static bool s_is_scored(void *ud)
{
    s_scored_t *s = ud;
    redisReply *r = jk_harness_redis_cmd(jk_cluster_redis(g_c), "HGET jk:{%s}:meta scored", s->sid);
    bool ok = r && r->type == REDIS_REPLY_STRING;
    if (r)
        freeReplyObject(r);
    return ok;
}

static void test_order(void **state)
{
    (void)state;
    void *node = s_node();
    s_sess_t s;
    s_sess_init(&s, 3);
    const uint64_t n = 14;
    uint8_t hashes[14][32];
    uint8_t *bytes[14];
    size_t lens[14];
    /* Build once (hashes first: the submit's digest needs them). */
    for (uint64_t q = 1; q <= n; q++) {
        Jk__Envelope *e = s_event(&s, q, n, hashes);
        jk_codec_event_hash(e, hashes[q - 1], NULL);
        s_event_free(e);
    }
    for (uint64_t q = 1; q <= n; q++) {
        Jk__Envelope *e = s_event(&s, q, n, hashes);
        bytes[q - 1] = s_signed(e, s.key, &lens[q - 1]);
        s_event_free(e);
    }
    char *reference = NULL;
    jk_rand_t rng;
    jk_rand_seed(&rng, 99);
    for (int round = 0; round < 6; round++) {
        s_clear(s.e->session_id);
        /* round 0 in order; then shuffled, with a third of them sent twice */
        size_t order[28], m = 0;
        for (size_t i = 0; i < n; i++)
            order[m++] = i;
        if (round > 0) {
            for (size_t i = 0; i < n; i += 3)
                order[m++] = i;
            jk_rand_shuffle(&rng, order, m, sizeof order[0]);
        }
        for (size_t i = 0; i < m; i++) {
            Jk__AckStatus st;
            Jk__RejectReason why;
            s_send_expect(node, bytes[order[i]], lens[order[i]], &st, &why);
            assert_true(st == JK__ACK_STATUS__ACK_STATUS_APPLIED || st == JK__ACK_STATUS__ACK_STATUS_DUPLICATE);
        }
        s_scored_t sc = { s.e->session_id };
        JK_HARNESS_WAIT(s_is_scored, &sc, 20000, "the session scored");
        char *snap = s_snapshot(s.e->session_id);
        if (!reference)
            reference = snap;
        else {
            if (strcmp(reference, snap) != 0) {
                fprintf(stderr, "reference: %s\nround %d:  %s\n", reference, round, snap);
                fail_msg("round %d: a different final state (both printed above)", round);
            }
            free(snap);
        }
    }
    fprintf(stderr, "story: 6 orders (5 shuffled, with duplicates) gave one final state\n");
    free(reference);
    for (uint64_t q = 0; q < n; q++)
        free(bytes[q]);
    zmq_close(node);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examd_staff),
        cmocka_unit_test(test_scorer),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_examd_candidates),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
