/*
 * jk_package: the sealed paper package a test site (考点) receives from the
 * center (鉴定中心), the center's signing keys, the release keys that open
 * packages, and the center-only "keys file" that records them.
 *
 * What it promises (DESIGN.md §3, promise 5):
 *  - a package can't be read before its release: the payload (the site's
 *    papers, opaque bytes here) is encrypted with AES-256-GCM under a fresh
 *    random 256-bit release key per package; the key leaves the center only
 *    at release time (PackageRelease in proto/jikao.proto);
 *  - any change is detected: the whole package (magic, header, ciphertext,
 *    GCM tag) is signed with the center's Ed25519 key, and the header is also
 *    bound to the ciphertext as AES-GCM additional authenticated data;
 *  - a site can check what it holds without any secret: the header (sitting,
 *    site, times, sizes) is plain signed JSON, and jk_package_verify needs
 *    only the center's public key.
 * The byte layout is in docs/package-format.md; every length in it is
 * bounded and checked before it is used, so hostile bytes get an error, never
 * an out-of-bounds read or a huge allocation.
 *
 * Secrets: release keys and private keys are never logged or put in error
 * messages; buffers that held them are wiped (OPENSSL_cleanse) before they
 * are freed. Private key files and the keys file are written mode 0600 and
 * refused on load when group or others can read them.
 *
 * The payload is not interpreted here: the caller builds it (papers without
 * answer keys: sites never see keys) and parses it after jk_package_open.
 *
 * This header includes no OpenSSL header; only jk_package.c does.
 *
 * Rejected: a streaming (chunked) AEAD format — a package is at most 1 GiB
 * and held in memory by both sides anyway, and Ed25519 (PureEdDSA) signs a
 * whole message in one shot; an Ed25519 key ring in the package API — a site
 * knows one center key; key rotation is a list of keys tried by the caller;
 * encrypting the private key PEM with a passphrase — the center signing host
 * protects it by file mode, and an unattended admin tool can't type one (a
 * passphrase-protected key is refused, not prompted for).
 */
#ifndef JK_PACKAGE_H
#define JK_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_err.h"

/* Sizes, in bytes. */
#define JK_PACKAGE_HEADER_MAX_BYTES (64u * 1024u)           /* header JSON */
#define JK_PACKAGE_PAYLOAD_MAX_BYTES (1024u * 1024u * 1024u) /* 1 GiB plaintext */
#define JK_PACKAGE_MAGIC_BYTES 6u          /* "JKPKG" + layout version 0x01 */
#define JK_PACKAGE_TAG_BYTES 16u           /* AES-GCM tag */
#define JK_PACKAGE_SIGNATURE_BYTES 64u     /* Ed25519 */
#define JK_PACKAGE_NONCE_BYTES 12u         /* AES-GCM nonce (96 bits) */
/* Fixed part of a package: magic, header length (4), payload length (8),
 * tag, signature. A package is exactly this plus header and payload. */
#define JK_PACKAGE_OVERHEAD_BYTES \
    (JK_PACKAGE_MAGIC_BYTES + 4u + 8u + JK_PACKAGE_TAG_BYTES + JK_PACKAGE_SIGNATURE_BYTES)
/* Largest package jk_package_verify accepts; a bound for reading one. */
#define JK_PACKAGE_MAX_BYTES \
    ((size_t)JK_PACKAGE_OVERHEAD_BYTES + JK_PACKAGE_HEADER_MAX_BYTES + JK_PACKAGE_PAYLOAD_MAX_BYTES)

#define JK_PACKAGE_ID_MAX 64u              /* sitting and site ids: jk_id_valid */
#define JK_PACKAGE_KEY_ID_HEX 16u          /* key id: 8 bytes as lower-case hex */
#define JK_PACKAGE_PACKAGE_ID_HEX 32u      /* package id: 16 random bytes, hex */
#define JK_PACKAGE_DIGEST_BYTES 32u        /* SHA-256 of a whole package */

#define JK_RELEASE_KEY_BYTES 32u           /* AES-256 key */
#define JK_RELEASE_KEY_TEXT_BYTES 65u      /* 64 hex digits + NUL */

#define JK_PACKAGE_KEY_FILE_MAX_BYTES (16u * 1024u)      /* a PEM key file */
#define JK_PACKAGE_KEYS_FILE_MAX_BYTES (16u * 1024u * 1024u) /* the keys file */
#define JK_PACKAGE_KEYS_MAX 10000u         /* entries in one keys file (linear lookups) */

/* ------------------------------------------------------------------------
 * Center signing keys (Ed25519)
 */

/* A center key: either a key pair (can seal) or a public key only (can
 * verify). Opaque; holds an OpenSSL key. */
typedef struct jk_package_key jk_package_key_t;

/* Generates a fresh Ed25519 key pair. Returns it (caller destroys) or NULL
 * with err set (JK_ERR_CRYPTO, JK_ERR_NOMEM). */
jk_package_key_t *jk_package_key_generate(jk_error_t *err);

/* Loads a private key from a PEM file (PKCS#8 "PRIVATE KEY", unencrypted,
 * Ed25519). Refuses a file group or others can access (JK_ERR_CONFIG), an
 * encrypted or non-Ed25519 key (JK_ERR_PARSE), a file over
 * JK_PACKAGE_KEY_FILE_MAX_BYTES (JK_ERR_TOO_BIG). The file's bytes are wiped
 * from memory after parsing. Returns the key pair or NULL with err set. */
jk_package_key_t *jk_package_key_load_private(const char *path, jk_error_t *err);

/* Loads a public key from a PEM file ("PUBLIC KEY", SubjectPublicKeyInfo,
 * Ed25519). Returns a verify-only key or NULL with err set. */
jk_package_key_t *jk_package_key_load_public(const char *path, jk_error_t *err);

/* As jk_package_key_load_public, from PEM text in memory (len bytes, need
 * not be NUL-terminated), e.g. a key embedded in a site's configuration. */
jk_package_key_t *jk_package_key_parse_public(const char *pem, size_t len, jk_error_t *err);

/* Writes the private key as PKCS#8 PEM to path, atomically, mode 0600 (see
 * jk_file_write). JK_ERR_STATE when k has no private part. Does not
 * print or log the key; the PEM text is wiped from memory after writing. */
jk_err_t jk_package_key_save_private(const jk_package_key_t *k, const char *path,
                                     jk_error_t *err);

/* Writes the public key as PEM to path, atomically, mode 0644. Works for a
 * key pair or a public key. */
jk_err_t jk_package_key_save_public(const jk_package_key_t *k, const char *path,
                                    jk_error_t *err);

/* The key id: the first 8 bytes of SHA-256 of the raw 32-byte public key, as
 * 16 lower-case hex digits. Borrowed; valid until k is destroyed. */
const char *jk_package_key_id(const jk_package_key_t *k);

/* True when k holds a private key (can seal). */
bool jk_package_key_has_private(const jk_package_key_t *k);

/* Frees *k (wiping its private part, if any) and sets *k to NULL. Accepts
 * NULL and a pointer to NULL. */
void jk_package_key_destroy(jk_package_key_t **k);

/* ------------------------------------------------------------------------
 * Packages
 */

/* What the caller says about a package when sealing it. */
typedef struct {
    const char *sitting_id; /* the sitting (考试批次); jk_id_valid, <= 64 bytes */
    const char *site_id;    /* the test site (考点); jk_id_valid, <= 64 bytes */
    int64_t created_ms;     /* Unix time, ms; >= 0 */
    int64_t exam_start_ms;  /* Unix time, ms, of the planned start; >= 0 */
} jk_package_info_t;

/* The parsed, verified header of a package. A plain value; no pointers. */
typedef struct {
    int version;                                   /* header version: 1 */
    char package_id[JK_PACKAGE_PACKAGE_ID_HEX + 1]; /* random, set at sealing */
    char sitting_id[JK_PACKAGE_ID_MAX + 1];
    char site_id[JK_PACKAGE_ID_MAX + 1];
    int64_t created_ms;                            /* Unix time, ms */
    int64_t exam_start_ms;                         /* Unix time, ms */
    char key_id[JK_PACKAGE_KEY_ID_HEX + 1];        /* the signing center key */
    uint64_t payload_bytes;                        /* plaintext length */
    uint8_t nonce[JK_PACKAGE_NONCE_BYTES];         /* AES-GCM nonce (public) */
} jk_package_header_t;

/* Seals payload[0..payload_len) for one site.
 *
 * Draws a fresh release key, nonce and package id from OpenSSL's RAND_bytes,
 * builds the header from info and the signer's key id, encrypts the payload
 * with AES-256-GCM (header as AAD) and signs the whole with signer (which
 * must hold a private key).
 *
 * On JK_OK: *pkg_out is a malloc'd package of *pkg_len_out bytes (caller
 * frees), release_key_out holds the release key (the caller keeps it secret
 * and wipes it when done), and hdr_out (optional, may be NULL) holds the
 * header as written. On error nothing is allocated, release_key_out is
 * zeroed, and err says why: JK_ERR_INVAL (bad argument or id), JK_ERR_RANGE
 * (negative time), JK_ERR_TOO_BIG (payload over 1 GiB), JK_ERR_STATE (signer
 * has no private key), JK_ERR_CRYPTO, JK_ERR_NOMEM. */
jk_err_t jk_package_seal(const void *payload, size_t payload_len, const jk_package_info_t *info,
                         const jk_package_key_t *signer,
                         uint8_t release_key_out[JK_RELEASE_KEY_BYTES], uint8_t **pkg_out,
                         size_t *pkg_len_out, jk_package_header_t *hdr_out, jk_error_t *err);

/* Verifies a package with the center's public key (a key pair also works)
 * and parses its header. Needs no release key: a site verifies on arrival.
 *
 * On JK_OK fills *hdr_out (optional; untouched on error). Checks, in order:
 *  1. layout, before any signature work:
 *     JK_ERR_PARSE    bad magic; truncated; trailing bytes; empty header
 *     JK_ERR_VERSION  unknown layout version byte
 *     JK_ERR_TOO_BIG  header length over 64 KiB or payload length over 1 GiB
 *  2. the Ed25519 signature with center; when it fails:
 *     JK_ERR_NOTFOUND the (unauthenticated) header names another signing
 *                     key id: wrong center key, or the key id was changed
 *     JK_ERR_AUTH     otherwise: "package was changed or not made by this
 *                     center"
 *  3. the header, now authenticated, parsed strictly:
 *     JK_ERR_PARSE / JK_ERR_VERSION / JK_ERR_MISSING / JK_ERR_RANGE for a
 *     signed header that is not a valid version-1 header (a center-side
 *     bug), JK_ERR_NOTFOUND when it names a key id other than center's.
 * Does not decrypt, and does not check that the site id is the caller's:
 * compare hdr_out->site_id yourself. */
jk_err_t jk_package_verify(const uint8_t *pkg, size_t pkg_len, const jk_package_key_t *center,
                           jk_package_header_t *hdr_out, jk_error_t *err);

/* Verifies (as jk_package_verify), then decrypts with the release key.
 *
 * On JK_OK: *payload_out is a malloc'd buffer of *payload_len_out bytes
 * (never NULL, even for an empty payload; caller frees) and *hdr_out
 * (optional) the header. A wrong release key (or a ciphertext that fails
 * GCM authentication) is JK_ERR_AUTH; no plaintext is returned then (the
 * partial output is wiped). Other errors as jk_package_verify. */
jk_err_t jk_package_open(const uint8_t *pkg, size_t pkg_len, const jk_package_key_t *center,
                         const uint8_t release_key[JK_RELEASE_KEY_BYTES],
                         jk_package_header_t *hdr_out, uint8_t **payload_out,
                         size_t *payload_len_out, jk_error_t *err);

/* SHA-256 of the whole package bytes (PackageRelease.package_digest).
 * Returns JK_ERR_CRYPTO on a library failure, JK_ERR_INVAL on NULL args. */
jk_err_t jk_package_digest(const uint8_t *pkg, size_t pkg_len,
                           uint8_t digest_out[JK_PACKAGE_DIGEST_BYTES], jk_error_t *err);

/* ------------------------------------------------------------------------
 * Release key text form, for handing a key over by hand
 */

/* Writes key as 64 lower-case hex digits and a NUL into out. */
void jk_release_key_format(const uint8_t key[JK_RELEASE_KEY_BYTES],
                           char out[JK_RELEASE_KEY_TEXT_BYTES]);

/* Parses a release key from text: 64 hex digits (either case) or standard
 * base64 of 32 bytes (44 characters with '=' padding); leading and trailing
 * white space is ignored. On error key_out is zeroed and err is
 * JK_ERR_PARSE (the message never repeats the text). */
jk_err_t jk_release_key_parse(const char *text, uint8_t key_out[JK_RELEASE_KEY_BYTES],
                              jk_error_t *err);

/* ------------------------------------------------------------------------
 * The center's keys file: one entry per sealed package. Center-only; it sits
 * next to the answer keys and never goes to a site.
 */

typedef struct {
    char package_id[JK_PACKAGE_PACKAGE_ID_HEX + 1];
    char sitting_id[JK_PACKAGE_ID_MAX + 1];
    char site_id[JK_PACKAGE_ID_MAX + 1];
    char key_id[JK_PACKAGE_KEY_ID_HEX + 1]; /* the center key that signed it */
    uint8_t release_key[JK_RELEASE_KEY_BYTES];
} jk_package_keys_entry_t;

typedef struct jk_package_keys jk_package_keys_t;

/* An empty set of entries, or NULL when out of memory. */
jk_package_keys_t *jk_package_keys_new(void);

/* Adds the entry for a sealed package: ids from hdr (as returned by
 * jk_package_seal), the release key copied. JK_ERR_DUP when the package id,
 * or the (sitting, site) pair, is already present; JK_ERR_FULL past
 * JK_PACKAGE_KEYS_MAX; JK_ERR_INVAL on bad ids. */
jk_err_t jk_package_keys_add(jk_package_keys_t *keys, const jk_package_header_t *hdr,
                             const uint8_t release_key[JK_RELEASE_KEY_BYTES], jk_error_t *err);

size_t jk_package_keys_count(const jk_package_keys_t *keys);

/* The i-th entry in insertion order (file order after a load), or NULL when
 * i is out of range. Borrowed; valid until the next add or destroy. */
const jk_package_keys_entry_t *jk_package_keys_get(const jk_package_keys_t *keys, size_t i);

/* The entry of a sitting's site, or of a package id; NULL when absent.
 * Borrowed as for jk_package_keys_get. */
const jk_package_keys_entry_t *jk_package_keys_find(const jk_package_keys_t *keys,
                                                    const char *sitting_id, const char *site_id);
const jk_package_keys_entry_t *jk_package_keys_find_package(const jk_package_keys_t *keys,
                                                            const char *package_id);

/* Writes the entries as JSON (docs/package-format.md, "Keys file") to path,
 * atomically, mode 0600. The text is wiped from memory after writing. */
jk_err_t jk_package_keys_save(const jk_package_keys_t *keys, const char *path, jk_error_t *err);

/* Reads a keys file. Refuses a file group or others can access
 * (JK_ERR_CONFIG), one over JK_PACKAGE_KEYS_FILE_MAX_BYTES (JK_ERR_TOO_BIG),
 * bad JSON or fields (JK_ERR_PARSE, JK_ERR_MISSING, JK_ERR_VERSION),
 * duplicates (JK_ERR_DUP). Errors name the file and the entry. Returns the
 * entries (caller destroys) or NULL with err set. */
jk_package_keys_t *jk_package_keys_load(const char *path, jk_error_t *err);

/* Wipes every release key, frees *keys and sets it to NULL. Accepts NULL. */
void jk_package_keys_destroy(jk_package_keys_t **keys);

/* The SHA-256 of a site's sealed package file as `papers build` wrote it,
 * for a PackageRelease: reads DIR/<site_id>.jkpkg, verifies it with
 * DIR/center-signing.pub, and requires it to be package `package_id`.
 * JK_ERR_IO / JK_ERR_AUTH / JK_ERR_INVAL with the file named. */
jk_err_t jk_package_site_digest(const char *dir, const char *site_id, const char *package_id,
                                uint8_t digest_out[JK_PACKAGE_DIGEST_BYTES], jk_error_t *err);

/* ------------------------------------------------------------------------
 * File helpers
 */

/* The file helpers moved to jk_file.h; these names are kept for their
 * callers and behave exactly as:
 *   jk_package_file_read        = jk_file_read(path, max, false, ...)
 *   jk_package_file_read_secret = jk_file_read(path, max, true, ...)
 *   jk_package_file_write       = jk_file_write */
jk_err_t jk_package_file_read(const char *path, size_t max_bytes, uint8_t **out, size_t *len_out,
                              jk_error_t *err);
jk_err_t jk_package_file_read_secret(const char *path, size_t max_bytes, uint8_t **out,
                                     size_t *len_out, jk_error_t *err);
jk_err_t jk_package_file_write(const char *path, const void *data, size_t len, unsigned mode,
                               jk_error_t *err);

#endif
