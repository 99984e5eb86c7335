/*
 * scorerd: a stateless scoring daemon of the center.
 *
 * It takes requests from the broker (session events, reconciliation
 * requests, package requests), applies each session event to Redis in one
 * atomic, idempotent step (the jikao Functions library), acknowledges only
 * after Redis answered, scores a session with the library's rules once it
 * is complete, stores the result and publishes it. Any number of scorers
 * may run anywhere; any may die at any time: all state is in Redis, and the
 * broker re-routes a dead scorer's requests.
 *
 * Files: scorerd.c (object, broker link, loop), handle.c (requests), score.c
 * (scoring a session from its Redis state and the center's papers),
 * config.c, main.c; redis_store.c and jikao.lua (the Redis layer).
 *
 * Trust: the broker forwards bytes unchanged; every session event is
 * verified here against its session key (derived from the center's master
 * secret), so a forged event, or one moved to another session or site, is
 * refused and counted whatever path it came by.
 */
#ifndef SCORERD_H
#define SCORERD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jk_bank.h"
#include "jk_codec.h"
#include "jk_err.h"
#include "jk_score.h"
#include "jk_sitting.h"
#include "jk_standard.h"
#include "redis_store.h"

typedef struct {
    char *node_id;
    char *broker_endpoint;      /* the broker's backend */
    int security;               /* 0 curve, 1 plain (loopback only) */
    char *broker_public;
    char *curve_public, *curve_secret;
    char *center_dir;           /* jkadmin papers build's center/ directory */
    char *bank;                 /* the bank with keys (file or directory) */
    char *redis_host;
    int64_t redis_port;
    char *redis_password;
    int64_t capacity;           /* requests in flight from the broker */
    int64_t redis_timeout_ms;
    int64_t heartbeat_ms;
    int release_mode;           /* 0 manual, 1 immediate */
    int multi_rule;             /* 0 all-or-nothing, 1 partial */
    int64_t partial_permille;
    int64_t arbitration_permille;
    int64_t stats_ms;
    int log_level;
    char *log_file;
} scorerd_config_t;

jk_err_t scorerd_config_load(scorerd_config_t *cfg, int argc, char **argv, bool *help,
                             jk_error_t *err);
void scorerd_config_release(scorerd_config_t *cfg);
void scorerd_config_reference(FILE *out);

typedef struct scorerd scorerd_t;

scorerd_t *scorerd_new(const scorerd_config_t *cfg, jk_error_t *err);
jk_err_t scorerd_run(scorerd_t *sc, jk_error_t *err);
void scorerd_stop(scorerd_t *sc);
void scorerd_destroy(scorerd_t **sc);

/* ---- internals shared between the daemon's files ---- */

/* One request in progress: where the reply goes and what was asked. */
typedef struct sc_req {
    struct sc_req *next;
    scorerd_t *sc;
    uint8_t addr[256];
    size_t addr_len;
    Jk__Envelope *env;          /* decoded; freed when done */
} sc_req_t;

struct scorerd {
    scorerd_config_t cfg;
    jk_codec_limits_t limits;
    jk_standard_t *std;
    jk_bank_t *bank;
    jk_sitting_t *center;       /* the center document: papers by session */
    uint8_t master[32];
    void *release_keys;         /* jk_package_keys_t *, or NULL */
    /* Per release_keys entry (same index): the package file's digest,
     * once it was read and verified (handle.c). */
    uint8_t (*pkg_digest)[32];
    bool *pkg_digest_ok;
    jk_score_rules_t rules;
    redis_store_t *store;
    void *zctx;
    void *broker;
    bool broker_alive;
    int64_t broker_seen_us;
    int64_t heartbeat_due_us;
    unsigned credit_owed;       /* requests finished, credit not yet returned */
    unsigned credit_queued;     /* ... in the CREDIT queued at credit_slot, unsent */
    size_t credit_slot;
    bool out_blocked;           /* the last send hit the link's high-water mark */
    unsigned in_flight;         /* requests received and not yet answered */
    /* replies waiting to be sent this iteration (or, blocked, the next) */
    size_t n_out;
    uint8_t *out_addr[256];
    size_t out_addr_len[256];
    uint8_t *out_env[256];
    size_t out_env_len[256];
    /* sessions waiting to be scored (store was full) */
    char **to_score;
    size_t n_to_score, cap_to_score;
    uint64_t msg_counter;
    volatile int stop;
    int64_t stats_due_us;
    struct {
        uint64_t requests, applied, duplicates, conflicts, forged, wrong_site, unknown_session,
            malformed, retry_later, reconciles, reconcile_ok, reconcile_mismatch, scored,
            results_existing, illegal_streams, package_requests, released, bad_frames, late,
            invalid,        /* requests the store can't map: REJECTED, never retried */
            dropped,        /* messages to the broker not sent, dropped */
            send_blocked;   /* sends refused at the high-water mark (kept, retried) */
    } stats;
};

/* handle.c */
void scorerd__handle(scorerd_t *sc, const uint8_t *addr, size_t addr_len, const uint8_t *env,
                     size_t len);
/* Queues a reply (or a control message, addr_len 0); false when it was
 * dropped (not encodable, or the queue is full while the link is blocked). */
bool scorerd__reply(scorerd_t *sc, const uint8_t *addr, size_t addr_len, Jk__Envelope *env);
void scorerd__ack(scorerd_t *sc, const uint8_t *addr, size_t addr_len, const Jk__Envelope *req,
                  Jk__AckStatus status, Jk__RejectReason reason, const char *text);
void scorerd__flush(scorerd_t *sc);
void scorerd__done(scorerd_t *sc); /* one request finished: credit back */
uint64_t scorerd__message_id(scorerd_t *sc);

/* score.c: fetches the session's state and scores it when it can. */
void scorerd__score(scorerd_t *sc, const char *session_id);
void scorerd__score_pending(scorerd_t *sc);

#endif
