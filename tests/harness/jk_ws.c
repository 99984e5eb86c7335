/* jk_ws: a candidate workstation for integration stories; see jk_ws.h. */
#include "jk_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "jk_clock.h"
#include "jk_net.h"

void *jk_ws_dealer(void *zctx, const char *ep, int timeout_ms)
{
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0;
    if (!s)
        return NULL;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, ep) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

bool jk_ws_open(jk_ws_t *w, void *zctx, jk_cluster_t *c, int site)
{
    memset(w, 0, sizeof *w);
    w->sock = jk_ws_dealer(zctx, jk_cluster_candidate_endpoint(c, site), 5000);
    return w->sock != NULL;
}

void jk_ws_close(jk_ws_t *w)
{
    if (w->sock)
        zmq_close(w->sock);
    w->sock = NULL;
}

void jk_ws_send_raw(void *sock, const void *data, size_t len)
{
    jk_net_item_t item = { NULL, 0, data, len };
    jk_net_send_batch(sock, NULL, 0, JK_NET_LINK_CLIENT, &item, 1, NULL);
}

Jk__Envelope *jk_ws_recv(void *sock)
{
    jk_net_msg_t *m = jk_net_msg_new(2 + JK_NET_BATCH_MAX);
    jk_net_batch_t b;
    Jk__Envelope *env = NULL;
    if (m && jk_net_recv(sock, m, JK_CODEC_MAX_LARGE_BYTES, 0, NULL) == JK_OK &&
        jk_net_parse(m, JK_NET_LINK_CLIENT, false, &b, NULL) == JK_OK && b.n >= 1)
        jk_codec_decode(b.items[0].env, b.items[0].env_len, NULL, &env, NULL);
    jk_net_msg_destroy(&m);
    return env;
}

void jk_ws_hdr(jk_ws_t *w, Jk__Envelope *e, Jk__Kind kind, bool ids)
{
    e->has_schema_version = 1;
    e->schema_version = 1;
    e->has_kind = 1;
    e->kind = kind;
    e->node_id = "ws-test";
    e->has_message_id = 1;
    e->message_id = ++w->msg;
    e->has_sent_time_ms = 1;
    e->sent_time_ms = (uint64_t)jk_clock_wall_ms(jk_clock_system());
    if (ids) {
        e->exam_id = w->exam;
        e->site_id = w->site;
        e->room_id = w->room;
        e->session_id = w->sid;
        e->candidate_id = w->cand;
        e->has_seq = 1;
        e->seq = ++w->seq;
        e->has_event_time_ms = 1;
        e->event_time_ms = e->sent_time_ms;
    }
}

uint8_t *jk_ws_answer_bytes(jk_ws_t *w, const jk_sitting_t *center, size_t k, const uint8_t *key,
                            size_t *len)
{
    const jk_sitting_entry_t *e = jk_sitting_find_entry(center, w->sid);
    if (!e || k >= e->n_items)
        return NULL;
    Jk__Envelope env = JK__ENVELOPE__INIT;
    Jk__Answer a = JK__ANSWER__INIT;
    Jk__Response r = JK__RESPONSE__INIT;
    Jk__Selection sel = JK__SELECTION__INIT;
    uint32_t one = 1;
    jk_ws_hdr(w, &env, JK__KIND__KIND_ANSWER, true);
    a.item_id = (char *)e->items[k].item;
    if (e->items[k].n_order) {
        r.value_case = JK__RESPONSE__VALUE_SELECTION;
        sel.n_option_ids = 1;
        sel.option_ids = &one;
        r.selection = &sel;
    } else {
        r.value_case = JK__RESPONSE__VALUE_JUDGMENT;
        r.judgment = 1;
    }
    a.response = &r;
    a.has_flagged = 1;
    a.has_change_counter = 1;
    a.change_counter = 1;
    env.body_case = JK__ENVELOPE__BODY_ANSWER;
    env.answer = &a;
    uint8_t *b = NULL;
    return jk_codec_encode_signed(&env, key, 32, &b, len, NULL) == JK_OK ? b : NULL;
}

bool jk_ws_credential(jk_cluster_t *c, int index, char adm[64], char pw[32])
{
    FILE *f = fopen(jk_harness_strf("%s/credentials.csv", jk_cluster_center(c)), "r");
    char line[256];
    int row = 0;
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        if (sscanf(line, "%63[^,],%*[^,],%31[^\n]", adm, pw) == 2 && strcmp(adm, "admission_no") != 0)
            found = row++ == index;
    if (f)
        fclose(f);
    return found;
}

bool jk_ws_send_login(jk_ws_t *w, const char *adm, const char *pw)
{
    Jk__Envelope e = JK__ENVELOPE__INIT;
    Jk__LoginRequest lq = JK__LOGIN_REQUEST__INIT;
    jk_ws_hdr(w, &e, JK__KIND__KIND_LOGIN_REQUEST, false);
    lq.admission_no = (char *)adm;
    lq.has_credential = 1;
    lq.credential.data = (uint8_t *)pw;
    lq.credential.len = strlen(pw);
    lq.workstation_id = "ws-test";
    e.body_case = JK__ENVELOPE__BODY_LOGIN_REQUEST;
    e.login_request = &lq;
    uint8_t *b;
    size_t l;
    if (jk_codec_encode(&e, &b, &l, NULL) != JK_OK)
        return false;
    jk_ws_send_raw(w->sock, b, l);
    free(b);
    return true;
}

bool jk_ws_take_login(jk_ws_t *w, const Jk__Envelope *r)
{
    if (!r || r->body_case != JK__ENVELOPE__BODY_LOGIN_REPLY ||
        r->login_reply->status != JK__LOGIN_STATUS__LOGIN_STATUS_OK ||
        r->login_reply->session_token.len != sizeof w->token)
        return false;
    memcpy(w->token, r->login_reply->session_token.data, sizeof w->token);
    snprintf(w->exam, sizeof w->exam, "%s", r->exam_id);
    snprintf(w->site, sizeof w->site, "%s", r->site_id);
    snprintf(w->room, sizeof w->room, "%s", r->room_id);
    snprintf(w->sid, sizeof w->sid, "%s", r->session_id);
    snprintf(w->cand, sizeof w->cand, "%s", r->candidate_id);
    w->seq = 0; /* a new login numbers its requests from 1 */
    return true;
}

bool jk_ws_login(jk_ws_t *w, jk_cluster_t *c, int site, int index)
{
    char adm[64], pw[32];
    if (!jk_ws_credential(c, index, adm, pw))
        return false;
    for (int tries = 0; tries < 50; tries++) {
        if (!jk_ws_send_login(w, adm, pw))
            return false;
        Jk__Envelope *r = jk_ws_recv(w->sock);
        if (!r || r->body_case != JK__ENVELOPE__BODY_LOGIN_REPLY) {
            jk_codec_free(&r);
            return false;
        }
        bool ok = jk_ws_take_login(w, r);
        jk_codec_free(&r);
        if (ok)
            return true;
        /* Not yet authorized: the proctor does it now. */
        char buf[256];
        jk_cluster_staff(c, site, "authorize all proctor-test", buf, sizeof buf);
        usleep(100000);
    }
    return false;
}
