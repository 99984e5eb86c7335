/*
 * broker_pub: the monitoring stream (docs/protocol.md §§2.5, 14).
 *
 * What is published, on the XPUB as [topic, envelope]:
 *   - after a scorer's ACK APPLIED of a session event, the event's
 *     MONITOR_EVENT(s) (the Caliper mapping of §14.3, broker__monitor_map),
 *     built from the request the broker held; never a response, a score, a
 *     reason text or a key: the mapping copies ids and enums only;
 *   - a scorer's RESULT envelope, unchanged, on <exam>/<site>/<room>/result
 *     (pub.results; a RESULT without site and room has no topic and is
 *     counted as a publish error).
 *
 * Streams. Every full topic is a stream numbered 1, 2, 3, ... within an
 * epoch (stream_seq, stream_epoch): a subscriber that sees a jump knows it
 * lost messages. The table of streams is bounded (pub.max_topics): past
 * the bound the least recently used stream is evicted, and if that topic
 * comes back it starts again at 1 under a new, larger epoch (the start
 * time for streams created before any eviction, then max(now, last + 1)),
 * which subscribers already treat as "this stream restarted" (§14.2). So
 * eviction never produces a false "no gap". RESULT envelopes carry no
 * stream numbers (the message has no such field): gaps in results are not
 * detectable by subscribers.
 *
 * Slow subscribers: the broker never blocks (ZMQ_DONTWAIT). With
 * pub.nodrop off (the default) libzmq drops what a slow subscriber cannot
 * take, for that subscriber alone, and it sees the gap in stream_seq; the
 * broker cannot count those. With pub.nodrop on, a send that would exceed
 * any subscriber's high-water mark fails for everyone and is counted
 * (pub_drops); the stream number is used anyway, so every subscriber sees
 * that gap.
 */
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "broker_int.h"
#include "jk_log.h"
#include "jk_strmap.h"

#define S_SUB_FRAME_MAX 512u /* a subscription: 1 byte + a topic prefix */

jk_err_t broker__topics_init(broker_topics_t *t, size_t max, uint64_t start_epoch)
{
    memset(t, 0, sizeof *t);
    t->max = max;
    t->nbuckets = 1024;
    while (t->nbuckets < max && t->nbuckets < ((size_t)1 << 24))
        t->nbuckets <<= 1;
    t->start_epoch = start_epoch;
    t->last_epoch = start_epoch;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    return t->buckets ? JK_OK : JK_ERR_NOMEM;
}

void broker__topics_free(broker_topics_t *t)
{
    if (!t)
        return;
    broker_topic_t *p = t->lru_head;
    while (p) {
        broker_topic_t *n = p->lru_next;
        free(p);
        p = n;
    }
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

static size_t s_bucket(const broker_topics_t *t, const char *name)
{
    return (size_t)(jk_hash_bytes(name, strlen(name)) & (t->nbuckets - 1));
}

static void s_lru_unlink(broker_topics_t *t, broker_topic_t *p)
{
    if (p->lru_prev)
        p->lru_prev->lru_next = p->lru_next;
    else
        t->lru_head = p->lru_next;
    if (p->lru_next)
        p->lru_next->lru_prev = p->lru_prev;
    else
        t->lru_tail = p->lru_prev;
    p->lru_prev = p->lru_next = NULL;
}

static void s_lru_front(broker_topics_t *t, broker_topic_t *p)
{
    p->lru_prev = NULL;
    p->lru_next = t->lru_head;
    if (t->lru_head)
        t->lru_head->lru_prev = p;
    else
        t->lru_tail = p;
    t->lru_head = p;
}

static void s_evict(broker_t *b)
{
    broker_topics_t *t = &b->topics;
    broker_topic_t *victim = t->lru_tail;
    if (!victim)
        return;
    s_lru_unlink(t, victim);
    broker_topic_t **pp = &t->buckets[s_bucket(t, victim->name)];
    while (*pp && *pp != victim)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = victim->hnext;
    JK_DEBUG("pub.evict", "topic=%s seq=%llu", victim->name, (unsigned long long)victim->seq);
    free(victim);
    t->n--;
    b->stats.pub_evictions++;
}

/* The stream of a topic, made (and most recently used) on demand; NULL
 * when out of memory. */
static broker_topic_t *s_stream(broker_t *b, const char *name)
{
    broker_topics_t *t = &b->topics;
    size_t h = s_bucket(t, name);
    for (broker_topic_t *p = t->buckets[h]; p; p = p->hnext) {
        if (strcmp(p->name, name) == 0) {
            s_lru_unlink(t, p);
            s_lru_front(t, p);
            return p;
        }
    }
    while (t->n >= t->max)
        s_evict(b);
    broker_topic_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->name, sizeof p->name, "%s", name);
    if (b->stats.pub_evictions == 0) {
        p->epoch = t->start_epoch;
    } else {
        /* A stream that may have existed before: a new epoch, so that its
         * restart at 1 reads as a restart, not as old numbers. */
        uint64_t now = broker__wall_ms(b);
        p->epoch = now > t->last_epoch ? now : t->last_epoch + 1;
        t->last_epoch = p->epoch;
    }
    h = s_bucket(t, p->name);
    p->hnext = t->buckets[h];
    t->buckets[h] = p;
    s_lru_front(t, p);
    t->n++;
    return p;
}

static void s_send(broker_t *b, const char *topic, const uint8_t *env, size_t len)
{
    jk_net_frame_t f[2] = { { topic, strlen(topic) }, { env, len } };
    jk_error_t e;
    jk_err_t rc = jk_net_send(b->pub, f, 2, &e);
    if (rc == JK_OK) {
        b->stats.pub_sent++;
    } else if (rc == JK_ERR_FULL) {
        if (b->stats.pub_drops++ % 1000 == 0)
            JK_WARN("pub.drop", "topic=%s drops=%llu", topic,
                    (unsigned long long)b->stats.pub_drops);
    } else {
        b->stats.pub_errors++;
        JK_ERROR("pub.send_failed", "topic=%s reason=\"%s\"", topic, e.msg);
    }
}

/* ---- the Caliper mapping (docs/protocol.md §14.3) ---- */

static size_t s_one(broker_monitor_t *m, Jk__CaliperType type, Jk__CaliperAction action,
                    Jk__ActorRole role, const char *actor, Jk__ObjectType ot, const char *object)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->action = action;
    m->role = role;
    m->actor_id = actor;
    m->object_type = ot;
    m->object_id = object;
    return 1;
}

size_t broker__monitor_map(const Jk__Envelope *src, broker_monitor_t out[2])
{
    const Jk__ActorRole CAND = JK__ACTOR_ROLE__ACTOR_ROLE_CANDIDATE;
    const Jk__ActorRole PROC = JK__ACTOR_ROLE__ACTOR_ROLE_PROCTOR;
    const Jk__ObjectType ASMT = JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT;
    const Jk__CaliperType AE = JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_EVENT;
    const Jk__CaliperType PE = JK__CALIPER_TYPE__CALIPER_TYPE_PROCTOR_EVENT;
    if (!src)
        return 0;
    const char *session = src->session_id, *cand = src->candidate_id;
    switch (src->body_case) {
    case JK__ENVELOPE__BODY_SESSION_OPEN:
        return s_one(&out[0], AE, JK__CALIPER_ACTION__CALIPER_ACTION_STARTED, CAND, cand, ASMT,
                     session);
    case JK__ENVELOPE__BODY_SESSION_RESUME:
        return s_one(&out[0], JK__CALIPER_TYPE__CALIPER_TYPE_SESSION_EVENT,
                     JK__CALIPER_ACTION__CALIPER_ACTION_LOGGED_IN, CAND, cand,
                     JK__OBJECT_TYPE__OBJECT_TYPE_SESSION,
                     src->session_resume->new_workstation_id);
    case JK__ENVELOPE__BODY_ANSWER: {
        const Jk__Answer *a = src->answer;
        const Jk__CaliperType IE = JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_ITEM_EVENT;
        const Jk__ObjectType ITEM = JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT_ITEM;
        size_t n = 0;
        if (a->change_counter == 1)
            n += s_one(&out[n], IE, JK__CALIPER_ACTION__CALIPER_ACTION_STARTED, CAND, cand, ITEM,
                       a->item_id);
        n += s_one(&out[n], IE,
                   a->response ? JK__CALIPER_ACTION__CALIPER_ACTION_COMPLETED
                               : JK__CALIPER_ACTION__CALIPER_ACTION_SKIPPED,
                   CAND, cand, ITEM, a->item_id);
        return n;
    }
    case JK__ENVELOPE__BODY_SUBMIT: {
        const Jk__Submit *s = src->submit;
        const Jk__CaliperAction SUB = JK__CALIPER_ACTION__CALIPER_ACTION_SUBMITTED;
        switch (s->reason) {
        case JK__SUBMIT_REASON__SUBMIT_REASON_TIME_UP:
            return s_one(&out[0], AE, SUB, JK__ACTOR_ROLE__ACTOR_ROLE_SYSTEM, src->node_id, ASMT,
                         session);
        case JK__SUBMIT_REASON__SUBMIT_REASON_PROCTOR_FORCE:
            return s_one(&out[0], AE, SUB, PROC, s->proctor_id, ASMT, session);
        default:
            return s_one(&out[0], AE, SUB, CAND, cand, ASMT, session);
        }
    }
    case JK__ENVELOPE__BODY_PROCTOR_ACTION: {
        const Jk__ProctorAction *p = src->proctor_action;
        Jk__CaliperType type = PE;
        Jk__CaliperAction act;
        switch (p->action) {
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE:
            type = AE;
            act = JK__CALIPER_ACTION__CALIPER_ACTION_PAUSED;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_RESUME:
            type = AE;
            act = JK__CALIPER_ACTION__CALIPER_ACTION_RESUMED;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_AUTHORIZE:
            act = JK__CALIPER_ACTION__CALIPER_ACTION_AUTHORIZED;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME:
            act = JK__CALIPER_ACTION__CALIPER_ACTION_EXTENDED;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID:
            act = JK__CALIPER_ACTION__CALIPER_ACTION_VOIDED;
            break;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_MARK_ABSENT:
            act = JK__CALIPER_ACTION__CALIPER_ACTION_MARKED_ABSENT;
            break;
        default:
            return 0; /* FORCE_SUBMIT is an order, never in a stream */
        }
        s_one(&out[0], type, act, PROC, p->proctor_id, ASMT, session);
        if (act == JK__CALIPER_ACTION__CALIPER_ACTION_EXTENDED)
            out[0].extension_ms = p->extension_ms;
        return 1;
    }
    case JK__ENVELOPE__BODY_EXAMINER_SCORE:
        return s_one(&out[0], JK__CALIPER_TYPE__CALIPER_TYPE_GRADE_EVENT,
                     JK__CALIPER_ACTION__CALIPER_ACTION_GRADED,
                     JK__ACTOR_ROLE__ACTOR_ROLE_EXAMINER, src->examiner_score->examiner_id,
                     JK__OBJECT_TYPE__OBJECT_TYPE_ATTEMPT, session);
    default:
        return 0;
    }
}

/* Builds, numbers, encodes and sends one MONITOR_EVENT. */
static void s_publish_monitor(broker_t *b, const Jk__Envelope *src, const broker_monitor_t *m)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__MonitorEvent me = JK__MONITOR_EVENT__INIT;
    Jk__Actor actor = JK__ACTOR__INIT;
    Jk__CaliperObject obj = JK__CALIPER_OBJECT__INIT;
    char topic[JK_CODEC_TOPIC_MAX];
    jk_error_t e;

    env.has_schema_version = 1;
    env.schema_version = JK_SCHEMA_VERSION;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_MONITOR_EVENT;
    env.node_id = b->cfg.node_id;
    env.has_message_id = 1;
    env.message_id = b->next_message_id++;
    env.has_sent_time_ms = 1;
    env.sent_time_ms = broker__wall_ms(b);
    env.exam_id = src->exam_id;
    env.site_id = src->site_id;
    env.room_id = src->room_id;
    env.session_id = src->session_id;
    env.candidate_id = src->candidate_id;
    env.has_event_time_ms = src->has_event_time_ms;
    env.event_time_ms = src->event_time_ms;
    env.body_case = JK__ENVELOPE__BODY_MONITOR_EVENT;
    env.monitor_event = &me;
    me.has_type = 1;
    me.type = m->type;
    me.has_action = 1;
    me.action = m->action;
    actor.has_role = 1;
    actor.role = m->role;
    actor.id = (char *)m->actor_id;
    me.actor = &actor;
    obj.has_type = 1;
    obj.type = m->object_type;
    obj.id = (char *)m->object_id;
    me.object = &obj;
    me.has_event_time_ms = src->has_event_time_ms;
    me.event_time_ms = src->event_time_ms;
    me.ed_app = src->node_id;
    me.has_source_kind = 1;
    me.source_kind = src->kind;
    me.has_source_seq = src->has_seq;
    me.source_seq = src->seq;
    if (m->extension_ms) {
        me.has_extension_ms = 1;
        me.extension_ms = m->extension_ms;
    }
    if (jk_codec_topic(&env, topic, sizeof topic, &e) != JK_OK) {
        b->stats.pub_errors++;
        JK_WARN("pub.no_topic", "kind=%s reason=\"%s\"", jk_codec_kind_name(src->kind), e.msg);
        return;
    }
    broker_topic_t *st = s_stream(b, topic);
    if (!st) {
        b->stats.pub_errors++;
        JK_ERROR("broker.nomem", "what=topic-stream topic=%s", topic);
        return;
    }
    me.has_stream_epoch = 1;
    me.stream_epoch = st->epoch;
    me.has_stream_seq = 1;
    me.stream_seq = st->seq + 1;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (jk_codec_encode(&env, &buf, &len, &e) != JK_OK) {
        /* A source the codec accepted always maps to a valid event; this
         * is a bug, reported and counted, not published. */
        b->stats.pub_errors++;
        JK_ERROR("pub.encode_failed", "topic=%s reason=\"%s\"", topic, e.msg);
        return;
    }
    st->seq++;
    s_send(b, topic, buf, len);
    free(buf);
}

void broker__publish_event(broker_t *b, const uint8_t *bytes, size_t len)
{
    Jk__Envelope *src = NULL;
    jk_error_t e;
    /* The bytes passed the frontend's checks when they arrived. */
    if (jk_codec_decode(bytes, len, &b->lim_front, &src, &e) != JK_OK) {
        b->stats.pub_errors++;
        JK_ERROR("pub.decode_failed", "reason=\"%s\"", e.msg);
        return;
    }
    broker_monitor_t m[2];
    size_t n = broker__monitor_map(src, m);
    for (size_t i = 0; i < n; i++)
        s_publish_monitor(b, src, &m[i]);
    jk_codec_free(&src);
}

void broker__publish_result(broker_t *b, const Jk__Envelope *env, const uint8_t *bytes,
                            size_t len)
{
    char topic[JK_CODEC_TOPIC_MAX];
    jk_error_t e;
    if (jk_codec_topic(env, topic, sizeof topic, &e) != JK_OK) {
        b->stats.pub_errors++;
        JK_WARN("pub.no_topic", "kind=result exam=%s candidate=%s reason=\"%s\"", env->exam_id,
                env->candidate_id, e.msg);
        return;
    }
    s_send(b, topic, bytes, len);
}

void broker__pub_drain(broker_t *b)
{
    /* XPUB hands subscribe (0x01 + prefix) and unsubscribe (0x00 + prefix)
     * messages to the application; they must be read or they pile up. */
    for (unsigned n = 0; n < BROKER_DRAIN_MAX; n++) {
        jk_error_t e;
        jk_err_t rc = jk_net_recv(b->pub, b->msg, S_SUB_FRAME_MAX, ZMQ_DONTWAIT, &e);
        if (rc == JK_ERR_UNAVAIL)
            return;
        if (rc != JK_OK) {
            jk_net_msg_clear(b->msg);
            if (rc == JK_ERR_IO)
                return;
            continue;
        }
        size_t len = 0;
        const uint8_t *d = jk_net_msg_data(b->msg, 0, &len);
        if (len >= 1 && (d[0] == 0 || d[0] == 1)) {
            char prefix[S_SUB_FRAME_MAX + 1], vb[JK_LOG_VALUE_MAX];
            size_t k = 0;
            for (size_t i = 1; i < len; i++)
                prefix[k++] = (d[i] >= 0x20 && d[i] < 0x7f) ? (char)d[i] : '?';
            prefix[k] = '\0';
            if (d[0] == 1)
                b->stats.subscriptions++;
            JK_INFO(d[0] == 1 ? "pub.subscribe" : "pub.unsubscribe", "prefix=%s",
                    jk_log_value(k ? prefix : "(all)", vb));
        }
        jk_net_msg_clear(b->msg);
    }
}
