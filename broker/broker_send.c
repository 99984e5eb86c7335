/*
 * broker_send: the few envelopes the broker writes itself (ACK for a
 * refusal or a full queue, HEARTBEAT, DISCONNECT) and a shallow reader of
 * envelopes that failed to decode.
 *
 * The broker holds no HMAC key, so what it writes carries no auth tag;
 * receivers accept these kinds from the broker on the strength of the CURVE
 * link (docs/broker.md). Its message ids start at the start time in
 * microseconds and count up, so they stay unique per node_id across
 * restarts without any state on disk (a restart takes longer than the
 * ids a broker can use up in the meantime).
 *
 * ACKs for one inbound message go out together: the outbox collects up to
 * 256 encodings and sends them as one message (a batch refused as a whole
 * costs one send, not 256).
 *
 * broker__peek walks only the top level of the bytes: tags and lengths,
 * each bounded by the buffer, reading varints of at most 10 bytes. It is
 * what lets the broker answer "REJECTED, BAD_VERSION" to a message of
 * another version, whose body it must not try to understand.
 */
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "jk_log.h"
#include "jk_text.h"

/* reason_text is protocol text (UTF-8, <= 512 bytes). Error messages may
 * quote bytes from the input; keep printable ASCII only. */
static void s_text(const char *in, char *out, size_t size)
{
    size_t k = 0;
    for (; in && *in && k + 1 < size && k < JK_CODEC_SHORT_TEXT_MAX; in++) {
        unsigned char c = (unsigned char)*in;
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[k] = '\0';
}

static void s_header(broker_t *b, Jk__Envelope *e, Jk__Kind kind)
{
    e->has_schema_version = 1;
    e->schema_version = JK_SCHEMA_VERSION;
    e->has_kind = 1;
    e->kind = kind;
    e->node_id = b->cfg.node_id;
    e->has_message_id = 1;
    e->message_id = b->next_message_id++;
    e->has_sent_time_ms = 1;
    e->sent_time_ms = broker__wall_ms(b);
    e->body_case = (Jk__Envelope__BodyCase)(100 + (int)kind);
}

jk_err_t broker__outbox_flush(broker_t *b, broker_outbox_t *ob, void *sock, const uint8_t *rid,
                              size_t rid_len, jk_net_link_t link)
{
    (void)b;
    jk_err_t rc = JK_OK;
    if (ob->n) {
        jk_error_t e;
        rc = jk_net_send_batch(sock, rid, rid_len, link, ob->items, ob->n, &e);
    }
    for (size_t i = 0; i < ob->n; i++)
        free(ob->bufs[i]);
    ob->n = 0;
    return rc;
}

void broker__ack(broker_t *b, broker_outbox_t *ob, void *sock, const uint8_t *rid,
                 size_t rid_len, jk_net_link_t link, uint64_t acked_message_id, uint64_t acked_seq,
                 const char *session_id, Jk__AckStatus status, Jk__RejectReason reason,
                 const char *reason_text, uint32_t retry_after_ms)
{
    if (acked_message_id == 0)
        return;
    if (ob->n == JK_NET_BATCH_MAX)
        broker__outbox_flush(b, ob, sock, rid, rid_len, link);
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Ack ack = JK__ACK__INIT;
    char text[JK_CODEC_SHORT_TEXT_MAX + 1];
    s_header(b, &env, JK__KIND__KIND_ACK);
    if (session_id && jk_id_valid(session_id, JK_CODEC_ID_MAX))
        env.session_id = (char *)session_id;
    ack.has_acked_message_id = 1;
    ack.acked_message_id = acked_message_id;
    if (acked_seq >= 1 && acked_seq <= JK_CODEC_SEQ_MAX) {
        ack.has_acked_seq = 1;
        ack.acked_seq = acked_seq;
    }
    ack.has_status = 1;
    ack.status = status;
    if (status == JK__ACK_STATUS__ACK_STATUS_REJECTED) {
        ack.has_reason = 1;
        ack.reason = reason;
    }
    if (reason_text && *reason_text) {
        s_text(reason_text, text, sizeof text);
        ack.reason_text = text;
    }
    if (status == JK__ACK_STATUS__ACK_STATUS_RETRY_LATER && retry_after_ms) {
        ack.has_retry_after_ms = 1;
        ack.retry_after_ms = retry_after_ms;
    }
    env.ack = &ack;
    uint8_t *buf = NULL;
    size_t len = 0;
    jk_error_t e;
    if (jk_codec_encode(&env, &buf, &len, &e) != JK_OK) {
        JK_ERROR("broker.encode_failed", "kind=ack reason=\"%s\"", e.msg);
        return;
    }
    ob->bufs[ob->n] = buf;
    ob->items[ob->n] = (jk_net_item_t){ (const uint8_t *)"", 0, buf, len };
    ob->n++;
}

static jk_err_t s_send_one(broker_t *b, void *sock, const uint8_t *rid, size_t rid_len,
                           jk_net_link_t link, Jk__Envelope *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    jk_error_t e;
    if (jk_codec_encode(env, &buf, &len, &e) != JK_OK) {
        JK_ERROR("broker.encode_failed", "kind=%s reason=\"%s\"", jk_codec_kind_name(env->kind),
                 e.msg);
        return JK_ERR_INTERNAL;
    }
    jk_net_item_t it = { (const uint8_t *)"", 0, buf, len };
    jk_err_t rc = jk_net_send_batch(sock, rid, rid_len, link, &it, 1, &e);
    free(buf);
    (void)b;
    return rc;
}

jk_err_t broker__send_heartbeat(broker_t *b, void *sock, const uint8_t *rid, size_t rid_len,
                                jk_net_link_t link, uint32_t in_flight)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Heartbeat hb = JK__HEARTBEAT__INIT;
    s_header(b, &env, JK__KIND__KIND_HEARTBEAT);
    hb.has_interval_ms = 1;
    hb.interval_ms = (uint32_t)b->cfg.heartbeat_ms;
    if (link == JK_NET_LINK_WORKER) {
        hb.has_in_flight = 1;
        hb.in_flight = in_flight;
    }
    env.heartbeat = &hb;
    jk_err_t rc = s_send_one(b, sock, rid, rid_len, link, &env);
    if (rc == JK_OK)
        b->stats.heartbeats_out++;
    return rc;
}

jk_err_t broker__send_disconnect(broker_t *b, void *sock, const uint8_t *rid, size_t rid_len,
                                 jk_net_link_t link, const char *reason,
                                 uint32_t reconnect_after_ms)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Disconnect d = JK__DISCONNECT__INIT;
    char text[JK_CODEC_SHORT_TEXT_MAX + 1];
    s_header(b, &env, JK__KIND__KIND_DISCONNECT);
    if (reason && *reason) {
        s_text(reason, text, sizeof text);
        d.reason = text;
    }
    d.has_reconnect_after_ms = 1;
    d.reconnect_after_ms = reconnect_after_ms;
    env.disconnect = &d;
    return s_send_one(b, sock, rid, rid_len, link, &env);
}

/* ---- shallow reader ---- */

static bool s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t c = *(*p)++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

bool broker__peek(const uint8_t *buf, size_t len, uint64_t *message_id, uint32_t *kind,
                  uint64_t *seq)
{
    const uint8_t *p = buf, *end = buf + len;
    bool found = false;
    *message_id = 0;
    *kind = 0;
    *seq = 0;
    /* Header fields come first (numbers 1..99); stop at the body. */
    while (buf && p < end) {
        uint64_t tag, v;
        if (!s_varint(&p, end, &tag))
            break;
        uint64_t field = tag >> 3;
        unsigned wt = (unsigned)(tag & 7);
        if (field == 0 || field >= 100)
            break;
        switch (wt) {
        case 0:
            if (!s_varint(&p, end, &v))
                return found;
            if (field == 2 && v <= UINT32_MAX)
                *kind = (uint32_t)v;
            else if (field == 6 && v >= 1) {
                *message_id = v;
                found = true;
            } else if (field == 12)
                *seq = v;
            break;
        case 1:
            if ((size_t)(end - p) < 8)
                return found;
            p += 8;
            break;
        case 2:
            if (!s_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return found;
            p += v;
            break;
        case 5:
            if ((size_t)(end - p) < 4)
                return found;
            p += 4;
            break;
        default:
            return found;
        }
    }
    return found;
}
