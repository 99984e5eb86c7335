/*
 * examd staff endpoint: the proctors' and examiners' commands, as short text
 * lines, one per request (ROUTER; frames [identity, "", line] both ways).
 * It is bound to loopback or an IPC path only (checked at start), so only
 * consoles on the exam node's own machine reach it; the later web console
 * adds per-person logins in front of it.
 *
 *   release <hex key>                         open the package (chief proctor)
 *   authorize <target> <proctor>              target: a session id, room:<id>,
 *                                             session:<plan session id> or all
 *   pause <sid> <proctor> [reason...]
 *   resume <sid> <proctor>
 *   extend <sid> <minutes> <proctor> <reason...>
 *   force-submit <sid> <proctor> <reason...>
 *   void <sid> <proctor> <reason...>
 *   absent <sid> <proctor>
 *   relocate <sid> <proctor>                  let the candidate log in elsewhere
 *   score <sid> <task> <part> <examiner> <points> [arbitration]
 *   status | session <sid> | sessions [state]
 *
 * Replies: "ok ..." or "error <code> <message>". A command that makes events
 * is answered only when they are durable.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "examd.h"
#include "jk_log.h"
#include "jk_package.h"
#include "jk_text.h"

#define S_LINE_MAX 4096
#define S_TOKENS_MAX 24
#define S_REPLY_MAX 65536

static void s_reply(examd_t *ex, const uint8_t *route, size_t rl, uint64_t lsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void s_reply(examd_t *ex, const uint8_t *route, size_t rl, uint64_t lsn, const char *fmt, ...)
{
    char *buf = malloc(S_REPLY_MAX);
    if (!buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, S_REPLY_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n >= S_REPLY_MAX)
        n = S_REPLY_MAX - 1;
    examd__reply_when_durable(ex, lsn, 1, route, rl, (const uint8_t *)buf, (size_t)n);
    free(buf);
}

typedef struct {
    Jk__ProctorAction pa;
} s_action_t;

static void s_fill_action(Jk__Envelope *env, void *ud)
{
    env->body_case = JK__ENVELOPE__BODY_PROCTOR_ACTION;
    env->proctor_action = &((s_action_t *)ud)->pa;
}

typedef struct {
    Jk__ExaminerScore es;
} s_score_t;

static void s_fill_score(Jk__Envelope *env, void *ud)
{
    env->body_case = JK__ENVELOPE__BODY_EXAMINER_SCORE;
    env->examiner_score = &((s_score_t *)ud)->es;
}

static jk_err_t s_action(examd_t *ex, ex_session_t *s, Jk__ProctorActionKind kind, const char *proctor,
                         const char *reason, uint64_t ext_ms, uint64_t *lsn, jk_error_t *err)
{
    s_action_t a = { JK__PROCTOR_ACTION__INIT };
    a.pa.has_action = 1;
    a.pa.action = kind;
    a.pa.proctor_id = (char *)proctor;
    a.pa.reason = reason && *reason ? (char *)reason : NULL;
    if (ext_ms) {
        a.pa.has_extension_ms = 1;
        a.pa.extension_ms = ext_ms;
    }
    return examd__emit(ex, s, JK__KIND__KIND_PROCTOR_ACTION, s_fill_action, &a, lsn, err);
}

/* Joins tokens [from, n) with spaces into buf. */
static const char *s_rest(char **tok, int n, int from, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = from; i < n && o < size - 1; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i > from ? " " : "", tok[i]);
    return buf;
}

static bool s_id_ok(const char *s) { return s && jk_id_valid(s, JK_CODEC_ID_MAX); }

static void s_status(examd_t *ex, const uint8_t *route, size_t rl)
{
    size_t by_state[JK_SESSION_STATE_COUNT + 1] = { 0 };
    size_t reconciled = 0;
    for (size_t i = 0; i < ex->n_sessions; i++) {
        by_state[ex->sessions[i].state]++;
        reconciled += ex->sessions[i].reconciled;
    }
    s_reply(ex, route, rl, 0,
            "ok site=%s released=%s sessions=%zu registered=%zu authorized=%zu in_progress=%zu "
            "paused=%zu submitted=%zu voided=%zu absent=%zu reconciled=%zu outbox=%zu in_flight=%zu "
            "broker=%s events=%llu answers=%llu acks=%llu resends=%llu rejected=%llu "
            "center_rejects=%llu time_ups=%llu bad_frames=%llu forged=%llu replayed=%llu late=%llu "
            "replies_dropped=%llu broker_send_failed=%llu",
            ex->site_id, ex->released ? "yes" : "no", ex->n_sessions,
            by_state[JK_SESSION_REGISTERED], by_state[JK_SESSION_AUTHORIZED],
            by_state[JK_SESSION_IN_PROGRESS], by_state[JK_SESSION_PAUSED],
            by_state[JK_SESSION_SUBMITTED], by_state[JK_SESSION_VOIDED], by_state[JK_SESSION_ABSENT],
            reconciled, ex->out_count, ex->in_flight, ex->broker_alive ? "up" : "down",
            (unsigned long long)ex->stats.events, (unsigned long long)ex->stats.answers,
            (unsigned long long)ex->stats.acks, (unsigned long long)ex->stats.resends,
            (unsigned long long)ex->stats.rejected, (unsigned long long)ex->stats.center_rejects,
            (unsigned long long)ex->stats.time_ups, (unsigned long long)ex->stats.bad_frames,
            (unsigned long long)ex->stats.forged, (unsigned long long)ex->stats.replayed,
            (unsigned long long)ex->stats.late, (unsigned long long)ex->stats.replies_dropped,
            (unsigned long long)ex->stats.broker_send_failed);
}

static void s_session_info(examd_t *ex, const uint8_t *route, size_t rl, ex_session_t *s)
{
    size_t answered = 0;
    for (size_t k = 0; k < s->n_slots; k++)
        answered += s->slots[k].response != NULL;
    s_reply(ex, route, rl, 0,
            "ok session=%s candidate=%s room=%s seat=%d state=%s remaining_ms=%lld events=%llu "
            "answered=%zu/%zu extension_ms=%lld unacked=%u reconciled=%s",
            s->entry->session_id, s->entry->admission, s->room, s->entry->seat,
            jk_session_state_name(s->state),
            (long long)examd__remaining_ms(ex, s, jk_clock_wall_ms(ex->clock)),
            (unsigned long long)s->last_seq, answered, s->n_slots, (long long)s->extension_ms,
            s->unacked, s->reconciled ? "yes" : "no");
}

static void s_sessions(examd_t *ex, const uint8_t *route, size_t rl, const char *state)
{
    char *buf = malloc(S_REPLY_MAX);
    if (!buf)
        return;
    size_t o = (size_t)snprintf(buf, S_REPLY_MAX, "ok");
    jk_session_state_t want = state ? jk_session_state_parse(state) : (jk_session_state_t)0;
    for (size_t i = 0; i < ex->n_sessions && o < S_REPLY_MAX - 200; i++) {
        const ex_session_t *s = &ex->sessions[i];
        if (state && s->state != want)
            continue;
        o += (size_t)snprintf(buf + o, S_REPLY_MAX - o, " %s=%s", s->entry->session_id,
                              jk_session_state_name(s->state));
    }
    examd__reply_when_durable(ex, 0, 1, route, rl, (const uint8_t *)buf, o);
    free(buf);
}

static void s_command(examd_t *ex, const uint8_t *route, size_t rl, char *line)
{
    char *tok[S_TOKENS_MAX];
    int n = 0;
    for (char *p = strtok(line, " \t\r\n"); p && n < S_TOKENS_MAX; p = strtok(NULL, " \t\r\n"))
        tok[n++] = p;
    if (n == 0) {
        s_reply(ex, route, rl, 0, "error invalid empty command");
        return;
    }
    ex->stats.staff_commands++;
    const char *cmd = tok[0];
    jk_error_t err;
    jk_error_clear(&err);
    char reason[1024];

    if (strcmp(cmd, "release") == 0 && n == 2) {
        uint8_t key[32];
        if (jk_release_key_parse(tok[1], key, &err) != JK_OK ||
            examd__release(ex, key, true, &err) != JK_OK) {
            s_reply(ex, route, rl, 0, "error %s %s", jk_strerror(err.code), err.msg);
            return;
        }
        JK_INFO("package.release_local", "site=%s", ex->site_id);
        s_reply(ex, route, rl, jk_wal_next_lsn(ex->wal) - 1, "ok released sessions=%zu", ex->n_sessions);
        return;
    }
    if (strcmp(cmd, "status") == 0) {
        s_status(ex, route, rl);
        return;
    }
    if (!ex->released) {
        s_reply(ex, route, rl, 0, "error bad-state the package is not released yet");
        return;
    }
    if (strcmp(cmd, "sessions") == 0) {
        s_sessions(ex, route, rl, n > 1 ? tok[1] : NULL);
        return;
    }
    if (strcmp(cmd, "authorize") == 0 && n == 3 && s_id_ok(tok[2])) {
        const char *t = tok[1];
        uint64_t lsn = 0, last = 0;
        size_t done = 0, failed = 0;
        for (size_t i = 0; i < ex->n_sessions; i++) {
            ex_session_t *s = &ex->sessions[i];
            bool match = strcmp(t, "all") == 0 || strcmp(t, s->entry->session_id) == 0 ||
                         (strncmp(t, "room:", 5) == 0 && strcmp(t + 5, s->room) == 0) ||
                         (strncmp(t, "session:", 8) == 0 && strcmp(t + 8, s->plan->id) == 0);
            if (!match || s->state != JK_SESSION_REGISTERED)
                continue;
            if (s_action(ex, s, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_AUTHORIZE, tok[2], NULL, 0,
                         &lsn, &err) == JK_OK) {
                done++;
                last = lsn;
            } else {
                failed++;
            }
        }
        JK_INFO("staff.authorize", "target=%s proctor=%s sessions=%zu", t, tok[2], done);
        s_reply(ex, route, rl, last, "ok authorized=%zu failed=%zu", done, failed);
        return;
    }
    ex_session_t *s = n > 1 ? examd__session(ex, tok[1]) : NULL;
    if (!s) {
        s_reply(ex, route, rl, 0, "error not-found %s: no such command or session (try: status)",
                n > 1 ? tok[1] : cmd);
        return;
    }
    uint64_t lsn = 0;
    jk_err_t rc = JK_ERR_INVAL;
    if (strcmp(cmd, "session") == 0 && n == 2) {
        s_session_info(ex, route, rl, s);
        return;
    } else if (strcmp(cmd, "pause") == 0 && n >= 3 && s_id_ok(tok[2])) {
        rc = s_action(ex, s, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE, tok[2],
                      s_rest(tok, n, 3, reason, sizeof reason), 0, &lsn, &err);
    } else if (strcmp(cmd, "resume") == 0 && n == 3 && s_id_ok(tok[2])) {
        rc = s_action(ex, s, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_RESUME, tok[2], NULL, 0,
                      &lsn, &err);
    } else if (strcmp(cmd, "extend") == 0 && n >= 5 && s_id_ok(tok[3])) {
        char *end;
        long minutes = strtol(tok[2], &end, 10);
        if (*end || minutes < 1 || minutes > 240)
            rc = jk_error_set(&err, JK_ERR_RANGE, "minutes must be 1..240");
        else
            rc = s_action(ex, s, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME, tok[3],
                          s_rest(tok, n, 4, reason, sizeof reason), (uint64_t)minutes * 60000, &lsn,
                          &err);
    } else if (strcmp(cmd, "force-submit") == 0 && n >= 4 && s_id_ok(tok[2])) {
        rc = examd__submit(ex, s, JK__SUBMIT_REASON__SUBMIT_REASON_PROCTOR_FORCE, tok[2],
                           s_rest(tok, n, 3, reason, sizeof reason), &lsn, &err);
    } else if (strcmp(cmd, "void") == 0 && n >= 4 && s_id_ok(tok[2])) {
        rc = s_action(ex, s, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID, tok[2],
                      s_rest(tok, n, 3, reason, sizeof reason), 0, &lsn, &err);
    } else if (strcmp(cmd, "absent") == 0 && n == 3 && s_id_ok(tok[2])) {
        rc = s_action(ex, s, JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_MARK_ABSENT, tok[2], NULL,
                      0, &lsn, &err);
    } else if (strcmp(cmd, "relocate") == 0 && n == 3 && s_id_ok(tok[2])) {
        s->relocate_allowed = true;
        snprintf(s->relocate_by, sizeof s->relocate_by, "%s", tok[2]);
        s_reply(ex, route, rl, 0, "ok relocate allowed for %s", s->entry->session_id);
        return;
    } else if (strcmp(cmd, "score") == 0 && (n == 6 || n == 7) && s_id_ok(tok[2]) &&
               s_id_ok(tok[3]) && s_id_ok(tok[4])) {
        /* The part must be on this candidate's paper; points in 0..max. */
        const jk_sitting_part_t *part = NULL;
        for (size_t t = 0; t < s->entry->n_tasks && !part; t++) {
            if (strcmp(s->entry->tasks[t], tok[2]) != 0)
                continue;
            const jk_sitting_task_t *task = jk_sitting_task(ex->site, tok[2]);
            for (size_t q = 0; task && q < task->n_parts; q++)
                if (strcmp(task->parts[q].id, tok[3]) == 0)
                    part = &task->parts[q];
        }
        char *end;
        double pts = strtod(tok[5], &end);
        long centi = (long)(pts * 100 + (pts >= 0 ? 0.5 : -0.5));
        if (!part) {
            rc = jk_error_set(&err, JK_ERR_NOTFOUND, "task %s part %s is not on this paper", tok[2], tok[3]);
        } else if (*end || centi < 0 || centi > part->points_centi) {
            rc = jk_error_set(&err, JK_ERR_RANGE, "points must be 0..%.2f", part->points_centi / 100.0);
        } else {
            s_score_t sc = { JK__EXAMINER_SCORE__INIT };
            sc.es.task_id = tok[2];
            sc.es.part_id = tok[3];
            sc.es.examiner_id = tok[4];
            sc.es.has_points_centi = 1;
            sc.es.points_centi = (uint32_t)centi;
            sc.es.has_max_points_centi = 1;
            sc.es.max_points_centi = (uint32_t)part->points_centi;
            if (n == 7 && strcmp(tok[6], "arbitration") == 0) {
                sc.es.has_arbitration = 1;
                sc.es.arbitration = 1;
            }
            rc = examd__emit(ex, s, JK__KIND__KIND_EXAMINER_SCORE, s_fill_score, &sc, &lsn, &err);
        }
    } else {
        s_reply(ex, route, rl, 0, "error invalid '%s': unknown command or wrong arguments", cmd);
        return;
    }
    if (rc != JK_OK) {
        s_reply(ex, route, rl, 0, "error %s %s", jk_strerror(rc), err.msg);
        return;
    }
    JK_INFO("staff.command", "command=%s session=%s seq=%llu", cmd, s->entry->session_id,
            (unsigned long long)s->last_seq);
    s_reply(ex, route, rl, lsn, "ok %s session=%s seq=%llu state=%s", cmd, s->entry->session_id,
            (unsigned long long)s->last_seq, jk_session_state_name(s->state));
}

void examd__staff_recv(examd_t *ex)
{
    for (int budget = 0; budget < 256; budget++) {
        zmq_msg_t f[3];
        size_t n = 0;
        bool too_many = false;
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, ex->staff, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                if (n == 0)
                    return;
                break;
            }
            bool more = zmq_msg_more(&m);
            if (n < 3)
                f[n++] = m;
            else {
                too_many = true;
                zmq_msg_close(&m);
            }
            if (!more)
                break;
        }
        if (too_many || n != 3 || zmq_msg_size(&f[0]) > 255 || zmq_msg_size(&f[1]) != 0 ||
            zmq_msg_size(&f[2]) > S_LINE_MAX) {
            ex->stats.bad_frames++;
            if (n >= 1 && zmq_msg_size(&f[0]) <= 255)
                s_reply(ex, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), 0,
                        "error invalid expected [\"\", command] of at most %d bytes", S_LINE_MAX);
        } else {
            char line[S_LINE_MAX + 1];
            size_t len = zmq_msg_size(&f[2]);
            memcpy(line, zmq_msg_data(&f[2]), len);
            line[len] = '\0';
            bool printable = strlen(line) == len;
            for (size_t i = 0; i < len && printable; i++)
                printable = (unsigned char)line[i] >= 0x20 || line[i] == '\t' || line[i] == '\n';
            if (!printable)
                s_reply(ex, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), 0,
                        "error invalid control characters in command");
            else
                s_command(ex, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), line);
        }
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
    }
}
