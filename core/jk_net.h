/*
 * jk_net: the ZeroMQ transport adapter. CURVE keys and key files, the
 * allow-list, a ZAP handler, socket set-up with the project's security
 * rules, bounded multipart receive, checked sends and the frame layout of
 * docs/protocol.md §2 / docs/live-exam.md §2. This is the only core file
 * that includes zmq.h; it holds no domain logic (it never decodes an
 * envelope: the codec does that).
 *
 * Design note.
 *
 * Security. Every socket is made by jk_net_server() or jk_net_client() with
 * a security mode. CURVE is the default; `plain` (no encryption, no
 * authentication) is refused unless every endpoint is loopback
 * (tcp://127.0.0.1, tcp://[::1], ipc://, inproc://), so a typo in a config
 * file can never expose an unencrypted link to a network. A CURVE server
 * must be given a ZAP handler: libzmq admits *any* CURVE client when no
 * handler is bound, so jk_net_server() refuses to make a CURVE server
 * without one.
 *
 * ZAP handler. A REP socket bound to inproc://zeromq.zap.01 in the
 * caller's context, polled in the owner's loop (jk_net_zap_socket() in the
 * zmq_poll set, jk_net_zap_handle() when readable): no extra thread, no
 * locks, and the allow-list can be swapped between two calls. libzmq's I/O
 * thread does not block while a request waits, it only holds that one
 * handshake; so a loop that polls the handler at least every few hundred
 * milliseconds admits clients promptly. Rejected: a handler thread (a
 * second thread in every daemon for a lookup in a table). The handler
 * admits CURVE clients whose public key is in the allow-list and gives the
 * key's name as the connection's User-Id (every message from that peer then
 * carries it: jk_net_msg_user_id()); anything else (unknown key, another
 * mechanism, a malformed request) is refused, counted and logged with the
 * peer's address. Each server socket names a ZAP domain; each domain has
 * its own allow-list (jk_net_zap_add_domain), so a key admitted on one
 * socket is not thereby admitted on another.
 *
 * Receive. jk_net_recv() reads one whole multipart message into a
 * reusable jk_net_msg_t (frames stay zmq_msg_t: no copy) and enforces two
 * bounds: at most max_frames frames and at most max_frame_bytes per frame.
 * A message that breaks one is read to its end (so the socket stays in
 * step), released (all but a routing-id-sized first frame, so the refusal
 * can be counted per peer), and reported (JK_ERR_RANGE, JK_ERR_TOO_BIG) for
 * the caller to count. ZMQ_MAXMSGSIZE (set on every socket from the codec
 * limits + 1 KiB) already makes libzmq drop a peer that sends a larger
 * frame before anything is allocated; the per-frame check here is the
 * application's own bound, per link.
 *
 * Send. jk_net_send() sends with ZMQ_DONTWAIT and checks every frame:
 * EHOSTUNREACH (a ROUTER with ZMQ_ROUTER_MANDATORY and an unknown peer) is
 * JK_ERR_NOTFOUND and EAGAIN (a high-water mark reached) is JK_ERR_FULL.
 * Nothing is ever dropped silently and nothing blocks: the caller decides
 * (count it, retry later, tell the client).
 *
 * Heartbeats are the application's (HEARTBEAT envelopes, docs/protocol.md
 * §2.3); ZMQ_HEARTBEAT_* are never set, so that liveness means "the peer's
 * loop runs", not "its I/O thread answers pings".
 *
 * Errors use the project's jk_err_t. Mapping for sockets:
 *   JK_ERR_UNAVAIL  receive: nothing waiting (EAGAIN) or interrupted (EINTR)
 *   JK_ERR_FULL     send: high-water mark reached (EAGAIN)
 *   JK_ERR_NOTFOUND send: ROUTER peer unknown (EHOSTUNREACH)
 *   JK_ERR_RANGE    receive/parse: wrong number of frames
 *   JK_ERR_TOO_BIG  receive/parse: a frame over its bound
 *   JK_ERR_PARSE    parse: a delimiter frame that is not empty
 *   JK_ERR_VERSION  parse: an unknown protocol frame (not JK1C / JK1W)
 *   JK_ERR_CONFIG   set-up: bad endpoint, plain on a non-loopback endpoint,
 *                   missing key, CURVE server without ZAP
 *   JK_ERR_IO       any other libzmq or file failure (message has errno text)
 */
#ifndef JK_NET_H
#define JK_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_codec.h"
#include "jk_err.h"

/* ---- constants ---- */

#define JK_NET_KEY_BYTES 32u       /* a CURVE key, binary */
#define JK_NET_Z85_LEN 40u         /* a CURVE key as Z85 text, without NUL */
#define JK_NET_NAME_MAX 64u        /* allow-list names: ids (docs/protocol.md §1) */
#define JK_NET_ROUTING_ID_MAX 255u /* ZeroMQ routing ids: 1..255 bytes */
#define JK_NET_BATCH_MAX 256u      /* envelopes per multipart message */
/* Frames of the largest message: routing id + delimiter + protocol frame +
 * 256 (address, envelope) pairs. */
#define JK_NET_FRAMES_MAX (3u + 2u * JK_NET_BATCH_MAX)
#define JK_NET_FRAME_SLACK_BYTES 1024u /* ZMQ_MAXMSGSIZE = envelope bound + this */
#define JK_NET_LINGER_MS 1000          /* default ZMQ_LINGER: bounded close */
#define JK_NET_RECONNECT_IVL_MS 100    /* first reconnect after 100 ms ... */
#define JK_NET_RECONNECT_IVL_MAX_MS 5000 /* ... backing off to 5 s */
#define JK_NET_ENDPOINTS_MAX 16u       /* endpoints in one comma-separated list */
#define JK_NET_ENDPOINT_MAX 256u       /* bytes of one endpoint */
#define JK_NET_ALLOW_ENTRIES_MAX 100000u
#define JK_NET_ALLOW_FILE_MAX (8u * 1024u * 1024u)
#define JK_NET_ZAP_DOMAIN "jikao"
#define JK_NET_ZAP_ENDPOINT "inproc://zeromq.zap.01"

#define JK_NET_PROTO_CLIENT "JK1C" /* client <-> broker framing, 4 bytes */
#define JK_NET_PROTO_WORKER "JK1W" /* worker <-> broker framing, 4 bytes */
#define JK_NET_PROTO_LEN 4u

typedef enum {
    JK_NET_CURVE = 0, /* CURVE encryption and authentication (default) */
    JK_NET_PLAIN = 1, /* none: loopback endpoints only */
} jk_net_security_t;

/* The names of the modes in config files: "curve", "plain", NULL-ended
 * (index = jk_net_security_t), for a JK_CFG_ENUM option. */
extern const char *const jk_net_security_names[];

/* ---- CURVE keys ---- */

typedef struct {
    char public_z85[JK_NET_Z85_LEN + 1];
    char secret_z85[JK_NET_Z85_LEN + 1];
} jk_net_keypair_t;

/* Generates a CURVE key pair. JK_ERR_UNAVAIL when this libzmq has no CURVE.
 * The caller should jk_net_keypair_wipe() it when done. */
jk_err_t jk_net_keypair_generate(jk_net_keypair_t *kp, jk_error_t *err);

/* Wipes both keys (the secret one above all). Accepts NULL. */
void jk_net_keypair_wipe(jk_net_keypair_t *kp);

/* Derives the public key of a Z85 secret key. JK_ERR_INVAL for a string
 * that is not a Z85 key. */
jk_err_t jk_net_public_of(const char *secret_z85, char public_z85[JK_NET_Z85_LEN + 1],
                          jk_error_t *err);

/* Whether s is exactly 40 characters of Z85 that decode to 32 bytes. */
bool jk_net_z85_key_valid(const char *s);

/* Writes a key file: the Z85 text and a newline, atomically (temporary file,
 * fsync, rename). A secret key file gets mode 0600, a public one 0644.
 * Overwrites path. JK_ERR_INVAL for a bad key, JK_ERR_IO naming the step. */
jk_err_t jk_net_key_write(const char *path, const char *z85, bool secret, jk_error_t *err);

/* Reads a key file written by jk_net_key_write (blank lines and lines
 * starting with '#' are ignored; exactly one key line). A secret key file
 * that group or others may access is refused (JK_ERR_CONFIG). On JK_OK out
 * holds the key and a NUL; errors name the file. Secret material read is
 * wiped from the read buffer. */
jk_err_t jk_net_key_read(const char *path, bool secret, char out[JK_NET_Z85_LEN + 1],
                         jk_error_t *err);

/* ---- allow-list ----
 *
 * A text file, one peer a line: `<name> <z85-public-key>`, separated by
 * spaces or tabs; blank lines and lines whose first non-blank character is
 * '#' are ignored. Names are ids (1..64 of A-Z a-z 0-9 - _ . :); names and
 * keys are unique. Errors name the file and the line.
 */
typedef struct jk_net_allow jk_net_allow_t;

/* Parses allow-list text of len bytes (need not be NUL-terminated); name
 * stands for the file in errors ("allow.txt:3: ..."). Returns the list or
 * NULL with err set. */
jk_net_allow_t *jk_net_allow_parse(const char *text, size_t len, const char *name,
                                   jk_error_t *err);

/* Reads and parses an allow-list file (at most JK_NET_ALLOW_FILE_MAX). */
jk_net_allow_t *jk_net_allow_load(const char *path, jk_error_t *err);

/* The name of a binary public key, or NULL when it is not in the list.
 * Borrowed: valid while the list lives. */
const char *jk_net_allow_find(const jk_net_allow_t *a, const uint8_t key[JK_NET_KEY_BYTES]);

/* Number of entries. */
size_t jk_net_allow_count(const jk_net_allow_t *a);

/* Frees the list and sets *a to NULL. Accepts NULL. */
void jk_net_allow_destroy(jk_net_allow_t **a);

/* ---- ZAP handler ---- */

typedef struct jk_net_zap jk_net_zap_t;

/* Binds the context's ZAP handler (one per context) and takes the
 * allow-list (*allow becomes NULL, also on failure). Returns NULL with err
 * set when the endpoint is taken (another handler in this context). */
jk_net_zap_t *jk_net_zap_new(void *zmq_ctx, jk_net_allow_t **allow, jk_error_t *err);

/* Swaps in a new allow-list for the default domain (e.g. on a reload);
 * takes it. Connections already admitted stay. */
void jk_net_zap_set_allow(jk_net_zap_t *z, jk_net_allow_t **allow);

/* Gives sockets of another ZAP domain (jk_net_opts_t.zap_domain) their own
 * list, taken (also on failure): a server with two kinds of clients (the
 * broker's clients and scorers) admits each kind on its own socket only.
 * A request for a domain without a list is refused. At most 4 domains.
 * JK_ERR_DUP for a domain that has one, JK_ERR_FULL, JK_ERR_INVAL. */
jk_err_t jk_net_zap_add_domain(jk_net_zap_t *z, const char *domain, jk_net_allow_t **allow,
                               jk_error_t *err);

/* The REP socket to put in the owner's zmq_poll set (ZMQ_POLLIN). */
void *jk_net_zap_socket(const jk_net_zap_t *z);

/* Answers every request waiting (never blocks; at most a bounded number
 * per call). Returns how many were answered. */
size_t jk_net_zap_handle(jk_net_zap_t *z);

/* Counters since creation: admitted, refused (unknown key, other
 * mechanism, malformed request). */
uint64_t jk_net_zap_admitted(const jk_net_zap_t *z);
uint64_t jk_net_zap_refused(const jk_net_zap_t *z);

/* Closes the socket, frees the list, sets *z to NULL. Accepts NULL. Must
 * be called before the context is terminated. */
void jk_net_zap_destroy(jk_net_zap_t **z);

/* ---- sockets ---- */

typedef struct {
    jk_net_security_t security;
    const char *secret_key_z85; /* CURVE: this socket's secret key */
    const char *server_key_z85; /* CURVE client: the server's public key */
    jk_net_zap_t *zap;          /* CURVE server: required (see the note) */
    const char *zap_domain;     /* CURVE server: ZAP domain; NULL = JK_NET_ZAP_DOMAIN */
    int64_t max_msg_bytes;      /* ZMQ_MAXMSGSIZE (per frame) */
    int linger_ms;              /* ZMQ_LINGER: how long close may wait */
    int sndhwm, rcvhwm;         /* high-water marks, messages; <= 0: 1000 */
    bool xpub_nodrop;           /* XPUB: EAGAIN instead of silent drops */
    bool immediate;             /* client: queue only on live connections */
    const char *routing_id;     /* DEALER client: fixed routing id, or NULL */
} jk_net_opts_t;

/* Defaults: CURVE, max_msg_bytes = JK_CODEC_MAX_BYTES + 1 KiB, linger
 * JK_NET_LINGER_MS, high-water marks 1000 (libzmq's), everything else off. */
void jk_net_opts_default(jk_net_opts_t *o);

/* ZMQ_MAXMSGSIZE for a link: the largest envelope it accepts (the large
 * bound when `large`) plus JK_NET_FRAME_SLACK_BYTES. lim NULL: defaults. */
int64_t jk_net_max_msg_bytes(const jk_codec_limits_t *lim, bool large);

/* Whether an endpoint is loopback: tcp://127.0.0.1:..., tcp://[::1]:...,
 * ipc://..., inproc://... (a tcp endpoint with a source address, "a;b",
 * never is). */
bool jk_net_endpoint_is_loopback(const char *endpoint);

/* A daemon's broker link settings: with JK_NET_CURVE the broker's public
 * key file and this node's key pair must all be named (JK_ERR_CONFIG naming
 * the curve.* keys otherwise). */
jk_err_t jk_net_client_keys_check(int security, const char *broker_public, const char *public_key,
                                  const char *secret_key, jk_error_t *err);

/* Checks a comma-separated endpoint list for a security mode without
 * making anything: JK_ERR_CONFIG naming the endpoint for plain on a
 * non-loopback one, or for a malformed list. A daemon checks all its lists
 * first, so it refuses to start before binding anything. */
jk_err_t jk_net_check_endpoints(jk_net_security_t security, const char *endpoints,
                                jk_error_t *err);

/* Makes a socket of `type` (ZMQ_ROUTER, ZMQ_XPUB, ...) and binds it to
 * every endpoint of the comma-separated list. ROUTER sockets get
 * ZMQ_ROUTER_MANDATORY. JK_ERR_CONFIG (err names the endpoint) for plain
 * on a non-loopback endpoint, a CURVE server without a key or a ZAP
 * handler, a bad key. Returns the socket (the caller's to zmq_close) or
 * NULL. */
void *jk_net_server(void *zmq_ctx, int type, const char *endpoints, const jk_net_opts_t *o,
                    jk_error_t *err);

/* The same for a connecting socket (DEALER, SUB, ...): CURVE needs the
 * secret key and the server's public key. Connecting never waits for the
 * peer; libzmq reconnects with back-off (100 ms to 5 s). */
void *jk_net_client(void *zmq_ctx, int type, const char *endpoints, const jk_net_opts_t *o,
                    jk_error_t *err);

/* The last endpoint a socket bound to (resolves "tcp://127.0.0.1:*" to the
 * port chosen). Writes "" on failure. */
void jk_net_last_endpoint(void *sock, char *buf, size_t size);

/* ---- bounded receive ---- */

typedef struct jk_net_msg jk_net_msg_t;

/* A reusable receive buffer for messages of at most max_frames frames
 * (1..JK_NET_FRAMES_MAX + 8). NULL when out of memory. */
jk_net_msg_t *jk_net_msg_new(size_t max_frames);

/* Releases the frames and the buffer; sets *m to NULL. Accepts NULL. */
void jk_net_msg_destroy(jk_net_msg_t **m);

/* Releases the frames held (the buffer stays usable). */
void jk_net_msg_clear(jk_net_msg_t *m);

/* Receives one whole multipart message into m (whose earlier frames are
 * released first). flags: 0 or ZMQ_DONTWAIT for the first frame. JK_OK;
 * JK_ERR_UNAVAIL (nothing waiting, or a signal); JK_ERR_RANGE (more than
 * the buffer's max_frames); JK_ERR_TOO_BIG (a frame over max_frame_bytes);
 * JK_ERR_IO (errno). On every error the message was read to its end and
 * released, except that after JK_ERR_RANGE / JK_ERR_TOO_BIG m keeps the
 * first frame when it is at most 255 bytes (on a ROUTER: the sender's
 * routing id, to count the refusal against that peer). */
jk_err_t jk_net_recv(void *sock, jk_net_msg_t *m, size_t max_frame_bytes, int flags,
                     jk_error_t *err);

/* Frames held; frame i's bytes (borrowed until the next recv/clear). */
size_t jk_net_msg_count(const jk_net_msg_t *m);
const uint8_t *jk_net_msg_data(const jk_net_msg_t *m, size_t i, size_t *len);

/* The peer's User-Id (the allow-list name given by the ZAP handler) and its
 * address, from the message's metadata; "" when there is none. Borrowed
 * until the next recv/clear. */
const char *jk_net_msg_user_id(const jk_net_msg_t *m);
const char *jk_net_msg_peer_address(const jk_net_msg_t *m);

/* ---- checked send ---- */

typedef struct {
    const void *data;
    size_t len;
} jk_net_frame_t;

/* Sends n frames as one message, without waiting. JK_OK; JK_ERR_FULL
 * (high-water mark, nothing sent); JK_ERR_NOTFOUND (ROUTER: no such peer,
 * nothing sent); JK_ERR_IO. */
jk_err_t jk_net_send(void *sock, const jk_net_frame_t *frames, size_t n, jk_error_t *err);

/* ---- framing (docs/protocol.md §2, docs/live-exam.md §2) ----
 *
 *   client link: [rid] "" "JK1C" env1 ... envN            1 <= N <= 256
 *   worker link: [rid] "" "JK1W" addr1 env1 ... addrN envN  1 <= N <= 256
 *
 * rid is present on the ROUTER side only (libzmq adds it on receive and
 * routes by it on send). addr is a client's routing id on the broker's
 * frontend, empty for messages to or from the broker itself.
 */
typedef enum { JK_NET_LINK_CLIENT = 0, JK_NET_LINK_WORKER = 1 } jk_net_link_t;

typedef struct {
    const uint8_t *addr; /* worker link: the client address (may be empty) */
    size_t addr_len;
    const uint8_t *env;  /* the envelope's bytes (not decoded here) */
    size_t env_len;
} jk_net_item_t;

typedef struct {
    const uint8_t *rid; /* routed: the sender's routing id; else NULL */
    size_t rid_len;
    size_t n;           /* items */
    jk_net_item_t items[JK_NET_BATCH_MAX];
} jk_net_batch_t;

/* Checks the frames of a received message for `link` (with a leading
 * routing id when `routed`) and points b's items at them (borrowed from m).
 * Errors: JK_ERR_RANGE (frame count), JK_ERR_PARSE (delimiter not empty,
 * empty routing id), JK_ERR_VERSION (protocol frame), JK_ERR_TOO_BIG (an
 * address over 255 bytes). Envelopes are not looked at. */
jk_err_t jk_net_parse(const jk_net_msg_t *m, jk_net_link_t link, bool routed,
                      jk_net_batch_t *b, jk_error_t *err);

/* Sends items[0..n) (1 <= n <= 256) in one message of `link`'s framing,
 * to rid when rid is given (ROUTER side). Client-link items' addr is
 * ignored. Results as jk_net_send. */
jk_err_t jk_net_send_batch(void *sock, const uint8_t *rid, size_t rid_len, jk_net_link_t link,
                           const jk_net_item_t *items, size_t n, jk_error_t *err);

/* Formats a routing id for logs: printable ids as they are, others as hex
 * ("0x0080...", truncated). buf >= 2 * JK_NET_ROUTING_ID_MAX + 3 is always
 * enough; smaller buffers truncate. Returns buf. */
char *jk_net_rid_format(const uint8_t *rid, size_t len, char *buf, size_t size);

#endif
