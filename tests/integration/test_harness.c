/*
 * integration.harness: the harness itself, against real processes and a
 * real redis-server.
 *
 * What it shows: free ports bind; temporary directories are made and
 * removed; a child's exit code, environment and log are what it did; a
 * signal reaches the child's whole process group; wait_for gives up at its
 * deadline; a Redis with AOF comes back after kill -9 with its data, one
 * without AOF comes back empty; and children are killed when the test
 * process ends, whether it exits after a failed assertion or is killed
 * outright. The last two run this binary again in a "role" (selected by
 * JK_HARNESS_TEST_ROLE) so the process that dies is not the test runner.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "jk_harness.h"

#define WAIT_MS 20000

/* ---------------------------------------------------------------------- */
/* Helpers.                                                                 */

/* True when pid no longer runs: gone, or a zombie nobody has reaped yet
 * (PID 1 of a container may never reap it). */
static bool s_pid_gone(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

static bool s_pid_gone_pred(void *ud)
{
    return s_pid_gone(*(pid_t *)ud);
}

/* Reads a decimal pid from a file; 0 if not there (yet). */
static pid_t s_read_pid(const char *path)
{
    long v = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &v) != 1)
        v = 0;
    fclose(f);
    return (pid_t)v;
}

typedef struct {
    const char *path;
    pid_t pid;
} pidfile_t;

static bool s_pidfile_ready(void *ud)
{
    pidfile_t *p = ud;
    p->pid = s_read_pid(p->path);
    return p->pid > 0;
}

static bool s_never(void *ud)
{
    (*(int *)ud)++;
    return false;
}

static bool s_third_time(void *ud)
{
    return ++(*(int *)ud) >= 3;
}

/* ---------------------------------------------------------------------- */
/* Roles: this binary run again as a child of a test.                      */

/* Spawns a long sleep, writes its pid to $JK_HARNESS_TEST_PIDFILE. */
static pid_t s_role_spawn_sleeper(void)
{
    const char *argv[] = {"sleep", "300", NULL};
    jk_child_t *c = jk_harness_spawn(argv, NULL, NULL);
    if (!c)
        return 0;
    const char *pidfile = getenv("JK_HARNESS_TEST_PIDFILE");
    const char *tmp = jk_harness_strf("%s.tmp", pidfile);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 0;
    fprintf(f, "%ld\n", (long)jk_harness_pid(c));
    fclose(f);
    rename(tmp, pidfile); /* appears whole */
    return jk_harness_pid(c);
}

static void role_failing_test(void **state)
{
    (void)state;
    assert_true(s_role_spawn_sleeper() > 0);
    /* The assertion that fails with a child running. */
    assert_int_equal(1, 2);
}

static int s_run_role(const char *role)
{
    if (strcmp(role, "fail") == 0) {
        const struct CMUnitTest t[] = {cmocka_unit_test(role_failing_test)};
        /* Returns the number of failures; main returns it; exit runs the
         * harness clean-up. */
        return cmocka_run_group_tests_name("role-fail", t, NULL, NULL);
    }
    if (strcmp(role, "crash") == 0) {
        if (s_role_spawn_sleeper() <= 0)
            return 2;
        raise(SIGKILL); /* no atexit, no handler: only PDEATHSIG is left */
        return 3;
    }
    fprintf(stderr, "unknown role %s\n", role);
    return 2;
}

/* Runs this binary in a role and checks that its sleeper dies with it. */
static void s_check_role_leaves_nothing(const char *role)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    const char *dir = jk_harness_tempdir("role");
    assert_non_null(dir);
    const char *pidfile = jk_harness_strf("%s/sleeper.pid", dir);
    const char *env[] = {jk_harness_strf("JK_HARNESS_TEST_ROLE=%s", role),
                         jk_harness_strf("JK_HARNESS_TEST_PIDFILE=%s", pidfile),
                         /* what the role leaves behind is removed with ours */
                         jk_harness_strf("TMPDIR=%s", dir), NULL};
    const char *argv[] = {self, NULL};
    jk_child_t *c = jk_harness_spawn(argv, env, NULL);
    assert_non_null(c);

    pidfile_t p = {pidfile, 0};
    if (!jk_harness_wait_for(s_pidfile_ready, &p, WAIT_MS)) {
        jk_harness_print_log(c, 4096);
        fail_msg("role %s never wrote its sleeper's pid", role);
    }
    assert_true(jk_harness_wait_exit(c, WAIT_MS));
    if (strcmp(role, "fail") == 0) {
        /* cmocka reported one failure, and the process exited normally. */
        assert_true(jk_harness_exited_with(c, 1));
        assert_true(jk_harness_log_contains(c, "role_failing_test"));
    }
    if (!jk_harness_wait_for(s_pid_gone_pred, &p.pid, WAIT_MS))
        fail_msg("role %s left its child %ld running", role, (long)p.pid);
    jk_harness_child_free(&c);
}

/* ---------------------------------------------------------------------- */
/* Tests.                                                                   */

static void test_free_port_binds(void **state)
{
    (void)state;
    int port = jk_harness_free_port();
    assert_true(port > 0 && port < 65536);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
}

static void test_tempdir_and_rmtree(void **state)
{
    (void)state;
    const char *d = jk_harness_tempdir("tree");
    assert_non_null(d);
    struct stat st;
    assert_int_equal(stat(d, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    const char *sub = jk_harness_strf("%s/a/b", d);
    assert_int_equal(mkdir(jk_harness_strf("%s/a", d), 0755), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    FILE *f = fopen(jk_harness_strf("%s/file", sub), "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    assert_int_equal(symlink("/", jk_harness_strf("%s/link", sub)), 0);
    assert_true(jk_harness_rmtree(d));
    assert_int_not_equal(stat(d, &st), 0);
    /* A second removal of what is gone is fine. */
    assert_true(jk_harness_rmtree(d));
    /* A bad label is refused. */
    assert_null(jk_harness_tempdir("../x"));
}

static void test_spawn_exit_env_log(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "echo hello-$JK_HARNESS_X; echo oops >&2; exit 3", NULL};
    const char *env[] = {"JK_HARNESS_X=42", NULL};
    jk_child_t *c = jk_harness_spawn(argv, env, NULL);
    assert_non_null(c);
    assert_true(jk_harness_wait_exit(c, WAIT_MS));
    assert_true(jk_harness_exited_with(c, 3));
    assert_false(jk_harness_running(c));
    assert_true(jk_harness_log_contains(c, "hello-42"));
    assert_true(jk_harness_log_contains(c, "oops"));
    assert_false(jk_harness_log_contains(c, "not-there"));
    /* A reaped child cannot be signalled. */
    assert_false(jk_harness_kill(c, SIGTERM));
    jk_harness_child_free(&c);
    assert_null(c);
    jk_harness_child_free(&c); /* NULL is fine */
}

static void test_spawn_missing_program(void **state)
{
    (void)state;
    const char *argv[] = {"jk-no-such-program-anywhere", NULL};
    assert_null(jk_harness_spawn(argv, NULL, NULL));
    const char *argv2[] = {"/nonexistent/dir/prog", NULL};
    assert_null(jk_harness_spawn(argv2, NULL, NULL));
    assert_null(jk_harness_spawn(NULL, NULL, NULL));
}

static void test_kill_reaches_group(void **state)
{
    (void)state;
    const char *dir = jk_harness_tempdir("group");
    assert_non_null(dir);
    const char *pidfile = jk_harness_strf("%s/grandchild.pid", dir);
    const char *script = jk_harness_strf(
        "sleep 300 & echo $! > %s.tmp && mv %s.tmp %s; wait", pidfile, pidfile, pidfile);
    const char *argv[] = {"sh", "-c", script, NULL};
    jk_child_t *c = jk_harness_spawn(argv, NULL, NULL);
    assert_non_null(c);
    pidfile_t p = {pidfile, 0};
    assert_true(jk_harness_wait_for(s_pidfile_ready, &p, WAIT_MS));
    assert_true(jk_harness_running(c));
    /* Not yet: a short wait times out and leaves it running. */
    assert_false(jk_harness_wait_exit(c, 10));
    assert_true(jk_harness_kill(c, SIGTERM));
    assert_true(jk_harness_wait_exit(c, WAIT_MS));
    assert_true(WIFSIGNALED(jk_harness_exit_status(c)));
    assert_true(jk_harness_wait_for(s_pid_gone_pred, &p.pid, WAIT_MS));
    jk_harness_child_free(&c);
}

static void test_wait_for(void **state)
{
    (void)state;
    int calls = 0;
    assert_false(jk_harness_wait_for(s_never, &calls, 30));
    assert_true(calls >= 2);
    calls = 0;
    assert_true(jk_harness_wait_for(s_third_time, &calls, WAIT_MS));
    assert_int_equal(calls, 3);
}

/* True once Redis has written its AOF buffer to the file. With appendfsync
 * everysec a write() can be postponed while a background fsync is slow
 * (a busy disk): a kill -9 then would lose it, which is Redis's documented
 * behaviour and not what this story is about. */
static bool s_aof_written(void *ud)
{
    redisReply *rep = jk_harness_redis_cmd(ud, "INFO persistence");
    bool ok = rep && rep->type == REDIS_REPLY_STRING && strstr(rep->str, "aof_buffer_length:0\r\n");
    if (rep)
        freeReplyObject(rep);
    return ok;
}

static void test_redis_aof_survives_kill9(void **state)
{
    (void)state;
    jk_redis_t *r = jk_harness_redis_start(NULL, 0, true);
    assert_non_null(r);
    assert_true(jk_harness_redis_port(r) > 0);

    redisReply *rep = jk_harness_redis_cmd(r, "SET %s %b", "jk:{t}:k", "v\0w", (size_t)3);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    rep = jk_harness_redis_cmd(r, "HSET %s a 1 b 2", "jk:{t}:h");
    assert_non_null(rep);
    freeReplyObject(rep);

    assert_true(jk_harness_wait_for(s_aof_written, r, 10000));
    pid_t old = jk_harness_pid(jk_harness_redis_child(r));
    assert_true(jk_harness_redis_kill(r));
    assert_null(jk_harness_redis_child(r));
    assert_true(s_pid_gone(old));
    /* Nobody answers now. */
    assert_null(jk_harness_redis_cmd(r, "PING"));

    assert_true(jk_harness_redis_restart(r));
    rep = jk_harness_redis_cmd(r, "GET %s", "jk:{t}:k");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_int_equal(rep->len, 3);
    assert_memory_equal(rep->str, "v\0w", 3);
    freeReplyObject(rep);
    rep = jk_harness_redis_cmd(r, "HGET %s b", "jk:{t}:h");
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_string_equal(rep->str, "2");
    freeReplyObject(rep);

    /* Clean stop keeps the data too. */
    assert_true(jk_harness_redis_stop(r));
    assert_true(jk_harness_redis_restart(r));
    rep = jk_harness_redis_cmd(r, "EXISTS %s", "jk:{t}:k");
    assert_non_null(rep);
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);

    /* Paused: still running, answers after resume. */
    assert_true(jk_harness_redis_pause(r));
    assert_true(jk_harness_running(jk_harness_redis_child(r)));
    assert_true(jk_harness_redis_resume(r));
    rep = jk_harness_redis_cmd(r, "PING");
    assert_non_null(rep);
    assert_string_equal(rep->str, "PONG");
    freeReplyObject(rep);

    jk_harness_redis_free(&r);
    assert_null(r);
}

static void test_redis_without_aof_restarts_empty(void **state)
{
    (void)state;
    const char *dir = jk_harness_tempdir("redis-noaof");
    assert_non_null(dir);
    jk_redis_t *r = jk_harness_redis_start(dir, 0, false);
    assert_non_null(r);
    assert_string_equal(jk_harness_redis_dir(r), dir);
    redisReply *rep = jk_harness_redis_cmd(r, "SET k v");
    assert_non_null(rep);
    freeReplyObject(rep);
    assert_true(jk_harness_redis_kill(r));
    assert_true(jk_harness_redis_restart(r));
    rep = jk_harness_redis_cmd(r, "EXISTS k");
    assert_non_null(rep);
    assert_int_equal(rep->integer, 0);
    freeReplyObject(rep);

    /* The sync connection helper. */
    redisContext *c = jk_harness_redis_connect(r);
    assert_non_null(c);
    rep = redisCommand(c, "INCR n");
    assert_non_null(rep);
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    redisFree(c);
    /* Left running on purpose: clean-up at exit stops it. */
}

static void test_children_die_when_test_fails(void **state)
{
    (void)state;
    s_check_role_leaves_nothing("fail");
}

static void test_children_die_when_test_is_killed(void **state)
{
    (void)state;
    s_check_role_leaves_nothing("crash");
}

int main(void)
{
    const char *role = getenv("JK_HARNESS_TEST_ROLE");
    if (role)
        return s_run_role(role);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_port_binds),
        cmocka_unit_test(test_tempdir_and_rmtree),
        cmocka_unit_test(test_spawn_exit_env_log),
        cmocka_unit_test(test_spawn_missing_program),
        cmocka_unit_test(test_kill_reaches_group),
        cmocka_unit_test(test_wait_for),
        cmocka_unit_test(test_redis_aof_survives_kill9),
        cmocka_unit_test(test_redis_without_aof_restarts_empty),
        cmocka_unit_test(test_children_die_when_test_fails),
        cmocka_unit_test(test_children_die_when_test_is_killed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
