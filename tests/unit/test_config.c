/* Unit tests for jk_config: defaults, file/string parsing with line numbers,
 * bounds, types, environment, command line, precedence, reference output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jk_config.h"

typedef struct {
    int64_t port;
    bool aof;
    char *host;
    int64_t timeout_ms;
    int64_t max_frame;
    int mode;
} cfg_t;

static const char *const s_modes[] = { "curve", "plain", NULL };

static const jk_cfg_opt_t s_table[] = {
    { "redis.port", JK_CFG_INT, "6379", 1, 65535, offsetof(cfg_t, port), "Redis TCP port", NULL },
    { "redis.aof", JK_CFG_BOOL, "yes", 0, 0, offsetof(cfg_t, aof), "append-only file", NULL },
    { "redis.host", JK_CFG_STRING, "127.0.0.1", 0, 0, offsetof(cfg_t, host), "Redis host", NULL },
    { "timeout", JK_CFG_DURATION, "2s", 1, 3600000, offsetof(cfg_t, timeout_ms), "timeout", NULL },
    { "max-frame", JK_CFG_SIZE, "64KiB", 16, 16 * 1024 * 1024, offsetof(cfg_t, max_frame),
      "largest frame", NULL },
    { "security", JK_CFG_ENUM, "curve", 0, 0, offsetof(cfg_t, mode), "link security", s_modes },
    JK_CFG_END,
};

static void test_defaults(void **state)
{
    (void)state;
    cfg_t c = { 0 };
    jk_error_t e;
    assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
    assert_int_equal(c.port, 6379);
    assert_true(c.aof);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.timeout_ms, 2000);
    assert_int_equal(c.max_frame, 65536);
    assert_int_equal(c.mode, 0);
    jk_config_release(s_table, &c);
    assert_null(c.host);
}

static void test_parse_string(void **state)
{
    (void)state;
    cfg_t c = { 0 };
    jk_error_t e;
    assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
    const char *text = "# a comment\n"
                       "\n"
                       "redis.port = 7000\r\n"
                       "  redis.host=\"10.0.0.2 \\\"x\\\"\"  \n"
                       "redis.aof = off\n"
                       "timeout = 250ms\n"
                       "max-frame = 1MiB\n"
                       "security = plain";
    assert_int_equal(jk_config_parse_string(s_table, &c, text, strlen(text), "t.conf", &e), JK_OK);
    assert_int_equal(c.port, 7000);
    assert_string_equal(c.host, "10.0.0.2 \"x\"");
    assert_false(c.aof);
    assert_int_equal(c.timeout_ms, 250);
    assert_int_equal(c.max_frame, 1024 * 1024);
    assert_int_equal(c.mode, 1);
    jk_config_release(s_table, &c);
}

/* Each bad line must name the file, the line and the key. */
static void test_errors_name_file_line_key(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        { "redis.port = 1\nredis.port = 70000\n", "bad.conf:2: redis.port: 70000 is out of range 1..65535" },
        { "redis.port = abc\n", "bad.conf:1: redis.port: 'abc' is not a valid integer" },
        { "\n\nredis.prot = 1\n", "bad.conf:3: unknown key 'redis.prot'" },
        { "redis.aof = maybe\n", "bad.conf:1: redis.aof: 'maybe' is not a boolean" },
        { "timeout = 5 minutes\n", "bad.conf:1: timeout: '5 minutes' is not a valid duration" },
        { "timeout = 2h\n", "bad.conf:1: timeout: 2h is out of range" },
        { "max-frame = 4\n", "bad.conf:1: max-frame: 4 is out of range" },
        { "security = none\n", "bad.conf:1: security: 'none' is not one of: curve, plain" },
        { "just a line\n", "bad.conf:1: expected 'key = value'" },
        { " = 3\n", "bad.conf:1: missing key before '='" },
        { "redis.host = \"unterminated\n", "bad.conf:1: redis.host: malformed quoted value" },
        { "redis.port = 99999999999999999999999\n", "bad.conf:1: redis.port: 99999999999999999999999 is out of range" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg_t c = { 0 };
        jk_error_t e;
        assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
        int64_t before = c.port;
        jk_err_t rc = jk_config_parse_string(s_table, &c, cases[i].text, strlen(cases[i].text),
                                             "bad.conf", &e);
        assert_int_equal(rc, JK_ERR_CONFIG);
        if (!strstr(e.msg, cases[i].want))
            fail_msg("case %zu: got '%s', want '%s'", i, e.msg, cases[i].want);
        (void)before;
        jk_config_release(s_table, &c);
    }
}

static void test_failed_set_keeps_value(void **state)
{
    (void)state;
    cfg_t c = { 0 };
    jk_error_t e;
    assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
    assert_int_equal(jk_config_set(s_table, &c, "redis.port", "0", "x", &e), JK_ERR_CONFIG);
    assert_int_equal(c.port, 6379);
    jk_config_release(s_table, &c);
}

static void test_long_line_and_nul(void **state)
{
    (void)state;
    cfg_t c = { 0 };
    jk_error_t e;
    assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
    size_t n = JK_CONFIG_LINE_MAX + 10;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    assert_int_equal(jk_config_parse_string(s_table, &c, big, n, "big.conf", &e), JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "big.conf:1: line longer than"));
    free(big);
    const char withnul[] = "redis.port = 1\0 2\n";
    assert_int_equal(jk_config_parse_string(s_table, &c, withnul, sizeof withnul - 1, "n.conf", &e),
                     JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "n.conf:1: NUL byte"));
    jk_config_release(s_table, &c);
}

static void test_env(void **state)
{
    (void)state;
    cfg_t c = { 0 };
    jk_error_t e;
    assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
    char *env[] = { "PATH=/bin", "JK_T_REDIS_PORT=7001", "JK_T_MAX_FRAME=2KiB",
                    "JK_T_CONFIG=ignored.conf", NULL };
    assert_int_equal(jk_config_apply_env(s_table, &c, "JK_T_", env, &e), JK_OK);
    assert_int_equal(c.port, 7001);
    assert_int_equal(c.max_frame, 2048);
    char *bad[] = { "JK_T_REDIS_PORTT=1", NULL };
    assert_int_equal(jk_config_apply_env(s_table, &c, "JK_T_", bad, &e), JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "environment JK_T_REDIS_PORTT: no such setting"));
    char *badv[] = { "JK_T_REDIS_PORT=0", NULL };
    assert_int_equal(jk_config_apply_env(s_table, &c, "JK_T_", badv, &e), JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "environment JK_T_REDIS_PORT: redis.port: 0 is out of range"));
    jk_config_release(s_table, &c);
}

static void test_args(void **state)
{
    (void)state;
    cfg_t c = { 0 };
    jk_error_t e;
    assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
    char *argv[] = { "prog", "run", "--redis-port=7100", "--no-redis-aof", "--redis.host",
                     "h1", "--timeout", "3s", "file.json", NULL };
    const char *rest[8];
    size_t nr = 0;
    assert_int_equal(jk_config_apply_args(s_table, &c, 9, argv, rest, 8, &nr, &e), JK_OK);
    assert_int_equal(c.port, 7100);
    assert_false(c.aof);
    assert_string_equal(c.host, "h1");
    assert_int_equal(c.timeout_ms, 3000);
    assert_int_equal(nr, 2);
    assert_string_equal(rest[0], "run");
    assert_string_equal(rest[1], "file.json");

    char *bad[] = { "prog", "--redis-prt=1", NULL };
    assert_int_equal(jk_config_apply_args(s_table, &c, 2, bad, rest, 8, &nr, &e), JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "unknown option --redis-prt"));
    char *noval[] = { "prog", "--timeout", NULL };
    assert_int_equal(jk_config_apply_args(s_table, &c, 2, noval, rest, 8, &nr, &e), JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "command line --timeout: needs a value"));
    jk_config_release(s_table, &c);
}

static void test_load_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/jk-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("redis.port = 7200\nredis.host = filehost\ntimeout = 5s\n", f);
    fclose(f);

    setenv("JK_P_TIMEOUT", "7s", 1);
    cfg_t c = { 0 };
    jk_error_t e;
    char *argv[] = { "prog", "--config", path, "--redis-port", "7300", "cmd", NULL };
    const char *rest[4];
    size_t nr;
    bool help;
    assert_int_equal(jk_config_load(s_table, &c, "JK_P_", 6, argv, rest, 4, &nr, &help, &e), JK_OK);
    assert_false(help);
    assert_int_equal(c.port, 7300);           /* command line over file */
    assert_string_equal(c.host, "filehost");  /* file over default */
    assert_int_equal(c.timeout_ms, 7000);     /* environment over file */
    assert_int_equal(nr, 1);
    assert_string_equal(rest[0], "cmd");
    jk_config_release(s_table, &c);
    unsetenv("JK_P_TIMEOUT");

    char *missing[] = { "prog", "--config", "/nonexistent/jk.conf", NULL };
    assert_int_equal(jk_config_load(s_table, &c, "JK_P_", 3, missing, rest, 4, &nr, &help, &e),
                     JK_ERR_IO);
    assert_non_null(strstr(e.msg, "/nonexistent/jk.conf: cannot open"));
    jk_config_release(s_table, &c);

    char *helpv[] = { "prog", "--help", NULL };
    assert_int_equal(jk_config_load(s_table, &c, "JK_P_", 2, helpv, rest, 4, &nr, &help, &e), JK_OK);
    assert_true(help);
    jk_config_release(s_table, &c);
    unlink(path);
}

static void test_reference_and_print(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    jk_config_write_reference(s_table, "test reference", f);
    fclose(f);
    assert_non_null(strstr(buf, "# redis.port = 6379"));
    assert_non_null(strstr(buf, "# (integer 1..65535)"));
    assert_non_null(strstr(buf, "one of: curve plain"));

    /* The reference file, uncommented, parses back to the defaults. */
    cfg_t c = { 0 };
    jk_error_t e;
    assert_int_equal(jk_config_defaults(s_table, &c, &e), JK_OK);
    char *p = buf;
    char text[4096] = "";
    size_t tl = 0;
    while ((p = strstr(p, "\n# ")) != NULL) {
        p += 3;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        if (memchr(p, '=', (size_t)(nl - p)) && strncmp(p, "Every", 5) != 0) {
            memcpy(text + tl, p, (size_t)(nl - p) + 1);
            tl += (size_t)(nl - p) + 1;
        }
    }
    text[tl] = '\0';
    assert_int_equal(jk_config_parse_string(s_table, &c, text, tl, "ref", &e), JK_OK);
    free(buf);

    buf = NULL;
    f = open_memstream(&buf, &len);
    jk_config_print(s_table, &c, f);
    fclose(f);
    assert_non_null(strstr(buf, "timeout = 2s\n"));
    assert_non_null(strstr(buf, "max-frame = 64KiB\n"));
    assert_non_null(strstr(buf, "redis.host = \"127.0.0.1\"\n"));
    free(buf);
    jk_config_release(s_table, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_parse_string),
        cmocka_unit_test(test_errors_name_file_line_key),
        cmocka_unit_test(test_failed_set_keeps_value),
        cmocka_unit_test(test_long_line_and_nul),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_load_precedence),
        cmocka_unit_test(test_reference_and_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
