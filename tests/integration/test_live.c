/*
 * Integration story: a whole small sitting through the real daemons —
 * two sites, three scorers, CURVE on every link, Redis with its AOF — then
 * the promises counted:
 *   - every answer acknowledged to the load generator is in Redis, exactly
 *     once (its seq stored once; per item the stored answer is the highest
 *     acknowledged one);
 *   - nothing applied twice (stored seqs are exactly 1..last_seq);
 *   - every result equals the library's scoring of the session replayed
 *     from its exam node's write-ahead log;
 *   - the three scorers share the load.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jk_cluster.h"

static void s_run_load(jk_cluster_t *c, const char *tag, const char *sessions)
{
    jk_child_t *load = jk_cluster_load(c, tag, sessions, 8, NULL);
    assert_non_null(load);
    if (!jk_harness_wait_exit(load, 240000) || !jk_harness_exited_with(load, 0)) {
        jk_harness_print_log(load, 3000);
        fail_msg("jkload %s did not finish cleanly", tag);
    }
}

static void test_sitting(void **state)
{
    (void)state;
    jk_cluster_opts_t o;
    jk_cluster_opts_default(&o);
    o.sites = 2;
    o.scorers = 3;
    o.candidates = 15;
    o.clock_scale = 300; /* 90 min = 18 s: the idle candidates' time runs out */
    jk_cluster_t *c = jk_cluster_new(&o);
    assert_non_null(c);

    s_run_load(c, "theory", "L5-theory");
    s_run_load(c, "skills", "L5-skills");
    if (!jk_cluster_wait_settled(c, 120000))
        fail_msg("the exam nodes did not settle (outbox empty, sessions reconciled)");

    size_t answers = 0, sessions = 0, scored = 0;
    const char *tags[] = { "theory", "skills" };
    assert_true(jk_cluster_check_acked(c, tags, 2, &answers));
    assert_true(answers > 500);
    assert_true(jk_cluster_check_dense(c, &sessions));
    assert_true(sessions >= 2 * 2 * 10);
    /* The three scorers share the load: each applied a fair part. */
    long applied = 0;
    for (int i = 0; i < 3; i++) {
        long a = jk_cluster_scorer_stat(c, i, "applied");
        fprintf(stderr, "story: scorer-%d applied %ld events\n", i + 1, a);
        if (a < (long)answers / 10)
            fail_msg("scorer-%d applied only %ld of %zu+ events", i + 1, a, answers);
        applied += a;
    }
    assert_true(applied >= (long)answers);
    /* Both sites took part. */
    for (int s = 0; s < 2; s++)
        assert_true(jk_cluster_examd_stat(c, s, "answers") > 100);
    assert_true(jk_cluster_check_scores(c, &scored));
    assert_true(scored >= sessions / 2);
    fprintf(stderr, "story: %zu acknowledged answers, %zu sessions, %zu scores checked\n", answers,
            sessions, scored);
    assert_true(jk_cluster_logs_clean(c));
    jk_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sitting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
