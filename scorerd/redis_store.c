/*
 * redis_store.c: hiredis async, driven by scorerd's zmq_poll loop. See
 * redis_store.h for the contract and the state machine.
 *
 * Design note. This file is the only one of scorerd that includes hiredis.
 *
 * Every request is an s_req_t that lives on one of two queues: `pending`
 * (written to hiredis, waiting for its reply, in send order: Redis answers
 * one connection in order, so the head is always the oldest and the first
 * deadline) and `done` (answered or failed, waiting to be delivered). The
 * hiredis reply callback only parses the reply into the request (hiredis
 * frees the reply when the callback returns) and moves the request to
 * `done`; user callbacks run from s_deliver() after hiredis has returned,
 * so user code never runs inside hiredis, may issue new requests, and sees
 * a consistent store. in_flight counts requests on either queue and is
 * decremented just before the user callback runs.
 *
 * Failure paths all end in hiredis calling the reply callback of every
 * outstanding command once with a NULL reply:
 *   - our own drop (timeout, library missing, handshake error, destroy):
 *     s_drop() sets `tearing` with the code and reason to give, then calls
 *     redisAsyncFree();
 *   - hiredis's own (EOF, reset, connect refused) inside
 *     redisAsyncHandleRead/Write: the reason is taken from ac->errstr; the
 *     ev.cleanup hook tells us the context is gone (`lost`), and the loop
 *     schedules the reconnect after hiredis returns.
 * The store never calls redisAsyncFree() from inside a hiredis callback
 * (hiredis would defer it); a callback only sets `reset` and the drop
 * happens after the hiredis call returns.
 *
 * Replies are checked for shape and bounds before use; a reply of the wrong
 * shape fails that request with JK_ERR_INTERNAL and harms nothing else.
 */
#include "redis_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "jk_file.h"
#include "jk_log.h"
#include "jk_rand.h"

/* The library, embedded at build time by scorerd/CMakeLists.txt as
 * `static const unsigned char jikao_lua[]` (the bytes of scorerd/jikao.lua,
 * not NUL-terminated). Without it, library_path must be given. */
#if defined(__has_include)
#if __has_include("jikao_lua.h")
#include "jikao_lua.h"
#define S_EMBEDDED 1
#endif
#endif
#ifndef S_EMBEDDED
#define S_EMBEDDED 0
#endif

#define S_ERRSTR_MAX 256
#define S_ARGC_MAX 24
#define S_NUM_MAX 24          /* a uint64_t in decimal, with NUL */
#define S_KEY_MAX (JK_CODEC_ID_MAX + 16) /* "jk:{" id "}:meta" */
#define S_XS_MAX 8192         /* examiner scores per session (jikao.lua XS_MAX) */
#define S_EVENT_LEN (JK_CODEC_DIGEST_LEN + 1u) /* hash + machine event */
#define S_LOG_EVERY_ATTEMPTS 25u /* see s_drop */

typedef enum { S_WAITING, S_CONNECTING, S_READY } s_state_t;
typedef enum { S_REQ_APPLY, S_REQ_STATE, S_REQ_RESULT, S_REQ_RECONCILE } s_kind_t;

typedef struct s_req {
    struct s_req *next;
    redis_store_t *s;
    s_kind_t kind;
    void *ud;
    union {
        redis_store_apply_fn apply;
        redis_store_state_fn state;
        redis_store_result_fn result;
        redis_store_reconcile_fn reconcile;
    } cb;
    int64_t sent_us;     /* monotonic */
    int64_t deadline_us;
    uint64_t count;      /* reconcile: the count asked about */
    jk_err_t rc;
    char errstr[S_ERRSTR_MAX];
    redis_store_apply_reply_t apply;
    redis_store_result_reply_t result;
    redis_store_state_t *state;
    redis_store_reconcile_t *rec;
} s_req_t;

typedef struct {
    s_req_t *head, *tail;
} s_queue_t;

struct redis_store {
    /* Configuration (copied). */
    char *host;
    int port;
    char *password;               /* NULL: no AUTH */
    unsigned max_in_flight;
    int64_t request_timeout_us;
    int64_t connect_timeout_us;
    unsigned reconnect_min_ms, reconnect_max_ms;
    const jk_clock_t *clock;
    char *library;                /* the Lua source, library_len bytes */
    size_t library_len;
    jk_rand_t rng;                /* back-off jitter */

    /* Connection. */
    s_state_t state;
    redisAsyncContext *ac;        /* NULL between connections */
    bool want_read, want_write;   /* interest recorded by hiredis's hooks */
    int handshake_left;           /* AUTH / FUNCTION LOAD replies to come */
    bool reset;                   /* drop after the current hiredis call */
    jk_err_t reset_rc;
    char reset_why[S_ERRSTR_MAX];
    bool lost;                    /* hiredis freed the context itself */
    char lost_why[S_ERRSTR_MAX];
    bool tearing;                 /* inside our own redisAsyncFree() */
    jk_err_t teardown_rc;
    char teardown_why[S_ERRSTR_MAX];
    int64_t connect_deadline_us;
    int64_t reconnect_at_us;
    unsigned attempt;             /* consecutive failed attempts */
    bool destroying;

    /* Requests. */
    s_queue_t pending;
    s_queue_t done;
    unsigned in_flight;

    char errstr[S_ERRSTR_MAX];
    redis_store_stats_t st;
};

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                           */

static int64_t s_now_us(const redis_store_t *s)
{
    return jk_clock_mono_us(s->clock);
}

static char *s_strdup(const char *p)
{
    size_t n = strlen(p) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, p, n);
    return d;
}

static void s_queue_push(s_queue_t *q, s_req_t *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

static s_req_t *s_queue_pop(s_queue_t *q)
{
    s_req_t *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    return r;
}

/* Unlinks r; replies come in order, so r is almost always the head. */
static void s_queue_remove(s_queue_t *q, s_req_t *r)
{
    if (q->head == r) {
        s_queue_pop(q);
        return;
    }
    for (s_req_t *p = q->head; p; p = p->next)
        if (p->next == r) {
            p->next = r->next;
            if (q->tail == r)
                q->tail = p;
            r->next = NULL;
            return;
        }
}

/* An id of the protocol: 1..64 bytes of A-Z a-z 0-9 - _ . : */
static bool s_id_ok(const char *p)
{
    size_t n = 0;
    if (!p)
        return false;
    for (; p[n]; n++) {
        char c = p[n];
        if (n >= JK_CODEC_ID_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return n > 0;
}

/* Strict decimal: 1..20 digits, no sign, value <= max. */
static bool s_parse_u64(const char *p, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Configuration and lifecycle.                                             */

void redis_store_config_default(redis_store_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = REDIS_STORE_PORT_DEFAULT;
    cfg->max_in_flight = REDIS_STORE_MAX_IN_FLIGHT_DEFAULT;
    cfg->request_timeout_ms = REDIS_STORE_REQUEST_TIMEOUT_MS_DEFAULT;
    cfg->connect_timeout_ms = REDIS_STORE_CONNECT_TIMEOUT_MS_DEFAULT;
    cfg->reconnect_min_ms = REDIS_STORE_RECONNECT_MIN_MS_DEFAULT;
    cfg->reconnect_max_ms = REDIS_STORE_RECONNECT_MAX_MS_DEFAULT;
}

bool redis_store_library_embedded(void)
{
    return S_EMBEDDED != 0;
}

/* Reads the library file, bounded; a file over the bound is a
 * configuration error (JK_ERR_CONFIG), as is an empty one. */
static jk_err_t s_read_library(redis_store_t *s, const char *path, jk_error_t *err)
{
    uint8_t *buf = NULL;
    jk_error_t fe;
    jk_err_t rc = jk_file_read(path, REDIS_STORE_LIBRARY_MAX_BYTES, false, &buf, &s->library_len,
                               &fe);
    if (rc != JK_OK)
        return jk_error_set(err, rc == JK_ERR_TOO_BIG ? JK_ERR_CONFIG : rc, "%s", fe.msg);
    s->library = (char *)buf;
    if (s->library_len == 0)
        return jk_error_set(err, JK_ERR_CONFIG, "%s: empty", path);
    return JK_OK;
}

static void s_connect(redis_store_t *s);

redis_store_t *redis_store_new(const redis_store_config_t *cfg, jk_error_t *err)
{
    redis_store_config_t def;
    redis_store_t *s = NULL;
    if (!cfg) {
        redis_store_config_default(&def);
        cfg = &def;
    }
    if (cfg->port < 1 || cfg->port > 65535) {
        jk_error_set(err, JK_ERR_CONFIG, "redis port %d outside 1..65535", cfg->port);
        return NULL;
    }
    if (cfg->max_in_flight > REDIS_STORE_MAX_IN_FLIGHT_MAX) {
        jk_error_set(err, JK_ERR_CONFIG, "redis max_in_flight %u outside 1..%u",
                     cfg->max_in_flight, REDIS_STORE_MAX_IN_FLIGHT_MAX);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        jk_error_set(err, JK_ERR_NOMEM, "redis store: out of memory");
        return NULL;
    }
    s->port = cfg->port;
    s->host = s_strdup(cfg->host && *cfg->host ? cfg->host : "127.0.0.1");
    if (!s->host)
        goto nomem;
    if (cfg->password && *cfg->password && !(s->password = s_strdup(cfg->password)))
        goto nomem;
    s->max_in_flight = cfg->max_in_flight ? cfg->max_in_flight : REDIS_STORE_MAX_IN_FLIGHT_DEFAULT;
    s->request_timeout_us = 1000 * (int64_t)(cfg->request_timeout_ms
                                                 ? cfg->request_timeout_ms
                                                 : REDIS_STORE_REQUEST_TIMEOUT_MS_DEFAULT);
    s->connect_timeout_us = 1000 * (int64_t)(cfg->connect_timeout_ms
                                                 ? cfg->connect_timeout_ms
                                                 : REDIS_STORE_CONNECT_TIMEOUT_MS_DEFAULT);
    s->reconnect_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms
                                                : REDIS_STORE_RECONNECT_MIN_MS_DEFAULT;
    s->reconnect_max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms
                                                : REDIS_STORE_RECONNECT_MAX_MS_DEFAULT;
    if (s->reconnect_max_ms < s->reconnect_min_ms) {
        jk_error_set(err, JK_ERR_CONFIG, "redis reconnect max %u ms below min %u ms",
                     s->reconnect_max_ms, s->reconnect_min_ms);
        goto fail;
    }
    s->clock = cfg->clock ? cfg->clock : jk_clock_system();
    jk_rand_seed(&s->rng, cfg->jitter_seed ? cfg->jitter_seed
                                           : ((uint64_t)s_now_us(s) ^ ((uint64_t)getpid() << 32)));
    if (cfg->library_path) {
        if (s_read_library(s, cfg->library_path, err) != JK_OK)
            goto fail;
    } else {
#if S_EMBEDDED
        s->library_len = sizeof jikao_lua;
        s->library = malloc(s->library_len);
        if (!s->library)
            goto nomem;
        memcpy(s->library, jikao_lua, s->library_len);
#else
        jk_error_set(err, JK_ERR_CONFIG,
                     "redis store: this build has no embedded jikao.lua "
                     "(scorerd/CMakeLists.txt); give library_path");
        goto fail;
#endif
    }
    s->st.max_in_flight = s->max_in_flight;
    s->state = S_WAITING;
    s_connect(s);
    return s;
nomem:
    jk_error_set(err, JK_ERR_NOMEM, "redis store: out of memory");
fail:
    free(s->library);
    free(s->password);
    free(s->host);
    free(s);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* hiredis event hooks: they only record interest.                          */

static void s_ev_add_read(void *p)
{
    ((redis_store_t *)p)->want_read = true;
}

static void s_ev_del_read(void *p)
{
    ((redis_store_t *)p)->want_read = false;
}

static void s_ev_add_write(void *p)
{
    ((redis_store_t *)p)->want_write = true;
}

static void s_ev_del_write(void *p)
{
    ((redis_store_t *)p)->want_write = false;
}

/* The context is being freed (by us or by hiredis after an error). */
static void s_ev_cleanup(void *p)
{
    redis_store_t *s = p;
    s->want_read = s->want_write = false;
    if (!s->tearing && s->ac) {
        s->ac = NULL;
        s->lost = true;
    }
}

/* ---------------------------------------------------------------------- */
/* Connection state machine.                                                */

/* Back-off before the next attempt: min(max, min * 2^attempt) ms, of which
 * the upper half is random ("equal jitter"): the lower half keeps a
 * flapping Redis from being hammered, the random half spreads the
 * reconnects of many scorers after a Redis restart. */
static int64_t s_backoff_us(redis_store_t *s)
{
    uint64_t delay = s->reconnect_min_ms;
    for (unsigned i = 0; i < s->attempt && delay < s->reconnect_max_ms; i++)
        delay *= 2;
    if (delay > s->reconnect_max_ms)
        delay = s->reconnect_max_ms;
    uint64_t half = delay / 2;
    uint64_t ms = half + jk_rand_below(&s->rng, delay - half + 1);
    return (int64_t)ms * 1000;
}

static void s_schedule_reconnect(redis_store_t *s)
{
    int64_t wait = s_backoff_us(s);
    s->attempt++;
    s->state = S_WAITING;
    s->reconnect_at_us = s_now_us(s) + wait;
}

/* Ends the current connection (if any): outstanding requests fail with rc
 * and why, and a reconnect is scheduled unless the store is going away. */
static void s_drop(redis_store_t *s, jk_err_t rc, const char *why)
{
    char vbuf[JK_LOG_VALUE_MAX];
    bool was_ready = s->state == S_READY;
    snprintf(s->errstr, sizeof s->errstr, "%s", why);
    if (s->ac) {
        redisAsyncContext *ac = s->ac;
        s->ac = NULL;
        s->tearing = true;
        s->teardown_rc = rc;
        snprintf(s->teardown_why, sizeof s->teardown_why, "%s", why);
        redisAsyncFree(ac); /* NULL replies to everything outstanding */
        s->tearing = false;
    }
    s->want_read = s->want_write = false;
    s->handshake_left = 0;
    s->reset = false;
    s->lost = false;
    s->st.ready = false;
    if (s->destroying) {
        s->state = S_WAITING;
        return;
    }
    if (was_ready) {
        s->st.disconnects++;
        if (rc == JK_ERR_TIMEOUT)
            s->st.timeouts++;
    } else {
        s->st.connect_failures++;
    }
    s_schedule_reconnect(s);
    /* A Redis that stays down is logged at the first failures, then once
     * every S_LOG_EVERY_ATTEMPTS attempts (with the capped back-off, about
     * every couple of minutes), not at every attempt. */
    if (was_ready)
        JK_WARN("redis.lost", "host=%s port=%d why=%s retry_in_ms=%lld", s->host, s->port,
                jk_log_value(why, vbuf),
                (long long)((s->reconnect_at_us - s_now_us(s)) / 1000));
    else if (s->attempt <= 3 || s->attempt % S_LOG_EVERY_ATTEMPTS == 0)
        JK_WARN("redis.connect_failed", "host=%s port=%d attempt=%u why=%s retry_in_ms=%lld",
                s->host, s->port, s->attempt, jk_log_value(why, vbuf),
                (long long)((s->reconnect_at_us - s_now_us(s)) / 1000));
}

static void s_ready(redis_store_t *s)
{
    s->state = S_READY;
    s->attempt = 0;
    s->st.connects++;
    if (s->st.connects > 1)
        s->st.reconnects++;
    s->st.ready = true;
    s->errstr[0] = '\0';
    JK_INFO("redis.ready", "host=%s port=%d connects=%llu", s->host, s->port,
            (unsigned long long)s->st.connects);
}

static void s_on_connect(const redisAsyncContext *ac, int status)
{
    redis_store_t *s = ac->data;
    if (status != REDIS_OK)
        snprintf(s->lost_why, sizeof s->lost_why, "connect: %s",
                 ac->errstr ? ac->errstr : "failed");
}

static void s_on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_store_t *s = ac->data;
    if (!s->tearing)
        snprintf(s->lost_why, sizeof s->lost_why, "connection lost: %s",
                 status == REDIS_OK || !ac->errstr ? "closed" : ac->errstr);
}

/* Reply to AUTH or FUNCTION LOAD. */
static void s_on_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
    redis_store_t *s = privdata;
    redisReply *r = reply;
    (void)ac;
    if (!r || s->tearing)
        return; /* the connection is going away; s_drop handles it */
    if (r->type == REDIS_REPLY_ERROR) {
        char vbuf[JK_LOG_VALUE_MAX];
        /* The first error says why (a failed AUTH makes the LOAD fail too). */
        if (s->reset)
            return;
        s->reset = true;
        s->reset_rc = JK_ERR_UNAVAIL;
        snprintf(s->reset_why, sizeof s->reset_why, "handshake: %.*s",
                 (int)(r->len < 200 ? r->len : 200), r->str);
        JK_ERROR("redis.handshake_failed", "host=%s port=%d why=%s", s->host, s->port,
                 jk_log_value(s->reset_why, vbuf));
        return;
    }
    if (--s->handshake_left == 0 && s->state == S_CONNECTING)
        s_ready(s);
}

static void s_connect(redis_store_t *s)
{
    char why[S_ERRSTR_MAX];
    redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
    if (!ac || ac->err) {
        snprintf(why, sizeof why, "connect: %s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        s->state = S_CONNECTING; /* so s_drop counts a connect failure */
        s_drop(s, JK_ERR_UNAVAIL, why);
        return;
    }
    ac->data = s;
    ac->ev.data = s;
    ac->ev.addRead = s_ev_add_read;
    ac->ev.delRead = s_ev_del_read;
    ac->ev.addWrite = s_ev_add_write;
    ac->ev.delWrite = s_ev_del_write;
    ac->ev.cleanup = s_ev_cleanup;
    s->ac = ac;
    s->state = S_CONNECTING;
    s->connect_deadline_us = s_now_us(s) + s->connect_timeout_us;
    s->lost_why[0] = '\0';
    s->handshake_left = 0;
    redisAsyncSetConnectCallback(ac, s_on_connect);
    redisAsyncSetDisconnectCallback(ac, s_on_disconnect);
    /* Pipelined behind the TCP connect: hiredis writes them once connected. */
    if (s->password) {
        const char *argv[] = {"AUTH", s->password};
        size_t len[] = {4, strlen(s->password)};
        if (redisAsyncCommandArgv(ac, s_on_handshake, s, 2, argv, len) == REDIS_OK)
            s->handshake_left++;
    }
    const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", s->library};
    size_t len[] = {8, 4, 7, s->library_len};
    if (redisAsyncCommandArgv(ac, s_on_handshake, s, 4, argv, len) == REDIS_OK)
        s->handshake_left++;
    if (s->handshake_left == 0) /* could not even queue them */
        s_drop(s, JK_ERR_UNAVAIL, "connect: could not queue the handshake");
}

/* After a hiredis call: act on what its callbacks recorded. */
static void s_after_io(redis_store_t *s)
{
    if (s->lost) {
        s->lost = false;
        s_drop(s, JK_ERR_UNAVAIL, s->lost_why[0] ? s->lost_why : "connection lost");
    } else if (s->reset) {
        s->reset = false;
        char why[S_ERRSTR_MAX];
        snprintf(why, sizeof why, "%s", s->reset_why);
        s_drop(s, s->reset_rc, why);
    }
}

/* ---------------------------------------------------------------------- */
/* Delivery.                                                                */

static void s_latency(redis_store_t *s, int64_t us)
{
    unsigned b = 0;
    uint64_t v = us > 0 ? (uint64_t)us : 0;
    while (v && b < REDIS_STORE_LATENCY_BUCKETS - 1) {
        v >>= 1;
        b++;
    }
    s->st.latency_hist[b]++;
}

static void s_deliver(redis_store_t *s)
{
    s_req_t *r;
    while ((r = s_queue_pop(&s->done)) != NULL) {
        bool ok = r->rc == JK_OK;
        s->in_flight--;
        if (ok)
            s->st.ok++;
        else if ((unsigned)r->rc < JK_ERR__COUNT)
            s->st.errors[r->rc]++;
        const char *es = ok ? "" : r->errstr;
        switch (r->kind) {
        case S_REQ_APPLY:
            r->cb.apply(r->ud, r->rc, es, ok ? &r->apply : NULL);
            break;
        case S_REQ_STATE:
            if (!ok)
                redis_store_state_free(&r->state);
            r->cb.state(r->ud, r->rc, es, &r->state);
            break;
        case S_REQ_RESULT:
            r->cb.result(r->ud, r->rc, es, ok ? &r->result : NULL);
            break;
        case S_REQ_RECONCILE:
            r->cb.reconcile(r->ud, r->rc, es, ok ? r->rec : NULL);
            break;
        }
        redis_store_state_free(&r->state);
        free(r->rec);
        free(r);
    }
}

/* ---------------------------------------------------------------------- */
/* Reply parsing.                                                           */

static jk_err_t s_fail(s_req_t *r, jk_err_t rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static jk_err_t s_fail(s_req_t *r, jk_err_t rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errstr, sizeof r->errstr, fmt, ap);
    va_end(ap);
    r->rc = rc;
    return rc;
}

static bool s_starts(const redisReply *e, const char *prefix)
{
    size_t n = strlen(prefix);
    return e->len >= n && memcmp(e->str, prefix, n) == 0;
}

/* Maps an error reply: our library's codes, Redis's transient conditions,
 * and the library gone missing (reload it by reconnecting). */
static jk_err_t s_error_reply(redis_store_t *s, s_req_t *r, const redisReply *e)
{
    jk_err_t rc = JK_ERR_INTERNAL;
    int n = (int)(e->len < 200 ? e->len : 200);
    if (s_starts(e, "JKINVAL "))
        rc = JK_ERR_INVAL;
    else if (s_starts(e, "JKTOOBIG "))
        rc = JK_ERR_TOO_BIG;
    else if (s_starts(e, "JKLATE "))
        rc = JK_ERR_LATE;
    else if (s_starts(e, "LOADING") || s_starts(e, "BUSY") || s_starts(e, "OOM") ||
             s_starts(e, "READONLY") || s_starts(e, "MASTERDOWN") || s_starts(e, "TRYAGAIN") ||
             s_starts(e, "CLUSTERDOWN") || s_starts(e, "NOREPLICAS") || s_starts(e, "MOVED") ||
             s_starts(e, "ASK"))
        rc = JK_ERR_UNAVAIL;
    else if (s_starts(e, "NOSCRIPT") || s_starts(e, "NOAUTH") || s_starts(e, "WRONGPASS") ||
             (s_starts(e, "ERR") && strstr(e->str, "unction not found"))) {
        rc = JK_ERR_UNAVAIL;
        if (!s->reset) {
            s->reset = true;
            s->reset_rc = JK_ERR_UNAVAIL;
            snprintf(s->reset_why, sizeof s->reset_why, "redis: %.*s", n, e->str);
        }
    }
    return s_fail(r, rc, "redis: %.*s", n, e->str);
}

static bool s_is_array(const redisReply *r, size_t n)
{
    return r && r->type == REDIS_REPLY_ARRAY && r->elements == n;
}

static bool s_int(const redisReply *r, long long lo, long long hi, uint64_t *out)
{
    if (!r || r->type != REDIS_REPLY_INTEGER || r->integer < lo || r->integer > hi)
        return false;
    *out = (uint64_t)r->integer;
    return true;
}

static bool s_str_is(const redisReply *r, const char *want)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
           r->len == strlen(want) && memcmp(r->str, want, r->len) == 0;
}

static void s_parse_apply(s_req_t *r, const redisReply *rep)
{
    uint64_t v[6];
    redis_store_apply_reply_t *a = &r->apply;
    if (!s_is_array(rep, 7))
        goto bad;
    if (s_str_is(rep->element[0], "APPLIED"))
        a->outcome = REDIS_STORE_APPLIED;
    else if (s_str_is(rep->element[0], "DUPLICATE"))
        a->outcome = REDIS_STORE_DUPLICATE;
    else if (s_str_is(rep->element[0], "SEQ_CONFLICT"))
        a->outcome = REDIS_STORE_SEQ_CONFLICT;
    else
        goto bad;
    for (size_t i = 0; i < 6; i++)
        if (!s_int(rep->element[i + 1], 0, JK_CODEC_SEQ_MAX, &v[i]))
            goto bad;
    a->applied = v[0];
    a->last_seq = v[1];
    a->submit_seq = v[2];
    a->became_complete = v[3] != 0;
    a->complete = v[4] != 0;
    a->scored = v[5] != 0;
    return;
bad:
    s_fail(r, JK_ERR_INTERNAL, "jk_apply reply: not { outcome, 6 integers }");
}

static void s_parse_result(s_req_t *r, const redisReply *rep)
{
    uint64_t st;
    if (!s_is_array(rep, 2) || !s_int(rep->element[1], 0, 5, &st))
        goto bad;
    if (s_str_is(rep->element[0], "STORED"))
        r->result.outcome = REDIS_STORE_RESULT_STORED;
    else if (s_str_is(rep->element[0], "EXISTS"))
        r->result.outcome = REDIS_STORE_RESULT_EXISTS;
    else if (s_str_is(rep->element[0], "NOT_READY"))
        r->result.outcome = REDIS_STORE_RESULT_NOT_READY;
    else
        goto bad;
    r->result.result_status = (uint32_t)st;
    return;
bad:
    s_fail(r, JK_ERR_INTERNAL, "jk_result reply: not { outcome, status }");
}

static void s_parse_reconcile(s_req_t *r, const redisReply *rep)
{
    uint64_t v[7];
    uint8_t (*prefix)[JK_CODEC_DIGEST_LEN] = NULL;
    redis_store_reconcile_t *c = calloc(1, sizeof *c);
    if (!c) {
        s_fail(r, JK_ERR_NOMEM, "jk_reconcile: out of memory");
        return;
    }
    c->count = r->count;
    if (!s_is_array(rep, 9))
        goto bad;
    for (size_t i = 0; i < 7; i++)
        if (!s_int(rep->element[i], 0, JK_CODEC_SEQ_MAX, &v[i]))
            goto bad;
    c->known = v[0] != 0;
    c->applied = v[1];
    c->last_seq = v[2];
    c->complete = v[3] != 0;
    c->scored = v[4] != 0;
    c->status = (jk_session_state_t)(v[5] <= JK_SESSION_STATE_LAST ? v[5] : 0);
    c->missing_total = v[6];
    const redisReply *miss = rep->element[7], *hashes = rep->element[8];
    if (!miss || miss->type != REDIS_REPLY_ARRAY || miss->elements > JK_CODEC_MISSING_SEQ_MAX ||
        !hashes || hashes->type != REDIS_REPLY_ARRAY)
        goto bad;
    for (size_t i = 0; i < miss->elements; i++)
        if (!s_int(miss->element[i], 1, (long long)r->count, &c->missing[i]))
            goto bad;
    c->n_missing = miss->elements;
    if (c->known && hashes->elements != r->count)
        goto bad;
    size_t k = 0;
    while (k < hashes->elements && hashes->element[k]->type == REDIS_REPLY_STRING &&
           hashes->element[k]->len == JK_CODEC_DIGEST_LEN)
        k++;
    for (size_t i = k; i < hashes->elements; i++) {
        int t = hashes->element[i]->type;
        if (t != REDIS_REPLY_NIL &&
            !(t == REDIS_REPLY_STRING && hashes->element[i]->len == JK_CODEC_DIGEST_LEN))
            goto bad;
    }
    c->contiguous = k;
    if (k > 0 && !(prefix = malloc(k * sizeof *prefix))) {
        s_fail(r, JK_ERR_NOMEM, "jk_reconcile: out of memory");
        free(c);
        return;
    }
    for (size_t i = 0; i < k; i++)
        memcpy(prefix[i], hashes->element[i]->str, JK_CODEC_DIGEST_LEN);
    jk_error_t e;
    if (jk_codec_session_digest((const uint8_t (*)[JK_CODEC_DIGEST_LEN])prefix, k, c->digest, &e) !=
        JK_OK) {
        s_fail(r, e.code, "jk_reconcile: digest: %s", e.msg);
        free(prefix);
        free(c);
        return;
    }
    free(prefix);
    r->rec = c;
    return;
bad:
    free(c);
    s_fail(r, JK_ERR_INTERNAL, "jk_reconcile reply: wrong shape or out of bounds");
}

/* ---- jk_state ---- */

typedef enum { F_ID, F_U64, F_U32, F_DIGEST, F_STATUS, F_BOOL, F_BLOB } s_ftype_t;

typedef struct {
    const char *name;
    s_ftype_t type;
    size_t off;
    size_t len_off; /* F_BLOB: where the length goes */
} s_field_t;

#define S_F(n, t, m) {n, t, offsetof(redis_store_state_t, m), 0}
static const s_field_t s_meta_fields[] = {
    S_F("exam", F_ID, exam_id),
    S_F("site", F_ID, site_id),
    S_F("room", F_ID, room_id),
    S_F("candidate", F_ID, candidate_id),
    S_F("open_seq", F_U64, open_seq),
    S_F("paper", F_ID, paper_id),
    S_F("paper_digest", F_DIGEST, paper_digest),
    S_F("exam_type", F_U32, exam_type),
    S_F("level", F_U32, level),
    S_F("duration_ms", F_U64, duration_ms),
    S_F("item_count", F_U32, item_count),
    S_F("open_time_ms", F_U64, open_time_ms),
    S_F("workstation", F_ID, workstation_id),
    S_F("relocations", F_U32, relocations),
    S_F("status", F_STATUS, status),
    S_F("status_seq", F_U64, status_seq),
    S_F("applied", F_U64, applied),
    S_F("last_seq", F_U64, last_seq),
    S_F("submit_seq", F_U64, submit_seq),
    S_F("submit_reason", F_U32, submit_reason),
    S_F("submit_time_ms", F_U64, submit_time_ms),
    S_F("submit_digest", F_DIGEST, submit_digest),
    S_F("submit_proctor", F_ID, submit_proctor_id),
    S_F("complete", F_BOOL, complete),
    S_F("pause_count", F_U32, pause_count),
    S_F("resume_count", F_U32, resume_count),
    S_F("pause_time_sum_ms", F_U64, pause_time_sum_ms),
    S_F("resume_time_sum_ms", F_U64, resume_time_sum_ms),
    S_F("ext_count", F_U32, ext_count),
    S_F("ext_total_ms", F_U64, ext_total_ms),
    S_F("scored", F_BOOL, scored),
    S_F("result_status", F_U32, result_status),
    {"result", F_BLOB, offsetof(redis_store_state_t, result),
     offsetof(redis_store_state_t, result_len)},
};

/* Copies an id value (may be empty: submit_proctor is "" unless forced). */
static bool s_copy_id(char *dst, const redisReply *v)
{
    if (v->len > JK_CODEC_ID_MAX || memchr(v->str, '\0', v->len))
        return false;
    memcpy(dst, v->str, v->len);
    dst[v->len] = '\0';
    return v->len == 0 || s_id_ok(dst);
}

static bool s_meta_set(redis_store_state_t *st, const s_field_t *f, const redisReply *v)
{
    char *base = (char *)st;
    uint64_t n;
    switch (f->type) {
    case F_ID:
        return s_copy_id(base + f->off, v);
    case F_U64:
        if (!s_parse_u64(v->str, v->len, UINT64_MAX / 2, &n))
            return false;
        memcpy(base + f->off, &n, sizeof n);
        return true;
    case F_U32: {
        if (!s_parse_u64(v->str, v->len, UINT32_MAX, &n))
            return false;
        uint32_t u = (uint32_t)n;
        memcpy(base + f->off, &u, sizeof u);
        return true;
    }
    case F_DIGEST:
        if (v->len != JK_CODEC_DIGEST_LEN)
            return false;
        memcpy(base + f->off, v->str, JK_CODEC_DIGEST_LEN);
        return true;
    case F_STATUS:
        if (!s_parse_u64(v->str, v->len, JK_SESSION_STATE_LAST, &n) || n < JK_SESSION_STATE_FIRST)
            return false;
        st->status = (jk_session_state_t)n;
        return true;
    case F_BOOL:
        if (!s_parse_u64(v->str, v->len, 1, &n))
            return false;
        *(bool *)(base + f->off) = n != 0;
        return true;
    case F_BLOB: {
        if (v->len == 0 || v->len > REDIS_STORE_BLOB_MAX_BYTES)
            return false;
        uint8_t *p = malloc(v->len);
        if (!p)
            return false;
        memcpy(p, v->str, v->len);
        free(*(uint8_t **)(base + f->off));
        *(uint8_t **)(base + f->off) = p;
        *(size_t *)(base + f->len_off) = v->len;
        return true;
    }
    }
    return false;
}

/* "<seq>:<flag>:<changes>:<response>" */
static bool s_parse_answer(redis_store_answer_t *a, const redisReply *k, const redisReply *v)
{
    const char *p = v->str, *end = v->str + v->len;
    const char *c1, *c2, *c3;
    uint64_t seq, flag, changes;
    if (!s_copy_id(a->item_id, k) || k->len == 0)
        return false;
    if (!(c1 = memchr(p, ':', (size_t)(end - p))) ||
        !(c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) ||
        !(c3 = memchr(c2 + 1, ':', (size_t)(end - c2 - 1))))
        return false;
    if (!s_parse_u64(p, (size_t)(c1 - p), JK_CODEC_SEQ_MAX, &seq) || seq == 0 ||
        !s_parse_u64(c1 + 1, (size_t)(c2 - c1 - 1), 1, &flag) ||
        !s_parse_u64(c2 + 1, (size_t)(c3 - c2 - 1), JK_CODEC_CHANGES_MAX, &changes))
        return false;
    size_t rlen = (size_t)(end - c3 - 1);
    if (rlen > REDIS_STORE_BLOB_MAX_BYTES)
        return false;
    a->seq = seq;
    a->flagged = flag != 0;
    a->change_counter = (uint32_t)changes;
    if (rlen > 0) {
        if (!(a->response = malloc(rlen)))
            return false;
        memcpy(a->response, c3 + 1, rlen);
        a->response_len = rlen;
    }
    return true;
}

/* Copies bytes [p, q) into an id buffer. */
static bool s_copy_part(char *dst, const char *p, const char *q)
{
    size_t n = (size_t)(q - p);
    if (n == 0 || n > JK_CODEC_ID_MAX)
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return s_id_ok(dst);
}

/* key "<task>/<part>/<examiner>/<round>", value "<seq>:<points>:<max>" */
static bool s_parse_xscore(redis_store_xscore_t *x, const redisReply *k, const redisReply *v)
{
    const char *p = k->str, *end = k->str + k->len, *s1, *s2, *s3;
    uint64_t round, seq, pts, max;
    if (!(s1 = memchr(p, '/', (size_t)(end - p))) ||
        !(s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1))) ||
        !(s3 = memchr(s2 + 1, '/', (size_t)(end - s2 - 1))))
        return false;
    if (!s_copy_part(x->task_id, p, s1) || !s_copy_part(x->part_id, s1 + 1, s2) ||
        !s_copy_part(x->examiner_id, s2 + 1, s3) ||
        !s_parse_u64(s3 + 1, (size_t)(end - s3 - 1), 1, &round))
        return false;
    x->arbitration = round != 0;
    p = v->str;
    end = v->str + v->len;
    if (!(s1 = memchr(p, ':', (size_t)(end - p))) ||
        !(s2 = memchr(s1 + 1, ':', (size_t)(end - s1 - 1))))
        return false;
    if (!s_parse_u64(p, (size_t)(s1 - p), JK_CODEC_SEQ_MAX, &seq) || seq == 0 ||
        !s_parse_u64(s1 + 1, (size_t)(s2 - s1 - 1), JK_CODEC_POINTS_MAX_CENTI, &pts) ||
        !s_parse_u64(s2 + 1, (size_t)(end - s2 - 1), JK_CODEC_POINTS_MAX_CENTI, &max) ||
        max == 0 || pts > max)
        return false;
    x->seq = seq;
    x->points_centi = (uint32_t)pts;
    x->max_points_centi = (uint32_t)max;
    return true;
}

static int s_cmp_answer(const void *a, const void *b)
{
    return strcmp(((const redis_store_answer_t *)a)->item_id,
                  ((const redis_store_answer_t *)b)->item_id);
}

static int s_cmp_xscore(const void *a, const void *b)
{
    const redis_store_xscore_t *x = a, *y = b;
    int c = strcmp(x->task_id, y->task_id);
    if (!c)
        c = strcmp(x->part_id, y->part_id);
    if (!c)
        c = strcmp(x->examiner_id, y->examiner_id);
    if (!c)
        c = (int)x->arbitration - (int)y->arbitration;
    return c;
}

static bool s_is_pairs(const redisReply *r, size_t max_pairs)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0 ||
        r->elements / 2 > max_pairs)
        return false;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return false;
    return true;
}

static void s_parse_state(s_req_t *r, const redisReply *rep)
{
    redis_store_state_t *st = calloc(1, sizeof *st);
    const char *what = "shape";
    if (!st) {
        s_fail(r, JK_ERR_NOMEM, "jk_state: out of memory");
        return;
    }
    if (!s_is_array(rep, 4))
        goto bad;
    const redisReply *meta = rep->element[0], *evs = rep->element[1];
    const redisReply *ans = rep->element[2], *xs = rep->element[3];
    what = "meta";
    if (!s_is_pairs(meta, 256))
        goto bad;
    for (size_t i = 0; i < meta->elements; i += 2) {
        const redisReply *k = meta->element[i], *v = meta->element[i + 1];
        for (size_t f = 0; f < sizeof s_meta_fields / sizeof s_meta_fields[0]; f++)
            if (k->len == strlen(s_meta_fields[f].name) &&
                memcmp(k->str, s_meta_fields[f].name, k->len) == 0) {
                if (!s_meta_set(st, &s_meta_fields[f], v)) {
                    s_fail(r, JK_ERR_INTERNAL, "jk_state reply: meta.%s: bad value",
                           s_meta_fields[f].name);
                    redis_store_state_free(&st);
                    return;
                }
                break;
            }
        /* Other fields (ids_seq, ws_seq, sub_have, ...) are bookkeeping. */
    }
    st->known = meta->elements > 0;

    what = "events";
    if (!evs || evs->type != REDIS_REPLY_ARRAY || evs->elements > JK_CODEC_SEQ_MAX ||
        evs->elements != st->last_seq)
        goto bad;
    st->n_events = evs->elements;
    if (st->n_events > 0) {
        st->event_hash = calloc(st->n_events, sizeof *st->event_hash);
        st->event = calloc(st->n_events, sizeof *st->event);
        if (!st->event_hash || !st->event)
            goto nomem;
    }
    for (size_t i = 0; i < st->n_events; i++) {
        const redisReply *e = evs->element[i];
        if (e->type == REDIS_REPLY_NIL)
            continue;
        if (e->type != REDIS_REPLY_STRING || e->len != S_EVENT_LEN)
            goto bad;
        unsigned code = (unsigned char)e->str[JK_CODEC_DIGEST_LEN];
        if (code < JK_SESSION_EV_FIRST || code >= JK_SESSION_EV_SCORE)
            goto bad;
        memcpy(st->event_hash[i], e->str, JK_CODEC_DIGEST_LEN);
        st->event[i] = (jk_session_event_t)code;
    }

    what = "answers";
    if (!s_is_pairs(ans, JK_CODEC_ITEMS_MAX))
        goto bad;
    st->n_answers = ans->elements / 2;
    if (st->n_answers && !(st->answers = calloc(st->n_answers, sizeof *st->answers)))
        goto nomem;
    for (size_t i = 0; i < st->n_answers; i++)
        if (!s_parse_answer(&st->answers[i], ans->element[2 * i], ans->element[2 * i + 1]))
            goto bad;
    if (st->n_answers > 1)
        qsort(st->answers, st->n_answers, sizeof *st->answers, s_cmp_answer);

    what = "examiner scores";
    if (!s_is_pairs(xs, S_XS_MAX))
        goto bad;
    st->n_xscores = xs->elements / 2;
    if (st->n_xscores && !(st->xscores = calloc(st->n_xscores, sizeof *st->xscores)))
        goto nomem;
    for (size_t i = 0; i < st->n_xscores; i++)
        if (!s_parse_xscore(&st->xscores[i], xs->element[2 * i], xs->element[2 * i + 1]))
            goto bad;
    if (st->n_xscores > 1)
        qsort(st->xscores, st->n_xscores, sizeof *st->xscores, s_cmp_xscore);
    r->state = st;
    return;
nomem:
    redis_store_state_free(&st);
    s_fail(r, JK_ERR_NOMEM, "jk_state: out of memory");
    return;
bad:
    redis_store_state_free(&st);
    s_fail(r, JK_ERR_INTERNAL, "jk_state reply: %s: wrong shape or out of bounds", what);
}

void redis_store_state_free(redis_store_state_t **pst)
{
    if (!pst || !*pst)
        return;
    redis_store_state_t *st = *pst;
    *pst = NULL;
    for (size_t i = 0; i < st->n_answers && st->answers; i++)
        free(st->answers[i].response);
    free(st->answers);
    free(st->xscores);
    free(st->event_hash);
    free(st->event);
    free(st->result);
    free(st);
}

/* The reply callback of every user request. Runs inside hiredis: parse,
 * queue, never call the user. */
static void s_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    s_req_t *r = privdata;
    redis_store_t *s = r->s;
    redisReply *rep = reply;
    s_queue_remove(&s->pending, r);
    r->rc = JK_OK;
    if (!rep) {
        if (s->tearing)
            s_fail(r, s->teardown_rc, "%s", s->teardown_why);
        else
            s_fail(r, JK_ERR_UNAVAIL, "connection lost: %s",
                   ac && ac->errstr ? ac->errstr : "closed");
    } else {
        s_latency(s, s_now_us(s) - r->sent_us);
        if (rep->type == REDIS_REPLY_ERROR)
            s_error_reply(s, r, rep);
        else if (r->kind == S_REQ_APPLY)
            s_parse_apply(r, rep);
        else if (r->kind == S_REQ_STATE)
            s_parse_state(r, rep);
        else if (r->kind == S_REQ_RESULT)
            s_parse_result(r, rep);
        else
            s_parse_reconcile(r, rep);
    }
    s_queue_push(&s->done, r);
}

/* ---------------------------------------------------------------------- */
/* The poll loop.                                                           */

size_t redis_store_fds(const redis_store_t *s, int fds[REDIS_STORE_FDS_MAX])
{
    if (!s || !s->ac || s->ac->c.fd < 0)
        return 0;
    fds[0] = s->ac->c.fd;
    return 1;
}

short redis_store_poll_events(const redis_store_t *s)
{
    short ev = 0;
    if (!s || !s->ac)
        return 0;
    if (s->want_read)
        ev |= REDIS_STORE_POLLIN;
    if (s->want_write)
        ev |= REDIS_STORE_POLLOUT;
    return ev;
}

long redis_store_next_timeout_ms(const redis_store_t *s)
{
    int64_t at;
    if (!s)
        return -1;
    if (s->done.head)
        return 0;
    switch (s->state) {
    case S_WAITING:
        if (s->destroying)
            return -1;
        at = s->reconnect_at_us;
        break;
    case S_CONNECTING:
        at = s->connect_deadline_us;
        break;
    default:
        if (!s->pending.head)
            return -1;
        at = s->pending.head->deadline_us;
        break;
    }
    int64_t left = at - s_now_us(s);
    return left <= 0 ? 0 : (long)((left + 999) / 1000);
}

void redis_store_handle(redis_store_t *s, short revents)
{
    char why[S_ERRSTR_MAX];
    if (!s || s->destroying)
        return;
    if (s->ac && (revents & (REDIS_STORE_POLLIN | REDIS_STORE_POLLERR)))
        redisAsyncHandleRead(s->ac);
    s_after_io(s);
    if (s->ac && (revents & (REDIS_STORE_POLLOUT | REDIS_STORE_POLLERR)))
        redisAsyncHandleWrite(s->ac);
    s_after_io(s);

    int64_t now = s_now_us(s);
    if (s->state == S_READY && s->pending.head && now >= s->pending.head->deadline_us) {
        snprintf(why, sizeof why, "request timed out after %lld ms",
                 (long long)(s->request_timeout_us / 1000));
        s_drop(s, JK_ERR_TIMEOUT, why);
    } else if (s->state == S_CONNECTING && now >= s->connect_deadline_us) {
        snprintf(why, sizeof why, "connect timed out after %lld ms",
                 (long long)(s->connect_timeout_us / 1000));
        s_drop(s, JK_ERR_UNAVAIL, why);
    }
    if (s->state == S_WAITING && now >= s->reconnect_at_us)
        s_connect(s);
    s_deliver(s);
}

bool redis_store_ready(const redis_store_t *s)
{
    return s && s->state == S_READY && !s->destroying;
}

unsigned redis_store_capacity(const redis_store_t *s)
{
    if (!redis_store_ready(s) || s->in_flight >= s->max_in_flight)
        return 0;
    return s->max_in_flight - s->in_flight;
}

const char *redis_store_errstr(const redis_store_t *s)
{
    return s ? s->errstr : "";
}

void redis_store_get_stats(const redis_store_t *s, redis_store_stats_t *out)
{
    *out = s->st;
    out->in_flight = s->in_flight;
    out->ready = redis_store_ready(s);
    uint64_t total = 0;
    for (size_t i = 0; i < REDIS_STORE_LATENCY_BUCKETS; i++)
        total += s->st.latency_hist[i];
    out->latency_p50_us = out->latency_p99_us = 0;
    if (total == 0)
        return;
    uint64_t want50 = (total + 1) / 2, want99 = (total * 99 + 99) / 100, cum = 0;
    for (size_t i = 0; i < REDIS_STORE_LATENCY_BUCKETS; i++) {
        cum += s->st.latency_hist[i];
        uint64_t upper = UINT64_C(1) << i;
        if (!out->latency_p50_us && cum >= want50)
            out->latency_p50_us = upper;
        if (!out->latency_p99_us && cum >= want99) {
            out->latency_p99_us = upper;
            break;
        }
    }
}

void redis_store_destroy(redis_store_t **ps)
{
    if (!ps || !*ps)
        return;
    redis_store_t *s = *ps;
    *ps = NULL;
    s->destroying = true;
    s_drop(s, JK_ERR_UNAVAIL, "store destroyed");
    s_deliver(s);
    free(s->library);
    free(s->password);
    free(s->host);
    free(s);
}

/* ---------------------------------------------------------------------- */
/* Requests.                                                                */

typedef struct {
    int argc;
    const char *argv[S_ARGC_MAX];
    size_t len[S_ARGC_MAX];
    char num[S_ARGC_MAX][S_NUM_MAX];
    char keys[4][S_KEY_MAX];
} s_args_t;

static void s_arg(s_args_t *a, const void *p, size_t n)
{
    a->argv[a->argc] = p;
    a->len[a->argc] = n;
    a->argc++;
}

static void s_arg_str(s_args_t *a, const char *p)
{
    s_arg(a, p, strlen(p));
}

static void s_arg_u64(s_args_t *a, uint64_t v)
{
    int n = snprintf(a->num[a->argc], S_NUM_MAX, "%llu", (unsigned long long)v);
    s_arg(a, a->num[a->argc], (size_t)n);
}

/* FCALL[_RO] <fn> <nkeys> jk:{S}:<suffix>... */
static void s_args_begin(s_args_t *a, const char *cmd, const char *fn, const char *sid,
                         const char *const *suffixes, int nkeys)
{
    a->argc = 0;
    s_arg_str(a, cmd);
    s_arg_str(a, fn);
    s_arg_u64(a, (uint64_t)nkeys);
    for (int i = 0; i < nkeys; i++) {
        snprintf(a->keys[i], S_KEY_MAX, "jk:{%s}:%s", sid, suffixes[i]);
        s_arg_str(a, a->keys[i]);
    }
}

static jk_err_t s_check_accept(redis_store_t *s, jk_error_t *err)
{
    if (!redis_store_ready(s)) {
        s->st.refused_unavail++;
        return jk_error_set(err, JK_ERR_UNAVAIL, "redis not ready: %s",
                            s->errstr[0] ? s->errstr : "connecting");
    }
    if (s->in_flight >= s->max_in_flight) {
        s->st.refused_full++;
        return jk_error_set(err, JK_ERR_FULL, "redis: %u requests in flight", s->in_flight);
    }
    return JK_OK;
}

static s_req_t *s_req_new(redis_store_t *s, s_kind_t kind, void *ud, jk_error_t *err)
{
    s_req_t *r = calloc(1, sizeof *r);
    if (!r) {
        jk_error_set(err, JK_ERR_NOMEM, "redis request: out of memory");
        return NULL;
    }
    r->s = s;
    r->kind = kind;
    r->ud = ud;
    return r;
}

/* Writes the command; on success the request is pending and owned by the
 * store; on failure it is freed. */
static jk_err_t s_send(redis_store_t *s, s_req_t *r, s_args_t *a, jk_error_t *err)
{
    r->sent_us = s_now_us(s);
    r->deadline_us = r->sent_us + s->request_timeout_us;
    s_queue_push(&s->pending, r);
    if (redisAsyncCommandArgv(s->ac, s_on_reply, r, a->argc, a->argv, a->len) != REDIS_OK) {
        s_queue_remove(&s->pending, r);
        free(r);
        s->st.refused_unavail++;
        return jk_error_set(err, JK_ERR_UNAVAIL, "redis: connection is closing");
    }
    s->in_flight++;
    s->st.requests++;
    return JK_OK;
}

static jk_err_t s_missing(jk_error_t *err, const char *path)
{
    return jk_error_set(err, JK_ERR_MISSING, "%s: required", path);
}

/* Adds a required string field (the library checks its content). */
#define S_NEED_STR(a, v, path)           \
    do {                                 \
        if (!(v))                        \
            return s_missing(err, path); \
        s_arg_str(a, v);                 \
    } while (0)

/* jk_apply's name for the kind of a session event; NULL for other kinds. */
static const char *s_kind_name(const Jk__Envelope *env)
{
    switch (env->body_case) {
    case JK__ENVELOPE__BODY_SESSION_OPEN: return env->session_open ? "open" : NULL;
    case JK__ENVELOPE__BODY_SESSION_RESUME: return env->session_resume ? "resume" : NULL;
    case JK__ENVELOPE__BODY_ANSWER: return env->answer ? "answer" : NULL;
    case JK__ENVELOPE__BODY_SUBMIT: return env->submit ? "submit" : NULL;
    case JK__ENVELOPE__BODY_PROCTOR_ACTION: return env->proctor_action ? "proctor" : NULL;
    case JK__ENVELOPE__BODY_EXAMINER_SCORE: return env->examiner_score ? "xscore" : NULL;
    default: return NULL;
    }
}

/* Appends the kind arguments of jk_apply (jikao.lua, "kind args"). For an
 * Answer, *resp receives the packed Response (malloc'd; the caller frees it
 * after sending). */
static jk_err_t s_kind_args(const Jk__Envelope *env, s_args_t *a, uint8_t **resp,
                            jk_error_t *err)
{
    switch (env->body_case) {
    case JK__ENVELOPE__BODY_SESSION_OPEN: {
        const Jk__SessionOpen *b = env->session_open;
        S_NEED_STR(a, b->paper_id, "session_open.paper_id");
        if (!b->has_paper_digest || b->paper_digest.len != JK_CODEC_DIGEST_LEN)
            return jk_error_set(err, JK_ERR_INVAL, "session_open.paper_digest: must be %u bytes",
                                JK_CODEC_DIGEST_LEN);
        s_arg(a, b->paper_digest.data, b->paper_digest.len);
        if (!b->has_exam)
            return s_missing(err, "session_open.exam");
        s_arg_u64(a, (uint64_t)b->exam);
        if (!b->has_level)
            return s_missing(err, "session_open.level");
        s_arg_u64(a, b->level);
        if (!b->has_duration_ms)
            return s_missing(err, "session_open.duration_ms");
        s_arg_u64(a, b->duration_ms);
        S_NEED_STR(a, b->workstation_id, "session_open.workstation_id");
        if (!b->has_item_count)
            return s_missing(err, "session_open.item_count");
        s_arg_u64(a, b->item_count);
        return JK_OK;
    }
    case JK__ENVELOPE__BODY_SESSION_RESUME: {
        const Jk__SessionResume *b = env->session_resume;
        S_NEED_STR(a, b->new_workstation_id, "session_resume.new_workstation_id");
        s_arg_str(a, b->old_workstation_id ? b->old_workstation_id : "");
        S_NEED_STR(a, b->proctor_id, "session_resume.proctor_id");
        s_arg_u64(a, b->has_last_seen_seq ? b->last_seen_seq : 0);
        return JK_OK;
    }
    case JK__ENVELOPE__BODY_ANSWER: {
        const Jk__Answer *b = env->answer;
        S_NEED_STR(a, b->item_id, "answer.item_id");
        if (!b->has_flagged)
            return s_missing(err, "answer.flagged");
        s_arg_u64(a, b->flagged ? 1 : 0);
        if (!b->has_change_counter)
            return s_missing(err, "answer.change_counter");
        s_arg_u64(a, b->change_counter);
        if (!b->response) {
            s_arg(a, "", 0);
            return JK_OK;
        }
        size_t n = jk__response__get_packed_size(b->response);
        if (n == 0)
            return jk_error_set(err, JK_ERR_INVAL, "answer.response.value: required");
        if (n > REDIS_STORE_BLOB_MAX_BYTES)
            return jk_error_set(err, JK_ERR_TOO_BIG, "answer.response: %zu bytes, at most %u", n,
                                REDIS_STORE_BLOB_MAX_BYTES);
        if (!(*resp = malloc(n)))
            return jk_error_set(err, JK_ERR_NOMEM, "answer.response: out of memory");
        jk__response__pack(b->response, *resp);
        s_arg(a, *resp, n);
        return JK_OK;
    }
    case JK__ENVELOPE__BODY_SUBMIT: {
        const Jk__Submit *b = env->submit;
        if (!b->has_reason)
            return s_missing(err, "submit.reason");
        s_arg_u64(a, (uint64_t)b->reason);
        if (!b->has_final_event_count)
            return s_missing(err, "submit.final_event_count");
        s_arg_u64(a, b->final_event_count);
        if (!b->has_digest || b->digest.len != JK_CODEC_DIGEST_LEN)
            return jk_error_set(err, JK_ERR_INVAL, "submit.digest: must be %u bytes",
                                JK_CODEC_DIGEST_LEN);
        s_arg(a, b->digest.data, b->digest.len);
        s_arg_str(a, b->proctor_id ? b->proctor_id : "");
        return JK_OK;
    }
    case JK__ENVELOPE__BODY_PROCTOR_ACTION: {
        const Jk__ProctorAction *b = env->proctor_action;
        if (!b->has_action)
            return s_missing(err, "proctor_action.action");
        if (b->action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT)
            return jk_error_set(err, JK_ERR_INVAL,
                                "proctor_action.action: FORCE_SUBMIT is an order to examd, "
                                "not a session event");
        s_arg_u64(a, (uint64_t)b->action);
        S_NEED_STR(a, b->proctor_id, "proctor_action.proctor_id");
        s_arg_u64(a, b->has_extension_ms ? b->extension_ms : 0);
        return JK_OK;
    }
    case JK__ENVELOPE__BODY_EXAMINER_SCORE: {
        const Jk__ExaminerScore *b = env->examiner_score;
        S_NEED_STR(a, b->task_id, "examiner_score.task_id");
        S_NEED_STR(a, b->part_id, "examiner_score.part_id");
        S_NEED_STR(a, b->examiner_id, "examiner_score.examiner_id");
        s_arg_u64(a, b->has_arbitration && b->arbitration ? 1 : 0);
        if (!b->has_points_centi)
            return s_missing(err, "examiner_score.points_centi");
        s_arg_u64(a, b->points_centi);
        if (!b->has_max_points_centi)
            return s_missing(err, "examiner_score.max_points_centi");
        s_arg_u64(a, b->max_points_centi);
        return JK_OK;
    }
    default:
        return jk_error_set(err, JK_ERR_INVAL, "envelope.kind: not a session event");
    }
}

static const char *const s_session_keys[] = {"meta", "ev", "ans", "xs"};

jk_err_t redis_store_apply(redis_store_t *s, const Jk__Envelope *env, redis_store_apply_fn cb,
                           void *ud, jk_error_t *err)
{
    s_args_t a;
    uint8_t hash[JK_CODEC_DIGEST_LEN];
    uint8_t *resp = NULL;
    jk_err_t rc;
    if (!s || !env || !cb)
        return jk_error_set(err, JK_ERR_INVAL, "redis_store_apply: NULL argument");
    if ((rc = s_check_accept(s, err)) != JK_OK)
        return rc;
    const char *kind = s_kind_name(env);
    if (!kind) {
        rc = jk_error_set(err, JK_ERR_INVAL, "envelope.kind: %s is not a session event",
                          jk_codec_kind_name(env->kind));
        goto refused;
    }
    if (!s_id_ok(env->session_id)) {
        rc = jk_error_set(err, JK_ERR_INVAL, "envelope.session_id: missing or not an id");
        goto refused;
    }
    if (!env->has_seq || env->seq < 1 || env->seq > JK_CODEC_SEQ_MAX) {
        rc = jk_error_set(err, JK_ERR_INVAL, "envelope.seq: missing or outside 1..%u",
                          JK_CODEC_SEQ_MAX);
        goto refused;
    }
    if (!env->has_event_time_ms) {
        rc = s_missing(err, "envelope.event_time_ms");
        goto refused;
    }
    if (!env->exam_id || !env->site_id || !env->room_id || !env->candidate_id) {
        rc = jk_error_set(err, JK_ERR_MISSING,
                          "envelope: exam_id, site_id, room_id and candidate_id are required");
        goto refused;
    }
    if ((rc = jk_codec_event_hash(env, hash, err)) != JK_OK)
        goto refused;

    s_args_begin(&a, "FCALL", "jk_apply", env->session_id, s_session_keys, 4);
    s_arg_u64(&a, env->seq);
    s_arg(&a, hash, sizeof hash);
    s_arg_str(&a, kind);
    s_arg_u64(&a, env->event_time_ms);
    s_arg_str(&a, env->exam_id);
    s_arg_str(&a, env->site_id);
    s_arg_str(&a, env->room_id);
    s_arg_str(&a, env->candidate_id);
    if ((rc = s_kind_args(env, &a, &resp, err)) != JK_OK)
        goto refused;

    s_req_t *r = s_req_new(s, S_REQ_APPLY, ud, err);
    if (!r) {
        free(resp);
        return JK_ERR_NOMEM;
    }
    r->cb.apply = cb;
    rc = s_send(s, r, &a, err);
    free(resp);
    return rc;
refused:
    free(resp);
    if (rc == JK_ERR_INVAL || rc == JK_ERR_MISSING || rc == JK_ERR_TOO_BIG)
        s->st.refused_inval++;
    return rc;
}

jk_err_t redis_store_state(redis_store_t *s, const char *session_id, redis_store_state_fn cb,
                           void *ud, jk_error_t *err)
{
    s_args_t a;
    jk_err_t rc;
    if (!s || !cb)
        return jk_error_set(err, JK_ERR_INVAL, "redis_store_state: NULL argument");
    if ((rc = s_check_accept(s, err)) != JK_OK)
        return rc;
    if (!s_id_ok(session_id)) {
        s->st.refused_inval++;
        return jk_error_set(err, JK_ERR_INVAL, "session_id: missing or not an id");
    }
    s_args_begin(&a, "FCALL_RO", "jk_state", session_id, s_session_keys, 4);
    s_req_t *r = s_req_new(s, S_REQ_STATE, ud, err);
    if (!r)
        return JK_ERR_NOMEM;
    r->cb.state = cb;
    return s_send(s, r, &a, err);
}

jk_err_t redis_store_result(redis_store_t *s, const char *session_id,
                            const Jk__ExamResult *result, redis_store_result_fn cb, void *ud,
                            jk_error_t *err)
{
    s_args_t a;
    jk_err_t rc;
    uint8_t *blob = NULL;
    if (!s || !result || !cb)
        return jk_error_set(err, JK_ERR_INVAL, "redis_store_result: NULL argument");
    if ((rc = s_check_accept(s, err)) != JK_OK)
        return rc;
    if (!s_id_ok(session_id)) {
        s->st.refused_inval++;
        return jk_error_set(err, JK_ERR_INVAL, "session_id: missing or not an id");
    }
    if (!result->has_status) {
        s->st.refused_inval++;
        return s_missing(err, "result.status");
    }
    size_t n = jk__exam_result__get_packed_size(result);
    if (n == 0 || n > REDIS_STORE_BLOB_MAX_BYTES) {
        s->st.refused_inval++;
        return jk_error_set(err, JK_ERR_TOO_BIG, "result: %zu bytes, must be 1..%u", n,
                            REDIS_STORE_BLOB_MAX_BYTES);
    }
    if (!(blob = malloc(n)))
        return jk_error_set(err, JK_ERR_NOMEM, "result: out of memory");
    jk__exam_result__pack(result, blob);
    static const char *const keys[] = {"meta"};
    s_args_begin(&a, "FCALL", "jk_result", session_id, keys, 1);
    s_arg_u64(&a, (uint64_t)result->status);
    s_arg(&a, blob, n);
    s_req_t *r = s_req_new(s, S_REQ_RESULT, ud, err);
    if (!r) {
        free(blob);
        return JK_ERR_NOMEM;
    }
    r->cb.result = cb;
    rc = s_send(s, r, &a, err);
    free(blob);
    return rc;
}

jk_err_t redis_store_reconcile(redis_store_t *s, const char *session_id, uint64_t count,
                               redis_store_reconcile_fn cb, void *ud, jk_error_t *err)
{
    s_args_t a;
    jk_err_t rc;
    if (!s || !cb)
        return jk_error_set(err, JK_ERR_INVAL, "redis_store_reconcile: NULL argument");
    if ((rc = s_check_accept(s, err)) != JK_OK)
        return rc;
    if (!s_id_ok(session_id)) {
        s->st.refused_inval++;
        return jk_error_set(err, JK_ERR_INVAL, "session_id: missing or not an id");
    }
    if (count < 1 || count > JK_CODEC_SEQ_MAX) {
        s->st.refused_inval++;
        return jk_error_set(err, JK_ERR_INVAL, "count: %llu outside 1..%u",
                            (unsigned long long)count, JK_CODEC_SEQ_MAX);
    }
    static const char *const keys[] = {"meta", "ev"};
    s_args_begin(&a, "FCALL_RO", "jk_reconcile", session_id, keys, 2);
    s_arg_u64(&a, count);
    s_req_t *r = s_req_new(s, S_REQ_RECONCILE, ud, err);
    if (!r)
        return JK_ERR_NOMEM;
    r->cb.reconcile = cb;
    r->count = count;
    return s_send(s, r, &a, err);
}
