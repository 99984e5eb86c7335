/*
 * jk_net: the ZeroMQ transport adapter; see jk_net.h for the design note
 * and the contracts.
 *
 * Implementation notes.
 * - Key files are tiny; they are read with a bound of S_KEY_FILE_MAX_BYTES
 *   through one fstat-sized read (no growing buffer that could leave a copy
 *   of a secret behind) and the buffer is wiped after use.
 * - Whole-file writes use jk_file_write() (temporary file, exact mode,
 *   fsync, rename, fsync of the directory), so a crash leaves the old key
 *   file or the new one, never half of one.
 * - The allow-list is indexed by the Z85 text of each key in a jk_strmap:
 *   the ZAP request carries the binary key, which is encoded once per
 *   handshake (40 bytes) and looked up.
 * - Every zmq_setsockopt result is checked: a socket that silently missed
 *   its ZMQ_MAXMSGSIZE or ZMQ_ROUTER_MANDATORY would break a promise.
 */
#include "jk_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "jk_log.h"
#include "jk_file.h"
#include "jk_strmap.h"
#include "jk_text.h"

#define S_KEY_FILE_MAX_BYTES 4096u   /* a key file is 41 bytes; comments allowed */
#define S_ALLOW_LINE_MAX 1024u       /* longer allow-list lines are an error */
#define S_ZAP_FRAMES_MAX 10u         /* ZAP requests: 6 + credentials (PLAIN: 8) */
#define S_ZAP_FRAME_MAX_BYTES 512u   /* domain, address, identity, credentials */
#define S_ZAP_PER_CALL_MAX 256u      /* requests answered per jk_net_zap_handle */
#define S_MSG_FRAMES_LIMIT (JK_NET_FRAMES_MAX + 8u)

const char *const jk_net_security_names[] = { "curve", "plain", NULL };

/* Wipes memory in a way the compiler may not elide (no OpenSSL here: the
 * adapter stays independent of the crypto library). */
static void s_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/* ------------------------------------------------------------------------
 * Keys
 */

bool jk_net_z85_key_valid(const char *s)
{
    if (!s || strlen(s) != JK_NET_Z85_LEN)
        return false;
    uint8_t bin[JK_NET_KEY_BYTES];
    bool ok = zmq_z85_decode(bin, s) != NULL;
    s_wipe(bin, sizeof bin);
    return ok;
}

jk_err_t jk_net_keypair_generate(jk_net_keypair_t *kp, jk_error_t *err)
{
    if (!kp)
        return jk_error_set(err, JK_ERR_INVAL, "keypair: missing argument");
    memset(kp, 0, sizeof *kp);
    if (!zmq_has("curve"))
        return jk_error_set(err, JK_ERR_UNAVAIL, "this libzmq was built without CURVE");
    if (zmq_curve_keypair(kp->public_z85, kp->secret_z85) != 0) {
        int e = errno;
        jk_net_keypair_wipe(kp);
        return jk_error_set(err, JK_ERR_IO, "zmq_curve_keypair: %s", zmq_strerror(e));
    }
    return JK_OK;
}

void jk_net_keypair_wipe(jk_net_keypair_t *kp)
{
    if (kp)
        s_wipe(kp, sizeof *kp);
}

jk_err_t jk_net_public_of(const char *secret_z85, char public_z85[JK_NET_Z85_LEN + 1],
                          jk_error_t *err)
{
    if (!public_z85)
        return jk_error_set(err, JK_ERR_INVAL, "public key: missing argument");
    public_z85[0] = '\0';
    if (!jk_net_z85_key_valid(secret_z85))
        return jk_error_set(err, JK_ERR_INVAL, "secret key: not a 40-character Z85 key");
    if (zmq_curve_public(public_z85, secret_z85) != 0) {
        public_z85[0] = '\0';
        return jk_error_set(err, JK_ERR_UNAVAIL, "zmq_curve_public: %s", zmq_strerror(errno));
    }
    return JK_OK;
}

jk_err_t jk_net_key_write(const char *path, const char *z85, bool secret, jk_error_t *err)
{
    if (!path || !*path)
        return jk_error_set(err, JK_ERR_INVAL, "key file: missing path");
    if (!jk_net_z85_key_valid(z85))
        return jk_error_set(err, JK_ERR_INVAL, "%s: not a 40-character Z85 key", path);
    char text[JK_NET_Z85_LEN + 2];
    memcpy(text, z85, JK_NET_Z85_LEN);
    text[JK_NET_Z85_LEN] = '\n';
    text[JK_NET_Z85_LEN + 1] = '\0';
    /* Public keys are meant to be copied around (0644); a secret key is
     * readable by its owner only (0600), whatever the umask. */
    jk_err_t rc = jk_file_write(path, text, JK_NET_Z85_LEN + 1, secret ? 0600u : 0644u, err);
    s_wipe(text, sizeof text);
    return rc;
}

/* Reads a small regular file (NUL added); with `secret`, refuses one that
 * group or others may access (see jk_file_read). */
static jk_err_t s_read_small(const char *path, size_t max, bool secret, char **out,
                             size_t *len_out, jk_error_t *err)
{
    uint8_t *buf = NULL;
    jk_err_t rc = jk_file_read(path, max, secret, &buf, len_out, err);
    *out = (char *)buf;
    return rc;
}

static bool s_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

jk_err_t jk_net_key_read(const char *path, bool secret, char out[JK_NET_Z85_LEN + 1],
                         jk_error_t *err)
{
    if (!path || !out)
        return jk_error_set(err, JK_ERR_INVAL, "key file: missing argument");
    out[0] = '\0';
    char *buf = NULL;
    size_t len = 0;
    jk_err_t rc = s_read_small(path, S_KEY_FILE_MAX_BYTES, secret, &buf, &len, err);
    if (rc != JK_OK)
        return rc;
    size_t keys = 0, line = 0;
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        while (p < le && s_blank(*p))
            p++;
        char *q = le;
        while (q > p && s_blank(q[-1]))
            q--;
        if (q > p && *p != '#') {
            if (++keys > 1) {
                rc = jk_error_set(err, JK_ERR_PARSE, "%s:%zu: more than one key in a key file",
                                  path, line);
                goto cleanup;
            }
            if ((size_t)(q - p) != JK_NET_Z85_LEN) {
                rc = jk_error_set(err, JK_ERR_PARSE,
                                  "%s:%zu: expected a 40-character Z85 key, found %zu characters",
                                  path, line, (size_t)(q - p));
                goto cleanup;
            }
            memcpy(out, p, JK_NET_Z85_LEN);
            out[JK_NET_Z85_LEN] = '\0';
            if (!jk_net_z85_key_valid(out)) {
                rc = jk_error_set(err, JK_ERR_PARSE, "%s:%zu: not a Z85 key", path, line);
                goto cleanup;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (keys == 0)
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: no key in the file", path);
cleanup:
    if (rc != JK_OK)
        s_wipe(out, JK_NET_Z85_LEN + 1);
    s_wipe(buf, len + 1);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------
 * Allow-list
 */

typedef struct {
    char name[JK_NET_NAME_MAX + 1];
    char key[JK_NET_Z85_LEN + 1];
    size_t line;
} s_allow_entry_t;

struct jk_net_allow {
    s_allow_entry_t *entries; /* n entries, in file order */
    size_t n;
    jk_strmap_t *by_key;      /* Z85 key -> index */
    jk_strmap_t *by_name;     /* name -> index (duplicates) */
};

void jk_net_allow_destroy(jk_net_allow_t **a)
{
    if (!a || !*a)
        return;
    jk_strmap_destroy(&(*a)->by_key);
    jk_strmap_destroy(&(*a)->by_name);
    free((*a)->entries);
    free(*a);
    *a = NULL;
}

/* Splits one allow-list line (already without its newline) into its two
 * words; returns the number of words found (up to 3, to detect extras). */
static size_t s_words(const char *p, const char *end, const char *w[3], size_t wl[3])
{
    size_t n = 0;
    while (p < end && n < 3) {
        while (p < end && s_blank(*p))
            p++;
        if (p >= end)
            break;
        const char *s = p;
        while (p < end && !s_blank(*p))
            p++;
        w[n] = s;
        wl[n] = (size_t)(p - s);
        n++;
    }
    return n;
}

jk_net_allow_t *jk_net_allow_parse(const char *text, size_t len, const char *name,
                                   jk_error_t *err)
{
    if (!name)
        name = "allow-list";
    if (!text && len) {
        jk_error_set(err, JK_ERR_INVAL, "%s: missing text", name);
        return NULL;
    }
    if (len > JK_NET_ALLOW_FILE_MAX) {
        jk_error_set(err, JK_ERR_TOO_BIG, "%s: %zu bytes, more than the bound of %u", name, len,
                     JK_NET_ALLOW_FILE_MAX);
        return NULL;
    }
    /* Count candidate lines first: the entry array is allocated once. */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    size_t cap = lines < JK_NET_ALLOW_ENTRIES_MAX ? lines : JK_NET_ALLOW_ENTRIES_MAX;
    jk_net_allow_t *a = calloc(1, sizeof *a);
    if (!a || !(a->entries = calloc(cap ? cap : 1, sizeof *a->entries)) ||
        !(a->by_key = jk_strmap_new(cap)) || !(a->by_name = jk_strmap_new(cap))) {
        jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    const char *p = text, *end = text + len;
    size_t line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        if ((size_t)(le - p) > S_ALLOW_LINE_MAX) {
            jk_error_set(err, JK_ERR_TOO_BIG, "%s:%zu: line longer than %u bytes", name, line,
                         S_ALLOW_LINE_MAX);
            goto fail;
        }
        for (const char *c = p; c < le; c++) {
            if (*c == '\0') {
                jk_error_set(err, JK_ERR_PARSE, "%s:%zu: NUL byte in the line", name, line);
                goto fail;
            }
        }
        const char *w[3];
        size_t wl[3];
        size_t nw = s_words(p, le, w, wl);
        p = nl ? nl + 1 : end;
        if (nw == 0 || w[0][0] == '#')
            continue;
        if (nw != 2) {
            jk_error_set(err, JK_ERR_PARSE,
                         "%s:%zu: expected '<name> <z85-public-key>', found %s word%s", name,
                         line, nw == 1 ? "one" : "more than two", nw == 1 ? "" : "s");
            goto fail;
        }
        if (a->n >= JK_NET_ALLOW_ENTRIES_MAX) {
            jk_error_set(err, JK_ERR_TOO_BIG, "%s:%zu: more than %u entries", name, line,
                         JK_NET_ALLOW_ENTRIES_MAX);
            goto fail;
        }
        s_allow_entry_t *e = &a->entries[a->n];
        if (wl[0] > JK_NET_NAME_MAX) {
            jk_error_set(err, JK_ERR_PARSE, "%s:%zu: name longer than %u bytes", name, line,
                         JK_NET_NAME_MAX);
            goto fail;
        }
        memcpy(e->name, w[0], wl[0]);
        e->name[wl[0]] = '\0';
        if (!jk_id_valid(e->name, JK_NET_NAME_MAX)) {
            char vb[JK_LOG_VALUE_MAX];
            jk_error_set(err, JK_ERR_PARSE,
                         "%s:%zu: name %s: not an id (1..64 of A-Z a-z 0-9 - _ . :)", name, line,
                         jk_log_value(e->name, vb));
            goto fail;
        }
        if (wl[1] != JK_NET_Z85_LEN) {
            jk_error_set(err, JK_ERR_PARSE,
                         "%s:%zu: key of %s: expected 40 Z85 characters, found %zu", name, line,
                         e->name, wl[1]);
            goto fail;
        }
        memcpy(e->key, w[1], wl[1]);
        e->key[JK_NET_Z85_LEN] = '\0';
        if (!jk_net_z85_key_valid(e->key)) {
            jk_error_set(err, JK_ERR_PARSE, "%s:%zu: key of %s: not a Z85 key", name, line,
                         e->name);
            goto fail;
        }
        e->line = line;
        size_t prev = 0;
        int r = jk_strmap_put(a->by_name, e->name, a->n, &prev);
        if (r == 0) {
            jk_error_set(err, JK_ERR_DUP, "%s:%zu: name %s already on line %zu", name, line,
                         e->name, a->entries[prev].line);
            goto fail;
        }
        if (r < 0 || (r = jk_strmap_put(a->by_key, e->key, a->n, &prev)) < 0) {
            jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
            goto fail;
        }
        if (r == 0) {
            jk_error_set(err, JK_ERR_DUP, "%s:%zu: the key of %s is already on line %zu (%s)",
                         name, line, e->name, a->entries[prev].line, a->entries[prev].name);
            goto fail;
        }
        a->n++;
    }
    return a;
fail:
    jk_net_allow_destroy(&a);
    return NULL;
}

jk_net_allow_t *jk_net_allow_load(const char *path, jk_error_t *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (!path) {
        jk_error_set(err, JK_ERR_INVAL, "allow-list: missing path");
        return NULL;
    }
    if (s_read_small(path, JK_NET_ALLOW_FILE_MAX, false, &buf, &len, err) != JK_OK)
        return NULL;
    jk_net_allow_t *a = jk_net_allow_parse(buf, len, path, err);
    free(buf);
    return a;
}

const char *jk_net_allow_find(const jk_net_allow_t *a, const uint8_t key[JK_NET_KEY_BYTES])
{
    if (!a || !key)
        return NULL;
    char z85[JK_NET_Z85_LEN + 1];
    if (!zmq_z85_encode(z85, key, JK_NET_KEY_BYTES))
        return NULL;
    size_t i = 0;
    if (!jk_strmap_get(a->by_key, z85, &i) || i >= a->n)
        return NULL;
    return a->entries[i].name;
}

size_t jk_net_allow_count(const jk_net_allow_t *a)
{
    return a ? a->n : 0;
}

/* ------------------------------------------------------------------------
 * Bounded receive
 */

struct jk_net_msg {
    size_t max_frames;
    size_t count;        /* frames held (initialised) */
    zmq_msg_t frames[];  /* max_frames */
};

jk_net_msg_t *jk_net_msg_new(size_t max_frames)
{
    if (max_frames == 0 || max_frames > S_MSG_FRAMES_LIMIT)
        return NULL;
    jk_net_msg_t *m = calloc(1, sizeof *m + max_frames * sizeof(zmq_msg_t));
    if (m)
        m->max_frames = max_frames;
    return m;
}

void jk_net_msg_clear(jk_net_msg_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++)
        zmq_msg_close(&m->frames[i]);
    m->count = 0;
}

void jk_net_msg_destroy(jk_net_msg_t **m)
{
    if (!m || !*m)
        return;
    jk_net_msg_clear(*m);
    free(*m);
    *m = NULL;
}

jk_err_t jk_net_recv(void *sock, jk_net_msg_t *m, size_t max_frame_bytes, int flags,
                     jk_error_t *err)
{
    if (!sock || !m)
        return jk_error_set(err, JK_ERR_INVAL, "recv: missing argument");
    jk_net_msg_clear(m);
    size_t frames = 0, big_frame = 0, big_size = 0;
    bool too_many = false, too_big = false;
    for (;;) {
        zmq_msg_t spill;
        zmq_msg_t *f = m->count < m->max_frames ? &m->frames[m->count] : &spill;
        zmq_msg_init(f);
        if (zmq_msg_recv(f, sock, frames == 0 ? flags : 0) < 0) {
            int e = errno;
            zmq_msg_close(f);
            if (frames == 0 && (e == EAGAIN || e == EINTR)) {
                jk_net_msg_clear(m);
                return JK_ERR_UNAVAIL;
            }
            /* Later frames of a message arrive with the first; failing here
             * means the context is going away. */
            jk_net_msg_clear(m);
            return jk_error_set(err, JK_ERR_IO, "recv: frame %zu: %s", frames, zmq_strerror(e));
        }
        size_t size = zmq_msg_size(f);
        if (size > max_frame_bytes && !too_big) {
            too_big = true;
            big_frame = frames;
            big_size = size;
        }
        bool more = zmq_msg_more(f) != 0;
        frames++;
        if (f == &spill) {
            too_many = true;
            zmq_msg_close(&spill);
        } else {
            m->count++;
        }
        if (!more)
            break;
    }
    if (too_many || too_big) {
        /* Keep the first frame when it is within bounds: on a ROUTER it is
         * the sender's routing id, which the caller needs to count the
         * refusal against that peer. */
        bool keep = m->count > 0 && zmq_msg_size(&m->frames[0]) <= max_frame_bytes &&
                    zmq_msg_size(&m->frames[0]) <= JK_NET_ROUTING_ID_MAX;
        for (size_t i = keep ? 1 : 0; i < m->count; i++)
            zmq_msg_close(&m->frames[i]);
        m->count = keep ? 1 : 0;
        if (too_many)
            return jk_error_set(err, JK_ERR_RANGE, "message of %zu frames, more than %zu", frames,
                                m->max_frames);
        return jk_error_set(err, JK_ERR_TOO_BIG, "frame %zu: %zu bytes, more than %zu", big_frame,
                            big_size, max_frame_bytes);
    }
    return JK_OK;
}

size_t jk_net_msg_count(const jk_net_msg_t *m)
{
    return m ? m->count : 0;
}

const uint8_t *jk_net_msg_data(const jk_net_msg_t *m, size_t i, size_t *len)
{
    if (!m || i >= m->count) {
        if (len)
            *len = 0;
        return NULL;
    }
    /* zmq_msg_data/size take a non-const message; they do not change it. */
    zmq_msg_t *f = (zmq_msg_t *)&m->frames[i];
    if (len)
        *len = zmq_msg_size(f);
    return zmq_msg_data(f);
}

static const char *s_msg_prop(const jk_net_msg_t *m, const char *prop)
{
    if (!m)
        return "";
    /* The routing-id frame a ROUTER prepends carries no metadata; any
     * other frame of the message does. */
    for (size_t i = m->count; i-- > 0;) {
        const char *v = zmq_msg_gets((zmq_msg_t *)&m->frames[i], prop);
        if (v)
            return v;
    }
    return "";
}

const char *jk_net_msg_user_id(const jk_net_msg_t *m)
{
    return s_msg_prop(m, "User-Id");
}

const char *jk_net_msg_peer_address(const jk_net_msg_t *m)
{
    return s_msg_prop(m, "Peer-Address");
}

/* ------------------------------------------------------------------------
 * Checked send
 */

jk_err_t jk_net_send(void *sock, const jk_net_frame_t *frames, size_t n, jk_error_t *err)
{
    if (!sock || !frames || n == 0)
        return jk_error_set(err, JK_ERR_INVAL, "send: missing argument");
    for (size_t i = 0; i < n; i++) {
        int fl = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        const void *d = frames[i].len ? frames[i].data : "";
        if (zmq_send(sock, d, frames[i].len, fl) >= 0)
            continue;
        int e = errno;
        if (i == 0 && e == EHOSTUNREACH)
            return jk_error_set(err, JK_ERR_NOTFOUND, "send: no such peer");
        if (i == 0 && e == EAGAIN)
            return jk_error_set(err, JK_ERR_FULL, "send: high-water mark reached");
        /* libzmq accepts the rest of a message once it took the first frame;
         * a failure here is a closing context or a bug. */
        return jk_error_set(err, JK_ERR_IO, "send: frame %zu of %zu: %s", i, n, zmq_strerror(e));
    }
    return JK_OK;
}

/* ------------------------------------------------------------------------
 * Framing
 */

jk_err_t jk_net_parse(const jk_net_msg_t *m, jk_net_link_t link, bool routed,
                      jk_net_batch_t *b, jk_error_t *err)
{
    if (!m || !b)
        return jk_error_set(err, JK_ERR_INVAL, "parse: missing argument");
    memset(b, 0, offsetof(jk_net_batch_t, items));
    const char *proto = link == JK_NET_LINK_WORKER ? JK_NET_PROTO_WORKER : JK_NET_PROTO_CLIENT;
    size_t per = link == JK_NET_LINK_WORKER ? 2 : 1;
    size_t head = routed ? 3 : 2;
    size_t n = m->count;
    if (n < head + per || (n - head) % per != 0 || (n - head) / per > JK_NET_BATCH_MAX)
        return jk_error_set(err, JK_ERR_RANGE,
                            "frames: %zu; a %s message has %zu + %s, 1 <= n <= %u", n, proto,
                            head, per == 2 ? "2n" : "n", JK_NET_BATCH_MAX);
    size_t i = 0, len = 0;
    const uint8_t *d;
    if (routed) {
        d = jk_net_msg_data(m, i++, &len);
        if (len == 0)
            return jk_error_set(err, JK_ERR_PARSE, "frame 0: empty routing id");
        b->rid = d;
        b->rid_len = len;
    }
    d = jk_net_msg_data(m, i, &len);
    if (len != 0)
        return jk_error_set(err, JK_ERR_PARSE, "frame %zu: delimiter of %zu bytes; must be empty",
                            i, len);
    i++;
    d = jk_net_msg_data(m, i, &len);
    if (len != JK_NET_PROTO_LEN || memcmp(d, proto, JK_NET_PROTO_LEN) != 0) {
        char shown[JK_NET_PROTO_LEN * 4 + 1];
        size_t k = 0;
        for (size_t j = 0; j < len && j < 8 && k + 4 < sizeof shown; j++)
            k += (size_t)snprintf(shown + k, sizeof shown - k, (d[j] >= 0x21 && d[j] < 0x7f)
                                                                  ? "%c"
                                                                  : "\\x%02x",
                                  d[j]);
        shown[k] = '\0';
        return jk_error_set(err, JK_ERR_VERSION,
                            "frame %zu: protocol '%s' (%zu bytes) unknown; expected %s", i, shown,
                            len, proto);
    }
    i++;
    for (; i < n; i += per) {
        jk_net_item_t *it = &b->items[b->n];
        it->addr = NULL;
        it->addr_len = 0;
        if (per == 2) {
            it->addr = jk_net_msg_data(m, i, &it->addr_len);
            if (it->addr_len > JK_NET_ROUTING_ID_MAX)
                return jk_error_set(err, JK_ERR_TOO_BIG,
                                    "frame %zu: client address of %zu bytes, more than %u", i,
                                    it->addr_len, JK_NET_ROUTING_ID_MAX);
        }
        it->env = jk_net_msg_data(m, i + per - 1, &it->env_len);
        b->n++;
    }
    return JK_OK;
}

jk_err_t jk_net_send_batch(void *sock, const uint8_t *rid, size_t rid_len, jk_net_link_t link,
                           const jk_net_item_t *items, size_t n, jk_error_t *err)
{
    if (!items || n == 0 || n > JK_NET_BATCH_MAX)
        return jk_error_set(err, JK_ERR_INVAL, "send batch: %zu items; must be 1..%u", n,
                            JK_NET_BATCH_MAX);
    if (rid && (rid_len == 0 || rid_len > JK_NET_ROUTING_ID_MAX))
        return jk_error_set(err, JK_ERR_INVAL, "send batch: routing id of %zu bytes", rid_len);
    jk_net_frame_t f[JK_NET_FRAMES_MAX];
    size_t k = 0;
    if (rid)
        f[k++] = (jk_net_frame_t){ rid, rid_len };
    f[k++] = (jk_net_frame_t){ "", 0 };
    f[k++] = (jk_net_frame_t){ link == JK_NET_LINK_WORKER ? JK_NET_PROTO_WORKER
                                                          : JK_NET_PROTO_CLIENT,
                               JK_NET_PROTO_LEN };
    for (size_t i = 0; i < n; i++) {
        if (link == JK_NET_LINK_WORKER) {
            if (items[i].addr_len > JK_NET_ROUTING_ID_MAX)
                return jk_error_set(err, JK_ERR_INVAL, "send batch: item %zu: address of %zu bytes",
                                    i, items[i].addr_len);
            f[k++] = (jk_net_frame_t){ items[i].addr, items[i].addr_len };
        }
        f[k++] = (jk_net_frame_t){ items[i].env, items[i].env_len };
    }
    return jk_net_send(sock, f, k, err);
}

char *jk_net_rid_format(const uint8_t *rid, size_t len, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!rid || len == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    bool printable = true;
    for (size_t i = 0; i < len; i++)
        if (rid[i] < 0x21 || rid[i] > 0x7e || rid[i] == '"' || rid[i] == '=' || rid[i] == '\\')
            printable = false;
    size_t k = 0;
    if (printable) {
        for (size_t i = 0; i < len && k + 1 < size; i++)
            buf[k++] = (char)rid[i];
        buf[k] = '\0';
        return buf;
    }
    if (size < 4)
        return buf;
    buf[0] = '0';
    buf[1] = 'x';
    size_t fit = (size - 3) / 2; /* whole bytes that fit after "0x", with the NUL */
    jk_hex_encode(rid, len < fit ? len : fit, buf + 2);
    return buf;
}

/* ------------------------------------------------------------------------
 * ZAP handler
 */

#define S_ZAP_DOMAINS_MAX 4u

struct jk_net_zap {
    void *sock;            /* REP on JK_NET_ZAP_ENDPOINT */
    struct {
        char name[JK_NET_NAME_MAX + 1];
        jk_net_allow_t *allow; /* owned */
    } domains[S_ZAP_DOMAINS_MAX]; /* [0] is JK_NET_ZAP_DOMAIN */
    size_t ndomains;
    jk_net_msg_t *msg;     /* receive buffer */
    uint64_t admitted, refused;
};

jk_net_zap_t *jk_net_zap_new(void *zmq_ctx, jk_net_allow_t **allow, jk_error_t *err)
{
    jk_net_allow_t *list = allow ? *allow : NULL;
    if (allow)
        *allow = NULL;
    jk_net_zap_t *z = NULL;
    if (!zmq_ctx || !list) {
        jk_error_set(err, JK_ERR_INVAL, "zap: missing context or allow-list");
        goto fail;
    }
    if (!(z = calloc(1, sizeof *z)) || !(z->msg = jk_net_msg_new(S_ZAP_FRAMES_MAX))) {
        jk_error_set(err, JK_ERR_NOMEM, "zap: out of memory");
        goto fail;
    }
    if (!(z->sock = zmq_socket(zmq_ctx, ZMQ_REP))) {
        jk_error_set(err, JK_ERR_IO, "zap: socket: %s", zmq_strerror(errno));
        goto fail;
    }
    int linger = 0;
    zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(z->sock, JK_NET_ZAP_ENDPOINT) != 0) {
        jk_error_set(err, errno == EADDRINUSE ? JK_ERR_STATE : JK_ERR_IO,
                     "zap: bind %s: %s%s", JK_NET_ZAP_ENDPOINT, zmq_strerror(errno),
                     errno == EADDRINUSE ? " (a ZAP handler already runs in this context)" : "");
        goto fail;
    }
    snprintf(z->domains[0].name, sizeof z->domains[0].name, "%s", JK_NET_ZAP_DOMAIN);
    z->domains[0].allow = list;
    z->ndomains = 1;
    return z;
fail:
    jk_net_allow_destroy(&list);
    jk_net_zap_destroy(&z);
    return NULL;
}

static jk_net_allow_t **s_zap_list(jk_net_zap_t *z, const char *domain)
{
    for (size_t i = 0; i < z->ndomains; i++)
        if (strcmp(z->domains[i].name, domain) == 0)
            return &z->domains[i].allow;
    return NULL;
}

void jk_net_zap_set_allow(jk_net_zap_t *z, jk_net_allow_t **allow)
{
    if (!z || !allow || !*allow)
        return;
    jk_net_allow_destroy(&z->domains[0].allow);
    z->domains[0].allow = *allow;
    *allow = NULL;
}

jk_err_t jk_net_zap_add_domain(jk_net_zap_t *z, const char *domain, jk_net_allow_t **allow,
                               jk_error_t *err)
{
    jk_net_allow_t *list = allow ? *allow : NULL;
    if (allow)
        *allow = NULL;
    jk_err_t rc = JK_OK;
    if (!z || !list || !domain || !jk_id_valid(domain, JK_NET_NAME_MAX))
        rc = jk_error_set(err, JK_ERR_INVAL, "zap domain: missing list or bad name");
    else if (s_zap_list(z, domain))
        rc = jk_error_set(err, JK_ERR_DUP, "zap domain %s: already has a list", domain);
    else if (z->ndomains >= S_ZAP_DOMAINS_MAX)
        rc = jk_error_set(err, JK_ERR_FULL, "zap domain %s: more than %u domains", domain,
                          S_ZAP_DOMAINS_MAX);
    if (rc != JK_OK) {
        jk_net_allow_destroy(&list);
        return rc;
    }
    snprintf(z->domains[z->ndomains].name, sizeof z->domains[0].name, "%s", domain);
    z->domains[z->ndomains].allow = list;
    z->ndomains++;
    return JK_OK;
}

void *jk_net_zap_socket(const jk_net_zap_t *z)
{
    return z ? z->sock : NULL;
}

uint64_t jk_net_zap_admitted(const jk_net_zap_t *z)
{
    return z ? z->admitted : 0;
}

uint64_t jk_net_zap_refused(const jk_net_zap_t *z)
{
    return z ? z->refused : 0;
}

void jk_net_zap_destroy(jk_net_zap_t **z)
{
    if (!z || !*z)
        return;
    if ((*z)->sock)
        zmq_close((*z)->sock);
    jk_net_msg_destroy(&(*z)->msg);
    for (size_t i = 0; i < (*z)->ndomains; i++)
        jk_net_allow_destroy(&(*z)->domains[i].allow);
    free(*z);
    *z = NULL;
}

/* Copies frame i of the request as a printable, bounded C string for logs. */
static void s_frame_text(const jk_net_msg_t *m, size_t i, char *out, size_t size)
{
    size_t len = 0;
    const uint8_t *d = jk_net_msg_data(m, i, &len);
    size_t k = 0;
    for (size_t j = 0; d && j < len && k + 1 < size; j++)
        out[k++] = (d[j] >= 0x20 && d[j] < 0x7f) ? (char)d[j] : '?';
    out[k] = '\0';
}

/* Answers one request (RFC 27): version, request id, status, text, user id,
 * metadata. A REP socket must answer every request it received, also a
 * malformed one, or it stops receiving. */
static void s_zap_reply(jk_net_zap_t *z, const uint8_t *reqid, size_t reqid_len,
                        const char *status, const char *text, const char *user)
{
    jk_net_frame_t f[6] = {
        { "1.0", 3 },
        { reqid, reqid_len },
        { status, strlen(status) },
        { text, strlen(text) },
        { user, strlen(user) },
        { "", 0 },
    };
    jk_error_t e;
    if (jk_net_send(z->sock, f, 6, &e) != JK_OK)
        JK_ERROR("zap.reply_failed", "reason=\"%s\"", e.msg);
}

static void s_zap_one(jk_net_zap_t *z)
{
    const jk_net_msg_t *m = z->msg;
    size_t n = jk_net_msg_count(m);
    size_t vlen = 0, idlen = 0, mlen = 0, clen = 0;
    const uint8_t *ver = jk_net_msg_data(m, 0, &vlen);
    const uint8_t *reqid = jk_net_msg_data(m, 1, &idlen);
    const uint8_t *mech = jk_net_msg_data(m, 5, &mlen);
    const uint8_t *cred = jk_net_msg_data(m, 6, &clen);
    char address[64], mechanism[16], domain[JK_NET_NAME_MAX + 1], vb[JK_LOG_VALUE_MAX];
    s_frame_text(m, 2, domain, sizeof domain);
    s_frame_text(m, 3, address, sizeof address);
    s_frame_text(m, 5, mechanism, sizeof mechanism);

    if (n < 6 || vlen != 3 || memcmp(ver, "1.0", 3) != 0) {
        z->refused++;
        JK_WARN("zap.refuse", "address=%s reason=malformed-request frames=%zu",
                jk_log_value(address, vb), n);
        s_zap_reply(z, reqid, idlen, "500", "malformed ZAP request", "");
        return;
    }
    if (mlen != 5 || memcmp(mech, "CURVE", 5) != 0 || n != 7 || clen != JK_NET_KEY_BYTES) {
        z->refused++;
        JK_WARN("zap.refuse", "address=%s mechanism=%s reason=not-curve",
                jk_log_value(address, vb), jk_log_value(mechanism, vb));
        s_zap_reply(z, reqid, idlen, "400", "CURVE required", "");
        return;
    }
    jk_net_allow_t **list = s_zap_list(z, domain);
    if (!list) {
        z->refused++;
        JK_WARN("zap.refuse", "address=%s domain=%s reason=unknown-domain",
                jk_log_value(address, vb), jk_log_value(domain, vb));
        s_zap_reply(z, reqid, idlen, "400", "unknown domain", "");
        return;
    }
    const char *name = jk_net_allow_find(*list, cred);
    if (!name) {
        char key[JK_NET_Z85_LEN + 1] = "?";
        zmq_z85_encode(key, cred, JK_NET_KEY_BYTES);
        z->refused++;
        /* The key is public; logging it lets an operator add it. */
        JK_WARN("zap.refuse", "address=%s domain=%s key=%s reason=unknown-key",
                jk_log_value(address, vb), domain, key);
        s_zap_reply(z, reqid, idlen, "400", "unknown key", "");
        return;
    }
    z->admitted++;
    JK_INFO("zap.admit", "peer=%s address=%s domain=%s", name, jk_log_value(address, vb), domain);
    s_zap_reply(z, reqid, idlen, "200", "OK", name);
}

size_t jk_net_zap_handle(jk_net_zap_t *z)
{
    if (!z)
        return 0;
    size_t handled = 0;
    while (handled < S_ZAP_PER_CALL_MAX) {
        jk_error_t e;
        jk_err_t rc = jk_net_recv(z->sock, z->msg, S_ZAP_FRAME_MAX_BYTES, ZMQ_DONTWAIT, &e);
        if (rc == JK_ERR_UNAVAIL)
            break;
        handled++;
        if (rc == JK_OK) {
            s_zap_one(z);
        } else if (rc == JK_ERR_RANGE || rc == JK_ERR_TOO_BIG) {
            /* The REP socket took the request; it must be answered. */
            z->refused++;
            JK_WARN("zap.refuse", "reason=malformed-request detail=\"%s\"", e.msg);
            s_zap_reply(z, (const uint8_t *)"", 0, "500", "malformed ZAP request", "");
        } else {
            JK_ERROR("zap.recv_failed", "reason=\"%s\"", e.msg);
            break;
        }
        jk_net_msg_clear(z->msg);
    }
    return handled;
}

/* ------------------------------------------------------------------------
 * Sockets
 */

void jk_net_opts_default(jk_net_opts_t *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->security = JK_NET_CURVE;
    o->max_msg_bytes = jk_net_max_msg_bytes(NULL, false);
    o->linger_ms = JK_NET_LINGER_MS;
    o->sndhwm = 1000;
    o->rcvhwm = 1000;
}

int64_t jk_net_max_msg_bytes(const jk_codec_limits_t *lim, bool large)
{
    jk_codec_limits_t d;
    if (!lim) {
        jk_codec_limits_default(&d);
        lim = &d;
    }
    return (int64_t)(large ? lim->max_large_bytes : lim->max_bytes) + JK_NET_FRAME_SLACK_BYTES;
}

jk_err_t jk_net_client_keys_check(int security, const char *broker_public, const char *public_key,
                                  const char *secret_key, jk_error_t *err)
{
    if (security == JK_NET_CURVE && (!broker_public || !*broker_public || !public_key ||
                                     !*public_key || !secret_key || !*secret_key))
        return jk_error_set(err, JK_ERR_CONFIG,
                            "security = curve needs curve.broker_public, curve.public and curve.secret");
    return JK_OK;
}

bool jk_net_endpoint_is_loopback(const char *ep)
{
    if (!ep)
        return false;
    if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
        return true;
    if (strchr(ep, ';'))
        return false; /* "tcp://source;destination" */
    return strncmp(ep, "tcp://127.0.0.1:", 16) == 0 || strncmp(ep, "tcp://[::1]:", 12) == 0;
}

#define S_SETOPT(sock, opt, val, what)                                                       \
    do {                                                                                     \
        if (zmq_setsockopt((sock), (opt), &(val), sizeof(val)) != 0) {                       \
            jk_error_set(err, JK_ERR_IO, "%s: %s", (what), zmq_strerror(errno));             \
            goto fail;                                                                       \
        }                                                                                    \
    } while (0)

/* Splits a comma-separated endpoint list into eps[] (each trimmed, copied
 * into store). Returns the count, or 0 with err set. */
static size_t s_split_endpoints(const char *list, char store[][JK_NET_ENDPOINT_MAX],
                                jk_error_t *err)
{
    size_t n = 0;
    const char *p = list;
    if (!p || !*p) {
        jk_error_set(err, JK_ERR_CONFIG, "endpoint: empty");
        return 0;
    }
    while (*p) {
        const char *c = strchr(p, ',');
        const char *e = c ? c : p + strlen(p);
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        const char *q = e;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
            q--;
        if (q == p) {
            jk_error_set(err, JK_ERR_CONFIG, "endpoint list '%s': empty entry", list);
            return 0;
        }
        if (n >= JK_NET_ENDPOINTS_MAX) {
            jk_error_set(err, JK_ERR_CONFIG, "endpoint list '%s': more than %u endpoints", list,
                         JK_NET_ENDPOINTS_MAX);
            return 0;
        }
        if ((size_t)(q - p) >= JK_NET_ENDPOINT_MAX) {
            jk_error_set(err, JK_ERR_CONFIG, "endpoint '%.40s...': longer than %u bytes", p,
                         JK_NET_ENDPOINT_MAX - 1);
            return 0;
        }
        memcpy(store[n], p, (size_t)(q - p));
        store[n][q - p] = '\0';
        n++;
        p = c ? c + 1 : e;
    }
    return n;
}

jk_err_t jk_net_check_endpoints(jk_net_security_t security, const char *endpoints,
                                jk_error_t *err)
{
    char eps[JK_NET_ENDPOINTS_MAX][JK_NET_ENDPOINT_MAX];
    size_t n = s_split_endpoints(endpoints, eps, err);
    if (n == 0)
        return JK_ERR_CONFIG;
    if (security != JK_NET_PLAIN && security != JK_NET_CURVE)
        return jk_error_set(err, JK_ERR_CONFIG, "%s: unknown security mode %d", eps[0],
                            (int)security);
    for (size_t i = 0; security == JK_NET_PLAIN && i < n; i++)
        if (!jk_net_endpoint_is_loopback(eps[i]))
            return jk_error_set(err, JK_ERR_CONFIG,
                                "%s: security = plain is allowed on loopback endpoints only "
                                "(tcp://127.0.0.1, tcp://[::1], ipc://, inproc://); use curve",
                                eps[i]);
    return JK_OK;
}

static void *s_socket(void *ctx, int type, const char *endpoints, const jk_net_opts_t *o,
                      bool server, jk_error_t *err)
{
    char eps[JK_NET_ENDPOINTS_MAX][JK_NET_ENDPOINT_MAX];
    char pub[JK_NET_Z85_LEN + 1];
    void *s = NULL;
    jk_net_opts_t dflt;
    if (!o) {
        jk_net_opts_default(&dflt);
        o = &dflt;
    }
    if (!ctx) {
        jk_error_set(err, JK_ERR_INVAL, "socket: missing context");
        return NULL;
    }
    size_t n = s_split_endpoints(endpoints, eps, err);
    if (n == 0)
        return NULL;
    if (jk_net_check_endpoints(o->security, endpoints, err) != JK_OK)
        return NULL;
    if (o->security == JK_NET_CURVE) {
        if (!jk_net_z85_key_valid(o->secret_key_z85)) {
            jk_error_set(err, JK_ERR_CONFIG, "%s: security = curve needs this side's secret key",
                         eps[0]);
            return NULL;
        }
        if (server && !o->zap) {
            jk_error_set(err, JK_ERR_CONFIG,
                         "%s: a CURVE server needs a ZAP handler (without one libzmq admits "
                         "every client)",
                         eps[0]);
            return NULL;
        }
        if (!server && !jk_net_z85_key_valid(o->server_key_z85)) {
            jk_error_set(err, JK_ERR_CONFIG, "%s: security = curve needs the server's public key",
                         eps[0]);
            return NULL;
        }
    }

    if (!(s = zmq_socket(ctx, type))) {
        jk_error_set(err, JK_ERR_IO, "%s: socket: %s", eps[0], zmq_strerror(errno));
        return NULL;
    }
    int linger = o->linger_ms;
    int sndhwm = o->sndhwm > 0 ? o->sndhwm : 1000;
    int rcvhwm = o->rcvhwm > 0 ? o->rcvhwm : 1000;
    int64_t maxmsg = o->max_msg_bytes > 0 ? o->max_msg_bytes : jk_net_max_msg_bytes(NULL, false);
    int one = 1;
    S_SETOPT(s, ZMQ_LINGER, linger, "ZMQ_LINGER");
    S_SETOPT(s, ZMQ_SNDHWM, sndhwm, "ZMQ_SNDHWM");
    S_SETOPT(s, ZMQ_RCVHWM, rcvhwm, "ZMQ_RCVHWM");
    S_SETOPT(s, ZMQ_MAXMSGSIZE, maxmsg, "ZMQ_MAXMSGSIZE");
    if (type == ZMQ_ROUTER)
        S_SETOPT(s, ZMQ_ROUTER_MANDATORY, one, "ZMQ_ROUTER_MANDATORY");
    if (type == ZMQ_XPUB && o->xpub_nodrop)
        S_SETOPT(s, ZMQ_XPUB_NODROP, one, "ZMQ_XPUB_NODROP");
    if (!server) {
        int ivl = JK_NET_RECONNECT_IVL_MS, ivl_max = JK_NET_RECONNECT_IVL_MAX_MS;
        S_SETOPT(s, ZMQ_RECONNECT_IVL, ivl, "ZMQ_RECONNECT_IVL");
        S_SETOPT(s, ZMQ_RECONNECT_IVL_MAX, ivl_max, "ZMQ_RECONNECT_IVL_MAX");
        if (o->immediate)
            S_SETOPT(s, ZMQ_IMMEDIATE, one, "ZMQ_IMMEDIATE");
        if (o->routing_id) {
            size_t rl = strlen(o->routing_id);
            if (rl == 0 || rl > JK_NET_ROUTING_ID_MAX || o->routing_id[0] == '\0') {
                jk_error_set(err, JK_ERR_CONFIG, "routing id: 1..255 bytes");
                goto fail;
            }
            if (zmq_setsockopt(s, ZMQ_ROUTING_ID, o->routing_id, rl) != 0) {
                jk_error_set(err, JK_ERR_IO, "ZMQ_ROUTING_ID: %s", zmq_strerror(errno));
                goto fail;
            }
        }
    }
    if (o->security == JK_NET_CURVE) {
        if (server) {
            S_SETOPT(s, ZMQ_CURVE_SERVER, one, "ZMQ_CURVE_SERVER");
            /* With a domain set, libzmq always consults the handler. */
            const char *dom = o->zap_domain && *o->zap_domain ? o->zap_domain : JK_NET_ZAP_DOMAIN;
            if (zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, dom, strlen(dom)) != 0) {
                jk_error_set(err, JK_ERR_IO, "ZMQ_ZAP_DOMAIN: %s", zmq_strerror(errno));
                goto fail;
            }
        } else {
            if (jk_net_public_of(o->secret_key_z85, pub, err) != JK_OK)
                goto fail;
            if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, o->server_key_z85, JK_NET_Z85_LEN) != 0 ||
                zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, JK_NET_Z85_LEN) != 0) {
                jk_error_set(err, JK_ERR_IO, "CURVE client keys: %s", zmq_strerror(errno));
                goto fail;
            }
        }
        if (zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, o->secret_key_z85, JK_NET_Z85_LEN) != 0) {
            jk_error_set(err, JK_ERR_IO, "ZMQ_CURVE_SECRETKEY: %s", zmq_strerror(errno));
            goto fail;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int rc = server ? zmq_bind(s, eps[i]) : zmq_connect(s, eps[i]);
        if (rc != 0) {
            jk_error_set(err, JK_ERR_CONFIG, "%s: cannot %s: %s", eps[i],
                         server ? "bind" : "connect", zmq_strerror(errno));
            goto fail;
        }
    }
    s_wipe(pub, sizeof pub);
    return s;
fail:
    s_wipe(pub, sizeof pub);
    if (s) {
        int zero = 0;
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(s);
    }
    return NULL;
}

void *jk_net_server(void *zmq_ctx, int type, const char *endpoints, const jk_net_opts_t *o,
                    jk_error_t *err)
{
    return s_socket(zmq_ctx, type, endpoints, o, true, err);
}

void *jk_net_client(void *zmq_ctx, int type, const char *endpoints, const jk_net_opts_t *o,
                    jk_error_t *err)
{
    return s_socket(zmq_ctx, type, endpoints, o, false, err);
}

void jk_net_last_endpoint(void *sock, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    buf[0] = '\0';
    size_t len = size;
    if (!sock || zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, buf, &len) != 0)
        buf[0] = '\0';
    buf[size - 1] = '\0';
}
