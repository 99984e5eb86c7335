/*
 * jk_session_fsm: the session transition table (see jk_session_fsm.h).
 *
 * The table is indexed [state][event] and holds the next state, 0 meaning
 * "illegal". It must stay identical to the table in docs/protocol.md; the
 * unit test checks all 8 x 14 pairs against its own copy of that table.
 */
#include "jk_session_fsm.h"

#include <stddef.h>
#include <string.h>

#define R JK_SESSION_REGISTERED
#define A JK_SESSION_AUTHORIZED
#define I JK_SESSION_IN_PROGRESS
#define P JK_SESSION_PAUSED
#define S JK_SESSION_SUBMITTED
#define D JK_SESSION_SCORED
#define V JK_SESSION_VOIDED
#define B JK_SESSION_ABSENT

/* s_next[state][event]; 0 = illegal. Columns in event order:
 * AUTHORIZE OPEN ANSWER PAUSE RESUME RELOCATE EXTEND SUBMIT TIME_UP
 * FORCE_SUBMIT VOID MARK_ABSENT EXAMINER_SCORE SCORE */
static const unsigned char
    s_next[JK_SESSION_STATE_COUNT + 1][JK_SESSION_EV_COUNT + 1] = {
        /*            AU OP AN PA RE RL EX SU TU FS VO MA ES SC */
        [R] = {0, A, 0, 0, 0, 0, 0, 0, 0, 0, 0, V, B, 0, 0},
        [A] = {0, 0, I, 0, 0, 0, 0, 0, 0, 0, 0, V, B, 0, 0},
        [I] = {0, 0, 0, I, P, 0, I, I, S, S, S, V, 0, I, 0},
        [P] = {0, 0, 0, 0, 0, I, P, P, 0, 0, S, V, 0, P, 0},
        [S] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, V, 0, S, D},
        [D] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, V, 0, 0, 0},
        [V] = {0},
        [B] = {0},
};

#undef R
#undef A
#undef I
#undef P
#undef S
#undef D
#undef V
#undef B

static const char *const s_state_names[JK_SESSION_STATE_COUNT + 1] = {
    [JK_SESSION_REGISTERED] = "REGISTERED",
    [JK_SESSION_AUTHORIZED] = "AUTHORIZED",
    [JK_SESSION_IN_PROGRESS] = "IN_PROGRESS",
    [JK_SESSION_PAUSED] = "PAUSED",
    [JK_SESSION_SUBMITTED] = "SUBMITTED",
    [JK_SESSION_SCORED] = "SCORED",
    [JK_SESSION_VOIDED] = "VOIDED",
    [JK_SESSION_ABSENT] = "ABSENT",
};

static const char *const s_event_names[JK_SESSION_EV_COUNT + 1] = {
    [JK_SESSION_EV_AUTHORIZE] = "AUTHORIZE",
    [JK_SESSION_EV_OPEN] = "OPEN",
    [JK_SESSION_EV_ANSWER] = "ANSWER",
    [JK_SESSION_EV_PAUSE] = "PAUSE",
    [JK_SESSION_EV_RESUME] = "RESUME",
    [JK_SESSION_EV_RELOCATE] = "RELOCATE",
    [JK_SESSION_EV_EXTEND] = "EXTEND",
    [JK_SESSION_EV_SUBMIT] = "SUBMIT",
    [JK_SESSION_EV_TIME_UP] = "TIME_UP",
    [JK_SESSION_EV_FORCE_SUBMIT] = "FORCE_SUBMIT",
    [JK_SESSION_EV_VOID] = "VOID",
    [JK_SESSION_EV_MARK_ABSENT] = "MARK_ABSENT",
    [JK_SESSION_EV_EXAMINER_SCORE] = "EXAMINER_SCORE",
    [JK_SESSION_EV_SCORE] = "SCORE",
};

static int s_state_ok(jk_session_state_t s)
{
    return (int)s >= JK_SESSION_STATE_FIRST && (int)s <= JK_SESSION_STATE_LAST;
}

static int s_event_ok(jk_session_event_t e)
{
    return (int)e >= JK_SESSION_EV_FIRST && (int)e <= JK_SESSION_EV_LAST;
}

jk_err_t jk_session_fsm_next(jk_session_state_t state, jk_session_event_t event,
                             jk_session_state_t *next)
{
    if (!next || !s_state_ok(state) || !s_event_ok(event))
        return JK_ERR_INVAL;
    unsigned char n = s_next[state][event];
    if (n == 0)
        return JK_ERR_STATE;
    *next = (jk_session_state_t)n;
    return JK_OK;
}

bool jk_session_state_is_terminal(jk_session_state_t state)
{
    if (!s_state_ok(state))
        return false;
    for (int e = JK_SESSION_EV_FIRST; e <= JK_SESSION_EV_LAST; e++)
        if (s_next[state][e])
            return false;
    return true;
}

const char *jk_session_state_name(jk_session_state_t state)
{
    return s_state_ok(state) ? s_state_names[state] : "?";
}

const char *jk_session_event_name(jk_session_event_t event)
{
    return s_event_ok(event) ? s_event_names[event] : "?";
}

jk_session_state_t jk_session_state_parse(const char *name)
{
    if (name)
        for (int s = JK_SESSION_STATE_FIRST; s <= JK_SESSION_STATE_LAST; s++)
            if (strcmp(name, s_state_names[s]) == 0)
                return (jk_session_state_t)s;
    return (jk_session_state_t)0;
}

jk_session_event_t jk_session_event_parse(const char *name)
{
    if (name)
        for (int e = JK_SESSION_EV_FIRST; e <= JK_SESSION_EV_LAST; e++)
            if (strcmp(name, s_event_names[e]) == 0)
                return (jk_session_event_t)e;
    return (jk_session_event_t)0;
}
