/*
 * broker: routes requests from exam nodes (and other clients) to live
 * scorers with credit-based flow control, forwards the scorers' replies,
 * and republishes what happened for dashboards. docs/broker.md describes
 * it for operators; docs/protocol.md §2 and docs/live-exam.md §§2, 5 are
 * the contract.
 *
 * Design note. One thread, one zmq_poll loop over four sockets: the ZAP
 * handler, the backend ROUTER (scorers), the frontend ROUTER (clients) and
 * the XPUB (dashboards). The broker is stateless on purpose: everything it
 * holds (the queue, the requests in flight, the peers, the per-topic
 * stream numbers) may be lost at any moment, because clients resend every
 * request that was not answered and scorers re-announce themselves. So it
 * writes nothing to disk, and a broker killed and restarted is rejoined
 * without any recovery step.
 *
 * Everything it holds is bounded by configuration: requests waiting
 * (queue.max, and bytes held in queue.max_bytes), requests in flight per
 * scorer (its credit, at most scorers.max_credit), scorers (scorers.max),
 * clients (clients.max), topic streams (pub.max_topics, least recently used
 * evicted). A full queue answers ACK RETRY_LATER at once.
 *
 * Envelopes are decoded to be checked and routed, never changed: the bytes
 * a client sent are the bytes a scorer receives, and back, so auth tags
 * (which the broker does not check) stay valid end to end.
 *
 * Files: broker.c (object, loop, timers, metrics), broker_config.c (the
 * config table), broker_front.c (client messages), broker_back.c (scorer
 * messages), broker_queue.c (requests, queue, in-flight index, dispatch),
 * broker_peers.c (client and scorer tables, heartbeats, expiry),
 * broker_pub.c (topic streams, the Caliper mapping, publishing),
 * broker_send.c (envelopes the broker writes itself: ACK, HEARTBEAT,
 * DISCONNECT); broker_int.h holds what they share.
 */
#ifndef JK_BROKER_H
#define JK_BROKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "jk_clock.h"
#include "jk_config.h"
#include "jk_err.h"

/* Configuration (see broker_config_table() for keys, defaults, bounds). */
typedef struct {
    char *node_id;              /* node id in envelopes the broker writes */
    char *frontend;             /* endpoint list: clients connect here */
    char *backend;              /* endpoint list: scorers connect here */
    char *pub;                  /* endpoint list: dashboards subscribe here */
    int security;               /* jk_net_security_t: curve or plain */
    char *secret_key;           /* path of the broker's CURVE secret key */
    char *allow;                /* path of the CURVE allow-list */
    char *allow_backend;        /* path of the scorers' allow-list; "" = allow */
    int64_t heartbeat_ms;       /* the broker's heartbeat interval */
    int64_t liveness;           /* intervals of silence before a peer is dead */
    int64_t queue_max;          /* requests waiting for a scorer */
    int64_t queue_max_bytes;    /* envelope bytes held (waiting + in flight) */
    int64_t queue_max_age_ms;   /* a waiting request older than this is dropped; 0 never */
    int64_t retry_after_ms;     /* retry_after_ms in ACK RETRY_LATER */
    int64_t batch_max;          /* requests per message to a scorer, 1..256 */
    int64_t scorers_max;        /* scorers tracked */
    int64_t scorer_credit_max;  /* credit + in flight per scorer */
    int64_t clients_max;        /* clients tracked (heartbeats, site routing) */
    int64_t hwm;                /* ZeroMQ high-water marks, frontend and backend */
    int64_t pub_hwm;            /* ZeroMQ send high-water mark of the XPUB */
    bool pub_nodrop;            /* XPUB_NODROP: count drops (for all subscribers) */
    bool pub_results;           /* publish RESULT envelopes of scorers */
    int64_t pub_topics_max;     /* topic streams tracked (LRU beyond) */
    char *release_allow;        /* names that may send PACKAGE_RELEASE; "" = any */
    int log_level;              /* jk_log_level_t */
    char *log_file;             /* "" = stderr */
    int64_t metrics_ms;         /* broker.stats period (stats.interval); 0 = off */
} broker_config_t;

/* The config table, for jk_config_* (env prefix "JK_BROKER_"). */
const jk_cfg_opt_t *broker_config_table(void);

#define BROKER_ENV_PREFIX "JK_BROKER_"

/* Why the broker refused an inbound message (or one envelope of it). */
typedef enum {
    BROKER_REFUSE_FRAMES = 0, /* wrong frame count (incl. too many frames) */
    BROKER_REFUSE_FRAME_SIZE, /* a frame over its bound */
    BROKER_REFUSE_PROTOCOL,   /* delimiter or protocol frame wrong */
    BROKER_REFUSE_ADDRESS,    /* client address where none belongs, or missing */
    BROKER_REFUSE_TOO_BIG,    /* envelope over its size bound */
    BROKER_REFUSE_MALFORMED,  /* envelope does not parse */
    BROKER_REFUSE_VERSION,    /* unsupported schema version */
    BROKER_REFUSE_MISSING,    /* a required field is absent */
    BROKER_REFUSE_INVALID,    /* a field out of range or otherwise invalid */
    BROKER_REFUSE_KIND,       /* a kind this link does not accept */
    BROKER_REFUSE__COUNT
} broker_refuse_t;

/* Short names of the reasons, as in logs and broker.stats ("too_big"). */
const char *broker_refuse_name(broker_refuse_t r);

/* Counters since start (all monotonic, never reset). */
typedef struct {
    uint64_t requests_in;        /* requests accepted into the queue */
    uint64_t requests_out;       /* requests sent to scorers (resends included) */
    uint64_t batches_out;        /* messages carrying them */
    uint64_t replies_in;         /* replies from scorers */
    uint64_t replies_out;        /* replies delivered to clients */
    uint64_t replies_unroutable; /* client gone (EHOSTUNREACH) */
    uint64_t replies_full;       /* client's high-water mark reached (EAGAIN) */
    uint64_t replies_unmatched;  /* reply to no request held (still forwarded) */
    uint64_t retry_later;        /* ACK RETRY_LATER sent for a full queue */
    uint64_t requeued;           /* requests put back after a scorer was lost */
    uint64_t expired;            /* requests dropped for queue.max_age */
    uint64_t duplicates;         /* requests already held (same client, message id) */
    uint64_t releases;           /* PACKAGE_RELEASE routed to a site */
    uint64_t scorers_joined, scorers_lost;
    uint64_t clients_lost;       /* expired or said DISCONNECT */
    uint64_t peers_untracked;    /* messages from peers beyond the table bounds */
    uint64_t heartbeats_out;
    uint64_t pub_sent;           /* messages published */
    uint64_t pub_drops;          /* not published: XPUB full (pub.nodrop) */
    uint64_t pub_errors;         /* not published: no topic, encoding failed */
    uint64_t pub_evictions;      /* topic streams evicted (LRU) */
    uint64_t subscriptions;      /* subscribe messages seen on the XPUB */
    uint64_t refused[BROKER_REFUSE__COUNT];
} broker_stats_t;

typedef struct broker broker_t;

/* Sets up sockets, the ZAP handler (curve) and the tables. cfg is copied
 * (the caller keeps and releases its own); clock NULL = the system clock.
 * Returns the broker or NULL with err naming what failed (a key file, an
 * endpoint, ...). */
broker_t *broker_new(const broker_config_t *cfg, const jk_clock_t *clock, jk_error_t *err);

/* Runs the loop until *stop becomes non-zero (a signal handler may set it;
 * the loop notices within one heartbeat tick). On stop, says DISCONNECT to
 * every known peer. JK_OK, or an error when the sockets fail. */
jk_err_t broker_run(broker_t *b, const volatile sig_atomic_t *stop);

/* Counters; borrowed, valid while b lives. */
const broker_stats_t *broker_stats(const broker_t *b);

/* Closes everything, frees b and sets *b to NULL. Accepts NULL. */
void broker_destroy(broker_t **b);

#endif
