/*
 * jk_log: the one levelled logger. Every line is
 *
 *   2026-11-30T02:42:00.123Z INFO examd[4711] event=session.open session=S1 seq=3
 *
 * that is: UTC stamp, level, component and pid, then `event=<name>` and the
 * caller's key=value fields. Entities are always printed with the same keys
 * (exam=, site=, room=, session=, candidate=, item=, seq=, peer=, scorer=)
 * so logs can be searched with grep.
 *
 * Values that come from outside (reasons, peer names, file contents) must go
 * through jk_log_value(), which returns the string itself when it is safe
 * (non-empty printable ASCII without spaces, quotes or '=') and otherwise a
 * double-quoted, escaped copy in the caller's buffer, so that one log line
 * is always one record.
 *
 * Process-wide state (level, component, sink) is set once at start; a line is
 * written with a single write(2) so lines of concurrent processes sharing a
 * file do not interleave. Not thread-safe against concurrent reconfiguration.
 */
#ifndef JK_LOG_H
#define JK_LOG_H

#include <stddef.h>

#include "jk_clock.h"

typedef enum {
    JK_LOG_DEBUG = 0,
    JK_LOG_INFO = 1,
    JK_LOG_WARN = 2,
    JK_LOG_ERROR = 3,
    JK_LOG_OFF = 4,
} jk_log_level_t;

#define JK_LOG_LINE_MAX 2048   /* longer lines are truncated, marked "..." */
#define JK_LOG_VALUE_MAX 256   /* buffer size for jk_log_value */

/* Where lines go: default is stderr. The sink receives one complete line
 * (with trailing newline) per call. */
typedef void (*jk_log_sink_fn)(void *ud, const char *line, size_t len);

/* Sets component name (copied, up to 31 bytes), minimum level, and clock
 * (NULL = system clock). */
void jk_log_init(const char *component, jk_log_level_t level, const jk_clock_t *clock);
void jk_log_set_level(jk_log_level_t level);
jk_log_level_t jk_log_get_level(void);
/* NULL sink restores stderr. */
void jk_log_set_sink(jk_log_sink_fn sink, void *ud);
/* Appends to a file (opened O_APPEND) instead of stderr; NULL restores
 * stderr. Returns 0, or -1 with errno when the file can't be opened. */
int jk_log_open_file(const char *path);

/* The start of a daemon's main(), after its configuration is loaded: the
 * log level, the log file (stderr when empty), SIGINT and SIGTERM handled by
 * on_stop, SIGPIPE ignored. Returns 0, or -1 with the reason on stderr
 * (prefixed with the component name) when the log file can't be opened. */
int jk_log_daemon_start(jk_log_level_t level, const char *log_file, void (*on_stop)(int));

/* The level names by value, NULL-terminated (a jk_config enum table). */
extern const char *const jk_log_level_names[];

/* "debug", "info", "warn", "error", "off"; -1 for anything else. */
int jk_log_level_parse(const char *s);
const char *jk_log_level_name(jk_log_level_t level);

/* Writes one line when level >= the configured level. `event` is a dotted
 * name ("session.open"); fmt formats the key=value fields (may be NULL). */
void jk_log(jk_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns s when safe to print bare, else a quoted escaped copy in buf
 * (size JK_LOG_VALUE_MAX; truncated with "..." inside the quotes). NULL s
 * prints as "-". */
const char *jk_log_value(const char *s, char buf[JK_LOG_VALUE_MAX]);

/* Counters of lines written per level since start (for metrics). */
unsigned long jk_log_count(jk_log_level_t level);

#define JK_DEBUG(ev, ...) jk_log(JK_LOG_DEBUG, ev, __VA_ARGS__)
#define JK_INFO(ev, ...) jk_log(JK_LOG_INFO, ev, __VA_ARGS__)
#define JK_WARN(ev, ...) jk_log(JK_LOG_WARN, ev, __VA_ARGS__)
#define JK_ERROR(ev, ...) jk_log(JK_LOG_ERROR, ev, __VA_ARGS__)

#endif
