/* jk_diag: error/warning sink; see jk_diag.h. */
#include "jk_diag.h"

#include <stdarg.h>
#include <stdio.h>

void jk_diag_init(jk_diag_t *d, jk_diag_fn fn, void *ud, size_t max_reports)
{
    d->fn = fn;
    d->ud = ud;
    d->errors = d->warnings = d->suppressed = 0;
    d->max_reports = max_reports;
}

static void s_report(jk_diag_t *d, jk_diag_severity_t sev, jk_err_t code, const char *fmt,
                     va_list ap)
{
    if (!d)
        return;
    if (sev == JK_DIAG_ERROR)
        d->errors++;
    else
        d->warnings++;
    if (!d->fn)
        return;
    if (d->max_reports && d->errors + d->warnings > d->max_reports) {
        d->suppressed++;
        return;
    }
    char msg[JK_ERROR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    d->fn(d->ud, sev, code, msg);
}

void jk_diag_error(jk_diag_t *d, jk_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_report(d, JK_DIAG_ERROR, code, fmt, ap);
    va_end(ap);
}

void jk_diag_warn(jk_diag_t *d, jk_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_report(d, JK_DIAG_WARNING, code, fmt, ap);
    va_end(ap);
}

void jk_diag_print(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg)
{
    FILE *f = ud ? ud : stderr;
    fprintf(f, "%s: %s [%s]\n", sev == JK_DIAG_ERROR ? "error" : "warning", msg,
            jk_strerror(code));
}
