/*
 * scorerd: the object, the broker link (worker side of docs/protocol.md
 * §2.2) and the loop.
 *
 * Credit: WORKER_READY announces `capacity`, the most requests this scorer
 * takes at once; every finished request (answered, refused or failed) owes
 * the broker one credit back, returned in CREDIT messages at the end of each
 * loop iteration. When the broker has been silent for three heartbeat
 * intervals it is taken for dead; when it speaks again WORKER_READY is sent
 * afresh (a restarted broker knows nothing of us), with what capacity is
 * free then.
 *
 * Sending: replies and control messages are queued (at most 256) and sent
 * as one batch at the end of each loop iteration. When the broker link does
 * not take a batch (its high-water mark: JK_ERR_FULL, nothing sent) the
 * queue is kept and sent again on the next pass, and no new work is read
 * from the broker until it went out (the loop waits for the socket to be
 * writable instead); a reply that finds the queue full then is dropped and
 * counted (`dropped`: the request's ACK is lost, its sender resends). Any
 * other send failure drops the batch, counted the same way. Credit is never
 * lost with a message: a CREDIT that was not sent is owed again.
 *
 * The loop polls the broker socket and the Redis connection together
 * (hiredis async in the same zmq_poll), with the store's next deadline as
 * the poll timeout, so a slow Redis never blocks the broker link: requests
 * that can't be served get RETRY_LATER and the scorer keeps running.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "jk_log.h"
#include "jk_net.h"
#include "jk_package.h"
#include "scorerd.h"

#define S_DEAD_BEATS 3
#define S_POLL_MAX_MS 50

static char s_logbuf[JK_LOG_VALUE_MAX];

static bool s_send_control(scorerd_t *sc, Jk__Envelope *env)
{
    return scorerd__reply(sc, (const uint8_t *)"", 0, env);
}

/* Frees queued message i and closes the gap. */
static void s_unqueue(scorerd_t *sc, size_t i)
{
    free(sc->out_addr[i]);
    free(sc->out_env[i]);
    size_t rest = sc->n_out - i - 1;
    memmove(&sc->out_addr[i], &sc->out_addr[i + 1], rest * sizeof sc->out_addr[0]);
    memmove(&sc->out_addr_len[i], &sc->out_addr_len[i + 1], rest * sizeof sc->out_addr_len[0]);
    memmove(&sc->out_env[i], &sc->out_env[i + 1], rest * sizeof sc->out_env[0]);
    memmove(&sc->out_env_len[i], &sc->out_env_len[i + 1], rest * sizeof sc->out_env_len[0]);
    sc->n_out--;
}

static void s_ready(scorerd_t *sc)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__WorkerReady wr = JK__WORKER_READY__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_WORKER_READY;
    wr.service = "score";
    unsigned cap = (unsigned)sc->cfg.capacity;
    wr.has_capacity = 1;
    wr.capacity = cap > sc->in_flight ? cap - sc->in_flight : 1;
    wr.software_version = "jikao-scorerd-1";
    env.body_case = JK__ENVELOPE__BODY_WORKER_READY;
    env.worker_ready = &wr;
    /* The announced capacity includes what we owed, and a CREDIT still
     * queued would count it twice. */
    if (sc->credit_queued) {
        s_unqueue(sc, sc->credit_slot);
        sc->credit_queued = 0;
    }
    s_send_control(sc, &env);
    sc->credit_owed = 0;
    JK_INFO("broker.ready", "capacity=%u", wr.capacity);
}

static void s_heartbeat(scorerd_t *sc)
{
    if (sc->out_blocked)
        return; /* the link takes nothing now; a queued heartbeat says nothing */
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Heartbeat hb = JK__HEARTBEAT__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_HEARTBEAT;
    hb.has_interval_ms = 1;
    hb.interval_ms = (uint32_t)sc->cfg.heartbeat_ms;
    hb.has_in_flight = 1;
    hb.in_flight = sc->in_flight > 65535 ? 65535 : sc->in_flight;
    env.body_case = JK__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send_control(sc, &env);
}

/* Returns what the broker is owed in one CREDIT; while one is queued and
 * unsent, the rest waits (so at most one is in the queue). The credit
 * counts as returned only once the message was sent (scorerd__flush). */
static void s_credit(scorerd_t *sc)
{
    if (!sc->credit_owed || !sc->broker_alive || sc->credit_queued)
        return;
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Credit cr = JK__CREDIT__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_CREDIT;
    cr.has_credit = 1;
    cr.credit = sc->credit_owed > 65535 ? 65535 : sc->credit_owed;
    env.body_case = JK__ENVELOPE__BODY_CREDIT;
    env.credit = &cr;
    if (!s_send_control(sc, &env))
        return; /* not queued: still owed */
    sc->credit_owed -= cr.credit;
    sc->credit_queued = cr.credit;
    sc->credit_slot = sc->n_out - 1;
}

void scorerd__flush(scorerd_t *sc)
{
    if (sc->n_out == 0) {
        sc->out_blocked = false;
        return;
    }
    jk_net_item_t items[256];
    for (size_t i = 0; i < sc->n_out; i++) {
        items[i].addr = sc->out_addr[i];
        items[i].addr_len = sc->out_addr_len[i];
        items[i].env = sc->out_env[i];
        items[i].env_len = sc->out_env_len[i];
    }
    jk_error_t err;
    jk_err_t rc = jk_net_send_batch(sc->broker, NULL, 0, JK_NET_LINK_WORKER, items, sc->n_out, &err);
    if (rc == JK_ERR_FULL) {
        /* Nothing was sent: all of it goes with the next pass. */
        if (!sc->out_blocked)
            JK_WARN("broker.send_blocked", "messages=%zu error=%s", sc->n_out,
                    jk_log_value(err.msg, s_logbuf));
        sc->out_blocked = true;
        sc->stats.send_blocked++;
        return;
    }
    if (rc != JK_OK) {
        JK_WARN("broker.send", "messages=%zu error=%s", sc->n_out, jk_log_value(err.msg, s_logbuf));
        sc->stats.dropped += sc->n_out;
        sc->credit_owed += sc->credit_queued; /* not returned after all */
    } else if (sc->out_blocked) {
        JK_INFO("broker.send_unblocked", "messages=%zu", sc->n_out);
    }
    sc->credit_queued = 0;
    sc->out_blocked = false;
    for (size_t i = 0; i < sc->n_out; i++) {
        free(sc->out_addr[i]);
        free(sc->out_env[i]);
    }
    sc->n_out = 0;
}

static void s_recv(scorerd_t *sc, jk_net_msg_t *m)
{
    /* No new work while replies can't go out (see the top of this file). */
    for (int budget = 0; budget < 256 && !sc->out_blocked; budget++) {
        jk_error_t err;
        jk_err_t rc = jk_net_recv(sc->broker, m, jk_net_max_msg_bytes(&sc->limits, true), ZMQ_DONTWAIT, &err);
        if (rc == JK_ERR_UNAVAIL)
            return;
        sc->broker_seen_us = jk_clock_mono_us(jk_clock_system());
        if (!sc->broker_alive) {
            sc->broker_alive = true;
            JK_INFO("broker.back", NULL);
            s_ready(sc);
        }
        if (rc != JK_OK) {
            sc->stats.bad_frames++;
            JK_WARN("broker.bad_message", "error=%s", jk_log_value(err.msg, s_logbuf));
            continue;
        }
        jk_net_batch_t b;
        if (jk_net_parse(m, JK_NET_LINK_WORKER, false, &b, &err) != JK_OK) {
            sc->stats.bad_frames++;
            JK_WARN("broker.bad_frames", "error=%s", jk_log_value(err.msg, s_logbuf));
            continue;
        }
        for (size_t i = 0; i < b.n; i++) {
            if (b.items[i].addr_len == 0) {
                /* From the broker itself: heartbeats (liveness only), or a
                 * DISCONNECT when it does not know us (it restarted faster
                 * than we noticed): announce ourselves again. */
                Jk__Envelope *env = NULL;
                if (jk_codec_decode(b.items[i].env, b.items[i].env_len, &sc->limits, &env, NULL) == JK_OK &&
                    env->body_case == JK__ENVELOPE__BODY_DISCONNECT) {
                    JK_INFO("broker.disconnect", "reason=%s",
                            jk_log_value(env->disconnect->reason, s_logbuf));
                    s_ready(sc);
                }
                jk_codec_free(&env);
                continue;
            }
            scorerd__handle(sc, b.items[i].addr, b.items[i].addr_len, b.items[i].env, b.items[i].env_len);
        }
    }
}

scorerd_t *scorerd_new(const scorerd_config_t *cfg, jk_error_t *err)
{
    scorerd_t *sc = calloc(1, sizeof *sc);
    if (!sc) {
        jk_error_set(err, JK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sc->cfg = *cfg;
    jk_codec_limits_default(&sc->limits);
    sc->limits.require_auth_tag = false; /* verified per kind in handle.c */
    jk_score_rules_default(&sc->rules);
    sc->rules.multi = cfg->multi_rule ? JK_MULTI_PARTIAL : JK_MULTI_ALL_OR_NOTHING;
    sc->rules.partial_permille = (int)cfg->partial_permille;
    sc->rules.arbitration_permille = (int)cfg->arbitration_permille;

    char path[4096];
    sc->std = jk_standard_load_default(err);
    if (!sc->std)
        goto fail;
    sc->bank = jk_bank_new(sc->std);
    if (!sc->bank ||
        jk_bank_load_path(sc->bank, cfg->bank && *cfg->bank ? cfg->bank : JK_DATA_DIR "/bank", NULL,
                          err) != JK_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/sitting.json", cfg->center_dir);
    sc->center = jk_sitting_load(path, err);
    if (!sc->center)
        goto fail;
    if (jk_sitting_is_site(sc->center)) {
        jk_error_set(err, JK_ERR_INVAL, "%s: a site document; scorerd needs the center's", path);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/master.key", cfg->center_dir);
    uint8_t *mk = NULL;
    size_t mlen = 0;
    if (jk_package_file_read(path, 256, &mk, &mlen, err) != JK_OK)
        goto fail;
    jk_err_t mr = jk_release_key_parse((const char *)mk, sc->master, err);
    OPENSSL_cleanse(mk, mlen);
    free(mk);
    if (mr != JK_OK) {
        jk_error_prefix(err, "%s: ", path);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/keys.json", cfg->center_dir);
    if (cfg->release_mode == 1) {
        sc->release_keys = jk_package_keys_load(path, err);
        if (!sc->release_keys)
            goto fail;
        size_t nk = jk_package_keys_count(sc->release_keys);
        sc->pkg_digest = calloc(nk ? nk : 1, sizeof *sc->pkg_digest);
        sc->pkg_digest_ok = calloc(nk ? nk : 1, sizeof *sc->pkg_digest_ok);
        if (!sc->pkg_digest || !sc->pkg_digest_ok) {
            jk_error_set(err, JK_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }

    redis_store_config_t rc;
    redis_store_config_default(&rc);
    rc.host = cfg->redis_host;
    rc.port = (int)cfg->redis_port;
    rc.password = cfg->redis_password;
    rc.max_in_flight = (unsigned)(cfg->capacity * 2 + 16); /* room for scoring calls */
    rc.request_timeout_ms = (unsigned)cfg->redis_timeout_ms;
    sc->store = redis_store_new(&rc, err);
    if (!sc->store)
        goto fail;

    sc->zctx = zmq_ctx_new();
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = (jk_net_security_t)cfg->security;
    o.routing_id = cfg->node_id;
    o.max_msg_bytes = jk_net_max_msg_bytes(&sc->limits, true);
    o.sndhwm = 100000;
    o.rcvhwm = 100000;
    char secret[JK_NET_Z85_LEN + 1], server[JK_NET_Z85_LEN + 1];
    if (o.security == JK_NET_CURVE) {
        if (jk_net_key_read(cfg->curve_secret, true, secret, err) != JK_OK ||
            jk_net_key_read(cfg->broker_public, false, server, err) != JK_OK)
            goto fail;
        o.secret_key_z85 = secret;
        o.server_key_z85 = server;
    }
    sc->broker = jk_net_client(sc->zctx, ZMQ_DEALER, cfg->broker_endpoint, &o, err);
    OPENSSL_cleanse(secret, sizeof secret);
    if (!sc->broker)
        goto fail;
    JK_INFO("scorerd.loaded", "sitting=%s sessions=%zu items=%zu tasks=%zu release=%s",
            jk_sitting_id(sc->center), jk_sitting_entry_count(sc->center), jk_bank_item_count(sc->bank),
            jk_bank_task_count(sc->bank), cfg->release_mode ? "immediate" : "manual");
    return sc;
fail:
    scorerd_destroy(&sc);
    return NULL;
}

void scorerd_stop(scorerd_t *sc) { sc->stop = 1; }

static void s_stats(scorerd_t *sc)
{
    redis_store_stats_t rs;
    redis_store_get_stats(sc->store, &rs);
    JK_INFO("scorerd.stats",
            "requests=%llu applied=%llu duplicates=%llu conflicts=%llu forged=%llu wrong_site=%llu "
            "unknown_session=%llu malformed=%llu retry_later=%llu invalid=%llu reconciles=%llu "
            "reconcile_ok=%llu "
            "mismatches=%llu scored=%llu illegal_streams=%llu late=%llu in_flight=%u "
            "credit_owed=%u dropped=%llu send_blocked=%llu redis=%s "
            "redis_p50_us=%llu redis_p99_us=%llu reconnects=%llu",
            (unsigned long long)sc->stats.requests, (unsigned long long)sc->stats.applied,
            (unsigned long long)sc->stats.duplicates, (unsigned long long)sc->stats.conflicts,
            (unsigned long long)sc->stats.forged, (unsigned long long)sc->stats.wrong_site,
            (unsigned long long)sc->stats.unknown_session, (unsigned long long)sc->stats.malformed,
            (unsigned long long)sc->stats.retry_later, (unsigned long long)sc->stats.invalid,
            (unsigned long long)sc->stats.reconciles,
            (unsigned long long)sc->stats.reconcile_ok, (unsigned long long)sc->stats.reconcile_mismatch,
            (unsigned long long)sc->stats.scored, (unsigned long long)sc->stats.illegal_streams,
            (unsigned long long)sc->stats.late, sc->in_flight, sc->credit_owed + sc->credit_queued,
            (unsigned long long)sc->stats.dropped, (unsigned long long)sc->stats.send_blocked,
            rs.ready ? "up" : "down", (unsigned long long)rs.latency_p50_us,
            (unsigned long long)rs.latency_p99_us, (unsigned long long)rs.reconnects);
}

jk_err_t scorerd_run(scorerd_t *sc, jk_error_t *err)
{
    const jk_clock_t *clk = jk_clock_system();
    jk_net_msg_t *m = jk_net_msg_new(JK_NET_FRAMES_MAX);
    if (!m)
        return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    sc->broker_seen_us = jk_clock_mono_us(clk);
    sc->broker_alive = true;
    s_ready(sc);
    sc->heartbeat_due_us = jk_clock_mono_us(clk) + sc->cfg.heartbeat_ms * 1000;
    sc->stats_due_us = jk_clock_mono_us(clk) + sc->cfg.stats_ms * 1000;
    JK_INFO("scorerd.start", "node=%s broker=%s redis=%s:%lld", sc->cfg.node_id,
            sc->cfg.broker_endpoint, sc->cfg.redis_host, (long long)sc->cfg.redis_port);
    while (!sc->stop) {
        zmq_pollitem_t items[1 + REDIS_STORE_FDS_MAX];
        /* Blocked: wait until the link takes messages again, read nothing. */
        items[0] = (zmq_pollitem_t){ sc->broker, 0, sc->out_blocked ? ZMQ_POLLOUT : ZMQ_POLLIN, 0 };
        int fds[REDIS_STORE_FDS_MAX];
        size_t nfd = redis_store_fds(sc->store, fds);
        short want = redis_store_poll_events(sc->store);
        for (size_t i = 0; i < nfd; i++)
            items[1 + i] = (zmq_pollitem_t){ NULL, fds[i],
                                             (short)(((want & REDIS_STORE_POLLIN) ? ZMQ_POLLIN : 0) |
                                                     ((want & REDIS_STORE_POLLOUT) ? ZMQ_POLLOUT : 0)),
                                             0 };
        long timeout = redis_store_next_timeout_ms(sc->store);
        if (timeout < 0 || timeout > S_POLL_MAX_MS)
            timeout = S_POLL_MAX_MS;
        int rc = zmq_poll(items, (int)(1 + nfd), timeout);
        if (rc < 0 && errno != EINTR) {
            jk_net_msg_destroy(&m);
            return jk_error_set(err, JK_ERR_IO, "zmq_poll: %s", zmq_strerror(errno));
        }
        short rev = 0;
        for (size_t i = 0; rc > 0 && i < nfd; i++) {
            if (items[1 + i].revents & ZMQ_POLLIN)
                rev |= REDIS_STORE_POLLIN;
            if (items[1 + i].revents & ZMQ_POLLOUT)
                rev |= REDIS_STORE_POLLOUT;
            if (items[1 + i].revents & ZMQ_POLLERR)
                rev |= REDIS_STORE_POLLERR;
        }
        redis_store_handle(sc->store, rev); /* also runs timers when rev is 0 */
        if (sc->out_blocked && rc > 0 && (items[0].revents & ZMQ_POLLOUT))
            scorerd__flush(sc);
        if (!sc->out_blocked && rc > 0 && (items[0].revents & ZMQ_POLLIN))
            s_recv(sc, m);
        scorerd__score_pending(sc);
        int64_t now = jk_clock_mono_us(clk);
        if (sc->broker_alive && now - sc->broker_seen_us > sc->cfg.heartbeat_ms * 1000 * S_DEAD_BEATS) {
            sc->broker_alive = false;
            JK_WARN("broker.lost", "in_flight=%u", sc->in_flight);
        }
        s_credit(sc);
        if (now >= sc->heartbeat_due_us) {
            s_heartbeat(sc);
            sc->heartbeat_due_us = now + sc->cfg.heartbeat_ms * 1000;
        }
        scorerd__flush(sc);
        if (now >= sc->stats_due_us) {
            s_stats(sc);
            sc->stats_due_us = now + sc->cfg.stats_ms * 1000;
        }
    }
    /* Orderly goodbye: the broker re-routes what we hold at once. */
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Disconnect d = JK__DISCONNECT__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_DISCONNECT;
    d.reason = "scorerd stopping";
    env.body_case = JK__ENVELOPE__BODY_DISCONNECT;
    env.disconnect = &d;
    s_send_control(sc, &env);
    scorerd__flush(sc);
    s_stats(sc);
    jk_net_msg_destroy(&m);
    return JK_OK;
}

void scorerd_destroy(scorerd_t **psc)
{
    if (!psc || !*psc)
        return;
    scorerd_t *sc = *psc;
    redis_store_destroy(&sc->store); /* callbacks run here; they need the rest */
    for (size_t i = 0; i < sc->n_out; i++) {
        free(sc->out_addr[i]);
        free(sc->out_env[i]);
    }
    for (size_t i = 0; i < sc->n_to_score; i++)
        free(sc->to_score[i]);
    free(sc->to_score);
    if (sc->broker)
        zmq_close(sc->broker);
    if (sc->zctx)
        zmq_ctx_term(sc->zctx);
    jk_package_keys_t *keys = sc->release_keys;
    jk_package_keys_destroy(&keys);
    free(sc->pkg_digest);
    free(sc->pkg_digest_ok);
    jk_sitting_destroy(&sc->center);
    jk_bank_destroy(&sc->bank);
    jk_standard_destroy(&sc->std);
    OPENSSL_cleanse(sc->master, sizeof sc->master);
    free(sc);
    *psc = NULL;
}
