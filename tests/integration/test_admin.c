/*
 * Integration story: jkadmin as an agency uses it — the offline flow on the
 * sample data succeeds, and each kind of bad input gets the documented exit
 * code (1 invalid input, 2 usage, 3 failure) and an error that names the
 * file and where in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "jk_harness.h"

static const char *g_dir;

static int s_setup(void **state)
{
    (void)state;
    g_dir = jk_harness_tempdir("admin");
    return g_dir ? 0 : -1;
}

/* Runs jkadmin with args; returns its exit code, its output in *log. */
static int s_admin(const char **log, const char *first, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = JK_HARNESS_JKADMIN_BIN;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    static int seq;
    const char *path = jk_harness_strf("%s/run-%d.log", g_dir, ++seq);
    jk_child_t *c = jk_harness_spawn(argv, NULL, path);
    assert_non_null(c);
    assert_true(jk_harness_wait_exit(c, 120000));
    int st = jk_harness_exit_status(c);
    *log = path;
    jk_harness_child_free(&c);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool s_log_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    static char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    if (!strstr(buf, needle)) {
        fprintf(stderr, "--- %s lacks '%s':\n%.2000s\n", path, needle, buf);
        return false;
    }
    return true;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#define DATA JK_SOURCE_DIR "/data"

static void test_offline_flow(void **state)
{
    (void)state;
    const char *log;
    assert_int_equal(s_admin(&log, "standard", "check", NULL), 0);
    assert_true(s_log_has(log, "3-01-04-03"));
    assert_int_equal(s_admin(&log, "bank", "check", NULL), 0);
    assert_int_equal(s_admin(&log, "candidates", "import", DATA "/candidates.csv", "--plan", DATA "/plan.json", NULL), 0);
    assert_true(s_log_has(log, "not eligible"));
    assert_int_equal(s_admin(&log, "plan", "check", DATA "/plan.json", NULL), 0);
    const char *out = jk_harness_strf("%s/sitting", g_dir);
    assert_int_equal(s_admin(&log, "papers", "build", "--plan", DATA "/plan.json", "--candidates",
                             DATA "/candidates.csv", "--out", out, "--kdf-iterations", "1000", NULL), 0);
    assert_true(s_log_has(log, "papers build:"));
    const char *pkg = jk_harness_strf("%s/sites/S01.jkpkg", out);
    const char *pub = jk_harness_strf("%s/sites/center-signing.pub", out);
    assert_int_equal(s_admin(&log, "package", "verify", pkg, "--key", pub, "--keys",
                             jk_harness_strf("%s/center/keys.json", out), NULL), 0);
    assert_true(s_log_has(log, "no answer keys inside"));
    /* A changed byte anywhere is found. */
    FILE *f = fopen(pkg, "r+b");
    assert_non_null(f);
    fseek(f, 300, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 300, SEEK_SET);
    fputc(ch ^ 0x20, f);
    fclose(f);
    assert_int_equal(s_admin(&log, "package", "verify", pkg, "--key", pub, NULL), 1);
    /* A package verified with another center's key is refused. */
    const char *keys2 = jk_harness_strf("%s/other", g_dir);
    assert_int_equal(s_admin(&log, "papers", "build", "--plan", DATA "/plan.json", "--candidates",
                             DATA "/candidates.csv", "--out", keys2, "--kdf-iterations", "1000", NULL), 0);
    assert_int_equal(s_admin(&log, "package", "verify", jk_harness_strf("%s/sites/S02.jkpkg", out),
                             "--key", jk_harness_strf("%s/sites/center-signing.pub", keys2), NULL), 1);
    /* A release names its package's digest, so it needs the very packages
     * of the keys file: another build's are refused, as is a tampered one,
     * before anything is sent. */
    const char *keys_json = jk_harness_strf("%s/center/keys.json", out);
    assert_int_equal(s_admin(&log, "sitting", "release", "--broker", "tcp://127.0.0.1:9", "--plain",
                             "--keys", keys_json, "--site", "S02", "--packages",
                             jk_harness_strf("%s/sites", keys2), NULL), 1);
    assert_true(s_log_has(log, "site S02"));
    assert_true(s_log_has(log, "the keys file releases"));
    assert_int_equal(s_admin(&log, "sitting", "release", "--broker", "tcp://127.0.0.1:9", "--plain",
                             "--keys", keys_json, "--site", "S01", NULL), 1);
    assert_true(s_log_has(log, "site S01"));
}

static void test_bad_inputs(void **state)
{
    (void)state;
    const char *log;
    /* Usage. */
    assert_int_equal(s_admin(&log, "frobnicate", NULL), 2);
    assert_int_equal(s_admin(&log, "bank", "generate", NULL), 2);
    /* A broken standard: file, line and column. */
    const char *std = jk_harness_strf("%s/standard.json", g_dir);
    s_write(std, "{\n  \"format\": \"jikao-standard\",\n  oops\n}\n");
    assert_int_equal(s_admin(&log, "standard", "check", std, NULL), 1);
    assert_true(s_log_has(log, "standard.json: line 3, column"));
    /* A bank with an unknown ref and a bad key: file, JSON path, id, field. */
    const char *bank = jk_harness_strf("%s/bank.json", g_dir);
    s_write(bank, "{\"format\":\"jikao-bank\",\"format_version\":1,\"bank\":{\"id\":\"b\"},\"items\":["
                  "{\"id\":\"X1\",\"type\":\"single\",\"level\":5,\"ref\":\"9.9\",\"stem\":\"s\","
                  "\"options\":[{\"id\":\"A\",\"text\":\"a\"},{\"id\":\"B\",\"text\":\"b\"}],\"key\":\"C\","
                  "\"points\":1,\"basis\":\"b\"}]}");
    assert_int_equal(s_admin(&log, "bank", "check", bank, NULL), 1);
    assert_true(s_log_has(log, "bank.json: $.items[0] (X1): ref: '9.9' is not a requirement"));
    assert_true(s_log_has(log, "key: expected one option id"));
    /* Candidates: bad rows named by line and column, good rows kept. */
    assert_int_equal(s_admin(&log, "candidates", "import", JK_SOURCE_DIR "/tests/fixtures/candidates/mixed-errors.csv",
                             "--on", "2026-12-12", NULL), 1);
    assert_true(s_log_has(log, "mixed-errors.csv: line 4"));
    assert_true(s_log_has(log, "imported"));
    /* A plan with an exam shorter than the standard's 90 minutes. */
    const char *plan = jk_harness_strf("%s/plan.json", g_dir);
    s_write(plan, "{\"format\":\"jikao-plan\",\"format_version\":1,\"sitting\":{\"id\":\"P\",\"name\":\"p\"},"
                  "\"sessions\":[{\"id\":\"L5-theory\",\"level\":5,\"exam\":\"theory\","
                  "\"start\":\"2026-12-12T09:00:00+08:00\",\"minutes\":89}],"
                  "\"sites\":[{\"id\":\"S1\",\"name\":\"s\",\"rooms\":[{\"id\":\"R1\",\"name\":\"r\",\"seats\":30}]}],"
                  "\"staff\":[{\"id\":\"P1\",\"name\":\"p\",\"roles\":[\"proctor\"]}]}");
    assert_int_equal(s_admin(&log, "plan", "check", plan, NULL), 1);
    assert_true(s_log_has(log, "plan.json: $.sessions[0]"));
    assert_true(s_log_has(log, "90"));
    /* The same plan at 90 minutes, but one proctor for a room: the shortfall
     * names the room and the role. */
    s_write(plan, "{\"format\":\"jikao-plan\",\"format_version\":1,\"sitting\":{\"id\":\"P\",\"name\":\"p\"},"
                  "\"sessions\":[{\"id\":\"L5-theory\",\"level\":5,\"exam\":\"theory\","
                  "\"start\":\"2026-12-12T09:00:00+08:00\",\"minutes\":90}],"
                  "\"sites\":[{\"id\":\"S1\",\"name\":\"s\",\"rooms\":[{\"id\":\"R1\",\"name\":\"r\",\"seats\":200}]}],"
                  "\"staff\":[{\"id\":\"P1\",\"name\":\"p\",\"roles\":[\"proctor\"]}]}");
    assert_int_equal(s_admin(&log, "plan", "assign", "--plan", plan, "--candidates", DATA "/candidates.csv", NULL), 1);
    assert_true(s_log_has(log, "room R1: proctors: needs"));
    /* QTI with a path that leaves its package. */
    assert_int_equal(s_admin(&log, "bank", "import", "--out", jk_harness_strf("%s/q.json", g_dir),
                             "--level", "5", "--basis", "x", JK_SOURCE_DIR "/tests/fixtures/qti/package", NULL), 1);
    assert_true(s_log_has(log, "leaves the package directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_flow),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
