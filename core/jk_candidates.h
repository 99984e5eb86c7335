/*
 * jk_candidates: the list of candidates of a sitting, imported from a CSV
 * file a clerk prepares (format in docs/candidates-format.md): admission
 * number (准考证号), name, 身份证号, the level applied for and the records
 * eligibility is judged on (jk_applicant_t of jk_eligibility.h).
 *
 * What the importer promises:
 *  - RFC 4180 CSV in UTF-8 (optional BOM, CRLF or LF, quoted fields with
 *    doubled quotes); columns found by their header names in any order;
 *    an unknown, duplicated or missing required column refuses the file;
 *  - every bad row is reported through jk_diag_t with its line, the column
 *    and what is wrong, counted, and kept out; good rows are kept;
 *  - admission numbers and 身份证号 are unique across the list (a repeat is
 *    an error on the later row, naming the earlier one); the 身份证号 check
 *    digit (GB 11643) and its birth date are verified;
 *  - bounded input: JK_CANDIDATES_FILE_MAX bytes per file,
 *    JK_CANDIDATES_LINE_MAX per line (record), JK_CANDIDATES_FIELD_MAX per
 *    field, JK_CANDIDATES_ROWS_MAX rows per file and per list.
 *
 * Not here: eligibility (the importer stores records; jk_eligibility_check
 * judges them on the sitting date), seating, anything about sessions.
 */
#ifndef JK_CANDIDATES_H
#define JK_CANDIDATES_H

#include <stdbool.h>
#include <stddef.h>

#include "jk_diag.h"
#include "jk_eligibility.h"
#include "jk_err.h"

#define JK_CANDIDATES_FILE_MAX (64u * 1024u * 1024u) /* bytes per file */
#define JK_CANDIDATES_LINE_MAX (64u * 1024u)         /* bytes per record */
#define JK_CANDIDATES_FIELD_MAX (4u * 1024u)         /* bytes per field */
#define JK_CANDIDATES_ROWS_MAX 200000u               /* rows per file and per list */
#define JK_ADMISSION_NO_MAX 32                       /* bytes, id charset */
#define JK_CANDIDATE_NAME_MAX_CHARS 50               /* code points */
#define JK_ID_NUMBER_LEN 18                          /* 居民身份证号码 */

typedef struct {
    const char *admission_no; /* 准考证号: 1..JK_ADMISSION_NO_MAX of [A-Za-z0-9._:-] */
    const char *name;         /* 姓名, UTF-8, trimmed */
    const char *id_number;    /* 身份证号, 18 characters, final 'x' upper-cased */
    int level;                /* applied for: 5, 4, 3 */
    jk_applicant_t applicant; /* records; applicant.work points into the list */
    const char *source;       /* the name the row was parsed under */
    size_t line;              /* line (1-based) the row starts on */
} jk_candidate_t;

typedef struct jk_candidates jk_candidates_t;

/* A new empty list, or NULL when out of memory. */
jk_candidates_t *jk_candidates_new(void);

/* Frees *c and sets it to NULL; accepts NULL and a NULL *c. Every pointer
 * the list handed out dies with it. */
void jk_candidates_destroy(jk_candidates_t **c);

/* Parses one CSV document of len bytes (need not be NUL-terminated) and
 * adds its good rows to c; `name` (e.g. the file name) starts every
 * message: "<name>: line 12, column \"id_number\": check digit is 3, expected 7".
 * Every problem goes to diag (may be NULL); *err (may be NULL) gets the
 * first.
 * Returns JK_OK when every row was taken. Otherwise the first problem's
 * code: for bad rows (JK_ERR_PARSE, JK_ERR_INVAL, JK_ERR_MISSING,
 * JK_ERR_DUP, JK_ERR_TOO_BIG for an overlong line or field) the good rows
 * are kept all the same; for a bad header, an empty document, UTF-16 or a
 * document over JK_CANDIDATES_FILE_MAX nothing is added; past
 * JK_CANDIDATES_ROWS_MAX rows (JK_ERR_TOO_BIG) the parse stops and the
 * rows before stay; JK_ERR_NOMEM may leave part of the document added.
 * A header with no rows is accepted with a warning. */
jk_err_t jk_candidates_parse(jk_candidates_t *c, const char *buf, size_t len, const char *name,
                             jk_diag_t *diag, jk_error_t *err);

/* Reads the file at path (refusing more than JK_CANDIDATES_FILE_MAX bytes
 * with JK_ERR_TOO_BIG, an unreadable one with JK_ERR_IO) and parses it as
 * jk_candidates_parse does, named by path. */
jk_err_t jk_candidates_load_file(jk_candidates_t *c, const char *path, jk_diag_t *diag,
                                 jk_error_t *err);

/* Candidates held, in file order. */
size_t jk_candidates_count(const jk_candidates_t *c);
/* The i-th candidate (borrowed, valid until destroy), or NULL. */
const jk_candidate_t *jk_candidates_get(const jk_candidates_t *c, size_t i);
/* The candidate with this admission number (exact match), or NULL. */
const jk_candidate_t *jk_candidates_find(const jk_candidates_t *c, const char *admission_no);
/* Rows refused so far, over every parse into c (one per bad row, however
 * many problems it had). */
size_t jk_candidates_rejected(const jk_candidates_t *c);

/* True when s is a well-formed 18-character 居民身份证号码: 17 digits and a
 * digit or X (x accepted), a valid birth date in characters 7-14, and the
 * GB 11643 (ISO 7064 MOD 11-2) check digit. */
bool jk_id_number_valid(const char *s);

/* The check digit ('0'..'9' or 'X') of the first 17 characters of s, or 0
 * when they are not 17 digits. */
char jk_id_number_check_digit(const char *s);

#endif
