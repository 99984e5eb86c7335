/*
 * bench_live: the live path's throughput and latency, against the Redis
 * ceiling measured in the same run on the same machine.
 *
 *  1. Ceiling: redis-benchmark runs the jikao library's jk_apply (an answer
 *     event) on a private redis-server with the AOF on (appendfsync
 *     everysec), pipelining 16 — the most this Redis can apply.
 *  2. End to end, with CURVE on every link: simulated candidates answer as
 *     fast as they may (open loop, up to 4 requests in flight each) through
 *     two exam nodes -> broker -> 1, 2 and 4 scorers -> Redis; acknowledged
 *     answers per second, and their ratio to the ceiling.
 *  3. Latency: the same with 2 scorers at a fixed offered rate (default
 *     20,000 answers/s): ack latency p50, p99, p99.9 as candidates see it.
 *
 * Absolute figures wander on shared machines; the ratios are the figures to
 * compare. Everything (daemons, Redis, the load generator) shares this
 * machine's cores, so the end-to-end figure includes the load generator's
 * own cost.
 *
 * Usage: bench_live [--candidates N per site] [--offered R] [--quick]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jk_cluster.h"
#include "jk_harness.h"

static double s_json_num(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(buf, k);
    return p ? atof(p + strlen(k)) : -1;
}

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
     * a false ceiling): 4 keys per new session. */
    rep = jk_harness_redis_cmd(r, "DBSIZE");
    long long keys = rep ? rep->integer : 0;
    if (rep)
        freeReplyObject(rep);
    printf("  redis-benchmark: %d FCALL jk_apply_1 (= jk_apply) with pipelining 16, 50 connections, "
           "AOF everysec; %lld sessions written\n", requests, keys / 3);
    if (keys < requests) {
        fprintf(stderr, "bench: jk_apply_1 did not apply (%lld keys): the ceiling is void\n", keys);
        rps = -1;
    }
    jk_harness_redis_free(&r);
    return rps;
}

typedef struct {
    double eps, p50, p99, p999, acked;
} s_run_t;

static bool s_load(jk_cluster_t *c, const char *tag, double rate, int rounds, s_run_t *out)
{
    const char *extra[] = { "--idle", "0", "--change", "0", "--no-examiners", "--quiet", "--rounds",
                            jk_harness_strf("%d", rounds), NULL };
    jk_child_t *load = jk_cluster_load(c, tag, "L5-theory", rate, extra);
    if (!load || !jk_harness_wait_exit(load, 1800000)) {
        fprintf(stderr, "bench: jkload %s did not finish\n", tag);
        return false;
    }
    const char *json = jk_harness_strf("%s/load-%s.json", jk_cluster_dir(c), tag);
    out->eps = s_json_num(json, "events_per_s");
    out->p50 = s_json_num(json, "p50_ms");
    out->p99 = s_json_num(json, "p99_ms");
    out->p999 = s_json_num(json, "p999_ms");
    out->acked = s_json_num(json, "acked");
    return out->eps > 0;
}

int main(int argc, char **argv)
{
    int per_site = 500, requests = 300000, rounds = 3;
    double offered = 20000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--candidates") == 0 && i + 1 < argc)
            per_site = atoi(argv[++i]);
        else if (strcmp(argv[i], "--offered") == 0 && i + 1 < argc)
            offered = atof(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0) {
            per_site = 150;
            requests = 100000;
            rounds = 1;
        } else {
            fprintf(stderr, "usage: bench_live [--candidates N per site] [--offered R] [--quick]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    printf("bench_live: %d candidates at each of 2 sites, %ld online cores\n", per_site,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("1. Redis ceiling\n");
    double ceiling = s_ceiling(requests);
    printf("  ceiling: %.0f jk_apply/s\n", ceiling);

    printf("2. end to end (CURVE on), answers acknowledged per second\n");
    int scorers[] = { 1, 2, 4 };
    s_run_t runs[3], lat = { 0 };
    double lat_rate = 0;
    for (int k = 0; k < 3; k++) {
        jk_cluster_opts_t o;
        jk_cluster_opts_default(&o);
        o.sites = 2;
        o.scorers = scorers[k];
        o.candidates = per_site;
        o.clock_scale = 1;
        o.kdf_iterations = 1000;
        o.log_level = "warn";
        jk_cluster_t *c = jk_cluster_new(&o);
        if (!c) {
            fprintf(stderr, "bench: cluster set-up failed\n");
            return 1;
        }
        /* Saturate: far more offered than any machine here carries. */
        if (!s_load(c, "max", 1000.0, rounds, &runs[k]))
            return 1;
        printf("  %d scorer%s: %8.0f answers/s  (%5.1f%% of the ceiling)  p50 %.2f ms p99 %.2f ms\n",
               scorers[k], scorers[k] > 1 ? "s" : " ", runs[k].eps,
               ceiling > 0 ? 100.0 * runs[k].eps / ceiling : 0, runs[k].p50, runs[k].p99);
        jk_cluster_free(&c);
        if (scorers[k] == 2) {
            /* 3. Latency at the offered rate: a fresh sitting (sessions of
             * the last run are submitted), 2 scorers. */
            c = jk_cluster_new(&o);
            if (!c)
                return 1;
            lat_rate = offered / (2.0 * per_site);
            if (!s_load(c, "latency", lat_rate, rounds, &lat))
                return 1;
            jk_cluster_free(&c);
        }
    }
    printf("3. latency with 2 scorers at %.0f answers/s offered (%.1f/s per candidate)\n", offered,
           lat_rate);
    printf("  carried %.0f answers/s; ack latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n", lat.eps,
           lat.p50, lat.p99, lat.p999);
    double best = 0;
    for (int k = 0; k < 3; k++)
        if (runs[k].eps > best)
            best = runs[k].eps;
    printf("\nsummary: ceiling %.0f/s; end to end %.0f / %.0f / %.0f per s with 1 / 2 / 4 scorers "
           "(best %.1f%% of the ceiling; aim >= 60%%); p99 %.2f ms at %.0f/s offered (aim <= 20 ms)\n",
           ceiling, runs[0].eps, runs[1].eps, runs[2].eps, ceiling > 0 ? 100.0 * best / ceiling : 0,
           lat.p99, offered);
    return 0;
}
