/*
 * jk_codec: bytes in, a validated jk.Envelope out (and back).
 *
 * Design note. Every message that crosses a process boundary is a
 * jk.Envelope (proto/jikao.proto, documented in docs/protocol.md). This codec
 * is the one gate between bytes and messages: it knows nothing of sockets
 * (hiredis redisReaderFeed-style), so tests feed it hostile bytes directly.
 * Decoding runs these steps, and stops at the first failure with a code and
 * a message that names the field path ("answer.response.selection.
 * option_ids[2]: 17 outside 1..16"):
 *
 *   1. total size bound (the largest per-kind bound)      JK_ERR_TOO_BIG
 *   2. a shallow walk of the top level to find schema_version and kind
 *                                                         JK_ERR_PARSE
 *   3. schema_version present and supported               JK_ERR_MISSING /
 *                                                         JK_ERR_VERSION
 *   4. size bound of the kind (paper-bearing kinds are "large")
 *                                                         JK_ERR_TOO_BIG
 *   5. a schema-driven pre-scan of the wire format, before protobuf-c
 *      allocates anything: known field numbers only, right wire types,
 *      singular fields at most once, at most one member per oneof, bounded
 *      nesting, a bound on the total number of fields (so a small input
 *      cannot make the unpacker allocate a lot), no NUL inside strings
 *                                                         JK_ERR_PARSE /
 *                                                         JK_ERR_TOO_BIG /
 *                                                         JK_ERR_INVAL
 *   6. protobuf-c unpack                                  JK_ERR_PARSE
 *   7. canonical encoding: the bytes must be exactly what packing the
 *      decoded message gives (one message, one byte string; this is what
 *      makes "any changed byte is refused" true for the auth tag and what
 *      makes event hashes well defined)                   JK_ERR_PARSE
 *   8. jk_codec_validate(): kind known and equal to the body member,
 *      required fields per kind, ranges, id charset, UTF-8, string and
 *      repeated-field bounds, cross-field rules           MISSING / RANGE /
 *                                                         INVAL / TOO_BIG
 *
 * Two kinds of bounds. Protocol bounds (an id has at most 64 bytes, a paper
 * at most 500 items, ...) are part of the protocol, fixed below as
 * JK_CODEC_* constants and listed in docs/protocol.md. Resource limits (how
 * many bytes and wire fields a receiver accepts, the time window) are
 * policy and live in jk_codec_limits_t.
 *
 * Authentication: the tag is HMAC-SHA256 over the envelope packed with
 * auth_tag absent; a verifier clears the tag, repacks and compares in
 * constant time. Decode does not verify (it does not know keys); the
 * receiver calls jk_codec_auth_verify() with the sender's key.
 *
 * This header exposes the protobuf-c generated types (Jk__Envelope, ...):
 * whoever handles messages needs them. Rejected: a parallel hand-written C
 * model of every message (a second schema to keep in step with the first).
 * OpenSSL and the wire details stay inside jk_codec.c.
 */
#ifndef JK_CODEC_H
#define JK_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jikao.pb-c.h"
#include "jk_err.h"
#include "jk_session_fsm.h"

/* The only schema version this build speaks. */
#define JK_SCHEMA_VERSION 1u

/* Cryptographic sizes (bytes). */
#define JK_CODEC_TAG_LEN 32u     /* auth_tag: HMAC-SHA256 */
#define JK_CODEC_DIGEST_LEN 32u  /* SHA-256 digests and event hashes */
/* HMAC keys are exactly 32 bytes: HMAC pads shorter keys with zeros, so
 * with variable lengths K and K||0x00 would be the same key. */
#define JK_CODEC_KEY_LEN 32u
#define JK_CODEC_PACKAGE_KEY_LEN 32u /* AES-256-GCM */

/* Protocol bounds (docs/protocol.md, "Bounds"). Lengths are in bytes. */
#define JK_CODEC_ID_MAX 64u
#define JK_CODEC_SHORT_TEXT_MAX 512u    /* reasons, names, labels, titles */
#define JK_CODEC_STEM_MAX 8192u
#define JK_CODEC_OPTION_TEXT_MAX 2048u
#define JK_CODEC_ANSWER_TEXT_MAX 16384u
#define JK_CODEC_FORM_VALUE_MAX 4096u
#define JK_CODEC_CREDENTIAL_MAX 256u
#define JK_CODEC_TOKEN_MIN 16u
#define JK_CODEC_TOKEN_MAX 64u
#define JK_CODEC_ITEMS_MAX 500u         /* items per paper / session state */
#define JK_CODEC_OPTIONS_MAX 16u        /* options per item; ids 1..16 */
#define JK_CODEC_FORM_FIELDS_MAX 64u
#define JK_CODEC_CHOICES_MAX 32u
#define JK_CODEC_AREAS_MAX 16u
#define JK_CODEC_MISSING_SEQ_MAX 1024u
#define JK_CODEC_POINTS_MAX_CENTI 10000u  /* 100 points */
#define JK_CODEC_PASS_CENTI 6000u         /* pass mark: 60 points */
#define JK_CODEC_SEQ_MAX 1000000u         /* events per session */
#define JK_CODEC_CHANGES_MAX 1000000u     /* change_counter */
#define JK_CODEC_DURATION_MIN_MS 1000u
#define JK_CODEC_DURATION_MAX_MS 86400000u      /* 24 h */
#define JK_CODEC_REMAINING_MAX_MS 172800000u    /* 48 h */
#define JK_CODEC_EXTENSION_MAX_MS 14400000u     /* 4 h per extension */
#define JK_CODEC_HEARTBEAT_MIN_MS 100u
#define JK_CODEC_HEARTBEAT_MAX_MS 600000u
#define JK_CODEC_CAPACITY_MAX 65535u
#define JK_CODEC_RETRY_MAX_MS 600000u           /* retry_after, reconnect */
#define JK_CODEC_TOPIC_MAX 256u                 /* PUB topic incl. NUL */

/* Resource-limit defaults. */
#define JK_CODEC_MAX_BYTES (64u * 1024u)
#define JK_CODEC_MAX_LARGE_BYTES (2u * 1024u * 1024u)
#define JK_CODEC_MAX_FIELDS 4096u
#define JK_CODEC_MAX_LARGE_FIELDS 65536u
#define JK_CODEC_MIN_TIME_MS UINT64_C(1577836800000) /* 2020-01-01T00:00Z */
#define JK_CODEC_MAX_TIME_MS UINT64_C(4102444800000) /* 2100-01-01T00:00Z */

typedef struct {
    size_t max_bytes;        /* bound for every kind not "large" (bytes) */
    size_t max_large_bytes;  /* LOGIN_REPLY, SESSION_STATE (bytes) */
    size_t max_fields;       /* wire fields, all depths, normal kinds */
    size_t max_large_fields; /* wire fields, all depths, large kinds */
    uint64_t min_time_ms;    /* instants outside [min, max] are refused */
    uint64_t max_time_ms;
    bool require_auth_tag;   /* refuse envelopes without auth_tag */
    bool allow_noncanonical; /* skip step 7 (for tools reading foreign bytes) */
} jk_codec_limits_t;

/* Fills *lim with the defaults above. */
void jk_codec_limits_default(jk_codec_limits_t *lim);

/* Decodes and validates one envelope from buf[0..len).
 * lim NULL means the defaults. On JK_OK *out owns a new message the caller
 * releases with jk_codec_free(); on error *out is NULL, err (if given) names
 * the field path and why, and nothing is leaked. Never reads outside buf,
 * whatever the bytes. Does not verify the auth tag (jk_codec_auth_verify). */
jk_err_t jk_codec_decode(const uint8_t *buf, size_t len, const jk_codec_limits_t *lim,
                         Jk__Envelope **out, jk_error_t *err);

/* Frees a message from jk_codec_decode() and sets *env to NULL. Accepts NULL
 * and a pointer to NULL. Only for decoded messages (hand-built ones are the
 * builder's to free). */
void jk_codec_free(Jk__Envelope **env);

/* Checks a message (decoded or built by hand) against the protocol: see
 * step 8 above. lim NULL means the defaults. Returns JK_OK or the first
 * error, with the field path in err. Does not check sizes on the wire. */
jk_err_t jk_codec_validate(const Jk__Envelope *env, const jk_codec_limits_t *lim,
                           jk_error_t *err);

/* Validates (default limits) and packs env. On JK_OK *out is a malloc'd
 * buffer of *len bytes, the caller's to free(); on error *out is NULL.
 * JK_ERR_TOO_BIG if the packed size exceeds the kind's default bound. */
jk_err_t jk_codec_encode(const Jk__Envelope *env, uint8_t **out, size_t *len,
                         jk_error_t *err);

/* As jk_codec_encode(), with auth_tag set to the tag computed with key
 * (env's own auth_tag is ignored; env is not modified). */
jk_err_t jk_codec_encode_signed(const Jk__Envelope *env, const uint8_t *key,
                                size_t key_len, uint8_t **out, size_t *len,
                                jk_error_t *err);

/* Computes the auth tag of env under key: HMAC-SHA256 over env packed with
 * auth_tag absent (env's auth_tag is ignored; env is not modified). key_len
 * must be JK_CODEC_KEY_LEN (JK_ERR_INVAL otherwise). */
jk_err_t jk_codec_auth_tag(const Jk__Envelope *env, const uint8_t *key, size_t key_len,
                           uint8_t tag[JK_CODEC_TAG_LEN], jk_error_t *err);

/* Verifies env's auth_tag under key, comparing in constant time.
 * JK_OK if it matches; JK_ERR_MISSING if env has no tag; JK_ERR_AUTH if it
 * does not match; JK_ERR_INVAL for a bad key length. */
jk_err_t jk_codec_auth_verify(const Jk__Envelope *env, const uint8_t *key,
                              size_t key_len, jk_error_t *err);

/* The event hash of a session event: SHA-256 over env packed with
 * auth_tag, key_id, message_id and sent_time_ms absent (the transport
 * fields, which differ between resends of the same event). Equal events
 * have equal hashes whoever sent them and however often. */
jk_err_t jk_codec_event_hash(const Jk__Envelope *env, uint8_t hash[JK_CODEC_DIGEST_LEN],
                             jk_error_t *err);

/* The session digest: SHA-256 over the event hashes of seq 1..n
 * concatenated in seq order (hashes[i] is the hash of seq i+1). n may be 0
 * (the digest of nothing is SHA-256 of the empty string). */
jk_err_t jk_codec_session_digest(const uint8_t (*hashes)[JK_CODEC_DIGEST_LEN], size_t n,
                                 uint8_t digest[JK_CODEC_DIGEST_LEN], jk_error_t *err);

/* Refuses an envelope whose sent_time_ms is more than max_skew_ms away from
 * now_ms (JK_ERR_RANGE), the receiver's guard against replayed or badly
 * clocked messages. The codec itself never reads a clock. */
jk_err_t jk_codec_check_fresh(const Jk__Envelope *env, uint64_t now_ms, uint64_t max_skew_ms,
                              jk_error_t *err);

/* The session state machine event a session-event envelope stands for
 * (docs/protocol.md, "Messages and machine events"). JK_ERR_INVAL for a
 * kind that is not a session event, and for ProctorAction FORCE_SUBMIT
 * (an order to examd; the session stream carries the resulting Submit). */
jk_err_t jk_codec_session_event(const Jk__Envelope *env, jk_session_event_t *event,
                                jk_error_t *err);

/* Writes the PUB topic "<exam>/<site>/<room>/<kind>" of env into buf
 * (JK_CODEC_TOPIC_MAX is always enough). For a MONITOR_EVENT the kind is
 * its source_kind. JK_ERR_MISSING without exam, site or room id;
 * JK_ERR_TOO_BIG (buf set to "") if size is too small. env should have
 * passed validation: only then can its ids not contain '/'. */
jk_err_t jk_codec_topic(const Jk__Envelope *env, char *buf, size_t size, jk_error_t *err);

/* Lower-case name of a kind as used in topics and paths ("answer",
 * "proctor_action"); "?" if unknown. Never NULL. */
const char *jk_codec_kind_name(Jk__Kind kind);

/* Whether a kind is a session event (carries seq, goes to the log, is
 * counted by Submit and reconcile): SESSION_OPEN, SESSION_RESUME, ANSWER,
 * SUBMIT, PROCTOR_ACTION, EXAMINER_SCORE. */
bool jk_codec_kind_is_session_event(Jk__Kind kind);

/* Whether a kind uses max_large_bytes / max_large_fields. */
bool jk_codec_kind_is_large(Jk__Kind kind);

#endif
