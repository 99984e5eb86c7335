/*
 * jk_cluster: a small sitting with every daemon running; see jk_cluster.h.
 *
 * The sitting is built through the real command-line tools (jkadmin papers
 * build, keys, sitting release) so the stories exercise the same path an
 * operator uses. The checks read Redis directly and replay examd's log with
 * the library, independently of the daemons' own code paths.
 */
#define _GNU_SOURCE
#include "jk_cluster.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "jk_bank.h"
#include "jk_candidates.h"
#include "jk_codec.h"
#include "jk_date.h"
#include "jk_eligibility.h"
#include "jk_score.h"
#include "jk_sitting.h"
#include "jk_standard.h"
#include "jk_strmap.h"
#include "jk_wal.h"

struct jk_cluster {
    jk_cluster_opts_t o;
    const char *dir, *sitting, *center, *keys, *logs;
    jk_redis_t *redis;
    char front[64], back[64], pub[64];
    jk_child_t *broker;
    jk_child_t *scorer[JK_CLUSTER_MAX_SCORERS];
    jk_child_t *examd[JK_CLUSTER_MAX_SITES];
    char site[JK_CLUSTER_MAX_SITES][8];
    char cand_ep[JK_CLUSTER_MAX_SITES][64], staff_ep[JK_CLUSTER_MAX_SITES][64];
    int64_t clock_origin_ms;
    void *zctx;
};

void jk_cluster_opts_default(jk_cluster_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->sites = 1;
    o->scorers = 2;
    o->candidates = 20;
    o->clock_scale = 120;
    o->curve = true;
    o->aof = true;
    o->kdf_iterations = 2000; /* fast set-up; the real default is 20000 */
}

static bool s_run(const char *const argv[], const char *log)
{
    jk_child_t *ch = jk_harness_spawn(argv, NULL, log);
    if (!ch)
        return false;
    bool ok = jk_harness_wait_exit(ch, 120000) && jk_harness_exited_with(ch, 0);
    if (!ok) {
        fprintf(stderr, "jk_cluster: %s failed\n", argv[1] ? argv[1] : argv[0]);
        jk_harness_print_log(ch, 4000);
    }
    jk_harness_child_free(&ch);
    return ok;
}

static bool s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

/* A test plan: L5 theory and skills at every site, one 30-seat room and
 * enough staff per site. */
static bool s_plan(jk_cluster_t *c, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "{\"format\":\"jikao-plan\",\"format_version\":1,"
               "\"sitting\":{\"id\":\"IT-2026\",\"name\":\"integration sitting\"},"
               "\"sessions\":["
               "{\"id\":\"L5-theory\",\"level\":5,\"exam\":\"theory\",\"start\":\"2026-12-12T09:00:00+08:00\",\"minutes\":90},"
               "{\"id\":\"L5-skills\",\"level\":5,\"exam\":\"skills\",\"start\":\"2026-12-12T13:00:00+08:00\",\"minutes\":120}],"
               "\"sites\":[");
    /* Rooms of at most 100 seats; staff for full rooms (7 proctors, 7
     * examiners each: ceil(100/15) = 7, odd). */
    int rooms = (c->o.candidates + 99) / 100;
    int seats = c->o.candidates < 100 ? c->o.candidates : 100;
    for (int s = 0; s < c->o.sites; s++) {
        fprintf(f, "%s{\"id\":\"%s\",\"name\":\"site %d\",\"rooms\":[", s ? "," : "", c->site[s], s + 1);
        for (int r = 0; r < rooms; r++)
            fprintf(f, "%s{\"id\":\"%s-R%d\",\"name\":\"room\",\"seats\":%d,\"exams\":[\"theory\",\"skills\"]}",
                    r ? "," : "", c->site[s], r + 1, seats);
        fprintf(f, "]}");
    }
    fprintf(f, "],\"staff\":[");
    int per = rooms * 7 > 3 ? rooms * 7 : 3;
    for (int s = 0; s < c->o.sites; s++) {
        for (int k = 1; k <= per; k++)
            fprintf(f, "%s{\"id\":\"%s-P%d\",\"name\":\"proctor\",\"roles\":[\"proctor\"],\"site\":\"%s\"}",
                    s || k > 1 ? "," : "", c->site[s], k, c->site[s]);
        for (int k = 1; k <= (per < 5 ? 5 : per); k++)
            fprintf(f, ",{\"id\":\"%s-E%d\",\"name\":\"examiner\",\"roles\":[\"examiner\"],\"site\":\"%s\"}",
                    c->site[s], k, c->site[s]);
    }
    fprintf(f, "]}\n");
    fclose(f);
    bool ok = s_write(path, buf);
    free(buf);
    return ok;
}

/* Generated level-5 candidates, eligible by preparatory training, for
 * sittings larger than the sample file. */
static bool s_synthetic_candidates(jk_cluster_t *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "admission_no,name,id_number,level,education,schools,training,certificates,work\n");
    int n = c->o.sites * c->o.candidates;
    for (int i = 0; i < n; i++) {
        char id[19];
        snprintf(id, sizeof id, "11010519900101%03d", i % 1000);
        /* vary the birth day so ID numbers stay unique past 1000 */
        id[12] = (char)('0' + (i / 1000) % 3);
        id[13] = (char)('1' + (i / 3000) % 9);
        id[17] = jk_id_number_check_digit(id);
        id[18] = '\0';
        fprintf(f, "B-%06d,考生%d,%s,5,high_school,,5:30:2026-01-10,,\n", i + 1, i + 1, id);
    }
    return fclose(f) == 0;
}

/* The first sites*candidates eligible level-5 candidates of the sample. */
static bool s_candidates(jk_cluster_t *c, const char *path)
{
    if (c->o.candidates > 30)
        return s_synthetic_candidates(c, path);
    const char *src = JK_SOURCE_DIR "/data/candidates.csv";
    jk_error_t err;
    jk_standard_t *std = jk_standard_load(JK_SOURCE_DIR "/data/standard.json", &err);
    jk_candidates_t *cands = jk_candidates_new();
    if (!std || jk_candidates_load_file(cands, src, NULL, &err) != JK_OK) {
        fprintf(stderr, "jk_cluster: %s\n", err.msg);
        jk_standard_destroy(&std);
        jk_candidates_destroy(&cands);
        return false;
    }
    jk_date_t on;
    jk_date_parse_iso("2026-12-12", &on);
    bool *want = calloc(20000, sizeof *want);
    int need = c->o.sites * c->o.candidates;
    for (size_t i = 0; i < jk_candidates_count(cands) && need > 0; i++) {
        const jk_candidate_t *cd = jk_candidates_get(cands, i);
        jk_elig_result_t r;
        if (cd->level == 5 && cd->line < 20000 &&
            jk_eligibility_check(std, 5, &cd->applicant, on, &r) == JK_OK) {
            want[cd->line] = true;
            need--;
        }
    }
    FILE *in = fopen(src, "r"), *out = fopen(path, "w");
    char line[4096];
    size_t lineno = 0;
    while (in && out && fgets(line, sizeof line, in)) {
        lineno++;
        if (lineno == 1 || (lineno < 20000 && want[lineno]))
            fputs(line, out);
    }
    if (in)
        fclose(in);
    bool ok = out && fclose(out) == 0;
    free(want);
    jk_candidates_destroy(&cands);
    jk_standard_destroy(&std);
    return ok;
}

static const char *s_ep(int port) { return jk_harness_strf("tcp://127.0.0.1:%d", port); }

bool jk_cluster_start_broker(jk_cluster_t *c)
{
    const char *argv[40];
    int n = 0;
    argv[n++] = JK_HARNESS_BROKER_BIN;
    argv[n++] = "--frontend";
    argv[n++] = c->front;
    argv[n++] = "--backend";
    argv[n++] = c->back;
    argv[n++] = "--pub";
    argv[n++] = c->pub;
    argv[n++] = "--log.level";
    argv[n++] = c->o.log_level ? c->o.log_level : "info";
    argv[n++] = "--stats.interval";
    argv[n++] = "1s";
    if (c->o.curve) {
        argv[n++] = "--curve.secret";
        argv[n++] = jk_harness_strf("%s/broker.key", c->keys);
        argv[n++] = "--curve.allow";
        argv[n++] = jk_harness_strf("%s/allow-front.txt", c->keys);
        argv[n++] = "--curve.allow_backend";
        argv[n++] = jk_harness_strf("%s/allow-back.txt", c->keys);
    } else {
        argv[n++] = "--security";
        argv[n++] = "plain";
    }
    argv[n] = NULL;
    c->broker = jk_harness_spawn(argv, NULL, jk_harness_strf("%s/broker.log", c->logs));
    return c->broker != NULL;
}

static void s_curve_client(jk_cluster_t *c, const char **argv, int *n, const char *name)
{
    if (c->o.curve) {
        argv[(*n)++] = "--curve.broker_public";
        argv[(*n)++] = jk_harness_strf("%s/broker.pub", c->keys);
        argv[(*n)++] = "--curve.public";
        argv[(*n)++] = jk_harness_strf("%s/%s.pub", c->keys, name);
        argv[(*n)++] = "--curve.secret";
        argv[(*n)++] = jk_harness_strf("%s/%s.key", c->keys, name);
    } else {
        argv[(*n)++] = "--security";
        argv[(*n)++] = "plain";
    }
}

bool jk_cluster_start_scorer(jk_cluster_t *c, int i)
{
    const char *argv[40];
    int n = 0;
    const char *name = jk_harness_strf("scorer-%d", i + 1);
    argv[n++] = JK_HARNESS_SCORERD_BIN;
    argv[n++] = "--node.id";
    argv[n++] = name;
    argv[n++] = "--broker.endpoint";
    argv[n++] = c->back;
    argv[n++] = "--center.dir";
    argv[n++] = c->center;
    argv[n++] = "--redis.port";
    argv[n++] = jk_harness_strf("%d", jk_harness_redis_port(c->redis));
    argv[n++] = "--redis.timeout";
    argv[n++] = "2s";
    argv[n++] = "--stats.interval";
    argv[n++] = "1s";
    argv[n++] = "--log.level";
    argv[n++] = c->o.log_level ? c->o.log_level : "info";
    if (c->o.release_by_scorer) {
        argv[n++] = "--release.mode";
        argv[n++] = "immediate";
    }
    s_curve_client(c, argv, &n, name);
    argv[n] = NULL;
    c->scorer[i] = jk_harness_spawn(argv, NULL, jk_harness_strf("%s/%s.log", c->logs, name));
    return c->scorer[i] != NULL;
}

bool jk_cluster_start_examd(jk_cluster_t *c, int s)
{
    const char *argv[48];
    int n = 0;
    const char *name = jk_harness_strf("examd-%s", c->site[s]);
    argv[n++] = JK_HARNESS_EXAMD_BIN;
    argv[n++] = "--node.id";
    argv[n++] = name;
    argv[n++] = "--package";
    argv[n++] = jk_harness_strf("%s/sites/%s.jkpkg", c->sitting, c->site[s]);
    argv[n++] = "--center.key";
    argv[n++] = jk_harness_strf("%s/sites/center-signing.pub", c->sitting);
    argv[n++] = "--wal.dir";
    argv[n++] = jk_harness_strf("%s/wal-%s", c->dir, c->site[s]);
    argv[n++] = "--candidate.endpoint";
    argv[n++] = c->cand_ep[s];
    argv[n++] = "--staff.endpoint";
    argv[n++] = c->staff_ep[s];
    argv[n++] = "--broker.endpoint";
    argv[n++] = c->front;
    argv[n++] = "--clock.scale";
    argv[n++] = jk_harness_strf("%d", c->o.clock_scale);
    argv[n++] = "--clock.origin";
    argv[n++] = jk_harness_strf("%lld", (long long)c->clock_origin_ms);
    argv[n++] = "--resend.after";
    argv[n++] = "1s";
    argv[n++] = "--reconcile.delay";
    argv[n++] = "2s";
    argv[n++] = "--stats.interval";
    argv[n++] = "1s";
    argv[n++] = "--log.level";
    argv[n++] = c->o.log_level ? c->o.log_level : "info";
    for (int k = 0; c->o.examd_args && c->o.examd_args[k] && k < 8; k++)
        argv[n++] = c->o.examd_args[k];
    s_curve_client(c, argv, &n, name);
    argv[n] = NULL;
    c->examd[s] = jk_harness_spawn(argv, NULL, jk_harness_strf("%s/%s.log", c->logs, name));
    return c->examd[s] != NULL;
}

static bool s_kill(jk_child_t **ch, int sig)
{
    if (!*ch)
        return true;
    jk_harness_kill(*ch, sig);
    bool ok = jk_harness_wait_exit(*ch, 20000);
    jk_harness_child_free(ch);
    return ok;
}

bool jk_cluster_kill_scorer(jk_cluster_t *c, int i, int sig) { return s_kill(&c->scorer[i], sig); }
bool jk_cluster_kill_broker(jk_cluster_t *c, int sig) { return s_kill(&c->broker, sig); }
bool jk_cluster_kill_examd(jk_cluster_t *c, int s, int sig) { return s_kill(&c->examd[s], sig); }
jk_child_t *jk_cluster_scorer(jk_cluster_t *c, int i) { return c->scorer[i]; }
jk_child_t *jk_cluster_broker(jk_cluster_t *c) { return c->broker; }
jk_child_t *jk_cluster_examd(jk_cluster_t *c, int s) { return c->examd[s]; }

const char *jk_cluster_dir(const jk_cluster_t *c) { return c->dir; }
const char *jk_cluster_center(const jk_cluster_t *c) { return c->center; }
jk_redis_t *jk_cluster_redis(jk_cluster_t *c) { return c->redis; }
int jk_cluster_sites(const jk_cluster_t *c) { return c->o.sites; }
const char *jk_cluster_site_id(const jk_cluster_t *c, int s) { return c->site[s]; }
const char *jk_cluster_candidate_endpoint(const jk_cluster_t *c, int s) { return c->cand_ep[s]; }
const char *jk_cluster_staff_endpoint(const jk_cluster_t *c, int s) { return c->staff_ep[s]; }
const char *jk_cluster_broker_frontend(const jk_cluster_t *c) { return c->front; }
const char *jk_cluster_broker_pub(const jk_cluster_t *c) { return c->pub; }

bool jk_cluster_staff(jk_cluster_t *c, int site, const char *cmd, char *buf, size_t size)
{
    void *s = zmq_socket(c->zctx, ZMQ_REQ);
    int t = 5000, linger = 0;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &t, sizeof t);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &t, sizeof t);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    bool ok = zmq_connect(s, c->staff_ep[site]) == 0 && zmq_send(s, cmd, strlen(cmd), 0) >= 0;
    int n = ok ? zmq_recv(s, buf, size - 1, 0) : -1;
    zmq_close(s);
    if (n < 0) {
        buf[0] = '\0';
        return false;
    }
    buf[(size_t)n < size - 1 ? (size_t)n : size - 1] = '\0';
    return true;
}

long jk_cluster_status(jk_cluster_t *c, int site, const char *field)
{
    char buf[4096], key[80];
    if (!jk_cluster_staff(c, site, "status", buf, sizeof buf))
        return -1;
    snprintf(key, sizeof key, " %s=", field);
    const char *p = strstr(buf, key);
    return p ? atol(p + strlen(key)) : -1;
}

static bool s_released(void *ud)
{
    jk_cluster_t *c = ud;
    for (int s = 0; s < c->o.sites; s++) {
        char buf[4096];
        if (!jk_cluster_staff(c, s, "status", buf, sizeof buf) || !strstr(buf, "released=yes"))
            return false;
    }
    return true;
}

static bool s_release(jk_cluster_t *c)
{
    const char *argv[20];
    int n = 0;
    argv[n++] = JK_HARNESS_JKADMIN_BIN;
    argv[n++] = "sitting";
    argv[n++] = "release";
    argv[n++] = "--broker";
    argv[n++] = c->front;
    argv[n++] = "--keys";
    argv[n++] = jk_harness_strf("%s/keys.json", c->center);
    argv[n++] = "--wait";
    argv[n++] = "60";
    if (c->o.curve) {
        argv[n++] = "--curve-secret";
        argv[n++] = jk_harness_strf("%s/jkadmin.key", c->keys);
        argv[n++] = "--broker-public";
        argv[n++] = jk_harness_strf("%s/broker.pub", c->keys);
    } else {
        argv[n++] = "--plain";
    }
    argv[n] = NULL;
    return s_run(argv, jk_harness_strf("%s/release.log", c->logs));
}

jk_cluster_t *jk_cluster_new(const jk_cluster_opts_t *o)
{
    jk_cluster_t *c = calloc(1, sizeof *c);
    c->o = *o;
    if (c->o.sites < 1 || c->o.sites > JK_CLUSTER_MAX_SITES || c->o.scorers < 1 ||
        c->o.scorers > JK_CLUSTER_MAX_SCORERS || c->o.candidates < 1 || c->o.candidates > 5000)
        goto fail;
    c->zctx = zmq_ctx_new();
    c->dir = jk_harness_tempdir("cluster");
    c->sitting = jk_harness_strf("%s/sitting", c->dir);
    c->center = jk_harness_strf("%s/sitting/center", c->dir);
    c->keys = jk_harness_strf("%s/keys", c->dir);
    c->logs = jk_harness_strf("%s/logs", c->dir);
    mkdir(c->keys, 0700);
    mkdir(c->logs, 0755);
    for (int s = 0; s < c->o.sites; s++)
        snprintf(c->site[s], sizeof c->site[s], "S%02u", (unsigned)(s + 1) % 100u);

    const char *plan = jk_harness_strf("%s/plan.json", c->dir);
    const char *cands = jk_harness_strf("%s/candidates.csv", c->dir);
    if (!s_plan(c, plan) || !s_candidates(c, cands))
        goto fail;
    const char *build[] = { JK_HARNESS_JKADMIN_BIN, "papers", "build", "--plan", plan, "--candidates",
                            cands, "--out", c->sitting, "--on", "2026-12-12", "--kdf-iterations",
                            jk_harness_strf("%d", c->o.kdf_iterations > 0 ? c->o.kdf_iterations : 20000),
                            NULL };
    if (!s_run(build, jk_harness_strf("%s/papers.log", c->logs)))
        goto fail;
    /* Keys: broker, each examd, each scorer, the admin tool. */
    const char *front = jk_harness_strf("%s/front", c->keys), *back = jk_harness_strf("%s/back", c->keys);
    mkdir(front, 0700);
    mkdir(back, 0700);
    const char *names[2 + JK_CLUSTER_MAX_SITES + JK_CLUSTER_MAX_SCORERS];
    int nn = 0;
    names[nn++] = "broker";
    names[nn++] = "jkadmin";
    for (int s = 0; s < c->o.sites; s++)
        names[nn++] = jk_harness_strf("examd-%s", c->site[s]);
    for (int i = 0; i < c->o.scorers; i++)
        names[nn++] = jk_harness_strf("scorer-%d", i + 1);
    for (int k = 0; k < nn; k++) {
        const char *kv[] = { JK_HARNESS_JKADMIN_BIN, "keys", "curve", "--name", names[k], "--out", c->keys, NULL };
        if (!s_run(kv, jk_harness_strf("%s/keys.log", c->logs)))
            goto fail;
        if (strcmp(names[k], "broker") == 0)
            continue;
        const char *to = strncmp(names[k], "scorer", 6) == 0 ? back : front;
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/%s.pub", c->keys, names[k]);
        snprintf(dst, sizeof dst, "%s/%s.pub", to, names[k]);
        if (link(src, dst) != 0)
            goto fail;
    }
    const char *af[] = { JK_HARNESS_JKADMIN_BIN, "keys", "allow", "--dir", front, "--out",
                         jk_harness_strf("%s/allow-front.txt", c->keys), NULL };
    const char *ab[] = { JK_HARNESS_JKADMIN_BIN, "keys", "allow", "--dir", back, "--out",
                         jk_harness_strf("%s/allow-back.txt", c->keys), NULL };
    if (!s_run(af, NULL) || !s_run(ab, NULL))
        goto fail;

    c->redis = jk_harness_redis_start(NULL, 0, c->o.aof);
    if (!c->redis)
        goto fail;
    snprintf(c->front, sizeof c->front, "%s", s_ep(jk_harness_free_port()));
    snprintf(c->back, sizeof c->back, "%s", s_ep(jk_harness_free_port()));
    snprintf(c->pub, sizeof c->pub, "%s", s_ep(jk_harness_free_port()));
    for (int s = 0; s < c->o.sites; s++) {
        snprintf(c->cand_ep[s], sizeof c->cand_ep[s], "%s", s_ep(jk_harness_free_port()));
        snprintf(c->staff_ep[s], sizeof c->staff_ep[s], "%s", s_ep(jk_harness_free_port()));
    }
    c->clock_origin_ms = jk_clock_wall_ms(jk_clock_system());
    if (!jk_cluster_start_broker(c))
        goto fail;
    for (int i = 0; i < c->o.scorers; i++)
        if (!jk_cluster_start_scorer(c, i))
            goto fail;
    for (int s = 0; s < c->o.sites; s++)
        if (!jk_cluster_start_examd(c, s))
            goto fail;
    /* jkadmin waits until the broker has routed each release to its site's
     * exam node (the nodes may still be connecting); then they open. */
    if ((c->o.release_by_scorer || s_release(c)) && jk_harness_wait_for(s_released, c, 30000))
        return c;
    fprintf(stderr, "jk_cluster: the packages were not released\n");
fail:
    fprintf(stderr, "jk_cluster: set-up failed (directory %s)\n", c->dir ? c->dir : "-");
    jk_cluster_free(&c);
    return NULL;
}

bool jk_cluster_logs_clean(jk_cluster_t *c)
{
    for (int s = 0; s < JK_CLUSTER_MAX_SITES; s++)
        s_kill(&c->examd[s], SIGTERM);
    for (int i = 0; i < JK_CLUSTER_MAX_SCORERS; i++)
        s_kill(&c->scorer[i], SIGTERM);
    s_kill(&c->broker, SIGTERM);
    static const char *const marks[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                         "runtime error:", NULL };
    bool clean = true;
    DIR *d = opendir(c->logs);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        const char *path = jk_harness_strf("%s/%s", c->logs, de->d_name);
        FILE *f = fopen(path, "r");
        char line[4096];
        int shown = 0;
        while (f && fgets(line, sizeof line, f)) {
            for (int m = 0; marks[m]; m++)
                if (strstr(line, marks[m])) {
                    clean = false;
                    if (shown++ < 5)
                        fprintf(stderr, "sanitizer report in %s: %s", de->d_name, line);
                }
        }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return clean;
}

void jk_cluster_free(jk_cluster_t **pc)
{
    if (!pc || !*pc)
        return;
    jk_cluster_t *c = *pc;
    for (int s = 0; s < JK_CLUSTER_MAX_SITES; s++)
        s_kill(&c->examd[s], SIGTERM);
    for (int i = 0; i < JK_CLUSTER_MAX_SCORERS; i++)
        s_kill(&c->scorer[i], SIGTERM);
    s_kill(&c->broker, SIGTERM);
    jk_harness_redis_free(&c->redis);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    free(c);
    *pc = NULL;
}

jk_child_t *jk_cluster_load(jk_cluster_t *c, const char *tag, const char *sessions, double rate,
                            const char *const *extra)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = JK_BUILD_DIR "/clients/loadgen/jkload";
    argv[n++] = "--center";
    argv[n++] = c->center;
    for (int s = 0; s < c->o.sites; s++) {
        argv[n++] = "--site";
        argv[n++] = jk_harness_strf("%s=%s,%s", c->site[s], c->cand_ep[s], c->staff_ep[s]);
    }
    argv[n++] = "--sessions";
    argv[n++] = sessions;
    argv[n++] = "--rate";
    argv[n++] = jk_harness_strf("%g", rate);
    argv[n++] = "--acked";
    argv[n++] = jk_harness_strf("%s/acked-%s.tsv", c->dir, tag);
    argv[n++] = "--json";
    argv[n++] = jk_harness_strf("%s/load-%s.json", c->dir, tag);
    for (int k = 0; extra && extra[k] && n < 62; k++)
        argv[n++] = extra[k];
    argv[n] = NULL;
    return jk_harness_spawn(argv, NULL, jk_harness_strf("%s/jkload-%s.log", c->logs, tag));
}

static bool s_settled(void *ud)
{
    jk_cluster_t *c = ud;
    for (int s = 0; s < c->o.sites; s++) {
        char buf[4096];
        if (!jk_cluster_staff(c, s, "status", buf, sizeof buf))
            return false;
        long v[6];
        const char *k[6] = { " outbox=", " in_progress=", " paused=", " submitted=", " voided=", " reconciled=" };
        for (int i = 0; i < 6; i++) {
            const char *p = strstr(buf, k[i]);
            if (!p)
                return false;
            v[i] = atol(p + strlen(k[i]));
        }
        long absent = 0;
        const char *p = strstr(buf, " absent=");
        if (p)
            absent = atol(p + 8);
        if (v[0] != 0 || v[1] != 0 || v[2] != 0 || v[5] != v[3] + v[4] + absent)
            return false;
    }
    return true;
}

bool jk_cluster_wait_settled(jk_cluster_t *c, int timeout_ms)
{
    return jk_harness_wait_for(s_settled, c, timeout_ms);
}

/* ---- checks ---- */

static int s_unhex(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

bool jk_cluster_check_acked(jk_cluster_t *c, const char *const *tags, size_t n_tags, size_t *checked)
{
    /* The highest acknowledged answer per (session, item). */
    typedef struct {
        char *key;
        uint64_t seq;
        uint8_t *resp;
        size_t len;
    } best_t;
    best_t *best = NULL;
    size_t nb = 0, cap = 0, failures = 0, n = 0;
    jk_strmap_t *idx = jk_strmap_new(4096);
    redisContext *rc = jk_harness_redis_connect(c->redis);
    if (!rc)
        return false;
    for (size_t t = 0; t < n_tags; t++) {
        FILE *f = fopen(jk_harness_strf("%s/acked-%s.tsv", c->dir, tags[t]), "r");
        if (!f) {
            fprintf(stderr, "check_acked: no acked-%s.tsv\n", tags[t]);
            failures++;
            continue;
        }
        char line[200000];
        while (fgets(line, sizeof line, f)) {
            char *sid = strtok(line, "\t\n"), *seqs = strtok(NULL, "\t\n"), *item = strtok(NULL, "\t\n"),
                 *hex = strtok(NULL, "\t\n");
            if (!sid || !seqs || !item)
                continue;
            uint64_t seq = strtoull(seqs, NULL, 10);
            n++;
            /* The event itself is stored under its seq. */
            redisReply *r = redisCommand(rc, "HEXISTS jk:{%s}:ev %llu", sid, (unsigned long long)seq);
            if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
                if (failures++ < 10)
                    fprintf(stderr, "check_acked: %s seq %llu (item %s) acknowledged but not in Redis\n",
                            sid, (unsigned long long)seq, item);
            }
            if (r)
                freeReplyObject(r);
            char key[256];
            snprintf(key, sizeof key, "%s|%s", sid, item);
            size_t k;
            if (!jk_strmap_get(idx, key, &k)) {
                if (nb == cap) {
                    cap = cap ? cap * 2 : 1024;
                    best = realloc(best, cap * sizeof *best);
                }
                k = nb++;
                memset(&best[k], 0, sizeof best[k]);
                best[k].key = strdup(key);
                jk_strmap_put(idx, best[k].key, k, NULL);
            }
            if (seq > best[k].seq) {
                best[k].seq = seq;
                free(best[k].resp);
                size_t hl = hex ? strlen(hex) / 2 : 0;
                best[k].resp = malloc(hl + 1);
                for (size_t i = 0; i < hl; i++)
                    best[k].resp[i] = (uint8_t)(s_unhex(hex[2 * i]) << 4 | s_unhex(hex[2 * i + 1]));
                best[k].len = hl;
            }
        }
        fclose(f);
    }
    /* Per item, Redis holds that answer, or a later one. */
    for (size_t k = 0; k < nb; k++) {
        char *bar = strchr(best[k].key, '|');
        *bar = '\0';
        redisReply *r = redisCommand(rc, "HGET jk:{%s}:ans %s", best[k].key, bar + 1);
        bool ok = r && r->type == REDIS_REPLY_STRING;
        if (ok) {
            /* "<seq>:<flag>:<cc>:<response>" */
            uint64_t seq = strtoull(r->str, NULL, 10);
            const char *p = r->str;
            for (int colons = 0; colons < 3 && p; colons++) {
                p = memchr(p, ':', r->len - (size_t)(p - r->str));
                if (p)
                    p++;
            }
            size_t rl = p ? r->len - (size_t)(p - r->str) : 0;
            ok = p && (seq > best[k].seq ||
                       (seq == best[k].seq && rl == best[k].len && memcmp(p, best[k].resp, rl) == 0));
        }
        if (!ok && failures++ < 10)
            fprintf(stderr, "check_acked: session %s item %s: Redis lacks the answer acknowledged as seq %llu\n",
                    best[k].key, bar + 1, (unsigned long long)best[k].seq);
        if (r)
            freeReplyObject(r);
        free(best[k].key);
        free(best[k].resp);
    }
    free(best);
    jk_strmap_destroy(&idx);
    redisFree(rc);
    if (checked)
        *checked = n;
    return failures == 0;
}

bool jk_cluster_check_dense(jk_cluster_t *c, size_t *checked)
{
    jk_error_t err;
    jk_sitting_t *st = jk_sitting_load(jk_harness_strf("%s/sitting.json", c->center), &err);
    redisContext *rc = jk_harness_redis_connect(c->redis);
    if (!st || !rc) {
        jk_sitting_destroy(&st);
        if (rc)
            redisFree(rc);
        return false;
    }
    size_t failures = 0, n = 0;
    for (size_t i = 0; i < jk_sitting_entry_count(st); i++) {
        const char *sid = jk_sitting_entry(st, i)->session_id;
        redisReply *r = redisCommand(rc, "HMGET jk:{%s}:meta applied last_seq", sid);
        redisReply *h = redisCommand(rc, "HLEN jk:{%s}:ev", sid);
        /* A session with no meta has had nothing applied (an answer
         * missing from it is check_acked's to find). */
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
            h && h->type == REDIS_REPLY_INTEGER) {
            long applied = atol(r->element[0]->str), last = atol(r->element[1]->str);
            n++;
            if (applied != last || applied != h->integer) {
                if (failures++ < 10)
                    fprintf(stderr, "check_dense: %s: applied %ld, last seq %ld, stored %lld\n", sid,
                            applied, last, h->integer);
            }
        }
        if (r)
            freeReplyObject(r);
        if (h)
            freeReplyObject(h);
    }
    redisFree(rc);
    jk_sitting_destroy(&st);
    if (checked)
        *checked = n;
    if (n == 0)
        fprintf(stderr, "check_dense: no session has anything applied\n");
    return failures == 0 && n > 0;
}

/* ---- replaying examd's logs ---- */

typedef struct {
    char item[160];
    uint64_t seq;
    Jk__Response *resp; /* owned */
} s_ans_t;

typedef struct {
    char key[200]; /* task/part/examiner/round */
    uint64_t seq;
    int32_t points;
} s_xs_t;

typedef struct {
    char sid[65];
    s_ans_t *ans;
    size_t n_ans, cap_ans;
    s_xs_t *xs;
    size_t n_xs, cap_xs;
    bool submitted, voided, absent;
} s_sess_t;

typedef struct {
    s_sess_t *s;
    size_t n, cap;
    jk_strmap_t *idx;
} s_replay_t;

static s_sess_t *s_sess(s_replay_t *r, const char *sid)
{
    size_t v;
    if (jk_strmap_get(r->idx, sid, &v))
        return &r->s[v];
    if (r->n == r->cap) {
        /* the map keys point into the array: rebuild after growing */
        r->cap = r->cap ? r->cap * 2 : 256;
        r->s = realloc(r->s, r->cap * sizeof *r->s);
        jk_strmap_destroy(&r->idx);
        r->idx = jk_strmap_new(r->cap);
        for (size_t i = 0; i < r->n; i++)
            jk_strmap_put(r->idx, r->s[i].sid, i, NULL);
    }
    s_sess_t *s = &r->s[r->n];
    memset(s, 0, sizeof *s);
    snprintf(s->sid, sizeof s->sid, "%s", sid);
    jk_strmap_put(r->idx, s->sid, r->n, NULL);
    r->n++;
    return s;
}

static jk_err_t s_replay_fn(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len)
{
    (void)lsn;
    s_replay_t *r = ud;
    if (type != 1) /* EXAMD_WAL_EVENT */
        return JK_OK;
    Jk__Envelope *env = NULL;
    if (jk_codec_decode(p, len, NULL, &env, NULL) != JK_OK)
        return JK_ERR_PARSE;
    s_sess_t *s = s_sess(r, env->session_id);
    if (env->body_case == JK__ENVELOPE__BODY_ANSWER) {
        s_ans_t *a = NULL;
        for (size_t i = 0; i < s->n_ans && !a; i++)
            if (strcmp(s->ans[i].item, env->answer->item_id) == 0)
                a = &s->ans[i];
        if (!a) {
            if (s->n_ans == s->cap_ans) {
                s->cap_ans = s->cap_ans ? s->cap_ans * 2 : 64;
                s->ans = realloc(s->ans, s->cap_ans * sizeof *s->ans);
            }
            a = &s->ans[s->n_ans++];
            memset(a, 0, sizeof *a);
            snprintf(a->item, sizeof a->item, "%s", env->answer->item_id);
        }
        if (env->seq > a->seq) {
            a->seq = env->seq;
            if (a->resp)
                jk__response__free_unpacked(a->resp, NULL);
            a->resp = NULL;
            if (env->answer->response) {
                size_t n = jk__response__get_packed_size(env->answer->response);
                uint8_t *b = malloc(n + 1);
                jk__response__pack(env->answer->response, b);
                a->resp = jk__response__unpack(NULL, n, b);
                free(b);
            }
        }
    } else if (env->body_case == JK__ENVELOPE__BODY_EXAMINER_SCORE) {
        const Jk__ExaminerScore *x = env->examiner_score;
        char key[200];
        snprintf(key, sizeof key, "%s/%s/%s/%d", x->task_id, x->part_id, x->examiner_id,
                 x->has_arbitration && x->arbitration ? 1 : 0);
        s_xs_t *e = NULL;
        for (size_t i = 0; i < s->n_xs && !e; i++)
            if (strcmp(s->xs[i].key, key) == 0)
                e = &s->xs[i];
        if (!e) {
            if (s->n_xs == s->cap_xs) {
                s->cap_xs = s->cap_xs ? s->cap_xs * 2 : 32;
                s->xs = realloc(s->xs, s->cap_xs * sizeof *s->xs);
            }
            e = &s->xs[s->n_xs++];
            memset(e, 0, sizeof *e);
            snprintf(e->key, sizeof e->key, "%s", key);
        }
        if (env->seq > e->seq) {
            e->seq = env->seq;
            e->points = (int32_t)x->points_centi;
        }
    } else if (env->body_case == JK__ENVELOPE__BODY_SUBMIT) {
        s->submitted = true;
    } else if (env->body_case == JK__ENVELOPE__BODY_PROCTOR_ACTION) {
        if (env->proctor_action->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID)
            s->voided = true;
        if (env->proctor_action->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_MARK_ABSENT)
            s->absent = true;
    }
    jk_codec_free(&env);
    return JK_OK;
}

static const s_ans_t *s_find(const s_sess_t *s, const char *item)
{
    for (size_t i = 0; i < s->n_ans; i++)
        if (strcmp(s->ans[i].item, item) == 0)
            return &s->ans[i];
    return NULL;
}

/* The library's score of a session replayed from the log (independent of
 * scorerd's code path). Returns false if it can't be scored (pending). */
static bool s_score(const jk_bank_t *bank, const jk_sitting_t *st, const jk_sitting_entry_t *e,
                    const s_sess_t *s, int32_t *total)
{
    jk_score_rules_t rules;
    jk_score_rules_default(&rules);
    jk_exam_score_t es;
    const jk_sitting_session_t *ps = jk_sitting_session(st, e->session);
    if (ps->exam == JK_EXAM_THEORY) {
        static jk_theory_paper_t p;
        static jk_response_t resp[JK_PAPER_MAX_ITEMS];
        memset(&p, 0, sizeof p);
        for (size_t k = 0; k < e->n_items; k++) {
            p.entries[p.n++].item = (uint32_t)jk_bank_find_item(bank, e->items[k].item);
            const s_ans_t *a = s_find(s, e->items[k].item);
            resp[k].answered = false;
            resp[k].mask = 0;
            if (a && a->resp) {
                if (a->resp->value_case == JK__RESPONSE__VALUE_JUDGMENT) {
                    resp[k].answered = true;
                    resp[k].mask = a->resp->judgment ? 1u : 0u;
                } else if (a->resp->value_case == JK__RESPONSE__VALUE_SELECTION) {
                    resp[k].answered = a->resp->selection->n_option_ids > 0;
                    for (size_t q = 0; q < a->resp->selection->n_option_ids; q++)
                        resp[k].mask |= 1u << (a->resp->selection->option_ids[q] - 1);
                }
            }
        }
        jk_score_theory(bank, &p, resp, &rules, &es);
        *total = es.total_centi;
        return true;
    }
    jk_skills_paper_t sp;
    memset(&sp, 0, sizeof sp);
    jk_part_response_t pr[JK_PAPER_MAX_TASKS * JK_MAX_PARTS];
    const char *vals[JK_PAPER_MAX_TASKS * JK_MAX_PARTS][JK_MAX_FIELDS];
    int32_t panel[JK_PAPER_MAX_TASKS * JK_MAX_PARTS][16];
    memset(pr, 0, sizeof pr);
    size_t r = 0;
    for (size_t t = 0; t < e->n_tasks; t++) {
        long ti = jk_bank_find_task(bank, e->tasks[t]);
        const jk_task_t *task = jk_bank_task(bank, (size_t)ti);
        sp.tasks[sp.n++] = (uint32_t)ti;
        for (size_t q = 0; q < task->n_parts; q++, r++) {
            const jk_part_t *part = &task->parts[q];
            if (task->type == JK_TASK_OPERATION) {
                char item[160];
                snprintf(item, sizeof item, "%s:%s", task->id, part->id);
                const s_ans_t *a = s_find(s, item);
                for (size_t f = 0; f < part->n_fields; f++) {
                    vals[r][f] = NULL;
                    if (a && a->resp && a->resp->value_case == JK__RESPONSE__VALUE_FORM)
                        for (size_t k = 0; k < a->resp->form->n_fields; k++)
                            if (strcmp(a->resp->form->fields[k]->name, part->fields[f].name) == 0)
                                vals[r][f] = a->resp->form->fields[k]->value;
                }
                pr[r].fields = vals[r];
                continue;
            }
            char prefix[160];
            int pl = snprintf(prefix, sizeof prefix, "%s/%s/", task->id, part->id);
            size_t np = 0;
            for (size_t k = 0; k < s->n_xs; k++) {
                if (strncmp(s->xs[k].key, prefix, (size_t)pl) != 0)
                    continue;
                const char *round = strrchr(s->xs[k].key, '/');
                if (round && strcmp(round, "/1") == 0) {
                    pr[r].arbitrated = true;
                    pr[r].arbitrated_centi = s->xs[k].points;
                } else if (np < 16) {
                    panel[r][np++] = s->xs[k].points;
                }
            }
            if ((int)np >= e->panel && np > 0) {
                pr[r].panel_centi = panel[r];
                pr[r].n_panel = np;
            }
        }
    }
    if (jk_score_skills(bank, &sp, pr, r, &rules, &es, NULL) != JK_OK || es.pending)
        return false;
    *total = es.total_centi;
    return true;
}

bool jk_cluster_check_scores(jk_cluster_t *c, size_t *checked)
{
    for (int s = 0; s < c->o.sites; s++)
        s_kill(&c->examd[s], SIGTERM);
    jk_error_t err;
    jk_standard_t *std = jk_standard_load(JK_SOURCE_DIR "/data/standard.json", &err);
    jk_bank_t *bank = jk_bank_new(std);
    jk_bank_load_path(bank, JK_SOURCE_DIR "/data/bank", NULL, &err);
    jk_sitting_t *st = jk_sitting_load(jk_harness_strf("%s/sitting.json", c->center), &err);
    redisContext *rc = jk_harness_redis_connect(c->redis);
    s_replay_t rep = { NULL, 0, 0, jk_strmap_new(256) };
    size_t failures = 0, n = 0;
    for (int s = 0; s < c->o.sites && st && rc; s++) {
        jk_wal_t *w = jk_wal_open(jk_harness_strf("%s/wal-%s", c->dir, c->site[s]), NULL, &err);
        if (!w || jk_wal_replay(w, s_replay_fn, &rep, NULL, &err) != JK_OK) {
            fprintf(stderr, "check_scores: site %s: %s\n", c->site[s], err.msg);
            failures++;
        }
        jk_wal_destroy(&w);
    }
    for (size_t i = 0; i < rep.n && st && rc; i++) {
        s_sess_t *s = &rep.s[i];
        const jk_sitting_entry_t *e = jk_sitting_find_entry(st, s->sid);
        redisReply *r = redisCommand(rc, "HMGET jk:{%s}:meta result_status result", s->sid);
        bool have = r && r->type == REDIS_REPLY_ARRAY && r->element[1]->type == REDIS_REPLY_STRING;
        int32_t want = 0;
        bool scorable = e && s->submitted && !s->voided && !s->absent && s_score(bank, st, e, s, &want);
        if (scorable) {
            n++;
            Jk__ExamResult *er = have ? jk__exam_result__unpack(NULL, r->element[1]->len,
                                                               (const uint8_t *)r->element[1]->str)
                                      : NULL;
            if (!er || (int32_t)er->total_centi != want) {
                if (failures++ < 10)
                    fprintf(stderr, "check_scores: %s: Redis has %s%.2f, the log's replay scores %.2f\n",
                            s->sid, er ? "" : "no result ", er ? er->total_centi / 100.0 : 0.0,
                            want / 100.0);
            }
            if (er)
                jk__exam_result__free_unpacked(er, NULL);
        }
        if (r)
            freeReplyObject(r);
    }
    for (size_t i = 0; i < rep.n; i++) {
        for (size_t k = 0; k < rep.s[i].n_ans; k++)
            if (rep.s[i].ans[k].resp)
                jk__response__free_unpacked(rep.s[i].ans[k].resp, NULL);
        free(rep.s[i].ans);
        free(rep.s[i].xs);
    }
    free(rep.s);
    jk_strmap_destroy(&rep.idx);
    if (rc)
        redisFree(rc);
    jk_sitting_destroy(&st);
    jk_bank_destroy(&bank);
    jk_standard_destroy(&std);
    if (checked)
        *checked = n;
    return failures == 0 && n > 0;
}

static long s_last_stat(const char *path, const char *event, const char *name)
{
    char key[128], ev[128];
    snprintf(key, sizeof key, " %s=", name);
    snprintf(ev, sizeof ev, "event=%s ", event);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[8192];
    long last = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, ev))
            continue;
        const char *p = strstr(line, key);
        if (p)
            last = atol(p + strlen(key));
    }
    fclose(f);
    return last;
}

long jk_cluster_scorer_stat(jk_cluster_t *c, int i, const char *name)
{
    return s_last_stat(jk_harness_strf("%s/scorer-%d.log", c->logs, i + 1), "scorerd.stats", name);
}

long jk_cluster_examd_stat(jk_cluster_t *c, int site, const char *name)
{
    return s_last_stat(jk_harness_strf("%s/examd-%s.log", c->logs, c->site[site]), "examd.stats", name);
}

long jk_cluster_broker_stat(jk_cluster_t *c, const char *name)
{
    return s_last_stat(jk_harness_strf("%s/broker.log", c->logs), "broker.stats", name);
}

long jk_cluster_log_stat(jk_cluster_t *c, const char *proc, const char *event, const char *name)
{
    long sum = 0;
    for (int i = 0; i < JK_CLUSTER_MAX_SCORERS; i++) {
        const char *path = strcmp(proc, "scorer") == 0 ? jk_harness_strf("%s/scorer-%d.log", c->logs, i + 1)
                           : i == 0 ? jk_harness_strf("%s/%s.log", c->logs, proc)
                                    : NULL;
        if (!path)
            break;
        long v = s_last_stat(path, event, name);
        if (v > 0)
            sum += v; /* -1: no such log */
    }
    return sum;
}
