/*
 * jkload: simulates the candidates (and the proctors and examiners) of a
 * sitting against real exam nodes, over the same path a workstation uses:
 * ZeroMQ + protobuf to examd's candidate endpoint, text commands to its
 * staff endpoint.
 *
 * Each simulated candidate logs in with the credential from the center's
 * credentials file, answers the items of the paper it receives in a random
 * order at a set rate, changes some answers, flags some items, and submits
 * — or, for a chosen share, stops answering and lets the exam node's clock
 * submit for them. A candidate's ability (drawn per candidate) is the chance
 * it answers an item correctly; the keys come from the bank, which only the
 * center has: this is a simulation, run where the center runs.
 *
 * Proctors: before the start, the room's proctor authorizes every session.
 * Examiners: for a skills session, after the candidate is done, every
 * examiner of the room's panel scores every oral and written part (a few
 * panels disagree widely, and the chief examiner then gives an arbitration
 * score).
 *
 * Reports acknowledged events/s, ack latency p50/p99/p99.9 and errors, with
 * a progress line on stderr; --acked FILE lists every acknowledged answer
 * (session, seq, item, response) so a test can check them against Redis;
 * --json FILE writes the figures for benchmarks.
 *
 * Open loop: a candidate's next answer is due at its own pace whether or not
 * the last one was acknowledged (up to a bound in flight), so latency is
 * measured as a candidate would see it.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "jk_bank.h"
#include "jk_clock.h"
#include "jk_codec.h"
#include "jk_net.h"
#include "jk_rand.h"
#include "jk_sitting.h"
#include "jk_standard.h"
#include "jk_strmap.h"

#define S_SOCKS_PER_SITE 8
#define S_MAX_SITES 64
#define S_PENDING_BITS 20                 /* pending-request table: 1M slots */
#define S_PENDING (1u << S_PENDING_BITS)
#define S_MAX_OUTSTANDING_PER_CAND 4
#define S_LATENCY_SAMPLES_MAX 20000000u
#define S_STATE_POLL_MS 2000              /* a waiting candidate asks for its state this often */
#define S_LOGIN_RETRY_MS 500
#define S_REQUEST_TIMEOUT_MS 5000         /* no reply by then: the request is lost (node crash) */

typedef enum {
    C_NEW = 0,
    C_LOGGING_IN,
    C_WAITING,      /* not yet authorized / package not released: retry */
    C_ANSWERING,
    C_SUBMITTING,
    C_IDLING,       /* letting time run out */
    C_DONE,
} cstate_t;

typedef struct {
    const jk_sitting_entry_t *entry;
    char password[16];
    int site;
    int sock;
    cstate_t state;
    double ability;
    bool lets_time_run_out;
    uint8_t token[32];
    char exam_id[65], site_id[65], room_id[65];
    uint64_t req_seq;
    Jk__Envelope *login;          /* the LoginReply, kept for the paper */
    uint32_t *order;              /* item indexes in answering order */
    uint32_t n_items, next;
    uint32_t to_change;           /* items answered twice (first wrong) */
    uint32_t *change_list;
    uint32_t n_change, next_change;
    int rounds_left;              /* passes over the paper still to make (benchmarks) */
    int64_t next_us;
    int outstanding;
    /* Login and state requests in flight, oldest first: their replies
     * carry no request id, so they are matched in order (one connection
     * keeps it). */
    uint64_t unnumbered[4];
    uint8_t n_unnumbered;
    bool done_scored;             /* examiners have scored (skills) */
    bool timed_out;
    size_t heap_pos;
    long next_same;               /* next entry of the same candidate, or -1 */
} cand_t;

typedef enum { P_LOGIN = 1, P_ANSWER, P_SUBMIT, P_STATE } pkind_t;

typedef struct {
    uint64_t id;
    uint32_t cand;
    uint8_t kind;
    int64_t sent_us;
    char *item;
    uint8_t *resp;
    size_t resp_len;
} pend_t;

typedef struct {
    char id[65];
    char cand_ep[256];
    char staff_ep[256];
    void *cand[S_SOCKS_PER_SITE];
    void *staff;
    unsigned staff_outstanding;
} site_t;

typedef struct {
    /* options */
    const char *center_dir, *bank_path, *acked_path, *json_path;
    char sessions[1024];
    size_t max_candidates;
    double rate;            /* answers per second per candidate */
    double change_prob, flag_prob, idle_share;
    int rounds;
    uint64_t seed;
    int64_t duration_ms;
    bool examiners, quiet;
    /* world */
    jk_standard_t *std;
    jk_bank_t *bank;
    jk_sitting_t *center;
    jk_strmap_t *by_session;      /* session id -> candidate entry */
    jk_strmap_t *by_admission;    /* admission -> first entry */
    site_t sites[S_MAX_SITES];
    int n_sites;
    void *zctx;
    cand_t *c;
    size_t n;
    uint32_t *heap;
    size_t heap_n;
    pend_t *pend;
    jk_net_msg_t *msg;            /* receive buffer */
    uint64_t next_msg;
    jk_rand_t rng;
    FILE *acked;
    /* figures */
    uint32_t *lat;
    size_t n_lat;
    size_t steady_from;           /* lat index when the last candidate logged in */
    bool steady;
    uint64_t acked_answers, rejected, retry, errors, logins, submitted, timed_out, sent,
        staff_ok, staff_err, lost, last_acked, expired, relogins, late_replies, n_done;
    uint64_t oldest;              /* lowest message id that may still be pending */
    int64_t t0_us, first_answer_us, last_ack_us;
} lg_t;

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig) { (void)sig; s_stop = 1; }

static int64_t s_now_us(void) { return jk_clock_mono_us(jk_clock_system()); }

static void s_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void s_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jkload: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* ---- timer heap of candidates by next_us ---- */

static bool s_less(const lg_t *g, uint32_t a, uint32_t b) { return g->c[a].next_us < g->c[b].next_us; }

static void s_swap(lg_t *g, size_t i, size_t j)
{
    uint32_t t = g->heap[i];
    g->heap[i] = g->heap[j];
    g->heap[j] = t;
    g->c[g->heap[i]].heap_pos = i;
    g->c[g->heap[j]].heap_pos = j;
}

static void s_up(lg_t *g, size_t i)
{
    while (i > 0 && s_less(g, g->heap[i], g->heap[(i - 1) / 2])) {
        s_swap(g, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void s_down(lg_t *g, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->heap_n && s_less(g, g->heap[l], g->heap[m]))
            m = l;
        if (r < g->heap_n && s_less(g, g->heap[r], g->heap[m]))
            m = r;
        if (m == i)
            return;
        s_swap(g, i, m);
        i = m;
    }
}

static void s_schedule(lg_t *g, uint32_t ci, int64_t at_us)
{
    cand_t *c = &g->c[ci];
    c->next_us = at_us;
    if (c->heap_pos == SIZE_MAX) {
        c->heap_pos = g->heap_n;
        g->heap[g->heap_n++] = ci;
        s_up(g, c->heap_pos);
    } else {
        s_up(g, c->heap_pos);
        s_down(g, c->heap_pos);
    }
}

static void s_unschedule(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    if (c->heap_pos == SIZE_MAX)
        return;
    size_t i = c->heap_pos;
    s_swap(g, i, g->heap_n - 1);
    g->heap_n--;
    c->heap_pos = SIZE_MAX;
    if (i < g->heap_n) {
        s_up(g, i);
        s_down(g, i);
    }
}

/* ---- sending ---- */

static pend_t *s_pend_new(lg_t *g, uint32_t ci, pkind_t kind, uint64_t *id)
{
    *id = ++g->next_msg;
    pend_t *p = &g->pend[*id & (S_PENDING - 1)];
    if (p->id) { /* an old request never answered: count it lost */
        g->lost++;
        if (p->kind && g->c[p->cand].outstanding > 0)
            g->c[p->cand].outstanding--;
        free(p->item);
        free(p->resp);
    }
    memset(p, 0, sizeof *p);
    p->id = *id;
    p->cand = ci;
    p->kind = (uint8_t)kind;
    p->sent_us = s_now_us();
    cand_t *c = &g->c[ci];
    c->outstanding++;
    if (kind == P_LOGIN || kind == P_STATE) {
        if (c->n_unnumbered == sizeof c->unnumbered / sizeof c->unnumbered[0]) {
            memmove(c->unnumbered, c->unnumbered + 1, sizeof c->unnumbered - sizeof c->unnumbered[0]);
            c->n_unnumbered--; /* the oldest is left to expire */
        }
        c->unnumbered[c->n_unnumbered++] = *id;
    }
    return p;
}

/* A login or state reply for candidate ci answers its oldest such request
 * still pending; that request is done (not counted unanswered later). */
static void s_pend_answered_unnumbered(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    while (c->n_unnumbered > 0) {
        uint64_t id = c->unnumbered[0];
        memmove(c->unnumbered, c->unnumbered + 1, sizeof c->unnumbered - sizeof c->unnumbered[0]);
        c->n_unnumbered--;
        pend_t *p = &g->pend[id & (S_PENDING - 1)];
        if (p->id == id) {
            free(p->item);
            free(p->resp);
            memset(p, 0, sizeof *p);
            return;
        }
    }
}

static void s_send_env(lg_t *g, cand_t *c, Jk__Envelope *env, bool sign)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    jk_error_t err;
    jk_err_t rc = sign ? jk_codec_encode_signed(env, c->token, sizeof c->token, &buf, &len, &err)
                       : jk_codec_encode(env, &buf, &len, &err);
    if (rc != JK_OK) {
        g->errors++;
        if (!g->quiet)
            fprintf(stderr, "jkload: encode %s: %s\n", jk_codec_kind_name(env->kind), err.msg);
        return;
    }
    jk_net_item_t item = { NULL, 0, buf, len };
    if (jk_net_send_batch(g->sites[c->site].cand[c->sock], NULL, 0, JK_NET_LINK_CLIENT, &item, 1,
                          &err) != JK_OK)
        g->errors++;
    else
        g->sent++;
    free(buf);
}

static void s_header(lg_t *g, cand_t *c, Jk__Envelope *env, Jk__Kind kind, uint64_t msg_id,
                     bool session_ids)
{
    (void)g;
    static char ws[80];
    snprintf(ws, sizeof ws, "ws-%s", c->entry->admission);
    env->has_schema_version = 1;
    env->schema_version = JK_SCHEMA_VERSION;
    env->has_kind = 1;
    env->kind = kind;
    env->node_id = ws;
    env->has_message_id = 1;
    env->message_id = msg_id;
    env->has_sent_time_ms = 1;
    env->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    if (session_ids) {
        env->exam_id = c->exam_id;
        env->site_id = c->site_id;
        env->room_id = c->room_id;
        env->session_id = (char *)c->entry->session_id;
        env->candidate_id = (char *)c->entry->admission;
        env->has_seq = 1;
        env->seq = ++c->req_seq;
        env->has_event_time_ms = 1;
        env->event_time_ms = env->sent_time_ms;
    }
}

static void s_login(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    uint64_t id;
    s_pend_new(g, ci, P_LOGIN, &id);
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__LoginRequest lq = JK__LOGIN_REQUEST__INIT;
    s_header(g, c, &env, JK__KIND__KIND_LOGIN_REQUEST, id, false);
    char ws[80];
    snprintf(ws, sizeof ws, "ws-%s", c->entry->admission);
    lq.admission_no = (char *)c->entry->admission;
    lq.has_credential = 1;
    lq.credential.data = (uint8_t *)c->password;
    lq.credential.len = strlen(c->password);
    lq.workstation_id = ws;
    lq.client_version = "jkload-1";
    env.body_case = JK__ENVELOPE__BODY_LOGIN_REQUEST;
    env.login_request = &lq;
    c->state = C_LOGGING_IN;
    s_send_env(g, c, &env, false);
}

static const Jk__PaperItem *s_item(const cand_t *c, uint32_t k)
{
    return c->login->login_reply->paper->items[k];
}

/* A response for item k: correct with the candidate's ability (or wrong when
 * `wrong`), using the bank's keys. Returns a packed jk.Response (malloc'd),
 * or NULL when the item takes no typed answer (oral). */
static uint8_t *s_make_response(lg_t *g, cand_t *c, uint32_t k, bool wrong, size_t *len)
{
    const Jk__PaperItem *pi = s_item(c, k);
    bool correct = !wrong && jk_rand_double(&g->rng) < c->ability;
    Jk__Response r = JK__RESPONSE__INIT;
    Jk__Selection sel = JK__SELECTION__INIT;
    uint32_t ids[16];
    Jk__FormResponse form = JK__FORM_RESPONSE__INIT;
    Jk__FormValue fv[64], *fvp[64];
    char numbuf[64][32];
    switch (pi->type) {
    case JK__ITEM_TYPE__ITEM_TYPE_JUDGMENT: {
        long bi = jk_bank_find_item(g->bank, pi->item_id);
        bool key = bi >= 0 && (jk_bank_item(g->bank, (size_t)bi)->key & 1u);
        r.value_case = JK__RESPONSE__VALUE_JUDGMENT;
        r.judgment = correct ? key : !key;
        break;
    }
    case JK__ITEM_TYPE__ITEM_TYPE_SINGLE_CHOICE:
    case JK__ITEM_TYPE__ITEM_TYPE_MULTIPLE_CHOICE: {
        long bi = jk_bank_find_item(g->bank, pi->item_id);
        const jk_item_t *it = bi >= 0 ? jk_bank_item(g->bank, (size_t)bi) : NULL;
        uint32_t key = it ? it->key : 1u;
        unsigned nopt = it ? it->n_options : 4;
        uint32_t mask = key;
        if (!correct) {
            do
                mask = pi->type == JK__ITEM_TYPE__ITEM_TYPE_SINGLE_CHOICE
                           ? 1u << jk_rand_below(&g->rng, nopt)
                           : (uint32_t)jk_rand_below(&g->rng, 1u << nopt);
            while (mask == key || mask == 0);
        }
        size_t n = 0;
        for (unsigned o = 0; o < nopt; o++)
            if (mask & (1u << o))
                ids[n++] = o + 1;
        sel.n_option_ids = n;
        sel.option_ids = ids;
        r.value_case = JK__RESPONSE__VALUE_SELECTION;
        r.selection = &sel;
        break;
    }
    case JK__ITEM_TYPE__ITEM_TYPE_WRITTEN:
        r.value_case = JK__RESPONSE__VALUE_TEXT;
        r.text = correct ? "依据相关法律法规，按程序为服务对象办理，并做好登记和回访。"
                         : "不清楚。";
        break;
    case JK__ITEM_TYPE__ITEM_TYPE_SIMULATED_OPERATION: {
        /* "task:part": fill every field, right or wrong. */
        char task[80];
        const char *colon = strchr(pi->item_id, ':');
        snprintf(task, sizeof task, "%.*s", colon ? (int)(colon - pi->item_id) : 0, pi->item_id);
        long ti = jk_bank_find_task(g->bank, task);
        const jk_task_t *t = ti >= 0 ? jk_bank_task(g->bank, (size_t)ti) : NULL;
        const jk_part_t *part = NULL;
        for (size_t q = 0; t && colon && q < t->n_parts; q++)
            if (strcmp(t->parts[q].id, colon + 1) == 0)
                part = &t->parts[q];
        size_t n = 0;
        for (size_t f = 0; part && f < part->n_fields && n < 64; f++) {
            const jk_field_t *fd = &part->fields[f];
            bool ok = jk_rand_double(&g->rng) < (correct ? 0.95 : c->ability * 0.5);
            Jk__FormValue v = JK__FORM_VALUE__INIT;
            v.name = (char *)fd->name;
            if (!ok) {
                v.value = "错误";
            } else if (fd->kind == JK_FIELD_NUMBER) {
                snprintf(numbuf[n], sizeof numbuf[n], "%.2f", fd->number);
                v.value = numbuf[n];
            } else if (fd->kind == JK_FIELD_ONE_OF) {
                v.value = (char *)fd->values[0];
            } else {
                v.value = (char *)fd->value;
            }
            fv[n] = v;
            fvp[n] = &fv[n];
            n++;
        }
        form.n_fields = n;
        form.fields = fvp;
        r.value_case = JK__RESPONSE__VALUE_FORM;
        r.form = &form;
        break;
    }
    default:
        return NULL; /* oral: answered aloud */
    }
    *len = jk__response__get_packed_size(&r);
    uint8_t *out = malloc(*len ? *len : 1);
    if (out)
        jk__response__pack(&r, out);
    return out;
}

static void s_answer(lg_t *g, uint32_t ci, uint32_t k, bool wrong, uint32_t change_no)
{
    cand_t *c = &g->c[ci];
    size_t rl = 0;
    uint8_t *resp = s_make_response(g, c, k, wrong, &rl);
    if (!resp)
        return;
    uint64_t id;
    pend_t *p = s_pend_new(g, ci, P_ANSWER, &id);
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Answer a = JK__ANSWER__INIT;
    s_header(g, c, &env, JK__KIND__KIND_ANSWER, id, true);
    a.item_id = (char *)s_item(c, k)->item_id;
    a.response = jk__response__unpack(NULL, rl, resp);
    a.has_flagged = 1;
    a.flagged = jk_rand_double(&g->rng) < g->flag_prob;
    a.has_change_counter = 1;
    a.change_counter = change_no;
    env.body_case = JK__ENVELOPE__BODY_ANSWER;
    env.answer = &a;
    s_send_env(g, c, &env, true);
    jk__response__free_unpacked(a.response, NULL);
    if (g->acked) { /* kept for the --acked listing when the ack comes */
        p->item = strdup(a.item_id);
        p->resp = resp;
        p->resp_len = rl;
    } else {
        free(resp);
    }
    if (!g->first_answer_us)
        g->first_answer_us = s_now_us();
}

static void s_submit(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    uint64_t id;
    s_pend_new(g, ci, P_SUBMIT, &id);
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Submit sub = JK__SUBMIT__INIT;
    s_header(g, c, &env, JK__KIND__KIND_SUBMIT, id, true);
    uint8_t zero[32] = { 0 };
    sub.has_reason = 1;
    sub.reason = JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE;
    sub.has_final_event_count = 1;
    sub.final_event_count = env.seq - 1;
    sub.has_digest = 1;
    sub.digest.data = zero;
    sub.digest.len = 32;
    env.body_case = JK__ENVELOPE__BODY_SUBMIT;
    env.submit = &sub;
    c->state = C_SUBMITTING;
    s_send_env(g, c, &env, true);
}

static void s_state_request(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    uint64_t id;
    s_pend_new(g, ci, P_STATE, &id);
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__SessionStateRequest sr = JK__SESSION_STATE_REQUEST__INIT;
    s_header(g, c, &env, JK__KIND__KIND_SESSION_STATE_REQUEST, id, false);
    env.exam_id = c->exam_id;
    env.session_id = (char *)c->entry->session_id;
    sr.has_include_answers = 1;
    sr.include_answers = 0;
    env.body_case = JK__ENVELOPE__BODY_SESSION_STATE_REQUEST;
    env.session_state_request = &sr;
    s_send_env(g, c, &env, true);
}

/* ---- staff ---- */

static void s_staff(lg_t *g, int site, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void s_staff(lg_t *g, int site, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    site_t *s = &g->sites[site];
    if (zmq_send(s->staff, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(s->staff, line, (size_t)n, 0) < 0)
        g->staff_err++;
    else
        s->staff_outstanding++;
}

static int s_site_index(lg_t *g, const char *site)
{
    for (int i = 0; i < g->n_sites; i++)
        if (strcmp(g->sites[i].id, site) == 0)
            return i;
    return -1;
}

/* Every examiner of the room's panel scores every oral and written part. */
static void s_examiners(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    const Jk__Paper *paper = c->login->login_reply->paper;
    const jk_sitting_session_t *ps = jk_sitting_session(g->center, c->entry->session);
    const char *examiners[64];
    size_t ne = 0;
    for (size_t d = 0; d < jk_sitting_duty_count(g->center) && ne < 64; d++) {
        const jk_sitting_duty_t *du = jk_sitting_duty(g->center, d);
        if (strcmp(du->session, ps->id) == 0 && strcmp(du->room, c->entry->room) == 0 &&
            strcmp(du->role, "examiner") == 0)
            examiners[ne++] = du->staff;
    }
    for (size_t k = 0; k < paper->n_items; k++) {
        const Jk__PaperItem *pi = paper->items[k];
        if (pi->type != JK__ITEM_TYPE__ITEM_TYPE_ORAL && pi->type != JK__ITEM_TYPE__ITEM_TYPE_WRITTEN)
            continue;
        char task[80];
        const char *colon = strchr(pi->item_id, ':');
        if (!colon)
            continue;
        snprintf(task, sizeof task, "%.*s", (int)(colon - pi->item_id), pi->item_id);
        double max = pi->points_centi / 100.0;
        bool disagree = jk_rand_double(&g->rng) < 0.05;
        double lo = 1e9, hi = -1;
        for (size_t e = 0; e < ne; e++) {
            double x = max * (c->ability + (jk_rand_double(&g->rng) - 0.5) * 0.1);
            if (disagree && e == 0)
                x = max * (jk_rand_double(&g->rng) < 0.5 ? 0.1 : 1.0);
            x = floor(x * 2 + 0.5) / 2;
            if (x < 0)
                x = 0;
            if (x > max)
                x = floor(max * 2) / 2;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
            s_staff(g, c->site, "score %s %s %s %s %.1f", c->entry->session_id, task, colon + 1,
                    examiners[e], x);
        }
        if (ne && hi - lo > max * 0.2) {
            double a = floor(max * c->ability * 2 + 0.5) / 2;
            if (a > max)
                a = floor(max * 2) / 2;
            s_staff(g, c->site, "score %s %s %s %s %.1f arbitration", c->entry->session_id, task,
                    colon + 1, examiners[0], a);
        }
    }
    c->done_scored = true;
}

/* Requests unanswered for S_REQUEST_TIMEOUT_MS are given up (their exam
 * node crashed or restarted): the candidate stops waiting for them, and a
 * login is tried again. */
static void s_expire(lg_t *g)
{
    int64_t limit = s_now_us() - (int64_t)S_REQUEST_TIMEOUT_MS * 1000;
    while (g->oldest < g->next_msg) {
        uint64_t id = g->oldest + 1;
        pend_t *p = &g->pend[id & (S_PENDING - 1)];
        if (p->id != id) { /* answered (or overwritten) */
            g->oldest = id;
            continue;
        }
        if (p->sent_us > limit)
            break;
        cand_t *c = &g->c[p->cand];
        if (c->outstanding > 0)
            c->outstanding--;
        g->expired++;
        if (p->kind == P_LOGIN && c->state == C_LOGGING_IN)
            c->state = C_WAITING;
        free(p->item);
        free(p->resp);
        memset(p, 0, sizeof *p);
        g->oldest = id;
    }
}

/* ---- candidate steps ---- */

static void s_done(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    if (c->state == C_DONE)
        return;
    c->state = C_DONE;
    g->n_done++;
    s_unschedule(g, ci);
    const jk_sitting_session_t *ps = jk_sitting_session(g->center, c->entry->session);
    if (g->examiners && ps->exam == JK_EXAM_SKILLS && c->login && !c->done_scored)
        s_examiners(g, ci);
}

static void s_step(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    int64_t now = s_now_us();
    switch (c->state) {
    case C_LOGGING_IN:
    case C_NEW:
    case C_WAITING:
        if (c->state == C_LOGGING_IN && c->outstanding > 0) {
            s_schedule(g, ci, now + 1000000); /* still waiting for the reply */
            return;
        }
        s_login(g, ci);
        s_schedule(g, ci, now + 5000000); /* a reply reschedules; this is the timeout */
        return;
    case C_ANSWERING: {
        if (c->outstanding >= S_MAX_OUTSTANDING_PER_CAND) {
            s_schedule(g, ci, now + 10000);
            return;
        }
        if (c->next < c->n_items) {
            uint32_t k = c->order[c->next++];
            bool will_change = c->n_change < c->to_change;
            if (will_change)
                c->change_list[c->n_change++] = k;
            s_answer(g, ci, k, will_change, 1);
        } else if (c->next_change < c->n_change) {
            s_answer(g, ci, c->change_list[c->next_change++], false, 2);
        } else if (c->rounds_left > 0) {
            /* Another pass over the paper: every item answered again. */
            c->rounds_left--;
            jk_rand_shuffle(&g->rng, c->order, c->n_items, sizeof *c->order);
            c->next = 0;
            c->n_change = c->next_change = 0;
            c->to_change = 0;
            s_schedule(g, ci, now + 1000);
            return;
        } else if (c->lets_time_run_out) {
            c->state = C_IDLING;
            s_schedule(g, ci, now + S_STATE_POLL_MS * 1000);
            return;
        } else if (c->outstanding == 0) {
            s_submit(g, ci);
            s_schedule(g, ci, now + 10000000);
            return;
        } else {
            s_schedule(g, ci, now + 20000);
            return;
        }
        /* Exponential think time with mean 1/rate. */
        double u = jk_rand_double(&g->rng);
        int64_t gap = (int64_t)(-log(1 - u) / g->rate * 1e6);
        s_schedule(g, ci, now + (gap < 1000 ? 1000 : gap));
        return;
    }
    case C_IDLING:
        s_state_request(g, ci);
        s_schedule(g, ci, now + S_STATE_POLL_MS * 1000);
        return;
    case C_SUBMITTING:
        /* No answer to the submit: ask for the state. */
        s_state_request(g, ci);
        s_schedule(g, ci, now + S_STATE_POLL_MS * 1000);
        return;
    default:
        return;
    }
}

static void s_start_answering(lg_t *g, uint32_t ci)
{
    cand_t *c = &g->c[ci];
    const Jk__Paper *paper = c->login->login_reply->paper;
    c->n_items = (uint32_t)paper->n_items;
    free(c->order);
    free(c->change_list);
    c->order = malloc((c->n_items + 1) * sizeof *c->order);
    c->change_list = malloc((c->n_items + 1) * sizeof *c->change_list);
    if (!c->order || !c->change_list)
        s_die("out of memory");
    /* Resume: skip items already answered. */
    const Jk__SessionState *st = c->login->login_reply->state;
    uint32_t n = 0;
    for (uint32_t k = 0; k < c->n_items; k++) {
        bool done = false;
        for (size_t j = 0; st && j < st->n_items && !done; j++)
            done = strcmp(st->items[j]->item_id, paper->items[k]->item_id) == 0;
        if (!done)
            c->order[n++] = k;
    }
    jk_rand_shuffle(&g->rng, c->order, n, sizeof *c->order);
    c->n_items = n;
    c->next = 0;
    c->to_change = (uint32_t)(n * g->change_prob);
    c->n_change = c->next_change = 0;
    if (c->lets_time_run_out)
        c->n_items = n / 2; /* stops half way and waits for the clock */
    c->rounds_left = g->rounds > 1 ? g->rounds - 1 : 0;
    c->state = C_ANSWERING;
    s_schedule(g, ci, s_now_us() + 1000);
}

/* ---- replies ---- */

static void s_record_latency(lg_t *g, int64_t sent_us)
{
    int64_t now = s_now_us();
    if (g->n_lat < S_LATENCY_SAMPLES_MAX)
        g->lat[g->n_lat++] = (uint32_t)((now - sent_us) > UINT32_MAX ? UINT32_MAX : now - sent_us);
    g->last_ack_us = now;
}

static void s_on_reply(lg_t *g, const uint8_t *data, size_t len)
{
    Jk__Envelope *env = NULL;
    jk_codec_limits_t lim;
    jk_codec_limits_default(&lim);
    jk_error_t err;
    if (jk_codec_decode(data, len, &lim, &env, &err) != JK_OK) {
        g->errors++;
        return;
    }
    uint64_t id = 0;
    if (env->body_case == JK__ENVELOPE__BODY_ACK)
        id = env->ack->acked_message_id;
    else if (env->body_case == JK__ENVELOPE__BODY_LOGIN_REPLY || env->body_case == JK__ENVELOPE__BODY_SESSION_STATE) {
        /* Replies without an acked id: matched by the candidate id. */
        id = 0;
    }
    pend_t *p = NULL;
    if (id) {
        p = &g->pend[id & (S_PENDING - 1)];
        if (p->id != id)
            p = NULL;
    }
    uint32_t ci = UINT32_MAX;
    size_t v;
    if (p) {
        ci = p->cand;
    } else if (env->session_id && jk_strmap_get(g->by_session, env->session_id, &v)) {
        ci = (uint32_t)v; /* LoginReply OK, SessionState */
    } else if (env->body_case == JK__ENVELOPE__BODY_LOGIN_REPLY && env->candidate_id &&
               jk_strmap_get(g->by_admission, env->candidate_id, &v)) {
        /* A refused login names the admission number: the candidate's
         * entry that is logging in. */
        for (long k = (long)v; k >= 0; k = g->c[k].next_same)
            if (g->c[k].state == C_LOGGING_IN) {
                ci = (uint32_t)k;
                break;
            }
    }
    if (ci == UINT32_MAX) {
        jk_codec_free(&env);
        return;
    }
    cand_t *c = &g->c[ci];
    int64_t now = s_now_us();
    switch (env->body_case) {
    case JK__ENVELOPE__BODY_LOGIN_REPLY: {
        const Jk__LoginReply *lr = env->login_reply;
        if (c->outstanding > 0)
            c->outstanding--;
        s_pend_answered_unnumbered(g, ci);
        if (lr->status == JK__LOGIN_STATUS__LOGIN_STATUS_OK && lr->paper &&
            lr->session_token.len == sizeof c->token) {
            g->logins++;
            if (!g->steady && g->logins >= g->n) {
                /* Every candidate is in: from here on, answers no longer
                 * share examd with the login storm of the start. */
                g->steady = true;
                g->steady_from = g->n_lat;
            }
            memcpy(c->token, lr->session_token.data, sizeof c->token);
            snprintf(c->exam_id, sizeof c->exam_id, "%s", env->exam_id);
            snprintf(c->site_id, sizeof c->site_id, "%s", env->site_id);
            snprintf(c->room_id, sizeof c->room_id, "%s", env->room_id);
            if (c->login)
                jk_codec_free(&c->login);
            c->login = env;
            env = NULL;
            s_start_answering(g, ci);
        } else if (lr->status == JK__LOGIN_STATUS__LOGIN_STATUS_NOT_AUTHORIZED ||
                   lr->status == JK__LOGIN_STATUS__LOGIN_STATUS_NOT_OPEN) {
            c->state = C_WAITING;
            s_schedule(g, ci, now + S_LOGIN_RETRY_MS * 1000);
        } else {
            g->errors++;
            if (!g->quiet)
                fprintf(stderr, "jkload: %s: login refused: %d %s\n", c->entry->admission,
                        (int)lr->status, lr->message ? lr->message : "");
            s_done(g, ci);
        }
        break;
    }
    case JK__ENVELOPE__BODY_ACK: {
        const Jk__Ack *a = env->ack;
        if (!p) {
            /* For a request already given up (counted unanswered): late. */
            g->late_replies++;
            break;
        }
        if (c->outstanding > 0)
            c->outstanding--;
        s_record_latency(g, p->sent_us);
        if (a->status == JK__ACK_STATUS__ACK_STATUS_APPLIED) {
            if (p->kind == P_ANSWER) {
                g->acked_answers++;
                if (g->acked && a->has_acked_seq) {
                    fprintf(g->acked, "%s\t%llu\t%s\t", c->entry->session_id,
                            (unsigned long long)a->acked_seq, p->item);
                    for (size_t i = 0; i < p->resp_len; i++)
                        fprintf(g->acked, "%02x", p->resp[i]);
                    fputc('\n', g->acked);
                }
            } else if (p->kind == P_SUBMIT) {
                g->submitted++;
                s_done(g, ci);
            }
        } else {
            bool late = a->has_reason && (a->reason == JK__REJECT_REASON__REJECT_REASON_AFTER_DEADLINE ||
                                          a->reason == JK__REJECT_REASON__REJECT_REASON_ILLEGAL_STATE);
            if (late) {
                /* The clock submitted for us: done. */
                if (c->state != C_DONE) {
                    g->timed_out++;
                    c->timed_out = true;
                    s_done(g, ci);
                }
            } else if (a->status == JK__ACK_STATUS__ACK_STATUS_REJECTED &&
                       a->reason == JK__REJECT_REASON__REJECT_REASON_BAD_AUTH) {
                /* The exam node restarted and forgot our token: log in again. */
                if (c->state != C_DONE && c->state != C_WAITING && c->state != C_LOGGING_IN) {
                    g->relogins++;
                    c->state = C_WAITING;
                    s_schedule(g, ci, now + S_LOGIN_RETRY_MS * 1000);
                }
            } else {
                g->rejected++;
                if (!g->quiet && g->rejected < 20)
                    fprintf(stderr, "jkload: %s: refused: %s\n", c->entry->session_id,
                            a->reason_text ? a->reason_text : "");
            }
        }
        free(p->item);
        free(p->resp);
        memset(p, 0, sizeof *p);
        break;
    }
    case JK__ENVELOPE__BODY_SESSION_STATE: {
        if (c->outstanding > 0)
            c->outstanding--;
        s_pend_answered_unnumbered(g, ci);
        const Jk__SessionState *st = env->session_state;
        if (st->status == JK__SESSION_STATUS__SESSION_STATUS_SUBMITTED ||
            st->status == JK__SESSION_STATUS__SESSION_STATUS_SCORED ||
            st->status == JK__SESSION_STATUS__SESSION_STATUS_VOIDED) {
            if (c->state == C_IDLING) {
                g->timed_out++;
                c->timed_out = true;
            } else if (c->state == C_SUBMITTING) {
                g->submitted++;
            }
            s_done(g, ci);
        }
        break;
    }
    default:
        break;
    }
    jk_codec_free(&env);
}

static void s_drain(lg_t *g, void *sock)
{
    jk_codec_limits_t lim;
    jk_codec_limits_default(&lim);
    for (int budget = 0; budget < 4096; budget++) {
        jk_error_t err;
        jk_net_batch_t b;
        jk_err_t rc = jk_net_recv(sock, g->msg, (size_t)jk_net_max_msg_bytes(&lim, true), ZMQ_DONTWAIT, &err);
        if (rc == JK_ERR_UNAVAIL)
            return;
        if (rc != JK_OK || jk_net_parse(g->msg, JK_NET_LINK_CLIENT, false, &b, &err) != JK_OK) {
            g->errors++;
            continue;
        }
        for (size_t i = 0; i < b.n; i++)
            s_on_reply(g, b.items[i].env, b.items[i].env_len);
    }
}

static void s_drain_staff(lg_t *g, site_t *s)
{
    for (;;) {
        char buf[1024];
        int n = zmq_recv(s->staff, buf, sizeof buf - 1, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        int more = 0;
        size_t ml = sizeof more;
        zmq_getsockopt(s->staff, ZMQ_RCVMORE, &more, &ml);
        if (more)
            continue; /* the delimiter */
        buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = '\0';
        if (s->staff_outstanding)
            s->staff_outstanding--;
        if (strncmp(buf, "ok", 2) == 0) {
            g->staff_ok++;
        } else {
            g->staff_err++;
            if (!g->quiet && g->staff_err < 20)
                fprintf(stderr, "jkload: staff %s: %s\n", s->id, buf);
        }
    }
}

/* ---- set-up ---- */

static void s_load_credentials(lg_t *g, jk_strmap_t *map, char ***store)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/credentials.csv", g->center_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        s_die("%s: %s", path, strerror(errno));
    char line[512];
    size_t n = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *adm = strtok(line, ",\r\n");
        strtok(NULL, ",\r\n");
        char *pw = strtok(NULL, ",\r\n");
        if (!adm || !pw || strcmp(adm, "admission_no") == 0)
            continue;
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 1024;
            *store = realloc(*store, cap * sizeof **store);
            if (!*store)
                s_die("out of memory");
        }
        (*store)[n] = strdup(adm);
        (*store)[n + 1] = strdup(pw);
        jk_strmap_put(map, (*store)[n], n + 1, NULL);
        n += 2;
    }
    fclose(f);
}

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void s_usage(void)
{
    fprintf(stderr,
            "usage: jkload --center DIR --site ID=CANDIDATE_EP,STAFF_EP [--site ...]\n"
            "              [--sessions ID,ID,...] [--bank PATH] [--candidates N] [--rate R]\n"
            "              [--change P] [--flag P] [--idle P] [--seed S] [--duration MS]\n"
            "              [--no-examiners] [--rounds N] [--acked FILE] [--json FILE] [--quiet]\n"
            "  --sessions   plan sessions to run (default: all in the center document)\n"
            "  --rate       answers per second per candidate (default 2)\n"
            "  --change     share of items answered twice (first wrong; default 0.15)\n"
            "  --idle       share of candidates who let time run out (default 0.1)\n"
            "  --rounds     passes over the paper before submitting (default 1; benchmarks)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    lg_t *g = calloc(1, sizeof *g);
    g->rate = 2.0;
    g->change_prob = 0.15;
    g->flag_prob = 0.05;
    g->idle_share = 0.1;
    g->seed = 1;
    g->examiners = true;
    g->max_candidates = SIZE_MAX;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--center") == 0 && v) g->center_dir = v, i++;
        else if (strcmp(k, "--bank") == 0 && v) g->bank_path = v, i++;
        else if (strcmp(k, "--acked") == 0 && v) g->acked_path = v, i++;
        else if (strcmp(k, "--json") == 0 && v) g->json_path = v, i++;
        else if (strcmp(k, "--sessions") == 0 && v) snprintf(g->sessions, sizeof g->sessions, ",%s,", v), i++;
        else if (strcmp(k, "--candidates") == 0 && v) g->max_candidates = strtoull(v, NULL, 10), i++;
        else if (strcmp(k, "--rate") == 0 && v) g->rate = atof(v), i++;
        else if (strcmp(k, "--change") == 0 && v) g->change_prob = atof(v), i++;
        else if (strcmp(k, "--flag") == 0 && v) g->flag_prob = atof(v), i++;
        else if (strcmp(k, "--idle") == 0 && v) g->idle_share = atof(v), i++;
        else if (strcmp(k, "--rounds") == 0 && v) g->rounds = atoi(v), i++;
        else if (strcmp(k, "--seed") == 0 && v) g->seed = strtoull(v, NULL, 10), i++;
        else if (strcmp(k, "--duration") == 0 && v) g->duration_ms = strtoll(v, NULL, 10), i++;
        else if (strcmp(k, "--no-examiners") == 0) g->examiners = false;
        else if (strcmp(k, "--quiet") == 0) g->quiet = true;
        else if (strcmp(k, "--site") == 0 && v) {
            if (g->n_sites >= S_MAX_SITES)
                s_die("too many --site");
            site_t *s = &g->sites[g->n_sites++];
            const char *eq = strchr(v, '='), *comma = eq ? strchr(eq, ',') : NULL;
            if (!eq || !comma)
                s_die("--site %s: expected ID=CANDIDATE_EP,STAFF_EP", v);
            snprintf(s->id, sizeof s->id, "%.*s", (int)(eq - v), v);
            snprintf(s->cand_ep, sizeof s->cand_ep, "%.*s", (int)(comma - eq - 1), eq + 1);
            snprintf(s->staff_ep, sizeof s->staff_ep, "%s", comma + 1);
            i++;
        } else {
            s_usage();
        }
    }
    if (!g->center_dir || g->n_sites == 0 || !(g->rate > 0))
        s_usage();
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    jk_rand_seed(&g->rng, g->seed);

    jk_error_t err;
    g->std = jk_standard_load_default(&err);
    if (!g->std)
        s_die("%s", err.msg);
    g->bank = jk_bank_new(g->std);
    if (jk_bank_load_path(g->bank, g->bank_path ? g->bank_path : JK_DATA_DIR "/bank", NULL, &err) != JK_OK)
        s_die("%s", err.msg);
    char path[4096];
    snprintf(path, sizeof path, "%s/sitting.json", g->center_dir);
    g->center = jk_sitting_load(path, &err);
    if (!g->center)
        s_die("%s", err.msg);
    jk_strmap_t *creds = jk_strmap_new(1024);
    char **cred_store = NULL;
    s_load_credentials(g, creds, &cred_store);

    /* Candidates: the entries of the chosen sessions at the given sites. */
    size_t ne = jk_sitting_entry_count(g->center);
    g->c = calloc(ne + 1, sizeof *g->c);
    g->heap = calloc(ne + 1, sizeof *g->heap);
    g->pend = calloc(S_PENDING, sizeof *g->pend);
    g->msg = jk_net_msg_new(2 + JK_NET_BATCH_MAX);
    g->lat = malloc(S_LATENCY_SAMPLES_MAX * sizeof *g->lat);
    g->by_session = jk_strmap_new(ne);
    g->by_admission = jk_strmap_new(ne);
    if (!g->c || !g->heap || !g->pend || !g->msg || !g->lat || !g->by_session || !g->by_admission)
        s_die("out of memory");
    for (size_t i = 0; i < ne && g->n < g->max_candidates; i++) {
        const jk_sitting_entry_t *e = jk_sitting_entry(g->center, i);
        const jk_sitting_session_t *ps = jk_sitting_session(g->center, e->session);
        char key[80];
        snprintf(key, sizeof key, ",%s,", ps->id);
        if (g->sessions[0] && !strstr(g->sessions, key))
            continue;
        int site = s_site_index(g, e->site);
        size_t pw;
        if (site < 0 || !jk_strmap_get(creds, e->admission, &pw))
            continue;
        cand_t *c = &g->c[g->n];
        c->entry = e;
        snprintf(c->password, sizeof c->password, "%s", cred_store[pw]);
        c->site = site;
        c->sock = (int)(g->n % S_SOCKS_PER_SITE);
        c->ability = 0.45 + 0.5 * jk_rand_double(&g->rng);
        c->lets_time_run_out = jk_rand_double(&g->rng) < g->idle_share;
        c->heap_pos = SIZE_MAX;
        c->next_same = -1;
        jk_strmap_put(g->by_session, e->session_id, g->n, NULL);
        size_t first;
        if (jk_strmap_get(g->by_admission, e->admission, &first)) {
            long k = (long)first;
            while (g->c[k].next_same >= 0)
                k = g->c[k].next_same;
            g->c[k].next_same = (long)g->n;
        } else {
            jk_strmap_put(g->by_admission, e->admission, g->n, NULL);
        }
        g->n++;
    }
    if (g->n == 0)
        s_die("no candidates: check --sessions and --site against the center document");

    g->zctx = zmq_ctx_new();
    for (int i = 0; i < g->n_sites; i++) {
        site_t *s = &g->sites[i];
        int linger = 0;
        for (int k = 0; k < S_SOCKS_PER_SITE; k++) {
            s->cand[k] = zmq_socket(g->zctx, ZMQ_DEALER);
            int hwm = 100000;
            zmq_setsockopt(s->cand[k], ZMQ_SNDHWM, &hwm, sizeof hwm);
            zmq_setsockopt(s->cand[k], ZMQ_RCVHWM, &hwm, sizeof hwm);
            zmq_setsockopt(s->cand[k], ZMQ_LINGER, &linger, sizeof linger);
            if (zmq_connect(s->cand[k], s->cand_ep) != 0)
                s_die("connect %s: %s", s->cand_ep, zmq_strerror(errno));
        }
        s->staff = zmq_socket(g->zctx, ZMQ_DEALER);
        zmq_setsockopt(s->staff, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect(s->staff, s->staff_ep) != 0)
            s_die("connect %s: %s", s->staff_ep, zmq_strerror(errno));
    }
    if (g->acked_path && !(g->acked = fopen(g->acked_path, "w")))
        s_die("%s: %s", g->acked_path, strerror(errno));

    /* Proctors authorize every chosen session at every site. */
    for (size_t i = 0; i < jk_sitting_session_count(g->center); i++) {
        const jk_sitting_session_t *ps = jk_sitting_session(g->center, i);
        char key[80];
        snprintf(key, sizeof key, ",%s,", ps->id);
        if (g->sessions[0] && !strstr(g->sessions, key))
            continue;
        for (int s = 0; s < g->n_sites; s++)
            s_staff(g, s, "authorize session:%s proctor-sim", ps->id);
    }
    /* Logins, spread over the first second. */
    g->t0_us = s_now_us();
    for (size_t i = 0; i < g->n; i++)
        s_schedule(g, (uint32_t)i, g->t0_us + (int64_t)(jk_rand_double(&g->rng) * 1e6));

    zmq_pollitem_t items[S_MAX_SITES * (S_SOCKS_PER_SITE + 1)];
    int ni = 0;
    for (int i = 0; i < g->n_sites; i++) {
        for (int k = 0; k < S_SOCKS_PER_SITE; k++)
            items[ni++] = (zmq_pollitem_t){ g->sites[i].cand[k], 0, ZMQ_POLLIN, 0 };
        items[ni++] = (zmq_pollitem_t){ g->sites[i].staff, 0, ZMQ_POLLIN, 0 };
    }
    int64_t next_progress = g->t0_us + 1000000, last_progress = g->t0_us;
    uint64_t last_acked = 0;
    bool tty = isatty(2);
    for (;;) {
        int64_t now = s_now_us();
        while (g->heap_n > 0 && g->c[g->heap[0]].next_us <= now) {
            uint32_t ci = g->heap[0];
            s_step(g, ci);
            if (g->c[ci].heap_pos == 0 && g->c[ci].next_us <= now)
                s_unschedule(g, ci); /* not rescheduled: nothing more to do now */
        }
        unsigned staff_out = 0;
        for (int i = 0; i < g->n_sites; i++)
            staff_out += g->sites[i].staff_outstanding;
        if ((g->n_done == g->n && staff_out == 0) || s_stop)
            break;
        if (g->duration_ms && now - g->t0_us > g->duration_ms * 1000)
            break;
        long timeout = 50;
        if (g->heap_n > 0) {
            int64_t d = (g->c[g->heap[0]].next_us - now) / 1000;
            timeout = d < 0 ? 0 : d < 50 ? (long)d : 50;
        }
        if (zmq_poll(items, ni, timeout) < 0 && errno != EINTR)
            s_die("zmq_poll: %s", zmq_strerror(errno));
        for (int i = 0, k = 0; i < g->n_sites; i++) {
            for (int s = 0; s < S_SOCKS_PER_SITE; s++, k++)
                if (items[k].revents & ZMQ_POLLIN)
                    s_drain(g, items[k].socket);
            if (items[k++].revents & ZMQ_POLLIN)
                s_drain_staff(g, &g->sites[i]);
        }
        s_expire(g);
        if (now >= next_progress && !g->quiet) {
            double rate = (g->acked_answers - last_acked) / ((now - last_progress) / 1e6);
            fprintf(stderr, "%st=%3llds candidates %zu/%zu done, logged in %llu, answers acked %llu (%.0f/s), "
                            "submitted %llu, timed out %llu, errors %llu%s",
                    tty ? "\r" : "", (long long)((now - g->t0_us) / 1000000), (size_t)g->n_done, g->n,
                    (unsigned long long)g->logins, (unsigned long long)g->acked_answers, rate,
                    (unsigned long long)g->submitted, (unsigned long long)g->timed_out,
                    (unsigned long long)(g->errors + g->rejected), tty ? "   " : "\n");
            last_acked = g->acked_answers;
            last_progress = now;
            next_progress = now + 1000000;
        }
    }
    if (tty && !g->quiet)
        fputc('\n', stderr);

    /* Figures: over every answer, and over those acknowledged after every
     * candidate had logged in (sorting that tail first leaves the whole to
     * sort after). */
    size_t sn = g->steady ? g->n_lat - g->steady_from : 0;
    uint32_t *st = g->lat + (g->n_lat - sn);
    qsort(st, sn, sizeof *st, s_cmp_u32);
    double s50 = sn ? st[sn / 2] / 1000.0 : 0;
    double s99 = sn ? st[(size_t)(sn * 0.99)] / 1000.0 : 0;
    double s999 = sn ? st[(size_t)(sn * 0.999)] / 1000.0 : 0;
    qsort(g->lat, g->n_lat, sizeof *g->lat, s_cmp_u32);
    double p50 = g->n_lat ? g->lat[g->n_lat / 2] / 1000.0 : 0;
    double p99 = g->n_lat ? g->lat[(size_t)(g->n_lat * 0.99)] / 1000.0 : 0;
    double p999 = g->n_lat ? g->lat[(size_t)(g->n_lat * 0.999)] / 1000.0 : 0;
    double span = g->first_answer_us && g->last_ack_us > g->first_answer_us
                      ? (g->last_ack_us - g->first_answer_us) / 1e6
                      : 0;
    double eps = span > 0 ? g->acked_answers / span : 0;
    printf("jkload: %zu candidates: %llu logged in, %llu submitted, %llu let time run out\n", g->n,
           (unsigned long long)g->logins, (unsigned long long)g->submitted,
           (unsigned long long)g->timed_out);
    printf("jkload: %llu answers acknowledged in %.1f s: %.0f events/s; ack latency p50 %.2f ms, "
           "p99 %.2f ms, p99.9 %.2f ms\n",
           (unsigned long long)g->acked_answers, span, eps, p50, p99, p999);
    printf("jkload: after every candidate logged in (%zu answers): p50 %.2f ms, p99 %.2f ms, "
           "p99.9 %.2f ms\n",
           sn, s50, s99, s999);
    printf("jkload: errors %llu, refused %llu, unanswered %llu (answered late %llu), logins again "
           "%llu; staff commands ok %llu, failed %llu\n",
           (unsigned long long)g->errors, (unsigned long long)g->rejected,
           (unsigned long long)(g->lost + g->expired), (unsigned long long)g->late_replies,
           (unsigned long long)g->relogins,
           (unsigned long long)g->staff_ok, (unsigned long long)g->staff_err);
    if (g->json_path) {
        FILE *f = fopen(g->json_path, "w");
        if (f) {
            fprintf(f,
                    "{\"candidates\":%zu,\"logins\":%llu,\"submitted\":%llu,\"timed_out\":%llu,"
                    "\"acked\":%llu,\"seconds\":%.3f,\"events_per_s\":%.1f,\"p50_ms\":%.3f,"
                    "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"errors\":%llu,\"refused\":%llu,\"unanswered\":%llu,"
                    "\"staff_failed\":%llu,\"steady_acked\":%zu,\"steady_p50_ms\":%.3f,"
                    "\"steady_p99_ms\":%.3f,\"steady_p999_ms\":%.3f}\n",
                    g->n, (unsigned long long)g->logins, (unsigned long long)g->submitted,
                    (unsigned long long)g->timed_out, (unsigned long long)g->acked_answers, span, eps,
                    p50, p99, p999, (unsigned long long)g->errors, (unsigned long long)g->rejected,
                    (unsigned long long)(g->lost + g->expired), (unsigned long long)g->staff_err, sn,
                    s50, s99, s999);
            fclose(f);
        }
    }
    int code = (g->errors || g->rejected || g->staff_err) ? 1 : 0;
    if (g->acked)
        fclose(g->acked);
    for (int i = 0; i < g->n_sites; i++) {
        for (int k = 0; k < S_SOCKS_PER_SITE; k++)
            zmq_close(g->sites[i].cand[k]);
        zmq_close(g->sites[i].staff);
    }
    zmq_ctx_term(g->zctx);
    for (size_t i = 0; i < g->n; i++) {
        jk_codec_free(&g->c[i].login);
        free(g->c[i].order);
        free(g->c[i].change_list);
    }
    for (size_t i = 0; i < S_PENDING; i++) {
        free(g->pend[i].item);
        free(g->pend[i].resp);
    }
    size_t nc = jk_strmap_count(creds);
    for (size_t i = 0; i < 2 * nc; i++)
        free(cred_store[i]);
    free(cred_store);
    jk_strmap_destroy(&creds);
    jk_strmap_destroy(&g->by_session);
    jk_strmap_destroy(&g->by_admission);
    free(g->c);
    free(g->heap);
    free(g->pend);
    jk_net_msg_destroy(&g->msg);
    free(g->lat);
    jk_sitting_destroy(&g->center);
    jk_bank_destroy(&g->bank);
    jk_standard_destroy(&g->std);
    free(g);
    return code;
}
