/*
 * jk_plan: sitting plans (考试批次) and the assignment of candidates to seats
 * and of staff to rooms.
 *
 * A plan (JSON, format "jikao-plan" version 1, see docs/plan-format.md)
 * describes one sitting of an assessment agency: its sessions (场次: a level,
 * an exam, a start time and a length), its sites (考点) with their rooms
 * (考场: seats, the exams a room can host) and its staff (proctors and/or
 * examiners, optionally belonging to a site). Optionally a session lists the
 * admission numbers it is for; a session without a list takes every
 * candidate of its level not listed in another session of the same level
 * and exam.
 *
 * Invariants of a loaded plan (each violation is reported through the
 * jk_diag_t as "<file>: <JSON path> (<id>): <what>" and the load fails):
 *  - ids are valid ([A-Za-z0-9._:-], at most JK_PLAN_ID_MAX bytes) and unique
 *    among sessions, among sites, among rooms (across all sites) and among
 *    staff; unknown fields are errors;
 *  - every session lasts at least the standard's minimum for its exam
 *    (jk_standard_exam_rule()->min_minutes, 90) and at most
 *    JK_PLAN_SESSION_MAX_MINUTES; level is 5, 4 or 3; exam is "theory" or
 *    "skills"; start is ISO 8601 with an offset;
 *  - a candidate sits each exam once: per level and exam at most one session
 *    has no list, and no admission number is listed twice for one level and
 *    exam;
 *  - two sessions of one level whose times overlap must both list their
 *    candidates, with nobody in both (nobody sits two exams at once);
 *  - rooms have 1..JK_PLAN_ROOM_SEATS_MAX seats; staff have at least one role;
 *    a staff member's site exists.
 *
 * Assignment (jk_plan_assign) is a deterministic function of the plan, the
 * set of candidates (not their order) and a seed. Its rules:
 *  - only eligible candidates are seated; an ineligible one is named in a
 *    notice (not a shortfall: leaving them out is the correct outcome);
 *  - seats are numbered 1..n in each room used, n <= the room's seats;
 *  - a room hosts at most one session at a time, and a staff member works at
 *    most one room among sessions whose times overlap (intervals are
 *    half-open: a session ending at 10:00 does not overlap one starting at
 *    10:00);
 *  - theory rooms get proctors, skills rooms examiners, as many as
 *    jk_staffing_needed() of the standard's rule says for the room's
 *    candidates (the numbers are the standard's, not constants here);
 *  - staff with a site work at rooms of that site first, then staff with no
 *    site, then staff of other sites;
 *  - each session uses as few rooms as hold its candidates (largest first),
 *    and balances candidates across them (31 over two 30-seat rooms is
 *    16 + 15, never 30 + 1).
 * What can't be met is a shortfall with a message naming it, e.g.
 *   "session L5-theory: room S01-R02: proctors: needs 3, 1 left: short by 2"
 *   "session L4-skills: 12 candidates without a seat (rooms full)"
 * and the result is `ok` only when there are none.
 *
 * Not here: eligibility itself (the caller evaluates it with jk_eligibility
 * and passes a flag), papers, and anything about sockets or files other than
 * reading a plan and writing a result to a FILE *.
 */
#ifndef JK_PLAN_H
#define JK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jk_diag.h"
#include "jk_err.h"
#include "jk_standard.h"

#define JK_PLAN_FILE_MAX (16u << 20)       /* bytes of a plan file */
#define JK_PLAN_ID_MAX 48                  /* bytes of any id or admission number */
#define JK_PLAN_NAME_MAX 200               /* bytes of a name */
#define JK_PLAN_MAX_SESSIONS 256
#define JK_PLAN_MAX_SITES 2000
#define JK_PLAN_MAX_ROOMS 20000
#define JK_PLAN_MAX_STAFF 100000
#define JK_PLAN_MAX_LISTED 200000          /* admission numbers listed in one session */
#define JK_PLAN_ROOM_SEATS_MAX 200         /* more is taken for a typo */
#define JK_PLAN_SESSION_MAX_MINUTES 480    /* more is taken for a typo */
#define JK_PLAN_MAX_CANDIDATES 1000000     /* candidates given to jk_plan_assign */

/* Staff roles. The standard's staffing rule names the role of each exam
 * ("proctor" for theory, "examiner" for skills). */
typedef enum { JK_ROLE_PROCTOR = 0, JK_ROLE_EXAMINER = 1, JK_ROLE__COUNT } jk_role_t;

/* "proctor" / "examiner"; "?" for an unknown value. */
const char *jk_role_name(jk_role_t role);
/* Parses "proctor" / "examiner"; -1 if neither. */
int jk_role_parse(const char *s);

typedef struct {
    const char *id;            /* "L5-theory" */
    const char *name;          /* optional display name, or NULL */
    int level;                 /* 5, 4, 3 */
    jk_exam_t exam;
    const char *start_text;    /* as written: "2026-12-12T09:00:00+08:00" */
    int64_t start_s;           /* Unix time of the start, seconds */
    int offset_min;            /* UTC offset written with start, minutes */
    int minutes;               /* length, minutes */
    bool listed;               /* true when the session lists its candidates */
    size_t n_listed;           /* admission numbers listed (listed only) */
    const char *const *listed_ids;
} jk_plan_session_t;

typedef struct {
    const char *id;            /* "S01" */
    const char *name;
    size_t first_room;         /* its rooms are rooms[first_room .. +n_rooms) */
    size_t n_rooms;
} jk_plan_site_t;

typedef struct {
    const char *id;            /* "S01-R01"; unique across sites */
    const char *name;
    size_t site;               /* index of its site */
    int seats;                 /* 1..JK_PLAN_ROOM_SEATS_MAX */
    unsigned exams;            /* bit (1u << jk_exam_t) per exam it can host */
} jk_plan_room_t;

typedef struct {
    const char *id;
    const char *name;
    unsigned roles;            /* bit (1u << jk_role_t) per role held; never 0 */
    long site;                 /* index of the site they belong to, -1 for none */
} jk_plan_staff_t;

typedef struct jk_plan jk_plan_t;

/* Parses and validates a plan against the standard std (borrowed; must
 * outlive the plan). Every problem is reported to diag (may be NULL) as
 * "<name>: <JSON path> (<id>): <what>", or "<name>:<line>:<column>: <what>"
 * for a syntax error; *err (may be NULL) receives the first. Returns the
 * plan, or NULL on any error. Never partially loads. */
jk_plan_t *jk_plan_parse(const jk_standard_t *std, const char *json, size_t len,
                         const char *name, jk_diag_t *diag, jk_error_t *err);

/* Reads a file (bounded by JK_PLAN_FILE_MAX) and parses it; the path is the
 * name in messages. */
jk_plan_t *jk_plan_load(const jk_standard_t *std, const char *path, jk_diag_t *diag,
                        jk_error_t *err);

/* Frees *p and sets it to NULL; accepts NULL and a NULL *p. */
void jk_plan_destroy(jk_plan_t **p);

/* ---- queries (pointers are borrowed, valid until the plan is destroyed) ---- */

const jk_standard_t *jk_plan_standard(const jk_plan_t *p);
const char *jk_plan_id(const jk_plan_t *p);
const char *jk_plan_name(const jk_plan_t *p);

size_t jk_plan_session_count(const jk_plan_t *p);
const jk_plan_session_t *jk_plan_session(const jk_plan_t *p, size_t i); /* NULL out of range */
size_t jk_plan_site_count(const jk_plan_t *p);
const jk_plan_site_t *jk_plan_site(const jk_plan_t *p, size_t i);
size_t jk_plan_room_count(const jk_plan_t *p);
const jk_plan_room_t *jk_plan_room(const jk_plan_t *p, size_t i);
size_t jk_plan_staff_count(const jk_plan_t *p);
const jk_plan_staff_t *jk_plan_staff(const jk_plan_t *p, size_t i);

/* Index of the entry with that id, or -1. */
long jk_plan_find_session(const jk_plan_t *p, const char *id);
long jk_plan_find_site(const jk_plan_t *p, const char *id);
long jk_plan_find_room(const jk_plan_t *p, const char *id);
long jk_plan_find_staff(const jk_plan_t *p, const char *id);

/* True when the two sessions' times overlap ([start, start + minutes) half-open). */
bool jk_plan_sessions_overlap(const jk_plan_session_t *a, const jk_plan_session_t *b);

/* ---- assignment ---- */

/* A registered candidate as the caller gives it. */
typedef struct {
    const char *admission;     /* 准考证号, a valid id, unique; copied */
    int level;                 /* level applied for: 5, 4, 3 */
    bool eligible;             /* evaluated by the caller (jk_eligibility) */
} jk_plan_candidate_t;

/* A candidate's seat in one session. */
typedef struct {
    const char *admission;     /* owned by the result */
    size_t session;            /* plan session index */
    size_t room;               /* plan room index (its site: the room's) */
    int seat;                  /* 1..the room's candidates */
} jk_plan_seat_t;

/* A staff member on duty in a room for a session. */
typedef struct {
    size_t staff;              /* plan staff index */
    jk_role_t role;            /* the role they work in */
} jk_plan_duty_t;

/* One room used by one session. */
typedef struct {
    size_t room;               /* plan room index */
    int candidates;            /* seated here, seats 1..candidates */
    jk_role_t role;            /* proctor (theory) or examiner (skills) */
    int staff_needed;          /* jk_staffing_needed(rule, candidates) */
    size_t n_staff;            /* assigned; < staff_needed only with a shortfall */
    const jk_plan_duty_t *staff;
    const jk_plan_seat_t *seats; /* `candidates` entries, seat 1 first */
} jk_plan_room_use_t;

/* One session's outcome. */
typedef struct {
    size_t session;            /* plan session index */
    size_t candidates;         /* eligible candidates routed to it */
    size_t seated;             /* of them with a seat; the rest are a shortfall */
    size_t n_rooms;
    const jk_plan_room_use_t *rooms; /* in plan room order */
    size_t n_seats;            /* == seated */
    const jk_plan_seat_t *seats;     /* all seats, grouped by room in `rooms` order */
} jk_plan_session_result_t;

typedef enum {
    JK_PLAN_ISSUE_SEATS = 0,   /* candidates of a session without a seat */
    JK_PLAN_ISSUE_STAFF,       /* a room short of proctors or examiners */
    JK_PLAN_ISSUE_UNROUTED,    /* an eligible candidate in no session of an exam */
    JK_PLAN_ISSUE_LISTED,      /* a session lists someone not registered for its level */
    JK_PLAN_ISSUE_INELIGIBLE,  /* not eligible, so not seated: a notice */
} jk_plan_issue_kind_t;

typedef struct {
    jk_plan_issue_kind_t kind;
    bool shortfall;            /* false only for JK_PLAN_ISSUE_INELIGIBLE */
    jk_err_t code;             /* JK_ERR_SHORTAGE, JK_ERR_NOTFOUND, JK_ERR_INELIGIBLE */
    long session;              /* plan session index, or -1 */
    long room;                 /* plan room index, or -1 */
    const char *candidate;     /* admission number, or NULL */
    jk_role_t role;            /* STAFF only */
    int needed;                /* STAFF: staff needed; SEATS: candidates routed */
    int got;                   /* STAFF: staff assigned; SEATS: candidates seated */
    const char *msg;           /* the whole message, owned by the result */
} jk_plan_issue_t;

typedef struct jk_plan_result jk_plan_result_t;

/* Assigns seats and staff for every session of plan p.
 * candidates[0..n) are the sitting's registered candidates (any order; the
 * result does not depend on it). Eligible candidates are routed to the
 * sessions of their level (see the header note), shuffled with a stream
 * seeded from (seed, session id) and seated; staff are assigned per room.
 * Every shortfall is reported to diag (may be NULL) as an error and every
 * notice as a warning, and recorded in the result.
 * Returns a new result (possibly with shortfalls: see
 * jk_plan_result_ok), or NULL with *err set when the input itself is bad
 * (NULL arguments or an invalid admission number or level: JK_ERR_INVAL;
 * an admission number given twice: JK_ERR_DUP; more than
 * JK_PLAN_MAX_CANDIDATES: JK_ERR_TOO_BIG; each also reported to diag) or
 * memory runs out (JK_ERR_NOMEM).
 * The result borrows p (p must outlive it) and copies the admission numbers. */
jk_plan_result_t *jk_plan_assign(const jk_plan_t *p, const jk_plan_candidate_t *candidates,
                                 size_t n, uint64_t seed, jk_diag_t *diag, jk_error_t *err);

/* Frees *r and sets it to NULL; accepts NULL and a NULL *r. */
void jk_plan_result_destroy(jk_plan_result_t **r);

/* True when the result has no shortfall (notices allowed). */
bool jk_plan_result_ok(const jk_plan_result_t *r);
const jk_plan_t *jk_plan_result_plan(const jk_plan_result_t *r);
uint64_t jk_plan_result_seed(const jk_plan_result_t *r);

/* Outcome of plan session i; NULL out of range. Borrowed. */
const jk_plan_session_result_t *jk_plan_result_session(const jk_plan_result_t *r, size_t i);

/* The seat of a candidate in the exam `exam` (a candidate sits each exam at
 * most once), or NULL when they have none. Borrowed. */
const jk_plan_seat_t *jk_plan_result_find_seat(const jk_plan_result_t *r, const char *admission,
                                               jk_exam_t exam);

/* Issues (shortfalls and notices) in the order found; borrowed. */
size_t jk_plan_result_issue_count(const jk_plan_result_t *r);
const jk_plan_issue_t *jk_plan_result_issue(const jk_plan_result_t *r, size_t i);
size_t jk_plan_result_shortfall_count(const jk_plan_result_t *r);

/* Writes the result as one JSON document ("jikao-assignment" version 1,
 * see docs/plan-format.md): per session its rooms, staff with roles and
 * seats, then every issue. Returns JK_OK, or JK_ERR_NOMEM / JK_ERR_IO with
 * *err set. Does not close or flush-sync out. */
jk_err_t jk_plan_result_write_json(const jk_plan_result_t *r, FILE *out, jk_error_t *err);

/* Writes a human-readable roster: per room (in plan order), every session it
 * hosts in time order with its time, its staff with roles, and its
 * candidates by seat; then the issues. UTF-8 text with Chinese labels, for
 * printing and posting at the room door. Returns JK_OK or JK_ERR_IO. */
jk_err_t jk_plan_result_write_roster(const jk_plan_result_t *r, FILE *out, jk_error_t *err);

#endif
