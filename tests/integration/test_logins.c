/*
 * Integration stories: logins, whose password checks are slow on purpose
 * (PBKDF2) and run off examd's loop.
 *
 * The sitting is built with a large PBKDF2 iteration count, so that one
 * check takes a good part of a second on any machine. Its package is
 * released by a scorer in release.mode immediate (the other stories use
 * jkadmin), which names the digest of the package file examd checks.
 *
 * story_slow_check_holds_nobody: while another candidate's password is
 *   being checked, a logged-in candidate's answer is acknowledged first
 *   (the ack arrives before the login reply).
 * story_lockout_counts_checks: a burst of wrong passwords sent before any
 *   is answered yields exactly login.attempts BAD_CREDENTIAL replies and
 *   LOCKED for the rest: checks under way count as attempts.
 * story_busy: beyond login.queue checks under way, a login is answered
 *   NOT_OPEN ("busy") at once, and succeeds when tried again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "jk_cluster.h"
#include "jk_codec.h"
#include "jk_sitting.h"
#include "jk_ws.h"

#define S_ATTEMPTS 3
#define S_QUEUE 6

static jk_cluster_t *g_c;
static void *g_ctx;
static jk_sitting_t *g_center;

static int s_setup(void **state)
{
    (void)state;
    static const char *const examd_args[] = { "--login.threads", "1", "--login.attempts", "3",
                                              "--login.queue", "6", NULL };
    jk_cluster_opts_t o;
    jk_cluster_opts_default(&o);
    o.sites = 1;
    o.scorers = 1;
    o.candidates = 12;
    o.clock_scale = 1;
    o.kdf_iterations = 1000000;
    o.examd_args = examd_args;
    /* The papers are released the simulation way: a scorer answers the
     * exam node's request with the key and its package's digest. */
    o.release_by_scorer = true;
    g_c = jk_cluster_new(&o);
    if (!g_c)
        return -1;
    g_ctx = zmq_ctx_new();
    g_center = jk_sitting_load(jk_harness_strf("%s/sitting.json", jk_cluster_center(g_c)), NULL);
    return g_center ? 0 : -1;
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

/* Whether a reply is waiting on sock within timeout_ms. */
static bool s_ready(void *sock, int timeout_ms)
{
    zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
    return zmq_poll(&item, 1, timeout_ms) > 0;
}

static Jk__LoginStatus s_login_status(jk_ws_t *w)
{
    Jk__Envelope *r = jk_ws_recv(w->sock);
    assert_non_null(r);
    assert_int_equal(r->body_case, JK__ENVELOPE__BODY_LOGIN_REPLY);
    Jk__LoginStatus st = r->login_reply->status;
    jk_codec_free(&r);
    return st;
}

static void test_slow_check_holds_nobody(void **state)
{
    (void)state;
    jk_ws_t a, b;
    assert_true(jk_ws_open(&a, g_ctx, g_c, 0));
    assert_true(jk_ws_login(&a, g_c, 0, 0));
    assert_true(jk_ws_open(&b, g_ctx, g_c, 0));
    char adm[64], pw[32];
    assert_true(jk_ws_credential(g_c, 1, adm, pw));

    for (int round = 0; round < 3; round++) {
        /* b's login first; once examd has surely taken it up (a check
         * takes far longer than this pause), a's answer: it is
         * acknowledged while b's password is still being checked. */
        assert_true(jk_ws_send_login(&b, adm, pw));
        usleep(50000);
        size_t len;
        uint8_t *ans = jk_ws_answer_bytes(&a, g_center, (size_t)round, a.token, &len);
        assert_non_null(ans);
        jk_ws_send_raw(a.sock, ans, len);
        free(ans);
        Jk__Envelope *r = jk_ws_recv(a.sock);
        assert_non_null(r);
        assert_int_equal(r->body_case, JK__ENVELOPE__BODY_ACK);
        assert_int_equal(r->ack->status, JK__ACK_STATUS__ACK_STATUS_APPLIED);
        jk_codec_free(&r);
        /* ... and b has had no reply yet: its check is still going on. */
        assert_false(s_ready(b.sock, 10));
        /* b's reply follows: OK, or "wait for the proctor". */
        Jk__LoginStatus st = s_login_status(&b);
        assert_true(st == JK__LOGIN_STATUS__LOGIN_STATUS_OK ||
                    st == JK__LOGIN_STATUS__LOGIN_STATUS_NOT_AUTHORIZED);
    }
    fprintf(stderr, "story: 3 answers acknowledged while another login was being checked\n");
    jk_ws_close(&a);
    jk_ws_close(&b);
}

static void test_lockout_counts_checks(void **state)
{
    (void)state;
    jk_ws_t w;
    assert_true(jk_ws_open(&w, g_ctx, g_c, 0));
    char adm[64], pw[32];
    assert_true(jk_ws_credential(g_c, 2, adm, pw));
    const int burst = S_ATTEMPTS + 2;
    for (int i = 0; i < burst; i++)
        assert_true(jk_ws_send_login(&w, adm, "00000000"));
    int bad = 0, locked = 0;
    for (int i = 0; i < burst; i++) {
        Jk__LoginStatus st = s_login_status(&w);
        bad += st == JK__LOGIN_STATUS__LOGIN_STATUS_BAD_CREDENTIAL;
        locked += st == JK__LOGIN_STATUS__LOGIN_STATUS_LOCKED;
    }
    fprintf(stderr, "story: %d wrong passwords at once: %d refused, %d locked out\n", burst, bad,
            locked);
    assert_int_equal(bad, S_ATTEMPTS);
    assert_int_equal(locked, burst - S_ATTEMPTS);
    /* Locked now, even with the right password. */
    assert_true(jk_ws_send_login(&w, adm, pw));
    assert_int_equal(s_login_status(&w), JK__LOGIN_STATUS__LOGIN_STATUS_LOCKED);
    jk_ws_close(&w);
}

static void test_busy(void **state)
{
    (void)state;
    /* One thread, S_QUEUE checks at most: S_QUEUE + 2 candidates log in at
     * once; the last two are answered "busy" before any check ends. */
    enum { N = S_QUEUE + 2 };
    jk_ws_t w[N];
    for (int i = 0; i < N; i++) {
        char adm[64], pw[32];
        assert_true(jk_ws_open(&w[i], g_ctx, g_c, 0));
        assert_true(jk_ws_credential(g_c, 3 + i, adm, pw));
        assert_true(jk_ws_send_login(&w[i], adm, pw));
        usleep(5000); /* in this order */
    }
    int busy = 0;
    for (int i = 0; i < N; i++) {
        Jk__LoginStatus st = s_login_status(&w[i]);
        if (i >= S_QUEUE) {
            assert_int_equal(st, JK__LOGIN_STATUS__LOGIN_STATUS_NOT_OPEN);
            busy++;
        } else {
            assert_true(st == JK__LOGIN_STATUS__LOGIN_STATUS_OK ||
                        st == JK__LOGIN_STATUS__LOGIN_STATUS_NOT_AUTHORIZED);
        }
    }
    /* Tried again, the busy ones get in. */
    for (int i = S_QUEUE; i < N; i++)
        assert_true(jk_ws_login(&w[i], g_c, 0, 3 + i));
    fprintf(stderr, "story: %d logins at once, %d answered busy, then let in\n", N, busy);
    for (int i = 0; i < N; i++)
        jk_ws_close(&w[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_check_holds_nobody),
        cmocka_unit_test(test_lockout_counts_checks),
        cmocka_unit_test(test_busy),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
