/*
 * jk_package: sealed paper packages, center signing keys, release keys and
 * the center's keys file; see jk_package.h for the contracts and
 * docs/package-format.md for the byte layout and the JSON formats.
 *
 * Design. A package is built in one buffer: the plain prefix (magic, header
 * length, header JSON, payload length), then the AES-256-GCM ciphertext and
 * tag, then an Ed25519 signature over everything before it. The prefix is
 * the GCM additional data, so the header is bound to the ciphertext twice:
 * by the signature (checked without secrets, on arrival) and by the tag
 * (checked with the release key, at opening). Parsing goes outside in:
 * magic, lengths (each bounded before any arithmetic that uses it), exact
 * total size, signature, and only then the header JSON is trusted and parsed
 * strictly (unknown fields, wrong types, bad ids are errors).
 *
 * Secrets. Release keys live in caller buffers and in locals that are wiped
 * (OPENSSL_cleanse) on every exit path; a private key file's bytes and PEM
 * text are wiped after use; the keys array of jk_package_keys_t is never
 * realloc'd (a realloc could leave a copy of keys in freed memory): it grows
 * by copy-wipe-free. Known residue: jansson keeps its own copies of the hex
 * strings of a keys file while loading it and frees them without wiping;
 * the keys file itself holds the same keys in clear on the same machine.
 * Nothing secret is ever formatted into an error message.
 *
 * Files are read with jk_file_read, bounded by fstat before allocating and
 * never growing a buffer (again: no stray copies of a secret file), and
 * written with jk_file_write (temporary file, fsync, rename).
 *
 * Rejected: EVP_PKEY_Q_keygen (variadic; EVP_PKEY_CTX spelled out is as
 * short and checks each step); OpenSSL's EVP_DecodeBlock for base64 (it
 * accepts leading white space and reports padding as data bytes; the nonce
 * and the key want a strict decoder); jansson for writing the keys file
 * (its string copies could not be wiped; ids are restricted to a charset
 * that needs no escaping, so the JSON is written directly).
 */
#include "jk_package.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "jk_crypto.h"
#include "jk_file.h"
#include "jk_text.h"

#define S_MAGIC_NAME "JKPKG"
#define S_MAGIC_NAME_BYTES 5u
#define S_LAYOUT_VERSION 1u           /* the byte after "JKPKG" */
#define S_HDR_LEN_OFF 6u              /* offset of the 4-byte header length */
#define S_HDR_OFF 10u                 /* offset of the header JSON */
#define S_PAYLOAD_LEN_BYTES 8u        /* the 8-byte payload length field */
#define S_HEADER_FORMAT "jikao-package"
#define S_HEADER_VERSION 1
#define S_CIPHER_NAME "AES-256-GCM"
#define S_KEYS_FORMAT "jikao-package-keys"
#define S_KEYS_VERSION 1
#define S_PUBKEY_BYTES 32u            /* raw Ed25519 public key */
#define S_PACKAGE_ID_BYTES 16u        /* random package id */
/* EVP_*Update take int lengths; 1 MiB steps keep them far from INT_MAX. */
#define S_CIPHER_CHUNK_BYTES (1u << 20)
/* Latest time accepted in a header: 9999-12-31T23:59:59.999Z, in ms. */
#define S_TIME_MAX_MS 253402300799999LL
/* Bytes of one keys-file entry as written, with room to spare (ids <= 64). */
#define S_KEYS_ENTRY_TEXT_BYTES 512u
#define S_KEYS_GROW_MIN 16u           /* first capacity of the entry array */

/* ---- small helpers ---- */

static void s_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t s_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void s_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t s_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* True for exactly n lower-case hex digits (the canonical ids we write). */
static bool s_is_lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static const char s_b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with '=' padding; out needs 4*ceil(n/3)+1 bytes. */
static void s_b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            w |= in[i + 2];
        out[o++] = s_b64_digits[w >> 18 & 63];
        out[o++] = s_b64_digits[w >> 12 & 63];
        out[o++] = i + 1 < n ? s_b64_digits[w >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? s_b64_digits[w & 63] : '=';
    }
    out[o] = '\0';
}

static int s_b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict, canonical base64: length a multiple of 4, padding only at the end,
 * unused bits zero. Decodes into out (cap bytes); false on any deviation or
 * when the result would not fit. */
static bool s_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    if (n % 4 != 0)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = s[i + (size_t)j];
            if (c == '=') {
                if (i + 4 != n || j < 2)
                    return false;
                v[j] = 0;
                pad++;
            } else {
                if (pad)
                    return false;
                if ((v[j] = s_b64_val(c)) < 0)
                    return false;
            }
        }
        if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xF)))
            return false;
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        size_t nb = 3u - (size_t)pad;
        if (o + nb > cap)
            return false;
        out[o++] = (uint8_t)(w >> 16);
        if (nb > 1)
            out[o++] = (uint8_t)(w >> 8);
        if (nb > 2)
            out[o++] = (uint8_t)w;
    }
    *out_len = o;
    return true;
}

/* Sets err to code and "what: <OpenSSL reason>", then empties OpenSSL's
 * error queue so a stale entry never shows up in a later, unrelated error.
 * OpenSSL reasons name what failed, never key bytes. */
static jk_err_t s_ossl_fail(jk_error_t *err, jk_err_t code, const char *what)
{
    unsigned long ec = ERR_peek_last_error();
    const char *reason = ec ? ERR_reason_error_string(ec) : NULL;
    ERR_clear_error();
    if (reason)
        return jk_error_set(err, code, "%s: %s", what, reason);
    return jk_error_set(err, code, "%s", what);
}

/* ---- files ---- */

/* The readers and the writer moved to jk_file; these names stay for the
 * callers that use them. */
jk_err_t jk_package_file_read(const char *path, size_t max_bytes, uint8_t **out, size_t *len_out,
                              jk_error_t *err)
{
    return jk_file_read(path, max_bytes, false, out, len_out, err);
}

jk_err_t jk_package_file_read_secret(const char *path, size_t max_bytes, uint8_t **out,
                                     size_t *len_out, jk_error_t *err)
{
    return jk_file_read(path, max_bytes, true, out, len_out, err);
}

jk_err_t jk_package_file_write(const char *path, const void *data, size_t len, unsigned mode,
                               jk_error_t *err)
{
    return jk_file_write(path, data, len, mode, err);
}

/* ---- center keys ---- */

struct jk_package_key {
    EVP_PKEY *pkey;                       /* Ed25519; owned */
    bool has_private;
    char id[JK_PACKAGE_KEY_ID_HEX + 1];   /* hex of SHA-256(raw public)[0..8) */
};

/* Wraps pkey (taking it, also on failure) after checking it is Ed25519 and
 * computing its id. */
static jk_package_key_t *s_key_wrap(EVP_PKEY *pkey, bool has_private, const char *what,
                                    jk_error_t *err)
{
    uint8_t raw[S_PUBKEY_BYTES];
    size_t raw_len = sizeof raw;
    uint8_t md[JK_SHA256_LEN];
    jk_package_key_t *k = NULL;

    if (!EVP_PKEY_is_a(pkey, "ED25519")) {
        jk_error_set(err, JK_ERR_PARSE, "%s: not an Ed25519 key", what);
        goto fail;
    }
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) != 1 || raw_len != S_PUBKEY_BYTES) {
        s_ossl_fail(err, JK_ERR_CRYPTO, what);
        goto fail;
    }
    if (jk_sha256(raw, raw_len, md) != JK_OK) {
        s_ossl_fail(err, JK_ERR_CRYPTO, what);
        goto fail;
    }
    if (!(k = calloc(1, sizeof *k))) {
        jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", what);
        goto fail;
    }
    k->pkey = pkey;
    k->has_private = has_private;
    jk_hex_encode(md, JK_PACKAGE_KEY_ID_HEX / 2, k->id);
    return k;
fail:
    EVP_PKEY_free(pkey);
    return NULL;
}

jk_package_key_t *jk_package_key_generate(jk_error_t *err)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "ED25519", NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_generate(ctx, &pkey) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        s_ossl_fail(err, JK_ERR_CRYPTO, "center key: Ed25519 key generation failed");
        return NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return s_key_wrap(pkey, true, "center key", err);
}

/* PEM password callback that refuses: an encrypted key is an error here,
 * never an interactive prompt (OpenSSL's default reads the terminal). */
static int s_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

jk_package_key_t *jk_package_key_load_private(const char *path, jk_error_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!path) {
        jk_error_set(err, JK_ERR_INVAL, "center private key: no path");
        return NULL;
    }
    if (jk_file_read(path, JK_PACKAGE_KEY_FILE_MAX_BYTES, true, &buf, &len, err) != JK_OK)
        return NULL;
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    if (bio)
        pkey = PEM_read_bio_PrivateKey(bio, NULL, s_no_passphrase, NULL);
    BIO_free(bio);
    OPENSSL_cleanse(buf, len + 1);
    free(buf);
    if (!pkey) {
        ERR_clear_error();
        jk_error_set(err, JK_ERR_PARSE,
                     "%s: not an unencrypted PEM private key (PKCS#8 \"PRIVATE KEY\")", path);
        return NULL;
    }
    return s_key_wrap(pkey, true, path, err);
}

jk_package_key_t *jk_package_key_parse_public(const char *pem, size_t len, jk_error_t *err)
{
    if (!pem) {
        jk_error_set(err, JK_ERR_INVAL, "center public key: no text");
        return NULL;
    }
    if (len > JK_PACKAGE_KEY_FILE_MAX_BYTES) {
        jk_error_set(err, JK_ERR_TOO_BIG, "center public key: %zu bytes, more than %u", len,
                     JK_PACKAGE_KEY_FILE_MAX_BYTES);
        return NULL;
    }
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio)
        pkey = PEM_read_bio_PUBKEY(bio, NULL, s_no_passphrase, NULL);
    BIO_free(bio);
    if (!pkey) {
        ERR_clear_error();
        jk_error_set(err, JK_ERR_PARSE, "center public key: not a PEM public key (\"PUBLIC KEY\")");
        return NULL;
    }
    return s_key_wrap(pkey, false, "center public key", err);
}

jk_package_key_t *jk_package_key_load_public(const char *path, jk_error_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!path) {
        jk_error_set(err, JK_ERR_INVAL, "center public key: no path");
        return NULL;
    }
    if (jk_file_read(path, JK_PACKAGE_KEY_FILE_MAX_BYTES, false, &buf, &len, err) != JK_OK)
        return NULL;
    jk_package_key_t *k = jk_package_key_parse_public((const char *)buf, len, err);
    free(buf);
    if (!k)
        jk_error_prefix(err, "%s: ", path);
    return k;
}

/* Writes PEM produced by `emit` into a memory BIO, then to path. The BIO's
 * buffer is wiped before it is freed (it may hold the private key). */
static jk_err_t s_key_save(const jk_package_key_t *k, const char *path, bool private_part,
                           unsigned mode, jk_error_t *err)
{
    jk_err_t rc;
    BUF_MEM *bm = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    int ok;
    if (!bio)
        return s_ossl_fail(err, JK_ERR_NOMEM, "center key: cannot allocate a buffer");
    if (private_part)
        ok = PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_bio_PUBKEY(bio, k->pkey);
    if (ok != 1 || BIO_get_mem_ptr(bio, &bm) != 1 || !bm) {
        rc = s_ossl_fail(err, JK_ERR_CRYPTO, "center key: cannot encode as PEM");
    } else {
        rc = jk_file_write(path, bm->data, bm->length, mode, err);
        if (bm->data)
            OPENSSL_cleanse(bm->data, bm->length);
    }
    BIO_free(bio);
    return rc;
}

jk_err_t jk_package_key_save_private(const jk_package_key_t *k, const char *path,
                                     jk_error_t *err)
{
    if (!k || !path)
        return jk_error_set(err, JK_ERR_INVAL, "center private key: missing argument");
    if (!k->has_private)
        return jk_error_set(err, JK_ERR_STATE, "%s: key %s has no private part to save", path,
                            k->id);
    return s_key_save(k, path, true, 0600, err);
}

jk_err_t jk_package_key_save_public(const jk_package_key_t *k, const char *path,
                                    jk_error_t *err)
{
    if (!k || !path)
        return jk_error_set(err, JK_ERR_INVAL, "center public key: missing argument");
    return s_key_save(k, path, false, 0644, err);
}

const char *jk_package_key_id(const jk_package_key_t *k)
{
    return k ? k->id : "";
}

bool jk_package_key_has_private(const jk_package_key_t *k)
{
    return k && k->has_private;
}

void jk_package_key_destroy(jk_package_key_t **k)
{
    if (!k || !*k)
        return;
    EVP_PKEY_free((*k)->pkey); /* wipes the private part */
    free(*k);
    *k = NULL;
}

/* ---- Ed25519 and AES-256-GCM ---- */

static jk_err_t s_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len, uint8_t *sig,
                       jk_error_t *err)
{
    jk_err_t rc = JK_OK;
    size_t sig_len = JK_PACKAGE_SIGNATURE_BYTES;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* Ed25519 is PureEdDSA: no digest is named, and the message is signed
     * in one shot. */
    if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, msg, len) != 1 ||
        sig_len != JK_PACKAGE_SIGNATURE_BYTES)
        rc = s_ossl_fail(err, JK_ERR_CRYPTO, "package: signing failed");
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Returns 1 when sig is a valid signature of msg by pkey, 0 when not, -1 on
 * a library failure (err set). */
static int s_verify_sig(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t *sig,
                        jk_error_t *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
        EVP_MD_CTX_free(ctx);
        s_ossl_fail(err, JK_ERR_CRYPTO, "package: signature check could not start");
        return -1;
    }
    int r = EVP_DigestVerify(ctx, sig, JK_PACKAGE_SIGNATURE_BYTES, msg, len);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error(); /* a bad signature may leave entries behind */
    return r == 1 ? 1 : 0;
}

/* AES-256-GCM over in[0..len) into out, in bounded steps; aad first. With
 * `encrypt` the tag is written to tag, otherwise it is checked against tag
 * and a mismatch returns JK_ERR_AUTH (out then holds unauthenticated bytes:
 * the caller wipes them). */
static jk_err_t s_gcm(bool encrypt, const uint8_t key[JK_RELEASE_KEY_BYTES],
                      const uint8_t nonce[JK_PACKAGE_NONCE_BYTES], const uint8_t *aad,
                      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
                      jk_error_t *err)
{
    jk_err_t rc = JK_OK;
    int outl = 0;
    uint8_t final_buf[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const char *what = encrypt ? "package: encryption failed" : "package: decryption failed";

    if (!ctx || EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)JK_PACKAGE_NONCE_BYTES, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt ? 1 : 0) != 1 ||
        (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)) {
        rc = s_ossl_fail(err, JK_ERR_CRYPTO, what);
        goto cleanup;
    }
    for (size_t off = 0; off < len;) {
        size_t step = len - off < S_CIPHER_CHUNK_BYTES ? len - off : S_CIPHER_CHUNK_BYTES;
        if (EVP_CipherUpdate(ctx, out + off, &outl, in + off, (int)step) != 1 ||
            (size_t)outl != step) {
            rc = s_ossl_fail(err, JK_ERR_CRYPTO, what);
            goto cleanup;
        }
        off += step;
    }
    if (encrypt) {
        if (EVP_CipherFinal_ex(ctx, final_buf, &outl) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)JK_PACKAGE_TAG_BYTES, tag) != 1)
            rc = s_ossl_fail(err, JK_ERR_CRYPTO, what);
    } else {
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)JK_PACKAGE_TAG_BYTES, tag) != 1) {
            rc = s_ossl_fail(err, JK_ERR_CRYPTO, what);
        } else if (EVP_CipherFinal_ex(ctx, final_buf, &outl) != 1) {
            ERR_clear_error();
            rc = jk_error_set(err, JK_ERR_AUTH,
                              "package: the release key does not open this package");
        }
    }
cleanup:
    EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
    return rc;
}

/* ---- header ---- */

static const char *const s_header_fields[] = {
    "format", "format_version", "package_id", "sitting_id", "site_id", "created_ms",
    "exam_start_ms", "key_id", "payload_bytes", "cipher", "nonce", NULL,
};

static bool s_in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Gets a string member; JK_ERR_MISSING when absent, JK_ERR_PARSE when not a
 * string. `where` prefixes the message. */
static jk_err_t s_json_str(const json_t *o, const char *name, const char *where, const char **out,
                           jk_error_t *err)
{
    json_t *v = json_object_get(o, name);
    if (!v)
        return jk_error_set(err, JK_ERR_MISSING, "%s: \"%s\" is missing", where, name);
    if (!json_is_string(v))
        return jk_error_set(err, JK_ERR_PARSE, "%s: \"%s\" must be a string", where, name);
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v))
        return jk_error_set(err, JK_ERR_PARSE, "%s: \"%s\" contains NUL", where, name);
    return JK_OK;
}

static jk_err_t s_json_int(const json_t *o, const char *name, const char *where, long long min,
                           long long max, long long *out, jk_error_t *err)
{
    json_t *v = json_object_get(o, name);
    if (!v)
        return jk_error_set(err, JK_ERR_MISSING, "%s: \"%s\" is missing", where, name);
    if (!json_is_integer(v))
        return jk_error_set(err, JK_ERR_PARSE, "%s: \"%s\" must be an integer", where, name);
    long long x = (long long)json_integer_value(v);
    if (x < min || x > max)
        return jk_error_set(err, JK_ERR_RANGE, "%s: \"%s\" is %lld, outside %lld..%lld", where,
                            name, x, min, max);
    *out = x;
    return JK_OK;
}

/* Copies an id member that must pass jk_id_valid(max) into out. */
static jk_err_t s_json_id(const json_t *o, const char *name, const char *where, size_t max,
                          char *out, jk_error_t *err)
{
    const char *s = NULL;
    jk_err_t rc = s_json_str(o, name, where, &s, err);
    if (rc != JK_OK)
        return rc;
    if (!jk_id_valid(s, max))
        return jk_error_set(err, JK_ERR_PARSE,
                            "%s: \"%s\" must be 1..%zu characters of [A-Za-z0-9._:-]", where, name,
                            max);
    memcpy(out, s, strlen(s) + 1);
    return JK_OK;
}

/* Copies a member that must be exactly n lower-case hex digits into out. */
static jk_err_t s_json_hex(const json_t *o, const char *name, const char *where, size_t n,
                           char *out, jk_error_t *err)
{
    const char *s = NULL;
    jk_err_t rc = s_json_str(o, name, where, &s, err);
    if (rc != JK_OK)
        return rc;
    if (!s_is_lower_hex(s, n))
        return jk_error_set(err, JK_ERR_PARSE, "%s: \"%s\" must be %zu lower-case hex digits",
                            where, name, n);
    memcpy(out, s, n + 1);
    return JK_OK;
}

/* Parses and checks the (already authenticated) header JSON. */
static jk_err_t s_header_parse(const uint8_t *text, size_t len, jk_package_header_t *h,
                               jk_error_t *err)
{
    static const char where[] = "package: header";
    jk_err_t rc = JK_OK;
    json_error_t je;
    const char *s = NULL;
    long long x = 0;
    json_t *o = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);

    memset(h, 0, sizeof *h);
    if (!o)
        return jk_error_set(err, JK_ERR_PARSE, "%s:%d:%d: %s", where, je.line, je.column, je.text);
    if (!json_is_object(o)) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: not a JSON object", where);
        goto cleanup;
    }
    const char *name;
    json_t *v;
    json_object_foreach(o, name, v) {
        if (!s_in_list(name, s_header_fields)) {
            rc = jk_error_set(err, JK_ERR_PARSE, "%s: unknown field \"%.64s\"", where, name);
            goto cleanup;
        }
    }
    if ((rc = s_json_str(o, "format", where, &s, err)) != JK_OK)
        goto cleanup;
    if (strcmp(s, S_HEADER_FORMAT) != 0) {
        rc = jk_error_set(err, JK_ERR_VERSION, "%s: format is not \"%s\"", where, S_HEADER_FORMAT);
        goto cleanup;
    }
    if ((rc = s_json_int(o, "format_version", where, 0, 1000000, &x, err)) != JK_OK)
        goto cleanup;
    if (x != S_HEADER_VERSION) {
        rc = jk_error_set(err, JK_ERR_VERSION, "%s: format_version %lld is not supported (this "
                          "build reads %d)", where, x, S_HEADER_VERSION);
        goto cleanup;
    }
    h->version = (int)x;
    if ((rc = s_json_str(o, "cipher", where, &s, err)) != JK_OK)
        goto cleanup;
    if (strcmp(s, S_CIPHER_NAME) != 0) {
        rc = jk_error_set(err, JK_ERR_VERSION, "%s: cipher is not \"%s\"", where, S_CIPHER_NAME);
        goto cleanup;
    }
    if ((rc = s_json_hex(o, "package_id", where, JK_PACKAGE_PACKAGE_ID_HEX, h->package_id,
                         err)) != JK_OK ||
        (rc = s_json_id(o, "sitting_id", where, JK_PACKAGE_ID_MAX, h->sitting_id, err)) != JK_OK ||
        (rc = s_json_id(o, "site_id", where, JK_PACKAGE_ID_MAX, h->site_id, err)) != JK_OK ||
        (rc = s_json_hex(o, "key_id", where, JK_PACKAGE_KEY_ID_HEX, h->key_id, err)) != JK_OK)
        goto cleanup;
    if ((rc = s_json_int(o, "created_ms", where, 0, S_TIME_MAX_MS, &x, err)) != JK_OK)
        goto cleanup;
    h->created_ms = x;
    if ((rc = s_json_int(o, "exam_start_ms", where, 0, S_TIME_MAX_MS, &x, err)) != JK_OK)
        goto cleanup;
    h->exam_start_ms = x;
    if ((rc = s_json_int(o, "payload_bytes", where, 0, JK_PACKAGE_PAYLOAD_MAX_BYTES, &x, err)) !=
        JK_OK)
        goto cleanup;
    h->payload_bytes = (uint64_t)x;
    if ((rc = s_json_str(o, "nonce", where, &s, err)) != JK_OK)
        goto cleanup;
    size_t nl = 0;
    if (!s_b64_decode(s, strlen(s), h->nonce, sizeof h->nonce, &nl) || nl != sizeof h->nonce) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: \"nonce\" must be base64 of %u bytes", where,
                          JK_PACKAGE_NONCE_BYTES);
        goto cleanup;
    }
cleanup:
    json_decref(o);
    if (rc != JK_OK)
        memset(h, 0, sizeof *h);
    return rc;
}

/* For the message of a failed signature check only: the key id an
 * unauthenticated header claims, when it is well-formed and not `ours`. */
static bool s_header_claims_other_key(const uint8_t *text, size_t len, const char *ours,
                                      char other[JK_PACKAGE_KEY_ID_HEX + 1])
{
    bool found = false;
    json_t *o = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *v = json_is_object(o) ? json_object_get(o, "key_id") : NULL;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (s && s_is_lower_hex(s, JK_PACKAGE_KEY_ID_HEX) && strcmp(s, ours) != 0) {
        memcpy(other, s, JK_PACKAGE_KEY_ID_HEX + 1);
        found = true;
    }
    json_decref(o);
    return found;
}

/* ---- layout ---- */

/* Where the parts of a package lie; every offset is within the package. */
typedef struct {
    size_t hdr_len;     /* bytes of header JSON, at S_HDR_OFF */
    size_t payload_len; /* bytes of ciphertext (= plaintext) */
    size_t ct_off;      /* offset of the ciphertext; also the AAD length */
    size_t tag_off;     /* offset of the GCM tag */
    size_t sig_off;     /* offset of the signature; also the signed length */
} s_layout_t;

/* Checks magic, version and every length against its bound and against the
 * size of the buffer, before anything is read at an offset derived from
 * them. */
static jk_err_t s_layout(const uint8_t *p, size_t n, s_layout_t *l, jk_error_t *err)
{
    size_t m = n < S_MAGIC_NAME_BYTES ? n : S_MAGIC_NAME_BYTES;
    if (n == 0)
        return jk_error_set(err, JK_ERR_PARSE, "package: truncated: empty");
    if (memcmp(p, S_MAGIC_NAME, m) != 0)
        return jk_error_set(err, JK_ERR_PARSE, "package: bad magic: not a jikao package");
    if (n <= S_MAGIC_NAME_BYTES)
        return jk_error_set(err, JK_ERR_PARSE, "package: truncated: %zu bytes", n);
    if (p[S_MAGIC_NAME_BYTES] != S_LAYOUT_VERSION)
        return jk_error_set(err, JK_ERR_VERSION,
                            "package: layout version %u is not supported (this build reads %u)",
                            (unsigned)p[S_MAGIC_NAME_BYTES], S_LAYOUT_VERSION);
    if (n < S_HDR_OFF)
        return jk_error_set(err, JK_ERR_PARSE, "package: truncated: %zu bytes", n);
    uint32_t hl = s_get_be32(p + S_HDR_LEN_OFF);
    if (hl == 0)
        return jk_error_set(err, JK_ERR_PARSE, "package: empty header");
    if (hl > JK_PACKAGE_HEADER_MAX_BYTES)
        return jk_error_set(err, JK_ERR_TOO_BIG,
                            "package: header length %lu is over the bound of %u bytes",
                            (unsigned long)hl, JK_PACKAGE_HEADER_MAX_BYTES);
    /* hl <= 64 KiB: no overflow below. */
    size_t pl_off = S_HDR_OFF + (size_t)hl;
    if (n < pl_off + S_PAYLOAD_LEN_BYTES)
        return jk_error_set(err, JK_ERR_PARSE,
                            "package: truncated: %zu bytes, the header alone needs %zu", n,
                            pl_off + S_PAYLOAD_LEN_BYTES);
    uint64_t pl = s_get_be64(p + pl_off);
    if (pl > JK_PACKAGE_PAYLOAD_MAX_BYTES)
        return jk_error_set(err, JK_ERR_TOO_BIG,
                            "package: payload length %llu is over the bound of %u bytes",
                            (unsigned long long)pl, JK_PACKAGE_PAYLOAD_MAX_BYTES);
    /* Both lengths bounded: the total is below 1.1 GiB, no overflow. */
    uint64_t total = (uint64_t)JK_PACKAGE_OVERHEAD_BYTES + hl + pl;
    if ((uint64_t)n < total)
        return jk_error_set(err, JK_ERR_PARSE, "package: truncated: %zu bytes of %llu", n,
                            (unsigned long long)total);
    if ((uint64_t)n > total)
        return jk_error_set(err, JK_ERR_PARSE, "package: %llu bytes after the end of the package",
                            (unsigned long long)((uint64_t)n - total));
    l->hdr_len = hl;
    l->payload_len = (size_t)pl;
    l->ct_off = pl_off + S_PAYLOAD_LEN_BYTES;
    l->tag_off = l->ct_off + l->payload_len;
    l->sig_off = l->tag_off + JK_PACKAGE_TAG_BYTES;
    return JK_OK;
}

/* Layout, signature, header: everything jk_package_verify promises. */
static jk_err_t s_check(const uint8_t *pkg, size_t len, const jk_package_key_t *center,
                        s_layout_t *l, jk_package_header_t *h, jk_error_t *err)
{
    jk_err_t rc;
    char other[JK_PACKAGE_KEY_ID_HEX + 1];
    if ((!pkg && len > 0) || !center)
        return jk_error_set(err, JK_ERR_INVAL, "package: missing argument");
    if ((rc = s_layout(pkg, len, l, err)) != JK_OK)
        return rc;
    int ok = s_verify_sig(center->pkey, pkg, l->sig_off, pkg + l->sig_off, err);
    if (ok < 0)
        return JK_ERR_CRYPTO;
    if (!ok) {
        if (s_header_claims_other_key(pkg + S_HDR_OFF, l->hdr_len, center->id, other))
            return jk_error_set(err, JK_ERR_NOTFOUND,
                                "package: signed with center key %s, which is not this center's "
                                "key %s (wrong public key, or the package was changed)",
                                other, center->id);
        return jk_error_set(err, JK_ERR_AUTH,
                            "package: signature invalid: the package was changed or not made "
                            "by this center (key %s)",
                            center->id);
    }
    if ((rc = s_header_parse(pkg + S_HDR_OFF, l->hdr_len, h, err)) != JK_OK)
        return rc;
    if (strcmp(h->key_id, center->id) != 0)
        return jk_error_set(err, JK_ERR_NOTFOUND,
                            "package: header names center key %s but was signed with %s",
                            h->key_id, center->id);
    if (h->payload_bytes != (uint64_t)l->payload_len)
        return jk_error_set(err, JK_ERR_PARSE,
                            "package: header says %llu payload bytes, the package holds %zu",
                            (unsigned long long)h->payload_bytes, l->payload_len);
    return JK_OK;
}

/* ---- packages ---- */

/* The header JSON for sealing; malloc'd text (caller frees) or NULL. */
static char *s_header_build(const jk_package_header_t *h, jk_error_t *err)
{
    char nonce[4 * ((JK_PACKAGE_NONCE_BYTES + 2) / 3) + 1];
    s_b64_encode(h->nonce, sizeof h->nonce, nonce);
    json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:s, s:s}",
                          "format", S_HEADER_FORMAT,
                          "format_version", h->version,
                          "package_id", h->package_id,
                          "sitting_id", h->sitting_id,
                          "site_id", h->site_id,
                          "created_ms", (json_int_t)h->created_ms,
                          "exam_start_ms", (json_int_t)h->exam_start_ms,
                          "key_id", h->key_id,
                          "payload_bytes", (json_int_t)h->payload_bytes,
                          "cipher", S_CIPHER_NAME,
                          "nonce", nonce);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text)
        jk_error_set(err, JK_ERR_NOMEM, "package: cannot build the header");
    return text;
}

jk_err_t jk_package_seal(const void *payload, size_t payload_len, const jk_package_info_t *info,
                         const jk_package_key_t *signer,
                         uint8_t release_key_out[JK_RELEASE_KEY_BYTES], uint8_t **pkg_out,
                         size_t *pkg_len_out, jk_package_header_t *hdr_out, jk_error_t *err)
{
    jk_err_t rc = JK_OK;
    uint8_t key[JK_RELEASE_KEY_BYTES];
    uint8_t pid[S_PACKAGE_ID_BYTES];
    jk_package_header_t h;
    char *htext = NULL;
    uint8_t *pkg = NULL;
    size_t total = 0;

    if (release_key_out)
        memset(release_key_out, 0, JK_RELEASE_KEY_BYTES);
    if (pkg_out)
        *pkg_out = NULL;
    if (pkg_len_out)
        *pkg_len_out = 0;
    memset(&h, 0, sizeof h);
    if ((!payload && payload_len > 0) || !info || !signer || !release_key_out || !pkg_out ||
        !pkg_len_out)
        return jk_error_set(err, JK_ERR_INVAL, "package: missing argument");
    if (payload_len > JK_PACKAGE_PAYLOAD_MAX_BYTES)
        return jk_error_set(err, JK_ERR_TOO_BIG, "package: payload of %zu bytes is over the "
                            "bound of %u", payload_len, JK_PACKAGE_PAYLOAD_MAX_BYTES);
    if (!jk_id_valid(info->sitting_id, JK_PACKAGE_ID_MAX))
        return jk_error_set(err, JK_ERR_INVAL, "package: sitting id must be 1..%u characters of "
                            "[A-Za-z0-9._:-]", JK_PACKAGE_ID_MAX);
    if (!jk_id_valid(info->site_id, JK_PACKAGE_ID_MAX))
        return jk_error_set(err, JK_ERR_INVAL, "package: site id must be 1..%u characters of "
                            "[A-Za-z0-9._:-]", JK_PACKAGE_ID_MAX);
    if (info->created_ms < 0 || info->created_ms > S_TIME_MAX_MS || info->exam_start_ms < 0 ||
        info->exam_start_ms > S_TIME_MAX_MS)
        return jk_error_set(err, JK_ERR_RANGE, "package: site %s: times must be 0..%lld ms",
                            info->site_id, S_TIME_MAX_MS);
    if (!signer->has_private)
        return jk_error_set(err, JK_ERR_STATE, "package: center key %s has no private part; "
                            "it can verify but not seal", signer->id);

    if (RAND_bytes(key, sizeof key) != 1 || RAND_bytes(h.nonce, sizeof h.nonce) != 1 ||
        RAND_bytes(pid, sizeof pid) != 1) {
        rc = s_ossl_fail(err, JK_ERR_CRYPTO, "package: no random bytes");
        goto cleanup;
    }
    h.version = S_HEADER_VERSION;
    jk_hex_encode(pid, sizeof pid, h.package_id);
    memcpy(h.sitting_id, info->sitting_id, strlen(info->sitting_id) + 1);
    memcpy(h.site_id, info->site_id, strlen(info->site_id) + 1);
    h.created_ms = info->created_ms;
    h.exam_start_ms = info->exam_start_ms;
    memcpy(h.key_id, signer->id, sizeof h.key_id);
    h.payload_bytes = payload_len;
    if (!(htext = s_header_build(&h, err))) {
        rc = JK_ERR_NOMEM;
        goto cleanup;
    }
    size_t hl = strlen(htext);
    if (hl == 0 || hl > JK_PACKAGE_HEADER_MAX_BYTES) {
        rc = jk_error_set(err, JK_ERR_INTERNAL, "package: header of %zu bytes", hl);
        goto cleanup;
    }

    /* magic | header length | header | payload length | ciphertext | tag | signature */
    total = JK_PACKAGE_OVERHEAD_BYTES + hl + payload_len;
    if (!(pkg = malloc(total))) {
        rc = jk_error_set(err, JK_ERR_NOMEM, "package: site %s: cannot allocate %zu bytes",
                          h.site_id, total);
        goto cleanup;
    }
    memcpy(pkg, S_MAGIC_NAME, S_MAGIC_NAME_BYTES);
    pkg[S_MAGIC_NAME_BYTES] = S_LAYOUT_VERSION;
    s_put_be32(pkg + S_HDR_LEN_OFF, (uint32_t)hl);
    memcpy(pkg + S_HDR_OFF, htext, hl);
    s_put_be64(pkg + S_HDR_OFF + hl, (uint64_t)payload_len);
    size_t ct_off = S_HDR_OFF + hl + S_PAYLOAD_LEN_BYTES;
    size_t tag_off = ct_off + payload_len;
    size_t sig_off = tag_off + JK_PACKAGE_TAG_BYTES;
    /* AAD = the whole plain prefix, so the header can't be swapped between
     * ciphertexts even by someone holding the release key. */
    if ((rc = s_gcm(true, key, h.nonce, pkg, ct_off, payload, payload_len, pkg + ct_off,
                    pkg + tag_off, err)) != JK_OK)
        goto cleanup;
    if ((rc = s_sign(signer->pkey, pkg, sig_off, pkg + sig_off, err)) != JK_OK)
        goto cleanup;

    memcpy(release_key_out, key, sizeof key);
    *pkg_out = pkg;
    *pkg_len_out = total;
    pkg = NULL;
    if (hdr_out)
        *hdr_out = h;
cleanup:
    OPENSSL_cleanse(key, sizeof key);
    free(pkg);
    free(htext);
    return rc;
}

jk_err_t jk_package_verify(const uint8_t *pkg, size_t pkg_len, const jk_package_key_t *center,
                           jk_package_header_t *hdr_out, jk_error_t *err)
{
    s_layout_t l;
    jk_package_header_t h;
    jk_err_t rc = s_check(pkg, pkg_len, center, &l, &h, err);
    if (rc == JK_OK && hdr_out)
        *hdr_out = h;
    return rc;
}

jk_err_t jk_package_open(const uint8_t *pkg, size_t pkg_len, const jk_package_key_t *center,
                         const uint8_t release_key[JK_RELEASE_KEY_BYTES],
                         jk_package_header_t *hdr_out, uint8_t **payload_out,
                         size_t *payload_len_out, jk_error_t *err)
{
    s_layout_t l;
    jk_package_header_t h;
    jk_err_t rc;
    uint8_t tag[JK_PACKAGE_TAG_BYTES];

    if (payload_out)
        *payload_out = NULL;
    if (payload_len_out)
        *payload_len_out = 0;
    if (!release_key || !payload_out || !payload_len_out)
        return jk_error_set(err, JK_ERR_INVAL, "package: missing argument");
    if ((rc = s_check(pkg, pkg_len, center, &l, &h, err)) != JK_OK)
        return rc;
    uint8_t *out = malloc(l.payload_len ? l.payload_len : 1);
    if (!out)
        return jk_error_set(err, JK_ERR_NOMEM, "package: site %s: cannot allocate %zu bytes",
                            h.site_id, l.payload_len);
    memcpy(tag, pkg + l.tag_off, sizeof tag);
    rc = s_gcm(false, release_key, h.nonce, pkg, l.ct_off, pkg + l.ct_off, l.payload_len, out, tag,
               err);
    if (rc != JK_OK) {
        /* Never hand out (or leave behind) unauthenticated plaintext. */
        OPENSSL_cleanse(out, l.payload_len);
        free(out);
        if (rc == JK_ERR_AUTH)
            jk_error_set(err, JK_ERR_AUTH,
                         "package %s (site %s): the release key does not open this package",
                         h.package_id, h.site_id);
        return rc;
    }
    *payload_out = out;
    *payload_len_out = l.payload_len;
    if (hdr_out)
        *hdr_out = h;
    return JK_OK;
}

jk_err_t jk_package_digest(const uint8_t *pkg, size_t pkg_len,
                           uint8_t digest_out[JK_PACKAGE_DIGEST_BYTES], jk_error_t *err)
{
    _Static_assert(JK_PACKAGE_DIGEST_BYTES == JK_SHA256_LEN, "a package digest is a SHA-256");
    if ((!pkg && pkg_len > 0) || !digest_out)
        return jk_error_set(err, JK_ERR_INVAL, "package digest: missing argument");
    if (jk_sha256(pkg, pkg_len, digest_out) != JK_OK)
        return s_ossl_fail(err, JK_ERR_CRYPTO, "package digest: SHA-256 failed");
    return JK_OK;
}

jk_err_t jk_package_site_digest(const char *dir, const char *site_id, const char *package_id,
                                uint8_t digest_out[JK_PACKAGE_DIGEST_BYTES], jk_error_t *err)
{
    char path[4096], key_path[4096];
    if (!dir || !site_id || !package_id || !digest_out)
        return jk_error_set(err, JK_ERR_INVAL, "package digest: missing argument");
    if ((size_t)snprintf(path, sizeof path, "%s/%s.jkpkg", dir, site_id) >= sizeof path ||
        (size_t)snprintf(key_path, sizeof key_path, "%s/center-signing.pub", dir) >= sizeof key_path)
        return jk_error_set(err, JK_ERR_INVAL, "%s: path too long", dir);
    jk_package_key_t *center = jk_package_key_load_public(key_path, err);
    if (!center)
        return err ? err->code : JK_ERR_IO;
    uint8_t *pkg = NULL;
    size_t len = 0;
    jk_package_header_t hdr;
    jk_err_t rc = jk_file_read(path, (size_t)1 << 30, false, &pkg, &len, err);
    if (rc == JK_OK && (rc = jk_package_verify(pkg, len, center, &hdr, err)) != JK_OK)
        jk_error_prefix(err, "%s: ", path);
    if (rc == JK_OK && strcmp(hdr.package_id, package_id) != 0)
        rc = jk_error_set(err, JK_ERR_INVAL, "%s is package %s, not %s", path, hdr.package_id,
                          package_id);
    if (rc == JK_OK)
        rc = jk_package_digest(pkg, len, digest_out, err);
    free(pkg);
    jk_package_key_destroy(&center);
    return rc;
}

/* ---- release key text ---- */

void jk_release_key_format(const uint8_t key[JK_RELEASE_KEY_BYTES],
                           char out[JK_RELEASE_KEY_TEXT_BYTES])
{
    jk_hex_encode(key, JK_RELEASE_KEY_BYTES, out);
}

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

jk_err_t jk_release_key_parse(const char *text, uint8_t key_out[JK_RELEASE_KEY_BYTES],
                              jk_error_t *err)
{
    if (!key_out)
        return jk_error_set(err, JK_ERR_INVAL, "release key: missing argument");
    memset(key_out, 0, JK_RELEASE_KEY_BYTES);
    if (!text)
        return jk_error_set(err, JK_ERR_INVAL, "release key: missing argument");
    size_t b = 0, e = strlen(text);
    while (b < e && s_is_space(text[b]))
        b++;
    while (e > b && s_is_space(text[e - 1]))
        e--;
    size_t n = e - b, got = 0;
    if (n == 2 * JK_RELEASE_KEY_BYTES) {
        char hex[2 * JK_RELEASE_KEY_BYTES + 1];
        memcpy(hex, text + b, n);
        hex[n] = '\0';
        bool ok = jk_hex_decode(hex, key_out, JK_RELEASE_KEY_BYTES);
        OPENSSL_cleanse(hex, sizeof hex);
        if (ok)
            return JK_OK;
    }
    if (s_b64_decode(text + b, n, key_out, JK_RELEASE_KEY_BYTES, &got) &&
        got == JK_RELEASE_KEY_BYTES)
        return JK_OK;
    OPENSSL_cleanse(key_out, JK_RELEASE_KEY_BYTES);
    /* The message gives the length only: the text may be a mistyped key. */
    return jk_error_set(err, JK_ERR_PARSE,
                        "release key: %zu characters are neither 64 hex digits nor base64 of "
                        "32 bytes",
                        n);
}

/* ---- keys file ---- */

struct jk_package_keys {
    jk_package_keys_entry_t *v; /* malloc'd; holds release keys */
    size_t n, cap;              /* entries used, allocated */
};

static const char *const s_keys_entry_fields[] = {
    "package_id", "sitting_id", "site_id", "key_id", "release_key", NULL,
};

jk_package_keys_t *jk_package_keys_new(void)
{
    return calloc(1, sizeof(jk_package_keys_t));
}

void jk_package_keys_destroy(jk_package_keys_t **keys)
{
    if (!keys || !*keys)
        return;
    jk_package_keys_t *k = *keys;
    if (k->v) {
        OPENSSL_cleanse(k->v, k->cap * sizeof *k->v);
        free(k->v);
    }
    free(k);
    *keys = NULL;
}

size_t jk_package_keys_count(const jk_package_keys_t *keys)
{
    return keys ? keys->n : 0;
}

const jk_package_keys_entry_t *jk_package_keys_get(const jk_package_keys_t *keys, size_t i)
{
    return keys && i < keys->n ? &keys->v[i] : NULL;
}

const jk_package_keys_entry_t *jk_package_keys_find(const jk_package_keys_t *keys,
                                                    const char *sitting_id, const char *site_id)
{
    if (!keys || !sitting_id || !site_id)
        return NULL;
    for (size_t i = 0; i < keys->n; i++)
        if (strcmp(keys->v[i].site_id, site_id) == 0 &&
            strcmp(keys->v[i].sitting_id, sitting_id) == 0)
            return &keys->v[i];
    return NULL;
}

const jk_package_keys_entry_t *jk_package_keys_find_package(const jk_package_keys_t *keys,
                                                            const char *package_id)
{
    if (!keys || !package_id)
        return NULL;
    for (size_t i = 0; i < keys->n; i++)
        if (strcmp(keys->v[i].package_id, package_id) == 0)
            return &keys->v[i];
    return NULL;
}

/* Appends a checked entry. Grows by copy, wipe, free: realloc could leave
 * the old keys in freed memory. */
static jk_err_t s_keys_append(jk_package_keys_t *k, const jk_package_keys_entry_t *e,
                              jk_error_t *err)
{
    if (jk_package_keys_find_package(k, e->package_id))
        return jk_error_set(err, JK_ERR_DUP, "package %s is already present", e->package_id);
    if (jk_package_keys_find(k, e->sitting_id, e->site_id))
        return jk_error_set(err, JK_ERR_DUP, "sitting %s site %s already has a package",
                            e->sitting_id, e->site_id);
    if (k->n >= JK_PACKAGE_KEYS_MAX)
        return jk_error_set(err, JK_ERR_FULL, "more than %u packages", JK_PACKAGE_KEYS_MAX);
    if (k->n == k->cap) {
        size_t ncap = k->cap ? k->cap * 2 : S_KEYS_GROW_MIN;
        if (ncap > JK_PACKAGE_KEYS_MAX)
            ncap = JK_PACKAGE_KEYS_MAX;
        jk_package_keys_entry_t *nv = calloc(ncap, sizeof *nv);
        if (!nv)
            return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
        if (k->v) {
            memcpy(nv, k->v, k->n * sizeof *nv);
            OPENSSL_cleanse(k->v, k->cap * sizeof *k->v);
            free(k->v);
        }
        k->v = nv;
        k->cap = ncap;
    }
    k->v[k->n++] = *e;
    return JK_OK;
}

jk_err_t jk_package_keys_add(jk_package_keys_t *keys, const jk_package_header_t *hdr,
                             const uint8_t release_key[JK_RELEASE_KEY_BYTES], jk_error_t *err)
{
    if (!keys || !hdr || !release_key)
        return jk_error_set(err, JK_ERR_INVAL, "keys: missing argument");
    if (!s_is_lower_hex(hdr->package_id, JK_PACKAGE_PACKAGE_ID_HEX) ||
        !s_is_lower_hex(hdr->key_id, JK_PACKAGE_KEY_ID_HEX) ||
        !jk_id_valid(hdr->sitting_id, JK_PACKAGE_ID_MAX) ||
        !jk_id_valid(hdr->site_id, JK_PACKAGE_ID_MAX))
        return jk_error_set(err, JK_ERR_INVAL, "keys: the header's ids are not valid");
    jk_package_keys_entry_t e;
    memset(&e, 0, sizeof e);
    memcpy(e.package_id, hdr->package_id, sizeof e.package_id);
    memcpy(e.sitting_id, hdr->sitting_id, sizeof e.sitting_id);
    memcpy(e.site_id, hdr->site_id, sizeof e.site_id);
    memcpy(e.key_id, hdr->key_id, sizeof e.key_id);
    memcpy(e.release_key, release_key, sizeof e.release_key);
    jk_err_t rc = s_keys_append(keys, &e, err);
    OPENSSL_cleanse(&e, sizeof e);
    if (rc != JK_OK)
        jk_error_prefix(err, "keys: ");
    return rc;
}

jk_err_t jk_package_keys_save(const jk_package_keys_t *keys, const char *path, jk_error_t *err)
{
    if (!keys || !path)
        return jk_error_set(err, JK_ERR_INVAL, "keys: missing argument");
    /* Written directly, not through jansson: every string is an id of a
     * charset that needs no escaping or hex, and this way the only copy of
     * the text is our buffer, which is wiped. */
    size_t cap = 256 + keys->n * (size_t)S_KEYS_ENTRY_TEXT_BYTES;
    char *text = malloc(cap);
    char hex[JK_RELEASE_KEY_TEXT_BYTES];
    if (!text)
        return jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", path);
    size_t o = 0;
    bool fits = true;
    int w = snprintf(text, cap,
                     "{\n  \"format\": \"%s\",\n  \"format_version\": %d,\n  \"packages\": [",
                     S_KEYS_FORMAT, S_KEYS_VERSION);
    fits = w >= 0 && (size_t)w < cap;
    o = fits ? (size_t)w : 0;
    for (size_t i = 0; fits && i < keys->n; i++) {
        const jk_package_keys_entry_t *e = &keys->v[i];
        jk_release_key_format(e->release_key, hex);
        w = snprintf(text + o, cap - o,
                     "%s\n    {\"package_id\": \"%s\", \"sitting_id\": \"%s\", "
                     "\"site_id\": \"%s\", \"key_id\": \"%s\", \"release_key\": \"%s\"}",
                     i ? "," : "", e->package_id, e->sitting_id, e->site_id, e->key_id, hex);
        fits = w >= 0 && (size_t)w < cap - o;
        o += fits ? (size_t)w : 0;
    }
    if (fits) {
        w = snprintf(text + o, cap - o, "%s]\n}\n", keys->n ? "\n  " : "");
        fits = w >= 0 && (size_t)w < cap - o;
        o += fits ? (size_t)w : 0;
    }
    OPENSSL_cleanse(hex, sizeof hex);
    jk_err_t rc = JK_OK;
    if (!fits) /* cannot happen: ids are bounded; guards the arithmetic */
        rc = jk_error_set(err, JK_ERR_INTERNAL, "%s: keys text overflow", path);
    else
        rc = jk_file_write(path, text, o, 0600, err);
    OPENSSL_cleanse(text, cap);
    free(text);
    return rc;
}

/* Reads one entry object of the keys file. */
static jk_err_t s_keys_entry_parse(const json_t *o, const char *where,
                                   jk_package_keys_entry_t *e, jk_error_t *err)
{
    jk_err_t rc;
    const char *s = NULL;
    const char *name;
    json_t *v;
    if (!json_is_object(o))
        return jk_error_set(err, JK_ERR_PARSE, "%s: not an object", where);
    json_object_foreach((json_t *)o, name, v) {
        if (!s_in_list(name, s_keys_entry_fields))
            return jk_error_set(err, JK_ERR_PARSE, "%s: unknown field \"%.64s\"", where, name);
    }
    if ((rc = s_json_hex(o, "package_id", where, JK_PACKAGE_PACKAGE_ID_HEX, e->package_id,
                         err)) != JK_OK ||
        (rc = s_json_id(o, "sitting_id", where, JK_PACKAGE_ID_MAX, e->sitting_id, err)) != JK_OK ||
        (rc = s_json_id(o, "site_id", where, JK_PACKAGE_ID_MAX, e->site_id, err)) != JK_OK ||
        (rc = s_json_hex(o, "key_id", where, JK_PACKAGE_KEY_ID_HEX, e->key_id, err)) != JK_OK ||
        (rc = s_json_str(o, "release_key", where, &s, err)) != JK_OK)
        return rc;
    if (!jk_hex_decode(s, e->release_key, JK_RELEASE_KEY_BYTES))
        return jk_error_set(err, JK_ERR_PARSE, "%s: \"release_key\" must be 64 hex digits", where);
    return JK_OK;
}

jk_package_keys_t *jk_package_keys_load(const char *path, jk_error_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *root = NULL;
    jk_package_keys_t *keys = NULL;
    jk_err_t rc = JK_OK;
    json_error_t je;
    jk_package_keys_entry_t e;
    char where[96];

    memset(&e, 0, sizeof e);
    if (!path) {
        jk_error_set(err, JK_ERR_INVAL, "keys: no path");
        return NULL;
    }
    if (jk_file_read(path, JK_PACKAGE_KEYS_FILE_MAX_BYTES, true, &buf, &len, err) != JK_OK)
        return NULL;
    root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    OPENSSL_cleanse(buf, len + 1);
    free(buf);
    if (!root) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        goto cleanup;
    }
    const char *s = NULL;
    long long ver = 0;
    if (!json_is_object(root)) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: not a JSON object", path);
        goto cleanup;
    }
    if ((rc = s_json_str(root, "format", path, &s, err)) != JK_OK)
        goto cleanup;
    if (strcmp(s, S_KEYS_FORMAT) != 0) {
        rc = jk_error_set(err, JK_ERR_VERSION, "%s: format is not \"%s\"", path, S_KEYS_FORMAT);
        goto cleanup;
    }
    if ((rc = s_json_int(root, "format_version", path, 0, 1000000, &ver, err)) != JK_OK)
        goto cleanup;
    if (ver != S_KEYS_VERSION) {
        rc = jk_error_set(err, JK_ERR_VERSION, "%s: format_version %lld is not supported (this "
                          "build reads %d)", path, ver, S_KEYS_VERSION);
        goto cleanup;
    }
    json_t *arr = json_object_get(root, "packages");
    if (!arr) {
        rc = jk_error_set(err, JK_ERR_MISSING, "%s: \"packages\" is missing", path);
        goto cleanup;
    }
    if (!json_is_array(arr)) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: \"packages\" must be an array", path);
        goto cleanup;
    }
    if (json_array_size(arr) > JK_PACKAGE_KEYS_MAX) {
        rc = jk_error_set(err, JK_ERR_TOO_BIG, "%s: more than %u packages", path,
                          JK_PACKAGE_KEYS_MAX);
        goto cleanup;
    }
    if (!(keys = jk_package_keys_new())) {
        rc = jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        snprintf(where, sizeof where, "packages[%zu]", i);
        memset(&e, 0, sizeof e);
        if ((rc = s_keys_entry_parse(json_array_get(arr, i), where, &e, err)) != JK_OK) {
            jk_error_prefix(err, "%s: ", path);
            goto cleanup;
        }
        if ((rc = s_keys_append(keys, &e, err)) != JK_OK) {
            jk_error_prefix(err, "%s: %s: ", path, where);
            goto cleanup;
        }
    }
cleanup:
    OPENSSL_cleanse(&e, sizeof e);
    json_decref(root);
    if (rc != JK_OK)
        jk_package_keys_destroy(&keys);
    return keys;
}
