/*
 * Unit tests for jk_session_fsm: every (state, event) pair against the
 * transition table of docs/protocol.md.
 *
 * Design note. The expected table below is written out as the list of
 * legal transitions, by name, exactly as the documentation lists them; it
 * is deliberately not derived from the code's table. Every pair not in the
 * list must be refused with JK_ERR_STATE and must leave *next untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jk_session_fsm.h"

typedef struct {
    const char *from, *event, *to;
} legal_t;

/* docs/protocol.md, "Legal transitions", row by row. */
static const legal_t s_legal[] = {
    {"REGISTERED", "AUTHORIZE", "AUTHORIZED"},
    {"REGISTERED", "VOID", "VOIDED"},
    {"REGISTERED", "MARK_ABSENT", "ABSENT"},
    {"AUTHORIZED", "OPEN", "IN_PROGRESS"},
    {"AUTHORIZED", "VOID", "VOIDED"},
    {"AUTHORIZED", "MARK_ABSENT", "ABSENT"},
    {"IN_PROGRESS", "ANSWER", "IN_PROGRESS"},
    {"IN_PROGRESS", "PAUSE", "PAUSED"},
    {"IN_PROGRESS", "RELOCATE", "IN_PROGRESS"},
    {"IN_PROGRESS", "EXTEND", "IN_PROGRESS"},
    {"IN_PROGRESS", "SUBMIT", "SUBMITTED"},
    {"IN_PROGRESS", "TIME_UP", "SUBMITTED"},
    {"IN_PROGRESS", "FORCE_SUBMIT", "SUBMITTED"},
    {"IN_PROGRESS", "VOID", "VOIDED"},
    {"IN_PROGRESS", "EXAMINER_SCORE", "IN_PROGRESS"},
    {"PAUSED", "RESUME", "IN_PROGRESS"},
    {"PAUSED", "RELOCATE", "PAUSED"},
    {"PAUSED", "EXTEND", "PAUSED"},
    {"PAUSED", "FORCE_SUBMIT", "SUBMITTED"},
    {"PAUSED", "VOID", "VOIDED"},
    {"PAUSED", "EXAMINER_SCORE", "PAUSED"},
    {"SUBMITTED", "EXAMINER_SCORE", "SUBMITTED"},
    {"SUBMITTED", "SCORE", "SCORED"},
    {"SUBMITTED", "VOID", "VOIDED"},
    {"SCORED", "VOID", "VOIDED"},
};

static const char *const s_states[] = {"REGISTERED", "AUTHORIZED", "IN_PROGRESS", "PAUSED",
                                       "SUBMITTED",  "SCORED",     "VOIDED",      "ABSENT"};
static const char *const s_events[] = {
    "AUTHORIZE", "OPEN",    "ANSWER",       "PAUSE", "RESUME",      "RELOCATE",       "EXTEND",
    "SUBMIT",    "TIME_UP", "FORCE_SUBMIT", "VOID",  "MARK_ABSENT", "EXAMINER_SCORE", "SCORE"};

static const legal_t *s_find(const char *from, const char *event)
{
    for (size_t i = 0; i < sizeof s_legal / sizeof s_legal[0]; i++)
        if (strcmp(s_legal[i].from, from) == 0 && strcmp(s_legal[i].event, event) == 0)
            return &s_legal[i];
    return NULL;
}

static void test_names_round_trip(void **state)
{
    (void)state;
    assert_int_equal(sizeof s_states / sizeof s_states[0], JK_SESSION_STATE_COUNT);
    assert_int_equal(sizeof s_events / sizeof s_events[0], JK_SESSION_EV_COUNT);
    for (int s = JK_SESSION_STATE_FIRST; s <= JK_SESSION_STATE_LAST; s++) {
        const char *n = jk_session_state_name((jk_session_state_t)s);
        assert_string_equal(n, s_states[s - JK_SESSION_STATE_FIRST]);
        assert_int_equal(jk_session_state_parse(n), s);
    }
    for (int e = JK_SESSION_EV_FIRST; e <= JK_SESSION_EV_LAST; e++) {
        const char *n = jk_session_event_name((jk_session_event_t)e);
        assert_string_equal(n, s_events[e - JK_SESSION_EV_FIRST]);
        assert_int_equal(jk_session_event_parse(n), e);
    }
    assert_string_equal(jk_session_state_name((jk_session_state_t)0), "?");
    assert_string_equal(jk_session_state_name((jk_session_state_t)99), "?");
    assert_string_equal(jk_session_event_name((jk_session_event_t)0), "?");
    assert_string_equal(jk_session_event_name((jk_session_event_t)-1), "?");
    assert_int_equal(jk_session_state_parse("in_progress"), 0);
    assert_int_equal(jk_session_state_parse(NULL), 0);
    assert_int_equal(jk_session_event_parse("NOPE"), 0);
}

static void test_every_pair(void **state)
{
    (void)state;
    size_t legal_seen = 0;
    for (int s = JK_SESSION_STATE_FIRST; s <= JK_SESSION_STATE_LAST; s++) {
        for (int e = JK_SESSION_EV_FIRST; e <= JK_SESSION_EV_LAST; e++) {
            const char *sn = jk_session_state_name((jk_session_state_t)s);
            const char *en = jk_session_event_name((jk_session_event_t)e);
            const legal_t *want = s_find(sn, en);
            jk_session_state_t next = (jk_session_state_t)0x5a;
            jk_err_t rc = jk_session_fsm_next((jk_session_state_t)s, (jk_session_event_t)e, &next);
            if (want) {
                if (rc != JK_OK)
                    fail_msg("%s + %s: expected %s, got %s", sn, en, want->to, jk_strerror(rc));
                assert_string_equal(jk_session_state_name(next), want->to);
                legal_seen++;
            } else {
                if (rc != JK_ERR_STATE)
                    fail_msg("%s + %s: expected bad-state, got %s (next %s)", sn, en,
                             jk_strerror(rc), jk_session_state_name(next));
                assert_int_equal(next, 0x5a); /* untouched */
            }
        }
    }
    assert_int_equal(legal_seen, sizeof s_legal / sizeof s_legal[0]);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    jk_session_state_t next = JK_SESSION_REGISTERED;
    assert_int_equal(jk_session_fsm_next((jk_session_state_t)0, JK_SESSION_EV_OPEN, &next),
                     JK_ERR_INVAL);
    assert_int_equal(jk_session_fsm_next((jk_session_state_t)9, JK_SESSION_EV_OPEN, &next),
                     JK_ERR_INVAL);
    assert_int_equal(jk_session_fsm_next((jk_session_state_t)-3, JK_SESSION_EV_OPEN, &next),
                     JK_ERR_INVAL);
    assert_int_equal(
        jk_session_fsm_next(JK_SESSION_AUTHORIZED, (jk_session_event_t)0, &next), JK_ERR_INVAL);
    assert_int_equal(
        jk_session_fsm_next(JK_SESSION_AUTHORIZED, (jk_session_event_t)15, &next), JK_ERR_INVAL);
    assert_int_equal(jk_session_fsm_next(JK_SESSION_AUTHORIZED, JK_SESSION_EV_OPEN, NULL),
                     JK_ERR_INVAL);
    assert_int_equal(next, JK_SESSION_REGISTERED);
}

static void test_terminal_states(void **state)
{
    (void)state;
    for (int s = JK_SESSION_STATE_FIRST; s <= JK_SESSION_STATE_LAST; s++) {
        bool any = false;
        for (size_t i = 0; i < sizeof s_legal / sizeof s_legal[0]; i++)
            if (strcmp(s_legal[i].from, jk_session_state_name((jk_session_state_t)s)) == 0)
                any = true;
        assert_int_equal(jk_session_state_is_terminal((jk_session_state_t)s), !any);
    }
    assert_true(jk_session_state_is_terminal(JK_SESSION_VOIDED));
    assert_true(jk_session_state_is_terminal(JK_SESSION_ABSENT));
    assert_false(jk_session_state_is_terminal(JK_SESSION_SCORED));
    assert_false(jk_session_state_is_terminal((jk_session_state_t)0));
}

/* A whole life: every path the description of the exam names. */
static void test_stories(void **state)
{
    (void)state;
    static const jk_session_event_t normal[] = {
        JK_SESSION_EV_AUTHORIZE, JK_SESSION_EV_OPEN,     JK_SESSION_EV_ANSWER,
        JK_SESSION_EV_PAUSE,     JK_SESSION_EV_RELOCATE, JK_SESSION_EV_EXTEND,
        JK_SESSION_EV_RESUME,    JK_SESSION_EV_ANSWER,   JK_SESSION_EV_TIME_UP,
        JK_SESSION_EV_EXAMINER_SCORE, JK_SESSION_EV_SCORE, JK_SESSION_EV_VOID};
    jk_session_state_t s = JK_SESSION_REGISTERED;
    for (size_t i = 0; i < sizeof normal / sizeof normal[0]; i++)
        assert_int_equal(jk_session_fsm_next(s, normal[i], &s), JK_OK);
    assert_int_equal(s, JK_SESSION_VOIDED);
    /* Nothing is accepted after the deadline: answers after a submit. */
    assert_int_equal(jk_session_fsm_next(JK_SESSION_SUBMITTED, JK_SESSION_EV_ANSWER, &s),
                     JK_ERR_STATE);
    /* A paused candidate cannot answer or submit; only a proctor ends it. */
    assert_int_equal(jk_session_fsm_next(JK_SESSION_PAUSED, JK_SESSION_EV_ANSWER, &s),
                     JK_ERR_STATE);
    assert_int_equal(jk_session_fsm_next(JK_SESSION_PAUSED, JK_SESSION_EV_SUBMIT, &s),
                     JK_ERR_STATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip), cmocka_unit_test(test_every_pair),
        cmocka_unit_test(test_bad_arguments),    cmocka_unit_test(test_terminal_states),
        cmocka_unit_test(test_stories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
