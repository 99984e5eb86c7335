/*
 * jk_sitting: a sitting's papers, as built at the center and shipped to the
 * sites — the document examd and scorerd work from during the live exam.
 *
 * `jk_sitting_build` takes the standard, the bank, the candidates, a plan's
 * assignment and a seed, builds every seated candidate's paper for every
 * session they sit (theory: jk_paper_build with exposure and difficulty
 * control per session; skills: jk_paper_build_skills), and produces
 *  - one **site document** per site: that site's sessions, rooms, staff
 *    duties, candidates with seats and papers, the text of every item and
 *    task on those papers (never a key or a field's expected value), the
 *    examiners' rubrics, the site's HMAC key and a PBKDF2 verifier of each
 *    candidate's login credential. It is sealed into the site's package
 *    (jk_package) by the caller;
 *  - one **center document**: every site's sessions, rooms, duties and
 *    papers (item ids only — the keys are in the bank, which only the center
 *    has) and the examiner panels, for scorerd;
 *  - the candidates' credentials (admission number, password) for admission
 *    tickets.
 *
 * Both documents are JSON of format "jikao-sitting" version 1 (see
 * docs/sitting-format.md) and parse back with `jk_sitting_parse` into the
 * same read-only model.
 *
 * Secrets. A 32-byte master secret (kept at the center) derives everything:
 *   site_key    = HMAC-SHA256(master, "jikao-site:" + site_id)
 *   session_key = HMAC-SHA256(site_key, "jikao-session:" + session_id)
 *   password    = 8 decimal digits of HMAC-SHA256(master, "jikao-credential:" + admission)
 *   salt        = first 16 bytes of HMAC-SHA256(master, "jikao-salt:" + admission)
 * so a rebuild from the same inputs and master gives the same documents, and
 * the center can recompute any key without storing it.
 *
 * Session ids are "<plan session id>.<admission number>", at most 64 bytes.
 */
#ifndef JK_SITTING_H
#define JK_SITTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jk_bank.h"
#include "jk_candidates.h"
#include "jk_err.h"
#include "jk_paper.h"
#include "jk_plan.h"
#include "jk_standard.h"

#define JK_SITTING_KEY_BYTES 32
#define JK_SITTING_DOC_MAX (512u << 20)  /* bytes of a sitting document */
#define JK_SITTING_PBKDF2_ITERATIONS 20000
#define JK_SITTING_PASSWORD_LEN 8

/* ---- secrets ---- */

void jk_sitting_site_key(const uint8_t master[JK_SITTING_KEY_BYTES], const char *site_id,
                         uint8_t out[JK_SITTING_KEY_BYTES]);
void jk_sitting_session_key(const uint8_t site_key[JK_SITTING_KEY_BYTES], const char *session_id,
                            uint8_t out[JK_SITTING_KEY_BYTES]);
/* The candidate's password: JK_SITTING_PASSWORD_LEN digits and a NUL. */
void jk_sitting_password(const uint8_t master[JK_SITTING_KEY_BYTES], const char *admission,
                         char out[JK_SITTING_PASSWORD_LEN + 1]);

/* ---- building ---- */

typedef struct {
    const jk_standard_t *std;
    const jk_bank_t *bank;
    const jk_candidates_t *candidates;
    const jk_plan_result_t *assignment; /* must be ok */
    uint64_t seed;
    double exposure_max;                 /* per session; default 0.5 when 0 */
    const uint8_t *master;               /* JK_SITTING_KEY_BYTES */
    int64_t created_ms;
    int pbkdf2_iterations;               /* 0 = JK_SITTING_PBKDF2_ITERATIONS */
} jk_sitting_spec_t;

/* Called after each paper: done of total. */
typedef void (*jk_sitting_progress_fn)(void *ud, size_t done, size_t total);

typedef struct jk_sitting_build jk_sitting_build_t;

/* Builds every paper and every document. Errors name the session and
 * candidate (a bank that can't fill a blueprint gives the paper builder's
 * message). */
jk_sitting_build_t *jk_sitting_build(const jk_sitting_spec_t *spec, jk_sitting_progress_fn progress,
                                     void *ud, jk_error_t *err);
void jk_sitting_build_destroy(jk_sitting_build_t **b);

size_t jk_sitting_build_site_count(const jk_sitting_build_t *b);
const char *jk_sitting_build_site_id(const jk_sitting_build_t *b, size_t i);
/* The site document (JSON, borrowed, NUL-terminated). */
const char *jk_sitting_build_site_doc(const jk_sitting_build_t *b, size_t i, size_t *len);
/* The center document (JSON, borrowed). */
const char *jk_sitting_build_center_doc(const jk_sitting_build_t *b, size_t *len);
/* Papers built: theory and skills. */
size_t jk_sitting_build_papers(const jk_sitting_build_t *b);
/* Writes "admission_no,name,password" CSV lines (with a header). */
jk_err_t jk_sitting_build_write_credentials(const jk_sitting_build_t *b, FILE *out,
                                            jk_error_t *err);

/* ---- the parsed model ---- */

typedef struct {
    const char *id;          /* plan session id */
    int level;
    jk_exam_t exam;
    int64_t start_ms;
    int minutes;
} jk_sitting_session_t;

typedef struct {
    const char *id;
    const char *site;
    const char *name;
} jk_sitting_room_t;

typedef struct {
    const char *staff;       /* staff id */
    const char *name;
    const char *session;     /* plan session id */
    const char *room;
    const char *role;        /* "proctor" / "examiner" */
} jk_sitting_duty_t;

/* One item on a candidate's paper, in paper order. */
typedef struct {
    const char *item;        /* bank item id */
    uint8_t n_order;         /* options shown; 0 for judge */
    uint8_t order[JK_MAX_OPTIONS]; /* option ids (1-based bank option numbers) in display order */
} jk_sitting_paper_item_t;

/* One candidate in one session. */
typedef struct {
    const char *session_id;  /* "<session>.<admission>" */
    size_t session;          /* index into the sessions */
    const char *admission;
    const char *name;
    const char *site;
    const char *room;
    int seat;
    size_t n_items;          /* theory */
    const jk_sitting_paper_item_t *items;
    size_t n_tasks;          /* skills */
    const char *const *tasks;
    int panel;               /* skills: examiners in the room (0 for theory) */
} jk_sitting_entry_t;

typedef struct {
    const char *salt_hex;
    const char *hash_hex;
    int iterations;
} jk_sitting_credential_t;

/* Item text as a site sees it (no key). */
typedef struct {
    const char *id;
    jk_item_type_t type;
    const char *stem;
    uint8_t n_options;
    const char *options[JK_MAX_OPTIONS]; /* by bank option number - 1 */
    int32_t points_centi;
} jk_sitting_item_t;

typedef enum { JK_INPUT_TEXT = 0, JK_INPUT_NUMBER, JK_INPUT_DATE } jk_input_t;

typedef struct {
    const char *name;
    const char *label;
    jk_input_t input;
} jk_sitting_field_t;

typedef struct {
    const char *id;
    const char *prompt;
    int32_t points_centi;
    const char *form;                 /* operation parts */
    size_t n_fields;
    const jk_sitting_field_t *fields;
    size_t n_rubric;                  /* examiner parts: for examiners only */
    const char *const *rubric;        /* "criterion (n points)" lines */
} jk_sitting_part_t;

typedef struct {
    const char *id;
    jk_task_type_t type;
    const char *title;
    const char *scenario;
    int minutes;
    int32_t points_centi;
    size_t n_parts;
    const jk_sitting_part_t *parts;
} jk_sitting_task_t;

typedef struct jk_sitting jk_sitting_t;

/* Parses a site or center document. */
jk_sitting_t *jk_sitting_parse(const char *json, size_t len, const char *name, jk_error_t *err);
jk_sitting_t *jk_sitting_load(const char *path, jk_error_t *err);
void jk_sitting_destroy(jk_sitting_t **s);

bool jk_sitting_is_site(const jk_sitting_t *s);
const char *jk_sitting_id(const jk_sitting_t *s);
const char *jk_sitting_name(const jk_sitting_t *s);
const char *jk_sitting_site(const jk_sitting_t *s);   /* site documents */
/* The site's HMAC key (site documents); false on a center document. */
bool jk_sitting_site_key_get(const jk_sitting_t *s, uint8_t out[JK_SITTING_KEY_BYTES]);

size_t jk_sitting_session_count(const jk_sitting_t *s);
const jk_sitting_session_t *jk_sitting_session(const jk_sitting_t *s, size_t i);
long jk_sitting_find_session(const jk_sitting_t *s, const char *id);
size_t jk_sitting_room_count(const jk_sitting_t *s);
const jk_sitting_room_t *jk_sitting_room(const jk_sitting_t *s, size_t i);
size_t jk_sitting_duty_count(const jk_sitting_t *s);
const jk_sitting_duty_t *jk_sitting_duty(const jk_sitting_t *s, size_t i);

size_t jk_sitting_entry_count(const jk_sitting_t *s);
const jk_sitting_entry_t *jk_sitting_entry(const jk_sitting_t *s, size_t i);
const jk_sitting_entry_t *jk_sitting_find_entry(const jk_sitting_t *s, const char *session_id);
/* The entry of a candidate in a session (by plan session id). */
const jk_sitting_entry_t *jk_sitting_find_candidate(const jk_sitting_t *s, const char *admission,
                                                    const char *session);

/* Site documents: the credential verifier of a candidate, item and task text. */
const jk_sitting_credential_t *jk_sitting_credential(const jk_sitting_t *s, const char *admission);
/* Checks a typed password against the verifier (PBKDF2, constant-time). */
bool jk_sitting_check_password(const jk_sitting_credential_t *c, const char *password, size_t len);
const jk_sitting_item_t *jk_sitting_item(const jk_sitting_t *s, const char *id);
const jk_sitting_task_t *jk_sitting_task(const jk_sitting_t *s, const char *id);

#endif
