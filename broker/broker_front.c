/*
 * broker_front: messages from clients on the frontend ROUTER (exam nodes,
 * consoles, the admin tool): ["", "JK1C", env1..envN], 1 <= N <= 256.
 *
 * Each envelope is handled as if it had come alone (docs/live-exam.md §2):
 * decoded with the frontend limits (the broker does not check auth tags:
 * it forwards bytes unchanged), then dispatched on its kind from a table:
 *
 *   session events, RECONCILE_REQUEST,
 *   SESSION_STATE_REQUEST, PACKAGE_REQUEST   queued for a scorer, or ACK
 *                                            RETRY_LATER when the queue is full
 *   HEARTBEAT                                liveness; site_id -> this client
 *   DISCONNECT                               forget the client
 *   PACKAGE_RELEASE                          routed to the examd of site_id
 *                                            (only from release.allow names)
 *   ACK                                      refused without an answer (an
 *                                            ACK is never answered: no loops)
 *   anything else                            ACK REJECTED NOT_PERMITTED
 *
 * A bad envelope is refused and counted (per peer and per reason) and, if
 * a message_id can be read from it, answered with ACK REJECTED and the
 * codec's reason; the other envelopes of the message are not affected.
 * Answers to one message leave as one message (the outbox).
 */
#include <string.h>

#include <zmq.h>

#include "broker_int.h"
#include "jk_log.h"

typedef struct {
    broker_t *b;
    broker_client_t *client; /* NULL: not tracked (table full) */
    const char *name;        /* the sender's ZAP User-Id; "" in plain mode */
    const uint8_t *rid;
    size_t rid_len;
    broker_outbox_t ob;
    bool disconnect;         /* forget the client after this message */
} s_ctx_t;

typedef void (*s_handler_t)(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env);

static void s_ack(s_ctx_t *x, const Jk__Envelope *env, Jk__AckStatus st, Jk__RejectReason why,
                  const char *text, uint32_t retry_after_ms)
{
    broker__ack(x->b, &x->ob, x->b->front, x->rid, x->rid_len, JK_NET_LINK_CLIENT,
                env->message_id, env->has_seq ? env->seq : 0, env->session_id, st, why, text,
                retry_after_ms);
}

static broker_peer_t *s_peer(s_ctx_t *x)
{
    return x->client ? &x->client->peer : NULL;
}

/* A request for a scorer. */
static void s_request(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    broker_t *b = x->b;
    broker_queue_t *q = &b->queue;
    if (broker__req_find(q, x->rid, x->rid_len, env->message_id)) {
        /* The same message id from the same client is held already: it
         * will be answered once. */
        b->stats.duplicates++;
        return;
    }
    if (q->len >= (size_t)b->cfg.queue_max ||
        q->held_bytes + it->env_len > (size_t)b->cfg.queue_max_bytes) {
        if (b->stats.retry_later++ % 1000 == 0)
            JK_WARN("queue.full", "waiting=%zu held_bytes=%zu retry_later=%llu", q->len,
                    q->held_bytes, (unsigned long long)b->stats.retry_later);
        s_ack(x, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, "broker queue full",
              (uint32_t)b->cfg.retry_after_ms);
        return;
    }
    broker_req_t *r = broker__req_new(x->rid, x->rid_len, env, it->env, it->env_len,
                                      broker__now_ms(b));
    if (!r) {
        JK_ERROR("broker.nomem", "what=request bytes=%zu", it->env_len);
        s_ack(x, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, "broker out of memory",
              (uint32_t)b->cfg.retry_after_ms);
        return;
    }
    broker__queue_push(q, r);
    b->stats.requests_in++;
}

static void s_heartbeat(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    (void)it;
    broker_client_t *c = x->client;
    if (!c)
        return;
    if (env->heartbeat && env->heartbeat->has_interval_ms)
        c->peer.interval_ms = env->heartbeat->interval_ms;
    if (env->site_id && strcmp(env->site_id, c->site_id) != 0) {
        snprintf(c->site_id, sizeof c->site_id, "%s", env->site_id);
        char lb[160];
        JK_INFO("site.learned", "site=%s %s", c->site_id,
                broker__peer_label(&c->peer, lb, sizeof lb));
    }
}

static void s_disconnect(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    (void)it;
    (void)env;
    x->disconnect = true;
}

/* PACKAGE_RELEASE from the center's admin tool to one site's examd. The
 * key inside is never logged or stored: the bytes go straight from the
 * receive frame to the send. */
/* Whether name is one of the comma-separated names of list. */
static bool s_listed(const char *list, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = list; nl && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == nl && memcmp(p, name, nl) == 0)
            return true;
        p = e;
    }
    return false;
}

static void s_release(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    broker_t *b = x->b;
    char text[160];
    if (b->cfg.release_allow[0] && !s_listed(b->cfg.release_allow, x->name)) {
        snprintf(text, sizeof text, "PACKAGE_RELEASE from %s is not permitted (release.allow)",
                 x->name[0] ? x->name : "an unnamed peer");
        broker__refuse(b, s_peer(x), "frontend", BROKER_REFUSE_KIND, text);
        s_ack(x, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
              JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED, text, 0);
        return;
    }
    broker_client_t *to = broker__client_of_site(b, env->site_id);
    if (!to) {
        snprintf(text, sizeof text, "site %s is not connected", env->site_id);
        s_ack(x, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, text,
              (uint32_t)b->cfg.retry_after_ms);
        return;
    }
    jk_net_item_t fwd = { NULL, 0, it->env, it->env_len };
    jk_error_t e;
    jk_err_t rc = jk_net_send_batch(b->front, to->peer.rid, to->peer.rid_len, JK_NET_LINK_CLIENT,
                                    &fwd, 1, &e);
    char lb[160];
    if (rc != JK_OK) {
        JK_WARN("release.undelivered", "site=%s %s reason=%s", env->site_id,
                broker__peer_label(&to->peer, lb, sizeof lb), jk_strerror(rc));
        snprintf(text, sizeof text, "site %s unreachable", env->site_id);
        if (rc == JK_ERR_NOTFOUND && to != x->client)
            broker__client_drop(b, to, "unreachable");
        s_ack(x, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, text,
              (uint32_t)b->cfg.retry_after_ms);
        return;
    }
    to->peer.last_send_ms = broker__now_ms(b);
    b->stats.releases++;
    JK_INFO("release.routed", "exam=%s site=%s package=%s %s", env->exam_id, env->site_id,
            env->package_release && env->package_release->package_id
                ? env->package_release->package_id
                : "-",
            broker__peer_label(&to->peer, lb, sizeof lb));
    s_ack(x, env, JK__ACK_STATUS__ACK_STATUS_APPLIED, 0, NULL, 0);
}

static s_handler_t s_handler(Jk__Kind k)
{
    switch (k) {
    case JK__KIND__KIND_SESSION_OPEN:
    case JK__KIND__KIND_SESSION_RESUME:
    case JK__KIND__KIND_ANSWER:
    case JK__KIND__KIND_SUBMIT:
    case JK__KIND__KIND_PROCTOR_ACTION:
    case JK__KIND__KIND_EXAMINER_SCORE:
    case JK__KIND__KIND_RECONCILE_REQUEST:
    case JK__KIND__KIND_SESSION_STATE_REQUEST:
    case JK__KIND__KIND_PACKAGE_REQUEST:
        return s_request;
    case JK__KIND__KIND_HEARTBEAT:
        return s_heartbeat;
    case JK__KIND__KIND_DISCONNECT:
        return s_disconnect;
    case JK__KIND__KIND_PACKAGE_RELEASE:
        return s_release;
    default:
        return NULL;
    }
}

static void s_envelope(s_ctx_t *x, const jk_net_item_t *it)
{
    broker_t *b = x->b;
    Jk__Envelope *env = NULL;
    jk_error_t e;
    jk_err_t rc = jk_codec_decode(it->env, it->env_len, &b->lim_front, &env, &e);
    if (rc != JK_OK) {
        broker__refuse(b, s_peer(x), "frontend", broker__refuse_of(rc), e.msg);
        uint64_t id, seq;
        uint32_t kind;
        if (broker__peek(it->env, it->env_len, &id, &kind, &seq) && kind != JK__KIND__KIND_ACK)
            broker__ack(b, &x->ob, b->front, x->rid, x->rid_len, JK_NET_LINK_CLIENT, id, seq,
                        NULL, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                        broker__reject_reason_of(rc), e.msg, 0);
        return;
    }
    s_handler_t h = s_handler(env->kind);
    if (!h) {
        char text[128];
        snprintf(text, sizeof text, "kind %s is not accepted from a client",
                 jk_codec_kind_name(env->kind));
        broker__refuse(b, s_peer(x), "frontend", BROKER_REFUSE_KIND, text);
        if (env->kind != JK__KIND__KIND_ACK)
            s_ack(x, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                  JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED, text, 0);
    } else {
        h(x, it, env);
    }
    jk_codec_free(&env);
}

static void s_message(broker_t *b)
{
    jk_net_batch_t batch;
    jk_error_t e;
    s_ctx_t x;
    x.b = b;
    x.ob.n = 0;
    x.disconnect = false;
    jk_err_t rc = jk_net_parse(b->msg, JK_NET_LINK_CLIENT, true, &batch, &e);
    size_t rl = 0;
    const uint8_t *rid = jk_net_msg_data(b->msg, 0, &rl);
    if (rc != JK_OK) {
        broker_refuse_t why = rc == JK_ERR_RANGE ? BROKER_REFUSE_FRAMES
                              : rc == JK_ERR_TOO_BIG ? BROKER_REFUSE_ADDRESS
                                                     : BROKER_REFUSE_PROTOCOL;
        broker_client_t *c = rl ? (broker_client_t *)broker__ptab_find(&b->clients, rid, rl)
                                : NULL;
        broker__refuse(b, c ? &c->peer : NULL, "frontend", why, e.msg);
        return;
    }
    x.rid = batch.rid;
    x.rid_len = batch.rid_len;
    x.name = jk_net_msg_user_id(b->msg);
    x.client = broker__client_touch(b, batch.rid, batch.rid_len, x.name);
    for (size_t i = 0; i < batch.n; i++)
        s_envelope(&x, &batch.items[i]);
    if (x.ob.n) {
        rc = broker__outbox_flush(b, &x.ob, b->front, x.rid, x.rid_len, JK_NET_LINK_CLIENT);
        if (rc == JK_ERR_NOTFOUND)
            b->stats.replies_unroutable++;
        else if (rc == JK_ERR_FULL)
            b->stats.replies_full++;
        else if (rc == JK_OK && x.client)
            x.client->peer.last_send_ms = broker__now_ms(b);
    }
    if (x.disconnect && x.client)
        broker__client_drop(b, x.client, "disconnect");
}

void broker__front_drain(broker_t *b)
{
    for (unsigned n = 0; n < BROKER_DRAIN_MAX; n++) {
        jk_error_t e;
        jk_err_t rc = jk_net_recv(b->front, b->msg, b->front_frame_max, ZMQ_DONTWAIT, &e);
        if (rc == JK_ERR_UNAVAIL)
            return;
        if (rc == JK_ERR_RANGE || rc == JK_ERR_TOO_BIG) {
            size_t rl = 0;
            const uint8_t *rid = jk_net_msg_data(b->msg, 0, &rl);
            broker_client_t *c = rl ? (broker_client_t *)broker__ptab_find(&b->clients, rid, rl)
                                    : NULL;
            broker__refuse(b, c ? &c->peer : NULL, "frontend",
                           rc == JK_ERR_RANGE ? BROKER_REFUSE_FRAMES : BROKER_REFUSE_FRAME_SIZE,
                           e.msg);
            jk_net_msg_clear(b->msg);
            continue;
        }
        if (rc != JK_OK) {
            JK_ERROR("frontend.recv_failed", "reason=\"%s\"", e.msg);
            return;
        }
        s_message(b);
        jk_net_msg_clear(b->msg);
    }
}
