/*
 * broker_queue: requests held by the broker, the queue of those waiting,
 * the index over all of them, and dispatch to scorers.
 *
 * One request is one envelope a client sent (a session event,
 * RECONCILE_REQUEST, SESSION_STATE_REQUEST or PACKAGE_REQUEST) with its
 * client's address, copied once on arrival (one malloc: header + bytes).
 * It waits in the queue (FIFO; requests of a lost scorer go back to the
 * front, oldest first, so they are not overtaken a second time), then sits
 * in its scorer's in-flight list until the reply comes. The index, keyed by
 * (address, message_id), finds it wherever it is: a reply from a scorer
 * thought dead, arriving after its requests were re-queued, still clears
 * them (and is still forwarded).
 *
 * Dispatch: while requests wait and some scorer has credit, pick the
 * scorer with credit and the fewest requests in flight (least loaded;
 * ties: more credit) and send it min(credit, batch.max, a fair share of
 * the queue) requests in one message. The fair share (queue length over
 * scorers with credit, rounded up) spreads a small burst over scorers
 * instead of piling it on one. A scorer whose pipe is full (EAGAIN) is
 * skipped for the round; one that is gone (EHOSTUNREACH) is dropped.
 *
 * Rejected: a priority queue over scorers (at most scorers.max of them,
 * scanned once per batch of up to 256 requests; the scan is cheaper than
 * keeping a heap in step with every credit change).
 */
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "jk_log.h"
#include "jk_strmap.h"

jk_err_t broker__queue_init(broker_queue_t *q, size_t nindex)
{
    memset(q, 0, sizeof *q);
    size_t n = 1024;
    while (n < nindex && n < ((size_t)1 << 22))
        n <<= 1;
    q->nindex = n;
    q->index = calloc(n, sizeof *q->index);
    return q->index ? JK_OK : JK_ERR_NOMEM;
}

void broker__queue_free(broker_queue_t *q)
{
    if (!q)
        return;
    /* Every held request is in the index: free through it. */
    for (size_t i = 0; q->index && i < q->nindex; i++) {
        broker_req_t *r = q->index[i];
        while (r) {
            broker_req_t *next = r->hnext;
            free(r);
            r = next;
        }
    }
    free(q->index);
    memset(q, 0, sizeof *q);
}

static size_t s_slot(const broker_queue_t *q, const uint8_t *addr, size_t len, uint64_t id)
{
    uint64_t h = jk_hash_bytes(addr, len) ^ (id * UINT64_C(0x9E3779B97F4A7C15));
    h ^= h >> 29;
    return (size_t)(h & (q->nindex - 1));
}

static void s_copy_id(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n > JK_CODEC_ID_MAX)
        n = 0; /* validated ids are never longer; be safe anyway */
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

broker_req_t *broker__req_new(const uint8_t *addr, size_t addr_len, const Jk__Envelope *env,
                              const uint8_t *bytes, size_t len, int64_t now_ms)
{
    if (addr_len > JK_NET_ROUTING_ID_MAX)
        return NULL;
    broker_req_t *r = malloc(sizeof *r + len);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    memcpy(r->addr, addr, addr_len);
    r->addr_len = addr_len;
    r->message_id = env->message_id;
    r->seq = env->has_seq ? env->seq : 0;
    r->kind = env->kind;
    r->enqueued_ms = now_ms;
    s_copy_id(r->session_id, env->session_id);
    s_copy_id(r->site_id, env->site_id);
    memcpy(r->env, bytes, len);
    r->env_len = len;
    return r;
}

broker_req_t *broker__req_find(const broker_queue_t *q, const uint8_t *addr, size_t addr_len,
                               uint64_t message_id)
{
    for (broker_req_t *r = q->index[s_slot(q, addr, addr_len, message_id)]; r; r = r->hnext)
        if (r->message_id == message_id && r->addr_len == addr_len &&
            memcmp(r->addr, addr, addr_len) == 0)
            return r;
    return NULL;
}

/* ---- list helpers (queue and in-flight lists share prev/next) ---- */

static void s_unlink(broker_req_t **head, broker_req_t **tail, broker_req_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        *head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        *tail = r->prev;
    r->prev = r->next = NULL;
}

static void s_append(broker_req_t **head, broker_req_t **tail, broker_req_t *r)
{
    r->next = NULL;
    r->prev = *tail;
    if (*tail)
        (*tail)->next = r;
    else
        *head = r;
    *tail = r;
}

static void s_prepend(broker_req_t **head, broker_req_t **tail, broker_req_t *r)
{
    r->prev = NULL;
    r->next = *head;
    if (*head)
        (*head)->prev = r;
    else
        *tail = r;
    *head = r;
}

void broker__queue_push(broker_queue_t *q, broker_req_t *r)
{
    size_t h = s_slot(q, r->addr, r->addr_len, r->message_id);
    r->hnext = q->index[h];
    q->index[h] = r;
    r->owner = NULL;
    s_append(&q->head, &q->tail, r);
    q->len++;
    q->held++;
    q->held_bytes += r->env_len;
}

void broker__req_release(broker_t *b, broker_req_t *r)
{
    broker_queue_t *q = &b->queue;
    if (!r)
        return;
    if (r->owner) {
        s_unlink(&r->owner->head, &r->owner->tail, r);
        r->owner->in_flight--;
    } else {
        s_unlink(&q->head, &q->tail, r);
        q->len--;
    }
    broker_req_t **pp = &q->index[s_slot(q, r->addr, r->addr_len, r->message_id)];
    while (*pp && *pp != r)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = r->hnext;
    q->held--;
    q->held_bytes -= r->env_len;
    free(r);
}

size_t broker__queue_requeue(broker_t *b, broker_scorer_t *s)
{
    broker_queue_t *q = &b->queue;
    size_t n = 0;
    /* From the newest to the oldest, each to the front: the oldest ends
     * up first. */
    while (s->tail) {
        broker_req_t *r = s->tail;
        s_unlink(&s->head, &s->tail, r);
        s->in_flight--;
        r->owner = NULL;
        s_prepend(&q->head, &q->tail, r);
        q->len++;
        n++;
    }
    b->stats.requeued += n;
    return n;
}

size_t broker__in_flight(const broker_t *b)
{
    return b->queue.held - b->queue.len;
}

void broker__queue_expire(broker_t *b, int64_t now)
{
    broker_queue_t *q = &b->queue;
    if (b->cfg.queue_max_age_ms <= 0)
        return;
    /* The queue is ordered by arrival except for re-queued requests, which
     * are older than what follows them: expiring from the front until a
     * young one is met is exact enough, and bounded per call. */
    size_t dropped = 0;
    while (q->head && now - q->head->enqueued_ms > b->cfg.queue_max_age_ms &&
           dropped < BROKER_DRAIN_MAX) {
        broker__req_release(b, q->head);
        dropped++;
    }
    if (dropped) {
        b->stats.expired += dropped;
        JK_WARN("queue.expired", "dropped=%zu max_age_ms=%lld waiting=%zu", dropped,
                (long long)b->cfg.queue_max_age_ms, q->len);
    }
}

/* The scorer to send to next: credit > 0, not blocked, fewest in flight,
 * then most credit. Also counts the scorers with credit. */
static broker_scorer_t *s_pick(broker_t *b, size_t *with_credit)
{
    broker_scorer_t *best = NULL;
    *with_credit = 0;
    for (size_t i = 0; i < b->scorers.n; i++) {
        broker_scorer_t *s = (broker_scorer_t *)b->scorers.all[i];
        if (s->credit == 0 || s->blocked)
            continue;
        (*with_credit)++;
        if (!best || s->in_flight < best->in_flight ||
            (s->in_flight == best->in_flight && s->credit > best->credit))
            best = s;
    }
    return best;
}

void broker__dispatch(broker_t *b)
{
    broker_queue_t *q = &b->queue;
    if (!q->head)
        return;
    for (size_t i = 0; i < b->scorers.n; i++)
        ((broker_scorer_t *)b->scorers.all[i])->blocked = false;
    jk_net_item_t items[JK_NET_BATCH_MAX];
    broker_req_t *batch[JK_NET_BATCH_MAX];
    while (q->head) {
        size_t with_credit = 0;
        broker_scorer_t *s = s_pick(b, &with_credit);
        if (!s)
            break;
        size_t n = (q->len + with_credit - 1) / with_credit;
        if (n > s->credit)
            n = (size_t)s->credit;
        if (n > (size_t)b->cfg.batch_max)
            n = (size_t)b->cfg.batch_max;
        if (n == 0)
            n = 1;
        size_t k = 0;
        for (broker_req_t *r = q->head; r && k < n; r = r->next, k++) {
            batch[k] = r;
            items[k] = (jk_net_item_t){ r->addr, r->addr_len, r->env, r->env_len };
        }
        jk_error_t e;
        jk_err_t rc = jk_net_send_batch(b->back, s->peer.rid, s->peer.rid_len, JK_NET_LINK_WORKER,
                                        items, k, &e);
        if (rc == JK_ERR_FULL) {
            s->blocked = true;
            continue;
        }
        if (rc != JK_OK) {
            broker__scorer_drop(b, s, rc == JK_ERR_NOTFOUND ? "unreachable" : "send-failed");
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            broker_req_t *r = batch[i];
            s_unlink(&q->head, &q->tail, r);
            q->len--;
            r->owner = s;
            s_append(&s->head, &s->tail, r);
            s->in_flight++;
        }
        s->credit -= k;
        s->sent += k;
        s->peer.last_send_ms = broker__now_ms(b);
        b->stats.requests_out += k;
        b->stats.batches_out++;
    }
}
