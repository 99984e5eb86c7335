/*
 * jk_ws: a candidate workstation for integration stories, speaking the
 * candidate protocol to an examd over a real ZeroMQ DEALER socket (the
 * load generator does the same at scale; a story needs one request at a
 * time and the exact replies).
 */
#ifndef JK_WS_H
#define JK_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_cluster.h"
#include "jk_codec.h"
#include "jk_sitting.h"

typedef struct {
    void *sock;
    uint8_t token[32];        /* the session token of the last login */
    char exam[65], site[65], room[65], sid[65], cand[65];
    uint64_t seq, msg;        /* the last request number and message id */
} jk_ws_t;

/* A DEALER connected to ep, with a receive timeout and no linger. */
void *jk_ws_dealer(void *zctx, const char *ep, int timeout_ms);
/* Opens a workstation on site's candidate endpoint (w is reset). */
bool jk_ws_open(jk_ws_t *w, void *zctx, jk_cluster_t *c, int site);
void jk_ws_close(jk_ws_t *w);

/* Sends bytes as one candidate request ("", "JK1C", envelope). */
void jk_ws_send_raw(void *sock, const void *data, size_t len);
/* Receives one envelope; NULL on timeout or undecodable reply. */
Jk__Envelope *jk_ws_recv(void *sock);

/* Fills the header of a request; with `ids`, the session's ids and the
 * next request number too. */
void jk_ws_hdr(jk_ws_t *w, Jk__Envelope *e, Jk__Kind kind, bool ids);

/* An answer to the k-th item of w's paper (option 1, or "true"), signed
 * with key (w->token for a genuine one): the envelope bytes (malloc'd), or
 * NULL. center: the center's sitting document. */
uint8_t *jk_ws_answer_bytes(jk_ws_t *w, const jk_sitting_t *center, size_t k, const uint8_t *key,
                            size_t *len);

/* The index-th candidate (from 0) of the sitting's credentials.csv. */
bool jk_ws_credential(jk_cluster_t *c, int index, char adm[64], char pw[32]);
/* Sends a login request. */
bool jk_ws_send_login(jk_ws_t *w, const char *adm, const char *pw);
/* Takes the token and ids of an OK login reply into w; false otherwise. */
bool jk_ws_take_login(jk_ws_t *w, const Jk__Envelope *reply);
/* Logs the index-th candidate in, authorizing the sessions (a proctor's
 * `authorize all`) while the reply says to wait. */
bool jk_ws_login(jk_ws_t *w, jk_cluster_t *c, int site, int index);

#endif
