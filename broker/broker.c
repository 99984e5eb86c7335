/*
 * broker: the object, its loop, timers and metrics; see broker.h for the
 * design note and docs/broker.md for operators.
 *
 * The loop: zmq_poll over the ZAP handler, the backend, the frontend and
 * the XPUB, with a timeout up to the next timer tick (a quarter of the
 * heartbeat interval, so a heartbeat is never more than a quarter late).
 * Each turn reads the backend first (replies free scorers' requests),
 * then the frontend, each for at most BROKER_DRAIN_MAX messages, then
 * dispatches what waits, then runs the timers. Reading many messages
 * before dispatching is what makes batches to scorers form under load.
 *
 * Refusals are counted always and logged at most BROKER_REFUSE_LOGS_PER_S
 * times a second; the number not logged is reported with the next line,
 * so a flood of garbage cannot fill a disk.
 */
#include "broker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "broker_int.h"
#include "jk_log.h"
#include "jk_text.h"

static const char *const s_refuse_names[BROKER_REFUSE__COUNT] = {
    "frames", "frame_size", "protocol", "address", "too_big",
    "malformed", "version", "missing", "invalid", "kind",
};

const char *broker_refuse_name(broker_refuse_t r)
{
    return (unsigned)r < BROKER_REFUSE__COUNT ? s_refuse_names[r] : "?";
}

int64_t broker__now_ms(const broker_t *b)
{
    return jk_clock_mono_ms(b->clock);
}

uint64_t broker__wall_ms(const broker_t *b)
{
    int64_t w = jk_clock_wall_ms(b->clock);
    return w > 0 ? (uint64_t)w : 1;
}

broker_refuse_t broker__refuse_of(jk_err_t code)
{
    switch (code) {
    case JK_ERR_TOO_BIG:
        return BROKER_REFUSE_TOO_BIG;
    case JK_ERR_PARSE:
        return BROKER_REFUSE_MALFORMED;
    case JK_ERR_VERSION:
        return BROKER_REFUSE_VERSION;
    case JK_ERR_MISSING:
        return BROKER_REFUSE_MISSING;
    default:
        return BROKER_REFUSE_INVALID;
    }
}

Jk__RejectReason broker__reject_reason_of(jk_err_t code)
{
    /* docs/protocol.md §9. */
    switch (code) {
    case JK_ERR_TOO_BIG:
        return JK__REJECT_REASON__REJECT_REASON_TOO_BIG;
    case JK_ERR_PARSE:
        return JK__REJECT_REASON__REJECT_REASON_MALFORMED;
    case JK_ERR_VERSION:
        return JK__REJECT_REASON__REJECT_REASON_BAD_VERSION;
    case JK_ERR_MISSING:
        return JK__REJECT_REASON__REJECT_REASON_MISSING_FIELD;
    default:
        return JK__REJECT_REASON__REJECT_REASON_OUT_OF_RANGE;
    }
}

void broker__refuse(broker_t *b, broker_peer_t *peer, const char *link, broker_refuse_t why,
                    const char *detail)
{
    b->stats.refused[why]++;
    if (peer)
        peer->refused++;
    int64_t now = broker__now_ms(b);
    if (now - b->log_window_ms >= 1000) {
        b->log_window_ms = now;
        b->log_in_window = 0;
    }
    if (b->log_in_window >= BROKER_REFUSE_LOGS_PER_S) {
        b->log_suppressed++;
        return;
    }
    b->log_in_window++;
    char lb[160], vb[JK_LOG_VALUE_MAX];
    JK_WARN("msg.refused", "link=%s %s reason=%s detail=%s suppressed=%llu", link,
            peer ? broker__peer_label(peer, lb, sizeof lb) : "peer=-", broker_refuse_name(why),
            jk_log_value(detail, vb), (unsigned long long)b->log_suppressed);
    b->log_suppressed = 0;
}

const broker_stats_t *broker_stats(const broker_t *b)
{
    return b ? &b->stats : NULL;
}

static void s_stats_line(broker_t *b)
{
    char refused[512];
    size_t k = 0;
    refused[0] = '\0';
    for (unsigned i = 0; i < BROKER_REFUSE__COUNT; i++)
        k += (size_t)snprintf(refused + k, k < sizeof refused ? sizeof refused - k : 0,
                              " refused_%s=%llu", s_refuse_names[i],
                              (unsigned long long)b->stats.refused[i]);
    const broker_stats_t *s = &b->stats;
    JK_INFO("broker.stats",
            "requests_in=%llu requests_out=%llu batches_out=%llu replies_in=%llu "
            "replies_out=%llu replies_unroutable=%llu replies_full=%llu replies_unmatched=%llu "
            "queued=%zu in_flight=%zu held_bytes=%zu scorers=%zu clients=%zu retry_later=%llu "
            "requeued=%llu expired=%llu duplicates=%llu releases=%llu scorers_joined=%llu "
            "scorers_lost=%llu clients_lost=%llu untracked=%llu pub_sent=%llu pub_drops=%llu "
            "pub_errors=%llu pub_evictions=%llu topics=%zu subscriptions=%llu zap_admitted=%llu "
            "zap_refused=%llu%s",
            (unsigned long long)s->requests_in, (unsigned long long)s->requests_out,
            (unsigned long long)s->batches_out, (unsigned long long)s->replies_in,
            (unsigned long long)s->replies_out, (unsigned long long)s->replies_unroutable,
            (unsigned long long)s->replies_full, (unsigned long long)s->replies_unmatched,
            b->queue.len, broker__in_flight(b), b->queue.held_bytes, b->scorers.n, b->clients.n,
            (unsigned long long)s->retry_later, (unsigned long long)s->requeued,
            (unsigned long long)s->expired, (unsigned long long)s->duplicates,
            (unsigned long long)s->releases, (unsigned long long)s->scorers_joined,
            (unsigned long long)s->scorers_lost, (unsigned long long)s->clients_lost,
            (unsigned long long)s->peers_untracked, (unsigned long long)s->pub_sent,
            (unsigned long long)s->pub_drops, (unsigned long long)s->pub_errors,
            (unsigned long long)s->pub_evictions, b->topics.n,
            (unsigned long long)s->subscriptions,
            (unsigned long long)jk_net_zap_admitted(b->zap),
            (unsigned long long)jk_net_zap_refused(b->zap), refused);
}

/* Copies the config, duplicating its strings (the caller keeps its own). */
static jk_err_t s_copy_config(broker_config_t *dst, const broker_config_t *src)
{
    *dst = *src;
    for (const jk_cfg_opt_t *o = broker_config_table(); o->name; o++) {
        if (o->type != JK_CFG_STRING)
            continue;
        char *p;
        memcpy(&p, (const char *)src + o->offset, sizeof p);
        char *copy = strdup(p ? p : "");
        memcpy((char *)dst + o->offset, &copy, sizeof copy);
        if (!copy)
            return JK_ERR_NOMEM;
    }
    return JK_OK;
}

void broker_destroy(broker_t **bp)
{
    if (!bp || !*bp)
        return;
    broker_t *b = *bp;
    if (b->pub)
        zmq_close(b->pub);
    if (b->front)
        zmq_close(b->front);
    if (b->back)
        zmq_close(b->back);
    jk_net_zap_destroy(&b->zap);
    if (b->ctx)
        zmq_ctx_term(b->ctx);
    jk_net_msg_destroy(&b->msg);
    broker__queue_free(&b->queue);
    broker__ptab_free(&b->clients);
    broker__ptab_free(&b->scorers);
    broker__topics_free(&b->topics);
    jk_config_release(broker_config_table(), &b->cfg);
    free(b);
    *bp = NULL;
}

/* The ZAP domain of the backend when it has its own allow-list. */
#define S_BACKEND_DOMAIN "jikao-backend"

static void *s_server(broker_t *b, int type, const char *what, const char *endpoints,
                      const char *secret, bool large, int64_t hwm, jk_error_t *err)
{
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = (jk_net_security_t)b->cfg.security;
    o.secret_key_z85 = secret;
    o.zap = b->zap;
    if (strcmp(what, "backend") == 0 && b->cfg.allow_backend[0])
        o.zap_domain = S_BACKEND_DOMAIN;
    o.max_msg_bytes = jk_net_max_msg_bytes(&b->lim_front, large);
    o.sndhwm = (int)hwm;
    o.rcvhwm = (int)hwm;
    o.xpub_nodrop = type == ZMQ_XPUB && b->cfg.pub_nodrop;
    void *s = jk_net_server(b->ctx, type, endpoints, &o, err);
    if (!s)
        jk_error_prefix(err, "%s: ", what);
    return s;
}

broker_t *broker_new(const broker_config_t *cfg, const jk_clock_t *clock, jk_error_t *err)
{
    char secret[JK_NET_Z85_LEN + 1] = "";
    broker_t *b = calloc(1, sizeof *b);
    if (!b) {
        jk_error_set(err, JK_ERR_NOMEM, "broker: out of memory");
        return NULL;
    }
    b->clock = clock ? clock : jk_clock_system();
    if (!cfg || s_copy_config(&b->cfg, cfg) != JK_OK) {
        jk_error_set(err, cfg ? JK_ERR_NOMEM : JK_ERR_INVAL, "broker: config: %s",
                     cfg ? "out of memory" : "missing");
        goto fail;
    }
    if (!jk_id_valid(b->cfg.node_id, JK_CODEC_ID_MAX)) {
        jk_error_set(err, JK_ERR_CONFIG, "node.id: '%s' is not an id", b->cfg.node_id);
        goto fail;
    }
    /* The broker checks sizes, versions and fields but not auth tags: it
     * forwards bytes unchanged and the receivers verify them. */
    jk_codec_limits_default(&b->lim_front);
    b->lim_back = b->lim_front;
    /* Clients send normal kinds only; scorers also send SESSION_STATE
     * (large). Each envelope frame is bounded by its link's largest kind. */
    b->front_frame_max = (size_t)jk_net_max_msg_bytes(&b->lim_front, false);
    b->back_frame_max = (size_t)jk_net_max_msg_bytes(&b->lim_back, true);

    b->ctx = zmq_ctx_new();
    b->msg = jk_net_msg_new(JK_NET_FRAMES_MAX);
    if (!b->ctx || !b->msg) {
        jk_error_set(err, JK_ERR_NOMEM, "broker: cannot create the ZeroMQ context");
        goto fail;
    }
    size_t in_flight_max = (size_t)b->cfg.scorers_max * 64u;
    if (broker__queue_init(&b->queue, (size_t)b->cfg.queue_max + in_flight_max) != JK_OK ||
        broker__ptab_init(&b->clients, (size_t)b->cfg.clients_max) != JK_OK ||
        broker__ptab_init(&b->scorers, (size_t)b->cfg.scorers_max) != JK_OK ||
        broker__topics_init(&b->topics, (size_t)b->cfg.pub_topics_max, broker__wall_ms(b)) !=
            JK_OK) {
        jk_error_set(err, JK_ERR_NOMEM, "broker: out of memory for its tables");
        goto fail;
    }
    /* Unique per node_id across restarts without state: see broker_send.c. */
    b->next_message_id = broker__wall_ms(b) * 1000u;

    /* Every endpoint is checked before anything binds. */
    const char *lists[3][2] = { { "frontend", b->cfg.frontend },
                                { "backend", b->cfg.backend },
                                { "pub", b->cfg.pub } };
    for (size_t i = 0; i < 3; i++) {
        if (jk_net_check_endpoints((jk_net_security_t)b->cfg.security, lists[i][1], err) !=
            JK_OK) {
            jk_error_prefix(err, "%s: ", lists[i][0]);
            goto fail;
        }
    }
    if (b->cfg.security == JK_NET_CURVE) {
        if (!b->cfg.secret_key[0] || !b->cfg.allow[0]) {
            jk_error_set(err, JK_ERR_CONFIG,
                         "security = curve needs curve.secret and curve.allow "
                         "(jkadmin keys curve / keys allow)");
            goto fail;
        }
        if (jk_net_key_read(b->cfg.secret_key, true, secret, err) != JK_OK) {
            jk_error_prefix(err, "curve.secret: ");
            goto fail;
        }
        jk_net_allow_t *al = jk_net_allow_load(b->cfg.allow, err);
        if (!al) {
            jk_error_prefix(err, "curve.allow: ");
            goto fail;
        }
        size_t n = jk_net_allow_count(al);
        if (!(b->zap = jk_net_zap_new(b->ctx, &al, err)))
            goto fail;
        JK_INFO("broker.allow", "file=%s keys=%zu", b->cfg.allow, n);
        if (b->cfg.allow_backend[0]) {
            if (!(al = jk_net_allow_load(b->cfg.allow_backend, err))) {
                jk_error_prefix(err, "curve.allow_backend: ");
                goto fail;
            }
            n = jk_net_allow_count(al);
            if (jk_net_zap_add_domain(b->zap, S_BACKEND_DOMAIN, &al, err) != JK_OK)
                goto fail;
            JK_INFO("broker.allow", "file=%s keys=%zu socket=backend", b->cfg.allow_backend, n);
        }
    }
    if (!(b->back = s_server(b, ZMQ_ROUTER, "backend", b->cfg.backend, secret, true, b->cfg.hwm,
                             err)) ||
        !(b->front = s_server(b, ZMQ_ROUTER, "frontend", b->cfg.frontend, secret, false,
                              b->cfg.hwm, err)) ||
        !(b->pub = s_server(b, ZMQ_XPUB, "pub", b->cfg.pub, secret, false, b->cfg.pub_hwm, err)))
        goto fail;
    memset(secret, 0, sizeof secret);
    int64_t now = broker__now_ms(b);
    b->next_tick_ms = now;
    b->next_metrics_ms = now + b->cfg.metrics_ms;
    b->log_window_ms = now;
    JK_INFO("broker.start",
            "node=%s frontend=%s backend=%s pub=%s security=%s heartbeat_ms=%lld "
            "queue_max=%lld epoch=%llu",
            b->cfg.node_id, b->cfg.frontend, b->cfg.backend, b->cfg.pub,
            jk_net_security_names[b->cfg.security], (long long)b->cfg.heartbeat_ms,
            (long long)b->cfg.queue_max, (unsigned long long)b->topics.start_epoch);
    return b;
fail:
    memset(secret, 0, sizeof secret);
    broker_destroy(&b);
    return NULL;
}

static void s_timers(broker_t *b)
{
    int64_t now = broker__now_ms(b);
    if (now >= b->next_tick_ms) {
        broker__peers_tick(b, now);
        broker__queue_expire(b, now);
        int64_t tick = b->cfg.heartbeat_ms / 4;
        b->next_tick_ms = now + (tick > 0 ? tick : 1);
    }
    if (b->cfg.metrics_ms > 0 && now >= b->next_metrics_ms) {
        s_stats_line(b);
        b->next_metrics_ms = now + b->cfg.metrics_ms;
    }
}

jk_err_t broker_run(broker_t *b, const volatile sig_atomic_t *stop)
{
    static const volatile sig_atomic_t never = 0;
    if (!b)
        return JK_ERR_INVAL;
    if (!stop)
        stop = &never;
    jk_err_t rc = JK_OK;
    while (!*stop) {
        int64_t now = broker__now_ms(b);
        int64_t next = b->next_tick_ms;
        if (b->cfg.metrics_ms > 0 && b->next_metrics_ms < next)
            next = b->next_metrics_ms;
        long timeout = next > now ? (long)(next - now) : 0;
        zmq_pollitem_t items[4] = {
            { b->back, 0, ZMQ_POLLIN, 0 },
            { b->front, 0, ZMQ_POLLIN, 0 },
            { b->pub, 0, ZMQ_POLLIN, 0 },
            { b->zap ? jk_net_zap_socket(b->zap) : NULL, 0, ZMQ_POLLIN, 0 },
        };
        int n = zmq_poll(items, b->zap ? 4 : 3, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            JK_ERROR("broker.poll_failed", "reason=\"%s\"", zmq_strerror(errno));
            rc = JK_ERR_IO;
            break;
        }
        if (b->zap && (items[3].revents & ZMQ_POLLIN))
            jk_net_zap_handle(b->zap);
        if (items[0].revents & ZMQ_POLLIN)
            broker__back_drain(b);
        if (items[1].revents & ZMQ_POLLIN)
            broker__front_drain(b);
        if (items[2].revents & ZMQ_POLLIN)
            broker__pub_drain(b);
        broker__dispatch(b);
        s_timers(b);
    }
    broker__peers_goodbye(b);
    if (b->cfg.metrics_ms > 0)
        s_stats_line(b);
    JK_INFO("broker.stop", "queued=%zu in_flight=%zu scorers=%zu clients=%zu", b->queue.len,
            broker__in_flight(b), b->scorers.n, b->clients.n);
    return rc;
}
