/*
 * jk_codec: decoding, validation, encoding and authentication of
 * jk.Envelope (see jk_codec.h for the contract and the decode steps).
 *
 * Design note.
 *  - The validator is table-driven by kind: each kind has the envelope ids
 *    it requires, whether it is a session event (carries seq), whether it is
 *    "large", and one check function for its body. The body member for kind
 *    k has field number 100 + k (checked at compile time below), so "kind
 *    equals the oneof case" is one comparison.
 *  - Field paths in messages are the field names joined by dots, with the
 *    body member's name as the root of body fields and "envelope" as the
 *    root of header fields: "envelope.seq", "answer.item_id",
 *    "login_reply.paper.items[3].options[0].text". The pre-scan and the
 *    validator build the same paths.
 *  - The pre-scan walks the wire format with the generated descriptors
 *    before protobuf-c unpacks, so that nothing protobuf-c allocates is
 *    driven by an unbounded count, and so that wire-level faults (an
 *    unknown field, a NUL inside a string, a field given twice) are named.
 *    protobuf-c would accept some of these silently (last value wins,
 *    unknown fields kept, strings cut at the NUL).
 *  - It computes tags and hashes itself (jk_crypto's HMAC-SHA256 and
 *    SHA-256, OpenSSL's CRYPTO_memcmp) rather than through an adapter: the
 *    tag and hash rules are part of the wire protocol and depend on the
 *    exact packing done here.
 *  - Rejected: validating with protobuf-c "required" labels (the errors
 *    would not name fields, and required-ness differs by kind and by other
 *    fields' values); verifying tags over the received bytes minus the tag
 *    field (the canonical-encoding check makes the simpler "repack with the
 *    tag absent" rule exactly as strong).
 */
#include "jk_codec.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "jk_crypto.h"
#include "jk_text.h"

/* ---------------------------------------------------------------------- */
/* Compile-time agreements between the schema and the code.                 */

#define S_BODY_OF(k) (100 + (k))
#define S_CHECK_BODY(K, B)                                                      \
    _Static_assert((int)JK__ENVELOPE__BODY_##B == S_BODY_OF((int)JK__KIND__KIND_##K), \
                   "body member of " #K " must be numbered 100 + kind")
S_CHECK_BODY(LOGIN_REQUEST, LOGIN_REQUEST);
S_CHECK_BODY(LOGIN_REPLY, LOGIN_REPLY);
S_CHECK_BODY(SESSION_OPEN, SESSION_OPEN);
S_CHECK_BODY(SESSION_RESUME, SESSION_RESUME);
S_CHECK_BODY(ANSWER, ANSWER);
S_CHECK_BODY(SUBMIT, SUBMIT);
S_CHECK_BODY(ACK, ACK);
S_CHECK_BODY(HEARTBEAT, HEARTBEAT);
S_CHECK_BODY(WORKER_READY, WORKER_READY);
S_CHECK_BODY(CREDIT, CREDIT);
S_CHECK_BODY(DISCONNECT, DISCONNECT);
S_CHECK_BODY(PROCTOR_ACTION, PROCTOR_ACTION);
S_CHECK_BODY(EXAMINER_SCORE, EXAMINER_SCORE);
S_CHECK_BODY(RESULT, RESULT);
S_CHECK_BODY(RECONCILE_REQUEST, RECONCILE_REQUEST);
S_CHECK_BODY(RECONCILE_REPLY, RECONCILE_REPLY);
S_CHECK_BODY(PACKAGE_RELEASE, PACKAGE_RELEASE);
S_CHECK_BODY(SESSION_STATE, SESSION_STATE);
S_CHECK_BODY(SESSION_STATE_REQUEST, SESSION_STATE_REQUEST);
S_CHECK_BODY(MONITOR_EVENT, MONITOR_EVENT);
S_CHECK_BODY(PACKAGE_REQUEST, PACKAGE_REQUEST);

#define S_KIND_LAST JK__KIND__KIND_PACKAGE_REQUEST

#define S_CHECK_STATE(P, C)                                                     \
    _Static_assert((int)JK__SESSION_STATUS__SESSION_STATUS_##P == (int)JK_SESSION_##C, \
                   "jk.SessionStatus must equal jk_session_state_t")
S_CHECK_STATE(REGISTERED, REGISTERED);
S_CHECK_STATE(AUTHORIZED, AUTHORIZED);
S_CHECK_STATE(IN_PROGRESS, IN_PROGRESS);
S_CHECK_STATE(PAUSED, PAUSED);
S_CHECK_STATE(SUBMITTED, SUBMITTED);
S_CHECK_STATE(SCORED, SCORED);
S_CHECK_STATE(VOIDED, VOIDED);
S_CHECK_STATE(ABSENT, ABSENT);

#define S_PATH_MAX 192
#define S_MAX_DEPTH 8        /* the schema nests 6 deep at most */
#define S_MAX_MSG_FIELDS 64  /* fields of the widest message (Envelope: 35) */

#define TRY(x)                                                                 \
    do {                                                                       \
        jk_err_t rc_ = (x);                                                    \
        if (rc_ != JK_OK)                                                      \
            return rc_;                                                        \
    } while (0)

/* ---------------------------------------------------------------------- */
/* The kind table.                                                          */

enum {
    S_NEED_EXAM = 1u << 0,
    S_NEED_SITE = 1u << 1,
    S_NEED_ROOM = 1u << 2,
    S_NEED_SESSION = 1u << 3,
    S_NEED_CANDIDATE = 1u << 4,
    S_NEED_EVENT_TIME = 1u << 5,
};
#define S_NEED_SESSION_EVENT                                                   \
    (S_NEED_EXAM | S_NEED_SITE | S_NEED_ROOM | S_NEED_SESSION | S_NEED_CANDIDATE | \
     S_NEED_EVENT_TIME)

typedef struct {
    const jk_codec_limits_t *lim;
    jk_error_t *err;
} s_ctx_t;

typedef jk_err_t (*s_body_check_fn)(s_ctx_t *c, const Jk__Envelope *e, const char *p);

typedef struct {
    unsigned need;      /* S_NEED_* envelope fields this kind requires */
    bool session_event; /* carries seq; logged; counted by Submit/reconcile */
    bool large;         /* max_large_bytes / max_large_fields apply */
    s_body_check_fn check;
} s_kind_t;

static jk_err_t s_check_login_request(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_login_reply(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_session_open(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_session_resume(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_answer(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_submit(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_ack(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_heartbeat(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_worker_ready(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_credit(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_disconnect(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_proctor_action(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_examiner_score(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_result(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_reconcile_request(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_reconcile_reply(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_package_release(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_session_state_body(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_state_request(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_monitor_event(s_ctx_t *c, const Jk__Envelope *e, const char *p);
static jk_err_t s_check_package_request(s_ctx_t *c, const Jk__Envelope *e, const char *p);

static const s_kind_t s_kinds[S_KIND_LAST + 1] = {
    [JK__KIND__KIND_LOGIN_REQUEST] = {0, false, false, s_check_login_request},
    /* LOGIN_REPLY's ids are required only when status is OK (body check). */
    [JK__KIND__KIND_LOGIN_REPLY] = {0, false, true, s_check_login_reply},
    [JK__KIND__KIND_SESSION_OPEN] = {S_NEED_SESSION_EVENT, true, false, s_check_session_open},
    [JK__KIND__KIND_SESSION_RESUME] = {S_NEED_SESSION_EVENT, true, false,
                                       s_check_session_resume},
    [JK__KIND__KIND_ANSWER] = {S_NEED_SESSION_EVENT, true, false, s_check_answer},
    [JK__KIND__KIND_SUBMIT] = {S_NEED_SESSION_EVENT, true, false, s_check_submit},
    [JK__KIND__KIND_ACK] = {0, false, false, s_check_ack},
    [JK__KIND__KIND_HEARTBEAT] = {0, false, false, s_check_heartbeat},
    [JK__KIND__KIND_WORKER_READY] = {0, false, false, s_check_worker_ready},
    [JK__KIND__KIND_CREDIT] = {0, false, false, s_check_credit},
    [JK__KIND__KIND_DISCONNECT] = {0, false, false, s_check_disconnect},
    [JK__KIND__KIND_PROCTOR_ACTION] = {S_NEED_SESSION_EVENT, true, false,
                                       s_check_proctor_action},
    [JK__KIND__KIND_EXAMINER_SCORE] = {S_NEED_SESSION_EVENT, true, false,
                                       s_check_examiner_score},
    [JK__KIND__KIND_RESULT] = {S_NEED_EXAM | S_NEED_CANDIDATE | S_NEED_EVENT_TIME, false,
                               false, s_check_result},
    [JK__KIND__KIND_RECONCILE_REQUEST] = {S_NEED_EXAM | S_NEED_SITE | S_NEED_SESSION, false,
                                          false, s_check_reconcile_request},
    [JK__KIND__KIND_RECONCILE_REPLY] = {S_NEED_EXAM | S_NEED_SITE | S_NEED_SESSION, false,
                                        false, s_check_reconcile_reply},
    [JK__KIND__KIND_PACKAGE_RELEASE] = {S_NEED_EXAM | S_NEED_SITE, false, false,
                                        s_check_package_release},
    [JK__KIND__KIND_SESSION_STATE] = {S_NEED_EXAM | S_NEED_SESSION | S_NEED_CANDIDATE, false,
                                      true, s_check_session_state_body},
    [JK__KIND__KIND_SESSION_STATE_REQUEST] = {S_NEED_EXAM | S_NEED_SESSION, false, false,
                                              s_check_state_request},
    [JK__KIND__KIND_MONITOR_EVENT] = {S_NEED_EXAM | S_NEED_SITE | S_NEED_ROOM, false, false,
                                      s_check_monitor_event},
    [JK__KIND__KIND_PACKAGE_REQUEST] = {S_NEED_EXAM | S_NEED_SITE, false, false,
                                        s_check_package_request},
};

static const s_kind_t *s_kind(int kind)
{
    if (kind < 1 || kind > S_KIND_LAST || !s_kinds[kind].check)
        return NULL;
    return &s_kinds[kind];
}

const char *jk_codec_kind_name(Jk__Kind kind)
{
    if (!s_kind((int)kind))
        return "?";
    const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(
        &jk__envelope__descriptor, (unsigned)S_BODY_OF((int)kind));
    return fd ? fd->name : "?";
}

bool jk_codec_kind_is_session_event(Jk__Kind kind)
{
    const s_kind_t *k = s_kind((int)kind);
    return k && k->session_event;
}

bool jk_codec_kind_is_large(Jk__Kind kind)
{
    const s_kind_t *k = s_kind((int)kind);
    return k && k->large;
}

void jk_codec_limits_default(jk_codec_limits_t *lim)
{
    if (!lim)
        return;
    lim->max_bytes = JK_CODEC_MAX_BYTES;
    lim->max_large_bytes = JK_CODEC_MAX_LARGE_BYTES;
    lim->max_fields = JK_CODEC_MAX_FIELDS;
    lim->max_large_fields = JK_CODEC_MAX_LARGE_FIELDS;
    lim->min_time_ms = JK_CODEC_MIN_TIME_MS;
    lim->max_time_ms = JK_CODEC_MAX_TIME_MS;
    lim->require_auth_tag = false;
    lim->allow_noncanonical = false;
}

/* ---------------------------------------------------------------------- */
/* Field checks. Each names "<path>.<field>" in its error.                  */

static jk_err_t s_missing(s_ctx_t *c, const char *p, const char *f, const char *why)
{
    return jk_error_set(c->err, JK_ERR_MISSING, "%s.%s: required%s%s", p, f, why ? " " : "",
                        why ? why : "");
}

static jk_err_t s_forbid(s_ctx_t *c, const char *p, const char *f, const char *why)
{
    return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: not allowed %s", p, f, why);
}

static jk_err_t s_id(s_ctx_t *c, const char *p, const char *f, const char *v, bool required)
{
    if (!v)
        return required ? s_missing(c, p, f, NULL) : JK_OK;
    size_t n = strlen(v);
    if (n == 0)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: empty id", p, f);
    if (n > JK_CODEC_ID_MAX)
        return jk_error_set(c->err, JK_ERR_TOO_BIG, "%s.%s: id of %zu bytes, max %u", p, f, n,
                            JK_CODEC_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!jk_id_char((unsigned char)v[i]))
            return jk_error_set(c->err, JK_ERR_INVAL,
                                "%s.%s: byte 0x%02x at %zu not allowed in an id "
                                "(A-Z a-z 0-9 - _ . :)",
                                p, f, (unsigned char)v[i], i);
    return JK_OK;
}

static jk_err_t s_text(s_ctx_t *c, const char *p, const char *f, const char *v, size_t max,
                       bool required)
{
    if (!v)
        return required ? s_missing(c, p, f, NULL) : JK_OK;
    size_t n = strlen(v);
    if (n == 0 && required)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: empty", p, f);
    if (n > max)
        return jk_error_set(c->err, JK_ERR_TOO_BIG, "%s.%s: %zu bytes, max %zu", p, f, n, max);
    size_t at = 0;
    if (jk_utf8_check(v, n, &at))
        return JK_OK;
    /* jk_utf8_check faults an ASCII byte only for being a control character. */
    if ((unsigned char)v[at] < 0x80)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: control character 0x%02x at byte %zu",
                            p, f, (unsigned char)v[at], at);
    return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: invalid UTF-8 at byte %zu", p, f, at);
}

static jk_err_t s_bytes(s_ctx_t *c, const char *p, const char *f, protobuf_c_boolean has,
                        const ProtobufCBinaryData *b, size_t min, size_t max, bool required)
{
    if (!has)
        return required ? s_missing(c, p, f, NULL) : JK_OK;
    if (b->len > 0 && !b->data)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: NULL data", p, f);
    if (min == max && b->len != min)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: %zu bytes, must be %zu", p, f, b->len,
                            min);
    if (b->len > max)
        return jk_error_set(c->err, JK_ERR_TOO_BIG, "%s.%s: %zu bytes, max %zu", p, f, b->len,
                            max);
    if (b->len < min)
        return jk_error_set(c->err, JK_ERR_RANGE, "%s.%s: %zu bytes, min %zu", p, f, b->len, min);
    return JK_OK;
}

static jk_err_t s_uint(s_ctx_t *c, const char *p, const char *f, protobuf_c_boolean has,
                       uint64_t v, uint64_t lo, uint64_t hi, bool required)
{
    if (!has)
        return required ? s_missing(c, p, f, NULL) : JK_OK;
    if (v < lo || v > hi)
        return jk_error_set(c->err, JK_ERR_RANGE, "%s.%s: %" PRIu64 " outside %" PRIu64
                                                  "..%" PRIu64,
                            p, f, v, lo, hi);
    return JK_OK;
}

static jk_err_t s_time(s_ctx_t *c, const char *p, const char *f, protobuf_c_boolean has,
                       uint64_t v, bool required)
{
    if (!has)
        return required ? s_missing(c, p, f, NULL) : JK_OK;
    if (v < c->lim->min_time_ms || v > c->lim->max_time_ms)
        return jk_error_set(c->err, JK_ERR_RANGE,
                            "%s.%s: %" PRIu64 " ms since the epoch is outside the accepted "
                            "window %" PRIu64 "..%" PRIu64,
                            p, f, v, c->lim->min_time_ms, c->lim->max_time_ms);
    return JK_OK;
}

static jk_err_t s_enum(s_ctx_t *c, const char *p, const char *f, protobuf_c_boolean has, int v,
                       const ProtobufCEnumDescriptor *ed, bool required)
{
    if (!has)
        return required ? s_missing(c, p, f, NULL) : JK_OK;
    if (v == 0 || !protobuf_c_enum_descriptor_get_value(ed, v))
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: %d is not a value of %s", p, f, v,
                            ed->short_name);
    return JK_OK;
}

static jk_err_t s_bool(s_ctx_t *c, const char *p, const char *f, protobuf_c_boolean has,
                       bool required)
{
    return (!has && required) ? s_missing(c, p, f, NULL) : JK_OK;
}

/* Bounds the element count of a repeated field; 0 elements when min > 0 is
 * reported as missing. */
static jk_err_t s_count(s_ctx_t *c, const char *p, const char *f, size_t n, const void *arr,
                        size_t min, size_t max)
{
    if (n > max)
        return jk_error_set(c->err, JK_ERR_TOO_BIG, "%s.%s: %zu elements, max %zu", p, f, n, max);
    if (n < min)
        return n == 0 ? s_missing(c, p, f, NULL)
                      : jk_error_set(c->err, JK_ERR_RANGE, "%s.%s: %zu elements, min %zu", p, f,
                                     n, min);
    if (n > 0 && !arr)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.%s: NULL array", p, f);
    return JK_OK;
}

/* A sub-message pointer that must be present. */
static jk_err_t s_msg(s_ctx_t *c, const char *p, const char *f, const void *m, bool required)
{
    return (!m && required) ? s_missing(c, p, f, NULL) : JK_OK;
}

static jk_err_t s_level(s_ctx_t *c, const char *p, const char *f, protobuf_c_boolean has,
                        uint32_t v)
{
    if (!has)
        return s_missing(c, p, f, NULL);
    if (v != 3 && v != 4 && v != 5)
        return jk_error_set(c->err, JK_ERR_RANGE, "%s.%s: %" PRIu32 " is not a level (5, 4, 3)",
                            p, f, v);
    return JK_OK;
}

static jk_err_t s_null_elem(s_ctx_t *c, const char *p)
{
    return jk_error_set(c->err, JK_ERR_INVAL, "%s: NULL element", p);
}

/* Formats a child path; a path longer than the buffer is cut (the error
 * message stays readable, and paths in this schema are far shorter). */
static void s_subpath(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_subpath(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[0] = '\0';
}
#define S_SUBPATH(buf, ...) s_subpath((buf), sizeof(buf), __VA_ARGS__)

/* ---------------------------------------------------------------------- */
/* Shared parts.                                                            */

static jk_err_t s_check_response(s_ctx_t *c, const char *p, const Jk__Response *r)
{
    char sp[S_PATH_MAX];
    switch (r->value_case) {
    case JK__RESPONSE__VALUE__NOT_SET:
        return jk_error_set(c->err, JK_ERR_MISSING,
                            "%s.value: required (one of selection, judgment, text, form; "
                            "send no response to clear an item)",
                            p);
    case JK__RESPONSE__VALUE_SELECTION: {
        const Jk__Selection *s = r->selection;
        S_SUBPATH(sp, "%s.selection", p);
        if (!s)
            return s_missing(c, p, "selection", NULL);
        TRY(s_count(c, sp, "option_ids", s->n_option_ids, s->option_ids, 1,
                    JK_CODEC_OPTIONS_MAX));
        for (size_t i = 0; i < s->n_option_ids; i++) {
            uint32_t v = s->option_ids[i];
            if (v < 1 || v > JK_CODEC_OPTIONS_MAX)
                return jk_error_set(c->err, JK_ERR_RANGE,
                                    "%s.option_ids[%zu]: %" PRIu32 " outside 1..%u", sp, i, v,
                                    JK_CODEC_OPTIONS_MAX);
            for (size_t j = 0; j < i; j++)
                if (s->option_ids[j] == v)
                    return jk_error_set(c->err, JK_ERR_DUP,
                                        "%s.option_ids[%zu]: %" PRIu32
                                        " repeats option_ids[%zu]",
                                        sp, i, v, j);
        }
        return JK_OK;
    }
    case JK__RESPONSE__VALUE_JUDGMENT:
        return JK_OK;
    case JK__RESPONSE__VALUE_TEXT:
        return s_text(c, p, "text", r->text, JK_CODEC_ANSWER_TEXT_MAX, true);
    case JK__RESPONSE__VALUE_FORM: {
        const Jk__FormResponse *fr = r->form;
        S_SUBPATH(sp, "%s.form", p);
        if (!fr)
            return s_missing(c, p, "form", NULL);
        TRY(s_count(c, sp, "fields", fr->n_fields, fr->fields, 1, JK_CODEC_FORM_FIELDS_MAX));
        for (size_t i = 0; i < fr->n_fields; i++) {
            char fp[S_PATH_MAX];
            S_SUBPATH(fp, "%s.fields[%zu]", sp, i);
            const Jk__FormValue *fv = fr->fields[i];
            if (!fv)
                return s_null_elem(c, fp);
            TRY(s_id(c, fp, "name", fv->name, true));
            TRY(s_text(c, fp, "value", fv->value, JK_CODEC_FORM_VALUE_MAX, false));
            if (!fv->value)
                return s_missing(c, fp, "value", "(may be empty)");
            for (size_t j = 0; j < i; j++)
                if (fr->fields[j] && fr->fields[j]->name && strcmp(fr->fields[j]->name, fv->name) == 0)
                    return jk_error_set(c->err, JK_ERR_DUP, "%s.name: \"%s\" repeats fields[%zu]",
                                        fp, fv->name, j);
        }
        return JK_OK;
    }
    default:
        return jk_error_set(c->err, JK_ERR_INVAL, "%s: unknown response member %d", p,
                            (int)r->value_case);
    }
}

static jk_err_t s_check_option(s_ctx_t *c, const char *p, const Jk__Option *o)
{
    TRY(s_uint(c, p, "option_id", o->has_option_id, o->option_id, 1, JK_CODEC_OPTIONS_MAX, true));
    return s_text(c, p, "text", o->text, JK_CODEC_OPTION_TEXT_MAX, true);
}

static jk_err_t s_check_form_field_spec(s_ctx_t *c, const char *p, const Jk__FormFieldSpec *f)
{
    TRY(s_id(c, p, "name", f->name, true));
    TRY(s_text(c, p, "label", f->label, JK_CODEC_SHORT_TEXT_MAX, true));
    TRY(s_enum(c, p, "input", f->has_input, (int)f->input, &jk__form_input__descriptor, true));
    if (f->input == JK__FORM_INPUT__FORM_INPUT_SELECT) {
        TRY(s_count(c, p, "choices", f->n_choices, f->choices, 1, JK_CODEC_CHOICES_MAX));
        for (size_t i = 0; i < f->n_choices; i++) {
            char cp[S_PATH_MAX];
            S_SUBPATH(cp, "%s.choices[%zu]", p, i);
            if (!f->choices[i])
                return s_null_elem(c, cp);
            size_t n = strlen(f->choices[i]);
            if (n == 0 || n > JK_CODEC_SHORT_TEXT_MAX || !jk_utf8_check(f->choices[i], n, NULL))
                return jk_error_set(c->err, JK_ERR_INVAL,
                                    "%s: must be 1..%u bytes of UTF-8 text", cp,
                                    JK_CODEC_SHORT_TEXT_MAX);
        }
    } else if (f->n_choices) {
        return s_forbid(c, p, "choices", "unless input is SELECT");
    }
    return s_uint(c, p, "max_chars", f->has_max_chars, f->max_chars, 1, JK_CODEC_FORM_VALUE_MAX,
                  false);
}

static jk_err_t s_check_paper_item(s_ctx_t *c, const char *p, const Jk__PaperItem *it)
{
    char sp[S_PATH_MAX];
    TRY(s_id(c, p, "item_id", it->item_id, true));
    TRY(s_uint(c, p, "number", it->has_number, it->number, 1, JK_CODEC_ITEMS_MAX, true));
    TRY(s_enum(c, p, "type", it->has_type, (int)it->type, &jk__item_type__descriptor, true));
    TRY(s_text(c, p, "stem", it->stem, JK_CODEC_STEM_MAX, true));
    TRY(s_uint(c, p, "points_centi", it->has_points_centi, it->points_centi, 1,
               JK_CODEC_POINTS_MAX_CENTI, true));
    TRY(s_text(c, p, "section", it->section, JK_CODEC_SHORT_TEXT_MAX, false));

    bool choice = it->type == JK__ITEM_TYPE__ITEM_TYPE_SINGLE_CHOICE ||
                  it->type == JK__ITEM_TYPE__ITEM_TYPE_MULTIPLE_CHOICE;
    if (choice) {
        TRY(s_count(c, p, "options", it->n_options, it->options, 2, JK_CODEC_OPTIONS_MAX));
        for (size_t i = 0; i < it->n_options; i++) {
            S_SUBPATH(sp, "%s.options[%zu]", p, i);
            if (!it->options[i])
                return s_null_elem(c, sp);
            TRY(s_check_option(c, sp, it->options[i]));
            for (size_t j = 0; j < i; j++)
                if (it->options[j]->option_id == it->options[i]->option_id)
                    return jk_error_set(c->err, JK_ERR_DUP,
                                        "%s.option_id: %" PRIu32 " repeats options[%zu]", sp,
                                        it->options[i]->option_id, j);
        }
    } else if (it->n_options) {
        return s_forbid(c, p, "options", "unless type is SINGLE_CHOICE or MULTIPLE_CHOICE");
    }

    if (it->type == JK__ITEM_TYPE__ITEM_TYPE_SIMULATED_OPERATION) {
        TRY(s_count(c, p, "form_fields", it->n_form_fields, it->form_fields, 1,
                    JK_CODEC_FORM_FIELDS_MAX));
        for (size_t i = 0; i < it->n_form_fields; i++) {
            S_SUBPATH(sp, "%s.form_fields[%zu]", p, i);
            if (!it->form_fields[i])
                return s_null_elem(c, sp);
            TRY(s_check_form_field_spec(c, sp, it->form_fields[i]));
            for (size_t j = 0; j < i; j++)
                if (strcmp(it->form_fields[j]->name, it->form_fields[i]->name) == 0)
                    return jk_error_set(c->err, JK_ERR_DUP, "%s.name: \"%s\" repeats "
                                                            "form_fields[%zu]",
                                        sp, it->form_fields[i]->name, j);
        }
    } else if (it->n_form_fields) {
        return s_forbid(c, p, "form_fields", "unless type is SIMULATED_OPERATION");
    }
    return JK_OK;
}

static jk_err_t s_check_paper(s_ctx_t *c, const char *p, const Jk__Paper *pa)
{
    TRY(s_id(c, p, "paper_id", pa->paper_id, true));
    TRY(s_enum(c, p, "exam", pa->has_exam, (int)pa->exam, &jk__exam_type__descriptor, true));
    TRY(s_level(c, p, "level", pa->has_level, pa->level));
    TRY(s_text(c, p, "title", pa->title, JK_CODEC_SHORT_TEXT_MAX, false));
    TRY(s_uint(c, p, "duration_ms", pa->has_duration_ms, pa->duration_ms,
               JK_CODEC_DURATION_MIN_MS, JK_CODEC_DURATION_MAX_MS, true));
    TRY(s_uint(c, p, "total_points_centi", pa->has_total_points_centi, pa->total_points_centi,
               JK_CODEC_POINTS_MAX_CENTI, JK_CODEC_POINTS_MAX_CENTI, true));
    TRY(s_count(c, p, "items", pa->n_items, pa->items, 1, JK_CODEC_ITEMS_MAX));
    uint64_t sum = 0;
    for (size_t i = 0; i < pa->n_items; i++) {
        char sp[S_PATH_MAX];
        S_SUBPATH(sp, "%s.items[%zu]", p, i);
        const Jk__PaperItem *it = pa->items[i];
        if (!it)
            return s_null_elem(c, sp);
        TRY(s_check_paper_item(c, sp, it));
        for (size_t j = 0; j < i; j++) {
            if (strcmp(pa->items[j]->item_id, it->item_id) == 0)
                return jk_error_set(c->err, JK_ERR_DUP, "%s.item_id: \"%s\" repeats items[%zu]",
                                    sp, it->item_id, j);
            if (pa->items[j]->number == it->number)
                return jk_error_set(c->err, JK_ERR_DUP,
                                    "%s.number: %" PRIu32 " repeats items[%zu]", sp,
                                    it->number, j);
        }
        sum += it->points_centi;
    }
    if (sum != pa->total_points_centi)
        return jk_error_set(c->err, JK_ERR_RANGE,
                            "%s.items: points sum to %" PRIu64 ", total_points_centi is %" PRIu32,
                            p, sum, pa->total_points_centi);
    return JK_OK;
}

static jk_err_t s_check_item_state(s_ctx_t *c, const char *p, const Jk__ItemState *is,
                                   uint64_t last_seq)
{
    TRY(s_id(c, p, "item_id", is->item_id, true));
    if (is->response) {
        char sp[S_PATH_MAX];
        S_SUBPATH(sp, "%s.response", p);
        TRY(s_check_response(c, sp, is->response));
    }
    TRY(s_bool(c, p, "flagged", is->has_flagged, true));
    TRY(s_uint(c, p, "change_counter", is->has_change_counter, is->change_counter, 1,
               JK_CODEC_CHANGES_MAX, true));
    return s_uint(c, p, "seq", is->has_seq, is->seq, 1, last_seq, true);
}

static jk_err_t s_check_session_state(s_ctx_t *c, const char *p, const Jk__SessionState *st)
{
    TRY(s_enum(c, p, "status", st->has_status, (int)st->status, &jk__session_status__descriptor,
               true));
    TRY(s_uint(c, p, "remaining_ms", st->has_remaining_ms, st->remaining_ms, 0,
               JK_CODEC_REMAINING_MAX_MS, true));
    TRY(s_uint(c, p, "last_seq", st->has_last_seq, st->last_seq, 0, JK_CODEC_SEQ_MAX, true));
    TRY(s_id(c, p, "paper_id", st->paper_id, false));
    TRY(s_id(c, p, "workstation_id", st->workstation_id, false));
    TRY(s_uint(c, p, "extension_total_ms", st->has_extension_total_ms, st->extension_total_ms, 0,
               JK_CODEC_REMAINING_MAX_MS, false));
    TRY(s_count(c, p, "items", st->n_items, st->items, 0, JK_CODEC_ITEMS_MAX));
    for (size_t i = 0; i < st->n_items; i++) {
        char sp[S_PATH_MAX];
        S_SUBPATH(sp, "%s.items[%zu]", p, i);
        if (!st->items[i])
            return s_null_elem(c, sp);
        TRY(s_check_item_state(c, sp, st->items[i], st->last_seq));
        for (size_t j = 0; j < i; j++)
            if (strcmp(st->items[j]->item_id, st->items[i]->item_id) == 0)
                return jk_error_set(c->err, JK_ERR_DUP, "%s.item_id: \"%s\" repeats items[%zu]",
                                    sp, st->items[i]->item_id, j);
    }
    return JK_OK;
}

/* ---------------------------------------------------------------------- */
/* Bodies.                                                                  */

static jk_err_t s_check_login_request(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__LoginRequest *b = e->login_request;
    TRY(s_id(c, p, "admission_no", b->admission_no, true));
    TRY(s_bytes(c, p, "credential", b->has_credential, &b->credential, 1,
                JK_CODEC_CREDENTIAL_MAX, true));
    TRY(s_id(c, p, "workstation_id", b->workstation_id, true));
    return s_id(c, p, "client_version", b->client_version, false);
}

static jk_err_t s_check_login_reply(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__LoginReply *b = e->login_reply;
    TRY(s_enum(c, p, "status", b->has_status, (int)b->status, &jk__login_status__descriptor,
               true));
    TRY(s_text(c, p, "message", b->message, JK_CODEC_SHORT_TEXT_MAX, false));
    TRY(s_text(c, p, "candidate_name", b->candidate_name, JK_CODEC_SHORT_TEXT_MAX, false));
    if (b->status == JK__LOGIN_STATUS__LOGIN_STATUS_OK) {
        static const char why[] = "when login_reply.status is OK";
        /* The ids themselves were checked with the envelope. */
        if (!e->exam_id)
            return s_missing(c, "envelope", "exam_id", why);
        if (!e->site_id)
            return s_missing(c, "envelope", "site_id", why);
        if (!e->room_id)
            return s_missing(c, "envelope", "room_id", why);
        if (!e->session_id)
            return s_missing(c, "envelope", "session_id", why);
        if (!e->candidate_id)
            return s_missing(c, "envelope", "candidate_id", why);
        if (!b->has_session_token)
            return s_missing(c, p, "session_token", why);
        TRY(s_bytes(c, p, "session_token", b->has_session_token, &b->session_token,
                    JK_CODEC_TOKEN_MIN, JK_CODEC_TOKEN_MAX, true));
        if (!b->paper)
            return s_missing(c, p, "paper", why);
        char sp[S_PATH_MAX];
        S_SUBPATH(sp, "%s.paper", p);
        TRY(s_check_paper(c, sp, b->paper));
        if (!b->has_remaining_ms)
            return s_missing(c, p, "remaining_ms", why);
        TRY(s_uint(c, p, "remaining_ms", b->has_remaining_ms, b->remaining_ms, 0,
                   JK_CODEC_REMAINING_MAX_MS, true));
        if (!b->has_session_status)
            return s_missing(c, p, "session_status", why);
        TRY(s_enum(c, p, "session_status", b->has_session_status, (int)b->session_status,
                   &jk__session_status__descriptor, true));
        if (b->session_status != JK__SESSION_STATUS__SESSION_STATUS_AUTHORIZED &&
            b->session_status != JK__SESSION_STATUS__SESSION_STATUS_IN_PROGRESS &&
            b->session_status != JK__SESSION_STATUS__SESSION_STATUS_PAUSED)
            return jk_error_set(c->err, JK_ERR_INVAL,
                                "%s.session_status: a login can only succeed into AUTHORIZED, "
                                "IN_PROGRESS or PAUSED",
                                p);
        if (b->state) {
            S_SUBPATH(sp, "%s.state", p);
            TRY(s_check_session_state(c, sp, b->state));
            if (b->state->status != b->session_status)
                return jk_error_set(c->err, JK_ERR_INVAL,
                                    "%s.state.status: differs from %s.session_status", p, p);
        }
    } else {
        /* Never a paper, a token or answers to someone who is not let in. */
        static const char why[] = "unless login_reply.status is OK";
        if (b->paper)
            return s_forbid(c, p, "paper", why);
        if (b->has_session_token)
            return s_forbid(c, p, "session_token", why);
        if (b->state)
            return s_forbid(c, p, "state", why);
        if (b->has_remaining_ms)
            return s_forbid(c, p, "remaining_ms", why);
        if (b->has_session_status)
            return s_forbid(c, p, "session_status", why);
    }
    if (b->has_retry_after_ms && b->status != JK__LOGIN_STATUS__LOGIN_STATUS_LOCKED)
        return s_forbid(c, p, "retry_after_ms", "unless login_reply.status is LOCKED");
    return s_uint(c, p, "retry_after_ms", b->has_retry_after_ms, b->retry_after_ms, 1,
                  JK_CODEC_DURATION_MAX_MS, false);
}

static jk_err_t s_check_session_open(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__SessionOpen *b = e->session_open;
    TRY(s_id(c, p, "paper_id", b->paper_id, true));
    TRY(s_bytes(c, p, "paper_digest", b->has_paper_digest, &b->paper_digest,
                JK_CODEC_DIGEST_LEN, JK_CODEC_DIGEST_LEN, true));
    TRY(s_enum(c, p, "exam", b->has_exam, (int)b->exam, &jk__exam_type__descriptor, true));
    TRY(s_level(c, p, "level", b->has_level, b->level));
    TRY(s_uint(c, p, "duration_ms", b->has_duration_ms, b->duration_ms, JK_CODEC_DURATION_MIN_MS,
               JK_CODEC_DURATION_MAX_MS, true));
    TRY(s_id(c, p, "workstation_id", b->workstation_id, true));
    return s_uint(c, p, "item_count", b->has_item_count, b->item_count, 1, JK_CODEC_ITEMS_MAX,
                  true);
}

static jk_err_t s_check_session_resume(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__SessionResume *b = e->session_resume;
    TRY(s_id(c, p, "old_workstation_id", b->old_workstation_id, false));
    TRY(s_id(c, p, "new_workstation_id", b->new_workstation_id, true));
    TRY(s_id(c, p, "proctor_id", b->proctor_id, true));
    TRY(s_text(c, p, "reason", b->reason, JK_CODEC_SHORT_TEXT_MAX, false));
    return s_uint(c, p, "last_seen_seq", b->has_last_seen_seq, b->last_seen_seq, 0,
                  JK_CODEC_SEQ_MAX, false);
}

static jk_err_t s_check_answer(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__Answer *b = e->answer;
    TRY(s_id(c, p, "item_id", b->item_id, true));
    if (b->response) {
        char sp[S_PATH_MAX];
        S_SUBPATH(sp, "%s.response", p);
        TRY(s_check_response(c, sp, b->response));
    }
    TRY(s_bool(c, p, "flagged", b->has_flagged, true));
    TRY(s_uint(c, p, "change_counter", b->has_change_counter, b->change_counter, 1,
               JK_CODEC_CHANGES_MAX, true));
    return s_uint(c, p, "item_time_ms", b->has_item_time_ms, b->item_time_ms, 0,
                  JK_CODEC_DURATION_MAX_MS, false);
}

static jk_err_t s_check_submit(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__Submit *b = e->submit;
    TRY(s_enum(c, p, "reason", b->has_reason, (int)b->reason, &jk__submit_reason__descriptor,
               true));
    TRY(s_uint(c, p, "final_event_count", b->has_final_event_count, b->final_event_count, 0,
               JK_CODEC_SEQ_MAX, true));
    /* seq was checked (>= 1) before the body. */
    if (b->final_event_count != e->seq - 1)
        return jk_error_set(c->err, JK_ERR_RANGE,
                            "%s.final_event_count: %" PRIu64 " but envelope.seq is %" PRIu64
                            " (must be seq - 1: every earlier event of the session)",
                            p, b->final_event_count, e->seq);
    TRY(s_bytes(c, p, "digest", b->has_digest, &b->digest, JK_CODEC_DIGEST_LEN,
                JK_CODEC_DIGEST_LEN, true));
    if (b->reason == JK__SUBMIT_REASON__SUBMIT_REASON_PROCTOR_FORCE) {
        static const char why[] = "when submit.reason is PROCTOR_FORCE";
        if (!b->proctor_id)
            return s_missing(c, p, "proctor_id", why);
        TRY(s_id(c, p, "proctor_id", b->proctor_id, true));
        if (!b->reason_text)
            return s_missing(c, p, "reason_text", why);
        TRY(s_text(c, p, "reason_text", b->reason_text, JK_CODEC_SHORT_TEXT_MAX, true));
    } else {
        if (b->proctor_id)
            return s_forbid(c, p, "proctor_id", "unless submit.reason is PROCTOR_FORCE");
        TRY(s_text(c, p, "reason_text", b->reason_text, JK_CODEC_SHORT_TEXT_MAX, false));
    }
    return s_uint(c, p, "answered_count", b->has_answered_count, b->answered_count, 0,
                  JK_CODEC_ITEMS_MAX, false);
}

static jk_err_t s_check_ack(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__Ack *b = e->ack;
    TRY(s_uint(c, p, "acked_message_id", b->has_acked_message_id, b->acked_message_id, 1,
               UINT64_MAX, true));
    TRY(s_uint(c, p, "acked_seq", b->has_acked_seq, b->acked_seq, 1, JK_CODEC_SEQ_MAX, false));
    TRY(s_enum(c, p, "status", b->has_status, (int)b->status, &jk__ack_status__descriptor, true));
    if (b->status == JK__ACK_STATUS__ACK_STATUS_REJECTED) {
        if (!b->has_reason)
            return s_missing(c, p, "reason", "when ack.status is REJECTED");
        TRY(s_enum(c, p, "reason", b->has_reason, (int)b->reason,
                   &jk__reject_reason__descriptor, true));
    } else if (b->has_reason) {
        return s_forbid(c, p, "reason", "unless ack.status is REJECTED");
    }
    TRY(s_text(c, p, "reason_text", b->reason_text, JK_CODEC_SHORT_TEXT_MAX, false));
    if (b->has_retry_after_ms && b->status != JK__ACK_STATUS__ACK_STATUS_RETRY_LATER)
        return s_forbid(c, p, "retry_after_ms", "unless ack.status is RETRY_LATER");
    return s_uint(c, p, "retry_after_ms", b->has_retry_after_ms, b->retry_after_ms, 1,
                  JK_CODEC_RETRY_MAX_MS, false);
}

static jk_err_t s_check_heartbeat(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__Heartbeat *b = e->heartbeat;
    TRY(s_uint(c, p, "interval_ms", b->has_interval_ms, b->interval_ms,
               JK_CODEC_HEARTBEAT_MIN_MS, JK_CODEC_HEARTBEAT_MAX_MS, true));
    return s_uint(c, p, "in_flight", b->has_in_flight, b->in_flight, 0, JK_CODEC_CAPACITY_MAX,
                  false);
}

static jk_err_t s_check_worker_ready(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__WorkerReady *b = e->worker_ready;
    TRY(s_id(c, p, "service", b->service, true));
    TRY(s_uint(c, p, "capacity", b->has_capacity, b->capacity, 1, JK_CODEC_CAPACITY_MAX, true));
    return s_id(c, p, "software_version", b->software_version, false);
}

static jk_err_t s_check_credit(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__Credit *b = e->credit;
    return s_uint(c, p, "credit", b->has_credit, b->credit, 1, JK_CODEC_CAPACITY_MAX, true);
}

static jk_err_t s_check_disconnect(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__Disconnect *b = e->disconnect;
    TRY(s_text(c, p, "reason", b->reason, JK_CODEC_SHORT_TEXT_MAX, false));
    return s_uint(c, p, "reconnect_after_ms", b->has_reconnect_after_ms, b->reconnect_after_ms,
                  0, JK_CODEC_RETRY_MAX_MS, false);
}

static jk_err_t s_check_proctor_action(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__ProctorAction *b = e->proctor_action;
    TRY(s_enum(c, p, "action", b->has_action, (int)b->action,
               &jk__proctor_action_kind__descriptor, true));
    TRY(s_id(c, p, "proctor_id", b->proctor_id, true));
    bool need_reason = b->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME ||
                       b->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID ||
                       b->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT;
    if (need_reason && !b->reason)
        return s_missing(c, p, "reason", "for EXTEND_TIME, VOID and FORCE_SUBMIT");
    TRY(s_text(c, p, "reason", b->reason, JK_CODEC_SHORT_TEXT_MAX, need_reason));
    if (b->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME) {
        if (!b->has_extension_ms)
            return s_missing(c, p, "extension_ms", "for EXTEND_TIME");
        return s_uint(c, p, "extension_ms", b->has_extension_ms, b->extension_ms, 1,
                      JK_CODEC_EXTENSION_MAX_MS, true);
    }
    if (b->has_extension_ms)
        return s_forbid(c, p, "extension_ms", "unless proctor_action.action is EXTEND_TIME");
    return JK_OK;
}

static jk_err_t s_check_examiner_score(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__ExaminerScore *b = e->examiner_score;
    TRY(s_id(c, p, "task_id", b->task_id, true));
    TRY(s_id(c, p, "part_id", b->part_id, true));
    TRY(s_id(c, p, "examiner_id", b->examiner_id, true));
    TRY(s_uint(c, p, "max_points_centi", b->has_max_points_centi, b->max_points_centi, 1,
               JK_CODEC_POINTS_MAX_CENTI, true));
    TRY(s_uint(c, p, "points_centi", b->has_points_centi, b->points_centi, 0,
               b->max_points_centi, true));
    return s_text(c, p, "comment", b->comment, JK_CODEC_SHORT_TEXT_MAX, false);
}

static bool s_result_has_score(Jk__ResultStatus st)
{
    return st == JK__RESULT_STATUS__RESULT_STATUS_SCORED ||
           st == JK__RESULT_STATUS__RESULT_STATUS_CARRIED_OVER;
}

static jk_err_t s_check_exam_result(s_ctx_t *c, const char *p, const char *f,
                                    const Jk__ExamResult *r, Jk__ExamType want)
{
    char sp[S_PATH_MAX];
    if (!r)
        return s_missing(c, p, f, NULL);
    S_SUBPATH(sp, "%s.%s", p, f);
    TRY(s_enum(c, sp, "exam", r->has_exam, (int)r->exam, &jk__exam_type__descriptor, true));
    if (r->exam != want)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.exam: must be %s here", sp,
                            want == JK__EXAM_TYPE__EXAM_TYPE_THEORY ? "THEORY" : "SKILLS");
    TRY(s_enum(c, sp, "status", r->has_status, (int)r->status, &jk__result_status__descriptor,
               true));
    TRY(s_id(c, sp, "session_id", r->session_id, false));
    if (!s_result_has_score(r->status)) {
        static const char why[] = "unless status is SCORED or CARRIED_OVER";
        if (r->has_total_centi)
            return s_forbid(c, sp, "total_centi", why);
        if (r->has_passed)
            return s_forbid(c, sp, "passed", why);
        if (r->n_areas)
            return s_forbid(c, sp, "areas", why);
        return JK_OK;
    }
    TRY(s_uint(c, sp, "total_centi", r->has_total_centi, r->total_centi, 0,
               JK_CODEC_POINTS_MAX_CENTI, true));
    TRY(s_bool(c, sp, "passed", r->has_passed, true));
    if ((bool)r->passed != (r->total_centi >= JK_CODEC_PASS_CENTI))
        return jk_error_set(c->err, JK_ERR_INVAL,
                            "%s.passed: %s but total_centi is %" PRIu32 " (pass mark %u)", sp,
                            r->passed ? "true" : "false", r->total_centi, JK_CODEC_PASS_CENTI);
    TRY(s_count(c, sp, "areas", r->n_areas, r->areas, 0, JK_CODEC_AREAS_MAX));
    if (r->n_areas == 0)
        return JK_OK;
    uint64_t sum = 0, sum_max = 0;
    for (size_t i = 0; i < r->n_areas; i++) {
        char ap[S_PATH_MAX];
        S_SUBPATH(ap, "%s.areas[%zu]", sp, i);
        const Jk__AreaScore *a = r->areas[i];
        if (!a)
            return s_null_elem(c, ap);
        TRY(s_id(c, ap, "area_code", a->area_code, true));
        TRY(s_uint(c, ap, "max_points_centi", a->has_max_points_centi, a->max_points_centi, 1,
                   JK_CODEC_POINTS_MAX_CENTI, true));
        TRY(s_uint(c, ap, "points_centi", a->has_points_centi, a->points_centi, 0,
                   a->max_points_centi, true));
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->areas[j]->area_code, a->area_code) == 0)
                return jk_error_set(c->err, JK_ERR_DUP, "%s.area_code: \"%s\" repeats areas[%zu]",
                                    ap, a->area_code, j);
        sum += a->points_centi;
        sum_max += a->max_points_centi;
    }
    if (sum != r->total_centi)
        return jk_error_set(c->err, JK_ERR_RANGE,
                            "%s.areas: points sum to %" PRIu64 ", total_centi is %" PRIu32, sp,
                            sum, r->total_centi);
    if (sum_max != JK_CODEC_POINTS_MAX_CENTI)
        return jk_error_set(c->err, JK_ERR_RANGE,
                            "%s.areas: max_points_centi sum to %" PRIu64 ", not %u", sp, sum_max,
                            JK_CODEC_POINTS_MAX_CENTI);
    return JK_OK;
}

static jk_err_t s_check_result(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__Result *b = e->result;
    TRY(s_level(c, p, "level", b->has_level, b->level));
    TRY(s_check_exam_result(c, p, "theory", b->theory, JK__EXAM_TYPE__EXAM_TYPE_THEORY));
    TRY(s_check_exam_result(c, p, "skills", b->skills, JK__EXAM_TYPE__EXAM_TYPE_SKILLS));
    TRY(s_bool(c, p, "passed", b->has_passed, true));
    bool both = s_result_has_score(b->theory->status) && b->theory->passed &&
                s_result_has_score(b->skills->status) && b->skills->passed;
    if ((bool)b->passed != both)
        return jk_error_set(c->err, JK_ERR_INVAL,
                            "%s.passed: %s but it must be true exactly when both theory and "
                            "skills are passed",
                            p, b->passed ? "true" : "false");
    return JK_OK;
}

static jk_err_t s_check_reconcile_request(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__ReconcileRequest *b = e->reconcile_request;
    TRY(s_uint(c, p, "event_count", b->has_event_count, b->event_count, 1, JK_CODEC_SEQ_MAX,
               true));
    return s_bytes(c, p, "digest", b->has_digest, &b->digest, JK_CODEC_DIGEST_LEN,
                   JK_CODEC_DIGEST_LEN, true);
}

static jk_err_t s_check_reconcile_reply(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__ReconcileReply *b = e->reconcile_reply;
    TRY(s_uint(c, p, "request_message_id", b->has_request_message_id, b->request_message_id, 1,
               UINT64_MAX, true));
    TRY(s_enum(c, p, "status", b->has_status, (int)b->status, &jk__reconcile_status__descriptor,
               true));
    TRY(s_uint(c, p, "center_event_count", b->has_center_event_count, b->center_event_count, 0,
               JK_CODEC_SEQ_MAX, true));
    TRY(s_bytes(c, p, "center_digest", b->has_center_digest, &b->center_digest,
                JK_CODEC_DIGEST_LEN, JK_CODEC_DIGEST_LEN, true));
    if (b->n_missing_seq && b->status != JK__RECONCILE_STATUS__RECONCILE_STATUS_MISMATCH)
        return s_forbid(c, p, "missing_seq", "unless reconcile_reply.status is MISMATCH");
    TRY(s_count(c, p, "missing_seq", b->n_missing_seq, b->missing_seq, 0,
                JK_CODEC_MISSING_SEQ_MAX));
    for (size_t i = 0; i < b->n_missing_seq; i++) {
        uint64_t v = b->missing_seq[i];
        if (v < 1 || v > JK_CODEC_SEQ_MAX)
            return jk_error_set(c->err, JK_ERR_RANGE,
                                "%s.missing_seq[%zu]: %" PRIu64 " outside 1..%u", p, i, v,
                                JK_CODEC_SEQ_MAX);
        if (i > 0 && v <= b->missing_seq[i - 1])
            return jk_error_set(c->err, JK_ERR_INVAL,
                                "%s.missing_seq[%zu]: %" PRIu64 " not above the previous one", p,
                                i, v);
    }
    return JK_OK;
}

static jk_err_t s_check_package_release(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__PackageRelease *b = e->package_release;
    TRY(s_id(c, p, "package_id", b->package_id, true));
    TRY(s_id(c, p, "key_id", b->key_id, true));
    TRY(s_enum(c, p, "cipher", b->has_cipher, (int)b->cipher, &jk__cipher__descriptor, true));
    TRY(s_bytes(c, p, "key", b->has_key, &b->key, JK_CODEC_PACKAGE_KEY_LEN,
                JK_CODEC_PACKAGE_KEY_LEN, true));
    TRY(s_bytes(c, p, "package_digest", b->has_package_digest, &b->package_digest,
                JK_CODEC_DIGEST_LEN, JK_CODEC_DIGEST_LEN, true));
    return s_time(c, p, "not_before_time_ms", b->has_not_before_time_ms, b->not_before_time_ms,
                  false);
}

static jk_err_t s_check_package_request(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    return s_id(c, p, "package_id", e->package_request->package_id, true);
}

static jk_err_t s_check_session_state_body(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    return s_check_session_state(c, p, e->session_state);
}

static jk_err_t s_check_state_request(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    (void)c;
    (void)e;
    (void)p;
    return JK_OK; /* include_answers is an optional bool: nothing to bound */
}

/* Caliper event types, the object type each acts on and its legal actions. */
#define S_BIT(a) (1u << (JK__CALIPER_ACTION__CALIPER_ACTION_##a))
static const struct {
    Jk__ObjectType object;
    unsigned actions;
} s_caliper[] = {
    [JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_EVENT] =
        {JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT,
         S_BIT(STARTED) | S_BIT(PAUSED) | S_BIT(RESUMED) | S_BIT(SUBMITTED)},
    [JK__CALIPER_TYPE__CALIPER_TYPE_ASSESSMENT_ITEM_EVENT] =
        {JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT_ITEM,
         S_BIT(STARTED) | S_BIT(COMPLETED) | S_BIT(SKIPPED)},
    [JK__CALIPER_TYPE__CALIPER_TYPE_SESSION_EVENT] =
        {JK__OBJECT_TYPE__OBJECT_TYPE_SESSION,
         S_BIT(LOGGED_IN) | S_BIT(LOGGED_OUT) | S_BIT(TIMED_OUT)},
    [JK__CALIPER_TYPE__CALIPER_TYPE_GRADE_EVENT] = {JK__OBJECT_TYPE__OBJECT_TYPE_ATTEMPT,
                                                    S_BIT(GRADED)},
    [JK__CALIPER_TYPE__CALIPER_TYPE_PROCTOR_EVENT] =
        {JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT,
         S_BIT(AUTHORIZED) | S_BIT(EXTENDED) | S_BIT(VOIDED) | S_BIT(MARKED_ABSENT)},
};
#undef S_BIT

static jk_err_t s_check_monitor_event(s_ctx_t *c, const Jk__Envelope *e, const char *p)
{
    const Jk__MonitorEvent *b = e->monitor_event;
    char sp[S_PATH_MAX];
    TRY(s_enum(c, p, "type", b->has_type, (int)b->type, &jk__caliper_type__descriptor, true));
    TRY(s_enum(c, p, "action", b->has_action, (int)b->action, &jk__caliper_action__descriptor,
               true));
    if (!(s_caliper[b->type].actions & (1u << b->action)))
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.action: %s is not an action of %s", p,
                            protobuf_c_enum_descriptor_get_value(&jk__caliper_action__descriptor,
                                                                 (int)b->action)
                                ->name,
                            protobuf_c_enum_descriptor_get_value(&jk__caliper_type__descriptor,
                                                                 (int)b->type)
                                ->name);
    TRY(s_msg(c, p, "actor", b->actor, true));
    S_SUBPATH(sp, "%s.actor", p);
    TRY(s_enum(c, sp, "role", b->actor->has_role, (int)b->actor->role,
               &jk__actor_role__descriptor, true));
    TRY(s_id(c, sp, "id", b->actor->id, true));
    TRY(s_msg(c, p, "object", b->object, true));
    S_SUBPATH(sp, "%s.object", p);
    TRY(s_enum(c, sp, "type", b->object->has_type, (int)b->object->type,
               &jk__object_type__descriptor, true));
    if (b->object->type != s_caliper[b->type].object)
        return jk_error_set(c->err, JK_ERR_INVAL, "%s.type: %s does not act on %s", sp,
                            protobuf_c_enum_descriptor_get_value(&jk__caliper_type__descriptor,
                                                                 (int)b->type)
                                ->name,
                            protobuf_c_enum_descriptor_get_value(&jk__object_type__descriptor,
                                                                 (int)b->object->type)
                                ->name);
    TRY(s_id(c, sp, "id", b->object->id, true));
    TRY(s_time(c, p, "event_time_ms", b->has_event_time_ms, b->event_time_ms, true));
    TRY(s_id(c, p, "ed_app", b->ed_app, true));
    TRY(s_enum(c, p, "source_kind", b->has_source_kind, (int)b->source_kind,
               &jk__kind__descriptor, true));
    TRY(s_uint(c, p, "source_seq", b->has_source_seq, b->source_seq, 1, JK_CODEC_SEQ_MAX, false));
    TRY(s_uint(c, p, "stream_epoch", b->has_stream_epoch, b->stream_epoch, 1, UINT64_MAX, true));
    TRY(s_uint(c, p, "stream_seq", b->has_stream_seq, b->stream_seq, 1, UINT64_MAX, true));
    if (b->action == JK__CALIPER_ACTION__CALIPER_ACTION_EXTENDED) {
        if (!b->has_extension_ms)
            return s_missing(c, p, "extension_ms", "for action EXTENDED");
        return s_uint(c, p, "extension_ms", b->has_extension_ms, b->extension_ms, 1,
                      JK_CODEC_EXTENSION_MAX_MS, true);
    }
    if (b->has_extension_ms)
        return s_forbid(c, p, "extension_ms", "unless monitor_event.action is EXTENDED");
    return JK_OK;
}

/* ---------------------------------------------------------------------- */
/* The envelope.                                                            */

static const void *s_body_ptr(const Jk__Envelope *e)
{
    /* Every member of the body oneof is a message pointer sharing one slot. */
    return e->body_case == JK__ENVELOPE__BODY__NOT_SET ? NULL : (const void *)e->login_request;
}

jk_err_t jk_codec_validate(const Jk__Envelope *e, const jk_codec_limits_t *lim,
                           jk_error_t *err)
{
    jk_codec_limits_t def;
    if (!lim) {
        jk_codec_limits_default(&def);
        lim = &def;
    }
    if (!e || e->base.descriptor != &jk__envelope__descriptor)
        return jk_error_set(err, JK_ERR_INVAL, "envelope: not a jk.Envelope");
    s_ctx_t ctx = {lim, err}, *c = &ctx;
    static const char p[] = "envelope";

    if (!e->has_schema_version)
        return s_missing(c, p, "schema_version", NULL);
    if (e->schema_version != JK_SCHEMA_VERSION)
        return jk_error_set(err, JK_ERR_VERSION,
                            "envelope.schema_version: %" PRIu32 " is not supported (this build "
                            "speaks %u only)",
                            e->schema_version, JK_SCHEMA_VERSION);
    if (!e->has_kind)
        return s_missing(c, p, "kind", NULL);
    const s_kind_t *k = s_kind((int)e->kind);
    if (!k)
        return jk_error_set(err, JK_ERR_INVAL, "envelope.kind: %d is not a known kind",
                            (int)e->kind);
    const char *kname = jk_codec_kind_name(e->kind);
    if (e->body_case == JK__ENVELOPE__BODY__NOT_SET || !s_body_ptr(e))
        return jk_error_set(err, JK_ERR_MISSING, "envelope.body: required (member %s for kind %s)",
                            kname, kname);
    if ((int)e->body_case != S_BODY_OF((int)e->kind)) {
        const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(
            &jk__envelope__descriptor, (unsigned)e->body_case);
        return jk_error_set(err, JK_ERR_INVAL,
                            "envelope.body: member %s does not match kind %s",
                            fd ? fd->name : "?", kname);
    }

    TRY(s_id(c, p, "node_id", e->node_id, true));
    TRY(s_uint(c, p, "message_id", e->has_message_id, e->message_id, 1, UINT64_MAX, true));
    TRY(s_time(c, p, "sent_time_ms", e->has_sent_time_ms, e->sent_time_ms, true));
    TRY(s_id(c, p, "key_id", e->key_id, false));
    TRY(s_bytes(c, p, "auth_tag", e->has_auth_tag, &e->auth_tag, JK_CODEC_TAG_LEN,
                JK_CODEC_TAG_LEN, lim->require_auth_tag));
    TRY(s_id(c, p, "exam_id", e->exam_id, k->need & S_NEED_EXAM));
    TRY(s_id(c, p, "site_id", e->site_id, k->need & S_NEED_SITE));
    TRY(s_id(c, p, "room_id", e->room_id, k->need & S_NEED_ROOM));
    TRY(s_id(c, p, "session_id", e->session_id, k->need & S_NEED_SESSION));
    TRY(s_id(c, p, "candidate_id", e->candidate_id, k->need & S_NEED_CANDIDATE));
    if (k->session_event)
        TRY(s_uint(c, p, "seq", e->has_seq, e->seq, 1, JK_CODEC_SEQ_MAX, true));
    else if (e->has_seq)
        return s_forbid(c, p, "seq", "on a message that is not a session event");
    TRY(s_time(c, p, "event_time_ms", e->has_event_time_ms, e->event_time_ms,
               k->need & S_NEED_EVENT_TIME));
    return k->check(c, e, kname);
}

/* ---------------------------------------------------------------------- */
/* Wire format: varints, the shallow peek, the schema-driven pre-scan.      */

/* Reads a varint from p[*off..n). Returns 0 on success; -1 if it runs past
 * n, is longer than 10 bytes or exceeds 64 bits. */
static int s_varint(const uint8_t *p, size_t n, size_t *off, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*off >= n)
            return -1;
        uint8_t b = p[(*off)++];
        if (i == 9 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7fu) << (7u * i);
        if (!(b & 0x80u)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Skips one value of wire type wt; 0 on success. */
static int s_skip(const uint8_t *p, size_t n, size_t *off, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0:
        return s_varint(p, n, off, &v);
    case 1:
        if (n - *off < 8)
            return -1;
        *off += 8;
        return 0;
    case 5:
        if (n - *off < 4)
            return -1;
        *off += 4;
        return 0;
    case 2:
        if (s_varint(p, n, off, &v) || v > n - *off)
            return -1;
        *off += (size_t)v;
        return 0;
    default:
        return -1; /* groups (3, 4) and 6, 7 are not used by this schema */
    }
}

/* Finds schema_version (1) and kind (2) at the top level without the
 * schema, so that a message of another version is refused as such rather
 * than as a parse error. */
static jk_err_t s_peek(const uint8_t *buf, size_t len, bool *has_ver, uint64_t *ver,
                       bool *has_kind, uint64_t *kind, jk_error_t *err)
{
    size_t off = 0;
    *has_ver = *has_kind = false;
    while (off < len) {
        size_t at = off;
        uint64_t key, v;
        if (s_varint(buf, len, &off, &key))
            return jk_error_set(err, JK_ERR_PARSE, "envelope: bad field key at byte %zu", at);
        unsigned wt = (unsigned)(key & 7u);
        uint64_t num = key >> 3;
        if (wt == 0 && (num == 1 || num == 2)) {
            if (s_varint(buf, len, &off, &v))
                return jk_error_set(err, JK_ERR_PARSE, "envelope: truncated varint at byte %zu",
                                    at);
            if (num == 1) {
                *has_ver = true;
                *ver = v;
            } else {
                *has_kind = true;
                *kind = v;
            }
        } else if (s_skip(buf, len, &off, wt)) {
            return jk_error_set(err, JK_ERR_PARSE,
                                "envelope: field %" PRIu64 " (wire type %u) at byte %zu is "
                                "truncated or of an unused wire type",
                                num, wt, at);
        }
    }
    return JK_OK;
}

typedef struct {
    size_t fields;     /* fields seen so far, all depths */
    size_t max_fields;
    jk_error_t *err;
    char path[S_PATH_MAX];
} s_scan_t;

static unsigned s_wire_type(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 5;
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return 2;
    default:
        return 0; /* varint types */
    }
}

/* Sets s->path to the path of field fd (element index if repeated) under the
 * path of length plen. Top-level body members are roots of their own
 * ("answer"); other top-level fields live under "envelope". */
static size_t s_path_put(s_scan_t *s, size_t at, const char *str, size_t n)
{
    size_t room = sizeof s->path - 1 - at;
    if (n > room)
        n = room;
    memcpy(s->path + at, str, n);
    s->path[at + n] = '\0';
    return at + n;
}

static void s_path_set(s_scan_t *s, size_t plen, unsigned depth,
                       const ProtobufCFieldDescriptor *fd, uint32_t index)
{
    /* Built on every field, read only on an error: plain copies, no
     * printf (the scan is on the hot path of every message). */
    size_t at = plen;
    if (depth == 0 && !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        at = s_path_put(s, at, "envelope.", 9);
    else if (depth > 0)
        at = s_path_put(s, at, ".", 1);
    at = s_path_put(s, at, fd->name, strlen(fd->name));
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        char num[16];
        size_t k = sizeof num;
        num[--k] = ']';
        do {
            num[--k] = (char)('0' + index % 10);
            index /= 10;
        } while (index);
        num[--k] = '[';
        s_path_put(s, at, num + k, sizeof num - k);
    }
}

static jk_err_t s_scan_count(s_scan_t *s)
{
    if (++s->fields > s->max_fields)
        return jk_error_set(s->err, JK_ERR_TOO_BIG,
                            "envelope: more than %zu fields (at %s); limit for this kind",
                            s->max_fields, s->path);
    return JK_OK;
}

static jk_err_t s_scan_msg(s_scan_t *s, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                           size_t n, unsigned depth)
{
    const size_t plen = strlen(s->path);
    uint32_t count[S_MAX_MSG_FIELDS] = {0};
    if (d->n_fields > S_MAX_MSG_FIELDS)
        return jk_error_set(s->err, JK_ERR_INTERNAL, "%s has more fields than the scanner holds",
                            d->name);
    size_t off = 0;
    while (off < n) {
        s->path[plen] = '\0';
        const char *where = plen ? s->path : "envelope";
        size_t at = off;
        uint64_t key;
        if (s_varint(p, n, &off, &key))
            return jk_error_set(s->err, JK_ERR_PARSE, "%s: bad field key at byte %zu", where, at);
        uint64_t num = key >> 3;
        unsigned wt = (unsigned)(key & 7u);
        const ProtobufCFieldDescriptor *fd =
            (num >= 1 && num <= UINT32_MAX)
                ? protobuf_c_message_descriptor_get_field(d, (unsigned)num)
                : NULL;
        if (!fd)
            return jk_error_set(s->err, JK_ERR_PARSE,
                                "%s: unknown field number %" PRIu64
                                " (not in schema version %u)",
                                where, num, JK_SCHEMA_VERSION);
        size_t idx = (size_t)(fd - d->fields);
        bool rep = fd->label == PROTOBUF_C_LABEL_REPEATED;
        unsigned want = s_wire_type(fd->type);
        s_path_set(s, plen, depth, fd, count[idx]);

        if (!rep && count[idx])
            return jk_error_set(s->err, JK_ERR_PARSE, "%s: appears more than once", s->path);
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            for (size_t j = 0; j < d->n_fields; j++)
                if (j != idx && count[j] && (d->fields[j].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                    d->fields[j].quantifier_offset == fd->quantifier_offset)
                    return jk_error_set(s->err, JK_ERR_PARSE,
                                        "%s: a second member of a oneof (%s is set)", s->path,
                                        d->fields[j].name);

        if (rep && want != 2 && wt == 2) {
            /* A packed run of scalars: each element counts. */
            uint64_t l;
            if (s_varint(p, n, &off, &l) || l > n - off)
                return jk_error_set(s->err, JK_ERR_PARSE, "%s: packed run past the end",
                                    s->path);
            const uint8_t *q = p + off;
            size_t qn = (size_t)l, qo = 0;
            off += qn;
            while (qo < qn) {
                s_path_set(s, plen, depth, fd, count[idx]);
                if (s_skip(q, qn, &qo, want))
                    return jk_error_set(s->err, JK_ERR_PARSE, "%s: bad element in packed run",
                                        s->path);
                TRY(s_scan_count(s));
                count[idx]++;
            }
            continue;
        }
        if (wt != want)
            return jk_error_set(s->err, JK_ERR_PARSE, "%s: wire type %u, the schema says %u",
                                s->path, wt, want);
        TRY(s_scan_count(s));
        count[idx]++;
        if (wt != 2) {
            if (s_skip(p, n, &off, wt))
                return jk_error_set(s->err, JK_ERR_PARSE, "%s: truncated value", s->path);
            continue;
        }
        uint64_t l;
        if (s_varint(p, n, &off, &l))
            return jk_error_set(s->err, JK_ERR_PARSE, "%s: truncated length", s->path);
        if (l > n - off)
            return jk_error_set(s->err, JK_ERR_PARSE,
                                "%s: length %" PRIu64 " runs past the end (%zu bytes left)",
                                s->path, l, n - off);
        const uint8_t *q = p + off;
        off += (size_t)l;
        if (fd->type == PROTOBUF_C_TYPE_STRING && memchr(q, 0, (size_t)l))
            return jk_error_set(s->err, JK_ERR_INVAL, "%s: NUL byte inside a string", s->path);
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (depth + 1 >= S_MAX_DEPTH)
                return jk_error_set(s->err, JK_ERR_PARSE, "%s: nested too deep", s->path);
            TRY(s_scan_msg(s, fd->descriptor, q, (size_t)l, depth + 1));
        }
    }
    s->path[plen] = '\0';
    return JK_OK;
}

/* ---------------------------------------------------------------------- */
/* Decode, free, encode.                                                    */

/* Packs m into a new malloc'd buffer. */
static jk_err_t s_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len, jk_error_t *err)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        return jk_error_set(err, JK_ERR_NOMEM, "envelope: cannot allocate %zu bytes", n);
    size_t w = protobuf_c_message_pack(m, b);
    if (w != n) {
        free(b);
        return jk_error_set(err, JK_ERR_INTERNAL, "envelope: packed %zu bytes, expected %zu", w,
                            n);
    }
    *out = b;
    *len = n;
    return JK_OK;
}

/* Frees a temporary packed copy, wiping it first: it may hold a package
 * key, a credential or a session token. */
static void s_free_packed(uint8_t *buf, size_t n)
{
    if (!buf)
        return;
    OPENSSL_cleanse(buf, n);
    free(buf);
}

static void s_wipe(ProtobufCBinaryData *b)
{
    if (b->data && b->len)
        OPENSSL_cleanse(b->data, b->len);
}

void jk_codec_free(Jk__Envelope **env)
{
    if (!env || !*env)
        return;
    Jk__Envelope *e = *env;
    /* Secrets do not outlive the message in freed heap memory. */
    if (e->body_case == JK__ENVELOPE__BODY_PACKAGE_RELEASE && e->package_release)
        s_wipe(&e->package_release->key);
    else if (e->body_case == JK__ENVELOPE__BODY_LOGIN_REQUEST && e->login_request)
        s_wipe(&e->login_request->credential);
    else if (e->body_case == JK__ENVELOPE__BODY_LOGIN_REPLY && e->login_reply)
        s_wipe(&e->login_reply->session_token);
    protobuf_c_message_free_unpacked(&e->base, NULL);
    *env = NULL;
}

jk_err_t jk_codec_decode(const uint8_t *buf, size_t len, const jk_codec_limits_t *lim,
                         Jk__Envelope **out, jk_error_t *err)
{
    jk_codec_limits_t def;
    if (!out)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_decode: out is NULL");
    *out = NULL;
    if (!buf && len)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_decode: buf is NULL");
    if (!lim) {
        jk_codec_limits_default(&def);
        lim = &def;
    }
    static const uint8_t empty[1];
    if (!buf)
        buf = empty;

    /* 1. The largest bound of any kind. */
    size_t cap = lim->max_bytes > lim->max_large_bytes ? lim->max_bytes : lim->max_large_bytes;
    if (len > cap)
        return jk_error_set(err, JK_ERR_TOO_BIG, "envelope: %zu bytes, max %zu", len, cap);

    /* 2-3. Version first: a message of another version is refused as such. */
    bool has_ver, has_kind;
    uint64_t ver = 0, kind = 0;
    TRY(s_peek(buf, len, &has_ver, &ver, &has_kind, &kind, err));
    if (!has_ver)
        return jk_error_set(err, JK_ERR_MISSING, "envelope.schema_version: required");
    if (ver != JK_SCHEMA_VERSION)
        return jk_error_set(err, JK_ERR_VERSION,
                            "envelope.schema_version: %" PRIu64 " is not supported (this build "
                            "speaks %u only)",
                            ver, JK_SCHEMA_VERSION);

    /* 4. The kind's own bound. */
    bool large = has_kind && kind <= S_KIND_LAST && jk_codec_kind_is_large((Jk__Kind)kind);
    size_t max_bytes = large ? lim->max_large_bytes : lim->max_bytes;
    if (len > max_bytes)
        return jk_error_set(err, JK_ERR_TOO_BIG, "envelope: %zu bytes, max %zu for kind %s", len,
                            max_bytes,
                            has_kind && kind <= S_KIND_LAST ? jk_codec_kind_name((Jk__Kind)kind)
                                                            : "?");

    /* 5. Pre-scan before protobuf-c allocates anything. */
    s_scan_t scan = {0, large ? lim->max_large_fields : lim->max_fields, err, {0}};
    TRY(s_scan_msg(&scan, &jk__envelope__descriptor, buf, len, 0));

    /* 6. Unpack. */
    Jk__Envelope *env = jk__envelope__unpack(NULL, len, buf);
    if (!env)
        return jk_error_set(err, JK_ERR_PARSE, "envelope: protobuf-c could not unpack %zu bytes",
                            len);

    /* 7. Canonical encoding. */
    jk_err_t rc = JK_OK;
    if (!lim->allow_noncanonical) {
        size_t n = protobuf_c_message_get_packed_size(&env->base);
        if (n != len) {
            rc = jk_error_set(err, JK_ERR_PARSE,
                              "envelope: not canonically encoded (%zu bytes repack to %zu)", len,
                              n);
            goto cleanup;
        }
        uint8_t *re = NULL;
        size_t relen = 0;
        rc = s_pack(&env->base, &re, &relen, err);
        if (rc != JK_OK)
            goto cleanup;
        int same = memcmp(re, buf, len) == 0;
        s_free_packed(re, relen);
        if (!same) {
            rc = jk_error_set(err, JK_ERR_PARSE,
                              "envelope: not canonically encoded (fields out of order, "
                              "non-minimal varints or non-canonical values)");
            goto cleanup;
        }
    }

    /* 8. The protocol's rules. */
    rc = jk_codec_validate(env, lim, err);

cleanup:
    if (rc != JK_OK) {
        jk_codec_free(&env);
        return rc;
    }
    *out = env;
    return JK_OK;
}

static jk_err_t s_encode(const Jk__Envelope *env, uint8_t **out, size_t *len, jk_error_t *err)
{
    jk_codec_limits_t lim;
    jk_codec_limits_default(&lim);
    TRY(jk_codec_validate(env, &lim, err));
    size_t n = protobuf_c_message_get_packed_size(&env->base);
    size_t max = jk_codec_kind_is_large(env->kind) ? lim.max_large_bytes : lim.max_bytes;
    if (n > max)
        return jk_error_set(err, JK_ERR_TOO_BIG, "envelope: packs to %zu bytes, max %zu for %s",
                            n, max, jk_codec_kind_name(env->kind));
    return s_pack(&env->base, out, len, err);
}

jk_err_t jk_codec_encode(const Jk__Envelope *env, uint8_t **out, size_t *len, jk_error_t *err)
{
    if (!out || !len)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_encode: out or len is NULL");
    *out = NULL;
    *len = 0;
    return s_encode(env, out, len, err);
}

/* ---------------------------------------------------------------------- */
/* Authentication and hashes.                                               */

static jk_err_t s_check_key(const uint8_t *key, size_t key_len, jk_error_t *err)
{
    if (!key || key_len != JK_CODEC_KEY_LEN)
        return jk_error_set(err, JK_ERR_INVAL, "auth key: %zu bytes, must be %u", key_len,
                            JK_CODEC_KEY_LEN);
    return JK_OK;
}

jk_err_t jk_codec_auth_tag(const Jk__Envelope *env, const uint8_t *key, size_t key_len,
                           uint8_t tag[JK_CODEC_TAG_LEN], jk_error_t *err)
{
    if (!env || !tag || env->base.descriptor != &jk__envelope__descriptor)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_auth_tag: bad arguments");
    TRY(s_check_key(key, key_len, err));
    /* The rule: HMAC over the envelope packed with auth_tag absent. A
     * shallow copy is enough, packing only reads. */
    Jk__Envelope tmp = *env;
    tmp.has_auth_tag = 0;
    tmp.auth_tag.len = 0;
    tmp.auth_tag.data = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    TRY(s_pack(&tmp.base, &buf, &n, err));
    jk_err_t rc = jk_hmac_sha256(key, key_len, buf, n, tag);
    s_free_packed(buf, n);
    if (rc != JK_OK)
        return jk_error_set(err, JK_ERR_CRYPTO, "auth tag: HMAC-SHA256 failed");
    return JK_OK;
}

jk_err_t jk_codec_auth_verify(const Jk__Envelope *env, const uint8_t *key, size_t key_len,
                              jk_error_t *err)
{
    if (!env || env->base.descriptor != &jk__envelope__descriptor)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_auth_verify: bad arguments");
    TRY(s_check_key(key, key_len, err));
    if (!env->has_auth_tag)
        return jk_error_set(err, JK_ERR_MISSING, "envelope.auth_tag: required to authenticate");
    if (env->auth_tag.len != JK_CODEC_TAG_LEN || !env->auth_tag.data)
        return jk_error_set(err, JK_ERR_AUTH, "envelope.auth_tag: %zu bytes, must be %u",
                            env->auth_tag.len, JK_CODEC_TAG_LEN);
    uint8_t tag[JK_CODEC_TAG_LEN];
    TRY(jk_codec_auth_tag(env, key, key_len, tag, err));
    if (CRYPTO_memcmp(tag, env->auth_tag.data, JK_CODEC_TAG_LEN) != 0)
        return jk_error_set(err, JK_ERR_AUTH,
                            "envelope.auth_tag: does not match (node_id %s, key_id %s)",
                            env->node_id ? env->node_id : "-", env->key_id ? env->key_id : "-");
    return JK_OK;
}

jk_err_t jk_codec_encode_signed(const Jk__Envelope *env, const uint8_t *key, size_t key_len,
                                uint8_t **out, size_t *len, jk_error_t *err)
{
    if (!out || !len)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_encode_signed: out or len is NULL");
    *out = NULL;
    *len = 0;
    uint8_t tag[JK_CODEC_TAG_LEN];
    TRY(jk_codec_auth_tag(env, key, key_len, tag, err));
    Jk__Envelope tmp = *env;
    tmp.has_auth_tag = 1;
    tmp.auth_tag.len = sizeof tag;
    tmp.auth_tag.data = tag;
    return s_encode(&tmp, out, len, err);
}

static jk_err_t s_sha256(const uint8_t *buf, size_t n, uint8_t out[JK_CODEC_DIGEST_LEN],
                         jk_error_t *err)
{
    if (jk_sha256(buf, n, out) != JK_OK)
        return jk_error_set(err, JK_ERR_CRYPTO, "SHA-256 failed");
    return JK_OK;
}

jk_err_t jk_codec_event_hash(const Jk__Envelope *env, uint8_t hash[JK_CODEC_DIGEST_LEN],
                             jk_error_t *err)
{
    if (!env || !hash || env->base.descriptor != &jk__envelope__descriptor)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_event_hash: bad arguments");
    Jk__Envelope tmp = *env;
    tmp.has_auth_tag = 0;
    tmp.auth_tag.len = 0;
    tmp.auth_tag.data = NULL;
    tmp.key_id = NULL;
    tmp.has_message_id = 0;
    tmp.message_id = 0;
    tmp.has_sent_time_ms = 0;
    tmp.sent_time_ms = 0;
    uint8_t *buf = NULL;
    size_t n = 0;
    TRY(s_pack(&tmp.base, &buf, &n, err));
    jk_err_t rc = s_sha256(buf, n, hash, err);
    s_free_packed(buf, n);
    return rc;
}

jk_err_t jk_codec_session_digest(const uint8_t (*hashes)[JK_CODEC_DIGEST_LEN], size_t n,
                                 uint8_t digest[JK_CODEC_DIGEST_LEN], jk_error_t *err)
{
    if (!digest || (n && !hashes) || n > SIZE_MAX / JK_CODEC_DIGEST_LEN)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_session_digest: bad arguments");
    return s_sha256(n ? hashes[0] : NULL, n * JK_CODEC_DIGEST_LEN, digest, err);
}

jk_err_t jk_codec_check_fresh(const Jk__Envelope *env, uint64_t now_ms, uint64_t max_skew_ms,
                              jk_error_t *err)
{
    if (!env)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_check_fresh: env is NULL");
    if (!env->has_sent_time_ms)
        return jk_error_set(err, JK_ERR_MISSING, "envelope.sent_time_ms: required");
    uint64_t d = now_ms > env->sent_time_ms ? now_ms - env->sent_time_ms
                                            : env->sent_time_ms - now_ms;
    if (d > max_skew_ms)
        return jk_error_set(err, JK_ERR_RANGE,
                            "envelope.sent_time_ms: %" PRIu64 " ms %s now, max skew %" PRIu64
                            " ms",
                            d, now_ms > env->sent_time_ms ? "before" : "after", max_skew_ms);
    return JK_OK;
}

/* ---------------------------------------------------------------------- */
/* Mapping to the session machine; topics.                                  */

jk_err_t jk_codec_session_event(const Jk__Envelope *env, jk_session_event_t *event,
                                jk_error_t *err)
{
    if (!env || !event || !s_body_ptr(env) || (int)env->body_case != S_BODY_OF((int)env->kind))
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_session_event: not a valid envelope");
    switch (env->kind) {
    case JK__KIND__KIND_SESSION_OPEN:
        *event = JK_SESSION_EV_OPEN;
        return JK_OK;
    case JK__KIND__KIND_SESSION_RESUME:
        *event = JK_SESSION_EV_RELOCATE;
        return JK_OK;
    case JK__KIND__KIND_ANSWER:
        *event = JK_SESSION_EV_ANSWER;
        return JK_OK;
    case JK__KIND__KIND_EXAMINER_SCORE:
        *event = JK_SESSION_EV_EXAMINER_SCORE;
        return JK_OK;
    case JK__KIND__KIND_SUBMIT:
        switch (env->submit->reason) {
        case JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE:
            *event = JK_SESSION_EV_SUBMIT;
            return JK_OK;
        case JK__SUBMIT_REASON__SUBMIT_REASON_TIME_UP:
            *event = JK_SESSION_EV_TIME_UP;
            return JK_OK;
        case JK__SUBMIT_REASON__SUBMIT_REASON_PROCTOR_FORCE:
            *event = JK_SESSION_EV_FORCE_SUBMIT;
            return JK_OK;
        default:
            return jk_error_set(err, JK_ERR_INVAL, "submit.reason: unknown");
        }
    case JK__KIND__KIND_PROCTOR_ACTION:
        switch (env->proctor_action->action) {
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_AUTHORIZE:
            *event = JK_SESSION_EV_AUTHORIZE;
            return JK_OK;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE:
            *event = JK_SESSION_EV_PAUSE;
            return JK_OK;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_RESUME:
            *event = JK_SESSION_EV_RESUME;
            return JK_OK;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME:
            *event = JK_SESSION_EV_EXTEND;
            return JK_OK;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID:
            *event = JK_SESSION_EV_VOID;
            return JK_OK;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_MARK_ABSENT:
            *event = JK_SESSION_EV_MARK_ABSENT;
            return JK_OK;
        case JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT:
            return jk_error_set(err, JK_ERR_INVAL,
                                "proctor_action.action: FORCE_SUBMIT is an order to examd; the "
                                "session stream carries the Submit it causes");
        default:
            return jk_error_set(err, JK_ERR_INVAL, "proctor_action.action: unknown");
        }
    default:
        return jk_error_set(err, JK_ERR_INVAL, "envelope.kind: %s is not a session event",
                            jk_codec_kind_name(env->kind));
    }
}

jk_err_t jk_codec_topic(const Jk__Envelope *env, char *buf, size_t size, jk_error_t *err)
{
    if (!env || !buf || size == 0)
        return jk_error_set(err, JK_ERR_INVAL, "jk_codec_topic: bad arguments");
    buf[0] = '\0';
    if (!env->exam_id)
        return jk_error_set(err, JK_ERR_MISSING, "envelope.exam_id: required for a topic");
    if (!env->site_id)
        return jk_error_set(err, JK_ERR_MISSING, "envelope.site_id: required for a topic");
    if (!env->room_id)
        return jk_error_set(err, JK_ERR_MISSING, "envelope.room_id: required for a topic");
    Jk__Kind k = env->kind;
    if (k == JK__KIND__KIND_MONITOR_EVENT && env->body_case == JK__ENVELOPE__BODY_MONITOR_EVENT &&
        env->monitor_event && env->monitor_event->has_source_kind)
        k = env->monitor_event->source_kind;
    int n = snprintf(buf, size, "%s/%s/%s/%s", env->exam_id, env->site_id, env->room_id,
                     jk_codec_kind_name(k));
    if (n < 0 || (size_t)n >= size) {
        buf[0] = '\0';
        return jk_error_set(err, JK_ERR_TOO_BIG, "topic: needs %d bytes, have %zu", n, size);
    }
    return JK_OK;
}
