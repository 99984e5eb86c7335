/*
 * jk_session_fsm: the candidate session's state machine, written once.
 *
 * Design note. A session is one candidate sitting one exam (theory or
 * skills). Its states and legal transitions are the table in docs/protocol.md
 * ("Session state machine"); this file is that table in code and the only
 * place that decides whether an event may happen in a state. Everything that
 * changes a session's status (examd before it logs an event, scorerd before
 * it applies one to Redis, the replay of a log) asks jk_session_fsm_next().
 * An illegal transition is an error (JK_ERR_STATE), never a silent no-op:
 * the caller rejects the event and says why.
 *
 * Invariants: VOIDED and ABSENT are terminal; SCORED only leaves by VOID;
 * nothing but a submit (by the candidate, the clock or a proctor) enters
 * SUBMITTED. Self-loops (ANSWER, EXTEND, RELOCATE, EXAMINER_SCORE) are
 * transitions too: they are legal only where the table lists them.
 *
 * The state values equal jk.SessionStatus in proto/jikao.proto (1..8), so a
 * status crosses the wire without a mapping table; jk_codec.c checks the
 * equality at compile time. This header deliberately does not include the
 * protobuf headers: the machine knows nothing of the wire.
 *
 * Rejected: a generic table-driven FSM library (one machine does not need
 * one); encoding the machine as a switch per state (the table is easier to
 * compare with the documentation, and the test checks every pair).
 */
#ifndef JK_SESSION_FSM_H
#define JK_SESSION_FSM_H

#include <stdbool.h>

#include "jk_err.h"

typedef enum {
    JK_SESSION_REGISTERED = 1,  /* registered for the sitting; may not start */
    JK_SESSION_AUTHORIZED = 2,  /* a proctor admitted the candidate */
    JK_SESSION_IN_PROGRESS = 3, /* clock running, answers accepted */
    JK_SESSION_PAUSED = 4,      /* clock stopped by a proctor */
    JK_SESSION_SUBMITTED = 5,   /* answers final; awaiting scoring */
    JK_SESSION_SCORED = 6,      /* score final */
    JK_SESSION_VOIDED = 7,      /* voided by a proctor (terminal) */
    JK_SESSION_ABSENT = 8,      /* marked absent (terminal) */
} jk_session_state_t;

#define JK_SESSION_STATE_FIRST JK_SESSION_REGISTERED
#define JK_SESSION_STATE_LAST JK_SESSION_ABSENT
#define JK_SESSION_STATE_COUNT 8

typedef enum {
    JK_SESSION_EV_AUTHORIZE = 1,      /* ProctorAction AUTHORIZE */
    JK_SESSION_EV_OPEN = 2,           /* SessionOpen: the candidate starts */
    JK_SESSION_EV_ANSWER = 3,         /* Answer */
    JK_SESSION_EV_PAUSE = 4,          /* ProctorAction PAUSE */
    JK_SESSION_EV_RESUME = 5,         /* ProctorAction RESUME (unpause) */
    JK_SESSION_EV_RELOCATE = 6,       /* SessionResume: new workstation */
    JK_SESSION_EV_EXTEND = 7,         /* ProctorAction EXTEND_TIME */
    JK_SESSION_EV_SUBMIT = 8,         /* Submit, reason CANDIDATE */
    JK_SESSION_EV_TIME_UP = 9,        /* Submit, reason TIME_UP */
    JK_SESSION_EV_FORCE_SUBMIT = 10,  /* Submit, reason PROCTOR_FORCE */
    JK_SESSION_EV_VOID = 11,          /* ProctorAction VOID */
    JK_SESSION_EV_MARK_ABSENT = 12,   /* ProctorAction MARK_ABSENT */
    JK_SESSION_EV_EXAMINER_SCORE = 13,/* ExaminerScore */
    JK_SESSION_EV_SCORE = 14,         /* scorerd: every part scored */
} jk_session_event_t;

#define JK_SESSION_EV_FIRST JK_SESSION_EV_AUTHORIZE
#define JK_SESSION_EV_LAST JK_SESSION_EV_SCORE
#define JK_SESSION_EV_COUNT 14

/* The state after `event` in `state`.
 * Returns JK_OK and sets *next; JK_ERR_STATE if the table has no such
 * transition (*next untouched); JK_ERR_INVAL if state or event is not a
 * value of its enum, or next is NULL. Pure: no I/O, no globals. */
jk_err_t jk_session_fsm_next(jk_session_state_t state, jk_session_event_t event,
                             jk_session_state_t *next);

/* Whether no event leaves the state (VOIDED, ABSENT). False for bad values. */
bool jk_session_state_is_terminal(jk_session_state_t state);

/* Stable upper-case names, as in docs/protocol.md ("IN_PROGRESS",
 * "FORCE_SUBMIT"); "?" for a value outside the enum. Never NULL. */
const char *jk_session_state_name(jk_session_state_t state);
const char *jk_session_event_name(jk_session_event_t event);

/* Parse a name back; return 0 (not a valid value) if unknown. */
jk_session_state_t jk_session_state_parse(const char *name);
jk_session_event_t jk_session_event_parse(const char *name);

#endif
