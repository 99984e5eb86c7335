/*
 * examd: the exam node of one test site (考点).
 *
 * It holds the site's sealed paper package and opens it only when the
 * release key arrives (from the center through the broker, or typed in by the
 * chief proctor on the staff endpoint); logs candidates in and serves their
 * papers (never a key); keeps every session's state and clock; writes every
 * session event to its write-ahead log before it acknowledges anything;
 * streams the events to the center and resends until the center
 * acknowledges; and reconciles each finished session with the center before
 * it lets the session's log go.
 *
 * Files: examd.c (object, sockets, loop), session.c (sessions, clock, the one
 * place events are made and applied), center.c (outbox, broker link,
 * reconciliation), candidate.c (candidate endpoint), staff.c (staff
 * endpoint), config.c (settings), main.c (thin).
 *
 * Invariants:
 *  - a session event is applied to a session only through examd__apply(),
 *    both live and when replaying the log, so a restarted examd rebuilds
 *    exactly the state it had;
 *  - nothing is acknowledged to a candidate or a proctor before the WAL
 *    record of its event is durable (replies wait for the commit of the
 *    loop iteration);
 *  - an event leaves the outbox only on the center's ACK (APPLIED or
 *    DUPLICATE) or REJECTED; a session's log records are released only after
 *    the center's RECONCILE_REPLY OK.
 */
#ifndef EXAMD_H
#define EXAMD_H

#include <stdbool.h>
#include <stdint.h>

#include "jk_clock.h"
#include "jk_codec.h"
#include "jk_err.h"
#include "jk_sitting.h"
#include "jk_strmap.h"
#include "jk_wal.h"

/* Messages handled per socket per loop iteration. Every iteration ends
 * with one group commit and then the replies, so the candidate budget is
 * a trade: larger batches share an fdatasync, smaller ones answer sooner
 * (a reply waits for its whole batch). */
#define EXAMD_CANDIDATE_BUDGET 256
#define EXAMD_CENTER_BUDGET 64     /* messages of up to 256 acknowledgements */
#define EXAMD_LOGIN_THREADS_MAX 16

/* ---- configuration ---- */

typedef struct {
    char *node_id;             /* this examd's id on the wire */
    char *package;             /* sealed site package (.jkpkg) */
    char *center_key;          /* the center's signing public key (PEM) */
    char *release_key;         /* optional: the release key, hex */
    char *wal_dir;
    char *candidate_endpoint;  /* bind: candidate workstations / load generator */
    char *staff_endpoint;      /* bind: proctor and examiner consoles (loopback/ipc) */
    char *broker_endpoint;     /* connect: the broker's frontend */
    int security;              /* 0 = curve, 1 = plain (loopback only) */
    char *broker_public;       /* broker's CURVE public key file */
    char *curve_public;        /* this node's CURVE key files */
    char *curve_secret;
    int64_t heartbeat_ms;
    int64_t resend_ms;         /* resend an unacknowledged event after this */
    int64_t window;            /* events in flight to the center at most */
    int64_t batch;             /* events per message to the broker at most */
    int64_t reconcile_delay_ms;/* wait after a session ends before reconciling */
    int64_t tick_ms;           /* WAL time tick (bounds uncredited downtime) */
    int64_t clock_scale;       /* 1 in real sittings; > 1 only for simulations */
    int64_t clock_origin_ms;   /* simulations: when scaled time began (0 = start) */
    int64_t login_attempts;    /* failed logins before a candidate is locked */
    int64_t login_threads;     /* threads checking passwords (PBKDF2) */
    int64_t login_queue;       /* logins being checked at most; beyond: "busy" */
    int64_t stats_ms;
    int log_level;
    char *log_file;
} examd_config_t;

/* Loads the configuration (defaults, --config FILE / JK_EXAMD_CONFIG,
 * JK_EXAMD_* environment, command line). Returns JK_OK, or an error naming
 * file, line and key; *help set when --help was given (usage printed). */
jk_err_t examd_config_load(examd_config_t *cfg, int argc, char **argv, bool *help,
                           jk_error_t *err);
void examd_config_release(examd_config_t *cfg);
void examd_config_reference(FILE *out);

typedef struct examd examd_t;

/* Opens the package (verifying its signature), the WAL (recovering it) and
 * the sockets. Returns NULL with *err on failure. */
examd_t *examd_new(const examd_config_t *cfg, jk_error_t *err);
/* Runs the loop until examd_stop() (from a signal handler) or a fatal
 * error (returned). */
jk_err_t examd_run(examd_t *ex, jk_error_t *err);
void examd_stop(examd_t *ex);
void examd_destroy(examd_t **ex);

/* ---- internals shared between the daemon's files ---- */

enum {
    EXAMD_WAL_EVENT = 1,      /* a session event: the signed envelope */
    EXAMD_WAL_TICK = 2,       /* examd's wall clock, ms (8 bytes, little-endian) */
    EXAMD_WAL_RECONCILED = 3, /* a session id the center confirmed */
    EXAMD_WAL_RELEASE = 4,    /* the release key (the package is open) */
};

/* One answer slot: a paper item (theory) or a task part (skills). */
typedef struct {
    uint64_t seq;            /* the Answer event that set it; 0 = none */
    bool flagged;
    uint32_t change_counter;
    uint8_t *response;       /* packed jk.Response, NULL = cleared/none */
    size_t response_len;
} ex_slot_t;

/* An event waiting for the center's acknowledgement. It is on one of two
 * queues: unsent (oldest first), or sent (by the time it is due to be sent
 * again), and on its session's list (by seq). Every step of the pump and of
 * an acknowledgement touches the heads of these lists only. */
typedef struct ex_out {
    struct ex_out *next, *prev;   /* its queue */
    struct ex_out *snext, *sprev; /* the session's outbox entries, by seq */
    struct ex_session *session;
    uint64_t seq;
    uint8_t *bytes;              /* the signed envelope as logged */
    size_t len;
    int64_t due_us;              /* monotonic; when to send it again; 0 = never sent */
    uint32_t sends;
} ex_out_t;

typedef struct {
    ex_out_t *head, *tail;
} ex_queue_t;

typedef struct ex_session {
    const jk_sitting_entry_t *entry;
    const jk_sitting_session_t *plan;
    const char *room;
    jk_session_state_t state;
    uint64_t last_seq;           /* highest seq made (0 = none) */
    /* the clock, on examd's wall clock (ms) */
    int64_t open_ms;             /* 0 = not opened */
    int64_t duration_ms;
    int64_t extension_ms;        /* granted extensions, including downtime credit */
    int64_t paused_total_ms;     /* completed pauses */
    int64_t paused_since_ms;     /* > 0 while paused */
    int64_t end_ms;              /* when it ended (submit, void) */
    /* answers */
    size_t n_slots;
    ex_slot_t *slots;
    uint16_t *slot_order;        /* theory: slots by item id, made by the first
                                    lookup (examd__slot_index); NULL = none yet */
    /* event hashes by seq (index seq-1), for digests */
    uint8_t (*hashes)[JK_CODEC_DIGEST_LEN];
    size_t cap_hashes;
    /* the session's event-signing key (derived from the site key once) */
    uint8_t key[32];
    /* the candidate's connection */
    uint8_t token[32];
    bool have_token;
    uint64_t client_seq;         /* highest request number of this login */
    char workstation[65];
    bool relocate_allowed;
    char relocate_by[65];        /* the proctor who allowed the move */
    unsigned failed_logins;
    unsigned logins_checking;    /* its password checks under way (login.c) */
    /* delivery and reconciliation */
    uint64_t first_lsn;          /* lowest WAL record still needed (0 = none) */
    uint64_t reconciled_lsn;     /* LSN of its latest RECONCILED record (0 = none) */
    ex_out_t *out_first;         /* its events in the outbox, by seq: acks */
    ex_out_t *out_last;          /* come in order, so finding one is O(1) */
    uint32_t unacked;            /* events in the outbox */
    bool reconciled;
    int64_t reconcile_at_us;     /* monotonic; 0 = not scheduled */
    uint32_t reconcile_tries;
    long next_of_candidate;      /* the candidate's next session, or -1 */
    /* examiner scores received (skills), for status */
    uint32_t examiner_scores;
} ex_session_t;

/* A reply to send once the WAL is durable up to lsn. */
typedef struct ex_pending {
    struct ex_pending *next;
    uint64_t lsn;
    int socket;                  /* 0 candidate, 1 staff */
    uint8_t route[256];          /* ROUTER identity (candidate) */
    size_t route_len;
    uint8_t *frames;             /* candidate: one envelope; staff: text */
    size_t len;
} ex_pending_t;

struct examd {
    examd_config_t cfg;
    const jk_clock_t *clock;     /* exam clock (possibly scaled) */
    jk_clock_scaled_t *scaled;
    jk_codec_limits_t limits;
    /* package */
    uint8_t *package;
    size_t package_len;
    char package_id[64];
    char package_key_id[65];     /* the center key that signed it */
    uint8_t package_digest[32];  /* SHA-256 of the package file */
    char sitting_id[65];
    char site_id[65];
    int64_t exam_start_ms;
    bool released;
    uint8_t release_key[32];
    uint64_t release_lsn;        /* LSN of the RELEASE record (0 = none) */
    jk_sitting_t *site;          /* NULL until released */
    uint8_t site_key[32];
    /* sessions */
    ex_session_t *sessions;
    size_t n_sessions;
    jk_strmap_t *by_sid;         /* session id -> index */
    jk_strmap_t *by_admission;   /* admission number -> first session index */
    /* WAL */
    jk_wal_t *wal;
    uint64_t durable_lsn;
    int64_t last_tick_wall_ms;   /* from the log at start, then live */
    int64_t next_tick_us;
    ex_pending_t *pending_head, *pending_tail;
    /* outbox */
    ex_queue_t unsent, sent;
    size_t out_count, in_flight; /* in_flight: on the sent queue */
    int64_t reconcile_due_us;    /* monotonic; earliest reconcile_at_us, 0 = none */
    /* sockets */
    void *zctx;
    void *candidates;            /* ROUTER */
    void *staff;                 /* ROUTER */
    void *broker;                /* DEALER */
    int64_t broker_seen_us;      /* last message from the broker */
    int64_t heartbeat_due_us;
    bool broker_alive;
    uint64_t msg_prefix, msg_counter;
    /* password checks (login.c) */
    struct ex_logins *logins;
    /* run */
    volatile int stop;
    /* An event reached the WAL but could not be applied: the record must
     * never be committed (replay would fail on it, or a later event would
     * reuse its seq), so nothing is accepted any more and examd_run returns
     * before the next commit. broken_why says which event. */
    bool broken;
    char broken_why[256];
    int64_t stats_due_us;
    struct {
        uint64_t logins, login_failures, answers, rejected, events, acks, resends, dup_acks,
            center_rejects, retry_later, bad_frames, reconciled, mismatches, time_ups, commits,
            staff_commands, forged, replayed, late,
            replies_dropped,     /* replies not sent: high-water mark (client not reading) */
            broker_send_failed;  /* batches to the broker not sent (sent again later) */
    } stats;
};

/* session.c */
jk_err_t examd__sessions_build(examd_t *ex, jk_error_t *err);
void examd__sessions_free(examd_t *ex);
ex_session_t *examd__session(examd_t *ex, const char *session_id);
int64_t examd__remaining_ms(const examd_t *ex, const ex_session_t *s, int64_t now_ms);
/* Makes a session event: checks the state machine, assigns seq, signs,
 * appends to the WAL, applies it, queues it for the center. body_case is
 * the envelope's oneof member; `fill` sets the body. Returns JK_OK and the
 * record's LSN, or an error (JK_ERR_STATE for an illegal transition,
 * JK_ERR_LATE after the deadline). */
typedef void (*examd_fill_fn)(Jk__Envelope *env, void *ud);
jk_err_t examd__emit(examd_t *ex, ex_session_t *s, Jk__Kind kind, examd_fill_fn fill, void *ud,
                     uint64_t *lsn, jk_error_t *err);
/* Applies a decoded session event to its session (live and replay). */
jk_err_t examd__apply(examd_t *ex, ex_session_t *s, const Jk__Envelope *env, const uint8_t *bytes,
                      size_t len, uint64_t lsn, bool replay, jk_error_t *err);
/* Submits a session (candidate, proctor force) with the count and digest
 * of the events before the Submit. */
jk_err_t examd__submit(examd_t *ex, ex_session_t *s, Jk__SubmitReason reason, const char *proctor,
                       const char *why, uint64_t *lsn, jk_error_t *err);
/* Submits sessions whose time is up; credits downtime after a restart. */
void examd__check_deadlines(examd_t *ex);
void examd__credit_downtime(examd_t *ex, int64_t lost_ms);
/* The slot of an item id ("T-X" or "S-X:p1"), or -1. A theory paper is
 * searched by bisection in the session's slot_order (made on first use). */
long examd__slot_index(const examd_t *ex, ex_session_t *s, const char *item_id);
jk_err_t examd__session_digest(const ex_session_t *s, uint8_t out[JK_CODEC_DIGEST_LEN]);

/* login.c: password checks on worker threads */
typedef struct ex_logins ex_logins_t;
jk_err_t examd__logins_start(examd_t *ex, jk_error_t *err);
void examd__logins_stop(examd_t *ex);  /* joins the threads; drops unfinished logins */
int examd__logins_fd(const examd_t *ex);  /* readable when checks are done */
/* Queues the check of req's credential; on true the job owns req. False
 * when login.queue checks are under way (the caller keeps req). */
bool examd__login_submit(examd_t *ex, const uint8_t *route, size_t rl, Jk__Envelope *req,
                         long session, const jk_sitting_credential_t *cred);
size_t examd__logins_pending(const examd_t *ex);
void examd__logins_drain(examd_t *ex); /* finishes the checked logins */
/* candidate.c: completes a login whose password check is done. */
void examd__login_finish(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req,
                         long session, bool password_ok);

/* center.c */
jk_err_t examd__center_connect(examd_t *ex, jk_error_t *err);
/* Queues a logged event for the center; false when that seq is already
 * queued (or memory ran out: logged, and the event stays in the WAL). */
bool examd__outbox_add(examd_t *ex, ex_session_t *s, uint64_t seq, const uint8_t *bytes,
                       size_t len);
/* The same, taking bytes (malloc'd; freed when not queued): for the event
 * just made, whose encoding examd owns (replay's bytes are borrowed). */
bool examd__outbox_add_take(examd_t *ex, ex_session_t *s, uint64_t seq, uint8_t *bytes,
                            size_t len);
/* Sends what is due (resends: at most two batches a call); true when
 * more resends are due at once (poll without waiting). */
bool examd__center_pump(examd_t *ex);
void examd__center_recv(examd_t *ex);          /* handle what arrived */
void examd__outbox_free(examd_t *ex);
void examd__schedule_reconcile(examd_t *ex, ex_session_t *s);
/* Called after an event was acknowledged or made: schedules the session's
 * reconciliation when it has ended and the center has every event. */
void examd__maybe_reconcile(examd_t *ex, ex_session_t *s);
/* Writes a RECONCILED record for s (state, count, hashes). */
jk_err_t examd__log_reconciled(examd_t *ex, ex_session_t *s, jk_error_t *err);
/* Releases WAL segments no unreconciled session needs (re-logging what
 * must outlive them). */
void examd__compact(examd_t *ex);
uint64_t examd__message_id(examd_t *ex);
/* Opens the package with a release key (from any source); logs it. */
jk_err_t examd__release(examd_t *ex, const uint8_t key[32], bool log_it, jk_error_t *err);

/* candidate.c / staff.c */
void examd__candidate_recv(examd_t *ex);
void examd__staff_recv(examd_t *ex);
void examd__reply_when_durable(examd_t *ex, uint64_t lsn, int socket, const uint8_t *route,
                               size_t route_len, const uint8_t *data, size_t len);
/* The same, taking data (malloc'd; freed if it cannot be queued). */
void examd__reply_when_durable_take(examd_t *ex, uint64_t lsn, int socket, const uint8_t *route,
                                    size_t route_len, uint8_t *data, size_t len);
void examd__flush_replies(examd_t *ex);

/* Sends a multipart message; returns 0 or -1 (errno set); never blocks. */
int examd__send_frames(void *sock, const void *const *frames, const size_t *lens, size_t n);

#endif
