/*
 * broker_int.h: what the broker's files share (not installed, not for
 * other daemons). Functions here are named broker__verb.
 *
 * Ownership. struct broker owns every request (broker_req_t), peer and
 * topic stream. A request is in exactly one place: the queue (owner NULL)
 * or one scorer's in-flight list (owner set); while held it is also in the
 * index keyed by (client address, message_id), so a reply finds it
 * wherever it is. Peers live in two tables (clients, scorers); a request
 * points to its scorer, never to its client (the client is only an
 * address: it may go away and come back under another routing id).
 */
#ifndef JK_BROKER_INT_H
#define JK_BROKER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "jk_codec.h"
#include "jk_net.h"

/* ---- peers ---- */

typedef struct broker_peer {
    struct broker_peer *hnext;           /* hash chain in its table */
    size_t index;                        /* position in the table's array */
    uint8_t rid[JK_NET_ROUTING_ID_MAX];  /* routing id on its ROUTER */
    size_t rid_len;
    char name[JK_NET_NAME_MAX + 1];      /* ZAP User-Id (allow-list name); "" plain */
    int64_t last_recv_ms;                /* monotonic ms of its last message */
    int64_t last_send_ms;                /* monotonic ms of our last message to it */
    int64_t interval_ms;                 /* its announced heartbeat interval */
    uint64_t msgs_in;                    /* messages received */
    uint64_t refused;                    /* envelopes or messages refused */
} broker_peer_t;

typedef struct {
    broker_peer_t **buckets; /* nbuckets chains (a power of two) */
    size_t nbuckets;
    broker_peer_t **all;     /* n peers, dense */
    size_t n, max;
} broker_ptab_t;

typedef struct {
    broker_peer_t peer;                  /* first: a client is a peer */
    char site_id[JK_CODEC_ID_MAX + 1];   /* from its heartbeats; "" when none */
} broker_client_t;

struct broker_req;

typedef struct {
    broker_peer_t peer;                  /* first: a scorer is a peer */
    uint32_t capacity;                   /* from WORKER_READY */
    uint64_t credit;                     /* requests it may still be sent */
    size_t in_flight;                    /* requests sent and not answered */
    struct broker_req *head, *tail;      /* those requests, oldest first */
    bool blocked;                        /* its high-water mark was full this round */
    uint64_t sent, answered;
} broker_scorer_t;

/* ---- requests ---- */

typedef struct broker_req {
    struct broker_req *prev, *next;      /* queue or owner's in-flight list */
    struct broker_req *hnext;            /* index chain */
    broker_scorer_t *owner;              /* NULL while queued */
    uint64_t message_id;                 /* the client's message_id */
    uint64_t seq;                        /* session events: seq; else 0 */
    int64_t enqueued_ms;                 /* monotonic ms of its arrival */
    Jk__Kind kind;
    size_t addr_len;
    uint8_t addr[JK_NET_ROUTING_ID_MAX]; /* the client's routing id */
    char session_id[JK_CODEC_ID_MAX + 1];
    char site_id[JK_CODEC_ID_MAX + 1];
    size_t env_len;
    uint8_t env[];                       /* the envelope, as received */
} broker_req_t;

typedef struct {
    broker_req_t *head, *tail;           /* waiting, front first */
    size_t len;                          /* requests waiting */
    size_t held;                         /* requests held: waiting + in flight */
    size_t held_bytes;                   /* their envelope bytes */
    broker_req_t **index;                /* nindex chains (a power of two) */
    size_t nindex;
} broker_queue_t;

/* ---- topic streams ---- */

typedef struct broker_topic {
    struct broker_topic *hnext;          /* hash chain */
    struct broker_topic *lru_prev, *lru_next; /* most recent first */
    uint64_t epoch;                      /* stream_epoch of this stream */
    uint64_t seq;                        /* last stream_seq published */
    char name[JK_CODEC_TOPIC_MAX];
} broker_topic_t;

typedef struct {
    broker_topic_t **buckets;
    size_t nbuckets;
    broker_topic_t *lru_head, *lru_tail;
    size_t n, max;
    uint64_t start_epoch;                /* broker start, wall ms */
    uint64_t last_epoch;                 /* highest epoch handed out */
} broker_topics_t;

/* ---- the broker ---- */

struct broker {
    broker_config_t cfg;                 /* own copy (strings owned) */
    const jk_clock_t *clock;
    void *ctx;
    jk_net_zap_t *zap;                   /* curve only */
    void *front, *back, *pub;
    jk_net_msg_t *msg;                   /* receive buffer */
    jk_codec_limits_t lim_front, lim_back;
    size_t front_frame_max, back_frame_max; /* bytes per frame accepted */
    broker_queue_t queue;
    broker_ptab_t clients, scorers;
    broker_topics_t topics;
    broker_stats_t stats;
    uint64_t next_message_id;            /* for envelopes the broker writes */
    int64_t next_tick_ms, next_metrics_ms;
    int64_t log_window_ms;               /* refusal log rate limit window */
    unsigned log_in_window;
    uint64_t log_suppressed;
};

/* How many envelopes and messages to read per socket per loop turn: keeps
 * one busy socket from starving the others and the timers. */
#define BROKER_DRAIN_MAX 1024u
/* Refusals logged per second at most; the rest are counted. */
#define BROKER_REFUSE_LOGS_PER_S 20u

/* broker.c */
int64_t broker__now_ms(const broker_t *b);
uint64_t broker__wall_ms(const broker_t *b);
/* Counts a refusal (per reason, per peer) and logs it at a rate limit. */
void broker__refuse(broker_t *b, broker_peer_t *peer, const char *link, broker_refuse_t why,
                    const char *detail);
/* The refusal reason and RejectReason for a codec error. */
broker_refuse_t broker__refuse_of(jk_err_t code);
Jk__RejectReason broker__reject_reason_of(jk_err_t code);

/* broker_peers.c */
jk_err_t broker__ptab_init(broker_ptab_t *t, size_t max);
void broker__ptab_free(broker_ptab_t *t);
broker_peer_t *broker__ptab_find(const broker_ptab_t *t, const uint8_t *rid, size_t len);
/* Adds a zeroed peer of `size` bytes (>= sizeof(broker_peer_t)); NULL when
 * the table is full or memory is out. */
broker_peer_t *broker__ptab_add(broker_ptab_t *t, const uint8_t *rid, size_t len, size_t size);
/* Removes and frees p. */
void broker__ptab_remove(broker_ptab_t *t, broker_peer_t *p);
/* The client for rid, created on first sight (NULL when the table is full). */
broker_client_t *broker__client_touch(broker_t *b, const uint8_t *rid, size_t len,
                                      const char *name);
void broker__client_drop(broker_t *b, broker_client_t *c, const char *why);
/* The client that most recently announced site_id, or NULL. */
broker_client_t *broker__client_of_site(const broker_t *b, const char *site_id);
/* Removes a scorer, putting its requests back at the front of the queue. */
void broker__scorer_drop(broker_t *b, broker_scorer_t *s, const char *why);
/* Heartbeats due and peers expired. */
void broker__peers_tick(broker_t *b, int64_t now_ms);
/* DISCONNECT to every peer (on stop). */
void broker__peers_goodbye(broker_t *b);
const char *broker__peer_label(const broker_peer_t *p, char *buf, size_t size);

/* broker_queue.c */
jk_err_t broker__queue_init(broker_queue_t *q, size_t nindex);
void broker__queue_free(broker_queue_t *q);
/* A new request from a decoded envelope and its bytes; NULL when out of
 * memory. Not yet held anywhere. */
broker_req_t *broker__req_new(const uint8_t *addr, size_t addr_len, const Jk__Envelope *env,
                              const uint8_t *bytes, size_t len, int64_t now_ms);
/* The held request of (addr, message_id), or NULL. */
broker_req_t *broker__req_find(const broker_queue_t *q, const uint8_t *addr, size_t addr_len,
                               uint64_t message_id);
/* Holds r at the back of the queue (indexes it). */
void broker__queue_push(broker_queue_t *q, broker_req_t *r);
/* Takes r out of wherever it is (queue or its owner's list) and the index,
 * and frees it. */
void broker__req_release(broker_t *b, broker_req_t *r);
/* Puts every request in flight to s back at the front of the queue, oldest
 * first; returns how many. */
size_t broker__queue_requeue(broker_t *b, broker_scorer_t *s);
/* Sends waiting requests to scorers with credit, least loaded first. */
void broker__dispatch(broker_t *b);
/* Drops waiting requests older than queue.max_age. */
void broker__queue_expire(broker_t *b, int64_t now_ms);
/* In-flight requests in total. */
size_t broker__in_flight(const broker_t *b);

/* broker_front.c / broker_back.c */
void broker__front_drain(broker_t *b);
void broker__back_drain(broker_t *b);

/* broker_send.c: envelopes the broker writes. Each returns JK_OK or the
 * jk_net_send result (the caller counts). */
typedef struct {
    size_t n;
    jk_net_item_t items[JK_NET_BATCH_MAX];
    uint8_t *bufs[JK_NET_BATCH_MAX];     /* owned encodings */
} broker_outbox_t;

/* Encodes an ACK answering (message_id, seq, session) with status etc.
 * into the outbox (flushed first when full). */
void broker__ack(broker_t *b, broker_outbox_t *ob, void *sock, const uint8_t *rid,
                 size_t rid_len, jk_net_link_t link, uint64_t acked_message_id, uint64_t acked_seq,
                 const char *session_id, Jk__AckStatus status, Jk__RejectReason reason,
                 const char *reason_text, uint32_t retry_after_ms);
/* Sends what the outbox holds to rid and empties it. */
jk_err_t broker__outbox_flush(broker_t *b, broker_outbox_t *ob, void *sock, const uint8_t *rid,
                              size_t rid_len, jk_net_link_t link);
jk_err_t broker__send_heartbeat(broker_t *b, void *sock, const uint8_t *rid, size_t rid_len,
                                jk_net_link_t link, uint32_t in_flight);
jk_err_t broker__send_disconnect(broker_t *b, void *sock, const uint8_t *rid, size_t rid_len,
                                 jk_net_link_t link, const char *reason,
                                 uint32_t reconnect_after_ms);
/* Reads message_id, kind and seq from the top level of envelope bytes that
 * did not decode (a shallow, bounded walk; nothing allocated). Returns
 * whether a message_id was found. */
bool broker__peek(const uint8_t *buf, size_t len, uint64_t *message_id, uint32_t *kind,
                  uint64_t *seq);

/* broker_pub.c */
jk_err_t broker__topics_init(broker_topics_t *t, size_t max, uint64_t start_epoch);
void broker__topics_free(broker_topics_t *t);
/* Publishes the MONITOR_EVENT(s) of an applied session event. */
void broker__publish_event(broker_t *b, const uint8_t *env, size_t len);
/* Publishes a scorer's RESULT envelope (bytes unchanged). */
void broker__publish_result(broker_t *b, const Jk__Envelope *env, const uint8_t *bytes,
                            size_t len);
/* Reads subscription messages from the XPUB. */
void broker__pub_drain(broker_t *b);

/* The Caliper mapping of docs/protocol.md §14.3, as data. */
typedef struct {
    Jk__CaliperType type;
    Jk__CaliperAction action;
    Jk__ActorRole role;
    const char *actor_id;                /* borrowed from the source */
    Jk__ObjectType object_type;
    const char *object_id;               /* borrowed from the source */
    uint64_t extension_ms;               /* EXTENDED only */
} broker_monitor_t;

/* Maps a decoded session event to its monitor events (an Answer with
 * change_counter 1 gives two: STARTED, then COMPLETED or SKIPPED).
 * Returns how many (0: no mapping, e.g. ProctorAction FORCE_SUBMIT). */
size_t broker__monitor_map(const Jk__Envelope *src, broker_monitor_t out[2]);

#endif
