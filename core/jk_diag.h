/*
 * jk_diag: a sink for the many errors of one input (a bank file, a CSV of
 * candidates, a QTI package), so a check can report all of them instead of
 * stopping at the first. Each message names what and where ("bank.json:
 * $.items[12] (T-BAS-5-013): key: 'F' is not an option id").
 *
 * A NULL jk_diag_t * is allowed everywhere and means "count nothing, print
 * nothing"; functions also fill their jk_error_t with the first error.
 */
#ifndef JK_DIAG_H
#define JK_DIAG_H

#include <stddef.h>

#include "jk_err.h"

typedef enum { JK_DIAG_ERROR = 0, JK_DIAG_WARNING = 1 } jk_diag_severity_t;

typedef void (*jk_diag_fn)(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg);

typedef struct {
    jk_diag_fn fn;       /* may be NULL: count only */
    void *ud;
    size_t errors;
    size_t warnings;
    size_t max_reports;  /* after this many, further reports are counted only; 0 = no cap */
    size_t suppressed;   /* reports counted but not passed to fn */
} jk_diag_t;

void jk_diag_init(jk_diag_t *d, jk_diag_fn fn, void *ud, size_t max_reports);
void jk_diag_error(jk_diag_t *d, jk_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void jk_diag_warn(jk_diag_t *d, jk_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A ready-made fn writing "error: msg" / "warning: msg" lines to a FILE *
 * given as ud. */
void jk_diag_print(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg);

#endif
