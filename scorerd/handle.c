/*
 * scorerd requests: one handler per kind (session events, reconciliation,
 * package requests); replies are queued and sent in batches by the loop.
 *
 * Every request ends with exactly one reply and one credit returned to the
 * broker (scorerd__done), whether it succeeded, was refused, or failed for
 * want of Redis (ACK RETRY_LATER: nothing was applied, the exam node sends
 * it again later). Nothing is acknowledged before Redis answered.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "jk_log.h"
#include "jk_package.h"
#include "scorerd.h"

#define S_RETRY_AFTER_MS 1000 /* Redis unavailable: ask the node to resend after this */

static char s_logbuf[JK_LOG_VALUE_MAX], s_logbuf2[JK_LOG_VALUE_MAX];

uint64_t scorerd__message_id(scorerd_t *sc) { return ++sc->msg_counter; }

void scorerd__done(scorerd_t *sc)
{
    if (sc->in_flight)
        sc->in_flight--;
    sc->credit_owed++;
}

bool scorerd__reply(scorerd_t *sc, const uint8_t *addr, size_t addr_len, Jk__Envelope *env)
{
    env->has_schema_version = 1;
    env->schema_version = JK_SCHEMA_VERSION;
    env->node_id = sc->cfg.node_id;
    env->has_message_id = 1;
    env->message_id = scorerd__message_id(sc);
    env->has_sent_time_ms = 1;
    env->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    uint8_t *buf = NULL;
    size_t len = 0;
    jk_error_t err;
    if (jk_codec_encode(env, &buf, &len, &err) != JK_OK) {
        JK_ERROR("reply.encode", "kind=%s error=%s", jk_codec_kind_name(env->kind),
                 jk_log_value(err.msg, s_logbuf));
        sc->stats.dropped++;
        return false;
    }
    if (sc->n_out == 256)
        scorerd__flush(sc);
    uint8_t *a = sc->n_out < 256 ? malloc(addr_len ? addr_len : 1) : NULL;
    if (!a) {
        /* The link is blocked with a full queue (or no memory): dropped.
         * An ACK's sender resends; the request's credit is still owed. */
        if (sc->stats.dropped++ % 1000 == 0)
            JK_WARN("reply.dropped", "kind=%s dropped=%llu", jk_codec_kind_name(env->kind),
                    (unsigned long long)sc->stats.dropped);
        free(buf);
        return false;
    }
    memcpy(a, addr, addr_len);
    sc->out_addr[sc->n_out] = a;
    sc->out_addr_len[sc->n_out] = addr_len;
    sc->out_env[sc->n_out] = buf;
    sc->out_env_len[sc->n_out] = len;
    sc->n_out++;
    return true;
}

void scorerd__ack(scorerd_t *sc, const uint8_t *addr, size_t addr_len, const Jk__Envelope *req,
                  Jk__AckStatus status, Jk__RejectReason reason, const char *text)
{
    if (!req || !req->has_message_id)
        return;
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Ack ack = JK__ACK__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_ACK;
    env.session_id = req->session_id;
    env.exam_id = req->exam_id;
    env.site_id = req->site_id;
    ack.has_acked_message_id = 1;
    ack.acked_message_id = req->message_id;
    if (req->has_seq) {
        ack.has_acked_seq = 1;
        ack.acked_seq = req->seq;
    }
    ack.has_status = 1;
    ack.status = status;
    if (status == JK__ACK_STATUS__ACK_STATUS_REJECTED) {
        ack.has_reason = 1;
        ack.reason = reason;
        ack.reason_text = (char *)text;
    } else if (status == JK__ACK_STATUS__ACK_STATUS_RETRY_LATER) {
        ack.has_retry_after_ms = 1;
        ack.retry_after_ms = S_RETRY_AFTER_MS;
    }
    env.body_case = JK__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    scorerd__reply(sc, addr, addr_len, &env);
}

/* Whether a request the store refused may be served later (the store not
 * ready or busy); anything else (a field that can't be mapped: INVAL,
 * MISSING, TOO_BIG) never will be, and is refused for good. */
static bool s_transient(jk_err_t rc)
{
    return rc == JK_ERR_UNAVAIL || rc == JK_ERR_FULL || rc == JK_ERR_NOMEM || rc == JK_ERR_TIMEOUT;
}

static Jk__RejectReason s_reject_reason(jk_err_t rc)
{
    switch (rc) {
    case JK_ERR_MISSING:
        return JK__REJECT_REASON__REJECT_REASON_MISSING_FIELD;
    case JK_ERR_TOO_BIG:
        return JK__REJECT_REASON__REJECT_REASON_TOO_BIG;
    case JK_ERR_INVAL:
    case JK_ERR_RANGE:
        return JK__REJECT_REASON__REJECT_REASON_OUT_OF_RANGE;
    default:
        return JK__REJECT_REASON__REJECT_REASON_INTERNAL;
    }
}

/* A reason text for an ACK from an error message: printable ASCII only and
 * short (the codec bounds reason_text; the message may quote input). */
static const char *s_reason_text(const char *msg, char out[161])
{
    size_t k = 0;
    for (; msg && *msg && k < 160; msg++) {
        unsigned char c = (unsigned char)*msg;
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[k] = '\0';
    return k ? out : "refused";
}

/* The store refused a request outright (redis_store_* returned rc): ACK
 * RETRY_LATER when it may be served later, else REJECTED with the reason. */
static void s_refused(scorerd_t *sc, const uint8_t *addr, size_t addr_len, const Jk__Envelope *env,
                      jk_err_t rc, const char *msg)
{
    if (s_transient(rc)) {
        sc->stats.retry_later++;
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, NULL);
        return;
    }
    char text[161];
    sc->stats.invalid++;
    JK_WARN("request.unservable", "kind=%s session=%s error=%s", jk_codec_kind_name(env->kind),
            jk_log_value(env->session_id, s_logbuf), jk_log_value(msg, s_logbuf2));
    scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED, s_reject_reason(rc),
                 s_reason_text(msg, text));
}

static sc_req_t *s_req_new(scorerd_t *sc, const uint8_t *addr, size_t addr_len, Jk__Envelope *env)
{
    sc_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->sc = sc;
    memcpy(r->addr, addr, addr_len);
    r->addr_len = addr_len;
    r->env = env;
    return r;
}

static void s_req_free(sc_req_t *r)
{
    jk_codec_free(&r->env);
    free(r);
}

/* ---- session events ---- */

static void s_on_applied(void *ud, jk_err_t rc, const char *errstr,
                         const redis_store_apply_reply_t *reply)
{
    sc_req_t *r = ud;
    scorerd_t *sc = r->sc;
    const Jk__Envelope *env = r->env;
    if (rc == JK_ERR_UNAVAIL || rc == JK_ERR_TIMEOUT) {
        sc->stats.retry_later++;
        scorerd__ack(sc, r->addr, r->addr_len, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, NULL);
    } else if (rc == JK_ERR_LATE) {
        sc->stats.late++;
        JK_WARN("apply.late", "session=%s seq=%llu node=%s error=%s", env->session_id,
                (unsigned long long)env->seq, jk_log_value(env->node_id, s_logbuf),
                jk_log_value(errstr, s_logbuf2));
        scorerd__ack(sc, r->addr, r->addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_AFTER_DEADLINE, "after the session was submitted");
    } else if (rc != JK_OK) {
        char text[161];
        sc->stats.invalid++;
        JK_ERROR("apply.refused", "session=%s seq=%llu error=%s", env->session_id,
                 (unsigned long long)env->seq, jk_log_value(errstr, s_logbuf));
        scorerd__ack(sc, r->addr, r->addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_OUT_OF_RANGE, s_reason_text(errstr, text));
    } else {
        switch (reply->outcome) {
        case REDIS_STORE_APPLIED:
            sc->stats.applied++;
            scorerd__ack(sc, r->addr, r->addr_len, env, JK__ACK_STATUS__ACK_STATUS_APPLIED, 0, NULL);
            break;
        case REDIS_STORE_DUPLICATE:
            sc->stats.duplicates++;
            scorerd__ack(sc, r->addr, r->addr_len, env, JK__ACK_STATUS__ACK_STATUS_DUPLICATE, 0, NULL);
            break;
        case REDIS_STORE_SEQ_CONFLICT:
        default:
            sc->stats.conflicts++;
            JK_ERROR("apply.seq_conflict", "session=%s seq=%llu node=%s note=\"two writers for one session\"",
                     env->session_id, (unsigned long long)env->seq,
                     jk_log_value(env->node_id, s_logbuf));
            scorerd__ack(sc, r->addr, r->addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                         JK__REJECT_REASON__REJECT_REASON_SEQ_CONFLICT,
                         "this seq holds another event at the center");
            break;
        }
        /* A session that is complete and not scored is scored now: on the
         * event that completed it, and on any later event (a skills panel
         * filling up, a void after scoring) that may change the outcome. */
        if (reply->complete && (!reply->scored || env->body_case == JK__ENVELOPE__BODY_PROCTOR_ACTION))
            scorerd__score(sc, env->session_id);
        else if (!reply->scored && env->body_case == JK__ENVELOPE__BODY_PROCTOR_ACTION &&
                 env->proctor_action->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_MARK_ABSENT)
            scorerd__score(sc, env->session_id);
        else if (!reply->scored && env->body_case == JK__ENVELOPE__BODY_PROCTOR_ACTION &&
                 env->proctor_action->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID)
            scorerd__score(sc, env->session_id);
    }
    scorerd__done(sc);
    s_req_free(r);
}

static void s_session_event(scorerd_t *sc, const uint8_t *addr, size_t addr_len, Jk__Envelope *env)
{
    const jk_sitting_entry_t *e = jk_sitting_find_entry(sc->center, env->session_id);
    if (!e) {
        sc->stats.unknown_session++;
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_UNKNOWN_SESSION, "no such session in this sitting");
        goto done;
    }
    if (strcmp(e->site, env->site_id) != 0 || strcmp(e->admission, env->candidate_id) != 0 ||
        strcmp(jk_sitting_id(sc->center), env->exam_id) != 0) {
        sc->stats.wrong_site++;
        JK_WARN("event.wrong_ids", "session=%s site=%s expected_site=%s", env->session_id,
                jk_log_value(env->site_id, s_logbuf), e->site);
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED,
                     "the session belongs to another site, candidate or sitting");
        goto done;
    }
    uint8_t site_key[32], key[32];
    jk_sitting_site_key(sc->master, e->site, site_key);
    jk_sitting_session_key(site_key, env->session_id, key);
    jk_err_t vr = jk_codec_auth_verify(env, key, sizeof key, NULL);
    OPENSSL_cleanse(site_key, sizeof site_key);
    OPENSSL_cleanse(key, sizeof key);
    if (vr != JK_OK) {
        sc->stats.forged++;
        JK_WARN("event.forged", "session=%s seq=%llu node=%s", env->session_id,
                (unsigned long long)env->seq, jk_log_value(env->node_id, s_logbuf));
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_BAD_AUTH, "auth tag does not verify");
        goto done;
    }
    sc_req_t *r = s_req_new(sc, addr, addr_len, env);
    jk_error_t err;
    jk_err_t rc = r ? redis_store_apply(sc->store, env, s_on_applied, r, &err)
                    : jk_error_set(&err, JK_ERR_NOMEM, "out of memory");
    if (rc != JK_OK) {
        /* Redis not ready, or too much in flight: not applied, resend later;
         * an event the store can't map: refused for good. */
        s_refused(sc, addr, addr_len, env, rc, err.msg);
        if (r) {
            r->env = NULL;
            free(r);
        }
        goto done;
    }
    return; /* the callback answers, returns the credit and frees env */
done:
    scorerd__done(sc);
    jk_codec_free(&env);
}

/* ---- reconciliation ---- */

static void s_on_reconcile(void *ud, jk_err_t rc, const char *errstr,
                           const redis_store_reconcile_t *rep)
{
    sc_req_t *r = ud;
    scorerd_t *sc = r->sc;
    const Jk__Envelope *req = r->env;
    if (rc != JK_OK) {
        char text[161];
        scorerd__ack(sc, r->addr, r->addr_len, req,
                     rc == JK_ERR_UNAVAIL || rc == JK_ERR_TIMEOUT ? JK__ACK_STATUS__ACK_STATUS_RETRY_LATER
                                                                  : JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_INTERNAL, s_reason_text(errstr, text));
        goto out;
    }
    const Jk__ReconcileRequest *rq = req->reconcile_request;
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__ReconcileReply rr = JK__RECONCILE_REPLY__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_RECONCILE_REPLY;
    env.exam_id = req->exam_id;
    env.site_id = req->site_id;
    env.session_id = req->session_id;
    rr.has_request_message_id = 1;
    rr.request_message_id = req->message_id;
    rr.has_center_event_count = 1;
    rr.center_event_count = rep->contiguous;
    rr.has_center_digest = 1;
    uint8_t digest[JK_CODEC_DIGEST_LEN];
    memcpy(digest, rep->digest, sizeof digest);
    rr.center_digest.data = digest;
    rr.center_digest.len = sizeof digest;
    rr.has_status = 1;
    sc->stats.reconciles++;
    if (!rep->known) {
        rr.status = JK__RECONCILE_STATUS__RECONCILE_STATUS_UNKNOWN_SESSION;
    } else if (rep->missing_total > 0) {
        rr.status = JK__RECONCILE_STATUS__RECONCILE_STATUS_MISMATCH;
        rr.n_missing_seq = rep->n_missing;
        rr.missing_seq = (uint64_t *)rep->missing;
    } else if (rep->last_seq > rq->event_count) {
        /* The center holds events examd does not count: never resolved
         * automatically (docs/protocol.md §13). */
        rr.status = JK__RECONCILE_STATUS__RECONCILE_STATUS_MISMATCH;
        JK_ERROR("reconcile.divergent", "session=%s ours=%llu theirs=%llu", req->session_id,
                 (unsigned long long)rep->last_seq, (unsigned long long)rq->event_count);
    } else if (rq->digest.len != JK_CODEC_DIGEST_LEN ||
               CRYPTO_memcmp(rq->digest.data, rep->digest, JK_CODEC_DIGEST_LEN) != 0) {
        rr.status = JK__RECONCILE_STATUS__RECONCILE_STATUS_MISMATCH;
        JK_ERROR("reconcile.digest", "session=%s events=%llu note=\"same count, other content\"",
                 req->session_id, (unsigned long long)rq->event_count);
    } else if (!rep->scored) {
        /* Everything is here but there is no result yet: a skills session
         * waiting for examiners, or a scorer that died while scoring. Try
         * now; examd asks again later. */
        rr.status = JK__RECONCILE_STATUS__RECONCILE_STATUS_NOT_READY;
        scorerd__score(sc, req->session_id);
    } else {
        rr.status = JK__RECONCILE_STATUS__RECONCILE_STATUS_OK;
        sc->stats.reconcile_ok++;
    }
    if (rr.status == JK__RECONCILE_STATUS__RECONCILE_STATUS_MISMATCH ||
        rr.status == JK__RECONCILE_STATUS__RECONCILE_STATUS_UNKNOWN_SESSION)
        sc->stats.reconcile_mismatch++;
    env.body_case = JK__ENVELOPE__BODY_RECONCILE_REPLY;
    env.reconcile_reply = &rr;
    scorerd__reply(sc, r->addr, r->addr_len, &env);
out:
    scorerd__done(sc);
    s_req_free(r);
}

static void s_reconcile(scorerd_t *sc, const uint8_t *addr, size_t addr_len, Jk__Envelope *env)
{
    const jk_sitting_entry_t *e = jk_sitting_find_entry(sc->center, env->session_id);
    if (!e || strcmp(e->site, env->site_id) != 0) {
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_UNKNOWN_SESSION, "no such session at this site");
        scorerd__done(sc);
        jk_codec_free(&env);
        return;
    }
    sc_req_t *r = s_req_new(sc, addr, addr_len, env);
    jk_error_t err;
    jk_err_t rc = r ? redis_store_reconcile(sc->store, env->session_id,
                                            env->reconcile_request->event_count, s_on_reconcile, r,
                                            &err)
                    : jk_error_set(&err, JK_ERR_NOMEM, "out of memory");
    if (rc != JK_OK) {
        s_refused(sc, addr, addr_len, env, rc, err.msg);
        scorerd__done(sc);
        if (r) {
            r->env = NULL;
            free(r);
        }
        jk_codec_free(&env);
    }
}

/* ---- package requests ---- */

/* The digest of the site's package file of keys entry e, read and hashed on
 * the first request that finds the file good, then kept: a package id names
 * one sealed file, so the digest never changes while the keys file is the
 * one loaded. A failure is not kept (the file may be copied in later). */
static jk_err_t s_package_digest(scorerd_t *sc, const jk_package_keys_entry_t *e,
                                 uint8_t digest[32], jk_error_t *err)
{
    size_t i = (size_t)(e - jk_package_keys_get(sc->release_keys, 0));
    if (sc->pkg_digest_ok && sc->pkg_digest_ok[i]) {
        memcpy(digest, sc->pkg_digest[i], 32);
        return JK_OK;
    }
    /* The center's copies are where `papers build` wrote them, beside
     * center/. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../sites", sc->cfg.center_dir);
    jk_err_t rc = jk_package_site_digest(dir, e->site_id, e->package_id, digest, err);
    if (rc == JK_OK && sc->pkg_digest_ok) {
        memcpy(sc->pkg_digest[i], digest, 32);
        sc->pkg_digest_ok[i] = true;
    }
    return rc;
}

static void s_package_request(scorerd_t *sc, const uint8_t *addr, size_t addr_len, Jk__Envelope *env)
{
    sc->stats.package_requests++;
    jk_package_keys_t *keys = sc->release_keys;
    const jk_package_keys_entry_t *e =
        keys ? jk_package_keys_find_package(keys, env->package_request->package_id) : NULL;
    uint8_t key[32], digest[32];
    jk_error_t err;
    if (!e || sc->cfg.release_mode != 1 || strcmp(e->site_id, env->site_id) != 0) {
        /* Manual release: the center sends the key when the exam starts. */
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, NULL);
    } else if (s_package_digest(sc, e, digest, &err) != JK_OK) {
        /* The release names the digest of the package file: none without
         * the file. The site asks again with its next heartbeat. */
        JK_ERROR("release.no_package", "site=%s error=%s", e->site_id, jk_log_value(err.msg, s_logbuf));
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_RETRY_LATER, 0, NULL);
    } else {
        Jk__Envelope out = JK__ENVELOPE__INIT;
        Jk__PackageRelease pr = JK__PACKAGE_RELEASE__INIT;
        memcpy(key, e->release_key, 32);
        out.has_kind = 1;
        out.kind = JK__KIND__KIND_PACKAGE_RELEASE;
        out.exam_id = env->exam_id;
        out.site_id = env->site_id;
        pr.package_id = (char *)e->package_id;
        pr.key_id = (char *)e->key_id;
        pr.has_cipher = 1;
        pr.cipher = JK__CIPHER__CIPHER_AES_256_GCM;
        pr.has_key = 1;
        pr.key.data = key;
        pr.key.len = 32;
        pr.has_package_digest = 1;
        pr.package_digest.data = digest;
        pr.package_digest.len = 32;
        out.body_case = JK__ENVELOPE__BODY_PACKAGE_RELEASE;
        out.package_release = &pr;
        scorerd__reply(sc, addr, addr_len, &out);
        OPENSSL_cleanse(key, sizeof key);
        sc->stats.released++;
        JK_INFO("package.released", "site=%s package=%s", e->site_id, e->package_id);
    }
    scorerd__done(sc); /* every path: one reply, one credit, env freed */
    jk_codec_free(&env);
}

/* ---- dispatch ---- */

void scorerd__handle(scorerd_t *sc, const uint8_t *addr, size_t addr_len, const uint8_t *bytes,
                     size_t len)
{
    sc->stats.requests++;
    sc->in_flight++;
    Jk__Envelope *env = NULL;
    jk_error_t err;
    if (addr_len > 255 || jk_codec_decode(bytes, len, &sc->limits, &env, &err) != JK_OK) {
        sc->stats.malformed++;
        JK_WARN("request.malformed", "error=%s", jk_log_value(addr_len > 255 ? "address too long" : err.msg, s_logbuf));
        scorerd__done(sc);
        return;
    }
    if (jk_codec_kind_is_session_event(env->kind)) {
        s_session_event(sc, addr, addr_len, env);
        return;
    }
    switch (env->body_case) {
    case JK__ENVELOPE__BODY_RECONCILE_REQUEST:
        s_reconcile(sc, addr, addr_len, env);
        return;
    case JK__ENVELOPE__BODY_PACKAGE_REQUEST:
        s_package_request(sc, addr, addr_len, env);
        return;
    default:
        scorerd__ack(sc, addr, addr_len, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                     JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED, "not a request a scorer serves");
        scorerd__done(sc);
        jk_codec_free(&env);
        return;
    }
}
