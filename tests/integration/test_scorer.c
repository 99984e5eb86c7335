/*
 * Integration stories: scorerd's bookkeeping toward the broker, through
 * the real broker and scorer (one site, one scorer, CURVE, packages
 * released by the scorer on request).
 *
 * story_package_requests: a package request is answered from the digest
 *   the scorer computed once (the package file may go away afterwards); a
 *   scorer that can't read the file answers RETRY_LATER to every request —
 *   more requests than its capacity — and returns the credit of each one
 *   (none is left in flight).
 * story_unservable: a genuine (signed) session event that the Redis layer
 *   can't map (a FORCE_SUBMIT proctor action: an order, never an event of
 *   the stream) is REJECTED with a reason, not RETRY_LATER (which would
 *   have its exam node resend it forever), and counted.
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
#include "jk_sitting.h"

#define S_SCORER_CAPACITY 512 /* scorerd's default capacity */

static jk_cluster_t *g_c;
static void *g_ctx;
static jk_sitting_t *g_center;
static uint8_t g_master[32];
static uint64_t g_msg = 5000000;

static int s_setup(void **state)
{
    (void)state;
    jk_cluster_opts_t o;
    jk_cluster_opts_default(&o);
    o.sites = 1;
    o.scorers = 1;
    o.candidates = 4;
    o.release_by_scorer = true;
    g_c = jk_cluster_new(&o);
    if (!g_c)
        return -1;
    g_ctx = zmq_ctx_new();
    jk_error_t err;
    g_center = jk_sitting_load(jk_harness_strf("%s/sitting.json", jk_cluster_center(g_c)), &err);
    uint8_t *mk = NULL;
    size_t ml = 0;
    if (!g_center ||
        jk_package_file_read(jk_harness_strf("%s/master.key", jk_cluster_center(g_c)), 256, &mk, &ml,
                             &err) != JK_OK ||
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
    zmq_ctx_shutdown(g_ctx);
    jk_cluster_free(&g_c);
    return clean ? 0 : -1;
}

/* ---- a client of the broker's frontend ---- */

static void *s_node(const char *rid)
{
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    char secret[JK_NET_Z85_LEN + 1], server[JK_NET_Z85_LEN + 1];
    jk_error_t err;
    const char *keys = jk_harness_strf("%s/keys", jk_cluster_dir(g_c));
    assert_int_equal(jk_net_key_read(jk_harness_strf("%s/jkadmin.key", keys), true, secret, &err), JK_OK);
    assert_int_equal(jk_net_key_read(jk_harness_strf("%s/broker.pub", keys), false, server, &err), JK_OK);
    o.secret_key_z85 = secret;
    o.server_key_z85 = server;
    o.routing_id = rid;
    void *s = jk_net_client(g_ctx, ZMQ_DEALER, jk_cluster_broker_frontend(g_c), &o, &err);
    assert_non_null(s);
    return s;
}

static void s_send_env(void *sock, const Jk__Envelope *env, const uint8_t *key)
{
    uint8_t *b = NULL;
    size_t len = 0;
    if (key)
        assert_int_equal(jk_codec_encode_signed(env, key, 32, &b, &len, NULL), JK_OK);
    else
        assert_int_equal(jk_codec_encode(env, &b, &len, NULL), JK_OK);
    jk_net_item_t it = { NULL, 0, b, len };
    assert_int_equal(jk_net_send_batch(sock, NULL, 0, JK_NET_LINK_CLIENT, &it, 1, NULL), JK_OK);
    free(b);
}

typedef struct {
    Jk__Envelope **v;
    size_t n, cap;
} got_t;

static void s_got_free(got_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        jk_codec_free(&g->v[i]);
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* Receives envelopes (every one of each batch; the broker's heartbeats
 * left out) until g holds `want` or timeout_ms passed. */
static size_t s_recv(void *sock, got_t *g, size_t want, int timeout_ms)
{
    jk_net_msg_t *m = jk_net_msg_new(2 + JK_NET_BATCH_MAX);
    assert_non_null(m);
    int64_t end = jk_clock_mono_us(jk_clock_system()) + (int64_t)timeout_ms * 1000;
    while (g->n < want && jk_clock_mono_us(jk_clock_system()) < end) {
        zmq_pollitem_t pi = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&pi, 1, 50) <= 0)
            continue;
        jk_net_batch_t b;
        if (jk_net_recv(sock, m, JK_CODEC_MAX_LARGE_BYTES, ZMQ_DONTWAIT, NULL) != JK_OK ||
            jk_net_parse(m, JK_NET_LINK_CLIENT, false, &b, NULL) != JK_OK)
            continue;
        for (size_t i = 0; i < b.n; i++) {
            Jk__Envelope *e = NULL;
            if (jk_codec_decode(b.items[i].env, b.items[i].env_len, NULL, &e, NULL) != JK_OK)
                continue;
            if (e->kind == JK__KIND__KIND_HEARTBEAT) {
                jk_codec_free(&e);
                continue;
            }
            if (g->n == g->cap) {
                g->cap = g->cap ? 2 * g->cap : 64;
                g->v = realloc(g->v, g->cap * sizeof *g->v);
                assert_non_null(g->v);
            }
            g->v[g->n++] = e;
        }
    }
    jk_net_msg_destroy(&m);
    return g->n;
}

static void s_hdr(Jk__Envelope *e, Jk__Kind kind)
{
    e->has_schema_version = 1;
    e->schema_version = 1;
    e->has_kind = 1;
    e->kind = kind;
    e->node_id = "test-node";
    e->has_message_id = 1;
    e->message_id = ++g_msg;
    e->has_sent_time_ms = 1;
    e->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    e->body_case = (Jk__Envelope__BodyCase)(100 + (int)kind);
}

/* The scorer's stats line says name=want (it logs one a second). */
typedef struct {
    const char *name;
    long want;
} stat_t;

static bool s_scorer_stat_is(void *ud)
{
    const stat_t *s = ud;
    return jk_cluster_scorer_stat(g_c, 0, s->name) == s->want;
}

static void s_restart_scorer(void)
{
    assert_true(jk_cluster_kill_scorer(g_c, 0, SIGTERM));
    assert_true(jk_cluster_start_scorer(g_c, 0));
}

/* ---- package requests ---- */

static void s_package_request(void *node, const char *site, const char *package_id)
{
    Jk__Envelope e = JK__ENVELOPE__INIT;
    Jk__PackageRequest pr = JK__PACKAGE_REQUEST__INIT;
    s_hdr(&e, JK__KIND__KIND_PACKAGE_REQUEST);
    e.exam_id = (char *)jk_sitting_id(g_center);
    e.site_id = (char *)site;
    pr.package_id = (char *)package_id;
    e.package_request = &pr;
    s_send_env(node, &e, NULL);
}

/* One request; the reply must be the release, with the file's digest. */
static void s_expect_release(void *node, const char *site, const char *package_id,
                             uint8_t digest[32])
{
    s_package_request(node, site, package_id);
    got_t g = { 0 };
    assert_int_equal(s_recv(node, &g, 1, 20000), 1);
    assert_int_equal(g.v[0]->kind, JK__KIND__KIND_PACKAGE_RELEASE);
    assert_string_equal(g.v[0]->package_release->package_id, package_id);
    assert_int_equal(g.v[0]->package_release->package_digest.len, 32);
    memcpy(digest, g.v[0]->package_release->package_digest.data, 32);
    s_got_free(&g);
}

static void test_package_requests(void **state)
{
    (void)state;
    const char *site = jk_cluster_site_id(g_c, 0);
    jk_error_t err;
    jk_package_keys_t *keys =
        jk_package_keys_load(jk_harness_strf("%s/keys.json", jk_cluster_center(g_c)), &err);
    assert_non_null(keys);
    const jk_package_keys_entry_t *ke = jk_package_keys_find(keys, jk_sitting_id(g_center), site);
    assert_non_null(ke);
    char package_id[sizeof ke->package_id];
    snprintf(package_id, sizeof package_id, "%s", ke->package_id);
    jk_package_keys_destroy(&keys);
    const char *file = jk_harness_strf("%s/../sites/%s.jkpkg", jk_cluster_center(g_c), site);
    char away[4096];
    snprintf(away, sizeof away, "%s.away", file);
    void *node = s_node("test-node-pkg");

    /* The scorer released the package to the site at start: the digest is
     * kept, the file is not read again. */
    uint8_t d1[32], d2[32];
    assert_int_equal(rename(file, away), 0);
    s_expect_release(node, site, package_id, d1);

    /* A scorer that starts without the file: RETRY_LATER, every time, and
     * every request's credit comes back (more requests than its capacity
     * are all answered, and none stays in flight). */
    s_restart_scorer();
    const size_t n = S_SCORER_CAPACITY + 88;
    for (size_t i = 0; i < n; i++)
        s_package_request(node, site, package_id);
    got_t g = { 0 };
    s_recv(node, &g, n, 60000);
    fprintf(stderr, "story: %zu of %zu package requests answered without the file\n", g.n, n);
    assert_int_equal(g.n, n);
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.v[i]->kind, JK__KIND__KIND_ACK);
        assert_int_equal(g.v[i]->ack->status, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER);
    }
    s_got_free(&g);
    stat_t idle = { "in_flight", 0 };
    assert_true(jk_harness_wait_for(s_scorer_stat_is, &idle, 10000));
    assert_int_equal(jk_cluster_scorer_stat(g_c, 0, "dropped"), 0);

    /* The file back: released, with the same digest. */
    assert_int_equal(rename(away, file), 0);
    s_expect_release(node, site, package_id, d2);
    assert_memory_equal(d1, d2, 32);
    zmq_close(node);
}

/* ---- session events ---- */

typedef struct {
    const jk_sitting_entry_t *e;
    uint8_t key[32];
} sess_t;

static void s_sess(sess_t *s, size_t index)
{
    s->e = jk_sitting_entry(g_center, index);
    assert_non_null(s->e);
    uint8_t sk[32];
    jk_sitting_site_key(g_master, s->e->site, sk);
    jk_sitting_session_key(sk, s->e->session_id, s->key);
}

/* A proctor action of session s at seq, signed with the session key. */
static void s_proctor(void *node, const sess_t *s, uint64_t seq, Jk__ProctorActionKind action,
                      const char *reason)
{
    Jk__Envelope e = JK__ENVELOPE__INIT;
    Jk__ProctorAction pa = JK__PROCTOR_ACTION__INIT;
    s_hdr(&e, JK__KIND__KIND_PROCTOR_ACTION);
    e.exam_id = (char *)jk_sitting_id(g_center);
    e.site_id = (char *)s->e->site;
    e.room_id = (char *)s->e->room;
    e.session_id = (char *)s->e->session_id;
    e.candidate_id = (char *)s->e->admission;
    e.has_seq = 1;
    e.seq = seq;
    e.has_event_time_ms = 1;
    e.event_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    pa.has_action = 1;
    pa.action = action;
    pa.proctor_id = "proctor-test";
    pa.reason = (char *)reason;
    e.proctor_action = &pa;
    s_send_env(node, &e, s->key);
}

static Jk__Envelope *s_one_ack(void *node, got_t *g)
{
    assert_int_equal(s_recv(node, g, 1, 20000), 1);
    assert_int_equal(g->v[0]->kind, JK__KIND__KIND_ACK);
    return g->v[0];
}

static void test_unservable(void **state)
{
    (void)state;
    void *node = s_node("test-node-bad");
    sess_t s;
    s_sess(&s, 1);
    long invalid0 = jk_cluster_scorer_stat(g_c, 0, "invalid");
    got_t g = { 0 };
    s_proctor(node, &s, 1, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT, "test");
    Jk__Envelope *a = s_one_ack(node, &g);
    assert_int_equal(a->ack->status, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_int_equal(a->ack->reason, JK__REJECT_REASON__REJECT_REASON_OUT_OF_RANGE);
    assert_non_null(a->ack->reason_text);
    assert_non_null(strstr(a->ack->reason_text, "FORCE_SUBMIT"));
    s_got_free(&g);
    stat_t st = { "invalid", (invalid0 < 0 ? 0 : invalid0) + 1 };
    assert_true(jk_harness_wait_for(s_scorer_stat_is, &st, 10000));
    /* The scorer goes on: a good event of the same session is applied. */
    s_proctor(node, &s, 1, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_AUTHORIZE, NULL);
    a = s_one_ack(node, &g);
    assert_int_equal(a->ack->status, JK__ACK_STATUS__ACK_STATUS_APPLIED);
    s_got_free(&g);
    zmq_close(node);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_package_requests),
        cmocka_unit_test(test_unservable),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
