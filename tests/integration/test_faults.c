/*
 * Integration stories: crashes under load, then the promises counted.
 *
 * story_crashes: while simulated candidates answer, kill -9 a scorer (the
 * others take over), kill -9 and restart the broker, kill -9 and restart an
 * exam node (its candidates log in again and carry on), kill -9 and restart
 * redis-server (from its AOF). Then: no acknowledged answer missing, nothing
 * applied twice, every result equal to a replay of the exam nodes' logs.
 *
 * story_node_restart_keeps_time: an exam node killed mid-exam comes back
 * with every session's answers, and the time it was down is credited back
 * to the candidates (not charged).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jk_cluster.h"

typedef struct {
    jk_cluster_t *c;
    long min;
} s_answers_t;

static long s_answers(jk_cluster_t *c)
{
    long n = 0;
    for (int s = 0; s < jk_cluster_sites(c); s++) {
        long v = jk_cluster_status(c, s, "answers");
        n += v > 0 ? v : 0;
    }
    return n;
}

static bool s_answers_reach(void *ud)
{
    s_answers_t *a = ud;
    return s_answers(a->c) >= a->min;
}

static void s_wait_answers(jk_cluster_t *c, long more, const char *what)
{
    s_answers_t a = { c, s_answers(c) + more };
    JK_HARNESS_WAIT(s_answers_reach, &a, 120000, what);
}

static bool s_released(void *ud)
{
    jk_cluster_t *c = ud;
    char buf[4096];
    return jk_cluster_staff(c, 0, "status", buf, sizeof buf) && strstr(buf, "released=yes") &&
           strstr(buf, "broker=up");
}

static void test_crashes(void **state)
{
    (void)state;
    jk_cluster_opts_t o;
    jk_cluster_opts_default(&o);
    o.sites = 2;
    o.scorers = 3;
    o.candidates = 15;
    o.clock_scale = 120; /* 90 minutes = 45 s: most finish, a few are timed out */
    jk_cluster_t *c = jk_cluster_new(&o);
    assert_non_null(c);
    const char *slow[] = { "--idle", "0.1", NULL };
    jk_child_t *load = jk_cluster_load(c, "theory", "L5-theory", 3, slow);
    assert_non_null(load);

    s_wait_answers(c, 200, "answers before the scorer crash");
    fprintf(stderr, "story: kill -9 scorer-1\n");
    assert_true(jk_cluster_kill_scorer(c, 0, SIGKILL));

    s_wait_answers(c, 200, "answers with a scorer gone");
    fprintf(stderr, "story: kill -9 the broker, restart it\n");
    assert_true(jk_cluster_kill_broker(c, SIGKILL));
    assert_true(jk_cluster_start_broker(c));

    s_wait_answers(c, 200, "answers after the broker restart");
    fprintf(stderr, "story: kill -9 examd S01, restart it\n");
    assert_true(jk_cluster_kill_examd(c, 0, SIGKILL));
    assert_true(jk_cluster_start_examd(c, 0));
    JK_HARNESS_WAIT(s_released, c, 30000, "examd S01 back, package open, broker up");

    s_wait_answers(c, 200, "answers after the exam node restart");
    fprintf(stderr, "story: kill -9 redis-server, restart it from its AOF\n");
    assert_true(jk_harness_redis_kill(jk_cluster_redis(c)));
    assert_true(jk_harness_redis_restart(jk_cluster_redis(c)));
    fprintf(stderr, "story: restart scorer-1\n");
    assert_true(jk_cluster_start_scorer(c, 0));

    if (!jk_harness_wait_exit(load, 300000)) {
        jk_harness_print_log(load, 3000);
        fail_msg("jkload did not finish");
    }
    jk_harness_print_log(load, 600);
    const char *quick[] = { "--idle", "0", NULL };
    jk_child_t *skills = jk_cluster_load(c, "skills", "L5-skills", 6, quick);
    assert_true(jk_harness_wait_exit(skills, 300000));
    if (!jk_cluster_wait_settled(c, 240000))
        fail_msg("the exam nodes did not settle after the crashes");

    size_t answers = 0, sessions = 0, scored = 0;
    const char *tags[] = { "theory", "skills" };
    assert_true(jk_cluster_check_acked(c, tags, 2, &answers));
    assert_true(jk_cluster_check_dense(c, &sessions));
    assert_true(jk_cluster_check_scores(c, &scored));
    fprintf(stderr, "story: after four crashes: %zu acknowledged answers all in Redis, %zu sessions "
                    "dense, %zu scores equal to the logs' replay\n",
            answers, sessions, scored);
    assert_true(answers > 1000);
    assert_true(sessions > 0 && scored > 0);
    assert_true(jk_cluster_logs_clean(c));
    jk_cluster_free(&c);
}

/* Remaining time and answers of one session, from the staff endpoint. */
static bool s_session(jk_cluster_t *c, const char *sid, long *remaining, long *answered)
{
    char cmd[128], buf[4096];
    snprintf(cmd, sizeof cmd, "session %s", sid);
    if (!jk_cluster_staff(c, 0, cmd, buf, sizeof buf) || strncmp(buf, "ok", 2) != 0)
        return false;
    const char *r = strstr(buf, " remaining_ms="), *a = strstr(buf, " answered=");
    if (!r || !a || !strstr(buf, "state=IN_PROGRESS"))
        return false;
    *remaining = atol(r + 14);
    *answered = atol(a + 10);
    return true;
}

typedef struct {
    jk_cluster_t *c;
    char sid[80];
} s_pick_t;

/* A session in progress with some answers. */
static bool s_pick(void *ud)
{
    s_pick_t *p = ud;
    char buf[65536];
    if (!jk_cluster_staff(p->c, 0, "sessions IN_PROGRESS", buf, sizeof buf))
        return false;
    char *tok = strtok(buf, " ");
    while ((tok = strtok(NULL, " ")) != NULL) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        long rem, ans;
        if (s_session(p->c, tok, &rem, &ans) && ans >= 5) {
            snprintf(p->sid, sizeof p->sid, "%s", tok);
            return true;
        }
    }
    return false;
}

static void test_node_restart_keeps_time(void **state)
{
    (void)state;
    jk_cluster_opts_t o;
    jk_cluster_opts_default(&o);
    o.sites = 1;
    o.scorers = 1;
    o.candidates = 6;
    o.clock_scale = 20; /* 90 minutes = 270 s; downtime of ~5 s = ~100 exam seconds */
    jk_cluster_t *c = jk_cluster_new(&o);
    assert_non_null(c);
    const char *args[] = { "--idle", "0", NULL };
    jk_child_t *load = jk_cluster_load(c, "theory", "L5-theory", 0.5, args);
    s_pick_t p = { c, "" };
    JK_HARNESS_WAIT(s_pick, &p, 60000, "a session in progress with answers");

    long r1, a1, r2, a2;
    assert_true(s_session(c, p.sid, &r1, &a1));
    struct timespec t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(jk_cluster_kill_examd(c, 0, SIGKILL));
    sleep(5); /* the node is down: that is the point of the story */
    assert_true(jk_cluster_start_examd(c, 0));
    JK_HARNESS_WAIT(s_released, c, 30000, "examd back");
    assert_true(s_session(c, p.sid, &r2, &a2));
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double elapsed_real = (double)(t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) / 1e9;
    double charged_exam_ms = (double)(r1 - r2);
    double uncredited_ms = elapsed_real * 1000 * o.clock_scale;
    fprintf(stderr, "story: %s: remaining %ld ms before the crash, %ld ms after; %.1f s real "
                    "(%.0f exam ms) passed; answers %ld -> %ld\n",
            p.sid, r1, r2, elapsed_real, uncredited_ms, a1, a2);
    /* Answers kept. */
    assert_true(a2 >= a1);
    /* Without the credit the whole interval would be charged. With it, at
     * most the uncertain tail before the crash (one 2 s tick) and the
     * restart's own seconds are: far less than the 5 s the node was down. */
    assert_true(charged_exam_ms < uncredited_ms - 3.0 * 1000 * o.clock_scale);
    jk_harness_kill(load, SIGTERM);
    jk_harness_wait_exit(load, 10000);
    assert_true(jk_cluster_logs_clean(c));
    jk_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_restart_keeps_time),
        cmocka_unit_test(test_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
