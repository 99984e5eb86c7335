/*
 * bench_live: the live path's throughput and latency, against the Redis
 * ceiling measured in the same run on the same machine.
 *
 *  1. Ceiling: redis-benchmark runs the jikao library's jk_apply (an answer
 *     event) on a private redis-server with the AOF on (appendfsync
 *     everysec), pipelining 16, 50 connections: the most this Redis can
 *     apply.
 *  2. Saturation, with CURVE on every link: simulated candidates answer as
 *     fast as they may (up to 4 requests in flight each) through two exam
 *     nodes -> broker -> 1, 2 and 4 scorers -> Redis. Two rates: answers
 *     acknowledged to candidates (durable in examd's log; the center applies
 *     them after), and end to end: acknowledged answers over the time until
 *     the last one is applied in Redis (every outbox empty). The second is
 *     the one compared with the ceiling.
 *  3. Latency: 2 scorers at fixed offered rates (a quarter, half and all of
 *     --offered, default 20,000 answers/s): ack latency p50, p99, p99.9 as
 *     candidates see it.
 *
 * Absolute figures wander on shared machines; the ratios are the figures to
 * compare. Everything (daemons, Redis, the load generator) shares this
 * machine's cores, so the end-to-end figure includes the load generator's
 * own cost.
 *
 * Usage: bench_live [--candidates N per site] [--offered R] [--quick]
 * Environment: JK_BENCH_LOG=info keeps the daemons' stats lines in their
 * logs (with JK_HARNESS_KEEP=1 the cluster directories stay for reading).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "jk_clock.h"
#include "jk_cluster.h"
#include "jk_harness.h"

/* The Redis ceiling: requests/s of redis-benchmark on jk_apply. */
static double s_ceiling(int requests)
{
    jk_redis_t *r = jk_harness_redis_start(NULL, 0, true);
    if (!r)
        return -1;
    FILE *f = fopen(JK_SOURCE_DIR "/scorerd/jikao.lua", "r");
    static char lua[1 << 20];
    size_t n = f ? fread(lua, 1, sizeof lua, f) : 0;
    if (f)
        fclose(f);
    redisReply *rep = jk_harness_redis_cmd(r, "FUNCTION LOAD REPLACE %b", lua, n);
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bench: FUNCTION LOAD failed: %s\n", rep ? rep->str : "no reply");
        return -1;
    }
    freeReplyObject(rep);
    const char *out = jk_harness_strf("%s/redis-benchmark.csv", jk_harness_redis_dir(r));
    const char *argv[] = { "redis-benchmark", "-h", "127.0.0.1", "-p",
                           jk_harness_strf("%d", jk_harness_redis_port(r)), "-n",
                           jk_harness_strf("%d", requests), "-c", "50", "-P", "16", "-r", "100000000",
                           "--csv", "FCALL", "jk_apply_1", "1", "jk:{__rand_int__}",
                           "1", "0123456789abcdef0123456789abcdef", "answer", "1796000000000", "IT",
                           "S01", "R1", "C1", "T-1", "0", "1", "", NULL };
    jk_child_t *ch = jk_harness_spawn(argv, NULL, out);
    if (!ch || !jk_harness_wait_exit(ch, 600000)) {
        fprintf(stderr, "bench: redis-benchmark did not run\n");
        return -1;
    }
    /* Last line: "FCALL ...","<rps>",... */
    f = fopen(out, "r");
    char line[4096];
    double rps = -1;
    while (f && fgets(line, sizeof line, f)) {
        char *q = strstr(line, "\",\"");
        if (strncmp(line, "\"FCALL", 6) == 0 && q)
            rps = atof(q + 3);
    }
    if (f)
        fclose(f);
    /* The calls must have applied (an error reply is fast and would make
     * a false ceiling): an answer to a new session makes 3 keys. */
    rep = jk_harness_redis_cmd(r, "DBSIZE");
    long long keys = rep ? rep->integer : 0;
    if (rep)
        freeReplyObject(rep);
    printf("  redis-benchmark: %d FCALL jk_apply_1 (= jk_apply) with pipelining 16, 50 connections, "
           "AOF everysec; %lld sessions written\n", requests, keys / 3);
    /* 3 keys per applied call; random sessions collide in ~0.15% of calls. */
    if (keys < 3LL * requests * 99 / 100) {
        fprintf(stderr, "bench: jk_apply_1 did not apply (%lld keys): the ceiling is void\n", keys);
        rps = -1;
    }
    jk_harness_redis_free(&r);
    return rps;
}

typedef struct {
    double eps;       /* acknowledged to candidates per second (examd's WAL) */
    double e2e;       /* and applied in Redis: until every outbox drained */
    double drain_s;   /* from the load's end until the outboxes were empty */
    double p50, p99, p999, acked;
    double s99, s999; /* after every candidate had logged in */
} s_run_t;

static double s_now_s(void)
{
    return jk_clock_mono_us(jk_clock_system()) / 1e6;
}

static bool s_drained(void *arg)
{
    jk_cluster_t *c = arg;
    for (int s = 0; s < jk_cluster_sites(c); s++)
        if (jk_cluster_status(c, s, "outbox") != 0)
            return false;
    return true;
}

static bool s_load(jk_cluster_t *c, const char *tag, double rate, int rounds, s_run_t *out)
{
    const char *extra[] = { "--idle", "0", "--change", "0", "--no-examiners", "--quiet", "--rounds",
                            jk_harness_strf("%d", rounds), NULL };
    jk_child_t *load = jk_cluster_load(c, tag, "L5-theory", rate, extra);
    if (!load || !jk_harness_wait_exit(load, 1800000)) {
        fprintf(stderr, "bench: jkload %s did not finish\n", tag);
        return false;
    }
    /* An answer is acknowledged once in examd's log; the center applies
     * it after. End to end counts until the last one is in Redis. */
    double t0 = s_now_s();
    if (!jk_harness_wait_for(s_drained, c, 600000)) {
        fprintf(stderr, "bench: the outboxes did not drain\n");
        return false;
    }
    out->drain_s = s_now_s() - t0;
    const char *path = jk_harness_strf("%s/load-%s.json", jk_cluster_dir(c), tag);
    json_t *j = json_load_file(path, 0, NULL);
    if (!j) {
        fprintf(stderr, "bench: %s: no figures from jkload\n", path);
        return false;
    }
    out->eps = json_number_value(json_object_get(j, "events_per_s"));
    out->p50 = json_number_value(json_object_get(j, "p50_ms"));
    out->p99 = json_number_value(json_object_get(j, "p99_ms"));
    out->p999 = json_number_value(json_object_get(j, "p999_ms"));
    out->acked = json_number_value(json_object_get(j, "acked"));
    out->s99 = json_number_value(json_object_get(j, "steady_p99_ms"));
    out->s999 = json_number_value(json_object_get(j, "steady_p999_ms"));
    double seconds = json_number_value(json_object_get(j, "seconds"));
    json_decref(j);
    out->e2e = seconds > 0 ? out->acked / (seconds + out->drain_s) : 0;
    return out->eps > 0;
}

static jk_cluster_t *s_cluster(int scorers, int per_site)
{
    jk_cluster_opts_t o;
    jk_cluster_opts_default(&o);
    o.sites = 2;
    o.scorers = scorers;
    o.candidates = per_site;
    o.clock_scale = 1;
    o.kdf_iterations = 1000;
    o.log_level = getenv("JK_BENCH_LOG") ? getenv("JK_BENCH_LOG") : "warn";
    jk_cluster_t *c = jk_cluster_new(&o);
    if (!c)
        fprintf(stderr, "bench: cluster set-up failed\n");
    return c;
}

/* Items on an L5 theory paper (the blueprint's 20 + 60 + 10). */
#define S_ITEMS_PER_PAPER 90

int main(int argc, char **argv)
{
    int per_site = 500, requests = 300000, rounds = 3;
    double offered = 20000, seconds = 10;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--candidates") == 0 && i + 1 < argc)
            per_site = atoi(argv[++i]);
        else if (strcmp(argv[i], "--offered") == 0 && i + 1 < argc)
            offered = atof(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0) {
            per_site = 150;
            requests = 100000;
            rounds = 1;
            seconds = 3;
        } else {
            fprintf(stderr, "usage: bench_live [--candidates N per site] [--offered R] [--quick]\n");
            return 2;
        }
    }
    if (per_site < 1 || !(offered > 0)) {
        fprintf(stderr, "bench: --candidates and --offered must be positive\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("bench_live: %d candidates at each of 2 sites, %ld online cores\n", per_site,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("1. Redis ceiling\n");
    double ceiling = s_ceiling(requests);
    printf("  ceiling: %.0f jk_apply/s\n", ceiling);

    printf("2. saturation (CURVE on): answers acknowledged to candidates, and applied in Redis\n");
    int scorers[] = { 1, 2, 4 };
    s_run_t runs[3];
    double best = 0;
    for (int k = 0; k < 3; k++) {
        jk_cluster_t *c = s_cluster(scorers[k], per_site);
        /* Far more offered than any machine here carries. */
        if (!c || !s_load(c, "max", 1000.0, rounds, &runs[k]))
            return 1;
        jk_cluster_free(&c);
        printf("  %d scorer%s: end to end %6.0f/s (%5.1f%% of the ceiling); acknowledged %6.0f/s, "
               "drained %.1f s after; ack p50 %.1f ms p99 %.1f ms\n",
               scorers[k], scorers[k] > 1 ? "s" : " ", runs[k].e2e,
               ceiling > 0 ? 100.0 * runs[k].e2e / ceiling : 0, runs[k].eps, runs[k].drain_s,
               runs[k].p50, runs[k].p99);
        if (runs[k].e2e > best)
            best = runs[k].e2e;
    }

    printf("3. ack latency at a fixed offered rate, 2 scorers\n");
    double rates[] = { offered / 4, offered / 2, offered };
    s_run_t lat[3];
    for (int k = 0; k < 3; k++) {
        double per_cand = rates[k] / (2.0 * per_site);
        int r = (int)(seconds * per_cand / S_ITEMS_PER_PAPER + 0.999);
        jk_cluster_t *c = s_cluster(2, per_site);
        if (!c || !s_load(c, "latency", per_cand, r < 1 ? 1 : r, &lat[k]))
            return 1;
        jk_cluster_free(&c);
        printf("  offered %6.0f/s: carried %6.0f/s end to end; ack p50 %6.2f ms p99 %7.2f ms "
               "p99.9 %7.2f ms; once all logged in: p99 %7.2f ms p99.9 %7.2f ms\n",
               rates[k], lat[k].e2e, lat[k].p50, lat[k].p99, lat[k].p999, lat[k].s99, lat[k].s999);
    }
    printf("\nsummary: ceiling %.0f/s; end to end %.0f / %.0f / %.0f per s with 1 / 2 / 4 scorers "
           "(best %.1f%% of the ceiling; aim >= 60%%); p99 %.2f ms at %.0f/s offered "
           "(aim <= 20 ms; %.2f ms once all logged in), %.2f ms at %.0f/s\n",
           ceiling, runs[0].e2e, runs[1].e2e, runs[2].e2e, ceiling > 0 ? 100.0 * best / ceiling : 0,
           lat[2].p99, rates[2], lat[2].s99, lat[0].p99, rates[0]);
    return 0;
}
