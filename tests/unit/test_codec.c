/*
 * Unit tests for jk_codec: round trips, hostile bytes, every required
 * field, ranges, text, ids, the auth tag, hashes, and a long random run.
 *
 * Design note.
 *  - Samples: one or more valid envelopes per kind, built by hand from the
 *    generated structs (in static storage, so a builder can return a
 *    pointer). Each sample lists the field paths the protocol says are
 *    required *for that sample*, written from docs/protocol.md and not
 *    derived from the validator.
 *  - The missing-field test is generic: it walks every field present in a
 *    decoded sample (with the protobuf-c descriptors), clears that one
 *    field in a fresh copy, and checks that validation fails with
 *    JK_ERR_MISSING naming exactly that path when the path is in the
 *    sample's required list, and passes otherwise. So every required field
 *    is tested, and every field the list calls optional really is.
 *  - The random test decodes 1,000,000 random byte strings from a fixed
 *    seed and 200,000+ mutations of the valid samples, counting what raw
 *    protobuf-c unpack accepts and what the codec accepts, and prints the
 *    counts. Random strings must never be accepted; accepted mutations must
 *    re-encode to exactly their bytes. Crashes, leaks and undefined
 *    behaviour are the sanitizer build's to catch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jk_codec.h"

#define T0 UINT64_C(1781000000000) /* 2026-06-09, inside the default window */

static const uint8_t s_key[32] = {
    0x6a, 0x69, 0x6b, 0x61, 0x6f, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30,
    0x31, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

static uint8_t s_digest_a[32] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                 16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static uint8_t s_digest_b[32] = {0xbb, 9, 8, 7};
static uint8_t s_token[24] = {0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b,
                              0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87};
static uint8_t s_credential[] = "seat-17-pin-4831";
static uint8_t s_pkg_key[32] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                                0xcc, 0xdd, 0xee, 0xff, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56, 0x67,
                                0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf0, 0x0f};

/* ---------------------------------------------------------------------- */
/* Sample builders.                                                         */

static void s_header(Jk__Envelope *e, Jk__Kind kind, bool session_event)
{
    *e = (Jk__Envelope)JK__ENVELOPE__INIT;
    e->has_schema_version = 1;
    e->schema_version = JK_SCHEMA_VERSION;
    e->has_kind = 1;
    e->kind = kind;
    e->key_id = "examd-0101.k1";
    e->node_id = "examd-0101";
    e->has_message_id = 1;
    e->message_id = 4242;
    e->has_sent_time_ms = 1;
    e->sent_time_ms = T0 + 1500;
    e->body_case = (Jk__Envelope__BodyCase)(100 + kind);
    if (session_event) {
        e->exam_id = "E2026-06";
        e->site_id = "S0101";
        e->room_id = "R03";
        e->session_id = "SES-000123-T";
        e->candidate_id = "C320102199001011234";
        e->has_seq = 1;
        e->seq = 7;
        e->has_event_time_ms = 1;
        e->event_time_ms = T0;
    }
}

static void s_ids(Jk__Envelope *e)
{
    e->exam_id = "E2026-06";
    e->site_id = "S0101";
    e->room_id = "R03";
    e->session_id = "SES-000123-T";
    e->candidate_id = "C320102199001011234";
}

static Jk__Envelope *b_login_request(void)
{
    static Jk__Envelope e;
    static Jk__LoginRequest b;
    s_header(&e, JK__KIND__KIND_LOGIN_REQUEST, false);
    b = (Jk__LoginRequest)JK__LOGIN_REQUEST__INIT;
    b.admission_no = "2026010100123";
    b.has_credential = 1;
    b.credential.data = s_credential;
    b.credential.len = sizeof s_credential - 1;
    b.workstation_id = "WS-R03-17";
    b.client_version = "1.0.0";
    e.login_request = &b;
    return &e;
}

/* The sample paper: five items of 20 points, one of each kind a candidate
 * answers on the machine. */
static Jk__Paper *s_paper(void)
{
    static Jk__Paper p;
    static Jk__PaperItem it[5], *itp[5];
    static Jk__Option o[8], *op1[4], *op2[4];
    static Jk__FormFieldSpec ff[2], *ffp[2];
    static char *choices[] = {"城镇职工", "城乡居民"};
    static const char *otext[8] = {"参保登记", "缴费申报", "待遇核定", "转移接续",
                                   "劳动合同", "工资支付", "工时休假", "社会保险"};
    static const uint32_t oid1[4] = {3, 1, 4, 2}, oid2[4] = {2, 4, 1, 3};
    p = (Jk__Paper)JK__PAPER__INIT;
    p.paper_id = "P-L4-T-007";
    p.has_exam = 1;
    p.exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
    p.has_level = 1;
    p.level = 4;
    p.title = "劳动保障协理员（四级）理论知识考试";
    p.has_duration_ms = 1;
    p.duration_ms = 90u * 60u * 1000u;
    p.has_total_points_centi = 1;
    p.total_points_centi = 10000;
    static const Jk__ItemType types[5] = {
        JK__ITEM_TYPE__ITEM_TYPE_JUDGMENT, JK__ITEM_TYPE__ITEM_TYPE_SINGLE_CHOICE,
        JK__ITEM_TYPE__ITEM_TYPE_MULTIPLE_CHOICE, JK__ITEM_TYPE__ITEM_TYPE_WRITTEN,
        JK__ITEM_TYPE__ITEM_TYPE_SIMULATED_OPERATION};
    static const char *ids[5] = {"I-0001", "I-0002", "I-0003", "I-0004", "I-0005"};
    static const char *stems[5] = {
        "劳动保障协理员应当遵守职业道德。", "下列哪一项属于社会保险登记业务？",
        "下列哪些属于劳动关系协调的内容？", "简述失业保险待遇的申领程序。",
        "根据材料填写社会保险参保登记表。"};
    for (int i = 0; i < 5; i++) {
        it[i] = (Jk__PaperItem)JK__PAPER_ITEM__INIT;
        it[i].item_id = (char *)ids[i];
        it[i].has_number = 1;
        it[i].number = (uint32_t)i + 1;
        it[i].has_type = 1;
        it[i].type = types[i];
        it[i].stem = (char *)stems[i];
        it[i].has_points_centi = 1;
        it[i].points_centi = 2000;
        itp[i] = &it[i];
    }
    it[0].section = "一、判断题";
    for (int i = 0; i < 8; i++) {
        o[i] = (Jk__Option)JK__OPTION__INIT;
        o[i].has_option_id = 1;
        o[i].option_id = i < 4 ? oid1[i] : oid2[i - 4];
        o[i].text = (char *)otext[i];
        if (i < 4)
            op1[i] = &o[i];
        else
            op2[i - 4] = &o[i];
    }
    it[1].n_options = 4;
    it[1].options = op1;
    it[2].n_options = 4;
    it[2].options = op2;
    ff[0] = (Jk__FormFieldSpec)JK__FORM_FIELD_SPEC__INIT;
    ff[0].name = "insured_name";
    ff[0].label = "参保人姓名";
    ff[0].has_input = 1;
    ff[0].input = JK__FORM_INPUT__FORM_INPUT_TEXT;
    ff[0].has_max_chars = 1;
    ff[0].max_chars = 32;
    ff[1] = (Jk__FormFieldSpec)JK__FORM_FIELD_SPEC__INIT;
    ff[1].name = "scheme";
    ff[1].label = "参保类型";
    ff[1].has_input = 1;
    ff[1].input = JK__FORM_INPUT__FORM_INPUT_SELECT;
    ff[1].n_choices = 2;
    ff[1].choices = choices;
    ffp[0] = &ff[0];
    ffp[1] = &ff[1];
    it[4].n_form_fields = 2;
    it[4].form_fields = ffp;
    p.n_items = 5;
    p.items = itp;
    return &p;
}

static Jk__Response *s_selection_response(void)
{
    static Jk__Response r;
    static Jk__Selection s;
    static uint32_t ids[2] = {4, 2};
    r = (Jk__Response)JK__RESPONSE__INIT;
    s = (Jk__Selection)JK__SELECTION__INIT;
    s.n_option_ids = 2;
    s.option_ids = ids;
    r.value_case = JK__RESPONSE__VALUE_SELECTION;
    r.selection = &s;
    return &r;
}

static Jk__SessionState *s_state(void)
{
    static Jk__SessionState st;
    static Jk__ItemState is[2], *isp[2];
    static Jk__Response jr;
    st = (Jk__SessionState)JK__SESSION_STATE__INIT;
    st.has_status = 1;
    st.status = JK__SESSION_STATUS__SESSION_STATUS_IN_PROGRESS;
    st.has_remaining_ms = 1;
    st.remaining_ms = 3210000;
    st.has_last_seq = 1;
    st.last_seq = 12;
    st.paper_id = "P-L4-T-007";
    st.workstation_id = "WS-R03-17";
    st.has_extension_total_ms = 1;
    st.extension_total_ms = 600000;
    jr = (Jk__Response)JK__RESPONSE__INIT;
    jr.value_case = JK__RESPONSE__VALUE_JUDGMENT;
    jr.judgment = 1;
    is[0] = (Jk__ItemState)JK__ITEM_STATE__INIT;
    is[0].item_id = "I-0001";
    is[0].response = &jr;
    is[0].has_flagged = 1;
    is[0].has_change_counter = 1;
    is[0].change_counter = 1;
    is[0].has_seq = 1;
    is[0].seq = 3;
    is[1] = (Jk__ItemState)JK__ITEM_STATE__INIT;
    is[1].item_id = "I-0003";
    is[1].response = s_selection_response();
    is[1].has_flagged = 1;
    is[1].flagged = 1;
    is[1].has_change_counter = 1;
    is[1].change_counter = 4;
    is[1].has_seq = 1;
    is[1].seq = 12;
    isp[0] = &is[0];
    isp[1] = &is[1];
    st.n_items = 2;
    st.items = isp;
    return &st;
}

static Jk__Envelope *b_login_reply_ok(void)
{
    static Jk__Envelope e;
    static Jk__LoginReply b;
    s_header(&e, JK__KIND__KIND_LOGIN_REPLY, false);
    s_ids(&e);
    b = (Jk__LoginReply)JK__LOGIN_REPLY__INIT;
    b.has_status = 1;
    b.status = JK__LOGIN_STATUS__LOGIN_STATUS_OK;
    b.message = "欢迎";
    b.candidate_name = "张三";
    b.has_session_token = 1;
    b.session_token.data = s_token;
    b.session_token.len = sizeof s_token;
    b.paper = s_paper();
    b.has_remaining_ms = 1;
    b.remaining_ms = 3210000;
    b.has_session_status = 1;
    b.session_status = JK__SESSION_STATUS__SESSION_STATUS_IN_PROGRESS;
    b.state = s_state();
    e.login_reply = &b;
    return &e;
}

static Jk__Envelope *b_login_reply_denied(void)
{
    static Jk__Envelope e;
    static Jk__LoginReply b;
    s_header(&e, JK__KIND__KIND_LOGIN_REPLY, false);
    b = (Jk__LoginReply)JK__LOGIN_REPLY__INIT;
    b.has_status = 1;
    b.status = JK__LOGIN_STATUS__LOGIN_STATUS_LOCKED;
    b.message = "登录失败次数过多，请联系监考员";
    b.has_retry_after_ms = 1;
    b.retry_after_ms = 300000;
    e.login_reply = &b;
    return &e;
}

static Jk__Envelope *b_session_open(void)
{
    static Jk__Envelope e;
    static Jk__SessionOpen b;
    s_header(&e, JK__KIND__KIND_SESSION_OPEN, true);
    e.seq = 2;
    b = (Jk__SessionOpen)JK__SESSION_OPEN__INIT;
    b.paper_id = "P-L4-T-007";
    b.has_paper_digest = 1;
    b.paper_digest.data = s_digest_a;
    b.paper_digest.len = 32;
    b.has_exam = 1;
    b.exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
    b.has_level = 1;
    b.level = 4;
    b.has_duration_ms = 1;
    b.duration_ms = 5400000;
    b.workstation_id = "WS-R03-17";
    b.has_item_count = 1;
    b.item_count = 5;
    e.session_open = &b;
    return &e;
}

static Jk__Envelope *b_session_resume(void)
{
    static Jk__Envelope e;
    static Jk__SessionResume b;
    s_header(&e, JK__KIND__KIND_SESSION_RESUME, true);
    b = (Jk__SessionResume)JK__SESSION_RESUME__INIT;
    b.old_workstation_id = "WS-R03-17";
    b.new_workstation_id = "WS-R03-30";
    b.proctor_id = "PR-0007";
    b.reason = "工作站死机";
    b.has_last_seen_seq = 1;
    b.last_seen_seq = 6;
    e.session_resume = &b;
    return &e;
}

static Jk__Envelope *s_answer_base(Jk__Answer *b)
{
    static Jk__Envelope e;
    s_header(&e, JK__KIND__KIND_ANSWER, true);
    *b = (Jk__Answer)JK__ANSWER__INIT;
    b->item_id = "I-0003";
    b->has_flagged = 1;
    b->has_change_counter = 1;
    b->change_counter = 3;
    e.answer = b;
    return &e;
}

static Jk__Envelope *b_answer_selection(void)
{
    static Jk__Answer b;
    Jk__Envelope *e = s_answer_base(&b);
    b.response = s_selection_response();
    b.flagged = 1;
    b.has_item_time_ms = 1;
    b.item_time_ms = 48000;
    return e;
}

static Jk__Envelope *b_answer_judgment(void)
{
    static Jk__Answer b;
    static Jk__Response r;
    Jk__Envelope *e = s_answer_base(&b);
    r = (Jk__Response)JK__RESPONSE__INIT;
    r.value_case = JK__RESPONSE__VALUE_JUDGMENT;
    r.judgment = 0;
    b.item_id = "I-0001";
    b.response = &r;
    return e;
}

static Jk__Envelope *b_answer_text(void)
{
    static Jk__Answer b;
    static Jk__Response r;
    Jk__Envelope *e = s_answer_base(&b);
    r = (Jk__Response)JK__RESPONSE__INIT;
    r.value_case = JK__RESPONSE__VALUE_TEXT;
    r.text = "一、提交申请；\n二、审核材料；\n三、核定待遇并发放。";
    b.item_id = "I-0004";
    b.response = &r;
    return e;
}

static Jk__Envelope *b_answer_form(void)
{
    static Jk__Answer b;
    static Jk__Response r;
    static Jk__FormResponse f;
    static Jk__FormValue v[2], *vp[2];
    Jk__Envelope *e = s_answer_base(&b);
    r = (Jk__Response)JK__RESPONSE__INIT;
    f = (Jk__FormResponse)JK__FORM_RESPONSE__INIT;
    v[0] = (Jk__FormValue)JK__FORM_VALUE__INIT;
    v[0].name = "insured_name";
    v[0].value = "李四";
    v[1] = (Jk__FormValue)JK__FORM_VALUE__INIT;
    v[1].name = "scheme";
    v[1].value = "";
    vp[0] = &v[0];
    vp[1] = &v[1];
    f.n_fields = 2;
    f.fields = vp;
    r.value_case = JK__RESPONSE__VALUE_FORM;
    r.form = &f;
    b.item_id = "I-0005";
    b.response = &r;
    return e;
}

static Jk__Envelope *b_answer_cleared(void)
{
    static Jk__Answer b;
    Jk__Envelope *e = s_answer_base(&b);
    b.flagged = 1;
    b.change_counter = 9;
    return e;
}

static Jk__Envelope *b_submit_force(void)
{
    static Jk__Envelope e;
    static Jk__Submit b;
    s_header(&e, JK__KIND__KIND_SUBMIT, true);
    e.seq = 41;
    b = (Jk__Submit)JK__SUBMIT__INIT;
    b.has_reason = 1;
    b.reason = JK__SUBMIT_REASON__SUBMIT_REASON_PROCTOR_FORCE;
    b.has_final_event_count = 1;
    b.final_event_count = 40;
    b.has_digest = 1;
    b.digest.data = s_digest_a;
    b.digest.len = 32;
    b.proctor_id = "PR-0007";
    b.reason_text = "考生违纪，监考员强制交卷";
    b.has_answered_count = 1;
    b.answered_count = 4;
    e.submit = &b;
    return &e;
}

static Jk__Envelope *b_submit_candidate(void)
{
    static Jk__Envelope e;
    static Jk__Submit b;
    s_header(&e, JK__KIND__KIND_SUBMIT, true);
    e.seq = 1;
    b = (Jk__Submit)JK__SUBMIT__INIT;
    b.has_reason = 1;
    b.reason = JK__SUBMIT_REASON__SUBMIT_REASON_CANDIDATE;
    b.has_final_event_count = 1;
    b.final_event_count = 0;
    b.has_digest = 1;
    b.digest.data = s_digest_b;
    b.digest.len = 32;
    e.submit = &b;
    return &e;
}

static Jk__Envelope *b_ack_rejected(void)
{
    static Jk__Envelope e;
    static Jk__Ack b;
    s_header(&e, JK__KIND__KIND_ACK, false);
    e.node_id = "scorerd-3";
    e.session_id = "SES-000123-T";
    b = (Jk__Ack)JK__ACK__INIT;
    b.has_acked_message_id = 1;
    b.acked_message_id = 4242;
    b.has_acked_seq = 1;
    b.acked_seq = 7;
    b.has_status = 1;
    b.status = JK__ACK_STATUS__ACK_STATUS_REJECTED;
    b.has_reason = 1;
    b.reason = JK__REJECT_REASON__REJECT_REASON_AFTER_DEADLINE;
    b.reason_text = "answer after the deadline";
    e.ack = &b;
    return &e;
}

static Jk__Envelope *b_ack_retry(void)
{
    static Jk__Envelope e;
    static Jk__Ack b;
    s_header(&e, JK__KIND__KIND_ACK, false);
    b = (Jk__Ack)JK__ACK__INIT;
    b.has_acked_message_id = 1;
    b.acked_message_id = 4243;
    b.has_status = 1;
    b.status = JK__ACK_STATUS__ACK_STATUS_RETRY_LATER;
    b.has_retry_after_ms = 1;
    b.retry_after_ms = 250;
    e.ack = &b;
    return &e;
}

static Jk__Envelope *b_heartbeat(void)
{
    static Jk__Envelope e;
    static Jk__Heartbeat b;
    s_header(&e, JK__KIND__KIND_HEARTBEAT, false);
    e.key_id = NULL;
    b = (Jk__Heartbeat)JK__HEARTBEAT__INIT;
    b.has_interval_ms = 1;
    b.interval_ms = 1000;
    b.has_in_flight = 1;
    b.in_flight = 12;
    e.heartbeat = &b;
    return &e;
}

static Jk__Envelope *b_worker_ready(void)
{
    static Jk__Envelope e;
    static Jk__WorkerReady b;
    s_header(&e, JK__KIND__KIND_WORKER_READY, false);
    e.node_id = "scorerd-3";
    b = (Jk__WorkerReady)JK__WORKER_READY__INIT;
    b.service = "score";
    b.has_capacity = 1;
    b.capacity = 256;
    b.software_version = "0.1.0";
    e.worker_ready = &b;
    return &e;
}

static Jk__Envelope *b_credit(void)
{
    static Jk__Envelope e;
    static Jk__Credit b;
    s_header(&e, JK__KIND__KIND_CREDIT, false);
    b = (Jk__Credit)JK__CREDIT__INIT;
    b.has_credit = 1;
    b.credit = 64;
    e.credit = &b;
    return &e;
}

static Jk__Envelope *b_disconnect(void)
{
    static Jk__Envelope e;
    static Jk__Disconnect b;
    s_header(&e, JK__KIND__KIND_DISCONNECT, false);
    b = (Jk__Disconnect)JK__DISCONNECT__INIT;
    b.reason = "operator stop";
    b.has_reconnect_after_ms = 1;
    b.reconnect_after_ms = 0;
    e.disconnect = &b;
    return &e;
}

static Jk__Envelope *b_proctor(Jk__ProctorActionKind action)
{
    static Jk__Envelope e;
    static Jk__ProctorAction b;
    s_header(&e, JK__KIND__KIND_PROCTOR_ACTION, true);
    b = (Jk__ProctorAction)JK__PROCTOR_ACTION__INIT;
    b.has_action = 1;
    b.action = action;
    b.proctor_id = "PR-0007";
    if (action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME) {
        b.reason = "停电 10 分钟";
        b.has_extension_ms = 1;
        b.extension_ms = 600000;
    } else if (action == JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID) {
        b.reason = "携带违规物品";
    }
    e.proctor_action = &b;
    return &e;
}

static Jk__Envelope *b_proctor_extend(void)
{
    return b_proctor(JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_EXTEND_TIME);
}
static Jk__Envelope *b_proctor_void(void)
{
    return b_proctor(JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_VOID);
}
static Jk__Envelope *b_proctor_pause(void)
{
    return b_proctor(JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_PAUSE);
}

static Jk__Envelope *b_examiner_score(void)
{
    static Jk__Envelope e;
    static Jk__ExaminerScore b;
    s_header(&e, JK__KIND__KIND_EXAMINER_SCORE, true);
    e.session_id = "SES-000123-S";
    b = (Jk__ExaminerScore)JK__EXAMINER_SCORE__INIT;
    b.task_id = "K-ORAL-02";
    b.part_id = "p2";
    b.examiner_id = "EX-0031";
    b.has_points_centi = 1;
    b.points_centi = 1250;
    b.has_max_points_centi = 1;
    b.max_points_centi = 1500;
    b.has_arbitration = 1;
    b.arbitration = 0;
    b.comment = "表述基本准确";
    e.examiner_score = &b;
    return &e;
}

static Jk__Envelope *b_result(void)
{
    static Jk__Envelope e;
    static Jk__Result b;
    static Jk__ExamResult th, sk;
    static Jk__AreaScore a[2], *ap[2];
    s_header(&e, JK__KIND__KIND_RESULT, false);
    e.node_id = "scorerd-3";
    e.exam_id = "E2026-06";
    e.candidate_id = "C320102199001011234";
    e.has_event_time_ms = 1;
    e.event_time_ms = T0 + 86400000;
    b = (Jk__Result)JK__RESULT__INIT;
    b.has_level = 1;
    b.level = 4;
    th = (Jk__ExamResult)JK__EXAM_RESULT__INIT;
    th.has_exam = 1;
    th.exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY;
    th.has_status = 1;
    th.status = JK__RESULT_STATUS__RESULT_STATUS_SCORED;
    th.session_id = "SES-000123-T";
    th.has_total_centi = 1;
    th.total_centi = 7250;
    th.has_passed = 1;
    th.passed = 1;
    a[0] = (Jk__AreaScore)JK__AREA_SCORE__INIT;
    a[0].area_code = "2.1";
    a[0].has_points_centi = 1;
    a[0].points_centi = 4000;
    a[0].has_max_points_centi = 1;
    a[0].max_points_centi = 5000;
    a[1] = (Jk__AreaScore)JK__AREA_SCORE__INIT;
    a[1].area_code = "3";
    a[1].has_points_centi = 1;
    a[1].points_centi = 3250;
    a[1].has_max_points_centi = 1;
    a[1].max_points_centi = 5000;
    ap[0] = &a[0];
    ap[1] = &a[1];
    th.n_areas = 2;
    th.areas = ap;
    sk = (Jk__ExamResult)JK__EXAM_RESULT__INIT;
    sk.has_exam = 1;
    sk.exam = JK__EXAM_TYPE__EXAM_TYPE_SKILLS;
    sk.has_status = 1;
    sk.status = JK__RESULT_STATUS__RESULT_STATUS_SCORED;
    sk.has_total_centi = 1;
    sk.total_centi = 6000;
    sk.has_passed = 1;
    sk.passed = 1;
    b.theory = &th;
    b.skills = &sk;
    b.has_passed = 1;
    b.passed = 1;
    e.result = &b;
    return &e;
}

static Jk__Envelope *b_reconcile_request(void)
{
    static Jk__Envelope e;
    static Jk__ReconcileRequest b;
    s_header(&e, JK__KIND__KIND_RECONCILE_REQUEST, false);
    e.exam_id = "E2026-06";
    e.site_id = "S0101";
    e.session_id = "SES-000123-T";
    b = (Jk__ReconcileRequest)JK__RECONCILE_REQUEST__INIT;
    b.has_event_count = 1;
    b.event_count = 41;
    b.has_digest = 1;
    b.digest.data = s_digest_a;
    b.digest.len = 32;
    e.reconcile_request = &b;
    return &e;
}

static Jk__Envelope *b_reconcile_reply(void)
{
    static Jk__Envelope e;
    static Jk__ReconcileReply b;
    static uint64_t missing[2] = {3, 39};
    s_header(&e, JK__KIND__KIND_RECONCILE_REPLY, false);
    e.node_id = "center-1";
    e.exam_id = "E2026-06";
    e.site_id = "S0101";
    e.session_id = "SES-000123-T";
    b = (Jk__ReconcileReply)JK__RECONCILE_REPLY__INIT;
    b.has_request_message_id = 1;
    b.request_message_id = 4242;
    b.has_status = 1;
    b.status = JK__RECONCILE_STATUS__RECONCILE_STATUS_MISMATCH;
    b.has_center_event_count = 1;
    b.center_event_count = 39;
    b.has_center_digest = 1;
    b.center_digest.data = s_digest_b;
    b.center_digest.len = 32;
    b.n_missing_seq = 2;
    b.missing_seq = missing;
    e.reconcile_reply = &b;
    return &e;
}

static Jk__Envelope *b_package_release(void)
{
    static Jk__Envelope e;
    static Jk__PackageRelease b;
    s_header(&e, JK__KIND__KIND_PACKAGE_RELEASE, false);
    e.node_id = "center-1";
    e.exam_id = "E2026-06";
    e.site_id = "S0101";
    b = (Jk__PackageRelease)JK__PACKAGE_RELEASE__INIT;
    b.package_id = "PKG-E2026-06-S0101";
    b.key_id = "pk-2026-06-a";
    b.has_cipher = 1;
    b.cipher = JK__CIPHER__CIPHER_AES_256_GCM;
    b.has_key = 1;
    b.key.data = s_pkg_key;
    b.key.len = 32;
    b.has_package_digest = 1;
    b.package_digest.data = s_digest_a;
    b.package_digest.len = 32;
    b.has_not_before_time_ms = 1;
    b.not_before_time_ms = T0;
    e.package_release = &b;
    return &e;
}

static Jk__Envelope *b_session_state(void)
{
    static Jk__Envelope e;
    s_header(&e, JK__KIND__KIND_SESSION_STATE, false);
    e.node_id = "center-1";
    e.exam_id = "E2026-06";
    e.session_id = "SES-000123-T";
    e.candidate_id = "C320102199001011234";
    e.session_state = s_state();
    return &e;
}

static Jk__Envelope *b_state_request(void)
{
    static Jk__Envelope e;
    static Jk__SessionStateRequest b;
    s_header(&e, JK__KIND__KIND_SESSION_STATE_REQUEST, false);
    e.exam_id = "E2026-06";
    e.session_id = "SES-000123-T";
    b = (Jk__SessionStateRequest)JK__SESSION_STATE_REQUEST__INIT;
    b.has_include_answers = 1;
    b.include_answers = 1;
    e.session_state_request = &b;
    return &e;
}

static Jk__Envelope *b_monitor_event(void)
{
    static Jk__Envelope e;
    static Jk__MonitorEvent b;
    static Jk__Actor actor;
    static Jk__CaliperObject obj;
    s_header(&e, JK__KIND__KIND_MONITOR_EVENT, false);
    e.node_id = "broker-1";
    e.exam_id = "E2026-06";
    e.site_id = "S0101";
    e.room_id = "R03";
    b = (Jk__MonitorEvent)JK__MONITOR_EVENT__INIT;
    b.has_type = 1;
    b.type = JK__CALIPER_TYPE__CALIPER_TYPE_PROCTOR_EVENT;
    b.has_action = 1;
    b.action = JK__CALIPER_ACTION__CALIPER_ACTION_EXTENDED;
    actor = (Jk__Actor)JK__ACTOR__INIT;
    actor.has_role = 1;
    actor.role = JK__ACTOR_ROLE__ACTOR_ROLE_PROCTOR;
    actor.id = "PR-0007";
    obj = (Jk__CaliperObject)JK__CALIPER_OBJECT__INIT;
    obj.has_type = 1;
    obj.type = JK__OBJECT_TYPE__OBJECT_TYPE_ASSESSMENT;
    obj.id = "SES-000123-T";
    b.actor = &actor;
    b.object = &obj;
    b.has_event_time_ms = 1;
    b.event_time_ms = T0;
    b.ed_app = "examd-0101";
    b.has_source_kind = 1;
    b.source_kind = JK__KIND__KIND_PROCTOR_ACTION;
    b.has_source_seq = 1;
    b.source_seq = 7;
    b.has_stream_epoch = 1;
    b.stream_epoch = T0 - 3600000;
    b.has_stream_seq = 1;
    b.stream_seq = 1234;
    b.has_extension_ms = 1;
    b.extension_ms = 600000;
    e.monitor_event = &b;
    return &e;
}

static Jk__Envelope *b_package_request(void)
{
    static Jk__Envelope e;
    static Jk__PackageRequest b;
    s_header(&e, JK__KIND__KIND_PACKAGE_REQUEST, false);
    e.exam_id = "E2026-06";
    e.site_id = "S0101";
    b = (Jk__PackageRequest)JK__PACKAGE_REQUEST__INIT;
    b.package_id = "PKG-E2026-06-S0101";
    e.package_request = &b;
    return &e;
}

/* ---------------------------------------------------------------------- */
/* The sample table, with each sample's required fields.                    */

#define ENV_COMMON                                                             \
    "envelope.schema_version", "envelope.kind", "envelope.node_id", "envelope.message_id", \
        "envelope.sent_time_ms", "envelope.body"
#define ENV_SESSION                                                            \
    ENV_COMMON, "envelope.exam_id", "envelope.site_id", "envelope.room_id",   \
        "envelope.session_id", "envelope.candidate_id", "envelope.seq", "envelope.event_time_ms"
#define PAPER_ITEM(i)                                                          \
    "login_reply.paper.items[" #i "].item_id", "login_reply.paper.items[" #i "].number", \
        "login_reply.paper.items[" #i "].type", "login_reply.paper.items[" #i "].stem", \
        "login_reply.paper.items[" #i "].points_centi"
#define OPTION(i, j)                                                           \
    "login_reply.paper.items[" #i "].options[" #j "].option_id",                \
        "login_reply.paper.items[" #i "].options[" #j "].text"
#define STATE_ITEM(root, i)                                                    \
    root ".items[" #i "].item_id", root ".items[" #i "].flagged",               \
        root ".items[" #i "].change_counter", root ".items[" #i "].seq",        \
        root ".items[" #i "].response.value"
#define STATE(root)                                                            \
    root ".status", root ".remaining_ms", root ".last_seq", STATE_ITEM(root, 0), \
        STATE_ITEM(root, 1), root ".items[1].response.selection.option_ids"

typedef struct {
    const char *name;
    Jk__Envelope *(*build)(void);
    const char *const *required; /* NULL-terminated */
} sample_t;

static const char *const r_login_request[] = {ENV_COMMON, "login_request.admission_no",
                                              "login_request.credential",
                                              "login_request.workstation_id", NULL};
static const char *const r_login_reply_ok[] = {
    ENV_COMMON, "envelope.exam_id", "envelope.site_id", "envelope.room_id", "envelope.session_id",
    "envelope.candidate_id", "login_reply.status", "login_reply.session_token",
    "login_reply.paper", "login_reply.remaining_ms", "login_reply.session_status",
    "login_reply.paper.paper_id", "login_reply.paper.exam", "login_reply.paper.level",
    "login_reply.paper.duration_ms", "login_reply.paper.total_points_centi",
    "login_reply.paper.items", PAPER_ITEM(0), PAPER_ITEM(1), PAPER_ITEM(2), PAPER_ITEM(3),
    PAPER_ITEM(4), "login_reply.paper.items[1].options", "login_reply.paper.items[2].options",
    OPTION(1, 0), OPTION(1, 1), OPTION(1, 2), OPTION(1, 3), OPTION(2, 0), OPTION(2, 1),
    OPTION(2, 2), OPTION(2, 3), "login_reply.paper.items[4].form_fields",
    "login_reply.paper.items[4].form_fields[0].name",
    "login_reply.paper.items[4].form_fields[0].label",
    "login_reply.paper.items[4].form_fields[0].input",
    "login_reply.paper.items[4].form_fields[1].name",
    "login_reply.paper.items[4].form_fields[1].label",
    "login_reply.paper.items[4].form_fields[1].input",
    "login_reply.paper.items[4].form_fields[1].choices", STATE("login_reply.state"), NULL};
static const char *const r_login_reply_denied[] = {ENV_COMMON, "login_reply.status", NULL};
static const char *const r_session_open[] = {
    ENV_SESSION, "session_open.paper_id", "session_open.paper_digest", "session_open.exam",
    "session_open.level", "session_open.duration_ms", "session_open.workstation_id",
    "session_open.item_count", NULL};
static const char *const r_session_resume[] = {ENV_SESSION, "session_resume.new_workstation_id",
                                               "session_resume.proctor_id", NULL};
static const char *const r_answer_selection[] = {
    ENV_SESSION, "answer.item_id", "answer.flagged", "answer.change_counter",
    "answer.response.value", "answer.response.selection.option_ids", NULL};
static const char *const r_answer_other[] = {ENV_SESSION, "answer.item_id", "answer.flagged",
                                             "answer.change_counter", "answer.response.value",
                                             NULL};
static const char *const r_answer_form[] = {
    ENV_SESSION, "answer.item_id", "answer.flagged", "answer.change_counter",
    "answer.response.value", "answer.response.form.fields", "answer.response.form.fields[0].name",
    "answer.response.form.fields[0].value", "answer.response.form.fields[1].name",
    "answer.response.form.fields[1].value", NULL};
static const char *const r_answer_cleared[] = {ENV_SESSION, "answer.item_id", "answer.flagged",
                                               "answer.change_counter", NULL};
static const char *const r_submit_force[] = {
    ENV_SESSION, "submit.reason", "submit.final_event_count", "submit.digest",
    "submit.proctor_id", "submit.reason_text", NULL};
static const char *const r_submit_candidate[] = {ENV_SESSION, "submit.reason",
                                                 "submit.final_event_count", "submit.digest",
                                                 NULL};
static const char *const r_ack_rejected[] = {ENV_COMMON, "ack.acked_message_id", "ack.status",
                                             "ack.reason", NULL};
static const char *const r_ack_retry[] = {ENV_COMMON, "ack.acked_message_id", "ack.status", NULL};
static const char *const r_heartbeat[] = {ENV_COMMON, "heartbeat.interval_ms", NULL};
static const char *const r_worker_ready[] = {ENV_COMMON, "worker_ready.service",
                                             "worker_ready.capacity", NULL};
static const char *const r_credit[] = {ENV_COMMON, "credit.credit", NULL};
static const char *const r_disconnect[] = {ENV_COMMON, NULL};
static const char *const r_proctor_extend[] = {ENV_SESSION, "proctor_action.action",
                                               "proctor_action.proctor_id",
                                               "proctor_action.reason",
                                               "proctor_action.extension_ms", NULL};
static const char *const r_proctor_void[] = {ENV_SESSION, "proctor_action.action",
                                             "proctor_action.proctor_id",
                                             "proctor_action.reason", NULL};
static const char *const r_proctor_pause[] = {ENV_SESSION, "proctor_action.action",
                                              "proctor_action.proctor_id", NULL};
static const char *const r_examiner_score[] = {
    ENV_SESSION, "examiner_score.task_id", "examiner_score.part_id",
    "examiner_score.examiner_id", "examiner_score.points_centi",
    "examiner_score.max_points_centi", NULL};
static const char *const r_result[] = {
    ENV_COMMON, "envelope.exam_id", "envelope.candidate_id", "envelope.event_time_ms",
    "result.level", "result.theory", "result.skills", "result.passed", "result.theory.exam",
    "result.theory.status", "result.theory.total_centi", "result.theory.passed",
    "result.theory.areas[0].area_code", "result.theory.areas[0].points_centi",
    "result.theory.areas[0].max_points_centi", "result.theory.areas[1].area_code",
    "result.theory.areas[1].points_centi", "result.theory.areas[1].max_points_centi",
    "result.skills.exam", "result.skills.status", "result.skills.total_centi",
    "result.skills.passed", NULL};
static const char *const r_reconcile_request[] = {
    ENV_COMMON, "envelope.exam_id", "envelope.site_id", "envelope.session_id",
    "reconcile_request.event_count", "reconcile_request.digest", NULL};
static const char *const r_reconcile_reply[] = {
    ENV_COMMON, "envelope.exam_id", "envelope.site_id", "envelope.session_id",
    "reconcile_reply.request_message_id", "reconcile_reply.status",
    "reconcile_reply.center_event_count", "reconcile_reply.center_digest", NULL};
static const char *const r_package_release[] = {
    ENV_COMMON, "envelope.exam_id", "envelope.site_id", "package_release.package_id",
    "package_release.key_id", "package_release.cipher", "package_release.key",
    "package_release.package_digest", NULL};
static const char *const r_session_state[] = {ENV_COMMON, "envelope.exam_id",
                                              "envelope.session_id", "envelope.candidate_id",
                                              STATE("session_state"), NULL};
static const char *const r_state_request[] = {ENV_COMMON, "envelope.exam_id",
                                              "envelope.session_id", NULL};
static const char *const r_monitor_event[] = {
    ENV_COMMON, "envelope.exam_id", "envelope.site_id", "envelope.room_id",
    "monitor_event.type", "monitor_event.action", "monitor_event.actor",
    "monitor_event.actor.role", "monitor_event.actor.id", "monitor_event.object",
    "monitor_event.object.type", "monitor_event.object.id", "monitor_event.event_time_ms",
    "monitor_event.ed_app", "monitor_event.source_kind", "monitor_event.stream_epoch",
    "monitor_event.stream_seq", "monitor_event.extension_ms", NULL};

static const char *const r_package_request[] = {ENV_COMMON, "envelope.exam_id",
                                                "envelope.site_id", "package_request.package_id",
                                                NULL};

static const sample_t s_samples[] = {
    {"login_request", b_login_request, r_login_request},
    {"login_reply_ok", b_login_reply_ok, r_login_reply_ok},
    {"login_reply_denied", b_login_reply_denied, r_login_reply_denied},
    {"session_open", b_session_open, r_session_open},
    {"session_resume", b_session_resume, r_session_resume},
    {"answer_selection", b_answer_selection, r_answer_selection},
    {"answer_judgment", b_answer_judgment, r_answer_other},
    {"answer_text", b_answer_text, r_answer_other},
    {"answer_form", b_answer_form, r_answer_form},
    {"answer_cleared", b_answer_cleared, r_answer_cleared},
    {"submit_force", b_submit_force, r_submit_force},
    {"submit_candidate", b_submit_candidate, r_submit_candidate},
    {"ack_rejected", b_ack_rejected, r_ack_rejected},
    {"ack_retry", b_ack_retry, r_ack_retry},
    {"heartbeat", b_heartbeat, r_heartbeat},
    {"worker_ready", b_worker_ready, r_worker_ready},
    {"credit", b_credit, r_credit},
    {"disconnect", b_disconnect, r_disconnect},
    {"proctor_extend", b_proctor_extend, r_proctor_extend},
    {"proctor_void", b_proctor_void, r_proctor_void},
    {"proctor_pause", b_proctor_pause, r_proctor_pause},
    {"examiner_score", b_examiner_score, r_examiner_score},
    {"result", b_result, r_result},
    {"reconcile_request", b_reconcile_request, r_reconcile_request},
    {"reconcile_reply", b_reconcile_reply, r_reconcile_reply},
    {"package_release", b_package_release, r_package_release},
    {"session_state", b_session_state, r_session_state},
    {"state_request", b_state_request, r_state_request},
    {"monitor_event", b_monitor_event, r_monitor_event},
    {"package_request", b_package_request, r_package_request},
};
#define N_SAMPLES (sizeof s_samples / sizeof s_samples[0])

/* Encodes sample i, signed with s_key. Caller frees. */
static uint8_t *s_encode_sample(size_t i, size_t *len)
{
    uint8_t *out = NULL;
    jk_error_t err = {0};
    jk_err_t rc = jk_codec_encode_signed(s_samples[i].build(), s_key, sizeof s_key, &out, len,
                                         &err);
    if (rc != JK_OK)
        fail_msg("sample %s does not encode: %s: %s", s_samples[i].name, jk_strerror(rc),
                 err.msg);
    return out;
}

/* Decodes sample i into a heap copy the caller frees with jk_codec_free. */
static Jk__Envelope *s_decode_sample(size_t i)
{
    size_t len = 0;
    uint8_t *buf = s_encode_sample(i, &len);
    Jk__Envelope *env = NULL;
    jk_error_t err = {0};
    jk_err_t rc = jk_codec_decode(buf, len, NULL, &env, &err);
    free(buf);
    if (rc != JK_OK)
        fail_msg("sample %s does not decode: %s: %s", s_samples[i].name, jk_strerror(rc),
                 err.msg);
    return env;
}

/* Packs a message without any validation (to make hostile bytes). */
static uint8_t *s_pack_raw(const Jk__Envelope *e, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(&e->base);
    uint8_t *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    assert_int_equal(protobuf_c_message_pack(&e->base, b), *len);
    return b;
}

static jk_err_t s_decode_rc(const uint8_t *buf, size_t len, const jk_codec_limits_t *lim,
                            jk_error_t *err)
{
    Jk__Envelope *env = (Jk__Envelope *)(uintptr_t)1; /* must be reset */
    jk_err_t rc = jk_codec_decode(buf, len, lim, &env, err);
    if (rc == JK_OK) {
        assert_non_null(env);
        jk_codec_free(&env);
        assert_null(env);
    } else {
        assert_null(env);
    }
    return rc;
}

/* Asserts code and that the message starts with "<path>:". */
static void s_expect(jk_err_t rc, const jk_error_t *err, jk_err_t want, const char *path,
                     const char *what)
{
    if (rc != want)
        fail_msg("%s: expected %s, got %s (%s)", what, jk_strerror(want), jk_strerror(rc),
                 err->msg);
    if (path) {
        size_t n = strlen(path);
        if (strncmp(err->msg, path, n) != 0 || err->msg[n] != ':')
            fail_msg("%s: message should name %s: \"%s\"", what, path, err->msg);
    }
}

/* ---------------------------------------------------------------------- */
/* Round trips.                                                             */

static void test_round_trip_every_kind(void **state)
{
    (void)state;
    bool seen[JK__KIND__KIND_PACKAGE_REQUEST + 1] = {false};
    for (size_t i = 0; i < N_SAMPLES; i++) {
        size_t len = 0, len2 = 0;
        uint8_t *buf = s_encode_sample(i, &len);
        Jk__Envelope *env = NULL;
        jk_error_t err = {0};
        jk_err_t rc = jk_codec_decode(buf, len, NULL, &env, &err);
        if (rc != JK_OK)
            fail_msg("%s: %s", s_samples[i].name, err.msg);
        Jk__Envelope *orig = s_samples[i].build();
        assert_int_equal(env->kind, orig->kind);
        assert_int_equal((int)env->body_case, 100 + (int)env->kind);
        assert_int_equal(env->message_id, orig->message_id);
        assert_string_equal(env->node_id, orig->node_id);
        assert_int_equal(env->has_auth_tag, 1);
        assert_int_equal(jk_codec_auth_verify(env, s_key, sizeof s_key, &err), JK_OK);
        seen[env->kind] = true;
        /* Re-encoding the decoded message gives the same bytes. */
        uint8_t *buf2 = NULL;
        assert_int_equal(jk_codec_encode(env, &buf2, &len2, &err), JK_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(buf2, buf, len);
        free(buf2);
        jk_codec_free(&env);
        jk_codec_free(&env); /* NULL is fine */
        free(buf);
    }
    for (int k = 1; k <= JK__KIND__KIND_PACKAGE_REQUEST; k++)
        if (!seen[k])
            fail_msg("no sample of kind %s", jk_codec_kind_name((Jk__Kind)k));
    jk_codec_free(NULL);
}

static void test_kind_names_and_flags(void **state)
{
    (void)state;
    assert_string_equal(jk_codec_kind_name(JK__KIND__KIND_ANSWER), "answer");
    assert_string_equal(jk_codec_kind_name(JK__KIND__KIND_PROCTOR_ACTION), "proctor_action");
    assert_string_equal(jk_codec_kind_name(JK__KIND__KIND_MONITOR_EVENT), "monitor_event");
    assert_string_equal(jk_codec_kind_name((Jk__Kind)0), "?");
    assert_string_equal(jk_codec_kind_name(JK__KIND__KIND_PACKAGE_REQUEST), "package_request");
    assert_string_equal(jk_codec_kind_name((Jk__Kind)22), "?");
    int sessions = 0;
    for (int k = 0; k <= 22; k++)
        sessions += jk_codec_kind_is_session_event((Jk__Kind)k);
    assert_int_equal(sessions, 6);
    assert_true(jk_codec_kind_is_large(JK__KIND__KIND_LOGIN_REPLY));
    assert_true(jk_codec_kind_is_large(JK__KIND__KIND_SESSION_STATE));
    assert_false(jk_codec_kind_is_large(JK__KIND__KIND_ANSWER));
}

/* ---------------------------------------------------------------------- */
/* Truncation, size, version, kind.                                         */

static void test_truncated_at_every_length(void **state)
{
    (void)state;
    size_t tried = 0;
    size_t by_code[JK_ERR__COUNT] = {0};
    for (size_t i = 0; i < N_SAMPLES; i++) {
        size_t len = 0;
        uint8_t *buf = s_encode_sample(i, &len);
        for (size_t cut = 0; cut < len; cut++) {
            /* A fresh allocation of exactly cut bytes, so ASan sees any
             * read past the end. */
            uint8_t *p = malloc(cut ? cut : 1);
            memcpy(p, buf, cut);
            jk_error_t err = {0};
            jk_err_t rc = s_decode_rc(p, cut, NULL, &err);
            if (rc == JK_OK)
                fail_msg("%s cut at %zu of %zu decoded", s_samples[i].name, cut, len);
            assert_true(err.msg[0] != '\0');
            by_code[rc]++;
            tried++;
            free(p);
        }
        free(buf);
    }
    print_message("truncations: %zu refused (parse %zu, missing %zu, other %zu)\n", tried,
                  by_code[JK_ERR_PARSE], by_code[JK_ERR_MISSING],
                  tried - by_code[JK_ERR_PARSE] - by_code[JK_ERR_MISSING]);
}

static void test_oversized(void **state)
{
    (void)state;
    jk_error_t err = {0};
    /* Over every bound: refused before anything else is looked at. */
    size_t big = JK_CODEC_MAX_LARGE_BYTES + 1;
    uint8_t *junk = calloc(1, big);
    assert_non_null(junk);
    s_expect(s_decode_rc(junk, big, NULL, &err), &err, JK_ERR_TOO_BIG, "envelope", "2 MiB + 1");
    free(junk);

    /* An answer of 70 KiB: over the 64 KiB bound of normal kinds. */
    static char text[70 * 1024];
    memset(text, 'a', sizeof text - 1);
    Jk__Envelope *e = b_answer_text();
    e->answer->response->text = text;
    size_t len = 0;
    uint8_t *buf = s_pack_raw(e, &len);
    s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_TOO_BIG, "envelope", "70 KiB answer");
    assert_non_null(strstr(err.msg, "answer"));
    free(buf);
    /* encode refuses it too (the text bound trips first). */
    assert_int_equal(jk_codec_encode(e, &buf, &len, &err), JK_ERR_TOO_BIG);
    assert_null(buf);

    /* A paper-bearing login reply of about 1 MiB is fine: a large kind. */
    static Jk__PaperItem items[JK_CODEC_ITEMS_MAX], *itp[JK_CODEC_ITEMS_MAX];
    static char ids[JK_CODEC_ITEMS_MAX][16];
    static char stem[2048];
    memset(stem, 'x', sizeof stem - 1);
    e = b_login_reply_ok();
    for (size_t i = 0; i < JK_CODEC_ITEMS_MAX; i++) {
        items[i] = (Jk__PaperItem)JK__PAPER_ITEM__INIT;
        snprintf(ids[i], sizeof ids[i], "I-%04zu", i);
        items[i].item_id = ids[i];
        items[i].has_number = 1;
        items[i].number = (uint32_t)i + 1;
        items[i].has_type = 1;
        items[i].type = JK__ITEM_TYPE__ITEM_TYPE_JUDGMENT;
        items[i].stem = stem;
        items[i].has_points_centi = 1;
        items[i].points_centi = 20;
        itp[i] = &items[i];
    }
    e->login_reply->paper->n_items = JK_CODEC_ITEMS_MAX;
    e->login_reply->paper->items = itp;
    e->login_reply->state = NULL;
    assert_int_equal(jk_codec_encode(e, &buf, &len, &err), JK_OK);
    assert_true(len > 1000 * 1000);
    assert_int_equal(s_decode_rc(buf, len, NULL, &err), JK_OK);
    jk_codec_limits_t lim;
    jk_codec_limits_default(&lim);
    lim.max_large_bytes = 512 * 1024;
    s_expect(s_decode_rc(buf, len, &lim, &err), &err, JK_ERR_TOO_BIG, "envelope",
             "login reply over a lowered bound");
    free(buf);
    /* One item too many. */
    static Jk__PaperItem *itp2[JK_CODEC_ITEMS_MAX + 1];
    memcpy(itp2, itp, sizeof itp);
    itp2[JK_CODEC_ITEMS_MAX] = &items[0];
    e->login_reply->paper->n_items = JK_CODEC_ITEMS_MAX + 1;
    e->login_reply->paper->items = itp2;
    s_expect(jk_codec_validate(e, NULL, &err), &err, JK_ERR_TOO_BIG, "login_reply.paper.items",
             "501 items");

    /* The field budget: 5000 packed seq numbers fit in 64 KiB but are more
     * wire fields than a normal kind may carry. */
    static uint64_t many[5000];
    for (size_t i = 0; i < 5000; i++)
        many[i] = i + 1;
    e = b_reconcile_reply();
    e->reconcile_reply->n_missing_seq = 5000;
    e->reconcile_reply->missing_seq = many;
    buf = s_pack_raw(e, &len);
    assert_true(len < JK_CODEC_MAX_BYTES);
    s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_TOO_BIG, "envelope",
             "5000 packed fields");
    free(buf);
    /* Under the budget but over the protocol's bound of 1024. */
    e->reconcile_reply->n_missing_seq = 2000;
    buf = s_pack_raw(e, &len);
    s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_TOO_BIG,
             "reconcile_reply.missing_seq", "2000 missing seqs");
    free(buf);
}

static void test_versions(void **state)
{
    (void)state;
    jk_error_t err = {0};
    static const uint32_t bad[] = {0, 2, 3, 999, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Jk__Envelope *e = b_answer_selection();
        e->schema_version = bad[i];
        size_t len = 0;
        uint8_t *buf = s_pack_raw(e, &len);
        s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_VERSION,
                 "envelope.schema_version", "bad version");
        s_expect(jk_codec_validate(e, NULL, &err), &err, JK_ERR_VERSION, "envelope.schema_version",
                 "validate bad version");
        free(buf);
    }
    /* Absent. */
    Jk__Envelope *e = b_heartbeat();
    e->has_schema_version = 0;
    size_t len = 0;
    uint8_t *buf = s_pack_raw(e, &len);
    s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_MISSING, "envelope.schema_version",
             "no version");
    free(buf);
    /* A "version 2" message with fields version 1 does not know is refused
     * as a version, not as a parse error: the version is read first. */
    e = b_heartbeat();
    e->schema_version = 2;
    buf = s_pack_raw(e, &len);
    static const uint8_t field77[3] = {0xe8, 0x04, 0x01}; /* field 77, varint 1 */
    uint8_t *v2 = malloc(len + 3);
    memcpy(v2, buf, len);
    memcpy(v2 + len, field77, 3);
    s_expect(s_decode_rc(v2, len + 3, NULL, &err), &err, JK_ERR_VERSION, "envelope.schema_version",
             "v2 with new fields");
    /* The same unknown field in a version 1 message is a parse error. */
    e->schema_version = 1;
    free(buf);
    buf = s_pack_raw(e, &len);
    memcpy(v2, buf, len);
    memcpy(v2 + len, field77, 3);
    s_expect(s_decode_rc(v2, len + 3, NULL, &err), &err, JK_ERR_PARSE, "envelope",
             "unknown field in v1");
    assert_non_null(strstr(err.msg, "unknown field number 77"));
    free(v2);
    free(buf);
}

/* One message, one byte string: anything protobuf-c would also read but
 * would not itself write is refused (unless a tool asks otherwise). */
static void test_noncanonical(void **state)
{
    (void)state;
    jk_error_t err = {0};
    jk_codec_limits_t lax;
    jk_codec_limits_default(&lax);
    lax.allow_noncanonical = true;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(jk_codec_encode(b_heartbeat(), &buf, &len, &err), JK_OK);
    uint8_t *m = malloc(len + 1);

    /* message_id 4242 (field 6: 0x30 0x92 0x21) as a non-minimal varint. */
    uint8_t *at = NULL;
    for (size_t i = 0; i + 2 < len && !at; i++)
        if (buf[i] == 0x30 && buf[i + 1] == 0x92 && buf[i + 2] == 0x21)
            at = buf + i;
    assert_non_null(at);
    size_t off = (size_t)(at - buf) + 2;
    memcpy(m, buf, off);
    m[off] = 0xa1;
    m[off + 1] = 0x00;
    memcpy(m + off + 2, buf + off + 1, len - off - 1);
    s_expect(s_decode_rc(m, len + 1, NULL, &err), &err, JK_ERR_PARSE, "envelope",
             "non-minimal varint");
    assert_non_null(strstr(err.msg, "canonical"));
    assert_int_equal(s_decode_rc(m, len + 1, &lax, &err), JK_OK);

    /* Fields out of order: kind before schema_version. */
    assert_int_equal(buf[0], 0x08);
    assert_int_equal(buf[2], 0x10);
    memcpy(m, buf, len);
    m[0] = buf[2];
    m[1] = buf[3];
    m[2] = buf[0];
    m[3] = buf[1];
    s_expect(s_decode_rc(m, len, NULL, &err), &err, JK_ERR_PARSE, "envelope", "out of order");
    assert_int_equal(s_decode_rc(m, len, &lax, &err), JK_OK);
    free(m);
    free(buf);

    /* A bool encoded as 2 (protobuf-c reads it as true). */
    assert_int_equal(jk_codec_encode(b_answer_selection(), &buf, &len, &err), JK_OK);
    size_t flips = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != 0x18 || buf[i + 1] != 0x01) /* answer.flagged = true */
            continue;
        buf[i + 1] = 0x02;
        jk_err_t rc = s_decode_rc(buf, len, NULL, &err);
        buf[i + 1] = 0x01;
        if (rc == JK_ERR_PARSE && strstr(err.msg, "canonical"))
            flips++;
    }
    assert_true(flips >= 1);
    free(buf);
}

static void test_kind_body_mismatch(void **state)
{
    (void)state;
    jk_error_t err = {0};
    size_t len = 0;
    uint8_t *buf;
    /* kind ANSWER with a submit body. */
    Jk__Envelope *e = b_submit_candidate();
    e->kind = JK__KIND__KIND_ANSWER;
    buf = s_pack_raw(e, &len);
    s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_INVAL, "envelope.body",
             "answer kind, submit body");
    free(buf);
    /* Unknown kinds. */
    static const int kinds[] = {0, 22, 99, -1};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        e = b_credit();
        e->kind = (Jk__Kind)kinds[i];
        buf = s_pack_raw(e, &len);
        s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_INVAL, "envelope.kind",
                 "unknown kind");
        free(buf);
    }
    /* No kind, no body. */
    e = b_credit();
    e->has_kind = 0;
    s_expect(jk_codec_validate(e, NULL, &err), &err, JK_ERR_MISSING, "envelope.kind", "no kind");
    e = b_credit();
    e->body_case = JK__ENVELOPE__BODY__NOT_SET;
    buf = s_pack_raw(e, &len);
    s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_MISSING, "envelope.body", "no body");
    free(buf);
    /* Two body members on the wire (protobuf-c would keep the last). */
    e = b_credit();
    buf = s_pack_raw(e, &len);
    Jk__Envelope *h = b_heartbeat();
    size_t hlen = 0;
    uint8_t *hb = s_pack_raw(h, &hlen);
    /* The heartbeat body member is the tail of its encoding: key 108 is
     * the varint 0xe2 0x06, then a one-byte length, then the body. */
    size_t tail = 3 + jk__heartbeat__get_packed_size(h->heartbeat);
    uint8_t *two = malloc(len + tail);
    memcpy(two, buf, len);
    memcpy(two + len, hb + hlen - tail, tail);
    assert_int_equal(two[len], 0xe2);
    s_expect(s_decode_rc(two, len + tail, NULL, &err), &err, JK_ERR_PARSE, "heartbeat",
             "two body members");
    free(two);
    free(hb);
    free(buf);
}

/* ---------------------------------------------------------------------- */
/* Every required field, generically.                                       */

typedef struct {
    int steps[2 * 12]; /* (field index, element index or -1) pairs */
    int nsteps;
    char path[192];   /* path the validator must name if required */
} field_addr_t;

typedef struct {
    field_addr_t *a;
    size_t n, cap;
} addr_list_t;

static bool s_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    const char *base = (const char *)m;
    const void *member = base + fd->offset;
    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + fd->quantifier_offset) > 0;
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE || fd->type == PROTOBUF_C_TYPE_STRING)
        return *(void *const *)member != NULL;
    return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) != 0;
}

static void s_free_value(const ProtobufCFieldDescriptor *fd, void *slot)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(ProtobufCMessage **)slot)
            protobuf_c_message_free_unpacked(*(ProtobufCMessage **)slot, NULL);
        *(ProtobufCMessage **)slot = NULL;
        break;
    case PROTOBUF_C_TYPE_STRING:
        free(*(char **)slot);
        *(char **)slot = NULL;
        break;
    case PROTOBUF_C_TYPE_BYTES:
        free(((ProtobufCBinaryData *)slot)->data);
        ((ProtobufCBinaryData *)slot)->data = NULL;
        ((ProtobufCBinaryData *)slot)->len = 0;
        break;
    default:
        break;
    }
}

static size_t s_elem_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default:
        return 4;
    }
}

/* Clears one field of an unpacked message, freeing what it owned. */
static void s_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    char *base = (char *)m;
    void *member = base + fd->offset;
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t *n = (size_t *)(base + fd->quantifier_offset);
        char **arr = (char **)member;
        for (size_t i = 0; i < *n; i++)
            s_free_value(fd, *arr + i * s_elem_size(fd));
        free(*arr);
        *arr = NULL;
        *n = 0;
        return;
    }
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        s_free_value(fd, member);
        *(uint32_t *)(base + fd->quantifier_offset) = 0;
        return;
    }
    s_free_value(fd, member);
    if (fd->type != PROTOBUF_C_TYPE_MESSAGE && fd->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)(base + fd->quantifier_offset) = 0;
}

static ProtobufCMessage *s_child(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd, int elem)
{
    char *base = (char *)m;
    if (elem >= 0)
        return (*(ProtobufCMessage ***)(base + fd->offset))[elem];
    return *(ProtobufCMessage **)(base + fd->offset);
}

/* The path the validator uses for "this field is missing". */
static void s_missing_path(char *out, size_t size, const char *parent,
                           const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *fd)
{
    if (d == &jk__envelope__descriptor)
        snprintf(out, size, "envelope.%s",
                 (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ? "body" : fd->name);
    else if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        snprintf(out, size, "%s.value", parent); /* jk.Response's oneof */
    else
        snprintf(out, size, "%s.%s", parent, fd->name);
}

static void s_collect(ProtobufCMessage *m, const char *path, field_addr_t *prefix,
                      addr_list_t *out)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned f = 0; f < d->n_fields; f++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[f];
        if (!s_present(m, fd))
            continue;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->a = realloc(out->a, out->cap * sizeof *out->a);
            assert_non_null(out->a);
        }
        field_addr_t *a = &out->a[out->n++];
        *a = *prefix;
        a->steps[a->nsteps++] = (int)f;
        a->steps[a->nsteps++] = -2; /* -2: this field itself is cleared */
        s_missing_path(a->path, sizeof a->path, path, d, fd);
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        /* Recurse into sub-messages. */
        char sub[192];
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(size_t *)((char *)m + fd->quantifier_offset);
            for (size_t i = 0; i < n; i++) {
                field_addr_t p2 = *prefix;
                p2.steps[p2.nsteps++] = (int)f;
                p2.steps[p2.nsteps++] = (int)i;
                snprintf(sub, sizeof sub, "%s.%s[%zu]", path, fd->name, i);
                s_collect(s_child(m, fd, (int)i), sub, &p2, out);
            }
        } else {
            field_addr_t p2 = *prefix;
            p2.steps[p2.nsteps++] = (int)f;
            p2.steps[p2.nsteps++] = -1;
            if (d == &jk__envelope__descriptor)
                snprintf(sub, sizeof sub, "%s", fd->name); /* body roots */
            else
                snprintf(sub, sizeof sub, "%s.%s", path, fd->name);
            s_collect(s_child(m, fd, -1), sub, &p2, out);
        }
    }
}

static bool s_in(const char *const *list, const char *path)
{
    for (; *list; list++)
        if (strcmp(*list, path) == 0)
            return true;
    return false;
}

static void test_each_missing_required_field(void **state)
{
    (void)state;
    size_t required = 0, optional = 0;
    for (size_t i = 0; i < N_SAMPLES; i++) {
        Jk__Envelope *env = s_decode_sample(i);
        addr_list_t list = {0};
        field_addr_t root = {.nsteps = 0};
        s_collect(&env->base, "envelope", &root, &list);
        jk_codec_free(&env);
        /* Every required path of the sample must be reachable. */
        for (const char *const *r = s_samples[i].required; *r; r++) {
            bool found = false;
            for (size_t k = 0; k < list.n && !found; k++)
                found = strcmp(list.a[k].path, *r) == 0;
            if (!found)
                fail_msg("%s: required path %s is not in the sample", s_samples[i].name, *r);
        }
        for (size_t k = 0; k < list.n; k++) {
            const field_addr_t *a = &list.a[k];
            Jk__Envelope *copy = s_decode_sample(i);
            ProtobufCMessage *m = &copy->base;
            for (int s = 0; s < a->nsteps; s += 2) {
                const ProtobufCFieldDescriptor *fd = &m->descriptor->fields[a->steps[s]];
                if (a->steps[s + 1] == -2)
                    s_clear(m, fd);
                else
                    m = s_child(m, fd, a->steps[s + 1]);
            }
            jk_error_t err = {0};
            jk_err_t rc = jk_codec_validate(copy, NULL, &err);
            if (s_in(s_samples[i].required, a->path)) {
                char what[300];
                snprintf(what, sizeof what, "%s without %s", s_samples[i].name, a->path);
                s_expect(rc, &err, JK_ERR_MISSING, a->path, what);
                required++;
            } else {
                if (rc != JK_OK)
                    fail_msg("%s without optional %s: %s: %s", s_samples[i].name, a->path,
                             jk_strerror(rc), err.msg);
                optional++;
            }
            /* A message without the field still encodes and decodes the
             * same way when it is valid. */
            jk_codec_free(&copy);
        }
        free(list.a);
    }
    print_message("missing fields: %zu required cleared -> missing, %zu optional cleared -> ok\n",
                  required, optional);
}

/* ---------------------------------------------------------------------- */
/* Ranges and cross-field rules.                                            */

static void s_set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
}

typedef struct {
    const char *name;
    size_t sample;
    jk_err_t want;
    const char *path;
} range_case_t;

enum {
    I_LOGIN_REQUEST, I_LOGIN_OK, I_LOGIN_DENIED, I_OPEN, I_RESUME, I_ANS_SEL, I_ANS_JUDG,
    I_ANS_TEXT, I_ANS_FORM, I_ANS_CLEARED, I_SUBMIT_FORCE, I_SUBMIT_CAND, I_ACK_REJ, I_ACK_RETRY,
    I_HEARTBEAT, I_READY, I_CREDIT, I_DISCONNECT, I_EXTEND, I_VOID, I_PAUSE, I_EXAMINER,
    I_RESULT, I_RECON_REQ, I_RECON_REP, I_PACKAGE, I_STATE, I_STATE_REQ, I_MONITOR
};

static const range_case_t s_range_cases[] = {
    {"seq 0", I_ANS_SEL, JK_ERR_RANGE, "envelope.seq"},
    {"seq too big", I_ANS_SEL, JK_ERR_RANGE, "envelope.seq"},
    {"seq on a heartbeat", I_HEARTBEAT, JK_ERR_INVAL, "envelope.seq"},
    {"event time before 2020", I_ANS_SEL, JK_ERR_RANGE, "envelope.event_time_ms"},
    {"sent time after 2100", I_HEARTBEAT, JK_ERR_RANGE, "envelope.sent_time_ms"},
    {"message id 0", I_CREDIT, JK_ERR_RANGE, "envelope.message_id"},
    {"auth tag of 31 bytes", I_CREDIT, JK_ERR_INVAL, "envelope.auth_tag"},
    {"option id 0", I_ANS_SEL, JK_ERR_RANGE, "answer.response.selection.option_ids[0]"},
    {"option id 17", I_ANS_SEL, JK_ERR_RANGE, "answer.response.selection.option_ids[1]"},
    {"option id twice", I_ANS_SEL, JK_ERR_DUP, "answer.response.selection.option_ids[1]"},
    {"change counter 0", I_ANS_SEL, JK_ERR_RANGE, "answer.change_counter"},
    {"empty text answer", I_ANS_TEXT, JK_ERR_INVAL, "answer.response.text"},
    {"form field twice", I_ANS_FORM, JK_ERR_DUP, "answer.response.form.fields[1].name"},
    {"duration 500 ms", I_OPEN, JK_ERR_RANGE, "session_open.duration_ms"},
    {"level 6", I_OPEN, JK_ERR_RANGE, "session_open.level"},
    {"digest of 31 bytes", I_OPEN, JK_ERR_INVAL, "session_open.paper_digest"},
    {"exam type 7", I_OPEN, JK_ERR_INVAL, "session_open.exam"},
    {"item count 501", I_OPEN, JK_ERR_RANGE, "session_open.item_count"},
    {"final count != seq - 1", I_SUBMIT_FORCE, JK_ERR_RANGE, "submit.final_event_count"},
    {"proctor id on a candidate submit", I_SUBMIT_CAND, JK_ERR_INVAL, "submit.proctor_id"},
    {"extension 0", I_EXTEND, JK_ERR_RANGE, "proctor_action.extension_ms"},
    {"extension 5 h", I_EXTEND, JK_ERR_RANGE, "proctor_action.extension_ms"},
    {"extension on a pause", I_PAUSE, JK_ERR_INVAL, "proctor_action.extension_ms"},
    {"void with empty reason", I_VOID, JK_ERR_INVAL, "proctor_action.reason"},
    {"points over max", I_EXAMINER, JK_ERR_RANGE, "examiner_score.points_centi"},
    {"max points 10001", I_EXAMINER, JK_ERR_RANGE, "examiner_score.max_points_centi"},
    {"heartbeat 50 ms", I_HEARTBEAT, JK_ERR_RANGE, "heartbeat.interval_ms"},
    {"capacity 0", I_READY, JK_ERR_RANGE, "worker_ready.capacity"},
    {"credit 70000", I_CREDIT, JK_ERR_RANGE, "credit.credit"},
    {"reason on a retry-later ack", I_ACK_RETRY, JK_ERR_INVAL, "ack.reason"},
    {"retry after on a rejected ack", I_ACK_REJ, JK_ERR_INVAL, "ack.retry_after_ms"},
    {"ack status 9", I_ACK_REJ, JK_ERR_INVAL, "ack.status"},
    {"paper on a denied login", I_LOGIN_DENIED, JK_ERR_INVAL, "login_reply.paper"},
    {"token of 8 bytes", I_LOGIN_OK, JK_ERR_RANGE, "login_reply.session_token"},
    {"login into SUBMITTED", I_LOGIN_OK, JK_ERR_INVAL, "login_reply.session_status"},
    {"item points do not sum", I_LOGIN_OK, JK_ERR_RANGE, "login_reply.paper.items"},
    {"options on a judgment item", I_LOGIN_OK, JK_ERR_INVAL, "login_reply.paper.items[0].options"},
    {"one option on a choice item", I_LOGIN_OK, JK_ERR_RANGE,
     "login_reply.paper.items[1].options"},
    {"duplicate option id", I_LOGIN_OK, JK_ERR_DUP,
     "login_reply.paper.items[1].options[1].option_id"},
    {"duplicate item id", I_LOGIN_OK, JK_ERR_DUP, "login_reply.paper.items[1].item_id"},
    {"item seq above last_seq", I_STATE, JK_ERR_RANGE, "session_state.items[1].seq"},
    {"result passed but skills failed", I_RESULT, JK_ERR_INVAL, "result.skills.passed"},
    {"overall passed wrong", I_RESULT, JK_ERR_INVAL, "result.passed"},
    {"areas do not sum", I_RESULT, JK_ERR_RANGE, "result.theory.areas"},
    {"total on an absent exam", I_RESULT, JK_ERR_INVAL, "result.skills.total_centi"},
    {"skills slot holds theory", I_RESULT, JK_ERR_INVAL, "result.skills.exam"},
    {"missing seq not ascending", I_RECON_REP, JK_ERR_INVAL, "reconcile_reply.missing_seq[1]"},
    {"missing seq on OK", I_RECON_REP, JK_ERR_INVAL, "reconcile_reply.missing_seq"},
    {"package key of 16 bytes", I_PACKAGE, JK_ERR_INVAL, "package_release.key"},
    {"event count 0", I_RECON_REQ, JK_ERR_RANGE, "reconcile_request.event_count"},
    {"caliper pair illegal", I_MONITOR, JK_ERR_INVAL, "monitor_event.action"},
    {"caliper object wrong", I_MONITOR, JK_ERR_INVAL, "monitor_event.object.type"},
    {"stream seq 0", I_MONITOR, JK_ERR_RANGE, "monitor_event.stream_seq"},
};

static void s_apply_range_case(size_t c, Jk__Envelope *e)
{
    switch (c) {
    case 0: e->seq = 0; break;
    case 1: e->seq = JK_CODEC_SEQ_MAX + 1; break;
    case 2: e->has_seq = 1; e->seq = 1; break;
    case 3: e->event_time_ms = UINT64_C(1500000000000); break;
    case 4: e->sent_time_ms = UINT64_C(4102444800001); break;
    case 5: e->message_id = 0; break;
    case 6: e->auth_tag.len = 31; break;
    case 7: e->answer->response->selection->option_ids[0] = 0; break;
    case 8: e->answer->response->selection->option_ids[1] = 17; break;
    case 9: e->answer->response->selection->option_ids[1] = 4; break;
    case 10: e->answer->change_counter = 0; break;
    case 11: s_set_str(&e->answer->response->text, ""); break;
    case 12: s_set_str(&e->answer->response->form->fields[1]->name, "insured_name"); break;
    case 13: e->session_open->duration_ms = 500; break;
    case 14: e->session_open->level = 6; break;
    case 15: e->session_open->paper_digest.len = 31; break;
    case 16: e->session_open->exam = (Jk__ExamType)7; break;
    case 17: e->session_open->item_count = 501; break;
    case 18: e->submit->final_event_count = 39; break;
    case 19: s_set_str(&e->submit->proctor_id, "PR-0007"); break;
    case 20: e->proctor_action->extension_ms = 0; break;
    case 21: e->proctor_action->extension_ms = 5u * 3600u * 1000u; break;
    case 22:
        e->proctor_action->has_extension_ms = 1;
        e->proctor_action->extension_ms = 1000;
        break;
    case 23: s_set_str(&e->proctor_action->reason, ""); break;
    case 24: e->examiner_score->points_centi = 1501; break;
    case 25: e->examiner_score->max_points_centi = 10001; break;
    case 26: e->heartbeat->interval_ms = 50; break;
    case 27: e->worker_ready->capacity = 0; break;
    case 28: e->credit->credit = 70000; break;
    case 29:
        e->ack->has_reason = 1;
        e->ack->reason = JK__REJECT_REASON__REJECT_REASON_MALFORMED;
        break;
    case 30:
        e->ack->has_retry_after_ms = 1;
        e->ack->retry_after_ms = 100;
        break;
    case 31: e->ack->status = (Jk__AckStatus)9; break;
    case 32: {
        /* Borrow a decoded paper from another sample: it is freed with e. */
        Jk__Envelope *ok = s_decode_sample(I_LOGIN_OK);
        e->login_reply->paper = ok->login_reply->paper;
        ok->login_reply->paper = NULL;
        jk_codec_free(&ok);
        break;
    }
    case 33: e->login_reply->session_token.len = 8; break;
    case 34: {
        e->login_reply->session_status = JK__SESSION_STATUS__SESSION_STATUS_SUBMITTED;
        e->login_reply->state->status = JK__SESSION_STATUS__SESSION_STATUS_SUBMITTED;
        break;
    }
    case 35: e->login_reply->paper->items[3]->points_centi = 1999; break;
    case 36: {
        Jk__PaperItem *j = e->login_reply->paper->items[0], *s = e->login_reply->paper->items[1];
        /* Move the options of item 1 to item 0 (the judgment item). */
        j->n_options = s->n_options;
        j->options = s->options;
        s->n_options = 0;
        s->options = NULL;
        s->type = JK__ITEM_TYPE__ITEM_TYPE_WRITTEN;
        break;
    }
    case 37: {
        Jk__PaperItem *s = e->login_reply->paper->items[1];
        for (size_t i = 1; i < s->n_options; i++)
            protobuf_c_message_free_unpacked(&s->options[i]->base, NULL);
        s->n_options = 1;
        break;
    }
    case 38:
        e->login_reply->paper->items[1]->options[1]->option_id =
            e->login_reply->paper->items[1]->options[0]->option_id;
        break;
    case 39: s_set_str(&e->login_reply->paper->items[1]->item_id, "I-0001"); break;
    case 40: e->session_state->items[1]->seq = 13; break;
    case 41: e->result->skills->total_centi = 5999; break;
    case 42: e->result->passed = 0; break;
    case 43: e->result->theory->areas[1]->points_centi = 3000; break;
    case 44: e->result->skills->status = JK__RESULT_STATUS__RESULT_STATUS_ABSENT; break;
    case 45: e->result->skills->exam = JK__EXAM_TYPE__EXAM_TYPE_THEORY; break;
    case 46: e->reconcile_reply->missing_seq[1] = 3; break;
    case 47: e->reconcile_reply->status = JK__RECONCILE_STATUS__RECONCILE_STATUS_OK; break;
    case 48: e->package_release->key.len = 16; break;
    case 49: e->reconcile_request->event_count = 0; break;
    case 50: e->monitor_event->type = JK__CALIPER_TYPE__CALIPER_TYPE_GRADE_EVENT; break;
    case 51: e->monitor_event->object->type = JK__OBJECT_TYPE__OBJECT_TYPE_SESSION; break;
    case 52: e->monitor_event->stream_seq = 0; break;
    default: fail_msg("no mutation %zu", c);
    }
}

static void test_out_of_range(void **state)
{
    (void)state;
    const size_t n = sizeof s_range_cases / sizeof s_range_cases[0];
    for (size_t c = 0; c < n; c++) {
        const range_case_t *rc = &s_range_cases[c];
        Jk__Envelope *e = s_decode_sample(rc->sample);
        /* Keep lengths consistent with what the buffers hold when a case
         * shrinks a bytes field: it only shrinks, so data stays valid. */
        s_apply_range_case(c, e);
        jk_error_t err = {0};
        s_expect(jk_codec_validate(e, NULL, &err), &err, rc->want, rc->path, rc->name);
        /* The same through the wire: encode refuses, and raw bytes of it
         * are refused by decode with the same code. */
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_not_equal(jk_codec_encode(e, &buf, &len, &err), JK_OK);
        assert_null(buf);
        buf = s_pack_raw(e, &len);
        jk_error_t err2 = {0};
        jk_err_t drc = s_decode_rc(buf, len, NULL, &err2);
        s_expect(drc, &err2, rc->want, rc->path, rc->name);
        free(buf);
        jk_codec_free(&e);
    }
}

/* ---------------------------------------------------------------------- */
/* Text and ids.                                                            */

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        jk_err_t want;
    } cases[] = {
        {"劳动保障协理员", JK_OK},
        {"tab\tnew\nline\r", JK_OK},
        {"\xf0\x9f\x98\x80 emoji", JK_OK},
        {"\xc3\x28", JK_ERR_INVAL},             /* bad continuation */
        {"\xc0\xaf", JK_ERR_INVAL},             /* overlong '/' */
        {"\xe0\x80\xaf", JK_ERR_INVAL},         /* overlong, 3 bytes */
        {"\xed\xa0\x80", JK_ERR_INVAL},         /* surrogate */
        {"\xf4\x90\x80\x80", JK_ERR_INVAL},     /* above U+10FFFF */
        {"\xe4\xb8", JK_ERR_INVAL},             /* cut short */
        {"\xff", JK_ERR_INVAL},
        {"bell\x07", JK_ERR_INVAL},             /* control character */
        {"del\x7f", JK_ERR_INVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Jk__Envelope *e = s_decode_sample(I_ANS_TEXT);
        s_set_str(&e->answer->response->text, cases[i].text);
        jk_error_t err = {0};
        jk_err_t rc = jk_codec_validate(e, NULL, &err);
        char what[64];
        snprintf(what, sizeof what, "utf-8 case %zu", i);
        s_expect(rc, &err, cases[i].want, cases[i].want ? "answer.response.text" : NULL, what);
        /* Through the wire as well. */
        size_t len = 0;
        uint8_t *buf = s_pack_raw(e, &len);
        rc = s_decode_rc(buf, len, NULL, &err);
        s_expect(rc, &err, cases[i].want, cases[i].want ? "answer.response.text" : NULL, what);
        free(buf);
        jk_codec_free(&e);
    }
    /* Bad UTF-8 deep inside a paper. */
    Jk__Envelope *e = s_decode_sample(I_LOGIN_OK);
    s_set_str(&e->login_reply->paper->items[2]->options[3]->text, "\xe4\xb8\x41");
    jk_error_t err = {0};
    s_expect(jk_codec_validate(e, NULL, &err), &err, JK_ERR_INVAL,
             "login_reply.paper.items[2].options[3].text", "utf-8 in an option");
    jk_codec_free(&e);

    /* A NUL inside a string on the wire: C would see a shorter string. */
    e = b_answer_text();
    e->answer->response->text = "abcXdef";
    size_t len = 0;
    uint8_t *buf = s_pack_raw(e, &len);
    uint8_t *x = memchr(buf, 'X', len);
    assert_non_null(x);
    *x = 0;
    s_expect(s_decode_rc(buf, len, NULL, &err), &err, JK_ERR_INVAL, "answer.response.text",
             "NUL in a string");
    free(buf);

    /* Text length bounds. */
    static char longtext[JK_CODEC_ANSWER_TEXT_MAX + 2];
    memset(longtext, 'a', sizeof longtext - 1);
    e = b_answer_text();
    e->answer->response->text = longtext;
    s_expect(jk_codec_validate(e, NULL, &err), &err, JK_ERR_TOO_BIG, "answer.response.text",
             "answer text too long");
    longtext[JK_CODEC_ANSWER_TEXT_MAX] = '\0';
    assert_int_equal(jk_codec_validate(e, NULL, &err), JK_OK);
}

static void test_ids(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        jk_err_t want;
    } cases[] = {
        {"SES-000123-T", JK_OK},
        {"a.b_c:d-9", JK_OK},
        {"a b", JK_ERR_INVAL},
        {"a/b", JK_ERR_INVAL},     /* would split a PUB topic */
        {"a{b}", JK_ERR_INVAL},    /* would change a Redis Cluster hash tag */
        {"a*", JK_ERR_INVAL},
        {"caf\xc3\xa9", JK_ERR_INVAL},
        {"tab\t", JK_ERR_INVAL},
        {"", JK_ERR_INVAL},
        {"0123456789012345678901234567890123456789012345678901234567890123", JK_OK},
        {"01234567890123456789012345678901234567890123456789012345678901234", JK_ERR_TOO_BIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "id case %zu", i);
        Jk__Envelope *e = s_decode_sample(I_ANS_SEL);
        s_set_str(&e->session_id, cases[i].id);
        jk_error_t err = {0};
        s_expect(jk_codec_validate(e, NULL, &err), &err, cases[i].want,
                 cases[i].want ? "envelope.session_id" : NULL, what);
        s_set_str(&e->session_id, "SES-1");
        s_set_str(&e->answer->item_id, cases[i].id);
        s_expect(jk_codec_validate(e, NULL, &err), &err, cases[i].want,
                 cases[i].want ? "answer.item_id" : NULL, what);
        size_t len = 0;
        uint8_t *buf = s_pack_raw(e, &len);
        s_expect(s_decode_rc(buf, len, NULL, &err), &err, cases[i].want,
                 cases[i].want ? "answer.item_id" : NULL, what);
        free(buf);
        jk_codec_free(&e);
    }
}

/* ---------------------------------------------------------------------- */
/* The auth tag.                                                            */

static void test_auth_tag(void **state)
{
    (void)state;
    jk_error_t err = {0};
    size_t mutants = 0, decoded = 0;
    for (size_t i = 0; i < N_SAMPLES; i++) {
        size_t len = 0;
        uint8_t *buf = s_encode_sample(i, &len);
        Jk__Envelope *env = NULL;
        assert_int_equal(jk_codec_decode(buf, len, NULL, &env, &err), JK_OK);
        assert_int_equal(jk_codec_auth_verify(env, s_key, sizeof s_key, &err), JK_OK);

        /* The rule, computed independently: HMAC-SHA256 over the envelope
         * packed with auth_tag absent. */
        {
            Jk__Envelope tmp = *env;
            tmp.has_auth_tag = 0;
            size_t n = 0;
            uint8_t *plain = s_pack_raw(&tmp, &n);
            uint8_t mac[32];
            unsigned int ml = 0;
            assert_non_null(HMAC(EVP_sha256(), s_key, sizeof s_key, plain, n, mac, &ml));
            assert_int_equal(ml, 32);
            assert_memory_equal(mac, env->auth_tag.data, 32);
            free(plain);
        }

        /* Any changed key byte: refused. */
        for (size_t k = 0; k < sizeof s_key; k++) {
            uint8_t key2[sizeof s_key];
            memcpy(key2, s_key, sizeof key2);
            key2[k] ^= 0x01;
            assert_int_equal(jk_codec_auth_verify(env, key2, sizeof key2, &err), JK_ERR_AUTH);
        }
        /* Keys are exactly 32 bytes (HMAC would treat K and K||0x00 as
         * one key if lengths could vary). */
        uint8_t key33[33];
        memcpy(key33, s_key, 32);
        key33[32] = 0;
        assert_int_equal(jk_codec_auth_verify(env, key33, sizeof key33, &err), JK_ERR_INVAL);
        assert_int_equal(jk_codec_auth_verify(env, s_key, 31, &err), JK_ERR_INVAL);
        assert_int_equal(jk_codec_auth_verify(env, NULL, 32, &err), JK_ERR_INVAL);
        jk_codec_free(&env);

        /* Any changed byte of the envelope: refused, by decode or verify. */
        static const uint8_t masks[] = {0x01, 0x02, 0x10, 0x80, 0xff};
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t m = 0; m < sizeof masks; m++) {
                buf[pos] ^= masks[m];
                jk_err_t rc = jk_codec_decode(buf, len, NULL, &env, &err);
                if (rc == JK_OK) {
                    decoded++;
                    jk_err_t vrc = jk_codec_auth_verify(env, s_key, sizeof s_key, &err);
                    if (vrc == JK_OK)
                        fail_msg("%s: byte %zu ^ 0x%02x verified", s_samples[i].name, pos,
                                 masks[m]);
                    jk_codec_free(&env);
                }
                mutants++;
                buf[pos] ^= masks[m];
            }
        }
        free(buf);
    }
    print_message("auth: %zu one-byte mutants, %zu decoded, 0 verified\n", mutants, decoded);

    /* No tag. */
    Jk__Envelope *e = b_credit();
    assert_int_equal(jk_codec_auth_verify(e, s_key, sizeof s_key, &err), JK_ERR_MISSING);
    jk_codec_limits_t lim;
    jk_codec_limits_default(&lim);
    lim.require_auth_tag = true;
    s_expect(jk_codec_validate(e, &lim, &err), &err, JK_ERR_MISSING, "envelope.auth_tag",
             "tag required");
    /* Signing ignores a tag already there and leaves env alone. */
    uint8_t t1[32], t2[32], junk[32] = {1};
    assert_int_equal(jk_codec_auth_tag(e, s_key, sizeof s_key, t1, &err), JK_OK);
    e->has_auth_tag = 1;
    e->auth_tag.data = junk;
    e->auth_tag.len = 32;
    assert_int_equal(jk_codec_auth_tag(e, s_key, sizeof s_key, t2, &err), JK_OK);
    assert_memory_equal(t1, t2, 32);
    assert_int_equal(jk_codec_auth_verify(e, s_key, sizeof s_key, &err), JK_ERR_AUTH);
    assert_ptr_equal(e->auth_tag.data, junk);
    e->has_auth_tag = 0;
}

static void test_hashes(void **state)
{
    (void)state;
    jk_error_t err = {0};
    uint8_t h1[32], h2[32], h3[32];
    Jk__Envelope *e = b_answer_selection();
    assert_int_equal(jk_codec_event_hash(e, h1, &err), JK_OK);
    /* A resend: new message id, send time, key and tag. Same event. */
    e = b_answer_selection();
    e->message_id = 999999;
    e->sent_time_ms += 30000;
    e->key_id = "examd-0101.k2";
    e->has_auth_tag = 1;
    e->auth_tag.data = s_digest_a;
    e->auth_tag.len = 32;
    assert_int_equal(jk_codec_event_hash(e, h2, &err), JK_OK);
    assert_memory_equal(h1, h2, 32);
    /* Any content change is another event. */
    e = b_answer_selection();
    e->answer->change_counter = 4;
    assert_int_equal(jk_codec_event_hash(e, h3, &err), JK_OK);
    assert_memory_not_equal(h1, h3, 32);
    e = b_answer_selection();
    e->seq = 8;
    assert_int_equal(jk_codec_event_hash(e, h3, &err), JK_OK);
    assert_memory_not_equal(h1, h3, 32);

    /* Session digest: SHA-256 of nothing, then of the concatenation. */
    uint8_t d[32], want[32];
    unsigned int ml = 0;
    assert_int_equal(jk_codec_session_digest(NULL, 0, d, &err), JK_OK);
    assert_true(EVP_Digest("", 0, want, &ml, EVP_sha256(), NULL));
    assert_memory_equal(d, want, 32);
    uint8_t hs[2][32];
    memcpy(hs[0], h1, 32);
    memcpy(hs[1], h3, 32);
    assert_int_equal(jk_codec_session_digest((const uint8_t(*)[32])hs, 2, d, &err), JK_OK);
    assert_true(EVP_Digest(hs, 64, want, &ml, EVP_sha256(), NULL));
    assert_memory_equal(d, want, 32);
    assert_int_equal(jk_codec_session_digest(NULL, 1, d, &err), JK_ERR_INVAL);
}

static void test_fresh_events_topics(void **state)
{
    (void)state;
    jk_error_t err = {0};
    Jk__Envelope *e = b_heartbeat();
    assert_int_equal(jk_codec_check_fresh(e, T0 + 1500, 0, &err), JK_OK);
    assert_int_equal(jk_codec_check_fresh(e, T0 + 1500 + 30000, 30000, &err), JK_OK);
    s_expect(jk_codec_check_fresh(e, T0 + 1500 + 30001, 30000, &err), &err, JK_ERR_RANGE,
             "envelope.sent_time_ms", "stale");
    s_expect(jk_codec_check_fresh(e, T0, 1000, &err), &err, JK_ERR_RANGE, "envelope.sent_time_ms",
             "from the future");

    static const struct {
        Jk__Envelope *(*build)(void);
        jk_err_t rc;
        jk_session_event_t ev;
    } map[] = {
        {b_session_open, JK_OK, JK_SESSION_EV_OPEN},
        {b_session_resume, JK_OK, JK_SESSION_EV_RELOCATE},
        {b_answer_text, JK_OK, JK_SESSION_EV_ANSWER},
        {b_submit_force, JK_OK, JK_SESSION_EV_FORCE_SUBMIT},
        {b_submit_candidate, JK_OK, JK_SESSION_EV_SUBMIT},
        {b_proctor_extend, JK_OK, JK_SESSION_EV_EXTEND},
        {b_proctor_void, JK_OK, JK_SESSION_EV_VOID},
        {b_proctor_pause, JK_OK, JK_SESSION_EV_PAUSE},
        {b_examiner_score, JK_OK, JK_SESSION_EV_EXAMINER_SCORE},
        {b_heartbeat, JK_ERR_INVAL, 0},
        {b_result, JK_ERR_INVAL, 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        jk_session_event_t ev = 0;
        assert_int_equal(jk_codec_session_event(map[i].build(), &ev, &err), map[i].rc);
        if (map[i].rc == JK_OK)
            assert_int_equal(ev, map[i].ev);
    }
    e = b_submit_candidate();
    e->submit->reason = JK__SUBMIT_REASON__SUBMIT_REASON_TIME_UP;
    jk_session_event_t ev = 0;
    assert_int_equal(jk_codec_session_event(e, &ev, &err), JK_OK);
    assert_int_equal(ev, JK_SESSION_EV_TIME_UP);
    e = b_proctor(JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT);
    e->proctor_action->reason = "作弊";
    assert_int_equal(jk_codec_validate(e, NULL, &err), JK_OK);
    assert_int_equal(jk_codec_session_event(e, &ev, &err), JK_ERR_INVAL);
    e = b_proctor(JK__PROCTOR_ACTION_KIND__PROCTOR_ACTION_KIND_FORCE_SUBMIT);
    s_expect(jk_codec_validate(e, NULL, &err), &err, JK_ERR_MISSING, "proctor_action.reason",
             "force submit without reason");

    char topic[JK_CODEC_TOPIC_MAX];
    assert_int_equal(jk_codec_topic(b_monitor_event(), topic, sizeof topic, &err), JK_OK);
    assert_string_equal(topic, "E2026-06/S0101/R03/proctor_action");
    assert_int_equal(jk_codec_topic(b_answer_text(), topic, sizeof topic, &err), JK_OK);
    assert_string_equal(topic, "E2026-06/S0101/R03/answer");
    assert_int_equal(jk_codec_topic(b_answer_text(), topic, 10, &err), JK_ERR_TOO_BIG);
    assert_string_equal(topic, "");
    s_expect(jk_codec_topic(b_credit(), topic, sizeof topic, &err), &err, JK_ERR_MISSING,
             "envelope.exam_id", "topic of a credit");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    jk_error_t err = {0};
    Jk__Envelope *env = NULL;
    uint8_t b = 0;
    assert_int_equal(jk_codec_decode(NULL, 1, NULL, &env, &err), JK_ERR_INVAL);
    assert_int_equal(jk_codec_decode(&b, 1, NULL, NULL, &err), JK_ERR_INVAL);
    assert_int_equal(jk_codec_decode(NULL, 0, NULL, &env, NULL), JK_ERR_MISSING);
    assert_int_equal(jk_codec_validate(NULL, NULL, &err), JK_ERR_INVAL);
    uint8_t *out = (uint8_t *)&b;
    size_t len = 5;
    assert_int_equal(jk_codec_encode(NULL, &out, &len, &err), JK_ERR_INVAL);
    assert_null(out);
    assert_int_equal(jk_codec_encode(b_credit(), NULL, &len, &err), JK_ERR_INVAL);
    /* The error record may be NULL everywhere. */
    assert_int_equal(jk_codec_decode(&b, 1, NULL, &env, NULL), JK_ERR_PARSE);
    jk_codec_limits_default(NULL);
}

/* ---------------------------------------------------------------------- */
/* Random bytes and mutations.                                              */

static uint64_t s_rng;

static uint64_t s_next(void) /* splitmix64 */
{
    uint64_t z = (s_rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

#define RANDOM_STRINGS 1000000u
#define MUTATIONS_PER_SAMPLE 8000u

static void test_random_bytes(void **state)
{
    (void)state;
    s_rng = UINT64_C(0x6a696b616f2d3031); /* "jikao-01" */
    size_t unpack_ok = 0, decode_ok = 0, total_bytes = 0;
    size_t by_code[JK_ERR__COUNT] = {0};
    uint8_t *buf = malloc(1024);
    assert_non_null(buf);
    for (size_t i = 0; i < RANDOM_STRINGS; i++) {
        uint64_t r = s_next();
        /* Mostly short strings (where unpack has a chance), some long. */
        size_t len = (r & 3) ? (size_t)((r >> 8) % 48) : (size_t)((r >> 8) % 1024);
        for (size_t k = 0; k < len; k += 8) {
            uint64_t v = s_next();
            memcpy(buf + k, &v, len - k < 8 ? len - k : 8);
        }
        total_bytes += len;
        /* Raw protobuf-c, the way a careless receiver would use it. */
        Jk__Envelope *raw = jk__envelope__unpack(NULL, len, buf);
        if (raw) {
            unpack_ok++;
            jk__envelope__free_unpacked(raw, NULL);
        }
        jk_error_t err;
        Jk__Envelope *env = NULL;
        jk_err_t rc = jk_codec_decode(buf, len, NULL, &env, &err);
        if (rc == JK_OK) {
            decode_ok++;
            jk_codec_free(&env);
        }
        by_code[rc]++;
    }
    free(buf);
    print_message("random: %u strings (%zu bytes), protobuf-c unpack accepted %zu, "
                  "jk_codec_decode accepted %zu\n",
                  RANDOM_STRINGS, total_bytes, unpack_ok, decode_ok);
    print_message("random: refused as parse %zu, missing %zu, version %zu, too-big %zu, "
                  "invalid %zu, range %zu, other %zu\n",
                  by_code[JK_ERR_PARSE], by_code[JK_ERR_MISSING], by_code[JK_ERR_VERSION],
                  by_code[JK_ERR_TOO_BIG], by_code[JK_ERR_INVAL], by_code[JK_ERR_RANGE],
                  RANDOM_STRINGS - decode_ok - by_code[JK_ERR_PARSE] - by_code[JK_ERR_MISSING] -
                      by_code[JK_ERR_VERSION] - by_code[JK_ERR_TOO_BIG] - by_code[JK_ERR_INVAL] -
                      by_code[JK_ERR_RANGE]);
    assert_int_equal(decode_ok, 0);
}

static void test_mutations(void **state)
{
    (void)state;
    s_rng = UINT64_C(0x6d75746174696f6e); /* "mutation" */
    size_t tried = 0, unpack_ok = 0, decode_ok = 0;
    uint8_t *srcs[N_SAMPLES];
    size_t lens[N_SAMPLES];
    for (size_t i = 0; i < N_SAMPLES; i++)
        srcs[i] = s_encode_sample(i, &lens[i]);
    for (size_t i = 0; i < N_SAMPLES; i++) {
        size_t cap = lens[i] + 64;
        uint8_t *m = malloc(cap);
        assert_non_null(m);
        for (size_t t = 0; t < MUTATIONS_PER_SAMPLE; t++) {
            size_t len = lens[i];
            memcpy(m, srcs[i], len);
            unsigned rounds = 1 + (unsigned)(s_next() % 3);
            for (unsigned k = 0; k < rounds; k++) {
                uint64_t r = s_next();
                size_t pos = len ? (size_t)((r >> 8) % len) : 0;
                switch (r % 8) {
                case 0: /* flip a bit */
                    if (len)
                        m[pos] ^= (uint8_t)(1u << ((r >> 40) % 8));
                    break;
                case 1: /* set a byte */
                    if (len)
                        m[pos] = (uint8_t)(r >> 48);
                    break;
                case 2: /* insert a byte */
                    if (len + 1 <= cap) {
                        memmove(m + pos + 1, m + pos, len - pos);
                        m[pos] = (uint8_t)(r >> 48);
                        len++;
                    }
                    break;
                case 3: /* delete a byte */
                    if (len) {
                        memmove(m + pos, m + pos + 1, len - pos - 1);
                        len--;
                    }
                    break;
                case 4: /* truncate */
                    len = pos;
                    break;
                case 5: /* an interesting value */ {
                    static const uint8_t vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12};
                    if (len)
                        m[pos] = vals[(r >> 40) % sizeof vals];
                    break;
                }
                case 6: /* splice the tail of another sample */ {
                    size_t o = (size_t)((r >> 32) % N_SAMPLES);
                    size_t from = lens[o] ? (size_t)((r >> 16) % lens[o]) : 0;
                    size_t n = lens[o] - from;
                    if (pos + n > cap)
                        n = cap - pos;
                    memcpy(m + pos, srcs[o] + from, n);
                    len = pos + n;
                    break;
                }
                default: /* duplicate a chunk */ {
                    size_t n = (size_t)((r >> 40) % 16);
                    if (pos + n <= len && len + n <= cap) {
                        memmove(m + pos + n, m + pos, len - pos);
                        len += n;
                    }
                    break;
                }
                }
            }
            /* Exactly len bytes, for ASan. */
            uint8_t *p = malloc(len ? len : 1);
            memcpy(p, m, len);
            Jk__Envelope *raw = jk__envelope__unpack(NULL, len, p);
            if (raw) {
                unpack_ok++;
                jk__envelope__free_unpacked(raw, NULL);
            }
            jk_error_t err;
            Jk__Envelope *env = NULL;
            if (jk_codec_decode(p, len, NULL, &env, &err) == JK_OK) {
                decode_ok++;
                /* Whatever is accepted is canonical and valid. */
                uint8_t *again = NULL;
                size_t alen = 0;
                assert_int_equal(jk_codec_encode(env, &again, &alen, &err), JK_OK);
                assert_int_equal(alen, len);
                assert_memory_equal(again, p, len);
                free(again);
                jk_codec_free(&env);
            }
            free(p);
            tried++;
        }
        free(m);
    }
    for (size_t i = 0; i < N_SAMPLES; i++)
        free(srcs[i]);
    print_message("mutations: %zu of valid encodings, protobuf-c unpack accepted %zu, "
                  "jk_codec_decode accepted %zu\n",
                  tried, unpack_ok, decode_ok);
    assert_true(decode_ok < unpack_ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_kind_names_and_flags),
        cmocka_unit_test(test_truncated_at_every_length),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_noncanonical),
        cmocka_unit_test(test_kind_body_mismatch),
        cmocka_unit_test(test_each_missing_required_field),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_auth_tag),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_fresh_events_topics),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
