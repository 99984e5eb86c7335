/* Unit tests for jk_log, jk_clock and jk_err: line format, levels, quoting,
 * truncation, fake clock, error records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jk_clock.h"
#include "jk_err.h"
#include "jk_log.h"

typedef struct {
    char last[JK_LOG_LINE_MAX + 8];
    size_t len;
    int calls;
} sink_t;

static void s_sink(void *ud, const char *line, size_t len)
{
    sink_t *s = ud;
    memcpy(s->last, line, len);
    s->last[len] = '\0';
    s->len = len;
    s->calls++;
}

static void test_line_format(void **state)
{
    (void)state;
    jk_clock_fake_t *fc = jk_clock_fake_new(1796006520123LL, 0); /* 2026-11-30T02:42:00.123Z */
    sink_t sk = { .calls = 0 };
    jk_log_init("examd", JK_LOG_INFO, jk_clock_fake_clock(fc));
    jk_log_set_sink(s_sink, &sk);
    JK_INFO("session.open", "session=%s seq=%d", "S1", 3);
    assert_int_equal(sk.calls, 1);
    char want[128];
    snprintf(want, sizeof want, "2026-11-30T02:42:00.123Z INFO examd[%ld] event=session.open session=S1 seq=3\n",
             (long)getpid());
    assert_string_equal(sk.last, want);

    JK_DEBUG("hidden", NULL);
    assert_int_equal(sk.calls, 1);
    jk_log_set_level(JK_LOG_DEBUG);
    JK_DEBUG("shown", NULL);
    assert_int_equal(sk.calls, 2);
    assert_non_null(strstr(sk.last, "DEBUG examd"));
    assert_non_null(strstr(sk.last, "event=shown\n"));
    jk_log_set_level(JK_LOG_OFF);
    JK_ERROR("nothing", NULL);
    assert_int_equal(sk.calls, 2);
    jk_log_set_level(JK_LOG_INFO);
    jk_log_set_sink(NULL, NULL);
    jk_log_init("test", JK_LOG_INFO, NULL);
    jk_clock_fake_destroy(&fc);
    assert_null(fc);
}

static void test_truncation(void **state)
{
    (void)state;
    sink_t sk = { .calls = 0 };
    jk_log_set_sink(s_sink, &sk);
    char big[JK_LOG_LINE_MAX * 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    JK_WARN("big", "v=%s", big);
    assert_true(sk.len <= JK_LOG_LINE_MAX);
    assert_memory_equal(sk.last + sk.len - 4, "...\n", 4);
    jk_log_set_sink(NULL, NULL);
}

static void test_value_quoting(void **state)
{
    (void)state;
    char buf[JK_LOG_VALUE_MAX];
    assert_string_equal(jk_log_value("plain-id_1", buf), "plain-id_1");
    assert_string_equal(jk_log_value("中文", buf), "中文");
    assert_string_equal(jk_log_value(NULL, buf), "-");
    assert_string_equal(jk_log_value("", buf), "\"\"");
    assert_string_equal(jk_log_value("two words", buf), "\"two words\"");
    assert_string_equal(jk_log_value("a=b", buf), "\"a=b\"");
    assert_string_equal(jk_log_value("q\"\\\n\x01", buf), "\"q\\\"\\\\\\n\\x01\"");
    char huge[1000];
    memset(huge, ' ', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const char *q = jk_log_value(huge, buf);
    assert_true(strlen(q) < JK_LOG_VALUE_MAX);
    assert_string_equal(q + strlen(q) - 4, "...\"");
}

static void test_levels_parse(void **state)
{
    (void)state;
    assert_int_equal(jk_log_level_parse("debug"), JK_LOG_DEBUG);
    assert_int_equal(jk_log_level_parse("error"), JK_LOG_ERROR);
    assert_int_equal(jk_log_level_parse("off"), JK_LOG_OFF);
    assert_int_equal(jk_log_level_parse("verbose"), -1);
    assert_int_equal(jk_log_level_parse(NULL), -1);
    assert_string_equal(jk_log_level_name(JK_LOG_WARN), "warn");
}

static void test_fake_clock(void **state)
{
    (void)state;
    jk_clock_fake_t *f = jk_clock_fake_new(1000, 5);
    const jk_clock_t *c = jk_clock_fake_clock(f);
    assert_int_equal(jk_clock_wall_ms(c), 1000);
    assert_int_equal(jk_clock_mono_us(c), 5);
    jk_clock_fake_advance_us(f, 2500000);
    assert_int_equal(jk_clock_wall_ms(c), 3500);
    assert_int_equal(jk_clock_mono_ms(c), 2500);
    jk_clock_fake_advance_us(f, -100); /* ignored */
    assert_int_equal(jk_clock_mono_us(c), 2500005);
    jk_clock_fake_set_wall_ms(f, 10); /* a step of the wall clock */
    assert_int_equal(jk_clock_wall_ms(c), 10);
    assert_int_equal(jk_clock_mono_us(c), 2500005);
    jk_clock_fake_destroy(&f);
    jk_clock_fake_destroy(&f); /* NULL is fine */

    const jk_clock_t *sys = jk_clock_system();
    int64_t a = jk_clock_mono_us(sys), b = jk_clock_mono_us(sys);
    assert_true(b >= a);
    assert_true(jk_clock_wall_ms(sys) > 1600000000000LL);

    char buf[32];
    assert_string_equal(jk_clock_format_ms(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
    assert_string_equal(jk_clock_format_ms(-1, buf, sizeof buf), "1969-12-31T23:59:59.999Z");
}

static void test_error_record(void **state)
{
    (void)state;
    jk_error_t e;
    jk_error_clear(&e);
    assert_int_equal(e.code, JK_OK);
    assert_int_equal(jk_error_set(&e, JK_ERR_RANGE, "$.a[%d]: too big", 3), JK_ERR_RANGE);
    assert_string_equal(e.msg, "$.a[3]: too big");
    assert_int_equal(jk_error_prefix(&e, "%s: ", "f.json"), JK_ERR_RANGE);
    assert_string_equal(e.msg, "f.json: $.a[3]: too big");
    assert_int_equal(jk_error_set(NULL, JK_ERR_IO, "x"), JK_ERR_IO);
    assert_int_equal(jk_error_prefix(NULL, "x"), JK_OK);
    jk_error_clear(NULL);

    /* A long prefix truncates the tail, never overflows. */
    char longp[JK_ERROR_MSG_MAX * 2];
    memset(longp, 'p', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    jk_error_prefix(&e, "%s", longp);
    assert_int_equal(strlen(e.msg), JK_ERROR_MSG_MAX - 1);

    for (int i = 0; i < JK_ERR__COUNT; i++) {
        assert_non_null(jk_strerror((jk_err_t)i));
        assert_string_not_equal(jk_strerror((jk_err_t)i), "unknown-error");
    }
    assert_string_equal(jk_strerror(JK_ERR__COUNT), "unknown-error");
    assert_string_equal(jk_strerror((jk_err_t)-1), "unknown-error");
    assert_string_equal(jk_strerror(JK_ERR_TOO_BIG), "too-big");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),   cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_value_quoting), cmocka_unit_test(test_levels_parse),
        cmocka_unit_test(test_fake_clock),    cmocka_unit_test(test_error_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
