/*
 * jk_bank: loader, validator, writer and synthetic generator of item banks;
 * see jk_bank.h for the contract and docs/bank-format.md for the format.
 *
 * A document is parsed in two passes: first every item and task is parsed
 * and checked on its own into scratch arrays (strings go into the bank's
 * arena), reporting every problem; only if the document had no error are its
 * ids checked against the bank and the entries appended. So a broken file
 * adds nothing, and a check reports all its errors at once. Strict: unknown
 * fields are errors, because a misspelt optional field ("dificulty") would
 * otherwise vanish silently.
 */
#include "jk_bank.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jk_arena.h"
#include "jk_date.h"
#include "jk_file.h"
#include "jk_rand.h"
#include "jk_strmap.h"
#include "jk_text.h"

#define S_TASK_BIT ((size_t)1 << (sizeof(size_t) * 8 - 1))

struct jk_bank {
    const jk_standard_t *std;
    jk_arena_t *arena;
    jk_item_t *items;
    size_t n_items, cap_items;
    jk_task_t *tasks;
    size_t n_tasks, cap_tasks;
    jk_strmap_t *ids; /* id -> item index, or task index | S_TASK_BIT */
    bool synthetic;
};

static const char *const s_item_types[] = { "judge", "single", "multi" };
static const char *const s_item_labels[] = { "判断", "单选", "多选" };
static const char *const s_task_types[] = { "oral", "operation", "written" };
static const char *const s_field_kinds[] = { "exact", "text", "number", "date", "one_of" };

const char *jk_item_type_name(jk_item_type_t t)
{
    return t < JK_ITEM__COUNT ? s_item_types[t] : "?";
}
const char *jk_item_type_label(jk_item_type_t t)
{
    return t < JK_ITEM__COUNT ? s_item_labels[t] : "?";
}
int jk_item_type_parse(const char *s)
{
    for (int i = 0; s && i < JK_ITEM__COUNT; i++)
        if (strcmp(s, s_item_types[i]) == 0)
            return i;
    return -1;
}
const char *jk_task_type_name(jk_task_type_t t)
{
    return t < JK_TASK__COUNT ? s_task_types[t] : "?";
}
int jk_task_type_parse(const char *s)
{
    for (int i = 0; s && i < JK_TASK__COUNT; i++)
        if (strcmp(s, s_task_types[i]) == 0)
            return i;
    return -1;
}
const char *jk_field_kind_name(jk_field_kind_t k)
{
    return k <= JK_FIELD_ONE_OF ? s_field_kinds[k] : "?";
}

/* ---- lifecycle ---- */

jk_bank_t *jk_bank_new(const jk_standard_t *std)
{
    jk_bank_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->std = std;
    b->arena = jk_arena_new(256 * 1024);
    b->ids = jk_strmap_new(1024);
    if (!b->arena || !b->ids) {
        jk_bank_destroy(&b);
        return NULL;
    }
    return b;
}

void jk_bank_destroy(jk_bank_t **pb)
{
    if (!pb || !*pb)
        return;
    jk_bank_t *b = *pb;
    free(b->items);
    free(b->tasks);
    jk_strmap_destroy(&b->ids);
    jk_arena_destroy(&b->arena);
    free(b);
    *pb = NULL;
}

const jk_standard_t *jk_bank_standard(const jk_bank_t *b) { return b->std; }
size_t jk_bank_item_count(const jk_bank_t *b) { return b->n_items; }
const jk_item_t *jk_bank_item(const jk_bank_t *b, size_t i)
{
    return i < b->n_items ? &b->items[i] : NULL;
}
size_t jk_bank_task_count(const jk_bank_t *b) { return b->n_tasks; }
const jk_task_t *jk_bank_task(const jk_bank_t *b, size_t i)
{
    return i < b->n_tasks ? &b->tasks[i] : NULL;
}
bool jk_bank_is_synthetic(const jk_bank_t *b) { return b->synthetic; }

long jk_bank_find_item(const jk_bank_t *b, const char *id)
{
    size_t v;
    if (!jk_strmap_get(b->ids, id, &v) || (v & S_TASK_BIT))
        return -1;
    return (long)v;
}

long jk_bank_find_task(const jk_bank_t *b, const char *id)
{
    size_t v;
    if (!jk_strmap_get(b->ids, id, &v) || !(v & S_TASK_BIT))
        return -1;
    return (long)(v & ~S_TASK_BIT);
}

/* ---- parse context ---- */

typedef struct {
    jk_bank_t *b;
    const char *name;     /* file name for messages */
    jk_diag_t *diag;
    jk_error_t *err;      /* first error */
    size_t errors;
    char where[160];      /* "$.items[3] (T-X-5-001)" */
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

static void s_where(s_ctx_t *c, const char *kind, size_t i, const char *id)
{
    if (id && jk_id_valid(id, JK_ID_MAX))
        snprintf(c->where, sizeof c->where, "$.%s[%zu] (%s)", kind, i, id);
    else
        snprintf(c->where, sizeof c->where, "$.%s[%zu]", kind, i);
}

/* Checks that obj has only the listed keys. */
static void s_known_keys(s_ctx_t *c, json_t *obj, const char *const *keys, const char *prefix)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        (void)v;
        int ok = 0;
        for (int i = 0; keys[i]; i++)
            if (strcmp(k, keys[i]) == 0)
                ok = 1;
        if (!ok) {
            s_fail(c, JK_ERR_INVAL, "%sunknown field '%.64s'", prefix, k);
        }
    }
}

/* Copies a required string field into the arena; NULL (reported) when
 * missing, not a string, empty, too long or not valid UTF-8. */
static const char *s_str(s_ctx_t *c, json_t *obj, const char *field, size_t max,
                         bool required, const char *prefix)
{
    json_t *v = json_object_get(obj, field);
    if (!v) {
        if (required)
            s_fail(c, JK_ERR_MISSING, "%s%s: missing", prefix, field);
        return NULL;
    }
    if (!json_is_string(v)) {
        s_fail(c, JK_ERR_INVAL, "%s%s: expected a string", prefix, field);
        return NULL;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0) {
        s_fail(c, JK_ERR_INVAL, "%s%s: empty", prefix, field);
        return NULL;
    }
    if (n > max) {
        s_fail(c, JK_ERR_TOO_BIG, "%s%s: %zu bytes, more than %zu", prefix, field, n, max);
        return NULL;
    }
    if (!jk_utf8_valid(s, n)) {
        s_fail(c, JK_ERR_INVAL, "%s%s: not valid UTF-8 text", prefix, field);
        return NULL;
    }
    char *copy = jk_arena_strndup(c->b->arena, s, n);
    if (!copy)
        s_fail(c, JK_ERR_NOMEM, "%s%s: out of memory", prefix, field);
    return copy;
}

/* Points: a positive number, a multiple of 0.01, at most 100. */
static bool s_points(s_ctx_t *c, json_t *v, const char *what, int32_t *out)
{
    if (!v) {
        s_fail(c, JK_ERR_MISSING, "%s: missing", what);
        return false;
    }
    if (!json_is_number(v)) {
        s_fail(c, JK_ERR_INVAL, "%s: expected a number", what);
        return false;
    }
    double x = json_number_value(v);
    double centi = x * 100.0;
    double r = round(centi);
    if (!(x > 0) || x > 100) {
        s_fail(c, JK_ERR_RANGE, "%s: %g is not in (0, 100]", what, x);
        return false;
    }
    if (fabs(centi - r) > 1e-6) {
        s_fail(c, JK_ERR_RANGE, "%s: %g is not a multiple of 0.01", what, x);
        return false;
    }
    *out = (int32_t)r;
    return true;
}

static bool s_level(s_ctx_t *c, json_t *obj, int *out)
{
    json_t *v = json_object_get(obj, "level");
    if (!v) {
        s_fail(c, JK_ERR_MISSING, "level: missing");
        return false;
    }
    if (!json_is_integer(v) || !jk_level_valid((int)json_integer_value(v))) {
        s_fail(c, JK_ERR_RANGE, "level: expected 5, 4 or 3");
        return false;
    }
    *out = (int)json_integer_value(v);
    return true;
}

/* Resolves a ref for an entry of `level`; returns the requirement or NULL
 * (reported). */
static const jk_requirement_t *s_ref(s_ctx_t *c, const char *ref, int level, const char *field)
{
    if (!ref)
        return NULL;
    const jk_requirement_t *r = jk_standard_find(c->b->std, ref);
    if (!r) {
        s_fail(c, JK_ERR_NOTFOUND, "%s: '%s' is not a requirement of the standard", field, ref);
        return NULL;
    }
    /* Level numbers: 5 lowest, 3 highest. An entry serves its level and the
     * higher ones, so it may cite requirements of its level or lower ones
     * (numerically greater or equal). */
    if (r->level != 0 && r->level < level) {
        s_fail(c, JK_ERR_RANGE,
               "%s: '%s' is a level-%d requirement; a level-%d entry may cite only its own "
               "level or lower ones",
               field, ref, r->level, level);
        return NULL;
    }
    return r;
}

/* ---- items ---- */

static const char *const s_item_keys[] = { "id",     "type",  "level",      "ref",
                                           "stem",   "options", "key",      "points",
                                           "difficulty", "basis", "synthetic", NULL };

static bool s_parse_item(s_ctx_t *c, json_t *o, bool bank_synthetic, jk_item_t *it)
{
    size_t before = c->errors;
    memset(it, 0, sizeof *it);
    if (!json_is_object(o)) {
        s_fail(c, JK_ERR_INVAL, "expected an object");
        return false;
    }
    s_known_keys(c, o, s_item_keys, "");
    it->id = s_str(c, o, "id", JK_ID_MAX, true, "");
    if (it->id && !jk_id_valid(it->id, JK_ID_MAX))
        s_fail(c, JK_ERR_INVAL, "id: '%s' has characters outside [A-Za-z0-9._:-]", it->id);

    json_t *tv = json_object_get(o, "type");
    int type = json_is_string(tv) ? jk_item_type_parse(json_string_value(tv)) : -1;
    if (type < 0)
        s_fail(c, tv ? JK_ERR_INVAL : JK_ERR_MISSING,
               "type: expected \"judge\", \"single\" or \"multi\"");
    it->type = type < 0 ? JK_ITEM_SINGLE : (jk_item_type_t)type;

    s_level(c, o, &it->level);
    it->ref = s_str(c, o, "ref", 64, true, "");
    const jk_requirement_t *req = it->level ? s_ref(c, it->ref, it->level, "ref") : NULL;
    it->area = req ? req->area : -1;
    it->stem = s_str(c, o, "stem", JK_STEM_MAX, true, "");

    /* Options. */
    json_t *opts = json_object_get(o, "options");
    if (type == JK_ITEM_JUDGE) {
        if (opts)
            s_fail(c, JK_ERR_INVAL, "options: a judge item has no options");
    } else if (type >= 0) {
        size_t min = type == JK_ITEM_SINGLE ? 2 : 3;
        if (!json_is_array(opts)) {
            s_fail(c, opts ? JK_ERR_INVAL : JK_ERR_MISSING, "options: expected an array");
        } else if (json_array_size(opts) < min || json_array_size(opts) > JK_MAX_OPTIONS) {
            s_fail(c, JK_ERR_RANGE, "options: %zu options; a %s item has %zu to %d",
                   json_array_size(opts), s_item_types[type], min, JK_MAX_OPTIONS);
        } else {
            size_t i;
            json_t *ov;
            json_array_foreach(opts, i, ov) {
                char pre[48];
                snprintf(pre, sizeof pre, "options[%zu].", i);
                if (!json_is_object(ov)) {
                    s_fail(c, JK_ERR_INVAL, "options[%zu]: expected an object", i);
                    continue;
                }
                static const char *const okeys[] = { "id", "text", NULL };
                s_known_keys(c, ov, okeys, pre);
                const char *oid = s_str(c, ov, "id", 1, true, pre);
                if (oid && oid[0] != (char)('A' + i))
                    s_fail(c, JK_ERR_INVAL, "options[%zu].id: '%s', expected '%c' (ids run A, B, C... in order)",
                           i, oid, 'A' + (int)i);
                it->options[i].id = (char)('A' + i);
                it->options[i].text = s_str(c, ov, "text", JK_OPTION_TEXT_MAX, true, pre);
                for (size_t j = 0; j < i && it->options[i].text; j++)
                    if (it->options[j].text && strcmp(it->options[j].text, it->options[i].text) == 0)
                        s_fail(c, JK_ERR_DUP, "options[%zu].text: same as option %c", i, 'A' + (int)j);
            }
            it->n_options = (uint8_t)json_array_size(opts);
        }
    }

    /* Key. */
    json_t *kv = json_object_get(o, "key");
    if (!kv) {
        s_fail(c, JK_ERR_MISSING, "key: missing");
    } else if (type == JK_ITEM_JUDGE) {
        if (!json_is_boolean(kv))
            s_fail(c, JK_ERR_INVAL, "key: a judge item's key is true or false");
        else
            it->key = json_is_true(kv) ? 1u : 0u;
    } else if (type == JK_ITEM_SINGLE && it->n_options) {
        const char *k = json_is_string(kv) ? json_string_value(kv) : NULL;
        if (!k || strlen(k) != 1 || k[0] < 'A' || k[0] >= 'A' + it->n_options)
            s_fail(c, JK_ERR_INVAL, "key: expected one option id A..%c", 'A' + it->n_options - 1);
        else
            it->key = 1u << (k[0] - 'A');
    } else if (type == JK_ITEM_MULTI && it->n_options) {
        if (!json_is_array(kv)) {
            s_fail(c, JK_ERR_INVAL, "key: a multi item's key is an array of option ids");
        } else {
            size_t i;
            json_t *e;
            uint32_t mask = 0;
            bool ok = true;
            json_array_foreach(kv, i, e) {
                const char *k = json_is_string(e) ? json_string_value(e) : NULL;
                if (!k || strlen(k) != 1 || k[0] < 'A' || k[0] >= 'A' + it->n_options) {
                    s_fail(c, JK_ERR_INVAL, "key[%zu]: not an option id A..%c", i,
                           'A' + it->n_options - 1);
                    ok = false;
                } else if (mask & (1u << (k[0] - 'A'))) {
                    s_fail(c, JK_ERR_DUP, "key[%zu]: '%s' given twice", i, k);
                    ok = false;
                } else {
                    mask |= 1u << (k[0] - 'A');
                }
            }
            int bits = __builtin_popcount(mask);
            if (ok && bits < 2)
                s_fail(c, JK_ERR_INVAL, "key: a multi item has at least two correct options");
            else if (ok && bits == it->n_options)
                s_fail(c, JK_ERR_INVAL, "key: every option is correct; a multi item needs at least one wrong option");
            it->key = mask;
        }
    }

    s_points(c, json_object_get(o, "points"), "points", &it->points_centi);

    json_t *dv = json_object_get(o, "difficulty");
    it->difficulty = 0.5f;
    if (dv) {
        if (!json_is_number(dv) || json_number_value(dv) < 0 || json_number_value(dv) > 1)
            s_fail(c, JK_ERR_RANGE, "difficulty: expected a number from 0 to 1");
        else
            it->difficulty = (float)json_number_value(dv);
    }

    json_t *sv = json_object_get(o, "synthetic");
    if (sv && !json_is_boolean(sv))
        s_fail(c, JK_ERR_INVAL, "synthetic: expected true or false");
    it->synthetic = sv && json_is_true(sv);
    if (bank_synthetic && !it->synthetic)
        s_fail(c, JK_ERR_INVAL, "synthetic: the bank is synthetic, so every item must say \"synthetic\": true");
    it->basis = s_str(c, o, "basis", 1000, !it->synthetic, "");
    return c->errors == before;
}

/* ---- tasks ---- */

static bool s_parse_field(s_ctx_t *c, json_t *o, const char *pre, jk_field_t *f)
{
    size_t before = c->errors;
    static const char *const keys[] = { "name", "label", "points", "rule", NULL };
    static const char *const rkeys[] = { "kind", "value", "values", "tolerance", NULL };
    memset(f, 0, sizeof *f);
    if (!json_is_object(o)) {
        s_fail(c, JK_ERR_INVAL, "%s: expected an object", pre);
        return false;
    }
    char p[96];
    snprintf(p, sizeof p, "%s.", pre);
    s_known_keys(c, o, keys, p);
    f->name = s_str(c, o, "name", 64, true, p);
    f->label = s_str(c, o, "label", 200, true, p);
    char what[112];
    snprintf(what, sizeof what, "%spoints", p);
    s_points(c, json_object_get(o, "points"), what, &f->points_centi);
    json_t *r = json_object_get(o, "rule");
    if (!json_is_object(r)) {
        s_fail(c, r ? JK_ERR_INVAL : JK_ERR_MISSING, "%srule: expected an object", p);
        return false;
    }
    char rp[112];
    snprintf(rp, sizeof rp, "%srule.", p);
    s_known_keys(c, r, rkeys, rp);
    json_t *kv = json_object_get(r, "kind");
    int kind = -1;
    for (int i = 0; kv && json_is_string(kv) && i <= JK_FIELD_ONE_OF; i++)
        if (strcmp(json_string_value(kv), s_field_kinds[i]) == 0)
            kind = i;
    if (kind < 0) {
        s_fail(c, JK_ERR_INVAL, "%skind: expected exact, text, number, date or one_of", rp);
        return false;
    }
    f->kind = (jk_field_kind_t)kind;
    json_t *v = json_object_get(r, "value");
    switch (f->kind) {
    case JK_FIELD_EXACT:
    case JK_FIELD_TEXT:
        f->value = s_str(c, r, "value", 500, true, rp);
        break;
    case JK_FIELD_DATE:
        f->value = s_str(c, r, "value", 10, true, rp);
        if (f->value && !jk_date_parse_iso(f->value, &f->date))
            s_fail(c, JK_ERR_INVAL, "%svalue: '%s' is not a date YYYY-MM-DD", rp, f->value);
        break;
    case JK_FIELD_NUMBER: {
        json_t *t = json_object_get(r, "tolerance");
        if (!json_is_number(v))
            s_fail(c, v ? JK_ERR_INVAL : JK_ERR_MISSING, "%svalue: expected a number", rp);
        else
            f->number = json_number_value(v);
        if (t && (!json_is_number(t) || json_number_value(t) < 0))
            s_fail(c, JK_ERR_RANGE, "%stolerance: expected a number >= 0", rp);
        else if (t)
            f->tolerance = json_number_value(t);
        break;
    }
    case JK_FIELD_ONE_OF: {
        json_t *vs = json_object_get(r, "values");
        if (!json_is_array(vs) || json_array_size(vs) == 0 || json_array_size(vs) > JK_MAX_ONE_OF) {
            s_fail(c, JK_ERR_INVAL, "%svalues: expected an array of 1 to %d strings", rp, JK_MAX_ONE_OF);
            break;
        }
        size_t i;
        json_t *e;
        json_array_foreach(vs, i, e) {
            if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 500 ||
                !jk_utf8_valid(json_string_value(e), json_string_length(e))) {
                s_fail(c, JK_ERR_INVAL, "%svalues[%zu]: expected a non-empty string", rp, i);
                continue;
            }
            f->values[f->n_values++] = jk_arena_strdup(c->b->arena, json_string_value(e));
        }
        break;
    }
    }
    return c->errors == before;
}

static const char *const s_task_keys[] = { "id",      "type",  "level", "area",  "refs",
                                           "title",   "scenario", "minutes", "parts",
                                           "basis",   "synthetic", NULL };
static const char *const s_part_keys[] = { "id", "prompt", "points", "rubric", "form", "fields", NULL };

static void s_parse_part(s_ctx_t *c, json_t *o, size_t pi, jk_task_type_t type, jk_part_t *p)
{
    char pre[48];
    snprintf(pre, sizeof pre, "parts[%zu].", pi);
    memset(p, 0, sizeof *p);
    if (!json_is_object(o)) {
        s_fail(c, JK_ERR_INVAL, "parts[%zu]: expected an object", pi);
        return;
    }
    s_known_keys(c, o, s_part_keys, pre);
    p->id = s_str(c, o, "id", JK_ID_MAX, true, pre);
    p->prompt = s_str(c, o, "prompt", JK_SCENARIO_MAX, true, pre);
    int32_t sum = 0;
    if (type == JK_TASK_OPERATION) {
        if (json_object_get(o, "rubric"))
            s_fail(c, JK_ERR_INVAL, "%srubric: an operation part is scored by fields, not a rubric", pre);
        p->form = s_str(c, o, "form", 200, true, pre);
        json_t *fs = json_object_get(o, "fields");
        if (!json_is_array(fs) || json_array_size(fs) == 0 || json_array_size(fs) > JK_MAX_FIELDS) {
            s_fail(c, JK_ERR_INVAL, "%sfields: expected an array of 1 to %d fields", pre, JK_MAX_FIELDS);
            return;
        }
        p->n_fields = json_array_size(fs);
        p->fields = jk_arena_calloc(c->b->arena, p->n_fields, sizeof *p->fields);
        if (!p->fields) {
            s_fail(c, JK_ERR_NOMEM, "%sfields: out of memory", pre);
            p->n_fields = 0;
            return;
        }
        for (size_t i = 0; i < p->n_fields; i++) {
            char fp[80];
            snprintf(fp, sizeof fp, "%sfields[%zu]", pre, i);
            if (s_parse_field(c, json_array_get(fs, i), fp, &p->fields[i]))
                sum += p->fields[i].points_centi;
            for (size_t j = 0; j < i; j++)
                if (p->fields[i].name && p->fields[j].name &&
                    strcmp(p->fields[i].name, p->fields[j].name) == 0)
                    s_fail(c, JK_ERR_DUP, "%s.name: '%s' used twice in the part", fp, p->fields[i].name);
        }
    } else {
        if (json_object_get(o, "fields"))
            s_fail(c, JK_ERR_INVAL, "%sfields: an examiner-scored part has a rubric, not fields", pre);
        json_t *rs = json_object_get(o, "rubric");
        if (!json_is_array(rs) || json_array_size(rs) == 0 || json_array_size(rs) > JK_MAX_RUBRIC) {
            s_fail(c, JK_ERR_INVAL, "%srubric: expected an array of 1 to %d criteria", pre, JK_MAX_RUBRIC);
            return;
        }
        p->n_rubric = json_array_size(rs);
        p->rubric = jk_arena_calloc(c->b->arena, p->n_rubric, sizeof *p->rubric);
        if (!p->rubric) {
            s_fail(c, JK_ERR_NOMEM, "%srubric: out of memory", pre);
            p->n_rubric = 0;
            return;
        }
        for (size_t i = 0; i < p->n_rubric; i++) {
            json_t *r = json_array_get(rs, i);
            char rp[80];
            snprintf(rp, sizeof rp, "%srubric[%zu].", pre, i);
            if (!json_is_object(r)) {
                s_fail(c, JK_ERR_INVAL, "%s: expected an object", rp);
                continue;
            }
            static const char *const rkeys[] = { "criterion", "points", NULL };
            s_known_keys(c, r, rkeys, rp);
            p->rubric[i].criterion = s_str(c, r, "criterion", 1000, true, rp);
            char what[96];
            snprintf(what, sizeof what, "%spoints", rp);
            if (s_points(c, json_object_get(r, "points"), what, &p->rubric[i].points_centi))
                sum += p->rubric[i].points_centi;
        }
    }
    json_t *pv = json_object_get(o, "points");
    if (pv) {
        char what[64];
        snprintf(what, sizeof what, "%spoints", pre);
        int32_t given;
        if (s_points(c, pv, what, &given) && given != sum)
            s_fail(c, JK_ERR_INVAL, "%spoints: %.2f, but its %s add up to %.2f", pre, given / 100.0,
                   type == JK_TASK_OPERATION ? "fields" : "rubric", sum / 100.0);
    }
    p->points_centi = sum;
}

static bool s_parse_task(s_ctx_t *c, json_t *o, bool bank_synthetic, jk_task_t *t)
{
    size_t before = c->errors;
    memset(t, 0, sizeof *t);
    if (!json_is_object(o)) {
        s_fail(c, JK_ERR_INVAL, "expected an object");
        return false;
    }
    s_known_keys(c, o, s_task_keys, "");
    t->id = s_str(c, o, "id", JK_ID_MAX, true, "");
    if (t->id && !jk_id_valid(t->id, JK_ID_MAX))
        s_fail(c, JK_ERR_INVAL, "id: '%s' has characters outside [A-Za-z0-9._:-]", t->id);
    json_t *tv = json_object_get(o, "type");
    int type = json_is_string(tv) ? jk_task_type_parse(json_string_value(tv)) : -1;
    if (type < 0)
        s_fail(c, tv ? JK_ERR_INVAL : JK_ERR_MISSING,
               "type: expected \"oral\", \"operation\" or \"written\"");
    t->type = type < 0 ? JK_TASK_ORAL : (jk_task_type_t)type;
    s_level(c, o, &t->level);

    const char *area = s_str(c, o, "area", 32, true, "");
    t->area = area ? jk_standard_area_find(c->b->std, area) : -1;
    if (area && (t->area < 0 || jk_standard_area(c->b->std, t->area)->function == 0))
        s_fail(c, JK_ERR_NOTFOUND, "area: '%s' is not an area of the skills weight table", area);

    json_t *refs = json_object_get(o, "refs");
    if (!json_is_array(refs) || json_array_size(refs) == 0 || json_array_size(refs) > 16) {
        s_fail(c, refs ? JK_ERR_INVAL : JK_ERR_MISSING, "refs: expected an array of 1 to 16 refs");
    } else {
        t->n_refs = json_array_size(refs);
        t->refs = jk_arena_calloc(c->b->arena, t->n_refs, sizeof *t->refs);
        for (size_t i = 0; t->refs && i < t->n_refs; i++) {
            json_t *e = json_array_get(refs, i);
            char field[32];
            snprintf(field, sizeof field, "refs[%zu]", i);
            if (!json_is_string(e)) {
                s_fail(c, JK_ERR_INVAL, "%s: expected a string", field);
                continue;
            }
            t->refs[i] = jk_arena_strdup(c->b->arena, json_string_value(e));
            const jk_requirement_t *r = t->level ? s_ref(c, t->refs[i], t->level, field) : NULL;
            if (r && t->area >= 0 && r->area != t->area)
                s_fail(c, JK_ERR_INVAL, "%s: '%s' belongs to area '%s', not '%s'", field, t->refs[i],
                       jk_standard_area(c->b->std, r->area)->id, area);
        }
    }
    t->title = s_str(c, o, "title", 500, true, "");
    t->scenario = s_str(c, o, "scenario", JK_SCENARIO_MAX, true, "");
    json_t *mv = json_object_get(o, "minutes");
    if (!json_is_integer(mv) || json_integer_value(mv) < 1 || json_integer_value(mv) > 240)
        s_fail(c, mv ? JK_ERR_RANGE : JK_ERR_MISSING, "minutes: expected an integer from 1 to 240");
    else
        t->minutes = (int)json_integer_value(mv);

    json_t *parts = json_object_get(o, "parts");
    if (!json_is_array(parts) || json_array_size(parts) == 0 || json_array_size(parts) > JK_MAX_PARTS) {
        s_fail(c, parts ? JK_ERR_INVAL : JK_ERR_MISSING, "parts: expected an array of 1 to %d parts",
               JK_MAX_PARTS);
    } else if (type >= 0) {
        t->n_parts = json_array_size(parts);
        t->parts = jk_arena_calloc(c->b->arena, t->n_parts, sizeof *t->parts);
        for (size_t i = 0; t->parts && i < t->n_parts; i++) {
            s_parse_part(c, json_array_get(parts, i), i, t->type, &t->parts[i]);
            t->points_centi += t->parts[i].points_centi;
            for (size_t j = 0; j < i; j++)
                if (t->parts[i].id && t->parts[j].id && strcmp(t->parts[i].id, t->parts[j].id) == 0)
                    s_fail(c, JK_ERR_DUP, "parts[%zu].id: '%s' used twice in the task", i, t->parts[i].id);
        }
    }
    json_t *sv = json_object_get(o, "synthetic");
    if (sv && !json_is_boolean(sv))
        s_fail(c, JK_ERR_INVAL, "synthetic: expected true or false");
    t->synthetic = sv && json_is_true(sv);
    if (bank_synthetic && !t->synthetic)
        s_fail(c, JK_ERR_INVAL, "synthetic: the bank is synthetic, so every task must say \"synthetic\": true");
    t->basis = s_str(c, o, "basis", 1000, !t->synthetic, "");
    return c->errors == before;
}

/* ---- documents ---- */

static int s_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, nc * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static jk_err_t s_parse_doc(jk_bank_t *b, json_t *root, const char *name, jk_diag_t *diag,
                            jk_error_t *err)
{
    s_ctx_t c = { .b = b, .name = name, .diag = diag, .err = err, .errors = 0 };
    snprintf(c.where, sizeof c.where, "$");
    if (!json_is_object(root)) {
        s_fail(&c, JK_ERR_INVAL, "expected an object");
        return err ? err->code : JK_ERR_INVAL;
    }
    static const char *const top[] = { "format", "format_version", "bank", "items", "tasks", NULL };
    s_known_keys(&c, root, top, "");
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "jikao-bank") != 0)
        s_fail(&c, JK_ERR_VERSION, "format: expected \"jikao-bank\"");
    json_t *ver = json_object_get(root, "format_version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        s_fail(&c, JK_ERR_VERSION, "format_version: expected 1 (this program reads version 1 only)");
    json_t *hdr = json_object_get(root, "bank");
    bool synthetic = false;
    if (!json_is_object(hdr)) {
        s_fail(&c, hdr ? JK_ERR_INVAL : JK_ERR_MISSING, "bank: expected an object");
    } else {
        static const char *const hkeys[] = { "id", "title", "standard", "synthetic", NULL };
        snprintf(c.where, sizeof c.where, "$.bank");
        s_known_keys(&c, hdr, hkeys, "");
        s_str(&c, hdr, "id", JK_ID_MAX, true, "");
        s_str(&c, hdr, "title", 500, false, "");
        json_t *sv = json_object_get(hdr, "synthetic");
        if (sv && !json_is_boolean(sv))
            s_fail(&c, JK_ERR_INVAL, "synthetic: expected true or false");
        synthetic = sv && json_is_true(sv);
        const char *std = s_str(&c, hdr, "standard", 64, false, "");
        char want[96];
        snprintf(want, sizeof want, "%s/%s", jk_standard_occupation_code(b->std),
                 jk_standard_edition(b->std));
        if (std && strcmp(std, want) != 0)
            s_fail(&c, JK_ERR_VERSION, "standard: '%s', but the loaded standard is '%s'", std, want);
    }
    if (c.errors)
        return err ? err->code : JK_ERR_INVAL;

    json_t *items = json_object_get(root, "items");
    json_t *tasks = json_object_get(root, "tasks");
    size_t ni = 0, nt = 0;
    if (items && !json_is_array(items)) {
        snprintf(c.where, sizeof c.where, "$.items");
        s_fail(&c, JK_ERR_INVAL, "expected an array");
    } else if (items) {
        ni = json_array_size(items);
    }
    if (tasks && !json_is_array(tasks)) {
        snprintf(c.where, sizeof c.where, "$.tasks");
        s_fail(&c, JK_ERR_INVAL, "expected an array");
    } else if (tasks) {
        nt = json_array_size(tasks);
    }
    if (c.errors)
        return err ? err->code : JK_ERR_INVAL;

    jk_item_t *it = ni ? calloc(ni, sizeof *it) : NULL;
    jk_task_t *tk = nt ? calloc(nt, sizeof *tk) : NULL;
    jk_strmap_t *local = jk_strmap_new(ni + nt);
    if ((ni && !it) || (nt && !tk) || !local) {
        free(it);
        free(tk);
        jk_strmap_destroy(&local);
        return jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
    }
    for (size_t i = 0; i < ni; i++) {
        json_t *o = json_array_get(items, i);
        json_t *idv = json_is_object(o) ? json_object_get(o, "id") : NULL;
        s_where(&c, "items", i, json_is_string(idv) ? json_string_value(idv) : NULL);
        s_parse_item(&c, o, synthetic, &it[i]);
        size_t prev;
        if (it[i].id && jk_strmap_put(local, it[i].id, i, &prev) == 0)
            s_fail(&c, JK_ERR_DUP, "id: '%s' already used by $.items[%zu]", it[i].id, prev);
        else if (it[i].id && jk_strmap_get(b->ids, it[i].id, NULL))
            s_fail(&c, JK_ERR_DUP, "id: '%s' is already in the bank (another file)", it[i].id);
    }
    for (size_t i = 0; i < nt; i++) {
        json_t *o = json_array_get(tasks, i);
        json_t *idv = json_is_object(o) ? json_object_get(o, "id") : NULL;
        s_where(&c, "tasks", i, json_is_string(idv) ? json_string_value(idv) : NULL);
        s_parse_task(&c, o, synthetic, &tk[i]);
        size_t prev;
        if (tk[i].id && jk_strmap_put(local, tk[i].id, ni + i, &prev) == 0)
            s_fail(&c, JK_ERR_DUP, "id: '%s' already used in this file", tk[i].id);
        else if (tk[i].id && jk_strmap_get(b->ids, tk[i].id, NULL))
            s_fail(&c, JK_ERR_DUP, "id: '%s' is already in the bank (another file)", tk[i].id);
    }
    jk_strmap_destroy(&local);

    jk_err_t rc = JK_OK;
    if (c.errors) {
        rc = err ? err->code : JK_ERR_INVAL;
    } else if (s_grow((void **)&b->items, &b->cap_items, b->n_items + ni, sizeof *it) < 0 ||
               s_grow((void **)&b->tasks, &b->cap_tasks, b->n_tasks + nt, sizeof *tk) < 0) {
        rc = jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
    } else {
        for (size_t i = 0; i < ni && rc == JK_OK; i++) {
            b->items[b->n_items] = it[i];
            if (jk_strmap_put(b->ids, b->items[b->n_items].id, b->n_items, NULL) < 0)
                rc = jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
            else
                b->n_items++;
        }
        for (size_t i = 0; i < nt && rc == JK_OK; i++) {
            b->tasks[b->n_tasks] = tk[i];
            if (jk_strmap_put(b->ids, b->tasks[b->n_tasks].id, b->n_tasks | S_TASK_BIT, NULL) < 0)
                rc = jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
            else
                b->n_tasks++;
        }
        if (synthetic)
            b->synthetic = true;
    }
    free(it);
    free(tk);
    return rc;
}

jk_err_t jk_bank_parse(jk_bank_t *b, const char *json, size_t len, const char *name,
                       jk_diag_t *diag, jk_error_t *err)
{
    if (len > JK_BANK_FILE_MAX) {
        jk_diag_error(diag, JK_ERR_TOO_BIG, "%s: %zu bytes, more than the limit of %u", name, len,
                      JK_BANK_FILE_MAX);
        return jk_error_set(err, JK_ERR_TOO_BIG, "%s: %zu bytes, more than the limit of %u", name,
                            len, JK_BANK_FILE_MAX);
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        jk_diag_error(diag, JK_ERR_PARSE, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        return jk_error_set(err, JK_ERR_PARSE, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    }
    jk_err_t rc = s_parse_doc(b, root, name, diag, err);
    json_decref(root);
    return rc;
}

jk_err_t jk_bank_load_file(jk_bank_t *b, const char *path, jk_diag_t *diag, jk_error_t *err)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    jk_error_t fe;
    if (jk_file_read(path, JK_BANK_FILE_MAX, false, &buf, &n, &fe) != JK_OK) {
        jk_diag_error(diag, fe.code, "%s", fe.msg);
        return jk_error_set(err, fe.code, "%s", fe.msg);
    }
    jk_err_t rc = jk_bank_parse(b, (const char *)buf, n, path, diag, err);
    free(buf);
    return rc;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

jk_err_t jk_bank_load_path(jk_bank_t *b, const char *path, jk_diag_t *diag, jk_error_t *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        jk_diag_error(diag, JK_ERR_IO, "%s: %s", path, strerror(errno));
        return jk_error_set(err, JK_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return jk_bank_load_file(b, path, diag, err);
    DIR *d = opendir(path);
    if (!d)
        return jk_error_set(err, JK_ERR_IO, "%s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    jk_err_t rc = JK_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        if (s_grow((void **)&names, &cap, n + 1, sizeof *names) < 0 ||
            !(names[n] = malloc(strlen(path) + l + 2))) {
            rc = jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        sprintf(names[n++], "%s/%s", path, de->d_name);
    }
    closedir(d);
    if (rc == JK_OK && n == 0)
        rc = jk_error_set(err, JK_ERR_NOTFOUND, "%s: no *.json bank files in the directory", path);
    if (rc == JK_OK) {
        qsort(names, n, sizeof *names, s_cmp_str);
        /* Load every file even after an error, so a check reports them all. */
        jk_error_t first;
        jk_error_clear(&first);
        for (size_t i = 0; i < n; i++) {
            jk_error_t e;
            jk_err_t r = jk_bank_load_file(b, names[i], diag, &e);
            if (r != JK_OK && first.code == JK_OK)
                first = e;
        }
        if (first.code != JK_OK) {
            rc = first.code;
            if (err)
                *err = first;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- programmatic adds ---- */

jk_err_t jk_bank_add_item(jk_bank_t *b, const jk_item_t *src, const char *where, jk_diag_t *diag,
                          jk_error_t *err)
{
    /* Round-trip through the JSON validator so programmatic items obey the
     * very same rules as loaded ones. Cheap enough for importers and the
     * generator (a few microseconds per item). */
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(src->id ? src->id : ""));
    json_object_set_new(o, "type", json_string(jk_item_type_name(src->type)));
    json_object_set_new(o, "level", json_integer(src->level));
    if (src->ref)
        json_object_set_new(o, "ref", json_string(src->ref));
    if (src->stem)
        json_object_set_new(o, "stem", json_string(src->stem));
    if (src->type != JK_ITEM_JUDGE) {
        json_t *opts = json_array();
        for (int i = 0; i < src->n_options; i++) {
            char id[2] = { (char)('A' + i), 0 };
            json_array_append_new(opts, json_pack("{s:s,s:s}", "id", id, "text",
                                                  src->options[i].text ? src->options[i].text : ""));
        }
        json_object_set_new(o, "options", opts);
    }
    if (src->type == JK_ITEM_JUDGE) {
        json_object_set_new(o, "key", json_boolean(src->key & 1u));
    } else if (src->type == JK_ITEM_SINGLE) {
        char id[2] = { 'A', 0 };
        for (int i = 0; i < JK_MAX_OPTIONS; i++)
            if (src->key & (1u << i))
                id[0] = (char)('A' + i);
        json_object_set_new(o, "key", json_string(id));
    } else {
        json_t *k = json_array();
        for (int i = 0; i < JK_MAX_OPTIONS; i++) {
            char id[2] = { (char)('A' + i), 0 };
            if (src->key & (1u << i))
                json_array_append_new(k, json_string(id));
        }
        json_object_set_new(o, "key", k);
    }
    json_object_set_new(o, "points", json_real(src->points_centi / 100.0));
    json_object_set_new(o, "difficulty", json_real(src->difficulty));
    if (src->basis)
        json_object_set_new(o, "basis", json_string(src->basis));
    if (src->synthetic)
        json_object_set_new(o, "synthetic", json_true());

    json_t *doc = json_pack("{s:s,s:i,s:{s:s,s:b},s:[o]}", "format", "jikao-bank",
                            "format_version", 1, "bank", "id", "added", "synthetic",
                            src->synthetic, "items", o);
    char std[96];
    snprintf(std, sizeof std, "%s/%s", jk_standard_occupation_code(b->std),
             jk_standard_edition(b->std));
    json_object_set_new(json_object_get(doc, "bank"), "standard", json_string(std));
    jk_err_t rc = doc ? s_parse_doc(b, doc, where ? where : "item", diag, err)
                      : jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    json_decref(doc);
    return rc;
}

/* ---- counts ---- */

void jk_bank_counts(const jk_bank_t *b, int level, size_t out[JK_AREA_COUNT][JK_ITEM__COUNT])
{
    memset(out, 0, sizeof(size_t) * JK_AREA_COUNT * JK_ITEM__COUNT);
    for (size_t i = 0; i < b->n_items; i++) {
        const jk_item_t *it = &b->items[i];
        if (level && it->level < level)
            continue; /* a higher-level item does not serve a lower level */
        if (it->area >= 0 && it->area < JK_AREA_COUNT)
            out[it->area][it->type]++;
    }
}

/* ---- writing ---- */

static json_t *s_item_json(const jk_item_t *it)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "type", json_string(jk_item_type_name(it->type)));
    json_object_set_new(o, "level", json_integer(it->level));
    json_object_set_new(o, "ref", json_string(it->ref));
    json_object_set_new(o, "stem", json_string(it->stem));
    if (it->type != JK_ITEM_JUDGE) {
        json_t *opts = json_array();
        for (int i = 0; i < it->n_options; i++) {
            char id[2] = { it->options[i].id, 0 };
            json_array_append_new(opts, json_pack("{s:s,s:s}", "id", id, "text", it->options[i].text));
        }
        json_object_set_new(o, "options", opts);
    }
    if (it->type == JK_ITEM_JUDGE) {
        json_object_set_new(o, "key", json_boolean(it->key & 1u));
    } else {
        json_t *k = json_array();
        for (int i = 0; i < it->n_options; i++) {
            char id[2] = { (char)('A' + i), 0 };
            if (it->key & (1u << i))
                json_array_append_new(k, json_string(id));
        }
        if (it->type == JK_ITEM_SINGLE) {
            json_object_set(o, "key", json_array_get(k, 0));
            json_decref(k);
        } else {
            json_object_set_new(o, "key", k);
        }
    }
    if (it->points_centi % 100 == 0)
        json_object_set_new(o, "points", json_integer(it->points_centi / 100));
    else
        json_object_set_new(o, "points", json_real(it->points_centi / 100.0));
    json_object_set_new(o, "difficulty", json_real(round(it->difficulty * 1000.0) / 1000.0));
    if (it->basis)
        json_object_set_new(o, "basis", json_string(it->basis));
    if (it->synthetic)
        json_object_set_new(o, "synthetic", json_true());
    return o;
}

static json_t *s_points_json(int32_t centi)
{
    return centi % 100 == 0 ? json_integer(centi / 100) : json_real(centi / 100.0);
}

static json_t *s_task_json(const jk_standard_t *std, const jk_task_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(t->id));
    json_object_set_new(o, "type", json_string(jk_task_type_name(t->type)));
    json_object_set_new(o, "level", json_integer(t->level));
    json_object_set_new(o, "area", json_string(jk_standard_area(std, t->area)->id));
    json_t *refs = json_array();
    for (size_t i = 0; i < t->n_refs; i++)
        json_array_append_new(refs, json_string(t->refs[i]));
    json_object_set_new(o, "refs", refs);
    json_object_set_new(o, "title", json_string(t->title));
    json_object_set_new(o, "scenario", json_string(t->scenario));
    json_object_set_new(o, "minutes", json_integer(t->minutes));
    json_t *parts = json_array();
    for (size_t i = 0; i < t->n_parts; i++) {
        const jk_part_t *p = &t->parts[i];
        json_t *po = json_pack("{s:s,s:s}", "id", p->id, "prompt", p->prompt);
        json_object_set_new(po, "points", s_points_json(p->points_centi));
        if (t->type == JK_TASK_OPERATION) {
            json_object_set_new(po, "form", json_string(p->form));
            json_t *fs = json_array();
            for (size_t j = 0; j < p->n_fields; j++) {
                const jk_field_t *f = &p->fields[j];
                json_t *rule = json_pack("{s:s}", "kind", jk_field_kind_name(f->kind));
                if (f->kind == JK_FIELD_NUMBER) {
                    json_object_set_new(rule, "value", json_real(f->number));
                    json_object_set_new(rule, "tolerance", json_real(f->tolerance));
                } else if (f->kind == JK_FIELD_ONE_OF) {
                    json_t *vs = json_array();
                    for (size_t k = 0; k < f->n_values; k++)
                        json_array_append_new(vs, json_string(f->values[k]));
                    json_object_set_new(rule, "values", vs);
                } else {
                    json_object_set_new(rule, "value", json_string(f->value));
                }
                json_t *fo = json_pack("{s:s,s:s}", "name", f->name, "label", f->label);
                json_object_set_new(fo, "points", s_points_json(f->points_centi));
                json_object_set_new(fo, "rule", rule);
                json_array_append_new(fs, fo);
            }
            json_object_set_new(po, "fields", fs);
        } else {
            json_t *rs = json_array();
            for (size_t j = 0; j < p->n_rubric; j++) {
                json_t *ro = json_pack("{s:s}", "criterion", p->rubric[j].criterion);
                json_object_set_new(ro, "points", s_points_json(p->rubric[j].points_centi));
                json_array_append_new(rs, ro);
            }
            json_object_set_new(po, "rubric", rs);
        }
        json_array_append_new(parts, po);
    }
    json_object_set_new(o, "parts", parts);
    if (t->basis)
        json_object_set_new(o, "basis", json_string(t->basis));
    if (t->synthetic)
        json_object_set_new(o, "synthetic", json_true());
    return o;
}

jk_err_t jk_bank_write_json(const jk_bank_t *b, const char *id, const char *title, FILE *out,
                            jk_error_t *err)
{
    char std[96];
    snprintf(std, sizeof std, "%s/%s", jk_standard_occupation_code(b->std),
             jk_standard_edition(b->std));
    json_t *doc = json_pack("{s:s,s:i,s:{s:s,s:s,s:s,s:b}}", "format", "jikao-bank",
                            "format_version", 1, "bank", "id", id, "title", title ? title : id,
                            "standard", std, "synthetic", b->synthetic);
    if (!doc)
        return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    json_t *items = json_array();
    for (size_t i = 0; i < b->n_items; i++)
        json_array_append_new(items, s_item_json(&b->items[i]));
    json_object_set_new(doc, "items", items);
    if (b->n_tasks) {
        json_t *tasks = json_array();
        for (size_t i = 0; i < b->n_tasks; i++)
            json_array_append_new(tasks, s_task_json(b->std, &b->tasks[i]));
        json_object_set_new(doc, "tasks", tasks);
    }
    int r = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(doc);
    if (r != 0 || fflush(out) != 0)
        return jk_error_set(err, JK_ERR_IO, "writing the bank failed");
    fputc('\n', out);
    return JK_OK;
}

/* ---- synthetic generator ---- */

jk_err_t jk_bank_generate(jk_bank_t *b, size_t n_items, uint64_t seed, jk_error_t *err)
{
    const jk_standard_t *std = b->std;
    /* Refs usable per (level index, area): basic refs for the two basic
     * areas, the level's knowledge (or skills, where a cell is a gap)
     * requirements for the function areas. */
    size_t nreq = jk_standard_requirement_count(std);
    const char **refs[JK_LEVEL_COUNT][JK_AREA_COUNT];
    size_t nrefs[JK_LEVEL_COUNT][JK_AREA_COUNT];
    memset(nrefs, 0, sizeof nrefs);
    const char **pool = calloc(nreq * JK_LEVEL_COUNT + 1, sizeof *pool);
    if (!pool)
        return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    size_t used = 0;
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        for (int a = 0; a < JK_AREA_COUNT; a++) {
            refs[li][a] = pool + used;
            for (size_t r = 0; r < nreq; r++) {
                const jk_requirement_t *q = jk_standard_requirement(std, r);
                if (q->area != a)
                    continue;
                bool ok = q->kind == JK_REQ_BASIC || (q->level == lv && q->kind == JK_REQ_KNOWLEDGE);
                if (ok)
                    pool[used++] = q->ref, nrefs[li][a]++;
            }
        }
    }

    /* Spread: level 5 half of the bank, 4 and 3 a quarter each; areas by the
     * theory weights of that level; types by the default paper's counts
     * (20 judge : 60 single : 10 multi). */
    static const int level_share[JK_LEVEL_COUNT] = { 50, 25, 25 };
    static const int type_share[JK_ITEM__COUNT] = { 20, 60, 10 };
    jk_rand_t rng;
    jk_rand_seed(&rng, seed);
    jk_err_t rc = JK_OK;
    size_t base = b->n_items;
    b->synthetic = true;
    for (size_t n = 0; n < n_items && rc == JK_OK; n++) {
        int li = 0, a = 0, t = 0;
        int x = (int)jk_rand_below(&rng, 100);
        while (x >= level_share[li])
            x -= level_share[li++];
        int lv = jk_level_at(li);
        x = (int)jk_rand_below(&rng, 100);
        int areas[JK_AREA_COUNT];
        size_t na = jk_standard_exam_areas(std, JK_EXAM_THEORY, areas, JK_AREA_COUNT);
        for (size_t k = 0; k < na; k++) {
            int w = jk_standard_weight(std, JK_EXAM_THEORY, areas[k], lv);
            if (x < w) {
                a = areas[k];
                break;
            }
            x -= w;
        }
        x = (int)jk_rand_below(&rng, 90);
        while (x >= type_share[t])
            x -= type_share[t++];
        if (nrefs[li][a] == 0)
            continue;
        jk_item_t it;
        memset(&it, 0, sizeof it);
        char id[32], stem[160], texts[JK_MAX_OPTIONS][48];
        snprintf(id, sizeof id, "SYN-%07zu", base + n + 1);
        snprintf(stem, sizeof stem, "【合成】第%zu题（%s，%s，%d级）：以下说法（　）。", base + n + 1,
                 jk_standard_area(std, a)->name, jk_item_type_label((jk_item_type_t)t), lv);
        it.id = id;
        it.type = (jk_item_type_t)t;
        it.level = lv;
        it.ref = refs[li][a][jk_rand_below(&rng, nrefs[li][a])];
        it.stem = stem;
        it.points_centi = t == JK_ITEM_MULTI ? 200 : 100;
        it.difficulty = (float)(0.2 + 0.6 * jk_rand_double(&rng));
        it.synthetic = true;
        it.basis = "合成题，仅供负载测试";
        if (t == JK_ITEM_JUDGE) {
            it.key = (uint32_t)jk_rand_below(&rng, 2);
        } else {
            it.n_options = t == JK_ITEM_SINGLE ? 4 : (uint8_t)(4 + jk_rand_below(&rng, 2));
            for (int o = 0; o < it.n_options; o++) {
                snprintf(texts[o], sizeof texts[o], "合成选项%c（%zu）", 'A' + o, base + n + 1);
                it.options[o].id = (char)('A' + o);
                it.options[o].text = texts[o];
            }
            if (t == JK_ITEM_SINGLE) {
                it.key = 1u << jk_rand_below(&rng, 4);
            } else {
                do
                    it.key = (uint32_t)jk_rand_below(&rng, 1u << it.n_options);
                while (__builtin_popcount(it.key) < 2 || __builtin_popcount(it.key) == it.n_options);
            }
        }
        rc = jk_bank_add_item(b, &it, "generator", NULL, err);
    }
    free(pool);
    return rc;
}
