/*
 * jk_err: the one error enum of the project, its strerror, and a small error
 * record that carries a code plus a human message naming what and where.
 *
 * Design: functions that can fail return jk_err_t and, when given a
 * jk_error_t *, fill it with a message such as
 *   "data/standard.json: $.weights.theory[2].points.5: expected integer".
 * Passing NULL for the record is always allowed (the caller wants the code
 * only). Long-lived objects keep their own jk_error_t (like redisContext's
 * err/errstr) so callers learn why without globals.
 */
#ifndef JK_ERR_H
#define JK_ERR_H

#include <stddef.h>

typedef enum {
    JK_OK = 0,
    JK_ERR_NOMEM,      /* allocation failed */
    JK_ERR_INVAL,      /* invalid argument or value */
    JK_ERR_IO,         /* file or socket I/O failed */
    JK_ERR_PARSE,      /* syntax error in input (JSON, CSV, config, XML) */
    JK_ERR_RANGE,      /* value out of its allowed range */
    JK_ERR_TOO_BIG,    /* input exceeds a size bound */
    JK_ERR_VERSION,    /* unsupported format or schema version */
    JK_ERR_MISSING,    /* a required field or element is absent */
    JK_ERR_DUP,        /* duplicate id, code or event */
    JK_ERR_NOTFOUND,   /* referenced thing does not exist */
    JK_ERR_STATE,      /* illegal in the current state */
    JK_ERR_AUTH,       /* authentication or signature check failed */
    JK_ERR_CRYPTO,     /* cryptographic library failure */
    JK_ERR_TIMEOUT,    /* deadline passed */
    JK_ERR_UNAVAIL,    /* peer or service unavailable; retry later */
    JK_ERR_FULL,       /* a bounded queue or table is full */
    JK_ERR_CONFIG,     /* configuration error */
    JK_ERR_SHORTAGE,   /* not enough of something (items, staff, seats) */
    JK_ERR_INELIGIBLE, /* an applicant meets no eligibility condition */
    JK_ERR_LATE,       /* after the deadline */
    JK_ERR_INTERNAL,   /* a bug: an invariant did not hold */
    JK_ERR__COUNT
} jk_err_t;

/* Short, stable, lower-case name of a code ("too-big"); never NULL. */
const char *jk_strerror(jk_err_t code);

#define JK_ERROR_MSG_MAX 512

typedef struct {
    jk_err_t code;
    char msg[JK_ERROR_MSG_MAX];
} jk_error_t;

/* Sets *e (if e is non-NULL) to code and the formatted message; returns code
 * so callers can write `return jk_error_set(e, JK_ERR_RANGE, "...")`. */
jk_err_t jk_error_set(jk_error_t *e, jk_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends formatted context ("file.json: ") to the message of e. No-op when
 * e is NULL. Returns e->code (or JK_OK when e is NULL). */
jk_err_t jk_error_prefix(jk_error_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets e to JK_OK with an empty message; accepts NULL. */
void jk_error_clear(jk_error_t *e);

#endif
