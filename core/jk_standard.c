/*
 * jk_standard: loads data/standard.json, validates it and keeps a read-only
 * copy; see jk_standard.h for the contract and docs/standard-format.md for
 * the file format.
 *
 * Design. Loading is one pass over the jansson tree that checks each value
 * and copies what is kept into our own structs; the jansson tree is released
 * before jk_standard_parse returns, so nothing outside this file ever sees a
 * json_t. Every string and fixed-size array is carved out of a small arena
 * owned by the object (one free walk at destroy, no per-field ownership);
 * only the requirement table grows while loading, with realloc, and is never
 * moved after the load. Lookups by reference go through a sorted array of
 * pointers (binary search): about 400 requirements do not need a hash table.
 *
 * Every validation error names the input ("data/standard.json"), the JSON
 * path of the offending value ("$.weights.theory.rows[2].points.4") and what
 * is wrong; syntax errors name the line and column instead of a path. The
 * first error stops the load: a half-valid standard is never returned.
 *
 * Rejected: keeping the json_t alive and reading it lazily (every caller
 * would then depend on jansson, and errors would surface late, far from the
 * load); "fixing" misprints while loading (the data keeps the printed text;
 * marks say what is wrong, so the exam never disagrees with the paper).
 */
#include "jk_standard.h"

#include <limits.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jk_file.h"

#define S_FORMAT_NAME "jikao-standard"
#define S_FORMAT_VERSION 1
#define S_PATH_BYTES 256            /* longest JSON path kept in a message */
#define S_ARENA_CHUNK_BYTES 65536u  /* arena grows by this much at a time */
#define S_RULE_DEPTH_MAX 8          /* nesting bound on eligibility rules */
#define S_EXAM_MIN_MINUTES 90       /* 1.9.4: 不少于 90min, both exams */
#define S_FULL_MARKS 100            /* 1.9.2: 百分制 */
#define S_PASS_MARK 60              /* 1.9.2: 60 分（含）以上 */
#define S_MAX_HOURS 10000           /* sanity bound on training hours */
#define S_MAX_MONTHS 600            /* sanity bound on work periods (50 y) */
#define S_MAX_PER_STAFF 1000        /* sanity bound on the staff ratio */
#define S_MAX_MIN_PER_ROOM 100      /* sanity bound on the room minimum */

/* ---- arena ---- */

typedef struct s_chunk {
    struct s_chunk *next;
    size_t used; /* bytes */
    size_t cap;  /* bytes */
    max_align_t data[];
} s_chunk_t;

struct jk_standard {
    s_chunk_t *chunks; /* arena: every string and fixed array below */

    const char *occ_code, *occ_name, *occ_edition, *occ_definition;

    const char *level_names[JK_LEVEL_COUNT];
    int training_hours[JK_LEVEL_COUNT];

    jk_area_t areas[JK_AREA_COUNT];

    int exam_areas[JK_EXAM__COUNT][JK_AREA_COUNT]; /* table order */
    size_t n_exam_areas[JK_EXAM__COUNT];
    int weights[JK_EXAM__COUNT][JK_AREA_COUNT][JK_LEVEL_COUNT]; /* points */

    jk_requirement_t *reqs; /* malloc'd; basic first, then levels 5, 4, 3 */
    size_t n_reqs, cap_reqs;
    const jk_requirement_t **by_ref; /* malloc'd; sorted by ref */

    jk_content_t *contents[JK_LEVEL_COUNT]; /* arena */
    size_t n_contents[JK_LEVEL_COUNT];
    jk_level_counts_t counts[JK_LEVEL_COUNT];

    jk_exam_rule_t exams[JK_EXAM__COUNT];
    jk_staffing_t staffing[JK_EXAM__COUNT];

    jk_alternative_t *alts[JK_LEVEL_COUNT]; /* arena */
    size_t n_alts[JK_LEVEL_COUNT];
};

/* Returns n zeroed bytes aligned for any type, owned by s; NULL on OOM. */
static void *s_alloc(jk_standard_t *s, size_t n)
{
    const size_t a = alignof(max_align_t);
    if (n > SIZE_MAX - a)
        return NULL;
    n = n ? (n + a - 1) / a * a : a;
    s_chunk_t *c = s->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > S_ARENA_CHUNK_BYTES ? n : S_ARENA_CHUNK_BYTES;
        c = calloc(1, sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->next = s->chunks;
        s->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *s_strdup(jk_standard_t *s, const char *str)
{
    size_t n = strlen(str) + 1;
    char *p = s_alloc(s, n);
    if (p)
        memcpy(p, str, n);
    return p;
}

/* ---- small shared helpers (also public) ---- */

static const char *const s_exam_names[JK_EXAM__COUNT] = { "theory", "skills" };

const char *jk_exam_name(jk_exam_t exam)
{
    if ((int)exam < 0 || exam >= JK_EXAM__COUNT)
        return NULL;
    return s_exam_names[exam];
}

int jk_exam_parse(const char *str)
{
    for (int i = 0; str && i < JK_EXAM__COUNT; i++)
        if (strcmp(str, s_exam_names[i]) == 0)
            return i;
    return -1;
}

static const int s_levels[JK_LEVEL_COUNT] = { 5, 4, 3 };

bool jk_level_valid(int level)
{
    return jk_level_index(level) >= 0;
}

int jk_level_index(int level)
{
    for (int i = 0; i < JK_LEVEL_COUNT; i++)
        if (s_levels[i] == level)
            return i;
    return -1;
}

int jk_level_at(int index)
{
    if (index < 0 || index >= JK_LEVEL_COUNT)
        return 0;
    return s_levels[index];
}

static const char *const s_edu_names[] = {
    [JK_EDU_NONE] = "none",         [JK_EDU_HIGH_SCHOOL] = "high_school",
    [JK_EDU_ASSOCIATE] = "associate", [JK_EDU_BACHELOR] = "bachelor",
    [JK_EDU_MASTER] = "master",     [JK_EDU_DOCTOR] = "doctor",
};
#define S_EDU_COUNT ((int)(sizeof s_edu_names / sizeof s_edu_names[0]))

const char *jk_education_name(jk_education_t e)
{
    if ((int)e < 0 || (int)e >= S_EDU_COUNT)
        return NULL;
    return s_edu_names[e];
}

int jk_education_parse(const char *str)
{
    for (int i = 0; str && i < S_EDU_COUNT; i++)
        if (strcmp(str, s_edu_names[i]) == 0)
            return i;
    return -1;
}

static const struct {
    unsigned bit;
    const char *name;
} s_institutions[] = {
    { JK_INST_TECHNICAL_SCHOOL, "technical_school" },
    { JK_INST_VOCATIONAL_SCHOOL, "vocational_school" },
    { JK_INST_TECHNICIAN_CLASS, "technician_class" },
    { JK_INST_COLLEGE, "college" },
};
#define S_INST_COUNT (sizeof s_institutions / sizeof s_institutions[0])

const char *jk_institution_name(unsigned one_bit)
{
    for (size_t i = 0; i < S_INST_COUNT; i++)
        if (s_institutions[i].bit == one_bit)
            return s_institutions[i].name;
    return NULL;
}

unsigned jk_institution_parse(const char *str)
{
    for (size_t i = 0; str && i < S_INST_COUNT; i++)
        if (strcmp(str, s_institutions[i].name) == 0)
            return s_institutions[i].bit;
    return 0;
}

int jk_staffing_needed(const jk_staffing_t *r, int n)
{
    if (!r || r->candidates_per_staff <= 0)
        return -1;
    if (n <= 0)
        return 0;
    /* ceil without overflow for any int n */
    int need = n / r->candidates_per_staff + (n % r->candidates_per_staff != 0);
    if (need < r->min_per_room)
        need = r->min_per_room;
    if (r->odd && need % 2 == 0)
        need++;
    return need;
}

/* ---- load context and error helpers ---- */

typedef struct {
    jk_standard_t *s;
    const char *name; /* file name or buffer name, for messages */
    jk_error_t *err;
} s_ctx_t;

static jk_err_t s_fail(s_ctx_t *c, jk_err_t code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records "<name>: <path>: <what>" and returns code. */
static jk_err_t s_fail(s_ctx_t *c, jk_err_t code, const char *path, const char *fmt, ...)
{
    char what[JK_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return jk_error_set(c->err, code, "%s: %s: %s", c->name, path, what);
}

static jk_err_t s_nomem(s_ctx_t *c, const char *path)
{
    return s_fail(c, JK_ERR_NOMEM, path, "out of memory");
}

static void s_path(char out[S_PATH_BYTES], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formats a child path into out (truncated if absurdly deep). */
static void s_path(char out[S_PATH_BYTES], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, S_PATH_BYTES, fmt, ap);
    va_end(ap);
}

static const char *s_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* Fetches obj.key of the given type. Absent: JK_ERR_MISSING if required,
 * else JK_OK with *out NULL. Wrong type: JK_ERR_INVAL. */
static jk_err_t s_member(s_ctx_t *c, json_t *obj, const char *path, const char *key,
                         json_type type, bool required, json_t **out)
{
    char p[S_PATH_BYTES];
    s_path(p, "%s.%s", path, key);
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (!required)
            return JK_OK;
        return s_fail(c, JK_ERR_MISSING, p, "missing");
    }
    bool ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;
    if (!ok) {
        static const char *const want[] = {
            [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
            [JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
            [JSON_REAL] = "a real number", [JSON_TRUE] = "a boolean",
            [JSON_FALSE] = "a boolean",  [JSON_NULL] = "null",
        };
        return s_fail(c, JK_ERR_INVAL, p, "expected %s, found %s", want[type], s_type_name(v));
    }
    *out = v;
    return JK_OK;
}

/* Borrowed string obj.key (non-empty), or NULL when absent and optional. */
static jk_err_t s_str_borrow(s_ctx_t *c, json_t *obj, const char *path, const char *key,
                             bool required, const char **out)
{
    json_t *v;
    *out = NULL;
    jk_err_t rc = s_member(c, obj, path, key, JSON_STRING, required, &v);
    if (rc != JK_OK || !v)
        return rc;
    if (json_string_length(v) == 0) {
        char p[S_PATH_BYTES];
        s_path(p, "%s.%s", path, key);
        return s_fail(c, JK_ERR_INVAL, p, "empty string");
    }
    *out = json_string_value(v);
    return JK_OK;
}

/* Like s_str_borrow, but copies the string into the arena. */
static jk_err_t s_str(s_ctx_t *c, json_t *obj, const char *path, const char *key,
                      bool required, const char **out)
{
    const char *v;
    jk_err_t rc = s_str_borrow(c, obj, path, key, required, &v);
    if (rc != JK_OK || !v) {
        *out = NULL;
        return rc;
    }
    if (!(*out = s_strdup(c->s, v)))
        return s_nomem(c, path);
    return JK_OK;
}

/* Integer obj.key within [lo, hi] (required). */
static jk_err_t s_int(s_ctx_t *c, json_t *obj, const char *path, const char *key, int lo,
                      int hi, int *out)
{
    json_t *v;
    jk_err_t rc = s_member(c, obj, path, key, JSON_INTEGER, true, &v);
    if (rc != JK_OK)
        return rc;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) {
        char p[S_PATH_BYTES];
        s_path(p, "%s.%s", path, key);
        return s_fail(c, JK_ERR_RANGE, p, "%lld is out of range [%d, %d]", (long long)x, lo, hi);
    }
    *out = (int)x;
    return JK_OK;
}

/* Boolean obj.key; dflt when absent and optional. */
static jk_err_t s_bool(s_ctx_t *c, json_t *obj, const char *path, const char *key,
                       bool required, bool dflt, bool *out)
{
    json_t *v;
    jk_err_t rc = s_member(c, obj, path, key, JSON_TRUE, required, &v);
    if (rc != JK_OK)
        return rc;
    *out = v ? json_is_true(v) : dflt;
    return JK_OK;
}

/* Rejects keys of obj not in the NULL-terminated list allowed. */
static jk_err_t s_only_keys(s_ctx_t *c, json_t *obj, const char *path,
                            const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (!*a)
            return s_fail(c, JK_ERR_INVAL, path, "unexpected key \"%s\"", key);
    }
    return JK_OK;
}

static int s_area_find_id(const jk_standard_t *s, const char *id)
{
    for (int i = 0; i < JK_AREA_COUNT; i++)
        if (s->areas[i].id && strcmp(s->areas[i].id, id) == 0)
            return i;
    return -1;
}

/* Area named by obj.key; *out is its index. */
static jk_err_t s_area_ref(s_ctx_t *c, json_t *obj, const char *path, const char *key,
                           int *out)
{
    const char *id;
    jk_err_t rc = s_str_borrow(c, obj, path, key, true, &id);
    if (rc != JK_OK)
        return rc;
    if ((*out = s_area_find_id(c->s, id)) < 0) {
        char p[S_PATH_BYTES];
        s_path(p, "%s.%s", path, key);
        return s_fail(c, JK_ERR_NOTFOUND, p, "unknown area \"%s\"", id);
    }
    return JK_OK;
}

/* ---- marks ---- */

typedef struct {
    unsigned marks;            /* JK_MARK_* (at most one bit) */
    const char *note;          /* arena */
    const char *position_code; /* borrowed from the json; misprint only */
} s_mark_t;

/* Reads the optional "mark" of obj; `allowed` is the JK_MARK_* kinds that
 * make sense where obj sits. */
static jk_err_t s_mark(s_ctx_t *c, json_t *obj, const char *path, unsigned allowed,
                       s_mark_t *m)
{
    static const char *const keys[] = { "kind", "note", "position_code", NULL };
    static const struct {
        const char *name;
        unsigned bit;
    } kinds[] = {
        { "misprint", JK_MARK_MISPRINT },
        { "gap", JK_MARK_GAP },
        { "suspect", JK_MARK_SUSPECT },
    };
    json_t *mo;
    char p[S_PATH_BYTES];
    const char *kind;
    jk_err_t rc;
    memset(m, 0, sizeof *m);
    if ((rc = s_member(c, obj, path, "mark", JSON_OBJECT, false, &mo)) != JK_OK || !mo)
        return rc;
    s_path(p, "%s.mark", path);
    if ((rc = s_only_keys(c, mo, p, keys)) != JK_OK ||
        (rc = s_str_borrow(c, mo, p, "kind", true, &kind)) != JK_OK ||
        (rc = s_str(c, mo, p, "note", true, &m->note)) != JK_OK ||
        (rc = s_str_borrow(c, mo, p, "position_code", false, &m->position_code)) != JK_OK)
        return rc;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i].name) == 0)
            m->marks = kinds[i].bit;
    char pk[S_PATH_BYTES];
    s_path(pk, "%s.kind", p);
    if (!m->marks)
        return s_fail(c, JK_ERR_INVAL, pk, "unknown mark kind \"%s\" (misprint, gap, suspect)",
                      kind);
    if (!(m->marks & allowed))
        return s_fail(c, JK_ERR_INVAL, pk, "a %s mark does not belong here", kind);
    if (m->marks == JK_MARK_MISPRINT && !m->position_code)
        return s_fail(c, JK_ERR_MISSING, p, "a misprint mark needs position_code");
    if (m->marks != JK_MARK_MISPRINT && m->position_code)
        return s_fail(c, JK_ERR_INVAL, p, "position_code belongs to misprint marks only");
    return JK_OK;
}

/* Checks a printed code against the code its position implies; a mismatch
 * must be marked as a misprint giving that position. */
static jk_err_t s_check_code(s_ctx_t *c, const char *path, const char *printed,
                             const char *expected, const s_mark_t *m)
{
    bool same = strcmp(printed, expected) == 0;
    if (m->marks & JK_MARK_MISPRINT) {
        if (same)
            return s_fail(c, JK_ERR_INVAL, path,
                          "code \"%s\" matches its position yet is marked a misprint", printed);
        if (strcmp(m->position_code, expected) != 0)
            return s_fail(c, JK_ERR_INVAL, path,
                          "misprint mark gives position_code \"%s\" but the position is \"%s\"",
                          m->position_code, expected);
        return JK_OK;
    }
    if (!same)
        return s_fail(c, JK_ERR_INVAL, path,
                      "printed code \"%s\" does not match its position \"%s\" and carries no "
                      "misprint mark",
                      printed, expected);
    return JK_OK;
}

/* ---- requirements table ---- */

static jk_err_t s_add_req(s_ctx_t *c, const char *path, const jk_requirement_t *r)
{
    jk_standard_t *s = c->s;
    for (size_t i = 0; i < s->n_reqs; i++)
        if (strcmp(s->reqs[i].ref, r->ref) == 0)
            return s_fail(c, JK_ERR_DUP, path, "reference \"%s\" is not unique", r->ref);
    if (s->n_reqs == s->cap_reqs) {
        size_t cap = s->cap_reqs ? s->cap_reqs * 2 : 256;
        jk_requirement_t *p = realloc(s->reqs, cap * sizeof *p);
        if (!p)
            return s_nomem(c, path);
        s->reqs = p;
        s->cap_reqs = cap;
    }
    s->reqs[s->n_reqs++] = *r;
    return JK_OK;
}

/* Fails if `code` occurs in the "code" members of arr[0 .. upto). */
static jk_err_t s_no_dup_code(s_ctx_t *c, json_t *arr, size_t upto, const char *code,
                              const char *path, const char *what)
{
    for (size_t j = 0; j < upto; j++) {
        const char *o = json_string_value(json_object_get(json_array_get(arr, j), "code"));
        if (o && strcmp(o, code) == 0)
            return s_fail(c, JK_ERR_DUP, path, "%s code \"%s\" already used at index %zu", what,
                          code, j);
    }
    return JK_OK;
}

/* ---- sections of the file ---- */

static jk_err_t s_load_header(s_ctx_t *c, json_t *root)
{
    jk_standard_t *s = c->s;
    const char *fmt;
    json_t *v, *o;
    jk_err_t rc;
    if ((rc = s_str_borrow(c, root, "$", "format", true, &fmt)) != JK_OK)
        return rc;
    if (strcmp(fmt, S_FORMAT_NAME) != 0)
        return s_fail(c, JK_ERR_VERSION, "$.format", "expected \"%s\", found \"%s\"",
                      S_FORMAT_NAME, fmt);
    if ((rc = s_member(c, root, "$", "format_version", JSON_INTEGER, true, &v)) != JK_OK)
        return rc;
    if (json_integer_value(v) != S_FORMAT_VERSION)
        return s_fail(c, JK_ERR_VERSION, "$.format_version", "unsupported version %lld (this "
                      "build reads version %d)", (long long)json_integer_value(v),
                      S_FORMAT_VERSION);

    const char *unused;
    if ((rc = s_member(c, root, "$", "source", JSON_OBJECT, true, &o)) != JK_OK ||
        (rc = s_str_borrow(c, o, "$.source", "title", true, &unused)) != JK_OK ||
        (rc = s_str_borrow(c, o, "$.source", "edition", true, &unused)) != JK_OK)
        return rc;

    const char *p = "$.occupation";
    if ((rc = s_member(c, root, "$", "occupation", JSON_OBJECT, true, &o)) != JK_OK ||
        (rc = s_str(c, o, p, "code", true, &s->occ_code)) != JK_OK ||
        (rc = s_str(c, o, p, "name", true, &s->occ_name)) != JK_OK ||
        (rc = s_str(c, o, p, "edition", true, &s->occ_edition)) != JK_OK ||
        (rc = s_str(c, o, p, "definition", true, &s->occ_definition)) != JK_OK)
        return rc;
    static const char *const more[] = { "issuer", "environment", "abilities", "education" };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        if ((rc = s_str_borrow(c, o, p, more[i], true, &unused)) != JK_OK)
            return rc;
    return JK_OK;
}

static jk_err_t s_load_levels(s_ctx_t *c, json_t *root)
{
    jk_standard_t *s = c->s;
    json_t *arr;
    jk_err_t rc;
    if ((rc = s_member(c, root, "$", "levels", JSON_ARRAY, true, &arr)) != JK_OK)
        return rc;
    if (json_array_size(arr) != JK_LEVEL_COUNT)
        return s_fail(c, JK_ERR_INVAL, "$.levels",
                      "expected exactly the levels 5, 4, 3; found %zu entries",
                      json_array_size(arr));
    for (int i = 0; i < JK_LEVEL_COUNT; i++) {
        char p[S_PATH_BYTES];
        s_path(p, "$.levels[%d]", i);
        json_t *o = json_array_get(arr, (size_t)i);
        int level;
        if (!json_is_object(o))
            return s_fail(c, JK_ERR_INVAL, p, "expected an object");
        if ((rc = s_int(c, o, p, "level", INT_MIN, INT_MAX, &level)) != JK_OK)
            return rc;
        if (level != jk_level_at(i)) {
            char pl[S_PATH_BYTES];
            s_path(pl, "%s.level", p);
            return s_fail(c, JK_ERR_INVAL, pl,
                          "expected %d (the levels are 5, 4, 3 in this order), found %d",
                          jk_level_at(i), level);
        }
        if ((rc = s_str(c, o, p, "name", true, &s->level_names[i])) != JK_OK ||
            (rc = s_int(c, o, p, "training_hours", 1, S_MAX_HOURS, &s->training_hours[i])) !=
                JK_OK)
            return rc;
    }
    return JK_OK;
}

static bool s_is_ascii_id(const char *id)
{
    if (!*id)
        return false;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= '0' && *id <= '9') || *id == '_'))
            return false;
    return true;
}

static jk_err_t s_load_areas(s_ctx_t *c, json_t *root)
{
    jk_standard_t *s = c->s;
    json_t *arr;
    jk_err_t rc;
    int seen_fn[JK_FUNCTION_COUNT + 1] = { 0 };
    if ((rc = s_member(c, root, "$", "areas", JSON_ARRAY, true, &arr)) != JK_OK)
        return rc;
    if (json_array_size(arr) != JK_AREA_COUNT)
        return s_fail(c, JK_ERR_INVAL, "$.areas", "expected %d areas, found %zu", JK_AREA_COUNT,
                      json_array_size(arr));
    for (int i = 0; i < JK_AREA_COUNT; i++) {
        char p[S_PATH_BYTES];
        s_path(p, "$.areas[%d]", i);
        json_t *o = json_array_get(arr, (size_t)i);
        jk_area_t *a = &s->areas[i];
        const char *id;
        if (!json_is_object(o))
            return s_fail(c, JK_ERR_INVAL, p, "expected an object");
        if ((rc = s_str_borrow(c, o, p, "id", true, &id)) != JK_OK)
            return rc;
        if (!s_is_ascii_id(id))
            return s_fail(c, JK_ERR_INVAL, p, "id \"%s\" is not a lower-case ASCII word", id);
        if (s_area_find_id(s, id) >= 0)
            return s_fail(c, JK_ERR_DUP, p, "duplicate area id \"%s\"", id);
        if ((rc = s_str(c, o, p, "name", true, &a->name)) != JK_OK ||
            (rc = s_str(c, o, p, "code", true, &a->code)) != JK_OK ||
            (rc = s_int(c, o, p, "function", 0, JK_FUNCTION_COUNT, &a->function)) != JK_OK)
            return rc;
        for (int j = 0; j < i; j++)
            if (strcmp(s->areas[j].code, a->code) == 0)
                return s_fail(c, JK_ERR_DUP, p, "duplicate area code \"%s\"", a->code);
        if (a->function > 0) {
            char want[24];
            snprintf(want, sizeof want, "%d", a->function);
            if (strcmp(a->code, want) != 0)
                return s_fail(c, JK_ERR_INVAL, p, "function %d must have code \"%s\"",
                              a->function, want);
        }
        seen_fn[a->function]++;
        if (!(a->id = s_strdup(s, id)))
            return s_nomem(c, p);
    }
    if (seen_fn[0] != JK_AREA_COUNT - JK_FUNCTION_COUNT)
        return s_fail(c, JK_ERR_INVAL, "$.areas", "expected %d 基本要求 areas (function 0), found %d",
                      JK_AREA_COUNT - JK_FUNCTION_COUNT, seen_fn[0]);
    for (int f = 1; f <= JK_FUNCTION_COUNT; f++)
        if (seen_fn[f] != 1)
            return s_fail(c, JK_ERR_INVAL, "$.areas", "function %d appears %d times, expected once",
                          f, seen_fn[f]);
    return JK_OK;
}

/* 基本要求: $.basic_requirements[i].sections[j].items[k]. */
static jk_err_t s_load_basic(s_ctx_t *c, json_t *root)
{
    jk_standard_t *s = c->s;
    json_t *arr;
    jk_err_t rc;
    bool seen[JK_AREA_COUNT] = { false };
    if ((rc = s_member(c, root, "$", "basic_requirements", JSON_ARRAY, true, &arr)) != JK_OK)
        return rc;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char p[S_PATH_BYTES];
        s_path(p, "$.basic_requirements[%zu]", i);
        json_t *o = json_array_get(arr, i), *secs;
        const char *code, *name;
        int area;
        if (!json_is_object(o))
            return s_fail(c, JK_ERR_INVAL, p, "expected an object");
        if ((rc = s_area_ref(c, o, p, "area", &area)) != JK_OK ||
            (rc = s_str_borrow(c, o, p, "code", true, &code)) != JK_OK ||
            (rc = s_str_borrow(c, o, p, "name", true, &name)) != JK_OK ||
            (rc = s_member(c, o, p, "sections", JSON_ARRAY, true, &secs)) != JK_OK)
            return rc;
        const jk_area_t *a = &s->areas[area];
        if (a->function != 0)
            return s_fail(c, JK_ERR_INVAL, p, "area \"%s\" is a 职业功能, not a 基本要求 area", a->id);
        if (seen[area])
            return s_fail(c, JK_ERR_DUP, p, "area \"%s\" appears twice", a->id);
        seen[area] = true;
        if (strcmp(code, a->code) != 0 || strcmp(name, a->name) != 0)
            return s_fail(c, JK_ERR_INVAL, p, "code and name must be the area's (\"%s\" %s)",
                          a->code, a->name);
        if (json_array_size(secs) == 0)
            return s_fail(c, JK_ERR_MISSING, p, "no sections");
        for (size_t j = 0; j < json_array_size(secs); j++) {
            char ps[S_PATH_BYTES], want[48];
            s_path(ps, "%s.sections[%zu]", p, j);
            json_t *so = json_array_get(secs, j), *items;
            const char *scode, *sname, *spos;
            s_mark_t sm;
            if (!json_is_object(so))
                return s_fail(c, JK_ERR_INVAL, ps, "expected an object");
            if ((rc = s_str(c, so, ps, "code", true, &scode)) != JK_OK ||
                (rc = s_str(c, so, ps, "name", true, &sname)) != JK_OK ||
                (rc = s_member(c, so, ps, "items", JSON_ARRAY, true, &items)) != JK_OK ||
                (rc = s_mark(c, so, ps, JK_MARK_MISPRINT | JK_MARK_SUSPECT, &sm)) != JK_OK)
                return rc;
            snprintf(want, sizeof want, "%s.%zu", a->code, j + 1);
            if ((rc = s_no_dup_code(c, secs, j, scode, ps, "section")) != JK_OK ||
                (rc = s_check_code(c, ps, scode, want, &sm)) != JK_OK)
                return rc;
            if (!(spos = s_strdup(s, want)))
                return s_nomem(c, ps);
            jk_requirement_t r = {
                .kind = JK_REQ_BASIC, .level = 0, .area = area,
                .content_code = scode, .content_name = sname,
            };
            if (json_array_size(items) == 0) {
                /* A section with no numbered items is assessed as a whole. */
                r.ref = r.position_code = spos;
                r.code = scode;
                r.text = sname;
                r.marks = sm.marks;
                r.note = sm.note;
                if ((rc = s_add_req(c, ps, &r)) != JK_OK)
                    return rc;
                continue;
            }
            for (size_t k = 0; k < json_array_size(items); k++) {
                char pi[S_PATH_BYTES], iwant[48];
                s_path(pi, "%s.items[%zu]", ps, k);
                json_t *io = json_array_get(items, k);
                s_mark_t im;
                if (!json_is_object(io))
                    return s_fail(c, JK_ERR_INVAL, pi, "expected an object");
                if ((rc = s_str(c, io, pi, "code", true, &r.code)) != JK_OK ||
                    (rc = s_str(c, io, pi, "text", true, &r.text)) != JK_OK ||
                    (rc = s_mark(c, io, pi, JK_MARK_MISPRINT | JK_MARK_SUSPECT, &im)) != JK_OK)
                    return rc;
                snprintf(iwant, sizeof iwant, "%s(%zu)", spos, k + 1);
                if ((rc = s_no_dup_code(c, items, k, r.code, pi, "item")) != JK_OK ||
                    (rc = s_check_code(c, pi, r.code, iwant, &im)) != JK_OK)
                    return rc;
                if (!(r.ref = r.position_code = s_strdup(s, iwant)))
                    return s_nomem(c, pi);
                r.marks = im.marks;
                r.note = im.note;
                if ((rc = s_add_req(c, pi, &r)) != JK_OK)
                    return rc;
            }
        }
    }
    for (int a = 0; a < JK_AREA_COUNT; a++)
        if (s->areas[a].function == 0 && !seen[a])
            return s_fail(c, JK_ERR_MISSING, "$.basic_requirements", "area \"%s\" (%s) is missing",
                          s->areas[a].id, s->areas[a].name);
    return JK_OK;
}

/* One cell (skills or knowledge) of a 工作内容 at a level. */
static jk_err_t s_load_cell(s_ctx_t *c, json_t *arr, const char *path, int level, int area,
                            const jk_content_t *ct, const char *content_pos, jk_req_kind_t kind)
{
    jk_standard_t *s = c->s;
    jk_err_t rc;
    for (size_t k = 0; k < json_array_size(arr); k++) {
        char p[S_PATH_BYTES], want[48], ref[80];
        s_path(p, "%s[%zu]", path, k);
        json_t *o = json_array_get(arr, k), *fn;
        s_mark_t m;
        jk_requirement_t r = {
            .kind = kind, .level = level, .area = area,
            .content_code = ct->code, .content_name = ct->name,
        };
        if (!json_is_object(o))
            return s_fail(c, JK_ERR_INVAL, p, "expected an object");
        if ((rc = s_str(c, o, p, "code", true, &r.code)) != JK_OK ||
            (rc = s_str(c, o, p, "text", true, &r.text)) != JK_OK ||
            (rc = s_mark(c, o, p, JK_MARK_MISPRINT | JK_MARK_SUSPECT, &m)) != JK_OK ||
            (rc = s_member(c, o, p, "footnote", JSON_OBJECT, false, &fn)) != JK_OK)
            return rc;
        if (fn) {
            char pf[S_PATH_BYTES];
            const char *marker;
            s_path(pf, "%s.footnote", p);
            if ((rc = s_str_borrow(c, fn, pf, "marker", true, &marker)) != JK_OK ||
                (rc = s_str(c, fn, pf, "text", true, &r.footnote)) != JK_OK)
                return rc;
            if (!strstr(r.text, marker))
                return s_fail(c, JK_ERR_INVAL, pf, "marker \"%s\" does not occur in the text",
                              marker);
        }
        snprintf(want, sizeof want, "%s.%zu", content_pos, k + 1);
        if ((rc = s_no_dup_code(c, arr, k, r.code, p, "requirement")) != JK_OK ||
            (rc = s_check_code(c, p, r.code, want, &m)) != JK_OK)
            return rc;
        snprintf(ref, sizeof ref, "L%d.%c.%s", level, kind == JK_REQ_SKILL ? 'S' : 'K', want);
        if (!(r.ref = s_strdup(s, ref)) || !(r.position_code = s_strdup(s, want)))
            return s_nomem(c, p);
        r.marks = m.marks;
        r.note = m.note;
        if ((rc = s_add_req(c, p, &r)) != JK_OK)
            return rc;
    }
    return JK_OK;
}

/* The contents of one function at one level, appended to s->contents[li]. */
static jk_err_t s_load_function(s_ctx_t *c, json_t *fo, const char *path, int li, int fnum)
{
    jk_standard_t *s = c->s;
    const int level = jk_level_at(li);
    json_t *arr;
    const char *code, *name;
    int area;
    jk_err_t rc;
    if ((rc = s_area_ref(c, fo, path, "area", &area)) != JK_OK ||
        (rc = s_str_borrow(c, fo, path, "code", true, &code)) != JK_OK ||
        (rc = s_str_borrow(c, fo, path, "name", true, &name)) != JK_OK ||
        (rc = s_member(c, fo, path, "contents", JSON_ARRAY, true, &arr)) != JK_OK)
        return rc;
    const jk_area_t *a = &s->areas[area];
    if (a->function != fnum)
        return s_fail(c, JK_ERR_INVAL, path, "area \"%s\" is function %d, not %d", a->id,
                      a->function, fnum);
    if (strcmp(code, a->code) != 0 || strcmp(name, a->name) != 0)
        return s_fail(c, JK_ERR_INVAL, path, "code and name must be the area's (\"%s\" %s)",
                      a->code, a->name);
    if (json_array_size(arr) == 0)
        return s_fail(c, JK_ERR_MISSING, path, "function %d has no 工作内容 at level %d", fnum,
                      level);
    for (size_t j = 0; j < json_array_size(arr); j++) {
        char p[S_PATH_BYTES], want[48], pc[S_PATH_BYTES];
        s_path(p, "%s.contents[%zu]", path, j);
        json_t *co = json_array_get(arr, j), *sk, *kn;
        jk_content_t *ct = &s->contents[li][s->n_contents[li]];
        s_mark_t m;
        if (!json_is_object(co))
            return s_fail(c, JK_ERR_INVAL, p, "expected an object");
        if ((rc = s_str(c, co, p, "code", true, &ct->code)) != JK_OK ||
            (rc = s_str(c, co, p, "name", true, &ct->name)) != JK_OK ||
            (rc = s_member(c, co, p, "skills", JSON_ARRAY, true, &sk)) != JK_OK ||
            (rc = s_member(c, co, p, "knowledge", JSON_ARRAY, true, &kn)) != JK_OK ||
            (rc = s_mark(c, co, p, JK_MARK_MISPRINT | JK_MARK_GAP | JK_MARK_SUSPECT, &m)) !=
                JK_OK)
            return rc;
        snprintf(want, sizeof want, "%d.%zu", fnum, j + 1);
        if ((rc = s_check_code(c, p, ct->code, want, &m)) != JK_OK)
            return rc;
        for (size_t k = 0; k < s->n_contents[li]; k++)
            if (strcmp(s->contents[li][k].code, ct->code) == 0)
                return s_fail(c, JK_ERR_DUP, p, "工作内容 code \"%s\" appears twice at level %d",
                              ct->code, level);
        bool empty_s = json_array_size(sk) == 0, empty_k = json_array_size(kn) == 0;
        if ((empty_s || empty_k) && !(m.marks & JK_MARK_GAP))
            return s_fail(c, JK_ERR_MISSING, p,
                          "the %s cell is empty but carries no gap mark",
                          empty_s ? "技能要求 (skills)" : "相关知识要求 (knowledge)");
        if ((m.marks & JK_MARK_GAP) && !empty_s && !empty_k)
            return s_fail(c, JK_ERR_INVAL, p, "gap mark, but neither cell is empty");
        ct->level = level;
        ct->area = area;
        ct->n_skills = json_array_size(sk);
        ct->n_knowledge = json_array_size(kn);
        ct->marks = m.marks;
        ct->note = m.note;
        s->n_contents[li]++;
        s_path(pc, "%s.skills", p);
        if ((rc = s_load_cell(c, sk, pc, level, area, ct, want, JK_REQ_SKILL)) != JK_OK)
            return rc;
        s_path(pc, "%s.knowledge", p);
        if ((rc = s_load_cell(c, kn, pc, level, area, ct, want, JK_REQ_KNOWLEDGE)) != JK_OK)
            return rc;
        s->counts[li].contents++;
        s->counts[li].skills += ct->n_skills;
        s->counts[li].knowledge += ct->n_knowledge;
    }
    s->counts[li].functions++;
    return JK_OK;
}

static jk_err_t s_load_work(s_ctx_t *c, json_t *root)
{
    jk_standard_t *s = c->s;
    json_t *arr;
    jk_err_t rc;
    bool seen[JK_LEVEL_COUNT] = { false };
    if ((rc = s_member(c, root, "$", "work_requirements", JSON_ARRAY, true, &arr)) != JK_OK)
        return rc;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char p[S_PATH_BYTES], pf[S_PATH_BYTES];
        s_path(p, "$.work_requirements[%zu]", i);
        s_path(pf, "%s.functions", p);
        json_t *o = json_array_get(arr, i), *fns;
        const char *name;
        int level;
        if (!json_is_object(o))
            return s_fail(c, JK_ERR_INVAL, p, "expected an object");
        if ((rc = s_int(c, o, p, "level", INT_MIN, INT_MAX, &level)) != JK_OK ||
            (rc = s_str_borrow(c, o, p, "name", true, &name)) != JK_OK ||
            (rc = s_member(c, o, p, "functions", JSON_ARRAY, true, &fns)) != JK_OK)
            return rc;
        int li = jk_level_index(level);
        if (li < 0)
            return s_fail(c, JK_ERR_INVAL, p, "level %d is not one of 5, 4, 3", level);
        if (seen[li])
            return s_fail(c, JK_ERR_DUP, p, "level %d appears twice", level);
        seen[li] = true;
        if (strcmp(name, s->level_names[li]) != 0)
            return s_fail(c, JK_ERR_INVAL, p, "name must be the level's (%s)", s->level_names[li]);

        /* Find each function by number; all five must be there, once. */
        json_t *by_fn[JK_FUNCTION_COUNT + 1] = { NULL };
        size_t n_contents = 0;
        for (size_t j = 0; j < json_array_size(fns); j++) {
            char pj[S_PATH_BYTES];
            s_path(pj, "%s[%zu]", pf, j);
            json_t *fo = json_array_get(fns, j), *cs;
            int fnum;
            if (!json_is_object(fo))
                return s_fail(c, JK_ERR_INVAL, pj, "expected an object");
            if ((rc = s_int(c, fo, pj, "function", 1, JK_FUNCTION_COUNT, &fnum)) != JK_OK)
                return rc;
            if (by_fn[fnum])
                return s_fail(c, JK_ERR_DUP, pj, "function %d appears twice at level %d", fnum,
                              level);
            by_fn[fnum] = fo;
            if ((cs = json_object_get(fo, "contents")) && json_is_array(cs))
                n_contents += json_array_size(cs);
        }
        for (int f = 1; f <= JK_FUNCTION_COUNT; f++) {
            if (by_fn[f])
                continue;
            for (int a = 0; a < JK_AREA_COUNT; a++)
                if (s->areas[a].function == f)
                    return s_fail(c, JK_ERR_MISSING, pf,
                                  "level %d lacks function %d (%s, area \"%s\")", level, f,
                                  s->areas[a].name, s->areas[a].id);
        }
        if (!(s->contents[li] = s_alloc(s, (n_contents ? n_contents : 1) * sizeof(jk_content_t))))
            return s_nomem(c, p);
        /* Functions are stored in number order whatever the file order. */
        for (int f = 1; f <= JK_FUNCTION_COUNT; f++) {
            size_t j = 0;
            while (json_array_get(fns, j) != by_fn[f])
                j++;
            char pj[S_PATH_BYTES];
            s_path(pj, "%s[%zu]", pf, j);
            if ((rc = s_load_function(c, by_fn[f], pj, li, f)) != JK_OK)
                return rc;
        }
    }
    for (int li = 0; li < JK_LEVEL_COUNT; li++)
        if (!seen[li])
            return s_fail(c, JK_ERR_MISSING, "$.work_requirements", "level %d is missing",
                          jk_level_at(li));
    return JK_OK;
}

static jk_err_t s_load_weight_table(s_ctx_t *c, json_t *w, jk_exam_t exam)
{
    jk_standard_t *s = c->s;
    char p[S_PATH_BYTES], pr[S_PATH_BYTES];
    json_t *t, *rows;
    const char *title;
    jk_err_t rc;
    int sum[JK_LEVEL_COUNT] = { 0 };
    bool seen[JK_AREA_COUNT] = { false };
    s_path(p, "$.weights.%s", jk_exam_name(exam));
    s_path(pr, "%s.rows", p);
    if ((rc = s_member(c, w, "$.weights", jk_exam_name(exam), JSON_OBJECT, true, &t)) != JK_OK ||
        (rc = s_str_borrow(c, t, p, "title", true, &title)) != JK_OK ||
        (rc = s_member(c, t, p, "rows", JSON_ARRAY, true, &rows)) != JK_OK)
        return rc;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        char pi[S_PATH_BYTES], pp[S_PATH_BYTES];
        s_path(pi, "%s[%zu]", pr, i);
        s_path(pp, "%s.points", pi);
        json_t *ro = json_array_get(rows, i), *pts;
        int area;
        if (!json_is_object(ro))
            return s_fail(c, JK_ERR_INVAL, pi, "expected an object");
        if ((rc = s_area_ref(c, ro, pi, "area", &area)) != JK_OK ||
            (rc = s_member(c, ro, pi, "points", JSON_OBJECT, true, &pts)) != JK_OK)
            return rc;
        const jk_area_t *a = &s->areas[area];
        if (exam == JK_EXAM_SKILLS && a->function == 0)
            return s_fail(c, JK_ERR_INVAL, pi,
                          "area \"%s\" is a 基本要求 area and has no place in the skills table",
                          a->id);
        if (seen[area])
            return s_fail(c, JK_ERR_DUP, pi, "area \"%s\" appears twice", a->id);
        seen[area] = true;
        static const char *const keys[] = { "5", "4", "3", NULL };
        if ((rc = s_only_keys(c, pts, pp, keys)) != JK_OK)
            return rc;
        for (int li = 0; li < JK_LEVEL_COUNT; li++) {
            int pts_v;
            if ((rc = s_int(c, pts, pp, keys[li], 0, 100, &pts_v)) != JK_OK)
                return rc;
            s->weights[exam][area][li] = pts_v;
            sum[li] += pts_v;
        }
        s->exam_areas[exam][s->n_exam_areas[exam]++] = area;
    }
    for (int a = 0; a < JK_AREA_COUNT; a++) {
        bool want = exam == JK_EXAM_THEORY || s->areas[a].function > 0;
        if (want && !seen[a])
            return s_fail(c, JK_ERR_MISSING, pr, "area \"%s\" (%s) is missing", s->areas[a].id,
                          s->areas[a].name);
    }
    for (int li = 0; li < JK_LEVEL_COUNT; li++)
        if (sum[li] != 100)
            return s_fail(c, JK_ERR_RANGE, pr, "points for level %d sum to %d, expected 100",
                          jk_level_at(li), sum[li]);
    return JK_OK;
}

static jk_err_t s_load_weights(s_ctx_t *c, json_t *root)
{
    json_t *w;
    jk_err_t rc;
    if ((rc = s_member(c, root, "$", "weights", JSON_OBJECT, true, &w)) != JK_OK ||
        (rc = s_load_weight_table(c, w, JK_EXAM_THEORY)) != JK_OK ||
        (rc = s_load_weight_table(c, w, JK_EXAM_SKILLS)) != JK_OK)
        return rc;
    return JK_OK;
}

static jk_err_t s_load_exams(s_ctx_t *c, json_t *root)
{
    jk_standard_t *s = c->s;
    json_t *ex;
    const char *unused;
    jk_err_t rc;
    if ((rc = s_member(c, root, "$", "exams", JSON_OBJECT, true, &ex)) != JK_OK ||
        (rc = s_str_borrow(c, ex, "$.exams", "machine_based", true, &unused)) != JK_OK)
        return rc;
    for (int e = 0; e < JK_EXAM__COUNT; e++) {
        char p[S_PATH_BYTES];
        s_path(p, "$.exams.%s", jk_exam_name((jk_exam_t)e));
        jk_exam_rule_t *r = &s->exams[e];
        json_t *o, *form;
        if ((rc = s_member(c, ex, "$.exams", jk_exam_name((jk_exam_t)e), JSON_OBJECT, true, &o)) !=
                JK_OK ||
            (rc = s_str(c, o, p, "name", true, &r->name)) != JK_OK ||
            (rc = s_member(c, o, p, "form", JSON_ARRAY, true, &form)) != JK_OK ||
            (rc = s_str_borrow(c, o, p, "combined_with", false, &unused)) != JK_OK ||
            (rc = s_int(c, o, p, "min_minutes", S_EXAM_MIN_MINUTES, 24 * 60, &r->min_minutes)) !=
                JK_OK ||
            (rc = s_int(c, o, p, "full_marks", S_FULL_MARKS, S_FULL_MARKS, &r->full_marks)) !=
                JK_OK ||
            (rc = s_int(c, o, p, "pass_mark", S_PASS_MARK, S_PASS_MARK, &r->pass_mark)) != JK_OK)
            return rc;
        if (json_array_size(form) == 0)
            return s_fail(c, JK_ERR_MISSING, p, "form lists no way of examining");
        for (size_t i = 0; i < json_array_size(form); i++) {
            json_t *f = json_array_get(form, i);
            if (!json_is_string(f) || json_string_length(f) == 0) {
                char pf[S_PATH_BYTES];
                s_path(pf, "%s.form[%zu]", p, i);
                return s_fail(c, JK_ERR_INVAL, pf, "expected a non-empty string");
            }
        }
    }
    return JK_OK;
}

static jk_err_t s_load_staffing(s_ctx_t *c, json_t *root)
{
    static const char *const roles[JK_EXAM__COUNT] = { "proctor", "examiner" };
    jk_standard_t *s = c->s;
    json_t *st;
    jk_err_t rc;
    if ((rc = s_member(c, root, "$", "staffing", JSON_OBJECT, true, &st)) != JK_OK)
        return rc;
    for (int e = 0; e < JK_EXAM__COUNT; e++) {
        char p[S_PATH_BYTES];
        s_path(p, "$.staffing.%s", jk_exam_name((jk_exam_t)e));
        jk_staffing_t *r = &s->staffing[e];
        json_t *o;
        if ((rc = s_member(c, st, "$.staffing", jk_exam_name((jk_exam_t)e), JSON_OBJECT, true,
                           &o)) != JK_OK ||
            (rc = s_str(c, o, p, "role", true, &r->role)) != JK_OK ||
            (rc = s_str(c, o, p, "name", true, &r->name)) != JK_OK ||
            (rc = s_int(c, o, p, "candidates_per_staff", 1, S_MAX_PER_STAFF,
                        &r->candidates_per_staff)) != JK_OK ||
            (rc = s_int(c, o, p, "min_per_room", 1, S_MAX_MIN_PER_ROOM, &r->min_per_room)) !=
                JK_OK ||
            (rc = s_bool(c, o, p, "odd", true, false, &r->odd)) != JK_OK)
            return rc;
        if (strcmp(r->role, roles[e]) != 0)
            return s_fail(c, JK_ERR_INVAL, p, "role must be \"%s\", found \"%s\"", roles[e],
                          r->role);
        if (r->odd && r->min_per_room % 2 == 0)
            return s_fail(c, JK_ERR_INVAL, p, "min_per_room %d is even but the rule asks for odd",
                          r->min_per_room);
    }
    return JK_OK;
}

/* ---- eligibility rules ---- */

static jk_err_t s_rule_level(s_ctx_t *c, json_t *body, const char *path, const char *key,
                             int *out)
{
    jk_err_t rc = s_int(c, body, path, key, INT_MIN, INT_MAX, out);
    if (rc == JK_OK && !jk_level_valid(*out)) {
        char p[S_PATH_BYTES];
        s_path(p, "%s.%s", path, key);
        return s_fail(c, JK_ERR_RANGE, p, "level %d is not one of 5, 4, 3", *out);
    }
    return rc;
}

static jk_err_t s_rule_institutions(s_ctx_t *c, json_t *body, const char *path,
                                    unsigned *out)
{
    char p[S_PATH_BYTES];
    json_t *arr;
    jk_err_t rc;
    s_path(p, "%s.institutions", path);
    if ((rc = s_member(c, body, path, "institutions", JSON_ARRAY, true, &arr)) != JK_OK)
        return rc;
    if (json_array_size(arr) == 0)
        return s_fail(c, JK_ERR_MISSING, p, "no institution kinds");
    *out = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *name = json_string_value(json_array_get(arr, i));
        unsigned bit = jk_institution_parse(name);
        char pi[S_PATH_BYTES];
        s_path(pi, "%s[%zu]", p, i);
        if (!bit)
            return s_fail(c, JK_ERR_INVAL, pi, "unknown institution kind%s%s%s",
                          name ? " \"" : "", name ? name : "", name ? "\"" : "");
        if (*out & bit)
            return s_fail(c, JK_ERR_DUP, pi, "institution kind \"%s\" listed twice", name);
        *out |= bit;
    }
    return JK_OK;
}

static jk_err_t s_rule_education(s_ctx_t *c, json_t *body, const char *path, const char *key,
                                 jk_education_t *out)
{
    const char *name;
    jk_err_t rc = s_str_borrow(c, body, path, key, true, &name);
    if (rc != JK_OK)
        return rc;
    int e = jk_education_parse(name);
    if (e <= JK_EDU_NONE) {
        char p[S_PATH_BYTES];
        s_path(p, "%s.%s", path, key);
        return s_fail(c, JK_ERR_INVAL, p, "unknown education \"%s\" (high_school, associate, "
                      "bachelor, master, doctor)", name);
    }
    *out = (jk_education_t)e;
    return JK_OK;
}

/* Parses one rule node {"<kind>": <body>} into *r. */
static jk_err_t s_rule(s_ctx_t *c, json_t *node, const char *path, int depth, jk_rule_t *r)
{
    static const char *const k_train[] = { "level", "min_hours", "certificate", NULL };
    static const char *const k_cert[] = { "level", NULL };
    static const char *const k_work[] = { "occupation", "min_months", "since", "since_level",
                                          NULL };
    static const char *const k_intern[] = { "institutions", "min_education", NULL };
    static const char *const k_grad[] = { "institutions", NULL };
    static const char *const k_edu[] = { "min", "equivalent_ok", NULL };
    jk_standard_t *s = c->s;
    jk_err_t rc;
    memset(r, 0, sizeof *r);
    if (depth > S_RULE_DEPTH_MAX)
        return s_fail(c, JK_ERR_RANGE, path, "rules nest deeper than %d", S_RULE_DEPTH_MAX);
    if (!json_is_object(node) || json_object_size(node) != 1)
        return s_fail(c, JK_ERR_INVAL, path,
                      "a rule is an object with exactly one key, its kind");
    const char *kind = json_object_iter_key(json_object_iter(node));
    json_t *body = json_object_iter_value(json_object_iter(node));
    char p[S_PATH_BYTES];
    s_path(p, "%s.%s", path, kind);

    if (strcmp(kind, "all") == 0 || strcmp(kind, "any") == 0) {
        r->kind = kind[1] == 'l' ? JK_RULE_ALL : JK_RULE_ANY;
        if (!json_is_array(body) || json_array_size(body) == 0)
            return s_fail(c, JK_ERR_INVAL, p, "expected a non-empty array of rules");
        size_t n = json_array_size(body);
        jk_rule_t *kids = s_alloc(s, n * sizeof *kids);
        if (!kids)
            return s_nomem(c, p);
        for (size_t i = 0; i < n; i++) {
            char pi[S_PATH_BYTES];
            s_path(pi, "%s[%zu]", p, i);
            if ((rc = s_rule(c, json_array_get(body, i), pi, depth + 1, &kids[i])) != JK_OK)
                return rc;
        }
        r->children = kids;
        r->n_children = n;
        return JK_OK;
    }
    if (!json_is_object(body))
        return s_fail(c, JK_ERR_INVAL, p, "expected an object");

    if (strcmp(kind, "training") == 0) {
        r->kind = JK_RULE_TRAINING;
        if ((rc = s_only_keys(c, body, p, k_train)) != JK_OK ||
            (rc = s_rule_level(c, body, p, "level", &r->level)) != JK_OK ||
            (rc = s_int(c, body, p, "min_hours", 1, S_MAX_HOURS, &r->min_hours)) != JK_OK ||
            (rc = s_bool(c, body, p, "certificate", false, false, &r->certificate)) != JK_OK)
            return rc;
        int want = s->training_hours[jk_level_index(r->level)];
        if (r->min_hours != want) {
            char ph[S_PATH_BYTES];
            s_path(ph, "%s.min_hours", p);
            return s_fail(c, JK_ERR_INVAL, ph,
                          "%d hours, but level %d's training_hours (1.8) is %d", r->min_hours,
                          r->level, want);
        }
        return JK_OK;
    }
    if (strcmp(kind, "certificate") == 0) {
        r->kind = JK_RULE_CERTIFICATE;
        if ((rc = s_only_keys(c, body, p, k_cert)) != JK_OK ||
            (rc = s_rule_level(c, body, p, "level", &r->level)) != JK_OK)
            return rc;
        return JK_OK;
    }
    if (strcmp(kind, "work") == 0) {
        const char *occ, *since;
        r->kind = JK_RULE_WORK;
        if ((rc = s_only_keys(c, body, p, k_work)) != JK_OK ||
            (rc = s_str_borrow(c, body, p, "occupation", true, &occ)) != JK_OK ||
            (rc = s_int(c, body, p, "min_months", 1, S_MAX_MONTHS, &r->min_months)) != JK_OK ||
            (rc = s_str_borrow(c, body, p, "since", false, &since)) != JK_OK)
            return rc;
        if (strcmp(occ, "this") == 0)
            r->occupation = JK_OCC_THIS;
        else if (strcmp(occ, "related") == 0)
            r->occupation = JK_OCC_RELATED;
        else {
            char po[S_PATH_BYTES];
            s_path(po, "%s.occupation", p);
            return s_fail(c, JK_ERR_INVAL, po, "must be \"this\" or \"related\", found \"%s\"",
                          occ);
        }
        if (!since)
            r->since = JK_SINCE_NONE;
        else if (strcmp(since, "certificate") == 0)
            r->since = JK_SINCE_CERTIFICATE;
        else if (strcmp(since, "graduation") == 0)
            r->since = JK_SINCE_GRADUATION;
        else {
            char ps[S_PATH_BYTES];
            s_path(ps, "%s.since", p);
            return s_fail(c, JK_ERR_INVAL, ps,
                          "must be \"certificate\" or \"graduation\", found \"%s\"", since);
        }
        bool has_level = json_object_get(body, "since_level") != NULL;
        if (r->since == JK_SINCE_CERTIFICATE)
            return s_rule_level(c, body, p, "since_level", &r->since_level);
        if (has_level) {
            char pl[S_PATH_BYTES];
            s_path(pl, "%s.since_level", p);
            return s_fail(c, JK_ERR_INVAL, pl, "belongs to since \"certificate\" only");
        }
        return JK_OK;
    }
    if (strcmp(kind, "internship") == 0) {
        r->kind = JK_RULE_INTERNSHIP;
        if ((rc = s_only_keys(c, body, p, k_intern)) != JK_OK)
            return rc;
        bool has_i = json_object_get(body, "institutions") != NULL;
        bool has_e = json_object_get(body, "min_education") != NULL;
        if (has_i == has_e)
            return s_fail(c, JK_ERR_INVAL, p,
                          "give exactly one of institutions and min_education");
        if (has_i)
            return s_rule_institutions(c, body, p, &r->institutions);
        return s_rule_education(c, body, p, "min_education", &r->min_education);
    }
    if (strcmp(kind, "graduated") == 0) {
        r->kind = JK_RULE_GRADUATED;
        if ((rc = s_only_keys(c, body, p, k_grad)) != JK_OK)
            return rc;
        return s_rule_institutions(c, body, p, &r->institutions);
    }
    if (strcmp(kind, "education") == 0) {
        r->kind = JK_RULE_EDUCATION;
        if ((rc = s_only_keys(c, body, p, k_edu)) != JK_OK ||
            (rc = s_rule_education(c, body, p, "min", &r->min_education)) != JK_OK ||
            (rc = s_bool(c, body, p, "equivalent_ok", false, false, &r->equivalent_ok)) != JK_OK)
            return rc;
        return JK_OK;
    }
    return s_fail(c, JK_ERR_INVAL, path, "unknown rule kind \"%s\" (all, any, training, "
                  "certificate, work, internship, graduated, education)", kind);
}

static jk_err_t s_load_eligibility(s_ctx_t *c, json_t *root)
{
    jk_standard_t *s = c->s;
    json_t *arr;
    jk_err_t rc;
    bool seen[JK_LEVEL_COUNT] = { false };
    if ((rc = s_member(c, root, "$", "eligibility", JSON_ARRAY, true, &arr)) != JK_OK)
        return rc;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char p[S_PATH_BYTES];
        s_path(p, "$.eligibility[%zu]", i);
        json_t *o = json_array_get(arr, i), *alts;
        const char *unused;
        int level;
        if (!json_is_object(o))
            return s_fail(c, JK_ERR_INVAL, p, "expected an object");
        if ((rc = s_int(c, o, p, "level", INT_MIN, INT_MAX, &level)) != JK_OK ||
            (rc = s_str_borrow(c, o, p, "heading", false, &unused)) != JK_OK ||
            (rc = s_member(c, o, p, "alternatives", JSON_ARRAY, true, &alts)) != JK_OK)
            return rc;
        int li = jk_level_index(level);
        if (li < 0)
            return s_fail(c, JK_ERR_INVAL, p, "level %d is not one of 5, 4, 3", level);
        if (seen[li])
            return s_fail(c, JK_ERR_DUP, p, "level %d appears twice", level);
        seen[li] = true;
        size_t n = json_array_size(alts);
        if (n == 0)
            return s_fail(c, JK_ERR_MISSING, p, "level %d has no alternatives", level);
        if (!(s->alts[li] = s_alloc(s, n * sizeof(jk_alternative_t))))
            return s_nomem(c, p);
        for (size_t j = 0; j < n; j++) {
            char pa[S_PATH_BYTES], pr[S_PATH_BYTES], want[48];
            s_path(pa, "%s.alternatives[%zu]", p, j);
            s_path(pr, "%s.rule", pa);
            json_t *ao = json_array_get(alts, j), *rule;
            jk_alternative_t *a = &s->alts[li][j];
            s_mark_t m;
            if (!json_is_object(ao))
                return s_fail(c, JK_ERR_INVAL, pa, "expected an object");
            if ((rc = s_str(c, ao, pa, "id", true, &a->id)) != JK_OK ||
                (rc = s_str(c, ao, pa, "text", true, &a->text)) != JK_OK ||
                (rc = s_mark(c, ao, pa, JK_MARK_SUSPECT, &m)) != JK_OK ||
                (rc = s_member(c, ao, pa, "rule", JSON_OBJECT, true, &rule)) != JK_OK)
                return rc;
            snprintf(want, sizeof want, "L%d-%zu", level, j + 1);
            if (strcmp(a->id, want) != 0)
                return s_fail(c, JK_ERR_INVAL, pa, "id must be \"%s\", found \"%s\"", want, a->id);
            a->marks = m.marks;
            a->note = m.note;
            if ((rc = s_rule(c, rule, pr, 0, &a->rule)) != JK_OK)
                return rc;
        }
        s->n_alts[li] = n;
    }
    for (int li = 0; li < JK_LEVEL_COUNT; li++)
        if (!seen[li])
            return s_fail(c, JK_ERR_MISSING, "$.eligibility", "level %d is missing",
                          jk_level_at(li));
    return JK_OK;
}

static int s_cmp_ref(const void *a, const void *b)
{
    const jk_requirement_t *const *x = a, *const *y = b;
    return strcmp((*x)->ref, (*y)->ref);
}

static jk_err_t s_index(s_ctx_t *c)
{
    jk_standard_t *s = c->s;
    if (!(s->by_ref = malloc((s->n_reqs ? s->n_reqs : 1) * sizeof *s->by_ref)))
        return s_nomem(c, "$");
    for (size_t i = 0; i < s->n_reqs; i++)
        s->by_ref[i] = &s->reqs[i];
    qsort(s->by_ref, s->n_reqs, sizeof *s->by_ref, s_cmp_ref);
    return JK_OK;
}

static jk_err_t s_load_root(s_ctx_t *c, json_t *root)
{
    jk_err_t rc;
    if (!json_is_object(root))
        return s_fail(c, JK_ERR_INVAL, "$", "expected an object, found %s", s_type_name(root));
    /* Order matters: areas before anything naming them, levels before the
     * training rules that must agree with their hours. */
    if ((rc = s_load_header(c, root)) != JK_OK || (rc = s_load_levels(c, root)) != JK_OK ||
        (rc = s_load_areas(c, root)) != JK_OK || (rc = s_load_basic(c, root)) != JK_OK ||
        (rc = s_load_work(c, root)) != JK_OK || (rc = s_load_weights(c, root)) != JK_OK ||
        (rc = s_load_exams(c, root)) != JK_OK || (rc = s_load_staffing(c, root)) != JK_OK ||
        (rc = s_load_eligibility(c, root)) != JK_OK || (rc = s_index(c)) != JK_OK)
        return rc;
    return JK_OK;
}

/* ---- loading ---- */

jk_standard_t *jk_standard_parse(const char *json, size_t len, const char *name,
                                 jk_error_t *err)
{
    if (!name)
        name = "<buffer>";
    if (!json) {
        jk_error_set(err, JK_ERR_INVAL, "%s: no input", name);
        return NULL;
    }
    if (len > JK_STANDARD_MAX_BYTES) {
        jk_error_set(err, JK_ERR_TOO_BIG, "%s: %zu bytes is more than the bound of %u bytes",
                     name, len, JK_STANDARD_MAX_BYTES);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        jk_error_set(err, JK_ERR_PARSE, "%s: line %d, column %d: %s", name, je.line, je.column,
                     je.text);
        return NULL;
    }
    jk_standard_t *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(root);
        jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    s_ctx_t c = { .s = s, .name = name, .err = err };
    jk_err_t rc = s_load_root(&c, root);
    json_decref(root);
    if (rc != JK_OK) {
        jk_standard_destroy(&s);
        return NULL;
    }
    jk_error_clear(err);
    return s;
}

jk_standard_t *jk_standard_load(const char *path, jk_error_t *err)
{
    if (!path) {
        jk_error_set(err, JK_ERR_INVAL, "jk_standard_load: no path");
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (jk_file_read(path, JK_STANDARD_MAX_BYTES, false, &buf, &len, err) != JK_OK)
        return NULL;
    jk_standard_t *s = jk_standard_parse((const char *)buf, len, path, err);
    free(buf);
    return s;
}

jk_standard_t *jk_standard_load_default(jk_error_t *err)
{
    const char *env = getenv("JK_STANDARD");
    if (env && *env)
        return jk_standard_load(env, err);
    return jk_standard_load(JK_DATA_DIR "/standard.json", err);
}

void jk_standard_destroy(jk_standard_t **sp)
{
    if (!sp || !*sp)
        return;
    jk_standard_t *s = *sp;
    free(s->by_ref);
    free(s->reqs);
    for (s_chunk_t *c = s->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(s);
    *sp = NULL;
}

/* ---- queries ---- */

const char *jk_standard_occupation_code(const jk_standard_t *s)
{
    return s ? s->occ_code : NULL;
}

const char *jk_standard_occupation_name(const jk_standard_t *s)
{
    return s ? s->occ_name : NULL;
}

const char *jk_standard_edition(const jk_standard_t *s)
{
    return s ? s->occ_edition : NULL;
}

const char *jk_standard_definition(const jk_standard_t *s)
{
    return s ? s->occ_definition : NULL;
}

const char *jk_standard_level_name(const jk_standard_t *s, int level)
{
    int li = jk_level_index(level);
    return s && li >= 0 ? s->level_names[li] : NULL;
}

int jk_standard_training_hours(const jk_standard_t *s, int level)
{
    int li = jk_level_index(level);
    return s && li >= 0 ? s->training_hours[li] : 0;
}

const jk_area_t *jk_standard_area(const jk_standard_t *s, int area)
{
    if (!s || area < 0 || area >= JK_AREA_COUNT)
        return NULL;
    return &s->areas[area];
}

int jk_standard_area_find(const jk_standard_t *s, const char *id)
{
    if (!s || !id)
        return -1;
    return s_area_find_id(s, id);
}

size_t jk_standard_exam_areas(const jk_standard_t *s, jk_exam_t exam, int *out, size_t max)
{
    if (!s || (int)exam < 0 || exam >= JK_EXAM__COUNT)
        return 0;
    size_t n = s->n_exam_areas[exam];
    for (size_t i = 0; out && i < n && i < max; i++)
        out[i] = s->exam_areas[exam][i];
    return n;
}

int jk_standard_weight(const jk_standard_t *s, jk_exam_t exam, int area, int level)
{
    int li = jk_level_index(level);
    if (!s || (int)exam < 0 || exam >= JK_EXAM__COUNT || area < 0 || area >= JK_AREA_COUNT ||
        li < 0)
        return 0;
    return s->weights[exam][area][li];
}

size_t jk_standard_requirement_count(const jk_standard_t *s)
{
    return s ? s->n_reqs : 0;
}

const jk_requirement_t *jk_standard_requirement(const jk_standard_t *s, size_t i)
{
    if (!s || i >= s->n_reqs)
        return NULL;
    return &s->reqs[i];
}

const jk_requirement_t *jk_standard_find(const jk_standard_t *s, const char *ref)
{
    if (!s || !ref)
        return NULL;
    jk_requirement_t key = { .ref = ref };
    const jk_requirement_t *kp = &key;
    const jk_requirement_t **hit =
        bsearch(&kp, s->by_ref, s->n_reqs, sizeof *s->by_ref, s_cmp_ref);
    return hit ? *hit : NULL;
}

size_t jk_standard_content_count(const jk_standard_t *s, int level)
{
    int li = jk_level_index(level);
    return s && li >= 0 ? s->n_contents[li] : 0;
}

const jk_content_t *jk_standard_content(const jk_standard_t *s, int level, size_t i)
{
    int li = jk_level_index(level);
    if (!s || li < 0 || i >= s->n_contents[li])
        return NULL;
    return &s->contents[li][i];
}

void jk_standard_counts(const jk_standard_t *s, int level, jk_level_counts_t *out)
{
    if (!out)
        return;
    int li = jk_level_index(level);
    if (!s || li < 0) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = s->counts[li];
}

const jk_exam_rule_t *jk_standard_exam_rule(const jk_standard_t *s, jk_exam_t exam)
{
    if (!s || (int)exam < 0 || exam >= JK_EXAM__COUNT)
        return NULL;
    return &s->exams[exam];
}

const jk_staffing_t *jk_standard_staffing(const jk_standard_t *s, jk_exam_t exam)
{
    if (!s || (int)exam < 0 || exam >= JK_EXAM__COUNT)
        return NULL;
    return &s->staffing[exam];
}

size_t jk_standard_alternative_count(const jk_standard_t *s, int level)
{
    int li = jk_level_index(level);
    return s && li >= 0 ? s->n_alts[li] : 0;
}

const jk_alternative_t *jk_standard_alternative(const jk_standard_t *s, int level, size_t i)
{
    int li = jk_level_index(level);
    if (!s || li < 0 || i >= s->n_alts[li])
        return NULL;
    return &s->alts[li][i];
}
