/*
 * jk_bank: the item bank in memory — theory items (判断, 单选, 多选) and
 * skills tasks (现场问答, 模拟操作, 笔答) — loaded from the JSON format of
 * docs/bank-format.md, validated against the standard, and indexed for paper
 * assembly.
 *
 * Invariants of a loaded bank (every violation is reported through the
 * jk_diag_t with file, JSON path and item id, and the load fails):
 *  - ids unique across the whole bank (all files);
 *  - every ref exists in the standard, fixes the item's area, and is of the
 *    item's level or a lower one (高级别涵盖低级别: a 五级 item serves 四级
 *    and 三级; a 三级 ref can't be used by a 五级 item);
 *  - keys valid for the type, option ids A.. in order, option texts distinct;
 *  - points positive; a part's points equal its rubric's or fields' sum.
 *
 * Storage: items and tasks live in arrays owned by the bank; all strings in
 * one arena freed with the bank. Item pointers stay valid until the bank is
 * destroyed, but adding items may move the arrays: take pointers after the
 * bank is complete.
 *
 * Points are integers in hundredths of a point (`_centi`) everywhere.
 */
#ifndef JK_BANK_H
#define JK_BANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jk_diag.h"
#include "jk_err.h"
#include "jk_standard.h"

#define JK_MAX_OPTIONS 8            /* A..H; the sample bank uses up to 5 */
#define JK_ID_MAX 48                /* bytes of an item or task id */
#define JK_BANK_FILE_MAX (16u << 20) /* bound on one bank file */
#define JK_STEM_MAX 2000
#define JK_OPTION_TEXT_MAX 500
#define JK_SCENARIO_MAX 4000
#define JK_MAX_PARTS 10
#define JK_MAX_RUBRIC 20
#define JK_MAX_FIELDS 40
#define JK_MAX_ONE_OF 16

typedef enum {
    JK_ITEM_JUDGE = 0,  /* 判断 */
    JK_ITEM_SINGLE = 1, /* 单选 */
    JK_ITEM_MULTI = 2,  /* 多选 */
    JK_ITEM__COUNT
} jk_item_type_t;

typedef enum {
    JK_TASK_ORAL = 0,      /* 现场问答, examiner-scored */
    JK_TASK_OPERATION = 1, /* 模拟操作, machine-scored per field */
    JK_TASK_WRITTEN = 2,   /* 笔答, examiner-scored */
    JK_TASK__COUNT
} jk_task_type_t;

const char *jk_item_type_name(jk_item_type_t t); /* "judge", "single", "multi" */
const char *jk_item_type_label(jk_item_type_t t); /* "判断", "单选", "多选" */
int jk_item_type_parse(const char *s);           /* -1 if unknown */
const char *jk_task_type_name(jk_task_type_t t); /* "oral", "operation", "written" */
int jk_task_type_parse(const char *s);

typedef struct {
    char id;             /* 'A'.. */
    const char *text;
} jk_option_t;

typedef struct {
    const char *id;
    jk_item_type_t type;
    int level;           /* lowest level served: 5, 4 or 3 */
    const char *ref;     /* requirement reference in the standard */
    int area;            /* area index, fixed by ref */
    const char *stem;
    uint8_t n_options;   /* 0 for judge */
    jk_option_t options[JK_MAX_OPTIONS];
    uint32_t key;        /* bit i = option i is correct; judge: 1 = true, 0 = false */
    int32_t points_centi;
    float difficulty;    /* 0 easy .. 1 hard; 0.5 when not given */
    const char *basis;
    bool synthetic;
} jk_item_t;

typedef enum {
    JK_FIELD_EXACT = 0,
    JK_FIELD_TEXT,
    JK_FIELD_NUMBER,
    JK_FIELD_DATE,
    JK_FIELD_ONE_OF,
} jk_field_kind_t;

const char *jk_field_kind_name(jk_field_kind_t k);

typedef struct {
    const char *name;
    const char *label;
    int32_t points_centi;
    jk_field_kind_t kind;
    const char *value;       /* EXACT, TEXT, DATE (ISO): the expected text */
    double number;           /* NUMBER */
    double tolerance;        /* NUMBER: absolute, >= 0 */
    int32_t date;            /* DATE: jk_date_t of value */
    size_t n_values;         /* ONE_OF */
    const char *values[JK_MAX_ONE_OF];
} jk_field_t;

typedef struct {
    const char *criterion;
    int32_t points_centi;
} jk_rubric_t;

typedef struct {
    const char *id;
    const char *prompt;
    int32_t points_centi;
    size_t n_rubric;         /* ORAL, WRITTEN */
    jk_rubric_t *rubric;
    const char *form;        /* OPERATION: form title */
    size_t n_fields;         /* OPERATION */
    jk_field_t *fields;
} jk_part_t;

typedef struct {
    const char *id;
    jk_task_type_t type;
    int level;
    int area;
    size_t n_refs;
    const char **refs;
    const char *title;
    const char *scenario;
    int minutes;
    size_t n_parts;
    jk_part_t *parts;
    int32_t points_centi;    /* sum of parts */
    const char *basis;
    bool synthetic;
} jk_task_t;

typedef struct jk_bank jk_bank_t;

/* A new empty bank checked against std (borrowed; must outlive the bank). */
jk_bank_t *jk_bank_new(const jk_standard_t *std);
void jk_bank_destroy(jk_bank_t **b);

/* Parses one bank document and adds its items and tasks. Every problem is
 * reported to diag (may be NULL) as "<name>: <JSON path> (<id>): <what>";
 * *err gets the first. On any error nothing of this document is added.
 * Cross-file checks (unique ids) run as items are added. */
jk_err_t jk_bank_parse(jk_bank_t *b, const char *json, size_t len, const char *name,
                       jk_diag_t *diag, jk_error_t *err);
/* Reads a file (bounded by JK_BANK_FILE_MAX) and parses it. */
jk_err_t jk_bank_load_file(jk_bank_t *b, const char *path, jk_diag_t *diag, jk_error_t *err);
/* Loads a file, or every *.json of a directory in name order. */
jk_err_t jk_bank_load_path(jk_bank_t *b, const char *path, jk_diag_t *diag, jk_error_t *err);

/* Adds one item (copied, strings included) after validating it as the
 * loader would; `where` prefixes messages. For importers and generators. */
jk_err_t jk_bank_add_item(jk_bank_t *b, const jk_item_t *it, const char *where,
                          jk_diag_t *diag, jk_error_t *err);

const jk_standard_t *jk_bank_standard(const jk_bank_t *b);
size_t jk_bank_item_count(const jk_bank_t *b);
const jk_item_t *jk_bank_item(const jk_bank_t *b, size_t i);
/* Index of the item with that id, or -1. */
long jk_bank_find_item(const jk_bank_t *b, const char *id);
size_t jk_bank_task_count(const jk_bank_t *b);
const jk_task_t *jk_bank_task(const jk_bank_t *b, size_t i);
long jk_bank_find_task(const jk_bank_t *b, const char *id);
/* True when any item or task is synthetic. */
bool jk_bank_is_synthetic(const jk_bank_t *b);

/* Counts of items usable at `level` (its own and lower levels), per area
 * and type: out[area][type]. level 0 counts every item by its own level
 * regardless. */
void jk_bank_counts(const jk_bank_t *b, int level,
                    size_t out[JK_AREA_COUNT][JK_ITEM__COUNT]);

/* Writes the bank as one JSON document in the format above (items and
 * tasks), with `id`/`title` in its header. */
jk_err_t jk_bank_write_json(const jk_bank_t *b, const char *id, const char *title, FILE *out,
                            jk_error_t *err);

/* Generates a synthetic bank for load tests: n_items theory items spread over
 * every level × area × type in proportion to the weight tables, refs drawn
 * from the standard, deterministic from seed, every item marked synthetic
 * ("【合成】" in the stem and "synthetic": true). Adds them to b. */
jk_err_t jk_bank_generate(jk_bank_t *b, size_t n_items, uint64_t seed, jk_error_t *err);

#endif
