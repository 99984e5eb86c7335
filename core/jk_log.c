/* jk_log: levelled key=value logger; see jk_log.h for the line format. */
#include "jk_log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static struct {
    char component[32];
    jk_log_level_t level;
    const jk_clock_t *clock;
    jk_log_sink_fn sink;
    void *sink_ud;
    int fd;            /* file descriptor used when no sink: 2 or a log file */
    unsigned long counts[JK_LOG_OFF];
} s_log = { "jikao", JK_LOG_INFO, NULL, NULL, NULL, 2, { 0 } };

const char *const jk_log_level_names[] = { "debug", "info", "warn", "error", "off", NULL };
static const char *const s_level_tags[] = { "DEBUG", "INFO", "WARN", "ERROR", "OFF" };

void jk_log_init(const char *component, jk_log_level_t level, const jk_clock_t *clock)
{
    snprintf(s_log.component, sizeof s_log.component, "%s", component ? component : "jikao");
    s_log.level = level;
    s_log.clock = clock;
}

void jk_log_set_level(jk_log_level_t level) { s_log.level = level; }
jk_log_level_t jk_log_get_level(void) { return s_log.level; }

void jk_log_set_sink(jk_log_sink_fn sink, void *ud)
{
    s_log.sink = sink;
    s_log.sink_ud = ud;
}

int jk_log_open_file(const char *path)
{
    if (!path) {
        if (s_log.fd != 2)
            close(s_log.fd);
        s_log.fd = 2;
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    if (s_log.fd != 2)
        close(s_log.fd);
    s_log.fd = fd;
    return 0;
}

int jk_log_daemon_start(jk_log_level_t level, const char *log_file, void (*on_stop)(int))
{
    jk_log_set_level(level);
    if (log_file && *log_file && jk_log_open_file(log_file) != 0) {
        fprintf(stderr, "%s: log.file: cannot open %s: %s\n", s_log.component, log_file,
                strerror(errno));
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int jk_log_level_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i <= JK_LOG_OFF; i++)
        if (strcmp(s, jk_log_level_names[i]) == 0)
            return i;
    return -1;
}

const char *jk_log_level_name(jk_log_level_t level)
{
    return (level >= JK_LOG_DEBUG && level <= JK_LOG_OFF) ? jk_log_level_names[level] : "?";
}

unsigned long jk_log_count(jk_log_level_t level)
{
    return (level >= JK_LOG_DEBUG && level < JK_LOG_OFF) ? s_log.counts[level] : 0;
}

static void s_emit(const char *line, size_t len)
{
    if (s_log.sink) {
        s_log.sink(s_log.sink_ud, line, len);
        return;
    }
    /* One write per line; retry on EINTR, give up quietly on other errors
     * (a logger must never take the process down). */
    while (len > 0) {
        ssize_t n = write(s_log.fd, line, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        line += n;
        len -= (size_t)n;
    }
}

void jk_log(jk_log_level_t level, const char *event, const char *fmt, ...)
{
    if (level < s_log.level || level >= JK_LOG_OFF)
        return;
    s_log.counts[level]++;
    const jk_clock_t *clk = s_log.clock ? s_log.clock : jk_clock_system();
    char stamp[32];
    jk_clock_format_ms(jk_clock_wall_ms(clk), stamp, sizeof stamp);

    char line[JK_LOG_LINE_MAX];
    int n = snprintf(line, sizeof line, "%s %s %s[%ld] event=%s", stamp,
                     s_level_tags[level], s_log.component, (long)getpid(),
                     event ? event : "-");
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && *fmt && used < sizeof line - 2) {
        line[used++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + used, sizeof line - used, fmt, ap);
        va_end(ap);
        if (m > 0)
            used += (size_t)m < sizeof line - used ? (size_t)m : sizeof line - used - 1;
    }
    /* Leave room for "...\n" when truncated. */
    if (used >= sizeof line - 5) {
        used = sizeof line - 5;
        memcpy(line + used, "...", 3);
        used += 3;
    }
    line[used++] = '\n';
    s_emit(line, used);
}

static int s_safe_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

const char *jk_log_value(const char *s, char buf[JK_LOG_VALUE_MAX])
{
    if (!s)
        return "-";
    int safe = *s != '\0';
    for (const unsigned char *p = (const unsigned char *)s; *p && safe; p++)
        safe = s_safe_char(*p) || *p >= 0x80; /* UTF-8 text prints as is */
    if (safe)
        return s;
    size_t o = 0;
    const size_t cap = JK_LOG_VALUE_MAX - 5; /* room for ..." and NUL */
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[5];
        size_t el;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            el = 2;
        } else if (*p == '\n') {
            memcpy(esc, "\\n", 2);
            el = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            el = 4;
        } else {
            esc[0] = (char)*p;
            el = 1;
        }
        if (o + el > cap) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, esc, el);
        o += el;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
