/*
 * integration.broker: the real broker, started as a child process on free
 * loopback ports with CURVE, against fake peers made of real ZeroMQ sockets
 * in this process: exam nodes and an admin tool (DEALER, JK1C), scorers
 * (DEALER, JK1W) and dashboards (SUB).
 *
 * What it shows:
 *   - routing: a client's envelope reaches a scorer byte for byte, with the
 *     client's address; the scorer's ACK reaches the client byte for byte;
 *     batches go both ways;
 *   - credit: a scorer never holds more requests than the credit it gave;
 *   - a scorer that hangs (heartbeats stop) or is killed (socket closed,
 *     no DISCONNECT): its requests go to another scorer; a scorer saying
 *     DISCONNECT: at once;
 *   - a full queue answers ACK RETRY_LATER; queue.max_age drops stale ones;
 *   - malformed, wrong-version, oversized, too-many-frames, wrong-protocol
 *     and wrong-kind messages are refused and counted, and the broker keeps
 *     serving;
 *   - the PUB stream: MONITOR_EVENTs after ACK APPLIED, numbered per topic,
 *     prefix subscriptions, RESULT publishing;
 *   - kill -9 and restart: the scorer registers again and a client's resend
 *     is answered;
 *   - CURVE: a key not in the allow-list is refused (on the frontend; and a
 *     client key on the scorers' backend);
 *   - site routing of PACKAGE_RELEASE by the site_id of examd heartbeats;
 *   - security = plain runs on loopback endpoints and is refused at start
 *     on any other.
 *
 * Counters are read from the broker's own `broker.stats` lines (logged
 * every 50 ms here). The test never sleeps for a fixed time: it pumps its
 * sockets (answering the broker's heartbeats like a real peer) until the
 * condition it waits for holds, with a generous deadline.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zmq.h>

#include "jk_clock.h"
#include "jk_codec.h"
#include "jk_harness.h"
#include "jk_net.h"

#define WAIT_MS 30000      /* a bound for a hung test, not a timing assumption */
#define HB_MS 200          /* heartbeat interval of the broker and the fakes */
#define INBOX_MAX 1024
#define RETRY_AFTER_MS 1234

/* ---------------------------------------------------------------------- */
/* Fake peers                                                               */

typedef enum { P_CLIENT, P_WORKER, P_SUB } pkind_t;

typedef struct {
    uint8_t addr[JK_NET_ROUTING_ID_MAX];
    size_t addr_len;
    uint8_t *env;
    size_t len;
    Jk__Kind kind;
    char topic[JK_CODEC_TOPIC_MAX];
} got_t;

typedef struct {
    void *sock;
    pkind_t kind;
    const char *node;
    const char *site;      /* client: site_id in heartbeats */
    int64_t last_send_ms;
    uint32_t capacity;     /* worker: WORKER_READY capacity */
    bool auto_ready;       /* worker: announce again after DISCONNECT or silence */
    bool auto_ack;         /* worker: answer every request ACK APPLIED */
    bool frozen;           /* hung: reads nothing, sends nothing, socket open */
    int64_t broker_seen_ms;
    bool broker_dead;
    unsigned readies;      /* WORKER_READY sent */
    unsigned heartbeats_in, disconnects_in;
    got_t in[INBOX_MAX];
    size_t n;
} peer_t;

typedef struct {
    const char *dir, *conf, *log;
    char fe[64], be[64], pe[64];
    jk_net_keypair_t broker_kp, examd_kp, admin_kp, dash_kp, scorer_kp, scorer2_kp, scorer3_kp,
        scorer4_kp, stranger_kp;
    jk_child_t *broker;
    void *ctx;
    peer_t *peers[16];
    size_t np;
    uint64_t mid;
    bool plain; /* peers connect without CURVE */
} world_t;

static world_t W;

static int64_t s_now(void)
{
    return jk_clock_mono_ms(jk_clock_system());
}

static uint64_t s_wall(void)
{
    return (uint64_t)jk_clock_wall_ms(jk_clock_system());
}

/* ---- envelopes ---- */

static uint8_t *s_enc(Jk__Envelope *e, size_t *len)
{
    uint8_t *buf = NULL;
    jk_error_t err;
    if (jk_codec_encode(e, &buf, len, &err) != JK_OK)
        fail_msg("encode %s: %s", jk_codec_kind_name(e->kind), err.msg);
    return buf;
}

static void s_hdr(Jk__Envelope *e, Jk__Kind k, const char *node)
{
    *e = (Jk__Envelope)JK__ENVELOPE__INIT;
    e->has_schema_version = 1;
    e->schema_version = JK_SCHEMA_VERSION;
    e->has_kind = 1;
    e->kind = k;
    e->node_id = (char *)node;
    e->has_message_id = 1;
    e->message_id = ++W.mid;
    e->has_sent_time_ms = 1;
    e->sent_time_ms = s_wall();
    e->body_case = (Jk__Envelope__BodyCase)(100 + (int)k);
}

static void s_session(Jk__Envelope *e, const char *site, const char *room, const char *session,
                      uint64_t seq)
{
    e->exam_id = "E1";
    e->site_id = (char *)site;
    e->room_id = (char *)room;
    e->session_id = (char *)session;
    e->candidate_id = "C-0001";
    e->has_seq = 1;
    e->seq = seq;
    e->has_event_time_ms = 1;
    e->event_time_ms = s_wall();
}

/* An Answer of session `session` in site/room; *mid gets its message_id. */
static uint8_t *b_answer(const char *site, const char *room, const char *session, uint64_t seq,
                         uint32_t change_counter, uint64_t *mid, size_t *len)
{
    Jk__Envelope e;
    Jk__Answer a = JK__ANSWER__INIT;
    Jk__Response r = JK__RESPONSE__INIT;
    s_hdr(&e, JK__KIND__KIND_ANSWER, "examd-0101");
    s_session(&e, site, room, session, seq);
    a.item_id = "I-0001";
    a.has_flagged = 1;
    a.has_change_counter = 1;
    a.change_counter = change_counter;
    r.value_case = JK__RESPONSE__VALUE_JUDGMENT;
    r.judgment = 1;
    a.response = &r;
    e.answer = &a;
    if (mid)
        *mid = e.message_id;
    return s_enc(&e, len);
}

static uint8_t *b_pause(const char *room, const char *session, uint64_t seq, size_t *len)
{
    Jk__Envelope e;
    Jk__ProctorAction p = JK__PROCTOR_ACTION__INIT;
    s_hdr(&e, JK__KIND__KIND_PROCTOR_ACTION, "examd-0101");
    s_session(&e, "S1", room, session, seq);
    p.has_action = 1;
    p.action = JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE;
    p.proctor_id = "PR-7";
    e.proctor_action = &p;
    return s_enc(&e, len);
}

static uint8_t *b_ready(const char *node, uint32_t capacity, size_t *len)
{
    Jk__Envelope e;
    Jk__WorkerReady w = JK__WORKER_READY__INIT;
    s_hdr(&e, JK__KIND__KIND_WORKER_READY, node);
    w.service = "score";
    w.has_capacity = 1;
    w.capacity = capacity;
    e.worker_ready = &w;
    return s_enc(&e, len);
}

static uint8_t *b_credit(const char *node, uint32_t credit, size_t *len)
{
    Jk__Envelope e;
    Jk__Credit c = JK__CREDIT__INIT;
    s_hdr(&e, JK__KIND__KIND_CREDIT, node);
    c.has_credit = 1;
    c.credit = credit;
    e.credit = &c;
    return s_enc(&e, len);
}

static uint8_t *b_heartbeat(const char *node, const char *site, size_t *len)
{
    Jk__Envelope e;
    Jk__Heartbeat h = JK__HEARTBEAT__INIT;
    s_hdr(&e, JK__KIND__KIND_HEARTBEAT, node);
    e.site_id = (char *)site;
    h.has_interval_ms = 1;
    h.interval_ms = HB_MS;
    e.heartbeat = &h;
    return s_enc(&e, len);
}

static uint8_t *b_disconnect(const char *node, size_t *len)
{
    Jk__Envelope e;
    Jk__Disconnect d = JK__DISCONNECT__INIT;
    s_hdr(&e, JK__KIND__KIND_DISCONNECT, node);
    d.reason = "going away";
    e.disconnect = &d;
    return s_enc(&e, len);
}

/* The ACK a scorer sends for a request (decoded to find what to ack). */
static uint8_t *b_ack_for(const char *node, const uint8_t *req, size_t req_len,
                          Jk__AckStatus status, size_t *len)
{
    Jk__Envelope *r = NULL;
    jk_error_t err;
    if (jk_codec_decode(req, req_len, NULL, &r, &err) != JK_OK)
        fail_msg("decode request: %s", err.msg);
    Jk__Envelope e;
    Jk__Ack a = JK__ACK__INIT;
    s_hdr(&e, JK__KIND__KIND_ACK, node);
    e.session_id = r->session_id;
    a.has_acked_message_id = 1;
    a.acked_message_id = r->message_id;
    a.has_acked_seq = r->has_seq;
    a.acked_seq = r->seq;
    a.has_status = 1;
    a.status = status;
    e.ack = &a;
    uint8_t *out = s_enc(&e, len);
    jk_codec_free(&r);
    return out;
}

static uint8_t *b_result(const char *site, const char *room, size_t *len)
{
    Jk__Envelope e;
    Jk__Result res = JK__RESULT__INIT;
    Jk__ExamResult th = JK__EXAM_RESULT__INIT, sk = JK__EXAM_RESULT__INIT;
    s_hdr(&e, JK__KIND__KIND_RESULT, "scorerd-1");
    e.exam_id = "E1";
    e.site_id = (char *)site;
    e.room_id = (char *)room;
    e.candidate_id = "C-0001";
    e.has_event_time_ms = 1;
    e.event_time_ms = s_wall();
    res.has_level = 1;
    res.level = 4;
    th.has_exam = 1;
    th.exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
    th.has_status = 1;
    th.status = JK__RESULT_STATUS__RESULT_STATUS_PENDING;
    sk.has_exam = 1;
    sk.exam = JK__EXAM_TYPE__EXAM_TYPE_SKILLS;
    sk.has_status = 1;
    sk.status = JK__RESULT_STATUS__RESULT_STATUS_PENDING;
    res.theory = &th;
    res.skills = &sk;
    res.has_passed = 1;
    res.passed = 0;
    e.result = &res;
    return s_enc(&e, len);
}

static uint8_t *b_release(const char *site, uint64_t *mid, size_t *len)
{
    static uint8_t key[32], digest[32];
    memset(key, 0x5a, sizeof key);
    memset(digest, 0xa5, sizeof digest);
    Jk__Envelope e;
    Jk__PackageRelease p = JK__PACKAGE_RELEASE__INIT;
    s_hdr(&e, JK__KIND__KIND_PACKAGE_RELEASE, "center-admin");
    e.exam_id = "E1";
    e.site_id = (char *)site;
    p.package_id = "PKG-E1-S1";
    p.key_id = "pk-1";
    p.has_cipher = 1;
    p.cipher = JK__CIPHER__CIPHER_AES_256_GCM;
    p.has_key = 1;
    p.key.data = key;
    p.key.len = sizeof key;
    p.has_package_digest = 1;
    p.package_digest.data = digest;
    p.package_digest.len = sizeof digest;
    e.package_release = &p;
    if (mid)
        *mid = e.message_id;
    return s_enc(&e, len);
}

/* ---- peers ---- */

static peer_t *s_peer(pkind_t kind, const jk_net_keypair_t *kp, const char *node)
{
    peer_t *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->kind = kind;
    p->node = node;
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = W.plain ? JK_NET_PLAIN : JK_NET_CURVE;
    o.secret_key_z85 = kp->secret_z85;
    o.server_key_z85 = W.broker_kp.public_z85;
    o.linger_ms = 0;
    o.max_msg_bytes = jk_net_max_msg_bytes(NULL, true);
    jk_error_t err;
    const char *ep = kind == P_CLIENT ? W.fe : kind == P_WORKER ? W.be : W.pe;
    p->sock = jk_net_client(W.ctx, kind == P_SUB ? ZMQ_SUB : ZMQ_DEALER, ep, &o, &err);
    if (!p->sock)
        fail_msg("%s: %s", node, err.msg);
    p->last_send_ms = s_now();
    p->broker_seen_ms = s_now();
    assert_true(W.np < sizeof W.peers / sizeof W.peers[0]);
    W.peers[W.np++] = p;
    return p;
}

static void s_peer_close(peer_t *p)
{
    if (p->sock)
        zmq_close(p->sock);
    p->sock = NULL;
}

static void s_send_raw(peer_t *p, const uint8_t *addr, size_t addr_len, const uint8_t *env,
                       size_t len)
{
    jk_net_item_t it = { addr, addr_len, env, len };
    jk_error_t err;
    jk_err_t rc = jk_net_send_batch(p->sock, NULL, 0,
                                    p->kind == P_WORKER ? JK_NET_LINK_WORKER : JK_NET_LINK_CLIENT,
                                    &it, 1, &err);
    if (rc != JK_OK)
        fail_msg("%s: send: %s", p->node, err.msg);
    p->last_send_ms = s_now();
}

/* Sends an envelope the test built, then frees it. */
static void s_send(peer_t *p, uint8_t *env, size_t len)
{
    s_send_raw(p, (const uint8_t *)"", 0, env, len);
    free(env);
}

static void s_ready(peer_t *p)
{
    size_t len;
    uint8_t *e = b_ready(p->node, p->capacity, &len);
    s_send(p, e, len);
    p->readies++;
}

static void s_on_envelope(peer_t *p, const uint8_t *addr, size_t addr_len, const uint8_t *env,
                          size_t len, const char *topic)
{
    Jk__Envelope *e = NULL;
    jk_error_t err;
    if (jk_codec_decode(env, len, NULL, &e, &err) != JK_OK)
        fail_msg("%s received an envelope that does not decode: %s", p->node, err.msg);
    Jk__Kind k = e->kind;
    jk_codec_free(&e);
    if (p->kind != P_SUB && addr_len == 0 && k == JK__KIND__KIND_HEARTBEAT) {
        p->heartbeats_in++;
        return;
    }
    if (p->kind == P_WORKER && addr_len == 0 && k == JK__KIND__KIND_DISCONNECT) {
        p->disconnects_in++;
        if (p->auto_ready)
            s_ready(p);
        return;
    }
    if (p->kind == P_WORKER && p->auto_ack && addr_len > 0) {
        size_t al;
        uint8_t *ack = b_ack_for(p->node, env, len, JK__ACK_STATUS__ACK_STATUS_APPLIED, &al);
        s_send_raw(p, addr, addr_len, ack, al);
        free(ack);
    }
    if (p->n >= INBOX_MAX)
        fail_msg("%s: inbox full", p->node);
    got_t *g = &p->in[p->n++];
    if (addr_len)
        memcpy(g->addr, addr, addr_len);
    g->addr_len = addr_len;
    g->env = malloc(len ? len : 1);
    assert_non_null(g->env);
    memcpy(g->env, env, len);
    g->len = len;
    g->kind = k;
    snprintf(g->topic, sizeof g->topic, "%s", topic ? topic : "");
}

static void s_recv_all(peer_t *p, jk_net_msg_t *m)
{
    for (;;) {
        jk_error_t err;
        jk_err_t rc = jk_net_recv(p->sock, m, 4u << 20, ZMQ_DONTWAIT, &err);
        if (rc == JK_ERR_UNAVAIL)
            return;
        if (rc != JK_OK)
            fail_msg("%s: recv: %s", p->node, err.msg);
        p->broker_seen_ms = s_now();
        if (p->broker_dead) {
            p->broker_dead = false;
            if (p->auto_ready)
                s_ready(p);
        }
        if (p->kind == P_SUB) {
            size_t tl, el;
            const uint8_t *t = jk_net_msg_data(m, 0, &tl);
            const uint8_t *e = jk_net_msg_data(m, 1, &el);
            assert_int_equal(jk_net_msg_count(m), 2);
            char topic[JK_CODEC_TOPIC_MAX];
            assert_true(tl < sizeof topic);
            memcpy(topic, t, tl);
            topic[tl] = '\0';
            s_on_envelope(p, NULL, 0, e, el, topic);
            continue;
        }
        jk_net_batch_t b;
        if (jk_net_parse(m, p->kind == P_WORKER ? JK_NET_LINK_WORKER : JK_NET_LINK_CLIENT, false,
                         &b, &err) != JK_OK)
            fail_msg("%s: bad frames from the broker: %s", p->node, err.msg);
        for (size_t i = 0; i < b.n; i++)
            s_on_envelope(p, b.items[i].addr, b.items[i].addr_len, b.items[i].env,
                          b.items[i].env_len, NULL);
    }
}

/* One turn for every fake peer: receive what is there (waiting up to
 * wait_ms), heartbeat like a real peer, notice a silent broker. */
static void s_pump(int wait_ms)
{
    static jk_net_msg_t *m;
    if (!m)
        m = jk_net_msg_new(JK_NET_FRAMES_MAX);
    zmq_pollitem_t items[16];
    size_t n = 0;
    for (size_t i = 0; i < W.np; i++)
        if (W.peers[i]->sock && !W.peers[i]->frozen)
            items[n++] = (zmq_pollitem_t){ W.peers[i]->sock, 0, ZMQ_POLLIN, 0 };
    zmq_poll(items, (int)n, wait_ms);
    int64_t now = s_now();
    for (size_t i = 0; i < W.np; i++) {
        peer_t *p = W.peers[i];
        if (!p->sock || p->frozen)
            continue;
        s_recv_all(p, m);
        if (p->kind == P_SUB)
            continue;
        if (p->kind == P_WORKER && !p->broker_dead && now - p->broker_seen_ms > 3 * HB_MS)
            p->broker_dead = true;
        if (now - p->last_send_ms >= HB_MS) {
            size_t len;
            uint8_t *e = b_heartbeat(p->node, p->kind == P_CLIENT ? p->site : NULL, &len);
            s_send(p, e, len);
        }
    }
}

typedef bool (*pred_t)(void *ud);

static bool s_wait(pred_t pred, void *ud)
{
    int64_t end = s_now() + WAIT_MS;
    while (s_now() < end) {
        if (pred(ud))
            return true;
        s_pump(10);
    }
    return pred(ud);
}

#define WAIT(pred, ud, what)                                                               \
    do {                                                                                   \
        if (!s_wait((pred), (ud)))                                                         \
            fail_msg("timed out waiting for %s (broker log: %s)", (what), W.log);          \
    } while (0)

/* Pumps for a while without expecting anything (used only after a
 * condition proved that nothing more can come). */
static void s_pump_for(int ms)
{
    int64_t end = s_now() + ms;
    while (s_now() < end)
        s_pump(10);
}

typedef struct {
    peer_t *p;
    size_t n;
    Jk__Kind kind; /* 0: any */
} count_t;

static size_t s_count(peer_t *p, Jk__Kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!kind || p->in[i].kind == kind)
            n++;
    return n;
}

static bool s_has(void *ud)
{
    count_t *c = ud;
    return s_count(c->p, c->kind) >= c->n;
}

static void s_wait_count(peer_t *p, Jk__Kind kind, size_t n)
{
    count_t c = { p, n, kind };
    char what[128];
    snprintf(what, sizeof what, "%zu %s at %s (has %zu)", n,
             kind ? jk_codec_kind_name(kind) : "messages", p->node, s_count(p, kind));
    WAIT(s_has, &c, what);
}

/* ---- broker.stats from the log ---- */

/* The value of `key` in the last broker.stats line, or -1. */
static long long s_stat(const char *key)
{
    FILE *f = fopen(W.log, "r");
    if (!f)
        return -1;
    static char line[8192];
    static char last[8192];
    last[0] = '\0';
    while (fgets(line, sizeof line, f))
        if (strstr(line, "event=broker.stats "))
            memcpy(last, line, sizeof last);
    fclose(f);
    char pat[128];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(last, pat);
    return p ? atoll(p + strlen(pat)) : -1;
}

typedef struct {
    const char *key;
    long long at_least;
    long long exactly; /* used when at_least < 0 */
} stat_t;

static bool s_stat_ok(void *ud)
{
    stat_t *s = ud;
    long long v = s_stat(s->key);
    return s->at_least >= 0 ? v >= s->at_least : v == s->exactly;
}

static void s_wait_stat(const char *key, long long at_least)
{
    stat_t s = { key, at_least, 0 };
    char what[128];
    snprintf(what, sizeof what, "broker.stats %s >= %lld", key, at_least);
    WAIT(s_stat_ok, &s, what);
}

typedef struct {
    const char *needle;
    int times;
} logpred_t;

static int s_log_count(const char *needle)
{
    FILE *f = fopen(W.log, "r");
    if (!f)
        return 0;
    static char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

static bool s_log_has(void *ud)
{
    logpred_t *l = ud;
    return s_log_count(l->needle) >= l->times;
}

static void s_wait_log(const char *needle, int times)
{
    logpred_t l = { needle, times };
    char what[160];
    snprintf(what, sizeof what, "%d x '%s' in the broker log", times, needle);
    WAIT(s_log_has, &l, what);
}

/* ---- the world ---- */

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void s_start_broker(void)
{
    const char *argv[] = { JK_HARNESS_BROKER_BIN, "--config", W.conf, NULL };
    int before = s_log_count("event=broker.start ");
    W.broker = jk_harness_spawn(argv, NULL, W.log);
    assert_non_null(W.broker);
    s_wait_log("event=broker.start ", before + 1);
}

/* extra: config lines appended for this story. */
static void s_world_up(const char *extra)
{
    jk_error_t err;
    memset(&W, 0, sizeof W);
    W.dir = jk_harness_tempdir("broker");
    assert_non_null(W.dir);
    jk_net_keypair_t *kps[] = { &W.broker_kp, &W.examd_kp,  &W.admin_kp,   &W.dash_kp,
                                &W.scorer_kp, &W.scorer2_kp, &W.scorer3_kp, &W.scorer4_kp,
                                &W.stranger_kp };
    for (size_t i = 0; i < sizeof kps / sizeof kps[0]; i++)
        assert_int_equal(jk_net_keypair_generate(kps[i], &err), JK_OK);
    const char *key = jk_harness_strf("%s/broker.key", W.dir);
    assert_int_equal(jk_net_key_write(key, W.broker_kp.secret_z85, true, &err), JK_OK);
    const char *allow = jk_harness_strf("%s/allow.txt", W.dir);
    const char *allow_back = jk_harness_strf("%s/allow-backend.txt", W.dir);
    s_write(allow, jk_harness_strf("# clients\nexamd-0101 %s\nadmin %s\ndash-1 %s\n",
                                   W.examd_kp.public_z85, W.admin_kp.public_z85,
                                   W.dash_kp.public_z85));
    s_write(allow_back, jk_harness_strf("scorerd-1 %s\nscorerd-2 %s\nscorerd-3 %s\nscorerd-4 %s\n",
                                        W.scorer_kp.public_z85, W.scorer2_kp.public_z85,
                                        W.scorer3_kp.public_z85, W.scorer4_kp.public_z85));
    int fp = jk_harness_free_port(), bp = jk_harness_free_port(), pp = jk_harness_free_port();
    assert_true(fp > 0 && bp > 0 && pp > 0);
    snprintf(W.fe, sizeof W.fe, "tcp://127.0.0.1:%d", fp);
    snprintf(W.be, sizeof W.be, "tcp://127.0.0.1:%d", bp);
    snprintf(W.pe, sizeof W.pe, "tcp://127.0.0.1:%d", pp);
    W.conf = jk_harness_strf("%s/broker.conf", W.dir);
    W.log = jk_harness_strf("%s/broker.log", W.dir);
    s_write(W.conf, jk_harness_strf("frontend = %s\nbackend = %s\npub = %s\n"
                                    "security = curve\ncurve.secret = %s\ncurve.allow = %s\n"
                                    "curve.allow_backend = %s\n"
                                    "heartbeat.interval = %dms\nstats.interval = 50ms\n"
                                    "queue.retry_after = %dms\nlog.level = debug\n%s",
                                    W.fe, W.be, W.pe, key, allow, allow_back, HB_MS,
                                    RETRY_AFTER_MS, extra ? extra : ""));
    W.ctx = zmq_ctx_new();
    assert_non_null(W.ctx);
    s_start_broker();
}

static void s_world_down(void)
{
    for (size_t i = 0; i < W.np; i++) {
        peer_t *p = W.peers[i];
        s_peer_close(p);
        for (size_t j = 0; j < p->n; j++)
            free(p->in[j].env);
        free(p);
    }
    W.np = 0;
    zmq_ctx_term(W.ctx);
    if (W.broker && jk_harness_running(W.broker)) {
        jk_harness_kill(W.broker, SIGTERM);
        if (!jk_harness_wait_exit(W.broker, WAIT_MS))
            fail_msg("the broker did not stop on SIGTERM");
        assert_true(jk_harness_exited_with(W.broker, 0));
    }
    jk_harness_child_free(&W.broker);
    jk_net_keypair_t *kps[] = { &W.broker_kp, &W.examd_kp,  &W.admin_kp,   &W.dash_kp,
                                &W.scorer_kp, &W.scorer2_kp, &W.scorer3_kp, &W.scorer4_kp,
                                &W.stranger_kp };
    for (size_t i = 0; i < sizeof kps / sizeof kps[0]; i++)
        jk_net_keypair_wipe(kps[i]);
    W.ctx = NULL;
}

static int s_teardown(void **state)
{
    (void)state;
    if (W.ctx)
        s_world_down();
    return 0;
}

static peer_t *s_examd(void)
{
    peer_t *p = s_peer(P_CLIENT, &W.examd_kp, "examd-0101");
    p->site = "S1";
    return p;
}

static peer_t *s_scorer(const jk_net_keypair_t *kp, const char *node, uint32_t capacity)
{
    peer_t *p = s_peer(P_WORKER, kp, node);
    p->capacity = capacity;
    s_ready(p);
    return p;
}

/* ---------------------------------------------------------------------- */
/* Stories                                                                  */

static void test_route_and_ack(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 16);
    peer_t *ex = s_examd();
    s_wait_log("event=scorer.ready", 1);

    size_t len;
    uint64_t mid;
    uint8_t *a = b_answer("S1", "R1", "SES-1", 1, 2, &mid, &len);
    s_send_raw(ex, (const uint8_t *)"", 0, a, len);
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 1);
    got_t *g = &sc->in[0];
    assert_int_equal(g->len, len);
    assert_memory_equal(g->env, a, len); /* unchanged, byte for byte */
    assert_true(g->addr_len > 0);        /* with the client's address */
    free(a);

    size_t al;
    uint8_t *ack = b_ack_for("scorerd-1", g->env, g->len, JK__ACK_STATUS__ACK_STATUS_APPLIED, &al);
    s_send_raw(sc, g->addr, g->addr_len, ack, al);
    s_wait_count(ex, JK__KIND__KIND_ACK, 1);
    assert_int_equal(ex->in[0].len, al);
    assert_memory_equal(ex->in[0].env, ack, al);
    free(ack);

    /* A batch of five in one message, answered in one message. */
    jk_net_item_t items[5];
    uint8_t *bufs[5];
    for (int i = 0; i < 5; i++) {
        bufs[i] = b_answer("S1", "R1", "SES-1", (uint64_t)(2 + i), 2, NULL, &len);
        items[i] = (jk_net_item_t){ NULL, 0, bufs[i], len };
    }
    jk_error_t err;
    assert_int_equal(jk_net_send_batch(ex->sock, NULL, 0, JK_NET_LINK_CLIENT, items, 5, &err),
                     JK_OK);
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 6);
    jk_net_item_t acks[5];
    uint8_t *abufs[5];
    for (int i = 0; i < 5; i++) {
        got_t *r = &sc->in[1 + i];
        assert_memory_equal(r->env, bufs[i], r->len);
        abufs[i] = b_ack_for("scorerd-1", r->env, r->len, JK__ACK_STATUS__ACK_STATUS_APPLIED, &al);
        acks[i] = (jk_net_item_t){ r->addr, r->addr_len, abufs[i], al };
    }
    assert_int_equal(jk_net_send_batch(sc->sock, NULL, 0, JK_NET_LINK_WORKER, acks, 5, &err),
                     JK_OK);
    s_wait_count(ex, JK__KIND__KIND_ACK, 6);
    for (int i = 0; i < 5; i++) {
        free(bufs[i]);
        free(abufs[i]);
    }
    s_wait_stat("replies_out", 6);
    s_wait_stat("requests_in", 6);
    assert_int_equal(s_stat("queued"), 0);
    assert_int_equal(s_stat("in_flight"), 0);
    s_world_down();
}

static void test_credit_respected(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 2);
    peer_t *ex = s_examd();
    s_wait_log("event=scorer.ready", 1);
    for (int i = 0; i < 5; i++) {
        size_t len;
        uint8_t *a = b_answer("S1", "R1", "SES-2", (uint64_t)(1 + i), 2, NULL, &len);
        s_send(ex, a, len);
    }
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 2);
    /* The broker holds all five: two with the scorer, three waiting. A
     * stats line with both proves it had the rest and did not send them. */
    stat_t q = { "queued", -1, 3 };
    WAIT(s_stat_ok, &q, "queued == 3");
    assert_int_equal(s_stat("in_flight"), 2);
    s_pump_for(3 * HB_MS);
    assert_int_equal(s_count(sc, JK__KIND__KIND_ANSWER), 2);

    size_t len;
    uint8_t *c = b_credit("scorerd-1", 3, &len);
    s_send(sc, c, len);
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 5);
    stat_t f = { "in_flight", -1, 5 };
    WAIT(s_stat_ok, &f, "in_flight == 5");
    assert_int_equal(s_stat("queued"), 0);
    assert_int_equal(s_count(sc, JK__KIND__KIND_ANSWER), 5);

    for (size_t i = 0; i < sc->n; i++) {
        if (sc->in[i].kind != JK__KIND__KIND_ANSWER)
            continue;
        size_t al;
        uint8_t *ack = b_ack_for("scorerd-1", sc->in[i].env, sc->in[i].len,
                                 JK__ACK_STATUS__ACK_STATUS_APPLIED, &al);
        s_send_raw(sc, sc->in[i].addr, sc->in[i].addr_len, ack, al);
        free(ack);
    }
    s_wait_count(ex, JK__KIND__KIND_ACK, 5);
    s_world_down();
}

/* Acks every request b holds from index `from` on. */
static void s_ack_all(peer_t *b, size_t from)
{
    for (size_t i = from; i < b->n; i++) {
        got_t *g = &b->in[i];
        size_t al;
        uint8_t *ack = b_ack_for(b->node, g->env, g->len, JK__ACK_STATUS__ACK_STATUS_APPLIED, &al);
        s_send_raw(b, g->addr, g->addr_len, ack, al);
        free(ack);
    }
}

static void test_scorer_lost_requeues(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *a = s_scorer(&W.scorer_kp, "scorerd-1", 16);
    peer_t *ex = s_examd();
    s_wait_log("event=scorer.ready", 1);
    uint8_t *sent[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++) {
        sent[i] = b_answer("S1", "R1", "SES-3", (uint64_t)(1 + i), 2, NULL, &lens[i]);
        s_send_raw(ex, (const uint8_t *)"", 0, sent[i], lens[i]);
    }
    s_wait_count(a, JK__KIND__KIND_ANSWER, 3);
    peer_t *b = s_scorer(&W.scorer2_kp, "scorerd-2", 16);
    s_wait_stat("scorers", 2);

    /* 1. A hangs: its connection stays up, its heartbeats stop. After
     * heartbeat.liveness intervals its requests go to B, oldest first. */
    a->frozen = true;
    s_wait_count(b, JK__KIND__KIND_ANSWER, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(b->in[i].len, lens[i]);
        assert_memory_equal(b->in[i].env, sent[i], lens[i]);
        free(sent[i]);
    }
    s_wait_log("event=scorer.lost peer=scorerd-1", 1);
    assert_true(s_log_count("reason=silent requeued=3") >= 1);
    s_ack_all(b, 0);
    s_wait_count(ex, JK__KIND__KIND_ACK, 3);
    s_wait_stat("requeued", 3);

    /* 2. C is killed: its socket closes without a DISCONNECT. C has more
     * credit than B (B used 3), so C, least loaded, gets the next one. */
    peer_t *c = s_scorer(&W.scorer3_kp, "scorerd-3", 16);
    s_wait_stat("scorers", 2);
    size_t len;
    {
        uint8_t *buf_ = b_answer("S1", "R1", "SES-3", 4, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    s_wait_count(c, JK__KIND__KIND_ANSWER, 1);
    s_peer_close(c);
    s_wait_count(b, JK__KIND__KIND_ANSWER, 4);
    assert_memory_equal(b->in[3].env, c->in[0].env, c->in[0].len);
    s_wait_stat("requeued", 4);
    s_ack_all(b, 3);
    s_wait_count(ex, JK__KIND__KIND_ACK, 4);

    /* 3. D says DISCONNECT: its requests move at once. */
    peer_t *d = s_scorer(&W.scorer4_kp, "scorerd-4", 16);
    s_wait_stat("scorers", 2);
    {
        uint8_t *buf_ = b_answer("S1", "R1", "SES-3", 5, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    s_wait_count(d, JK__KIND__KIND_ANSWER, 1);
    uint8_t *bye = b_disconnect("scorerd-4", &len);
    s_send(d, bye, len);
    s_wait_count(b, JK__KIND__KIND_ANSWER, 5);
    assert_memory_equal(b->in[4].env, d->in[0].env, d->in[0].len);
    s_wait_log("reason=disconnect requeued=1", 1);
    s_ack_all(b, 4);
    s_wait_count(ex, JK__KIND__KIND_ACK, 5);
    s_wait_stat("scorers_lost", 3);
    s_world_down();
}

static void test_queue_full_retry_later(void **state)
{
    (void)state;
    s_world_up("queue.max = 3\n");
    peer_t *ex = s_examd();
    uint64_t mids[5];
    for (int i = 0; i < 5; i++) {
        size_t len;
        uint8_t *a = b_answer("S1", "R1", "SES-4", (uint64_t)(1 + i), 2, &mids[i], &len);
        s_send(ex, a, len);
    }
    s_wait_count(ex, JK__KIND__KIND_ACK, 2);
    for (int i = 0; i < 2; i++) {
        Jk__Envelope *e = NULL;
        jk_error_t err;
        assert_int_equal(jk_codec_decode(ex->in[i].env, ex->in[i].len, NULL, &e, &err), JK_OK);
        assert_int_equal(e->ack->status, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER);
        assert_int_equal(e->ack->retry_after_ms, RETRY_AFTER_MS);
        assert_int_equal(e->ack->acked_message_id, mids[3 + i]);
        assert_int_equal(e->ack->acked_seq, 4 + i);
        assert_string_equal(e->session_id, "SES-4");
        jk_codec_free(&e);
    }
    s_wait_stat("retry_later", 2);
    /* The three queued ones go to the first scorer that comes. */
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 16);
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 3);
    s_world_down();
}

/* queue.max_age: a request nobody took in time is dropped (its client
 * resends); nothing stale reaches a scorer that comes later. */
static void test_queue_max_age(void **state)
{
    (void)state;
    s_world_up("queue.max_age = 300ms\n");
    peer_t *ex = s_examd();
    size_t len;
    for (int i = 0; i < 2; i++) {
        uint8_t *a = b_answer("S1", "R1", "SES-A", (uint64_t)(1 + i), 2, NULL, &len);
        s_send(ex, a, len);
    }
    s_wait_stat("expired", 2);
    assert_int_equal(s_stat("queued"), 0);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 8);
    s_wait_log("event=scorer.ready", 1);
    uint8_t *a = b_answer("S1", "R1", "SES-A", 1, 2, NULL, &len);
    uint8_t *copy = malloc(len);
    memcpy(copy, a, len);
    s_send(ex, a, len);
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 1);
    s_wait_stat("requests_out", 1);
    assert_int_equal(s_stat("requests_out"), 1);
    assert_int_equal(s_count(sc, JK__KIND__KIND_ANSWER), 1);
    assert_memory_equal(sc->in[0].env, copy, len);
    free(copy);
    s_world_down();
}

static void test_bad_input_refused_and_counted(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 64);
    sc->auto_ack = true;
    peer_t *ex = s_examd();
    s_wait_log("event=scorer.ready", 1);
    jk_error_t err;

    /* Garbage: no message id to answer; dropped and counted. */
    s_send_raw(ex, (const uint8_t *)"", 0, (const uint8_t *)"\xff\xff\xff\xff", 4);
    s_wait_stat("refused_malformed", 1);

    /* Another schema version: answered REJECTED BAD_VERSION. */
    size_t len;
    uint64_t mid;
    uint8_t *a = b_answer("S1", "R1", "SES-5", 1, 2, &mid, &len);
    Jk__Envelope *e = NULL;
    assert_int_equal(jk_codec_decode(a, len, NULL, &e, &err), JK_OK);
    e->schema_version = 2;
    size_t vlen = jk__envelope__get_packed_size(e);
    uint8_t *v2 = malloc(vlen);
    jk__envelope__pack(e, v2);
    jk_codec_free(&e);
    free(a);
    s_send(ex, v2, vlen);
    s_wait_count(ex, JK__KIND__KIND_ACK, 1);
    assert_int_equal(jk_codec_decode(ex->in[0].env, ex->in[0].len, NULL, &e, &err), JK_OK);
    assert_int_equal(e->ack->status, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_int_equal(e->ack->reason, JK__REJECT_REASON__REJECT_REASON_BAD_VERSION);
    assert_int_equal(e->ack->acked_message_id, mid);
    jk_codec_free(&e);

    /* Oversized (over 64 KiB, within the frame bound): REJECTED TOO_BIG. */
    {
        Jk__Envelope big;
        Jk__Answer ans = JK__ANSWER__INIT;
        Jk__Response r = JK__RESPONSE__INIT;
        s_hdr(&big, JK__KIND__KIND_ANSWER, "examd-0101");
        s_session(&big, "S1", "R1", "SES-5", 2);
        ans.item_id = "I-1";
        ans.has_flagged = 1;
        ans.has_change_counter = 1;
        ans.change_counter = 1;
        char *text = malloc(65600);
        memset(text, 'x', 65599);
        text[65599] = '\0';
        r.value_case = JK__RESPONSE__VALUE_TEXT;
        r.text = text;
        ans.response = &r;
        big.answer = &ans;
        size_t blen = jk__envelope__get_packed_size(&big);
        assert_true(blen > JK_CODEC_MAX_BYTES);
        uint8_t *bb = malloc(blen);
        jk__envelope__pack(&big, bb);
        uint64_t bmid = big.message_id;
        free(text);
        s_send(ex, bb, blen);
        s_wait_count(ex, JK__KIND__KIND_ACK, 2);
        assert_int_equal(jk_codec_decode(ex->in[1].env, ex->in[1].len, NULL, &e, &err), JK_OK);
        assert_int_equal(e->ack->reason, JK__REJECT_REASON__REJECT_REASON_TOO_BIG);
        assert_int_equal(e->ack->acked_message_id, bmid);
        jk_codec_free(&e);
    }

    /* Too many frames: 257 envelopes. Dropped whole, counted. */
    {
        static jk_net_frame_t f[2 + 257];
        a = b_answer("S1", "R1", "SES-5", 3, 2, NULL, &len);
        f[0] = (jk_net_frame_t){ "", 0 };
        f[1] = (jk_net_frame_t){ "JK1C", 4 };
        for (int i = 0; i < 257; i++)
            f[2 + i] = (jk_net_frame_t){ a, len };
        assert_int_equal(jk_net_send(ex->sock, f, 2 + 257, &err), JK_OK);
        free(a);
        s_wait_stat("refused_frames", 1);
    }
    /* Another protocol frame; a missing delimiter. */
    {
        a = b_answer("S1", "R1", "SES-5", 3, 2, NULL, &len);
        jk_net_frame_t f[3] = { { "", 0 }, { "JK9C", 4 }, { a, len } };
        assert_int_equal(jk_net_send(ex->sock, f, 3, &err), JK_OK);
        jk_net_frame_t g[2] = { { "JK1C", 4 }, { a, len } };
        assert_int_equal(jk_net_send(ex->sock, g, 2, &err), JK_OK);
        free(a);
        s_wait_stat("refused_protocol", 1);
        s_wait_stat("refused_frames", 2);
    }
    /* A kind clients may not send: REJECTED NOT_PERMITTED. */
    uint8_t *wr = b_ready("examd-0101", 5, &len);
    s_send(ex, wr, len);
    s_wait_count(ex, JK__KIND__KIND_ACK, 3);
    assert_int_equal(jk_codec_decode(ex->in[2].env, ex->in[2].len, NULL, &e, &err), JK_OK);
    assert_int_equal(e->ack->reason, JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED);
    jk_codec_free(&e);
    s_wait_stat("refused_kind", 1);

    /* A scorer's garbage is refused too, and the scorer keeps working. */
    s_send_raw(sc, (const uint8_t *)"", 0, (const uint8_t *)"\x08", 1);
    s_wait_stat("refused_malformed", 2);

    /* Nothing bad reached the scorer; a good request still goes through. */
    assert_int_equal(s_count(sc, 0), 0);
    a = b_answer("S1", "R1", "SES-5", 3, 2, &mid, &len);
    s_send(ex, a, len);
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 1);
    s_wait_count(ex, JK__KIND__KIND_ACK, 4);
    assert_int_equal(jk_codec_decode(ex->in[3].env, ex->in[3].len, NULL, &e, &err), JK_OK);
    assert_int_equal(e->ack->status, JK__ACK_STATUS__ACK_STATUS_APPLIED);
    assert_int_equal(e->ack->acked_message_id, mid);
    jk_codec_free(&e);

    /* A frame over ZMQ_MAXMSGSIZE: libzmq drops that connection; the
     * client reconnects and is served again. */
    uint8_t *huge = calloc(1, 200000);
    s_send_raw(ex, (const uint8_t *)"", 0, huge, 200000);
    free(huge);
    size_t acks = s_count(ex, JK__KIND__KIND_ACK);
    for (int tries = 0; s_count(ex, JK__KIND__KIND_ACK) == acks; tries++) {
        if (tries > 60)
            fail_msg("no answer after the oversized frame");
        a = b_answer("S1", "R1", "SES-5", 4, 2, NULL, &len);
        s_send(ex, a, len);
        int64_t end = s_now() + 500;
        while (s_now() < end && s_count(ex, JK__KIND__KIND_ACK) == acks)
            s_pump(10);
    }
    assert_true(jk_harness_running(W.broker));
    s_world_down();
}

/* A received envelope, decoded (the caller frees it). */
static Jk__Envelope *s_decode(const got_t *g)
{
    Jk__Envelope *e = NULL;
    jk_error_t err;
    if (jk_codec_decode(g->env, g->len, NULL, &e, &err) != JK_OK)
        fail_msg("published envelope: %s", err.msg);
    return e;
}

static void test_pub_stream(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *d1 = s_peer(P_SUB, &W.dash_kp, "dash-site");
    peer_t *d2 = s_peer(P_SUB, &W.dash_kp, "dash-room-kind");
    zmq_setsockopt(d1->sock, ZMQ_SUBSCRIBE, "E1/S1/", 6);
    zmq_setsockopt(d2->sock, ZMQ_SUBSCRIBE, "E1/S1/R2/answer", 15);
    s_wait_stat("subscriptions", 2);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 64);
    sc->auto_ack = true;
    peer_t *ex = s_examd();
    s_wait_log("event=scorer.ready", 1);

    size_t len;
    /* R1: an answer seen for the first time (STARTED + COMPLETED), a
     * second answer, a pause; R2: two answers; S2: one answer (d1 and d2
     * must not see it). */
    {
        uint8_t *buf_ = b_answer("S1", "R1", "SES-6", 1, 1, NULL, &len);
        s_send(ex, buf_, len);
    }
    {
        uint8_t *buf_ = b_answer("S1", "R1", "SES-6", 2, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    {
        uint8_t *buf_ = b_pause("R1", "SES-6", 3, &len);
        s_send(ex, buf_, len);
    }
    {
        uint8_t *buf_ = b_answer("S1", "R2", "SES-7", 1, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    {
        uint8_t *buf_ = b_answer("S1", "R2", "SES-7", 2, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    {
        uint8_t *buf_ = b_answer("S2", "R1", "SES-8", 1, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    s_wait_count(ex, JK__KIND__KIND_ACK, 6);
    /* A duplicate publishes nothing. */
    got_t *first = &sc->in[0];
    uint8_t *dup = b_ack_for("scorerd-1", first->env, first->len,
                             JK__ACK_STATUS__ACK_STATUS_DUPLICATE, &len);
    s_send_raw(sc, first->addr, first->addr_len, dup, len);
    free(dup);
    /* A result is published on its room's topic. */
    {
        uint8_t *buf_ = b_result("S1", "R1", &len);
        s_send(sc, buf_, len);
    }

    /* d1: 3 answer events in R1 (STARTED + COMPLETED, COMPLETED), the
     * pause, 2 in R2, the result; the S2 answer is published too (8). */
    s_wait_count(d1, 0, 7);
    s_wait_count(d2, 0, 2);
    s_wait_stat("pub_sent", 8);

    /* d1: whole streams per topic, numbered from 1, one epoch. */
    struct {
        const char *topic;
        unsigned seen;
    } want[] = { { "E1/S1/R1/answer", 0 }, { "E1/S1/R1/proctor_action", 0 },
                 { "E1/S1/R2/answer", 0 }, { "E1/S1/R1/result", 0 } };
    uint64_t epoch = 0;
    for (size_t i = 0; i < d1->n; i++) {
        got_t *g = &d1->in[i];
        size_t w = 0;
        while (w < 4 && strcmp(want[w].topic, g->topic) != 0)
            w++;
        if (w == 4)
            fail_msg("unexpected topic %s", g->topic);
        want[w].seen++;
        Jk__Envelope *e = s_decode(g);
        if (w == 3) {
            assert_int_equal(e->kind, JK__KIND__KIND_RESULT);
            jk_codec_free(&e);
            continue;
        }
        assert_int_equal(e->kind, JK__KIND__KIND_MONITOR_EVENT);
        const Jk__MonitorEvent *m = e->monitor_event;
        if (!epoch)
            epoch = m->stream_epoch;
        assert_int_equal(m->stream_epoch, epoch);
        assert_int_equal(m->stream_seq, want[w].seen);
        assert_string_equal(m->ed_app, "examd-0101");
        if (w == 0 && want[w].seen == 1) {
            assert_int_equal(m->type, JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_ITEM_EVENT);
            assert_int_equal(m->action, JK__CALIPER_ACTION__CALIPER_ACTION_STARTED);
            assert_int_equal(m->actor->role, JK__ACTOR_ROLE__ACTOR_ROLE_CANDIDATE);
            assert_string_equal(m->object->id, "I-0001");
        }
        if (w == 0 && want[w].seen == 2)
            assert_int_equal(m->action, JK__CALIPER_ACTION__CALIPER_ACTION_COMPLETED);
        if (w == 1) {
            assert_int_equal(m->type, JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_EVENT);
            assert_int_equal(m->action, JK__CALIPER_ACTION__CALIPER_ACTION_PAUSED);
            assert_string_equal(m->actor->id, "PR-7");
        }
        jk_codec_free(&e);
    }
    assert_int_equal(want[0].seen, 3);
    assert_int_equal(want[1].seen, 1);
    assert_int_equal(want[2].seen, 2);
    assert_int_equal(want[3].seen, 1);

    /* d2: one room, one kind. */
    for (size_t i = 0; i < d2->n; i++) {
        assert_string_equal(d2->in[i].topic, "E1/S1/R2/answer");
        Jk__Envelope *e = s_decode(&d2->in[i]);
        assert_int_equal(e->monitor_event->stream_seq, i + 1);
        jk_codec_free(&e);
    }
    s_world_down();
}

/* ---- the Caliper mapping, row by row (docs/protocol.md §14.3) ---- */

typedef struct {
    Jk__CaliperType type;
    Jk__CaliperAction action;
    Jk__ActorRole role;
    const char *actor;
    Jk__ObjectType object;
    const char *object_id;
    uint64_t extension_ms;
    const char *topic_kind;
} mapping_t;

/* Builds session event `seq` of session SES-M for row i; fills *want. */
static uint8_t *b_row(size_t i, uint64_t seq, mapping_t *want, size_t *len)
{
    static uint8_t digest[32];
    Jk__Envelope e;
    Jk__SessionOpen so = JK__SESSION_OPEN__INIT;
    Jk__SessionResume sr = JK__SESSION_RESUME__INIT;
    Jk__Submit sub = JK__SUBMIT__INIT;
    Jk__ProctorAction pa = JK__PROCTOR_ACTION__INIT;
    Jk__ExaminerScore es = JK__EXAMINER_SCORE__INIT;
    Jk__Answer an = JK__ANSWER__INIT;
    const Jk__ActorRole CAND = JK__ACTOR_ROLE__ACTOR_ROLE_CANDIDATE;
    const Jk__ActorRole PROC = JK__ACTOR_ROLE__ACTOR_ROLE_PROCTOR;
    const Jk__ObjectType ASMT = JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT;
    memset(want, 0, sizeof *want);
    Jk__Kind kind = i == 0   ? JK__KIND__KIND_SESSION_OPEN
                    : i == 1 ? JK__KIND__KIND_SESSION_RESUME
                    : i == 2 ? JK__KIND__KIND_ANSWER
                    : i <= 5 ? JK__KIND__KIND_SUBMIT
                    : i <= 12 ? JK__KIND__KIND_PROCTOR_ACTION
                              : JK__KIND__KIND_EXAMINER_SCORE;
    s_hdr(&e, kind, "examd-0101");
    s_session(&e, "S1", "RM", "SES-M", seq);
    want->topic_kind = jk_codec_kind_name(kind);
    switch (i) {
    case 0:
        so.paper_id = "P-1";
        so.has_paper_digest = 1;
        so.paper_digest.data = digest;
        so.paper_digest.len = 32;
        so.has_exam = 1;
        so.exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
        so.has_level = 1;
        so.level = 4;
        so.has_duration_ms = 1;
        so.duration_ms = 5400000;
        so.workstation_id = "WS-1";
        so.has_item_count = 1;
        so.item_count = 100;
        e.session_open = &so;
        *want = (mapping_t){ JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_EVENT,
                             JK__CALIPER_ACTION__CALIPER_ACTION_STARTED, CAND, "C-0001", ASMT,
                             "SES-M", 0, want->topic_kind };
        break;
    case 1:
        sr.new_workstation_id = "WS-2";
        sr.proctor_id = "PR-7";
        e.session_resume = &sr;
        *want = (mapping_t){ JK__CALIPER_TYPE__CALIPER_TYPE_SESSION_EVENT,
                             JK__CALIPER_ACTION__CALIPER_ACTION_LOGGED_IN, CAND, "C-0001",
                             JK__OBJECT_TYPE__OBJECT_TYPE_SESSION, "WS-2", 0, want->topic_kind };
        break;
    case 2: /* cleared item, not the first change: SKIPPED only */
        an.item_id = "I-9";
        an.has_flagged = 1;
        an.has_change_counter = 1;
        an.change_counter = 4;
        e.answer = &an;
        *want = (mapping_t){ JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_ITEM_EVENT,
                             JK__CALIPER_ACTION__CALIPER_ACTION_SKIPPED, CAND, "C-0001",
                             JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT_ITEM, "I-9", 0,
                             want->topic_kind };
        break;
    case 3:
    case 4:
    case 5:
        sub.has_reason = 1;
        sub.reason = i == 3   ? JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE
                     : i == 4 ? JK__SUBMIT_REASON__SUBMIT_REASON_TIME_UP
                              : JK__SUBMIT_REASON__SUBMIT_REASON_PROCTOR_FORCE;
        sub.has_final_event_count = 1;
        sub.final_event_count = seq - 1;
        sub.has_digest = 1;
        sub.digest.data = digest;
        sub.digest.len = 32;
        if (i == 5) {
            sub.proctor_id = "PR-8";
            sub.reason_text = "forced";
        }
        e.submit = &sub;
        *want = (mapping_t){ JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_EVENT,
                             JK__CALIPER_ACTION__CALIPER_ACTION_SUBMITTED,
                             i == 3   ? CAND
                             : i == 4 ? JK__ACTOR_ROLE__ACTOR_ROLE_SYSTEM
                                      : PROC,
                             i == 3 ? "C-0001" : i == 4 ? "examd-0101" : "PR-8", ASMT, "SES-M", 0,
                             want->topic_kind };
        break;
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11: {
        static const Jk__ProctorActionKind acts[] = {
            JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE,
            JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_RESUME,
            JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_AUTHORIZE,
            JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME,
            JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID,
            JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_MARK_ABSENT,
        };
        static const Jk__CaliperAction out[] = {
            JK__CALIPER_ACTION__CALIPER_ACTION_PAUSED,
            JK__CALIPER_ACTION__CALIPER_ACTION_RESUMED,
            JK__CALIPER_ACTION__CALIPER_ACTION_AUTHORIZED,
            JK__CALIPER_ACTION__CALIPER_ACTION_EXTENDED,
            JK__CALIPER_ACTION__CALIPER_ACTION_VOIDED,
            JK__CALIPER_ACTION__CALIPER_ACTION_MARKED_ABSENT,
        };
        size_t k = i - 6;
        pa.has_action = 1;
        pa.action = acts[k];
        pa.proctor_id = "PR-9";
        if (k == 3) {
            pa.reason = "power cut";
            pa.has_extension_ms = 1;
            pa.extension_ms = 600000;
        } else if (k == 4) {
            pa.reason = "cheating";
        }
        e.proctor_action = &pa;
        *want = (mapping_t){ k < 2 ? JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_EVENT
                                   : JK__CALIPER_TYPE__CALIPER_TYPE_PROCTOR_EVENT,
                             out[k], PROC, "PR-9", ASMT, "SES-M", k == 3 ? 600000 : 0,
                             want->topic_kind };
        break;
    }
    case 12: /* FORCE_SUBMIT is an order to examd, never in a stream */
        pa.has_action = 1;
        pa.action = JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT;
        pa.proctor_id = "PR-9";
        pa.reason = "order";
        e.proctor_action = &pa;
        want->topic_kind = NULL;
        break;
    default:
        es.task_id = "T-1";
        es.part_id = "P-1";
        es.examiner_id = "EX-3";
        es.has_points_centi = 1;
        es.points_centi = 500;
        es.has_max_points_centi = 1;
        es.max_points_centi = 1000;
        e.examiner_score = &es;
        *want = (mapping_t){ JK__CALIPER_TYPE__CALIPER_TYPE_GRADE_EVENT,
                             JK__CALIPER_ACTION__CALIPER_ACTION_GRADED,
                             JK__ACTOR_ROLE__ACTOR_ROLE_EXAMINER, "EX-3",
                             JK__OBJECT_TYPE__OBJECT_TYPE_ATTEMPT, "SES-M", 0, want->topic_kind };
        break;
    }
    return s_enc(&e, len);
}

#define ROWS 14

static void test_monitor_mapping(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *d = s_peer(P_SUB, &W.dash_kp, "dash");
    zmq_setsockopt(d->sock, ZMQ_SUBSCRIBE, "E1/S1/RM/", 9);
    s_wait_stat("subscriptions", 1);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 64);
    sc->auto_ack = true;
    peer_t *ex = s_examd();
    mapping_t want[ROWS];
    size_t expected = 0;
    for (size_t i = 0; i < ROWS; i++) {
        size_t len;
        uint8_t *buf = b_row(i, 1 + i, &want[i], &len);
        s_send(ex, buf, len);
        expected += want[i].topic_kind != NULL;
    }
    s_wait_count(ex, JK__KIND__KIND_ACK, ROWS);
    s_wait_count(d, JK__KIND__KIND_MONITOR_EVENT, expected);
    s_wait_stat("pub_sent", (long long)expected);
    /* Every ACK was handled (the client has them all), so nothing more
     * will be published: FORCE_SUBMIT gave nothing. */
    assert_int_equal(s_stat("pub_sent"), (long long)expected);
    assert_int_equal(s_stat("pub_errors"), 0);
    assert_int_equal(d->n, expected);
    for (size_t j = 0; j < d->n; j++) {
        Jk__Envelope *e = s_decode(&d->in[j]);
        const Jk__MonitorEvent *m = e->monitor_event;
        size_t i = (size_t)m->source_seq - 1;
        assert_true(i < ROWS);
        const mapping_t *w = &want[i];
        if (!w->topic_kind)
            fail_msg("row %zu should publish nothing", i);
        char topic[64];
        snprintf(topic, sizeof topic, "E1/S1/RM/%s", w->topic_kind);
        assert_string_equal(d->in[j].topic, topic);
        assert_int_equal(m->type, w->type);
        assert_int_equal(m->action, w->action);
        assert_int_equal(m->actor->role, w->role);
        assert_string_equal(m->actor->id, w->actor);
        assert_int_equal(m->object->type, w->object);
        assert_string_equal(m->object->id, w->object_id);
        assert_int_equal(m->extension_ms, w->extension_ms);
        assert_string_equal(e->session_id, "SES-M");
        assert_string_equal(e->node_id, "broker-1");
        jk_codec_free(&e);
    }
    s_world_down();
}

/* The examd's resend loop: send a fresh copy every 500 ms until an ACK for
 * one of its copies comes back. */
static void s_send_until_acked(peer_t *ex, uint64_t seq)
{
    size_t before = s_count(ex, JK__KIND__KIND_ACK);
    for (int tries = 0; s_count(ex, JK__KIND__KIND_ACK) == before; tries++) {
        if (tries > 60)
            fail_msg("seq %llu never acknowledged", (unsigned long long)seq);
        size_t len;
        {
            uint8_t *buf_ = b_answer("S1", "R1", "SES-9", seq, 2, NULL, &len);
            s_send(ex, buf_, len);
        }
        int64_t end = s_now() + 500;
        while (s_now() < end && s_count(ex, JK__KIND__KIND_ACK) == before)
            s_pump(10);
    }
}

static void test_broker_restart(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 64);
    sc->auto_ack = true;
    sc->auto_ready = true;
    peer_t *ex = s_examd();
    s_send_until_acked(ex, 1);

    assert_true(jk_harness_kill(W.broker, SIGKILL));
    assert_true(jk_harness_wait_exit(W.broker, WAIT_MS));
    jk_harness_child_free(&W.broker);
    /* Sent while no broker runs: lost or queued in the socket; either way
     * the client resends until answered. */
    size_t len;
    {
        uint8_t *buf_ = b_answer("S1", "R1", "SES-9", 2, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    s_start_broker();
    s_send_until_acked(ex, 2);
    /* The scorer announced itself again (after a DISCONNECT for an unknown
     * worker, or when the broker's heartbeats came back). */
    assert_true(sc->readies >= 2);
    s_wait_log("event=scorer.ready", 2);
    s_world_down();
}

static void test_curve_unknown_key_refused(void **state)
{
    (void)state;
    s_world_up(NULL);
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 64);
    peer_t *stranger = s_peer(P_CLIENT, &W.stranger_kp, "stranger");
    size_t len;
    {
        uint8_t *buf_ = b_answer("S1", "R1", "SES-10", 1, 2, NULL, &len);
        s_send(stranger, buf_, len);
    }
    s_wait_log("reason=unknown-key", 1);
    s_wait_stat("zap_refused", 1);
    /* A client's key is not a scorer's key: refused on the backend. */
    peer_t *fake = s_peer(P_WORKER, &W.examd_kp, "fake-scorer");
    fake->capacity = 5;
    s_ready(fake);
    s_wait_stat("zap_refused", 2);
    /* The listed client gets through; the stranger's request never did. */
    peer_t *ex = s_examd();
    {
        uint8_t *buf_ = b_answer("S1", "R1", "SES-11", 1, 2, NULL, &len);
        s_send(ex, buf_, len);
    }
    s_wait_count(sc, JK__KIND__KIND_ANSWER, 1);
    Jk__Envelope *e = s_decode(&sc->in[0]);
    assert_string_equal(e->session_id, "SES-11");
    jk_codec_free(&e);
    s_wait_stat("scorers", 1);
    assert_int_equal(stranger->n, 0);
    assert_int_equal(stranger->heartbeats_in, 0);
    s_world_down();
}

static void test_site_routing_of_release(void **state)
{
    (void)state;
    s_world_up("release.allow = admin\n");
    peer_t *ex = s_examd(); /* heartbeats carry site S1 */
    peer_t *admin = s_peer(P_CLIENT, &W.admin_kp, "admin");
    s_wait_log("event=site.learned site=S1", 1);

    size_t len;
    uint64_t mid;
    uint8_t *rel = b_release("S1", &mid, &len);
    s_send_raw(admin, (const uint8_t *)"", 0, rel, len);
    s_wait_count(ex, JK__KIND__KIND_PACKAGE_RELEASE, 1);
    assert_int_equal(ex->in[0].len, len);
    assert_memory_equal(ex->in[0].env, rel, len);
    free(rel);
    s_wait_count(admin, JK__KIND__KIND_ACK, 1);
    Jk__Envelope *e = s_decode(&admin->in[0]);
    assert_int_equal(e->ack->status, JK__ACK_STATUS__ACK_STATUS_APPLIED);
    assert_int_equal(e->ack->acked_message_id, mid);
    jk_codec_free(&e);
    /* The key (32 bytes of 0x5a) was not logged, in any spelling. */
    assert_int_equal(s_log_count("ZZZZ"), 0);
    assert_int_equal(s_log_count("5a5a5a5a"), 0);
    assert_int_equal(s_log_count("5A5A5A5A"), 0);

    /* No examd for S9: try later. */
    {
        uint8_t *buf_ = b_release("S9", &mid, &len);
        s_send(admin, buf_, len);
    }
    s_wait_count(admin, JK__KIND__KIND_ACK, 2);
    e = s_decode(&admin->in[1]);
    assert_int_equal(e->ack->status, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER);
    assert_int_equal(e->ack->acked_message_id, mid);
    jk_codec_free(&e);

    /* Only release.allow names may release: another client may not push a
     * key to a site. */
    peer_t *other = s_peer(P_CLIENT, &W.dash_kp, "dash-1");
    {
        uint8_t *buf_ = b_release("S1", &mid, &len);
        s_send(other, buf_, len);
    }
    s_wait_count(other, JK__KIND__KIND_ACK, 1);
    e = s_decode(&other->in[0]);
    assert_int_equal(e->ack->status, JK__ACK_STATUS__ACK_STATUS_REJECTED);
    assert_int_equal(e->ack->reason, JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED);
    assert_int_equal(e->ack->acked_message_id, mid);
    jk_codec_free(&e);
    s_wait_stat("refused_kind", 1);
    assert_int_equal(s_count(ex, JK__KIND__KIND_PACKAGE_RELEASE), 1);
    s_world_down();
}

static void test_plain_only_on_loopback(void **state)
{
    (void)state;
    /* security = plain on loopback endpoints: runs, no keys involved. */
    s_world_up("security = plain\n");
    W.plain = true;
    peer_t *sc = s_scorer(&W.scorer_kp, "scorerd-1", 8);
    sc->auto_ack = true;
    peer_t *ex = s_examd();
    size_t len;
    uint8_t *a = b_answer("S1", "R1", "SES-P", 1, 2, NULL, &len);
    s_send(ex, a, len);
    s_wait_count(ex, JK__KIND__KIND_ACK, 1);
    assert_true(s_log_count("security=plain") >= 1);

    /* ... and refused at start when any endpoint is not loopback; the
     * error names it. */
    int port = jk_harness_free_port();
    const char *ep = jk_harness_strf("tcp://0.0.0.0:%d", port);
    const char *arg = jk_harness_strf("--pub=%s", ep);
    const char *log2 = jk_harness_strf("%s/refused.log", W.dir);
    const char *argv[] = { JK_HARNESS_BROKER_BIN, "--config", W.conf, arg, NULL };
    jk_child_t *c = jk_harness_spawn(argv, NULL, log2);
    assert_non_null(c);
    assert_true(jk_harness_wait_exit(c, WAIT_MS));
    assert_true(jk_harness_exited_with(c, 1));
    assert_true(jk_harness_log_contains(c, ep));
    assert_true(jk_harness_log_contains(c, "loopback"));
    jk_harness_child_free(&c);
    s_world_down();
}

int main(void)
{
    jk_harness_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_route_and_ack, s_teardown),
        cmocka_unit_test_teardown(test_credit_respected, s_teardown),
        cmocka_unit_test_teardown(test_scorer_lost_requeues, s_teardown),
        cmocka_unit_test_teardown(test_queue_full_retry_later, s_teardown),
        cmocka_unit_test_teardown(test_queue_max_age, s_teardown),
        cmocka_unit_test_teardown(test_bad_input_refused_and_counted, s_teardown),
        cmocka_unit_test_teardown(test_pub_stream, s_teardown),
        cmocka_unit_test_teardown(test_monitor_mapping, s_teardown),
        cmocka_unit_test_teardown(test_broker_restart, s_teardown),
        cmocka_unit_test_teardown(test_curve_unknown_key_refused, s_teardown),
        cmocka_unit_test_teardown(test_site_routing_of_release, s_teardown),
        cmocka_unit_test_teardown(test_plain_only_on_loopback, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
