/*
 * broker_back: messages from scorers on the backend ROUTER:
 * ["", "JK1W", addr1, env1, ..., addrN, envN], 1 <= N <= 256.
 *
 * Kinds, with the address each must carry:
 *
 *   WORKER_READY (empty)     register, or re-register: credit = capacity,
 *                            and what was in flight to it goes back to the
 *                            queue (it starts afresh)
 *   CREDIT (empty)           credit += n, bounded by scorers.max_credit
 *   HEARTBEAT (empty)        liveness and its interval
 *   DISCONNECT (empty)       removed at once; its requests re-queued
 *   RESULT (empty)           published (pub.results), nothing else
 *   ACK, RECONCILE_REPLY,
 *   SESSION_STATE,
 *   PACKAGE_RELEASE (client) forwarded unchanged to the client named by the
 *                            address; the request it answers is cleared;
 *                            after ACK APPLIED of a session event the
 *                            event's MONITOR_EVENT is published
 *
 * Matching a reply to its request: by (address, message id) through the
 * index — ACK.acked_message_id, RECONCILE_REPLY.request_message_id — and,
 * failing that, in the scorer's own in-flight list by (address, session,
 * seq) for an ACK of a session event, (address, session) for a
 * SESSION_STATE, (address, site) for a PACKAGE_RELEASE. A reply that
 * matches nothing is still forwarded (counted as unmatched): the client
 * decides what it means.
 *
 * A scorer the broker does not know (it restarted, or expired the scorer)
 * that sends anything but WORKER_READY is told DISCONNECT with
 * reconnect_after_ms = one heartbeat interval: it must announce itself
 * again. Its replies are still forwarded.
 *
 * Replies to one client in one inbound message leave as one message.
 */
#include <string.h>

#include <zmq.h>

#include "broker_int.h"
#include "jk_log.h"

#define S_SERVICE "score"

typedef struct {
    broker_t *b;
    broker_scorer_t *s;        /* NULL: not registered */
    const uint8_t *rid;
    size_t rid_len;
    const char *name;          /* ZAP User-Id */
    broker_outbox_t ob;        /* answers to the scorer */
    jk_net_item_t fwd[JK_NET_BATCH_MAX]; /* replies to clients */
    size_t nfwd;
    bool drop;                 /* DISCONNECT received */
    bool told;                 /* DISCONNECT sent to an unknown scorer */
} s_ctx_t;

typedef void (*s_handler_t)(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env);

static broker_peer_t *s_peer(s_ctx_t *x)
{
    return x->s ? &x->s->peer : NULL;
}

static void s_reject(s_ctx_t *x, const Jk__Envelope *env, broker_refuse_t why,
                     Jk__RejectReason reason, const char *text)
{
    broker__refuse(x->b, s_peer(x), "backend", why, text);
    if (env->kind != JK__KIND__KIND_ACK)
        broker__ack(x->b, &x->ob, x->b->back, x->rid, x->rid_len, JK_NET_LINK_WORKER,
                    env->message_id, 0, NULL, JK__ACK_STATUS__ACK_STATUS_REJECTED, reason, text,
                    0);
}

/* Tells an unregistered scorer to announce itself (once per message). */
static void s_tell_unknown(s_ctx_t *x)
{
    if (x->s || x->told)
        return;
    x->told = true;
    broker__send_disconnect(x->b, x->b->back, x->rid, x->rid_len, JK_NET_LINK_WORKER,
                            "unknown worker: send WORKER_READY",
                            (uint32_t)x->b->cfg.heartbeat_ms);
}

static void s_ready(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    (void)it;
    broker_t *b = x->b;
    const Jk__WorkerReady *wr = env->worker_ready;
    if (!wr->service || strcmp(wr->service, S_SERVICE) != 0) {
        char text[128];
        snprintf(text, sizeof text, "service %.64s unknown; this broker serves %s", wr->service,
                 S_SERVICE);
        s_reject(x, env, BROKER_REFUSE_INVALID, JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED,
                 text);
        return;
    }
    broker_scorer_t *s = x->s;
    char lb[160];
    if (s) {
        size_t n = broker__queue_requeue(b, s);
        JK_INFO("scorer.reready", "%s requeued=%zu", broker__peer_label(&s->peer, lb, sizeof lb),
                n);
    } else {
        s = (broker_scorer_t *)broker__ptab_add(&b->scorers, x->rid, x->rid_len, sizeof *s);
        if (!s) {
            b->stats.peers_untracked++;
            JK_WARN("scorer.refused", "reason=too-many-scorers max=%lld",
                    (long long)b->cfg.scorers_max);
            broker__send_disconnect(b, b->back, x->rid, x->rid_len, JK_NET_LINK_WORKER,
                                    "too many scorers", (uint32_t)(b->cfg.heartbeat_ms * 10));
            x->told = true;
            return;
        }
        snprintf(s->peer.name, sizeof s->peer.name, "%s", x->name ? x->name : "");
        s->peer.interval_ms = b->cfg.heartbeat_ms;
        s->peer.last_recv_ms = broker__now_ms(b);
        s->peer.last_send_ms = s->peer.last_recv_ms;
        s->peer.msgs_in = 1;
        x->s = s;
        b->stats.scorers_joined++;
    }
    s->capacity = wr->capacity;
    s->credit = wr->capacity;
    if (s->credit > (uint64_t)b->cfg.scorer_credit_max)
        s->credit = (uint64_t)b->cfg.scorer_credit_max;
    JK_INFO("scorer.ready", "%s scorer=%s capacity=%u version=%s scorers=%zu",
            broker__peer_label(&s->peer, lb, sizeof lb), env->node_id, wr->capacity,
            wr->software_version ? wr->software_version : "-", b->scorers.n);
}

static void s_credit(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    (void)it;
    broker_scorer_t *s = x->s;
    if (!s) {
        s_tell_unknown(x);
        return;
    }
    uint64_t max = (uint64_t)x->b->cfg.scorer_credit_max;
    s->credit += env->credit->credit;
    if (s->credit + s->in_flight > max)
        s->credit = max > s->in_flight ? max - s->in_flight : 0;
}

static void s_heartbeat(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    (void)it;
    if (!x->s) {
        s_tell_unknown(x);
        return;
    }
    if (env->heartbeat->has_interval_ms)
        x->s->peer.interval_ms = env->heartbeat->interval_ms;
}

static void s_disconnect(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    (void)it;
    (void)env;
    if (x->s)
        x->drop = true;
}

static void s_result(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    if (!x->s)
        s_tell_unknown(x);
    if (x->b->cfg.pub_results)
        broker__publish_result(x->b, env, it->env, it->env_len);
}

/* Looks in s's in-flight list for the request a reply without a usable
 * message id answers. */
static broker_req_t *s_scan(broker_scorer_t *s, const jk_net_item_t *it, Jk__Kind kind,
                            const char *session, uint64_t seq, const char *site)
{
    if (!s)
        return NULL;
    for (broker_req_t *r = s->head; r; r = r->next) {
        if (r->kind != kind && kind != JK__KIND__KIND_UNSPECIFIED)
            continue;
        if (r->addr_len != it->addr_len || memcmp(r->addr, it->addr, it->addr_len) != 0)
            continue;
        if (session && strcmp(r->session_id, session) != 0)
            continue;
        if (seq && r->seq != seq)
            continue;
        if (site && strcmp(r->site_id, site) != 0)
            continue;
        return r;
    }
    return NULL;
}

static void s_reply(s_ctx_t *x, const jk_net_item_t *it, const Jk__Envelope *env)
{
    broker_t *b = x->b;
    broker_req_t *r = NULL;
    bool applied_event = false;
    switch (env->kind) {
    case JK__KIND__KIND_ACK:
        r = broker__req_find(&b->queue, it->addr, it->addr_len, env->ack->acked_message_id);
        if (!r && env->session_id && env->ack->has_acked_seq)
            r = s_scan(x->s, it, JK__KIND__KIND_UNSPECIFIED, env->session_id,
                       env->ack->acked_seq, NULL);
        applied_event = env->ack->status == JK__ACK_STATUS__ACK_STATUS_APPLIED;
        break;
    case JK__KIND__KIND_RECONCILE_REPLY:
        r = broker__req_find(&b->queue, it->addr, it->addr_len,
                             env->reconcile_reply->request_message_id);
        break;
    case JK__KIND__KIND_SESSION_STATE:
        r = s_scan(x->s, it, JK__KIND__KIND_SESSION_STATE_REQUEST, env->session_id, 0, NULL);
        break;
    case JK__KIND__KIND_PACKAGE_RELEASE:
        r = s_scan(x->s, it, JK__KIND__KIND_PACKAGE_REQUEST, NULL, 0, env->site_id);
        break;
    default:
        break;
    }
    b->stats.replies_in++;
    if (r) {
        if (applied_event && jk_codec_kind_is_session_event(r->kind))
            broker__publish_event(b, r->env, r->env_len);
        if (x->s && r->owner == x->s)
            x->s->answered++;
        broker__req_release(b, r);
    } else {
        b->stats.replies_unmatched++;
    }
    if (!x->s)
        s_tell_unknown(x);
    x->fwd[x->nfwd++] = *it;
}

static bool s_is_reply(Jk__Kind k)
{
    return k == JK__KIND__KIND_ACK || k == JK__KIND__KIND_RECONCILE_REPLY ||
           k == JK__KIND__KIND_SESSION_STATE || k == JK__KIND__KIND_PACKAGE_RELEASE;
}

static s_handler_t s_handler(Jk__Kind k)
{
    switch (k) {
    case JK__KIND__KIND_WORKER_READY:
        return s_ready;
    case JK__KIND__KIND_CREDIT:
        return s_credit;
    case JK__KIND__KIND_HEARTBEAT:
        return s_heartbeat;
    case JK__KIND__KIND_DISCONNECT:
        return s_disconnect;
    case JK__KIND__KIND_RESULT:
        return s_result;
    default:
        return s_is_reply(k) ? s_reply : NULL;
    }
}

static void s_envelope(s_ctx_t *x, const jk_net_item_t *it)
{
    broker_t *b = x->b;
    Jk__Envelope *env = NULL;
    jk_error_t e;
    jk_err_t rc = jk_codec_decode(it->env, it->env_len, &b->lim_back, &env, &e);
    if (rc != JK_OK) {
        broker__refuse(b, s_peer(x), "backend", broker__refuse_of(rc), e.msg);
        uint64_t id, seq;
        uint32_t kind;
        if (broker__peek(it->env, it->env_len, &id, &kind, &seq) && kind != JK__KIND__KIND_ACK)
            broker__ack(b, &x->ob, b->back, x->rid, x->rid_len, JK_NET_LINK_WORKER, id, seq, NULL,
                        JK__ACK_STATUS__ACK_STATUS_REJECTED, broker__reject_reason_of(rc), e.msg,
                        0);
        return;
    }
    s_handler_t h = s_handler(env->kind);
    char text[160];
    if (!h) {
        snprintf(text, sizeof text, "kind %s is not accepted from a scorer",
                 jk_codec_kind_name(env->kind));
        s_reject(x, env, BROKER_REFUSE_KIND, JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED,
                 text);
    } else if (s_is_reply(env->kind) != (it->addr_len > 0)) {
        snprintf(text, sizeof text, "kind %s %s a client address", jk_codec_kind_name(env->kind),
                 it->addr_len ? "must not carry" : "needs");
        s_reject(x, env, BROKER_REFUSE_ADDRESS, JK__REJECT_REASON__REJECT_REASON_MALFORMED, text);
    } else {
        h(x, it, env);
    }
    jk_codec_free(&env);
}

/* Sends the collected replies, one message per client address. */
static void s_forward(s_ctx_t *x)
{
    broker_t *b = x->b;
    bool sent[JK_NET_BATCH_MAX] = { false };
    jk_net_item_t group[JK_NET_BATCH_MAX];
    for (size_t i = 0; i < x->nfwd; i++) {
        if (sent[i])
            continue;
        const jk_net_item_t *a = &x->fwd[i];
        size_t n = 0;
        for (size_t j = i; j < x->nfwd; j++) {
            const jk_net_item_t *c = &x->fwd[j];
            if (!sent[j] && c->addr_len == a->addr_len &&
                memcmp(c->addr, a->addr, a->addr_len) == 0) {
                group[n++] = (jk_net_item_t){ NULL, 0, c->env, c->env_len };
                sent[j] = true;
            }
        }
        jk_error_t e;
        jk_err_t rc = jk_net_send_batch(b->front, a->addr, a->addr_len, JK_NET_LINK_CLIENT, group,
                                        n, &e);
        if (rc == JK_OK) {
            b->stats.replies_out += n;
            broker_peer_t *p = broker__ptab_find(&b->clients, a->addr, a->addr_len);
            if (p)
                p->last_send_ms = broker__now_ms(b);
        } else if (rc == JK_ERR_NOTFOUND) {
            /* The client went away (or reconnected under a new routing id):
             * it resends what was not answered. */
            b->stats.replies_unroutable += n;
            char rb[2 * JK_NET_ROUTING_ID_MAX + 3];
            JK_DEBUG("reply.unroutable", "rid=%.64s replies=%zu",
                     jk_net_rid_format(a->addr, a->addr_len, rb, sizeof rb), n);
        } else {
            b->stats.replies_full += n;
        }
    }
    x->nfwd = 0;
}

static void s_message(broker_t *b)
{
    jk_net_batch_t batch;
    jk_error_t e;
    s_ctx_t x;
    x.b = b;
    x.ob.n = 0;
    x.nfwd = 0;
    x.drop = false;
    x.told = false;
    jk_err_t rc = jk_net_parse(b->msg, JK_NET_LINK_WORKER, true, &batch, &e);
    if (rc != JK_OK) {
        size_t rl = 0;
        const uint8_t *rid = jk_net_msg_data(b->msg, 0, &rl);
        broker_refuse_t why = rc == JK_ERR_RANGE ? BROKER_REFUSE_FRAMES
                              : rc == JK_ERR_TOO_BIG ? BROKER_REFUSE_ADDRESS
                                                     : BROKER_REFUSE_PROTOCOL;
        broker__refuse(b, rl ? broker__ptab_find(&b->scorers, rid, rl) : NULL, "backend", why,
                       e.msg);
        return;
    }
    x.rid = batch.rid;
    x.rid_len = batch.rid_len;
    x.name = jk_net_msg_user_id(b->msg);
    x.s = (broker_scorer_t *)broker__ptab_find(&b->scorers, batch.rid, batch.rid_len);
    if (x.s) {
        x.s->peer.last_recv_ms = broker__now_ms(b);
        x.s->peer.msgs_in++;
    }
    for (size_t i = 0; i < batch.n; i++)
        s_envelope(&x, &batch.items[i]);
    s_forward(&x);
    if (x.ob.n) {
        rc = broker__outbox_flush(b, &x.ob, b->back, x.rid, x.rid_len, JK_NET_LINK_WORKER);
        if (rc == JK_OK && x.s)
            x.s->peer.last_send_ms = broker__now_ms(b);
    }
    if (x.drop && x.s)
        broker__scorer_drop(b, x.s, "disconnect");
}

void broker__back_drain(broker_t *b)
{
    for (unsigned n = 0; n < BROKER_DRAIN_MAX; n++) {
        jk_error_t e;
        jk_err_t rc = jk_net_recv(b->back, b->msg, b->back_frame_max, ZMQ_DONTWAIT, &e);
        if (rc == JK_ERR_UNAVAIL)
            return;
        if (rc == JK_ERR_RANGE || rc == JK_ERR_TOO_BIG) {
            size_t rl = 0;
            const uint8_t *rid = jk_net_msg_data(b->msg, 0, &rl);
            broker__refuse(b, rl ? broker__ptab_find(&b->scorers, rid, rl) : NULL, "backend",
                           rc == JK_ERR_RANGE ? BROKER_REFUSE_FRAMES : BROKER_REFUSE_FRAME_SIZE,
                           e.msg);
            jk_net_msg_clear(b->msg);
            continue;
        }
        if (rc != JK_OK) {
            JK_ERROR("backend.recv_failed", "reason=\"%s\"", e.msg);
            return;
        }
        s_message(b);
        jk_net_msg_clear(b->msg);
    }
}
