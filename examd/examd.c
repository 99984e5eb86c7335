/*
 * examd: the object, start-up (package, recovery, sockets) and the loop.
 *
 * Start-up order matters:
 *  1. verify the package's signature (a tampered package is refused with
 *     the reason, before anything else);
 *  2. open the WAL and recover it (first replay): find the release key, the
 *     last time tick and each session's latest RECONCILED record;
 *  3. if the package was released (key in the log, or release.key given),
 *     open it and build the sessions, then replay the events (second
 *     replay) through the same examd__apply() the live path uses, put every
 *     event of an unreconciled session back in the outbox (the center
 *     drops duplicates), and credit the downtime to running sessions;
 *  4. bind and connect the sockets and serve.
 *
 * The loop: read candidates, staff and broker; submit sessions whose time is
 * up; commit the WAL once (group commit: one fdatasync for everything the
 * iteration appended); answer whoever waited for that commit; only then send
 * events to the center (an event the center has must never be lost here);
 * heartbeats, ticks, compaction and stats on their timers.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "examd.h"
#include "jk_log.h"
#include "jk_net.h"
#include "jk_package.h"

#define S_POLL_MS 20                 /* loop wake-up when idle */
#define S_DEADLINE_CHECK_US 100000   /* check deadlines every 100 ms */
#define S_COMPACT_US 60000000        /* try to release log segments every minute */

static char s_logbuf[JK_LOG_VALUE_MAX];

/* ---- recovery ---- */

typedef struct {
    uint64_t lsn;
    uint8_t state;
    uint64_t last_seq;
    uint8_t *hashes; /* last_seq * 32 */
} s_rec_t;

typedef struct {
    examd_t *ex;
    bool have_key;
    uint8_t key[32];
    uint64_t key_lsn;
    int64_t last_tick;
    jk_strmap_t *rec_index; /* session id -> index into recs */
    s_rec_t *recs;
    char **rec_ids;
    size_t n_recs, cap_recs;
    size_t applied, skipped, failed;
} s_recover_t;

static jk_err_t s_pass1(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len)
{
    s_recover_t *r = ud;
    if (type == EXAMD_WAL_RELEASE && len == 32) {
        memcpy(r->key, p, 32);
        r->have_key = true;
        r->key_lsn = lsn;
    } else if (type == EXAMD_WAL_TICK && len == 8) {
        int64_t t = 0;
        for (int i = 7; i >= 0; i--)
            t = t << 8 | p[i];
        r->last_tick = t;
    } else if (type == EXAMD_WAL_RECONCILED && len >= 11) {
        uint64_t seq = 0;
        for (int i = 7; i >= 0; i--)
            seq = seq << 8 | p[1 + i];
        size_t sl = (size_t)p[9] | (size_t)p[10] << 8;
        if (sl == 0 || sl > 64 || 11 + sl + seq * JK_CODEC_DIGEST_LEN != len)
            return JK_ERR_PARSE;
        char sid[65];
        memcpy(sid, p + 11, sl);
        sid[sl] = '\0';
        size_t idx;
        if (!jk_strmap_get(r->rec_index, sid, &idx)) {
            if (r->n_recs == r->cap_recs) {
                size_t nc = r->cap_recs ? r->cap_recs * 2 : 64;
                s_rec_t *nr = realloc(r->recs, nc * sizeof *nr);
                char **ni = nr ? realloc(r->rec_ids, nc * sizeof *ni) : NULL;
                if (nr)
                    r->recs = nr;
                if (!nr || !ni)
                    return JK_ERR_NOMEM;
                r->rec_ids = ni;
                r->cap_recs = nc;
            }
            idx = r->n_recs++;
            r->rec_ids[idx] = strdup(sid);
            memset(&r->recs[idx], 0, sizeof r->recs[idx]);
            if (!r->rec_ids[idx] || jk_strmap_put(r->rec_index, r->rec_ids[idx], idx, NULL) < 0)
                return JK_ERR_NOMEM;
        }
        s_rec_t *rec = &r->recs[idx];
        free(rec->hashes);
        rec->hashes = NULL;
        rec->lsn = lsn;
        rec->state = p[0];
        rec->last_seq = seq;
        if (seq) {
            rec->hashes = malloc(seq * JK_CODEC_DIGEST_LEN);
            if (!rec->hashes)
                return JK_ERR_NOMEM;
            memcpy(rec->hashes, p + 11 + sl, seq * JK_CODEC_DIGEST_LEN);
        }
    }
    return JK_OK;
}

static jk_err_t s_pass2(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len)
{
    s_recover_t *r = ud;
    examd_t *ex = r->ex;
    if (type == EXAMD_WAL_RELEASE) {
        ex->release_lsn = lsn;
        return JK_OK;
    }
    if (type == EXAMD_WAL_RECONCILED) {
        char sid[65];
        size_t sl = (size_t)p[9] | (size_t)p[10] << 8;
        memcpy(sid, p + 11, sl);
        sid[sl] = '\0';
        ex_session_t *s = examd__session(ex, sid);
        if (!s)
            return JK_OK;
        uint64_t seq = 0;
        for (int i = 7; i >= 0; i--)
            seq = seq << 8 | p[1 + i];
        /* Restore the session as the center confirmed it. */
        if (seq > s->cap_hashes) {
            void *h = realloc(s->hashes, seq * JK_CODEC_DIGEST_LEN);
            if (!h)
                return JK_ERR_NOMEM;
            s->hashes = h;
            s->cap_hashes = seq;
        }
        if (seq)
            memcpy(s->hashes, p + 11 + sl, seq * JK_CODEC_DIGEST_LEN);
        s->last_seq = seq;
        s->state = (jk_session_state_t)p[0];
        s->reconciled = true;
        s->reconciled_lsn = lsn;
        s->first_lsn = 0;
        return JK_OK;
    }
    if (type != EXAMD_WAL_EVENT)
        return JK_OK;
    Jk__Envelope *env = NULL;
    jk_error_t err;
    if (jk_codec_decode(p, len, &ex->limits, &env, &err) != JK_OK) {
        JK_ERROR("recover.bad_record", "lsn=%llu error=%s", (unsigned long long)lsn,
                 jk_log_value(err.msg, s_logbuf));
        r->failed++;
        return JK_ERR_PARSE;
    }
    ex_session_t *s = examd__session(ex, env->session_id);
    size_t idx;
    jk_err_t rc = JK_OK;
    if (!s) {
        JK_ERROR("recover.unknown_session", "lsn=%llu session=%s", (unsigned long long)lsn,
                 jk_log_value(env->session_id, s_logbuf));
        r->failed++;
    } else if (jk_strmap_get(r->rec_index, s->entry->session_id, &idx) &&
               env->seq <= r->recs[idx].last_seq && lsn < r->recs[idx].lsn) {
        r->skipped++; /* confirmed by the center; its RECONCILED record restores it */
    } else if (s->reconciled && env->seq <= s->last_seq) {
        r->skipped++;
    } else {
        rc = examd__apply(ex, s, env, p, len, lsn, true, &err);
        if (rc == JK_OK) {
            examd__outbox_add(ex, s, env->seq, p, len);
            r->applied++;
        } else {
            JK_ERROR("recover.apply", "lsn=%llu error=%s", (unsigned long long)lsn,
                     jk_log_value(err.msg, s_logbuf));
            r->failed++;
        }
    }
    jk_codec_free(&env);
    return rc;
}

static void s_recover_free(s_recover_t *r)
{
    for (size_t i = 0; i < r->n_recs; i++) {
        free(r->recs[i].hashes);
        free(r->rec_ids[i]);
    }
    free(r->recs);
    free(r->rec_ids);
    jk_strmap_destroy(&r->rec_index);
    OPENSSL_cleanse(r->key, sizeof r->key);
}

static jk_err_t s_recover(examd_t *ex, jk_error_t *err)
{
    s_recover_t r;
    memset(&r, 0, sizeof r);
    r.ex = ex;
    r.rec_index = jk_strmap_new(64);
    jk_wal_replay_stats_t rs;
    jk_err_t rc = jk_wal_replay(ex->wal, s_pass1, &r, &rs, err);
    if (rc != JK_OK)
        goto out;
    if (rs.torn_tails)
        JK_WARN("recover.torn_tail", "bytes=%llu", (unsigned long long)rs.torn_bytes);
    ex->last_tick_wall_ms = r.last_tick;
    uint8_t key[32];
    bool have = r.have_key;
    if (have) {
        memcpy(key, r.key, 32);
    } else if (ex->cfg.release_key && *ex->cfg.release_key) {
        if ((rc = jk_release_key_parse(ex->cfg.release_key, key, err)) != JK_OK) {
            jk_error_prefix(err, "release.key: ");
            goto out;
        }
        have = true;
    }
    if (have) {
        rc = examd__release(ex, key, !r.have_key, err);
        OPENSSL_cleanse(key, sizeof key);
        if (rc != JK_OK)
            goto out;
        if (r.have_key)
            ex->release_lsn = r.key_lsn;
        rc = jk_wal_replay(ex->wal, s_pass2, &r, NULL, err);
        if (rc != JK_OK) {
            jk_error_prefix(err, "recovering the log: ");
            goto out;
        }
        JK_INFO("recover.done", "events=%zu skipped=%zu failed=%zu outbox=%zu records=%llu",
                r.applied, r.skipped, r.failed, ex->out_count, (unsigned long long)rs.records);
        /* Sessions that ended and are not yet reconciled: reconcile once
         * the center has acknowledged their events again. */
    }
out:
    s_recover_free(&r);
    return rc;
}

/* ---- sockets ---- */

static void *s_plain_router(examd_t *ex, const char *endpoint, jk_error_t *err)
{
    void *s = zmq_socket(ex->zctx, ZMQ_ROUTER);
    int one = 1, linger = 0;
    int64_t maxmsg = (int64_t)JK_CODEC_MAX_BYTES + 1024;
    if (!s) {
        jk_error_set(err, JK_ERR_IO, "%s: %s", endpoint, zmq_strerror(errno));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind(s, endpoint) != 0) {
        jk_error_set(err, JK_ERR_IO, "cannot bind %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

static jk_err_t s_sockets(examd_t *ex, jk_error_t *err)
{
    ex->zctx = zmq_ctx_new();
    if (!ex->zctx)
        return jk_error_set(err, JK_ERR_IO, "zmq_ctx_new: %s", zmq_strerror(errno));
    if (!(ex->candidates = s_plain_router(ex, ex->cfg.candidate_endpoint, err)))
        return JK_ERR_IO;
    if (!(ex->staff = s_plain_router(ex, ex->cfg.staff_endpoint, err)))
        return JK_ERR_IO;
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = (jk_net_security_t)ex->cfg.security;
    o.routing_id = ex->cfg.node_id;
    o.max_msg_bytes = jk_net_max_msg_bytes(&ex->limits, false);
    o.sndhwm = 100000;
    o.rcvhwm = 100000;
    char secret[JK_NET_Z85_LEN + 1], server[JK_NET_Z85_LEN + 1];
    if (o.security == JK_NET_CURVE) {
        if (jk_net_key_read(ex->cfg.curve_secret, true, secret, err) != JK_OK ||
            jk_net_key_read(ex->cfg.broker_public, false, server, err) != JK_OK)
            return err ? err->code : JK_ERR_CONFIG;
        o.secret_key_z85 = secret;
        o.server_key_z85 = server;
    }
    ex->broker = jk_net_client(ex->zctx, ZMQ_DEALER, ex->cfg.broker_endpoint, &o, err);
    OPENSSL_cleanse(secret, sizeof secret);
    if (!ex->broker)
        return err ? err->code : JK_ERR_IO;
    return examd__center_connect(ex, err);
}

/* ---- object ---- */

examd_t *examd_new(const examd_config_t *cfg, jk_error_t *err)
{
    examd_t *ex = calloc(1, sizeof *ex);
    if (!ex) {
        jk_error_set(err, JK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ex->cfg = *cfg;
    jk_codec_limits_default(&ex->limits);
    if (cfg->clock_scale > 1) {
        ex->scaled = jk_clock_scaled_new(jk_clock_system(), (double)cfg->clock_scale,
                                         cfg->clock_origin_ms);
        if (!ex->scaled) {
            jk_error_set(err, JK_ERR_NOMEM, "out of memory");
            goto fail;
        }
        ex->clock = jk_clock_scaled_clock(ex->scaled);
        JK_WARN("clock.scaled", "scale=%lld note=\"simulation only\"", (long long)cfg->clock_scale);
    } else {
        ex->clock = jk_clock_system();
    }

    /* 1. The package: verified before anything else. */
    jk_package_key_t *center = jk_package_key_load_public(cfg->center_key, err);
    if (!center)
        goto fail;
    jk_package_header_t hdr;
    jk_err_t rc = jk_package_file_read(cfg->package, (size_t)1 << 30, &ex->package, &ex->package_len, err);
    if (rc == JK_OK)
        rc = jk_package_verify(ex->package, ex->package_len, center, &hdr, err);
    if (rc == JK_OK)
        rc = jk_package_digest(ex->package, ex->package_len, ex->package_digest, err);
    jk_package_key_destroy(&center);
    if (rc != JK_OK) {
        jk_error_prefix(err, "package %s refused: ", cfg->package);
        goto fail;
    }
    snprintf(ex->package_id, sizeof ex->package_id, "%s", hdr.package_id);
    snprintf(ex->package_key_id, sizeof ex->package_key_id, "%s", hdr.key_id);
    snprintf(ex->sitting_id, sizeof ex->sitting_id, "%s", hdr.sitting_id);
    snprintf(ex->site_id, sizeof ex->site_id, "%s", hdr.site_id);
    ex->exam_start_ms = hdr.exam_start_ms;
    JK_INFO("package.verified", "site=%s sitting=%s package=%s key=%s", ex->site_id, ex->sitting_id,
            ex->package_id, hdr.key_id);

    /* 2-3. The log. */
    jk_wal_opts_t wo;
    jk_wal_opts_default(&wo);
    ex->wal = jk_wal_open(cfg->wal_dir, &wo, err);
    if (!ex->wal)
        goto fail;
    if (s_recover(ex, err) != JK_OK)
        goto fail;
    uint64_t durable;
    if (jk_wal_commit(ex->wal, &durable, err) != JK_OK)
        goto fail;
    ex->durable_lsn = durable;

    /* 4. Sockets, and the threads that check passwords. */
    if (s_sockets(ex, err) != JK_OK || examd__logins_start(ex, err) != JK_OK)
        goto fail;

    /* Downtime before this start: credited to running sessions. */
    if (ex->released && ex->last_tick_wall_ms > 0) {
        int64_t lost = jk_clock_wall_ms(ex->clock) - ex->last_tick_wall_ms;
        if (lost > 0) {
            examd__credit_downtime(ex, lost);
            if (ex->broken) {
                jk_error_set(err, JK_ERR_INTERNAL, "stopped before committing: %s",
                             ex->broken_why);
                goto fail;
            }
            if (jk_wal_commit(ex->wal, &durable, err) != JK_OK)
                goto fail;
            ex->durable_lsn = durable;
        }
    }
    return ex;
fail:
    examd_destroy(&ex);
    return NULL;
}

void examd_stop(examd_t *ex) { ex->stop = 1; }

static void s_tick(examd_t *ex)
{
    int64_t t = jk_clock_wall_ms(ex->clock);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)t >> (8 * i));
    jk_wal_append(ex->wal, EXAMD_WAL_TICK, b, sizeof b, NULL, NULL);
    ex->last_tick_wall_ms = t;
}

static void s_stats(examd_t *ex)
{
    jk_wal_stats_t ws;
    jk_wal_stats(ex->wal, &ws);
    JK_INFO("examd.stats",
            "site=%s sessions=%zu logins=%llu answers=%llu events=%llu acks=%llu resends=%llu "
            "outbox=%zu in_flight=%zu rejected=%llu center_rejects=%llu retry_later=%llu "
            "bad_frames=%llu reconciled=%llu mismatches=%llu time_ups=%llu wal_commits=%llu "
            "wal_fsync_us_max=%llu replies_dropped=%llu broker_send_failed=%llu broker=%s",
            ex->site_id, ex->n_sessions, (unsigned long long)ex->stats.logins,
            (unsigned long long)ex->stats.answers, (unsigned long long)ex->stats.events,
            (unsigned long long)ex->stats.acks, (unsigned long long)ex->stats.resends,
            ex->out_count, ex->in_flight, (unsigned long long)ex->stats.rejected,
            (unsigned long long)ex->stats.center_rejects, (unsigned long long)ex->stats.retry_later,
            (unsigned long long)ex->stats.bad_frames, (unsigned long long)ex->stats.reconciled,
            (unsigned long long)ex->stats.mismatches, (unsigned long long)ex->stats.time_ups,
            (unsigned long long)ws.commits, (unsigned long long)ws.fsync_us_max,
            (unsigned long long)ex->stats.replies_dropped,
            (unsigned long long)ex->stats.broker_send_failed, ex->broker_alive ? "up" : "down");
}

jk_err_t examd_run(examd_t *ex, jk_error_t *err)
{
    const jk_clock_t *sys = jk_clock_system();
    int64_t next_deadline_check = 0, next_compact = jk_clock_mono_us(sys) + S_COMPACT_US;
    bool more_due = false; /* the pump left resends due: do not wait in poll */
    ex->next_tick_us = 0;
    ex->stats_due_us = jk_clock_mono_us(sys) + ex->cfg.stats_ms * 1000;
    JK_INFO("examd.start", "site=%s node=%s candidates=%s staff=%s broker=%s released=%s",
            ex->site_id, ex->cfg.node_id, ex->cfg.candidate_endpoint, ex->cfg.staff_endpoint,
            ex->cfg.broker_endpoint, ex->released ? "yes" : "no");
    while (!ex->stop) {
        zmq_pollitem_t items[4] = {
            { ex->candidates, 0, ZMQ_POLLIN, 0 },
            { ex->staff, 0, ZMQ_POLLIN, 0 },
            { ex->broker, 0, ZMQ_POLLIN, 0 },
            { NULL, examd__logins_fd(ex), ZMQ_POLLIN, 0 },
        };
        int rc = zmq_poll(items, 4, more_due ? 0 : S_POLL_MS);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return jk_error_set(err, JK_ERR_IO, "zmq_poll: %s", zmq_strerror(errno));
        }
        if (items[0].revents & ZMQ_POLLIN)
            examd__candidate_recv(ex);
        if (items[1].revents & ZMQ_POLLIN)
            examd__staff_recv(ex);
        if (items[2].revents & ZMQ_POLLIN)
            examd__center_recv(ex);
        if (items[3].revents & ZMQ_POLLIN)
            examd__logins_drain(ex);
        int64_t now = jk_clock_mono_us(sys);
        if (ex->released && now >= next_deadline_check) {
            examd__check_deadlines(ex);
            next_deadline_check = now + S_DEADLINE_CHECK_US;
        }
        if (ex->released && now >= ex->next_tick_us) {
            s_tick(ex);
            ex->next_tick_us = now + ex->cfg.tick_ms * 1000;
        }
        /* An event that did not apply must never be committed: stop here,
         * before the commit (jk_wal_destroy drops what is uncommitted, and
         * no reply waiting for it is ever sent). */
        if (ex->broken) {
            JK_ERROR("examd.broken", "site=%s action=stop_uncommitted why=%s", ex->site_id,
                     jk_log_value(ex->broken_why, s_logbuf));
            return jk_error_set(err, JK_ERR_INTERNAL, "stopped before committing: %s",
                                ex->broken_why);
        }
        /* Group commit: everything this iteration appended, one fdatasync. */
        uint64_t durable;
        if (jk_wal_commit(ex->wal, &durable, err) != JK_OK) {
            JK_ERROR("wal.failed", "error=%s", jk_log_value(err->msg, s_logbuf));
            return err->code; /* durability is gone: stop, a restart recovers */
        }
        if (durable != ex->durable_lsn) {
            ex->durable_lsn = durable;
            ex->stats.commits++;
        }
        examd__flush_replies(ex);
        more_due = examd__center_pump(ex);
        if (now >= next_compact) {
            examd__compact(ex);
            next_compact = now + S_COMPACT_US;
        }
        if (now >= ex->stats_due_us) {
            s_stats(ex);
            ex->stats_due_us = now + ex->cfg.stats_ms * 1000;
        }
    }
    s_stats(ex);
    /* Commit what is pending so nothing acknowledged is lost (it is all
     * durable already; this is for the tick). */
    if (!ex->broken)
        jk_wal_commit(ex->wal, NULL, NULL);
    JK_INFO("examd.stop", "site=%s", ex->site_id);
    return JK_OK;
}

void examd_destroy(examd_t **pex)
{
    if (!pex || !*pex)
        return;
    examd_t *ex = *pex;
    examd__logins_stop(ex); /* first: its jobs point into the site document */
    while (ex->pending_head) {
        ex_pending_t *p = ex->pending_head;
        ex->pending_head = p->next;
        free(p->frames);
        free(p);
    }
    examd__outbox_free(ex);
    examd__sessions_free(ex);
    if (ex->candidates)
        zmq_close(ex->candidates);
    if (ex->staff)
        zmq_close(ex->staff);
    if (ex->broker)
        zmq_close(ex->broker);
    if (ex->zctx)
        zmq_ctx_term(ex->zctx);
    jk_wal_destroy(&ex->wal);
    jk_sitting_destroy(&ex->site);
    OPENSSL_cleanse(ex->site_key, sizeof ex->site_key);
    OPENSSL_cleanse(ex->release_key, sizeof ex->release_key);
    free(ex->package);
    jk_clock_scaled_destroy(&ex->scaled);
    free(ex);
    *pex = NULL;
}
