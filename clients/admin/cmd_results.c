/*
 * jkadmin results: the sitting's results, read from the center's Redis —
 * per level the candidates who passed (≥ 60 in both exams), the score
 * distributions, the mean points per area, and what is still pending.
 * jkadmin sitting release: sends each site's release key to its exam node
 * through the broker, at the start of the exam.
 *
 * Results are read with plain synchronous hiredis calls (HMGET of each
 * session's meta hash): this is an offline report, not the live path.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <zmq.h>

#include "admin.h"
#include "jk_clock.h"
#include "jk_codec.h"
#include "jk_net.h"
#include "jk_package.h"
#include "jk_sitting.h"
#include "jk_standard.h"
#include "jk_strmap.h"

typedef struct {
    bool have;              /* a result is stored */
    int status;             /* jk.ResultStatus */
    int32_t total;          /* centi */
    bool passed;
    int32_t area[JK_AREA_COUNT];
    bool started;           /* any event applied */
} s_exam_t;

typedef struct {
    const char *admission;
    int level;
    s_exam_t exam[JK_EXAM__COUNT];
} s_cand_t;

static int s_parse_hostport(const char *s, char *host, size_t hl, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    snprintf(host, hl, "%.*s", (int)(colon - s), s);
    *port = atoi(colon + 1);
    return *port > 0 && *port < 65536 ? 0 : -1;
}

/* Takes one session's reply to "HMGET meta result_status result applied"
 * into *ex (and frees it). Returns 0, or -1 when Redis failed. */
static int s_read(redisReply *r, const jk_standard_t *std, s_exam_t *ex)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        if (r)
            freeReplyObject(r);
        return -1;
    }
    memset(ex, 0, sizeof *ex);
    ex->started = r->element[2]->type == REDIS_REPLY_STRING && atoi(r->element[2]->str) > 0;
    if (r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
        ex->have = true;
        ex->status = atoi(r->element[0]->str);
        Jk__ExamResult *er = jk__exam_result__unpack(NULL, r->element[1]->len,
                                                     (const uint8_t *)r->element[1]->str);
        if (er) {
            ex->total = (int32_t)er->total_centi;
            ex->passed = er->has_passed && er->passed;
            for (size_t i = 0; i < er->n_areas; i++)
                for (int a = 0; a < JK_AREA_COUNT; a++)
                    if (strcmp(jk_standard_area(std, a)->code, er->areas[i]->area_code) == 0)
                        ex->area[a] = (int32_t)er->areas[i]->points_centi;
            jk__exam_result__free_unpacked(er, NULL);
        }
    }
    freeReplyObject(r);
    return 0;
}

int admin__results(int argc, char **argv)
{
    const char *center = NULL, *redis = "127.0.0.1:6379", *csv = NULL;
    int wait_s = 0;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--center") == 0 && v) center = v, i++;
        else if (strcmp(argv[i], "--redis") == 0 && v) redis = v, i++;
        else if (strcmp(argv[i], "--csv") == 0 && v) csv = v, i++;
        else if (strcmp(argv[i], "--wait") == 0 && v) wait_s = atoi(v), i++;
        else {
            admin__fail("results: unexpected argument '%s'", argv[i]);
            return ADMIN_USAGE;
        }
    }
    if (!center) {
        admin__fail("results: needs --center DIR");
        return ADMIN_USAGE;
    }
    char host[256];
    int port;
    if (s_parse_hostport(redis, host, sizeof host, &port) != 0) {
        admin__fail("--redis: '%s' is not HOST:PORT", redis);
        return ADMIN_USAGE;
    }
    jk_error_t err;
    jk_standard_t *std = jk_standard_load_default(&err);
    char path[4096];
    snprintf(path, sizeof path, "%s/sitting.json", center);
    jk_sitting_t *st = std ? jk_sitting_load(path, &err) : NULL;
    if (!std || !st) {
        admin__fail("%s", err.msg);
        jk_standard_destroy(&std);
        return admin__exit_code(err.code);
    }
    struct timeval tv = { 5, 0 };
    redisContext *rc = redisConnectWithTimeout(host, port, tv);
    if (!rc || rc->err) {
        admin__fail("redis %s: %s", redis, rc ? rc->errstr : "cannot connect");
        if (rc)
            redisFree(rc);
        jk_sitting_destroy(&st);
        jk_standard_destroy(&std);
        return ADMIN_FAIL;
    }
    redisSetTimeout(rc, tv);

    /* The candidates (admission number and level) of the entries, once. */
    size_t ne = jk_sitting_entry_count(st);
    s_cand_t *cands = calloc(ne + 1, sizeof *cands);
    size_t *cand_of = calloc(ne + 1, sizeof *cand_of);
    char (*keys)[96] = calloc(ne + 1, sizeof *keys);
    jk_strmap_t *by_key = jk_strmap_new(ne);
    size_t nc = 0;
    int rcode = ADMIN_OK;
    if (!cands || !cand_of || !keys || !by_key) {
        admin__fail("out of memory");
        rcode = ADMIN_FAIL;
        goto out;
    }
    for (size_t i = 0; i < ne; i++) {
        const jk_sitting_entry_t *e = jk_sitting_entry(st, i);
        int level = jk_sitting_session(st, e->session)->level;
        snprintf(keys[i], sizeof keys[i], "%s|%d", e->admission, level);
        size_t k = 0;
        int put = jk_strmap_put(by_key, keys[i], nc, &k);
        if (put < 0) {
            admin__fail("out of memory");
            rcode = ADMIN_FAIL;
            goto out;
        }
        if (put == 1) {
            k = nc++;
            cands[k].admission = e->admission;
            cands[k].level = level;
        }
        cand_of[i] = k;
    }
    /* Wait (optionally) until every started session has a result; each
     * round is one pipelined pass over the sessions. */
    for (int waited = 0;; waited++) {
        size_t open = 0;
        for (size_t i = 0; i < ne; i++)
            redisAppendCommand(rc, "HMGET jk:{%s}:meta result_status result applied",
                               jk_sitting_entry(st, i)->session_id);
        for (size_t i = 0; i < ne; i++) {
            const jk_sitting_entry_t *e = jk_sitting_entry(st, i);
            const jk_sitting_session_t *ps = jk_sitting_session(st, e->session);
            s_cand_t *c = &cands[cand_of[i]];
            redisReply *r = NULL;
            if (redisGetReply(rc, (void **)&r) != REDIS_OK || s_read(r, std, &c->exam[ps->exam]) != 0) {
                admin__fail("redis %s: %s", redis, rc->err ? rc->errstr : "bad reply");
                rcode = ADMIN_FAIL;
                goto out;
            }
            open += c->exam[ps->exam].started && !c->exam[ps->exam].have;
        }
        if (open == 0 || waited >= wait_s)
            break;
        sleep(1);
    }

    printf("results of sitting %s (%s)\n", jk_sitting_id(st), jk_sitting_name(st));
    for (int li = 0; li < JK_LEVEL_COUNT; li++) {
        int lv = jk_level_at(li);
        size_t n = 0, both = 0, pass = 0, pending = 0, voided = 0, absent = 0, not_sat = 0;
        size_t hist[JK_EXAM__COUNT][11];
        double area_sum[JK_EXAM__COUNT][JK_AREA_COUNT], total_sum[JK_EXAM__COUNT];
        size_t scored[JK_EXAM__COUNT], exam_pass[JK_EXAM__COUNT];
        memset(hist, 0, sizeof hist);
        memset(area_sum, 0, sizeof area_sum);
        memset(total_sum, 0, sizeof total_sum);
        memset(scored, 0, sizeof scored);
        memset(exam_pass, 0, sizeof exam_pass);
        for (size_t k = 0; k < nc; k++) {
            const s_cand_t *c = &cands[k];
            if (c->level != lv)
                continue;
            n++;
            bool ok_both = true;
            for (int x = 0; x < JK_EXAM__COUNT; x++) {
                const s_exam_t *ex = &c->exam[x];
                if (!ex->have) {
                    ok_both = false;
                    if (ex->started)
                        pending++;
                    else
                        not_sat++;
                    continue;
                }
                if (ex->status == JK__RESULT_STATUS__RESULT_STATUS_VOIDED) {
                    voided++;
                    ok_both = false;
                    continue;
                }
                if (ex->status == JK__RESULT_STATUS__RESULT_STATUS_ABSENT) {
                    absent++;
                    ok_both = false;
                    continue;
                }
                scored[x]++;
                exam_pass[x] += ex->passed;
                total_sum[x] += ex->total / 100.0;
                hist[x][ex->total / 1000 > 10 ? 10 : ex->total / 1000]++;
                for (int a = 0; a < JK_AREA_COUNT; a++)
                    area_sum[x][a] += ex->area[a] / 100.0;
                ok_both = ok_both && ex->passed;
            }
            both += c->exam[0].have && c->exam[1].have;
            pass += ok_both;
        }
        if (n == 0)
            continue;
        printf("\n%s: %zu candidates; %zu with both exams scored; passed (>= 60 in both): %zu",
               jk_standard_level_name(std, lv), n, both, pass);
        if (both)
            printf(" (%.1f%% of those scored in both)", 100.0 * pass / both);
        printf("\n  pending %zu, voided %zu, absent %zu, exams not sat %zu\n", pending, voided,
               absent, not_sat);
        for (int x = 0; x < JK_EXAM__COUNT; x++) {
            if (!scored[x])
                continue;
            printf("  %s: %zu scored, mean %.1f, passed %zu (%.1f%%)\n",
                   jk_standard_exam_rule(std, (jk_exam_t)x)->name, scored[x], total_sum[x] / scored[x],
                   exam_pass[x], 100.0 * exam_pass[x] / scored[x]);
            printf("    distribution:");
            for (int b = 0; b < 10; b++)
                printf(" %d-%d:%zu", b * 10, b * 10 + 9, hist[x][b] + (b == 9 ? hist[x][10] : 0));
            printf("\n    mean points per area:");
            int ids[JK_AREA_COUNT];
            size_t na = jk_standard_exam_areas(std, (jk_exam_t)x, ids, JK_AREA_COUNT);
            for (size_t a = 0; a < na; a++)
                printf(" %s %.1f/%d", jk_standard_area(std, ids[a])->id, area_sum[x][ids[a]] / scored[x],
                       jk_standard_weight(std, (jk_exam_t)x, ids[a], lv));
            printf("\n");
        }
    }
    if (csv) {
        FILE *f = fopen(csv, "w");
        if (!f) {
            admin__fail("cannot write %s: %s", csv, strerror(errno));
            rcode = ADMIN_FAIL;
            goto out;
        }
        fprintf(f, "admission_no,level,theory,skills,passed\n");
        for (size_t k = 0; k < nc; k++) {
            const s_cand_t *c = &cands[k];
            fprintf(f, "%s,%d,", c->admission, c->level);
            for (int x = 0; x < JK_EXAM__COUNT; x++) {
                const s_exam_t *ex = &c->exam[x];
                if (!ex->have)
                    fprintf(f, "%s,", ex->started ? "pending" : "");
                else if (ex->status == JK__RESULT_STATUS__RESULT_STATUS_VOIDED)
                    fprintf(f, "voided,");
                else if (ex->status == JK__RESULT_STATUS__RESULT_STATUS_ABSENT)
                    fprintf(f, "absent,");
                else
                    fprintf(f, "%.2f,", ex->total / 100.0);
            }
            bool p = c->exam[0].have && c->exam[1].have && c->exam[0].passed && c->exam[1].passed;
            fprintf(f, "%s\n", p ? "yes" : "no");
        }
        fclose(f);
    }
out:
    free(cands);
    free(cand_of);
    free(keys);
    jk_strmap_destroy(&by_key);
    redisFree(rc);
    jk_sitting_destroy(&st);
    jk_standard_destroy(&std);
    return rcode;
}

/* ---- release ---- */

/* The SHA-256 of a site's sealed package as the exam node holds it (the
 * release states it; examd refuses a release that names another file). */
static bool s_package_digest(const char *dir, const jk_package_keys_entry_t *e, uint8_t digest[32])
{
    jk_error_t err;
    if (jk_package_site_digest(dir, e->site_id, e->package_id, digest, &err) == JK_OK)
        return true;
    admin__fail("site %s: %s (the keys file releases %s; --packages names the directory of the "
                "site packages)", e->site_id, err.msg, e->package_id);
    return false;
}

typedef struct {
    const jk_package_keys_entry_t *e;
    uint64_t message_id;
    uint8_t *buf; /* the encoded release (holds the key: wiped after) */
    size_t len;
    int64_t due_ms; /* when to send (again); -1 = answered */
    char last[512]; /* the broker's last word on it, or a send error */
} s_release_t;

static int64_t s_mono_ms(void)
{
    return jk_clock_mono_us(jk_clock_system()) / 1000;
}

static bool s_release_encode(const char *pkg_dir, const jk_package_keys_entry_t *e, s_release_t *r)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__PackageRelease pr = JK__PACKAGE_RELEASE__INIT;
    uint8_t key[32], digest[32];
    if (!s_package_digest(pkg_dir, e, digest))
        return false;
    memcpy(key, e->release_key, 32);
    env.has_schema_version = 1;
    env.schema_version = JK_SCHEMA_VERSION;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_PACKAGE_RELEASE;
    env.node_id = "jkadmin";
    env.has_message_id = 1;
    env.message_id = r->message_id;
    env.has_sent_time_ms = 1;
    env.sent_time_ms = (uint64_t)time(NULL) * 1000;
    env.exam_id = (char *)e->sitting_id;
    env.site_id = (char *)e->site_id;
    pr.package_id = (char *)e->package_id;
    pr.key_id = (char *)e->key_id;
    pr.has_cipher = 1;
    pr.cipher = JK__CIPHER__CIPHER_AES_256_GCM;
    pr.has_key = 1;
    pr.key.data = key;
    pr.key.len = 32;
    pr.has_package_digest = 1;
    pr.package_digest.data = digest;
    pr.package_digest.len = 32;
    env.body_case = JK__ENVELOPE__BODY_PACKAGE_RELEASE;
    env.package_release = &pr;
    jk_error_t err;
    jk_err_t er = jk_codec_encode(&env, &r->buf, &r->len, &err);
    OPENSSL_cleanse(key, sizeof key);
    if (er != JK_OK) {
        admin__fail("site %s: %s", e->site_id, err.msg);
        return false;
    }
    return true;
}

/* The broker's answer to one of ours: marks it and says so. Returns false
 * for a refusal. */
static bool s_release_answer(s_release_t *rel, size_t n, const Jk__Envelope *env, const char *broker)
{
    if (env->body_case != JK__ENVELOPE__BODY_ACK || !env->ack->has_acked_message_id)
        return true;
    const Jk__Ack *a = env->ack;
    for (size_t i = 0; i < n; i++) {
        s_release_t *r = &rel[i];
        if (r->message_id != a->acked_message_id || r->due_ms < 0)
            continue;
        snprintf(r->last, sizeof r->last, "%s", a->reason_text ? a->reason_text : "");
        switch (a->status) {
        case JK__ACK_STATUS__ACK_STATUS_APPLIED:
            r->due_ms = -1;
            printf("release key for site %s (package %s) delivered through %s\n", r->e->site_id,
                   r->e->package_id, broker);
            return true;
        case JK__ACK_STATUS__ACK_STATUS_RETRY_LATER:
            r->due_ms = s_mono_ms() + (a->has_retry_after_ms && a->retry_after_ms > 0
                                           ? (int64_t)a->retry_after_ms
                                           : 500);
            return true;
        default:
            r->due_ms = -1;
            admin__fail("site %s: the broker refused the release: %s", r->e->site_id, r->last);
            return false;
        }
    }
    return true;
}

/* Sends every release and waits for the broker's answers, wait_s seconds
 * at most. */
static int s_release_send(void *sock, const char *broker, s_release_t *rel, size_t n, long wait_s)
{
    jk_codec_limits_t lim;
    jk_codec_limits_default(&lim);
    jk_net_msg_t *m = jk_net_msg_new(2 + JK_NET_BATCH_MAX);
    if (!m)
        return ADMIN_FAIL;
    int rc = ADMIN_OK;
    int64_t deadline = s_mono_ms() + wait_s * 1000;
    for (;;) {
        int64_t now = s_mono_ms(), next = deadline;
        size_t open = 0;
        for (size_t i = 0; i < n; i++) {
            if (rel[i].due_ms < 0)
                continue;
            open++;
            if (rel[i].due_ms <= now) {
                jk_net_item_t item = { NULL, 0, rel[i].buf, rel[i].len };
                jk_error_t err;
                if (jk_net_send_batch(sock, NULL, 0, JK_NET_LINK_CLIENT, &item, 1, &err) != JK_OK)
                    snprintf(rel[i].last, sizeof rel[i].last, "%s", err.msg);
                rel[i].due_ms = now + 2000; /* unanswered: again */
            }
            if (rel[i].due_ms < next)
                next = rel[i].due_ms;
        }
        if (open == 0 || now >= deadline)
            break;
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, (long)(next - now)) <= 0)
            continue;
        jk_error_t err;
        jk_net_batch_t b;
        if (jk_net_recv(sock, m, (size_t)jk_net_max_msg_bytes(&lim, false), ZMQ_DONTWAIT, &err) != JK_OK ||
            jk_net_parse(m, JK_NET_LINK_CLIENT, false, &b, &err) != JK_OK)
            continue;
        for (size_t i = 0; i < b.n; i++) {
            Jk__Envelope *env = NULL;
            if (jk_codec_decode(b.items[i].env, b.items[i].env_len, &lim, &env, NULL) != JK_OK)
                continue;
            if (!s_release_answer(rel, n, env, broker))
                rc = ADMIN_INVALID;
            jk_codec_free(&env);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (rel[i].due_ms >= 0) {
            admin__fail("site %s: not released within %ld s: %s", rel[i].e->site_id, wait_s,
                        rel[i].last[0] ? rel[i].last : "no answer from the broker");
            rc = ADMIN_FAIL;
        }
    jk_net_msg_destroy(&m);
    return rc;
}

int admin__sitting_release(int argc, char **argv)
{
    const char *broker = NULL, *keys_path = NULL, *secret_path = NULL, *broker_pub = NULL;
    const char *packages = NULL;
    long wait_s = 30;
    const char *sites[256];
    int n_sites = 0;
    bool plain = false;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--broker") == 0 && v) broker = v, i++;
        else if (strcmp(argv[i], "--keys") == 0 && v) keys_path = v, i++;
        else if (strcmp(argv[i], "--packages") == 0 && v) packages = v, i++;
        else if (strcmp(argv[i], "--wait") == 0 && v) {
            char *end;
            wait_s = strtol(v, &end, 10);
            if (*end || wait_s < 1 || wait_s > 3600) {
                admin__fail("--wait: expected seconds, 1..3600");
                return ADMIN_USAGE;
            }
            i++;
        }
        else if (strcmp(argv[i], "--site") == 0 && v && n_sites < 256) sites[n_sites++] = v, i++;
        else if (strcmp(argv[i], "--curve-secret") == 0 && v) secret_path = v, i++;
        else if (strcmp(argv[i], "--broker-public") == 0 && v) broker_pub = v, i++;
        else if (strcmp(argv[i], "--plain") == 0) plain = true;
        else {
            admin__fail("sitting release: unexpected argument '%s'", argv[i]);
            return ADMIN_USAGE;
        }
    }
    if (!broker || !keys_path || (!plain && (!secret_path || !broker_pub))) {
        admin__fail("sitting release: needs --broker EP --keys KEYS.json, and --curve-secret FILE "
                    "--broker-public FILE (or --plain on loopback); --packages DIR if the site "
                    "packages are not in KEYS.json's ../sites");
        return ADMIN_USAGE;
    }
    /* The packages: by default where `papers build` put them, beside the
     * keys file's directory (OUT/center/keys.json, OUT/sites/). */
    char pkg_dir[4096];
    if (packages) {
        snprintf(pkg_dir, sizeof pkg_dir, "%s", packages);
    } else {
        const char *slash = strrchr(keys_path, '/');
        snprintf(pkg_dir, sizeof pkg_dir, "%.*s../sites", slash ? (int)(slash - keys_path + 1) : 0,
                 keys_path);
    }
    jk_error_t err;
    jk_package_keys_t *keys = jk_package_keys_load(keys_path, &err);
    if (!keys) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    void *ctx = zmq_ctx_new();
    jk_net_opts_t o;
    jk_net_opts_default(&o);
    o.security = plain ? JK_NET_PLAIN : JK_NET_CURVE;
    o.linger_ms = 0; /* delivery is confirmed by the broker; nothing left is sent late */
    char secret[JK_NET_Z85_LEN + 1], server[JK_NET_Z85_LEN + 1];
    int rc = ADMIN_OK;
    void *sock = NULL;
    if (!plain) {
        if (jk_net_key_read(secret_path, true, secret, &err) != JK_OK ||
            jk_net_key_read(broker_pub, false, server, &err) != JK_OK) {
            admin__fail("%s", err.msg);
            rc = ADMIN_INVALID;
            goto out;
        }
        o.secret_key_z85 = secret;
        o.server_key_z85 = server;
    }
    sock = jk_net_client(ctx, ZMQ_DEALER, broker, &o, &err);
    OPENSSL_cleanse(secret, sizeof secret);
    if (!sock) {
        admin__fail("%s", err.msg);
        rc = ADMIN_FAIL;
        goto out;
    }
    /* Each release is encoded once, then sent until the broker answers:
     * APPLIED (routed to the site's exam node), REJECTED (not permitted:
     * fail), or RETRY_LATER (the site is not connected yet: again after
     * the delay it names, until --wait runs out). */
    s_release_t rel[256];
    size_t n_rel = 0, matched = 0;
    uint64_t msg_base = (uint64_t)time(NULL) * 1000;
    for (size_t i = 0; i < jk_package_keys_count(keys) && n_rel < 256; i++) {
        const jk_package_keys_entry_t *e = jk_package_keys_get(keys, i);
        bool want = n_sites == 0;
        for (int k = 0; k < n_sites && !want; k++)
            want = strcmp(sites[k], e->site_id) == 0;
        if (!want)
            continue;
        matched++;
        s_release_t *r = &rel[n_rel];
        memset(r, 0, sizeof *r);
        r->e = e;
        r->message_id = msg_base + i + 1;
        if (!s_release_encode(pkg_dir, e, r)) {
            rc = ADMIN_INVALID;
            continue;
        }
        n_rel++;
    }
    if (matched == 0) {
        admin__fail("no package of the keys file matched --site");
        rc = ADMIN_INVALID;
    }
    if (rc == ADMIN_OK && n_rel > 0)
        rc = s_release_send(sock, broker, rel, n_rel, wait_s);
    for (size_t i = 0; i < n_rel; i++) {
        OPENSSL_cleanse(rel[i].buf, rel[i].len);
        free(rel[i].buf);
    }
out:
    if (sock)
        zmq_close(sock);
    zmq_ctx_term(ctx);
    jk_package_keys_destroy(&keys);
    return rc;
}
