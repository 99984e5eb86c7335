/* jk_err: error names and the error record. */
#include "jk_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const s_names[JK_ERR__COUNT] = {
    [JK_OK] = "ok",
    [JK_ERR_NOMEM] = "out-of-memory",
    [JK_ERR_INVAL] = "invalid",
    [JK_ERR_IO] = "io",
    [JK_ERR_PARSE] = "parse",
    [JK_ERR_RANGE] = "out-of-range",
    [JK_ERR_TOO_BIG] = "too-big",
    [JK_ERR_VERSION] = "bad-version",
    [JK_ERR_MISSING] = "missing",
    [JK_ERR_DUP] = "duplicate",
    [JK_ERR_NOTFOUND] = "not-found",
    [JK_ERR_STATE] = "bad-state",
    [JK_ERR_AUTH] = "auth",
    [JK_ERR_CRYPTO] = "crypto",
    [JK_ERR_TIMEOUT] = "timeout",
    [JK_ERR_UNAVAIL] = "unavailable",
    [JK_ERR_FULL] = "full",
    [JK_ERR_CONFIG] = "config",
    [JK_ERR_SHORTAGE] = "shortage",
    [JK_ERR_INELIGIBLE] = "ineligible",
    [JK_ERR_LATE] = "late",
    [JK_ERR_INTERNAL] = "internal",
};

const char *jk_strerror(jk_err_t code)
{
    if ((int)code < 0 || code >= JK_ERR__COUNT || !s_names[code])
        return "unknown-error";
    return s_names[code];
}

jk_err_t jk_error_set(jk_error_t *e, jk_err_t code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

jk_err_t jk_error_prefix(jk_error_t *e, const char *fmt, ...)
{
    if (!e)
        return JK_OK;
    char head[JK_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (n < 0)
        return e->code;
    /* Shift the old message right by the head's length (truncating the
     * tail), then copy the head in front. */
    size_t hl = strlen(head);
    if (hl >= sizeof e->msg)
        hl = sizeof e->msg - 1;
    size_t ml = strlen(e->msg);
    if (hl + ml >= sizeof e->msg)
        ml = sizeof e->msg - 1 - hl;
    memmove(e->msg + hl, e->msg, ml);
    memcpy(e->msg, head, hl);
    e->msg[hl + ml] = '\0';
    return e->code;
}

void jk_error_clear(jk_error_t *e)
{
    if (!e)
        return;
    e->code = JK_OK;
    e->msg[0] = '\0';
}
