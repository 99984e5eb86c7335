/* Unit tests for jk_plan: the staff numbers per room come from the standard;
 * candidates are balanced over rooms; overlapping sessions share neither
 * staff nor rooms; every shortfall is named (staff with room and role, seats
 * with session); ineligible candidates are never seated; plans shorter than
 * the standard's minimum, malformed, with unknown fields or duplicate ids are
 * refused with file and JSON path; the assignment is deterministic; and the
 * sample plan seats a generated sitting of 360 candidates with no shortfall. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jk_plan.h"
#include "jk_standard.h"

static jk_standard_t *g_std;

static int s_setup(void **state)
{
    (void)state;
    jk_error_t e;
    g_std = jk_standard_load(JK_DATA_DIR "/standard.json", &e);
    if (!g_std)
        fprintf(stderr, "%s\n", e.msg);
    return g_std ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    jk_standard_destroy(&g_std);
    return 0;
}

/* ---- helpers ---- */

#define MAX_MSGS 512

typedef struct {
    char msgs[MAX_MSGS][JK_ERROR_MSG_MAX];
    jk_diag_severity_t sev[MAX_MSGS];
    size_t n;
} collect_t;

static void s_collect(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg)
{
    (void)code;
    collect_t *c = ud;
    if (c->n < MAX_MSGS) {
        c->sev[c->n] = sev;
        snprintf(c->msgs[c->n++], JK_ERROR_MSG_MAX, "%s", msg);
    }
}

static bool s_has(const collect_t *c, const char *needle)
{
    for (size_t i = 0; i < c->n; i++)
        if (strstr(c->msgs[i], needle))
            return true;
    return false;
}

static void s_dump(const collect_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(stderr, "  %s\n", c->msgs[i]);
}

/* Parses a plan; on failure *c holds the messages. */
static jk_plan_t *s_parse(const char *json, collect_t *c)
{
    jk_diag_t d;
    c->n = 0;
    jk_diag_init(&d, s_collect, c, 0);
    jk_error_t e;
    jk_plan_t *p = jk_plan_parse(g_std, json, strlen(json), "plan.json", &d, &e);
    if (p) {
        assert_int_equal(d.errors, 0);
    } else {
        assert_true(d.errors > 0);
        assert_true(strlen(e.msg) > 0);
    }
    return p;
}

/* Parses a plan that must load. */
static jk_plan_t *s_plan_ok(const char *json)
{
    collect_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    jk_plan_t *p = s_parse(json, c);
    if (!p)
        s_dump(c);
    free(c);
    assert_non_null(p);
    return p;
}

/* Refuses a plan and checks one message contains `needle`. */
static void s_plan_refused(const char *json, const char *needle)
{
    collect_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    jk_plan_t *p = s_parse(json, c);
    assert_null(p);
    if (!s_has(c, needle)) {
        fprintf(stderr, "expected a message with: %s\ngot:\n", needle);
        s_dump(c);
    }
    assert_true(s_has(c, needle));
    free(c);
}

/* A list of candidates with their own storage. */
typedef struct {
    jk_plan_candidate_t *v;
    char (*ids)[48];
    size_t n, cap;
} cands_t;

static void s_cands_free(cands_t *c)
{
    free(c->v);
    free(c->ids);
    memset(c, 0, sizeof *c);
}

/* Adds n candidates of a level, admission "2026-12<level>0-<serial>";
 * every `inelig_every`-th (if > 0) is not eligible. */
static void s_cands_add(cands_t *c, int level, size_t n, size_t inelig_every)
{
    if (c->n + n > c->cap) {
        size_t cap = (c->n + n) * 2;
        c->v = realloc(c->v, cap * sizeof *c->v);
        c->ids = realloc(c->ids, cap * sizeof *c->ids);
        assert_non_null(c->v);
        assert_non_null(c->ids);
        c->cap = cap;
        for (size_t i = 0; i < c->n; i++)
            c->v[i].admission = c->ids[i];
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = c->n++;
        snprintf(c->ids[k], sizeof c->ids[k], "2026-12%d0-%04zu", level, i + 1);
        c->v[k].admission = c->ids[k];
        c->v[k].level = level;
        c->v[k].eligible = !(inelig_every && (i + 1) % inelig_every == 0);
    }
}

static jk_plan_result_t *s_assign(const jk_plan_t *p, const cands_t *cs, uint64_t seed,
                                  collect_t *col)
{
    jk_diag_t d;
    col->n = 0;
    jk_diag_init(&d, s_collect, col, 0);
    jk_error_t e;
    jk_plan_result_t *r = jk_plan_assign(p, cs->v, cs->n, seed, &d, &e);
    if (!r)
        fprintf(stderr, "assign: %s\n", e.msg);
    assert_non_null(r);
    assert_int_equal(d.errors, jk_plan_result_shortfall_count(r));
    return r;
}

static bool s_issue_has(const jk_plan_result_t *r, const char *text)
{
    for (size_t i = 0; i < jk_plan_result_issue_count(r); i++)
        if (strcmp(jk_plan_result_issue(r, i)->msg, text) == 0)
            return true;
    return false;
}

static void s_issues_dump(const jk_plan_result_t *r)
{
    for (size_t i = 0; i < jk_plan_result_issue_count(r); i++)
        fprintf(stderr, "  %s\n", jk_plan_result_issue(r, i)->msg);
}

/* Writes the result to memory as JSON (caller frees). */
static char *s_json_of(const jk_plan_result_t *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    jk_error_t e;
    assert_int_equal(jk_plan_result_write_json(r, f, &e), JK_OK);
    fclose(f);
    return buf;
}

#define PLAN_HEAD                                                                                  \
    "{\"format\":\"jikao-plan\",\"format_version\":1,"                                             \
    "\"sitting\":{\"id\":\"T1\",\"name\":\"测试批次\"},"
#define T0900 "\"2026-12-12T09:00:00+08:00\""
#define T1030 "\"2026-12-12T10:30:00+08:00\""
#define T1000 "\"2026-12-12T10:00:00+08:00\""
#define SESSION(id, level, exam, start, minutes)                                                   \
    "{\"id\":\"" id "\",\"level\":" #level ",\"exam\":\"" exam "\",\"start\":" start               \
    ",\"minutes\":" #minutes "}"
#define ROOM(id, seats) "{\"id\":\"" id "\",\"name\":\"" id "\",\"seats\":" #seats "}"
#define STAFF(id, roles) "{\"id\":\"" id "\",\"name\":\"" id "\",\"roles\":[" roles "]}"
#define STAFF_AT(id, roles, site)                                                                  \
    "{\"id\":\"" id "\",\"name\":\"" id "\",\"roles\":[" roles "],\"site\":\"" site "\"}"
#define P "\"proctor\""
#define E "\"examiner\""

/* ---- staffing ---- */

/* One room of 46 seats, one session of the exam, plenty of staff; n
 * candidates. Returns the room's (needed, assigned). */
static void s_one_room(const char *exam, size_t n, int *needed, size_t *assigned)
{
    char json[2048];
    snprintf(json, sizeof json,
             PLAN_HEAD "\"sessions\":[{\"id\":\"X\",\"level\":5,\"exam\":\"%s\",\"start\":" T0900
                       ",\"minutes\":90}],"
                       "\"sites\":[{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 46)
                       "]}],\"staff\":[" STAFF("A1", P "," E) "," STAFF("A2", P "," E) "," STAFF(
                           "A3", P "," E) "," STAFF("A4", P "," E) "," STAFF("A5", P "," E) ","
                           STAFF("A6", P "," E) "]}",
             exam);
    jk_plan_t *p = s_plan_ok(json);
    cands_t cs = { 0 };
    s_cands_add(&cs, 5, n, 0);
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r = s_assign(p, &cs, 1, col);
    const jk_plan_session_result_t *sr = jk_plan_result_session(r, 0);
    assert_int_equal(sr->n_rooms, 1);
    assert_int_equal(sr->rooms[0].candidates, (int)n);
    assert_int_equal(sr->rooms[0].role,
                     strcmp(exam, "theory") == 0 ? JK_ROLE_PROCTOR : JK_ROLE_EXAMINER);
    *needed = sr->rooms[0].staff_needed;
    *assigned = sr->rooms[0].n_staff;
    assert_true(jk_plan_result_ok(r));
    jk_plan_result_destroy(&r);
    assert_null(r);
    free(col);
    s_cands_free(&cs);
    jk_plan_destroy(&p);
    assert_null(p);
}

static void test_staff_per_room(void **state)
{
    (void)state;
    static const size_t sizes[] = { 15, 16, 30, 31, 45, 46 };
    static const int proctors[] = { 2, 2, 2, 3, 3, 4 };
    static const int examiners[] = { 3, 3, 3, 3, 3, 5 };
    for (size_t i = 0; i < 6; i++) {
        int need;
        size_t got;
        s_one_room("theory", sizes[i], &need, &got);
        assert_int_equal(need, proctors[i]);
        assert_int_equal(got, (size_t)proctors[i]);
        s_one_room("skills", sizes[i], &need, &got);
        assert_int_equal(need, examiners[i]);
        assert_int_equal(got, (size_t)examiners[i]);
        /* the same numbers straight from the standard's rules */
        assert_int_equal(jk_staffing_needed(jk_standard_staffing(g_std, JK_EXAM_THEORY),
                                            (int)sizes[i]),
                         proctors[i]);
        assert_int_equal(jk_staffing_needed(jk_standard_staffing(g_std, JK_EXAM_SKILLS),
                                            (int)sizes[i]),
                         examiners[i]);
    }
}

/* ---- balance ---- */

static void test_balanced_rooms(void **state)
{
    (void)state;
    const char *json = PLAN_HEAD
        "\"sessions\":[" SESSION("L5-theory", 5, "theory", T0900, 90) "],"
        "\"sites\":[{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30) "," ROOM(
            "S01-R02", 30) "]}],"
        "\"staff\":[" STAFF("A1", P) "," STAFF("A2", P) "," STAFF("A3", P) "," STAFF("A4", P) "]}";
    jk_plan_t *p = s_plan_ok(json);
    cands_t cs = { 0 };
    s_cands_add(&cs, 5, 31, 0);
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r = s_assign(p, &cs, 7, col);
    assert_true(jk_plan_result_ok(r));
    const jk_plan_session_result_t *sr = jk_plan_result_session(r, 0);
    assert_int_equal(sr->n_rooms, 2);
    assert_int_equal(sr->rooms[0].candidates, 16);
    assert_int_equal(sr->rooms[1].candidates, 15);
    assert_int_equal(sr->seated, 31);
    for (size_t u = 0; u < 2; u++) {
        assert_int_equal(sr->rooms[u].staff_needed, 2);
        assert_int_equal(sr->rooms[u].n_staff, 2);
        for (int k = 0; k < sr->rooms[u].candidates; k++)
            assert_int_equal(sr->rooms[u].seats[k].seat, k + 1);
    }
    jk_plan_result_destroy(&r);
    s_cands_free(&cs);

    /* 40 over a 30 and a 16: the small room is filled, the rest go to the big one */
    jk_plan_destroy(&p);
    const char *json2 = PLAN_HEAD
        "\"sessions\":[" SESSION("L5-skills", 5, "skills", T0900, 90) "],"
        "\"sites\":[{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 16) "," ROOM(
            "S01-R02", 30) "," ROOM("S01-R03", 30) "]}],"
        "\"staff\":[" STAFF("A1", E) "," STAFF("A2", E) "," STAFF("A3", E) "," STAFF("A4", E) ","
        STAFF("A5", E) "," STAFF("A6", E) "]}";
    p = s_plan_ok(json2);
    s_cands_add(&cs, 5, 40, 0);
    r = s_assign(p, &cs, 7, col);
    assert_true(jk_plan_result_ok(r));
    sr = jk_plan_result_session(r, 0);
    assert_int_equal(sr->n_rooms, 2);
    /* largest first, then the 30 swapped for the 16 (same staff, smaller room) */
    assert_int_equal(sr->rooms[0].room, (size_t)jk_plan_find_room(p, "S01-R01"));
    assert_int_equal(sr->rooms[0].candidates, 16);
    assert_int_equal(sr->rooms[1].candidates, 24);
    jk_plan_result_destroy(&r);
    s_cands_free(&cs);
    jk_plan_destroy(&p);
    free(col);
}

/* ---- overlap ---- */

#define TWO_SESSIONS_FMT \
    PLAN_HEAD "\"sessions\":[" SESSION("L5-theory", 5, "theory", T0900, 90) ","                   \
              "{\"id\":\"L4-theory\",\"level\":4,\"exam\":\"theory\",\"start\":%s,\"minutes\":90}]," \
              "\"sites\":[{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30) "," ROOM(   \
                  "S01-R02", 30) "]}],"                                                          \
              "\"staff\":[" STAFF("A1", P) "," STAFF("A2", P) "]}"

static void test_overlap_staff(void **state)
{
    (void)state;
    char json[2048];
    cands_t cs = { 0 };
    s_cands_add(&cs, 5, 10, 0);
    s_cands_add(&cs, 4, 10, 0);
    collect_t *col = calloc(1, sizeof *col);

    /* 09:00-10:30 and 09:00-10:30: two proctors can't staff both rooms */
    snprintf(json, sizeof json, TWO_SESSIONS_FMT, T0900);
    jk_plan_t *p = s_plan_ok(json);
    assert_true(jk_plan_sessions_overlap(jk_plan_session(p, 0), jk_plan_session(p, 1)));
    jk_plan_result_t *r = s_assign(p, &cs, 3, col);
    assert_false(jk_plan_result_ok(r));
    const jk_plan_session_result_t *a = jk_plan_result_session(r, 0);
    const jk_plan_session_result_t *b = jk_plan_result_session(r, 1);
    assert_int_equal(a->n_rooms, 1);
    assert_int_equal(b->n_rooms, 1);
    assert_int_not_equal(a->rooms[0].room, b->rooms[0].room); /* one room, one session */
    assert_int_equal(a->rooms[0].n_staff + b->rooms[0].n_staff, 2);
    assert_int_equal(jk_plan_result_shortfall_count(r), 1);
    const jk_plan_issue_t *is = jk_plan_result_issue(r, 0);
    assert_int_equal(is->kind, JK_PLAN_ISSUE_STAFF);
    assert_int_equal(is->role, JK_ROLE_PROCTOR);
    assert_int_equal(is->needed, 2);
    assert_int_equal(is->got, 0);
    assert_non_null(strstr(is->msg, ": proctors: needs 2, 0 left: short by 2"));
    assert_true(s_has(col, is->msg));
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);

    /* 09:00-10:30 and 10:30-12:00 touch but do not overlap: same two proctors */
    snprintf(json, sizeof json, TWO_SESSIONS_FMT, T1030);
    p = s_plan_ok(json);
    assert_false(jk_plan_sessions_overlap(jk_plan_session(p, 0), jk_plan_session(p, 1)));
    r = s_assign(p, &cs, 3, col);
    if (!jk_plan_result_ok(r))
        s_issues_dump(r);
    assert_true(jk_plan_result_ok(r));
    a = jk_plan_result_session(r, 0);
    b = jk_plan_result_session(r, 1);
    assert_int_equal(a->rooms[0].n_staff, 2);
    assert_int_equal(b->rooms[0].n_staff, 2);
    size_t x0 = a->rooms[0].staff[0].staff, x1 = a->rooms[0].staff[1].staff;
    size_t y0 = b->rooms[0].staff[0].staff, y1 = b->rooms[0].staff[1].staff;
    assert_true((x0 == y0 && x1 == y1) || (x0 == y1 && x1 == y0));
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);

    /* one room only, overlapping sessions: the second has no seat */
    const char *one_room = PLAN_HEAD
        "\"sessions\":[" SESSION("L5-theory", 5, "theory", T0900, 90) "," SESSION(
            "L4-theory", 4, "theory", T1000, 90) "],"
        "\"sites\":[{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30) "]}],"
        "\"staff\":[" STAFF("A1", P) "," STAFF("A2", P) "," STAFF("A3", P) "," STAFF("A4", P) "]}";
    p = s_plan_ok(one_room);
    r = s_assign(p, &cs, 3, col);
    assert_int_equal(jk_plan_result_shortfall_count(r), 1);
    assert_true(s_issue_has(r, "session L4-theory: 10 candidates without a seat (rooms full)"));
    assert_int_equal(jk_plan_result_session(r, 1)->seated, 0);
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);

    s_cands_free(&cs);
    free(col);
}

/* ---- shortfalls ---- */

static char g_buf[8192];

/* A plan from its three arrays' contents. */
static const char *s_mk(const char *sessions, const char *sites, const char *staff)
{
    snprintf(g_buf, sizeof g_buf, PLAN_HEAD "\"sessions\":[%s],\"sites\":[%s],\"staff\":[%s]}",
             sessions, sites, staff);
    return g_buf;
}

static void test_staff_shortage_named(void **state)
{
    (void)state;
    jk_plan_t *p = s_plan_ok(s_mk(SESSION("L5-theory", 5, "theory", T0900, 90),
                                  "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30)
                                  "," ROOM("S01-R02", 45) "]}",
                                  STAFF("A1", P) "," STAFF("A2", P) "," STAFF("A3", P)));
    cands_t cs = { 0 };
    s_cands_add(&cs, 5, 75, 0);
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r = s_assign(p, &cs, 11, col);
    assert_false(jk_plan_result_ok(r));
    assert_int_equal(jk_plan_result_shortfall_count(r), 1);
    const char *want = "session L5-theory: room S01-R02: proctors: needs 3, 1 left: short by 2";
    if (!s_issue_has(r, want))
        s_issues_dump(r);
    assert_true(s_issue_has(r, want));
    assert_true(s_has(col, want));
    const jk_plan_issue_t *is = jk_plan_result_issue(r, 0);
    assert_int_equal(is->session, 0);
    assert_int_equal(is->room, jk_plan_find_room(p, "S01-R02"));
    /* everyone is still seated: the shortfall is staff, not seats */
    assert_int_equal(jk_plan_result_session(r, 0)->seated, 75);
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

static void test_seat_shortage_named(void **state)
{
    (void)state;
    jk_plan_t *p = s_plan_ok(s_mk(SESSION("L4-skills", 4, "skills", T0900, 120),
                                  "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 16)
                                  "]}",
                                  STAFF("A1", E)));
    cands_t cs = { 0 };
    s_cands_add(&cs, 4, 28, 0);
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r = s_assign(p, &cs, 5, col);
    assert_false(jk_plan_result_ok(r));
    assert_int_equal(jk_plan_result_shortfall_count(r), 2);
    assert_true(s_issue_has(r, "session L4-skills: 12 candidates without a seat (rooms full)"));
    assert_true(
        s_issue_has(r, "session L4-skills: room S01-R01: examiners: needs 3, 1 left: short by 2"));
    const jk_plan_session_result_t *sr = jk_plan_result_session(r, 0);
    assert_int_equal(sr->candidates, 28);
    assert_int_equal(sr->seated, 16);
    assert_int_equal(sr->rooms[0].candidates, 16);
    size_t seated = 0;
    for (size_t i = 0; i < cs.n; i++)
        seated += jk_plan_result_find_seat(r, cs.v[i].admission, JK_EXAM_SKILLS) != NULL;
    assert_int_equal(seated, 16);
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);

    /* A room that can't host the exam is never used for it. */
    p = s_plan_ok(s_mk(SESSION("L4-theory", 4, "theory", T0900, 90) "," SESSION(
                           "L4-skills", 4, "skills", "\"2026-12-12T13:00:00+08:00\"", 90),
                       "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":["
                       "{\"id\":\"S01-R01\",\"name\":\"技能室\",\"seats\":16,\"exams\":[\"skills\"]},"
                       "{\"id\":\"S01-R02\",\"name\":\"机房\",\"seats\":30,\"exams\":[\"theory\"]}]}",
                       STAFF("A1", P "," E) "," STAFF("A2", P "," E) "," STAFF("A3", P "," E)));
    s_cands_free(&cs);
    s_cands_add(&cs, 4, 20, 0);
    r = s_assign(p, &cs, 5, col);
    sr = jk_plan_result_session(r, 0);
    assert_int_equal(sr->n_rooms, 1);
    assert_int_equal(sr->rooms[0].room, (size_t)jk_plan_find_room(p, "S01-R02"));
    assert_int_equal(sr->seated, 20);
    sr = jk_plan_result_session(r, 1);
    assert_int_equal(sr->n_rooms, 1);
    assert_int_equal(sr->rooms[0].room, (size_t)jk_plan_find_room(p, "S01-R01"));
    assert_int_equal(sr->seated, 16);
    assert_true(s_issue_has(r, "session L4-skills: 4 candidates without a seat (rooms full)"));
    assert_int_equal(jk_plan_result_shortfall_count(r), 1);
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

static void test_ineligible_never_seated(void **state)
{
    (void)state;
    jk_plan_t *p = s_plan_ok(s_mk(
        SESSION("L4-theory", 4, "theory", T0900, 90) ","
        "{\"id\":\"L4-skills\",\"level\":4,\"exam\":\"skills\",\"start\":"
        "\"2026-12-12T13:00:00+08:00\",\"minutes\":90,\"candidates\":[\"2026-1240-0005\","
        "\"2026-1240-0001\",\"2026-1240-0002\",\"2026-1240-0003\",\"2026-1240-0004\","
        "\"2026-1240-0006\",\"2026-1240-0007\",\"2026-1240-0008\",\"2026-1240-0009\","
        "\"2026-1240-0010\",\"2026-1240-0011\",\"2026-1240-0012\",\"2026-1240-0013\","
        "\"2026-1240-0014\",\"2026-1240-0015\",\"2026-1240-0016\",\"2026-1240-0017\","
        "\"2026-1240-0018\",\"2026-1240-0019\",\"2026-1240-0020\"]}",
        "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30) "]}",
        STAFF("A1", P "," E) "," STAFF("A2", P "," E) "," STAFF("A3", P "," E)));
    cands_t cs = { 0 };
    s_cands_add(&cs, 4, 20, 5); /* 0005, 0010, 0015, 0020 are not eligible */
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r = s_assign(p, &cs, 9, col);
    if (!jk_plan_result_ok(r))
        s_issues_dump(r);
    assert_true(jk_plan_result_ok(r)); /* leaving them out is not a shortfall */
    assert_int_equal(jk_plan_result_issue_count(r), 4);
    assert_true(s_issue_has(r, "candidate 2026-1240-0005: not eligible for level 4: not seated"));
    assert_true(s_has(col, "candidate 2026-1240-0020: not eligible for level 4: not seated"));
    for (size_t i = 0; i < col->n; i++)
        assert_int_equal(col->sev[i], JK_DIAG_WARNING);
    for (size_t i = 0; i < jk_plan_result_issue_count(r); i++) {
        const jk_plan_issue_t *is = jk_plan_result_issue(r, i);
        assert_int_equal(is->kind, JK_PLAN_ISSUE_INELIGIBLE);
        assert_false(is->shortfall);
        assert_int_equal(is->code, JK_ERR_INELIGIBLE);
    }
    for (size_t i = 0; i < cs.n; i++) {
        bool seated_t = jk_plan_result_find_seat(r, cs.v[i].admission, JK_EXAM_THEORY) != NULL;
        bool seated_s = jk_plan_result_find_seat(r, cs.v[i].admission, JK_EXAM_SKILLS) != NULL;
        assert_int_equal(seated_t, cs.v[i].eligible);
        assert_int_equal(seated_s, cs.v[i].eligible);
    }
    for (size_t s = 0; s < 2; s++) {
        const jk_plan_session_result_t *sr = jk_plan_result_session(r, s);
        assert_int_equal(sr->candidates, 16);
        assert_int_equal(sr->seated, 16);
        for (size_t k = 0; k < sr->n_seats; k++)
            assert_null(strstr("2026-1240-0005 2026-1240-0010 2026-1240-0015 2026-1240-0020",
                               sr->seats[k].admission));
    }
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

/* ---- routing ---- */

static void test_listed_sessions(void **state)
{
    (void)state;
    jk_plan_t *p = s_plan_ok(s_mk(
        "{\"id\":\"L5-theory-a\",\"level\":5,\"exam\":\"theory\",\"start\":" T0900
        ",\"minutes\":90,\"candidates\":[\"2026-1250-0001\",\"2026-1250-0002\",\"X-9999\","
        "\"2026-1240-0001\"]},"
        "{\"id\":\"L5-theory-b\",\"level\":5,\"exam\":\"theory\",\"start\":"
        "\"2026-12-12T13:00:00+08:00\",\"minutes\":90},"
        "{\"id\":\"L5-skills-a\",\"level\":5,\"exam\":\"skills\",\"start\":"
        "\"2026-12-12T15:00:00+08:00\",\"minutes\":90,\"candidates\":[\"2026-1250-0001\"]}",
        "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30) "]}",
        STAFF("A1", P) "," STAFF("A2", P) "," STAFF("A3", E) "," STAFF("A4", E) "," STAFF("A5", E)));
    cands_t cs = { 0 };
    s_cands_add(&cs, 5, 6, 0);
    s_cands_add(&cs, 4, 1, 0);
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r = s_assign(p, &cs, 1, col);
    const jk_plan_seat_t *st = jk_plan_result_find_seat(r, "2026-1250-0001", JK_EXAM_THEORY);
    assert_non_null(st);
    assert_int_equal(st->session, 0);
    st = jk_plan_result_find_seat(r, "2026-1250-0003", JK_EXAM_THEORY);
    assert_non_null(st);
    assert_int_equal(st->session, 1);
    assert_int_equal(jk_plan_result_session(r, 0)->seated, 2);
    assert_int_equal(jk_plan_result_session(r, 1)->seated, 4);
    assert_true(s_issue_has(r, "session L5-theory-a: candidate X-9999: listed, but not registered"));
    assert_true(s_issue_has(r, "session L5-theory-a: candidate 2026-1240-0001: listed, but "
                               "registered for level 4, not 5: not seated here"));
    /* no session of level 4 at all */
    assert_true(s_issue_has(r, "candidate 2026-1240-0001: level 4: the plan has no session of "
                               "the level: not seated"));
    /* level 5's only skills session lists one candidate: the others are in none */
    assert_true(s_issue_has(r, "candidate 2026-1250-0002: level 5: in no skills session: not "
                               "seated"));
    assert_false(s_issue_has(r, "candidate 2026-1250-0001: level 5: in no skills session: not "
                                "seated"));
    assert_int_equal(jk_plan_result_shortfall_count(r), 2 + 1 + 5);
    assert_false(jk_plan_result_ok(r));
    assert_non_null(jk_plan_result_find_seat(r, "2026-1250-0001", JK_EXAM_SKILLS));
    assert_null(jk_plan_result_find_seat(r, "2026-1250-0002", JK_EXAM_SKILLS));
    assert_null(jk_plan_result_find_seat(r, "nobody", JK_EXAM_THEORY));
    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

static void test_site_preference(void **state)
{
    (void)state;
    /* S02's staff are listed first; each room still gets its own site's. */
    jk_plan_t *p = s_plan_ok(s_mk(
        SESSION("L5-theory", 5, "theory", T0900, 90),
        "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30) "]},"
        "{\"id\":\"S02\",\"name\":\"乙\",\"rooms\":[" ROOM("S02-R01", 30) "]}",
        STAFF_AT("B1", P, "S02") "," STAFF_AT("B2", P, "S02") "," STAFF_AT("B3", P, "S02") ","
        STAFF("F1", P) "," STAFF_AT("A1", P, "S01")));
    cands_t cs = { 0 };
    s_cands_add(&cs, 5, 40, 0);
    collect_t *col = calloc(1, sizeof *col);
    for (uint64_t seed = 1; seed <= 8; seed++) {
        jk_plan_result_t *r = s_assign(p, &cs, seed, col);
        assert_true(jk_plan_result_ok(r));
        const jk_plan_session_result_t *sr = jk_plan_result_session(r, 0);
        assert_int_equal(sr->n_rooms, 2);
        for (size_t u = 0; u < 2; u++) {
            const jk_plan_room_use_t *use = &sr->rooms[u];
            size_t site = jk_plan_room(p, use->room)->site;
            assert_int_equal(use->n_staff, 2);
            for (size_t k = 0; k < use->n_staff; k++) {
                const jk_plan_staff_t *m = jk_plan_staff(p, use->staff[k].staff);
                if (site == 1) {
                    /* two of S02's three */
                    assert_int_equal(m->site, 1);
                } else {
                    /* S01's one, then the one with no site before S02's spare */
                    assert_true(strcmp(m->id, "A1") == 0 || strcmp(m->id, "F1") == 0);
                }
            }
        }
        jk_plan_result_destroy(&r);
    }
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

/* ---- validation ---- */

#define SITE1 "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 30) "]}"

static void test_minutes_refused(void **state)
{
    (void)state;
    s_plan_refused(s_mk(SESSION("L5-theory", 5, "theory", T0900, 89), SITE1, STAFF("A1", P)),
                   "plan.json: $.sessions[0] (L5-theory): minutes: 89 is less than the 90 "
                   "minutes the standard requires of the theory exam");
    s_plan_refused(s_mk(SESSION("L5-skills", 5, "skills", T0900, 60), SITE1, STAFF("A1", P)),
                   "$.sessions[0] (L5-skills): minutes: 60 is less than the 90");
    s_plan_refused(s_mk(SESSION("L5-theory", 5, "theory", T0900, 100000), SITE1, STAFF("A1", P)),
                   "minutes: 100000 is more than 480");
    jk_plan_t *p = s_plan_ok(s_mk(SESSION("L5-theory", 5, "theory", T0900, 90), SITE1,
                                  STAFF("A1", P)));
    assert_int_equal(jk_plan_session(p, 0)->minutes, 90);
    jk_plan_destroy(&p);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    const char *sess = SESSION("L5-theory", 5, "theory", T0900, 90);
    /* syntax and duplicate keys: file, line and column */
    s_plan_refused("{\"format\": \"jikao-plan\",", "plan.json:1:");
    s_plan_refused("{\"format\":\"jikao-plan\",\"format\":\"jikao-plan\"}", "duplicate");
    s_plan_refused("[]", "plan.json: $: expected an object");
    s_plan_refused("{\"format\":\"jikao-bank\",\"format_version\":1}",
                   "format: expected \"jikao-plan\"");
    s_plan_refused("{\"format\":\"jikao-plan\",\"format_version\":2}", "format_version: expected 1");
    /* unknown keys at every level */
    snprintf(g_buf, sizeof g_buf,
             PLAN_HEAD "\"sessions\":[%s],\"sites\":[" SITE1 "],\"staff\":[],\"extra\":1}", sess);
    s_plan_refused(g_buf, "plan.json: $: unknown field 'extra'");
    s_plan_refused(s_mk("{\"id\":\"L5-theory\",\"level\":5,\"exam\":\"theory\",\"start\":" T0900
                        ",\"minutes\":90,\"room\":\"S01-R01\"}",
                        SITE1, ""),
                   "$.sessions[0] (L5-theory): unknown field 'room'");
    s_plan_refused(s_mk(sess,
                        "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[{\"id\":\"S01-R01\",\"name\":"
                        "\"a\",\"seat\":30}]}",
                        ""),
                   "$.sites[0].rooms[0] (S01-R01): unknown field 'seat'");
    s_plan_refused(s_mk(sess, SITE1,
                        "{\"id\":\"A1\",\"name\":\"a\",\"roles\":[\"proctor\"],\"phone\":\"1\"}"),
                   "$.staff[0] (A1): unknown field 'phone'");
    s_plan_refused(s_mk(sess, "{\"id\":\"S01\",\"name\":\"甲\",\"addr\":\"x\",\"rooms\":[" ROOM(
                                  "S01-R01", 30) "]}",
                        ""),
                   "$.sites[0] (S01): unknown field 'addr'");
    /* duplicate ids */
    s_plan_refused(s_mk(SESSION("L5-theory", 5, "theory", T0900, 90) "," SESSION(
                            "L5-theory", 4, "theory", T0900, 90),
                        SITE1, ""),
                   "$.sessions[1] (L5-theory): id: 'L5-theory' is already the id of session "
                   "$.sessions[0]");
    s_plan_refused(s_mk(sess,
                        SITE1 ",{\"id\":\"S02\",\"name\":\"乙\",\"rooms\":[" ROOM("S02-R01", 30)
                              "," ROOM("S01-R01", 30) "]}",
                        ""),
                   "$.sites[1].rooms[1] (S01-R01): id: 'S01-R01' is already the id of room "
                   "$.sites[0].rooms[0]");
    s_plan_refused(s_mk(sess, SITE1 "," SITE1, ""),
                   "$.sites[1] (S01): id: 'S01' is already the id of site $.sites[0]");
    s_plan_refused(s_mk(sess, SITE1, STAFF("A1", P) "," STAFF("A1", E)),
                   "$.staff[1] (A1): id: 'A1' is already the id of staff member $.staff[0]");
    /* staff: no role, unknown role, unknown site */
    s_plan_refused(s_mk(sess, SITE1, STAFF("A1", "")), "$.staff[0] (A1): roles: empty");
    s_plan_refused(s_mk(sess, SITE1, "{\"id\":\"A1\",\"name\":\"a\"}"),
                   "$.staff[0] (A1): roles: missing");
    s_plan_refused(s_mk(sess, SITE1, STAFF("A1", "\"janitor\"")),
                   "$.staff[0] (A1): roles[0]: not a role");
    s_plan_refused(s_mk(sess, SITE1, STAFF_AT("A1", P, "S09")),
                   "$.staff[0] (A1): site: 'S09' is not a site of this plan");
    /* rooms: no seats, absurd seats, bad exams */
    s_plan_refused(s_mk(sess, "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 0)
                              "]}",
                        ""),
                   "$.sites[0].rooms[0] (S01-R01): seats: 0 is not in 1..200");
    s_plan_refused(s_mk(sess, "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 5000)
                              "]}",
                        ""),
                   "seats: 5000 is not in 1..200");
    s_plan_refused(s_mk(sess, "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[]}", ""),
                   "$.sites[0] (S01): rooms: expected a non-empty array");
    s_plan_refused(s_mk(sess,
                        "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[{\"id\":\"S01-R01\",\"name\":"
                        "\"a\",\"seats\":30,\"exams\":[\"oral\"]}]}",
                        ""),
                   "exams[0]: not an exam");
    /* sessions: unknown level and exam, bad start, bad id */
    s_plan_refused(s_mk(SESSION("L2-theory", 2, "theory", T0900, 90), SITE1, ""),
                   "$.sessions[0] (L2-theory): level: 2 is not a level (5, 4 or 3)");
    s_plan_refused(s_mk(SESSION("L5-oral", 5, "oral", T0900, 90), SITE1, ""),
                   "$.sessions[0] (L5-oral): exam: 'oral' is not an exam (theory or skills)");
    s_plan_refused(s_mk(SESSION("L5-theory", 5, "theory", "\"2026-12-12T09:00:00\"", 90), SITE1,
                        ""),
                   "start: '2026-12-12T09:00:00' is not an ISO 8601 time with offset");
    s_plan_refused(s_mk(SESSION("L5-theory", 5, "theory", "\"2026-02-30T09:00:00+08:00\"", 90),
                        SITE1, ""),
                   "is not an ISO 8601 time");
    s_plan_refused(s_mk(SESSION("L5 theory", 5, "theory", T0900, 90), SITE1, ""),
                   "$.sessions[0]: id: 'L5 theory' is not an id");
    s_plan_refused(s_mk("", SITE1, ""), "$.sessions: expected a non-empty array");
    /* a candidate sits each exam once, and one session at a time */
    s_plan_refused(s_mk(SESSION("A", 5, "theory", T0900, 90) "," SESSION(
                            "B", 5, "theory", "\"2026-12-12T13:00:00+08:00\"", 90),
                        SITE1, ""),
                   "$.sessions[1] (B): no candidates list, like $.sessions[0] (A)");
    s_plan_refused(s_mk(SESSION("A", 5, "theory", T0900, 90) "," SESSION("B", 5, "skills", T1000,
                                                                          90),
                        SITE1, ""),
                   "$.sessions[1] (B): overlaps $.sessions[0] (A) of the same level in time");
    s_plan_refused(
        s_mk("{\"id\":\"A\",\"level\":5,\"exam\":\"theory\",\"start\":" T0900
             ",\"minutes\":90,\"candidates\":[\"c1\",\"c2\"]},"
             "{\"id\":\"B\",\"level\":5,\"exam\":\"skills\",\"start\":" T1000
             ",\"minutes\":90,\"candidates\":[\"c3\",\"c2\"]}",
             SITE1, ""),
        "$.sessions[1] (B): overlaps $.sessions[0] (A) in time, and candidate 'c2' is listed in "
        "both");
    s_plan_refused(
        s_mk("{\"id\":\"A\",\"level\":5,\"exam\":\"theory\",\"start\":" T0900
             ",\"minutes\":90,\"candidates\":[\"c1\",\"c1\"]}",
             SITE1, ""),
        "$.sessions[0] (A): candidates[1]: 'c1' is listed twice");
    /* sessions of different levels may overlap; listed ones of the same level without
     * anyone in common too */
    jk_plan_t *p = s_plan_ok(s_mk(
        SESSION("A", 5, "theory", T0900, 90) "," SESSION("B", 4, "skills", T0900, 90) ","
        "{\"id\":\"C\",\"level\":3,\"exam\":\"theory\",\"start\":" T0900
        ",\"minutes\":90,\"candidates\":[\"c1\"]},"
        "{\"id\":\"D\",\"level\":3,\"exam\":\"skills\",\"start\":" T1000
        ",\"minutes\":90,\"candidates\":[\"c2\"]}",
        SITE1, ""));
    assert_int_equal(jk_plan_session_count(p), 4);
    assert_true(jk_plan_session(p, 2)->listed);
    assert_false(jk_plan_session(p, 0)->listed);
    assert_int_equal(jk_plan_find_session(p, "D"), 3);
    assert_int_equal(jk_plan_find_session(p, "E"), -1);
    jk_plan_destroy(&p);

    /* every error of a document is reported, not only the first */
    collect_t *c = calloc(1, sizeof *c);
    assert_null(s_parse(s_mk(SESSION("L5-theory", 5, "theory", T0900, 89),
                             "{\"id\":\"S01\",\"name\":\"甲\",\"rooms\":[" ROOM("S01-R01", 0)
                             "]}",
                             STAFF("A1", "")),
                        c));
    assert_true(c->n >= 3);
    free(c);
}

static void test_bad_candidates(void **state)
{
    (void)state;
    jk_plan_t *p = s_plan_ok(s_mk(SESSION("L5-theory", 5, "theory", T0900, 90), SITE1,
                                  STAFF("A1", P)));
    jk_plan_candidate_t dup[] = { { "c1", 5, true }, { "c2", 5, true }, { "c1", 5, true } };
    jk_error_t e;
    assert_null(jk_plan_assign(p, dup, 3, 1, NULL, &e));
    assert_int_equal(e.code, JK_ERR_DUP);
    assert_non_null(strstr(e.msg, "candidate c1: registered twice"));
    jk_plan_candidate_t lvl[] = { { "c1", 2, true } };
    assert_null(jk_plan_assign(p, lvl, 1, 1, NULL, &e));
    assert_int_equal(e.code, JK_ERR_INVAL);
    jk_plan_candidate_t bad[] = { { "c 1", 5, true } };
    assert_null(jk_plan_assign(p, bad, 1, 1, NULL, &e));
    assert_int_equal(e.code, JK_ERR_INVAL);
    jk_plan_candidate_t none[] = { { NULL, 5, true } };
    assert_null(jk_plan_assign(p, none, 1, 1, NULL, &e));
    /* no candidates at all is fine: nothing to place */
    jk_plan_result_t *r = jk_plan_assign(p, NULL, 0, 1, NULL, &e);
    assert_non_null(r);
    assert_true(jk_plan_result_ok(r));
    assert_int_equal(jk_plan_result_session(r, 0)->n_rooms, 0);
    assert_null(jk_plan_result_session(r, 1));
    jk_plan_result_destroy(&r);
    jk_plan_result_destroy(&r); /* NULL is fine */
    jk_plan_destroy(&p);
    jk_plan_destroy(&p);
    jk_plan_destroy(NULL);
}

/* ---- the sample plan ---- */

/* About 360 candidates: 180 at level 5, 90 at 4, 90 at 3; one in twenty
 * not eligible. */
static void s_sample_cands(cands_t *cs)
{
    s_cands_add(cs, 5, 180, 20);
    s_cands_add(cs, 4, 90, 20);
    s_cands_add(cs, 3, 90, 20);
}

static jk_plan_t *s_sample_plan(void)
{
    collect_t *c = calloc(1, sizeof *c);
    jk_diag_t d;
    jk_diag_init(&d, s_collect, c, 0);
    jk_error_t e;
    jk_plan_t *p = jk_plan_load(g_std, JK_DATA_DIR "/plan.json", &d, &e);
    if (!p) {
        fprintf(stderr, "%s\n", e.msg);
        s_dump(c);
    }
    free(c);
    assert_non_null(p);
    return p;
}

/* Checks every rule of an assignment from the outside. */
static void s_check_invariants(const jk_plan_t *p, const jk_plan_result_t *r, const cands_t *cs)
{
    size_t ns = jk_plan_session_count(p);
    for (size_t s = 0; s < ns; s++) {
        const jk_plan_session_t *ps = jk_plan_session(p, s);
        const jk_plan_session_result_t *sr = jk_plan_result_session(r, s);
        const jk_staffing_t *rule = jk_standard_staffing(g_std, ps->exam);
        jk_role_t role = (jk_role_t)jk_role_parse(rule->role);
        size_t seats = 0;
        for (size_t u = 0; u < sr->n_rooms; u++) {
            const jk_plan_room_use_t *use = &sr->rooms[u];
            const jk_plan_room_t *room = jk_plan_room(p, use->room);
            if (u > 0)
                assert_true(sr->rooms[u - 1].room < use->room);
            assert_true(room->exams & (1u << ps->exam));
            assert_true(use->candidates >= 1 && use->candidates <= room->seats);
            assert_int_equal(use->staff_needed, jk_staffing_needed(rule, use->candidates));
            assert_int_equal(use->role, role);
            for (int k = 0; k < use->candidates; k++) {
                assert_int_equal(use->seats[k].seat, k + 1);
                assert_int_equal(use->seats[k].room, use->room);
                assert_int_equal(use->seats[k].session, s);
            }
            seats += (size_t)use->candidates;
            for (size_t k = 0; k < use->n_staff; k++) {
                const jk_plan_staff_t *m = jk_plan_staff(p, use->staff[k].staff);
                assert_true(m->roles & (1u << use->staff[k].role));
                assert_int_equal(use->staff[k].role, role);
            }
        }
        assert_int_equal(seats, sr->seated);
        assert_int_equal(sr->n_seats, sr->seated);
        /* no room and no staff member in two sessions at once (nor twice in one) */
        for (size_t t = 0; t <= s; t++) {
            if (!jk_plan_sessions_overlap(ps, jk_plan_session(p, t)))
                continue;
            const jk_plan_session_result_t *tr = jk_plan_result_session(r, t);
            for (size_t u = 0; u < sr->n_rooms; u++)
                for (size_t v = 0; v < tr->n_rooms; v++) {
                    if (t == s && u == v)
                        continue;
                    assert_int_not_equal(sr->rooms[u].room, tr->rooms[v].room);
                }
            for (size_t u = 0; u < sr->n_rooms; u++)
                for (size_t a = 0; a < sr->rooms[u].n_staff; a++)
                    for (size_t v = 0; v < tr->n_rooms; v++)
                        for (size_t b = 0; b < tr->rooms[v].n_staff; b++) {
                            if (t == s && u == v && a == b)
                                continue;
                            assert_int_not_equal(sr->rooms[u].staff[a].staff,
                                                 tr->rooms[v].staff[b].staff);
                        }
        }
    }
    /* every eligible candidate sits both exams of their level; no one else is seated */
    for (size_t i = 0; i < cs->n; i++)
        for (int e = 0; e < JK_EXAM__COUNT; e++) {
            const jk_plan_seat_t *st = jk_plan_result_find_seat(r, cs->v[i].admission, (jk_exam_t)e);
            if (!cs->v[i].eligible) {
                assert_null(st);
                continue;
            }
            if (jk_plan_result_ok(r)) {
                assert_non_null(st);
            }
            if (st) {
                assert_int_equal(jk_plan_session(p, st->session)->level, cs->v[i].level);
                assert_int_equal(jk_plan_session(p, st->session)->exam, e);
                assert_string_equal(st->admission, cs->v[i].admission);
            }
        }
}

static void test_sample_plan(void **state)
{
    (void)state;
    jk_plan_t *p = s_sample_plan();
    assert_string_equal(jk_plan_id(p), "2026-12-LS01");
    assert_true(jk_plan_session_count(p) >= 6);
    assert_int_equal(jk_plan_site_count(p), 2);
    assert_true(jk_plan_room_count(p) >= 6 && jk_plan_room_count(p) <= 8);
    for (size_t i = 0; i < jk_plan_session_count(p); i++)
        assert_true(jk_plan_session(p, i)->minutes >= 90);
    cands_t cs = { 0 };
    s_sample_cands(&cs);
    assert_int_equal(cs.n, 360);
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r = s_assign(p, &cs, 20261212, col);
    if (!jk_plan_result_ok(r))
        s_issues_dump(r);
    assert_true(jk_plan_result_ok(r));
    assert_int_equal(jk_plan_result_shortfall_count(r), 0);
    size_t inelig = 0;
    for (size_t i = 0; i < cs.n; i++)
        inelig += !cs.v[i].eligible;
    assert_int_equal(jk_plan_result_issue_count(r), inelig); /* the notices */
    s_check_invariants(p, r, &cs);
    /* with its slack, staff with a site work at their site */
    for (size_t s = 0; s < jk_plan_session_count(p); s++) {
        const jk_plan_session_result_t *sr = jk_plan_result_session(r, s);
        for (size_t u = 0; u < sr->n_rooms; u++)
            for (size_t k = 0; k < sr->rooms[u].n_staff; k++) {
                const jk_plan_staff_t *m = jk_plan_staff(p, sr->rooms[u].staff[k].staff);
                assert_true(m->site < 0 ||
                            (size_t)m->site == jk_plan_room(p, sr->rooms[u].room)->site);
            }
    }

    /* the JSON reads back */
    char *json = s_json_of(r);
    json_error_t je;
    json_t *doc = json_loads(json, 0, &je);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "jikao-assignment");
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_string_equal(json_string_value(json_object_get(doc, "seed")), "20261212");
    json_t *s0 = json_array_get(json_object_get(doc, "sessions"), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "start")), "2026-12-12T08:30:00+08:00");
    assert_string_equal(json_string_value(json_object_get(s0, "end")), "2026-12-12T10:00:00+08:00");
    json_t *room0 = json_array_get(json_object_get(s0, "rooms"), 0);
    assert_int_equal(json_array_size(json_object_get(room0, "staff")),
                     (size_t)json_integer_value(json_object_get(room0, "staff_needed")));
    assert_int_equal(json_array_size(json_object_get(room0, "seating")),
                     (size_t)json_integer_value(json_object_get(room0, "candidates")));
    assert_int_equal(json_array_size(json_object_get(doc, "issues")), inelig);
    json_decref(doc);
    free(json);

    /* the roster names rooms, sessions, times, staff and seats */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    jk_error_t e;
    assert_int_equal(jk_plan_result_write_roster(r, f, &e), JK_OK);
    fclose(f);
    assert_non_null(strstr(text, "考场 S01-R01 第一机房"));
    assert_non_null(strstr(text, "场次 L5-theory"));
    assert_non_null(strstr(text, "2026-12-12 08:30–10:00"));
    assert_non_null(strstr(text, "监考人员（proctor）"));
    assert_non_null(strstr(text, "考评人员（examiner）"));
    assert_non_null(strstr(text, "提示 candidate 2026-1250-0020: not eligible for level 5"));
    const jk_plan_seat_t *st = jk_plan_result_find_seat(r, "2026-1230-0001", JK_EXAM_SKILLS);
    assert_non_null(st);
    assert_non_null(strstr(text, "2026-1230-0001"));
    free(text);

    jk_plan_result_destroy(&r);
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

/* ---- determinism ---- */

static void test_deterministic(void **state)
{
    (void)state;
    jk_plan_t *p = s_sample_plan();
    cands_t cs = { 0 };
    s_sample_cands(&cs);
    collect_t *col = calloc(1, sizeof *col);
    jk_plan_result_t *r1 = s_assign(p, &cs, 42, col);
    jk_plan_result_t *r2 = s_assign(p, &cs, 42, col);
    char *j1 = s_json_of(r1), *j2 = s_json_of(r2);
    assert_string_equal(j1, j2);

    /* the input order does not matter */
    for (size_t i = 0; i < cs.n / 2; i++) {
        jk_plan_candidate_t t = cs.v[i];
        cs.v[i] = cs.v[cs.n - 1 - i];
        cs.v[cs.n - 1 - i] = t;
    }
    jk_plan_result_t *r3 = s_assign(p, &cs, 42, col);
    char *j3 = s_json_of(r3);
    assert_string_equal(j1, j3);

    /* another seed seats differently, and still meets every rule */
    jk_plan_result_t *r4 = s_assign(p, &cs, 43, col);
    char *j4 = s_json_of(r4);
    assert_string_not_equal(j1, j4);
    assert_true(jk_plan_result_ok(r4));
    s_check_invariants(p, r4, &cs);

    free(j1);
    free(j2);
    free(j3);
    free(j4);
    jk_plan_result_destroy(&r1);
    jk_plan_result_destroy(&r2);
    jk_plan_result_destroy(&r3);
    jk_plan_result_destroy(&r4);
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

/* A tight sitting: many seeds, shortfalls or not, never break a rule. */
static void test_invariants_under_pressure(void **state)
{
    (void)state;
    jk_plan_t *p = s_sample_plan();
    cands_t cs = { 0 };
    s_cands_add(&cs, 5, 230, 7);
    s_cands_add(&cs, 4, 120, 0);
    s_cands_add(&cs, 3, 40, 9);
    collect_t *col = calloc(1, sizeof *col);
    for (uint64_t seed = 0; seed < 20; seed++) {
        jk_plan_result_t *r = s_assign(p, &cs, seed, col);
        s_check_invariants(p, r, &cs);
        for (size_t i = 0; i < jk_plan_result_issue_count(r); i++) {
            const jk_plan_issue_t *is = jk_plan_result_issue(r, i);
            assert_true(is->kind == JK_PLAN_ISSUE_INELIGIBLE || is->kind == JK_PLAN_ISSUE_SEATS ||
                        is->kind == JK_PLAN_ISSUE_STAFF);
        }
        assert_false(jk_plan_result_ok(r)); /* 230 at level 5 don't fit 180 computer seats */
        /* 198 eligible at level 5, 180 computer seats */
        assert_true(s_issue_has(r, "session L5-theory: 18 candidates without a seat (rooms full)"));
        jk_plan_result_destroy(&r);
    }
    jk_plan_destroy(&p);
    s_cands_free(&cs);
    free(col);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staff_per_room),
        cmocka_unit_test(test_balanced_rooms),
        cmocka_unit_test(test_overlap_staff),
        cmocka_unit_test(test_staff_shortage_named),
        cmocka_unit_test(test_seat_shortage_named),
        cmocka_unit_test(test_ineligible_never_seated),
        cmocka_unit_test(test_listed_sessions),
        cmocka_unit_test(test_site_preference),
        cmocka_unit_test(test_minutes_refused),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_bad_candidates),
        cmocka_unit_test(test_sample_plan),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_invariants_under_pressure),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
