/*
 * redis_store: scorerd's asynchronous connection to Redis, for its one
 * zmq_poll loop.
 *
 * Design note. scorerd is one thread with one zmq_poll loop (docs/
 * live-exam.md §1); the store lives in that loop. It owns one hiredis async
 * connection and speaks only the Functions of scorerd/jikao.lua (jk_apply,
 * jk_state, jk_result, jk_reconcile; argument layout at the top of that file
 * and in docs/live-exam.md §4). The loop asks the store which descriptor to
 * poll and for what (redis_store_fds, redis_store_poll_events), how long it
 * may sleep (redis_store_next_timeout_ms), and hands back what happened
 * (redis_store_handle). hiredis's event hooks (addRead, delRead, addWrite,
 * delWrite, cleanup) only record that interest: no other event library.
 *
 * Lifecycle, one state machine:
 *
 *   WAITING --(back-off elapsed)--> CONNECTING --(AUTH, FUNCTION LOAD
 *      ^                                |          REPLACE answered)--> READY
 *      |                                |                                 |
 *      +----- connect failed / timed out+     connection lost, request    |
 *      +------------------------------------- timed out, library missing -+
 *
 * Requests are accepted only in READY. The library is loaded on every
 * connect, so a Redis restarted from an old AOF, or flushed, gets the
 * library this scorerd was built with.
 *
 * Guarantees:
 *   - A request function that returns JK_OK calls its callback exactly once,
 *     later, from redis_store_handle() or redis_store_destroy(), never from
 *     inside the request function. One that returns an error never calls it.
 *   - Callbacks run outside hiredis (replies are parsed into our own structs
 *     first and delivered after hiredis returns), in the order the replies
 *     arrived; a callback may issue new requests, but must not destroy the
 *     store.
 *   - In flight is bounded (max_in_flight): beyond it a request is refused
 *     with JK_ERR_FULL, so the caller withholds credit from the broker.
 *   - Each request has a deadline. When the oldest outstanding request
 *     passes it, the connection is in an unknown state (a paused or wedged
 *     Redis): every outstanding request fails with JK_ERR_TIMEOUT, the
 *     connection is dropped and a new one made. The request may or may not
 *     have been applied; jk_apply is idempotent, so the sender's resend is
 *     harmless (DUPLICATE).
 *   - When the connection drops, every outstanding request fails with
 *     JK_ERR_UNAVAIL, once. The store reconnects by itself with capped
 *     exponential back-off and jitter, for as long as it lives.
 *
 * Result codes given to callbacks: JK_OK; JK_ERR_UNAVAIL (connection lost,
 * Redis LOADING/BUSY/OOM/READONLY, library missing: retry later);
 * JK_ERR_TIMEOUT; JK_ERR_INVAL / JK_ERR_TOO_BIG (the library refused an
 * argument: a bug or hostile input, never retried); JK_ERR_INTERNAL (a
 * reply of the wrong shape: library and store disagree). `errstr` then
 * says what and where.
 *
 * The process must ignore SIGPIPE (scorerd's main does): hiredis writes
 * with write(2), and a write to a Redis that just died must be an error,
 * not the death of the daemon.
 *
 * Host names are resolved by hiredis with a blocking getaddrinfo() at each
 * connect; give an IP address (the default is 127.0.0.1) to keep the loop
 * from ever blocking on DNS.
 *
 * Rejected: a synchronous connection in a thread (two threads for one
 * loop's work, and locks); hiredis's libevent adapter (a second event loop);
 * queueing requests while disconnected (the broker re-routes events to a
 * scorer that can take them; a queue here would only hide the outage from
 * it); MULTI/EXEC scripts sent as text each time (the library is loaded
 * once per connection and called by name).
 */
#ifndef REDIS_STORE_H
#define REDIS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_clock.h"
#include "jk_codec.h"
#include "jk_err.h"
#include "jk_session_fsm.h"

typedef struct redis_store redis_store_t;

/* Poll interest and readiness bits: the values of ZMQ_POLLIN, ZMQ_POLLOUT
 * and ZMQ_POLLERR, so they go into a zmq_pollitem_t unchanged (this header
 * does not include zmq.h; the integration test checks the equality). */
#define REDIS_STORE_POLLIN 1
#define REDIS_STORE_POLLOUT 2
#define REDIS_STORE_POLLERR 4
/* Descriptors redis_store_fds() may return (one connection today). */
#define REDIS_STORE_FDS_MAX 1

/* Defaults and bounds of the configuration. */
#define REDIS_STORE_PORT_DEFAULT 6379
#define REDIS_STORE_MAX_IN_FLIGHT_DEFAULT 1024u
#define REDIS_STORE_MAX_IN_FLIGHT_MAX 65535u   /* as the protocol's credit */
/* A request that takes longer than this means a wedged Redis, not a slow
 * one (a jk_apply is microseconds; the AOF fsync is in the background). */
#define REDIS_STORE_REQUEST_TIMEOUT_MS_DEFAULT 5000u
/* TCP connect + AUTH + FUNCTION LOAD. */
#define REDIS_STORE_CONNECT_TIMEOUT_MS_DEFAULT 3000u
/* Reconnect back-off: the n-th consecutive failure waits
 * min(MAX, MIN * 2^n) ms, of which a random part (half) is jitter. MIN is
 * short because a Redis restart is usually quick; MAX is a few seconds so a
 * Redis that is down for minutes is not hammered by every scorer, and is
 * still found soon after it is back; the jitter spreads the reconnects of
 * many scorers after a Redis restart so they do not arrive together. */
#define REDIS_STORE_RECONNECT_MIN_MS_DEFAULT 50u
#define REDIS_STORE_RECONNECT_MAX_MS_DEFAULT 5000u
/* Largest library file read when library_path is set. */
#define REDIS_STORE_LIBRARY_MAX_BYTES (1u << 20)
/* Latency histogram: bucket i counts replies that took < 2^i us (bucket 0:
 * < 1 us); the last bucket also takes everything slower. */
#define REDIS_STORE_LATENCY_BUCKETS 32
/* Largest result blob (a packed jk.ExamResult) and answer response. */
#define REDIS_STORE_BLOB_MAX_BYTES 65536u

typedef struct {
    const char *host;             /* NULL: "127.0.0.1" */
    int port;                     /* 1..65535 */
    const char *password;         /* NULL or "": no AUTH */
    unsigned max_in_flight;       /* 1..REDIS_STORE_MAX_IN_FLIGHT_MAX; 0: default */
    unsigned request_timeout_ms;  /* 0: default */
    unsigned connect_timeout_ms;  /* 0: default */
    unsigned reconnect_min_ms;    /* 0: default */
    unsigned reconnect_max_ms;    /* 0: default; >= reconnect_min_ms */
    const char *library_path;     /* NULL: the library embedded at build time */
    const jk_clock_t *clock;      /* NULL: the system clock (monotonic time) */
    uint64_t jitter_seed;         /* 0: from the clock and the pid */
} redis_store_config_t;

/* Fills *cfg with the defaults (host 127.0.0.1, port 6379, ...). */
void redis_store_config_default(redis_store_config_t *cfg);

/* Whether this build embeds scorerd/jikao.lua (see scorerd/CMakeLists.txt).
 * Without it library_path must be set. */
bool redis_store_library_embedded(void);

/* Creates a store and starts its first connection attempt (non-blocking).
 * cfg is copied. Returns the store, or NULL with err set: JK_ERR_CONFIG for
 * a bad setting or no library, JK_ERR_IO if library_path can't be read,
 * JK_ERR_NOMEM. */
redis_store_t *redis_store_new(const redis_store_config_t *cfg, jk_error_t *err);

/* Closes the connection; every outstanding callback is called with
 * JK_ERR_UNAVAIL first (they must not use the store). Frees the store and
 * sets *ps to NULL. Accepts NULL and a pointer to NULL. */
void redis_store_destroy(redis_store_t **ps);

/* ---- the poll loop ------------------------------------------------------ */

/* Writes the descriptors to poll into fds (room for REDIS_STORE_FDS_MAX) and
 * returns how many: 1 while a connection exists, 0 between connections. */
size_t redis_store_fds(const redis_store_t *s, int fds[REDIS_STORE_FDS_MAX]);

/* The events to poll the descriptor for: REDIS_STORE_POLLIN and/or
 * REDIS_STORE_POLLOUT; 0 when there is nothing to poll. */
short redis_store_poll_events(const redis_store_t *s);

/* Milliseconds until the store needs redis_store_handle() even without I/O
 * (a deadline or the next reconnect); -1 if it has no timer. Use it to
 * bound the zmq_poll timeout. */
long redis_store_next_timeout_ms(const redis_store_t *s);

/* Call after every poll, with the descriptor's revents (0 if it was not
 * ready or there was none). Does the I/O, checks deadlines, reconnects when
 * due, and calls the callbacks of completed requests. */
void redis_store_handle(redis_store_t *s, short revents);

/* ---- state ---------------------------------------------------------------- */

/* True when requests are accepted (connected, library loaded). */
bool redis_store_ready(const redis_store_t *s);

/* How many more requests would be accepted now: max_in_flight minus those
 * outstanding when ready, 0 otherwise. For the credit given to the broker. */
unsigned redis_store_capacity(const redis_store_t *s);

/* Why the last connection failed or was dropped ("" if none yet). Borrowed;
 * valid until the next call into the store. */
const char *redis_store_errstr(const redis_store_t *s);

typedef struct {
    uint64_t requests;          /* accepted (a callback will come) */
    uint64_t ok;                /* completed with JK_OK */
    uint64_t errors[JK_ERR__COUNT]; /* completed with an error, by code */
    uint64_t refused_full;      /* refused: in-flight bound reached */
    uint64_t refused_unavail;   /* refused: not ready */
    uint64_t refused_inval;     /* refused: bad arguments */
    uint64_t connects;          /* connections that became ready */
    uint64_t reconnects;        /* ... of them, after the first */
    uint64_t connect_failures;  /* attempts that never became ready */
    uint64_t disconnects;       /* ready connections lost */
    uint64_t timeouts;          /* connections dropped for a request deadline */
    unsigned in_flight;         /* outstanding now */
    unsigned max_in_flight;
    bool ready;
    uint64_t latency_hist[REDIS_STORE_LATENCY_BUCKETS]; /* see the constant */
    uint64_t latency_p50_us;    /* upper bound of the bucket holding the median */
    uint64_t latency_p99_us;    /* ... the 99th percentile; 0 with no replies */
} redis_store_stats_t;

void redis_store_get_stats(const redis_store_t *s, redis_store_stats_t *out);

/* ---- jk_apply ------------------------------------------------------------- */

typedef enum {
    REDIS_STORE_APPLIED = 1,      /* first time: effect recorded */
    REDIS_STORE_DUPLICATE = 2,    /* same seq, same hash: nothing changed */
    REDIS_STORE_SEQ_CONFLICT = 3, /* same seq, other hash: nothing changed */
} redis_store_outcome_t;

typedef struct {
    redis_store_outcome_t outcome;
    uint64_t applied;       /* distinct seqs stored for the session */
    uint64_t last_seq;      /* highest seq stored */
    uint64_t submit_seq;    /* seq of the Submit; 0: none yet */
    bool became_complete;   /* this call completed the session: score it */
    bool complete;          /* every seq 1..submit_seq is stored */
    bool scored;            /* a result is stored */
} redis_store_apply_reply_t;

/* reply is NULL unless rc is JK_OK; both pointers are borrowed for the call. */
typedef void (*redis_store_apply_fn)(void *ud, jk_err_t rc, const char *errstr,
                                     const redis_store_apply_reply_t *reply);

/* Applies one session event (SESSION_OPEN, SESSION_RESUME, ANSWER, SUBMIT,
 * PROCTOR_ACTION, EXAMINER_SCORE) to the session's keys with jk_apply. env
 * should have passed jk_codec_validate(); its auth tag is the caller's
 * business. The store computes the event hash (jk_codec_event_hash) and
 * maps the fields to jk_apply's arguments; env is not kept.
 * Returns JK_OK (cb will be called once), or without calling cb:
 * JK_ERR_INVAL / JK_ERR_MISSING / JK_ERR_TOO_BIG for an envelope that can't
 * be mapped (err names the field), JK_ERR_UNAVAIL when not ready,
 * JK_ERR_FULL at the in-flight bound, JK_ERR_NOMEM. */
jk_err_t redis_store_apply(redis_store_t *s, const Jk__Envelope *env, redis_store_apply_fn cb,
                           void *ud, jk_error_t *err);

/* ---- jk_state ------------------------------------------------------------- */

typedef struct {
    char item_id[JK_CODEC_ID_MAX + 1];
    uint64_t seq;             /* the Answer that set this state */
    bool flagged;
    uint32_t change_counter;
    uint8_t *response;        /* packed jk.Response; NULL when cleared */
    size_t response_len;
} redis_store_answer_t;

typedef struct {
    char task_id[JK_CODEC_ID_MAX + 1];
    char part_id[JK_CODEC_ID_MAX + 1];
    char examiner_id[JK_CODEC_ID_MAX + 1];
    bool arbitration;         /* round 1 */
    uint64_t seq;             /* the ExaminerScore that set it */
    uint32_t points_centi;
    uint32_t max_points_centi;
} redis_store_xscore_t;

/* Everything stored for one session. Fields not yet set are 0 / "". */
typedef struct {
    bool known;                          /* false: nothing stored */
    char exam_id[JK_CODEC_ID_MAX + 1];
    char site_id[JK_CODEC_ID_MAX + 1];
    char room_id[JK_CODEC_ID_MAX + 1];
    char candidate_id[JK_CODEC_ID_MAX + 1];
    /* From the SessionOpen (open_seq 0: none stored). */
    uint64_t open_seq;
    char paper_id[JK_CODEC_ID_MAX + 1];
    uint8_t paper_digest[JK_CODEC_DIGEST_LEN];
    uint32_t exam_type;                  /* jk.ExamType */
    uint32_t level;
    uint64_t duration_ms;
    uint32_t item_count;
    uint64_t open_time_ms;               /* event_time_ms of the SessionOpen */
    char workstation_id[JK_CODEC_ID_MAX + 1]; /* latest open/resume */
    uint32_t relocations;
    /* Status of the highest-seq status-setting event (0: none). */
    jk_session_state_t status;
    uint64_t status_seq;
    uint64_t applied;                    /* distinct seqs stored */
    uint64_t last_seq;
    /* From the Submit (submit_seq 0: none stored). */
    uint64_t submit_seq;
    uint32_t submit_reason;              /* jk.SubmitReason */
    uint64_t submit_time_ms;
    uint8_t submit_digest[JK_CODEC_DIGEST_LEN]; /* examd's digest of 1..submit_seq-1 */
    char submit_proctor_id[JK_CODEC_ID_MAX + 1];
    bool complete;
    /* Clock: with pause_count == resume_count the time paused is
     * resume_time_sum_ms - pause_time_sum_ms. */
    uint32_t pause_count, resume_count;
    uint64_t pause_time_sum_ms, resume_time_sum_ms;
    uint32_t ext_count;
    uint64_t ext_total_ms;
    /* Result. */
    bool scored;
    uint32_t result_status;              /* jk.ResultStatus; 0: none */
    uint8_t *result;                     /* packed jk.ExamResult */
    size_t result_len;
    /* Events 1..n_events (= last_seq), in seq order: the hash and the state
     * machine event of seq i+1 at index i; event 0 = not stored. */
    size_t n_events;
    uint8_t (*event_hash)[JK_CODEC_DIGEST_LEN];
    jk_session_event_t *event;
    /* Answers sorted by item_id; examiner scores sorted by (task, part,
     * examiner, round). */
    size_t n_answers;
    redis_store_answer_t *answers;
    size_t n_xscores;
    redis_store_xscore_t *xscores;
} redis_store_state_t;

/* Frees a state and sets *st to NULL; accepts NULL. */
void redis_store_state_free(redis_store_state_t **st);

/* *state is NULL unless rc is JK_OK. The callback may take it (set *state
 * to NULL and free it later with redis_store_state_free); otherwise the
 * store frees it when the callback returns. */
typedef void (*redis_store_state_fn)(void *ud, jk_err_t rc, const char *errstr,
                                     redis_store_state_t **state);

/* Reads everything stored for session_id (jk_state, read-only). Returns as
 * redis_store_apply (JK_ERR_INVAL for a session id that is not an id). */
jk_err_t redis_store_state(redis_store_t *s, const char *session_id, redis_store_state_fn cb,
                           void *ud, jk_error_t *err);

/* ---- jk_result ------------------------------------------------------------ */

typedef enum {
    REDIS_STORE_RESULT_STORED = 1,    /* this call stored it */
    REDIS_STORE_RESULT_EXISTS = 2,    /* a result was stored before: unchanged */
    REDIS_STORE_RESULT_NOT_READY = 3, /* session not complete / not in the
                                         status the result needs */
} redis_store_result_outcome_t;

typedef struct {
    redis_store_result_outcome_t outcome;
    uint32_t result_status;   /* jk.ResultStatus stored now; 0: none */
} redis_store_result_reply_t;

typedef void (*redis_store_result_fn)(void *ud, jk_err_t rc, const char *errstr,
                                      const redis_store_result_reply_t *reply);

/* Stores the session's result once (jk_result): result->status must be
 * SCORED (session complete), ABSENT or VOIDED (session in that status); a
 * VOIDED result may replace an earlier SCORED one, nothing else replaces a
 * stored result. The store packs result; it is not kept. Returns as
 * redis_store_apply. */
jk_err_t redis_store_result(redis_store_t *s, const char *session_id,
                            const Jk__ExamResult *result, redis_store_result_fn cb, void *ud,
                            jk_error_t *err);

/* ---- jk_reconcile --------------------------------------------------------- */

typedef struct {
    bool known;                   /* false: nothing stored for the session */
    uint64_t count;               /* the count asked about */
    uint64_t applied;             /* distinct seqs stored (may exceed count) */
    uint64_t last_seq;
    bool complete, scored;
    jk_session_state_t status;    /* 0: none */
    uint64_t missing_total;       /* seqs of 1..count not stored */
    size_t n_missing;             /* listed below, ascending, at most 1024 */
    uint64_t missing[JK_CODEC_MISSING_SEQ_MAX];
    /* The longest prefix 1..contiguous (<= count) stored without a gap, and
     * the session digest over it (jk_codec_session_digest). With nothing
     * missing, contiguous == count and digest is D(count). */
    uint64_t contiguous;
    uint8_t digest[JK_CODEC_DIGEST_LEN];
} redis_store_reconcile_t;

typedef void (*redis_store_reconcile_fn)(void *ud, jk_err_t rc, const char *errstr,
                                         const redis_store_reconcile_t *reply);

/* What the center holds of session_id's events 1..count (jk_reconcile,
 * read-only); count 1..JK_CODEC_SEQ_MAX. Returns as redis_store_apply. */
jk_err_t redis_store_reconcile(redis_store_t *s, const char *session_id, uint64_t count,
                               redis_store_reconcile_fn cb, void *ud, jk_error_t *err);

#endif
