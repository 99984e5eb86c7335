/*
 * jk_plan: loader and validator of sitting plans, and the assignment of
 * candidates to seats and staff to rooms; see jk_plan.h for the contract and
 * docs/plan-format.md for the format.
 *
 * Loading is strict and reports everything: unknown fields are errors (a
 * misspelt optional field would otherwise vanish silently), and parsing
 * carries on after an error so one run names every problem; the plan is
 * returned only when there were none.
 *
 * Assignment is greedy, in session time order (then larger sessions first,
 * then plan order), and deterministic:
 *  1. Candidates are sorted by admission number, so the input order does not
 *     matter. Ineligible ones get a notice and are never routed.
 *  2. Routing: listed sessions take their lists; every other eligible
 *     candidate goes to the unlisted session of their level and exam.
 *  3. Per session, the rooms free of overlapping sessions that can host the
 *     exam are taken largest first until they hold everyone (fewest rooms,
 *     since each room costs at least the minimum staff), then each chosen
 *     room is swapped for the smallest free room that still holds everyone
 *     without needing more staff (leaving big rooms to sessions processed
 *     later). Candidates are spread over the chosen rooms by water-filling
 *     (counts differ by at most one except where a room is full), so 31 over
 *     two 30-seat rooms is 16 + 15.
 *  4. Members are shuffled with a stream seeded from (seed, session id) and
 *     seated room by room, seats 1..n.
 *  5. Staff free of overlapping sessions who hold the exam's role are
 *     ordered by: single-role before dual-role (keeps the versatile ones for
 *     where only they will do), fewer duties so far (spreads the day's
 *     work), then a seeded random rank. They are handed out in three passes:
 *     each room's own site's staff, then staff with no site, then staff of
 *     other sites.
 * Rejected: an exact optimiser (integer programming) — plans have tens of
 * rooms per session, where the greedy choice is what a clerk would make and
 * can explain; filling rooms to capacity in order — it leaves a near-empty
 * last room that still needs its full minimum of staff.
 */
#include "jk_plan.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jk_arena.h"
#include "jk_date.h"
#include "jk_file.h"
#include "jk_rand.h"
#include "jk_strmap.h"
#include "jk_text.h"

#define S_DAY_S 86400
#define S_MAX_OFFSET_MIN (14 * 60) /* the widest UTC offsets in use are +-14:00 */

struct jk_plan {
    const jk_standard_t *std;
    jk_arena_t *arena;
    const char *id;
    const char *name;
    jk_plan_session_t *sessions;
    size_t n_sessions;
    jk_plan_site_t *sites;
    size_t n_sites;
    jk_plan_room_t *rooms;
    size_t n_rooms;
    jk_plan_staff_t *staff;
    size_t n_staff;
    jk_strmap_t *session_ids, *site_ids, *room_ids, *staff_ids; /* id -> index */
    jk_role_t exam_role[JK_EXAM__COUNT]; /* role working each exam, from the standard */
};

static const char *const s_role_names[JK_ROLE__COUNT] = { "proctor", "examiner" };

const char *jk_role_name(jk_role_t role)
{
    return (unsigned)role < JK_ROLE__COUNT ? s_role_names[role] : "?";
}

int jk_role_parse(const char *s)
{
    for (int i = 0; s && i < JK_ROLE__COUNT; i++)
        if (strcmp(s, s_role_names[i]) == 0)
            return i;
    return -1;
}

/* ---- lifecycle and queries ---- */

void jk_plan_destroy(jk_plan_t **pp)
{
    if (!pp || !*pp)
        return;
    jk_plan_t *p = *pp;
    free(p->sessions);
    free(p->sites);
    free(p->rooms);
    free(p->staff);
    jk_strmap_destroy(&p->session_ids);
    jk_strmap_destroy(&p->site_ids);
    jk_strmap_destroy(&p->room_ids);
    jk_strmap_destroy(&p->staff_ids);
    jk_arena_destroy(&p->arena);
    free(p);
    *pp = NULL;
}

const jk_standard_t *jk_plan_standard(const jk_plan_t *p) { return p->std; }
const char *jk_plan_id(const jk_plan_t *p) { return p->id; }
const char *jk_plan_name(const jk_plan_t *p) { return p->name; }
size_t jk_plan_session_count(const jk_plan_t *p) { return p->n_sessions; }
size_t jk_plan_site_count(const jk_plan_t *p) { return p->n_sites; }
size_t jk_plan_room_count(const jk_plan_t *p) { return p->n_rooms; }
size_t jk_plan_staff_count(const jk_plan_t *p) { return p->n_staff; }

const jk_plan_session_t *jk_plan_session(const jk_plan_t *p, size_t i)
{
    return i < p->n_sessions ? &p->sessions[i] : NULL;
}
const jk_plan_site_t *jk_plan_site(const jk_plan_t *p, size_t i)
{
    return i < p->n_sites ? &p->sites[i] : NULL;
}
const jk_plan_room_t *jk_plan_room(const jk_plan_t *p, size_t i)
{
    return i < p->n_rooms ? &p->rooms[i] : NULL;
}
const jk_plan_staff_t *jk_plan_staff(const jk_plan_t *p, size_t i)
{
    return i < p->n_staff ? &p->staff[i] : NULL;
}

static long s_find(const jk_strmap_t *m, const char *id)
{
    size_t v;
    return id && jk_strmap_get(m, id, &v) ? (long)v : -1;
}
long jk_plan_find_session(const jk_plan_t *p, const char *id) { return s_find(p->session_ids, id); }
long jk_plan_find_site(const jk_plan_t *p, const char *id) { return s_find(p->site_ids, id); }
long jk_plan_find_room(const jk_plan_t *p, const char *id) { return s_find(p->room_ids, id); }
long jk_plan_find_staff(const jk_plan_t *p, const char *id) { return s_find(p->staff_ids, id); }

bool jk_plan_sessions_overlap(const jk_plan_session_t *a, const jk_plan_session_t *b)
{
    int64_t a_end = a->start_s + (int64_t)a->minutes * 60;
    int64_t b_end = b->start_s + (int64_t)b->minutes * 60;
    return a->start_s < b_end && b->start_s < a_end;
}

/* ---- times ---- */

static bool s_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses "YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM" / "-HH:MM". An
 * offset is required: a plan's times must mean one instant wherever the
 * plan is read. */
static bool s_parse_time(const char *s, int64_t *out_s, int *out_off)
{
    size_t n = strlen(s);
    int h, mi, se, oh = 0, om = 0, sign = 1;
    if (n != 20 && n != 25)
        return false;
    /* The date part is jk_date's strict "YYYY-MM-DD" (a valid date within
     * its years). */
    char ymd[11];
    memcpy(ymd, s, 10);
    ymd[10] = '\0';
    jk_date_t day;
    if (!jk_date_parse_iso(ymd, &day))
        return false;
    if (s[10] != 'T' || !s_digits(s + 11, 2, &h) || s[13] != ':' || !s_digits(s + 14, 2, &mi) ||
        s[16] != ':' || !s_digits(s + 17, 2, &se))
        return false;
    if (n == 20) {
        if (s[19] != 'Z')
            return false;
    } else {
        if (s[19] != '+' && s[19] != '-')
            return false;
        sign = s[19] == '-' ? -1 : 1;
        if (!s_digits(s + 20, 2, &oh) || s[22] != ':' || !s_digits(s + 23, 2, &om))
            return false;
    }
    if (h > 23 || mi > 59 || se > 59 || om > 59 || oh * 60 + om > S_MAX_OFFSET_MIN)
        return false;
    int off = sign * (oh * 60 + om);
    *out_s = (int64_t)day * S_DAY_S + h * 3600 + mi * 60 + se - (int64_t)off * 60;
    *out_off = off;
    return true;
}

/* Writes the local time of t at offset off: "YYYY-MM-DDTHH:MM:SS+08:00"
 * (iso) or "YYYY-MM-DD HH:MM". */
static void s_format_time(int64_t t, int off, bool iso, char *buf, size_t size)
{
    int64_t local = t + (int64_t)off * 60;
    int64_t day = local / S_DAY_S;
    int64_t sec = local % S_DAY_S;
    if (sec < 0) {
        sec += S_DAY_S;
        day--;
    }
    int y, m, d;
    jk_date_to_ymd((jk_date_t)day, &y, &m, &d);
    int h = (int)(sec / 3600), mi = (int)(sec / 60 % 60), se = (int)(sec % 60);
    if (!iso) {
        snprintf(buf, size, "%04d-%02d-%02d %02d:%02d", y, m, d, h, mi);
    } else if (off == 0) {
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, se);
    } else {
        int a = off < 0 ? -off : off;
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, h, mi, se,
                 off < 0 ? '-' : '+', a / 60, a % 60);
    }
}

/* ---- parse context ---- */

typedef struct {
    jk_plan_t *p;
    const char *name;   /* file name for messages */
    jk_diag_t *diag;
    jk_error_t *err;    /* first error */
    size_t errors;
    char where[192];    /* "$.sites[0].rooms[2] (S01-R03)" */
} s_ctx_t;

static void s_fail(s_ctx_t *c, jk_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_fail(s_ctx_t *c, jk_err_t code, const char *fmt, ...)
{
    char msg[JK_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->errors == 0)
        jk_error_set(c->err, code, "%s: %s: %s", c->name, c->where, msg);
    c->errors++;
    jk_diag_error(c->diag, code, "%s: %s: %s", c->name, c->where, msg);
}

/* Sets where to "<base>[i]" plus " (id)" when the object has a valid id. */
static void s_where(s_ctx_t *c, const char *base, size_t i, json_t *obj)
{
    json_t *idv = json_is_object(obj) ? json_object_get(obj, "id") : NULL;
    const char *id = json_is_string(idv) ? json_string_value(idv) : NULL;
    if (id && jk_id_valid(id, JK_PLAN_ID_MAX))
        snprintf(c->where, sizeof c->where, "%s[%zu] (%s)", base, i, id);
    else
        snprintf(c->where, sizeof c->where, "%s[%zu]", base, i);
}

static void s_known_keys(s_ctx_t *c, json_t *obj, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        (void)v;
        bool ok = false;
        for (size_t i = 0; keys[i]; i++)
            if (strcmp(k, keys[i]) == 0)
                ok = true;
        if (!ok)
            s_fail(c, JK_ERR_INVAL, "unknown field '%.64s'", k);
    }
}

/* A string field copied into the arena; NULL (reported unless merely
 * absent and optional) when missing, not a string, empty, too long or not
 * valid UTF-8. */
static const char *s_str(s_ctx_t *c, json_t *obj, const char *field, size_t max, bool required)
{
    json_t *v = json_object_get(obj, field);
    if (!v) {
        if (required)
            s_fail(c, JK_ERR_MISSING, "%s: missing", field);
        return NULL;
    }
    if (!json_is_string(v)) {
        s_fail(c, JK_ERR_INVAL, "%s: expected a string", field);
        return NULL;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0) {
        s_fail(c, JK_ERR_INVAL, "%s: empty", field);
        return NULL;
    }
    if (n > max) {
        s_fail(c, JK_ERR_TOO_BIG, "%s: %zu bytes, more than %zu", field, n, max);
        return NULL;
    }
    if (!jk_utf8_valid(s, n)) {
        s_fail(c, JK_ERR_INVAL, "%s: not valid UTF-8 text", field);
        return NULL;
    }
    char *copy = jk_arena_strndup(c->p->arena, s, n);
    if (!copy)
        s_fail(c, JK_ERR_NOMEM, "%s: out of memory", field);
    return copy;
}

/* A required id field: a string of the id charset. */
static const char *s_id(s_ctx_t *c, json_t *obj, const char *field)
{
    json_t *v = json_object_get(obj, field);
    if (json_is_string(v) && json_string_length(v) > 0 &&
        !jk_id_valid(json_string_value(v), JK_PLAN_ID_MAX)) {
        s_fail(c, JK_ERR_INVAL, "%s: '%.64s' is not an id (1..%d bytes of A-Z a-z 0-9 . _ : -)",
               field, json_string_value(v), JK_PLAN_ID_MAX);
        return NULL;
    }
    return s_str(c, obj, field, JK_PLAN_ID_MAX, true);
}

/* A required integer field; false (reported) when missing or not an
 * integer. Range checks are the caller's, to say what the bound means. */
static bool s_int(s_ctx_t *c, json_t *obj, const char *field, json_int_t *out)
{
    json_t *v = json_object_get(obj, field);
    if (!v) {
        s_fail(c, JK_ERR_MISSING, "%s: missing", field);
        return false;
    }
    if (!json_is_integer(v)) {
        s_fail(c, JK_ERR_INVAL, "%s: expected an integer", field);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

/* Inserts an id into a map; reports a duplicate naming the first use. */
static void s_unique(s_ctx_t *c, jk_strmap_t *m, const char *id, size_t index, const char *kind,
                     const char *(*where_of)(const jk_plan_t *, size_t, char *, size_t))
{
    size_t prev;
    int rc = jk_strmap_put(m, id, index, &prev);
    if (rc < 0) {
        s_fail(c, JK_ERR_NOMEM, "id: out of memory");
    } else if (rc == 0) {
        char w[96];
        s_fail(c, JK_ERR_DUP, "id: '%s' is already the id of %s %s", id, kind,
               where_of(c->p, prev, w, sizeof w));
    }
}

static const char *s_session_path(const jk_plan_t *p, size_t i, char *buf, size_t n)
{
    (void)p;
    snprintf(buf, n, "$.sessions[%zu]", i);
    return buf;
}
static const char *s_site_path(const jk_plan_t *p, size_t i, char *buf, size_t n)
{
    (void)p;
    snprintf(buf, n, "$.sites[%zu]", i);
    return buf;
}
static const char *s_room_path(const jk_plan_t *p, size_t i, char *buf, size_t n)
{
    size_t site = p->rooms[i].site;
    snprintf(buf, n, "$.sites[%zu].rooms[%zu]", site, i - p->sites[site].first_room);
    return buf;
}
static const char *s_staff_path(const jk_plan_t *p, size_t i, char *buf, size_t n)
{
    (void)p;
    snprintf(buf, n, "$.staff[%zu]", i);
    return buf;
}

/* ---- parse: sections ---- */

static void s_parse_sitting(s_ctx_t *c, json_t *root)
{
    json_t *h = json_object_get(root, "sitting");
    snprintf(c->where, sizeof c->where, "$.sitting");
    if (!json_is_object(h)) {
        s_fail(c, h ? JK_ERR_INVAL : JK_ERR_MISSING, "expected an object with id and name");
        return;
    }
    static const char *const keys[] = { "id", "name", "standard", NULL };
    s_known_keys(c, h, keys);
    c->p->id = s_id(c, h, "id");
    c->p->name = s_str(c, h, "name", JK_PLAN_NAME_MAX, true);
    const char *std = s_str(c, h, "standard", 64, false);
    if (std) {
        char want[96];
        snprintf(want, sizeof want, "%s/%s", jk_standard_occupation_code(c->p->std),
                 jk_standard_edition(c->p->std));
        if (strcmp(std, want) != 0)
            s_fail(c, JK_ERR_VERSION, "standard: '%s', but the loaded standard is '%s'", std,
                   want);
    }
}

/* Parses one session into *s; returns true when it is complete and valid
 * (cross-checks then use it). */
static bool s_parse_session(s_ctx_t *c, json_t *o, size_t index, jk_plan_session_t *s)
{
    size_t errors = c->errors;
    if (!json_is_object(o)) {
        s_fail(c, JK_ERR_INVAL, "expected an object");
        return false;
    }
    static const char *const keys[] = { "id", "name", "level", "exam", "start", "minutes",
                                        "candidates", NULL };
    s_known_keys(c, o, keys);
    s->id = s_id(c, o, "id");
    if (s->id)
        s_unique(c, c->p->session_ids, s->id, index, "session", s_session_path);
    s->name = s_str(c, o, "name", JK_PLAN_NAME_MAX, false);

    json_int_t v;
    if (s_int(c, o, "level", &v)) {
        if (v < 1 || v > 9 || !jk_level_valid((int)v))
            s_fail(c, JK_ERR_RANGE, "level: %lld is not a level (5, 4 or 3)", (long long)v);
        else
            s->level = (int)v;
    }
    const char *exam = s_str(c, o, "exam", 32, true);
    int e = exam ? jk_exam_parse(exam) : -1;
    if (exam && e < 0)
        s_fail(c, JK_ERR_INVAL, "exam: '%s' is not an exam (theory or skills)", exam);
    if (e >= 0)
        s->exam = (jk_exam_t)e;

    s->start_text = s_str(c, o, "start", 64, true);
    if (s->start_text && !s_parse_time(s->start_text, &s->start_s, &s->offset_min))
        s_fail(c, JK_ERR_INVAL,
               "start: '%s' is not an ISO 8601 time with offset "
               "(\"2026-12-12T09:00:00+08:00\")",
               s->start_text);

    if (s_int(c, o, "minutes", &v)) {
        const jk_exam_rule_t *rule = e >= 0 ? jk_standard_exam_rule(c->p->std, s->exam) : NULL;
        if (v > JK_PLAN_SESSION_MAX_MINUTES)
            s_fail(c, JK_ERR_RANGE, "minutes: %lld is more than %d", (long long)v,
                   JK_PLAN_SESSION_MAX_MINUTES);
        else if (rule && v < rule->min_minutes)
            s_fail(c, JK_ERR_RANGE,
                   "minutes: %lld is less than the %d minutes the standard requires of the %s "
                   "exam (%s)",
                   (long long)v, rule->min_minutes, exam, rule->name);
        else if (v < 1)
            s_fail(c, JK_ERR_RANGE, "minutes: %lld is not a length", (long long)v);
        else
            s->minutes = (int)v;
    }

    json_t *list = json_object_get(o, "candidates");
    if (list) {
        if (!json_is_array(list)) {
            s_fail(c, JK_ERR_INVAL, "candidates: expected an array of admission numbers");
        } else if (json_array_size(list) > JK_PLAN_MAX_LISTED) {
            s_fail(c, JK_ERR_TOO_BIG, "candidates: %zu listed, more than %d",
                   json_array_size(list), JK_PLAN_MAX_LISTED);
        } else {
            size_t n = json_array_size(list);
            const char **ids = jk_arena_calloc(c->p->arena, n ? n : 1, sizeof *ids);
            if (!ids) {
                s_fail(c, JK_ERR_NOMEM, "candidates: out of memory");
                return false;
            }
            for (size_t i = 0; i < n; i++) {
                json_t *a = json_array_get(list, i);
                const char *id = json_string_value(a);
                if (!json_is_string(a) || !jk_id_valid(id, JK_PLAN_ID_MAX)) {
                    s_fail(c, JK_ERR_INVAL, "candidates[%zu]: expected an admission number (an id)",
                           i);
                    continue;
                }
                if (!(ids[i] = jk_arena_strdup(c->p->arena, id)))
                    s_fail(c, JK_ERR_NOMEM, "candidates: out of memory");
            }
            s->listed = true;
            s->n_listed = n;
            s->listed_ids = ids;
        }
    }
    return c->errors == errors;
}

static void s_parse_room(s_ctx_t *c, json_t *o, size_t site, size_t index, jk_plan_room_t *r)
{
    r->site = site;
    if (!json_is_object(o)) {
        s_fail(c, JK_ERR_INVAL, "expected an object");
        return;
    }
    static const char *const keys[] = { "id", "name", "seats", "exams", NULL };
    s_known_keys(c, o, keys);
    r->id = s_id(c, o, "id");
    if (r->id)
        s_unique(c, c->p->room_ids, r->id, index, "room", s_room_path);
    r->name = s_str(c, o, "name", JK_PLAN_NAME_MAX, true);
    json_int_t v;
    if (s_int(c, o, "seats", &v)) {
        if (v < 1 || v > JK_PLAN_ROOM_SEATS_MAX)
            s_fail(c, JK_ERR_RANGE, "seats: %lld is not in 1..%d", (long long)v,
                   JK_PLAN_ROOM_SEATS_MAX);
        else
            r->seats = (int)v;
    }
    json_t *ex = json_object_get(o, "exams");
    if (!ex) {
        r->exams = (1u << JK_EXAM__COUNT) - 1; /* any exam */
        return;
    }
    if (!json_is_array(ex) || json_array_size(ex) == 0) {
        s_fail(c, JK_ERR_INVAL, "exams: expected a non-empty array of \"theory\" / \"skills\"");
        return;
    }
    for (size_t i = 0; i < json_array_size(ex); i++) {
        json_t *a = json_array_get(ex, i);
        int e = json_is_string(a) ? jk_exam_parse(json_string_value(a)) : -1;
        if (e < 0)
            s_fail(c, JK_ERR_INVAL, "exams[%zu]: not an exam (theory or skills)", i);
        else if (r->exams & (1u << e))
            s_fail(c, JK_ERR_DUP, "exams[%zu]: '%s' given twice", i, jk_exam_name((jk_exam_t)e));
        else
            r->exams |= 1u << e;
    }
}

static void s_parse_sites(s_ctx_t *c, json_t *root)
{
    jk_plan_t *p = c->p;
    json_t *sites = json_object_get(root, "sites");
    snprintf(c->where, sizeof c->where, "$.sites");
    if (!json_is_array(sites) || json_array_size(sites) == 0) {
        s_fail(c, sites ? JK_ERR_INVAL : JK_ERR_MISSING, "expected a non-empty array of sites");
        return;
    }
    size_t n = json_array_size(sites), n_rooms = 0;
    if (n > JK_PLAN_MAX_SITES) {
        s_fail(c, JK_ERR_TOO_BIG, "%zu sites, more than %d", n, JK_PLAN_MAX_SITES);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *rooms = json_object_get(json_array_get(sites, i), "rooms");
        n_rooms += json_is_array(rooms) ? json_array_size(rooms) : 0;
    }
    if (n_rooms > JK_PLAN_MAX_ROOMS) {
        s_fail(c, JK_ERR_TOO_BIG, "%zu rooms, more than %d", n_rooms, JK_PLAN_MAX_ROOMS);
        return;
    }
    p->sites = calloc(n, sizeof *p->sites);
    p->rooms = calloc(n_rooms ? n_rooms : 1, sizeof *p->rooms);
    if (!p->sites || !p->rooms) {
        s_fail(c, JK_ERR_NOMEM, "out of memory");
        return;
    }
    p->n_sites = n;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(sites, i);
        jk_plan_site_t *st = &p->sites[i];
        st->first_room = p->n_rooms;
        s_where(c, "$.sites", i, o);
        if (!json_is_object(o)) {
            s_fail(c, JK_ERR_INVAL, "expected an object");
            continue;
        }
        static const char *const keys[] = { "id", "name", "rooms", NULL };
        s_known_keys(c, o, keys);
        st->id = s_id(c, o, "id");
        if (st->id)
            s_unique(c, p->site_ids, st->id, i, "site", s_site_path);
        st->name = s_str(c, o, "name", JK_PLAN_NAME_MAX, true);
        json_t *rooms = json_object_get(o, "rooms");
        if (!json_is_array(rooms) || json_array_size(rooms) == 0) {
            s_fail(c, rooms ? JK_ERR_INVAL : JK_ERR_MISSING,
                   "rooms: expected a non-empty array of rooms");
            continue;
        }
        st->n_rooms = json_array_size(rooms);
        /* Rooms are numbered before parsing so duplicate messages can name
         * a room's path from its index. */
        for (size_t j = 0; j < st->n_rooms; j++)
            p->rooms[p->n_rooms + j].site = i;
        for (size_t j = 0; j < st->n_rooms; j++) {
            json_t *ro = json_array_get(rooms, j);
            char base[64];
            snprintf(base, sizeof base, "$.sites[%zu].rooms", i);
            s_where(c, base, j, ro);
            s_parse_room(c, ro, i, p->n_rooms + j, &p->rooms[p->n_rooms + j]);
        }
        p->n_rooms += st->n_rooms;
    }
}

static void s_parse_staff(s_ctx_t *c, json_t *root)
{
    jk_plan_t *p = c->p;
    json_t *staff = json_object_get(root, "staff");
    snprintf(c->where, sizeof c->where, "$.staff");
    if (!json_is_array(staff)) {
        s_fail(c, staff ? JK_ERR_INVAL : JK_ERR_MISSING, "expected an array of staff");
        return;
    }
    size_t n = json_array_size(staff);
    if (n > JK_PLAN_MAX_STAFF) {
        s_fail(c, JK_ERR_TOO_BIG, "%zu staff, more than %d", n, JK_PLAN_MAX_STAFF);
        return;
    }
    p->staff = calloc(n ? n : 1, sizeof *p->staff);
    if (!p->staff) {
        s_fail(c, JK_ERR_NOMEM, "out of memory");
        return;
    }
    p->n_staff = n;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(staff, i);
        jk_plan_staff_t *m = &p->staff[i];
        m->site = -1;
        s_where(c, "$.staff", i, o);
        if (!json_is_object(o)) {
            s_fail(c, JK_ERR_INVAL, "expected an object");
            continue;
        }
        static const char *const keys[] = { "id", "name", "roles", "site", NULL };
        s_known_keys(c, o, keys);
        m->id = s_id(c, o, "id");
        if (m->id)
            s_unique(c, p->staff_ids, m->id, i, "staff member", s_staff_path);
        m->name = s_str(c, o, "name", JK_PLAN_NAME_MAX, true);
        json_t *roles = json_object_get(o, "roles");
        if (!roles) {
            s_fail(c, JK_ERR_MISSING, "roles: missing: a staff member needs a role "
                                      "(proctor, examiner)");
        } else if (!json_is_array(roles)) {
            s_fail(c, JK_ERR_INVAL, "roles: expected an array of \"proctor\" / \"examiner\"");
        } else if (json_array_size(roles) == 0) {
            s_fail(c, JK_ERR_INVAL, "roles: empty: a staff member needs at least one role "
                                    "(proctor, examiner)");
        } else {
            for (size_t j = 0; j < json_array_size(roles); j++) {
                json_t *a = json_array_get(roles, j);
                int r = json_is_string(a) ? jk_role_parse(json_string_value(a)) : -1;
                if (r < 0)
                    s_fail(c, JK_ERR_INVAL, "roles[%zu]: not a role (proctor or examiner)", j);
                else if (m->roles & (1u << r))
                    s_fail(c, JK_ERR_DUP, "roles[%zu]: '%s' given twice", j,
                           jk_role_name((jk_role_t)r));
                else
                    m->roles |= 1u << r;
            }
        }
        json_t *sv = json_object_get(o, "site");
        if (sv) {
            if (!json_is_string(sv)) {
                s_fail(c, JK_ERR_INVAL, "site: expected a site id");
            } else {
                long site = s_find(p->site_ids, json_string_value(sv));
                if (site < 0)
                    s_fail(c, JK_ERR_NOTFOUND, "site: '%.64s' is not a site of this plan",
                           json_string_value(sv));
                m->site = site;
            }
        }
    }
}

/* Cross-checks between sessions: each candidate sits each exam once, and
 * never two sessions at the same time. */
static void s_check_sessions(s_ctx_t *c, const bool *ok)
{
    jk_plan_t *p = c->p;
    jk_strmap_t *listed[JK_LEVEL_COUNT][JK_EXAM__COUNT] = { { NULL } };
    long unlisted[JK_LEVEL_COUNT][JK_EXAM__COUNT];
    for (size_t l = 0; l < JK_LEVEL_COUNT; l++)
        for (size_t e = 0; e < JK_EXAM__COUNT; e++) {
            unlisted[l][e] = -1;
            if (!(listed[l][e] = jk_strmap_new(64))) {
                s_fail(c, JK_ERR_NOMEM, "out of memory");
                goto cleanup;
            }
        }
    for (size_t i = 0; i < p->n_sessions; i++) {
        if (!ok[i])
            continue;
        const jk_plan_session_t *s = &p->sessions[i];
        int l = jk_level_index(s->level);
        snprintf(c->where, sizeof c->where, "$.sessions[%zu] (%s)", i, s->id);
        if (!s->listed) {
            long prev = unlisted[l][s->exam];
            if (prev >= 0)
                s_fail(c, JK_ERR_DUP,
                       "no candidates list, like $.sessions[%ld] (%s) of the same level and "
                       "exam: its candidates would sit the exam twice; list the candidates of "
                       "all but one",
                       prev, p->sessions[prev].id);
            else
                unlisted[l][s->exam] = (long)i;
            continue;
        }
        for (size_t k = 0; k < s->n_listed; k++) {
            size_t prev;
            int rc = jk_strmap_put(listed[l][s->exam], s->listed_ids[k], i, &prev);
            if (rc < 0)
                s_fail(c, JK_ERR_NOMEM, "out of memory");
            else if (rc == 0 && prev == i)
                s_fail(c, JK_ERR_DUP, "candidates[%zu]: '%s' is listed twice", k,
                       s->listed_ids[k]);
            else if (rc == 0)
                s_fail(c, JK_ERR_DUP,
                       "candidates[%zu]: '%s' is already listed in $.sessions[%zu] (%s) of the "
                       "same level and exam",
                       k, s->listed_ids[k], prev, p->sessions[prev].id);
        }
    }
    /* Sessions of one level that overlap in time share candidates unless
     * both list theirs and nobody is in both lists. (Two sessions of the
     * same exam never share: the checks above make them disjoint.) */
    for (size_t j = 0; j < p->n_sessions; j++) {
        const jk_plan_session_t *b = &p->sessions[j];
        if (!ok[j])
            continue;
        for (size_t i = 0; i < j; i++) {
            const jk_plan_session_t *a = &p->sessions[i];
            if (!ok[i] || a->level != b->level || a->exam == b->exam ||
                !jk_plan_sessions_overlap(a, b))
                continue;
            snprintf(c->where, sizeof c->where, "$.sessions[%zu] (%s)", j, b->id);
            if (!a->listed || !b->listed) {
                s_fail(c, JK_ERR_INVAL,
                       "overlaps $.sessions[%zu] (%s) of the same level in time: its candidates "
                       "would sit both at once; move one, or list both sessions' candidates "
                       "with nobody in both",
                       i, a->id);
                continue;
            }
            jk_strmap_t *m = jk_strmap_new(a->n_listed);
            if (!m) {
                s_fail(c, JK_ERR_NOMEM, "out of memory");
                continue;
            }
            for (size_t k = 0; k < a->n_listed; k++)
                if (jk_strmap_put(m, a->listed_ids[k], k, NULL) < 0)
                    s_fail(c, JK_ERR_NOMEM, "out of memory");
            for (size_t k = 0; k < b->n_listed; k++)
                if (jk_strmap_get(m, b->listed_ids[k], NULL)) {
                    s_fail(c, JK_ERR_INVAL,
                           "overlaps $.sessions[%zu] (%s) in time, and candidate '%s' is listed "
                           "in both",
                           i, a->id, b->listed_ids[k]);
                    break;
                }
            jk_strmap_destroy(&m);
        }
    }
cleanup:
    for (size_t l = 0; l < JK_LEVEL_COUNT; l++)
        for (size_t e = 0; e < JK_EXAM__COUNT; e++)
            jk_strmap_destroy(&listed[l][e]);
}

static void s_parse_doc(s_ctx_t *c, json_t *root)
{
    jk_plan_t *p = c->p;
    snprintf(c->where, sizeof c->where, "$");
    if (!json_is_object(root)) {
        s_fail(c, JK_ERR_INVAL, "expected an object");
        return;
    }
    static const char *const top[] = { "format", "format_version", "sitting", "sessions",
                                       "sites",  "staff",          NULL };
    s_known_keys(c, root, top);
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "jikao-plan") != 0)
        s_fail(c, JK_ERR_VERSION, "format: expected \"jikao-plan\"");
    json_t *ver = json_object_get(root, "format_version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        s_fail(c, JK_ERR_VERSION, "format_version: expected 1 (this program reads version 1 only)");
    if (c->errors)
        return; /* another format: its fields would only add noise */

    for (int e = 0; e < JK_EXAM__COUNT; e++) {
        const jk_staffing_t *st = jk_standard_staffing(p->std, (jk_exam_t)e);
        int r = st ? jk_role_parse(st->role) : -1;
        if (r < 0 || !jk_standard_exam_rule(p->std, (jk_exam_t)e)) {
            s_fail(c, JK_ERR_CONFIG, "the standard's %s exam has no known staffing role",
                   jk_exam_name((jk_exam_t)e));
            return;
        }
        p->exam_role[e] = (jk_role_t)r;
    }

    s_parse_sitting(c, root);
    /* Sites before staff: staff name their site. */
    s_parse_sites(c, root);
    s_parse_staff(c, root);

    json_t *sessions = json_object_get(root, "sessions");
    snprintf(c->where, sizeof c->where, "$.sessions");
    if (!json_is_array(sessions) || json_array_size(sessions) == 0) {
        s_fail(c, sessions ? JK_ERR_INVAL : JK_ERR_MISSING,
               "expected a non-empty array of sessions");
        return;
    }
    size_t n = json_array_size(sessions);
    if (n > JK_PLAN_MAX_SESSIONS) {
        s_fail(c, JK_ERR_TOO_BIG, "%zu sessions, more than %d", n, JK_PLAN_MAX_SESSIONS);
        return;
    }
    p->sessions = calloc(n, sizeof *p->sessions);
    bool *ok = calloc(n, sizeof *ok);
    if (!p->sessions || !ok) {
        free(ok);
        s_fail(c, JK_ERR_NOMEM, "out of memory");
        return;
    }
    p->n_sessions = n;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(sessions, i);
        s_where(c, "$.sessions", i, o);
        ok[i] = s_parse_session(c, o, i, &p->sessions[i]);
    }
    s_check_sessions(c, ok);
    free(ok);
}

jk_plan_t *jk_plan_parse(const jk_standard_t *std, const char *json, size_t len,
                         const char *name, jk_diag_t *diag, jk_error_t *err)
{
    if (!name)
        name = "plan";
    if (!std || (!json && len)) {
        jk_error_set(err, JK_ERR_INVAL, "%s: no standard or no text", name);
        return NULL;
    }
    if (len > JK_PLAN_FILE_MAX) {
        jk_diag_error(diag, JK_ERR_TOO_BIG, "%s: %zu bytes, more than the limit of %u", name, len,
                      JK_PLAN_FILE_MAX);
        jk_error_set(err, JK_ERR_TOO_BIG, "%s: %zu bytes, more than the limit of %u", name, len,
                     JK_PLAN_FILE_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        jk_diag_error(diag, JK_ERR_PARSE, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        jk_error_set(err, JK_ERR_PARSE, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        return NULL;
    }
    jk_plan_t *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    p->std = std;
    p->arena = jk_arena_new(64 * 1024);
    p->session_ids = jk_strmap_new(16);
    p->site_ids = jk_strmap_new(16);
    p->room_ids = jk_strmap_new(64);
    p->staff_ids = jk_strmap_new(64);
    if (!p->arena || !p->session_ids || !p->site_ids || !p->room_ids || !p->staff_ids)
        goto nomem;
    s_ctx_t c = { .p = p, .name = name, .diag = diag, .err = err, .errors = 0 };
    s_parse_doc(&c, root);
    json_decref(root);
    if (c.errors)
        jk_plan_destroy(&p);
    return p;

nomem:
    json_decref(root);
    jk_plan_destroy(&p);
    jk_diag_error(diag, JK_ERR_NOMEM, "%s: out of memory", name);
    jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
    return NULL;
}

jk_plan_t *jk_plan_load(const jk_standard_t *std, const char *path, jk_diag_t *diag,
                        jk_error_t *err)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    jk_error_t fe;
    if (jk_file_read(path, JK_PLAN_FILE_MAX, false, &buf, &n, &fe) != JK_OK) {
        jk_diag_error(diag, fe.code, "%s", fe.msg);
        jk_error_set(err, fe.code, "%s", fe.msg);
        return NULL;
    }
    jk_plan_t *p = jk_plan_parse(std, (const char *)buf, n, path, diag, err);
    free(buf);
    return p;
}

/* ---- assignment ---- */

typedef struct {
    const char *admission; /* arena copy */
    int level;
    bool eligible;
    const jk_plan_seat_t *seat[JK_EXAM__COUNT]; /* set when seated */
} s_cand_t;

struct jk_plan_result {
    const jk_plan_t *p;
    uint64_t seed;
    jk_arena_t *arena;             /* candidates, seats, rooms, duties, messages */
    s_cand_t *cands;               /* sorted by admission */
    size_t n_cands;
    jk_strmap_t *cand_ids;         /* admission -> index in cands */
    jk_plan_session_result_t *sess; /* one per plan session */
    jk_plan_issue_t *issues;
    size_t n_issues, cap_issues;
    size_t n_shortfalls;
    jk_diag_t *diag;               /* during jk_plan_assign only */
};

void jk_plan_result_destroy(jk_plan_result_t **pr)
{
    if (!pr || !*pr)
        return;
    jk_plan_result_t *r = *pr;
    free(r->cands);
    free(r->sess);
    free(r->issues);
    jk_strmap_destroy(&r->cand_ids);
    jk_arena_destroy(&r->arena);
    free(r);
    *pr = NULL;
}

bool jk_plan_result_ok(const jk_plan_result_t *r) { return r->n_shortfalls == 0; }
const jk_plan_t *jk_plan_result_plan(const jk_plan_result_t *r) { return r->p; }
uint64_t jk_plan_result_seed(const jk_plan_result_t *r) { return r->seed; }
size_t jk_plan_result_issue_count(const jk_plan_result_t *r) { return r->n_issues; }
size_t jk_plan_result_shortfall_count(const jk_plan_result_t *r) { return r->n_shortfalls; }

const jk_plan_session_result_t *jk_plan_result_session(const jk_plan_result_t *r, size_t i)
{
    return i < r->p->n_sessions ? &r->sess[i] : NULL;
}

const jk_plan_issue_t *jk_plan_result_issue(const jk_plan_result_t *r, size_t i)
{
    return i < r->n_issues ? &r->issues[i] : NULL;
}

const jk_plan_seat_t *jk_plan_result_find_seat(const jk_plan_result_t *r, const char *admission,
                                               jk_exam_t exam)
{
    size_t i;
    if (!admission || (unsigned)exam >= JK_EXAM__COUNT ||
        !jk_strmap_get(r->cand_ids, admission, &i))
        return NULL;
    return r->cands[i].seat[exam];
}

/* Records an issue and reports it; JK_ERR_NOMEM when it can't be kept. */
static jk_err_t s_issue(jk_plan_result_t *r, jk_plan_issue_t is, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static jk_err_t s_issue(jk_plan_result_t *r, jk_plan_issue_t is, const char *fmt, ...)
{
    char msg[JK_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->n_issues == r->cap_issues) {
        size_t cap = r->cap_issues ? r->cap_issues * 2 : 16;
        jk_plan_issue_t *n = realloc(r->issues, cap * sizeof *n);
        if (!n)
            return JK_ERR_NOMEM;
        r->issues = n;
        r->cap_issues = cap;
    }
    if (!(is.msg = jk_arena_strdup(r->arena, msg)))
        return JK_ERR_NOMEM;
    is.shortfall = is.kind != JK_PLAN_ISSUE_INELIGIBLE;
    r->issues[r->n_issues++] = is;
    if (is.shortfall) {
        r->n_shortfalls++;
        jk_diag_error(r->diag, is.code, "%s", msg);
    } else {
        jk_diag_warn(r->diag, is.code, "%s", msg);
    }
    return JK_OK;
}

static jk_plan_issue_t s_blank_issue(jk_plan_issue_kind_t kind, jk_err_t code)
{
    jk_plan_issue_t is = { .kind = kind, .code = code, .session = -1, .room = -1 };
    return is;
}

static int s_cmp_cand(const void *a, const void *b)
{
    return strcmp(((const s_cand_t *)a)->admission, ((const s_cand_t *)b)->admission);
}

static int s_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Appends v to a growable array of size_t. */
static int s_push(size_t **a, size_t *n, size_t *cap, size_t v)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        size_t *na = realloc(*a, nc * sizeof *na);
        if (!na)
            return -1;
        *a = na;
        *cap = nc;
    }
    (*a)[(*n)++] = v;
    return 0;
}

/* Working state of one assignment run. */
typedef struct {
    jk_plan_result_t *r;
    const jk_plan_t *p;
    size_t **members;      /* per session: candidate indexes */
    size_t *n_members, *cap_members;
    bool *room_taken;      /* per room, for the session being placed */
    bool *staff_taken;     /* per staff, for the session being placed */
    size_t *load;          /* per staff: duties so far */
    size_t *rank;          /* per staff: seeded random rank */
    size_t *scratch;       /* 4 * n_rooms + 2 * n_staff entries (see the users) */
    int *counts;           /* per room: candidates placed (session being placed) */
} s_run_t;

/* Sorting with a context: qsort has none, and file-scope state would make
 * concurrent assignments on different threads race, so the orders below
 * use this small stable merge sort of indexes. */
typedef int (*s_cmp_ctx_fn)(const void *ctx, size_t a, size_t b);

/* Stable merge sort of size_t keys with a context comparator. tmp has n
 * entries. */
static void s_sort(size_t *a, size_t *tmp, size_t n, s_cmp_ctx_fn cmp, const void *ctx)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    s_sort(a, tmp, h, cmp, ctx);
    s_sort(a + h, tmp, n - h, cmp, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp(ctx, a[j], a[i]) < 0 ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

typedef struct {
    const jk_plan_t *p;
    jk_exam_t exam;
} s_room_ctx_t;

/* Rooms that host only this exam come before rooms that host more, so the
 * versatile rooms stay free for the other exam. */
static int s_room_specialised(const s_room_ctx_t *c, size_t r)
{
    return c->p->rooms[r].exams == (1u << c->exam) ? 0 : 1;
}

/* Largest first, then specialised, then plan order. */
static int s_cmp_room_desc(const void *ctx, size_t a, size_t b)
{
    const s_room_ctx_t *c = ctx;
    int sa = c->p->rooms[a].seats, sb = c->p->rooms[b].seats;
    if (sa != sb)
        return sa > sb ? -1 : 1;
    int xa = s_room_specialised(c, a), xb = s_room_specialised(c, b);
    if (xa != xb)
        return xa - xb;
    return (a > b) - (a < b);
}

/* Smallest first, then specialised, then plan order. */
static int s_cmp_room_asc(const void *ctx, size_t a, size_t b)
{
    const s_room_ctx_t *c = ctx;
    int sa = c->p->rooms[a].seats, sb = c->p->rooms[b].seats;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    int xa = s_room_specialised(c, a), xb = s_room_specialised(c, b);
    if (xa != xb)
        return xa - xb;
    return (a > b) - (a < b);
}

/* For water-filling: smallest first, later plan order first among equals,
 * so the room earliest in the plan gets the larger share. */
static int s_cmp_room_fill(const void *ctx, size_t a, size_t b)
{
    const jk_plan_t *p = ctx;
    int sa = p->rooms[a].seats, sb = p->rooms[b].seats;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return (a < b) - (a > b);
}

/* Spreads n candidates over rooms[0..k) (counts into counts[room]),
 * water-filling: each room gets the even share of what is left, or its
 * seats when fewer. Returns the number placed (< n only when the rooms hold
 * fewer). tmp has k entries; rooms is reordered. */
static size_t s_fill(const jk_plan_t *p, size_t *rooms, size_t *tmp, size_t k, size_t n,
                     int *counts)
{
    s_sort(rooms, tmp, k, s_cmp_room_fill, p);
    size_t left = n;
    for (size_t i = 0; i < k; i++) {
        size_t share = left / (k - i);
        size_t seats = (size_t)p->rooms[rooms[i]].seats;
        size_t x = share < seats ? share : seats;
        counts[rooms[i]] = (int)x;
        left -= x;
    }
    return n - left;
}

/* Staff a set of rooms needs for n candidates, filled as s_fill would. */
static long s_staff_for(const jk_plan_t *p, const jk_staffing_t *rule, size_t *rooms,
                        size_t *tmp, size_t k, size_t n, int *counts)
{
    s_fill(p, rooms, tmp, k, n, counts);
    long total = 0;
    for (size_t i = 0; i < k; i++)
        total += jk_staffing_needed(rule, counts[rooms[i]]);
    return total;
}

/* Chooses rooms for n candidates of exam among the rooms not taken; writes
 * them to chosen[] (returns how many) and the counts per room. */
static size_t s_choose_rooms(s_run_t *w, jk_exam_t exam, size_t n, size_t *chosen)
{
    const jk_plan_t *p = w->p;
    const jk_staffing_t *rule = jk_standard_staffing(p->std, exam);
    /* scratch: avail [0, n_rooms), then tmp; tmp's tail also holds the
     * trial sets of the swap step (see jk_plan_assign for the size). */
    size_t *avail = w->scratch;
    size_t *tmp = w->scratch + p->n_rooms;
    size_t n_avail = 0;
    for (size_t i = 0; i < p->n_rooms; i++)
        if ((p->rooms[i].exams & (1u << exam)) && !w->room_taken[i])
            avail[n_avail++] = i;
    if (n == 0 || n_avail == 0)
        return 0;
    s_room_ctx_t rc = { p, exam };
    s_sort(avail, tmp, n_avail, s_cmp_room_desc, &rc);
    size_t k = 0, cap = 0;
    while (k < n_avail && cap < n) {
        chosen[k] = avail[k];
        cap += (size_t)p->rooms[avail[k]].seats;
        k++;
    }
    if (cap >= n) {
        /* Swap each chosen room, smallest first, for the smallest free room
         * that still holds everyone without needing more staff. */
        size_t n_rest = n_avail - k;
        size_t *rest = avail + k; /* the unchosen, to be sorted ascending */
        s_sort(rest, tmp, n_rest, s_cmp_room_asc, &rc);
        size_t *work = tmp + n_avail; /* k entries after tmp's n_avail */
        size_t *wtmp = work + k;
        memcpy(work, chosen, k * sizeof *work);
        long staff = s_staff_for(p, rule, work, wtmp, k, n, w->counts);
        for (size_t j = k; j-- > 0;) {
            size_t cur = chosen[j];
            int cur_seats = p->rooms[cur].seats;
            for (size_t u = 0; u < n_rest; u++) {
                size_t cand = rest[u];
                int seats = p->rooms[cand].seats;
                if (seats >= cur_seats)
                    break;
                if (cap - (size_t)cur_seats + (size_t)seats < n)
                    continue;
                memcpy(work, chosen, k * sizeof *work);
                work[j] = cand;
                long st = s_staff_for(p, rule, work, wtmp, k, n, w->counts);
                if (st <= staff) {
                    chosen[j] = cand;
                    rest[u] = cur; /* keep rest sorted: cur is larger than all before u */
                    for (size_t v = u; v + 1 < n_rest &&
                                       s_cmp_room_asc(&rc, rest[v + 1], rest[v]) < 0;
                         v++) {
                        size_t t = rest[v];
                        rest[v] = rest[v + 1];
                        rest[v + 1] = t;
                    }
                    cap = cap - (size_t)cur_seats + (size_t)seats;
                    staff = st;
                    break;
                }
            }
        }
    }
    memcpy(tmp, chosen, k * sizeof *tmp);
    s_fill(p, tmp, tmp + k, k, n, w->counts);
    qsort(chosen, k, sizeof *chosen, s_cmp_size); /* plan order */
    return k;
}

typedef struct {
    const jk_plan_t *p;
    const size_t *load;
    const size_t *rank;
} s_staff_ctx_t;

/* Site (staff without one last), then single-role first, fewer duties,
 * random rank. */
static int s_cmp_staff(const void *ctx, size_t a, size_t b)
{
    const s_staff_ctx_t *c = ctx;
    const jk_plan_staff_t *x = &c->p->staff[a], *y = &c->p->staff[b];
    size_t sx = x->site < 0 ? c->p->n_sites : (size_t)x->site;
    size_t sy = y->site < 0 ? c->p->n_sites : (size_t)y->site;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    int dx = (x->roles & (x->roles - 1)) != 0; /* holds more than one role */
    int dy = (y->roles & (y->roles - 1)) != 0;
    if (dx != dy)
        return dx - dy;
    if (c->load[a] != c->load[b])
        return c->load[a] < c->load[b] ? -1 : 1;
    return (c->rank[a] > c->rank[b]) - (c->rank[a] < c->rank[b]);
}

/* Assigns staff to the room uses of one session. */
static jk_err_t s_staff_session(s_run_t *w, size_t si, jk_plan_room_use_t *uses, size_t n_uses)
{
    const jk_plan_t *p = w->p;
    const jk_plan_session_t *s = &p->sessions[si];
    jk_role_t role = p->exam_role[s->exam];
    size_t *free_staff = w->scratch;
    size_t *tmp = w->scratch + p->n_staff;
    size_t n_free = 0;
    for (size_t i = 0; i < p->n_staff; i++)
        if ((p->staff[i].roles & (1u << role)) && !w->staff_taken[i])
            free_staff[n_free++] = i;
    s_staff_ctx_t sc = { p, w->load, w->rank };
    s_sort(free_staff, tmp, n_free, s_cmp_staff, &sc);

    /* Buckets: bucket b (site b, or n_sites for no site) is
     * free_staff[lo[b] .. hi[b]), consumed from lo upward. */
    size_t nb = p->n_sites + 1;
    size_t *lo = calloc(nb, sizeof *lo), *hi = calloc(nb, sizeof *hi);
    jk_plan_duty_t **duties = calloc(n_uses ? n_uses : 1, sizeof *duties);
    if (!lo || !hi || !duties) {
        free(lo);
        free(hi);
        free(duties);
        return JK_ERR_NOMEM;
    }
    for (size_t i = 0; i < n_free; i++) {
        long site = p->staff[free_staff[i]].site;
        size_t b = site < 0 ? p->n_sites : (size_t)site;
        if (hi[b] == lo[b])
            lo[b] = hi[b] = i;
        hi[b] = i + 1;
    }
    jk_err_t rc = JK_OK;
    for (size_t u = 0; u < n_uses; u++) {
        duties[u] = jk_arena_calloc(w->r->arena, (size_t)uses[u].staff_needed + 1,
                                    sizeof **duties);
        if (!duties[u]) {
            rc = JK_ERR_NOMEM;
            goto cleanup;
        }
        uses[u].staff = duties[u];
    }
    for (int pass = 0; pass < 3; pass++) {
        size_t cursor = 0; /* pass 2: next bucket to draw from */
        for (size_t u = 0; u < n_uses; u++) {
            jk_plan_room_use_t *use = &uses[u];
            size_t own = p->rooms[use->room].site;
            while (use->n_staff < (size_t)use->staff_needed) {
                size_t b;
                if (pass == 0) {
                    b = own;
                } else if (pass == 1) {
                    b = p->n_sites;
                } else {
                    while (cursor < p->n_sites && lo[cursor] == hi[cursor])
                        cursor++;
                    b = cursor;
                }
                if (b > p->n_sites || lo[b] == hi[b])
                    break;
                size_t st = free_staff[lo[b]++];
                duties[u][use->n_staff].staff = st;
                duties[u][use->n_staff].role = role;
                use->n_staff++;
                w->load[st]++;
            }
        }
    }
    for (size_t u = 0; u < n_uses && rc == JK_OK; u++) {
        const jk_plan_room_use_t *use = &uses[u];
        if (use->n_staff >= (size_t)use->staff_needed)
            continue;
        jk_plan_issue_t is = s_blank_issue(JK_PLAN_ISSUE_STAFF, JK_ERR_SHORTAGE);
        is.session = (long)si;
        is.room = (long)use->room;
        is.role = role;
        is.needed = use->staff_needed;
        is.got = (int)use->n_staff;
        rc = s_issue(w->r, is, "session %s: room %s: %ss: needs %d, %zu left: short by %zu", s->id,
                     p->rooms[use->room].id, jk_role_name(role), use->staff_needed,
                     use->n_staff, (size_t)use->staff_needed - use->n_staff);
    }
cleanup:
    free(lo);
    free(hi);
    free(duties);
    return rc;
}

/* Places one session: rooms, seats, staff. */
static jk_err_t s_place_session(s_run_t *w, size_t si, const size_t *done, size_t n_done)
{
    const jk_plan_t *p = w->p;
    jk_plan_result_t *r = w->r;
    const jk_plan_session_t *s = &p->sessions[si];
    jk_plan_session_result_t *out = &r->sess[si];
    size_t n = w->n_members[si];
    size_t *members = w->members[si];

    /* Rooms and staff busy in sessions placed before that overlap this one. */
    memset(w->room_taken, 0, p->n_rooms * sizeof *w->room_taken);
    memset(w->staff_taken, 0, (p->n_staff ? p->n_staff : 1) * sizeof *w->staff_taken);
    for (size_t d = 0; d < n_done; d++) {
        const jk_plan_session_result_t *o = &r->sess[done[d]];
        if (!jk_plan_sessions_overlap(s, &p->sessions[done[d]]))
            continue;
        for (size_t u = 0; u < o->n_rooms; u++) {
            w->room_taken[o->rooms[u].room] = true;
            for (size_t k = 0; k < o->rooms[u].n_staff; k++)
                w->staff_taken[o->rooms[u].staff[k].staff] = true;
        }
    }

    /* Members in admission order, then shuffled from (seed, session id). */
    jk_rand_t rng;
    jk_rand_seed_str(&rng, r->seed, s->id);
    if (n > 1) {
        qsort(members, n, sizeof *members, s_cmp_size);
        jk_rand_shuffle(&rng, members, n, sizeof *members);
    }

    size_t *chosen = malloc((p->n_rooms ? p->n_rooms : 1) * sizeof *chosen);
    if (!chosen)
        return JK_ERR_NOMEM;
    size_t k = s_choose_rooms(w, s->exam, n, chosen);
    const jk_staffing_t *rule = jk_standard_staffing(p->std, s->exam);
    jk_plan_room_use_t *uses = jk_arena_calloc(r->arena, k ? k : 1, sizeof *uses);
    jk_plan_seat_t *seats = jk_arena_calloc(r->arena, n ? n : 1, sizeof *seats);
    if (!uses || !seats) {
        free(chosen);
        return JK_ERR_NOMEM;
    }
    size_t next = 0;
    for (size_t u = 0; u < k; u++) {
        int cnt = w->counts[chosen[u]];
        uses[u].room = chosen[u];
        uses[u].candidates = cnt;
        uses[u].role = p->exam_role[s->exam];
        uses[u].staff_needed = jk_staffing_needed(rule, cnt);
        uses[u].seats = &seats[next];
        for (int seat = 1; seat <= cnt; seat++, next++) {
            s_cand_t *c = &r->cands[members[next]];
            seats[next].admission = c->admission;
            seats[next].session = si;
            seats[next].room = chosen[u];
            seats[next].seat = seat;
            c->seat[s->exam] = &seats[next];
        }
    }
    free(chosen);
    out->session = si;
    out->candidates = n;
    out->seated = next;
    out->n_rooms = k;
    out->rooms = uses;
    out->n_seats = next;
    out->seats = seats;

    jk_err_t rc = JK_OK;
    if (next < n) {
        jk_plan_issue_t is = s_blank_issue(JK_PLAN_ISSUE_SEATS, JK_ERR_SHORTAGE);
        is.session = (long)si;
        is.needed = (int)n;
        is.got = (int)next;
        rc = s_issue(r, is, "session %s: %zu candidate%s without a seat (rooms full)", s->id,
                     n - next, n - next == 1 ? "" : "s");
    }
    if (rc == JK_OK)
        rc = s_staff_session(w, si, uses, k);
    return rc;
}

/* Session processing order: start, then larger first, then plan order. */
static int s_cmp_session_order(const void *ctx, size_t a, size_t b)
{
    const s_run_t *w = ctx;
    const jk_plan_session_t *x = &w->p->sessions[a], *y = &w->p->sessions[b];
    if (x->start_s != y->start_s)
        return x->start_s < y->start_s ? -1 : 1;
    if (w->n_members[a] != w->n_members[b])
        return w->n_members[a] > w->n_members[b] ? -1 : 1;
    return (a > b) - (a < b);
}

/* Routes candidates to sessions (see the header note); issues for listed
 * strangers and for candidates no session takes. */
static jk_err_t s_route(s_run_t *w)
{
    const jk_plan_t *p = w->p;
    jk_plan_result_t *r = w->r;
    jk_err_t rc = JK_OK;
    /* routed[c * JK_EXAM__COUNT + e]: candidate c has a session of exam e */
    bool *routed = calloc(r->n_cands ? r->n_cands * JK_EXAM__COUNT : 1, sizeof *routed);
    if (!routed)
        return JK_ERR_NOMEM;
    long unlisted[JK_LEVEL_COUNT][JK_EXAM__COUNT];
    size_t held[JK_LEVEL_COUNT][JK_EXAM__COUNT] = { { 0 } }; /* sessions per level and exam */
    for (size_t l = 0; l < JK_LEVEL_COUNT; l++)
        for (size_t e = 0; e < JK_EXAM__COUNT; e++)
            unlisted[l][e] = -1;

    for (size_t si = 0; si < p->n_sessions && rc == JK_OK; si++) {
        const jk_plan_session_t *s = &p->sessions[si];
        held[jk_level_index(s->level)][s->exam]++;
        if (!s->listed) {
            unlisted[jk_level_index(s->level)][s->exam] = (long)si;
            continue;
        }
        for (size_t k = 0; k < s->n_listed && rc == JK_OK; k++) {
            size_t c;
            jk_plan_issue_t is = s_blank_issue(JK_PLAN_ISSUE_LISTED, JK_ERR_NOTFOUND);
            is.session = (long)si;
            if (!jk_strmap_get(r->cand_ids, s->listed_ids[k], &c)) {
                is.candidate = s->listed_ids[k];
                rc = s_issue(r, is, "session %s: candidate %s: listed, but not registered", s->id,
                             s->listed_ids[k]);
                continue;
            }
            is.candidate = r->cands[c].admission;
            if (r->cands[c].level != s->level) {
                is.code = JK_ERR_INVAL;
                rc = s_issue(r, is,
                             "session %s: candidate %s: listed, but registered for level %d, "
                             "not %d: not seated here",
                             s->id, r->cands[c].admission, r->cands[c].level, s->level);
                continue;
            }
            routed[c * JK_EXAM__COUNT + s->exam] = true;
            if (r->cands[c].eligible &&
                s_push(&w->members[si], &w->n_members[si], &w->cap_members[si], c) < 0)
                rc = JK_ERR_NOMEM;
        }
    }
    /* A level with no session at all leaves its candidates out: a
     * shortfall. A level with sessions of one exam only is a plan that
     * holds only that exam (a re-sit of theory, say): no issue. A level
     * whose sessions of an exam all list their candidates leaves out those
     * in no list: a shortfall. */
    for (size_t c = 0; c < r->n_cands && rc == JK_OK; c++) {
        const s_cand_t *cd = &r->cands[c];
        int l = jk_level_index(cd->level);
        if (!cd->eligible)
            continue;
        if (held[l][JK_EXAM_THEORY] + held[l][JK_EXAM_SKILLS] == 0) {
            jk_plan_issue_t is = s_blank_issue(JK_PLAN_ISSUE_UNROUTED, JK_ERR_NOTFOUND);
            is.candidate = cd->admission;
            rc = s_issue(r, is, "candidate %s: level %d: the plan has no session of the level: "
                                "not seated",
                         cd->admission, cd->level);
            continue;
        }
        for (int e = 0; e < JK_EXAM__COUNT && rc == JK_OK; e++) {
            if (routed[c * JK_EXAM__COUNT + (size_t)e] || held[l][e] == 0)
                continue;
            long si = unlisted[l][e];
            if (si >= 0) {
                if (s_push(&w->members[si], &w->n_members[si], &w->cap_members[si], c) < 0)
                    rc = JK_ERR_NOMEM;
                continue;
            }
            jk_plan_issue_t is = s_blank_issue(JK_PLAN_ISSUE_UNROUTED, JK_ERR_NOTFOUND);
            is.candidate = cd->admission;
            rc = s_issue(r, is, "candidate %s: level %d: in no %s session: not seated",
                         cd->admission, cd->level, jk_exam_name((jk_exam_t)e));
        }
    }
    free(routed);
    return rc;
}

/* Copies, sorts and checks the candidates given. */
static jk_err_t s_take_candidates(jk_plan_result_t *r, const jk_plan_candidate_t *cs, size_t n,
                                  jk_error_t *err)
{
    size_t bad = 0;
    jk_error_t first;
    jk_error_clear(&first);
#define S_BAD(code, ...)                                                                           \
    do {                                                                                           \
        if (bad++ == 0)                                                                            \
            jk_error_set(&first, code, __VA_ARGS__);                                               \
        jk_diag_error(r->diag, code, __VA_ARGS__);                                                 \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        const char *a = cs[i].admission;
        if (!a || !jk_id_valid(a, JK_PLAN_ID_MAX)) {
            S_BAD(JK_ERR_INVAL, "candidates[%zu]: admission number '%.64s' is not an id", i,
                  a ? a : "(null)");
            continue;
        }
        if (!jk_level_valid(cs[i].level))
            S_BAD(JK_ERR_INVAL, "candidate %s: level %d is not a level (5, 4 or 3)", a,
                  cs[i].level);
        if (!(r->cands[i].admission = jk_arena_strdup(r->arena, a)))
            return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
        r->cands[i].level = cs[i].level;
        r->cands[i].eligible = cs[i].eligible;
    }
    if (bad == 0) {
        qsort(r->cands, n, sizeof *r->cands, s_cmp_cand);
        for (size_t i = 0; i + 1 < n; i++)
            if (strcmp(r->cands[i].admission, r->cands[i + 1].admission) == 0)
                S_BAD(JK_ERR_DUP, "candidate %s: registered twice", r->cands[i].admission);
    }
#undef S_BAD
    if (bad) {
        if (err)
            *err = first;
        return first.code;
    }
    for (size_t i = 0; i < n; i++)
        if (jk_strmap_put(r->cand_ids, r->cands[i].admission, i, NULL) < 0)
            return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    return JK_OK;
}

jk_plan_result_t *jk_plan_assign(const jk_plan_t *p, const jk_plan_candidate_t *candidates,
                                 size_t n, uint64_t seed, jk_diag_t *diag, jk_error_t *err)
{
    if (!p || (n && !candidates)) {
        jk_error_set(err, JK_ERR_INVAL, "assign: no plan or no candidates");
        return NULL;
    }
    if (n > JK_PLAN_MAX_CANDIDATES) {
        jk_diag_error(diag, JK_ERR_TOO_BIG, "assign: %zu candidates, more than %d", n,
                      JK_PLAN_MAX_CANDIDATES);
        jk_error_set(err, JK_ERR_TOO_BIG, "assign: %zu candidates, more than %d", n,
                     JK_PLAN_MAX_CANDIDATES);
        return NULL;
    }
    jk_err_t rc = JK_ERR_NOMEM;
    s_run_t w = { .p = p };
    size_t *order = NULL, *order_tmp = NULL;
    jk_plan_result_t *r = calloc(1, sizeof *r);
    if (!r)
        goto cleanup;
    w.r = r;
    r->p = p;
    r->seed = seed;
    r->diag = diag;
    r->arena = jk_arena_new(256 * 1024);
    r->cands = calloc(n ? n : 1, sizeof *r->cands);
    r->n_cands = n;
    r->cand_ids = jk_strmap_new(n ? n : 1);
    r->sess = calloc(p->n_sessions, sizeof *r->sess);
    if (!r->arena || !r->cands || !r->cand_ids || !r->sess)
        goto cleanup;
    for (size_t i = 0; i < p->n_sessions; i++)
        r->sess[i].session = i;

    rc = s_take_candidates(r, candidates, n, err);
    if (rc != JK_OK)
        goto cleanup;
    rc = JK_ERR_NOMEM;

    size_t ns = p->n_sessions, nst = p->n_staff ? p->n_staff : 1;
    size_t nr = p->n_rooms ? p->n_rooms : 1;
    w.members = calloc(ns, sizeof *w.members);
    w.n_members = calloc(ns, sizeof *w.n_members);
    w.cap_members = calloc(ns, sizeof *w.cap_members);
    w.room_taken = calloc(nr, sizeof *w.room_taken);
    w.staff_taken = calloc(nst, sizeof *w.staff_taken);
    w.load = calloc(nst, sizeof *w.load);
    w.rank = calloc(nst, sizeof *w.rank);
    /* Scratch: rooms need avail + tmp + work + wtmp (4 * n_rooms); staff
     * need free + tmp (2 * n_staff). */
    w.scratch = calloc(4 * nr + 2 * nst, sizeof *w.scratch);
    w.counts = calloc(nr, sizeof *w.counts);
    order = calloc(ns, sizeof *order);
    order_tmp = calloc(ns, sizeof *order_tmp);
    if (!w.members || !w.n_members || !w.cap_members || !w.room_taken || !w.staff_taken ||
        !w.load || !w.rank || !w.scratch || !w.counts || !order || !order_tmp)
        goto cleanup;

    /* Each staff member's random rank: a seeded permutation, so the result
     * depends on the seed and not on anything else. */
    jk_rand_t rng;
    jk_rand_seed_str(&rng, seed, "staff");
    for (size_t i = 0; i < p->n_staff; i++)
        w.rank[i] = i;
    if (p->n_staff > 1)
        jk_rand_shuffle(&rng, w.rank, p->n_staff, sizeof *w.rank);

    /* Notices first, in admission order: who is left out and why. */
    rc = JK_OK;
    for (size_t i = 0; i < n && rc == JK_OK; i++) {
        if (r->cands[i].eligible)
            continue;
        jk_plan_issue_t is = s_blank_issue(JK_PLAN_ISSUE_INELIGIBLE, JK_ERR_INELIGIBLE);
        is.candidate = r->cands[i].admission;
        rc = s_issue(r, is, "candidate %s: not eligible for level %d: not seated",
                     r->cands[i].admission, r->cands[i].level);
    }
    if (rc == JK_OK)
        rc = s_route(&w);
    if (rc != JK_OK)
        goto cleanup;

    for (size_t i = 0; i < ns; i++)
        order[i] = i;
    s_sort(order, order_tmp, ns, s_cmp_session_order, &w);
    for (size_t i = 0; i < ns && rc == JK_OK; i++)
        rc = s_place_session(&w, order[i], order, i);

cleanup:
    if (w.members)
        for (size_t i = 0; i < p->n_sessions; i++)
            free(w.members[i]);
    free(w.members);
    free(w.n_members);
    free(w.cap_members);
    free(w.room_taken);
    free(w.staff_taken);
    free(w.load);
    free(w.rank);
    free(w.scratch);
    free(w.counts);
    free(order);
    free(order_tmp);
    if (rc != JK_OK) {
        if (rc == JK_ERR_NOMEM) {
            jk_diag_error(diag, JK_ERR_NOMEM, "assign: out of memory");
            jk_error_set(err, JK_ERR_NOMEM, "assign: out of memory");
        }
        jk_plan_result_destroy(&r);
        return NULL;
    }
    r->diag = NULL;
    jk_error_clear(err);
    return r;
}

/* ---- writers ---- */

static json_t *s_json_issue(const jk_plan_result_t *r, const jk_plan_issue_t *is)
{
    static const char *const kinds[] = { "seats", "staff", "unrouted", "listed", "ineligible" };
    const jk_plan_t *p = r->p;
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "kind", json_string(kinds[is->kind]));
    bad |= json_object_set_new(o, "shortfall", json_boolean(is->shortfall));
    bad |= json_object_set_new(o, "session", is->session >= 0
                                                 ? json_string(p->sessions[is->session].id)
                                                 : json_null());
    bad |= json_object_set_new(o, "room",
                               is->room >= 0 ? json_string(p->rooms[is->room].id) : json_null());
    bad |= json_object_set_new(o, "candidate",
                               is->candidate ? json_string(is->candidate) : json_null());
    if (is->kind == JK_PLAN_ISSUE_STAFF) {
        bad |= json_object_set_new(o, "role", json_string(jk_role_name(is->role)));
        bad |= json_object_set_new(o, "needed", json_integer(is->needed));
        bad |= json_object_set_new(o, "assigned", json_integer(is->got));
    } else if (is->kind == JK_PLAN_ISSUE_SEATS) {
        bad |= json_object_set_new(o, "candidates", json_integer(is->needed));
        bad |= json_object_set_new(o, "seated", json_integer(is->got));
    }
    bad |= json_object_set_new(o, "message", json_string(is->msg));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *s_json_room(const jk_plan_result_t *r, const jk_plan_room_use_t *u)
{
    const jk_plan_t *p = r->p;
    const jk_plan_room_t *room = &p->rooms[u->room];
    json_t *staff = json_array(), *seating = json_array();
    json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:s,s:i,s:o,s:o}", "room", room->id, "site",
                          p->sites[room->site].id, "seats", room->seats, "candidates",
                          u->candidates, "role", jk_role_name(u->role), "staff_needed",
                          u->staff_needed, "staff", staff, "seating", seating);
    if (!o)
        return NULL;
    for (size_t k = 0; k < u->n_staff; k++) {
        const jk_plan_staff_t *m = &p->staff[u->staff[k].staff];
        if (json_array_append_new(staff, json_pack("{s:s,s:s,s:s}", "id", m->id, "name", m->name,
                                                   "role", jk_role_name(u->staff[k].role)))) {
            json_decref(o);
            return NULL;
        }
    }
    for (int k = 0; k < u->candidates; k++)
        if (json_array_append_new(seating, json_pack("{s:i,s:s}", "seat", u->seats[k].seat,
                                                     "admission", u->seats[k].admission))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

jk_err_t jk_plan_result_write_json(const jk_plan_result_t *r, FILE *out, jk_error_t *err)
{
    const jk_plan_t *p = r->p;
    char seed[24], start[40], end[40];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    json_t *sessions = json_array(), *issues = json_array();
    json_t *doc = json_pack("{s:s,s:i,s:s,s:s,s:b,s:o,s:o}", "format", "jikao-assignment",
                            "format_version", 1, "plan", p->id, "seed", seed, "ok",
                            jk_plan_result_ok(r), "sessions", sessions, "issues", issues);
    if (!doc)
        return jk_error_set(err, JK_ERR_NOMEM, "assignment: out of memory");
    for (size_t i = 0; i < p->n_sessions; i++) {
        const jk_plan_session_t *s = &p->sessions[i];
        const jk_plan_session_result_t *sr = &r->sess[i];
        s_format_time(s->start_s, s->offset_min, true, start, sizeof start);
        s_format_time(s->start_s + (int64_t)s->minutes * 60, s->offset_min, true, end,
                      sizeof end);
        json_t *rooms = json_array();
        json_t *o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:i,s:I,s:I,s:o}", "id", s->id, "level",
                              s->level, "exam", jk_exam_name(s->exam), "start", start, "end", end,
                              "minutes", s->minutes, "candidates", (json_int_t)sr->candidates,
                              "seated", (json_int_t)sr->seated, "rooms", rooms);
        if (json_array_append_new(sessions, o))
            goto nomem;
        for (size_t u = 0; u < sr->n_rooms; u++)
            if (json_array_append_new(rooms, s_json_room(r, &sr->rooms[u])))
                goto nomem;
    }
    for (size_t i = 0; i < r->n_issues; i++)
        if (json_array_append_new(issues, s_json_issue(r, &r->issues[i])))
            goto nomem;
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0 || fputc('\n', out) == EOF || ferror(out))
        return jk_error_set(err, JK_ERR_IO, "assignment: write failed");
    return JK_OK;
nomem:
    json_decref(doc);
    return jk_error_set(err, JK_ERR_NOMEM, "assignment: out of memory");
}

/* Session indexes in time order (then plan order), for the roster. */
static int s_cmp_session_time(const void *ctx, size_t a, size_t b)
{
    const jk_plan_t *p = ctx;
    if (p->sessions[a].start_s != p->sessions[b].start_s)
        return p->sessions[a].start_s < p->sessions[b].start_s ? -1 : 1;
    return (a > b) - (a < b);
}

static const jk_plan_room_use_t *s_use_of(const jk_plan_session_result_t *sr, size_t room)
{
    /* rooms are in plan order: binary search */
    size_t lo = 0, hi = sr->n_rooms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sr->rooms[mid].room < room)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sr->n_rooms && sr->rooms[lo].room == room ? &sr->rooms[lo] : NULL;
}

jk_err_t jk_plan_result_write_roster(const jk_plan_result_t *r, FILE *out, jk_error_t *err)
{
    const jk_plan_t *p = r->p;
    size_t ns = p->n_sessions;
    size_t *order = calloc(ns * 2, sizeof *order);
    if (!order)
        return jk_error_set(err, JK_ERR_NOMEM, "roster: out of memory");
    for (size_t i = 0; i < ns; i++)
        order[i] = i;
    s_sort(order, order + ns, ns, s_cmp_session_time, p);

    fprintf(out, "考试批次 %s：%s\n", p->id, p->name);
    fprintf(out, "随机种子 %llu；%s\n", (unsigned long long)r->seed,
            jk_plan_result_ok(r) ? "安排完整，无缺口" : "安排有缺口，见文末");
    for (size_t ri = 0; ri < p->n_rooms; ri++) {
        const jk_plan_room_t *room = &p->rooms[ri];
        const jk_plan_site_t *site = &p->sites[room->site];
        bool header = false;
        for (size_t oi = 0; oi < ns; oi++) {
            size_t si = order[oi];
            const jk_plan_session_t *s = &p->sessions[si];
            const jk_plan_room_use_t *u = s_use_of(&r->sess[si], ri);
            if (!u)
                continue;
            if (!header) {
                fprintf(out, "\n== 考场 %s %s（考点 %s %s，%d 座）==\n", room->id, room->name,
                        site->id, site->name, room->seats);
                header = true;
            }
            char from[40], to[40];
            s_format_time(s->start_s, s->offset_min, false, from, sizeof from);
            s_format_time(s->start_s + (int64_t)s->minutes * 60, s->offset_min, false, to,
                          sizeof to);
            const jk_exam_rule_t *rule = jk_standard_exam_rule(p->std, s->exam);
            const jk_staffing_t *st = jk_standard_staffing(p->std, s->exam);
            int a = s->offset_min < 0 ? -s->offset_min : s->offset_min;
            fprintf(out, "\n-- 场次 %s：%s %s%s%s\n", s->id,
                    jk_standard_level_name(p->std, s->level), rule ? rule->name : "",
                    s->name ? " " : "", s->name ? s->name : "");
            /* Same day: print only the end's time of day. */
            fprintf(out, "   时间 %s–%s（UTC%c%02d:%02d），%d 分钟\n", from,
                    strncmp(from, to, 10) == 0 ? to + 11 : to, s->offset_min < 0 ? '-' : '+',
                    a / 60, a % 60, s->minutes);
            fprintf(out, "   考生 %d 人；%s %zu 人（需 %d 人）%s\n", u->candidates,
                    st ? st->name : jk_role_name(u->role), u->n_staff, u->staff_needed,
                    u->n_staff < (size_t)u->staff_needed ? " 【缺员】" : "");
            for (size_t k = 0; k < u->n_staff; k++) {
                const jk_plan_staff_t *m = &p->staff[u->staff[k].staff];
                fprintf(out, "   %s（%s） %s %s\n", st ? st->name : "",
                        jk_role_name(u->staff[k].role), m->id, m->name);
            }
            fprintf(out, "   座号  准考证号\n");
            for (int k = 0; k < u->candidates; k++)
                fprintf(out, "   %4d  %s\n", u->seats[k].seat, u->seats[k].admission);
        }
    }
    if (r->n_issues) {
        fprintf(out, "\n== 问题（缺口 %zu，提示 %zu）==\n", r->n_shortfalls,
                r->n_issues - r->n_shortfalls);
        for (size_t i = 0; i < r->n_issues; i++)
            fprintf(out, "%s %s\n", r->issues[i].shortfall ? "缺口" : "提示", r->issues[i].msg);
    }
    free(order);
    if (ferror(out))
        return jk_error_set(err, JK_ERR_IO, "roster: write failed");
    return JK_OK;
}
