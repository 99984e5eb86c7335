/*
 * jk_standard: the national occupational skill standard for 劳动保障协理员
 * (3-01-04-03, 2022) as data: loaded from data/standard.json, validated, and
 * offered read-only to the rest of the system.
 *
 * What it holds: the occupation; the three levels (numbered as the standard
 * numbers them: 5 = 五级/初级工, 4 = 四级/中级工, 3 = 三级/高级工); the
 * 基本要求 tree; per level the five 职业功能 with every 工作内容, 技能要求 and
 * 相关知识要求; both weight tables; the exam rules; the staffing ratios; the
 * training hours; and the eligibility conditions of 1.9.1 as rule trees.
 *
 * Invariants after a successful load (the validator enforces them, and every
 * error names the file, the JSON path and what is wrong):
 *  - exactly the levels 5, 4, 3; every area present at every level;
 *  - each weight table sums to 100 per level and names exactly the areas the
 *    tree has (theory: the two 基本要求 areas + the five functions; skills:
 *    the five functions);
 *  - every requirement has a unique reference (see below);
 *  - printed misprints and gaps are kept as printed and marked, never
 *    silently "fixed": a code that does not match its position must carry a
 *    misprint mark giving the position's code, an empty cell must carry a
 *    gap mark.
 *
 * References. Every requirement has a stable reference string, used by item
 * banks to say what an item assesses:
 *   "2.2.9(3)"     a numbered item of 基本要求 (codes are unique there);
 *   "2.1.1"        a 基本要求 section that has no numbered items;
 *   "L4.K.3.1.2"   level 4, 相关知识要求 (K) or 技能要求 (S), position code.
 * The position code is the printed code except where the printed code is a
 * misprint; then it is the code its position in the table implies.
 *
 * Not here: anything about items, papers or candidates (see jk_bank,
 * jk_blueprint, jk_eligibility); no I/O beyond reading the one file.
 */
#ifndef JK_STANDARD_H
#define JK_STANDARD_H

#include <stdbool.h>
#include <stddef.h>

#include "jk_err.h"

#define JK_LEVEL_COUNT 3   /* levels 5, 4, 3 */
#define JK_AREA_COUNT 7    /* 2 basic + 5 functions */
#define JK_FUNCTION_COUNT 5
#define JK_STANDARD_MAX_BYTES (4u * 1024u * 1024u) /* bound on the file */

typedef struct jk_standard jk_standard_t;

typedef enum { JK_EXAM_THEORY = 0, JK_EXAM_SKILLS = 1, JK_EXAM__COUNT } jk_exam_t;

/* "theory" / "skills"; NULL for an unknown value. */
const char *jk_exam_name(jk_exam_t exam);
/* Parses "theory" / "skills"; returns -1 if neither. */
int jk_exam_parse(const char *s);

/* Level numbers are 5, 4, 3. Index 0, 1, 2 in that order. */
bool jk_level_valid(int level);
int jk_level_index(int level); /* -1 if invalid */
int jk_level_at(int index);    /* 0 if index out of range */

typedef enum {
    JK_REQ_BASIC = 0,     /* 基本要求 (2.1, 2.2) */
    JK_REQ_SKILL = 1,     /* 技能要求 */
    JK_REQ_KNOWLEDGE = 2, /* 相关知识要求 */
} jk_req_kind_t;

/* Marks on printed text (bit set). */
enum {
    JK_MARK_MISPRINT = 1u << 0, /* printed code differs from its position */
    JK_MARK_GAP = 1u << 1,      /* printed cell is empty */
    JK_MARK_SUSPECT = 1u << 2,  /* printed text looks wrong; kept as is */
};

typedef struct {
    const char *id;    /* "ethics", "basics", "info", ... stable, ASCII */
    const char *name;  /* as printed, e.g. "基层平台信息管理" */
    int function;      /* 1..5 for a 职业功能, 0 for 基本要求 areas */
    const char *code;  /* "2.1", "2.2" for basic areas; "1".."5" else */
} jk_area_t;

typedef struct {
    const char *ref;          /* unique reference, see above */
    const char *code;         /* code as printed, e.g. "3.2.2" */
    const char *text;         /* text as printed */
    jk_req_kind_t kind;
    int level;                /* 5, 4, 3; 0 for JK_REQ_BASIC */
    int area;                 /* index into the area table */
    const char *content_code; /* 工作内容 code ("3.1") or basic section ("2.2.9") */
    const char *content_name; /* 工作内容 name or basic section name */
    unsigned marks;           /* JK_MARK_* */
    const char *note;         /* the mark's note, or NULL */
    const char *position_code; /* code its position implies; equals code
                                  unless marked JK_MARK_MISPRINT */
    const char *footnote;     /* text of a footnote printed on it, or NULL */
} jk_requirement_t;

typedef struct {
    const char *code;         /* "3.1" */
    const char *name;         /* "养老保险服务" */
    int level;
    int area;                 /* area index */
    size_t n_skills;
    size_t n_knowledge;
    unsigned marks;           /* JK_MARK_GAP when a cell is printed empty */
    const char *note;
} jk_content_t;

typedef struct {
    size_t functions;   /* 职业功能 at this level */
    size_t contents;    /* 工作内容 */
    size_t skills;      /* 技能要求 */
    size_t knowledge;   /* 相关知识要求 */
} jk_level_counts_t;

typedef struct {
    const char *name;      /* "理论知识考试" */
    int min_minutes;       /* 90: a plan with less is refused */
    int full_marks;        /* 100 */
    int pass_mark;         /* 60, inclusive ("60 分（含）以上") */
} jk_exam_rule_t;

typedef struct {
    const char *role;            /* "proctor" / "examiner" */
    const char *name;            /* "监考人员" / "考评人员" */
    int candidates_per_staff;    /* 15 */
    int min_per_room;            /* 2 / 3 */
    bool odd;                    /* examiners: an odd number */
} jk_staffing_t;

/* ---- eligibility rules (1.9.1) ---- */

typedef enum {
    JK_RULE_ALL = 0,      /* every child holds */
    JK_RULE_ANY,          /* at least one child holds */
    JK_RULE_TRAINING,     /* preparatory training for `level`, >= min_hours,
                             with a completion certificate if certificate */
    JK_RULE_CERTIFICATE,  /* holds this occupation's certificate at `level` */
    JK_RULE_WORK,         /* a continuous period of work >= min_months in
                             this occupation (or a related one), counted from
                             `since` when given */
    JK_RULE_INTERNSHIP,   /* now in the graduation-year internship/见习 of an
                             institution of the given kinds or education */
    JK_RULE_GRADUATED,    /* graduated from an institution of the given kinds */
    JK_RULE_EDUCATION,    /* holds at least min_education */
} jk_rule_kind_t;

typedef enum { JK_OCC_THIS = 0, JK_OCC_RELATED = 1 } jk_occupation_scope_t;
typedef enum { JK_SINCE_NONE = 0, JK_SINCE_CERTIFICATE, JK_SINCE_GRADUATION } jk_since_t;

/* Institution kinds (bit set). */
enum {
    JK_INST_TECHNICAL_SCHOOL = 1u << 0,  /* 技工院校 */
    JK_INST_VOCATIONAL_SCHOOL = 1u << 1, /* 职业院校 */
    JK_INST_TECHNICIAN_CLASS = 1u << 2,  /* 技工院校技师班 */
    JK_INST_COLLEGE = 1u << 3,           /* 大专及以上院校 */
};

/* Education, ordered. */
typedef enum {
    JK_EDU_NONE = 0,
    JK_EDU_HIGH_SCHOOL, /* 高中 (或同等学力) */
    JK_EDU_ASSOCIATE,   /* 大学专科 */
    JK_EDU_BACHELOR,    /* 大学本科 */
    JK_EDU_MASTER,
    JK_EDU_DOCTOR,
} jk_education_t;

const char *jk_education_name(jk_education_t e); /* "associate", ... */
int jk_education_parse(const char *s);            /* -1 if unknown */
const char *jk_institution_name(unsigned one_bit);
unsigned jk_institution_parse(const char *s);     /* 0 if unknown */

typedef struct jk_rule {
    jk_rule_kind_t kind;
    const struct jk_rule *children; /* ALL / ANY */
    size_t n_children;
    int level;                      /* TRAINING, CERTIFICATE */
    int min_hours;                  /* TRAINING */
    bool certificate;               /* TRAINING: completion certificate */
    int min_months;                 /* WORK */
    jk_occupation_scope_t occupation; /* WORK */
    jk_since_t since;               /* WORK */
    int since_level;                /* WORK with JK_SINCE_CERTIFICATE */
    unsigned institutions;          /* INTERNSHIP, GRADUATED: JK_INST_* */
    jk_education_t min_education;   /* INTERNSHIP (alternative to kinds), EDUCATION */
    bool equivalent_ok;             /* EDUCATION: 同等学力 counts */
} jk_rule_t;

typedef struct {
    const char *id;    /* "L4-2" */
    const char *text;  /* the condition as printed */
    jk_rule_t rule;
    unsigned marks;    /* JK_MARK_SUSPECT when the printed text is garbled */
    const char *note;  /* the mark's note, or NULL */
} jk_alternative_t;

/* ---- loading ---- */

/* Loads and validates a standard file. Returns a new object or NULL with
 * *err naming file, JSON path (or line and column for syntax errors) and
 * what is wrong. The file is bounded by JK_STANDARD_MAX_BYTES. */
jk_standard_t *jk_standard_load(const char *path, jk_error_t *err);

/* Same from a buffer; `name` is used in error messages in place of a path. */
jk_standard_t *jk_standard_parse(const char *json, size_t len, const char *name,
                                 jk_error_t *err);

/* Loads the standard from $JK_STANDARD, or else data/standard.json under
 * the build's JK_DATA_DIR. */
jk_standard_t *jk_standard_load_default(jk_error_t *err);

/* Frees *s and sets it to NULL; accepts NULL and a NULL *s. */
void jk_standard_destroy(jk_standard_t **s);

/* ---- queries (all returned pointers are borrowed, valid until destroy) ---- */

const char *jk_standard_occupation_code(const jk_standard_t *s); /* "3-01-04-03" */
const char *jk_standard_occupation_name(const jk_standard_t *s);
const char *jk_standard_edition(const jk_standard_t *s);         /* "2022" */
const char *jk_standard_definition(const jk_standard_t *s);

const char *jk_standard_level_name(const jk_standard_t *s, int level);
int jk_standard_training_hours(const jk_standard_t *s, int level);

const jk_area_t *jk_standard_area(const jk_standard_t *s, int area);
int jk_standard_area_find(const jk_standard_t *s, const char *id); /* -1 */

/* Areas weighed by an exam's table, in table order: theory has 7, skills 5.
 * Writes up to max area indexes to out; returns how many there are. */
size_t jk_standard_exam_areas(const jk_standard_t *s, jk_exam_t exam, int *out,
                              size_t max);

/* Points (of 100) an area carries in an exam at a level, from the weight
 * table; 0 when the area is not in that table. */
int jk_standard_weight(const jk_standard_t *s, jk_exam_t exam, int area, int level);

size_t jk_standard_requirement_count(const jk_standard_t *s);
const jk_requirement_t *jk_standard_requirement(const jk_standard_t *s, size_t i);
/* Looks a reference up; NULL if there is none. */
const jk_requirement_t *jk_standard_find(const jk_standard_t *s, const char *ref);

size_t jk_standard_content_count(const jk_standard_t *s, int level);
const jk_content_t *jk_standard_content(const jk_standard_t *s, int level, size_t i);

void jk_standard_counts(const jk_standard_t *s, int level, jk_level_counts_t *out);

const jk_exam_rule_t *jk_standard_exam_rule(const jk_standard_t *s, jk_exam_t exam);
const jk_staffing_t *jk_standard_staffing(const jk_standard_t *s, jk_exam_t exam);

/* Staff a room of n candidates needs under rule r:
 * max(min_per_room, ceil(n / candidates_per_staff)), rounded up to odd when
 * r->odd. n <= 0 needs none. Returns -1 when r is NULL or has no positive
 * candidates_per_staff (a programmer error; loaded rules always have one). */
int jk_staffing_needed(const jk_staffing_t *r, int n);

size_t jk_standard_alternative_count(const jk_standard_t *s, int level);
const jk_alternative_t *jk_standard_alternative(const jk_standard_t *s, int level,
                                                size_t i);

#endif
