/* Unit tests for jk_net: CURVE keys and key files, the allow-list, the ZAP
 * handler admitting and refusing CURVE clients, the plain-on-loopback rule,
 * bounded receive (oversized frames, too many frames), checked sends
 * (ROUTER_MANDATORY to an unknown peer, a full high-water mark) and the
 * JK1C / JK1W framing. Real ZeroMQ sockets on loopback and inproc; waits
 * poll for a condition with a generous deadline instead of sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "jk_log.h"
#include "jk_net.h"

#define WAIT_LIMIT_MS 20000 /* a bound for a hung test, not a timing assumption */

static char s_dir[256];

static int s_setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/jk_net_XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(s_dir))
        return -1;
    jk_log_init("test_net", JK_LOG_ERROR, NULL);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", s_dir, name);
}

/* ---- keys ---- */

static void test_keypair_and_files(void **state)
{
    (void)state;
    jk_net_keypair_t kp;
    jk_error_t e;
    assert_int_equal(jk_net_keypair_generate(&kp, &e), JK_OK);
    assert_true(jk_net_z85_key_valid(kp.public_z85));
    assert_true(jk_net_z85_key_valid(kp.secret_z85));
    char pub[JK_NET_Z85_LEN + 1];
    assert_int_equal(jk_net_public_of(kp.secret_z85, pub, &e), JK_OK);
    assert_string_equal(pub, kp.public_z85);

    char kpath[300], ppath[300];
    s_path(kpath, sizeof kpath, "a.key");
    s_path(ppath, sizeof ppath, "a.pub");
    assert_int_equal(jk_net_key_write(kpath, kp.secret_z85, true, &e), JK_OK);
    assert_int_equal(jk_net_key_write(ppath, kp.public_z85, false, &e), JK_OK);
    struct stat st;
    assert_int_equal(stat(kpath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(ppath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    char back[JK_NET_Z85_LEN + 1];
    assert_int_equal(jk_net_key_read(kpath, true, back, &e), JK_OK);
    assert_string_equal(back, kp.secret_z85);
    assert_int_equal(jk_net_key_read(ppath, false, back, &e), JK_OK);
    assert_string_equal(back, kp.public_z85);

    /* A secret key others may read is refused, naming the file. */
    assert_int_equal(chmod(kpath, 0644), 0);
    assert_int_equal(jk_net_key_read(kpath, true, back, &e), JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, kpath));
    assert_non_null(strstr(e.msg, "0600"));

    /* Garbage in a key file: error names file and line. */
    FILE *f = fopen(ppath, "w");
    assert_non_null(f);
    fputs("# comment\nnot-a-key\n", f);
    fclose(f);
    assert_int_equal(jk_net_key_read(ppath, false, back, &e), JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, ":2:"));
    assert_int_equal(jk_net_key_write(ppath, "short", false, &e), JK_ERR_INVAL);
    jk_net_keypair_wipe(&kp);
}

/* ---- allow-list ---- */

static void test_allow_list(void **state)
{
    (void)state;
    jk_net_keypair_t a, b;
    jk_error_t e;
    assert_int_equal(jk_net_keypair_generate(&a, &e), JK_OK);
    assert_int_equal(jk_net_keypair_generate(&b, &e), JK_OK);
    char text[512];
    snprintf(text, sizeof text, "# peers\n\nexamd-0101 %s\n  scorerd-1\t%s  \n", a.public_z85,
             b.public_z85);
    jk_net_allow_t *al = jk_net_allow_parse(text, strlen(text), "allow.txt", &e);
    assert_non_null(al);
    assert_int_equal(jk_net_allow_count(al), 2);
    uint8_t bin[32];
    assert_non_null(zmq_z85_decode(bin, b.public_z85));
    assert_string_equal(jk_net_allow_find(al, bin), "scorerd-1");
    assert_non_null(zmq_z85_decode(bin, b.secret_z85));
    assert_null(jk_net_allow_find(al, bin));
    jk_net_allow_destroy(&al);
    assert_null(al);

    /* "K" stands for a's public key in these lines. */
    struct {
        const char *lines;
        const char *want;
    } bad[] = {
        { "x K\nx K\n", "allow.txt:2: name x already on line 1" },
        { "x K\ny K\n", "allow.txt:2: the key of y is already on line 1" },
        { "x K extra\n", "allow.txt:1: expected '<name> <z85-public-key>'" },
        { "# c\nx/y K\n", "allow.txt:2: name" },
        { "x\n", "allow.txt:1: expected" },
        { "x 0123456789\n", "allow.txt:1: key of x: expected 40 Z85 characters" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t k = 0;
        for (const char *p = bad[i].lines; *p && k + JK_NET_Z85_LEN + 1 < sizeof text; p++) {
            if (*p == 'K') {
                memcpy(text + k, a.public_z85, JK_NET_Z85_LEN);
                k += JK_NET_Z85_LEN;
            } else {
                text[k++] = *p;
            }
        }
        text[k] = '\0';
        al = jk_net_allow_parse(text, strlen(text), "allow.txt", &e);
        assert_null(al);
        if (!strstr(e.msg, bad[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, e.msg, bad[i].want);
    }
    /* A key with a character outside Z85. */
    char badkey[JK_NET_Z85_LEN + 1];
    memcpy(badkey, a.public_z85, sizeof badkey);
    badkey[5] = '~';
    snprintf(text, sizeof text, "x %s\n", badkey);
    assert_null(jk_net_allow_parse(text, strlen(text), "allow.txt", &e));
    assert_non_null(strstr(e.msg, "allow.txt:1:"));
    jk_net_keypair_wipe(&a);
    jk_net_keypair_wipe(&b);
}

/* ---- endpoints and the plain rule ---- */

static void test_plain_only_on_loopback(void **state)
{
    (void)state;
    assert_true(jk_net_endpoint_is_loopback("tcp://127.0.0.1:5570"));
    assert_true(jk_net_endpoint_is_loopback("tcp://[::1]:5570"));
    assert_true(jk_net_endpoint_is_loopback("ipc:///run/jk/broker"));
    assert_true(jk_net_endpoint_is_loopback("inproc://x"));
    assert_false(jk_net_endpoint_is_loopback("tcp://0.0.0.0:5570"));
    assert_false(jk_net_endpoint_is_loopback("tcp://*:5570"));
    assert_false(jk_net_endpoint_is_loopback("tcp://127.0.0.1.example.org:5570"));
    assert_false(jk_net_endpoint_is_loopback("tcp://localhost:5570"));
    assert_false(jk_net_endpoint_is_loopback("tcp://10.0.0.1;127.0.0.1:5570"));

    void *ctx = zmq_ctx_new();
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = JK_NET_PLAIN;
    jk_error_t e;
    void *s = jk_net_server(ctx, ZMQ_ROUTER, "inproc://ok, tcp://0.0.0.0:0", &o, &e);
    assert_null(s);
    assert_int_equal(e.code, JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "tcp://0.0.0.0:0"));
    s = jk_net_client(ctx, ZMQ_DEALER, "tcp://192.0.2.1:5570", &o, &e);
    assert_null(s);
    assert_non_null(strstr(e.msg, "tcp://192.0.2.1:5570"));
    s = jk_net_server(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", &o, &e);
    assert_non_null(s);
    zmq_close(s);

    /* A CURVE server without a ZAP handler would admit anyone: refused. */
    jk_net_keypair_t kp;
    assert_int_equal(jk_net_keypair_generate(&kp, &e), JK_OK);
    jk_net_opts_default(&o);
    o.secret_key_z85 = kp.secret_z85;
    s = jk_net_server(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", &o, &e);
    assert_null(s);
    assert_non_null(strstr(e.msg, "ZAP"));
    jk_net_keypair_wipe(&kp);
    zmq_ctx_term(ctx);
}

/* ---- CURVE + ZAP ---- */

typedef struct {
    void *ctx;
    jk_net_zap_t *zap;
    void *server;
    char endpoint[256];
    jk_net_keypair_t server_kp, known_kp, unknown_kp;
} curve_fixture_t;

static void s_curve_up(curve_fixture_t *f)
{
    jk_error_t e;
    memset(f, 0, sizeof *f);
    f->ctx = zmq_ctx_new();
    assert_int_equal(jk_net_keypair_generate(&f->server_kp, &e), JK_OK);
    assert_int_equal(jk_net_keypair_generate(&f->known_kp, &e), JK_OK);
    assert_int_equal(jk_net_keypair_generate(&f->unknown_kp, &e), JK_OK);
    char text[256];
    snprintf(text, sizeof text, "examd-0101 %s\n", f->known_kp.public_z85);
    jk_net_allow_t *al = jk_net_allow_parse(text, strlen(text), "allow", &e);
    assert_non_null(al);
    f->zap = jk_net_zap_new(f->ctx, &al, &e);
    assert_non_null(f->zap);
    assert_null(al);
    /* A second handler in the same context is refused. */
    al = jk_net_allow_parse(text, strlen(text), "allow", &e);
    assert_null(jk_net_zap_new(f->ctx, &al, &e));
    assert_null(al);

    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.secret_key_z85 = f->server_kp.secret_z85;
    o.zap = f->zap;
    f->server = jk_net_server(f->ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", &o, &e);
    if (!f->server)
        fail_msg("%s", e.msg);
    jk_net_last_endpoint(f->server, f->endpoint, sizeof f->endpoint);
    assert_true(strncmp(f->endpoint, "tcp://127.0.0.1:", 16) == 0);
}

static void s_curve_down(curve_fixture_t *f)
{
    zmq_close(f->server);
    jk_net_zap_destroy(&f->zap);
    jk_net_keypair_wipe(&f->server_kp);
    jk_net_keypair_wipe(&f->known_kp);
    jk_net_keypair_wipe(&f->unknown_kp);
    zmq_ctx_term(f->ctx);
}

static void *s_client(curve_fixture_t *f, const jk_net_keypair_t *kp)
{
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.secret_key_z85 = kp->secret_z85;
    o.server_key_z85 = f->server_kp.public_z85;
    o.linger_ms = 0;
    jk_error_t e;
    void *c = jk_net_client(f->ctx, ZMQ_DEALER, f->endpoint, &o, &e);
    if (!c)
        fail_msg("%s", e.msg);
    return c;
}

/* Polls the ZAP handler and the server until a message arrives at the
 * server (returns true, m filled) or the ZAP handler refused `refusals`
 * clients (returns false). */
static bool s_pump(curve_fixture_t *f, jk_net_msg_t *m, uint64_t refusals)
{
    for (int waited = 0; waited < WAIT_LIMIT_MS; waited += 10) {
        zmq_pollitem_t it[2] = { { jk_net_zap_socket(f->zap), 0, ZMQ_POLLIN, 0 },
                                 { f->server, 0, ZMQ_POLLIN, 0 } };
        zmq_poll(it, 2, 10);
        jk_net_zap_handle(f->zap);
        if (jk_net_recv(f->server, m, 1 << 16, ZMQ_DONTWAIT, NULL) == JK_OK)
            return true;
        if (refusals && jk_net_zap_refused(f->zap) >= refusals)
            return false;
    }
    fail_msg("nothing happened within %d ms", WAIT_LIMIT_MS);
    return false;
}

static void test_curve_admitted_by_allow_list(void **state)
{
    (void)state;
    curve_fixture_t f;
    s_curve_up(&f);
    void *c = s_client(&f, &f.known_kp);
    jk_net_item_t it = { NULL, 0, (const uint8_t *)"hello", 5 };
    jk_error_t e;
    assert_int_equal(jk_net_send_batch(c, NULL, 0, JK_NET_LINK_CLIENT, &it, 1, &e), JK_OK);
    jk_net_msg_t *m = jk_net_msg_new(JK_NET_FRAMES_MAX);
    assert_true(s_pump(&f, m, 0));
    assert_string_equal(jk_net_msg_user_id(m), "examd-0101");
    assert_string_equal(jk_net_msg_peer_address(m), "127.0.0.1");
    jk_net_batch_t b;
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, true, &b, &e), JK_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.items[0].env_len, 5);
    assert_memory_equal(b.items[0].env, "hello", 5);
    assert_int_equal(jk_net_zap_admitted(f.zap), 1);
    assert_int_equal(jk_net_zap_refused(f.zap), 0);

    /* And back, routed by the routing id. */
    uint8_t rid[JK_NET_ROUTING_ID_MAX];
    size_t rl = b.rid_len;
    memcpy(rid, b.rid, rl);
    it.env = (const uint8_t *)"world";
    assert_int_equal(jk_net_send_batch(f.server, rid, rl, JK_NET_LINK_CLIENT, &it, 1, &e), JK_OK);
    assert_int_equal(jk_net_recv(c, m, 1 << 16, 0, &e), JK_OK);
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, false, &b, &e), JK_OK);
    assert_memory_equal(b.items[0].env, "world", 5);
    jk_net_msg_destroy(&m);
    zmq_close(c);
    s_curve_down(&f);
}

static void test_curve_refused_when_not_listed(void **state)
{
    (void)state;
    curve_fixture_t f;
    s_curve_up(&f);
    void *c = s_client(&f, &f.unknown_kp);
    jk_net_item_t it = { NULL, 0, (const uint8_t *)"hello", 5 };
    jk_error_t e;
    assert_int_equal(jk_net_send_batch(c, NULL, 0, JK_NET_LINK_CLIENT, &it, 1, &e), JK_OK);
    jk_net_msg_t *m = jk_net_msg_new(JK_NET_FRAMES_MAX);
    assert_false(s_pump(&f, m, 1));
    assert_int_equal(jk_net_zap_admitted(f.zap), 0);
    assert_true(jk_net_zap_refused(f.zap) >= 1);
    /* The handshake failed: nothing from that client reaches the server. */
    assert_int_equal(jk_net_recv(f.server, m, 1 << 16, ZMQ_DONTWAIT, NULL), JK_ERR_UNAVAIL);

    /* A listed client on the same server still gets through. */
    void *ok = s_client(&f, &f.known_kp);
    assert_int_equal(jk_net_send_batch(ok, NULL, 0, JK_NET_LINK_CLIENT, &it, 1, &e), JK_OK);
    assert_true(s_pump(&f, m, 0));
    assert_string_equal(jk_net_msg_user_id(m), "examd-0101");
    jk_net_msg_destroy(&m);
    zmq_close(ok);
    zmq_close(c);
    s_curve_down(&f);
}

/* A key admitted on one ZAP domain is not admitted on another. */
static void test_zap_domains(void **state)
{
    (void)state;
    curve_fixture_t f;
    s_curve_up(&f);
    jk_error_t e;
    char text[256];
    snprintf(text, sizeof text, "scorerd-1 %s\n", f.unknown_kp.public_z85);
    jk_net_allow_t *al = jk_net_allow_parse(text, strlen(text), "allow-backend", &e);
    assert_non_null(al);
    assert_int_equal(jk_net_zap_add_domain(f.zap, "jikao-backend", &al, &e), JK_OK);
    assert_null(al);
    al = jk_net_allow_parse(text, strlen(text), "again", &e);
    assert_int_equal(jk_net_zap_add_domain(f.zap, "jikao-backend", &al, &e), JK_ERR_DUP);
    assert_null(al);

    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.secret_key_z85 = f.server_kp.secret_z85;
    o.zap = f.zap;
    o.zap_domain = "jikao-backend";
    void *back = jk_net_server(f.ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", &o, &e);
    assert_non_null(back);
    void *keep_server = f.server;
    f.server = back;
    jk_net_last_endpoint(back, f.endpoint, sizeof f.endpoint);

    /* The frontend's key on the backend: refused. */
    void *wrong = s_client(&f, &f.known_kp);
    jk_net_item_t it = { NULL, 0, (const uint8_t *)"hi", 2 };
    assert_int_equal(jk_net_send_batch(wrong, NULL, 0, JK_NET_LINK_CLIENT, &it, 1, &e), JK_OK);
    jk_net_msg_t *m = jk_net_msg_new(JK_NET_FRAMES_MAX);
    assert_false(s_pump(&f, m, 1));
    /* The backend's own key: admitted, named from its list. */
    void *right = s_client(&f, &f.unknown_kp);
    assert_int_equal(jk_net_send_batch(right, NULL, 0, JK_NET_LINK_CLIENT, &it, 1, &e), JK_OK);
    assert_true(s_pump(&f, m, 0));
    assert_string_equal(jk_net_msg_user_id(m), "scorerd-1");
    jk_net_msg_destroy(&m);
    zmq_close(wrong);
    zmq_close(right);
    zmq_close(back);
    f.server = keep_server;
    s_curve_down(&f);
}

/* ---- bounded receive, checked send ---- */

static void s_pair(void *ctx, const char *name, void **server, void **client)
{
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = JK_NET_PLAIN;
    o.linger_ms = 0;
    jk_error_t e;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://%s", name);
    *server = jk_net_server(ctx, ZMQ_ROUTER, ep, &o, &e);
    assert_non_null(*server);
    *client = jk_net_client(ctx, ZMQ_DEALER, ep, &o, &e);
    assert_non_null(*client);
}

static void test_oversized_and_too_many_frames(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    void *srv, *cli;
    s_pair(ctx, "bounds", &srv, &cli);
    jk_net_msg_t *m = jk_net_msg_new(1 + 2 + 4); /* rid + "" + proto + 4 envelopes */
    assert_non_null(m);
    jk_error_t e;

    static uint8_t big[2000];
    jk_net_item_t items[JK_NET_BATCH_MAX];
    for (size_t i = 0; i < JK_NET_BATCH_MAX; i++)
        items[i] = (jk_net_item_t){ NULL, 0, (const uint8_t *)"env", 3 };

    /* 1: a frame over the bound. */
    jk_net_item_t one = { NULL, 0, big, sizeof big };
    assert_int_equal(jk_net_send_batch(cli, NULL, 0, JK_NET_LINK_CLIENT, &one, 1, &e), JK_OK);
    /* 2: five envelopes: too many frames for this buffer. */
    assert_int_equal(jk_net_send_batch(cli, NULL, 0, JK_NET_LINK_CLIENT, items, 5, &e), JK_OK);
    /* 3: a good one. */
    assert_int_equal(jk_net_send_batch(cli, NULL, 0, JK_NET_LINK_CLIENT, items, 4, &e), JK_OK);

    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_ERR_TOO_BIG);
    assert_non_null(strstr(e.msg, "frame 3: 2000 bytes"));
    /* Only the routing id is kept, to count the refusal per peer. */
    assert_int_equal(jk_net_msg_count(m), 1);
    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_ERR_RANGE);
    assert_non_null(strstr(e.msg, "8 frames"));
    assert_int_equal(jk_net_msg_count(m), 1);
    /* The socket is still in step: the next message is whole. */
    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_OK);
    assert_int_equal(jk_net_msg_count(m), 7);
    jk_net_batch_t b;
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, true, &b, &e), JK_OK);
    assert_int_equal(b.n, 4);
    assert_int_equal(jk_net_recv(srv, m, 1024, ZMQ_DONTWAIT, &e), JK_ERR_UNAVAIL);

    /* The protocol's own bound: 257 envelopes can't even be sent. */
    jk_net_item_t many[JK_NET_BATCH_MAX + 1];
    for (size_t i = 0; i <= JK_NET_BATCH_MAX; i++)
        many[i] = items[0];
    assert_int_equal(jk_net_send_batch(cli, NULL, 0, JK_NET_LINK_CLIENT, many,
                                       JK_NET_BATCH_MAX + 1, &e),
                     JK_ERR_INVAL);
    jk_net_msg_destroy(&m);
    zmq_close(cli);
    zmq_close(srv);
    zmq_ctx_term(ctx);
}

static void test_router_mandatory_unknown_peer(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    void *srv, *cli;
    s_pair(ctx, "mandatory", &srv, &cli);
    jk_net_item_t it = { NULL, 0, (const uint8_t *)"x", 1 };
    jk_error_t e;
    assert_int_equal(jk_net_send_batch(srv, (const uint8_t *)"nobody", 6, JK_NET_LINK_CLIENT, &it,
                                       1, &e),
                     JK_ERR_NOTFOUND);

    /* A peer that does not read: once the high-water marks are reached a
     * send is refused (EAGAIN), never blocked on nor dropped silently. */
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = JK_NET_PLAIN;
    o.linger_ms = 0;
    o.sndhwm = 1;
    o.rcvhwm = 1;
    void *s2 = jk_net_server(ctx, ZMQ_ROUTER, "inproc://hwm", &o, &e);
    void *c2 = jk_net_client(ctx, ZMQ_DEALER, "inproc://hwm", &o, &e);
    assert_non_null(s2);
    assert_non_null(c2);
    assert_int_equal(jk_net_send_batch(c2, NULL, 0, JK_NET_LINK_CLIENT, &it, 1, &e), JK_OK);
    jk_net_msg_t *m = jk_net_msg_new(8);
    assert_int_equal(jk_net_recv(s2, m, 1024, 0, &e), JK_OK);
    jk_net_batch_t b;
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, true, &b, &e), JK_OK);
    uint8_t rid[JK_NET_ROUTING_ID_MAX];
    size_t rl = b.rid_len;
    memcpy(rid, b.rid, rl);
    jk_err_t rc = JK_OK;
    for (int i = 0; i < 100000 && rc == JK_OK; i++)
        rc = jk_net_send_batch(s2, rid, rl, JK_NET_LINK_CLIENT, &it, 1, &e);
    assert_int_equal(rc, JK_ERR_FULL);
    jk_net_msg_destroy(&m);
    zmq_close(c2);
    zmq_close(s2);
    zmq_close(cli);
    zmq_close(srv);
    zmq_ctx_term(ctx);
}

/* ---- framing ---- */

static void test_framing(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    void *srv, *cli;
    s_pair(ctx, "framing", &srv, &cli);
    jk_net_msg_t *m = jk_net_msg_new(JK_NET_FRAMES_MAX);
    jk_error_t e;
    jk_net_batch_t b;

    /* A worker batch of three pairs, one with an empty address. */
    jk_net_item_t w[3] = {
        { (const uint8_t *)"c1", 2, (const uint8_t *)"e1", 2 },
        { (const uint8_t *)"", 0, (const uint8_t *)"e2", 2 },
        { (const uint8_t *)"c3", 2, (const uint8_t *)"e3", 2 },
    };
    assert_int_equal(jk_net_send_batch(cli, NULL, 0, JK_NET_LINK_WORKER, w, 3, &e), JK_OK);
    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_OK);
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_WORKER, true, &b, &e), JK_OK);
    assert_int_equal(b.n, 3);
    assert_int_equal(b.items[1].addr_len, 0);
    assert_memory_equal(b.items[2].addr, "c3", 2);
    assert_memory_equal(b.items[2].env, "e3", 2);
    /* The same message read as a client message: wrong protocol frame. */
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, true, &b, &e), JK_ERR_VERSION);
    assert_non_null(strstr(e.msg, "JK1W"));

    /* Raw frames: odd pair count, bad delimiter, unknown protocol. */
    jk_net_frame_t odd[4] = { { "", 0 }, { "JK1W", 4 }, { "a", 1 }, { "b", 1 } };
    assert_int_equal(jk_net_send(cli, odd, 3, &e), JK_OK);
    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_OK);
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_WORKER, true, &b, &e), JK_ERR_RANGE);
    jk_net_frame_t delim[3] = { { "x", 1 }, { "JK1C", 4 }, { "e", 1 } };
    assert_int_equal(jk_net_send(cli, delim, 3, &e), JK_OK);
    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_OK);
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, true, &b, &e), JK_ERR_PARSE);
    jk_net_frame_t proto[3] = { { "", 0 }, { "JK2C", 4 }, { "e", 1 } };
    assert_int_equal(jk_net_send(cli, proto, 3, &e), JK_OK);
    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_OK);
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, true, &b, &e), JK_ERR_VERSION);
    assert_non_null(strstr(e.msg, "JK2C"));
    jk_net_frame_t none[2] = { { "", 0 }, { "JK1C", 4 } };
    assert_int_equal(jk_net_send(cli, none, 2, &e), JK_OK);
    assert_int_equal(jk_net_recv(srv, m, 1024, 0, &e), JK_OK);
    assert_int_equal(jk_net_parse(m, JK_NET_LINK_CLIENT, true, &b, &e), JK_ERR_RANGE);

    char buf[600];
    assert_string_equal(jk_net_rid_format((const uint8_t *)"abc", 3, buf, sizeof buf), "abc");
    assert_string_equal(jk_net_rid_format((const uint8_t *)"\x00\x80", 2, buf, sizeof buf),
                        "0x0080");
    /* A short buffer keeps whole bytes only. */
    char small[6];
    assert_string_equal(jk_net_rid_format((const uint8_t *)"\x00\x80", 2, small, sizeof small),
                        "0x00");
    jk_net_msg_destroy(&m);
    zmq_close(cli);
    zmq_close(srv);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keypair_and_files),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_plain_only_on_loopback),
        cmocka_unit_test(test_curve_admitted_by_allow_list),
        cmocka_unit_test(test_curve_refused_when_not_listed),
        cmocka_unit_test(test_zap_domains),
        cmocka_unit_test(test_oversized_and_too_many_frames),
        cmocka_unit_test(test_router_mandatory_unknown_peer),
        cmocka_unit_test(test_framing),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
