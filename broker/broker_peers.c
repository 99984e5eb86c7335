/*
 * broker_peers: the client and scorer tables, heartbeats and expiry.
 *
 * A table is a chained hash on the routing id plus a dense array (for the
 * periodic scan); both are sized once from the configured bound, so a
 * flood of new peers can fill a table but never grow memory. Removal swaps
 * the last element into the hole (each peer knows its index).
 *
 * Liveness (docs/protocol.md §2.3): every message from a peer is a sign of
 * life; a peer silent for `heartbeat.liveness` of its announced intervals
 * (the broker's own interval until it announces one) is dead. A dead
 * scorer's requests go back to the front of the queue; a dead client is
 * forgotten (its site mapping with it). The broker sends HEARTBEAT to a
 * peer it has sent nothing else to for one interval. Clients learn of a
 * dead broker by missing these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "jk_log.h"
#include "jk_strmap.h"

/* Reconnect hint in the DISCONNECT sent on an orderly stop: a restarted
 * broker is usually back within a second or two. */
#define S_GOODBYE_RECONNECT_MS 1000u

static size_t s_pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n && p < ((size_t)1 << 30))
        p <<= 1;
    return p;
}

jk_err_t broker__ptab_init(broker_ptab_t *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max;
    t->nbuckets = s_pow2_at_least(max * 2);
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    t->all = calloc(max ? max : 1, sizeof *t->all);
    if (!t->buckets || !t->all) {
        broker__ptab_free(t);
        return JK_ERR_NOMEM;
    }
    return JK_OK;
}

void broker__ptab_free(broker_ptab_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->all && i < t->n; i++)
        free(t->all[i]);
    free(t->all);
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

static size_t s_bucket(const broker_ptab_t *t, const uint8_t *rid, size_t len)
{
    return (size_t)(jk_hash_bytes(rid, len) & (t->nbuckets - 1));
}

broker_peer_t *broker__ptab_find(const broker_ptab_t *t, const uint8_t *rid, size_t len)
{
    if (!t->buckets || !rid || len == 0 || len > JK_NET_ROUTING_ID_MAX)
        return NULL;
    for (broker_peer_t *p = t->buckets[s_bucket(t, rid, len)]; p; p = p->hnext)
        if (p->rid_len == len && memcmp(p->rid, rid, len) == 0)
            return p;
    return NULL;
}

broker_peer_t *broker__ptab_add(broker_ptab_t *t, const uint8_t *rid, size_t len, size_t size)
{
    if (t->n >= t->max || !rid || len == 0 || len > JK_NET_ROUTING_ID_MAX ||
        size < sizeof(broker_peer_t))
        return NULL;
    broker_peer_t *p = calloc(1, size);
    if (!p)
        return NULL;
    memcpy(p->rid, rid, len);
    p->rid_len = len;
    size_t h = s_bucket(t, rid, len);
    p->hnext = t->buckets[h];
    t->buckets[h] = p;
    p->index = t->n;
    t->all[t->n++] = p;
    return p;
}

void broker__ptab_remove(broker_ptab_t *t, broker_peer_t *p)
{
    if (!p)
        return;
    broker_peer_t **pp = &t->buckets[s_bucket(t, p->rid, p->rid_len)];
    while (*pp && *pp != p)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = p->hnext;
    size_t i = p->index;
    if (i < t->n && t->all[i] == p) {
        t->all[i] = t->all[--t->n];
        t->all[i]->index = i;
        t->all[t->n] = NULL;
    }
    free(p);
}

const char *broker__peer_label(const broker_peer_t *p, char *buf, size_t size)
{
    char rid[2 * JK_NET_ROUTING_ID_MAX + 3];
    jk_net_rid_format(p->rid, p->rid_len, rid, sizeof rid);
    snprintf(buf, size, "peer=%s rid=%.64s", p->name[0] ? p->name : "-", rid);
    return buf;
}

broker_client_t *broker__client_touch(broker_t *b, const uint8_t *rid, size_t len,
                                      const char *name)
{
    broker_client_t *c = (broker_client_t *)broker__ptab_find(&b->clients, rid, len);
    int64_t now = broker__now_ms(b);
    if (!c) {
        c = (broker_client_t *)broker__ptab_add(&b->clients, rid, len, sizeof *c);
        if (!c) {
            b->stats.peers_untracked++;
            return NULL;
        }
        snprintf(c->peer.name, sizeof c->peer.name, "%s", name ? name : "");
        c->peer.interval_ms = b->cfg.heartbeat_ms;
        /* Nothing sent yet: the first heartbeat goes out one interval from
         * now, not at once. */
        c->peer.last_send_ms = now;
        char lb[160];
        JK_DEBUG("client.new", "%s", broker__peer_label(&c->peer, lb, sizeof lb));
    }
    c->peer.last_recv_ms = now;
    c->peer.msgs_in++;
    return c;
}

void broker__client_drop(broker_t *b, broker_client_t *c, const char *why)
{
    if (!c)
        return;
    char lb[160];
    JK_INFO("client.lost", "%s site=%s reason=%s", broker__peer_label(&c->peer, lb, sizeof lb),
            c->site_id[0] ? c->site_id : "-", why);
    b->stats.clients_lost++;
    broker__ptab_remove(&b->clients, &c->peer);
}

broker_client_t *broker__client_of_site(const broker_t *b, const char *site_id)
{
    broker_client_t *best = NULL;
    if (!site_id || !*site_id)
        return NULL;
    /* Linear: only a PACKAGE_RELEASE asks, a handful per sitting. Two
     * clients may claim one site for a moment (an examd restarted under a
     * new routing id before the old one expired): the one heard from last
     * wins. */
    for (size_t i = 0; i < b->clients.n; i++) {
        broker_client_t *c = (broker_client_t *)b->clients.all[i];
        if (strcmp(c->site_id, site_id) == 0 &&
            (!best || c->peer.last_recv_ms > best->peer.last_recv_ms))
            best = c;
    }
    return best;
}

void broker__scorer_drop(broker_t *b, broker_scorer_t *s, const char *why)
{
    if (!s)
        return;
    size_t n = broker__queue_requeue(b, s);
    char lb[160];
    JK_INFO("scorer.lost", "%s reason=%s requeued=%zu", broker__peer_label(&s->peer, lb, sizeof lb),
            why, n);
    b->stats.scorers_lost++;
    broker__ptab_remove(&b->scorers, &s->peer);
}

static bool s_dead(const broker_t *b, const broker_peer_t *p, int64_t now)
{
    int64_t ivl = p->interval_ms > 0 ? p->interval_ms : b->cfg.heartbeat_ms;
    return now - p->last_recv_ms > ivl * b->cfg.liveness;
}

void broker__peers_tick(broker_t *b, int64_t now)
{
    /* Scorers: expire first (their requests go back to the queue), then
     * heartbeat the living. Iterating downwards keeps indexes valid across
     * the swap-removal. */
    for (size_t i = b->scorers.n; i-- > 0;) {
        broker_scorer_t *s = (broker_scorer_t *)b->scorers.all[i];
        if (s_dead(b, &s->peer, now)) {
            broker__scorer_drop(b, s, "silent");
            continue;
        }
        if (now - s->peer.last_send_ms >= b->cfg.heartbeat_ms) {
            jk_err_t rc = broker__send_heartbeat(b, b->back, s->peer.rid, s->peer.rid_len,
                                                 JK_NET_LINK_WORKER,
                                                 (uint32_t)(s->in_flight > 65535 ? 65535
                                                                                 : s->in_flight));
            if (rc == JK_ERR_NOTFOUND) {
                broker__scorer_drop(b, s, "unreachable");
                continue;
            }
            /* A full pipe is retried next tick; liveness decides. */
            if (rc == JK_OK)
                s->peer.last_send_ms = now;
        }
    }
    for (size_t i = b->clients.n; i-- > 0;) {
        broker_client_t *c = (broker_client_t *)b->clients.all[i];
        if (s_dead(b, &c->peer, now)) {
            broker__client_drop(b, c, "silent");
            continue;
        }
        if (now - c->peer.last_send_ms >= b->cfg.heartbeat_ms) {
            jk_err_t rc = broker__send_heartbeat(b, b->front, c->peer.rid, c->peer.rid_len,
                                                 JK_NET_LINK_CLIENT, 0);
            if (rc == JK_ERR_NOTFOUND) {
                broker__client_drop(b, c, "unreachable");
                continue;
            }
            if (rc == JK_OK)
                c->peer.last_send_ms = now;
        }
    }
}

void broker__peers_goodbye(broker_t *b)
{
    for (size_t i = 0; i < b->scorers.n; i++) {
        broker_peer_t *p = b->scorers.all[i];
        broker__send_disconnect(b, b->back, p->rid, p->rid_len, JK_NET_LINK_WORKER,
                                "broker stopping", S_GOODBYE_RECONNECT_MS);
    }
    for (size_t i = 0; i < b->clients.n; i++) {
        broker_peer_t *p = b->clients.all[i];
        broker__send_disconnect(b, b->front, p->rid, p->rid_len, JK_NET_LINK_CLIENT,
                                "broker stopping", S_GOODBYE_RECONNECT_MS);
    }
}
