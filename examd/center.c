/*
 * examd center link: the outbox of unacknowledged events, the DEALER to the
 * broker, heartbeats, acknowledgements, reconciliation and the release of
 * the package.
 *
 * Flow control: at most cfg.window events are in flight (sent, not yet
 * acknowledged); events are sent in batches of up to cfg.batch envelopes per
 * message. An event unacknowledged after cfg.resend_ms is sent again with a
 * new message id and send time and the same content (so the same event
 * hash, which the center recognises as a duplicate). When the broker has
 * been silent for three heartbeat intervals it is taken for dead; when it
 * speaks again everything in flight is due again at once, since a restarted
 * broker lost what it held (sent two batches per loop pass, so candidates
 * are served in between).
 *
 * Reconciliation: when a session has ended (submitted, voided, absent) and
 * the center has acknowledged all its events, a RECONCILE_REQUEST with the
 * event count and digest goes out after cfg.reconcile_delay_ms (longer than
 * Redis's fsync window, so a Redis that lost its last second of writes is
 * found out). OK: the session is done and its log can go. MISMATCH or
 * UNKNOWN_SESSION: the events the center lacks are sent again from the log,
 * then we ask again. NOT_READY (a skills session waiting for examiners):
 * ask again later.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <zmq.h>

#include "examd.h"
#include "jk_log.h"
#include "jk_package.h"

#define S_BROKER_DEAD_BEATS 3         /* missed heartbeats before the broker is dead */
#define S_RECONCILE_RETRY_MS 2000     /* NOT_READY: ask again after this (doubling) */
#define S_RECONCILE_RETRY_MAX_MS 30000
#define S_SEND_RETRY_MS 100           /* a batch the broker link refused: resend after this */

static char s_logbuf[JK_LOG_VALUE_MAX];

uint64_t examd__message_id(examd_t *ex)
{
    /* A random 24-bit prefix per start, 40-bit counter: unique per node
     * across restarts without persisting a counter. */
    return ex->msg_prefix << 40 | (++ex->msg_counter & ((UINT64_C(1) << 40) - 1));
}

int examd__send_frames(void *sock, const void *const *frames, const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        if (zmq_send(sock, frames[i], lens[i], flags) < 0)
            return -1;
    }
    return 0;
}

/* ---- outbox ---- */

static void s_q_unlink(ex_queue_t *q, ex_out_t *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        q->head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        q->tail = o->prev;
    o->next = o->prev = NULL;
}

/* Inserts o in q ordered by due_us, searching from the tail: new entries
 * are usually the latest due, so this is O(1) but for RETRY_LATER. */
static void s_q_insert(ex_queue_t *q, ex_out_t *o)
{
    ex_out_t *p = q->tail;
    while (p && p->due_us > o->due_us)
        p = p->prev;
    o->prev = p;
    o->next = p ? p->next : q->head;
    if (o->next)
        o->next->prev = o;
    else
        q->tail = o;
    if (p)
        p->next = o;
    else
        q->head = o;
}

/* Queues an event; `owned` is taken (freed when not queued), else bytes
 * are copied. */
static bool s_outbox_add(examd_t *ex, ex_session_t *s, uint64_t seq, const uint8_t *bytes,
                         uint8_t *owned, size_t len)
{
    /* The session's list is by seq; a new event goes last, one resent
     * from the log may go further in. */
    ex_out_t *at = s->out_last;
    while (at && at->seq > seq)
        at = at->sprev;
    if (at && at->seq == seq) {
        free(owned);
        return false;
    }
    ex_out_t *o = calloc(1, sizeof *o);
    uint8_t *copy = owned ? owned : malloc(len ? len : 1);
    if (!o || !copy) {
        /* The event is in the log; a restart would resend it. Say so. */
        free(o);
        free(copy);
        JK_ERROR("outbox.nomem", "session=%s seq=%llu", s->entry->session_id, (unsigned long long)seq);
        return false;
    }
    if (!owned)
        memcpy(copy, bytes, len);
    o->session = s;
    o->seq = seq;
    o->bytes = copy;
    o->len = len;
    s_q_insert(&ex->unsent, o); /* due_us 0: appended */
    o->sprev = at;
    o->snext = at ? at->snext : s->out_first;
    if (o->snext)
        o->snext->sprev = o;
    else
        s->out_last = o;
    if (at)
        at->snext = o;
    else
        s->out_first = o;
    s->unacked++;
    ex->out_count++;
    return true;
}

bool examd__outbox_add(examd_t *ex, ex_session_t *s, uint64_t seq, const uint8_t *bytes, size_t len)
{
    return s_outbox_add(ex, s, seq, bytes, NULL, len);
}

bool examd__outbox_add_take(examd_t *ex, ex_session_t *s, uint64_t seq, uint8_t *bytes, size_t len)
{
    if (!bytes)
        return false;
    return s_outbox_add(ex, s, seq, bytes, bytes, len);
}

static void s_outbox_remove(examd_t *ex, ex_out_t *o)
{
    if (o->due_us) {
        s_q_unlink(&ex->sent, o);
        ex->in_flight--;
    } else {
        s_q_unlink(&ex->unsent, o);
    }
    ex_session_t *s = o->session;
    if (o->sprev)
        o->sprev->snext = o->snext;
    else
        s->out_first = o->snext;
    if (o->snext)
        o->snext->sprev = o->sprev;
    else
        s->out_last = o->sprev;
    s->unacked--;
    ex->out_count--;
    free(o->bytes);
    free(o);
}

void examd__outbox_free(examd_t *ex)
{
    ex_queue_t *qs[] = { &ex->unsent, &ex->sent };
    for (size_t i = 0; i < 2; i++) {
        ex_out_t *o = qs[i]->head;
        while (o) {
            ex_out_t *n = o->next;
            free(o->bytes);
            free(o);
            o = n;
        }
        qs[i]->head = qs[i]->tail = NULL;
    }
    for (size_t i = 0; i < ex->n_sessions; i++) {
        ex->sessions[i].out_first = ex->sessions[i].out_last = NULL;
        ex->sessions[i].unacked = 0;
    }
    ex->out_count = ex->in_flight = 0;
}

/* ---- sending ---- */

/* Re-signs a logged event with a fresh message id and send time. */
static uint8_t *s_resign(examd_t *ex, const ex_out_t *o, size_t *len)
{
    Jk__Envelope *env = NULL;
    jk_error_t err;
    if (jk_codec_decode(o->bytes, o->len, &ex->limits, &env, &err) != JK_OK) {
        JK_ERROR("outbox.decode", "session=%s seq=%llu error=%s", o->session->entry->session_id,
                 (unsigned long long)o->seq, jk_log_value(err.msg, s_logbuf));
        return NULL;
    }
    env->message_id = examd__message_id(ex);
    env->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    uint8_t *out = NULL;
    if (jk_codec_encode_signed(env, o->session->key, sizeof o->session->key, &out, len, &err) != JK_OK)
        out = NULL;
    jk_codec_free(&env);
    return out;
}

/* Sends up to cfg.batch envelopes as one message. bufs are freed by the
 * caller. Returns 0 or -1. */
static int s_send_batch(examd_t *ex, const uint8_t **bufs, const size_t *lens, size_t n)
{
    const void *frames[2 + 256];
    size_t fl[2 + 256];
    frames[0] = "";
    fl[0] = 0;
    frames[1] = "JK1C";
    fl[1] = 4;
    for (size_t i = 0; i < n; i++) {
        frames[2 + i] = bufs[i];
        fl[2 + i] = lens[i];
    }
    if (examd__send_frames(ex->broker, frames, fl, n + 2) < 0) {
        if (errno != EAGAIN)
            JK_WARN("broker.send", "error=%s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static void s_send_envelope(examd_t *ex, Jk__Envelope *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    jk_error_t err;
    if (jk_codec_encode(env, &buf, &len, &err) != JK_OK) {
        JK_ERROR("broker.encode", "kind=%s error=%s", jk_codec_kind_name(env->kind),
                 jk_log_value(err.msg, s_logbuf));
        return;
    }
    const uint8_t *b = buf;
    s_send_batch(ex, &b, &len, 1);
    free(buf);
}

static void s_header(examd_t *ex, Jk__Envelope *env, Jk__Kind kind)
{
    env->has_schema_version = 1;
    env->schema_version = JK_SCHEMA_VERSION;
    env->has_kind = 1;
    env->kind = kind;
    env->node_id = ex->cfg.node_id;
    env->has_message_id = 1;
    env->message_id = examd__message_id(ex);
    env->has_sent_time_ms = 1;
    env->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
}

static void s_heartbeat(examd_t *ex)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Heartbeat hb = JK__HEARTBEAT__INIT;
    s_header(ex, &env, JK__KIND__KIND_HEARTBEAT);
    env.site_id = ex->site_id;
    env.exam_id = ex->sitting_id;
    hb.has_interval_ms = 1;
    hb.interval_ms = (uint32_t)ex->cfg.heartbeat_ms;
    hb.has_in_flight = 1;
    hb.in_flight = (uint32_t)(ex->in_flight > 65535 ? 65535 : ex->in_flight);
    env.body_case = JK__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send_envelope(ex, &env);
}

static void s_package_request(examd_t *ex)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__PackageRequest pr = JK__PACKAGE_REQUEST__INIT;
    s_header(ex, &env, JK__KIND__KIND_PACKAGE_REQUEST);
    env.site_id = ex->site_id;
    env.exam_id = ex->sitting_id;
    pr.package_id = ex->package_id;
    env.body_case = JK__ENVELOPE__BODY_PACKAGE_REQUEST;
    env.package_request = &pr;
    s_send_envelope(ex, &env);
}

static void s_reconcile_request(examd_t *ex, ex_session_t *s)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__ReconcileRequest rr = JK__RECONCILE_REQUEST__INIT;
    uint8_t digest[JK_CODEC_DIGEST_LEN];
    s_header(ex, &env, JK__KIND__KIND_RECONCILE_REQUEST);
    env.exam_id = ex->sitting_id;
    env.site_id = ex->site_id;
    env.room_id = (char *)s->room;
    env.session_id = (char *)s->entry->session_id;
    env.candidate_id = (char *)s->entry->admission;
    examd__session_digest(s, digest);
    rr.has_event_count = 1;
    rr.event_count = s->last_seq;
    rr.has_digest = 1;
    rr.digest.data = digest;
    rr.digest.len = sizeof digest;
    env.body_case = JK__ENVELOPE__BODY_RECONCILE_REQUEST;
    env.reconcile_request = &rr;
    s_send_envelope(ex, &env);
}

/* Events gathered for one message to the broker. */
typedef struct {
    const uint8_t *bufs[256];
    size_t lens[256];
    uint8_t *owned[256];  /* re-signed copies (resends); NULL: o->bytes */
    ex_out_t *outs[256];
    size_t n;
    bool sent;            /* a message went out this pass */
    bool failed;          /* a send failed this pass: send nothing more */
} s_batch_t;

static void s_batch_add(s_batch_t *b, ex_out_t *o, const uint8_t *bytes, size_t len, uint8_t *owned)
{
    b->bufs[b->n] = bytes;
    b->lens[b->n] = len;
    b->owned[b->n] = owned;
    b->outs[b->n] = o;
    b->n++;
}

/* Sends the gathered events as one message. Only a message the socket took
 * counts: its events are sent (and resends counted). A message refused
 * (high-water mark: a backlog toward the broker) leaves its events due
 * again: new ones back at the front of the unsent queue, resends on the
 * sent queue due again after S_SEND_RETRY_MS; and the pass stops. */
static void s_flush(examd_t *ex, s_batch_t *b, int64_t now)
{
    if (b->n == 0)
        return;
    bool ok = s_send_batch(ex, b->bufs, b->lens, b->n) == 0;
    if (ok) {
        b->sent = true;
        for (size_t i = 0; i < b->n; i++) {
            b->outs[i]->sends++;
            if (b->owned[i])
                ex->stats.resends++;
        }
    } else {
        b->failed = true;
        ex->stats.broker_send_failed++;
        /* Backwards, so new events return to the unsent queue in order. */
        for (size_t i = b->n; i-- > 0;) {
            ex_out_t *o = b->outs[i];
            s_q_unlink(&ex->sent, o);
            if (b->owned[i]) {
                o->due_us = now + (int64_t)S_SEND_RETRY_MS * 1000;
                s_q_insert(&ex->sent, o);
            } else {
                ex->in_flight--;
                o->due_us = 0;
                o->prev = NULL;
                o->next = ex->unsent.head;
                if (o->next)
                    o->next->prev = o;
                else
                    ex->unsent.tail = o;
                ex->unsent.head = o;
            }
        }
    }
    for (size_t i = 0; i < b->n; i++)
        free(b->owned[i]);
    b->n = 0;
}

bool examd__center_pump(examd_t *ex)
{
    int64_t now = jk_clock_mono_us(jk_clock_system());
    /* Broker liveness. */
    int64_t dead_after = (int64_t)ex->cfg.heartbeat_ms * 1000 * S_BROKER_DEAD_BEATS;
    if (ex->broker_alive && now - ex->broker_seen_us > dead_after) {
        ex->broker_alive = false;
        JK_WARN("broker.lost", "silent_ms=%lld in_flight=%zu", (long long)((now - ex->broker_seen_us) / 1000),
                ex->in_flight);
    }
    s_batch_t b;
    b.n = 0;
    b.sent = b.failed = false;
    size_t batch = ex->cfg.batch > 256 ? 256 : (size_t)ex->cfg.batch;
    int64_t resend_us = ex->cfg.resend_ms * 1000;
    ex_out_t *o;
    /* Resends that are due (none into a dead link: everything is resent on
     * its return), then new events while the window has room. Each resend
     * is decoded and signed again, so a pass does at most two batches of
     * them: when the broker comes back with the whole window in flight the
     * loop keeps serving candidates between passes (examd_run polls without
     * waiting while resends are due). */
    size_t resign_max = 2 * batch, resigned = 0;
    while (!b.failed && ex->broker_alive && resigned < resign_max && (o = ex->sent.head) &&
           o->due_us <= now) {
        s_q_unlink(&ex->sent, o);
        o->due_us = now + resend_us;
        s_q_insert(&ex->sent, o);
        size_t len;
        uint8_t *rb = s_resign(ex, o, &len);
        resigned++;
        if (!rb)
            continue;
        s_batch_add(&b, o, rb, len, rb);
        if (b.n == batch)
            s_flush(ex, &b, now);
    }
    while (!b.failed && (o = ex->unsent.head) && ex->in_flight < (size_t)ex->cfg.window) {
        s_q_unlink(&ex->unsent, o);
        o->due_us = now + resend_us;
        s_q_insert(&ex->sent, o);
        ex->in_flight++;
        s_batch_add(&b, o, o->bytes, o->len, NULL);
        if (b.n == batch)
            s_flush(ex, &b, now);
    }
    s_flush(ex, &b, now);
    bool sent = b.sent;
    /* Reconciliations that are due: a scan of the sessions, only when the
     * earliest is due. */
    if (ex->reconcile_due_us && now >= ex->reconcile_due_us && ex->broker_alive) {
        int64_t next = 0;
        for (size_t i = 0; i < ex->n_sessions; i++) {
            ex_session_t *s = &ex->sessions[i];
            if (s->reconcile_at_us && now >= s->reconcile_at_us) {
                s_reconcile_request(ex, s);
                s->reconcile_tries++;
                int64_t back = (int64_t)S_RECONCILE_RETRY_MS << (s->reconcile_tries > 4 ? 4 : s->reconcile_tries);
                if (back > S_RECONCILE_RETRY_MAX_MS)
                    back = S_RECONCILE_RETRY_MAX_MS;
                s->reconcile_at_us = now + back * 1000; /* ask again unless answered */
                sent = true;
            }
            if (s->reconcile_at_us && (!next || s->reconcile_at_us < next))
                next = s->reconcile_at_us;
        }
        ex->reconcile_due_us = next;
    }
    if (sent)
        ex->heartbeat_due_us = now + ex->cfg.heartbeat_ms * 1000;
    if (now >= ex->heartbeat_due_us) {
        s_heartbeat(ex);
        if (!ex->released)
            s_package_request(ex);
        ex->heartbeat_due_us = now + ex->cfg.heartbeat_ms * 1000;
    }
    /* More resends due now (the cap stopped the pass)? */
    return !b.failed && ex->broker_alive && ex->sent.head && ex->sent.head->due_us <= now;
}

/* ---- reconciliation ---- */

void examd__schedule_reconcile(examd_t *ex, ex_session_t *s)
{
    s->reconcile_at_us = jk_clock_mono_us(jk_clock_system()) + ex->cfg.reconcile_delay_ms * 1000;
    s->reconcile_tries = 0;
    if (!ex->reconcile_due_us || s->reconcile_at_us < ex->reconcile_due_us)
        ex->reconcile_due_us = s->reconcile_at_us;
}

void examd__maybe_reconcile(examd_t *ex, ex_session_t *s)
{
    bool ended = s->state == JK_SESSION_SUBMITTED || s->state == JK_SESSION_SCORED ||
                 s->state == JK_SESSION_VOIDED || s->state == JK_SESSION_ABSENT;
    if (ended && s->unacked == 0 && !s->reconciled && s->reconcile_at_us == 0)
        examd__schedule_reconcile(ex, s);
}

jk_err_t examd__log_reconciled(examd_t *ex, ex_session_t *s, jk_error_t *err)
{
    size_t sl = strlen(s->entry->session_id);
    size_t len = 1 + 8 + 2 + sl + (size_t)s->last_seq * JK_CODEC_DIGEST_LEN;
    uint8_t *p = malloc(len);
    if (!p)
        return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    p[0] = (uint8_t)s->state;
    for (int i = 0; i < 8; i++)
        p[1 + i] = (uint8_t)(s->last_seq >> (8 * i));
    p[9] = (uint8_t)(sl & 0xff);
    p[10] = (uint8_t)(sl >> 8);
    memcpy(p + 11, s->entry->session_id, sl);
    if (s->last_seq)
        memcpy(p + 11 + sl, s->hashes, (size_t)s->last_seq * JK_CODEC_DIGEST_LEN);
    uint64_t lsn = 0;
    jk_err_t rc = jk_wal_append(ex->wal, EXAMD_WAL_RECONCILED, p, len, &lsn, err);
    free(p);
    if (rc == JK_OK)
        s->reconciled_lsn = lsn;
    return rc;
}

/* Sends again, from the log, the events of s whose seq is missing at the
 * center (all of them when missing is NULL). */
typedef struct {
    examd_t *ex;
    ex_session_t *s;
    const uint64_t *missing;
    size_t n_missing;
    size_t queued;
} s_resend_t;

static jk_err_t s_resend_fn(void *ud, uint64_t lsn, uint8_t type, const uint8_t *payload, size_t len)
{
    (void)lsn;
    s_resend_t *r = ud;
    if (type != EXAMD_WAL_EVENT)
        return JK_OK;
    Jk__Envelope *env = NULL;
    if (jk_codec_decode(payload, len, &r->ex->limits, &env, NULL) != JK_OK)
        return JK_OK;
    bool want = env->session_id && strcmp(env->session_id, r->s->entry->session_id) == 0;
    if (want && r->missing) {
        want = false;
        for (size_t i = 0; i < r->n_missing; i++)
            if (r->missing[i] == env->seq)
                want = true;
    }
    if (want && examd__outbox_add(r->ex, r->s, env->seq, payload, len))
        r->queued++;
    jk_codec_free(&env);
    return JK_OK;
}

static void s_resend_from_log(examd_t *ex, ex_session_t *s, const uint64_t *missing, size_t n)
{
    s_resend_t r = { ex, s, missing, n, 0 };
    jk_error_t err;
    if (jk_wal_replay(ex->wal, s_resend_fn, &r, NULL, &err) != JK_OK)
        JK_ERROR("reconcile.reread", "session=%s error=%s", s->entry->session_id,
                 jk_log_value(err.msg, s_logbuf));
    JK_WARN("reconcile.resend", "session=%s events=%zu", s->entry->session_id, r.queued);
}

static void s_on_reconcile_reply(examd_t *ex, const Jk__Envelope *env)
{
    ex_session_t *s = examd__session(ex, env->session_id);
    if (!s)
        return;
    const Jk__ReconcileReply *rr = env->reconcile_reply;
    switch (rr->status) {
    case JK__RECONCILE_STATUS__RECONCILE_STATUS_OK: {
        if (rr->center_event_count != s->last_seq)
            return; /* an answer to an older question; a newer one is coming */
        jk_error_t err;
        if (examd__log_reconciled(ex, s, &err) != JK_OK) {
            JK_ERROR("reconcile.log", "session=%s error=%s", s->entry->session_id,
                     jk_log_value(err.msg, s_logbuf));
            return;
        }
        s->reconciled = true;
        s->reconcile_at_us = 0;
        ex->stats.reconciled++;
        JK_INFO("session.reconciled", "session=%s events=%llu state=%s", s->entry->session_id,
                (unsigned long long)s->last_seq, jk_session_state_name(s->state));
        break;
    }
    case JK__RECONCILE_STATUS__RECONCILE_STATUS_MISMATCH:
    case JK__RECONCILE_STATUS__RECONCILE_STATUS_UNKNOWN_SESSION:
        ex->stats.mismatches++;
        JK_WARN("reconcile.mismatch", "session=%s ours=%llu center=%llu missing=%zu",
                s->entry->session_id, (unsigned long long)s->last_seq,
                (unsigned long long)rr->center_event_count, rr->n_missing_seq);
        s_resend_from_log(ex, s, rr->n_missing_seq ? rr->missing_seq : NULL, rr->n_missing_seq);
        s->reconcile_at_us = 0; /* rescheduled when the resent events are acknowledged */
        examd__maybe_reconcile(ex, s);
        break;
    case JK__RECONCILE_STATUS__RECONCILE_STATUS_NOT_READY:
    default:
        break; /* already rescheduled with back-off when sent */
    }
}

/* ---- the release of the package ---- */

jk_err_t examd__release(examd_t *ex, const uint8_t key[32], bool log_it, jk_error_t *err)
{
    if (ex->released)
        return JK_OK;
    jk_package_key_t *center = jk_package_key_load_public(ex->cfg.center_key, err);
    if (!center)
        return err ? err->code : JK_ERR_IO;
    uint8_t *payload = NULL;
    size_t plen = 0;
    jk_package_header_t hdr;
    jk_err_t rc = jk_package_open(ex->package, ex->package_len, center, key, &hdr, &payload, &plen, err);
    jk_package_key_destroy(&center);
    if (rc != JK_OK)
        return rc;
    ex->site = jk_sitting_parse((const char *)payload, plen, ex->cfg.package, err);
    OPENSSL_cleanse(payload, plen);
    free(payload);
    if (!ex->site)
        return err ? err->code : JK_ERR_PARSE;
    if (!jk_sitting_is_site(ex->site) || strcmp(jk_sitting_site(ex->site), ex->site_id) != 0 ||
        !jk_sitting_site_key_get(ex->site, ex->site_key)) {
        jk_sitting_destroy(&ex->site);
        return jk_error_set(err, JK_ERR_INVAL, "%s: not the site document of site %s",
                            ex->cfg.package, ex->site_id);
    }
    rc = examd__sessions_build(ex, err);
    if (rc != JK_OK)
        return rc;
    memcpy(ex->release_key, key, 32);
    ex->released = true;
    if (log_it) {
        uint64_t lsn = 0;
        rc = jk_wal_append(ex->wal, EXAMD_WAL_RELEASE, key, 32, &lsn, err);
        if (rc != JK_OK)
            return rc;
        ex->release_lsn = lsn;
    }
    JK_INFO("package.released", "site=%s sitting=%s sessions=%zu", ex->site_id, ex->sitting_id,
            ex->n_sessions);
    return JK_OK;
}

static void s_on_release(examd_t *ex, const Jk__Envelope *env)
{
    const Jk__PackageRelease *pr = env->package_release;
    if (ex->released)
        return;
    if (pr->package_id && strcmp(pr->package_id, ex->package_id) != 0) {
        JK_WARN("package.release_other", "package=%s ours=%s", jk_log_value(pr->package_id, s_logbuf),
                ex->package_id);
        return;
    }
    if (!pr->has_key || pr->key.len != 32) {
        JK_WARN("package.release_bad", "reason=key");
        return;
    }
    /* The release must be for this very file: signed by the same center
     * key, and of the same bytes. */
    if (!pr->key_id || strcmp(pr->key_id, ex->package_key_id) != 0) {
        JK_WARN("package.release_bad", "reason=key_id release=%s ours=%s",
                jk_log_value(pr->key_id, s_logbuf), ex->package_key_id);
        return;
    }
    if (!pr->has_package_digest || pr->package_digest.len != sizeof ex->package_digest ||
        CRYPTO_memcmp(pr->package_digest.data, ex->package_digest, sizeof ex->package_digest) != 0) {
        JK_WARN("package.release_bad", "reason=digest note=\"the release names another package file\"");
        return;
    }
    jk_error_t err;
    if (examd__release(ex, pr->key.data, true, &err) != JK_OK)
        JK_ERROR("package.release_failed", "error=%s", jk_log_value(err.msg, s_logbuf));
}

/* ---- receiving ---- */

static void s_on_ack(examd_t *ex, const Jk__Envelope *env)
{
    const Jk__Ack *a = env->ack;
    ex_session_t *s = env->session_id ? examd__session(ex, env->session_id) : NULL;
    if (!s || !a->has_acked_seq)
        return;
    ex_out_t *o = s->out_first;
    while (o && o->seq < a->acked_seq)
        o = o->snext;
    if (!o || o->seq != a->acked_seq) {
        ex->stats.dup_acks++;
        return;
    }
    switch (a->status) {
    case JK__ACK_STATUS__ACK_STATUS_APPLIED:
    case JK__ACK_STATUS__ACK_STATUS_DUPLICATE:
        ex->stats.acks++;
        s_outbox_remove(ex, o);
        examd__maybe_reconcile(ex, s);
        break;
    case JK__ACK_STATUS__ACK_STATUS_REJECTED:
        ex->stats.center_rejects++;
        JK_ERROR("center.rejected", "session=%s seq=%llu reason=%d text=%s", s->entry->session_id,
                 (unsigned long long)o->seq, (int)a->reason,
                 jk_log_value(a->reason_text, s_logbuf));
        s_outbox_remove(ex, o);
        examd__maybe_reconcile(ex, s);
        break;
    case JK__ACK_STATUS__ACK_STATUS_RETRY_LATER:
    default: {
        ex->stats.retry_later++;
        int64_t after = a->has_retry_after_ms ? (int64_t)a->retry_after_ms : ex->cfg.resend_ms;
        /* Due again `after` from now. */
        if (o->due_us) {
            s_q_unlink(&ex->sent, o);
            o->due_us = jk_clock_mono_us(jk_clock_system()) + after * 1000;
            s_q_insert(&ex->sent, o);
        }
        break;
    }
    }
}

void examd__center_recv(examd_t *ex)
{
    for (int budget = 0; budget < EXAMD_CENTER_BUDGET; budget++) {
        zmq_msg_t frames[2 + 256];
        size_t n = 0;
        bool bad = false;
        for (;;) {
            if (n >= sizeof frames / sizeof frames[0]) {
                /* Too many frames: drain and drop. */
                zmq_msg_t sink;
                zmq_msg_init(&sink);
                zmq_msg_recv(&sink, ex->broker, ZMQ_DONTWAIT);
                bool more = zmq_msg_more(&sink);
                zmq_msg_close(&sink);
                bad = true;
                if (!more)
                    break;
                continue;
            }
            zmq_msg_init(&frames[n]);
            if (zmq_msg_recv(&frames[n], ex->broker, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&frames[n]);
                if (n == 0)
                    return; /* nothing more to read */
                bad = true;
                break;
            }
            bool more = zmq_msg_more(&frames[n]);
            n++;
            if (!more)
                break;
        }
        ex->broker_seen_us = jk_clock_mono_us(jk_clock_system());
        if (!ex->broker_alive) {
            ex->broker_alive = true;
            /* Whatever was in flight may have died with the broker. */
            size_t again = 0;
            for (ex_out_t *o = ex->sent.head; o; o = o->next, again++)
                o->due_us = 1; /* due at once (the order stays sorted) */
            JK_INFO("broker.back", "resending=%zu", again);
        }
        if (bad || n < 3 || zmq_msg_size(&frames[0]) != 0 || zmq_msg_size(&frames[1]) != 4 ||
            memcmp(zmq_msg_data(&frames[1]), "JK1C", 4) != 0) {
            ex->stats.bad_frames++;
        } else {
            for (size_t i = 2; i < n; i++) {
                Jk__Envelope *env = NULL;
                jk_error_t err;
                if (jk_codec_decode(zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i]), &ex->limits,
                                    &env, &err) != JK_OK) {
                    ex->stats.bad_frames++;
                    JK_WARN("broker.bad_envelope", "error=%s", jk_log_value(err.msg, s_logbuf));
                    continue;
                }
                switch (env->body_case) {
                case JK__ENVELOPE__BODY_ACK:
                    if (ex->released)
                        s_on_ack(ex, env);
                    break;
                case JK__ENVELOPE__BODY_RECONCILE_REPLY:
                    if (ex->released)
                        s_on_reconcile_reply(ex, env);
                    break;
                case JK__ENVELOPE__BODY_PACKAGE_RELEASE:
                    s_on_release(ex, env);
                    break;
                default:
                    break; /* heartbeats and the rest: liveness only */
                }
                jk_codec_free(&env);
            }
        }
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&frames[i]);
    }
}

/* ---- compaction ---- */

void examd__compact(examd_t *ex)
{
    if (!ex->wal || ex->broken)
        return; /* broken: nothing may be committed */
    uint64_t low = jk_wal_next_lsn(ex->wal);
    for (size_t i = 0; i < ex->n_sessions; i++) {
        ex_session_t *s = &ex->sessions[i];
        if (!s->reconciled && s->first_lsn && s->first_lsn < low)
            low = s->first_lsn;
    }
    /* Records that must outlive the segments released: the release key and
     * every reconciled session's final record. Re-log them first. */
    jk_error_t err;
    if (ex->release_lsn && ex->release_lsn < low) {
        uint64_t lsn;
        if (jk_wal_append(ex->wal, EXAMD_WAL_RELEASE, ex->release_key, 32, &lsn, &err) != JK_OK)
            return;
        ex->release_lsn = lsn;
    }
    for (size_t i = 0; i < ex->n_sessions; i++) {
        ex_session_t *s = &ex->sessions[i];
        if (s->reconciled && s->reconciled_lsn && s->reconciled_lsn < low &&
            examd__log_reconciled(ex, s, &err) != JK_OK)
            return;
    }
    uint64_t durable;
    if (jk_wal_commit(ex->wal, &durable, &err) != JK_OK)
        return;
    ex->durable_lsn = durable;
    unsigned released = 0;
    if (jk_wal_release_before(ex->wal, low, &released, &err) == JK_OK && released)
        JK_INFO("wal.released", "segments=%u below_lsn=%llu", released, (unsigned long long)low);
}

jk_err_t examd__center_connect(examd_t *ex, jk_error_t *err)
{
    (void)err;
    RAND_bytes((unsigned char *)&ex->msg_prefix, sizeof ex->msg_prefix);
    ex->msg_prefix &= 0xFFFFFF;
    ex->broker_seen_us = jk_clock_mono_us(jk_clock_system());
    ex->broker_alive = false;
    return JK_OK;
}
