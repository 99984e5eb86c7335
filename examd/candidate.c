/*
 * examd candidate endpoint: login, paper delivery, answers, submit, state.
 *
 * Frames (ROUTER side): [identity, "", "JK1C", envelope] in both directions,
 * one envelope per message. After a successful login every request of the
 * candidate carries an auth tag made with the session token the login reply
 * gave (HMAC-SHA256 over the envelope, docs/protocol.md §10), so a request
 * can only come from the workstation that logged in; the token lives in
 * memory only, so after an exam node restart candidates log in again (their
 * answers and time are kept).
 *
 * Every accepted request becomes a session event through examd__emit(), and
 * its reply waits until the event's WAL record is durable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <zmq.h>

#include "examd.h"
#include "jk_log.h"
#include "jk_text.h"

static char s_logbuf[JK_LOG_VALUE_MAX];

/* ---- replies ---- */

void examd__reply_when_durable_take(examd_t *ex, uint64_t lsn, int socket, const uint8_t *route,
                                    size_t route_len, uint8_t *data, size_t len)
{
    ex_pending_t *p = data ? calloc(1, sizeof *p) : NULL;
    if (!p || route_len > sizeof p->route) {
        free(p);
        free(data);
        return;
    }
    p->lsn = lsn;
    p->socket = socket;
    memcpy(p->route, route, route_len);
    p->route_len = route_len;
    p->frames = data;
    p->len = len;
    if (ex->pending_tail)
        ex->pending_tail->next = p;
    else
        ex->pending_head = p;
    ex->pending_tail = p;
}

void examd__reply_when_durable(examd_t *ex, uint64_t lsn, int socket, const uint8_t *route,
                               size_t route_len, const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return;
    memcpy(copy, data, len);
    examd__reply_when_durable_take(ex, lsn, socket, route, route_len, copy, len);
}

static void s_send_reply(examd_t *ex, const ex_pending_t *p)
{
    void *sock = p->socket == 0 ? ex->candidates : ex->staff;
    int rc;
    if (p->socket == 0) {
        const void *f[4] = { p->route, "", "JK1C", p->frames };
        size_t l[4] = { p->route_len, 0, 4, p->len };
        rc = examd__send_frames(sock, f, l, 4);
    } else {
        const void *f[3] = { p->route, "", p->frames };
        size_t l[3] = { p->route_len, 0, p->len };
        rc = examd__send_frames(sock, f, l, 3);
    }
    if (rc == 0)
        return;
    if (errno == EHOSTUNREACH) {
        JK_DEBUG("reply.unreachable", "socket=%d", p->socket); /* the client left */
        return;
    }
    /* A client that does not read its replies (high-water mark reached):
     * the reply is dropped, counted, and logged at powers of two. */
    uint64_t n = ++ex->stats.replies_dropped;
    if ((n & (n - 1)) == 0)
        JK_WARN("reply.dropped", "socket=%d total=%llu error=%s", p->socket, (unsigned long long)n,
                zmq_strerror(errno));
}

void examd__flush_replies(examd_t *ex)
{
    while (ex->pending_head && ex->pending_head->lsn <= ex->durable_lsn) {
        ex_pending_t *p = ex->pending_head;
        ex->pending_head = p->next;
        if (!ex->pending_head)
            ex->pending_tail = NULL;
        s_send_reply(ex, p);
        free(p->frames);
        free(p);
    }
}

/* Encodes env and queues it for route once lsn is durable (lsn 0 = now). */
static void s_reply(examd_t *ex, const uint8_t *route, size_t rl, Jk__Envelope *env, uint64_t lsn)
{
    env->has_schema_version = 1;
    env->schema_version = JK_SCHEMA_VERSION;
    env->node_id = ex->cfg.node_id;
    env->has_message_id = 1;
    env->message_id = examd__message_id(ex);
    env->has_sent_time_ms = 1;
    env->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    uint8_t *buf = NULL;
    size_t len = 0;
    jk_error_t err;
    if (jk_codec_encode(env, &buf, &len, &err) != JK_OK) {
        JK_ERROR("candidate.encode", "kind=%s error=%s", jk_codec_kind_name(env->kind),
                 jk_log_value(err.msg, s_logbuf));
        return;
    }
    examd__reply_when_durable_take(ex, lsn, 0, route, rl, buf, len);
}

static void s_ack(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req,
                  Jk__AckStatus status, Jk__RejectReason reason, const char *text, uint64_t seq,
                  uint64_t lsn)
{
    if (!req || !req->has_message_id)
        return; /* nothing to answer to: the refusal is counted and logged */
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Ack ack = JK__ACK__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_ACK;
    env.session_id = req->session_id;
    ack.has_acked_message_id = 1;
    ack.acked_message_id = req->message_id;
    ack.has_status = 1;
    ack.status = status;
    if (seq) {
        ack.has_acked_seq = 1;
        ack.acked_seq = seq;
    }
    if (status == JK__ACK_STATUS__ACK_STATUS_REJECTED) {
        ack.has_reason = 1;
        ack.reason = reason;
        ack.reason_text = (char *)text;
    }
    env.body_case = JK__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    s_reply(ex, route, rl, &env, lsn);
}

static Jk__RejectReason s_reason_of(jk_err_t rc)
{
    switch (rc) {
    case JK_ERR_LATE: return JK__REJECT_REASON__REJECT_REASON_AFTER_DEADLINE;
    case JK_ERR_STATE: return JK__REJECT_REASON__REJECT_REASON_ILLEGAL_STATE;
    case JK_ERR_AUTH: return JK__REJECT_REASON__REJECT_REASON_BAD_AUTH;
    case JK_ERR_NOTFOUND: return JK__REJECT_REASON__REJECT_REASON_UNKNOWN_SESSION;
    case JK_ERR_RANGE: return JK__REJECT_REASON__REJECT_REASON_OUT_OF_RANGE;
    case JK_ERR_MISSING: return JK__REJECT_REASON__REJECT_REASON_MISSING_FIELD;
    case JK_ERR_TOO_BIG: return JK__REJECT_REASON__REJECT_REASON_TOO_BIG;
    case JK_ERR_VERSION: return JK__REJECT_REASON__REJECT_REASON_BAD_VERSION;
    case JK_ERR_PARSE: return JK__REJECT_REASON__REJECT_REASON_MALFORMED;
    default: return JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED;
    }
}

/* ---- the paper as the candidate sees it ---- */

static Jk__ItemType s_item_type(jk_item_type_t t)
{
    switch (t) {
    case JK_ITEM_JUDGE: return JK__ITEM_TYPE__ITEM_TYPE_JUDGMENT;
    case JK_ITEM_SINGLE: return JK__ITEM_TYPE__ITEM_TYPE_SINGLE_CHOICE;
    default: return JK__ITEM_TYPE__ITEM_TYPE_MULTIPLE_CHOICE;
    }
}

static Jk__ItemType s_task_type(jk_task_type_t t)
{
    switch (t) {
    case JK_TASK_ORAL: return JK__ITEM_TYPE__ITEM_TYPE_ORAL;
    case JK_TASK_OPERATION: return JK__ITEM_TYPE__ITEM_TYPE_SIMULATED_OPERATION;
    default: return JK__ITEM_TYPE__ITEM_TYPE_WRITTEN;
    }
}

/* Everything a paper needs, allocated together and freed together. */
typedef struct {
    Jk__Paper paper;
    Jk__PaperItem *items;
    Jk__PaperItem **item_ptrs;
    Jk__Option *options;
    Jk__Option **option_ptrs;
    Jk__FormFieldSpec *fields;
    Jk__FormFieldSpec **field_ptrs;
    char **strings;
    size_t n_strings;
} s_paper_t;

static void s_paper_free(s_paper_t *p)
{
    for (size_t i = 0; i < p->n_strings; i++)
        free(p->strings[i]);
    free(p->strings);
    free(p->items);
    free(p->item_ptrs);
    free(p->options);
    free(p->option_ptrs);
    free(p->fields);
    free(p->field_ptrs);
}

static char *s_keep(s_paper_t *p, char *str)
{
    p->strings[p->n_strings++] = str;
    return str;
}

static const char *s_section_of(jk_item_type_t t)
{
    return t == JK_ITEM_JUDGE ? "一、判断题" : t == JK_ITEM_SINGLE ? "二、单选题" : "三、多选题";
}

static bool s_paper_build(examd_t *ex, const ex_session_t *s, s_paper_t *p)
{
    memset(p, 0, sizeof *p);
    Jk__Paper init = JK__PAPER__INIT;
    p->paper = init;
    const jk_sitting_entry_t *e = s->entry;
    size_t n_items = 0, n_opts = 0, n_fields = 0;
    if (e->n_items) {
        n_items = e->n_items;
        for (size_t k = 0; k < e->n_items; k++)
            n_opts += e->items[k].n_order;
    } else {
        for (size_t t = 0; t < e->n_tasks; t++) {
            const jk_sitting_task_t *task = jk_sitting_task(ex->site, e->tasks[t]);
            n_items += task->n_parts;
            for (size_t q = 0; q < task->n_parts; q++)
                n_fields += task->parts[q].n_fields;
        }
    }
    p->items = calloc(n_items + 1, sizeof *p->items);
    p->item_ptrs = calloc(n_items + 1, sizeof *p->item_ptrs);
    p->options = calloc(n_opts + 1, sizeof *p->options);
    p->option_ptrs = calloc(n_opts + 1, sizeof *p->option_ptrs);
    p->fields = calloc(n_fields + 1, sizeof *p->fields);
    p->field_ptrs = calloc(n_fields + 1, sizeof *p->field_ptrs);
    p->strings = calloc(n_items + 1, sizeof *p->strings);
    if (!p->items || !p->item_ptrs || !p->options || !p->option_ptrs || !p->fields ||
        !p->field_ptrs || !p->strings)
        return false;
    size_t oi = 0, fi = 0, ii = 0;
    int32_t total = 0;
    if (e->n_items) {
        for (size_t k = 0; k < e->n_items; k++, ii++) {
            const jk_sitting_item_t *it = jk_sitting_item(ex->site, e->items[k].item);
            Jk__PaperItem pi = JK__PAPER_ITEM__INIT;
            pi.item_id = (char *)it->id;
            pi.has_number = 1;
            pi.number = (uint32_t)(k + 1);
            pi.has_type = 1;
            pi.type = s_item_type(it->type);
            pi.stem = (char *)it->stem;
            pi.has_points_centi = 1;
            pi.points_centi = (uint32_t)it->points_centi;
            pi.section = (char *)s_section_of(it->type);
            pi.options = &p->option_ptrs[oi];
            for (size_t q = 0; q < e->items[k].n_order; q++) {
                Jk__Option o = JK__OPTION__INIT;
                unsigned id = e->items[k].order[q];
                o.has_option_id = 1;
                o.option_id = id;
                o.text = (char *)(id >= 1 && id <= it->n_options ? it->options[id - 1] : "");
                p->options[oi] = o;
                p->option_ptrs[oi] = &p->options[oi];
                oi++;
                pi.n_options++;
            }
            total += it->points_centi;
            p->items[ii] = pi;
            p->item_ptrs[ii] = &p->items[ii];
        }
    } else {
        unsigned number = 0;
        for (size_t t = 0; t < e->n_tasks; t++) {
            const jk_sitting_task_t *task = jk_sitting_task(ex->site, e->tasks[t]);
            for (size_t q = 0; q < task->n_parts; q++, ii++) {
                const jk_sitting_part_t *part = &task->parts[q];
                Jk__PaperItem pi = JK__PAPER_ITEM__INIT;
                size_t idl = strlen(task->id) + strlen(part->id) + 2;
                char *id = malloc(idl);
                size_t sl = strlen(task->title) + strlen(task->scenario) + strlen(part->prompt) + 8;
                char *stem = malloc(sl);
                if (!id || !stem) {
                    free(id);
                    free(stem);
                    return false;
                }
                snprintf(id, idl, "%s:%s", task->id, part->id);
                snprintf(stem, sl, "%s\n%s\n%s", task->title, task->scenario, part->prompt);
                p->strings[p->n_strings++] = id;
                /* the stem shares the item's slot in strings: keep both */
                char **grow = realloc(p->strings, (n_items + 1 + p->n_strings + 1) * sizeof *grow);
                if (!grow) {
                    free(stem);
                    return false;
                }
                p->strings = grow;
                s_keep(p, stem);
                pi.item_id = id;
                pi.has_number = 1;
                pi.number = ++number;
                pi.has_type = 1;
                pi.type = s_task_type(task->type);
                pi.stem = stem;
                pi.has_points_centi = 1;
                pi.points_centi = (uint32_t)part->points_centi;
                pi.section = (char *)task->title;
                pi.form_fields = &p->field_ptrs[fi];
                for (size_t f = 0; f < part->n_fields; f++) {
                    Jk__FormFieldSpec fs = JK__FORM_FIELD_SPEC__INIT;
                    fs.name = (char *)part->fields[f].name;
                    fs.label = (char *)part->fields[f].label;
                    fs.has_input = 1;
                    fs.input = part->fields[f].input == JK_INPUT_NUMBER ? JK__FORM_INPUT__FORM_INPUT_NUMBER
                               : part->fields[f].input == JK_INPUT_DATE ? JK__FORM_INPUT__FORM_INPUT_DATE
                                                                        : JK__FORM_INPUT__FORM_INPUT_TEXT;
                    p->fields[fi] = fs;
                    p->field_ptrs[fi] = &p->fields[fi];
                    fi++;
                    pi.n_form_fields++;
                }
                total += part->points_centi;
                p->items[ii] = pi;
                p->item_ptrs[ii] = &p->items[ii];
            }
        }
    }
    p->paper.paper_id = (char *)e->session_id;
    p->paper.has_exam = 1;
    p->paper.exam = s->plan->exam == JK_EXAM_THEORY ? JK__EXAM_TYPE__EXAM_TYPE_THEORY
                                                     : JK__EXAM_TYPE__EXAM_TYPE_SKILLS;
    p->paper.has_level = 1;
    p->paper.level = (uint32_t)s->plan->level;
    p->paper.title = (char *)(jk_sitting_name(ex->site) ? jk_sitting_name(ex->site) : "");
    p->paper.has_duration_ms = 1;
    p->paper.duration_ms = (uint64_t)s->duration_ms;
    p->paper.has_total_points_centi = 1;
    p->paper.total_points_centi = (uint32_t)total;
    p->paper.n_items = ii;
    p->paper.items = p->item_ptrs;
    return true;
}

/* The answers so far, for a resumed session. Responses are unpacked from
 * the slots; the caller frees with s_state_free. */
typedef struct {
    Jk__SessionState st;
    Jk__ItemState *items;
    Jk__ItemState **ptrs;
    Jk__Response **resp;
    char **ids;
    size_t n;
} s_state_t;

static void s_state_free(s_state_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->resp[i])
            jk__response__free_unpacked(s->resp[i], NULL);
        free(s->ids[i]);
    }
    free(s->items);
    free(s->ptrs);
    free(s->resp);
    free(s->ids);
}

static const char *s_slot_item_id(examd_t *ex, const ex_session_t *s, size_t k, char **owned)
{
    *owned = NULL;
    if (s->entry->n_items)
        return s->entry->items[k].item;
    size_t base = 0;
    for (size_t t = 0; t < s->entry->n_tasks; t++) {
        const jk_sitting_task_t *task = jk_sitting_task(ex->site, s->entry->tasks[t]);
        if (k < base + task->n_parts) {
            const char *part = task->parts[k - base].id;
            size_t l = strlen(task->id) + strlen(part) + 2;
            *owned = malloc(l);
            if (*owned)
                snprintf(*owned, l, "%s:%s", task->id, part);
            return *owned;
        }
        base += task->n_parts;
    }
    return NULL;
}

static bool s_state_build(examd_t *ex, const ex_session_t *s, s_state_t *out)
{
    memset(out, 0, sizeof *out);
    Jk__SessionState init = JK__SESSION_STATE__INIT;
    out->st = init;
    out->items = calloc(s->n_slots + 1, sizeof *out->items);
    out->ptrs = calloc(s->n_slots + 1, sizeof *out->ptrs);
    out->resp = calloc(s->n_slots + 1, sizeof *out->resp);
    out->ids = calloc(s->n_slots + 1, sizeof *out->ids);
    if (!out->items || !out->ptrs || !out->resp || !out->ids)
        return false;
    int64_t now = jk_clock_wall_ms(ex->clock);
    out->st.has_status = 1;
    out->st.status = (Jk__SessionStatus)s->state;
    out->st.has_remaining_ms = 1;
    out->st.remaining_ms = (uint64_t)examd__remaining_ms(ex, s, now);
    out->st.has_last_seq = 1;
    out->st.last_seq = s->last_seq;
    out->st.paper_id = (char *)s->entry->session_id;
    out->st.workstation_id = s->workstation[0] ? (char *)s->workstation : NULL;
    out->st.has_extension_total_ms = s->extension_ms > 0;
    out->st.extension_total_ms = (uint64_t)s->extension_ms;
    size_t n = 0;
    for (size_t k = 0; k < s->n_slots; k++) {
        const ex_slot_t *slot = &s->slots[k];
        if (!slot->seq)
            continue;
        Jk__ItemState is = JK__ITEM_STATE__INIT;
        is.item_id = (char *)s_slot_item_id(ex, s, k, &out->ids[n]);
        if (slot->response)
            out->resp[n] = jk__response__unpack(NULL, slot->response_len, slot->response);
        is.response = out->resp[n];
        is.has_flagged = 1;
        is.flagged = slot->flagged;
        is.has_change_counter = slot->change_counter > 0;
        is.change_counter = slot->change_counter;
        is.has_seq = 1;
        is.seq = slot->seq;
        out->items[n] = is;
        out->ptrs[n] = &out->items[n];
        n++;
    }
    out->n = n;
    out->st.n_items = n;
    out->st.items = out->ptrs;
    return true;
}

/* ---- login ---- */

typedef struct {
    Jk__SessionOpen open;
} s_open_t;

static void s_fill_open(Jk__Envelope *env, void *ud)
{
    env->body_case = JK__ENVELOPE__BODY_SESSION_OPEN;
    env->session_open = &((s_open_t *)ud)->open;
}

typedef struct {
    Jk__SessionResume res;
} s_resume_t;

static void s_fill_resume(Jk__Envelope *env, void *ud)
{
    env->body_case = JK__ENVELOPE__BODY_SESSION_RESUME;
    env->session_resume = &((s_resume_t *)ud)->res;
}

static void s_login_reply(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req,
                          Jk__LoginStatus status, const char *msg, ex_session_t *s, uint64_t lsn)
{
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__LoginReply lr = JK__LOGIN_REPLY__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_LOGIN_REPLY;
    lr.has_status = 1;
    lr.status = status;
    lr.message = (char *)msg;
    /* Every reply names the admission number it answers, so a client with
     * many candidates on one connection can match refusals too. */
    if (req && req->login_request && jk_id_valid(req->login_request->admission_no, JK_CODEC_ID_MAX))
        env.candidate_id = req->login_request->admission_no;
    s_paper_t paper;
    s_state_t state;
    memset(&paper, 0, sizeof paper);
    memset(&state, 0, sizeof state);
    bool have_paper = false, have_state = false;
    if (status == JK__LOGIN_STATUS__LOGIN_STATUS_OK && s) {
        env.exam_id = ex->sitting_id;
        env.site_id = ex->site_id;
        env.room_id = (char *)s->room;
        env.session_id = (char *)s->entry->session_id;
        env.candidate_id = (char *)s->entry->admission;
        lr.candidate_name = (char *)s->entry->name;
        lr.has_session_token = 1;
        lr.session_token.data = s->token;
        lr.session_token.len = sizeof s->token;
        have_paper = s_paper_build(ex, s, &paper);
        if (have_paper)
            lr.paper = &paper.paper;
        lr.has_remaining_ms = 1;
        lr.remaining_ms = (uint64_t)examd__remaining_ms(ex, s, jk_clock_wall_ms(ex->clock));
        lr.has_session_status = 1;
        lr.session_status = (Jk__SessionStatus)s->state;
        have_state = s_state_build(ex, s, &state);
        if (have_state)
            lr.state = &state.st;
    }
    env.body_case = JK__ENVELOPE__BODY_LOGIN_REPLY;
    env.login_reply = &lr;
    s_reply(ex, route, rl, &env, lsn);
    if (have_paper || paper.items)
        s_paper_free(&paper);
    if (have_state || state.items)
        s_state_free(&state);
}

/* The session a login is for: one being worked on, else one authorized to
 * start, else the first not yet ended (the candidate must wait). */
static ex_session_t *s_login_session(examd_t *ex, const char *admission)
{
    size_t first;
    if (!ex->by_admission || !jk_strmap_get(ex->by_admission, admission, &first))
        return NULL;
    ex_session_t *pick[3] = { NULL, NULL, NULL };
    for (long k = (long)first; k >= 0; k = ex->sessions[k].next_of_candidate) {
        ex_session_t *s = &ex->sessions[k];
        if ((s->state == JK_SESSION_IN_PROGRESS || s->state == JK_SESSION_PAUSED) && !pick[0])
            pick[0] = s;
        else if (s->state == JK_SESSION_AUTHORIZED && !pick[1])
            pick[1] = s;
        else if (s->state == JK_SESSION_REGISTERED && !pick[2])
            pick[2] = s;
    }
    if (pick[0] || pick[1] || pick[2])
        return pick[0] ? pick[0] : pick[1] ? pick[1] : pick[2];
    return &ex->sessions[first]; /* all ended: report the first */
}

/* A password that did not match counts against every session of the
 * candidate (login.attempts). */
static void s_login_bad_password(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req,
                                 ex_session_t *s)
{
    ex->stats.login_failures++;
    for (long k = (long)(s - ex->sessions); k >= 0; k = ex->sessions[k].next_of_candidate)
        ex->sessions[k].failed_logins++;
    JK_WARN("login.bad_credential", "candidate=%s failures=%u", s->entry->admission, s->failed_logins);
    s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_BAD_CREDENTIAL,
                  "准考证号或密码错误", NULL, 0);
}

/* The first half of a login, on the loop: everything that needs no
 * password check, then the check is handed to login.c. Returns true when
 * the check's job took req (the caller must not free it). */
static bool s_on_login(examd_t *ex, const uint8_t *route, size_t rl, Jk__Envelope *req)
{
    const Jk__LoginRequest *lq = req->login_request;
    ex->stats.logins++;
    if (!ex->released) {
        s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_NOT_OPEN,
                      "试卷尚未启封，请稍候", NULL, 0);
        return false;
    }
    ex_session_t *s = s_login_session(ex, lq->admission_no);
    if (!s) {
        ex->stats.login_failures++;
        s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_UNKNOWN_CANDIDATE,
                      "准考证号不在本考点", NULL, 0);
        return false;
    }
    /* Checks under way count as attempts: a burst of guesses sent before
     * the first is answered cannot exceed login.attempts. */
    if (s->failed_logins + s->logins_checking >= (unsigned)ex->cfg.login_attempts) {
        s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_LOCKED,
                      "登录失败次数过多，请联系监考人员", NULL, 0);
        return false;
    }
    const jk_sitting_credential_t *cred = jk_sitting_credential(ex->site, s->entry->admission);
    if (!cred) {
        s_login_bad_password(ex, route, rl, req, s);
        return false;
    }
    long idx = (long)(s - ex->sessions);
    s->logins_checking++;
    if (!ex->logins) { /* no worker threads (a library user): check here */
        bool ok = jk_sitting_check_password(cred, (const char *)lq->credential.data, lq->credential.len);
        examd__login_finish(ex, route, rl, req, idx, ok);
        return false;
    }
    if (examd__login_submit(ex, route, rl, req, idx, cred))
        return true;
    s->logins_checking--;
    JK_WARN("login.busy", "candidate=%s checking=%zu", s->entry->admission, examd__logins_pending(ex));
    s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_NOT_OPEN,
                  "系统繁忙，请稍后重试", NULL, 0);
    return false;
}

/* The second half, on the loop, once the password was checked. The
 * session is looked up again: its state may have moved meanwhile. */
void examd__login_finish(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req,
                         long session, bool password_ok)
{
    if (session < 0 || (size_t)session >= ex->n_sessions)
        return;
    ex_session_t *checked = &ex->sessions[session];
    if (checked->logins_checking)
        checked->logins_checking--;
    if (!password_ok) {
        s_login_bad_password(ex, route, rl, req, checked);
        return;
    }
    const Jk__LoginRequest *lq = req->login_request;
    ex_session_t *s = s_login_session(ex, lq->admission_no);
    if (!s)
        s = checked;
    switch (s->state) {
    case JK_SESSION_REGISTERED:
        s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_NOT_AUTHORIZED,
                      "请等待监考人员核验身份", NULL, 0);
        return;
    case JK_SESSION_SUBMITTED:
    case JK_SESSION_SCORED:
        s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_CLOSED, "本场考试已交卷",
                      NULL, 0);
        return;
    case JK_SESSION_VOIDED:
        s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_VOIDED, "本场考试已作废",
                      NULL, 0);
        return;
    case JK_SESSION_ABSENT:
        s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_ABSENT, "已记为缺考",
                      NULL, 0);
        return;
    default:
        break;
    }
    const char *ws = lq->workstation_id ? lq->workstation_id : "";
    uint64_t lsn = 0;
    jk_error_t err;
    if (s->state == JK_SESSION_AUTHORIZED) {
        /* The digest of the paper as delivered: the center can prove which
         * paper and option order the candidate saw. */
        uint8_t pdigest[32];
        s_paper_t pp;
        bool built = s_paper_build(ex, s, &pp);
        size_t plen = built ? jk__paper__get_packed_size(&pp.paper) : 0;
        uint8_t *packed = built ? malloc(plen ? plen : 1) : NULL;
        if (packed) {
            jk__paper__pack(&pp.paper, packed);
            SHA256(packed, plen, pdigest);
        }
        free(packed);
        s_paper_free(&pp);
        if (!packed) {
            s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_NOT_OPEN, "out of memory", NULL, 0);
            return;
        }
        s_open_t o = { JK__SESSION_OPEN__INIT };
        o.open.has_paper_digest = 1;
        o.open.paper_digest.data = pdigest;
        o.open.paper_digest.len = sizeof pdigest;
        o.open.paper_id = (char *)s->entry->session_id;
        o.open.has_exam = 1;
        o.open.exam = s->plan->exam == JK_EXAM_THEORY ? JK__EXAM_TYPE__EXAM_TYPE_THEORY
                                                       : JK__EXAM_TYPE__EXAM_TYPE_SKILLS;
        o.open.has_level = 1;
        o.open.level = (uint32_t)s->plan->level;
        o.open.has_duration_ms = 1;
        o.open.duration_ms = (uint64_t)s->duration_ms;
        o.open.workstation_id = (char *)(ws[0] ? ws : "unknown");
        o.open.has_item_count = 1;
        o.open.item_count = (uint32_t)s->n_slots;
        if (examd__emit(ex, s, JK__KIND__KIND_SESSION_OPEN, s_fill_open, &o, &lsn, &err) != JK_OK) {
            s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_NOT_OPEN, err.msg, NULL, 0);
            return;
        }
        JK_INFO("session.open", "session=%s candidate=%s room=%s", s->entry->session_id,
                s->entry->admission, s->room);
    } else if (s->have_token && strcmp(s->workstation, ws) != 0) {
        if (!s->relocate_allowed) {
            s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_ALREADY_ACTIVE,
                          "已在其他考试机登录，请联系监考人员换机", NULL, 0);
            return;
        }
        s_resume_t r = { JK__SESSION_RESUME__INIT };
        r.res.old_workstation_id = s->workstation[0] ? s->workstation : NULL;
        r.res.new_workstation_id = (char *)(ws[0] ? ws : "unknown");
        r.res.proctor_id = s->relocate_by[0] ? s->relocate_by : "system";
        r.res.has_last_seen_seq = 1;
        r.res.last_seen_seq = s->last_seq;
        if (examd__emit(ex, s, JK__KIND__KIND_SESSION_RESUME, s_fill_resume, &r, &lsn, &err) != JK_OK) {
            s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_ALREADY_ACTIVE, err.msg, NULL, 0);
            return;
        }
    }
    if (ws[0])
        snprintf(s->workstation, sizeof s->workstation, "%s", ws);
    RAND_bytes(s->token, sizeof s->token);
    s->have_token = true;
    s->client_seq = 0; /* a new login numbers its requests from 1 */
    s->failed_logins = 0;
    s_login_reply(ex, route, rl, req, JK__LOGIN_STATUS__LOGIN_STATUS_OK, "登录成功", s, lsn);
}

/* ---- answers ---- */

/* Checks a response against the item it answers. */
static jk_err_t s_check_response(examd_t *ex, ex_session_t *s, long k, const Jk__Response *r,
                                 jk_error_t *err)
{
    if (!r)
        return JK_OK; /* clearing is always allowed */
    if (s->entry->n_items) {
        const jk_sitting_item_t *it = jk_sitting_item(ex->site, s->entry->items[k].item);
        if (it->type == JK_ITEM_JUDGE)
            return r->value_case == JK__RESPONSE__VALUE_JUDGMENT
                       ? JK_OK
                       : jk_error_set(err, JK_ERR_INVAL, "a judgment item takes true or false");
        if (r->value_case != JK__RESPONSE__VALUE_SELECTION)
            return jk_error_set(err, JK_ERR_INVAL, "a choice item takes a selection");
        const Jk__Selection *sel = r->selection;
        if (it->type == JK_ITEM_SINGLE && sel->n_option_ids != 1)
            return jk_error_set(err, JK_ERR_INVAL, "a single-choice item takes exactly one option");
        unsigned seen = 0;
        for (size_t i = 0; i < sel->n_option_ids; i++) {
            uint32_t id = sel->option_ids[i];
            if (id < 1 || id > it->n_options || (seen & (1u << id)))
                return jk_error_set(err, JK_ERR_RANGE, "option %u is not an option of the item, or repeated", id);
            seen |= 1u << id;
        }
        return JK_OK;
    }
    /* Skills part. */
    size_t base = 0;
    for (size_t t = 0; t < s->entry->n_tasks; t++) {
        const jk_sitting_task_t *task = jk_sitting_task(ex->site, s->entry->tasks[t]);
        if ((size_t)k < base + task->n_parts) {
            const jk_sitting_part_t *part = &task->parts[(size_t)k - base];
            if (task->type == JK_TASK_ORAL)
                return jk_error_set(err, JK_ERR_STATE, "an oral part is answered aloud to the examiners");
            if (task->type == JK_TASK_WRITTEN)
                return r->value_case == JK__RESPONSE__VALUE_TEXT
                           ? JK_OK
                           : jk_error_set(err, JK_ERR_INVAL, "a written part takes text");
            if (r->value_case != JK__RESPONSE__VALUE_FORM)
                return jk_error_set(err, JK_ERR_INVAL, "a simulated operation takes a form");
            for (size_t i = 0; i < r->form->n_fields; i++) {
                bool known = false;
                for (size_t f = 0; f < part->n_fields && !known; f++)
                    known = strcmp(part->fields[f].name, r->form->fields[i]->name) == 0;
                if (!known)
                    return jk_error_set(err, JK_ERR_INVAL, "field '%s' is not on the form",
                                        r->form->fields[i]->name);
            }
            return JK_OK;
        }
        base += task->n_parts;
    }
    return jk_error_set(err, JK_ERR_NOTFOUND, "no such item");
}

typedef struct {
    Jk__Answer ans;
} s_answer_t;

static void s_fill_answer(Jk__Envelope *env, void *ud)
{
    env->body_case = JK__ENVELOPE__BODY_ANSWER;
    env->answer = &((s_answer_t *)ud)->ans;
}

/* The session of a candidate request, authenticated by its token. */
static ex_session_t *s_authed(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req)
{
    ex_session_t *s = ex->released ? examd__session(ex, req->session_id) : NULL;
    if (!s) {
        s_ack(ex, route, rl, req, JK__ACK_STATUS__ACK_STATUS_REJECTED,
              JK__REJECT_REASON__REJECT_REASON_UNKNOWN_SESSION, "unknown session", 0, 0);
        ex->stats.rejected++;
        return NULL;
    }
    if (!s->have_token || jk_codec_auth_verify(req, s->token, sizeof s->token, NULL) != JK_OK) {
        s_ack(ex, route, rl, req, JK__ACK_STATUS__ACK_STATUS_REJECTED,
              JK__REJECT_REASON__REJECT_REASON_BAD_AUTH, "not logged in on this workstation", 0, 0);
        ex->stats.rejected++;
        ex->stats.forged++;
        JK_WARN("candidate.bad_auth", "session=%s", s->entry->session_id);
        return NULL;
    }
    /* A workstation numbers its requests 1, 2, 3, ... per login; a number
     * not above the last one seen is a replay of a captured request. */
    uint64_t cseq = req->has_seq ? req->seq : 0;
    if (req->body_case != JK__ENVELOPE__BODY_SESSION_STATE_REQUEST) {
        if (cseq <= s->client_seq) {
            s_ack(ex, route, rl, req, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                  JK__REJECT_REASON__REJECT_REASON_STALE, "request number already used (replay)", 0, 0);
            ex->stats.rejected++;
            ex->stats.replayed++;
            JK_WARN("candidate.replay", "session=%s seq=%llu last=%llu", s->entry->session_id,
                    (unsigned long long)cseq, (unsigned long long)s->client_seq);
            return NULL;
        }
        s->client_seq = cseq;
    }
    return s;
}

static void s_on_answer(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req)
{
    ex_session_t *s = s_authed(ex, route, rl, req);
    if (!s)
        return;
    const Jk__Answer *a = req->answer;
    jk_error_t err;
    long k = examd__slot_index(ex, s, a->item_id);
    jk_err_t rc = k < 0 ? jk_error_set(&err, JK_ERR_NOTFOUND, "item %s is not on this paper", a->item_id)
                        : s_check_response(ex, s, k, a->response, &err);
    uint64_t lsn = 0;
    if (rc == JK_OK) {
        s_answer_t sa = { JK__ANSWER__INIT };
        sa.ans.item_id = a->item_id;
        sa.ans.response = a->response;
        sa.ans.has_flagged = 1;
        sa.ans.flagged = a->has_flagged && a->flagged;
        sa.ans.has_change_counter = 1;
        sa.ans.change_counter = a->has_change_counter && a->change_counter > 0
                                    ? a->change_counter
                                    : s->slots[k].change_counter + 1;
        sa.ans.has_item_time_ms = a->has_item_time_ms;
        sa.ans.item_time_ms = a->item_time_ms;
        rc = examd__emit(ex, s, JK__KIND__KIND_ANSWER, s_fill_answer, &sa, &lsn, &err);
    }
    if (rc != JK_OK) {
        ex->stats.rejected++;
        ex->stats.late += rc == JK_ERR_LATE;
        s_ack(ex, route, rl, req, JK__ACK_STATUS__ACK_STATUS_REJECTED, s_reason_of(rc), err.msg, 0, 0);
        return;
    }
    ex->stats.answers++;
    s_ack(ex, route, rl, req, JK__ACK_STATUS__ACK_STATUS_APPLIED, 0, NULL, s->last_seq, lsn);
}

static void s_on_submit(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req)
{
    ex_session_t *s = s_authed(ex, route, rl, req);
    if (!s)
        return;
    uint64_t lsn = 0;
    jk_error_t err;
    jk_err_t rc = examd__submit(ex, s, JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE, NULL, NULL, &lsn, &err);
    if (rc != JK_OK) {
        ex->stats.rejected++;
        s_ack(ex, route, rl, req, JK__ACK_STATUS__ACK_STATUS_REJECTED, s_reason_of(rc), err.msg, 0, 0);
        return;
    }
    JK_INFO("session.submit", "session=%s candidate=%s events=%llu", s->entry->session_id,
            s->entry->admission, (unsigned long long)s->last_seq);
    s_ack(ex, route, rl, req, JK__ACK_STATUS__ACK_STATUS_APPLIED, 0, NULL, s->last_seq, lsn);
}

static void s_on_state(examd_t *ex, const uint8_t *route, size_t rl, const Jk__Envelope *req)
{
    ex_session_t *s = s_authed(ex, route, rl, req);
    if (!s)
        return;
    s_state_t st;
    if (!s_state_build(ex, s, &st)) {
        s_state_free(&st);
        return;
    }
    Jk__Envelope env = JK__ENVELOPE__INIT;
    env.has_kind = 1;
    env.kind = JK__KIND__KIND_SESSION_STATE;
    env.exam_id = ex->sitting_id;
    env.session_id = (char *)s->entry->session_id;
    env.candidate_id = (char *)s->entry->admission;
    env.body_case = JK__ENVELOPE__BODY_SESSION_STATE;
    env.session_state = &st.st;
    s_reply(ex, route, rl, &env, 0);
    s_state_free(&st);
}

void examd__candidate_recv(examd_t *ex)
{
    for (int budget = 0; budget < EXAMD_CANDIDATE_BUDGET; budget++) {
        zmq_msg_t f[5];
        size_t n = 0;
        bool too_many = false;
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, ex->candidates, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                if (n == 0)
                    return;
                break;
            }
            bool more = zmq_msg_more(&m);
            if (n < 5)
                f[n++] = m;
            else {
                too_many = true;
                zmq_msg_close(&m);
            }
            if (!more)
                break;
        }
        bool ok = !too_many && n == 4 && zmq_msg_size(&f[0]) <= 255 && zmq_msg_size(&f[1]) == 0 &&
                  zmq_msg_size(&f[2]) == 4 && memcmp(zmq_msg_data(&f[2]), "JK1C", 4) == 0;
        Jk__Envelope *env = NULL;
        jk_error_t err;
        if (!ok) {
            ex->stats.bad_frames++;
            JK_WARN("candidate.bad_frames", "frames=%zu", n);
        } else if (jk_codec_decode(zmq_msg_data(&f[3]), zmq_msg_size(&f[3]), &ex->limits, &env, &err) != JK_OK) {
            ex->stats.bad_frames++;
            JK_WARN("candidate.bad_envelope", "error=%s", jk_log_value(err.msg, s_logbuf));
        } else {
            const uint8_t *route = zmq_msg_data(&f[0]);
            size_t rl = zmq_msg_size(&f[0]);
            switch (env->body_case) {
            case JK__ENVELOPE__BODY_LOGIN_REQUEST:
                if (s_on_login(ex, route, rl, env))
                    env = NULL; /* the password check owns it now */
                break;
            case JK__ENVELOPE__BODY_ANSWER:
                s_on_answer(ex, route, rl, env);
                break;
            case JK__ENVELOPE__BODY_SUBMIT:
                s_on_submit(ex, route, rl, env);
                break;
            case JK__ENVELOPE__BODY_SESSION_STATE_REQUEST:
                s_on_state(ex, route, rl, env);
                break;
            case JK__ENVELOPE__BODY_HEARTBEAT:
                break;
            default:
                ex->stats.rejected++;
                s_ack(ex, route, rl, env, JK__ACK_STATUS__ACK_STATUS_REJECTED,
                      JK__REJECT_REASON__REJECT_REASON_NOT_PERMITTED,
                      "not a candidate request", 0, 0);
                break;
            }
            jk_codec_free(&env);
        }
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
    }
}
